/* SPDX-License-Identifier: MIT */
#include "boot/oldroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot/fdutil.h"
#include "common/log.h"

/* The descriptor the ready byte goes through, in the child. */
#define READY_FD 3
/* PID 1's root is checked at every mount event, and at least this
 * often: chroot(2) itself is not a mount event. */
#define RECHECK_MS 1000
/* Mounts stacked on one entry of the old root, at most. */
#define MAX_STACKED 16

/* 1 when PID 1's root is no longer the directory root_st describes, 0
 * while it is, or a negative errno. */
static int pid1_has_left(int proc_fd, const struct stat *root_st)
{
	struct stat st;

	if (fstatat(proc_fd, "1/root", &st, 0) < 0)
		return -errno;
	return st.st_dev != root_st->st_dev || st.st_ino != root_st->st_ino;
}

static int wait_until_pid1_leaves(int proc_fd, const struct stat *root_st)
{
	struct pollfd mounts = { .events = POLLPRI };
	int r;

	/* /proc/self/mountinfo signals POLLPRI when a mount changes. */
	mounts.fd = openat(proc_fd, "self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mounts.fd < 0)
		return -errno;
	while ((r = pid1_has_left(proc_fd, root_st)) == 0) {
		if (poll(&mounts, 1, RECHECK_MS) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	close(mounts.fd);
	return r < 0 ? r : 0;
}

/* Detaches what is mounted on the entry name of the old root: it is
 * reachable through a descriptor only, so the unmount goes through the
 * descriptor's /proc/self/fd link (the working directory is /proc). */
static int detach_entry(int root_fd, const char *name)
{
	char link[32];
	int fd, r = 0;

	fd = openat(root_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "self/fd/%d", fd);
	if (umount2(link, MNT_DETACH) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Detaches every mount whose mount point is an entry of the old root;
 * what is mounted beneath them goes with them. Mounts stack: under the
 * API file systems the next init mounted and moved away, ours stay, and
 * under those the tmpfs root's bind mount of the overlay's directory.
 * Returns how many. */
static unsigned detach_all(int root_fd, const struct stat *root_st, unsigned *failed)
{
	unsigned detached = 0;
	struct dirent *de;
	DIR *dir;
	int fd;

	*failed = 0;
	fd = dup(root_fd);
	dir = fd < 0 ? NULL : fdopendir(fd);
	if (!dir) {
		log_warning("release old root: cannot read the old root: %s", errno_text(errno));
		if (fd >= 0)
			close(fd);
		(*failed)++;
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		struct stat st;
		int r;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		for (unsigned depth = 0;; depth++) {
			/* The last component crosses mounts: st is the top one. */
			if (fstatat(root_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(st.st_mode) || st.st_dev == root_st->st_dev)
				break;
			r = depth < MAX_STACKED ? detach_entry(root_fd, de->d_name) : -ELOOP;
			if (r < 0) {
				log_warning("release old root: /%s: %s (%s), it stays mounted",
					    de->d_name, errno_text(-r), errno_name(-r));
				(*failed)++;
				break;
			}
			detached++;
		}
	}
	closedir(dir);
	return detached;
}

static int release_run(void)
{
	unsigned detached, failed;
	struct stat root_st;
	int root_fd, proc_fd, r;
	char ready = 1;

	root_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0 || fstat(root_fd, &root_st) < 0)
		return log_step_error("release old root", "/", -errno);
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0 || fchdir(proc_fd) < 0)
		return log_step_error("release old root", "/proc", -errno);
	/* From here on, the next init may move /proc and /dev: ours stay. */
	if (write(READY_FD, &ready, 1) != 1)
		return log_step_error("release old root", "ready pipe", -errno);
	close(READY_FD);

	r = wait_until_pid1_leaves(proc_fd, &root_st);
	if (r < 0)
		return log_step_error("release old root", "/proc/1/root", r);
	detached = detach_all(root_fd, &root_st, &failed);
	log_info("release old root: PID 1 left it; %u mounts beneath it detached%s", detached,
		 failed ? ", some stay" : "");
	close(proc_fd);
	close(root_fd);
	return failed ? -EBUSY : 0;
}

static __attribute__((noreturn)) void release_child(int ready_fd)
{
	prctl(PR_SET_NAME, "iofs-oldroot", 0, 0, 0);
	/* Nothing of the parent's may stay open here: this process outlives
	 * the boot program by the whole initrd. */
	log_close();
	if (ready_fd != READY_FD && dup2(ready_fd, READY_FD) < 0)
		_exit(1);
	close_fds_from(READY_FD + 1);
	if (log_open_kmsg(NULL) < 0)
		log_set_max_level(LOG_LEVEL_ERR);
	_exit(release_run() < 0 ? 1 : 0);
}

pid_t oldroot_release_spawn(void)
{
	int pipe_fds[2], r = 0;
	char ready;
	pid_t pid;
	ssize_t n;

	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return r;
	}
	if (pid == 0)
		release_child(pipe_fds[1]);
	close(pipe_fds[1]);
	do
		n = read(pipe_fds[0], &ready, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		/* It said why on its way out. */
		r = n < 0 ? -errno : -ECHILD;
		waitpid(pid, NULL, 0);
	}
	close(pipe_fds[0]);
	return r < 0 ? r : pid;
}
