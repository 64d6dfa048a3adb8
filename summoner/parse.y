/*
 * parse.y: the summoner configuration grammar and its lexer.
 *
 * Newlines end statements, as in OpenBSD's daemons; a syntax error skips to
 * the end of the line so that one run reports every error.  Semantic checks
 * that need the whole file (zones of services, duplicates, limits) are in
 * config_validate(), config.c.
 */
%{
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"
#include "policies/policy.h"

#define MAXINCLUDE 16
#define MAXWORD 1024
/* Freed values must not reach the %destructor again after YYERROR. */
#define FREE(p) do { free(p); (p) = NULL; } while (0)

struct file {
	FILE *fp;
	char *name;
	int lineno;
	int owned;       /* fp is ours to close */
	int nl_pending;  /* a '\n' was returned: count it on the next token */
	int eof_nl_done; /* the '\n' at end of file has been returned */
	int start_nl;    /* return '\n' first: ends the include statement */
	dev_t dev;
	ino_t ino;
};

static struct file files[MAXINCLUDE];
static int nfiles;
static struct file *file;
static struct config *conf;
static struct cfg_zone *zone;
static struct cfg_service *svc;
static FILE *errout;
static int errors;
static char lasttok[64];
/* Policy blocks: the lexer hands their lines over as plain words (no
 * keywords, no numbers), so that words like "restart" or "stall" stay
 * free for names everywhere else.  polstate: 0 outside, 1 after `policy`,
 * 2 after its name, 3 inside the braces (rawdepth: braces of exit sets). */
static int polstate, rawdepth;
static struct policy *pol;
static char *pwords[64];
static size_t npwords;
static int pwline, pwtoomany;

int yylex(void);
int yyerror(const char *, ...) __attribute__((format(printf, 1, 2)));
static int pushfile(const char *, FILE *);
static void popfile(void);
static int parse_size(const char *, uint64_t *);
static int parse_time(const char *, uint64_t *);
static int dns_seconds(const char *, uint64_t, uint32_t *);
static char *zname(const char *);
static int addarg(char *);
static void pwords_clear(void);
static void policy_line(void);
static void metrics_on(const char *, uint16_t);

typedef struct {
	union {
		int64_t number;
		uint64_t u64;
		char *string;
	} v;
} YYSTYPE;
#define YYSTYPE_IS_DECLARED 1
%}

%token ADDRESS ARGS BACKEND BLOCK BOOTON BOOTRATE BRIDGE COMMAND EXEC EXPIRE
%token GATEWAY HVT IDLETIMEOUT IMAGE INCLUDE LIBVIRT LISTEN MAXBOOTS
%token MAXINSTANCES MEMORY MEMBUDGET MINIMUM MNAME NET NS ON PERCLIENT
%token PORT PREFIX READYAFTER READYDEADLINE REFRESH RETRY RNAME SERIAL SERVICE SOA
%token STATEDIR TENDER TTL WARM ZONE POLICY DEFAULTPOLICY URI DOMAINXML
%token DOMAIN
%token METRICS
%token <v.string> STRING
%token <v.number> NUMBER
%type <v.u64> size time
%type <v.number> port
%type <v.string> devname
%destructor { free($$); } <v.string>

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar include '\n'
		| grammar main '\n'
		| grammar zone '\n'
		| grammar service '\n'
		| grammar policy '\n'
		| grammar error '\n'	{ yyerrok; }
		;

optnl		: /* empty */
		| optnl '\n'
		;

nl		: '\n' optnl
		;

include		: INCLUDE STRING {
			if (pushfile($2, NULL) == -1)
				errors++;
			FREE($2);
		}
		;

size		: NUMBER {
			if ($1 < 0) {
				yyerror("invalid size: %" PRId64, $1);
				YYERROR;
			}
			$$ = (uint64_t)$1;
		}
		| STRING {
			if (parse_size($1, &$$) == -1) {
				FREE($1);
				YYERROR;
			}
			FREE($1);
		}
		;

time		: NUMBER {
			if ($1 < 0 || (uint64_t)$1 > UINT64_MAX / 1000) {
				yyerror("invalid time: %" PRId64, $1);
				YYERROR;
			}
			$$ = (uint64_t)$1 * 1000;
		}
		| STRING {
			if (parse_time($1, &$$) == -1) {
				FREE($1);
				YYERROR;
			}
			FREE($1);
		}
		;

