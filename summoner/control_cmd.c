/*
 * control_cmd.c: the control socket's commands, one function each, listed
 * in one table (docs/control-socket.md says what each one answers).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "control_int.h"
#include "journal.h"
#include "netdev.h"
#include "policies/policy.h"
#include "registry.h"

#define NS_PER_MS      1000000ull
#define DEFAULT_FAULTS 20 /* "faults" without -n */

/* ---- helpers ---- */

static void
add_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key,
	    s != NULL && s[0] != '\0' ? json_object_new_string(s) : NULL);
}

static void
add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void
add_ms(struct json_object *o, const char *key, uint64_t ns)
{
	add_u64(o, key, ns / NS_PER_MS);
}

/* p made absolute against the daemon's directory: the client may run in
 * another one. */
static const char *
abs_path(const struct control *c, const char *p, char *buf, size_t len)
{
	int n;

	if (p == NULL || p[0] == '\0' || p[0] == '/' || c->cwd[0] == '\0')
		return p;
	n = snprintf(buf, len, "%s/%s", c->cwd, p);
	return n < 0 || (size_t)n >= len ? p : buf;
}

static void
inst_name(const struct inst *in, char *buf, size_t len)
{
	snprintf(buf, len, "%s#%u", in->svc->name, in->st.id);
}

/* The instance id in "www#3", 0 when name has none. */
static unsigned
name_id(const char *name)
{
	const char *h = strrchr(name, '#');

	return h != NULL ? (unsigned)strtoul(h + 1, NULL, 10) : 0;
}

/* name to its service and instance; CONTROL_ENOENT without a service. */
static enum control_code
resolve(struct conn *cn, const struct control_req *req, struct svc **s,
    struct inst **in, char *err, size_t errlen)
{
	if (req->name == NULL) {
		snprintf(err, errlen, "%s: a service name is needed", req->cmd);
		return CONTROL_EBADREQ;
	}
	*in = registry_find(cn->c->reg, req->name, s);
	if (*s == NULL) {
		snprintf(err, errlen, "no service named %s", req->name);
		return CONTROL_ENOENT;
	}
	return CONTROL_OK;
}

/*
 * What the instance's backend cannot give a debugger, said plainly (""
 * when it can give everything): without a gdb stub, neither quarantine
 * nor inspect has a live target, and only the tender writes cores.
 */
static const char *
debug_note(const struct inst *in, char *buf, size_t len)
{
	if (in->ops == NULL || in->ops->gdb_open != NULL)
		return "";
	snprintf(buf, len,
	    "gdb: not available with the %s backend (no stub); core: not "
	    "captured by the %s backend",
	    in->ops->name, in->ops->name);
	return buf;
}

static const char *
backend_name(int b)
{
	switch (b) {
	case CFG_BACKEND_HVT:
		return "hvt";
	case CFG_BACKEND_LIBVIRT:
		return "libvirt";
	case CFG_BACKEND_EXEC:
		return "exec";
	}
	return "unknown";
}

