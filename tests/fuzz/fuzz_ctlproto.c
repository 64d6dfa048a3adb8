/*
 * fuzz_ctlproto.c: libFuzzer target for the control protocol framing.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       tests/fuzz/fuzz_ctlproto.c tender/ctlproto.c -o fuzz_ctlproto
 *
 * The input is a byte stream as a peer might send it.  Three oracles on
 * top of the sanitizers:
 *  - every frame ctl_parse() finds re-encodes with ctl_encode() to the
 *    same bytes (when ctl_encode can express it);
 *  - a ctl_reader fed the same stream in pseudo-random chunks yields the
 *    same frames and the same final status as walking it with ctl_parse();
 *  - ctl_payload() never points outside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "summoner/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 4096

static struct ctl_reader reader;
static uint8_t enc[CTL_MAX_FRAME];
static struct {
	size_t off;
	struct ctl_hdr hdr;
} frames[MAX_FRAMES];

static uint32_t
next_rand(uint32_t *s)
{
	/* xorshift32: chunk sizes only need to vary, reproducibly. */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
check_payload(const struct ctl_hdr *hdr, const uint8_t *payload)
{
	const char *text = NULL;
	size_t textlen = 0;
	int rc, n;

	rc = ctl_payload(hdr, payload, &text, &textlen);
	if (rc != CTL_OK) {
		if (rc != CTL_ETYPE && rc != CTL_ESHORT)
			abort();
		return;
	}
	if (text == NULL) {
		if (textlen != 0)
			abort();
	} else if ((const uint8_t *)text < payload ||
	           (const uint8_t *)text + textlen != payload + hdr->len ||
	           textlen == 0) {
		abort();
	}

	/* The fixed part is everything before the text. */
	if (textlen > CTL_MAX_TEXT)
		return; /* ctl_encode would truncate it */
	n = ctl_encode(enc, sizeof(enc), hdr->type, payload, hdr->len - textlen,
	    text, textlen);
	if (n != (int)(CTL_HDR_SIZE + hdr->len))
		abort();
	if (memcmp(enc + CTL_HDR_SIZE, payload, hdr->len) != 0)
		abort();
	(void)ctl_type_name(hdr->type);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_hdr hdr;
	const uint8_t *payload;
	size_t pos = 0, framelen, nframes = 0, seen = 0, fed = 0, chunk;
	uint32_t seed = 2463534242u ^ (uint32_t)size;
	int final, rc;

	/* 1. Walk the stream frame by frame. */
	for (;;) {
		final = ctl_parse(data + pos, size - pos, &hdr, &framelen);
		if (final != CTL_OK)
			break;
		if (framelen != CTL_HDR_SIZE + (size_t)hdr.len ||
		    framelen > size - pos || hdr.version != CTL_VERSION ||
		    hdr.len > CTL_MAX_PAYLOAD)
			abort();
		check_payload(&hdr, data + pos + CTL_HDR_SIZE);
		if (nframes < MAX_FRAMES) {
			frames[nframes].off = pos;
			frames[nframes].hdr = hdr;
		}
		nframes++;
		pos += framelen;
	}
	if (final != CTL_EMORE && final != CTL_EVERSION && final != CTL_ETOOBIG)
		abort();
	(void)ctl_strerror(final);

	/* 2. The same stream through a reader, in chunks. */
	if (size > 0)
		seed ^= data[0] * 16777619u;
	ctl_reader_init(&reader);
	rc = CTL_EMORE;
	while (fed < size) {
		uint32_t r = next_rand(&seed);

		chunk = r % 8 == 0 ? r % (CTL_MAX_FRAME + 1) : r % 64 + 1;
		if (chunk > size - fed)
			chunk = size - fed;
		if (chunk > ctl_reader_space(&reader)) {
			if (ctl_reader_feed(&reader, data + fed, chunk) !=
			    CTL_ESPACE)
				abort();
			chunk = ctl_reader_space(&reader);
			if (chunk == 0)
				abort(); /* would deadlock */
		}
		if (ctl_reader_feed(&reader, data + fed, chunk) != CTL_OK)
			abort();
		fed += chunk;
		while (
		    (rc = ctl_reader_next(&reader, &hdr, &payload)) == CTL_OK) {
			if (seen >= nframes)
				abort();
			if (seen < MAX_FRAMES) {
				const uint8_t *want = data + frames[seen].off;

				if (memcmp(&hdr, &frames[seen].hdr,
				        sizeof(hdr)) != 0 ||
				    payload == NULL ||
				    memcmp(payload, want + CTL_HDR_SIZE,
				        hdr.len) != 0)
					abort();
			}
			seen++;
		}
		if (rc != CTL_EMORE) {
			/* Corrupt: it must be the walk's verdict, and it must
			 * stick. */
			if (rc != final || seen != nframes)
				abort();
			if (ctl_reader_next(&reader, &hdr, &payload) != rc)
				abort();
			break;
		}
	}
	if (rc == CTL_EMORE && (seen != nframes || final != CTL_EMORE))
		abort();
	return 0;
}
