/* SPDX-License-Identifier: MIT */
#include "boot/bootdev.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

/* Skips devices that cannot hold /boot and only cost probing time. */
static bool worth_probing(const char *name)
{
	return strncmp(name, "ram", 3) != 0 && strncmp(name, "zram", 4) != 0 && name[0] != '.';
}

int bootdev_find(const struct bootspec *spec, const char *hint, struct bootdev_match *match)
{
	struct dirent *de;
	DIR *dir;
	int r;

	if (hint && hint[0]) {
		r = bootdev_probe(hint, spec, match);
		if (r != 0)
			return r;
	}
	if (spec->kind == BOOTSPEC_PATH)
		return bootdev_probe(spec->value, spec, match);

	dir = opendir("/sys/class/block");
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	r = 0;
	while (r == 0 && (de = readdir(dir)) != NULL) {
		char device[PATH_MAX];

		if (!worth_probing(de->d_name))
			continue;
		if (path_join(device, sizeof(device), "/dev", de->d_name) < 0)
			continue;
		r = bootdev_probe(device, spec, match);
	}
	closedir(dir);
	return r;
}
