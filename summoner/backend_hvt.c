/*
 * backend_hvt.c: instances run by summoner-tender on /dev/kvm.
 *
 * One tender process per instance, started with posix_spawn (vfork
 * underneath: no copy of the daemon's page tables on the boot path) and
 * an inherited SOCK_SEQPACKET socket as its control channel
 * (docs/control-protocol.md).  Events are read on the loop and handed to
 * the registry as they come; the instance ends when the tender has been
 * reaped and its channel has reached end of file, whichever is last, so
 * no event is lost.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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
#include "registry.h"

#define STOP_GRACE_MS 2000 /* after STOP, SIGKILL a tender still there */
#define MAX_ARGS      (8 + 2 * 16 + 64)

extern char **environ;

struct hvt {
	LIST_ENTRY(hvt) entry;
	struct inst *in;
	pid_t pid;
	int fd;
	struct event *ev;
	struct event *kill_ev;
	struct ctl_reader *rd;
	bool eof, reaped, have_exit, stopping;
	struct ctl_exited exited;
};

static LIST_HEAD(, hvt) tenders = LIST_HEAD_INITIALIZER(tenders);
static struct event_base *hvt_base;

void
backend_hvt_init(struct event_base *base)
{
	hvt_base = base;
}

/* Both the exit status and the end of the channel are in: report. */
static void
maybe_finish(struct hvt *h)
{
	struct bevent ev;

	if (!h->eof || !h->reaped)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = CTL_EXITED;
	ev.t_ns = h->have_exit ? h->exited.t_ns : instance_clock();
	ev.u.exited = h->exited;
	registry_backend_event(h->in, &ev);
}

static void
dispatch(struct hvt *h, const struct ctl_hdr *hdr, const uint8_t *payload)
{
	struct bevent ev;
	const char *text;
	size_t textlen, fixed = 0;

	if (ctl_payload(hdr, payload, &text, &textlen) != CTL_OK)
		return; /* unknown or short: skip the frame */
	memset(&ev, 0, sizeof(ev));
	ev.type = hdr->type;
	ev.text = text;
	ev.textlen = textlen;
	switch (hdr->type) {
	case CTL_BOOTED:
		fixed = sizeof(ev.u.booted);
		break;
	case CTL_HEARTBEAT:
		fixed = sizeof(ev.u.heartbeat);
		break;
	case CTL_FAULT:
		fixed = sizeof(ev.u.fault);
		break;
	case CTL_EXITED:
		fixed = sizeof(ev.u.exited);
		break;
	case CTL_CAPTURED:
		fixed = sizeof(ev.u.captured);
		break;
	default:
		fixed = 0;
		break;
	}
	if (fixed > hdr->len)
		return;
	if (fixed > 0)
		memcpy(&ev.u, payload, fixed);
	if (hdr->len >= sizeof(uint64_t))
		memcpy(&ev.t_ns, payload, sizeof(uint64_t));
	if (hdr->type == CTL_EXITED) {
		/* Kept for when the process is reaped. */
		h->exited = ev.u.exited;
		h->have_exit = true;
		return;
	}
	registry_backend_event(h->in, &ev);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hvt *h = arg;
	uint8_t buf[CTL_MAX_FRAME];
	struct ctl_hdr hdr;
	const uint8_t *payload;
	size_t space;
	ssize_t n;
	int st;

	(void)what;
	/* A bounded number of reads per wake-up: a chatty guest cannot
	 * hold the loop. */
	for (int rounds = 0; rounds < 16; rounds++) {
		space = ctl_reader_space(h->rd);
		if (space > sizeof(buf))
			space = sizeof(buf);
		n = read(fd, buf, space);
		if (n < 0 && (errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (n < 0)
				log_warn("instance %s#%u: control channel",
				    h->in->svc->name, h->in->st.id);
			break;
		}
		if (ctl_reader_feed(h->rd, buf, (size_t)n) != CTL_OK)
			break;
		while (
		    (st = ctl_reader_next(h->rd, &hdr, &payload)) == CTL_OK) {
			dispatch(h, &hdr, payload);
		}
		if (st != CTL_EMORE) {
			log_warnx("instance %s#%u: control channel: %s; "
			          "stopping the tender",
			    h->in->svc->name, h->in->st.id, ctl_strerror(st));
			kill(h->pid, SIGKILL);
			break;
		}
		if (rounds == 15)
			return;
	}
	/* End of the channel (or broken): stop listening, wait for the
	 * process to be reaped. */
	event_del(h->ev);
	h->eof = true;
	maybe_finish(h);
}

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hvt *h = arg;

	(void)fd;
	(void)what;
	if (!h->reaped) {
		log_warnx("instance %s#%u: tender %ld did not stop in %d ms: "
		          "killing it",
		    h->in->svc->name, h->in->st.id, (long)h->pid,
		    STOP_GRACE_MS);
		kill(h->pid, SIGKILL);
	}
}

