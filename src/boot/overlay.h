/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Mounts a tmpfs at upper_base (with upper/ and work/ in it) and the
 * overlay of lower_dir under it at new_root, "volatile" where the kernel
 * accepts it (no syncs: the upper layer dies with the boot anyway). On
 * failure nothing stays mounted. */
int overlay_mount(const char *lower_dir, const char *upper_base, const char *new_root,
		  bool *is_volatile, const char **failed_path);

/* Undoes overlay_mount: detaches (MNT_DETACH, with all beneath it) the
 * overlay at new_root, then the tmpfs at upper_base. Returns 0 or a
 * negative errno with *failed_path. */
int overlay_unmount(const char *upper_base, const char *new_root, const char **failed_path);

/* Detaches (MNT_DETACH) the mounts of lower_dir and upper_base once the
 * overlay is up: the overlay holds its layers itself, so they stay alive
 * as long as it does and no longer: when the next root is switched away
 * from and freed, the image (and the loop device, the boot file system
 * below it) is let go of too, instead of staying pinned by mounts left
 * beneath the old root. Returns 0 or a negative errno with *failed_path. */
int overlay_release_layers(const char *lower_dir, const char *upper_base, const char **failed_path);
