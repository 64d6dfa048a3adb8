/*
 * test_hypercall.c: hypercall argument validation and semantics, without
 * KVM: the handlers run against a plain buffer standing in for guest memory
 * and report over a socketpair standing in for the control channel.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tender/tender.h"

#define MEM_SIZE (4u << 20)
#define ARG      0x200000u /* where tests put argument structs */
#define DATA     0x300000u /* and buffers */

struct fixture {
	struct tender t;
	int peer; /* our end of the control channel */
	struct tender_dev blk, net;
	int net_peer;
	char blkpath[64];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	f->t.mem = calloc(1, MEM_SIZE);
	assert_non_null(f->t.mem);
	f->t.mem_size = MEM_SIZE;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->t.ctl_fd = sv[0];
	f->peer = sv[1];
	fcntl(f->peer, F_SETFL, O_NONBLOCK);
	f->t.cmd_rd = f->t.cmd_wr = -1;

	/* handle 0: a 16-block file; handle 1: a datagram "tap" */
	snprintf(f->blkpath, sizeof(f->blkpath), "/tmp/test_hc.XXXXXX");
	f->blk.fd = mkstemp(f->blkpath);
	assert_true(f->blk.fd >= 0);
	assert_int_equal(ftruncate(f->blk.fd, 16 * 512), 0);
	f->blk.type = HVT_MFT_DEV_BLOCK_BASIC;
	f->blk.block_size = 512;
	f->blk.capacity = 16 * 512;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f->net.fd = sv[0];
	f->net_peer = sv[1];
	f->net.type = HVT_MFT_DEV_NET_BASIC;
	f->net.mtu = 1500;
	f->t.dev_by_handle[0] = &f->blk;
	f->t.dev_by_handle[1] = &f->net;
	f->t.ndev_handles = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	close(f->t.ctl_fd);
	close(f->peer);
	close(f->blk.fd);
	unlink(f->blkpath);
	close(f->net.fd);
	close(f->net_peer);
	free(f->t.mem);
	free(f);
	return 0;
}

static void *
at(struct fixture *f, uint32_t gpa)
{
	return f->t.mem + gpa;
}

static enum hc_result
call(struct fixture *f, unsigned nr, uint32_t gpa)
{
	return hc_dispatch(&f->t, HVT_HC_PORT(nr), 4, true, gpa);
}

/* Next event on the control channel: its type, text copied out. */
static int
next_event(
    struct fixture *f, void *fixed, size_t fixedsz, char *text, size_t textsz)
{
	static struct ctl_reader r;
	static int init;
	struct ctl_hdr h;
	const uint8_t *p;
	const char *tx;
	size_t txlen;
	uint8_t buf[8192];
	ssize_t n;

	if (!init) {
		ctl_reader_init(&r);
		init = 1;
	}
	while ((n = read(f->peer, buf, sizeof(buf))) > 0)
		assert_int_equal(ctl_reader_feed(&r, buf, (size_t)n), CTL_OK);
	if (ctl_reader_next(&r, &h, &p) != CTL_OK)
		return -1;
	assert_int_equal(ctl_payload(&h, p, &tx, &txlen), CTL_OK);
	if (fixed != NULL)
		memcpy(fixed, p, fixedsz);
	if (text != NULL) {
		size_t m = txlen < textsz - 1 ? txlen : textsz - 1;

		memcpy(text, tx, m);
		text[m] = '\0';
	}
	return h.type;
}

static void
drain(struct fixture *f)
{
	while (next_event(f, NULL, 0, NULL, 0) >= 0)
		;
}

static void
gmem_ptr__bounds__checked(void **state)
{
	struct fixture *f = *state;

	assert_ptr_equal(gmem_ptr(&f->t, 0, MEM_SIZE), f->t.mem);
	assert_ptr_equal(gmem_ptr(&f->t, MEM_SIZE, 0), f->t.mem + MEM_SIZE);
	assert_null(gmem_ptr(&f->t, MEM_SIZE - 1, 2));
	assert_null(gmem_ptr(&f->t, MEM_SIZE + 1, 0));
	assert_null(gmem_ptr(&f->t, UINT64_MAX, 2));
	assert_null(gmem_ptr(&f->t, 8, UINT64_MAX - 4));
}

