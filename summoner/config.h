/*
 * config.h: the summoner's configuration, as parsed from summoner.conf.
 *
 * config_load() parses a file (and what it includes), fills in defaults and
 * validates the result; everything in a returned struct config is final:
 * names are absolute and lowercase, every service points at its zone.
 * The language is documented in docs/config.md.
 */
#ifndef SUMMONER_CONFIG_H
#define SUMMONER_CONFIG_H

#include <sys/queue.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policies/policy.h"

/* An IPv4 or IPv6 address; af is 0 when unset. */
struct cfg_ip {
	int af;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
};

struct cfg_listen {
	TAILQ_ENTRY(cfg_listen) entry;
	struct cfg_ip ip;
	uint16_t port;
	char *file;
	int line;
};

struct cfg_name {
	TAILQ_ENTRY(cfg_name) entry;
	char *name; /* absolute, lowercase */
};

struct cfg_zone {
	TAILQ_ENTRY(cfg_zone) entry;
	char *name; /* absolute, lowercase */
	char *mname, *rname;
	uint32_t serial;
	uint32_t refresh, retry, expire, minimum; /* seconds */
	uint32_t ttl;                             /* seconds, for SOA and NS */
	TAILQ_HEAD(, cfg_name) ns;
	char *file;
	int line;
};

enum cfg_backend {
	CFG_BACKEND_HVT,
	CFG_BACKEND_LIBVIRT,
	CFG_BACKEND_EXEC
};

enum cfg_devkind {
	CFG_DEV_NET,
	CFG_DEV_BLOCK
};

struct cfg_device {
	TAILQ_ENTRY(cfg_device) entry;
	enum cfg_devkind kind;
	char *name;
	/* net: the bridge; after config_load() always set (the config's
	 * only bridge when the service named none) */
	char *bridge;
	char *path; /* block */
	int line;
};

struct cfg_address {
	TAILQ_ENTRY(cfg_address) entry;
	struct cfg_ip ip;
	int prefix;            /* -1 when not given */
	struct cfg_ip gateway; /* af 0 when not given */
	int line;
};

/* `bridge NAME [address ADDR prefix N]`: a host bridge guests' taps join. */
struct cfg_bridge {
	TAILQ_ENTRY(cfg_bridge) entry;
	char *name;       /* an interface name, at most 15 characters */
	struct cfg_ip ip; /* af 0 when not given */
	int prefix;       /* -1 when no address */
	char *file;
	int line;
};

#define CFG_MAX_BOOT_ON 16

struct cfg_service {
	TAILQ_ENTRY(cfg_service) entry;
	char *name;      /* absolute, lowercase after config_load() */
	char *zone_name; /* as given by `zone`, absolute; NULL if not given */
	struct cfg_zone *zone;
	enum cfg_backend backend;
	char *image;
	char **argv; /* argc strings, NULL when argc is 0 */
	size_t argc;
	/* backend exec: the command template (docs/config.md "command") and
	 * the time after its start at which it counts as ready without a
	 * READY=1 heartbeat (milliseconds, 0: wait for READY=1) */
	char *command;
	int command_line;
	uint64_t ready_after;
	int ready_after_line;
	/* backend libvirt: the connection URI (NULL: qemu:///system) and
	 * the domain XML template file (NULL: the built-in microvm one,
	 * docs/config.md "domain-xml"); libvirt_line is the last given */
	char *uri;
	char *domain_xml;
	/* ... or a domain libvirt already defines, started and stopped
	 * as it is (docs/config.md "domain") */
	char *domain;
	int libvirt_line;
	uint64_t memory; /* bytes */
	TAILQ_HEAD(, cfg_device) devices;
	TAILQ_HEAD(cfg_address_q, cfg_address) addresses;
	uint32_t ttl;            /* seconds */
	uint64_t idle_timeout;   /* milliseconds */
	uint64_t ready_deadline; /* milliseconds */
	uint32_t warm;
	uint16_t boot_on[CFG_MAX_BOOT_ON]; /* RR types, ascending */
	size_t nboot_on;
	char *policy_name; /* as given by `policy`; NULL if not given */
	int policy_line;
	/* The policy it runs under after config_load(): its own, else the
	 * config's default-policy, else the built-in one; never NULL. */
	const struct policy *policy;
	char *file;
	int line;
};

