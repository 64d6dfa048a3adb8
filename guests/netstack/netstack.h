/*
 * netstack.h: the guests' network stack, its whole interface.
 *
 * Ethernet, ARP, IPv4, ICMP echo, UDP and TCP, enough for a real HTTP/1.1
 * server.  Freestanding C without allocation and without a clock or a
 * device of its own: the caller hands it received frames (gn_input), the
 * time (every call that needs it takes now_ns), and a function that sends
 * one frame (struct gn_driver).  The same code therefore runs in a guest
 * and, for the unit tests, in an ordinary host process.  Like any code gcc
 * compiles, it expects memcpy/memset/memcmp/memmove to exist.
 *
 * Single-threaded, no interrupts, no reentrancy: callbacks run from inside
 * gn_input() and gn_timers(); they may call gn_tcp_send/close/abort and
 * gn_udp_send (which may in turn send frames) but never gn_input().
 *
 * Every received frame is untrusted: any bytes of any length are safe to
 * pass to gn_input().
 *
 * Storage is fixed (struct gn_stack holds it all; put it in .bss): at most
 * GN_TCP_MAX connections, GN_TCP_SNDBUF bytes of unacknowledged or unsent
 * data per connection, GN_TIMEWAIT_MAX connections in TIME_WAIT (kept
 * apart, in a few bytes each, so a busy server's closed connections do not
 * hold connection slots).
 *
 * Addresses and ports in this interface are in host byte order.
 */
#ifndef SUMMONER_GUEST_NETSTACK_H
#define SUMMONER_GUEST_NETSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_TCP_MAX    64    /* connections open at once (incl. SYN_RCVD) */
#define GN_TCP_SNDBUF 16384 /* bytes buffered for sending, per connection */
/* The window we advertise (data is handed over at once, so it never
 * shrinks). */
#define GN_TCP_RCVWND     32768
#define GN_TIMEWAIT_MAX   1024
#define GN_TIMEWAIT_NS    2000000000ull /* 2 s: 2 MSL on a local bridge */
#define GN_UDP_MAX        8             /* bound UDP ports */
#define GN_TCP_LISTEN_MAX 4             /* listening TCP ports */
#define GN_ARP_MAX        32            /* ARP cache entries */
#define GN_MAX_FRAME      1514          /* largest frame sent or accepted */

struct gn_stack;
struct gn_tcp;

/* How the stack sends a frame: 0, or -1 (the frame is dropped; TCP will
 * retransmit). */
struct gn_driver {
	int (*tx)(void *ctx, const void *frame, size_t len);
	void *ctx;
};

struct gn_config {
	uint8_t mac[6];
	uint16_t mtu;     /* IP MTU, 68..1500; 0 means 1500 */
	uint32_t ip;      /* ours */
	uint8_t prefix;   /* 0..32; on-link addresses are reached directly */
	uint32_t gateway; /* 0 when none: off-link destinations are dropped */
};

/* Counters for the curious (and the tests). */
struct gn_stats {
	uint64_t rx_frames, tx_frames, tx_errors;
	uint64_t rx_dropped;   /* malformed, bad checksum, not for us, ... */
	uint64_t arp_requests; /* ARP requests we sent (not gratuitous) */
	uint64_t arp_replies;  /* ARP replies we sent */
	uint64_t icmp_echo;    /* echo replies sent */
	uint64_t udp_in, udp_out, udp_noport;
	uint64_t tcp_in, tcp_out, tcp_rst_out, tcp_retransmits;
	uint64_t tcp_accepted, tcp_refused; /* refused: no listener or full */
	uint64_t tcp_timeouts;              /* connections given up */
};

/*
 * UDP: a datagram for a bound port.  data is valid only during the call.
 */
typedef void (*gn_udp_fn)(void *arg, struct gn_stack *s, uint32_t src_ip,
    uint16_t src_port, uint16_t dst_port, const uint8_t *data, size_t len);

/*
 * TCP: what a listener is told about each of its connections.  Every
 * member may be NULL.  A connection's user pointer (gn_tcp_set_user) is
 * NULL until the application sets it.
 *
 * accepted:  the handshake completed; the connection is ESTABLISHED.
 * recv:      in-order data; data is valid only during the call.  The
 *            application must take all of it (it is acknowledged).
 * sent:      some buffered data was acknowledged: room to send more.
 * peer_closed: the peer sent FIN (no more recv); we may still send.
 * closed:    the connection is gone (closed both ways, reset, or timed
 *            out); reset is true unless it ended with FINs both ways.
 *            After this call the handle must not be used again.
 */
struct gn_tcp_handler {
	void (*accepted)(void *arg, struct gn_tcp *c);
	void (*recv)(
	    void *arg, struct gn_tcp *c, const uint8_t *data, size_t len);
	void (*sent)(void *arg, struct gn_tcp *c);
	void (*peer_closed)(void *arg, struct gn_tcp *c);
	void (*closed)(void *arg, struct gn_tcp *c, bool reset);
};

