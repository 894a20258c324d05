/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/elfdeps.c: the dynamic loader's list (texts
 * captured from glibc 2.36's ld.so in trace mode), PT_INTERP of ELF files
 * of both classes and byte orders, and one real run of the host's loader
 * on this test program. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "install/elfdeps.h"
#include "test-util.h"

static struct strv deps;
static char missing[PATH_MAX];

static int parse(const char *text)
{
	strv_free(&deps);
	memset(missing, 'X', sizeof(missing) - 1);
	missing[sizeof(missing) - 1] = '\0';
	return elf_parse_list(text, &deps, missing, sizeof(missing));
}

/* deps is exactly the NULL-terminated list want. */
static void assert_deps(const char *const want[])
{
	size_t n = 0;

	for (; want[n]; n++) {
		assert_true(n < deps.n);
		assert_string_equal(deps.v[n], want[n]);
	}
	assert_int_equal(deps.n, n);
}

/* The boot program's list: vDSO, libraries, the loader among them. */
static void test_parse_normal(void **state)
{
	static const char *const want[] = {
		"/lib/x86_64-linux-gnu/libblkid.so.1", "/lib/x86_64-linux-gnu/libkmod.so.2",
		"/lib/x86_64-linux-gnu/libc.so.6",     "/lib64/ld-linux-x86-64.so.2",
		"/lib/x86_64-linux-gnu/libzstd.so.1",  NULL,
	};

	assert_int_equal(
		parse("\tlinux-vdso.so.1 (0x00007ffd5b5f1000)\n"
		      "\tlibblkid.so.1 => /lib/x86_64-linux-gnu/libblkid.so.1 "
		      "(0x00007f6f90331000)\n"
		      "\tlibkmod.so.2 => /lib/x86_64-linux-gnu/libkmod.so.2 (0x00007f6f90314000)\n"
		      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f6f90132000)\n"
		      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f6f903cd000)\n"
		      "\tlibzstd.so.1 => /lib/x86_64-linux-gnu/libzstd.so.1 "
		      "(0x00007f6f90076000)\n"),
		0);
	assert_deps(want);
	assert_string_equal(missing, "");
}

/* Other vDSO names (i386, ppc64); a loader invoked under another path
 * than the program's PT_INTERP; no final newline. */
static void test_parse_variants(void **state)
{
	static const char *const want[] = { "/lib/ld-linux.so.2", "/lib64/ld-linux-x86-64.so.2",
					    NULL };

	assert_int_equal(parse("\tlinux-gate.so.1 (0xf7f4b000)\n"
			       "\tlinux-vdso64.so.1 (0x00007fff8e2a0000)\n"
			       "\t/lib/ld-linux.so.2 (0xf7f4d000)\n"
			       "\t/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 => "
			       "/lib64/ld-linux-x86-64.so.2 (0x00007f97e9415000)"),
			 0);
	assert_deps(want);
}

/* A DT_RUNPATH of "$ORIGIN/odd dir": the path keeps its space. */
static void test_parse_space(void **state)
{
	static const char *const want[] = { "/tmp/t/odd dir/libfoo.so",
					    "/lib/x86_64-linux-gnu/libc.so.6", NULL };

	assert_int_equal(
		parse("\tlinux-vdso.so.1 (0x00007f2cce48e000)\n"
		      "\tlibfoo.so => /tmp/t/odd dir/libfoo.so (0x00007f2cce47c000)\n"
		      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2cce28e000)\n"),
		0);
	assert_deps(want);
}

/* Every missing library fails the list; the first one is named, the
 * others lines are still read. */
static void test_parse_not_found(void **state)
{
	static const char *const want[] = { "/lib/x86_64-linux-gnu/libc.so.6",
					    "/lib64/ld-linux-x86-64.so.2", NULL };

	assert_int_equal(
		parse("\tlinux-vdso.so.1 (0x00007fe20d180000)\n"
		      "\tlibfoo.so => not found\n"
		      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fe20cf85000)\n"
		      "\tlibbar.so.2 => not found\n"
		      "\t/lib64/ld-linux-x86-64.so.2 (0x00007fe20d182000)\n"),
		-ENOENT);
	assert_string_equal(missing, "libfoo.so");
	assert_deps(want);
}