struct config {
	TAILQ_HEAD(, cfg_listen) listens;
	TAILQ_HEAD(, cfg_zone) zones;
	TAILQ_HEAD(, cfg_service) services;
	TAILQ_HEAD(cfg_bridge_q, cfg_bridge) bridges;
	uint32_t max_instances;
	uint32_t max_concurrent_boots;
	uint32_t boot_rate;     /* boots per second per client */
	uint64_t memory_budget; /* bytes */
	char *tender;
	char *state_dir;
	struct policy **policies; /* `policy NAME { ... }`, in file order */
	size_t npolicies;
	char *default_policy; /* `default-policy NAME`; NULL if not given */
	char *default_policy_file;
	int default_policy_line;
	struct policy *builtin; /* POL_BUILTIN_NAME (docs/policies.md) */
	/* `metrics on [ADDR [port N]]` (docs/config.md "metrics"): the
	 * Prometheus endpoint; metrics_ip.af is 0 when off (the default) */
	struct cfg_ip metrics_ip;
	uint16_t metrics_port;
};

#define CFG_METRICS_PORT 9153 /* `metrics on` without a port */

/*
 * Parse, default and validate the file at path.  Every error is printed to
 * errs (if not NULL) as "file:line: message", as many as are found; returns
 * NULL if there was any.
 */
struct config *config_load(const char *path, FILE *errs);

/* As config_load(), reading from fp (not closed); name is used in errors. */
struct config *config_load_fp(FILE *fp, const char *name, FILE *errs);

/* Print the configuration normalised; the output parses back to itself. */
void config_print(const struct config *conf, FILE *out);

/* Print one service block as config_print() does; two services whose
 * printouts are equal are the same service (reload compares them so). */
void config_print_service(const struct cfg_service *s, FILE *out);

/* Print one policy block as config_print() does.  Reload compares
 * services by config_print_service(), which names the policy only: to see
 * a changed policy body as a changed service, compare this too. */
void config_print_policy(const struct policy *p, FILE *out);

/* The policy called name (POL_BUILTIN_NAME is the built-in), or NULL. */
const struct policy *config_policy_find(
    const struct config *conf, const char *name);

/* The bridge called name, or NULL. */
const struct cfg_bridge *config_bridge_find(
    const struct config *conf, const char *name);

/* Whether name is a usable interface name: 1 to 15 of [A-Za-z0-9_.-],
 * not "." or "..". */
bool config_ifname_ok(const char *name);

/* A service's first net device, where its addresses live; NULL if it has
 * none. */
const struct cfg_device *config_service_net(const struct cfg_service *s);

/* The placeholders of a `command` besides {args}, in this order
 * (docs/config.md): the backend fills a struct tmpl_var (util.h) per
 * name. */
enum cfg_cmd_var {
	CFG_CMD_IMAGE,
	CFG_CMD_MEMORY,
	CFG_CMD_TAP,
	CFG_CMD_MAC,
	CFG_CMD_INSTANCE,
	CFG_CMD_SERVICE,
	CFG_CMD_ID,
	CFG_CMD_TOKEN,
	CFG_CMD_HEARTBEAT,
	CFG_CMD_IP,
	CFG_CMD_PREFIX,
	CFG_CMD_GATEWAY,
	CFG_CMD_NVARS
};

/* The name of placeholder v without braces ("image"). */
const char *config_cmd_var_name(enum cfg_cmd_var v);

/* A service's first IPv4 address (its {ip}), or NULL. */
const struct cfg_address *config_service_ipv4(const struct cfg_service *s);

/* Free everything; NULL is ignored. */
void config_free(struct config *conf);

/* Internal to summoner/parse.y and summoner/config.c. */
struct config *config_new(void);
struct cfg_service *config_service_new(
    struct config *conf, char *name, const char *file, int line);
struct cfg_zone *config_zone_new(
    struct config *conf, char *name, const char *file, int line);
struct policy *config_policy_new(
    struct config *conf, const char *name, const char *file, int line);
bool config_policy_name_ok(const char *name);
int config_validate(struct config *conf, FILE *errs);
void config_error(FILE *errs, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Normalise a domain name: "@" is origin, relative names are appended to
 * origin (if origin is NULL, every name is taken as absolute).  Returns a
 * new string, or NULL with *why set. */
char *config_name(const char *in, const char *origin, const char **why);
int config_ip(const char *s, struct cfg_ip *ip);
const char *config_ip_str(const struct cfg_ip *ip, char *buf, size_t len);
bool config_ip_eq(const struct cfg_ip *a, const struct cfg_ip *b);

#endif
