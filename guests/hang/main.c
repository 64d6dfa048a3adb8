/*
 * hang: beats a little, then wedges.
 *
 *   hang.hvt [BEATS]
 *
 * READY, BEATS heartbeats (default 2) 100 ms apart, prints
 * "hang: spinning", then spins forever without a single hypercall: the
 * host sees the heartbeats stop (heartbeat-miss) while the vCPU stays
 * busy.
 */
#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define BEAT_INTERVAL_NS 100000000ull

/* Named so that a debugger or a dump shows where the guest is stuck. */
static __attribute__((noipa)) void
hang_spin(void)
{
	for (;;)
		__asm__ __volatile__("pause");
}

int
guest_main(int argc, char **argv)
{
	unsigned long beats = argc > 1 ? strtoul(argv[1], NULL, 0) : 2;

	hb_ready();
	for (unsigned long i = 1; i <= beats; i++) {
		rt_sleep_ns(BEAT_INTERVAL_NS);
		hb_beat(i);
	}
	printf("hang: spinning\n");
	hang_spin();
	return 0;
}
