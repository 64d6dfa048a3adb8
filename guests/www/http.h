/*
 * http.h: the www guest's HTTP/1.1 server (http.c), on the netstack's TCP
 * callbacks.
 */
#ifndef SUMMONER_GUEST_HTTP_H
#define SUMMONER_GUEST_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include <netstack.h>

#define REQ_MAX 4096 /* bytes of one request's head */

struct http_conn {
	bool used;
	bool closing; /* no more requests: close once the answer is out */
	size_t len;   /* bytes in buf */
	char buf[REQ_MAX];
};

struct http_server {
	char name[64];
	char ip[16];
	uint64_t requests; /* answered */
	uint64_t errors;   /* answered 4xx */
	struct http_conn conns[GN_TCP_MAX];
};

extern const struct gn_tcp_handler http_handler;

/* Names the server (NAME, cut to fit) and its address, for the page.
 * h must be zero (a static struct is). */
void http_init(struct http_server *h, const char *name, uint32_t ip);

#endif /* SUMMONER_GUEST_HTTP_H */
