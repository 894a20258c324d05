/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/bootspec.c: bootfs specifications. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/bootspec.h"

static void check_parse(const char *spec, enum bootspec_kind kind, size_t value_offset)
{
	struct bootspec bs = { .kind = BOOTSPEC_PATH, .value = "garbage" };

	print_message("  %s\n", spec);
	assert_int_equal(bootspec_parse(spec, &bs), 0);
	assert_int_equal(bs.kind, kind);
	/* The value points into the parsed string. */
	assert_ptr_equal(bs.value, spec + value_offset);
}

static void check_invalid(const char *spec)
{
	struct bootspec bs;

	print_message("  %s\n", spec);
	assert_int_equal(bootspec_parse(spec, &bs), -EINVAL);
}

static void test_each_kind(void **state)
{
	check_parse("UUID=0c2b7c5a-93d1-4a32-9c7a-1d2b3c4d5e6f", BOOTSPEC_UUID, 5);
	check_parse("LABEL=boot", BOOTSPEC_LABEL, 6);
	check_parse("PARTUUID=0c2b7c5a-01", BOOTSPEC_PARTUUID, 9);
	check_parse("PARTLABEL=EFI System", BOOTSPEC_PARTLABEL, 10);
	check_parse("/dev/vda2", BOOTSPEC_PATH, 0);
	check_parse("/dev/disk/by-label/my boot", BOOTSPEC_PATH, 0);
	check_parse("/", BOOTSPEC_PATH, 0);
}

static void test_none(void **state)
{
	struct bootspec bs = { .kind = BOOTSPEC_PATH, .value = "garbage" };

	assert_int_equal(bootspec_parse("", &bs), 0);
	assert_int_equal(bs.kind, BOOTSPEC_NONE);
	assert_null(bs.value);
	bs.kind = BOOTSPEC_PATH;
	assert_int_equal(bootspec_parse(NULL, &bs), 0);
	assert_int_equal(bs.kind, BOOTSPEC_NONE);
	assert_null(bs.value);
}

static void test_tag_case_insensitive(void **state)
{
	check_parse("uuid=abcd", BOOTSPEC_UUID, 5);
	check_parse("Label=Boot", BOOTSPEC_LABEL, 6);
	check_parse("partuuid=abcd-01", BOOTSPEC_PARTUUID, 9);
	check_parse("PartLabel=x", BOOTSPEC_PARTLABEL, 10);
}

static void test_partuuid_not_uuid(void **state)
{
	struct bootspec bs;

	assert_int_equal(bootspec_parse("PARTUUID=1234-01", &bs), 0);
	assert_int_equal(bs.kind, BOOTSPEC_PARTUUID);
	assert_string_equal(bs.value, "1234-01");
	assert_int_equal(bootspec_parse("PARTLABEL=root", &bs), 0);
	assert_int_equal(bs.kind, BOOTSPEC_PARTLABEL);
	assert_string_equal(bs.value, "root");
	/* A UUID that itself reads "PARTUUID=..." stays a UUID. */
	assert_int_equal(bootspec_parse("UUID=PARTUUID=1", &bs), 0);
	assert_int_equal(bs.kind, BOOTSPEC_UUID);
	assert_string_equal(bs.value, "PARTUUID=1");
}

static void test_invalid(void **state)
{
	/* Empty values. */
	check_invalid("UUID=");
	check_invalid("LABEL=");
	check_invalid("PARTUUID=");
	check_invalid("partlabel=");
	/* Quotes must have been removed already. */
	check_invalid("UUID=\"abcd\"");
	check_invalid("LABEL=\"my boot\"");
	/* Relative paths and unknown tags. */
	check_invalid("vda2");
	check_invalid("dev/vda2");
	check_invalid("./dev/vda2");
	check_invalid(" /dev/vda2");
	check_invalid("ID=abcd");
	check_invalid("UUID");
	check_invalid("PARTUUID");
	check_invalid("LABEL:boot");
	check_invalid("\"/dev/vda2\"");
}

static void test_blkid_tag(void **state)
{
	assert_string_equal(bootspec_blkid_tag(BOOTSPEC_UUID), "UUID");
	assert_string_equal(bootspec_blkid_tag(BOOTSPEC_LABEL), "LABEL");
	assert_string_equal(bootspec_blkid_tag(BOOTSPEC_PARTUUID), "PART_ENTRY_UUID");
	assert_string_equal(bootspec_blkid_tag(BOOTSPEC_PARTLABEL), "PART_ENTRY_NAME");
	assert_null(bootspec_blkid_tag(BOOTSPEC_NONE));
	assert_null(bootspec_blkid_tag(BOOTSPEC_PATH));
}

static void test_kind_name(void **state)
{
	assert_string_equal(bootspec_kind_name(BOOTSPEC_NONE), "none");
	assert_string_equal(bootspec_kind_name(BOOTSPEC_UUID), "UUID");
	assert_string_equal(bootspec_kind_name(BOOTSPEC_LABEL), "LABEL");
	assert_string_equal(bootspec_kind_name(BOOTSPEC_PARTUUID), "PARTUUID");
	assert_string_equal(bootspec_kind_name(BOOTSPEC_PARTLABEL), "PARTLABEL");
	assert_string_equal(bootspec_kind_name(BOOTSPEC_PATH), "path");
}

static void test_value_matches(void **state)
{
	/* UUIDs: case does not matter. */
	assert_true(bootspec_value_matches(BOOTSPEC_UUID, "0C2B7C5A-93D1", "0c2b7c5a-93d1"));
	assert_true(bootspec_value_matches(BOOTSPEC_UUID, "0c2b7c5a-93d1", "0c2b7c5a-93d1"));
	assert_false(bootspec_value_matches(BOOTSPEC_UUID, "0c2b7c5a-93d1", "0c2b7c5a-93d2"));
	assert_false(bootspec_value_matches(BOOTSPEC_UUID, "0c2b7c5a", "0c2b7c5a-93d1"));
	assert_true(bootspec_value_matches(BOOTSPEC_PARTUUID, "ABCD-01", "abcd-01"));
	/* Labels: exact. */
	assert_true(bootspec_value_matches(BOOTSPEC_LABEL, "boot", "boot"));
	assert_false(bootspec_value_matches(BOOTSPEC_LABEL, "Boot", "boot"));
	assert_false(bootspec_value_matches(BOOTSPEC_LABEL, "boot ", "boot"));
	assert_true(bootspec_value_matches(BOOTSPEC_PARTLABEL, "EFI System", "EFI System"));
	assert_false(bootspec_value_matches(BOOTSPEC_PARTLABEL, "EFI system", "EFI System"));
	assert_true(bootspec_value_matches(BOOTSPEC_PATH, "/dev/vda2", "/dev/vda2"));
	assert_false(bootspec_value_matches(BOOTSPEC_PATH, "/dev/VDA2", "/dev/vda2"));
	/* Missing values never match. */
	assert_false(bootspec_value_matches(BOOTSPEC_UUID, NULL, "x"));
	assert_false(bootspec_value_matches(BOOTSPEC_LABEL, "x", NULL));
	assert_false(bootspec_value_matches(BOOTSPEC_LABEL, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_kind),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_tag_case_insensitive),
		cmocka_unit_test(test_partuuid_not_uuid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_blkid_tag),
		cmocka_unit_test(test_kind_name),
		cmocka_unit_test(test_value_matches),
	};

	return cmocka_run_group_tests_name("bootspec", tests, NULL, NULL);
}
