/*
 * policy.c: the policy language: names, time words, one line of a policy
 * into a rule or a health parameter, and back to normalised text.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pol_int.h"
#include "policy.h"

#define MAX_COUNT 1000000

static const char *const event_names[POL_EV_NKINDS] = {
    [POL_EV_EXIT] = "exit",
    [POL_EV_ABORT] = "abort",
    [POL_EV_EXCEPTION] = "exception",
    [POL_EV_TRIPLE_FAULT] = "triple-fault",
    [POL_EV_BAD_HYPERCALL] = "bad-hypercall",
    [POL_EV_TENDER_DIED] = "tender-died",
    [POL_EV_PANIC] = "panic",
    [POL_EV_HOST_ERROR] = "host-error",
    [POL_EV_HEARTBEAT_MISS] = "heartbeat-miss",
    [POL_EV_STALL] = "stall",
    [POL_EV_READY_TIMEOUT] = "ready-timeout",
    [POL_EV_IDLE] = "idle",
};

static const char *const action_names[] = {
    [POL_RESTART] = "restart",
    [POL_QUARANTINE] = "quarantine",
    [POL_RETIRE] = "retire",
    [POL_STOP] = "stop",
    [POL_IGNORE] = "ignore",
};

static const char *const answer_names[] = {
    [POL_ANSWER_NXDOMAIN] = "nxdomain",
    [POL_ANSWER_SERVFAIL] = "servfail",
    [POL_ANSWER_REFUSED] = "refused",
    [POL_ANSWER_ADDRESS] = "address",
};

static const char *const backoff_names[] = {
    [POL_BACKOFF_FIXED] = "fixed",
    [POL_BACKOFF_EXPONENTIAL] = "exponential",
    [POL_BACKOFF_FIBONACCI] = "fibonacci",
};

const char *
pol_event_name(unsigned kind)
{
	return kind < POL_EV_NKINDS ? event_names[kind] : "unknown";
}

int
pol_event_from_name(const char *name)
{
	int i;

	for (i = 0; i < POL_EV_NKINDS; i++)
		if (strcmp(name, event_names[i]) == 0)
			return i;
	return -1;
}

const char *
pol_action_name(unsigned action)
{
	return action <= POL_IGNORE ? action_names[action] : "unknown";
}

const char *
pol_answer_name(unsigned answer)
{
	return answer <= POL_ANSWER_ADDRESS ? answer_names[answer] : "unknown";
}

int
pol_parse_ms(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60000},
	    {"h", 3600000}, {"d", 86400000}};
	uint64_t v = 0;
	const char *p = s;
	size_t i;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > POL_TIME_MAX)
			return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v > POL_TIME_MAX / units[i].ms)
			return -1;
		*out = v * units[i].ms;
		return 0;
	}
	return -1;
}

const char *
pol_format_ms(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = {
	    {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms,
			    units[i].unit);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRIu64 "ms", ms);
	return buf;
}

struct policy *
policy_new(const char *name, const char *file, int line)
{
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->line = line;
	if ((p->name = strdup(name)) == NULL ||
	    (p->file = strdup(file != NULL ? file : "")) == NULL) {
		policy_free(p);
		return NULL;
	}
	return p;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->file);
	free(p->rules);
	free(p);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A decimal number in 0..max, nothing else. */
static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

static void
set_bit(uint8_t *set, unsigned i)
{
	set[i / 8] |= (uint8_t)(1u << (i % 8));
}

static bool
has_bit(const uint8_t *set, unsigned i)
{
	return (set[i / 8] >> (i % 8)) & 1;
}

/* "1", "1,2", "3-9": add to set. */
static int
parse_codes(const char *s, uint8_t *set, char *err, size_t errlen)
{
	char buf[1100], *tok, *save = NULL, *dash;
	uint64_t a, b, i;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "exit code list too long");
	strcpy(buf, s);
	if (buf[0] == '\0' || buf[0] == ',' || buf[strlen(buf) - 1] == ',' ||
	    strstr(buf, ",,") != NULL)
		return fail(err, errlen, "invalid exit code list %s", s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((dash = strchr(tok, '-')) != NULL)
			*dash++ = '\0';
		if (parse_uint(tok, 255, &a) == -1 ||
		    (dash != NULL && parse_uint(dash, 255, &b) == -1))
			return fail(err, errlen,
			    "invalid exit code %s (0 to 255, or A-B)", s);
		if (dash == NULL)
			b = a;
		if (b < a)
			return fail(
			    err, errlen, "empty exit code range in %s", s);
		for (i = a; i <= b; i++)
			set_bit(set, (unsigned)i);
	}
	return 0;
}