static struct json_object *
addresses(const struct svc *s)
{
	struct json_object *a = json_object_new_array();
	const struct cfg_address *ad;
	char buf[64];

	if (s->conf == NULL)
		return a;
	TAILQ_FOREACH(ad, &s->conf->addresses, entry)
	{
		if (config_ip_str(&ad->ip, buf, sizeof(buf)) != NULL)
			json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

/*
 * The function names of a backtrace ("0x<pc> <function>+0x<off>" lines,
 * innermost first): "?" for a frame no symbol matched.
 */
static struct json_object *
bt_functions(const char *bt)
{
	struct json_object *a = json_object_new_array();
	const char *p = bt, *nl, *f, *end;

	while (p != NULL && *p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if ((f = memchr(p, ' ', (size_t)(nl - p))) != NULL)
			f++;
		else
			f = p;
		for (end = f; end < nl && *end != '+' && *end != ' '; end++)
			;
		if (end > f)
			json_object_array_add(
			    a, json_object_new_string_len(f, (int)(end - f)));
		p = *nl != '\0' ? nl + 1 : NULL;
	}
	return a;
}

static struct json_object *
bt_frames(const char *bt)
{
	struct json_object *a = json_object_new_array();
	const char *p = bt, *nl;

	while (p != NULL && *p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p)
			json_object_array_add(
			    a, json_object_new_string_len(p, (int)(nl - p)));
		p = *nl != '\0' ? nl + 1 : NULL;
	}
	return a;
}

/* An instance, with as much as "show" tells (list: fewer fields). */
static struct json_object *
inst_json(const struct control *c, const struct inst *in, bool full)
{
	struct json_object *o = json_object_new_object();
	uint64_t now = instance_clock();
	char buf[PATH_MAX + 64], mac[NETDEV_MACSTR];
	long pid;

	inst_name(in, buf, sizeof(buf));
	add_str(o, "name", buf);
	json_object_object_add(o, "id", json_object_new_int64(in->st.id));
	add_str(o, "state", istate_name(in->st.state));
	add_ms(o, "uptime_ms", now - in->st.t_born);
	add_ms(o, "state_ms", now - in->st.t_state);
	if (in->t_last_beat != 0)
		add_ms(o, "last_beat_ms", now - in->t_last_beat);
	else
		json_object_object_add(o, "last_beat_ms", NULL);
	json_object_object_add(o, "warm", json_object_new_boolean(in->warm));
	if (!full)
		return o;
	pid = in->adopted_pid;
	if (pid == 0 && in->ops != NULL && in->ops->pid != NULL)
		pid = in->ops->pid(in);
	json_object_object_add(o, "pid", json_object_new_int64(pid));
	add_u64(o, "beats", in->beats);
	add_u64(o, "misses", in->misses);
	add_u64(o, "seq", in->last_seq);
	add_u64(o, "progress", in->progress);
	add_u64(o, "conns", in->conns);
	add_str(o, "status", in->status);
	/* For guests that send heartbeats over UDP (docs/health.md). */
	add_str(o, "token", in->token);
	/* Its first net device on the host: null without one. */
	add_str(o, "tap", in->tap);
	add_str(
	    o, "mac", in->tap[0] != '\0' ? netdev_mac_str(in->mac, mac) : NULL);
	add_str(o, "fault", in->fault);
	add_str(o, "fault_kind", in->fault_kind);
	add_str(o, "signature", in->signature);
	add_str(o, "fault_dir", abs_path(c, in->fault_dir, buf, sizeof(buf)));
	add_str(o, "core", abs_path(c, in->core, buf, sizeof(buf)));
	add_str(o, "gdb", in->gdb);
	add_str(o, "debug", debug_note(in, buf, sizeof(buf)));
	if (in->t_expires != 0)
		add_ms(o, "expires_in_ms",
		    in->t_expires > now ? in->t_expires - now : 0);
	else
		json_object_object_add(o, "expires_in_ms", NULL);
	json_object_object_add(o, "backtrace", bt_functions(in->backtrace));
	return o;
}

/* A timeline step in microseconds: null when not taken. */
static struct json_object *
tl_step_json(uint32_t us)
{
	return us != TL_ABSENT ? json_object_new_int64(us) : NULL;
}

/* The service's last boots, newest first (docs/control-socket.md). */
static struct json_object *
timelines_json(const struct svc *s)
{
	static const char *const keys[TL_NSTEPS] = {
	    [TL_SPAWN] = "spawn_us",
	    [TL_MAIN] = "main_us",
	    [TL_ENTRY] = "entry_us",
	    [TL_READY] = "ready_us",
	    [TL_ANSWERED] = "answered_us",
	};
	struct json_object *a = json_object_new_array(), *o;
	const struct svc_timeline *e;
	char name[96];
	unsigned i, k;

	for (i = 0; (e = tl_ring_get(&s->timelines, i)) != NULL; i++) {
		o = json_object_new_object();
		snprintf(name, sizeof(name), "%s#%u", s->name, e->id);
		add_str(o, "instance", name);
		json_object_object_add(o, "id", json_object_new_int64(e->id));
		add_str(o, "kind", e->warm ? "warm" : "cold");
		for (k = 0; k < TL_NSTEPS; k++)
			json_object_object_add(
			    o, keys[k], tl_step_json(e->us[k]));
		json_object_array_add(a, o);
	}
	return a;
}

/* ---- list ---- */

static enum control_code
cmd_list(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *svcs = json_object_new_array(), *so, *insts;
	const struct svc *s;
	const struct inst *in;

	(void)req, (void)err, (void)errlen;
	TAILQ_FOREACH(s, registry_services(cn->c->reg), entry)
	{
		so = json_object_new_object();
		insts = json_object_new_array();
		add_str(so, "name", s->name);
		add_str(so, "fqdn", s->conf != NULL ? s->conf->name : NULL);
		json_object_object_add(so, "addresses", addresses(s));
		add_u64(so, "faults", s->faults);
		json_object_object_add(
		    so, "retired", json_object_new_boolean(s->retired));
		TAILQ_FOREACH(in, &s->insts, entry)
		json_object_array_add(insts, inst_json(cn->c, in, false));
		json_object_object_add(so, "instances", insts);
		json_object_array_add(svcs, so);
	}
	json_object_object_add(reply, "services", svcs);
	return CONTROL_OK;
}

/* ---- show ---- */

static enum control_code
cmd_show(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *so, *a, *insts;
	struct svc *s;
	struct inst *in, *i;
	enum control_code code;
	const struct cfg_service *cs;
	const struct policy *pol;
	char buf[PATH_MAX + 64];
	size_t k;

	if ((code = resolve(cn, req, &s, &in, err, errlen)) != CONTROL_OK)
		return code;
	if (name_id(req->name) != 0 && in == NULL) {
		snprintf(err, errlen, "no instance %s", req->name);
		return CONTROL_ENOENT;
	}
	cs = s->conf;
	so = json_object_new_object();
	add_str(so, "name", s->name);
	if (cs != NULL) {
		add_str(so, "fqdn", cs->name);
		add_str(so, "backend", backend_name(cs->backend));
		add_str(
		    so, "image", abs_path(cn->c, cs->image, buf, sizeof(buf)));
		a = json_object_new_array();
		for (k = 0; k < cs->argc; k++)
			json_object_array_add(
			    a, json_object_new_string(cs->argv[k]));
		json_object_object_add(so, "args", a);
		add_u64(so, "memory", cs->memory);
		add_u64(so, "ttl", cs->ttl);
		add_u64(so, "idle_timeout_ms", cs->idle_timeout);
		add_u64(so, "ready_deadline_ms", cs->ready_deadline);
		add_u64(so, "warm", cs->warm);
		json_object_object_add(so, "addresses", addresses(s));
	}
	pol = registry_policy(s);
	add_str(so, "policy", pol != NULL ? pol->name : NULL);
	add_u64(so, "heartbeat_port", registry_heartbeat_port(s->reg));
	json_object_object_add(
	    so, "retired", json_object_new_boolean(s->retired));
	add_u64(so, "quarantined", s->quarantined);
	add_u64(so, "faults", s->faults);
	if (s->active != NULL) {
		inst_name(s->active, buf, sizeof(buf));
		add_str(so, "active", buf);
	} else
		json_object_object_add(so, "active", NULL);
	json_object_object_add(so, "timelines", timelines_json(s));
	json_object_object_add(reply, "service", so);

	insts = json_object_new_array();
	if (name_id(req->name) != 0)
		json_object_array_add(insts, inst_json(cn->c, in, true));
	else
		TAILQ_FOREACH(i, &s->insts, entry)
	json_object_array_add(insts, inst_json(cn->c, i, true));
	json_object_object_add(reply, "instances", insts);
	return CONTROL_OK;
}

/* ---- top ---- */

/*
 * Everything "summonerctl top" shows in one round trip: "list"'s services
 * and instances, each service's latency (the last summon's query->answer
 * and the median of its timeline ring), and the summon counters.
 */
static enum control_code
cmd_top(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *svcs = json_object_new_array(), *so, *insts, *sum;
	const struct svc *s;
	const struct inst *in;
	const struct svc_timeline *last;
	struct registry_stats st;

	(void)req, (void)err, (void)errlen;
	TAILQ_FOREACH(s, registry_services(cn->c->reg), entry)
	{
		so = json_object_new_object();
		insts = json_object_new_array();
		add_str(so, "name", s->name);
		add_u64(so, "faults", s->faults);
		json_object_object_add(
		    so, "retired", json_object_new_boolean(s->retired));
		last = tl_ring_get(&s->timelines, 0);
		json_object_object_add(so, "last_answered_us",
		    tl_step_json(
		        last != NULL ? last->us[TL_ANSWERED] : TL_ABSENT));
		json_object_object_add(so, "median_answered_us",
		    tl_step_json(tl_ring_median_answered(&s->timelines)));
		TAILQ_FOREACH(in, &s->insts, entry)
		json_object_array_add(insts, inst_json(cn->c, in, false));
		json_object_object_add(so, "instances", insts);
		json_object_array_add(svcs, so);
	}
	json_object_object_add(reply, "services", svcs);
	registry_stats(cn->c->reg, &st);
	sum = json_object_new_object();
	add_u64(sum, "cold", st.summons_cold);
	add_u64(sum, "warm", st.summons_warm);
	add_u64(sum, "joined", st.summons_joined);
	json_object_object_add(reply, "summons", sum);
	return CONTROL_OK;
}

/* ---- logs ---- */

static const char *
log_kind(unsigned k)
{
	switch (k) {
	case SVC_LOG_CONSOLE:
		return "console";
	case SVC_LOG_GUEST:
		return "guest";
	case SVC_LOG_SUMMONER:
		return "summoner";
	}
	return "unknown";
}

struct json_object *
control_log_line(const struct svc *s, const struct svc_log_line *l)
{
	struct json_object *o;
	char name[96];
	size_t len = l->len < SVC_LOG_TEXT ? l->len : SVC_LOG_TEXT;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	add_u64(o, "t_ms", l->t_wall_ms);
	snprintf(name, sizeof(name), "%s#%u", s->name, l->id);
	add_str(o, "instance", name);
	add_str(o, "kind", log_kind(l->kind));
	json_object_object_add(
	    o, "text", json_object_new_string_len(l->text, (int)len));
	return o;
}

/* The ring's i-th oldest line: log_head is the oldest, log_count how
 * many are held (supervise.c's ring_add()). */
static const struct svc_log_line *
ring_line(const struct svc *s, unsigned i)
{
	return &s->log[(s->log_head + i) % SVC_LOG_LINES];
}

static enum control_code
cmd_logs(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *lines = json_object_new_array();
	struct svc *s;
	struct inst *in;
	enum control_code code;
	unsigned id, i, count, start, want;
	const struct svc_log_line *l;

	json_object_object_add(reply, "lines", lines);
	if ((code = resolve(cn, req, &s, &in, err, errlen)) != CONTROL_OK)
		return code;
	id = name_id(req->name);
	count = s->log != NULL ? s->log_count : 0;
	if (count > SVC_LOG_LINES)
		count = SVC_LOG_LINES;
	/* The last n lines that match, oldest first. */
	want = req->n >= 0 ? (unsigned)req->n : SVC_LOG_LINES;
	start = count;
	for (i = count; i > 0 && want > 0; i--) {
		l = ring_line(s, i - 1);
		if (id == 0 || l->id == id) {
			start = i - 1;
			want--;
		}
	}
	for (i = start; i < count; i++) {
		l = ring_line(s, i);
		if (id == 0 || l->id == id)
			json_object_array_add(lines, control_log_line(s, l));
	}
	if (req->follow) {
		cn->follow = true;
		snprintf(cn->follow_svc, sizeof(cn->follow_svc), "%s", s->name);
		cn->follow_id = id;
		json_object_object_add(
		    reply, "follow", json_object_new_boolean(1));
	}
	return CONTROL_OK;
}

/* ---- faults ---- */

static void
fault_cb(void *arg, const struct journal_fault *f)
{
	struct json_object *a = arg, *o = json_object_new_object();
	char buf[32];

	add_u64(o, "t_ms", f->t_ms);
	add_str(o, "service", f->service);
	json_object_object_add(o, "id", json_object_new_int64(f->id));
	add_str(o, "kind", f->kind);
	add_str(o, "signature", f->signature);
	json_object_object_add(o, "known", json_object_new_boolean(f->known));
	add_str(o, "message", f->message);
	add_str(o, "dir", f->dir);
	json_object_object_add(o, "backtrace", bt_functions(f->backtrace));
	snprintf(buf, sizeof(buf), "%#" PRIx64, f->rip);
	add_str(o, "rip", buf);
	json_object_object_add(o, "vector",
	    f->vector >= 0 ? json_object_new_int64(f->vector) : NULL);
	json_object_array_add(a, o);
}

static enum control_code
cmd_faults(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct json_object *a = json_object_new_array();
	struct svc *s = NULL;
	char name[64] = "";
	unsigned id = 0, limit;
	size_t i;

	json_object_object_add(reply, "faults", a);
	if (cn->c->journal == NULL) {
		snprintf(err, errlen, "this summoner keeps no journal");
		return CONTROL_EUNAVAIL;
	}
	if (req->name != NULL) {
		/* A service gone from the config still has its faults in
		 * the journal: fall back to the name as given. */
		(void)registry_find(cn->c->reg, req->name, &s);
		snprintf(
		    name, sizeof(name), "%s", s != NULL ? s->name : req->name);
		name[strcspn(name, "#")] = '\0';
		id = name_id(req->name);
	}
	limit = req->n >= 0 ? (unsigned)req->n : DEFAULT_FAULTS;
	/* With an instance, the journal's limit counts the service's. */
	if (journal_faults(cn->c->journal, req->name != NULL ? name : NULL,
	        id != 0 ? 100000 : limit, fault_cb, a) < 0) {
		snprintf(err, errlen, "the journal could not be read");
		return CONTROL_EFAILED;
	}
	if (id != 0) {
		struct json_object *keep = json_object_new_array(), *f;

		for (i = 0; i < json_object_array_length(a); i++) {
			f = json_object_array_get_idx(a, i);
			if (json_object_get_int64(json_object_object_get(
			        f, "id")) == (int64_t)id &&
			    json_object_array_length(keep) < limit)
				json_object_array_add(keep, json_object_get(f));
		}
		json_object_object_add(reply, "faults", keep);
	}
	return CONTROL_OK;
}

/* ---- inspect ---- */

/* s as a shell word: as it is when that is safe, else in single quotes. */
static void
shell_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	if (s[0] != '\0' && s[strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                "0123456789/._+:@%=,-")] == '\0') {
		snprintf(buf, len, "%s", s);
		return;
	}
	if (o + 1 < len)
		buf[o++] = '\'';
	for (; *s != '\0' && o + 5 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else
			buf[o++] = *s;
	}
	if (o + 1 < len)
		buf[o++] = '\'';
	buf[o] = '\0';
}

