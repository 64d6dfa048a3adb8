/*
 * supervise.c: from what happened to an instance to what is done about it.
 *
 * The data flow of DESIGN.md: the backend reports (heartbeats, faults and
 * their captured artifacts, exits), health/ turns time into events
 * (heartbeat-miss, stall, ready-timeout), policies/ turns an event into a
 * decision, and this file carries the decision out through the backend
 * and the state machine, journaling each step.
 *
 * A fault is decided once its artifacts are in (CTL_CAPTURED), so the
 * signature is known; a tender that ends without capturing (killed, or an
 * old tender) is decided at its exit.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "netdev.h"
#include "policies/policy.h"
#include "registry_int.h"
#include "util.h"

#define MAX_FRAMES 32

static void decide(
    struct inst *in, struct pol_event *pe, const char *what, bool tender_alive);

/* ---- the service log ring (summonerctl logs) ---- */

static void
ring_add(struct svc *s, unsigned id, int kind, const char *text, size_t len)
{
	struct svc_log_line *l;

	if (s->log == NULL &&
	    (s->log = calloc(SVC_LOG_LINES, sizeof(*s->log))) == NULL)
		return;
	l = &s->log[(s->log_head + s->log_count) % SVC_LOG_LINES];
	if (s->log_count == SVC_LOG_LINES)
		s->log_head = (s->log_head + 1) % SVC_LOG_LINES;
	else
		s->log_count++;
	s->log_seq++;
	if (len > SVC_LOG_TEXT - 1)
		len = SVC_LOG_TEXT - 1;
	l->t_wall_ms = journal_clock();
	l->id = id;
	l->kind = (uint8_t)kind;
	l->len = (uint16_t)len;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	if (registry_log_tap != NULL)
		registry_log_tap(s, l);
}

void
sup_log(struct svc *s, unsigned id, int kind, const char *fmt, ...)
{
	char buf[SVC_LOG_TEXT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ring_add(s, id, kind, buf, strnlen(buf, sizeof(buf)));
}

void
registry_ring_line(struct inst *in, int kind, const char *t, size_t n)
{
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r'))
		n--;
	ring_add(in->svc, in->st.id, kind, t, n);
}

/* ---- health ---- */

static void
health_params(const struct svc *s, struct health_params *hp)
{
	const struct policy *p = registry_policy(s);

	memset(hp, 0, sizeof(*hp));
	if (p == NULL)
		return;
	hp->hb_interval = p->hb_interval_ms * NS_PER_MS;
	hp->hb_misses = p->hb_misses;
	hp->stall_beats = p->stall_beats;
	hp->ready_timeout = p->ready_timeout_ms * NS_PER_MS;
}

static void
health_arm(struct inst *in)
{
	uint64_t next, now = instance_clock();
	struct timeval tv;

	if (in->health_ev == NULL)
		return;
	health_watch_check(&in->hw, now, &next, NULL);
	/* check() gave no verdict here: a due deadline is for health_cb. */
	if (next == 0) {
		event_del(in->health_ev);
		return;
	}
	tv = tv_ms(next > now ? next - now : 0);
	event_add(in->health_ev, &tv);
}

static void
pe_init(struct pol_event *pe, const struct inst *in, unsigned kind)
{
	uint64_t now = instance_clock();

	memset(pe, 0, sizeof(*pe));
	pe->kind = kind;
	pe->t_ms = now / NS_PER_MS;
	pe->exit_code = -1;
	pe->vector = -1;
	pe->signal = -1;
	pe->uptime_ms = (now - in->t_boot) / NS_PER_MS;
}

static void
health_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inst *in = arg;
	uint64_t now = instance_clock(), deadline;
	enum health_verdict v;
	struct pol_event pe;
	char why[96];

	(void)fd;
	(void)what;
	if (in->st.state != IS_BOOTING && in->st.state != IS_READY)
		return;
	v = health_watch_check(&in->hw, now, NULL, &deadline);
	if (v == HEALTH_OK) {
		health_arm(in);
		return;
	}
	in->t_fault = now;
	if (v == HEALTH_MISS) {
		in->misses++;
		metrics_heartbeat_miss(in->svc->name);
		pe_init(&pe, in, POL_EV_HEARTBEAT_MISS);
		snprintf(why, sizeof(why),
		    "heartbeat-miss: none for %" PRIu64 " ms (%" PRIu64
		    " us past the deadline)",
		    (now - in->hw.t_last_beat) / NS_PER_MS,
		    (now - deadline) / 1000);
	} else {
		pe_init(&pe, in, POL_EV_READY_TIMEOUT);
		snprintf(why, sizeof(why),
		    "ready-timeout: not ready after %" PRIu64 " ms",
		    (now - in->t_boot) / NS_PER_MS);
	}
	decide(in, &pe, why, true);
}