port		: /* empty */		{ $$ = 53; }
		| PORT NUMBER {
			if ($2 < 1 || $2 > 65535) {
				yyerror("invalid port: %" PRId64, $2);
				YYERROR;
			}
			$$ = $2;
		}
		;

main		: LISTEN ON STRING port {
			struct cfg_listen *l;

			if ((l = calloc(1, sizeof(*l))) == NULL ||
			    (l->file = strdup(file->name)) == NULL) {
				free(l);
				FREE($3);
				yyerror("out of memory");
				YYERROR;
			}
			l->line = file->lineno;
			l->port = (uint16_t)$4;
			if (config_ip($3, &l->ip) == -1) {
				yyerror("invalid address: %s", $3);
				free(l->file);
				free(l);
			} else
				TAILQ_INSERT_TAIL(&conf->listens, l, entry);
			FREE($3);
		}
		| MAXINSTANCES NUMBER {
			if ($2 < 1 || $2 > 1000000) {
				yyerror("max-instances out of range (1 to 1000000): %" PRId64, $2);
				YYERROR;
			}
			conf->max_instances = (uint32_t)$2;
		}
		| MAXBOOTS NUMBER {
			if ($2 < 1 || $2 > 100000) {
				yyerror("max-concurrent-boots out of range (1 to 100000): %" PRId64, $2);
				YYERROR;
			}
			conf->max_concurrent_boots = (uint32_t)$2;
		}
		| BOOTRATE NUMBER PERCLIENT {
			if ($2 < 1 || $2 > 1000000) {
				yyerror("boot-rate out of range (1 to 1000000): %" PRId64, $2);
				YYERROR;
			}
			conf->boot_rate = (uint32_t)$2;
		}
		| MEMBUDGET size {
			if ($2 == 0) {
				yyerror("memory-budget must not be 0");
				YYERROR;
			}
			conf->memory_budget = $2;
		}
		| TENDER STRING {
			free(conf->tender);
			conf->tender = $2;
		}
		| STATEDIR STRING {
			free(conf->state_dir);
			conf->state_dir = $2;
		}
		| BRIDGE STRING {
			struct cfg_bridge *b;

			if (!config_ifname_ok($2)) {
				yyerror("invalid bridge name %s (1 to 15 letters, "
				    "digits, -, _ and .)", $2);
				FREE($2);
				YYERROR;
			}
			if ((b = calloc(1, sizeof(*b))) == NULL ||
			    (b->file = strdup(file->name)) == NULL) {
				free(b);
				FREE($2);
				yyerror("out of memory");
				YYERROR;
			}
			/* b owns the name now, not the parser's stack. */
			b->name = $2;
			$2 = NULL;
			b->prefix = -1;
			b->line = file->lineno;
			TAILQ_INSERT_TAIL(&conf->bridges, b, entry);
		} braddr
		| METRICS ON		{ metrics_on("127.0.0.1", CFG_METRICS_PORT); }
		| METRICS ON STRING {
			metrics_on($3, CFG_METRICS_PORT);
			FREE($3);
		}
		| METRICS ON STRING PORT NUMBER {
			if ($5 < 1 || $5 > 65535) {
				yyerror("invalid port: %" PRId64, $5);
				FREE($3);
				YYERROR;
			}
			metrics_on($3, (uint16_t)$5);
			FREE($3);
		}
		| METRICS STRING {
			/* "off" is a word, not a keyword: it stays free for
			 * names elsewhere. */
			if (strcmp($2, "off") != 0)
				yyerror("metrics: expected on or off, not %s", $2);
			else
				memset(&conf->metrics_ip, 0,
				    sizeof(conf->metrics_ip));
			FREE($2);
		}
		| DEFAULTPOLICY STRING {
			free(conf->default_policy);
			conf->default_policy = $2;
			conf->default_policy_line = file->lineno;
			free(conf->default_policy_file);
			if ((conf->default_policy_file = strdup(file->name)) == NULL) {
				yyerror("out of memory");
				YYERROR;
			}
		}
		;

