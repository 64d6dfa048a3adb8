/*
 * test_util.c: the daemon's small helpers (summoner/util.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

static const struct tmpl_var vars[] = {
    {"image", "/img/a b.hvt"}, {"memory", "64"}, {"tap", NULL}};

/* Splits tmpl with vars and args "x y", "{instance}"; the words joined by
 * '|' in out, or the error. */
static int
split(const char *tmpl, char *out, size_t outlen, size_t maxargv)
{
	char a0[] = "x y", a1[] = "{instance}";
	char *const args[] = {a0, a1};
	char buf[256], *argv[16], err[128];
	size_t argc, i, n = 0;

	out[0] = '\0';
	if (cmd_split(tmpl, vars, 3, args, 2, "www", 3, buf, sizeof(buf), argv,
	        maxargv, &argc, err, sizeof(err)) < 0) {
		snprintf(out, outlen, "error: %s", err);
		return -1;
	}
	assert_null(argv[argc]);
	for (i = 0; i < argc; i++)
		n += (size_t)snprintf(
		    out + n, outlen - n, "%s%s", i ? "|" : "", argv[i]);
	return (int)argc;
}

static void
cmd_split__quotes_and_placeholders__words(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(
	    split("vmm --mem={memory}  {image} {args}", out, sizeof(out), 16),
	    5);
	/* A value with a blank stays one word; {args} are words each. */
	assert_string_equal(out, "vmm|--mem=64|/img/a b.hvt|x y|www#3");
	assert_int_equal(split("sh -c 'echo \"$1\" {{x}}' \"\" a\\ b \"q\\\"\"",
	                     out, sizeof(out), 16),
	    6);
	assert_string_equal(out, "sh|-c|echo \"$1\" {x}||a b|q\"");
	assert_int_equal(split("a '\\n' \"\\n\"", out, sizeof(out), 16), 3);
	assert_string_equal(out, "a|\\n|\\n");
}

static void
cmd_split__bad_templates__refused(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(split("vmm {nope}", out, sizeof(out), 16), -1);
	assert_string_equal(out,
	    "error: unknown placeholder {nope} (write {{ for a literal brace)");
	assert_int_equal(split("vmm --net={tap}", out, sizeof(out), 16), -1);
	assert_string_equal(out, "error: {tap} has no value for this service");
	assert_int_equal(split("vmm x{args}", out, sizeof(out), 16), -1);
	assert_string_equal(out, "error: {args} must be a word of its own");
	assert_int_equal(split("vmm 'open", out, sizeof(out), 16), -1);
	assert_string_equal(out, "error: unterminated ' quote");
	assert_int_equal(split("vmm \\", out, sizeof(out), 16), -1);
	assert_string_equal(out, "error: a backslash ends the command");
	assert_int_equal(split("   ", out, sizeof(out), 16), -1);
	assert_string_equal(out, "error: the command is empty");
	assert_int_equal(split("a b c {args}", out, sizeof(out), 5), -1);
	assert_string_equal(out, "error: more than 4 words");
}

static void
cmd_split__too_long__refused(void **state)
{
	char buf[8], *argv[8], err[128];
	size_t argc;

	(void)state;
	assert_int_equal(cmd_split("abc {image}", vars, 3, NULL, 0, "s", 1, buf,
	                     sizeof(buf), argv, 8, &argc, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "longer than 8 bytes once expanded");
	assert_int_equal(cmd_split("abc defg", vars, 3, NULL, 0, "s", 1, buf,
	                     sizeof(buf), argv, 8, &argc, err, sizeof(err)),
	    -1);
	assert_int_equal(cmd_split("abc def", vars, 3, NULL, 0, "s", 1, buf,
	                     sizeof(buf), argv, 8, &argc, err, sizeof(err)),
	    0);
	assert_int_equal(argc, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(expand_arg__placeholders__replaced),
	    cmocka_unit_test(expand_arg__braces_and_unknown__kept),
	    cmocka_unit_test(expand_arg__too_long__cut_and_refused),
	    cmocka_unit_test(cmd_split__quotes_and_placeholders__words),
	    cmocka_unit_test(cmd_split__bad_templates__refused),
	    cmocka_unit_test(cmd_split__too_long__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
