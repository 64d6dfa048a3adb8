/*
 * test_ctlproto.c: the control protocol's framing (tender/ctlproto.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/ctlproto.h"

/* Every type with the size of its fixed part and whether text follows. */
static const struct {
	unsigned type;
	size_t min;
	int has_text;
} types[] = {
    {CTL_BOOTED, sizeof(struct ctl_booted), 0},
    {CTL_READY, sizeof(struct ctl_ready), 0},
    {CTL_HEARTBEAT, sizeof(struct ctl_heartbeat), 1},
    {CTL_LOG, sizeof(struct ctl_text), 1},
    {CTL_CONSOLE, sizeof(struct ctl_text), 1},
    {CTL_FAULT, sizeof(struct ctl_fault), 1},
    {CTL_EXITED, sizeof(struct ctl_exited), 0},
    {CTL_PAUSED, sizeof(struct ctl_text), 0},
    {CTL_RESUMED, sizeof(struct ctl_text), 0},
    {CTL_STOP, 0, 0},
    {CTL_PAUSE, 0, 0},
    {CTL_RESUME, 0, 0},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const char sample_text[] = "STATUS=serving 3 clients";

/* A fixed part whose bytes tell the types apart. */
static void
fill_fixed(uint8_t *fixed, size_t len, unsigned type)
{
	size_t i;

	for (i = 0; i < len; i++)
		fixed[i] = (uint8_t)(type * 7 + i);
}

/* Encode message i of types[] into buf; returns its length. */
static size_t
encode_sample(uint8_t *buf, size_t bufsz, size_t i)
{
	uint8_t fixed[sizeof(struct ctl_fault)];
	const char *text = types[i].has_text ? sample_text : NULL;
	size_t textlen = types[i].has_text ? strlen(sample_text) : 0;
	int n;

	fill_fixed(fixed, types[i].min, types[i].type);
	n = ctl_encode(buf, bufsz, types[i].type, types[i].min ? fixed : NULL,
	    types[i].min, text, textlen);
	assert_true(n > 0);
	assert_int_equal(n, CTL_HDR_SIZE + types[i].min + textlen);
	return (size_t)n;
}

/* Check that payload is message i of types[] as encode_sample made it. */
static void
check_sample(const struct ctl_hdr *hdr, const uint8_t *payload, size_t i)
{
	uint8_t fixed[sizeof(struct ctl_fault)];
	const char *text = "x";
	size_t textlen = 99;

	assert_int_equal(hdr->version, CTL_VERSION);
	assert_int_equal(hdr->type, types[i].type);
	assert_int_equal(ctl_payload(hdr, payload, &text, &textlen), CTL_OK);
	fill_fixed(fixed, types[i].min, types[i].type);
	if (types[i].min > 0)
		assert_memory_equal(payload, fixed, types[i].min);
	if (types[i].has_text) {
		assert_int_equal(textlen, strlen(sample_text));
		assert_ptr_equal(text, (const char *)payload + types[i].min);
		assert_memory_equal(text, sample_text, textlen);
	} else {
		assert_null(text);
		assert_int_equal(textlen, 0);
	}
}

/* A frame with an arbitrary header, for frames ctl_encode refuses. */
static size_t
raw_frame(uint8_t *buf, uint16_t version, uint16_t type, uint32_t len)
{
	struct ctl_hdr h = {.version = version, .type = type, .len = len};

	memcpy(buf, &h, sizeof(h));
	return sizeof(h);
}

static void
encode_parse__every_type__round_trips(void **state)
{
	uint8_t buf[512];
	struct ctl_hdr hdr;
	size_t i, n, framelen;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		n = encode_sample(buf, sizeof(buf), i);
		assert_int_equal(ctl_parse(buf, n, &hdr, &framelen), CTL_OK);
		assert_int_equal(framelen, n);
		assert_int_equal(hdr.len, n - CTL_HDR_SIZE);
		check_sample(&hdr, buf + CTL_HDR_SIZE, i);
	}
}

