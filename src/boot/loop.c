/* SPDX-License-Identifier: MIT */
#include "boot/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"

/* A free device can be taken by someone else before we configure it. */
#define LOOP_ATTACH_ATTEMPTS 16

static void fill_info(struct loop_info64 *info, const char *image_name)
{
	const char *base = strrchr(image_name, '/');

	memset(info, 0, sizeof(*info));
	info->lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
	snprintf((char *)info->lo_file_name, sizeof(info->lo_file_name), "%s",
		 base ? base + 1 : image_name);
}

static int configure_modern(int loop_fd, int image_fd, const char *image_name)
{
	struct loop_config config;

	memset(&config, 0, sizeof(config));
	config.fd = (unsigned)image_fd;
	fill_info(&config.info, image_name);
	if (ioctl(loop_fd, LOOP_CONFIGURE, &config) < 0)
		return -errno;
	return 0;
}

static int configure_legacy(int loop_fd, int image_fd, const char *image_name)
{
	struct loop_info64 info;
	int r;

	/* The device is read-only because image_fd is. */
	if (ioctl(loop_fd, LOOP_SET_FD, image_fd) < 0)
		return -errno;
	fill_info(&info, image_name);
	/* Only AUTOCLEAR can be set this way; DIRECT_IO has its own ioctl. */
	info.lo_flags = LO_FLAGS_AUTOCLEAR;
	if (ioctl(loop_fd, LOOP_SET_STATUS64, &info) < 0) {
		r = -errno;
		ioctl(loop_fd, LOOP_CLR_FD, 0);
		return r;
	}
	if (ioctl(loop_fd, LOOP_SET_DIRECT_IO, 1UL) < 0)
		log_debug("loop: direct I/O not available: %s", errno_text(errno));
	return 0;
}

static int open_loop_device(int control_fd, char *device, size_t size)
{
	int number, fd;

	number = ioctl(control_fd, LOOP_CTL_GET_FREE);
	if (number < 0)
		return -errno;
	snprintf(device, size, "/dev/loop%d", number);
	fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(device, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int loop_attach_read_only(int image_fd, const char *image_name, char *device, size_t size)
{
	int control_fd, r = -EBUSY;
	static int use_legacy;

	control_fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (control_fd < 0)
		return -errno;

	for (int attempt = 0; attempt < LOOP_ATTACH_ATTEMPTS && r == -EBUSY; attempt++) {
		int loop_fd = open_loop_device(control_fd, device, size);

		if (loop_fd < 0) {
			r = loop_fd;
			break;
		}
		r = use_legacy ? -EINVAL : configure_modern(loop_fd, image_fd, image_name);
		if (r == -EINVAL || r == -ENOTTY) {
			/* LOOP_CONFIGURE is new in 5.8: older kernels reject it. */
			use_legacy = 1;
			r = configure_legacy(loop_fd, image_fd, image_name);
		}
		if (r == 0) {
			close(control_fd);
			return loop_fd;
		}
		close(loop_fd);
	}
	close(control_fd);
	device[0] = '\0';
	return r;
}
