/*
 * virt_event.c: libvirt's event loop on libevent (see virt_event.h).
 *
 * Each record is a libvirt watch (two libevent events on its fd, one for
 * reading and one for writing, so that changing the wanted events never
 * re-assigns an event another thread may be dispatching) or a libvirt
 * timeout (one persistent timer).  Records live on one list while in use
 * and move to the dead list when libvirt removes them; the reaper, an
 * event activated on removal, frees them and calls their free functions
 * from the loop.
 *
 * Locking: one mutex guards both lists and every record's fields.  It is
 * never held while a libvirt callback runs, since those callbacks call
 * back in here.  Events are switched off with event_del_noblock(): a
 * thread that removes a watch while the loop runs its callback must not
 * wait for that callback, which may be waiting for a lock the remover
 * holds (libvirt's client lock).  The callback then finds the record dead
 * or the event unwanted under the mutex and returns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <libvirt/libvirt.h>

#include "log.h"
#include "virt_event.h"

struct vev {
	LIST_ENTRY(vev) entry;
	int id;
	bool is_timeout;
	bool dead;
	int fd;
	int events; /* VIR_EVENT_HANDLE_READABLE | _WRITABLE wanted */
	int freq;   /* timeout period in ms, 0 every iteration, -1 off */
	struct event *rd, *wr; /* a watch's events */
	struct event *tm;      /* a timeout's timer */
	virEventHandleCallback hcb;
	virEventTimeoutCallback tcb;
	void *opaque;
	virFreeCallback ff;
};

LIST_HEAD(vev_list, vev);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vev_list live = LIST_HEAD_INITIALIZER(live);
static struct vev_list dead = LIST_HEAD_INITIALIZER(dead);
static struct event_base *vbase;
static struct event *reaper;
static int next_id = 1;

static void timeout_set(struct vev *, int);

static struct vev *
find(int id, bool is_timeout)
{
	struct vev *v;

	LIST_FOREACH(v, &live, entry)
	{
		if (v->id == id && v->is_timeout == is_timeout)
			return v;
	}
	return NULL;
}

/* A fresh id; ids are never reused while the process lives. */
static int
new_id(void)
{
	int id = next_id++;

	if (next_id <= 0) /* wrapped: 2^31 records later */
		next_id = 1;
	return id;
}

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vev *v = arg;
	virEventHandleCallback cb;
	void *opaque;
	int id, events = 0;

	pthread_mutex_lock(&lock);
	if ((what & EV_READ) && (v->events & VIR_EVENT_HANDLE_READABLE))
		events |= VIR_EVENT_HANDLE_READABLE;
	if ((what & EV_WRITE) && (v->events & VIR_EVENT_HANDLE_WRITABLE))
		events |= VIR_EVENT_HANDLE_WRITABLE;
	if (v->dead || events == 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	cb = v->hcb;
	opaque = v->opaque;
	id = v->id;
	pthread_mutex_unlock(&lock);
	cb(id, (int)fd, events, opaque);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vev *v = arg;
	virEventTimeoutCallback cb;
	void *opaque;
	int id;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&lock);
	if (v->dead || v->freq < 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	/*
	 * libevent does not re-arm a persistent timer of zero: a timeout of
	 * 0 ("every iteration") is re-armed here, for the next iteration.
	 */
	if (v->freq == 0)
		timeout_set(v, 0);
	cb = v->tcb;
	opaque = v->opaque;
	id = v->id;
	pthread_mutex_unlock(&lock);
	cb(id, opaque);
}

/* Switch a watch's events to want (VIR_EVENT_HANDLE_*); lock held. */
static void
watch_set(struct vev *v, int want)
{
	v->events = want;
	if (want & VIR_EVENT_HANDLE_READABLE)
		event_add(v->rd, NULL);
	else
		event_del_noblock(v->rd);
	if (want & VIR_EVENT_HANDLE_WRITABLE)
		event_add(v->wr, NULL);
	else
		event_del_noblock(v->wr);
}

/* Arm a timeout for freq ms (0: every loop iteration, <0: off); lock held. */
static void
timeout_set(struct vev *v, int freq)
{
	struct timeval tv;

	v->freq = freq;
	event_del_noblock(v->tm);
	if (freq < 0)
		return;
	tv.tv_sec = freq / 1000;
	tv.tv_usec = (freq % 1000) * 1000;
	event_add(v->tm, &tv);
}

static void
vev_free_events(struct vev *v)
{
	if (v->rd != NULL)
		event_free(v->rd);
	if (v->wr != NULL)
		event_free(v->wr);
	if (v->tm != NULL)
		event_free(v->tm);
}