static bool
looks_like_codes(const char *w)
{
	return isdigit((unsigned char)w[0]) || w[0] == '!' ||
	       strcmp(w, "{") == 0;
}

/*
 * An exit set starting at words[*i]: "0", "1,2", "!0", "{ 1 2 }",
 * "!{ 1 2 }", "! { ... }".
 */
static int
parse_exit_set(struct pol_rule *r, char *const *w, size_t n, size_t *i,
    char *err, size_t errlen)
{
	bool neg = false;
	const char *s = w[*i];
	size_t j;

	memset(r->exit_set, 0, sizeof(r->exit_set));
	r->has_exit_set = true;
	if (s[0] == '!') {
		neg = true;
		s++;
		if (*s == '\0') {
			if (++*i == n)
				return fail(err, errlen, "! needs exit codes");
			s = w[*i];
		}
	}
	if (strcmp(s, "{") == 0) {
		for (j = *i + 1; j < n && strcmp(w[j], "}") != 0; j++)
			if (parse_codes(w[j], r->exit_set, err, errlen) == -1)
				return -1;
		if (j == n)
			return fail(err, errlen, "exit code set without }");
		if (j == *i + 1)
			return fail(err, errlen, "empty exit code set");
		*i = j;
	} else if (parse_codes(s, r->exit_set, err, errlen) == -1)
		return -1;
	(*i)++;
	if (neg)
		for (j = 0; j < sizeof(r->exit_set); j++)
			r->exit_set[j] = (uint8_t)~r->exit_set[j];
	/* Only bits 0..256 mean anything. */
	for (j = POL_EXIT_OTHERS + 1; j < sizeof(r->exit_set) * 8; j++)
		r->exit_set[j / 8] &= (uint8_t) ~(1u << (j % 8));
	return 0;
}

static int
parse_kinds(const char *s, uint32_t *kinds, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	int k;

	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "event list too long");
	strcpy(buf, s);
	*kinds = 0;
	if (buf[0] == ',' || buf[strlen(buf) - 1] == ',' ||
	    strstr(buf, ",,") != NULL)
		return fail(err, errlen, "invalid event list %s", s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "any") == 0)
			*kinds |= POL_KINDS_ANY;
		else if (strcmp(tok, "any-fault") == 0)
			*kinds |= POL_KINDS_FAULT;
		else if ((k = pol_event_from_name(tok)) >= 0)
			*kinds |= POL_KIND(k);
		else
			return fail(err, errlen, "unknown event %s", tok);
	}
	if (*kinds == 0)
		return fail(err, errlen, "no event after on");
	return 0;
}

static int
parse_action(const char *s)
{
	unsigned a;

	for (a = 0; a <= POL_IGNORE; a++)
		if (strcmp(s, action_names[a]) == 0)
			return (int)a;
	return -1;
}

static int
time_arg(char *const *w, size_t n, size_t *i, const char *what, uint64_t *out,
    char *err, size_t errlen)
{
	if (*i + 1 >= n)
		return fail(err, errlen, "%s needs a time", what);
	if (pol_parse_ms(w[*i + 1], out) == -1)
		return fail(err, errlen,
		    "invalid %s %s (a number with ms, s, m, h or d, at most "
		    "100 years)",
		    what, w[*i + 1]);
	*i += 2;
	return 0;
}

static int
uint_arg(char *const *w, size_t n, size_t *i, const char *what, uint64_t min,
    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (*i + 1 >= n)
		return fail(err, errlen, "%s needs a number", what);
	if (parse_uint(w[*i + 1], max, out) == -1 || *out < min)
		return fail(err, errlen,
		    "invalid %s %s (%" PRIu64 " to %" PRIu64 ")", what,
		    w[*i + 1], min, max);
	*i += 2;
	return 0;
}

