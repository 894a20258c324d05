/* SPDX-License-Identifier: MIT */
#include "boot/modules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cmdline.h"
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

static int read_plan(struct module_loader *ml, int fd)
{
	struct stat st;
	char *text;
	size_t used = 0;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)MODPLAN_MAX_SIZE)
		return -EBADMSG;
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	while (used < (size_t)st.st_size) {
		ssize_t n = read(fd, text + used, (size_t)st.st_size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(text);
			return r;
		}
		used += (size_t)n;
	}
	r = modplan_parse(&ml->plan, text, used, &ml->plan_bad_line);
	if (r < 0) {
		modplan_free(&ml->plan);
		return r;
	}
	ml->have_plan = true;
	return 0;
}

/* No plan: libkmod reads the module directory's indexes itself. */
static int open_libkmod(struct module_loader *ml, const char *dir)
{
	int r = kmodlib_open(&ml->lib);

	if (r < 0)
		return -ELIBACC;
	ml->kmod = ml->lib.new_ctx(dir, NULL);
	if (!ml->kmod) {
		kmodlib_close(&ml->lib);
		return -ENOMEM;
	}
	ml->lib.set_log_fn(ml->kmod, kmod_log_to_ours, NULL);
	r = ml->lib.load_resources(ml->kmod);
	if (r < 0) {
		ml->lib.unref(ml->kmod);
		ml->kmod = NULL;
		kmodlib_close(&ml->lib);
	}
	return r;
}

int modules_open(struct module_loader *ml, const char *root, const char *kernel_release,
		 const char *cmdline)
{
	char dir[PATH_MAX];
	int fd, r;

	memset(ml, 0, sizeof(*ml));
	ml->uevent_fd = -1;
	ml->moddir_fd = -1;
	ml->cmdline = cmdline ? cmdline : "";

	r = path_join3(dir, sizeof(dir), root, "/lib/modules", kernel_release);
	if (r < 0)
		return r;
	ml->moddir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ml->moddir_fd < 0)
		return -errno;
	fd = openat(ml->moddir_fd, MODPLAN_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		r = read_plan(ml, fd);
		close(fd);
	} else if (errno == ENOENT) {
		r = open_libkmod(ml, dir);
	} else {
		r = -errno;
	}
	if (r < 0) {
		close(ml->moddir_fd);
		ml->moddir_fd = -1;
	}
	return r;
}

bool modules_active(const struct module_loader *ml)
{
	return ml->have_plan || ml->kmod;
}

void modules_close(struct module_loader *ml)
{
	if (ml->uevent_fd >= 0)
		close(ml->uevent_fd);
	ml->uevent_fd = -1;
	if (ml->moddir_fd >= 0)
		close(ml->moddir_fd);
	ml->moddir_fd = -1;
	if (ml->have_plan)
		modplan_free(&ml->plan);
	ml->have_plan = false;
	if (ml->kmod)
		ml->lib.unref(ml->kmod);
	ml->kmod = NULL;
	if (ml->lib.handle)
		kmodlib_close(&ml->lib);
}

static int kmod_insert_one(struct module_loader *ml, struct kmod_module *mod)
{
	int state = ml->lib.module_get_initstate(mod);
	int r;

	if (state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN ||
	    state == KMOD_MODULE_COMING)
		return 0;
	r = ml->lib.module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (r < 0)
		return r;
	ml->inserted++;
	log_debug("loaded module %s", ml->lib.module_get_name(mod));
	return 0;
}

static int kmod_load(struct module_loader *ml, const char *name_or_alias)
{
	struct kmod_list *list = NULL, *item;
	int r, loaded = 0, first_error = 0;

	r = ml->lib.module_new_from_lookup(ml->kmod, name_or_alias, &list);
	if (r < 0)
		return r;
	for (item = list; item; item = ml->lib.list_next(list, item)) {
		struct kmod_module *mod = ml->lib.module_get_module(item);

		r = kmod_insert_one(ml, mod);
		if (r < 0)
			log_debug("module %s: %s", ml->lib.module_get_name(mod), errno_text(-r));
		ml->lib.module_unref(mod);
		if (r == 0)
			loaded++;
		else if (first_error == 0)
			first_error = r;
	}
	ml->lib.module_unref_list(list);
	return loaded > 0 ? loaded : first_error;
}

/* The kernel command line's "NAME.PARAM=VALUE" for module name, as
 * libkmod passes them: "PARAM=VALUE ...", quoted again where the value
 * has blanks. */
