/* SPDX-License-Identifier: MIT */
#include "common/path.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int str_copy(char *out, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (size == 0)
		return -ENAMETOOLONG;
	if (len >= size) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(out, src, len + 1);
	return 0;
}

static int append(char *out, size_t size, size_t *len, const char *part)
{
	size_t part_len;

	if (!part || !part[0])
		return 0;
	/* Fold the slashes at the seam: "/a/" + "/b" -> "/a/b". */
	if (*len > 0 && out[*len - 1] == '/')
		while (*part == '/')
			part++;
	if (*len > 0 && out[*len - 1] != '/' && *part != '/') {
		if (*len + 1 >= size)
			return -ENAMETOOLONG;
		out[(*len)++] = '/';
	}
	part_len = strlen(part);
	if (*len + part_len >= size)
		return -ENAMETOOLONG;
	memcpy(out + *len, part, part_len + 1);
	*len += part_len;
	return 0;
}

int path_join3(char *out, size_t size, const char *root, const char *dir, const char *name)
{
	size_t len = 0;
	int r;

	if (size == 0)
		return -ENAMETOOLONG;
	out[0] = '\0';
	if (root && strcmp(root, "/") == 0)
		root = NULL;
	r = append(out, size, &len, root);
	if (r >= 0)
		r = append(out, size, &len, dir);
	if (r >= 0)
		r = append(out, size, &len, name);
	if (r < 0)
		out[0] = '\0';
	return r;
}

int path_join(char *out, size_t size, const char *root, const char *path)
{
	return path_join3(out, size, root, path, NULL);
}

long read_small_file(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd, r = 0;

	if (size == 0)
		return -EFBIG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len + 1 >= size) {
			/* Full: only fine if the file ends exactly here. */
			char probe;
			n = read(fd, &probe, 1);
			if (n > 0)
				r = -EFBIG;
			else if (n < 0)
				r = -errno;
			break;
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		buf[0] = '\0';
		return r;
	}
	buf[len] = '\0';
	return (long)len;
}

int link_target(const char *link, char *out, size_t size)
{
	ssize_t n = readlink(link, out, size);

	if (n < 0)
		return -errno;
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}
