/*
 * netif.c: a network service's main loop (netif.h).
 */
#include <stdint.h>

#include "netif.h"
#include "rt.h"

static int
netif_tx(void *ctx, const void *frame, size_t len)
{
	const struct rt_net *net = ctx;

	return rt_net_write(net, frame, len) == HVT_OK ? 0 : -1;
}

int
rt_netif_up(struct rt_netif *nif, struct gn_stack *s, const char *devname,
    int *argc, char **argv)
{
	struct gn_config cfg;
	struct gn_driver drv;
	char err[96];

	memset(nif, 0, sizeof(*nif));
	memset(&cfg, 0, sizeof(cfg));
	if (rt_net_open(devname, &nif->net) < 0) {
		printf("netif: no network device \"%s\"\n", devname);
		return -1;
	}
	if (gn_config_args(argc, argv, &cfg, err, sizeof(err)) < 0) {
		printf("netif: %s (expected --ipv4=A.B.C.D/N "
		       "[--ipv4-gateway=A.B.C.D])\n",
		    err);
		return -1;
	}
	memcpy(cfg.mac, nif->net.mac, sizeof(cfg.mac));
	cfg.mtu = nif->net.mtu < 1500 ? nif->net.mtu : 1500;
	/* The tender insists on room for a whole frame: mtu + 14. */
	nif->rxsize = (size_t)nif->net.mtu + 14;
	if ((nif->rx = rt_alloc(nif->rxsize)) == NULL) {
		printf("netif: out of memory\n");
		return -1;
	}
	nif->stack = s;
	drv.tx = netif_tx;
	drv.ctx = &nif->net;
	if (gn_init(s, &cfg, &drv, rt_monotonic_ns()) < 0) {
		printf("netif: bad network settings\n");
		return -1;
	}
	nif->ip = cfg.ip;
	nif->prefix = cfg.prefix;
	nif->gateway = cfg.gateway;
	gn_announce(s);
	return 0;
}

void
rt_netif_run(
    struct rt_netif *nif, uint64_t beat_ns, void (*beat)(void *), void *arg)
{
	uint64_t next_beat = rt_monotonic_ns() + beat_ns, bit;

	bit = UINT64_C(1) << nif->net.handle;
	for (;;) {
		uint64_t now = rt_monotonic_ns(), due, ready = 0;
		size_t len;

		if (now >= next_beat) {
			beat(arg);
			next_beat += beat_ns;
			if (next_beat <= now) /* fell behind: do not burst */
				next_beat = now + beat_ns;
		}
		due = gn_timers(nif->stack, now);
		if (due > next_beat)
			due = next_beat;
		if (due > now)
			rt_poll(due - now, &ready);
		else
			ready = bit;
		if (!(ready & bit))
			continue;
		/* Drain what is queued, but come back to the timers now and
		 * then under a flood. */
		for (int i = 0; i < 64; i++) {
			if (rt_net_read(&nif->net, nif->rx, nif->rxsize,
			        &len) != HVT_OK)
				break;
			gn_input(nif->stack, nif->rx, len, rt_monotonic_ns());
		}
	}
}

void
rt_netif_describe(const struct rt_netif *nif, char buf[80])
{
	char ip[16], gw[16];
	const uint8_t *m = nif->net.mac;

	gn_format_ip(nif->ip, ip);
	gn_format_ip(nif->gateway, gw);
	snprintf(buf, 80, "ip %s/%u gw %s mac %02x:%02x:%02x:%02x:%02x:%02x",
	    ip, nif->prefix, nif->gateway != 0 ? gw : "none", m[0], m[1], m[2],
	    m[3], m[4], m[5]);
}
