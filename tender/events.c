/*
 * events.c: what the tender reports.  With --control-fd every event is one
 * framed message (include/summoner/ctlproto.h); without it, console output
 * passes through to stdout untouched (as solo5-hvt does, so scripts that
 * grep the guest's output keep working) and events are printed readably on
 * stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tender.h"

static void
ctl_send(struct tender *t, unsigned type, const void *fixed, size_t fixedlen,
    const void *text, size_t textlen)
{
	uint8_t buf[CTL_HDR_SIZE + sizeof(struct ctl_fault) + CTL_MAX_TEXT];
	const uint8_t *p = buf;
	ssize_t n;
	int len;

	len =
	    ctl_encode(buf, sizeof(buf), type, fixed, fixedlen, text, textlen);
	if (len < 0) {
		fprintf(stderr, "summoner-tender: cannot encode %s: %s\n",
		    ctl_type_name(type), ctl_strerror(len));
		return;
	}
	while (len > 0) {
		n = write(t->ctl_fd, p, (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The parent is gone: nobody is left to tell. */
			_exit(TENDER_EXIT_STOPPED);
		}
		p += n;
		len -= (int)n;
	}
}

static double
ms_since_start(const struct tender *t)
{
	return (double)(tender_now_ns() - t->t_start) / 1e6;
}

void
ev_booted(struct tender *t, uint64_t entry, uint64_t kernel_end)
{
	struct ctl_booted b = {
	    .t_ns = tender_now_ns(),
	    .mem_size = t->mem_size,
	    .entry = entry,
	    .kernel_end = kernel_end,
	    .t_start_ns = t->t_start,
	};

	if (t->ctl_fd >= 0)
		ctl_send(t, CTL_BOOTED, &b, sizeof(b), NULL, 0);
}

void
ev_ready(struct tender *t)
{
	struct ctl_ready r = {.t_ns = tender_now_ns()};

	if (t->ctl_fd >= 0) {
		ev_console_flush(t);
		ctl_send(t, CTL_READY, &r, sizeof(r), NULL, 0);
	} else
		fprintf(stderr, "summoner-tender: ready after %.3f ms\n",
		    ms_since_start(t));
}

void
ev_heartbeat(struct tender *t, uint64_t seq, uint64_t progress, uint32_t flags,
    uint32_t conns, const char *status, size_t statuslen)
{
	struct ctl_heartbeat h = {
	    .t_ns = tender_now_ns(),
	    .seq = seq,
	    .progress = progress,
	    .flags = flags,
	    .conns = conns,
	};

	if (t->ctl_fd >= 0) {
		ctl_send(t, CTL_HEARTBEAT, &h, sizeof(h), status, statuslen);
		return;
	}
	fprintf(stderr, "summoner-tender: heartbeat seq=%llu",
	    (unsigned long long)seq);
	if (flags & CTL_HB_HAS_PROGRESS)
		fprintf(stderr, " progress=%llu", (unsigned long long)progress);
	if (flags & CTL_HB_HAS_CONNS)
		fprintf(stderr, " conns=%u", conns);
	if (flags & CTL_HB_HAS_STATUS)
		fprintf(stderr, " status=\"%.*s\"", (int)statuslen, status);
	fputc('\n', stderr);
}

void
ev_log(struct tender *t, const char *text, size_t len)
{
	struct ctl_text x = {.t_ns = tender_now_ns()};

	if (t->ctl_fd >= 0)
		ctl_send(t, CTL_LOG, &x, sizeof(x), text, len);
	else
		fprintf(stderr, "summoner-tender: log: %.*s\n",
		    (int)(len > CTL_MAX_TEXT ? CTL_MAX_TEXT : len), text);
}

