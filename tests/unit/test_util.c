/*
 * test_util.c: the daemon's small helpers (summoner/util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/util.h"

static void
expand_arg__placeholders__replaced(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(
	    expand_arg("{instance}", "www", 3, out, sizeof(out)), 0);
	assert_string_equal(out, "www#3");
	assert_int_equal(
	    expand_arg("--name={service}-{id}", "echo", 12, out, sizeof(out)),
	    0);
	assert_string_equal(out, "--name=echo-12");
}

static void
expand_arg__braces_and_unknown__kept(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(
	    expand_arg("{{id}} {x} {", "s", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "{id} {x} {");
	assert_int_equal(expand_arg("", "s", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
expand_arg__too_long__cut_and_refused(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(
	    expand_arg("{instance}", "www", 100, out, sizeof(out)), -1);
	assert_string_equal(out, "www#1");
	assert_int_equal(expand_arg("abc", "s", 1, out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(expand_arg__placeholders__replaced),
	    cmocka_unit_test(expand_arg__braces_and_unknown__kept),
	    cmocka_unit_test(expand_arg__too_long__cut_and_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
