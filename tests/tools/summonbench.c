/*
 * summonbench: summon latency as a DNS client sees it, for
 * tests/bench/summon.  Sends one UDP query (type A) for NAME to the
 * server, waits for its answer and times query-sent -> answer-received
 * with CLOCK_MONOTONIC; repeats N times, sleeping GAP ms after each answer
 * so that the service's instance (idle-timeout shorter than the gap) is
 * stopped before the next query, which therefore summons a new one.
 * Every answer must be NOERROR with an A record for NAME: anything else
 * (or no answer within the timeout) counts as a failure and makes the exit
 * status 1.  Prints one stats.h line ("summon: median_us=...") and a
 * "queries=... answered=... failed=..." line.
 *
 * With -H PORT, the first request right after each answer is an HTTP GET
 * to the answered address (one TCP connection, one try, "Connection:
 * close", read to the end): "first-byte" times query sent -> the
 * response's first byte, "last-byte" query sent -> its last byte.  With
 * -U PORT it is one UDP datagram that must come back unchanged ("echo":
 * query sent -> echo received).  A first request that fails (refused,
 * reset, timed out, not "HTTP/1.x 200", echo differs) counts in
 * "first_failed" and fails the run: nothing is retried.
 *
 *   summonbench [-s ADDR] [-p PORT] [-n N] [-g GAP_MS] [-t TIMEOUT_MS]
 *               [-H PORT | -U PORT] NAME
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stats.h"

#define DNS_HDR    12
#define TYPE_A     1
#define CLASS_IN   1
#define MAX_PACKET 4096
#define NS_PER_MS  1000000ull
#define MAX_ERRORS 5 /* failures reported one by one */

static unsigned nerrors;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Encode NAME (dotted, optional final dot) as wire labels; -1 if bad. */
static int
encode_name(const char *name, uint8_t *out, size_t cap)
{
	size_t n = 0;
	const char *p = name, *dot;

	while (*p != '\0') {
		size_t len;

		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63 || n + 1 + len + 1 > cap)
			return -1;
		out[n++] = (uint8_t)len;
		memcpy(out + n, p, len);
		n += len;
		p += len;
		if (*p == '.')
			p++;
	}
	if (n + 1 > cap || n + 1 > 255)
		return -1;
	out[n++] = 0;
	return (int)n;
}

