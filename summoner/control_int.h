/*
 * control_int.h: what control.c (the socket and its connections) and
 * control_cmd.c (the commands) share.  Not an interface: use control.h.
 */
#ifndef SUMMONER_CONTROL_INT_H
#define SUMMONER_CONTROL_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>

#include "control.h"

struct bufferevent;
struct evconnlistener;
struct event;
struct svc;
struct svc_log_line;

struct conn {
	TAILQ_ENTRY(conn) entry;
	struct control *c;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	bool closing; /* flushing its last reply, then freed */
	/* "logs -f": lines of this service (and instance, when id != 0) */
	bool follow;
	char follow_svc[64];
	unsigned follow_id;
};

struct control {
	struct event_base *base;
	struct registry *reg;
	struct journal *journal;
	const struct config *conf;
	int (*reload)(void *arg, char *err, size_t errlen);
	void *reload_arg;
	char *path;
	char cwd[PATH_MAX]; /* to make relative paths absolute for clients */
	int fd;
	dev_t dev; /* the socket file we made: removed only if still ours */
	ino_t ino;
	struct evconnlistener *lev;
	struct event *resume_ev; /* re-enables accept after EMFILE */
	TAILQ_HEAD(, conn) conns;
	unsigned nconns;
	void (*prev_tap)(struct svc *, const struct svc_log_line *);
};

/* A command: fills reply (an object; "ok" is added by the caller) and
 * returns CONTROL_OK, or a code with a one-line reason in err. */
struct control_cmd {
	const char *name;
	enum control_code (*run)(struct conn *cn, const struct control_req *req,
	    struct json_object *reply, char *err, size_t errlen);
};

/* The command called name, or NULL. */
const struct control_cmd *control_cmd_find(const char *name);

/* Send o (not consumed) as one line.  Returns -1 when cn was dropped
 * for too much unread output: cn is gone. */
int control_conn_send(struct conn *cn, struct json_object *o);

/* A log ring line as the JSON object "logs" sends. */
struct json_object *control_log_line(
    const struct svc *s, const struct svc_log_line *l);

#endif /* SUMMONER_CONTROL_INT_H */