void
sup_heartbeat(struct inst *in, const struct bevent *ev)
{
	const struct ctl_heartbeat *hb = &ev->u.heartbeat;
	bool has_progress = (hb->flags & CTL_HB_HAS_PROGRESS) != 0;
	struct pol_event pe;
	char why[96];
	size_t n;

	in->beats++;
	in->t_last_beat = instance_clock();
	in->last_seq = hb->seq;
	if (has_progress)
		in->progress = hb->progress;
	if (hb->flags & CTL_HB_HAS_CONNS)
		in->conns = hb->conns;
	if ((hb->flags & CTL_HB_HAS_STATUS) && ev->text != NULL) {
		n = ev->textlen < sizeof(in->status) - 1
		        ? ev->textlen
		        : sizeof(in->status) - 1;
		memcpy(in->status, ev->text, n);
		in->status[n] = '\0';
	}
	if (in->st.state != IS_READY && in->st.state != IS_BOOTING)
		return;
	/* Any beat shows life: an open connection also keeps it from idling. */
	if (in->conns > 0)
		in->t_last_query = in->t_last_beat;
	if (health_watch_beat(&in->hw, in->t_last_beat, has_progress,
	        hb->progress) == HEALTH_STALL) {
		in->t_fault = in->t_last_beat;
		pe_init(&pe, in, POL_EV_STALL);
		snprintf(why, sizeof(why),
		    "stall: progress %" PRIu64 " for %u beats", hb->progress,
		    in->hw.same_progress);
		decide(in, &pe, why, true);
		return;
	}
	health_arm(in);
}

/* ---- faults ---- */

static unsigned
fault_event(unsigned ctl_kind)
{
	switch (ctl_kind) {
	case CTL_FAULT_EXCEPTION:
		return POL_EV_EXCEPTION;
	case CTL_FAULT_ABORT:
		return POL_EV_ABORT;
	case CTL_FAULT_TRIPLE:
		return POL_EV_TRIPLE_FAULT;
	case CTL_FAULT_BAD_HCALL:
		return POL_EV_BAD_HYPERCALL;
	default:
		return POL_EV_HOST_ERROR;
	}
}

void
sup_fault(struct inst *in, const struct bevent *ev)
{
	const struct ctl_fault *f = &ev->u.fault;

	event_del(in->health_ev);
	in->pending = (int)fault_event(f->kind);
	in->pend_vector = f->kind == CTL_FAULT_EXCEPTION ? (int)f->vector : -1;
	in->t_fault = ev->t_ns;
	in->decided = false;
	snprintf(in->fault_kind, sizeof(in->fault_kind), "%s",
	    pol_event_name((unsigned)in->pending));
	in->svc->faults++;
	metrics_fault(in->svc->name, in->fault_kind);
	sup_log(in->svc, in->st.id, SVC_LOG_SUMMONER, "%s", in->fault);
}

/* The fault's artifacts are written: sign, journal, decide. */
void
sup_captured(struct inst *in, const struct bevent *ev)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;
	char *text = NULL, *bt = NULL;
	const char *dir, *frames[MAX_FRAMES];
	size_t nframes, i, btlen = 0;
	struct journal_fault jf;
	struct pol_event pe;
	FILE *fp;

	if (in->pending < 0 || in->decided)
		return;
	if ((text = strndup(ev->text != NULL ? ev->text : "", ev->textlen)) ==
	    NULL)
		return;
	nframes = health_captured_split(text, &dir, frames, MAX_FRAMES);
	snprintf(in->fault_dir, sizeof(in->fault_dir), "%s", dir);
	in->core[0] = '\0';
	if (dir[0] != '\0' && (ev->u.captured.flags & CTL_CAPTURED_CORE))
		snprintf(in->core, sizeof(in->core), "%s/core", dir);
	if ((fp = open_memstream(&bt, &btlen)) != NULL) {
		for (i = 0; i < nframes; i++)
			fprintf(fp, "%s%s", i ? "\n" : "", frames[i]);
		fclose(fp);
	}
	free(in->backtrace);
	in->backtrace = bt;
	health_signature(
	    in->fault_kind, in->pend_vector, frames, nframes, in->signature);

	pe_init(&pe, in, (unsigned)in->pending);
	pe.vector = in->pend_vector;
	pe.known_signature =
	    r->journal != NULL &&
	    journal_signature_known(r->journal, s->name, in->signature);
	memset(&jf, 0, sizeof(jf));
	jf.service = s->name;
	jf.id = in->st.id;
	jf.kind = in->fault_kind;
	jf.signature = in->signature;
	jf.known = pe.known_signature;
	jf.message = in->fault;
	jf.dir = in->fault_dir;
	jf.backtrace = in->backtrace != NULL ? in->backtrace : "";
	jf.vector = in->pend_vector;
	if (r->journal != NULL)
		journal_fault(r->journal, &jf);
	free(text);
	decide(in, &pe, in->fault, true);
}