policy		: POLICY STRING {
			if (!config_policy_name_ok($2)) {
				yyerror("invalid policy name %s (letters, digits, "
				    "-, _ and ., at most 63)", $2);
				FREE($2);
				YYERROR;
			}
			pol = config_policy_new(conf, $2, file->name, file->lineno);
			FREE($2);
			if (pol == NULL) {
				yyerror("out of memory");
				YYERROR;
			}
		} '{' optnl polrules '}' {
			char err[256];

			if (policy_finish(pol, err, sizeof(err)) == -1) {
				config_error(errout, pol->file, pol->line, "%s", err);
				errors++;
			}
			pol = NULL;
		}
		;

polrules	: /* empty */
		| polrules polline nl
		| polrules error nl	{ pwords_clear(); yyerrok; }
		;

polline		: words			{ policy_line(); }
		;

words		: STRING {
			pwords_clear();
			pwline = file->lineno;
			pwords[npwords++] = $1;
		}
		| words STRING {
			if (npwords == sizeof(pwords) / sizeof(pwords[0])) {
				pwtoomany = 1;
				free($2);
			} else
				pwords[npwords++] = $2;
		}
		;

zone		: ZONE STRING {
			char *n;

			n = zname($2);
			FREE($2);
			if (n == NULL)
				YYERROR;
			zone = config_zone_new(conf, n, file->name, file->lineno);
			if (zone == NULL) {
				yyerror("out of memory");
				YYERROR;
			}
		} '{' optnl zoneopts '}' {
			zone = NULL;
		}
		;

zoneopts	: /* empty */
		| zoneopts zoneopt nl
		| zoneopts error nl	{ yyerrok; }
		;

zoneopt		: SOA '{' optnl soaopts '}'
		| NS STRING {
			struct cfg_name *ns;
			const char *why;
			char *n;

			if ((n = config_name($2, zone->name, &why)) == NULL) {
				yyerror("invalid name %s: %s", $2, why);
				FREE($2);
				YYERROR;
			}
			FREE($2);
			if ((ns = calloc(1, sizeof(*ns))) == NULL) {
				free(n);
				yyerror("out of memory");
				YYERROR;
			}
			ns->name = n;
			TAILQ_INSERT_TAIL(&zone->ns, ns, entry);
		}
		| TTL time {
			if (dns_seconds("ttl", $2, &zone->ttl) == -1)
				YYERROR;
		}
		;

soaopts		: /* empty */
		| soaopts soaopt optnl
		;

soaopt		: MNAME STRING {
			const char *why;
			char *n;

			if ((n = config_name($2, zone->name, &why)) == NULL) {
				yyerror("invalid name %s: %s", $2, why);
				FREE($2);
				YYERROR;
			}
			FREE($2);
			free(zone->mname);
			zone->mname = n;
		}
		| RNAME STRING {
			const char *why;
			char *n;

			if ((n = config_name($2, zone->name, &why)) == NULL) {
				yyerror("invalid name %s: %s", $2, why);
				FREE($2);
				YYERROR;
			}
			FREE($2);
			free(zone->rname);
			zone->rname = n;
		}
		| SERIAL NUMBER {
			if ($2 < 0 || $2 > UINT32_MAX) {
				yyerror("serial out of range (0 to 4294967295): %" PRId64, $2);
				YYERROR;
			}
			zone->serial = (uint32_t)$2;
		}
		| REFRESH time	{ if (dns_seconds("refresh", $2, &zone->refresh) == -1) YYERROR; }
		| RETRY time	{ if (dns_seconds("retry", $2, &zone->retry) == -1) YYERROR; }
		| EXPIRE time	{ if (dns_seconds("expire", $2, &zone->expire) == -1) YYERROR; }
		| MINIMUM time	{ if (dns_seconds("minimum", $2, &zone->minimum) == -1) YYERROR; }
		;

service		: SERVICE STRING {
			/* svc owns the name now, not the parser's stack. */
			svc = config_service_new(conf, $2, file->name, file->lineno);
			$2 = NULL;
			if (svc == NULL) {
				yyerror("out of memory");
				YYERROR;
			}
		} '{' optnl svcopts '}' {
			svc = NULL;
		}
		;

svcopts		: /* empty */
		| svcopts svcopt nl
		| svcopts error nl	{ yyerrok; }
		;

