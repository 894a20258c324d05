/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "common/config.h"

/* initoverlayfs-install: from a kernel's full initrd, make the pair that
 * boots with initoverlayfs: an EROFS image of the full initrd in the boot
 * directory, and a mini-initramfs that mounts it. */

enum install_mode {
	MODE_INIT,    /* our own mini-initramfs with the boot program as /init */
	MODE_SYSTEMD, /* a small dracut image with the initoverlayfs module */
};

struct options {
	bool force;
	bool dry_run;
	bool verbose;
	bool hostonly;		 /* --hostonly: the boot device's drivers, not the usual ones */
	int verity;		 /* --verity 1, --no-verity 0; -1: the config's */
	const char *verity_salt; /* hex; NULL: derived from the image */
	enum install_mode mode;
	bool mode_set;			   /* --mode given: it wins over the config */
	const char *kver;		   /* NULL: running kernel */
	const char *boot_dir;		   /* default /boot */
	const char *source;		   /* dracut | initramfs-tools | IMAGE | DIR; NULL: auto */
	const char *compression;	   /* mkfs.erofs ALG[,LEVEL]; NULL: config, then lz4hc */
	const char *config_path;	   /* default /etc/initoverlayfs.conf */
	const char *output_initramfs;	   /* NULL: distro default name */
	const char *add_modules;	   /* comma or space separated */
	const char *boot_program;	   /* NULL: next to this program, then $SBINDIR */
	const char *initramfs_compression; /* zstd | xz | gzip | lz4 | none */
	const char *root;		   /* --root: the tree of the system; NULL: this one */
	const char *bootfs;		   /* NULL: the config's */
	const char *bootfstype;		   /* NULL: the config's */
	enum config_boot_layout boot_layout; /* DEFAULT: the config's, else the mounts' */
};

/* Runs the whole installation. Returns 0 or a negative errno; the error
 * has been logged. */
int install_run(const struct options *o);