void
sup_gdb(struct inst *in, const struct bevent *ev)
{
	struct registry *r = in->svc->reg;
	size_t n = ev->textlen < sizeof(in->gdb) - 1 ? ev->textlen
	                                             : sizeof(in->gdb) - 1;

	memcpy(in->gdb, ev->text, n);
	in->gdb[n] = '\0';
	log_info("instance %s#%u: quarantined, gdb stub at %s", in->svc->name,
	    in->st.id, in->gdb);
	sup_log(
	    in->svc, in->st.id, SVC_LOG_SUMMONER, "gdb stub at %s", in->gdb);
	if (r->journal != NULL)
		journal_quarantine(r->journal, in->svc->name, in->st.id,
		    in->ops->pid != NULL ? in->ops->pid(in) : 0, in->gdb,
		    in->core, in->fault_dir,
		    in->t_expires != 0
		        ? journal_clock() +
		              (in->t_expires - instance_clock()) / NS_PER_MS
		        : 0);
}

/* ---- carrying decisions out ---- */

static void
fault_dir_next(struct inst *in)
{
	struct registry *r = in->svc->reg;

	in->fault_dir[0] = '\0';
	if (r->state_dir != NULL)
		snprintf(in->fault_dir, sizeof(in->fault_dir),
		    "%s/faults/%s-%u-%" PRIu64, r->state_dir, in->svc->name,
		    in->st.id, journal_clock());
}

/*
 * The instance's run is over (a failure: "to" is faulted; a clean exit:
 * stopping): no idle or health timer, no boot slot, and the state says so
 * before the decision is carried out.
 */
static void
run_ended(struct inst *in, enum istate to, const char *why)
{
	event_del(in->idle_ev);
	event_del(in->health_ev);
	inst_boot_done(in);
	if (in->st.state != to &&
	    (in->st.state == IS_BOOTING || in->st.state == IS_READY ||
	        in->st.state == IS_STOPPING))
		instance_set_state(&in->st, to, why);
}

static void
reboot(struct inst *in)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;
	static char err[256];
	char why[48];

	in->reboot_on_exit = false;
	if (r->shutting_down || s->removed) {
		instance_set_state(&in->st, IS_STOPPED, "not restarted");
		inst_gone(in);
		return;
	}
	snprintf(why, sizeof(why), "restart #%u", in->boots - 1);
	instance_set_state(&in->st, IS_BOOTING, why);
	in->pending = -1;
	in->decided = false;
	in->stopped_on_purpose = in->stop_asked = false;
	/* A new run counts its X_SEQ from 1 again (same token). */
	in->last_seq = 0;
	in->fault[0] = in->gdb[0] = '\0';
	fault_dir_next(in);
	/* A new boot's timeline (registry.c): no query caused it. */
	in->t_spawn = instance_clock();
	in->t_main = in->t_entry = in->t_ready = in->t_query = 0;
	in->from_pool = false;
	if (in->ops->boot(in, svc_config(s), s->conf, false, err, sizeof(err)) <
	    0) {
		log_warnx("instance %s#%u: restart failed: %s", s->name,
		    in->st.id, err);
		instance_set_state(&in->st, IS_FAULTED, err);
		instance_set_state(&in->st, IS_STOPPED, NULL);
		inst_gone(in);
		return;
	}
	in->booting_counted = true;
	r->nbooting++;
	in->t_summon = instance_clock();
	sup_booting(in);
}

static void
restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inst *in = arg;

	uint64_t now = instance_clock();
	struct timeval tv;

	(void)fd;
	(void)what;
	if (in->st.state != IS_RESTARTING)
		return;
	if (now < in->t_restart_due) {
		/* The loop's timers may fire a little early: the back-off is
		 * what the policy says, never less. */
		tv = tv_ms(in->t_restart_due - now);
		event_add(in->restart_ev, &tv);
		return;
	}
	if (in->bdata != NULL) {
		in->reboot_on_exit = true; /* the old tender is still ending */
		return;
	}
	reboot(in);
}

static void quarantine_end(struct inst *in, unsigned action, const char *why);

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inst *in = arg;

	(void)fd;
	(void)what;
	if (in->st.state != IS_QUARANTINED)
		return;
	quarantine_end(in, (unsigned)in->pend_code, "quarantine expired");
}

static void
retire_service(struct svc *s, const struct pol_decision *d)
{
	struct inst *in, *next;

	s->retired = true;
	s->retire_answer = (int)d->answer;
	s->retire_has_v4 = s->retire_has_v6 = false;
	if (d->answer == POL_ANSWER_ADDRESS) {
		if (d->fallback.af == AF_INET) {
			s->retire_v4 = d->fallback.u.v4;
			s->retire_has_v4 = true;
		} else if (d->fallback.af == AF_INET6) {
			s->retire_v6 = d->fallback.u.v6;
			s->retire_has_v6 = true;
		}
	}
	s->active = NULL;
	answer_all(s, NULL);
	TAILQ_FOREACH_SAFE(in, &s->insts, entry, next)
	{
		if (in->st.state == IS_BOOTING || in->st.state == IS_READY)
			inst_stop(in, "service retired");
	}
	log_warnx("service %s: retired", s->name);
}

