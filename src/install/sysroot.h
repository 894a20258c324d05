/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* A system that is not the running one (--root DIR): its paths looked up
 * the way its own programs will see them, and the chroot its own
 * programs (its dynamic loader, its initrd generator) run in.
 *
 * Paths are resolved with openat2(RESOLVE_IN_ROOT): an absolute symlink
 * in the tree (a usr-merged /lib -> /usr/lib) means the tree's /usr/lib,
 * ".." stops at DIR, and nothing leads out of it. */

/* path (absolute, as the tree sees it) opened beneath root with flags
 * (O_CLOEXEC added), resolved the same way. A descriptor or a negative
 * errno (nothing logged). */
int sysroot_open(const char *root, const char *path, int flags);

/* The host path of path (absolute, as the tree sees it), every symlink
 * resolved beneath root (itself a canonical path). 0 or a negative errno
 * (nothing logged). */
int sysroot_resolve(const char *root, const char *path, char *out, size_t size);

/* The tree's program name: the first of its usual PATH directories that
 * holds an executable regular file of that name. out is the path inside
 * the tree. 0 or -ENOENT (nothing logged). */
int sysroot_find_tool(const char *root, const char *name, char *out, size_t size);

/* The kernel release under root/lib/modules when there is exactly one.
 * 0; -ENOENT with *count 0 (none), -ENOTUNIQ with *count above 1. */
int sysroot_only_kernel(const char *root, char *kver, size_t size, unsigned *count);

/* In a child about to exec a program of the tree: a mount namespace of
 * its own (every mount below ends with the child, whatever happens: a
 * failed generator leaves none behind), then chroot into root. With a
 * work directory (a generator's run): work bound over the tree's /tmp
 * (where the generator writes its image and its temporary files), and
 * inside the chroot a fresh proc on /proc and on /dev a tmpfs with the
 * character devices shells and generators open (null, zero, full,
 * random, urandom, tty): none of the host's block devices. Returns 0 or
 * a negative errno; *what names the step that failed. */
int sysroot_enter(const char *root, const char *work, const char **what);
