/* SPDX-License-Identifier: MIT */
#pragma once

/* Checks that init is an executable file inside new_root, resolving
 * symlinks as they will resolve after the switch. */
int switchroot_check_init(const char *new_root, const char *init);

/* Makes new_root the root: move it onto /, chroot into it, and free the
 * old initramfs (ramfs/tmpfs) contents without crossing mount points.
 * Only the old root's contents are at stake, so a failure to delete is
 * reported through *cleanup_errors, not returned. */
int switchroot(const char *new_root, unsigned *cleanup_errors);
