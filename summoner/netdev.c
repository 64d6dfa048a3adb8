/*
 * netdev.c: bridges, taps and neighbour entries, over rtnetlink (libmnl)
 * and /dev/net/tun.
 *
 * One blocking netlink socket, used synchronously: the kernel answers a
 * link or neighbour request in microseconds, so a round trip on the event
 * loop costs less than the bookkeeping an asynchronous exchange would
 * need.  A receive timeout keeps a wedged kernel from hanging the daemon.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "netdev.h"

#define NL_TIMEOUT_MS 1000
#define NL_DUMP_BUF   32768
#define MAX_BRIDGES   32 /* cached name -> index */

static struct mnl_socket *nl;
static unsigned nl_seq, nl_portid;
static uint8_t nl_buf[NL_DUMP_BUF];

static struct {
	char name[NETDEV_NAMESIZ];
	unsigned index;
} brcache[MAX_BRIDGES];

/* ---- names and addresses (pure) ---- */

static uint32_t
fnv1a(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void
netdev_mac(const char *service, const char *dev, unsigned id, uint8_t mac[6])
{
	uint32_t h = fnv1a(2166136261u, service);

	if (dev != NULL) {
		h = fnv1a(h, "/");
		h = fnv1a(h, dev);
	}
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = (uint8_t)(h >> 16);
	mac[2] = (uint8_t)(h >> 8);
	mac[3] = (uint8_t)h;
	mac[4] = (uint8_t)(id >> 8);
	mac[5] = (uint8_t)id;
}

const char *
netdev_mac_str(const uint8_t mac[6], char buf[NETDEV_MACSTR])
{
	snprintf(buf, NETDEV_MACSTR, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
	    mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

void
netdev_tap_name(const char *service, unsigned id, char name[NETDEV_NAMESIZ])
{
	char ids[16];
	size_t label = strcspn(service, "."), pre = strlen(NETDEV_TAP_PREFIX);
	size_t n = (size_t)snprintf(ids, sizeof(ids), "%u", id), room;

	/* "sm-" + label + "-" + id: the label gives way to the id. */
	room = NETDEV_NAMESIZ - 1 - pre - 1 - n;
	if (label > room)
		label = room;
	memcpy(name, NETDEV_TAP_PREFIX, pre);
	memcpy(name + pre, service, label);
	name[pre + label] = '-';
	memcpy(name + pre + label + 1, ids, n + 1);
}

/* ---- netlink ---- */

static int
nl_open(void)
{
	struct timeval tv = {
	    NL_TIMEOUT_MS / 1000, (NL_TIMEOUT_MS % 1000) * 1000};

	if (nl != NULL)
		return 0;
	if ((nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	        sizeof(tv)) < 0) {
		int e = errno;

		mnl_socket_close(nl);
		nl = NULL;
		errno = e;
		return -1;
	}
	nl_portid = mnl_socket_get_portid(nl);
	return 0;
}

void
netdev_close(void)
{
	if (nl != NULL)
		mnl_socket_close(nl);
	nl = NULL;
	memset(brcache, 0, sizeof(brcache));
}

/*
 * Send nlh (built in nl_buf or elsewhere) and read until its ack or the
 * end of its dump, handing every data message to cb.  0, or -1 with errno
 * (the kernel's error for a refused request).
 */
static int
nl_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned seq;
	ssize_t n;
	int r;

	if (nl_open() < 0)
		return -1;
	seq = nlh->nlmsg_seq = ++nl_seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	/* An ack ends a request (even a get); a dump ends in DONE. */
	if ((nlh->nlmsg_type & 3) != 2 || /* not an RTM_GET* */
	    (nlh->nlmsg_flags & NLM_F_DUMP) != NLM_F_DUMP)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl, nl_buf, sizeof(nl_buf));
		if (n < 0) {
			if (errno == EAGAIN) {
				/* A late answer would confuse the next
				 * request: start afresh. */
				netdev_close();
				errno = ETIMEDOUT;
			}
			return -1;
		}
		r = mnl_cb_run(nl_buf, (size_t)n, seq, nl_portid, cb, data);
	} while (r == MNL_CB_OK);
	return r < 0 ? -1 : 0;
}

