/*
 * control.c: commands from the parent (STOP, PAUSE, RESUME).
 *
 * A small thread blocks reading the control channel.  Each command becomes
 * one byte in a pipe that only the vCPU thread reads, which keeps the order
 * of commands and leaves all state changes to one thread.  After writing the
 * byte the thread kicks the vCPU thread with SIGUSR1, whose handler sets
 * kvm_run->immediate_exit, so KVM_RUN returns at once whether the signal
 * lands inside or just before it; a POLL in progress sees the pipe become
 * readable.  End of file on the channel means the parent is gone: STOP.
 *
 * SIGTERM and SIGINT take the same path (the handler writes a STOP byte), so
 * a stopped guest always gets its EXITED event.
 *
 * GDB_OPEN stores its address under a lock before its byte goes down the
 * pipe (the vCPU thread reads it with control_gdb_spec()).  Once the gdb
 * stub holds a quarantined VM, end of file on the channel no longer stops
 * the tender: the byte CMD_EOF only tells the stub to stop writing events
 * to a channel nobody reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdb.h"
#include "tender.h"

#define CMD_STOP     TENDER_CMD_STOP
#define CMD_PAUSE    'P'
#define CMD_RESUME   'R'
#define CMD_GDB_OPEN TENDER_CMD_GDB_OPEN
#define CMD_EOF      'E'

static pthread_mutex_t gdb_lock = PTHREAD_MUTEX_INITIALIZER;
static char gdb_spec[256];
static bool gdb_spec_set;
static atomic_bool quarantined;

static volatile uint8_t *kick_flag;
static pthread_t vcpu_thread;
static int sig_cmd_wr = -1;

static void
on_kick(int sig)
{
	(void)sig;
	if (kick_flag != NULL)
		*kick_flag = 1;
}

static void
on_term(int sig)
{
	int saved = errno;
	char c = CMD_STOP;

	(void)sig;
	if (sig_cmd_wr >= 0 && write(sig_cmd_wr, &c, 1) < 0) {
		/* Nothing more can be done inside a signal handler. */
	}
	if (kick_flag != NULL)
		*kick_flag = 1;
	errno = saved;
}

