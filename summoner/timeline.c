/*
 * timeline.c: the per-service ring of boot timelines (registry.h).  Pure
 * bookkeeping, no clock and no allocation: it runs on the summon path
 * right after the answer went out.
 */

#include "registry.h"

void
tl_ring_add(struct tl_ring *r, const struct svc_timeline *e)
{
	r->t[r->next] = *e;
	r->next = (r->next + 1) % SVC_TIMELINES;
	if (r->count < SVC_TIMELINES)
		r->count++;
}

const struct svc_timeline *
tl_ring_get(const struct tl_ring *r, unsigned i)
{
	if (i >= r->count || r->count > SVC_TIMELINES)
		return NULL;
	return &r->t[(r->next + SVC_TIMELINES - 1 - i) % SVC_TIMELINES];
}

uint32_t
tl_ring_median_answered(const struct tl_ring *r)
{
	uint32_t v[SVC_TIMELINES], x;
	const struct svc_timeline *e;
	unsigned i, j, n = 0;

	for (i = 0; (e = tl_ring_get(r, i)) != NULL; i++)
		if (e->us[TL_ANSWERED] != TL_ABSENT)
			v[n++] = e->us[TL_ANSWERED];
	if (n == 0)
		return TL_ABSENT;
	/* Eight values at most: an insertion sort is all it needs. */
	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[(n - 1) / 2];
}
