/*
 * compat.h: what the BSD headers have and glibc's lack.
 */
#ifndef SUMMONER_COMPAT_H
#define SUMMONER_COMPAT_H

#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
/* Iterate while the body may remove (and free) var. */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                             \
	for ((var) = TAILQ_FIRST(head);                                        \
	     (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);            \
	     (var) = (tvar))
#endif

#endif /* SUMMONER_COMPAT_H */
