/*
 * cmd-logs.c: "logs NAME [-n N] [-f]": the console and log lines the
 * summoner keeps per service, and with -f the ones that follow.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "summonerctl.h"

struct logs_opts {
	long n;
	bool follow;
};

static int
logs_opt(int ch, const char *arg, void *u)
{
	struct logs_opts *o = u;

	switch (ch) {
	case 'n':
		if ((o->n = parse_count(arg)) < 0) {
			fprintf(stderr,
			    "summonerctl: logs: -n %s: not a count\n", arg);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	case 'f':
		o->follow = true;
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

/* "12:03:04.123 hello#1 console: text" */
static void
print_line(struct json_object *l)
{
	uint64_t ms = (uint64_t)ji(l, "t_ms");
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char hms[16] = "?";

	if (localtime_r(&t, &tm) != NULL)
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	printf("%s.%03u %s %s: %s\n", hms, (unsigned)(ms % 1000),
	    js(l, "instance"), js(l, "kind"), js(l, "text"));
}

static int
exec_logs(struct ctl *c, int argc, char **argv)
{
	struct logs_opts o = {.n = -1};
	struct json_object *req, *reply = NULL, *lines;
	char **args;
	size_t i;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_logs_entry, argc, argv, ":n:f", logs_opt, &o,
	         &args, &nargs)) != EXIT_OK)
		return rc;
	req = ctl_req("logs", args[0]);
	if (o.n >= 0)
		json_object_object_add(req, "n", json_object_new_int64(o.n));
	if (o.follow)
		json_object_object_add(
		    req, "follow", json_object_new_boolean(1));
	if ((rc = ctl_simple(c, req, &reply)) != EXIT_OK)
		return rc;
	if (!c->json) {
		lines = ja(reply, "lines");
		for (i = 0;
		     lines != NULL && i < json_object_array_length(lines); i++)
			print_line(json_object_array_get_idx(lines, i));
		fflush(stdout);
	}
	json_object_put(reply);
	if (!o.follow)
		return EXIT_OK;
	for (;;) {
		if ((rc = ctl_recv(c, &reply)) != EXIT_OK)
			return rc;
		if (c->json)
			ctl_print_json(reply);
		else {
			print_line(reply);
			fflush(stdout);
		}
		json_object_put(reply);
	}
}

const struct cmd_entry cmd_logs_entry = {
    .name = "logs",
    .args = "NAME [-n N] [-f]",
    .brief = "print an instance's console and log lines",
    .help = "The summoner keeps the last 256 lines of console output, guest\n"
            "log lines and its own decisions per service; NAME \"hello#3\"\n"
            "keeps to one instance's.  Each line: the time, the instance,\n"
            "the kind (console, guest, summoner) and the text.\n"
            "\n"
            "  -n N   only the last N lines\n"
            "  -f     then go on printing lines as they come, until\n"
            "         interrupted (with -j: one JSON object per line)\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_logs,
};