static void
encode__heartbeat_struct__fields_survive(void **state)
{
	struct ctl_heartbeat hb = {.t_ns = 123456789,
	    .seq = 42,
	    .progress = UINT64_MAX,
	    .flags = CTL_HB_HAS_PROGRESS | CTL_HB_HAS_SEQ,
	    .conns = 7};
	struct ctl_heartbeat out;
	struct ctl_hdr hdr;
	uint8_t buf[128];
	const char *text;
	size_t framelen, textlen;
	int n;

	(void)state;
	n = ctl_encode(
	    buf, sizeof(buf), CTL_HEARTBEAT, &hb, sizeof(hb), "up", 2);
	assert_int_equal(n, CTL_HDR_SIZE + sizeof(hb) + 2);
	assert_int_equal(ctl_parse(buf, (size_t)n, &hdr, &framelen), CTL_OK);
	assert_int_equal(
	    ctl_payload(&hdr, buf + CTL_HDR_SIZE, &text, &textlen), CTL_OK);
	memcpy(&out, buf + CTL_HDR_SIZE, sizeof(out));
	assert_memory_equal(&out, &hb, sizeof(hb));
	assert_int_equal(textlen, 2);
	assert_memory_equal(text, "up", 2);
}

static void
encode__long_text__truncated_to_max_text(void **state)
{
	static char text[CTL_MAX_TEXT + 100];
	static uint8_t buf[CTL_MAX_FRAME];
	struct ctl_text fixed = {.t_ns = 1};
	struct ctl_hdr hdr;
	size_t framelen;
	int n;

	(void)state;
	memset(text, 'a', sizeof(text));
	n = ctl_encode(buf, sizeof(buf), CTL_LOG, &fixed, sizeof(fixed), text,
	    sizeof(text));
	assert_int_equal(n, CTL_HDR_SIZE + sizeof(fixed) + CTL_MAX_TEXT);
	assert_int_equal(ctl_parse(buf, (size_t)n, &hdr, &framelen), CTL_OK);
	assert_int_equal(hdr.len, sizeof(fixed) + CTL_MAX_TEXT);
}

static void
encode__errors__refused(void **state)
{
	static uint8_t big[CTL_MAX_PAYLOAD + 1];
	static uint8_t buf[CTL_MAX_FRAME + 16];
	struct ctl_ready ready = {.t_ns = 5};
	size_t i, need;

	(void)state;
	/* Every size below the frame's is ESPACE, the exact size is enough. */
	need = CTL_HDR_SIZE + sizeof(ready);
	for (i = 0; i < need; i++)
		assert_int_equal(ctl_encode(buf, i, CTL_READY, &ready,
		                     sizeof(ready), NULL, 0),
		    CTL_ESPACE);
	assert_int_equal(
	    ctl_encode(buf, need, CTL_READY, &ready, sizeof(ready), NULL, 0),
	    (int)need);

	assert_int_equal(
	    ctl_encode(buf, sizeof(buf), 0, NULL, 0, NULL, 0), CTL_ETYPE);
	assert_int_equal(
	    ctl_encode(buf, sizeof(buf), 40, &ready, sizeof(ready), NULL, 0),
	    CTL_ETYPE);
	assert_int_equal(ctl_encode(buf, sizeof(buf), CTL_READY, &ready,
	                     sizeof(ready) - 1, NULL, 0),
	    CTL_ESHORT);
	assert_int_equal(ctl_encode(buf, sizeof(buf), CTL_FAULT, big,
	                     sizeof(struct ctl_fault) - 1, NULL, 0),
	    CTL_ESHORT);
	/* A fixed part as long as the largest payload is fine... */
	assert_int_equal(ctl_encode(buf, sizeof(buf), CTL_READY, big,
	                     CTL_MAX_PAYLOAD, NULL, 0),
	    CTL_MAX_FRAME);
	/* ...one more byte of either kind is not. */
	assert_int_equal(ctl_encode(buf, sizeof(buf), CTL_READY, big,
	                     CTL_MAX_PAYLOAD + 1, NULL, 0),
	    CTL_ETOOBIG);
	assert_int_equal(
	    ctl_encode(buf, sizeof(buf), CTL_LOG, big, CTL_MAX_PAYLOAD, "x", 1),
	    CTL_ETOOBIG);
	assert_int_equal(
	    ctl_encode(buf, sizeof(buf), CTL_LOG, big, SIZE_MAX, "x", 1),
	    CTL_ETOOBIG);
}

