/*
 * test_policy.c: the policy language, the evaluator, lint and the dry run
 * (policies/).  Pure code: no clock, no I/O; times are given.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policies/policy.h"

static struct policy *
parse(const char *text)
{
	char err[256];
	struct policy *p;

	p = policy_parse("t", text, strlen(text), err, sizeof(err));
	if (p == NULL)
		print_error("policy_parse: %s\n", err);
	assert_non_null(p);
	return p;
}

/* The error policy_parse() gives, or "" if it parses. */
static const char *
parse_err(const char *text)
{
	static char err[256];
	struct policy *p;

	err[0] = '\0';
	p = policy_parse("t", text, strlen(text), err, sizeof(err));
	if (p != NULL) {
		policy_free(p);
		return "";
	}
	return err;
}

static struct pol_event
ev(unsigned kind, uint64_t t)
{
	struct pol_event e = {.kind = kind,
	    .t_ms = t,
	    .vector = -1,
	    .signal = -1,
	    .uptime_ms = 1000};

	return e;
}

static struct pol_decision
decide(const struct policy *p, struct pol_history *h, const struct pol_event *e,
    uint32_t random, unsigned quarantined)
{
	struct pol_decision d;

	assert_int_equal(pol_decide(p, e, h, random, quarantined, &d), 0);
	return d;
}

