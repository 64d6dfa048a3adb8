/*
 * devices.c: host ends of the guest's devices.
 *
 *   --block:NAME=PATH   a regular file (or block device) opened read-write;
 *                       capacity is its size rounded down to 512-byte blocks
 *   --net:NAME=IFACE    an existing tap interface, opened on /dev/net/tun
 *   --net:NAME=@FD      an inherited descriptor: a tap fd the parent opened,
 *                       or any datagram socket carrying one frame per message
 *   --net-mac:NAME=MAC  the guest's MAC on net device NAME (main.c parses
 *                       it); random otherwise
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tender.h"

#define BLOCK_SIZE 512
#define NET_MTU    1500

static int
open_block(struct tender_dev *d, char *err, size_t errsz)
{
	struct stat st;
	off_t size;

	d->fd = open(d->arg, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errsz, "block device %s: %s: %s", d->name, d->arg,
		    strerror(errno));
		return -1;
	}
	if (fstat(d->fd, &st) < 0)
		goto fail;
	if (S_ISBLK(st.st_mode))
		size = lseek(d->fd, 0, SEEK_END);
	else if (S_ISREG(st.st_mode))
		size = st.st_size;
	else {
		snprintf(err, errsz,
		    "block device %s: %s is not a regular file or block device",
		    d->name, d->arg);
		goto fail_quiet;
	}
	if (size < BLOCK_SIZE) {
		snprintf(err, errsz,
		    "block device %s: %s is smaller than one %d-byte block",
		    d->name, d->arg, BLOCK_SIZE);
		goto fail_quiet;
	}
	d->block_size = BLOCK_SIZE;
	d->capacity = (uint64_t)size / BLOCK_SIZE * BLOCK_SIZE;
	return 0;
fail:
	snprintf(err, errsz, "block device %s: %s: %s", d->name, d->arg,
	    strerror(errno));
fail_quiet:
	close(d->fd);
	d->fd = -1;
	return -1;
}

static int
open_tap(struct tender_dev *d, char *err, size_t errsz)
{
	struct ifreq ifr;
	int fd;

	if (strlen(d->arg) >= IFNAMSIZ) {
		snprintf(err, errsz,
		    "net device %s: interface name %s too long", d->name,
		    d->arg);
		return -1;
	}
	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "net device %s: /dev/net/tun: %s", d->name,
		    strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, d->arg, strlen(d->arg));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errsz, "net device %s: attach to tap %s: %s",
		    d->name, d->arg,
		    errno == EBUSY ? "already in use" : strerror(errno));
		close(fd);
		return -1;
	}
	d->fd = fd;
	return 0;
}

static int
open_inherited(struct tender_dev *d, char *err, size_t errsz)
{
	char *end;
	long fd;
	int fl;

	errno = 0;
	fd = strtol(d->arg + 1, &end, 10);
	if (errno != 0 || end == d->arg + 1 || *end != '\0' || fd < 0 ||
	    fd > 65535) {
		snprintf(err, errsz, "net device %s: bad descriptor %s",
		    d->name, d->arg);
		return -1;
	}
	if ((fl = fcntl((int)fd, F_GETFL)) < 0 ||
	    fcntl((int)fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errsz, "net device %s: descriptor %ld: %s",
		    d->name, fd, strerror(errno));
		return -1;
	}
	d->fd = (int)fd;
	return 0;
}

static int
open_net(struct tender_dev *d, char *err, size_t errsz)
{
	int r;

	r = d->arg[0] == '@' ? open_inherited(d, err, errsz)
	                     : open_tap(d, err, errsz);
	if (r < 0)
		return -1;
	if (!d->mac_set) {
		/* Random, locally administered unicast, as solo5-hvt does. */
		if (getrandom(d->mac, sizeof(d->mac), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(d->mac)) {
			uint64_t x = tender_now_ns() ^ (uint64_t)getpid() << 20;

			memcpy(d->mac, &x, sizeof(d->mac));
		}
		d->mac[0] = (uint8_t)((d->mac[0] & 0xfe) | 0x02);
	}
	d->mtu = NET_MTU;
	return 0;
}

int
dev_open(struct tender_dev *d, char *err, size_t errsz)
{
	d->fd = -1;
	if (d->type == HVT_MFT_DEV_BLOCK_BASIC)
		return open_block(d, err, errsz);
	return open_net(d, err, errsz);
}
