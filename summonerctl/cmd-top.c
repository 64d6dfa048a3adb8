/*
 * cmd-top.c: "top [-d SECONDS] [-n COUNT]": the services and instances
 * as a table refreshed in place, with the summons' latency.  One "top"
 * request per refresh (docs/control-socket.md) brings everything: a
 * "show" per service would be a round trip each.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "summonerctl.h"

#define MAX_STATES 16 /* distinct states counted in the header */

struct top_opts {
	double delay; /* seconds between refreshes */
	long count;   /* refreshes, 0: until SIGINT */
};

static volatile sig_atomic_t stop_asked;

static void
on_signal(int sig)
{
	(void)sig;
	stop_asked = 1;
}

static int
top_opt(int ch, const char *arg, void *u)
{
	struct top_opts *o = u;
	char *end;

	switch (ch) {
	case 'd':
		errno = 0;
		o->delay = strtod(arg, &end);
		/* A day at most: a longer wait is a typing error. */
		if (errno != 0 || end == arg || *end != '\0' ||
		    !isfinite(o->delay) || o->delay < 0.01 ||
		    o->delay > 86400) {
			fprintf(stderr,
			    "summonerctl: top: -d %s: not a number of seconds "
			    "(0.01 to 86400)\n",
			    arg);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	case 'n':
		if ((o->count = parse_count(arg)) <= 0) {
			fprintf(stderr,
			    "summonerctl: top: -n %s: not a count (1 or "
			    "more)\n",
			    arg);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	return EXIT_USAGE;
}

/* A latency in ms with 2 decimals, "-" when null. */
static const char *
lat_ms(struct json_object *o, const char *key, char *buf, size_t len)
{
	if (jnull(o, key))
		return "-";
	snprintf(buf, len, "%.2fms", (double)ji(o, key) / 1000.0);
	return buf;
}

struct state_count {
	const char *name;
	unsigned n;
};

/* Count one instance in state name (the first MAX_STATES names). */
static void
count_state(struct state_count *sc, unsigned *nsc, const char *name)
{
	unsigned i;

	for (i = 0; i < *nsc; i++)
		if (strcmp(sc[i].name, name) == 0) {
			sc[i].n++;
			return;
		}
	if (*nsc < MAX_STATES)
		sc[(*nsc)++] = (struct state_count){name, 1};
}

/* The header line: time, instances by state, summons since start. */
static void
print_header(struct json_object *reply)
{
	struct state_count sc[MAX_STATES];
	struct json_object *svcs = ja(reply, "services"), *insts, *in, *sum;
	unsigned nsc = 0, total = 0, i;
	size_t k, j;
	char when[16] = "?";
	time_t now = time(NULL);
	struct tm tm;

	for (k = 0; svcs != NULL && k < json_object_array_length(svcs); k++) {
		insts = ja(json_object_array_get_idx(svcs, k), "instances");
		for (j = 0;
		     insts != NULL && j < json_object_array_length(insts);
		     j++) {
			in = json_object_array_get_idx(insts, j);
			count_state(sc, &nsc,
			    jb(in, "warm") ? "warm" : js(in, "state"));
			total++;
		}
	}
	if (localtime_r(&now, &tm) != NULL)
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("%s  instances: %u", when, total);
	for (i = 0; i < nsc; i++)
		printf("%s%u %s", i == 0 ? " (" : ", ", sc[i].n, sc[i].name);
	sum = json_object_object_get(reply, "summons");
	printf("%s  summons: %lld cold, %lld warm, %lld joined\n",
	    nsc > 0 ? ")" : "", (long long)ji(sum, "cold"),
	    (long long)ji(sum, "warm"), (long long)ji(sum, "joined"));
}

/* top's own columns: the last summon's query -> answer, and the median of
 * the service's recent ones. */
static const char *
latency(struct json_object *s, unsigned i, char *buf, size_t len)
{
	return lat_ms(
	    s, i == 0 ? "last_answered_us" : "median_answered_us", buf, len);
}

/* One refresh's table: a line per instance, as "list" has them, and the
 * service's latency on its first line. */
static void
print_table(struct json_object *reply)
{
	struct table *t = table_new(SVC_ROW_COLS + 2);

	table_add(t, "SERVICE", "INSTANCE", "STATE", "UPTIME", "LAST BEAT",
	    "FAULTS", "LAST", "MEDIAN");
	svc_rows(t, ja(reply, "services"), 2, latency);
	table_print(t);
}

/* Wait secs, or less when SIGINT or SIGTERM comes. */
static void
wait_for(double secs)
{
	struct timespec ts = {
	    .tv_sec = (time_t)secs,
	    .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9),
	};

	/* The handler has no SA_RESTART: a signal ends the sleep early. */
	while (!stop_asked && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
exec_top(struct ctl *c, int argc, char **argv)
{
	struct top_opts o = {.delay = 1.0};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
	struct json_object *reply = NULL;
	char **args;
	int rc, nargs;
	long n;
	bool tty = isatty(STDOUT_FILENO) && !c->json;

	if ((rc = cmd_parse(&cmd_top_entry, argc, argv, ":d:n:", top_opt, &o,
	         &args, &nargs)) != EXIT_OK)
		return rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	/* The alternate screen, cursor hidden: the shell's screen comes
	 * back as it was when top ends. */
	if (tty)
		fputs("\033[?1049h\033[?25l", stdout);
	for (n = 0; !stop_asked && (o.count == 0 || n < o.count); n++) {
		if (n > 0)
			wait_for(o.delay);
		if (stop_asked)
			break;
		/* A connection per refresh: the daemon closes idle ones
		 * (10 s), and -d may be longer. */
		ctl_close(c);
		if ((rc = ctl_simple(c, ctl_req("top", NULL), &reply)) !=
		    EXIT_OK)
			break;
		if (!c->json) {
			if (tty)
				fputs("\033[H\033[2J", stdout);
			else if (n > 0)
				putchar('\n');
			print_header(reply);
			print_table(reply);
		}
		fflush(stdout);
		json_object_put(reply);
		reply = NULL;
	}
	if (tty) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

const struct cmd_entry cmd_top_entry = {
    .name = "top",
    .args = "[-d SECONDS] [-n COUNT]",
    .brief = "a live table of the instances and summon latency",
    .help = "The services and their instances as \"list\" has them (state,\n"
            "uptime, last heartbeat, the service's faults) and each\n"
            "service's summon latency: the last summon's query->answer\n"
            "time and the median over its last 8 boots.  A header line has\n"
            "the time, the instances counted by state and the summons since\n"
            "the summoner started (cold, warm, and joined: queries that\n"
            "waited for a boot under way).\n"
            "\n"
            "  -d SECONDS  refresh every SECONDS (default 1, fractions\n"
            "              allowed)\n"
            "  -n COUNT    refresh COUNT times, then exit (default: until\n"
            "              Ctrl-C)\n"
            "\n"
            "On a terminal the table is redrawn in place (the screen is\n"
            "restored on exit); otherwise each refresh is printed after the\n"
            "last, a blank line between them.  With -j each refresh's reply\n"
            "is printed as one JSON line.\n",
    .min_args = 0,
    .max_args = 0,
    .exec = exec_top,
};
