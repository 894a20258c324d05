/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/bootspec.h"

/* Finding the boot filesystem's block device with libblkid. */

struct bootdev_match {
	char device[4096];
	char fstype[256]; /* as probed; "" when unknown */
};

/* The devices one scan found carrying a spec: the first
 * BOOTDEV_FOUND_MAX of them are kept, n counts them all. */
#define BOOTDEV_FOUND_MAX 8

struct bootdev_found {
	unsigned n;
	struct {
		char device[NAME_MAX + 6]; /* "/dev/" and a /sys/class/block name */
		char fstype[64];
		dev_t rdev;
	} dev[BOOTDEV_FOUND_MAX];
};

/* Checks one device against spec. 1: it matches, 0: it does not (or
 * cannot be probed), negative errno on a bad argument. */
int bootdev_probe(const char *device, const struct bootspec *spec, struct bootdev_match *match);

/* Which of the found devices is the boot device: the only one, or, when
 * there are several, the one hint_rdev is (0: no usable hint). Returns its
 * index, -ENOENT when none was found, -ENOTUNIQ when several were and the
 * hint is none of them. */
int bootdev_choose(const struct bootdev_found *found, dev_t hint_rdev);

/* "/dev/vda1 and /dev/vdb1", "/dev/a, /dev/b and 3 more" into out
 * (truncated to size). */
void bootdev_format_found(const struct bootdev_found *found, char *out, size_t size);

/* Mount data for a boot filesystem of type fstype, NULL for none. FAT
 * has no owners or modes: without umask= it takes the mounting process'
 * umask and shows the image (0600 where modes exist) to everyone. */
const char *bootdev_mount_data(const char *fstype);

/* One pass: the hint first (may be NULL or ""): if it carries spec, it is
 * the boot device and nothing else is probed. Otherwise every block device
 * in /sys/class/block is probed, and a spec only one of them carries
 * names that one. 1: found, 0: not present (yet), -ENOTUNIQ: several
 * devices carry spec and the hint is none of them (found lists them),
 * another negative errno on a bad argument. */
int bootdev_find(const struct bootspec *spec, const char *hint, struct bootdev_match *match,
		 struct bootdev_found *found);
