/*
 * control.c: the control socket: listening, peer credentials, line
 * framing, limits, and "logs -f" streaming.  The commands themselves are
 * in control_cmd.c, the request parser in control_req.c; the protocol is
 * docs/control-socket.md.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <json-c/json.h>

#include "control_int.h"
#include "log.h"
#include "registry.h"

int (*control_policy_test)(const char *policy, const char *trace, size_t len,
    struct json_object *out, char *err, size_t errlen);

/* The control socket registry_log_tap feeds (one per daemon). */
static struct control *tap_owner;

static void conn_free(struct conn *cn);

/* ---- replies ---- */

int
control_conn_send(struct conn *cn, struct json_object *o)
{
	struct evbuffer *out = bufferevent_get_output(cn->bev);
	size_t len;
	const char *s;

	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || evbuffer_add(out, s, len) < 0 ||
	    evbuffer_add(out, "\n", 1) < 0 ||
	    evbuffer_get_length(out) > CONTROL_MAX_OUTPUT) {
		/* A client that does not read is not worth our memory. */
		log_warnx("control: dropping client pid %ld: %zu bytes unread",
		    (long)cn->pid, evbuffer_get_length(out));
		conn_free(cn);
		return -1;
	}
	return 0;
}

/* A complete error line, for replies sent before any connection state. */
static int
error_line(char *buf, size_t len, enum control_code code, const char *msg)
{
	struct json_object *o = json_object_new_object();
	int n;

	if (o == NULL)
		return snprintf(buf, len, "{\"ok\":false}\n");
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "code", json_object_new_int(code));
	n = snprintf(buf, len, "%s\n",
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return n;
}

static int
send_error(struct conn *cn, enum control_code code, const char *msg)
{
	struct json_object *o = json_object_new_object();
	int rc;

	if (o == NULL) {
		conn_free(cn);
		return -1;
	}
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "code", json_object_new_int(code));
	rc = control_conn_send(cn, o);
	json_object_put(o);
	return rc;
}

/* ---- connections ---- */

static void
conn_free(struct conn *cn)
{
	struct control *c = cn->c;

	TAILQ_REMOVE(&c->conns, cn, entry);
	c->nconns--;
	bufferevent_free(cn->bev);
	free(cn);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;

	(void)bev;
	if (cn->closing)
		conn_free(cn);
}

/* Send what is queued, then close. */
static void
conn_close(struct conn *cn)
{
	cn->closing = true;
	bufferevent_disable(cn->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(cn->bev)) == 0)
		conn_free(cn);
}

