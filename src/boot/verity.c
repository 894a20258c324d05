/* SPDX-License-Identifier: MIT */
#include "boot/verity.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"
#include "common/verity_table.h"

#define DM_CONTROL	 "/dev/mapper/control"
#define DM_CONTROL_SYSFS "/sys/class/misc/device-mapper/dev"
#define DM_TARGET	 "verity"
/* Room for the header, one target and the longest table line. */
#define DM_BUFFER_SIZE	 4096
#define VERITY_TABLE_MAX 1024

/* The ioctl buffer: struct dm_ioctl, then the payload. Static, as the
 * boot path has no heap; aligned for the 64-bit fields of both. */
static union {
	struct dm_ioctl io;
	uint64_t align;
	char bytes[DM_BUFFER_SIZE];
} dm_buf;

/* A fresh header for one command on VERITY_DM_NAME. The kernel accepts
 * any interface 4.x it knows; 4.0.0 asks for nothing newer. */
static struct dm_ioctl *dm_header(uint32_t flags)
{
	struct dm_ioctl *io = &dm_buf.io;

	memset(&dm_buf, 0, sizeof(dm_buf));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof(dm_buf);
	io->data_start = sizeof(*io);
	io->flags = flags;
	snprintf(io->name, sizeof(io->name), "%s", VERITY_DM_NAME);
	return io;
}

static int dm_ioctl_do(int control_fd, unsigned long request)
{
	if (ioctl(control_fd, request, &dm_buf) < 0)
		return -errno;
	return 0;
}

/* devtmpfs makes /dev/mapper/control when dm-mod registers; without
 * devtmpfs (or with dm built in before /dev was mounted somewhere else)
 * the misc device's number is in sysfs. */
static int open_control(void)
{
	char text[32];
	unsigned major_nr, minor_nr;
	long len;
	int fd;

	fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	len = read_small_file(DM_CONTROL_SYSFS, text, sizeof(text));
	if (len < 0)
		return len == -ENOENT ? -ENODEV : (int)len; /* no device-mapper */
	if (sscanf(text, "%u:%u", &major_nr, &minor_nr) != 2)
		return -EINVAL;
	if (mkdir("/dev/mapper", 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mknod(DM_CONTROL, S_IFCHR | 0600, makedev(major_nr, minor_nr)) < 0 && errno != EEXIST)
		return -errno;
	fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static int load_table(int control_fd, const struct config_verity *v, dev_t data_dev)
{
	struct dm_ioctl *io = dm_header(DM_READONLY_FLAG); /* verity refuses rw */
	struct dm_target_spec *spec = (struct dm_target_spec *)(dm_buf.bytes + sizeof(*io));
	char *params = (char *)(spec + 1);
	size_t room = sizeof(dm_buf) - sizeof(*io) - sizeof(*spec);
	char dev[32];
	int r;

	snprintf(dev, sizeof(dev), "%u:%u", major(data_dev), minor(data_dev));
	r = verity_table_format(v, dev, dev, params,
				room < VERITY_TABLE_MAX ? room : VERITY_TABLE_MAX);
	if (r < 0)
		return r;
	log_debug("verity: table: 0 %llu %s %s", verity_table_sectors(v), DM_TARGET, params);
	io->target_count = 1;
	spec->sector_start = 0;
	spec->length = verity_table_sectors(v);
	spec->next = 0; /* the only target */
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", DM_TARGET);
	return dm_ioctl_do(control_fd, DM_TABLE_LOAD);
}

/* The node of the new device: devtmpfs normally made it already. */
static int ensure_node(dev_t dev, char *path, size_t size)
{
	struct stat st;

	snprintf(path, size, "/dev/dm-%u", minor(dev));
	if (stat(path, &st) == 0)
		return S_ISBLK(st.st_mode) && st.st_rdev == dev ? 0 : -EEXIST;
	if (errno != ENOENT)
		return -errno;
	if (mknod(path, S_IFBLK | 0600, dev) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Reading block 0 through the device checks it against the root hash:
 * a wrong hash or a corrupt first block shows here as EIO. */
static int probe_first_block(const char *path, unsigned block_size)
{
	static char block[VERITY_BLOCK_SIZE_MAX];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, block, block_size, 0);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != block_size)
		r = -EIO;
	close(fd);
	return r;
}

static int remove_device(int control_fd, uint32_t flags)
{
	dm_header(flags);
	return dm_ioctl_do(control_fd, DM_DEV_REMOVE);
}

/* Table, resume, node, first block: everything after the create, which
 * the caller undoes when any of it fails. */
static int activate(int control_fd, const struct config_verity *v, dev_t data_dev,
		    struct verity_device *out, const char **stage)
{
	int r;

	*stage = "load table";
	r = load_table(control_fd, v, data_dev);
	if (r < 0)
		return r;
	*stage = "resume";
	dm_header(0); /* no DM_SUSPEND_FLAG: resume, the new table goes live */
	r = dm_ioctl_do(control_fd, DM_DEV_SUSPEND);
	if (r < 0)
		return r;
	if (dm_buf.io.dev != 0)
		out->dev = (dev_t)dm_buf.io.dev;
	*stage = "device node";
	r = ensure_node(out->dev, out->path, sizeof(out->path));
	if (r < 0)
		return r;
	*stage = "check root hash";
	return probe_first_block(out->path, v->data_block_size);
}

static int create_and_activate(int control_fd, const struct config_verity *v, dev_t data_dev,
			       struct verity_device *out, const char **stage)
{
	struct dm_ioctl *io;
	int r, e;

	*stage = "create";
	io = dm_header(DM_READONLY_FLAG);
	snprintf(io->uuid, sizeof(io->uuid), "%s", VERITY_DM_UUID);
	r = dm_ioctl_do(control_fd, DM_DEV_CREATE);
	if (r < 0)
		return r; /* EBUSY: a device of that name exists, not ours to remove */
	out->dev = (dev_t)dm_buf.io.dev;
	r = activate(control_fd, v, data_dev, out, stage);
	if (r < 0) {
		e = remove_device(control_fd, 0);
		if (e < 0)
			log_warning("verity: cannot remove %s after the failure: %s",
				    VERITY_DM_NAME, errno_text(-e));
	}
	return r;
}

int verity_open(const struct config_verity *v, dev_t data_dev, struct verity_device *out,
		const char **stage)
{
	int control_fd, r;

	memset(out, 0, sizeof(*out));
	*stage = "open " DM_CONTROL;
	control_fd = open_control();
	if (control_fd < 0)
		return control_fd;
	*stage = "version";
	dm_header(0);
	r = dm_ioctl_do(control_fd, DM_VERSION);
	if (r == 0)
		r = create_and_activate(control_fd, v, data_dev, out, stage);
	close(control_fd);
	return r;
}

static int close_device(uint32_t flags)
{
	int control_fd, r;

	control_fd = open_control();
	if (control_fd < 0)
		return control_fd;
	r = remove_device(control_fd, flags);
	close(control_fd);
	return r;
}

int verity_close(void)
{
	return close_device(0);
}

int verity_close_deferred(void)
{
	return close_device(DM_DEFERRED_REMOVE);
}
