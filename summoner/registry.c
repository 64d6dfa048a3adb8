/*
 * registry.c: services, instances, summoning and the warm pool.
 *
 * A service has at most one "active" instance: the one queries are
 * answered from once it is ready, or the one held queries wait for while
 * it boots.  Queries for a service with no active instance start one
 * (from the warm pool when it has a paused tender, else cold), unless a
 * limit says no.  Every state change goes through instance_set_state().
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "netdev.h"
#include "policies/policy.h"
#include "registry_int.h"
#include "server.h"

#define MAX_HELD_PER_SVC 4096 /* queries waiting for one service */
#define CONSOLE_BURST    50   /* console lines logged per second ... */
/*
 * After a summon is answered, pools refill this much later: spawning a
 * tender right away (vfork + exec, then its set-up on the other core)
 * delayed the client's receipt of the answer just sent by over a
 * millisecond, doubling the warm summon latency seen by the client.
 */
#define REFILL_DELAY_MS 5

static void pool_fill(struct svc *s);

static uint64_t
now_ns(void)
{
	return instance_clock();
}

struct timeval
tv_ms(uint64_t ns)
{
	struct timeval tv = {
	    .tv_sec = (time_t)(ns / NS_PER_S),
	    .tv_usec = (suseconds_t)((ns % NS_PER_S) / 1000),
	};

	return tv;
}

static void
cref_put(struct cref *c)
{
	if (c != NULL && --c->refs == 0) {
		config_free(c->conf);
		free(c);
	}
}

const struct config *
svc_config(const struct svc *s)
{
	return s->cref->conf;
}

/* ---- held queries and deadlines ---- */

/* Answer every held query of s.  The list is taken first: answering a
 * TCP query may read the next one on its connection, which may hold. */
void
answer_all(struct svc *s, const struct dns_addrs *a)
{
	struct held_q list = TAILQ_HEAD_INITIALIZER(list);
	struct held *h;

	TAILQ_CONCAT(&list, &s->held, entry);
	s->nheld = 0;
	if (s->deadline_ev != NULL)
		event_del(s->deadline_ev);
	while ((h = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, h, entry);
		if (a != NULL)
			metrics_summon_answered(s->name,
			    s->active != NULL && s->active->from_pool,
			    h->t_arrival);
		server_answer_held(s->reg->srv, h, a);
	}
}

static void
deadline_arm(struct svc *s)
{
	struct held *h = TAILQ_FIRST(&s->held);
	uint64_t now = now_ns();
	struct timeval tv;

	if (h == NULL) {
		event_del(s->deadline_ev);
		return;
	}
	tv = tv_ms(h->deadline > now ? h->deadline - now : 0);
	event_add(s->deadline_ev, &tv);
}

/* The ready deadline of the oldest held queries passed: SERVFAIL them and
 * let the instance go on booting. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct svc *s = arg;
	uint64_t now = now_ns();
	struct held *h;
	unsigned n = 0;

	(void)fd;
	(void)what;
	while ((h = TAILQ_FIRST(&s->held)) != NULL && h->deadline <= now) {
		TAILQ_REMOVE(&s->held, h, entry);
		s->nheld--;
		server_answer_held(s->reg->srv, h, NULL);
		n++;
	}
	if (n > 0) {
		s->reg->stats.deadline_servfail += n;
		log_warnx("service %s: ready deadline of %" PRIu64
		          " ms passed: SERVFAIL to %u %s; the boot goes on",
		    s->name, s->conf->ready_deadline, n,
		    n == 1 ? "query" : "queries");
	}
	deadline_arm(s);
}

/* ---- limits ---- */

/* A refusal is logged, but at most once a second with a count. */
static void
refuse_log(struct registry *r, const struct svc *s, const char *why)
{
	uint64_t now = now_ns();

	r->stats.refused++;
	if (now - r->refuse_log_t < NS_PER_S && r->refuse_log_t != 0) {
		r->refuse_log_n++;
		return;
	}
	if (r->refuse_log_n > 0)
		log_warnx("%u more boots refused in the last second",
		    r->refuse_log_n);
	r->refuse_log_t = now;
	r->refuse_log_n = 0;
	log_warnx("service %s: boot refused (%s): SERVFAIL", s->name, why);
}

