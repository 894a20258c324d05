/* SPDX-License-Identifier: MIT */
/* Unit tests for the dm-verity parts that need no kernel: the verity_*
 * config keys and their cross-checks (src/common/config.c), the kernel
 * command line policy for them, the config text they produce, and the
 * table line handed to DM_TABLE_LOAD (src/common/verity_table.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/verity_table.h"
#include "test-util.h"

#define RELEASE "6.1.0-99-amd64"
#define ROOT	"7759afadab4a708a77c4eaa0d4592e0e1eb74361ae0a59ff1d84ebbbecad3879"
#define ROOT2	"0000afadab4a708a77c4eaa0d4592e0e1eb74361ae0a59ff1d84ebbbecad3879"
#define SALT	"eb734671da1b7cc8583b1c353931eeca0e0621a7498b9e868c6475cd8351e1e3"
/* What initoverlayfs-install --verity writes for a 344-block image. */
#define GOOD                            \
	"verity_roothash " ROOT "\n"    \
	"verity_salt " SALT "\n"        \
	"verity_algorithm sha256\n"     \
	"verity_hash_offset 1409024\n"  \
	"verity_data_blocks 344\n"      \
	"verity_data_block_size 4096\n" \
	"verity_hash_block_size 4096\n"

static struct config cfg;
static struct config_error err;
static char table[1024];

static int parse(const char *text)
{
	config_init(&cfg, RELEASE);
	memset(&err, 0, sizeof(err));
	return config_parse_text(&cfg, text, "test.conf", &err);
}

/* Parse, then the cross-key check the boot program runs afterwards. */
static int parse_validate(const char *text)
{
	int r = parse(text);

	return r < 0 ? r : config_validate(&cfg, &err);
}

static int test_teardown(void **state)
{
	capture_restore();
	return 0;
}

/* ---- keys ------------------------------------------------------------- */

static void test_defaults(void **state)
{
	config_init(&cfg, RELEASE);
	assert_string_equal(cfg.verity.roothash, "");
	assert_string_equal(cfg.verity.salt, "");
	assert_string_equal(cfg.verity.algorithm, "sha256");
	assert_int_equal(cfg.verity.data_block_size, 4096);
	assert_int_equal(cfg.verity.hash_block_size, 4096);
	assert_int_equal(cfg.verity.on_corruption, VERITY_CORRUPTION_EIO);
	assert_false(cfg.verity.cmdline_override);
	/* no root hash: nothing to check, whatever else is set */
	assert_int_equal(config_validate(&cfg, &err), 0);
}

static void test_parse_installer_output(void **state)
{
	assert_int_equal(parse_validate(GOOD), 0);
	assert_string_equal(cfg.verity.roothash, ROOT);
	assert_string_equal(cfg.verity.salt, SALT);
	assert_int_equal(cfg.verity.hash_offset, 1409024);
	assert_int_equal(cfg.verity.data_blocks, 344);
}

static void test_parse_policies(void **state)
{
	assert_int_equal(parse("verity_on_corruption restart\nverity_cmdline_override yes\n"), 0);
	assert_int_equal(cfg.verity.on_corruption, VERITY_CORRUPTION_RESTART);
	assert_true(cfg.verity.cmdline_override);
	assert_int_equal(parse("verity_on_corruption panic\n"), 0);
	assert_int_equal(cfg.verity.on_corruption, VERITY_CORRUPTION_PANIC);
	assert_int_equal(parse("verity_on_corruption eio\n"), 0);
	assert_int_equal(cfg.verity.on_corruption, VERITY_CORRUPTION_EIO);
	assert_int_equal(parse("verity_on_corruption ignore\n"), -EINVAL);
	assert_string_equal(err.message, "invalid value 'ignore' for 'verity_on_corruption': "
					 "expected eio, restart or panic");
}