void
ev_logf(struct tender *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ev_log(
	    t, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void
ev_console_flush(struct tender *t)
{
	struct ctl_text x;

	if (t->ctl_fd < 0 || t->con_len == 0)
		return;
	x.t_ns = tender_now_ns();
	ctl_send(t, CTL_CONSOLE, &x, sizeof(x), t->con_buf, t->con_len);
	t->con_len = 0;
}

/*
 * The console tail: a ring of the last TENDER_CON_TAIL bytes, kept in both
 * modes so a fault's console.txt shows what led up to it.
 */
static void
tail_append(struct tender *t, const char *data, size_t len)
{
	size_t pos, n;

	if (len > TENDER_CON_TAIL) {
		t->con_tail_total += len - TENDER_CON_TAIL;
		data += len - TENDER_CON_TAIL;
		len = TENDER_CON_TAIL;
	}
	while (len > 0) {
		pos = (size_t)(t->con_tail_total % TENDER_CON_TAIL);
		n = TENDER_CON_TAIL - pos;
		if (n > len)
			n = len;
		memcpy(t->con_tail + pos, data, n);
		t->con_tail_total += n;
		data += n;
		len -= n;
	}
}

size_t
ev_console_tail(const struct tender *t, char *out, size_t outsz)
{
	uint64_t have = t->con_tail_total < TENDER_CON_TAIL ? t->con_tail_total
	                                                    : TENDER_CON_TAIL;
	size_t start, first, n;

	n = have < outsz ? (size_t)have : outsz;
	/* the newest n bytes end where the next byte would go */
	start = (size_t)((t->con_tail_total - n) % TENDER_CON_TAIL);
	first = TENDER_CON_TAIL - start;
	if (first > n)
		first = n;
	memcpy(out, t->con_tail + start, first);
	memcpy(out + first, t->con_tail, n - first);
	return n;
}

/*
 * Console output becomes one CONSOLE event per line (without its newline);
 * a line longer than CTL_MAX_TEXT is sent in pieces.  A partial line waits
 * until the newline, a POLL, or the end of the guest.
 */
void
ev_console(struct tender *t, const char *data, size_t len)
{
	size_t i;

	tail_append(t, data, len);
	if (t->ctl_fd < 0) {
		fwrite(data, 1, len, stdout);
		fflush(stdout);
		return;
	}
	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			struct ctl_text x = {.t_ns = tender_now_ns()};

			ctl_send(t, CTL_CONSOLE, &x, sizeof(x), t->con_buf,
			    t->con_len);
			t->con_len = 0;
			continue;
		}
		if (t->con_len == sizeof(t->con_buf))
			ev_console_flush(t);
		t->con_buf[t->con_len++] = data[i];
	}
}

static const char *const reg_names[CTL_NREGS] = {
    "rax",
    "rbx",
    "rcx",
    "rdx",
    "rsi",
    "rdi",
    "rbp",
    "rsp",
    "r8",
    "r9",
    "r10",
    "r11",
    "r12",
    "r13",
    "r14",
    "r15",
};

void
ev_fault(struct tender *t)
{
	const struct ctl_fault *f = &t->fault;
	int i;

	t->fault.t_ns = tender_now_ns();
	if (t->ctl_fd >= 0) {
		ev_console_flush(t);
		ctl_send(
		    t, CTL_FAULT, f, sizeof(*f), t->fault_msg, t->fault_msglen);
		return;
	}
	fflush(stdout);
	fprintf(
	    stderr, "summoner-tender: fault: %s", ctl_fault_kind_name(f->kind));
	if (f->vector != ~0ull)
		fprintf(stderr, " vector=%llu", (unsigned long long)f->vector);
	if (f->hcall != 0)
		fprintf(stderr, " hypercall=%u", f->hcall);
	fprintf(stderr, ": %.*s\n", (int)t->fault_msglen, t->fault_msg);
	fprintf(stderr,
	    "  registers from the %s\n"
	    "  rip=0x%016llx rflags=0x%016llx cr2=0x%016llx err=0x%llx\n",
	    (f->source & CTL_REGS_GUEST) ? "guest's trap frame" : "vCPU",
	    (unsigned long long)f->rip, (unsigned long long)f->rflags,
	    (unsigned long long)f->cr2, (unsigned long long)f->error_code);
	for (i = 0; i < CTL_NREGS; i++)
		fprintf(stderr, "  %-3s=0x%016llx%s", reg_names[i],
		    (unsigned long long)f->regs[i], i % 4 == 3 ? "\n" : "");
	fprintf(stderr,
	    "  cs=0x%04x ss=0x%04x ds=0x%04x es=0x%04x fs=0x%04x gs=0x%04x\n",
	    f->cs, f->ss, f->ds, f->es, f->fs, f->gs);
}