static void
dispatch__bad_port__bad_hcall(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(hc_dispatch(&f->t, 0x4ff, 4, true, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
	assert_non_null(strstr(f->t.fault_msg, "not a hypercall port"));
	assert_int_equal(hc_dispatch(&f->t, 0x520, 4, true, ARG), HC_FAULT);
	assert_int_equal(hc_dispatch(&f->t, 0x3f8, 1, true, 'x'), HC_FAULT);
}

static void
dispatch__wrong_size_or_direction__bad_hcall(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	    hc_dispatch(&f->t, HVT_HC_PORT(HVT_HC_PUTS), 1, true, ARG),
	    HC_FAULT);
	assert_non_null(strstr(f->t.fault_msg, "1-byte out"));
	assert_int_equal(
	    hc_dispatch(&f->t, HVT_HC_PORT(HVT_HC_PUTS), 2, true, ARG),
	    HC_FAULT);
	assert_int_equal(
	    hc_dispatch(&f->t, HVT_HC_PORT(HVT_HC_PUTS), 4, false, ARG),
	    HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
	assert_int_equal(f->t.fault.hcall, HVT_HC_PUTS);
}

static void
dispatch__unknown_number__bad_hcall(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, 9, ARG), HC_FAULT);
	assert_non_null(strstr(f->t.fault_msg, "no such hypercall"));
	assert_int_equal(call(f, 31, ARG), HC_FAULT);
	assert_int_equal(call(f, 0, ARG), HC_FAULT);
}

static void
arg__outside_or_misaligned__bad_hcall(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(call(f, HVT_HC_HALT, MEM_SIZE - 8), HC_FAULT);
	assert_non_null(strstr(f->t.fault_msg, "outside guest memory"));
	assert_int_equal(call(f, HVT_HC_WALLTIME, 0xfffffff8u), HC_FAULT);
	assert_int_equal(call(f, HVT_HC_WALLTIME, ARG + 4), HC_FAULT);
	assert_non_null(strstr(f->t.fault_msg, "aligned"));
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
}

static void
walltime__valid__now(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_walltime *a = at(f, ARG);
	uint64_t now = (uint64_t)time(NULL) * 1000000000ull;

	assert_int_equal(call(f, HVT_HC_WALLTIME, ARG), HC_CONTINUE);
	assert_true(a->nsecs + 2000000000ull > now);
	assert_true(a->nsecs < now + 2000000000ull);
}