static bool
client_rate_ok(struct registry *r, const struct sockaddr *sa)
{
	const struct config *conf = r->cref->conf;
	const uint8_t *key;
	size_t keylen;
	uint32_t hash = 2166136261u;
	struct rate_bucket *b;
	uint64_t now = now_ns();
	double rate = conf->boot_rate;

	if (sa == NULL || conf->boot_rate == 0)
		return true;
	if (sa->sa_family == AF_INET) {
		key = (const uint8_t *)&((const struct sockaddr_in *)sa)
		          ->sin_addr;
		keylen = 4;
	} else if (sa->sa_family == AF_INET6) {
		key = (const uint8_t *)&((const struct sockaddr_in6 *)sa)
		          ->sin6_addr;
		keylen = 16;
	} else
		return true;
	for (size_t i = 0; i < keylen; i++)
		hash = (hash ^ key[i]) * 16777619u;
	b = &r->rates[hash % RATE_BUCKETS];
	if (b->keylen != keylen || memcmp(b->key, key, keylen) != 0) {
		/* A new client (or a collision) starts with a full bucket. */
		memcpy(b->key, key, keylen);
		b->keylen = keylen;
		b->tokens = rate;
		b->t = now;
	}
	b->tokens += rate * (double)(now - b->t) / NS_PER_S;
	if (b->tokens > rate)
		b->tokens = rate;
	b->t = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/* Whether one more instance of s may start; why says which limit not. */
static bool
room_for(struct registry *r, const struct svc *s, const char **why)
{
	const struct config *conf = r->cref->conf;

	if (r->shutting_down) {
		*why = "shutting down";
		return false;
	}
	if (r->ninst >= conf->max_instances) {
		*why = "max-instances reached";
		return false;
	}
	if (r->nbooting >= conf->max_concurrent_boots) {
		*why = "max-concurrent-boots reached";
		return false;
	}
	if (conf->memory_budget != 0 &&
	    r->memory + s->conf->memory > conf->memory_budget) {
		*why = "memory-budget reached";
		return false;
	}
	return true;
}

/* ---- instances ---- */

static void
idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inst *in = arg;
	uint64_t now = now_ns(), idle = in->svc->conf->idle_timeout * NS_PER_MS;
	struct timeval tv;
	char why[64];

	(void)fd;
	(void)what;
	if (in->st.state != IS_READY)
		return;
	if (now - in->t_last_query < idle) {
		tv = tv_ms(idle - (now - in->t_last_query));
		event_add(in->idle_ev, &tv);
		return;
	}
	snprintf(why, sizeof(why), "idle for %" PRIu64 " ms",
	    (uint64_t)((now - in->t_last_query) / NS_PER_MS));
	inst_stop(in, why);
}

static struct inst *
inst_new_id(struct svc *s, unsigned id)
{
	struct registry *r = s->reg;
	struct inst *in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->idle_ev = evtimer_new(r->base, idle_cb, in);
	if (in->idle_ev == NULL) {
		free(in);
		return NULL;
	}
	instance_init(&in->st, s->name, id);
	in->svc = s;
	if (sup_inst_init(in) < 0) {
		sup_inst_fini(in);
		event_free(in->idle_ev);
		free(in);
		return NULL;
	}
	in->ops = backend_for(s->conf->backend);
	in->memory = s->conf->memory;
	in->console_tokens = CONSOLE_BURST;
	TAILQ_INSERT_TAIL(&s->insts, in, entry);
	r->ninst++;
	r->memory += in->memory;
	return in;
}

static struct inst *
inst_new(struct svc *s)
{
	return inst_new_id(s, ++s->next_id);
}

/* An instance an earlier run left quarantined, under its old id. */
struct inst *
inst_new_adopted(struct svc *s, unsigned id)
{
	if (s->next_id < id)
		s->next_id = id;
	return inst_new_id(s, id);
}

void
inst_boot_done(struct inst *in)
{
	if (in->booting_counted) {
		in->booting_counted = false;
		in->svc->reg->nbooting--;
	}
}

/* The bridge where a service's addresses are, or NULL. */
static const char *
svc_bridge(const struct cfg_service *c)
{
	const struct cfg_device *d = config_service_net(c);

	return d != NULL ? d->bridge : NULL;
}

/*
 * Point the service's addresses at the instance's MAC on its bridge, so
 * that the host's first packet to the guest needs no ARP round trip.  A
 * failure is logged, not fatal: the guest still answers ARP.
 */
static void
inst_neigh_set(struct inst *in)
{
	const struct cfg_service *c = in->svc->conf;
	const char *br = svc_bridge(c);
	const struct cfg_address *a;
	char buf[INET6_ADDRSTRLEN];
	uint64_t t0 = now_ns();

	if (in->tap[0] == '\0' || br == NULL)
		return;
	TAILQ_FOREACH(a, &c->addresses, entry)
	{
		if (netdev_neigh_set(br, &a->ip, in->mac) < 0)
			log_warn("instance %s#%u: neighbour entry %s on %s",
			    in->svc->name, in->st.id,
			    config_ip_str(&a->ip, buf, sizeof(buf)), br);
		else
			in->neigh_set = true;
	}
	log_debug("instance %s#%u: neighbour entries on %s (%" PRIu64 " us)",
	    in->svc->name, in->st.id, br, (now_ns() - t0) / 1000);
}

/* Remove what inst_neigh_set() made, unless another instance (of a
 * changed service) has taken the address over. */
static void
inst_neigh_clear(struct inst *in)
{
	const struct cfg_service *c = in->svc->conf;
	const char *br = svc_bridge(c);
	const struct cfg_address *a;

	if (!in->neigh_set || br == NULL)
		return;
	in->neigh_set = false;
	TAILQ_FOREACH(a, &c->addresses, entry)
	if (netdev_neigh_clear(br, &a->ip, in->mac) < 0)
		log_warn("instance %s#%u: removing its neighbour entry",
		    in->svc->name, in->st.id);
}

