/*
 * test_health_msg.c: the heartbeat wire format parser (health/hbmsg.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health/health.h"

/*
 * Parse len bytes of s from a heap copy of exactly that size, so that ASan
 * catches any read past the end; expect status at errpos and a cleared
 * result.
 */
static void
expect_error_n(const char *s, size_t len, int status, size_t errpos)
{
	struct health_msg m, zero;
	char *copy = malloc(len ? len : 1);
	size_t pos = 99999;

	assert_non_null(copy);
	memcpy(copy, s, len);
	memset(&m, 0xa5, sizeof(m));
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(health_msg_parse(copy, len, &m, &pos), status);
	assert_int_equal(pos, errpos);
	assert_memory_equal(&m, &zero, sizeof(m));
	/* errpos is optional. */
	assert_int_equal(health_msg_parse(copy, len, &m, NULL), status);
	free(copy);
}

static void
expect_error(const char *s, int status, size_t errpos)
{
	expect_error_n(s, strlen(s), status, errpos);
}

/* Parse a C string that must be accepted. */
static void
parse_ok(const char *s, struct health_msg *m)
{
	size_t pos = 99999;

	assert_int_equal(
	    health_msg_parse(s, strlen(s), m, &pos), HEALTH_PARSE_OK);
	assert_int_equal(pos, 99999); /* untouched on success */
}

static void
parse__every_key__stored_pointing_into_input(void **state)
{
	static const char msg[] = "READY=1\n"
	                          "WATCHDOG=1\n"
	                          "STOPPING=1\n"
	                          "STATUS=serving, 3 clients\n"
	                          "X_SEQ=18446744073709551615\n"
	                          "X_PROGRESS=0\n"
	                          "X_CONNS=4294967295\n"
	                          "X_LOG=a=b c\n"
	                          "X_FAULT=assertion failed: x > 0\n"
	                          "X_DUMP=before flush\n"
	                          "X_TOKEN=0123456789abcdefABCDEF\n";
	struct health_msg m;

	(void)state;
	parse_ok(msg, &m);
	assert_int_equal(m.flags, 0x7ff);
	assert_int_equal(m.seq, UINT64_MAX);
	assert_int_equal(m.progress, 0);
	assert_int_equal(m.conns, UINT32_MAX);
	assert_ptr_equal(m.status, strstr(msg, "serving"));
	assert_int_equal(m.status_len, strlen("serving, 3 clients"));
	assert_ptr_equal(m.log, strstr(msg, "a=b c"));
	assert_int_equal(m.log_len, 5);
	assert_ptr_equal(m.fault, strstr(msg, "assertion"));
	assert_int_equal(m.fault_len, strlen("assertion failed: x > 0"));
	assert_ptr_equal(m.dump, strstr(msg, "before flush"));
	assert_int_equal(m.dump_len, strlen("before flush"));
	assert_ptr_equal(m.token, strstr(msg, "0123"));
	assert_int_equal(m.token_len, 22);
	assert_int_equal(m.unknown_keys, 0);
}

static void
parse__each_key_alone__only_its_flag(void **state)
{
	static const struct {
		const char *msg;
		unsigned flag;
	} cases[] = {
	    {"READY=1", HEALTH_MSG_READY},
	    {"WATCHDOG=1", HEALTH_MSG_WATCHDOG},
	    {"STOPPING=1", HEALTH_MSG_STOPPING},
	    {"STATUS=", HEALTH_MSG_HAS_STATUS},
	    {"X_SEQ=7", HEALTH_MSG_HAS_SEQ},
	    {"X_PROGRESS=8", HEALTH_MSG_HAS_PROGRESS},
	    {"X_CONNS=9", HEALTH_MSG_HAS_CONNS},
	    {"X_LOG=", HEALTH_MSG_HAS_LOG},
	    {"X_FAULT=", HEALTH_MSG_HAS_FAULT},
	    {"X_DUMP=", HEALTH_MSG_HAS_DUMP},
	    {"X_TOKEN=00000000000000000000000000000000", HEALTH_MSG_HAS_TOKEN},
	};
	struct health_msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].msg, &m);
		assert_int_equal(m.flags, cases[i].flag);
	}
}

static void
parse__heartbeat_as_hb_beat_sends__values(void **state)
{
	struct health_msg m;

	(void)state;
	parse_ok("WATCHDOG=1\nX_SEQ=12\nX_PROGRESS=3400\nX_CONNS=5\n", &m);
	assert_int_equal(m.flags, HEALTH_MSG_WATCHDOG | HEALTH_MSG_HAS_SEQ |
	                              HEALTH_MSG_HAS_PROGRESS |
	                              HEALTH_MSG_HAS_CONNS);
	assert_int_equal(m.seq, 12);
	assert_int_equal(m.progress, 3400);
	assert_int_equal(m.conns, 5);
	assert_null(m.status);
	assert_int_equal(m.status_len, 0);
}

