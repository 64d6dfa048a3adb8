/*
 * main.c: summoner's command line, signals and the event loop.
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "backend.h"
#include "config.h"
#include "control.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "sdnotify.h"
#include "server.h"
#include "util.h"

#define DEFAULT_CONFIG   "/etc/summoner/summoner.conf"
#define SHUTDOWN_GRACE_S 5

static const char usage_text[] =
    "usage: summoner [-dnqv] [-f FILE] [--syslog]\n";

static const char help_text[] =
    "\n"
    "An authoritative DNS server that boots unikernels on demand.  A query\n"
    "for a service with no ready instance boots one (or resumes a paused\n"
    "one from the warm pool), is held until the guest reports READY, and\n"
    "is answered with the service's addresses; queries arriving meanwhile\n"
    "join the same boot.  Instances idle for their idle-timeout are\n"
    "stopped.  The configuration language is described in docs/config.md,\n"
    "the DNS answers in docs/dns.md.\n"
    "\n"
    "Options:\n"
    "  -f, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
    "  -n, --check        check the configuration, print it normalised on\n"
    "                     standard output and exit (0 when valid)\n"
    "  -v, --verbose      log more (repeat for debug messages)\n"
    "  -q, --quiet        log warnings only\n"
    "  -d, --debug        same as -vv\n"
    "      --syslog       log to syslog (daemon facility) instead of\n"
    "                     standard error\n"
    "  -h, --help         print this help and exit\n"
    "\n"
    "Signals:\n"
    "  SIGHUP             reload the configuration: services added, removed\n"
    "                     and changed take effect, instances of unchanged\n"
    "                     services go on; a configuration with errors is\n"
    "                     refused (each error logged as file:line: message)\n"
    "                     and the running one stays\n"
    "  SIGTERM, SIGINT    stop every instance, then exit 0\n"
    "\n"
    "Files:\n"
    "  STATE-DIR/control.sock\n"
    "                     the control socket summonerctl talks to (mode\n"
    "                     0600; docs/control-socket.md); STATE-DIR is the\n"
    "                     configuration's state-dir, created if missing\n"
    "  http://ADDR:PORT/metrics\n"
    "                     Prometheus metrics, when the configuration says\n"
    "                     `metrics on [ADDR [port PORT]]` (127.0.0.1 port\n"
    "                     9153 by default; docs/summoner.md \"Metrics\")\n"
    "\n"
    "Exit status: 0 after SIGTERM or a valid -n check, 1 for a bad\n"
    "configuration or a failed start (addresses that cannot be bound), 64\n"
    "for a bad command line.\n";

struct daemon {
	const char *path;
	struct event_base *base;
	struct server *srv;
	struct registry *reg;
	struct control *ctl;
	char *ctl_state_dir; /* the state-dir the control socket is in */
	struct journal *journal;
	struct metrics *metrics; /* the /metrics endpoint, NULL when off */
	struct event *ev_hup, *ev_term, *ev_int, *ev_chld, *ev_grace;
	bool stopping;
};

/* The kernel's struct sched_attr (sched_setattr(2)); glibc 2.36 has no
 * wrapper. */
struct sched_attr_v1 {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
	uint32_t util_min, util_max;
};

/*
 * Ask the scheduler for a short time slice (SUMMONER_SLICE_NS), keeping
 * the policy (SCHED_OTHER) and nice value.  With EEVDF (Linux 6.12 and
 * later) a task with a shorter slice preempts the running one when it
 * wakes: a tender's vCPU thread on the daemon's CPU then no longer holds
 * off a READY or a DNS query for the rest of its slice (measured here:
 * 0.8 ms median from a tender's READY to the daemon reading it, 30 us
 * with the short slice).  SCHED_FLAG_RESET_ON_FORK keeps tenders from
 * inheriting it (their vCPUs keep the default slice).  Older kernels
 * ignore the field; an error is only logged.
 */
