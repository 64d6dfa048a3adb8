/*
 * gn_int.h: the network stack's private state and the functions its files
 * share.  Nothing here is part of the interface (netstack.h is).
 *
 * Outgoing frames are built in one scratch buffer (st->tx) and sent before
 * any callback runs, so a callback that sends (re-entrantly) can reuse it.
 * Multi-byte fields of frames are read and written byte by byte (get16,
 * put32...): frames have no alignment and the code runs big- or
 * little-endian alike.
 */
#ifndef SUMMONER_GUEST_NETSTACK_INT_H
#define SUMMONER_GUEST_NETSTACK_INT_H

#include "netstack.h"

/* The freestanding guest has no <string.h>; these match libc's. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define GN_ETH_HLEN   14
#define GN_ETH_MINLEN 60 /* without FCS */
#define GN_ETH_ARP    0x0806
#define GN_ETH_IPV4   0x0800
#define GN_IP_HLEN    20
#define GN_TCP_HLEN   20
#define GN_IP_ICMP    1
#define GN_IP_TCP     6
#define GN_IP_UDP     17

#define GN_MS            1000000ull
#define GN_ARP_TTL_NS    (60000 * GN_MS)
#define GN_ARP_RETRY_NS  (1000 * GN_MS)
#define GN_ARP_TRIES     3
#define GN_RTO_MIN_NS    (200 * GN_MS)
#define GN_RTO_MAX_NS    (60000 * GN_MS)
#define GN_RTO_INIT_NS   (1000 * GN_MS)
#define GN_TCP_RETRIES   8 /* retransmissions before giving up */
#define GN_SYN_RETRIES   5 /* SYN-ACK retransmissions */
#define GN_FIN_WAIT2_NS  (30000 * GN_MS)
#define GN_TCP_MIN_MSS   64  /* a hostile MSS option cannot go lower */
#define GN_TCP_DEF_MSS   536 /* when the peer sends none (RFC 9293) */
#define GN_TCP_INIT_CWND 10  /* segments (RFC 6928) */

/* Advertised window: without window scaling it fits 16 bits. */
#define GN_RCV_WND (GN_TCP_RCVWND > 65535 ? 65535u : (uint32_t)GN_TCP_RCVWND)

/* TCP header flags */
#define GN_FIN 0x01
#define GN_SYN 0x02
#define GN_RST 0x04
#define GN_PSH 0x08
#define GN_ACK 0x10

enum gn_arp_state {
	GN_ARP_FREE,
	GN_ARP_INCOMPLETE,
	GN_ARP_RESOLVED
};

struct gn_arp {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;        /* enum gn_arp_state */
	uint8_t tries;        /* requests sent while INCOMPLETE */
	uint64_t when;        /* RESOLVED: expiry; INCOMPLETE: next retry */
	uint16_t pending_len; /* one frame waiting for the address, or 0 */
	uint8_t pending[GN_MAX_FRAME];
};

/*
 * Connection states.  CLOSED marks a free slot; TIME_WAIT lives in its own
 * table (struct gn_tw), never in a slot.
 */
enum gn_tcp_state {
	GN_CLOSED,
	GN_SYN_RCVD,
	GN_ESTABLISHED,
	GN_CLOSE_WAIT,
	GN_LAST_ACK,
	GN_FIN_WAIT_1,
	GN_FIN_WAIT_2,
	GN_CLOSING,
};

struct gn_state;

struct gn_tcp {
	struct gn_state *st;
	uint8_t state;    /* enum gn_tcp_state */
	uint8_t listener; /* index in st->listen */
	uint8_t retries;  /* retransmissions of the oldest unacked data */
	uint8_t dupacks;  /* duplicate ACKs in a row */
	uint8_t probes;   /* unanswered zero-window probes */
	bool fin_queued;  /* close() was called: FIN goes after the data */
	bool fin_acked;   /* and the peer has acknowledged it */
	bool rtt_timing;  /* rtt_seq is being timed (Karn: never a resent) */
	bool ack_pending; /* an ACK is owed to the peer */
	uint32_t rip;     /* peer address, port; our port */
	uint16_t rport, lport;
	uint16_t mss;      /* what we send per segment */
	uint32_t iss, irs; /* initial sequence numbers, ours and theirs */
	uint32_t snd_una;  /* oldest unacknowledged */
	uint32_t snd_nxt;  /* next to send (rewound on a timeout) */
	uint32_t snd_max;  /* highest ever sent */
	uint32_t snd_wnd;  /* the peer's window */
	uint32_t snd_wl1, snd_wl2; /* seq and ack of its last update */
	uint32_t rcv_nxt;
	uint32_t cwnd, ssthresh;
	uint32_t rtt_seq;
	uint64_t rtt_start;
	uint64_t srtt, rttvar, rto; /* ns; srtt 0 until the first sample */
	uint64_t rtx_at;            /* retransmission deadline, 0 when off */
	uint64_t persist_at;        /* zero-window probe deadline, 0 when off */
	uint64_t fw2_at; /* FIN_WAIT_2 give-up deadline, 0 when off */
	void *user;
	/* Send buffer: a ring whose first byte has sequence number snd_una
	 * (after the SYN is acknowledged). */
	uint32_t buf_head, buf_len;
	uint8_t buf[GN_TCP_SNDBUF];
};

/* A connection in TIME_WAIT: just enough to re-ACK a resent FIN. */
struct gn_tw {
	uint64_t expires; /* 0: free */
	uint32_t rip;
	uint32_t snd_nxt, rcv_nxt;
	uint16_t rport, lport;
};

struct gn_listener {
	uint16_t port; /* 0: free */
	struct gn_tcp_handler h;
	void *arg;
};

