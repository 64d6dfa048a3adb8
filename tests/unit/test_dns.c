/*
 * test_dns.c: the DNS answer engine (summoner/dns*.c), row by row of the
 * contract in docs/dns.md, plus hostile packets that must never crash it.
 * Replies are decoded with ldns (trusted here: we wrote them).
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

#include "summoner/dns.h"

/* A service as the fake instance registry sees it. */
struct svc {
	enum dns_service_state state;
	struct in_addr v4[1];
	struct in6_addr v6[1];
	int calls;
};

static struct svc hello = {.state = DNS_SVC_BOOT};
static struct svc ready = {.state = DNS_SVC_READY};
static struct svc noboot = {.state = DNS_SVC_NODATA};
static struct svc gone = {.state = DNS_SVC_RETIRED};

static enum dns_service_state
fake_lookup(void *arg, void *service, uint16_t qtype, struct dns_addrs *a)
{
	struct svc *s = service;

	(void)arg;
	(void)qtype;
	s->calls++;
	if (s->state == DNS_SVC_READY)
		*a = (struct dns_addrs){s->v4, 1, s->v6, 1};
	return s->state;
}

static const struct dns_service_lookup lookup = {fake_lookup, NULL};

static struct in_addr www4[1], many4[200];
static struct in6_addr www6[1];
static struct dns_zones *zones;

static int
setup(void **state)
{
	static const char *const ns[] = {"ns1", "ns2.summoner.test."};
	struct dns_name_conf names[] = {
	    {"www", 300, {www4, 1, www6, 1}, NULL},
	    {"v4only", 60, {www4, 1, NULL, 0}, NULL},
	    {"hello", 30, {NULL, 0, NULL, 0}, &hello},
	    {"ready", 30, {NULL, 0, NULL, 0}, &ready},
	    {"noboot", 30, {NULL, 0, NULL, 0}, &noboot},
	    {"gone", 30, {NULL, 0, NULL, 0}, &gone},
	    {"many", 30, {many4, 200, NULL, 0}, NULL},
	    {"a.b.summoner.test.", 30, {www4, 1, NULL, 0}, NULL},
	};
	struct dns_zone zc[] = {
	    {.apex = "summoner.test.",
	        .mname = "ns1",
	        .rname = "hostmaster",
	        .serial = 2026112201,
	        .refresh = 3600,
	        .retry = 600,
	        .expire = 86400,
	        .minimum = 60,
	        .ttl = 3600,
	        .ns = ns,
	        .nns = 2,
	        .names = names,
	        .nnames = 8},
	    {.apex = "deep.summoner.test.",
	        .mname = "ns1",
	        .rname = "hostmaster",
	        .serial = 7,
	        .ttl = 10},
	};
	char err[128];

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &www4[0]);
	inet_pton(AF_INET6, "2001:db8::1", &www6[0]);
	inet_pton(AF_INET, "192.0.2.9", &ready.v4[0]);
	inet_pton(AF_INET6, "2001:db8::9", &ready.v6[0]);
	for (size_t i = 0; i < 200; i++)
		many4[i].s_addr = htonl(0x0a000000u + (uint32_t)i);
	zones = dns_zones_new(zc, 2, err, sizeof(err));
	return zones == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	dns_zones_free(zones);
	return 0;
}

/* Query options for mkquery(). */
struct qopt {
	uint16_t id, qtype, qclass;
	uint8_t flags2, flags3; /* header bytes 2 and 3 */
	uint16_t qd, an, ns;    /* counts; qd defaults to 1 */
	int edns;               /* number of OPT records */
	uint16_t edns_size;
	uint8_t edns_version;
	bool edns_do;
};

