/* SPDX-License-Identifier: MIT */
/* The full initrd content: generated, unpacked or a directory; and
 * the free-space check that needs its size. */
#include "install/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/statvfs.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/steps.h"
#include "install/sysroot.h"
#include "install/unpack.h"
#include "common/log.h"
#include "common/path.h"

#define WORK_PREFIX "initoverlayfs-install."

/* Work directories of runs that were killed: their lock is free. */
static void remove_stale_work_dirs(const char *tmp)
{
	struct dirent *de;
	DIR *d = opendir(tmp);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX], lock[PATH_MAX];
		int fd;

		if (strncmp(de->d_name, WORK_PREFIX, strlen(WORK_PREFIX)) != 0 ||
		    strlen(de->d_name) != strlen(WORK_PREFIX) + 6 ||
		    fmt_path(path, sizeof(path), "%s/%s", tmp, de->d_name) < 0 ||
		    fmt_path(lock, sizeof(lock), "%s/lock", path) < 0)
			continue;
		fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			int e;

			log_info("removing %s, left by an interrupted run", path);
			e = rm_rf(path);
			if (e < 0)
				log_warning("cannot remove %s: %s", path, strerror(-e));
		}
		close(fd);
	}
	closedir(d);
}

int make_work_dir(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	char lock[PATH_MAX];

	if (!tmp || !*tmp)
		tmp = "/var/tmp";
	if (fmt_path(r->work, sizeof(r->work), "%s/" WORK_PREFIX "XXXXXX", tmp) < 0) {
		r->work[0] = '\0';
		return log_step_error("work directory", tmp, -ENAMETOOLONG);
	}
	remove_stale_work_dirs(tmp);
	if (!mkdtemp(r->work)) {
		int e = -errno;

		r->work[0] = '\0';
		return log_step_error("work directory", tmp, e);
	}
	/* held until exit: a later run removes the directory once it is free */
	if (fmt_path(lock, sizeof(lock), "%s/lock", r->work) < 0)
		return log_step_error("work directory", r->work, -ENAMETOOLONG);
	r->work_lock_fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->work_lock_fd < 0)
		return log_step_error("work directory: lock", lock, -errno);
	if (flock(r->work_lock_fd, LOCK_EX) < 0)
		return log_step_error("work directory: lock", lock, -errno);
	return 0;
}

/* The environment of another tree's generator: none of the installer's
 * (its PATH may name this system's directories), the temporary files in
 * the work directory (its /tmp), no post-update hooks (main.c), no
 * resume device: initramfs-tools' resume hook would take this system's
 * swap from /proc/swaps, and an image being built has none yet. A
 * SOURCE_DATE_EPOCH passes on, for the generators' reproducible output. */
static int run_in_root(struct run *r, const char *const argv[])
{
	const struct exec_root in = { .dir = r->p->root, .work = r->work };
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char sde_var[64], line[4096];
	const char *envp[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"TMPDIR=/tmp",
		"HOME=/root",
		"LANG=C.UTF-8",
		"NO_POST_UPDATE_HOOKS=1",
		"RESUME=none",
		NULL,
		NULL,
	};
	struct child c;
	int e;

	if (sde && *sde && strlen(sde) < 32) {
		snprintf(sde_var, sizeof(sde_var), "SOURCE_DATE_EPOCH=%s", sde);
		envp[sizeof(envp) / sizeof(envp[0]) - 2] = sde_var;
	}
	argv_format(argv, line, sizeof(line));
	log_info("running in %s: %s", r->p->root, line);
	e = child_spawn_root(argv, envp, &in, -1, -1, &c);
	return e < 0 ? e : child_wait(&c);
}

static int generate_full(struct run *r)
{
	const struct plan *p = r->p;
	const char *argv[16];
	char out[PATH_MAX];
	int fd, e;

	fmt_path(out, sizeof(out), "%s/full-initrd.img", r->work);
	/* Private before the first byte: dracut copies its image into an
	 * existing file and mkinitramfs truncates it, both keeping its mode
	 * (mkinitramfs would create it 0644). */
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, PRIVATE_FILE_MODE);
	if (fd < 0)
		return log_step_error("source: create", out, -errno);
	if (close(fd) < 0)
		return log_step_error("source: create", out, -errno);
	/* another tree's generator writes where the chroot has the work
	 * directory: its /tmp */
	e = plan_full_initrd_argv(p, p->root[0] ? "/tmp/full-initrd.img" : out, argv);
	if (e == 0) {
		log_info("generating the full initrd with %s%s%s", source_names[p->source],
			 p->root[0] ? ", chrooted into " : "", p->root);
		e = p->root[0] ? run_in_root(r, argv) : run_command(argv, -1, -1);
	}
	if (e < 0) {
		log_error("generating the full initrd of %s with %s failed", p->kver,
			  source_names[p->source]);
		return e;
	}
	fmt_path(r->full_image, sizeof(r->full_image), "%s", out);
	return 0;
}

