/*
 * dns.c: the answer engine.  dns_parse_query() has already judged the
 * packet; here we decide the answer from the zone table and the service
 * lookup (dns_decide), and write it straight into the caller's buffer
 * (dns_emit).  One writer serves every reply so the header, question,
 * EDNS and truncation rules hold everywhere.
 *
 * The writer allocates nothing.  It compresses names as ldns does (every
 * suffix of every name written is remembered, case-insensitively, while
 * it starts before offset 16384), so a reply has the bytes, and so the
 * size and the truncation verdict, that the ldns builder it replaced
 * gave; tests/unit/test_dns_wire.c keeps that builder and compares.
 */
#include <string.h>

#include "dns_int.h"

#define HDR_LEN 12
/* RR types and classes the engine writes or tests for. */
#define T_A        1
#define T_NS       2
#define T_SOA      6
#define T_AAAA     28
#define T_OPT      41
#define T_IXFR     251
#define T_AXFR     252
#define T_ANY      255
#define C_IN       1
#define R_NOERROR  0
#define R_FORMERR  1
#define R_SERVFAIL 2
#define R_NXDOMAIN 3
#define R_NOTIMP   4
#define R_REFUSED  5

static const char *const verdict_names[] = {
    [DNS_REPLY] = "reply",
    [DNS_DROP] = "drop",
    [DNS_HOLD] = "hold",
};