/* A query for the dotted name, hand-built, into buf; returns its length. */
static size_t
mkquery(uint8_t *buf, const char *name, const struct qopt *o)
{
	size_t p = 12;
	const char *s = name;

	memset(buf, 0, 12);
	buf[0] = o->id >> 8;
	buf[1] = o->id & 0xff;
	buf[2] = o->flags2;
	buf[3] = o->flags3;
	buf[5] = o->qd ? (uint8_t)o->qd : 1;
	buf[7] = (uint8_t)o->an;
	buf[9] = (uint8_t)o->ns;
	buf[11] = (uint8_t)o->edns;
	while (*s != '\0') {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		buf[p++] = (uint8_t)l;
		memcpy(buf + p, s, l);
		p += l;
		s += l + (dot != NULL);
	}
	buf[p++] = 0;
	buf[p++] = (uint8_t)((o->qtype ? o->qtype : 1) >> 8);
	buf[p++] = (uint8_t)(o->qtype ? o->qtype : 1);
	buf[p++] = (uint8_t)((o->qclass ? o->qclass : 1) >> 8);
	buf[p++] = (uint8_t)(o->qclass ? o->qclass : 1);
	for (int i = 0; i < o->edns; i++) {
		buf[p++] = 0; /* root */
		buf[p++] = 0;
		buf[p++] = 41; /* OPT */
		buf[p++] = o->edns_size >> 8;
		buf[p++] = o->edns_size & 0xff;
		buf[p++] = 0; /* extended rcode */
		buf[p++] = o->edns_version;
		buf[p++] = o->edns_do ? 0x80 : 0;
		buf[p++] = 0;
		buf[p++] = 0; /* rdlength */
		buf[p++] = 0;
	}
	return p;
}

static uint8_t out[65535];
static size_t outlen;
static struct dns_question q;

static enum dns_verdict
ask(const uint8_t *pkt, size_t len, int transport)
{
	return dns_answer(
	    zones, pkt, len, transport, out, sizeof(out), &outlen, &q, &lookup);
}

/* Ask for name/qtype over UDP without EDNS and decode the reply. */
static ldns_pkt *
query(const char *name, uint16_t qtype)
{
	uint8_t buf[512];
	struct qopt o = {.id = 0x1234, .qtype = qtype, .flags2 = 0x01};
	ldns_pkt *p = NULL;

	assert_int_equal(ask(buf, mkquery(buf, name, &o), DNS_UDP), DNS_REPLY);
	assert_int_equal(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p));
	assert_true(ldns_pkt_rd(p));
	return p;
}

static ldns_pkt *
decode(void)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, out, outlen), LDNS_STATUS_OK);
	return p;
}

/* The type of the i-th record of a section. */
static ldns_rr_type
rtype(ldns_rr_list *l, size_t i)
{
	return ldns_rr_get_type(ldns_rr_list_rr(l, i));
}

static void
assert_soa_auth(ldns_pkt *p)
{
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_int_equal(rtype(ldns_pkt_authority(p), 0), LDNS_RR_TYPE_SOA);
	/* RFC 2308 3: a negative answer's SOA lives min(TTL, minimum). */
	assert_int_equal(
	    ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), 60);
}

static void
answer__apex_soa__soa_with_aa(void **state)
{
	ldns_pkt *p = query("summoner.test", LDNS_RR_TYPE_SOA);
	ldns_rr *soa;

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	soa = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
	assert_int_equal(
	    ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), 2026112201);
	assert_int_equal(ldns_rr_ttl(soa), 3600);
	ldns_pkt_free(p);
}

static void
answer__apex_ns__both_ns(void **state)
{
	ldns_pkt *p = query("summoner.test", LDNS_RR_TYPE_NS);
	char *s;

	(void)state;
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_int_equal(rtype(ldns_pkt_answer(p), 0), LDNS_RR_TYPE_NS);
	s = ldns_rdf2str(
	    ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
	assert_string_equal(s, "ns1.summoner.test.");
	free(s);
	ldns_pkt_free(p);
}

static void
answer__apex_mx__nodata_with_soa(void **state)
{
	ldns_pkt *p = query("summoner.test", LDNS_RR_TYPE_MX);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__static_a__address(void **state)
{
	ldns_pkt *p = query("www.summoner.test", LDNS_RR_TYPE_A);
	ldns_rr *a;

	(void)state;
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	a = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	assert_int_equal(ldns_rr_get_type(a), LDNS_RR_TYPE_A);
	assert_int_equal(ldns_rr_ttl(a), 300);
	assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(a, 0)), www4, 4);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
}

