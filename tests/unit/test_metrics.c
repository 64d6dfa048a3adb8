/*
 * test_metrics.c: the Prometheus page (summoner/metrics.c) from its
 * hooks alone: the text format (HELP and TYPE once per family, before
 * its samples; every sample line well formed), DNS counts by type and
 * rcode (extended rcode included), label escaping, and the summon
 * latency histogram's cumulative buckets, with a fake clock.  The
 * gauges read from the registry are checked end to end by
 * tests/integration/summoner-metrics.sh.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/instance.h"
#include "summoner/metrics.h"

#define MS 1000000ull

static uint64_t fake_now;

static uint64_t
fake_clock(void)
{
	return fake_now;
}

static int
setup(void **state)
{
	(void)state;
	metrics_reset();
	instance_clock = fake_clock;
	fake_now = 1000 * MS;
	return 0;
}

static char *
page(void)
{
	size_t len;
	char *p = metrics_page(NULL, &len);

	assert_non_null(p);
	assert_int_equal(strlen(p), len);
	return p;
}

/* The value of the sample line that starts with series (name and
 * labels), or -1 when there is none. */
static double
sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *l;

	for (l = text; l != NULL && *l != '\0'; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (strncmp(l, series, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	}
	return -1;
}

/* A reply header (and an OPT with extended rcode ext when edns). */
static size_t
reply(uint8_t *p, unsigned rcode, bool edns, unsigned ext)
{
	size_t len = 12;

	memset(p, 0, 64);
	p[2] = 0x84;
	p[3] = (uint8_t)rcode;
	if (edns) {
		p[11] = 1;
		p[len + 2] = 41; /* root owner, type OPT */
		p[len + 3] = 0x04;
		p[len + 4] = 0xd0; /* class: payload size 1232 */
		p[len + 5] = (uint8_t)ext;
		len += 11;
	}
	return len;
}

static struct dns_question
question(uint16_t qtype)
{
	struct dns_question q;

	memset(&q, 0, sizeof(q));
	q.has_question = true;
	q.qtype = qtype;
	q.qclass = 1;
	return q;
}

static void
metrics_page__every_line__well_formed_and_typed_once(void **state)
{
	const char *sample_re =
	    "^[a-zA-Z_:][a-zA-Z0-9_:]*"
	    "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})?"
	    " [-+]?([0-9]+(\\.[0-9]+)?|\\+Inf)$";
	char *p, *line, *save = NULL, typed[64][80], name[80];
	size_t ntyped = 0, i, nsamples = 0;
	regex_t re;

	(void)state;
	metrics_summon("hello", METRICS_SUMMON_COLD);
	metrics_fault("hello", "exception");
	metrics_decision("hello", "exception", "restart");
	metrics_heartbeat_miss("hello");
	fake_now += 3 * MS;
	metrics_summon_answered("hello", false, fake_now - 3 * MS);
	p = page();
	assert_int_equal(regcomp(&re, sample_re, REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(p, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%79s", name), 1);
			for (i = 0; i < ntyped; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(ntyped < 64);
			strcpy(typed[ntyped++], name);
			assert_non_null(strstr(line, " counter") != NULL
			                    ? strstr(name, "_total")
			                    : name);
			continue;
		}
		if (regexec(&re, line, 0, NULL, 0) != 0)
			fail_msg("malformed line: %s", line);
		/* The sample belongs to the family typed last. */
		assert_true(ntyped > 0);
		assert_memory_equal(
		    line, typed[ntyped - 1], strlen(typed[ntyped - 1]));
		nsamples++;
	}
	regfree(&re);
	assert_true(nsamples > 20);
	free(p);
}

static void
metrics_dns_query__replies__counted_by_type_and_rcode(void **state)
{
	struct dns_question a = question(1), aaaa = question(28),
	                    odd = question(99), none = question(0);
	uint8_t p[64];
	size_t len;
	char *text;

	(void)state;
	none.has_question = false;
	len = reply(p, 0, false, 0);
	metrics_dns_query(&a, DNS_REPLY, p, len);
	metrics_dns_query(&a, DNS_REPLY, p, len);
	len = reply(p, 3, true, 0);
	metrics_dns_query(&aaaa, DNS_REPLY, p, len);
	len = reply(p, 5, false, 0);
	metrics_dns_query(&odd, DNS_REPLY, p, len);
	len = reply(p, 1, false, 0);
	metrics_dns_query(&none, DNS_REPLY, p, len);
	/* BADVERS: 16, the upper bits in the OPT, 0 in the header */
	len = reply(p, 0, true, 1);
	metrics_dns_query(&a, DNS_REPLY, p, len);
	metrics_dns_query(&a, DNS_DROP, p, 0);
	metrics_dns_query(&a, DNS_REPLY, p, 5); /* shorter than a header */

	text = page();
	assert_true(sample(text, "summoner_dns_queries_total{type=\"A\","
	                         "rcode=\"NOERROR\"}") == 2);
	assert_true(sample(text, "summoner_dns_queries_total{type=\"AAAA\","
	                         "rcode=\"NXDOMAIN\"}") == 1);
	assert_true(sample(text, "summoner_dns_queries_total{type=\"OTHER\","
	                         "rcode=\"REFUSED\"}") == 1);
	assert_true(sample(text, "summoner_dns_queries_total{type=\"NONE\","
	                         "rcode=\"FORMERR\"}") == 1);
	assert_true(sample(text, "summoner_dns_queries_total{type=\"A\","
	                         "rcode=\"BADVERS\"}") == 1);
	assert_true(sample(text, "summoner_dns_queries_dropped_total") == 2);
	/* Combinations never seen are not listed. */
	assert_true(sample(text, "summoner_dns_queries_total{type=\"AAAA\","
	                         "rcode=\"NOERROR\"}") == -1);
	free(text);
}

static void
metrics_page__odd_label_values__escaped(void **state)
{
	char *text;

	(void)state;
	metrics_fault("we\"ird\\svc\nx", "exception");
	metrics_fault("we\"ird\\svc\nx", "exception");
	text = page();
	assert_true(
	    sample(text, "summoner_faults_total{service="
	                 "\"we\\\"ird\\\\svc\\nx\",kind=\"exception\"}") == 2);
	/* No raw newline inside a label: every line still parses. */
	assert_null(strstr(text, "svc\nx"));
	free(text);
}

static void
metrics_summon_answered__latencies__cumulative_buckets(void **state)
{
	/* 0.5 ms, exactly 1 ms, 3 ms, 20 ms, 20 s */
	static const uint64_t dts[] = {MS / 2, MS, 3 * MS, 20 * MS, 20000 * MS};
	static const struct {
		const char *le;
		double n;
	} want[] = {
	    {"0.001", 2},
	    {"0.0025", 2},
	    {"0.005", 3},
	    {"0.01", 3},
	    {"0.025", 4},
	    {"1", 4},
	    {"10", 4},
	    {"+Inf", 5},
	};
	char *text, series[160];
	size_t i;

	(void)state;
	fake_now = 100000 * MS; /* later than the longest wait began */
	for (i = 0; i < sizeof(dts) / sizeof(dts[0]); i++)
		metrics_summon_answered("hello", false, fake_now - dts[i]);
	metrics_summon_answered("hello", true, fake_now - MS / 4);
	text = page();
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(series, sizeof(series),
		    "summoner_summon_duration_seconds_bucket{service=\"hello\","
		    "kind=\"cold\",le=\"%s\"}",
		    want[i].le);
		if (sample(text, series) != want[i].n)
			fail_msg("%s: %g, want %g", series,
			    sample(text, series), want[i].n);
	}
	assert_true(sample(text, "summoner_summon_duration_seconds_count{"
	                         "service=\"hello\",kind=\"cold\"}") == 5);
	assert_float_equal(sample(text, "summoner_summon_duration_seconds_sum{"
	                                "service=\"hello\",kind=\"cold\"}"),
	    20.0245, 1e-9);
	assert_true(
	    sample(text, "summoner_summon_duration_seconds_bucket{"
	                 "service=\"hello\",kind=\"warm\",le=\"0.001\"}") == 1);
	assert_true(sample(text, "summoner_summon_duration_seconds_count{"
	                         "service=\"hello\",kind=\"warm\"}") == 1);
	free(text);
}

static void
metrics_summon__kinds_and_decisions__each_its_series(void **state)
{
	char *text;

	(void)state;
	metrics_summon("a", METRICS_SUMMON_COLD);
	metrics_summon("a", METRICS_SUMMON_WARM);
	metrics_summon("a", METRICS_SUMMON_COALESCED);
	metrics_summon("a", METRICS_SUMMON_COALESCED);
	metrics_summon("b", METRICS_SUMMON_COLD);
	metrics_decision("a", "exception", "restart");
	metrics_decision("a", "exception", "restart");
	metrics_decision("a", "exception", "quarantine");
	metrics_heartbeat_miss("b");
	text = page();
	assert_true(sample(text, "summoner_summons_total{service=\"a\","
	                         "kind=\"cold\"}") == 1);
	assert_true(sample(text, "summoner_summons_total{service=\"a\","
	                         "kind=\"warm\"}") == 1);
	assert_true(sample(text, "summoner_summons_total{service=\"a\","
	                         "kind=\"coalesced\"}") == 2);
	assert_true(sample(text, "summoner_summons_total{service=\"b\","
	                         "kind=\"cold\"}") == 1);
	assert_true(sample(text, "summoner_summons_total{service=\"b\","
	                         "kind=\"warm\"}") == 0);
	assert_true(
	    sample(text, "summoner_policy_decisions_total{service="
	                 "\"a\",event=\"exception\",action=\"restart\"}") == 2);
	assert_true(
	    sample(text, "summoner_policy_decisions_total{service=\"a\","
	                 "event=\"exception\",action=\"quarantine\"}") == 1);
	assert_true(sample(text,
	                "summoner_heartbeat_misses_total{service=\"b\"}") == 1);
	assert_true(sample(text,
	                "summoner_heartbeat_misses_total{service=\"a\"}") == 0);
	free(text);

	metrics_reset();
	text = page();
	assert_true(sample(text, "summoner_summons_total{service=\"a\","
	                         "kind=\"cold\"}") == -1);
	assert_true(sample(text, "summoner_dns_queries_dropped_total") == 0);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(
	        metrics_page__every_line__well_formed_and_typed_once, setup),
	    cmocka_unit_test_setup(
	        metrics_dns_query__replies__counted_by_type_and_rcode, setup),
	    cmocka_unit_test_setup(
	        metrics_page__odd_label_values__escaped, setup),
	    cmocka_unit_test_setup(
	        metrics_summon_answered__latencies__cumulative_buckets, setup),
	    cmocka_unit_test_setup(
	        metrics_summon__kinds_and_decisions__each_its_series, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
