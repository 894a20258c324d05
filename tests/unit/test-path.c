/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/path.c: path joining and small file reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "test-util.h"

/* Joins into an exactly sized heap buffer, so that ASan catches any write
 * past size. Returns the result code; the text lands in joined. */
static char joined[PATH_MAX];

static int join3(size_t size, const char *root, const char *dir, const char *name)
{
	char *out = malloc(size ? size : 1);
	int r;

	assert_non_null(out);
	memset(out, 'X', size);
	r = path_join3(out, size, root, dir, name);
	if (size > 0) {
		/* Whatever happened, out is a string within size. */
		assert_non_null(memchr(out, '\0', size));
		snprintf(joined, sizeof(joined), "%s", out);
	} else {
		joined[0] = '\0';
	}
	free(out);
	return r;
}

static void check_join(const char *root, const char *path, const char *want)
{
	char out[PATH_MAX];

	print_message("  '%s' + '%s'\n", root ? root : "(null)", path ? path : "(null)");
	assert_int_equal(path_join(out, sizeof(out), root, path), 0);
	assert_string_equal(out, want);
	/* And with a buffer that fits exactly. */
	assert_int_equal(join3(strlen(want) + 1, root, path, NULL), 0);
	assert_string_equal(joined, want);
}

static void test_join(void **state)
{
	check_join("/tmp/t", "/boot", "/tmp/t/boot");
	check_join("/tmp/t", "boot", "/tmp/t/boot");
	check_join("/tmp/t/", "/boot", "/tmp/t/boot");
	check_join("/tmp/t/", "boot", "/tmp/t/boot");
	check_join("/tmp/t/", "///boot", "/tmp/t/boot");
	check_join("/tmp/t", "/boot/", "/tmp/t/boot/");
	check_join("/tmp/t", "/", "/tmp/t/");
	check_join("/tmp/t/", "/", "/tmp/t/");
}

static void test_join_trivial_root(void **state)
{
	/* "", NULL and "/" leave the path as it is. */
	check_join("", "/proc/cmdline", "/proc/cmdline");
	check_join(NULL, "/proc/cmdline", "/proc/cmdline");
	check_join("/", "/proc/cmdline", "/proc/cmdline");
	check_join("/", "relative", "relative");
	check_join(NULL, "relative", "relative");
	check_join("", "", "");
	check_join(NULL, NULL, "");
}

static void test_join_empty_path(void **state)
{
	check_join("/sysroot", "", "/sysroot");
	check_join("/sysroot", NULL, "/sysroot");
	check_join("/sysroot/", NULL, "/sysroot/");
}

static void test_join3(void **state)
{
	char out[PATH_MAX];

	assert_int_equal(path_join3(out, sizeof(out), "/r", "/etc", "initoverlayfs.conf"), 0);
	assert_string_equal(out, "/r/etc/initoverlayfs.conf");
	assert_int_equal(path_join3(out, sizeof(out), "/r/", "/etc/", "/x"), 0);
	assert_string_equal(out, "/r/etc/x");
	assert_int_equal(path_join3(out, sizeof(out), "/r", "etc", "x"), 0);
	assert_string_equal(out, "/r/etc/x");
	assert_int_equal(path_join3(out, sizeof(out), "", "/dev", "kmsg"), 0);
	assert_string_equal(out, "/dev/kmsg");
	assert_int_equal(path_join3(out, sizeof(out), NULL, "/proc", "cmdline"), 0);
	assert_string_equal(out, "/proc/cmdline");
	assert_int_equal(path_join3(out, sizeof(out), "/", "/sys/", "/block"), 0);
	assert_string_equal(out, "/sys/block");
	assert_int_equal(path_join3(out, sizeof(out), "/r", "", "name"), 0);
	assert_string_equal(out, "/r/name");
	assert_int_equal(path_join3(out, sizeof(out), "/r", NULL, NULL), 0);
	assert_string_equal(out, "/r");
}