static void
parse__empty_message__ok_nothing_set(void **state)
{
	struct health_msg m;

	(void)state;
	assert_int_equal(health_msg_parse(NULL, 0, &m, NULL), HEALTH_PARSE_OK);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.unknown_keys, 0);
	parse_ok("\n\n\n", &m);
	assert_int_equal(m.flags, 0);
}

static void
parse__no_trailing_newline_and_empty_lines__ok(void **state)
{
	struct health_msg m;

	(void)state;
	parse_ok("\nREADY=1\n\n\nSTATUS=up", &m);
	assert_int_equal(m.flags, HEALTH_MSG_READY | HEALTH_MSG_HAS_STATUS);
	assert_int_equal(m.status_len, 2);
	assert_memory_equal(m.status, "up", 2);
}

static void
parse__unknown_keys__counted_not_stored(void **state)
{
	struct health_msg m;

	(void)state;
	parse_ok("MAINPID=42\nX_FUTURE=\nX_FUTURE=again\nREADY=1\nERRNO=2", &m);
	assert_int_equal(m.unknown_keys, 4);
	assert_int_equal(m.flags, HEALTH_MSG_READY);
	/* Keys that only start like known ones are unknown. */
	parse_ok("READ=1\nREADYY=1\nX_SEQUENCE=x\nSTATUS_X=1", &m);
	assert_int_equal(m.unknown_keys, 4);
	assert_int_equal(m.flags, 0);
	/* The longest key allowed. */
	parse_ok(
	    "K23456789012345678901234567890123456789012345678901234567890123"
	    "4=v",
	    &m);
	assert_int_equal(m.unknown_keys, 1);
}

static void
parse__values__any_byte_but_newline_and_nul(void **state)
{
	static const char msg[] = "STATUS=\xff\t=\x01 \r";
	struct health_msg m;

	(void)state;
	parse_ok(msg, &m);
	assert_int_equal(m.status_len, 6);
	assert_memory_equal(m.status, "\xff\t=\x01 \r", 6);
}

static void
parse__crlf__cr_is_part_of_the_value(void **state)
{
	struct health_msg m;

	(void)state;
	parse_ok("STATUS=up\r\nX_LOG=x\r\n", &m);
	assert_int_equal(m.status_len, 3);
	assert_memory_equal(m.status, "up\r", 3);
	expect_error("READY=1\r\n", HEALTH_PARSE_EBOOL, 6);
	expect_error("X_SEQ=1\r\n", HEALTH_PARSE_ENUMBER, 6);
	/* A lone "\r" line is a key error, not an empty line. */
	expect_error("READY=1\r\n\r\n", HEALTH_PARSE_EBOOL, 6);
	expect_error("STATUS=a\r\n\r\n", HEALTH_PARSE_EKEY, 10);
}

static void
parse__bad_key__ekey(void **state)
{
	(void)state;
	expect_error("ready=1", HEALTH_PARSE_EKEY, 0);
	expect_error("READy=1", HEALTH_PARSE_EKEY, 4);
	expect_error("1READY=1", HEALTH_PARSE_EKEY, 0);
	expect_error("_READY=1", HEALTH_PARSE_EKEY, 0);
	expect_error("X-SEQ=1", HEALTH_PARSE_EKEY, 1);
	expect_error("READY =1", HEALTH_PARSE_EKEY, 5);
	expect_error(" READY=1", HEALTH_PARSE_EKEY, 0);
	expect_error("=1", HEALTH_PARSE_EKEY, 0);
	expect_error("=", HEALTH_PARSE_EKEY, 0);
	expect_error("\xc3\x89TAT=1", HEALTH_PARSE_EKEY, 0);
	expect_error("READY=1\nWATCH.DOG=1\n", HEALTH_PARSE_EKEY, 13);
	/* A bad key is refused even with nothing known in the line. */
	expect_error("hello world\n", HEALTH_PARSE_EKEY, 0);
}

static void
parse__key_too_long__ekeylen(void **state)
{
	char msg[128];

	(void)state;
	memset(msg, 'K', 65);
	strcpy(msg + 65, "=1");
	expect_error(msg, HEALTH_PARSE_EKEYLEN, 64);
	/* Long and bad: the length is seen first. */
	memset(msg, 'K', 70);
	strcpy(msg + 70, "a=1");
	expect_error(msg, HEALTH_PARSE_EKEYLEN, 64);
}

