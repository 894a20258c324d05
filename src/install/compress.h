/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The compressions of an initramfs: how to recognize one (the magic
 * numbers at its start), the system tool that decompresses it (for the
 * shell side; the installer reads source images with libarchive, which
 * runs lzop for lzo), and, for some, how to compress the mini-initramfs
 * with it (the tool runs behind a pipe, stdin to stdout). The shell side
 * (tests) asks `initoverlayfs-install --print-compressions`. */

#define COMPRESSION_MAGIC_MAX 6 /* bytes */
#define COMPRESSION_DEFAULT   "zstd"

struct compression {
	const char *name;
	const char *magic[3];	   /* lower-case hex of the first bytes; NULL ends */
	const char *decompress[4]; /* argv; NULL ends */
	/* The mini-initramfs' argv, deterministic, its level option last;
	 * { NULL }: not offered for the mini-initramfs. */
	const char *compress[6];
	/* ALG,LEVEL puts prefix LEVEL suffix last, e.g. "-" "9" */
	const char *level_prefix, *level_suffix;
	int ultra_above; /* levels above this one need "--ultra" first (zstd) */
};

/* Ends with { NULL }. */
extern const struct compression compressions[];

/* By name; NULL when unknown. */
const struct compression *compression_find(const char *name);

/* The compression whose magic number starts buf; NULL when none does. */
const struct compression *compression_detect(const uint8_t *buf, size_t len);

/* Fills argv (at least 8 entries) with c's compressor at level ("": the
 * default; digits, checked by the caller); lvl holds the level option.
 * -EINVAL when c is not offered for the mini-initramfs. */
int compression_argv(const struct compression *c, const char *level, const char **argv, char *lvl,
		     size_t lvl_size);

/* The names joined by sep into buf (cut at size); with mini_only, only
 * those offered for the mini-initramfs. */
void compression_names(char *buf, size_t size, const char *sep, bool mini_only);