/* Run one request line.  Returns -1 when cn is gone or closing. */
static int
conn_request(struct conn *cn, const char *line, size_t len)
{
	struct control_req req;
	const struct control_cmd *cmd;
	struct json_object *reply = NULL;
	enum control_code code;
	char err[512];
	int rc;

	if (control_req_parse(line, len, &req, err, sizeof(err)) < 0) {
		log_debug("control: bad request from pid %ld: %s",
		    (long)cn->pid, err);
		if (send_error(cn, CONTROL_EBADREQ, err) == 0)
			conn_close(cn);
		return -1;
	}
	if ((cmd = control_cmd_find(req.cmd)) == NULL) {
		snprintf(
		    err, sizeof(err), "unknown command \"%.64s\"", req.cmd);
		control_req_free(&req);
		return send_error(cn, CONTROL_EUNKNOWN, err);
	}
	log_debug("control: %s%s%s from pid %ld", cmd->name,
	    req.name != NULL ? " " : "", req.name != NULL ? req.name : "",
	    (long)cn->pid);
	if ((reply = json_object_new_object()) == NULL) {
		control_req_free(&req);
		conn_free(cn);
		return -1;
	}
	json_object_object_add(reply, "ok", json_object_new_boolean(1));
	err[0] = '\0';
	code = cmd->run(cn, &req, reply, err, sizeof(err));
	control_req_free(&req);
	if (code != CONTROL_OK) {
		json_object_put(reply);
		return send_error(cn, code, err[0] != '\0' ? err : "failed");
	}
	rc = control_conn_send(cn, reply);
	json_object_put(reply);
	if (rc == 0 && cn->follow) {
		/* From now on the client only listens: no idle timeout, but
		 * its EOF (reading stays on) ends the stream. */
		struct timeval wtv = {CONTROL_IDLE_S, 0};

		bufferevent_set_timeouts(cn->bev, NULL, &wtv);
	}
	return rc;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *cn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;
	int rc;

	while (!cn->closing) {
		if (cn->follow) {
			/* A follower has said all it will say. */
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) >= CONTROL_MAX_LINE) {
				char msg[80];

				snprintf(msg, sizeof(msg),
				    "request longer than %d bytes",
				    CONTROL_MAX_LINE - 1);
				if (send_error(cn, CONTROL_EBADREQ, msg) == 0)
					conn_close(cn);
			}
			return;
		}
		rc = conn_request(cn, line, len);
		free(line);
		if (rc < 0)
			return;
	}
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *cn = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;
	int rc;

	if (what & BEV_EVENT_TIMEOUT) {
		log_debug("control: client pid %ld timed out", (long)cn->pid);
		conn_free(cn);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_WRITING) &&
	    !cn->closing && !cn->follow) {
		/* A last request without its newline ("printf ... | nc"). */
		if ((len = evbuffer_get_length(in)) > 0 &&
		    (line = malloc(len + 1)) != NULL) {
			evbuffer_remove(in, line, len);
			line[len] = '\0';
			rc = conn_request(cn, line, len);
			free(line);
			if (rc < 0)
				return; /* gone, or closing already */
		}
		conn_close(cn);
		return;
	}
	conn_free(cn);
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct control *c = arg;
	struct conn *cn = NULL;
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	struct timeval tv = {CONTROL_IDLE_S, 0};
	char buf[256];
	int n;

	(void)lev, (void)sa, (void)salen;
	if (c->nconns >= CONTROL_MAX_CONNS) {
		/* Best effort: the socket is fresh, so this fits. */
		n = error_line(buf, sizeof(buf), CONTROL_EBUSY,
		    "too many control connections");
		if (n > 0 && write(fd, buf, (size_t)n) < 0)
			log_debug("control: busy reply: %s", strerror(errno));
		close(fd);
		log_warnx("control: connection refused: %d already open",
		    CONTROL_MAX_CONNS);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if ((cn = calloc(1, sizeof(*cn))) == NULL ||
	    (cn->bev = bufferevent_socket_new(
	         c->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("control: new connection");
		free(cn);
		close(fd);
		return;
	}
	cn->c = c;
	cn->uid = cred.uid;
	cn->pid = cred.pid;
	TAILQ_INSERT_TAIL(&c->conns, cn, entry);
	c->nconns++;
	bufferevent_setcb(cn->bev, on_read, on_write, on_event, cn);
	bufferevent_setwatermark(cn->bev, EV_READ, 0, CONTROL_MAX_LINE);
	bufferevent_set_timeouts(cn->bev, &tv, &tv);
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warnx("control: refused pid %ld: uid %lu is not served",
		    (long)cred.pid, (unsigned long)cred.uid);
		snprintf(buf, sizeof(buf),
		    "permission denied: uid %lu may not use this socket",
		    (unsigned long)cred.uid);
		if (send_error(cn, CONTROL_EPERM, buf) == 0) {
			bufferevent_enable(cn->bev, EV_WRITE);
			conn_close(cn);
		}
		return;
	}
	bufferevent_enable(cn->bev, EV_READ | EV_WRITE);
}

static void
on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd, (void)what;
	evconnlistener_enable(c->lev);
}

static void
on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct control *c = arg;
	struct timeval tv = {0, 100 * 1000};

	/* EMFILE and friends: the listener would spin; pause it a little. */
	log_warn("control: accept");
	evconnlistener_disable(lev);
	evtimer_add(c->resume_ev, &tv);
}

/* ---- logs -f ---- */

