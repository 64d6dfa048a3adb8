/*
 * control.h: the control socket summonerctl talks to (DESIGN.md "Operator
 * interface"; the protocol is docs/control-socket.md).
 *
 * A unix stream socket of mode 0600 on the daemon's event loop.  Only
 * peers running as root or as the daemon's own user (SO_PEERCRED) are
 * served.  Each request is one JSON object on one line, each reply one
 * JSON object on one line; "logs" with "follow" streams lines until the
 * client goes.  Nothing here blocks: a slow or silent client is dropped,
 * never waited for.
 */
#ifndef SUMMONER_CONTROL_H
#define SUMMONER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct registry;
struct journal;
struct json_object;
struct config;
struct policy;

#define CONTROL_SOCKET_NAME "control.sock" /* in the state directory */
#define CONTROL_MAX_LINE    (1024 * 1024)  /* a request, newline included */
#define CONTROL_MAX_CONNS   64
#define CONTROL_MAX_OUTPUT  (4 * 1024 * 1024) /* unread reply bytes */
#define CONTROL_IDLE_S      10                /* a request's idle time */

/* The "code" of an error reply (docs/control-socket.md). */
enum control_code {
	CONTROL_OK = 0,
	CONTROL_EBADREQ = 1,  /* malformed: not JSON, bad field, too long */
	CONTROL_EUNKNOWN = 2, /* no such command */
	CONTROL_ENOENT = 3,   /* no such service or instance */
	CONTROL_EFAILED = 4,  /* the action was refused or failed */
	CONTROL_EPERM = 5,    /* the peer's uid is not served */
	CONTROL_EBUSY = 6,    /* too many connections */
	CONTROL_EUNAVAIL = 7, /* not available in this daemon (no journal) */
};

struct control;

/*
 * Listen on path (created mode 0600).  An existing socket there is
 * replaced only when nothing answers on it; a live daemon on it, or a
 * file that is not a socket, is an error.  Returns NULL with a message in
 * err.  The registry must outlive the control socket.
 */
struct control *control_new(struct event_base *base, struct registry *r,
    const char *path, char *err, size_t errlen);

/* The journal "faults" reads (NULL: "faults" answers that there is none). */
void control_set_journal(struct control *c, struct journal *j);

/*
 * What "reload" calls: returns 0, or -1 with a one-line reason in err
 * (the running configuration stays).  NULL: "reload" is refused.
 */
void control_set_reload(struct control *c,
    int (*reload)(void *arg, char *err, size_t errlen), void *arg);

/*
 * The configuration whose policies "policy test" replays (config.h,
 * config_policy_find()); NULL: none.  Must stay valid until the next call
 * (the daemon sets it after every configuration it applies).
 */
void control_set_config(struct control *c, const struct config *conf);

/* The path it listens on, as given to control_new(). */
const char *control_path(const struct control *c);

/* Close every connection, remove the socket file and free c (NULL is
 * ignored). */
void control_free(struct control *c);

/*
 * The "policy test" seam: replay trace (the trace file's contents, len
 * bytes) against the policy called policy and add the decisions to out
 * (an object: at least "steps", an array).  Returns 0, or -1 with a reason
 * in err.  NULL (the default): the policy is looked up in the
 * configuration given to control_set_config() and replayed with
 * control_policy_trace().
 */
extern int (*control_policy_test)(const char *policy, const char *trace,
    size_t len, struct json_object *out, char *err, size_t errlen);

/*
 * Replay trace against p and add its steps to out as "steps" (an array of
 * objects: line, t_ms, kind, event, action, decision, why, delay_ms,
 * quarantined, text).  0, or -1 with "trace:LINE: message" in err.
 */
int control_policy_trace(const struct policy *p, const char *trace, size_t len,
    struct json_object *out, char *err, size_t errlen);

/* ---- request parsing (control_req.c), separate for the unit tests ---- */

struct control_req {
	struct json_object *obj; /* owns the strings below */
	const char *cmd;
	const char *name;   /* NULL when absent */
	long n;             /* -1 when absent */
	bool follow;        /* logs */
	const char *policy; /* policy test */
	const char *trace;  /* policy test, tracelen bytes */
	size_t tracelen;
};

/*
 * Parse one request line of len bytes (without its newline): one JSON
 * object with a string "cmd" and optional "name" (string), "n" (integer
 * >= 0), "follow" (boolean), "policy" and "trace" (strings); other
 * members are ignored.  Returns 0 (free with control_req_free()), or -1
 * with a message in err and nothing to free.
 */
int control_req_parse(const char *line, size_t len, struct control_req *req,
    char *err, size_t errlen);

void control_req_free(struct control_req *req);

#endif /* SUMMONER_CONTROL_H */
