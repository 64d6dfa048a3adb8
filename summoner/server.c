/*
 * server.c: the DNS front end on the event loop.
 *
 * UDP: each wake-up takes up to UDP_BATCH datagrams with one recvmmsg(),
 * answers them, and sends the answers with one sendmmsg().  TCP: one
 * bufferevent per connection; queries are length-prefixed and may be
 * pipelined; answers to held queries go out when they are ready, so they
 * may come out of order (RFC 7766 allows it; the id tells them apart).
 * Idle connections are closed after TCP_IDLE_S seconds without a query
 * and with nothing pending.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "registry.h"
#include "server.h"

#define UDP_BATCH       64
#define UDP_ROUNDS      8 /* batches per wake-up, then yield */
#define UDP_RCVBUF      (4 << 20)
#define TCP_IDLE_S      10 /* RFC 7766 suggests some seconds */
#define TCP_MAX_CONNS   512
#define TCP_MAX_PENDING 64        /* held queries per connection */
#define TCP_MAX_OUTPUT  (1 << 20) /* unread answers before we give up */
#define ACCEPT_PAUSE_MS 100       /* after EMFILE and friends */

struct listener {
	TAILQ_ENTRY(listener) entry;
	struct server *srv;
	struct cfg_ip ip;
	uint16_t port;
	int udp_fd, tcp_fd;
	struct event *udp_ev, *tcp_ev, *pause_ev;
	unsigned refs; /* the server's, plus one per held UDP query */
	bool keep;
};

struct tcpconn {
	TAILQ_ENTRY(tcpconn) entry;
	struct server *srv;
	struct bufferevent *bev;
	struct sockaddr_storage peer;
	unsigned refs; /* the connection's own, plus one per held query */
	unsigned pending;
	bool closed;
};

struct server {
	struct event_base *base;
	struct registry *reg;
	struct dns_zones *zones;
	TAILQ_HEAD(, listener) listeners;
	TAILQ_HEAD(, tcpconn) conns;
	unsigned nconns;
	struct server_stats stats;
	/* UDP batch buffers: one set, the loop is single-threaded. */
	struct mmsghdr in_msgs[UDP_BATCH], out_msgs[UDP_BATCH];
	struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
	struct sockaddr_storage peers[UDP_BATCH];
	uint8_t in_buf[UDP_BATCH][DNS_TCP_MAX];
	uint8_t out_buf[UDP_BATCH][DNS_EDNS_SIZE];
	uint8_t tcp_in[DNS_TCP_MAX], tcp_out[2 + DNS_TCP_MAX];
};

static void listener_put(struct listener *l);
static void conn_put(struct tcpconn *c);

static struct dns_service_lookup
lookup_of(struct server *s)
{
	struct dns_service_lookup lk = {registry_lookup, s->reg};

	return lk;
}

/* A query that needs a boot: keep it with the registry, or SERVFAIL. */
static struct held *
held_new(const struct dns_question *q, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct held *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->q = *q;
	h->t_arrival = instance_clock();
	if (peerlen > sizeof(h->peer))
		peerlen = sizeof(h->peer);
	memcpy(&h->peer, peer, peerlen);
	h->peerlen = peerlen;
	return h;
}

/* ---- UDP ---- */

