/*
 * health.h: the public interface of health/.
 *
 * For now it holds the one host-side parser of the heartbeat wire format
 * (docs/heartbeat-protocol.md): sd_notify-style "KEY=VALUE" lines, used
 * for every transport (hvt hypercall, UART, UDP).
 */
#ifndef SUMMONER_HEALTH_H
#define SUMMONER_HEALTH_H

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

#endif /* SUMMONER_HEALTH_H */