static struct nlmsghdr *
nl_msg(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

/* The index of bridge name, cached (a bridge keeps its index). */
static unsigned
bridge_index(const char *name, bool fresh)
{
	unsigned i, idx, free_slot = MAX_BRIDGES;

	for (i = 0; i < MAX_BRIDGES; i++) {
		if (brcache[i].index == 0) {
			if (free_slot == MAX_BRIDGES)
				free_slot = i;
			continue;
		}
		if (strcmp(brcache[i].name, name) == 0) {
			if (!fresh)
				return brcache[i].index;
			brcache[i].index = 0;
			free_slot = i;
			break;
		}
	}
	if ((idx = if_nametoindex(name)) == 0)
		return 0;
	if (free_slot < MAX_BRIDGES) {
		snprintf(brcache[free_slot].name, NETDEV_NAMESIZ, "%s", name);
		brcache[free_slot].index = idx;
	}
	return idx;
}

/* ---- bridges ---- */

struct link_kind {
	char kind[16];
	bool found;
};

static int
linkinfo_cb(const struct nlattr *a, void *data)
{
	struct link_kind *k = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(k->kind, sizeof(k->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int
link_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO &&
	    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		mnl_attr_parse_nested(a, linkinfo_cb, data);
	return MNL_CB_OK;
}

static int
link_kind_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_kind *k = data;

	k->found = true;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, k);
}

int
netdev_bridge_ensure(const struct cfg_bridge *br, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;
	struct nlattr *li, *data;
	struct link_kind k = {"", false};
	uint8_t mac[6];
	unsigned idx;

	/* Create: refused with EEXIST when it is there already. */
	nlh = nl_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, br->name);
	/* A fixed MAC: otherwise the bridge takes its lowest port's, and
	 * guests' ARP caches go stale as taps come and go. */
	netdev_mac(br->name, "bridge", 0, mac);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	if (nl_talk(nlh, NULL, NULL) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "bridge %s: cannot create it: %s",
		    br->name, strerror(errno));
		return -1;
	}
	/* It exists: it must be a bridge. */
	nlh = nl_msg(buf, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, br->name);
	if (nl_talk(nlh, link_kind_cb, &k) < 0 || !k.found) {
		snprintf(err, errlen, "bridge %s: %s", br->name,
		    k.found ? strerror(errno) : "not found after creation");
		return -1;
	}
	if (strcmp(k.kind, "bridge") != 0) {
		snprintf(err, errlen,
		    "bridge %s: an interface of that name exists and is not a "
		    "bridge (kind %s)",
		    br->name, k.kind[0] != '\0' ? k.kind : "none");
		return -1;
	}
	if ((idx = bridge_index(br->name, true)) == 0) {
		snprintf(
		    err, errlen, "bridge %s: %s", br->name, strerror(errno));
		return -1;
	}
	if (br->ip.af != 0) {
		nlh = nl_msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = (uint8_t)br->ip.af;
		ifa->ifa_prefixlen = (uint8_t)br->prefix;
		ifa->ifa_index = idx;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		if (br->ip.af == AF_INET) {
			mnl_attr_put(nlh, IFA_LOCAL, 4, &br->ip.u.v4);
			mnl_attr_put(nlh, IFA_ADDRESS, 4, &br->ip.u.v4);
		} else
			mnl_attr_put(nlh, IFA_ADDRESS, 16, &br->ip.u.v6);
		if (nl_talk(nlh, NULL, NULL) < 0 && errno != EEXIST) {
			snprintf(err, errlen,
			    "bridge %s: cannot add its address: %s", br->name,
			    strerror(errno));
			return -1;
		}
	}
	nlh = nl_msg(buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = (int)idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (nl_talk(nlh, NULL, NULL) < 0) {
		snprintf(err, errlen, "bridge %s: cannot set it up: %s",
		    br->name, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- taps ---- */

/*
 * Attach tap name to bridge index br, then set it up.  Two requests: the
 * kernel applies a request's flags before its per-family settings, so
 * IPv6 address generation must be off before the link goes up, or the
 * tap gets a link-local address and sends DAD and router solicitations
 * into the guest.  Turning it off also makes going up cheaper.
 */
static int
tap_attach(const char *name, unsigned br)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nlattr *spec, *v6;

	nlh = nl_msg(buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_MASTER, br);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	v6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, v6);
	mnl_attr_nest_end(nlh, spec);
	if (nl_talk(nlh, NULL, NULL) < 0)
		return -1;
	nlh = nl_msg(buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_talk(nlh, NULL, NULL);
}

int
netdev_tap_create(const char *service, unsigned id, char name[NETDEV_NAMESIZ],
    char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* EXCL: never take over an interface that is there already. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	netdev_tap_name(service, id, ifr.ifr_name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		if (errno != EBUSY && errno != EEXIST) {
			snprintf(err, errlen, "tap %s: %s", ifr.ifr_name,
			    strerror(errno));
			goto fail;
		}
		/* Taken (a leftover, or another daemon's): let the kernel
		 * pick the lowest free sm-N. */
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s%%d",
		    NETDEV_TAP_PREFIX);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			snprintf(err, errlen, "tap %s: %s", ifr.ifr_name,
			    strerror(errno));
			goto fail;
		}
	}
	memcpy(name, ifr.ifr_name, NETDEV_NAMESIZ);
	name[NETDEV_NAMESIZ - 1] = '\0';
	return fd;
fail:
	close(fd); /* the tap goes with it */
	return -1;
}