#define SUMMONER_SLICE_NS 100000
static void
short_slice(void)
{
	struct sched_attr_v1 a;

	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0) {
		log_debug("scheduler attributes: %s", strerror(errno));
		return;
	}
	if (a.policy != 0) /* not SCHED_OTHER: the operator chose */
		return;
	a.size = sizeof(a);
	a.runtime = SUMMONER_SLICE_NS;
	a.flags = 0x01; /* SCHED_FLAG_RESET_ON_FORK */
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		log_debug("short scheduler slice not set: %s", strerror(errno));
}

static void __attribute__((noreturn)) usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "summoner: %s\n", why);
	fputs(usage_text, stderr);
	fputs("Try 'summoner --help' for more information.\n", stderr);
	exit(64);
}

/* Load the file, logging every error as file:line: message. */
static struct config *
load(const char *path)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&buf, &len);
	struct config *conf;

	if (errs == NULL)
		return config_load(path, stderr);
	conf = config_load(path, errs);
	fclose(errs);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		log_warnx("%s", line);
	free(buf);
	return conf;
}

/* Things that would only fail at the first summon: say so at once. */
static void
check_files(const struct config *conf)
{
	const struct cfg_service *s;

	if (access(conf->tender, X_OK) < 0)
		log_warn("tender %s", conf->tender);
	TAILQ_FOREACH(s, &conf->services, entry)
	if (s->image != NULL && access(s->image, R_OK) < 0)
		log_warn("service %s: image %s", s->name, s->image);
}

/* ---- the control socket (control.h) ---- */

static int reload(struct daemon *d, char *err, size_t errlen);

static int
control_reload_cb(void *arg, char *err, size_t errlen)
{
	struct daemon *d = arg;

	if (d->stopping) {
		snprintf(err, errlen, "the summoner is stopping");
		return -1;
	}
	return reload(d, err, errlen);
}

/* The control socket in conf's state-dir.  0, or -1 (logged). */
static int
control_start(struct daemon *d, const struct config *conf)
{
	char path[PATH_MAX], err[512];

	if (snprintf(path, sizeof(path), "%s/%s", conf->state_dir,
	        CONTROL_SOCKET_NAME) >= (int)sizeof(path)) {
		log_warnx("state-dir %s: path too long", conf->state_dir);
		return -1;
	}
	if (mkdir_p(conf->state_dir, 0700) < 0) {
		log_warn("state-dir %s", conf->state_dir);
		return -1;
	}
	if ((d->ctl = control_new(d->base, d->reg, path, err, sizeof(err))) ==
	    NULL) {
		log_warnx("control socket: %s", err);
		return -1;
	}
	if ((d->ctl_state_dir = strdup(conf->state_dir)) == NULL)
		fatal("strdup");
	control_set_reload(d->ctl, control_reload_cb, d);
	return 0;
}

/* A reload keeps the socket where it is. */
static void
control_reloaded(struct daemon *d, const struct config *conf)
{
	if (d->ctl_state_dir != NULL &&
	    strcmp(d->ctl_state_dir, conf->state_dir) != 0)
		log_warnx("state-dir changed to %s: the control socket stays "
		          "in %s until the summoner is restarted",
		    conf->state_dir, d->ctl_state_dir);
}

/* What the control socket reads once everything is set up. */
static void
control_attach(struct daemon *d, const struct config *conf)
{
	control_set_journal(d->ctl, d->journal);
	control_set_config(d->ctl, conf);
}

/* After a configuration was applied: its policies for "policy test". */
static void
control_configured(struct daemon *d, const struct config *conf)
{
	control_set_config(d->ctl, conf);
}

static void
control_stop(struct daemon *d)
{
	control_free(d->ctl);
	d->ctl = NULL;
	free(d->ctl_state_dir);
	d->ctl_state_dir = NULL;
}

/*
 * The loop, with precise timers (timerfd on Linux): health deadlines and
 * restart back-offs are acted on within microseconds of their time, not
 * at the next millisecond tick.
 */
