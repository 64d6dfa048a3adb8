/*
 * virt_conn.c: libvirt connections by URI, their events and their
 * reconnection (see virt_conn.h).
 *
 * libvirt may call a connection's close callback from any thread that
 * notices the end of the socket (the loop's, or a worker's inside a
 * synchronous call), so the callback only records the loss and activates
 * the connection's timer; the teardown, the "closed" hook and the
 * reopening run from that timer, on the loop.  The mutex guards what
 * other threads read: a connection's handle and its counters.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <libvirt/virterror.h>

#include "log.h"
#include "virt_conn.h"
#include "virt_event.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
/* Keepalive: a ping after 5 s of silence, the peer dead after 3 unanswered. */
#define KEEPALIVE_INTERVAL 5
#define KEEPALIVE_COUNT    3

struct virt_conn {
	LIST_ENTRY(virt_conn) entry;
	char *uri;
	virConnectPtr conn; /* NULL while down */
	virConnectPtr lost; /* closed by libvirt, not yet torn down */
	int lost_reason;
	int cb_lifecycle, cb_reboot; /* callback ids, -1 when none */
	struct event *retry;         /* teardown and reconnect timer */
	unsigned backoff_ms;
	unsigned tries;      /* failed opens since the loss */
	unsigned reconnects; /* successful reopens */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(, virt_conn) conns = LIST_HEAD_INITIALIZER(conns);
static struct event_base *cbase;
static struct virt_conn_hooks hooks;
static bool ready;

static const char *const event_names[] = {
    [VIR_DOMAIN_EVENT_DEFINED] = "defined",
    [VIR_DOMAIN_EVENT_UNDEFINED] = "undefined",
    [VIR_DOMAIN_EVENT_STARTED] = "started",
    [VIR_DOMAIN_EVENT_SUSPENDED] = "suspended",
    [VIR_DOMAIN_EVENT_RESUMED] = "resumed",
    [VIR_DOMAIN_EVENT_STOPPED] = "stopped",
    [VIR_DOMAIN_EVENT_SHUTDOWN] = "shutdown",
    [VIR_DOMAIN_EVENT_PMSUSPENDED] = "pmsuspended",
    [VIR_DOMAIN_EVENT_CRASHED] = "crashed",
};

#define NDETAILS 9 /* the longest list below: SUSPENDED's */
static const char *const detail_names[][NDETAILS] = {
    [VIR_DOMAIN_EVENT_DEFINED] = {"added", "updated", "renamed",
        "from-snapshot"},
    [VIR_DOMAIN_EVENT_UNDEFINED] = {"removed", "renamed"},
    [VIR_DOMAIN_EVENT_STARTED] = {"booted", "migrated", "restored",
        "from-snapshot", "wakeup"},
    [VIR_DOMAIN_EVENT_SUSPENDED] = {"paused", "migrated", "ioerror", "watchdog",
        "restored", "from-snapshot", "api-error", "postcopy",
        "postcopy-failed"},
    [VIR_DOMAIN_EVENT_RESUMED] = {"unpaused", "migrated", "from-snapshot",
        "postcopy", "postcopy-failed"},
    [VIR_DOMAIN_EVENT_STOPPED] = {"shutdown", "destroyed", "crashed",
        "migrated", "saved", "failed", "from-snapshot"},
    [VIR_DOMAIN_EVENT_SHUTDOWN] = {"finished", "guest", "host"},
    [VIR_DOMAIN_EVENT_PMSUSPENDED] = {"memory", "disk"},
    [VIR_DOMAIN_EVENT_CRASHED] = {"panicked", "crashloaded"},
};

const char *
virt_dom_event_name(int event)
{
	size_t n = sizeof(event_names) / sizeof(event_names[0]);

	if (event < 0 || (size_t)event >= n || event_names[event] == NULL)
		return "?";
	return event_names[event];
}

const char *
virt_dom_detail_name(int event, int detail)
{
	size_t n = sizeof(detail_names) / sizeof(detail_names[0]);

	if (event < 0 || (size_t)event >= n || detail < 0 ||
	    detail >= NDETAILS || detail_names[event][detail] == NULL)
		return "?";
	return detail_names[event][detail];
}

/*
 * libvirt's errors: logged at debug level only, since the caller of the
 * failing function decides what the failure means and logs that.
 */
static void
error_func(void *arg, virErrorPtr err)
{
	(void)arg;
	if (err == NULL || log_getlevel() < LOG_LEVEL_DEBUG)
		return;
	log_debug("libvirt: %s (domain %d, code %d)",
	    err->message != NULL ? err->message : "unknown error", err->domain,
	    err->code);
}

static void
deliver(struct virt_conn *vc, virDomainPtr dom, enum virt_dom_kind kind,
    int event, int detail)
{
	struct virt_dom_event ev = {0};

	ev.name = virDomainGetName(dom);
	if (ev.name == NULL)
		ev.name = "?";
	ev.kind = kind;
	ev.event = event;
	ev.detail = detail;
	if (kind == VIRT_DOM_LIFECYCLE) {
		ev.guest_crash =
		    event == VIR_DOMAIN_EVENT_CRASHED ||
		    (event == VIR_DOMAIN_EVENT_STOPPED &&
		        detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED);
		ev.emulator_failed = event == VIR_DOMAIN_EVENT_STOPPED &&
		                     detail == VIR_DOMAIN_EVENT_STOPPED_FAILED;
	}
	log_debug("libvirt %s: domain %s: %s(%s)", vc->uri, ev.name,
	    kind == VIRT_DOM_REBOOT ? "reboot" : virt_dom_event_name(event),
	    kind == VIRT_DOM_REBOOT ? "" : virt_dom_detail_name(event, detail));
	if (hooks.domain_event != NULL)
		hooks.domain_event(vc, &ev, hooks.arg);
}

static int
lifecycle_cb(
    virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	(void)conn;
	deliver(opaque, dom, VIRT_DOM_LIFECYCLE, event, detail);
	return 0;
}

static void
reboot_cb(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
	(void)conn;
	deliver(opaque, dom, VIRT_DOM_REBOOT, 0, 0);
}

/* Any thread: record the loss, leave the rest to the loop. */
static void
close_cb(virConnectPtr conn, int reason, void *opaque)
{
	struct virt_conn *vc = opaque;

	pthread_mutex_lock(&lock);
	if (vc->conn == conn) {
		vc->lost = conn;
		vc->lost_reason = reason;
		vc->conn = NULL;
		event_active(vc->retry, EV_TIMEOUT, 0);
	}
	pthread_mutex_unlock(&lock);
}

/* Unregister conn's callbacks and drop vc's reference to it. */
static void
teardown(struct virt_conn *vc, virConnectPtr conn)
{
	/* On a dead connection these fail; they still free local state. */
	if (vc->cb_lifecycle >= 0)
		virConnectDomainEventDeregisterAny(conn, vc->cb_lifecycle);
	if (vc->cb_reboot >= 0)
		virConnectDomainEventDeregisterAny(conn, vc->cb_reboot);
	vc->cb_lifecycle = vc->cb_reboot = -1;
	virConnectUnregisterCloseCallback(conn, close_cb);
	virConnectClose(conn);
}

/* Open vc->uri and register its callbacks.  Returns 0 or -1 (logged). */
static int
open_conn(struct virt_conn *vc)
{
	virConnectPtr conn = NULL;

	if ((conn = virConnectOpen(vc->uri)) == NULL) {
		/* Every back-off step fails the same way while it is down. */
		if (vc->tries == 0)
			log_warnx("libvirt %s: cannot connect: %s", vc->uri,
			    virGetLastErrorMessage());
		goto fail;
	}
	if (virConnectRegisterCloseCallback(conn, close_cb, vc, NULL) < 0 ||
	    virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT) <
	        0) {
		log_warnx("libvirt %s: cannot watch the connection: %s",
		    vc->uri, virGetLastErrorMessage());
		goto fail;
	}
	vc->cb_lifecycle = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), vc, NULL);
	vc->cb_reboot = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(reboot_cb),
	    vc, NULL);
	if (vc->cb_lifecycle < 0 || vc->cb_reboot < 0) {
		log_warnx("libvirt %s: cannot register for domain events: %s",
		    vc->uri, virGetLastErrorMessage());
		goto fail;
	}
	pthread_mutex_lock(&lock);
	vc->conn = conn;
	pthread_mutex_unlock(&lock);
	return 0;
