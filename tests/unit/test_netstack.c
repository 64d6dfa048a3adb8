/*
 * test_netstack.c: the guests' network stack (guests/netstack/), compiled
 * for the host.  Frames the stack sends land on a "wire" (a queue); the
 * peer is scripted here: the tests craft Ethernet/ARP/IP/ICMP/UDP/TCP
 * frames by hand, check every checksum of what comes back, and move the
 * clock by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guests/netstack/netstack.h"

#define SRV_IP 0x0a000002u /* 10.0.0.2/24 */
#define CLI_IP 0x0a000063u /* 10.0.0.99 */
#define GW_IP  0x0a000001u
#define FAR_IP 0xc0a80105u /* 192.168.1.5, off-link */
#define HTTP   80
#define ECHO   7
#define MS     1000000ull
#define WIRE_N 512

static const uint8_t SRV_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t CLI_MAC[6] = {0x02, 0, 0, 0, 0, 0x63};
static const uint8_t GW_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct wire {
	int n, head;
	size_t len[WIRE_N];
	uint8_t f[WIRE_N][GN_MAX_FRAME];
	unsigned sent; /* including those not kept */
	bool fail;     /* the driver reports an error */
};

/* What the application saw, and what it does in its callbacks. */
struct app {
	int accepted, closed, resets, peer_closed, sent;
	struct gn_tcp *conn; /* the latest accepted */
	uint8_t rx[65536];
	size_t rxlen;
	/* behaviour */
	bool echo, close_in_recv, abort_in_recv, abort_in_accepted;
	bool close_on_peer_closed, reuse_after_close;
};

struct udp_seen {
	int n;
	uint32_t src;
	uint16_t sport, dport;
	uint8_t data[2048];
	size_t len;
};

struct fx {
	struct gn_stack s;
	struct wire w;
	struct app app;
	struct udp_seen udp;
	uint64_t now;
};

/* ---- bytes ---- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + (uint32_t)len;
}

/* ---- the wire and the fixture ---- */

static int
wire_tx(void *ctx, const void *frame, size_t len)
{
	struct wire *w = ctx;

	assert_true(len >= 60 && len <= GN_MAX_FRAME);
	if (w->fail)
		return -1;
	w->sent++;
	if (w->n < WIRE_N) {
		int i = (w->head + w->n) % WIRE_N;

		memcpy(w->f[i], frame, len);
		w->len[i] = len;
		w->n++;
	}
	return 0;
}

/* Take the oldest frame off the wire: its length, 0 if none. */
static size_t
wire_pop(struct wire *w, uint8_t *out)
{
	size_t len;

	if (w->n == 0)
		return 0;
	len = w->len[w->head];
	memcpy(out, w->f[w->head], len);
	w->head = (w->head + 1) % WIRE_N;
	w->n--;
	return len;
}

static void
wire_clear(struct wire *w)
{
	w->n = 0;
	w->head = 0;
}

static void
udp_cb(void *arg, struct gn_stack *s, uint32_t src_ip, uint16_t src_port,
    uint16_t dst_port, const uint8_t *data, size_t len)
{
	struct fx *f = arg;

	assert_ptr_equal(s, &f->s);
	f->udp.n++;
	f->udp.src = src_ip;
	f->udp.sport = src_port;
	f->udp.dport = dst_port;
	assert_true(len <= sizeof(f->udp.data));
	memcpy(f->udp.data, data, len);
	f->udp.len = len;
}

static void
on_accepted(void *arg, struct gn_tcp *c)
{
	struct fx *f = arg;

	f->app.accepted++;
	f->app.conn = c;
	assert_null(gn_tcp_user(c));
	gn_tcp_set_user(c, f);
	if (f->app.abort_in_accepted) {
		gn_tcp_abort(c);
		/* The handle is dead now: everything is a harmless no-op. */
		assert_int_equal(gn_tcp_send(c, "x", 1), -1);
		gn_tcp_close(c);
		gn_tcp_abort(c);
	}
}

static void
on_recv(void *arg, struct gn_tcp *c, const uint8_t *data, size_t len)
{
	struct fx *f = arg;

	assert_ptr_equal(gn_tcp_user(c), f);
	assert_true(f->app.rxlen + len <= sizeof(f->app.rx));
	memcpy(f->app.rx + f->app.rxlen, data, len);
	f->app.rxlen += len;
	if (f->app.echo)
		assert_int_equal(gn_tcp_send(c, data, len), (long)len);
	if (f->app.close_in_recv) {
		gn_tcp_close(c);
		gn_tcp_close(c); /* twice is harmless */
	}
	if (f->app.abort_in_recv)
		gn_tcp_abort(c);
}

static void
on_sent(void *arg, struct gn_tcp *c)
{
	struct fx *f = arg;

	(void)c;
	f->app.sent++;
}

static void
on_peer_closed(void *arg, struct gn_tcp *c)
{
	struct fx *f = arg;

	f->app.peer_closed++;
	if (f->app.close_on_peer_closed)
		gn_tcp_close(c);
}

static void
on_closed(void *arg, struct gn_tcp *c, bool reset)
{
	struct fx *f = arg;

	assert_ptr_equal(gn_tcp_user(c), f); /* still readable */
	f->app.closed++;
	f->app.resets += reset;
	/* Using the handle from inside closed does nothing. */
	assert_int_equal(gn_tcp_send(c, "x", 1), -1);
	gn_tcp_abort(c);
	gn_tcp_close(c);
}

static const struct gn_tcp_handler handler = {
    .accepted = on_accepted,
    .recv = on_recv,
    .sent = on_sent,
    .peer_closed = on_peer_closed,
    .closed = on_closed,
};

static void
fx_init(struct fx *f, uint32_t ip, const uint8_t *mac)
{
	struct gn_config cfg = {.ip = ip, .prefix = 24, .gateway = GW_IP};
	struct gn_driver drv = {.tx = wire_tx, .ctx = &f->w};

	memcpy(cfg.mac, mac, 6);
	f->now = 1000 * MS;
	assert_int_equal(gn_init(&f->s, &cfg, &drv, f->now), 0);
	assert_int_equal(gn_udp_bind(&f->s, ECHO, udp_cb, f), 0);
	assert_int_equal(gn_tcp_listen(&f->s, HTTP, &handler, f), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fx_init(f, SRV_IP, SRV_MAC);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* Hand a frame to the stack from a heap copy of exactly its size, so that
 * ASan sees any read past its end. */
static void
deliver(struct fx *f, const uint8_t *frame, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, frame, len);
	gn_input(&f->s, copy, len, f->now);
	free(copy);
}

static void
advance(struct fx *f, uint64_t ns)
{
	f->now += ns;
	gn_timers(&f->s, f->now);
}

/* ---- frames, as the peer builds them ---- */

static size_t
eth(uint8_t *fr, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(fr, dst, 6);
	memcpy(fr + 6, src, 6);
	put16(fr + 12, type);
	return 14;
}

/* IPv4 header at fr + 14 for l4len bytes of payload; returns the frame
 * length. */
static size_t
ipv4(uint8_t *fr, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
	uint8_t *ip = fr + 14;

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, 1);
	put16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, fold(sum16(0, ip, 20)));
	return 34 + l4len;
}

static size_t
arp_frame(uint8_t *fr, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
    uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint8_t *a = fr + 14;

	memset(fr, 0, 60);
	eth(fr, eth_dst, sha, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return 60;
}

static size_t
icmp_echo_frame(uint8_t *fr, uint32_t src, const uint8_t *mac, size_t plen)
{
	uint8_t *m = fr + 34;
	size_t i;

	eth(fr, SRV_MAC, mac, 0x0800);
	m[0] = 8;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, 0x1234);
	put16(m + 6, 7);
	for (i = 0; i < plen; i++)
		m[8 + i] = (uint8_t)(i * 7);
	put16(m + 2, fold(sum16(0, m, 8 + plen)));
	return ipv4(fr, src, SRV_IP, 1, 8 + plen);
}

