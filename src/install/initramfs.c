/* SPDX-License-Identifier: MIT */
/* The mini-initramfs: packed and compressed into a temporary file,
 * fsync, rename over the output, fsync of the directory. */
#include "install/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/compress.h"
#include "install/exec.h"
#include "install/fsutil.h"
#include "install/pack.h"
#include "install/steps.h"
#include "common/log.h"
#include "common/path.h"

static void midway(void)
{
	step_reached("initramfs-partial");
}

/* The mini-initramfs' compressor (install/compress.h); -EINVAL for "none". */
static int compressor_argv(const struct run *r, const char **argv, char *lvl, size_t lvl_size)
{
	const struct compression *c = compression_find(r->initramfs_compression);

	return c ? compression_argv(c, r->initramfs_level, argv, lvl, lvl_size) : -EINVAL;
}

static int write_mini(struct run *r, int out_fd)
{
	struct pack_list list = { 0 };
	struct child c = { .pid = -1, .errlog_fd = -1 };
	const char *failed = NULL;
	const char *argv[10];
	char lvl[64];
	int pipe_fd[2] = { -1, -1 }, e;
	bool compress = strcmp(r->initramfs_compression, "none") != 0;

	e = mini_pack_list(r->stage, &list);
	if (e < 0)
		return log_step_error("initramfs: list", r->stage, e);
	if (compress) {
		compressor_argv(r, argv, lvl, sizeof(lvl));
		say_command(r, argv);
		if (pipe2(pipe_fd, O_CLOEXEC) < 0) {
			e = log_step_error("initramfs: pipe", NULL, -errno);
			goto out;
		}
		e = child_spawn(argv, pipe_fd[0], out_fd, &c);
		close(pipe_fd[0]);
		if (e < 0)
			goto out;
	}
	e = pack_write(&list, compress ? pipe_fd[1] : out_fd, midway, &failed);
	if (compress) {
		close(pipe_fd[1]);
		pipe_fd[1] = -1;
	}
	if (e < 0) {
		if (compress)
			child_abort(&c);
		e = log_step_error("initramfs: write", failed ? failed : r->initramfs_tmp, e);
		goto out;
	}
	if (compress) {
		e = child_wait(&c);
		if (e < 0)
			log_error("initramfs: compressing with %s failed",
				  r->initramfs_compression);
	}
out:
	if (pipe_fd[1] >= 0)
		close(pipe_fd[1]);
	pack_list_free(&list);
	return e;
}

/* dracut's --compress takes one command line; "none" is --no-compress */
static void dracut_compress_option(struct run *r, char *opt, size_t opt_size)
{
	const char *argv[16];
	char lvl[64];
	size_t len = 0;
	int i;

	if (compressor_argv(r, argv, lvl, sizeof(lvl)) < 0) {
		fmt_path(opt, opt_size, "--no-compress");
		return;
	}
	len = (size_t)snprintf(opt, opt_size, "--compress=");
	for (i = 0; argv[i] && len < opt_size; i++)
		len += (size_t)snprintf(opt + len, opt_size - len, "%s%s", i ? " " : "", argv[i]);
}

/*
 * Only the module and what it depends on (systemd, udev, base): dracut's
 * default module set would rebuild the full initrd we are replacing, and
 * host-only or microcode choices belong to the full initrd, not to the
 * mini-initramfs.
 */
