/*
 * test_dns_wire.c: the DNS engine's fast paths against the ldns code they
 * replaced.  The reply writer (dns_emit) must give, for every reply the
 * engine decides, the bytes the old ldns builder gave (kept here, as the
 * reference, and nowhere else); the allocation-free parser must give the
 * verdict and the struct dns_question that the ldns parser gives, for
 * well-formed, odd and mutated packets alike.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "summoner/dns_int.h"

/* ---- The reference: the ldns builder of the first engine, unchanged. */

static ldns_rdf *
wname_rdf(const uint8_t *wire, size_t len)
{
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, wire);
}

static ldns_rr *
new_rr(ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();

	assert_non_null(owner);
	assert_non_null(rr);
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	return rr;
}

static void
add_rdf(ldns_rr *rr, ldns_rdf *rdf)
{
	assert_non_null(rdf);
	assert_true(ldns_rr_push_rdf(rr, rdf));
}

static ldns_rr *
soa_rr(const struct dns_czone *z, bool negative)
{
	uint32_t ttl = negative && z->minimum < z->ttl ? z->minimum : z->ttl;
	ldns_rr *rr =
	    new_rr(wname_rdf(z->apex.wire, z->apex.len), LDNS_RR_TYPE_SOA, ttl);
	const uint32_t v[] = {
	    z->serial, z->refresh, z->retry, z->expire, z->minimum};

	add_rdf(rr, wname_rdf(z->mname.wire, z->mname.len));
	add_rdf(rr, wname_rdf(z->rname.wire, z->rname.len));
	for (size_t i = 0; i < 5; i++)
		add_rdf(rr, ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, v[i]));
	return rr;
}

static void
push(ldns_pkt *pkt, ldns_pkt_section s, ldns_rr *rr)
{
	assert_true(ldns_pkt_push_rr(pkt, s, rr));
}

static void
ref_answers(
    ldns_pkt *pkt, const struct dns_question *q, const struct dns_reply *r)
{
	const struct dns_addrs *a = r->addrs;
	ldns_rr *rr;

	if (r->soa_answer)
		push(pkt, LDNS_SECTION_ANSWER, soa_rr(r->zone, false));
	for (size_t i = 0; r->ns_answer && i < r->zone->nns; i++) {
		rr = new_rr(wname_rdf(q->qname, q->qname_len), LDNS_RR_TYPE_NS,
		    r->zone->ttl);
		add_rdf(rr, wname_rdf(r->zone->ns[i].wire, r->zone->ns[i].len));
		push(pkt, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; a != NULL && r->want4 && i < a->n4; i++) {
		rr = new_rr(
		    wname_rdf(q->qname, q->qname_len), LDNS_RR_TYPE_A, r->ttl);
		add_rdf(
		    rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &a->v4[i]));
		push(pkt, LDNS_SECTION_ANSWER, rr);
	}
	for (size_t i = 0; a != NULL && r->want6 && i < a->n6; i++) {
		rr = new_rr(wname_rdf(q->qname, q->qname_len),
		    LDNS_RR_TYPE_AAAA, r->ttl);
		add_rdf(rr,
		    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, &a->v6[i]));
		push(pkt, LDNS_SECTION_ANSWER, rr);
	}
	if (r->soa_auth && r->zone != NULL)
		push(pkt, LDNS_SECTION_AUTHORITY, soa_rr(r->zone, true));
}

static ldns_pkt *
ref_build(
    const struct dns_question *q, const struct dns_reply *r, bool truncated)
{
	ldns_pkt *pkt = ldns_pkt_new();
	ldns_rr *rr;

	assert_non_null(pkt);
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_opcode(pkt, (ldns_pkt_opcode)q->opcode);
	ldns_pkt_set_rd(pkt, q->rd);
	ldns_pkt_set_cd(pkt, q->cd);
	ldns_pkt_set_aa(pkt, r->aa);
	ldns_pkt_set_tc(pkt, truncated);
	ldns_pkt_set_rcode(pkt, (uint8_t)(r->rcode & 0x0f));
	if (q->has_question) {
		rr = new_rr(wname_rdf(q->qname, q->qname_len), q->qtype, 0);
		ldns_rr_set_class(rr, q->qclass);
		ldns_rr_set_question(rr, true);
		push(pkt, LDNS_SECTION_QUESTION, rr);
	}
	if (q->edns) {
		ldns_pkt_set_edns_udp_size(pkt, DNS_EDNS_SIZE);
		ldns_pkt_set_edns_version(pkt, 0);
		ldns_pkt_set_edns_do(pkt, q->edns_do);
		ldns_pkt_set_edns_extended_rcode(pkt, (uint8_t)(r->rcode >> 4));
	}
	if (!truncated)
		ref_answers(pkt, q, r);
	return pkt;
}