/* Undo inst_new() and whatever the backend holds: the one way an
 * instance is taken out of the accounts and freed. */
void
inst_free(struct inst *in)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;

	inst_boot_done(in);
	if (in->warm)
		r->nwarm--;
	TAILQ_REMOVE(&s->insts, in, entry);
	r->ninst--;
	r->memory -= in->memory;
	inst_neigh_clear(in);
	if (in->bdata != NULL && in->ops->release != NULL)
		in->ops->release(in);
	sup_inst_fini(in);
	event_free(in->idle_ev);
	free(in);
}

/* Start a tender for s: paused (warm pool) or running (a summon). */
struct inst *
inst_start(struct svc *s, bool paused, const char **why)
{
	struct registry *r = s->reg;
	struct inst *in;
	static char err[256];
	char net[128], mac[NETDEV_MACSTR];

	if ((in = inst_new(s)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	if (in->ops == NULL || in->ops->boot == NULL) {
		snprintf(err, sizeof(err), "backend not available");
		goto fail;
	}
	in->warm = paused;
	in->booting_counted = true;
	r->nbooting++;
	if (paused)
		r->nwarm++;
	in->t_spawn = now_ns();
	in->t_main = in->t_entry = in->t_ready = in->t_query = 0;
	if (in->ops->boot(
	        in, svc_config(s), s->conf, paused, err, sizeof(err)) < 0)
		goto fail;
	net[0] = '\0';
	if (in->tap[0] != '\0')
		snprintf(net, sizeof(net),
		    ", tap %s, mac %s, tap created in %u us, attached in %u us",
		    in->tap, netdev_mac_str(in->mac, mac), in->net_create_us,
		    in->net_attach_us);
	log_debug("instance %s#%u: %s (pid %ld%s)", s->name, in->st.id,
	    paused ? "starting for the warm pool" : "booting",
	    in->ops->pid != NULL ? in->ops->pid(in) : 0L, net);
	if (!paused)
		sup_booting(in);
	return in;
fail:
	log_warnx("instance %s#%u: boot failed: %s", s->name, in->st.id, err);
	*why = err;
	inst_free(in);
	return NULL;
}

void
inst_stop(struct inst *in, const char *why)
{
	struct svc *s = in->svc;

	if (s->active == in) {
		s->active = NULL;
		answer_all(s, NULL);
	}
	event_del(in->idle_ev);
	switch (in->st.state) {
	case IS_BOOTING:
	case IS_READY:
		instance_set_state(&in->st, IS_STOPPING, why);
		break;
	case IS_STOPPING:
	case IS_FAULTED:
		break; /* already on its way out */
	default:
		return;
	}
	if (in->ops->stop != NULL)
		in->ops->stop(in);
}

/* Start (or resume) an instance for s's held queries. */
int
summon(struct svc *s, const struct sockaddr *client)
{
	struct registry *r = s->reg;
	const char *why = NULL;
	struct inst *in;

	if (!client_rate_ok(r, client)) {
		refuse_log(r, s, "boot-rate per client reached");
		return -1;
	}
	TAILQ_FOREACH(in, &s->insts, entry)
	if (in->warm && in->st.state == IS_BOOTING)
		break;
	if (in != NULL && in->ops->resume != NULL && in->ops->resume(in) == 0) {
		in->warm = false;
		in->from_pool = true;
		r->nwarm--;
		r->stats.summons_warm++;
		metrics_summon(s->name, METRICS_SUMMON_WARM);
		/* booting -> ready measures the summon, not the pool wait. */
		in->st.t_state = in->t_summon = now_ns();
		log_debug("instance %s#%u: summoned from the warm pool",
		    s->name, in->st.id);
		sup_booting(in);
		s->active = in;
		return 0;
	}
	if (!room_for(r, s, &why)) {
		refuse_log(r, s, why);
		return -1;
	}
	if ((in = inst_start(s, false, &why)) == NULL) {
		refuse_log(r, s, why);
		return -1;
	}
	r->stats.summons_cold++;
	metrics_summon(s->name, METRICS_SUMMON_COLD);
	in->t_summon = now_ns();
	s->active = in;
	return 0;
}

/* Have the tap of s's next cold boot made ahead (netdev.h, spare taps). */
static void
spare_tap(struct svc *s)
{
	char err[200];

	if (s->conf->backend != CFG_BACKEND_HVT ||
	    config_service_net(s->conf) == NULL)
		return;
	/* Keyed like the backend's taps: by the configured name. */
	if (netdev_spare_make(s->conf->name, s->next_id + 1, err, sizeof(err)) <
	    0)
		log_debug("service %s: spare tap: %s", s->name, err);
}

/* Keep s's warm pool at its configured size (and its spare tap), as
 * limits allow. */
static void
pool_fill(struct svc *s)
{
	struct registry *r = s->reg;
	const char *why;
	struct inst *in;
	unsigned n = 0;

	if (s->removed || r->shutting_down)
		return;
	spare_tap(s);
	TAILQ_FOREACH(in, &s->insts, entry)
	if (in->warm)
		n++;
	while (n < s->conf->warm && room_for(r, s, &why)) {
		if (inst_start(s, true, &why) == NULL)
			break;
		n++;
	}
}

void
pool_fill_all(struct registry *r)
{
	struct svc *s;

	TAILQ_FOREACH(s, &r->svcs, entry)
	pool_fill(s);
}

static void
refill_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pool_fill_all(arg);
}

/* Refill the pools once this summon's answer is well on its way. */
void
pool_fill_soon(struct registry *r)
{
	struct timeval tv = {0, REFILL_DELAY_MS * 1000};

	if (!evtimer_pending(r->refill_ev, NULL))
		evtimer_add(r->refill_ev, &tv);
}

static void svc_free(struct svc *s);

/* The instance is gone: account, free, and refill pools it made room in. */
void
inst_gone(struct inst *in)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;

	if (s->active == in) {
		s->active = NULL;
		answer_all(s, NULL);
	}
	inst_free(in);
	if (s->removed && TAILQ_EMPTY(&s->insts)) {
		TAILQ_REMOVE(&r->svcs, s, entry);
		svc_free(s);
	}
	if (r->shutting_down) {
		if (r->ninst == 0 && r->done != NULL) {
			void (*done)(void *) = r->done;

			r->done = NULL;
			done(r->done_arg);
		}
		return;
	}
	pool_fill_all(r);
}

