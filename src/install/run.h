/* SPDX-License-Identifier: MIT */
#pragma once

/* The state of one initoverlayfs-install run, shared by its parts:
 * preflight.c (checks and config, before anything is written), source.c
 * (the full initrd content), image.c (the EROFS image), initramfs.c (the
 * mini-initramfs) and install.c (the order of it all). */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "install/bootfs.h"
#include "install/install.h"
#include "install/kver.h"
#include "install/mini.h"
#include "common/config.h"

#define IMAGE_HASH_HEX 16
#define SPACE_MARGIN   (1024ULL * 1024)

enum source_kind {
	SOURCE_DRACUT,
	SOURCE_INITRAMFS_TOOLS,
	SOURCE_IMAGE,
	SOURCE_DIR,
};

extern const char *const source_names[];

struct run {
	const struct options *o;
	enum source_kind source;
	char kver[KVER_MAX + 1];
	char boot_dir[PATH_MAX];
	char moddir[PATH_MAX];
	char config_path[PATH_MAX];
	char output[PATH_MAX];
	char boot_program[PATH_MAX];
	char work[PATH_MAX];
	char full_image[PATH_MAX]; /* generated or given initramfs */
	char tree[PATH_MAX];	   /* full content */
	char stage[PATH_MAX];	   /* mini-initramfs tree */
	char erofs_compression[CONFIG_VALUE_MAX];
	char initramfs_compression[32]; /* zstd, xz, gzip, lz4 or none */
	char initramfs_level[8];	/* "" for the default */
	struct config cfg;
	struct bootfs_info bootfs;
	bool have_bootfs;
	bool config_generated;
	int lock_fd;	  /* flock on the boot directory */
	int work_lock_fd; /* flock in the work directory */
	char image_tmp[PATH_MAX];
	char initramfs_tmp[PATH_MAX];
	char image_name[NAME_MAX + 1];
	char image_path[PATH_MAX];
	char image_ref[CONFIG_PATH_MAX]; /* fs value: path inside the boot fs */
	uint64_t full_size, tree_size, image_size, mini_size, stage_size;
	uint64_t verity_tree_size; /* bytes of hash tree appended to the image */
	struct mini_info mini;
	uint64_t t_start;
	char full_compression[16];
};

/* Narration: stdout in a dry run, the info log otherwise. */
__attribute__((format(printf, 2, 3))) void say(const struct run *r, const char *fmt, ...);
void say_command(const struct run *r, const char *const argv[]);
/* Runs a tool (only shows it in a dry run). */
int run_tool(const struct run *r, const char *const argv[], int in_fd, int out_fd);
const char *size_str(uint64_t bytes, char *buf, size_t size);

/* preflight.c: every check before the boot directory is touched */
int resolve_kver(struct run *r);
int check_moddir(struct run *r);
int check_boot_dir(struct run *r);
int choose_output(struct run *r);
int check_source(struct run *r);
int check_tools(struct run *r);
int check_boot_program(struct run *r);
int load_config(struct run *r);
int check_compressions(struct run *r);
int write_config(struct run *r);

/* source.c */
int make_work_dir(struct run *r);
int get_full_content(struct run *r);
int check_space(struct run *r);
/* The mini-initramfs' config for an initramfs-tools full initrd: its /init
 * as the next init (unless 'init' is not the default) and a tmpfs root (its
 * run-init refuses any other root). Changes r->cfg after the host config is
 * written, so only the mini-initramfs carries it. */
void adapt_config_to_full(struct run *r);

/* image.c */
int make_image(struct run *r);

/* initramfs.c */
int make_initramfs(struct run *r);