/* The delays of n faults in a row, each after a short uptime. */
static void
delays(const char *text, const uint64_t *want, size_t n)
{
	struct policy *p = parse(text);
	struct pol_history *h = pol_history_new();
	size_t i;

	for (i = 0; i < n; i++) {
		struct pol_event e = ev(POL_EV_ABORT, i * 100000);
		struct pol_decision d = decide(p, h, &e, 0, 0);

		assert_int_equal(d.action, POL_RESTART);
		assert_int_equal(d.delay_ms, want[i]);
		assert_int_equal(d.attempt, i + 1);
	}
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__fixed_backoff__same_delay(void **state)
{
	static const uint64_t want[] = {250, 250, 250, 250};

	(void)state;
	delays("default restart initial 250ms\n", want, 4);
	delays("default restart backoff fixed initial 250ms\n", want, 4);
	delays("default restart backoff fixed 250ms\n", want, 4);
}

static void
pol_decide__exponential_backoff__doubles_up_to_max(void **state)
{
	static const uint64_t want[] = {100, 200, 400, 800, 1000, 1000};

	(void)state;
	delays("default restart backoff exponential initial 100ms max 1s\n",
	    want, 6);
}

static void
pol_decide__fibonacci_backoff__fibonacci_up_to_max(void **state)
{
	static const uint64_t want[] = {
	    100, 100, 200, 300, 500, 800, 1300, 2000, 2000};

	(void)state;
	delays("default restart backoff fibonacci initial 100ms max 2s\n", want,
	    9);
}

static void
pol_decide__long_series__saturates_at_max(void **state)
{
	struct policy *p =
	    parse("default restart backoff exponential initial 1ms max 100d\n");
	struct pol_history *h = pol_history_new();
	struct pol_decision d;
	unsigned i;

	(void)state;
	for (i = 0; i < 200; i++) {
		struct pol_event e = ev(POL_EV_PANIC, i);

		d = decide(p, h, &e, UINT32_MAX, 0);
	}
	assert_int_equal(d.delay_ms, 100ull * 86400 * 1000);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__jitter__within_bounds(void **state)
{
	struct policy *p = parse("default restart initial 1s jitter 20%\n");
	struct pol_history *h = pol_history_new();
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t r;

	(void)state;
	for (r = 0; r < 2000; r++) {
		struct pol_event e = ev(POL_EV_ABORT, r);
		struct pol_decision d = decide(p, h, &e, r * 2654435761u, 0);

		lo = d.delay_ms < lo ? d.delay_ms : lo;
		hi = d.delay_ms > hi ? d.delay_ms : hi;
	}
	assert_true(lo >= 800 && lo < 810);
	assert_true(hi <= 1200 && hi > 1190);
	/* Deterministic: random 0 is the low end, 400 the top. */
	{
		struct pol_event e = ev(POL_EV_ABORT, 5000);

		assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 800);
		e.t_ms++;
		assert_int_equal(decide(p, h, &e, 400, 0).delay_ms, 1200);
	}
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__healthy_uptime__backoff_starts_over(void **state)
{
	struct policy *p = parse("default restart backoff exponential "
	                         "initial 100ms max 10s reset 1m\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_EXCEPTION, 0);

	(void)state;
	e.uptime_ms = 5000;
	assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 100);
	e.t_ms = 10000;
	assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 200);
	e.t_ms = 20000;
	assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 400);
	e.t_ms = 200000;
	e.uptime_ms = 60000; /* ran a whole minute: healthy */
	assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 100);
	e.t_ms = 210000;
	e.uptime_ms = 59999;
	assert_int_equal(decide(p, h, &e, 0, 0).delay_ms, 200);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__n_within_t__window_slides(void **state)
{
	struct policy *p = parse("on any-fault 3 within 1m quarantine\n"
	                         "default restart\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e;
	struct pol_decision d;

	(void)state;
	e = ev(POL_EV_ABORT, 0);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	/* Heartbeat misses are not faults: not counted. */
	e = ev(POL_EV_HEARTBEAT_MISS, 10000);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	e = ev(POL_EV_PANIC, 30000);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	e = ev(POL_EV_EXCEPTION, 60000); /* 0, 30s, 60s: 60s is within */
	d = decide(p, h, &e, 0, 0);
	assert_int_equal(d.action, POL_QUARANTINE);
	assert_int_equal(d.rule, 0);
	assert_string_equal(d.why, "rule 1 (line 1): exception, 3 within 1m -> "
	                           "quarantine forever");
	/* 30s, 60s, 90s: exactly 1m after 30s is still within. */
	e = ev(POL_EV_EXCEPTION, 90000);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_QUARANTINE);
	/* 90s, 150.001s: 2 in the window. */
	e = ev(POL_EV_EXCEPTION, 150001);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__exit_code_sets__match(void **state)
{
	struct policy *p = parse("on exit 0 stop\n"
	                         "on exit { 1 2 } retire\n"
	                         "on exit 3,5-7 ignore\n"
	                         "on exit !0 restart\n"
	                         "default quarantine\n");
	struct pol_history *h = pol_history_new();
	static const struct {
		int code;
		enum pol_action a;
	} cases[] = {{0, POL_STOP}, {1, POL_RETIRE}, {2, POL_RETIRE},
	    {3, POL_IGNORE}, {4, POL_RESTART}, {6, POL_IGNORE},
	    {8, POL_RESTART}, {255, POL_RESTART}, {-1, POL_RESTART},
	    {1000, POL_RESTART}};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pol_event e = ev(POL_EV_EXIT, i);

		e.exit_code = cases[i].code;
		assert_int_equal(decide(p, h, &e, 0, 0).action, cases[i].a);
	}
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__signature__new_quarantines_known_restarts(void **state)
{
	struct policy *p = parse("on any-fault new-signature quarantine\n"
	                         "on any-fault known-signature restart\n"
	                         "on any new-signature retire\n"
	                         "default stop\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_EXCEPTION, 0);

	(void)state;
	e.vector = 14;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_QUARANTINE);
	e.known_signature = true;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	/* Signatures belong to faults: a heartbeat miss has none. */
	e = ev(POL_EV_HEARTBEAT_MISS, 1);
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_STOP);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__uptime_and_vector__conditions(void **state)
{
	struct policy *p = parse("on exception vector 14 uptime < 5s stop\n"
	                         "on any uptime > 1h ignore\n"
	                         "on any uptime > 1m uptime < 2m retire\n"
	                         "default restart\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_EXCEPTION, 0);

	(void)state;
	e.vector = 14;
	e.uptime_ms = 4999;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_STOP);
	e.uptime_ms = 5000;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	e.vector = 13;
	e.uptime_ms = 100;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	e.uptime_ms = 3600001;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_IGNORE);
	e.uptime_ms = 90000;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RETIRE);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__quarantine_cap__falls_through(void **state)
{
	struct policy *p =
	    parse("on any-fault quarantine ttl 10m then retire answer servfail "
	          "replacement max 2\n"
	          "default restart\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_ABORT, 0);
	struct pol_decision d;

	(void)state;
	d = decide(p, h, &e, 0, 1);
	assert_int_equal(d.action, POL_QUARANTINE);
	assert_int_equal(d.ttl_ms, 600000);
	assert_int_equal(d.on_expiry, POL_RETIRE);
	assert_int_equal(d.answer, POL_ANSWER_SERVFAIL);
	assert_true(d.replacement);
	d = decide(p, h, &e, 0, 2);
	assert_int_equal(d.action, POL_RESTART);
	assert_int_equal(d.rule, 1);
	assert_non_null(strstr(d.why, "quarantine cap 2 reached"));
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__retire__answer_and_fallback(void **state)
{
	struct policy *p = parse("on exit 0 retire\n"
	                         "on exit 1 retire answer refused\n"
	                         "on exit 2 retire answer 192.0.2.7\n"
	                         "default retire answer 2001:db8::1\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_EXIT, 0);
	struct pol_decision d;
	char buf[128];
	struct in_addr a4;

	(void)state;
	assert_int_equal(decide(p, h, &e, 0, 0).answer, POL_ANSWER_NXDOMAIN);
	e.exit_code = 1;
	assert_int_equal(decide(p, h, &e, 0, 0).answer, POL_ANSWER_REFUSED);
	e.exit_code = 2;
	d = decide(p, h, &e, 0, 0);
	assert_int_equal(d.answer, POL_ANSWER_ADDRESS);
	assert_int_equal(d.fallback.af, AF_INET);
	inet_pton(AF_INET, "192.0.2.7", &a4);
	assert_int_equal(d.fallback.u.v4.s_addr, a4.s_addr);
	pol_decision_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "retire (answer 192.0.2.7)");
	e.exit_code = 3;
	d = decide(p, h, &e, 0, 0);
	assert_int_equal(d.fallback.af, AF_INET6);
	assert_int_equal(d.rule, 3);
	assert_int_equal(d.line, 4);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__first_match__wins(void **state)
{
	struct policy *p = parse("on abort stop\n"
	                         "on abort,panic ignore\n"
	                         "default restart\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_ABORT, 0);

	(void)state;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_STOP);
	e.kind = POL_EV_PANIC;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_IGNORE);
	e.kind = POL_EV_STALL;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_RESTART);
	/* idle is not in any: the implicit stop. */
	e.kind = POL_EV_IDLE;
	assert_int_equal(decide(p, h, &e, 0, 0).action, POL_STOP);
	assert_int_equal(decide(p, h, &e, 0, 0).rule, 3);
	pol_history_free(h);
	policy_free(p);
}

static void
pol_decide__bad_input__refused(void **state)
{
	struct policy *p = parse("default stop\n");
	struct pol_history *h = pol_history_new();
	struct pol_event e = ev(POL_EV_NKINDS, 10);
	struct pol_decision d;

	(void)state;
	assert_int_equal(pol_decide(p, &e, h, 0, 0, &d), -1);
	e.kind = POL_EV_ABORT;
	assert_int_equal(pol_decide(p, &e, h, 0, 0, &d), 0);
	e.t_ms = 9; /* backwards */
	assert_int_equal(pol_decide(p, &e, h, 0, 0, &d), -1);
	pol_history_free(h);
	policy_free(p);
}

static void
policy_parse__no_default__refused(void **state)
{
	(void)state;
	assert_non_null(strstr(
	    parse_err("on exit 0 stop\n"), "must end in an explicit default"));
	assert_non_null(strstr(parse_err("on any uptime < 1s restart\n"),
	    "must end in an explicit default"));
	assert_non_null(strstr(parse_err("on any quarantine max 1\n"),
	    "must end in an explicit default"));
	assert_non_null(
	    strstr(parse_err("heartbeat every 1s misses 3\n"), "has no rules"));
	assert_string_equal(parse_err("on any restart\n"), "");
}

static void
policy_parse__hostile__refused(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"default restart initial 99999999999999999999s\n",
	        "1: invalid initial 99999999999999999999s"},
	    {"default restart initial 36501d\n", "1: invalid initial 36501d"},
	    {"on any-fault 65 within 1m stop\ndefault stop\n",
	        "1: invalid count 65 (1 to 64)"},
	    {"on any-fault 0 within 1m stop\ndefault stop\n",
	        "1: invalid count 0 (1 to 64)"},
	    {"on exit 256 stop\ndefault stop\n", "1: invalid exit code 256"},
	    {"on exit 9-3 stop\ndefault stop\n", "1: empty exit code range"},
	    {"on exit { 1 2\ndefault stop\n", "1: exit code set without }"},
	    {"on exit { 1 2 stop\ndefault stop\n", "1: invalid exit code stop"},
	    {"on exit {} stop\ndefault stop\n", "1: empty exit code set"},
	    {"on abort 1 stop\ndefault stop\n", "1: exit codes need the exit"},
	    {"on frob stop\ndefault stop\n", "1: unknown event frob"},
	    {"on exit\ndefault stop\n", "1: no action"},
	    {"on exception vector 300 stop\ndefault stop\n",
	        "1: invalid vector 300 (0 to 255)"},
	    {"on abort vector 3 stop\ndefault stop\n", "1: vector needs the"},
	    {"on stall new-signature stop\ndefault stop\n",
	        "1: new-signature needs a fault event"},
	    {"on any uptime > 2s uptime < 1s stop\ndefault stop\n",
	        "1: uptime range is empty"},
	    {"on any uptime<1s stop\ndefault stop\n",
	        "1: unknown condition uptime<1s"},
	    {"default restart jitter 101%\n", "1: invalid jitter 101%"},
	    {"default restart max 1s\n", "1: max and reset need backoff"},
	    {"default restart backoff exponential initial 0ms\n",
	        "1: backoff exponential needs initial above 0"},
	    {"default restart backoff exponential initial 2s max 1s\n",
	        "1: max is below initial"},
	    {"default restart initial 1s initial 2s\n",
	        "1: initial given twice"},
	    {"default quarantine then stop\n", "1: then needs a ttl"},
	    {"default quarantine ttl 1h then ignore\n",
	        "1: then needs restart, retire or stop"},
	    {"default quarantine max 0\n", "1: invalid max 0"},
	    {"default quarantine max 99999999999999999999999\n",
	        "1: invalid max"},
	    {"default retire answer 300.1.2.3\n",
	        "1: invalid answer 300.1.2.3"},
	    {"default stop now\n", "1: stop: unknown option now"},
	    {"heartbeat every 0s misses 3\ndefault stop\n",
	        "1: heartbeat every 0: use heartbeat off"},
	    {"stall after 0 beats\ndefault stop\n", "1: invalid stall after 0"},
	    {"frobnicate\ndefault stop\n", "1: unknown statement frobnicate"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = parse_err(cases[i].text);

		if (strncmp(got, cases[i].err, strlen(cases[i].err)) != 0) {
			print_error("%s: want %s..., got %s\n", cases[i].text,
			    cases[i].err, got);
			fail();
		}
	}
}

