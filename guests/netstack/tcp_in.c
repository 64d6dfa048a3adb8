/*
 * tcp_in.c: TCP segments in (RFC 9293 3.10.7): the passive open, the
 * acceptability of sequence numbers, RST and ACK checks, in-order data,
 * FIN, TIME_WAIT, and resets for segments that belong to nothing.
 *
 * Callbacks run in the middle of a segment's processing; after each one
 * the connection may be gone (abort) or closing (close), so the code
 * re-reads c->state rather than trusting what it saw before.
 */
#include "gn_int.h"

struct seg {
	uint32_t src;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss; /* 0 when absent */
	const uint8_t *data;
	uint32_t dlen;
};

/* Sequence space the segment occupies. */
static uint32_t
seg_len(const struct seg *sg)
{
	return sg->dlen + !!(sg->flags & GN_SYN) + !!(sg->flags & GN_FIN);
}

/* Options are the sender's to lie about: every length is checked against
 * what is left.  Only MSS matters (and only on a SYN). */
static uint16_t
parse_mss(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t kind = opt[i], olen;

		if (kind == 0) /* end of options */
			break;
		if (kind == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			break;
		if (kind == 2 && olen == 4)
			return gn_get16(opt + i + 2);
		i += olen;
	}
	return 0;
}

/* Answer a segment that belongs to no connection (RFC 9293, CLOSED). */
static void
reset_for_nothing(struct gn_state *st, const struct seg *sg)
{
	if (sg->flags & GN_RST)
		return; /* never a RST for a RST */
	if (sg->flags & GN_ACK)
		gn_tcp_send_bare(
		    st, sg->src, sg->dport, sg->sport, sg->ack, 0, GN_RST);
	else
		gn_tcp_send_bare(st, sg->src, sg->dport, sg->sport, 0,
		    sg->seq + seg_len(sg), GN_RST | GN_ACK);
}

static uint32_t
tcp_isn(const struct gn_state *st, const struct seg *sg)
{
	uint64_t h = gn_mix64(st->secret ^ ((uint64_t)sg->src << 32) ^
	                      ((uint64_t)sg->sport << 16) ^ sg->dport);

	/* Plus a clock ticking every 4 us or so, as RFC 6528 has it, so a
	 * reused tuple starts above its previous incarnation. */
	return (uint32_t)h + (uint32_t)(st->now >> 12);
}

static void
listen_input(struct gn_state *st, const struct seg *sg)
{
	struct gn_tcp *c = NULL;
	uint16_t mss;
	size_t i, l;

	for (l = 0; l < GN_TCP_LISTEN_MAX; l++)
		if (st->listen[l].port == sg->dport)
			break;
	for (i = 0; i < GN_TCP_MAX && l < GN_TCP_LISTEN_MAX; i++) {
		if (st->tcp[i].state == GN_CLOSED) {
			c = &st->tcp[i];
			break;
		}
	}
	if (c == NULL) { /* no listener, or full */
		st->stats.tcp_refused++;
		reset_for_nothing(st, sg);
		return;
	}
	memset(c, 0, offsetof(struct gn_tcp, buf));
	c->st = st;
	c->state = GN_SYN_RCVD;
	c->listener = (uint8_t)l;
	c->rip = sg->src;
	c->rport = sg->sport;
	c->lport = sg->dport;
	c->irs = sg->seq;
	c->rcv_nxt = sg->seq + 1; /* data on a SYN is not kept */
	c->iss = tcp_isn(st, sg);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_wnd = sg->wnd;
	c->snd_wl1 = sg->seq;
	mss = sg->mss ? sg->mss : GN_TCP_DEF_MSS;
	if (mss > st->cfg.mtu - GN_IP_HLEN - GN_TCP_HLEN)
		mss = (uint16_t)(st->cfg.mtu - GN_IP_HLEN - GN_TCP_HLEN);
	if (mss < GN_TCP_MIN_MSS)
		mss = GN_TCP_MIN_MSS;
	c->mss = mss;
	c->cwnd = GN_TCP_INIT_CWND * (uint32_t)mss;
	c->ssthresh = UINT32_MAX;
	c->rto = GN_RTO_INIT_NS;
	c->rtt_timing = true;
	c->rtt_seq = c->snd_nxt;
	c->rtt_start = st->now;
	gn_tcp_output_seg(c, GN_SYN, c->iss, 0, 0);
	c->rtx_at = st->now + c->rto;
}

