/*
 * metrics.h: the summoner's Prometheus metrics (docs/summoner.md
 * "Metrics").
 *
 * Two halves.  The counters: the places that know call one metrics_*
 * function each (DNS answers in server.c, summons in registry.c, faults,
 * decisions and heartbeat misses in supervise.c); they only add to
 * in-memory counters, on the loop's thread.  The page: GET /metrics on
 * the configured address (`metrics on`, docs/config.md) is built from
 * those counters and, at scrape time, from the registry (instances by
 * state, quarantine slots used, each tender's RSS from /proc), in the
 * Prometheus text exposition format 0.0.4.  Nothing the page does blocks
 * the DNS loop for longer than reading the registry and a few small
 * /proc files.
 *
 * Per-service series are labelled with the service's name ("hello"); a
 * service a reload removed is dropped from the page at the next scrape.
 */
#ifndef SUMMONER_METRICS_H
#define SUMMONER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"

struct event_base;
struct registry;
struct metrics;

/* The Content-Type of the page. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The histogram's upper bounds (seconds), for 1 ms to 10 s summons. */
#define METRICS_LATENCY_BUCKETS 13

enum metrics_summon {
	METRICS_SUMMON_COLD,      /* a boot */
	METRICS_SUMMON_WARM,      /* a resume from the warm pool */
	METRICS_SUMMON_COALESCED, /* a query that joined a summon under way */
	METRICS_SUMMON_NKINDS
};

/*
 * One DNS query dealt with: v is the verdict (DNS_REPLY with the reply's
 * len bytes in reply, whose rcode is counted, extended rcode included;
 * anything else counts as dropped).  Held queries are counted when their
 * answer is made, not when they are held.
 */
void metrics_dns_query(const struct dns_question *q, enum dns_verdict v,
    const uint8_t *reply, size_t len);

/* A summon of service, of the kind given. */
void metrics_summon(const char *service, enum metrics_summon kind);

/*
 * A held query of service answered with addresses: the time since
 * t_query (instance_clock(), when it arrived) goes into the summon
 * latency histogram, under kind="warm" when the instance came from the
 * warm pool, else "cold".
 */
void metrics_summon_answered(const char *service, bool warm, uint64_t t_query);

/* A fault of service ("exception", "abort", ...; pol_event_name()). */
void metrics_fault(const char *service, const char *kind);

/* A policy decision for service: the event and the action it led to
 * (pol_event_name(), pol_action_name()), as journaled. */
void metrics_decision(
    const char *service, const char *event, const char *action);

/* A heartbeat deadline of an instance of service passed. */
void metrics_heartbeat_miss(const char *service);

/*
 * The page, as a new NUL-terminated string of *len bytes (the caller
 * frees it), or NULL when out of memory.  r may be NULL: the gauges read
 * from the registry are left out and no service is dropped.
 */
char *metrics_page(const struct registry *r, size_t *len);

/* Forget every counter (tests). */
void metrics_reset(void);

/*
 * Serve the page over HTTP on conf's metrics address, on base's loop:
 * GET and HEAD /metrics, 404 for other paths, 405 for other methods; at
 * most a few dozen connections at once, each closed after some seconds
 * idle.  Returns 0 with *mp set (NULL when conf turns metrics off), or
 * -1 with a message in err ("tcp 127.0.0.1 port 9153: Address already
 * in use").
 */
int metrics_listen(struct metrics **mp, struct event_base *base,
    const struct registry *r, const struct config *conf, char *err,
    size_t errlen);

/* After a reload: the endpoint stays where it was bound; a changed
 * address is logged as needing a restart.  m may be NULL. */
void metrics_reloaded(const struct metrics *m, const struct config *conf);

/* Close the endpoint and its connections; NULL is ignored.  The counters
 * stay. */
void metrics_free(struct metrics *m);

#endif /* SUMMONER_METRICS_H */
