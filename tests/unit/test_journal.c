/*
 * test_journal.c: the journal on a real SQLite file in a fresh directory
 * per test, with a fake wall clock.  What was written is read back through
 * the journal's own queries, and through a second SQLite connection for
 * what has no query (transitions, decisions, heartbeats, pragmas).  The
 * crash tests kill a writing child with SIGKILL and check that every write
 * it was told succeeded is there.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "summoner/journal.h"

struct fixture {
	char dir[64];
	char path[128];
};

static uint64_t fake_ms;
static uint64_t (*default_clock)(void); /* journal_clock before any test */

static uint64_t
fake_clock(void)
{
	return fake_ms;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_journal.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/journal.db", fx->dir);
	fake_ms = 1700000000000ull;
	journal_clock = fake_clock;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static struct journal *
must_open(const char *path)
{
	char err[512] = "";
	struct journal *j = journal_open(path, err, sizeof(err));

	if (j == NULL)
		fail_msg("journal_open: %s", err);
	return j;
}

/* One value of a query, as text, through a connection of our own. */
static char *
sql1(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *out = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		out = strdup(t != NULL ? (const char *)t : "(null)");
	} else
		out = strdup("(no row)");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

static long long
sql_int(const char *path, const char *sql)
{
	char *s = sql1(path, sql);
	long long v = strtoll(s, NULL, 10);

	free(s);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	        NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* ---- opening ---- */

static void
journal_open__new_file__wal_mode_0600_schema_1(void **state)
{
	struct fixture *fx = *state;
	struct journal *j;
	struct stat sb;
	char wal[160], *mode;

	j = must_open(fx->path);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(
	    journal_transition(j, "www", 1, "booting", "ready", 1000, NULL), 0);
	/* While open, the WAL holds the commits, with the file's mode. */
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	mode = sql1(fx->path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 1);
	assert_int_equal(
	    sql_int(fx->path, "SELECT count(*) FROM transitions"), 1);
	journal_close(j);
	/* Closed: checkpointed, and still WAL for the next opener. */
	mode = sql1(fx->path, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
}

static void
journal_open__reopen__keeps_rows(void **state)
{
	struct fixture *fx = *state;
	struct journal *j;

	j = must_open(fx->path);
	assert_int_equal(
	    journal_instance(j, "www", 1, 42, "hello.hvt", "tok"), 0);
	journal_close(j);
	j = must_open(fx->path);
	assert_int_equal(journal_next_id(j, "www"), 2);
	journal_close(j);
}

static void
journal_open__text_file__refused_not_database(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";
	FILE *f;
	int i;

	f = fopen(fx->path, "w");
	assert_non_null(f);
	for (i = 0; i < 100; i++)
		fprintf(f, "this is not a database, line %d\n", i);
	fclose(f);
	assert_null(journal_open(fx->path, err, sizeof(err)));
	assert_non_null(strstr(err, "not an SQLite database"));
	assert_non_null(strstr(err, fx->path));
}

static void
journal_open__short_garbage__refused(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";
	FILE *f;

	f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs("SQLite format 3", f); /* a header cut short */
	fclose(f);
	assert_null(journal_open(fx->path, err, sizeof(err)));
	assert_true(err[0] != '\0');
}

static void
journal_open__future_schema__refused_newer(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";

	journal_close(must_open(fx->path));
	sql_exec(fx->path, "PRAGMA user_version = 99");
	assert_null(journal_open(fx->path, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99 is newer"));
	/* Nothing was touched: still 99. */
	assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 99);
}

static void
journal_open__foreign_database__refused(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";

	sql_exec(fx->path, "CREATE TABLE accounts (name TEXT)");
	assert_null(journal_open(fx->path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a summoner journal"));
	assert_int_equal(
	    sql_int(fx->path, "SELECT count(*) FROM sqlite_schema"), 1);
}

static void
journal_open__missing_directory__refused(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "", path[200];

	snprintf(path, sizeof(path), "%s/nodir/journal.db", fx->dir);
	assert_null(journal_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_null(journal_open(fx->dir, err, sizeof(err)));
	assert_non_null(strstr(err, fx->dir));
	assert_null(journal_open("", err, sizeof(err)));
}

static void
journal_open__corrupt_pages__refused_without_crash(void **state)
{
	struct fixture *fx = *state;
	struct journal *j;
	char err[512] = "", junk[4096];
	unsigned i;
	int fd;

	j = must_open(fx->path);
	for (i = 0; i < 300; i++)
		assert_int_equal(journal_decision(j, "www", i, "fault",
		                     "restart", "a detail long enough to fill"),
		    0);
	journal_close(j);
	/* Scribble over the pages after the first (the header stays). */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	fd = open(fx->path, O_WRONLY);
	assert_true(fd >= 0);
	for (i = 1; i < 6; i++)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), i * 4096),
		    (ssize_t)sizeof(junk));
	close(fd);
	assert_null(journal_open(fx->path, err, sizeof(err)));
	assert_non_null(strstr(err, "corrupt"));
}

/* ---- writes and queries ---- */

struct seen {
	int n;
	struct {
		char service[16], kind[16], sig[32], message[64], dir[32];
		char bt[64];
		unsigned id;
		bool known;
		uint64_t rip, t_ms;
		int64_t vector;
		long long rowid;
	} f[8];
};

static void
collect_fault(void *arg, const struct journal_fault *f)
{
	struct seen *s = arg;

	if (s->n >= 8)
		return;
	snprintf(s->f[s->n].service, 16, "%s", f->service);
	snprintf(s->f[s->n].kind, 16, "%s", f->kind);
	snprintf(s->f[s->n].sig, 32, "%s", f->signature);
	snprintf(s->f[s->n].message, 64, "%s", f->message);
	snprintf(s->f[s->n].dir, 32, "%s", f->dir);
	snprintf(s->f[s->n].bt, 64, "%s", f->backtrace);
	s->f[s->n].id = f->id;
	s->f[s->n].known = f->known;
	s->f[s->n].rip = f->rip;
	s->f[s->n].vector = f->vector;
	s->f[s->n].t_ms = f->t_ms;
	s->f[s->n].rowid = f->rowid;
	s->n++;
}

static void
put_fault(struct journal *j, const char *svc, unsigned id, const char *sig,
    uint64_t rip, int64_t vector)
{
	struct journal_fault f = {
	    .service = svc,
	    .id = id,
	    .kind = vector >= 0 ? "exception" : "exit",
	    .signature = sig,
	    .known = journal_signature_known(j, svc, sig),
	    .message = "page fault at 0x0",
	    .dir = "/var/faults/x",
	    .backtrace = "crash_fn\nmain\n_start",
	    .rip = rip,
	    .vector = vector,
	};

	assert_int_equal(journal_fault(j, &f), 0);
	fake_ms += 10;
}

static void
journal_faults__three_faults__newest_first_limit_filter(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct seen s;

	put_fault(j, "crash", 1, "aaaa", 0xffffffff80001234ull, 14);
	put_fault(j, "www", 1, "bbbb", 0x100000, -1);
	put_fault(j, "crash", 2, "aaaa", 0x1234, 14);

	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_faults(j, NULL, 0, collect_fault, &s), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.f[0].id, 2);
	assert_string_equal(s.f[1].service, "www");
	assert_int_equal(s.f[2].id, 1);
	assert_true(s.f[0].rowid > s.f[1].rowid);
	assert_int_equal(s.f[2].t_ms, 1700000000000ull);
	assert_int_equal(s.f[0].t_ms, 1700000000020ull);
	assert_int_equal(s.f[2].rip, 0xffffffff80001234ull);
	assert_int_equal(s.f[2].vector, 14);
	assert_int_equal(s.f[1].vector, -1);
	assert_string_equal(s.f[1].kind, "exit");
	assert_string_equal(s.f[2].message, "page fault at 0x0");
	assert_string_equal(s.f[2].dir, "/var/faults/x");
	assert_string_equal(s.f[2].bt, "crash_fn\nmain\n_start");
	assert_false(s.f[2].known);
	assert_true(s.f[0].known);

	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_faults(j, NULL, 2, collect_fault, &s), 2);
	assert_int_equal(s.f[0].id, 2);
	assert_string_equal(s.f[1].service, "www");

	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_faults(j, "crash", 0, collect_fault, &s), 2);
	assert_string_equal(s.f[0].service, "crash");
	assert_int_equal(s.f[0].id, 2);
	assert_int_equal(s.f[1].id, 1);

	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_faults(j, "crash", 1, collect_fault, &s), 1);
	assert_int_equal(s.f[0].id, 2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_faults(j, "nosuch", 0, collect_fault, &s), 0);
	assert_int_equal(s.n, 0);
	journal_close(j);
}