static void
timewait_input(struct gn_state *st, struct gn_tw *t, const struct seg *sg)
{
	if (sg->flags & GN_RST)
		return; /* RFC 1337: a RST must not cut TIME_WAIT short */
	if ((sg->flags & (GN_SYN | GN_ACK)) == GN_SYN &&
	    gn_seq_lt(t->rcv_nxt, sg->seq)) {
		/* A new incarnation above the old sequence space. */
		t->expires = 0;
		listen_input(st, sg);
		return;
	}
	if (sg->dlen > 0 || (sg->flags & (GN_FIN | GN_SYN))) {
		/* A resent FIN: our ACK was lost; wait a full 2 MSL again. */
		if (sg->flags & GN_FIN)
			t->expires = st->now + GN_TIMEWAIT_NS;
		gn_tcp_send_bare(st, sg->src, sg->dport, sg->sport, t->snd_nxt,
		    t->rcv_nxt, GN_ACK);
	}
}

/* RFC 9293 3.10.7.4, first check: is any of the segment in our window? */
static bool
seq_acceptable(const struct gn_tcp *c, const struct seg *sg)
{
	uint32_t len = seg_len(sg), wnd = GN_RCV_WND;
	uint32_t lo = c->rcv_nxt, hi = c->rcv_nxt + wnd;

	if (len == 0)
		return gn_seq_le(lo, sg->seq) && gn_seq_lt(sg->seq, hi);
	return (gn_seq_le(lo, sg->seq) && gn_seq_lt(sg->seq, hi)) ||
	       (gn_seq_le(lo, sg->seq + len - 1) &&
	           gn_seq_lt(sg->seq + len - 1, hi));
}

static void
enter_timewait(struct gn_tcp *c)
{
	gn_tcp_output(c); /* the ACK of their FIN */
	gn_tw_add(c->st, c);
	gn_tcp_drop(c, false);
}

/*
 * A new acknowledgment: drop what it covers from the buffer, time the
 * round trip, grow the congestion window, and move the closing states on.
 * false if the connection is gone.
 */