static size_t
udp_frame(uint8_t *fr, uint32_t src, uint32_t dst, uint16_t sport,
    uint16_t dport, const void *data, size_t len)
{
	uint8_t *u = fr + 34;

	eth(fr, SRV_MAC, CLI_MAC, 0x0800);
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	if (len > 0)
		memcpy(u + 8, data, len);
	put16(u + 6, fold(sum16(pseudo(src, dst, 17, 8 + len), u, 8 + len)));
	return ipv4(fr, src, dst, 17, 8 + len);
}

/* A scripted TCP client. */
struct cli {
	uint32_t ip;
	uint16_t port;
	uint32_t snd_nxt, rcv_nxt;
	uint16_t wnd;
	const uint8_t *mac;
};

static void
cli_init(struct cli *c, uint16_t port)
{
	c->ip = CLI_IP;
	c->port = port;
	c->snd_nxt = 1000000u * port;
	c->rcv_nxt = 0;
	c->wnd = 65535;
	c->mac = CLI_MAC;
}

static size_t
tcp_frame(uint8_t *fr, const struct cli *c, uint16_t dport, uint32_t seq,
    uint32_t ack, uint8_t flags, const uint8_t *opt, size_t optlen,
    const void *data, size_t len)
{
	uint8_t *t = fr + 34;
	size_t hlen = 20 + optlen;

	eth(fr, SRV_MAC, c->mac, 0x0800);
	put16(t, c->port);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(hlen / 4 << 4);
	t[13] = flags;
	put16(t + 14, c->wnd);
	put16(t + 16, 0);
	put16(t + 18, 0);
	if (optlen > 0)
		memcpy(t + 20, opt, optlen);
	if (len > 0)
		memcpy(t + hlen, data, len);
	put16(t + 16,
	    fold(sum16(pseudo(c->ip, SRV_IP, 6, hlen + len), t, hlen + len)));
	return ipv4(fr, c->ip, SRV_IP, 6, hlen + len);
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Send from the client with its current numbers, and advance them. */
static void
cli_send(
    struct fx *f, struct cli *c, uint8_t flags, const void *data, size_t len)
{
	static const uint8_t mss[4] = {2, 4, 0x05, 0xb4};
	uint8_t fr[GN_MAX_FRAME];
	size_t n = tcp_frame(fr, c, HTTP, c->snd_nxt, c->rcv_nxt,
	    flags | ((flags & F_SYN) ? 0 : F_ACK), mss, (flags & F_SYN) ? 4 : 0,
	    data, len);

	deliver(f, fr, n);
	c->snd_nxt += (uint32_t)len + !!(flags & F_SYN) + !!(flags & F_FIN);
}

struct tseg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd, mss, ipflags;
	uint8_t data[1500];
	size_t dlen;
	uint8_t eth_dst[6];
};

/* Parse a frame the stack sent as TCP, checking every header and
 * checksum. */
static void
parse_tcp(const uint8_t *fr, size_t len, struct tseg *s)
{
	const uint8_t *ip = fr + 14, *t = fr + 34;
	size_t tot, tlen, hlen;

	assert_true(len >= 54);
	assert_memory_equal(fr + 6, SRV_MAC, 6);
	memcpy(s->eth_dst, fr, 6);
	assert_int_equal(get16(fr + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(fold(sum16(0, ip, 20)), 0);
	assert_int_equal(ip[9], 6);
	assert_int_equal(ip[8], 64);
	tot = get16(ip + 2);
	assert_true(tot + 14 <= len);
	assert_true(tot + 14 == len || len == 60);
	s->ipflags = get16(ip + 6);
	s->src = get32(ip + 12);
	s->dst = get32(ip + 16);
	tlen = tot - 20;
	assert_int_equal(
	    fold(sum16(pseudo(s->src, s->dst, 6, tlen), t, tlen)), 0);
	s->sport = get16(t);
	s->dport = get16(t + 2);
	s->seq = get32(t + 4);
	s->ack = get32(t + 8);
	hlen = (size_t)(t[12] >> 4) * 4;
	assert_true(hlen >= 20 && hlen <= tlen);
	s->flags = t[13];
	s->wnd = get16(t + 14);
	s->mss = 0;
	if (hlen >= 24 && t[20] == 2 && t[21] == 4)
		s->mss = get16(t + 22);
	s->dlen = tlen - hlen;
	memcpy(s->data, t + hlen, s->dlen);
}

/* The next frame on the wire, which must be TCP. */
static void
pop_tcp(struct fx *f, struct tseg *s)
{
	uint8_t fr[GN_MAX_FRAME];
	size_t len = wire_pop(&f->w, fr);

	assert_true(len > 0);
	parse_tcp(fr, len, s);
}

/* Handshake from c: SYN, SYN-ACK, ACK.  Returns the connection. */
static struct gn_tcp *
cli_connect(struct fx *f, struct cli *c)
{
	struct tseg s;
	int before = f->app.accepted;

	cli_send(f, c, F_SYN, NULL, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.ack, c->snd_nxt);
	assert_int_equal(s.mss, 1460);
	assert_int_equal(s.wnd, GN_TCP_RCVWND > 65535 ? 65535 : GN_TCP_RCVWND);
	assert_int_equal(s.ipflags, 0x4000);       /* DF */
	assert_memory_equal(s.eth_dst, c->mac, 6); /* gleaned: no ARP */
	c->rcv_nxt = s.seq + 1;
	cli_send(f, c, F_ACK, NULL, 0);
	assert_int_equal(f->app.accepted, before + 1);
	assert_int_equal(f->w.n, 0);
	return f->app.conn;
}

/* ---- ARP ---- */

static void
arp__request_for_us__answered(void **state)
{
	struct fx *f = *state;
	uint8_t fr[64], out[GN_MAX_FRAME];
	static const uint8_t zero[6];
	size_t len;

	deliver(f, fr, arp_frame(fr, BCAST, 1, CLI_MAC, CLI_IP, zero, SRV_IP));
	len = wire_pop(&f->w, out);
	assert_int_equal(len, 60);
	assert_memory_equal(out, CLI_MAC, 6);
	assert_memory_equal(out + 6, SRV_MAC, 6);
	assert_int_equal(get16(out + 12), 0x0806);
	assert_int_equal(get16(out + 14 + 6), 2); /* reply */
	assert_memory_equal(out + 14 + 8, SRV_MAC, 6);
	assert_int_equal(get32(out + 14 + 14), SRV_IP);
	assert_memory_equal(out + 14 + 18, CLI_MAC, 6);
	assert_int_equal(get32(out + 14 + 24), CLI_IP);
	assert_int_equal(gn_stats(&f->s)->arp_replies, 1);

	/* A request for someone else is not answered. */
	deliver(
	    f, fr, arp_frame(fr, BCAST, 1, CLI_MAC, CLI_IP, zero, SRV_IP + 1));
	assert_int_equal(f->w.n, 0);
}

static void
arp__announce__gratuitous_request(void **state)
{
	struct fx *f = *state;
	uint8_t out[GN_MAX_FRAME];
	static const uint8_t zero[6];

	assert_int_equal(gn_announce(&f->s), 0);
	assert_int_equal(wire_pop(&f->w, out), 60);
	assert_memory_equal(out, BCAST, 6);
	assert_int_equal(get16(out + 12), 0x0806);
	assert_int_equal(get16(out + 14), 1);
	assert_int_equal(get16(out + 16), 0x0800);
	assert_int_equal(out[18], 6);
	assert_int_equal(out[19], 4);
	assert_int_equal(get16(out + 20), 1); /* request */
	assert_memory_equal(out + 22, SRV_MAC, 6);
	assert_int_equal(get32(out + 28), SRV_IP);
	assert_memory_equal(out + 32, zero, 6);
	assert_int_equal(get32(out + 38), SRV_IP);
	f->w.fail = true;
	assert_int_equal(gn_announce(&f->s), -1);
	assert_int_equal(gn_stats(&f->s)->tx_errors, 1);
}

static void
arp__ip_from_onlink_host__gleaned(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME], out[GN_MAX_FRAME];

	deliver(f, fr, udp_frame(fr, CLI_IP, SRV_IP, 5555, ECHO, "hi", 2));
	assert_int_equal(f->udp.n, 1);
	/* Sending back needs no ARP request. */
	assert_int_equal(gn_udp_send(&f->s, ECHO, CLI_IP, 5555, "yo", 2), 0);
	assert_int_equal(wire_pop(&f->w, out), 60);
	assert_memory_equal(out, CLI_MAC, 6);
	assert_int_equal(gn_stats(&f->s)->arp_requests, 0);
}

static void
arp__unresolved_next_hop__frame_sent_after_reply(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint8_t fr[GN_MAX_FRAME], out[GN_MAX_FRAME];
	static const uint8_t zero[6];

	/* A SYN from off-link comes through the gateway, whose MAC is not
	 * known: the SYN-ACK waits for ARP. */
	cli_init(&c, 4000);
	c.ip = FAR_IP;
	c.mac = GW_MAC;
	cli_send(f, &c, F_SYN, NULL, 0);
	assert_int_equal(wire_pop(&f->w, out), 60);
	assert_memory_equal(out, BCAST, 6);
	assert_int_equal(get16(out + 20), 1);
	assert_int_equal(get32(out + 38), GW_IP);
	assert_int_equal(f->w.n, 0);
	assert_int_equal(gn_stats(&f->s)->arp_requests, 1);
	/* A second SYN (retransmitted) replaces the waiting frame. */
	cli_init(&c, 4000);
	c.ip = FAR_IP;
	c.mac = GW_MAC;
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt, 0, F_SYN, NULL, 0, NULL, 0));
	assert_int_equal(f->w.n, 0);
	deliver(
	    f, fr, arp_frame(fr, SRV_MAC, 2, GW_MAC, GW_IP, SRV_MAC, SRV_IP));
	assert_int_equal(f->w.n, 1);
	pop_tcp(f, &s);
	assert_memory_equal(s.eth_dst, GW_MAC, 6);
	assert_int_equal(s.flags, F_SYN | F_ACK);
	assert_int_equal(s.dst, FAR_IP);
	assert_int_equal(f->w.n, 0);
	(void)zero;
}

