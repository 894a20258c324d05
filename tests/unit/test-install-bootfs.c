/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/bootfs.c: which mount holds the boot
 * directory, read from a fake mountinfo file through libmount. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "install/bootfs.h"
#include "test-util.h"

/* test_dir's device, as mountinfo writes it ("254:1"), and one that is not */
static char dev[32];
static const char *other_dev = "0:4095";
static char boot_dir[PATH_MAX]; /* test_dir/"boot dir" */
static char mnt_boot[PATH_MAX]; /* the same, escaped as in mountinfo */
static struct bootfs_info info;

static const char *mountinfo(const char *text)
{
	return test_write_file("mountinfo", text, strlen(text));
}

/* printf into a static buffer */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
	static char buf[8192];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

/* A mount point named with a blank: libmount undoes the \040 escapes of
 * the mount point, the root and the source. */
static void test_escaped_names(void **state)
{
	const char *mi = mountinfo(fmt("1 0 %s / / rw - ext4 /dev/vdz9 rw\n"
				       "2 1 %s /sub\\040x %s rw,relatime shared:7 - ext4 "
				       "/dev/my\\040disk rw\n",
				       other_dev, dev, mnt_boot));

	assert_int_equal(bootfs_locate(boot_dir, mi, &info), 0);
	assert_string_equal(info.boot_dir, boot_dir);
	assert_string_equal(info.mountpoint, boot_dir);
	assert_string_equal(info.rel_dir, "/sub x");
	assert_string_equal(info.fstype, "ext4");
	assert_string_equal(info.source, "/dev/my disk");
}

/* The boot dir is the mount point and the mount root is "/": the boot
 * program finds the files at the top of the file system. */
static void test_at_fs_root(void **state)
{
	const char *mi = mountinfo(
		fmt("1 0 %s / / rw - ext4 /dev/vdz9 rw\n2 1 %s / %s rw - vfat /dev/vdb1 rw\n",
		    other_dev, dev, mnt_boot));

	assert_int_equal(bootfs_locate(boot_dir, mi, &info), 0);
	assert_string_equal(info.mountpoint, boot_dir);
	assert_string_equal(info.rel_dir, "");
	assert_string_equal(info.fstype, "vfat");
}

/* The device match wins over a deeper mount point on another device. */
static void test_device_wins(void **state)
{
	const char *mi =
		mountinfo(fmt("1 0 %s / / rw - ext4 /dev/vdz9 rw\n2 1 %s / %s rw - tmpfs none rw\n",
			      dev, other_dev, mnt_boot));

	assert_int_equal(bootfs_locate(boot_dir, mi, &info), 0);
	assert_string_equal(info.mountpoint, "/");
	assert_string_equal(info.rel_dir, boot_dir);
	assert_string_equal(info.source, "/dev/vdz9");
}

/* Without a device match (btrfs subvolumes): the deepest mount point, and
 * of two on the same path the last one, which shadows the first. */
static void test_deepest_then_last(void **state)
{
	const char *mi = mountinfo(fmt("1 0 0:30 / / rw - btrfs /dev/sda2 rw\n"
				       "2 1 0:31 /@boot %s rw - btrfs /dev/sda2 rw\n"
				       "3 1 0:32 /@boot2 %s rw - btrfs /dev/sda3 rw\n"
				       "4 1 0:33 /@tmp %s rw - btrfs /dev/sda4 rw\n",
				       mnt_boot, mnt_boot, test_dir));

	assert_int_equal(bootfs_locate(boot_dir, mi, &info), 0);
	assert_string_equal(info.mountpoint, boot_dir);
	assert_string_equal(info.rel_dir, "/@boot2");
	assert_string_equal(info.source, "/dev/sda3");
}

/* "/x/bo" is no prefix of "/x/boot dir"; lines that do not parse are
 * skipped. */
static void test_prefix_and_bad_lines(void **state)
{
	const char *mi =
		mountinfo(fmt("1 0 %s /r / rw - ext4 /dev/vdz9 rw\n"
			      "this is not a mountinfo line\n"
			      "2 1 %s / %s/boot rw - ext4 /dev/vdb rw\n"
			      "3 1 %s / %.*s rw - ext4 /dev/vdc rw\n",
			      dev, dev, test_dir, dev, (int)strlen(mnt_boot) - 6, mnt_boot));

	assert_int_equal(bootfs_locate(boot_dir, mi, &info), 0);
	assert_string_equal(info.mountpoint, "/");
	assert_string_equal(info.rel_dir, fmt("/r%s", boot_dir));
	assert_string_equal(info.source, "/dev/vdz9");
}

static void test_errors(void **state)
{
	const char *mi = mountinfo(fmt("2 1 %s / /nowhere rw - ext4 /dev/vdb rw\n", dev));
	char missing[PATH_MAX];

	/* no mount point holds it */
	assert_int_equal(bootfs_locate(boot_dir, mi, &info), -ENOENT);
	/* no mountinfo */
	snprintf(missing, sizeof(missing), "%s/no-such-mountinfo", test_dir);
	assert_int_equal(bootfs_locate(boot_dir, missing, &info), -ENOENT);
	/* no boot dir, or not a directory */
	assert_int_equal(bootfs_locate(missing, mi, &info), -ENOENT);
	assert_int_equal(bootfs_locate(mi, mi, &info), -ENOTDIR);
}

static int group_setup(void **state)
{
	struct stat st;

	if (test_dir_create() < 0 || stat(test_dir, &st) < 0)
		return -1;
	snprintf(dev, sizeof(dev), "%u:%u", major(st.st_dev), minor(st.st_dev));
	snprintf(boot_dir, sizeof(boot_dir), "%s/boot dir", test_dir);
	snprintf(mnt_boot, sizeof(mnt_boot), "%s/boot\\040dir", test_dir);
	return mkdir(boot_dir, 0700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaped_names),
		cmocka_unit_test(test_at_fs_root),
		cmocka_unit_test(test_device_wins),
		cmocka_unit_test(test_deepest_then_last),
		cmocka_unit_test(test_prefix_and_bad_lines),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("install-bootfs", tests, group_setup,
					   test_dir_group_teardown);
}
