/*
 * journal.c (bench): the cost of one journal write as the DNS event loop
 * pays it.  Each call is timed alone on CLOCK_MONOTONIC, over N calls per
 * kind into a fresh journal in DIR; prints median, p99, p99.9 and max in
 * microseconds.  Back-to-back writes are the worst case: the WAL grows
 * until the writer has to catch up with the checkpointer itself, which
 * shows in the tail (journal.c, "Checkpoints"); paced writes are the
 * daemon's usual case.
 * Prints figures only; never fails on a time.
 *
 *   journalbench DIR [N]
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "summoner/journal.h"

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, uint64_t *ns, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += ns[i];
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("bench journal: %-22s n=%zu median %.1f us  p99 %.1f us  "
	       "p99.9 %.1f us  max %.1f us  mean %.1f us\n",
	    what, n, ns[n / 2] / 1e3, ns[n * 99 / 100] / 1e3,
	    ns[n * 999 / 1000] / 1e3, ns[n - 1] / 1e3, (double)sum / n / 1e3);
}

int
main(int argc, char **argv)
{
	struct journal *j = NULL;
	struct journal_fault f;
	char path[4096], err[512], sig[32], wal[4200];
	const char *bt = "crash_page_fault\ncrash_main\nsolo5_app_main\n"
	                 "_start2\n_start";
	uint64_t *ns = NULL, t0;
	size_t n = 10000, i;
	struct stat sb;
	int rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: journalbench DIR [N]\n");
		return 2;
	}
	if (argc == 3)
		n = strtoul(argv[2], NULL, 10);
	if (n < 10) {
		fprintf(stderr, "journalbench: N must be at least 10\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/journal.db", argv[1]);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(path);
	unlink(wal);
	if ((j = journal_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "journalbench: %s\n", err);
		return 1;
	}
	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		goto out;

	/* Warm the caches and the statements. */
	for (i = 0; i < 100; i++)
		journal_transition(j, "warm", 1, "booting", "ready", 1, NULL);

	for (i = 0; i < n; i++) {
		journal_instance(j, "www", (unsigned)i + 1, 1000 + (long)i,
		    "build/guests/hello.hvt", "0123456789abcdef");
		t0 = now_ns();
		if (journal_transition(j, "www", (unsigned)i + 1, "booting",
		        "ready", 1234567, "ready message") != 0)
			goto out;
		ns[i] = now_ns() - t0;
	}
	report("transition", ns, n);

	/* The same at 1000 writes a second: what the checkpointer keeps
	 * up with, so no write pays for a checkpoint. */
	for (i = 0; i < n / 10; i++) {
		struct timespec gap = {0, 1000000};

		nanosleep(&gap, NULL);
		t0 = now_ns();
		if (journal_transition(j, "www", (unsigned)i + 1, "ready",
		        "stopping", 1234567, "idle") != 0)
			goto out;
		ns[i] = now_ns() - t0;
	}
	report("transition, 1/ms", ns, n / 10);

	memset(&f, 0, sizeof(f));
	f.service = "crash";
	f.kind = "exception";
	f.message = "#PF at 0x0 (write, not present) in crash_page_fault";
	f.dir = "/var/lib/summoner/faults/crash-17-1700000000000";
	f.backtrace = bt;
	f.rip = 0x1001a3;
	f.vector = 14;
	for (i = 0; i < n; i++) {
		/* A handful of signatures, as a crash loop would give. */
		snprintf(sig, sizeof(sig), "%016zx", i % 8);
		f.signature = sig;
		f.id = (unsigned)i + 1;
		t0 = now_ns();
		f.known = journal_signature_known(j, "crash", sig);
		ns[i] = now_ns() - t0;
	}
	report("signature_known", ns, n);
	for (i = 0; i < n; i++) {
		snprintf(sig, sizeof(sig), "%016zx", i % 8);
		f.signature = sig;
		f.id = (unsigned)i + 1;
		t0 = now_ns();
		if (journal_fault(j, &f) != 0)
			goto out;
		ns[i] = now_ns() - t0;
	}
	report("fault", ns, n);

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (journal_decision(j, "crash", (unsigned)i + 1, "fault",
		        "restart",
		        "rule 2: exception -> restart in 100 ms") != 0)
			goto out;
		ns[i] = now_ns() - t0;
	}
	report("decision", ns, n);

	/* Back-to-back writes never let the checkpointer finish the whole
	 * WAL, so it cannot restart and grows; sparse writes reset it. */
	if (stat(wal, &sb) == 0)
		printf("bench journal: WAL %.1f MB after the run\n",
		    sb.st_size / 1e6);
	t0 = now_ns();
	journal_close(j);
	j = NULL;
	printf("bench journal: close (final checkpoint) %.1f ms\n",
	    (now_ns() - t0) / 1e6);
	if (stat(path, &sb) == 0)
		printf("bench journal: file %.1f MB for %zu rows\n",
		    sb.st_size / 1e6, 4 * n + n / 10 + 100);
	t0 = now_ns();
	if ((j = journal_open(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "journalbench: reopen: %s\n", err);
		goto out;
	}
	printf("bench journal: reopen (quick_check) %.1f ms\n",
	    (now_ns() - t0) / 1e6);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "journalbench: a write failed\n");
	journal_close(j);
	free(ns);
	return rc;
}
