/*
 * registry_ctl.c: the registry's operator actions (registry.h, "for the
 * control socket"): what summonerctl summon/stop/restart/release/retire
 * do.  Each checks the name and the state, says plainly why it refuses,
 * and otherwise starts the action and returns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "registry_int.h"

void (*registry_log_tap)(struct svc *s, const struct svc_log_line *l);

/* "www#3" -> service "www", id 3; "www" -> id 0. */
static int
split_name(const char *name, char *svc, size_t svclen, unsigned *id)
{
	const char *hash = strchr(name, '#');
	char *end;
	unsigned long v;
	size_t n = hash != NULL ? (size_t)(hash - name) : strlen(name);

	*id = 0;
	if (n == 0 || n >= svclen)
		return -1;
	memcpy(svc, name, n);
	svc[n] = '\0';
	if (hash == NULL)
		return 0;
	errno = 0;
	v = strtoul(hash + 1, &end, 10);
	if (hash[1] < '0' || hash[1] > '9' || *end != '\0' || errno != 0 ||
	    v == 0 || v > 0xffffffffu)
		return -1;
	*id = (unsigned)v;
	return 0;
}

static bool
running(const struct inst *in)
{
	return !in->warm &&
	       (in->st.state == IS_BOOTING || in->st.state == IS_READY);
}

struct inst *
registry_find(struct registry *r, const char *name, struct svc **svcp)
{
	char sname[256];
	unsigned id;
	struct svc *s;
	struct inst *in, *best = NULL;

	*svcp = NULL;
	if (split_name(name, sname, sizeof(sname), &id) < 0)
		return NULL;
	if ((s = registry_service(r, sname)) == NULL)
		return NULL;
	*svcp = s;
	TAILQ_FOREACH(in, &s->insts, entry)
	{
		if (id != 0) {
			if (in->st.id == id)
				return in;
			continue;
		}
		if (in->st.state == IS_QUARANTINED)
			return in;
		if (in->warm)
			continue;
		best = in; /* the newest, unless an active one is found */
	}
	if (id != 0)
		return NULL;
	return s->active != NULL ? s->active : best;
}

/* The service and instance for an action; an error message when none. */
static int
lookup(struct registry *r, const char *name, struct svc **s, struct inst **in,
    char *err, size_t errlen)
{
	*in = registry_find(r, name, s);
	if (*s == NULL || (*s)->removed) {
		snprintf(err, errlen, "no service named %s", name);
		return -1;
	}
	if (strchr(name, '#') != NULL && *in == NULL) {
		snprintf(err, errlen, "no instance %s", name);
		return -1;
	}
	return 0;
}

/* Boot s's instance for an operator (no client: the rate limit does not
 * apply, the others do), and say so in the service's log. */
static int
operator_boot(struct svc *s, const char *what, char *err, size_t errlen)
{
	if (summon(s, NULL) < 0) {
		snprintf(err, errlen,
		    "a limit refused the boot (see the summoner's log)");
		return -1;
	}
	sup_log(s, s->active->st.id, SVC_LOG_SUMMONER, "%s", what);
	return 0;
}

int
registry_ctl_summon(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in;

	if (lookup(r, name, &s, &in, err, errlen) < 0)
		return -1;
	if (s->retired) {
		snprintf(err, errlen,
		    "service %s is retired (restart brings it back)", s->name);
		return -1;
	}
	if (s->active != NULL) {
		snprintf(err, errlen, "%s#%u is already %s", s->name,
		    s->active->st.id, istate_name(s->active->st.state));
		return -1;
	}
	return operator_boot(s, "summoned by the operator", err, errlen);
}

/* Stop one instance, whatever it is doing. */
int
inst_stop_any(struct inst *in, const char *why, char *err, size_t errlen)
{
	if (in->pending >= 0 && !in->decided &&
	    in->st.state != IS_QUARANTINED) {
		/* A fault awaits its capture (a libvirt core dump takes
		 * 0.1-0.6 s): the VM must stay for it, and the decision
		 * that follows will be this stop, not the policy's. */
		in->stop_asked = true;
		return 0;
	}
	switch (in->st.state) {
	case IS_BOOTING:
	case IS_READY:
		in->stopped_on_purpose = true;
		inst_stop(in, why);
		return 0;
	case IS_QUARANTINED:
		sup_release(in, why);
		return 0;
	case IS_RESTARTING:
		event_del(in->restart_ev);
		in->reboot_on_exit = false;
		if (in->svc->active == in) {
			in->svc->active = NULL;
			answer_all(in->svc, NULL);
		}
		instance_set_state(&in->st, IS_STOPPED, why);
		if (in->bdata == NULL)
			inst_gone(in);
		return 0;
	default:
		snprintf(err, errlen, "%s#%u is already %s", in->svc->name,
		    in->st.id, istate_name(in->st.state));
		return -1;
	}
}

int
registry_ctl_stop(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in, *next;
	unsigned n = 0;

	if (lookup(r, name, &s, &in, err, errlen) < 0)
		return -1;
	if (strchr(name, '#') != NULL)
		return inst_stop_any(
		    in, "stopped by the operator", err, errlen);
	TAILQ_FOREACH_SAFE(in, &s->insts, entry, next)
	{
		if (running(in) || in->st.state == IS_RESTARTING ||
		    (in->pending >= 0 && !in->decided)) {
			inst_stop_any(
			    in, "stopped by the operator", err, errlen);
			n++;
		}
	}
	if (n == 0) {
		snprintf(
		    err, errlen, "service %s has no running instance", s->name);
		return -1;
	}
	return 0;
}

int
registry_ctl_restart(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in;

	if (lookup(r, name, &s, &in, err, errlen) < 0)
		return -1;
	s->retired = false;
	if (s->active != NULL && running(s->active)) {
		s->active->stopped_on_purpose = true;
		inst_stop(s->active, "restarted by the operator");
	}
	if (s->active != NULL) {
		snprintf(err, errlen, "%s#%u is %s: try again once it is over",
		    s->name, s->active->st.id,
		    istate_name(s->active->st.state));
		return -1;
	}
	return operator_boot(s, "restarted by the operator", err, errlen);
}

int
registry_ctl_release(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in;

	if (lookup(r, name, &s, &in, err, errlen) < 0)
		return -1;
	if (in == NULL || in->st.state != IS_QUARANTINED) {
		if (in == NULL)
			snprintf(
			    err, errlen, "service %s has no instance", s->name);
		else
			snprintf(err, errlen, "%s#%u is not quarantined (%s)",
			    s->name, in->st.id, istate_name(in->st.state));
		return -1;
	}
	sup_release(in, "released by the operator");
	return 0;
}

int
registry_ctl_retire(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in;

	if (lookup(r, name, &s, &in, err, errlen) < 0)
		return -1;
	if (s->retired) {
		snprintf(err, errlen, "service %s is already retired", s->name);
		return -1;
	}
	sup_retire(s, "retired by the operator");
	return 0;
}