static void
arp__no_answer__three_requests_then_dropped(void **state)
{
	struct fx *f = *state;
	uint64_t next;
	int i;

	assert_int_equal(gn_udp_send(&f->s, 1, CLI_IP + 5, 9, "x", 1), -1);
	assert_int_equal(f->w.n, 1);
	next = gn_timers(&f->s, f->now);
	assert_true(next > f->now && next != UINT64_MAX);
	for (i = 0; i < 10; i++)
		advance(f, 1000 * MS);
	assert_int_equal(gn_stats(&f->s)->arp_requests, 3);
	assert_int_equal(gn_timers(&f->s, f->now), UINT64_MAX);
	/* Off-link without a gateway, or to nowhere: no route. */
	assert_int_equal(gn_udp_send(&f->s, 1, 0, 9, "x", 1), -1);
}

/* ---- ICMP ---- */

static void
icmp__echo_request__reply_with_same_id_seq_payload(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME], out[GN_MAX_FRAME];
	size_t len = icmp_echo_frame(fr, CLI_IP, CLI_MAC, 56), olen;

	deliver(f, fr, len);
	olen = wire_pop(&f->w, out);
	assert_int_equal(olen, len);
	assert_memory_equal(out, CLI_MAC, 6);
	assert_int_equal(fold(sum16(0, out + 14, 20)), 0);
	assert_int_equal(get32(out + 26), SRV_IP);
	assert_int_equal(get32(out + 30), CLI_IP);
	assert_int_equal(out[34], 0); /* echo reply */
	assert_int_equal(fold(sum16(0, out + 34, len - 34)), 0);
	assert_memory_equal(out + 38, fr + 38, len - 38); /* id, seq, data */
	assert_int_equal(gn_stats(&f->s)->icmp_echo, 1);

	/* A corrupt one is not answered. */
	fr[40] ^= 1;
	deliver(f, fr, len);
	assert_int_equal(f->w.n, 0);
	assert_int_equal(gn_stats(&f->s)->rx_dropped, 1);
}

/* ---- UDP ---- */

static void
udp__bound_port__delivered(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME];

	deliver(f, fr, udp_frame(fr, CLI_IP, SRV_IP, 5555, ECHO, "hello", 5));
	assert_int_equal(f->udp.n, 1);
	assert_int_equal(f->udp.src, CLI_IP);
	assert_int_equal(f->udp.sport, 5555);
	assert_int_equal(f->udp.dport, ECHO);
	assert_int_equal(f->udp.len, 5);
	assert_memory_equal(f->udp.data, "hello", 5);
	/* To the subnet broadcast, too; a zero checksum is "none". */
	udp_frame(fr, CLI_IP, 0x0a0000ffu, 5555, ECHO, "b", 1);
	memcpy(fr, BCAST, 6);
	put16(fr + 40, 0);
	deliver(f, fr, 43);
	assert_int_equal(f->udp.n, 2);
	assert_int_equal(gn_stats(&f->s)->udp_in, 2);
	/* Binding twice, port 0, or too many fails. */
	assert_int_equal(gn_udp_bind(&f->s, ECHO, udp_cb, f), -1);
	assert_int_equal(gn_udp_bind(&f->s, 0, udp_cb, f), -1);
}

static void
udp__unbound_port__counted(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME];

	deliver(f, fr, udp_frame(fr, CLI_IP, SRV_IP, 5555, 9999, "x", 1));
	assert_int_equal(f->udp.n, 0);
	assert_int_equal(gn_stats(&f->s)->udp_noport, 1);
	assert_int_equal(f->w.n, 0);
}

static void
udp__bad_checksum__dropped(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME];
	size_t len = udp_frame(fr, CLI_IP, SRV_IP, 5555, ECHO, "hello", 5);

	fr[len - 1] ^= 0x40;
	deliver(f, fr, len);
	assert_int_equal(f->udp.n, 0);
	assert_int_equal(gn_stats(&f->s)->rx_dropped, 1);
	/* A broadcast TCP or ICMP packet is not for us. */
	len = icmp_echo_frame(fr, CLI_IP, CLI_MAC, 8);
	put32(fr + 30, 0xffffffffu);
	put16(fr + 24, 0);
	put16(fr + 24, fold(sum16(0, fr + 14, 20)));
	deliver(f, fr, len);
	assert_int_equal(f->w.n, 0);
	assert_int_equal(gn_stats(&f->s)->rx_dropped, 2);
}

static void
udp__send__frame_correct(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME], out[GN_MAX_FRAME], big[1500] = {0};
	size_t len;

	deliver(f, fr, udp_frame(fr, CLI_IP, SRV_IP, 5555, ECHO, "x", 1));
	assert_int_equal(gn_udp_send(&f->s, ECHO, CLI_IP, 5555, "pong!", 5), 0);
	len = wire_pop(&f->w, out);
	assert_int_equal(len, 60); /* padded */
	assert_int_equal(get16(out + 16), 20 + 8 + 5);
	assert_int_equal(fold(sum16(0, out + 14, 20)), 0);
	assert_int_equal(out[23], 17);
	assert_int_equal(get16(out + 34), ECHO);
	assert_int_equal(get16(out + 36), 5555);
	assert_int_equal(get16(out + 38), 13);
	assert_true(get16(out + 40) != 0);
	assert_int_equal(
	    fold(sum16(pseudo(SRV_IP, CLI_IP, 17, 13), out + 34, 13)), 0);
	assert_memory_equal(out + 42, "pong!", 5);
	assert_int_equal(gn_stats(&f->s)->udp_out, 1);
	/* The largest datagram fits; one more byte does not. */
	assert_int_equal(gn_udp_send(&f->s, ECHO, CLI_IP, 5555, big, 1472), 0);
	assert_int_equal(wire_pop(&f->w, out), 1514);
	assert_int_equal(gn_udp_send(&f->s, ECHO, CLI_IP, 5555, big, 1473), -1);
}