int
netdev_tap_attach(
    const char *name, const char *bridge, char *err, size_t errlen)
{
	unsigned br;

	if ((br = bridge_index(bridge, false)) == 0) {
		snprintf(err, errlen, "bridge %s: %s", bridge, strerror(errno));
		return -1;
	}
	if (tap_attach(name, br) < 0) {
		/* The bridge may have been made anew since it was cached. */
		if ((errno != ENODEV && errno != EINVAL) ||
		    (br = bridge_index(bridge, true)) == 0 ||
		    tap_attach(name, br) < 0) {
			snprintf(err, errlen, "tap %s: attach to bridge %s: %s",
			    name, bridge, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---- spare taps ---- */

#define SPARES 64

static struct spare {
	char service[64]; /* "" when the slot is free */
	unsigned id;
	int fd;
	char name[NETDEV_NAMESIZ];
} spares[SPARES];

static struct spare *
spare_of(const char *service)
{
	for (int i = 0; i < SPARES; i++)
		if (strcmp(spares[i].service, service) == 0)
			return &spares[i];
	return NULL;
}

static void
spare_close(struct spare *sp)
{
	close(sp->fd);
	sp->service[0] = '\0';
}

int
netdev_spare_make(const char *service, unsigned id, char *err, size_t errlen)
{
	struct spare *sp;
	int fd;

	if (strlen(service) >= sizeof(sp->service)) {
		snprintf(err, errlen, "service name too long for a spare tap");
		return -1;
	}
	if ((sp = spare_of(service)) != NULL) {
		if (sp->id == id)
			return 0;
		spare_close(sp);
	}
	if ((sp = spare_of("")) == NULL) {
		snprintf(err, errlen, "no room for another spare tap");
		return -1;
	}
	if ((fd = netdev_tap_create(service, id, sp->name, err, errlen)) < 0)
		return -1;
	snprintf(sp->service, sizeof(sp->service), "%s", service);
	sp->id = id;
	sp->fd = fd;
	return 0;
}

int
netdev_spare_take(const char *service, unsigned id, char name[NETDEV_NAMESIZ])
{
	struct spare *sp = spare_of(service);
	int fd;

	if (service[0] == '\0' || sp == NULL || sp->id != id)
		return -1;
	fd = sp->fd;
	memcpy(name, sp->name, NETDEV_NAMESIZ);
	sp->service[0] = '\0';
	return fd;
}

void
netdev_spare_drop(const char *service)
{
	for (int i = 0; i < SPARES; i++)
		if (spares[i].service[0] != '\0' &&
		    (service == NULL ||
		        strcmp(spares[i].service, service) == 0))
			spare_close(&spares[i]);
}

int
netdev_tap_open(const char *service, unsigned id, const char *bridge,
    char name[NETDEV_NAMESIZ], char *err, size_t errlen)
{
	int fd;

	if ((fd = netdev_tap_create(service, id, name, err, errlen)) < 0)
		return -1;
	if (netdev_tap_attach(name, bridge, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- neighbour entries ---- */

static struct nlmsghdr *
neigh_msg(void *buf, uint16_t type, uint16_t flags, unsigned br,
    const struct cfg_ip *ip)
{
	struct nlmsghdr *nlh = nl_msg(buf, type, flags);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nd->ndm_family = (uint8_t)ip->af;
	nd->ndm_ifindex = (int)br;
	mnl_attr_put(nlh, NDA_DST, ip->af == AF_INET ? 4 : 16, &ip->u);
	return nlh;
}

int
netdev_neigh_set(
    const char *bridge, const struct cfg_ip *ip, const uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	unsigned br;

	if ((br = bridge_index(bridge, false)) == 0)
		return -1;
	nlh =
	    neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, br, ip);
	/* REACHABLE, not PERMANENT: the kernel confirms it by itself later
	 * (the guest answers ARP), and an entry a crash left behind ages
	 * out even before netdev_sweep() runs. */
	((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_state = NUD_REACHABLE;
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nl_talk(nlh, NULL, NULL);
}

struct neigh_seen {
	uint8_t mac[6];
	bool found;
};

static int
neigh_attr_cb(const struct nlattr *a, void *data)
{
	struct neigh_seen *n = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(a) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(a), 6);
		n->found = true;
	}
	return MNL_CB_OK;
}

static int
neigh_get_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct ndmsg), neigh_attr_cb, data);
}

int
netdev_neigh_clear(
    const char *bridge, const struct cfg_ip *ip, const uint8_t mac[6])
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct neigh_seen seen = {{0}, false};
	unsigned br;

	if ((br = bridge_index(bridge, false)) == 0)
		return errno == ENODEV ? 0 : -1;
	if (nl_talk(neigh_msg(buf, RTM_GETNEIGH, 0, br, ip), neigh_get_cb,
	        &seen) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!seen.found || memcmp(seen.mac, mac, 6) != 0)
		return 0;
	if (nl_talk(neigh_msg(buf, RTM_DELNEIGH, 0, br, ip), NULL, NULL) < 0)
		return errno == ENOENT ? 0 : -1;
	return 0;
}

/* ---- the sweep ---- */

struct doomed {
	char name[NETDEV_NAMESIZ]; /* a tap */
	unsigned ifindex;          /* a neighbour entry's bridge */
	struct cfg_ip ip;
};

struct sweep {
	const struct config *conf;
	const struct netdev_keep *keep;
	unsigned br[MAX_BRIDGES];
	size_t nbr;
	struct doomed *d;
	size_t n, cap;
	int error;
};

static bool
our_bridge(const struct sweep *sw, unsigned idx)
{
	for (size_t i = 0; i < sw->nbr; i++)
		if (sw->br[i] == idx)
			return true;
	return false;
}

static struct doomed *
doom(struct sweep *sw)
{
	struct doomed *nd;

	if (sw->n == sw->cap) {
		size_t cap = sw->cap ? 2 * sw->cap : 16;

		if ((nd = reallocarray(sw->d, cap, sizeof(*nd))) == NULL) {
			sw->error = ENOMEM;
			return NULL;
		}
		sw->d = nd;
		sw->cap = cap;
	}
	nd = &sw->d[sw->n++];
	memset(nd, 0, sizeof(*nd));
	return nd;
}

struct link_seen {
	const char *name;
	unsigned master;
	struct link_kind k;
};

static int
link_seen_cb(const struct nlattr *a, void *data)
{
	struct link_seen *l = data;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
			l->name = mnl_attr_get_str(a);
		break;
	case IFLA_MASTER:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			l->master = mnl_attr_get_u32(a);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(a, linkinfo_cb, &l->k);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int
sweep_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sweep *sw = data;
	struct link_seen l = {NULL, 0, {"", false}};
	struct doomed *d;

	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_seen_cb, &l);
	if (l.name == NULL ||
	    strncmp(l.name, NETDEV_TAP_PREFIX, strlen(NETDEV_TAP_PREFIX)) !=
	        0 ||
	    strcmp(l.k.kind, "tun") != 0 || !our_bridge(sw, l.master))
		return MNL_CB_OK;
	if (sw->keep != NULL && sw->keep->tap != NULL &&
	    sw->keep->tap(sw->keep->arg, l.name))
		return MNL_CB_OK;
	if ((d = doom(sw)) != NULL)
		snprintf(d->name, sizeof(d->name), "%s", l.name);
	return MNL_CB_OK;
}

struct neigh_dump {
	const uint8_t *dst;
	size_t dstlen;
	struct neigh_seen ll;
};

static int
neigh_dump_attr_cb(const struct nlattr *a, void *data)
{
	struct neigh_dump *n = data;

	if (mnl_attr_get_type(a) == NDA_DST) {
		n->dst = mnl_attr_get_payload(a);
		n->dstlen = mnl_attr_get_payload_len(a);
	}
	return neigh_attr_cb(a, &n->ll);
}

/* Whether ip is an address of one of conf's services. */
static bool
service_address(const struct config *conf, const struct cfg_ip *ip)
{
	const struct cfg_service *s;
	const struct cfg_address *a;

	TAILQ_FOREACH(s, &conf->services, entry)
	TAILQ_FOREACH(a, &s->addresses, entry)
	if (config_ip_eq(&a->ip, ip))
		return true;
	return false;
}

static int
sweep_neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sweep *sw = data;
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);
	struct neigh_dump n;
	struct cfg_ip ip;
	struct doomed *d;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nd)) ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6) ||
	    !our_bridge(sw, (unsigned)nd->ndm_ifindex))
		return MNL_CB_OK;
	memset(&n, 0, sizeof(n));
	mnl_attr_parse(nlh, sizeof(*nd), neigh_dump_attr_cb, &n);
	memset(&ip, 0, sizeof(ip));
	ip.af = nd->ndm_family;
	if (n.dst == NULL || n.dstlen != (ip.af == AF_INET ? 4u : 16u))
		return MNL_CB_OK;
	memcpy(&ip.u, n.dst, n.dstlen);
	if (!service_address(sw->conf, &ip))
		return MNL_CB_OK;
	if (n.ll.found && sw->keep != NULL && sw->keep->neigh != NULL &&
	    sw->keep->neigh(sw->keep->arg, &ip, n.ll.mac))
		return MNL_CB_OK;
	if ((d = doom(sw)) != NULL) {
		d->ifindex = (unsigned)nd->ndm_ifindex;
		d->ip = ip;
	}
	return MNL_CB_OK;
}

