/* SPDX-License-Identifier: MIT */
#include "install/segment.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "install/compress.h"

#define NEWC_FIELD_MODE	    1
#define NEWC_FIELD_FILESIZE 6
#define NEWC_FIELD_NAMESIZE 11
#define NEWC_FIELDS	    13 /* the last one, the checksum, included */

static const char trailer_name[11] = "TRAILER!!!";

void cpio_scan_init(struct cpio_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->state = CPIO_HEADER;
}

static int newc_field(const uint8_t *header, unsigned index, uint32_t *out)
{
	const uint8_t *p = header + 6 + 8 * index;
	uint32_t v = 0;

	for (unsigned i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t digit;

		if (c >= '0' && c <= '9')
			digit = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			digit = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			digit = (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
		v = v << 4 | digit;
	}
	*out = v;
	return 0;
}

static uint64_t pad4(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

/* The header is complete: how far the name (with the header's padding)
 * and the body (with its own) reach. */
static int header_done(struct cpio_scan *s)
{
	uint32_t mode, field;

	if (memcmp(s->header, "07070", 5) != 0 || (s->header[5] != '1' && s->header[5] != '2'))
		return -EBADMSG;
	/* Every field, not only the sizes: libarchive takes a header with a
	 * non-hex field for junk and searches on for the next one, which
	 * would then lie where this splitter sees file data. */
	for (unsigned i = 0; i < NEWC_FIELDS; i++)
		if (newc_field(s->header, i, &field) < 0)
			return -EBADMSG;
	newc_field(s->header, NEWC_FIELD_NAMESIZE, &s->namesize);
	newc_field(s->header, NEWC_FIELD_FILESIZE, &s->filesize);
	if (s->namesize == 0 || s->namesize > PATH_MAX)
		return -EBADMSG;
	/* a reader holds a symlink's target in memory: PATH_MAX at most */
	newc_field(s->header, NEWC_FIELD_MODE, &mode);
	if ((mode & S_IFMT) == S_IFLNK && s->filesize > PATH_MAX)
		return -ENAMETOOLONG;
	s->state = CPIO_NAME;
	s->left = pad4(CPIO_NEWC_HEADER_SIZE + (uint64_t)s->namesize) - CPIO_NEWC_HEADER_SIZE;
	s->name_len = 0;
	return 0;
}

static void part_done(struct cpio_scan *s)
{
	switch (s->state) {
	case CPIO_NAME:
		s->trailer = s->namesize == sizeof(trailer_name) &&
			     memcmp(s->name, trailer_name, sizeof(trailer_name)) == 0;
		s->state = CPIO_BODY;
		s->left = pad4(s->filesize);
		if (s->left == 0)
			part_done(s);
		break;
	case CPIO_BODY:
		s->state = s->trailer ? CPIO_DONE : CPIO_HEADER;
		s->header_len = 0;
		break;
	default:
		break;
	}
}

long cpio_scan_feed(struct cpio_scan *s, const uint8_t *p, size_t len)
{
	size_t used = 0;

	while (used < len && s->state != CPIO_DONE) {
		size_t n;

		if (s->state == CPIO_HEADER) {
			n = CPIO_NEWC_HEADER_SIZE - s->header_len;
			if (n > len - used)
				n = len - used;
			memcpy(s->header + s->header_len, p + used, n);
			s->header_len += (unsigned)n;
			used += n;
			if (s->header_len == CPIO_NEWC_HEADER_SIZE) {
				int e = header_done(s);

				if (e < 0) {
					/* where the bad header starts */
					s->offset += used - CPIO_NEWC_HEADER_SIZE;
					return e;
				}
			}
			continue;
		}
		n = s->left < len - used ? (size_t)s->left : len - used;
		if (s->state == CPIO_NAME && s->name_len < sizeof(s->name)) {
			size_t keep = sizeof(s->name) - s->name_len;

			if (keep > n)
				keep = n;
			memcpy(s->name + s->name_len, p + used, keep);
			s->name_len += (unsigned)keep;
		}
		s->left -= n;
		used += n;
		if (s->left == 0)
			part_done(s);
	}
	s->offset += used;
	return (long)used;
}

const char *cpio_scan_strerror(long err)
{
	return err == -ENAMETOOLONG ? "a symlink target over PATH_MAX" : "not a newc cpio header";
}

const char *initramfs_detect(const uint8_t *b, size_t len)
{
	const struct compression *c;

	if (len >= 6 && (memcmp(b, "070701", 6) == 0 || memcmp(b, "070702", 6) == 0))
		return "cpio";
	c = compression_detect(b, len);
	return c ? c->name : NULL;
}