static void
policy_parse__many_rules__capped(void **state)
{
	char *text = malloc(100 * 32);
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < 70; i++)
		n += (size_t)sprintf(text + n, "on exit %zu stop\n", i);
	sprintf(text + n, "default stop\n");
	assert_non_null(strstr(parse_err(text), "65: too many rules"));
	free(text);
}

static void
policy_rule_format__normalised__parses_back(void **state)
{
	static const char text[] =
	    "heartbeat every 2s misses 3\n"
	    "stall after 10 beats\n"
	    "ready-timeout 5s\n"
	    "on exit { 0 } stop\n"
	    "on exit !0,1 restart initial 1s jitter 5%\n"
	    "on exit 3,4,5,9 retire answer 2001:db8::1\n"
	    "on exception,abort,triple-fault,bad-hypercall,tender-died,panic,"
	    "host-error vector 14 3 within 90s new-signature quarantine "
	    "ttl 1h then retire answer refused replacement max 4\n"
	    "on any-fault,stall known-signature uptime > 1s uptime < 1m "
	    "restart backoff fibonacci initial 1s max 1m reset 1h\n"
	    "on any,idle ignore\n"
	    "default quarantine ttl forever\n";
	static const char want[] =
	    "heartbeat every 2s misses 3\n"
	    "stall after 10 beats\n"
	    "ready-timeout 5s\n"
	    "on exit 0 stop\n"
	    "on exit !0,1 restart initial 1s jitter 5%\n"
	    "on exit 3-5,9 retire answer 2001:db8::1\n"
	    "on any-fault vector 14 3 within 90s new-signature quarantine "
	    "ttl 1h then retire answer refused replacement max 4\n"
	    "on any-fault,stall known-signature uptime > 1s uptime < 1m "
	    "restart backoff fibonacci initial 1s max 1m reset 1h\n"
	    "on any,idle ignore\n"
	    "default quarantine\n";
	struct policy *p = parse(text), *q;
	char out[4096], buf[1400];
	size_t n = 0, i;
	unsigned h;

	(void)state;
	for (h = 0; policy_health_format(p, h, buf, sizeof(buf)) > 0; h++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\n", buf);
	for (i = 0; i < p->nrules; i++) {
		policy_rule_format(&p->rules[i], buf, sizeof(buf));
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s\n", buf);
	}
	assert_string_equal(out, want);
	q = parse(out);
	assert_true(policy_equal(p, q));
	policy_free(q);
	policy_free(p);
}

static void
policy_builtin_new__documented_rules(void **state)
{
	struct policy *p = policy_builtin_new();
	char buf[256];

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->name, "builtin");
	assert_int_equal(p->nrules, 3);
	policy_rule_format(&p->rules[2], buf, sizeof(buf));
	assert_string_equal(buf, "default restart backoff exponential initial "
	                         "100ms max 30s reset 5m");
	policy_free(p);
}

