/* SPDX-License-Identifier: MIT */
#pragma once

/* Carrying out a plan (plan.h): the stages of install.c, each taking the
 * plan and what the stages before it made, and adding its own results:
 * source.c (the full initrd content, the space check), mini.c (the
 * staged mini-initramfs), image.c (the EROFS image), initramfs.c (the
 * mini-initramfs). A stage logs what it does and, on failure, one line
 * with what failed, and returns a negative errno. */

#include <limits.h>
#include <stdint.h>

#include "install/mini.h"
#include "install/plan.h"
#include "common/config.h"

#define SPACE_MARGIN (1024ULL * 1024)

struct run {
	const struct plan *p;
	int lock_fd;	  /* flock on the boot directory */
	int work_lock_fd; /* flock in the work directory */
	char work[PATH_MAX];
	char full_image[PATH_MAX]; /* generated or given initramfs */
	char tree[PATH_MAX];	   /* full content */
	char full_compression[16];
	struct mini_info mini;
	/* the plan's config, with what the full initrd and the image add */
	struct config cfg;
	char image_tmp[PATH_MAX];
	char initramfs_tmp[PATH_MAX];
	char image_name[NAME_MAX + 1];
	char image_path[PATH_MAX];
	char image_ref[CONFIG_PATH_MAX]; /* fs value: path inside the boot fs */
	uint64_t full_size, tree_size, image_size, mini_size;
	uint64_t verity_tree_size; /* bytes of hash tree appended to the image */
};

/* source.c */
int make_work_dir(struct run *r);
int get_full_content(struct run *r);
int check_space(struct run *r);
/* The mini-initramfs' config for the full initrd: its /init as the next
 * init when 'init' is the default (-ENOENT, logged, when neither that
 * nor the configured init is an executable in it) and, for initramfs-
 * tools, a tmpfs root (its run-init refuses any other root). Changes
 * r->cfg, so only the mini-initramfs carries it. */
int adapt_config_to_full(struct run *r);

/* image.c */
int make_image(struct run *r);

/* initramfs.c */
int make_initramfs(struct run *r);
