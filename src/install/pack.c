/* SPDX-License-Identifier: MIT */
#include "install/pack.h"

#include <archive.h>
#include <archive_entry.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "install/fsutil.h"
#include "common/path.h"

static int pack_add(struct pack_list *l, const char *path, mode_t mode, dev_t rdev,
		    const char *source, uint64_t size)
{
	struct pack_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 128;

		e = realloc(l->entries, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->entries = e;
		l->cap = cap;
	}
	e = &l->entries[l->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	e->source = source ? strdup(source) : NULL;
	if (!e->path || (source && !e->source)) {
		free(e->path);
		free(e->source);
		return -ENOMEM;
	}
	e->mode = mode;
	e->rdev = rdev;
	e->size = size;
	l->n++;
	return 0;
}

int pack_add_node(struct pack_list *l, const char *path, mode_t mode, dev_t rdev)
{
	return pack_add(l, path, mode, rdev, NULL, 0);
}

int pack_add_tree(struct pack_list *l, const char *root)
{
	struct tree t;
	int r;

	r = tree_list(root, &t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t.n && r == 0; i++) {
		const struct tree_entry *te = &t.entries[i];
		char full[PATH_MAX], target[PATH_MAX];
		mode_t type = te->st.st_mode & S_IFMT;
		/* Normalized permissions: what the boot needs, nothing of the
		 * build host's umask. */
		mode_t perm = type == S_IFDIR || (te->st.st_mode & 0111) ? 0755 : 0644;
		ssize_t n;

		if (!*te->path)
			continue;
		r = path_join(full, sizeof(full), root, te->path);
		if (r < 0)
			break;
		switch (type) {
		case S_IFDIR:
			r = pack_add(l, te->path, S_IFDIR | perm, 0, NULL, 0);
			break;
		case S_IFREG:
			r = pack_add(l, te->path, S_IFREG | perm, 0, full,
				     (uint64_t)te->st.st_size);
			break;
		case S_IFLNK:
			n = readlink(full, target, sizeof(target) - 1);
			if (n < 0) {
				r = -errno;
				break;
			}
			target[n] = '\0';
			r = pack_add(l, te->path, S_IFLNK | 0777, 0, target, (uint64_t)n);
			break;
		default:
			r = pack_add(l, te->path, te->st.st_mode, te->st.st_rdev, NULL, 0);
			break;
		}
	}
	tree_free(&t);
	return r;
}

void pack_list_free(struct pack_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->entries[i].path);
		free(l->entries[i].source);
	}
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pack_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

static int archive_fail(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 ? -e : -EIO;
}

static int write_file_body(struct archive *a, const struct pack_entry *e)
{
	char buf[65536];
	uint64_t left = e->size;
	int fd, r = 0;

	fd = open(e->source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (left > 0) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* the file changed size under us */
			r = n < 0 ? -errno : -EIO;
			break;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			r = archive_fail(a);
			break;
		}
		left -= (uint64_t)n;
	}
	close(fd);
	return r;
}

/* One entry, with what makes the archive reproducible: inode numbers in
 * order, owned by root, mtime 0. */
static int write_entry(struct archive *a, struct archive_entry *ae, const struct pack_entry *e,
		       uint32_t ino)
{
	mode_t type = e->mode & S_IFMT;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_ino(ae, ino);
	archive_entry_set_nlink(ae, type == S_IFDIR ? 2 : 1);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, 0, 0);
	archive_entry_set_size(ae, type == S_IFREG ? (la_int64_t)e->size : 0);
	if (type == S_IFLNK)
		archive_entry_set_symlink(ae, e->source);
	else if (type == S_IFCHR || type == S_IFBLK)
		archive_entry_set_rdev(ae, e->rdev);
	if (archive_write_header(a, ae) != ARCHIVE_OK)
		return archive_fail(a);
	return type == S_IFREG ? write_file_body(a, e) : 0;
}

static struct archive *newc_writer(int fd)
{
	struct archive *a = archive_write_new();

	/* unbuffered, so that what is written is in fd at once (crash
	 * tests), and no padding after the trailer */
	if (a && (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
		  archive_write_add_filter_none(a) != ARCHIVE_OK ||
		  archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
		  archive_write_open_fd(a, fd) != ARCHIVE_OK)) {
		archive_write_free(a);
		a = NULL;
	}
	return a;
}

int pack_write(struct pack_list *l, int fd, void (*midway)(void), const char **failed_path)
{
	struct archive_entry *ae = archive_entry_new();
	struct archive *a = newc_writer(fd);
	int r = 0;

	*failed_path = NULL;
	if (!a || !ae) {
		r = -ENOMEM;
		goto out;
	}
	qsort(l->entries, l->n, sizeof(l->entries[0]), entry_cmp);
	for (size_t i = 0; i < l->n && r == 0; i++) {
		const struct pack_entry *e = &l->entries[i];

		*failed_path = e->path;
		if (i > 0 && strcmp(e->path, l->entries[i - 1].path) == 0) {
			r = -EEXIST;
			break;
		}
		r = write_entry(a, ae, e, (uint32_t)(i + 1));
		if (r == 0 && midway && i == l->n / 2)
			midway();
	}
	if (r == 0) {
		*failed_path = NULL;
		if (archive_write_close(a) != ARCHIVE_OK)
			r = archive_fail(a);
	}
out:
	if (ae)
		archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return r;
}