static size_t
ref_limit(const struct dns_question *q, size_t outsz)
{
	size_t lim = DNS_UDP_MIN;

	if (q->transport == DNS_TCP)
		lim = DNS_TCP_MAX;
	else if (q->edns && q->edns_size > DNS_UDP_MIN)
		lim =
		    q->edns_size < DNS_EDNS_SIZE ? q->edns_size : DNS_EDNS_SIZE;
	return lim < outsz ? lim : outsz;
}

static enum dns_verdict
ref_emit(const struct dns_question *q, const struct dns_reply *r, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	size_t lim = ref_limit(q, outsz), size = 0;
	uint8_t *wire = NULL;
	ldns_pkt *pkt;

	*outlen = 0;
	for (int truncated = 0; truncated < 2; truncated++) {
		pkt = ref_build(q, r, truncated);
		assert_int_equal(
		    ldns_pkt2wire(&wire, pkt, &size), LDNS_STATUS_OK);
		ldns_pkt_free(pkt);
		if (size <= lim) {
			memcpy(out, wire, size);
			free(wire);
			*outlen = size;
			return DNS_REPLY;
		}
		free(wire);
	}
	return DNS_DROP;
}

/* ---- The zones and queries compared. */

static struct in_addr v4[300];
static struct in6_addr v6[300];
static int svc[4];
static const enum dns_service_state states[4] = {
    DNS_SVC_READY, DNS_SVC_BOOT, DNS_SVC_NODATA, DNS_SVC_RETIRED};
static struct dns_zones *zones;

static enum dns_service_state
lookup(void *arg, void *service, uint16_t qtype, struct dns_addrs *a)
{
	(void)arg;
	(void)qtype;
	*a = (struct dns_addrs){v4, 3, v6, 2};
	return states[(int *)service - svc];
}

static const struct dns_service_lookup lk = {lookup, NULL};

static int
setup(void **state)
{
	static const char *const ns[] = {
	    "ns1", "ns2.example.", "NS3.Sub.summoner.TEST."};
	const struct dns_name_conf names[] = {
	    {"www", 300, {v4, 1, v6, 1}, NULL},
	    {"many", 300, {v4, 200, v6, 100}, NULL},
	    {"ready", 30, {NULL, 0, NULL, 0}, &svc[0]},
	    {"boot", 30, {NULL, 0, NULL, 0}, &svc[1]},
	    {"noboot", 30, {NULL, 0, NULL, 0}, &svc[2]},
	    {"gone", 30, {NULL, 0, NULL, 0}, &svc[3]},
	    {"a.b", 30, {v4, 2, NULL, 0}, NULL},
	    {"x.y.z.deep2", 30, {v4, 2, v6, 2}, NULL},
	    {"summoner.test.", 10, {v4 + 7, 2, v6 + 7, 1}, NULL},
	    {"WwW.x", 30, {v4, 30, v6, 30}, NULL},
	};
	const struct dns_zone zc[] = {
	    {.apex = "Summoner.Test.",
	        .mname = "ns1",
	        .rname = "hostmaster.other.",
	        .serial = 5,
	        .refresh = 6,
	        .retry = 7,
	        .expire = 8,
	        .minimum = 9,
	        .ttl = 60,
	        .ns = ns,
	        .nns = 3,
	        .names = names,
	        .nnames = sizeof(names) / sizeof(names[0])},
	    {.apex = "deep.summoner.test.",
	        .mname = "ns1",
	        .rname = "h",
	        .ttl = 60},
	    {.apex = "other.",
	        .mname = "ns.x.",
	        .rname = "h",
	        .ttl = 6,
	        .ns = ns,
	        .nns = 1},
	};

	(void)state;
	for (uint32_t i = 0; i < 300; i++) {
		v4[i].s_addr = htonl(0x0a000000u + i);
		v6[i].s6_addr[0] = 0x20;
		v6[i].s6_addr[15] = (uint8_t)i;
	}
	zones = dns_zones_new(zc, 3, NULL, 0);
	return zones == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_zones_free(zones);
	return 0;
}

static const char *const qnames[] = {"summoner.test", "SUMMONER.TEST",
    "www.summoner.test", "WWW.Summoner.test", "many.summoner.test",
    "ready.summoner.test", "boot.summoner.test", "noboot.summoner.test",
    "gone.summoner.test", "a.b.summoner.test", "b.summoner.test",
    "B.Summoner.test", "nope.summoner.test", "x.deep.summoner.test",
    "deep.summoner.test", "y.z.deep2.summoner.test", "deep2.summoner.test",
    "www.x.summoner.test", "x.summoner.test", "other", "a.other", "example.com",
    "", "xsummoner.test", "ns3.sub.summoner.test",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddd."
    "summoner.test"};