static void
journal_signature_known__per_service_and_across_reopen(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);

	assert_false(journal_signature_known(j, "crash", "aaaa"));
	put_fault(j, "crash", 1, "aaaa", 1, 14);
	assert_true(journal_signature_known(j, "crash", "aaaa"));
	assert_false(journal_signature_known(j, "crash", "aaab"));
	assert_false(journal_signature_known(j, "www", "aaaa"));
	journal_close(j);
	j = must_open(fx->path);
	assert_true(journal_signature_known(j, "crash", "aaaa"));
	assert_false(journal_signature_known(j, "www", "aaaa"));
	journal_close(j);
}

struct lefts {
	int n;
	char list[512];
};

static void
collect_leftover(void *arg, const struct journal_leftover *l)
{
	struct lefts *s = arg;
	size_t len = strlen(s->list);

	snprintf(s->list + len, sizeof(s->list) - len,
	    "%s#%u %s pid=%ld image=%s gdb=%s core=%s dir=%s exp=%llu;",
	    l->service, l->id, l->state, l->pid, l->image, l->gdb, l->core,
	    l->dir, (unsigned long long)l->expires_ms);
	s->n++;
}

static void
journal_leftovers__mixed_states__live_ones_only(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct lefts s;

	/* www#1 ready, www#2 stopped, www#3 booting, api#1 retired, crash#1
	 * quarantined. */
	journal_instance(j, "www", 1, 101, "hello.hvt", "t1");
	journal_transition(j, "www", 1, "booting", "ready", 5, NULL);
	journal_instance(j, "www", 2, 102, "hello.hvt", "t2");
	journal_transition(j, "www", 2, "booting", "ready", 5, NULL);
	journal_transition(j, "www", 2, "ready", "stopping", 5, "idle");
	journal_transition(j, "www", 2, "stopping", "stopped", 5, NULL);
	journal_instance(j, "www", 3, 103, "hello.hvt", "t3");
	journal_instance(j, "api", 1, 0, "api.hvt", "t4");
	journal_transition(j, "api", 1, "booting", "faulted", 5, "exit 3");
	journal_transition(j, "api", 1, "faulted", "retired", 5, NULL);
	journal_instance(j, "crash", 1, 104, "crash.hvt", "t5");
	journal_transition(j, "crash", 1, "booting", "faulted", 5, NULL);
	journal_transition(j, "crash", 1, "faulted", "quarantined", 5, NULL);
	assert_int_equal(journal_quarantine(j, "crash", 1, 0, "/run/gdb.sock",
	                     "/f/core", "/f", 1700000060000ull),
	    0);
	journal_close(j);

	j = must_open(fx->path);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_leftovers(j, collect_leftover, &s), 3);
	assert_string_equal(s.list,
	    "crash#1 quarantined pid=104 image=crash.hvt gdb=/run/gdb.sock "
	    "core=/f/core dir=/f exp=1700000060000;"
	    "www#1 ready pid=101 image=hello.hvt gdb= core= dir= exp=0;"
	    "www#3 booting pid=103 image=hello.hvt gdb= core= dir= exp=0;");
	journal_close(j);
}

