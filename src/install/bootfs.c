/* SPDX-License-Identifier: MIT */
#include "install/bootfs.h"

#include <blkid.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/path.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

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

struct mount_line {
	unsigned major, minor;
	char root[PATH_MAX];
	char mountpoint[PATH_MAX];
	char fstype[64];
	char source[PATH_MAX];
};

static int parse_line(char *line, struct mount_line *m)
{
	char *save = NULL, *tok, *sep;
	int field = 0;

	sep = strstr(line, " - ");
	if (!sep)
		return -EINVAL;
	*sep = '\0';
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
		if (field == 2 && sscanf(tok, "%u:%u", &m->major, &m->minor) != 2)
			return -EINVAL;
		if (field == 3 && str_copy(m->root, sizeof(m->root), tok) < 0)
			return -ENAMETOOLONG;
		if (field == 4 && str_copy(m->mountpoint, sizeof(m->mountpoint), tok) < 0)
			return -ENAMETOOLONG;
	}
	if (field < 5)
		return -EINVAL;
	save = NULL;
	tok = strtok_r(sep + 3, " ", &save);
	if (!tok || str_copy(m->fstype, sizeof(m->fstype), tok) < 0)
		return -EINVAL;
	tok = strtok_r(NULL, " ", &save);
	if (!tok || str_copy(m->source, sizeof(m->source), tok) < 0)
		return -EINVAL;
	unescape(m->root);
	unescape(m->mountpoint);
	unescape(m->source);
	return 0;
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
	struct mount_line m, best;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	long best_len = -1;
	bool best_dev_match = false;
	FILE *f;
	int r;

	memset(info, 0, sizeof(*info));
	if (!realpath(boot_dir, info->boot_dir))
		return -errno;
	if (stat(info->boot_dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	info->dev = st.st_dev;

	f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		bool dev_match;
		long len;

		line[strcspn(line, "\n")] = '\0';
		memset(&m, 0, sizeof(m));
		if (parse_line(line, &m) < 0)
			continue;
		len = prefix_len(m.mountpoint, info->boot_dir);
		if (len < 0)
			continue;
		dev_match = makedev(m.major, m.minor) == st.st_dev;
		/* The device match wins (btrfs subvolumes excepted, where
		 * st_dev is anonymous); then the deepest mount point; then
		 * the last one, which shadows earlier ones. */
		if (best_len >= 0 && best_dev_match && !dev_match)
			continue;
		if (best_len >= 0 && dev_match == best_dev_match && len < best_len)
			continue;
		best = m;
		best_len = len;
		best_dev_match = dev_match;
	}
	free(line);
	fclose(f);
	if (best_len < 0)
		return -ENOENT;

	snprintf(info->mountpoint, sizeof(info->mountpoint), "%s", best.mountpoint);
	snprintf(info->fstype, sizeof(info->fstype), "%s", best.fstype);
	snprintf(info->source, sizeof(info->source), "%s", best.source);
	/* boot dir inside the file system = mount root + rest of the path */
	r = snprintf(info->rel_dir, sizeof(info->rel_dir), "%s%s",
		     strcmp(best.root, "/") == 0 ? "" : best.root, info->boot_dir + best_len);
	if (r < 0 || (size_t)r >= sizeof(info->rel_dir))
		return -ENAMETOOLONG;
	if (strcmp(info->rel_dir, "/") == 0)
		info->rel_dir[0] = '\0';
	if (best_dev_match)
		find_device(info);
	return 0;
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
