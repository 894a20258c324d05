/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The tmpfs root (config 'newroot tmpfs'): some switch tools of a full
 * initrd (initramfs-tools' klibc run-init, busybox switch_root) refuse to
 * run unless / is a ramfs or tmpfs, and an overlay is neither. new_root
 * gets a tmpfs whose top-level entries are those of the overlay at
 * merged: directories are bind mounts of the overlay's, symlinks, files
 * and device nodes are copied (a top level holds little besides /init).
 */
struct newroot_stats {
	unsigned bound;	 /* directories bind-mounted from the overlay */
	unsigned copied; /* other entries copied */
};

/* Returns 0 or a negative errno with *failed_path naming the entry; on
 * failure nothing stays mounted at new_root. */
int newroot_tmpfs(const char *merged, const char *new_root, struct newroot_stats *stats,
		  const char **failed_path);