svcopt		: ZONE STRING {
			char *n;

			n = zname($2);
			FREE($2);
			if (n == NULL)
				YYERROR;
			free(svc->zone_name);
			svc->zone_name = n;
		}
		| BACKEND HVT		{ svc->backend = CFG_BACKEND_HVT; }
		| BACKEND LIBVIRT	{ svc->backend = CFG_BACKEND_LIBVIRT; }
		| BACKEND EXEC		{ svc->backend = CFG_BACKEND_EXEC; }
		| BACKEND STRING {
			yyerror("unknown backend %s (hvt, libvirt or exec)", $2);
			FREE($2);
			YYERROR;
		}
		| IMAGE STRING {
			free(svc->image);
			svc->image = $2;
		}
		| ARGS {
			size_t i;

			for (i = 0; i < svc->argc; i++)
				free(svc->argv[i]);
			free(svc->argv);
			svc->argv = NULL;
			svc->argc = 0;
		} arglist
		| COMMAND STRING {
			/* Split and checked in config_validate(), where the
			 * service's devices and addresses are known. */
			free(svc->command);
			svc->command = $2;
			svc->command_line = file->lineno;
		}
		| URI STRING {
			/* libvirt alone: config_validate() says so. */
			free(svc->uri);
			svc->uri = $2;
			svc->libvirt_line = file->lineno;
		}
		| DOMAIN STRING {
			free(svc->domain);
			svc->domain = $2;
			svc->libvirt_line = file->lineno;
		}
		| DOMAINXML STRING {
			free(svc->domain_xml);
			svc->domain_xml = $2;
			svc->libvirt_line = file->lineno;
		}
		| READYAFTER time {
			if ($2 == 0) {
				yyerror("ready-after must not be 0");
				YYERROR;
			}
			svc->ready_after = $2;
			svc->ready_after_line = file->lineno;
		}
		| MEMORY size {
			if ($2 < 1024 * 1024) {
				yyerror("memory too small (at least 1M): %" PRIu64, $2);
				YYERROR;
			}
			svc->memory = $2;
		}
		| NET devname bridge {
			struct cfg_device *d;

			if ((d = calloc(1, sizeof(*d))) == NULL) {
				FREE($2);
				FREE($<v.string>3);
				yyerror("out of memory");
				YYERROR;
			}
			d->kind = CFG_DEV_NET;
			d->name = $2;
			d->bridge = $<v.string>3;
			d->line = file->lineno;
			TAILQ_INSERT_TAIL(&svc->devices, d, entry);
		}
		| BLOCK STRING STRING {
			struct cfg_device *d;

			if ((d = calloc(1, sizeof(*d))) == NULL) {
				FREE($2);
				FREE($3);
				yyerror("out of memory");
				YYERROR;
			}
			d->kind = CFG_DEV_BLOCK;
			d->name = $2;
			d->path = $3;
			d->line = file->lineno;
			TAILQ_INSERT_TAIL(&svc->devices, d, entry);
		}
		| ADDRESS STRING {
			struct cfg_address *a;

			if ((a = calloc(1, sizeof(*a))) == NULL) {
				FREE($2);
				yyerror("out of memory");
				YYERROR;
			}
			a->prefix = -1;
			a->line = file->lineno;
			if (config_ip($2, &a->ip) == -1) {
				yyerror("invalid address: %s", $2);
				free(a);
			} else
				TAILQ_INSERT_TAIL(&svc->addresses, a, entry);
			FREE($2);
		} addropts
		| TTL time {
			if (dns_seconds("ttl", $2, &svc->ttl) == -1)
				YYERROR;
		}
		| IDLETIMEOUT time {
			if ($2 == 0) {
				yyerror("idle-timeout must not be 0");
				YYERROR;
			}
			svc->idle_timeout = $2;
		}
		| READYDEADLINE time {
			if ($2 == 0) {
				yyerror("ready-deadline must not be 0");
				YYERROR;
			}
			svc->ready_deadline = $2;
		}
		| WARM NUMBER {
			if ($2 < 0 || $2 > 1000000) {
				yyerror("warm out of range (0 to 1000000): %" PRId64, $2);
				YYERROR;
			}
			svc->warm = (uint32_t)$2;
		}
		| POLICY STRING {
			free(svc->policy_name);
			svc->policy_name = $2;
			svc->policy_line = file->lineno;
		}
		| BOOTON '{' { svc->nboot_on = 0; } optnl typelist '}' {
			if (svc->nboot_on == 0) {
				yyerror("boot-on: empty list");
				YYERROR;
			}
		}
		;

