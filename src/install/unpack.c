/* SPDX-License-Identifier: MIT */
#include "install/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

/* libarchive's secure extraction, with the kernel's rule that a later
 * entry replaces what is in its way. */
#define DISK_FLAGS                                                                          \
	(ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |              \
	 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_SYMLINKS | \
	 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS)

/* Inodes kept free for what the installer writes after unpacking. */
#define UNPACK_RESERVE_INODES 64

struct unpacker {
	const char *image, *dir;
	struct unpack_stats *stats;
	/* what to do with each entry: extract_entry, or read_entry */
	int (*entry)(struct unpacker *u, struct archive *a, struct archive_entry *entry);
	bool quiet; /* initramfs_read_file: the caller decides what a failure means */
	struct archive *disk;
	int tree_fd;
	uint64_t bytes_left, inodes_left, block_size;
	bool root_seen;
	struct timespec root_mtime; /* set last: later entries change it */
	char where[96];		    /* the segment being read, for the error line */
	/* initramfs_read_file: the entry wanted, its content so far */
	const char *want;
	char *buf;
	size_t size, len;
	int want_err; /* 0 found, -ENOENT, -EFBIG */
};

/* The error lines of the segment walk, unless the caller reads quietly. */
#define u_error(u, ...)                         \
	do {                                    \
		if (!(u)->quiet)                \
			log_error(__VA_ARGS__); \
	} while (0)

/* The decompressed data of one compressed segment, handed to libarchive
 * one archive at a time. */
struct stream {
	struct archive *decoder;
	struct cpio_scan scan;
	size_t start, end;
	uint64_t pos; /* decompressed bytes consumed */
	bool eof;
	uint8_t buf[1 << 16];
};

static int archive_err(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 ? -e : -EBADMSG;
}

/* libarchive leaves no message when its input ends early. */
static const char *archive_msg(struct archive *a)
{
	const char *m = archive_error_string(a);

	return m ? m : "truncated archive";
}

/* Normalizes an archive name the way the kernel sees it, relative to the
 * root: no leading "/" or "./", no empty or "." components. A ".."
 * component is refused. "" is the root itself. */
static int normalize_name(const char *in, char *out, size_t size)
{
	size_t len = 0;

	while (*in) {
		const char *end;
		size_t n;

		while (*in == '/')
			in++;
		end = strchrnul(in, '/');
		n = (size_t)(end - in);
		if (n == 0 || (n == 1 && in[0] == '.')) {
			in = end;
			continue;
		}
		if (n == 2 && in[0] == '.' && in[1] == '.')
			return -EINVAL;
		if (len + n + 2 > size)
			return -ENAMETOOLONG;
		if (len)
			out[len++] = '/';
		memcpy(out + len, in, n);
		len += n;
		in = end;
	}
	out[len] = '\0';
	return 0;
}

/* Whether path, resolved under the tree without following any symlink,
 * is a regular file: the only thing the kernel hard-links. */
static bool is_regular_in_tree(int tree_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	long fd = syscall(SYS_openat2, tree_fd, path, &how, sizeof(how));
	bool regular;

	if (fd < 0)
		return false;
	regular = fstat((int)fd, &st) == 0 && S_ISREG(st.st_mode);
	close((int)fd);
	return regular;
}

/* libarchive links an entry to an earlier one of the same inode number,
 * whatever either's type. The kernel links only a regular file to a
 * regular file; anything else is created as its own inode. */
static int apply_link_rule(struct unpacker *u, struct archive_entry *entry)
{
	const char *target = archive_entry_hardlink(entry);
	char name[PATH_MAX];
	int e;

	if (!target)
		return 0;
	if (archive_entry_filetype(entry) != AE_IFREG) {
		archive_entry_set_hardlink(entry, NULL);
		return 0;
	}
	e = normalize_name(target, name, sizeof(name));
	if (e < 0)
		return e;
	if (!*name || !is_regular_in_tree(u->tree_fd, name)) {
		archive_entry_set_hardlink(entry, NULL);
		return 0;
	}
	archive_entry_copy_hardlink(entry, name);
	return 0;
}

