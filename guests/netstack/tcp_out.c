/*
 * tcp_out.c: TCP segments out, the send window, retransmission (RFC 6298
 * timer, Karn's rule, exponential back-off), zero-window probes, and
 * congestion control in its simplest form (slow start, congestion
 * avoidance, a timeout drops to one segment, RFC 5681).
 *
 * Sequence numbers: snd_una is the oldest unacknowledged, snd_max the
 * highest sent, snd_nxt the next to send; a timeout rewinds snd_nxt to
 * snd_una and sending resumes from there (go-back-N: the receiver keeps
 * no out-of-order data either).  The send buffer's first byte is snd_una;
 * the FIN, once queued, follows its last byte.
 */
#include "gn_int.h"

#define MSS_OPT_LEN 4

/* Build a segment in st->tx and send it.  data: len bytes taken from the
 * ring buf (size GN_TCP_SNDBUF) at pos, or nothing if buf is NULL. */
static void
tcp_xmit(struct gn_state *st, uint32_t dst, uint16_t sport, uint16_t dport,
    uint32_t seq, uint32_t ack, uint8_t flags, uint16_t mss, const uint8_t *buf,
    uint32_t pos, uint32_t len)
{
	uint8_t *t = st->tx + GN_ETH_HLEN + GN_IP_HLEN;
	size_t hlen = GN_TCP_HLEN + (mss ? MSS_OPT_LEN : 0), tlen;

	gn_put16(t, sport);
	gn_put16(t + 2, dport);
	gn_put32(t + 4, seq);
	gn_put32(t + 8, (flags & GN_ACK) ? ack : 0);
	t[12] = (uint8_t)(hlen / 4) << 4;
	t[13] = flags;
	gn_put16(t + 14, (uint16_t)GN_RCV_WND);
	gn_put16(t + 16, 0);
	gn_put16(t + 18, 0);
	if (mss) {
		t[20] = 2; /* MSS */
		t[21] = MSS_OPT_LEN;
		gn_put16(t + 22, mss);
	}
	if (buf != NULL && len > 0) {
		uint32_t first = GN_TCP_SNDBUF - pos;

		if (first > len)
			first = len;
		memcpy(t + hlen, buf + pos, first);
		memcpy(t + hlen + first, buf, len - first);
	}
	tlen = hlen + len;
	gn_put16(t + 16,
	    gn_csum_fold(gn_csum_add(
	        gn_csum_pseudo(st->cfg.ip, dst, GN_IP_TCP, tlen), t, tlen)));
	st->stats.tcp_out++;
	if (flags & GN_RST)
		st->stats.tcp_rst_out++;
	gn_ip_send(st, dst, GN_IP_TCP, tlen, true, true);
}

void
gn_tcp_send_bare(struct gn_state *st, uint32_t dst, uint16_t sport,
    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	tcp_xmit(st, dst, sport, dport, seq, ack, flags, 0, NULL, 0, 0);
}

void
gn_tcp_output_seg(
    struct gn_tcp *c, uint8_t flags, uint32_t seq, uint32_t off, uint32_t len)
{
	struct gn_state *st = c->st;
	uint16_t mss = 0;

	if (flags & GN_SYN)
		mss = (uint16_t)(st->cfg.mtu - GN_IP_HLEN - GN_TCP_HLEN);
	c->ack_pending = false; /* every segment carries the ACK */
	tcp_xmit(st, c->rip, c->lport, c->rport, seq, c->rcv_nxt,
	    flags | GN_ACK, mss, c->buf, (c->buf_head + off) % GN_TCP_SNDBUF,
	    len);
}

/* Data not yet sent, or a FIN not yet sent: what a window must open
 * for. */
static bool
tcp_unsent(const struct gn_tcp *c)
{
	uint32_t off = c->snd_nxt - c->snd_una;

	return off < c->buf_len ||
	       (c->fin_queued && !c->fin_acked && off == c->buf_len);
}

void
gn_tcp_arm(struct gn_tcp *c)
{
	uint64_t now = c->st->now;

	if (c->state == GN_CLOSED || c->state == GN_SYN_RCVD)
		return;
	if (c->snd_una != c->snd_max) {
		if (c->rtx_at == 0)
			c->rtx_at = now + c->rto;
		c->persist_at = 0;
		return;
	}
	c->rtx_at = 0;
	if (c->snd_wnd == 0 && tcp_unsent(c)) {
		if (c->persist_at == 0)
			c->persist_at = now + c->rto;
	} else {
		c->persist_at = 0;
		c->retries = 0;
	}
}

