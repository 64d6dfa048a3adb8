/*
 * control_policy.c: "policy test": a policy's dry run (policies/policy.h,
 * policy_trace_run()) as the JSON steps the control socket answers.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "control.h"
#include "policies/policy.h"

static const char *
step_kind(enum pol_step_kind k)
{
	switch (k) {
	case POL_STEP_DECISION:
		return "decision";
	case POL_STEP_RELEASE:
		return "release";
	case POL_STEP_EXPIRY:
		return "expiry";
	}
	return "unknown";
}

static void
emit(void *arg, const struct pol_trace_step *st)
{
	struct json_object *steps = arg, *o = json_object_new_object();
	char buf[512];

	if (o == NULL)
		return;
	json_object_object_add(o, "line", json_object_new_int(st->line));
	json_object_object_add(o, "t_ms", json_object_new_uint64(st->t_ms));
	json_object_object_add(
	    o, "kind", json_object_new_string(step_kind(st->kind)));
	if (st->kind == POL_STEP_DECISION)
		json_object_object_add(o, "event",
		    json_object_new_string(pol_event_name(st->event.kind)));
	if (st->kind != POL_STEP_RELEASE) {
		json_object_object_add(o, "action",
		    json_object_new_string(
		        pol_action_name(st->decision.action)));
		pol_decision_format(&st->decision, buf, sizeof(buf));
		json_object_object_add(
		    o, "decision", json_object_new_string(buf));
		json_object_object_add(
		    o, "why", json_object_new_string(st->decision.why));
		json_object_object_add(o, "delay_ms",
		    json_object_new_uint64(st->decision.delay_ms));
	}
	json_object_object_add(
	    o, "quarantined", json_object_new_int64(st->quarantined));
	pol_trace_step_format(st, buf, sizeof(buf));
	json_object_object_add(o, "text", json_object_new_string(buf));
	json_object_array_add(steps, o);
}

int
control_policy_trace(const struct policy *p, const char *trace, size_t len,
    struct json_object *out, char *err, size_t errlen)
{
	struct json_object *steps = json_object_new_array();

	if (steps == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_object_object_add(out, "steps", steps);
	return policy_trace_run(p, trace, len, emit, steps, err, errlen);
}
