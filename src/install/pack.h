/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A reproducible newc cpio writer on libarchive: entries sorted by path,
 * owned by root, mtime 0, inode numbers in order, no hard links. */

struct pack_entry {
	char *path;    /* relative, no leading slash */
	mode_t mode;   /* type and permissions */
	dev_t rdev;    /* device nodes */
	char *source;  /* regular files: where the bytes are; symlinks: target */
	uint64_t size; /* regular files */
};

struct pack_list {
	struct pack_entry *entries;
	size_t n, cap;
};

/* Adds every entry under root (the root itself excluded). */
int pack_add_tree(struct pack_list *l, const char *root);
/* Adds a device node (or other special file) that needs no bytes. */
int pack_add_node(struct pack_list *l, const char *path, mode_t mode, dev_t rdev);
void pack_list_free(struct pack_list *l);

/* Sorts the list and writes the archive to fd. midway, when not NULL, is
 * called once half the entries are written (crash tests). Returns 0 or a
 * negative errno; *failed_path names the entry that failed. */
int pack_write(struct pack_list *l, int fd, void (*midway)(void), const char **failed_path);
