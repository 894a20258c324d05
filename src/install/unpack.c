/* SPDX-License-Identifier: MIT */
#include "install/unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "install/compress.h"
#include "install/exec.h"
#include "install/fsutil.h"
#include "common/log.h"

#define NEWC_HEADER_SIZE 110
#define NEWC_NAME_MAX	 PATH_MAX

struct reader {
	int fd;
	uint64_t pos; /* stream bytes consumed */
	size_t start, end;
	bool eof;
	uint8_t buf[1 << 16];
};

struct hardlink {
	uint32_t ino, major, minor;
	char *path;
};

struct dir_time {
	char *path;
	time_t mtime;
};

struct unpacker {
	const char *image;
	int root_fd;
	struct unpack_stats *stats;
	struct hardlink *links;
	size_t n_links, cap_links;
	struct dir_time *dirs;
	size_t n_dirs, cap_dirs;
	uint64_t segment_start; /* file offset of the current compressed segment */
	bool compressed;
};

struct newc {
	uint32_t ino, mode, uid, gid, nlink, mtime, filesize;
	uint32_t major, minor, rmajor, rminor, namesize;
	char name[NEWC_NAME_MAX];
};

static int reader_fill(struct reader *r)
{
	ssize_t n;

	if (r->start > 0 && r->start == r->end)
		r->start = r->end = 0;
	if (r->start > sizeof(r->buf) / 2) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == sizeof(r->buf) || r->eof)
		return 0;
	do
		n = read(r->fd, r->buf + r->end, sizeof(r->buf) - r->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return 0;
}

/* Makes up to n bytes available; returns how many are (less at EOF). */
static long reader_peek(struct reader *r, size_t n, const uint8_t **p)
{
	while (r->end - r->start < n && !r->eof) {
		int e = reader_fill(r);

		if (e < 0)
			return e;
	}
	*p = r->buf + r->start;
	return (long)(r->end - r->start < n ? r->end - r->start : n);
}

static void reader_consume(struct reader *r, size_t n)
{
	r->start += n;
	r->pos += n;
}

static int reader_read(struct reader *r, void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n > 0) {
		const uint8_t *p;
		size_t chunk = n < sizeof(r->buf) / 2 ? n : sizeof(r->buf) / 2;
		long got = reader_peek(r, chunk, &p);

		if (got < 0)
			return (int)got;
		if (got == 0)
			return -ENODATA;
		if (d) {
			memcpy(d, p, (size_t)got);
			d += got;
		}
		reader_consume(r, (size_t)got);
		n -= (size_t)got;
	}
	return 0;
}

static int reader_to_fd(struct reader *r, size_t n, int fd)
{
	while (n > 0) {
		const uint8_t *p;
		size_t chunk = n < sizeof(r->buf) / 2 ? n : sizeof(r->buf) / 2;
		long got = reader_peek(r, chunk, &p);
		int e;

		if (got < 0)
			return (int)got;
		if (got == 0)
			return -ENODATA;
		e = write_all(fd, p, (size_t)got);
		if (e < 0)
			return e;
		reader_consume(r, (size_t)got);
		n -= (size_t)got;
	}
	return 0;
}

static int reader_align4(struct reader *r)
{
	size_t pad = (4 - (r->pos & 3)) & 3;

	return pad ? reader_read(r, NULL, pad) : 0;
}

/* Skips zero padding. Returns 1 when data follows, 0 at EOF. */
static int reader_skip_zeros(struct reader *r)
{
	for (;;) {
		const uint8_t *p;
		long got = reader_peek(r, 4096, &p);
		long i;

		if (got < 0)
			return (int)got;
		if (got == 0)
			return 0;
		for (i = 0; i < got && p[i] == 0; i++)
			;
		reader_consume(r, (size_t)i);
		if (i < got)
			return 1;
	}
}