static const uint16_t qtypes[] = {
    1, 2, 5, 6, 15, 16, 28, 33, 41, 251, 252, 255, 0, 65535};
static const uint16_t qclasses[] = {1, 3, 255};
static const uint16_t edns_sizes[] = {0, 100, 512, 600, 1232, 4096};
static const size_t outszs[] = {65535, 1232, 600, 512, 300, 100, 40, 29, 12, 8};

/* A query into b; edns: 0 none, 1 a bare OPT, 2 an OPT with a cookie. */
static size_t
mkquery(uint8_t *b, const char *name, uint16_t qtype, uint16_t qclass, int edns,
    uint16_t esize, uint8_t version, bool dob, uint16_t id)
{
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	const char *s = name;
	size_t p = 12;

	memset(b, 0, 12);
	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	b[2] = 0x01;
	b[3] = id & 1 ? 0x10 : 0; /* CD */
	b[5] = 1;
	b[11] = edns ? 1 : 0;
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		b[p++] = (uint8_t)l;
		memcpy(b + p, s, l);
		p += l;
		s += l + (dot != NULL);
	}
	b[p++] = 0;
	b[p++] = (uint8_t)(qtype >> 8);
	b[p++] = (uint8_t)qtype;
	b[p++] = (uint8_t)(qclass >> 8);
	b[p++] = (uint8_t)qclass;
	if (edns) {
		const uint8_t opt[] = {0, 0, 41, (uint8_t)(esize >> 8),
		    (uint8_t)esize, 0, version, dob ? 0x80 : 0, 0, 0,
		    edns == 2 ? sizeof(cookie) : 0};

		memcpy(b + p, opt, sizeof(opt));
		p += sizeof(opt);
		if (edns == 2) {
			memcpy(b + p, cookie, sizeof(cookie));
			p += sizeof(cookie);
		}
	}
	return p;
}

static uint8_t out_new[65535], out_ref[65535];
static size_t compared;

/* Write r with both writers; same verdict, same bytes, and it parses. */
static void
compare_reply(
    const struct dns_question *q, const struct dns_reply *r, size_t outsz)
{
	size_t nl, rl;
	enum dns_verdict nv = dns_emit(q, r, out_new, outsz, &nl);
	enum dns_verdict rv = ref_emit(q, r, out_ref, outsz, &rl);
	ldns_pkt *p = NULL;

	assert_int_equal(nv, rv);
	assert_int_equal(nl, rl);
	assert_memory_equal(out_new, out_ref, nl);
	assert_int_equal(dns_reply_limit(q, outsz), ref_limit(q, outsz));
	if (nv == DNS_REPLY) {
		assert_int_equal(
		    ldns_wire2pkt(&p, out_new, nl), LDNS_STATUS_OK);
		ldns_pkt_free(p);
	} else
		assert_int_equal(nl, 0);
	compared++;
}

/* Every reply a packet leads to, held ones included, both ways. */
static void
compare_packet(const uint8_t *pkt, size_t len)
{
	struct dns_question q;
	struct dns_reply r;
	struct dns_addrs a, held;
	enum dns_verdict v;

	for (int t = DNS_UDP; t <= DNS_TCP; t++) {
		for (size_t k = 0; k < sizeof(outszs) / sizeof(outszs[0]);
		     k++) {
			v = dns_decide(zones, pkt, len, t, &q, &lk, &r, &a);
			if (v == DNS_REPLY)
				compare_reply(&q, &r, outszs[k]);
			if (v != DNS_HOLD)
				continue;
			held = (struct dns_addrs){v4, k * 7 % 300, v6, k * 3};
			dns_reply_addrs(&q,
			    dns_zone_find(zones, q.qname, q.qname_len), &held,
			    q.ttl, &r);
			compare_reply(&q, &r, outszs[k]);
			dns_reply_addrs(&q, NULL, &held, q.ttl, &r);
			compare_reply(&q, &r, outszs[k]);
			r = (struct dns_reply){.rcode = 2};
			compare_reply(&q, &r, outszs[k]);
		}
	}
}

