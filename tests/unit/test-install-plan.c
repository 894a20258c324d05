/* SPDX-License-Identifier: MIT */
/* Unit tests for src/install/plan.c: the plan a run would carry out, made
 * without root against the newest kernel under /lib/modules, a boot
 * directory and a source directory of the test's own. Nothing is
 * written: the tests check that too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "install/plan.h"
#include "test-util.h"

static char kver[KVER_MAX + 1];
static char boot_dir[128], source_dir[128], config_path[128];

/* The newest release under /lib/modules with a modules.dep. */
static int find_kernel(void)
{
	struct dirent *de;
	DIR *d = opendir("/lib/modules");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char dep[PATH_MAX];
		struct stat st;

		snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", de->d_name);
		if (de->d_name[0] != '.' && stat(dep, &st) == 0 &&
		    (!kver[0] || strverscmp(de->d_name, kver) > 0))
			snprintf(kver, sizeof(kver), "%s", de->d_name);
	}
	closedir(d);
	return kver[0] ? 0 : -1;
}

static int group_setup(void **state)
{
	static const char conf[] = "bootfs LABEL=boot\nbootfstype ext4\n";

	if (find_kernel() < 0) {
		fprintf(stderr, "test-install-plan: no kernel under /lib/modules\n");
		return -1;
	}
	if (test_dir_create() < 0)
		return -1;
	snprintf(boot_dir, sizeof(boot_dir), "%s/boot", test_dir);
	snprintf(source_dir, sizeof(source_dir), "%s/full", test_dir);
	if (mkdir(boot_dir, 0755) < 0 || mkdir(source_dir, 0755) < 0)
		return -1;
	snprintf(config_path, sizeof(config_path), "%s",
		 test_write_file("conf", conf, strlen(conf)));
	return 0;
}

static struct options base_options(void)
{
	struct options o = {
		.kver = kver,
		.boot_dir = boot_dir,
		.source = source_dir,
		.config_path = config_path,
		/* any dynamically linked program has a loader and libraries */
		.boot_program = "/bin/sh",
		.mode = MODE_INIT,
		.verity = -1,
		.dry_run = true,
	};

	return o;
}

static const char *why_of(const struct plan *p, const char *file_suffix)
{
	for (size_t i = 0; i < p->modules.files.n; i++) {
		const char *f = p->modules.files.v[i];
		size_t n = strlen(f), m = strlen(file_suffix);

		if (n >= m && strcmp(f + n - m, file_suffix) == 0)
			return p->modules.why.v[i];
	}
	return NULL;
}

static const char *module_why(const struct plan *p, const char *name)
{
	char ko[64], koxz[64];
	const char *why;

	snprintf(ko, sizeof(ko), "/%s.ko", name);
	snprintf(koxz, sizeof(koxz), "/%s.ko.xz", name);
	why = why_of(p, ko);
	return why ? why : why_of(p, koxz);
}

static void test_directory_source(void **state)
{
	struct options o = base_options();
	struct plan p;
	char output[PATH_MAX];

	assert_int_equal(plan_make(&o, &p), 0);
	assert_int_equal(p.source, SOURCE_DIR);
	assert_string_equal(p.kver, kver);
	assert_string_equal(p.source_path, source_dir);
	assert_false(p.config_generated);
	assert_string_equal(p.cfg.bootfs, "LABEL=boot");
	/* defaults: lz4hc image, zstd mini-initramfs */
	assert_string_equal(p.erofs_compression, "lz4hc");
	assert_string_equal(p.initramfs_compression, "zstd");
	/* no /etc/initramfs-tools here: dracut's name */
	if (access("/etc/initramfs-tools", F_OK) < 0) {
		snprintf(output, sizeof(output), "%s/initramfs-%s.img", boot_dir, kver);
		assert_string_equal(p.output, output);
	}
	/* the boot program's loader is among its libraries */
	assert_true(p.libs.n >= 2);
	assert_int_equal(p.stale.n, 0);
	/* the modules, each with why it is in */
	assert_int_equal(p.modules.files.n, p.modules.why.n);
	/* Debian builds all three as modules */
	assert_non_null(module_why(&p, "erofs"));
	assert_string_equal(module_why(&p, "erofs"), "what the image is mounted with");
	assert_non_null(module_why(&p, "ext4"));
	assert_string_equal(module_why(&p, "ext4"), "the boot file system (ext4)");
	assert_non_null(module_why(&p, "jbd2"));
	assert_string_equal(module_why(&p, "jbd2"), "needed by ext4");
	/* dm-verity comes with --verity only */
	assert_null(module_why(&p, "dm-verity"));
	/* the usual boot devices' drivers (Debian builds ahci as a module) */
	assert_non_null(module_why(&p, "ahci"));
	assert_string_equal(module_why(&p, "ahci"), "a usual boot device's driver");
	plan_free(&p);

	o.verity = 1;
	assert_int_equal(plan_make(&o, &p), 0);
	assert_non_null(module_why(&p, "dm-verity"));
	assert_string_equal(module_why(&p, "dm-verity"), "--verity");
	plan_free(&p);
}