/* Two stacks in one process, on one wire: nothing is shared between
 * them. */
static void
udp__two_stacks__talk(void **state)
{
	struct fx *a = *state, *b = calloc(1, sizeof(*b));
	uint8_t fr[GN_MAX_FRAME];
	size_t len;
	int i;

	assert_non_null(b);
	fx_init(b, CLI_IP, CLI_MAC);
	/* a knows nothing of b: ARP first, then the datagram. */
	assert_int_equal(gn_udp_send(&a->s, 1234, CLI_IP, ECHO, "ab", 2), -1);
	for (i = 0; i < 4; i++) {
		while ((len = wire_pop(&a->w, fr)) > 0)
			gn_input(&b->s, fr, len, b->now);
		while ((len = wire_pop(&b->w, fr)) > 0)
			gn_input(&a->s, fr, len, a->now);
		if (i == 1)
			assert_int_equal(
			    gn_udp_send(&a->s, 1234, CLI_IP, ECHO, "ab", 2), 0);
	}
	assert_int_equal(b->udp.n, 1);
	assert_int_equal(b->udp.src, SRV_IP);
	assert_memory_equal(b->udp.data, "ab", 2);
	assert_int_equal(a->udp.n, 0);
	assert_int_equal(gn_stats(&b->s)->arp_replies, 1);
	assert_int_equal(gn_stats(&a->s)->arp_replies, 0);
	free(b);
}

/* ---- TCP ---- */

static void
tcp__handshake_data_both_ways__delivered_and_acked(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	char big[5000];
	size_t i, got = 0;

	cli_init(&c, 4001);
	t = cli_connect(f, &c);
	assert_non_null(t);
	assert_int_equal(gn_tcp_count(&f->s), 1);
	assert_int_equal(gn_tcp_peer_ip(t), CLI_IP);
	assert_int_equal(gn_tcp_peer_port(t), 4001);
	cli_send(f, &c, F_PSH, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(f->app.rxlen, 18);
	assert_memory_equal(f->app.rx, "GET / HTTP/1.1\r\n\r\n", 18);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_ACK);
	assert_int_equal(s.ack, c.snd_nxt);
	assert_int_equal(s.seq, c.rcv_nxt);

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(gn_tcp_sendable(t), GN_TCP_SNDBUF);
	assert_int_equal(gn_tcp_send(t, big, sizeof(big)), (long)sizeof(big));
	assert_int_equal(gn_tcp_sendable(t), GN_TCP_SNDBUF - sizeof(big));
	/* 5000 bytes in MSS-sized segments, the last pushed. */
	while (f->w.n > 0) {
		pop_tcp(f, &s);
		assert_int_equal(s.seq, c.rcv_nxt + got);
		assert_true(s.dlen <= 1460);
		assert_memory_equal(s.data, big + got, s.dlen);
		got += s.dlen;
	}
	assert_int_equal(got, sizeof(big));
	assert_true(s.flags & F_PSH);
	c.rcv_nxt += (uint32_t)got;
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(f->app.sent, 1);
	assert_int_equal(gn_tcp_sendable(t), GN_TCP_SNDBUF);
	assert_int_equal(f->w.n, 0);
	/* Nothing is outstanding: no timer. */
	assert_int_equal(gn_timers(&f->s, f->now), UINT64_MAX);
	/* A full buffer takes what fits. */
	for (i = 0; i < 4; i++)
		gn_tcp_send(t, big, sizeof(big));
	assert_int_equal(gn_tcp_sendable(t), 0);
	assert_int_equal(gn_tcp_send(t, big, 1), 0);
}

static void
tcp__out_of_order__dropped_with_dup_ack(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint8_t fr[GN_MAX_FRAME];

	cli_init(&c, 4002);
	cli_connect(f, &c);
	/* "world" before "hello ": dropped, and the ACK still asks for
	 * "hello ". */
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt + 6, c.rcv_nxt, F_ACK, NULL, 0,
	        "world", 5));
	assert_int_equal(f->app.rxlen, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.ack, c.snd_nxt);
	cli_send(f, &c, 0, "hello ", 6);
	cli_send(f, &c, 0, "world", 5);
	assert_int_equal(f->app.rxlen, 11);
	assert_memory_equal(f->app.rx, "hello world", 11);
	/* Partly old: only the new part is delivered. */
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt - 5, c.rcv_nxt, F_ACK, NULL, 0,
	        "world!!", 7));
	assert_int_equal(f->app.rxlen, 13);
	assert_memory_equal(f->app.rx + 11, "!!", 2);
	/* Entirely old: not delivered again, ACKed. */
	wire_clear(&f->w);
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt - 11, c.rcv_nxt, F_ACK, NULL, 0,
	        "hello", 5));
	assert_int_equal(f->app.rxlen, 13);
	pop_tcp(f, &s);
	assert_int_equal(s.ack, c.snd_nxt + 2);
}

static void
tcp__lost_segment__retransmitted_after_rto(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	uint64_t due;

	cli_init(&c, 4003);
	t = cli_connect(f, &c);
	assert_int_equal(gn_tcp_send(t, "response", 8), 8);
	pop_tcp(f, &s); /* "lost" */
	assert_int_equal(s.dlen, 8);
	due = gn_timers(&f->s, f->now);
	assert_true(due > f->now && due <= f->now + 1000 * MS);
	assert_true(due >= f->now + 200 * MS); /* RTO minimum */
	/* Not before it is due. */
	gn_timers(&f->s, due - 1);
	assert_int_equal(f->w.n, 0);
	f->now = due;
	gn_timers(&f->s, f->now);
	pop_tcp(f, &s);
	assert_int_equal(s.seq, c.rcv_nxt);
	assert_int_equal(s.dlen, 8);
	assert_memory_equal(s.data, "response", 8);
	assert_int_equal(gn_stats(&f->s)->tcp_retransmits, 1);
	/* Backed off: the next one is later than the first. */
	assert_true(gn_timers(&f->s, f->now) - f->now >= 400 * MS);
	c.rcv_nxt += 8;
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(gn_timers(&f->s, f->now), UINT64_MAX);
}

static void
tcp__fin_from_client__peer_closed_then_clean_close(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;

	cli_init(&c, 4004);
	t = cli_connect(f, &c);
	cli_send(f, &c, F_FIN, "bye", 3);
	assert_int_equal(f->app.rxlen, 3);
	assert_int_equal(f->app.peer_closed, 1);
	pop_tcp(f, &s);
	assert_int_equal(s.ack, c.snd_nxt);
	/* Half-closed: we may still send, then close. */
	assert_int_equal(gn_tcp_send(t, "ok", 2), 2);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 2);
	gn_tcp_close(t);
	assert_int_equal(gn_tcp_send(t, "no", 2), 0);
	assert_int_equal(gn_tcp_sendable(t), 0);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 0);
	assert_int_equal(s.flags, F_FIN | F_ACK);
	assert_int_equal(s.seq, c.rcv_nxt + 2);
	assert_int_equal(f->app.closed, 0);
	c.rcv_nxt += 3;
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 0);
	assert_int_equal(gn_tcp_count(&f->s), 0);
	/* No TIME_WAIT on this side: a new SYN is a new connection. */
	assert_int_equal(gn_tcp_send(t, "x", 1), -1);
}

