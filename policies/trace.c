/*
 * trace.c: the dry run.  A text trace of events is replayed against a
 * policy with a fresh history; every decision is handed to a callback.
 * The format is in docs/policies.md ("Dry run").
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_int.h"
#include "policy.h"

#define MAX_LINE  1024
#define MAX_QUAR  64
#define MAX_SIGS  64
#define MAX_LABEL 64

struct quar {
	uint64_t t_expire; /* 0: forever */
	int line;
	struct pol_decision d;
};

struct run {
	const struct policy *p;
	struct pol_history *h;
	void (*emit)(void *, const struct pol_trace_step *);
	void *arg;
	uint64_t t;          /* time of the last line */
	uint64_t started_at; /* the running instance's start */
	struct quar q[MAX_QUAR];
	unsigned nq;
	char sigs[MAX_SIGS][MAX_LABEL];
	unsigned nsigs;
};

static int bad(char *err, size_t errlen, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad(char *err, size_t errlen, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "trace:%d: %s", line, msg);
	return -1;
}

static int
parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* Quarantines whose ttl ran out by t end, in the order they end. */
static void
expire(struct run *r, uint64_t t)
{
	struct pol_trace_step s;
	unsigned i, first;

	for (;;) {
		first = MAX_QUAR;
		for (i = 0; i < r->nq; i++)
			if (r->q[i].t_expire != 0 && r->q[i].t_expire <= t &&
			    (first == MAX_QUAR ||
			        r->q[i].t_expire < r->q[first].t_expire))
				first = i;
		if (first == MAX_QUAR)
			return;
		memset(&s, 0, sizeof(s));
		s.kind = POL_STEP_EXPIRY;
		s.line = r->q[first].line;
		s.t_ms = r->q[first].t_expire;
		s.decision = r->q[first].d;
		memmove(&r->q[first], &r->q[first + 1],
		    (r->nq - first - 1) * sizeof(r->q[0]));
		r->nq--;
		s.quarantined = r->nq;
		if (s.decision.on_expiry == POL_RESTART)
			r->started_at = s.t_ms;
		r->emit(r->arg, &s);
	}
}

/* Known if label was seen before; remembers it. */
static bool
seen_label(struct run *r, const char *label)
{
	unsigned i;

	for (i = 0; i < r->nsigs; i++)
		if (strcmp(r->sigs[i], label) == 0)
			return true;
	if (r->nsigs < MAX_SIGS)
		snprintf(r->sigs[r->nsigs++], MAX_LABEL, "%s", label);
	return false;
}

