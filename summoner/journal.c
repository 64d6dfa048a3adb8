/*
 * journal.c: the journal on SQLite (see journal.h, docs/journal.md).
 *
 * One connection, used from the daemon's one thread.  Every write is one
 * prepared statement run in autocommit mode: when sqlite3_step() returns
 * SQLITE_DONE its frames are in the WAL file (in the kernel's page cache
 * at least), so a SIGKILL a moment later loses nothing.  A transition also
 * updates the instance's current row; a trigger does that inside the same
 * statement, so the pair is atomic without BEGIN/COMMIT round trips.
 *
 * Checkpoints (copying the WAL back into the database, with an fsync)
 * would otherwise run inside whichever write crosses 1000 WAL pages and
 * stall the event loop for milliseconds; a thread with its own connection
 * runs them instead, woken by the WAL hook.  A passive checkpoint takes no
 * lock a writer waits for.  But the WAL only starts over when a write
 * finds it wholly copied back, which a steady stream of writes never
 * lets happen: past WAL_MAX_FRAMES the thread is left idle and the next
 * commit copies the few frames it has not (one fsync on the event loop,
 * only under sustained load), so the WAL stays near 16 MB.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal.h"
#include "log.h"

/* "SMNR": marks a journal among SQLite files (PRAGMA application_id). */
#define JOURNAL_APP_ID 0x534d4e52
#define JOURNAL_SCHEMA 1
#define STR_(x)        #x
#define STR(x)         STR_(x)
#define BUSY_MS        100
#define TEXT_MAX       4096 /* any string but a backtrace */
#define BACKTRACE_MAX  8192
#define CKPT_FRAMES    1000  /* SQLite's own autocheckpoint threshold */
#define PAGE_SIZE      1024  /* a commit writes whole pages to the WAL */
#define WAL_MAX_FRAMES 16000 /* 16 MB: then the writer catches up */

/*
 * migrations[v] brings a journal from schema version v to v + 1; each runs
 * in one transaction with the user_version update.  Version 0 is an empty
 * file.  Never edit a released step: add one.
 */
static const char *const migrations[JOURNAL_SCHEMA] = {
    /* 0 -> 1 */
    "CREATE TABLE instances ("
    "  service    TEXT    NOT NULL,"
    "  id         INTEGER NOT NULL,"
    "  pid        INTEGER NOT NULL DEFAULT 0,"
    "  image      TEXT    NOT NULL DEFAULT '',"
    "  token      TEXT    NOT NULL DEFAULT '',"
    "  t_created  INTEGER NOT NULL,"
    "  state      TEXT    NOT NULL,"
    "  t_state    INTEGER NOT NULL,"
    "  gdb        TEXT    NOT NULL DEFAULT '',"
    "  core       TEXT    NOT NULL DEFAULT '',"
    "  dir        TEXT    NOT NULL DEFAULT '',"
    "  expires_ms INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (service, id)"
    ") WITHOUT ROWID;"
    "CREATE TABLE transitions ("
    "  seq        INTEGER PRIMARY KEY,"
    "  t          INTEGER NOT NULL,"
    "  service    TEXT    NOT NULL,"
    "  id         INTEGER NOT NULL,"
    "  from_state TEXT    NOT NULL,"
    "  to_state   TEXT    NOT NULL,"
    "  dt_ns      INTEGER NOT NULL,"
    "  why        TEXT    NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX transitions_instance ON transitions (service, id);"
    /* The current row follows every transition; quarantine details live
     * only while the instance is quarantined. */
    "CREATE TRIGGER transitions_current AFTER INSERT ON transitions BEGIN"
    "  INSERT INTO instances (service, id, t_created, state, t_state)"
    "  VALUES (NEW.service, NEW.id, NEW.t, NEW.to_state, NEW.t)"
    "  ON CONFLICT (service, id) DO UPDATE SET"
    "    state = excluded.state,"
    "    t_state = excluded.t_state,"
    "    gdb = iif(excluded.state = 'quarantined', gdb, ''),"
    "    core = iif(excluded.state = 'quarantined', core, ''),"
    "    dir = iif(excluded.state = 'quarantined', dir, ''),"
    "    expires_ms = iif(excluded.state = 'quarantined', expires_ms, 0);"
    "END;"
    "CREATE TABLE faults ("
    "  seq        INTEGER PRIMARY KEY,"
    "  t          INTEGER NOT NULL,"
    "  service    TEXT    NOT NULL,"
    "  id         INTEGER NOT NULL,"
    "  kind       TEXT    NOT NULL,"
    "  signature  TEXT    NOT NULL,"
    "  known      INTEGER NOT NULL,"
    "  message    TEXT    NOT NULL,"
    "  dir        TEXT    NOT NULL,"
    "  backtrace  TEXT    NOT NULL,"
    "  rip        INTEGER NOT NULL,"
    "  vector     INTEGER NOT NULL"
    ");"
    "CREATE INDEX faults_service ON faults (service);"
    "CREATE INDEX faults_signature ON faults (service, signature);"
    "CREATE TABLE decisions ("
    "  seq        INTEGER PRIMARY KEY,"
    "  t          INTEGER NOT NULL,"
    "  service    TEXT    NOT NULL,"
    "  id         INTEGER NOT NULL,"
    "  event      TEXT    NOT NULL,"
    "  action     TEXT    NOT NULL,"
    "  detail     TEXT    NOT NULL"
    ");"
    "CREATE INDEX decisions_instance ON decisions (service, id);"
    "CREATE TABLE heartbeats ("
    "  seq        INTEGER PRIMARY KEY,"
    "  t          INTEGER NOT NULL,"
    "  service    TEXT    NOT NULL,"
    "  id         INTEGER NOT NULL,"
    "  beats      INTEGER NOT NULL,"
    "  misses     INTEGER NOT NULL,"
    "  last_seq   INTEGER NOT NULL,"
    "  progress   INTEGER NOT NULL"
    ");"
    "CREATE INDEX heartbeats_instance ON heartbeats (service, id);",
};

