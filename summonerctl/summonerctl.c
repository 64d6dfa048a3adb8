/*
 * summonerctl.c: the command line, socket discovery, --help, and the
 * table of commands (one cmd-*.c file each).
 */
#include <sys/stat.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summonerctl.h"

/* Every command; adding one is a file and a line here. */
static const struct cmd_entry *const cmd_table[] = {
    &cmd_list_entry,
    &cmd_show_entry,
    &cmd_top_entry,
    &cmd_logs_entry,
    &cmd_faults_entry,
    &cmd_inspect_entry,
    &cmd_summon_entry,
    &cmd_stop_entry,
    &cmd_restart_entry,
    &cmd_release_entry,
    &cmd_retire_entry,
    &cmd_policy_entry,
    &cmd_reload_entry,
};
#define NCMDS (sizeof(cmd_table) / sizeof(cmd_table[0]))

static const char synopsis[] =
    "usage: summonerctl [-j] [-s SOCKET] COMMAND [ARGUMENTS]\n";

static const char description[] =
    "\n"
    "Talks to a running summoner over its control socket: lists services\n"
    "and instances, shows their health and faults, follows their console,\n"
    "points gdb at quarantined instances and their core files, and starts,\n"
    "stops, restarts, releases and retires them.\n"
    "\n"
    "Options:\n"
    "  -j, --json         print the summoner's reply as JSON (one object\n"
    "                     on one line; \"logs -f\" prints one per line)\n"
    "  -s, --socket PATH  the control socket (default: see below)\n"
    "  -h, --help         print this help and exit; \"summonerctl COMMAND\n"
    "                     -h\" prints one command's help\n"
    "\n"
    "Commands:\n";

static const char trailer[] =
    "\n"
    "Names: a service (\"hello\", or \"hello.summoner.test.\") or one of\n"
    "its instances (\"hello#3\").  A service name alone means its most\n"
    "interesting instance: a quarantined one first, then the active one,\n"
    "then the newest.\n"
    "\n"
    "Finding the socket: -s PATH; else $SUMMONER_SOCKET; else\n"
    "./" TREE_SOCKET " when it exists (the summoner started by\n"
    "`make run` from the project tree, with config/summoner.conf's\n"
    "state-dir \"build/state\"); else " DEFAULT_SOCKET "\n"
    "(the default state-dir).  The socket is STATE-DIR/control.sock.\n"
    "\n"
    "Exit status:\n"
    "  0  done\n"
    "  1  the summoner refused or failed the request (why is on stderr)\n"
    "  2  bad command line\n"
    "  3  the summoner cannot be reached (the socket path and the reason\n"
    "     are on stderr)\n"
    "\n"
    "Examples:\n"
    "  summonerctl list\n"
    "  summonerctl logs -f hello\n"
    "  summonerctl top -d 0.5\n"
    "  summonerctl -j inspect crash | jq -r .gdb\n"
    "  summonerctl policy test crashloop trace.txt\n"
    "\n"
    "See also: summoner(8) --help, docs/control-socket.md.\n";

static void
print_help(FILE *out)
{
	size_t i;
	char head[96];

	fputs(synopsis, out);
	fputs(description, out);
	for (i = 0; i < NCMDS; i++) {
		snprintf(head, sizeof(head), "%s %s", cmd_table[i]->name,
		    cmd_table[i]->args);
		fprintf(out, "  %-30s %s\n", head, cmd_table[i]->brief);
	}
	fputs(trailer, out);
}

/* A command's help: its lines, indented. */
static void
print_cmd_help(const struct cmd_entry *e, FILE *out)
{
	const char *p, *nl;
	size_t len;

	fprintf(out, "usage: summonerctl [-j] [-s SOCKET] %s %s\n\n", e->name,
	    e->args);
	fprintf(out, "  %s\n\n", e->brief);
	for (p = e->help; p != NULL && *p != '\0';
	     p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (len == 0)
			fputc('\n', out);
		else
			fprintf(out, "  %.*s\n", (int)len, p);
	}
}

int
cmd_check_args(const struct cmd_entry *e, int nargs)
{
	if (nargs < e->min_args)
		return cmd_usage(e, "missing arguments");
	if (nargs > e->max_args)
		return cmd_usage(e, "too many arguments");
	return EXIT_OK;
}

int
cmd_usage(const struct cmd_entry *e, const char *why)
{
	if (why != NULL)
		fprintf(stderr, "summonerctl: %s: %s\n", e->name, why);
	fprintf(stderr, "usage: summonerctl [-j] [-s SOCKET] %s %s\n", e->name,
	    e->args);
	return EXIT_USAGE;
}

int
cmd_parse(const struct cmd_entry *e, int argc, char **argv, const char *opts,
    int (*opt)(int ch, const char *arg, void *u), void *u, char ***args,
    int *nargs)
{
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt(argc, argv, opts)) != -1) {
		if (ch == '?' || ch == ':') {
			char why[64];

			snprintf(why, sizeof(why), "%s -%c",
			    ch == ':' ? "missing the value of" : "no option",
			    optopt);
			return cmd_usage(e, why);
		}
		if (opt == NULL || opt(ch, optarg, u) != EXIT_OK)
			return cmd_usage(e, NULL);
	}
	*args = argv + optind;
	*nargs = argc - optind;
	return cmd_check_args(e, *nargs);
}

static int
usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "summonerctl: %s\n", why);
	fputs(synopsis, stderr);
	fputs("Try 'summonerctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* The socket when none is given: see trailer[]. */
static const char *
find_socket(void)
{
	const char *env = getenv("SUMMONER_SOCKET");
	struct stat st;

	if (env != NULL && env[0] != '\0')
		return env;
	if (stat(TREE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		return TREE_SOCKET;
	return DEFAULT_SOCKET;
}

static const struct cmd_entry *
find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl c = {.fd = -1};
	const struct cmd_entry *e;
	int ch, i, rc;

	/* "+": options after the command are the command's. */
	while ((ch = getopt_long(argc, argv, "+js:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			c.json = true;
			break;
		case 's':
			c.socket = optarg;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			return usage(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return usage("no command given");
	if ((e = find_cmd(argv[0])) == NULL) {
		fprintf(
		    stderr, "summonerctl: unknown command \"%s\"\n", argv[0]);
		return usage(NULL);
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			print_cmd_help(e, stdout);
			return EXIT_OK;
		}
	}
	if (c.socket == NULL)
		c.socket = find_socket();
	optind = 0; /* the command parses its own options */
	rc = e->exec(&c, argc, argv);
	ctl_close(&c);
	return rc;
}