static int
parse_answer(struct pol_rule *r, const char *s, char *err, size_t errlen)
{
	unsigned a;

	for (a = 0; a < POL_ANSWER_ADDRESS; a++) {
		if (strcmp(s, answer_names[a]) == 0) {
			r->answer = a;
			return 0;
		}
	}
	memset(&r->fallback, 0, sizeof(r->fallback));
	if (inet_pton(AF_INET, s, &r->fallback.u.v4) == 1)
		r->fallback.af = AF_INET;
	else if (inet_pton(AF_INET6, s, &r->fallback.u.v6) == 1)
		r->fallback.af = AF_INET6;
	else
		return fail(err, errlen,
		    "invalid answer %s (nxdomain, servfail, refused or an "
		    "address)",
		    s);
	r->answer = POL_ANSWER_ADDRESS;
	return 0;
}

enum opt {
	O_BACKOFF = 1 << 0,
	O_INITIAL = 1 << 1,
	O_MAX = 1 << 2,
	O_JITTER = 1 << 3,
	O_RESET = 1 << 4,
	O_TTL = 1 << 5,
	O_THEN = 1 << 6,
	O_REPLACEMENT = 1 << 7,
	O_ANSWER = 1 << 8,
};

/* The action and its options, from words[i]. */
static int
parse_action_words(struct pol_rule *r, char *const *w, size_t n, size_t i,
    char *err, size_t errlen)
{
	unsigned seen = 0, o;
	uint64_t v;
	int a;
	size_t k;

	if ((a = parse_action(w[i])) < 0)
		return fail(err, errlen, "unknown action %s", w[i]);
	r->action = (enum pol_action)a;
	r->reset_ms = 5 * 60 * 1000;
	r->on_expiry = POL_STOP;
	r->answer = POL_ANSWER_NXDOMAIN;
	i++;
	while (i < n) {
		const char *o_name = w[i];

		o = 0;
		if (r->action == POL_RESTART &&
		    strcmp(o_name, "backoff") == 0) {
			o = O_BACKOFF;
			if (i + 1 >= n)
				return fail(
				    err, errlen, "backoff needs a kind");
			for (k = 0; k <= POL_BACKOFF_FIBONACCI; k++)
				if (strcmp(w[i + 1], backoff_names[k]) == 0)
					break;
			if (k > POL_BACKOFF_FIBONACCI)
				return fail(err, errlen,
				    "unknown backoff %s (fixed, exponential or "
				    "fibonacci)",
				    w[i + 1]);
			r->backoff = (enum pol_backoff)k;
			i += 2;
			/* `backoff fixed 50ms`: the initial delay. */
			if (i < n && pol_parse_ms(w[i], &v) == 0) {
				if (seen & O_INITIAL)
					return fail(
					    err, errlen, "initial given twice");
				seen |= O_INITIAL;
				r->initial_ms = v;
				i++;
			}
		} else if (r->action == POL_RESTART &&
		           strcmp(o_name, "initial") == 0) {
			o = O_INITIAL;
			if (time_arg(w, n, &i, "initial", &r->initial_ms, err,
			        errlen) == -1)
				return -1;
		} else if (r->action == POL_RESTART &&
		           strcmp(o_name, "max") == 0) {
			o = O_MAX;
			if (time_arg(
			        w, n, &i, "max", &r->max_ms, err, errlen) == -1)
				return -1;
		} else if (r->action == POL_RESTART &&
		           strcmp(o_name, "reset") == 0) {
			o = O_RESET;
			if (time_arg(w, n, &i, "reset", &r->reset_ms, err,
			        errlen) == -1)
				return -1;
		} else if (r->action == POL_RESTART &&
		           strcmp(o_name, "jitter") == 0) {
			char num[8];
			size_t len;

			o = O_JITTER;
			if (i + 1 >= n)
				return fail(
				    err, errlen, "jitter needs a percentage");
			len = strlen(w[i + 1]);
			if (len > 0 && w[i + 1][len - 1] == '%')
				len--;
			if (len == 0 || len >= sizeof(num))
				return fail(err, errlen,
				    "invalid jitter %s (0%% to 100%%)",
				    w[i + 1]);
			memcpy(num, w[i + 1], len);
			num[len] = '\0';
			if (parse_uint(num, 100, &v) == -1)
				return fail(err, errlen,
				    "invalid jitter %s (0%% to 100%%)",
				    w[i + 1]);
			r->jitter_pct = (unsigned)v;
			i += 2;
		} else if (r->action == POL_QUARANTINE &&
		           strcmp(o_name, "ttl") == 0) {
			o = O_TTL;
			if (i + 1 < n && strcmp(w[i + 1], "forever") == 0) {
				r->ttl_ms = 0;
				i += 2;
			} else if (time_arg(w, n, &i, "ttl", &r->ttl_ms, err,
			               errlen) == -1)
				return -1;
		} else if (r->action == POL_QUARANTINE &&
		           strcmp(o_name, "then") == 0) {
			o = O_THEN;
			if (i + 1 >= n || (a = parse_action(w[i + 1])) < 0 ||
			    a == POL_QUARANTINE || a == POL_IGNORE)
				return fail(err, errlen,
				    "then needs restart, retire or stop");
			r->on_expiry = (enum pol_action)a;
			i += 2;
		} else if (r->action == POL_QUARANTINE &&
		           strcmp(o_name, "replacement") == 0) {
			o = O_REPLACEMENT;
			r->replacement = true;
			i++;
		} else if (r->action == POL_QUARANTINE &&
		           strcmp(o_name, "max") == 0) {
			o = O_MAX;
			if (uint_arg(w, n, &i, "max", 1, MAX_COUNT, &v, err,
			        errlen) == -1)
				return -1;
			r->max_quarantined = (unsigned)v;
		} else if ((r->action == POL_RETIRE ||
		               r->action == POL_QUARANTINE) &&
		           strcmp(o_name, "answer") == 0) {
			o = O_ANSWER;
			if (i + 1 >= n)
				return fail(
				    err, errlen, "answer needs a value");
			if (parse_answer(r, w[i + 1], err, errlen) == -1)
				return -1;
			i += 2;
		} else
			return fail(err, errlen, "%s: unknown option %s",
			    action_names[r->action], o_name);
		if (seen & o)
			return fail(err, errlen, "%s given twice", o_name);
		seen |= o;
	}

	if (r->action == POL_RESTART) {
		if (r->backoff == POL_BACKOFF_FIXED) {
			if (seen & (O_MAX | O_RESET))
				return fail(err, errlen,
				    "max and reset need backoff exponential or "
				    "fibonacci");
			r->max_ms = 0;
			r->reset_ms = 0;
		} else {
			if (!(seen & O_INITIAL))
				r->initial_ms = 100;
			if (r->initial_ms == 0)
				return fail(err, errlen,
				    "backoff %s needs initial above 0",
				    backoff_names[r->backoff]);
			if (!(seen & O_MAX))
				r->max_ms = r->initial_ms > 3600000
				                ? r->initial_ms
				                : 3600000;
			if (r->max_ms < r->initial_ms)
				return fail(
				    err, errlen, "max is below initial");
		}
	}
	if (r->action == POL_QUARANTINE) {
		if ((seen & O_THEN) && r->ttl_ms == 0)
			return fail(err, errlen,
			    "then needs a ttl (the quarantine never ends)");
		if ((seen & O_ANSWER) && r->on_expiry != POL_RETIRE)
			return fail(err, errlen, "answer needs then retire");
	}
	return 0;
}