static void test_parse_salt_forms(void **state)
{
	assert_int_equal(parse("verity_salt -\n"), 0);
	assert_string_equal(cfg.verity.salt, "");
	assert_int_equal(parse("verity_salt \"\"\n"), 0);
	assert_string_equal(cfg.verity.salt, "");
	assert_int_equal(parse("verity_salt ABcd\n"), 0);
	assert_string_equal(cfg.verity.salt, "ABcd");
	assert_int_equal(parse("verity_salt abc\n"), -EINVAL); /* odd: half a byte */
	assert_int_equal(parse("verity_salt xy\n"), -EINVAL);
}

static void test_parse_bad_values(void **state)
{
	static const char *const bad[] = {
		"verity_roothash 12zz\n",	 "verity_algorithm md5\n",
		"verity_algorithm SHA256\n",	 "verity_hash_offset -1\n",
		"verity_hash_offset 12k\n",	 "verity_hash_offset 99999999999999999999999\n",
		"verity_data_blocks 0\n",	 "verity_data_blocks \"\"\n",
		"verity_data_block_size 1000\n", "verity_data_block_size 256\n",
		"verity_hash_block_size 8192\n", "verity_cmdline_override maybe\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i]);

		if (r != -EINVAL)
			fail_msg("'%s' gave %d, expected -EINVAL", bad[i], r);
		assert_int_equal(err.line, 1);
	}
	assert_int_equal(parse("verity_data_block_size 512\nverity_hash_block_size 1024\n"), 0);
	assert_int_equal(cfg.verity.data_block_size, 512);
	assert_int_equal(cfg.verity.hash_block_size, 1024);
}

/* A salt longer than dm-verity's 256 bytes does not fit the field. */
static void test_parse_salt_too_long(void **state)
{
	char text[2 * VERITY_SALT_MAX + 32];

	snprintf(text, sizeof(text), "verity_salt %0*d\n", 2 * VERITY_SALT_MAX + 2, 0);
	assert_int_equal(parse(text), -ENAMETOOLONG);
	snprintf(text, sizeof(text), "verity_salt %0*d\n", 2 * VERITY_SALT_MAX, 0);
	assert_int_equal(parse(text), 0);
}

/* ---- cross-checks ----------------------------------------------------- */

static void test_validate_digest_length(void **state)
{
	assert_int_equal(parse_validate(GOOD "verity_roothash 1234\n"), -EINVAL);
	assert_string_equal(err.message, "verity_roothash has 4 hex digits, sha256 needs 64");
	/* sha1 needs 40: the sha256 digest is too long for it */
	assert_int_equal(parse_validate(GOOD "verity_algorithm sha1\n"), -EINVAL);
	assert_string_equal(err.message, "verity_roothash has 64 hex digits, sha1 needs 40");
	/* the order of the keys does not matter */
	assert_int_equal(parse_validate("verity_algorithm sha1\n"
					"verity_roothash 0123456789012345678901234567890123456789\n"
					"verity_data_blocks 1\nverity_hash_offset 4096\n"),
			 0);
	assert_int_equal(
		parse_validate(GOOD "verity_algorithm sha512\nverity_roothash " ROOT ROOT "\n"), 0);
}

static void test_validate_geometry(void **state)
{
	assert_int_equal(parse_validate("verity_roothash " ROOT "\n"), -EINVAL);
	assert_string_equal(err.message, "verity_roothash is set but verity_data_blocks is not");

	assert_int_equal(parse_validate(GOOD "verity_hash_offset 1409000\n"), -EINVAL);
	assert_string_equal(err.message, "verity_hash_offset 1409000 is not a multiple of "
					 "verity_hash_block_size 4096");

	/* the tree inside the data it protects */
	assert_int_equal(parse_validate(GOOD "verity_hash_offset 4096\n"), -EINVAL);
	assert_string_equal(
		err.message,
		"verity_hash_offset 4096 is inside the data (344 blocks of 4096 bytes)");
	assert_int_equal(parse_validate(GOOD "verity_data_blocks 345\n"), -EINVAL);

	assert_int_equal(parse_validate(GOOD "verity_data_blocks 18446744073709551615\n"
					     "verity_hash_offset 0\n"),
			 -EINVAL);
	assert_string_equal(err.message, "verity_data_blocks 18446744073709551615 is too large");
}