static void
parse__truncated_at_every_length__emore(void **state)
{
	uint8_t buf[512];
	struct ctl_hdr hdr;
	size_t i, len, n, framelen;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		n = encode_sample(buf, sizeof(buf), i);
		for (len = 0; len < n; len++) {
			/* A copy of exactly len bytes, so ASan sees any read
			 * past it. */
			uint8_t *p = malloc(len ? len : 1);

			assert_non_null(p);
			memcpy(p, buf, len);
			framelen = 12345;
			assert_int_equal(
			    ctl_parse(p, len, &hdr, &framelen), CTL_EMORE);
			assert_int_equal(framelen, 12345);
			free(p);
		}
	}
}

static void
parse__bad_version__eversion(void **state)
{
	static const uint16_t bad[] = {0, CTL_VERSION + 1, 0x0100, 0xffff};
	uint8_t buf[64];
	struct ctl_hdr hdr;
	size_t i, framelen;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_frame(buf, bad[i], CTL_STOP, 0);
		assert_int_equal(ctl_parse(buf, CTL_HDR_SIZE, &hdr, &framelen),
		    CTL_EVERSION);
		/* Caught as soon as the version field is complete. */
		assert_int_equal(ctl_parse(buf, 1, &hdr, &framelen), CTL_EMORE);
		assert_int_equal(
		    ctl_parse(buf, 2, &hdr, &framelen), CTL_EVERSION);
	}
}

static void
parse__oversize_length__etoobig(void **state)
{
	static uint8_t buf[CTL_MAX_FRAME];
	struct ctl_hdr hdr;
	size_t framelen;

	(void)state;
	raw_frame(buf, CTL_VERSION, CTL_LOG, CTL_MAX_PAYLOAD + 1);
	assert_int_equal(
	    ctl_parse(buf, CTL_HDR_SIZE, &hdr, &framelen), CTL_ETOOBIG);
	raw_frame(buf, CTL_VERSION, CTL_LOG, UINT32_MAX);
	assert_int_equal(
	    ctl_parse(buf, CTL_HDR_SIZE, &hdr, &framelen), CTL_ETOOBIG);
	/* The largest payload is allowed. */
	raw_frame(buf, CTL_VERSION, CTL_LOG, CTL_MAX_PAYLOAD);
	assert_int_equal(
	    ctl_parse(buf, CTL_MAX_FRAME - 1, &hdr, &framelen), CTL_EMORE);
	assert_int_equal(
	    ctl_parse(buf, CTL_MAX_FRAME, &hdr, &framelen), CTL_OK);
	assert_int_equal(framelen, CTL_MAX_FRAME);
}

static void
parse__trailing_bytes__frame_only(void **state)
{
	uint8_t buf[512];
	struct ctl_hdr hdr;
	size_t n, framelen;

	(void)state;
	n = encode_sample(buf, sizeof(buf), 2);
	memset(buf + n, 0xee, 20);
	assert_int_equal(ctl_parse(buf, n + 20, &hdr, &framelen), CTL_OK);
	assert_int_equal(framelen, n);
}

static void
payload__unknown_type__etype_but_framed(void **state)
{
	static const uint16_t unknown[] = {0, 40, 63, 99, 0xffff};
	uint8_t buf[64] = {0};
	struct ctl_hdr hdr;
	size_t i, framelen;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		raw_frame(buf, CTL_VERSION, unknown[i], 4);
		/* The framing holds, so a reader can skip the frame. */
		assert_int_equal(
		    ctl_parse(buf, CTL_HDR_SIZE + 4, &hdr, &framelen), CTL_OK);
		assert_int_equal(
		    ctl_payload(&hdr, buf + CTL_HDR_SIZE, NULL, NULL),
		    CTL_ETYPE);
		assert_string_equal(ctl_type_name(unknown[i]), "unknown");
	}
}

