/* SPDX-License-Identifier: MIT */
/* A run: the plan (plan.c), then, unless it is a dry run, its stages in
 * order (lock, full content, mini-initramfs staging, space, config, image,
 * initramfs, stale images) and the summary. */
#include "install/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/refs.h"
#include "install/steps.h"
#include "common/log.h"
#include "common/path.h"

const char *const source_names[] = { "dracut", "initramfs-tools", "image", "directory" };

static int lock_boot_dir(struct run *r)
{
	const char *dir = r->p->boot_dir;

	if (access(dir, W_OK | X_OK) < 0)
		return log_step_error("boot directory", dir, -errno);
	r->lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->lock_fd < 0)
		return log_step_error("lock", dir, -errno);
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return log_step_error("lock", dir, -errno);
	log_info("waiting for another initoverlayfs-install working in %s", dir);
	if (flock(r->lock_fd, LOCK_EX) < 0)
		return log_step_error("lock", dir, -errno);
	return 0;
}

/* Temporary files a killed run left behind: ".initoverlayfs-KVER.img.XXXXXX"
 * and ".<output name>.XXXXXX". Only ours, and only under the lock. */
static bool is_debris(const char *name, const char *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0 && strlen(name) == strlen(prefix) + 6;
}

static int remove_debris_in(const char *dir, const char *prefix_a, const char *prefix_b)
{
	struct dirent *de;
	DIR *d = opendir(*dir ? dir : "/");
	int e = 0;

	if (!d)
		return log_step_error("clean up", dir, -errno);
	while ((de = readdir(d)) && e == 0) {
		if (!is_debris(de->d_name, prefix_a) &&
		    !(prefix_b && is_debris(de->d_name, prefix_b)))
			continue;
		log_info("removing %s/%s, left by an interrupted run", dir, de->d_name);
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			e = log_step_error("clean up", de->d_name, -errno);
	}
	closedir(d);
	return e;
}

static int remove_debris(struct run *r)
{
	const struct plan *p = r->p;
	const char *out_base = strrchr(p->output, '/') + 1;
	char img_prefix[NAME_MAX + 1], out_prefix[NAME_MAX + 1], out_dir[PATH_MAX];

	fmt_path(img_prefix, sizeof(img_prefix), ".initoverlayfs-%s.img.", p->kver);
	fmt_path(out_prefix, sizeof(out_prefix), ".%s.", out_base);
	fmt_path(out_dir, sizeof(out_dir), "%.*s", (int)(out_base - 1 - p->output), p->output);
	if (strcmp(out_dir, p->boot_dir) == 0)
		return remove_debris_in(p->boot_dir, img_prefix, out_prefix);
	/* the output's directory may differ from the boot directory */
	return remove_debris_in(p->boot_dir, img_prefix, NULL)
		       ?: remove_debris_in(out_dir, out_prefix, NULL);
}

static int lock_and_clean(struct run *r)
{
	int e = lock_boot_dir(r);

	if (e == 0)
		e = remove_debris(r);
	if (e == 0)
		step_reached("preflight");
	return e;
}

static int stage_mini(struct run *r)
{
	int e = 0;

	if (r->p->mode == MODE_INIT)
		e = mini_stage(r->work, r->p, &r->mini);
	if (e == 0)
		step_reached("mini-staged");
	return e;
}

static int write_config(struct run *r)
{
	const struct plan *p = r->p;
	char text[8192];
	int e;

	if (!p->config_generated)
		return 0;
	log_info("writing config %s: bootfs %s, bootfs_hint %s, bootfstype %s", p->config_path,
		 p->cfg.bootfs, p->cfg.bootfs_hint, p->cfg.bootfstype);
	e = config_format(&p->cfg, text, sizeof(text));
	if (e < 0)
		return log_step_error("config: format", p->config_path, e);
	e = write_file_atomic(p->config_path, text, strlen(text), HOST_CONFIG_MODE);
	if (e < 0)
		return log_step_error("config: write", p->config_path, e);
	return 0;
}

/* The image path the mini-initramfs would name for name (image_ref). */
static int ref_of(const struct plan *p, const char *path, char *ref, size_t size)
{
	return fmt_path(ref, size, "%s/%s", p->image_dir, strrchr(path, '/') + 1);
}

/* Images of this kernel that were there before, now that the new pair is
 * in place: removed unless an installed initramfs still refers to one
 * (read now, under the lock, the new mini-initramfs included). */
static int remove_stale(struct run *r)
{
	struct strv refs = { 0 };
	char ref[CONFIG_PATH_MAX];
	bool removed = false;
	int e = 0;

	if (r->p->stale.n > 0)
		e = boot_dir_image_refs(r->p->boot_dir, r->p->output, &refs);
	for (size_t i = 0; i < r->p->stale.n && e == 0; i++) {
		const char *path = r->p->stale.v[i];

		if (strcmp(path, r->image_path) == 0)
			continue;
		e = ref_of(r->p, path, ref, sizeof(ref));
		if (e < 0) {
			e = log_step_error("remove stale image", path, e);
			break;
		}
		if (image_ref_in(&refs, ref)) {
			log_info("keeping the image %s: an initramfs in %s refers to it", path,
				 r->p->boot_dir);
			continue;
		}
		log_info("removing the stale image %s", path);
		if (unlink(path) < 0 && errno != ENOENT)
			e = log_step_error("remove stale image", path, -errno);
		else
			removed = true;
	}
	strv_free(&refs);
	if (e == 0 && removed) {
		e = fsync_path(r->p->boot_dir);
		if (e < 0)
			log_step_error("remove stale images: fsync", r->p->boot_dir, e);
	}
	if (e == 0)
		step_reached("stale-removed");
	return e;
}

