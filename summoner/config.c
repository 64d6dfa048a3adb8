/*
 * config.c: defaults, validation, printing and freeing of the configuration
 * that summoner/parse.y reads.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "config.h"
#include "util.h"

#define DEFAULT_TENDER    "/usr/local/libexec/summoner-tender"
#define DEFAULT_STATE_DIR "/var/lib/summoner"

/*
 * The tender installed beside the running daemon: PREFIX/sbin/summoner
 * finds PREFIX/libexec/summoner-tender, whatever PREFIX `make install`
 * used (docs/install.md), so an install needs no rebuild.  Else the
 * documented default.  A new string, or NULL.
 */
static char *
default_tender(void)
{
	char exe[4096], *slash, *path = NULL;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if (asprintf(&path, "%s/../libexec/summoner-tender",
			        exe) < 0)
				path = NULL;
			else if (access(path, X_OK) != 0) {
				free(path);
				path = NULL;
			}
		}
	}
	if (path != NULL) {
		char *abs = realpath(path, NULL);

		if (abs != NULL) {
			free(path);
			return abs;
		}
		return path;
	}
	return strdup(DEFAULT_TENDER);
}

void
config_error(FILE *errs, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (errs == NULL)
		return;
	fprintf(errs, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(errs, fmt, ap);
	va_end(ap);
	fputc('\n', errs);
}

struct config *
config_new(void)
{
	struct config *conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	TAILQ_INIT(&conf->listens);
	TAILQ_INIT(&conf->zones);
	TAILQ_INIT(&conf->services);
	TAILQ_INIT(&conf->bridges);
	conf->max_instances = 64;
	conf->max_concurrent_boots = 8;
	conf->boot_rate = 10;
	conf->memory_budget = 1ull << 30;
	conf->tender = default_tender();
	conf->state_dir = strdup(DEFAULT_STATE_DIR);
	conf->builtin = policy_builtin_new();
	if (conf->tender == NULL || conf->state_dir == NULL ||
	    conf->builtin == NULL) {
		config_free(conf);
		return NULL;
	}
	return conf;
}

/* Takes name. */
struct cfg_zone *
config_zone_new(struct config *conf, char *name, const char *file, int line)
{
	struct cfg_zone *z;

	if ((z = calloc(1, sizeof(*z))) == NULL ||
	    (z->file = strdup(file)) == NULL) {
		free(z);
		free(name);
		return NULL;
	}
	z->name = name;
	z->line = line;
	z->serial = 1;
	z->refresh = 3600;
	z->retry = 900;
	z->expire = 604800;
	z->minimum = 60;
	z->ttl = 3600;
	TAILQ_INIT(&z->ns);
	TAILQ_INSERT_TAIL(&conf->zones, z, entry);
	return z;
}

bool
config_policy_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 &&
	       strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789-_.") == n;
}

bool
config_ifname_ok(const char *name)
{
	size_t n = strlen(name);

	/* Stricter than the kernel (which takes anything but '/', ':' and
	 * white space): these names also go unquoted into logs and ip(8). */
	return n > 0 && n < 16 && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 &&
	       strspn(name,
	           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	           "0123456789-_.") == n;
}

const struct cfg_bridge *
config_bridge_find(const struct config *conf, const char *name)
{
	const struct cfg_bridge *b;

	TAILQ_FOREACH(b, &conf->bridges, entry)
	if (strcmp(b->name, name) == 0)
		return b;
	return NULL;
}

/* Copies name. */
struct policy *
config_policy_new(
    struct config *conf, const char *name, const char *file, int line)
{
	struct policy *p, **np;

	if ((p = policy_new(name, file, line)) == NULL)
		return NULL;
	np = reallocarray(
	    conf->policies, conf->npolicies + 1, sizeof(*conf->policies));
	if (np == NULL) {
		policy_free(p);
		return NULL;
	}
	conf->policies = np;
	conf->policies[conf->npolicies++] = p;
	return p;
}

const struct policy *
config_policy_find(const struct config *conf, const char *name)
{
	size_t i;

	if (strcmp(name, POL_BUILTIN_NAME) == 0)
		return conf->builtin;
	for (i = 0; i < conf->npolicies; i++)
		if (strcmp(conf->policies[i]->name, name) == 0)
			return conf->policies[i];
	return NULL;
}