enum {
	ST_INSTANCE,
	ST_TRANSITION,
	ST_FAULT,
	ST_DECISION,
	ST_HEARTBEATS,
	ST_QUARANTINE,
	ST_SIG_KNOWN,
	ST_FAULTS_ALL,
	ST_FAULTS_SVC,
	ST_LEFTOVERS,
	ST_NEXT_ID,
	ST_COUNT
};

static const char *const statements[ST_COUNT] = {
    [ST_INSTANCE] =
        "INSERT INTO instances (service, id, pid, image, token, t_created,"
        "  state, t_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'booting', ?6)"
        " ON CONFLICT (service, id) DO UPDATE SET"
        "  pid = excluded.pid, image = excluded.image,"
        "  token = excluded.token, t_created = excluded.t_created,"
        "  state = 'booting', t_state = excluded.t_state,"
        "  gdb = '', core = '', dir = '', expires_ms = 0",
    [ST_TRANSITION] =
        "INSERT INTO transitions (t, service, id, from_state, to_state,"
        "  dt_ns, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_FAULT] = "INSERT INTO faults (t, service, id, kind, signature, known,"
                 "  message, dir, backtrace, rip, vector)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DECISION] = "INSERT INTO decisions (t, service, id, event, action,"
                    "  detail) VALUES (?, ?, ?, ?, ?, ?)",
    [ST_HEARTBEATS] =
        "INSERT INTO heartbeats (t, service, id, beats, misses, last_seq,"
        "  progress) VALUES (?, ?, ?, ?, ?, ?, ?)",
    /* The state is the transitions' business; a row made here (no
     * journal_instance() call) can only be a quarantined one. */
    [ST_QUARANTINE] =
        "INSERT INTO instances (service, id, pid, t_created, state, t_state,"
        "  gdb, core, dir, expires_ms)"
        " VALUES (?1, ?2, ?3, ?4, 'quarantined', ?4, ?5, ?6, ?7, ?8)"
        " ON CONFLICT (service, id) DO UPDATE SET"
        "  pid = iif(excluded.pid != 0, excluded.pid, pid),"
        "  gdb = excluded.gdb, core = excluded.core, dir = excluded.dir,"
        "  expires_ms = excluded.expires_ms",
    [ST_SIG_KNOWN] =
        "SELECT 1 FROM faults WHERE service = ? AND signature = ? LIMIT 1",
    [ST_FAULTS_ALL] = "SELECT seq, t, service, id, kind, signature, known,"
                      "  message, dir, backtrace, rip, vector"
                      " FROM faults ORDER BY seq DESC LIMIT ?",
    [ST_FAULTS_SVC] = "SELECT seq, t, service, id, kind, signature, known,"
                      "  message, dir, backtrace, rip, vector"
                      " FROM faults WHERE service = ?"
                      " ORDER BY seq DESC LIMIT ?",
    [ST_LEFTOVERS] = "SELECT service, id, state, pid, image, gdb, core, dir,"
                     "  expires_ms FROM instances"
                     " WHERE state NOT IN ('stopped', 'retired')"
                     " ORDER BY service, id",
    [ST_NEXT_ID] = "SELECT max(id) FROM instances WHERE service = ?",
};

struct journal {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT];

	/* The checkpointer: its thread, connection, and what wakes it. */
	sqlite3 *ckdb;
	pthread_t ckthread;
	bool ckrunning;
	pthread_mutex_t ckmtx;
	pthread_cond_t ckcv;
	bool ckwant, ckquit;
};

static uint64_t
realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t (*journal_clock)(void) = realtime_ms;

/*
 * Bind s (NULL: "") cut to at most max bytes, never inside a UTF-8
 * sequence.  Bytes are stored as they are: SQLite does not check UTF-8,
 * so anything NUL-free reads back unchanged.  SQLITE_STATIC: every
 * statement is stepped and its bindings cleared before the call returns.
 */
static int
bind_text(sqlite3_stmt *st, int i, const char *s, size_t max)
{
	size_t n, back;

	if (s == NULL)
		s = "";
	n = strnlen(s, max + 1);
	if (n > max) {
		n = max;
		for (back = 0;
		     back < 3 && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80;
		     back++)
			n--;
	}
	return sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
}

static int
bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	/* Stored as SQLite's signed 64 bits; read back with the same cast. */
	return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

static void
done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step a bound write statement once; bindok is false if a bind failed. */
static int
run_write(struct journal *j, int which, bool bindok, const char *what)
{
	sqlite3_stmt *st = j->st[which];
	int rc = SQLITE_MISUSE;

	if (bindok)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		log_warnx("journal: %s: %s", what,
		    bindok ? sqlite3_errmsg(j->db) : "cannot bind parameters");
	done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
query_failed(struct journal *j, sqlite3_stmt *st, const char *what)
{
	log_warnx("journal: %s: %s", what, sqlite3_errmsg(j->db));
	done(st);
}

static void
db_error(char *err, size_t errlen, const char *path, sqlite3 *db, int rc,
    const char *what)
{
	const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	if (rc == SQLITE_NOTADB)
		snprintf(
		    err, errlen, "%s: not an SQLite database (%s)", path, msg);
	else if (rc == SQLITE_CORRUPT)
		snprintf(err, errlen, "%s: corrupt database: %s (%s)", path,
		    what, msg);
	else
		snprintf(err, errlen, "%s: %s: %s", path, what, msg);
}

/* ---- checkpoints ---- */

/* After every commit, on the writer's thread: wake the checkpointer. */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct journal *j = arg;

	(void)name;
	if (frames >= WAL_MAX_FRAMES) {
		/* SQLITE_BUSY when the thread is still at it: try again at
		 * the next commit. */
		sqlite3_wal_checkpoint_v2(
		    db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&j->ckmtx);
		j->ckwant = true;
		pthread_cond_signal(&j->ckcv);
		pthread_mutex_unlock(&j->ckmtx);
	}
	return SQLITE_OK;
}

static void *
checkpointer(void *arg)
{
	struct journal *j = arg;
	int rc, nlog, nckpt;

	pthread_mutex_lock(&j->ckmtx);
	for (;;) {
		while (!j->ckwant && !j->ckquit)
			pthread_cond_wait(&j->ckcv, &j->ckmtx);
		if (j->ckquit)
			break;
		j->ckwant = false;
		pthread_mutex_unlock(&j->ckmtx);
		rc = sqlite3_wal_checkpoint_v2(
		    j->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warnx("journal: %s: checkpoint: %s", j->path,
			    sqlite3_errmsg(j->ckdb));
		pthread_mutex_lock(&j->ckmtx);
	}
	pthread_mutex_unlock(&j->ckmtx);
	return NULL;
}

static int
start_checkpointer(struct journal *j, char *err, size_t errlen)
{
	int rc;

	rc = sqlite3_open_v2(j->path, &j->ckdb,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		db_error(err, errlen, j->path, j->ckdb, rc,
		    "opening the checkpointer");
		return -1;
	}
	if ((rc = pthread_create(&j->ckthread, NULL, checkpointer, j)) != 0) {
		snprintf(err, errlen, "%s: checkpointer thread: %s", j->path,
		    strerror(rc));
		return -1;
	}
	j->ckrunning = true;
	/* Replaces SQLite's autocheckpoint, which is a WAL hook too. */
	sqlite3_wal_hook(j->db, wal_hook, j);
	return 0;
}

static void
stop_checkpointer(struct journal *j)
{
	if (j->ckrunning) {
		pthread_mutex_lock(&j->ckmtx);
		j->ckquit = true;
		pthread_cond_signal(&j->ckcv);
		pthread_mutex_unlock(&j->ckmtx);
		pthread_join(j->ckthread, NULL);
		j->ckrunning = false;
	}
	if (j->db != NULL)
		sqlite3_wal_hook(j->db, NULL, NULL);
	if (j->ckdb != NULL && sqlite3_close(j->ckdb) != SQLITE_OK)
		log_warnx(
		    "journal: %s: close: %s", j->path, sqlite3_errmsg(j->ckdb));
	j->ckdb = NULL;
}

/* ---- opening ---- */

/* Run a one-value PRAGMA (or any one-row query) into *v. */
static int
query_int(sqlite3 *db, const char *sql, long long *v)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*v = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int
query_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			snprintf(buf, len, "%s", col_text(st, 0));
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Bring the schema from version from to JOURNAL_SCHEMA, atomically. */
static int
migrate(sqlite3 *db, long long from, const char *path, char *err, size_t errlen)
{
	char *emsg = NULL, sql[64];
	long long v;
	int rc;

	/* Rows are small and every commit appends whole pages to the WAL:
	 * small pages quarter the bytes written per commit. */
	rc = SQLITE_OK;
	if (from == 0)
		rc = sqlite3_exec(db, "PRAGMA page_size = " STR(PAGE_SIZE),
		    NULL, NULL, &emsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &emsg);
	for (v = from; rc == SQLITE_OK && v < JOURNAL_SCHEMA; v++)
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, &emsg);
	if (rc == SQLITE_OK) {
		snprintf(sql, sizeof(sql),
		    "PRAGMA application_id = %d; PRAGMA user_version = %d",
		    JOURNAL_APP_ID, JOURNAL_SCHEMA);
		rc = sqlite3_exec(db, sql, NULL, NULL, &emsg);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &emsg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot bring schema %lld to %d: %s",
		    path, from, JOURNAL_SCHEMA,
		    emsg != NULL ? emsg : sqlite3_errstr(rc));
		sqlite3_free(emsg);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (from != 0)
		log_info("journal: %s: schema %lld -> %d", path, from,
		    JOURNAL_SCHEMA);
	return 0;
}

/*
 * Decide from the header what the file is: ours (possibly older: migrate),
 * a newer summoner's (refuse: an older one must not write what it does not
 * understand), empty (create), or someone else's (refuse).
 */
static int
check_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	long long app = 0, ver = 0, objects = 0;
	int rc;

	if ((rc = query_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
	    (rc = query_int(db, "PRAGMA user_version", &ver)) != SQLITE_OK ||
	    (rc = query_int(db, "SELECT count(*) FROM sqlite_schema",
	         &objects)) != SQLITE_OK) {
		db_error(err, errlen, path, db, rc, "reading the header");
		return -1;
	}
	if (app == 0 && ver == 0 && objects == 0)
		return migrate(db, 0, path, err, errlen);
	if (app != JOURNAL_APP_ID) {
		snprintf(err, errlen,
		    "%s: an SQLite database but not a summoner journal "
		    "(application_id %#llx, %lld objects)",
		    path, app, objects);
		return -1;
	}
	if (ver > JOURNAL_SCHEMA) {
		snprintf(err, errlen,
		    "%s: journal schema version %lld is newer than this "
		    "summoner's (%d): run a newer summoner or move the file",
		    path, ver, JOURNAL_SCHEMA);
		return -1;
	}
	if (ver < 1) {
		snprintf(err, errlen, "%s: journal with schema version %lld",
		    path, ver);
		return -1;
	}
	if (ver < JOURNAL_SCHEMA)
		return migrate(db, ver, path, err, errlen);
	return 0;
}

struct journal *
journal_open(const char *path, char *err, size_t errlen)
{
	struct journal *j = NULL;
	struct stat sb;
	char mode[16], check[256];
	int fd, rc, i;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "journal: no path");
		return NULL;
	}
	/*
	 * Create it ourselves for the mode: SQLite would use 0644.  Its -wal
	 * and -shm files copy the database file's mode.  O_EXCL: closing a
	 * descriptor of a file this process has open through SQLite would
	 * drop SQLite's POSIX locks on it.
	 */
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) !=
	    -1)
		close(fd);
	else if (errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (stat(path, &sb) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return NULL;
	}

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	pthread_mutex_init(&j->ckmtx, NULL);
	pthread_cond_init(&j->ckcv, NULL);
	if ((j->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* NOMUTEX: the daemon's one thread owns the connection. */
	rc = sqlite3_open_v2(
	    path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		db_error(err, errlen, path, j->db, rc, "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(j->db, BUSY_MS);
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(j->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	/* The first read of the header tells a foreign file apart. */
	if (check_schema(j->db, path, err, errlen) == -1)
		goto fail;
	if ((rc = query_text(j->db, "PRAGMA journal_mode = WAL", mode,
	         sizeof(mode))) != SQLITE_OK) {
		db_error(err, errlen, path, j->db, rc, "setting WAL mode");
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen,
		    "%s: cannot use WAL mode (journal mode %s)", path, mode);
		goto fail;
	}
	rc = sqlite3_exec(
	    j->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		db_error(err, errlen, path, j->db, rc, "setting synchronous");
		goto fail;
	}
	/* Cheap enough at start-up (one pass over the pages, no index
	 * cross-checks), and better than meeting corruption mid-run. */
	if ((rc = query_text(j->db, "PRAGMA quick_check(1)", check,
	         sizeof(check))) != SQLITE_OK) {
		db_error(err, errlen, path, j->db, rc, "checking");
		goto fail;
	}
	if (strcmp(check, "ok") != 0) {
		snprintf(err, errlen, "%s: corrupt database: %s", path, check);
		goto fail;
	}
	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(j->db, statements[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &j->st[i], NULL);
		if (rc != SQLITE_OK) {
			db_error(err, errlen, path, j->db, rc,
			    "preparing statements");
			goto fail;
		}
	}
	if (start_checkpointer(j, err, errlen) == -1)
		goto fail;
	return j;
fail:
	journal_close(j);
	return NULL;
}

void
journal_close(struct journal *j)
{
	int i;

	if (j == NULL)
		return;
	stop_checkpointer(j);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(j->st[i]);
	/* The last connection to close checkpoints and removes the WAL. */
	if (j->db != NULL && sqlite3_close(j->db) != SQLITE_OK)
		log_warnx(
		    "journal: %s: close: %s", j->path, sqlite3_errmsg(j->db));
	pthread_cond_destroy(&j->ckcv);
	pthread_mutex_destroy(&j->ckmtx);
	free(j->path);
	free(j);
}

/* ---- writes ---- */

/* Parameters 1-3 of every event row: now, the service, the instance. */
static bool
bind_event(sqlite3_stmt *st, const char *service, unsigned id)
{
	return bind_u64(st, 1, journal_clock()) == SQLITE_OK &&
	       bind_text(st, 2, service, TEXT_MAX) == SQLITE_OK &&
	       sqlite3_bind_int64(st, 3, id) == SQLITE_OK;
}

int
journal_instance(struct journal *j, const char *service, unsigned id, long pid,
    const char *image, const char *token)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_INSTANCE];
	ok = bind_text(st, 1, service, TEXT_MAX) == SQLITE_OK &&
	     sqlite3_bind_int64(st, 2, id) == SQLITE_OK &&
	     sqlite3_bind_int64(st, 3, pid) == SQLITE_OK &&
	     bind_text(st, 4, image, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 5, token, TEXT_MAX) == SQLITE_OK &&
	     bind_u64(st, 6, journal_clock()) == SQLITE_OK;
	return run_write(j, ST_INSTANCE, ok, "instance");
}

int
journal_transition(struct journal *j, const char *service, unsigned id,
    const char *from, const char *to, uint64_t dt_ns, const char *why)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_TRANSITION];
	ok = bind_event(st, service, id) &&
	     bind_text(st, 4, from, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 5, to, TEXT_MAX) == SQLITE_OK &&
	     bind_u64(st, 6, dt_ns) == SQLITE_OK &&
	     bind_text(st, 7, why, TEXT_MAX) == SQLITE_OK;
	return run_write(j, ST_TRANSITION, ok, "transition");
}

