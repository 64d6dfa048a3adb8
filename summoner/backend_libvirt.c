/*
 * backend_libvirt.c: instances run as transient libvirt domains.
 *
 * Each boot creates a domain from the service's XML template (or the
 * built-in microvm one, libvirt_xml.h) named
 * summoner-<service>-<id>-<n>-<tag>: n counts this daemon's domains so that
 * a restarted instance never meets the events of its previous domain, tag
 * marks this daemon's (a hash of its state directory), so that the
 * reconcile after a reconnect, and the first boot on a connection, destroy
 * only this daemon's orphans, never another summoner's domains.  libvirt's
 * calls are synchronous (virDomainCreateXML: 0.3-1.1 s), so every call that
 * acts on a domain runs on a thread of its own with its own connection
 * reference (virt_conn_ref()), and its result comes back to the loop through an
 * event the thread makes active: the loop never waits for libvirtd.
 *
 * The domain is created paused and let run only once the summoner is
 * connected to COM1 (console lines) and COM2 (framed heartbeats,
 * libvirt_uart.h): QEMU drops what a serial port writes while no client
 * is connected, and a guest says READY within milliseconds.  What COM2
 * carries becomes the same events hvt's tender sends; lifecycle events
 * (virt_conn.h) end the instance.  QEMU's isa-debug-exit ends the process
 * without a shutdown, which libvirt reports as STOPPED(FAILED): the exit
 * status is the X_EXIT=N the guest sent on COM2 just before, so COM2 is
 * drained before a STOPPED or CRASHED event is acted on.
 *
 * A fault freezes the domain (on_crash preserve keeps a panicked guest
 * paused; a FAULT= notify is suspended) and a capture job writes the
 * fault directory as the tender does (docs/fault-report.md): a memory-only
 * core from libvirtd, patched so that gdb reads it at guest addresses with
 * the fault's registers, console.txt from a tail of COM1, report.json,
 * and a backtrace walked over the core and symbolised against the image
 * (libvirt_core.h, libvirt_report.h).  CAPTURED carries it in the
 * tender's text, so signatures agree across backends.  Quarantine opens
 * QEMU's gdbserver through the monitor in a directory QEMU's user owns
 * and writes the fault's registers into the frozen vCPU (libvirt_gdb.h);
 * the policy's stop destroys the domain.  docs/libvirt.md, "Quarantine".
 *
 * Not in this slice: `domain NAME` (starting a defined domain), net and
 * block devices.
 */
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "backend.h"
#include "config.h"
#include "health/health.h"
#include "libvirt_core.h"
#include "libvirt_gdb.h"
#include "libvirt_report.h"
#include "libvirt_uart.h"
#include "libvirt_xml.h"
#include "log.h"
#include "registry.h"
#include "util.h"
#include "virt_conn.h"

#define STOP_GRACE_MS  2000 /* as the other backends: destroy after it */
#define READ_ROUNDS    16 /* reads per wake-up: a flood cannot hold the loop */
#define DRAIN_BYTES    65536
#define ARGS_BYTES     4096
#define DOM_PREFIX     "summoner-"
#define DOM_NAME_BYTES 96

enum lv_op {
	OP_CREATE,
	OP_START, /* let the paused domain run: the boot's own resume */
	OP_SHUTDOWN,
	OP_DESTROY,
	OP_SUSPEND,
	OP_RESUME,
	OP_LIST,
	OP_CAPTURE,       /* a fault's core, console.txt, report.json */
	OP_GDB,           /* open QEMU's gdbserver on the frozen domain */
	OP_START_DEFINED, /* `domain NAME`: start it paused, read its ports */
};

static const char *const op_names[] = {"create", "start", "shutdown", "destroy",
    "suspend", "resume", "list", "capture", "gdbserver", "start-defined"};

#define GDB_REPLY_MS 3000 /* QEMU's stub answers in microseconds */

/* What a capture needs (copied: the worker never reads the lvdom) and
 * what it found.  Register arrays are in report order (libvirt_report.h:
 * rax..r15, rip, rflags), which is also gdb's (libvirt_gdb.h). */
struct lv_cap {
	char dir[256];
	char image[4096];
	char msg[160];
	unsigned kind;
	struct ctl_fault f;
	bool have_frame;
	char *tail; /* the console's last bytes */
	size_t taillen;
	uint64_t console_total, t_fault;
	/* results */
	unsigned flags; /* CTL_CAPTURED_* */
	struct lv_frame frames[LV_FRAMES_MAX];
	unsigned nframes;
	uint64_t regs[LV_REP_NREGS];
	bool set[LV_REP_NREGS]; /* known from the guest (or unwound) */
	uint64_t core_bytes, core_ns;
	char why[512]; /* what was not written, and why */
};

/* An OP_GDB's input and output. */
struct lv_gdbjob {
	uint64_t regs[LV_REP_NREGS];
	bool set[LV_REP_NREGS];
	char dir[64];   /* the socket's directory, made here */
	char addr[128]; /* for gdb's "target remote" */
	char note[256]; /* a register write that failed (not fatal) */
	uint64_t ms;
};

struct lvdom;

/* One libvirt call on a worker thread.  The worker reads and writes only
 * the job; the loop looks at the result in done_cb(). */
struct lv_job {
	enum lv_op op;
	struct lvdom *d;      /* NULL for OP_LIST and orphans' destroy */
	struct virt_conn *vc; /* OP_LIST */
	virConnectPtr conn;
	char name[DOM_NAME_BYTES];
	char *xml;                  /* OP_CREATE */
	struct lv_xml_ports *ports; /* OP_START_DEFINED: what its XML says */
	int rc;
	char err[256];
	char **names; /* OP_LIST: every active domain */
	int nnames;
	uint64_t t0, t1;
	struct event *done_ev;
	struct lv_cap *cap;    /* OP_CAPTURE */
	struct lv_gdbjob *gdb; /* OP_GDB */
};

/* A serial port the summoner reads. */
struct lv_port {
	int fd;
	struct event *ev;
	char path[108];
};

struct lvdom {
	LIST_ENTRY(lvdom) entry;
	struct inst *in; /* NULL once released */
	struct virt_conn *vc;
	char name[DOM_NAME_BYTES];
	uint64_t memory;
	bool paused_boot;
	bool defined; /* `domain NAME`: libvirt's, started and stopped only */
	bool created, started, stopping, stop_wanted, exited;
	bool ready_sent, faulted, have_exit, have_frame;
	int exit_code;
	unsigned jobs; /* in flight: the record lives until they are done */
	uint64_t t_boot, beats;
	uint64_t t_created; /* when virDomainCreateXML returned */
	struct event *kill_ev;
	struct lv_port con, hb;
	struct backend_lines lines; /* COM1, cut into lines */
	struct lv_uart uart;
	struct ctl_fault frame; /* the last F frame, for the panic */
	char frame_msg[160];
	char image[4096];    /* absolute: for symbols */
	struct lv_tail tail; /* COM1's last 8 KB, for console.txt */
	bool frozen;         /* suspended for a debugger */
	bool capturing, gdb_busy;
	uint64_t regs[LV_REP_NREGS]; /* the fault's, once captured */
	bool regs_set[LV_REP_NREGS];
	char gdb_dir[64]; /* the gdb socket's directory, removed at release */
};

static LIST_HEAD(, lvdom) doms = LIST_HEAD_INITIALIZER(doms);
static struct event_base *lv_base;
static bool lv_ok;
static unsigned lv_seq;
/* Job threads not yet done (shutdown waits for them). */
static atomic_int lv_running;
/*
 * This daemon's mark on its domains' names (the end of the name): a hash
 * of its state directory (8 hex digits), then 4 random ones for this run.
 * Two summoners sharing one libvirtd never take each other's domains for
 * orphans; a daemon restarted on the same state directory recognises what
 * its predecessor left by the first 8, and never reuses a name that may
 * still be on its way out (whose events would reach the new instance).
 * Empty until the first boot, when the state directory is known.
 */
#define TAG_DIR 8
static char lv_tag[16];
/* Connections already reconciled once (the first boot on each). */
#define LV_MAX_CONNS 16
static struct virt_conn *lv_seen[LV_MAX_CONNS];

/* Whether a domain name is of this state directory's daemons, this run
 * or an earlier one: summoner-...-TAG with the same first 8 digits. */
