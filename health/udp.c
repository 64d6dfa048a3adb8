/*
 * udp.c: heartbeats over UDP (health.h).
 *
 * A datagram is one message of the heartbeat protocol with an X_TOKEN
 * naming the instance.  Nothing is ever sent back: a spoofed source gets
 * no amplification and a scanner learns nothing.  The socket is drained
 * in bounded batches so that a flood cannot starve the DNS loop.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "health.h"

#define UDP_BATCH 64 /* datagrams per wake-up */

struct health_udp {
	int fd;
	struct event *ev;
	struct health_udp_ops ops;
	struct health_udp_stats st;
	unsigned port;
};

static void
udp_one(struct health_udp *u, const char *buf, size_t len)
{
	struct health_msg m;
	void *who;

	u->st.received++;
	if (health_msg_parse(buf, len, &m, NULL) != HEALTH_PARSE_OK) {
		u->st.malformed++;
		return;
	}
	if (!(m.flags & HEALTH_MSG_HAS_TOKEN)) {
		u->st.no_token++;
		return;
	}
	if ((who = u->ops.lookup(u->ops.arg, m.token, m.token_len)) == NULL) {
		u->st.unknown_token++;
		return;
	}
	u->st.delivered++;
	u->ops.deliver(u->ops.arg, who, &m);
}

static void
udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct health_udp *u = arg;
	static char buf[HEALTH_MSG_MAX + 1];
	ssize_t n;
	int i;

	(void)what;
	for (i = 0; i < UDP_BATCH; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error: nothing to do */
		if ((size_t)n > HEALTH_MSG_MAX) {
			u->st.received++;
			u->st.malformed++;
			continue;
		}
		udp_one(u, buf, (size_t)n);
	}
}

struct health_udp *
health_udp_new(struct event_base *base, const struct sockaddr *sa,
    unsigned salen, const struct health_udp_ops *ops, char *err, size_t errlen)
{
	struct health_udp *u = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	u->ops = *ops;
	u->fd =
	    socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0 || bind(u->fd, sa, salen) < 0 ||
	    getsockname(u->fd, (struct sockaddr *)&ss, &sslen) < 0) {
		snprintf(err, errlen, "heartbeat socket: %s", strerror(errno));
		goto fail;
	}
	u->port = ntohs(ss.ss_family == AF_INET6
	                    ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                    : ((struct sockaddr_in *)&ss)->sin_port);
	u->ev = event_new(base, u->fd, EV_READ | EV_PERSIST, udp_read, u);
	if (u->ev == NULL || event_add(u->ev, NULL) < 0) {
		snprintf(err, errlen, "heartbeat socket: cannot watch it");
		goto fail;
	}
	return u;
fail:
	health_udp_free(u);
	return NULL;
}

unsigned
health_udp_port(const struct health_udp *u)
{
	return u->port;
}

const struct health_udp_stats *
health_udp_stats(const struct health_udp *u)
{
	return &u->st;
}

void
health_udp_free(struct health_udp *u)
{
	if (u == NULL)
		return;
	if (u->ev != NULL)
		event_free(u->ev);
	if (u->fd >= 0)
		close(u->fd);
	free(u);
}
