/*
 * netdev.h: the host end of guests' networks: bridges, one tap per
 * instance and net device, and neighbour entries for the guests.
 *
 * Taps are not persistent: the kernel deletes one when the last
 * descriptor on it closes.  The summoner hands the descriptor to the
 * tender and closes its own copy, so a tender that ends, crashes or is
 * killed takes its tap with it.  Neighbour entries (IP -> guest MAC on
 * the bridge) are made when an instance becomes ready and removed when it
 * ends; netdev_sweep() removes what a summoner killed mid-way left.
 *
 * Everything talks to the kernel synchronously over one rtnetlink socket
 * (opened on first use): each call costs one or two round trips of a few
 * microseconds, cheap enough for the boot path.  docs/summoner.md
 * "Networked guests" describes the behaviour.
 */
#ifndef SUMMONER_NETDEV_H
#define SUMMONER_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define NETDEV_TAP_PREFIX "sm-" /* every tap the summoner makes */
#define NETDEV_NAMESIZ    16    /* IFNAMSIZ: 15 characters and a NUL */
#define NETDEV_MACSTR     18    /* "xx:xx:xx:xx:xx:xx" and a NUL */

/*
 * The guest MAC of instance id of service (its absolute name) on its net
 * device dev: 02:HH:HH:HH:II:II, locally administered unicast, HH a hash
 * of the service name (and of dev for any device but the first: pass
 * NULL for the first), II the low 16 bits of id.  Pure.
 */
void netdev_mac(
    const char *service, const char *dev, unsigned id, uint8_t mac[6]);

/* mac as "xx:xx:xx:xx:xx:xx" in buf; returns buf. */
const char *netdev_mac_str(const uint8_t mac[6], char buf[NETDEV_MACSTR]);

/*
 * The tap name for instance id of service: "sm-<label>-<id>", <label> the
 * first label of the service name cut so that the whole fits 15
 * characters (the id is never cut).  Pure.
 */
void netdev_tap_name(
    const char *service, unsigned id, char name[NETDEV_NAMESIZ]);

/*
 * Make sure bridge br exists (created as a bridge with STP off and a MAC
 * derived from its name, so that it does not change as ports come and
 * go), has its configured address, and is up.  An existing interface of
 * that name that is not a bridge is an error.  0, or -1 with a message in
 * err.
 */
int netdev_bridge_ensure(const struct cfg_bridge *br, char *err, size_t errlen);

/*
 * Create a non-persistent tap for instance id of service (name from
 * netdev_tap_name(), or "sm-N" if that is taken), attached to bridge and
 * up, without IPv6 addresses of its own (no DAD or router solicitations
 * into the guest).  The descriptor is O_CLOEXEC; the name is written to
 * name.  Returns the descriptor (closing it deletes the tap), or -1 with
 * a message in err and nothing left behind.
 */
int netdev_tap_open(const char *service, unsigned id, const char *bridge,
    char name[NETDEV_NAMESIZ], char *err, size_t errlen);

/*
 * netdev_tap_open() in two halves, so that the boot path can hand the
 * tender its tap first and attach it while the tender loads: create the
 * tap (down, on no bridge; name as above), then attach it to bridge and
 * set it up.  Same returns; after a failed attach the caller closes the
 * descriptor.
 */
int netdev_tap_create(const char *service, unsigned id,
    char name[NETDEV_NAMESIZ], char *err, size_t errlen);
int netdev_tap_attach(
    const char *name, const char *bridge, char *err, size_t errlen);

/*
 * Spare taps: one tap made ahead per service, for the instance id that
 * service will boot next, so that a cold boot skips TUNSETIFF (0.3 ms,
 * the costliest step of a tap's set-up) on its critical path.  A spare is
 * down and on no bridge, so no frame reaches it before its instance runs;
 * it ends with the daemon like every tap it holds.
 *
 * netdev_spare_make: make service's spare for id unless it has one; a
 * spare for another id is replaced.  0, or -1 with a message in err.
 * netdev_spare_take: the spare for (service, id) as a tap fd (close-on-
 * exec), its name in name; the caller owns the fd.  -1 when there is none.
 * netdev_spare_drop: close service's spare (NULL: every spare).
 */
int netdev_spare_make(
    const char *service, unsigned id, char *err, size_t errlen);
int netdev_spare_take(
    const char *service, unsigned id, char name[NETDEV_NAMESIZ]);
void netdev_spare_drop(const char *service);

/*
 * Point ip at mac on bridge (NUD_REACHABLE, replacing any entry), so the
 * host reaches the guest without an ARP or ND round trip.  0, or -1 with
 * errno.
 */
int netdev_neigh_set(
    const char *bridge, const struct cfg_ip *ip, const uint8_t mac[6]);

/*
 * Remove the entry for ip on bridge if it still points at mac (another
 * instance may own the address by now).  0 (also when there was nothing
 * to remove), or -1 with errno.
 */
int netdev_neigh_clear(
    const char *bridge, const struct cfg_ip *ip, const uint8_t mac[6]);

/* What netdev_sweep() must leave alone: the live instances' taps and
 * neighbour entries.  Either callback may be NULL (keep nothing). */
struct netdev_keep {
	bool (*tap)(void *arg, const char *name);
	bool (*neigh)(void *arg, const struct cfg_ip *ip, const uint8_t mac[6]);
	void *arg;
};

/*
 * After a restart: delete the taps named NETDEV_TAP_PREFIX... attached to
 * one of conf's bridges, and the neighbour entries on those bridges for
 * addresses of conf's services, that keep does not claim.  Interfaces
 * and entries outside conf's bridges are never touched (other daemons may
 * own them).  Counts what went in *ntaps and *nneigh (either may be
 * NULL).  0, or -1 with errno if the kernel could not be asked.
 */
int netdev_sweep(const struct config *conf, const struct netdev_keep *keep,
    unsigned *ntaps, unsigned *nneigh);

/* Close the netlink socket (reopened on next use). */
void netdev_close(void);

#endif /* SUMMONER_NETDEV_H */
