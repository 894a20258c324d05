/* SPDX-License-Identifier: MIT */
#include "install/bootfs.h"

#include <blkid.h>
#include <errno.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/path.h"

/* Length of mountpoint when it is a path prefix of path, else -1. */
static long prefix_len(const char *mountpoint, const char *path)
{
	size_t len = strlen(mountpoint);

	if (strcmp(mountpoint, "/") == 0)
		return 0;
	if (strncmp(mountpoint, path, len) != 0 || (path[len] != '/' && path[len] != '\0'))
		return -1;
	return (long)len;
}

/* The mount holding path in a table whose entries may be stale or
 * stacked: among the mount points that are a prefix of path, one on the
 * device dev wins (btrfs subvolumes excepted, where st_dev is anonymous);
 * then the deepest; then the last, which shadows earlier ones. Returns 0
 * with *best, its prefix length and whether its device matched, or a
 * negative errno. */
static int best_mount(struct libmnt_table *tb, const char *path, dev_t dev, struct libmnt_fs **best,
		      long *prefix, bool *dev_match)
{
	struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *fs;

	if (!it)
		return -ENOMEM;
	*best = NULL;
	while (mnt_table_next_fs(tb, it, &fs) == 0) {
		const char *target = mnt_fs_get_target(fs);
		bool match;
		long len;

		if (!target || !mnt_fs_get_root(fs))
			continue;
		len = prefix_len(target, path);
		if (len < 0)
			continue;
		match = mnt_fs_get_devno(fs) == dev;
		if (*best && *dev_match && !match)
			continue;
		if (*best && match == *dev_match && len < *prefix)
			continue;
		*best = fs;
		*prefix = len;
		*dev_match = match;
	}
	mnt_free_iter(it);
	return *best ? 0 : -ENOENT;
}

static void find_device(struct bootfs_info *info)
{
	char path[PATH_MAX], buf[4096];
	struct stat st;
	char *p;

	info->device[0] = '\0';
	if (strncmp(info->source, "/dev/", 5) == 0 && stat(info->source, &st) == 0 &&
	    S_ISBLK(st.st_mode) && st.st_rdev == info->dev) {
		snprintf(info->device, sizeof(info->device), "%s", info->source);
		return;
	}
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(info->dev),
		 minor(info->dev));
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return;
	p = strstr(buf, "DEVNAME=");
	if (!p)
		return;
	p += strlen("DEVNAME=");
	p[strcspn(p, "\n")] = '\0';
	snprintf(info->device, sizeof(info->device), "/dev/%s", p);
}

int bootfs_locate(const char *boot_dir, const char *mountinfo, struct bootfs_info *info)
{
	struct libmnt_table *tb;
	struct libmnt_fs *fs = NULL;
	const char *root, *source, *fstype;
	struct stat st;
	bool dev_match = false;
	long len = -1;
	int r;

	memset(info, 0, sizeof(*info));
	if (!realpath(boot_dir, info->boot_dir))
		return -errno;
	if (stat(info->boot_dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	info->dev = st.st_dev;

	tb = mnt_new_table();
	if (!tb)
		return -ENOMEM;
	/* lines that do not parse are skipped (libmount's default) */
	r = mnt_table_parse_file(tb, mountinfo ? mountinfo : "/proc/self/mountinfo");
	if (r < 0)
		goto out;
	r = best_mount(tb, info->boot_dir, st.st_dev, &fs, &len, &dev_match);
	if (r < 0)
		goto out;
	/* libmount has undone mountinfo's \ooo escapes */
	root = mnt_fs_get_root(fs);
	source = mnt_fs_get_source(fs);
	fstype = mnt_fs_get_fstype(fs);
	r = -ENAMETOOLONG;
	if (str_copy(info->mountpoint, sizeof(info->mountpoint), mnt_fs_get_target(fs)) < 0 ||
	    str_copy(info->fstype, sizeof(info->fstype), fstype ? fstype : "") < 0 ||
	    str_copy(info->source, sizeof(info->source), source ? source : "none") < 0)
		goto out;
	/* boot dir inside the file system = mount root + rest of the path */
	r = snprintf(info->rel_dir, sizeof(info->rel_dir), "%s%s",
		     strcmp(root, "/") == 0 ? "" : root, info->boot_dir + len);
	if (r < 0 || (size_t)r >= sizeof(info->rel_dir)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	r = 0;
	if (strcmp(info->rel_dir, "/") == 0)
		info->rel_dir[0] = '\0';
	if (dev_match)
		find_device(info);
out:
	mnt_unref_table(tb);
	return r;
}

int bootfs_probe(struct bootfs_info *info)
{
	blkid_probe pr;
	const char *value = NULL;
	int r;

	if (!info->device[0])
		return -ENODEV;
	errno = 0;
	pr = blkid_new_probe_from_filename(info->device);
	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	r = blkid_do_safeprobe(pr);
	if (r == 0 && blkid_probe_lookup_value(pr, "UUID", &value, NULL) == 0 && value && *value) {
		snprintf(info->uuid, sizeof(info->uuid), "%s", value);
		r = 0;
	} else {
		r = r < 0 ? -EIO : -ENODATA;
	}
	blkid_free_probe(pr);
	return r;
}