int
journal_fault(struct journal *j, const struct journal_fault *f)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_FAULT];
	ok = bind_event(st, f->service, f->id) &&
	     bind_text(st, 4, f->kind, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 5, f->signature, TEXT_MAX) == SQLITE_OK &&
	     sqlite3_bind_int(st, 6, f->known ? 1 : 0) == SQLITE_OK &&
	     bind_text(st, 7, f->message, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 8, f->dir, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 9, f->backtrace, BACKTRACE_MAX) == SQLITE_OK &&
	     bind_u64(st, 10, f->rip) == SQLITE_OK &&
	     sqlite3_bind_int64(st, 11, f->vector) == SQLITE_OK;
	return run_write(j, ST_FAULT, ok, "fault");
}

int
journal_decision(struct journal *j, const char *service, unsigned id,
    const char *event, const char *action, const char *detail)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_DECISION];
	ok = bind_event(st, service, id) &&
	     bind_text(st, 4, event, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 5, action, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 6, detail, TEXT_MAX) == SQLITE_OK;
	return run_write(j, ST_DECISION, ok, "decision");
}

int
journal_heartbeats(struct journal *j, const char *service, unsigned id,
    uint64_t beats, uint64_t misses, uint64_t last_seq, uint64_t progress)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_HEARTBEATS];
	ok = bind_event(st, service, id) &&
	     bind_u64(st, 4, beats) == SQLITE_OK &&
	     bind_u64(st, 5, misses) == SQLITE_OK &&
	     bind_u64(st, 6, last_seq) == SQLITE_OK &&
	     bind_u64(st, 7, progress) == SQLITE_OK;
	return run_write(j, ST_HEARTBEATS, ok, "heartbeats");
}

