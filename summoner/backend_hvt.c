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
#include "netdev.h"
#include "registry.h"
#include "util.h"

#define STOP_GRACE_MS 2000 /* after STOP, SIGKILL a tender still there */
#define MAX_DEVS      16
#define MAX_ARGS      (10 + 2 * MAX_DEVS + 64)
/* Taps reach the tender at fixed descriptors: TAP_FD, TAP_FD + 1, ... */
#define TAP_FD 4

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

	/*
	 * By pid, never waitpid(-1): other backends' children (backend_exec)
	 * are theirs to reap.  One at a time, because reporting an exit may
	 * free h and boot another tender (a restart).
	 */
	for (;;) {
		LIST_FOREACH(h, &tenders, entry)
		{
			if (h->reaped)
				continue;
			while ((pid = waitpid(h->pid, &status, WNOHANG)) < 0 &&
			       errno == EINTR)
				;
			if (pid == h->pid)
				break;
		}
		if (h == NULL)
			return;
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

/*
 * The guest's network configuration, MirageOS style, for a service with a
 * net device and an IPv4 address: "--ipv4=ADDR/PREFIX" (a missing prefix
 * is /32) and "--ipv4-gateway=GW" when one is known.  Returns how many of
 * the two were written.
 */
static int
ipv4_args(const struct cfg_service *svc, char ip[64], char gw[64])
{
	const struct cfg_address *a;
	char buf[INET6_ADDRSTRLEN];

	TAILQ_FOREACH(a, &svc->addresses, entry)
	if (a->ip.af == AF_INET)
		break;
	if (a == NULL)
		return 0;
	snprintf(ip, 64, "--ipv4=%s/%d",
	    config_ip_str(&a->ip, buf, sizeof(buf)),
	    a->prefix >= 0 ? a->prefix : 32);
	if (a->gateway.af != AF_INET)
		return 1;
	snprintf(gw, 64, "--ipv4-gateway=%s",
	    config_ip_str(&a->gateway, buf, sizeof(buf)));
	return 2;
}

/*
 * The tap of net device d, the k-th of the service, in *tap, with its
 * two tender options.  The first one's name and MAC go to in.
 */
static int
open_tap(struct inst *in, const struct cfg_service *svc,
    const struct cfg_device *d, int k, int *tap, char names[][NETDEV_NAMESIZ],
    char *devarg, char *macarg, char *err, size_t errlen)
{
	char name[NETDEV_NAMESIZ], macs[NETDEV_MACSTR], why[200];
	uint8_t mac[6];
	int fd;

	netdev_mac(svc->name, k == 0 ? NULL : d->name, in->st.id, mac);
	/* The first device may have its tap made ahead (netdev_spare_*). */
	if ((k != 0 ||
	        (fd = netdev_spare_take(svc->name, in->st.id, name)) < 0) &&
	    (fd = netdev_tap_create(
	         svc->name, in->st.id, name, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "net device '%s': %s", d->name, why);
		return -1;
	}
	/* Above the descriptors the tender gets (3, TAP_FD...), so that no
	 * dup2 of the spawn lands on a tap still to be moved. */
	*tap = fcntl(fd, F_DUPFD_CLOEXEC, TAP_FD + MAX_DEVS);
	close(fd);
	if (*tap < 0) {
		snprintf(err, errlen, "net device '%s': %s", d->name,
		    strerror(errno));
		return -1;
	}
	snprintf(devarg, 300, "--net:%s=@%d", d->name, TAP_FD + k);
	snprintf(
	    macarg, 300, "--net-mac:%s=%s", d->name, netdev_mac_str(mac, macs));
	memcpy(names[k], name, NETDEV_NAMESIZ);
	if (k == 0) {
		memcpy(in->tap, name, sizeof(in->tap));
		memcpy(in->mac, mac, sizeof(in->mac));
	}
	return 0;
}

static int
hvt_boot(struct inst *in, const struct config *conf,
    const struct cfg_service *svc, bool paused, char *err, size_t errlen)
{
	char *argv[MAX_ARGS], mem[32], devs[MAX_DEVS][300], faultdir[300];
	char netargs[2 * MAX_DEVS][300], names[MAX_DEVS][NETDEV_NAMESIZ];
	const char *bridges[MAX_DEVS];
	char ctlfd_arg[] = "--control-fd=3", paused_arg[] = "--paused";
	char dashes[] = "--", ip4[64], gw4[64], argbuf[4096];
	size_t argused = 0;
	posix_spawn_file_actions_t fa;
	const struct cfg_device *d;
	struct hvt *h = NULL;
	int sv[2] = {-1, -1}, taps[MAX_DEVS], argc = 0, ndev = 0, ntap = 0;
	int nip = 0;
	uint64_t t0 = instance_clock();
	size_t i;

	in->tap[0] = '\0';
	TAILQ_FOREACH(d, &svc->devices, entry)
	{
		if (ndev + ntap == MAX_DEVS) {
			snprintf(err, errlen, "more than %d devices", MAX_DEVS);
			goto fail;
		}
		if (d->kind == CFG_DEV_NET) {
			if (open_tap(in, svc, d, ntap, &taps[ntap], names,
			        netargs[2 * ntap], netargs[2 * ntap + 1], err,
			        errlen) < 0)
				goto fail;
			bridges[ntap++] = d->bridge;
			continue;
		}
		snprintf(devs[ndev], sizeof(devs[ndev]), "--block:%s=%s",
		    d->name, d->path);
		ndev++;
	}
	in->net_create_us = (unsigned)((instance_clock() - t0) / 1000);
	if (ntap > 0)
		nip = ipv4_args(svc, ip4, gw4);
	if (svc->argc > (size_t)(MAX_ARGS - 10 - ndev - 2 * ntap - nip)) {
		snprintf(err, errlen, "too many arguments");
		goto fail;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->rd = malloc(sizeof(*h->rd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
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
	for (int j = 0; j < 2 * ntap; j++)
		argv[argc++] = netargs[j];
	argv[argc++] = dashes;
	argv[argc++] = svc->image;
	if (nip > 0)
		argv[argc++] = ip4;
	if (nip > 1)
		argv[argc++] = gw4;
	for (i = 0; i < svc->argc; i++) {
		/* "{instance}", "{service}", "{id}" (util.h); the expansions
		 * share one buffer, NUL-separated. */
		if (strchr(svc->argv[i], '{') == NULL) {
			argv[argc++] = svc->argv[i];
			continue;
		}
		if (expand_arg(svc->argv[i], in->st.service, in->st.id,
		        argbuf + argused, sizeof(argbuf) - argused) < 0) {
			snprintf(err, errlen,
			    "argument %zu too long once expanded", i + 1);
			goto fail;
		}
		argv[argc++] = argbuf + argused;
		argused += strlen(argbuf + argused) + 1;
	}
	argv[argc] = NULL;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	for (int j = 0; j < ntap; j++)
		posix_spawn_file_actions_adddup2(&fa, taps[j], TAP_FD + j);
	errno = posix_spawn(&h->pid, conf->tender, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno != 0) {
		snprintf(err, errlen, "%s: %s", conf->tender, strerror(errno));
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	/* Attach the taps while the tender loads on another core: it only
	 * needs them up by the time its guest sends (milliseconds away). */
	t0 = instance_clock();
	for (int j = 0; j < ntap; j++) {
		if (netdev_tap_attach(names[j], bridges[j], err, errlen) < 0) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			goto fail;
		}
	}
	in->net_attach_us = (unsigned)((instance_clock() - t0) / 1000);
	/* The tender holds the taps now: they end with it. */
	while (ntap > 0)
		close(taps[--ntap]);
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
	while (ntap > 0)
		close(taps[--ntap]); /* deletes the tap */
	in->tap[0] = '\0';
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (h == NULL)
		return -1;
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->kill_ev != NULL)
		event_free(h->kill_ev);
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
	case CFG_BACKEND_EXEC:
		return &backend_exec;
	case CFG_BACKEND_LIBVIRT:
		return &backend_libvirt;
	default:
		return NULL;
	}
}
