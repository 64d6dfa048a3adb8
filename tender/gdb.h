/*
 * gdb.h: the GDB remote serial protocol stub of the tender (gdb.c,
 * gdb_net.c, gdb_ev.c).  docs/tender.md ("GDB stub") describes what gdb
 * sees.
 *
 * Everything here runs on the vCPU thread.  One listener and at most one
 * gdb client exist at a time.  Two modes:
 *
 *  - live (--gdb=SPEC, or GDB_OPEN on a running guest): the stub holds the
 *    vCPU while a client is attached and stopped; "c" and "s" really run
 *    the guest, breakpoints and single steps come back as KVM_EXIT_DEBUG
 *    (gdb_debug_exit()), and a Ctrl-C or a new client while the guest runs
 *    is noticed through SIGIO on the socket, which kicks KVM_RUN like a
 *    control command does (gdb_poll() from control_apply()).
 *  - quarantine (gdb_quarantine()): the VM is frozen for good; registers
 *    are those at the fault; "c" and "s" report the same stop again.
 */
#ifndef SUMMONER_TENDER_GDB_H
#define SUMMONER_TENDER_GDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tender;
struct vm;

/*
 * Create the listener for spec: "unix:/path" (a new socket of mode 0600;
 * an existing path is refused unless it is a stale socket nobody listens
 * on, which is replaced) or "tcp:127.0.0.1:PORT" (PORT 0: any free port;
 * no other address is accepted).  "where" gets the argument for gdb's
 * "target remote" ("/path" or "127.0.0.1:40123").  If the stub already
 * listens, "where" is its address and spec is ignored.  0, or -1 with a
 * message in err (errno EINVAL for a bad spec, else the system's).
 */
int gdb_listen(struct tender *t, const char *spec, char *where, size_t wherelen,
    char *err, size_t errlen);

/*
 * Serve gdb clients one at a time, forever, on the frozen VM (the listener
 * must exist).  Ends the process on "k", on STOP from the control channel
 * and on SIGTERM (with t->cap.exit_status when the guest faulted, else
 * TENDER_EXIT_STOPPED).  End of file on the control channel does not end
 * it: events then go to stderr.
 */
void gdb_quarantine(struct tender *t, struct vm *vm) __attribute__((noreturn));

/*
 * Called once before the first KVM_RUN (vm_run()).  Remembers the VM; with
 * --gdb, starts the listener (a bad spec ends the tender with status 64),
 * announces it (ev_gdb) and holds the vCPU at the entry point until a gdb
 * client connects and continues, steps or detaches.
 */
void gdb_vm_start(struct tender *t, struct vm *vm);

/* KVM_EXIT_DEBUG: report the stop to the client and serve it until it
 * resumes the guest (vm_run() then runs it again). */
void gdb_debug_exit(struct tender *t, struct vm *vm);

/*
 * From control_apply(), between KVM_RUN calls: if a client sent something
 * (Ctrl-C) or hung up while the guest ran, or a new client connected to an
 * idle listener, stop and serve it.  Cheap when the stub is not in use.
 */
void gdb_poll(struct tender *t);

/*
 * GDB_OPEN arrived outside a fault: on a paused guest, quarantine it
 * (tender_on_gdb_open); on a running one, listen in live mode.  Failures
 * are answered with a LOG event.
 */
void gdb_open_request(struct tender *t);

/* tender_exit(): tell a live client the guest exited ("W") and remove the
 * unix socket. */
void gdb_at_exit(int status);

/* --- gdb_net.c: listener and packets (internal to the stub) ---------- */

#define GDB_PKT_MAX 4096 /* advertised PacketSize (data bytes) */

struct gdb_conn {
	int fd;
	bool noack;
	size_t rxlen;
	uint8_t rx[GDB_PKT_MAX + 64];
};

enum gdb_rd {
	GDB_RD_PACKET, /* a packet's data is in the buffer */
	GDB_RD_INTR,   /* 0x03 outside a packet */
	GDB_RD_GONE,   /* the client hung up or misbehaved beyond repair */
};

/* The listening socket's fd, or -1. */
int gdb_net_lfd(void);

/* Accept one client (non-blocking listener): its fd, or -1. */
int gdb_net_accept(void);

/* Close the listener and remove a unix socket path. */
void gdb_net_close(void);

/*
 * Read the next packet from c into buf (at most GDB_PKT_MAX bytes, NUL
 * terminated, '}' escapes undone, *len its length), acknowledging it.
 * While waiting, "idle" is called whenever fd idle_fd is readable (the
 * command pipe).  Bad checksums are NAKed; an oversized packet is NAKed and
 * dropped.
 */
enum gdb_rd gdb_net_read(struct gdb_conn *c, char *buf, size_t *len,
    int idle_fd, void (*idle)(void *), void *arg);

/* Send one packet with data s (len bytes).  0, or -1 if the client is
 * gone. */
int gdb_net_send(struct gdb_conn *c, const char *s, size_t len);

/* Ask for SIGUSR1 (the vCPU kick) to the calling thread when fd becomes
 * readable. */
void gdb_net_async(int fd);

#endif /* SUMMONER_TENDER_GDB_H */
