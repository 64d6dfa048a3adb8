/*
 * dns_int.h: internals shared by dns.c (answers), dns_parse.c (queries)
 * and dns_zone.c (the compiled zone table), and seen by the unit tests
 * that compare the fast paths with ldns.  Not for use outside the DNS
 * engine.
 */
#ifndef SUMMONER_DNS_INT_H
#define SUMMONER_DNS_INT_H

#include "dns.h"

/* A name in wire form, as configured (case kept: it is written out). */
struct dns_wname {
	uint8_t wire[DNS_MAXNAME];
	size_t len;
};

struct dns_cname {
	struct dns_wname name;
	uint32_t hash; /* dns_wname_hash() of name */
	uint32_t next; /* next index in the same hash bucket, or NONE */
	uint32_t ttl;
	struct in_addr *v4;
	size_t n4;
	struct in6_addr *v6;
	size_t n6;
	void *service;
};

/* A hash set of names, by index into an array of names kept elsewhere. */
struct dns_hset {
	uint32_t *bucket; /* first index per bucket, or DNS_HNONE */
	uint32_t mask;    /* buckets - 1; 0 with no buckets */
};
#define DNS_HNONE UINT32_MAX

/* A proper ancestor of a listed name, below or at the apex. */
struct dns_ent {
	const uint8_t *wire; /* a suffix of some dns_cname's name */
	size_t len;
	uint32_t hash, next;
};

struct dns_czone {
	struct dns_wname apex, mname, rname;
	uint32_t apex_hash, next;
	uint32_t serial, refresh, retry, expire, minimum, ttl;
	struct dns_wname *ns;
	size_t nns;
	struct dns_cname *names;
	size_t nnames;
	struct dns_hset names_set; /* over names */
	struct dns_ent *ents;      /* ancestors: empty non-terminals */
	size_t nents;
	struct dns_hset ents_set; /* over ents */
};

struct dns_zones {
	struct dns_czone *zones;
	size_t n;
	struct dns_hset apex_set;   /* over zones, by apex */
	uint8_t apex_lens[256 / 8]; /* bit per apex length in use */
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
/* Case-insensitive (ASCII) equality of two wire names. */
bool dns_wname_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Case-insensitive hash of a wire name. */
uint32_t dns_wname_hash(const uint8_t *w, size_t len);

/* ASCII lower case: what DNS name comparison folds (RFC 4343). */
static inline uint8_t
dns_lower(uint8_t c)
{
	return (uint8_t)(c + (((unsigned)c - 'A' < 26u) << 5));
}

/*
 * What a reply contains, decided from the zone table and the lookup;
 * dns_emit() writes it.  Separate so that tests can write the same
 * reply with a reference builder and compare.
 */
struct dns_reply {
	int rcode; /* 0..15, or 16 (BADVERS: extended, needs EDNS) */
	bool aa;
	const struct dns_czone *zone; /* SOA/NS records come from here */
	bool soa_answer, ns_answer, soa_auth;
	const struct dns_addrs *addrs; /* address records */
	bool want4, want6;
	uint32_t ttl;
};

#define DNS_RCODE_BADVERS 16

/*
 * Decide the answer to a packet: DNS_REPLY fills *r (whose addrs may point
 * at *a), DNS_DROP and DNS_HOLD leave it alone.  *q is always filled.
 */
enum dns_verdict dns_decide(const struct dns_zones *z, const uint8_t *query,
    size_t qlen, int transport, struct dns_question *q,
    const struct dns_service_lookup *lk, struct dns_reply *r,
    struct dns_addrs *a);
/* The reply of dns_answer_service() for a held query. */
void dns_reply_addrs(const struct dns_question *q, const struct dns_czone *zone,
    const struct dns_addrs *a, uint32_t ttl, struct dns_reply *r);
/*
 * Write reply r to out, in at most the transport's limit and outsz bytes:
 * whole, else truncated (TC, question and OPT only), else DNS_DROP.
 */
enum dns_verdict dns_emit(const struct dns_question *q,
    const struct dns_reply *r, uint8_t *out, size_t outsz, size_t *outlen);
/* The size limit of a reply to q in a buffer of outsz bytes. */
size_t dns_reply_limit(const struct dns_question *q, size_t outsz);

/*
 * dns_parse_query() without its fast path: every packet through ldns.
 * The reference the fast path must agree with, verdict and *q alike.
 */
enum dns_parse_status dns_parse_query_ldns(
    const uint8_t *pkt, size_t len, int transport, struct dns_question *q);

#endif /* SUMMONER_DNS_INT_H */
