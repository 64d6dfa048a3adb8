/*
 * ping: answers ARP and ICMP echo on a NET_BASIC device named "service".
 *
 *   ping.hvt [ip=]A.B.C.D        (default 10.0.0.2)
 *   ping.hvt --ipv4=A.B.C.D/N [--ipv4-gateway=G]   (as the summoner says it)
 *
 * The prefix length and the gateway are accepted and not needed: the
 * guest only answers.
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
RT_USER_MODE();

#define BEAT_INTERVAL_NS 100000000ull
#define DEFAULT_IP       "10.0.0.2"

int
guest_main(int argc, char **argv)
{
	struct rt_net net;
	struct ping_ctx c = {0};
	const char *arg = DEFAULT_IP;
	char ipbuf[16];
	uint8_t *rx;
	size_t bufsize;
	uint64_t next_beat;
	char ipstr[16];

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--ipv4-gateway=", 15) == 0)
			continue;
		if (strncmp(argv[i], "--ipv4=", 7) == 0) {
			/* A.B.C.D/N: the address only. */
			const char *a = argv[i] + 7;
			size_t n = 0;

			while (a[n] != '\0' && a[n] != '/' &&
			       n < sizeof(ipbuf) - 1)
				n++;
			memcpy(ipbuf, a, n);
			ipbuf[n] = '\0';
			arg = ipbuf;
		} else
			arg = strncmp(argv[i], "ip=", 3) == 0 ? argv[i] + 3
			                                      : argv[i];
	}
	if (ping_parse_ip(arg, &c.ip) < 0) {
		printf("ping: bad address \"%s\"; usage: ping.hvt "
		       "[ip=]A.B.C.D | --ipv4=A.B.C.D/N\n",
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
