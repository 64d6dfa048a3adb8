/*
 * cmd-policy.c: "policy test POLICY TRACE": a dry run of a policy over an
 * event trace, done by the summoner with the policies it runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summonerctl.h"

#define MAX_TRACE (512 * 1024) /* well inside a request line */

/* The whole of path ("-": standard input), NUL-terminated. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (fp == NULL) {
		fprintf(stderr, "summonerctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(MAX_TRACE + 1)) == NULL) {
		fprintf(stderr, "summonerctl: out of memory\n");
		goto fail;
	}
	n = fread(buf, 1, MAX_TRACE + 1, fp);
	if (ferror(fp)) {
		fprintf(stderr, "summonerctl: %s: read error\n", path);
		goto fail;
	}
	if (n > MAX_TRACE) {
		fprintf(stderr, "summonerctl: %s: longer than %d bytes\n", path,
		    MAX_TRACE);
		goto fail;
	}
	if (memchr(buf, '\0', n) != NULL) {
		fprintf(stderr, "summonerctl: %s: not a text file\n", path);
		goto fail;
	}
	buf[n] = '\0';
	*len = n;
	if (fp != stdin)
		fclose(fp);
	return buf;
fail:
	free(buf);
	if (fp != stdin)
		fclose(fp);
	return NULL;
}

static int
exec_policy(struct ctl *c, int argc, char **argv)
{
	struct json_object *req, *reply, *steps, *st;
	char **args, *trace;
	size_t len, i;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_policy_entry, argc, argv, ":", NULL, NULL,
	         &args, &nargs)) != EXIT_OK)
		return rc;
	if (strcmp(args[0], "test") != 0)
		return cmd_usage(
		    &cmd_policy_entry, "the only subcommand is test");
	if ((trace = slurp(args[2], &len)) == NULL)
		return EXIT_USAGE;
	req = ctl_req("policy-test", NULL);
	json_object_object_add(req, "policy", json_object_new_string(args[1]));
	json_object_object_add(
	    req, "trace", json_object_new_string_len(trace, (int)len));
	free(trace);
	if ((rc = ctl_simple(c, req, &reply)) != EXIT_OK || c->json) {
		json_object_put(reply);
		return rc;
	}
	steps = ja(reply, "steps");
	for (i = 0; steps != NULL && i < json_object_array_length(steps); i++) {
		st = json_object_array_get_idx(steps, i);
		if (!jnull(st, "text"))
			printf("%s\n", js(st, "text"));
		else
			printf("line %lld: %s -> %s\n",
			    (long long)ji(st, "line"), js(st, "event"),
			    js(st, "decision"));
	}
	json_object_put(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_policy_entry = {
    .name = "policy",
    .args = "test POLICY TRACE",
    .brief = "dry-run a policy over an event trace",
    .help = "Sends the trace file TRACE (\"-\": standard input; the format is\n"
            "in docs/policies.md, \"Dry run\") to the summoner, which replays\n"
            "it against its policy POLICY with a fresh history and answers\n"
            "each decision; nothing runs, nothing is journaled.  One line\n"
            "per step: the time, the event, the decision and the rule that\n"
            "made it.\n",
    .min_args = 3,
    .max_args = 3,
    .exec = exec_policy,
};
