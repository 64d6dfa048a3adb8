/*
 * dns.c: the answer engine.  dns_parse_query() has already judged the
 * packet; here we decide the answer from the zone table and the service
 * lookup, and build it with ldns.  One builder serves every reply so the
 * header, question, EDNS and truncation rules hold everywhere.
 */
#include <string.h>

#include "dns_int.h"

#define RCODE_BADVERS 16 /* extended: upper 8 bits go in the OPT TTL */

/* What a reply contains; build() turns it into a packet. */
struct reply {
	int rcode;
	bool aa;
	const struct dns_czone *zone; /* SOA/NS records come from here */
	bool soa_answer, ns_answer, soa_auth;
	const struct dns_addrs *addrs; /* address records */
	bool want4, want6;
	uint32_t ttl;
};

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

static ldns_rdf *
qname_rdf(const struct dns_question *q)
{
	return ldns_rdf_new_frm_data(
	    LDNS_RDF_TYPE_DNAME, q->qname_len, q->qname);
}

/* A new record; owner is consumed (freed on failure). */
static ldns_rr *
new_rr(ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = NULL;

	if (owner == NULL || (rr = ldns_rr_new()) == NULL) {
		ldns_rdf_deep_free(owner);
		return NULL;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

/* Add rdf to rr; on failure frees both the rdf and the record. */
static int
add_rdf(ldns_rr *rr, ldns_rdf *rdf)
{
	if (rdf == NULL || !ldns_rr_push_rdf(rr, rdf)) {
		ldns_rdf_deep_free(rdf);
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

static int
push(ldns_pkt *pkt, ldns_pkt_section s, ldns_rr *rr)
{
	if (rr == NULL)
		return -1;
	if (!ldns_pkt_push_rr(pkt, s, rr)) {
		ldns_rr_free(rr);
		return -1;
	}
	return 0;
}

static ldns_rr *
soa_rr(const struct dns_czone *z)
{
	ldns_rr *rr =
	    new_rr(ldns_rdf_clone(z->apex_rdf), LDNS_RR_TYPE_SOA, z->ttl);
	const uint32_t v[] = {
	    z->serial, z->refresh, z->retry, z->expire, z->minimum};

	if (rr == NULL || add_rdf(rr, ldns_rdf_clone(z->mname)) == -1 ||
	    add_rdf(rr, ldns_rdf_clone(z->rname)) == -1)
		return NULL;
	for (size_t i = 0; i < 5; i++)
		if (add_rdf(rr,
		        ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, v[i])) == -1)
			return NULL;
	return rr;
}

static int
add_answers(ldns_pkt *pkt, const struct dns_question *q, const struct reply *r)
{
	const struct dns_addrs *a = r->addrs;
	ldns_rr *rr;

	if (r->soa_answer &&
	    push(pkt, LDNS_SECTION_ANSWER, soa_rr(r->zone)) == -1)
		return -1;
	for (size_t i = 0; r->ns_answer && i < r->zone->nns; i++) {
		rr = new_rr(qname_rdf(q), LDNS_RR_TYPE_NS, r->zone->ttl);
		if (rr == NULL || add_rdf(rr, ldns_rdf_clone(r->zone->ns[i])))
			return -1;
		if (push(pkt, LDNS_SECTION_ANSWER, rr) == -1)
			return -1;
	}
	for (size_t i = 0; a != NULL && r->want4 && i < a->n4; i++) {
		rr = new_rr(qname_rdf(q), LDNS_RR_TYPE_A, r->ttl);
		if (rr == NULL ||
		    add_rdf(rr,
		        ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &a->v4[i])))
			return -1;
		if (push(pkt, LDNS_SECTION_ANSWER, rr) == -1)
			return -1;
	}
	for (size_t i = 0; a != NULL && r->want6 && i < a->n6; i++) {
		rr = new_rr(qname_rdf(q), LDNS_RR_TYPE_AAAA, r->ttl);
		if (rr == NULL ||
		    add_rdf(rr, ldns_rdf_new_frm_data(
		                    LDNS_RDF_TYPE_AAAA, 16, &a->v6[i])))
			return -1;
		if (push(pkt, LDNS_SECTION_ANSWER, rr) == -1)
			return -1;
	}
	if (r->soa_auth && r->zone != NULL &&
	    push(pkt, LDNS_SECTION_AUTHORITY, soa_rr(r->zone)) == -1)
		return -1;
	return 0;
}

/* The packet for reply r; truncated: TC set and no records but the OPT. */
static ldns_pkt *
build(const struct dns_question *q, const struct reply *r, bool truncated)
{
	ldns_pkt *pkt = NULL;
	ldns_rr *rr = NULL;

	if ((pkt = ldns_pkt_new()) == NULL)
		return NULL;
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_opcode(pkt, (ldns_pkt_opcode)q->opcode);
	ldns_pkt_set_rd(pkt, q->rd);
	ldns_pkt_set_cd(pkt, q->cd);
	ldns_pkt_set_aa(pkt, r->aa);
	ldns_pkt_set_tc(pkt, truncated);
	ldns_pkt_set_rcode(pkt, (uint8_t)(r->rcode & 0x0f));
	if (q->has_question) {
		rr = new_rr(qname_rdf(q), q->qtype, 0);
		if (rr == NULL)
			goto fail;
		ldns_rr_set_class(rr, q->qclass);
		ldns_rr_set_question(rr, true);
		if (push(pkt, LDNS_SECTION_QUESTION, rr) == -1)
			goto fail;
	}
	if (q->edns) {
		ldns_pkt_set_edns_udp_size(pkt, DNS_EDNS_SIZE);
		ldns_pkt_set_edns_version(pkt, 0);
		ldns_pkt_set_edns_do(pkt, q->edns_do);
		ldns_pkt_set_edns_extended_rcode(pkt, (uint8_t)(r->rcode >> 4));
	}
	if (!truncated && add_answers(pkt, q, r) == -1)
		goto fail;
	return pkt;
fail:
	ldns_pkt_free(pkt);
	return NULL;
}

static size_t
limit(const struct dns_question *q, size_t outsz)
{
	size_t lim = DNS_UDP_MIN;

	if (q->transport == DNS_TCP)
		lim = DNS_TCP_MAX;
	else if (q->edns && q->edns_size > DNS_UDP_MIN)
		lim =
		    q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
	return lim < outsz ? lim : outsz;
}

/* Build reply r into out, truncating if needed; DROP if nothing fits. */
static enum dns_verdict
emit(const struct dns_question *q, const struct reply *r, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	size_t lim = limit(q, outsz), size = 0;
	uint8_t *wire = NULL;
	ldns_pkt *pkt = NULL;

	*outlen = 0;
	for (int truncated = 0; truncated < 2; truncated++) {
		if ((pkt = build(q, r, truncated)) == NULL)
			return DNS_DROP;
		if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK)
			wire = NULL;
		ldns_pkt_free(pkt);
		if (wire == NULL)
			return DNS_DROP;
		if (size <= lim) {
			memcpy(out, wire, size);
			free(wire);
			*outlen = size;
			return DNS_REPLY;
		}
		free(wire);
		wire = NULL;
	}
	return DNS_DROP;
}

static enum dns_verdict
emit_rcode(const struct dns_question *q, int rcode, bool aa, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	struct reply r = {.rcode = rcode, .aa = aa};

	return emit(q, &r, out, outsz, outlen);
}

/* Address records for qtype from a, or NODATA with the SOA. */
static enum dns_verdict
emit_addrs(const struct dns_question *q, const struct dns_czone *zone,
    const struct dns_addrs *a, uint32_t ttl, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	struct reply r = {.rcode = LDNS_RCODE_NOERROR,
	    .aa = true,
	    .zone = zone,
	    .addrs = a,
	    .ttl = ttl};

	r.want4 = q->qtype == LDNS_RR_TYPE_A || q->qtype == LDNS_RR_TYPE_ANY;
	r.want6 = q->qtype == LDNS_RR_TYPE_AAAA || q->qtype == LDNS_RR_TYPE_ANY;
	if (a == NULL || ((!r.want4 || a->n4 == 0) && (!r.want6 || a->n6 == 0)))
		r.soa_auth = true;
	return emit(q, &r, out, outsz, outlen);
}

static bool
addr_qtype(uint16_t t)
{
	return t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA ||
	       t == LDNS_RR_TYPE_ANY;
}

enum dns_verdict
dns_answer(const struct dns_zones *z, const uint8_t *query, size_t qlen,
    int transport, uint8_t *out, size_t outsz, size_t *outlen,
    struct dns_question *q, const struct dns_service_lookup *lk)
{
	struct reply r = {.rcode = LDNS_RCODE_NOERROR, .aa = true};
	const struct dns_czone *zone;
	const struct dns_cname *n;
	struct dns_addrs a;

	*outlen = 0;
	switch (dns_parse_query(query, qlen, transport, q)) {
	case DNS_PARSE_OK:
		break;
	case DNS_PARSE_DROP:
		return DNS_DROP;
	case DNS_PARSE_FORMERR:
		return emit_rcode(
		    q, LDNS_RCODE_FORMERR, false, out, outsz, outlen);
	case DNS_PARSE_NOTIMP:
		return emit_rcode(
		    q, LDNS_RCODE_NOTIMPL, false, out, outsz, outlen);
	case DNS_PARSE_BADVERS:
		return emit_rcode(q, RCODE_BADVERS, false, out, outsz, outlen);
	}
	/* Only IN data is served; zone transfers are not offered. */
	if (q->qclass != LDNS_RR_CLASS_IN || q->qtype == LDNS_RR_TYPE_AXFR ||
	    q->qtype == LDNS_RR_TYPE_IXFR)
		return emit_rcode(
		    q, LDNS_RCODE_REFUSED, false, out, outsz, outlen);
	if ((zone = dns_zone_find(z, q->qname, q->qname_len)) == NULL)
		return emit_rcode(
		    q, LDNS_RCODE_REFUSED, false, out, outsz, outlen);
	r.zone = zone;
	n = dns_zone_name(zone, q->qname, q->qname_len);
	if (dns_wname_eq(
	        q->qname, q->qname_len, zone->apex.wire, zone->apex.len)) {
		r.soa_answer = q->qtype == LDNS_RR_TYPE_SOA ||
		               q->qtype == LDNS_RR_TYPE_ANY;
		r.ns_answer = (q->qtype == LDNS_RR_TYPE_NS ||
		                  q->qtype == LDNS_RR_TYPE_ANY) &&
		              zone->nns > 0;
		if (r.soa_answer || r.ns_answer || n == NULL ||
		    !addr_qtype(q->qtype)) {
			r.soa_auth = !r.soa_answer && !r.ns_answer;
			return emit(q, &r, out, outsz, outlen);
		}
	}
	if (n == NULL) {
		/* An empty non-terminal exists: NODATA, not NXDOMAIN. */
		if (!dns_zone_has_below(zone, q->qname, q->qname_len))
			r.rcode = LDNS_RCODE_NXDOMAIN;
		r.soa_auth = true;
		return emit(q, &r, out, outsz, outlen);
	}
	if (!addr_qtype(q->qtype)) {
		r.soa_auth = true;
		return emit(q, &r, out, outsz, outlen);
	}
	a = (struct dns_addrs){n->v4, n->n4, n->v6, n->n6};
	if (n->service != NULL && lk != NULL && lk->fn != NULL) {
		switch (lk->fn(lk->arg, n->service, q->qtype, &a)) {
		case DNS_SVC_READY:
			break;
		case DNS_SVC_BOOT:
			q->service = n->service;
			q->ttl = n->ttl;
			return DNS_HOLD;
		case DNS_SVC_NODATA:
			r.soa_auth = true;
			return emit(q, &r, out, outsz, outlen);
		case DNS_SVC_RETIRED:
			r.rcode = LDNS_RCODE_NXDOMAIN;
			r.soa_auth = true;
			return emit(q, &r, out, outsz, outlen);
		}
	}
	return emit_addrs(q, zone, &a, n->ttl, out, outsz, outlen);
}

enum dns_verdict
dns_answer_service(const struct dns_zones *z, const struct dns_question *q,
    const struct dns_addrs *addrs, uint8_t *out, size_t outsz, size_t *outlen)
{
	const struct dns_czone *zone = dns_zone_find(z, q->qname, q->qname_len);

	return emit_addrs(q, zone, addrs, q->ttl, out, outsz, outlen);
}

enum dns_verdict
dns_answer_servfail(
    const struct dns_question *q, uint8_t *out, size_t outsz, size_t *outlen)
{
	return emit_rcode(q, LDNS_RCODE_SERVFAIL, false, out, outsz, outlen);
}
