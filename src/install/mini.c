/* SPDX-License-Identifier: MIT */
#include "install/mini.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/kmods.h"
#include "install/plan.h"
#include "install/sysroot.h"
#include "common/log.h"
#include "common/modplan.h"
#include "common/mountpoints.h"
#include "common/path.h"

/* Besides the boot program's mount points (common/mountpoints.h): those of
 * the API file systems, and /etc. */
static const char *const base_dirs[] = { "/proc", "/sys", "/dev", "/run", "/etc", NULL };

/* Files of the kernel's module directory the boot program's libkmod
 * reads besides depmod's output. */
static const char *const module_meta[] = {
	"modules.builtin",
	"modules.builtin.modinfo",
	NULL,
};

static int stage_dir(const char *stage, const char *path)
{
	char dir[PATH_MAX];
	int e;

	e = path_join(dir, sizeof(dir), stage, path);
	if (e == 0)
		e = mkdir_p(dir, 0755);
	if (e < 0)
		return log_step_error("mini-initramfs: mkdir", path, e);
	return 0;
}

static int stage_file(const char *stage, const char *src, const char *dst, mode_t mode)
{
	char full[PATH_MAX], dir[PATH_MAX];
	char *slash;
	int e;

	e = path_join(full, sizeof(full), stage, dst);
	if (e < 0)
		return e;
	fmt_path(dir, sizeof(dir), "%s", full);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		e = mkdir_p(dir, 0755);
		if (e < 0)
			return e;
	}
	if (access(full, F_OK) == 0)
		return 0;
	return copy_file(src, full, mode);
}

/* What to copy for path, a file of the system the pair is for: with
 * --root, path as the tree sees it, resolved beneath the tree (a link
 * in the tree never leads the copy out of it). */
static int system_file(const struct plan *p, const char *path, char *out, size_t size)
{
	if (!p->root[0])
		return str_copy(out, size, path);
	return sysroot_resolve(p->root, path, out, size);
}

/* A module file of the plan (a path under p->moddir) as system_file. */
static int module_file(const struct plan *p, const char *path, char *out, size_t size)
{
	char in_tree[PATH_MAX];

	if (!p->root[0])
		return str_copy(out, size, path);
	if (fmt_path(in_tree, sizeof(in_tree), "/lib/modules/%s%s", p->kver,
		     path + strlen(p->moddir)) < 0)
		return -ENAMETOOLONG;
	return sysroot_resolve(p->root, in_tree, out, size);
}

static int stage_program(const char *stage, const struct plan *p)
{
	char src[PATH_MAX];
	int e;

	e = stage_file(stage, p->boot_program, "/init", 0755);
	if (e < 0)
		return log_step_error("mini-initramfs: copy the boot program", p->boot_program, e);
	for (size_t i = 0; i < p->libs.n; i++) {
		/* copied under the path the loader asks for, symlinks resolved */
		e = system_file(p, p->libs.v[i], src, sizeof(src));
		if (e == 0)
			e = stage_file(stage, src, p->libs.v[i], 0755);
		if (e < 0)
			return log_step_error("mini-initramfs: copy library", p->libs.v[i], e);
		log_debug("mini-initramfs: library %s", p->libs.v[i]);
	}
	return 0;
}

static int add_name_list(struct modset *set, const char *moddir, const char *list, const char *why)
{
	char *copy = strdup(list ? list : ""), *save = NULL;
	int e = 0;

	if (!copy)
		return -ENOMEM;
	for (char *n = strtok_r(copy, ", \t", &save); n && e == 0;
	     n = strtok_r(NULL, ", \t", &save)) {
		log_debug("mini-initramfs: module %s (%s)", n, why);
		e = modset_add(set, moddir, n, true, why);
	}
	free(copy);
	return e;
}

/* Where distributions keep the kernel's config (moddir is
 * /lib/modules/KVER): Fedora and Arch beside the modules, Debian (and
 * Fedora) in /boot, a kernel built here in its build tree. */
static int read_kernel_config(const char *moddir, const char *kconfig_dir, char **text, char *path,
			      size_t size)
{
	const char *kver = strrchr(moddir, '/') ? strrchr(moddir, '/') + 1 : moddir;
	const char *const places[][3] = {
		{ moddir, "/config", "" },
		{ kconfig_dir, "/config-", kver },
		{ moddir, "/build/.config", "" },
	};
	size_t len;
	int e = -ENOENT;

	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]) && e == -ENOENT; i++)
		if (places[i][0][0] &&
		    fmt_path(path, size, "%s%s%s", places[i][0], places[i][1], places[i][2]) == 0)
			e = read_file_alloc(path, text, &len);
	return e;
}