static int make_initramfs_systemd(struct run *r)
{
	char conf[PATH_MAX], self[PATH_MAX], text[8192], compress[256];
	const char *argv[] = { "dracut",
			       "--force",
			       "--reproducible",
			       "--no-hostonly",
			       "--no-early-microcode",
			       compress,
			       "--kver",
			       r->kver,
			       "--modules",
			       "initoverlayfs",
			       "--include",
			       conf,
			       CONFIG_DEFAULT_PATH,
			       r->initramfs_tmp,
			       NULL };
	struct config cfg = r->cfg;
	int e;

	dracut_compress_option(r, compress, sizeof(compress));
	fmt_path(conf, sizeof(conf), "%s/initoverlayfs.conf", r->work);
	fmt_path(cfg.fs, sizeof(cfg.fs), "%s", r->image_ref);
	if (!r->o->dry_run) {
		e = config_format(&cfg, text, sizeof(text));
		if (e == 0)
			e = write_file_atomic(conf, text, strlen(text), PRIVATE_FILE_MODE);
		if (e < 0)
			return log_step_error("initramfs: config", conf, e);
	}
	/* The module adds the modules the config names (bootfstype, modules)
	 * from the config it reads: this one, not the host's; and those this
	 * installer lists (--print-modules): this one, not another. */
	if (setenv("initoverlayfs_conf", conf, 1) < 0)
		return log_step_error("initramfs: environment", "initoverlayfs_conf", -errno);
	e = self_path(self, sizeof(self));
	if (e < 0)
		return log_step_error("initramfs: readlink", "/proc/self/exe", e);
	if (setenv("initoverlayfs_install", self, 1) < 0)
		return log_step_error("initramfs: environment", "initoverlayfs_install", -errno);
	say(r,
	    "making the mini-initramfs with dracut's initoverlayfs module (initoverlayfs_conf=%s, "
	    "initoverlayfs_install=%s)",
	    conf, self);
	e = run_tool(r, argv, -1, -1);
	if (e < 0)
		log_error("initramfs: dracut could not build the systemd mini-initramfs");
	return e;
}

int make_initramfs(struct run *r)
{
	const char *base = strrchr(r->output, '/') + 1;
	char dir[PATH_MAX];
	int fd = -1, e;

	fmt_path(dir, sizeof(dir), "%.*s", (int)(base - 1 - r->output), r->output);
	if (!*dir)
		strcpy(dir, "/");
	if (r->o->dry_run) {
		fmt_path(r->initramfs_tmp, sizeof(r->initramfs_tmp), "%s/.%s.XXXXXX", dir, base);
	} else {
		fd = tmpfile_in(dir, base, r->initramfs_tmp, sizeof(r->initramfs_tmp));
		if (fd < 0) {
			r->initramfs_tmp[0] = '\0';
			return log_step_error("initramfs: create temporary file", dir, fd);
		}
	}

	if (r->o->mode == MODE_SYSTEMD) {
		e = make_initramfs_systemd(r);
	} else {
		e = r->o->dry_run ? 0 : mini_add_config(r->stage, &r->cfg, r->image_ref);
		if (e < 0)
			e = log_step_error("initramfs: config", r->stage, e);
		say(r, "writing the mini-initramfs (newc cpio, %s) to %s", r->initramfs_compression,
		    r->initramfs_tmp);
		if (e == 0 && !r->o->dry_run) {
			e = write_mini(r, fd);
		} else if (e == 0 && strcmp(r->initramfs_compression, "none") != 0) {
			const char *argv[10];
			char lvl[64];

			compressor_argv(r, argv, lvl, sizeof(lvl));
			say_command(r, argv);
		}
	}
	/* dracut (mode systemd) copies into the temporary file, keeping it */
	if (fd >= 0 && e == 0 && fchmod(fd, PRIVATE_FILE_MODE) < 0)
		e = log_step_error("initramfs: chmod", r->initramfs_tmp, -errno);
	if (fd >= 0)
		close(fd);
	if (e < 0)
		return e;
	step_reached("initramfs-written");
	say(r, "installing %s", r->output);
	if (r->o->dry_run)
		return 0;

	e = fsync_path(r->initramfs_tmp);
	if (e < 0)
		return log_step_error("initramfs: fsync", r->initramfs_tmp, e);
	step_reached("initramfs-synced");
	e = file_size(r->initramfs_tmp, &r->mini_size);
	if (e < 0)
		return log_step_error("initramfs: stat", r->initramfs_tmp, e);
	if (rename(r->initramfs_tmp, r->output) < 0)
		return log_step_error("initramfs: rename", r->output, -errno);
	r->initramfs_tmp[0] = '\0';
	step_reached("initramfs-renamed");
	e = fsync_path(dir);
	if (e < 0)
		return log_step_error("initramfs: fsync", dir, e);
	step_reached("initramfs-committed");
	return 0;
}

/* Images of this kernel that the new initramfs does not refer to. */
