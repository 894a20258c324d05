/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* File system helpers for the installer. All return 0 or a negative
 * errno and log nothing: callers say what they were doing. */

/* The mode of every file the installer writes for itself: the image and
 * the mini-initramfs in the boot directory, their temporary files, and
 * what it generates in the work directory (mode 0700). A full initrd can
 * carry LUKS keyfiles and SSH host keys; only root reads these files. The
 * entries packed inside the image and the cpio keep their own modes. */
#define PRIVATE_FILE_MODE 0600
/* /etc/initoverlayfs.conf, when the installer writes it: a host config */
#define HOST_CONFIG_MODE 0644

int mkdir_p(const char *path, mode_t mode);

/* Removes a tree without following symlinks or crossing mount points.
 * A missing path is not an error. */
int rm_rf(const char *path);

/* Copies the content of src (symlinks followed) to a new file dst. */
int copy_file(const char *src, const char *dst, mode_t mode);

/* Copies all bytes from in_fd (at its offset) to out_fd. */
int copy_fd(int in_fd, int out_fd);

/* Writes all of buf. */
int write_all(int fd, const void *buf, size_t len);

int fsync_path(const char *path);
/* fsync of the directory holding path (for a rename or an unlink). */
int fsync_parent(const char *path);

/* Creates a temporary file "<dir>/.<stem>.XXXXXX" (O_CLOEXEC, mode 0600).
 * Returns the fd, path in out. */
int tmpfile_in(const char *dir, const char *stem, char *out, size_t size);

/* Writes data to path through a temporary file in the same directory:
 * fsync, rename, fsync of the directory. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

int file_size(const char *path, uint64_t *size);

/* Reads a file of any size into a new NUL-terminated buffer. */
int read_file_alloc(const char *path, char **out, size_t *len);
/* The same for the regular file (or memfd) behind fd, from offset 0
 * whatever the fd's offset. */
int read_fd_alloc(int fd, char **out, size_t *len);

/* One entry of a directory tree, relative to its root ("" is the root
 * itself, then "bin", "bin/sh", ...), with lstat data. */
struct tree_entry {
	char *path;
	struct stat st;
};

struct tree {
	struct tree_entry *entries;
	size_t n;
};

/* Lists root recursively, entries sorted by path bytes (a directory comes
 * before what it contains). Does not follow symlinks. */
int tree_list(const char *root, struct tree *t);
void tree_free(struct tree *t);

/* Bytes the tree would need: file sizes rounded up to 4 KiB, plus 4 KiB
 * per other entry. */
uint64_t tree_bytes(const struct tree *t);

/* "12.3 MiB" */
const char *format_size(uint64_t bytes, char *buf, size_t size);
/* "N bytes (format_size)" into buf; returns buf. */
const char *size_str(uint64_t bytes, char *buf, size_t size);

/* snprintf that reports truncation: 0 or -ENAMETOOLONG (out is then
 * truncated but terminated). */
__attribute__((format(printf, 3, 4))) int fmt_path(char *out, size_t size, const char *fmt, ...);
