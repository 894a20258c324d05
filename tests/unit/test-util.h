/* SPDX-License-Identifier: MIT */
/* Needs _GNU_SOURCE (nftw flags), which the Makefile defines.
 * Helpers shared by the unit tests: capturing what the log writes to
 * stderr, and a private temporary directory. Everything is static inline
 * so that each test binary only keeps what it uses. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TEST_HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define TEST_HAVE_SANITIZER 1
#endif
#endif
#ifdef TEST_HAVE_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

/* cmocka prints failures on stderr, so a test must stop capturing before
 * it asserts anything; capture_restore() in the teardown is the safety
 * net for a test that failed while capturing. */
static int capture_saved_fd = -1;
static FILE *capture_file;

static inline void capture_start(void)
{
#ifdef TEST_HAVE_SANITIZER
	/* A sanitizer report written while stderr is captured would be lost:
	 * send reports to a copy of the real stderr. */
	static int report_fd = -1;

	if (report_fd < 0) {
		report_fd = dup(STDERR_FILENO);
		__sanitizer_set_report_fd((void *)(intptr_t)report_fd);
	}
#endif
	fflush(stderr);
	capture_file = tmpfile();
	if (!capture_file)
		abort();
	capture_saved_fd = dup(STDERR_FILENO);
	if (capture_saved_fd < 0 || dup2(fileno(capture_file), STDERR_FILENO) < 0)
		abort();
}

static inline void capture_restore(void)
{
	if (capture_saved_fd < 0)
		return;
	fflush(stderr);
	dup2(capture_saved_fd, STDERR_FILENO);
	close(capture_saved_fd);
	capture_saved_fd = -1;
}

/* Stops capturing and returns what was written (NUL-terminated, cut at
 * size - 1 bytes). */
static inline const char *capture_stop(char *buf, size_t size)
{
	size_t n;

	capture_restore();
	if (!capture_file)
		abort();
	rewind(capture_file);
	n = fread(buf, 1, size - 1, capture_file);
	buf[n] = '\0';
	fclose(capture_file);
	capture_file = NULL;
	return buf;
}

static char test_dir[64];

static inline int test_dir_create(void)
{
	snprintf(test_dir, sizeof(test_dir), "%s", "/tmp/iofs-unit-XXXXXX");
	return mkdtemp(test_dir) ? 0 : -1;
}

static inline int test_dir_remove_one(const char *path, const struct stat *st, int type,
				      struct FTW *ftw)
{
	return remove(path);
}

static inline int test_dir_remove(void)
{
	if (!test_dir[0])
		return 0;
	return nftw(test_dir, test_dir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* cmocka group setup and teardown for a test that only needs test_dir. */
static inline int test_dir_group_setup(void **state)
{
	return test_dir_create();
}

static inline int test_dir_group_teardown(void **state)
{
	return test_dir_remove();
}

/* Writes len bytes to test_dir/name; returns the path (static buffer). */
static inline const char *test_write_file(const char *name, const void *data, size_t len)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}