static int module_options(const char *cmdline, const char *name, char *out, size_t size)
{
	struct cmdline_param p;
	const char *cursor = cmdline;
	char norm[MODPLAN_NAME_MAX];
	size_t used = 0;
	int r;

	out[0] = '\0';
	while ((r = cmdline_next(&cursor, &p)) != 0) {
		char *dot;
		int n;

		if (r < 0)
			continue;
		dot = strchr(p.key, '.');
		if (!dot || dot == p.key || !dot[1])
			continue;
		*dot = '\0';
		if (modplan_normalize(p.key, norm, sizeof(norm)) < 0 || strcmp(norm, name) != 0)
			continue;
		if (!p.has_value)
			n = snprintf(out + used, size - used, "%s%s", used ? " " : "", dot + 1);
		else if (strpbrk(p.value, " \t"))
			n = snprintf(out + used, size - used, "%s%s=\"%s\"", used ? " " : "",
				     dot + 1, p.value);
		else
			n = snprintf(out + used, size - used, "%s%s=%s", used ? " " : "", dot + 1,
				     p.value);
		if (n < 0 || (size_t)n >= size - used)
			return -E2BIG;
		used += (size_t)n;
	}
	return 0;
}

/* A module that is already there (loaded by the kernel's own request, or
 * by us through another name) is not inserted again. */
static bool module_live(const char *name)
{
	char path[PATH_MAX], state[16];

	if (snprintf(path, sizeof(path), "/sys/module/%s/initstate", name) >= (int)sizeof(path))
		return false;
	if (read_small_file(path, state, sizeof(state)) <= 0)
		return false;
	return strncmp(state, "live", 4) == 0 || strncmp(state, "coming", 6) == 0;
}

static int plan_insert_one(struct module_loader *ml, struct modplan_module *mod)
{
	char options[4096];
	int fd, r;

	if (mod->state == MODPLAN_LOADED)
		return 0;
	if (mod->state == MODPLAN_FAILED)
		return mod->error;
	if (module_live(mod->name)) {
		mod->state = MODPLAN_LOADED;
		return 0;
	}
	r = module_options(ml->cmdline, mod->name, options, sizeof(options));
	if (r == 0) {
		fd = openat(ml->moddir_fd, mod->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
		} else {
			if (syscall(SYS_finit_module, fd, options, 0) < 0)
				r = errno == EEXIST ? 1 : -errno;
			close(fd);
		}
	}
	if (r < 0) {
		log_debug("module %s (%s): %s", mod->name, mod->path, errno_text(-r));
		mod->state = MODPLAN_FAILED;
		mod->error = r;
		return r;
	}
	mod->state = MODPLAN_LOADED;
	if (r == 0) {
		ml->inserted++;
		log_debug("loaded module %s%s%s", mod->name, options[0] ? " " : "", options);
	}
	return 0;
}

struct plan_load {
	struct module_loader *ml;
	int loaded, first_error;
};

/* Like libkmod's probe: the dependencies in order, the first failure of
 * one that is not optional (a soft dependency) stops it. */
static int plan_load_one(uint32_t index, void *data)
{
	struct plan_load *pl = data;
	struct modplan *plan = &pl->ml->plan;
	const struct modplan_module *mod = &plan->modules[index];
	int r = 0;

	if (mod->order_len == 0)
		r = plan_insert_one(pl->ml, &plan->modules[index]);
	for (uint32_t i = 0; i < mod->order_len && r == 0; i++) {
		uint32_t entry = plan->order[mod->order_start + i];

		r = plan_insert_one(pl->ml, &plan->modules[entry & ~MODPLAN_OPTIONAL]);
		if (entry & MODPLAN_OPTIONAL)
			r = 0;
	}
	if (r == 0)
		pl->loaded++;
	else if (pl->first_error == 0)
		pl->first_error = r;
	return 0;
}

static int plan_load(struct module_loader *ml, const char *name_or_alias)
{
	struct plan_load pl = { .ml = ml };

	if (modplan_lookup(&ml->plan, name_or_alias, plan_load_one, &pl) == 0)
		return modplan_is_builtin(&ml->plan, name_or_alias);
	return pl.loaded > 0 ? pl.loaded : pl.first_error;
}

int modules_load(struct module_loader *ml, const char *name_or_alias)
{
	/* Like modprobe: an alias may match several modules, some of which
	 * refuse this hardware (crc32c-intel without SSE4.2: ENODEV) while
	 * another serves it. Only when none loads is it an error. */
	if (ml->have_plan)
		return plan_load(ml, name_or_alias);
	if (ml->kmod)
		return kmod_load(ml, name_or_alias);
	return 0;
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
		log_warning("module for device alias %s: %s (%s)", modalias, errno_text(-r),
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

	if (!modules_active(ml))
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
