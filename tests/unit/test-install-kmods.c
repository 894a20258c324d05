/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/kmods.c: the nls modules a FAT boot file
 * system needs, from the kernel's config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "install/kmods.h"

static void check(const char *config, int want_n, const char *want0, const char *want1)
{
	struct strv names = { 0 };

	assert_int_equal(kconfig_fat_nls(config, &names), want_n);
	assert_int_equal(names.n, (size_t)want_n);
	if (want0)
		assert_string_equal(names.v[0], want0);
	if (want1)
		assert_string_equal(names.v[1], want1);
	strv_free(&names);
}

/* Debian 12's 6.1 */
static void test_debian(void **state)
{
	check("CONFIG_MSDOS_FS=m\nCONFIG_VFAT_FS=m\nCONFIG_FAT_DEFAULT_CODEPAGE=437\n"
	      "CONFIG_FAT_DEFAULT_IOCHARSET=\"ascii\"\nCONFIG_FAT_DEFAULT_UTF8=y\n"
	      "CONFIG_EXFAT_DEFAULT_IOCHARSET=\"utf8\"\n",
	      2, "nls_cp437", "nls_ascii");
}

static void test_other_defaults(void **state)
{
	check("CONFIG_FAT_DEFAULT_CODEPAGE=850\nCONFIG_FAT_DEFAULT_IOCHARSET=\"iso8859-1\"", 2,
	      "nls_cp850", "nls_iso8859-1");
	check("CONFIG_FAT_DEFAULT_IOCHARSET=\"utf8\"\nCONFIG_FAT_DEFAULT_CODEPAGE=437\n", 2,
	      "nls_cp437", "nls_utf8");
}

/* No FAT: nothing; the exFAT key is not the FAT one. */
static void test_no_fat(void **state)
{
	check("", 0, NULL, NULL);
	check("# CONFIG_VFAT_FS is not set\nCONFIG_EXFAT_DEFAULT_IOCHARSET=\"utf8\"\n", 0, NULL,
	      NULL);
	check("XCONFIG_FAT_DEFAULT_CODEPAGE=437\nCONFIG_FAT_DEFAULT_CODEPAGES=437\n", 0, NULL,
	      NULL);
}

/* What could not be a module name is not taken. */
static void test_bad_values(void **state)
{
	check("CONFIG_FAT_DEFAULT_CODEPAGE=\nCONFIG_FAT_DEFAULT_IOCHARSET=\"../x\"\n", 0, NULL,
	      NULL);
	check("CONFIG_FAT_DEFAULT_CODEPAGE=437 x\n", 0, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian),
		cmocka_unit_test(test_other_defaults),
		cmocka_unit_test(test_no_fat),
		cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