static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct server *s = l->srv;
	struct dns_service_lookup lk = lookup_of(s);
	struct dns_question q;
	int n, nout, sent;

	(void)what;
	for (int round = 0; round < UDP_ROUNDS; round++) {
		for (int i = 0; i < UDP_BATCH; i++) {
			s->in_iov[i].iov_base = s->in_buf[i];
			s->in_iov[i].iov_len = sizeof(s->in_buf[i]);
			memset(&s->in_msgs[i].msg_hdr, 0,
			    sizeof(s->in_msgs[i].msg_hdr));
			s->in_msgs[i].msg_hdr.msg_iov = &s->in_iov[i];
			s->in_msgs[i].msg_hdr.msg_iovlen = 1;
			s->in_msgs[i].msg_hdr.msg_name = &s->peers[i];
			s->in_msgs[i].msg_hdr.msg_namelen = sizeof(s->peers[i]);
		}
		n = recvmmsg(fd, s->in_msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				log_warn("udp recvmmsg");
			return;
		}
		nout = 0;
		for (int i = 0; i < n; i++) {
			size_t outlen = 0;
			struct sockaddr *peer = (struct sockaddr *)&s->peers[i];
			socklen_t plen = s->in_msgs[i].msg_hdr.msg_namelen;
			enum dns_verdict v;
			struct held *h;

			s->stats.udp_queries++;
			v = dns_answer(s->zones, s->in_buf[i],
			    s->in_msgs[i].msg_len, DNS_UDP, s->out_buf[nout],
			    sizeof(s->out_buf[nout]), &outlen, &q, &lk);
			if (v == DNS_HOLD) {
				h = held_new(&q, peer, plen);
				if (h != NULL) {
					h->udp = l;
					l->refs++;
					if (registry_hold(s->reg, q.service, h,
					        peer) == 0) {
						s->stats.held++;
						continue;
					}
					l->refs--;
					free(h);
				}
				v = dns_answer_servfail(&q, s->out_buf[nout],
				    sizeof(s->out_buf[nout]), &outlen);
			}
			metrics_dns_query(&q, v, s->out_buf[nout], outlen);
			if (v != DNS_REPLY) {
				s->stats.dropped++;
				continue;
			}
			s->out_iov[nout].iov_base = s->out_buf[nout];
			s->out_iov[nout].iov_len = outlen;
			memset(&s->out_msgs[nout].msg_hdr, 0,
			    sizeof(s->out_msgs[nout].msg_hdr));
			s->out_msgs[nout].msg_hdr.msg_iov = &s->out_iov[nout];
			s->out_msgs[nout].msg_hdr.msg_iovlen = 1;
			s->out_msgs[nout].msg_hdr.msg_name = peer;
			s->out_msgs[nout].msg_hdr.msg_namelen = plen;
			nout++;
		}
		for (int off = 0; off < nout; off += sent) {
			sent = sendmmsg(fd, s->out_msgs + off,
			    (unsigned)(nout - off), MSG_DONTWAIT);
			if (sent <= 0) {
				if (sent < 0 && errno == EINTR) {
					sent = 0;
					continue;
				}
				/* A full socket buffer drops answers, as a
				 * lost datagram would. */
				s->stats.dropped += (uint64_t)(nout - off);
				break;
			}
		}
		if (n < UDP_BATCH)
			return;
	}
}

/* ---- TCP ---- */

static void
conn_close(struct tcpconn *c)
{
	struct server *s = c->srv;

	if (c->closed)
		return;
	c->closed = true;
	TAILQ_REMOVE(&s->conns, c, entry);
	s->nconns--;
	bufferevent_free(c->bev);
	c->bev = NULL;
	conn_put(c);
}

static void
conn_put(struct tcpconn *c)
{
	if (--c->refs == 0)
		free(c);
}