static enum control_code
cmd_inspect(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct svc *s;
	struct inst *in;
	enum control_code code;
	char ibuf[PATH_MAX + 64], cbuf[PATH_MAX + 64], gbuf[PATH_MAX + 64];
	char qi[2 * PATH_MAX], qc[2 * PATH_MAX], qg[2 * PATH_MAX + 32];
	char cmd[6 * PATH_MAX + 64], name[96];
	const char *image, *core, *gdb;

	if ((code = resolve(cn, req, &s, &in, err, errlen)) != CONTROL_OK)
		return code;
	if (in == NULL) {
		snprintf(err, errlen, "%s has no instance", req->name);
		return CONTROL_ENOENT;
	}
	inst_name(in, name, sizeof(name));
	add_str(reply, "name", name);
	add_str(reply, "state", istate_name(in->st.state));
	image = s->conf != NULL && s->conf->image != NULL
	            ? abs_path(cn->c, s->conf->image, ibuf, sizeof(ibuf))
	            : "";
	core = abs_path(cn->c, in->core, cbuf, sizeof(cbuf));
	/* A unix socket path for "target remote" is made absolute too;
	 * host:port stays as it is. */
	gdb = strchr(in->gdb, '/') != NULL
	          ? abs_path(cn->c, in->gdb, gbuf, sizeof(gbuf))
	          : in->gdb;
	add_str(reply, "gdb", gdb);
	add_str(reply, "core", core);
	add_str(reply, "image", image);
	json_object_object_add(reply, "backtrace", bt_functions(in->backtrace));
	json_object_object_add(reply, "frames", bt_frames(in->backtrace));
	add_str(reply, "signature", in->signature);
	add_str(reply, "fault_kind", in->fault_kind);
	add_str(reply, "fault", in->fault);
	add_str(reply, "debug", debug_note(in, cmd, sizeof(cmd)));
	add_str(
	    reply, "fault_dir", abs_path(cn->c, in->fault_dir, qi, sizeof(qi)));
	shell_quote(qi, sizeof(qi), image);
	if (gdb[0] != '\0') {
		char target[PATH_MAX + 80];

		snprintf(target, sizeof(target), "target remote %s", gdb);
		shell_quote(qg, sizeof(qg), target);
		snprintf(cmd, sizeof(cmd), "gdb -ex %s %s", qg, qi);
		add_str(reply, "gdb_command", cmd);
	} else
		json_object_object_add(reply, "gdb_command", NULL);
	if (core[0] != '\0') {
		shell_quote(qc, sizeof(qc), core);
		snprintf(cmd, sizeof(cmd), "gdb %s %s", qi, qc);
		add_str(reply, "core_command", cmd);
	} else
		json_object_object_add(reply, "core_command", NULL);
	return CONTROL_OK;
}