const char *initramfs_detect(const uint8_t *b, unsigned long len)
{
	const struct compression *c;

	if (len >= 6 && (memcmp(b, "070701", 6) == 0 || memcmp(b, "070702", 6) == 0))
		return "cpio";
	c = compression_detect(b, len);
	return c ? c->name : NULL;
}

static int parse_hex8(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		char c = p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int newc_parse_header(const char *h, struct newc *e)
{
	uint32_t *fields[] = { &e->ino,	  &e->mode,   &e->uid,	    &e->gid,
			       &e->nlink, &e->mtime,  &e->filesize, &e->major,
			       &e->minor, &e->rmajor, &e->rminor,   &e->namesize };

	if (memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (parse_hex8(h + 6 + 8 * i, fields[i]) < 0)
			return -EBADMSG;
	return 0;
}

/* Normalizes an archive name: no leading "/" or "./", no ".." component.
 * "" means the root itself. */
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

static int open_in_root(int root_fd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* Creates the directory dir and its missing parents, each resolved inside
 * the root. */
static int mkdirs_in_root(int root_fd, const char *dir)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, len + 1);
	for (size_t i = 0;; i++) {
		char c = buf[i], *slash;
		int pfd, r = 0;

		if (c != '/' && c != '\0')
			continue;
		buf[i] = '\0';
		slash = strrchr(buf, '/');
		if (slash) {
			*slash = '\0';
			pfd = open_in_root(root_fd, buf, O_PATH | O_DIRECTORY);
			*slash = '/';
		} else {
			pfd = open_in_root(root_fd, "", O_PATH | O_DIRECTORY);
		}
		if (pfd < 0)
			return pfd;
		if (mkdirat(pfd, slash ? slash + 1 : buf, 0755) < 0 && errno != EEXIST)
			r = -errno;
		close(pfd);
		if (r < 0)
			return r;
		buf[i] = c;
		if (c == '\0')
			return 0;
	}
}

/* Opens the parent directory of path (which it cuts at the last slash),
 * creating missing directories the way "cpio -d" does. *base points at
 * the last component. */
static int open_parent(int root_fd, char *path, const char **base)
{
	char *slash = strrchr(path, '/');
	int fd, r;

	if (!slash) {
		*base = path;
		return open_in_root(root_fd, "", O_PATH | O_DIRECTORY);
	}
	*slash = '\0';
	*base = slash + 1;
	fd = open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT) {
		r = mkdirs_in_root(root_fd, path);
		fd = r < 0 ? r : open_in_root(root_fd, path, O_PATH | O_DIRECTORY);
	}
	return fd;
}

/* Removes what is in the way of a new entry, as the kernel does: an
 * existing directory stays when the new entry is a directory too. Returns
 * 1 when a directory is kept, 0 when the name is free. */
