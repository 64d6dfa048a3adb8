/*
 * netif.h: a guest's network service loop, joining a NET_BASIC device to
 * the network stack (guests/netstack/netstack.h).
 *
 * rt_netif_up() opens the device, takes the address the summoner handed
 * over on the command line (--ipv4=A.B.C.D/N [--ipv4-gateway=G]) out of
 * argv, sets the stack up and announces the address with a gratuitous
 * ARP.  The application then binds its ports, reports READY, and calls
 * rt_netif_run(), which never returns: it feeds received frames to the
 * stack, runs its timers, and calls the application's beat function
 * every beat interval.  The guest sleeps in POLL whenever nothing is due,
 * so an idle service costs the host nothing.
 */
#ifndef SUMMONER_GUEST_NETIF_H
#define SUMMONER_GUEST_NETIF_H

#include <stdint.h>

#include <netstack.h>
#include <runtime.h>

struct rt_netif {
	struct rt_net net;
	struct gn_stack *stack;
	uint8_t *rx; /* one frame: mtu + 14 bytes */
	size_t rxsize;
	uint32_t ip, gateway;
	uint8_t prefix;
};

/*
 * Open the NET_BASIC device devname and bring the stack s up on it with
 * the address from the arguments (removed from argv).  0, or -1 after
 * printing why on the console.
 */
int rt_netif_up(struct rt_netif *nif, struct gn_stack *s, const char *devname,
    int *argc, char **argv);

/* Serve forever; beat(arg) runs every beat_ns nanoseconds. */
_Noreturn void rt_netif_run(
    struct rt_netif *nif, uint64_t beat_ns, void (*beat)(void *), void *arg);

/* "ip 10.0.0.2/24 gw 10.0.0.1 mac 02:..:.." for logs, into buf[80]. */
void rt_netif_describe(const struct rt_netif *nif, char buf[80]);

#endif /* SUMMONER_GUEST_NETIF_H */
