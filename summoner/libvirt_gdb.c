/*
 * libvirt_gdb.c: set a frozen vCPU's registers through QEMU's gdb stub
 * (libvirt_gdb.h).  Runs on a worker thread: it blocks on the socket.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvirt_gdb.h"
#include "util.h"

#define PKT_MAX 16384
/* Bytes of the "g" block the registers above take: 17 * 8 + 4. */
#define REGS_BYTES (17 * 8 + 4)

unsigned
lv_gdb_checksum(const char *p, size_t len)
{
	unsigned s = 0;

	while (len-- > 0)
		s += (unsigned char)*p++;
	return s & 0xff;
}

static int
dial(const char *addr, int timeout_ms)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	const char *colon;
	int fd = -1;

	if (addr[0] == '/') {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(addr) >= sizeof(sun.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sun.sun_path, addr, strlen(addr));
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) <
		        0 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			goto fail;
		return fd;
	}
	if ((colon = strrchr(addr, ':')) == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	return fd;
fail : {
	int e = errno;

	close(fd);
	errno = e;
}
	return -1;
}

static int
send_pkt(int fd, const char *body)
{
	char *buf;
	size_t n = strlen(body), len;
	ssize_t w;
	int rc = -1;

	if ((buf = malloc(n + 5)) == NULL)
		return -1;
	len = (size_t)snprintf(
	    buf, n + 5, "$%s#%02x", body, lv_gdb_checksum(body, n));
	w = write(fd, buf, len);
	if (w == (ssize_t)len)
		rc = 0;
	else if (w >= 0)
		errno = EIO;
	free(buf);
	return rc;
}

/* The next packet's body into out (NUL-terminated); acks it.  Skips the
 * stub's '+' acks.  0, or -1 (errno; EPROTO for a bad packet). */
static int
recv_pkt(int fd, char *out, size_t outsz)
{
	char c;
	size_t len = 0;
	bool in = false;
	int hashes = -1;
	ssize_t n;

	for (;;) {
		if ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		if (hashes >= 0) {
			if (++hashes == 2)
				break;
			continue;
		}
		if (!in) {
			if (c == '$')
				in = true;
			else if (c == '-') {
				errno = EPROTO; /* our packet was refused */
				return -1;
			}
			continue;
		}
		if (c == '#') {
			hashes = 0;
			continue;
		}
		if (len + 1 >= outsz) {
			errno = EPROTO;
			return -1;
		}
		out[len++] = c;
	}
	out[len] = '\0';
	return write(fd, "+", 1) == 1 ? 0 : -1;
}

/* Register i's bytes in the "g" block: offset and size. */
static void
reg_at(int i, size_t *off, size_t *size)
{
	*off = (size_t)i * 8;
	*size = i < 17 ? 8 : 4;
}

int
lv_gdb_set_regs(const char *addr, const uint64_t *regs, const bool *set,
    int timeout_ms, char *err, size_t errlen)
{
	static const char hx[] = "0123456789abcdef";
	char *buf = NULL, *g = NULL;
	size_t off, size, k;
	uint64_t v;
	int fd = -1, i;

	if ((buf = malloc(PKT_MAX)) == NULL ||
	    (g = malloc(2 * REGS_BYTES + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((fd = dial(addr, timeout_ms)) < 0) {
		snprintf(err, errlen, "connect %s: %s", addr, strerror(errno));
		goto fail;
	}
	if (send_pkt(fd, "g") < 0 || recv_pkt(fd, buf, PKT_MAX) < 0) {
		snprintf(err, errlen, "read registers: %s", strerror(errno));
		goto fail;
	}
	if (strlen(buf) < 2 * REGS_BYTES) {
		snprintf(
		    err, errlen, "read registers: %zu hex digits", strlen(buf));
		goto fail;
	}
	g[0] = 'G';
	memcpy(g + 1, buf, 2 * REGS_BYTES);
	g[1 + 2 * REGS_BYTES] = '\0';
	for (i = 0; i < LV_GDB_NREGS; i++) {
		if (!set[i])
			continue;
		reg_at(i, &off, &size);
		for (v = regs[i], k = 0; k < size; k++, v >>= 8) {
			g[1 + 2 * (off + k)] = hx[(v >> 4) & 0xf];
			g[2 + 2 * (off + k)] = hx[v & 0xf];
		}
	}
	for (k = 1; k < 1 + 2 * REGS_BYTES; k++)
		if (hex_digit(g[k]) < 0) {
			snprintf(err, errlen, "read registers: not hex");
			goto fail;
		}
	if (send_pkt(fd, g) < 0 || recv_pkt(fd, buf, PKT_MAX) < 0) {
		snprintf(err, errlen, "write registers: %s", strerror(errno));
		goto fail;
	}
	if (strcmp(buf, "OK") != 0) {
		snprintf(err, errlen,
		    "write registers: the stub said \"%.32s\"", buf);
		goto fail;
	}
	close(fd);
	free(buf);
	free(g);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(g);
	return -1;
}
