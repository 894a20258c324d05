/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Mounts a tmpfs at upper_base (with upper/ and work/ in it) and the
 * overlay of lower_dir under it at new_root, "volatile" where the kernel
 * accepts it (no syncs: the upper layer dies with the boot anyway). */
int overlay_mount(const char *lower_dir, const char *upper_base, const char *new_root,
		  bool *is_volatile, const char **failed_path);
