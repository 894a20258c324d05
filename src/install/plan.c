/* SPDX-License-Identifier: MIT */
/* The plan: every check and decision before the boot directory is
 * touched (kernel, boot directory, output, source, tools, boot program,
 * config, the mini-initramfs' libraries and modules), the commands a run
 * starts, and the plan printed for --dry-run. */
#include "install/plan.h"

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
#include "install/hostonly.h"
#include "install/mini.h"
#include "install/refs.h"
#include "install/segment.h"
#include "install/sysroot.h"
#include "common/log.h"
#include "common/path.h"

static int check_root(struct plan *p)
{
	struct stat st;

	if (!p->o->root)
		return 0;
	if (!realpath(p->o->root, p->root))
		return log_step_error("--root", p->o->root, -errno);
	if (stat(p->root, &st) < 0)
		return log_step_error("--root", p->o->root, -errno);
	if (!S_ISDIR(st.st_mode))
		return log_step_error("--root", p->o->root, -ENOTDIR);
	if (strcmp(p->root, "/") == 0)
		p->root[0] = '\0'; /* this system after all */
	return 0;
}

/* A path of the tree (absolute, as the tree sees it) on the host. */
static int in_root(const struct plan *p, const char *path, char *out, size_t size)
{
	if (!p->root[0])
		return str_copy(out, size, path);
	return sysroot_resolve(p->root, path, out, size);
}

static int resolve_kver(struct plan *p)
{
	const char *why;
	struct utsname u;
	unsigned n;
	int e;

	/* --kver was checked with the other options */
	if (p->o->kver)
		return str_copy(p->kver, sizeof(p->kver), p->o->kver) < 0
			       ? log_step_error("--kver", p->o->kver, -ENAMETOOLONG)
			       : 0;
	/* the running kernel is not the tree's */
	if (p->root[0]) {
		e = sysroot_only_kernel(p->root, p->kver, sizeof(p->kver), &n);
		if (e == -ENOTUNIQ)
			log_error("--root %s: %u kernels in its /lib/modules; name one with --kver",
				  p->root, n);
		else if (e < 0)
			log_error("--root %s: no kernel in its /lib/modules (%s); install one into "
				  "the tree, or name it with --kver",
				  p->root, strerror(-e));
		return e;
	}
	if (uname(&u) < 0)
		return log_step_error("uname", NULL, -errno);
	if (kver_check(u.release, &why) < 0) {
		log_error("the running kernel's release (uname -r): %s: not usable in a file name; "
			  "name the kernel with --kver",
			  why);
		return -EINVAL;
	}
	return str_copy(p->kver, sizeof(p->kver), u.release);
}

static int check_moddir(struct plan *p)
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	fmt_path(path, sizeof(path), "/lib/modules/%s", p->kver);
	r = in_root(p, path, p->moddir, sizeof(p->moddir));
	if (r < 0) {
		log_error(
			"kernel modules of %s: %s%s: %s (install the kernel package of %s%s%s, or "
			"name another kernel with --kver)",
			p->kver, p->root, path, strerror(-r), p->kver, p->root[0] ? " into " : "",
			p->root);
		return r;
	}
	errno = 0;
	if (stat(p->moddir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int e = errno ? errno : ENOTDIR;

		log_error("kernel modules of %s: %s: %s (install the kernel package of %s)",
			  p->kver, p->moddir, strerror(e), p->kver);
		return -e;
	}
	if (access(p->moddir, R_OK | X_OK) < 0)
		return log_step_error("kernel modules", p->moddir, -errno);
	return 0;
}

static int check_boot_dir(struct plan *p)
{
	const char *dir = p->o->boot_dir ? p->o->boot_dir : "/boot";
	struct stat st;
	int e;

	if (p->root[0]) {
		e = sysroot_resolve(p->root, dir, p->boot_dir, sizeof(p->boot_dir));
		if (e < 0) {
			char where[PATH_MAX];

			fmt_path(where, sizeof(where), "%s%s%s", p->root, dir[0] == '/' ? "" : "/",
				 dir);
			return log_step_error("boot directory (see --boot-dir)", where, e);
		}
	} else if (!realpath(dir, p->boot_dir)) {
		return log_step_error("boot directory", dir, -errno);
	}
	if (stat(p->boot_dir, &st) < 0)
		return log_step_error("boot directory", dir, -errno);
	if (!S_ISDIR(st.st_mode))
		return log_step_error("boot directory", dir, -ENOTDIR);
	return 0;
}

static int choose_output(struct plan *p)
{
	char debian_name[PATH_MAX];
	struct stat st;

	if (p->o->output_initramfs) {
		char dir[PATH_MAX], *slash;

		/* The initramfs must be renamed into place: its temporary file
		 * goes into the same directory, which must exist. */
		if (str_copy(dir, sizeof(dir), p->o->output_initramfs) < 0)
			return log_step_error("--output-initramfs", p->o->output_initramfs,
					      -ENAMETOOLONG);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (!realpath(slash ? (*dir ? dir : "/") : ".", p->output))
			return log_step_error("--output-initramfs", p->o->output_initramfs, -errno);
		if (strlen(p->output) + strlen(slash ? slash + 1 : dir) + 2 > sizeof(p->output))
			return log_step_error("--output-initramfs", p->o->output_initramfs,
					      -ENAMETOOLONG);
		strcat(p->output, "/");
		strcat(p->output, slash ? slash + 1 : dir);
	} else {
		/* initramfs-tools' name where that layout is in use */
		fmt_path(debian_name, sizeof(debian_name), "%s/initrd.img-%s", p->boot_dir,
			 p->kver);
		char conf[PATH_MAX];

		if (access(debian_name, F_OK) == 0 ||
		    (in_root(p, "/etc/initramfs-tools", conf, sizeof(conf)) == 0 &&
		     access(conf, F_OK) == 0))
			fmt_path(p->output, sizeof(p->output), "%s", debian_name);
		else
			fmt_path(p->output, sizeof(p->output), "%s/initramfs-%s.img", p->boot_dir,
				 p->kver);
	}
	if (!p->o->force && lstat(p->output, &st) == 0) {
		log_error("output %s exists; use -f to replace it", p->output);
		return -EEXIST;
	}
	return 0;
}

