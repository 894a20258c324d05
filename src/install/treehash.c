/* SPDX-License-Identifier: MIT */
#include "install/treehash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "install/fsutil.h"
#include "common/path.h"

static void put_u64(struct sha256 *ctx, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	sha256_update(ctx, b, sizeof(b));
}

/* Index of the first entry sharing this entry's inode, or the entry's
 * own index. */
static size_t link_leader(const struct tree *t, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (t->entries[j].st.st_ino == t->entries[i].st.st_ino &&
		    t->entries[j].st.st_dev == t->entries[i].st.st_dev)
			return j;
	return i;
}

static int hash_entry(struct sha256 *ctx, const char *root, const struct tree *t, size_t i)
{
	const struct tree_entry *e = &t->entries[i];
	char full[PATH_MAX], target[PATH_MAX];
	uint8_t digest[SHA256_DIGEST_SIZE];
	ssize_t n;
	int fd, r;

	sha256_update(ctx, e->path, strlen(e->path) + 1);
	put_u64(ctx, e->st.st_mode);
	if (path_join(full, sizeof(full), root, e->path) < 0)
		return -ENAMETOOLONG;
	switch (e->st.st_mode & S_IFMT) {
	case S_IFREG:
		if (e->st.st_nlink > 1) {
			size_t leader = link_leader(t, i);

			put_u64(ctx, leader);
			if (leader != i)
				return 0;
		}
		fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		r = sha256_file(fd, digest);
		close(fd);
		if (r < 0)
			return r;
		put_u64(ctx, (uint64_t)e->st.st_size);
		sha256_update(ctx, digest, sizeof(digest));
		return 0;
	case S_IFLNK:
		n = readlink(full, target, sizeof(target));
		if (n < 0)
			return -errno;
		sha256_update(ctx, target, (size_t)n);
		return 0;
	case S_IFCHR:
	case S_IFBLK:
		put_u64(ctx, major(e->st.st_rdev));
		put_u64(ctx, minor(e->st.st_rdev));
		return 0;
	default:
		return 0;
	}
}

int tree_hash(const char *root, uint8_t digest[SHA256_DIGEST_SIZE])
{
	struct sha256 ctx;
	struct tree t;
	int r;

	r = tree_list(root, &t);
	if (r < 0)
		return r;
	sha256_init(&ctx);
	for (size_t i = 0; i < t.n && r == 0; i++)
		r = hash_entry(&ctx, root, &t, i);
	tree_free(&t);
	if (r == 0)
		sha256_final(&ctx, digest);
	return r;
}

void uuid_from_digest(const uint8_t digest[SHA256_DIGEST_SIZE], char *out)
{
	uint8_t u[16];
	char hex[33];

	memcpy(u, digest, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	hex_encode(u, sizeof(u), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}