struct warnings {
	int n;
	int lines[16];
	char msg[16][256];
};

static void
collect(void *arg, int line, const char *msg)
{
	struct warnings *w = arg;

	if (w->n < 16) {
		w->lines[w->n] = line;
		snprintf(w->msg[w->n], sizeof(w->msg[0]), "%s", msg);
	}
	w->n++;
}

static void
policy_lint__unreachable_rules__warned(void **state)
{
	struct policy *p =
	    parse("on exit 0 stop\n"                  /* 1 */
	          "on exit 0 retire\n"                /* 2: duplicate */
	          "on abort restart\n"                /* 3 */
	          "on abort 3 within 1m quarantine\n" /* 4: after 3 */
	          "on exit !0 restart\n"              /* 5 */
	          "on exit 0,7 uptime < 1s stop\n"    /* 6: 1 and 5 take it */
	          "on panic quarantine max 1\n"       /* 7: falls through */
	          "on panic restart\n"                /* 8: reachable */
	          "on exception 2 within 1m quarantine\n" /* 9 */
	          "on exception 3 within 30s stop\n"      /* 10: implied by 9 */
	          "on exception 1 within 30s stop\n"      /* 11: reachable */
	          "on any restart\n"                      /* 12 */
	          "on stall stop\n"                       /* 13: after on any */
	          "default stop\n");                      /* 14 */
	struct warnings w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(policy_lint(p, collect, &w), 6);
	assert_int_equal(w.lines[0], 2);
	assert_string_equal(w.msg[0], "rule never matches: on exit 0 retire "
	                              "answer nxdomain (line 1 takes all its "
	                              "events)");
	assert_int_equal(w.lines[1], 4);
	assert_int_equal(w.lines[2], 6);
	assert_string_equal(w.msg[2],
	    "rule never matches: on exit 0,7 uptime < "
	    "1s stop (earlier rules take all its "
	    "events)");
	assert_int_equal(w.lines[3], 10);
	assert_int_equal(w.lines[4], 13);
	assert_int_equal(w.lines[5], 14);
	policy_free(p);

	p = parse("on exit 0 stop\non any-fault restart\ndefault stop\n");
	assert_int_equal(policy_lint(p, collect, &w), 0);
	policy_free(p);
}