static int
one_line(struct run *r, char **w, size_t n, int line, char *err, size_t errlen)
{
	struct pol_trace_step s;
	const char *tw = w[0], *sig = NULL, *label = NULL;
	char deflabel[MAX_LABEL];
	uint64_t t, v;
	uint32_t random = 0;
	bool has_uptime = false;
	size_t i;
	int k, iv;

	if (n < 2)
		return bad(
		    err, errlen, line, "want TIME EVENT [key=value ...]");
	if (pol_parse_ms(tw[0] == '+' ? tw + 1 : tw, &t) == -1)
		return bad(err, errlen, line,
		    "invalid time %s (like 12s, 500ms or +2s)", tw);
	if (tw[0] == '+') {
		if (t > POL_TIME_MAX - r->t)
			return bad(err, errlen, line, "time too large");
		t += r->t;
	} else if (t < r->t)
		return bad(err, errlen, line, "time goes backwards");
	expire(r, t);
	r->t = t;
	memset(&s, 0, sizeof(s));
	s.line = line;
	s.t_ms = t;
	if (strcmp(w[1], "release") == 0) {
		if (n != 2)
			return bad(
			    err, errlen, line, "release takes nothing more");
		if (r->nq == 0)
			return bad(err, errlen, line,
			    "release: nothing is quarantined");
		memmove(&r->q[0], &r->q[1], (r->nq - 1) * sizeof(r->q[0]));
		r->nq--;
		s.kind = POL_STEP_RELEASE;
		s.quarantined = r->nq;
		r->emit(r->arg, &s);
		return 0;
	}
	if ((k = pol_event_from_name(w[1])) < 0)
		return bad(err, errlen, line, "unknown event %s", w[1]);
	s.kind = POL_STEP_DECISION;
	s.event.kind = (unsigned)k;
	s.event.t_ms = t;
	s.event.vector = -1;
	s.event.signal = -1;
	for (i = 2; i < n; i++) {
		char *eq = strchr(w[i], '=');
		const char *key = w[i], *val;

		if (eq == NULL)
			return bad(
			    err, errlen, line, "want key=value: %s", w[i]);
		*eq = '\0';
		val = eq + 1;
		if (strcmp(key, "code") == 0 && k == POL_EV_EXIT) {
			if (parse_int(val, -2147483647L, 2147483647L,
			        &s.event.exit_code) == -1)
				return bad(
				    err, errlen, line, "invalid code %s", val);
		} else if (strcmp(key, "vector") == 0 &&
		           k == POL_EV_EXCEPTION) {
			if (parse_int(val, 0, 255, &s.event.vector) == -1)
				return bad(err, errlen, line,
				    "invalid vector %s (0 to 255)", val);
		} else if (strcmp(key, "signal") == 0 &&
		           k == POL_EV_TENDER_DIED) {
			if (parse_int(val, 1, 64, &s.event.signal) == -1)
				return bad(err, errlen, line,
				    "invalid signal %s (1 to 64)", val);
		} else if (strcmp(key, "signature") == 0) {
			if (strcmp(val, "new") != 0 &&
			    strcmp(val, "known") != 0)
				return bad(err, errlen, line,
				    "signature is new or known, not %s", val);
			sig = val;
		} else if (strcmp(key, "sig") == 0) {
			if (*val == '\0' || strlen(val) >= MAX_LABEL)
				return bad(err, errlen, line,
				    "sig wants a label of 1 to %d characters",
				    MAX_LABEL - 1);
			label = val;
		} else if (strcmp(key, "uptime") == 0) {
			if (pol_parse_ms(val, &v) == -1)
				return bad(err, errlen, line,
				    "invalid uptime %s", val);
			s.event.uptime_ms = v;
			has_uptime = true;
		} else if (strcmp(key, "random") == 0) {
			if (parse_int(val, 0, 2147483647L, &iv) == -1)
				return bad(err, errlen, line,
				    "invalid random %s", val);
			random = (uint32_t)iv;
		} else
			return bad(
			    err, errlen, line, "%s: unknown key %s", w[1], key);
	}
	if (!has_uptime)
		s.event.uptime_ms = t >= r->started_at ? t - r->started_at : 0;
	if ((POL_KIND(k) & POL_KINDS_FAULT) != 0) {
		if (label == NULL) {
			snprintf(deflabel, sizeof(deflabel), "%s/%d", w[1],
			    s.event.vector);
			label = deflabel;
		}
		s.event.known_signature = seen_label(r, label);
		if (sig != NULL)
			s.event.known_signature = strcmp(sig, "known") == 0;
	}
	if (pol_decide(r->p, &s.event, r->h, random, r->nq, &s.decision) == -1)
		return bad(err, errlen, line, "cannot decide");
	switch (s.decision.action) {
	case POL_RESTART:
		r->started_at = t + s.decision.delay_ms;
		break;
	case POL_QUARANTINE:
		if (r->nq == MAX_QUAR)
			return bad(err, errlen, line,
			    "more than %d quarantines at once", MAX_QUAR);
		r->q[r->nq].line = line;
		r->q[r->nq].d = s.decision;
		r->q[r->nq].t_expire =
		    s.decision.ttl_ms == 0 ? 0 : t + s.decision.ttl_ms;
		r->nq++;
		r->started_at = t;
		break;
	case POL_IGNORE:
		break;
	default:
		r->started_at = t;
		break;
	}
	s.quarantined = r->nq;
	r->emit(r->arg, &s);
	return 0;
}

