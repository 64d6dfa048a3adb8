/*
 * health.h: the public interface of health/.
 *
 * For now it holds the one host-side parser of the heartbeat wire format
 * (docs/heartbeat-protocol.md): sd_notify-style "KEY=VALUE" lines, used
 * for every transport (hvt hypercall, UART, UDP).
 */
#ifndef SUMMONER_HEALTH_H
#define SUMMONER_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEALTH_MSG_MAX    4096 /* longest message, in bytes */
#define HEALTH_KEY_MAX    64   /* longest key */
#define HEALTH_STATUS_MAX 1024 /* longest STATUS= value */
#define HEALTH_TOKEN_MIN  16   /* X_TOKEN= hex digits, at least */
#define HEALTH_TOKEN_MAX  128  /* and at most */

/* health_msg.flags: which keys the message carried. */
#define HEALTH_MSG_READY        0x0001 /* READY=1 */
#define HEALTH_MSG_WATCHDOG     0x0002 /* WATCHDOG=1 */
#define HEALTH_MSG_STOPPING     0x0004 /* STOPPING=1 */
#define HEALTH_MSG_HAS_SEQ      0x0008 /* X_SEQ= */
#define HEALTH_MSG_HAS_PROGRESS 0x0010 /* X_PROGRESS= */
#define HEALTH_MSG_HAS_CONNS    0x0020 /* X_CONNS= */
#define HEALTH_MSG_HAS_STATUS   0x0040 /* STATUS= */
#define HEALTH_MSG_HAS_LOG      0x0080 /* X_LOG= */
#define HEALTH_MSG_HAS_FAULT    0x0100 /* X_FAULT= */
#define HEALTH_MSG_HAS_DUMP     0x0200 /* X_DUMP= */
#define HEALTH_MSG_HAS_TOKEN    0x0400 /* X_TOKEN= */

/*
 * One parsed message.  Text values point into the parser's input (not
 * NUL-terminated, may be empty); a field whose flag is clear is 0/NULL.
 */
struct health_msg {
	unsigned flags; /* HEALTH_MSG_* */
	uint64_t seq;
	uint64_t progress;
	uint32_t conns;
	const char *status;
	size_t status_len;
	const char *log;
	size_t log_len;
	const char *fault;
	size_t fault_len;
	const char *dump;
	size_t dump_len;
	const char *token; /* hex digits, either case */
	size_t token_len;
	unsigned unknown_keys; /* well-formed lines with a key we ignore */
};

enum health_parse_status {
	HEALTH_PARSE_OK = 0,
	HEALTH_PARSE_ETOOBIG = -1,     /* message longer than HEALTH_MSG_MAX */
	HEALTH_PARSE_ENUL = -2,        /* NUL byte */
	HEALTH_PARSE_EKEY = -3,        /* key not [A-Z][A-Z0-9_]* */
	HEALTH_PARSE_EKEYLEN = -4,     /* key longer than HEALTH_KEY_MAX */
	HEALTH_PARSE_ENOEQ = -5,       /* line without '=' */
	HEALTH_PARSE_EDUP = -6,        /* known key given twice */
	HEALTH_PARSE_EBOOL = -7,       /* boolean value other than "1" */
	HEALTH_PARSE_ENUMBER = -8,     /* not a plain decimal number */
	HEALTH_PARSE_ERANGE = -9,      /* number too large for its field */
	HEALTH_PARSE_ETOKEN = -10,     /* token not 16..128 hex digits */
	HEALTH_PARSE_ESTATUSLEN = -11, /* STATUS over HEALTH_STATUS_MAX */
};

/* A message for a health_parse_status ("duplicate key"), never NULL. */
const char *health_parse_strerror(int status);

/*
 * Parse one message of len bytes (buf may be NULL when len is 0).
 * Returns HEALTH_PARSE_OK with *out filled, or a negative status with *out
 * cleared and, if errpos is not NULL, *errpos set to the offset of the
 * offending byte (for a bad value, its first byte; for a line without
 * '=', its end).
 */
int health_msg_parse(
    const char *buf, size_t len, struct health_msg *out, size_t *errpos);

/* ---- deadlines: watch.c ---------------------------------------------- */

/*
 * What a policy asks health/ to watch for one instance (0 turns a check
 * off).  All times are nanoseconds on the caller's clock: health/ has no
 * clock of its own in this part, so tests drive it with any numbers.
 */
struct health_params {
	uint64_t hb_interval; /* expected time between heartbeats */
	unsigned hb_misses;   /* heartbeat-miss after interval * misses */
	unsigned stall_beats; /* stall after this many beats without progress */
	uint64_t ready_timeout; /* ready-timeout when not ready by then */
};

