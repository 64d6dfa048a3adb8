/*
 * ping: answers ARP and ICMP echo on a NET_BASIC device named "service".
 *
 *   ping.hvt [ip=]A.B.C.D        (default 10.0.0.2)
 *
 * Sends one gratuitous ARP for its address, reports READY, prints
 * "ping: ready ip A.B.C.D mac xx:xx:xx:xx:xx:xx", then answers ARP
 * requests for its address and ICMP echo requests to it (printing
 * "ping: echo reply to SRC seq N" for the first 16), beating every 100 ms
 * with the number of replies sent as progress.  Runs until stopped.
 */
#include <stdint.h>

#include <heartbeat.h>
#include <runtime.h>

#include "ping.h"

RT_MANIFEST(1, RT_MFT_NET("service"));

#define BEAT_INTERVAL_NS 100000000ull
#define DEFAULT_IP       "10.0.0.2"

int
guest_main(int argc, char **argv)
{
	struct rt_net net;
	struct ping_ctx c = {0};
	const char *arg = argc > 1 ? argv[1] : DEFAULT_IP;
	uint8_t *rx;
	size_t bufsize;
	uint64_t next_beat;
	char ipstr[16];

	if (strncmp(arg, "ip=", 3) == 0)
		arg += 3;
	if (ping_parse_ip(arg, &c.ip) < 0) {
		printf("ping: bad address \"%s\"; usage: ping.hvt "
		       "[ip=]A.B.C.D\n",
		    arg);
		return 1;
	}
	if (rt_net_open("service", &net) < 0) {
		printf("ping: no network device \"service\"\n");
		return 1;
	}
	c.net = &net;
	/* The tender insists on room for a full frame (mtu + 14). */
	bufsize = (size_t)net.mtu + 14;
	rx = rt_alloc(bufsize);
	c.tx = rt_alloc(bufsize < 64 ? 64 : bufsize);
	if (rx == NULL || c.tx == NULL) {
		printf("ping: out of memory\n");
		return 1;
	}

	ping_announce(&c);
	hb_ready();
	ping_format_ip(c.ip, ipstr);
	printf("ping: ready ip %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", ipstr,
	    net.mac[0], net.mac[1], net.mac[2], net.mac[3], net.mac[4],
	    net.mac[5]);

	next_beat = rt_monotonic_ns() + BEAT_INTERVAL_NS;
	for (;;) {
		uint64_t now = rt_monotonic_ns(), ready = 0;
		size_t len;

		if (now >= next_beat) {
			hb_beat(c.st.arp_replies + c.st.echo_replies);
			next_beat += BEAT_INTERVAL_NS;
			if (next_beat <= now) /* fell behind: don't burst */
				next_beat = now + BEAT_INTERVAL_NS;
			continue;
		}
		rt_poll(next_beat - now, &ready);
		if (!(ready & (1ull << net.handle)))
			continue;
		while (rt_net_read(&net, rx, bufsize, &len) == HVT_OK)
			ping_input(&c, rx, len);
	}
}