/* Charges an entry to the budget before anything of it is written. */
static int charge(struct unpacker *u, struct archive_entry *entry, const char *name)
{
	uint64_t size = 0;

	if (archive_entry_filetype(entry) == AE_IFREG && archive_entry_size(entry) > 0)
		size = ((uint64_t)archive_entry_size(entry) + u->block_size - 1) / u->block_size *
		       u->block_size;
	if (!archive_entry_hardlink(entry)) {
		if (u->inodes_left == 0) {
			log_error("unpack: %s (%s): entry %s: %s has no inodes left for more "
				  "(%llu entries unpacked); stopping",
				  u->image, u->where, name, u->dir,
				  (unsigned long long)u->stats->entries);
			return -ENOSPC;
		}
		u->inodes_left--;
	}
	if (size > u->bytes_left) {
		log_error("unpack: %s (%s): entry %s (%llu bytes) would leave less than %llu MiB "
			  "free in %s (%llu MiB unpacked); stopping",
			  u->image, u->where, name, (unsigned long long)archive_entry_size(entry),
			  UNPACK_RESERVE_BYTES >> 20, u->dir,
			  (unsigned long long)(u->stats->bytes >> 20));
		return -ENOSPC;
	}
	u->bytes_left -= size;
	return 0;
}

static int copy_data(struct unpacker *u, struct archive *a, const char *name)
{
	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(a, &buf, &size, &offset);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK) {
			log_error("unpack: %s (%s): entry %s: read: %s", u->image, u->where, name,
				  archive_msg(a));
			return archive_err(a);
		}
		if (archive_write_data_block(u->disk, buf, size, offset) != ARCHIVE_OK) {
			log_error("unpack: %s (%s): entry %s: write: %s", u->image, u->where, name,
				  archive_msg(u->disk));
			return archive_err(u->disk);
		}
		u->stats->bytes += size;
	}
}

/* The entry for the root itself: libarchive does not restore the working
 * directory's own attributes. */
static int set_root(struct unpacker *u, struct archive_entry *entry, const char *raw)
{
	if (archive_entry_filetype(entry) != AE_IFDIR) {
		log_error("unpack: %s (%s): entry %s: the root can only be a directory", u->image,
			  u->where, raw);
		return -EBADMSG;
	}
	if (fchown(u->tree_fd, (uid_t)archive_entry_uid(entry), (gid_t)archive_entry_gid(entry)) <
		    0 ||
	    fchmod(u->tree_fd, archive_entry_perm(entry) & 07777) < 0)
		return log_errno(-errno, "unpack: %s (%s): entry %s: %s", u->image, u->where, raw,
				 u->dir);
	u->root_seen = true;
	u->root_mtime.tv_sec = archive_entry_mtime(entry);
	u->root_mtime.tv_nsec = archive_entry_mtime_nsec(entry);
	u->stats->entries++;
	return 0;
}

static int extract_entry(struct unpacker *u, struct archive *a, struct archive_entry *entry)
{
	const char *raw = archive_entry_pathname(entry);
	char name[PATH_MAX];
	int e;

	if (!raw) {
		log_error("unpack: %s (%s): an entry without a name", u->image, u->where);
		return -EBADMSG;
	}
	e = normalize_name(raw, name, sizeof(name));
	if (e == 0)
		e = apply_link_rule(u, entry);
	if (e < 0)
		return log_errno(e, "unpack: %s (%s): unsafe entry name: %s", u->image, u->where,
				 raw);
	if (!*name)
		return set_root(u, entry, raw);
	archive_entry_copy_pathname(entry, name);
	e = charge(u, entry, raw);
	if (e < 0)
		return e;
	if (archive_write_header(u->disk, entry) != ARCHIVE_OK) {
		log_error("unpack: %s (%s): entry %s: %s", u->image, u->where, raw,
			  archive_msg(u->disk));
		return archive_err(u->disk);
	}
	if (archive_entry_size(entry) > 0) {
		e = copy_data(u, a, raw);
		if (e < 0)
			return e;
	}
	if (archive_write_finish_entry(u->disk) != ARCHIVE_OK) {
		log_error("unpack: %s (%s): entry %s: %s", u->image, u->where, raw,
			  archive_msg(u->disk));
		return archive_err(u->disk);
	}
	u->stats->entries++;
	return 0;
}

static struct archive *cpio_reader_new(void)
{
	struct archive *a = archive_read_new();

	if (a && archive_read_support_format_cpio(a) != ARCHIVE_OK) {
		archive_read_free(a);
		a = NULL;
	}
	return a;
}

/* Extracts every entry of an opened archive, up to its trailer. */
static int extract_archive(struct unpacker *u, struct archive *a)
{
	u->stats->segments++;
	for (;;) {
		struct archive_entry *entry;
		int r = archive_read_next_header(a, &entry), e;

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			u_error(u, "unpack: %s (%s): after %llu entries: %s", u->image, u->where,
				(unsigned long long)u->stats->entries, archive_msg(a));
			return archive_err(a);
		}
		e = u->entry(u, a, entry);
		if (e < 0)
			return e;
	}
}

