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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_load__pass_corpus__prints_expected),
	    cmocka_unit_test(config_load__fail_corpus__prints_expected_errors),
	    cmocka_unit_test(config_print__reparsed__identical),
	    cmocka_unit_test(config_load__default_config__loads_cleanly),
	    cmocka_unit_test(config_load__missing_file__fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
