/*
 * fuzz_health_msg.c: libFuzzer target for the heartbeat message parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -I. \
 *       tests/fuzz/fuzz_health_msg.c health/hbmsg.c -o fuzz_health_msg
 *
 * The input is one message as a guest might send it.  Oracles on top of
 * the sanitizers: an error clears the result and points inside the input;
 * an accepted message has every text inside the input, right after its
 * "KEY=", within its limits; and the message rebuilt from the result in
 * canonical form parses back to the same values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health/health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct text_field {
	const char *key; /* with its '=' */
	unsigned flag;
	const char *(*ptr)(const struct health_msg *);
	size_t (*len)(const struct health_msg *);
};

#define TEXT_GETTERS(f)                                                        \
	static const char *f##_ptr(const struct health_msg *m)                 \
	{                                                                      \
		return m->f;                                                   \
	}                                                                      \
	static size_t f##_len(const struct health_msg *m)                      \
	{                                                                      \
		return m->f##_len;                                             \
	}
TEXT_GETTERS(status)
TEXT_GETTERS(log)
TEXT_GETTERS(fault)
TEXT_GETTERS(dump)
TEXT_GETTERS(token)

static const struct text_field text_fields[] = {
    {"STATUS=", HEALTH_MSG_HAS_STATUS, status_ptr, status_len},
    {"X_LOG=", HEALTH_MSG_HAS_LOG, log_ptr, log_len},
    {"X_FAULT=", HEALTH_MSG_HAS_FAULT, fault_ptr, fault_len},
    {"X_DUMP=", HEALTH_MSG_HAS_DUMP, dump_ptr, dump_len},
    {"X_TOKEN=", HEALTH_MSG_HAS_TOKEN, token_ptr, token_len},
};
#define NTEXT (sizeof(text_fields) / sizeof(text_fields[0]))

static char canon[2 * HEALTH_MSG_MAX];

static void
check_texts(const struct health_msg *m, const char *buf, size_t size)
{
	size_t i, klen;

	for (i = 0; i < NTEXT; i++) {
		const struct text_field *f = &text_fields[i];
		const char *p = f->ptr(m);
		size_t len = f->len(m);

		if (!(m->flags & f->flag)) {
			if (p != NULL || len != 0)
				abort();
			continue;
		}
		klen = strlen(f->key);
		if (p == NULL || p < buf + klen || len > size ||
		    p + len > buf + size)
			abort();
		if (memcmp(p - klen, f->key, klen) != 0)
			abort();
		if (p - klen != buf && p[-(ptrdiff_t)klen - 1] != '\n')
			abort();
		if (p + len != buf + size && p[len] != '\n')
			abort();
		if (memchr(p, '\n', len) != NULL || memchr(p, '\0', len))
			abort();
	}
	if ((m->flags & HEALTH_MSG_HAS_STATUS) &&
	    m->status_len > HEALTH_STATUS_MAX)
		abort();
	if ((m->flags & HEALTH_MSG_HAS_TOKEN) &&
	    (m->token_len < HEALTH_TOKEN_MIN ||
	        m->token_len > HEALTH_TOKEN_MAX))
		abort();
}

/* The message with m's keys, one of each, in a fixed order. */
static size_t
canonical(const struct health_msg *m)
{
	size_t i, n = 0;

	if (m->flags & HEALTH_MSG_READY)
		n += (size_t)sprintf(canon + n, "READY=1\n");
	if (m->flags & HEALTH_MSG_WATCHDOG)
		n += (size_t)sprintf(canon + n, "WATCHDOG=1\n");
	if (m->flags & HEALTH_MSG_STOPPING)
		n += (size_t)sprintf(canon + n, "STOPPING=1\n");
	if (m->flags & HEALTH_MSG_HAS_SEQ)
		n += (size_t)sprintf(
		    canon + n, "X_SEQ=%llu\n", (unsigned long long)m->seq);
	if (m->flags & HEALTH_MSG_HAS_PROGRESS)
		n += (size_t)sprintf(canon + n, "X_PROGRESS=%llu\n",
		    (unsigned long long)m->progress);
	if (m->flags & HEALTH_MSG_HAS_CONNS)
		n += (size_t)sprintf(
		    canon + n, "X_CONNS=%lu\n", (unsigned long)m->conns);
	for (i = 0; i < NTEXT; i++) {
		const struct text_field *f = &text_fields[i];

		if (!(m->flags & f->flag))
			continue;
		memcpy(canon + n, f->key, strlen(f->key));
		n += strlen(f->key);
		memcpy(canon + n, f->ptr(m), f->len(m));
		n += f->len(m);
		canon[n++] = '\n';
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct health_msg zero;
	const char *buf = (const char *)data;
	struct health_msg m, again;
	size_t errpos = SIZE_MAX, i, n;
	int rc;

	rc = health_msg_parse(buf, size, &m, &errpos);
	(void)health_parse_strerror(rc);
	if (rc != HEALTH_PARSE_OK) {
		if (rc > 0 || memcmp(&m, &zero, sizeof(m)) != 0)
			abort();
		if (size > HEALTH_MSG_MAX ? errpos != HEALTH_MSG_MAX
		                          : errpos > size)
			abort();
		return 0;
	}
	if (size > HEALTH_MSG_MAX || errpos != SIZE_MAX)
		abort();
	check_texts(&m, buf, size);

	/* Canonical form: no unknown keys, and the same values. */
	n = canonical(&m);
	if (n > HEALTH_MSG_MAX)
		return 0; /* input without its last '\n' and 4096 long */
	if (health_msg_parse(canon, n, &again, NULL) != HEALTH_PARSE_OK)
		abort();
	if (again.flags != m.flags || again.seq != m.seq ||
	    again.progress != m.progress || again.conns != m.conns ||
	    again.unknown_keys != 0)
		abort();
	for (i = 0; i < NTEXT; i++) {
		const struct text_field *f = &text_fields[i];

		if (f->len(&again) != f->len(&m) ||
		    (f->len(&m) > 0 &&
		        memcmp(f->ptr(&again), f->ptr(&m), f->len(&m)) != 0))
			abort();
	}
	return 0;
}