/* Microseconds from t0 to t, "-" when t was not reached. */
static const char *
us_since(uint64_t t0, uint64_t t, char buf[24])
{
	if (t == 0 || t < t0)
		return "-";
	snprintf(buf, 24, "%" PRIu64, (t - t0) / 1000);
	return buf;
}

/* Where the boot's time went, from boot() (or the pool's resume) to the
 * DNS answer, in microseconds. */
static void
log_timeline(const struct inst *in, uint64_t now)
{
	char b[5][24];

	if (in->from_pool) {
		log_debug("instance %s#%u: timeline us: resumed 0, ready %s, "
		          "answered %s",
		    in->svc->name, in->st.id,
		    us_since(in->t_summon, in->t_ready, b[0]),
		    us_since(in->t_summon, now, b[1]));
		return;
	}
	log_debug("instance %s#%u: timeline us: spawn 0, tender main %s, "
	          "guest entry %s, ready %s, answered %s",
	    in->svc->name, in->st.id, us_since(in->t_spawn, in->t_main, b[0]),
	    us_since(in->t_spawn, in->t_entry, b[1]),
	    us_since(in->t_spawn, in->t_ready, b[2]),
	    us_since(in->t_spawn, now, b[3]));
}

/* Microseconds from t0 to t for the timeline ring: TL_ABSENT when t
 * was not reached (or precedes t0: a clock we cannot compare). */
static uint32_t
tl_us(uint64_t t0, uint64_t t)
{
	uint64_t us;

	if (t == 0 || t < t0)
		return TL_ABSENT;
	us = (t - t0) / 1000;
	return us < TL_ABSENT ? (uint32_t)us : TL_ABSENT - 1;
}

/*
 * Keep this boot's timeline in the service's ring: from the query that
 * caused it, else from its own start (spawn, or the pool's resume).  A
 * warm instance's tender main and guest entry came long before the
 * summon: not its steps.
 */
static void
record_timeline(struct inst *in, uint64_t t_answer, bool answered)
{
	struct svc_timeline e = {.id = in->st.id, .warm = in->from_pool};
	uint64_t start = in->from_pool ? in->t_summon : in->t_spawn;
	uint64_t t0 = in->t_query != 0 ? in->t_query : start;

	e.us[TL_SPAWN] = tl_us(t0, start);
	e.us[TL_MAIN] = in->from_pool ? TL_ABSENT : tl_us(t0, in->t_main);
	e.us[TL_ENTRY] = in->from_pool ? TL_ABSENT : tl_us(t0, in->t_entry);
	e.us[TL_READY] = tl_us(t0, in->t_ready);
	e.us[TL_ANSWERED] = answered ? tl_us(t0, t_answer) : TL_ABSENT;
	tl_ring_add(&in->svc->timelines, &e);
}

static void
on_ready(struct inst *in)
{
	struct svc *s = in->svc;
	struct dns_addrs a = {s->v4, s->n4, s->v6, s->n6};
	struct timeval tv;
	uint64_t t_answer;
	bool answered = false;

	if (in->st.state != IS_BOOTING || in->warm)
		return;
	/*
	 * The answer first: the client's first packet may follow at once,
	 * and nothing it needs waits on the transition's journal write
	 * (0.1 ms) or the health watch.  The neighbour entry goes in before
	 * the answer, so that first packet finds the guest.
	 */
	if (s->active == in) {
		inst_neigh_set(in);
		answered = !TAILQ_EMPTY(&s->held);
		answer_all(s, &a);
	}
	t_answer = now_ns();
	inst_boot_done(in);
	instance_set_state(&in->st, IS_READY,
	    in->from_pool ? "summoned from the warm pool" : NULL);
	in->t_last_query = now_ns();
	if (s->active != in) {
		/* Nobody waits for it (its service was removed or changed). */
		inst_stop(in, "no longer wanted");
		return;
	}
	sup_ready(in);
	log_timeline(in, t_answer);
	record_timeline(in, t_answer, answered);
	if (s->conf->idle_timeout > 0) {
		tv = tv_ms(s->conf->idle_timeout * NS_PER_MS);
		event_add(in->idle_ev, &tv);
	}
	pool_fill_soon(s->reg);
}

