/*
 * ip.c: IPv4 in and out (RFC 791), the Internet checksum (RFC 1071) and
 * ICMP echo (RFC 792).
 *
 * Accepted: version 4, a header of at least 20 bytes with its options
 * skipped, a correct header checksum, a total length that fits the frame
 * (Ethernet padding after it is ignored), no fragments (nothing here
 * sends datagrams big enough to need them), addressed to us, or for UDP
 * to a broadcast address.
 */
#include "gn_int.h"

#define IP_TTL     64
#define IP_DF      0x4000
#define IP_FRAG    0x3fff /* MF and the offset */
#define ICMP_ECHO  8
#define ICMP_REPLY 0

uint32_t
gn_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
		if (sum & 0x80000000u)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t
gn_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
gn_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + (uint32_t)len;
}

bool
gn_ip_onlink(const struct gn_state *st, uint32_t ip)
{
	return (ip & st->mask) == (st->cfg.ip & st->mask);
}

bool
gn_ip_is_bcast(const struct gn_state *st, uint32_t ip)
{
	if (ip == 0xffffffffu)
		return true;
	/* /31 and /32 have no broadcast address (RFC 3021). */
	return st->cfg.prefix <= 30 && ip == (st->cfg.ip | ~st->mask);
}

int
gn_ip_send(struct gn_state *st, uint32_t dst, uint8_t proto, size_t l4len,
    bool df, bool queue)
{
	uint8_t *f = st->tx, *ip = f + GN_ETH_HLEN;
	const uint8_t *mac;
	uint32_t hop;
	size_t len = GN_ETH_HLEN + GN_IP_HLEN + l4len;

	if (GN_IP_HLEN + l4len > st->cfg.mtu || dst == 0 || dst == st->cfg.ip)
		return -1;
	if (gn_ip_is_bcast(st, dst))
		hop = 0;
	else if (gn_ip_onlink(st, dst))
		hop = dst;
	else if (st->cfg.gateway != 0)
		hop = st->cfg.gateway;
	else
		return -1;
	ip[0] = 0x45;
	ip[1] = 0;
	gn_put16(ip + 2, (uint16_t)(GN_IP_HLEN + l4len));
	gn_put16(ip + 4, st->ip_id++);
	gn_put16(ip + 6, df ? IP_DF : 0);
	ip[8] = IP_TTL;
	ip[9] = proto;
	gn_put16(ip + 10, 0);
	gn_put32(ip + 12, st->cfg.ip);
	gn_put32(ip + 16, dst);
	gn_put16(ip + 10, gn_csum_fold(gn_csum_add(0, ip, GN_IP_HLEN)));
	gn_eth_header(st, f, gn_eth_bcast, GN_ETH_IPV4);
	if (hop != 0) {
		mac = gn_arp_resolve(st, hop, queue ? f : NULL, len);
		if (mac == NULL)
			return -1;
		memcpy(f, mac, 6);
	}
	return gn_eth_send(st, f, len);
}

static void
icmp_input(struct gn_state *st, uint32_t src, const uint8_t *msg, size_t len)
{
	uint8_t *out = st->tx + GN_ETH_HLEN + GN_IP_HLEN;

	if (len < 8 || gn_csum_fold(gn_csum_add(0, msg, len)) != 0)
		goto drop;
	if (msg[0] != ICMP_ECHO || msg[1] != 0)
		goto drop; /* nothing else is answered or needed */
	if (GN_IP_HLEN + len > st->cfg.mtu)
		goto drop;
	memcpy(out, msg, len);
	out[0] = ICMP_REPLY;
	gn_put16(out + 2, 0);
	gn_put16(out + 2, gn_csum_fold(gn_csum_add(0, out, len)));
	if (gn_ip_send(st, src, GN_IP_ICMP, len, false, true) == 0)
		st->stats.icmp_echo++;
	return;
drop:
	st->stats.rx_dropped++;
}

void
gn_ip_input(struct gn_state *st, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + GN_ETH_HLEN;
	size_t avail = len - GN_ETH_HLEN, hlen, tot;
	uint32_t src, dst;
	uint8_t proto;

	if (avail < GN_IP_HLEN || ip[0] >> 4 != 4)
		goto drop;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tot = gn_get16(ip + 2);
	if (hlen < GN_IP_HLEN || hlen > avail || tot < hlen || tot > avail)
		goto drop;
	if (gn_csum_fold(gn_csum_add(0, ip, hlen)) != 0)
		goto drop;
	if (gn_get16(ip + 6) & IP_FRAG)
		goto drop;
	proto = ip[9];
	src = gn_get32(ip + 12);
	dst = gn_get32(ip + 16);
	/* A source nobody can answer to is forged. */
	if (src == 0 || src == st->cfg.ip || src >= 0xe0000000u ||
	    gn_ip_is_bcast(st, src))
		goto drop;
	if (dst != st->cfg.ip &&
	    !(proto == GN_IP_UDP && gn_ip_is_bcast(st, dst)))
		goto drop;
	if (gn_ip_onlink(st, src))
		gn_arp_glean(st, src, frame + 6);
	switch (proto) {
	case GN_IP_ICMP:
		icmp_input(st, src, ip + hlen, tot - hlen);
		return;
	case GN_IP_UDP:
		gn_udp_input(st, src, dst, ip + hlen, tot - hlen);
		return;
	case GN_IP_TCP:
		gn_tcp_input(st, src, ip + hlen, tot - hlen);
		return;
	}
drop:
	st->stats.rx_dropped++;
}
