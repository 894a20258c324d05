/* SPDX-License-Identifier: MIT */
#include "boot/overlay.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "boot/mountutil.h"
#include "common/path.h"

/* Overlay options are split at ',' and ':'; such paths would need
 * escaping, and ours never contain them. */
static bool option_safe(const char *path)
{
	return strpbrk(path, ",:\\") == NULL;
}

int overlay_mount(const char *lower_dir, const char *upper_base, const char *new_root,
		  bool *is_volatile, const char **failed_path)
{
	static char upper[PATH_MAX], work[PATH_MAX];
	char options[3 * PATH_MAX + 64];
	int r, n;

	*is_volatile = false;
	*failed_path = upper_base;
	r = mkdir_parents(upper_base, 0755);
	if (r < 0)
		return r;
	r = mount_fs("tmpfs", upper_base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (r < 0)
		return r;

	r = path_join(upper, sizeof(upper), upper_base, "upper");
	if (r >= 0)
		r = path_join(work, sizeof(work), upper_base, "work");
	if (r < 0)
		goto out;
	*failed_path = upper;
	r = mkdir_parents(upper, 0755);
	if (r < 0)
		goto out;
	*failed_path = work;
	r = mkdir_parents(work, 0755);
	if (r < 0)
		goto out;

	*failed_path = new_root;
	r = -EINVAL;
	if (!option_safe(lower_dir) || !option_safe(upper) || !option_safe(work))
		goto out;
	r = mkdir_parents(new_root, 0755);
	if (r < 0)
		goto out;
	r = -ENAMETOOLONG;
	n = snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s,workdir=%s,volatile",
		     lower_dir, upper, work);
	if (n < 0 || (size_t)n >= sizeof(options))
		goto out;
	r = mount_fs("overlay", new_root, "overlay", 0, options);
	if (r == -EINVAL) {
		/* "volatile" is new in 5.10. */
		options[strlen(options) - strlen(",volatile")] = '\0';
		r = mount_fs("overlay", new_root, "overlay", 0, options);
	} else if (r == 0) {
		*is_volatile = true;
	}
out:
	/* Nothing half set up stays: the tmpfs goes (the error is r's). */
	if (r < 0)
		umount2(upper_base, MNT_DETACH);
	return r;
}

/* Detaches first, then second; *failed_path names the one that failed. */
static int detach_in_order(const char *first, const char *second, const char **failed_path)
{
	*failed_path = first;
	if (umount2(first, MNT_DETACH) < 0)
		return -errno;
	*failed_path = second;
	if (umount2(second, MNT_DETACH) < 0)
		return -errno;
	return 0;
}

int overlay_unmount(const char *upper_base, const char *new_root, const char **failed_path)
{
	return detach_in_order(new_root, upper_base, failed_path);
}

int overlay_release_layers(const char *lower_dir, const char *upper_base, const char **failed_path)
{
	return detach_in_order(lower_dir, upper_base, failed_path);
}
