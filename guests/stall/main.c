/*
 * stall: alive but making no progress.
 *
 *   stall.hvt [BEATS]
 *
 * READY, then a heartbeat every 100 ms whose progress never moves
 * (X_PROGRESS=1 every time; X_SEQ still counts), so the host should
 * detect a stall rather than a missed heartbeat.  With BEATS it exits 0
 * after that many beats; without, it runs until stopped.
 */
#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define BEAT_INTERVAL_NS 100000000ull
#define STUCK_PROGRESS   1

int
guest_main(int argc, char **argv)
{
	unsigned long beats = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;

	hb_ready();
	printf("stall: beating without progress\n");
	for (unsigned long i = 1; beats == 0 || i <= beats; i++) {
		rt_sleep_ns(BEAT_INTERVAL_NS);
		hb_beat(STUCK_PROGRESS);
	}
	return 0;
}
