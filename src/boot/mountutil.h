/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Creates path and missing parents with mode; an existing directory is
 * fine. Returns 0 or a negative errno. */
int mkdir_parents(const char *path, mode_t mode);

/* mount(2) returning 0 or a negative errno. */
int mount_fs(const char *source, const char *target, const char *fstype, unsigned long flags,
	     const char *data);

/* MS_MOVE of source onto target, creating target first; under a shared
 * parent (systemd), a recursive bind and a lazy unmount of source. */
int move_mount_to(const char *source, const char *target);

/* 1 when path is the root of a mount, 0 when not, or a negative errno. */
int is_mount_point(const char *path);