static int check_source_file(struct plan *p, const char *s);

/* --root: the tree's own generator (the source it names, else dracut
 * when the tree has it, else mkinitramfs), or an initramfs or directory
 * of this system. */
static int check_root_source(struct plan *p)
{
	const char *s = p->o->source;
	bool dracut = false, mkinitramfs = false;

	if (s && strcmp(s, "dracut") != 0 && strcmp(s, "initramfs-tools") != 0)
		return check_source_file(p, s);
	if (!s || strcmp(s, "dracut") == 0)
		dracut = sysroot_find_tool(p->root, "dracut", p->generator, sizeof(p->generator)) ==
			 0;
	if (!dracut && (!s || strcmp(s, "initramfs-tools") == 0))
		mkinitramfs = sysroot_find_tool(p->root, "mkinitramfs", p->generator,
						sizeof(p->generator)) == 0;
	if (dracut || mkinitramfs) {
		p->source = dracut ? SOURCE_DRACUT : SOURCE_INITRAMFS_TOOLS;
		return 0;
	}
	if (s)
		log_error("source %s: no %s in the tree %s (its /usr/sbin, /usr/bin, /sbin, /bin); "
			  "install it into the tree, or give --source IMAGE|DIR",
			  s, strcmp(s, "dracut") == 0 ? "dracut" : "mkinitramfs", p->root);
	else
		log_error("--root %s: no initrd generator in the tree (neither dracut nor "
			  "mkinitramfs); install one into it, or give --source IMAGE|DIR",
			  p->root);
	return -ENOENT;
}

static int check_source(struct plan *p)
{
	const char *s = p->o->source;

	if (p->root[0])
		return check_root_source(p);
	if (!s) {
		char path[PATH_MAX];

		s = tool_find("dracut", path, sizeof(path)) == 0 ? "dracut" : "initramfs-tools";
	}
	if (strcmp(s, "dracut") == 0) {
		p->source = SOURCE_DRACUT;
		return tool_require("dracut", "source dracut");
	}
	if (strcmp(s, "initramfs-tools") == 0) {
		p->source = SOURCE_INITRAMFS_TOOLS;
		return tool_require("mkinitramfs", "source initramfs-tools");
	}
	return check_source_file(p, s);
}

/* Our own mini-initramfs packed into an image would boot initoverlayfs
 * twice, and the second finds no image. It is offered as the full initrd
 * for real: Debian's /boot/initrd.img-KVER is the mini-initramfs once the
 * post-update.d hook ran, and kernel-install stages that file for our
 * plugin. A config that cannot be read is no reason to refuse: the
 * unpack reports a damaged source itself, and a full initrd reads as
 * -ENOENT. */
static int refuse_mini_source(const struct plan *p, const char *s)
{
	char fs[CONFIG_PATH_MAX];
	int e = initramfs_image_ref(p->source_path, p->kver, fs, sizeof(fs));

	if (e < 0) {
		if (e != -ENOENT)
			log_debug("source %s: its initoverlayfs config cannot be read (%s)", s,
				  errno_name(-e));
		return 0;
	}
	log_error("source %s is an initoverlayfs mini-initramfs (it boots the image %s): a pair "
		  "is made from a full initrd; give the full initrd as --source",
		  s, fs);
	return -EINVAL;
}

static int check_source_file(struct plan *p, const char *s)
{
	struct stat st;
	char buf[8];
	ssize_t n;
	int fd;

	if (stat(s, &st) < 0)
		return log_step_error("source", s, -errno);
	if (S_ISDIR(st.st_mode)) {
		p->source = SOURCE_DIR;
		if (!realpath(s, p->source_path))
			return log_step_error("source", s, -errno);
		if (access(p->source_path, R_OK | X_OK) < 0)
			return log_step_error("source", s, -errno);
		return 0;
	}
	p->source = SOURCE_IMAGE;
	if (!realpath(s, p->source_path))
		return log_step_error("source", s, -errno);
	fd = open(p->source_path, O_RDONLY | O_CLOEXEC);
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
		str_copy(p->source_format, sizeof(p->source_format), kind);
		/* libarchive decompresses everything itself but lzop data,
		 * for which Debian's build runs the lzop program. */
		if (strcmp(kind, "lzo") == 0) {
			int e = tool_require("lzop", "source image");

			if (e < 0)
				return e;
		}
	}
	return refuse_mini_source(p, s);
}

