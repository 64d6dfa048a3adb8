/*
 * test_config.c: the configuration grammar (summoner/parse.y, config.c).
 *
 * Every tests/config/pass-*.conf must load and print exactly its .expected;
 * every fail-*.conf must fail with exactly the error lines in its .expected.
 * Run from the project root (tests/run-tests.sh does).
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../summoner/config.h"

static char *
slurp(const char *path)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	m = open_memstream(&buf, &len);
	for (int c; (c = getc(fp)) != EOF;)
		putc(c, m);
	fclose(m);
	fclose(fp);
	return buf;
}

/* Print the first differing line of want and got, diff style. */
static int
same(const char *what, const char *want, const char *got)
{
	int line = 1;
	const char *w = want, *g = got;

	if (strcmp(want, got) == 0)
		return 1;
	while (*w != '\0' && *w == *g) {
		if (*w == '\n')
			line++;
		w++, g++;
	}
	while (w > want && w[-1] != '\n')
		w--, g--;
	print_error(
	    "--- %s.expected\n+++ %s (got)\n@@ line %d @@\n-%.*s\n+%.*s\n",
	    what, what, line, (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"),
	    g);
	return 0;
}

static void
run_corpus(const char *pattern, int pass)
{
	glob_t gl;
	size_t i;
	int bad = 0;

	assert_int_equal(glob(pattern, 0, NULL, &gl), 0);
	assert_true(gl.gl_pathc > 0);
	for (i = 0; i < gl.gl_pathc; i++) {
		const char *conf = gl.gl_pathv[i];
		char exp[4096], *want, *out = NULL, *name;
		size_t len = 0;
		FILE *m;
		struct config *c;

		snprintf(exp, sizeof(exp), "%.*s.expected",
		    (int)(strlen(conf) - 5), conf);
		want = slurp(exp);
		assert_non_null(want);
		name = strrchr(conf, '/') + 1;
		m = open_memstream(&out, &len);
		if (pass) {
			c = config_load(conf, m);
			if (c == NULL) {
				print_error("%s: failed to load\n", conf);
				bad++;
			} else
				config_print(c, m);
			config_free(c);
		} else {
			/* Errors name the file as given: load relative to
			 * tests/config. */
			(void)name;
			c = config_load(conf, m);
			if (c != NULL) {
				print_error(
				    "%s: loaded but should fail\n", conf);
				bad++;
			}
			config_free(c);
		}
		fclose(m);
		if (!same(conf, want, out))
			bad++;
		free(want);
		free(out);
	}
	globfree(&gl);
	assert_int_equal(bad, 0);
}

static void
config_load__pass_corpus__prints_expected(void **state)
{
	(void)state;
	run_corpus("tests/config/pass-*.conf", 1);
}

static void
config_load__fail_corpus__prints_expected_errors(void **state)
{
	(void)state;
	run_corpus("tests/config/fail-*.conf", 0);
}

static char *
print_to_string(const struct config *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	config_print(c, m);
	fclose(m);
	return out;
}

static void
config_print__reparsed__identical(void **state)
{
	glob_t gl;
	size_t i;

	(void)state;
	assert_int_equal(glob("tests/config/pass-*.conf", 0, NULL, &gl), 0);
	for (i = 0; i < gl.gl_pathc; i++) {
		struct config *c = config_load(gl.gl_pathv[i], stderr), *d;
		char *a, *b;
		FILE *m;

		assert_non_null(c);
		a = print_to_string(c);
		m = fmemopen(a, strlen(a), "r");
		d = config_load_fp(m, "printed", stderr);
		fclose(m);
		assert_non_null(d);
		b = print_to_string(d);
		assert_true(same(gl.gl_pathv[i], a, b));
		free(a);
		free(b);
		config_free(c);
		config_free(d);
	}
	globfree(&gl);
}

static void
config_load__default_config__loads_cleanly(void **state)
{
	struct config *c;

	(void)state;
	c = config_load("config/summoner.conf", stderr);
	assert_non_null(c);
	assert_false(TAILQ_EMPTY(&c->services));
	assert_int_equal(TAILQ_FIRST(&c->listens)->port, 5353);
	config_free(c);
}

static void
config_load__missing_file__fails(void **state)
{
	(void)state;
	assert_null(config_load("tests/config/no-such-file.conf", NULL));
}

/* Load text; errors (and warnings) go to *errs_out. */
static struct config *
load_text(const char *text, char **errs_out)
{
	FILE *in = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	size_t len = 0;
	FILE *errs = open_memstream(errs_out, &len);
	struct config *c;

	c = config_load_fp(in, "t.conf", errs);
	fclose(in);
	fclose(errs);
	return c;
}

static const char policy_conf[] =
    "listen on 127.0.0.1\n"
    "default-policy gentle\n"
    "zone example. {\n"
    "\tns ns1\n"
    "}\n"
    "policy gentle {\n"
    "\theartbeat every 500ms misses 4\n"
    "\tstall after 6 beats\n"
    "\tready-timeout 3s\n"
    "\ton exit { 0 }   stop   # clean exit\n"
    "\ton exit !0 restart initial 1s\n"
    "\ton exception vector 14 3 within 1m quarantine ttl 1h then stop "
    "replacement max 2\n"
    "\ton any uptime < 5s retire answer 192.0.2.1\n"
    "\tdefault restart backoff exponential initial 100ms max 30s reset 5m "
    "jitter 10%\n"
    "}\n"
    "policy \"q-1\" {\n"
    "\tdefault quarantine\n"
    "}\n"
    /* Words the policy language uses stay free as names. */
    "service stall {\n"
    "\tzone example.\n"
    "\timage restart\n"
    "\tpolicy q-1\n"
    "}\n"
    "service restart {\n"
    "\tzone example.\n"
    "\timage quarantine\n"
    "}\n"
    "service builtin {\n"
    "\tzone example.\n"
    "\timage x\n"
    "\tpolicy builtin\n"
    "}\n";

static void
config_load__policies__parsed_resolved_printed(void **state)
{
	char *errs = NULL, *a, *b;
	struct config *c, *d;
	struct cfg_service *s;
	const struct policy *p;
	FILE *m;

	(void)state;
	c = load_text(policy_conf, &errs);
	if (c == NULL)
		print_error("%s", errs);
	assert_non_null(c);
	assert_string_equal(errs, "");
	free(errs);
	assert_int_equal(c->npolicies, 2);
	p = c->policies[0];
	assert_string_equal(p->name, "gentle");
	assert_int_equal(p->hb_interval_ms, 500);
	assert_int_equal(p->hb_misses, 4);
	assert_int_equal(p->stall_beats, 6);
	assert_int_equal(p->ready_timeout_ms, 3000);
	assert_int_equal(p->nrules, 5);
	assert_int_equal(p->rules[0].line, 10);
	assert_int_equal(p->rules[4].line, 14);
	s = TAILQ_FIRST(&c->services);
	assert_string_equal(s->name, "stall.example.");
	assert_ptr_equal(s->policy, c->policies[1]);
	s = TAILQ_NEXT(s, entry);
	assert_string_equal(s->image, "quarantine");
	assert_ptr_equal(s->policy, c->policies[0]); /* the default-policy */
	s = TAILQ_NEXT(s, entry);
	assert_ptr_equal(s->policy, c->builtin);

	a = print_to_string(c);
	assert_non_null(strstr(a, "default-policy \"gentle\"\n"
	                          "\npolicy \"gentle\" {\n"
	                          "\theartbeat every 500ms misses 4\n"
	                          "\tstall after 6 beats\n"
	                          "\tready-timeout 3s\n"
	                          "\ton exit 0 stop\n"
	                          "\ton exit !0 restart initial 1s\n"
	                          "\ton exception vector 14 3 within 1m "
	                          "quarantine ttl 1h then stop replacement "
	                          "max 2\n"
	                          "\ton any uptime < 5s retire answer "
	                          "192.0.2.1\n"
	                          "\tdefault restart backoff exponential "
	                          "initial 100ms max 30s reset 5m jitter "
	                          "10%\n}\n"));
	assert_non_null(
	    strstr(a, "\tboot-on { A AAAA }\n\tpolicy \"q-1\"\n}\n"));
	/* The printout parses back to itself. */
	m = fmemopen(a, strlen(a), "r");
	d = config_load_fp(m, "printed", stderr);
	fclose(m);
	assert_non_null(d);
	b = print_to_string(d);
	assert_true(same("policies", a, b));
	assert_true(policy_equal(c->policies[0], d->policies[0]));
	free(a);
	free(b);
	config_free(c);
	config_free(d);
}

static void
config_load__policy_errors__file_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"policy p {\n\ton exit 0 stop\n}\n",
	        "t.conf:1: policy p must end in an explicit default"},
	    {"policy p {\n\ton frob stop\n\tdefault stop\n}\n",
	        "t.conf:2: unknown event frob\n"},
	    {"policy p {\n\tdefault stop\n}\npolicy p {\n\tdefault stop\n}\n",
	        "t.conf:4: policy p already defined at t.conf:1\n"},
	    {"default-policy nope\n", "t.conf:1: no policy named nope\n"},
	    {"zone example. {\n\tns ns1\n}\nservice www {\n\tzone "
	     "example.\n\timage x\n\tpolicy nope\n}\n",
	        "t.conf:7: no policy named nope\n"},
	    {"policy builtin {\n\tdefault stop\n}\n",
	        "t.conf:1: policy builtin is built in: choose another name\n"},
	    {"policy \"a b\" {\n\tdefault stop\n}\n",
	        "t.conf:1: invalid policy name a b"},
	    {"policy p {\n\ton exit { 1 2 stop\n\tdefault stop\n}\n",
	        "t.conf:2: invalid exit code stop"},
	    {"policy p\n", "t.conf:1: syntax error at end of line\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *errs = NULL;
		struct config *c = load_text(cases[i].text, &errs);

		if (c != NULL ||
		    strncmp(errs, cases[i].want, strlen(cases[i].want)) != 0) {
			print_error("case %zu: want %s, got %s\n", i,
			    cases[i].want, errs);
			fail();
		}
		free(errs);
	}
}