static void
emit__every_query_shape__same_bytes_as_ldns_builder(void **state)
{
	uint8_t b[1024];
	size_t len;

	(void)state;
	compared = 0;
	for (size_t i = 0; i < sizeof(qnames) / sizeof(qnames[0]); i++)
		for (size_t t = 0; t < sizeof(qtypes) / sizeof(qtypes[0]); t++)
			for (size_t c = 0;
			     c < sizeof(qclasses) / sizeof(qclasses[0]); c++)
				for (size_t e = 0;
				     e <
				     sizeof(edns_sizes) / sizeof(edns_sizes[0]);
				     e++) {
					len = mkquery(b, qnames[i], qtypes[t],
					    qclasses[c],
					    e == 0 ? 0 : 1 + (e & 1),
					    edns_sizes[e], 0, e & 2,
					    (uint16_t)(i * 131 + t));
					compare_packet(b, len);
				}
	/* FORMERR, NOTIMP and BADVERS replies. */
	len = mkquery(b, "www.summoner.test", 1, 1, 1, 1232, 1, true, 7);
	compare_packet(b, len);
	b[2] = 2 << 3;
	compare_packet(b, len);
	b[2] = 0;
	b[5] = 2;
	compare_packet(b, len);
	print_message("%zu replies compared\n", compared);
	assert_true(compared > 50000);
}

/* ---- The parser's fast path against ldns. */

static void
compare_parse(const uint8_t *pkt, size_t len)
{
	struct dns_question f, l;

	for (int t = DNS_UDP; t <= DNS_TCP; t++) {
		memset(&f, 0xa5, sizeof(f)); /* garbage: all must be set */
		assert_int_equal(dns_parse_query(pkt, len, t, &f),
		    dns_parse_query_ldns(pkt, len, t, &l));
		assert_int_equal(f.id, l.id);
		assert_int_equal(f.opcode, l.opcode);
		assert_int_equal(f.rd, l.rd);
		assert_int_equal(f.cd, l.cd);
		assert_int_equal(f.has_question, l.has_question);
		assert_int_equal(f.qname_len, l.qname_len);
		assert_memory_equal(f.qname, l.qname, l.qname_len);
		assert_int_equal(f.qtype, l.qtype);
		assert_int_equal(f.qclass, l.qclass);
		assert_int_equal(f.edns, l.edns);
		assert_int_equal(f.edns_size, l.edns_size);
		assert_int_equal(f.edns_do, l.edns_do);
		assert_int_equal(f.transport, l.transport);
		assert_null(f.service);
		assert_int_equal(f.ttl, 0);
	}
}

static uint32_t rng = 2463534242u;

static uint32_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
parse__mutated_packets__fast_path_agrees_with_ldns(void **state)
{
	static const uint8_t odd[] = {0, 1, 0xc0, 41, 63, 64, 0xff, 12};
	uint8_t b[2048];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(qnames) / sizeof(qnames[0]); i++)
		for (int e = 0; e < 3; e++)
			compare_parse(b, mkquery(b, qnames[i], 1, 1, e, 1232,
			                     (uint8_t)e, e == 1, 1));
	for (long it = 0; it < 300000; it++) {
		len = mkquery(b, qnames[it % 4 + 2], it % 3 ? 1 : 255, 1,
		    (int)(it % 3), (uint16_t)(it * 37), (uint8_t)(it % 5 == 0),
		    it & 1, (uint16_t)it);
		for (uint32_t m = 0, nm = 1 + xorshift() % 4; m < nm; m++) {
			size_t p = xorshift() % (len + 1);

			switch (xorshift() % 5) {
			case 0:
				b[p % len] = (uint8_t)xorshift();
				break;
			case 1:
				b[p % len] ^= (uint8_t)(1u << (xorshift() % 8));
				break;
			case 2:
				len = p > 0 ? p : 1;
				break;
			case 3:
				if (len < sizeof(b))
					b[len++] = (uint8_t)xorshift();
				break;
			default:
				b[p % len] = odd[xorshift() % sizeof(odd)];
				break;
			}
		}
		compare_parse(b, len);
	}
}

static void
parse__name_lengths_around_255__fast_path_agrees_with_ldns(void **state)
{
	uint8_t b[400];

	(void)state;
	for (size_t total = 240; total <= 260; total++) {
		for (int edns = 0; edns < 2; edns++) {
			size_t p = 12, left = total - 1;

			memset(b, 0, 12);
			b[5] = 1;
			b[11] = (uint8_t)edns;
			while (left > 0) {
				size_t l = left - 1 > 63 ? 63 : left - 1;

				if (l == 0)
					l = 1;
				b[p++] = (uint8_t)l;
				memset(b + p, 'q', l);
				p += l;
				left -= left < l + 1 ? left : l + 1;
			}
			b[p++] = 0;
			b[p++] = 0;
			b[p++] = 1;
			b[p++] = 0;
			b[p++] = 1;
			if (edns) {
				memset(b + p, 0, 11);
				b[p + 2] = 41;
				b[p + 3] = 4;
				p += 11;
			}
			compare_parse(b, p);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        emit__every_query_shape__same_bytes_as_ldns_builder),
	    cmocka_unit_test(
	        parse__mutated_packets__fast_path_agrees_with_ldns),
	    cmocka_unit_test(
	        parse__name_lengths_around_255__fast_path_agrees_with_ldns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