static struct event_base *
new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * The journal (<state-dir>/journal.db) and health intake.  A journal that
 * cannot be opened is a start-up error: running without one would lose
 * exactly what it is for.  UDP heartbeats are taken on 127.0.0.1, on a
 * port the kernel picks (logged, and shown by summonerctl show).
 */
static int
supervise_start(struct daemon *d, const struct config *conf)
{
	char path[PATH_MAX], err[512];
	struct sockaddr_in sin;

	if (snprintf(path, sizeof(path), "%s/journal.db", conf->state_dir) >=
	    (int)sizeof(path)) {
		log_warnx("state-dir %s: path too long", conf->state_dir);
		return -1;
	}
	if ((d->journal = journal_open(path, err, sizeof(err))) == NULL) {
		log_warnx("journal %s: %s", path, err);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (registry_supervise(d->reg, d->journal, conf->state_dir,
	        (struct sockaddr *)&sin, sizeof(sin), err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	log_info("journal %s; heartbeats over UDP on 127.0.0.1 port %u", path,
	    registry_heartbeat_port(d->reg));
	return 0;
}

static void
supervise_stop(struct daemon *d)
{
	instance_journal = NULL;
	journal_close(d->journal);
	d->journal = NULL;
}

/* The metrics endpoint (metrics.h): 0, or -1 (logged) when it cannot be
 * bound, which is a start-up error like a DNS address. */
static int
metrics_start(struct daemon *d, const struct config *conf)
{
	char err[256];

	if (metrics_listen(
	        &d->metrics, d->base, d->reg, conf, err, sizeof(err)) < 0) {
		log_warnx("metrics: %s", err);
		return -1;
	}
	return 0;
}

static int
apply(struct daemon *d, struct config *conf)
{
	char err[512];
	struct dns_zones *z;

	check_files(conf);
	if (server_listen(d->srv, conf, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		config_free(conf);
		return -1;
	}
	if ((z = registry_apply(d->reg, conf, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	server_set_zones(d->srv, z);
	return 0;
}

static int
reload_conf(struct daemon *d, char *err, size_t errlen)
{
	struct config *conf;

	log_info("reloading %s", d->path);
	if ((conf = load(d->path)) == NULL) {
		log_warnx("reload refused: the running configuration stays");
		snprintf(err, errlen,
		    "%s has errors (see the daemon's log): the running "
		    "configuration stays",
		    d->path);
		return -1;
	}
	control_reloaded(d, conf);
	metrics_reloaded(d->metrics, conf);
	if (apply(d, conf) < 0) {
		log_warnx("reload failed: the running configuration stays");
		snprintf(err, errlen,
		    "%s could not be applied (see the daemon's log): the "
		    "running configuration stays",
		    d->path);
		return -1;
	}
	control_configured(d, conf);
	log_info("reloaded %s", d->path);
	return 0;
}

/* SIGHUP and "summonerctl reload": 0, or -1 with the reason in err.  The
 * service manager hears of it either way. */
static int
reload(struct daemon *d, char *err, size_t errlen)
{
	int rc;

	sdn_reloading();
	rc = reload_conf(d, err, errlen);
	sdn_reloaded(rc == 0 ? "serving; configuration reloaded"
	                     : "serving; reload refused, the running "
	                       "configuration stays");
	return rc;
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	char err[512];

	(void)sig;
	(void)what;
	if (!d->stopping)
		(void)reload(d, err, sizeof(err));
}

static void
all_stopped(void *arg)
{
	struct daemon *d = arg;

	log_info("every instance stopped; exiting");
	event_base_loopexit(d->base, NULL);
}

static void
on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	log_warnx("instances still running after %d s: killing them",
	    SHUTDOWN_GRACE_S);
	event_base_loopexit(d->base, NULL);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {SHUTDOWN_GRACE_S, 0};

	(void)what;
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("%s: stopping every instance",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	sdn_stopping();
	server_close(d->srv);
	evtimer_add(d->ev_grace, &tv);
	registry_shutdown(d->reg, all_stopped, d);
}

static void
on_chld(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	backend_exec_reap(); /* by pid: before hvt's waitpid(-1) */
	backend_hvt_reap();
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"debug", no_argument, NULL, 'd'},
	    {"syslog", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon d = {.path = DEFAULT_CONFIG};
	struct config *conf;
	int ch, level = LOG_LEVEL_INFO, check = 0, use_syslog = 0;

	while (
	    (ch = getopt_long(argc, argv, "f:nvqdh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			d.path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			level++;
			break;
		case 'q':
			level = LOG_LEVEL_WARN;
			break;
		case 'd':
			level = LOG_LEVEL_DEBUG;
			break;
		case 'S':
			use_syslog = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return 0;
		default:
			usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected arguments");
	log_init("summoner", level, use_syslog && !check);

	if (check) {
		if ((conf = config_load(d.path, stderr)) == NULL)
			return 1;
		config_print(conf, stdout);
		config_free(conf);
		return 0;
	}
	if ((conf = load(d.path)) == NULL) {
		log_warnx("%s: not started", d.path);
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	/* libvirt calls the loop's functions from the threads that make
	 * its calls (docs/libvirt.md): the base must be lockable. */
	if (evthread_use_pthreads() < 0)
		fatalx("evthread_use_pthreads failed");
	if ((d.base = new_base()) == NULL)
		fatalx("event_base_new failed");
	backend_hvt_init(d.base);
	backend_exec_init(d.base);
	backend_libvirt_init(d.base);
	if ((d.srv = server_new(d.base)) == NULL ||
	    (d.reg = registry_new(d.base, d.srv)) == NULL)
		fatal("start-up");
	server_set_registry(d.srv, d.reg);
	if (control_start(&d, conf) < 0) {
		log_warnx("not started");
		config_free(conf);
		registry_free(d.reg);
		server_free(d.srv);
		event_base_free(d.base);
		return 1;
	}
	if (supervise_start(&d, conf) < 0 || metrics_start(&d, conf) < 0 ||
	    apply(&d, conf) < 0) {
		log_warnx("not started");
		metrics_free(d.metrics);
		control_stop(&d);
		registry_free(d.reg);
		server_free(d.srv);
		event_base_free(d.base);
		return 1;
	}
	d.ev_hup = evsignal_new(d.base, SIGHUP, on_hup, &d);
	d.ev_term = evsignal_new(d.base, SIGTERM, on_term, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, on_term, &d);
	d.ev_chld = evsignal_new(d.base, SIGCHLD, on_chld, &d);
	d.ev_grace = evtimer_new(d.base, on_grace, &d);
	if (d.ev_hup == NULL || d.ev_term == NULL || d.ev_int == NULL ||
	    d.ev_chld == NULL || d.ev_grace == NULL ||
	    evsignal_add(d.ev_hup, NULL) < 0 ||
	    evsignal_add(d.ev_term, NULL) < 0 ||
	    evsignal_add(d.ev_int, NULL) < 0 ||
	    evsignal_add(d.ev_chld, NULL) < 0)
		fatalx("signal set-up failed");
	control_attach(&d, conf);
	registry_recover(d.reg);
	short_slice();
	log_info("summoner started with %s (pid %ld)", d.path, (long)getpid());
	sdn_ready(d.base, "serving");

	event_base_dispatch(d.base);

	/* Whatever still runs (grace expired) is killed by its release. */
	backend_exec_reap();
	backend_hvt_reap();
	control_stop(&d);
	metrics_free(d.metrics);
	registry_free(d.reg);
	supervise_stop(&d);
	backend_libvirt_shutdown();
	server_free(d.srv);
	event_free(d.ev_hup);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_free(d.ev_chld);
	event_free(d.ev_grace);
	sdn_free();
	event_base_free(d.base);
	return 0;
}
