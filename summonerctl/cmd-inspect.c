/*
 * cmd-inspect.c: "inspect NAME": what an operator needs to debug a
 * faulted or quarantined instance: the gdb command lines, the core, the
 * symbolised backtrace.
 */
#include <stdio.h>

#include "summonerctl.h"

static int
exec_inspect(struct ctl *c, int argc, char **argv)
{
	struct json_object *reply, *bt, *frames;
	char **args, buf[1024];
	size_t i, n;
	int rc, nargs;

	if ((rc = cmd_parse(&cmd_inspect_entry, argc, argv, ":", NULL, NULL,
	         &args, &nargs)) != EXIT_OK)
		return rc;
	if ((rc = ctl_simple(c, ctl_req("inspect", args[0]), &reply)) !=
	        EXIT_OK ||
	    c->json) {
		json_object_put(reply);
		return rc;
	}
	kv("instance", "%s", js(reply, "name"));
	kv("state", "%s", js(reply, "state"));
	kv("image", "%s", js(reply, "image"));
	if (!jnull(reply, "fault"))
		kv("fault", "%s", js(reply, "fault"));
	if (!jnull(reply, "signature"))
		kv("signature", "%s", js(reply, "signature"));
	if (!jnull(reply, "fault_dir"))
		kv("fault dir", "%s", js(reply, "fault_dir"));
	kv("core", "%s", jnull(reply, "core") ? "-" : js(reply, "core"));
	kv("gdb target", "%s",
	    jnull(reply, "gdb") ? "- (not quarantined)" : js(reply, "gdb"));
	if (!jnull(reply, "debug")) /* what its backend cannot give */
		kv("debugging", "%s", js(reply, "debug"));
	bt = ja(reply, "backtrace");
	frames = ja(reply, "frames");
	n = bt != NULL ? json_object_array_length(bt) : 0;
	if (n > 0)
		printf("\nbacktrace (innermost first):\n");
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s",
		    json_object_get_string(json_object_array_get_idx(
		        frames != NULL && i < json_object_array_length(frames)
		            ? frames
		            : bt,
		        i)));
		printf("  #%-2zu %s\n", i, buf);
	}
	if (!jnull(reply, "gdb_command") || !jnull(reply, "core_command"))
		printf("\n");
	if (!jnull(reply, "gdb_command"))
		printf("debug it live:     %s\n", js(reply, "gdb_command"));
	if (!jnull(reply, "core_command"))
		printf("debug its core:    %s\n", js(reply, "core_command"));
	json_object_put(reply);
	return EXIT_OK;
}

const struct cmd_entry cmd_inspect_entry = {
    .name = "inspect",
    .args = "NAME",
    .brief = "gdb command lines, core and backtrace",
    .help =
        "For a quarantined instance, the frozen VM is served by a gdb\n"
        "stub: the command line given attaches stock gdb to it.  For any\n"
        "instance whose fault was captured, the core file opens in gdb\n"
        "with the guest image for symbols.  With -j, one object with at\n"
        "least \"state\", \"gdb\" (the argument for gdb's \"target\n"
        "remote\"), \"core\", \"image\" and \"backtrace\" (function names,\n"
        "innermost first); absent values are null.\n",
    .min_args = 1,
    .max_args = 1,
    .exec = exec_inspect,
};
