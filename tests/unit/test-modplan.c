/* SPDX-License-Identifier: MIT */
/* Unit tests for src/common/modplan.c: the module plan the boot program
 * loads modules from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/modplan.h"

static const char good[] = "# a comment\n"
			   "\n"
			   "module crc32c_generic kernel/crypto/crc32c_generic.ko\n"
			   "module libcrc32c kernel/lib/libcrc32c.ko\n"
			   "module erofs kernel/fs/erofs/erofs.ko\n"
			   "module ahci kernel/drivers/ata/ahci.ko\n"
			   "module libahci kernel/drivers/ata/libahci.ko\n"
			   "module dm-verity kernel/drivers/md/dm-verity.ko\n"
			   "load erofs ?crc32c_generic libcrc32c erofs\n"
			   "load ahci\tlibahci ahci\n"
			   "alias fs-erofs erofs\n"
			   "alias pci:v*d*sv*sd*bc01sc06i01* ahci\n"
			   "alias pci:v00008086d00002922sv*sd*bc*sc*i* ahci\n"
			   "alias pci:v00001B4Bd0000[0-9]*sv*sd*bc*sc*i* libahci\n"
			   "builtin ext4\n";

/* The parser cuts the text in place and takes it: a heap copy. */
static int parse(const char *text, struct modplan *plan, unsigned *line)
{
	size_t len = strlen(text);
	char *copy = malloc(len + 1);

	assert_non_null(copy);
	memcpy(copy, text, len + 1);
	return modplan_parse(plan, copy, len, line);
}

struct calls {
	uint32_t seen[8];
	size_t n;
};

static int record(uint32_t module, void *data)
{
	struct calls *c = data;

	if (c->n < 8)
		c->seen[c->n++] = module;
	return 0;
}

static void test_good(void **state)
{
	struct modplan plan;
	struct calls c = { 0 };
	unsigned line = 99;
	long erofs, ahci, libahci;

	assert_int_equal(parse(good, &plan, &line), 0);
	assert_int_equal(line, 0);
	assert_int_equal(plan.n_modules, 6);
	assert_int_equal(plan.n_aliases, 4);
	assert_int_equal(plan.n_builtin, 1);

	erofs = modplan_find_module(&plan, "erofs");
	ahci = modplan_find_module(&plan, "ahci");
	libahci = modplan_find_module(&plan, "libahci");
	assert_true(erofs >= 0 && ahci >= 0 && libahci >= 0);
	/* names are normalized both ways, as libkmod does */
	assert_int_equal(modplan_find_module(&plan, "dm_verity"), 5);
	assert_int_equal(modplan_find_module(&plan, "dm-verity"), 5);
	assert_int_equal(modplan_find_module(&plan, "nvme"), -1);

	/* the load order, optional entries marked */
	assert_int_equal(plan.modules[erofs].order_len, 3);
	assert_int_equal(plan.order[plan.modules[erofs].order_start],
			 (uint32_t)modplan_find_module(&plan, "crc32c_generic") | MODPLAN_OPTIONAL);
	assert_int_equal(plan.order[plan.modules[erofs].order_start + 2], (uint32_t)erofs);
	assert_int_equal(plan.modules[modplan_find_module(&plan, "libcrc32c")].order_len, 0);

	/* by name: that module only, even if an alias would match more */
	assert_int_equal(modplan_lookup(&plan, "ahci", record, &c), 1);
	assert_int_equal(c.seen[0], (uint32_t)ahci);
	/* by alias: "fs-erofs" is stored as fs_erofs and asked for either way */
	c.n = 0;
	assert_int_equal(modplan_lookup(&plan, "fs-erofs", record, &c), 1);
	assert_int_equal(c.seen[0], (uint32_t)erofs);
	/* a modalias two patterns of the same module match: called once */
	c.n = 0;
	assert_int_equal(modplan_lookup(&plan,
					"pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01",
					record, &c),
			 1);
	assert_int_equal(c.seen[0], (uint32_t)ahci);
	/* brackets keep their '-' and match as ranges */
	c.n = 0;
	assert_int_equal(modplan_lookup(&plan, "pci:v00001B4Bd00009123sv0sd0bc0sc0i0", record, &c),
			 1);
	assert_int_equal(c.seen[0], (uint32_t)libahci);
	c.n = 0;
	assert_int_equal(modplan_lookup(&plan,
					"pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00",
					record, &c),
			 0);
	assert_int_equal(modplan_is_builtin(&plan, "ext4"), 1);
	assert_int_equal(modplan_is_builtin(&plan, "erofs"), 0);
	modplan_free(&plan);
}

static void test_empty(void **state)
{
	struct modplan plan;
	unsigned line;
	char *none = malloc(1);

	assert_non_null(none);
	assert_int_equal(modplan_parse(&plan, none, 0, &line), 0);
	assert_int_equal(plan.n_modules, 0);
	modplan_free(&plan);
	assert_int_equal(parse("# nothing\n\n", &plan, &line), 0);
	modplan_free(&plan);
}

static void check_bad(const char *text, unsigned want_line)
{
	struct modplan plan;
	unsigned line = 0;

	print_message("  %s", text);
	assert_int_equal(parse(text, &plan, &line), -EBADMSG);
	assert_int_equal(line, want_line);
	modplan_free(&plan);
}

static void test_malformed(void **state)
{
	check_bad("modul a a.ko\n", 1);
	check_bad("module a\n", 1);
	check_bad("module a a.ko extra\n", 1);
	check_bad("# ok\nmodule a /abs/a.ko\n", 2);
	check_bad("module a ../a.ko\n", 1);
	check_bad("module a kernel/../../a.ko\n", 1);
	check_bad("module a kernel/..\n", 1);
	check_bad("module a.b a.ko\n", 1);
	check_bad("module a a.ko\nmodule a b.ko\n", 2);
	/* the same name once normalized */
	check_bad("module a_b a.ko\nmodule a-b b.ko\n", 2);
	check_bad("load a a\nmodule a a.ko\n", 1);
	check_bad("module a a.ko\nload a\n", 2);
	check_bad("module a a.ko\nload a b\n", 2);
	check_bad("module a a.ko\nload a a\nload a a\n", 3);
	check_bad("module a a.ko\nload a ?\n", 2);
	check_bad("alias x* a\n", 1);
	check_bad("module a a.ko\nalias x*\n", 2);
	check_bad("builtin\n", 1);
	check_bad("builtin a b\n", 1);
	check_bad("builtin a/b\n", 1);
	check_bad("module aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		  "a.ko\n",
		  1);
	/* not ended by a newline, or with a NUL inside: not a plan at all */
	check_bad("module a a.ko", 0);
	{
		struct modplan plan;
		unsigned line = 0;
		char *t = malloc(16);

		assert_non_null(t);
		memcpy(t, "module a\0a.ko\n", 14);
		assert_int_equal(modplan_parse(&plan, t, 14, &line), -EBADMSG);
		modplan_free(&plan);
	}
}

static void test_normalize(void **state)
{
	char out[32];

	assert_int_equal(modplan_normalize("dm-verity", out, sizeof(out)), 0);
	assert_string_equal(out, "dm_verity");
	assert_int_equal(modplan_normalize("usb:v[0-9]*-x", out, sizeof(out)), 0);
	assert_string_equal(out, "usb:v[0-9]*_x");
	assert_int_equal(modplan_normalize("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(modplan_normalize("abcd", out, 4), -ENAMETOOLONG);
	assert_int_equal(modplan_normalize("abc", out, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_normalize),
	};

	return cmocka_run_group_tests_name("modplan", tests, NULL, NULL);
}
