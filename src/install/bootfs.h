/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <sys/types.h>

/* The file system that holds the boot directory: where it is mounted,
 * which device it is, and where the boot directory sits inside it (the
 * path the boot program sees after mounting that file system at /boot). */

struct bootfs_info {
	char boot_dir[PATH_MAX];   /* canonical path of the boot directory */
	char mountpoint[PATH_MAX]; /* mount point holding it */
	char rel_dir[PATH_MAX];	   /* boot dir inside the file system: "" or "/boot" */
	char fstype[64];
	char source[PATH_MAX]; /* mount source as in mountinfo */
	char device[PATH_MAX]; /* block device node, "" when not a block device */
	char uuid[64];	       /* file system UUID, after bootfs_probe() */
	dev_t dev;
};

/* Reads /proc/self/mountinfo with libmount (mountinfo may name another
 * file in the same format, for tests). Returns 0 or a negative errno
 * (nothing logged): -ENOENT when no mount point holds boot_dir. */
int bootfs_locate(const char *boot_dir, const char *mountinfo, struct bootfs_info *info);

/* Reads the UUID of info->device with libblkid. -ENODEV when the file
 * system is not on a block device, -ENODATA when it has no UUID. */
int bootfs_probe(struct bootfs_info *info);