/*
 * The stack's whole state.  Its members are private: use the functions.
 * (Declared here only so that it can live in .bss with a known size: per
 * connection its send buffer and 512 bytes, 24 bytes per TIME_WAIT entry,
 * per ARP entry one frame waiting for the answer, and 8 KiB for the rest;
 * the code checks at compile time that this is enough.)
 */
struct gn_stack {
	uint64_t
	    opaque[(GN_TCP_MAX * (GN_TCP_SNDBUF + 512) + GN_TIMEWAIT_MAX * 24 +
	               GN_ARP_MAX * (GN_MAX_FRAME + 64) + 8192) /
	           8];
};

/*
 * Set up s with cfg and drv.  s must be all zero before the first call (a
 * static struct gn_stack is: that is the intended use; to start over,
 * zero it again first); gn_init() clears only its small head, so that a
 * guest does not fault in a megabyte of connection tables at boot.  0,
 * or -1 if cfg is invalid.
 */
int gn_init(struct gn_stack *s, const struct gn_config *cfg,
    const struct gn_driver *drv, uint64_t now_ns);

/* Handle one received Ethernet frame (without FCS), of any content. */
void gn_input(
    struct gn_stack *s, const uint8_t *frame, size_t len, uint64_t now_ns);

/*
 * Run what is due at now_ns (retransmissions, TIME_WAIT ends, ARP
 * retries, give-ups).  Returns the time the next timer falls due
 * (UINT64_MAX when none): the caller polls for input at most until then.
 */
uint64_t gn_timers(struct gn_stack *s, uint64_t now_ns);

/* Send a gratuitous ARP request for our address, so that hosts and
 * bridges learn where it lives at once.  0, or -1 if it could not be
 * sent. */
int gn_announce(struct gn_stack *s);

const struct gn_stats *gn_stats(const struct gn_stack *s);

/* ---- UDP ---- */

/* Deliver datagrams for port to fn.  0, or -1 (port 0, taken, or full). */
int gn_udp_bind(struct gn_stack *s, uint16_t port, gn_udp_fn fn, void *arg);

/* Send one datagram (len up to mtu - 28).  0, or -1: too long, no route,
 * or the destination's address is not resolved yet (an ARP request has
 * been sent; the datagram is dropped, as a UDP datagram may be). */
int gn_udp_send(struct gn_stack *s, uint16_t src_port, uint32_t dst_ip,
    uint16_t dst_port, const void *data, size_t len);

/* ---- TCP (server side) ---- */

/* Accept connections on port, reporting to h with arg.  0, or -1. */
int gn_tcp_listen(struct gn_stack *s, uint16_t port,
    const struct gn_tcp_handler *h, void *arg);

/*
 * Queue up to len bytes for sending; returns how many were taken (0 when
 * the buffer is full, or the connection is closing), or -1 if the handle
 * is not an open connection.  Data goes out at once as far as the peer's
 * window allows, the rest as acknowledgments arrive.
 */
long gn_tcp_send(struct gn_tcp *c, const void *data, size_t len);
/* Room left in the send buffer. */
size_t gn_tcp_sendable(const struct gn_tcp *c);
/* Send FIN after whatever is buffered.  The `closed` callback follows
 * once the peer has closed too (or gives up). */
void gn_tcp_close(struct gn_tcp *c);
/* Reset the connection now; `closed` is called (reset) before return. */
void gn_tcp_abort(struct gn_tcp *c);

void gn_tcp_set_user(struct gn_tcp *c, void *user);
void *gn_tcp_user(const struct gn_tcp *c);
/* The peer's address and port. */
uint32_t gn_tcp_peer_ip(const struct gn_tcp *c);
uint16_t gn_tcp_peer_port(const struct gn_tcp *c);

/* Connections that are open (not counting TIME_WAIT): for X_CONNS. */
unsigned gn_tcp_count(const struct gn_stack *s);

/* ---- helpers ---- */

/*
 * Take the network settings out of a guest's arguments, as MirageOS
 * unikernels receive them: "--ipv4=A.B.C.D/N" and "--ipv4-gateway=A.B.C.D"
 * (either "--opt=value" or "--opt value").  Recognised arguments are
 * removed from argv (argc updated); others keep their order.  Fills ip,
 * prefix and gateway of cfg.  0, or -1 with a message in err (a malformed
 * value, or no --ipv4 at all).
 */
int gn_config_args(
    int *argc, char **argv, struct gn_config *cfg, char *err, size_t errlen);

/* "a.b.c.d" to host order; 0, or -1 if malformed. */
int gn_parse_ip(const char *str, uint32_t *ip);
/* host order to "a.b.c.d" into buf[16]. */
void gn_format_ip(uint32_t ip, char buf[16]);

#endif /* SUMMONER_GUEST_NETSTACK_H */