static void
reap(void *arg, const struct journal_leftover *l)
{
	struct journal *j = arg;

	/* What the daemon does at start-up: journal while iterating. */
	assert_int_equal(journal_transition(j, l->service, l->id, l->state,
	                     "stopped", 0, "reaped at start-up"),
	    0);
}

static void
journal_leftovers__callback_writes__committed(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct lefts s;

	journal_instance(j, "www", 1, 101, "hello.hvt", "t1");
	journal_instance(j, "www", 2, 102, "hello.hvt", "t2");
	assert_int_equal(journal_leftovers(j, reap, j), 2);
	/* Visible to another connection at once: committed. */
	assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM transitions "
	                                   "WHERE to_state = 'stopped'"),
	    2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_leftovers(j, collect_leftover, &s), 0);
	journal_close(j);
}

static void
journal_quarantine__later_transition__clears_details(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct lefts s;

	journal_instance(j, "crash", 1, 104, "crash.hvt", "t");
	journal_transition(j, "crash", 1, "booting", "faulted", 5, NULL);
	/* Details first, transition after: the transition keeps them. */
	journal_quarantine(j, "crash", 1, 0, "127.0.0.1:1234", "/c", "/d", 99);
	journal_transition(j, "crash", 1, "faulted", "quarantined", 5, NULL);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_leftovers(j, collect_leftover, &s), 1);
	assert_string_equal(s.list,
	    "crash#1 quarantined pid=104 image=crash.hvt gdb=127.0.0.1:1234 "
	    "core=/c dir=/d exp=99;");

	journal_transition(
	    j, "crash", 1, "quarantined", "restarting", 5, "expired");
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_leftovers(j, collect_leftover, &s), 1);
	assert_string_equal(s.list, "crash#1 restarting pid=104 "
	                            "image=crash.hvt gdb= core= dir= exp=0;");
	journal_close(j);
}

