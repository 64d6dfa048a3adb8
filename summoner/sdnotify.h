/*
 * sdnotify.h: telling a service manager (systemd, Type=notify) what the
 * daemon is doing.
 *
 * READY=1 once the summoner listens and has recovered its instances,
 * RELOADING=1 then READY=1 around a configuration reload, STOPPING=1 when
 * it begins to stop, and WATCHDOG=1 from the event loop itself at half the
 * interval the manager asked for: a loop stuck for WatchdogSec stops the
 * pings and the manager restarts the daemon.  Without NOTIFY_SOCKET in the
 * environment (not started by a manager) every call does nothing.
 */
#ifndef SUMMONER_SDNOTIFY_H
#define SUMMONER_SDNOTIFY_H

struct event_base;

/* Say READY=1 with status, and start the watchdog pings on base when the
 * manager asked for them.  0, or -1 (logged) when the timer could not be
 * set up; the daemon goes on either way. */
int sdn_ready(struct event_base *base, const char *status);
/* A reload begins (RELOADING=1) / ended, well or not (READY=1, status). */
void sdn_reloading(void);
void sdn_reloaded(const char *status);
/* Stopping begins (STOPPING=1). */
void sdn_stopping(void);
/* Free the watchdog timer (before the event base is freed). */
void sdn_free(void);

#endif /* SUMMONER_SDNOTIFY_H */