/* A FAT mount looks its code page and I/O charset up by name (fs/fat's
 * load_nls: request_module("nls_cp437")), and the mini-initramfs has no
 * modprobe for the kernel to run: the modules the kernel's defaults
 * name go in, and into the names the boot program loads itself. Without
 * the kernel's config, the usual defaults. */
static int add_fat_nls(struct modset *set, const char *moddir, const char *kconfig_dir)
{
	static const char *const usual[] = { "nls_cp437", "nls_ascii", "nls_iso8859-1",
					     "nls_utf8" };
	struct strv names = { 0 };
	char path[PATH_MAX], why[PATH_MAX + 64];
	char *text = NULL;
	int e;

	e = read_kernel_config(moddir, kconfig_dir, &text, path, sizeof(path));
	if (e == 0) {
		e = kconfig_fat_nls(text, &names);
		free(text);
		if (e < 0)
			return log_step_error("mini-initramfs: kernel config", path, e);
		fmt_path(why, sizeof(why), "a FAT default code page or charset (%s)", path);
	}
	if (e <= 0) {
		log_debug("mini-initramfs: no FAT defaults in the kernel's config, the usual nls "
			  "modules");
		for (size_t i = 0; i < sizeof(usual) / sizeof(usual[0]) && e >= 0; i++)
			e = strv_add(&names, usual[i]);
		fmt_path(why, sizeof(why), "a usual FAT code page or charset");
	}
	for (size_t i = 0; i < names.n && e >= 0; i++) {
		e = modset_add(set, moddir, names.v[i], false, why);
		if (e == 0 && !strv_contains(&set->absent, names.v[i]) &&
		    !strv_contains(&set->preload, names.v[i]))
			e = strv_add(&set->preload, names.v[i]);
	}
	strv_free(&names);
	return e < 0 ? e : 0;
}

int mini_resolve_modules(const char *moddir, const char *kconfig_dir, const struct config *cfg,
			 enum boot_module_set sets, const char *add_modules, struct modset *set)
{
	char fs_why[CONFIG_VALUE_MAX + 32];
	int e = 0;

	for (const struct boot_module *m = boot_modules; m->name && e == 0; m++)
		if (m->set & sets)
			e = modset_add(set, moddir, m->name, m->required,
				       m->set == BOOT_MODULES_MOUNT
					       ? "what the image is mounted with"
					       : "a usual boot device's driver");
	if (e == 0 && cfg->bootfstype[0]) {
		char alias[CONFIG_VALUE_MAX + 4];

		/* the file system's module, by its name or its "fs-" alias */
		fmt_path(alias, sizeof(alias), "fs-%s", cfg->bootfstype);
		fmt_path(fs_why, sizeof(fs_why), "the boot file system (%s)", cfg->bootfstype);
		e = modset_add(set, moddir, cfg->bootfstype, false, fs_why);
		if (e == 0 && strv_contains(&set->absent, cfg->bootfstype))
			e = modset_add(set, moddir, alias, true, fs_why);
		if (e == 0 &&
		    (strcmp(cfg->bootfstype, "vfat") == 0 || strcmp(cfg->bootfstype, "msdos") == 0))
			e = add_fat_nls(set, moddir, kconfig_dir);
	} else if (e == 0) {
		log_warning("mini-initramfs: bootfstype is unknown: no file system module for the "
			    "boot file system (set bootfstype in the config)");
	}
	if (e == 0)
		e = add_name_list(set, moddir, cfg->modules, "the config's modules");
	if (e == 0)
		e = add_name_list(set, moddir, add_modules, "--add-modules");
	return e;
}

/* modules.order, cut down to the modules staged: libkmod and depmod use it
 * only to order what is there. */
