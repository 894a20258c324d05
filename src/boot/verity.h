/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "common/config.h"

/* dm-verity between the image's loop device and the EROFS mount, set up
 * with the raw device-mapper ioctls on /dev/mapper/control (no
 * libdevmapper, no libcryptsetup: the mini-initramfs stays small). */

#define VERITY_DM_NAME "initoverlayfs"
#define VERITY_DM_UUID "INITOVERLAYFS-VERITY-IMAGE"

struct verity_device {
	char path[64]; /* /dev/dm-N */
	dev_t dev;
};

/* Creates the dm device VERITY_DM_NAME over the block device data_dev
 * (data and hash tree on it, v->hash_offset bytes apart), read-only, and
 * reads its first block through it: a wrong root hash fails here, not
 * later in the mount. On failure *stage says what failed ("create",
 * "load table", ...), nothing is left behind, and the return is a
 * negative errno. */
int verity_open(const struct config_verity *v, dev_t data_dev, struct verity_device *out,
		const char **stage);

/* Removes the dm device VERITY_DM_NAME (DM_DEV_REMOVE). */
int verity_close(void);

/* Marks VERITY_DM_NAME for removal once nothing has it open any more
 * (DM_DEV_REMOVE with DM_DEFERRED_REMOVE): after the image is mounted,
 * the device goes away with the mount, and the loop device below it
 * with the device (autoclear). */
int verity_close_deferred(void);