/* ---- the dry run ---- */

struct steps {
	char text[4096];
	size_t n;
	int count;
	struct pol_trace_step last;
};

static void
emit(void *arg, const struct pol_trace_step *s)
{
	struct steps *st = arg;
	char buf[512];

	pol_trace_step_format(s, buf, sizeof(buf));
	st->n += (size_t)snprintf(
	    st->text + st->n, sizeof(st->text) - st->n, "%s\n", buf);
	st->count++;
	st->last = *s;
}

static const char crash_loop[] =
    "on exit 0 stop\n"
    "on any-fault 3 within 1m quarantine ttl 1h then restart replacement "
    "max 2\n"
    "on any-fault restart backoff fibonacci initial 200ms max 10s reset 2m\n"
    "default restart backoff exponential initial 100ms max 30s reset 5m\n";

static void
policy_trace_run__crash_loop__exact_decisions(void **state)
{
	static const char trace[] =
	    "# a crash loop\n"
	    "0s     exception vector=14\n"
	    "+1s    exception vector=14\n"
	    "\n"
	    "+1s    exception vector=14\n"
	    "+1s    exception vector=14\n"
	    "+1s    exception vector=14   # the cap: 2 quarantined\n"
	    "10s    release\n"
	    "+5m    exception vector=14 sig=other\n"
	    "2h     exit code=0\n";
	static const char want[] =
	    "0:00:00.000  exception vector=14 new uptime=0ms         -> "
	    "restart in 200ms (attempt 1) (rule 3, line 3)\n"
	    "0:00:01.000  exception vector=14 known uptime=800ms     -> "
	    "restart in 200ms (attempt 2) (rule 3, line 3)\n"
	    "0:00:02.000  exception vector=14 known uptime=800ms     -> "
	    "quarantine for 1h then restart, with a replacement (rule 2, line "
	    "2)\n"
	    "0:00:03.000  exception vector=14 known uptime=1s        -> "
	    "quarantine for 1h then restart, with a replacement (rule 2, line "
	    "2)\n"
	    "0:00:04.000  exception vector=14 known uptime=1s        -> "
	    "restart in 400ms (attempt 3) (rule 3, line 3)\n"
	    "0:00:10.000  release -> 1 quarantined\n"
	    "0:05:10.000  exception vector=14 new uptime=305600ms    -> "
	    "restart in 200ms (attempt 1) (rule 3, line 3)\n"
	    "1:00:03.000  quarantine of line 6 ends -> restart, 0 "
	    "quarantined\n"
	    "2:00:00.000  exit code=0 uptime=3597s                   -> stop "
	    "(rule 1, line 1)\n";
	struct policy *p = parse(crash_loop);
	struct steps st;
	char err[128];

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(policy_trace_run(p, trace, strlen(trace), emit, &st,
	                     err, sizeof(err)),
	    0);
	if (strcmp(st.text, want) != 0)
		print_error("got:\n%s", st.text);
	assert_string_equal(st.text, want);
	policy_free(p);
}