static int clear_slot(int pfd, const char *base, mode_t type)
{
	struct stat st;

	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (type == S_IFDIR)
			return 1;
		return unlinkat(pfd, base, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	return unlinkat(pfd, base, 0) < 0 ? -errno : 0;
}

static struct hardlink *hardlink_find(struct unpacker *u, const struct newc *e)
{
	for (size_t i = 0; i < u->n_links; i++)
		if (u->links[i].ino == e->ino && u->links[i].major == e->major &&
		    u->links[i].minor == e->minor)
			return &u->links[i];
	return NULL;
}

static int hardlink_add(struct unpacker *u, const struct newc *e, const char *path)
{
	if (u->n_links == u->cap_links) {
		size_t cap = u->cap_links ? 2 * u->cap_links : 64;
		struct hardlink *l = realloc(u->links, cap * sizeof(*l));

		if (!l)
			return -ENOMEM;
		u->links = l;
		u->cap_links = cap;
	}
	u->links[u->n_links].path = strdup(path);
	if (!u->links[u->n_links].path)
		return -ENOMEM;
	u->links[u->n_links].ino = e->ino;
	u->links[u->n_links].major = e->major;
	u->links[u->n_links].minor = e->minor;
	u->n_links++;
	return 0;
}

/* The kernel forgets hard links at each archive's trailer. */
static void hardlinks_reset(struct unpacker *u)
{
	for (size_t i = 0; i < u->n_links; i++)
		free(u->links[i].path);
	u->n_links = 0;
}

static int dir_time_add(struct unpacker *u, const char *path, time_t mtime)
{
	if (u->n_dirs == u->cap_dirs) {
		size_t cap = u->cap_dirs ? 2 * u->cap_dirs : 256;
		struct dir_time *d = realloc(u->dirs, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		u->dirs = d;
		u->cap_dirs = cap;
	}
	u->dirs[u->n_dirs].path = strdup(path);
	if (!u->dirs[u->n_dirs].path)
		return -ENOMEM;
	u->dirs[u->n_dirs].mtime = mtime;
	u->n_dirs++;
	return 0;
}

static int set_attrs(int pfd, const char *base, const struct newc *e)
{
	struct timespec ts[2] = { { .tv_sec = e->mtime }, { .tv_sec = e->mtime } };

	if (fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* after chown, which clears set-user-ID bits */
	if (!S_ISLNK(e->mode) && fchmodat(pfd, base, e->mode & 07777, 0) < 0)
		return -errno;
	if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

static int write_body(struct reader *r, int pfd, const char *base, size_t size, bool create)
{
	int fd, e;

	fd = openat(pfd, base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0),
		    0600);
	if (fd < 0)
		return -errno;
	e = reader_to_fd(r, size, fd);
	if (close(fd) < 0 && e == 0)
		e = -errno;
	return e;
}

static int extract_entry(struct unpacker *u, struct reader *r, const struct newc *e,
			 const char *path)
{
	char scratch[PATH_MAX];
	mode_t type = e->mode & S_IFMT;
	struct hardlink *link = NULL;
	const char *base;
	int pfd, kept, res = 0;

	if (strlen(path) >= sizeof(scratch))
		return -ENAMETOOLONG;
	strcpy(scratch, path);
	if (!*path) {
		/* "." : the root directory itself */
		if (type != S_IFDIR)
			return -EINVAL;
		pfd = open_in_root(u->root_fd, "", O_PATH | O_DIRECTORY);
		if (pfd < 0)
			return pfd;
		res = set_attrs(pfd, ".", e);
		close(pfd);
		if (res == 0)
			res = dir_time_add(u, "", e->mtime);
		return res;
	}

	pfd = open_parent(u->root_fd, scratch, &base);
	if (pfd < 0)
		return pfd;
	kept = clear_slot(pfd, base, type);
	if (kept < 0) {
		res = kept;
		goto out;
	}
	if (type != S_IFDIR && e->nlink >= 2)
		link = hardlink_find(u, e);

	if (link) {
		int ofd = open_in_root(u->root_fd, link->path, O_PATH | O_NOFOLLOW);

		if (ofd < 0) {
			res = ofd;
			goto out;
		}
		if (linkat(ofd, "", pfd, base, AT_EMPTY_PATH) < 0)
			res = -errno;
		close(ofd);
		if (res == 0 && type == S_IFREG && e->filesize > 0)
			res = write_body(r, pfd, base, e->filesize, false);
		else if (res == 0)
			res = reader_read(r, NULL, e->filesize);
		/* the shared inode takes this entry's attributes, as in the kernel */
		if (res == 0)
			res = set_attrs(pfd, base, e);
		if (res == 0)
			u->stats->entries++;
		goto out;
	}

	switch (type) {
	case S_IFDIR:
		if (!kept && mkdirat(pfd, base, 0700) < 0)
			res = -errno;
		if (res == 0)
			res = reader_read(r, NULL, e->filesize);
		if (res == 0)
			res = dir_time_add(u, path, e->mtime);
		break;
	case S_IFREG:
		res = write_body(r, pfd, base, e->filesize, true);
		u->stats->bytes += e->filesize;
		break;
	case S_IFLNK: {
		char target[PATH_MAX];

		if (e->filesize == 0 || e->filesize >= sizeof(target)) {
			res = -EBADMSG;
			break;
		}
		res = reader_read(r, target, e->filesize);
		target[e->filesize] = '\0';
		if (res == 0 && symlinkat(target, pfd, base) < 0)
			res = -errno;
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		if (mknodat(pfd, base, type | 0600, makedev(e->rmajor, e->rminor)) < 0)
			res = -errno;
		if (res == 0)
			res = reader_read(r, NULL, e->filesize);
		break;
	default:
		res = -EBADMSG;
		break;
	}
	if (res == 0)
		res = set_attrs(pfd, base, e);
	if (res == 0 && type != S_IFDIR && e->nlink >= 2)
		res = hardlink_add(u, e, path);
	if (res == 0)
		u->stats->entries++;
out:
	close(pfd);
	return res;
}

static int apply_dir_times(struct unpacker *u)
{
	for (size_t i = u->n_dirs; i-- > 0;) {
		struct timespec ts[2] = { { .tv_sec = u->dirs[i].mtime },
					  { .tv_sec = u->dirs[i].mtime } };
		int fd = open_in_root(u->root_fd, u->dirs[i].path, O_RDONLY | O_DIRECTORY);

		if (fd < 0)
			return log_step_error("unpack: set directory time", u->dirs[i].path, fd);
		if (futimens(fd, ts) < 0) {
			int e = -errno;

			close(fd);
			return log_step_error("unpack: set directory time", u->dirs[i].path, e);
		}
		close(fd);
	}
	return 0;
}

/* Where an error happened, for the one log line. */
static void log_at(struct unpacker *u, struct reader *r, const char *what, const char *name,
		   int err)
{
	char where[64];

	if (u->compressed)
		snprintf(where, sizeof(where), "%s segment at offset %llu, +%llu",
			 u->stats->compression, (unsigned long long)u->segment_start,
			 (unsigned long long)r->pos);
	else
		snprintf(where, sizeof(where), "offset %llu", (unsigned long long)r->pos);
	if (name)
		log_errno(err, "unpack: %s (%s): %s: %s", u->image, where, what, name);
	else
		log_errno(err, "unpack: %s (%s): %s", u->image, where, what);
}

/* Extracts one archive up to and including its trailer. */
static int unpack_archive(struct unpacker *u, struct reader *r)
{
	u->stats->segments++;
	for (;;) {
		char header[NEWC_HEADER_SIZE];
		char path[NEWC_NAME_MAX];
		struct newc e;
		int res;

		res = reader_read(r, header, sizeof(header));
		if (res < 0) {
			log_at(u, r, res == -ENODATA ? "truncated archive" : "read", NULL,
			       res == -ENODATA ? -EBADMSG : res);
			return res == -ENODATA ? -EBADMSG : res;
		}
		if (newc_parse_header(header, &e) < 0) {
			log_at(u, r, "not a newc cpio header", NULL, -EBADMSG);
			return -EBADMSG;
		}
		if (e.namesize == 0 || e.namesize > sizeof(e.name)) {
			log_at(u, r, "bad name size", NULL, -EBADMSG);
			return -EBADMSG;
		}
		res = reader_read(r, e.name, e.namesize);
		if (res == 0)
			res = reader_align4(r);
		if (res < 0) {
			log_at(u, r, "truncated archive", NULL, -EBADMSG);
			return -EBADMSG;
		}
		e.name[e.namesize - 1] = '\0';
		if (strcmp(e.name, "TRAILER!!!") == 0) {
			hardlinks_reset(u);
			return reader_read(r, NULL, e.filesize);
		}
		res = normalize_name(e.name, path, sizeof(path));
		if (res < 0) {
			log_at(u, r, "unsafe entry name", e.name, res);
			return res;
		}
		res = extract_entry(u, r, &e, path);
		if (res == 0)
			res = reader_align4(r);
		if (res < 0) {
			log_at(u, r, "extract", e.name, res == -ENODATA ? -EBADMSG : res);
			return res == -ENODATA ? -EBADMSG : res;
		}
	}
}

/* Decompresses the rest of the image from offset and extracts every
 * archive in the stream. */
static int unpack_compressed(struct unpacker *u, const char *kind, uint64_t offset)
{
	const struct compression *comp = compression_find(kind);
	struct reader *r = NULL;
	struct child c = { .pid = -1, .errlog_fd = -1 };
	int in_fd = -1, pipe_fd[2] = { -1, -1 };
	int res;

	if (!comp)
		return log_step_error("unpack: no decompressor", kind, -EPROTONOSUPPORT);
	snprintf(u->stats->compression, sizeof(u->stats->compression), "%s", kind);
	u->compressed = true;
	u->segment_start = offset;

	in_fd = open(u->image, O_RDONLY | O_CLOEXEC);
	if (in_fd < 0)
		return log_step_error("unpack: open", u->image, -errno);
	if (lseek(in_fd, (off_t)offset, SEEK_SET) < 0) {
		res = log_step_error("unpack: seek", u->image, -errno);
		goto out;
	}
	if (pipe2(pipe_fd, O_CLOEXEC) < 0) {
		res = log_step_error("unpack: pipe", u->image, -errno);
		goto out;
	}
	res = child_spawn(comp->decompress, in_fd, pipe_fd[1], &c);
	close(pipe_fd[1]);
	pipe_fd[1] = -1;
	if (res < 0)
		goto out;

	r = calloc(1, sizeof(*r));
	if (!r) {
		res = -ENOMEM;
		goto out;
	}
	r->fd = pipe_fd[0];
	for (;;) {
		res = reader_skip_zeros(r);
		if (res <= 0)
			break;
		res = unpack_archive(u, r);
		if (res < 0)
			break;
	}
	if (res < 0) {
		child_abort(&c);
		goto out;
	}
	res = child_wait(&c);
	if (res < 0)
		log_error("unpack: %s: decompressing the %s segment at offset %llu failed",
			  u->image, kind, (unsigned long long)offset);
out:
	free(r);
	if (pipe_fd[0] >= 0)
		close(pipe_fd[0]);
	if (in_fd >= 0)
		close(in_fd);
	return res;
}

int initramfs_unpack(const char *image, const char *dir, struct unpack_stats *stats)
{
	struct unpacker u = { .image = image, .stats = stats, .root_fd = -1 };
	struct reader *r;
	int res;

	memset(stats, 0, sizeof(*stats));
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open(image, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		res = log_step_error("unpack: open", image, -errno);
		goto out;
	}
	u.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.root_fd < 0) {
		res = log_step_error("unpack: open", dir, -errno);
		goto out;
	}

	for (;;) {
		const uint8_t *p;
		const char *kind;
		long got;

		res = reader_skip_zeros(r);
		if (res < 0) {
			log_at(&u, r, "read", NULL, res);
			break;
		}
		if (res == 0)
			break;
		got = reader_peek(r, 6, &p);
		if (got < 0) {
			res = (int)got;
			log_at(&u, r, "read", NULL, res);
			break;
		}
		kind = initramfs_detect(p, (unsigned long)got);
		if (!kind) {
			res = -EBADMSG;
			log_at(&u, r, "neither a cpio archive nor known compressed data", NULL,
			       res);
			break;
		}
		if (strcmp(kind, "cpio") == 0) {
			res = unpack_archive(&u, r);
			if (res < 0)
				break;
			continue;
		}
		res = unpack_compressed(&u, kind, r->pos);
		break;
	}
	if (res == 0 && stats->segments == 0) {
		res = -EBADMSG;
		log_error("unpack: %s: no cpio archive found", image);
	}
	if (res == 0)
		res = apply_dir_times(&u);
out:
	hardlinks_reset(&u);
	free(u.links);
	for (size_t i = 0; i < u.n_dirs; i++)
		free(u.dirs[i].path);
	free(u.dirs);
	if (u.root_fd >= 0)
		close(u.root_fd);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	return res;
}
