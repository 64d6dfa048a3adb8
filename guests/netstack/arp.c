/*
 * arp.c: ARP for IPv4 over Ethernet (RFC 826): answering, the cache,
 * resolving with one frame kept per unresolved address, and gratuitous
 * announcements.
 *
 * The cache learns from requests and replies addressed to us, from
 * gratuitous ARP, and from the source of IPv4 frames sent to us (so the
 * SYN-ACK to a new client needs no ARP round trip).  Entries expire after
 * GN_ARP_TTL_NS unless traffic from the host refreshes them.
 */
#include "gn_int.h"

#define ARP_LEN   28 /* Ethernet/IPv4 ARP body */
#define ARP_REQ   1
#define ARP_REPLY 2

/* Build and send an ARP packet: op, to eth_dst, asking or telling about
 * target. */
static int
arp_send(struct gn_state *st, uint16_t op, const uint8_t *eth_dst,
    const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
	uint8_t f[GN_ETH_MINLEN];
	uint8_t *a = f + GN_ETH_HLEN;

	gn_eth_header(st, f, eth_dst, GN_ETH_ARP);
	gn_put16(a, 1);          /* Ethernet */
	gn_put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	gn_put16(a + 6, op);
	memcpy(a + 8, st->cfg.mac, 6);
	gn_put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	gn_put32(a + 24, tpa);
	return gn_eth_send(st, f, GN_ETH_HLEN + ARP_LEN);
}

static int
arp_request(struct gn_state *st, uint32_t ip)
{
	static const uint8_t unknown[6];

	st->stats.arp_requests++;
	return arp_send(st, ARP_REQ, gn_eth_bcast, unknown, st->cfg.ip, ip);
}

int
gn_announce(struct gn_stack *s)
{
	struct gn_state *st = gn_st(s);
	static const uint8_t unknown[6];

	/* RFC 5227's announcement: a request for our own address. */
	return arp_send(
	    st, ARP_REQ, gn_eth_bcast, unknown, st->cfg.ip, st->cfg.ip);
}

static struct gn_arp *
arp_find(struct gn_state *st, uint32_t ip)
{
	size_t i;

	for (i = 0; i < GN_ARP_MAX; i++) {
		struct gn_arp *e = &st->arp[i];

		if (e->state == GN_ARP_RESOLVED && e->when <= st->now)
			e->state = GN_ARP_FREE; /* expired */
		if (e->state != GN_ARP_FREE && e->ip == ip)
			return e;
	}
	return NULL;
}

/* A slot for ip: a free one, else the resolved entry that expires first,
 * else the oldest incomplete one. */
static struct gn_arp *
arp_alloc(struct gn_state *st, uint32_t ip)
{
	struct gn_arp *victim = NULL;
	size_t i;

	for (i = 0; i < GN_ARP_MAX; i++) {
		struct gn_arp *e = &st->arp[i];

		if (e->state == GN_ARP_FREE) {
			victim = e;
			break;
		}
		if (victim == NULL || (e->state == GN_ARP_RESOLVED &&
		                          (victim->state != GN_ARP_RESOLVED ||
		                              e->when < victim->when)))
			victim = e;
	}
	memset(victim, 0, offsetof(struct gn_arp, pending));
	victim->ip = ip;
	return victim;
}

/* Who may go in the cache: on-link hosts with a unicast MAC. */
static bool
arp_plausible(const struct gn_state *st, uint32_t ip, const uint8_t *mac)
{
	static const uint8_t zero[6];

	return ip != 0 && ip != st->cfg.ip && gn_ip_onlink(st, ip) &&
	       !gn_ip_is_bcast(st, ip) && !(mac[0] & 1) &&
	       memcmp(mac, zero, 6) != 0;
}

/* ip is at mac: update or (if create) add the entry, and send what was
 * waiting for it. */
static void
arp_learn(struct gn_state *st, uint32_t ip, const uint8_t *mac, bool create)
{
	struct gn_arp *e;

	if (!arp_plausible(st, ip, mac))
		return;
	e = arp_find(st, ip);
	if (e == NULL) {
		if (!create)
			return;
		e = arp_alloc(st, ip);
	}
	memcpy(e->mac, mac, 6);
	e->state = GN_ARP_RESOLVED;
	e->when = st->now + GN_ARP_TTL_NS;
	if (e->pending_len) {
		size_t len = e->pending_len;

		e->pending_len = 0;
		memcpy(e->pending, mac, 6);
		gn_eth_send(st, e->pending, len);
	}
}

void
gn_arp_glean(struct gn_state *st, uint32_t ip, const uint8_t *mac)
{
	arp_learn(st, ip, mac, true);
}

void
gn_arp_input(struct gn_state *st, const uint8_t *frame, size_t len)
{
	const uint8_t *a = frame + GN_ETH_HLEN;
	uint32_t spa, tpa;
	uint16_t op;

	if (len < GN_ETH_HLEN + ARP_LEN)
		goto drop;
	if (gn_get16(a) != 1 || gn_get16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4)
		goto drop;
	op = gn_get16(a + 6);
	if (op != ARP_REQ && op != ARP_REPLY)
		goto drop;
	spa = gn_get32(a + 14);
	tpa = gn_get32(a + 24);
	if (spa == st->cfg.ip)
		goto drop; /* someone else claims our address: not our call */
	if (tpa == st->cfg.ip || spa == tpa) {
		/* Addressed to us, or a gratuitous announcement. */
		arp_learn(st, spa, a + 8, true);
	} else {
		/* RFC 826: refresh what we know, learn nothing new. */
		arp_learn(st, spa, a + 8, false);
		return;
	}
	if (op == ARP_REQ && tpa == st->cfg.ip) {
		if (arp_send(st, ARP_REPLY, a + 8, a + 8, st->cfg.ip, spa) == 0)
			st->stats.arp_replies++;
	}
	return;
drop:
	st->stats.rx_dropped++;
}

const uint8_t *
gn_arp_resolve(
    struct gn_state *st, uint32_t ip, const uint8_t *frame, size_t len)
{
	struct gn_arp *e = arp_find(st, ip);

	if (e != NULL && e->state == GN_ARP_RESOLVED)
		return e->mac;
	if (e == NULL) {
		e = arp_alloc(st, ip);
		e->state = GN_ARP_INCOMPLETE;
		e->tries = 1;
		e->when = st->now + GN_ARP_RETRY_NS;
		arp_request(st, ip);
	}
	/* Keep the newest frame only: it is the one most worth sending
	 * (TCP resends the others anyway). */
	if (frame != NULL && len <= sizeof(e->pending)) {
		memcpy(e->pending, frame, len);
		e->pending_len = (uint16_t)len;
	}
	return NULL;
}

uint64_t
gn_arp_timers(struct gn_state *st)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < GN_ARP_MAX; i++) {
		struct gn_arp *e = &st->arp[i];

		if (e->state != GN_ARP_INCOMPLETE)
			continue;
		if (e->when <= st->now) {
			if (e->tries >= GN_ARP_TRIES) {
				e->state = GN_ARP_FREE; /* with its frame */
				e->pending_len = 0;
				continue;
			}
			e->tries++;
			e->when = st->now + GN_ARP_RETRY_NS;
			arp_request(st, e->ip);
		}
		next = gn_min64(next, e->when);
	}
	return next;
}