static void
quarantine_end(struct inst *in, unsigned action, const char *why)
{
	struct svc *s = in->svc;
	struct pol_decision d;

	event_del(in->expire_ev);
	if (s->quarantined > 0)
		s->quarantined--;
	in->gdb[0] = '\0';
	switch (action) {
	case POL_RESTART:
		instance_set_state(&in->st, IS_RESTARTING, why);
		in->reboot_on_exit = true;
		in->boots++;
		if (s->active == NULL)
			s->active = in;
		break;
	case POL_RETIRE:
		memset(&d, 0, sizeof(d));
		d.answer = POL_ANSWER_NXDOMAIN;
		instance_set_state(&in->st, IS_RETIRED, why);
		retire_service(s, &d);
		break;
	default:
		instance_set_state(&in->st, IS_STOPPED, why);
		break;
	}
	in->stopped_on_purpose = true;
	if (in->adopted_pid > 0) {
		kill((pid_t)in->adopted_pid, SIGKILL);
		return; /* adopted_cb finishes it */
	}
	if (in->bdata != NULL && in->ops->stop != NULL)
		in->ops->stop(in);
	else if (in->st.state != IS_RESTARTING)
		inst_gone(in);
}

static void
quarantine(struct inst *in, const struct pol_decision *d, const char *why)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;
	char spec[300];
	struct timeval tv;
	const char *err = NULL;

	instance_set_state(&in->st, IS_QUARANTINED, why);
	s->quarantined++;
	if (s->active == in) {
		s->active = NULL;
		answer_all(s, NULL);
	}
	if (in->pending < 0 && in->ops->pause != NULL)
		in->ops->pause(in); /* a hang or stall: freeze it first */
	snprintf(spec, sizeof(spec), "unix:%s/gdb/%s-%u.sock",
	    r->state_dir != NULL ? r->state_dir : "/tmp", s->name, in->st.id);
	if (in->ops->gdb_open == NULL || in->ops->gdb_open(in, spec) < 0)
		log_warnx("instance %s#%u: no gdb stub: the backend cannot "
		          "open one",
		    s->name, in->st.id);
	in->pend_code = (int)d->on_expiry;
	in->t_expires = 0;
	if (d->ttl_ms > 0) {
		in->t_expires = instance_clock() + d->ttl_ms * NS_PER_MS;
		tv = tv_ms(d->ttl_ms * NS_PER_MS);
		event_add(in->expire_ev, &tv);
	}
	if (r->journal != NULL)
		journal_quarantine(r->journal, s->name, in->st.id,
		    in->ops->pid != NULL ? in->ops->pid(in) : 0, "", in->core,
		    in->fault_dir,
		    d->ttl_ms > 0 ? journal_clock() + d->ttl_ms : 0);
	if (d->replacement && s->active == NULL) {
		if (summon(s, NULL) < 0)
			err = "a limit refused it";
		log_info("service %s: replacement for quarantined %s#%u%s%s",
		    s->name, s->name, in->st.id,
		    err ? " refused: " : " started", err ? err : "");
	}
}

static void
decide(
    struct inst *in, struct pol_event *pe, const char *what, bool tender_alive)
{
	struct svc *s = in->svc;
	struct registry *r = s->reg;
	const struct policy *p = registry_policy(s);
	struct pol_decision d;
	uint32_t rnd = 0;
	struct timeval tv;
	uint64_t now;
	bool fault =
	    pe->kind != POL_EV_HEARTBEAT_MISS && pe->kind != POL_EV_STALL &&
	    pe->kind != POL_EV_READY_TIMEOUT && pe->kind != POL_EV_IDLE;
	char why[320];

