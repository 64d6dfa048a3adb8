/*
 * clock.c (virt): kvmclock for time, the local APIC timer for sleeping.
 *
 * The shared time.c counts TSC ticks and needs their frequency, which
 * hvt's boot info carries and which here comes from kvmclock: its
 * tsc_to_system_mul and tsc_shift say exactly how KVM turns ticks into
 * nanoseconds, so boot needs no calibration loop.  Wall-clock time is
 * kvmclock's wall clock (the epoch time of its zero) plus its system
 * time.  Without kvmclock (not KVM) time runs on an assumed 1 GHz TSC
 * and the wall clock reads 0.
 *
 * rt_poll() arms the APIC timer in one-shot mode and halts with
 * interrupts enabled for exactly that instruction ("sti; hlt"); the
 * timer's handler (entry.S) only acknowledges it.  The timer's rate is
 * measured against the TSC on the first poll, not at boot: boot-to-READY
 * should not pay for it.
 */
#include <stdint.h>

#include "rt.h"
#include "virt.h"

#define CPUID_KVM_SIGNATURE 0x40000000u
#define CPUID_KVM_FEATURES  0x40000001u
#define KVM_FEATURE_CLOCK   (1u << 0) /* MSRs 0x11, 0x12 */
#define KVM_FEATURE_CLOCK2  (1u << 3) /* MSRs 0x4b564d00, 0x4b564d01 */
#define MSR_WALL_CLOCK      0x11u
#define MSR_SYSTEM_TIME     0x12u
#define MSR_WALL_CLOCK_NEW  0x4b564d00u
#define MSR_SYSTEM_TIME_NEW 0x4b564d01u
#define SYSTEM_TIME_ENABLE  1u

#define NSEC_PER_SEC 1000000000ull

/* Local APIC registers (xAPIC, memory-mapped). */
#define LAPIC_TPR        0x080
#define LAPIC_SVR        0x0f0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_INIT_COUNT 0x380
#define LAPIC_CUR_COUNT  0x390
#define LAPIC_DIVIDE     0x3e0
#define LAPIC_SVR_ENABLE 0x100
#define LAPIC_LVT_MASKED 0x10000
#define LAPIC_DIVIDE_1   0xb
#define VEC_TIMER        32 /* virt.lds builds these two gates */
#define VEC_SPURIOUS     33
/* How long the first poll watches the timer count down. */
#define CALIBRATE_NS 100000

/* KVM's layouts (Documentation/virt/kvm/x86/msr.rst). */
struct pvclock_time {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

struct pvclock_wall {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
};

static volatile struct pvclock_time pvclock __attribute__((aligned(64)));
static volatile struct pvclock_wall pvwall __attribute__((aligned(64)));
static uint32_t msr_wall;   /* 0: no kvmclock */
static uint64_t timer_mult; /* APIC timer ticks per ns, << 32; 0: not set up */

static inline void
cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ __volatile__("cpuid"
	                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                     : "a"(leaf), "c"(0));
}

static inline void
wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__(
	    "wrmsr"
	    :
	    : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	    : "memory");
}

static inline uint64_t
rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void
lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(RT_VIRT_LAPIC_BASE + reg) = v;
}

static inline uint32_t
lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(uintptr_t)(RT_VIRT_LAPIC_BASE + reg);
}