void
gn_tcp_output(struct gn_tcp *c)
{
	if (c->state == GN_CLOSED)
		return;
	while (c->state != GN_SYN_RCVD) {
		uint32_t off = c->snd_nxt - c->snd_una;
		uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
		uint32_t room = wnd > off ? wnd - off : 0, n;
		uint8_t flags = GN_ACK;
		bool fin;

		if (off > c->buf_len)
			break; /* the FIN is out */
		n = c->buf_len - off;
		if (n > c->mss)
			n = c->mss;
		if (n > room)
			n = room;
		/* The FIN needs the window to have room for it too. */
		fin = c->fin_queued && !c->fin_acked && off + n == c->buf_len &&
		      room > n;
		if (n == 0 && !fin)
			break;
		if (n > 0 && off + n == c->buf_len)
			flags |= GN_PSH;
		if (fin)
			flags |= GN_FIN;
		if (!c->rtt_timing && c->snd_nxt == c->snd_max) {
			c->rtt_timing = true;
			c->rtt_seq = c->snd_nxt + n + fin;
			c->rtt_start = c->st->now;
		}
		gn_tcp_output_seg(c, flags, c->snd_nxt, off, n);
		c->snd_nxt += n + fin;
		if (gn_seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
	}
	if (c->ack_pending)
		gn_tcp_output_seg(c, GN_ACK, c->snd_nxt, 0, 0);
	gn_tcp_arm(c);
}

void
gn_tcp_rtt_sample(struct gn_tcp *c, uint64_t rtt)
{
	uint64_t var;

	if (rtt == 0)
		rtt = 1; /* srtt 0 means "no sample yet" */
	if (c->srtt == 0) {
		c->srtt = rtt;
		c->rttvar = rtt / 2;
	} else {
		uint64_t delta = c->srtt > rtt ? c->srtt - rtt : rtt - c->srtt;

		c->rttvar = (3 * c->rttvar + delta) / 4;
		c->srtt = (7 * c->srtt + rtt) / 8;
	}
	var = 4 * c->rttvar;
	if (var < GN_MS)
		var = GN_MS; /* the clock granularity G of RFC 6298 */
	c->rto = c->srtt + var;
	if (c->rto < GN_RTO_MIN_NS)
		c->rto = GN_RTO_MIN_NS;
	if (c->rto > GN_RTO_MAX_NS)
		c->rto = GN_RTO_MAX_NS;
}

/* Resend the oldest unacknowledged segment (not minding the window: the
 * receiver drops what it cannot take and tells us so).  Returns the
 * sequence space it covers. */
static uint32_t
tcp_resend_first(struct gn_tcp *c)
{
	uint32_t n = c->buf_len < c->mss ? c->buf_len : c->mss;
	uint8_t flags = GN_ACK | (n ? GN_PSH : 0);
	bool fin = c->fin_queued && !c->fin_acked && n == c->buf_len &&
	           c->snd_max == c->snd_una + c->buf_len + 1;

	if (fin)
		flags |= GN_FIN;
	c->rtt_timing = false; /* Karn: never time a resent segment */
	c->st->stats.tcp_retransmits++;
	gn_tcp_output_seg(c, flags, c->snd_una, 0, n);
	return n + fin;
}

/* Fast retransmit after three duplicate ACKs (RFC 5681, without the
 * window inflation of fast recovery). */
void
gn_tcp_fast_retransmit(struct gn_tcp *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->cwnd = c->ssthresh;
	tcp_resend_first(c);
}

static void
tcp_give_up(struct gn_tcp *c)
{
	c->st->stats.tcp_timeouts++;
	gn_tcp_send_bare(c->st, c->rip, c->lport, c->rport, c->snd_max,
	    c->rcv_nxt, GN_RST | GN_ACK);
	gn_tcp_drop(c, true);
}

static uint64_t
backoff(uint64_t rto, unsigned n)
{
	while (n-- > 0 && rto < GN_RTO_MAX_NS)
		rto *= 2;
	return rto < GN_RTO_MAX_NS ? rto : GN_RTO_MAX_NS;
}

static void
tcp_rtx_timeout(struct gn_tcp *c)
{
	struct gn_state *st = c->st;
	uint32_t flight = c->snd_max - c->snd_una;

	if (c->state == GN_SYN_RCVD) {
		if (c->retries >= GN_SYN_RETRIES) {
			gn_tcp_drop(c, true); /* never accepted: no callback */
			return;
		}
		c->retries++;
		st->stats.tcp_retransmits++;
		c->rto = backoff(c->rto, 1);
		c->rtt_timing = false;
		gn_tcp_output_seg(c, GN_SYN, c->iss, 0, 0);
		c->rtx_at = st->now + c->rto;
		return;
	}
	if (c->retries >= GN_TCP_RETRIES) {
		tcp_give_up(c);
		return;
	}
	c->retries++;
	c->rto = backoff(c->rto, 1);
	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->cwnd = c->mss;
	c->dupacks = 0;
	c->snd_nxt = c->snd_una + tcp_resend_first(c);
	c->rtx_at = st->now + c->rto;
}

/* The peer's window is shut and we have something to send: ask for its
 * window again with a segment just below it, which any TCP answers with
 * an ACK carrying the window (RFC 9293 3.8.6.1 allows either form). */
static void
tcp_persist_timeout(struct gn_tcp *c)
{
	if (c->probes >= GN_TCP_RETRIES) {
		tcp_give_up(c);
		return;
	}
	c->probes++;
	if (c->retries < 16)
		c->retries++;
	gn_tcp_output_seg(c, GN_ACK, c->snd_una - 1, 0, 0);
	c->persist_at = c->st->now + backoff(c->rto, c->retries);
}

uint64_t
gn_tcp_timers(struct gn_state *st)
{
	uint64_t next = UINT64_MAX, now = st->now;
	size_t i;

	for (i = 0; i < GN_TCP_MAX; i++) {
		struct gn_tcp *c = &st->tcp[i];

		if (c->state == GN_CLOSED)
			continue;
		if (c->fw2_at != 0 && c->fw2_at <= now) {
			/* The peer never closed its half: forget it. */
			gn_tcp_send_bare(st, c->rip, c->lport, c->rport,
			    c->snd_max, c->rcv_nxt, GN_RST | GN_ACK);
			gn_tcp_drop(c, true);
			continue;
		}
		if (c->rtx_at != 0 && c->rtx_at <= now)
			tcp_rtx_timeout(c);
		else if (c->persist_at != 0 && c->persist_at <= now)
			tcp_persist_timeout(c);
		if (c->state == GN_CLOSED)
			continue;
		if (c->rtx_at != 0)
			next = gn_min64(next, c->rtx_at);
		if (c->persist_at != 0)
			next = gn_min64(next, c->persist_at);
		if (c->fw2_at != 0)
			next = gn_min64(next, c->fw2_at);
	}
	return next;
}