static void
tcp__close_from_server__time_wait_reacks_fin(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	uint8_t fr[GN_MAX_FRAME];
	uint32_t old;

	cli_init(&c, 4005);
	t = cli_connect(f, &c);
	gn_tcp_close(t);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_FIN | F_ACK);
	c.rcv_nxt = s.seq + 1;
	cli_send(f, &c, F_ACK, NULL, 0); /* FIN_WAIT_2 */
	assert_int_equal(f->app.closed, 0);
	cli_send(f, &c, F_FIN, NULL, 0);
	assert_int_equal(f->app.peer_closed, 1);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 0);
	assert_int_equal(gn_tcp_count(&f->s), 0);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_ACK);
	assert_int_equal(s.ack, c.snd_nxt);
	/* TIME_WAIT: the FIN again gets the ACK again, no RST. */
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt - 1, c.rcv_nxt, F_FIN | F_ACK,
	        NULL, 0, NULL, 0));
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_ACK);
	assert_int_equal(s.ack, c.snd_nxt);
	assert_int_equal(gn_stats(&f->s)->tcp_rst_out, 0);
	/* A SYN below the old sequence space is not a new connection; one
	 * above it is. */
	old = c.snd_nxt;
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, old - 100, 0, F_SYN, NULL, 0, NULL, 0));
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_ACK);
	c.snd_nxt = old + 100000;
	cli_connect(f, &c);
	assert_int_equal(f->app.accepted, 2);
}

static void
tcp__time_wait__expires(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint8_t fr[GN_MAX_FRAME];

	cli_init(&c, 4006);
	gn_tcp_close(cli_connect(f, &c));
	pop_tcp(f, &s);
	/* Their FIN crosses ours: it does not acknowledge ours. */
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt, s.seq, F_FIN | F_ACK, NULL, 0,
	        NULL, 0));
	c.snd_nxt++;
	c.rcv_nxt = s.seq + 1;
	pop_tcp(f, &s);
	assert_int_equal(s.ack, c.snd_nxt);
	assert_int_equal(f->app.closed, 0);
	cli_send(f, &c, F_ACK, NULL, 0); /* TIME_WAIT */
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 0);
	/* After 2 s the tuple is unknown: a stray ACK gets a RST. */
	f->now += GN_TIMEWAIT_NS;
	cli_send(f, &c, F_ACK, "z", 1);
	pop_tcp(f, &s);
	assert_true(s.flags & F_RST);
}

static void
tcp__lost_fin_then_silent_half__fin_resent_then_given_up(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint64_t due;

	cli_init(&c, 4020);
	gn_tcp_close(cli_connect(f, &c));
	pop_tcp(f, &s); /* "lost" */
	assert_int_equal(s.flags, F_FIN | F_ACK);
	f->now = gn_timers(&f->s, f->now);
	gn_timers(&f->s, f->now);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_FIN | F_ACK);
	c.rcv_nxt = s.seq + 1;
	cli_send(f, &c, F_ACK, NULL, 0); /* FIN_WAIT_2, and then silence */
	assert_int_equal(f->w.n, 0);
	due = gn_timers(&f->s, f->now);
	assert_true(due != UINT64_MAX && due - f->now >= 10000 * MS);
	f->now = due;
	gn_timers(&f->s, f->now);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 1);
	pop_tcp(f, &s);
	assert_true(s.flags & F_RST);
}

static void
tcp__rst__in_window_kills_out_of_window_ignored(void **state)
{
	struct fx *f = *state;
	struct cli c;
	uint8_t fr[GN_MAX_FRAME];

	cli_init(&c, 4007);
	cli_connect(f, &c);
	deliver(f, fr,
	    tcp_frame(
	        fr, &c, HTTP, c.snd_nxt + 100000, 0, F_RST, NULL, 0, NULL, 0));
	deliver(f, fr,
	    tcp_frame(fr, &c, HTTP, c.snd_nxt - 1, 0, F_RST, NULL, 0, NULL, 0));
	assert_int_equal(f->app.closed, 0);
	assert_int_equal(gn_tcp_count(&f->s), 1);
	assert_int_equal(f->w.n, 0); /* never a RST for a RST */
	deliver(f, fr,
	    tcp_frame(
	        fr, &c, HTTP, c.snd_nxt + 100, 0, F_RST, NULL, 0, NULL, 0));
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 1);
	assert_int_equal(gn_tcp_count(&f->s), 0);
	assert_int_equal(f->w.n, 0);
}

static void
tcp__syn_to_closed_port__rst(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint8_t fr[GN_MAX_FRAME];

	cli_init(&c, 4008);
	deliver(f, fr, tcp_frame(fr, &c, 81, 777, 0, F_SYN, NULL, 0, NULL, 0));
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_RST | F_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 778);
	assert_int_equal(s.sport, 81);
	assert_int_equal(gn_stats(&f->s)->tcp_refused, 1);
	/* An ACK for nothing: RST with its number. */
	deliver(f, fr, tcp_frame(fr, &c, 81, 5, 4242, F_ACK, NULL, 0, "x", 1));
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_RST);
	assert_int_equal(s.seq, 4242);
	/* A RST for nothing: silence. */
	deliver(f, fr, tcp_frame(fr, &c, 81, 5, 0, F_RST, NULL, 0, NULL, 0));
	assert_int_equal(f->w.n, 0);
}

static void
tcp__table_full__rst(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	int i;

	for (i = 0; i < GN_TCP_MAX; i++) {
		cli_init(&c, (uint16_t)(5000 + i));
		cli_connect(f, &c);
	}
	assert_int_equal(gn_tcp_count(&f->s), GN_TCP_MAX);
	cli_init(&c, 6000);
	cli_send(f, &c, F_SYN, NULL, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.flags, F_RST | F_ACK);
	assert_int_equal(gn_stats(&f->s)->tcp_refused, 1);
	assert_int_equal(gn_stats(&f->s)->tcp_accepted, GN_TCP_MAX);
}

static void
tcp__many_connections__served_independently(void **state)
{
	struct fx *f = *state;
	struct cli c[12];
	struct gn_tcp *t[12];
	struct tseg s;
	char msg[8];
	int i;

	f->app.echo = true;
	for (i = 0; i < 12; i++) {
		cli_init(&c[i], (uint16_t)(7000 + i));
		t[i] = cli_connect(f, &c[i]);
	}
	assert_int_equal(gn_tcp_count(&f->s), 12);
	for (i = 11; i >= 0; i--) {
		msg[0] = (char)('A' + i);
		cli_send(f, &c[i], 0, msg, 1);
		pop_tcp(f, &s); /* the echo, ACK piggybacked */
		assert_int_equal(s.dport, 7000 + i);
		assert_int_equal(s.dlen, 1);
		assert_int_equal(s.data[0], 'A' + i);
		assert_int_equal(s.ack, c[i].snd_nxt);
		assert_int_equal(f->w.n, 0);
		c[i].rcv_nxt++;
	}
	for (i = 0; i < 12; i++) {
		gn_tcp_close(t[i]);
		pop_tcp(f, &s);
		c[i].rcv_nxt++;
		cli_send(f, &c[i], F_FIN, NULL, 0);
		pop_tcp(f, &s);
	}
	assert_int_equal(f->app.closed, 12);
	assert_int_equal(f->app.resets, 0);
	assert_int_equal(gn_tcp_count(&f->s), 0);
}

static void
tcp__abort_in_accepted__closed_once_with_rst(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;

	f->app.abort_in_accepted = true;
	cli_init(&c, 4010);
	cli_send(f, &c, F_SYN, NULL, 0);
	pop_tcp(f, &s);
	c.rcv_nxt = s.seq + 1;
	cli_send(f, &c, F_ACK, "data", 4);
	assert_int_equal(f->app.accepted, 1);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 1);
	assert_int_equal(f->app.rxlen, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.flags & F_RST, F_RST);
	assert_int_equal(s.seq, c.rcv_nxt);
	assert_int_equal(f->w.n, 0);
	assert_int_equal(gn_tcp_count(&f->s), 0);
}