static int check_compressions(struct plan *p)
{
	const char *c = p->erofs_compression;
	const char *ic =
		p->o->initramfs_compression ? p->o->initramfs_compression : COMPRESSION_DEFAULT;
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
	bad = fmt_path(p->initramfs_compression, sizeof(p->initramfs_compression), "%.*s", (int)alg,
		       ic) < 0 ||
	      (ic[alg] == ',' &&
	       (fmt_path(p->initramfs_level, sizeof(p->initramfs_level), "%s", ic + alg + 1) < 0 ||
		!*p->initramfs_level ||
		strspn(p->initramfs_level, "0123456789") != strlen(p->initramfs_level)));
	if (!bad && strcmp(p->initramfs_compression, "none") == 0) {
		bad = *p->initramfs_level != '\0';
	} else if (!bad) {
		found = compression_find(p->initramfs_compression);
		bad = !found || !found->compress[0];
	}
	if (bad) {
		compression_names(names, sizeof(names), ", ", true);
		log_error("--initramfs-compression %s: expected %s or none, optionally with ,LEVEL",
			  ic, names);
		return -EINVAL;
	}
	if (p->mode == MODE_INIT && found)
		return tool_require(found->compress[0], "initramfs compression");
	return 0;
}

/* Where the packages put the boot program: the static one init mode's
 * mini-initramfs carries alone, and the dynamic one (libc, libblkid) that
 * systemd mode runs and any mode can take. */
#define INIT_BOOT_PROGRAM_NAME "initoverlayfs-init"
#define ROOT_INIT_BOOT_PROGRAM "/usr/lib/initoverlayfs/" INIT_BOOT_PROGRAM_NAME
#define ROOT_BOOT_PROGRAM      "/usr/sbin/initoverlayfs"

/* --root: the tree's own boot program (the static one if the tree has it),
 * for the tree's own libraries. */
static int find_root_boot_program(struct plan *p)
{
	int e = -ENOENT;

	if (!p->o->boot_program) {
		fmt_path(p->boot_program_in_root, sizeof(p->boot_program_in_root), "%s",
			 ROOT_INIT_BOOT_PROGRAM);
		e = sysroot_resolve(p->root, p->boot_program_in_root, p->boot_program,
				    sizeof(p->boot_program));
		if (e == 0 && access(p->boot_program, X_OK) == 0)
			return 0;
	}
	fmt_path(p->boot_program_in_root, sizeof(p->boot_program_in_root), "%s",
		 p->o->boot_program ? p->o->boot_program : ROOT_BOOT_PROGRAM);
	e = sysroot_resolve(p->root, p->boot_program_in_root, p->boot_program,
			    sizeof(p->boot_program));
	if (e < 0)
		log_error(
			"boot program %s in the tree %s: %s (install initoverlayfs into the tree, "
			"or name it with --boot-program)",
			p->boot_program_in_root, p->root, strerror(-e));
	return e;
}

/* This system's: --boot-program, $INITOVERLAYFS_BOOT_PROGRAM, else the
 * static one next to this program (build/) or in the package's directory
 * beside $SBINDIR (/usr/sbin: /usr/lib/initoverlayfs), else the dynamic
 * one next to this program (build/, $SBINDIR). */
static int find_host_boot_program(struct plan *p)
{
	const char *prog = p->o->boot_program;
	char self[PATH_MAX], real[PATH_MAX];
	int e;

	if (!prog)
		prog = getenv("INITOVERLAYFS_BOOT_PROGRAM");
	if (prog && *prog) {
		if (!realpath(prog, p->boot_program))
			return log_step_error("boot program", prog, -errno);
		return 0;
	}
	e = self_path(self, sizeof(self));
	if (e < 0)
		return log_step_error("boot program: readlink", "/proc/self/exe", e);
	*strrchr(self, '/') = '\0';
	const char *const candidates[][2] = {
		{ self, INIT_BOOT_PROGRAM_NAME },
		{ self, "../lib/initoverlayfs/" INIT_BOOT_PROGRAM_NAME },
		{ self, "initoverlayfs" },
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		if (path_join3(p->boot_program, sizeof(p->boot_program), "", candidates[i][0],
			       candidates[i][1]) < 0)
			return log_step_error("boot program", candidates[i][0], -ENAMETOOLONG);
		if (access(p->boot_program, X_OK) < 0)
			continue;
		/* /usr/sbin/../lib/...: named as it is */
		if (realpath(p->boot_program, real))
			fmt_path(p->boot_program, sizeof(p->boot_program), "%s", real);
		return 0;
	}
	/* not there: check_boot_program names the dynamic one */
	return 0;
}

