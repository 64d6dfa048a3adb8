/*
 * fuzz_dns.c: libFuzzer target for the DNS answer engine.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *       tests/fuzz/fuzz_dns.c summoner/dns.c summoner/dns_parse.c \
 *       summoner/dns_zone.c -lldns -o build/fuzz_dns
 *   build/fuzz_dns -max_total_time=30 build/dns-corpus
 *
 * Each input is one packet, answered over UDP and TCP against a fixed
 * zone table whose services answer ready, boot, no-boot or retired.
 * Every reply must respect the size limit and, when it is sent, be a
 * response with the query's id that ldns can decode; a held query is
 * answered both ways.  The parser's allocation-free fast path must agree
 * with the ldns path on every input, verdict and question alike.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "summoner/dns_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct in_addr v4[40];
static struct in6_addr v6[40];
static int svc[4]; /* indexes the states below */
static const enum dns_service_state states[4] = {
    DNS_SVC_READY, DNS_SVC_BOOT, DNS_SVC_NODATA, DNS_SVC_RETIRED};
static struct dns_zones *zones;

static enum dns_service_state
lookup(void *arg, void *service, uint16_t qtype, struct dns_addrs *a)
{
	(void)arg;
	(void)qtype;
	*a = (struct dns_addrs){v4, 40, v6, 40};
	return states[(int *)service - svc];
}

static void
init(void)
{
	static const char *const ns[] = {"ns1", "ns2.example."};
	const struct dns_name_conf names[] = {
	    {"www", 300, {v4, 1, v6, 1}, NULL},
	    {"many", 300, {v4, 40, v6, 40}, NULL},
	    {"ready", 30, {NULL, 0, NULL, 0}, &svc[0]},
	    {"boot", 30, {NULL, 0, NULL, 0}, &svc[1]},
	    {"noboot", 30, {NULL, 0, NULL, 0}, &svc[2]},
	    {"gone", 30, {NULL, 0, NULL, 0}, &svc[3]},
	    {"a.b", 30, {v4, 2, NULL, 0}, NULL},
	};
	const struct dns_zone zc[] = {
	    {.apex = "a.",
	        .mname = "ns1",
	        .rname = "h",
	        .ttl = 60,
	        .ns = ns,
	        .nns = 2,
	        .names = names,
	        .nnames = 7},
	    {.apex = "deep.a.", .mname = "ns1", .rname = "h", .ttl = 60},
	};

	for (uint32_t i = 0; i < 40; i++) {
		v4[i].s_addr = htonl(0x0a000000u + i);
		v6[i].s6_addr[15] = (uint8_t)i;
	}
	if ((zones = dns_zones_new(zc, 2, NULL, 0)) == NULL)
		abort();
}

static void
check(const struct dns_question *q, enum dns_verdict v, const uint8_t *out,
    size_t outlen, size_t lim)
{
	ldns_pkt *p = NULL;

	if (v != DNS_REPLY) {
		if (outlen != 0)
			abort();
		return;
	}
	if (outlen < 12 || outlen > lim)
		abort();
	if (!(out[2] & 0x80) || ((out[0] << 8) | out[1]) != q->id)
		abort();
	if (ldns_wire2pkt(&p, out, outlen) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
}

/* The fast parse and the ldns parse of one packet must not differ. */
static void
check_parse(const uint8_t *data, size_t size, int t)
{
	struct dns_question f, l;

	if (dns_parse_query(data, size, t, &f) !=
	        dns_parse_query_ldns(data, size, t, &l) ||
	    f.id != l.id || f.opcode != l.opcode || f.rd != l.rd ||
	    f.cd != l.cd || f.has_question != l.has_question ||
	    f.qname_len != l.qname_len ||
	    memcmp(f.qname, l.qname, l.qname_len) != 0 || f.qtype != l.qtype ||
	    f.qclass != l.qclass || f.edns != l.edns ||
	    f.edns_size != l.edns_size || f.edns_do != l.edns_do)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65535];
	const struct dns_service_lookup lk = {lookup, NULL};
	struct dns_question q;
	struct dns_addrs a = {v4, 3, v6, 3};
	size_t outlen;
	enum dns_verdict v;

	if (zones == NULL)
		init();
	for (int t = DNS_UDP; t <= DNS_TCP; t++) {
		check_parse(data, size, t);
		v = dns_answer(
		    zones, data, size, t, out, sizeof(out), &outlen, &q, &lk);
		check(&q, v, out, outlen, t == DNS_TCP ? 65535 : 1232);
		if (v != DNS_HOLD)
			continue;
		v = dns_answer_service(
		    zones, &q, &a, out, sizeof(out), &outlen);
		check(&q, v, out, outlen, t == DNS_TCP ? 65535 : 1232);
		v = dns_answer_servfail(&q, out, 100, &outlen);
		check(&q, v, out, outlen, 100);
	}
	return 0;
}