/* --hostonly: the drivers of the chain under the boot directory's device
 * (this machine's: which they are depends on it), none of the usual boot
 * devices' list; the mount modules and the file system's as always. */
static void test_hostonly(void **state)
{
	struct options o = base_options();
	struct plan p;
	o.hostonly = true;
	assert_int_equal(plan_make(&o, &p), 0);
	for (size_t i = 0; i < p.modules.why.n; i++)
		assert_string_not_equal(p.modules.why.v[i], "a usual boot device's driver");
	assert_string_equal(module_why(&p, "erofs"), "what the image is mounted with");
	assert_string_equal(module_why(&p, "ext4"), "the boot file system (ext4)");
	assert_null(module_why(&p, "usb-storage"));
	plan_free(&p);
}

static void test_add_modules(void **state)
{
	struct options o = base_options();
	struct plan p;

	o.add_modules = "squashfs";
	assert_int_equal(plan_make(&o, &p), 0);
	assert_non_null(module_why(&p, "squashfs"));
	assert_string_equal(module_why(&p, "squashfs"), "--add-modules");
	plan_free(&p);
}

static void test_stale_images(void **state)
{
	struct options o = base_options();
	char old[PATH_MAX], other[PATH_MAX];
	struct plan p;

	snprintf(old, sizeof(old), "%s/initoverlayfs-%s-0123456789abcdef.img", boot_dir, kver);
	snprintf(other, sizeof(other), "%s/initoverlayfs-%s-notahash.img", boot_dir, kver);
	fclose(fopen(old, "w"));
	fclose(fopen(other, "w"));
	assert_int_equal(plan_make(&o, &p), 0);
	assert_int_equal(p.stale.n, 1);
	assert_string_equal(p.stale.v[0], old);
	plan_free(&p);
	unlink(old);
	unlink(other);
}

