/*
 * cmd-faults.c: "faults [NAME] [-n N]": the journal's faults, newest
 * first.
 */
#include <stdio.h>

#include "summonerctl.h"

static int
faults_opt(int ch, const char *arg, void *u)
{
	long *n = u;

	if (ch != 'n')
		return EXIT_USAGE;
	if ((*n = parse_count(arg)) < 0) {
		fprintf(
		    stderr, "summonerctl: faults: -n %s: not a count\n", arg);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int
exec_faults(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply, *a, *f, *bt;
	struct table *t;
	char **args, when[40], inst[96];
	long n = -1;
	size_t i;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_faults_entry, argc, argv, ":n:", faults_opt,
	         &n, &args, &nargs)) != EXIT_OK)
		return rc;
	req = ctl_req("faults", nargs > 0 ? args[0] : NULL);
	if (n >= 0)
		json_object_object_add(req, "n", json_object_new_int64(n));
	if ((rc = ctl_simple(c, req, &reply)) != EXIT_OK || c->json) {
		json_object_put(reply);
		return rc;
	}
	a = ja(reply, "faults");
	if (a == NULL || json_object_array_length(a) == 0) {
		printf("no faults\n");
		json_object_put(reply);
		return EXIT_OK;
	}
	t = table_new(7);
	table_add(t, "TIME", "INSTANCE", "KIND", "SIGNATURE", "SEEN",
	    "TOP FRAME", "DIRECTORY");
	for (i = 0; i < json_object_array_length(a); i++) {
		f = json_object_array_get_idx(a, i);
		bt = ja(f, "backtrace");
		snprintf(inst, sizeof(inst), "%s#%lld", js(f, "service"),
		    (long long)ji(f, "id"));
		table_add(t,
		    fmt_wall((uint64_t)ji(f, "t_ms"), when, sizeof(when)), inst,
		    js(f, "kind"), js(f, "signature"),
		    jb(f, "known") ? "known" : "new",
		    bt != NULL && json_object_array_length(bt) > 0
		        ? json_object_get_string(
		              json_object_array_get_idx(bt, 0))
		        : "-",
		    js(f, "dir"));
	}
	table_print(t);
	json_object_put(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_faults_entry = {
    .name = "faults",
    .args = "[NAME] [-n N]",
    .brief = "list faults from the journal, newest first",
    .help = "Every fault the journal holds (of NAME's service, or of the\n"
            "one instance \"hello#3\"), across restarts of the summoner:\n"
            "when, which instance, its kind, its signature and whether that\n"
            "signature was new or known, the innermost frame, and the\n"
            "directory with its core, report.json and console tail.\n"
            "\n"
            "  -n N   at most N faults (default 20)\n",
    .min_args = 0,
    .max_args = 1,
    .exec = exec_faults,
};