static void
answer__static_aaaa__address(void **state)
{
	ldns_pkt *p = query("www.summoner.test", LDNS_RR_TYPE_AAAA);

	(void)state;
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(rtype(ldns_pkt_answer(p), 0), LDNS_RR_TYPE_AAAA);
	ldns_pkt_free(p);
}

static void
answer__any_at_service__a_and_aaaa(void **state)
{
	ldns_pkt *p = query("ready.summoner.test", LDNS_RR_TYPE_ANY);

	(void)state;
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_int_equal(rtype(ldns_pkt_answer(p), 0), LDNS_RR_TYPE_A);
	assert_int_equal(rtype(ldns_pkt_answer(p), 1), LDNS_RR_TYPE_AAAA);
	ldns_pkt_free(p);
}

static void
answer__aaaa_without_v6__nodata_with_soa(void **state)
{
	ldns_pkt *p = query("v4only.summoner.test", LDNS_RR_TYPE_AAAA);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__txt_at_service__nodata_without_lookup(void **state)
{
	int before = hello.calls;
	ldns_pkt *p = query("hello.summoner.test", LDNS_RR_TYPE_TXT);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	assert_int_equal(hello.calls, before);
	ldns_pkt_free(p);
}

static void
answer__unknown_name__nxdomain_with_soa(void **state)
{
	ldns_pkt *p = query("nope.summoner.test", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_aa(p));
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__empty_non_terminal__nodata(void **state)
{
	ldns_pkt *p = query("b.summoner.test", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__child_zone__longest_apex_wins(void **state)
{
	ldns_pkt *p = query("x.deep.summoner.test", LDNS_RR_TYPE_A);
	char *s;

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	s = ldns_rdf2str(
	    ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_authority(p), 0)));
	assert_string_equal(s, "deep.summoner.test.");
	free(s);
	ldns_pkt_free(p);
}

static void
answer__outside_zones__refused(void **state)
{
	ldns_pkt *p = query("example.com", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void
answer__suffix_not_on_label__refused(void **state)
{
	ldns_pkt *p = query("xsummoner.test", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

static void
answer__class_chaos__refused(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.qclass = LDNS_RR_CLASS_CH};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "www.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

static void
answer__axfr__refused(void **state)
{
	ldns_pkt *p = query("summoner.test", LDNS_RR_TYPE_AXFR);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
}

/* A query for qtype with one record (rrstr) in its authority section. */
static enum dns_verdict
ask_with_authority(uint16_t qtype, const char *rrstr)
{
	ldns_pkt *p = NULL;
	ldns_rr *rr = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	enum dns_verdict v;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "summoner.test.",
	                     (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, 0),
	    LDNS_STATUS_OK);
	assert_int_equal(
	    ldns_rr_new_frm_str(&rr, rrstr, 0, NULL, NULL), LDNS_STATUS_OK);
	assert_true(ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr));
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	v = ask(wire, len, DNS_TCP);
	free(wire);
	ldns_pkt_free(p);
	return v;
}

static void
answer__ixfr_with_client_soa__refused(void **state)
{
	ldns_pkt *p;

	(void)state;
	/* RFC 1995: the client's SOA rides in the authority section. */
	assert_int_equal(ask_with_authority(LDNS_RR_TYPE_IXFR,
	                     "summoner.test. 0 IN SOA a. b. 7 1 1 1 1"),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
}

static void
answer__authority_record_not_ixfr_soa__formerr(void **state)
{
	ldns_pkt *p;

	(void)state;
	assert_int_equal(ask_with_authority(LDNS_RR_TYPE_A,
	                     "summoner.test. 0 IN SOA a. b. 7 1 1 1 1"),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_qdcount(p), 0);
	ldns_pkt_free(p);
	assert_int_equal(ask_with_authority(LDNS_RR_TYPE_IXFR,
	                     "summoner.test. 0 IN A 192.0.2.1"),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
}

static void
answer__mixed_case__case_preserved_and_matched(void **state)
{
	ldns_pkt *p = query("wWw.SuMmOnEr.TeSt", LDNS_RR_TYPE_A);
	char *s;

	(void)state;
	assert_int_equal(ldns_pkt_ancount(p), 1);
	s = ldns_rdf2str(
	    ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
	assert_string_equal(s, "wWw.SuMmOnEr.TeSt.");
	free(s);
	s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
	assert_string_equal(s, "wWw.SuMmOnEr.TeSt.");
	free(s);
	ldns_pkt_free(p);
}

static void
answer__opcode_status__notimp(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.flags2 = 2 << 3};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "www.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_STATUS);
	ldns_pkt_free(p);
}

static void
answer__response_bit__dropped(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.flags2 = 0x80};

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "www.summoner.test", &o), DNS_UDP), DNS_DROP);
	assert_int_equal(outlen, 0);
}

/* Expect FORMERR with the query's id for the given packet. */
static void
assert_formerr(const uint8_t *buf, size_t len)
{
	ldns_pkt *p;

	assert_int_equal(ask(buf, len, DNS_UDP), DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	assert_int_equal(ldns_pkt_id(p), (buf[0] << 8) | buf[1]);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void
answer__qdcount_0_and_2__formerr(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 7};
	size_t len = mkquery(buf, "www.summoner.test", &o);

	(void)state;
	buf[5] = 0;
	assert_formerr(buf, len);
	buf[5] = 2;
	assert_formerr(buf, len);
}

static void
answer__ancount_or_nscount__formerr(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 8, .an = 1};

	(void)state;
	assert_formerr(buf, mkquery(buf, "www.summoner.test", &o));
	o.an = 0;
	o.ns = 1;
	assert_formerr(buf, mkquery(buf, "www.summoner.test", &o));
}

static void
answer__short_packets__drop_or_formerr(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 9};
	size_t len = mkquery(buf, "www.summoner.test", &o);

	(void)state;
	assert_int_equal(ask(buf, 0, DNS_UDP), DNS_DROP);
	assert_int_equal(ask(NULL, 0, DNS_UDP), DNS_DROP);
	assert_int_equal(ask(buf, 11, DNS_UDP), DNS_DROP);
	/* Every cut inside the question. */
	for (size_t l = 12; l < len; l++)
		assert_formerr(buf, l);
}

static void
answer__trailing_garbage__formerr(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 10};
	size_t len = mkquery(buf, "www.summoner.test", &o);

	(void)state;
	buf[len] = 0x55;
	assert_formerr(buf, len + 1);
}

