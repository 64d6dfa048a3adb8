/*
 * hbmsg.c: the one parser of the heartbeat wire format
 * (docs/heartbeat-protocol.md).
 *
 * The input comes straight from a guest or from the network.  The whole
 * message is at most HEALTH_MSG_MAX bytes and every scan is bounded by the
 * end of the current line, itself bounded by len; nothing is ever written
 * to the input, and nothing is read past it.
 */
#include <string.h>

#include "health.h"

/* How a known key's value is checked and stored. */
enum value_kind {
	V_BOOL,   /* exactly "1" */
	V_U64,    /* plain decimal */
	V_U32,    /* plain decimal, at most UINT32_MAX */
	V_TEXT,   /* anything */
	V_STATUS, /* at most HEALTH_STATUS_MAX bytes */
	V_TOKEN,  /* HEALTH_TOKEN_MIN..HEALTH_TOKEN_MAX hex digits */
};

/* One line per known key: adding a key is one line here, one flag in
 * health.h, and (for a value) one case in store(). */
static const struct known_key {
	const char *name;
	unsigned flag; /* also marks the key as seen */
	enum value_kind kind;
} known_keys[] = {
    {"READY", HEALTH_MSG_READY, V_BOOL},
    {"WATCHDOG", HEALTH_MSG_WATCHDOG, V_BOOL},
    {"STOPPING", HEALTH_MSG_STOPPING, V_BOOL},
    {"STATUS", HEALTH_MSG_HAS_STATUS, V_STATUS},
    {"X_SEQ", HEALTH_MSG_HAS_SEQ, V_U64},
    {"X_PROGRESS", HEALTH_MSG_HAS_PROGRESS, V_U64},
    {"X_CONNS", HEALTH_MSG_HAS_CONNS, V_U32},
    {"X_LOG", HEALTH_MSG_HAS_LOG, V_TEXT},
    {"X_FAULT", HEALTH_MSG_HAS_FAULT, V_TEXT},
    {"X_DUMP", HEALTH_MSG_HAS_DUMP, V_TEXT},
    {"X_TOKEN", HEALTH_MSG_HAS_TOKEN, V_TOKEN},
};

const char *
health_parse_strerror(int status)
{
	switch (status) {
	case HEALTH_PARSE_OK:
		return "ok";
	case HEALTH_PARSE_ETOOBIG:
		return "message too long";
	case HEALTH_PARSE_ENUL:
		return "NUL byte in message";
	case HEALTH_PARSE_EKEY:
		return "bad character in key";
	case HEALTH_PARSE_EKEYLEN:
		return "key too long";
	case HEALTH_PARSE_ENOEQ:
		return "line without '='";
	case HEALTH_PARSE_EDUP:
		return "duplicate key";
	case HEALTH_PARSE_EBOOL:
		return "boolean value is not \"1\"";
	case HEALTH_PARSE_ENUMBER:
		return "value is not a decimal number";
	case HEALTH_PARSE_ERANGE:
		return "number out of range";
	case HEALTH_PARSE_ETOKEN:
		return "token is not 16 to 128 hex digits";
	case HEALTH_PARSE_ESTATUSLEN:
		return "status text too long";
	}
	return "unknown status";
}

static const struct known_key *
lookup(const char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strlen(known_keys[i].name) == keylen &&
		    memcmp(known_keys[i].name, key, keylen) == 0)
			return &known_keys[i];
	return NULL;
}

/*
 * A plain decimal: digits only, no sign, no leading zero but for "0" itself,
 * at most max.  Checks the syntax first, so "12x" is ENUMBER whatever its
 * length.
 */