static void
tcp__close_or_abort_in_recv__safe(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;

	/* Close inside recv, with a FIN in the same segment. */
	f->app.echo = true;
	f->app.close_in_recv = true;
	cli_init(&c, 4011);
	cli_connect(f, &c);
	cli_send(f, &c, F_FIN, "q", 1);
	/* The echo, our FIN and the ACK of theirs: what the callback sent
	 * waits for the end of the segment, so all of it is one segment. */
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 1);
	assert_true(s.flags & F_FIN);
	assert_true(s.flags & F_ACK);
	assert_int_equal(s.ack, c.snd_nxt);
	assert_int_equal(f->w.n, 0);
	assert_int_equal(f->app.peer_closed, 1);
	c.rcv_nxt += 2;
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 0);

	/* Abort inside recv, with a FIN behind the data. */
	f->app.close_in_recv = false;
	f->app.echo = false;
	f->app.abort_in_recv = true;
	cli_init(&c, 4012);
	cli_connect(f, &c);
	cli_send(f, &c, F_FIN, "q", 1);
	assert_int_equal(f->app.closed, 2);
	assert_int_equal(f->app.resets, 1);
	assert_int_equal(f->app.peer_closed, 1);
	pop_tcp(f, &s);
	assert_true(s.flags & F_RST);
	assert_int_equal(f->w.n, 0);
}

static void
tcp__peer_silent__gives_up_closed_reset_once(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	int i, rtx = 0;

	cli_init(&c, 4013);
	t = cli_connect(f, &c);
	assert_int_equal(gn_tcp_send(t, "hello?", 6), 6);
	for (i = 0; i < 200 && f->app.closed == 0; i++) {
		uint64_t due = gn_timers(&f->s, f->now);

		assert_true(due != UINT64_MAX);
		assert_true(due - f->now <= 60000 * MS);
		f->now = due;
		gn_timers(&f->s, f->now);
		while (f->w.n > 0) {
			uint8_t fr[GN_MAX_FRAME];

			if (get16(f->w.f[f->w.head] + 12) == 0x0806) {
				/* The ARP entry expired meanwhile: answer. */
				wire_pop(&f->w, fr);
				deliver(f, fr,
				    arp_frame(fr, SRV_MAC, 2, CLI_MAC, CLI_IP,
				        SRV_MAC, SRV_IP));
				continue;
			}
			pop_tcp(f, &s);
			if (s.flags & F_RST)
				continue;
			assert_int_equal(s.dlen, 6);
			rtx++;
		}
	}
	assert_int_equal(f->app.closed, 1);
	assert_int_equal(f->app.resets, 1);
	assert_int_equal(rtx, 1 + 8); /* first send and 8 resends */
	assert_int_equal(gn_stats(&f->s)->tcp_timeouts, 1);
	assert_int_equal(gn_timers(&f->s, f->now), UINT64_MAX);
	advance(f, 3600000 * MS);
	assert_int_equal(f->app.closed, 1);
}

static void
tcp__syn_rcvd__synack_resent_then_forgotten_silently(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	int i, synacks = 0;

	cli_init(&c, 4014);
	cli_send(f, &c, F_SYN, NULL, 0);
	for (i = 0; i < 100 && gn_timers(&f->s, f->now) != UINT64_MAX; i++) {
		f->now = gn_timers(&f->s, f->now);
		gn_timers(&f->s, f->now);
	}
	while (f->w.n > 0) {
		pop_tcp(f, &s);
		assert_int_equal(s.flags, F_SYN | F_ACK);
		synacks++;
	}
	assert_int_equal(synacks, 6);
	assert_int_equal(f->app.accepted + f->app.closed, 0);
	/* And a RST in SYN_RCVD: gone, no callbacks. */
	cli_init(&c, 4015);
	cli_send(f, &c, F_SYN, NULL, 0);
	pop_tcp(f, &s);
	cli_send(f, &c, F_RST, NULL, 0);
	cli_send(f, &c, F_ACK, NULL, 0);
	pop_tcp(f, &s);
	assert_true(s.flags & F_RST); /* the ACK met no connection */
	assert_int_equal(f->app.accepted + f->app.closed, 0);
}

static void
tcp__zero_window__persist_probes(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	uint64_t due;

	cli_init(&c, 4016);
	t = cli_connect(f, &c);
	c.wnd = 0;
	cli_send(f, &c, F_ACK, NULL, 0); /* the window closes */
	assert_int_equal(gn_tcp_send(t, "blocked", 7), 7);
	assert_int_equal(f->w.n, 0);
	due = gn_timers(&f->s, f->now);
	assert_true(due != UINT64_MAX);
	f->now = due;
	gn_timers(&f->s, f->now);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 0);
	assert_int_equal(s.seq, c.rcv_nxt - 1); /* asks for an ACK */
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(f->w.n, 0);
	/* Still alive long after 8 answered probes. */
	f->now = gn_timers(&f->s, f->now);
	gn_timers(&f->s, f->now);
	pop_tcp(f, &s);
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(f->app.closed, 0);
	/* The window opens: the data goes. */
	c.wnd = 1000;
	cli_send(f, &c, F_ACK, NULL, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 7);
	assert_memory_equal(s.data, "blocked", 7);
}

static void
tcp__small_peer_window__respected(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	char buf[3000];

	memset(buf, 'w', sizeof(buf));
	cli_init(&c, 4017);
	t = cli_connect(f, &c);
	c.wnd = 1000;
	cli_send(f, &c, F_ACK, NULL, 0);
	assert_int_equal(gn_tcp_send(t, buf, sizeof(buf)), 3000);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 1000);
	assert_int_equal(f->w.n, 0);
	c.rcv_nxt += 1000;
	cli_send(f, &c, F_ACK, NULL, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.dlen, 1000);
	assert_int_equal(s.seq, c.rcv_nxt);
}

static void
tcp__three_dup_acks__fast_retransmit(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	struct gn_tcp *t;
	char buf[4000];
	int i;

	memset(buf, 'd', sizeof(buf));
	cli_init(&c, 4018);
	t = cli_connect(f, &c);
	gn_tcp_send(t, buf, sizeof(buf));
	wire_clear(&f->w);
	for (i = 0; i < 3; i++)
		cli_send(f, &c, F_ACK, NULL, 0);
	pop_tcp(f, &s);
	assert_int_equal(s.seq, c.rcv_nxt);
	assert_int_equal(s.dlen, 1460);
	assert_int_equal(gn_stats(&f->s)->tcp_retransmits, 1);
}