static int
add_handle(int fd, int events, virEventHandleCallback cb, void *opaque,
    virFreeCallback ff)
{
	struct vev *v = NULL;
	int id;

	if (fd < 0 || cb == NULL)
		return -1;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto fail;
	v->fd = fd;
	v->hcb = cb;
	v->opaque = opaque;
	v->ff = ff;
	v->rd = event_new(vbase, fd, EV_READ | EV_PERSIST, watch_cb, v);
	v->wr = event_new(vbase, fd, EV_WRITE | EV_PERSIST, watch_cb, v);
	if (v->rd == NULL || v->wr == NULL)
		goto fail;
	pthread_mutex_lock(&lock);
	v->id = id = new_id();
	LIST_INSERT_HEAD(&live, v, entry);
	watch_set(v, events);
	pthread_mutex_unlock(&lock);
	return id;
fail:
	log_warnx("virt_event: cannot add a watch on fd %d", fd);
	if (v != NULL) {
		vev_free_events(v);
		free(v);
	}
	return -1;
}

static void
update_handle(int watch, int events)
{
	struct vev *v;

	pthread_mutex_lock(&lock);
	if ((v = find(watch, false)) != NULL)
		watch_set(v, events);
	pthread_mutex_unlock(&lock);
}

/* Move v to the dead list and wake the reaper; lock held. */
static void
bury(struct vev *v)
{
	v->dead = true;
	if (v->is_timeout)
		event_del_noblock(v->tm);
	else {
		event_del_noblock(v->rd);
		event_del_noblock(v->wr);
	}
	LIST_REMOVE(v, entry);
	LIST_INSERT_HEAD(&dead, v, entry);
	event_active(reaper, 0, 0);
}

static int
remove_handle(int watch)
{
	struct vev *v;

	pthread_mutex_lock(&lock);
	if ((v = find(watch, false)) == NULL) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	bury(v);
	pthread_mutex_unlock(&lock);
	return 0;
}

static int
add_timeout(
    int freq, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
	struct vev *v = NULL;
	int id;

	if (cb == NULL)
		return -1;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto fail;
	v->is_timeout = true;
	v->fd = -1;
	v->tcb = cb;
	v->opaque = opaque;
	v->ff = ff;
	if ((v->tm = event_new(vbase, -1, EV_PERSIST, timeout_cb, v)) == NULL)
		goto fail;
	pthread_mutex_lock(&lock);
	v->id = id = new_id();
	LIST_INSERT_HEAD(&live, v, entry);
	timeout_set(v, freq);
	pthread_mutex_unlock(&lock);
	return id;
fail:
	log_warnx("virt_event: cannot add a timeout");
	if (v != NULL) {
		vev_free_events(v);
		free(v);
	}
	return -1;
}

static void
update_timeout(int timer, int freq)
{
	struct vev *v;

	pthread_mutex_lock(&lock);
	if ((v = find(timer, true)) != NULL)
		timeout_set(v, freq);
	pthread_mutex_unlock(&lock);
}

static int
remove_timeout(int timer)
{
	struct vev *v;

	pthread_mutex_lock(&lock);
	if ((v = find(timer, true)) == NULL) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	bury(v);
	pthread_mutex_unlock(&lock);
	return 0;
}

void
virt_event_reap(void)
{
	struct vev_list todo = LIST_HEAD_INITIALIZER(todo);
	struct vev *v;

	/* Detach the dead list first: a free function may remove more. */
	pthread_mutex_lock(&lock);
	while ((v = LIST_FIRST(&dead)) != NULL) {
		LIST_REMOVE(v, entry);
		LIST_INSERT_HEAD(&todo, v, entry);
	}
	pthread_mutex_unlock(&lock);
	while ((v = LIST_FIRST(&todo)) != NULL) {
		LIST_REMOVE(v, entry);
		vev_free_events(v);
		if (v->ff != NULL)
			v->ff(v->opaque);
		free(v);
	}
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	virt_event_reap();
}

int
virt_event_init(struct event_base *base)
{
	if (vbase != NULL) {
		if (vbase == base)
			return 0;
		log_warnx("virt_event: already running on another loop");
		errno = EBUSY;
		return -1;
	}
	if ((reaper = event_new(base, -1, 0, reap_cb, NULL)) == NULL) {
		log_warnx("virt_event: cannot make the reaper event");
		errno = ENOMEM;
		return -1;
	}
	vbase = base;
	virEventRegisterImpl(add_handle, update_handle, remove_handle,
	    add_timeout, update_timeout, remove_timeout);
	return 0;
}

void
virt_event_stats(struct virt_event_stats *st)
{
	struct vev *v;

	st->handles = st->timeouts = st->dead = 0;
	pthread_mutex_lock(&lock);
	LIST_FOREACH(v, &live, entry)
	{
		if (v->is_timeout)
			st->timeouts++;
		else
			st->handles++;
	}
	LIST_FOREACH(v, &dead, entry)
	st->dead++;
	pthread_mutex_unlock(&lock);
}
