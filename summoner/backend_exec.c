/*
 * backend_exec.c: instances run by any command (solo5-hvt, solo5-spt,
 * firecracker, qemu, a script ...), from the service's `command` template.
 *
 * The command is split into argv without a shell (cmd_split(), util.h)
 * and started with posix_spawnp in a process group of its own, so that
 * stop, pause and resume reach whatever it starts.  Its stdout and stderr
 * share one pipe whose lines become the instance's console; nothing else
 * is learnt from the process but its exit status, so readiness comes from
 * a READY=1 UDP heartbeat carrying the instance's token ({token},
 * {heartbeat}) or, for commands that send none, from `ready-after`.  The
 * exit status is translated into the fault vocabulary of the tender
 * (docs/summoner.md "The exec backend") so that policies apply unchanged.
 *
 * A net device's tap is made persistent and handed over by name ({tap}):
 * a tap takes one descriptor at a time, so the summoner cannot keep its
 * own open while the command attaches.  It deletes the tap once the
 * command has been reaped.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <linux/if_tun.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend.h"
#include "config.h"
#include "log.h"
#include "netdev.h"
#include "registry.h"
#include "util.h"

#define STOP_GRACE_MS 2000 /* as backend_hvt.c: SIGKILL after SIGTERM */
#define MAX_ARGV      256
#define ARGV_BYTES    8192
#define READ_ROUNDS   16 /* reads per wake-up: a flood cannot hold the loop */
#define DRAIN_BYTES   65536 /* read after the exit, at most */

extern char **environ;

struct xproc {
	LIST_ENTRY(xproc) entry;
	struct inst *in;
	pid_t pid; /* also its process group */
	int out;   /* the read end of its stdout and stderr, -1 once closed */
	struct event *out_ev, *kill_ev, *ready_ev;
	struct backend_lines out_lines; /* its output, cut into lines */
	char tap[NETDEV_NAMESIZ]; /* the persistent tap to delete, or "" */
	bool reaped, stopping, lost;
	int status; /* waitpid()'s */
};

static LIST_HEAD(, xproc) procs = LIST_HEAD_INITIALIZER(procs);
static struct event_base *exec_base;

void
backend_exec_init(struct event_base *base)
{
	exec_base = base;
}

static void
emit_text(struct xproc *x, unsigned type, const char *text, size_t len)
{
	backend_emit(x->in, type, text, len);
}

/* Read up to limit bytes of output; -1 at end of file or on an error. */
static int
read_output(struct xproc *x, size_t limit)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;

	while (got < limit) {
		n = read(x->out, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		backend_lines_take(&x->out_lines, x->in, buf, (size_t)n);
		got += (size_t)n;
	}
	return 0;
}

static void
close_output(struct xproc *x)
{
	if (x->out < 0)
		return;
	event_del(x->out_ev);
	close(x->out);
	x->out = -1;
	backend_lines_flush(&x->out_lines, x->in);
}

static void
out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xproc *x = arg;

	(void)fd;
	(void)what;
	if (read_output(x, READ_ROUNDS * 4096) < 0)
		close_output(x); /* its exit is what ends the instance */
}

static void
ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xproc *x = arg;
	struct bevent ev;

	(void)fd;
	(void)what;
	if (x->in == NULL)
		return;
	log_debug("instance %s#%u: ready after %" PRIu64 " ms (ready-after)",
	    x->in->svc->name, x->in->st.id, x->in->svc->conf->ready_after);
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_READY;
	ev.t_ns = instance_clock();
	ev.flags = BEV_READY_BY_CLOCK; /* no beat is owed until one comes */
	registry_backend_event(x->in, &ev);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xproc *x = arg;

	(void)fd;
	(void)what;
	if (x->reaped)
		return;
	log_warnx("instance %s#%u: command %ld did not stop in %d ms: "
	          "killing its process group",
	    x->in->svc->name, x->in->st.id, (long)x->pid, STOP_GRACE_MS);
	kill(-x->pid, SIGKILL);
}

/* Remove a tap made persistent for the command: attach to it once more,
 * drop the flag, close. */
static void
tap_delete(struct xproc *x)
{
	struct ifreq ifr;
	int fd;

	if (x->tap[0] == '\0')
		return;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, x->tap, sizeof(x->tap));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0 ||
	    ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 0) < 0)
		log_warn("instance %s#%u: tap %s not removed (the next "
		         "start's sweep will)",
		    x->in->svc->name, x->in->st.id, x->tap);
	if (fd >= 0)
		close(fd);
	x->tap[0] = '\0';
}

/* Signals that mean the program itself broke. */
static bool
crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGABRT || sig == SIGBUS ||
	       sig == SIGILL || sig == SIGFPE || sig == SIGSYS ||
	       sig == SIGTRAP;
}

