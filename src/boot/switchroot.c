/* SPDX-License-Identifier: MIT */
#include "boot/switchroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"

#define REMOVE_MAX_DEPTH 64
/* openat2 retries: see open_in_root(). */
#define OPEN_IN_ROOT_TRIES 100

/*
 * With RESOLVE_IN_ROOT the kernel answers EAGAIN when a ".." component
 * (Debian's /sbin/init -> ../lib/systemd/systemd) is resolved while any
 * mount or rename happens anywhere, which systemd does all through early
 * boot. The race is benign here: retry, as openat2(2) says to.
 */
static int open_in_root(int root_fd, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT,
	};
	int fd, tries = 0;

	do
		fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < OPEN_IN_ROOT_TRIES);
	return fd;
}

int switchroot_check_init(const char *new_root, const char *init)
{
	struct stat st;
	int root_fd, fd, r = 0;

	root_fd = open(new_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -errno;
	fd = open_in_root(root_fd, init);
	if (fd < 0 && errno == ENOSYS) {
		/* Before 5.6: the exec after the switch will tell. */
		close(root_fd);
		return 0;
	}
	if (fd < 0)
		r = -errno;
	else if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	else if (!(st.st_mode & 0111))
		r = -EACCES;
	if (fd >= 0)
		close(fd);
	close(root_fd);
	return r;
}

static bool is_initramfs(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return false;
	return sfs.f_type == RAMFS_MAGIC || sfs.f_type == TMPFS_MAGIC;
}

/* Empties the directory dir_fd, staying on device dev. */
static void remove_contents(int dir_fd, dev_t dev, unsigned depth, unsigned *errors)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	fd = dup(dir_fd);
	if (fd < 0) {
		(*errors)++;
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		(*errors)++;
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		bool is_dir;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			(*errors)++;
			continue;
		}
		is_dir = S_ISDIR(st.st_mode);
		/* A mount point: what is mounted there is not ours to delete. */
		if (st.st_dev != dev)
			continue;
		if (is_dir) {
			int child;

			if (depth >= REMOVE_MAX_DEPTH) {
				(*errors)++;
				continue;
			}
			child = openat(dir_fd, de->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (child < 0) {
				(*errors)++;
				continue;
			}
			remove_contents(child, dev, depth + 1, errors);
			close(child);
		}
		if (unlinkat(dir_fd, de->d_name, is_dir ? AT_REMOVEDIR : 0) < 0)
			(*errors)++;
	}
	closedir(dir);
}

int switchroot(const char *new_root, unsigned *cleanup_errors)
{
	struct stat old_st, new_st;
	int old_root_fd;

	*cleanup_errors = 0;
	old_root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old_root_fd < 0)
		return -errno;
	if (fstat(old_root_fd, &old_st) < 0 || stat(new_root, &new_st) < 0)
		goto fail;
	if (old_st.st_dev == new_st.st_dev) {
		errno = EBUSY; /* new root is not a mount of its own */
		goto fail;
	}
	if (chdir(new_root) < 0)
		goto fail;
	if (mount(new_root, "/", NULL, MS_MOVE, NULL) < 0)
		goto fail;
	if (chroot(".") < 0)
		goto fail;
	if (chdir("/") < 0)
		goto fail;

	if (is_initramfs(old_root_fd))
		remove_contents(old_root_fd, old_st.st_dev, 0, cleanup_errors);
	close(old_root_fd);
	return 0;
fail:;
	int r = -errno;
	close(old_root_fd);
	return r;
}
