/*
 * echo: the UDP echo service (RFC 862) on port 7 of a NET_BASIC device
 * "service".
 *
 *   echo.hvt --ipv4=A.B.C.D/N [--ipv4-gateway=G] [PORT]
 *
 * Every datagram comes back to its sender unchanged.  READY goes out once
 * the port is bound; a heartbeat every 250 ms carries the datagrams
 * echoed as progress and, as X_CONNS, the clients heard from in the last
 * CLIENT_TTL_NS (UDP has no connections: a client that went quiet for
 * that long is taken to be gone), so that the summoner's idle timeout
 * stops the instance only once its clients have gone quiet.
 */
#include <stdint.h>

#include <heartbeat.h>
#include <netif.h>
#include <runtime.h>

RT_MANIFEST(1, RT_MFT_NET("service"));
RT_USER_MODE();

#define BEAT_NS       250000000ull
#define CLIENT_TTL_NS 2000000000ull
#define CLIENTS_MAX   256 /* remembered at once; more just count as this */

struct client {
	uint32_t ip;
	uint16_t port;
	uint64_t t_last;
};

struct echo {
	uint64_t echoed, failed;
	struct client clients[CLIENTS_MAX];
};

static struct gn_stack stack;
static struct echo echo;

/* Note that ip:port was heard from now (replacing the stalest entry). */
static void
seen(struct echo *e, uint32_t ip, uint16_t port, uint64_t now)
{
	struct client *oldest = &e->clients[0];

	for (size_t i = 0; i < CLIENTS_MAX; i++) {
		struct client *c = &e->clients[i];

		if (c->t_last != 0 && c->ip == ip && c->port == port) {
			c->t_last = now;
			return;
		}
		if (c->t_last < oldest->t_last)
			oldest = c;
	}
	oldest->ip = ip;
	oldest->port = port;
	oldest->t_last = now;
}

static uint32_t
active(const struct echo *e, uint64_t now)
{
	uint32_t n = 0;

	for (size_t i = 0; i < CLIENTS_MAX; i++)
		if (e->clients[i].t_last != 0 &&
		    now - e->clients[i].t_last < CLIENT_TTL_NS)
			n++;
	return n;
}

static void
on_datagram(void *arg, struct gn_stack *s, uint32_t src_ip, uint16_t src_port,
    uint16_t dst_port, const uint8_t *data, size_t len)
{
	struct echo *e = arg;

	seen(e, src_ip, src_port, rt_monotonic_ns());
	if (gn_udp_send(s, dst_port, src_ip, src_port, data, len) == 0)
		e->echoed++;
	else
		e->failed++;
}

static void
beat(void *arg)
{
	struct echo *e = arg;

	hb_conns(active(e, rt_monotonic_ns()));
	hb_beat(e->echoed);
}

int
guest_main(int argc, char **argv)
{
	struct rt_netif nif;
	unsigned long port = 7;
	char desc[80];

	if (rt_netif_up(&nif, &stack, "service", &argc, argv) < 0)
		return 1;
	if (argc > 1)
		port = strtoul(argv[1], NULL, 10);
	if (port == 0 || port > 65535 ||
	    gn_udp_bind(&stack, (uint16_t)port, on_datagram, &echo) < 0) {
		printf("echo: cannot bind udp port %lu\n", port);
		return 1;
	}
	hb_conns(0);
	hb_ready();
	rt_netif_describe(&nif, desc);
	printf("echo: udp echo on port %lu, %s\n", port, desc);
	rt_netif_run(&nif, BEAT_NS, beat, &echo);
}
