/*
 * udp.c: UDP (RFC 768): bound ports in, datagrams out.
 */
#include "gn_int.h"

#define UDP_HLEN 8

void
gn_udp_input(struct gn_state *st, uint32_t src, uint32_t dst,
    const uint8_t *seg, size_t len)
{
	uint16_t sport, dport, ulen;
	size_t i;

	if (len < UDP_HLEN)
		goto drop;
	sport = gn_get16(seg);
	dport = gn_get16(seg + 2);
	ulen = gn_get16(seg + 4);
	if (ulen < UDP_HLEN || ulen > len || dport == 0)
		goto drop;
	/* A zero checksum means the sender computed none. */
	if (gn_get16(seg + 6) != 0 &&
	    gn_csum_fold(gn_csum_add(
	        gn_csum_pseudo(src, dst, GN_IP_UDP, ulen), seg, ulen)) != 0)
		goto drop;
	for (i = 0; i < GN_UDP_MAX; i++) {
		struct gn_udp_bind *b = &st->udp[i];

		if (b->port == dport) {
			st->stats.udp_in++;
			b->fn(b->arg, st->pub, src, sport, dport,
			    seg + UDP_HLEN, ulen - UDP_HLEN);
			return;
		}
	}
	/* No ICMP port unreachable: a guest has no one to tell. */
	st->stats.udp_noport++;
	return;
drop:
	st->stats.rx_dropped++;
}

int
gn_udp_bind(struct gn_stack *s, uint16_t port, gn_udp_fn fn, void *arg)
{
	struct gn_state *st = gn_st(s);
	struct gn_udp_bind *free_slot = NULL;
	size_t i;

	if (port == 0 || fn == NULL)
		return -1;
	for (i = 0; i < GN_UDP_MAX; i++) {
		if (st->udp[i].port == port)
			return -1;
		if (st->udp[i].port == 0 && free_slot == NULL)
			free_slot = &st->udp[i];
	}
	if (free_slot == NULL)
		return -1;
	free_slot->port = port;
	free_slot->fn = fn;
	free_slot->arg = arg;
	return 0;
}

int
gn_udp_send(struct gn_stack *s, uint16_t src_port, uint32_t dst_ip,
    uint16_t dst_port, const void *data, size_t len)
{
	struct gn_state *st = gn_st(s);
	uint8_t *u = st->tx + GN_ETH_HLEN + GN_IP_HLEN;
	uint16_t sum;

	if (len > (size_t)st->cfg.mtu - GN_IP_HLEN - UDP_HLEN || dst_port == 0)
		return -1;
	gn_put16(u, src_port);
	gn_put16(u + 2, dst_port);
	gn_put16(u + 4, (uint16_t)(UDP_HLEN + len));
	gn_put16(u + 6, 0);
	if (len)
		memcpy(u + UDP_HLEN, data, len);
	sum = gn_csum_fold(gn_csum_add(
	    gn_csum_pseudo(st->cfg.ip, dst_ip, GN_IP_UDP, UDP_HLEN + len), u,
	    UDP_HLEN + len));
	gn_put16(u + 6, sum == 0 ? 0xffff : sum);
	if (gn_ip_send(st, dst_ip, GN_IP_UDP, UDP_HLEN + len, false, false) !=
	    0)
		return -1;
	st->stats.udp_out++;
	return 0;
}