fail:
	if (conn != NULL)
		teardown(vc, conn);
	return -1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
schedule_retry(struct virt_conn *vc)
{
	struct timeval tv;

	tv.tv_sec = vc->backoff_ms / 1000;
	tv.tv_usec = (vc->backoff_ms % 1000) * 1000;
	event_add(vc->retry, &tv);
	vc->backoff_ms *= 2;
	if (vc->backoff_ms > BACKOFF_MAX_MS)
		vc->backoff_ms = BACKOFF_MAX_MS;
}

static const char *
reason_name(int reason)
{
	switch (reason) {
	case VIR_CONNECT_CLOSE_REASON_ERROR:
		return "error";
	case VIR_CONNECT_CLOSE_REASON_EOF:
		return "end of file";
	case VIR_CONNECT_CLOSE_REASON_KEEPALIVE:
		return "keepalive timeout";
	case VIR_CONNECT_CLOSE_REASON_CLIENT:
		return "closed by client";
	default:
		return "unknown reason";
	}
}

/* The loop: tear down a lost connection, or try to reopen one. */
static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct virt_conn *vc = arg;
	virConnectPtr lost;
	uint64_t t0;
	int reason;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&lock);
	lost = vc->lost;
	reason = vc->lost_reason;
	vc->lost = NULL;
	pthread_mutex_unlock(&lock);
	if (lost != NULL) {
		log_warnx("libvirt %s: connection lost (%s), reconnecting",
		    vc->uri, reason_name(reason));
		teardown(vc, lost);
		vc->tries = 0;
		vc->backoff_ms = BACKOFF_MIN_MS;
		if (hooks.closed != NULL)
			hooks.closed(vc, reason, hooks.arg);
		schedule_retry(vc);
		return;
	}
	if (virt_conn_up(vc))
		return;
	t0 = now_ms();
	if (open_conn(vc) < 0) {
		vc->tries++;
		schedule_retry(vc);
		return;
	}
	pthread_mutex_lock(&lock);
	vc->reconnects++;
	pthread_mutex_unlock(&lock);
	log_info(
	    "libvirt %s: reconnected after %u failed tries (open: %llu ms)",
	    vc->uri, vc->tries, (unsigned long long)(now_ms() - t0));
	if (hooks.reconnected != NULL)
		hooks.reconnected(vc, hooks.arg);
}