/* Skip a (possibly compressed) name at off; new offset, or -1. */
static int
skip_name(const uint8_t *pkt, int len, int off)
{
	while (off < len) {
		uint8_t l = pkt[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : -1;
		if (l & 0xc0)
			return -1;
		off += 1 + l;
		if (l == 0)
			return off <= len ? off : -1;
	}
	return -1;
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Does this reply answer query id with NOERROR and at least one A record
 * (the first one's address to *a)?  Returns 1 yes, 0 a well-formed reply
 * that is not, -1 not our reply. */
static int
check_reply(const uint8_t *pkt, int len, unsigned id, struct in_addr *a,
    const char **why)
{
	unsigned qd, an, i;
	int off;

	if (len < DNS_HDR || get16(pkt) != id || !(pkt[2] & 0x80))
		return -1;
	if ((pkt[3] & 0x0f) != 0) {
		static char buf[32];

		snprintf(
		    buf, sizeof(buf), "rcode %u, not NOERROR", pkt[3] & 0x0fu);
		*why = buf;
		return 0;
	}
	qd = get16(pkt + 4);
	an = get16(pkt + 6);
	off = DNS_HDR;
	for (i = 0; i < qd; i++) {
		if ((off = skip_name(pkt, len, off)) < 0 || off + 4 > len) {
			*why = "malformed question";
			return 0;
		}
		off += 4;
	}
	for (i = 0; i < an; i++) {
		unsigned type, class, rdlen;

		if ((off = skip_name(pkt, len, off)) < 0 || off + 10 > len) {
			*why = "malformed answer";
			return 0;
		}
		type = get16(pkt + off);
		class = get16(pkt + off + 2);
		rdlen = get16(pkt + off + 8);
		off += 10;
		if (off + (int)rdlen > len) {
			*why = "malformed answer";
			return 0;
		}
		if (type == TYPE_A && class == CLASS_IN && rdlen == 4) {
			memcpy(a, pkt + off, 4);
			return 1;
		}
		off += (int)rdlen;
	}
	*why = "no A record in the answer";
	return 0;
}

/* One query sent at *t0 (set here); its latency in *ns and the answered
 * address in *a.  0 answered as expected, -1 not. */
static int
one_query(int fd, const uint8_t *qname, int qlen, unsigned id,
    unsigned timeout_ms, uint64_t *t0p, uint64_t *ns, struct in_addr *a)
{
	uint8_t q[DNS_HDR + 256 + 4], r[MAX_PACKET];
	uint64_t t0, deadline;
	const char *why = "?";
	int n, ok;

	memset(q, 0, DNS_HDR);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[5] = 1; /* QDCOUNT */
	memcpy(q + DNS_HDR, qname, (size_t)qlen);
	q[DNS_HDR + qlen] = 0;
	q[DNS_HDR + qlen + 1] = TYPE_A;
	q[DNS_HDR + qlen + 2] = 0;
	q[DNS_HDR + qlen + 3] = CLASS_IN;

	t0 = *t0p = now_ns();
	if (send(fd, q, (size_t)(DNS_HDR + qlen + 4), 0) < 0) {
		fprintf(stderr, "summonbench: send: %s\n", strerror(errno));
		return -1;
	}
	deadline = t0 + timeout_ms * NS_PER_MS;
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		uint64_t now = now_ns();
		int left;

		if (now >= deadline) {
			fprintf(stderr,
			    "summonbench: query %u: no answer in "
			    "%u ms\n",
			    id, timeout_ms);
			return -1;
		}
		left = (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS);
		if (poll(&pfd, 1, left) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(
			    stderr, "summonbench: poll: %s\n", strerror(errno));
			return -1;
		}
		if (!(pfd.revents & POLLIN))
			continue;
		if ((n = (int)recv(fd, r, sizeof(r), 0)) < 0) {
			fprintf(
			    stderr, "summonbench: recv: %s\n", strerror(errno));
			return -1;
		}
		*ns = now_ns() - t0;
		if ((ok = check_reply(r, n, id, a, &why)) < 0)
			continue; /* a late answer to an earlier query */
		if (ok == 0) {
			if (++nerrors <= MAX_ERRORS)
				fprintf(stderr, "summonbench: query %u: %s\n",
				    id, why);
			return -1;
		}
		return 0;
	}
}

/* Wait up to the deadline for fd to be ready for events; 0, or -1 with
 * why set. */
static int
wait_fd(int fd, short events, uint64_t deadline, const char **why)
{
	for (;;) {
		struct pollfd pfd = {fd, events, 0};
		uint64_t now = now_ns();
		int r;

		if (now >= deadline) {
			*why = "timed out";
			return -1;
		}
		r = poll(&pfd, 1,
		    (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = strerror(errno);
			return -1;
		}
		if (r > 0)
			return 0;
	}
}

/* The first request to a just-summoned instance: an HTTP GET (udp false)
 * or a UDP echo to a:port.  *first and *last get the times of the
 * response's first and last byte.  0, or -1 with why set. */
static int
first_request(struct in_addr a, unsigned port, bool udp, const char *host,
    unsigned timeout_ms, uint64_t *first, uint64_t *last, const char **why)
{
	static char errbuf[96];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = a};
	uint64_t deadline = now_ns() + timeout_ms * NS_PER_MS;
	char req[512], resp[16384];
	size_t got = 0;
	int fd, rc = -1, len;
	ssize_t n;
	socklen_t sl = sizeof(int);

	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET,
	    (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (udp)
		len = snprintf(req, sizeof(req), "summonbench echo %llu",
		    (unsigned long long)now_ns());
	else
		len = snprintf(req, sizeof(req),
		    "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: summonbench\r\n"
		    "Connection: close\r\n\r\n",
		    host);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		*why = strerror(errno);
		goto done;
	}
	if (!udp) {
		int err = 0;

		if (wait_fd(fd, POLLOUT, deadline, why) < 0)
			goto done;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 ||
		    err != 0) {
			snprintf(errbuf, sizeof(errbuf), "connect: %s",
			    strerror(err));
			*why = errbuf;
			goto done;
		}
	}
	if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
		*why = "short send";
		goto done;
	}
	*first = 0;
	for (;;) {
		if (wait_fd(fd, POLLIN, deadline, why) < 0)
			goto done;
		n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			*why = strerror(errno);
			goto done;
		}
		*last = now_ns();
		if (*first == 0)
			*first = *last;
		got += (size_t)n;
		if (udp || n == 0 || got == sizeof(resp) - 1)
			break;
	}
	resp[got] = '\0';
	if (udp ? got != (size_t)len || memcmp(resp, req, got) != 0
	        : strncmp(resp, "HTTP/1.1 200 ", 13) != 0 &&
	              strncmp(resp, "HTTP/1.0 200 ", 13) != 0) {
		*why = udp ? "the echo differs" : "not a 200 response";
		goto done;
	}
	rc = 0;