static void
on_console(struct inst *in, const struct bevent *ev, const char *what)
{
	uint64_t now = now_ns();
	int len = (int)(ev->textlen > 512 ? 512 : ev->textlen);

	if (now - in->console_t >= NS_PER_S) {
		if (in->console_dropped > 0)
			log_info("instance %s#%u: %u %s lines not logged",
			    in->svc->name, in->st.id, in->console_dropped,
			    what);
		in->console_t = now;
		in->console_tokens = CONSOLE_BURST;
		in->console_dropped = 0;
	}
	if (in->console_tokens == 0) {
		in->console_dropped++;
		return;
	}
	in->console_tokens--;
	while (
	    len > 0 && (ev->text[len - 1] == '\n' || ev->text[len - 1] == '\r'))
		len--;
	registry_ring_line(in, what[0] == 'l' ? SVC_LOG_GUEST : SVC_LOG_CONSOLE,
	    ev->text, (size_t)len);
	log_info("instance %s#%u %s: %.*s", in->svc->name, in->st.id, what, len,
	    ev->text);
}

static void
on_fault(struct inst *in, const struct bevent *ev)
{
	const struct ctl_fault *f = &ev->u.fault;
	char vec[32] = "";
	int len = (int)(ev->textlen > 80 ? 80 : ev->textlen);

	if (f->kind == CTL_FAULT_DUMP) {
		log_info("instance %s#%u: dump at rip %#" PRIx64 ": %.*s",
		    in->svc->name, in->st.id, f->rip, len, ev->text);
		return;
	}
	if (f->kind == CTL_FAULT_EXCEPTION)
		snprintf(vec, sizeof(vec), " vector %" PRIu64, f->vector);
	snprintf(in->fault, sizeof(in->fault),
	    "fault: %s%s at rip %#" PRIx64 "%s%.*s",
	    ctl_fault_kind_name(f->kind), vec, f->rip, len ? ": " : "", len,
	    ev->text);
	if (in->svc->active == in) {
		in->svc->active = NULL;
		answer_all(in->svc, NULL);
	}
	event_del(in->idle_ev);
	inst_boot_done(in);
	if (in->st.state == IS_BOOTING || in->st.state == IS_READY ||
	    in->st.state == IS_STOPPING)
		instance_set_state(&in->st, IS_FAULTED, in->fault);
	sup_fault(in, ev);
}

static void
on_exited(struct inst *in, const struct bevent *ev)
{
	if (sup_exited(in, ev))
		return; /* restarting: the same instance boots again */
	switch (in->st.state) {
	case IS_BOOTING:
	case IS_READY:
		instance_set_state(&in->st, IS_STOPPING, NULL);
		/* FALLTHROUGH */
	case IS_STOPPING:
	case IS_FAULTED:
		instance_set_state(&in->st, IS_STOPPED, NULL);
		break;
	default:
		break;
	}
	inst_gone(in);
}

void
registry_backend_event(struct inst *in, const struct bevent *ev)
{
	switch (ev->type) {
	case CTL_BOOTED:
		in->t_main = ev->u.booted.t_start_ns;
		in->t_entry = ev->u.booted.t_ns;
		log_debug("instance %s#%u: loaded, entry %#" PRIx64,
		    in->svc->name, in->st.id, ev->u.booted.entry);
		break;
	case CTL_PAUSED:
		if (in->warm) {
			/* Loaded and paused: it no longer counts as a boot. */
			inst_boot_done(in);
			log_debug("instance %s#%u: warm, paused at its entry",
			    in->svc->name, in->st.id);
			pool_fill_all(in->svc->reg);
		}
		break;
	case CTL_RESUMED:
		/* A resumed warm tender is booting again. */
		if (!in->warm && in->from_pool && in->st.state == IS_BOOTING &&
		    !in->booting_counted) {
			in->booting_counted = true;
			in->svc->reg->nbooting++;
		}
		break;
	case CTL_READY:
		in->t_ready = ev->t_ns;
		/* READY from a clock (exec's ready-after), not the guest: its
		 * heartbeats are watched only once it sends one. */
		in->beats_optional = (ev->flags & BEV_READY_BY_CLOCK) != 0;
		on_ready(in);
		break;
	case CTL_HEARTBEAT:
		sup_heartbeat(in, ev);
		break;
	case CTL_CAPTURED:
		sup_captured(in, ev);
		break;
	case CTL_GDB:
		sup_gdb(in, ev);
		break;
	case CTL_LOG:
		on_console(in, ev, "log");
		break;
	case CTL_CONSOLE:
		on_console(in, ev, "console");
		break;
	case CTL_FAULT:
		on_fault(in, ev);
		break;
	case CTL_EXITED:
		on_exited(in, ev);
		break;
	default:
		break;
	}
}

