/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdint.h>

#include "install/elfdeps.h"
#include "install/kmods.h"
#include "install/pack.h"
#include "common/config.h"

/* The mini-initramfs of init mode, staged as a directory tree:
 *   /init                     the boot program
 *   its interpreter and shared libraries, at the paths they were found
 *   /etc/initoverlayfs.conf   (added last: it names the image)
 *   /etc/initrd-release
 *   /proc /sys /dev /run /boot /initrofs /overlay /initoverlayfs
 *   /lib/modules/KVER         the needed modules, modules.builtin*,
 *                             modules.order and depmod's indexes
 * /dev/console and /dev/null are added when packing (no mknod needed). */

struct mini_info {
	char stage[PATH_MAX];
	uint64_t bytes; /* staged size */
};

struct plan;
struct modset;

/* The modules the mini-initramfs needs, each with why it is in: the boot
 * modules of sets (install/kmods.h), the boot file system's driver, the
 * config's modules and add_modules (comma or space separated). kconfig_dir
 * holds the kernel's config-KVER (Debian's /boot), "" for none. Logs what
 * failed. */
int mini_resolve_modules(const char *moddir, const char *kconfig_dir, const struct config *cfg,
			 enum boot_module_set sets, const char *add_modules, struct modset *set);

/* Stages the tree in WORK/mini: the plan's boot program, libraries and
 * modules. Logs what failed. */
int mini_stage(const char *work, const struct plan *p, struct mini_info *info);

/* Writes etc/initoverlayfs.conf: cfg with fs set to image_ref. */
int mini_add_config(const char *stage, const struct config *cfg, const char *image_ref);

/* The entries to pack: the staged tree plus the device nodes. */
int mini_pack_list(const char *stage, struct pack_list *list);