static bool
ours(const char *name)
{
	size_t n = strlen(name), t = strlen(lv_tag);

	return t > TAG_DIR &&
	       strncmp(name, DOM_PREFIX, strlen(DOM_PREFIX)) == 0 &&
	       n > strlen(DOM_PREFIX) + t + 1 && name[n - t - 1] == '-' &&
	       strncmp(name + n - t, lv_tag, TAG_DIR) == 0;
}

/* FNV-1a over the state directory (its real path when it has one), and
 * this run's random part. */
static void
tag_set(const char *state_dir)
{
	char *abs = realpath(state_dir, NULL);
	const char *p = abs != NULL ? abs : state_dir;
	uint32_t h = 2166136261u;
	uint16_t run;

	for (; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	if (getrandom(&run, sizeof(run), 0) != sizeof(run))
		run = (uint16_t)(getpid() ^ instance_clock());
	snprintf(lv_tag, sizeof(lv_tag), "%08" PRIx32 "%04x", h, run);
	free(abs);
}

static void lv_free(struct lvdom *d);
static int capture_start(struct lvdom *d, unsigned kind, const char *msg);

/* ---- events to the registry ---- */

static void
emit_text(struct lvdom *d, unsigned type, const char *text, size_t len)
{
	backend_emit(d->in, type, text, len);
}

static void
emit_fault(struct lvdom *d, unsigned kind, const struct ctl_fault *frame,
    const char *msg)
{
	struct bevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_FAULT;
	ev.t_ns = instance_clock();
	if (frame != NULL)
		ev.u.fault = *frame;
	else
		ev.u.fault.vector = ~(uint64_t)0;
	ev.u.fault.t_ns = ev.t_ns;
	ev.u.fault.kind = kind;
	ev.text = msg;
	ev.textlen = strlen(msg);
	d->faulted = true;
	registry_backend_event(d->in, &ev);
	if (kind == CTL_FAULT_DUMP || d->in == NULL)
		return;
	/* The domain is frozen (pvpanic with on_crash preserve; a running
	 * one is suspended by the capture): capture before the decision. */
	if (d->created && !d->exited && capture_start(d, kind, msg) == 0)
		return;
	/* Gone, or the capture could not start: nothing is captured; say
	 * so at once so that the policy decides now, not at the exit. */
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_CAPTURED;
	ev.t_ns = instance_clock();
	ev.u.captured.t_ns = ev.t_ns;
	ev.text = "";
	ev.textlen = 0;
	registry_backend_event(d->in, &ev);
}

/* ---- COM1: console lines ---- */

/* ---- COM2: heartbeat frames ---- */

/* The X_EXIT=N line the virt runtime sends before isa-debug-exit; the
 * health parser counts it as an unknown key. */
static void
scan_exit(struct lvdom *d, const char *p, size_t len)
{
	const char *end = p + len, *nl;
	char num[16];
	size_t n;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 7 && n - 7 < sizeof(num) &&
		    memcmp(p, "X_EXIT=", 7) == 0) {
			memcpy(num, p + 7, n - 7);
			num[n - 7] = '\0';
			d->exit_code = (int)strtol(num, NULL, 10) & 0xff;
			d->have_exit = true;
		}
	}
}

/* A notify frame: what hvt's tender does with X_NOTIFY (tender/
 * hypercall.c), in the same events. */
static void
take_notify(struct lvdom *d, const char *p, size_t len)
{
	struct health_msg m;
	struct bevent ev;
	size_t errpos = 0;
	char line[128];
	int r, n;

	if ((r = health_msg_parse(p, len, &m, &errpos)) != 0) {
		n = snprintf(line, sizeof(line),
		    "refused heartbeat message: %s at byte %zu",
		    health_parse_strerror(r), errpos);
		emit_text(d, CTL_LOG, line, (size_t)n);
		return;
	}
	if (m.unknown_keys > 0)
		scan_exit(d, p, len);
	if ((m.flags & HEALTH_MSG_READY) && !d->ready_sent) {
		d->ready_sent = true;
		emit_text(d, CTL_READY, NULL, 0);
		if (d->in == NULL)
			return;
	}
	if (m.flags & (HEALTH_MSG_WATCHDOG | HEALTH_MSG_HAS_STATUS)) {
		memset(&ev, 0, sizeof(ev));
		ev.type = CTL_HEARTBEAT;
		ev.t_ns = instance_clock();
		ev.u.heartbeat.t_ns = ev.t_ns;
		d->beats++;
		ev.u.heartbeat.seq =
		    (m.flags & HEALTH_MSG_HAS_SEQ) ? m.seq : d->beats;
		ev.u.heartbeat.progress = m.progress;
		ev.u.heartbeat.conns = m.conns;
		if (m.flags & HEALTH_MSG_HAS_PROGRESS)
			ev.u.heartbeat.flags |= CTL_HB_HAS_PROGRESS;
		if (m.flags & HEALTH_MSG_HAS_STATUS)
			ev.u.heartbeat.flags |= CTL_HB_HAS_STATUS;
		if (m.flags & HEALTH_MSG_HAS_CONNS)
			ev.u.heartbeat.flags |= CTL_HB_HAS_CONNS;
		if (m.flags & HEALTH_MSG_HAS_SEQ)
			ev.u.heartbeat.flags |= CTL_HB_HAS_SEQ;
		ev.text = m.status;
		ev.textlen = m.status_len;
		registry_backend_event(d->in, &ev);
	}
	if ((m.flags & HEALTH_MSG_HAS_LOG) && d->in != NULL)
		emit_text(d, CTL_LOG, m.log, m.log_len);
	if ((m.flags & HEALTH_MSG_HAS_FAULT) && d->in != NULL && !d->faulted) {
		n = snprintf(line, sizeof(line), "%.*s",
		    (int)(m.fault_len < 120 ? m.fault_len : 120), m.fault);
		emit_fault(d, CTL_FAULT_ABORT, NULL, line);
	}
}

static const char *const reg_keys[CTL_NREGS] = {"RAX", "RBX", "RCX", "RDX",
    "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R10", "R11", "R12", "R13", "R14",
    "R15"};

/* One KEY=VALUE line of an F or D frame into f.  Unknown keys and bad
 * numbers are skipped: the frame is a report, not a command. */
static void
frame_line(struct lvdom *d, struct ctl_fault *f, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	char key[16], val[24];
	size_t kl, vl;
	uint64_t v;
	int i;

	if (eq == NULL || (kl = (size_t)(eq - p)) >= sizeof(key))
		return;
	memcpy(key, p, kl);
	key[kl] = '\0';
	vl = n - kl - 1;
	if (strcmp(key, "MSG") == 0) {
		snprintf(d->frame_msg, sizeof(d->frame_msg), "%.*s",
		    (int)(vl < sizeof(d->frame_msg) ? vl
		                                    : sizeof(d->frame_msg) - 1),
		    eq + 1);
		return;
	}
	if (strcmp(key, "KIND") == 0) {
		f->kind = vl == 9 && memcmp(eq + 1, "exception", 9) == 0
		              ? CTL_FAULT_EXCEPTION
		              : CTL_FAULT_ABORT;
		return;
	}
	if (vl == 0 || vl >= sizeof(val))
		return;
	memcpy(val, eq + 1, vl);
	val[vl] = '\0';
	v = strtoull(val, NULL, 0);
	for (i = 0; i < CTL_NREGS; i++)
		if (strcmp(key, reg_keys[i]) == 0) {
			f->regs[i] = v;
			return;
		}
	if (strcmp(key, "VECTOR") == 0)
		f->vector = v;
	else if (strcmp(key, "ERROR_CODE") == 0)
		f->error_code = v;
	else if (strcmp(key, "CR2") == 0)
		f->cr2 = v;
	else if (strcmp(key, "RIP") == 0)
		f->rip = v;
	else if (strcmp(key, "RFLAGS") == 0)
		f->rflags = v;
	else if (strcmp(key, "CS") == 0)
		f->cs = (uint16_t)v;
	else if (strcmp(key, "SS") == 0)
		f->ss = (uint16_t)v;
}

/* An F frame is kept for the pvpanic that follows it; a D frame is a
 * snapshot request, reported at once (the guest goes on). */
static void
take_frame(struct lvdom *d, char tag, const char *p, size_t len)
{
	struct ctl_fault f;
	const char *end = p + len, *nl;

	memset(&f, 0, sizeof(f));
	f.kind = CTL_FAULT_ABORT;
	f.source = CTL_REGS_GUEST;
	d->frame_msg[0] = '\0';
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		frame_line(d, &f, p, (size_t)(nl - p));
	}
	if (f.kind != CTL_FAULT_EXCEPTION)
		f.vector = ~(uint64_t)0;
	if (tag == 'D') {
		emit_fault(d, CTL_FAULT_DUMP, &f, d->frame_msg);
		return;
	}
	d->frame = f;
	d->have_frame = true;
}