static void
answer__pointer_past_end__formerr(void **state)
{
	uint8_t buf[64] = {
	    0, 11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0, 1, 0, 1};

	(void)state;
	assert_formerr(buf, 18);
}

static void
answer__pointer_loop__formerr(void **state)
{
	/* A pointer to itself, then a pair pointing at each other. */
	uint8_t self[] = {
	    0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
	uint8_t pair[] = {0, 13, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 16,
	    1, 'b', 0xc0, 12, 0, 1, 0, 1};

	(void)state;
	assert_formerr(self, sizeof(self));
	assert_formerr(pair, sizeof(pair));
}

static void
answer__label_over_63__formerr(void **state)
{
	uint8_t buf[200] = {0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64};

	(void)state;
	memset(buf + 13, 'a', 64);
	buf[77] = 0;
	buf[79] = 1;
	buf[81] = 1;
	assert_formerr(buf, 82);
	buf[12] = 0x40; /* the reserved 01 label type */
	assert_formerr(buf, 82);
}

static void
answer__name_over_255__formerr(void **state)
{
	uint8_t buf[400] = {0, 15, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	size_t p = 12;

	(void)state;
	for (int i = 0; i < 5; i++) { /* 5 * 51 + 1 = 256 bytes */
		buf[p++] = 50;
		memset(buf + p, 'x', 50);
		p += 50;
	}
	buf[p++] = 0;
	buf[p++] = 0;
	buf[p++] = 1;
	buf[p++] = 0;
	buf[p++] = 1;
	assert_formerr(buf, p);
}

static void
answer__two_opt__formerr(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 16, .edns = 2, .edns_size = 1232};
	ldns_pkt *p;
	size_t len = mkquery(buf, "www.summoner.test", &o);

	(void)state;
	assert_int_equal(ask(buf, len, DNS_UDP), DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
	ldns_pkt_free(p);
}

static void
answer__edns__opt_echoed_with_our_size(void **state)
{
	uint8_t buf[512];
	struct qopt o = {
	    .id = 17, .edns = 1, .edns_size = 4096, .edns_do = true};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "www.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	p = decode();
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), DNS_EDNS_SIZE);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_true(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

static void
answer__edns_version_1__badvers(void **state)
{
	uint8_t buf[512];
	struct qopt o = {
	    .id = 18, .edns = 1, .edns_size = 1232, .edns_version = 1};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "www.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1); /* 16 >> 4 */
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void
answer__no_edns_many_addresses__tc_empty_within_512(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 19};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "many.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	assert_true(outlen <= 512);
	p = decode();
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
}

static void
answer__small_edns_size__limit_is_512(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 20, .edns = 1, .edns_size = 100};
	ldns_pkt *p;

	(void)state;
	/* 200 A records do not fit 512; 20 would but we have 200. */
	assert_int_equal(
	    ask(buf, mkquery(buf, "many.summoner.test", &o), DNS_UDP),
	    DNS_REPLY);
	assert_true(outlen <= 512);
	p = decode();
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

static void
answer__tcp_many_addresses__all_answered(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 21};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "many.summoner.test", &o), DNS_TCP),
	    DNS_REPLY);
	p = decode();
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);
}