/* An uncompressed segment: the archive is data[0, len). */
static int unpack_cpio(struct unpacker *u, const uint8_t *data, size_t len)
{
	struct archive *a = cpio_reader_new();
	int e;

	if (!a)
		return -ENOMEM;
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		u_error(u, "unpack: %s (%s): %s", u->image, u->where, archive_msg(a));
		e = archive_err(a);
	} else {
		e = extract_archive(u, a);
	}
	archive_read_free(a);
	return e;
}

/* Makes decompressed bytes available. Returns 0, also at the end (then
 * s->eof), or a negative errno. */
static int stream_fill(struct stream *s)
{
	la_ssize_t n;

	if (s->start < s->end || s->eof)
		return 0;
	n = archive_read_data(s->decoder, s->buf, sizeof(s->buf));
	if (n < 0)
		return archive_err(s->decoder);
	s->start = 0;
	s->end = (size_t)n;
	s->eof = n == 0;
	return 0;
}

/* libarchive's read callback: the bytes of the current archive only. */
static la_ssize_t stream_read(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	long n;

	if (cpio_scan_done(&s->scan))
		return 0;
	if (stream_fill(s) < 0) {
		archive_set_error(a, EIO, "decompressing: %s", archive_msg(s->decoder));
		return ARCHIVE_FATAL;
	}
	if (s->eof)
		return 0;
	n = cpio_scan_feed(&s->scan, s->buf + s->start, s->end - s->start);
	if (n < 0) {
		char why[96];

		/* archive_set_error knows no %llu */
		snprintf(why, sizeof(why), "%s at +%llu", cpio_scan_strerror(n),
			 (unsigned long long)(s->pos + (uint64_t)s->scan.offset));
		archive_set_error(a, EBADMSG, "%s", why);
		return ARCHIVE_FATAL;
	}
	*buf = s->buf + s->start;
	s->start += (size_t)n;
	s->pos += (uint64_t)n;
	return n;
}

/* Skips what libarchive did not read of the archive (the trailer's
 * padding), then the zero padding after it. Returns 1 when another
 * archive follows, 0 at the end of the data. */
static int stream_next(struct stream *s)
{
	for (;;) {
		int e = stream_fill(s);

		if (e < 0)
			return e;
		if (s->eof)
			return 0;
		if (!cpio_scan_done(&s->scan)) {
			long n = cpio_scan_feed(&s->scan, s->buf + s->start, s->end - s->start);

			if (n < 0)
				return (int)n;
			s->start += (size_t)n;
			s->pos += (uint64_t)n;
			continue;
		}
		while (s->start < s->end && s->buf[s->start] == 0) {
			s->start++;
			s->pos++;
		}
		if (s->start < s->end)
			return 1;
	}
}

