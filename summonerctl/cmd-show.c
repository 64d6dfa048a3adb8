/*
 * cmd-show.c: "show NAME": a service's configuration essentials and its
 * instances' health, faults and quarantine.
 */
#include <stdio.h>
#include <string.h>

#include "summonerctl.h"

/* "a, b, c" of an array of strings. */
static void
join(struct json_object *a, char *buf, size_t len)
{
	size_t i, o = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		n = snprintf(buf + o, len - o, "%s%s", i > 0 ? " " : "",
		    json_object_get_string(json_object_array_get_idx(a, i)));
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

static void
show_inst(struct json_object *in)
{
	char b1[32], b2[32], buf[1024];
	struct json_object *bt;
	size_t i;

	printf("\ninstance %s\n", js(in, "name"));
	kv("  state", "%s (for %s)", js(in, "state"),
	    fmt_ms((uint64_t)ji(in, "state_ms"), b1, sizeof(b1)));
	kv("  pid", "%lld", (long long)ji(in, "pid"));
	kv("  uptime", "%s",
	    fmt_ms((uint64_t)ji(in, "uptime_ms"), b1, sizeof(b1)));
	kv("  heartbeats", "%lld seen, %lld missed, last %s",
	    (long long)ji(in, "beats"), (long long)ji(in, "misses"),
	    jnull(in, "last_beat_ms")
	        ? "never"
	        : fmt_ms((uint64_t)ji(in, "last_beat_ms"), b2, sizeof(b2)));
	if (!jnull(in, "last_beat_ms"))
		printf("%16s(ago; seq %lld, progress %lld)\n", "",
		    (long long)ji(in, "seq"), (long long)ji(in, "progress"));
	kv("  connections", "%lld", (long long)ji(in, "conns"));
	if (!jnull(in, "tap"))
		kv("  network", "tap %s, mac %s", js(in, "tap"), js(in, "mac"));
	if (!jnull(in, "status"))
		kv("  status", "%s", js(in, "status"));
	if (!jnull(in, "fault_kind") || !jnull(in, "fault")) {
		kv("  last fault", "%s",
		    !jnull(in, "fault") ? js(in, "fault")
		                        : js(in, "fault_kind"));
		if (!jnull(in, "signature"))
			kv("  signature", "%s", js(in, "signature"));
		if (!jnull(in, "fault_dir"))
			kv("  fault dir", "%s", js(in, "fault_dir"));
		bt = ja(in, "backtrace");
		for (i = 0; bt != NULL && i < json_object_array_length(bt);
		     i++) {
			snprintf(buf, sizeof(buf), "#%zu %s", i,
			    json_object_get_string(
			        json_object_array_get_idx(bt, i)));
			kv(i == 0 ? "  backtrace" : "", "%s", buf);
		}
	}
	if (!jnull(in, "gdb"))
		kv("  gdb", "target remote %s", js(in, "gdb"));
	if (!jnull(in, "debug")) /* what its backend cannot give */
		kv("  debugging", "%s", js(in, "debug"));
	if (!jnull(in, "core"))
		kv("  core", "%s", js(in, "core"));
	if (strcmp(js(in, "state"), "quarantined") == 0)
		kv("  expires", "%s",
		    jnull(in, "expires_in_ms")
		        ? "never"
		        : fmt_ms((uint64_t)ji(in, "expires_in_ms"), b1,
		              sizeof(b1)));
}

/* A timeline step in ms with 2 decimals, "-" when not taken. */
static const char *
step_ms(struct json_object *t, const char *key, char *buf, size_t len)
{
	if (jnull(t, key))
		return "-";
	snprintf(buf, len, "%.2f", (double)ji(t, key) / 1000.0);
	return buf;
}

/* The service's last boots, newest first: where each one's time went. */
static void
show_timelines(struct json_object *a)
{
	struct table *t;
	struct json_object *e;
	char b[5][32];
	size_t i;

	if (a == NULL || json_object_array_length(a) == 0)
		return;
	printf("\nboots (ms from the query, or the start when none):\n");
	t = table_new(7);
	table_add(t, "INSTANCE", "KIND", "SPAWN", "MAIN", "ENTRY", "READY",
	    "ANSWERED");
	for (i = 0; i < json_object_array_length(a); i++) {
		e = json_object_array_get_idx(a, i);
		table_add(t, js(e, "instance"), js(e, "kind"),
		    step_ms(e, "spawn_us", b[0], sizeof(b[0])),
		    step_ms(e, "main_us", b[1], sizeof(b[1])),
		    step_ms(e, "entry_us", b[2], sizeof(b[2])),
		    step_ms(e, "ready_us", b[3], sizeof(b[3])),
		    step_ms(e, "answered_us", b[4], sizeof(b[4])));
	}
	table_print(t);
}

static int
exec_show(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply, *s, *req, *insts;
	char **args, buf[4096], b1[32], b2[32];
	size_t i;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_show_entry, argc, argv, ":", NULL, NULL, &args,
	         &nargs)) != EXIT_OK)
		return rc;
	req = ctl_req("show", args[0]);
	if ((rc = ctl_simple(c, req, &reply)) != EXIT_OK || c->json) {
		json_object_put(reply);
		return rc;
	}
	s = json_object_object_get(reply, "service");
	kv("service", "%s (%s)", js(s, "name"), js(s, "fqdn"));
	kv("image", "%s", js(s, "image"));
	join(ja(s, "args"), buf, sizeof(buf));
	if (buf[0] != '\0')
		kv("args", "%s", buf);
	kv("backend", "%s, %lld MB", js(s, "backend"),
	    (long long)(ji(s, "memory") >> 20));
	join(ja(s, "addresses"), buf, sizeof(buf));
	kv("addresses", "%s (ttl %llds)", buf[0] != '\0' ? buf : "-",
	    (long long)ji(s, "ttl"));
	kv("timeouts", "idle %s, ready %s",
	    ji(s, "idle_timeout_ms") != 0
	        ? fmt_ms((uint64_t)ji(s, "idle_timeout_ms"), b1, sizeof(b1))
	        : "never",
	    fmt_ms((uint64_t)ji(s, "ready_deadline_ms"), b2, sizeof(b2)));
	kv("warm pool", "%lld", (long long)ji(s, "warm"));
	kv("policy", "%s", jnull(s, "policy") ? "-" : js(s, "policy"));
	kv("faults", "%lld", (long long)ji(s, "faults"));
	kv("quarantined", "%lld", (long long)ji(s, "quarantined"));
	if (jb(s, "retired"))
		kv("retired", "yes");
	kv("active", "%s", jnull(s, "active") ? "-" : js(s, "active"));
	show_timelines(ja(s, "timelines"));
	insts = ja(reply, "instances");
	for (i = 0; insts != NULL && i < json_object_array_length(insts); i++)
		show_inst(json_object_array_get_idx(insts, i));
	json_object_put(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .args = "NAME",
    .brief = "show a service or an instance in detail",
    .help = "The service's configuration essentials (image, arguments,\n"
            "addresses, timeouts, policy), then for each of its instances\n"
            "(or only NAME's, for \"hello#3\"): state, pid, uptime,\n"
            "heartbeats seen and missed, the guest's last STATUS=, the last\n"
            "fault with its signature, backtrace and directory, and, when\n"
            "quarantined, the gdb target, the core file and the expiry.\n"
            "\n"
            "Then the service's last 8 boots, newest first: for each, the\n"
            "instance, cold or warm, and the milliseconds from the query\n"
            "that caused it (or from its start, for a restart or a summon\n"
            "without a query) to the tender's start (or the pool's resume),\n"
            "the tender's main() and the guest's entry (hvt), READY, and the\n"
            "answer; \"-\" for a step not taken.  -j has them in\n"
            "microseconds.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_show,
};
