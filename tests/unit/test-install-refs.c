/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/refs.c: which image an initramfs refers to,
 * and which initramfs files of a boot directory count. The initramfs files
 * are written with libarchive (newc, plain or compressed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "install/refs.h"
#include "common/config.h"
#include "test-util.h"

struct member {
	const char *name;
	const char *text; /* NULL: a directory */
};

/* Appends one newc archive of members to path, compressed with filter
 * ("" for none). */
static void append_archive(const char *path, const char *filter, const struct member *m)
{
	struct archive *a = archive_write_new();
	FILE *f = fopen(path, "ab");

	assert_non_null(a);
	assert_non_null(f);
	assert_int_equal(archive_write_set_format_cpio_newc(a), ARCHIVE_OK);
	if (*filter)
		assert_int_equal(archive_write_add_filter_by_name(a, filter), ARCHIVE_OK);
	/* no padding to 10240-byte blocks: an initramfs has none */
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open_FILE(a, f), ARCHIVE_OK);
	for (; m->name; m++) {
		struct archive_entry *e = archive_entry_new();
		size_t len = m->text ? strlen(m->text) : 0;

		archive_entry_set_pathname(e, m->name);
		archive_entry_set_filetype(e, m->text ? AE_IFREG : AE_IFDIR);
		archive_entry_set_perm(e, m->text ? 0644 : 0755);
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, m->text, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	fclose(f);
}

static const char *path_of(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	unlink(path);
	return path;
}

static const struct member mini_conf[] = {
	{ "etc", NULL },
	{ "etc/initoverlayfs.conf", "bootfs UUID=0f1e\nfs /boot/initoverlayfs-6.1.0-99-amd64-"
				    "0123456789abcdef.img\nfstype erofs\n" },
	{ "init", "#!/bin/false\n" },
	{ NULL, NULL },
};

static void check_ref(const char *path, const char *kver, int want_e, const char *want_fs)
{
	char fs[CONFIG_PATH_MAX] = "";

	assert_int_equal(initramfs_image_ref(path, kver, fs, sizeof(fs)), want_e);
	if (want_fs)
		assert_string_equal(fs, want_fs);
}

static void test_plain_and_compressed(void **state)
{
	static const char *const filters[] = { "", "gzip", "zstd", "xz" };

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		const char *p = path_of("mini.img");

		print_message("  %s\n", *filters[i] ? filters[i] : "cpio");
		append_archive(p, filters[i], mini_conf);
		check_ref(p, NULL, 0, "/boot/initoverlayfs-6.1.0-99-amd64-0123456789abcdef.img");
	}
}

/* an early uncompressed archive (microcode) before the compressed one */
static void test_segments(void **state)
{
	static const struct member early[] = {
		{ "kernel", NULL },
		{ "kernel/x86/microcode/GenuineIntel.bin", "ucode" },
		{ NULL, NULL },
	};
	const char *p = path_of("segments.img");

	append_archive(p, "", early);
	append_archive(p, "zstd", mini_conf);
	check_ref(p, NULL, 0, "/boot/initoverlayfs-6.1.0-99-amd64-0123456789abcdef.img");
}

/* the kernel's rule: a later entry of the same name wins */
static void test_later_entry_wins(void **state)
{
	static const struct member later[] = {
		{ "./etc/initoverlayfs.conf", "fs=/initoverlayfs-new.img\n" },
		{ NULL, NULL },
	};
	const char *p = path_of("later.img");

	append_archive(p, "gzip", mini_conf);
	append_archive(p, "", later);
	check_ref(p, NULL, 0, "/initoverlayfs-new.img");
}

/* no fs key: the boot program's default for the kernel */
static void test_default_fs(void **state)
{
	static const struct member nofs[] = {
		{ "etc/initoverlayfs.conf", "bootfs LABEL=boot\n" },
		{ NULL, NULL },
	};
	const char *p = path_of("nofs.img");

	append_archive(p, "", nofs);
	check_ref(p, "6.1.0-99-amd64", 0, "/initoverlayfs-6.1.0-99-amd64.img");
}

/* The original initoverlayfs' mini-initramfs (dracut, its module copies
 * the host's config as it is, quotes and all): it boots the unhashed
 * /initoverlayfs-KVER.img, whose name its file name gives. */
