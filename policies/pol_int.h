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

#endif
