/*
 * tctl: drive summoner-tender over its control channel, the way the
 * summoner will, and print every event as one line that tests can grep.
 *
 *   tctl [options] -- TENDER [TENDER-ARGS...]
 *
 *   -T MS     give up after MS milliseconds (default 10000): kill the
 *             tender, print "timeout", exit 3
 *   -r        send STOP as soon as READY arrives
 *   -b N      send STOP after N heartbeats
 *   -S MS     send STOP MS milliseconds after READY
 *   -P        after READY: PAUSE, check that no event arrives for 200 ms,
 *             RESUME, wait for one more heartbeat, STOP; prints latencies
 *   -n N      boot N times (with -r) and print boot-to-READY statistics
 *             and the tender's peak RSS instead of events
 *   -q        do not print console lines
 *   -x        close the control channel after READY (the parent "dies")
 *   -H MS     after CAPTURED, hold the faulted tender MS milliseconds (any
 *             event in that time is printed and counted), then STOP;
 *             without -H, STOP is sent as soon as CAPTURED arrives
 *   -K        after CAPTURED, close the control channel instead of STOP
 *
 * CAPTURED prints "captured t=.. flags=.. frames=N capture_us=X" (X: from
 * the FAULT's timestamp to CAPTURED's), "captured-dir \"DIR\"" and one
 * "frame N ..." line per backtrace frame; "held ms=.. events=N" ends a
 * hold.
 *
 * Timestamps are microseconds since the tender was spawned.  The last line
 * is "tender-exit status=N" or "tender-signal sig=N".  Exit status: 0 when
 * the tender ran and was reaped, 2 usage, 3 timeout, 4 protocol error.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "summoner/ctlproto.h"
#include "tender/tender.h"

extern char **environ;

static int opt_timeout = 10000, opt_stop_ready, opt_beats = -1;
static int opt_stop_after = -1, opt_pause, opt_boots, opt_quiet;
static int opt_close_after_ready, opt_hold = -1, opt_close_captured;

static void
send_cmd(int fd, unsigned type)
{
	uint8_t buf[CTL_HDR_SIZE];
	int n = ctl_encode(buf, sizeof(buf), type, NULL, 0, NULL, 0);

	if (n > 0 && write(fd, buf, (size_t)n) != n)
		perror("tctl: write");
}

static void
print_text(const char *what, const char *s, size_t n)
{
	size_t i;

	printf("%s \"", what);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

static const char *const regn[CTL_NREGS] = {"rax", "rbx", "rcx", "rdx", "rsi",
    "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};

static void
print_fault(const struct ctl_fault *f, const char *msg, size_t msglen)
{
	int i;

	printf("fault kind=%s", ctl_fault_kind_name(f->kind));
	if (f->vector != ~0ull)
		printf(" vector=%llu", (unsigned long long)f->vector);
	printf(" err=0x%llx cr2=0x%llx rip=0x%llx rflags=0x%llx",
	    (unsigned long long)f->error_code, (unsigned long long)f->cr2,
	    (unsigned long long)f->rip, (unsigned long long)f->rflags);
	for (i = 0; i < CTL_NREGS; i++)
		printf(" %s=0x%llx", regn[i], (unsigned long long)f->regs[i]);
	printf(" cs=0x%x ss=0x%x ds=0x%x es=0x%x fs=0x%x gs=0x%x", f->cs, f->ss,
	    f->ds, f->es, f->fs, f->gs);
	printf(" source=%s%s%s hcall=%u ",
	    (f->source & CTL_REGS_GUEST) ? "guest" : "",
	    (f->source & CTL_REGS_GUEST) && (f->source & CTL_REGS_VCPU) ? "+"
	                                                                : "",
	    (f->source & CTL_REGS_VCPU) ? "vcpu" : "", f->hcall);
	print_text("msg=", msg, msglen);
}

struct run {
	pid_t pid;
	long hwm_kb; /* the tender's peak RSS (VmHWM), sampled at events */
	uint64_t t0, t_main, t_booted, t_ready, t_ready_rx, t_cmd;
	int beats, events_while_paused, paused, stopped, closed;
	uint64_t pause_lat, resume_lat, stop_lat;
	uint64_t t_fault;    /* the FAULT's t_ns */
	uint64_t t_captured; /* when CAPTURED arrived (0: not yet) */
	int holding, events_while_held;
};

/*
 * The tender's own peak RSS.  Read from /proc while it lives: wait4's
 * ru_maxrss would also count our pages, which a vfork()ed child shares
 * until it execs.
 */
