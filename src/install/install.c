/* SPDX-License-Identifier: MIT */
/* The order of a run: checks, lock, full content, mini-initramfs staging,
 * space, config, image, initramfs, stale images, summary. */
#include "install/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/steps.h"
#include "common/log.h"
#include "common/path.h"

const char *const source_names[] = { "dracut", "initramfs-tools", "image", "directory" };

/* --- small helpers ------------------------------------------------------ */

/* Dry-run narration goes to stdout; a real run logs it at info level. */
void say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (r->o->dry_run) {
		vprintf(fmt, ap);
		putchar('\n');
	} else {
		log_msgv(LOG_LEVEL_INFO, fmt, ap);
	}
	va_end(ap);
}

void say_command(const struct run *r, const char *const argv[])
{
	char line[8192];

	argv_format(argv, line, sizeof(line));
	if (r->o->dry_run)
		printf("  $ %s\n", line);
	else
		log_info("running: %s", line);
}

int run_tool(const struct run *r, const char *const argv[], int in_fd, int out_fd)
{
	struct child c;
	int e;

	say_command(r, argv);
	if (r->o->dry_run)
		return 0;
	e = child_spawn(argv, in_fd, out_fd, &c);
	return e < 0 ? e : child_wait(&c);
}

const char *size_str(uint64_t bytes, char *buf, size_t size)
{
	char human[32];

	fmt_path(buf, size, "%llu bytes (%s)", (unsigned long long)bytes,
		 format_size(bytes, human, sizeof(human)));
	return buf;
}

static int lock_boot_dir(struct run *r)
{
	r->lock_fd = open(r->boot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->lock_fd < 0)
		return log_step_error("lock", r->boot_dir, -errno);
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return log_step_error("lock", r->boot_dir, -errno);
	log_info("waiting for another initoverlayfs-install working in %s", r->boot_dir);
	if (flock(r->lock_fd, LOCK_EX) < 0)
		return log_step_error("lock", r->boot_dir, -errno);
	return 0;
}

/* Temporary files a killed run left behind: ".initoverlayfs-KVER.img.XXXXXX"
 * and ".<output name>.XXXXXX". Only ours, and only under the lock. */
static int remove_debris(struct run *r)
{
	char img_prefix[NAME_MAX + 1], out_prefix[NAME_MAX + 1];
	const char *out_base = strrchr(r->output, '/') + 1;
	struct dirent *de;
	DIR *d;

	fmt_path(img_prefix, sizeof(img_prefix), ".initoverlayfs-%s.img.", r->kver);
	fmt_path(out_prefix, sizeof(out_prefix), ".%s.", out_base);
	d = opendir(r->boot_dir);
	if (!d)
		return log_step_error("clean up", r->boot_dir, -errno);
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		bool ours = (strncmp(de->d_name, img_prefix, strlen(img_prefix)) == 0 &&
			     len == strlen(img_prefix) + 6) ||
			    (strncmp(de->d_name, out_prefix, strlen(out_prefix)) == 0 &&
			     len == strlen(out_prefix) + 6);

		if (!ours)
			continue;
		log_info("removing %s/%s, left by an interrupted run", r->boot_dir, de->d_name);
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			int e = -errno;

			closedir(d);
			return log_step_error("clean up", de->d_name, e);
		}
	}
	closedir(d);
	/* The output's directory may differ from the boot directory. */
	if (strncmp(r->output, r->boot_dir, strlen(r->boot_dir)) != 0 ||
	    strchr(r->output + strlen(r->boot_dir) + 1, '/')) {
		char dir[PATH_MAX];

		fmt_path(dir, sizeof(dir), "%.*s", (int)(out_base - 1 - r->output), r->output);
		d = opendir(*dir ? dir : "/");
		if (!d)
			return log_step_error("clean up", dir, -errno);
		while ((de = readdir(d)))
			if (strncmp(de->d_name, out_prefix, strlen(out_prefix)) == 0 &&
			    strlen(de->d_name) == strlen(out_prefix) + 6)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	return 0;
}

static int remove_stale(struct run *r)
{
	char prefix[NAME_MAX + 1];
	struct dirent *de;
	bool removed = false;
	DIR *d;
	int e = 0;

	fmt_path(prefix, sizeof(prefix), "initoverlayfs-%s-", r->kver);
	d = opendir(r->boot_dir);
	if (!d)
		return log_step_error("remove stale images", r->boot_dir, -errno);
	while ((de = readdir(d))) {
		const char *rest = de->d_name + strlen(prefix);

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    strlen(rest) != IMAGE_HASH_HEX + 4 ||
		    strspn(rest, "0123456789abcdef") != IMAGE_HASH_HEX ||
		    strcmp(rest + IMAGE_HASH_HEX, ".img") != 0 ||
		    strcmp(de->d_name, r->image_name) == 0)
			continue;
		say(r, "removing the stale image %s/%s", r->boot_dir, de->d_name);
		if (r->o->dry_run)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
			e = log_step_error("remove stale image", de->d_name, -errno);
			break;
		}
		removed = true;
	}
	closedir(d);
	if (e == 0 && removed) {
		e = fsync_path(r->boot_dir);
		if (e < 0)
			log_step_error("remove stale images: fsync", r->boot_dir, e);
	}
	return e;
}

/* --- the run ------------------------------------------------------------ */

