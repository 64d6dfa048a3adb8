/*
 * heartbeat.c: readiness, beats, status and log lines.
 *
 * Every message is built on the stack and handed to the transport in one
 * piece, so the host never sees half a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hb_int.h"

static const struct hb_transport *transport = &hb_transport_hvt;
static uint64_t beat_seq;
static uint32_t conns;
static int conns_set;

void
hb_set_transport(const struct hb_transport *t)
{
	transport = t != NULL ? t : &hb_transport_hvt;
}

const struct hb_transport *
hb__transport(void)
{
	return transport;
}

static int
send_msg(const char *msg, size_t len)
{
	return transport->notify(msg, len);
}

int
hb_ready(void)
{
	static const char msg[] = "READY=1\n";

	return send_msg(msg, sizeof(msg) - 1);
}

void
hb_conns(uint32_t n)
{
	conns = n;
	conns_set = 1;
}

int
hb_beat(uint64_t progress)
{
	char msg[128];
	int n;

	beat_seq++;
	if (conns_set)
		n = hb_snprintf(msg, sizeof(msg),
		    "WATCHDOG=1\nX_SEQ=%llu\nX_PROGRESS=%llu\nX_CONNS=%llu\n",
		    (unsigned long long)beat_seq, (unsigned long long)progress,
		    (unsigned long long)conns);
	else
		n = hb_snprintf(msg, sizeof(msg),
		    "WATCHDOG=1\nX_SEQ=%llu\nX_PROGRESS=%llu\n",
		    (unsigned long long)beat_seq, (unsigned long long)progress);
	return send_msg(msg, (size_t)n); /* at most ~100 bytes: never cut */
}

static int
key_valid(const char *key)
{
	size_t i;

	if (!(key[0] >= 'A' && key[0] <= 'Z'))
		return 0;
	for (i = 1; key[i] != '\0'; i++) {
		char c = key[i];

		if (i >= HB_KEY_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '_'))
			return 0;
	}
	return 1;
}

/* KEY=VALUE with at most maxval bytes of value (and always the newline). */
static int
send_kv(const char *key, const char *value, size_t maxval)
{
	char msg[HB_MSG_MAX];
	size_t n = 0, v = 0;

	if (key == NULL || !key_valid(key))
		return -1;
	if (value == NULL)
		value = "";
	while (*key != '\0')
		msg[n++] = *key++;
	msg[n++] = '=';
	/* A newline would end the value early; NUL cannot occur in a string. */
	for (; value[v] != '\0' && v < maxval && n < sizeof(msg) - 1; v++)
		msg[n++] = value[v] == '\n' ? ' ' : value[v];
	msg[n++] = '\n';
	return send_msg(msg, n);
}

int
hb_send(const char *key, const char *value)
{
	return send_kv(key, value, HB_MSG_MAX);
}

int
hb_status(const char *text)
{
	return send_kv("STATUS", text, HB_STATUS_MAX);
}

int
hb_vlog(const char *fmt, va_list ap)
{
	char line[HB_MSG_MAX];
	int r;
	size_t n;

	r = hb_vsnprintf(line, sizeof(line), fmt, ap);
	n = r < 0 ? 0 : (size_t)r;
	if (n > sizeof(line) - 1)
		n = sizeof(line) - 1;
	/*
	 * One line: drop trailing newlines, blank out embedded ones and NULs
	 * (a %c of 0 can produce one).
	 */
	while (n > 0 && line[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\0')
			line[i] = ' ';
	return transport->log(line, n);
}

int
hb_log(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = hb_vlog(fmt, ap);
	va_end(ap);
	return r;
}
