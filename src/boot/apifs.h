/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Mounts /proc, /sys, /dev (devtmpfs) and /run (tmpfs) where they are not
 * mounted yet. On failure *failed_path names the mount point. */
int apifs_mount_all(const char **failed_path);

/* Makes fds 0, 1 and 2 point at /dev/console when the kernel could not
 * open it for us (no /dev/console in the cpio). */
int console_ensure_stdio(void);

/* Moves the API filesystems beneath new_root (for the switch). */
int apifs_move_into(const char *new_root, const char **failed_path);
