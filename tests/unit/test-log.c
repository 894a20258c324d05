/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/log.c: line format, levels, /dev/kmsg. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/path.h"
#include "test-util.h"

static char out[4096];

static void test_format_and_levels(void **state)
{
	assert_int_equal(log_get_max_level(), LOG_LEVEL_INFO);
	capture_start();
	log_error("disk %s gone", "vda");
	log_warning("slow: %d ms", 250);
	log_notice("notice");
	log_info("info");
	log_debug("hidden");
	capture_stop(out, sizeof(out));
	assert_string_equal(out, "initoverlayfs: error: disk vda gone\n"
				 "initoverlayfs: warning: slow: 250 ms\n"
				 "initoverlayfs: notice\n"
				 "initoverlayfs: info\n");

	log_set_max_level(LOG_LEVEL_DEBUG);
	assert_int_equal(log_get_max_level(), LOG_LEVEL_DEBUG);
	capture_start();
	log_debug("shown");
	capture_stop(out, sizeof(out));
	assert_string_equal(out, "initoverlayfs: shown\n");

	log_set_max_level(LOG_LEVEL_ERR);
	capture_start();
	log_warning("hidden");
	log_error("only this");
	capture_stop(out, sizeof(out));
	assert_string_equal(out, "initoverlayfs: error: only this\n");
}

static void test_program_name(void **state)
{
	capture_start();
	log_set_program("initoverlayfs-install");
	log_warning("w");
	log_set_program("initoverlayfs");
	capture_stop(out, sizeof(out));
	assert_string_equal(out, "initoverlayfs-install: warning: w\n");
}

static void test_long_line(void **state)
{
	char *big = malloc(5000);
	size_t len;

	assert_non_null(big);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	capture_start();
	log_info("%s", big);
	log_info("next");
	capture_stop(out, sizeof(out));
	free(big);
	/* Cut to one line of at most 1024 bytes, still ending in '\n'. */
	len = strcspn(out, "\n");
	assert_true(len < 1024);
	assert_true(len > 900);
	assert_string_equal(out + len, "\ninitoverlayfs: next\n");
	assert_memory_equal(out, "initoverlayfs: xxx", 18);
}

static void test_errno_preserved(void **state)
{
	capture_start();
	errno = EXDEV;
	log_error("x");
	log_debug("y");
	capture_stop(out, sizeof(out));
	assert_int_equal(errno, EXDEV);
}