/* Takes name. */
struct cfg_service *
config_service_new(struct config *conf, char *name, const char *file, int line)
{
	struct cfg_service *s;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->file = strdup(file)) == NULL) {
		free(s);
		free(name);
		return NULL;
	}
	s->name = name;
	s->line = line;
	s->backend = CFG_BACKEND_HVT;
	s->memory = 32ull << 20;
	s->ttl = 60;
	s->idle_timeout = 5 * 60 * 1000;
	s->ready_deadline = 1000;
	s->boot_on[0] = LDNS_RR_TYPE_A;
	s->boot_on[1] = LDNS_RR_TYPE_AAAA;
	s->nboot_on = 2;
	TAILQ_INIT(&s->devices);
	TAILQ_INIT(&s->addresses);
	TAILQ_INSERT_TAIL(&conf->services, s, entry);
	return s;
}

char *
config_name(const char *in, const char *origin, const char **why)
{
	size_t len = strlen(in), label = 0, i;
	char *out;

	if (len == 0) {
		*why = "empty name";
		return NULL;
	}
	if (strcmp(in, "@") == 0 && origin != NULL)
		return strdup(origin);
	if (strcmp(in, ".") == 0)
		return strdup(".");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0) {
				*why = "empty label";
				return NULL;
			}
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_' &&
		    !(c == '*' && i == 0)) {
			*why = "invalid character";
			return NULL;
		}
		if (++label > 63) {
			*why = "label longer than 63";
			return NULL;
		}
	}
	if (in[len - 1] == '.' || origin == NULL) {
		if (asprintf(&out, "%s%s", in, in[len - 1] == '.' ? "" : ".") ==
		    -1)
			return NULL;
	} else if (strcmp(origin, ".") == 0) {
		if (asprintf(&out, "%s.", in) == -1)
			return NULL;
	} else if (asprintf(&out, "%s.%s", in, origin) == -1)
		return NULL;
	/* Wire length is text length + 1 for an absolute name. */
	if (strlen(out) + 1 > 255) {
		free(out);
		*why = "name longer than 255";
		return NULL;
	}
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

int
config_ip(const char *s, struct cfg_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->u.v4) == 1)
		ip->af = AF_INET;
	else if (inet_pton(AF_INET6, s, &ip->u.v6) == 1)
		ip->af = AF_INET6;
	else
		return -1;
	return 0;
}