/* ---- kernel command line ---------------------------------------------- */

static void test_policy(void **state)
{
	config_init(&cfg, RELEASE);
	assert_true(config_cmdline_may_set(&cfg, "fs"));
	assert_true(config_cmdline_may_set(&cfg, "image_mount"));
	assert_false(config_cmdline_may_set(&cfg, "verity_roothash"));
	assert_false(config_cmdline_may_set(&cfg, "verity_salt"));
	assert_false(config_cmdline_may_set(&cfg, "verity_on_corruption"));
	assert_false(config_cmdline_may_set(&cfg, "verity_cmdline_override"));
	cfg.verity.cmdline_override = true;
	assert_true(config_cmdline_may_set(&cfg, "verity_roothash"));
	assert_true(config_cmdline_may_set(&cfg, "verity_on_corruption"));
	/* never: the command line cannot open its own door */
	assert_false(config_cmdline_may_set(&cfg, "verity_cmdline_override"));
}

static void test_cmdline_cannot_turn_off(void **state)
{
	char out[1024];

	assert_int_equal(parse(GOOD), 0);
	capture_start();
	assert_int_equal(config_apply_cmdline(&cfg,
					      "quiet initoverlayfs.verity_roothash= "
					      "initoverlayfs.verity_roothash=" ROOT2
					      " initoverlayfs.verity_cmdline_override=1 "
					      "initoverlayfs.verity_on_corruption=eio "
					      "initoverlayfs.fs=/other.img",
					      &err),
			 0);
	capture_stop(out, sizeof(out));
	assert_string_equal(cfg.verity.roothash, ROOT);
	assert_false(cfg.verity.cmdline_override);
	assert_string_equal(cfg.fs, "/other.img"); /* other keys still apply */
	assert_non_null(strstr(out, "initoverlayfs: warning: kernel command line: "
				    "initoverlayfs.verity_roothash ignored: the config does not "
				    "allow the command line to change verity settings "
				    "(verity_cmdline_override)"));
	assert_non_null(strstr(out, "initoverlayfs.verity_cmdline_override ignored"));
}

static void test_cmdline_override_allowed(void **state)
{
	assert_int_equal(parse(GOOD "verity_cmdline_override yes\n"), 0);
	assert_int_equal(config_apply_cmdline(&cfg,
					      "initoverlayfs.verity_roothash=" ROOT2
					      " initoverlayfs.verity_on_corruption=panic",
					      &err),
			 0);
	assert_string_equal(cfg.verity.roothash, ROOT2);
	assert_int_equal(cfg.verity.on_corruption, VERITY_CORRUPTION_PANIC);
	/* and off, when the config allows it */
	assert_int_equal(config_apply_cmdline(&cfg, "initoverlayfs.verity_roothash=", &err), 0);
	assert_string_equal(cfg.verity.roothash, "");
	/* a bad value is still an error */
	assert_int_equal(config_apply_cmdline(&cfg, "initoverlayfs.verity_roothash=xyz", &err),
			 -EINVAL);
}

/* ---- config text ------------------------------------------------------ */