static void
answer__tiny_out_buffer__dropped(void **state)
{
	uint8_t buf[512], small[8];
	struct qopt o = {.id = 22};
	size_t len = mkquery(buf, "www.summoner.test", &o);

	(void)state;
	assert_int_equal(dns_answer(zones, buf, len, DNS_UDP, small,
	                     sizeof(small), &outlen, &q, &lookup),
	    DNS_DROP);
}

static void
answer__service_needs_boot__held_then_answered(void **state)
{
	uint8_t buf[512];
	struct qopt o = {
	    .id = 23, .qtype = LDNS_RR_TYPE_A, .edns = 1, .edns_size = 1400};
	struct in_addr v4 = {htonl(0xc0000263)};
	struct dns_addrs a = {&v4, 1, NULL, 0};
	struct dns_question held;
	ldns_pkt *p;
	char *s;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "HeLLo.summoner.test", &o), DNS_UDP),
	    DNS_HOLD);
	assert_int_equal(outlen, 0);
	assert_ptr_equal(q.service, &hello);
	held = q;
	memset(buf, 0xee, sizeof(buf)); /* the packet is gone */
	assert_int_equal(
	    dns_answer_service(zones, &held, &a, out, sizeof(out), &outlen),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_id(p), 23);
	assert_true(ldns_pkt_aa(p));
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(
	    ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 30);
	s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
	assert_string_equal(s, "HeLLo.summoner.test.");
	free(s);
	ldns_pkt_free(p);
}

static void
answer__held_aaaa_v4_only__nodata_with_soa(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 24, .qtype = LDNS_RR_TYPE_AAAA};
	struct in_addr v4 = {htonl(0xc0000263)};
	struct dns_addrs a = {&v4, 1, NULL, 0};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "hello.summoner.test", &o), DNS_UDP),
	    DNS_HOLD);
	assert_int_equal(
	    dns_answer_service(zones, &q, &a, out, sizeof(out), &outlen),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__held_then_deadline__servfail(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 25};
	ldns_pkt *p;

	(void)state;
	assert_int_equal(
	    ask(buf, mkquery(buf, "hello.summoner.test", &o), DNS_TCP),
	    DNS_HOLD);
	assert_int_equal(
	    dns_answer_servfail(&q, out, sizeof(out), &outlen), DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_id(p), 25);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
}

