/*
 * cmd-reload.c: "reload": as SIGHUP, but says whether it worked.
 */
#include <stdio.h>

#include "summonerctl.h"

static int
exec_reload(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply;
	char **args;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_reload_entry, argc, argv, ":", NULL, NULL,
	         &args, &nargs)) != EXIT_OK)
		return rc;
	if ((rc = ctl_simple(c, ctl_req("reload", NULL), &reply)) == EXIT_OK &&
	    !c->json)
		printf("reloaded\n");
	json_object_put(reply);
	return rc;
}

const struct cmd_entry cmd_reload_entry = {
    .name = "reload",
    .args = "",
    .brief = "reload the summoner's configuration",
    .help = "Reads the configuration file again, as SIGHUP does: services\n"
            "added, removed and changed take effect, instances of unchanged\n"
            "services go on.  A configuration with errors is refused (exit\n"
            "1; the errors are in the summoner's log) and the running one\n"
            "stays.  A changed state-dir takes effect at the next start.\n",
    .min_args = 0,
    .max_args = 0,
    .exec = exec_reload,
};
