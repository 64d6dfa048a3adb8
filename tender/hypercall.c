/*
 * hypercall.c: the guest's requests, one handler per hypercall number.
 *
 * The guest is hostile until proven otherwise: the argument struct's address
 * and every address and length inside it are checked against guest memory
 * before use, and anything malformed becomes a bad-hypercall fault instead
 * of being served.  Requests that are well-formed but not satisfiable (an
 * unknown device handle, a misaligned block offset) get HVT_EINVAL, as
 * under solo5-hvt.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "health/health.h"
#include "tender.h"

enum hc_result
hc_fault(struct tender *t, unsigned kind, unsigned hcall, const char *fmt, ...)
{
	va_list ap;
	int n;

	memset(&t->fault, 0, sizeof(t->fault));
	t->frame_partial = false;
	t->fault.kind = kind;
	t->fault.vector = ~0ull;
	t->fault.hcall = hcall;
	va_start(ap, fmt);
	n = vsnprintf(t->fault_msg, sizeof(t->fault_msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	t->fault_msglen = (size_t)n < sizeof(t->fault_msg)
	                      ? (size_t)n
	                      : sizeof(t->fault_msg) - 1;
	return HC_FAULT;
}

/*
 * The argument struct: in guest memory, naturally aligned (so that reading
 * its u64 fields is defined behaviour), wholly inside the guest.
 */
static void *
hc_arg(struct tender *t, unsigned nr, uint32_t gpa, size_t size)
{
	void *p;

	if (gpa % 8 != 0) {
		hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: argument at 0x%x is not 8-byte aligned", nr,
		    gpa);
		return NULL;
	}
	if ((p = gmem_ptr(t, gpa, size)) == NULL)
		hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: argument at 0x%x (%zu bytes) is outside "
		    "guest memory",
		    nr, gpa, size);
	return p;
}

/* A buffer named by the guest; NULL (and a fault recorded) if it is not
 * wholly inside guest memory. */
static void *
hc_buf(struct tender *t, unsigned nr, uint64_t gpa, uint64_t len)
{
	void *p;

	if ((p = gmem_ptr(t, gpa, len)) == NULL)
		hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: buffer 0x%llx+%llu is outside guest "
		    "memory (%llu bytes)",
		    nr, (unsigned long long)gpa, (unsigned long long)len,
		    (unsigned long long)t->mem_size);
	return p;
}

static struct tender_dev *
hc_dev(struct tender *t, uint64_t handle, uint32_t type)
{
	struct tender_dev *d;

	if (handle >= t->ndev_handles)
		return NULL;
	d = t->dev_by_handle[handle];
	if (d == NULL || d->type != type)
		return NULL;
	return d;
}

