/* SPDX-License-Identifier: MIT */
#include "boot/mountutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "common/path.h"

int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	int r;

	r = str_copy(buf, sizeof(buf), path);
	if (r < 0)
		return r;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0) {
		if (errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

int mount_fs(const char *source, const char *target, const char *fstype, unsigned long flags,
	     const char *data)
{
	if (mount(source, target, fstype, flags, data) < 0)
		return -errno;
	return 0;
}

int move_mount_to(const char *source, const char *target)
{
	int r = mkdir_parents(target, 0755);

	if (r < 0)
		return r;
	r = mount_fs(source, target, NULL, MS_MOVE, NULL);
	if (r != -EINVAL)
		return r;
	/* The kernel does not move a mount whose parent is shared, and
	 * systemd makes / shared: bind it there, detach it here. */
	r = mount_fs(source, target, NULL, MS_BIND | MS_REC, NULL);
	if (r < 0)
		return r;
	return umount2(source, MNT_DETACH) < 0 ? -errno : 0;
}

int is_mount_point(const char *path)
{
	char parent[PATH_MAX];
	struct stat st, st_parent;
	int r;

	r = path_join(parent, sizeof(parent), path, "..");
	if (r < 0)
		return r;
	if (stat(path, &st) < 0)
		return -errno;
	if (stat(parent, &st_parent) < 0)
		return -errno;
	/* Different device, or the same inode ("/" is its own parent). */
	return st.st_dev != st_parent.st_dev || st.st_ino == st_parent.st_ino;
}