arglist		: STRING		{ if (addarg($1) == -1) YYERROR; }
		| arglist STRING	{ if (addarg($2) == -1) YYERROR; }
		;

/* "service" is the device name of Solo5's convention: a keyword allowed. */
devname		: STRING		{ $$ = $1; }
		| SERVICE {
			if (($$ = strdup("service")) == NULL) {
				yyerror("out of memory");
				YYERROR;
			}
		}
		;

bridge		: /* empty */		{ $<v.string>$ = NULL; }
		| BRIDGE STRING		{ $<v.string>$ = $2; }
		;

braddr		: /* empty */
		| ADDRESS STRING PREFIX NUMBER {
			struct cfg_bridge *b = TAILQ_LAST(&conf->bridges, cfg_bridge_q);
			int max;

			if (config_ip($2, &b->ip) == -1) {
				yyerror("invalid address: %s", $2);
				FREE($2);
				YYERROR;
			}
			FREE($2);
			max = b->ip.af == AF_INET ? 32 : 128;
			if ($4 < 0 || $4 > max) {
				yyerror("invalid prefix length %" PRId64 " (0 to %d)", $4, max);
				b->ip.af = 0;
				YYERROR;
			}
			b->prefix = (int)$4;
		}
		| ADDRESS STRING {
			yyerror("bridge address %s needs a prefix "
			    "(address ADDR prefix N)", $2);
			FREE($2);
			YYERROR;
		}
		;

addropts	: /* empty */
		| addropts PREFIX NUMBER {
			struct cfg_address *a = TAILQ_LAST(&svc->addresses, cfg_address_q);
			int max;

			if (a != NULL && a->line == file->lineno) {
				max = a->ip.af == AF_INET ? 32 : 128;
				if ($3 < 0 || $3 > max) {
					yyerror("invalid prefix length %" PRId64 " (0 to %d)", $3, max);
					YYERROR;
				}
				a->prefix = (int)$3;
			}
		}
		| addropts GATEWAY STRING {
			struct cfg_address *a = TAILQ_LAST(&svc->addresses, cfg_address_q);

			if (a != NULL && a->line == file->lineno) {
				if (config_ip($3, &a->gateway) == -1)
					yyerror("invalid gateway: %s", $3);
				else if (a->gateway.af != a->ip.af)
					yyerror("gateway %s is not of the address family of the address", $3);
			}
			FREE($3);
		}
		;

typelist	: /* empty */
		| typelist STRING optnl {
			ldns_rr_type t;
			size_t i, j;

			t = ldns_get_rr_type_by_name($2);
			if (t == 0) {
				yyerror("unknown query type %s", $2);
				FREE($2);
				YYERROR;
			}
			FREE($2);
			for (i = 0; i < svc->nboot_on && svc->boot_on[i] < t; i++)
				;
			if (i == svc->nboot_on || svc->boot_on[i] != t) {
				if (svc->nboot_on == CFG_MAX_BOOT_ON) {
					yyerror("boot-on: too many types");
					YYERROR;
				}
				for (j = svc->nboot_on; j > i; j--)
					svc->boot_on[j] = svc->boot_on[j - 1];
				svc->boot_on[i] = (uint16_t)t;
				svc->nboot_on++;
			}
		}
		;

%%

struct keyword {
	const char *name;
	int token;
};