static void
config_load__unreachable_rule__warns_and_loads(void **state)
{
	char *errs = NULL;
	struct config *c;

	(void)state;
	c = load_text("policy p {\n"
	              "\ton any restart\n"
	              "\ton stall stop\n"
	              "\tdefault stop\n"
	              "}\n",
	    &errs);
	assert_non_null(c);
	assert_string_equal(errs,
	    "t.conf:3: warning: rule never matches: on stall stop (line 2 "
	    "takes all its events)\n"
	    "t.conf:4: warning: rule never matches: default stop (line 2 "
	    "takes all its events)\n");
	free(errs);
	config_free(c);
}

static void
config_load__default_config__policies(void **state)
{
	struct config *c;
	struct cfg_service *s;

	(void)state;
	c = config_load("config/summoner.conf", stderr);
	assert_non_null(c);
	TAILQ_FOREACH(s, &c->services, entry)
	{
		assert_non_null(s->policy);
		if (strcmp(s->name, "crash.summoner.test.") == 0) {
			struct pol_history *h = pol_history_new();
			struct pol_event e = {.kind = POL_EV_EXCEPTION,
			    .vector = 14,
			    .signal = -1};
			struct pol_decision d;

			/* Its first fault is quarantined. */
			assert_int_equal(
			    pol_decide(s->policy, &e, h, 0, 0, &d), 0);
			assert_int_equal(d.action, POL_QUARANTINE);
			pol_history_free(h);
		}
	}
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_load__pass_corpus__prints_expected),
	    cmocka_unit_test(config_load__fail_corpus__prints_expected_errors),
	    cmocka_unit_test(config_print__reparsed__identical),
	    cmocka_unit_test(config_load__default_config__loads_cleanly),
	    cmocka_unit_test(config_load__missing_file__fails),
	    cmocka_unit_test(config_load__policies__parsed_resolved_printed),
	    cmocka_unit_test(config_load__policy_errors__file_line),
	    cmocka_unit_test(config_load__unreachable_rule__warns_and_loads),
	    cmocka_unit_test(config_load__default_config__policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
