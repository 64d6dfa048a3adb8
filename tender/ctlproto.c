/*
 * ctlproto.c: framing and checking of the tender <-> parent control
 * protocol (include/summoner/ctlproto.h, docs/control-protocol.md).
 *
 * Everything here reads bytes a possibly broken or hostile peer wrote, so
 * every access is checked against the length the caller gave, and headers
 * and structs are copied out with memcpy (nothing in a stream is aligned).
 */
#include <string.h>

#include "summoner/ctlproto.h"

/* The wire format is these exact layouts: no padding anywhere. */
_Static_assert(sizeof(struct ctl_hdr) == CTL_HDR_SIZE, "ctl_hdr layout");
_Static_assert(sizeof(struct ctl_booted) == 40, "ctl_booted layout");
_Static_assert(sizeof(struct ctl_ready) == 8, "ctl_ready layout");
_Static_assert(sizeof(struct ctl_heartbeat) == 32, "ctl_heartbeat layout");
_Static_assert(sizeof(struct ctl_text) == 8, "ctl_text layout");
_Static_assert(sizeof(struct ctl_fault) == 200, "ctl_fault layout");
_Static_assert(sizeof(struct ctl_exited) == 16, "ctl_exited layout");
_Static_assert(CTL_MAX_TEXT + sizeof(struct ctl_fault) <= CTL_MAX_PAYLOAD,
    "every event with full text fits in a frame");

/* One line per message type: adding a type is one line here. */
static const struct ctl_type_info {
	unsigned type;
	const char *name;
	size_t min;   /* the fixed part: shorter payloads are refused */
	int has_text; /* what follows the fixed part is text */
} ctl_types[] = {
    {CTL_BOOTED, "booted", sizeof(struct ctl_booted), 0},
    {CTL_READY, "ready", sizeof(struct ctl_ready), 0},
    {CTL_HEARTBEAT, "heartbeat", sizeof(struct ctl_heartbeat), 1},
    {CTL_LOG, "log", sizeof(struct ctl_text), 1},
    {CTL_CONSOLE, "console", sizeof(struct ctl_text), 1},
    {CTL_FAULT, "fault", sizeof(struct ctl_fault), 1},
    {CTL_EXITED, "exited", sizeof(struct ctl_exited), 0},
    {CTL_PAUSED, "paused", sizeof(struct ctl_text), 0},
    {CTL_RESUMED, "resumed", sizeof(struct ctl_text), 0},
    {CTL_CAPTURED, "captured", sizeof(struct ctl_captured), 1},
    {CTL_GDB, "gdb", sizeof(struct ctl_text), 1},
    {CTL_STOP, "stop", 0, 0},
    {CTL_PAUSE, "pause", 0, 0},
    {CTL_RESUME, "resume", 0, 0},
    {CTL_GDB_OPEN, "gdb-open", sizeof(struct ctl_gdb_open), 1},
};

static const struct ctl_type_info *
type_info(unsigned type)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_types) / sizeof(ctl_types[0]); i++)
		if (ctl_types[i].type == type)
			return &ctl_types[i];
	return NULL;
}

const char *
ctl_strerror(int status)
{
	switch (status) {
	case CTL_OK:
		return "ok";
	case CTL_EMORE:
		return "incomplete frame";
	case CTL_EVERSION:
		return "unknown protocol version";
	case CTL_ETOOBIG:
		return "payload longer than the protocol allows";
	case CTL_ETYPE:
		return "unknown message type";
	case CTL_ESHORT:
		return "payload too short for its message type";
	case CTL_ESPACE:
		return "buffer too small";
	}
	return "unknown status";
}

const char *
ctl_type_name(unsigned type)
{
	const struct ctl_type_info *ti = type_info(type);

	return ti != NULL ? ti->name : "unknown";
}

/* The names policies use for fault events (docs/control-protocol.md). */
const char *
ctl_fault_kind_name(unsigned kind)
{
	switch (kind) {
	case CTL_FAULT_EXCEPTION:
		return "exception";
	case CTL_FAULT_ABORT:
		return "abort";
	case CTL_FAULT_TRIPLE:
		return "triple-fault";
	case CTL_FAULT_BAD_HCALL:
		return "bad-hypercall";
	case CTL_FAULT_KVM_ERROR:
		return "kvm-error";
	case CTL_FAULT_HOST_ERROR:
		return "host-error";
	case CTL_FAULT_DUMP:
		return "dump";
	}
	return "unknown";
}

