/*
 * watch.c: an instance's health deadlines (health.h).
 *
 * Pure arithmetic on the caller's clock: the daemon feeds it
 * instance_clock() and arms one timer for the next deadline it returns;
 * unit tests feed it made-up times and never sleep.
 */
#include <string.h>

#include "health.h"

static const char *const verdict_names[] = {
    [HEALTH_OK] = "ok",
    [HEALTH_MISS] = "heartbeat-miss",
    [HEALTH_STALL] = "stall",
    [HEALTH_READY_TIMEOUT] = "ready-timeout",
};

const char *
health_verdict_name(int v)
{
	if (v < 0 ||
	    (size_t)v >= sizeof(verdict_names) / sizeof(verdict_names[0]))
		return "unknown";
	return verdict_names[v];
}

void
health_watch_start(
    struct health_watch *w, const struct health_params *p, uint64_t now)
{
	memset(w, 0, sizeof(*w));
	w->p = *p;
	w->t_start = now;
}

void
health_watch_ready(struct health_watch *w, uint64_t now)
{
	if (w->t_ready != 0)
		return;
	w->t_ready = now;
	/* The first beat is due one interval after READY, not after boot. */
	if (w->t_last_beat < now)
		w->t_last_beat = now;
}

enum health_verdict
health_watch_beat(
    struct health_watch *w, uint64_t now, bool has_progress, uint64_t progress)
{
	w->beats++;
	w->t_last_beat = now;
	if (!has_progress)
		return HEALTH_OK;
	if (w->has_progress && progress == w->progress)
		w->same_progress++;
	else
		w->same_progress = 0;
	w->has_progress = true;
	w->progress = progress;
	if (w->fired || w->p.stall_beats == 0 ||
	    w->same_progress < w->p.stall_beats)
		return HEALTH_OK;
	w->fired = true;
	return HEALTH_STALL;
}

/* The heartbeat deadline, 0 when none applies (not ready, or off).  Long
 * intervals saturate instead of wrapping. */
static uint64_t
miss_deadline(const struct health_watch *w)
{
	uint64_t span;

	if (w->t_ready == 0 || w->p.hb_interval == 0 || w->p.hb_misses == 0 ||
	    (w->beats_optional && w->beats == 0))
		return 0;
	if (w->p.hb_interval > UINT64_MAX / w->p.hb_misses)
		return UINT64_MAX;
	span = w->p.hb_interval * w->p.hb_misses;
	return w->t_last_beat > UINT64_MAX - span ? UINT64_MAX
	                                          : w->t_last_beat + span;
}

static uint64_t
ready_deadline(const struct health_watch *w)
{
	if (w->t_ready != 0 || w->p.ready_timeout == 0)
		return 0;
	return w->t_start > UINT64_MAX - w->p.ready_timeout
	           ? UINT64_MAX
	           : w->t_start + w->p.ready_timeout;
}

enum health_verdict
health_watch_check(
    struct health_watch *w, uint64_t now, uint64_t *next, uint64_t *deadline)
{
	uint64_t miss = miss_deadline(w), ready = ready_deadline(w);

	if (next != NULL)
		*next = 0;
	if (deadline != NULL)
		*deadline = 0;
	if (w->fired)
		return HEALTH_OK;
	if (ready != 0 && now >= ready) {
		w->fired = true;
		if (deadline != NULL)
			*deadline = ready;
		return HEALTH_READY_TIMEOUT;
	}
	if (miss != 0 && now >= miss) {
		w->fired = true;
		w->misses++;
		if (deadline != NULL)
			*deadline = miss;
		return HEALTH_MISS;
	}
	if (next != NULL)
		*next = ready != 0 ? ready : miss;
	return HEALTH_OK;
}
