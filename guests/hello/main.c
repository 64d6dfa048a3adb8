/*
 * hello: the smallest useful guest.
 *
 *   hello.hvt [N [INTERVAL_MS [READY_DELAY_MS]]]
 *
 * Reports READY first thing (boot-to-READY is what the summoner waits
 * for), greets, then beats every INTERVAL_MS (default 100) with its beat
 * count as progress.  With N it exits 0 after N beats; without (or with
 * 0), it runs until stopped.  READY_DELAY_MS makes it a slow starter:
 * it sleeps that long before READY (the summoner's ready deadline).
 */
#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define NSEC_PER_MSEC 1000000ull

int
guest_main(int argc, char **argv)
{
	unsigned long beats = 0, interval_ms = 100;

	if (argc > 3)
		rt_sleep_ns(strtoul(argv[3], NULL, 0) * NSEC_PER_MSEC);
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