static void
sample_hwm(struct run *r)
{
	char path[64], line[128];
	FILE *f;
	long kb;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)r->pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1 && kb > r->hwm_kb)
			r->hwm_kb = kb;
	fclose(f);
}

static const char *const exit_reasons[] = {
    "?", "guest", "stopped", "fault", "error"};

/* Handle one frame; returns 1 when EXITED arrived. */
static int
on_frame(
    struct run *r, int fd, const struct ctl_hdr *h, const uint8_t *p, int print)
{
	const char *text = NULL;
	size_t textlen = 0;
	uint64_t t = (tender_now_ns() - r->t0) / 1000;

	if (ctl_payload(h, p, &text, &textlen) != CTL_OK) {
		printf("protocol-error short payload type=%u\n", h->type);
		exit(4);
	}
	if (r->paused == 1 && h->type != CTL_PAUSED)
		r->events_while_paused++;
	if (r->holding && h->type != CTL_EXITED)
		r->events_while_held++;
	if (h->type != CTL_EXITED && (print || h->type == CTL_READY))
		sample_hwm(r);
	switch (h->type) {
	case CTL_BOOTED: {
		struct ctl_booted b;

		memcpy(&b, p, sizeof(b));
		r->t_main = b.t_start_ns;
		r->t_booted = b.t_ns;
		if (print)
			printf("booted t=%llu entry=0x%llx mem=%llu "
			       "kernel_end=0x%llx\n",
			    (unsigned long long)t, (unsigned long long)b.entry,
			    (unsigned long long)b.mem_size,
			    (unsigned long long)b.kernel_end);
		break;
	}
	case CTL_READY:
		/* READY as the tender stamped it, and when we learned it: the
		 * difference is our own wake-up, not the boot. */
		memcpy(&r->t_ready, p, sizeof(r->t_ready));
		r->t_ready_rx = tender_now_ns();
		if (print)
			printf("ready t=%llu\n", (unsigned long long)t);
		if (opt_close_after_ready) {
			close(fd);
			r->closed = 1;
			return 0;
		}
		if (opt_stop_ready) {
			r->t_cmd = tender_now_ns();
			send_cmd(fd, CTL_STOP);
		} else if (opt_pause) {
			r->t_cmd = tender_now_ns();
			send_cmd(fd, CTL_PAUSE);
		}
		break;
	case CTL_HEARTBEAT: {
		struct ctl_heartbeat hb;

		memcpy(&hb, p, sizeof(hb));
		r->beats++;
		if (print) {
			printf("heartbeat t=%llu seq=%llu progress=%llu "
			       "flags=0x%x conns=%u ",
			    (unsigned long long)t, (unsigned long long)hb.seq,
			    (unsigned long long)hb.progress, hb.flags,
			    hb.conns);
			print_text("status=", text, textlen);
		}
		if (opt_beats >= 0 && r->beats == opt_beats && !r->stopped) {
			r->stopped = 1;
			r->t_cmd = tender_now_ns();
			send_cmd(fd, CTL_STOP);
		}
		if (opt_pause && r->paused == 2 && !r->stopped) {
			r->stopped = 1;
			r->t_cmd = tender_now_ns();
			send_cmd(fd, CTL_STOP);
		}
		break;
	}
	case CTL_LOG:
		if (print)
			print_text("log", text, textlen);
		break;
	case CTL_CONSOLE:
		if (print && !opt_quiet)
			print_text("console", text, textlen);
		break;
	case CTL_FAULT: {
		struct ctl_fault f;

		memcpy(&f, p, sizeof(f));
		if (f.kind != CTL_FAULT_DUMP)
			r->t_fault = f.t_ns;
		if (print)
			print_fault(&f, text, textlen);
		break;
	}
	case CTL_CAPTURED: {
		struct ctl_captured c;
		size_t i, start = 0;
		unsigned line = 0;

		memcpy(&c, p, sizeof(c));
		r->t_captured = tender_now_ns();
		if (print) {
			printf("captured t=%llu flags=0x%x frames=%u "
			       "capture_us=%.1f\n",
			    (unsigned long long)t, c.flags, c.nframes,
			    r->t_fault ? (double)(c.t_ns - r->t_fault) / 1e3
			               : -1.0);
			for (i = 0; i <= textlen; i++) {
				if (i < textlen && text[i] != '\n')
					continue;
				if (line == 0)
					print_text("captured-dir", text + start,
					    i - start);
				else {
					char what[32];

					snprintf(what, sizeof(what), "frame %u",
					    line - 1);
					print_text(
					    what, text + start, i - start);
				}
				line++;
				start = i + 1;
			}
		}
		if (opt_close_captured) {
			close(fd);
			r->closed = 1;
			return 0;
		}
		if (opt_hold < 0) {
			r->t_cmd = tender_now_ns();
			send_cmd(fd, CTL_STOP);
		} else
			r->holding = 1;
		break;
	}
	case CTL_GDB:
		if (print)
			print_text("gdb", text, textlen);
		break;
	case CTL_PAUSED:
		r->pause_lat = tender_now_ns() - r->t_cmd;
		r->paused = 1;
		if (print)
			printf("paused latency_us=%.1f\n",
			    (double)r->pause_lat / 1e3);
		break;
	case CTL_RESUMED:
		r->resume_lat = tender_now_ns() - r->t_cmd;
		r->paused = 2;
		if (print)
			printf(
			    "resumed latency_us=%.1f events_while_paused=%d\n",
			    (double)r->resume_lat / 1e3,
			    r->events_while_paused);
		break;
	case CTL_EXITED: {
		struct ctl_exited x;

		memcpy(&x, p, sizeof(x));
		if (r->t_cmd)
			r->stop_lat = tender_now_ns() - r->t_cmd;
		if (print)
			printf("exited t=%llu status=%d reason=%s\n",
			    (unsigned long long)t, x.status,
			    exit_reasons[x.reason < 5 ? x.reason : 0]);
		return 1;
	}
	default:
		printf("protocol-error unknown type %u\n", h->type);
		exit(4);
	}
	fflush(stdout);
	return 0;
}