static void
answer__service_no_boot_type__nodata(void **state)
{
	ldns_pkt *p = query("noboot.summoner.test", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__service_retired__nxdomain(void **state)
{
	ldns_pkt *p = query("gone.summoner.test", LDNS_RR_TYPE_A);

	(void)state;
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
answer__no_lookup__static_addresses(void **state)
{
	uint8_t buf[512];
	struct qopt o = {.id = 26};
	size_t len = mkquery(buf, "hello.summoner.test", &o);
	ldns_pkt *p;

	(void)state;
	assert_int_equal(dns_answer(zones, buf, len, DNS_UDP, out, sizeof(out),
	                     &outlen, &q, NULL),
	    DNS_REPLY);
	p = decode();
	assert_int_equal(ldns_pkt_ancount(p), 0); /* none configured */
	assert_soa_auth(p);
	ldns_pkt_free(p);
}

static void
zones_new__bad_name__einval(void **state)
{
	struct dns_zone zc = {.apex = "relative", .mname = "ns1", .rname = "h"};
	char err[128];

	(void)state;
	assert_null(dns_zones_new(&zc, 1, err, sizeof(err)));
	zc.apex = "ok.test.";
	zc.mname = "bad..name";
	assert_null(dns_zones_new(&zc, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "bad..name"));
}

static void
verdict_name__every_value__named(void **state)
{
	(void)state;
	assert_string_equal(dns_verdict_name(DNS_REPLY), "reply");
	assert_string_equal(dns_verdict_name(DNS_DROP), "drop");
	assert_string_equal(dns_verdict_name(DNS_HOLD), "hold");
	assert_string_equal(dns_verdict_name((enum dns_verdict)9), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(answer__apex_soa__soa_with_aa),
	    cmocka_unit_test(answer__apex_ns__both_ns),
	    cmocka_unit_test(answer__apex_mx__nodata_with_soa),
	    cmocka_unit_test(answer__static_a__address),
	    cmocka_unit_test(answer__static_aaaa__address),
	    cmocka_unit_test(answer__any_at_service__a_and_aaaa),
	    cmocka_unit_test(answer__aaaa_without_v6__nodata_with_soa),
	    cmocka_unit_test(answer__txt_at_service__nodata_without_lookup),
	    cmocka_unit_test(answer__unknown_name__nxdomain_with_soa),
	    cmocka_unit_test(answer__empty_non_terminal__nodata),
	    cmocka_unit_test(answer__child_zone__longest_apex_wins),
	    cmocka_unit_test(answer__outside_zones__refused),
	    cmocka_unit_test(answer__suffix_not_on_label__refused),
	    cmocka_unit_test(answer__class_chaos__refused),
	    cmocka_unit_test(answer__axfr__refused),
	    cmocka_unit_test(answer__ixfr_with_client_soa__refused),
	    cmocka_unit_test(answer__authority_record_not_ixfr_soa__formerr),
	    cmocka_unit_test(answer__mixed_case__case_preserved_and_matched),
	    cmocka_unit_test(answer__opcode_status__notimp),
	    cmocka_unit_test(answer__response_bit__dropped),
	    cmocka_unit_test(answer__qdcount_0_and_2__formerr),
	    cmocka_unit_test(answer__ancount_or_nscount__formerr),
	    cmocka_unit_test(answer__short_packets__drop_or_formerr),
	    cmocka_unit_test(answer__trailing_garbage__formerr),
	    cmocka_unit_test(answer__pointer_past_end__formerr),
	    cmocka_unit_test(answer__pointer_loop__formerr),
	    cmocka_unit_test(answer__label_over_63__formerr),
	    cmocka_unit_test(answer__name_over_255__formerr),
	    cmocka_unit_test(answer__two_opt__formerr),
	    cmocka_unit_test(answer__edns__opt_echoed_with_our_size),
	    cmocka_unit_test(answer__edns_version_1__badvers),
	    cmocka_unit_test(
	        answer__no_edns_many_addresses__tc_empty_within_512),
	    cmocka_unit_test(answer__small_edns_size__limit_is_512),
	    cmocka_unit_test(answer__tcp_many_addresses__all_answered),
	    cmocka_unit_test(answer__tiny_out_buffer__dropped),
	    cmocka_unit_test(answer__service_needs_boot__held_then_answered),
	    cmocka_unit_test(answer__held_aaaa_v4_only__nodata_with_soa),
	    cmocka_unit_test(answer__held_then_deadline__servfail),
	    cmocka_unit_test(answer__service_no_boot_type__nodata),
	    cmocka_unit_test(answer__service_retired__nxdomain),
	    cmocka_unit_test(answer__no_lookup__static_addresses),
	    cmocka_unit_test(zones_new__bad_name__einval),
	    cmocka_unit_test(verdict_name__every_value__named),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