/* ---- services ---- */

static char *
service_printed(const struct config *conf, const struct cfg_service *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL)
		return NULL;
	config_print_service(c, fp);
	/* The tender binary is part of what an hvt instance runs. */
	fprintf(fp, "tender %s\n", conf->tender);
	/* So is its policy's body: a changed policy is a changed service
	 * (its instances restart under the new one, with a fresh history). */
	if (c->policy != NULL)
		config_print_policy(c->policy, fp);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
svc_set_addrs(struct svc *s)
{
	const struct cfg_address *a;
	size_t n4 = 0, n6 = 0;

	TAILQ_FOREACH(a, &s->conf->addresses, entry)
	{
		if (a->ip.af == AF_INET)
			n4++;
		else
			n6++;
	}
	s->v4 = n4 ? calloc(n4, sizeof(*s->v4)) : NULL;
	s->v6 = n6 ? calloc(n6, sizeof(*s->v6)) : NULL;
	if ((n4 && s->v4 == NULL) || (n6 && s->v6 == NULL))
		return -1;
	TAILQ_FOREACH(a, &s->conf->addresses, entry)
	{
		if (a->ip.af == AF_INET)
			s->v4[s->n4++] = a->ip.u.v4;
		else
			s->v6[s->n6++] = a->ip.u.v6;
	}
	return 0;
}

static void
svc_free(struct svc *s)
{
	if (s == NULL)
		return;
	if (s->deadline_ev != NULL)
		event_free(s->deadline_ev);
	netdev_spare_drop(s->conf->name);
	cref_put(s->cref);
	pol_history_free(s->pol_history);
	free(s->log);
	free(s->printed);
	free(s->v4);
	free(s->v6);
	free(s);
}

static struct svc *
svc_new(struct registry *r, struct cref *cref, struct cfg_service *c)
{
	struct svc *s;
	size_t nl = strlen(c->name), zl = strlen(c->zone->name);

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->reg = r;
	s->cref = cref;
	cref->refs++;
	s->conf = c;
	TAILQ_INIT(&s->insts);
	TAILQ_INIT(&s->held);
	/* "hello.summoner.test." in zone "summoner.test." logs as "hello". */
	if (nl > zl + 1 && strcmp(c->name + nl - zl, c->zone->name) == 0 &&
	    c->name[nl - zl - 1] == '.')
		nl -= zl + 1;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)nl, c->name);
	s->printed = service_printed(cref->conf, c);
	s->deadline_ev = evtimer_new(r->base, deadline_cb, s);
	s->pol_history = pol_history_new();
	/* Instance ids go on across restarts of the summoner. */
	if (r->journal != NULL) {
		unsigned next = journal_next_id(r->journal, s->name);

		s->next_id = next > 0 ? next - 1 : 0; /* 0: unreadable */
	}
	if (s->printed == NULL || s->deadline_ev == NULL ||
	    s->pol_history == NULL || svc_set_addrs(s) < 0) {
		svc_free(s);
		return NULL;
	}
	return s;
}

/* Take s out of service: stop its instances, answer what waits. */
static void
svc_remove(struct svc *s, struct svc *successor)
{
	struct registry *r = s->reg;
	struct inst *in, *next;
	struct held *h;

	s->removed = true;
	/* Queries waiting for a changed service wait for the new one. */
	while (successor != NULL && (h = TAILQ_FIRST(&s->held)) != NULL) {
		TAILQ_REMOVE(&s->held, h, entry);
		s->nheld--;
		h->q.service = successor;
		if (registry_hold(r, successor, h, NULL) < 0)
			server_answer_held(r->srv, h, NULL);
	}
	s->active = NULL;
	answer_all(s, NULL);
	TAILQ_FOREACH_SAFE(in, &s->insts, entry, next)
	inst_stop(in, successor ? "service changed" : "service removed");
	if (TAILQ_EMPTY(&s->insts)) {
		TAILQ_REMOVE(&r->svcs, s, entry);
		svc_free(s);
	}
}

/* ---- the zone table for a config ---- */