static int open_decoder(struct unpacker *u, struct archive *dec, const uint8_t *data, size_t len,
			const char *kind)
{
	struct archive_entry *raw;

	if (archive_read_support_filter_all(dec) != ARCHIVE_OK ||
	    archive_read_support_format_raw(dec) != ARCHIVE_OK ||
	    archive_read_open_memory(dec, data, len) != ARCHIVE_OK ||
	    archive_read_next_header(dec, &raw) != ARCHIVE_OK) {
		u_error(u, "unpack: %s (%s): %s", u->image, u->where, archive_msg(dec));
		return archive_err(dec);
	}
	if (archive_filter_code(dec, 0) == ARCHIVE_FILTER_NONE) {
		u_error(u, "unpack: %s (%s): libarchive cannot decompress %s data", u->image,
			u->where, kind);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* A compressed segment starting at data: decompresses it and extracts
 * every archive in it. *used is how many compressed bytes it took. */
static int unpack_compressed(struct unpacker *u, const uint8_t *data, size_t len, const char *kind,
			     uint64_t *used)
{
	struct stream *s = calloc(1, sizeof(*s));
	int e;

	if (!s)
		return -ENOMEM;
	s->decoder = archive_read_new();
	if (!s->decoder) {
		free(s);
		return -ENOMEM;
	}
	snprintf(u->stats->compression, sizeof(u->stats->compression), "%s", kind);
	e = open_decoder(u, s->decoder, data, len, kind);
	s->scan.state = CPIO_DONE; /* no archive yet */
	while (e == 0) {
		struct archive *a;

		e = stream_next(s);
		if (e < 0)
			u_error(u, "unpack: %s (%s): at +%llu of the decompressed data: %s",
				u->image, u->where, (unsigned long long)s->pos,
				e == -EBADMSG || e == -ENAMETOOLONG ? cpio_scan_strerror(e)
								    : archive_msg(s->decoder));
		if (e <= 0)
			break;
		if (s->buf[s->start] != '0') {
			u_error(u, "unpack: %s (%s): junk at +%llu of the decompressed data",
				u->image, u->where, (unsigned long long)s->pos);
			e = -EBADMSG;
			break;
		}
		a = cpio_reader_new();
		if (!a) {
			e = -ENOMEM;
			break;
		}
		cpio_scan_init(&s->scan);
		if (archive_read_open(a, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
			u_error(u, "unpack: %s (%s): %s", u->image, u->where, archive_msg(a));
			e = archive_err(a);
		} else {
			e = extract_archive(u, a);
		}
		archive_read_free(a);
	}
	*used = (uint64_t)archive_filter_bytes(s->decoder, -1);
	archive_read_free(s->decoder);
	free(s);
	return e;
}

static void set_where(struct unpacker *u, const char *kind, uint64_t offset)
{
	snprintf(u->where, sizeof(u->where), "%s segment at offset %llu", kind,
		 (unsigned long long)offset);
}

/* Walks the segments of data[0, len). */
static int unpack_segments(struct unpacker *u, const uint8_t *data, size_t len)
{
	size_t pos = 0;

	for (;;) {
		const char *kind;
		uint64_t used = 0;
		int e;

		while (pos < len && data[pos] == 0)
			pos++;
		if (pos == len)
			return 0;
		kind = initramfs_detect(data + pos, len - pos);
		set_where(u, kind ? kind : "unknown", pos);
		if (!kind) {
			u_error(u,
				"unpack: %s (offset %zu): neither a cpio archive nor known "
				"compressed data",
				u->image, pos);
			return -EBADMSG;
		}
		if (strcmp(kind, "cpio") == 0) {
			struct cpio_scan scan;
			long n;

			cpio_scan_init(&scan);
			n = cpio_scan_feed(&scan, data + pos, len - pos);
			if (n < 0 || !cpio_scan_done(&scan)) {
				u_error(u, "unpack: %s (%s): %s at +%llu", u->image, u->where,
					n < 0 ? cpio_scan_strerror(n) : "truncated archive",
					(unsigned long long)scan.offset);
				return -EBADMSG;
			}
			e = unpack_cpio(u, data + pos, (size_t)n);
			used = (uint64_t)n;
		} else {
			e = unpack_compressed(u, data + pos, len - pos, kind, &used);
		}
		if (e < 0)
			return e;
		if (used == 0 || used > len - pos) {
			u_error(u, "unpack: %s (%s): the decompressor did not say where it ended",
				u->image, u->where);
			return -EBADMSG;
		}
		pos += (size_t)used;
	}
}

static int set_budget(struct unpacker *u)
{
	struct statvfs vfs;
	uint64_t avail;

	if (fstatvfs(u->tree_fd, &vfs) < 0)
		return log_step_error("unpack: statvfs", u->dir, -errno);
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	u->bytes_left = avail > UNPACK_RESERVE_BYTES ? avail - UNPACK_RESERVE_BYTES : 0;
	u->block_size = vfs.f_frsize ? vfs.f_frsize : 4096;
	if (vfs.f_files == 0)
		u->inodes_left = UINT64_MAX;
	else
		u->inodes_left = vfs.f_favail > UNPACK_RESERVE_INODES
					 ? vfs.f_favail - UNPACK_RESERVE_INODES
					 : 0;
	return 0;
}

static int map_image(struct unpacker *u, const uint8_t **data, size_t *len)
{
	struct stat st;
	void *p;
	const char *image = u->image;
	int fd = open(image, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return u->quiet ? -errno : log_step_error("unpack: open", image, -errno);
	if (fstat(fd, &st) < 0) {
		e = u->quiet ? -errno : log_step_error("unpack: stat", image, -errno);
	} else if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		u_error(u, "unpack: %s: not a regular file with content", image);
		e = -EBADMSG;
	} else {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			e = u->quiet ? -errno : log_step_error("unpack: mmap", image, -errno);
		} else {
			*data = p;
			*len = (size_t)st.st_size;
		}
	}
	close(fd);
	return e;
}

static int disk_writer_new(struct unpacker *u)
{
	u->disk = archive_write_disk_new();
	if (!u->disk)
		return -ENOMEM;
	if (archive_write_disk_set_options(u->disk, DISK_FLAGS) != ARCHIVE_OK) {
		log_error("unpack: %s", archive_msg(u->disk));
		return archive_err(u->disk);
	}
	return 0;
}

/* libarchive writes relative to the working directory: the tree's, for
 * the time of the unpacking. */
static int unpack_in_tree(struct unpacker *u, const uint8_t *data, size_t len)
{
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), e;

	if (cwd < 0)
		return log_step_error("unpack: open", ".", -errno);
	if (fchdir(u->tree_fd) < 0) {
		e = log_step_error("unpack: chdir", u->dir, -errno);
		goto out;
	}
	e = unpack_segments(u, data, len);
	/* directory modes and times, which libarchive sets last */
	if (archive_write_close(u->disk) != ARCHIVE_OK && e == 0) {
		log_error("unpack: %s: %s", u->dir, archive_msg(u->disk));
		e = archive_err(u->disk);
	}
	if (e == 0 && u->root_seen) {
		struct timespec ts[2] = { u->root_mtime, u->root_mtime };

		if (futimens(u->tree_fd, ts) < 0)
			e = log_step_error("unpack: set the time of", u->dir, -errno);
	}
	if (fchdir(cwd) < 0 && e == 0)
		e = log_step_error("unpack: chdir back", "the working directory", -errno);
out:
	close(cwd);
	return e;
}

int initramfs_unpack(const char *image, const char *dir, struct unpack_stats *stats)
{
	struct unpacker u = {
		.image = image, .dir = dir, .stats = stats, .entry = extract_entry, .tree_fd = -1
	};
	const uint8_t *data = NULL;
	size_t len = 0;
	int e;

	memset(stats, 0, sizeof(*stats));
	u.tree_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.tree_fd < 0)
		return log_step_error("unpack: open", dir, -errno);
	e = set_budget(&u);
	if (e == 0)
		e = map_image(&u, &data, &len);
	if (e == 0)
		e = disk_writer_new(&u);
	if (e == 0)
		e = unpack_in_tree(&u, data, len);
	if (e == 0 && stats->segments == 0) {
		log_error("unpack: %s: no cpio archive found", image);
		e = -EBADMSG;
	}
	if (u.disk)
		archive_write_free(u.disk);
	if (data)
		munmap((void *)data, len);
	close(u.tree_fd);
	return e;
}