static int
parse_rule(
    struct pol_rule *r, char *const *w, size_t n, char *err, size_t errlen)
{
	size_t i;
	uint64_t v;
	bool seen_vector = false, seen_uptime_lt = false;
	bool seen_uptime_gt = false;

	r->vector = -1;
	if (strcmp(w[0], "default") == 0) {
		r->is_default = true;
		r->kinds = POL_KINDS_ANY;
		if (n < 2)
			return fail(err, errlen, "default needs an action");
		return parse_action_words(r, w, n, 1, err, errlen);
	}
	if (n < 2)
		return fail(err, errlen, "on needs an event");
	if (parse_kinds(w[1], &r->kinds, err, errlen) == -1)
		return -1;
	i = 2;
	if (i < n && looks_like_codes(w[i]) &&
	    !(i + 1 < n && strcmp(w[i + 1], "within") == 0)) {
		if (!(r->kinds & POL_KIND(POL_EV_EXIT)))
			return fail(
			    err, errlen, "exit codes need the exit event");
		if (parse_exit_set(r, w, n, &i, err, errlen) == -1)
			return -1;
	}
	while (i < n && parse_action(w[i]) < 0) {
		if (strcmp(w[i], "vector") == 0) {
			if (seen_vector)
				return fail(err, errlen, "vector given twice");
			if (!(r->kinds & POL_KIND(POL_EV_EXCEPTION)))
				return fail(err, errlen,
				    "vector needs the exception event");
			if (uint_arg(w, n, &i, "vector", 0, 255, &v, err,
			        errlen) == -1)
				return -1;
			r->vector = (int)v;
			seen_vector = true;
		} else if (i + 1 < n && strcmp(w[i + 1], "within") == 0) {
			if (r->count != 0)
				return fail(err, errlen, "within given twice");
			if (parse_uint(w[i], POL_HISTORY, &v) == -1 || v == 0)
				return fail(err, errlen,
				    "invalid count %s (1 to %d)", w[i],
				    POL_HISTORY);
			r->count = (uint32_t)v;
			i++;
			if (time_arg(w, n, &i, "within", &r->within_ms, err,
			        errlen) == -1)
				return -1;
			if (r->within_ms == 0)
				return fail(
				    err, errlen, "within needs a time above 0");
		} else if (strcmp(w[i], "new-signature") == 0 ||
		           strcmp(w[i], "known-signature") == 0) {
			if (r->sig != POL_SIG_ANY)
				return fail(err, errlen,
				    "signature condition given twice");
			if (!(r->kinds & POL_KINDS_FAULT))
				return fail(err, errlen,
				    "%s needs a fault event", w[i]);
			r->sig = w[i][0] == 'n' ? POL_SIG_NEW : POL_SIG_KNOWN;
			i++;
		} else if (strcmp(w[i], "uptime") == 0) {
			bool lt;

			if (i + 1 >= n || (strcmp(w[i + 1], "<") != 0 &&
			                      strcmp(w[i + 1], ">") != 0))
				return fail(err, errlen,
				    "uptime needs < or > (with spaces around)");
			lt = w[i + 1][0] == '<';
			if ((lt && seen_uptime_lt) || (!lt && seen_uptime_gt))
				return fail(err, errlen,
				    "uptime %s given twice", w[i + 1]);
			i++;
			if (time_arg(w, n, &i, "uptime",
			        lt ? &r->uptime_lt_ms : &r->uptime_gt_ms, err,
			        errlen) == -1)
				return -1;
			if (lt)
				seen_uptime_lt = r->has_uptime_lt = true;
			else
				seen_uptime_gt = r->has_uptime_gt = true;
		} else if (looks_like_codes(w[i]))
			return fail(
			    err, errlen, "exit codes go right after the event");
		else
			return fail(err, errlen, "unknown condition %s", w[i]);
	}
	if (r->has_uptime_lt && r->has_uptime_gt &&
	    r->uptime_gt_ms + 1 >= r->uptime_lt_ms)
		return fail(err, errlen, "uptime range is empty");
	if (r->has_uptime_lt && r->uptime_lt_ms == 0)
		return fail(err, errlen, "uptime < 0 never matches");
	if (i == n)
		return fail(err, errlen,
		    "no action (restart, quarantine, retire, stop or ignore)");
	return parse_action_words(r, w, n, i, err, errlen);
}

