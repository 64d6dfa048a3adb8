/*
 * ping.h: the ping guest's protocol handling (proto.c), used by main.c.
 */
#ifndef SUMMONER_GUEST_PING_H
#define SUMMONER_GUEST_PING_H

#include <stddef.h>
#include <stdint.h>

#include <runtime.h>

struct ping_stats {
	uint64_t frames;      /* frames received */
	uint64_t dropped;     /* malformed, not for us, or unsupported */
	uint64_t arp_replies; /* ARP replies sent */
	uint64_t echo_replies;
};

struct ping_ctx {
	const struct rt_net *net;
	uint32_t ip; /* ours, network byte order */
	uint8_t *tx; /* a buffer of at least net->mtu + 14 bytes */
	struct ping_stats st;
};

/* Handles one received Ethernet frame of len bytes: any content is safe. */
void ping_input(struct ping_ctx *c, const uint8_t *frame, size_t len);
/* Announces our address with a gratuitous ARP request. */
int ping_announce(struct ping_ctx *c);
/* Parses "a.b.c.d" into network byte order; 0, or -1 if malformed. */
int ping_parse_ip(const char *s, uint32_t *ip);
/* Formats ip (network byte order) as a dotted quad into buf[16]. */
void ping_format_ip(uint32_t ip, char buf[16]);

#endif /* SUMMONER_GUEST_PING_H */
