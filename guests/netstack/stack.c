/*
 * stack.c: set-up, the Ethernet layer, and the timer entry point.
 */
#include "gn_int.h"

const uint8_t gn_eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

int
gn_init(struct gn_stack *s, const struct gn_config *cfg,
    const struct gn_driver *drv, uint64_t now_ns)
{
	struct gn_state *st = gn_st(s);
	uint64_t seed = 0;
	size_t i;

	if (cfg == NULL || drv == NULL || drv->tx == NULL)
		return -1;
	if (cfg->prefix > 32 || (cfg->mtu != 0 && cfg->mtu < 68) ||
	    cfg->mtu > 1500)
		return -1;
	/* Our MAC must be unicast, our address a host one. */
	if ((cfg->mac[0] & 1) || cfg->ip == 0 || cfg->ip == 0xffffffffu)
		return -1;
	/*
	 * Only the small head of the state is cleared: the tables after it
	 * (ARP, TIME_WAIT, a megabyte of connection slots) must already be
	 * zero, as a static struct gn_stack is.  Clearing them here would
	 * fault in every page of them on each boot, milliseconds before
	 * READY, for slots most instances never use.
	 */
	memset(st, 0, offsetof(struct gn_state, arp));
	st->pub = s;
	st->cfg = *cfg;
	if (st->cfg.mtu == 0)
		st->cfg.mtu = 1500;
	st->drv = *drv;
	st->mask = cfg->prefix ? 0xffffffffu << (32 - cfg->prefix) : 0;
	st->now = now_ns;
	for (i = 0; i < sizeof(cfg->mac); i++)
		seed = seed << 8 | cfg->mac[i];
	/* The address of the state differs between boots of a guest only
	 * if the image changes; the time makes up the rest. */
	st->secret =
	    gn_mix64(seed ^ gn_mix64(now_ns) ^ gn_mix64((uintptr_t)st) ^
	             ((uint64_t)cfg->ip << 32));
	st->ip_id = (uint16_t)st->secret;
	return 0;
}

const struct gn_stats *
gn_stats(const struct gn_stack *s)
{
	return &((const struct gn_state *)(const void *)s)->stats;
}

void
gn_eth_header(
    struct gn_state *st, uint8_t *frame, const uint8_t *dst, uint16_t type)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, st->cfg.mac, 6);
	gn_put16(frame + 12, type);
}

int
gn_eth_send(struct gn_state *st, uint8_t *frame, size_t len)
{
	if (len < GN_ETH_MINLEN) {
		memset(frame + len, 0, GN_ETH_MINLEN - len);
		len = GN_ETH_MINLEN;
	}
	if (st->drv.tx(st->drv.ctx, frame, len) != 0) {
		st->stats.tx_errors++;
		return -1;
	}
	st->stats.tx_frames++;
	return 0;
}

void
gn_input(struct gn_stack *s, const uint8_t *frame, size_t len, uint64_t now_ns)
{
	struct gn_state *st = gn_st(s);
	static const uint8_t zero[6];

	st->stats.rx_frames++;
	if (now_ns > st->now)
		st->now = now_ns;
	if (frame == NULL || len < GN_ETH_HLEN || len > GN_MAX_FRAME)
		goto drop;
	if (memcmp(frame, st->cfg.mac, 6) != 0 &&
	    memcmp(frame, gn_eth_bcast, 6) != 0)
		goto drop;
	/* A multicast or null source is forged. */
	if ((frame[6] & 1) || memcmp(frame + 6, zero, 6) == 0)
		goto drop;
	switch (gn_get16(frame + 12)) {
	case GN_ETH_ARP:
		gn_arp_input(st, frame, len);
		return;
	case GN_ETH_IPV4:
		gn_ip_input(st, frame, len);
		return;
	default: /* VLAN tags, IPv6, LLC...: not spoken here */
		goto drop;
	}
drop:
	st->stats.rx_dropped++;
}

uint64_t
gn_timers(struct gn_stack *s, uint64_t now_ns)
{
	struct gn_state *st = gn_st(s);
	uint64_t next;

	if (now_ns > st->now)
		st->now = now_ns;
	next = gn_arp_timers(st);
	return gn_min64(next, gn_tcp_timers(st));
}