/* --- the run ------------------------------------------------------------ */

static const struct stage {
	const char *name;
	int (*run)(struct run *r);
} stages[] = {
	{ "lock the boot directory", lock_and_clean },
	{ "work directory", make_work_dir },
	{ "full initrd content", get_full_content },
	{ "adapt the config to the full initrd", adapt_config_to_full },
	{ "stage the mini-initramfs", stage_mini },
	{ "check the space", check_space },
	{ "write the config", write_config },
	{ "EROFS image", make_image },
	{ "mini-initramfs", make_initramfs },
	{ "remove stale images", remove_stale },
};

static void summary(const struct run *r, uint64_t usec)
{
	const struct plan *p = r->p;
	char a[64];

	printf("initoverlayfs-install: kernel %s, source %s, mode %s\n", p->kver,
	       source_names[p->source], p->mode == MODE_INIT ? "init" : "systemd");
	printf("  full initrd     %s, %s\n", size_str(r->full_size, a, sizeof(a)),
	       r->full_compression);
	printf("  EROFS image     %s, %s: %s\n", size_str(r->image_size, a, sizeof(a)),
	       p->erofs_compression, r->image_path);
	if (p->verity)
		printf("  dm-verity       root hash %s, hash tree %s (included above)\n",
		       r->cfg.verity.roothash, size_str(r->verity_tree_size, a, sizeof(a)));
	if (p->mode == MODE_INIT)
		printf("  mini-initramfs  %s, %s, %zu modules: %s\n",
		       size_str(r->mini_size, a, sizeof(a)), p->initramfs_compression,
		       p->modules.files.n, p->output);
	else
		printf("  mini-initramfs  %s, dracut: %s\n", size_str(r->mini_size, a, sizeof(a)),
		       p->output);
	printf("  time            %.1f s\n", (double)usec / 1e6);
}

static void cleanup(struct run *r)
{
	if (r->image_tmp[0])
		unlink(r->image_tmp);
	if (r->initramfs_tmp[0])
		unlink(r->initramfs_tmp);
	if (r->work[0] && getenv("INITOVERLAYFS_INSTALL_KEEP_WORK")) {
		char lock[PATH_MAX];

		/* without its lock file a later run leaves it alone */
		if (fmt_path(lock, sizeof(lock), "%s/lock", r->work) == 0)
			unlink(lock);
		log_info("keeping the work directory %s", r->work);
	} else if (r->work[0]) {
		int e = rm_rf(r->work);

		if (e < 0)
			log_step_error("remove work directory", r->work, e);
	}
	if (r->work_lock_fd >= 0)
		close(r->work_lock_fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
}

/* The mini-initramfs' config also loads what the boot file system's
 * mount asks the kernel for by name (modset.preload), after the config's
 * own modules; the host's config stays as it is. */
static int add_preload(struct config *cfg, const struct strv *preload)
{
	char list[CONFIG_MODULES_MAX];
	size_t used;

	used = (size_t)snprintf(list, sizeof(list), "%s", cfg->modules);
	for (size_t i = 0; i < preload->n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? " " : "",
					 preload->v[i]);
	if (used >= sizeof(list))
		return -ENAMETOOLONG;
	return config_set(cfg, "modules", list);
}

static int apply(const struct plan *p, uint64_t t_start)
{
	struct run *r = calloc(1, sizeof(*r));
	int e = 0;

	if (!r)
		return log_step_error("start", NULL, -ENOMEM);
	r->p = p;
	r->lock_fd = -1;
	r->work_lock_fd = -1;
	r->cfg = p->cfg;
	e = add_preload(&r->cfg, &p->modules.preload);
	if (e < 0) {
		log_step_error("config: modules", p->cfg.modules, e);
		free(r);
		return e;
	}
	log_info("kernel %s, boot directory %s, source %s, mode %s, output %s", p->kver,
		 p->boot_dir, p->o->source ? p->o->source : source_names[p->source],
		 p->mode == MODE_INIT ? "init" : "systemd", p->output);
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]) && e == 0; i++) {
		log_debug("stage: %s", stages[i].name);
		e = stages[i].run(r);
	}
	cleanup(r);
	if (e == 0) {
		step_reached("done");
		summary(r, now_usec() - t_start);
	}
	free(r);
	return e;
}

int install_run(const struct options *o)
{
	uint64_t t_start = now_usec();
	struct plan *p = calloc(1, sizeof(*p));
	int e;

	if (!p)
		return log_step_error("start", NULL, -ENOMEM);
	e = plan_make(o, p);
	if (e == 0 && o->dry_run)
		plan_print(p, stdout);
	else if (e == 0)
		e = apply(p, t_start);
	plan_free(p);
	free(p);
	return e;
}
