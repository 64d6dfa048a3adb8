/*
 * cmd-stop.c: "stop NAME": stop an instance, or every instance of a service.
 */
#include "summonerctl.h"

static int
exec_stop(struct ctl *c, int argc, char **argv)
{
	return cmd_action(c, &cmd_stop_entry, argc, argv, "stop started");
}

const struct cmd_entry cmd_stop_entry = {
    .name = "stop",
    .args = "NAME",
    .brief = "stop an instance or a service's instances",
    .help =
        "Stops the instance NAME (\"hello#3\"), or every running instance of\n"
        "the service NAME, as an idle timeout would: the next query for the\n"
        "service boots a new one.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_stop,
};
