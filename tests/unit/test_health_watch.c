/*
 * test_health_watch: health/'s deadlines and fault signatures, driven by
 * made-up times (no sleeping: the watch has no clock of its own).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "health/health.h"

#define MS 1000000ull

static const struct health_params every_s_3 = {
    .hb_interval = 1000 * MS,
    .hb_misses = 3,
    .stall_beats = 4,
    .ready_timeout = 500 * MS,
};

static void
check__no_beats_after_ready__miss_at_interval_times_misses(void **state)
{
	struct health_watch w;
	uint64_t next, deadline;

	(void)state;
	health_watch_start(&w, &every_s_3, 0);
	health_watch_ready(&w, 100 * MS);
	assert_int_equal(
	    health_watch_check(&w, 3099 * MS, &next, NULL), HEALTH_OK);
	assert_int_equal(next, 3100 * MS);
	assert_int_equal(
	    health_watch_check(&w, 3100 * MS, &next, &deadline), HEALTH_MISS);
	assert_int_equal(deadline, 3100 * MS);
	assert_int_equal(w.misses, 1);
	/* Once only. */
	assert_int_equal(
	    health_watch_check(&w, 9000 * MS, &next, NULL), HEALTH_OK);
	assert_int_equal(next, 0);
}

static void
check__beats_push_the_deadline__no_miss(void **state)
{
	struct health_watch w;
	uint64_t t, next;

	(void)state;
	health_watch_start(&w, &every_s_3, 0);
	health_watch_ready(&w, 10 * MS);
	for (t = 1000 * MS; t < 20000 * MS; t += 2900 * MS) {
		assert_int_equal(
		    health_watch_check(&w, t, &next, NULL), HEALTH_OK);
		assert_int_equal(health_watch_beat(&w, t, false, 0), HEALTH_OK);
	}
	assert_int_equal(health_watch_check(&w, t, &next, NULL), HEALTH_OK);
	assert_true(next > t);
}

static void
check__not_ready_in_time__ready_timeout(void **state)
{
	struct health_watch w;
	uint64_t next;

	(void)state;
	health_watch_start(&w, &every_s_3, 1000 * MS);
	assert_int_equal(
	    health_watch_check(&w, 1200 * MS, &next, NULL), HEALTH_OK);
	assert_int_equal(next, 1500 * MS);
	assert_int_equal(health_watch_check(&w, 1500 * MS, &next, NULL),
	    HEALTH_READY_TIMEOUT);
}

static void
check__ready_in_time__no_ready_timeout(void **state)
{
	struct health_watch w;

	(void)state;
	health_watch_start(&w, &every_s_3, 0);
	health_watch_ready(&w, 499 * MS);
	assert_int_equal(
	    health_watch_check(&w, 600 * MS, NULL, NULL), HEALTH_OK);
}

