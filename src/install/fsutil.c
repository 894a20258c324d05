/* SPDX-License-Identifier: MIT */
#include "install/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
		return len ? -ENAMETOOLONG : -EINVAL;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	if (stat(buf, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;

	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = rm_rf_at(dirfd(d), de->d_name, dev);
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	if (r == 0 && unlinkat(parent_fd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	return rm_rf_at(AT_FDCWD, path, st.st_dev);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int copy_fd(int in_fd, int out_fd)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(in_fd, buf, sizeof(buf));
		int r;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		r = write_all(out_fd, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

int copy_file(const char *src, const char *dst, mode_t mode)
{
	int in, out, r;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	r = copy_fd(in, out);
	if (r == 0 && fchmod(out, mode) < 0)
		r = -errno;
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (str_copy(dir, sizeof(dir), path) < 0)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return fsync_path(".");
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return fsync_path(dir);
}

int tmpfile_in(const char *dir, const char *stem, char *out, size_t size)
{
	int n, fd;

	n = snprintf(out, size, "%s/.%s.XXXXXX", dir, stem);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	fd = mkostemp(out, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	char *slash;
	int fd, r;

	if (str_copy(dir, sizeof(dir), path) < 0)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == dir) {
		dir[1] = '\0';
		base = path + 1;
	} else if (slash) {
		*slash = '\0';
		base = slash + 1;
	} else {
		strcpy(dir, ".");
		base = path;
	}
	fd = tmpfile_in(dir, base, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return fsync_path(dir);
}

int file_size(const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

int read_fd_alloc(int fd, char **out, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;

			free(buf);
			return r;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

int read_file_alloc(const char *path, char **out, size_t *len)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = read_fd_alloc(fd, out, len);
	close(fd);
	return r;
}

static int tree_add(struct tree *t, size_t *cap, const char *path, const struct stat *st)
{
	if (t->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct tree_entry *e = realloc(t->entries, ncap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		t->entries = e;
		*cap = ncap;
	}
	t->entries[t->n].path = strdup(path);
	if (!t->entries[t->n].path)
		return -ENOMEM;
	t->entries[t->n].st = *st;
	t->n++;
	return 0;
}

static int tree_walk(int dir_fd, const char *rel, struct tree *t, size_t *cap)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = fdopendir(dir_fd);
	if (!d) {
		r = -errno;
		close(dir_fd);
		return r;
	}
	while ((errno = 0, de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		int n, fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		r = tree_add(t, cap, path, &st);
		if (r < 0)
			break;
		if (!S_ISDIR(st.st_mode))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			break;
		}
		r = tree_walk(fd, path, t, cap);
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct tree_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int tree_list(const char *root, struct tree *t)
{
	struct stat st;
	size_t cap = 0;
	int fd, r;

	t->entries = NULL;
	t->n = 0;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = tree_add(t, &cap, "", &st);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = tree_walk(fd, "", t, &cap);
	if (r < 0) {
		tree_free(t);
		return r;
	}
	/* Sorting by the whole path puts "a" before "a/b"; "a-b" may come
	 * between them, which keeps every parent before its children. */
	qsort(t->entries, t->n, sizeof(t->entries[0]), entry_cmp);
	return 0;
}

void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->entries[i].path);
	free(t->entries);
	t->entries = NULL;
	t->n = 0;
}

uint64_t tree_bytes(const struct tree *t)
{
	uint64_t total = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct stat *st = &t->entries[i].st;

		if (S_ISREG(st->st_mode))
			total += ((uint64_t)st->st_size + 4095) & ~(uint64_t)4095;
		else
			total += 4096;
	}
	return total;
}

const char *format_size(uint64_t bytes, char *buf, size_t size)
{
	if (bytes >= 1024ULL * 1024)
		snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
	else if (bytes >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)bytes / 1024.0);
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

int fmt_path(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

const char *size_str(uint64_t bytes, char *buf, size_t size)
{
	char human[32];

	snprintf(buf, size, "%llu bytes (%s)", (unsigned long long)bytes,
		 format_size(bytes, human, sizeof(human)));
	return buf;
}
