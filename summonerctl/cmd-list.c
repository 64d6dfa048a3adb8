/*
 * cmd-list.c: "list": every service and its instances, one line each.
 */
#include <stdio.h>

#include "summonerctl.h"

static int
exec_list(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply, *svcs, *s, *insts, *in;
	struct table *t;
	char **args, up[32], beat[32], faults[24];
	const char *addr;
	size_t i, k;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_list_entry, argc, argv, ":", NULL, NULL, &args,
	         &nargs)) != EXIT_OK)
		return rc;
	if ((rc = ctl_simple(c, ctl_req("list", NULL), &reply)) != EXIT_OK ||
	    c->json) {
		json_object_put(reply);
		return rc;
	}
	t = table_new(7);
	table_add(t, "SERVICE", "INSTANCE", "STATE", "UPTIME", "LAST BEAT",
	    "FAULTS", "ADDRESS");
	svcs = ja(reply, "services");
	for (i = 0; svcs != NULL && i < json_object_array_length(svcs); i++) {
		s = json_object_array_get_idx(svcs, i);
		insts = ja(s, "instances");
		addr = json_object_get_string(
		    json_object_array_get_idx(ja(s, "addresses"), 0));
		snprintf(
		    faults, sizeof(faults), "%lld", (long long)ji(s, "faults"));
		if (insts == NULL || json_object_array_length(insts) == 0) {
			table_add(t, js(s, "name"), "-",
			    jb(s, "retired") ? "retired" : "-", "-", "-",
			    faults, addr);
			continue;
		}
		for (k = 0; k < json_object_array_length(insts); k++) {
			in = json_object_array_get_idx(insts, k);
			fmt_ms((uint64_t)ji(in, "uptime_ms"), up, sizeof(up));
			if (jnull(in, "last_beat_ms"))
				snprintf(beat, sizeof(beat), "-");
			else
				fmt_ms((uint64_t)ji(in, "last_beat_ms"), beat,
				    sizeof(beat));
			table_add(t, k == 0 ? js(s, "name") : "",
			    js(in, "name"),
			    jb(in, "warm") ? "warm" : js(in, "state"), up, beat,
			    k == 0 ? faults : "", k == 0 ? addr : "");
		}
	}
	table_print(t);
	json_object_put(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
    .name = "list",
    .args = "",
    .brief = "list the services and their instances",
    .help = "One line per instance (a service without instances gets one\n"
            "line of its own): its state (\"warm\" for a paused tender of\n"
            "the warm pool), how long it has run, how long ago its last\n"
            "heartbeat came, the service's fault count and first address.\n",
    .min_args = 0,
    .max_args = 0,
    .exec = exec_list,
};
