/*
 * dnsbench: what one dns_answer() costs, per query shape, on one core.
 * A benchmark, not a test: it prints figures and never fails on a time.
 *
 *   dnsbench [N]   answer each shape N times (default 1000000) per round,
 *                  five rounds, and print the best round in ns/answer
 *
 * The zone has 2000 names besides the ones asked for, so a lookup that
 * scans the zone shows here.  The service lookup is a stub that answers
 * READY at once: what is measured is the engine, not the registry.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "summoner/dns.h"

#define NFILL  2000
#define ROUNDS 5

struct shape {
	const char *label;
	const char *name;
	uint16_t qtype, qclass;
	int edns; /* add an OPT with this payload size (0: none) */
	int transport;
};

static const struct shape shapes[] = {
    {"A, ready service", "svc.bench.test", 1, 1, 0, DNS_UDP},
    {"A, ready service, EDNS", "svc.bench.test", 1, 1, 1232, DNS_UDP},
    {"A, static, mixed case, TCP", "WwW.Bench.Test", 1, 1, 0, DNS_TCP},
    {"AAAA NODATA (v4 only)", "www.bench.test", 28, 1, 0, DNS_UDP},
    {"NXDOMAIN", "nope.bench.test", 1, 1, 0, DNS_UDP},
    {"apex SOA", "bench.test", 6, 1, 0, DNS_UDP},
    {"apex ANY, EDNS", "bench.test", 255, 1, 4096, DNS_UDP},
    {"refused (outside zones)", "example.com", 1, 1, 0, DNS_UDP},
    {"refused (class CH)", "www.bench.test", 1, 3, 0, DNS_UDP},
};

static struct in_addr svc_v4;
static int svc_handle;

static enum dns_service_state
lookup(void *arg, void *service, uint16_t qtype, struct dns_addrs *a)
{
	(void)arg;
	(void)service;
	(void)qtype;
	*a = (struct dns_addrs){&svc_v4, 1, NULL, 0};
	return DNS_SVC_READY;
}

/* A query for the dotted name, built by hand into buf; returns its size. */
static size_t
mkquery(uint8_t *buf, const struct shape *s)
{
	const char *p = s->name;
	size_t n = 12;

	memset(buf, 0, 12);
	buf[0] = 0xbe;
	buf[1] = 0xef;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;
	buf[11] = s->edns ? 1 : 0;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		buf[n++] = (uint8_t)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(s->qtype >> 8);
	buf[n++] = (uint8_t)s->qtype;
	buf[n++] = (uint8_t)(s->qclass >> 8);
	buf[n++] = (uint8_t)s->qclass;
	if (s->edns) {
		static const uint8_t opt[] = {0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0};

		memcpy(buf + n, opt, sizeof(opt));
		buf[n + 3] = (uint8_t)(s->edns >> 8);
		buf[n + 4] = (uint8_t)s->edns;
		n += sizeof(opt);
	}
	return n;
}

static struct dns_zones *
mkzones(void)
{
	static const char *const ns[] = {"ns1", "ns2.example."};
	static char fill[NFILL][16];
	static struct in_addr v4[NFILL];
	static struct dns_name_conf names[NFILL + 2];
	struct dns_zone zc = {.apex = "bench.test.",
	    .mname = "ns1",
	    .rname = "hostmaster",
	    .serial = 1,
	    .refresh = 3600,
	    .retry = 600,
	    .expire = 86400,
	    .minimum = 60,
	    .ttl = 3600,
	    .ns = ns,
	    .nns = 2,
	    .names = names,
	    .nnames = NFILL + 2};
	char err[128];
	struct dns_zones *z;

	for (size_t i = 0; i < NFILL; i++) {
		snprintf(fill[i], sizeof(fill[i]), "host%zu", i);
		v4[i].s_addr = htonl(0x0a000000u + (uint32_t)i);
		names[i] = (struct dns_name_conf){
		    fill[i], 60, {&v4[i], 1, NULL, 0}, NULL};
	}
	/* Last, so that a linear scan has to walk past every other name. */
	names[NFILL] =
	    (struct dns_name_conf){"www", 300, {&v4[0], 1, NULL, 0}, NULL};
	names[NFILL + 1] =
	    (struct dns_name_conf){"svc", 30, {NULL, 0, NULL, 0}, &svc_handle};
	if ((z = dns_zones_new(&zc, 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsbench: %s\n", err);
		exit(1);
	}
	return z;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	const struct dns_service_lookup lk = {lookup, NULL};
	static uint8_t out[65535];
	struct dns_zones *z;
	struct dns_question q;
	uint8_t pkt[512];
	size_t plen, outlen = 0;
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	enum dns_verdict v = DNS_DROP;

	if (n <= 0) {
		fprintf(stderr, "usage: dnsbench [iterations]\n");
		return 2;
	}
	svc_v4.s_addr = htonl(0xc0000209);
	z = mkzones();
	printf(
	    "dnsbench: %ld answers per round, best of %d, zone of %d names\n",
	    n, ROUNDS, NFILL + 2);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		double best = 0;

		plen = mkquery(pkt, s);
		for (int r = 0; r < ROUNDS; r++) {
			double t0 = now_ns(), dt;

			for (long k = 0; k < n; k++)
				v = dns_answer(z, pkt, plen, s->transport, out,
				    sizeof(out), &outlen, &q, &lk);
			dt = (now_ns() - t0) / (double)n;
			if (r == 0 || dt < best)
				best = dt;
		}
		printf("  %-28s %7.0f ns/answer  (%s, %zu bytes)\n", s->label,
		    best, dns_verdict_name(v), outlen);
	}
	dns_zones_free(z);
	return 0;
}