static int stage_order(const char *stage, const char *kver, const char *moddir,
		       const struct modset *set)
{
	char src[PATH_MAX], dst[PATH_MAX], full[PATH_MAX];
	char *text = NULL, *save = NULL, *out;
	size_t len = 0, used = 0;
	int e;

	e = fmt_path(src, sizeof(src), "%s/modules.order", moddir);
	if (e < 0)
		return log_step_error("mini-initramfs: modules.order", moddir, e);
	e = read_file_alloc(src, &text, &len);
	if (e == -ENOENT)
		return 0;
	if (e < 0)
		return log_step_error("mini-initramfs: read", src, e);
	out = malloc(len + 2);
	if (!out) {
		free(text);
		return log_step_error("mini-initramfs: modules.order", src, -ENOMEM);
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (fmt_path(full, sizeof(full), "%s/%s", moddir, line) < 0 ||
		    !strv_contains(&set->files, full))
			continue;
		used += (size_t)sprintf(out + used, "%s\n", line);
	}
	e = fmt_path(dst, sizeof(dst), "%s/lib/modules/%s/modules.order", stage, kver);
	if (e == 0)
		e = write_file_atomic(dst, out, used, 0644);
	if (e < 0)
		log_step_error("mini-initramfs: write", dst, e);
	free(out);
	free(text);
	return e;
}

/* A .ko.xz, .ko.zst or .ko.gz, decompressed with libarchive's raw
 * reader: then the boot program needs neither a decompressor nor a kernel
 * that takes compressed modules. dst is new (the stage is ours). */
static int stage_decompressed(const char *src, const char *dst, mode_t mode)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	char buf[65536];
	int fd = -1, e = 0;
	la_ssize_t n;

	if (!a)
		return -ENOMEM;
	if (archive_read_support_filter_all(a) != ARCHIVE_OK ||
	    archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open_filename(a, src, sizeof(buf)) != ARCHIVE_OK ||
	    archive_read_next_header(a, &entry) != ARCHIVE_OK) {
		log_error("mini-initramfs: decompress %s: %s", src, archive_error_string(a));
		archive_read_free(a);
		return -EIO;
	}
	fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		e = -errno;
	while (e == 0 && (n = archive_read_data(a, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			log_error("mini-initramfs: decompress %s: %s", src,
				  archive_error_string(a));
			e = -EIO;
			break;
		}
		e = write_all(fd, buf, (size_t)n);
	}
	if (fd >= 0 && close(fd) < 0 && e == 0)
		e = -errno;
	archive_read_free(a);
	if (e < 0 && fd >= 0)
		unlink(dst);
	return e;
}

static int stage_module(const char *stage, const char *src, const char *dst)
{
	char full[PATH_MAX], dir[PATH_MAX];
	size_t len = kmod_stored_len(dst);
	int e;

	if (len == strlen(dst))
		return stage_file(stage, src, dst, 0644);
	e = fmt_path(full, sizeof(full), "%s%.*s", stage, (int)len, dst);
	if (e == 0)
		e = fmt_path(dir, sizeof(dir), "%s", full);
	if (e < 0)
		return e;
	*strrchr(dir, '/') = '\0';
	e = mkdir_p(dir, 0755);
	if (e == 0 && access(full, F_OK) == 0)
		return 0;
	return e < 0 ? e : stage_decompressed(src, full, 0644);
}

/* What the boot program loads modules from (common/modplan.h). */
static int stage_plan(const char *stage, const struct plan *p)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int e;

	e = modset_plan_text(&p->modules, p->moddir, &text, &len);
	if (e < 0)
		return e;
	e = fmt_path(path, sizeof(path), "%s/lib/modules/%s/%s", stage, p->kver, MODPLAN_FILE);
	if (e == 0)
		e = write_file_atomic(path, text, len, 0644);
	free(text);
	if (e < 0)
		return log_step_error("mini-initramfs: write", MODPLAN_FILE, e);
	return 0;
}

