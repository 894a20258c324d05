/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "install/segment.h"

/* Unpacking an initramfs the way the kernel does: a sequence of segments
 * (src/install/segment.h), each a newc cpio archive or compressed data,
 * with zero padding between them; later entries replace earlier ones;
 * hard links only between regular files, and only within one archive.
 * A zstd, xz or lz4 segment must be the last: libarchive reads on past
 * the end of their data (gzip, bzip2 and lzma stop where theirs ends).
 * libarchive reads and decompresses the archives and writes the entries
 * with its secure extraction: no "..", no absolute names, never through a
 * symbolic link. Modes, owners, mtimes, symlinks, device nodes and hard
 * links are kept (owners and device nodes need root). The input is
 * untrusted: it stops with one line when its content would leave less
 * than UNPACK_RESERVE_BYTES free on the target's file system, or use up
 * its inodes. */

#define UNPACK_RESERVE_BYTES (32ULL << 20)

struct unpack_stats {
	uint64_t entries;
	uint64_t bytes;	      /* file data written */
	unsigned segments;    /* archives found */
	char compression[16]; /* of the last compressed segment, "" if none */
};

/* Unpacks image into dir (an existing, empty directory). Logs what failed
 * and where (offset, entry name) and returns a negative errno. */
int initramfs_unpack(const char *image, const char *dir, struct unpack_stats *stats);

/* Reads the content of the entry name (normalized: "etc/initoverlayfs.conf")
 * from the initramfs image, with the same rules (segments, the last entry
 * of a name wins), into buf, NUL-terminated; *len (if not NULL) is its
 * length. Logs nothing: -ENOENT when no regular file has that name,
 * -EFBIG when it does not fit in size - 1 bytes, another negative errno
 * when the image cannot be read (not an initramfs, damaged, unreadable). */
int initramfs_read_file(const char *image, const char *name, char *buf, size_t size, size_t *len);