static void
tcp__bad_segments__dropped_or_answered(void **state)
{
	struct fx *f = *state;
	struct cli c;
	struct tseg s;
	uint8_t fr[GN_MAX_FRAME];
	size_t len;
	static const uint8_t bad_opts[][8] = {
	    {2, 0, 0, 0, 0, 0, 0, 0},   /* length 0 */
	    {2, 1, 0, 0, 0, 0, 0, 0},   /* length 1 */
	    {8, 255, 0, 0, 0, 0, 0, 0}, /* runs past the header */
	    {1, 1, 1, 1, 1, 1, 1, 2},   /* MSS kind cut off */
	    {2, 4, 0, 1, 0, 0, 0, 0},   /* MSS 1 */
	};
	size_t i;

	/* Bogus options: the SYN is still served, with a sane MSS. */
	for (i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
		cli_init(&c, (uint16_t)(4100 + i));
		len = tcp_frame(
		    fr, &c, HTTP, c.snd_nxt, 0, F_SYN, bad_opts[i], 8, NULL, 0);
		deliver(f, fr, len);
		pop_tcp(f, &s);
		assert_int_equal(s.flags, F_SYN | F_ACK);
	}
	/* Bad data offsets and checksum: dropped. */
	cli_init(&c, 4200);
	len = tcp_frame(fr, &c, HTTP, 1, 0, F_SYN, NULL, 0, NULL, 0);
	fr[34 + 12] = 0xf0; /* 60 bytes of header in 20 */
	put16(fr + 34 + 16, 0);
	put16(fr + 34 + 16,
	    fold(sum16(pseudo(CLI_IP, SRV_IP, 6, 20), fr + 34, 20)));
	deliver(f, fr, len);
	fr[34 + 12] = 0x40; /* 16 bytes */
	put16(fr + 34 + 16, 0);
	put16(fr + 34 + 16,
	    fold(sum16(pseudo(CLI_IP, SRV_IP, 6, 20), fr + 34, 20)));
	deliver(f, fr, len);
	len = tcp_frame(fr, &c, HTTP, 1, 0, F_SYN, NULL, 0, NULL, 0);
	fr[len - 1] ^= 1;
	deliver(f, fr, len);
	assert_int_equal(gn_stats(&f->s)->rx_dropped, 3);
	assert_int_equal(f->w.n, 0);
}

/* ---- hostile frames ---- */

static uint64_t rng_state;

static uint32_t
rng(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* Valid frames of every kind, some from an open connection. */
static size_t
sample_frames(struct fx *f, uint8_t fr[][GN_MAX_FRAME], size_t *lens)
{
	static const uint8_t zero[6];
	struct cli c;
	size_t n = 0;

	lens[n] = arp_frame(fr[n], BCAST, 1, CLI_MAC, CLI_IP, zero, SRV_IP);
	n++;
	lens[n] = icmp_echo_frame(fr[n], CLI_IP, CLI_MAC, 40);
	n++;
	lens[n] = udp_frame(
	    fr[n], CLI_IP, SRV_IP, 5, ECHO, "0123456789abcdefghij", 20);
	n++;
	cli_init(&c, 9000);
	lens[n] = tcp_frame(fr[n], &c, HTTP, 1, 0, F_SYN,
	    (const uint8_t *)"\2\4\5\264", 4, NULL, 0);
	n++;
	cli_init(&c, 9001);
	cli_connect(f, &c);
	lens[n] = tcp_frame(fr[n], &c, HTTP, c.snd_nxt, c.rcv_nxt,
	    F_ACK | F_PSH, NULL, 0, "some request data", 17);
	n++;
	return n;
}

static void
hostile__every_truncation__dropped(void **state)
{
	struct fx *f = *state;
	static uint8_t fr[5][GN_MAX_FRAME];
	size_t lens[5], n = sample_frames(f, fr, lens), i, len;
	int accepted = f->app.accepted;

	for (i = 0; i < n; i++) {
		for (len = 0; len < lens[i]; len++) {
			uint64_t before = gn_stats(&f->s)->rx_dropped;

			deliver(f, fr[i], len);
			/* ARP carries 18 bytes of padding. */
			if (i > 0 || len < 42)
				assert_int_equal(
				    gn_stats(&f->s)->rx_dropped, before + 1);
		}
	}
	assert_int_equal(f->app.rxlen, 0);
	assert_int_equal(f->app.accepted, accepted);
	assert_int_equal(gn_tcp_count(&f->s), 1);
}

static void
hostile__random_frames__survived(void **state)
{
	struct fx *f = *state;
	static uint8_t fr[5][GN_MAX_FRAME];
	uint8_t buf[GN_MAX_FRAME + 16];
	size_t lens[5], n = sample_frames(f, fr, lens), len, i;
	int k;

	rng_state = 42;
	f->app.echo = true;
	for (k = 0; k < 100000; k++) {
		unsigned mode = rng() % 4;

		if (mode == 0) { /* noise */
			len = rng() % (GN_MAX_FRAME + 16);
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t)rng();
		} else { /* a valid frame, mangled */
			size_t which = rng() % n, flips = 1 + rng() % 8;

			len = lens[which];
			memcpy(buf, fr[which], len);
			if (rng() % 4 == 0)
				len = rng() % (len + 1);
			for (i = 0; i < flips && len > 0; i++)
				buf[rng() % len] = (uint8_t)rng();
			if (mode >= 2 && len >= 34 && which > 0) {
				/* fix the IP checksum, and L4's: reach
				 * deeper */
				size_t tot = get16(buf + 16);

				buf[14] = 0x45;
				put16(buf + 24, 0);
				put16(buf + 24, fold(sum16(0, buf + 14, 20)));
				if (mode == 3 && tot >= 20 && tot + 14 <= len &&
				    buf[23] == 6 && tot - 20 >= 20) {
					uint8_t *t = buf + 34;

					put16(t + 16, 0);
					put16(t + 16,
					    fold(sum16(pseudo(get32(buf + 26),
					                   get32(buf + 30), 6,
					                   tot - 20),
					        t, tot - 20)));
				}
			}
		}
		deliver(f, buf, len);
		if (k % 1000 == 0) {
			advance(f, 50 * MS);
			wire_clear(&f->w);
		}
		if (f->w.n > WIRE_N / 2)
			wire_clear(&f->w);
	}
	assert_int_equal(gn_stats(&f->s)->rx_frames >= 100000, 1);
	assert_true(gn_stats(&f->s)->rx_dropped > 50000);
}

static void
hostile__bogus_ip_headers__dropped(void **state)
{
	struct fx *f = *state;
	uint8_t fr[GN_MAX_FRAME];
	size_t len, i;
	struct {
		uint8_t vihl;
		uint16_t tot;
		uint16_t frag;
	} cases[] = {
	    {0x4f, 48, 0},      /* IHL 60 > frame */
	    {0x44, 48, 0},      /* IHL 16 */
	    {0x45, 2000, 0},    /* longer than the frame */
	    {0x45, 10, 0},      /* shorter than its header */
	    {0x65, 48, 0},      /* IPv6 */
	    {0x45, 48, 0x2000}, /* MF */
	    {0x45, 48, 0x0001}, /* offset */
	};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = icmp_echo_frame(fr, CLI_IP, CLI_MAC, 20);
		fr[14] = cases[i].vihl;
		put16(fr + 16, cases[i].tot);
		put16(fr + 20, cases[i].frag);
		put16(fr + 24, 0);
		put16(fr + 24,
		    fold(sum16(0, fr + 14, (size_t)(fr[14] & 15) * 4)));
		deliver(f, fr, len);
	}
	assert_int_equal(gn_stats(&f->s)->rx_dropped, i);
	assert_int_equal(f->w.n, 0);
	/* Options are skipped: a 24-byte header with an echo still works;
	 * Ethernet padding after the datagram is ignored. */
	len = icmp_echo_frame(fr, CLI_IP, CLI_MAC, 20);
	memmove(fr + 38, fr + 34, len - 34);
	put32(fr + 34, 0x01010101); /* four NOPs */
	fr[14] = 0x46;
	put16(fr + 16, (uint16_t)(len - 14 + 4));
	put16(fr + 24, 0);
	put16(fr + 24, fold(sum16(0, fr + 14, 24)));
	memset(fr + len + 4, 0, 10);
	deliver(f, fr, len + 4 + 10);
	assert_int_equal(f->w.n, 1);
	/* Not to our MAC, VLAN-tagged, from a multicast MAC: dropped. */
	len = icmp_echo_frame(fr, CLI_IP, CLI_MAC, 20);
	fr[0] ^= 2;
	deliver(f, fr, len);
	fr[0] ^= 2;
	put16(fr + 12, 0x8100);
	deliver(f, fr, len);
	put16(fr + 12, 0x0800);
	fr[6] |= 1;
	deliver(f, fr, len);
	assert_int_equal(f->w.n, 1);
}

