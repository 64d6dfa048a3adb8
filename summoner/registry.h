/*
 * registry.h: services and their instances, summoning, the warm pool,
 * limits, idle stops, and reload.
 *
 * The registry decides; the backends (backend.h) carry out; the DNS front
 * end (server.h) asks and holds queries.  All of it runs on the one event
 * loop: nothing here blocks.
 */
#ifndef SUMMONER_REGISTRY_H
#define SUMMONER_REGISTRY_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "compat.h"
#include "config.h"
#include "dns.h"
#include "instance.h"

struct event_base;
struct event;
struct server;
struct held;

/* A loaded config, shared by the services that came from it. */
struct cref {
	struct config *conf;
	unsigned refs;
};

struct inst {
	struct instance st; /* the state machine: instance.h */
	TAILQ_ENTRY(inst) entry;
	struct svc *svc;
	const struct backend_ops *ops;
	void *bdata;          /* the backend's */
	bool warm;            /* in the pool: paused at entry, not summoned */
	bool from_pool;       /* summoned by a resume */
	bool booting_counted; /* counts against max-concurrent-boots */
	uint64_t t_summon;    /* when a query asked for it */
	uint64_t t_last_query;
	uint64_t memory; /* bytes it was booted with */
	struct event *idle_ev;
	unsigned console_tokens;
	uint64_t console_t;
	unsigned console_dropped;
	char fault[160]; /* the last fault, for the log */
};

struct svc {
	TAILQ_ENTRY(svc) entry;
	struct registry *reg;
	struct cref *cref;
	struct cfg_service *conf;
	char name[64]; /* for logs: "hello" */
	char *printed; /* the normalised config block, to compare on reload */
	TAILQ_HEAD(, inst) insts;
	unsigned next_id;
	struct inst *active; /* ready, or booting for the held queries */
	TAILQ_HEAD(held_q, held) held;
	unsigned nheld;
	struct event *deadline_ev;
	bool removed;
	struct in_addr *v4;
	size_t n4;
	struct in6_addr *v6;
	size_t n6;
};

struct registry_stats {
	unsigned instances, booting, warm, services;
	uint64_t memory;
	uint64_t summons_cold, summons_warm, summons_joined;
	uint64_t refused, deadline_servfail;
};

struct registry;

struct registry *registry_new(struct event_base *base, struct server *srv);

/*
 * Take conf (ownership passes to the registry) as the configuration:
 * services added, removed and changed take effect; unchanged services
 * keep their instances.  Returns the zone table for it (the caller owns
 * it), or NULL with a message in err and nothing changed.
 */
struct dns_zones *registry_apply(
    struct registry *r, struct config *conf, char *err, size_t errlen);

/* The service called name ("hello" or "hello.zone."), or NULL. */
struct svc *registry_service(struct registry *r, const char *name);

/* The struct dns_service_lookup function; arg is the registry. */
enum dns_service_state registry_lookup(
    void *arg, void *service, uint16_t qtype, struct dns_addrs *addrs);

/*
 * Hold h for service until an instance is ready (server_answer_held() is
 * called with its addresses) or its deadline passes (with NULL).  Starts
 * a boot if none is under way.  Returns 0 (h now belongs to the
 * registry), or -1 if a limit refused the boot (h is untouched; the
 * caller answers SERVFAIL).
 */
int registry_hold(struct registry *r, void *service, struct held *h,
    const struct sockaddr *client);

/* Stop every instance and answer every held query; done(arg) is called
 * once nothing runs any more (maybe before this returns). */
void registry_shutdown(struct registry *r, void (*done)(void *), void *arg);

void registry_stats(const struct registry *r, struct registry_stats *st);

void registry_free(struct registry *r);

#endif /* SUMMONER_REGISTRY_H */
