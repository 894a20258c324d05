/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "install/elfdeps.h"

/* Which kernel modules go into the mini-initramfs: the wanted names
 * (module names or aliases such as "fs-ext4") resolved with libkmod
 * against the kernel's module directory, with their hard dependencies and
 * soft dependencies, recursively. Built-in modules need no file. */

struct modset {
	struct strv files;   /* absolute paths of module files */
	struct strv why;     /* for each file, why it is in */
	struct strv builtin; /* wanted names the kernel has built in */
	struct strv absent;  /* optional names this kernel does not have */
	/* Names the boot program must load itself before mounting: the
	 * kernel asks for them by name during the mount (request_module),
	 * and nothing in the mini-initramfs answers that (no modprobe). */
	struct strv preload;
};

/* Resolves one wanted name into set; why says what wants it (e.g. "boot
 * module", "--add-modules"), and each dependency is in as "needed by" the
 * module that pulled it in. A required name that is neither a module nor
 * built in is -ENOENT (logged). */
int modset_add(struct modset *set, const char *moddir, const char *name, bool required,
	       const char *why);

/* The modules of a mini-initramfs (the installer's own and, through
 * `initoverlayfs-install --print-modules`, those the dracut module and the
 * initramfs-tools hook make), by what they are for. The installer's own
 * carries mount and storage always and verity with --verity only; the
 * others carry all three, as they cannot know whether the image will have
 * a hash tree. */
enum boot_module_set {
	BOOT_MODULES_MOUNT = 1,	  /* what the boot program mounts the image with */
	BOOT_MODULES_STORAGE = 2, /* drivers of the usual boot devices */
	BOOT_MODULES_VERITY = 4,  /* what it mounts an image with a hash tree with */
	BOOT_MODULES_ALL = BOOT_MODULES_MOUNT | BOOT_MODULES_STORAGE | BOOT_MODULES_VERITY,
};

struct boot_module {
	const char *name; /* libkmod's name */
	enum boot_module_set set;
	bool required; /* the boot program cannot work without it */
};

/* Ends with { NULL }. */
extern const struct boot_module boot_modules[];

void modset_free(struct modset *set);

/* The nls modules a FAT mount with the kernel's defaults loads by name,
 * from the text of the kernel's config (/boot/config-KVER):
 * CONFIG_FAT_DEFAULT_CODEPAGE=437 gives "nls_cp437",
 * CONFIG_FAT_DEFAULT_IOCHARSET="ascii" "nls_ascii" ("iso8859-1":
 * "nls_iso8859-1", "utf8": "nls_utf8"), each added to names. Returns how
 * many were (0: no FAT in this config), or -ENOMEM. */
int kconfig_fat_nls(const char *config, struct strv *names);

/* The length of a module file's path as the mini-initramfs stores it:
 * decompressed, without ".xz", ".zst" or ".gz" after ".ko". */
size_t kmod_stored_len(const char *path);

/* The module plan (common/modplan.h) of set: each module's stored path
 * under moddir, the order it loads in with its dependencies and soft
 * dependencies, its aliases; the wanted names built in. *text is
 * allocated. 0 or -errno (logged). */
int modset_plan_text(const struct modset *set, const char *moddir, char **text, size_t *len);
