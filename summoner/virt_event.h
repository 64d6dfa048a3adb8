/*
 * virt_event.h: libvirt's event loop, run by the summoner's libevent
 * event_base.
 *
 * libvirt's client library needs an event loop for everything that
 * arrives unasked: domain events, the close of a connection, keepalive
 * pings.  Rather than a thread running virEventRunDefaultImpl(), the
 * summoner registers its own loop with virEventRegisterImpl(): each
 * libvirt watch becomes a libevent event on the summoner's base, each
 * libvirt timeout a libevent timer, and their callbacks run on the loop
 * thread, between DNS queries.  Nothing here blocks.
 *
 * libvirt calls the add/update/remove functions from whichever thread
 * made a libvirt API call (a synchronous call switches the connection's
 * socket watch off and on again around its own wait), so the tables are
 * locked and the event_base must be usable from several threads:
 * evthread_use_pthreads() before event_base_new().  With only the loop
 * thread ever calling libvirt, that costs one uncontended lock per call.
 *
 * A removed watch or timeout is only marked dead: its libvirt free
 * function runs later, from the loop, never from inside the remove call
 * (the caller may hold locks that the free function takes).
 */
#ifndef SUMMONER_VIRT_EVENT_H
#define SUMMONER_VIRT_EVENT_H

#include <stddef.h>

struct event_base;

struct virt_event_stats {
	size_t handles;  /* live watches */
	size_t timeouts; /* live timeouts */
	size_t dead;     /* removed, free function not yet called */
};

/*
 * Register the libevent loop on base as libvirt's event implementation.
 * Must be called once, before the first virConnectOpen(), from the loop
 * thread, with base created after evthread_use_pthreads().  libvirt has
 * no way to unregister an implementation: base must outlive every libvirt
 * connection.  Returns 0, or -1 if already registered on another base or
 * out of memory.
 */
int virt_event_init(struct event_base *base);

/* Counts of the records in the tables (for tests and "show"). */
void virt_event_stats(struct virt_event_stats *st);

/*
 * Call the free functions of removed records now and release everything
 * that is dead.  The loop does this itself; for a clean exit after the
 * last connection is closed.
 */
void virt_event_reap(void);

#endif /* SUMMONER_VIRT_EVENT_H */