static void
payload__one_byte_short_per_type__eshort(void **state)
{
	uint8_t payload[sizeof(struct ctl_fault)] = {0};
	struct ctl_hdr hdr = {.version = CTL_VERSION};
	size_t i, len;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		hdr.type = (uint16_t)types[i].type;
		for (len = 0; len < types[i].min; len++) {
			hdr.len = (uint32_t)len;
			assert_int_equal(
			    ctl_payload(&hdr, payload, NULL, NULL), CTL_ESHORT);
		}
		hdr.len = (uint32_t)types[i].min;
		assert_int_equal(
		    ctl_payload(&hdr, payload, NULL, NULL), CTL_OK);
	}
}

static void
payload__longer_than_struct__accepted(void **state)
{
	uint8_t payload[sizeof(struct ctl_fault) + 16] = {0};
	struct ctl_hdr hdr = {.version = CTL_VERSION};
	const char *text;
	size_t i, textlen;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		hdr.type = (uint16_t)types[i].type;
		hdr.len = (uint32_t)(types[i].min + 16);
		assert_int_equal(
		    ctl_payload(&hdr, payload, &text, &textlen), CTL_OK);
		if (types[i].has_text) {
			assert_ptr_equal(
			    text, (const char *)payload + types[i].min);
			assert_int_equal(textlen, 16);
		} else {
			/* Appended fields, not text (STOP etc. included). */
			assert_null(text);
			assert_int_equal(textlen, 0);
		}
	}
}

static void
names__every_value__named(void **state)
{
	static const char *const type_names[] = {"booted", "ready", "heartbeat",
	    "log", "console", "fault", "exited", "paused", "resumed", "stop",
	    "pause", "resume"};
	size_t i;
	int s;

	(void)state;
	for (i = 0; i < NTYPES; i++)
		assert_string_equal(
		    ctl_type_name(types[i].type), type_names[i]);
	assert_string_equal(
	    ctl_fault_kind_name(CTL_FAULT_EXCEPTION), "exception");
	assert_string_equal(ctl_fault_kind_name(CTL_FAULT_ABORT), "abort");
	assert_string_equal(
	    ctl_fault_kind_name(CTL_FAULT_TRIPLE), "triple-fault");
	assert_string_equal(
	    ctl_fault_kind_name(CTL_FAULT_BAD_HCALL), "bad-hypercall");
	assert_string_equal(
	    ctl_fault_kind_name(CTL_FAULT_KVM_ERROR), "kvm-error");
	assert_string_equal(
	    ctl_fault_kind_name(CTL_FAULT_HOST_ERROR), "host-error");
	assert_string_equal(ctl_fault_kind_name(CTL_FAULT_DUMP), "dump");
	assert_string_equal(ctl_fault_kind_name(0), "unknown");
	assert_string_equal(ctl_fault_kind_name(8), "unknown");
	for (s = CTL_ESPACE; s <= CTL_EMORE; s++)
		assert_string_not_equal(ctl_strerror(s), "unknown status");
	assert_string_equal(ctl_strerror(-6), "unknown status");
	assert_string_equal(ctl_strerror(2), "unknown status");
}

/* Every sample message back to back; returns the stream's length. */
static size_t
sample_stream(uint8_t *buf, size_t bufsz)
{
	size_t i, n = 0;

	for (i = 0; i < NTYPES; i++)
		n += encode_sample(buf + n, bufsz - n, i);
	return n;
}

static void
reader__one_byte_at_a_time__every_frame(void **state)
{
	static struct ctl_reader r;
	uint8_t stream[2048];
	const uint8_t *payload;
	struct ctl_hdr hdr;
	size_t n, pos, got = 0;
	int rc;

	(void)state;
	n = sample_stream(stream, sizeof(stream));
	ctl_reader_init(&r);
	for (pos = 0; pos < n; pos++) {
		assert_int_equal(ctl_reader_feed(&r, stream + pos, 1), CTL_OK);
		while ((rc = ctl_reader_next(&r, &hdr, &payload)) == CTL_OK) {
			assert_true(got < NTYPES);
			check_sample(&hdr, payload, got);
			got++;
		}
		assert_int_equal(rc, CTL_EMORE);
	}
	assert_int_equal(got, NTYPES);
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME);
}

