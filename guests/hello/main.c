/*
 * hello: the smallest useful guest.
 *
 *   hello.hvt [N [INTERVAL_MS]]
 *
 * Reports READY first thing (boot-to-READY is what the summoner waits
 * for), greets, then beats every INTERVAL_MS (default 100) with its beat
 * count as progress.  With N it exits 0 after N beats; without, it runs
 * until stopped.
 */
#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define NSEC_PER_MSEC 1000000ull

int
guest_main(int argc, char **argv)
{
	unsigned long beats = 0, interval_ms = 100;

	hb_ready();
	printf("Hello, world: summoner guest up\n");

	if (argc > 1)
		beats = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		interval_ms = strtoul(argv[2], NULL, 0);

	for (unsigned long i = 1; beats == 0 || i <= beats; i++) {
		rt_sleep_ns(interval_ms * NSEC_PER_MSEC);
		hb_beat(i);
	}
	printf("hello: %lu heartbeats, bye\n", beats);
	return 0;
}
