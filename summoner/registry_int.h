/*
 * registry_int.h: what registry.c, supervise.c and registry_ctl.c share.
 * Not an interface: nothing outside the registry includes it.
 */
#ifndef SUMMONER_REGISTRY_INT_H
#define SUMMONER_REGISTRY_INT_H

#include <sys/time.h>

#include "registry.h"

#define NS_PER_MS    UINT64_C(1000000)
#define NS_PER_S     UINT64_C(1000000000)
#define RATE_BUCKETS 1024 /* per-client boot rate: hashed buckets */

struct journal;
struct health_udp;

struct rate_bucket {
	uint64_t t;    /* last refill */
	double tokens; /* boots the client may still start */
	uint8_t key[16];
	size_t keylen;
};

struct registry {
	struct event_base *base;
	struct server *srv;
	struct cref *cref; /* the current configuration */
	struct svc_list svcs;
	unsigned ninst, nbooting, nwarm;
	uint64_t memory;
	struct registry_stats stats;
	struct rate_bucket rates[RATE_BUCKETS];
	uint64_t refuse_log_t;
	unsigned refuse_log_n;
	struct event *refill_ev;
	bool shutting_down;
	void (*done)(void *);
	void *done_arg;

	/* issue 4: supervision */
	struct journal *journal; /* NULL: nothing journaled */
	struct health_udp *udp;  /* heartbeats over UDP, NULL when off */
	char *state_dir;         /* absolute */
	uint64_t hb_rejected;    /* UDP heartbeats replayed or stale */
	struct policy *builtin;  /* for services without a policy */
};

/* registry.c */
void answer_all(struct svc *s, const struct dns_addrs *a);
void inst_stop(struct inst *in, const char *why);
struct inst *inst_start(struct svc *s, bool paused, const char **why);
void inst_free(struct inst *in);
void inst_gone(struct inst *in);
void inst_boot_done(struct inst *in);
int summon(struct svc *s, const struct sockaddr *client);
void pool_fill_soon(struct registry *r);
void pool_fill_all(struct registry *r);
const struct config *svc_config(const struct svc *s);
struct timeval tv_ms(uint64_t ns);

/* supervise.c: health, faults and the policy's decisions */
int sup_inst_init(struct inst *in);
void sup_inst_fini(struct inst *in);
void sup_booting(struct inst *in);
void sup_ready(struct inst *in);
void sup_heartbeat(struct inst *in, const struct bevent *ev);
void sup_fault(struct inst *in, const struct bevent *ev);
void sup_captured(struct inst *in, const struct bevent *ev);
void sup_gdb(struct inst *in, const struct bevent *ev);
/* true when the instance lives on (restarting, quarantine re-boot) */
bool sup_exited(struct inst *in, const struct bevent *ev);
int inst_stop_any(struct inst *in, const char *why, char *err, size_t errlen);
void sup_release(struct inst *in, const char *why);
void sup_retire(struct svc *s, const char *why);
struct inst *inst_new_adopted(struct svc *s, unsigned id);
void registry_ring_line(struct inst *in, int kind, const char *t, size_t n);
void sup_log(struct svc *s, unsigned id, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