void
backend_hvt_reap(void)
{
	struct hvt *h;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		LIST_FOREACH(h, &tenders, entry)
		if (h->pid == pid)
			break;
		if (h == NULL)
			continue;
		h->reaped = true;
		if (!h->have_exit) {
			/* Died without a word (killed, crashed). */
			h->exited.t_ns = instance_clock();
			if (WIFSIGNALED(status)) {
				h->exited.status = 128 + WTERMSIG(status);
				h->exited.reason = CTL_EXIT_ERROR;
			} else {
				h->exited.status = WEXITSTATUS(status);
				h->exited.reason = WEXITSTATUS(status) == 0
				                       ? CTL_EXIT_GUEST
				                       : CTL_EXIT_ERROR;
			}
		}
		maybe_finish(h);
	}
}

static int
hvt_boot(struct inst *in, const struct config *conf,
    const struct cfg_service *svc, bool paused, char *err, size_t errlen)
{
	char *argv[MAX_ARGS], mem[32], devs[16][300], faultdir[300];
	char ctlfd_arg[] = "--control-fd=3", paused_arg[] = "--paused";
	char dashes[] = "--";
	posix_spawn_file_actions_t fa;
	const struct cfg_device *d;
	struct hvt *h;
	int sv[2] = {-1, -1}, argc = 0, ndev = 0;
	size_t i;

	TAILQ_FOREACH(d, &svc->devices, entry)
	{
		if (d->kind == CFG_DEV_NET) {
			snprintf(err, errlen,
			    "net device '%s': tap plumbing is not in this "
			    "version yet",
			    d->name);
			return -1;
		}
		if (ndev == 16) {
			snprintf(err, errlen, "more than 16 devices");
			return -1;
		}
		snprintf(devs[ndev], sizeof(devs[ndev]), "--block:%s=%s",
		    d->name, d->path);
		ndev++;
	}
	if (svc->argc > (size_t)(MAX_ARGS - 9 - ndev)) {
		snprintf(err, errlen, "too many arguments");
		return -1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->rd = malloc(sizeof(*h->rd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(h);
		return -1;
	}
	ctl_reader_init(h->rd);
	h->in = in;
	h->fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
	        0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	/* The tender's end blocks: its control thread reads it. */
	if (fcntl(sv[1], F_SETFL, 0) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto fail;
	}
	snprintf(mem, sizeof(mem), "--mem=%llu",
	    (unsigned long long)(svc->memory >> 20));
	argv[argc++] = conf->tender;
	argv[argc++] = ctlfd_arg;
	argv[argc++] = mem;
	if (paused)
		argv[argc++] = paused_arg;
	if (in->fault_dir[0] != '\0') {
		snprintf(faultdir, sizeof(faultdir), "--fault-dir=%s",
		    in->fault_dir);
		argv[argc++] = faultdir;
	}
	for (int j = 0; j < ndev; j++)
		argv[argc++] = devs[j];
	argv[argc++] = dashes;
	argv[argc++] = svc->image;
	for (i = 0; i < svc->argc; i++)
		argv[argc++] = svc->argv[i];
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	errno = posix_spawn(&h->pid, conf->tender, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno != 0) {
		snprintf(err, errlen, "%s: %s", conf->tender, strerror(errno));
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	h->fd = sv[0];
	h->ev = event_new(hvt_base, h->fd, EV_READ | EV_PERSIST, read_cb, h);
	h->kill_ev = evtimer_new(hvt_base, kill_cb, h);
	if (h->ev == NULL || h->kill_ev == NULL || event_add(h->ev, NULL)) {
		/* The tender runs: make sure it ends, and is reaped. */
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		snprintf(err, errlen, "event set-up failed");
		goto fail;
	}
	LIST_INSERT_HEAD(&tenders, h, entry);
	in->bdata = h;
	return 0;
fail:
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->kill_ev != NULL)
		event_free(h->kill_ev);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(h->rd);
	free(h);
	return -1;
}

static int
send_msg(struct inst *in, unsigned type, const void *fixed, size_t fixedlen,
    const char *text)
{
	struct hvt *h = in->bdata;
	uint8_t buf[CTL_HDR_SIZE + 512];
	int n = ctl_encode(buf, sizeof(buf), type, fixed, fixedlen, text,
	    text != NULL ? strlen(text) : 0);

	if (h == NULL || h->eof || n < 0)
		return -1;
	/* A full channel (the tender is not reading) fails the command. */
	if (send(h->fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		return -1;
	return 0;
}

static int
send_cmd(struct inst *in, unsigned type)
{
	return send_msg(in, type, NULL, 0, NULL);
}

static int
hvt_gdb_open(struct inst *in, const char *spec)
{
	struct ctl_gdb_open g = {0, 0};

	return send_msg(in, CTL_GDB_OPEN, &g, sizeof(g), spec);
}

static int
hvt_pause(struct inst *in)
{
	return send_cmd(in, CTL_PAUSE);
}

static int
hvt_resume(struct inst *in)
{
	return send_cmd(in, CTL_RESUME);
}

static int
hvt_stop(struct inst *in)
{
	struct hvt *h = in->bdata;
	struct timeval tv = {
	    STOP_GRACE_MS / 1000, (STOP_GRACE_MS % 1000) * 1000};

	if (h == NULL || h->reaped)
		return 0;
	if (!h->stopping) {
		h->stopping = true;
		evtimer_add(h->kill_ev, &tv);
	}
	if (send_cmd(in, CTL_STOP) < 0)
		kill(h->pid, SIGTERM);
	return 0;
}

static long
hvt_pid(const struct inst *in)
{
	const struct hvt *h = in->bdata;

	return h != NULL ? (long)h->pid : 0;
}

static void
hvt_release(struct inst *in)
{
	struct hvt *h = in->bdata;

	if (h == NULL)
		return;
	if (!h->reaped) {
		/* Only at daemon exit: do not leave it running. */
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
	}
	LIST_REMOVE(h, entry);
	event_free(h->ev);
	event_free(h->kill_ev);
	close(h->fd);
	free(h->rd);
	free(h);
	in->bdata = NULL;
}

const struct backend_ops backend_hvt = {
    .name = "hvt",
    .boot = hvt_boot,
    .pause = hvt_pause,
    .resume = hvt_resume,
    .stop = hvt_stop,
    .gdb_open = hvt_gdb_open,
    .pid = hvt_pid,
    .release = hvt_release,
};

const struct backend_ops *
backend_for(int cfg_backend)
{
	switch (cfg_backend) {
	case CFG_BACKEND_HVT:
		return &backend_hvt;
	default:
		return NULL; /* libvirt and exec: issue 6 */
	}
}
