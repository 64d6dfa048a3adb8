/*
 * test_registry.c: summoning, coalescing, limits, the warm pool, idle
 * stop and reload, with a fake backend and a fake DNS front end at the
 * registry's two seams (backend_for() and server_answer_held()), and a
 * fake clock.  The integration tests do the same with real guests.
 */
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "summoner/registry.h"
#include "summoner/server.h"

#define MS 1000000ull

static uint64_t fake_now = 1000 * MS;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

/* ---- the fake backend ---- */

static int boots, resumes, stops, boot_fail;
static struct inst *booted[16];

static int
fake_boot(struct inst *in, const struct config *conf,
    const struct cfg_service *svc, bool paused, char *err, size_t errlen)
{
	(void)conf;
	(void)svc;
	(void)paused;
	if (boot_fail) {
		snprintf(err, errlen, "fake boot failure");
		return -1;
	}
	if (boots < 16)
		booted[boots] = in;
	boots++;
	return 0;
}

static int
fake_resume(struct inst *in)
{
	(void)in;
	resumes++;
	return 0;
}

static int
fake_stop(struct inst *in)
{
	(void)in;
	stops++;
	return 0;
}

static const struct backend_ops fake_ops = {
    .name = "fake",
    .boot = fake_boot,
    .resume = fake_resume,
    .stop = fake_stop,
};

const struct backend_ops *
backend_for(int cfg_backend)
{
	(void)cfg_backend;
	return &fake_ops;
}

/* ---- the fake front end ---- */

static int answered, servfails;

void
server_answer_held(
    struct server *s, struct held *h, const struct dns_addrs *addrs)
{
	(void)s;
	if (addrs != NULL) {
		assert_int_equal(addrs->n4, 1);
		answered++;
	} else
		servfails++;
	free(h);
}

/* ---- helpers ---- */

static struct event_base *base;
static struct registry *reg;

static const char head[] = "zone t.test. {\n"
                           "\tns ns1\n"
                           "}\n"
                           "memory-budget 1G\n"
                           "default-policy halt\n"
                           "policy halt {\n"
                           "\tdefault stop\n"
                           "}\n";

static struct config *
conf_of(const char *body)
{
	char text[4096];
	FILE *fp;
	struct config *c;

	snprintf(text, sizeof(text), "%s%s", head, body);
	fp = fmemopen(text, strlen(text), "r");
	assert_non_null(fp);
	c = config_load_fp(fp, "test.conf", stderr);
	fclose(fp);
	assert_non_null(c);
	return c;
}

static void
apply(const char *body)
{
	char err[256];
	struct dns_zones *z =
	    registry_apply(reg, conf_of(body), err, sizeof(err));

	assert_non_null(z);
	dns_zones_free(z);
}

static const char *
svc_block(const char *name, const char *extra)
{
	static char buf[8][512];
	static int n;
	char *b = buf[n++ % 8];

	snprintf(b, 512,
	    "service %s {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.0.%d\n%s}\n",
	    name, n, extra);
	return b;
}

static struct sockaddr_in client = {.sin_family = AF_INET};

/* Hold one query for service name; returns registry_hold()'s result. */
static int
hold(const char *name)
{
	struct svc *s = registry_service(reg, name);
	struct held *h = calloc(1, sizeof(*h));
	int rc;

	assert_non_null(s);
	h->t_arrival = fake_now;
	rc = registry_hold(reg, s, h, (struct sockaddr *)&client);
	if (rc < 0)
		free(h);
	return rc;
}

static void
event(struct inst *in, unsigned type)
{
	struct bevent ev = {.type = type};

	if (type == CTL_EXITED) {
		ev.u.exited.reason = CTL_EXIT_STOPPED;
		ev.u.exited.status = 81;
	}
	registry_backend_event(in, &ev);
}

static enum dns_service_state
lookup(const char *name, uint16_t qtype)
{
	struct dns_addrs a = {0};

	return registry_lookup(reg, registry_service(reg, name), qtype, &a);
}