const char *
dns_verdict_name(enum dns_verdict v)
{
	if ((unsigned)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "?";
	return verdict_names[v];
}

/* Names remembered for compression; more distinct suffixes than this in
 * one reply (a pathological NS set) are written, just not pointed at. */
#define CNAMES 256

/* A reply being written into a buffer of lim bytes. */
struct writer {
	uint8_t *buf;
	size_t len, lim;
	bool full; /* something did not fit: the rest is not written */
	size_t n;  /* remembered names */
	struct {
		const uint8_t *name; /* uncompressed wire, in q or the table */
		uint16_t len, off;
	} names[CNAMES];
};

static uint8_t *
room(struct writer *w, size_t n)
{
	uint8_t *p;

	if (w->full || w->lim - w->len < n) {
		w->full = true;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void
put16(struct writer *w, uint16_t v)
{
	uint8_t *p = room(w, 2);

	if (p != NULL) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static void
put32(struct writer *w, uint32_t v)
{
	uint8_t *p = room(w, 4);

	if (p != NULL) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static void
put(struct writer *w, const void *data, size_t n)
{
	uint8_t *p = room(w, n);

	if (p != NULL)
		memcpy(p, data, n);
}

/*
 * Write the wire name (name, len), compressed: the longest suffix already
 * written becomes a pointer, and every suffix written here is remembered.
 * name must stay valid until the reply is written.
 */
static void
put_name(struct writer *w, const uint8_t *name, size_t len)
{
	while (len > 1) {
		for (size_t i = 0; i < w->n; i++) {
			if (w->names[i].len != len ||
			    (w->names[i].name != name &&
			        !dns_wname_eq(
			            w->names[i].name, len, name, len)))
				continue;
			put16(w, (uint16_t)(0xc000 | w->names[i].off));
			return;
		}
		if (w->len < 0x4000 && w->n < CNAMES) {
			w->names[w->n].name = name;
			w->names[w->n].len = (uint16_t)len;
			w->names[w->n].off = (uint16_t)w->len;
			w->n++;
		}
		put(w, name, (size_t)name[0] + 1);
		len -= (size_t)name[0] + 1;
		name += (size_t)name[0] + 1;
	}
	put(w, "", 1);
}

/* Owner, type, class IN and TTL of a record; returns where rdlength goes. */
static size_t
put_rr(struct writer *w, const uint8_t *owner, size_t olen, uint16_t type,
    uint32_t ttl)
{
	size_t at;

	put_name(w, owner, olen);
	put16(w, type);
	put16(w, C_IN);
	put32(w, ttl);
	at = w->len;
	put16(w, 0);
	return at;
}

static void
end_rr(struct writer *w, size_t at)
{
	size_t n = w->len - at - 2;

	if (!w->full) {
		w->buf[at] = (uint8_t)(n >> 8);
		w->buf[at + 1] = (uint8_t)n;
	}
}

/* The SOA; in a negative answer (authority) its TTL is the smaller of
 * its own and the SOA minimum, the negative-caching time (RFC 2308 3). */
static void
put_soa(struct writer *w, const struct dns_czone *z, bool negative)
{
	uint32_t ttl = negative && z->minimum < z->ttl ? z->minimum : z->ttl;
	size_t at = put_rr(w, z->apex.wire, z->apex.len, T_SOA, ttl);

	put_name(w, z->mname.wire, z->mname.len);
	put_name(w, z->rname.wire, z->rname.len);
	put32(w, z->serial);
	put32(w, z->refresh);
	put32(w, z->retry);
	put32(w, z->expire);
	put32(w, z->minimum);
	end_rr(w, at);
}

/* The answer section; returns its record count. */
static size_t
put_answers(
    struct writer *w, const struct dns_question *q, const struct dns_reply *r)
{
	const struct dns_addrs *a = r->addrs;
	size_t n = 0, at;

	if (r->soa_answer) {
		put_soa(w, r->zone, false);
		n++;
	}
	for (size_t i = 0; r->ns_answer && i < r->zone->nns; i++, n++) {
		at = put_rr(w, q->qname, q->qname_len, T_NS, r->zone->ttl);
		put_name(w, r->zone->ns[i].wire, r->zone->ns[i].len);
		end_rr(w, at);
	}
	for (size_t i = 0; a != NULL && r->want4 && i < a->n4 && !w->full;
	     i++, n++) {
		put_rr(w, q->qname, q->qname_len, T_A, r->ttl);
		put(w, &a->v4[i], 4);
		if (!w->full)
			w->buf[w->len - 5] = 4; /* rdlength, low byte */
	}
	for (size_t i = 0; a != NULL && r->want6 && i < a->n6 && !w->full;
	     i++, n++) {
		put_rr(w, q->qname, q->qname_len, T_AAAA, r->ttl);
		put(w, &a->v6[i], 16);
		if (!w->full)
			w->buf[w->len - 17] = 16;
	}
	return n;
}

/* Reply r in w; truncated: TC set and no records but the OPT. */
static void
write_reply(struct writer *w, const struct dns_question *q,
    const struct dns_reply *r, bool truncated)
{
	size_t an = 0, ns = 0;
	uint8_t *h;

	w->len = 0;
	w->n = 0;
	w->full = false;
	if ((h = room(w, HDR_LEN)) == NULL)
		return;
	h[0] = (uint8_t)(q->id >> 8);
	h[1] = (uint8_t)q->id;
	h[2] = (uint8_t)(0x80 | (q->opcode & 0x0f) << 3 | r->aa << 2 |
	                 truncated << 1 | q->rd);
	h[3] = (uint8_t)(q->cd << 4 | (r->rcode & 0x0f));
	h[4] = 0;
	h[5] = q->has_question;
	h[10] = 0;
	h[11] = q->edns;
	if (q->has_question) {
		put_name(w, q->qname, q->qname_len);
		put16(w, q->qtype);
		put16(w, q->qclass);
	}
	if (!truncated) {
		an = put_answers(w, q, r);
		if (r->soa_auth && r->zone != NULL) {
			put_soa(w, r->zone, true);
			ns = 1;
		}
	}
	if (q->edns) {
		put(w, "", 1); /* root */
		put16(w, T_OPT);
		put16(w, DNS_EDNS_SIZE);
		put32(w, (uint32_t)(r->rcode >> 4) << 24 |
		             (q->edns_do ? 0x8000u : 0));
		put16(w, 0);
	}
	/* More records than a count holds cannot fit 65535 bytes anyway. */
	if (an > 0xffff)
		w->full = true;
	h[6] = (uint8_t)(an >> 8);
	h[7] = (uint8_t)an;
	h[8] = (uint8_t)(ns >> 8);
	h[9] = (uint8_t)ns;
}

size_t
dns_reply_limit(const struct dns_question *q, size_t outsz)
{
	size_t lim = DNS_UDP_MIN;

	if (q->transport == DNS_TCP)
		lim = DNS_TCP_MAX;
	else if (q->edns && q->edns_size > DNS_UDP_MIN)
		lim =
		    q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
	return lim < outsz ? lim : outsz;
}

enum dns_verdict
dns_emit(const struct dns_question *q, const struct dns_reply *r, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	struct writer w;

	*outlen = 0;
	w.buf = out;
	w.lim = dns_reply_limit(q, outsz);
	for (int truncated = 0; truncated < 2; truncated++) {
		write_reply(&w, q, r, truncated);
		if (!w.full) {
			*outlen = w.len;
			return DNS_REPLY;
		}
	}
	return DNS_DROP;
}

void
dns_reply_addrs(const struct dns_question *q, const struct dns_czone *zone,
    const struct dns_addrs *a, uint32_t ttl, struct dns_reply *r)
{
	*r = (struct dns_reply){.rcode = R_NOERROR,
	    .aa = true,
	    .zone = zone,
	    .addrs = a,
	    .ttl = ttl};
	r->want4 = q->qtype == T_A || q->qtype == T_ANY;
	r->want6 = q->qtype == T_AAAA || q->qtype == T_ANY;
	if (a == NULL ||
	    ((!r->want4 || a->n4 == 0) && (!r->want6 || a->n6 == 0)))
		r->soa_auth = true;
}

static bool
addr_qtype(uint16_t t)
{
	return t == T_A || t == T_AAAA || t == T_ANY;
}

enum dns_verdict
dns_decide(const struct dns_zones *z, const uint8_t *query, size_t qlen,
    int transport, struct dns_question *q, const struct dns_service_lookup *lk,
    struct dns_reply *r, struct dns_addrs *a)
{
	const struct dns_czone *zone;
	const struct dns_cname *n;

	*r = (struct dns_reply){.rcode = R_NOERROR, .aa = true};
	switch (dns_parse_query(query, qlen, transport, q)) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		return DNS_DROP;
	case DNS_PARSE_FORMERR:
		*r = (struct dns_reply){.rcode = R_FORMERR};
		return DNS_REPLY;
	case DNS_PARSE_NOTIMP:
		*r = (struct dns_reply){.rcode = R_NOTIMP};
		return DNS_REPLY;
	case DNS_PARSE_BADVERS:
		*r = (struct dns_reply){.rcode = DNS_RCODE_BADVERS};
		return DNS_REPLY;
	}
	/* Only IN data is served; zone transfers are not offered. */
	if (q->qclass != C_IN || q->qtype == T_AXFR || q->qtype == T_IXFR ||
	    (zone = dns_zone_find(z, q->qname, q->qname_len)) == NULL) {
		*r = (struct dns_reply){.rcode = R_REFUSED};
		return DNS_REPLY;
	}
	r->zone = zone;
	n = dns_zone_name(zone, q->qname, q->qname_len);
	if (q->qname_len == zone->apex.len) { /* found under it: the apex */
		r->soa_answer = q->qtype == T_SOA || q->qtype == T_ANY;
		r->ns_answer =
		    (q->qtype == T_NS || q->qtype == T_ANY) && zone->nns > 0;
		if (r->soa_answer || r->ns_answer || n == NULL ||
		    !addr_qtype(q->qtype)) {
			r->soa_auth = !r->soa_answer && !r->ns_answer;
			return DNS_REPLY;
		}
	}
	if (n == NULL) {
		/* An empty non-terminal exists: NODATA, not NXDOMAIN. */
		if (!dns_zone_has_below(zone, q->qname, q->qname_len))
			r->rcode = R_NXDOMAIN;
		r->soa_auth = true;
		return DNS_REPLY;
	}
	if (!addr_qtype(q->qtype)) {
		r->soa_auth = true;
		return DNS_REPLY;
	}
	*a = (struct dns_addrs){n->v4, n->n4, n->v6, n->n6};
	if (n->service != NULL && lk != NULL && lk->fn != NULL) {
		switch (lk->fn(lk->arg, n->service, q->qtype, a)) {
		case DNS_SVC_READY:
			break;
		case DNS_SVC_BOOT:
			q->service = n->service;
			q->ttl = n->ttl;
			return DNS_HOLD;
		case DNS_SVC_NODATA:
			r->soa_auth = true;
			return DNS_REPLY;
		case DNS_SVC_RETIRED:
			r->rcode = R_NXDOMAIN;
			r->soa_auth = true;
			return DNS_REPLY;
		case DNS_SVC_SERVFAIL:
			r->rcode = R_SERVFAIL;
			return DNS_REPLY;
		case DNS_SVC_REFUSED:
			r->rcode = R_REFUSED;
			return DNS_REPLY;
		}
	}
	dns_reply_addrs(q, zone, a, n->ttl, r);
	return DNS_REPLY;
}

enum dns_verdict
dns_answer(const struct dns_zones *z, const uint8_t *query, size_t qlen,
    int transport, uint8_t *out, size_t outsz, size_t *outlen,
    struct dns_question *q, const struct dns_service_lookup *lk)
{
	struct dns_reply r;
	struct dns_addrs a;
	enum dns_verdict v;

	*outlen = 0;
	v = dns_decide(z, query, qlen, transport, q, lk, &r, &a);
	if (v != DNS_REPLY)
		return v;
	return dns_emit(q, &r, out, outsz, outlen);
}

enum dns_verdict
dns_answer_service(const struct dns_zones *z, const struct dns_question *q,
    const struct dns_addrs *addrs, uint8_t *out, size_t outsz, size_t *outlen)
{
	const struct dns_czone *zone = dns_zone_find(z, q->qname, q->qname_len);
	struct dns_reply r;

	dns_reply_addrs(q, zone, addrs, q->ttl, &r);
	return dns_emit(q, &r, out, outsz, outlen);
}

enum dns_verdict
dns_answer_servfail(
    const struct dns_question *q, uint8_t *out, size_t outsz, size_t *outlen)
{
	struct dns_reply r = {.rcode = R_SERVFAIL};

	return dns_emit(q, &r, out, outsz, outlen);
}