/* "0x<pc> func+0x<off>" or "0x<pc> ?": one backtrace line. */
static int
frame_line(char *buf, size_t sz, const struct fault_frame *fr)
{
	if (fr->func[0] != '\0')
		return snprintf(buf, sz, "0x%llx %s+0x%llx",
		    (unsigned long long)fr->pc, fr->func,
		    (unsigned long long)fr->offset);
	return snprintf(buf, sz, "0x%llx ?", (unsigned long long)fr->pc);
}

void
ev_captured(struct tender *t)
{
	const struct fault_info *c = &t->cap;
	struct ctl_captured x = {.flags = c->written};
	char text[CTL_MAX_TEXT], line[FAULT_FUNC_MAX + 64];
	size_t len, dirlen = strnlen(c->dir, sizeof(c->dir));
	unsigned i;
	int n;

	if (t->ctl_fd < 0) {
		fflush(stdout);
		if (c->dir[0] != '\0')
			fprintf(stderr,
			    "summoner-tender: fault captured in %s (%s%s%s) "
			    "in %.1f us\n",
			    c->dir,
			    (c->written & CTL_CAPTURED_CORE) ? "core " : "",
			    (c->written & CTL_CAPTURED_TAIL) ? "console.txt "
			                                     : "",
			    (c->written & CTL_CAPTURED_REPORT) ? "report.json"
			                                       : "",
			    (double)(c->t_done_ns - c->t_exit_ns) / 1e3);
		fprintf(stderr, "summoner-tender: backtrace:\n");
		for (i = 0; i < c->nframes; i++) {
			frame_line(line, sizeof(line), &c->frames[i]);
			fprintf(stderr, "  #%-2u %s\n", i, line);
		}
		return;
	}
	/* The directory first (a path longer than the text leaves it out:
	 * an absent directory is better than a wrong one). */
	len = 0;
	if (dirlen < sizeof(text)) {
		memcpy(text, c->dir, dirlen);
		len = dirlen;
	}
	for (i = 0; i < c->nframes; i++) {
		n = frame_line(line, sizeof(line), &c->frames[i]);
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    len + 1 + (size_t)n > sizeof(text))
			break;
		text[len++] = '\n';
		memcpy(text + len, line, (size_t)n);
		len += (size_t)n;
	}
	x.nframes = i;
	x.t_ns = tender_now_ns();
	ctl_send(t, CTL_CAPTURED, &x, sizeof(x), text, len);
}

void
ev_exited(struct tender *t, int status, unsigned reason)
{
	struct ctl_exited x = {
	    .t_ns = tender_now_ns(),
	    .status = status,
	    .reason = reason,
	};
	static const char *const why[] = {
	    [CTL_EXIT_GUEST] = "guest exited",
	    [CTL_EXIT_STOPPED] = "stopped",
	    [CTL_EXIT_FAULT] = "guest faulted",
	    [CTL_EXIT_ERROR] = "host error",
	};

	if (t->ctl_fd >= 0) {
		ev_console_flush(t);
		ctl_send(t, CTL_EXITED, &x, sizeof(x), NULL, 0);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "summoner-tender: %s, exit status %d after %.3f ms\n",
	    reason < sizeof(why) / sizeof(why[0]) && why[reason] ? why[reason]
	                                                         : "exited",
	    status, ms_since_start(t));
}

void
ev_paused(struct tender *t, bool paused)
{
	struct ctl_text x = {.t_ns = tender_now_ns()};

	if (t->ctl_fd >= 0)
		ctl_send(t, paused ? CTL_PAUSED : CTL_RESUMED, &x, sizeof(x),
		    NULL, 0);
	else
		fprintf(stderr, "summoner-tender: %s\n",
		    paused ? "paused" : "resumed");
}
