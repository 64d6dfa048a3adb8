/*
 * virt_conn.h: the summoner's libvirt connections, one per URI.
 *
 * A connection is made for a URI ("qemu:///system" by default; a remote
 * "qemu+ssh://host/system" or "qemu+tcp://host/system" is just another
 * key) the first time virt_conn_get() asks for it, and then kept.  Domain
 * events (lifecycle and reboot) arrive through the event loop of
 * virt_event.h and go to the hooks given to virt_conn_init(), with the
 * domain's name.
 *
 * When libvirtd goes away (restart, crash, network loss noticed by the
 * keepalive), libvirt calls the connection's close callback: the
 * connection is marked down, the "closed" hook runs, and a libevent timer
 * reopens it with back-off (100 ms doubling to 10 s).  Once it is open
 * again, with its event callbacks registered anew, the "reconnected" hook
 * runs: events that happened while it was down are lost, so the backend
 * compares its instances with the domains that exist.
 *
 * Blocking: virConnectOpen() is a synchronous call.  For a local socket
 * it costs about a millisecond (and fails at once while libvirtd is not
 * there); for qemu+ssh:// it can take seconds (ssh's own connect).  It
 * happens in virt_conn_get() on a URI's first use and in the reconnect
 * timer, both on the caller's (the loop's) thread.  Every other libvirt
 * API call is synchronous as well: the backend should make calls that
 * take long (virDomainCreateXML: hundreds of milliseconds) from a worker
 * thread, with virt_conn_ref(); events are still delivered on the loop.
 *
 * libvirt's errors: virt_conn_init() installs an error function so that
 * libvirt never prints on its own; it logs each error at debug level,
 * and callers log what a failure means with virGetLastErrorMessage().
 */
#ifndef SUMMONER_VIRT_CONN_H
#define SUMMONER_VIRT_CONN_H

#include <stdbool.h>

#include <libvirt/libvirt.h>

#define VIRT_CONN_DEFAULT_URI "qemu:///system"

struct event_base;
struct virt_conn;

enum virt_dom_kind {
	VIRT_DOM_LIFECYCLE, /* event and detail are virDomainEvent*Type */
	VIRT_DOM_REBOOT,    /* the guest reset itself; event, detail 0 */
};

struct virt_dom_event {
	const char *name; /* the domain's name */
	enum virt_dom_kind kind;
	int event;  /* virDomainEventType */
	int detail; /* its virDomainEvent<Event>DetailType */
	/*
	 * The guest crashed (pvpanic, Hyper-V crash MSRs): CRASHED(any),
	 * or STOPPED(CRASHED) with on_crash destroy.  With on_crash preserve
	 * the domain pauses: CRASHED(PANICKED), then its state is paused
	 * for reason VIR_DOMAIN_PAUSED_CRASHED (no SUSPENDED event).
	 */
	bool guest_crash;
	/* The emulator died under the guest (qemu killed): STOPPED(FAILED). */
	bool emulator_failed;
};

struct virt_conn_hooks {
	/* A domain event on vc.  ev and its strings live for the call only. */
	void (*domain_event)(
	    struct virt_conn *vc, const struct virt_dom_event *ev, void *arg);
	/* vc was lost; reason is a virConnectCloseReason.  May be NULL. */
	void (*closed)(struct virt_conn *vc, int reason, void *arg);
	/* vc is open again after a loss: reconcile.  May be NULL. */
	void (*reconnected)(struct virt_conn *vc, void *arg);
	void *arg;
};

/*
 * Set up libvirt for the summoner: its error function, its event loop on
 * base (virt_event_init()), and the hooks every connection reports to
 * (copied).  Call once from the loop thread, base made after
 * evthread_use_pthreads().  Returns 0, or -1 (logged).
 */
int virt_conn_init(
    struct event_base *base, const struct virt_conn_hooks *hooks);

/*
 * The connection for uri (NULL: VIRT_CONN_DEFAULT_URI), made and opened on
 * first use: this may block (see above).  If the first open fails, the
 * connection is still returned, down, with its reconnect timer running,
 * and "reconnected" reports when it comes up.  NULL only when out of
 * memory or before virt_conn_init().
 */
struct virt_conn *virt_conn_get(const char *uri);

/*
 * The open libvirt connection with one more reference (give it back with
 * virConnectClose()), or NULL while vc is down.  Safe from any thread:
 * the reference keeps the handle valid even if vc is lost meanwhile
 * (calls on it then fail).
 */
virConnectPtr virt_conn_ref(struct virt_conn *vc);

/* vc's URI. */
const char *virt_conn_uri(const struct virt_conn *vc);

/* True while vc is open. */
bool virt_conn_up(struct virt_conn *vc);

/* How many times vc was reopened after a loss. */
unsigned virt_conn_reconnects(struct virt_conn *vc);

/*
 * Close every connection and stop their timers (loop thread, at exit).
 * Hooks are not called.
 */
void virt_conn_shutdown(void);

/* "started", "stopped", ... for a virDomainEventType; "?" if unknown. */
const char *virt_dom_event_name(int event);

/* "booted", "destroyed", ... for event's detail; "?" if unknown. */
const char *virt_dom_detail_name(int event, int detail);

#endif /* SUMMONER_VIRT_CONN_H */