static void
check__all_off__never_fires(void **state)
{
	static const struct health_params off = {0, 0, 0, 0};
	struct health_watch w;
	uint64_t next;

	(void)state;
	health_watch_start(&w, &off, 0);
	health_watch_ready(&w, 1);
	assert_int_equal(
	    health_watch_check(&w, UINT64_MAX, &next, NULL), HEALTH_OK);
	assert_int_equal(next, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(
		    health_watch_beat(&w, (uint64_t)i, true, 7), HEALTH_OK);
}

static void
check__huge_interval__saturates(void **state)
{
	static const struct health_params huge = {UINT64_MAX / 2, 1000, 0, 0};
	struct health_watch w;
	uint64_t next;

	(void)state;
	health_watch_start(&w, &huge, 0);
	health_watch_ready(&w, 5);
	assert_int_equal(
	    health_watch_check(&w, UINT64_MAX - 1, &next, NULL), HEALTH_OK);
	assert_int_equal(next, UINT64_MAX);
}

static void
beat__progress_unchanged_n_beats__stall_once(void **state)
{
	struct health_watch w;
	int i;

	(void)state;
	health_watch_start(&w, &every_s_3, 0);
	health_watch_ready(&w, 0);
	assert_int_equal(health_watch_beat(&w, 1, true, 5), HEALTH_OK);
	for (i = 0; i < 3; i++)
		assert_int_equal(health_watch_beat(&w, 2, true, 5), HEALTH_OK);
	assert_int_equal(health_watch_beat(&w, 3, true, 5), HEALTH_STALL);
	assert_int_equal(health_watch_beat(&w, 4, true, 5), HEALTH_OK);
}

static void
beat__progress_moves__no_stall(void **state)
{
	struct health_watch w;
	uint64_t i;

	(void)state;
	health_watch_start(&w, &every_s_3, 0);
	health_watch_ready(&w, 0);
	for (i = 0; i < 50; i++)
		assert_int_equal(
		    health_watch_beat(&w, i, true, i / 2), HEALTH_OK);
	assert_int_equal(w.beats, 50);
}

static void
signature__offsets_ignored__same(void **state)
{
	const char *a[] = {"0x1000 crash_pagefault+0x1b", "0x2000 main+0x40",
	    "0x3000 _start+0x9", "0x4000 deeper+0x1"};
	const char *b[] = {"0x1100 crash_pagefault+0x2b", "0x2200 main+0x4",
	    "0x3300 _start+0x19", "0x5000 other+0x1"};
	char sa[HEALTH_SIG_LEN + 1], sb[HEALTH_SIG_LEN + 1];

	(void)state;
	health_signature("exception", 14, a, 4, sa);
	health_signature("exception", 14, b, 4, sb);
	assert_string_equal(sa, sb);
	assert_int_equal(strlen(sa), HEALTH_SIG_LEN);
}

static void
signature__kind_vector_or_function_differs__differs(void **state)
{
	const char *a[] = {"0x1000 crash_pagefault+0x1b", "0x2000 main+0x40"};
	const char *b[] = {"0x1000 crash_divide+0x1b", "0x2000 main+0x40"};
	const char *c[] = {"0x1000 ?", "0x2000 main+0x40"};
	const char *d[] = {"0x1001 ?", "0x2000 main+0x40"};
	char s1[17], s2[17], s3[17], s4[17], s5[17], s6[17];

	(void)state;
	health_signature("exception", 14, a, 2, s1);
	health_signature("exception", 0, a, 2, s2);
	health_signature("abort", 14, a, 2, s3);
	health_signature("exception", 14, b, 2, s4);
	health_signature("exception", 14, c, 2, s5);
	health_signature("exception", 14, d, 2, s6);
	assert_string_not_equal(s1, s2);
	assert_string_not_equal(s1, s3);
	assert_string_not_equal(s1, s4);
	assert_string_not_equal(s5, s6);
}

static void
captured_split__dir_and_frames(void **state)
{
	char text[] = "/var/f/1\n0x10 a+0x1\n0x20 b+0x2\n\n0x30 ?";
	const char *dir, *frames[2];

	(void)state;
	assert_int_equal(health_captured_split(text, &dir, frames, 2), 2);
	assert_string_equal(dir, "/var/f/1");
	assert_string_equal(frames[0], "0x10 a+0x1");
	assert_string_equal(frames[1], "0x20 b+0x2");
}

static void
captured_split__empty_dir__empty_string(void **state)
{
	char text[] = "\n0x10 a+0x1";
	char none[] = "";
	const char *dir, *frames[4];

	(void)state;
	assert_int_equal(health_captured_split(text, &dir, frames, 4), 1);
	assert_string_equal(dir, "");
	assert_int_equal(health_captured_split(none, &dir, frames, 4), 0);
	assert_string_equal(dir, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        check__no_beats_after_ready__miss_at_interval_times_misses),
	    cmocka_unit_test(check__beats_push_the_deadline__no_miss),
	    cmocka_unit_test(check__not_ready_in_time__ready_timeout),
	    cmocka_unit_test(check__ready_in_time__no_ready_timeout),
	    cmocka_unit_test(check__all_off__never_fires),
	    cmocka_unit_test(check__huge_interval__saturates),
	    cmocka_unit_test(beat__progress_unchanged_n_beats__stall_once),
	    cmocka_unit_test(beat__progress_moves__no_stall),
	    cmocka_unit_test(signature__offsets_ignored__same),
	    cmocka_unit_test(
	        signature__kind_vector_or_function_differs__differs),
	    cmocka_unit_test(captured_split__dir_and_frames),
	    cmocka_unit_test(captured_split__empty_dir__empty_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
