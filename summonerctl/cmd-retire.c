/*
 * cmd-retire.c: "retire NAME": retire a service.
 */
#include "summonerctl.h"

static int
exec_retire(struct ctl *c, int argc, char **argv)
{
	return cmd_action(c, &cmd_retire_entry, argc, argv, "retired");
}

const struct cmd_entry cmd_retire_entry = {
    .name = "retire",
    .args = "NAME",
    .brief = "retire a service",
    .help =
        "Stops the service's instances and answers its queries as its policy\n"
        "says for retired services (NXDOMAIN when it says nothing).  A reload\n"
        "that changes the service brings it back.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_retire,
};
