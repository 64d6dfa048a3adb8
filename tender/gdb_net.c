/*
 * gdb_net.c: the gdb stub's listener and packet framing.
 *
 * The listener is a unix socket of mode 0600 or TCP on 127.0.0.1, never
 * anything reachable from another host: whoever talks to the stub can read
 * and write all of the guest.  Framing is "$data#xx"; anything a client
 * sends is bounded by the buffer of struct gdb_conn, and the worst a
 * hostile client can do is end its own session.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gdb.h"
#include "tender.h"

static int lfd = -1;
static char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char lwhere[128];

int
gdb_net_lfd(void)
{
	return lfd;
}

/* An existing path may be replaced only if it is a socket nobody serves. */
static int
clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    sun->sun_path);
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "%s: another process listens there",
		    sun->sun_path);
		errno = EADDRINUSE;
		return -1;
	}
	if (errno != ECONNREFUSED)
		goto fail;
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", sun->sun_path, strerror(errno));
	return -1;
}

static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen,
		    "unix:PATH needs an absolute path shorter than %zu bytes",
		    sizeof(sun.sun_path));
		errno = EINVAL;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (clear_stale(&sun, err, errlen) < 0)
		return -1;
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	/* Before listen(): until then nobody can connect, whatever the umask
	 * made of the file. */
	if (chmod(path, 0600) < 0 || listen(fd, 1) < 0) {
		int saved = errno;

		unlink(path);
		errno = saved;
		goto fail;
	}
	strcpy(unix_path, path);
	snprintf(lwhere, sizeof(lwhere), "%s", path);
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int
listen_tcp(const char *hostport, char *err, size_t errlen)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;
	int fd = -1, one = 1;

	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "tcp:127.0.0.1:PORT expected");
		errno = EINVAL;
		return -1;
	}
	if ((size_t)(colon - hostport) != strlen("127.0.0.1") ||
	    strncmp(hostport, "127.0.0.1", 9) != 0) {
		snprintf(err, errlen,
		    "tcp: only 127.0.0.1 is allowed, not '%.*s' (the stub "
		    "gives full control of the guest)",
		    (int)(colon - hostport), hostport);
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 ||
	    port > 65535) {
		snprintf(err, errlen, "tcp: bad port '%s'", colon + 1);
		errno = EINVAL;
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(
	         AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) < 0)
		goto fail;
	snprintf(lwhere, sizeof(lwhere), "127.0.0.1:%u", ntohs(sin.sin_port));
	return fd;
fail:
	snprintf(err, errlen, "tcp:%s: %s", hostport, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int
gdb_listen(struct tender *t, const char *spec, char *where, size_t wherelen,
    char *err, size_t errlen)
{
	(void)t;
	if (lfd < 0) {
		if (spec == NULL) {
			snprintf(err, errlen, "no address given");
			errno = EINVAL;
			return -1;
		}
		if (strncmp(spec, "unix:", 5) == 0)
			lfd = listen_unix(spec + 5, err, errlen);
		else if (strncmp(spec, "tcp:", 4) == 0)
			lfd = listen_tcp(spec + 4, err, errlen);
		else {
			snprintf(err, errlen,
			    "'%s': expected unix:/PATH or tcp:127.0.0.1:PORT",
			    spec);
			errno = EINVAL;
		}
		if (lfd < 0)
			return -1;
	}
	snprintf(where, wherelen, "%s", lwhere);
	return 0;
}

int
gdb_net_accept(void)
{
	int fd;

	if (lfd < 0)
		return -1;
	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	return fd;
}

void
gdb_net_close(void)
{
	if (lfd < 0)
		return;
	close(lfd);
	lfd = -1;
	if (unix_path[0] != '\0')
		unlink(unix_path);
	unix_path[0] = '\0';
}

void
gdb_net_async(int fd)
{
	struct f_owner_ex owner = {.type = F_OWNER_TID, .pid = gettid()};
	int fl;

	if (fcntl(fd, F_SETOWN_EX, &owner) < 0 ||
	    fcntl(fd, F_SETSIG, SIGUSR1) < 0 || (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_ASYNC) < 0)
		fprintf(stderr,
		    "summoner-tender: gdb: no SIGIO on the socket: "
		    "%s (Ctrl-C will not interrupt the guest)\n",
		    strerror(errno));
}

static int
send_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	ssize_t n;

	while (len > 0) {
		n = send(fd, b, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			b += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A client that stops reading for 10 s is gone. */
			if (poll(&pfd, 1, 10000) > 0 || errno == EINTR)
				continue;
		}
		return -1;
	}
	return 0;
}

