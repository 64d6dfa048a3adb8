/*
 * log.h: the daemon's logging, in the habit of OpenBSD's daemons.
 *
 * log_warn appends strerror(errno); log_warnx does not.  fatal/fatalx are
 * for start-up and broken internal invariants only: nothing a guest, a
 * packet or a client sends may reach them.  The level is checked before
 * anything is formatted.
 */
#ifndef SUMMONER_LOG_H
#define SUMMONER_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

/* Log as "name" at "level" to stderr, or to syslog when use_syslog. */
void log_init(const char *name, int level, bool use_syslog);

/* Current level (for callers that would do work only to log it). */
int log_getlevel(void);

void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* SUMMONER_LOG_H */
