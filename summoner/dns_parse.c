/*
 * dns_parse.c: the one place where an untrusted DNS packet is read.
 *
 * ldns does the wire decoding (names with compression, resource records);
 * this file decides what the summoner accepts.  A query is one header, one
 * question, no answer or authority records, at most one OPT in the
 * additional section, and nothing after its last record.  Anything else is
 * FORMERR, answered with whatever of the header we could read.
 *
 * Nearly every query is one plain question, perhaps with one OPT, and
 * reading that needs no allocation: fast_query() takes those and hands
 * anything else (a malformed name, another record, trailing bytes) to
 * the ldns path, so the verdict on an odd packet is whatever it always
 * was.  The unit tests and the fuzz target check that both paths agree.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "dns_int.h"

#define HDR_LEN 12
#define OPT_LEN 11 /* root owner, type, class, TTL, rdlength */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Read the additional section; only OPT matters, others are skipped. */
static enum dns_parse_status
parse_additional(const uint8_t *pkt, size_t len, size_t *pos, uint16_t arcount,
    struct dns_question *q)
{
	ldns_rr *rr = NULL;
	unsigned nopt = 0;
	uint8_t version = 0;
	uint32_t ttl;

	for (uint16_t i = 0; i < arcount; i++) {
		if (ldns_wire2rr(&rr, pkt, len, pos, LDNS_SECTION_ADDITIONAL) !=
		    LDNS_STATUS_OK)
			return DNS_PARSE_FORMERR;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
			nopt++;
			/* RFC 6891 6.1.1: the OPT owner is the root. */
			if (ldns_rdf_size(ldns_rr_owner(rr)) != 1) {
				ldns_rr_free(rr);
				return DNS_PARSE_FORMERR;
			}
			ttl = ldns_rr_ttl(rr);
			q->edns_size = (uint16_t)ldns_rr_get_class(rr);
			version = (uint8_t)(ttl >> 16);
			q->edns_do = (ttl & 0x8000) != 0;
		}
		ldns_rr_free(rr);
		rr = NULL;
	}
	if (nopt > 1)
		return DNS_PARSE_FORMERR; /* RFC 6891 6.1.1 */
	if (nopt == 1) {
		q->edns = true;
		if (version > 0)
			return DNS_PARSE_BADVERS;
	}
	return DNS_PARSE_OK;
}

enum dns_parse_status
dns_parse_query_ldns(
    const uint8_t *pkt, size_t len, int transport, struct dns_question *q)
{
	ldns_rdf *name = NULL;
	size_t pos = HDR_LEN;
	enum dns_parse_status st;

	memset(q, 0, sizeof(*q));
	q->transport = transport;
	if (pkt == NULL || len < HDR_LEN)
		return DNS_PARSE_DROP;
	if (pkt[2] & 0x80)
		return DNS_PARSE_DROP; /* QR: never answer a response */
	q->id = get16(pkt);
	q->opcode = (pkt[2] >> 3) & 0x0f;
	q->rd = (pkt[2] & 0x01) != 0;
	q->cd = (pkt[3] & 0x10) != 0;
	if (q->opcode != LDNS_PACKET_QUERY)
		return DNS_PARSE_NOTIMP;
	/* One authority record is allowed only for IXFR (checked below). */
	if (get16(pkt + 4) != 1 || get16(pkt + 6) != 0 || get16(pkt + 8) > 1)
		return DNS_PARSE_FORMERR;

	/*
	 * The question is the first name in the packet, so a compression
	 * pointer in it can only aim at the header or loop back into the
	 * name: refuse it before ldns would follow up to LDNS_MAX_POINTERS
	 * of them.  ldns then bounds every label and the 255-byte total.
	 */
	for (size_t p = pos; p < len && pkt[p] != 0; p += (size_t)pkt[p] + 1)
		if (pkt[p] & 0xc0)
			return DNS_PARSE_FORMERR;
	if (ldns_wire2dname(&name, pkt, len, &pos) != LDNS_STATUS_OK)
		return DNS_PARSE_FORMERR;
	if (ldns_rdf_size(name) > DNS_MAXNAME || len - pos < 4) {
		ldns_rdf_deep_free(name);
		return DNS_PARSE_FORMERR;
	}
	q->qname_len = ldns_rdf_size(name);
	memcpy(q->qname, ldns_rdf_data(name), q->qname_len);
	ldns_rdf_deep_free(name);
	q->qtype = get16(pkt + pos);
	q->qclass = get16(pkt + pos + 2);
	pos += 4;
	q->has_question = true;

	/* RFC 1995: an IXFR query carries the client's SOA in the authority
	 * section.  Read and check it, so the query gets its REFUSED. */
	if (get16(pkt + 8) == 1) {
		ldns_rr *rr = NULL;
		bool ok = q->qtype == LDNS_RR_TYPE_IXFR &&
		          ldns_wire2rr(&rr, pkt, len, &pos,
		              LDNS_SECTION_AUTHORITY) == LDNS_STATUS_OK &&
		          ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA;

		ldns_rr_free(rr);
		if (!ok) {
			q->has_question = false;
			return DNS_PARSE_FORMERR;
		}
	}

	st = parse_additional(pkt, len, &pos, get16(pkt + 10), q);
	if (st == DNS_PARSE_FORMERR)
		q->edns = false; /* unknown: do not echo an OPT */
	if (st != DNS_PARSE_OK)
		return st;
	if (pos != len) {
		q->edns = false;
		return DNS_PARSE_FORMERR; /* trailing garbage */
	}
	return DNS_PARSE_OK;
}