static void
journal_quarantine__unknown_instance__row_made(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct lefts s;

	assert_int_equal(
	    journal_quarantine(j, "crash", 7, 55, "/g", "/c", "/d", 0), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_leftovers(j, collect_leftover, &s), 1);
	assert_string_equal(s.list, "crash#7 quarantined pid=55 image= gdb=/g "
	                            "core=/c dir=/d exp=0;");
	journal_close(j);
}

static void
journal_next_id__services_and_reopen__one_past_highest(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);

	assert_int_equal(journal_next_id(j, "www"), 1);
	journal_instance(j, "www", 1, 0, "", "");
	journal_instance(j, "www", 7, 0, "", "");
	journal_instance(j, "www", 3, 0, "", "");
	/* A transition alone makes the instance known too. */
	journal_transition(j, "api", 4, "booting", "ready", 1, NULL);
	assert_int_equal(journal_next_id(j, "www"), 8);
	assert_int_equal(journal_next_id(j, "api"), 5);
	assert_int_equal(journal_next_id(j, "other"), 1);
	journal_close(j);
	j = must_open(fx->path);
	assert_int_equal(journal_next_id(j, "www"), 8);
	assert_int_equal(journal_next_id(j, "api"), 5);
	journal_close(j);
}

static void
journal_decision_heartbeats__written__rows_there(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	char *s;

	assert_int_equal(journal_decision(j, "www", 2, "fault", "restart",
	                     "rule 3: exit 1 -> restart after 100 ms"),
	    0);
	assert_int_equal(
	    journal_heartbeats(j, "www", 2, 1000, 3, UINT64_MAX, 1ull << 40),
	    0);
	s = sql1(fx->path, "SELECT t || ' ' || service || '#' || id || ' ' || "
	                   "event || ' ' || action || ': ' || detail "
	                   "FROM decisions");
	assert_string_equal(s, "1700000000000 www#2 fault restart: rule 3: "
	                       "exit 1 -> restart after 100 ms");
	free(s);
	s = sql1(fx->path, "SELECT beats || ' ' || misses || ' ' || last_seq "
	                   "|| ' ' || progress FROM heartbeats");
	/* uint64 stored as SQLite's signed 64 bits. */
	assert_string_equal(s, "1000 3 -1 1099511627776");
	free(s);
	journal_close(j);
}