/*
 * The command has been reaped: report its end in the tender's terms.
 *   exit N          -> EXITED guest N     (policy event exit, code N)
 *   crash signal    -> EXITED error 128+S (tender-died, signal S)
 *   SIGKILL/SIGTERM not sent by us
 *                   -> FAULT host-error, EXITED fault (host-error)
 *   other signal    -> EXITED error 128+S (tender-died, signal S)
 *   status lost     -> FAULT host-error, EXITED error
 *   after our stop  -> EXITED stopped
 * in->fault names the signal for summonerctl show.  x may be freed by the
 * registry on CTL_EXITED (release).
 */
static void
finish(struct xproc *x)
{
	struct inst *in = x->in;
	struct bevent ev;
	char msg[160], sname[16];
	const char *abbrev;
	int sig = 0, host = 0;

	evtimer_del(x->kill_ev);
	evtimer_del(x->ready_ev);
	if (x->out >= 0 && read_output(x, DRAIN_BYTES) < 0)
		close_output(x);
	close_output(x);
	/* What it left behind in its group ends with it (ESRCH if none). */
	kill(-x->pid, SIGKILL);
	tap_delete(x);

	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_EXITED;
	ev.t_ns = instance_clock();
	ev.u.exited.t_ns = ev.t_ns;
	if (x->lost) {
		host = 1;
		snprintf(msg, sizeof(msg),
		    "command %ld ended, its exit status was lost",
		    (long)x->pid);
		ev.u.exited.status = -1;
		ev.u.exited.reason = CTL_EXIT_ERROR;
	} else if (WIFEXITED(x->status)) {
		ev.u.exited.status = WEXITSTATUS(x->status);
		ev.u.exited.reason =
		    x->stopping ? CTL_EXIT_STOPPED : CTL_EXIT_GUEST;
		snprintf(msg, sizeof(msg), "command %ld exited with status %d",
		    (long)x->pid, WEXITSTATUS(x->status));
	} else {
		sig = WTERMSIG(x->status);
		if ((abbrev = sigabbrev_np(sig)) != NULL)
			snprintf(sname, sizeof(sname), "%s", abbrev);
		else
			snprintf(sname, sizeof(sname), "%d", sig);
		ev.u.exited.status = 128 + sig;
		ev.u.exited.reason =
		    x->stopping ? CTL_EXIT_STOPPED : CTL_EXIT_ERROR;
		if (!x->stopping && (sig == SIGKILL || sig == SIGTERM)) {
			host = 1;
			snprintf(msg, sizeof(msg),
			    "command %ld killed by SIG%s, not by the summoner",
			    (long)x->pid, sname);
		} else
			snprintf(msg, sizeof(msg),
			    "command %ld killed by SIG%s%s%s", (long)x->pid,
			    sname, crash_signal(sig) ? " (a crash)" : "",
			    WCOREDUMP(x->status) ? ", core dumped" : "");
	}
	emit_text(x, CTL_LOG, msg, strlen(msg)); /* logged and kept */
	if (host) {
		struct bevent f;

		memset(&f, 0, sizeof(f));
		f.type = CTL_FAULT;
		f.t_ns = ev.t_ns;
		f.u.fault.t_ns = ev.t_ns;
		f.u.fault.kind = CTL_FAULT_HOST_ERROR;
		f.u.fault.vector = ~(uint64_t)0;
		f.text = msg;
		f.textlen = strlen(msg);
		if (!x->stopping)
			registry_backend_event(in, &f);
		ev.u.exited.reason = CTL_EXIT_FAULT;
	}
	/* The fault line summonerctl shows: the registry's own names a
	 * guest's rip, which a process does not have. */
	if (!x->stopping &&
	    (sig != 0 || host ||
	        (WIFEXITED(x->status) && WEXITSTATUS(x->status) != 0)))
		snprintf(in->fault, sizeof(in->fault), "%s", msg);
	registry_backend_event(in, &ev);
}

void
backend_exec_reap(void)
{
	struct xproc *x, *done;
	pid_t r;
	int st;

	/* One at a time: the registry may release (free) the one reported
	 * and boot another (a restart) before this loop goes on. */
	for (;;) {
		done = NULL;
		LIST_FOREACH(x, &procs, entry)
		{
			if (x->reaped)
				continue;
			while ((r = waitpid(x->pid, &st, WNOHANG)) < 0 &&
			       errno == EINTR)
				;
			if (r == x->pid) {
				x->status = st;
			} else if (r < 0 && errno == ECHILD) {
				/* Reaped by a waitpid(-1) elsewhere. */
				x->lost = true;
			} else
				continue;
			x->reaped = true;
			done = x;
			break;
		}
		if (done == NULL)
			return;
		finish(done);
	}
}