static void test_errno_name(void **state)
{
	assert_string_equal(errno_name(ENOENT), "ENOENT");
	assert_string_equal(errno_name(ENAMETOOLONG), "ENAMETOOLONG");
	assert_string_equal(errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	assert_string_equal(errno_name(0), "E?");
	assert_string_equal(errno_name(9999), "E?");
	assert_string_equal(errno_name(-ENOENT), "E?");
}

/* The table's words are glibc's (the unit tests run against glibc): the
 * static boot program, linked with musl, prints them the same. */
static void test_errno_text(void **state)
{
	unsigned known = 0;

	for (int e = 1; e < 200; e++) {
		char text[256];

		/* strerror's buffer for an unknown error is reused: a copy */
		snprintf(text, sizeof(text), "%s", errno_text(e));
		assert_string_equal(text, strerror(e));
		known += strcmp(errno_name(e), "E?") != 0;
	}
	assert_true(known >= 40);
	assert_string_equal(errno_text(EIO), "Input/output error");
}

static void test_step_error(void **state)
{
	int r1, r2, r3;

	capture_start();
	r1 = log_step_error("mount", "/boot", -ENOENT);
	r2 = log_step_error("losetup", NULL, EBUSY);
	r3 = log_step_error("switch_root", "", -EINVAL);
	capture_stop(out, sizeof(out));
	assert_int_equal(r1, -ENOENT);
	assert_int_equal(r2, -EBUSY);
	assert_int_equal(r3, -EINVAL);
	assert_string_equal(
		out, "initoverlayfs: error: mount: /boot: No such file or directory (ENOENT)\n"
		     "initoverlayfs: error: losetup: Device or resource busy (EBUSY)\n"
		     "initoverlayfs: error: switch_root: Invalid argument (EINVAL)\n");
}

static void test_errno_with_context(void **state)
{
	int r1, r2;

	capture_start();
	r1 = log_errno(-ENOENT, "mount image: %s via %s (%s, %s)", "/boot/x.img", "/dev/loop0",
		       "erofs", "loop");
	r2 = log_errno(EIO, "verity: %s", "check root hash");
	capture_stop(out, sizeof(out));
	assert_int_equal(r1, -ENOENT);
	assert_int_equal(r2, -EIO);
	assert_string_equal(out,
			    "initoverlayfs: error: mount image: /boot/x.img via /dev/loop0 "
			    "(erofs, loop): No such file or directory (ENOENT)\n"
			    "initoverlayfs: error: verity: check root hash: Input/output error "
			    "(EIO)\n");
}

static void make_dir(const char *sub)
{
	char path[256];

	assert_int_equal(path_join(path, sizeof(path), test_dir, sub), 0);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void read_back(const char *sub, char *buf, size_t size)
{
	char path[256];

	assert_int_equal(path_join(path, sizeof(path), test_dir, sub), 0);
	assert_true(read_small_file(path, buf, size) >= 0);
}

/* A fake root: dev/kmsg as a plain file, console_loglevel 4. */
static void test_kmsg(void **state)
{
	char kmsg[1024];

	make_dir("dev");
	make_dir("proc");
	make_dir("proc/sys");
	make_dir("proc/sys/kernel");
	test_write_file("dev/kmsg", "", 0);
	test_write_file("proc/sys/kernel/printk", "4\t4\t1\t7\n", 8);

	assert_int_equal(log_open_kmsg(test_dir), 0);
	capture_start();
	log_error("e");	  /* 3 < 4: the kernel prints it, not us */
	log_warning("w"); /* 4 >= 4: the kernel does not, so stderr too */
	log_info("i");
	log_close();
	log_info("after close");
	capture_stop(out, sizeof(out));
	read_back("dev/kmsg", kmsg, sizeof(kmsg));
	assert_string_equal(kmsg, "<3>initoverlayfs: error: e\n"
				  "<4>initoverlayfs: warning: w\n"
				  "<6>initoverlayfs: i\n");
	assert_string_equal(out, "initoverlayfs: warning: w\n"
				 "initoverlayfs: after close\n");
}

static void test_kmsg_missing(void **state)
{
	char root[256];

	assert_int_equal(path_join(root, sizeof(root), test_dir, "nothing-here"), 0);
	assert_int_equal(log_open_kmsg(root), -ENOENT);
	capture_start();
	log_info("still stderr");
	capture_stop(out, sizeof(out));
	assert_string_equal(out, "initoverlayfs: still stderr\n");
}

static void test_now_usec(void **state)
{
	uint64_t a = now_usec(), b = now_usec();

	assert_true(a > 0);
	assert_true(b >= a);
}

static int group_setup(void **state)
{
	return test_dir_create();
}

static int group_teardown(void **state)
{
	return test_dir_remove();
}

static int test_teardown(void **state)
{
	capture_restore();
	log_close();
	log_set_program("initoverlayfs");
	log_set_max_level(LOG_LEVEL_INFO);
	return 0;
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_format_and_levels),  T(test_program_name), T(test_long_line),
		T(test_errno_preserved),    T(test_errno_name),	  T(test_step_error),
		T(test_errno_with_context), T(test_kmsg),	  T(test_kmsg_missing),
		T(test_now_usec),	    T(test_errno_text),
	};

	return cmocka_run_group_tests_name("log", tests, group_setup, group_teardown);
}
