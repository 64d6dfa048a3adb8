/*
 * policy.h: the policy language and its evaluator (docs/policies.md).
 *
 * A policy is a list of rules, one per line, "on KINDS [CONDITIONS]
 * ACTION [OPTIONS]", plus the health parameters health/ watches.  The
 * first rule that matches an event decides; every policy ends in an
 * explicit default (`default ACTION` or an unconditional `on any ...`).
 *
 * Everything here is pure: no I/O, no clock (times are given by the
 * caller), no allocation except in policy_new()/policy_parse()/
 * pol_history_new().  summoner/parse.y cuts a config's policy blocks into
 * words and hands each line to policy_add_line(); the same code parses
 * policy_parse()'s text, so both read one language.
 */
#ifndef POLICIES_POLICY_H
#define POLICIES_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The events a policy decides about. */
enum pol_event_kind {
	POL_EV_EXIT,
	POL_EV_ABORT,
	POL_EV_EXCEPTION,
	POL_EV_TRIPLE_FAULT,
	POL_EV_BAD_HYPERCALL,
	POL_EV_TENDER_DIED,
	POL_EV_PANIC,
	POL_EV_HOST_ERROR,
	POL_EV_HEARTBEAT_MISS,
	POL_EV_STALL,
	POL_EV_READY_TIMEOUT,
	POL_EV_IDLE,
	POL_EV_NKINDS
};

#define POL_KIND(k) (1u << (k))
/* `any-fault`: the guest or its tender broke. */
#define POL_KINDS_FAULT                                                        \
	(POL_KIND(POL_EV_ABORT) | POL_KIND(POL_EV_EXCEPTION) |                 \
	    POL_KIND(POL_EV_TRIPLE_FAULT) | POL_KIND(POL_EV_BAD_HYPERCALL) |   \
	    POL_KIND(POL_EV_TENDER_DIED) | POL_KIND(POL_EV_PANIC) |            \
	    POL_KIND(POL_EV_HOST_ERROR))
/* `any`: every kind but idle (an idle instance is not a failure; idle
 * events no rule names explicitly are decided `stop`). */
#define POL_KINDS_ANY (((1u << POL_EV_NKINDS) - 1) & ~POL_KIND(POL_EV_IDLE))

/* "exit", "abort", "exception", "triple-fault", "bad-hypercall",
 * "tender-died", "panic", "host-error", "heartbeat-miss", "stall",
 * "ready-timeout", "idle"; "unknown" for anything else. */
const char *pol_event_name(unsigned kind);

/* The kind called name, or -1. */
int pol_event_from_name(const char *name);

/* One event, as the caller saw it. */
struct pol_event {
	unsigned kind; /* enum pol_event_kind */
	uint64_t t_ms; /* when, on the caller's clock; never decreasing */
	int exit_code; /* exit */
	int vector;    /* exception: the CPU vector; -1 otherwise */
	int signal;    /* tender-died: the signal; -1 otherwise */
	bool known_signature; /* the fault's signature was seen before */
	uint64_t uptime_ms;   /* how long the instance had been running */
};

enum pol_action {
	POL_RESTART,
	POL_QUARANTINE,
	POL_RETIRE,
	POL_STOP,
	POL_IGNORE
};

/* "restart", "quarantine", "retire", "stop", "ignore". */
const char *pol_action_name(unsigned action);

/* How a retired service answers. */
enum pol_answer {
	POL_ANSWER_NXDOMAIN,
	POL_ANSWER_SERVFAIL,
	POL_ANSWER_REFUSED,
	POL_ANSWER_ADDRESS
};

/* "nxdomain", "servfail", "refused", "address". */
const char *pol_answer_name(unsigned answer);

/* An IPv4 or IPv6 address (the layout of summoner's struct cfg_ip, but
 * policies/ does not depend on summoner/); af is 0 when unset. */
