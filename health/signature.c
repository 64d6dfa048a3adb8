/*
 * signature.c: fault signatures (health.h).
 *
 * A signature names "the same bug": the fault's kind, its vector and the
 * functions it happened in.  Offsets inside functions are left out on
 * purpose, so that a rebuilt image with the same bug keeps its signature;
 * FNV-1a is enough: signatures are compared, never trusted.
 */
#include <stdio.h>
#include <string.h>

#include "health.h"

static uint64_t
fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len-- > 0)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

/* The part of a frame line that names its function: "crash_divide" of
 * "0x1234 crash_divide+0x1b"; the address when it is "?". */
static void
frame_name(const char *frame, const char **name, size_t *len)
{
	const char *sp = strchr(frame, ' '), *p, *end;

	if (sp == NULL || strcmp(sp + 1, "?") == 0) {
		/* No symbol: the address is the best name there is. */
		*name = frame;
		*len = sp != NULL ? (size_t)(sp - frame) : strlen(frame);
		return;
	}
	p = sp + 1;
	end = strchr(p, '+');
	*name = p;
	*len = end != NULL ? (size_t)(end - p) : strlen(p);
}

void
health_signature(const char *kind, long vector, const char *const *frames,
    size_t nframes, char out[HEALTH_SIG_LEN + 1])
{
	uint64_t h = 0xcbf29ce484222325ull;
	char vec[24];
	const char *name;
	size_t i, len;

	h = fnv(h, kind, strlen(kind) + 1);
	snprintf(vec, sizeof(vec), "%ld", vector);
	h = fnv(h, vec, strlen(vec) + 1);
	for (i = 0; i < nframes && i < HEALTH_SIG_FRAMES; i++) {
		frame_name(frames[i], &name, &len);
		h = fnv(h, name, len);
		h = fnv(h, "", 1);
	}
	snprintf(out, HEALTH_SIG_LEN + 1, "%016llx", (unsigned long long)h);
}

size_t
health_captured_split(
    char *text, const char **dir, const char **frames, size_t max)
{
	char *line = text, *nl;
	size_t n = 0;
	bool first = true;

	*dir = "";
	while (line != NULL && *line != '\0') {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (first)
			*dir = line;
		else if (*line != '\0' && n < max)
			frames[n++] = line;
		first = false;
		line = nl != NULL ? nl + 1 : NULL;
	}
	return n;
}
