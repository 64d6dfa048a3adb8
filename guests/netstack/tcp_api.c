/*
 * tcp_api.c: the application's side of TCP (listen, send, close, abort),
 * freeing connections, and the TIME_WAIT table.
 *
 * A handle is a slot of st->tcp.  Slots are only ever allocated by
 * gn_input() for a new SYN, never during a callback, so a callback that
 * closes or aborts its own connection leaves a slot in GN_CLOSED that the
 * code which called it checks before going on.
 */
#include "gn_int.h"

int
gn_tcp_listen(struct gn_stack *s, uint16_t port, const struct gn_tcp_handler *h,
    void *arg)
{
	struct gn_state *st = gn_st(s);
	struct gn_listener *free_slot = NULL;
	size_t i;

	if (port == 0 || h == NULL)
		return -1;
	for (i = 0; i < GN_TCP_LISTEN_MAX; i++) {
		if (st->listen[i].port == port)
			return -1;
		if (st->listen[i].port == 0 && free_slot == NULL)
			free_slot = &st->listen[i];
	}
	if (free_slot == NULL)
		return -1;
	free_slot->port = port;
	free_slot->h = *h;
	free_slot->arg = arg;
	return 0;
}

void
gn_tcp_drop(struct gn_tcp *c, bool reset)
{
	struct gn_listener *l = &c->st->listen[c->listener];
	bool accepted = c->state >= GN_ESTABLISHED;

	/* The slot is free before the callback runs, so that whatever the
	 * callback does with the handle is a harmless no-op.  user stays
	 * for the callback to read. */
	c->state = GN_CLOSED;
	c->rtx_at = c->persist_at = c->fw2_at = 0;
	c->buf_len = 0;
	if (accepted && l->h.closed != NULL)
		l->h.closed(l->arg, c, reset);
}

/* Is c an open connection the application may use? */
static bool
tcp_usable(const struct gn_tcp *c)
{
	return c != NULL && c->state != GN_CLOSED && c->state != GN_SYN_RCVD;
}

static bool
tcp_may_send(const struct gn_tcp *c)
{
	return (c->state == GN_ESTABLISHED || c->state == GN_CLOSE_WAIT) &&
	       !c->fin_queued;
}

long
gn_tcp_send(struct gn_tcp *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t n, tail, first;

	if (!tcp_usable(c))
		return -1;
	if (!tcp_may_send(c) || len == 0)
		return 0;
	n = GN_TCP_SNDBUF - c->buf_len;
	if (len < n)
		n = (uint32_t)len;
	tail = (c->buf_head + c->buf_len) % GN_TCP_SNDBUF;
	first = GN_TCP_SNDBUF - tail;
	if (first > n)
		first = n;
	memcpy(c->buf + tail, p, first);
	memcpy(c->buf, p + first, n - first);
	c->buf_len += n;
	if (c->st->in_input != c)
		gn_tcp_output(c);
	return (long)n;
}

size_t
gn_tcp_sendable(const struct gn_tcp *c)
{
	if (!tcp_usable(c) || !tcp_may_send(c))
		return 0;
	return GN_TCP_SNDBUF - c->buf_len;
}

void
gn_tcp_close(struct gn_tcp *c)
{
	if (!tcp_usable(c) || c->fin_queued)
		return;
	if (c->state == GN_ESTABLISHED)
		c->state = GN_FIN_WAIT_1;
	else if (c->state == GN_CLOSE_WAIT)
		c->state = GN_LAST_ACK;
	else
		return;
	c->fin_queued = true;
	if (c->st->in_input != c)
		gn_tcp_output(c);
}

void
gn_tcp_abort(struct gn_tcp *c)
{
	if (!tcp_usable(c))
		return;
	gn_tcp_send_bare(c->st, c->rip, c->lport, c->rport, c->snd_max,
	    c->rcv_nxt, GN_RST | GN_ACK);
	gn_tcp_drop(c, true);
}

void
gn_tcp_set_user(struct gn_tcp *c, void *user)
{
	if (c != NULL)
		c->user = user;
}

void *
gn_tcp_user(const struct gn_tcp *c)
{
	return c != NULL ? c->user : NULL;
}

uint32_t
gn_tcp_peer_ip(const struct gn_tcp *c)
{
	return c != NULL ? c->rip : 0;
}

uint16_t
gn_tcp_peer_port(const struct gn_tcp *c)
{
	return c != NULL ? c->rport : 0;
}

unsigned
gn_tcp_count(const struct gn_stack *s)
{
	const struct gn_state *st = (const struct gn_state *)(const void *)s;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < GN_TCP_MAX; i++)
		if (tcp_usable(&st->tcp[i]))
			n++;
	return n;
}

struct gn_tw *
gn_tw_find(struct gn_state *st, uint32_t rip, uint16_t rport, uint16_t lport)
{
	size_t i;

	for (i = 0; i < GN_TIMEWAIT_MAX; i++) {
		struct gn_tw *t = &st->tw[i];

		if (t->expires > st->now && t->rip == rip &&
		    t->rport == rport && t->lport == lport)
			return t;
	}
	return NULL;
}

void
gn_tw_add(struct gn_state *st, const struct gn_tcp *c)
{
	struct gn_tw *t = &st->tw[0];
	size_t i;

	/* An expired entry, or else the oldest: a busy server recycles
	 * TIME_WAIT rather than refuse connections. */
	for (i = 0; i < GN_TIMEWAIT_MAX && t->expires > st->now; i++)
		if (st->tw[i].expires < t->expires)
			t = &st->tw[i];
	t->expires = st->now + GN_TIMEWAIT_NS;
	t->rip = c->rip;
	t->rport = c->rport;
	t->lport = c->lport;
	t->snd_nxt = c->snd_max;
	t->rcv_nxt = c->rcv_nxt;
}
