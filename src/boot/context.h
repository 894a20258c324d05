/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
/* The mount points, relative to the context root. */
#include "common/mountpoints.h"

enum boot_mode {
	BOOT_MODE_INIT,	   /* PID 1 of the mini-initramfs */
	BOOT_MODE_SYSTEMD, /* a oneshot service; systemd switches root */
};

struct boot_context {
	enum boot_mode mode;
	/* Prefix for the mini-initramfs' own files (config, mount points);
	 * "" at boot. /proc, /sys and /dev are never prefixed. */
	const char *root;
	const char *config_path;      /* NULL: CONFIG_DEFAULT_PATH under root */
	const char *cmdline_override; /* NULL: read /proc/cmdline */
	bool image_mount_forced;
	enum image_mount image_mount_option;

	char kernel_release[65];
	char cmdline[4096];
	struct config cfg;

	/* Filled in by the steps as they go. */
	char boot_device[PATH_MAX];
	char boot_fstype[CONFIG_VALUE_MAX];
	bool boot_mounted;
	char image_path[PATH_MAX];
	char loop_device[64];
	char verity_device[64]; /* /dev/dm-N when the image is verified */
	bool image_file_backed;
	bool overlay_volatile;
	/* What is still mounted where the steps put it, for undoing them. */
	bool lower_mounted; /* the image at LOWER_DIR */
	bool upper_mounted; /* the upper tmpfs at UPPER_DIR */

	int argc;
	char **argv; /* forwarded to the next init */
};

/* root + path into out; -ENAMETOOLONG when it does not fit. */
int ctx_path(const struct boot_context *ctx, char *out, size_t size, const char *path);
