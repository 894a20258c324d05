/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/kver.c: which kernel releases --kver takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "install/kver.h"

static void check_good(const char *kver)
{
	const char *why = "unset";

	print_message("  good '%s'\n", kver);
	assert_int_equal(kver_check(kver, &why), 0);
	assert_null(why);
}

static void check_bad(const char *kver, const char *want_why)
{
	const char *why = NULL;

	assert_int_equal(kver_check(kver, &why), -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, want_why);
}

static void test_releases(void **state)
{
	/* Debian 12 and 13 */
	check_good("6.1.0-99-amd64");
	check_good("6.12.117+deb13-amd64");
	/* other distributions' shapes */
	check_good("5.15.0-91-generic");
	check_good("6.5.6-300.fc39.x86_64");
	check_good("6.1.21-v8+");
	check_good("6.6.1-arch1-1");
	check_good("5.10.0-0.deb10.16-amd64");
	check_good("x");
	check_good("...");
}

static void test_bad_names(void **state)
{
	check_bad("", "empty");
	check_bad("../x", "contains '/'");
	check_bad("a/b", "contains '/'");
	check_bad("/", "contains '/'");
	check_bad("6.1.0/", "contains '/'");
	check_bad("-rf", "starts with '-'");
	check_bad("--help", "starts with '-'");
	check_bad(".", "a directory name");
	check_bad("..", "a directory name");
	check_bad("a b", "contains a blank or a control character");
	check_bad(" 6.1.0", "contains a blank or a control character");
	check_bad("a\tb", "contains a blank or a control character");
	check_bad("a\nb", "contains a blank or a control character");
	check_bad("6.1.0\n", "contains a blank or a control character");
	check_bad("a\rb", "contains a blank or a control character");
	check_bad("a\x1b[2Jb", "contains a blank or a control character");
	check_bad("a\x7f", "contains a blank or a control character");
}

static void test_length(void **state)
{
	char name[301];

	memset(name, 'a', sizeof(name) - 1);
	name[300] = '\0';
	check_bad(name, "longer than 255 bytes");
	name[KVER_MAX + 1] = '\0';
	check_bad(name, "longer than 255 bytes");
	name[KVER_MAX] = '\0';
	check_good(name);
}

static void test_why_optional(void **state)
{
	assert_int_equal(kver_check("6.1.0-99-amd64", NULL), 0);
	assert_int_equal(kver_check("../x", NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_releases),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_why_optional),
	};

	return cmocka_run_group_tests_name("install-kver", tests, NULL, NULL);
}
