/*
 * backend.h: how the registry drives an instance's virtual machine.
 *
 * One ops table per backend (DESIGN.md "Backends"), chosen per service by
 * the config.  Every operation is asynchronous: it starts something and
 * returns at once; what then happens comes back as struct bevent through
 * registry_backend_event().  Adding a backend is one new file and one line
 * in backend_for().
 */
#ifndef SUMMONER_BACKEND_H
#define SUMMONER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "summoner/ctlproto.h"

struct event_base;
struct inst;
struct cfg_service;
struct config;

/*
 * What a backend reports.  The vocabulary is the tender's control protocol
 * (enum ctl_type); other backends translate what they learn into it.
 */
struct bevent {
	unsigned type; /* CTL_BOOTED, CTL_READY, ..., CTL_EXITED */
	uint64_t t_ns; /* CLOCK_MONOTONIC of the event at its source */
	union {
		struct ctl_booted booted;
		struct ctl_heartbeat heartbeat;
		struct ctl_fault fault;
		struct ctl_exited exited;
		struct ctl_captured captured;
	} u;
	const char *text; /* LOG, CONSOLE, FAULT message, HEARTBEAT status */
	size_t textlen;
	unsigned flags; /* BEV_* */
};
/* READY said by a clock (exec's ready-after), not by the guest. */
#define BEV_READY_BY_CLOCK 0x1

struct backend_ops {
	const char *name;
	/*
	 * Start the instance's VM.  paused: load everything and hold the
	 * vCPU at its entry point until resume() (the warm pool).  Fault
	 * artifacts go to in->fault_dir (registry.h) when it is not empty.
	 * Returns
	 * 0, or -1 with a message in err: nothing was started.
	 */
	int (*boot)(struct inst *in, const struct config *conf,
	    const struct cfg_service *svc, bool paused, char *err,
	    size_t errlen);
	int (*pause)(struct inst *in);
	int (*resume)(struct inst *in);
	/* Ask the VM to end; CTL_EXITED follows (forced after a grace). */
	int (*stop)(struct inst *in);
	/*
	 * Quarantine a frozen (faulted or paused) VM: open its gdb stub at
	 * spec ("unix:/abs/path.sock"); CTL_GDB follows with the address.
	 * NULL when the backend has no stub.
	 */
	int (*gdb_open)(struct inst *in, const char *spec);
	/* Process id on the host, 0 when there is none (for logs). */
	long (*pid)(const struct inst *in);
	/* Free what boot() allocated; called once, after CTL_EXITED. */
	void (*release)(struct inst *in);
};

extern const struct backend_ops backend_hvt;
extern const struct backend_ops backend_exec;
extern const struct backend_ops backend_libvirt;

/* The ops table for a config backend (enum cfg_backend); NULL if this
 * build has none. */
const struct backend_ops *backend_for(int cfg_backend);

/* The hvt backend's set-up: the loop it registers events with. */
void backend_hvt_init(struct event_base *base);
/* Reap exited tenders; the daemon calls it on SIGCHLD. */
void backend_hvt_reap(void);

/* The exec backend's set-up: the loop it registers events with. */
void backend_exec_init(struct event_base *base);
/* Reap exited commands (each by its pid).  The daemon calls it on SIGCHLD
 * before backend_hvt_reap(), whose waitpid(-1) would take their status. */
void backend_exec_reap(void);

/* The libvirt backend's set-up (loop thread, base made after
 * evthread_use_pthreads()): libvirt's event loop on base and the
 * connections' hooks.  If it fails (logged), libvirt services' boots
 * fail and nothing else does. */
void backend_libvirt_init(struct event_base *base);
/* Close the libvirt connections (at exit, after the registry is freed). */
void backend_libvirt_shutdown(void);

/* ---- for backends (backend_lines.c) ---- */

/* A text event (CTL_CONSOLE, CTL_LOG, or none: CTL_READY ...) for in,
 * stamped now.  Nothing when in is NULL (an instance already released). */
void backend_emit(struct inst *in, unsigned type, const char *text, size_t len);

/*
 * A guest's console byte stream cut into CTL_CONSOLE lines: a line ends at
 * '\n' or after BACKEND_LINE_BYTES bytes, '\r' is dropped, so memory stays
 * at one line however much arrives.  Start zeroed.
 */
#define BACKEND_LINE_BYTES 512
struct backend_lines {
	char buf[BACKEND_LINE_BYTES];
	size_t len;
};
void backend_lines_take(
    struct backend_lines *l, struct inst *in, const char *p, size_t n);
/* Emit what is pending (a last line without '\n'). */
void backend_lines_flush(struct backend_lines *l, struct inst *in);

/* Provided by the registry: every event of every instance comes here. */
void registry_backend_event(struct inst *in, const struct bevent *ev);

#endif /* SUMMONER_BACKEND_H */
