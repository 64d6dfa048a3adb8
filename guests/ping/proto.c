/*
 * proto.c: just enough Ethernet, ARP, IPv4 and ICMP to answer ping.
 *
 * Every received frame is untrusted: each header is length-checked before
 * it is read, IPv4 header and ICMP checksums are verified, and replies are
 * built in a separate buffer no longer than the request, so no frame can
 * make us read or write out of bounds.  Fragments and IP options are
 * dropped or ignored rather than handled.
 */
#include <stddef.h>
#include <stdint.h>

#include "ping.h"

#define ETH_HLEN          14
#define ETH_MIN_FRAME     60 /* without FCS */
#define ETHERTYPE_IPV4    0x0800
#define ETHERTYPE_ARP     0x0806
#define ARP_LEN           28
#define ARP_REQUEST       1
#define ARP_REPLY         2
#define IP_MIN_HLEN       20
#define IP_PROTO_ICMP     1
#define IP_MF             0x2000
#define IP_OFFMASK        0x1fff
#define ICMP_MIN_LEN      8
#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define IP_TTL            64

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071) of len bytes. */
static uint16_t
inet_cksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += get16(p);
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int
send_frame(struct ping_ctx *c, size_t len)
{
	/* Pad to the Ethernet minimum; the tx buffer is always big enough. */
	if (len < ETH_MIN_FRAME) {
		memset(c->tx + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	return rt_net_write(c->net, c->tx, len);
}

static void
eth_header(struct ping_ctx *c, const uint8_t *dst, uint16_t type)
{
	memcpy(c->tx, dst, 6);
	memcpy(c->tx + 6, c->net->mac, 6);
	put16(c->tx + 12, type);
}

static void
arp_packet(
    struct ping_ctx *c, uint16_t op, const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *a = c->tx + ETH_HLEN;

	put16(a, 1); /* Ethernet */
	put16(a + 2, ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, c->net->mac, 6);
	memcpy(a + 14, &c->ip, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
}

int
ping_announce(struct ping_ctx *c)
{
	static const uint8_t zero_mac[6];

	eth_header(c, broadcast_mac, ETHERTYPE_ARP);
	arp_packet(c, ARP_REQUEST, zero_mac, (const uint8_t *)&c->ip);
	return send_frame(c, ETH_HLEN + ARP_LEN);
}

static void
arp_input(struct ping_ctx *c, const uint8_t *a, size_t len)
{
	if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4 || get16(a + 6) != ARP_REQUEST ||
	    memcmp(a + 24, &c->ip, 4) != 0) {
		c->st.dropped++;
		return;
	}
	/* a points into the receive buffer, never into tx. */
	eth_header(c, a + 8, ETHERTYPE_ARP);
	arp_packet(c, ARP_REPLY, a + 8, a + 14);
	if (send_frame(c, ETH_HLEN + ARP_LEN) == HVT_OK)
		c->st.arp_replies++;
}

static void
icmp_input(struct ping_ctx *c, const uint8_t *eth, const uint8_t *ip,
    const uint8_t *icmp, size_t len)
{
	uint8_t *rip, *ricmp;
	uint32_t src;
	char srcstr[16];

	if (len < ICMP_MIN_LEN || icmp[0] != ICMP_ECHO_REQUEST ||
	    icmp[1] != 0 || inet_cksum(icmp, len) != 0) {
		c->st.dropped++;
		return;
	}
	/* Reply without options: never longer than the request. */
	eth_header(c, eth + 6, ETHERTYPE_IPV4);
	rip = c->tx + ETH_HLEN;
	rip[0] = 0x45;
	rip[1] = 0;
	put16(rip + 2, (uint16_t)(IP_MIN_HLEN + len));
	memcpy(rip + 4, ip + 4, 2); /* identification */
	put16(rip + 6, 0);
	rip[8] = IP_TTL;
	rip[9] = IP_PROTO_ICMP;
	put16(rip + 10, 0);
	memcpy(rip + 12, &c->ip, 4);
	memcpy(rip + 16, ip + 12, 4);
	put16(rip + 10, inet_cksum(rip, IP_MIN_HLEN));

	ricmp = rip + IP_MIN_HLEN;
	memcpy(ricmp, icmp, len);
	ricmp[0] = ICMP_ECHO_REPLY;
	put16(ricmp + 2, 0);
	put16(ricmp + 2, inet_cksum(ricmp, len));
	if (send_frame(c, ETH_HLEN + IP_MIN_HLEN + len) != HVT_OK)
		return;
	if (c->st.echo_replies++ < 16) {
		memcpy(&src, ip + 12, 4);
		ping_format_ip(src, srcstr);
		printf("ping: echo reply to %s seq %u\n", srcstr,
		    (unsigned)get16(icmp + 6));
	}
}

static void
ipv4_input(
    struct ping_ctx *c, const uint8_t *eth, const uint8_t *ip, size_t len)
{
	size_t hlen, total;

	if (len < IP_MIN_HLEN || (ip[0] >> 4) != 4)
		goto drop;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	total = get16(ip + 2);
	/* total <= len: Ethernet padding may follow the datagram */
	if (hlen < IP_MIN_HLEN || total < hlen || total > len ||
	    inet_cksum(ip, hlen) != 0)
		goto drop;
	if (memcmp(ip + 16, &c->ip, 4) != 0 ||
	    (get16(ip + 6) & (IP_MF | IP_OFFMASK)) != 0 ||
	    ip[9] != IP_PROTO_ICMP)
		goto drop;
	icmp_input(c, eth, ip, ip + hlen, total - hlen);
	return;
drop:
	c->st.dropped++;
}

void
ping_input(struct ping_ctx *c, const uint8_t *frame, size_t len)
{
	c->st.frames++;
	/* Replies must fit the tx buffer (mtu + 14), so longer is hostile. */
	if (len < ETH_HLEN || len > (size_t)c->net->mtu + ETH_HLEN ||
	    (memcmp(frame, c->net->mac, 6) != 0 &&
	        memcmp(frame, broadcast_mac, 6) != 0)) {
		c->st.dropped++;
		return;
	}
	switch (get16(frame + 12)) {
	case ETHERTYPE_ARP:
		arp_input(c, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	case ETHERTYPE_IPV4:
		ipv4_input(c, frame, frame + ETH_HLEN, len - ETH_HLEN);
		break;
	default:
		c->st.dropped++;
	}
}

int
ping_parse_ip(const char *s, uint32_t *ip)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++) {
		unsigned long v;
		char *end;

		if (*s < '0' || *s > '9')
			return -1;
		v = strtoul(s, &end, 10);
		if (v > 255 || end == s || *end != (i < 3 ? '.' : '\0'))
			return -1;
		b[i] = (uint8_t)v;
		s = end + 1;
	}
	memcpy(ip, b, 4);
	return 0;
}

void
ping_format_ip(uint32_t ip, char buf[16])
{
	const uint8_t *b = (const uint8_t *)&ip;

	snprintf(buf, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}
