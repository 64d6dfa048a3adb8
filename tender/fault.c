/*
 * fault.c: what the tender does between a guest fault and the parent's
 * decision.
 *
 * The vCPU is frozen (nothing calls KVM_RUN again), so guest memory and the
 * registers read by vm.c hold still while we look at them.  Capture is on
 * the fault-to-decision path, so it does no more than it must: one walk of
 * the frame-pointer chain, one mincore() of guest memory, and three files
 * written without fsync (docs/fault-report.md).  Guest memory is untrusted
 * and only read through gmem_ptr().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tender.h"

void (*tender_on_gdb_open)(struct tender *t, struct vm *vm);

/* How deep to look for the record of the function an abort came from. */
#define UNWIND_SEARCH 64

static void
symbolise(const struct tender *t, struct fault_frame *fr, uint64_t lookup)
{
	uint64_t off = 0;

	fr->func[0] = '\0';
	fr->offset = 0;
	if (t->img == NULL || elf_symbolize(t->img, t->imglen, &t->ei, lookup,
	                          fr->func, sizeof(fr->func), &off) < 0) {
		fr->func[0] = '\0';
		return;
	}
	/* the offset of pc itself, not of the address looked up */
	fr->offset = off + (fr->pc - lookup);
}

unsigned
fault_backtrace(const struct tender *t, uint64_t rip, uint64_t rbp,
    struct fault_frame *out, unsigned max)
{
	const uint64_t *rec;
	unsigned n = 0;

	if (max == 0)
		return 0;
	out[n].pc = rip;
	symbolise(t, &out[n], rip);
	n++;
	while (n < max) {
		uint64_t next, ret;

		if (rbp == 0 || rbp % 8 != 0 ||
		    (rec = gmem_ptr(t, rbp, 16)) == NULL)
			break;
		next = rec[0];
		ret = rec[1];
		if (ret == 0)
			break;
		out[n].pc = ret;
		/* A return address may lie just past a noreturn call that
		 * ends its function: look up the call itself. */
		symbolise(t, &out[n], ret - 1);
		n++;
		if (next <= rbp)
			break;
		rbp = next;
	}
	return n;
}

/*
 * HALT 255 with Solo5's trap frame cookie gives rip and rsp of the
 * function that aborted but not its rbp; the vCPU's rbp heads the chain of
 * the abort path.  Walk that chain to the frame record just below the
 * reported rsp (the record of the function the abort called): its saved
 * rbp is the aborting function's.  0 when there is none.
 */
static uint64_t
unwind_rbp(const struct tender *t, uint64_t rbp, uint64_t rsp)
{
	const uint64_t *rec;
	unsigned i;

	for (i = 0; i < UNWIND_SEARCH; i++) {
		if (rbp == 0 || rbp % 8 != 0 ||
		    (rec = gmem_ptr(t, rbp, 16)) == NULL)
			return 0;
		if (rbp + 16 == rsp)
			return rec[0];
		if (rbp + 16 > rsp || rec[0] <= rbp)
			return 0;
		rbp = rec[0];
	}
	return 0;
}

/* The registers at the fault, and where each came from. */
static void
fault_regs(struct tender *t)
{
	const struct ctl_fault *f = &t->fault;
	struct fault_info *c = &t->cap;
	bool guest = (f->source & CTL_REGS_GUEST) != 0;
	bool partial = guest && t->frame_partial;
	uint8_t src = guest && !partial ? FAULT_SRC_GUEST : FAULT_SRC_VCPU;
	uint64_t rbp;
	unsigned i;

	memcpy(c->regs, f->regs, sizeof(c->regs));
	c->rip = f->rip;
	c->rflags = f->rflags;
	for (i = 0; i < CTL_NREGS + 2; i++)
		c->src[i] = src;
	if (!partial)
		return;
	c->src[HVT_X_RSP] = c->src[CTL_NREGS] = c->src[CTL_NREGS + 1] =
	    FAULT_SRC_GUEST;
	rbp = unwind_rbp(t, c->cpu.regs[HVT_X_RBP], f->regs[HVT_X_RSP]);
	if (rbp != 0) {
		c->regs[HVT_X_RBP] = rbp;
		c->src[HVT_X_RBP] = FAULT_SRC_UNWOUND;
	}
}

