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
#include "health/health.h"
#include "instance.h"

struct event_base;
struct event;
struct server;
struct held;
struct policy;
struct journal;

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
	/* the last boot's timeline (instance_clock, 0 not reached): boot()
	 * called, tender's main() began, first KVM_RUN, READY */
	uint64_t t_spawn, t_main, t_entry, t_ready;
	uint64_t t_query; /* the query that caused the summon arrived, 0 none */
	uint64_t t_last_query;
	uint64_t memory; /* bytes it was booted with */
	struct event *idle_ev;
	unsigned console_tokens;
	uint64_t console_t;
	unsigned console_dropped;
	char fault[160]; /* the last fault, for the log */

	/* network (netdev.h): the first net device's tap and guest MAC */
	char tap[16];   /* "" when the service has no net device */
	uint8_t mac[6]; /* valid when tap[0] != '\0' */
	/* the taps' set-up at the last boot, microseconds: creation (before
	 * the tender is spawned) and attaching (while it loads) */
	unsigned net_create_us, net_attach_us;
	bool neigh_set; /* its neighbour entries are installed */

	/* health (filled from heartbeats; shown by summonerctl) */
	uint64_t beats, misses; /* heartbeats seen, misses detected */
	uint64_t t_last_beat;   /* instance_clock of the last one, 0 none */
	uint64_t last_seq, progress;
	uint32_t conns;
	char status[128]; /* last STATUS= */
	char token[33];   /* UDP heartbeat token, hex */

	/* the last fault's capture (empty strings when none) */
	char fault_kind[24]; /* "exception", "exit", ... */
	char signature[17];  /* health_signature(), hex */
	char fault_dir[256]; /* one directory per fault */
	char core[300];      /* fault_dir/core, when written */
	char *backtrace;     /* frames, '\n'-separated, innermost first */

	/* quarantine */
	char gdb[128];      /* the argument for gdb's "target remote" */
	uint64_t t_expires; /* instance_clock when it ends, 0 never */
	struct event *expire_ev;
	long adopted_pid;         /* re-adopted from the journal: not ours */
	struct event *adopted_ev; /* watches the adopted tender's end */
	int adopted_fd;           /* its pidfd, -1 */

	/* supervision (supervise.c) */
	struct health_watch hw;
	struct event *health_ev;  /* the next health deadline */
	struct event *restart_ev; /* a restart's back-off */
	uint64_t t_restart_due;   /* when it ends (instance_clock) */
	uint64_t t_boot;          /* the current boot began (instance_clock) */
	uint64_t t_fault;         /* the fault happened (tender's clock) */
	unsigned boots;           /* boots of this instance (restarts + 1) */
	int pending;              /* pol event kind awaiting CAPTURED, -1 */
	int pend_vector, pend_code;
	bool decided;            /* the last failure has its decision */
	bool reboot_on_exit;     /* restart due once the old tender is gone */
	bool stopped_on_purpose; /* a stop we asked for: exit is no event */
	bool beats_optional;     /* ready by ready-after: no beat owed yet */
	bool stop_asked; /* the operator's stop came while a fault awaited its
	                    decision: the decision is a stop */
};

/* A line of an instance's console or log, kept per service for
 * "summonerctl logs". */
#define SVC_LOG_LINES 256
#define SVC_LOG_TEXT  240

enum svc_log_kind {
	SVC_LOG_CONSOLE = 0,
	SVC_LOG_GUEST,    /* hb_log() */
	SVC_LOG_SUMMONER, /* transitions and decisions */
};

struct svc_log_line {
	uint64_t t_wall_ms;
	unsigned id;  /* instance */
	uint8_t kind; /* enum svc_log_kind */
	uint16_t len;
	char text[SVC_LOG_TEXT];
};

/*
 * One boot's timeline, for "summonerctl show": microseconds from the
 * query that caused the summon (from the spawn, or the pool's resume,
 * when no query did) to each step; TL_ABSENT for a step not taken (a
 * warm summon has no tender main or guest entry of its own, exec and
 * libvirt report neither, a summon without a query sends no answer).
 */
enum tl_step {
	TL_SPAWN = 0, /* tender/process started, or resumed from the pool */
	TL_MAIN,      /* the tender's main() began (hvt) */
	TL_ENTRY,     /* the guest's first instruction (hvt) */
	TL_READY,     /* READY */
	TL_ANSWERED,  /* the held queries were answered */
	TL_NSTEPS
};
#define TL_ABSENT     UINT32_MAX
#define SVC_TIMELINES 8 /* kept per service */

