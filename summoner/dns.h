/*
 * dns.h: the summoner's DNS answer engine.
 *
 * A pure library: no sockets, no event loop, no clock.  The daemon compiles
 * its configured zones once with dns_zones_new(), hands every received
 * packet to dns_answer() and sends what comes back.  A query for a service
 * that needs a boot is not answered at once (DNS_HOLD): the engine fills a
 * struct dns_question, which is plain data the daemon keeps, and the daemon
 * later answers it with dns_answer_service() or dns_answer_servfail().
 *
 * Every check of untrusted input lives in dns_parse_query() (dns_parse.c);
 * the contract is documented in docs/dns.md.
 */
#ifndef SUMMONER_DNS_H
#define SUMMONER_DNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_UDP 0
#define DNS_TCP 1

#define DNS_MAXNAME   255  /* wire length of a name, root label included */
#define DNS_EDNS_SIZE 1232 /* the payload size we advertise and honour */
#define DNS_UDP_MIN   512
#define DNS_TCP_MAX   65535

/* A set of addresses, borrowed: the engine never frees or keeps them. */
struct dns_addrs {
	const struct in_addr *v4;
	size_t n4;
	const struct in6_addr *v6;
	size_t n6;
};

/* A name in a zone, as the daemon describes it. */
struct dns_name_conf {
	const char *name; /* "hello" (relative to the apex) or "hello.z." */
	uint32_t ttl;
	struct dns_addrs addrs; /* answered when service is NULL */
	void *service;          /* non-NULL: ask the lookup (see below) */
};

/* A zone, as the daemon describes it (from the config). */
struct dns_zone {
	const char *apex; /* "summoner.test." */
	const char *mname;
	const char *rname; /* in name form: "hostmaster.summoner.test." */
	uint32_t serial, refresh, retry, expire, minimum;
	uint32_t ttl; /* of the SOA and NS records */
	const char *const *ns;
	size_t nns;
	const struct dns_name_conf *names;
	size_t nnames;
};

/* The compiled, immutable zone table (opaque). */
struct dns_zones;

/* What the lookup says about a service name. */
enum dns_service_state {
	DNS_SVC_READY,    /* a ready instance: *addrs filled, answer now */
	DNS_SVC_BOOT,     /* a boot is needed or under way: hold the query */
	DNS_SVC_NODATA,   /* this qtype does not boot it: NODATA, no boot */
	DNS_SVC_RETIRED,  /* the service is going away: NXDOMAIN */
	DNS_SVC_SERVFAIL, /* retired, its policy answers SERVFAIL */
	DNS_SVC_REFUSED,  /* retired, its policy answers REFUSED */
};

/*
 * The seam to the instance registry.  fn is called only for A, AAAA and
 * ANY queries at a name whose conf has a service; the addresses it returns
 * need to stay valid until dns_answer() returns.  *addrs holds the name's
 * configured addresses on entry; DNS_SVC_READY answers with *addrs as the
 * function leaves it (a retired service's fallback address).
 */
struct dns_service_lookup {
	enum dns_service_state (*fn)(
	    void *arg, void *service, uint16_t qtype, struct dns_addrs *addrs);
	void *arg;
};

enum dns_verdict {
	DNS_REPLY, /* out holds *outlen bytes to send */
	DNS_DROP,  /* send nothing */
	DNS_HOLD,  /* keep *q; answer later with dns_answer_service/servfail */
};

/*
 * A parsed query: everything needed to answer it, now or later.  Plain
 * data (no pointers into the packet), so a held query outlives it.
 */
struct dns_question {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd;
	bool has_question;          /* qname/qtype/qclass are valid */
	uint8_t qname[DNS_MAXNAME]; /* wire form, case as sent; */
	size_t qname_len;           /* bytes past it are unspecified */
	uint16_t qtype, qclass;
	bool edns;          /* the query had one valid OPT */
	uint16_t edns_size; /* the client's payload size */
	bool edns_do;
	int transport; /* DNS_UDP or DNS_TCP */
	/* Filled when the verdict is DNS_HOLD: */
	void *service; /* from the matched dns_name_conf */
	uint32_t ttl;  /* for the address records */
};

/* Result of parsing a query: what the engine answers before any lookup. */
enum dns_parse_status {
	DNS_PARSE_OK,
	DNS_PARSE_DROP,    /* too short for a header, or a response */
	DNS_PARSE_FORMERR, /* malformed: answer FORMERR */
	DNS_PARSE_NOTIMP,  /* opcode other than QUERY */
	DNS_PARSE_BADVERS, /* EDNS version above 0 */
};

/*
 * Compile n zone descriptions into a table.  Returns NULL with errno set
 * (EINVAL for a bad name, ENOMEM) and, when errbuf is not NULL, a message.
 * The table copies everything it needs; confs may be freed afterwards.
 */
struct dns_zones *dns_zones_new(
    const struct dns_zone *confs, size_t n, char *errbuf, size_t errlen);
/* Free a table from dns_zones_new(); NULL is accepted. */
void dns_zones_free(struct dns_zones *z);

/*
 * Parse and check an untrusted packet: the only function that reads one.
 * Always fills *q as far as the packet allowed (id, flags, question, EDNS).
 */
enum dns_parse_status dns_parse_query(
    const uint8_t *pkt, size_t len, int transport, struct dns_question *q);

/*
 * Answer one query.  out must hold outsz bytes; the answer is cut to the
 * transport's limit (UDP: max(512, min(EDNS size, 1232)), or 512 without
 * EDNS; TCP: 65535, without the length prefix) and to outsz, with TC set
 * and the answer emptied when it does not fit.  *q is always filled; on
 * DNS_HOLD it is what the daemon keeps.  lk may be NULL: service names
 * then answer from their configured addresses.
 */
enum dns_verdict dns_answer(const struct dns_zones *z, const uint8_t *query,
    size_t qlen, int transport, uint8_t *out, size_t outsz, size_t *outlen,
    struct dns_question *q, const struct dns_service_lookup *lk);

/*
 * Answer a held query with the service's addresses (records of q->qtype,
 * or both for ANY; NODATA with the zone's SOA when none match).  z is the
 * current table: if a reload removed the zone, the NODATA has no SOA.
 * Returns DNS_REPLY, or DNS_DROP if not even a header fits in outsz.
 */
enum dns_verdict dns_answer_service(const struct dns_zones *z,
    const struct dns_question *q, const struct dns_addrs *addrs, uint8_t *out,
    size_t outsz, size_t *outlen);

/* Answer a held query with SERVFAIL (boot failed, deadline passed). */
enum dns_verdict dns_answer_servfail(
    const struct dns_question *q, uint8_t *out, size_t outsz, size_t *outlen);

/* Name of a verdict, for logs. */
const char *dns_verdict_name(enum dns_verdict v);

#endif /* SUMMONER_DNS_H */
