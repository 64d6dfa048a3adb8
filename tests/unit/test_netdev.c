/*
 * test_netdev.c: guest MACs and tap names (summoner/netdev.c), and the
 * tap name clash fallback against the kernel in a network namespace of
 * the test's own (skipped without the privilege to make one).
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../summoner/netdev.h"

static void
netdev_mac__service_and_id__fixed_locally_administered(void **state)
{
	uint8_t a[6], b[6];
	char s[NETDEV_MACSTR];

	(void)state;
	netdev_mac("ping.t.test.", NULL, 1, a);
	/* FNV-1a of the name, pinned: tests/integration/summoner-tap.sh
	 * computes the same in bash. */
	assert_string_equal(netdev_mac_str(a, s), "02:40:7e:b7:00:01");
	assert_int_equal(a[0] & 1, 0); /* unicast */
	assert_int_equal(a[0] & 2, 2); /* locally administered */
	netdev_mac("ping.t.test.", NULL, 0x1234, b);
	assert_memory_equal(a, b, 4);
	assert_int_equal(b[4], 0x12);
	assert_int_equal(b[5], 0x34);
	netdev_mac("ping.t.test.", NULL, 0x11234, b); /* low 16 bits */
	assert_int_equal(b[4], 0x12);
	netdev_mac("pong.t.test.", NULL, 1, b);
	assert_memory_not_equal(a, b, 6);
	netdev_mac("ping.t.test.", "net1", 1, b); /* a second device */
	assert_memory_not_equal(a, b, 6);
	assert_int_equal(b[0], 0x02);
}

static void
netdev_tap_name__labels_and_ids__fit_ifnamsiz(void **state)
{
	char n[NETDEV_NAMESIZ];

	(void)state;
	netdev_tap_name("ping.t.test.", 1, n);
	assert_string_equal(n, "sm-ping-1");
	netdev_tap_name("averyverylongservicename.t.test.", 42, n);
	assert_string_equal(n, "sm-averyvery-42");
	assert_int_equal(strlen(n), 15);
	netdev_tap_name("web", 4294967295u, n); /* the id is never cut */
	assert_string_equal(n, "sm-w-4294967295");
	netdev_tap_name("longname", 1234567890u, n);
	assert_string_equal(n, "sm-l-1234567890");
}

static void
netdev_tap_create__name_taken__falls_back_to_unique(void **state)
{
	char a[NETDEV_NAMESIZ], b[NETDEV_NAMESIZ], err[256];
	int fa, fb;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 ||
	    access("/dev/net/tun", R_OK | W_OK) < 0)
		skip();
	fa = netdev_tap_create("ping.t.test.", 7, a, err, sizeof(err));
	assert_true(fa >= 0);
	assert_string_equal(a, "sm-ping-7");
	fb = netdev_tap_create("ping.t.test.", 7, b, err, sizeof(err));
	assert_true(fb >= 0);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(b, NETDEV_TAP_PREFIX, 3), 0);
	close(fa);
	close(fb);
	netdev_close();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        netdev_mac__service_and_id__fixed_locally_administered),
	    cmocka_unit_test(netdev_tap_name__labels_and_ids__fit_ifnamsiz),
	    cmocka_unit_test(
	        netdev_tap_create__name_taken__falls_back_to_unique),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
