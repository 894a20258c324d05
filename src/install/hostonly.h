/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "install/elfdeps.h"

/* --hostonly: the drivers of the device chain that holds the boot file
 * system, read from sysfs the way udev would load them. From the block
 * device (SYSFS/dev/block/MAJ:MIN, resolved) up to SYSFS/devices, each
 * device's modalias (a pattern libkmod resolves against the target
 * kernel's aliases) and the module of its bound driver (driver/module) are
 * wanted, in that order, each once. For a partition the chain goes
 * through its disk.
 *
 * A loop device is its own chain: nothing is wanted (loop is in every
 * mini-initramfs). Any other virtual block device (device-mapper, md,
 * zram, nbd) is -EMEDIUMTYPE: the boot program cannot assemble it, so no
 * chain of drivers makes /boot mountable. A device number sysfs does not
 * know as a block device (btrfs, tmpfs, NFS) is -ENODEV.
 *
 * names gets the wanted names, why the chain's device for each (a path
 * under SYSFS/devices). On failure *device holds what was looked at.
 * Nothing is logged. */
int hostonly_chain(const char *sysfs, dev_t dev, struct strv *names, struct strv *why, char *device,
		   size_t device_size);