int
netdev_sweep(const struct config *conf, const struct netdev_keep *keep,
    unsigned *ntaps, unsigned *nneigh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct cfg_bridge *b;
	struct sweep sw;
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	unsigned taps = 0, neighs = 0, idx;
	size_t i;
	int rc = -1;

	memset(&sw, 0, sizeof(sw));
	sw.conf = conf;
	sw.keep = keep;
	TAILQ_FOREACH(b, &conf->bridges, entry)
	if (sw.nbr < MAX_BRIDGES && (idx = bridge_index(b->name, true)) != 0)
		sw.br[sw.nbr++] = idx;
	if (sw.nbr == 0) {
		rc = 0;
		goto out;
	}
	/* Collect first, delete after: the socket is busy with the dump. */
	nlh = nl_msg(buf, RTM_GETLINK, NLM_F_DUMP);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	if (nl_talk(nlh, sweep_link_cb, &sw) < 0)
		goto out;
	for (i = 0; i < sw.n; i++) {
		struct ifinfomsg *ifi;

		nlh = nl_msg(buf, RTM_DELLINK, 0);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, sw.d[i].name);
		/* Gone already (its tender just died) is as good. */
		if (nl_talk(nlh, NULL, NULL) == 0)
			taps++;
	}
	sw.n = 0;
	nlh = nl_msg(buf, RTM_GETNEIGH, NLM_F_DUMP);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ndmsg));
	g->rtgen_family = AF_UNSPEC;
	if (nl_talk(nlh, sweep_neigh_cb, &sw) < 0)
		goto out;
	for (i = 0; i < sw.n; i++) {
		nlh = neigh_msg(
		    buf, RTM_DELNEIGH, 0, sw.d[i].ifindex, &sw.d[i].ip);
		if (nl_talk(nlh, NULL, NULL) == 0)
			neighs++;
	}
	rc = sw.error != 0 ? -1 : 0;
	if (sw.error != 0)
		errno = sw.error;
out:
	free(sw.d);
	if (ntaps != NULL)
		*ntaps = taps;
	if (nneigh != NULL)
		*nneigh = neighs;
	return rc;
}