static void test_parse_static(void **state)
{
	static const char *const none[] = { NULL };

	assert_int_equal(parse("\tstatically linked\n"), 0);
	assert_deps(none);
	assert_int_equal(parse(""), 0);
	assert_deps(none);
}

/* A path already in deps (from another program) is not added again. */
static void test_parse_dedup(void **state)
{
	static const char *const want[] = { "/lib/x86_64-linux-gnu/libc.so.6",
					    "/lib64/ld-linux-x86-64.so.2", NULL };

	assert_int_equal(parse("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1000)\n"), 0);
	assert_int_equal(elf_parse_list("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1000)\n"
					"\t/lib64/ld-linux-x86-64.so.2 (0x2000)\n",
					&deps, missing, sizeof(missing)),
			 0);
	assert_deps(want);
}

/* Lines of no known form, and a relative path (nothing to copy). */
static void test_parse_bad(void **state)
{
	assert_int_equal(parse("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6\n"), -EBADMSG);
	assert_int_equal(parse("\tlibc.so.6 => /lib/libc.so.6 (0x)\n"), -EBADMSG);
	assert_int_equal(parse("\tlibc.so.6 => /lib/libc.so.6 (0x12g4)\n"), -EBADMSG);
	assert_int_equal(parse("\tlibc.so.6 => lib/libc.so.6 (0x1000)\n"), -EBADMSG);
	assert_int_equal(parse("\tnot a dynamic executable\n"), -EBADMSG);
	assert_int_equal(parse("\t (0x1000)\n"), -EBADMSG);
	assert_int_equal(parse("\tlibc.so.6 =>  (0x1000)\n"), -EBADMSG);
}

/* A minimal ELF file: the header and two program headers (PT_LOAD, then
 * PT_INTERP holding interp, or PT_NOTE without interp). */
static void put(unsigned char *b, size_t off, size_t size, uint64_t v, bool msb)
{
	for (size_t i = 0; i < size; i++)
		b[off + (msb ? size - 1 - i : i)] = (unsigned char)(v >> (8 * i));
}

static const char *write_elf(bool is64, bool msb, const char *interp, size_t interp_size)
{
	unsigned char b[512] = { 0 };
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	size_t wsize = is64 ? 8 : 4, at = ehsize + 2 * phsize;

	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	b[EI_DATA] = msb ? ELFDATA2MSB : ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
	put(b, EI_NIDENT, 2, ET_EXEC, msb);
	put(b, is64 ? offsetof(Elf64_Ehdr, e_phoff) : offsetof(Elf32_Ehdr, e_phoff), wsize, ehsize,
	    msb);
	put(b, is64 ? offsetof(Elf64_Ehdr, e_phentsize) : offsetof(Elf32_Ehdr, e_phentsize), 2,
	    phsize, msb);
	put(b, is64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum), 2, 2, msb);
	for (size_t i = 0; i < 2; i++) {
		size_t ph = ehsize + i * phsize;
		uint32_t type = i == 0 ? PT_LOAD : interp ? PT_INTERP : PT_NOTE;

		put(b, ph, 4, type, msb);
		put(b,
		    ph + (is64 ? offsetof(Elf64_Phdr, p_offset) : offsetof(Elf32_Phdr, p_offset)),
		    wsize, at, msb);
		put(b,
		    ph + (is64 ? offsetof(Elf64_Phdr, p_filesz) : offsetof(Elf32_Phdr, p_filesz)),
		    wsize, interp_size, msb);
	}
	if (interp)
		memcpy(b + at, interp, interp_size);
	return test_write_file("elf", b, at + interp_size);
}

