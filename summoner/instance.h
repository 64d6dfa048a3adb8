/*
 * instance.h: the instance registry's state machine (DESIGN.md "Instance
 * lifecycle").  One enum, one name table, one transition function that
 * checks the transition is allowed, logs it once with the time spent in
 * the old state, and tells the journal.  No state changes anywhere else.
 */
#ifndef SUMMONER_INSTANCE_H
#define SUMMONER_INSTANCE_H

#include <stdbool.h>
#include <stdint.h>

enum istate {
	IS_BOOTING = 0,
	IS_READY,
	IS_STOPPING,
	IS_STOPPED,
	IS_FAULTED,
	IS_RESTARTING, /* waiting out a back-off */
	IS_QUARANTINED,
	IS_RETIRED,
	IS_NSTATES
};

struct instance {
	char service[64]; /* the service's name, for logs: "www" */
	unsigned id;      /* per service, from 1: "www#3" */
	enum istate state;
	uint64_t t_state; /* when it entered "state" (instance_clock) */
	uint64_t t_born;  /* when it was created */
};

/* The clock every transition is stamped with (CLOCK_MONOTONIC ns);
 * tests replace it. */
extern uint64_t (*instance_clock)(void);

/*
 * The journal seam: called once per transition, after the log line.  NULL
 * (the default) records nothing; the daemon points it at its journal.
 */
extern void (*instance_journal)(const struct instance *, enum istate from,
    enum istate to, uint64_t dt_ns, const char *why);

/* "booting", "ready", ...; "invalid" for anything else. */
const char *istate_name(int state);

/* Whether from -> to is a transition the lifecycle allows. */
bool istate_allowed(enum istate from, enum istate to);

/* A new instance of "service", in state booting, stamped now. */
void instance_init(struct instance *in, const char *service, unsigned id);

/*
 * Move "in" to "to": logs "instance www#3: booting -> ready (0.9 ms)" (with
 * ": why" appended when why is not NULL) and journals it.  A transition
 * the lifecycle forbids is a bug in the caller: it is logged and refused
 * (returns -1, state unchanged), never carried out.
 */
int instance_set_state(struct instance *in, enum istate to, const char *why);

#endif /* SUMMONER_INSTANCE_H */