static int check_boot_program(struct plan *p)
{
	int e = p->root[0] ? find_root_boot_program(p) : find_host_boot_program(p);

	if (e < 0)
		return e;
	if (access(p->boot_program, R_OK) < 0)
		return log_step_error("boot program (see --boot-program)", p->boot_program, -errno);
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

static int check_tools(struct plan *p)
{
	int e;

	e = tool_require("mkfs.erofs", "EROFS image");
	if (e == 0 && p->verity)
		e = tool_require("veritysetup", "--verity");
	if (e < 0)
		return e;
	if (p->mode == MODE_INIT)
		return tool_require("depmod", "mini-initramfs modules");
	if (p->root[0]) {
		log_error("--root: mode systemd (dracut's mini-initramfs) is not supported for "
			  "another tree; use --mode init");
		return -EOPNOTSUPP;
	}
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

/* The host's config file: the probe of the boot directory's file system
 * (this system only) and bootfs from it. */
static int generate_bootfs(struct plan *p)
{
	int e;

	if (!p->have_bootfs) {
		log_error("config %s is missing and the file system holding %s is "
			  "unknown; give --bootfs or write bootfs into %s",
			  p->config_path, p->boot_dir, p->config_path);
		return -ENOENT;
	}
	e = bootfs_probe(&p->bootfs);
	if (e == -ENODEV) {
		log_error("config %s is missing and %s is on %s (%s), not on a block "
			  "device the boot could find; give --bootfs or write bootfs into %s",
			  p->config_path, p->boot_dir, p->bootfs.source, p->bootfs.fstype,
			  p->config_path);
		return e;
	}
	if (e < 0) {
		log_error("config %s is missing and the UUID of %s (%s, holding %s) "
			  "cannot be read: %s (%s); give --bootfs or write bootfs into %s",
			  p->config_path, p->bootfs.device[0] ? p->bootfs.device : "?",
			  p->bootfs.fstype, p->boot_dir, strerror(-e), errno_name(-e),
			  p->config_path);
		return e;
	}
	fmt_path(p->cfg.bootfs, sizeof(p->cfg.bootfs), "UUID=%s", p->bootfs.uuid);
	fmt_path(p->cfg.bootfs_hint, sizeof(p->cfg.bootfs_hint), "%s", p->bootfs.device);
	if (!p->cfg.bootfstype[0])
		fmt_path(p->cfg.bootfstype, sizeof(p->cfg.bootfstype), "%s", p->bootfs.fstype);
	return 0;
}

/* --bootfs, --bootfstype, --boot-layout: over the config's. */
static int apply_boot_options(struct plan *p)
{
	const struct {
		const char *option, *key, *value, *expected;
	} opts[] = {
		{ "--bootfs", "bootfs", p->o->bootfs,
		  "UUID=, LABEL=, PARTUUID=, PARTLABEL= or an absolute device path" },
		{ "--bootfstype", "bootfstype", p->o->bootfstype,
		  "a file system type such as ext4" },
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].value && config_set(&p->cfg, opts[i].key, opts[i].value) < 0) {
			log_error("%s %s: expected %s", opts[i].option, opts[i].value,
				  opts[i].expected);
			return -EINVAL;
		}
	if (p->o->boot_layout != CONFIG_BOOT_LAYOUT_DEFAULT)
		p->cfg.boot_layout = p->o->boot_layout;
	return 0;
}

/* The directory of the image in the boot file system, which the
 * mini-initramfs' fs names: said by the layout, else found from the
 * mounts (this system only: the mount table has the answer). */
static int decide_image_dir(struct plan *p)
{
	p->layout = p->cfg.boot_layout;
	if (p->layout == CONFIG_BOOT_LAYOUT_SEPARATE) {
		p->image_dir[0] = '\0';
	} else if (p->layout == CONFIG_BOOT_LAYOUT_ROOT) {
		/* the boot directory as the system sees it */
		const char *in = p->boot_dir + strlen(p->root);

		fmt_path(p->image_dir, sizeof(p->image_dir), "%s", strcmp(in, "/") == 0 ? "" : in);
	} else if (p->have_bootfs) {
		fmt_path(p->image_dir, sizeof(p->image_dir), "%s", p->bootfs.rel_dir);
	} else {
		if (p->root[0])
			log_error(
				"--root: whether %s is a file system of its own is not known; give "
				"--boot-layout separate (its own partition) or root (a directory "
				"of the root file system), or boot_layout in the config",
				p->boot_dir);
		else
			log_error("cannot find the file system of %s (%s); give --boot-layout "
				  "separate (its own partition) or root (a directory of the root "
				  "file system), or boot_layout in %s",
				  p->boot_dir, strerror(-p->bootfs_error), p->config_path);
		return -ENOENT;
	}
	return 0;
}

static int load_config(struct plan *p)
{
	struct config_error err;
	char path[PATH_MAX];
	struct stat st;
	bool missing;
	int e;

	fmt_path(path, sizeof(path), "%s",
		 p->o->config_path ? p->o->config_path : CONFIG_DEFAULT_PATH);
	if (p->root[0]) {
		/* a missing file is written into the tree's directory */
		char dir[PATH_MAX], found[PATH_MAX], *slash;

		e = sysroot_resolve(p->root, path, p->config_path, sizeof(p->config_path));
		if (e == -ENOENT) {
			fmt_path(dir, sizeof(dir), "%s", path);
			slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			e = sysroot_resolve(p->root, *dir ? dir : "/", found, sizeof(found));
			if (e == 0)
				e = path_join3(p->config_path, sizeof(p->config_path), "", found,
					       slash ? slash + 1 : dir);
		}
		if (e < 0) {
			log_error("config %s in the tree %s: %s (see --config)", path, p->root,
				  strerror(-e));
			return e;
		}
	} else {
		fmt_path(p->config_path, sizeof(p->config_path), "%s", path);
	}
	config_init(&p->cfg, p->kver);

	/* another tree's boot file system does not exist yet: only the
	 * config and the options say what it will be */
	if (!p->root[0]) {
		e = bootfs_locate(p->boot_dir, NULL, &p->bootfs);
		p->have_bootfs = e == 0;
		p->bootfs_error = e;
	}

	missing = stat(p->config_path, &st) < 0 ? errno == ENOENT : st.st_size == 0;
	if (!missing) {
		e = config_load_file(&p->cfg, p->config_path, &err);
		if (e < 0) {
			if (err.line)
				log_error("config %s:%u: %s", err.origin, err.line, err.message);
			else
				log_error("config %s: %s", err.origin, err.message);
			return e;
		}
	}
	e = apply_boot_options(p);
	if (e < 0)
		return e;
	if (missing) {
		p->config_generated = true;
		if (!p->cfg.bootfs[0] && p->root[0]) {
			log_error(
				"--root: the tree has no config %s; give --bootfs (UUID=, LABEL=, "
				"PARTUUID= or PARTLABEL= of its boot file system)",
				p->config_path);
			return -ENOENT;
		}
		if (!p->cfg.bootfs[0]) {
			e = generate_bootfs(p);
			if (e < 0)
				return e;
		}
	} else if (!p->cfg.bootfs[0] && p->root[0]) {
		log_error("--root: config %s has no bootfs; give --bootfs or write bootfs into it",
			  p->config_path);
		return -ENOENT;
	}
	if (p->root[0] && !p->cfg.bootfstype[0]) {
		log_error("--root: the boot file system's type is not known; give --bootfstype "
			  "(such as ext4) or write bootfstype into %s",
			  p->config_path);
		return -ENOENT;
	}
	e = decide_image_dir(p);
	if (e < 0)
		return e;

	/* The measurements describe one image: only this run's may reach the
	 * mini-initramfs. The policies (verity_on_corruption,
	 * verity_cmdline_override) are the config's to keep. */
	p->verity = p->o->verity >= 0 ? p->o->verity : p->cfg.install_verity;
	if (p->o->verity_salt && !p->verity) {
		log_error("--verity-salt: no hash tree to salt (give --verity, or verity yes in "
			  "%s)",
			  p->config_path);
		return -EINVAL;
	}
	if (p->cfg.verity.roothash[0] && !p->verity)
		log_warning("config %s: verity_roothash ignored: only --verity sets it",
			    p->config_path);
	p->cfg.verity.roothash[0] = '\0';
	p->cfg.verity.salt[0] = '\0';
	p->cfg.verity.hash_offset = 0;
	p->cfg.verity.data_blocks = 0;

	e = config_validate_install(&p->cfg, &err);
	if (e < 0) {
		log_error("config %s: %s", p->config_path, err.message);
		return e;
	}
	if (p->cfg.compression_from & CONFIG_FROM_EROFS_COMPRESSION)
		log_info("config %s: compression %s, from the original initoverlayfs' "
			 "erofs_compression",
			 p->config_path, p->cfg.compression);
	p->mode = p->o->mode;
	if (!p->o->mode_set && p->cfg.install_mode != CONFIG_INSTALL_MODE_DEFAULT) {
		p->mode =
			p->cfg.install_mode == CONFIG_INSTALL_MODE_INIT ? MODE_INIT : MODE_SYSTEMD;
		log_info("config %s: mode %s, from the original initoverlayfs' "
			 "initoverlayfs_init",
			 p->config_path, config_install_mode_to_string(p->cfg.install_mode));
	}

	if (p->o->compression)
		fmt_path(p->erofs_compression, sizeof(p->erofs_compression), "%s",
			 p->o->compression);
	else if (p->cfg.compression[0])
		fmt_path(p->erofs_compression, sizeof(p->erofs_compression), "%s",
			 p->cfg.compression);
	else
		fmt_path(p->erofs_compression, sizeof(p->erofs_compression), "%s",
			 CONFIG_DEFAULT_COMPRESSION);
	fmt_path(p->cfg.compression, sizeof(p->cfg.compression), "%s", p->erofs_compression);
	if (!p->cfg.bootfstype[0] && p->have_bootfs)
		fmt_path(p->cfg.bootfstype, sizeof(p->cfg.bootfstype), "%s", p->bootfs.fstype);
	return 0;
}

/* --hostonly: the drivers of the chain of devices that holds the boot
 * file system, instead of those of every usual boot device. */
static int plan_hostonly(struct plan *p)
{
	struct strv names = { 0 }, why = { 0 };
	char device[PATH_MAX], reason[PATH_MAX + 32];
	int e;

	if (!p->have_bootfs) {
		log_error("--hostonly: no mount holds the boot directory %s (%s): no device to "
			  "take the drivers from",
			  p->boot_dir, strerror(-p->bootfs_error));
		return p->bootfs_error < 0 ? p->bootfs_error : -ENOENT;
	}
	e = hostonly_chain("/sys", p->bootfs.dev, &names, &why, device, sizeof(device));
	if (e == -ENODEV)
		log_error("--hostonly: the boot directory %s is on %s (%s), which is not a block "
			  "device sysfs knows (tmpfs, NFS, btrfs): no chain of drivers to take "
			  "(build without --hostonly)",
			  p->boot_dir, p->bootfs.source, p->bootfs.fstype);
	else if (e == -EMEDIUMTYPE)
		log_error("--hostonly: the boot directory %s is on %s (%s), a virtual block "
			  "device the boot program cannot set up (device-mapper, md, ...): /boot "
			  "must be a disk or a partition",
			  p->boot_dir, p->bootfs.source, device);
	else if (e < 0)
		log_step_error("--hostonly: read the device chain", device, e);
	for (size_t i = 0; i < names.n && e == 0; i++) {
		fmt_path(reason, sizeof(reason), "the boot device's chain: %s", why.v[i]);
		e = modset_add(&p->modules, p->moddir, names.v[i], false, reason);
	}
	strv_free(&names);
	strv_free(&why);
	return e;
}

/* Init mode: what the mini-initramfs carries besides the config. */
static int plan_mini(struct plan *p)
{
	char missing[PATH_MAX];
	int e;

	char kconfig_dir[PATH_MAX];

	if (p->root[0])
		e = elf_collect_deps(p->root, p->boot_program_in_root, &p->libs, missing,
				     sizeof(missing));
	else
		e = elf_collect_deps(NULL, p->boot_program, &p->libs, missing, sizeof(missing));
	if (e == -ENOENT) {
		log_error("mini-initramfs: %s needs %s, which is not installed%s%s",
			  p->boot_program, missing, p->root[0] ? " in the tree " : "", p->root);
		return e;
	}
	if (e < 0)
		return log_step_error("mini-initramfs: list the shared libraries of",
				      p->boot_program, e);
	/* the kernel's config beside its image, in the tree's /boot */
	if (in_root(p, "/boot", kconfig_dir, sizeof(kconfig_dir)) < 0)
		kconfig_dir[0] = '\0';
	e = mini_resolve_modules(p->moddir, kconfig_dir, &p->cfg,
				 p->o->hostonly ? BOOT_MODULES_MOUNT
						: BOOT_MODULES_MOUNT | BOOT_MODULES_STORAGE,
				 p->o->add_modules, &p->modules);
	if (e == 0 && p->o->hostonly)
		e = plan_hostonly(p);
	/* --verity: a kernel without dm_verity must fail here, not at boot */
	for (const struct boot_module *m = boot_modules; m->name && e == 0 && p->verity; m++)
		if (m->set == BOOT_MODULES_VERITY)
			e = modset_add(&p->modules, p->moddir, m->name, true, "--verity");
	return e;
}

/* The images of this kernel in the boot directory now: ours
 * (initoverlayfs-KVER-HASH.img) and the original initoverlayfs' unhashed
 * initoverlayfs-KVER.img. The run removes those no installed initramfs
 * refers to. */
static bool is_image_of(const char *name, const char *prefix)
{
	const char *rest = name + strlen(prefix);

	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return false;
	if (strcmp(rest, ".img") == 0)
		return true;
	return rest[0] == '-' && strlen(rest + 1) == IMAGE_HASH_HEX + 4 &&
	       strspn(rest + 1, "0123456789abcdef") == IMAGE_HASH_HEX &&
	       strcmp(rest + 1 + IMAGE_HASH_HEX, ".img") == 0;
}

static int find_images(struct plan *p)
{
	char prefix[NAME_MAX + 1], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int e = 0;

	fmt_path(prefix, sizeof(prefix), "initoverlayfs-%s", p->kver);
	d = opendir(p->boot_dir);
	if (!d)
		return log_step_error("boot directory", p->boot_dir, -errno);
	while ((de = readdir(d)) && e == 0) {
		if (!is_image_of(de->d_name, prefix))
			continue;
		e = fmt_path(path, sizeof(path), "%s/%s", p->boot_dir, de->d_name);
		if (e == 0)
			e = strv_add(&p->stale, path);
	}
	closedir(d);
	return e < 0 ? log_step_error("boot directory", p->boot_dir, e) : 0;
}

int plan_make(const struct options *o, struct plan *p)
{
	int e;

	memset(p, 0, sizeof(*p));
	p->o = o;
	e = check_root(p);
	if (e == 0)
		e = resolve_kver(p);
	if (e == 0)
		e = check_moddir(p);
	if (e == 0)
		e = check_boot_dir(p);
	if (e == 0)
		e = choose_output(p);
	if (e == 0)
		e = check_source(p);
	/* the config may choose the mode, which decides the tools */
	if (e == 0)
		e = load_config(p);
	if (e == 0 && p->o->hostonly && p->mode != MODE_INIT) {
		log_error("--hostonly: init mode only (systemd mode's mini-initramfs is dracut's, "
			  "with udev)");
		e = -EINVAL;
	}
	if (e == 0)
		e = check_tools(p);
	if (e == 0 && p->mode == MODE_INIT)
		e = check_boot_program(p);
	if (e == 0)
		e = check_compressions(p);
	if (e == 0 && p->mode == MODE_INIT)
		e = plan_mini(p);
	if (e == 0)
		e = find_images(p);
	return e;
}

void plan_free(struct plan *p)
{
	strv_free(&p->libs);
	modset_free(&p->modules);
	strv_free(&p->stale);
}

/* --- the commands -------------------------------------------------------- */

int plan_full_initrd_argv(const struct plan *p, const char *out, const char **argv)
{
	size_t n = 0;

	if (p->source == SOURCE_DRACUT) {
		argv[n++] = p->generator[0] ? p->generator : "dracut";
		argv[n++] = "--no-hostonly";
		argv[n++] = "--force";
		argv[n++] = "--kver";
		argv[n++] = p->kver;
		argv[n++] = out;
	} else if (p->source == SOURCE_INITRAMFS_TOOLS) {
		argv[n++] = p->generator[0] ? p->generator : "mkinitramfs";
		argv[n++] = "-o";
		argv[n++] = out;
		argv[n++] = p->kver;
	} else {
		return -EINVAL;
	}
	argv[n] = NULL;
	return 0;
}

/* The file system UUID: none (all zeros). Nothing looks the image up by
 * UUID (the config names its path, dm-verity checks its root hash), blkid
 * reports no UUID for it, so two images never collide in
 * /dev/disk/by-uuid; and a fixed value keeps mkfs.erofs from drawing a
 * random one, so the same tree gives the same bytes. */
#define IMAGE_UUID "00000000-0000-0000-0000-000000000000"

int plan_mkfs_argv(const struct plan *p, const char *image, const char *tree, const char **argv,
		   char *buf, size_t size)
{
	size_t n = 0;

	argv[n++] = "mkfs.erofs";
	if (strcmp(p->erofs_compression, "none") != 0) {
		if (fmt_path(buf, size, "-z%s", p->erofs_compression) < 0)
			return -ENAMETOOLONG;
		argv[n++] = buf;
	}
	argv[n++] = "-T0";
	argv[n++] = "--all-root";
	argv[n++] = "-x-1";
	argv[n++] = "-U" IMAGE_UUID;
	argv[n++] = "--quiet";
	argv[n++] = image;
	argv[n++] = tree;
	argv[n] = NULL;
	return 0;
}

int plan_veritysetup_argv(const struct plan *p, const char *image, const char *blocks,
			  const char *offset, const char *salt, const char **argv, char *buf,
			  size_t size)
{
	size_t used = 0, n = 0;
	const char *vals[] = { blocks, offset, salt };
	const char *opts[] = { "--data-blocks=", "--hash-offset=", "--salt=" };

	argv[n++] = "veritysetup";
	argv[n++] = "format";
	argv[n++] = "--no-superblock";
	argv[n++] = "--hash=" VERITY_DEFAULT_ALG;
	argv[n++] = "--data-block-size=4096";
	argv[n++] = "--hash-block-size=4096";
	for (size_t i = 0; i < 3; i++) {
		int len = snprintf(buf + used, size - used, "%s%s", opts[i], vals[i]);

		if (len < 0 || (size_t)len >= size - used)
			return -ENAMETOOLONG;
		argv[n++] = buf + used;
		used += (size_t)len + 1;
	}
	argv[n++] = image;
	argv[n++] = image;
	argv[n] = NULL;
	return 0;
}

int plan_depmod_argv(const struct plan *p, const char *confdir, const char *stage,
		     const char **argv)
{
	/* an empty configuration: the host's depmod.d has no say */
	const char *v[] = { "depmod", "-C", confdir, "-b", stage, p->kver, NULL };

	memcpy(argv, v, sizeof(v));
	return 0;
}

/* -EINVAL for "none" */
int plan_compressor_argv(const struct plan *p, const char **argv, char *buf, size_t size)
{
	const struct compression *c = compression_find(p->initramfs_compression);

	return c ? compression_argv(c, p->initramfs_level, argv, buf, size) : -EINVAL;
}

/*
 * Only the module and what it depends on (systemd, udev, base): dracut's
 * default module set would rebuild the full initrd we are replacing, and
 * host-only or microcode choices belong to the full initrd, not to the
 * mini-initramfs. So does the admin's configuration (/etc/dracut.conf and
 * /etc/dracut.conf.d: include_src=, install_items+=, add_drivers+= for the
 * full initrd would land here too): dracut reads only the distribution's
 * defaults, --conf /dev/null and an empty --confdir (CONFDIR). dracut's
 * --compress takes one command line; "none" is --no-compress.
 */
int plan_dracut_mini_argv(const struct plan *p, const char *conf, const char *confdir,
			  const char *out, const char **argv, char *buf, size_t size)
{
	const char *comp[16];
	char lvl[64];
	size_t n = 0, len;

	if (plan_compressor_argv(p, comp, lvl, sizeof(lvl)) < 0) {
		fmt_path(buf, size, "--no-compress");
	} else {
		len = (size_t)snprintf(buf, size, "--compress=");
		for (size_t i = 0; comp[i] && len < size; i++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
						comp[i]);
		if (len >= size)
			return -ENAMETOOLONG;
	}
	argv[n++] = "dracut";
	argv[n++] = "--force";
	argv[n++] = "--reproducible";
	argv[n++] = "--no-hostonly";
	argv[n++] = "--no-early-microcode";
	argv[n++] = "--conf";
	argv[n++] = "/dev/null";
	argv[n++] = "--confdir";
	argv[n++] = confdir;
	argv[n++] = buf;
	argv[n++] = "--kver";
	argv[n++] = p->kver;
	argv[n++] = "--modules";
	argv[n++] = "initoverlayfs";
	argv[n++] = "--include";
	argv[n++] = conf;
	argv[n++] = CONFIG_DEFAULT_PATH;
	argv[n++] = out;
	argv[n] = NULL;
	return 0;
}

/* --- the printed plan ---------------------------------------------------- */

static void print_command(FILE *out, const char *why, const char *const argv[])
{
	char line[8192];

	argv_format(argv, line, sizeof(line));
	fprintf(out, "  %s\n    $ %s\n", why, line);
}

static void print_inputs(const struct plan *p, FILE *out)
{
	fprintf(out, "inputs:\n");
	if (p->root[0])
		fprintf(out,
			"  root            %s (the system's tree; its programs run "
			"chrooted into it)\n",
			p->root);
	fprintf(out, "  kernel          %s (modules %s)\n", p->kver, p->moddir);
	if (p->layout != CONFIG_BOOT_LAYOUT_DEFAULT)
		fprintf(out,
			"  boot directory  %s (layout %s: the image is %s/initoverlayfs-... "
			"in the boot file system)\n",
			p->boot_dir, config_boot_layout_to_string(p->layout), p->image_dir);
	else if (p->have_bootfs)
		fprintf(out, "  boot directory  %s (%s on %s, mounted at %s)\n", p->boot_dir,
			p->bootfs.fstype, p->bootfs.source, p->bootfs.mountpoint);
	else
		fprintf(out, "  boot directory  %s (file system not found)\n", p->boot_dir);
	if (p->source == SOURCE_IMAGE)
		fprintf(out, "  source          the initramfs %s (%s)\n", p->source_path,
			p->source_format);
	else if (p->source == SOURCE_DIR)
		fprintf(out, "  source          the directory %s\n", p->source_path);
	else
		fprintf(out, "  source          generated by %s (command below%s)\n",
			source_names[p->source],
			p->root[0] ? ", chrooted into the root, $WORK on its /tmp" : "");
	fprintf(out, "  config          %s: %s (bootfs %s, bootfstype %s)\n", p->config_path,
		p->config_generated ? "missing, generated" : "kept",
		p->cfg.bootfs[0] ? p->cfg.bootfs : "(none)",
		p->cfg.bootfstype[0] ? p->cfg.bootfstype : "(unknown)");
	if (p->mode == MODE_INIT)
		fprintf(out, "  boot program    %s\n", p->boot_program);
}

static void print_outputs(const struct plan *p, FILE *out)
{
	fprintf(out, "outputs (temporary files beside them, renamed into place):\n");
	fprintf(out, "  %04o %s/initoverlayfs-%s-<hash>.img  EROFS image, %s%s\n",
		PRIVATE_FILE_MODE, p->boot_dir, p->kver, p->erofs_compression,
		p->verity ? ", with a dm-verity hash tree" : "");
	fprintf(out, "  %04o %s  mini-initramfs, %s\n", PRIVATE_FILE_MODE, p->output,
		p->mode == MODE_INIT ? "newc cpio" : "dracut, mode systemd");
	if (p->config_generated)
		fprintf(out, "  %04o %s  config: bootfs %s, bootfs_hint %s, bootfstype %s\n",
			HOST_CONFIG_MODE, p->config_path, p->cfg.bootfs, p->cfg.bootfs_hint,
			p->cfg.bootfstype);
	for (size_t i = 0; i < p->stale.n; i++)
		fprintf(out,
			"  removed %s  once the new pair is in place, unless it is the new "
			"image or an initramfs in the boot directory refers to it\n",
			p->stale.v[i]);
}

static void print_commands(const struct plan *p, FILE *out)
{
	const char *argv[24];
	char buf[512], image_tmp[PATH_MAX], work_full[PATH_MAX];

	fprintf(out, "commands ($WORK: the work directory, mode 0700):\n");
	fmt_path(image_tmp, sizeof(image_tmp), "%s/.initoverlayfs-%s.img.XXXXXX", p->boot_dir,
		 p->kver);
	if (plan_full_initrd_argv(p, p->root[0] ? "/tmp/full-initrd.img" : "$WORK/full-initrd.img",
				  argv) == 0)
		print_command(out, "the full initrd", argv);
	fmt_path(work_full, sizeof(work_full), "%s",
		 p->source == SOURCE_DIR ? p->source_path : "$WORK/full");
	if (p->mode == MODE_INIT) {
		plan_depmod_argv(p, "$WORK/depmod.d", "$WORK/mini", argv);
		print_command(out, "the mini-initramfs' module indexes", argv);
	}
	if (plan_mkfs_argv(p, image_tmp, work_full, argv, buf, sizeof(buf)) == 0)
		print_command(out, "the EROFS image", argv);
	if (p->verity &&
	    plan_veritysetup_argv(p, image_tmp, "<image size / 4096>", "<image size>",
				  p->o->verity_salt ? p->o->verity_salt : "<sha256 of the image>",
				  argv, buf, sizeof(buf)) == 0)
		print_command(out, "the dm-verity hash tree, appended to the image", argv);
	if (p->mode == MODE_SYSTEMD) {
		const char *base = strrchr(p->output, '/') + 1;
		char tmp[PATH_MAX];

		fmt_path(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", (int)(base - p->output), p->output,
			 base);
		if (plan_dracut_mini_argv(p, "$WORK/initoverlayfs.conf", "$WORK/dracut.conf.d", tmp,
					  argv, buf, sizeof(buf)) == 0)
			print_command(
				out,
				"the mini-initramfs (initoverlayfs_conf=$WORK/initoverlayfs.conf)",
				argv);
	} else if (plan_compressor_argv(p, argv, buf, sizeof(buf)) == 0) {
		print_command(out, "the mini-initramfs' compressor (the newc cpio on its stdin)",
			      argv);
	}
}

static void print_mini(const struct plan *p, FILE *out)
{
	size_t len = strlen(p->moddir);

	fprintf(out, "mini-initramfs contents:\n");
	fprintf(out, "  /init  the boot program %s\n", p->boot_program);
	for (size_t i = 0; i < p->libs.n; i++)
		fprintf(out, "  %s  needed by the boot program\n", p->libs.v[i]);
	fprintf(out, "  /etc/initoverlayfs.conf  the config, fs naming the image, init the "
		     "full initrd's /init unless configured (from an initramfs-tools full "
		     "initrd also newroot tmpfs)\n");
	if (p->modules.preload.n > 0) {
		fprintf(out, "    modules, loaded before the boot file system is mounted:");
		for (size_t i = 0; i < p->modules.preload.n; i++)
			fprintf(out, " %s", p->modules.preload.v[i]);
		fprintf(out, " (its mount asks for them by name)\n");
	}
	for (size_t i = 0; i < p->modules.files.n; i++) {
		const char *f = p->modules.files.v[i];

		fprintf(out, "  /lib/modules/%s%s  %s\n", p->kver,
			strncmp(f, p->moddir, len) == 0 ? f + len : f, p->modules.why.v[i]);
	}
	for (size_t i = 0; i < p->modules.builtin.n; i++)
		fprintf(out, "  (built in: %s)\n", p->modules.builtin.v[i]);
}

void plan_print(const struct plan *p, FILE *out)
{
	fprintf(out, "plan: kernel %s, mode %s, source %s\n", p->kver,
		p->mode == MODE_INIT ? "init" : "systemd", source_names[p->source]);
	print_inputs(p, out);
	print_outputs(p, out);
	print_commands(p, out);
	if (p->mode == MODE_INIT)
		print_mini(p, out);
	fprintf(out, "dry run: nothing was changed\n");
}
