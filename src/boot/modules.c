/* SPDX-License-Identifier: MIT */
#include "boot/modules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/path.h"

/* sysfs is shallow, but bound the walk in case of a loop we did not see. */
#define SYSFS_MAX_DEPTH	   32
#define UEVENT_BUFFER_SIZE 8192

__attribute__((format(printf, 6, 0))) static void kmod_log_to_ours(void *data, int priority,
								   const char *file, int line,
								   const char *fn,
								   const char *format, va_list args)
{
	/* libkmod's own errors are reported by us with context instead. */
	if (log_get_max_level() >= LOG_LEVEL_DEBUG)
		log_msgv(LOG_LEVEL_DEBUG, format, args);
}

int modules_open(struct module_loader *ml, const char *root, const char *kernel_release)
{
	char dir[PATH_MAX];
	struct stat st;
	int r;

	ml->kmod = NULL;
	ml->uevent_fd = -1;
	ml->inserted = 0;

	r = path_join3(dir, sizeof(dir), root, "/lib/modules", kernel_release);
	if (r < 0)
		return r;
	if (stat(dir, &st) < 0)
		return -errno;
	ml->kmod = kmod_new(dir, NULL);
	if (!ml->kmod)
		return -ENOMEM;
	kmod_set_log_fn(ml->kmod, kmod_log_to_ours, NULL);
	r = kmod_load_resources(ml->kmod);
	if (r < 0) {
		kmod_unref(ml->kmod);
		ml->kmod = NULL;
		return r;
	}
	return 0;
}

void modules_close(struct module_loader *ml)
{
	if (ml->uevent_fd >= 0)
		close(ml->uevent_fd);
	ml->uevent_fd = -1;
	if (ml->kmod)
		kmod_unref(ml->kmod);
	ml->kmod = NULL;
}

static int insert_one(struct module_loader *ml, struct kmod_module *mod)
{
	int state = kmod_module_get_initstate(mod);
	int r;

	if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN ||
	    state == KMOD_MODULE_COMING)
		return 0;
	r = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (r < 0)
		return r;
	ml->inserted++;
	log_debug("loaded module %s", kmod_module_get_name(mod));
	return 0;
}

int modules_load(struct module_loader *ml, const char *name_or_alias)
{
	struct kmod_list *list = NULL, *item;
	int r, loaded = 0, first_error = 0;

	if (!ml->kmod)
		return 0;
	r = kmod_module_new_from_lookup(ml->kmod, name_or_alias, &list);
	if (r < 0)
		return r;
	/* Like modprobe: an alias may match several modules, some of which
	 * refuse this hardware (crc32c-intel without SSE4.2: ENODEV) while
	 * another serves it. Only when none loads is it an error. */
	kmod_list_foreach(item, list)
	{
		struct kmod_module *mod = kmod_module_get_module(item);

		r = insert_one(ml, mod);
		if (r < 0)
			log_debug("module %s: %s", kmod_module_get_name(mod), strerror(-r));
		kmod_module_unref(mod);
		if (r == 0)
			loaded++;
		else if (first_error == 0)
			first_error = r;
	}
	kmod_module_unref_list(list);
	return loaded > 0 ? loaded : first_error;
}

int modules_load_list(struct module_loader *ml, const char *list, const char **failed,
		      char *failed_buf, unsigned failed_size)
{
	const char *p = list;

	*failed = NULL;
	while (*p) {
		char name[256];
		size_t len;
		int r;

		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (len == 0)
			break;
		if (len >= sizeof(name))
			return -ENAMETOOLONG;
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;

		r = modules_load(ml, name);
		if (r == 0)
			r = -ENOENT;
		if (r < 0) {
			snprintf(failed_buf, failed_size, "%s", name);
			*failed = failed_buf;
			return r;
		}
	}
	return 0;
}

/* A device's modalias is best effort: most have no module at all. */
static void load_modalias(struct module_loader *ml, const char *modalias)
{
	int r = modules_load(ml, modalias);

	if (r < 0)
		log_warning("module for device alias %s: %s (%s)", modalias, strerror(-r),
			    errno_name(-r));
}

static void coldplug_dir(struct module_loader *ml, int dirfd, unsigned depth)
{
	DIR *dir;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, "modalias", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char alias[512];
		ssize_t n = read(fd, alias, sizeof(alias) - 1);

		close(fd);
		if (n > 0) {
			alias[n] = '\0';
			alias[strcspn(alias, "\n")] = '\0';
			if (alias[0])
				load_modalias(ml, alias);
		}
	}

	if (depth >= SYSFS_MAX_DEPTH)
		return;
	fd = dup(dirfd);
	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		int child;

		/* Symlinks (subsystem, driver, device) lead back up the tree. */
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0)
			continue;
		coldplug_dir(ml, child, depth + 1);
		close(child);
	}
	closedir(dir);
}

int modules_coldplug(struct module_loader *ml)
{
	unsigned before = ml->inserted;
	int fd;

	if (!ml->kmod)
		return 0;
	fd = open("/sys/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	coldplug_dir(ml, fd, 0);
	close(fd);
	return (int)(ml->inserted - before);
}

int modules_uevent_listen(struct module_loader *ml)
{
	struct sockaddr_nl addr = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1, /* the kernel's own broadcast, not udev's */
	};
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	ml->uevent_fd = fd;
	return 0;
}

/* A kernel uevent is "ACTION@DEVPATH\0KEY=VALUE\0...". */
static void handle_uevent(struct module_loader *ml, const char *msg, size_t len)
{
	const char *action = NULL, *modalias = NULL;

	for (size_t off = strnlen(msg, len) + 1; off < len;) {
		const char *field = msg + off;
		size_t field_len = strnlen(field, len - off);

		if (field_len == len - off)
			break; /* not terminated: ignore the rest */
		if (strncmp(field, "ACTION=", 7) == 0)
			action = field + 7;
		else if (strncmp(field, "MODALIAS=", 9) == 0)
			modalias = field + 9;
		off += field_len + 1;
	}
	if (action && modalias && strcmp(action, "add") == 0)
		load_modalias(ml, modalias);
}

int modules_uevent_wait(struct module_loader *ml, int timeout_ms)
{
	static char buf[UEVENT_BUFFER_SIZE];
	struct pollfd pfd;
	int events = 0, r;

	if (ml->uevent_fd < 0)
		return -EBADF;
	pfd.fd = ml->uevent_fd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return 0;
	for (;;) {
		ssize_t n = recv(ml->uevent_fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			/* ENOBUFS: events were dropped; a coldplug recovers. */
			if (errno == ENOBUFS) {
				modules_coldplug(ml);
				events++;
				continue;
			}
			return -errno;
		}
		buf[n] = '\0';
		handle_uevent(ml, buf, (size_t)n);
		events++;
	}
	return events;
}