struct gn_udp_bind {
	uint16_t port; /* 0: free */
	gn_udp_fn fn;
	void *arg;
};

struct gn_state {
	struct gn_stack *pub; /* what callbacks are given */
	struct gn_config cfg;
	struct gn_driver drv;
	struct gn_stats stats;
	uint32_t mask;   /* from cfg.prefix */
	uint64_t now;    /* the latest now_ns we were given */
	uint64_t secret; /* for initial sequence numbers */
	uint16_t ip_id;
	/* The connection whose segment is being handled: its callbacks'
	 * sends and close only queue, and one output at the end sends data,
	 * FIN and ACK together (one frame, one hypercall, instead of up to
	 * three). */
	struct gn_tcp *in_input;
	struct gn_listener listen[GN_TCP_LISTEN_MAX];
	struct gn_udp_bind udp[GN_UDP_MAX];
	struct gn_arp arp[GN_ARP_MAX];
	struct gn_tw tw[GN_TIMEWAIT_MAX];
	uint8_t tx[GN_MAX_FRAME];
	struct gn_tcp tcp[GN_TCP_MAX];
};

_Static_assert(sizeof(struct gn_tw) == 24, "TIME_WAIT entry grew");
_Static_assert(sizeof(struct gn_tcp) <= GN_TCP_SNDBUF + 512,
    "connection slot outgrew its share of struct gn_stack");
_Static_assert(sizeof(struct gn_state) <= sizeof(struct gn_stack),
    "struct gn_stack's opaque size is too small");
_Static_assert(_Alignof(struct gn_state) <= _Alignof(struct gn_stack),
    "struct gn_stack is not aligned enough");

static inline struct gn_state *
gn_st(struct gn_stack *s)
{
	return (struct gn_state *)(void *)s;
}

/* Byte access to frames (network order). */
static inline uint16_t
gn_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
gn_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
gn_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
gn_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sequence number comparisons, modulo 2^32. */
static inline bool
gn_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
gn_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

/* A 64-bit mixer (the finaliser of splitmix64): enough to make initial
 * sequence numbers hard to guess from outside without a real RNG. */
static inline uint64_t
gn_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static inline uint64_t
gn_min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* stack.c: hand a complete frame to the driver, padded to 60 bytes (the
 * buffer must have room for the padding).  0 or -1. */
int gn_eth_send(struct gn_state *st, uint8_t *frame, size_t len);
/* Fill an Ethernet header: dst, our MAC, type. */
void gn_eth_header(
    struct gn_state *st, uint8_t *frame, const uint8_t *dst, uint16_t type);
extern const uint8_t gn_eth_bcast[6];

/* arp.c */
void gn_arp_input(struct gn_state *st, const uint8_t *frame, size_t len);
/* Remember that ip is at mac (an IPv4 frame came from it). */
void gn_arp_glean(struct gn_state *st, uint32_t ip, const uint8_t *mac);
/* The MAC of next hop ip, or NULL: then an ARP request has gone out and,
 * if frame is not NULL, frame (len bytes, Ethernet header to be filled
 * in) is kept to be sent once the answer comes. */
const uint8_t *gn_arp_resolve(
    struct gn_state *st, uint32_t ip, const uint8_t *frame, size_t len);
uint64_t gn_arp_timers(struct gn_state *st);

/* ip.c */
uint32_t gn_csum_add(uint32_t sum, const uint8_t *p, size_t len);
uint16_t gn_csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP and UDP checksums. */
uint32_t gn_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len);
void gn_ip_input(struct gn_state *st, const uint8_t *frame, size_t len);
bool gn_ip_onlink(const struct gn_state *st, uint32_t ip);
bool gn_ip_is_bcast(const struct gn_state *st, uint32_t ip);
/*
 * Send st->tx, whose IP payload (l4len bytes at GN_ETH_HLEN + GN_IP_HLEN)
 * is ready: fill in the IP and Ethernet headers and send it, or keep it
 * until ARP answers (if queue).  0, or -1 (no route, unresolved, driver
 * error).
 */
int gn_ip_send(struct gn_state *st, uint32_t dst, uint8_t proto, size_t l4len,
    bool df, bool queue);

/* udp.c */
void gn_udp_input(struct gn_state *st, uint32_t src, uint32_t dst,
    const uint8_t *seg, size_t len);

/* tcp_in.c */
void gn_tcp_input(
    struct gn_state *st, uint32_t src, const uint8_t *seg, size_t len);

/* tcp_out.c */
/* Send one segment of c: flags, seq, data from the send buffer at offset
 * off (len bytes), with the MSS option if syn. */
void gn_tcp_output_seg(
    struct gn_tcp *c, uint8_t flags, uint32_t seq, uint32_t off, uint32_t len);
/* Send what the windows allow, and an owed ACK if nothing else went. */
void gn_tcp_output(struct gn_tcp *c);
/* Send a segment for no connection (RST, TIME_WAIT ACK). */
void gn_tcp_send_bare(struct gn_state *st, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags);
/* Free c; `closed` is called if it had been accepted. */
void gn_tcp_drop(struct gn_tcp *c, bool reset);
/* Restart or stop the retransmission and persist timers after a change. */
void gn_tcp_arm(struct gn_tcp *c);
/* An RTT sample ended at now. */
void gn_tcp_rtt_sample(struct gn_tcp *c, uint64_t rtt);
uint64_t gn_tcp_timers(struct gn_state *st);
void gn_tcp_fast_retransmit(struct gn_tcp *c);

/* tcp_api.c */
struct gn_tw *gn_tw_find(
    struct gn_state *st, uint32_t rip, uint16_t rport, uint16_t lport);
void gn_tw_add(struct gn_state *st, const struct gn_tcp *c);

#endif /* SUMMONER_GUEST_NETSTACK_INT_H */
