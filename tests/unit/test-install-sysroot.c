/* SPDX-License-Identifier: MIT */
/* sysroot.c: paths of another tree resolved beneath it, whatever its
 * symlinks say; its programs and its kernel found in it. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "install/sysroot.h"
#include "test-util.h"

/* Kernel releases of the test's own tree: no machine has them, so nothing
 * here can depend on what /lib/modules of the host holds. */
#define TREE_KERNEL   "0.0.0-iofs-tree"
#define TREE_KERNEL_2 "0.0.1-iofs-tree"

static char root[256];

static void mk(const char *path)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", root, path);
	assert_int_equal(mkdir(full, 0755), 0);
}

static void ln(const char *target, const char *path)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s%s", root, path);
	assert_int_equal(symlink(target, full), 0);
}

static void file(const char *path, mode_t mode)
{
	char full[PATH_MAX];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(full, mode), 0);
}

/* A usr-merged tree: /lib and /sbin are links to usr/, one absolute. */
static int setup(void **state)
{
	char real[PATH_MAX];

	if (test_dir_create() < 0 || !realpath(test_dir, real) ||
	    snprintf(root, sizeof(root), "%s/root", real) >= (int)sizeof(root))
		return -1;
	if (mkdir(root, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	return test_dir_remove();
}

static void test_resolve(void **state)
{
	char out[PATH_MAX], want[PATH_MAX];

	mk("/usr");
	mk("/usr/lib");
	mk("/usr/lib/modules");
	ln("usr/lib", "/lib");
	mk("/usr/sbin");
	ln("/usr/sbin", "/sbin");
	file("/usr/sbin/mkinitramfs", 0755);
	file("/usr/sbin/notes", 0644);
	mk("/etc");
	/* links that point out of the tree, absolute and by "..": inside it */
	ln("/etc", "/usr/lib/abs");
	ln("../../../../../../../../etc", "/usr/lib/up");

	assert_int_equal(sysroot_resolve(root, "/lib/modules", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/usr/lib/modules", root);
	assert_string_equal(out, want);
	assert_int_equal(sysroot_resolve(root, "/sbin/mkinitramfs", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/usr/sbin/mkinitramfs", root);
	assert_string_equal(out, want);
	snprintf(want, sizeof(want), "%s/etc", root);
	assert_int_equal(sysroot_resolve(root, "/lib/abs", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(sysroot_resolve(root, "/lib/up", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(sysroot_resolve(root, "/../../etc", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(sysroot_resolve(root, "/nonexistent", out, sizeof(out)), -ENOENT);
	/* the tree's own root */
	assert_int_equal(sysroot_resolve(root, "/", out, sizeof(out)), 0);
	assert_string_equal(out, root);
}

static void test_find_tool(void **state)
{
	char out[PATH_MAX];

	/* from test_resolve's tree: found where the tree's PATH has it */
	assert_int_equal(sysroot_find_tool(root, "mkinitramfs", out, sizeof(out)), 0);
	assert_string_equal(out, "/usr/sbin/mkinitramfs");
	/* not executable, or absent: not a tool */
	assert_int_equal(sysroot_find_tool(root, "notes", out, sizeof(out)), -ENOENT);
	assert_string_equal(out, "");
	assert_int_equal(sysroot_find_tool(root, "dracut", out, sizeof(out)), -ENOENT);
}

static void test_only_kernel(void **state)
{
	char kver[64];
	unsigned n = 99;

	/* from test_resolve's tree: /lib/modules is empty */
	assert_int_equal(sysroot_only_kernel(root, kver, sizeof(kver), &n), -ENOENT);
	assert_int_equal(n, 0);
	mk("/usr/lib/modules/" TREE_KERNEL);
	/* a file and a link are no kernel's directory */
	file("/usr/lib/modules/README", 0644);
	ln("/usr/lib/modules/" TREE_KERNEL, "/usr/lib/modules/latest");
	assert_int_equal(sysroot_only_kernel(root, kver, sizeof(kver), &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kver, TREE_KERNEL);
	mk("/usr/lib/modules/" TREE_KERNEL_2);
	assert_int_equal(sysroot_only_kernel(root, kver, sizeof(kver), &n), -ENOTUNIQ);
	assert_int_equal(n, 2);
}

int main(void)
{
	/* in order: each builds on the tree of the one before */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_find_tool),
		cmocka_unit_test(test_only_kernel),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