static void
policy_trace_run__bad_traces__refused_with_line(void **state)
{
	static const struct {
		const char *trace, *err;
	} cases[] = {
	    {"0s exception\nfoo abort\n", "trace:2: invalid time foo"},
	    {"5s abort\n4s abort\n", "trace:2: time goes backwards"},
	    {"0s frob\n", "trace:1: unknown event frob"},
	    {"0s exit code=x\n", "trace:1: invalid code x"},
	    {"0s exit code=99999999999\n", "trace:1: invalid code"},
	    {"0s exception vector=256\n", "trace:1: invalid vector 256"},
	    {"0s abort vector=3\n", "trace:1: abort: unknown key vector"},
	    {"0s abort signature=maybe\n",
	        "trace:1: signature is new or known"},
	    {"0s abort uptime=5x\n", "trace:1: invalid uptime 5x"},
	    {"0s abort junk\n", "trace:1: want key=value: junk"},
	    {"0s\n", "trace:1: want TIME EVENT"},
	    {"\n\n3s release\n", "trace:3: release: nothing is quarantined"},
	    {"99999999999999999999s abort\n", "trace:1: invalid time"},
	    {"36500d abort\n+36500d abort\n+36500d abort\n",
	        "trace:2: time too large"},
	};
	struct policy *p = parse(crash_loop);
	struct steps st;
	char err[128], *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&st, 0, sizeof(st));
		err[0] = '\0';
		assert_int_equal(
		    policy_trace_run(p, cases[i].trace, strlen(cases[i].trace),
		        emit, &st, err, sizeof(err)),
		    -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0) {
			print_error("%s: want %s..., got %s\n", cases[i].trace,
			    cases[i].err, err);
			fail();
		}
	}
	/* A NUL byte and an endless line. */
	assert_int_equal(
	    policy_trace_run(p, "0s ab\0rt\n", 9, emit, &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "trace:1: NUL byte");
	big = malloc(5000);
	memset(big, 'a', 5000);
	assert_int_equal(
	    policy_trace_run(p, big, 5000, emit, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "trace:1: line too long (at most 1024)");
	free(big);
	policy_free(p);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf;

	if (fp == NULL)
		return NULL;
	buf = calloc(1, 65536);
	*len = fread(buf, 1, 65535, fp);
	fclose(fp);
	return buf;
}

/* The example traces in config/traces/ replay without error. */
static void
policy_trace_run__example_traces__replay(void **state)
{
	static const char *const files[] = {"config/traces/crash-loop.trace",
	    "config/traces/signatures.trace", "config/traces/hang.trace"};
	struct policy *p = parse(crash_loop);
	struct steps st;
	char err[128], *t;
	size_t i, len = 0;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		t = slurp(files[i], &len);
		assert_non_null(t);
		memset(&st, 0, sizeof(st));
		if (policy_trace_run(p, t, len, emit, &st, err, sizeof(err)))
			print_error("%s: %s\n", files[i], err);
		assert_true(st.count > 0);
		free(t);
	}
	policy_free(p);
}