static void test_commands(void **state)
{
	struct options o = base_options();
	const char *argv[24];
	char buf[512];
	struct plan p;

	o.compression = "lz4hc,12";
	o.initramfs_compression = "xz,6";
	assert_int_equal(plan_make(&o, &p), 0);

	assert_int_equal(plan_mkfs_argv(&p, "IMG", "TREE", argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[0], "mkfs.erofs");
	assert_string_equal(argv[1], "-zlz4hc,12");
	assert_string_equal(argv[7], "IMG");
	assert_string_equal(argv[8], "TREE");
	assert_null(argv[9]);

	assert_int_equal(plan_compressor_argv(&p, argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[0], "xz");
	for (size_t i = 0; argv[i]; i++)
		if (!argv[i + 1])
			assert_string_equal(argv[i], "--lzma2=preset=6,dict=1MiB");

	/* a directory source runs no generator */
	assert_int_equal(plan_full_initrd_argv(&p, "OUT", argv), -EINVAL);
	p.source = SOURCE_DRACUT;
	assert_int_equal(plan_full_initrd_argv(&p, "OUT", argv), 0);
	assert_string_equal(argv[0], "dracut");
	assert_string_equal(argv[4], kver);
	assert_string_equal(argv[5], "OUT");
	p.source = SOURCE_INITRAMFS_TOOLS;
	assert_int_equal(plan_full_initrd_argv(&p, "OUT", argv), 0);
	assert_string_equal(argv[0], "mkinitramfs");
	assert_string_equal(argv[2], "OUT");

	assert_int_equal(
		plan_veritysetup_argv(&p, "IMG", "12", "49152", "ab", argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[6], "--data-blocks=12");
	assert_string_equal(argv[7], "--hash-offset=49152");
	assert_string_equal(argv[8], "--salt=ab");

	assert_int_equal(
		plan_dracut_mini_argv(&p, "CONF", "CONFDIR", "OUT", argv, buf, sizeof(buf)), 0);
	/* the admin's dracut configuration is the full initrd's */
	assert_string_equal(argv[5], "--conf");
	assert_string_equal(argv[6], "/dev/null");
	assert_string_equal(argv[7], "--confdir");
	assert_string_equal(argv[8], "CONFDIR");
	assert_string_equal(argv[9],
			    "--compress=xz -q -c --check=crc32 --lzma2=preset=6,dict=1MiB");
	assert_string_equal(argv[15], "CONF");
	assert_string_equal(argv[17], "OUT");
	assert_null(argv[18]);

	assert_int_equal(plan_depmod_argv(&p, "D", "S", argv), 0);
	assert_string_equal(argv[2], "D");
	assert_string_equal(argv[4], "S");
	assert_string_equal(argv[5], kver);
	plan_free(&p);

	o.initramfs_compression = "none";
	assert_int_equal(plan_make(&o, &p), 0);
	assert_int_equal(plan_compressor_argv(&p, argv, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(
		plan_dracut_mini_argv(&p, "CONF", "CONFDIR", "OUT", argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[9], "--no-compress");
	plan_free(&p);
}

static void test_printed_plan(void **state)
{
	struct options o = base_options();
	char *text = NULL, line[PATH_MAX + 64];
	size_t len = 0;
	struct plan p;
	FILE *out;

	o.verity = 1;
	assert_int_equal(plan_make(&o, &p), 0);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	plan_print(&p, out);
	fclose(out);
	snprintf(line, sizeof(line),
		 "  0600 %s/initoverlayfs-%s-<hash>.img  EROFS image, lz4hc, "
		 "with a dm-verity hash tree\n",
		 boot_dir, kver);
	assert_non_null(strstr(text, line));
	snprintf(line, sizeof(line), "  0600 %s  mini-initramfs, newc cpio\n", p.output);
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "    $ mkfs.erofs -zlz4hc "));
	assert_non_null(strstr(text, "    $ veritysetup format --no-superblock"));
	assert_non_null(strstr(text, "    $ zstd -q -c -19\n"));
	snprintf(line, sizeof(line), "  /init  the boot program %s\n", p.boot_program);
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "dry run: nothing was changed\n"));
	free(text);
	plan_free(&p);
	/* and nothing was written: the boot directory is still empty */
	{
		DIR *d = opendir(boot_dir);
		struct dirent *de;
		int n = 0;

		assert_non_null(d);
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
		assert_int_equal(n, 0);
	}
}

/* The original initoverlayfs' config (init mode, as its installer writes
 * it with --initoverlayfs-init): the keys we know decide; its
 * erofs_compression is the image's, its initoverlayfs_init the mode. */
static void test_original_config(void **state)
{
	static const char original[] =
		"bootfs UUID=1a3a6db4-a7c2-43e5-bed5-9385f26c68ff\n"
		"bootfs_hint /dev/vda1\n"
		"bootfstype ext4\n"
		"initoverlayfs_builder dracut -M -o \"initoverlayfs fcoe\"\n"
		"initrd_builder dracut -M -m \"initoverlayfs\" -o \"kernel-modules udev-rules "
		"systemd base bash systemd-initrd i18n kernel-modules-extra rootfs-block "
		"dracut-systemd usrmount fs-lib microcode_ctl-fw_dir_override shutdown "
		"nss-softokn\"\n"
		"initoverlayfs_init true\n"
		"erofs_compression -zlz4hc,11\n";
	struct options o = base_options();
	const char *argv[24];
	char buf[512], path[128], dracutbase[160], want[512];
	struct plan p;

	snprintf(path, sizeof(path), "%s",
		 test_write_file("original.conf", original, strlen(original)));
	o.config_path = path;
	/* the config decides the mode only when --mode does not */
	o.mode = MODE_SYSTEMD;
	capture_start();
	assert_int_equal(plan_make(&o, &p), 0);
	capture_restore();
	assert_int_equal(p.mode, MODE_INIT);
	assert_false(p.config_generated);
	assert_string_equal(p.cfg.bootfs, "UUID=1a3a6db4-a7c2-43e5-bed5-9385f26c68ff");
	assert_string_equal(p.cfg.bootfs_hint, "/dev/vda1");
	assert_string_equal(p.cfg.bootfstype, "ext4");
	assert_string_equal(p.erofs_compression, "lz4hc,11");
	/* the mini-initramfs' config says what the image has */
	assert_string_equal(p.cfg.compression, "lz4hc,11");
	assert_int_equal(plan_mkfs_argv(&p, "IMG", "TREE", argv, buf, sizeof(buf)), 0);
	assert_string_equal(argv[1], "-zlz4hc,11");
	plan_free(&p);

	/* --compression still wins */
	o.compression = "lz4";
	capture_start();
	assert_int_equal(plan_make(&o, &p), 0);
	capture_restore();
	assert_string_equal(p.erofs_compression, "lz4");
	plan_free(&p);

	/* --mode wins over initoverlayfs_init */
	o = base_options();
	o.config_path = path;
	snprintf(dracutbase, sizeof(dracutbase), "%s/dracutbase", test_dir);
	assert_int_equal(mkdir(dracutbase, 0755), 0);
	strcat(dracutbase, "/modules.d");
	assert_int_equal(mkdir(dracutbase, 0755), 0);
	strcat(dracutbase, "/81initoverlayfs");
	assert_int_equal(mkdir(dracutbase, 0755), 0);
	snprintf(dracutbase, sizeof(dracutbase), "%s/dracutbase", test_dir);
	setenv("dracutbasedir", dracutbase, 1);
	o.mode = MODE_SYSTEMD;
	o.mode_set = true;
	capture_start();
	assert_int_equal(plan_make(&o, &p), 0);
	capture_restore();
	assert_int_equal(p.mode, MODE_SYSTEMD);
	plan_free(&p);

	/* initoverlayfs_init false: the original's systemd service */
	snprintf(path, sizeof(path), "%s",
		 test_write_file("original-false.conf",
				 "bootfs LABEL=b\ninitoverlayfs_init false\n",
				 strlen("bootfs LABEL=b\ninitoverlayfs_init false\n")));
	o = base_options();
	o.config_path = path;
	capture_start();
	assert_int_equal(plan_make(&o, &p), 0);
	capture_restore();
	assert_int_equal(p.mode, MODE_SYSTEMD);
	plan_free(&p);
	unsetenv("dracutbasedir");

	/* both compression keys: refused */
	snprintf(path, sizeof(path), "%s",
		 test_write_file("both.conf", "compression lz4\nerofs_compression -zlz4hc,11\n",
				 strlen("compression lz4\nerofs_compression -zlz4hc,11\n")));
	o = base_options();
	o.config_path = path;
	capture_start();
	assert_int_equal(plan_make(&o, &p), -EINVAL);
	capture_stop(buf, sizeof(buf));
	plan_free(&p);
	snprintf(want, sizeof(want),
		 "initoverlayfs: error: config %s: both 'compression' and the original "
		 "initoverlayfs' 'erofs_compression' are set: keep one\n",
		 path);
	assert_string_equal(buf, want);
}

static void test_refusals(void **state)
{
	struct options o = base_options();
	struct plan p;

	capture_start();
	o.kver = "0.0.0-none";
	assert_int_equal(plan_make(&o, &p), -ENOENT);
	plan_free(&p);
	o = base_options();
	o.compression = "LZ4";
	assert_int_equal(plan_make(&o, &p), -EINVAL);
	plan_free(&p);
	o = base_options();
	o.initramfs_compression = "none,3";
	assert_int_equal(plan_make(&o, &p), -EINVAL);
	plan_free(&p);
	o = base_options();
	o.add_modules = "no_such_module_anywhere";
	assert_int_equal(plan_make(&o, &p), -ENOENT);
	plan_free(&p);
	capture_restore();
}

/* test_dir/name: an uncompressed newc initramfs holding /init and, when
 * conf is not NULL, etc/initoverlayfs.conf with it. Returns its path. */
static const char *write_initramfs(const char *name, const char *conf)
{
	static const struct {
		const char *name;
		unsigned mode;
	} entries[] = {
		{ "init", 0100755 },
		{ "etc", 040755 },
		{ "etc/initoverlayfs.conf", 0100644 },
		{ "TRAILER!!!", 0 },
	};
	char buf[2048] = "";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		const char *text = i == 0 ? "#!/bin/sh\n" : i == 2 ? conf : "";
		size_t size = text ? strlen(text) : 0, namesize = strlen(entries[i].name) + 1;

		if (!text)
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
				      (unsigned)i + 1, entries[i].mode, 0u, 0u, 1u, 0u,
				      (unsigned)size, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
		memcpy(buf + n, entries[i].name, namesize);
		n = (n + namesize + 3) & ~(size_t)3;
		memcpy(buf + n, text, size);
		n = (n + size + 3) & ~(size_t)3;
	}
	return test_write_file(name, buf, n);
}

/* Our own mini-initramfs as the source (Debian's initrd.img-KVER once the
 * post-update.d hook ran) is refused with one line naming the image it
 * boots, before anything is written; a full initrd is a source. */
static void test_mini_source(void **state)
{
	struct options o = base_options();
	char source[128], conf[KVER_MAX + 128], fs[KVER_MAX + 64], buf[1024], want[1024];
	struct plan p;
	int e;

	snprintf(fs, sizeof(fs), "/initoverlayfs-%s-0123456789abcdef.img", kver);
	snprintf(conf, sizeof(conf), "bootfs LABEL=boot\nfs %s\nfstype erofs\n", fs);
	snprintf(source, sizeof(source), "%s", write_initramfs("mini.img", conf));
	o.source = source;
	capture_start();
	e = plan_make(&o, &p);
	capture_stop(buf, sizeof(buf));
	plan_free(&p);
	assert_int_equal(e, -EINVAL);
	snprintf(want, sizeof(want),
		 "initoverlayfs: error: source %s is an initoverlayfs mini-initramfs (it boots "
		 "the image %s): a pair is made from a full initrd; give the full initrd as "
		 "--source\n",
		 source, fs);
	assert_string_equal(buf, want);

	/* the original initoverlayfs' config has no fs: this kernel's default */
	snprintf(source, sizeof(source), "%s",
		 write_initramfs("original.img", "bootfs LABEL=boot\n"));
	capture_start();
	e = plan_make(&o, &p);
	capture_stop(buf, sizeof(buf));
	plan_free(&p);
	assert_int_equal(e, -EINVAL);
	snprintf(fs, sizeof(fs), "(it boots the image /initoverlayfs-%s.img)", kver);
	assert_non_null(strstr(buf, fs));

	snprintf(source, sizeof(source), "%s", write_initramfs("full.img", NULL));
	assert_int_equal(plan_make(&o, &p), 0);
	assert_int_equal(p.source, SOURCE_IMAGE);
	assert_string_equal(p.source_format, "cpio");
	plan_free(&p);
}

/* The config's verity key asks for the hash tree (the distributions' hooks
 * run the installer without options); --no-verity and --verity win. */
static void test_config_verity(void **state)
{
	static const char conf[] = "bootfs LABEL=boot\nbootfstype ext4\nverity yes\n";
	struct options o = base_options();
	struct plan p;

	o.config_path = test_write_file("conf-verity", conf, strlen(conf));
	assert_int_equal(plan_make(&o, &p), 0);
	assert_true(p.verity);
	assert_non_null(module_why(&p, "dm-verity"));
	plan_free(&p);

	o.verity = 0;
	assert_int_equal(plan_make(&o, &p), 0);
	assert_false(p.verity);
	plan_free(&p);

	o = base_options();
	assert_int_equal(plan_make(&o, &p), 0);
	assert_false(p.verity);
	plan_free(&p);
	o.verity = 1;
	assert_int_equal(plan_make(&o, &p), 0);
	assert_true(p.verity);
	plan_free(&p);

	/* a salt with nothing to salt: the config says no */
	capture_start();
	o = base_options();
	o.verity_salt = "ab";
	assert_int_equal(plan_make(&o, &p), -EINVAL);
	plan_free(&p);
	capture_restore();
}

static int group_teardown(void **state)
{
	capture_restore();
	return test_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory_source), cmocka_unit_test(test_add_modules),
		cmocka_unit_test(test_stale_images),	 cmocka_unit_test(test_commands),
		cmocka_unit_test(test_printed_plan),	 cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_original_config),	 cmocka_unit_test(test_config_verity),
		cmocka_unit_test(test_mini_source),	 cmocka_unit_test(test_hostonly),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