static void check_interp(bool is64, bool msb)
{
	static const char ld[] = "/lib/ld64.so.1";
	char out[PATH_MAX];

	print_message("  ELF%d %s\n", is64 ? 64 : 32, msb ? "MSB" : "LSB");
	assert_int_equal(elf_interp(write_elf(is64, msb, ld, sizeof(ld)), out, sizeof(out)), 0);
	assert_string_equal(out, ld);
	/* no PT_INTERP: statically linked */
	assert_int_equal(elf_interp(write_elf(is64, msb, NULL, 0), out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* a PT_INTERP without its NUL, relative, or larger than out */
	assert_int_equal(elf_interp(write_elf(is64, msb, ld, sizeof(ld) - 1), out, sizeof(out)),
			 -ENOEXEC);
	assert_int_equal(elf_interp(write_elf(is64, msb, "ld.so", 6), out, sizeof(out)), -ENOEXEC);
	assert_int_equal(elf_interp(write_elf(is64, msb, ld, sizeof(ld)), out, sizeof(ld) - 1),
			 -ENOEXEC);
}

static void test_interp(void **state)
{
	char out[PATH_MAX];

	check_interp(true, false);
	check_interp(true, true);
	check_interp(false, false);
	check_interp(false, true);
	assert_int_equal(elf_interp(test_write_file("text", "#!/bin/sh\n", 10), out, sizeof(out)),
			 -ENOEXEC);
	assert_int_equal(elf_interp(test_write_file("short", ELFMAG "\2\1", 6), out, sizeof(out)),
			 -ENOEXEC);
	assert_int_equal(elf_interp("/nonexistent/elf", out, sizeof(out)), -ENOENT);
}

/* The host's loader on this very program: it needs cmocka, and the list
 * holds the loader at the PT_INTERP path. */
static void test_collect_self(void **state)
{
	char self[PATH_MAX], interp[PATH_MAX];
	bool cmocka = false;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_int_equal(elf_interp(self, interp, sizeof(interp)), 0);
	assert_true(interp[0] == '/');

	strv_free(&deps);
	assert_int_equal(elf_collect_deps(NULL, self, &deps, missing, sizeof(missing)), 0);
	assert_true(strv_contains(&deps, interp));
	for (size_t i = 0; i < deps.n; i++)
		cmocka = cmocka || strstr(deps.v[i], "/libcmocka.so");
	assert_true(cmocka);
	/* a second program's list adds no path twice */
	n = (ssize_t)deps.n;
	assert_int_equal(elf_collect_deps(NULL, self, &deps, missing, sizeof(missing)), 0);
	assert_int_equal(deps.n, (size_t)n);

	/* another tree's program is looked up in that tree */
	assert_int_equal(elf_collect_deps("/nonexistent-root", "/usr/sbin/initoverlayfs", &deps,
					  missing, sizeof(missing)),
			 -ENOENT);
}

/* No PT_INTERP: nothing to add and no loader run. A file that is not
 * ELF: -ENOEXEC. A missing loader: -ENOENT naming it. */
static void test_collect_files(void **state)
{
	static const char ld[] = "/nonexistent/ld.so";

	strv_free(&deps);
	assert_int_equal(elf_collect_deps(NULL, write_elf(true, false, NULL, 0), &deps, missing,
					  sizeof(missing)),
			 0);
	assert_int_equal(deps.n, 0);
	assert_int_equal(elf_collect_deps(NULL, test_write_file("text", "#!/bin/sh\n", 10), &deps,
					  missing, sizeof(missing)),
			 -ENOEXEC);
	assert_int_equal(elf_collect_deps(NULL, write_elf(true, false, ld, sizeof(ld)), &deps,
					  missing, sizeof(missing)),
			 -ENOENT);
	assert_string_equal(missing, ld);
	assert_int_equal(deps.n, 0);
}

static int setup(void **state)
{
	return test_dir_create();
}

static int teardown(void **state)
{
	strv_free(&deps);
	return test_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_normal), cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_space),  cmocka_unit_test(test_parse_not_found),
		cmocka_unit_test(test_parse_static), cmocka_unit_test(test_parse_dedup),
		cmocka_unit_test(test_parse_bad),    cmocka_unit_test(test_interp),
		cmocka_unit_test(test_collect_self), cmocka_unit_test(test_collect_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