static void
parse__missing_equals__enoeq(void **state)
{
	(void)state;
	expect_error("READY", HEALTH_PARSE_ENOEQ, 5);
	expect_error("READY\n", HEALTH_PARSE_ENOEQ, 5);
	expect_error("READY=1\nWATCHDOG\nX_SEQ=1", HEALTH_PARSE_ENOEQ, 16);
	expect_error("A", HEALTH_PARSE_ENOEQ, 1);
}

static void
parse__nul__enul(void **state)
{
	(void)state;
	expect_error_n("STATUS=a\0b", 10, HEALTH_PARSE_ENUL, 8);
	expect_error_n("READY=1\0", 8, HEALTH_PARSE_ENUL, 7);
	expect_error_n("RE\0ADY=1", 8, HEALTH_PARSE_ENUL, 2);
	expect_error_n("\0", 1, HEALTH_PARSE_ENUL, 0);
	expect_error_n("MAINPID=1\0\n", 11, HEALTH_PARSE_ENUL, 9);
	expect_error_n("X_LOG=\0", 7, HEALTH_PARSE_ENUL, 6);
}

static void
parse__known_key_twice__edup(void **state)
{
	(void)state;
	expect_error("READY=1\nREADY=1", HEALTH_PARSE_EDUP, 8);
	expect_error("WATCHDOG=1\nX_SEQ=1\nX_SEQ=1\n", HEALTH_PARSE_EDUP, 19);
	expect_error("STATUS=a\nSTATUS=b", HEALTH_PARSE_EDUP, 9);
	expect_error("X_TOKEN=0000000000000000\nX_TOKEN=0000000000000000",
	    HEALTH_PARSE_EDUP, 25);
	/* Checked before the value: a bad second value is still EDUP. */
	expect_error("X_CONNS=1\nX_CONNS=x", HEALTH_PARSE_EDUP, 10);
}

static void
parse__bad_numbers__enumber(void **state)
{
	static const char *const bad[] = {"", "+1", "-1", "01", "00", " 1",
	    "1 ", "0x10", "1.5", "1e3", "\xd9\xa1", "12a"};
	static const char *const keys[] = {"X_SEQ=", "X_PROGRESS=", "X_CONNS="};
	char msg[64];
	size_t i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(msg, sizeof(msg), "%s%s", keys[k], bad[i]);
			expect_error(
			    msg, HEALTH_PARSE_ENUMBER, strlen(keys[k]));
		}
	}
	/* Syntax is checked before range. */
	expect_error("X_SEQ=99999999999999999999x", HEALTH_PARSE_ENUMBER, 6);
}

static void
parse__number_limits__erange_past_them(void **state)
{
	struct health_msg m;

	(void)state;
	parse_ok("X_SEQ=0\nX_PROGRESS=18446744073709551615\nX_CONNS=0", &m);
	assert_int_equal(m.seq, 0);
	assert_int_equal(m.progress, UINT64_MAX);
	expect_error("X_SEQ=18446744073709551616", HEALTH_PARSE_ERANGE, 6);
	expect_error("X_SEQ=18446744073709551620", HEALTH_PARSE_ERANGE, 6);
	expect_error(
	    "X_PROGRESS=99999999999999999999", HEALTH_PARSE_ERANGE, 11);
	expect_error("X_SEQ=100000000000000000000", HEALTH_PARSE_ERANGE, 6);
	parse_ok("X_CONNS=4294967295", &m);
	assert_int_equal(m.conns, UINT32_MAX);
	expect_error("X_CONNS=4294967296", HEALTH_PARSE_ERANGE, 8);
	expect_error("X_CONNS=18446744073709551615", HEALTH_PARSE_ERANGE, 8);
}

static void
parse__boolean_not_one__ebool(void **state)
{
	static const char *const bad[] = {"READY=0", "READY=", "READY=11",
	    "READY=true", "READY= 1", "WATCHDOG=2", "WATCHDOG=yes",
	    "STOPPING=1 ", "STOPPING=01"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i], HEALTH_PARSE_EBOOL,
		    (size_t)(strchr(bad[i], '=') - bad[i]) + 1);
}

static void
parse__token__16_to_128_hex_digits(void **state)
{
	char msg[256];
	struct health_msg m;

	(void)state;
	strcpy(msg, "X_TOKEN=");
	memset(msg + 8, 'a', 16);
	msg[8 + 16] = '\0';
	parse_ok(msg, &m);
	assert_int_equal(m.token_len, 16);
	msg[8 + 15] = '\0';
	expect_error(msg, HEALTH_PARSE_ETOKEN, 8);
	memset(msg + 8, 'F', 128);
	msg[8 + 128] = '\0';
	parse_ok(msg, &m);
	assert_int_equal(m.token_len, 128);
	assert_ptr_equal(m.token, msg + 8);
	msg[8 + 128] = '0';
	msg[8 + 129] = '\0';
	expect_error(msg, HEALTH_PARSE_ETOKEN, 8);
	expect_error("X_TOKEN=", HEALTH_PARSE_ETOKEN, 8);
	expect_error("X_TOKEN=0123456789abcdeg", HEALTH_PARSE_ETOKEN, 8);
	expect_error("X_TOKEN=0x23456789abcdef00", HEALTH_PARSE_ETOKEN, 8);
	expect_error("X_TOKEN= 123456789abcdef00", HEALTH_PARSE_ETOKEN, 8);
}