static struct dns_zones *
zones_build(struct registry *r, const struct config *conf, struct svc **svcs,
    size_t nsvcs, char *err, size_t errlen)
{
	const struct cfg_zone *cz;
	const struct cfg_name *n;
	struct dns_zone *zs = NULL;
	struct dns_name_conf *names = NULL;
	const char **ns = NULL;
	struct dns_zones *out = NULL;
	size_t nz = 0, nn = 0, nns = 0, i;

	(void)r;
	TAILQ_FOREACH(cz, &conf->zones, entry)
	{
		nz++;
		TAILQ_FOREACH(n, &cz->ns, entry)
		nns++;
	}
	zs = calloc(nz ? nz : 1, sizeof(*zs));
	names = calloc(nsvcs ? nsvcs : 1, sizeof(*names));
	ns = calloc(nns ? nns : 1, sizeof(*ns));
	if (zs == NULL || names == NULL || ns == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	nz = nns = 0;
	TAILQ_FOREACH(cz, &conf->zones, entry)
	{
		struct dns_zone *z = &zs[nz++];

		z->apex = cz->name;
		z->mname = cz->mname;
		z->rname = cz->rname;
		z->serial = cz->serial;
		z->refresh = cz->refresh;
		z->retry = cz->retry;
		z->expire = cz->expire;
		z->minimum = cz->minimum;
		z->ttl = cz->ttl;
		z->ns = ns + nns;
		TAILQ_FOREACH(n, &cz->ns, entry)
		{
			ns[nns++] = n->name;
			z->nns++;
		}
		z->names = names + nn;
		for (i = 0; i < nsvcs; i++) {
			struct svc *s = svcs[i];

			/* By name: a kept service still points into the
			 * old config here. */
			if (strcmp(s->conf->zone->name, cz->name) != 0)
				continue;
			names[nn++] = (struct dns_name_conf){
			    .name = s->conf->name,
			    .ttl = s->conf->ttl,
			    .addrs = {s->v4, s->n4, s->v6, s->n6},
			    .service = s,
			};
			z->nnames++;
		}
	}
	out = dns_zones_new(zs, nz, err, errlen);
out:
	free(zs);
	free(names);
	free(ns);
	return out;
}

struct dns_zones *
registry_apply(
    struct registry *r, struct config *conf, char *err, size_t errlen)
{
	struct cref *cref;
	struct cfg_service *c;
	struct svc **next = NULL, *s, *tmp;
	struct dns_zones *z = NULL;
	const struct cfg_bridge *b;
	size_t n = 0, i;
	bool *reused = NULL;

	if ((cref = calloc(1, sizeof(*cref))) == NULL) {
		snprintf(err, errlen, "out of memory");
		config_free(conf);
		return NULL;
	}
	cref->conf = conf;
	cref->refs = 1; /* the registry's own */
	TAILQ_FOREACH(b, &conf->bridges, entry)
	if (netdev_bridge_ensure(b, err, errlen) < 0)
		goto fail;
	TAILQ_FOREACH(c, &conf->services, entry)
	n++;
	next = calloc(n ? n : 1, sizeof(*next));
	reused = calloc(n ? n : 1, sizeof(*reused));
	if (next == NULL || reused == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Unchanged services keep their svc (and instances); the others
	 * get a new one. */
	i = 0;
	TAILQ_FOREACH(c, &conf->services, entry)
	{
		struct svc *fresh = svc_new(r, cref, c);

		if (fresh == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		TAILQ_FOREACH(s, &r->svcs, entry)
		if (!s->removed && strcmp(s->conf->name, c->name) == 0 &&
		    strcmp(s->printed, fresh->printed) == 0)
			break;
		if (s != NULL) {
			/* Same service: move it onto the new config. */
			svc_free(fresh);
			reused[i] = true;
			next[i++] = s;
		} else
			next[i++] = fresh;
	}
	if ((z = zones_build(r, conf, next, n, err, errlen)) == NULL)
		goto fail;

	/* Nothing can fail from here on. */
	for (i = 0; i < n; i++) {
		if (!reused[i])
			continue;
		s = next[i];
		TAILQ_FOREACH(c, &conf->services, entry)
		if (strcmp(c->name, s->conf->name) == 0)
			break;
		cref_put(s->cref);
		s->cref = cref;
		cref->refs++;
		s->conf = c;
	}
	TAILQ_FOREACH_SAFE(s, &r->svcs, entry, tmp)
	{
		struct svc *successor = NULL;
		bool kept = false;

		for (i = 0; i < n; i++) {
			if (next[i] == s)
				kept = true;
			else if (!reused[i] && !s->removed &&
			         strcmp(next[i]->conf->name, s->conf->name) ==
			             0)
				successor = next[i];
		}
		if (kept || s->removed)
			continue;
		/* The new svc must be listed before held queries move;
		 * its instances go on counting where the old ones were. */
		if (successor != NULL) {
			TAILQ_INSERT_TAIL(&r->svcs, successor, entry);
			successor->next_id = s->next_id;
		}
		log_info("service %s: %s", s->name,
		    successor ? "changed" : "removed");
		svc_remove(s, successor);
		if (successor != NULL)
			for (i = 0; i < n; i++)
				if (next[i] == successor)
					reused[i] = true; /* now listed */
	}
	for (i = 0; i < n; i++)
		if (!reused[i]) {
			TAILQ_INSERT_TAIL(&r->svcs, next[i], entry);
			if (r->cref != NULL)
				log_info("service %s: added", next[i]->name);
		}
	cref_put(r->cref);
	r->cref = cref;
	free(next);
	free(reused);
	pool_fill_all(r);
	return z;
fail:
	for (i = 0; next != NULL && i < n; i++)
		if (next[i] != NULL && !reused[i])
			svc_free(next[i]);
	free(next);
	free(reused);
	cref_put(cref);
	return NULL;
}

struct svc *
registry_service(struct registry *r, const char *name)
{
	struct svc *s;

	TAILQ_FOREACH(s, &r->svcs, entry)
	if (!s->removed &&
	    (strcmp(s->name, name) == 0 || strcmp(s->conf->name, name) == 0))
		return s;
	return NULL;
}

/* ---- the DNS seam ---- */

static bool
boots_on(const struct cfg_service *c, uint16_t qtype)
{
	for (size_t i = 0; i < c->nboot_on; i++)
		if (c->boot_on[i] == qtype)
			return true;
	return false;
}

enum dns_service_state
registry_lookup(
    void *arg, void *service, uint16_t qtype, struct dns_addrs *addrs)
{
	struct svc *s = service;

	(void)arg;
	if (s->removed)
		return DNS_SVC_RETIRED;
	if (s->retired) {
		switch (s->retire_answer) {
		case POL_ANSWER_SERVFAIL:
			return DNS_SVC_SERVFAIL;
		case POL_ANSWER_REFUSED:
			return DNS_SVC_REFUSED;
		case POL_ANSWER_ADDRESS:
			*addrs = (struct dns_addrs){&s->retire_v4,
			    s->retire_has_v4 ? 1 : 0, &s->retire_v6,
			    s->retire_has_v6 ? 1 : 0};
			return DNS_SVC_READY;
		default:
			return DNS_SVC_RETIRED;
		}
	}
	if (s->active != NULL) {
		if (s->active->st.state != IS_READY)
			return DNS_SVC_BOOT;
		s->active->t_last_query = now_ns();
		return DNS_SVC_READY;
	}
	return boots_on(s->conf, qtype) ? DNS_SVC_BOOT : DNS_SVC_NODATA;
}

int
registry_hold(struct registry *r, void *service, struct held *h,
    const struct sockaddr *client)
{
	struct svc *s = service;
	bool was_empty;

	if (s->removed || s->nheld >= MAX_HELD_PER_SVC) {
		refuse_log(r, s,
		    s->removed ? "service removed"
		               : "too many queries waiting");
		return -1;
	}
	if (s->active == NULL) {
		if (summon(s, client) < 0)
			return -1;
		/* The boot's timeline starts at this query. */
		s->active->t_query = h->t_arrival;
	} else {
		r->stats.summons_joined++;
		metrics_summon(s->name, METRICS_SUMMON_COALESCED);
	}
	h->deadline = h->t_arrival + s->conf->ready_deadline * NS_PER_MS;
	was_empty = TAILQ_EMPTY(&s->held);
	TAILQ_INSERT_TAIL(&s->held, h, entry);
	s->nheld++;
	if (was_empty)
		deadline_arm(s);
	return 0;
}

/* ---- life ---- */

struct registry *
registry_new(struct event_base *base, struct server *srv)
{
	struct registry *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->base = base;
	r->srv = srv;
	TAILQ_INIT(&r->svcs);
	if ((r->refill_ev = evtimer_new(base, refill_cb, r)) == NULL ||
	    (r->builtin = policy_builtin_new()) == NULL) {
		if (r->refill_ev != NULL)
			event_free(r->refill_ev);
		free(r);
		return NULL;
	}
	return r;
}

void
registry_shutdown(struct registry *r, void (*done)(void *), void *arg)
{
	struct svc *s, *tmp;
	struct inst *in, *next;

	r->shutting_down = true;
	r->done = done;
	r->done_arg = arg;
	TAILQ_FOREACH_SAFE(s, &r->svcs, entry, tmp)
	{
		s->active = NULL;
		answer_all(s, NULL);
		TAILQ_FOREACH_SAFE(in, &s->insts, entry, next)
		{
			char err[128];

			if (in->st.state == IS_STOPPING ||
			    in->st.state == IS_FAULTED)
				inst_stop(in, "summoner shutting down");
			else
				inst_stop_any(in, "summoner shutting down", err,
				    sizeof(err));
		}
	}
	if (r->ninst == 0 && r->done != NULL) {
		r->done = NULL;
		done(arg);
	}
}

void
registry_stats(const struct registry *r, struct registry_stats *st)
{
	const struct svc *s;

	*st = r->stats;
	st->instances = r->ninst;
	st->booting = r->nbooting;
	st->warm = r->nwarm;
	st->memory = r->memory;
	st->services = 0;
	TAILQ_FOREACH(s, &r->svcs, entry)
	if (!s->removed)
		st->services++;
}

void
registry_free(struct registry *r)
{
	struct svc *s;
	struct inst *in;

	if (r == NULL)
		return;
	while ((s = TAILQ_FIRST(&r->svcs)) != NULL) {
		TAILQ_REMOVE(&r->svcs, s, entry);
		answer_all(s, NULL); /* nothing waits forever */
		while ((in = TAILQ_FIRST(&s->insts)) != NULL)
			inst_free(in);
		svc_free(s);
	}
	cref_put(r->cref);
	event_free(r->refill_ev);
	health_udp_free(r->udp);
	policy_free(r->builtin);
	free(r->state_dir);
	free(r);
}

const struct svc_list *
registry_services(const struct registry *r)
{
	return &r->svcs;
}

const struct policy *
registry_policy(const struct svc *s)
{
	return s->conf->policy != NULL ? s->conf->policy : s->reg->builtin;
}
