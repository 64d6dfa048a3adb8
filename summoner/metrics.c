/*
 * metrics.c: the counters the hooks add to, and the page built from them
 * and the registry (metrics.h).  The HTTP side is in metrics_http.c.
 *
 * Label values with a bounded set only: a query type outside a fixed
 * table counts as OTHER, so that no client can grow the page by asking
 * for 65536 types.  Service, fault kind and decision labels come from
 * the configuration and the policy engine's names.
 */
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "metrics.h"
#include "registry.h"

#define NS_PER_S UINT64_C(1000000000)

/* ---- DNS ---- */

static const struct {
	uint16_t type;
	const char *name;
} qtypes[] = {
    {1, "A"},
    {2, "NS"},
    {5, "CNAME"},
    {6, "SOA"},
    {12, "PTR"},
    {15, "MX"},
    {16, "TXT"},
    {28, "AAAA"},
    {33, "SRV"},
    {43, "DS"},
    {48, "DNSKEY"},
    {64, "SVCB"},
    {65, "HTTPS"},
    {251, "IXFR"},
    {252, "AXFR"},
    {255, "ANY"},
    {257, "CAA"},
};
#define NQTYPES   (sizeof(qtypes) / sizeof(qtypes[0]))
#define QT_OTHER  NQTYPES       /* a type not in the table */
#define QT_NONE   (NQTYPES + 1) /* no question (FORMERR and the like) */
#define NQTSLOTS  (NQTYPES + 2)
#define NRCODES   17 /* 0..15 in the header, 16 BADVERS (EDNS) */
#define RC_OTHER  NRCODES
#define NRCSLOTS  (NRCODES + 1)
#define OPT_TYPE  41
#define OPT_BYTES 11 /* root name, type, class, ttl, rdlength */

static const char *const rcode_names[NRCSLOTS] = {"NOERROR", "FORMERR",
    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13",
    "RCODE14", "RCODE15", "BADVERS", "OTHER"};

static uint64_t dns_counts[NQTSLOTS][NRCSLOTS];
static uint64_t dns_dropped;

/* ---- per service ---- */

static const char *const summon_kinds[METRICS_SUMMON_NKINDS] = {
    "cold", "warm", "coalesced"};

/* Upper bounds of the summon latency buckets, in ns and as printed. */
static const uint64_t bucket_ns[METRICS_LATENCY_BUCKETS] = {1000000, 2500000,
    5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
    1000000000, 2500000000, 5000000000, 10000000000};
static const char *const bucket_le[METRICS_LATENCY_BUCKETS] = {"0.001",
    "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "5", "10"};

struct hist {
	/* observations in (bound[i-1], bound[i]]; the last slot is above
	 * every bound (+Inf); printed cumulatively */
	uint64_t n[METRICS_LATENCY_BUCKETS + 1];
	uint64_t count, sum_ns;
};

/* A counter with one or two label values. */
struct lctr {
	struct lctr *next;
	char *a, *b; /* b is NULL for one label */
	uint64_t n;
};

struct msvc {
	struct msvc *next;
	char *name;
	uint64_t summons[METRICS_SUMMON_NKINDS];
	uint64_t hb_misses;
	struct hist latency[2]; /* cold, warm */
	struct lctr *faults;    /* a: kind */
	struct lctr *decisions; /* a: event, b: action */
};

static struct msvc *services; /* in the order first seen */

static void
lctr_free_all(struct lctr *c)
{
	struct lctr *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c->a);
		free(c->b);
		free(c);
	}
}

static void
msvc_free(struct msvc *s)
{
	lctr_free_all(s->faults);
	lctr_free_all(s->decisions);
	free(s->name);
	free(s);
}

/* The entry of name, made if missing; NULL when out of memory (the event
 * is then not counted: metrics never take the daemon down). */
static struct msvc *
msvc_get(const char *name)
{
	struct msvc *s, **tail = &services;

	for (s = services; s != NULL; s = s->next) {
		if (strcmp(s->name, name) == 0)
			return s;
		tail = &s->next;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->name = strdup(name)) == NULL) {
		free(s);
		return NULL;
	}
	*tail = s;
	return s;
}

