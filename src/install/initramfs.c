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

static int write_mini(struct run *r, int out_fd)
{
	struct pack_list list = { 0 };
	struct child c = { .pid = -1, .errlog_fd = -1 };
	const char *failed = NULL;
	const char *argv[16];
	char lvl[64];
	int pipe_fd[2] = { -1, -1 }, e;
	bool compress = plan_compressor_argv(r->p, argv, lvl, sizeof(lvl)) == 0;

	e = mini_pack_list(r->mini.stage, &list);
	if (e < 0)
		return log_step_error("initramfs: list", r->mini.stage, e);
	log_info("writing the mini-initramfs (newc cpio, %s) to %s", r->p->initramfs_compression,
		 r->initramfs_tmp);
	if (compress) {
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
				  r->p->initramfs_compression);
	}
out:
	if (pipe_fd[1] >= 0)
		close(pipe_fd[1]);
	pack_list_free(&list);
	return e;
}

static int make_initramfs_systemd(struct run *r)
{
	char conf[PATH_MAX], confdir[PATH_MAX], self[PATH_MAX], text[8192], buf[256];
	const char *argv[28];
	struct config cfg = r->cfg;
	int e;

	fmt_path(conf, sizeof(conf), "%s/initoverlayfs.conf", r->work);
	fmt_path(cfg.fs, sizeof(cfg.fs), "%s", r->image_ref);
	e = config_format(&cfg, text, sizeof(text));
	if (e == 0)
		e = write_file_atomic(conf, text, strlen(text), PRIVATE_FILE_MODE);
	if (e < 0)
		return log_step_error("initramfs: config", conf, e);
	/* empty: dracut reads no configuration of the admin's */
	fmt_path(confdir, sizeof(confdir), "%s/dracut.conf.d", r->work);
	if (mkdir(confdir, 0700) < 0 && errno != EEXIST)
		return log_step_error("initramfs: mkdir", confdir, -errno);
	e = plan_dracut_mini_argv(r->p, conf, confdir, r->initramfs_tmp, argv, buf, sizeof(buf));
	if (e < 0)
		return log_step_error("initramfs: dracut", r->initramfs_tmp, e);
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
	log_info("making the mini-initramfs with dracut's initoverlayfs module "
		 "(initoverlayfs_conf=%s, initoverlayfs_install=%s)",
		 conf, self);
	e = run_command(argv, -1, -1);
	if (e < 0)
		log_error("initramfs: dracut could not build the systemd mini-initramfs");
	return e;
}

int make_initramfs(struct run *r)
{
	const struct plan *p = r->p;
	const char *base = strrchr(p->output, '/') + 1;
	char dir[PATH_MAX];
	int fd, e;

	fmt_path(dir, sizeof(dir), "%.*s", (int)(base - 1 - p->output), p->output);
	if (!*dir)
		strcpy(dir, "/");
	fd = tmpfile_in(dir, base, r->initramfs_tmp, sizeof(r->initramfs_tmp));
	if (fd < 0) {
		r->initramfs_tmp[0] = '\0';
		return log_step_error("initramfs: create temporary file", dir, fd);
	}
	if (p->mode == MODE_SYSTEMD) {
		e = make_initramfs_systemd(r);
	} else {
		e = mini_add_config(r->mini.stage, &r->cfg, r->image_ref);
		if (e < 0)
			e = log_step_error("initramfs: config", r->mini.stage, e);
		if (e == 0)
			e = write_mini(r, fd);
	}
	/* dracut (mode systemd) copies into the temporary file, keeping it */
	if (e == 0 && fchmod(fd, PRIVATE_FILE_MODE) < 0)
		e = log_step_error("initramfs: chmod", r->initramfs_tmp, -errno);
	close(fd);
	if (e < 0)
		return e;
	step_reached("initramfs-written");
	log_info("installing %s", p->output);
	e = fsync_path(r->initramfs_tmp);
	if (e < 0)
		return log_step_error("initramfs: fsync", r->initramfs_tmp, e);
	step_reached("initramfs-synced");
	e = file_size(r->initramfs_tmp, &r->mini_size);
	if (e < 0)
		return log_step_error("initramfs: stat", r->initramfs_tmp, e);
	if (rename(r->initramfs_tmp, p->output) < 0)
		return log_step_error("initramfs: rename", p->output, -errno);
	r->initramfs_tmp[0] = '\0';
	step_reached("initramfs-renamed");
	e = fsync_path(dir);
	if (e < 0)
		return log_step_error("initramfs: fsync", dir, e);
	step_reached("initramfs-committed");
	return 0;
}