/* The placeholders' values for this instance (docs/config.md). */
static int
fill_vars(struct inst *in, const struct cfg_service *svc,
    struct tmpl_var vars[CFG_CMD_NVARS], char bufs[][96], char *err,
    size_t errlen)
{
	const struct cfg_address *a = config_service_ipv4(svc);
	char ip[INET6_ADDRSTRLEN];
	unsigned port = registry_heartbeat_port(in->svc->reg);
	int i;

	for (i = 0; i < CFG_CMD_NVARS; i++) {
		vars[i].name = config_cmd_var_name((enum cfg_cmd_var)i);
		vars[i].value = NULL;
	}
	vars[CFG_CMD_IMAGE].value = svc->image;
	snprintf(bufs[0], 96, "%" PRIu64, svc->memory >> 20);
	vars[CFG_CMD_MEMORY].value = bufs[0];
	if (in->tap[0] != '\0') {
		vars[CFG_CMD_TAP].value = in->tap;
		vars[CFG_CMD_MAC].value = netdev_mac_str(in->mac, bufs[1]);
	}
	snprintf(bufs[2], 96, "%s#%u", in->st.service, in->st.id);
	vars[CFG_CMD_INSTANCE].value = bufs[2];
	vars[CFG_CMD_SERVICE].value = in->st.service;
	snprintf(bufs[3], 96, "%u", in->st.id);
	vars[CFG_CMD_ID].value = bufs[3];
	vars[CFG_CMD_TOKEN].value = in->token;
	if (port != 0) {
		snprintf(bufs[4], 96, "127.0.0.1:%u", port);
		vars[CFG_CMD_HEARTBEAT].value = bufs[4];
	} else if (strstr(svc->command, "{heartbeat}") != NULL) {
		snprintf(err, errlen, "{heartbeat}: no UDP heartbeat intake");
		return -1;
	}
	if (a != NULL) {
		vars[CFG_CMD_IP].value =
		    config_ip_str(&a->ip, bufs[5], 96) != NULL ? bufs[5] : NULL;
		snprintf(bufs[6], 96, "%d", a->prefix >= 0 ? a->prefix : 32);
		vars[CFG_CMD_PREFIX].value = bufs[6];
		if (a->gateway.af == AF_INET &&
		    config_ip_str(&a->gateway, ip, sizeof(ip)) != NULL) {
			snprintf(bufs[7], 96, "%s", ip);
			vars[CFG_CMD_GATEWAY].value = bufs[7];
		}
	}
	return 0;
}

/* The service's tap, made persistent and released for the command. */
static int
open_tap(struct inst *in, const struct cfg_service *svc, struct xproc *x,
    char *err, size_t errlen)
{
	const struct cfg_device *d = config_service_net(svc);
	char why[200];
	uint64_t t0 = instance_clock();
	int fd;

	in->tap[0] = '\0';
	if (d == NULL)
		return 0;
	if ((fd = netdev_tap_open(svc->name, in->st.id, d->bridge, in->tap, why,
	         sizeof(why))) < 0) {
		snprintf(err, errlen, "net device '%s': %s", d->name, why);
		in->tap[0] = '\0';
		return -1;
	}
	if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		snprintf(err, errlen, "net device '%s': TUNSETPERSIST: %s",
		    d->name, strerror(errno));
		close(fd); /* not persistent: this deletes it */
		in->tap[0] = '\0';
		return -1;
	}
	close(fd);
	memcpy(x->tap, in->tap, sizeof(x->tap));
	netdev_mac(svc->name, NULL, in->st.id, in->mac);
	in->net_create_us = (unsigned)((instance_clock() - t0) / 1000);
	in->net_attach_us = 0;
	return 0;
}

/* posix_spawnp with stdin from /dev/null, stdout and stderr into wfd, a
 * process group of its own and the signals as a fresh process has them
 * (the daemon ignores SIGPIPE). */
static int
spawn(pid_t *pid, char **argv, int wfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	if ((rc = posix_spawn_file_actions_addopen(
	         &fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, wfd, 1)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, wfd, 2)) == 0 &&
	    (rc = posix_spawnattr_setpgroup(&at, 0)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &all)) == 0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setflags(
	         &at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
	                  POSIX_SPAWN_SETSIGMASK)) == 0)
		rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