/*
 * The common shapes, without ldns: true when *st is the verdict, false
 * when the packet needs the full path (which then decides afresh).
 */
static bool
fast_query(const uint8_t *pkt, size_t len, int transport,
    struct dns_question *q, enum dns_parse_status *st)
{
	size_t pos = HDR_LEN, rdlen;
	uint16_t arcount;
	uint32_t ttl;

	if (pkt == NULL || len < HDR_LEN || (pkt[2] & 0x80) ||
	    ((pkt[2] >> 3) & 0x0f) != LDNS_PACKET_QUERY ||
	    get16(pkt + 4) != 1 || get16(pkt + 6) != 0 || get16(pkt + 8) != 0)
		return false;
	/* Plain labels only; a pointer or a bad label goes the long way. */
	while (pos < len && pkt[pos] != 0) {
		if (pkt[pos] > 63 || pos - HDR_LEN + pkt[pos] + 2 > DNS_MAXNAME)
			return false;
		pos += (size_t)pkt[pos] + 1;
	}
	if (pos >= len || len - pos - 1 < 4)
		return false;
	pos++;
	arcount = get16(pkt + 10);
	if (arcount == 0) {
		if (len - pos != 4)
			return false;
	} else if (arcount == 1) {
		/* One OPT owned by the root, its rdata ending the packet. */
		if (len - pos < 4 + OPT_LEN || pkt[pos + 4] != 0 ||
		    get16(pkt + pos + 5) != LDNS_RR_TYPE_OPT)
			return false;
		rdlen = get16(pkt + pos + 13);
		if (len - pos - 4 - OPT_LEN != rdlen)
			return false;
	} else
		return false;

	/*
	 * Field by field: clearing the whole struct (qname's 255 bytes and
	 * all) costs more than the rest of the parse.  Bytes of qname past
	 * qname_len are left as they were.
	 */
	q->transport = transport;
	q->id = get16(pkt);
	q->opcode = LDNS_PACKET_QUERY;
	q->rd = (pkt[2] & 0x01) != 0;
	q->cd = (pkt[3] & 0x10) != 0;
	q->qname_len = pos - HDR_LEN;
	memcpy(q->qname, pkt + HDR_LEN, q->qname_len);
	q->qtype = get16(pkt + pos);
	q->qclass = get16(pkt + pos + 2);
	q->has_question = true;
	q->edns = false;
	q->edns_size = 0;
	q->edns_do = false;
	q->service = NULL;
	q->ttl = 0;
	*st = DNS_PARSE_OK;
	if (arcount == 1) {
		pos += 4;
		q->edns_size = get16(pkt + pos + 3);
		ttl =
		    (uint32_t)get16(pkt + pos + 5) << 16 | get16(pkt + pos + 7);
		q->edns_do = (ttl & 0x8000) != 0;
		q->edns = true;
		if ((uint8_t)(ttl >> 16) > 0)
			*st = DNS_PARSE_BADVERS;
	}
	return true;
}

enum dns_parse_status
dns_parse_query(
    const uint8_t *pkt, size_t len, int transport, struct dns_question *q)
{
	enum dns_parse_status st;

	if (fast_query(pkt, len, transport, q, &st))
		return st;
	return dns_parse_query_ldns(pkt, len, transport, q);
}