static const struct keyword keywords[] = {
	{ "address", ADDRESS },
	{ "args", ARGS },
	{ "backend", BACKEND },
	{ "block", BLOCK },
	{ "boot-on", BOOTON },
	{ "boot-rate", BOOTRATE },
	{ "bridge", BRIDGE },
	{ "command", COMMAND },
	{ "default-policy", DEFAULTPOLICY },
	{ "domain", DOMAIN },
	{ "domain-xml", DOMAINXML },
	{ "exec", EXEC },
	{ "expire", EXPIRE },
	{ "gateway", GATEWAY },
	{ "hvt", HVT },
	{ "idle-timeout", IDLETIMEOUT },
	{ "image", IMAGE },
	{ "include", INCLUDE },
	{ "libvirt", LIBVIRT },
	{ "listen", LISTEN },
	{ "max-concurrent-boots", MAXBOOTS },
	{ "max-instances", MAXINSTANCES },
	{ "memory", MEMORY },
	{ "memory-budget", MEMBUDGET },
	{ "metrics", METRICS },
	{ "minimum", MINIMUM },
	{ "mname", MNAME },
	{ "net", NET },
	{ "ns", NS },
	{ "on", ON },
	{ "per-client", PERCLIENT },
	{ "policy", POLICY },
	{ "port", PORT },
	{ "prefix", PREFIX },
	{ "ready-after", READYAFTER },
	{ "ready-deadline", READYDEADLINE },
	{ "refresh", REFRESH },
	{ "retry", RETRY },
	{ "rname", RNAME },
	{ "serial", SERIAL },
	{ "service", SERVICE },
	{ "soa", SOA },
	{ "state-dir", STATEDIR },
	{ "tender", TENDER },
	{ "ttl", TTL },
	{ "uri", URI },
	{ "warm", WARM },
	{ "zone", ZONE },
};

static int
kw_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct keyword *)e)->name);
}

int
yyerror(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	errors++;
	if (errout == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(msg, "syntax error") == 0) {
		if (lasttok[0] == '\0')
			config_error(errout, file->name, file->lineno, "syntax error at end of line");
		else
			config_error(errout, file->name, file->lineno, "syntax error at \"%s\"", lasttok);
	} else
		config_error(errout, file->name, file->lineno, "%s", msg);
	return 0;
}

static int
isword(int c)
{
	if (polstate == 3)
		/* `exit !0`, `uptime < 5s` */
		return isgraph(c) && strchr("{}\"#", c) == NULL;
	return isalnum(c) || strchr("-_./:*+@%,=~", c) != NULL;
}

static void
settok(const char *s)
{
	size_t n = strnlen(s, sizeof(lasttok) - 1);

	memcpy(lasttok, s, n);
	lasttok[n] = '\0';
}

static int lex(void);

int
yylex(void)
{
	int t;

	t = lex();
	if (polstate == 3)
		return t;
	if (t == POLICY)
		polstate = 1;
	else if (polstate == 1 && t == STRING)
		polstate = 2;
	else if (polstate == 2 && t == '{') {
		polstate = 3;
		rawdepth = 0;
	} else
		polstate = 0;
	return t;
}

static int
lex(void)
{
	char buf[MAXWORD + 1];
	const struct keyword *kw;
	size_t len;
	int c, quoted;

top:
	if (file->nl_pending) {
		file->lineno++;
		file->nl_pending = 0;
	}
	if (file->start_nl) {
		file->start_nl = 0;
		lasttok[0] = '\0';
		return '\n';
	}
	while ((c = getc(file->fp)) == ' ' || c == '\t' || c == '\r')
		;
	if (c == '#')
		while ((c = getc(file->fp)) != '\n' && c != EOF)
			;
	if (c == EOF) {
		if (!file->eof_nl_done) {
			/* The last line need not end in a newline. */
			file->eof_nl_done = 1;
			lasttok[0] = '\0';
			return '\n';
		}
		if (nfiles == 1)
			return 0;
		popfile();
		goto top;
	}
	if (c == '\n') {
		file->nl_pending = 1;
		lasttok[0] = '\0';
		rawdepth = 0;
		return '\n';
	}
	if (c == '{' || c == '}') {
		lasttok[0] = (char)c;
		lasttok[1] = '\0';
		if (polstate == 3 && (c == '{' || rawdepth > 0)) {
			/* An exit set's braces: words of the rule. */
			rawdepth += c == '{' ? 1 : -1;
			if ((yylval.v.string = strdup(lasttok)) == NULL) {
				yyerror("out of memory");
				return 0;
			}
			return STRING;
		}
		if (polstate == 3)
			polstate = 0;
		return c;
	}
	len = 0;
	quoted = 0;
	if (c == '"') {
		quoted = 1;
		for (;;) {
			c = getc(file->fp);
			if (c == EOF || c == '\n') {
				if (c == '\n')
					ungetc(c, file->fp);
				yyerror("unterminated string");
				goto top;
			}
			if (c == '"')
				break;
			if (c == '\\') {
				c = getc(file->fp);
				if (c != '"' && c != '\\') {
					if (c == '\n' || c == EOF)
						ungetc(c, file->fp);
					yyerror("invalid escape in string");
					goto skip;
				}
			}
			if (c == '\0') {
				yyerror("NUL byte in string");
				goto skip;
			}
			if (len == MAXWORD) {
				yyerror("string too long");
				goto skip;
			}
			buf[len++] = (char)c;
		}
	} else if (isword(c)) {
		do {
			if (len == MAXWORD) {
				yyerror("word too long");
				goto skip;
			}
			buf[len++] = (char)c;
		} while ((c = getc(file->fp)) != EOF && isword(c));
		ungetc(c, file->fp);
	} else {
		if (isprint(c))
			yyerror("unexpected character '%c'", c);
		else
			yyerror("unexpected character 0x%02x", c);
		goto top;
	}
	buf[len] = '\0';
	settok(buf);
	if (!quoted && polstate != 3) {
		if ((kw = bsearch(buf, keywords, sizeof(keywords) / sizeof(keywords[0]),
		    sizeof(keywords[0]), kw_cmp)) != NULL)
			return kw->token;
		if (strspn(buf, "0123456789") == len) {
			errno = 0;
			yylval.v.number = (int64_t)strtoll(buf, NULL, 10);
			if (errno == ERANGE) {
				yyerror("number too large: %s", buf);
				yylval.v.number = -1;
			}
			return NUMBER;
		}
	}
	if ((yylval.v.string = strdup(buf)) == NULL) {
		yyerror("out of memory");
		return 0;
	}
	return STRING;

skip:
	/* Drop the rest of a bad token so one mistake makes one error. */
	while ((c = getc(file->fp)) != EOF && c != '\n' && c != '"')
		;
	if (c == '\n')
		ungetc(c, file->fp);
	goto top;
}