	in->decided = true;
	(void)getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK);
	if (p == NULL ||
	    pol_decide(p, pe, s->pol_history, rnd, s->quarantined, &d) < 0) {
		memset(&d, 0, sizeof(d));
		d.action = POL_STOP;
		snprintf(d.why, sizeof(d.why), "no policy: stop");
	}
	if (in->stop_asked) {
		in->stop_asked = false;
		d.action = POL_STOP;
		snprintf(d.why, sizeof(d.why),
		    "stopped by the operator while the fault was captured");
	}
	if (d.action == POL_QUARANTINE && !tender_alive) {
		/* Nothing is left to freeze: the process is gone. */
		d.action = POL_STOP;
		snprintf(d.why + strlen(d.why), sizeof(d.why) - strlen(d.why),
		    " (cannot quarantine: the tender has ended; stop)");
	}
	now = instance_clock();
	log_info("instance %s#%u: %s -> %s in %" PRIu64 " us: %s", s->name,
	    in->st.id, pol_event_name(pe->kind), pol_action_name(d.action),
	    in->t_fault != 0 && now > in->t_fault ? (now - in->t_fault) / 1000
	                                          : 0,
	    d.why);
	sup_log(s, in->st.id, SVC_LOG_SUMMONER, "%s: %s -> %s: %s", what,
	    pol_event_name(pe->kind), pol_action_name(d.action), d.why);
	if (r->journal != NULL)
		journal_decision(r->journal, s->name, in->st.id,
		    pol_event_name(pe->kind), pol_action_name(d.action), d.why);
	metrics_decision(
	    s->name, pol_event_name(pe->kind), pol_action_name(d.action));
	snprintf(why, sizeof(why), "%s", what);

	if (d.action == POL_IGNORE && !fault) {
		health_arm(in); /* a watched event: it goes on running */
		return;
	}
	if (d.action == POL_IGNORE)
		d.action = POL_STOP; /* a fault cannot be ignored: it ended */
	if (in->st.state == IS_BOOTING || in->st.state == IS_READY ||
	    in->st.state == IS_STOPPING) {
		if (s->active == in && d.action != POL_RESTART) {
			s->active = NULL;
			answer_all(s, NULL);
		}
		/* A clean exit is no failure: it just ended. */
		run_ended(in,
		    pe->kind == POL_EV_EXIT && pe->exit_code == 0 ? IS_STOPPING
		                                                  : IS_FAULTED,
		    why);
	}
	switch (d.action) {
	case POL_RESTART:
		instance_set_state(&in->st, IS_RESTARTING, d.why);
		in->boots++;
		/* Queries wait for the restarted instance, not a new one. */
		if (s->active == NULL)
			s->active = in;
		if (tender_alive && in->bdata != NULL) {
			in->stopped_on_purpose = true;
			in->ops->stop(in);
		}
		in->t_restart_due = instance_clock() + d.delay_ms * NS_PER_MS;
		tv = tv_ms(d.delay_ms * NS_PER_MS);
		event_add(in->restart_ev, &tv);
		break;
	case POL_QUARANTINE:
		quarantine(in, &d, d.why);
		break;
	case POL_RETIRE:
		instance_set_state(&in->st, IS_RETIRED, d.why);
		retire_service(s, &d);
		if (tender_alive && in->bdata != NULL) {
			in->stopped_on_purpose = true;
			in->ops->stop(in);
		}
		break;
	default: /* POL_STOP */
		if (tender_alive && in->bdata != NULL) {
			in->stopped_on_purpose = true;
			in->ops->stop(in); /* faulted -> stopped at its exit */
		} else
			instance_set_state(&in->st, IS_STOPPED, d.why);
		break;
	}
}

/* ---- the instance's life ---- */

int
sup_inst_init(struct inst *in)
{
	struct registry *r = in->svc->reg;
	uint8_t tok[16];
	size_t i;

	in->pending = -1;
	in->adopted_fd = -1;
	in->health_ev = evtimer_new(r->base, health_cb, in);
	in->restart_ev = evtimer_new(r->base, restart_cb, in);
	in->expire_ev = evtimer_new(r->base, expire_cb, in);
	if (in->health_ev == NULL || in->restart_ev == NULL ||
	    in->expire_ev == NULL)
		return -1;
	if (getrandom(tok, sizeof(tok), 0) != (ssize_t)sizeof(tok))
		return -1;
	for (i = 0; i < sizeof(tok); i++)
		snprintf(in->token + 2 * i, 3, "%02x", tok[i]);
	fault_dir_next(in);
	return 0;
}

void
sup_inst_fini(struct inst *in)
{
	struct registry *r = in->svc->reg;

	if (r->journal != NULL && in->beats > 0)
		journal_heartbeats(r->journal, in->svc->name, in->st.id,
		    in->beats, in->misses, in->last_seq, in->progress);
	if (in->health_ev != NULL)
		event_free(in->health_ev);
	if (in->restart_ev != NULL)
		event_free(in->restart_ev);
	if (in->expire_ev != NULL)
		event_free(in->expire_ev);
	if (in->adopted_ev != NULL)
		event_free(in->adopted_ev);
	if (in->adopted_fd >= 0)
		close(in->adopted_fd);
	if (in->st.state == IS_QUARANTINED && in->svc->quarantined > 0)
		in->svc->quarantined--;
	free(in->backtrace);
}

void
sup_booting(struct inst *in)
{
	struct registry *r = in->svc->reg;
	struct health_params hp;

	in->t_boot = instance_clock();
	if (in->boots == 0)
		in->boots = 1;
	health_params(in->svc, &hp);
	health_watch_start(&in->hw, &hp, in->t_boot);
	health_arm(in);
	if (r->journal != NULL)
		journal_instance(r->journal, in->svc->name, in->st.id,
		    in->ops->pid != NULL ? in->ops->pid(in) : 0,
		    in->svc->conf->image, in->token);
}

