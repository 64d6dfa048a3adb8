/*
 * decide.c: the evaluator.  (policy, event, history) -> decision, first
 * match wins; the history is the only state and the caller owns it.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_int.h"
#include "policy.h"

struct past {
	uint64_t t_ms;
	unsigned kind;
	int exit_code;
	int vector;
};

struct pol_history {
	struct past ev[POL_HISTORY]; /* a ring, oldest at head */
	unsigned head, count;
	uint64_t last_t;
	uint32_t attempts[POL_MAX_RULES]; /* restarts in a row, by rule */
};

struct pol_history *
pol_history_new(void)
{
	return calloc(1, sizeof(struct pol_history));
}

void
pol_history_reset(struct pol_history *h)
{
	memset(h, 0, sizeof(*h));
}

void
pol_history_free(struct pol_history *h)
{
	free(h);
}

static void
record(struct pol_history *h, const struct pol_event *ev)
{
	struct past *p;

	if (h->count < POL_HISTORY)
		p = &h->ev[(h->head + h->count++) % POL_HISTORY];
	else {
		p = &h->ev[h->head];
		h->head = (h->head + 1) % POL_HISTORY;
	}
	p->t_ms = ev->t_ms;
	p->kind = ev->kind;
	p->exit_code = ev->exit_code;
	p->vector = ev->kind == POL_EV_EXCEPTION ? ev->vector : -1;
	h->last_t = ev->t_ms;
}

static bool
code_in(const struct pol_rule *r, int code)
{
	unsigned bit =
	    code >= 0 && code <= 255 ? (unsigned)code : POL_EXIT_OTHERS;

	return (r->exit_set[bit / 8] >> (bit % 8)) & 1;
}

/* The rule's event filter: kinds, exit codes, vector.  `N within T`
 * counts the events that pass it. */
static bool
passes(const struct pol_rule *r, unsigned kind, int code, int vector)
{
	if (!(r->kinds & POL_KIND(kind)))
		return false;
	if (kind == POL_EV_EXIT && r->has_exit_set && !code_in(r, code))
		return false;
	if (r->vector >= 0 && vector != r->vector)
		return false;
	return true;
}

/* Events in h (the current one included) passing r's filter no more than
 * r->within_ms before now. */
static uint32_t
window_count(
    const struct pol_rule *r, const struct pol_history *h, uint64_t now)
{
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < h->count; i++) {
		const struct past *p = &h->ev[(h->head + i) % POL_HISTORY];

		if (now - p->t_ms <= r->within_ms &&
		    passes(r, p->kind, p->exit_code, p->vector))
			n++;
	}
	return n;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

/* The back-off before restart number attempt (0 for the first). */
static uint64_t
backoff(const struct pol_rule *r, uint32_t attempt, uint32_t random)
{
	uint64_t d, f0 = 1, f1 = 1, t, j;
	uint32_t i;

	switch (r->backoff) {
	case POL_BACKOFF_EXPONENTIAL:
		d = attempt >= 63 ? UINT64_MAX
		                  : sat_mul(r->initial_ms, 1ull << attempt);
		break;
	case POL_BACKOFF_FIBONACCI:
		/* 1, 1, 2, 3, 5, ...: stop once past the cap. */
		for (i = 0; i < attempt && f0 <= r->max_ms; i++) {
			t = f0 + f1;
			f0 = f1;
			f1 = t;
		}
		d = sat_mul(r->initial_ms, f0);
		break;
	default:
		d = r->initial_ms;
		break;
	}
	if (r->backoff != POL_BACKOFF_FIXED && d > r->max_ms)
		d = r->max_ms;
	if (r->jitter_pct != 0) {
		/* d is at most 100 years of ms: no overflow below. */
		j = d * r->jitter_pct / 100;
		d = d - j + (uint64_t)random % (2 * j + 1);
	}
	return d;
}

static void
put_answer(struct pol_out *o, enum pol_answer a, const struct pol_addr *ip)
{
	char b[INET6_ADDRSTRLEN];

	if (a == POL_ANSWER_ADDRESS) {
		if (inet_ntop(ip->af, &ip->u, b, sizeof(b)) == NULL)
			snprintf(b, sizeof(b), "?");
		pol_put(o, "answer %s", b);
	} else
		pol_put(o, "answer %s", pol_answer_name(a));
}

