/*
 * test_instance.c: the instance state machine, with a fake clock and a
 * journal that records what it is told.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/instance.h"

static uint64_t fake_now;
static int journaled;
static enum istate j_from, j_to;
static uint64_t j_dt;
static char j_why[64];

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static void
fake_journal(const struct instance *in, enum istate from, enum istate to,
    uint64_t dt, const char *why)
{
	(void)in;
	journaled++;
	j_from = from;
	j_to = to;
	j_dt = dt;
	snprintf(j_why, sizeof(j_why), "%s", why ? why : "");
}

static int
setup(void **state)
{
	(void)state;
	fake_now = 1000000000ull;
	journaled = 0;
	instance_clock = fake_clock;
	instance_journal = fake_journal;
	return 0;
}

static void
istate_name__every_state__named(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < IS_NSTATES; s++)
		assert_string_not_equal(istate_name(s), "invalid");
	assert_string_equal(istate_name(IS_QUARANTINED), "quarantined");
	assert_string_equal(istate_name(-1), "invalid");
	assert_string_equal(istate_name(IS_NSTATES), "invalid");
}

static void
instance_set_state__boot_to_ready__journaled_with_time(void **state)
{
	struct instance in;

	(void)state;
	instance_init(&in, "www", 3);
	assert_int_equal(in.state, IS_BOOTING);
	fake_now += 900000; /* 0.9 ms */
	assert_int_equal(instance_set_state(&in, IS_READY, NULL), 0);
	assert_int_equal(in.state, IS_READY);
	assert_int_equal(journaled, 1);
	assert_int_equal(j_from, IS_BOOTING);
	assert_int_equal(j_to, IS_READY);
	assert_int_equal(j_dt, 900000);
	assert_int_equal(in.t_state, fake_now);
}

static void
instance_set_state__forbidden__refused_unchanged(void **state)
{
	struct instance in;

	(void)state;
	instance_init(&in, "www", 1);
	assert_int_equal(instance_set_state(&in, IS_QUARANTINED, "x"), -1);
	assert_int_equal(in.state, IS_BOOTING);
	assert_int_equal(journaled, 0);
	assert_int_equal(instance_set_state(&in, IS_STOPPING, "idle"), 0);
	assert_int_equal(instance_set_state(&in, IS_STOPPED, NULL), 0);
	/* final states stay final */
	assert_int_equal(instance_set_state(&in, IS_BOOTING, NULL), -1);
	assert_int_equal(instance_set_state(&in, IS_READY, NULL), -1);
	assert_int_equal(in.state, IS_STOPPED);
	assert_int_equal(journaled, 2);
}

static void
instance_set_state__fault_paths__policy_outcomes(void **state)
{
	struct instance in;

	(void)state;
	instance_init(&in, "crash", 1);
	assert_int_equal(instance_set_state(&in, IS_READY, NULL), 0);
	assert_int_equal(instance_set_state(&in, IS_FAULTED, "page fault"), 0);
	assert_string_equal(j_why, "page fault");
	assert_int_equal(instance_set_state(&in, IS_QUARANTINED, NULL), 0);
	assert_int_equal(instance_set_state(&in, IS_RESTARTING, "released"), 0);
	assert_int_equal(instance_set_state(&in, IS_BOOTING, NULL), 0);
	assert_int_equal(
	    instance_set_state(&in, IS_FAULTED, "ready timeout"), 0);
	assert_int_equal(instance_set_state(&in, IS_RETIRED, NULL), 0);
	assert_int_equal(instance_set_state(&in, IS_RESTARTING, NULL), -1);
}

static void
istate_allowed__out_of_range__false(void **state)
{
	(void)state;
	assert_false(istate_allowed(IS_NSTATES, IS_READY));
	assert_false(istate_allowed(IS_BOOTING, IS_NSTATES));
	assert_false(istate_allowed((enum istate) - 1, IS_READY));
	assert_true(istate_allowed(IS_BOOTING, IS_READY));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(istate_name__every_state__named, setup),
	    cmocka_unit_test_setup(
	        instance_set_state__boot_to_ready__journaled_with_time, setup),
	    cmocka_unit_test_setup(
	        instance_set_state__forbidden__refused_unchanged, setup),
	    cmocka_unit_test_setup(
	        instance_set_state__fault_paths__policy_outcomes, setup),
	    cmocka_unit_test_setup(istate_allowed__out_of_range__false, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