static void test_join_overflow(void **state)
{
	/* "/a/b" needs 5 bytes. */
	assert_int_equal(join3(5, "/a", "b", NULL), 0);
	assert_string_equal(joined, "/a/b");
	assert_int_equal(join3(4, "/a", "b", NULL), -ENAMETOOLONG);
	assert_string_equal(joined, "");
	/* No room for the separator. */
	assert_int_equal(join3(3, "/a", "b", NULL), -ENAMETOOLONG);
	assert_string_equal(joined, "");
	/* The root alone does not fit. */
	assert_int_equal(join3(3, "/abc", "/b", NULL), -ENAMETOOLONG);
	assert_string_equal(joined, "");
	assert_int_equal(join3(4, "/ab", NULL, NULL), 0);
	assert_string_equal(joined, "/ab");
	/* Overflow on the third part. */
	assert_int_equal(join3(9, "/a", "b", "cdef"), -ENAMETOOLONG);
	assert_string_equal(joined, "");
	assert_int_equal(join3(10, "/a", "b", "cdef"), 0);
	assert_string_equal(joined, "/a/b/cdef");
	/* Tiny buffers. */
	assert_int_equal(join3(1, "", "", NULL), 0);
	assert_string_equal(joined, "");
	assert_int_equal(join3(1, "/", "x", NULL), -ENAMETOOLONG);
	assert_string_equal(joined, "");
	assert_int_equal(join3(0, "/", "x", NULL), -ENAMETOOLONG);
}

static void test_join_overflow_long(void **state)
{
	char root[PATH_MAX], out[PATH_MAX];

	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	memset(out, 'X', sizeof(out));
	assert_int_equal(path_join(out, sizeof(out), root, "/boot"), -ENAMETOOLONG);
	assert_string_equal(out, "");
	root[sizeof(root) - 6] = '\0';
	assert_int_equal(path_join(out, sizeof(out), root, "/boot"), 0);
	assert_int_equal(strlen(out), sizeof(out) - 1);
}

static void test_str_copy(void **state)
{
	char out[4];

	assert_int_equal(str_copy(out, sizeof(out), "abc"), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(str_copy(out, sizeof(out), ""), 0);
	assert_string_equal(out, "");
	assert_int_equal(str_copy(out, sizeof(out), "abcd"), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(str_copy(out, 0, "a"), -ENAMETOOLONG);
}

/* Reads into an exactly sized heap buffer. */
static char content[256];

static long read_into(const char *path, size_t size)
{
	char *buf = malloc(size ? size : 1);
	long r;

	assert_non_null(buf);
	memset(buf, 'X', size);
	r = read_small_file(path, buf, size);
	content[0] = '\0';
	/* buf is only promised to be a string after a successful read. */
	if (r >= 0 && memchr(buf, '\0', size) != NULL)
		snprintf(content, sizeof(content), "%s", buf);
	else if (r >= 0)
		snprintf(content, sizeof(content), "<not terminated>");
	free(buf);
	return r;
}

static void test_read_small_file(void **state)
{
	const char *path = test_write_file("cmdline", "ro quiet\n", 9);

	assert_int_equal(read_into(path, 64), 9);
	assert_string_equal(content, "ro quiet\n");
	/* Exact fit: 9 bytes and the NUL. */
	assert_int_equal(read_into(path, 10), 9);
	assert_string_equal(content, "ro quiet\n");
	/* One byte short. */
	assert_int_equal(read_into(path, 9), -EFBIG);
	assert_int_equal(read_into(path, 1), -EFBIG);
	assert_int_equal(read_into(path, 0), -EFBIG);
}

static void test_read_empty_file(void **state)
{
	const char *path = test_write_file("empty", "", 0);

	assert_int_equal(read_into(path, 1), 0);
	assert_string_equal(content, "");
	assert_int_equal(read_into(path, 16), 0);
}

static void test_read_large_file(void **state)
{
	size_t size = 200 * 1024;
	char *data = malloc(size), *buf = malloc(size + 1);
	const char *path;

	assert_non_null(data);
	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)('a' + i % 26);
	path = test_write_file("large", data, size);
	assert_int_equal(read_small_file(path, buf, size + 1), (long)size);
	assert_memory_equal(buf, data, size);
	assert_int_equal(buf[size], '\0');
	assert_int_equal(read_small_file(path, buf, size), -EFBIG);
	free(data);
	free(buf);
}

static void test_read_missing(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/missing", test_dir);
	assert_int_equal(read_into(path, 16), -ENOENT);
	assert_int_equal(read_into(test_dir, 16), -EISDIR);
}

static int group_setup(void **state)
{
	return test_dir_create();
}

static int group_teardown(void **state)
{
	return test_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_join_trivial_root),
		cmocka_unit_test(test_join_empty_path),
		cmocka_unit_test(test_join3),
		cmocka_unit_test(test_join_overflow),
		cmocka_unit_test(test_join_overflow_long),
		cmocka_unit_test(test_str_copy),
		cmocka_unit_test(test_read_small_file),
		cmocka_unit_test(test_read_empty_file),
		cmocka_unit_test(test_read_large_file),
		cmocka_unit_test(test_read_missing),
	};

	return cmocka_run_group_tests_name("path", tests, group_setup, group_teardown);
}
