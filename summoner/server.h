/*
 * server.h: the DNS front end.  UDP (batched with recvmmsg/sendmmsg) and
 * TCP (pipelined, with idle timeouts) on the configured addresses; every
 * packet goes to dns_answer(); a query that needs a boot becomes a struct
 * held, kept by the registry until server_answer_held().
 */
#ifndef SUMMONER_SERVER_H
#define SUMMONER_SERVER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include "config.h"
#include "dns.h"

struct event_base;
struct registry;
struct tcpconn;
struct listener;

/* A query waiting for a boot. */
struct held {
	TAILQ_ENTRY(held) entry;
	struct dns_question q;
	uint64_t t_arrival; /* instance_clock() */
	uint64_t deadline;  /* instance_clock() */
	/* Where the answer goes: */
	struct listener *udp; /* UDP: holds a reference */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct tcpconn *conn; /* TCP: holds a reference */
};

struct server_stats {
	uint64_t udp_queries, tcp_queries, dropped, held, tcp_conns;
	uint64_t tcp_refused;
};

struct server;

struct server *server_new(struct event_base *base);
void server_set_registry(struct server *s, struct registry *r);

/*
 * Bind the listen addresses of conf (UDP and TCP on each).  Addresses
 * already bound are kept; new ones are bound before old ones are closed,
 * so a failure leaves everything as it was: returns -1 with a message.
 */
int server_listen(
    struct server *s, const struct config *conf, char *err, size_t errlen);

/* Answer from z from now on; the server frees the table it had. */
void server_set_zones(struct server *s, struct dns_zones *z);

/*
 * A non-blocking socket of type (SOCK_DGRAM or SOCK_STREAM, listening) bound
 * to ip port: IPv6 only for an IPv6 address, SO_REUSEADDR for TCP, a large
 * receive buffer for UDP.  The fd, or -1 with "tcp ADDR port N: reason" in
 * err.  Also the metrics endpoint's (metrics_http.c).
 */
int server_bind(
    const struct cfg_ip *ip, uint16_t port, int type, char *err, size_t errlen);

/*
 * Answer and free a held query: with addrs (the service is ready), or
 * SERVFAIL when addrs is NULL.  The registry has unlinked it.
 */
void server_answer_held(
    struct server *s, struct held *h, const struct dns_addrs *addrs);

/* Close the listeners (shutdown). */
void server_close(struct server *s);

void server_stats(const struct server *s, struct server_stats *st);

void server_free(struct server *s);

#endif /* SUMMONER_SERVER_H */
