/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The segment splitter. The kernel reads an initramfs as a sequence of
 * segments, each a newc cpio archive or compressed data holding archives,
 * with zero padding between them. libarchive reads one archive; this finds
 * where each one ends, knowing of the newc format only the sizes that say
 * how far to skip (the way dracut's skipcpio does). */

#define CPIO_NEWC_HEADER_SIZE 110

struct cpio_scan {
	enum { CPIO_HEADER, CPIO_NAME, CPIO_BODY, CPIO_DONE } state;
	uint64_t left;	 /* bytes until the current part ends */
	uint64_t offset; /* bytes of this archive seen; after an error, where
			  * the bad header starts */
	unsigned header_len, name_len;
	uint32_t namesize, filesize;
	bool trailer;
	uint8_t header[CPIO_NEWC_HEADER_SIZE];
	char name[11]; /* enough to know "TRAILER!!!" */
};

void cpio_scan_init(struct cpio_scan *s);

/* Feeds the next len bytes of an archive. Returns how many of them belong
 * to it: all of them, or fewer once the trailer entry ends (then
 * cpio_scan_done() is true). -EBADMSG for a header that is not newc or
 * carries a name size of 0 or over PATH_MAX, -ENAMETOOLONG for a symlink
 * target over PATH_MAX. */
long cpio_scan_feed(struct cpio_scan *s, const uint8_t *p, size_t len);
/* What a negative cpio_scan_feed() result means, for the error line. */
const char *cpio_scan_strerror(long err);

static inline bool cpio_scan_done(const struct cpio_scan *s)
{
	return s->state == CPIO_DONE;
}

/* Detects the compression of the data at the start of buf: "gzip", ...,
 * "cpio" for an uncompressed newc archive, NULL when unknown. */
const char *initramfs_detect(const uint8_t *buf, size_t len);
