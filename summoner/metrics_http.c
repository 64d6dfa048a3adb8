/*
 * metrics_http.c: GET /metrics over HTTP/1.1 with libevent's evhttp, on
 * the daemon's loop (metrics.h).
 *
 * libevent 2.1 has no cap on an evhttp's connections, so the count is
 * kept here.  bev_cb() sees every accepted connection first (it makes
 * its bufferevent); once evhttp has built its connection around it, in
 * the same turn of the loop, adopt_cb() finds that connection as the
 * bufferevent's callback argument and sets a close callback on it, which
 * evhttp calls whenever it frees one.  At METRICS_MAX_CONNS the listener
 * stops accepting (new clients wait in the kernel's backlog) until one
 * closes; evhttp's own timeout closes connections idle for
 * METRICS_IDLE_S.  The DNS loop never waits on a client: the page is
 * built from memory and written without blocking.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "log.h"
#include "metrics.h"
#include "server.h"

#define METRICS_MAX_CONNS 32
#define METRICS_IDLE_S    10
#define METRICS_MAX_HDRS  8192 /* request line and headers */
#define METRICS_MAX_BODY  4096 /* read, then answered 405 */

struct metrics {
	struct event_base *base;
	const struct registry *reg;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *adopt_ev;
	/* accepted this turn, waiting for adopt_cb(): each holds a
	 * reference, so it outlives even a connection freed meanwhile */
	struct bufferevent *fresh[METRICS_MAX_CONNS];
	unsigned nfresh;
	struct cfg_ip ip;
	uint16_t port;
	unsigned nconns;
	bool paused;  /* the listener is disabled: nconns at the cap */
	bool closing; /* metrics_free(): evhttp_free() closes them all */
};

static void
conn_gone(struct metrics *m)
{
	if (m->closing || m->nconns == 0)
		return;
	m->nconns--;
	if (m->paused && m->nconns < METRICS_MAX_CONNS) {
		m->paused = false;
		evconnlistener_enable(
		    evhttp_bound_socket_get_listener(m->bound));
	}
}

static void
close_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_gone(arg);
}

/* The connections accepted this turn: evhttp has made them by now. */
static void
adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *cbarg;
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i < m->nfresh; i++) {
		bufferevent_getcb(m->fresh[i], &rd, &wr, &ev, &cbarg);
		/* evhttp points every callback of its connection's
		 * bufferevent at the connection; bufferevent_free() clears
		 * them, so none means it has ended already. */
		if (cbarg != NULL && ev != NULL)
			evhttp_connection_set_closecb(cbarg, close_cb, m);
		else
			conn_gone(m);
		bufferevent_decref(m->fresh[i]);
	}
	m->nfresh = 0;
}

/* A connection was accepted: make its bufferevent, and count it. */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct bufferevent *bev;

	/* The listener is off at the cap, so fresh has room; NULL has evhttp
	 * make one itself (uncounted), as on any failure here. */
	if (m->nfresh == METRICS_MAX_CONNS ||
	    (bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	        NULL)
		return NULL;
	bufferevent_incref(bev);
	m->fresh[m->nfresh++] = bev;
	event_active(m->adopt_ev, EV_TIMEOUT, 0);
	if (++m->nconns >= METRICS_MAX_CONNS && !m->paused) {
		m->paused = true;
		evconnlistener_disable(
		    evhttp_bound_socket_get_listener(m->bound));
	}
	return bev;
}

static void
reply_text(
    struct evhttp_request *req, int code, const char *reason, const char *text)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, code, reason, body);
	if (body != NULL)
		evbuffer_free(body);
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body;
	size_t len;
	char *page;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		reply_text(req, HTTP_NOTFOUND, "Not Found",
		    "not found: the metrics are at /metrics");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed",
		    "method not allowed: GET or HEAD");
		return;
	}
	if ((page = metrics_page(m->reg, &len)) == NULL ||
	    (body = evbuffer_new()) == NULL) {
		free(page);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error",
		    "out of memory");
		return;
	}
	evhttp_add_header(h, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add(body, page, len);
	free(page);
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

int
metrics_listen(struct metrics **mp, struct event_base *base,
    const struct registry *r, const struct config *conf, char *err,
    size_t errlen)
{
	struct metrics *m = NULL;
	char abuf[INET6_ADDRSTRLEN];
	int fd = -1;

	*mp = NULL;
	if (conf->metrics_ip.af == 0)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	m->base = base;
	m->reg = r;
	if ((m->adopt_ev = event_new(base, -1, 0, adopt_cb, m)) == NULL) {
		snprintf(err, errlen, "event set-up failed");
		goto fail;
	}
	m->ip = conf->metrics_ip;
	m->port = conf->metrics_port;
	if ((fd = server_bind(&m->ip, m->port, SOCK_STREAM, err, errlen)) < 0)
		goto fail;
	if ((m->http = evhttp_new(base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		goto fail;
	}
	/* Every method reaches request_cb, which answers 405 itself (evhttp
	 * would say 501 for one it was not told about). */
	evhttp_set_allowed_methods(m->http,
	    EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(m->http, METRICS_IDLE_S);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HDRS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_gencb(m->http, request_cb, m);
	evhttp_set_bevcb(m->http, bev_cb, m);
	if ((m->bound = evhttp_accept_socket_with_handle(m->http, fd)) ==
	    NULL) {
		snprintf(err, errlen, "evhttp_accept_socket failed");
		goto fail;
	}
	fd = -1; /* the bound socket's now */
	log_info("metrics on http://%s%s%s:%u/metrics",
	    m->ip.af == AF_INET6 ? "[" : "",
	    config_ip_str(&m->ip, abuf, sizeof(abuf)),
	    m->ip.af == AF_INET6 ? "]" : "", m->port);
	*mp = m;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (m != NULL && m->http != NULL)
		evhttp_free(m->http);
	if (m != NULL && m->adopt_ev != NULL)
		event_free(m->adopt_ev);
	free(m);
	return -1;
}

void
metrics_reloaded(const struct metrics *m, const struct config *conf)
{
	char abuf[INET6_ADDRSTRLEN];

	if (m == NULL && conf->metrics_ip.af == 0)
		return;
	if (m != NULL && config_ip_eq(&m->ip, &conf->metrics_ip) &&
	    m->port == conf->metrics_port)
		return;
	if (m == NULL)
		log_warnx("metrics turned on: the endpoint opens when the "
		          "summoner is restarted");
	else
		log_warnx("metrics address changed: the endpoint stays on %s "
		          "port %u until the summoner is restarted",
		    config_ip_str(&m->ip, abuf, sizeof(abuf)), m->port);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	adopt_cb(-1, 0, m); /* drop the references of this turn's */
	m->closing = true;
	evhttp_free(m->http);
	event_free(m->adopt_ev);
	free(m);
}
