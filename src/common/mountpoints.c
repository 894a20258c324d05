/* SPDX-License-Identifier: MIT */
#include "common/mountpoints.h"

#include <stddef.h>

/* In the order the boot program mounts them. */
const struct mount_point mount_points[] = {
	{ .key = "boot", .path = BOOT_DIR },
	{ .key = "lower", .path = LOWER_DIR },
	{ .key = "upper", .path = UPPER_DIR },
	{ .key = "root", .path = NEW_ROOT_DIR },
	{ .key = NULL },
};