int
policy_add_line(struct policy *p, char *const *w, size_t n, int line, char *err,
    size_t errlen)
{
	struct pol_rule r, *nr;
	uint64_t v, t;
	size_t i;

	if (n == 0)
		return 0;
	if (strcmp(w[0], "on") == 0 || strcmp(w[0], "default") == 0) {
		if (p->nrules == POL_MAX_RULES)
			return fail(err, errlen, "too many rules (at most %d)",
			    POL_MAX_RULES);
		memset(&r, 0, sizeof(r));
		r.line = line;
		if (parse_rule(&r, w, n, err, errlen) == -1)
			return -1;
		nr = reallocarray(p->rules, p->nrules + 1, sizeof(*nr));
		if (nr == NULL)
			return fail(err, errlen, "out of memory");
		p->rules = nr;
		p->rules[p->nrules++] = r;
		return 0;
	}
	i = 0;
	if (strcmp(w[0], "heartbeat") == 0) {
		if (n == 2 && strcmp(w[1], "off") == 0) {
			p->hb_interval_ms = 0;
			p->hb_misses = 0;
			return 0;
		}
		if (n != 5 || strcmp(w[1], "every") != 0 ||
		    strcmp(w[3], "misses") != 0)
			return fail(err, errlen,
			    "usage: heartbeat every T misses N, or heartbeat "
			    "off");
		i = 1;
		if (time_arg(w, n, &i, "heartbeat every", &t, err, errlen) ==
		        -1 ||
		    uint_arg(w, n, &i, "misses", 1, MAX_COUNT, &v, err,
		        errlen) == -1)
			return -1;
		if (t == 0)
			return fail(err, errlen,
			    "heartbeat every 0: use heartbeat off");
		p->hb_interval_ms = t;
		p->hb_misses = (unsigned)v;
		return 0;
	}
	if (strcmp(w[0], "stall") == 0) {
		if (n == 2 && strcmp(w[1], "off") == 0) {
			p->stall_beats = 0;
			return 0;
		}
		if (n != 4 || strcmp(w[1], "after") != 0 ||
		    strcmp(w[3], "beats") != 0)
			return fail(err, errlen,
			    "usage: stall after N beats, or stall off");
		i = 1;
		if (uint_arg(w, n, &i, "stall after", 1, MAX_COUNT, &v, err,
		        errlen) == -1)
			return -1;
		p->stall_beats = (unsigned)v;
		return 0;
	}
	if (strcmp(w[0], "ready-timeout") == 0) {
		if (n != 2)
			return fail(err, errlen, "usage: ready-timeout T");
		if (time_arg(w, n, &i, "ready-timeout", &t, err, errlen) == -1)
			return -1;
		if (t == 0)
			return fail(err, errlen, "ready-timeout must not be 0");
		p->ready_timeout_ms = t;
		return 0;
	}
	return fail(err, errlen,
	    "unknown statement %s (on, default, heartbeat, stall or "
	    "ready-timeout)",
	    w[0]);
}

