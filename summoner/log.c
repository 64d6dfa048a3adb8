/* log.c: see log.h. */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_name = "summoner";
static int log_level = LOG_LEVEL_INFO;
static bool log_syslog;
static bool log_journal; /* stderr is systemd's journal stream */

/*
 * Under systemd, stderr is a stream into the journal and JOURNAL_STREAM
 * names it ("DEV:INODE").  Lines that begin "<N>" there get priority N
 * (sd-daemon.h), so warnings stay warnings in `journalctl -p`.  Checked
 * against stderr itself: a child that inherited the variable but not the
 * stream must not print the prefixes to a terminal.
 */
static bool
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%ju:%ju", &dev, &ino) != 2 ||
	    fstat(2, &st) < 0)
		return false;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_init(const char *name, int level, bool use_syslog)
{
	log_name = name;
	log_level = level;
	log_syslog = use_syslog;
	log_journal = !use_syslog && stderr_is_journal();
	if (use_syslog)
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_getlevel(void)
{
	return log_level;
}

static void
vlog(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_syslog) {
		if (suffix != NULL)
			syslog(prio, "%s: %s", msg, suffix);
		else
			syslog(prio, "%s", msg);
		return;
	}
	if (log_journal) /* the journal names the unit: no name either */
		fprintf(stderr, "<%d>%s%s%s\n", prio, msg, suffix ? ": " : "",
		    suffix ? suffix : "");
	else if (suffix != NULL)
		fprintf(stderr, "%s: %s: %s\n", log_name, msg, suffix);
	else
		fprintf(stderr, "%s: %s\n", log_name, msg);
}

void
log_warn(const char *fmt, ...)
{
	const char *err = strerror(errno); /* the daemon is one thread */
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, err);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, err);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