static void
conn_send(struct tcpconn *c, const uint8_t *msg, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	if (evbuffer_get_length(out) > TCP_MAX_OUTPUT) {
		/* The client does not read its answers. */
		conn_close(c);
		return;
	}
	evbuffer_add(out, pre, 2);
	evbuffer_add(out, msg, len);
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct tcpconn *c = arg;
	struct server *s = c->srv;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct dns_service_lookup lk = lookup_of(s);
	struct dns_question q;
	uint8_t pre[2];
	size_t len, outlen;
	enum dns_verdict v;
	struct held *h;

	while (!c->closed && c->pending < TCP_MAX_PENDING &&
	       evbuffer_get_length(in) >= 2) {
		evbuffer_copyout(in, pre, 2);
		len = (size_t)pre[0] << 8 | pre[1];
		if (evbuffer_get_length(in) < 2 + len)
			break;
		evbuffer_drain(in, 2);
		evbuffer_remove(in, s->tcp_in, len);
		s->stats.tcp_queries++;
		v = dns_answer(s->zones, s->tcp_in, len, DNS_TCP, s->tcp_out,
		    DNS_TCP_MAX, &outlen, &q, &lk);
		if (v == DNS_HOLD) {
			h = held_new(
			    &q, (struct sockaddr *)&c->peer, sizeof(c->peer));
			if (h != NULL) {
				h->conn = c;
				c->refs++;
				c->pending++;
				if (registry_hold(s->reg, q.service, h,
				        (struct sockaddr *)&c->peer) == 0) {
					s->stats.held++;
					continue;
				}
				c->refs--;
				c->pending--;
				free(h);
			}
			v = dns_answer_servfail(
			    &q, s->tcp_out, DNS_TCP_MAX, &outlen);
		}
		metrics_dns_query(&q, v, s->tcp_out, outlen);
		if (v != DNS_REPLY) {
			/* Nothing to say to a response or a runt: a stream
			 * that carries them is not a DNS client. */
			s->stats.dropped++;
			conn_close(c);
			return;
		}
		conn_send(c, s->tcp_out, outlen);
	}
	if (!c->closed && c->pending >= TCP_MAX_PENDING)
		bufferevent_disable(bev, EV_READ);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tcpconn *c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && c->pending > 0) {
		/* Waiting for a boot is not idleness. */
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		return;
	}
	/* EOF, error, or idle: the connection is done.  Answers still
	 * owed to it are dropped when they come. */
	conn_close(c);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	event_add(l->tcp_ev, NULL);
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	struct server *s = l->srv;
	struct timeval idle = {TCP_IDLE_S, 0};
	struct timeval pause = {0, ACCEPT_PAUSE_MS * 1000};
	struct sockaddr_storage ss;
	socklen_t sl;
	struct tcpconn *c;
	int cfd, one = 1;

	(void)what;
	for (int i = 0; i < 32; i++) {
		sl = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* Out of descriptors or memory: existing clients
			 * go on; try again a little later. */
			log_warn("tcp accept");
			event_del(l->tcp_ev);
			evtimer_add(l->pause_ev, &pause);
			return;
		}
		if (s->nconns >= TCP_MAX_CONNS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			s->stats.tcp_refused++;
			close(cfd);
			continue;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->srv = s;
		c->refs = 1;
		memcpy(&c->peer, &ss, sizeof(ss));
		c->bev =
		    bufferevent_socket_new(s->base, cfd, BEV_OPT_CLOSE_ON_FREE);
		if (c->bev == NULL) {
			close(cfd);
			free(c);
			continue;
		}
		bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
		bufferevent_set_timeouts(c->bev, &idle, &idle);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
		TAILQ_INSERT_TAIL(&s->conns, c, entry);
		s->nconns++;
		s->stats.tcp_conns++;
	}
}

/* ---- held answers ---- */

void
server_answer_held(
    struct server *s, struct held *h, const struct dns_addrs *addrs)
{
	size_t outlen = 0;
	enum dns_verdict v;

	if (addrs != NULL)
		v = dns_answer_service(
		    s->zones, &h->q, addrs, s->tcp_out, DNS_TCP_MAX, &outlen);
	else
		v = dns_answer_servfail(
		    &h->q, s->tcp_out, DNS_TCP_MAX, &outlen);
	metrics_dns_query(&h->q, v, s->tcp_out, outlen);
	if (h->conn != NULL) {
		struct tcpconn *c = h->conn;

		c->pending--;
		if (!c->closed && v == DNS_REPLY) {
			conn_send(c, s->tcp_out, outlen);
			if (!c->closed && c->pending < TCP_MAX_PENDING) {
				bufferevent_enable(c->bev, EV_READ);
				/* Queries may wait in the input buffer. */
				conn_read_cb(c->bev, c);
			}
		}
		conn_put(c);
	} else if (h->udp != NULL) {
		/* A listener closed by a reload has udp_fd -1. */
		if (v == DNS_REPLY && h->udp->udp_fd >= 0)
			(void)sendto(h->udp->udp_fd, s->tcp_out, outlen,
			    MSG_DONTWAIT, (struct sockaddr *)&h->peer,
			    h->peerlen);
		listener_put(h->udp);
	}
	free(h);
}

/* ---- listeners ---- */

