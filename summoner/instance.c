/*
 * instance.c: the one place an instance changes state (see instance.h).
 *
 *   booting -> ready | stopping | faulted
 *   ready -> stopping | faulted
 *   stopping -> stopped | faulted | restarting | retired (a clean exit
 *     the policy restarts or retires)
 *   faulted -> restarting | quarantined | retired | stopped
 *   restarting -> booting | retired | stopped
 *   quarantined -> stopped | retired | restarting
 *   stopped, retired: final
 *
 * A deadline missed while booting (ready timeout) or a hang while ready is
 * reported by health/ as a fault, so both go through "faulted": every
 * failure meets the policy the same way.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "instance.h"
#include "log.h"

static const char *const names[IS_NSTATES] = {
    [IS_BOOTING] = "booting",
    [IS_READY] = "ready",
    [IS_STOPPING] = "stopping",
    [IS_STOPPED] = "stopped",
    [IS_FAULTED] = "faulted",
    [IS_RESTARTING] = "restarting",
    [IS_QUARANTINED] = "quarantined",
    [IS_RETIRED] = "retired",
};

#define B(s) (1u << (s))
static const unsigned allowed[IS_NSTATES] = {
    [IS_BOOTING] = B(IS_READY) | B(IS_STOPPING) | B(IS_FAULTED),
    [IS_READY] = B(IS_STOPPING) | B(IS_FAULTED),
    [IS_STOPPING] =
        B(IS_STOPPED) | B(IS_FAULTED) | B(IS_RESTARTING) | B(IS_RETIRED),
    [IS_STOPPED] = 0,
    [IS_FAULTED] =
        B(IS_RESTARTING) | B(IS_QUARANTINED) | B(IS_RETIRED) | B(IS_STOPPED),
    [IS_RESTARTING] = B(IS_BOOTING) | B(IS_RETIRED) | B(IS_STOPPED),
    [IS_QUARANTINED] = B(IS_STOPPED) | B(IS_RETIRED) | B(IS_RESTARTING),
    [IS_RETIRED] = 0,
};
#undef B

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t (*instance_clock)(void) = monotonic_ns;
void (*instance_journal)(const struct instance *, enum istate, enum istate,
    uint64_t, const char *) = NULL;

const char *
istate_name(int state)
{
	if (state < 0 || state >= IS_NSTATES)
		return "invalid";
	return names[state];
}

bool
istate_allowed(enum istate from, enum istate to)
{
	if ((unsigned)from >= IS_NSTATES || (unsigned)to >= IS_NSTATES)
		return false;
	return (allowed[from] & (1u << to)) != 0;
}

void
instance_init(struct instance *in, const char *service, unsigned id)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->service, sizeof(in->service), "%s", service);
	in->id = id;
	in->state = IS_BOOTING;
	in->t_state = in->t_born = instance_clock();
}

int
instance_set_state(struct instance *in, enum istate to, const char *why)
{
	enum istate from = in->state;
	uint64_t now = instance_clock(), dt = now - in->t_state;

	if (!istate_allowed(from, to)) {
		log_warnx("instance %s#%u: refused transition %s -> %s%s%s "
		          "(internal error)",
		    in->service, in->id, istate_name(from), istate_name(to),
		    why ? ": " : "", why ? why : "");
		return -1;
	}
	in->state = to;
	in->t_state = now;
	log_info("instance %s#%u: %s -> %s (%.1f ms)%s%s", in->service, in->id,
	    istate_name(from), istate_name(to), (double)dt / 1e6,
	    why ? ": " : "", why ? why : "");
	if (instance_journal != NULL)
		instance_journal(in, from, to, dt, why);
	return 0;
}
