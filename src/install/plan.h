/* SPDX-License-Identifier: MIT */
#pragma once

/* What one initoverlayfs-install run will do, decided before anything is
 * written: the inputs, every output with its mode, each external
 * command, the modules of the mini-initramfs and why each is in. It is
 * pure data: plan_make() only reads (options, the kernel's module
 * directory, the boot directory and its file system, the config, the
 * boot program's libraries); --dry-run prints it with plan_print(), and
 * install.c carries it out. */

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "install/bootfs.h"
#include "install/elfdeps.h"
#include "install/install.h"
#include "install/kmods.h"
#include "install/kver.h"
#include "common/config.h"

#define IMAGE_HASH_HEX 16

enum source_kind {
	SOURCE_DRACUT,
	SOURCE_INITRAMFS_TOOLS,
	SOURCE_IMAGE,
	SOURCE_DIR,
};

extern const char *const source_names[];

struct plan {
	const struct options *o;

	/* inputs */
	char root[PATH_MAX]; /* --root, canonical; "" for this system */
	char kver[KVER_MAX + 1];
	char moddir[PATH_MAX];
	char boot_dir[PATH_MAX];
	struct bootfs_info bootfs; /* valid when have_bootfs */
	bool have_bootfs;
	int bootfs_error; /* why not, from bootfs_locate */
	/* where the image is in the boot file system: "" (a file system of
	 * its own) or the boot directory's path in the root file system */
	char image_dir[PATH_MAX];
	enum config_boot_layout layout;	     /* DEFAULT: found from the mounts */
	char generator[PATH_MAX];	     /* --root: the generator's path in the tree */
	char boot_program_in_root[PATH_MAX]; /* --root: the boot program in the tree */
	enum source_kind source;
	char source_path[PATH_MAX]; /* SOURCE_IMAGE: the initramfs; SOURCE_DIR: the tree */
	char source_format[16];	    /* SOURCE_IMAGE: "cpio" or its compression */
	char config_path[PATH_MAX];
	bool config_generated; /* missing or empty: written from the boot fs */
	char boot_program[PATH_MAX];

	/* how */
	enum install_mode mode; /* --mode, else the config's, else init */
	bool verity;		/* --verity/--no-verity, else the config's verity */
	char erofs_compression[CONFIG_VALUE_MAX];
	char initramfs_compression[32]; /* a compress.c name or "none" */
	char initramfs_level[8];	/* "" for the default */
	/* The mini-initramfs' config, but for what the image decides (fs,
	 * the verity measurements) and what the full initrd's layout may
	 * add (adapt_config_to_full). */
	struct config cfg;

	/* the mini-initramfs of init mode: besides the config */
	struct strv libs;      /* the boot program's loader and libraries */
	struct modset modules; /* with why each is in */

	/* outputs */
	char output[PATH_MAX]; /* the mini-initramfs */
	struct strv stale;     /* images of this kernel there now (ours, and the
				* original initoverlayfs' unhashed one): removed
				* once the new pair is in place, unless one is the
				* new image or an installed initramfs refers to it */
};

/* Fills plan from the options. Logs what is wrong and returns a negative
 * errno; writes nothing. */
int plan_make(const struct options *o, struct plan *p);

/* What plan will do, for --dry-run. */
void plan_print(const struct plan *p, FILE *out);

void plan_free(struct plan *p);

/* The argv of the commands a run starts, shared by the run and the
 * printed plan (which passes placeholders for the paths it cannot know).
 * Each fills argv, at least 16 entries, with pointers into p, the given
 * strings and buf. */
int plan_full_initrd_argv(const struct plan *p, const char *out, const char **argv);
int plan_mkfs_argv(const struct plan *p, const char *image, const char *tree, const char **argv,
		   char *buf, size_t size);
int plan_depmod_argv(const struct plan *p, const char *confdir, const char *stage,
		     const char **argv);
int plan_compressor_argv(const struct plan *p, const char **argv, char *buf, size_t size);
int plan_dracut_mini_argv(const struct plan *p, const char *conf, const char *confdir,
			  const char *out, const char **argv, char *buf, size_t size);
int plan_veritysetup_argv(const struct plan *p, const char *image, const char *blocks,
			  const char *offset, const char *salt, const char **argv, char *buf,
			  size_t size);
