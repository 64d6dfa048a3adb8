/*
 * journal.h: the summoner's journal, an SQLite database in WAL mode
 * (DESIGN.md "Operator interface").
 *
 * What happened to every instance: lifecycle transitions, faults (with
 * their signature and artifact directory), policy decisions, summaries of
 * heartbeat history, and what a restarted summoner needs to find its
 * leftovers (tender pids, quarantines with their gdb address and expiry).
 *
 * Every write is its own transaction, committed before the call returns,
 * so nothing is lost when the summoner is killed with SIGKILL (WAL,
 * synchronous=NORMAL: a process crash loses nothing; a power loss may lose
 * the last commits, never corrupt the file).  Writes never block for long:
 * a busy database is retried for at most 100 ms, then the write fails with
 * a logged warning and the daemon goes on.
 *
 * Times are wall-clock milliseconds since the epoch (they must mean
 * something across restarts).  Instances are named by service and id
 * ("www", 3); ids continue across restarts (journal_next_id()).
 * The schema is in docs/journal.md.
 *
 * Errors are logged ("journal: ...") and returned as -1; none is fatal.
 * Strings are stored byte for byte (NUL-free, UTF-8 not required), cut to
 * 4 KB (backtraces 8 KB); NULL strings are stored as "".  A NULL journal
 * is accepted everywhere: writes do nothing and return 0, queries find
 * nothing (a summoner may run without one).  One thread only.
 */
#ifndef SUMMONER_JOURNAL_H
#define SUMMONER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct journal;

/*
 * Open (creating if needed, mode 0600, in an existing directory) the
 * journal at path, in WAL mode, and bring its schema up to date.  Returns
 * NULL with a message in err ("PATH: reason") if it cannot be used: not a
 * regular file, not an SQLite database, another program's database, a
 * schema newer than this summoner's, or corrupt (quick_check).
 */
struct journal *journal_open(const char *path, char *err, size_t errlen);

/* Close it (NULL is ignored); the WAL is checkpointed and removed. */
void journal_close(struct journal *j);

/* The wall clock the journal stamps with (ms since the epoch); tests
 * replace it. */
extern uint64_t (*journal_clock)(void);

/*
 * A new instance: its backend's process id (0 when none), the image and
 * the heartbeat token.  Call before its first transition.  Its current
 * state is "booting" (an existing row for service#id is started afresh).
 * 0 or -1.
 */
int journal_instance(struct journal *j, const char *service, unsigned id,
    long pid, const char *image, const char *token);

/*
 * One lifecycle transition (state names as istate_name()).  Also sets the
 * instance's current state (creating its row if journal_instance() was
 * not called), in the same commit.  0 or -1.
 */
int journal_transition(struct journal *j, const char *service, unsigned id,
    const char *from, const char *to, uint64_t dt_ns, const char *why);

struct journal_fault {
	const char *service;
	unsigned id;
	const char *kind;      /* "exception", "exit", "tender-died", ... */
	const char *signature; /* hex, health_signature() */
	bool known;            /* signature seen before for this service */
	const char *message;   /* one line */
	const char *dir;       /* the fault directory, "" when none */
	const char *backtrace; /* frames, '\n'-separated, innermost first */
	uint64_t rip;
	int64_t vector;  /* -1 when not an exception */
	uint64_t t_ms;   /* filled by journal_faults(); ignored on write */
	long long rowid; /* likewise */
};

/* One fault.  0 or -1. */
int journal_fault(struct journal *j, const struct journal_fault *f);

/*
 * Whether signature was recorded before for service (in this run or an
 * earlier one): the policies' "new" versus "known" signature.  Ask before
 * journal_fault() records this one.  False when it cannot be read
 * (logged).
 */
bool journal_signature_known(
    struct journal *j, const char *service, const char *signature);

/*
 * The faults of service (NULL: of every service), newest first (in the
 * order written), at most limit of them (0: all): cb is called once per
 * fault (the strings are valid only during the call; cb must not write to
 * the journal).  Returns the number reported, or -1.
 */
int journal_faults(struct journal *j, const char *service, unsigned limit,
    void (*cb)(void *arg, const struct journal_fault *f), void *arg);

/* One policy decision: the event, the action ("restart", ...), the
 * evaluator's explanation. */
int journal_decision(struct journal *j, const char *service, unsigned id,
    const char *event, const char *action, const char *detail);

/* A summary of an instance's heartbeats, written when it ends (and every
 * minute while it runs): beats seen, misses, last sequence and progress. */
int journal_heartbeats(struct journal *j, const char *service, unsigned id,
    uint64_t beats, uint64_t misses, uint64_t last_seq, uint64_t progress);

/*
 * Quarantine: where its gdb stub listens, its core file and fault
 * directory, and when it expires (wall ms, 0 = never).  Cleared by any
 * later transition of the instance out of "quarantined".
 */
int journal_quarantine(struct journal *j, const char *service, unsigned id,
    long pid, const char *gdb, const char *core, const char *dir,
    uint64_t expires_ms);

/* An instance left over by an earlier run: its last state was not
 * "stopped" or "retired". */
struct journal_leftover {
	const char *service;
	unsigned id;
	const char *state; /* its last state */
	long pid;          /* 0 when unknown */
	const char *image;
	const char *gdb, *core, *dir; /* quarantined only, else "" */
	uint64_t expires_ms;          /* quarantined only */
};

/*
 * Call cb for every leftover instance, by service and id (strings valid
 * only during the call; cb may write to the journal, e.g. the transition
 * that reaps it).  Returns the number found, or -1.
 */
int journal_leftovers(struct journal *j,
    void (*cb)(void *arg, const struct journal_leftover *l), void *arg);

/* The next free instance id for service: one past the highest ever
 * journaled (1 for a new service), or 0 when the journal cannot be read
 * (logged). */
unsigned journal_next_id(struct journal *j, const char *service);

#endif /* SUMMONER_JOURNAL_H */
