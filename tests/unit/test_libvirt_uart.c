/*
 * test_libvirt_uart.c: the COM2 frame splitter (summoner/libvirt_uart.h)
 * and the domain XML templates (summoner/libvirt_xml.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "summoner/libvirt_uart.h"
#include "summoner/libvirt_xml.h"

struct got {
	int n;
	char tags[16];
	char payloads[16][64];
};

static void
collect(void *arg, char tag, const char *p, size_t len)
{
	struct got *g = arg;

	assert_true(g->n < 16);
	assert_true(len < 64);
	g->tags[g->n] = tag;
	memcpy(g->payloads[g->n], p, len);
	g->payloads[g->n][len] = '\0';
	g->n++;
}

static struct lv_uart u;

static void
feed__clean_frames__unescaped(void **state)
{
	static const char in[] =
	    "\x1eN READY=1\\nX_SEQ=1\n\x1eL a\\\\b\\x07c\n";
	struct got g = {0};

	(void)state;
	lv_uart_init(&u);
	lv_uart_feed(&u, in, sizeof(in) - 1, collect, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.tags[0], 'N');
	assert_string_equal(g.payloads[0], "READY=1\nX_SEQ=1");
	assert_int_equal(g.tags[1], 'L');
	assert_string_equal(g.payloads[1], "a\\b\x07"
	                                   "c");
	assert_int_equal(u.bad, 0);
}

static void
feed__garbage__resynchronises(void **state)
{
	/* noise, a frame cut by the next start, a bad tag, a bad escape,
	 * a raw control byte, a tag without its space: all dropped */
	static const char in[] = "noise\n\x00\xff\x1eN REA"
	                         "\x1eX junk\n\x1eN a\\q\n\x1eL c\x01"
	                         "d\n"
	                         "\x1eNxx\n\x1eN READY=1\n";
	struct got g = {0};

	(void)state;
	lv_uart_init(&u);
	lv_uart_feed(&u, in, sizeof(in) - 1, collect, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.payloads[0], "READY=1");
	assert_int_equal(u.bad, 5);
}

static void
feed__byte_by_byte__same_frames(void **state)
{
	static const char in[] = "\x1e"
	                         "F KIND=abort\\nRIP=0x10\n";
	struct got g = {0};
	size_t i;

	(void)state;
	lv_uart_init(&u);
	for (i = 0; i + 1 < sizeof(in); i++)
		lv_uart_feed(&u, in + i, 1, collect, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.tags[0], 'F');
	assert_string_equal(g.payloads[0], "KIND=abort\nRIP=0x10");
}

static void
feed__overlong_frame__dropped_and_bounded(void **state)
{
	char *big = malloc(LV_UART_FRAME_MAX + 100);
	struct got g = {0};

	(void)state;
	assert_non_null(big);
	big[0] = 0x1e;
	big[1] = 'L';
	big[2] = ' ';
	memset(big + 3, 'a', LV_UART_FRAME_MAX + 96);
	big[LV_UART_FRAME_MAX + 99] = '\n';
	lv_uart_init(&u);
	lv_uart_feed(&u, big, LV_UART_FRAME_MAX + 100, collect, &g);
	lv_uart_feed(&u, "\x1eL ok\n", 6, collect, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.payloads[0], "ok");
	assert_int_equal(u.bad, 1);
	free(big);
}

static void
unescape__truncated_escapes__refused(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(lv_uart_unescape("a\\", 2, out), -1);
	assert_int_equal(lv_uart_unescape("\\x4", 3, out), -1);
	assert_int_equal(lv_uart_unescape("\\xzz", 4, out), -1);
	assert_int_equal(lv_uart_unescape("\\x41", 4, out), 1);
	assert_int_equal(out[0], 'A');
}

static void
xml__values__escaped(void **state)
{
	struct tmpl_var v[2] = {{"name", "a<b>&'\""}, {"args", NULL}};
	char *out = NULL, err[128];

	(void)state;
	assert_int_equal(
	    lv_xml_expand("<n>{name}</n>{{x}}", v, 1, &out, err, sizeof(err)),
	    0);
	assert_string_equal(out, "<n>a&lt;b&gt;&amp;&apos;&quot;</n>{x}");
	free(out);
	assert_int_equal(
	    lv_xml_expand("{nope}", v, 2, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown placeholder {nope}");
	assert_int_equal(
	    lv_xml_expand("{args}", v, 2, &out, err, sizeof(err)), -1);
	assert_int_equal(
	    lv_xml_expand("{name", v, 2, &out, err, sizeof(err)), -1);
	assert_null(out);
}

static void
xml__builtin__every_placeholder_known(void **state)
{
	struct tmpl_var v[LV_XML_NVARS];
	char *out = NULL, err[128];
	int i;

	(void)state;
	for (i = 0; i < LV_XML_NVARS; i++) {
		v[i].name = lv_xml_var_name((enum lv_xml_var)i);
		v[i].value = i == LV_XML_MAC ? NULL : "V";
	}
	assert_int_equal(lv_xml_expand(lv_xml_builtin, v, LV_XML_NVARS, &out,
	                     err, sizeof(err)),
	    0);
	assert_non_null(strstr(out, "<kernel>V</kernel>"));
	assert_non_null(strstr(out, "<panic model='isa'/>"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(feed__clean_frames__unescaped),
	    cmocka_unit_test(feed__garbage__resynchronises),
	    cmocka_unit_test(feed__byte_by_byte__same_frames),
	    cmocka_unit_test(feed__overlong_frame__dropped_and_bounded),
	    cmocka_unit_test(unescape__truncated_escapes__refused),
	    cmocka_unit_test(xml__values__escaped),
	    cmocka_unit_test(xml__builtin__every_placeholder_known),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