int
journal_quarantine(struct journal *j, const char *service, unsigned id,
    long pid, const char *gdb, const char *core, const char *dir,
    uint64_t expires_ms)
{
	sqlite3_stmt *st;
	bool ok;

	if (j == NULL)
		return 0;
	st = j->st[ST_QUARANTINE];
	ok = bind_text(st, 1, service, TEXT_MAX) == SQLITE_OK &&
	     sqlite3_bind_int64(st, 2, id) == SQLITE_OK &&
	     sqlite3_bind_int64(st, 3, pid) == SQLITE_OK &&
	     bind_u64(st, 4, journal_clock()) == SQLITE_OK &&
	     bind_text(st, 5, gdb, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 6, core, TEXT_MAX) == SQLITE_OK &&
	     bind_text(st, 7, dir, TEXT_MAX) == SQLITE_OK &&
	     bind_u64(st, 8, expires_ms) == SQLITE_OK;
	return run_write(j, ST_QUARANTINE, ok, "quarantine");
}

/* ---- queries ---- */

bool
journal_signature_known(
    struct journal *j, const char *service, const char *signature)
{
	sqlite3_stmt *st;
	int rc;

	if (j == NULL)
		return false;
	st = j->st[ST_SIG_KNOWN];
	if (bind_text(st, 1, service, TEXT_MAX) != SQLITE_OK ||
	    bind_text(st, 2, signature, TEXT_MAX) != SQLITE_OK) {
		query_failed(j, st, "signature");
		return false;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		query_failed(j, st, "signature");
		return false;
	}
	done(st);
	return rc == SQLITE_ROW;
}

