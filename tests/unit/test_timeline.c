/*
 * test_timeline.c: the per-service ring of boot timelines
 * (summoner/timeline.c): order, wrap-around, and the median of the
 * answered ones that "summonerctl top" shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/registry.h"

static struct svc_timeline
entry(unsigned id, uint32_t answered)
{
	struct svc_timeline e = {.id = id};
	unsigned k;

	for (k = 0; k < TL_NSTEPS; k++)
		e.us[k] = TL_ABSENT;
	e.us[TL_SPAWN] = 0;
	e.us[TL_ANSWERED] = answered;
	return e;
}

static void
tl_ring_get__empty__null(void **state)
{
	struct tl_ring r = {0};

	(void)state;
	assert_null(tl_ring_get(&r, 0));
	assert_int_equal(tl_ring_median_answered(&r), TL_ABSENT);
}

static void
tl_ring_get__three__newest_first(void **state)
{
	struct tl_ring r = {0};
	struct svc_timeline e;
	unsigned i;

	(void)state;
	for (i = 1; i <= 3; i++) {
		e = entry(i, i * 100);
		tl_ring_add(&r, &e);
	}
	assert_int_equal(tl_ring_get(&r, 0)->id, 3);
	assert_int_equal(tl_ring_get(&r, 1)->id, 2);
	assert_int_equal(tl_ring_get(&r, 2)->id, 1);
	assert_null(tl_ring_get(&r, 3));
}

static void
tl_ring_add__past_capacity__oldest_dropped(void **state)
{
	struct tl_ring r = {0};
	struct svc_timeline e;
	unsigned i;

	(void)state;
	for (i = 1; i <= SVC_TIMELINES + 3; i++) {
		e = entry(i, 0);
		tl_ring_add(&r, &e);
	}
	assert_int_equal(r.count, SVC_TIMELINES);
	assert_int_equal(tl_ring_get(&r, 0)->id, SVC_TIMELINES + 3);
	assert_int_equal(tl_ring_get(&r, SVC_TIMELINES - 1)->id, 4);
	assert_null(tl_ring_get(&r, SVC_TIMELINES));
}

static void
tl_ring_median_answered__odd__middle(void **state)
{
	static const uint32_t v[] = {900, 100, 500, 300, 700};
	struct tl_ring r = {0};
	struct svc_timeline e;
	unsigned i;

	(void)state;
	for (i = 0; i < 5; i++) {
		e = entry(i + 1, v[i]);
		tl_ring_add(&r, &e);
	}
	assert_int_equal(tl_ring_median_answered(&r), 500);
}

static void
tl_ring_median_answered__even__lower_middle(void **state)
{
	static const uint32_t v[] = {40, 10, 30, 20};
	struct tl_ring r = {0};
	struct svc_timeline e;
	unsigned i;

	(void)state;
	for (i = 0; i < 4; i++) {
		e = entry(i + 1, v[i]);
		tl_ring_add(&r, &e);
	}
	assert_int_equal(tl_ring_median_answered(&r), 20);
}

static void
tl_ring_median_answered__unanswered__skipped(void **state)
{
	struct tl_ring r = {0};
	struct svc_timeline e;

	(void)state;
	/* Restarts and operator summons answer nothing: not latencies. */
	e = entry(1, TL_ABSENT);
	tl_ring_add(&r, &e);
	assert_int_equal(tl_ring_median_answered(&r), TL_ABSENT);
	e = entry(2, 7000);
	tl_ring_add(&r, &e);
	e = entry(3, TL_ABSENT);
	tl_ring_add(&r, &e);
	assert_int_equal(tl_ring_median_answered(&r), 7000);
}

static void
tl_ring_median_answered__wrapped__only_held_ones(void **state)
{
	struct tl_ring r = {0};
	struct svc_timeline e;
	unsigned i;

	(void)state;
	/* Eight slow boots, then eight fast ones push them all out. */
	for (i = 0; i < 2 * SVC_TIMELINES; i++) {
		e = entry(i + 1, i < SVC_TIMELINES ? 1000000 : 100 + i);
		tl_ring_add(&r, &e);
	}
	assert_int_equal(tl_ring_median_answered(&r),
	    100 + SVC_TIMELINES + (SVC_TIMELINES - 1) / 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tl_ring_get__empty__null),
	    cmocka_unit_test(tl_ring_get__three__newest_first),
	    cmocka_unit_test(tl_ring_add__past_capacity__oldest_dropped),
	    cmocka_unit_test(tl_ring_median_answered__odd__middle),
	    cmocka_unit_test(tl_ring_median_answered__even__lower_middle),
	    cmocka_unit_test(tl_ring_median_answered__unanswered__skipped),
	    cmocka_unit_test(tl_ring_median_answered__wrapped__only_held_ones),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