int
server_bind(
    const struct cfg_ip *ip, uint16_t port, int type, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char abuf[INET6_ADDRSTRLEN];
	int fd, one = 1, size = UDP_RCVBUF;

	memset(&ss, 0, sizeof(ss));
	if (ip->af == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = ip->u.v4;
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = ip->u.v6;
		sl = sizeof(*sin6);
	}
	fd = socket(ip->af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (ip->af == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s %s port %u: %s",
	    type == SOCK_STREAM ? "tcp" : "udp",
	    config_ip_str(ip, abuf, sizeof(abuf)), port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static void
listener_close(struct listener *l)
{
	if (l->udp_ev != NULL)
		event_free(l->udp_ev);
	if (l->tcp_ev != NULL)
		event_free(l->tcp_ev);
	if (l->pause_ev != NULL)
		event_free(l->pause_ev);
	l->udp_ev = l->tcp_ev = l->pause_ev = NULL;
	if (l->udp_fd >= 0)
		close(l->udp_fd);
	if (l->tcp_fd >= 0)
		close(l->tcp_fd);
	l->udp_fd = l->tcp_fd = -1;
}

static void
listener_put(struct listener *l)
{
	if (--l->refs == 0) {
		listener_close(l);
		free(l);
	}
}

static struct listener *
listener_new(
    struct server *s, const struct cfg_listen *cl, char *err, size_t errlen)
{
	struct listener *l = calloc(1, sizeof(*l));

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->srv = s;
	l->ip = cl->ip;
	l->port = cl->port;
	l->refs = 1;
	l->udp_fd = server_bind(&cl->ip, cl->port, SOCK_DGRAM, err, errlen);
	l->tcp_fd = l->udp_fd < 0 ? -1
	                          : server_bind(&cl->ip, cl->port, SOCK_STREAM,
	                                err, errlen);
	if (l->udp_fd < 0 || l->tcp_fd < 0) {
		listener_close(l);
		free(l);
		return NULL;
	}
	l->udp_ev =
	    event_new(s->base, l->udp_fd, EV_READ | EV_PERSIST, udp_cb, l);
	l->tcp_ev =
	    event_new(s->base, l->tcp_fd, EV_READ | EV_PERSIST, accept_cb, l);
	l->pause_ev = evtimer_new(s->base, accept_resume_cb, l);
	if (l->udp_ev == NULL || l->tcp_ev == NULL || l->pause_ev == NULL ||
	    event_add(l->udp_ev, NULL) < 0 || event_add(l->tcp_ev, NULL) < 0) {
		snprintf(err, errlen, "event set-up failed");
		listener_close(l);
		free(l);
		return NULL;
	}
	return l;
}

int
server_listen(
    struct server *s, const struct config *conf, char *err, size_t errlen)
{
	TAILQ_HEAD(, listener) fresh = TAILQ_HEAD_INITIALIZER(fresh);
	const struct cfg_listen *cl;
	struct listener *l, *tmp;
	char abuf[INET6_ADDRSTRLEN];

	TAILQ_FOREACH(l, &s->listeners, entry)
	l->keep = false;
	TAILQ_FOREACH(cl, &conf->listens, entry)
	{
		TAILQ_FOREACH(l, &s->listeners, entry)
		if (config_ip_eq(&l->ip, &cl->ip) && l->port == cl->port)
			break;
		if (l != NULL) {
			l->keep = true;
			continue;
		}
		if ((l = listener_new(s, cl, err, errlen)) == NULL) {
			while ((l = TAILQ_FIRST(&fresh)) != NULL) {
				TAILQ_REMOVE(&fresh, l, entry);
				listener_put(l);
			}
			return -1;
		}
		l->keep = true;
		TAILQ_INSERT_TAIL(&fresh, l, entry);
	}
	TAILQ_FOREACH_SAFE(l, &s->listeners, entry, tmp)
	{
		if (l->keep)
			continue;
		log_info("no longer listening on %s port %u",
		    config_ip_str(&l->ip, abuf, sizeof(abuf)), l->port);
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_close(l);
		listener_put(l);
	}
	while ((l = TAILQ_FIRST(&fresh)) != NULL) {
		TAILQ_REMOVE(&fresh, l, entry);
		TAILQ_INSERT_TAIL(&s->listeners, l, entry);
		log_info("listening on %s port %u (udp, tcp)",
		    config_ip_str(&l->ip, abuf, sizeof(abuf)), l->port);
	}
	return 0;
}

/* ---- life ---- */

struct server *
server_new(struct event_base *base)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	TAILQ_INIT(&s->listeners);
	TAILQ_INIT(&s->conns);
	return s;
}

void
server_set_registry(struct server *s, struct registry *r)
{
	s->reg = r;
}

void
server_set_zones(struct server *s, struct dns_zones *z)
{
	dns_zones_free(s->zones);
	s->zones = z;
}

void
server_close(struct server *s)
{
	struct listener *l;
	struct tcpconn *c;

	while ((l = TAILQ_FIRST(&s->listeners)) != NULL) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_close(l);
		listener_put(l);
	}
	while ((c = TAILQ_FIRST(&s->conns)) != NULL)
		conn_close(c);
}

void
server_stats(const struct server *s, struct server_stats *st)
{
	*st = s->stats;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	server_close(s);
	dns_zones_free(s->zones);
	free(s);
}
