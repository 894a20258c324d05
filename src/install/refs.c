/* SPDX-License-Identifier: MIT */
/* Which image each installed initramfs boots (refs.h). */
#include "install/refs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "install/fsutil.h"
#include "install/unpack.h"
#include "common/config.h"
#include "common/log.h"

#define CONFIG_ENTRY	"etc/initoverlayfs.conf"
#define CONFIG_TEXT_MAX (64 * 1024)

int initramfs_image_ref(const char *initramfs, const char *kver, char *fs, size_t size)
{
	char *text = malloc(CONFIG_TEXT_MAX);
	struct config cfg;
	struct config_error err;
	enum log_level level = log_get_max_level();
	int e;

	if (!text)
		return -ENOMEM;
	e = initramfs_read_file(initramfs, CONFIG_ENTRY, text, CONFIG_TEXT_MAX, NULL);
	if (e == 0) {
		config_init(&cfg, kver ? kver : "");
		/* a foreign config's unknown keys are not this run's warnings */
		log_set_max_level(LOG_LEVEL_ERR);
		e = config_parse_text(&cfg, text, initramfs, &err);
		log_set_max_level(level);
	}
	free(text);
	if (e < 0)
		return e;
	if (!cfg.fs[0])
		return -ENOENT;
	return fmt_path(fs, size, "%s", cfg.fs);
}

/* path with every run of '/' folded to one */
static void fold_slashes(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		if (*in != '/' || n == 0 || out[n - 1] != '/')
			out[n++] = *in;
	out[n] = '\0';
}

/* The kernel release in an initramfs' name, for the config's default fs:
 * initrd.img-KVER, initramfs-KVER.img. "" when the name is neither. */
static void kver_of(const char *name, char *kver, size_t size)
{
	size_t len = strlen(name);

	kver[0] = '\0';
	if (strncmp(name, "initrd.img-", 11) == 0)
		fmt_path(kver, size, "%s", name + 11);
	else if (strncmp(name, "initramfs-", 10) == 0 && len > 14 &&
		 strcmp(name + len - 4, ".img") == 0)
		fmt_path(kver, size, "%.*s", (int)(len - 14), name + 10);
}

static bool is_initramfs_name(const char *name)
{
	size_t len = strlen(name);

	if (len > 9 && strcmp(name + len - 9, ".dpkg-bak") == 0)
		return false;
	return (strncmp(name, "initrd.img-", 11) == 0 && len > 11) ||
	       (strncmp(name, "initramfs-", 10) == 0 && len > 14 &&
		strcmp(name + len - 4, ".img") == 0);
}

static int add_ref(struct strv *refs, const char *path, const char *name)
{
	char fs[CONFIG_PATH_MAX], folded[CONFIG_PATH_MAX], kver[NAME_MAX + 1];
	int e;

	kver_of(name, kver, sizeof(kver));
	e = initramfs_image_ref(path, kver, fs, sizeof(fs));
	if (e < 0) {
		log_debug("%s refers to no image (%s)", path, errno_name(-e));
		return 0;
	}
	log_debug("%s refers to %s", path, fs);
	fold_slashes(fs, folded, sizeof(folded));
	if (strv_contains(refs, folded))
		return 0;
	return strv_add(refs, folded);
}

int boot_dir_image_refs(const char *boot_dir, const char *extra, struct strv *refs)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(boot_dir);
	int e = 0;

	if (!d)
		return log_step_error("list the initramfs files of", boot_dir, -errno);
	errno = 0;
	while (e == 0 && (de = readdir(d))) {
		if (!is_initramfs_name(de->d_name))
			continue;
		e = fmt_path(path, sizeof(path), "%s/%s", boot_dir, de->d_name);
		if (e == 0 && (!extra || strcmp(path, extra) != 0))
			e = add_ref(refs, path, de->d_name);
		errno = 0;
	}
	if (e == 0 && errno)
		e = -errno;
	closedir(d);
	if (e == 0 && extra)
		e = add_ref(refs, extra, strrchr(extra, '/') ? strrchr(extra, '/') + 1 : extra);
	return e < 0 ? log_step_error("list the initramfs files of", boot_dir, e) : 0;
}

bool image_ref_in(const struct strv *refs, const char *ref)
{
	char folded[CONFIG_PATH_MAX];

	fold_slashes(ref, folded, sizeof(folded));
	return strv_contains(refs, folded);
}
