/*
 * cmd-release.c: "release NAME": end a quarantine.
 */
#include "summonerctl.h"

static int
exec_release(struct ctl *c, int argc, char **argv)
{
	return cmd_action(c, &cmd_release_entry, argc, argv, "released");
}

const struct cmd_entry cmd_release_entry = {
    .name = "release",
    .args = "NAME",
    .brief = "end a quarantine",
    .help =
        "Stops a quarantined instance (its gdb stub closes; its core file and\n"
        "fault directory stay).  The service then runs as its policy says.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_release,
};
