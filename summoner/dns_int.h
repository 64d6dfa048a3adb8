/*
 * dns_int.h: internals shared by dns.c (answers) and dns_zone.c (the
 * compiled zone table).  Not for use outside the DNS engine.
 */
#ifndef SUMMONER_DNS_INT_H
#define SUMMONER_DNS_INT_H

#include <ldns/ldns.h>

#include "dns.h"

/* A name in wire form, lower-cased for comparison. */
struct dns_wname {
	uint8_t wire[DNS_MAXNAME];
	size_t len;
};

struct dns_cname {
	struct dns_wname name;
	uint32_t ttl;
	struct in_addr *v4;
	size_t n4;
	struct in6_addr *v6;
	size_t n6;
	void *service;
};

struct dns_czone {
	struct dns_wname apex;
	ldns_rdf *apex_rdf, *mname, *rname;
	uint32_t serial, refresh, retry, expire, minimum, ttl;
	ldns_rdf **ns;
	size_t nns;
	struct dns_cname *names;
	size_t nnames;
};

struct dns_zones {
	struct dns_czone *zones;
	size_t n;
};

/* The zone with the longest apex at or above qname, or NULL. */
const struct dns_czone *dns_zone_find(
    const struct dns_zones *z, const uint8_t *qname, size_t qlen);
/* The name equal to qname (case-insensitively) in zone, or NULL. */
const struct dns_cname *dns_zone_name(
    const struct dns_czone *zone, const uint8_t *qname, size_t qlen);
/* True if some name of zone lies strictly below qname (empty non-terminal). */
bool dns_zone_has_below(
    const struct dns_czone *zone, const uint8_t *qname, size_t qlen);
/* Case-insensitive equality of two wire names. */
bool dns_wname_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif /* SUMMONER_DNS_INT_H */
