/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Unpacking an initramfs the way the kernel does: a sequence of newc
 * cpio archives, each uncompressed or compressed (install/compress.h: the
 * system decompressor runs behind a pipe), with zero
 * padding between them. Once a compressed archive starts, the rest of the
 * file goes through its decompressor, which may itself hold several
 * archives. Modes, owners, symlinks, hard links, device nodes and mtimes
 * are kept (owners and device nodes need root). Paths are resolved inside
 * the target directory: an archive cannot write outside it. */

struct unpack_stats {
	uint64_t entries;
	uint64_t bytes;	      /* file data written */
	unsigned segments;    /* archives found */
	char compression[16]; /* of the last compressed segment, "" if none */
};

/* Detects the compression of the data at the start of buf: "gzip", ...,
 * "cpio" for an uncompressed newc archive, NULL when unknown. */
const char *initramfs_detect(const uint8_t *buf, unsigned long len);

/* Unpacks image into dir (an existing, empty directory). Logs what failed
 * and where (offset, entry name) and returns a negative errno. */
int initramfs_unpack(const char *image, const char *dir, struct unpack_stats *stats);