void
sup_ready(struct inst *in)
{
	health_watch_ready(&in->hw, instance_clock());
	in->hw.beats_optional = in->beats_optional;
	health_arm(in);
}

/*
 * The tender is gone.  Returns true when the instance lives on (a restart
 * is due); false when the caller ends it.
 */
bool
sup_exited(struct inst *in, const struct bevent *ev)
{
	const struct ctl_exited *x = &ev->u.exited;
	struct pol_event pe;
	char why[200];
	bool guest = x->reason == CTL_EXIT_GUEST;

	event_del(in->health_ev);
	/* The backend's part of this boot is over; a restart boots anew. */
	if (in->bdata != NULL && in->ops->release != NULL)
		in->ops->release(in);
	switch (in->st.state) {
	case IS_RESTARTING:
		if (in->reboot_on_exit ||
		    !evtimer_pending(in->restart_ev, NULL))
			reboot(in);
		return true;
	case IS_QUARANTINED:
		instance_set_state(&in->st, IS_STOPPED, "the tender ended");
		return false;
	case IS_FAULTED:
		if (in->pending >= 0 && !in->decided) {
			/* Faulted, but nothing was captured: decide now. */
			pe_init(&pe, in, (unsigned)in->pending);
			pe.vector = in->pend_vector;
			decide(in, &pe, in->fault, false);
			return in->st.state == IS_RESTARTING;
		}
		instance_set_state(&in->st, IS_STOPPED, NULL);
		return false;
	case IS_BOOTING:
	case IS_READY:
		if (in->warm || in->stopped_on_purpose)
			break;
		in->t_fault = x->t_ns;
		if (guest) {
			pe_init(&pe, in, POL_EV_EXIT);
			pe.exit_code = x->status;
			snprintf(why, sizeof(why),
			    "the guest exited with status %d", x->status);
		} else if (x->status > 128 && x->status < 128 + 65) {
			pe_init(&pe, in, POL_EV_TENDER_DIED);
			pe.signal = x->status - 128;
			snprintf(why, sizeof(why),
			    "the tender died of signal %d", x->status - 128);
		} else {
			pe_init(&pe, in, POL_EV_HOST_ERROR);
			snprintf(why, sizeof(why),
			    "the tender exited with status %d", x->status);
		}
		snprintf(in->fault_kind, sizeof(in->fault_kind), "%s",
		    pol_event_name(pe.kind));
		decide(in, &pe, why, false);
		return in->st.state == IS_RESTARTING;
	default:
		break;
	}
	return false;
}

/* ---- operator actions (registry_ctl.c) ---- */

void
sup_release(struct inst *in, const char *why)
{
	quarantine_end(in, POL_STOP, why);
}

void
sup_retire(struct svc *s, const char *why)
{
	const struct policy *p = registry_policy(s);
	struct pol_decision d;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.answer = POL_ANSWER_NXDOMAIN;
	/* Answer as the policy's own retire rule would. */
	for (i = 0; p != NULL && i < p->nrules; i++)
		if (p->rules[i].action == POL_RETIRE) {
			d.answer = p->rules[i].answer;
			d.fallback = p->rules[i].fallback;
			break;
		}
	log_info("service %s: %s", s->name, why);
	sup_log(s, 0, SVC_LOG_SUMMONER, "%s", why);
	retire_service(s, &d);
}

/* ---- UDP heartbeats ---- */

static void *
udp_lookup(void *arg, const char *token, size_t len)
{
	struct registry *r = arg;
	struct svc *s;
	struct inst *in;

	if (len != 32)
		return NULL;
	TAILQ_FOREACH(s, &r->svcs, entry)
	TAILQ_FOREACH(in, &s->insts, entry)
	if (strncasecmp(in->token, token, len) == 0)
		return in;
	return NULL;
}

