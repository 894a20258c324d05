/* SPDX-License-Identifier: MIT */
/* hostonly.c: the drivers of the boot device's chain, read from a sysfs
 * tree made here (the host's own sysfs would make the test depend on the
 * machine): a partition on a virtio disk, a partition on an NVMe disk
 * whose driver is built in, a loop device, a device-mapper device, and a
 * device number sysfs does not know. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "install/hostonly.h"
#include "test-util.h"

static char sysfs[256];

static void mk(const char *path)
{
	char full[PATH_MAX], *p;

	snprintf(full, sizeof(full), "%s%s", sysfs, path);
	for (p = full + strlen(sysfs) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(full, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(full, 0755) == 0 || errno == EEXIST);
}

static void ln(const char *target, const char *path)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", sysfs, path);
	assert_int_equal(symlink(target, full), 0);
}

static void put(const char *path, const char *text)
{
	char full[PATH_MAX];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", sysfs, path);
	f = fopen(full, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

#define VIRTIO_PCI "/devices/pci0000:00/0000:00:04.0"
#define VIRTIO_DEV VIRTIO_PCI "/virtio1"
#define NVME_PCI   "/devices/pci0000:00/0000:00:05.0"
#define NVME_DISK  NVME_PCI "/nvme/nvme0/nvme0n1"

/* The shape of a real sysfs: /dev/block/MAJ:MIN links into /devices,
 * bound drivers link to /bus/.../drivers/NAME, whose module links to
 * /module/NAME (a built-in driver has no module link). */
static int setup(void **state)
{
	char real[PATH_MAX];

	if (test_dir_create() < 0 || !realpath(test_dir, real) ||
	    snprintf(sysfs, sizeof(sysfs), "%s/sys", real) >= (int)sizeof(sysfs))
		return -1;
	mk("");
	mk("/dev/block");
	mk("/module/virtio_blk");
	mk("/module/virtio_pci");
	mk("/bus/virtio/drivers/virtio_blk");
	ln("../../../../module/virtio_blk", "/bus/virtio/drivers/virtio_blk/module");
	mk("/bus/pci/drivers/virtio-pci");
	ln("../../../../module/virtio_pci", "/bus/pci/drivers/virtio-pci/module");
	mk("/bus/pci/drivers/nvme");

	mk(VIRTIO_DEV "/block/vda/vda1");
	put(VIRTIO_PCI "/modalias", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00\n");
	ln("../../../bus/pci/drivers/virtio-pci", VIRTIO_PCI "/driver");
	put(VIRTIO_DEV "/modalias", "virtio:d00000002v00001AF4\n");
	ln("../../../../bus/virtio/drivers/virtio_blk", VIRTIO_DEV "/driver");
	ln("../../devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1", "/dev/block/254:1");

	mk(NVME_DISK "/nvme0n1p2");
	put(NVME_PCI "/modalias", "pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02\n");
	ln("../../../bus/pci/drivers/nvme", NVME_PCI "/driver");
	ln("../../devices/pci0000:00/0000:00:05.0/nvme/nvme0/nvme0n1/nvme0n1p2",
	   "/dev/block/259:2");

	mk("/devices/virtual/block/loop0");
	ln("../../devices/virtual/block/loop0", "/dev/block/7:0");
	mk("/devices/virtual/block/dm-0");
	ln("../../devices/virtual/block/dm-0", "/dev/block/253:0");
	return 0;
}

static int teardown(void **state)
{
	return test_dir_remove();
}

static int chain(dev_t dev, struct strv *names, struct strv *why, char *device)
{
	return hostonly_chain(sysfs, dev, names, why, device, PATH_MAX);
}

static void test_virtio_partition(void **state)
{
	struct strv names = { 0 }, why = { 0 };
	char device[PATH_MAX], dir[PATH_MAX];

	assert_int_equal(chain(makedev(254, 1), &names, &why, device), 0);
	/* from the disk up: each device's modalias, then its driver's module */
	assert_int_equal(names.n, 4);
	assert_string_equal(names.v[0], "virtio:d00000002v00001AF4");
	assert_string_equal(names.v[1], "virtio_blk");
	assert_string_equal(names.v[2], "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00");
	assert_string_equal(names.v[3], "virtio_pci");
	snprintf(dir, sizeof(dir), "%s%s", sysfs, VIRTIO_DEV);
	assert_string_equal(why.v[0], dir);
	assert_string_equal(why.v[1], dir);
	snprintf(dir, sizeof(dir), "%s%s", sysfs, VIRTIO_PCI);
	assert_string_equal(why.v[3], dir);
	strv_free(&names);
	strv_free(&why);
}

/* A driver built into the kernel has no module link: its modalias is
 * still wanted (libkmod finds it built in, or a module that also
 * matches); nothing is wanted twice. */
static void test_builtin_driver(void **state)
{
	struct strv names = { 0 }, why = { 0 };
	char device[PATH_MAX];

	assert_int_equal(strv_add(&names, "virtio_blk"), 0);
	assert_int_equal(strv_add(&why, "before"), 0);
	assert_int_equal(chain(makedev(259, 2), &names, &why, device), 0);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[1], "pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02");
	assert_int_equal(chain(makedev(254, 1), &names, &why, device), 0);
	assert_int_equal(names.n, 5); /* virtio_blk was there */
	strv_free(&names);
	strv_free(&why);
}

static void test_virtual_devices(void **state)
{
	struct strv names = { 0 }, why = { 0 };
	char device[PATH_MAX];

	assert_int_equal(chain(makedev(7, 0), &names, &why, device), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(chain(makedev(253, 0), &names, &why, device), -EMEDIUMTYPE);
	assert_non_null(strstr(device, "/devices/virtual/block/dm-0"));
	assert_int_equal(chain(makedev(0, 42), &names, &why, device), -ENODEV);
	assert_non_null(strstr(device, "/dev/block/0:42"));
	assert_int_equal(names.n, 0);
	strv_free(&names);
	strv_free(&why);
}

/* A modalias file that cannot be read is an error, not a device without
 * one: the chain would silently miss its driver. */
static void test_unreadable_modalias(void **state)
{
	struct strv names = { 0 }, why = { 0 };
	char device[PATH_MAX], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s/modalias", sysfs, VIRTIO_DEV);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(chain(makedev(254, 1), &names, &why, device), -EISDIR);
	assert_int_equal(rmdir(path), 0);
	put(VIRTIO_DEV "/modalias", "virtio:d00000002v00001AF4\n");
	strv_free(&names);
	strv_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_virtio_partition),
		cmocka_unit_test(test_builtin_driver),
		cmocka_unit_test(test_virtual_devices),
		cmocka_unit_test(test_unreadable_modalias),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
