/* SPDX-License-Identifier: MIT */
#include "boot/bootdev.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"

static bool is_block_device(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

static void copy_probed_type(blkid_probe pr, struct bootdev_match *match)
{
	const char *type = NULL;

	match->fstype[0] = '\0';
	if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0 && type)
		str_copy(match->fstype, sizeof(match->fstype), type);
}

int bootdev_probe(const char *device, const struct bootspec *spec, struct bootdev_match *match)
{
	const char *tag = bootspec_blkid_tag(spec->kind);
	const char *value = NULL;
	blkid_probe pr;
	int matched = 0;

	if (spec->kind == BOOTSPEC_NONE)
		return -EINVAL;
	if (spec->kind == BOOTSPEC_PATH && strcmp(device, spec->value) != 0)
		return 0;
	if (!is_block_device(device))
		return 0;

	pr = blkid_new_probe_from_filename(device);
	if (!pr)
		return 0; /* a device without media, or gone again */
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL |
						      BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);

	/* safeprobe: an ambiguous signature is not a match (-2, 1: nothing). */
	if (blkid_do_safeprobe(pr) == 0) {
		if (spec->kind == BOOTSPEC_PATH)
			matched = 1;
		else if (blkid_probe_lookup_value(pr, tag, &value, NULL) == 0)
			matched = bootspec_value_matches(spec->kind, spec->value, value);
	} else if (spec->kind == BOOTSPEC_PATH) {
		matched = 1; /* a path names the device; its type may be given */
	}
	if (matched) {
		str_copy(match->device, sizeof(match->device), device);
		copy_probed_type(pr, match);
	}
	blkid_free_probe(pr);
	return matched;
}

int bootdev_choose(const struct bootdev_found *found, dev_t hint_rdev)
{
	unsigned kept = found->n < BOOTDEV_FOUND_MAX ? found->n : BOOTDEV_FOUND_MAX;

	if (found->n == 0)
		return -ENOENT;
	if (found->n == 1)
		return 0;
	for (unsigned i = 0; hint_rdev != 0 && i < kept; i++)
		if (found->dev[i].rdev == hint_rdev)
			return (int)i;
	return -ENOTUNIQ;
}

void bootdev_format_found(const struct bootdev_found *found, char *out, size_t size)
{
	unsigned kept = found->n < BOOTDEV_FOUND_MAX ? found->n : BOOTDEV_FOUND_MAX;
	size_t used = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (unsigned i = 0; i < kept && used < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 == found->n ? " and " : ", ";
		int n = snprintf(out + used, size - used, "%s%s", sep, found->dev[i].device);

		if (n < 0)
			return;
		used += (size_t)n;
	}
	if (kept < found->n && used < size)
		snprintf(out + used, size - used, " and %u more", found->n - kept);
}

const char *bootdev_mount_data(const char *fstype)
{
	static const struct {
		const char *fstype, *data;
	} table[] = {
		/* Root only, as the system's own mount of an EFI system
		 * partition usually is: the mount can outlive the boot (the
		 * system's mount of the same device then reuses it). */
		{ "vfat", "umask=0077" },
		{ "msdos", "umask=0077" },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(fstype, table[i].fstype) == 0)
			return table[i].data;
	return NULL;
}

/* Skips devices that cannot hold /boot and only cost probing time: RAM
 * disks, and devices without media (a loop device with nothing attached,
 * an empty card reader) whose sysfs size is 0. */
static bool worth_probing(int sysfs_fd, const char *name)
{
	char path[NAME_MAX + 8], size[32];
	ssize_t len;
	int fd;

	if (strncmp(name, "ram", 3) == 0 || strncmp(name, "zram", 4) == 0 || name[0] == '.')
		return false;
	if (snprintf(path, sizeof(path), "%s/size", name) >= (int)sizeof(path))
		return true;
	fd = openat(sysfs_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* let the probe decide */
	len = read(fd, size, sizeof(size) - 1);
	close(fd);
	return len <= 0 || !(size[0] == '0' && (len == 1 || size[1] == '\n'));
}

/* Kept in name order (vda1 before vdb1, loop2 before loop10), not in
 * sysfs' order, which is a hash's: the refusal reads the same each boot. */
static void add_found(struct bootdev_found *found, const struct bootdev_match *match)
{
	unsigned kept = found->n < BOOTDEV_FOUND_MAX ? found->n : BOOTDEV_FOUND_MAX;
	unsigned at = 0;
	struct stat st;

	while (at < kept && strverscmp(found->dev[at].device, match->device) < 0)
		at++;
	found->n++;
	if (at == BOOTDEV_FOUND_MAX)
		return;
	if (kept == BOOTDEV_FOUND_MAX)
		kept--; /* the last one falls off */
	memmove(&found->dev[at + 1], &found->dev[at], (kept - at) * sizeof(found->dev[0]));
	str_copy(found->dev[at].device, sizeof(found->dev[at].device), match->device);
	str_copy(found->dev[at].fstype, sizeof(found->dev[at].fstype), match->fstype);
	found->dev[at].rdev = stat(match->device, &st) == 0 ? st.st_rdev : 0;
}

/* Every block device carrying spec into found. */
static int scan_all(const struct bootspec *spec, struct bootdev_found *found)
{
	struct bootdev_match probed;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dir = opendir("/sys/class/block");
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (de = readdir(dir)) != NULL) {
		char device[PATH_MAX];

		if (!worth_probing(dirfd(dir), de->d_name))
			continue;
		if (path_join(device, sizeof(device), "/dev", de->d_name) < 0)
			continue;
		r = bootdev_probe(device, spec, &probed);
		if (r > 0)
			add_found(found, &probed);
	}
	closedir(dir);
	return r < 0 ? r : 0;
}

int bootdev_find(const struct bootspec *spec, const char *hint, struct bootdev_match *match,
		 struct bootdev_found *found)
{
	struct stat st;
	dev_t hint_rdev = 0;
	int r;

	found->n = 0;
	if (hint && hint[0]) {
		r = bootdev_probe(hint, spec, match);
		if (r != 0)
			return r;
		if (stat(hint, &st) == 0 && S_ISBLK(st.st_mode))
			hint_rdev = st.st_rdev;
	}
	if (spec->kind == BOOTSPEC_PATH)
		return bootdev_probe(spec->value, spec, match);

	/* All of them, not the first: a cloned disk must not decide the boot
	 * by the order the kernel named the devices in. */
	r = scan_all(spec, found);
	if (r < 0)
		return r;
	r = bootdev_choose(found, hint_rdev);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	str_copy(match->device, sizeof(match->device), found->dev[r].device);
	str_copy(match->fstype, sizeof(match->fstype), found->dev[r].fstype);
	return 1;
}
