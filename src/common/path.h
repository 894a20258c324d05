/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Joins root and path into out: ("/tmp/t", "/boot") -> "/tmp/t/boot".
 * An empty or NULL root, or "/", leaves path as it is. Duplicate slashes
 * at the seam are folded. Returns 0 or -ENAMETOOLONG (out is then ""). */
int path_join(char *out, size_t size, const char *root, const char *path);

/* Like path_join with three parts: root, dir, name. */
int path_join3(char *out, size_t size, const char *root, const char *dir, const char *name);

/* Copies src into out, -ENAMETOOLONG when it does not fit. */
int str_copy(char *out, size_t size, const char *src);

/* Reads a whole small file into buf (NUL-terminated, trailing newline
 * kept). Returns the length or a negative errno; -EFBIG when it does not
 * fit. */
long read_small_file(const char *path, char *buf, size_t size);

/* The target of symbolic link link into out, NUL-terminated. Returns 0,
 * -ENAMETOOLONG when it does not fit, or readlink's -errno. */
int link_target(const char *link, char *out, size_t size);
