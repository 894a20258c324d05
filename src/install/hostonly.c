/* SPDX-License-Identifier: MIT */
#include "install/hostonly.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/path.h"

static int want(struct strv *names, struct strv *why, const char *name, const char *device)
{
	int r;

	if (strv_contains(names, name))
		return 0;
	r = strv_add(names, name);
	if (r == 0)
		r = strv_add(why, device);
	return r;
}

/* The modalias and the bound driver's module of one device directory. */
static int want_device(const char *dir, struct strv *names, struct strv *why)
{
	char path[PATH_MAX], value[PATH_MAX];
	long len;
	int r;

	r = path_join3(path, sizeof(path), "", dir, "modalias");
	if (r < 0)
		return r;
	len = read_small_file(path, value, sizeof(value));
	if (len > 0) {
		value[strcspn(value, "\n")] = '\0';
		if (value[0]) {
			r = want(names, why, value, dir);
			if (r < 0)
				return r;
		}
	} else if (len < 0 && len != -ENOENT) {
		return (int)len;
	}
	r = path_join3(path, sizeof(path), "", dir, "driver/module");
	if (r < 0)
		return r;
	r = link_target(path, value, sizeof(value));
	if (r == -ENOENT)
		return 0; /* no driver bound, or one built in */
	if (r < 0)
		return r;
	return want(names, why, strrchr(value, '/') ? strrchr(value, '/') + 1 : value, dir);
}

int hostonly_chain(const char *sysfs, dev_t dev, struct strv *names, struct strv *why, char *device,
		   size_t device_size)
{
	char link[PATH_MAX], path[PATH_MAX], root[PATH_MAX], devices[PATH_MAX + 16],
		virt[PATH_MAX + 32];
	size_t top;
	int r;

	r = snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysfs, major(dev), minor(dev));
	if (r < 0 || (size_t)r >= sizeof(link))
		return -ENAMETOOLONG;
	snprintf(device, device_size, "%s", link);
	/* the device's place in the tree, sysfs itself resolved alike */
	if (!realpath(sysfs, root))
		return -errno;
	if (!realpath(link, path))
		return errno == ENOENT ? -ENODEV : -errno;
	snprintf(device, device_size, "%s", path);
	snprintf(devices, sizeof(devices), "%s/devices/", root);
	snprintf(virt, sizeof(virt), "%s/devices/virtual/block/", root);
	if (strncmp(path, virt, strlen(virt)) == 0)
		return strncmp(path + strlen(virt), "loop", 4) == 0 ? 0 : -EMEDIUMTYPE;
	if (strncmp(path, devices, strlen(devices)) != 0)
		return -ENODEV;
	top = strlen(devices) - 1; /* SYSFS/devices: where the walk stops */
	while (strlen(path) > top) {
		r = want_device(path, names, why);
		if (r < 0)
			return r;
		*strrchr(path, '/') = '\0';
	}
	return 0;
}
