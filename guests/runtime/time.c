/*
 * time.c: monotonic and wall-clock time from the TSC; sleeping in POLL.
 *
 * The tender tells us the TSC frequency, so reading time costs no VM exit
 * and boot needs no calibration loop.  Conversion uses a 32.32 fixed-point
 * multiplier computed once and a 64x64->128-bit product, so it neither
 * overflows nor divides per call.
 */
#include <stdint.h>

#include "rt.h"

#define NSEC_PER_SEC 1000000000ull
/* Used only if a tender reports no TSC frequency. */
#define FALLBACK_TSC_HZ NSEC_PER_SEC

static uint64_t tsc_base;
static uint64_t ns_mult; /* nanoseconds per tick, << 32 */
static uint64_t wall_base_ns, wall_base_mono;
static int wall_known;

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

void
rt_time_init(const struct hvt_boot_info *bi)
{
	uint64_t hz =
	    bi->cpu_cycle_freq != 0 ? bi->cpu_cycle_freq : FALLBACK_TSC_HZ;

	tsc_base = rdtsc();
	/* (1e9 << 32) fits in 64 bits, so this cannot overflow. */
	ns_mult = (NSEC_PER_SEC << 32) / hz;
}

uint64_t
rt_monotonic_ns(void)
{
	uint64_t delta = rdtsc() - tsc_base;

	return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

uint64_t
rt_wall_ns(void)
{
	if (!wall_known) {
		wall_base_ns = rt_plat_walltime();
		wall_base_mono = rt_monotonic_ns();
		wall_known = 1;
	}
	return wall_base_ns + (rt_monotonic_ns() - wall_base_mono);
}

void
rt_sleep_ns(uint64_t ns)
{
	uint64_t now = rt_monotonic_ns();
	uint64_t deadline = now + ns;

	if (deadline < now)
		deadline = UINT64_MAX;
	/* POLL returns early when a device has input; sleep the rest. */
	while (now < deadline) {
		rt_poll(deadline - now, NULL);
		now = rt_monotonic_ns();
	}
}