/* One tender run.  Returns its wait status; *rss gets its peak RSS (KB). */
static int
run_once(char **argv, int print, struct run *r, long *rss)
{
	static struct ctl_reader rd;
	int sv[2], status = 0, done = 0;
	char fdarg[32];
	struct rusage ru;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("tctl: socketpair");
		exit(2);
	}
	/* posix_spawn (vfork underneath), as the summoner starts tenders:
	 * no copy of our page tables on the boot path. */
	{
		posix_spawn_file_actions_t fa;
		char **args;
		int n = 0, i;

		while (argv[n])
			n++;
		args = calloc((size_t)n + 2, sizeof(*args));
		snprintf(fdarg, sizeof(fdarg), "--control-fd=3");
		args[0] = argv[0];
		args[1] = fdarg;
		for (i = 1; i < n; i++)
			args[i + 1] = argv[i];
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
		r->t0 = tender_now_ns();
		errno = posix_spawn(&pid, argv[0], &fa, NULL, args, environ);
		r->pid = pid;
		posix_spawn_file_actions_destroy(&fa);
		free(args);
		if (errno != 0) {
			perror("tctl: spawn");
			exit(2);
		}
	}
	close(sv[1]);
	ctl_reader_init(&rd);
	while (!done && !r->closed) {
		struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
		struct ctl_hdr h;
		const uint8_t *payload;
		uint8_t buf[8192];
		uint64_t waited = (tender_now_ns() - r->t0) / 1000000;
		int to = opt_timeout - (int)waited, s;
		ssize_t n;

		if (opt_pause && r->paused == 1) {
			/* Stay paused for 200 ms, counting any event. */
			if (tender_now_ns() - r->t_cmd - r->pause_lat >=
			    200000000ull) {
				r->t_cmd = tender_now_ns();
				send_cmd(sv[0], CTL_RESUME);
				r->paused = 3;
			} else
				to = 10;
		}
		if (r->holding) {
			uint64_t held = tender_now_ns() - r->t_captured;

			if (held >= (uint64_t)opt_hold * 1000000) {
				printf("held ms=%llu events=%d\n",
				    (unsigned long long)(held / 1000000),
				    r->events_while_held);
				r->holding = 0;
				r->t_cmd = tender_now_ns();
				send_cmd(sv[0], CTL_STOP);
			} else
				to = (int)((opt_hold * 1000000ull - held) /
				               1000000 +
				           1);
		}
		if (opt_stop_after >= 0 && r->t_ready && !r->stopped &&
		    tender_now_ns() - r->t_ready >=
		        (uint64_t)opt_stop_after * 1000000) {
			r->stopped = 1;
			r->t_cmd = tender_now_ns();
			send_cmd(sv[0], CTL_STOP);
		} else if (opt_stop_after >= 0 && r->t_ready)
			to = 1;
		if (to <= 0) {
			kill(pid, SIGKILL);
			printf("timeout after %d ms\n", opt_timeout);
			waitpid(pid, NULL, 0);
			exit(3);
		}
		if (poll(&pfd, 1, to) <= 0)
			continue;
		n = read(sv[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (ctl_reader_feed(&rd, buf, (size_t)n) != CTL_OK) {
			printf("protocol-error overflow\n");
			exit(4);
		}
		while (
		    !done && (s = ctl_reader_next(&rd, &h, &payload)) == CTL_OK)
			done = on_frame(r, sv[0], &h, payload, print);
		if (!done && s != CTL_EMORE) {
			printf("protocol-error %s\n", ctl_strerror(s));
			exit(4);
		}
	}
	if (!r->closed)
		close(sv[0]);
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("tctl: wait4");
		exit(2);
	}
	*rss = r->hwm_kb > 0 ? r->hwm_kb : ru.ru_maxrss;
	return status;
}

