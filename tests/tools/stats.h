/*
 * stats.h: latency figures for the benchmark tools (tctl, kvmfloor), so
 * that both print the same statistics the same way.  Header-only: each tool
 * is one source file.
 */
#ifndef SUMMONER_TESTS_STATS_H
#define SUMMONER_TESTS_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int
stats_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort v (n > 0 nanosecond samples) and print "name: median_us=... p99_us=
 * ... max_us=... min_us=..." on one line. */
static inline void
stats_print(const char *name, uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), stats_cmp_u64);
	printf("%s: median_us=%.1f p99_us=%.1f max_us=%.1f min_us=%.1f\n", name,
	    (double)v[n / 2] / 1e3, (double)v[(size_t)((n - 1) * 0.99)] / 1e3,
	    (double)v[n - 1] / 1e3, (double)v[0] / 1e3);
}

#endif /* SUMMONER_TESTS_STATS_H */
