/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "common/bootspec.h"

/* Finding the boot filesystem's block device with libblkid. */

struct bootdev_match {
	char device[4096];
	char fstype[256]; /* as probed; "" when unknown */
};

/* Checks one device against spec. 1: it matches, 0: it does not (or
 * cannot be probed), negative errno on a bad argument. */
int bootdev_probe(const char *device, const struct bootspec *spec, struct bootdev_match *match);

/* One pass: the hint first (may be NULL or ""), then every block device
 * in /sys/class/block. 1: found, 0: not present (yet). */
int bootdev_find(const struct bootspec *spec, const char *hint, struct bootdev_match *match);