/*
 * Boot N times; print boot-to-READY (spawn to the tender's READY timestamp)
 * and its parts: spawn -> tender main(), main() -> first KVM_RUN, KVM_RUN ->
 * READY; and separately how long READY took to reach us (our wake-up).
 */
static void
boots(char **argv)
{
	uint64_t *lat = calloc((size_t)opt_boots * 5, sizeof(*lat));
	uint64_t *exec = lat + opt_boots, *setup = exec + opt_boots,
	         *guest = setup + opt_boots, *rx = guest + opt_boots;
	long rss, max_rss = 0;
	struct run r;
	int i, n = 0;

	opt_stop_ready = 1;
	for (i = 0; i < opt_boots; i++) {
		run_once(argv, 0, &r, &rss);
		if (r.t_ready == 0 || r.t_booted == 0) {
			fprintf(
			    stderr, "tctl: boot %d never became ready\n", i);
			continue;
		}
		lat[n] = r.t_ready - r.t0;
		exec[n] = r.t_main - r.t0;
		setup[n] = r.t_booted - r.t_main;
		guest[n] = r.t_ready - r.t_booted;
		rx[n] = r.t_ready_rx - r.t_ready;
		n++;
		if (rss > max_rss)
			max_rss = rss;
	}
	if (n == 0)
		exit(4);
	printf("boots=%d peak_rss_kb=%ld\n", n, max_rss);
	stats_print("spawn-to-ready", lat, n);
	stats_print("  spawn-to-main", exec, n);
	stats_print("  main-to-kvm-run", setup, n);
	stats_print("  kvm-run-to-ready", guest, n);
	stats_print("ready-delivery (tender write -> parent read)", rx, n);
	free(lat);
}

int
main(int argc, char **argv)
{
	struct run r;
	long rss;
	int c, status;

	while ((c = getopt(argc, argv, "T:rb:S:Pn:qxH:K")) != -1) {
		switch (c) {
		case 'T':
			opt_timeout = atoi(optarg);
			break;
		case 'r':
			opt_stop_ready = 1;
			break;
		case 'b':
			opt_beats = atoi(optarg);
			break;
		case 'S':
			opt_stop_after = atoi(optarg);
			break;
		case 'P':
			opt_pause = 1;
			break;
		case 'n':
			opt_boots = atoi(optarg);
			break;
		case 'q':
			opt_quiet = 1;
			break;
		case 'x':
			opt_close_after_ready = 1;
			break;
		case 'H':
			opt_hold = atoi(optarg);
			break;
		case 'K':
			opt_close_captured = 1;
			break;
		default:
			fprintf(stderr,
			    "usage: tctl [-T ms] [-r] [-b n] [-S ms] "
			    "[-P] [-n boots] [-q] [-x] [-H ms] [-K] -- TENDER "
			    "ARGS...\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tctl: no tender given\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (opt_boots > 0) {
		boots(argv + optind);
		return 0;
	}
	status = run_once(argv + optind, 1, &r, &rss);
	if (r.stop_lat)
		printf("stop latency_us=%.1f\n", (double)r.stop_lat / 1e3);
	if (WIFEXITED(status))
		printf("tender-exit status=%d peak_rss_kb=%ld\n",
		    WEXITSTATUS(status), rss);
	else
		printf("tender-signal sig=%d\n", WTERMSIG(status));
	return 0;
}