static void summary(struct run *r)
{
	char a[64], b[64], c[64];
	uint64_t usec = now_usec() - r->t_start;

	if (r->o->dry_run) {
		printf("dry run: nothing was changed\n");
		return;
	}
	printf("initoverlayfs-install: kernel %s, source %s, mode %s\n", r->kver,
	       source_names[r->source], r->o->mode == MODE_INIT ? "init" : "systemd");
	printf("  full initrd     %s, %s\n", size_str(r->full_size, a, sizeof(a)),
	       r->full_compression);
	printf("  EROFS image     %s, %s: %s\n", size_str(r->image_size, b, sizeof(b)),
	       r->erofs_compression, r->image_path);
	if (r->o->verity)
		printf("  dm-verity       root hash %s, hash tree %s (included above)\n",
		       r->cfg.verity.roothash, size_str(r->verity_tree_size, a, sizeof(a)));
	if (r->o->mode == MODE_INIT)
		printf("  mini-initramfs  %s, %s, %u modules: %s\n",
		       size_str(r->mini_size, c, sizeof(c)), r->initramfs_compression,
		       r->mini.n_modules, r->output);
	else
		printf("  mini-initramfs  %s, dracut: %s\n", size_str(r->mini_size, c, sizeof(c)),
		       r->output);
	printf("  time            %.1f s\n", (double)usec / 1e6);
}

static void cleanup(struct run *r)
{
	if (r->image_tmp[0] && !r->o->dry_run)
		unlink(r->image_tmp);
	if (r->initramfs_tmp[0] && !r->o->dry_run)
		unlink(r->initramfs_tmp);
	if (r->work[0] && !r->o->dry_run && getenv("INITOVERLAYFS_INSTALL_KEEP_WORK")) {
		char lock[PATH_MAX];

		/* without its lock file a later run leaves it alone */
		if (fmt_path(lock, sizeof(lock), "%s/lock", r->work) == 0)
			unlink(lock);
		log_info("keeping the work directory %s", r->work);
	} else if (r->work[0] && !r->o->dry_run) {
		int e = rm_rf(r->work);

		if (e < 0)
			log_step_error("remove work directory", r->work, e);
	}
	if (r->work_lock_fd >= 0)
		close(r->work_lock_fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	mini_info_free(&r->mini);
}

static int preflight(struct run *r)
{
	int e;

	e = resolve_kver(r);
	if (e == 0)
		e = check_moddir(r);
	if (e == 0)
		e = check_boot_dir(r);
	if (e == 0)
		e = choose_output(r);
	if (e == 0)
		e = check_source(r);
	if (e == 0)
		e = check_tools(r);
	if (e == 0 && r->o->mode == MODE_INIT)
		e = check_boot_program(r);
	if (e == 0)
		e = load_config(r);
	if (e == 0)
		e = check_compressions(r);
	return e;
}

int install_run(const struct options *o)
{
	struct run *r;
	int e;

	r = calloc(1, sizeof(*r));
	if (!r)
		return log_step_error("start", NULL, -ENOMEM);
	r->o = o;
	r->lock_fd = -1;
	r->work_lock_fd = -1;
	r->t_start = now_usec();

	e = preflight(r);
	if (e < 0)
		goto out;
	say(r, "kernel %s, boot directory %s, source %s, mode %s, output %s", r->kver, r->boot_dir,
	    o->source ? o->source : source_names[r->source],
	    o->mode == MODE_INIT ? "init" : "systemd", r->output);
	if (!o->dry_run) {
		e = lock_boot_dir(r);
		if (e == 0)
			e = remove_debris(r);
		if (e < 0)
			goto out;
	}
	step_reached("preflight");

	e = make_work_dir(r);
	if (e == 0)
		e = get_full_content(r);
	if (e == 0 && o->mode == MODE_INIT) {
		say(r, "staging the mini-initramfs (boot program %s, modules of %s)",
		    r->boot_program, r->moddir);
		char modules[CONFIG_MODULES_MAX + 16];

		/* --verity: a kernel without dm_verity must fail here, not at boot */
		if (fmt_path(modules, sizeof(modules), "%s%s%s", o->verity ? "dm_verity" : "",
			     o->verity && o->add_modules ? "," : "",
			     o->add_modules ? o->add_modules : "") < 0)
			e = log_step_error("--add-modules", o->add_modules, -ENAMETOOLONG);
		if (e == 0 && !o->dry_run)
			e = mini_stage(r->work, r->boot_program, r->kver, r->moddir, &r->cfg,
				       modules, &r->mini);
		if (e == 0 && !o->dry_run)
			fmt_path(r->stage, sizeof(r->stage), "%s", r->mini.stage);
		if (e == 0 && o->dry_run) {
			const char *argv[] = { "depmod", "-C", "$WORK/depmod.d", "-b", "$WORK/mini",
					       r->kver,	 NULL };

			say_command(r, argv);
		}
		r->stage_size = r->mini.bytes;
	}
	if (e == 0)
		step_reached("mini-staged");
	if (e == 0 && !o->dry_run)
		e = check_space(r);
	if (e == 0)
		e = write_config(r);
	if (e == 0)
		e = make_image(r);
	if (e == 0) {
		adapt_config_to_full(r);
		e = make_initramfs(r);
	}
	if (e == 0)
		e = remove_stale(r);
	if (e == 0)
		step_reached("stale-removed");
out:
	cleanup(r);
	if (e == 0) {
		step_reached("done");
		summary(r);
	}
	free(r);
	return e;
}
