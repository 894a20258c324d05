/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"

struct image_mount_result {
	bool file_backed;
	char loop_device[64]; /* "" when file-backed */
};

/* Mounts the image file read-only at target: straight from the file where
 * the kernel can (EROFS file-backed mounts, Linux >= 6.12) and mode allows,
 * else through a loop device. *failed_path names what failed. */
int image_mount(const char *image_path, const char *target, const char *fstype,
		enum image_mount mode, struct image_mount_result *result, const char **failed_path);

/* Attaches the image file to a read-only, auto-clearing loop device (for
 * a layer such as dm-verity in between). Returns the open loop device's fd
 * (keep it until its next user holds the device) with its name in device,
 * or a negative errno; *failed_path names what failed. */
int image_attach_loop(const char *image_path, char *device, size_t size, const char **failed_path);
