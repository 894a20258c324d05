/* SPDX-License-Identifier: MIT */
#include "boot/newroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/mountutil.h"

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
	int in, out, r = 0;
	off_t left = st->st_size;

	in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st->st_mode & 07777);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (left > 0) {
		ssize_t n = sendfile(out, in, NULL, (size_t)left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		left -= n;
	}
	/* the creation mode went through the umask */
	if (r == 0 && fchmod(out, st->st_mode & 07777) < 0)
		r = -errno;
	close(out);
	close(in);
	return r;
}

static int copy_entry(int src_dir, int dst_dir, const char *name, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n;
	int r;

	if (S_ISLNK(st->st_mode)) {
		n = readlinkat(src_dir, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		r = symlinkat(target, dst_dir, name) < 0 ? -errno : 0;
	} else if (S_ISREG(st->st_mode)) {
		r = copy_file(src_dir, dst_dir, name, st);
	} else {
		r = mknodat(dst_dir, name, st->st_mode, st->st_rdev) < 0 ? -errno : 0;
	}
	if (r == 0 && fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	return r;
}

int newroot_tmpfs(const char *merged, const char *new_root, struct newroot_stats *stats,
		  const char **failed_path)
{
	static char failed[PATH_MAX];
	struct dirent *de;
	int src_fd, dst_fd, r;
	DIR *dir;

	stats->bound = stats->copied = 0;
	*failed_path = new_root;
	r = mkdir_parents(new_root, 0755);
	if (r < 0)
		return r;
	r = mount_fs("tmpfs", new_root, "tmpfs", 0, "mode=0755");
	if (r < 0)
		return r;
	*failed_path = merged;
	src_fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src_fd < 0) {
		r = -errno;
		goto out;
	}
	dst_fd = open(new_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dst_fd < 0) {
		r = -errno;
		close(src_fd);
		*failed_path = new_root;
		goto out;
	}
	dir = fdopendir(src_fd);
	if (!dir) {
		r = -errno;
		close(src_fd);
		close(dst_fd);
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		char to[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* the entry's path: what an error names and what a bind mounts */
		*failed_path = failed;
		if ((size_t)snprintf(failed, sizeof(failed), "%s/%s", merged, de->d_name) >=
		    sizeof(failed)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = copy_entry(src_fd, dst_fd, de->d_name, &st);
			if (r < 0)
				break;
			stats->copied++;
			continue;
		}
		if ((size_t)snprintf(to, sizeof(to), "%s/%s", new_root, de->d_name) >= sizeof(to)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (mkdirat(dst_fd, de->d_name, st.st_mode & 07777) < 0) {
			r = -errno;
			break;
		}
		r = mount_fs(failed, to, NULL, MS_BIND | MS_REC, NULL);
		if (r < 0)
			break;
		stats->bound++;
	}
	closedir(dir);
	close(dst_fd);
out:
	/* Nothing half set up stays: the tmpfs goes, and its binds with it. */
	if (r < 0)
		umount2(new_root, MNT_DETACH);
	return r < 0 ? r : 0;
}
