/* SPDX-License-Identifier: MIT */
#include "install/pack.h"

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

/* A small write buffer: the archive goes into a pipe. */
struct out {
	int fd;
	uint64_t pos;
	size_t used;
	char buf[65536];
};

static int out_flush(struct out *o)
{
	int r = write_all(o->fd, o->buf, o->used);

	o->used = 0;
	return r;
}

static int out_write(struct out *o, const void *data, size_t len)
{
	const char *p = data;

	o->pos += len;
	while (len > 0) {
		size_t take = sizeof(o->buf) - o->used < len ? sizeof(o->buf) - o->used : len;
		int r;

		memcpy(o->buf + o->used, p, take);
		o->used += take;
		p += take;
		len -= take;
		if (o->used == sizeof(o->buf)) {
			r = out_flush(o);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int out_pad4(struct out *o)
{
	static const char zeros[4];
	size_t pad = (4 - (o->pos & 3)) & 3;

	return pad ? out_write(o, zeros, pad) : 0;
}

static int write_header(struct out *o, uint32_t ino, mode_t mode, uint32_t nlink, uint64_t size,
			dev_t rdev, const char *name)
{
	char h[111];
	size_t namesize = strlen(name) + 1;
	int r;

	if (size > UINT32_MAX)
		return -EFBIG;
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
		 (unsigned)mode, 0U, 0U, nlink, 0U, (unsigned)size, 0U, 0U, major(rdev),
		 minor(rdev), (unsigned)namesize, 0U);
	r = out_write(o, h, 110);
	if (r == 0)
		r = out_write(o, name, namesize);
	if (r == 0)
		r = out_pad4(o);
	return r;
}

static int write_file_body(struct out *o, const struct pack_entry *e)
{
	char buf[65536];
	uint64_t left = e->size;
	int fd, r = 0;

	fd = open(e->source, O_RDONLY | O_CLOEXEC);
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
		r = out_write(o, buf, (size_t)n);
		if (r < 0)
			break;
		left -= (uint64_t)n;
	}
	close(fd);
	return r == 0 ? out_pad4(o) : r;
}

int pack_write(struct pack_list *l, int fd, void (*midway)(void), const char **failed_path)
{
	struct out *o;
	int r = 0;

	*failed_path = NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->fd = fd;
	qsort(l->entries, l->n, sizeof(l->entries[0]), entry_cmp);
	for (size_t i = 0; i < l->n && r == 0; i++) {
		const struct pack_entry *e = &l->entries[i];
		mode_t type = e->mode & S_IFMT;
		uint64_t size = type == S_IFREG || type == S_IFLNK ? e->size : 0;

		*failed_path = e->path;
		if (i > 0 && strcmp(e->path, l->entries[i - 1].path) == 0) {
			r = -EEXIST;
			break;
		}
		r = write_header(o, (uint32_t)(i + 1), e->mode, type == S_IFDIR ? 2 : 1, size,
				 e->rdev, e->path);
		if (r == 0 && type == S_IFREG)
			r = write_file_body(o, e);
		else if (r == 0 && type == S_IFLNK)
			r = out_write(o, e->source, e->size) ?: out_pad4(o);
		if (r == 0 && midway && i == l->n / 2) {
			r = out_flush(o);
			if (r == 0)
				midway();
		}
	}
	if (r == 0) {
		*failed_path = NULL;
		r = write_header(o, 0, 0, 1, 0, 0, "TRAILER!!!");
	}
	if (r == 0)
		r = out_flush(o);
	free(o);
	return r;
}