static int
exec_boot(struct inst *in, const struct config *conf,
    const struct cfg_service *svc, bool paused, char *err, size_t errlen)
{
	struct tmpl_var vars[CFG_CMD_NVARS];
	char bufs[8][96], why[160];
	char *argv[MAX_ARGV], *argbuf = NULL;
	int p[2] = {-1, -1}, rc;
	size_t argc;
	struct xproc *x = NULL;
	struct timeval tv;

	(void)conf;
	if (paused || svc->command == NULL) {
		/* config_validate() refuses both. */
		snprintf(err, errlen, "backend exec: %s",
		    paused ? "no warm pool" : "no command");
		return -1;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (argbuf = malloc(ARGV_BYTES)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	x->in = in;
	x->out = -1;
	if (open_tap(in, svc, x, err, errlen) < 0)
		goto fail;
	if (fill_vars(in, svc, vars, bufs, err, errlen) < 0)
		goto fail;
	if (cmd_split(svc->command, vars, CFG_CMD_NVARS, svc->argv, svc->argc,
	        in->st.service, in->st.id, argbuf, ARGV_BYTES, argv, MAX_ARGV,
	        &argc, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "command: %s", why);
		goto fail;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	x->out_ev = event_new(exec_base, p[0], EV_READ | EV_PERSIST, out_cb, x);
	x->kill_ev = evtimer_new(exec_base, kill_cb, x);
	x->ready_ev = evtimer_new(exec_base, ready_cb, x);
	if (x->out_ev == NULL || x->kill_ev == NULL || x->ready_ev == NULL ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		snprintf(err, errlen, "event set-up failed");
		goto fail;
	}
	/* ENOENT, EACCES ... of the exec itself come back here (glibc
	 * reports the child's exec failure). */
	if ((rc = spawn(&x->pid, argv, p[1])) != 0) {
		snprintf(
		    err, errlen, "cannot run %s: %s", argv[0], strerror(rc));
		goto fail;
	}
	close(p[1]);
	p[1] = -1;
	x->out = p[0];
	p[0] = -1;
	if (event_add(x->out_ev, NULL) < 0)
		log_warnx("instance %s#%u: its console is not read",
		    in->svc->name, in->st.id);
	if (svc->ready_after > 0) {
		tv.tv_sec = (time_t)(svc->ready_after / 1000);
		tv.tv_usec = (suseconds_t)(svc->ready_after % 1000) * 1000;
		evtimer_add(x->ready_ev, &tv);
	}
	free(argbuf);
	LIST_INSERT_HEAD(&procs, x, entry);
	in->bdata = x;
	return 0;
fail:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(argbuf);
	if (x == NULL)
		return -1;
	tap_delete(x);
	in->tap[0] = '\0';
	if (x->out_ev != NULL)
		event_free(x->out_ev);
	if (x->kill_ev != NULL)
		event_free(x->kill_ev);
	if (x->ready_ev != NULL)
		event_free(x->ready_ev);
	free(x);
	return -1;
}

static int
signal_group(struct inst *in, int sig)
{
	struct xproc *x = in->bdata;

	if (x == NULL || x->reaped)
		return -1;
	return kill(-x->pid, sig);
}

static int
exec_pause(struct inst *in)
{
	return signal_group(in, SIGSTOP);
}

static int
exec_resume(struct inst *in)
{
	return signal_group(in, SIGCONT);
}

static int
exec_stop(struct inst *in)
{
	struct xproc *x = in->bdata;
	struct timeval tv = {
	    STOP_GRACE_MS / 1000, (STOP_GRACE_MS % 1000) * 1000};

	if (x == NULL || x->reaped)
		return 0;
	if (!x->stopping) {
		x->stopping = true;
		evtimer_del(x->ready_ev);
		evtimer_add(x->kill_ev, &tv);
	}
	kill(-x->pid, SIGTERM);
	/* A paused group gets the SIGTERM only once it runs again. */
	kill(-x->pid, SIGCONT);
	return 0;
}

static long
exec_pid(const struct inst *in)
{
	const struct xproc *x = in->bdata;

	return x != NULL ? (long)x->pid : 0;
}

static void
exec_release(struct inst *in)
{
	struct xproc *x = in->bdata;

	if (x == NULL)
		return;
	if (!x->reaped) {
		/* Only at daemon exit: do not leave it running. */
		kill(-x->pid, SIGKILL);
		waitpid(x->pid, NULL, 0);
	}
	x->out_lines.len = 0; /* no events from a release */
	close_output(x);
	tap_delete(x);
	LIST_REMOVE(x, entry);
	event_free(x->out_ev);
	event_free(x->kill_ev);
	event_free(x->ready_ev);
	free(x);
	in->bdata = NULL;
}

const struct backend_ops backend_exec = {
    .name = "exec",
    .boot = exec_boot,
    .pause = exec_pause,
    .resume = exec_resume,
    .stop = exec_stop,
    .gdb_open = NULL, /* a command has no stub we know of */
    .pid = exec_pid,
    .release = exec_release,
};