int
gdb_net_send(struct gdb_conn *c, const char *s, size_t len)
{
	static char out[2 * GDB_PKT_MAX + 8];
	unsigned sum = 0;
	size_t i, n = 0;

	if (len > 2 * GDB_PKT_MAX)
		len = 2 * GDB_PKT_MAX;
	out[n++] = '$';
	for (i = 0; i < len; i++) {
		sum += (uint8_t)s[i];
		out[n++] = s[i];
	}
	n += (size_t)snprintf(out + n, sizeof(out) - n, "#%02x", sum & 0xff);
	return send_all(c->fd, out, n);
}

static void
consume(struct gdb_conn *c, size_t n)
{
	memmove(c->rx, c->rx + n, c->rxlen - n);
	c->rxlen -= n;
}

/*
 * Take one packet out of c->rx if a complete one is there: 1 (packet in
 * buf), 2 (0x03), 0 (need more bytes).  Junk before a '$' is skipped.
 */
static int
take_packet(struct gdb_conn *c, char *buf, size_t *len)
{
	size_t i, end, n;
	unsigned sum;
	int hi, lo;

	for (;;) {
		if (c->rxlen == 0)
			return 0;
		if (c->rx[0] == 0x03) {
			consume(c, 1);
			return 2;
		}
		if (c->rx[0] != '$') {
			/* '+', '-' (we never resend: gdb retries on its
			 * own) and line noise. */
			consume(c, 1);
			continue;
		}
		for (end = 1; end < c->rxlen && c->rx[end] != '#'; end++)
			;
		if (end + 3 > c->rxlen) {
			if (c->rxlen == sizeof(c->rx)) {
				/* Longer than anything we advertised. */
				(void)send_all(c->fd, "-", 1);
				c->rxlen = 0;
			}
			return 0;
		}
		if (end - 1 > GDB_PKT_MAX) {
			(void)send_all(c->fd, "-", 1);
			consume(c, end + 3);
			continue;
		}
		sum = 0;
		for (i = 1; i < end; i++)
			sum += c->rx[i];
		hi = tender_hexval(c->rx[end + 1]);
		lo = tender_hexval(c->rx[end + 2]);
		if (hi < 0 || lo < 0 ||
		    (unsigned)(hi << 4 | lo) != (sum & 0xff)) {
			if (!c->noack)
				(void)send_all(c->fd, "-", 1);
			consume(c, end + 3);
			continue;
		}
		n = 0;
		for (i = 1; i < end; i++) {
			if (c->rx[i] == '}' && i + 1 < end)
				buf[n++] = (char)(c->rx[++i] ^ 0x20);
			else
				buf[n++] = (char)c->rx[i];
		}
		buf[n] = '\0';
		*len = n;
		consume(c, end + 3);
		if (!c->noack)
			(void)send_all(c->fd, "+", 1);
		return 1;
	}
}

enum gdb_rd
gdb_net_read(struct gdb_conn *c, char *buf, size_t *len, int idle_fd,
    void (*idle)(void *), void *arg)
{
	struct pollfd pfd[2];
	ssize_t n;
	int r;

	for (;;) {
		if ((r = take_packet(c, buf, len)) == 1)
			return GDB_RD_PACKET;
		if (r == 2)
			return GDB_RD_INTR;
		pfd[0].fd = c->fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = idle_fd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, idle_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return GDB_RD_GONE;
		}
		if (idle_fd >= 0 && (pfd[1].revents & POLLIN))
			idle(arg);
		if (pfd[0].revents == 0)
			continue;
		n = recv(c->fd, c->rx + c->rxlen, sizeof(c->rx) - c->rxlen,
		    MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return GDB_RD_GONE;
		c->rxlen += (size_t)n;
	}
}