int
ctl_encode(void *buf, size_t bufsz, unsigned type, const void *fixed,
    size_t fixedlen, const void *text, size_t textlen)
{
	const struct ctl_type_info *ti = type_info(type);
	struct ctl_hdr hdr;
	uint8_t *p = buf;
	size_t total;

	if (ti == NULL)
		return CTL_ETYPE;
	if (fixedlen < ti->min)
		return CTL_ESHORT;
	if (textlen > CTL_MAX_TEXT)
		textlen = CTL_MAX_TEXT;
	/* Separate tests: fixedlen + textlen must not wrap. */
	if (fixedlen > CTL_MAX_PAYLOAD || textlen > CTL_MAX_PAYLOAD - fixedlen)
		return CTL_ETOOBIG;
	total = CTL_HDR_SIZE + fixedlen + textlen;
	if (bufsz < total)
		return CTL_ESPACE;

	hdr.version = CTL_VERSION;
	hdr.type = (uint16_t)type;
	hdr.len = (uint32_t)(fixedlen + textlen);
	memcpy(p, &hdr, sizeof(hdr));
	if (fixedlen > 0)
		memcpy(p + CTL_HDR_SIZE, fixed, fixedlen);
	if (textlen > 0)
		memcpy(p + CTL_HDR_SIZE + fixedlen, text, textlen);
	return (int)total;
}

int
ctl_parse(const void *buf, size_t len, struct ctl_hdr *hdr, size_t *framelen)
{
	struct ctl_hdr h;
	uint16_t version;

	/* A wrong version is the likeliest sign of a stream out of step:
	 * say so as early as the bytes allow. */
	if (len >= sizeof(version)) {
		memcpy(&version, buf, sizeof(version));
		if (version != CTL_VERSION)
			return CTL_EVERSION;
	}
	if (len < CTL_HDR_SIZE)
		return CTL_EMORE;
	memcpy(&h, buf, sizeof(h));
	if (h.len > CTL_MAX_PAYLOAD)
		return CTL_ETOOBIG;
	if (len - CTL_HDR_SIZE < h.len)
		return CTL_EMORE;

	*hdr = h;
	*framelen = CTL_HDR_SIZE + (size_t)h.len;
	return CTL_OK;
}

int
ctl_payload(const struct ctl_hdr *hdr, const void *payload, const char **text,
    size_t *textlen)
{
	const struct ctl_type_info *ti = type_info(hdr->type);
	const char *t = NULL;
	size_t tlen = 0;

	if (ti == NULL)
		return CTL_ETYPE;
	if (hdr->len < ti->min)
		return CTL_ESHORT;
	if (ti->has_text && hdr->len > ti->min) {
		t = (const char *)payload + ti->min;
		tlen = hdr->len - ti->min;
	}
	if (text != NULL)
		*text = t;
	if (textlen != NULL)
		*textlen = tlen;
	return CTL_OK;
}

void
ctl_reader_init(struct ctl_reader *r)
{
	r->len = 0;
	r->off = 0;
}

size_t
ctl_reader_space(const struct ctl_reader *r)
{
	return sizeof(r->buf) - (r->len - r->off);
}

int
ctl_reader_feed(struct ctl_reader *r, const void *data, size_t n)
{
	if (n == 0)
		return CTL_OK;
	if (n > ctl_reader_space(r))
		return CTL_ESPACE;
	/* Move the unread bytes down only when the tail is too short: most
	 * feeds land in an emptied buffer and move nothing. */
	if (n > sizeof(r->buf) - r->len) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return CTL_OK;
}

int
ctl_reader_next(
    struct ctl_reader *r, struct ctl_hdr *hdr, const uint8_t **payload)
{
	size_t framelen;
	int rc;

	/* A bad frame stays at the front, so a corrupt stream keeps giving
	 * the same status however often it is asked. */
	rc = ctl_parse(r->buf + r->off, r->len - r->off, hdr, &framelen);
	if (rc != CTL_OK)
		return rc;
	*payload = r->buf + r->off + CTL_HDR_SIZE;
	r->off += framelen;
	/* Only the counters are reset: the bytes *payload points at stay
	 * until the next feed. */
	if (r->off == r->len)
		r->off = r->len = 0;
	return CTL_OK;
}
