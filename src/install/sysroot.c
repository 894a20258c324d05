/* SPDX-License-Identifier: MIT */
#include "install/sysroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "install/kver.h"
#include "common/path.h"

/* Where Debian, Fedora and the others keep the programs the installer
 * runs from the tree. */
static const char *const tool_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL
};

static int open_in(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int sysroot_open(const char *root, const char *path, int flags)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (rootfd < 0)
		return -errno;
	fd = open_in(rootfd, path, flags);
	close(rootfd);
	return fd;
}

static int fd_path(int fd, char *out, size_t size)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	return link_target(link, out, size);
}

int sysroot_resolve(const char *root, const char *path, char *out, size_t size)
{
	int fd = sysroot_open(root, path, O_PATH);
	int e;

	if (fd < 0)
		return fd;
	e = fd_path(fd, out, size);
	close(fd);
	return e;
}

int sysroot_find_tool(const char *root, const char *name, char *out, size_t size)
{
	for (size_t i = 0; tool_dirs[i]; i++) {
		struct stat st;
		int fd;

		if (path_join3(out, size, "", tool_dirs[i], name) < 0)
			continue;
		fd = sysroot_open(root, out, O_PATH);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			close(fd);
			return 0;
		}
		close(fd);
	}
	if (size)
		out[0] = '\0';
	return -ENOENT;
}

int sysroot_only_kernel(const char *root, char *kver, size_t size, unsigned *count)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*count = 0;
	fd = sysroot_open(root, "/lib/modules", O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct stat st;

		/* a kernel's directory; its name a usable release */
		if (kver_check(de->d_name, NULL) < 0 || strcmp(de->d_name, ".") == 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (++*count == 1 && str_copy(kver, size, de->d_name) < 0) {
			closedir(d);
			return -ENAMETOOLONG;
		}
	}
	closedir(d);
	if (*count == 0)
		return -ENOENT;
	return *count == 1 ? 0 : -ENOTUNIQ;
}

static const struct {
	const char *name;
	unsigned major, minor;
	mode_t mode;
} dev_nodes[] = {
	{ "/dev/null", 1, 3, 0666 },   { "/dev/zero", 1, 5, 0666 },    { "/dev/full", 1, 7, 0666 },
	{ "/dev/random", 1, 8, 0666 }, { "/dev/urandom", 1, 9, 0666 }, { "/dev/tty", 5, 0, 0666 },
};

static const char *const dev_links[][2] = {
	{ "/proc/self/fd", "/dev/fd" },
	{ "/proc/self/fd/0", "/dev/stdin" },
	{ "/proc/self/fd/1", "/dev/stdout" },
	{ "/proc/self/fd/2", "/dev/stderr" },
};

/* /dev inside the chroot: path resolution there cannot leave it. */
static int make_dev(const char **what)
{
	*what = "mount tmpfs on /dev";
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m") < 0)
		return -errno;
	*what = "mknod in /dev";
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		/* mknod's mode passes through the umask */
		if (mknod(dev_nodes[i].name, S_IFCHR | dev_nodes[i].mode,
			  makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0 ||
		    chmod(dev_nodes[i].name, dev_nodes[i].mode) < 0)
			return -errno;
	*what = "symlink in /dev";
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlink(dev_links[i][0], dev_links[i][1]) < 0)
			return -errno;
	return 0;
}

int sysroot_enter(const char *root, const char *work, const char **what)
{
	char target[64];
	int rootfd, tmpfd;

	*what = "unshare the mount namespace";
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* nothing of this namespace's mounts may reach the host's */
	*what = "make the mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*what = "open the root";
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	/* a program that only loads (the loader's trace) needs none of it */
	if (!work) {
		*what = "chroot";
		if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
			return -errno;
		close(rootfd);
		return 0;
	}
	/* the work directory is outside the tree: bound before the chroot,
	 * onto the tree's /tmp as found beneath root (the magic link of the
	 * descriptor, not a path that a symlink could redirect) */
	*what = "open /tmp of the root";
	tmpfd = open_in(rootfd, "/tmp", O_PATH | O_DIRECTORY);
	if (tmpfd < 0)
		return tmpfd;
	snprintf(target, sizeof(target), "/proc/self/fd/%d", tmpfd);
	*what = "bind the work directory on /tmp";
	if (mount(work, target, NULL, MS_BIND, NULL) < 0)
		return -errno;
	close(tmpfd);
	*what = "chroot";
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return -errno;
	close(rootfd);
	*what = "mount proc on /proc";
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return make_dev(what);
}