const char *
config_ip_str(const struct cfg_ip *ip, char *buf, size_t len)
{
	if (inet_ntop(ip->af, &ip->u, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

bool
config_ip_eq(const struct cfg_ip *a, const struct cfg_ip *b)
{
	if (a->af != b->af)
		return false;
	if (a->af == AF_INET)
		return a->u.v4.s_addr == b->u.v4.s_addr;
	return memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

/* Is name equal to or below zone? Both absolute and lowercase. */
static int
in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (strcmp(zone, ".") == 0)
		return 1;
	if (n < z || strcmp(name + n - z, zone) != 0)
		return 0;
	return n == z || name[n - z - 1] == '.';
}

static struct cfg_zone *
zone_find(struct config *conf, const char *name)
{
	struct cfg_zone *z;

	TAILQ_FOREACH(z, &conf->zones, entry)
	if (strcmp(z->name, name) == 0)
		return z;
	return NULL;
}

/* The innermost configured zone that holds name. */
static struct cfg_zone *
zone_holding(struct config *conf, const char *name)
{
	struct cfg_zone *z, *best = NULL;

	TAILQ_FOREACH(z, &conf->zones, entry)
	if (in_zone(name, z->name) &&
	    (best == NULL || strlen(z->name) > strlen(best->name)))
		best = z;
	return best;
}

static int
validate_zones(struct config *conf, FILE *errs)
{
	struct cfg_zone *z, *y;
	int errors = 0;

	TAILQ_FOREACH(z, &conf->zones, entry)
	{
		for (y = TAILQ_FIRST(&conf->zones); y != z;
		     y = TAILQ_NEXT(y, entry))
			if (strcmp(y->name, z->name) == 0)
				break;
		if (y != z) {
			config_error(errs, z->file, z->line,
			    "zone %s already defined at %s:%d", z->name,
			    y->file, y->line);
			errors++;
			continue;
		}
		if (TAILQ_EMPTY(&z->ns)) {
			config_error(errs, z->file, z->line,
			    "zone %s has no ns", z->name);
			errors++;
			continue;
		}
		if (z->mname == NULL &&
		    (z->mname = strdup(TAILQ_FIRST(&z->ns)->name)) == NULL)
			errors++;
		if (z->rname == NULL &&
		    asprintf(&z->rname, "hostmaster.%s", z->name) == -1) {
			z->rname = NULL;
			errors++;
		}
	}
	return errors;
}

/* A net device's bridge: the one it names, which must be declared, or
 * the config's only one. */
static int
validate_net(const struct config *conf, const struct cfg_service *s,
    struct cfg_device *d, FILE *errs)
{
	const struct cfg_bridge *b;
	size_t n = 0;

	if (d->bridge != NULL) {
		if (config_bridge_find(conf, d->bridge) != NULL)
			return 0;
		config_error(errs, s->file, d->line,
		    "service %s: net %s: no bridge %s declared (add "
		    "`bridge %s` at the top level)",
		    s->name, d->name, d->bridge, d->bridge);
		return 1;
	}
	TAILQ_FOREACH(b, &conf->bridges, entry)
	n++;
	if (n != 1) {
		config_error(errs, s->file, d->line,
		    n == 0 ? "service %s: net %s: no bridge declared (add "
		             "`bridge NAME` at the top level)"
		           : "service %s: net %s: several bridges declared: "
		             "name one with `net %s bridge NAME`",
		    s->name, d->name, d->name);
		return 1;
	}
	if ((d->bridge = strdup(TAILQ_FIRST(&conf->bridges)->name)) == NULL)
		return 1;
	return 0;
}

/* Whether a and b (IPv4) agree on their first prefix bits. */
static bool
same_subnet4(struct in_addr a, struct in_addr b, int prefix)
{
	uint32_t mask = prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);

	return ((ntohl(a.s_addr) ^ ntohl(b.s_addr)) & mask) == 0;
}

/*
 * An IPv4 address of a networked service on its bridge's subnet takes the
 * bridge's prefix when it has none, and the bridge's address as its
 * gateway when it has none: what the guest is told on its command line.
 */
const struct cfg_device *
config_service_net(const struct cfg_service *s)
{
	const struct cfg_device *d;

	TAILQ_FOREACH(d, &s->devices, entry)
	if (d->kind == CFG_DEV_NET)
		return d;
	return NULL;
}

static int
default_gateway(const struct config *conf, struct cfg_service *s, FILE *errs)
{
	const struct cfg_device *d;
	const struct cfg_bridge *b;
	struct cfg_address *a;
	char buf[INET6_ADDRSTRLEN];

	d = config_service_net(s);
	if (d == NULL || d->bridge == NULL ||
	    (b = config_bridge_find(conf, d->bridge)) == NULL)
		return 0;
	TAILQ_FOREACH(a, &s->addresses, entry)
	{
		if (config_ip_eq(&a->ip, &b->ip)) {
			config_error(errs, s->file, a->line,
			    "service %s: address %s is bridge %s's own",
			    s->name, config_ip_str(&a->ip, buf, sizeof(buf)),
			    b->name);
			return 1;
		}
		if (a->ip.af != AF_INET || b->ip.af != AF_INET ||
		    !same_subnet4(a->ip.u.v4, b->ip.u.v4,
		        a->prefix >= 0 ? a->prefix : b->prefix))
			continue;
		if (a->prefix < 0)
			a->prefix = b->prefix;
		if (a->gateway.af == 0)
			a->gateway = b->ip;
	}
	return 0;
}

static int
validate_bridges(struct config *conf, FILE *errs)
{
	const struct cfg_bridge *b, *c;
	int errors = 0;

	TAILQ_FOREACH(b, &conf->bridges, entry)
	{
		for (c = TAILQ_FIRST(&conf->bridges); c != b;
		     c = TAILQ_NEXT(c, entry))
			if (strcmp(c->name, b->name) == 0)
				break;
		if (c != b) {
			config_error(errs, b->file, b->line,
			    "bridge %s already declared at %s:%d", b->name,
			    c->file, c->line);
			errors++;
		}
	}
	return errors;
}

static const char *const cmd_var_names[CFG_CMD_NVARS] = {
    [CFG_CMD_IMAGE] = "image",
    [CFG_CMD_MEMORY] = "memory",
    [CFG_CMD_TAP] = "tap",
    [CFG_CMD_MAC] = "mac",
    [CFG_CMD_INSTANCE] = "instance",
    [CFG_CMD_SERVICE] = "service",
    [CFG_CMD_ID] = "id",
    [CFG_CMD_TOKEN] = "token",
    [CFG_CMD_HEARTBEAT] = "heartbeat",
    [CFG_CMD_IP] = "ip",
    [CFG_CMD_PREFIX] = "prefix",
    [CFG_CMD_GATEWAY] = "gateway",
};

const char *
config_cmd_var_name(enum cfg_cmd_var v)
{
	return (unsigned)v < CFG_CMD_NVARS ? cmd_var_names[v] : "";
}

const struct cfg_address *
config_service_ipv4(const struct cfg_service *s)
{
	const struct cfg_address *a;

	TAILQ_FOREACH(a, &s->addresses, entry)
	if (a->ip.af == AF_INET)
		return a;
	return NULL;
}

/*
 * What backend exec takes and what it does not: a command, no warm pool
 * (a process cannot be held at its entry point), at most one net device
 * (its tap is {tap}) and no block devices (they belong in the command).
 * command and ready-after belong to exec alone.
 */
static int
validate_exec(const struct cfg_service *s, FILE *errs)
{
	const struct cfg_device *d;
	int errors = 0, nnet = 0;

	if (s->backend != CFG_BACKEND_EXEC) {
		if (s->command != NULL) {
			config_error(errs, s->file, s->command_line,
			    "service %s: command is for backend exec only",
			    s->name);
			errors++;
		}
		if (s->ready_after != 0) {
			config_error(errs, s->file, s->ready_after_line,
			    "service %s: ready-after is for backend exec "
			    "only",
			    s->name);
			errors++;
		}
		return errors;
	}
	if (s->command == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s: backend exec needs a command", s->name);
		errors++;
	}
	if (s->warm > 0) {
		config_error(errs, s->file, s->line,
		    "service %s: backend exec has no warm pool (warm must be "
		    "0)",
		    s->name);
		errors++;
	}
	if (s->ready_after != 0 && s->ready_after >= s->ready_deadline) {
		config_error(errs, s->file, s->ready_after_line,
		    "service %s: ready-after must be shorter than "
		    "ready-deadline",
		    s->name);
		errors++;
	}
	TAILQ_FOREACH(d, &s->devices, entry)
	{
		if (d->kind == CFG_DEV_BLOCK) {
			config_error(errs, s->file, d->line,
			    "service %s: backend exec takes no block devices "
			    "(name the file in the command)",
			    s->name);
			errors++;
		} else if (++nnet == 2) {
			config_error(errs, s->file, d->line,
			    "service %s: backend exec takes one net device "
			    "(its tap is {tap})",
			    s->name);
			errors++;
		}
	}
	return errors;
}

/*
 * uri and domain-xml belong to backend libvirt.  A template that cannot be
 * read is found now rather than at the first summons; its placeholders
 * are checked when it is expanded (backend_libvirt.c), where the values
 * are known.
 */
static int
validate_libvirt(const struct cfg_service *s, FILE *errs)
{
	if (s->backend != CFG_BACKEND_LIBVIRT) {
		if (s->uri != NULL || s->domain_xml != NULL ||
		    s->domain != NULL) {
			config_error(errs, s->file, s->libvirt_line,
			    "service %s: %s is for backend libvirt only",
			    s->name,
			    s->uri != NULL          ? "uri"
			    : s->domain_xml != NULL ? "domain-xml"
			                            : "domain");
			return 1;
		}
		return 0;
	}
	if (s->domain != NULL) {
		/* One defined domain is one VM: the summoner starts and stops
		 * it, it does not make more of it. */
		if (s->domain[0] == '\0' || s->domain_xml != NULL ||
		    s->image != NULL || s->warm > 0 || s->argc > 0) {
			config_error(errs, s->file, s->libvirt_line,
			    "service %s: domain %s", s->name,
			    s->domain[0] == '\0' ? "must not be empty"
			    : s->domain_xml != NULL
			        ? "and domain-xml exclude each other"
			    : s->image != NULL
			        ? "and image exclude each other (the domain "
			          "names its kernel)"
			    : s->argc > 0
			        ? "and args exclude each other (the "
			          "domain names its command line)"
			        : "has no warm pool (warm must be 0)");
			return 1;
		}
	}
	if (s->uri != NULL && s->uri[0] == '\0') {
		config_error(errs, s->file, s->libvirt_line,
		    "service %s: empty uri", s->name);
		return 1;
	}
	if (s->domain_xml != NULL && access(s->domain_xml, R_OK) < 0) {
		config_error(errs, s->file, s->libvirt_line,
		    "service %s: domain-xml %s: %s", s->name, s->domain_xml,
		    strerror(errno));
		return 1;
	}
	return 0;
}

/* Split the command once with stand-in values: bad quoting, unknown
 * placeholders and ones without a value here are found at load time. */
static int
validate_command(const struct cfg_service *s, FILE *errs)
{
	struct tmpl_var vars[CFG_CMD_NVARS];
	const struct cfg_address *a = config_service_ipv4(s);
	bool net = config_service_net(s) != NULL;
	char buf[8192], *argv[256], err[160];
	size_t argc, i;

	for (i = 0; i < CFG_CMD_NVARS; i++) {
		vars[i].name = cmd_var_names[i];
		vars[i].value = "x";
	}
	if (s->image == NULL)
		vars[CFG_CMD_IMAGE].value = NULL;
	if (!net) {
		vars[CFG_CMD_TAP].value = NULL;
		vars[CFG_CMD_MAC].value = NULL;
	}
	if (a == NULL) {
		vars[CFG_CMD_IP].value = NULL;
		vars[CFG_CMD_PREFIX].value = NULL;
	}
	if (a == NULL || a->gateway.af == 0)
		vars[CFG_CMD_GATEWAY].value = NULL;
	if (cmd_split(s->command, vars, CFG_CMD_NVARS, s->argv, s->argc,
	        s->name, 1, buf, sizeof(buf), argv, 256, &argc, err,
	        sizeof(err)) < 0) {
		config_error(errs, s->file, s->command_line,
		    "service %s: command: %s", s->name, err);
		return 1;
	}
	return 0;
}

static int
validate_service(struct config *conf, struct cfg_service *s, FILE *errs)
{
	struct cfg_service *t;
	struct cfg_device *d, *e;
	struct cfg_address *a, *b;
	const char *why;
	char *n, buf[INET6_ADDRSTRLEN];
	size_t len = strlen(s->name);
	int errors = 0;

	if (s->zone_name != NULL &&
	    (s->zone = zone_find(conf, s->zone_name)) == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s: unknown zone %s", s->name, s->zone_name);
		return 1;
	}
	if (s->name[len - 1] != '.' && s->zone == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s: no zone (add `zone NAME` or write the name "
		    "absolute)",
		    s->name);
		return 1;
	}
	if ((n = config_name(s->name, s->zone != NULL ? s->zone->name : NULL,
	         &why)) == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s: invalid name: %s", s->name, why);
		return 1;
	}
	free(s->name);
	s->name = n;
	if (s->zone == NULL &&
	    (s->zone = zone_holding(conf, s->name)) == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s is in no configured zone", s->name);
		return 1;
	}
	if (!in_zone(s->name, s->zone->name)) {
		config_error(errs, s->file, s->line,
		    "service %s is not inside zone %s", s->name, s->zone->name);
		return 1;
	}
	if (strcmp(s->name, s->zone->name) == 0) {
		config_error(errs, s->file, s->line,
		    "service %s is the apex of its zone", s->name);
		errors++;
	}
	for (t = TAILQ_FIRST(&conf->services); t != s;
	     t = TAILQ_NEXT(t, entry)) {
		if (strcmp(t->name, s->name) == 0) {
			config_error(errs, s->file, s->line,
			    "service %s already defined at %s:%d", s->name,
			    t->file, t->line);
			errors++;
		}
	}
	if ((s->backend == CFG_BACKEND_HVT ||
	        (s->backend == CFG_BACKEND_LIBVIRT && s->domain == NULL)) &&
	    s->image == NULL) {
		config_error(errs, s->file, s->line,
		    "service %s: backend %s needs an image", s->name,
		    s->backend == CFG_BACKEND_HVT ? "hvt" : "libvirt");
		errors++;
	}
	errors += validate_exec(s, errs);
	errors += validate_libvirt(s, errs);
	if (s->warm > conf->max_instances) {
		config_error(errs, s->file, s->line,
		    "service %s: warm %" PRIu32
		    " exceeds max-instances %" PRIu32,
		    s->name, s->warm, conf->max_instances);
		errors++;
	}
	if (s->memory > conf->memory_budget) {
		config_error(errs, s->file, s->line,
		    "service %s: memory exceeds memory-budget", s->name);
		errors++;
	}
	TAILQ_FOREACH(d, &s->devices, entry)
	{
		for (e = TAILQ_FIRST(&s->devices); e != d;
		     e = TAILQ_NEXT(e, entry))
			if (strcmp(e->name, d->name) == 0)
				break;
		if (e != d) {
			config_error(errs, s->file, d->line,
			    "service %s: duplicate device %s", s->name,
			    d->name);
			errors++;
		}
		if (d->kind == CFG_DEV_NET)
			errors += validate_net(conf, s, d, errs);
	}
	errors += default_gateway(conf, s, errs);
	if (s->command != NULL && s->backend == CFG_BACKEND_EXEC)
		errors += validate_command(s, errs);
	TAILQ_FOREACH(a, &s->addresses, entry)
	{
		if (a->gateway.af != 0 && a->gateway.af != a->ip.af) {
			config_error(errs, s->file, a->line,
			    "service %s: gateway and address %s differ in "
			    "family",
			    s->name, config_ip_str(&a->ip, buf, sizeof(buf)));
			errors++;
		}
		TAILQ_FOREACH(t, &conf->services, entry)
		{
			TAILQ_FOREACH(b, &t->addresses, entry)
			{
				if (b == a)
					break;
				if (config_ip_eq(&a->ip, &b->ip)) {
					config_error(errs, s->file, a->line,
					    "address %s already used by "
					    "service %s",
					    config_ip_str(
					        &a->ip, buf, sizeof(buf)),
					    t->name);
					errors++;
				}
			}
			if (b == a || t == s)
				break;
		}
	}
	return errors;
}

struct lint_arg {
	FILE *errs;
	const char *file;
};

static void
lint_warn(void *arg, int line, const char *msg)
{
	struct lint_arg *a = arg;

	config_error(a->errs, a->file, line, "warning: %s", msg);
}

/* Policies: unique names, a default that exists, services' policies
 * resolved; unreachable rules are warnings, not errors. */
static int
validate_policies(struct config *conf, FILE *errs)
{
	const struct policy *def = conf->builtin;
	struct cfg_service *s;
	struct lint_arg la;
	size_t i, j;
	int errors = 0;

	for (i = 0; i < conf->npolicies; i++) {
		const struct policy *p = conf->policies[i];

		if (strcmp(p->name, POL_BUILTIN_NAME) == 0) {
			config_error(errs, p->file, p->line,
			    "policy %s is built in: choose another name",
			    p->name);
			errors++;
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(conf->policies[j]->name, p->name) == 0)
				break;
		if (j < i) {
			config_error(errs, p->file, p->line,
			    "policy %s already defined at %s:%d", p->name,
			    conf->policies[j]->file, conf->policies[j]->line);
			errors++;
		}
	}
	if (conf->default_policy != NULL &&
	    (def = config_policy_find(conf, conf->default_policy)) == NULL) {
		config_error(errs, conf->default_policy_file,
		    conf->default_policy_line, "no policy named %s",
		    conf->default_policy);
		errors++;
	}
	TAILQ_FOREACH(s, &conf->services, entry)
	{
		s->policy = def;
		if (s->policy_name != NULL &&
		    (s->policy = config_policy_find(conf, s->policy_name)) ==
		        NULL) {
			config_error(errs, s->file, s->policy_line,
			    "no policy named %s", s->policy_name);
			errors++;
		}
	}
	if (errors == 0) {
		la.errs = errs;
		for (i = 0; i < conf->npolicies; i++) {
			la.file = conf->policies[i]->file;
			policy_lint(conf->policies[i], lint_warn, &la);
		}
	}
	return errors;
}

int
config_validate(struct config *conf, FILE *errs)
{
	struct cfg_listen *l, *m;
	struct cfg_service *s;
	char buf[INET6_ADDRSTRLEN];
	int errors;

	TAILQ_FOREACH(l, &conf->listens, entry)
	{
		for (m = TAILQ_FIRST(&conf->listens); m != l;
		     m = TAILQ_NEXT(m, entry))
			if (m->port == l->port && config_ip_eq(&m->ip, &l->ip))
				break;
		if (m != l) {
			config_error(errs, l->file, l->line,
			    "duplicate listen on %s port %u",
			    config_ip_str(&l->ip, buf, sizeof(buf)), l->port);
			return 1;
		}
	}
	errors = validate_zones(conf, errs);
	errors += validate_bridges(conf, errs);
	if (errors != 0)
		return errors;
	TAILQ_FOREACH(s, &conf->services, entry)
	errors += validate_service(conf, s, errs);
	if (errors != 0)
		return errors;
	return validate_policies(conf, errs);
}

static void
print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void
print_size(FILE *out, uint64_t v)
{
	static const char units[] = "TGMK";
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t mul = 1ull << (10 * (4 - i));

		if (v != 0 && v % mul == 0) {
			fprintf(out, "%" PRIu64 "%c", v / mul, units[i]);
			return;
		}
	}
	fprintf(out, "%" PRIu64, v);
}

static void
print_ms(FILE *out, uint64_t ms)
{
	char buf[32];

	/* One way of writing times back, shared with the policies' own. */
	fputs(pol_format_ms(ms, buf, sizeof(buf)), out);
}

void
config_print_service(const struct cfg_service *s, FILE *out)
{
	static const char *backends[] = {"hvt", "libvirt", "exec"};
	const struct cfg_device *d;
	const struct cfg_address *a;
	char buf[INET6_ADDRSTRLEN], *t;
	size_t i;

	fprintf(out, "\nservice ");
	print_string(out, s->name);
	fprintf(out, " {\n\tzone ");
	print_string(out, s->zone->name);
	fprintf(out, "\n\tbackend %s\n", backends[s->backend]);
	if (s->image != NULL) {
		fprintf(out, "\timage ");
		print_string(out, s->image);
		fputc('\n', out);
	}
	if (s->argc > 0) {
		fprintf(out, "\targs");
		for (i = 0; i < s->argc; i++) {
			fputc(' ', out);
			print_string(out, s->argv[i]);
		}
		fputc('\n', out);
	}
	if (s->command != NULL) {
		fprintf(out, "\tcommand ");
		print_string(out, s->command);
		fputc('\n', out);
	}
	if (s->uri != NULL) {
		fprintf(out, "\turi ");
		print_string(out, s->uri);
		fputc('\n', out);
	}
	if (s->domain != NULL) {
		fprintf(out, "\tdomain ");
		print_string(out, s->domain);
		fputc('\n', out);
	}
	if (s->domain_xml != NULL) {
		fprintf(out, "\tdomain-xml ");
		print_string(out, s->domain_xml);
		fputc('\n', out);
	}
	if (s->ready_after != 0) {
		fprintf(out, "\tready-after ");
		print_ms(out, s->ready_after);
		fputc('\n', out);
	}
	fprintf(out, "\tmemory ");
	print_size(out, s->memory);
	fputc('\n', out);
	TAILQ_FOREACH(d, &s->devices, entry)
	{
		fprintf(out, "\t%s ", d->kind == CFG_DEV_NET ? "net" : "block");
		print_string(out, d->name);
		if (d->kind == CFG_DEV_BLOCK) {
			fputc(' ', out);
			print_string(out, d->path);
		} else if (d->bridge != NULL) {
			fprintf(out, " bridge ");
			print_string(out, d->bridge);
		}
		fputc('\n', out);
	}
	TAILQ_FOREACH(a, &s->addresses, entry)
	{
		fprintf(out, "\taddress %s",
		    config_ip_str(&a->ip, buf, sizeof(buf)));
		if (a->prefix >= 0)
			fprintf(out, " prefix %d", a->prefix);
		if (a->gateway.af != 0)
			fprintf(out, " gateway %s",
			    config_ip_str(&a->gateway, buf, sizeof(buf)));
		fputc('\n', out);
	}
	fprintf(out, "\tttl ");
	print_ms(out, (uint64_t)s->ttl * 1000);
	fprintf(out, "\n\tidle-timeout ");
	print_ms(out, s->idle_timeout);
	fprintf(out, "\n\tready-deadline ");
	print_ms(out, s->ready_deadline);
	fprintf(out, "\n\twarm %" PRIu32 "\n\tboot-on {", s->warm);
	for (i = 0; i < s->nboot_on; i++) {
		if ((t = ldns_rr_type2str(s->boot_on[i])) != NULL) {
			fprintf(out, " %s", t);
			free(t);
		}
	}
	fprintf(out, " }\n");
	if (s->policy_name != NULL) {
		fprintf(out, "\tpolicy ");
		print_string(out, s->policy_name);
		fputc('\n', out);
	}
	fprintf(out, "}\n");
}

void
config_print_policy(const struct policy *p, FILE *out)
{
	char buf[1400];
	size_t i;
	unsigned h;

	fprintf(out, "\npolicy ");
	print_string(out, p->name);
	fprintf(out, " {\n");
	for (h = 0; policy_health_format(p, h, buf, sizeof(buf)) > 0; h++)
		fprintf(out, "\t%s\n", buf);
	for (i = 0; i < p->nrules; i++) {
		policy_rule_format(&p->rules[i], buf, sizeof(buf));
		fprintf(out, "\t%s\n", buf);
	}
	fprintf(out, "}\n");
}

void
config_print(const struct config *conf, FILE *out)
{
	const struct cfg_listen *l;
	const struct cfg_zone *z;
	const struct cfg_name *n;
	const struct cfg_service *s;
	const struct cfg_bridge *b;
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	TAILQ_FOREACH(l, &conf->listens, entry)
	fprintf(out, "listen on %s port %u\n",
	    config_ip_str(&l->ip, buf, sizeof(buf)), l->port);
	fprintf(out, "max-instances %" PRIu32 "\n", conf->max_instances);
	fprintf(out, "max-concurrent-boots %" PRIu32 "\n",
	    conf->max_concurrent_boots);
	fprintf(out, "boot-rate %" PRIu32 " per-client\n", conf->boot_rate);
	fprintf(out, "memory-budget ");
	print_size(out, conf->memory_budget);
	fprintf(out, "\ntender ");
	print_string(out, conf->tender);
	fprintf(out, "\nstate-dir ");
	print_string(out, conf->state_dir);
	fputc('\n', out);
	if (conf->metrics_ip.af != 0)
		fprintf(out, "metrics on %s port %u\n",
		    config_ip_str(&conf->metrics_ip, buf, sizeof(buf)),
		    conf->metrics_port);
	TAILQ_FOREACH(b, &conf->bridges, entry)
	{
		fprintf(out, "bridge ");
		print_string(out, b->name);
		if (b->ip.af != 0)
			fprintf(out, " address %s prefix %d",
			    config_ip_str(&b->ip, buf, sizeof(buf)), b->prefix);
		fputc('\n', out);
	}
	if (conf->default_policy != NULL) {
		fprintf(out, "default-policy ");
		print_string(out, conf->default_policy);
		fputc('\n', out);
	}
	for (i = 0; i < conf->npolicies; i++)
		config_print_policy(conf->policies[i], out);
	TAILQ_FOREACH(z, &conf->zones, entry)
	{
		fprintf(out, "\nzone ");
		print_string(out, z->name);
		fprintf(out, " {\n\tsoa { mname ");
		print_string(out, z->mname);
		fprintf(out, " rname ");
		print_string(out, z->rname);
		fprintf(out, " serial %" PRIu32 " refresh ", z->serial);
		print_ms(out, (uint64_t)z->refresh * 1000);
		fprintf(out, " retry ");
		print_ms(out, (uint64_t)z->retry * 1000);
		fprintf(out, " expire ");
		print_ms(out, (uint64_t)z->expire * 1000);
		fprintf(out, " minimum ");
		print_ms(out, (uint64_t)z->minimum * 1000);
		fprintf(out, " }\n");
		TAILQ_FOREACH(n, &z->ns, entry)
		{
			fprintf(out, "\tns ");
			print_string(out, n->name);
			fputc('\n', out);
		}
		fprintf(out, "\tttl ");
		print_ms(out, (uint64_t)z->ttl * 1000);
		fprintf(out, "\n}\n");
	}
	TAILQ_FOREACH(s, &conf->services, entry)
	config_print_service(s, out);
}

static void
service_free(struct cfg_service *s)
{
	struct cfg_device *d;
	struct cfg_address *a;
	size_t i;

	while ((d = TAILQ_FIRST(&s->devices)) != NULL) {
		TAILQ_REMOVE(&s->devices, d, entry);
		free(d->name);
		free(d->bridge);
		free(d->path);
		free(d);
	}
	while ((a = TAILQ_FIRST(&s->addresses)) != NULL) {
		TAILQ_REMOVE(&s->addresses, a, entry);
		free(a);
	}
	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->argv);
	free(s->name);
	free(s->zone_name);
	free(s->image);
	free(s->command);
	free(s->uri);
	free(s->domain_xml);
	free(s->domain);
	free(s->policy_name);
	free(s->file);
	free(s);
}