static void test_format_round_trip(void **state)
{
	struct config back;
	char text[8192];

	assert_int_equal(parse(GOOD "verity_on_corruption restart\n"), 0);
	assert_int_equal(config_format(&cfg, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nverity_roothash " ROOT "\n"));
	assert_non_null(strstr(text, "\nverity_on_corruption restart\n"));
	assert_null(strstr(text, "verity_cmdline_override"));
	config_init(&back, RELEASE);
	assert_int_equal(config_parse_text(&back, text, "back", &err), 0);
	assert_memory_equal(&back.verity, &cfg.verity, sizeof(cfg.verity));
}

static void test_format_without_verity(void **state)
{
	char text[8192];

	/* a host config stays free of verity lines */
	config_init(&cfg, RELEASE);
	assert_int_equal(config_format(&cfg, text, sizeof(text)), 0);
	assert_null(strstr(text, "verity"));
	/* the salt "-" is written for no salt */
	assert_int_equal(parse(GOOD "verity_salt -\n"), 0);
	assert_int_equal(config_format(&cfg, text, sizeof(text)), 0);
	assert_non_null(strstr(text, "\nverity_salt -\n"));
}

/* ---- table line ------------------------------------------------------- */

static void test_table_line(void **state)
{
	assert_int_equal(parse_validate(GOOD), 0);
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", table, sizeof(table)), 0);
	/* hash start 1409024 / 4096 = 344 hash blocks */
	assert_string_equal(table, "1 7:0 7:0 4096 4096 344 344 sha256 " ROOT " " SALT);
	assert_int_equal(verity_table_sectors(&cfg.verity), 344 * 8);
}

static void test_table_options(void **state)
{
	assert_int_equal(parse_validate(GOOD "verity_on_corruption restart\nverity_salt -\n"), 0);
	assert_int_equal(
		verity_table_format(&cfg.verity, "7:0", "/dev/loop1", table, sizeof(table)), 0);
	assert_string_equal(table, "1 7:0 /dev/loop1 4096 4096 344 344 sha256 " ROOT
				   " - 1 restart_on_corruption");
	cfg.verity.on_corruption = VERITY_CORRUPTION_PANIC;
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", table, sizeof(table)), 0);
	assert_string_equal(table,
			    "1 7:0 7:0 4096 4096 344 344 sha256 " ROOT " - 1 panic_on_corruption");
}

static void test_table_hash_blocks(void **state)
{
	/* hash_start counts hash blocks, not bytes nor data blocks */
	assert_int_equal(parse_validate(GOOD "verity_hash_block_size 1024\n"
					     "verity_data_block_size 512\n"
					     "verity_data_blocks 10\nverity_hash_offset 8192\n"),
			 0);
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", table, sizeof(table)), 0);
	assert_string_equal(table, "1 7:0 7:0 512 1024 10 8 sha256 " ROOT " " SALT);
	assert_int_equal(verity_table_sectors(&cfg.verity), 10);
}

static void test_table_refuses(void **state)
{
	char small[16];

	config_init(&cfg, RELEASE);
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", table, sizeof(table)),
			 -EINVAL); /* no root hash */
	assert_int_equal(parse(GOOD "verity_hash_offset 0\n"), 0);
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", table, sizeof(table)),
			 -EINVAL); /* what config_validate refuses */
	assert_int_equal(parse(GOOD), 0);
	assert_int_equal(verity_table_format(&cfg.verity, "", "7:0", table, sizeof(table)),
			 -EINVAL);
	assert_int_equal(verity_table_format(&cfg.verity, "7:0 x", "7:0", table, sizeof(table)),
			 -EINVAL); /* would shift every field */
	assert_int_equal(verity_table_format(&cfg.verity, "7:0", "7:0", small, sizeof(small)),
			 -ENOBUFS);
	assert_string_equal(small, "");
	cfg.verity.on_corruption = VERITY_CORRUPTION_PANIC;
	/* room for the line but not for the option: no half option */
	assert_int_equal(verity_table_format(
				 &cfg.verity, "7:0", "7:0", table,
				 strlen("1 7:0 7:0 4096 4096 344 344 sha256 " ROOT " " SALT) + 3),
			 -ENOBUFS);
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_parse_installer_output),
		T(test_parse_policies),
		T(test_parse_salt_forms),
		T(test_parse_bad_values),
		T(test_parse_salt_too_long),
		T(test_validate_digest_length),
		T(test_validate_geometry),
		T(test_policy),
		T(test_cmdline_cannot_turn_off),
		T(test_cmdline_override_allowed),
		T(test_format_round_trip),
		T(test_format_without_verity),
		T(test_table_line),
		T(test_table_options),
		T(test_table_hash_blocks),
		T(test_table_refuses),
	};

	log_set_program("initoverlayfs");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
