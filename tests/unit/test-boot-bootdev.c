/* SPDX-License-Identifier: MIT */
/* Unit tests for src/boot/bootdev.c: which of the devices carrying the
 * bootfs spec is the boot device, how the refusal names them, and the
 * mount data of a boot filesystem. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "boot/bootdev.h"

/* found: n devices /dev/vd{a,b,...}1 with device numbers 254:16*i+1 */
static void fill(struct bootdev_found *found, unsigned n)
{
	memset(found, 0, sizeof(*found));
	found->n = n;
	for (unsigned i = 0; i < n && i < BOOTDEV_FOUND_MAX; i++) {
		snprintf(found->dev[i].device, sizeof(found->dev[i].device), "/dev/vd%c1",
			 'a' + (char)i);
		found->dev[i].rdev = makedev(254, 16 * i + 1);
	}
}

static void test_none(void **state)
{
	struct bootdev_found found;

	fill(&found, 0);
	assert_int_equal(bootdev_choose(&found, 0), -ENOENT);
	assert_int_equal(bootdev_choose(&found, makedev(254, 1)), -ENOENT);
}

/* One device: it, whatever the hint says (a stale hint does not stop a
 * boot that has only one candidate). */
static void test_one(void **state)
{
	struct bootdev_found found;

	fill(&found, 1);
	assert_int_equal(bootdev_choose(&found, 0), 0);
	assert_int_equal(bootdev_choose(&found, makedev(8, 1)), 0);
}

static void test_several_no_hint_refused(void **state)
{
	struct bootdev_found found;

	fill(&found, 2);
	assert_int_equal(bootdev_choose(&found, 0), -ENOTUNIQ);
	fill(&found, 3);
	assert_int_equal(bootdev_choose(&found, 0), -ENOTUNIQ);
}

static void test_several_hint_among_them_wins(void **state)
{
	struct bootdev_found found;

	fill(&found, 3);
	assert_int_equal(bootdev_choose(&found, makedev(254, 17)), 1);
	assert_int_equal(bootdev_choose(&found, makedev(254, 33)), 2);
	assert_int_equal(bootdev_choose(&found, makedev(254, 1)), 0);
}

static void test_several_hint_elsewhere_refused(void **state)
{
	struct bootdev_found found;

	fill(&found, 2);
	assert_int_equal(bootdev_choose(&found, makedev(8, 1)), -ENOTUNIQ);
}

/* More than the list keeps: still refused, the hint only found among
 * those kept (the devices it could be matched with). */
static void test_more_than_kept(void **state)
{
	struct bootdev_found found;

	fill(&found, BOOTDEV_FOUND_MAX + 3);
	assert_int_equal(bootdev_choose(&found, 0), -ENOTUNIQ);
	assert_int_equal(bootdev_choose(&found, makedev(254, 16 * (BOOTDEV_FOUND_MAX - 1) + 1)),
			 BOOTDEV_FOUND_MAX - 1);
}

static void test_format(void **state)
{
	struct bootdev_found found;
	char out[256];

	fill(&found, 1);
	bootdev_format_found(&found, out, sizeof(out));
	assert_string_equal(out, "/dev/vda1");
	fill(&found, 2);
	bootdev_format_found(&found, out, sizeof(out));
	assert_string_equal(out, "/dev/vda1 and /dev/vdb1");
	fill(&found, 3);
	bootdev_format_found(&found, out, sizeof(out));
	assert_string_equal(out, "/dev/vda1, /dev/vdb1 and /dev/vdc1");
	fill(&found, BOOTDEV_FOUND_MAX + 2);
	bootdev_format_found(&found, out, sizeof(out));
	assert_string_equal(out,
			    "/dev/vda1, /dev/vdb1, /dev/vdc1, /dev/vdd1, /dev/vde1, /dev/vdf1, "
			    "/dev/vdg1, /dev/vdh1 and 2 more");
}

static void test_format_truncates(void **state)
{
	struct bootdev_found found;
	char out[12];

	fill(&found, 3);
	bootdev_format_found(&found, out, sizeof(out));
	assert_string_equal(out, "/dev/vda1, ");
	bootdev_format_found(&found, out, 0); /* nothing written, no crash */
}

/* FAT is mounted root-only; filesystems with modes get no data. */
static void test_mount_data(void **state)
{
	assert_string_equal(bootdev_mount_data("vfat"), "umask=0077");
	assert_string_equal(bootdev_mount_data("msdos"), "umask=0077");
	assert_null(bootdev_mount_data("ext4"));
	assert_null(bootdev_mount_data("xfs"));
	assert_null(bootdev_mount_data(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_several_no_hint_refused),
		cmocka_unit_test(test_several_hint_among_them_wins),
		cmocka_unit_test(test_several_hint_elsewhere_refused),
		cmocka_unit_test(test_more_than_kept),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_mount_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
