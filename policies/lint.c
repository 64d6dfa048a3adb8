/*
 * lint.c: rules that can never match.  A rule is dead when an earlier rule
 * that never falls through matches every event it would (the earlier one
 * implies it), or when earlier unconditional rules together take every
 * event kind it names.  Only certain cases are reported: no false alarms.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"

#define SETLEN sizeof(((struct pol_rule *)0)->exit_set)

/* A quarantine with a cap lets events through when the cap is reached. */
static bool
falls_through(const struct pol_rule *r)
{
	return r->action == POL_QUARANTINE && r->max_quarantined != 0;
}

static bool
subset(const uint8_t *a, const uint8_t *b)
{
	size_t i;

	for (i = 0; i < SETLEN; i++)
		if ((a[i] & ~b[i]) != 0)
			return false;
	return true;
}

/* Does every event that matches j also match i? */
static bool
implies(const struct pol_rule *i, const struct pol_rule *j)
{
	if ((j->kinds & ~i->kinds) != 0)
		return false;
	if ((j->kinds & POL_KIND(POL_EV_EXIT)) && i->has_exit_set &&
	    (!j->has_exit_set || !subset(j->exit_set, i->exit_set)))
		return false;
	if (i->vector >= 0 && i->vector != j->vector)
		return false;
	if (i->sig != POL_SIG_ANY && i->sig != j->sig)
		return false;
	if (i->has_uptime_gt &&
	    (!j->has_uptime_gt || j->uptime_gt_ms < i->uptime_gt_ms))
		return false;
	if (i->has_uptime_lt &&
	    (!j->has_uptime_lt || j->uptime_lt_ms > i->uptime_lt_ms))
		return false;
	/* j's window counts a subset of i's events in a shorter time. */
	if (i->count != 0 &&
	    (j->count < i->count || j->within_ms > i->within_ms))
		return false;
	return true;
}

static bool
all_codes(const uint8_t *set)
{
	unsigned b;

	for (b = 0; b <= POL_EXIT_OTHERS; b++)
		if (!((set[b / 8] >> (b % 8)) & 1))
			return false;
	return true;
}

static bool
only_exit_set(const struct pol_rule *r)
{
	return r->vector < 0 && r->count == 0 && r->sig == POL_SIG_ANY &&
	       !r->has_uptime_lt && !r->has_uptime_gt && !falls_through(r);
}

int
policy_lint(const struct policy *p,
    void (*warn)(void *arg, int line, const char *msg), void *arg)
{
	uint8_t codes[SETLEN]; /* exit codes earlier rules take */
	uint32_t covered = 0;  /* kinds earlier rules take entirely */
	char text[1100], msg[1300];
	size_t i, j;
	int nwarn = 0;

	memset(codes, 0, sizeof(codes));
	for (j = 0; j < p->nrules; j++) {
		const struct pol_rule *r = &p->rules[j];
		uint32_t left = r->kinds & ~covered;
		const struct pol_rule *by = NULL;

		for (i = 0; i < j && by == NULL; i++)
			if (!falls_through(&p->rules[i]) &&
			    implies(&p->rules[i], r))
				by = &p->rules[i];
		if (left == POL_KIND(POL_EV_EXIT) && r->has_exit_set &&
		    subset(r->exit_set, codes))
			left = 0;
		if (by != NULL || left == 0) {
			policy_rule_format(r, text, sizeof(text));
			if (by != NULL)
				snprintf(msg, sizeof(msg),
				    "rule never matches: %s (line %d takes "
				    "all its events)",
				    text, by->line);
			else
				snprintf(msg, sizeof(msg),
				    "rule never matches: %s (earlier rules "
				    "take all its events)",
				    text);
			if (warn != NULL)
				warn(arg, r->line, msg);
			nwarn++;
		}
		if (only_exit_set(r)) {
			if (!r->has_exit_set)
				covered |= r->kinds;
			else {
				covered |= r->kinds & ~POL_KIND(POL_EV_EXIT);
				for (i = 0; i < SETLEN; i++)
					codes[i] |= r->exit_set[i];
				if (all_codes(codes))
					covered |= POL_KIND(POL_EV_EXIT);
			}
		}
	}
	return nwarn;
}
