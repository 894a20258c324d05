/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "install/elfdeps.h"

/* Which EROFS image an installed initramfs boots: a mini-initramfs carries
 * etc/initoverlayfs.conf, and its 'fs' key names the image's path in the
 * boot file system. An image no initramfs of the boot directory refers to
 * is stale; one that some initramfs still names (an older pair of the same
 * kernel kept under another name, the original initoverlayfs' unhashed
 * image) is kept. */

/* The fs value of the config in initramfs (read like the kernel reads it,
 * with libarchive; compressed or not), into fs. kver fills the default
 * ("/initoverlayfs-KVER.img") when the config has no fs key; NULL or ""
 * when unknown. Logs nothing: -ENOENT for an initramfs without the config
 * (a full initrd, a foreign file), another negative errno when it cannot be
 * read or the config does not parse. */
int initramfs_image_ref(const char *initramfs, const char *kver, char *fs, size_t size);

/* Appends to refs the fs value of every initramfs of boot_dir that has one
 * (initrd.img-*, initramfs-*.img, but update-initramfs' transient
 * *.dpkg-bak copy and our temporary files) and of extra (NULL: none), each
 * with its "//" folded. An initramfs that cannot be read refers to nothing.
 * Returns 0, or a negative errno when boot_dir cannot be listed or memory
 * runs out (logged). */
int boot_dir_image_refs(const char *boot_dir, const char *extra, struct strv *refs);

/* Whether refs holds the path ref (with its "//" folded). */
bool image_ref_in(const struct strv *refs, const char *ref);
