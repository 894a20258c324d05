/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "install/elfdeps.h"

/* Which kernel modules go into the mini-initramfs: the wanted names
 * (module names or aliases such as "fs-ext4") resolved with libkmod
 * against the kernel's module directory, with their hard dependencies and
 * soft dependencies, recursively. Built-in modules need no file. */

struct modset {
	struct strv files;   /* absolute paths of module files */
	struct strv builtin; /* wanted names the kernel has built in */
	struct strv absent;  /* optional names this kernel does not have */
};

/* Resolves one wanted name into set. A required name that is neither a
 * module nor built in is -ENOENT (logged). */
int modset_add(struct modset *set, const char *moddir, const char *name, bool required);

/* The storage and file system drivers every mini-initramfs carries. */
extern const char *const modset_default_names[];
/* Required ones: the boot program cannot work without them. */
extern const char *const modset_required_names[];

void modset_free(struct modset *set);