void
config_free(struct config *conf)
{
	struct cfg_listen *l;
	struct cfg_zone *z;
	struct cfg_name *n;
	struct cfg_service *s;
	struct cfg_bridge *b;
	size_t i;

	if (conf == NULL)
		return;
	while ((b = TAILQ_FIRST(&conf->bridges)) != NULL) {
		TAILQ_REMOVE(&conf->bridges, b, entry);
		free(b->name);
		free(b->file);
		free(b);
	}
	while ((l = TAILQ_FIRST(&conf->listens)) != NULL) {
		TAILQ_REMOVE(&conf->listens, l, entry);
		free(l->file);
		free(l);
	}
	while ((z = TAILQ_FIRST(&conf->zones)) != NULL) {
		TAILQ_REMOVE(&conf->zones, z, entry);
		while ((n = TAILQ_FIRST(&z->ns)) != NULL) {
			TAILQ_REMOVE(&z->ns, n, entry);
			free(n->name);
			free(n);
		}
		free(z->name);
		free(z->mname);
		free(z->rname);
		free(z->file);
		free(z);
	}
	while ((s = TAILQ_FIRST(&conf->services)) != NULL) {
		TAILQ_REMOVE(&conf->services, s, entry);
		service_free(s);
	}
	for (i = 0; i < conf->npolicies; i++)
		policy_free(conf->policies[i]);
	free(conf->policies);
	free(conf->default_policy);
	free(conf->default_policy_file);
	policy_free(conf->builtin);
	free(conf->tender);
	free(conf->state_dir);
	free(conf);
}
