/*
 * cmd-summon.c: "summon NAME": boot an instance of a service now.
 */
#include "summonerctl.h"

static int
exec_summon(struct ctl *c, int argc, char **argv)
{
	return cmd_action(c, &cmd_summon_entry, argc, argv, "summon started");
}

const struct cmd_entry cmd_summon_entry = {
    .name = "summon",
    .args = "NAME",
    .brief = "boot an instance of a service now",
    .help =
        "Boots the service's instance as a DNS query would, without a client\n"
        "waiting for it: limits (max-instances, memory-budget, concurrent\n"
        "boots) apply, the per-client boot rate does not.  Nothing is done\n"
        "when the service already has an active instance.  The command\n"
        "returns once the boot has started; \"summonerctl list\" shows when\n"
        "it is ready.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_summon,
};