static void
on_frame(void *arg, char tag, const char *payload, size_t len)
{
	struct lvdom *d = arg;

	if (d->in == NULL)
		return;
	switch (tag) {
	case 'N':
		take_notify(d, payload, len);
		break;
	case 'L':
		emit_text(d, CTL_LOG, payload, len);
		break;
	default:
		take_frame(d, tag, payload, len);
		break;
	}
}

/* ---- the sockets ---- */

static void
port_close(struct lvdom *d, struct lv_port *pt)
{
	if (pt->fd < 0)
		return;
	event_free(pt->ev);
	pt->ev = NULL;
	close(pt->fd);
	pt->fd = -1;
	if (pt == &d->con)
		backend_lines_flush(&d->lines, d->in);
}

/* Read up to limit bytes from a port; at its end, close it. */
static void
port_read(struct lvdom *d, struct lv_port *pt, size_t limit)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;

	while (pt->fd >= 0 && got < limit && d->in != NULL) {
		n = read(pt->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			port_close(d, pt);
			return;
		}
		got += (size_t)n;
		if (pt == &d->con) {
			lv_tail_add(&d->tail, buf, (size_t)n);
			backend_lines_take(&d->lines, d->in, buf, (size_t)n);
		} else
			lv_uart_feed(&d->uart, buf, (size_t)n, on_frame, d);
	}
}

static void
con_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lvdom *d = arg;

	(void)fd;
	(void)what;
	port_read(d, &d->con, READ_ROUNDS * 4096);
}

static void
hb_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lvdom *d = arg;

	(void)fd;
	(void)what;
	port_read(d, &d->hb, READ_ROUNDS * 4096);
}

