/*
 * pol_int.h: what the files of policies/ share and nobody else uses.
 */
#ifndef POLICIES_POL_INT_H
#define POLICIES_POL_INT_H

#include <stddef.h>

#define MAX_WORDS 64

/*
 * Cut line s into at most max words, copied NUL-terminated into store (at
 * least 2 * strlen(s) + 1 bytes): blanks separate, "{" and "}" stand
 * alone.  0, or -1 when there are more than max.
 */
int pol_split(const char *s, char *store, char **w, size_t max, size_t *n);

/* Text written into buf[len] piece by piece, snprintf-style: n counts
 * every byte wanted, what does not fit is cut (buf stays NUL-terminated
 * when len > 0). */
struct pol_out {
	char *buf;
	size_t len;
	int n;
};
void pol_put(struct pol_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