static void
parse__status_length__limit(void **state)
{
	static char msg[16 + HEALTH_STATUS_MAX + 2];
	struct health_msg m;

	(void)state;
	strcpy(msg, "STATUS=");
	memset(msg + 7, 's', HEALTH_STATUS_MAX);
	msg[7 + HEALTH_STATUS_MAX] = '\0';
	parse_ok(msg, &m);
	assert_int_equal(m.status_len, HEALTH_STATUS_MAX);
	msg[7 + HEALTH_STATUS_MAX] = 's';
	msg[7 + HEALTH_STATUS_MAX + 1] = '\0';
	expect_error(msg, HEALTH_PARSE_ESTATUSLEN, 7);
	/* Other texts are bounded by the message only. */
	memcpy(msg, "X_LOG=", 6);
	parse_ok(msg, &m);
	assert_int_equal(m.log_len, HEALTH_STATUS_MAX + 2);
}

static void
parse__message_size__limit(void **state)
{
	static char msg[HEALTH_MSG_MAX + 2];
	struct health_msg m;
	size_t pos = 0;

	(void)state;
	memcpy(msg, "X_LOG=", 6);
	memset(msg + 6, 'l', sizeof(msg) - 6);
	assert_int_equal(
	    health_msg_parse(msg, HEALTH_MSG_MAX, &m, &pos), HEALTH_PARSE_OK);
	assert_int_equal(m.log_len, HEALTH_MSG_MAX - 6);
	expect_error_n(
	    msg, HEALTH_MSG_MAX + 1, HEALTH_PARSE_ETOOBIG, HEALTH_MSG_MAX);
	/* Refused whatever its content: even empty lines. */
	memset(msg, '\n', sizeof(msg));
	expect_error_n(msg, sizeof(msg), HEALTH_PARSE_ETOOBIG, HEALTH_MSG_MAX);
}

static void
parse__first_error__wins(void **state)
{
	(void)state;
	expect_error("READY=2\nready=1", HEALTH_PARSE_EBOOL, 6);
	expect_error("X_SEQ=1\nX_SEQ=01", HEALTH_PARSE_EDUP, 8);
}

static void
strerror__every_status__distinct(void **state)
{
	int a, b;

	(void)state;
	for (a = HEALTH_PARSE_ESTATUSLEN; a <= HEALTH_PARSE_OK; a++) {
		assert_string_not_equal(
		    health_parse_strerror(a), "unknown status");
		for (b = a + 1; b <= HEALTH_PARSE_OK; b++)
			assert_string_not_equal(
			    health_parse_strerror(a), health_parse_strerror(b));
	}
	assert_string_equal(health_parse_strerror(1), "unknown status");
	assert_string_equal(health_parse_strerror(-12), "unknown status");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse__every_key__stored_pointing_into_input),
	    cmocka_unit_test(parse__each_key_alone__only_its_flag),
	    cmocka_unit_test(parse__heartbeat_as_hb_beat_sends__values),
	    cmocka_unit_test(parse__empty_message__ok_nothing_set),
	    cmocka_unit_test(parse__no_trailing_newline_and_empty_lines__ok),
	    cmocka_unit_test(parse__unknown_keys__counted_not_stored),
	    cmocka_unit_test(parse__values__any_byte_but_newline_and_nul),
	    cmocka_unit_test(parse__crlf__cr_is_part_of_the_value),
	    cmocka_unit_test(parse__bad_key__ekey),
	    cmocka_unit_test(parse__key_too_long__ekeylen),
	    cmocka_unit_test(parse__missing_equals__enoeq),
	    cmocka_unit_test(parse__nul__enul),
	    cmocka_unit_test(parse__known_key_twice__edup),
	    cmocka_unit_test(parse__bad_numbers__enumber),
	    cmocka_unit_test(parse__number_limits__erange_past_them),
	    cmocka_unit_test(parse__boolean_not_one__ebool),
	    cmocka_unit_test(parse__token__16_to_128_hex_digits),
	    cmocka_unit_test(parse__status_length__limit),
	    cmocka_unit_test(parse__message_size__limit),
	    cmocka_unit_test(parse__first_error__wins),
	    cmocka_unit_test(strerror__every_status__distinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
