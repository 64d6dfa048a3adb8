/*
 * summonerctl.h: the operator's tool.  One file per command (cmd-*.c),
 * each a const struct cmd_entry listed in summonerctl.c's table; client.c
 * talks to the daemon's control socket (docs/control-socket.md) and holds
 * the output helpers the commands share.
 */
#ifndef SUMMONERCTL_H
#define SUMMONERCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Exit codes. */
#define EXIT_OK          0
#define EXIT_REFUSED     1 /* the daemon refused or failed the request */
#define EXIT_USAGE       2
#define EXIT_UNREACHABLE 3 /* no daemon on the socket, or it went away */

#define DEFAULT_SOCKET "/var/lib/summoner/control.sock"
#define TREE_SOCKET    "build/state/control.sock" /* `make run` */

struct ctl {
	const char *socket; /* the path in use */
	bool json;          /* -j */
	int fd;             /* -1 until connected */
	int send_errno;     /* the request could not be sent (EPIPE) */
	char *buf;          /* received, not yet returned */
	size_t len, cap;
};

struct cmd_entry {
	const char *name;
	const char *args;  /* "NAME [-n N] [-f]" */
	const char *brief; /* one line for the command list */
	const char *help;  /* paragraphs for --help, indented by the printer */
	int min_args, max_args; /* operands after the options */
	/* Run with argv[0] the command name.  Returns an exit code. */
	int (*exec)(struct ctl *c, int argc, char **argv);
};

extern const struct cmd_entry cmd_list_entry, cmd_show_entry, cmd_logs_entry,
    cmd_faults_entry, cmd_inspect_entry, cmd_summon_entry, cmd_stop_entry,
    cmd_restart_entry, cmd_release_entry, cmd_retire_entry, cmd_policy_entry,
    cmd_reload_entry, cmd_top_entry;

/* ---- summonerctl.c ---- */

/* "summonerctl: usage: summonerctl CMD ARGS" on stderr; returns
 * EXIT_USAGE. */
int cmd_usage(const struct cmd_entry *e, const char *why);

/* EXIT_OK when nargs operands are within e's bounds, else cmd_usage(). */
int cmd_check_args(const struct cmd_entry *e, int nargs);

/*
 * Parse a command's options with getopt (opts as getopt's; the caller's
 * handler gets each option), then check its operands: on EXIT_OK,
 * *args and *nargs are the operands.
 */
int cmd_parse(const struct cmd_entry *e, int argc, char **argv,
    const char *opts, int (*opt)(int ch, const char *arg, void *u), void *u,
    char ***args, int *nargs);

/* ---- client.c ---- */

/* Connect to c->socket.  Returns EXIT_OK, or EXIT_UNREACHABLE after
 * saying why on stderr. */
int ctl_connect(struct ctl *c);

void ctl_close(struct ctl *c);

/*
 * Send req (consumed) and read the reply into *reply (the caller puts it).
 * Returns EXIT_OK, or EXIT_UNREACHABLE (said on stderr).
 */
int ctl_send(struct ctl *c, struct json_object *req);
int ctl_recv(struct ctl *c, struct json_object **reply);
int ctl_request(
    struct ctl *c, struct json_object *req, struct json_object **reply);

/*
 * The usual command: connect, send req (consumed), and check the reply:
 * with -j it is printed; an error reply is said on stderr (EXIT_REFUSED).
 * On EXIT_OK, *reply is the reply (the caller puts it).
 */
int ctl_simple(
    struct ctl *c, struct json_object *req, struct json_object **reply);

/*
 * The operator actions (summon, stop, ...): one NAME, the request named
 * after the command, "NAME: done" printed (done as in "summon started").
 */
int cmd_action(struct ctl *c, const struct cmd_entry *e, int argc, char **argv,
    const char *done);

/* A new request {"cmd": cmd} with "name" when name is not NULL. */
struct json_object *ctl_req(const char *cmd, const char *name);

/* Print o as one line on stdout. */
void ctl_print_json(struct json_object *o);

/* Members of an object: "" / 0 / false / NULL when absent or null. */
const char *js(struct json_object *o, const char *key);
int64_t ji(struct json_object *o, const char *key);
bool jb(struct json_object *o, const char *key);
bool jnull(struct json_object *o, const char *key); /* absent or null */
struct json_object *ja(struct json_object *o, const char *key); /* array */

/* A duration for people: "850ms", "12.3s", "5m12s", "3h04m", "2d03h". */
const char *fmt_ms(uint64_t ms, char *buf, size_t len);
/* A wall-clock time (ms since the epoch): "2024-05-01 12:03:04.123". */
const char *fmt_wall(uint64_t ms, char *buf, size_t len);

/* An aligned table: add rows of ncols strings, then print. */
struct table;
struct table *table_new(unsigned ncols);
void table_add(struct table *t, ...); /* ncols const char * */
void table_addv(struct table *t, const char *const *cols); /* ncols of them */
void table_print(struct table *t);                         /* and free */

/*
 * The rows "list" and "top" share, from a reply's "services": SERVICE
 * INSTANCE STATE UPTIME "LAST BEAT" FAULTS (a row per instance, one for a
 * service without), then nextra (at most 4) columns of the service's own,
 * on its first row only: extra(s, i, buf, 64) gives the i-th.
 */
#define SVC_ROW_COLS 6
void svc_rows(struct table *t, struct json_object *svcs, unsigned nextra,
    const char *(*extra)(
        struct json_object *s, unsigned i, char *buf, size_t len));

/* A "key: value" line, keys aligned at width. */
void kv(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parse a count for -n; -1 when it is not one. */
long parse_count(const char *s);

#endif /* SUMMONERCTL_H */