/*
 * Open path (or use fp) and make it the current file.  An included path is
 * relative to the directory of the file that includes it.
 */
static int
pushfile(const char *path, FILE *fp)
{
	struct file *nf;
	struct stat st;
	char *name = NULL;
	const char *slash;
	int i;

	if (nfiles == MAXINCLUDE) {
		yyerror("includes nested too deeply: %s", path);
		return -1;
	}
	if (file != NULL && path[0] != '/' && (slash = strrchr(file->name, '/')) != NULL) {
		if (asprintf(&name, "%.*s/%s", (int)(slash - file->name), file->name, path) == -1)
			name = NULL;
	} else
		name = strdup(path);
	if (name == NULL) {
		if (file != NULL)
			yyerror("out of memory");
		return -1;
	}
	nf = &files[nfiles];
	memset(nf, 0, sizeof(*nf));
	nf->name = name;
	nf->lineno = 1;
	if (fp == NULL) {
		if ((fp = fopen(name, "r")) == NULL) {
			if (file != NULL)
				yyerror("%s: %s", name, strerror(errno));
			else if (errout != NULL)
				fprintf(errout, "%s: %s\n", name, strerror(errno));
			free(name);
			return -1;
		}
		nf->owned = 1;
		if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
			if (file != NULL)
				yyerror("%s: not a regular file", name);
			else if (errout != NULL)
				fprintf(errout, "%s: not a regular file\n", name);
			fclose(fp);
			free(name);
			return -1;
		}
		for (i = 0; i < nfiles; i++) {
			if (files[i].owned && files[i].dev == st.st_dev && files[i].ino == st.st_ino) {
				yyerror("include loop: %s", name);
				fclose(fp);
				free(name);
				return -1;
			}
		}
		nf->dev = st.st_dev;
		nf->ino = st.st_ino;
	}
	nf->fp = fp;
	polstate = 0;
	/* The include statement still wants its newline. */
	nf->start_nl = file != NULL;
	nfiles++;
	file = nf;
	return 0;
}

static void
popfile(void)
{
	struct file *f = &files[nfiles - 1];

	if (f->owned)
		fclose(f->fp);
	free(f->name);
	nfiles--;
	file = nfiles > 0 ? &files[nfiles - 1] : NULL;
	polstate = 0;
}

static void
pwords_clear(void)
{
	size_t i;

	for (i = 0; i < npwords; i++)
		free(pwords[i]);
	npwords = 0;
	pwtoomany = 0;
}