struct svc_timeline {
	unsigned id; /* instance */
	bool warm;   /* summoned from the warm pool */
	uint32_t us[TL_NSTEPS];
};

/* The ring of a service's last boots (registry.c keeps it). */
struct tl_ring {
	struct svc_timeline t[SVC_TIMELINES];
	unsigned next, count; /* the slot written next; entries held */
};

/* Add e to the ring, dropping the oldest when full. */
void tl_ring_add(struct tl_ring *r, const struct svc_timeline *e);

/* The i-th newest entry (0 the newest), NULL past the last. */
const struct svc_timeline *tl_ring_get(const struct tl_ring *r, unsigned i);

/* The median of the entries' query->answer times (the lower middle one
 * for an even count), TL_ABSENT when none was answered. */
uint32_t tl_ring_median_answered(const struct tl_ring *r);

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

	/* the policy's bookkeeping (policies/policy.h) */
	void *pol_history;
	bool retired;             /* answers as its policy's retire says */
	unsigned quarantined;     /* instances now quarantined */
	int retire_answer;        /* enum pol_answer */
	struct in_addr retire_v4; /* the fallback address, when one */
	struct in6_addr retire_v6;
	bool retire_has_v4, retire_has_v6;
	uint64_t faults;

	/* the last SVC_LOG_LINES console/log lines, a ring */
	struct svc_log_line *log;
	unsigned log_head, log_count;
	uint64_t log_seq; /* lines ever added: followers track it */

	struct tl_ring timelines; /* the last boots, for show and top */
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

/* ---- for the control socket (summoner/control.c) ---- */

TAILQ_HEAD(svc_list, svc);

/* Every service, in config order. */
const struct svc_list *registry_services(const struct registry *r);

/*
 * The instance "name" names: "www#3" is that instance; "www" is the
 * service's most interesting one (quarantined first, then the active
 * instance, then the newest).  Sets *svc to the service either way (NULL
 * when no service has that name).  Returns NULL when there is none.
 */
struct inst *registry_find(
    struct registry *r, const char *name, struct svc **svc);

/*
 * Operator actions.  name as for registry_find().  Each returns 0, or -1
 * with a one-line reason in err ("no service named x", "www#3 is not
 * quarantined", ...).  They start the action and return at once.
 *   summon:  boot the service's instance if none is active (no client
 *            query is held; limits apply, the rate limit does not)
 *   stop:    stop the instance (or every running instance of the service)
 *   restart: stop the active instance and boot a new one at once
 *   release: end a quarantine: stop the frozen instance
 *   retire:  retire the service: stop its instances, answer as its policy
 *            says for retired services (NXDOMAIN when it says nothing)
 */
int registry_ctl_summon(
    struct registry *r, const char *name, char *err, size_t errlen);
int registry_ctl_stop(
    struct registry *r, const char *name, char *err, size_t errlen);
int registry_ctl_restart(
    struct registry *r, const char *name, char *err, size_t errlen);
int registry_ctl_release(
    struct registry *r, const char *name, char *err, size_t errlen);
int registry_ctl_retire(
    struct registry *r, const char *name, char *err, size_t errlen);

/*
 * Called for every line added to a service's log ring (after it is
 * added); control.c points it at its "logs -f" followers.  NULL: none.
 */
extern void (*registry_log_tap)(struct svc *s, const struct svc_log_line *l);

/*
 * Supervision set-up (before registry_apply()): the journal written to
 * (NULL: none), the state directory for fault artifacts and gdb sockets
 * (created if missing), and where UDP heartbeats are taken (NULL: no UDP
 * transport).  Returns 0, or -1 with a message in err.
 */
int registry_supervise(struct registry *r, struct journal *j,
    const char *state_dir, const struct sockaddr *hb_addr, unsigned hb_len,
    char *err, size_t errlen);

/* The UDP heartbeat port (0 when off). */
unsigned registry_heartbeat_port(const struct registry *r);

/*
 * After the first registry_apply(): read the journal for what an earlier
 * run left behind: tenders still running are killed, quarantined ones
 * re-adopted (kept frozen, their gdb stub and expiry as before); every
 * leftover is journaled as such.  Then taps and neighbour entries on the
 * configured bridges that no live instance owns are removed
 * (netdev_sweep()).  Returns the number of leftovers found.
 */
int registry_recover(struct registry *r);

/* The policy a service runs under (its own, else the default one). */
const struct policy *registry_policy(const struct svc *s);

#endif /* SUMMONER_REGISTRY_H */