static int
parse_number(const char *v, size_t vlen, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (vlen == 0 || (v[0] == '0' && vlen > 1))
		return HEALTH_PARSE_ENUMBER;
	for (i = 0; i < vlen; i++)
		if (v[i] < '0' || v[i] > '9')
			return HEALTH_PARSE_ENUMBER;
	for (i = 0; i < vlen; i++) {
		unsigned d = (unsigned)(v[i] - '0');

		if (n > (max - d) / 10)
			return HEALTH_PARSE_ERANGE;
		n = n * 10 + d;
	}
	*out = n;
	return HEALTH_PARSE_OK;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Check a known key's value and store it in m. */
static int
store(
    struct health_msg *m, const struct known_key *k, const char *v, size_t vlen)
{
	uint64_t n = 0;
	size_t i;
	int rc;

	switch (k->kind) {
	case V_BOOL:
		if (vlen != 1 || v[0] != '1')
			return HEALTH_PARSE_EBOOL;
		break;
	case V_U64:
	case V_U32:
		rc = parse_number(
		    v, vlen, k->kind == V_U32 ? UINT32_MAX : UINT64_MAX, &n);
		if (rc != HEALTH_PARSE_OK)
			return rc;
		break;
	case V_STATUS:
		if (vlen > HEALTH_STATUS_MAX)
			return HEALTH_PARSE_ESTATUSLEN;
		break;
	case V_TOKEN:
		if (vlen < HEALTH_TOKEN_MIN || vlen > HEALTH_TOKEN_MAX)
			return HEALTH_PARSE_ETOKEN;
		for (i = 0; i < vlen; i++)
			if (!is_hex(v[i]))
				return HEALTH_PARSE_ETOKEN;
		break;
	case V_TEXT:
		break;
	}

	switch (k->flag) {
	case HEALTH_MSG_HAS_SEQ:
		m->seq = n;
		break;
	case HEALTH_MSG_HAS_PROGRESS:
		m->progress = n;
		break;
	case HEALTH_MSG_HAS_CONNS:
		m->conns = (uint32_t)n;
		break;
	case HEALTH_MSG_HAS_STATUS:
		m->status = v;
		m->status_len = vlen;
		break;
	case HEALTH_MSG_HAS_LOG:
		m->log = v;
		m->log_len = vlen;
		break;
	case HEALTH_MSG_HAS_FAULT:
		m->fault = v;
		m->fault_len = vlen;
		break;
	case HEALTH_MSG_HAS_DUMP:
		m->dump = v;
		m->dump_len = vlen;
		break;
	case HEALTH_MSG_HAS_TOKEN:
		m->token = v;
		m->token_len = vlen;
		break;
	}
	m->flags |= k->flag;
	return HEALTH_PARSE_OK;
}

/*
 * Parse the line buf[start..end) (end is its '\n' or the end of the
 * message).  On error, *errpos is the offset of the offending byte.
 */
static int
parse_line(const char *buf, size_t start, size_t end, struct health_msg *m,
    size_t *errpos)
{
	const struct known_key *k;
	const char *nul;
	size_t i, eq;
	int rc;

	for (i = start; i < end && buf[i] != '='; i++) {
		char c = buf[i];

		*errpos = i;
		if (c == '\0')
			return HEALTH_PARSE_ENUL;
		if (i - start >= HEALTH_KEY_MAX)
			return HEALTH_PARSE_EKEYLEN;
		if (!(c >= 'A' && c <= 'Z') &&
		    (i == start || !((c >= '0' && c <= '9') || c == '_')))
			return HEALTH_PARSE_EKEY;
	}
	*errpos = i;
	if (i == end)
		return HEALTH_PARSE_ENOEQ;
	if (i == start)
		return HEALTH_PARSE_EKEY; /* "=value": empty key */
	eq = i;

	/* Every value, known key or not, is refused with a NUL in it. */
	nul = memchr(buf + eq + 1, '\0', end - eq - 1);
	if (nul != NULL) {
		*errpos = (size_t)(nul - buf);
		return HEALTH_PARSE_ENUL;
	}

	k = lookup(buf + start, eq - start);
	if (k == NULL) {
		m->unknown_keys++;
		return HEALTH_PARSE_OK;
	}
	if (m->flags & k->flag) {
		*errpos = start;
		return HEALTH_PARSE_EDUP;
	}
	*errpos = eq + 1;
	rc = store(m, k, buf + eq + 1, end - eq - 1);
	return rc;
}

int
health_msg_parse(
    const char *buf, size_t len, struct health_msg *out, size_t *errpos)
{
	struct health_msg m = {0};
	const char *nl;
	size_t start, end, pos = 0;
	int rc = HEALTH_PARSE_OK;

	if (len > HEALTH_MSG_MAX) {
		pos = HEALTH_MSG_MAX;
		rc = HEALTH_PARSE_ETOOBIG;
		goto fail;
	}
	for (start = 0; start < len; start = end + 1) {
		nl = memchr(buf + start, '\n', len - start);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		if (end == start)
			continue; /* empty line */
		rc = parse_line(buf, start, end, &m, &pos);
		if (rc != HEALTH_PARSE_OK)
			goto fail;
	}
	*out = m;
	return HEALTH_PARSE_OK;

fail:
	memset(out, 0, sizeof(*out));
	if (errpos != NULL)
		*errpos = pos;
	return rc;
}
