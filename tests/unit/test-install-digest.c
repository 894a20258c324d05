/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/digest.c: SHA-256 of files through an fd,
 * against the FIPS 180-2 test vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "install/digest.h"
#include "test-util.h"

/* The hex SHA-256 of the file holding data. */
static const char *file_digest(const void *data, size_t len, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	const char *path = test_write_file("data", data, len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(digest_file(fd, digest), 0);
	close(fd);
	hex_encode(digest, sizeof(digest), hex);
	return hex;
}

static void test_fips_short(void **state)
{
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	assert_string_equal(file_digest("", 0, hex),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(file_digest("abc", 3, hex),
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 448 bits: the padding spills into a second block */
	assert_string_equal(
		file_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex),
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_fips_million_a(void **state)
{
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	size_t len = 1000000;
	char *a = malloc(len);

	assert_non_null(a);
	memset(a, 'a', len);
	/* more than one read of the helper's buffer, the last one partial */
	assert_string_equal(file_digest(a, len, hex),
			    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* The whole file, wherever the fd's offset is, and the offset untouched. */
static void test_offset(void **state)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	const char *path = test_write_file("abc", "abc", 3);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 2, SEEK_SET), 2);
	assert_int_equal(digest_file(fd, digest), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 2);
	close(fd);
	hex_encode(digest, sizeof(digest), hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_errors(void **state)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	int fd;

	assert_int_equal(digest_file(-1, digest), -EBADF);
	fd = open(test_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(digest_file(fd, digest), -EISDIR);
	close(fd);
}

/* The image name's 16 hex digits: the first 8 bytes. */
static void test_hex_prefix(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff, 0x12 };
	char hex[2 * sizeof(bytes) + 1];

	memset(hex, 'X', sizeof(hex));
	hex_encode(bytes, 8, hex);
	assert_string_equal(hex, "00017f80abcdefff");
	hex_encode(bytes, 0, hex);
	assert_string_equal(hex, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_short), cmocka_unit_test(test_fips_million_a),
		cmocka_unit_test(test_offset),	   cmocka_unit_test(test_errors),
		cmocka_unit_test(test_hex_prefix),
	};

	return cmocka_run_group_tests_name("install-digest", tests, test_dir_group_setup,
					   test_dir_group_teardown);
}
