/*
 * dns_parse.c: the one place where an untrusted DNS packet is read.
 *
 * ldns does the wire decoding (names with compression, resource records);
 * this file decides what the summoner accepts.  A query is one header, one
 * question, no answer or authority records, at most one OPT in the
 * additional section, and nothing after its last record.  Anything else is
 * FORMERR, answered with whatever of the header we could read.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"

#define HDR_LEN 12

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
dns_parse_query(
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
	if (get16(pkt + 4) != 1 || get16(pkt + 6) != 0 || get16(pkt + 8) != 0)
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
