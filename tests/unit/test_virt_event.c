/*
 * test_virt_event.c: libvirt's event loop on libevent (summoner/virt_event.h),
 * driven through libvirt's public virEvent* calls, which go to the
 * registered implementation: no libvirtd, no KVM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <libvirt/libvirt.h>

#include "summoner/virt_event.h"

static struct event_base *base;

struct probe {
	int calls;
	int last_events;
	int freed;
	bool in_cb; /* the free function must not run inside the callback */
	bool freed_in_cb;
	int remove_id; /* remove this watch/timeout from the callback */
	bool is_timeout;
};

static void
probe_free(void *opaque)
{
	struct probe *p = opaque;

	p->freed++;
	if (p->in_cb)
		p->freed_in_cb = true;
}

static void
handle_cb(int watch, int fd, int events, void *opaque)
{
	struct probe *p = opaque;
	char c;

	(void)watch;
	p->in_cb = true;
	p->calls++;
	p->last_events = events;
	if (events & VIR_EVENT_HANDLE_READABLE)
		assert_int_equal(read(fd, &c, 1), 1);
	if (p->remove_id > 0)
		assert_int_equal(virEventRemoveHandle(p->remove_id), 0);
	p->in_cb = false;
}

static void
timeout_cb(int timer, void *opaque)
{
	struct probe *p = opaque;

	(void)timer;
	p->in_cb = true;
	p->calls++;
	if (p->remove_id > 0)
		assert_int_equal(virEventRemoveTimeout(p->remove_id), 0);
	p->in_cb = false;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop for ms milliseconds (non-blocking iterations and waits). */
static void
run_for(unsigned ms)
{
	uint64_t end = now_ms() + ms;
	struct timeval tv = {0, 1000};

	while (now_ms() < end) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

/* Run iterations until *flag >= want or 2 s pass. */
static void
run_until(const int *flag, int want)
{
	uint64_t end = now_ms() + 2000;

	while (*flag < want && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(evthread_use_pthreads(), 0);
	base = event_base_new();
	assert_non_null(base);
	assert_int_equal(virt_event_init(base), 0);
	return 0;
}

static void
init__other_base__refused(void **state)
{
	struct event_base *other = event_base_new();

	(void)state;
	assert_int_equal(virt_event_init(base), 0);
	assert_int_equal(virt_event_init(other), -1);
	event_base_free(other);
}

static void
handle__readable__callback_with_flag(void **state)
{
	struct probe p = {0};
	int fds[2], id;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	id = virEventAddHandle(
	    fds[0], VIR_EVENT_HANDLE_READABLE, handle_cb, &p, probe_free);
	assert_true(id > 0);
	run_for(20);
	assert_int_equal(p.calls, 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	run_until(&p.calls, 1);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.last_events, VIR_EVENT_HANDLE_READABLE);
	assert_int_equal(virEventRemoveHandle(id), 0);
	assert_int_equal(p.freed, 0); /* later, from the loop */
	run_until(&p.freed, 1);
	assert_int_equal(p.freed, 1);
	assert_int_equal(virEventRemoveHandle(id), -1);
	close(fds[0]);
	close(fds[1]);
}

static void
handle__update_to_zero__no_callbacks(void **state)
{
	struct probe p = {0};
	int fds[2], id;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	id = virEventAddHandle(
	    fds[1], VIR_EVENT_HANDLE_WRITABLE, handle_cb, &p, probe_free);
	assert_true(id > 0);
	run_until(&p.calls, 1);
	assert_true(p.calls >= 1);
	assert_int_equal(p.last_events, VIR_EVENT_HANDLE_WRITABLE);
	virEventUpdateHandle(id, 0);
	p.calls = 0;
	run_for(20);
	assert_int_equal(p.calls, 0);
	virEventUpdateHandle(id, VIR_EVENT_HANDLE_WRITABLE);
	run_until(&p.calls, 1);
	assert_true(p.calls >= 1);
	assert_int_equal(virEventRemoveHandle(id), 0);
	run_until(&p.freed, 1);
	assert_int_equal(p.freed, 1);
	close(fds[0]);
	close(fds[1]);
}

static void
handle__removed_in_own_callback__freed_later(void **state)
{
	struct probe p = {0};
	struct virt_event_stats st;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	p.remove_id = virEventAddHandle(
	    fds[0], VIR_EVENT_HANDLE_READABLE, handle_cb, &p, probe_free);
	assert_true(p.remove_id > 0);
	assert_int_equal(write(fds[1], "xy", 2), 2);
	run_until(&p.freed, 1);
	assert_int_equal(p.calls, 1); /* never again once removed */
	assert_int_equal(p.freed, 1);
	assert_false(p.freed_in_cb);
	virt_event_stats(&st);
	assert_int_equal(st.handles, 0);
	assert_int_equal(st.dead, 0);
	close(fds[0]);
	close(fds[1]);
}

static void
timeout__periodic__fires_repeatedly(void **state)
{
	struct probe p = {0};
	int id;

	(void)state;
	id = virEventAddTimeout(10, timeout_cb, &p, probe_free);
	assert_true(id > 0);
	run_for(5);
	assert_int_equal(p.calls, 0);
	run_until(&p.calls, 3);
	assert_int_equal(p.calls, 3);
	assert_int_equal(virEventRemoveTimeout(id), 0);
	run_until(&p.freed, 1);
	assert_int_equal(p.freed, 1);
}

static void
timeout__disabled_then_zero__fires_every_iteration(void **state)
{
	struct probe p = {0};
	int id, i;

	(void)state;
	id = virEventAddTimeout(-1, timeout_cb, &p, probe_free);
	assert_true(id > 0);
	run_for(30);
	assert_int_equal(p.calls, 0);
	virEventUpdateTimeout(id, 0);
	for (i = 0; i < 5; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	/* Once per iteration: libevent alone would fire it only once. */
	assert_int_equal(p.calls, 5);
	virEventUpdateTimeout(id, -1);
	p.calls = 0;
	run_for(20);
	assert_int_equal(p.calls, 0);
	assert_int_equal(virEventRemoveTimeout(id), 0);
	run_until(&p.freed, 1);
}

static void
timeout__removed_in_own_callback__freed_later(void **state)
{
	struct probe p = {0};
	struct virt_event_stats st;

	(void)state;
	p.remove_id = virEventAddTimeout(0, timeout_cb, &p, probe_free);
	assert_true(p.remove_id > 0);
	run_until(&p.freed, 1);
	assert_int_equal(p.calls, 1);
	assert_int_equal(p.freed, 1);
	assert_false(p.freed_in_cb);
	virt_event_stats(&st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.dead, 0);
	assert_int_equal(virEventRemoveTimeout(p.remove_id), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(init__other_base__refused),
	    cmocka_unit_test(handle__readable__callback_with_flag),
	    cmocka_unit_test(handle__update_to_zero__no_callbacks),
	    cmocka_unit_test(handle__removed_in_own_callback__freed_later),
	    cmocka_unit_test(timeout__periodic__fires_repeatedly),
	    cmocka_unit_test(
	        timeout__disabled_then_zero__fires_every_iteration),
	    cmocka_unit_test(timeout__removed_in_own_callback__freed_later),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
