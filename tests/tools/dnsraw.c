/*
 * dnsraw: send hand-made DNS messages and print the replies in hex, for
 * tests/integration/summoner-dns.sh (kdig and drill will not send a
 * broken packet, nor pipeline on one TCP connection).
 *
 *   dnsraw [-t] [-r] [-c] [-n N] [-w MS] HOST PORT [HEX ...]
 *
 * Each HEX argument (or, with none, each line of standard input) is one
 * message; spaces in it are ignored.  Over UDP (the default) each is one
 * datagram.  Over TCP (-t) each gets its 2-byte length prefix, unless -r
 * (raw: the bytes are written as given), and all are written with one
 * write(), back to back.  Then each reply is printed as one line of
 * lowercase hex, until N replies (-n; default one per message) or until
 * MS milliseconds (-w; default 2000) have passed since the messages were
 * sent.  Over TCP, a close by the server prints "closed T" (T in ms since
 * the messages were sent); -c waits for that close after the replies and
 * prints "open" if it has not come by the deadline.
 *
 * Exit status: 0, 1 for a socket error, 64 for a bad command line.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXMSG 65535
#define MAXRAW (4 * 65536) /* -r may write several messages in one */

struct msg {
	uint8_t *b;
	size_t len;
};

static struct msg *msgs;
static size_t nmsgs, amsgs;

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: dnsraw [-t] [-r] [-c] [-n N] [-w MS] HOST PORT "
	                "[HEX ...]\n");
	exit(64);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append the message written in hex in s; 0, or -1 if s is not hex. */
static int
add_hex(const char *s)
{
	uint8_t *b = malloc(strlen(s) / 2 + 1);
	size_t n = 0;
	int hi = -1, v;

	if (b == NULL)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			continue;
		if ((v = hexval((unsigned char)*s)) < 0)
			goto fail;
		if (hi < 0)
			hi = v;
		else {
			b[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0 || n > MAXRAW)
		goto fail;
	if (nmsgs == amsgs) {
		struct msg *m;

		amsgs = amsgs ? amsgs * 2 : 16;
		if ((m = realloc(msgs, amsgs * sizeof(*m))) == NULL)
			goto fail;
		msgs = m;
	}
	msgs[nmsgs].b = b;
	msgs[nmsgs].len = n;
	nmsgs++;
	return 0;
fail:
	free(b);
	return -1;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

/* Wait for fd to be readable until deadline; true if it is. */
static bool
wait_readable(int fd, long deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	long left;

	for (;;) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		if (poll(&p, 1, (int)left) > 0)
			return true;
		if (left == 0)
			return false;
	}
}

static int
run_udp(int fd, long n, long wait)
{
	static uint8_t buf[MAXMSG];
	long got = 0, deadline;
	ssize_t r;

	for (size_t i = 0; i < nmsgs; i++)
		if (send(fd, msgs[i].b, msgs[i].len, 0) < 0)
			perror("dnsraw: send"); /* ICMP from an earlier one */
	deadline = now_ms() + wait;
	while (got < n && wait_readable(fd, deadline)) {
		if ((r = recv(fd, buf, sizeof(buf), 0)) < 0) {
			perror("dnsraw: recv");
			return 1;
		}
		print_hex(buf, (size_t)r);
		got++;
	}
	return 0;
}

static int
run_tcp(int fd, bool raw, bool wait_close, long n, long wait)
{
	static uint8_t in[2 * (MAXMSG + 2)];
	uint8_t *out;
	size_t outlen = 0, inlen = 0, off, mlen;
	long got = 0, t0, deadline;
	ssize_t r;

	for (size_t i = 0; i < nmsgs; i++) {
		if (!raw && msgs[i].len > MAXMSG) {
			fprintf(stderr, "dnsraw: message %zu: too long\n", i);
			return 1;
		}
		outlen += msgs[i].len + (raw ? 0 : 2);
	}
	if ((out = malloc(outlen + 1)) == NULL)
		return 1;
	outlen = 0;
	for (size_t i = 0; i < nmsgs; i++) {
		if (!raw) {
			out[outlen++] = (uint8_t)(msgs[i].len >> 8);
			out[outlen++] = (uint8_t)msgs[i].len;
		}
		memcpy(out + outlen, msgs[i].b, msgs[i].len);
		outlen += msgs[i].len;
	}
	for (off = 0; off < outlen; off += (size_t)r)
		if ((r = write(fd, out + off, outlen - off)) < 0) {
			perror("dnsraw: write");
			free(out);
			return 1;
		}
	free(out);
	t0 = now_ms();
	deadline = t0 + wait;
	while ((got < n || wait_close) && wait_readable(fd, deadline)) {
		r = read(fd, in + inlen, sizeof(in) - inlen);
		if (r <= 0) {
			printf("closed %ld\n", now_ms() - t0);
			return 0;
		}
		inlen += (size_t)r;
		for (;;) {
			if (inlen < 2)
				break;
			mlen = (size_t)in[0] << 8 | in[1];
			if (inlen < 2 + mlen)
				break;
			print_hex(in + 2, mlen);
			got++;
			memmove(in, in + 2 + mlen, inlen - 2 - mlen);
			inlen -= 2 + mlen;
		}
	}
	if (wait_close)
		printf("open\n");
	return 0;
}

int
main(int argc, char **argv)
{
	struct addrinfo hints, *ai = NULL;
	bool tcp = false, raw = false, wait_close = false;
	long n = -1, wait = 2000;
	char *line = NULL;
	size_t cap = 0;
	int c, fd, rc;

	while ((c = getopt(argc, argv, "trcn:w:")) != -1) {
		switch (c) {
		case 't':
			tcp = true;
			break;
		case 'r':
			raw = true;
			break;
		case 'c':
			wait_close = true;
			break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			break;
		case 'w':
			wait = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 2)
		usage();
	for (int i = optind + 2; i < argc; i++)
		if (add_hex(argv[i]) < 0) {
			fprintf(stderr, "dnsraw: not hex: %s\n", argv[i]);
			return 64;
		}
	if (argc - optind == 2) {
		while (getline(&line, &cap, stdin) > 0)
			if (line[strspn(line, " \t\r\n")] != '\0' &&
			    add_hex(line) < 0) {
				fprintf(stderr, "dnsraw: not hex: %s", line);
				return 64;
			}
		free(line);
	}
	if (n < 0)
		n = (long)nmsgs;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) !=
	    0) {
		fprintf(stderr, "dnsraw: %s\n", gai_strerror(rc));
		return 64;
	}
	fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("dnsraw: connect");
		freeaddrinfo(ai);
		return 1;
	}
	freeaddrinfo(ai);
	rc = tcp ? run_tcp(fd, raw, wait_close, n, wait) : run_udp(fd, n, wait);
	close(fd);
	return rc;
}