static int stage_modules(const char *stage, const struct plan *p)
{
	const struct modset *set = &p->modules;
	const char *argv[16];
	char dst[PATH_MAX], src[PATH_MAX], confdir[PATH_MAX];
	size_t len = strlen(p->moddir);
	int e;

	for (size_t i = 0; i < set->files.n; i++) {
		const char *path = set->files.v[i];

		if (strncmp(path, p->moddir, len) != 0 || path[len] != '/') {
			log_error("mini-initramfs: module %s is outside %s", path, p->moddir);
			return -EINVAL;
		}
		fmt_path(dst, sizeof(dst), "/lib/modules/%s%s", p->kver, path + len);
		e = module_file(p, path, src, sizeof(src));
		if (e == 0)
			e = stage_module(stage, src, dst);
		if (e < 0)
			return log_step_error("mini-initramfs: copy module", path, e);
		log_debug("mini-initramfs: module %s (%s)", path + len + 1, set->why.v[i]);
	}
	for (size_t i = 0; module_meta[i]; i++) {
		char meta[PATH_MAX];

		fmt_path(meta, sizeof(meta), "%s/%s", p->moddir, module_meta[i]);
		if (module_file(p, meta, src, sizeof(src)) < 0 || access(src, F_OK) < 0)
			continue;
		fmt_path(dst, sizeof(dst), "/lib/modules/%s/%s", p->kver, module_meta[i]);
		e = stage_file(stage, src, dst, 0644);
		if (e < 0)
			return log_step_error("mini-initramfs: copy", src, e);
	}
	e = stage_order(stage, p->kver, p->moddir, set);
	if (e == 0)
		e = stage_plan(stage, p);
	if (e < 0)
		return e;
	fmt_path(confdir, sizeof(confdir), "%.*s/depmod.d", (int)(strrchr(stage, '/') - stage),
		 stage);
	e = mkdir_p(confdir, 0755);
	if (e < 0)
		return log_step_error("mini-initramfs: mkdir", confdir, e);
	plan_depmod_argv(p, confdir, stage, argv);
	e = run_command(argv, -1, -1);
	if (e < 0)
		log_error("mini-initramfs: depmod failed in %s", stage);
	return e;
}

static int stage_release(const char *stage)
{
	static const char text[] =
		"NAME=\"initoverlayfs\"\n"
		"ID=initoverlayfs\n"
		"VERSION_ID=" IOFS_VERSION "\n"
		"PRETTY_NAME=\"initoverlayfs " IOFS_VERSION " mini-initramfs\"\n";
	char path[PATH_MAX];
	int e;

	e = path_join(path, sizeof(path), stage, "/etc/initrd-release");
	if (e == 0)
		e = write_file_atomic(path, text, strlen(text), 0644);
	return e;
}

int mini_stage(const char *work, const struct plan *p, struct mini_info *info)
{
	struct tree t;
	int e;

	memset(info, 0, sizeof(*info));
	e = path_join(info->stage, sizeof(info->stage), work, "/mini");
	if (e < 0)
		return log_step_error("mini-initramfs", work, e);
	log_info("staging the mini-initramfs (boot program %s, modules of %s)", p->boot_program,
		 p->moddir);
	for (size_t i = 0; base_dirs[i] && e == 0; i++)
		e = stage_dir(info->stage, base_dirs[i]);
	for (const struct mount_point *m = mount_points; m->key && e == 0; m++)
		e = stage_dir(info->stage, m->path);
	if (e == 0)
		e = stage_program(info->stage, p);
	if (e == 0)
		e = stage_modules(info->stage, p);
	if (e == 0) {
		e = stage_release(info->stage);
		if (e < 0)
			log_step_error("mini-initramfs: write", "/etc/initrd-release", e);
	}
	if (e < 0)
		return e;
	e = tree_list(info->stage, &t);
	if (e < 0)
		return log_step_error("mini-initramfs: list", info->stage, e);
	info->bytes = tree_bytes(&t);
	tree_free(&t);
	return 0;
}

int mini_add_config(const char *stage, const struct config *cfg, const char *image_ref)
{
	struct config copy = *cfg;
	char path[PATH_MAX], text[8192];
	int e;

	e = str_copy(copy.fs, sizeof(copy.fs), image_ref);
	if (e == 0)
		e = config_format(&copy, text, sizeof(text));
	if (e == 0)
		e = path_join(path, sizeof(path), stage, CONFIG_DEFAULT_PATH);
	/* the cpio entry gets 0644 from pack.c, whatever the staged mode */
	if (e == 0)
		e = write_file_atomic(path, text, strlen(text), PRIVATE_FILE_MODE);
	return e;
}

int mini_pack_list(const char *stage, struct pack_list *list)
{
	int e;

	e = pack_add_tree(list, stage);
	if (e == 0)
		e = pack_add_node(list, "dev/console", S_IFCHR | 0600, makedev(5, 1));
	if (e == 0)
		e = pack_add_node(list, "dev/null", S_IFCHR | 0666, makedev(1, 3));
	return e;
}