done:
	close(fd);
	return rc;
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: summonbench [-s ADDR] [-p PORT] [-n N] "
	                "[-g GAP_MS] [-t TIMEOUT_MS] [-H PORT | -U PORT] "
	                "NAME\n");
	exit(64);
}

int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	unsigned port = 53, n = 200, gap = 80, timeout = 2000, i;
	unsigned answered = 0, failed = 0, fport = 0, served = 0, ffailed = 0;
	struct sockaddr_in sin;
	struct in_addr a;
	uint8_t qname[256];
	uint64_t *lat, *lfirst, *llast, t0, tf, tl;
	const char *why;
	bool udp = false;
	int c, fd, qlen;

	while ((c = getopt(argc, argv, "s:p:n:g:t:H:U:")) != -1) {
		switch (c) {
		case 'H':
		case 'U':
			fport = (unsigned)strtoul(optarg, NULL, 10);
			udp = c == 'U';
			if (fport == 0 || fport > 65535)
				usage();
			break;
		case 's':
			addr = optarg;
			break;
		case 'p':
			port = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			n = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'g':
			gap = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || n == 0 || port == 0 || port > 65535)
		usage();
	if ((qlen = encode_name(argv[optind], qname, sizeof(qname))) < 0) {
		fprintf(stderr, "summonbench: bad name %s\n", argv[optind]);
		return 64;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "summonbench: bad address %s\n", addr);
		return 64;
	}
	lfirst = calloc(n, sizeof(*lfirst));
	llast = calloc(n, sizeof(*llast));
	if (lfirst == NULL || llast == NULL ||
	    (lat = calloc(n, sizeof(*lat))) == NULL ||
	    (fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "summonbench: setup: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (one_query(fd, qname, qlen, (i + 1) & 0xffff, timeout, &t0,
		        &lat[answered], &a) < 0) {
			failed++;
		} else {
			answered++;
			if (fport != 0 &&
			    first_request(a, fport, udp, argv[optind], timeout,
			        &tf, &tl, &why) == 0) {
				lfirst[served] = tf - t0;
				llast[served++] = tl - t0;
			} else if (fport != 0) {
				if (++ffailed <= MAX_ERRORS)
					fprintf(stderr,
					    "summonbench: query %u: first %s "
					    "request to %s:%u failed: %s\n",
					    i + 1, udp ? "UDP" : "HTTP",
					    inet_ntoa(a), fport, why);
			}
		}
		if (i + 1 < n)
			sleep_ms(gap);
	}
	close(fd);
	if (answered > 0)
		stats_print("summon", lat, (int)answered);
	if (served > 0 && udp) {
		stats_print("echo", llast, (int)served);
	} else if (served > 0) {
		stats_print("first-byte", lfirst, (int)served);
		stats_print("last-byte", llast, (int)served);
	}
	if (fport != 0)
		printf(
		    "first_requests=%u first_failed=%u\n", answered, ffailed);
	if (nerrors > MAX_ERRORS)
		fprintf(stderr, "summonbench: %u more failures not shown\n",
		    nerrors - MAX_ERRORS);
	printf("queries=%u answered=%u failed=%u gap_ms=%u\n", n, answered,
	    failed, gap);
	free(lat);
	free(lfirst);
	free(llast);
	return failed == 0 && ffailed == 0 ? 0 : 1;
}
