/* clock.c: the tender's one clock. */
#include <time.h>

#include "tender.h"

uint64_t
tender_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