static void
puts__buffer_outside__bad_hcall(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_puts *a = at(f, ARG);

	a->data = MEM_SIZE - 2;
	a->len = 3;
	assert_int_equal(call(f, HVT_HC_PUTS, ARG), HC_FAULT);
	a->data = DATA;
	a->len = 1ull << 63;
	assert_int_equal(call(f, HVT_HC_PUTS, ARG), HC_FAULT);
	a->data = UINT64_MAX;
	a->len = 2;
	assert_int_equal(call(f, HVT_HC_PUTS, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
}

static void
puts__lines__console_events(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_puts *a = at(f, ARG);
	char text[64];

	drain(f);
	memcpy(at(f, DATA), "one\ntw", 6);
	a->data = DATA;
	a->len = 6;
	assert_int_equal(call(f, HVT_HC_PUTS, ARG), HC_CONTINUE);
	memcpy(at(f, DATA), "o\n", 2);
	a->len = 2;
	assert_int_equal(call(f, HVT_HC_PUTS, ARG), HC_CONTINUE);
	assert_int_equal(
	    next_event(f, NULL, 0, text, sizeof(text)), CTL_CONSOLE);
	assert_string_equal(text, "one");
	assert_int_equal(
	    next_event(f, NULL, 0, text, sizeof(text)), CTL_CONSOLE);
	assert_string_equal(text, "two");
	assert_int_equal(next_event(f, NULL, 0, NULL, 0), -1);
}

static void
halt__status__exit_status(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_halt *a = at(f, ARG);

	a->cookie = 0;
	a->exit_status = 3;
	assert_int_equal(call(f, HVT_HC_HALT, ARG), HC_HALT);
	assert_int_equal(f->t.exit_status, 3);
}

static void
halt__abort_with_cookie__fault_from_trap_frame(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_halt *a = at(f, ARG);
	uint64_t *tf = at(f, DATA);

	/* Solo5's frame: cr2, ec, rip, cs, rflags, rsp, ss */
	tf[0] = 0xdead000;
	tf[1] = 2;
	tf[2] = 0x101234;
	tf[3] = 8;
	tf[4] = 0x202;
	tf[5] = 0x1ff000;
	tf[6] = 0x10;
	a->cookie = DATA;
	a->exit_status = 255;
	assert_int_equal(call(f, HVT_HC_HALT, ARG), HC_HALT);
	assert_int_equal(f->t.exit_status, 255);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_ABORT);
	assert_int_equal(f->t.fault.cr2, 0xdead000);
	assert_int_equal(f->t.fault.rip, 0x101234);
	assert_int_equal(f->t.fault.regs[HVT_X_RSP], 0x1ff000);
	assert_true(f->t.frame_partial);

	/* a cookie outside memory is ignored, the abort still counts */
	a->cookie = UINT64_MAX - 7;
	assert_int_equal(call(f, HVT_HC_HALT, ARG), HC_HALT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_ABORT);
	assert_int_equal(f->t.fault.rip, 0);
}

static void
block__bad_requests__einval(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_block_io *a = at(f, ARG);

	a->data = DATA;
	a->len = 512;
	a->handle = 7; /* no such device */
	a->offset = 0;
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
	a->handle = 1; /* a net device */
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
	a->handle = 0;
	a->offset = 100; /* misaligned */
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
	a->offset = 15 * 512; /* runs past the end */
	a->len = 1024;
	assert_int_equal(call(f, HVT_HC_BLOCK_WRITE, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
	a->offset = UINT64_MAX - 511; /* overflow */
	a->len = 512;
	assert_int_equal(call(f, HVT_HC_BLOCK_WRITE, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
	a->offset = 0;
	a->len = 300; /* partial block */
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
}

static void
block__buffer_outside__bad_hcall(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_block_io *a = at(f, ARG);

	a->handle = 0;
	a->offset = 0;
	a->data = MEM_SIZE - 256;
	a->len = 512;
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
}

static void
block__round_trip__file_written(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_block_io *a = at(f, ARG);
	char disk[1024];

	memset(at(f, DATA), 'z', 1024);
	a->handle = 0;
	a->offset = 3 * 512;
	a->data = DATA;
	a->len = 1024;
	assert_int_equal(call(f, HVT_HC_BLOCK_WRITE, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_OK);
	assert_int_equal(pread(f->blk.fd, disk, 1024, 3 * 512), 1024);
	assert_memory_equal(disk, at(f, DATA), 1024);
	memset(at(f, DATA), 0, 1024);
	assert_int_equal(call(f, HVT_HC_BLOCK_READ, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_OK);
	assert_memory_equal(disk, at(f, DATA), 1024);
}

static void
net__read_write__frames(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_net_read *r = at(f, ARG);
	struct hvt_hc_net_write *w = at(f, ARG + 64);
	char frame[60], got[2000];

	r->handle = 1;
	r->data = DATA;
	r->len = 1514;
	assert_int_equal(call(f, HVT_HC_NET_READ, ARG), HC_CONTINUE);
	assert_int_equal(r->ret, HVT_EAGAIN);

	memset(frame, 0x5a, sizeof(frame));
	assert_int_equal(write(f->net_peer, frame, sizeof(frame)), 60);
	assert_int_equal(call(f, HVT_HC_NET_READ, ARG), HC_CONTINUE);
	assert_int_equal(r->ret, HVT_OK);
	assert_int_equal(r->len, 60);
	assert_memory_equal(at(f, DATA), frame, 60);

	r->len = 100; /* smaller than one MTU frame */
	assert_int_equal(call(f, HVT_HC_NET_READ, ARG), HC_CONTINUE);
	assert_int_equal(r->ret, HVT_EINVAL);

	w->handle = 1;
	w->data = DATA;
	w->len = 42;
	assert_int_equal(call(f, HVT_HC_NET_WRITE, ARG + 64), HC_CONTINUE);
	assert_int_equal(w->ret, HVT_OK);
	assert_int_equal(read(f->net_peer, got, sizeof(got)), 42);
	w->len = 9000; /* larger than the MTU */
	assert_int_equal(call(f, HVT_HC_NET_WRITE, ARG + 64), HC_CONTINUE);
	assert_int_equal(w->ret, HVT_EINVAL);
	w->handle = 0; /* the block device */
	w->len = 42;
	assert_int_equal(call(f, HVT_HC_NET_WRITE, ARG + 64), HC_CONTINUE);
	assert_int_equal(w->ret, HVT_EINVAL);
}

static void
poll__timeout__returns(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_poll *a = at(f, ARG);
	char frame[60] = {0};

	a->timeout_nsecs = 1000000; /* 1 ms */
	assert_int_equal(call(f, HVT_HC_POLL, ARG), HC_CONTINUE);
	assert_int_equal(a->ready_set, 0);
	assert_int_equal(write(f->net_peer, frame, sizeof(frame)), 60);
	a->timeout_nsecs = 1000000000ull;
	assert_int_equal(call(f, HVT_HC_POLL, ARG), HC_CONTINUE);
	assert_int_equal(a->ready_set, 1u << 1);
}

static void
notify(struct fixture *f, const char *msg)
{
	struct hvt_hc_x_text *a = at(f, ARG);

	memcpy(at(f, DATA), msg, strlen(msg));
	a->data = DATA;
	a->len = strlen(msg);
	assert_int_equal(call(f, HVT_HC_X_NOTIFY, ARG), HC_CONTINUE);
}

static void
notify__ready_and_beats__events(void **state)
{
	struct fixture *f = *state;
	struct ctl_heartbeat hb;
	char text[64];

	drain(f);
	notify(f, "READY=1\n");
	notify(f, "READY=1\n"); /* only the first counts */
	notify(f, "WATCHDOG=1\nX_SEQ=42\nX_PROGRESS=7\nSTATUS=warm\n");
	assert_int_equal(next_event(f, NULL, 0, NULL, 0), CTL_READY);
	assert_int_equal(
	    next_event(f, &hb, sizeof(hb), text, sizeof(text)), CTL_HEARTBEAT);
	assert_int_equal(hb.seq, 42);
	assert_int_equal(hb.progress, 7);
	assert_true(hb.flags & CTL_HB_HAS_PROGRESS);
	assert_string_equal(text, "warm");
	assert_int_equal(next_event(f, NULL, 0, NULL, 0), -1);
}

static void
notify__garbage__einval_and_logged(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_x_text *a = at(f, ARG);
	char text[160];

	drain(f);
	notify(f, "this is not a heartbeat");
	assert_int_equal(a->ret, HVT_EINVAL);
	assert_int_equal(next_event(f, NULL, 0, text, sizeof(text)), CTL_LOG);
	assert_non_null(strstr(text, "refused heartbeat message"));
	assert_false(f->t.ready_sent);
}

static void
x_fault__frame__guest_registers(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_x_fault *a = at(f, ARG);
	struct hvt_x_frame *fr = at(f, DATA);
	int i;

	memset(fr, 0, sizeof(*fr));
	fr->version = HVT_X_FRAME_VERSION;
	fr->kind = HVT_X_FAULT_EXCEPTION;
	fr->vector = 14;
	fr->cr2 = 0xdead0000;
	for (i = 0; i < HVT_X_NREGS; i++)
		fr->regs[i] = 0x1000 + (uint64_t)i;
	fr->rip = 0x104567;
	memcpy(at(f, DATA + 1024), "page fault", 10);
	fr->msg = DATA + 1024;
	fr->msglen = 10;
	a->frame = DATA;
	assert_int_equal(call(f, HVT_HC_X_FAULT, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_EXCEPTION);
	assert_int_equal(f->t.fault.vector, 14);
	assert_int_equal(f->t.fault.cr2, 0xdead0000);
	assert_int_equal(f->t.fault.regs[HVT_X_R15], 0x100f);
	assert_int_equal(f->t.fault.regs[HVT_X_R12], 0x100c);
	assert_int_equal(f->t.fault.rip, 0x104567);
	assert_int_equal(f->t.fault.source, CTL_REGS_GUEST);
	assert_string_equal(f->t.fault_msg, "page fault");
}

static void
x_fault__hostile_frame__bad_hcall(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_x_fault *a = at(f, ARG);
	struct hvt_x_frame *fr = at(f, DATA);

	a->frame = MEM_SIZE - 16;
	assert_int_equal(call(f, HVT_HC_X_FAULT, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
	memset(fr, 0, sizeof(*fr));
	a->frame = DATA;
	fr->version = 99;
	assert_int_equal(call(f, HVT_HC_X_FAULT, ARG), HC_FAULT);
	assert_non_null(strstr(f->t.fault_msg, "version 99"));
	fr->version = HVT_X_FRAME_VERSION;
	fr->msg = DATA;
	fr->msglen = 1ull << 40;
	assert_int_equal(call(f, HVT_HC_X_FAULT, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
	fr->msg = MEM_SIZE - 1;
	fr->msglen = 10;
	assert_int_equal(call(f, HVT_HC_X_DUMP, ARG), HC_FAULT);
	assert_int_equal(f->t.fault.kind, CTL_FAULT_BAD_HCALL);
}

static void
x_dump__frame__event_and_continue(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_x_fault *a = at(f, ARG);
	struct hvt_x_frame *fr = at(f, DATA);
	struct ctl_fault ev;

	drain(f);
	memset(fr, 0, sizeof(*fr));
	fr->version = HVT_X_FRAME_VERSION;
	fr->kind = HVT_X_FAULT_DUMP;
	fr->regs[HVT_X_R13] = 0x1313;
	a->frame = DATA;
	assert_int_equal(call(f, HVT_HC_X_DUMP, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_OK);
	assert_int_equal(next_event(f, &ev, sizeof(ev), NULL, 0), CTL_FAULT);
	assert_int_equal(ev.kind, CTL_FAULT_DUMP);
	assert_int_equal(ev.regs[HVT_X_R13], 0x1313);
}

static void
x_log__too_long__einval(void **state)
{
	struct fixture *f = *state;
	struct hvt_hc_x_text *a = at(f, ARG);
	char text[64];

	drain(f);
	memcpy(at(f, DATA), "hello log", 9);
	a->data = DATA;
	a->len = 9;
	assert_int_equal(call(f, HVT_HC_X_LOG, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_OK);
	assert_int_equal(next_event(f, NULL, 0, text, sizeof(text)), CTL_LOG);
	assert_string_equal(text, "hello log");
	a->len = HVT_X_TEXT_MAX + 1;
	assert_int_equal(call(f, HVT_HC_X_LOG, ARG), HC_CONTINUE);
	assert_int_equal(a->ret, HVT_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(gmem_ptr__bounds__checked),
	    T(dispatch__bad_port__bad_hcall),
	    T(dispatch__wrong_size_or_direction__bad_hcall),
	    T(dispatch__unknown_number__bad_hcall),
	    T(arg__outside_or_misaligned__bad_hcall),
	    T(walltime__valid__now),
	    T(puts__buffer_outside__bad_hcall),
	    T(puts__lines__console_events),
	    T(halt__status__exit_status),
	    T(halt__abort_with_cookie__fault_from_trap_frame),
	    T(block__bad_requests__einval),
	    T(block__buffer_outside__bad_hcall),
	    T(block__round_trip__file_written),
	    T(net__read_write__frames),
	    T(poll__timeout__returns),
	    T(notify__ready_and_beats__events),
	    T(notify__garbage__einval_and_logged),
	    T(x_fault__frame__guest_registers),
	    T(x_fault__hostile_frame__bad_hcall),
	    T(x_dump__frame__event_and_continue),
	    T(x_log__too_long__einval),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