static void
udp_deliver(void *arg, void *who, const struct health_msg *m)
{
	struct registry *r = arg;
	struct inst *in = who;
	struct bevent ev;

	/* A sequence that does not move forward is a replay (or a
	 * duplicate): refused and counted. */
	if ((m->flags & HEALTH_MSG_HAS_SEQ) && in->beats > 0 &&
	    m->seq <= in->last_seq) {
		r->hb_rejected++;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.t_ns = instance_clock();
	if (m->flags & HEALTH_MSG_READY) {
		ev.type = CTL_READY;
		registry_backend_event(in, &ev);
	}
	if (m->flags & (HEALTH_MSG_WATCHDOG | HEALTH_MSG_HAS_PROGRESS)) {
		ev.type = CTL_HEARTBEAT;
		ev.u.heartbeat.t_ns = ev.t_ns;
		ev.u.heartbeat.seq =
		    (m->flags & HEALTH_MSG_HAS_SEQ) ? m->seq : in->beats + 1;
		ev.u.heartbeat.progress = m->progress;
		ev.u.heartbeat.conns = m->conns;
		ev.u.heartbeat.flags =
		    ((m->flags & HEALTH_MSG_HAS_PROGRESS) ? CTL_HB_HAS_PROGRESS
		                                          : 0) |
		    ((m->flags & HEALTH_MSG_HAS_CONNS) ? CTL_HB_HAS_CONNS : 0) |
		    ((m->flags & HEALTH_MSG_HAS_STATUS) ? CTL_HB_HAS_STATUS
		                                        : 0) |
		    ((m->flags & HEALTH_MSG_HAS_SEQ) ? CTL_HB_HAS_SEQ : 0);
		ev.text = m->status;
		ev.textlen = m->status_len;
		registry_backend_event(in, &ev);
	}
	if (m->flags & HEALTH_MSG_HAS_LOG) {
		ev.type = CTL_LOG;
		ev.text = m->log;
		ev.textlen = m->log_len;
		registry_backend_event(in, &ev);
	}
}

/* ---- set-up and recovery ---- */

static struct journal *journal_seam;

static void
journal_hook(const struct instance *st, enum istate from, enum istate to,
    uint64_t dt_ns, const char *why)
{
	if (journal_seam != NULL)
		journal_transition(journal_seam, st->service, st->id,
		    istate_name(from), istate_name(to), dt_ns, why);
}

int
registry_supervise(struct registry *r, struct journal *j, const char *state_dir,
    const struct sockaddr *hb_addr, unsigned hb_len, char *err, size_t errlen)
{
	static const struct health_udp_ops udp_ops = {
	    udp_lookup, udp_deliver, NULL};
	struct health_udp_ops ops = udp_ops;
	char path[PATH_MAX];

	r->journal = j;
	journal_seam = j;
	instance_journal = j != NULL ? journal_hook : NULL;
	if (state_dir != NULL) {
		if (mkdir_p(state_dir, 0700) < 0 ||
		    realpath(state_dir, path) == NULL) {
			snprintf(err, errlen, "state-dir %s: %s", state_dir,
			    strerror(errno));
			return -1;
		}
		free(r->state_dir);
		if ((r->state_dir = strdup(path)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		snprintf(path, sizeof(path), "%s/faults", r->state_dir);
		if (mkdir_p(path, 0700) < 0)
			goto fail_dir;
		snprintf(path, sizeof(path), "%s/gdb", r->state_dir);
		if (mkdir_p(path, 0700) < 0)
			goto fail_dir;
	}
	if (hb_addr != NULL) {
		ops.arg = r;
		health_udp_free(r->udp);
		r->udp =
		    health_udp_new(r->base, hb_addr, hb_len, &ops, err, errlen);
		if (r->udp == NULL)
			return -1;
	}
	return 0;
fail_dir:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

unsigned
registry_heartbeat_port(const struct registry *r)
{
	return r->udp != NULL ? health_udp_port(r->udp) : 0;
}

/* Whether pid is a summoner-tender (a leftover, not a recycled pid). */
static bool
is_tender(long pid)
{
	char path[64], buf[512];
	FILE *fp;
	size_t n;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, "summoner-tender") != NULL;
}

static void
adopted_cb(evutil_socket_t fd, short what, void *arg)
{
	struct inst *in = arg;

	(void)fd;
	(void)what;
	event_del(in->adopted_ev);
	in->adopted_pid = 0;
	if (in->st.state == IS_QUARANTINED) {
		if (in->svc->quarantined > 0)
			in->svc->quarantined--;
		instance_set_state(&in->st, IS_STOPPED, "the tender ended");
	}
	if (in->st.state != IS_RESTARTING) {
		inst_gone(in);
		return;
	}
	reboot(in);
}

/*
 * An adopted tender's tap: the one its descriptors point at (/proc's
 * fdinfo names a tun device's interface as "iff:").  The MAC is the
 * service's for that id, as it was booted with.
 */
static void
adopt_net(struct inst *in, long pid)
{
	char path[64], line[128];
	FILE *fp;

	if (config_service_net(in->svc->conf) == NULL)
		return;
	netdev_mac(in->svc->conf->name, NULL, in->st.id, in->mac);
	for (int fd = 4; fd < 4 + 16 && in->tap[0] == '\0'; fd++) {
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", pid, fd);
		if ((fp = fopen(path, "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strncmp(line, "iff:", 4) == 0 &&
			    sscanf(line + 4, "%15s", in->tap) == 1)
				break;
		fclose(fp);
	}
	/* Its neighbour entries, if the sweep finds them, stay. */
	in->neigh_set = in->tap[0] != '\0';
}

static void
adopt(struct registry *r, struct svc *s, const struct journal_leftover *l)
{
	struct inst *in = NULL;
	uint64_t now = journal_clock();
	struct timeval tv;
	int pfd;

	if ((pfd = (int)syscall(SYS_pidfd_open, (pid_t)l->pid, 0)) < 0)
		goto fail;
	if ((in = inst_new_adopted(s, l->id)) == NULL)
		goto fail;
	in->adopted_pid = l->pid;
	in->adopted_fd = pfd;
	in->adopted_ev =
	    event_new(r->base, pfd, EV_READ | EV_PERSIST, adopted_cb, in);
	if (in->adopted_ev == NULL || event_add(in->adopted_ev, NULL) < 0)
		goto fail;
	adopt_net(in, l->pid);
	snprintf(in->gdb, sizeof(in->gdb), "%s", l->gdb);
	snprintf(in->core, sizeof(in->core), "%s", l->core);
	snprintf(in->fault_dir, sizeof(in->fault_dir), "%s", l->dir);
	instance_set_state(&in->st, IS_FAULTED, "left by an earlier run");
	instance_set_state(
	    &in->st, IS_QUARANTINED, "re-adopted after a summoner restart");
	s->quarantined++;
	in->pend_code = POL_STOP;
	if (l->expires_ms != 0) {
		uint64_t left = l->expires_ms > now ? l->expires_ms - now : 0;

		in->t_expires = instance_clock() + left * NS_PER_MS;
		tv = tv_ms(left * NS_PER_MS);
		event_add(in->expire_ev, &tv);
	}
	if (r->journal != NULL)
		journal_quarantine(r->journal, s->name, in->st.id, l->pid,
		    in->gdb, in->core, in->fault_dir, l->expires_ms);
	log_info("instance %s#%u: quarantined tender (pid %ld) re-adopted, "
	         "gdb stub at %s",
	    s->name, in->st.id, l->pid, in->gdb);
	return;
fail:
	log_warn("instance %s#%u: cannot re-adopt pid %ld", l->service, l->id,
	    l->pid);
	if (in != NULL) {
		in->adopted_fd = pfd;
		pfd = -1;
		instance_set_state(&in->st, IS_FAULTED, "not re-adopted");
		instance_set_state(&in->st, IS_STOPPED, NULL);
		inst_gone(in);
	}
	if (pfd >= 0)
		close(pfd);
	kill((pid_t)l->pid, SIGKILL);
}

static void
leftover_cb(void *arg, const struct journal_leftover *l)
{
	struct registry *r = arg;
	struct svc *s = registry_service(r, l->service);
	bool alive = is_tender(l->pid);
	const char *what;

	if (s != NULL && s->next_id < l->id)
		s->next_id = l->id;
	if (alive && s != NULL && strcmp(l->state, "quarantined") == 0) {
		adopt(r, s, l);
		return;
	}
	if (alive) {
		kill((pid_t)l->pid, SIGKILL);
		what = "left running by an earlier run: killed";
	} else
		what = "left by an earlier run: its tender is gone";
	log_info("instance %s#%u (%s, pid %ld): %s", l->service, l->id,
	    l->state, l->pid, what);
	journal_transition(
	    r->journal, l->service, l->id, l->state, "stopped", 0, what);
}

static bool
keep_tap(void *arg, const char *name)
{
	struct registry *r = arg;
	const struct svc *s;
	const struct inst *in;

	TAILQ_FOREACH(s, &r->svcs, entry)
	TAILQ_FOREACH(in, &s->insts, entry)
	if (strcmp(in->tap, name) == 0)
		return true;
	return false;
}

static bool
keep_neigh(void *arg, const struct cfg_ip *ip, const uint8_t mac[6])
{
	struct registry *r = arg;
	const struct svc *s;
	const struct inst *in;
	const struct cfg_address *a;

	TAILQ_FOREACH(s, &r->svcs, entry)
	TAILQ_FOREACH(in, &s->insts, entry)
	{
		if (!in->neigh_set || memcmp(in->mac, mac, 6) != 0)
			continue;
		TAILQ_FOREACH(a, &s->conf->addresses, entry)
		if (config_ip_eq(&a->ip, ip))
			return true;
	}
	return false;
}

/* What an earlier run's instances left on the host: taps of tenders
 * killed above (their tender may not be quite gone yet) and neighbour
 * entries pointing at guests that are no more. */
static void
sweep_net(struct registry *r)
{
	const struct netdev_keep keep = {keep_tap, keep_neigh, r};
	unsigned ntaps, nneigh;

	if (r->cref == NULL || TAILQ_EMPTY(&r->cref->conf->bridges))
		return;
	if (netdev_sweep(r->cref->conf, &keep, &ntaps, &nneigh) < 0) {
		log_warn("sweeping leftover taps and neighbour entries");
		return;
	}
	if (ntaps > 0 || nneigh > 0)
		log_info("removed %u leftover %s and %u neighbour %s", ntaps,
		    ntaps == 1 ? "tap" : "taps", nneigh,
		    nneigh == 1 ? "entry" : "entries");
}

int
registry_recover(struct registry *r)
{
	int n = 0;

	if (r->journal != NULL)
		n = journal_leftovers(r->journal, leftover_cb, r);
	sweep_net(r);
	return n;
}