/* The entry initramfs_read_file() wants: a later one replaces the content
 * an earlier one gave, as in the kernel. */
static int read_entry(struct unpacker *u, struct archive *a, struct archive_entry *entry)
{
	const char *raw = archive_entry_pathname(entry);
	char name[PATH_MAX];
	la_int64_t size = archive_entry_size(entry);

	u->stats->entries++;
	if (!raw || normalize_name(raw, name, sizeof(name)) < 0 || strcmp(name, u->want) != 0)
		return 0;
	/* a hard link's data is another entry's: not what the name holds */
	if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry)) {
		u->want_err = -ENOENT;
		return 0;
	}
	if (size < 0 || (uint64_t)size >= u->size) {
		u->want_err = -EFBIG;
		return 0;
	}
	u->len = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(a, u->buf + u->len, u->size - 1 - u->len);

		if (n < 0)
			return archive_err(a);
		if (n == 0)
			break;
		u->len += (size_t)n;
		if (u->len == u->size - 1 && u->len < (size_t)size)
			return -EFBIG;
	}
	u->buf[u->len] = '\0';
	u->want_err = 0;
	return 0;
}

int initramfs_read_file(const char *image, const char *name, char *buf, size_t size, size_t *len)
{
	struct unpack_stats stats = { 0 };
	struct unpacker u = {
		.image = image,
		.stats = &stats,
		.entry = read_entry,
		.quiet = true,
		.tree_fd = -1,
		.want = name,
		.buf = buf,
		.size = size,
		.want_err = -ENOENT,
	};
	const uint8_t *data = NULL;
	size_t data_len = 0;
	int e;

	if (size < 1)
		return -EINVAL;
	e = map_image(&u, &data, &data_len);
	if (e == 0)
		e = unpack_segments(&u, data, data_len);
	if (data)
		munmap((void *)data, data_len);
	if (e == 0)
		e = u.want_err;
	if (e == 0 && len)
		*len = u.len;
	return e;
}
