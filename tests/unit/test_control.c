/*
 * test_control.c: the control socket's request parser (summoner/
 * control_req.c) and command table: every malformed request is refused
 * with a message, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "summoner/control_int.h"

static int
parse(const char *s, struct control_req *req, char *err, size_t errlen)
{
	return control_req_parse(s, strlen(s), req, err, errlen);
}

static void
control_req_parse__full_request__fields_set(void **state)
{
	struct control_req req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"logs\",\"name\":\"hello#3\",\"n\":5,"
	                       "\"follow\":true,\"json\":true}",
	                     &req, err, sizeof(err)),
	    0);
	assert_string_equal(req.cmd, "logs");
	assert_string_equal(req.name, "hello#3");
	assert_int_equal(req.n, 5);
	assert_true(req.follow);
	assert_null(req.policy);
	assert_null(req.trace);
	control_req_free(&req);
}

static void
control_req_parse__defaults__absent_fields(void **state)
{
	struct control_req req;
	char err[256];

	(void)state;
	assert_int_equal(parse("  {\"cmd\":\"list\",\"name\":null}\r", &req,
	                     err, sizeof(err)),
	    0);
	assert_string_equal(req.cmd, "list");
	assert_null(req.name);
	assert_int_equal(req.n, -1);
	assert_false(req.follow);
	control_req_free(&req);
}

static void
control_req_parse__trace_with_nul__kept_with_length(void **state)
{
	struct control_req req;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"policy-test\",\"policy\":\"p\","
	                       "\"trace\":\"a\\u0000b\\n\"}",
	                     &req, err, sizeof(err)),
	    0);
	assert_string_equal(req.policy, "p");
	assert_int_equal(req.tracelen, 4);
	assert_memory_equal(req.trace, "a\0b\n", 4);
	control_req_free(&req);
}

/* Each of these is refused, with a message containing the word given. */
static const struct {
	const char *line;
	const char *why;
} bad[] = {
    {"", "not JSON"},
    {"   ", "not JSON"},
    {"{", "not JSON"},
    {"{\"cmd\":\"list\"", "not JSON"},
    {"nonsense", "not JSON"},
    {"{\"cmd\":\"list\"} x", "after"},
    {"{\"cmd\":\"list\"}{\"cmd\":\"list\"}", "after"},
    {"[\"list\"]", "not a JSON object"},
    {"\"list\"", "not a JSON object"},
    {"42", "not a JSON object"},
    {"{}", "no \"cmd\""},
    {"{\"cmd\":\"\"}", "no \"cmd\""},
    {"{\"cmd\":7}", "must be a string"},
    {"{\"cmd\":\"show\",\"name\":[]}", "must be a string"},
    {"{\"cmd\":\"show\",\"name\":\"\"}", "empty"},
    {"{\"cmd\":\"show\",\"name\":\"a\\u0000b\"}", "NUL"},
    {"{\"cmd\":\"logs\",\"n\":-1}", "\"n\""},
    {"{\"cmd\":\"logs\",\"n\":1.5}", "\"n\""},
    {"{\"cmd\":\"logs\",\"n\":\"5\"}", "\"n\""},
    {"{\"cmd\":\"logs\",\"n\":99999999999}", "\"n\""},
    {"{\"cmd\":\"logs\",\"follow\":1}", "follow"},
    {"{\"cmd\":\"policy-test\",\"trace\":{}}", "must be a string"},
};

static void
control_req_parse__malformed__refused(void **state)
{
	struct control_req req;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].line, &req, err, sizeof(err)) != -1 ||
		    strstr(err, bad[i].why) == NULL)
			fail_msg("line %zu (%s): got \"%s\", wanted \"%s\"", i,
			    bad[i].line, err, bad[i].why);
		assert_null(req.obj);
	}
}

static void
control_req_parse__embedded_nul__refused(void **state)
{
	static const char line[] = "{\"cmd\":\"list\"}\0junk";
	struct control_req req;
	char err[256];

	(void)state;
	assert_int_equal(
	    control_req_parse(line, sizeof(line) - 1, &req, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "NUL"));
}

static void
control_req_parse__deep_nesting__refused(void **state)
{
	struct control_req req;
	char err[256], *line;
	size_t i, depth = 10000;

	(void)state;
	line = malloc(depth * 2 + 1);
	assert_non_null(line);
	for (i = 0; i < depth; i++) {
		line[i] = '[';
		line[depth + i] = ']';
	}
	line[2 * depth] = '\0';
	assert_int_equal(parse(line, &req, err, sizeof(err)), -1);
	free(line);
}

static void
control_req_parse__too_long__refused(void **state)
{
	struct control_req req;
	char err[256], *line;
	size_t len = CONTROL_MAX_LINE + 10;

	(void)state;
	line = malloc(len + 1);
	assert_non_null(line);
	memset(line, ' ', len);
	memcpy(line, "{\"cmd\":\"list\"}", 14);
	line[len] = '\0';
	assert_int_equal(
	    control_req_parse(line, len, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer"));
	free(line);
}

static void
control_cmd_find__every_command__found(void **state)
{
	static const char *const names[] = {"list", "show", "logs", "faults",
	    "inspect", "summon", "stop", "restart", "release", "retire",
	    "policy-test", "reload"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_non_null(control_cmd_find(names[i]));
		assert_string_equal(control_cmd_find(names[i])->name, names[i]);
	}
	assert_null(control_cmd_find("lis"));
	assert_null(control_cmd_find("LIST"));
	assert_null(control_cmd_find(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(control_req_parse__full_request__fields_set),
	    cmocka_unit_test(control_req_parse__defaults__absent_fields),
	    cmocka_unit_test(
	        control_req_parse__trace_with_nul__kept_with_length),
	    cmocka_unit_test(control_req_parse__malformed__refused),
	    cmocka_unit_test(control_req_parse__embedded_nul__refused),
	    cmocka_unit_test(control_req_parse__deep_nesting__refused),
	    cmocka_unit_test(control_req_parse__too_long__refused),
	    cmocka_unit_test(control_cmd_find__every_command__found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