uint64_t
rt_virt_clock_init(void)
{
	uint32_t r[4];
	uint32_t msr_time;
	uint64_t hz;

	cpuid(CPUID_KVM_SIGNATURE, r);
	/* "KVMKVMKVM\0\0\0" in ebx, ecx, edx */
	if (r[1] != 0x4b4d564bu || r[2] != 0x564b4d56u || r[3] != 0x4du)
		return 0;
	cpuid(CPUID_KVM_FEATURES, r);
	if (r[0] & KVM_FEATURE_CLOCK2) {
		msr_time = MSR_SYSTEM_TIME_NEW;
		msr_wall = MSR_WALL_CLOCK_NEW;
	} else if (r[0] & KVM_FEATURE_CLOCK) {
		msr_time = MSR_SYSTEM_TIME;
		msr_wall = MSR_WALL_CLOCK;
	} else {
		return 0;
	}
	/* KVM fills the structure in before the wrmsr returns. */
	wrmsr(msr_time, (uint64_t)(uintptr_t)&pvclock | SYSTEM_TIME_ENABLE);
	if (pvclock.tsc_to_system_mul == 0) {
		msr_wall = 0;
		return 0;
	}
	/* ns = ticks * 2^shift * mul / 2^32, so Hz = 1e9 * 2^32 / mul / 2^shift
	 */
	hz = (NSEC_PER_SEC << 32) / pvclock.tsc_to_system_mul;
	if (pvclock.tsc_shift >= 0)
		hz >>= pvclock.tsc_shift;
	else
		hz <<= -pvclock.tsc_shift;
	return hz;
}

/* kvmclock's system time (ns since the host's reference), lock-free read. */
static uint64_t
kvmclock_ns(void)
{
	uint32_t v;
	uint64_t ns;

	do {
		uint64_t delta;

		v = pvclock.version;
		__asm__ __volatile__("" ::: "memory");
		delta = rdtsc() - pvclock.tsc_timestamp;
		if (pvclock.tsc_shift >= 0)
			delta <<= pvclock.tsc_shift;
		else
			delta >>= -pvclock.tsc_shift;
		ns = pvclock.system_time +
		     (uint64_t)(((unsigned __int128)delta *
		                    pvclock.tsc_to_system_mul) >>
		                32);
		__asm__ __volatile__("" ::: "memory");
	} while ((v & 1) || v != pvclock.version);
	return ns;
}

uint64_t
rt_plat_walltime(void)
{
	uint32_t v, sec, nsec;

	if (msr_wall == 0)
		return 0;
	wrmsr(msr_wall, (uint64_t)(uintptr_t)&pvwall);
	do {
		v = pvwall.version;
		__asm__ __volatile__("" ::: "memory");
		sec = pvwall.sec;
		nsec = pvwall.nsec;
		__asm__ __volatile__("" ::: "memory");
	} while ((v & 1) || v != pvwall.version);
	return (uint64_t)sec * NSEC_PER_SEC + nsec + kvmclock_ns();
}

/*
 * Enables the APIC with only its timer unmasked, and measures the
 * timer's rate (KVM's is 1 GHz at divide-by-1, but nothing promises it).
 */
static void
timer_init(void)
{
	uint64_t t0, t1;
	uint32_t left;

	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_DIVIDE, LAPIC_DIVIDE_1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_TIMER);

	lapic_write(LAPIC_INIT_COUNT, UINT32_MAX);
	t0 = rt_monotonic_ns();
	do
		t1 = rt_monotonic_ns();
	while (t1 - t0 < CALIBRATE_NS);
	left = lapic_read(LAPIC_CUR_COUNT);
	t1 = rt_monotonic_ns();
	lapic_write(LAPIC_INIT_COUNT, 0);
	if (left != 0 && left != UINT32_MAX && t1 > t0)
		timer_mult = ((uint64_t)(UINT32_MAX - left) << 32) / (t1 - t0);
	if (timer_mult == 0)
		timer_mult = 1ull << 32;         /* KVM's 1 GHz */
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot, unmasked */
}

int
rt_poll(uint64_t timeout_ns, uint64_t *ready_set)
{
	unsigned __int128 ticks;

	if (ready_set != NULL)
		*ready_set = 0; /* no devices */
	if (timeout_ns == 0)
		return HVT_OK;
	if (timer_mult == 0)
		timer_init();
	ticks = ((unsigned __int128)timeout_ns * timer_mult) >> 32;
	if (ticks == 0)
		ticks = 1;
	if (ticks > UINT32_MAX)
		ticks = UINT32_MAX; /* rt_sleep_ns() sleeps the rest */
	lapic_write(LAPIC_INIT_COUNT, (uint32_t)ticks);
	/* sti takes effect after hlt starts: no wake-up is lost. */
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
	return HVT_OK;
}