void
control_set_kick(volatile uint8_t *flag)
{
	struct sigaction sa;

	kick_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

static void
send_cmd(struct tender *t, char c)
{
	ssize_t n;

	do
		n = write(t->cmd_wr, &c, 1);
	while (n < 0 && errno == EINTR);
	pthread_kill(vcpu_thread, SIGUSR1);
}

/* GDB_OPEN: keep the address for the vCPU thread, then wake it. */
static void
gdb_open_msg(struct tender *t, const struct ctl_hdr *h, const uint8_t *payload)
{
	const char *text = NULL;
	size_t len = 0;

	if (ctl_payload(h, payload, &text, &len) != CTL_OK)
		return;
	pthread_mutex_lock(&gdb_lock);
	gdb_spec_set = len > 0 && len < sizeof(gdb_spec) &&
	               memchr(text, '\0', len) == NULL;
	if (gdb_spec_set) {
		memcpy(gdb_spec, text, len);
		gdb_spec[len] = '\0';
	}
	pthread_mutex_unlock(&gdb_lock);
	send_cmd(t, CMD_GDB_OPEN);
}

bool
control_gdb_spec(char *buf, size_t len)
{
	bool ok;

	pthread_mutex_lock(&gdb_lock);
	ok = gdb_spec_set && strlen(gdb_spec) < len;
	if (ok)
		memcpy(buf, gdb_spec, strlen(gdb_spec) + 1);
	pthread_mutex_unlock(&gdb_lock);
	return ok;
}

void
control_set_quarantined(void)
{
	atomic_store(&quarantined, true);
}

static void *
control_thread(void *arg)
{
	struct tender *t = arg;
	struct ctl_reader *r;
	struct ctl_hdr h;
	const uint8_t *payload;
	uint8_t buf[4096];
	ssize_t n;
	int s;

	if ((r = malloc(sizeof(*r))) == NULL) {
		send_cmd(t, CMD_STOP);
		return NULL;
	}
	ctl_reader_init(r);
	for (;;) {
		size_t want = ctl_reader_space(r);

		n = read(
		    t->ctl_fd, buf, want < sizeof(buf) ? want : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (ctl_reader_feed(r, buf, (size_t)n) != CTL_OK)
			break;
		while ((s = ctl_reader_next(r, &h, &payload)) == CTL_OK) {
			switch (h.type) {
			case CTL_STOP:
				send_cmd(t, CMD_STOP);
				break;
			case CTL_PAUSE:
				send_cmd(t, CMD_PAUSE);
				break;
			case CTL_RESUME:
				send_cmd(t, CMD_RESUME);
				break;
			case CTL_GDB_OPEN:
				gdb_open_msg(t, &h, payload);
				break;
			default:
				/* An event type sent down: ignore it. */
				break;
			}
		}
		if (s != CTL_EMORE) {
			fprintf(stderr,
			    "summoner-tender: control channel: %s, stopping\n",
			    ctl_strerror(s));
			break;
		}
	}
	free(r);
	send_cmd(t, atomic_load(&quarantined) ? CMD_EOF : CMD_STOP);
	return NULL;
}

int
control_start(struct tender *t)
{
	struct sigaction sa;
	pthread_t tid;
	pthread_attr_t attr;
	sigset_t block, old;
	int fds[2];

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	t->cmd_rd = fds[0];
	t->cmd_wr = fds[1];
	sig_cmd_wr = fds[1];
	vcpu_thread = pthread_self();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (t->ctl_fd < 0)
		return 0;

	/* The control thread must never take the vCPU's signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	errno = pthread_create(&tid, &attr, control_thread, t);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return errno == 0 ? 0 : -1;
}

void
control_apply(struct tender *t)
{
	struct pollfd pfd;
	char c;
	ssize_t n;

	for (;;) {
		/* A Ctrl-C from gdb or a new gdb client also kicks us. */
		gdb_poll(t);
		n = read(t->cmd_rd, &c, 1);
		if (n == 1) {
			switch (c) {
			case CMD_STOP:
			case CMD_EOF:
				tender_exit(
				    t, TENDER_EXIT_STOPPED, CTL_EXIT_STOPPED);
			case CMD_GDB_OPEN:
				gdb_open_request(t);
				break;
			case CMD_PAUSE:
				/* Every command is answered, so a parent can
				 * wait for each; a repeated one changes
				 * nothing else. */
				t->paused = true;
				ev_console_flush(t);
				ev_paused(t, true);
				break;
			case CMD_RESUME:
				t->paused = false;
				ev_paused(t, false);
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (!t->paused)
			return;
		/* Paused: wait for the next command. */
		pfd.fd = t->cmd_rd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, -1);
	}
}

void
control_apply_held(struct tender *t, bool quar)
{
	static const char held[] =
	    "quarantined for gdb: pause and resume change nothing";
	char c;
	ssize_t n;

	while ((n = read(t->cmd_rd, &c, 1)) == 1 || (n < 0 && errno == EINTR)) {
		if (n != 1)
			continue;
		switch (c) {
		case CMD_STOP:
			if (quar && t->cap.exit_status != 0)
				tender_exit(
				    t, t->cap.exit_status, t->cap.exit_reason);
			tender_exit(t, TENDER_EXIT_STOPPED, CTL_EXIT_STOPPED);
		case CMD_EOF:
			if (!quar)
				tender_exit(
				    t, TENDER_EXIT_STOPPED, CTL_EXIT_STOPPED);
			/* Nobody reads the channel any more. */
			t->ctl_fd = -1;
			fprintf(stderr, "summoner-tender: control channel "
			                "closed; still quarantined for gdb\n");
			break;
		case CMD_PAUSE:
		case CMD_RESUME:
			if (quar) {
				ev_log(t, held, sizeof(held) - 1);
				break;
			}
			t->paused = c == CMD_PAUSE;
			if (t->paused)
				ev_console_flush(t);
			ev_paused(t, t->paused);
			break;
		case CMD_GDB_OPEN:
			gdb_open_request(t);
			break;
		}
	}
}

void
tender_exit(struct tender *t, int status, unsigned reason)
{
	gdb_at_exit(status);
	ev_console_flush(t);
	ev_exited(t, status, reason);
	fflush(stdout);
	fflush(stderr);
	_exit(status);
}