enum health_verdict {
	HEALTH_OK = 0,
	HEALTH_MISS,          /* heartbeat-miss */
	HEALTH_STALL,         /* stall */
	HEALTH_READY_TIMEOUT, /* ready-timeout */
};

/* "ok", "heartbeat-miss", "stall", "ready-timeout". */
const char *health_verdict_name(int v);

/*
 * One instance's watch.  A verdict is given once: after it, the watch
 * says HEALTH_OK until health_watch_start() again.
 */
struct health_watch {
	struct health_params p;
	uint64_t t_start;     /* started (booting) */
	uint64_t t_ready;     /* 0 until ready */
	uint64_t t_last_beat; /* last heartbeat, or t_ready before the first */
	uint64_t beats, misses;
	uint64_t progress;      /* last X_PROGRESS */
	bool has_progress;      /* a beat carried X_PROGRESS */
	unsigned same_progress; /* beats in a row with the same progress */
	bool fired;
	/* Set by the caller after ready: the instance owes no heartbeat
	 * until it sends one (it was declared ready by a clock, not by
	 * itself); the miss deadline starts at its first beat. */
	bool beats_optional;
};

/* Start watching at now (the instance boots). */
void health_watch_start(
    struct health_watch *w, const struct health_params *p, uint64_t now);

/* The guest said READY at now: the ready timeout is met, heartbeats are
 * expected from now on. */
void health_watch_ready(struct health_watch *w, uint64_t now);

/*
 * A heartbeat at now, with its progress when has_progress.  Returns
 * HEALTH_STALL when this beat makes stall_beats beats in a row without
 * progress moving (beats without X_PROGRESS never stall), else HEALTH_OK.
 */
enum health_verdict health_watch_beat(
    struct health_watch *w, uint64_t now, bool has_progress, uint64_t progress);

/*
 * Check the deadlines at now.  Returns HEALTH_MISS or HEALTH_READY_TIMEOUT
 * when one has passed (once), else HEALTH_OK.  *next (if not NULL) gets
 * the next deadline to check at, 0 when there is none; *deadline (if not
 * NULL) gets the deadline that passed, so callers can tell how late the
 * check came.
 */
enum health_verdict health_watch_check(
    struct health_watch *w, uint64_t now, uint64_t *next, uint64_t *deadline);

/* ---- fault signatures: signature.c ------------------------------------- */

#define HEALTH_SIG_FRAMES 3  /* top frames a signature covers */
#define HEALTH_SIG_LEN    16 /* hex digits */

/*
 * The signature of a fault: 16 hex digits (and a NUL) hashing its kind,
 * its vector (-1 when none) and the function names of its top
 * HEALTH_SIG_FRAMES frames.  Frames are backtrace lines as the tender
 * sends them ("0x1234 crash_pagefault+0x1b", or "0x1234 ?"): only the
 * function name counts, so a signature survives restarts, and images
 * without ASLR give the same one on every run; an unsymbolised frame
 * counts by its address.
 */
void health_signature(const char *kind, long vector, const char *const *frames,
    size_t nframes, char out[HEALTH_SIG_LEN + 1]);

/*
 * Split a CTL_CAPTURED text (the fault directory, then frames, one per
 * line) in place: *dir gets the first line, frames[] the next ones, up to
 * max.  text must be NUL-terminated and writable.  Returns the number of
 * frames.
 */
size_t health_captured_split(
    char *text, const char **dir, const char **frames, size_t max);

/* ---- the UDP transport: udp.c ------------------------------------------ */

struct event_base;
struct sockaddr;

/*
 * Heartbeats over UDP, for any guest with a network stack: one message
 * per datagram, authenticated by the instance's X_TOKEN.  lookup() finds
 * the instance a token belongs to (NULL: unknown); deliver() gets every
 * well-formed, authenticated message.  Everything else is dropped and
 * counted, never answered.
 */
struct health_udp_ops {
	void *(*lookup)(void *arg, const char *token, size_t len);
	void (*deliver)(void *arg, void *who, const struct health_msg *m);
	void *arg;
};

struct health_udp_stats {
	uint64_t received, delivered;
	uint64_t malformed, no_token, unknown_token;
};

struct health_udp;

/* Listen on sa (port 0: any free port).  NULL with a message in err. */
struct health_udp *health_udp_new(struct event_base *base,
    const struct sockaddr *sa, unsigned salen, const struct health_udp_ops *ops,
    char *err, size_t errlen);

/* The port it listens on (host order). */
unsigned health_udp_port(const struct health_udp *u);

const struct health_udp_stats *health_udp_stats(const struct health_udp *u);

void health_udp_free(struct health_udp *u);

#endif /* SUMMONER_HEALTH_H */