/* `metrics on ADDR [port N]`: the last such line wins, as for tender. */
static void
metrics_on(const char *addr, uint16_t port)
{
	if (config_ip(addr, &conf->metrics_ip) == -1) {
		yyerror("metrics: invalid address: %s", addr);
		return;
	}
	conf->metrics_port = port;
}

/* One line of a policy block, in pwords. */
static void
policy_line(void)
{
	char err[256];

	if (pol == NULL)
		;
	else if (pwtoomany) {
		config_error(errout, file->name, pwline,
		    "too many words (at most %zu)",
		    sizeof(pwords) / sizeof(pwords[0]));
		errors++;
	} else if (policy_add_line(pol, pwords, npwords, pwline, err,
	    sizeof(err)) == -1) {
		config_error(errout, file->name, pwline, "%s", err);
		errors++;
	}
	pwords_clear();
}

/* Sizes: bytes, or a number with K, M, G or T (powers of 1024). */
static int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto big;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'K': case 'k': mul = 1ull << 10; break;
	case 'M': case 'm': mul = 1ull << 20; break;
	case 'G': case 'g': mul = 1ull << 30; break;
	case 'T': case 't': mul = 1ull << 40; break;
	default: goto bad;
	}
	if (p[1] != '\0')
		goto bad;
	if (v > UINT64_MAX / mul)
		goto big;
	*out = v * mul;
	return 0;
bad:
	yyerror("invalid size %s (a number with K, M, G or T)", s);
	return -1;
big:
	yyerror("size too large: %s", s);
	return -1;
}

/* Times: a number of ms, s, m, h or d; in milliseconds. */
static int
parse_time(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto big;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (strcmp(p, "ms") == 0)
		mul = 1;
	else if (strcmp(p, "s") == 0)
		mul = 1000;
	else if (strcmp(p, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(p, "d") == 0)
		mul = 86400 * 1000;
	else
		goto bad;
	if (v > UINT64_MAX / mul)
		goto big;
	*out = v * mul;
	return 0;
bad:
	yyerror("invalid time %s (a number with ms, s, m, h or d)", s);
	return -1;
big:
	yyerror("time too large: %s", s);
	return -1;
}

/* DNS times travel as 32-bit seconds (RFC 2181 caps them at 2^31 - 1). */
static int
dns_seconds(const char *what, uint64_t ms, uint32_t *out)
{
	if (ms % 1000 != 0) {
		yyerror("%s must be whole seconds", what);
		return -1;
	}
	if (ms / 1000 > INT32_MAX) {
		yyerror("%s too large (at most 2147483647s)", what);
		return -1;
	}
	*out = (uint32_t)(ms / 1000);
	return 0;
}

static int
addarg(char *s)
{
	char **nv;

	if ((nv = reallocarray(svc->argv, svc->argc + 2, sizeof(*nv))) == NULL) {
		free(s);
		yyerror("out of memory");
		return -1;
	}
	svc->argv = nv;
	svc->argv[svc->argc++] = s;
	svc->argv[svc->argc] = NULL;
	return 0;
}

/* A zone name: always absolute.  Takes s. */
static char *
zname(const char *s)
{
	const char *why;
	char *n;

	if ((n = config_name(s, NULL, &why)) == NULL)
		yyerror("invalid name %s: %s", s, why);
	return n;
}

static struct config *
load(const char *path, FILE *fp, FILE *errs)
{
	errout = errs;
	errors = 0;
	nfiles = 0;
	file = NULL;
	zone = NULL;
	svc = NULL;
	pol = NULL;
	polstate = 0;
	pwords_clear();
	lasttok[0] = '\0';
	if ((conf = config_new()) == NULL) {
		if (errs != NULL)
			fprintf(errs, "%s: out of memory\n", path);
		return NULL;
	}
	if (pushfile(path, fp) == -1) {
		config_free(conf);
		return NULL;
	}
	yyparse();
	pwords_clear();
	pol = NULL;
	while (nfiles > 0)
		popfile();
	if (errors == 0 && config_validate(conf, errs) != 0)
		errors++;
	if (errors != 0) {
		config_free(conf);
		conf = NULL;
	}
	return conf;
}

struct config *
config_load(const char *path, FILE *errs)
{
	return load(path, NULL, errs);
}

struct config *
config_load_fp(FILE *fp, const char *name, FILE *errs)
{
	return load(name, fp, errs);
}