void
pol_decision_format(const struct pol_decision *d, char *buf, size_t len)
{
	struct pol_out o = {buf, len, 0};
	char t[32];

	if (len == 0)
		return;
	buf[0] = '\0';
	switch (d->action) {
	case POL_RESTART:
		pol_put(&o, "restart in %s (attempt %u)",
		    pol_format_ms(d->delay_ms, t, sizeof(t)), d->attempt);
		break;
	case POL_QUARANTINE:
		if (d->ttl_ms == 0)
			pol_put(&o, "quarantine forever");
		else {
			pol_put(&o, "quarantine for %s then %s",
			    pol_format_ms(d->ttl_ms, t, sizeof(t)),
			    pol_action_name(d->on_expiry));
			if (d->on_expiry == POL_RETIRE) {
				pol_put(&o, " (");
				put_answer(&o, d->answer, &d->fallback);
				pol_put(&o, ")");
			}
		}
		if (d->replacement)
			pol_put(&o, ", with a replacement");
		break;
	case POL_RETIRE:
		pol_put(&o, "retire (");
		put_answer(&o, d->answer, &d->fallback);
		pol_put(&o, ")");
		break;
	default:
		pol_put(&o, "%s", pol_action_name(d->action));
		break;
	}
}

static void
put_event(struct pol_out *o, const struct pol_event *ev)
{
	pol_put(o, "%s", pol_event_name(ev->kind));
	if (ev->kind == POL_EV_EXIT)
		pol_put(o, " %d", ev->exit_code);
	if (ev->kind == POL_EV_EXCEPTION && ev->vector >= 0)
		pol_put(o, " vector %d", ev->vector);
	if (ev->kind == POL_EV_TENDER_DIED && ev->signal >= 0)
		pol_put(o, " signal %d", ev->signal);
}

int
pol_decide(const struct policy *p, const struct pol_event *ev,
    struct pol_history *h, uint32_t random, unsigned quarantined_now,
    struct pol_decision *out)
{
	const struct pol_rule *r = NULL;
	struct pol_out o;
	char t[32], action[128];
	uint32_t n = 0, attempt;
	int capped = -1;
	size_t i;
	bool fault;

	if (ev->kind >= POL_EV_NKINDS ||
	    (h->count > 0 && ev->t_ms < h->last_t)) {
		errno = EINVAL;
		return -1;
	}
	record(h, ev);
	fault = (POL_KIND(ev->kind) & POL_KINDS_FAULT) != 0;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		if (!passes(r, ev->kind, ev->exit_code,
		        ev->kind == POL_EV_EXCEPTION ? ev->vector : -1))
			continue;
		/* Only faults have signatures. */
		if (r->sig != POL_SIG_ANY &&
		    (!fault ||
		        ev->known_signature != (r->sig == POL_SIG_KNOWN)))
			continue;
		if (r->has_uptime_gt && !(ev->uptime_ms > r->uptime_gt_ms))
			continue;
		if (r->has_uptime_lt && !(ev->uptime_ms < r->uptime_lt_ms))
			continue;
		if (r->count != 0 &&
		    (n = window_count(r, h, ev->t_ms)) < r->count)
			continue;
		if (r->action == POL_QUARANTINE && r->max_quarantined != 0 &&
		    quarantined_now >= r->max_quarantined) {
			if (capped < 0)
				capped = (int)i;
			continue;
		}
		break;
	}
	o = (struct pol_out){out->why, sizeof(out->why), 0};
	if (i == p->nrules) {
		/* Only idle gets here: policy_finish() wants a default
		 * that takes everything else. */
		out->action = POL_STOP;
		out->rule = (int)p->nrules;
		out->line = 0;
		pol_put(&o, "no rule (idle stops unless a rule names it): ");
		put_event(&o, ev);
		pol_put(&o, " -> stop");
		return 0;
	}
	out->action = r->action;
	out->rule = (int)i;
	out->line = r->line;
	switch (r->action) {
	case POL_RESTART:
		attempt = h->attempts[i];
		if (r->reset_ms != 0 && ev->uptime_ms >= r->reset_ms)
			attempt = 0;
		out->delay_ms = backoff(r, attempt, random);
		out->attempt = attempt + 1;
		h->attempts[i] = attempt == UINT32_MAX ? attempt : attempt + 1;
		break;
	case POL_QUARANTINE:
		out->ttl_ms = r->ttl_ms;
		out->on_expiry = r->on_expiry;
		out->replacement = r->replacement;
		out->answer = r->answer;
		out->fallback = r->fallback;
		break;
	case POL_RETIRE:
		out->answer = r->answer;
		out->fallback = r->fallback;
		break;
	default:
		break;
	}
	pol_put(&o, "rule %zu (line %d): ", i + 1, r->line);
	put_event(&o, ev);
	if (r->count != 0)
		pol_put(&o, ", %" PRIu32 " within %s", n,
		    pol_format_ms(r->within_ms, t, sizeof(t)));
	if (r->sig != POL_SIG_ANY)
		pol_put(&o, ", %s signature",
		    ev->known_signature ? "known" : "new");
	if (r->has_uptime_gt || r->has_uptime_lt)
		pol_put(&o, ", uptime %s",
		    pol_format_ms(ev->uptime_ms, t, sizeof(t)));
	pol_decision_format(out, action, sizeof(action));
	pol_put(&o, " -> %s", action);
	if (capped >= 0)
		pol_put(&o, " (rule %d: quarantine cap %u reached)", capped + 1,
		    p->rules[capped].max_quarantined);
	return 0;
}