static bool
rule_is_default(const struct pol_rule *r)
{
	return r->kinds == POL_KINDS_ANY && !r->has_exit_set && r->vector < 0 &&
	       r->count == 0 && r->sig == POL_SIG_ANY && !r->has_uptime_lt &&
	       !r->has_uptime_gt &&
	       !(r->action == POL_QUARANTINE && r->max_quarantined != 0);
}

int
policy_finish(struct policy *p, char *err, size_t errlen)
{
	const struct pol_rule *last;

	if (p->nrules == 0)
		return fail(err, errlen,
		    "policy %s has no rules: it must end in a default rule",
		    p->name);
	last = &p->rules[p->nrules - 1];
	if (!rule_is_default(last))
		return fail(err, errlen,
		    "policy %s must end in an explicit default (`default "
		    "ACTION`, or `on any ACTION` without conditions or a "
		    "quarantine max)",
		    p->name);
	return 0;
}

/*
 * Cut line s into words, copied NUL-terminated into store (at least
 * 2 * strlen(s) + 1 bytes): blanks separate, "{" and "}" stand alone.
 */
int
pol_split(const char *s, char *store, char **w, size_t max, size_t *n)
{
	*n = 0;
	while (*s != '\0') {
		if (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
			continue;
		}
		if (*n == max)
			return -1;
		w[(*n)++] = store;
		if (*s == '{' || *s == '}')
			*store++ = *s++;
		else
			while (*s != '\0' && *s != ' ' && *s != '\t' &&
			       *s != '\r' && *s != '{' && *s != '}')
				*store++ = *s++;
		*store++ = '\0';
	}
	return 0;
}