static void
on_log_line(struct svc *s, const struct svc_log_line *l)
{
	struct control *c = tap_owner;
	struct conn *cn, *next;
	struct json_object *o = NULL;

	if (c != NULL) {
		for (cn = TAILQ_FIRST(&c->conns); cn != NULL; cn = next) {
			next = TAILQ_NEXT(cn, entry);
			if (!cn->follow || cn->closing ||
			    strcmp(cn->follow_svc, s->name) != 0 ||
			    (cn->follow_id != 0 && cn->follow_id != l->id))
				continue;
			if (o == NULL && (o = control_log_line(s, l)) == NULL)
				break;
			control_conn_send(cn, o);
		}
		json_object_put(o);
		if (c->prev_tap != NULL)
			c->prev_tap(s, l);
	}
}

/* ---- the socket ---- */

/*
 * A socket file at path that nobody answers on is a leftover of a daemon
 * that died: remove it.  Anything else there is refused.
 */
static int
clear_stale(
    const char *path, const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc = -1;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS)
		snprintf(err, errlen,
		    "another summoner is running: it answers on %s", path);
	else if (errno != ECONNREFUSED)
		snprintf(err, errlen,
		    "%s: cannot tell whether it is in use: %s", path,
		    strerror(errno));
	else if (unlink(path) < 0 && errno != ENOENT)
		snprintf(
		    err, errlen, "%s: stale socket: %s", path, strerror(errno));
	else {
		log_info("control: removed the stale socket %s", path);
		rc = 0;
	}
	close(fd);
	return rc;
}

static int
listen_unix(struct control *c, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t mask;
	int fd = -1;

	if (strlen(c->path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path longer than %zu bytes", c->path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	strcpy(sun.sun_path, c->path);
	if (clear_stale(c->path, &sun, err, errlen) < 0)
		return -1;
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	/* No moment where the socket is open to others: the umask makes
	 * it 0600 from its creation, chmod only confirms. */
	mask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(mask);
		snprintf(err, errlen, "bind %s: %s", c->path, strerror(errno));
		goto fail;
	}
	umask(mask);
	if (chmod(c->path, 0600) < 0 || stat(c->path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		unlink(c->path);
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(fd, 32) < 0) {
		snprintf(
		    err, errlen, "listen %s: %s", c->path, strerror(errno));
		unlink(c->path);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

struct control *
control_new(struct event_base *base, struct registry *r, const char *path,
    char *err, size_t errlen)
{
	struct control *c = NULL;
	int fd = -1;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->base = base;
	c->reg = r;
	c->fd = -1;
	TAILQ_INIT(&c->conns);
	if (getcwd(c->cwd, sizeof(c->cwd)) == NULL)
		c->cwd[0] = '\0';
	if ((fd = listen_unix(c, err, errlen)) < 0)
		goto fail;
	c->fd = fd;
	if ((c->resume_ev = evtimer_new(base, on_resume, c)) == NULL ||
	    (c->lev = evconnlistener_new(base, on_accept, c,
	         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) ==
	        NULL) {
		snprintf(err, errlen, "%s: cannot listen", path);
		unlink(c->path);
		close(fd);
		goto fail;
	}
	evconnlistener_set_error_cb(c->lev, on_accept_error);
	c->prev_tap = registry_log_tap;
	registry_log_tap = on_log_line;
	tap_owner = c;
	log_info("control socket %s", path);
	return c;
fail:
	if (c != NULL) {
		if (c->resume_ev != NULL)
			event_free(c->resume_ev);
		free(c->path);
		free(c);
	}
	return NULL;
}

void
control_set_journal(struct control *c, struct journal *j)
{
	c->journal = j;
}

void
control_set_reload(struct control *c,
    int (*reload)(void *arg, char *err, size_t errlen), void *arg)
{
	c->reload = reload;
	c->reload_arg = arg;
}

void
control_set_config(struct control *c, const struct config *conf)
{
	c->conf = conf;
}

const char *
control_path(const struct control *c)
{
	return c->path;
}

void
control_free(struct control *c)
{
	struct conn *cn;
	struct stat st;

	if (c == NULL)
		return;
	while ((cn = TAILQ_FIRST(&c->conns)) != NULL)
		conn_free(cn);
	if (tap_owner == c) {
		registry_log_tap = c->prev_tap;
		tap_owner = NULL;
	}
	evconnlistener_free(c->lev);
	event_free(c->resume_ev);
	/* Another daemon may have taken the path over since: leave its. */
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}
