/*
 * cmd-list.c: "list": every service and its instances, one line each.
 */
#include <stdio.h>

#include "summonerctl.h"

/* list's own column: the service's first address. */
static const char *
address(struct json_object *s, unsigned i, char *buf, size_t len)
{
	(void)i;
	(void)buf;
	(void)len;
	return json_object_get_string(
	    json_object_array_get_idx(ja(s, "addresses"), 0));
}

static int
exec_list(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply;
	struct table *t;
	char **args;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_list_entry, argc, argv, ":", NULL, NULL, &args,
	         &nargs)) != EXIT_OK)
		return rc;
	if ((rc = ctl_simple(c, ctl_req("list", NULL), &reply)) != EXIT_OK ||
	    c->json) {
		json_object_put(reply);
		return rc;
	}
	t = table_new(SVC_ROW_COLS + 1);
	table_add(t, "SERVICE", "INSTANCE", "STATE", "UPTIME", "LAST BEAT",
	    "FAULTS", "ADDRESS");
	svc_rows(t, ja(reply, "services"), 1, address);
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
