/*
 * www: an HTTP/1.1 server on TCP port 80 of a NET_BASIC device "service".
 *
 *   www.hvt --ipv4=A.B.C.D/N [--ipv4-gateway=G] [NAME]
 *
 * Every GET (or HEAD) of any path is answered 200 with a small HTML page
 * naming the instance (NAME, default "www"; the summoner can hand over
 * "{instance}") and its uptime.  Persistent connections and pipelining as
 * HTTP/1.1 has them; other methods get 405, malformed requests 400,
 * requests with more than REQ_MAX bytes of head 431, and a request body
 * is not supported (411/413 would need one: such requests get 400 and
 * the connection closes).
 *
 * READY goes out once port 80 listens; a heartbeat every 250 ms carries
 * the requests served as progress and the open connections as X_CONNS,
 * so the summoner's idle timeout never stops it under a client.
 */
#include <stdint.h>

#include <heartbeat.h>
#include <netif.h>
#include <runtime.h>

#include "http.h"

RT_MANIFEST(1, RT_MFT_NET("service"));
RT_USER_MODE();

#define BEAT_NS 250000000ull

static struct gn_stack stack;
static struct http_server srv;

static void
beat(void *arg)
{
	struct http_server *h = arg;

	hb_conns(gn_tcp_count(&stack));
	hb_beat(h->requests);
}

int
guest_main(int argc, char **argv)
{
	struct rt_netif nif;
	char desc[80];

	if (rt_netif_up(&nif, &stack, "service", &argc, argv) < 0)
		return 1;
	http_init(&srv, argc > 1 ? argv[1] : "www", nif.ip);
	if (gn_tcp_listen(&stack, 80, &http_handler, &srv) < 0) {
		printf("www: cannot listen on port 80\n");
		return 1;
	}
	hb_conns(0);
	hb_ready();
	rt_netif_describe(&nif, desc);
	printf("www: %s serving http on port 80, %s\n", srv.name, desc);
	rt_netif_run(&nif, BEAT_NS, beat, &srv);
}
