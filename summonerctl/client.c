/*
 * client.c: summonerctl's end of the control socket (one JSON object per
 * line each way, docs/control-socket.md) and the output helpers the
 * commands share.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "summonerctl.h"

#define MAX_REPLY (64 * 1024 * 1024) /* a line from the daemon */

int
ctl_connect(struct ctl *c)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(c->socket) >= sizeof(sun.sun_path)) {
		fprintf(stderr,
		    "summonerctl: cannot reach the summoner at %s: path too "
		    "long\n",
		    c->socket);
		return EXIT_UNREACHABLE;
	}
	strcpy(sun.sun_path, c->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "summonerctl: socket: %s\n", strerror(errno));
		return EXIT_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		fprintf(stderr,
		    "summonerctl: cannot reach the summoner at %s: "
		    "%s%s\n",
		    c->socket, strerror(e),
		    e == ENOENT         ? " (is it running? -s SOCKET or "
		                          "$SUMMONER_SOCKET name another socket)"
		    : e == ECONNREFUSED ? " (a stale socket: the summoner "
		                          "that made it is gone)"
		    : e == EACCES       ? " (the socket is for root and the "
		                          "summoner's user only)"
		                        : "");
		close(fd);
		return EXIT_UNREACHABLE;
	}
	c->fd = fd;
	return EXIT_OK;
}

void
ctl_close(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

int
ctl_send(struct ctl *c, struct json_object *req)
{
	const char *s;
	size_t len, off = 0;
	ssize_t n;
	char *line = NULL;
	int rc = EXIT_UNREACHABLE;

	s = json_object_to_json_string_length(
	    req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || (line = malloc(len + 1)) == NULL) {
		fprintf(stderr, "summonerctl: out of memory\n");
		goto out;
	}
	memcpy(line, s, len);
	line[len++] = '\n';
	while (off < len) {
		n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			/* Refused at once (too many clients, wrong uid): the
			 * reason is waiting to be read. */
			c->send_errno = errno;
			rc = EXIT_OK;
			goto out;
		}
		if (n < 0) {
			fprintf(stderr,
			    "summonerctl: sending to the summoner at %s: %s\n",
			    c->socket, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	rc = EXIT_OK;
out:
	free(line);
	json_object_put(req);
	return rc;
}

static struct json_object *
parse_line(const char *s, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;

	if (tok != NULL && len < INT_MAX)
		o = json_tokener_parse_ex(tok, s, (int)len);
	if (tok != NULL)
		json_tokener_free(tok);
	return o;
}

int
ctl_recv(struct ctl *c, struct json_object **reply)
{
	char *nl;
	ssize_t n;
	size_t linelen;

	*reply = NULL;
	while (
	    (nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL) == NULL) {
		if (c->len == c->cap) {
			size_t cap = c->cap == 0 ? 65536 : c->cap * 2;
			char *b;

			if (cap > MAX_REPLY ||
			    (b = realloc(c->buf, cap)) == NULL) {
				fprintf(stderr, "summonerctl: the summoner's "
				                "reply is too long\n");
				return EXIT_UNREACHABLE;
			}
			c->buf = b;
			c->cap = cap;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (c->send_errno != 0)
				fprintf(stderr,
				    "summonerctl: sending to the summoner at "
				    "%s: %s\n",
				    c->socket, strerror(c->send_errno));
			else
				fprintf(stderr,
				    "summonerctl: the summoner at %s %s "
				    "without answering\n",
				    c->socket,
				    n == 0 ? "closed the connection"
				           : strerror(errno));
			return EXIT_UNREACHABLE;
		}
		c->len += (size_t)n;
	}
	linelen = (size_t)(nl - c->buf);
	*reply = parse_line(c->buf, linelen);
	memmove(c->buf, nl + 1, c->len - linelen - 1);
	c->len -= linelen + 1;
	if (*reply == NULL || !json_object_is_type(*reply, json_type_object)) {
		fprintf(stderr,
		    "summonerctl: the summoner sent something that is not a "
		    "JSON object\n");
		json_object_put(*reply);
		*reply = NULL;
		return EXIT_UNREACHABLE;
	}
	return EXIT_OK;
}

int
ctl_request(struct ctl *c, struct json_object *req, struct json_object **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = ctl_send(c, req)) != EXIT_OK)
		return rc;
	return ctl_recv(c, reply);
}

int
ctl_simple(struct ctl *c, struct json_object *req, struct json_object **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = ctl_connect(c)) != EXIT_OK) {
		json_object_put(req);
		return rc;
	}
	if ((rc = ctl_request(c, req, reply)) != EXIT_OK)
		return rc;
	if (c->json)
		ctl_print_json(*reply);
	if (!jb(*reply, "ok")) {
		fprintf(stderr, "summonerctl: %s\n",
		    js(*reply, "error")[0] != '\0' ? js(*reply, "error")
		                                   : "the request failed");
		json_object_put(*reply);
		*reply = NULL;
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

int
cmd_action(struct ctl *c, const struct cmd_entry *e, int argc, char **argv,
    const char *done)
{
	struct json_object *reply;
	char **args;
	int rc, nargs;

	if ((rc = cmd_parse(e, argc, argv, ":", NULL, NULL, &args, &nargs)) !=
	    EXIT_OK)
		return rc;
	if ((rc = ctl_simple(c, ctl_req(e->name, args[0]), &reply)) ==
	        EXIT_OK &&
	    !c->json)
		printf("%s: %s\n", args[0], done);
	json_object_put(reply);
	return rc;
}

struct json_object *
ctl_req(const char *cmd, const char *name)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL) {
		fprintf(stderr, "summonerctl: out of memory\n");
		exit(EXIT_REFUSED);
	}
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	if (name != NULL)
		json_object_object_add(o, "name", json_object_new_string(name));
	return o;
}