int
journal_faults(struct journal *j, const char *service, unsigned limit,
    void (*cb)(void *arg, const struct journal_fault *f), void *arg)
{
	struct journal_fault f;
	sqlite3_stmt *st;
	int rc, n = 0, i = 1;
	sqlite3_int64 lim = limit == 0 ? -1 : (sqlite3_int64)limit;

	if (j == NULL)
		return 0;
	if (service != NULL) {
		st = j->st[ST_FAULTS_SVC];
		if (bind_text(st, i++, service, TEXT_MAX) != SQLITE_OK)
			goto fail;
	} else
		st = j->st[ST_FAULTS_ALL];
	if (sqlite3_bind_int64(st, i, lim) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&f, 0, sizeof(f));
		f.rowid = sqlite3_column_int64(st, 0);
		f.t_ms = (uint64_t)sqlite3_column_int64(st, 1);
		f.service = col_text(st, 2);
		f.id = (unsigned)sqlite3_column_int64(st, 3);
		f.kind = col_text(st, 4);
		f.signature = col_text(st, 5);
		f.known = sqlite3_column_int(st, 6) != 0;
		f.message = col_text(st, 7);
		f.dir = col_text(st, 8);
		f.backtrace = col_text(st, 9);
		f.rip = (uint64_t)sqlite3_column_int64(st, 10);
		f.vector = sqlite3_column_int64(st, 11);
		cb(arg, &f);
		n++;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	done(st);
	return n;
fail:
	query_failed(j, st, "faults");
	return -1;
}