struct policy *
policy_parse(
    const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	struct policy *p = NULL;
	char *buf = NULL, *store = NULL, *line, *next, *hash;
	char *w[MAX_WORDS], msg[256];
	size_t n;
	int lineno = 0;

	if ((p = policy_new(name, "", 1)) == NULL ||
	    (buf = malloc(len + 1)) == NULL ||
	    (store = malloc(len * 2 + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, errlen, "NUL byte in policy text");
		goto fail;
	}
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		if (pol_split(line, store, w, MAX_WORDS, &n) == -1) {
			snprintf(err, errlen, "%d: too many words", lineno);
			goto fail;
		}
		if (policy_add_line(p, w, n, lineno, msg, sizeof(msg)) == -1) {
			snprintf(err, errlen, "%d: %s", lineno, msg);
			goto fail;
		}
	}
	if (policy_finish(p, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%d: %s", lineno, msg);
		goto fail;
	}
	free(buf);
	free(store);
	return p;
fail:
	free(buf);
	free(store);
	policy_free(p);
	return NULL;
}

struct policy *
policy_builtin_new(void)
{
	static const char text[] =
	    "on exit 0 stop\n"
	    "on ready-timeout ignore\n"
	    "default restart backoff exponential initial 100ms max 30s "
	    "reset 5m\n";
	char err[128];

	return policy_parse(
	    POL_BUILTIN_NAME, text, sizeof(text) - 1, err, sizeof(err));
}

/* ---- back to text --------------------------------------------------- */

void
pol_put(struct pol_out *o, const char *fmt, ...)
{
	va_list ap;
	int k;
	size_t at = (size_t)o->n < o->len ? (size_t)o->n : o->len;

	va_start(ap, fmt);
	k = vsnprintf(o->len ? o->buf + at : NULL, o->len - at, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n += k;
}

static void
put_codes(struct pol_out *o, const uint8_t *set)
{
	uint8_t s[sizeof(((struct pol_rule *)0)->exit_set)];
	unsigned i, j;
	bool first = true;

	memcpy(s, set, sizeof(s));
	if (has_bit(s, POL_EXIT_OTHERS)) {
		pol_put(o, "!");
		for (i = 0; i < sizeof(s); i++)
			s[i] = (uint8_t)~s[i];
	}
	for (i = 0; i < POL_EXIT_OTHERS; i++) {
		if (!has_bit(s, i))
			continue;
		for (j = i; j + 1 < POL_EXIT_OTHERS && has_bit(s, j + 1); j++)
			;
		pol_put(o, "%s%u", first ? "" : ",", i);
		if (j > i)
			pol_put(o, "%s%u", j == i + 1 ? "," : "-", j);
		first = false;
		i = j;
	}
}

static void
put_kinds(struct pol_out *o, uint32_t kinds)
{
	const char *sep = "";
	unsigned k;

	if (kinds == POL_KINDS_ANY) {
		pol_put(o, "any");
		return;
	}
	if (kinds & POL_KIND(POL_EV_IDLE) &&
	    (kinds & POL_KINDS_ANY) == POL_KINDS_ANY) {
		pol_put(o, "any,idle");
		return;
	}
	if ((kinds & POL_KINDS_FAULT) == POL_KINDS_FAULT) {
		pol_put(o, "any-fault");
		kinds &= ~(uint32_t)POL_KINDS_FAULT;
		sep = ",";
	}
	for (k = 0; k < POL_EV_NKINDS; k++) {
		if (kinds & POL_KIND(k)) {
			pol_put(o, "%s%s", sep, event_names[k]);
			sep = ",";
		}
	}
}

static void
put_ms(struct pol_out *o, uint64_t ms)
{
	char b[32];

	pol_put(o, "%s", pol_format_ms(ms, b, sizeof(b)));
}

static void
put_answer(struct pol_out *o, const struct pol_rule *r)
{
	char b[INET6_ADDRSTRLEN];

	if (r->answer == POL_ANSWER_ADDRESS) {
		if (inet_ntop(r->fallback.af, &r->fallback.u, b, sizeof(b)) ==
		    NULL)
			snprintf(b, sizeof(b), "?");
		pol_put(o, " answer %s", b);
	} else
		pol_put(o, " answer %s", answer_names[r->answer]);
}

int
policy_rule_format(const struct pol_rule *r, char *buf, size_t len)
{
	struct pol_out o = {buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	if (r->is_default)
		pol_put(&o, "default");
	else {
		pol_put(&o, "on ");
		put_kinds(&o, r->kinds);
		if (r->has_exit_set) {
			pol_put(&o, " ");
			put_codes(&o, r->exit_set);
		}
		if (r->vector >= 0)
			pol_put(&o, " vector %d", r->vector);
		if (r->count != 0) {
			pol_put(&o, " %" PRIu32 " within ", r->count);
			put_ms(&o, r->within_ms);
		}
		if (r->sig != POL_SIG_ANY)
			pol_put(&o, " %s-signature",
			    r->sig == POL_SIG_NEW ? "new" : "known");
		if (r->has_uptime_gt) {
			pol_put(&o, " uptime > ");
			put_ms(&o, r->uptime_gt_ms);
		}
		if (r->has_uptime_lt) {
			pol_put(&o, " uptime < ");
			put_ms(&o, r->uptime_lt_ms);
		}
	}
	pol_put(&o, " %s", action_names[r->action]);
	switch (r->action) {
	case POL_RESTART:
		if (r->backoff == POL_BACKOFF_FIXED) {
			if (r->initial_ms != 0) {
				pol_put(&o, " initial ");
				put_ms(&o, r->initial_ms);
			}
		} else {
			pol_put(&o, " backoff %s initial ",
			    backoff_names[r->backoff]);
			put_ms(&o, r->initial_ms);
			pol_put(&o, " max ");
			put_ms(&o, r->max_ms);
			pol_put(&o, " reset ");
			put_ms(&o, r->reset_ms);
		}
		if (r->jitter_pct != 0)
			pol_put(&o, " jitter %u%%", r->jitter_pct);
		break;
	case POL_QUARANTINE:
		if (r->ttl_ms != 0) {
			pol_put(&o, " ttl ");
			put_ms(&o, r->ttl_ms);
			pol_put(&o, " then %s", action_names[r->on_expiry]);
			if (r->on_expiry == POL_RETIRE)
				put_answer(&o, r);
		}
		if (r->replacement)
			pol_put(&o, " replacement");
		if (r->max_quarantined != 0)
			pol_put(&o, " max %u", r->max_quarantined);
		break;
	case POL_RETIRE:
		put_answer(&o, r);
		break;
	default:
		break;
	}
	return o.n;
}

int
policy_health_format(const struct policy *p, unsigned i, char *buf, size_t len)
{
	struct pol_out o = {buf, len, 0};

	if (len > 0)
		buf[0] = '\0';
	if (p->hb_interval_ms != 0 && i-- == 0) {
		pol_put(&o, "heartbeat every ");
		put_ms(&o, p->hb_interval_ms);
		pol_put(&o, " misses %u", p->hb_misses);
		return o.n;
	}
	if (p->stall_beats != 0 && i-- == 0) {
		pol_put(&o, "stall after %u beats", p->stall_beats);
		return o.n;
	}
	if (p->ready_timeout_ms != 0 && i-- == 0) {
		pol_put(&o, "ready-timeout ");
		put_ms(&o, p->ready_timeout_ms);
		return o.n;
	}
	return 0;
}

bool
policy_equal(const struct policy *a, const struct policy *b)
{
	char x[1400], y[1400];
	size_t i;

	if (a->nrules != b->nrules || a->hb_interval_ms != b->hb_interval_ms ||
	    a->hb_misses != b->hb_misses || a->stall_beats != b->stall_beats ||
	    a->ready_timeout_ms != b->ready_timeout_ms)
		return false;
	/* The normalised text is what a rule means; lines may differ. */
	for (i = 0; i < a->nrules; i++) {
		policy_rule_format(&a->rules[i], x, sizeof(x));
		policy_rule_format(&b->rules[i], y, sizeof(y));
		if (strcmp(x, y) != 0)
			return false;
	}
	return true;
}
