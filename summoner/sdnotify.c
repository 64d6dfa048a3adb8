/* sdnotify.c: see sdnotify.h.  libsystemd's sd_notify() does the socket
 * work (abstract or path NOTIFY_SOCKET, credentials). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "sdnotify.h"

static struct event *wd_ev;

static void
wd_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sd_notify(0, "WATCHDOG=1");
}

int
sdn_ready(struct event_base *base, const char *status)
{
	uint64_t usec = 0;
	struct timeval tv;
	int r;

	r = sd_notifyf(
	    0, "READY=1\nSTATUS=%s\nMAINPID=%ld", status, (long)getpid());
	if (r < 0)
		log_warnx("service manager: cannot notify: %s", strerror(-r));
	/* 0 with WATCHDOG_PID naming another process: not ours to ping. */
	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((wd_ev = event_new(base, -1, EV_PERSIST, wd_cb, NULL)) == NULL ||
	    event_add(wd_ev, &tv) < 0) {
		log_warnx("service manager: cannot start the watchdog pings");
		sdn_free();
		return -1;
	}
	sd_notify(0, "WATCHDOG=1");
	log_info(
	    "service manager: watchdog ping every %" PRIu64 " ms", usec / 1000);
	return 0;
}

void
sdn_reloading(void)
{
	struct timespec ts;

	/* MONOTONIC_USEC lets Type=notify-reload managers (systemd 253+)
	 * match the READY=1 that follows; older ones ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

void
sdn_reloaded(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void
sdn_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping every instance");
}

void
sdn_free(void)
{
	if (wd_ev != NULL)
		event_free(wd_ev);
	wd_ev = NULL;
}
