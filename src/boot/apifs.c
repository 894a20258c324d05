/* SPDX-License-Identifier: MIT */
#include "boot/apifs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <unistd.h>

#include "boot/mountutil.h"
#include "common/path.h"

struct apifs {
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *options;
};

static const struct apifs apifs_table[] = {
	{ "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
};

#define APIFS_COUNT (sizeof(apifs_table) / sizeof(apifs_table[0]))

int apifs_mount_all(const char **failed_path)
{
	for (size_t i = 0; i < APIFS_COUNT; i++) {
		const struct apifs *fs = &apifs_table[i];
		int r;

		*failed_path = fs->target;
		r = mkdir_parents(fs->target, 0755);
		if (r < 0)
			return r;
		r = is_mount_point(fs->target);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = mount_fs(fs->fstype, fs->target, fs->fstype, fs->flags, fs->options);
		if (r < 0)
			return r;
	}
	*failed_path = NULL;
	return 0;
}

int console_ensure_stdio(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0 && fcntl(STDOUT_FILENO, F_GETFD) >= 0 &&
	    fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return 0;

	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (int target = 0; target <= 2; target++) {
		if (fcntl(target, F_GETFD) >= 0 || target == fd)
			continue;
		if (dup2(fd, target) < 0) {
			int r = -errno;
			if (fd > 2)
				close(fd);
			return r;
		}
	}
	if (fd > 2)
		close(fd);
	return 0;
}

int apifs_move_into(const char *new_root, const char **failed_path)
{
	for (size_t i = 0; i < APIFS_COUNT; i++) {
		char target[PATH_MAX];
		int r;

		*failed_path = apifs_table[i].target;
		r = path_join(target, sizeof(target), new_root, apifs_table[i].target);
		if (r < 0)
			return r;
		r = move_mount_to(apifs_table[i].target, target);
		if (r < 0)
			return r;
	}
	*failed_path = NULL;
	return 0;
}
