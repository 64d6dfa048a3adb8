/*
 * cmd-restart.c: "restart NAME": replace a service's active instance with a new
 * one.
 */
#include "summonerctl.h"

static int
exec_restart(struct ctl *c, int argc, char **argv)
{
	return cmd_action(c, &cmd_restart_entry, argc, argv, "restart started");
}

const struct cmd_entry cmd_restart_entry = {
    .name = "restart",
    .args = "NAME",
    .brief = "replace the active instance with a new one",
    .help = "Stops the active instance and boots a new one at once, without\n"
            "waiting out any back-off.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_restart,
};