static void
reader__several_frames_in_one_feed__all_taken(void **state)
{
	static struct ctl_reader r;
	uint8_t stream[2048];
	const uint8_t *payload;
	struct ctl_hdr hdr;
	size_t i, n, half;

	(void)state;
	n = sample_stream(stream, sizeof(stream));
	ctl_reader_init(&r);
	/* Split mid-frame: the first feed ends inside a frame. */
	half = n / 2 + 3;
	assert_int_equal(ctl_reader_feed(&r, stream, half), CTL_OK);
	for (i = 0; ctl_reader_next(&r, &hdr, &payload) == CTL_OK; i++)
		check_sample(&hdr, payload, i);
	assert_true(i > 1 && i < NTYPES);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EMORE);
	assert_int_equal(ctl_reader_feed(&r, stream + half, n - half), CTL_OK);
	for (; ctl_reader_next(&r, &hdr, &payload) == CTL_OK; i++)
		check_sample(&hdr, payload, i);
	assert_int_equal(i, NTYPES);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EMORE);
}

static void
reader__payload__valid_across_next(void **state)
{
	static struct ctl_reader r;
	uint8_t stream[2048];
	const uint8_t *p[NTYPES];
	struct ctl_hdr hdr[NTYPES];
	size_t i, n;

	(void)state;
	n = sample_stream(stream, sizeof(stream));
	ctl_reader_init(&r);
	assert_int_equal(ctl_reader_feed(&r, stream, n), CTL_OK);
	for (i = 0; i < NTYPES; i++)
		assert_int_equal(ctl_reader_next(&r, &hdr[i], &p[i]), CTL_OK);
	for (i = 0; i < NTYPES; i++)
		check_sample(&hdr[i], p[i], i);
}

static void
reader__corrupt_stream__sticky_error(void **state)
{
	static struct ctl_reader r;
	uint8_t buf[512];
	const uint8_t *payload;
	struct ctl_hdr hdr;
	size_t n;

	(void)state;
	ctl_reader_init(&r);
	n = encode_sample(buf, sizeof(buf), 0);
	assert_int_equal(ctl_reader_feed(&r, buf, n), CTL_OK);
	raw_frame(buf, CTL_VERSION + 1, CTL_LOG, 0);
	assert_int_equal(ctl_reader_feed(&r, buf, CTL_HDR_SIZE), CTL_OK);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_OK);
	check_sample(&hdr, payload, 0);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EVERSION);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EVERSION);
	/* Good bytes after the bad ones do not bring the stream back. */
	n = encode_sample(buf, sizeof(buf), 1);
	assert_int_equal(ctl_reader_feed(&r, buf, n), CTL_OK);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EVERSION);

	/* An oversize length is just as final. */
	ctl_reader_init(&r);
	raw_frame(buf, CTL_VERSION, CTL_LOG, CTL_MAX_PAYLOAD + 1);
	assert_int_equal(ctl_reader_feed(&r, buf, CTL_HDR_SIZE), CTL_OK);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_ETOOBIG);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_ETOOBIG);
}

static void
reader__unknown_type__skipped(void **state)
{
	static struct ctl_reader r;
	uint8_t buf[512];
	const uint8_t *payload;
	struct ctl_hdr hdr;
	size_t n;

	(void)state;
	ctl_reader_init(&r);
	raw_frame(buf, CTL_VERSION, 200, 5);
	memcpy(buf + CTL_HDR_SIZE, "abcde", 5);
	assert_int_equal(ctl_reader_feed(&r, buf, CTL_HDR_SIZE + 5), CTL_OK);
	n = encode_sample(buf, sizeof(buf), 3);
	assert_int_equal(ctl_reader_feed(&r, buf, n), CTL_OK);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_OK);
	assert_int_equal(hdr.type, 200);
	assert_int_equal(ctl_payload(&hdr, payload, NULL, NULL), CTL_ETYPE);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_OK);
	check_sample(&hdr, payload, 3);
}