static void
journal_transition__quotes_and_odd_bytes__round_trip(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	char odd[256], *s, hexq[129];
	unsigned i;
	struct seen seen;
	struct journal_fault f;

	for (i = 1; i < 256; i++)
		odd[i - 1] = (char)i; /* every byte but NUL, invalid UTF-8 */
	odd[255] = '\0';
	assert_int_equal(journal_transition(j, "www", 1, "booting", "ready", 1,
	                     "it's \"quoted\"'); DROP TABLE faults; --"),
	    0);
	assert_int_equal(
	    journal_transition(j, "www", 1, "ready", "faulted", 1, odd), 0);
	s = sql1(fx->path, "SELECT why FROM transitions WHERE seq = 1");
	assert_string_equal(s, "it's \"quoted\"'); DROP TABLE faults; --");
	free(s);
	s = sql1(fx->path, "SELECT hex(why) FROM transitions WHERE seq = 2");
	for (i = 0; i < 64; i++)
		snprintf(hexq + 2 * i, 3, "%02X", (unsigned char)odd[i]);
	assert_int_equal(strlen(s), 2 * 255);
	assert_memory_equal(s, hexq, 128);
	free(s);

	memset(&f, 0, sizeof(f));
	f.service = "www";
	f.signature = "x";
	f.message = odd;
	f.backtrace = odd;
	assert_int_equal(journal_fault(j, &f), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(journal_faults(j, "www", 1, collect_fault, &seen), 1);
	assert_memory_equal(seen.f[0].bt, odd, 63);
	assert_string_equal(seen.f[0].kind, ""); /* NULL stored as "" */
	journal_close(j);
}

static void
journal_fault__long_strings__truncated_on_char_boundary(void **state)
{
	struct fixture *fx = *state;
	struct journal *j = must_open(fx->path);
	struct journal_fault f;
	char *msg, *bt;

	msg = malloc(10000);
	bt = malloc(20000);
	assert_non_null(msg);
	assert_non_null(bt);
	/* 'a' then 2-byte characters: byte 4096 falls inside one. */
	msg[0] = 'a';
	for (size_t i = 1; i + 2 < 10000; i += 2) {
		msg[i] = (char)0xc3;
		msg[i + 1] = (char)0xa9;
	}
	msg[9999] = '\0';
	memset(bt, 'f', 19999);
	bt[19999] = '\0';
	memset(&f, 0, sizeof(f));
	f.service = "www";
	f.kind = "exception";
	f.message = msg;
	f.backtrace = bt;
	assert_int_equal(journal_fault(j, &f), 0);
	assert_int_equal(
	    sql_int(
	        fx->path, "SELECT length(CAST(message AS BLOB)) FROM faults"),
	    4095);
	assert_int_equal(
	    sql_int(fx->path, "SELECT length(backtrace) FROM faults"), 8192);
	assert_int_equal(journal_transition(j, "www", 1, "a", "b", 0, bt), 0);
	assert_int_equal(
	    sql_int(fx->path, "SELECT length(why) FROM transitions"), 4096);
	free(msg);
	free(bt);
	journal_close(j);
}

static void
journal__null_journal__accepted(void **state)
{
	struct journal_fault f;

	(void)state;
	memset(&f, 0, sizeof(f));
	journal_close(NULL);
	assert_int_equal(journal_instance(NULL, "a", 1, 0, "", ""), 0);
	assert_int_equal(journal_transition(NULL, "a", 1, "x", "y", 0, ""), 0);
	assert_int_equal(journal_fault(NULL, &f), 0);
	assert_int_equal(journal_decision(NULL, "a", 1, "e", "a", "d"), 0);
	assert_int_equal(journal_heartbeats(NULL, "a", 1, 0, 0, 0, 0), 0);
	assert_int_equal(journal_quarantine(NULL, "a", 1, 0, "", "", "", 0), 0);
	assert_false(journal_signature_known(NULL, "a", "s"));
	assert_int_equal(journal_faults(NULL, NULL, 0, collect_fault, NULL), 0);
	assert_int_equal(journal_leftovers(NULL, collect_leftover, NULL), 0);
	assert_int_equal(journal_next_id(NULL, "a"), 1);
}

static void
journal_clock__default__realtime_ms(void **state)
{
	struct timespec ts;
	uint64_t now, got;

	(void)state;
	assert_non_null(default_clock);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	got = default_clock();
	assert_true(got >= now && got < now + 1000);
}

/* ---- SIGKILL ---- */

/*
 * Each round a child opens the journal (recovering the WAL the last child
 * left), makes every kind of write for instance crash#round, and kills
 * itself the moment the last call returns.  The parent reopens and counts.
 */
static void
journal__sigkill_after_writes__all_rows_there(void **state)
{
	struct fixture *fx = *state;
	struct journal *j;
	char sql[256];
	pid_t pid;
	int round, st, k;
	const int rounds = 200, per = 4;

	for (round = 0; round < rounds; round++) {
		if ((pid = fork()) == -1)
			fail_msg("fork: %s", strerror(errno));
		if (pid == 0) {
			char err[256];
			struct journal_fault f = {.service = "crash",
			    .id = (unsigned)round,
			    .kind = "exception",
			    .signature = "s",
			    .message = "m",
			    .vector = 14};

			if ((j = journal_open(fx->path, err, sizeof(err))) ==
			    NULL)
				_exit(2);
			if (journal_instance(j, "crash", round, getpid(),
			        "crash.hvt", "tok") != 0)
				_exit(3);
			for (k = 0; k < per; k++)
				if (journal_transition(j, "crash", round, "a",
				        "b", k, "w") != 0)
					_exit(3);
			if (journal_fault(j, &f) != 0 ||
			    journal_decision(j, "crash", round, "fault",
			        "quarantine", "d") != 0 ||
			    journal_quarantine(
			        j, "crash", round, 0, "g", "c", "d", 5) != 0)
				_exit(3);
			kill(getpid(), SIGKILL);
			_exit(4);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			fail_msg(
			    "round %d: child ended with status %#x", round, st);
		/* The parent reopens: WAL recovery, quick_check. */
		j = must_open(fx->path);
		journal_close(j);
		snprintf(sql, sizeof(sql),
		    "SELECT (SELECT count(*) FROM transitions WHERE id = %d) ||"
		    " (SELECT count(*) FROM faults WHERE id = %d) ||"
		    " (SELECT count(*) FROM decisions WHERE id = %d) ||"
		    " (SELECT gdb FROM instances WHERE id = %d)",
		    round, round, round, round);
		char *got = sql1(fx->path, sql);
		assert_string_equal(got, "411g");
		free(got);
	}
}

/*
 * A child writes as fast as it can, reporting each success on a pipe; the
 * parent kills it after a random number of reports, so the kill lands
 * anywhere in a write or a checkpoint.  Every reported write must be
 * there.
 */
static void
journal__sigkill_at_random_point__reported_writes_there(void **state)
{
	struct fixture *fx = *state;
	struct journal *j;
	char sql[256];
	pid_t pid;
	int round, st, p[2];
	const int rounds = 30;
	unsigned seed = (unsigned)time(NULL);

	srand(seed);
	for (round = 0; round < rounds; round++) {
		/* Past 1000 WAL pages the checkpointer thread runs, past
		 * 16000 (round 0) the writer catches up itself: killed
		 * anywhere in those too. */
		int target = round == 0 ? 9000 : 1 + rand() % 1200, got = 0;
		int32_t v, last = -1;

		assert_int_equal(pipe(p), 0);
		if ((pid = fork()) == -1)
			fail_msg("fork: %s", strerror(errno));
		if (pid == 0) {
			char err[256];
			int32_t k;

			close(p[0]);
			if ((j = journal_open(fx->path, err, sizeof(err))) ==
			    NULL)
				_exit(2);
			for (k = 0;; k++) {
				if (journal_transition(j, "loop", round, "a",
				        "b", (uint64_t)k, "w") != 0)
					_exit(3);
				if (write(p[1], &k, sizeof(k)) != sizeof(k))
					_exit(4);
			}
		}
		close(p[1]);
		while (got < target && read(p[0], &v, sizeof(v)) == sizeof(v)) {
			last = v;
			got++;
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
			fail_msg(
			    "round %d: child ended with status %#x", round, st);
		/* Reports still in the pipe were successes too. */
		while (read(p[0], &v, sizeof(v)) == sizeof(v))
			last = v;
		close(p[0]);
		assert_true(last >= target - 1);

		j = must_open(fx->path);
		journal_close(j);
		snprintf(sql, sizeof(sql),
		    "SELECT count(DISTINCT dt_ns) FROM transitions "
		    "WHERE id = %d AND dt_ns <= %d",
		    round, last);
		if (sql_int(fx->path, sql) != last + 1)
			fail_msg("round %d (seed %u): %lld of %d reported "
			         "writes found",
			    round, seed, sql_int(fx->path, sql), last + 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        journal_open__new_file__wal_mode_0600_schema_1, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__reopen__keeps_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__text_file__refused_not_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__short_garbage__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__future_schema__refused_newer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__foreign_database__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__missing_directory__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_open__corrupt_pages__refused_without_crash, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_faults__three_faults__newest_first_limit_filter, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_signature_known__per_service_and_across_reopen, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_leftovers__mixed_states__live_ones_only, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_leftovers__callback_writes__committed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_quarantine__later_transition__clears_details, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_quarantine__unknown_instance__row_made, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_next_id__services_and_reopen__one_past_highest, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_decision_heartbeats__written__rows_there, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_transition__quotes_and_odd_bytes__round_trip, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        journal_fault__long_strings__truncated_on_char_boundary, setup,
	        teardown),
	    cmocka_unit_test(journal__null_journal__accepted),
	    cmocka_unit_test(journal_clock__default__realtime_ms),
	    cmocka_unit_test_setup_teardown(
	        journal__sigkill_after_writes__all_rows_there, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        journal__sigkill_at_random_point__reported_writes_there, setup,
	        teardown),
	};

	default_clock = journal_clock;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