static void
pol_event_names__round_trip(void **state)
{
	unsigned k;

	(void)state;
	for (k = 0; k < POL_EV_NKINDS; k++)
		assert_int_equal(pol_event_from_name(pol_event_name(k)), k);
	assert_int_equal(pol_event_from_name("nope"), -1);
	assert_string_equal(pol_event_name(99), "unknown");
	assert_string_equal(pol_action_name(POL_QUARANTINE), "quarantine");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pol_decide__fixed_backoff__same_delay),
	    cmocka_unit_test(
	        pol_decide__exponential_backoff__doubles_up_to_max),
	    cmocka_unit_test(
	        pol_decide__fibonacci_backoff__fibonacci_up_to_max),
	    cmocka_unit_test(pol_decide__long_series__saturates_at_max),
	    cmocka_unit_test(pol_decide__jitter__within_bounds),
	    cmocka_unit_test(pol_decide__healthy_uptime__backoff_starts_over),
	    cmocka_unit_test(pol_decide__n_within_t__window_slides),
	    cmocka_unit_test(pol_decide__exit_code_sets__match),
	    cmocka_unit_test(
	        pol_decide__signature__new_quarantines_known_restarts),
	    cmocka_unit_test(pol_decide__uptime_and_vector__conditions),
	    cmocka_unit_test(pol_decide__quarantine_cap__falls_through),
	    cmocka_unit_test(pol_decide__retire__answer_and_fallback),
	    cmocka_unit_test(pol_decide__first_match__wins),
	    cmocka_unit_test(pol_decide__bad_input__refused),
	    cmocka_unit_test(policy_parse__no_default__refused),
	    cmocka_unit_test(policy_parse__hostile__refused),
	    cmocka_unit_test(policy_parse__many_rules__capped),
	    cmocka_unit_test(policy_rule_format__normalised__parses_back),
	    cmocka_unit_test(policy_builtin_new__documented_rules),
	    cmocka_unit_test(policy_lint__unreachable_rules__warned),
	    cmocka_unit_test(policy_trace_run__crash_loop__exact_decisions),
	    cmocka_unit_test(policy_trace_run__bad_traces__refused_with_line),
	    cmocka_unit_test(policy_trace_run__example_traces__replay),
	    cmocka_unit_test(pol_event_names__round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