static enum hc_result
hc_walltime(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_walltime *a;
	struct timespec ts;

	if ((a = hc_arg(t, HVT_HC_WALLTIME, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	clock_gettime(CLOCK_REALTIME, &ts);
	a->nsecs = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return HC_CONTINUE;
}

static enum hc_result
hc_puts(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_puts *a;
	const char *s;

	if ((a = hc_arg(t, HVT_HC_PUTS, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((s = hc_buf(t, HVT_HC_PUTS, a->data, a->len)) == NULL)
		return HC_FAULT;
	ev_console(t, s, a->len);
	return HC_CONTINUE;
}

/*
 * POLL: wait for input on a net device, a command from the parent, or the
 * timeout.  Commands are applied here too, so a guest sleeping in POLL is
 * paused or stopped as promptly as a running one.
 */
static enum hc_result
hc_poll(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_poll *a;
	struct pollfd pfd[TENDER_MAX_DEVICES + 1];
	unsigned idx[TENDER_MAX_DEVICES];
	struct timespec ts;
	uint64_t timeout, ready = 0;
	nfds_t n = 0;
	unsigned i;
	int r;

	if ((a = hc_arg(t, HVT_HC_POLL, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	timeout = a->timeout_nsecs;
	for (i = 0; i < t->ndev_handles; i++) {
		struct tender_dev *d = t->dev_by_handle[i];

		if (d == NULL || d->type != HVT_MFT_DEV_NET_BASIC)
			continue;
		pfd[n].fd = d->fd;
		pfd[n].events = POLLIN;
		idx[n] = i;
		n++;
	}
	pfd[n].fd = t->cmd_rd;
	pfd[n].events = POLLIN;

	ev_console_flush(t);
	ts.tv_sec = (time_t)(timeout / 1000000000ull);
	ts.tv_nsec = (long)(timeout % 1000000000ull);
	r = ppoll(pfd, n + 1, &ts, NULL);
	if (r < 0 && errno != EINTR)
		return hc_fault(t, CTL_FAULT_HOST_ERROR, HVT_HC_POLL,
		    "poll: %s", strerror(errno));
	if (r > 0) {
		for (i = 0; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
				ready |= 1ull << idx[i];
	}
	if (t->cmd_rd >= 0)
		control_apply(t);
	a->ready_set = ready;
	a->ret = HVT_OK;
	return HC_CONTINUE;
}

static enum hc_result
hc_block(struct tender *t, unsigned nr, uint32_t gpa)
{
	struct hvt_hc_block_io *a;
	struct tender_dev *d;
	uint8_t *buf;
	ssize_t done;

	if ((a = hc_arg(t, nr, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((buf = hc_buf(t, nr, a->data, a->len)) == NULL)
		return HC_FAULT;
	d = hc_dev(t, a->handle, HVT_MFT_DEV_BLOCK_BASIC);
	if (d == NULL || a->len == 0 || a->offset % d->block_size != 0 ||
	    a->len % d->block_size != 0 || a->offset > d->capacity ||
	    a->len > d->capacity - a->offset) {
		a->ret = HVT_EINVAL;
		return HC_CONTINUE;
	}
	if (nr == HVT_HC_BLOCK_WRITE)
		done = pwrite(d->fd, buf, a->len, (off_t)a->offset);
	else
		done = pread(d->fd, buf, a->len, (off_t)a->offset);
	a->ret = done == (ssize_t)a->len ? HVT_OK : HVT_EUNSPEC;
	return HC_CONTINUE;
}

static enum hc_result
hc_net_write(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_net_write *a;
	struct tender_dev *d;
	const uint8_t *buf;
	ssize_t done;

	if ((a = hc_arg(t, HVT_HC_NET_WRITE, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((buf = hc_buf(t, HVT_HC_NET_WRITE, a->data, a->len)) == NULL)
		return HC_FAULT;
	d = hc_dev(t, a->handle, HVT_MFT_DEV_NET_BASIC);
	if (d == NULL || a->len == 0 || a->len > (uint64_t)d->mtu + 14) {
		a->ret = HVT_EINVAL;
		return HC_CONTINUE;
	}
	done = write(d->fd, buf, a->len);
	a->ret = done == (ssize_t)a->len ? HVT_OK : HVT_EUNSPEC;
	return HC_CONTINUE;
}

static enum hc_result
hc_net_read(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_net_read *a;
	struct tender_dev *d;
	uint8_t *buf;
	ssize_t done;

	if ((a = hc_arg(t, HVT_HC_NET_READ, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((buf = hc_buf(t, HVT_HC_NET_READ, a->data, a->len)) == NULL)
		return HC_FAULT;
	d = hc_dev(t, a->handle, HVT_MFT_DEV_NET_BASIC);
	if (d == NULL || a->len < (uint64_t)d->mtu + 14) {
		a->ret = HVT_EINVAL;
		return HC_CONTINUE;
	}
	done = read(d->fd, buf, a->len);
	if (done < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		a->ret = HVT_EAGAIN;
		return HC_CONTINUE;
	}
	if (done <= 0) {
		a->ret = HVT_EUNSPEC;
		return HC_CONTINUE;
	}
	a->len = (uint64_t)done;
	a->ret = HVT_OK;
	return HC_CONTINUE;
}

/*
 * The trap frame Solo5's runtime passes as the HALT cookie on abort:
 * seven u64 values.  We report them as the guest's view of the fault.
 */
struct solo5_trap_frame {
	uint64_t cr2, ec, rip, cs, rflags, rsp, ss;
};

static enum hc_result
hc_halt(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_halt *a;
	const struct solo5_trap_frame *tf;

	if ((a = hc_arg(t, HVT_HC_HALT, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	t->exit_status = a->exit_status & 0xff;
	if (t->exit_status != HVT_EXIT_ABORT)
		return HC_HALT;
	/* An abort is also a fault, reported with the vCPU's registers; the
	 * guest's trap frame, if it gave one, is what it saw at the trap. */
	hc_fault(t, CTL_FAULT_ABORT, 0, "guest aborted (HALT 255)");
	if (a->cookie != 0 && a->cookie % 8 == 0 &&
	    (tf = gmem_ptr(t, a->cookie, sizeof(*tf))) != NULL) {
		t->fault.cr2 = tf->cr2;
		t->fault.error_code = tf->ec;
		t->fault.rip = tf->rip;
		t->fault.cs = (uint16_t)tf->cs;
		t->fault.rflags = tf->rflags;
		t->fault.regs[HVT_X_RSP] = tf->rsp;
		t->fault.ss = (uint16_t)tf->ss;
		t->fault.source = CTL_REGS_GUEST;
		t->frame_partial = true;
	}
	return HC_HALT;
}

static enum hc_result
hc_notify(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_x_text *a;
	struct health_msg m;
	const char *s;
	size_t errpos = 0;
	int r;

	if ((a = hc_arg(t, HVT_HC_X_NOTIFY, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((s = hc_buf(t, HVT_HC_X_NOTIFY, a->data, a->len)) == NULL)
		return HC_FAULT;
	if ((r = health_msg_parse(s, a->len, &m, &errpos)) != 0) {
		char line[128];
		int n;

		n = snprintf(line, sizeof(line),
		    "refused heartbeat message: %s at byte %zu",
		    health_parse_strerror(r), errpos);
		ev_log(t, line, (size_t)n);
		a->ret = HVT_EINVAL;
		return HC_CONTINUE;
	}
	a->ret = HVT_OK;
	if ((m.flags & HEALTH_MSG_READY) && !t->ready_sent) {
		t->ready_sent = true;
		ev_ready(t);
	}
	if (m.flags & (HEALTH_MSG_WATCHDOG | HEALTH_MSG_HAS_STATUS)) {
		uint32_t fl = 0;

		t->beats++;
		if (m.flags & HEALTH_MSG_HAS_PROGRESS)
			fl |= CTL_HB_HAS_PROGRESS;
		if (m.flags & HEALTH_MSG_HAS_STATUS)
			fl |= CTL_HB_HAS_STATUS;
		if (m.flags & HEALTH_MSG_HAS_CONNS)
			fl |= CTL_HB_HAS_CONNS;
		if (m.flags & HEALTH_MSG_HAS_SEQ)
			fl |= CTL_HB_HAS_SEQ;
		ev_heartbeat(t,
		    (m.flags & HEALTH_MSG_HAS_SEQ) ? m.seq : t->beats,
		    m.progress, fl, m.conns, m.status, m.status_len);
	}
	if (m.flags & HEALTH_MSG_HAS_LOG)
		ev_log(t, m.log, m.log_len);
	if (m.flags & HEALTH_MSG_HAS_FAULT)
		return hc_fault(t, CTL_FAULT_ABORT, HVT_HC_X_NOTIFY, "%.*s",
		    (int)m.fault_len, m.fault);
	return HC_CONTINUE;
}

static enum hc_result
hc_log(struct tender *t, uint32_t gpa)
{
	struct hvt_hc_x_text *a;
	const char *s;

	if ((a = hc_arg(t, HVT_HC_X_LOG, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if ((s = hc_buf(t, HVT_HC_X_LOG, a->data, a->len)) == NULL)
		return HC_FAULT;
	if (a->len > HVT_X_TEXT_MAX) {
		a->ret = HVT_EINVAL;
		return HC_CONTINUE;
	}
	ev_log(t, s, a->len);
	a->ret = HVT_OK;
	return HC_CONTINUE;
}

/*
 * X_FAULT and X_DUMP: the guest's own register frame.  For a fault, the
 * registers reported are the guest's (taken at the trap, before its handler
 * ran), which is what an operator wants; the vCPU's current registers only
 * show the handler.
 */
static enum hc_result
hc_frame(struct tender *t, unsigned nr, uint32_t gpa)
{
	struct hvt_hc_x_fault *a;
	const struct hvt_x_frame *f;
	const char *msg = "";
	unsigned kind;

	if ((a = hc_arg(t, nr, gpa, sizeof(*a))) == NULL)
		return HC_FAULT;
	if (a->frame % 8 != 0 ||
	    (f = gmem_ptr(t, a->frame, sizeof(*f))) == NULL)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: register frame at 0x%llx is outside guest "
		    "memory or misaligned",
		    nr, (unsigned long long)a->frame);
	if (f->version != HVT_X_FRAME_VERSION)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: register frame version %u, expected %u", nr,
		    f->version, HVT_X_FRAME_VERSION);
	if (f->msglen > HVT_X_TEXT_MAX)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: message of %llu bytes (at most %u)", nr,
		    (unsigned long long)f->msglen, HVT_X_TEXT_MAX);
	if (f->msglen > 0 && (msg = hc_buf(t, nr, f->msg, f->msglen)) == NULL)
		return HC_FAULT;

	if (nr == HVT_HC_X_DUMP)
		kind = CTL_FAULT_DUMP;
	else if (f->kind == HVT_X_FAULT_EXCEPTION)
		kind = CTL_FAULT_EXCEPTION;
	else
		kind = CTL_FAULT_ABORT;
	hc_fault(t, kind, 0, "%.*s", (int)f->msglen, msg);
	t->fault.source = CTL_REGS_GUEST;
	t->fault.vector = kind == CTL_FAULT_EXCEPTION ? f->vector : ~0ull;
	t->fault.error_code = f->error_code;
	t->fault.cr2 = f->cr2;
	memcpy(t->fault.regs, f->regs, sizeof(t->fault.regs));
	t->fault.rip = f->rip;
	t->fault.rflags = f->rflags;
	t->fault.cs = (uint16_t)f->cs;
	t->fault.ss = (uint16_t)f->ss;
	if (nr == HVT_HC_X_DUMP) {
		ev_fault(t);
		a->ret = HVT_OK;
		return HC_CONTINUE;
	}
	return HC_FAULT;
}

enum hc_result
hc_dispatch(
    struct tender *t, unsigned port, unsigned size, bool out, uint32_t value)
{
	unsigned nr;

	if (port < HVT_HC_BASE || port >= HVT_HC_BASE + HVT_HC_MAX)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, 0,
		    "%s of port 0x%x: not a hypercall port", out ? "out" : "in",
		    port);
	nr = port - HVT_HC_BASE;
	if (!out || size != 4)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: %u-byte %s, expected a 4-byte out", nr, size,
		    out ? "out" : "in");

	switch (nr) {
	case HVT_HC_WALLTIME:
		return hc_walltime(t, value);
	case HVT_HC_PUTS:
		return hc_puts(t, value);
	case HVT_HC_POLL:
		return hc_poll(t, value);
	case HVT_HC_BLOCK_WRITE:
	case HVT_HC_BLOCK_READ:
		return hc_block(t, nr, value);
	case HVT_HC_NET_WRITE:
		return hc_net_write(t, value);
	case HVT_HC_NET_READ:
		return hc_net_read(t, value);
	case HVT_HC_HALT:
		return hc_halt(t, value);
	case HVT_HC_X_NOTIFY:
		return hc_notify(t, value);
	case HVT_HC_X_LOG:
		return hc_log(t, value);
	case HVT_HC_X_FAULT:
	case HVT_HC_X_DUMP:
		return hc_frame(t, nr, value);
	default:
		return hc_fault(t, CTL_FAULT_BAD_HCALL, nr,
		    "hypercall %u: no such hypercall", nr);
	}
}