int
virt_conn_init(struct event_base *base, const struct virt_conn_hooks *h)
{
	if (ready)
		return 0;
	/* Required before any other call when threads may call libvirt. */
	if (virInitialize() < 0) {
		log_warnx("libvirt: cannot initialise");
		return -1;
	}
	virSetErrorFunc(NULL, error_func);
	if (virt_event_init(base) < 0)
		return -1;
	cbase = base;
	if (h != NULL)
		hooks = *h;
	ready = true;
	return 0;
}

struct virt_conn *
virt_conn_get(const char *uri)
{
	struct virt_conn *vc = NULL;

	if (!ready) {
		errno = EINVAL;
		return NULL;
	}
	if (uri == NULL)
		uri = VIRT_CONN_DEFAULT_URI;
	LIST_FOREACH(vc, &conns, entry)
	{
		if (strcmp(vc->uri, uri) == 0)
			return vc;
	}
	if ((vc = calloc(1, sizeof(*vc))) == NULL)
		goto fail;
	vc->cb_lifecycle = vc->cb_reboot = -1;
	vc->backoff_ms = BACKOFF_MIN_MS;
	if ((vc->uri = strdup(uri)) == NULL ||
	    (vc->retry = event_new(cbase, -1, 0, retry_cb, vc)) == NULL)
		goto fail;
	LIST_INSERT_HEAD(&conns, vc, entry);
	/* The lazy open: the only blocking call on a URI's first use. */
	if (open_conn(vc) == 0)
		log_info("libvirt %s: connected", uri);
	else {
		vc->tries = 1;
		schedule_retry(vc);
	}
	return vc;
fail:
	log_warnx("libvirt %s: out of memory", uri);
	if (vc != NULL) {
		free(vc->uri);
		free(vc);
	}
	return NULL;
}

virConnectPtr
virt_conn_ref(struct virt_conn *vc)
{
	virConnectPtr conn;

	pthread_mutex_lock(&lock);
	conn = vc->conn;
	if (conn != NULL && virConnectRef(conn) < 0)
		conn = NULL;
	pthread_mutex_unlock(&lock);
	return conn;
}

const char *
virt_conn_uri(const struct virt_conn *vc)
{
	return vc->uri;
}

bool
virt_conn_up(struct virt_conn *vc)
{
	bool up;

	pthread_mutex_lock(&lock);
	up = vc->conn != NULL;
	pthread_mutex_unlock(&lock);
	return up;
}

unsigned
virt_conn_reconnects(struct virt_conn *vc)
{
	unsigned n;

	pthread_mutex_lock(&lock);
	n = vc->reconnects;
	pthread_mutex_unlock(&lock);
	return n;
}

void
virt_conn_shutdown(void)
{
	struct virt_conn *vc;
	virConnectPtr conn, lost;

	while ((vc = LIST_FIRST(&conns)) != NULL) {
		LIST_REMOVE(vc, entry);
		event_free(vc->retry);
		pthread_mutex_lock(&lock);
		conn = vc->conn;
		lost = vc->lost;
		vc->conn = vc->lost = NULL;
		pthread_mutex_unlock(&lock);
		if (conn != NULL)
			teardown(vc, conn);
		if (lost != NULL)
			teardown(vc, lost);
		free(vc->uri);
		free(vc);
	}
	virt_event_reap();
}