/* ---- output ---- */

/* Without NOSLASHESCAPE json-c writes "\/": paths stay readable. */
void
ctl_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
}

const char *
js(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return "";
	return json_object_get_string(v);
}

int64_t
ji(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	return json_object_get_int64(v);
}

bool
jb(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return false;
	return json_object_get_boolean(v);
}

bool
jnull(struct json_object *o, const char *key)
{
	struct json_object *v;

	return !json_object_object_get_ex(o, key, &v) || v == NULL;
}

struct json_object *
ja(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

const char *
fmt_ms(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)s,
		    (unsigned long long)(ms % 1000 / 100));
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
	return buf;
}

const char *
fmt_wall(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)ms);
	else
		snprintf(buf, len, "%s.%03u", s, (unsigned)(ms % 1000));
	return buf;
}

struct table {
	unsigned ncols, nrows, cap;
	char **cells; /* nrows * ncols */
};

struct table *
table_new(unsigned ncols)
{
	struct table *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		fprintf(stderr, "summonerctl: out of memory\n");
		exit(EXIT_REFUSED);
	}
	t->ncols = ncols;
	return t;
}

void
table_add(struct table *t, ...)
{
	const char *cols[16];
	va_list ap;
	unsigned i;

	va_start(ap, t);
	for (i = 0; i < t->ncols && i < 16; i++)
		cols[i] = va_arg(ap, const char *);
	va_end(ap);
	table_addv(t, cols);
}

void
table_addv(struct table *t, const char *const *cols)
{
	unsigned i;
	const char *s;

	if (t->nrows == t->cap) {
		unsigned cap = t->cap == 0 ? 16 : t->cap * 2;
		char **cells = reallocarray(
		    t->cells, (size_t)cap * t->ncols, sizeof(char *));

		if (cells == NULL) {
			fprintf(stderr, "summonerctl: out of memory\n");
			exit(EXIT_REFUSED);
		}
		t->cells = cells;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++) {
		s = cols[i];
		if ((t->cells[t->nrows * t->ncols + i] = strdup(
		         s != NULL && s[0] != '\0' ? s : "-")) == NULL) {
			fprintf(stderr, "summonerctl: out of memory\n");
			exit(EXIT_REFUSED);
		}
	}
	t->nrows++;
}

void
svc_rows(struct table *t, struct json_object *svcs, unsigned nextra,
    const char *(*extra)(
        struct json_object *s, unsigned i, char *buf, size_t len))
{
	struct json_object *s, *insts, *in;
	const char *cols[SVC_ROW_COLS + 4], *own[4];
	char up[32], beat[32], faults[24], bufs[4][64];
	size_t i, k, n;
	unsigned e;

	if (nextra > 4)
		nextra = 4;
	for (i = 0; svcs != NULL && i < json_object_array_length(svcs); i++) {
		s = json_object_array_get_idx(svcs, i);
		insts = ja(s, "instances");
		n = insts != NULL ? json_object_array_length(insts) : 0;
		snprintf(
		    faults, sizeof(faults), "%lld", (long long)ji(s, "faults"));
		for (e = 0; e < nextra; e++)
			own[e] = extra(s, e, bufs[e], sizeof(bufs[e]));
		cols[0] = js(s, "name");
		cols[5] = faults;
		for (e = 0; e < nextra; e++)
			cols[SVC_ROW_COLS + e] = own[e];
		if (n == 0) {
			cols[1] = "-";
			cols[2] = jb(s, "retired") ? "retired" : "-";
			cols[3] = cols[4] = "-";
			table_addv(t, cols);
			continue;
		}
		for (k = 0; k < n; k++) {
			in = json_object_array_get_idx(insts, k);
			fmt_ms((uint64_t)ji(in, "uptime_ms"), up, sizeof(up));
			if (jnull(in, "last_beat_ms"))
				snprintf(beat, sizeof(beat), "-");
			else
				fmt_ms((uint64_t)ji(in, "last_beat_ms"), beat,
				    sizeof(beat));
			if (k ==
			    1) { /* the service's own: its first row only */
				cols[0] = cols[5] = "";
				for (e = 0; e < nextra; e++)
					cols[SVC_ROW_COLS + e] = "";
			}
			cols[1] = js(in, "name");
			cols[2] = jb(in, "warm") ? "warm" : js(in, "state");
			cols[3] = up;
			cols[4] = beat;
			table_addv(t, cols);
		}
	}
}

void
table_print(struct table *t)
{
	size_t w[16] = {0}, l;
	unsigned r, i;
	char *cell;

	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols && i < 16; i++)
			if ((l = strlen(t->cells[r * t->ncols + i])) > w[i])
				w[i] = l;
	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			if (i + 1 == t->ncols)
				printf("%s\n", cell);
			else
				printf("%-*s  ", (int)w[i < 16 ? i : 15], cell);
			free(cell);
		}
	}
	free(t->cells);
	free(t);
}

void
kv(const char *key, const char *fmt, ...)
{
	va_list ap;
	char k[64];

	snprintf(k, sizeof(k), "%s:", key);
	printf("%-16s", k);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

long
parse_count(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > INT_MAX)
		return -1;
	return n;
}
