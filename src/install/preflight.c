/* SPDX-License-Identifier: MIT */
/* Everything checked before the boot directory is touched: kernel,
 * boot directory, output, source, tools, boot program, config. */
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
#include <sys/utsname.h>

#include "install/compress.h"
#include "install/exec.h"
#include "install/fsutil.h"
#include "install/kver.h"
#include "install/unpack.h"
#include "common/log.h"
#include "common/path.h"

int resolve_kver(struct run *r)
{
	const char *why;
	struct utsname u;

	/* --kver was checked with the other options */
	if (r->o->kver)
		return str_copy(r->kver, sizeof(r->kver), r->o->kver) < 0
			       ? log_step_error("--kver", r->o->kver, -ENAMETOOLONG)
			       : 0;
	if (uname(&u) < 0)
		return log_step_error("uname", NULL, -errno);
	if (kver_check(u.release, &why) < 0) {
		log_error("the running kernel's release (uname -r): %s: not usable in a file name; "
			  "name the kernel with --kver",
			  why);
		return -EINVAL;
	}
	return str_copy(r->kver, sizeof(r->kver), u.release);
}

int check_moddir(struct run *r)
{
	struct stat st;

	fmt_path(r->moddir, sizeof(r->moddir), "/lib/modules/%s", r->kver);
	if (stat(r->moddir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int e = errno ? errno : ENOTDIR;

		log_error("kernel modules of %s: %s: %s (install the kernel package of %s)",
			  r->kver, r->moddir, strerror(e), r->kver);
		return -e;
	}
	if (access(r->moddir, R_OK | X_OK) < 0)
		return log_step_error("kernel modules", r->moddir, -errno);
	return 0;
}

int check_boot_dir(struct run *r)
{
	const char *dir = r->o->boot_dir ? r->o->boot_dir : "/boot";
	struct stat st;

	if (!realpath(dir, r->boot_dir))
		return log_step_error("boot directory", dir, -errno);
	if (stat(r->boot_dir, &st) < 0)
		return log_step_error("boot directory", dir, -errno);
	if (!S_ISDIR(st.st_mode))
		return log_step_error("boot directory", dir, -ENOTDIR);
	if (!r->o->dry_run && access(r->boot_dir, W_OK | X_OK) < 0)
		return log_step_error("boot directory", dir, -errno);
	return 0;
}

int choose_output(struct run *r)
{
	char debian_name[PATH_MAX];
	struct stat st;

	if (r->o->output_initramfs) {
		char dir[PATH_MAX], *slash;

		/* The initramfs must be renamed into place: its temporary file
		 * goes into the same directory, which must exist. */
		if (str_copy(dir, sizeof(dir), r->o->output_initramfs) < 0)
			return log_step_error("--output-initramfs", r->o->output_initramfs,
					      -ENAMETOOLONG);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (!realpath(slash ? (*dir ? dir : "/") : ".", r->output))
			return log_step_error("--output-initramfs", r->o->output_initramfs, -errno);
		if (strlen(r->output) + strlen(slash ? slash + 1 : dir) + 2 > sizeof(r->output))
			return log_step_error("--output-initramfs", r->o->output_initramfs,
					      -ENAMETOOLONG);
		strcat(r->output, "/");
		strcat(r->output, slash ? slash + 1 : dir);
	} else {
		/* initramfs-tools' name where that layout is in use */
		fmt_path(debian_name, sizeof(debian_name), "%s/initrd.img-%s", r->boot_dir,
			 r->kver);
		if (access(debian_name, F_OK) == 0 || access("/etc/initramfs-tools", F_OK) == 0)
			fmt_path(r->output, sizeof(r->output), "%s", debian_name);
		else
			fmt_path(r->output, sizeof(r->output), "%s/initramfs-%s.img", r->boot_dir,
				 r->kver);
	}
	if (!r->o->force && lstat(r->output, &st) == 0) {
		log_error("output %s exists; use -f to replace it", r->output);
		return -EEXIST;
	}
	return 0;
}

int check_source(struct run *r)
{
	const char *s = r->o->source;
	struct stat st;
	char buf[8];
	ssize_t n;
	int fd;

	if (!s) {
		char path[PATH_MAX];

		s = tool_find("dracut", path, sizeof(path)) == 0 ? "dracut" : "initramfs-tools";
	}
	if (strcmp(s, "dracut") == 0) {
		r->source = SOURCE_DRACUT;
		return tool_require("dracut", "source dracut");
	}
	if (strcmp(s, "initramfs-tools") == 0) {
		r->source = SOURCE_INITRAMFS_TOOLS;
		return tool_require("mkinitramfs", "source initramfs-tools");
	}
	if (stat(s, &st) < 0)
		return log_step_error("source", s, -errno);
	if (S_ISDIR(st.st_mode)) {
		r->source = SOURCE_DIR;
		if (!realpath(s, r->tree))
			return log_step_error("source", s, -errno);
		if (access(r->tree, R_OK | X_OK) < 0)
			return log_step_error("source", s, -errno);
		return 0;
	}
	r->source = SOURCE_IMAGE;
	if (!realpath(s, r->full_image))
		return log_step_error("source", s, -errno);
	fd = open(r->full_image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_step_error("source", s, -errno);
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		int e = -errno;

		close(fd);
		return log_step_error("source", s, e);
	}
	close(fd);
	{
		const char *kind = initramfs_detect((const uint8_t *)buf, (size_t)n);

		if (!kind) {
			log_error("source %s: not an initramfs (neither cpio nor a known "
				  "compression at its start)",
				  s);
			return -EBADMSG;
		}
		/* libarchive decompresses everything itself but lzop data,
		 * for which Debian's build runs the lzop program. */
		if (strcmp(kind, "lzo") == 0)
			return tool_require("lzop", "source image");
	}
	return 0;
}

int check_compressions(struct run *r)
{
	const char *c = r->erofs_compression;
	const char *ic =
		r->o->initramfs_compression ? r->o->initramfs_compression : COMPRESSION_DEFAULT;
	const struct compression *found = NULL;
	char names[128];
	size_t alg = strcspn(c, ",");
	bool bad;

	if (alg == 0 || strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789") != alg ||
	    (c[alg] == ',' &&
	     (c[alg + 1] == '\0' || strspn(c + alg + 1, "0123456789") != strlen(c + alg + 1)))) {
		log_error("compression '%s': expected ALG[,LEVEL], e.g. lz4hc or lz4hc,12", c);
		return -EINVAL;
	}
	alg = strcspn(ic, ",");
	bad = fmt_path(r->initramfs_compression, sizeof(r->initramfs_compression), "%.*s", (int)alg,
		       ic) < 0 ||
	      (ic[alg] == ',' &&
	       (fmt_path(r->initramfs_level, sizeof(r->initramfs_level), "%s", ic + alg + 1) < 0 ||
		!*r->initramfs_level ||
		strspn(r->initramfs_level, "0123456789") != strlen(r->initramfs_level)));
	if (!bad && strcmp(r->initramfs_compression, "none") == 0) {
		bad = *r->initramfs_level != '\0';
	} else if (!bad) {
		found = compression_find(r->initramfs_compression);
		bad = !found || !found->compress[0];
	}
	if (bad) {
		compression_names(names, sizeof(names), ", ", true);
		log_error("--initramfs-compression %s: expected %s or none, optionally with ,LEVEL",
			  ic, names);
		return -EINVAL;
	}
	if (r->o->mode == MODE_INIT && found)
		return tool_require(found->compress[0], "initramfs compression");
	return 0;
}

int check_boot_program(struct run *r)
{
	const char *p = r->o->boot_program;
	char self[PATH_MAX];
	int e;

	if (!p)
		p = getenv("INITOVERLAYFS_BOOT_PROGRAM");
	if (p && *p) {
		if (!realpath(p, r->boot_program))
			return log_step_error("boot program", p, -errno);
	} else {
		/* next to this program: build/ in the tree, $SBINDIR installed */
		e = self_path(self, sizeof(self));
		if (e < 0)
			return log_step_error("boot program: readlink", "/proc/self/exe", e);
		*strrchr(self, '/') = '\0';
		if (path_join3(r->boot_program, sizeof(r->boot_program), "", self,
			       "initoverlayfs") < 0)
			return log_step_error("boot program", self, -ENAMETOOLONG);
	}
	if (access(r->boot_program, R_OK) < 0)
		return log_step_error("boot program (see --boot-program)", r->boot_program, -errno);
	return 0;
}

static int dracut_module_present(void)
{
	const char *base = getenv("dracutbasedir");
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int found = 0;

	fmt_path(dir, sizeof(dir), "%s/modules.d", base && *base ? base : "/usr/lib/dracut");
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		/* NNinitoverlayfs */
		if (strlen(de->d_name) > 2 && de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
		    de->d_name[1] >= '0' && de->d_name[1] <= '9' &&
		    strcmp(de->d_name + 2, "initoverlayfs") == 0)
			found = 1;
	closedir(d);
	return found;
}

int check_tools(struct run *r)
{
	int e;

	e = tool_require("mkfs.erofs", "EROFS image");
	if (e == 0 && r->o->verity)
		e = tool_require("veritysetup", "--verity");
	if (e < 0)
		return e;
	if (r->o->mode == MODE_INIT)
		return tool_require("depmod", "mini-initramfs modules");
	e = tool_require("dracut", "mode systemd");
	if (e < 0)
		return e;
	if (!dracut_module_present()) {
		log_error("mode systemd: the dracut module 'initoverlayfs' is not installed "
			  "(no %s/modules.d/NNinitoverlayfs); install initoverlayfs' dracut "
			  "integration or use --mode init",
			  getenv("dracutbasedir") ? getenv("dracutbasedir") : "/usr/lib/dracut");
		return -ENOENT;
	}
	return 0;
}

/* config */

int load_config(struct run *r)
{
	struct config_error err;
	struct stat st;
	bool missing;
	int e;

	fmt_path(r->config_path, sizeof(r->config_path), "%s",
		 r->o->config_path ? r->o->config_path : CONFIG_DEFAULT_PATH);
	config_init(&r->cfg, r->kver);

	e = bootfs_locate(r->boot_dir, NULL, &r->bootfs);
	if (e < 0)
		log_warning("cannot find the file system of %s: %s", r->boot_dir, strerror(-e));
	r->have_bootfs = e == 0;

	missing = stat(r->config_path, &st) < 0 ? errno == ENOENT : st.st_size == 0;
	if (!missing) {
		e = config_load_file(&r->cfg, r->config_path, &err);
		if (e < 0) {
			if (err.line)
				log_error("config %s:%u: %s", err.origin, err.line, err.message);
			else
				log_error("config %s: %s", err.origin, err.message);
			return e;
		}
		say(r, "config %s: kept (bootfs %s)", r->config_path,
		    r->cfg.bootfs[0] ? r->cfg.bootfs : "(none)");
	} else {
		r->config_generated = true;
		if (!r->have_bootfs) {
			log_error("config %s is missing and the file system holding %s is "
				  "unknown; write bootfs into %s",
				  r->config_path, r->boot_dir, r->config_path);
			return -ENOENT;
		}
		e = bootfs_probe(&r->bootfs);
		if (e == -ENODEV) {
			log_error("config %s is missing and %s is on %s (%s), not on a block "
				  "device the boot could find; write bootfs into %s",
				  r->config_path, r->boot_dir, r->bootfs.source, r->bootfs.fstype,
				  r->config_path);
			return e;
		}
		if (e < 0) {
			log_error("config %s is missing and the UUID of %s (%s, holding %s) "
				  "cannot be read: %s (%s); write bootfs into %s",
				  r->config_path, r->bootfs.device[0] ? r->bootfs.device : "?",
				  r->bootfs.fstype, r->boot_dir, strerror(-e), errno_name(-e),
				  r->config_path);
			return e;
		}
		fmt_path(r->cfg.bootfs, sizeof(r->cfg.bootfs), "UUID=%s", r->bootfs.uuid);
		fmt_path(r->cfg.bootfs_hint, sizeof(r->cfg.bootfs_hint), "%s", r->bootfs.device);
		fmt_path(r->cfg.bootfstype, sizeof(r->cfg.bootfstype), "%s", r->bootfs.fstype);
	}

	/* The measurements describe one image: only this run's may reach the
	 * mini-initramfs. The policies (verity_on_corruption,
	 * verity_cmdline_override) are the config's to keep. */
	if (r->cfg.verity.roothash[0] && !r->o->verity)
		log_warning("config %s: verity_roothash ignored: only --verity sets it",
			    r->config_path);
	r->cfg.verity.roothash[0] = '\0';
	r->cfg.verity.salt[0] = '\0';
	r->cfg.verity.hash_offset = 0;
	r->cfg.verity.data_blocks = 0;

	if (r->o->compression)
		fmt_path(r->erofs_compression, sizeof(r->erofs_compression), "%s",
			 r->o->compression);
	else if (r->cfg.compression[0])
		fmt_path(r->erofs_compression, sizeof(r->erofs_compression), "%s",
			 r->cfg.compression);
	else
		fmt_path(r->erofs_compression, sizeof(r->erofs_compression), "%s",
			 CONFIG_DEFAULT_COMPRESSION);
	fmt_path(r->cfg.compression, sizeof(r->cfg.compression), "%s", r->erofs_compression);
	if (!r->cfg.bootfstype[0] && r->have_bootfs)
		fmt_path(r->cfg.bootfstype, sizeof(r->cfg.bootfstype), "%s", r->bootfs.fstype);
	return 0;
}

int write_config(struct run *r)
{
	char text[8192];
	int e;

	if (!r->config_generated)
		return 0;
	say(r, "writing config %s: bootfs %s, bootfs_hint %s, bootfstype %s", r->config_path,
	    r->cfg.bootfs, r->cfg.bootfs_hint, r->cfg.bootfstype);
	if (r->o->dry_run)
		return 0;
	e = config_format(&r->cfg, text, sizeof(text));
	if (e < 0)
		return log_step_error("config: format", r->config_path, e);
	e = write_file_atomic(r->config_path, text, strlen(text), 0644);
	if (e < 0)
		return log_step_error("config: write", r->config_path, e);
	return 0;
}