int
policy_trace_run(const struct policy *p, const char *trace, size_t len,
    void (*emit)(void *arg, const struct pol_trace_step *step), void *arg,
    char *err, size_t errlen)
{
	struct run *r = NULL;
	char buf[MAX_LINE + 1], store[2 * MAX_LINE + 1], *w[MAX_WORDS];
	const char *at = trace, *end = trace + len, *nl;
	size_t n, l;
	int line = 0, rc = -1;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->h = pol_history_new()) == NULL) {
		snprintf(err, errlen, "trace: out of memory");
		goto done;
	}
	r->p = p;
	r->emit = emit;
	r->arg = arg;
	while (at < end) {
		line++;
		nl = memchr(at, '\n', (size_t)(end - at));
		l = (size_t)((nl != NULL ? nl : end) - at);
		if (l > MAX_LINE) {
			bad(err, errlen, line, "line too long (at most %d)",
			    MAX_LINE);
			goto done;
		}
		memcpy(buf, at, l);
		buf[l] = '\0';
		at = nl != NULL ? nl + 1 : end;
		if (strlen(buf) != l) {
			bad(err, errlen, line, "NUL byte");
			goto done;
		}
		if (strchr(buf, '#') != NULL)
			*strchr(buf, '#') = '\0';
		if (pol_split(buf, store, w, MAX_WORDS, &n) == -1) {
			bad(err, errlen, line, "too many words");
			goto done;
		}
		if (n == 0)
			continue;
		if (one_line(r, w, n, line, err, errlen) == -1)
			goto done;
	}
	rc = 0;
done:
	if (r != NULL)
		pol_history_free(r->h);
	free(r);
	return rc;
}

/* Trace times as a clock: "0:00:02.500", "1:00:03.000". */
static void
clock_ms(uint64_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ":%02u:%02u.%03u", ms / 3600000,
	    (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60),
	    (unsigned)(ms % 1000));
}

void
pol_trace_step_format(const struct pol_trace_step *s, char *buf, size_t len)
{
	char t[32], ev[96], act[160];
	const struct pol_event *e = &s->event;
	int n;

	clock_ms(s->t_ms, t, sizeof(t));
	switch (s->kind) {
	case POL_STEP_RELEASE:
		snprintf(buf, len, "%s  release -> %u quarantined", t,
		    s->quarantined);
		return;
	case POL_STEP_EXPIRY:
		snprintf(buf, len,
		    "%s  quarantine of line %d ends -> %s, %u quarantined", t,
		    s->line, pol_action_name(s->decision.on_expiry),
		    s->quarantined);
		return;
	default:
		break;
	}
	n = snprintf(ev, sizeof(ev), "%s", pol_event_name(e->kind));
	if (e->kind == POL_EV_EXIT)
		n += snprintf(
		    ev + n, sizeof(ev) - (size_t)n, " code=%d", e->exit_code);
	if (e->vector >= 0)
		n += snprintf(
		    ev + n, sizeof(ev) - (size_t)n, " vector=%d", e->vector);
	if (e->signal >= 0)
		n += snprintf(
		    ev + n, sizeof(ev) - (size_t)n, " signal=%d", e->signal);
	if ((POL_KIND(e->kind) & POL_KINDS_FAULT) != 0)
		n += snprintf(ev + n, sizeof(ev) - (size_t)n, " %s",
		    e->known_signature ? "known" : "new");
	snprintf(ev + n, sizeof(ev) - (size_t)n, " uptime=%s",
	    pol_format_ms(e->uptime_ms, act, sizeof(act)));
	pol_decision_format(&s->decision, act, sizeof(act));
	if (s->decision.line > 0)
		snprintf(buf, len, "%s  %-42s -> %s (rule %d, line %d)", t, ev,
		    act, s->decision.rule + 1, s->decision.line);
	else
		snprintf(buf, len, "%s  %-42s -> %s (no rule)", t, ev, act);
}