static void
lctr_add(struct lctr **head, const char *a, const char *b)
{
	struct lctr *c, **tail = head;

	for (c = *head; c != NULL; c = c->next) {
		if (strcmp(c->a, a) == 0 &&
		    (b == NULL ? c->b == NULL
		               : c->b != NULL && strcmp(c->b, b) == 0)) {
			c->n++;
			return;
		}
		tail = &c->next;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->a = strdup(a);
	c->b = b != NULL ? strdup(b) : NULL;
	if (c->a == NULL || (b != NULL && c->b == NULL)) {
		free(c->a);
		free(c->b);
		free(c);
		return;
	}
	c->n = 1;
	*tail = c;
}

/* ---- hooks ---- */

static size_t
qtype_slot(const struct dns_question *q)
{
	size_t i;

	if (!q->has_question)
		return QT_NONE;
	for (i = 0; i < NQTYPES; i++)
		if (qtypes[i].type == q->qtype)
			return i;
	return QT_OTHER;
}

/*
 * The rcode of one of our own replies: 4 bits in the header, 8 more in
 * the OPT record's TTL, which dns.c writes last when there is one.  The
 * OPT is recognised by its bytes (root owner, type 41), not assumed.
 */
static size_t
reply_rcode(const uint8_t *p, size_t len)
{
	unsigned rc = p[3] & 0x0f;
	const uint8_t *opt;

	if (len >= 12 + OPT_BYTES && (p[10] != 0 || p[11] != 0)) {
		opt = p + len - OPT_BYTES;
		if (opt[0] == 0 && opt[1] == 0 && opt[2] == OPT_TYPE)
			rc |= (unsigned)opt[5] << 4;
	}
	return rc < NRCODES ? rc : RC_OTHER;
}

void
metrics_dns_query(const struct dns_question *q, enum dns_verdict v,
    const uint8_t *reply, size_t len)
{
	if (v != DNS_REPLY || len < 12) {
		dns_dropped++;
		return;
	}
	dns_counts[qtype_slot(q)][reply_rcode(reply, len)]++;
}

void
metrics_summon(const char *service, enum metrics_summon kind)
{
	struct msvc *s = msvc_get(service);

	if (s != NULL && kind < METRICS_SUMMON_NKINDS)
		s->summons[kind]++;
}

void
metrics_summon_answered(const char *service, bool warm, uint64_t t_query)
{
	struct msvc *s = msvc_get(service);
	uint64_t now = instance_clock(), dt = now > t_query ? now - t_query : 0;
	struct hist *h;
	size_t i;

	if (s == NULL)
		return;
	h = &s->latency[warm ? 1 : 0];
	for (i = 0; i < METRICS_LATENCY_BUCKETS && dt > bucket_ns[i]; i++)
		;
	h->n[i]++;
	h->count++;
	h->sum_ns += dt;
}

void
metrics_fault(const char *service, const char *kind)
{
	struct msvc *s = msvc_get(service);

	if (s != NULL)
		lctr_add(&s->faults, kind, NULL);
}

void
metrics_decision(const char *service, const char *event, const char *action)
{
	struct msvc *s = msvc_get(service);

	if (s != NULL)
		lctr_add(&s->decisions, event, action);
}

void
metrics_heartbeat_miss(const char *service)
{
	struct msvc *s = msvc_get(service);

	if (s != NULL)
		s->hb_misses++;
}

void
metrics_reset(void)
{
	struct msvc *s;

	while ((s = services) != NULL) {
		services = s->next;
		msvc_free(s);
	}
	memset(dns_counts, 0, sizeof(dns_counts));
	dns_dropped = 0;
}

/* ---- the page ---- */

/* A label value: backslash, double quote and newline escaped (0.0.4). */
static void
put_value(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			fputs("\\\\", out);
		else if (*v == '"')
			fputs("\\\"", out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void
family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} (k2 may be NULL), without the value. */
static void
series(FILE *out, const char *name, const char *k1, const char *v1,
    const char *k2, const char *v2)
{
	fprintf(out, "%s{%s=\"", name, k1);
	put_value(out, v1);
	if (k2 != NULL) {
		fprintf(out, "\",%s=\"", k2);
		put_value(out, v2);
	}
	fputs("\"}", out);
}

/* Whether the registry still has a service called name (NULL: yes). */
static bool
svc_live(const struct registry *r, const char *name)
{
	const struct svc *s;

	if (r == NULL)
		return true;
	TAILQ_FOREACH(s, registry_services(r), entry)
	if (!s->removed && strcmp(s->name, name) == 0)
		return true;
	return false;
}

/* Services a reload removed leave the page (and their counters go);
 * every live one is on it, with zeros until something happens. */
static void
prune(const struct registry *r)
{
	struct msvc *s, **prev = &services;
	const struct svc *v;

	if (r != NULL) {
		TAILQ_FOREACH(v, registry_services(r), entry)
		{
			if (!v->removed)
				(void)msvc_get(v->name);
		}
	}
	while ((s = *prev) != NULL) {
		if (svc_live(r, s->name)) {
			prev = &s->next;
			continue;
		}
		*prev = s->next;
		msvc_free(s);
	}
}

static void
page_dns(FILE *out)
{
	size_t t, rc;

	family(out, "summoner_dns_queries_total", "counter",
	    "DNS queries answered, by query type and response code.");
	for (t = 0; t < NQTSLOTS; t++)
		for (rc = 0; rc < NRCSLOTS; rc++) {
			if (dns_counts[t][rc] == 0)
				continue;
			series(out, "summoner_dns_queries_total", "type",
			    t < NQTYPES     ? qtypes[t].name
			    : t == QT_OTHER ? "OTHER"
			                    : "NONE",
			    "rcode", rcode_names[rc]);
			fprintf(out, " %" PRIu64 "\n", dns_counts[t][rc]);
		}
	family(out, "summoner_dns_queries_dropped_total", "counter",
	    "DNS packets not answered (not a query, or no room for an "
	    "answer).");
	fprintf(out, "summoner_dns_queries_dropped_total %" PRIu64 "\n",
	    dns_dropped);
}

static void
page_summons(FILE *out)
{
	const struct msvc *s;
	const struct hist *h;
	uint64_t cum;
	size_t k, i;

	family(out, "summoner_summons_total", "counter",
	    "Summons by service and kind: cold (a boot), warm (a resume "
	    "from the pool), coalesced (a query that joined one under way).");
	for (s = services; s != NULL; s = s->next)
		for (k = 0; k < METRICS_SUMMON_NKINDS; k++) {
			series(out, "summoner_summons_total", "service",
			    s->name, "kind", summon_kinds[k]);
			fprintf(out, " %" PRIu64 "\n", s->summons[k]);
		}
	family(out, "summoner_summon_duration_seconds", "histogram",
	    "Time from a query that waited for a summon to its answer.");
	for (s = services; s != NULL; s = s->next)
		for (k = 0; k < 2; k++) {
			h = &s->latency[k];
			cum = 0;
			for (i = 0; i <= METRICS_LATENCY_BUCKETS; i++) {
				cum += h->n[i];
				fputs("summoner_summon_duration_seconds_bucket{"
				      "service=\"",
				    out);
				put_value(out, s->name);
				fprintf(out,
				    "\",kind=\"%s\",le=\"%s\"} %" PRIu64 "\n",
				    summon_kinds[k],
				    i < METRICS_LATENCY_BUCKETS ? bucket_le[i]
				                                : "+Inf",
				    cum);
			}
			series(out, "summoner_summon_duration_seconds_sum",
			    "service", s->name, "kind", summon_kinds[k]);
			fprintf(out, " %" PRIu64 ".%09" PRIu64 "\n",
			    h->sum_ns / NS_PER_S, h->sum_ns % NS_PER_S);
			series(out, "summoner_summon_duration_seconds_count",
			    "service", s->name, "kind", summon_kinds[k]);
			fprintf(out, " %" PRIu64 "\n", h->count);
		}
}

static void
page_health(FILE *out)
{
	const struct msvc *s;
	const struct lctr *c;

	family(out, "summoner_faults_total", "counter",
	    "Guest faults reported by the backends, by service and kind.");
	for (s = services; s != NULL; s = s->next)
		for (c = s->faults; c != NULL; c = c->next) {
			series(out, "summoner_faults_total", "service", s->name,
			    "kind", c->a);
			fprintf(out, " %" PRIu64 "\n", c->n);
		}
	family(out, "summoner_policy_decisions_total", "counter",
	    "Policy decisions, by service, event and action.");
	for (s = services; s != NULL; s = s->next)
		for (c = s->decisions; c != NULL; c = c->next) {
			fputs(
			    "summoner_policy_decisions_total{service=\"", out);
			put_value(out, s->name);
			fputs("\",event=\"", out);
			put_value(out, c->a);
			fputs("\",action=\"", out);
			put_value(out, c->b);
			fprintf(out, "\"} %" PRIu64 "\n", c->n);
		}
	family(out, "summoner_heartbeat_misses_total", "counter",
	    "Heartbeat deadlines passed, by service.");
	for (s = services; s != NULL; s = s->next) {
		series(out, "summoner_heartbeat_misses_total", "service",
		    s->name, NULL, NULL);
		fprintf(out, " %" PRIu64 "\n", s->hb_misses);
	}
}

/* VmRSS of pid in bytes; -1 when it cannot be read (it just ended). */
static long long
rss_bytes(long pid)
{
	char path[64], line[128];
	long long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb < 0 ? -1 : kb * 1024;
}

/* Gauges read from the registry at scrape time. */
static void
page_registry(FILE *out, const struct registry *r)
{
	const struct svc *s;
	const struct inst *in;
	unsigned n[IS_NSTATES + 1], i;
	long pid;
	long long rss;

	family(out, "summoner_instances", "gauge",
	    "Instances by service and lifecycle state; warm-pool instances "
	    "(paused before their entry) count as state \"warm\".");
	TAILQ_FOREACH(s, registry_services(r), entry)
	{
		if (s->removed)
			continue;
		memset(n, 0, sizeof(n));
		TAILQ_FOREACH(in, &s->insts, entry)
		n[in->warm ? IS_NSTATES : in->st.state]++;
		for (i = 0; i <= IS_NSTATES; i++) {
			series(out, "summoner_instances", "service", s->name,
			    "state",
			    i < IS_NSTATES ? istate_name((int)i) : "warm");
			fprintf(out, " %u\n", n[i]);
		}
	}
	family(out, "summoner_quarantine_slots_used", "gauge",
	    "Instances of the service now quarantined.");
	TAILQ_FOREACH(s, registry_services(r), entry)
	{
		if (s->removed)
			continue;
		series(out, "summoner_quarantine_slots_used", "service",
		    s->name, NULL, NULL);
		fprintf(out, " %u\n", s->quarantined);
	}
	family(out, "summoner_tender_rss_bytes", "gauge",
	    "Resident memory of each instance's process (the tender, or the "
	    "exec backend's command); libvirt domains are not listed.");
	TAILQ_FOREACH(s, registry_services(r), entry)
	{
		TAILQ_FOREACH(in, &s->insts, entry)
		{
			pid = in->adopted_pid;
			if (pid <= 0 && in->bdata != NULL && in->ops != NULL &&
			    in->ops->pid != NULL)
				pid = in->ops->pid(in);
			if (pid <= 0 || (rss = rss_bytes(pid)) < 0)
				continue;
			fprintf(out, "summoner_tender_rss_bytes{service=\"");
			put_value(out, s->name);
			fprintf(out, "\",id=\"%u\"} %lld\n", in->st.id, rss);
		}
	}
}

char *
metrics_page(const struct registry *r, size_t *len)
{
	char *buf = NULL;
	FILE *out;

	*len = 0;
	if ((out = open_memstream(&buf, len)) == NULL)
		return NULL;
	prune(r);
	page_dns(out);
	page_summons(out);
	page_health(out);
	if (r != NULL)
		page_registry(out, r);
	if (ferror(out)) {
		fclose(out);
		free(buf);
		*len = 0;
		errno = ENOMEM;
		return NULL;
	}
	if (fclose(out) != 0) {
		free(buf);
		*len = 0;
		return NULL;
	}
	return buf;
}