static void test_original_initramfs(void **state)
{
	static const struct member original[] = {
		{ "etc", NULL },
		{ "etc/initoverlayfs.conf",
		  "bootfs UUID=1a3a6db4-a7c2-43e5-bed5-9385f26c68ff\n"
		  "bootfs_hint /dev/vda1\n"
		  "bootfstype ext4\n"
		  "initoverlayfs_builder dracut -M -o \"initoverlayfs fcoe\"\n"
		  "initrd_builder dracut -M -m \"initoverlayfs\" -o \"kernel-modules udev-rules\"\n"
		  "initoverlayfs_init true\n"
		  "erofs_compression -zlz4hc,11\n" },
		{ "usr/sbin/initoverlayfs", "\177ELF" },
		{ NULL, NULL },
	};
	char dir[128];
	struct strv refs = { 0 };

	snprintf(dir, sizeof(dir), "%s/origboot", test_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	append_archive(path_of("origboot/initramfs-6.7.4-200.fc39.x86_64.img"), "zstd", original);
	assert_int_equal(boot_dir_image_refs(dir, NULL, &refs), 0);
	assert_int_equal(refs.n, 1);
	assert_true(image_ref_in(&refs, "/initoverlayfs-6.7.4-200.fc39.x86_64.img"));
	strv_free(&refs);
}

/* a full initrd, garbage, an empty file, a directory: no image, no crash */
static void test_foreign(void **state)
{
	static const struct member full[] = {
		{ "etc", NULL },
		{ "etc/fstab", "# nothing\n" },
		{ "init", "#!/bin/sh\n" },
		{ NULL, NULL },
	};
	static const struct member dir_conf[] = {
		{ "etc/initoverlayfs.conf", NULL },
		{ NULL, NULL },
	};
	static const char garbage[] = "this is not an initramfs at all\n";
	static const char zeros[512];
	const char *p = path_of("full.img");

	append_archive(p, "zstd", full);
	check_ref(p, NULL, -ENOENT, NULL);
	p = path_of("dirconf.img");
	append_archive(p, "", dir_conf);
	check_ref(p, NULL, -ENOENT, NULL);
	check_ref(test_write_file("garbage.img", garbage, sizeof(garbage) - 1), NULL, -EBADMSG,
		  NULL);
	check_ref(test_write_file("zeros.img", zeros, sizeof(zeros)), NULL, -ENOENT, NULL);
	check_ref(test_write_file("empty.img", "", 0), NULL, -EBADMSG, NULL);
	check_ref(path_of("missing.img"), NULL, -ENOENT, NULL);
	check_ref(test_dir, NULL, -EBADMSG, NULL);
}

/* a truncated compressed initramfs refers to nothing */
static void test_truncated(void **state)
{
	char buf[4096];
	const char *p = path_of("whole.img");
	FILE *f;
	size_t n;

	append_archive(p, "gzip", mini_conf);
	f = fopen(p, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 40);
	p = test_write_file("truncated.img", buf, n / 2);
	assert_true(initramfs_image_ref(p, NULL, buf, sizeof(buf)) < 0);
}

/* Which files of a boot directory count, and "//" folded. */
static void test_boot_dir(void **state)
{
	static const struct member a[] = {
		{ "etc/initoverlayfs.conf", "fs /boot//initoverlayfs-A-0000000000000001.img\n" },
		{ NULL, NULL },
	};
	static const struct member b[] = {
		{ "etc/initoverlayfs.conf", "fs /boot/initoverlayfs-B-0000000000000002.img\n" },
		{ NULL, NULL },
	};
	static const struct member c[] = {
		{ "etc/initoverlayfs.conf", "fs /boot/initoverlayfs-C-0000000000000003.img\n" },
		{ NULL, NULL },
	};
	static const struct member d[] = {
		{ "etc/initoverlayfs.conf", "fs /boot/initoverlayfs-D-0000000000000004.img\n" },
		{ NULL, NULL },
	};
	char dir[128], out[160];
	struct strv refs = { 0 };

	snprintf(dir, sizeof(dir), "%s/boot", test_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	append_archive(path_of("boot/initrd.img-A"), "gzip", a);
	append_archive(path_of("boot/initramfs-B.img"), "", b);
	/* update-initramfs' transient copy and an unrelated name do not count */
	append_archive(path_of("boot/initrd.img-C.dpkg-bak"), "", c);
	append_archive(path_of("boot/vmlinuz-C"), "", c);
	/* the output, elsewhere */
	snprintf(out, sizeof(out), "%s/out.img", test_dir);
	unlink(out);
	append_archive(out, "", d);
	test_write_file("boot/initrd.img-garbage", "junk", 4);

	assert_int_equal(boot_dir_image_refs(dir, out, &refs), 0);
	assert_int_equal(refs.n, 3);
	assert_true(image_ref_in(&refs, "/boot/initoverlayfs-A-0000000000000001.img"));
	assert_true(image_ref_in(&refs, "//boot/initoverlayfs-B-0000000000000002.img"));
	assert_false(image_ref_in(&refs, "/boot/initoverlayfs-C-0000000000000003.img"));
	assert_true(image_ref_in(&refs, "/boot/initoverlayfs-D-0000000000000004.img"));
	strv_free(&refs);
	assert_int_equal(boot_dir_image_refs("/nonexistent/boot", NULL, &refs), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_compressed),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_later_entry_wins),
		cmocka_unit_test(test_default_fs),
		cmocka_unit_test(test_original_initramfs),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_boot_dir),
	};

	return cmocka_run_group_tests(tests, test_dir_group_setup, test_dir_group_teardown);
}