/* Run the loop for ms milliseconds of real time (timers). */
static void
run_loop(unsigned ms)
{
	struct timeval tv = {0, (suseconds_t)ms * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static int
setup(void **state)
{
	(void)state;
	instance_clock = fake_clock;
	boots = resumes = stops = boot_fail = answered = servfails = 0;
	memset(booted, 0, sizeof(booted));
	client.sin_addr.s_addr = htonl(0x7f000001);
	base = event_base_new();
	reg = registry_new(base, NULL);
	assert_non_null(reg);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	registry_free(reg);
	event_base_free(base);
	return 0;
}

/* ---- tests ---- */

static void
hold__three_queries__one_boot_all_answered(void **state)
{
	struct registry_stats st;

	(void)state;
	apply(svc_block("hello", ""));
	assert_int_equal(lookup("hello", 1), DNS_SVC_BOOT);
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(boots, 1);
	assert_int_equal(lookup("hello", 1), DNS_SVC_BOOT);
	event(booted[0], CTL_READY);
	assert_int_equal(answered, 3);
	assert_int_equal(booted[0]->st.state, IS_READY);
	assert_int_equal(lookup("hello", 1), DNS_SVC_READY);
	registry_stats(reg, &st);
	assert_int_equal(st.summons_cold, 1);
	assert_int_equal(st.summons_joined, 2);
	assert_int_equal(st.booting, 0);
}

static void
hold__instance_dies_before_ready__servfail_and_gone(void **state)
{
	struct registry_stats st;

	(void)state;
	apply(svc_block("hello", ""));
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(hold("hello"), 0);
	event(booted[0], CTL_EXITED);
	assert_int_equal(servfails, 2);
	assert_int_equal(answered, 0);
	registry_stats(reg, &st);
	assert_int_equal(st.instances, 0);
	assert_int_equal(st.memory, 0);
	/* The next query starts a new boot. */
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(boots, 2);
	assert_int_equal(booted[1]->st.id, 2);
}

static void
hold__boot_fails__refused(void **state)
{
	struct registry_stats st;

	(void)state;
	apply(svc_block("hello", ""));
	boot_fail = 1;
	assert_int_equal(hold("hello"), -1);
	registry_stats(reg, &st);
	assert_int_equal(st.instances, 0);
	assert_int_equal(st.refused, 1);
}

static void
hold__no_boot_type__nodata(void **state)
{
	(void)state;
	apply(svc_block("hello", "\tboot-on { A }\n"));
	assert_int_equal(lookup("hello", 28), DNS_SVC_NODATA);
	assert_int_equal(lookup("hello", 1), DNS_SVC_BOOT);
	assert_int_equal(boots, 0);
}

static void
limits__max_instances__refused(void **state)
{
	char body[1024];

	(void)state;
	snprintf(body, sizeof(body), "max-instances 1\n%s%s",
	    svc_block("a", ""), svc_block("b", ""));
	apply(body);
	assert_int_equal(hold("a"), 0);
	assert_int_equal(hold("b"), -1);
	assert_int_equal(boots, 1);
	/* Joining the running boot is not a new instance. */
	assert_int_equal(hold("a"), 0);
}

static void
limits__memory_budget__refused(void **state)
{
	char body[1024];

	(void)state;
	snprintf(body, sizeof(body), "memory-budget 100M\n%s%s%s",
	    svc_block("a", "\tmemory 48M\n"), svc_block("b", "\tmemory 48M\n"),
	    svc_block("c", "\tmemory 48M\n"));
	apply(body);
	assert_int_equal(hold("a"), 0);
	assert_int_equal(hold("b"), 0);
	assert_int_equal(hold("c"), -1);
}

static void
limits__concurrent_boots__refused_until_ready(void **state)
{
	char body[1024];

	(void)state;
	snprintf(body, sizeof(body), "max-concurrent-boots 1\n%s%s",
	    svc_block("a", ""), svc_block("b", ""));
	apply(body);
	assert_int_equal(hold("a"), 0);
	assert_int_equal(hold("b"), -1);
	event(booted[0], CTL_READY);
	assert_int_equal(hold("b"), 0);
}

static void
limits__boot_rate__refills_with_time(void **state)
{
	char body[1024];

	(void)state;
	snprintf(body, sizeof(body), "boot-rate 2 per-client\n%s%s%s",
	    svc_block("a", ""), svc_block("b", ""), svc_block("c", ""));
	apply(body);
	assert_int_equal(hold("a"), 0);
	assert_int_equal(hold("b"), 0);
	assert_int_equal(hold("c"), -1);
	/* Another client has its own bucket. */
	client.sin_addr.s_addr = htonl(0x7f000002);
	assert_int_equal(hold("c"), 0);
	client.sin_addr.s_addr = htonl(0x7f000001);
	event(booted[2], CTL_EXITED);
	assert_int_equal(hold("c"), -1);
	fake_now += 600 * MS; /* 1.2 tokens back */
	assert_int_equal(hold("c"), 0);
}

static void
warm__summon__resumes_and_refills_later(void **state)
{
	struct registry_stats st;

	(void)state;
	apply(svc_block("hello", "\twarm 1\n"));
	assert_int_equal(boots, 1);
	registry_stats(reg, &st);
	assert_int_equal(st.warm, 1);
	assert_int_equal(st.booting, 1);
	event(booted[0], CTL_PAUSED);
	registry_stats(reg, &st);
	assert_int_equal(st.booting, 0);
	assert_int_equal(lookup("hello", 1), DNS_SVC_BOOT);
	assert_int_equal(hold("hello"), 0);
	assert_int_equal(resumes, 1);
	assert_int_equal(boots, 1);
	event(booted[0], CTL_READY);
	assert_int_equal(answered, 1);
	/* The refill waits until the answer is out. */
	assert_int_equal(boots, 1);
	run_loop(30);
	assert_int_equal(boots, 2);
	registry_stats(reg, &st);
	assert_int_equal(st.summons_warm, 1);
	assert_int_equal(st.warm, 1);
}

static void
idle__no_query_for_timeout__stopped(void **state)
{
	(void)state;
	apply(svc_block("hello", "\tidle-timeout 20ms\n"));
	assert_int_equal(hold("hello"), 0);
	event(booted[0], CTL_READY);
	/* A query within the timeout keeps it. */
	fake_now += 15 * MS;
	assert_int_equal(lookup("hello", 1), DNS_SVC_READY);
	run_loop(25);
	assert_int_equal(stops, 0);
	fake_now += 25 * MS;
	run_loop(40);
	assert_int_equal(stops, 1);
	assert_int_equal(booted[0]->st.state, IS_STOPPING);
	event(booted[0], CTL_EXITED);
	assert_int_equal(lookup("hello", 1), DNS_SVC_BOOT);
}

static void
reload__unchanged_kept_changed_replaced_removed_retired(void **state)
{
	char body[2048];
	struct inst *keep, *change;
	struct svc *old_gone;

	(void)state;
	snprintf(body, sizeof(body), "%s%s%s",
	    "service keep {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.1.1\n}\n",
	    "service change {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.1.2\n}\n",
	    "service gone {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.1.3\n}\n");
	apply(body);
	assert_int_equal(hold("keep"), 0);
	assert_int_equal(hold("change"), 0);
	keep = booted[0];
	change = booted[1];
	event(keep, CTL_READY);
	old_gone = registry_service(reg, "gone");
	assert_int_equal(hold("gone"), 0); /* held across the reload */

	snprintf(body, sizeof(body), "%s%s",
	    "service keep {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.1.1\n}\n",
	    "service change {\n\tzone t.test.\n\timage x.hvt\n\taddress "
	    "10.0.1.22\n}\n");
	apply(body);
	/* keep: same instance, still ready, never stopped. */
	assert_int_equal(keep->st.state, IS_READY);
	assert_int_equal(lookup("keep", 1), DNS_SVC_READY);
	/* change: the booting instance is stopped, its held query moved to
	 * a new boot of the new settings. */
	assert_int_equal(change->st.state, IS_STOPPING);
	assert_int_equal(boots, 4);
	assert_int_equal(booted[3]->st.id, 2);
	/* gone: stopping; its held query got SERVFAIL; lookups retire. */
	assert_int_equal(servfails, 1);
	assert_true(old_gone->removed);
	assert_null(registry_service(reg, "gone"));
	assert_int_equal(
	    registry_lookup(reg, old_gone, 1, &(struct dns_addrs){0}),
	    DNS_SVC_RETIRED);
	event(booted[2], CTL_EXITED); /* frees the removed service */
	event(change, CTL_EXITED);
	event(booted[3], CTL_READY);
	assert_int_equal(answered, 2); /* keep's, then change's moved one */
}

static int shutdown_done;

static void
on_done(void *arg)
{
	(void)arg;
	shutdown_done++;
}

static void
shutdown__stops_all_then_done(void **state)
{
	char body[1024];

	(void)state;
	snprintf(body, sizeof(body), "%s%s", svc_block("a", ""),
	    svc_block("b", "\twarm 1\n"));
	apply(body);
	assert_int_equal(hold("a"), 0);
	assert_int_equal(boots, 2);
	registry_shutdown(reg, on_done, NULL);
	assert_int_equal(servfails, 1);
	assert_int_equal(stops, 2);
	assert_int_equal(shutdown_done, 0);
	assert_int_equal(hold("a"), -1);
	event(booted[0], CTL_EXITED);
	event(booted[1], CTL_EXITED);
	assert_int_equal(shutdown_done, 1);
	run_loop(20);
	assert_int_equal(boots, 2); /* no pool refill while stopping */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        hold__three_queries__one_boot_all_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        hold__instance_dies_before_ready__servfail_and_gone, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        hold__boot_fails__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        hold__no_boot_type__nodata, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        limits__max_instances__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        limits__memory_budget__refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        limits__concurrent_boots__refused_until_ready, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        limits__boot_rate__refills_with_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        warm__summon__resumes_and_refills_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        idle__no_query_for_timeout__stopped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        reload__unchanged_kept_changed_replaced_removed_retired, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        shutdown__stops_all_then_done, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
