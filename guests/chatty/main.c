/*
 * chatty: floods the console and the log.
 *
 *   chatty.hvt [LINES]
 *
 * READY, then as fast as it can, for i = 1, 2, ...: a console line
 * "chatty: console line <i>" and a log line "chatty: log line <i>",
 * with a heartbeat (progress i) every 1000 lines so the flood itself is
 * not mistaken for a hang.  With LINES it prints "chatty: done <LINES>"
 * and exits 0 after that many of each; without, it never stops.
 */
#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define LINES_PER_BEAT 1000

int
guest_main(int argc, char **argv)
{
	unsigned long lines = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	unsigned long i;

	hb_ready();
	for (i = 1; lines == 0 || i <= lines; i++) {
		printf("chatty: console line %lu\n", i);
		hb_log("chatty: log line %lu", i);
		if (i % LINES_PER_BEAT == 0)
			hb_beat(i);
	}
	printf("chatty: done %lu\n", lines);
	return 0;
}