int get_full_content(struct run *r)
{
	const struct plan *p = r->p;
	struct unpack_stats stats;
	struct tree t;
	int e;

	if (p->source == SOURCE_DRACUT || p->source == SOURCE_INITRAMFS_TOOLS) {
		e = generate_full(r);
		if (e < 0)
			return e;
	} else if (p->source == SOURCE_IMAGE) {
		fmt_path(r->full_image, sizeof(r->full_image), "%s", p->source_path);
	}
	step_reached("source-ready");

	if (p->source != SOURCE_DIR) {
		fmt_path(r->tree, sizeof(r->tree), "%s/full", r->work);
		log_info("unpacking %s into %s", r->full_image, r->tree);
		e = file_size(r->full_image, &r->full_size);
		if (e < 0)
			return log_step_error("source", r->full_image, e);
		/* 0755: the mode of the image's root when the archive has no "."
		 * entry; the work directory around it is 0700 */
		if (mkdir(r->tree, 0755) < 0)
			return log_step_error("unpack: mkdir", r->tree, -errno);
		e = initramfs_unpack(r->full_image, r->tree, &stats);
		if (e < 0)
			return e;
		fmt_path(r->full_compression, sizeof(r->full_compression), "%s",
			 stats.compression[0] ? stats.compression : "uncompressed");
		log_info("unpacked %llu entries from %u archive(s)",
			 (unsigned long long)stats.entries, stats.segments);
	} else {
		fmt_path(r->tree, sizeof(r->tree), "%s", p->source_path);
		log_info("using the directory %s as the full initrd content", r->tree);
	}
	step_reached("unpacked");
	e = tree_list(r->tree, &t);
	if (e < 0)
		return log_step_error("read tree", r->tree, e);
	r->tree_size = tree_bytes(&t);
	tree_free(&t);
	if (p->source == SOURCE_DIR) {
		r->full_size = r->tree_size;
		fmt_path(r->full_compression, sizeof(r->full_compression), "directory");
	}
	return 0;
}

/* path opened (O_PATH) in the full content, resolved the way the boot
 * will see it: symlinks inside the tree, never out of it; the last one
 * followed only with follow. A negative errno when it is not there. */
static int tree_open(const struct run *r, const char *path, bool follow)
{
	return sysroot_open(r->tree, path, O_PATH | (follow ? 0 : O_NOFOLLOW));
}

/* Whether path exists in the full content. */
static bool tree_has(const struct run *r, const char *path)
{
	int fd = tree_open(r, path, false);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether path, its last symlink followed too, is an executable regular
 * file in the content: what the boot program's check of the next init
 * will find. */
static bool tree_has_program(const struct run *r, const char *path)
{
	int fd = tree_open(r, path, true);
	struct stat st;
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
	close(fd);
	return ok;
}

/* The full initrd's entry point, what the mini-initramfs execs (init
 * mode) or checks before the switch (both modes). The default
 * /sbin/init is a guess: dracut 106 (Debian 13) has /init and no
 * /sbin/init, initramfs-tools' /sbin/init is busybox's init applet. Its
 * own /init is the entry point every initrd layout has, so that is what
 * the mini-initramfs records. A configured init that is not the default
 * is the admin's word, but it must be there. */
static int pick_next_init(struct run *r, bool initramfs_tools)
{
	bool is_default = strcmp(r->cfg.init, CONFIG_DEFAULT_INIT) == 0;

	if (is_default && tree_has_program(r, "/init")) {
		log_info("%s: the next init is its /init",
			 initramfs_tools ? "initramfs-tools initrd" : "full initrd");
		fmt_path(r->cfg.init, sizeof(r->cfg.init), "/init");
		return 0;
	}
	if (tree_has_program(r, r->cfg.init))
		return 0;
	log_error("full initrd: no next init: %s%s is not an executable file in it", r->cfg.init,
		  is_default ? " (nor /init)" : "");
	return -ENOENT;
}

int adapt_config_to_full(struct run *r)
{
	/* What initramfs-tools' /init sources first: its layout, whatever
	 * made the file. */
	bool initramfs_tools =
		tree_has(r, "conf/initramfs.conf") && tree_has(r, "scripts/functions");
	int e;

	e = pick_next_init(r, initramfs_tools);
	if (e < 0)
		return e;
	if (initramfs_tools && r->cfg.new_root != NEW_ROOT_TMPFS) {
		log_info("initramfs-tools initrd: its run-init needs a tmpfs root: newroot tmpfs");
		r->cfg.new_root = NEW_ROOT_TMPFS;
	}
	return 0;
}

/* space */

int check_space(struct run *r)
{
	const char *override = getenv("INITOVERLAYFS_INSTALL_FREE_BYTES");
	uint64_t need = r->tree_size + r->mini.bytes + SPACE_MARGIN, have;

	/* the sha256 hash tree: 32 bytes per 4096-byte block, all levels
	 * together less than 1/64 of the data */
	if (r->p->verity)
		need += r->tree_size / 64 + 4096;
	char a[64], b[64];
	struct statvfs sv;

	if (override && *override) {
		char *end;

		errno = 0;
		have = strtoull(override, &end, 10);
		if (errno || *end) {
			log_error("INITOVERLAYFS_INSTALL_FREE_BYTES=%s: not a number", override);
			return -EINVAL;
		}
	} else {
		if (statvfs(r->p->boot_dir, &sv) < 0)
			return log_step_error("free space", r->p->boot_dir, -errno);
		have = (uint64_t)sv.f_bavail * sv.f_frsize;
	}
	if (have < need) {
		log_error("not enough space in %s: need %s (uncompressed image bound + "
			  "initramfs + 1 MiB), %s free",
			  r->p->boot_dir, size_str(need, a, sizeof(a)),
			  size_str(have, b, sizeof(b)));
		return -ENOSPC;
	}
	log_info("space in %s: need at most %s, %s free", r->p->boot_dir,
		 size_str(need, a, sizeof(a)), size_str(have, b, sizeof(b)));
	return 0;
}