static void
reader__full_buffer__espace_until_drained(void **state)
{
	static struct ctl_reader r;
	static uint8_t big[CTL_MAX_FRAME];
	static char text[CTL_MAX_TEXT];
	const uint8_t *payload;
	struct ctl_hdr hdr;
	size_t n;
	int len;

	(void)state;
	ctl_reader_init(&r);
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME);
	assert_int_equal(
	    ctl_reader_feed(&r, big, CTL_MAX_FRAME + 1), CTL_ESPACE);
	/* All or nothing: the refused feed left nothing behind. */
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME);

	/* One frame of the largest size fills the buffer exactly. */
	memset(big, 0, sizeof(big));
	raw_frame(big, CTL_VERSION, CTL_READY, CTL_MAX_PAYLOAD);
	assert_int_equal(ctl_reader_feed(&r, big, CTL_MAX_FRAME - 1), CTL_OK);
	assert_int_equal(ctl_reader_space(&r), 1);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_EMORE);
	assert_int_equal(
	    ctl_reader_feed(&r, big + CTL_MAX_FRAME - 1, 2), CTL_ESPACE);
	assert_int_equal(
	    ctl_reader_feed(&r, big + CTL_MAX_FRAME - 1, 1), CTL_OK);
	assert_int_equal(ctl_reader_space(&r), 0);
	assert_int_equal(ctl_reader_feed(&r, "x", 1), CTL_ESPACE);
	assert_int_equal(ctl_reader_feed(&r, "x", 0), CTL_OK);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_OK);
	assert_int_equal(hdr.len, CTL_MAX_PAYLOAD);
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME);

	/* Unread bytes at the back of the buffer are moved to the front
	 * when a feed needs the room. */
	memset(text, 't', sizeof(text));
	len = ctl_encode(big, sizeof(big), CTL_LOG, &(struct ctl_text){9},
	    sizeof(struct ctl_text), text, sizeof(text));
	assert_true(len > 0);
	n = 0;
	while (n + (size_t)len <= CTL_MAX_FRAME) {
		assert_int_equal(ctl_reader_feed(&r, big, (size_t)len), CTL_OK);
		n += (size_t)len;
	}
	assert_int_equal(ctl_reader_feed(&r, big, (size_t)len), CTL_ESPACE);
	assert_int_equal(ctl_reader_next(&r, &hdr, &payload), CTL_OK);
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME - n + len);
	assert_int_equal(ctl_reader_feed(&r, big, (size_t)len), CTL_OK);
	while (ctl_reader_next(&r, &hdr, &payload) == CTL_OK) {
		const char *t;
		size_t tlen;

		assert_int_equal(ctl_payload(&hdr, payload, &t, &tlen), CTL_OK);
		assert_int_equal(tlen, CTL_MAX_TEXT);
		assert_memory_equal(t, text, tlen);
		n -= (size_t)len;
	}
	assert_int_equal(n, 0);
	assert_int_equal(ctl_reader_space(&r), CTL_MAX_FRAME);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encode_parse__every_type__round_trips),
	    cmocka_unit_test(encode__heartbeat_struct__fields_survive),
	    cmocka_unit_test(encode__long_text__truncated_to_max_text),
	    cmocka_unit_test(encode__errors__refused),
	    cmocka_unit_test(parse__truncated_at_every_length__emore),
	    cmocka_unit_test(parse__bad_version__eversion),
	    cmocka_unit_test(parse__oversize_length__etoobig),
	    cmocka_unit_test(parse__trailing_bytes__frame_only),
	    cmocka_unit_test(payload__unknown_type__etype_but_framed),
	    cmocka_unit_test(payload__one_byte_short_per_type__eshort),
	    cmocka_unit_test(payload__longer_than_struct__accepted),
	    cmocka_unit_test(names__every_value__named),
	    cmocka_unit_test(reader__one_byte_at_a_time__every_frame),
	    cmocka_unit_test(reader__several_frames_in_one_feed__all_taken),
	    cmocka_unit_test(reader__payload__valid_across_next),
	    cmocka_unit_test(reader__corrupt_stream__sticky_error),
	    cmocka_unit_test(reader__unknown_type__skipped),
	    cmocka_unit_test(reader__full_buffer__espace_until_drained),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