static bool
ack_advance(struct gn_tcp *c, uint32_t ack)
{
	struct gn_listener *l = &c->st->listen[c->listener];
	uint32_t acked = ack - c->snd_una, bytes = acked;
	/* Our FIN follows the buffered data: an ACK past that covers it. */
	bool fin_acked = c->fin_queued && acked > c->buf_len;

	if (bytes > c->buf_len)
		bytes = c->buf_len;
	c->buf_head = (c->buf_head + bytes) % GN_TCP_SNDBUF;
	c->buf_len -= bytes;
	c->snd_una = ack;
	if (gn_seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	if (c->rtt_timing && gn_seq_le(c->rtt_seq, ack)) {
		c->rtt_timing = false;
		gn_tcp_rtt_sample(c, c->st->now - c->rtt_start);
	}
	c->retries = 0;
	c->dupacks = 0;
	c->rtx_at = 0;
	if (c->cwnd < c->ssthresh)
		c->cwnd += acked < c->mss ? acked : c->mss;
	else
		c->cwnd += c->mss * c->mss / c->cwnd + 1;
	if (c->cwnd > (1u << 30))
		c->cwnd = 1u << 30;
	if (fin_acked) {
		c->fin_acked = true;
		switch (c->state) {
		case GN_FIN_WAIT_1:
			c->state = GN_FIN_WAIT_2;
			c->fw2_at = c->st->now + GN_FIN_WAIT2_NS;
			break;
		case GN_CLOSING:
			gn_tw_add(c->st, c);
			gn_tcp_drop(c, false);
			return false;
		case GN_LAST_ACK:
			gn_tcp_drop(c, false);
			return false;
		}
	}
	if (bytes > 0 && !c->fin_queued && l->h.sent != NULL) {
		l->h.sent(l->arg, c);
		return c->state != GN_CLOSED;
	}
	return true;
}

/* The ACK field (RFC 9293 3.10.7.4, fifth check).  false: stop here. */
static bool
ack_input(struct gn_tcp *c, const struct seg *sg)
{
	struct gn_listener *l = &c->st->listen[c->listener];
	bool wnd_changed = false;

	if (c->state == GN_SYN_RCVD) {
		if (!gn_seq_lt(c->snd_una, sg->ack) ||
		    gn_seq_lt(c->snd_max, sg->ack)) {
			reset_for_nothing(c->st, sg);
			return false;
		}
		c->state = GN_ESTABLISHED;
		c->snd_wnd = sg->wnd;
		c->snd_wl1 = sg->seq;
		c->snd_wl2 = sg->ack;
		ack_advance(c, sg->ack);
		c->st->stats.tcp_accepted++;
		if (l->h.accepted != NULL)
			l->h.accepted(l->arg, c);
		return c->state != GN_CLOSED;
	}
	if (gn_seq_lt(c->snd_max, sg->ack)) {
		c->ack_pending = true; /* acknowledges the future */
		gn_tcp_output(c);
		return false;
	}
	if (gn_seq_lt(sg->ack, c->snd_una))
		return true; /* old: the data may still be good */
	c->probes = 0;
	if (gn_seq_lt(c->snd_wl1, sg->seq) ||
	    (c->snd_wl1 == sg->seq && gn_seq_le(c->snd_wl2, sg->ack))) {
		wnd_changed = c->snd_wnd != sg->wnd;
		c->snd_wnd = sg->wnd;
		c->snd_wl1 = sg->seq;
		c->snd_wl2 = sg->ack;
	}
	if (sg->ack != c->snd_una)
		return ack_advance(c, sg->ack);
	if (sg->dlen == 0 && !(sg->flags & GN_FIN) && !wnd_changed &&
	    c->snd_max != c->snd_una && ++c->dupacks == 3)
		gn_tcp_fast_retransmit(c);
	return true;
}

/* Data and FIN (the seventh and eighth checks).  false if gone. */
static bool
data_input(struct gn_tcp *c, struct seg *sg)
{
	struct gn_listener *l = &c->st->listen[c->listener];
	bool fin = sg->flags & GN_FIN;

	if (sg->dlen == 0 && !fin)
		return true;
	if (c->state != GN_ESTABLISHED && c->state != GN_FIN_WAIT_1 &&
	    c->state != GN_FIN_WAIT_2)
		return true; /* after their FIN: nothing more can come */
	if (gn_seq_lt(sg->seq, c->rcv_nxt)) {
		/* Partly old: keep the new part. */
		uint32_t skip = c->rcv_nxt - sg->seq;

		if (skip > sg->dlen + fin) {
			c->ack_pending = true;
			return true;
		}
		if (skip > sg->dlen)
			skip = sg->dlen;
		sg->data += skip;
		sg->dlen -= skip;
		sg->seq += skip;
	}
	if (sg->seq != c->rcv_nxt) {
		/* Out of order: not kept; the duplicate ACK tells the sender
		 * where we are. */
		c->ack_pending = true;
		return true;
	}
	if (sg->dlen > GN_RCV_WND) {
		sg->dlen = GN_RCV_WND;
		fin = false;
	}
	if (sg->dlen > 0) {
		c->rcv_nxt += sg->dlen;
		c->ack_pending = true;
		if (l->h.recv != NULL) {
			l->h.recv(l->arg, c, sg->data, sg->dlen);
			if (c->state == GN_CLOSED)
				return false;
		}
	}
	if (!fin)
		return true;
	c->rcv_nxt++;
	c->ack_pending = true;
	switch (c->state) {
	case GN_ESTABLISHED:
		c->state = GN_CLOSE_WAIT;
		break;
	case GN_FIN_WAIT_1:
		c->state = GN_CLOSING;
		break;
	case GN_FIN_WAIT_2:
		break;
	default: /* a callback moved it on already */
		return true;
	}
	if (l->h.peer_closed != NULL) {
		l->h.peer_closed(l->arg, c);
		if (c->state == GN_CLOSED)
			return false;
	}
	if (c->state == GN_FIN_WAIT_2) {
		enter_timewait(c);
		return false;
	}
	return true;
}

static void
conn_segment(struct gn_tcp *c, struct seg *sg)
{
	if (c->state == GN_SYN_RCVD && (sg->flags & GN_SYN) &&
	    !(sg->flags & (GN_ACK | GN_RST)) && sg->seq == c->irs) {
		/* Our SYN-ACK was lost or is slow: say it again. */
		gn_tcp_output_seg(c, GN_SYN, c->iss, 0, 0);
		return;
	}
	if (!seq_acceptable(c, sg)) {
		if (!(sg->flags & GN_RST)) {
			c->ack_pending = true;
			gn_tcp_output(c);
		}
		return;
	}
	if (sg->flags & GN_RST) {
		gn_tcp_drop(c, true);
		return;
	}
	if (sg->flags & GN_SYN) {
		/* RFC 5961 4: a challenge ACK; a real restart of the peer
		 * answers it with a RST that is then in sequence. */
		c->ack_pending = true;
		gn_tcp_output(c);
		return;
	}
	if (!(sg->flags & GN_ACK))
		return;
	if (!ack_input(c, sg))
		return;
	if (!data_input(c, sg))
		return;
	gn_tcp_output(c);
}

/* One segment for c; what its callbacks send goes out at the end. */
static void
conn_input(struct gn_tcp *c, struct seg *sg)
{
	struct gn_state *st = c->st;

	st->in_input = c;
	conn_segment(c, sg);
	st->in_input = NULL;
}

void
gn_tcp_input(struct gn_state *st, uint32_t src, const uint8_t *t, size_t len)
{
	struct seg sg;
	struct gn_tw *tw;
	size_t hlen, i;

	if (len < GN_TCP_HLEN)
		goto drop;
	hlen = (size_t)(t[12] >> 4) * 4;
	if (hlen < GN_TCP_HLEN || hlen > len)
		goto drop;
	if (gn_csum_fold(gn_csum_add(
	        gn_csum_pseudo(src, st->cfg.ip, GN_IP_TCP, len), t, len)) != 0)
		goto drop;
	sg.src = src;
	sg.sport = gn_get16(t);
	sg.dport = gn_get16(t + 2);
	sg.seq = gn_get32(t + 4);
	sg.ack = gn_get32(t + 8);
	sg.flags = t[13] & 0x3f;
	sg.wnd = gn_get16(t + 14);
	sg.data = t + hlen;
	sg.dlen = (uint32_t)(len - hlen);
	sg.mss = 0;
	if (sg.sport == 0 || sg.dport == 0)
		goto drop;
	if ((sg.flags & GN_SYN) && (sg.flags & (GN_RST | GN_FIN)))
		goto drop; /* nonsense, used only to probe */
	if (sg.flags & GN_SYN)
		sg.mss = parse_mss(t + GN_TCP_HLEN, hlen - GN_TCP_HLEN);
	st->stats.tcp_in++;
	for (i = 0; i < GN_TCP_MAX; i++) {
		struct gn_tcp *c = &st->tcp[i];

		if (c->state != GN_CLOSED && c->rip == src &&
		    c->rport == sg.sport && c->lport == sg.dport) {
			conn_input(c, &sg);
			return;
		}
	}
	tw = gn_tw_find(st, src, sg.sport, sg.dport);
	if (tw != NULL)
		timewait_input(st, tw, &sg);
	else if ((sg.flags & (GN_SYN | GN_ACK | GN_RST)) == GN_SYN)
		listen_input(st, &sg);
	else
		reset_for_nothing(st, &sg);
	return;
drop:
	st->stats.rx_dropped++;
}