/* ---- timers ---- */

static void
timers__nothing_pending__none(void **state)
{
	struct fx *f = *state;

	assert_int_equal(gn_timers(&f->s, f->now), UINT64_MAX);
}

/* ---- arguments ---- */

static void
config_args__both_forms__parsed_and_removed(void **state)
{
	char a0[] = "www", a1[] = "--ipv4=10.0.0.2/24", a2[] = "-v",
	     a3[] = "--ipv4-gateway", a4[] = "10.0.0.1", a5[] = "docroot";
	char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
	int argc = 6;
	struct gn_config cfg = {.mtu = 1400};
	char err[64];

	(void)state;
	assert_int_equal(
	    gn_config_args(&argc, argv, &cfg, err, sizeof(err)), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "www");
	assert_string_equal(argv[1], "-v");
	assert_string_equal(argv[2], "docroot");
	assert_null(argv[3]);
	assert_int_equal(cfg.ip, SRV_IP);
	assert_int_equal(cfg.prefix, 24);
	assert_int_equal(cfg.gateway, GW_IP);
	assert_int_equal(cfg.mtu, 1400); /* untouched */
}

static void
config_args__other_form__parsed(void **state)
{
	char a0[] = "echo", a1[] = "--ipv4", a2[] = "192.168.7.9/32",
	     a3[] = "--ipv4-gateway=192.168.7.1", a4[] = "--ipv4-other=1";
	char *argv[] = {a0, a1, a2, a3, a4, NULL};
	int argc = 5;
	struct gn_config cfg = {.gateway = 5};
	char err[64];

	(void)state;
	assert_int_equal(
	    gn_config_args(&argc, argv, &cfg, err, sizeof(err)), 0);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "--ipv4-other=1");
	assert_int_equal(cfg.ip, 0xc0a80709u);
	assert_int_equal(cfg.prefix, 32);
	assert_int_equal(cfg.gateway, 0xc0a80701u);
}

static void
config_args__malformed_or_missing__error_argv_untouched(void **state)
{
	static const char *bad[] = {"--ipv4=10.0.0.2", "--ipv4=10.0.0.2/33",
	    "--ipv4=10.0.0/24", "--ipv4=10.0.0.256/24", "--ipv4=10.0.0.2/",
	    "--ipv4=10.0.0.2/24x", "--ipv4=", "--ipv4", "--ipv4-gateway=1.2.3",
	    "--ipv4=01.0.0.2/8", "--ipv4=1.2.3.4/024", "--ipv4-gateway"};
	char err[80], small[8];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char a0[] = "g", a1[64], a2[] = "--ipv4=1.2.3.4/8";
		char *argv[] = {a0, a1, a2, NULL};
		/* the bad one last, so "--opt value" has no value */
		char *order[] = {a0, a2, a1, NULL};
		int argc = 3;
		struct gn_config cfg = {0};

		strcpy(a1, bad[i]);
		(void)argv;
		assert_int_equal(
		    gn_config_args(&argc, order, &cfg, err, sizeof(err)), -1);
		assert_int_equal(argc, 3);
		assert_ptr_equal(order[1], a2);
		assert_ptr_equal(order[2], a1);
		assert_true(strlen(err) > 0);
	}
	{
		char a0[] = "g", a1[] = "x";
		char *argv[] = {a0, a1, NULL};
		int argc = 2;
		struct gn_config cfg = {0};

		assert_int_equal(
		    gn_config_args(&argc, argv, &cfg, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "--ipv4"));
		assert_int_equal(
		    gn_config_args(&argc, argv, &cfg, small, sizeof(small)),
		    -1);
		assert_int_equal(strlen(small), sizeof(small) - 1);
	}
}

static void
parse_format_ip__round_trip(void **state)
{
	static const char *bad[] = {"", "1.2.3", "1.2.3.4.", "1.2.3.4.5",
	    "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.4 ", "-1.2.3.4",
	    "1.2.3.0004", "00.1.2.3"};
	uint32_t ip;
	char buf[16];
	size_t i;

	(void)state;
	assert_int_equal(gn_parse_ip("255.255.255.255", &ip), 0);
	assert_int_equal(ip, 0xffffffffu);
	assert_int_equal(gn_parse_ip("0.0.0.0", &ip), 0);
	assert_int_equal(ip, 0);
	assert_int_equal(gn_parse_ip("10.0.100.2", &ip), 0);
	gn_format_ip(ip, buf);
	assert_string_equal(buf, "10.0.100.2");
	gn_format_ip(0xffffffffu, buf);
	assert_string_equal(buf, "255.255.255.255");
	gn_format_ip(0, buf);
	assert_string_equal(buf, "0.0.0.0");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gn_parse_ip(bad[i], &ip), -1);
}

static void
init__bad_config__refused(void **state)
{
	struct fx *f = *state;
	struct gn_config cfg = {.ip = SRV_IP, .prefix = 24};
	struct gn_driver drv = {.tx = wire_tx, .ctx = &f->w};

	memcpy(cfg.mac, SRV_MAC, 6);
	assert_int_equal(gn_init(&f->s, &cfg, NULL, 0), -1);
	cfg.prefix = 33;
	assert_int_equal(gn_init(&f->s, &cfg, &drv, 0), -1);
	cfg.prefix = 24;
	cfg.mtu = 67;
	assert_int_equal(gn_init(&f->s, &cfg, &drv, 0), -1);
	cfg.mtu = 0;
	cfg.mac[0] = 1; /* multicast */
	assert_int_equal(gn_init(&f->s, &cfg, &drv, 0), -1);
	cfg.mac[0] = 2;
	assert_int_equal(gn_init(&f->s, &cfg, &drv, 0), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(arp__request_for_us__answered),
	    T(arp__announce__gratuitous_request),
	    T(arp__ip_from_onlink_host__gleaned),
	    T(arp__unresolved_next_hop__frame_sent_after_reply),
	    T(arp__no_answer__three_requests_then_dropped),
	    T(icmp__echo_request__reply_with_same_id_seq_payload),
	    T(udp__bound_port__delivered),
	    T(udp__unbound_port__counted),
	    T(udp__bad_checksum__dropped),
	    T(udp__send__frame_correct),
	    T(udp__two_stacks__talk),
	    T(tcp__handshake_data_both_ways__delivered_and_acked),
	    T(tcp__out_of_order__dropped_with_dup_ack),
	    T(tcp__lost_segment__retransmitted_after_rto),
	    T(tcp__fin_from_client__peer_closed_then_clean_close),
	    T(tcp__close_from_server__time_wait_reacks_fin),
	    T(tcp__time_wait__expires),
	    T(tcp__lost_fin_then_silent_half__fin_resent_then_given_up),
	    T(tcp__rst__in_window_kills_out_of_window_ignored),
	    T(tcp__syn_to_closed_port__rst),
	    T(tcp__table_full__rst),
	    T(tcp__many_connections__served_independently),
	    T(tcp__abort_in_accepted__closed_once_with_rst),
	    T(tcp__close_or_abort_in_recv__safe),
	    T(tcp__peer_silent__gives_up_closed_reset_once),
	    T(tcp__syn_rcvd__synack_resent_then_forgotten_silently),
	    T(tcp__zero_window__persist_probes),
	    T(tcp__small_peer_window__respected),
	    T(tcp__three_dup_acks__fast_retransmit),
	    T(tcp__bad_segments__dropped_or_answered),
	    T(hostile__every_truncation__dropped),
	    T(hostile__random_frames__survived),
	    T(hostile__bogus_ip_headers__dropped),
	    T(timers__nothing_pending__none),
	    T(config_args__both_forms__parsed_and_removed),
	    T(config_args__other_form__parsed),
	    T(config_args__malformed_or_missing__error_argv_untouched),
	    T(parse_format_ip__round_trip),
	    T(init__bad_config__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
