/* SPDX-License-Identifier: MIT */
#include "boot/image.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "boot/loop.h"
#include "boot/mountutil.h"
#include "common/log.h"

static int open_image(const char *image_path)
{
	struct stat st;
	int fd;

	fd = open(image_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

static int mount_through_loop(int image_fd, const char *image_path, const char *target,
			      const char *fstype, struct image_mount_result *result,
			      const char **failed_path)
{
	int loop_fd, r;

	*failed_path = "/dev/loop-control";
	loop_fd = loop_attach_read_only(image_fd, image_path, result->loop_device,
					sizeof(result->loop_device));
	if (loop_fd < 0)
		return loop_fd;
	*failed_path = result->loop_device;
	r = mount_fs(result->loop_device, target, fstype, MS_RDONLY, NULL);
	/* The mount now holds the device; on failure autoclear frees it. The
	 * name stays in result so that the error line can say which it was. */
	close(loop_fd);
	return r;
}

/* EROFS mounts regular files from Linux 6.12 on. On older kernels the
 * attempt costs an error-level kernel line ("Can't open blockdev") on the
 * console of every boot, so auto mode does not try there. */
static bool kernel_may_mount_files(void)
{
	struct utsname uts;
	unsigned major = 0, minor = 0;

	if (uname(&uts) < 0 || sscanf(uts.release, "%u.%u", &major, &minor) != 2)
		return true; /* unknown: try, ENOTBLK tells */
	return major > 6 || (major == 6 && minor >= 12);
}

int image_mount(const char *image_path, const char *target, const char *fstype,
		enum image_mount mode, struct image_mount_result *result, const char **failed_path)
{
	bool is_erofs = strcmp(fstype, "erofs") == 0;
	int image_fd, r;

	memset(result, 0, sizeof(*result));
	*failed_path = image_path;
	image_fd = open_image(image_path);
	if (image_fd < 0)
		return image_fd;

	*failed_path = target;
	r = mkdir_parents(target, 0755);
	if (r < 0)
		goto out;

	if (mode == IMAGE_MOUNT_FILE && !is_erofs) {
		r = -EOPNOTSUPP; /* only EROFS mounts straight from a file */
		goto out;
	}
	if (is_erofs &&
	    (mode == IMAGE_MOUNT_FILE || (mode == IMAGE_MOUNT_AUTO && kernel_may_mount_files()))) {
		*failed_path = image_path;
		r = mount_fs(image_path, target, fstype, MS_RDONLY, NULL);
		if (r == 0) {
			result->file_backed = true;
			goto out;
		}
		/* ENOTBLK: this kernel mounts EROFS only from block devices. */
		if (r != -ENOTBLK || mode == IMAGE_MOUNT_FILE)
			goto out;
	}
	if (is_erofs && mode == IMAGE_MOUNT_AUTO)
		log_info(
			"file-backed mount of %s not supported by this kernel, using a loop device",
			image_path);
	r = mount_through_loop(image_fd, image_path, target, fstype, result, failed_path);
out:
	close(image_fd);
	return r;
}

int image_attach_loop(const char *image_path, char *device, size_t size, const char **failed_path)
{
	int image_fd, loop_fd;

	*failed_path = image_path;
	image_fd = open_image(image_path);
	if (image_fd < 0)
		return image_fd;
	*failed_path = "/dev/loop-control";
	loop_fd = loop_attach_read_only(image_fd, image_path, device, size);
	if (loop_fd >= 0)
		*failed_path = device;
	close(image_fd);
	return loop_fd;
}
