/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/cmdline.c: the kernel command line tokenizer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cmdline.h"

#define KEY_MAX	  (sizeof(((struct cmdline_param *)0)->key))
#define VALUE_MAX (sizeof(((struct cmdline_param *)0)->value))

static struct cmdline_param param;

/* Reads the next parameter and checks it. v NULL: no '='. */
static void check_next(const char **cursor, const char *k, const char *v)
{
	assert_int_equal(cmdline_next(cursor, &param), 1);
	assert_string_equal(param.key, k);
	if (!v) {
		assert_false(param.has_value);
		assert_string_equal(param.value, "");
	} else {
		assert_true(param.has_value);
		assert_string_equal(param.value, v);
	}
}

static void check_end(const char **cursor)
{
	assert_int_equal(cmdline_next(cursor, &param), 0);
	assert_int_equal(**cursor, '\0');
}

#define assert_next(cursor, k, v) check_next(&(cursor), (k), (v))
#define assert_end(cursor)	  check_end(&(cursor))

static const char *const NOVALUE = NULL;

static void test_empty(void **state)
{
	const char *c = "";

	assert_end(c);
	assert_end(c); /* stays at the end */
	c = " \t\n\r  ";
	assert_end(c);
}

static void test_simple(void **state)
{
	const char *line = "BOOT_IMAGE=/vmlinuz-6.1 root=UUID=ab-cd ro quiet\n";
	const char *c = line;

	assert_next(c, "BOOT_IMAGE", "/vmlinuz-6.1");
	assert_ptr_equal(c, line + strlen("BOOT_IMAGE=/vmlinuz-6.1"));
	assert_next(c, "root", "UUID=ab-cd");
	assert_next(c, "ro", NOVALUE);
	assert_next(c, "quiet", NOVALUE);
	assert_end(c);
	assert_end(c);
}

static void test_whitespace(void **state)
{
	const char *c = "\t a\tb=1\nc\r\nd=2  \t\n";

	assert_next(c, "a", NOVALUE);
	assert_next(c, "b", "1");
	assert_next(c, "c", NOVALUE);
	assert_next(c, "d", "2");
	assert_end(c);
}

static void test_empty_value(void **state)
{
	const char *c = "k= j=\"\" l";

	assert_next(c, "k", "");
	assert_next(c, "j", "");
	assert_next(c, "l", NOVALUE);
	assert_end(c);
}

static void test_equals_in_value(void **state)
{
	const char *c = "root=PARTUUID=1234-01 a==b =v";

	assert_next(c, "root", "PARTUUID=1234-01");
	assert_next(c, "a", "=b");
	assert_next(c, "", "v");
	assert_end(c);
}

static void test_quotes(void **state)
{
	const char *c = "a=\"b c\" x=\"tab\there\" \"q k=v w\" m=\"b c\"d n=b\"c d\"e "
			"\"k e\"=y e=\"\"\"\" s=\"new\nline\"";

	assert_next(c, "a", "b c");
	assert_next(c, "x", "tab\there");
	assert_next(c, "q k", "v w");
	/* Quotes in the middle group too and are removed. */
	assert_next(c, "m", "b cd");
	assert_next(c, "n", "bc de");
	assert_next(c, "k e", "y");
	assert_next(c, "e", "");
	assert_next(c, "s", "new\nline");
	assert_end(c);
}

static void test_unterminated_quote(void **state)
{
	const char *c = "a=1 b=\"open to the end";

	assert_next(c, "a", "1");
	assert_next(c, "b", "open to the end");
	assert_end(c);
}

static void test_key_fits_exactly(void **state)
{
	char line[KEY_MAX + 16];
	const char *c = line;

	memset(line, 'k', KEY_MAX - 1);
	strcpy(line + KEY_MAX - 1, "=v next");
	assert_int_equal(cmdline_next(&c, &param), 1);
	assert_int_equal(strlen(param.key), KEY_MAX - 1);
	assert_string_equal(param.value, "v");
	assert_next(c, "next", NOVALUE);
	assert_end(c);
}

static void test_key_too_long(void **state)
{
	char line[KEY_MAX + 16];
	const char *c = line;

	memset(line, 'k', KEY_MAX);
	strcpy(line + KEY_MAX, "=v next");
	assert_int_equal(cmdline_next(&c, &param), -ENAMETOOLONG);
	/* The cursor moved past the whole parameter. */
	assert_ptr_equal(c, line + KEY_MAX + 2);
	assert_true(strlen(param.key) < KEY_MAX);
	assert_next(c, "next", NOVALUE);
	assert_end(c);
}

static void test_value_fits_exactly(void **state)
{
	char line[VALUE_MAX + 16];
	const char *c = line;

	strcpy(line, "v=");
	memset(line + 2, 'x', VALUE_MAX - 1);
	strcpy(line + 2 + VALUE_MAX - 1, " n=1");
	assert_int_equal(cmdline_next(&c, &param), 1);
	assert_string_equal(param.key, "v");
	assert_int_equal(strlen(param.value), VALUE_MAX - 1);
	assert_next(c, "n", "1");
	assert_end(c);
}

static void test_value_too_long(void **state)
{
	char line[2 * VALUE_MAX];
	const char *c = line;

	strcpy(line, "a v=\"");
	memset(line + 5, 'x', VALUE_MAX + 100);
	strcpy(line + 5 + VALUE_MAX + 100, " still quoted\"\tn=1");
	assert_next(c, "a", NOVALUE);
	assert_int_equal(cmdline_next(&c, &param), -ENAMETOOLONG);
	assert_string_equal(param.key, "v");
	assert_true(strlen(param.value) < VALUE_MAX);
	assert_next(c, "n", "1");
	assert_end(c);
}

static void test_get(void **state)
{
	const char *line = "a=1 b=2 ab=9 a a=3 b";

	assert_int_equal(cmdline_get(line, "a", &param), 1);
	assert_string_equal(param.value, "3");
	assert_true(param.has_value);
	/* Last one wins even when it has no value. */
	assert_int_equal(cmdline_get(line, "b", &param), 1);
	assert_false(param.has_value);
	assert_string_equal(param.value, "");
	assert_int_equal(cmdline_get(line, "ab", &param), 1);
	assert_string_equal(param.value, "9");
	assert_int_equal(cmdline_get(line, "c", &param), 0);
	assert_int_equal(cmdline_get(line, "", &param), 0);
	assert_int_equal(cmdline_get("", "a", &param), 0);
	assert_int_equal(cmdline_get("root=\"LABEL=a b\"\n", "root", &param), 1);
	assert_string_equal(param.value, "LABEL=a b");
}

static void test_get_skips_too_long(void **state)
{
	char line[2 * VALUE_MAX];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "a=1 a=");
	memset(line + n, 'x', VALUE_MAX + 10);
	strcpy(line + n + VALUE_MAX + 10, " b=2");
	assert_int_equal(cmdline_get(line, "b", &param), 1);
	assert_string_equal(param.value, "2");
	assert_int_equal(cmdline_get(line, "a", &param), 1);
	assert_string_equal(param.value, "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_empty_value),
		cmocka_unit_test(test_equals_in_value),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_key_fits_exactly),
		cmocka_unit_test(test_key_too_long),
		cmocka_unit_test(test_value_fits_exactly),
		cmocka_unit_test(test_value_too_long),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_get_skips_too_long),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
