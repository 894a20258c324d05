/* SPDX-License-Identifier: MIT */
#pragma once

/* The directories of the mini-initramfs the boot program mounts on. The
 * installer creates them (src/install/mini.c); the dracut module and the
 * initramfs-tools hook and boot script ask `initoverlayfs
 * --print-mount-points` for them. */
#define BOOT_DIR     "/boot"	      /* the boot file system */
#define LOWER_DIR    "/initrofs"      /* the EROFS image, read-only */
#define UPPER_DIR    "/overlay"	      /* the tmpfs of the upper layer */
#define NEW_ROOT_DIR "/initoverlayfs" /* the overlay: the next root */
/* newroot tmpfs: the overlay goes here, NEW_ROOT_DIR is the tmpfs root.
 * Made at boot inside the tmpfs, not a directory of the mini-initramfs. */
#define MERGED_DIR UPPER_DIR "/root"

struct mount_point {
	const char *key; /* the name --print-mount-points gives it */
	const char *path;
};

/* BOOT_DIR ("boot"), LOWER_DIR ("lower"), UPPER_DIR ("upper") and
 * NEW_ROOT_DIR ("root"), in that order; ends with { NULL, NULL }. */
extern const struct mount_point mount_points[];