static int
port_open(struct lvdom *d, struct lv_port *pt, event_callback_fn cb)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, pt->path, sizeof(sun.sun_path));
	if ((pt->fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(pt->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (pt->ev = event_new(
	         lv_base, pt->fd, EV_READ | EV_PERSIST, cb, d)) == NULL ||
	    event_add(pt->ev, NULL) < 0) {
		int e = errno;

		if (pt->ev != NULL)
			event_free(pt->ev);
		pt->ev = NULL;
		close(pt->fd);
		pt->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

/* Before acting on the domain's end: what it wrote last is in the
 * sockets still (X_EXIT, the fault frame). */
static void
drain(struct lvdom *d)
{
	port_read(d, &d->hb, DRAIN_BYTES);
	port_read(d, &d->con, DRAIN_BYTES);
}

/* ---- jobs ---- */

static void job_done_cb(evutil_socket_t fd, short what, void *arg);

/* The gdb socket's directory and what QEMU left in it. */
static void
gdb_rmdir(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/gdb.sock", dir);
	unlink(p);
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warn("rmdir %s", dir);
}

static void
job_error(struct lv_job *j, const char *what)
{
	const char *m = virGetLastErrorMessage();

	snprintf(j->err, sizeof(j->err), "%s: %s", what,
	    m != NULL ? m : "unknown error");
	j->rc = -1;
}

static void
job_list(struct lv_job *j)
{
	virDomainPtr *list = NULL;
	int n, i, k = 0;

	if ((n = virConnectListAllDomains(
	         j->conn, &list, VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
		job_error(j, "list");
		return;
	}
	if ((j->names = calloc((size_t)n + 1, sizeof(char *))) != NULL) {
		for (i = 0; i < n; i++) {
			const char *nm = virDomainGetName(list[i]);

			if (nm != NULL && (j->names[k] = strdup(nm)) != NULL)
				k++;
		}
	} else {
		snprintf(j->err, sizeof(j->err), "out of memory");
		j->rc = -1;
	}
	j->nnames = k;
	for (i = 0; i < n; i++)
		virDomainFree(list[i]);
	free(list);
}

/*
 * `domain NAME`: start the defined domain paused (the summoner connects to
 * its serial ports before it runs, as for a created one) and find those
 * ports in its live XML.  A domain that runs already is someone else's
 * business: refused.  Without a unix-socket COM2 nothing could say READY:
 * refused too, and the domain is shut off again.
 */
static void
start_defined(struct lv_job *j)
{
	virDomainPtr dom;
	char *xml = NULL;

	if ((dom = virDomainLookupByName(j->conn, j->name)) == NULL) {
		job_error(j, "no such domain");
		return;
	}
	if (virDomainIsActive(dom) == 1) {
		snprintf(j->err, sizeof(j->err),
		    "domain %s runs already: the summoner starts only a "
		    "domain that is shut off",
		    j->name);
		j->rc = -1;
		goto out;
	}
	if (virDomainCreateWithFlags(dom, VIR_DOMAIN_START_PAUSED) < 0) {
		job_error(j, "virDomainCreateWithFlags");
		goto out;
	}
	if ((j->ports = calloc(1, sizeof(*j->ports))) == NULL ||
	    (xml = virDomainGetXMLDesc(dom, 0)) == NULL ||
	    lv_xml_ports(xml, strlen(xml), j->ports) < 0 ||
	    j->ports->hb[0] == '\0') {
		snprintf(j->err, sizeof(j->err),
		    "domain %s has no unix-socket serial port 1 (COM2) for "
		    "its heartbeats (docs/libvirt.md)",
		    j->name);
		j->rc = -1;
		virDomainDestroy(dom);
	}
out:
	free(xml);
	virDomainFree(dom);
}

/* Let a running domain stop where it is (a FAULT= notify, a hang under
 * quarantine): a capture and a debugger want a frozen guest. */
static void
freeze(struct lv_job *j, virDomainPtr dom)
{
	int state = 0, reason = 0;

	if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
	    state == VIR_DOMAIN_RUNNING && virDomainSuspend(dom) < 0)
		job_error(j, "virDomainSuspend");
}

static void why_add(struct lv_cap *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
why_add(struct lv_cap *c, const char *fmt, ...)
{
	size_t n = strlen(c->why);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(c->why)) {
		c->why[n++] = ';';
		c->why[n++] = ' ';
		c->why[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(c->why + n, sizeof(c->why) - n, fmt, ap);
	va_end(ap);
}

/*
 * Which registers the fault knows (docs/fault-report.md, "registers"):
 * a full report from the guest (an exception's trap frame, hb_fault()),
 * or Solo5's abort cookie (rip, rsp, rflags) whose rbp is unwound from
 * the vCPU's frame chain; the rest is the vCPU's, from the core.
 */
static void
fault_regs(struct lv_cap *c, const struct lv_core *core, const uint64_t *ur,
    bool have_ur, const char **from)
{
	static const int ur_of[LV_REP_NREGS] = {LV_UR_RAX, LV_UR_RBX, LV_UR_RCX,
	    LV_UR_RDX, LV_UR_RSI, LV_UR_RDI, LV_UR_RBP, LV_UR_RSP, LV_UR_R8,
	    LV_UR_R9, LV_UR_R10, LV_UR_R11, LV_UR_R12, LV_UR_R13, LV_UR_R14,
	    LV_UR_R15, LV_UR_RIP, LV_UR_EFLAGS};
	const struct ctl_fault *f = &c->f;
	bool full = c->have_frame && f->regs[6] != 0 && f->regs[7] != 0;
	int i;

	for (i = 0; i < LV_REP_NREGS; i++) {
		c->regs[i] = have_ur ? ur[ur_of[i]] : 0;
		from[i] = have_ur ? "vcpu" : NULL;
		c->set[i] = false;
	}
	if (!c->have_frame)
		return;
	for (i = 0; i < LV_REP_NREGS; i++) {
		if (!full && i != 7 && i < 16)
			continue;
		c->regs[i] = i < 16 ? f->regs[i] : i == 16 ? f->rip : f->rflags;
		from[i] = "guest";
		c->set[i] = true;
	}
	if (!full && have_ur) {
		uint64_t rbp = lv_unwind_rbp(core, ur[LV_UR_RBP], f->regs[7]);

		if (rbp != 0) {
			c->regs[6] = rbp;
			from[6] = "unwound";
			c->set[6] = true;
		}
	}
}

static int
write_tail(const char *path, const char *p, size_t len)
{
	int fd, e;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0)
		return -1;
	if (write(fd, p, len) != (ssize_t)len) {
		e = errno != 0 ? errno : EIO;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/*
 * The fault's artifacts, in the tender's order: core, console.txt,
 * report.json (which lists the others).  A file that cannot be written is
 * left out and the reason kept for the log: the capture never fails as a
 * whole, so the instance is always decided.
 */
static void
job_capture(struct lv_job *j, virDomainPtr dom)
{
	static const int ur_set[LV_REP_NREGS] = {LV_UR_RAX, LV_UR_RBX,
	    LV_UR_RCX, LV_UR_RDX, LV_UR_RSI, LV_UR_RDI, LV_UR_RBP, LV_UR_RSP,
	    LV_UR_R8, LV_UR_R9, LV_UR_R10, LV_UR_R11, LV_UR_R12, LV_UR_R13,
	    LV_UR_R14, LV_UR_R15, LV_UR_RIP, LV_UR_EFLAGS};
	struct lv_cap *c = j->cap;
	struct lv_core core;
	struct lv_syms *syms = NULL;
	struct lv_report r;
	const char *from[LV_REP_NREGS];
	uint64_t ur[27], fix[27], t0;
	bool have_ur = false, fixset[27];
	char path[300], err[300];
	struct stat st;
	int i;

	memset(&core, 0, sizeof(core));
	core.fd = -1;
	memset(ur, 0, sizeof(ur));
	if (dom != NULL)
		freeze(j, dom);
	if (mkdir_p(c->dir, 0700) < 0) {
		why_add(c, "%s: %s", c->dir, strerror(errno));
		c->dir[0] = '\0';
		goto symbols;
	}
	snprintf(path, sizeof(path), "%s/core", c->dir);
	t0 = instance_clock();
	if (dom == NULL)
		why_add(c, "core: the domain is gone");
	else if (virDomainCoreDumpWithFormat(dom, path,
	             VIR_DOMAIN_CORE_DUMP_FORMAT_RAW,
	             VIR_DUMP_MEMORY_ONLY) < 0) {
		const char *m = virGetLastErrorMessage();

		why_add(c, "core: %s", m != NULL ? m : "dump failed");
		unlink(path);
	} else if (lv_core_open(&core, path, true, err, sizeof(err)) < 0) {
		why_add(c, "core: %s", err);
	} else {
		c->flags |= CTL_CAPTURED_CORE;
		c->core_bytes = core.bytes;
		chmod(path, 0600);
		have_ur = lv_core_regs(&core, ur) == 0;
	}
	c->core_ns = instance_clock() - t0;
symbols:
	if ((syms = lv_syms_load(c->image)) == NULL)
		why_add(c, "symbols of %s: %s", c->image, strerror(errno));
	fault_regs(c, &core, ur, have_ur, from);
	if (c->flags & CTL_CAPTURED_CORE) {
		/* gdb IMAGE CORE then starts where the fault was. */
		memset(fixset, 0, sizeof(fixset));
		for (i = 0; i < LV_REP_NREGS; i++) {
			fix[ur_set[i]] = c->regs[i];
			fixset[ur_set[i]] = c->set[i];
		}
		if (lv_core_fix(&core, fix, fixset) < 0)
			why_add(c, "core: patch: %s", strerror(errno));
	}
	if (c->have_frame || have_ur)
		c->nframes = lv_backtrace(&core, syms, c->regs[16], c->regs[6],
		    c->frames, LV_FRAMES_MAX);
	if (c->dir[0] == '\0')
		goto out;
	snprintf(path, sizeof(path), "%s/console.txt", c->dir);
	if (write_tail(path, c->tail, c->taillen) == 0)
		c->flags |= CTL_CAPTURED_TAIL;
	else
		why_add(c, "console.txt: %s", strerror(errno));

	memset(&r, 0, sizeof(r));
	r.domain = j->name;
	r.image = c->image;
	r.dir = c->dir;
	r.message = c->msg;
	r.kind = c->kind;
	r.vector = c->have_frame && c->f.kind == CTL_FAULT_EXCEPTION
	               ? (long)c->f.vector
	               : -1;
	r.error_code = c->f.error_code;
	r.cr2 = c->f.cr2;
	r.source = c->have_frame ? (have_ur ? "guest+vcpu" : "guest") : "vcpu";
	memcpy(r.regs, c->regs, sizeof(r.regs));
	memcpy(r.from, from, sizeof(r.from));
	if ((r.have_vcpu = have_ur))
		for (i = 0; i < LV_REP_NREGS; i++)
			r.vcpu[i] = ur[ur_set[i]];
	r.frames = c->frames;
	r.nframes = c->nframes;
	r.core = (c->flags & CTL_CAPTURED_CORE) != 0;
	r.tail = (c->flags & CTL_CAPTURED_TAIL) != 0;
	r.core_bytes = c->core_bytes;
	snprintf(path, sizeof(path), "%s/core", c->dir);
	r.core_file_bytes =
	    r.core && stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	r.console_bytes = c->console_total;
	r.fault_ns = c->t_fault;
	r.core_ns = c->core_ns;
	r.captured_ns = instance_clock();
	r.errors = c->why;
	if (lv_report_write(&r) == 0)
		c->flags |= CTL_CAPTURED_REPORT;
	else
		why_add(c, "report.json: %s", strerror(errno));
out:
	lv_core_close(&core);
	lv_syms_free(syms);
}

/* A port on 127.0.0.1 nobody listens on now (the stub binds it next). */
static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* QEMU's user and group from the domain's DAC label ("+UID:+GID"). */
static int
qemu_owner(virDomainPtr dom, uid_t *uid, gid_t *gid)
{
	virSecurityLabelPtr labels = NULL;
	unsigned u, g;
	int n, i, rc = -1;

	if ((n = virDomainGetSecurityLabelList(dom, &labels)) < 0)
		return -1;
	for (i = 0; i < n && rc < 0; i++)
		if (sscanf(labels[i].label, "+%u:+%u", &u, &g) == 2) {
			*uid = (uid_t)u;
			*gid = (gid_t)g;
			rc = 0;
		}
	free(labels);
	return rc;
}

/* One HMP gdbserver command; 0 when QEMU says it waits, else -1 with
 * QEMU's words (HMP reports failures as text, not as a failed call). */
static int
hmp_gdbserver(struct lv_job *j, virDomainPtr dom, const char *dev)
{
	char cmd[200], *out = NULL;
	size_t n;
	int rc = -1;

	snprintf(cmd, sizeof(cmd), "gdbserver %s", dev);
	if (virDomainQemuMonitorCommand(
	        dom, cmd, &out, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP) < 0) {
		job_error(j, "gdbserver");
		return -1;
	}
	if (out != NULL && strstr(out, "Waiting for gdb connection") != NULL)
		rc = 0;
	else {
		n = out != NULL ? strcspn(out, "\r\n") : 0;
		snprintf(j->err, sizeof(j->err), "gdbserver %s: %.*s", dev,
		    (int)(n < 200 ? n : 200), out != NULL ? out : "");
		j->rc = -1;
	}
	free(out);
	return rc;
}

/*
 * QEMU runs as another user (docs/libvirt.md, "Security drivers"), so the
 * stub's socket goes into a fresh directory under /tmp owned by that
 * user, mode 0700, and the socket is made 0600 once bound: only QEMU and
 * root reach it.  Without a DAC label (another security model, a remote
 * host) the stub listens on 127.0.0.1 instead.
 */
static void
job_gdb(struct lv_job *j, virDomainPtr dom)
{
	struct lv_gdbjob *g = j->gdb;
	char dev[160], sock[128];
	uint64_t t0 = instance_clock();
	uid_t uid;
	gid_t gid;
	int port;
	bool any = false;

	freeze(j, dom);
	if (j->rc < 0)
		return;
	snprintf(g->dir, sizeof(g->dir), "/tmp/summoner-gdb-XXXXXX");
	if (qemu_owner(dom, &uid, &gid) == 0 && mkdtemp(g->dir) != NULL) {
		snprintf(sock, sizeof(sock), "%s/gdb.sock", g->dir);
		snprintf(dev, sizeof(dev), "unix:%s,server=on,wait=off", sock);
		if (chown(g->dir, uid, gid) == 0 &&
		    hmp_gdbserver(j, dom, dev) == 0) {
			if (chmod(sock, 0600) < 0)
				log_debug(
				    "chmod %s: %s", sock, strerror(errno));
			snprintf(g->addr, sizeof(g->addr), "%s", sock);
		} else
			rmdir(g->dir);
	} else
		g->dir[0] = '\0';
	if (g->addr[0] == '\0') {
		if (g->dir[0] != '\0')
			log_debug("libvirt: %s: unix gdbserver failed (%s): "
			          "trying 127.0.0.1",
			    j->name, j->err);
		g->dir[0] = '\0';
		j->rc = 0;
		j->err[0] = '\0';
		if ((port = free_port()) < 0) {
			snprintf(j->err, sizeof(j->err), "no free port: %s",
			    strerror(errno));
			j->rc = -1;
			return;
		}
		snprintf(dev, sizeof(dev),
		    "tcp:127.0.0.1:%d,server=on,wait=off", port);
		if (hmp_gdbserver(j, dom, dev) < 0)
			return;
		snprintf(g->addr, sizeof(g->addr), "127.0.0.1:%d", port);
	}
	for (int i = 0; i < LV_REP_NREGS; i++)
		any = any || g->set[i];
	if (any && lv_gdb_set_regs(g->addr, g->regs, g->set, GDB_REPLY_MS,
	               g->note, sizeof(g->note)) < 0)
		log_debug("libvirt: %s: %s", j->name, g->note);
	else
		g->note[0] = '\0';
	g->ms = (instance_clock() - t0) / 1000000;
}

static void *
job_run(void *arg)
{
	struct lv_job *j = arg;
	virDomainPtr dom = NULL;

	j->t0 = instance_clock();
	switch (j->op) {
	case OP_LIST:
		job_list(j);
		break;
	case OP_CREATE:
		/* A domain of that name is a leftover of an earlier run of
		 * the daemon (the counter starts again): it goes. */
		if ((dom = virDomainLookupByName(j->conn, j->name)) != NULL) {
			virDomainDestroy(dom);
			virDomainFree(dom);
		}
		if ((dom = virDomainCreateXML(
		         j->conn, j->xml, VIR_DOMAIN_START_PAUSED)) == NULL)
			job_error(j, "virDomainCreateXML");
		break;
	case OP_START_DEFINED:
		start_defined(j);
		break;
	default:
		if ((dom = virDomainLookupByName(j->conn, j->name)) == NULL) {
			job_error(j, "lookup");
			break;
		}
		if ((j->op == OP_START || j->op == OP_RESUME) &&
		    virDomainResume(dom) < 0)
			job_error(j, "virDomainResume");
		else if (j->op == OP_SUSPEND && virDomainSuspend(dom) < 0)
			job_error(j, "virDomainSuspend");
		else if (j->op == OP_SHUTDOWN && virDomainShutdown(dom) < 0)
			job_error(j, "virDomainShutdown");
		else if (j->op == OP_DESTROY && virDomainDestroy(dom) < 0)
			job_error(j, "virDomainDestroy");
		else if (j->op == OP_GDB)
			job_gdb(j, dom);
		break;
	case OP_CAPTURE:
		/* A domain already gone still gets its console and report. */
		dom = virDomainLookupByName(j->conn, j->name);
		job_capture(j, dom);
		break;
	}
	if (dom != NULL)
		virDomainFree(dom);
	j->t1 = instance_clock();
	event_active(j->done_ev, EV_TIMEOUT, 1);
	atomic_fetch_sub(&lv_running, 1); /* j is the loop's from here */
	return NULL;
}

/* Start op on a thread of its own.  d may be NULL (a list, an orphan's
 * destroy); cap and gdb are OP_CAPTURE's and OP_GDB's (the job's once
 * started).  0, or -1 (logged) when it could not be started. */
static int
job_start_with(struct virt_conn *vc, struct lvdom *d, enum lv_op op,
    const char *name, char *xml, struct lv_cap *cap, struct lv_gdbjob *gdb)
{
	struct lv_job *j;
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		goto fail;
	j->op = op;
	j->d = d;
	j->vc = vc;
	j->xml = xml;
	j->cap = cap;
	j->gdb = gdb;
	snprintf(j->name, sizeof(j->name), "%s", name != NULL ? name : "");
	if ((j->conn = virt_conn_ref(vc)) == NULL) {
		log_warnx("libvirt %s: %s %s: the connection is down",
		    virt_conn_uri(vc), op_names[op], j->name);
		free(j);
		return -1;
	}
	if ((j->done_ev = event_new(lv_base, -1, 0, job_done_cb, j)) == NULL)
		goto fail;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&lv_running, 1);
	rc = pthread_create(&t, &at, job_run, j);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		atomic_fetch_sub(&lv_running, 1);
		errno = rc;
		goto fail;
	}
	if (d != NULL)
		d->jobs++;
	return 0;
fail:
	if (j != NULL) { /* the caller keeps what it passed */
		j->cap = NULL;
		j->gdb = NULL;
		j->xml = NULL;
	}
	log_warn("libvirt: %s %s", op_names[op], name != NULL ? name : "");
	if (j != NULL) {
		if (j->conn != NULL)
			virConnectClose(j->conn);
		if (j->done_ev != NULL)
			event_free(j->done_ev);
		free(j);
	}
	return -1;
}

static int
job_start(struct virt_conn *vc, struct lvdom *d, enum lv_op op,
    const char *name, char *xml)
{
	return job_start_with(vc, d, op, name, xml, NULL, NULL);
}

static void reconcile_done(struct lv_job *j);
static void create_done(struct lvdom *d, struct lv_job *j);
static void capture_done(struct lvdom *d, struct lv_job *j);
static void gdb_done(struct lvdom *d, struct lv_job *j);

static void
job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lv_job *j = arg;
	struct lvdom *d = j->d;
	int i;

	(void)fd;
	(void)what;
	log_debug("libvirt: %s %s: %s in %" PRIu64 " ms", op_names[j->op],
	    j->name, j->rc == 0 ? "done" : j->err, (j->t1 - j->t0) / 1000000);
	if (j->op == OP_LIST) {
		if (j->rc == 0)
			reconcile_done(j);
	} else if (d != NULL && d->in == NULL && j->op == OP_GDB &&
	           j->gdb->dir[0] != '\0') {
		/* Released meanwhile: the socket's directory is ours to go. */
		gdb_rmdir(j->gdb->dir);
	} else if (d != NULL && d->in != NULL) {
		switch (j->op) {
		case OP_START_DEFINED:
			if (j->rc == 0) {
				memcpy(d->con.path, j->ports->con,
				    sizeof(d->con.path));
				memcpy(d->hb.path, j->ports->hb,
				    sizeof(d->hb.path));
				snprintf(d->image, sizeof(d->image), "%s",
				    j->ports->kernel);
			}
			create_done(d, j);
			break;
		case OP_CREATE:
			create_done(d, j);
			break;
		case OP_START:
			if (j->rc == 0)
				d->started = true;
			else
				log_warnx("instance %s#%u: %s",
				    d->in->svc->name, d->in->st.id, j->err);
			break;
		case OP_CAPTURE:
			capture_done(d, j);
			break;
		case OP_GDB:
			gdb_done(d, j);
			break;
		case OP_SUSPEND:
		case OP_RESUME:
			if (j->rc == 0)
				emit_text(d,
				    j->op == OP_SUSPEND ? CTL_PAUSED
				                        : CTL_RESUMED,
				    NULL, 0);
			break;
		default:
			/* SHUTDOWN, DESTROY: the STOPPED event ends it. */
			if (j->rc < 0 && !d->exited)
				log_debug("instance %s#%u: %s",
				    d->in->svc->name, d->in->st.id, j->err);
			break;
		}
	}
	/* Counted until here: what the result set off (an EXITED, then the
	 * registry's release) must not free d under this function. */
	if (d != NULL && --d->jobs == 0 && d->in == NULL)
		lv_free(d);
	virConnectClose(j->conn);
	for (i = 0; i < j->nnames; i++)
		free(j->names[i]);
	free(j->names);
	free(j->xml);
	if (j->cap != NULL)
		free(j->cap->tail);
	free(j->cap);
	free(j->gdb);
	free(j->ports);
	event_free(j->done_ev);
	free(j);
}

/* ---- the end of a domain ---- */

/*
 * The domain is gone (detail: virDomainEventStoppedDetailType, -1 when it
 * vanished unseen): report the end as the tender would.
 *   our stop                         -> EXITED stopped
 *   after a fault                    -> EXITED fault
 *   X_EXIT=N before the end, or SHUTDOWN -> EXITED guest N
 *   CRASHED                          -> FAULT abort (panic), EXITED fault
 *   anything else (QEMU died, destroyed by someone else, lost)
 *                                    -> FAULT host-error, EXITED fault
 * d may be freed by the registry's release on EXITED.
 */
static void
finish(struct lvdom *d, int detail, const char *why)
{
	struct inst *in = d->in;
	struct bevent ev;
	char msg[160];

	if (d->exited || in == NULL)
		return;
	drain(d);
	if (d->in == NULL)
		return;
	d->exited = true;
	evtimer_del(d->kill_ev);
	port_close(d, &d->con);
	port_close(d, &d->hb);
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_EXITED;
	if (d->stopping) {
		ev.u.exited.reason = CTL_EXIT_STOPPED;
	} else if (d->faulted) {
		ev.u.exited.reason = CTL_EXIT_FAULT;
		ev.u.exited.status = -1;
	} else if (d->have_exit ||
	           detail == VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN) {
		ev.u.exited.reason = CTL_EXIT_GUEST;
		ev.u.exited.status = d->have_exit ? d->exit_code : 0;
		if (ev.u.exited.status != 0)
			snprintf(in->fault, sizeof(in->fault),
			    "domain %s: the guest exited with status %d",
			    d->name, ev.u.exited.status);
	} else if (detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED) {
		emit_fault(d, CTL_FAULT_ABORT, d->have_frame ? &d->frame : NULL,
		    d->have_frame ? d->frame_msg : "guest panicked (pvpanic)");
		if (d->in == NULL)
			return;
		ev.u.exited.reason = CTL_EXIT_FAULT;
		ev.u.exited.status = -1;
	} else {
		snprintf(msg, sizeof(msg), "domain %s %s", d->name, why);
		emit_text(d, CTL_LOG, msg, strlen(msg));
		emit_fault(d, CTL_FAULT_HOST_ERROR, NULL, msg);
		if (d->in == NULL)
			return;
		snprintf(in->fault, sizeof(in->fault), "%s", msg);
		ev.u.exited.reason = CTL_EXIT_FAULT;
		ev.u.exited.status = -1;
	}
	ev.t_ns = instance_clock();
	ev.u.exited.t_ns = ev.t_ns;
	registry_backend_event(in, &ev);
}

static void
create_done(struct lvdom *d, struct lv_job *j)
{
	struct inst *in = d->in;
	struct bevent ev;
	char msg[300];

	if (j->rc < 0) {
		if (d->stop_wanted) {
			d->stopping = true;
			finish(d, -1, "");
			return;
		}
		snprintf(msg, sizeof(msg), "not created: %s", j->err);
		log_warnx("instance %s#%u: domain %s %s", in->svc->name,
		    in->st.id, d->name, msg);
		finish(d, -1, msg);
		return;
	}
	d->created = true;
	d->t_created = j->t1;
	log_info("instance %s#%u: domain %s created in %" PRIu64 " ms",
	    in->svc->name, in->st.id, d->name, (j->t1 - j->t0) / 1000000);
	if (d->stop_wanted) {
		d->stopping = true;
		job_start(d->vc, d, OP_DESTROY, d->name, NULL);
		return;
	}
	if (d->con.path[0] != '\0' && port_open(d, &d->con, con_cb) < 0)
		log_warn("instance %s#%u: console %s", in->svc->name, in->st.id,
		    d->con.path);
	if (port_open(d, &d->hb, hb_cb) < 0)
		log_warn("instance %s#%u: heartbeat port %s", in->svc->name,
		    in->st.id, d->hb.path);
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_BOOTED;
	ev.t_ns = instance_clock();
	ev.u.booted.t_ns = ev.t_ns;
	ev.u.booted.t_start_ns = d->t_boot;
	ev.u.booted.mem_size = d->memory;
	registry_backend_event(in, &ev);
	if (d->in == NULL)
		return;
	if (d->paused_boot) {
		emit_text(d, CTL_PAUSED, NULL, 0);
		return;
	}
	if (job_start(d->vc, d, OP_START, d->name, NULL) < 0)
		finish(d, -1, "could not be let run");
}

/* ---- fault capture and the debugger ---- */

/* Start the capture of d's fault (kind, msg: the FAULT event's).  0, or
 * -1 when it could not start (nothing captured). */
static int
capture_start(struct lvdom *d, unsigned kind, const char *msg)
{
	struct inst *in = d->in;
	struct lv_cap *c;

	if (in->fault_dir[0] == '\0' || d->capturing)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if ((c->tail = malloc(LV_TAIL_BYTES)) == NULL) {
		free(c);
		return -1;
	}
	c->taillen = lv_tail_copy(&d->tail, c->tail);
	c->console_total = d->tail.total;
	snprintf(c->dir, sizeof(c->dir), "%s", in->fault_dir);
	snprintf(c->image, sizeof(c->image), "%s", d->image);
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	c->kind = kind;
	c->have_frame = d->have_frame;
	if (d->have_frame)
		c->f = d->frame;
	c->t_fault = instance_clock();
	if (job_start_with(d->vc, d, OP_CAPTURE, d->name, NULL, c, NULL) < 0) {
		free(c->tail);
		free(c);
		return -1;
	}
	d->capturing = true;
	return 0;
}

/* The artifacts are written: CAPTURED as the tender's ev_captured() makes
 * it (the directory, then one line per frame), so that the supervisor
 * signs and decides the same way for both backends. */
static void
capture_done(struct lvdom *d, struct lv_job *j)
{
	struct lv_cap *c = j->cap;
	struct inst *in = d->in;
	struct bevent ev;
	char text[CTL_MAX_TEXT], line[LV_FUNC_MAX + 64];
	size_t len = 0, dirlen = strlen(c->dir);
	unsigned i, nf = 0;
	int n;

	d->capturing = false;
	memcpy(d->regs, c->regs, sizeof(d->regs));
	memcpy(d->regs_set, c->set, sizeof(d->regs_set));
	log_info("instance %s#%u: fault captured in %s (%s%s%s) in %" PRIu64
	         " ms (core: %" PRIu64 " ms, %" PRIu64 " KB)",
	    in->svc->name, in->st.id, c->dir[0] != '\0' ? c->dir : "nowhere",
	    (c->flags & CTL_CAPTURED_CORE) ? "core " : "",
	    (c->flags & CTL_CAPTURED_TAIL) ? "console.txt " : "",
	    (c->flags & CTL_CAPTURED_REPORT) ? "report.json" : "",
	    (j->t1 - c->t_fault) / 1000000, c->core_ns / 1000000,
	    c->core_bytes >> 10);
	if (c->why[0] != '\0')
		log_warnx("instance %s#%u: capture: %s", in->svc->name,
		    in->st.id, c->why);
	if (dirlen < sizeof(text)) {
		memcpy(text, c->dir, dirlen);
		len = dirlen;
	}
	for (i = 0; i < c->nframes; i++) {
		n = lv_frame_line(&c->frames[i], line, sizeof(line));
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    len + 1 + (size_t)n > sizeof(text))
			break;
		text[len++] = '\n';
		memcpy(text + len, line, (size_t)n);
		len += (size_t)n;
		nf++;
	}
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_CAPTURED;
	ev.t_ns = instance_clock();
	ev.u.captured.t_ns = ev.t_ns;
	ev.u.captured.flags = c->flags;
	ev.u.captured.nframes = nf;
	ev.text = text;
	ev.textlen = len;
	registry_backend_event(in, &ev);
}

static void
gdb_done(struct lvdom *d, struct lv_job *j)
{
	struct lv_gdbjob *g = j->gdb;
	struct inst *in = d->in;
	char line[400];
	int n;

	d->gdb_busy = false;
	if (j->rc < 0) {
		log_warnx("instance %s#%u: no gdb stub: %s", in->svc->name,
		    in->st.id, j->err);
		n = snprintf(line, sizeof(line), "gdb stub: %s", j->err);
		emit_text(d, CTL_LOG, line, (size_t)n);
		return;
	}
	d->frozen = true;
	snprintf(d->gdb_dir, sizeof(d->gdb_dir), "%s", g->dir);
	log_info("instance %s#%u: domain %s: gdbserver at %s in %" PRIu64 " ms",
	    in->svc->name, in->st.id, d->name, g->addr, g->ms);
	if (g->note[0] != '\0') {
		n = snprintf(line, sizeof(line),
		    "gdb stub: the fault's registers were not set: %s",
		    g->note);
		emit_text(d, CTL_LOG, line, (size_t)n);
		if (d->in == NULL)
			return;
	}
	emit_text(d, CTL_GDB, g->addr, strlen(g->addr));
}

static struct lvdom *
find(struct virt_conn *vc, const char *name)
{
	struct lvdom *d;

	LIST_FOREACH(d, &doms, entry)
	if (d->vc == vc && d->in != NULL && strcmp(d->name, name) == 0)
		return d;
	return NULL;
}

static void
on_domain_event(struct virt_conn *vc, const struct virt_dom_event *e, void *arg)
{
	struct lvdom *d;
	char why[96];

	(void)arg;
	if ((d = find(vc, e->name)) == NULL || d->exited)
		return;
	log_debug("domain %s: %s (%s)", e->name, virt_dom_event_name(e->event),
	    virt_dom_detail_name(e->event, e->detail));
	if (e->kind != VIRT_DOM_LIFECYCLE)
		return;
	if (e->event == VIR_DOMAIN_EVENT_STOPPED) {
		snprintf(why, sizeof(why), "stopped (%s)%s",
		    virt_dom_detail_name(e->event, e->detail),
		    e->emulator_failed ? ": its emulator died" : "");
		finish(d, e->detail, why);
		return;
	}
	if (e->guest_crash && !d->faulted && !d->stopping) {
		drain(d);
		if (d->in == NULL || d->faulted)
			return;
		emit_fault(d, d->have_frame ? d->frame.kind : CTL_FAULT_ABORT,
		    d->have_frame ? &d->frame : NULL,
		    d->have_frame ? d->frame_msg : "guest panicked (pvpanic)");
	}
}

static void
on_closed(struct virt_conn *vc, int reason, void *arg)
{
	(void)arg;
	log_warnx("libvirt %s: connection lost (reason %d)", virt_conn_uri(vc),
	    reason);
}

/* The first boot on a connection: what an earlier run of this daemon
 * left (SIGKILLed with domains running) goes now, not at a reconnect. */
static void
first_contact(struct virt_conn *vc)
{
	int i;

	for (i = 0; i < LV_MAX_CONNS && lv_seen[i] != NULL; i++)
		if (lv_seen[i] == vc)
			return;
	if (i == LV_MAX_CONNS)
		return;
	lv_seen[i] = vc;
	job_start(vc, NULL, OP_LIST, "summoner-*", NULL);
}

static void
on_reconnected(struct virt_conn *vc, void *arg)
{
	(void)arg;
	log_info("libvirt %s: connected again, reconciling", virt_conn_uri(vc));
	job_start(vc, NULL, OP_LIST, "summoner-*", NULL);
}

/* The domains that exist against the instances the summoner has. */
static void
reconcile_done(struct lv_job *j)
{
	struct lvdom *d, *next;
	bool found;
	int i;

	for (i = 0; i < j->nnames; i++) {
		if (!ours(j->names[i]))
			continue; /* another summoner's, or nobody's */
		found = false;
		LIST_FOREACH(d, &doms, entry)
		if (d->vc == j->vc && strcmp(d->name, j->names[i]) == 0)
			found = true;
		if (!found) {
			log_warnx(
			    "libvirt %s: domain %s belongs to no instance: "
			    "destroying it",
			    virt_conn_uri(j->vc), j->names[i]);
			job_start(j->vc, NULL, OP_DESTROY, j->names[i], NULL);
		}
	}
	/* finish() may free d (release): take the next one first. */
	for (d = LIST_FIRST(&doms); d != NULL; d = next) {
		next = LIST_NEXT(d, entry);
		/* Created after the list was asked for: it may not be in it. */
		if (d->vc != j->vc || !d->created || d->exited ||
		    d->in == NULL || d->t_created >= j->t0)
			continue;
		found = false;
		for (i = 0; i < j->nnames; i++)
			if (strcmp(d->name, j->names[i]) == 0)
				found = true;
		if (!found)
			finish(d, -1, "vanished while libvirtd was away");
	}
}

/* ---- the ops ---- */

void
backend_libvirt_init(struct event_base *base)
{
	struct virt_conn_hooks h;

	lv_base = base;
	/* libxml2 wants its globals set up once, before threads use it. */
	lv_xml_init();
	memset(&h, 0, sizeof(h));
	h.domain_event = on_domain_event;
	h.closed = on_closed;
	h.reconnected = on_reconnected;
	lv_ok = virt_conn_init(base, &h) == 0;
}

void
backend_libvirt_shutdown(void)
{
	int i;

	/*
	 * Job threads still inside libvirt (a create, a dump): exiting
	 * under them crashes in libvirt's or libxml2's exit-time cleanup.
	 * Wait for them (bounded: 30 s, a core dump's worst), then run
	 * their results so that what they hold is freed.
	 */
	for (i = 0; i < 3000 && atomic_load(&lv_running) > 0; i++)
		usleep(10000);
	if (atomic_load(&lv_running) > 0)
		log_warnx("libvirt: %d calls still running at exit",
		    atomic_load(&lv_running));
	else if (lv_base != NULL)
		event_base_loop(lv_base, EVLOOP_NONBLOCK);
	if (lv_ok)
		virt_conn_shutdown();
	lv_ok = false;
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lvdom *d = arg;

	(void)fd;
	(void)what;
	if (d->exited || d->in == NULL)
		return;
	log_warnx("instance %s#%u: domain %s did not shut down in %d ms: "
	          "destroying it",
	    d->in->svc->name, d->in->st.id, d->name, STOP_GRACE_MS);
	if (job_start(d->vc, d, OP_DESTROY, d->name, NULL) < 0)
		finish(d, -1, "could not be destroyed");
}

/* The kernel command line: the service's args, each expanded as hvt's. */
static int
join_args(const struct inst *in, const struct cfg_service *svc, char *out,
    size_t outlen)
{
	char one[1024];
	size_t i, len = 0, n;

	out[0] = '\0';
	for (i = 0; i < svc->argc; i++) {
		if (expand_arg(svc->argv[i], in->st.service, in->st.id, one,
		        sizeof(one)) < 0)
			return -1;
		n = strlen(one);
		if (len + n + 2 > outlen)
			return -1;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, one, n + 1);
		len += n;
	}
	return 0;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	char *buf = NULL;
	long n;

	if ((fp = fopen(path, "r")) == NULL || fseek(fp, 0, SEEK_END) < 0 ||
	    (n = ftell(fp)) < 0 || n > 1024 * 1024 ||
	    fseek(fp, 0, SEEK_SET) < 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		snprintf(err, errlen, "domain-xml %s: %s", path,
		    errno != 0 ? strerror(errno) : "cannot read");
		free(buf);
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* `domain NAME`: one instance at a time, since the domain is one VM. */
static int
boot_defined(
    struct lvdom *d, const struct cfg_service *svc, char *err, size_t errlen)
{
	struct lvdom *o;

	if (strlen(svc->domain) >= sizeof(d->name)) {
		snprintf(err, errlen, "domain name too long");
		return -1;
	}
	LIST_FOREACH(o, &doms, entry)
	if (o->in != NULL && !o->exited && o->vc == d->vc &&
	    strcmp(o->name, svc->domain) == 0) {
		snprintf(err, errlen,
		    "domain %s is in use by %s#%u (a defined domain runs one "
		    "instance at a time)",
		    svc->domain, o->in->svc->name, o->in->st.id);
		return -1;
	}
	d->defined = true;
	snprintf(d->name, sizeof(d->name), "%s", svc->domain);
	if ((d->kill_ev = evtimer_new(lv_base, kill_cb, d)) == NULL) {
		snprintf(err, errlen, "event set-up failed");
		return -1;
	}
	if (job_start(d->vc, d, OP_START_DEFINED, d->name, NULL) < 0) {
		snprintf(err, errlen, "could not start the libvirt call");
		return -1;
	}
	return 0;
}

static int
lv_boot(struct inst *in, const struct config *conf,
    const struct cfg_service *svc, bool paused, char *err, size_t errlen)
{
	struct tmpl_var vars[LV_XML_NVARS];
	struct lvdom *d = NULL;
	struct virt_conn *vc;
	char dir[256], mem[32], id[16], image[4096], *args = NULL;
	char *tmpl = NULL, *xml = NULL, *p;
	int i;

	if (!lv_ok || (vc = virt_conn_get(svc->uri)) == NULL) {
		snprintf(err, errlen, "libvirt is not set up");
		return -1;
	}
	if (!virt_conn_up(vc)) {
		snprintf(err, errlen, "libvirt %s is not reachable",
		    virt_conn_uri(vc));
		return -1;
	}
	if (lv_tag[0] == '\0')
		tag_set(conf->state_dir);
	first_contact(vc);
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (args = malloc(ARGS_BYTES)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	d->in = in;
	d->vc = vc;
	d->con.fd = d->hb.fd = -1;
	d->gdb_dir[0] = '\0';
	d->memory = svc->memory;
	d->paused_boot = paused;
	d->t_boot = instance_clock();
	lv_uart_init(&d->uart);
	if (svc->domain != NULL) {
		if (boot_defined(d, svc, err, errlen) < 0)
			goto fail;
		free(args);
		LIST_INSERT_HEAD(&doms, d, entry);
		in->bdata = d;
		return 0;
	}
	snprintf(d->name, sizeof(d->name), DOM_PREFIX "%s-%u-%u-%s",
	    in->svc->name, in->st.id, ++lv_seq, lv_tag);
	for (p = d->name; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '-' && *p != '_' && !(*p >= 'A' && *p <= 'Z'))
			*p = '-';
	/* libvirtd binds the serial sockets and hands them to QEMU, so the
	 * directory needs no access for libvirt-qemu (docs/libvirt.md). */
	if (snprintf(dir, sizeof(dir), "%s/libvirt", conf->state_dir) >=
	        (int)sizeof(dir) ||
	    mkdir_p(dir, 0700) < 0 ||
	    snprintf(d->con.path, sizeof(d->con.path), "%s/%s.com1", dir,
	        d->name) >= (int)sizeof(d->con.path) ||
	    snprintf(d->hb.path, sizeof(d->hb.path), "%s/%s.com2", dir,
	        d->name) >= (int)sizeof(d->hb.path)) {
		snprintf(err, errlen, "%s/libvirt: %s", conf->state_dir,
		    errno != 0 ? strerror(errno) : "path too long");
		goto fail;
	}
	unlink(d->con.path);
	unlink(d->hb.path);
	if (join_args(in, svc, args, ARGS_BYTES) < 0) {
		snprintf(err, errlen, "args: too long");
		goto fail;
	}
	if (svc->image[0] != '/' && getcwd(image, sizeof(image)) != NULL &&
	    strlen(image) + strlen(svc->image) + 2 < sizeof(image)) {
		strcat(image, "/");
		strcat(image, svc->image);
	} else
		snprintf(image, sizeof(image), "%s", svc->image);
	snprintf(d->image, sizeof(d->image), "%s", image);
	snprintf(mem, sizeof(mem), "%" PRIu64, svc->memory >> 20);
	snprintf(id, sizeof(id), "%u", in->st.id);
	for (i = 0; i < LV_XML_NVARS; i++) {
		vars[i].name = lv_xml_var_name((enum lv_xml_var)i);
		vars[i].value = NULL;
	}
	vars[LV_XML_NAME].value = d->name;
	vars[LV_XML_MEMORY].value = mem;
	vars[LV_XML_IMAGE].value = image;
	vars[LV_XML_ARGS].value = args;
	vars[LV_XML_CONSOLE].value = d->con.path;
	vars[LV_XML_HEARTBEAT].value = d->hb.path;
	vars[LV_XML_SERVICE].value = in->st.service;
	vars[LV_XML_ID].value = id;
	if (svc->domain_xml != NULL &&
	    (tmpl = read_file(svc->domain_xml, err, errlen)) == NULL)
		goto fail;
	if (lv_xml_expand(tmpl != NULL ? tmpl : lv_xml_builtin, vars,
	        LV_XML_NVARS, &xml, err, errlen) < 0)
		goto fail;
	if ((d->kill_ev = evtimer_new(lv_base, kill_cb, d)) == NULL) {
		snprintf(err, errlen, "event set-up failed");
		goto fail;
	}
	if (job_start(vc, d, OP_CREATE, d->name, xml) < 0) {
		snprintf(err, errlen, "could not start the libvirt call");
		goto fail;
	}
	xml = NULL; /* the job's */
	free(tmpl);
	free(args);
	LIST_INSERT_HEAD(&doms, d, entry);
	in->bdata = d;
	return 0;
fail:
	free(xml);
	free(tmpl);
	free(args);
	if (d != NULL && d->kill_ev != NULL)
		event_free(d->kill_ev);
	free(d);
	return -1;
}

static int
lv_pause(struct inst *in)
{
	struct lvdom *d = in->bdata;

	if (d == NULL || !d->created || d->exited)
		return -1;
	return job_start(d->vc, d, OP_SUSPEND, d->name, NULL);
}

static int
lv_resume(struct inst *in)
{
	struct lvdom *d = in->bdata;

	if (d == NULL || !d->created || d->exited)
		return -1;
	return job_start(d->vc, d, OP_RESUME, d->name, NULL);
}

static int
lv_stop(struct inst *in)
{
	struct lvdom *d = in->bdata;
	struct timeval tv = {
	    STOP_GRACE_MS / 1000, (STOP_GRACE_MS % 1000) * 1000};

	if (d == NULL || d->exited || d->stopping || d->stop_wanted)
		return 0;
	if (!d->created) {
		d->stop_wanted = true; /* create_done() destroys it */
		return 0;
	}
	d->stopping = true;
	/* A guest that never ran, or a frozen one, has nobody to shut down. */
	if (!d->started || d->faulted || d->frozen) {
		if (job_start(d->vc, d, OP_DESTROY, d->name, NULL) < 0)
			finish(d, -1, "could not be destroyed");
		return 0;
	}
	evtimer_add(d->kill_ev, &tv);
	job_start(d->vc, d, OP_SHUTDOWN, d->name, NULL);
	return 0;
}

/*
 * Quarantine: QEMU's gdbserver through the monitor (job_gdb()).  spec,
 * under the daemon's 0700 state directory, is out of QEMU's reach (it
 * runs as another user), so the stub is put elsewhere and CTL_GDB says
 * where.
 */
static int
lv_gdb_open(struct inst *in, const char *spec)
{
	struct lvdom *d = in->bdata;
	struct lv_gdbjob *g;

	(void)spec;
	if (d == NULL || !d->created || d->exited || d->gdb_busy ||
	    (g = calloc(1, sizeof(*g))) == NULL)
		return -1;
	memcpy(g->regs, d->regs, sizeof(g->regs));
	memcpy(g->set, d->regs_set, sizeof(g->set));
	if (job_start_with(d->vc, d, OP_GDB, d->name, NULL, NULL, g) < 0) {
		free(g);
		return -1;
	}
	d->gdb_busy = true;
	return 0;
}

static long
lv_pid(const struct inst *in)
{
	(void)in;
	return 0; /* QEMU is libvirtd's child, not ours */
}

static void
lv_free(struct lvdom *d)
{
	LIST_REMOVE(d, entry);
	event_free(d->kill_ev);
	free(d);
}

static void
lv_release(struct inst *in)
{
	struct lvdom *d = in->bdata;
	virConnectPtr c;
	virDomainPtr dom;

	if (d == NULL)
		return;
	if (d->created && !d->exited && (c = virt_conn_ref(d->vc)) != NULL) {
		/* Only at daemon exit: do not leave it running.  Blocking is
		 * acceptable then. */
		if ((dom = virDomainLookupByName(c, d->name)) != NULL) {
			virDomainDestroy(dom);
			virDomainFree(dom);
		}
		virConnectClose(c);
	}
	d->lines.len = 0; /* no events from a release */
	port_close(d, &d->con);
	port_close(d, &d->hb);
	evtimer_del(d->kill_ev);
	if (!d->defined) { /* a defined domain's sockets are libvirt's */
		unlink(d->con.path);
		unlink(d->hb.path);
	}
	if (d->gdb_dir[0] != '\0')
		gdb_rmdir(d->gdb_dir);
	d->gdb_dir[0] = '\0';
	d->in = NULL;
	in->bdata = NULL;
	if (d->jobs == 0)
		lv_free(d);
}

const struct backend_ops backend_libvirt = {
    .name = "libvirt",
    .boot = lv_boot,
    .pause = lv_pause,
    .resume = lv_resume,
    .stop = lv_stop,
    .gdb_open = lv_gdb_open,
    .pid = lv_pid,
    .release = lv_release,
};