struct pol_addr {
	int af;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

enum pol_backoff {
	POL_BACKOFF_FIXED,
	POL_BACKOFF_EXPONENTIAL,
	POL_BACKOFF_FIBONACCI
};

enum pol_sig {
	POL_SIG_ANY,
	POL_SIG_NEW,
	POL_SIG_KNOWN
};

#define POL_MAX_RULES   64
#define POL_HISTORY     64  /* events a history keeps: N of `N within T` */
#define POL_EXIT_OTHERS 256 /* bit of an exit set: codes outside 0..255 */

/* One rule.  A condition that is not given matches every event. */
struct pol_rule {
	int line;
	bool is_default; /* written `default ACTION` */
	uint32_t kinds;  /* POL_KIND() bits */

	/* conditions */
	bool has_exit_set; /* exit events: code in exit_set */
	uint8_t exit_set[(POL_EXIT_OTHERS + 8) / 8];
	int vector;     /* -1: any */
	uint32_t count; /* `count within within_ms`; 0: no window */
	uint64_t within_ms;
	enum pol_sig sig;
	bool has_uptime_lt, has_uptime_gt;
	uint64_t uptime_lt_ms, uptime_gt_ms;

	/* action */
	enum pol_action action;
	enum pol_backoff backoff; /* restart */
	uint64_t initial_ms, max_ms, reset_ms;
	unsigned jitter_pct;
	uint64_t ttl_ms;           /* quarantine: 0 is forever */
	enum pol_action on_expiry; /* quarantine: restart, retire or stop */
	bool replacement;          /* quarantine */
	unsigned max_quarantined;  /* quarantine: 0 is no cap */
	enum pol_answer answer;    /* retire, quarantine then retire */
	struct pol_addr fallback;  /* answer ADDRESS */
};

struct policy {
	char *name;
	char *file; /* where it was defined, for messages */
	int line;
	struct pol_rule *rules;
	size_t nrules;
	/* What health/ watches; 0 turns a check off. */
	uint64_t hb_interval_ms; /* `heartbeat every T misses N` */
	unsigned hb_misses;
	unsigned stall_beats;      /* `stall after N beats` */
	uint64_t ready_timeout_ms; /* `ready-timeout T`; 0: the service's
	                              ready-deadline */
};

/* A new empty policy (name and file are copied), or NULL (ENOMEM). */
struct policy *policy_new(const char *name, const char *file, int line);

/*
 * Add one line of a policy body, already cut into words (n of them, "{"
 * and "}" of an exit set as words of their own).  Returns 0, or -1 with a
 * one-line message (no file or line) in err.
 */
int policy_add_line(struct policy *p, char *const *words, size_t n, int line,
    char *err, size_t errlen);

/*
 * After the last line: checks that the policy ends in an explicit
 * default.  Returns 0, or -1 with a message in err.
 */
int policy_finish(struct policy *p, char *err, size_t errlen);

/*
 * Parse a whole policy body from text (lines of words, `#` comments, as in
 * a config's policy block without the braces) and finish it.  Returns the
 * policy, or NULL with "LINE: message" in err.
 */
struct policy *policy_parse(
    const char *name, const char *text, size_t len, char *err, size_t errlen);

/* Free p; NULL is ignored. */
void policy_free(struct policy *p);

/*
 * The built-in policy of services that name none when the config has no
 * default-policy (docs/policies.md), a new copy called "builtin":
 *	on exit 0 stop
 *	on ready-timeout ignore
 *	default restart backoff exponential initial 100ms max 30s reset 5m
 */
#define POL_BUILTIN_NAME "builtin"
struct policy *policy_builtin_new(void);

/*
 * Normalised text, each line a complete statement that policy_add_line()
 * reads back to the same thing: the rule (without newline), or the
 * health-parameter lines policy_health_format() gives (line i of them, i
 * from 0; returns 0 when there is no line i).  Both return the length
 * snprintf would (truncated output when it does not fit).
 */
int policy_rule_format(const struct pol_rule *r, char *buf, size_t len);
int policy_health_format(
    const struct policy *p, unsigned i, char *buf, size_t len);

/* true when a and b have the same rules and parameters (name aside). */
bool policy_equal(const struct policy *a, const struct policy *b);

/*
 * Lint: warn(arg, line, msg) for every rule that can never match (after
 * an unconditional rule covering its kinds, or implied by an earlier rule
 * that never falls through).  Returns the number of warnings.
 */
int policy_lint(const struct policy *p,
    void (*warn)(void *arg, int line, const char *msg), void *arg);

/* ---- the evaluator: decide.c ---------------------------------------- */

struct pol_decision {
	enum pol_action action;
	int rule;          /* 0-based index of the matching rule; nrules for the
	                      implicit `on idle stop` */
	int line;          /* config line of the rule; 0 for the implicit one */
	uint64_t delay_ms; /* restart: the back-off to wait */
	unsigned attempt;  /* restart: 1 for the first of a series */
	uint64_t ttl_ms;   /* quarantine: 0 is forever */
	enum pol_action on_expiry;
	bool replacement;
	enum pol_answer answer;   /* retire, quarantine then retire */
	struct pol_addr fallback; /* answer ADDRESS */
	char why[192]; /* "rule 2 (line 14): exception, 3 within 1m ->
	                  quarantine for 1h then stop" */
};

/* A service's past, kept by the caller (one per service) and passed to
 * every pol_decide() of it.  Back-off counters are kept by rule index: give
 * a fresh history (or pol_history_reset()) when the policy changes. */
struct pol_history;

/* A new empty history, or NULL (ENOMEM). */
struct pol_history *pol_history_new(void);
/* Forget everything. */
void pol_history_reset(struct pol_history *h);
/* NULL is ignored. */
void pol_history_free(struct pol_history *h);

/*
 * Decide about ev: records it in h (the last POL_HISTORY events), then
 * returns the first matching rule's decision in out.  random supplies the
 * jitter (any value; tests give fixed ones); quarantined_now is how many
 * of the service's instances are quarantined now (a quarantine rule with
 * `max N` does not match while quarantined_now >= N: evaluation falls
 * through to the next rule).  Returns 0, or -1 (EINVAL: unknown kind, or
 * time going backwards; nothing recorded).
 */
int pol_decide(const struct policy *p, const struct pol_event *ev,
    struct pol_history *h, uint32_t random, unsigned quarantined_now,
    struct pol_decision *out);

/* The action in one line: "restart in 400ms", "quarantine for 1h then
 * stop, with a replacement", "retire (answer nxdomain)", "stop". */
void pol_decision_format(const struct pol_decision *d, char *buf, size_t len);

/* ---- time words: "250ms", "5s", "2m", "1h", "1d", "30" (seconds) ---- */

/* 0, or -1 (bad or too large: above POL_TIME_MAX). */
#define POL_TIME_MAX (100ull * 365 * 86400 * 1000) /* 100 years */
int pol_parse_ms(const char *s, uint64_t *out);
/* The largest unit that divides ms exactly: "1h", "90s", "250ms". */
const char *pol_format_ms(uint64_t ms, char *buf, size_t len);

/* ---- the dry run: trace.c --------------------------------------------- */

enum pol_step_kind {
	POL_STEP_DECISION, /* an event and its decision */
	POL_STEP_RELEASE,  /* `release`: an operator ended a quarantine */
	POL_STEP_EXPIRY    /* a quarantine's ttl ran out */
};

struct pol_trace_step {
	enum pol_step_kind kind;
	int line; /* trace line (of the quarantine, for an expiry) */
	uint64_t t_ms;
	struct pol_event event;       /* DECISION */
	struct pol_decision decision; /* DECISION; EXPIRY: the quarantine */
	unsigned quarantined;         /* quarantined instances after it */
};

/*
 * Replay trace (len bytes, docs/policies.md "Dry run") against p with a
 * fresh history, calling emit for every step in order.  Returns 0, or -1
 * with "trace:LINE: message" in err (steps before the bad line have been
 * emitted).
 */
int policy_trace_run(const struct policy *p, const char *trace, size_t len,
    void (*emit)(void *arg, const struct pol_trace_step *step), void *arg,
    char *err, size_t errlen);

/* One human line for a step:
 * "12s exception vector=14 uptime=3s -> quarantine for 1h then stop
 *  [rule 1 (line 3): ...]" */
void pol_trace_step_format(
    const struct pol_trace_step *s, char *buf, size_t len);

#endif /* POLICIES_POLICY_H */