/* ---- operator actions ---- */

static enum control_code
action(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen,
    int (*fn)(struct registry *, const char *, char *, size_t))
{
	struct svc *s = NULL;

	if (req->name == NULL) {
		snprintf(err, errlen, "%s: a service name is needed", req->cmd);
		return CONTROL_EBADREQ;
	}
	if (fn(cn->c->reg, req->name, err, errlen) < 0) {
		(void)registry_find(cn->c->reg, req->name, &s);
		return s == NULL ? CONTROL_ENOENT : CONTROL_EFAILED;
	}
	add_str(reply, "name", req->name);
	return CONTROL_OK;
}

#define ACTION(n)                                                              \
	static enum control_code cmd_##n(struct conn *cn,                      \
	    const struct control_req *req, struct json_object *reply,          \
	    char *err, size_t errlen)                                          \
	{                                                                      \
		return action(cn, req, reply, err, errlen, registry_ctl_##n);  \
	}
ACTION(summon)
ACTION(stop)
ACTION(restart)
ACTION(release)
ACTION(retire)

/* ---- policy test, reload ---- */

static enum control_code
cmd_policy_test(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	const struct policy *p;

	if (req->policy == NULL || req->trace == NULL) {
		snprintf(
		    err, errlen, "policy-test needs \"policy\" and \"trace\"");
		return CONTROL_EBADREQ;
	}
	add_str(reply, "policy", req->policy);
	if (control_policy_test != NULL) {
		if (control_policy_test(req->policy, req->trace, req->tracelen,
		        reply, err, errlen) < 0)
			return CONTROL_EFAILED;
		return CONTROL_OK;
	}
	if (cn->c->conf == NULL) {
		snprintf(err, errlen, "no configuration to take policies from");
		return CONTROL_EUNAVAIL;
	}
	if ((p = config_policy_find(cn->c->conf, req->policy)) == NULL) {
		snprintf(err, errlen, "no policy named %s", req->policy);
		return CONTROL_ENOENT;
	}
	if (control_policy_trace(
	        p, req->trace, req->tracelen, reply, err, errlen) < 0)
		return CONTROL_EFAILED;
	return CONTROL_OK;
}

static enum control_code
cmd_reload(struct conn *cn, const struct control_req *req,
    struct json_object *reply, char *err, size_t errlen)
{
	struct control *c = cn->c;

	(void)req, (void)reply;
	if (c->reload == NULL) {
		snprintf(err, errlen, "reload is not available");
		return CONTROL_EUNAVAIL;
	}
	if (c->reload(c->reload_arg, err, errlen) < 0)
		return CONTROL_EFAILED;
	return CONTROL_OK;
}

/* Sorted by name. */
static const struct control_cmd cmds[] = {
    {"faults", cmd_faults},
    {"inspect", cmd_inspect},
    {"list", cmd_list},
    {"logs", cmd_logs},
    {"policy-test", cmd_policy_test},
    {"release", cmd_release},
    {"reload", cmd_reload},
    {"restart", cmd_restart},
    {"retire", cmd_retire},
    {"show", cmd_show},
    {"stop", cmd_stop},
    {"summon", cmd_summon},
    {"top", cmd_top},
};

const struct control_cmd *
control_cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}