struct leftover_row {
	struct journal_leftover l;
	char *strs[6];
};

static void
free_rows(struct leftover_row *rows, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < 6; k++)
			free(rows[i].strs[k]);
	free(rows);
}

int
journal_leftovers(struct journal *j,
    void (*cb)(void *arg, const struct journal_leftover *l), void *arg)
{
	struct leftover_row *rows = NULL, *r, *nrows;
	sqlite3_stmt *st;
	size_t n = 0, cap = 0, i, k;
	int rc;
	static const int textcol[6] = {0, 2, 4, 5, 6, 7};

	if (j == NULL)
		return 0;
	/*
	 * Copied out before any callback: the caller typically journals
	 * what it does with each leftover, and a write made while this read
	 * is still open would commit only when the read ends.
	 */
	st = j->st[ST_LEFTOVERS];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nrows = reallocarray(rows, cap, sizeof(*rows));
			if (nrows == NULL) {
				log_warn("journal: leftovers");
				done(st);
				free_rows(rows, n);
				return -1;
			}
			rows = nrows;
		}
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		for (k = 0; k < 6; k++)
			r->strs[k] = strdup(col_text(st, textcol[k]));
		r->l.id = (unsigned)sqlite3_column_int64(st, 1);
		r->l.pid = (long)sqlite3_column_int64(st, 3);
		r->l.expires_ms = (uint64_t)sqlite3_column_int64(st, 8);
		for (k = 0; k < 6; k++)
			if (r->strs[k] == NULL) {
				log_warn("journal: leftovers");
				done(st);
				free_rows(rows, n);
				return -1;
			}
	}
	if (rc != SQLITE_DONE) {
		query_failed(j, st, "leftovers");
		free_rows(rows, n);
		return -1;
	}
	done(st);
	for (i = 0; i < n; i++) {
		r = &rows[i];
		r->l.service = r->strs[0];
		r->l.state = r->strs[1];
		r->l.image = r->strs[2];
		r->l.gdb = r->strs[3];
		r->l.core = r->strs[4];
		r->l.dir = r->strs[5];
		cb(arg, &r->l);
	}
	free_rows(rows, n);
	return (int)n;
}

unsigned
journal_next_id(struct journal *j, const char *service)
{
	sqlite3_stmt *st;
	sqlite3_int64 max;
	int rc;

	if (j == NULL)
		return 1;
	st = j->st[ST_NEXT_ID];
	if (bind_text(st, 1, service, TEXT_MAX) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		query_failed(j, st, "next id");
		return 0;
	}
	max = sqlite3_column_int64(st, 0); /* NULL (no instance) reads 0 */
	done(st);
	if (max < 0 || max >= (sqlite3_int64)UINT_MAX) {
		log_warnx("journal: %s: instance ids exhausted", j->path);
		return 0;
	}
	return (unsigned)max + 1;
}