/* Create (or reuse) the fault directory; its descriptor, or -1. */
static int
open_dir(struct tender *t)
{
	char *abs;
	int fd;

	if (mkdir(t->fault_dir, 0700) < 0 && errno != EEXIST) {
		ev_logf(t, "fault capture: mkdir %s: %s", t->fault_dir,
		    strerror(errno));
		return -1;
	}
	fd =
	    open(t->fault_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ev_logf(
		    t, "fault capture: %s: %s", t->fault_dir, strerror(errno));
		return -1;
	}
	if ((abs = realpath(t->fault_dir, NULL)) != NULL &&
	    strlen(abs) < sizeof(t->cap.dir))
		strcpy(t->cap.dir, abs);
	else
		snprintf(t->cap.dir, sizeof(t->cap.dir), "%s", t->fault_dir);
	free(abs);
	return fd;
}

static int
create_at(struct tender *t, int dfd, const char *name)
{
	int fd;

	fd = openat(dfd, name,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		ev_logf(t, "fault capture: %s/%s: %s", t->cap.dir, name,
		    strerror(errno));
	return fd;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
write_artifacts(struct tender *t)
{
	char tail[TENDER_CON_TAIL];
	size_t n;
	int dfd, fd;

	if ((dfd = open_dir(t)) < 0)
		return;
	if ((fd = create_at(t, dfd, "core")) >= 0) {
		if (core_write(fd, t) == 0)
			t->cap.written |= CTL_CAPTURED_CORE;
		else
			ev_logf(t, "fault capture: %s/core: %s", t->cap.dir,
			    strerror(errno));
		close(fd);
	}
	if ((fd = create_at(t, dfd, "console.txt")) >= 0) {
		n = ev_console_tail(t, tail, sizeof(tail));
		if (write_all(fd, tail, n) == 0)
			t->cap.written |= CTL_CAPTURED_TAIL;
		else
			ev_logf(t, "fault capture: %s/console.txt: %s",
			    t->cap.dir, strerror(errno));
		close(fd);
	}
	/* Last, so that it can list what was written.  No rename dance: the
	 * parent reads it only after CAPTURED. */
	if ((fd = create_at(t, dfd, "report.json")) >= 0) {
		t->cap.written |= CTL_CAPTURED_REPORT;
		t->cap.t_done_ns = tender_now_ns();
		if (report_write(fd, t) < 0) {
			t->cap.written &= ~(uint32_t)CTL_CAPTURED_REPORT;
			ev_logf(t, "fault capture: %s/report.json: %s",
			    t->cap.dir, strerror(errno));
		}
		close(fd);
	}
	close(dfd);
}

void
fault_capture(struct tender *t)
{
	struct fault_info *c = &t->cap;
	struct timespec ts;

	if (c->t_exit_ns == 0)
		c->t_exit_ns = tender_now_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	c->t_wall_ns =
	    (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	c->dir[0] = '\0';
	c->written = 0;
	fault_regs(t);
	c->nframes = fault_backtrace(
	    t, c->rip, c->regs[HVT_X_RBP], c->frames, FAULT_MAX_FRAMES);
	if (t->fault_dir != NULL)
		write_artifacts(t);
	c->t_done_ns = tender_now_ns();
	ev_captured(t);
}

static void
gdb_open(struct tender *t, struct vm *vm)
{
	if (tender_on_gdb_open == NULL) {
		ev_logf(t, "gdb stub not available");
		return;
	}
	tender_on_gdb_open(t, vm);
}

void
fault_wait(struct tender *t, struct vm *vm)
{
	struct pollfd pfd;
	ssize_t n;
	char cmd;

	if (t->gdb_spec != NULL)
		gdb_open(t, vm);
	if (t->ctl_fd < 0 || t->cmd_rd < 0)
		tender_exit(t, t->cap.exit_status, t->cap.exit_reason);
	for (;;) {
		n = read(t->cmd_rd, &cmd, 1);
		if (n == 1) {
			switch (cmd) {
			case TENDER_CMD_STOP: /* or end of channel, SIGTERM */
				tender_exit(
				    t, t->cap.exit_status, t->cap.exit_reason);
			case TENDER_CMD_GDB_OPEN:
				gdb_open(t, vm);
				break;
			default:
				/* PAUSE/RESUME: the guest is frozen for good.
				 */
				ev_logf(t, "the guest faulted: only STOP and "
				           "GDB_OPEN apply");
				break;
			}
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* The command pipe is broken: nobody can decide. */
			tender_exit(t, t->cap.exit_status, t->cap.exit_reason);
		}
		pfd.fd = t->cmd_rd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, -1);
	}
}
