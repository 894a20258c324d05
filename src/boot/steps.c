/* SPDX-License-Identifier: MIT */
#include "boot/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/apifs.h"
#include "boot/bootdev.h"
#include "boot/fdutil.h"
#include "boot/image.h"
#include "boot/modules.h"
#include "boot/mountutil.h"
#include "boot/newroot.h"
#include "boot/oldroot.h"
#include "boot/overlay.h"
#include "boot/switchroot.h"
#include "boot/verity.h"
#include "common/bootspec.h"
#include "common/log.h"
#include "common/path.h"

/* How often the boot device is looked for while waiting. */
#define BOOTDEV_POLL_MS 100

static struct module_loader loader = { .moddir_fd = -1, .uevent_fd = -1 };

int ctx_path(const struct boot_context *ctx, char *out, size_t size, const char *path)
{
	return path_join(out, size, ctx->root, path);
}

/* The line an undo that failed leaves: what stays, and why. Returns r. */
static int undo_failed(const char *step, const char *path, int r, const char *what_stays)
{
	log_warning("undo %s: %s: %s (%s), %s", step, path, errno_text(-r), errno_name(-r),
		    what_stays);
	return r;
}

/* What a step mounted goes as the layers' release does (MNT_DETACH): at
 * once, with whatever is beneath it, even if something still has it open. */
static int undo_mount(struct boot_context *ctx, const char *step, const char *dir, char *detail,
		      size_t detail_size)
{
	char path[PATH_MAX];
	int r;

	r = ctx_path(ctx, path, sizeof(path), dir);
	if (r >= 0 && umount2(path, MNT_DETACH) < 0)
		r = -errno;
	if (r < 0)
		return undo_failed(step, dir, r, "it stays mounted");
	snprintf(detail, detail_size, "%s unmounted", path);
	return 0;
}

static int step_mount_apifs(struct boot_context *ctx, char *detail, size_t detail_size)
{
	const char *failed = NULL;
	int r;

	r = apifs_mount_all(&failed);
	if (r < 0)
		return log_step_error("mount API filesystems", failed, r);
	r = console_ensure_stdio();
	if (r < 0)
		log_warning("no console for standard I/O: /dev/console: %s", errno_text(-r));
	r = log_open_kmsg(NULL);
	if (r < 0)
		log_warning("cannot log to /dev/kmsg: %s, logging to the console", errno_text(-r));
	snprintf(detail, detail_size, "mounted /proc, /sys, /dev, /run");
	return 0;
}

static int read_cmdline(struct boot_context *ctx)
{
	long len;

	if (ctx->cmdline_override)
		return str_copy(ctx->cmdline, sizeof(ctx->cmdline), ctx->cmdline_override);
	len = read_small_file("/proc/cmdline", ctx->cmdline, sizeof(ctx->cmdline));
	return len < 0 ? (int)len : 0;
}

static int step_read_config(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char path[PATH_MAX];
	struct config_error err;
	bool have_file = true;
	int r;

	config_init(&ctx->cfg, ctx->kernel_release);
	r = ctx->config_path ? str_copy(path, sizeof(path), ctx->config_path)
			     : ctx_path(ctx, path, sizeof(path), CONFIG_DEFAULT_PATH);
	if (r < 0)
		return log_step_error("read config", CONFIG_DEFAULT_PATH, r);

	r = config_load_file(&ctx->cfg, path, &err);
	if (r == -ENOENT && !ctx->config_path) {
		/* Defaults describe a valid setup: image inside this initramfs. */
		log_warning("read config: %s: not found, using defaults", path);
		have_file = false;
	} else if (r < 0 && err.line > 0) {
		log_error("read config: %s:%u: %s", path, err.line, err.message);
		return r;
	} else if (r < 0) {
		return log_step_error("read config", path, r);
	}

	r = read_cmdline(ctx);
	if (r < 0)
		return log_step_error("read kernel command line", "/proc/cmdline", r);
	r = config_apply_cmdline(&ctx->cfg, ctx->cmdline, &err);
	if (r < 0) {
		log_error("read config: kernel command line: %s", err.message);
		return r;
	}
	r = config_validate(&ctx->cfg, &err);
	if (r < 0) {
		log_error("read config: %s: %s", path, err.message);
		return r;
	}
	if (ctx->image_mount_forced)
		ctx->cfg.image_mount = ctx->image_mount_option;
	if (ctx->cfg.debug)
		log_set_max_level(LOG_LEVEL_DEBUG);

	snprintf(detail, detail_size, "%s%s: bootfs=%s fs=%s fstype=%s init=%s timeout=%us",
		 have_file ? "" : "(missing) ", path,
		 ctx->cfg.bootfs[0] ? ctx->cfg.bootfs : "(none)", ctx->cfg.fs, ctx->cfg.fstype,
		 ctx->cfg.init, ctx->cfg.timeout_sec);
	return 0;
}

/* Modules this boot needs whatever the config says; a kernel with them
 * built in resolves them to nothing, which is fine. */
static void load_needed_module(const char *name)
{
	int r = modules_load(&loader, name);

	if (r < 0)
		log_warning("load module %s: %s (%s)", name, errno_text(-r), errno_name(-r));
}

static int step_load_modules(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char failed_buf[256], alias[CONFIG_VALUE_MAX + 8];
	const char *failed = NULL;
	int r;

	r = modules_open(&loader, ctx->root, ctx->kernel_release, ctx->cmdline);
	if (r == -ENOENT) {
		snprintf(detail, detail_size, "no /lib/modules/%s, nothing to load",
			 ctx->kernel_release);
		return 0;
	}
	if (r == -EBADMSG && loader.plan_bad_line > 0) {
		log_error("load modules: /lib/modules/%s/%s: line %u is not a module plan line "
			  "(EBADMSG)",
			  ctx->kernel_release, MODPLAN_FILE, loader.plan_bad_line);
		return r;
	}
	if (r == -ELIBACC) {
		log_error("load modules: /lib/modules/%s has no %s, and no usable libkmod.so.2 "
			  "reads its indexes (ELIBACC)",
			  ctx->kernel_release, MODPLAN_FILE);
		return r;
	}
	if (r < 0)
		return log_step_error("load modules", "/lib/modules", r);

	r = modules_load_list(&loader, ctx->cfg.modules, &failed, failed_buf, sizeof(failed_buf));
	if (r < 0)
		return log_step_error("load modules", failed, r);

	snprintf(alias, sizeof(alias), "fs-%s", ctx->cfg.fstype);
	load_needed_module(alias);
	load_needed_module("overlay");
	if (ctx->cfg.bootfstype[0]) {
		snprintf(alias, sizeof(alias), "fs-%s", ctx->cfg.bootfstype);
		load_needed_module(alias);
	}
	/* A verified image always goes through a loop device. */
	if (ctx->cfg.image_mount != IMAGE_MOUNT_FILE || ctx->cfg.verity.roothash[0])
		load_needed_module("loop");
	if (ctx->cfg.verity.roothash[0])
		load_needed_module("dm-verity");

	/* Devices that appear from here on are handled as they come. */
	if (ctx->mode == BOOT_MODE_INIT) {
		r = modules_uevent_listen(&loader);
		if (r < 0)
			log_warning("no kernel uevents (%s), polling for devices", errno_text(-r));
		r = modules_coldplug(&loader);
		if (r < 0)
			return log_step_error("load modules", "/sys/devices", r);
	}
	snprintf(detail, detail_size, "%u modules inserted", loader.inserted);
	return 0;
}

/* Between two looks for the boot device: handle new devices (init mode)
 * or just wait for udev to do it (systemd mode). */
static void wait_for_devices(struct boot_context *ctx)
{
	if (ctx->mode == BOOT_MODE_INIT && modules_active(&loader)) {
		if (modules_uevent_wait(&loader, BOOTDEV_POLL_MS) >= 0)
			return;
		modules_coldplug(&loader);
	}
	usleep(BOOTDEV_POLL_MS * 1000);
}

/* A cloned disk: the same UUID or LABEL on two devices. Which one holds
 * the image this mini-initramfs belongs with is a guess; the boot stops
 * instead, naming them all, until bootfs_hint names one (ENOTUNIQ: the
 * name is not unique, as systemd says of duplicate partitions). */
static int log_not_unique(const struct boot_context *ctx, const struct bootdev_found *found)
{
	char devices[512];

	bootdev_format_found(found, devices, sizeof(devices));
	if (ctx->cfg.bootfs_hint[0])
		log_error("find boot device: %s is on %s: refusing to guess, bootfs_hint %s is "
			  "none of them (ENOTUNIQ)",
			  ctx->cfg.bootfs, devices, ctx->cfg.bootfs_hint);
	else
		log_error("find boot device: %s is on %s: refusing to guess, set bootfs_hint to "
			  "the right one (ENOTUNIQ)",
			  ctx->cfg.bootfs, devices);
	return -ENOTUNIQ;
}

static int step_find_bootfs(struct boot_context *ctx, char *detail, size_t detail_size)
{
	struct bootdev_found found;
	struct bootdev_match match;
	struct bootspec spec;
	uint64_t deadline;
	int r;

	r = bootspec_parse(ctx->cfg.bootfs, &spec);
	if (r < 0)
		return log_step_error("find boot device", ctx->cfg.bootfs, r);
	if (spec.kind == BOOTSPEC_NONE) {
		snprintf(detail, detail_size, "no bootfs configured, image is in the initramfs");
		return 0;
	}

	deadline = now_usec() + (uint64_t)ctx->cfg.timeout_sec * 1000000ULL;
	for (;;) {
		r = bootdev_find(&spec, ctx->cfg.bootfs_hint, &match, &found);
		if (r == -ENOTUNIQ)
			return log_not_unique(ctx, &found);
		if (r < 0)
			return log_step_error("find boot device", ctx->cfg.bootfs, r);
		if (r > 0)
			break;
		if (now_usec() >= deadline) {
			log_error("find boot device: %s: not found after %u s (ETIMEDOUT)",
				  ctx->cfg.bootfs, ctx->cfg.timeout_sec);
			return -ETIMEDOUT;
		}
		wait_for_devices(ctx);
	}
	str_copy(ctx->boot_device, sizeof(ctx->boot_device), match.device);
	str_copy(ctx->boot_fstype, sizeof(ctx->boot_fstype),
		 ctx->cfg.bootfstype[0] ? ctx->cfg.bootfstype : match.fstype);
	snprintf(detail, detail_size, "%s is %s (%s)", ctx->cfg.bootfs, ctx->boot_device,
		 ctx->boot_fstype[0] ? ctx->boot_fstype : "type unknown");
	return 0;
}

static int step_mount_bootfs(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char target[PATH_MAX], alias[CONFIG_VALUE_MAX + 8];
	const char *data;
	int r;

	if (!ctx->boot_device[0]) {
		snprintf(detail, detail_size, "nothing to mount");
		return 0;
	}
	r = ctx_path(ctx, target, sizeof(target), BOOT_DIR);
	if (r < 0)
		return log_step_error("mount boot filesystem", BOOT_DIR, r);
	if (!ctx->boot_fstype[0]) {
		log_error("mount boot filesystem: %s: unknown filesystem type, set bootfstype",
			  ctx->boot_device);
		return -EINVAL;
	}
	if (!ctx->cfg.bootfstype[0]) {
		snprintf(alias, sizeof(alias), "fs-%s", ctx->boot_fstype);
		load_needed_module(alias);
	}
	r = mkdir_parents(target, 0755);
	if (r < 0)
		return log_step_error("mount boot filesystem", target, r);
	/* Read-write like the system's own mount, which may find this one
	 * still there and reuse it (a read-only one would make it EBUSY). */
	data = bootdev_mount_data(ctx->boot_fstype);
	r = mount_fs(ctx->boot_device, target, ctx->boot_fstype, MS_NOSUID | MS_NODEV, data);
	if (r < 0)
		return log_errno(r, "mount boot filesystem: %s on %s (%s%s%s)", ctx->boot_device,
				 target, ctx->boot_fstype, data ? ", " : "", data ? data : "");
	ctx->boot_mounted = true;
	snprintf(detail, detail_size, "%s on %s (%s%s%s)", ctx->boot_device, target,
		 ctx->boot_fstype, data ? ", " : "", data ? data : "");
	return 0;
}

static int undo_mount_bootfs(struct boot_context *ctx, char *detail, size_t detail_size)
{
	int r;

	if (!ctx->boot_mounted)
		return 0;
	r = undo_mount(ctx, "mount boot filesystem", BOOT_DIR, detail, detail_size);
	if (r == 0)
		ctx->boot_mounted = false;
	return r;
}

/* Where the image is: in the boot filesystem, else in the initramfs. */
static int resolve_image_path(struct boot_context *ctx)
{
	return ctx->boot_mounted
		       ? path_join3(ctx->image_path, sizeof(ctx->image_path), ctx->root, BOOT_DIR,
				    ctx->cfg.fs)
		       : ctx_path(ctx, ctx->image_path, sizeof(ctx->image_path), ctx->cfg.fs);
}

static int step_verity(struct boot_context *ctx, char *detail, size_t detail_size)
{
	const struct config_verity *v = &ctx->cfg.verity;
	struct verity_device dm;
	const char *failed = NULL, *stage;
	struct stat st;
	int loop_fd, r;

	if (!v->roothash[0]) {
		snprintf(detail, detail_size, "no verity_roothash configured, image not verified");
		return 0;
	}
	r = resolve_image_path(ctx);
	if (r < 0)
		return log_step_error("verity", ctx->cfg.fs, r);
	/* Never file-backed: dm-verity needs a block device below it. */
	loop_fd = image_attach_loop(ctx->image_path, ctx->loop_device, sizeof(ctx->loop_device),
				    &failed);
	if (loop_fd < 0)
		return log_step_error("verity: attach loop device", failed, loop_fd);
	if (fstat(loop_fd, &st) < 0) {
		r = -errno;
		close(loop_fd);
		return log_step_error("verity: stat", ctx->loop_device, r);
	}
	r = verity_open(v, st.st_rdev, &dm, &stage);
	/* dm holds the loop device now (or nothing does: autoclear). */
	close(loop_fd);
	if (r < 0)
		return log_errno(r, "verity: %s: %s over %s (%s)", stage, VERITY_DM_NAME,
				 ctx->loop_device, ctx->image_path);
	str_copy(ctx->verity_device, sizeof(ctx->verity_device), dm.path);
	snprintf(detail, detail_size,
		 "%s (%s) over %s: %s %.16s..., %llu blocks of %u bytes, on corruption %s", dm.path,
		 VERITY_DM_NAME, ctx->loop_device, v->algorithm, v->roothash, v->data_blocks,
		 v->data_block_size, verity_corruption_to_string(v->on_corruption));
	return 0;
}

static int undo_verity(struct boot_context *ctx, char *detail, size_t detail_size)
{
	int r;

	if (!ctx->verity_device[0])
		return 0;
	r = verity_close();
	if (r == -ENXIO) {
		/* The image's mount was its last user: deferred removal. */
		snprintf(detail, detail_size, "%s (%s) went with the image's mount",
			 ctx->verity_device, VERITY_DM_NAME);
	} else if (r == -EBUSY && verity_close_deferred() == 0) {
		snprintf(detail, detail_size, "%s (%s) busy, removed once closed",
			 ctx->verity_device, VERITY_DM_NAME);
	} else if (r < 0) {
		return undo_failed("verity", VERITY_DM_NAME, r, "the device stays");
	} else {
		snprintf(detail, detail_size, "%s (%s) removed, loop %s autoclears",
			 ctx->verity_device, VERITY_DM_NAME, ctx->loop_device);
	}
	ctx->verity_device[0] = '\0';
	return 0;
}

/* The verified device is mounted like a disk; if the mount fails the
 * device goes away so that nothing unverified or half set up is left. */
static int mount_verity_device(struct boot_context *ctx, const char *target)
{
	int r = mkdir_parents(target, 0755);

	if (r == 0)
		r = mount_fs(ctx->verity_device, target, ctx->cfg.fstype, MS_RDONLY, NULL);
	if (r < 0) {
		log_errno(r, "mount image: %s via %s (%s, verity)", ctx->image_path,
			  ctx->verity_device, ctx->cfg.fstype);
		if (verity_close() < 0)
			log_warning("mount image: cannot remove %s", VERITY_DM_NAME);
	}
	return r;
}

static int step_mount_image(struct boot_context *ctx, char *detail, size_t detail_size)
{
	struct image_mount_result result;
	const char *failed = NULL;
	char target[PATH_MAX];
	int r;

	r = resolve_image_path(ctx);
	if (r >= 0)
		r = ctx_path(ctx, target, sizeof(target), LOWER_DIR);
	if (r < 0)
		return log_step_error("mount image", ctx->cfg.fs, r);

	if (ctx->verity_device[0]) {
		r = mount_verity_device(ctx, target);
		if (r < 0)
			return r;
		/* From here the mount holds the device: it goes with the mount. */
		r = verity_close_deferred();
		if (r < 0)
			log_warning("mount image: %s: deferred removal: %s (%s), the device "
				    "stays after the boot",
				    VERITY_DM_NAME, errno_text(-r), errno_name(-r));
		ctx->lower_mounted = true;
		snprintf(detail, detail_size, "%s on %s (%s, verity %s over loop %s%s)",
			 ctx->image_path, target, ctx->cfg.fstype, ctx->verity_device,
			 ctx->loop_device, r < 0 ? "" : ", removed once unmounted");
		return 0;
	}
	r = image_mount(ctx->image_path, target, ctx->cfg.fstype, ctx->cfg.image_mount, &result,
			&failed);
	if (r < 0) {
		/* Name the image even when the loop device is what failed. */
		bool via = failed && strcmp(failed, ctx->image_path) != 0;

		return log_errno(r, "mount image: %s%s%s (%s, %s)", ctx->image_path,
				 via ? " via " : "", via ? failed : "", ctx->cfg.fstype,
				 image_mount_to_string(ctx->cfg.image_mount));
	}
	ctx->image_file_backed = result.file_backed;
	ctx->lower_mounted = true;
	str_copy(ctx->loop_device, sizeof(ctx->loop_device), result.loop_device);
	snprintf(detail, detail_size, "%s on %s (%s, %s%s)", ctx->image_path, target,
		 ctx->cfg.fstype, result.file_backed ? "file-backed" : "loop ", result.loop_device);
	return 0;
}

/* After the layers' release the overlay alone holds the image. */
static int undo_mount_image(struct boot_context *ctx, char *detail, size_t detail_size)
{
	size_t n;
	int r;

	if (!ctx->lower_mounted)
		return 0;
	r = undo_mount(ctx, "mount image", LOWER_DIR, detail, detail_size);
	if (r < 0)
		return r;
	ctx->lower_mounted = false;
	n = strlen(detail);
	if (ctx->loop_device[0] && !ctx->verity_device[0] && n < detail_size)
		snprintf(detail + n, detail_size - n, ", loop %s autoclears", ctx->loop_device);
	return 0;
}

/* The overlay's layers: the image's mount and the upper tmpfs' mount. */
static int layer_paths(struct boot_context *ctx, char lower[PATH_MAX], char upper[PATH_MAX])
{
	int r = ctx_path(ctx, lower, PATH_MAX, LOWER_DIR);

	return r < 0 ? r : ctx_path(ctx, upper, PATH_MAX, UPPER_DIR);
}

static int step_mount_overlay(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char lower[PATH_MAX], upper[PATH_MAX], new_root[PATH_MAX], merged[PATH_MAX];
	bool tmpfs_root = ctx->cfg.new_root == NEW_ROOT_TMPFS;
	struct newroot_stats stats;
	const char *failed = NULL;
	int r;

	r = layer_paths(ctx, lower, upper);
	if (r >= 0)
		r = ctx_path(ctx, new_root, sizeof(new_root), NEW_ROOT_DIR);
	if (r >= 0)
		r = ctx_path(ctx, merged, sizeof(merged), tmpfs_root ? MERGED_DIR : NEW_ROOT_DIR);
	if (r < 0)
		return log_step_error("mount overlay", NEW_ROOT_DIR, r);

	r = overlay_mount(lower, upper, merged, &ctx->overlay_volatile, &failed);
	if (r < 0)
		return log_step_error("mount overlay", failed, r);
	if (!tmpfs_root) {
		ctx->upper_mounted = true;
		snprintf(detail, detail_size, "%s (lower %s, upper tmpfs %s%s)", new_root, lower,
			 upper, ctx->overlay_volatile ? ", volatile" : "");
		return 0;
	}
	r = newroot_tmpfs(merged, new_root, &stats, &failed);
	if (r < 0) {
		int e;

		log_step_error("mount overlay: tmpfs root", failed, r);
		/* Nothing half set up stays: the overlay and its tmpfs go too. */
		e = overlay_unmount(upper, merged, &failed);
		if (e < 0)
			undo_failed("mount overlay", failed, e, "it stays mounted");
		return r;
	}
	ctx->upper_mounted = true;
	snprintf(detail, detail_size,
		 "%s (lower %s, upper tmpfs %s%s); tmpfs root %s: %u directories bound, %u "
		 "entries copied",
		 merged, lower, upper, ctx->overlay_volatile ? ", volatile" : "", new_root,
		 stats.bound, stats.copied);
	return 0;
}

/* The next root (the overlay, or the tmpfs root over it), then, until
 * the layers' release, the overlay and the upper tmpfs themselves. Once
 * released, the next root is all that holds them: it alone goes. */
static int undo_mount_overlay(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char lower[PATH_MAX], upper[PATH_MAX], merged[PATH_MAX];
	bool tmpfs_root = ctx->cfg.new_root == NEW_ROOT_TMPFS;
	const char *failed = NEW_ROOT_DIR;
	int r;

	if (tmpfs_root || !ctx->upper_mounted) {
		r = undo_mount(ctx, "mount overlay", NEW_ROOT_DIR, detail, detail_size);
		if (r < 0 || !ctx->upper_mounted)
			return r;
	}
	r = layer_paths(ctx, lower, upper);
	if (r >= 0)
		r = ctx_path(ctx, merged, sizeof(merged), tmpfs_root ? MERGED_DIR : NEW_ROOT_DIR);
	if (r >= 0)
		r = overlay_unmount(upper, merged, &failed);
	if (r < 0)
		return undo_failed("mount overlay", failed, r, "it stays mounted");
	ctx->upper_mounted = false;
	snprintf(detail, detail_size, "%s and %s unmounted%s", merged, upper,
		 tmpfs_root ? ", the tmpfs root before them" : "");
	return 0;
}

/* Nothing but the overlay needs the layers' own mounts: detached, they
 * no longer pin the image, and through it /boot, once the overlay goes.
 * A failure costs a clean /boot, not the boot: a warning. */
static int step_release_layers(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char lower[PATH_MAX], upper[PATH_MAX];
	const char *failed = NULL;
	int r;

	r = layer_paths(ctx, lower, upper);
	if (r >= 0)
		r = overlay_release_layers(lower, upper, &failed);
	/* What stays mounted: the lower layer goes first. */
	ctx->lower_mounted = r < 0 && failed != upper;
	ctx->upper_mounted = r < 0;
	if (r < 0) {
		log_warning("release layers: %s: %s (%s), it stays mounted",
			    failed ? failed : LOWER_DIR, errno_text(-r), errno_name(-r));
		snprintf(detail, detail_size, "not all released");
		return 0;
	}
	snprintf(detail, detail_size, "%s and %s detached, held by the overlay only%s", lower,
		 upper,
		 ctx->image_file_backed	 ? ""
		 : ctx->verity_device[0] ? "; dm and loop devices go with it"
		 : ctx->loop_device[0]	 ? "; loop device autoclears"
					 : "");
	return 0;
}

static int step_move_mounts(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char source[PATH_MAX], target[PATH_MAX], new_root[PATH_MAX];
	const char *failed = NULL;
	int r;

	r = ctx_path(ctx, new_root, sizeof(new_root), NEW_ROOT_DIR);
	if (r < 0)
		return log_step_error("move mounts", NEW_ROOT_DIR, r);
	if (ctx->boot_mounted) {
		r = ctx_path(ctx, source, sizeof(source), BOOT_DIR);
		if (r >= 0)
			r = path_join(target, sizeof(target), new_root, BOOT_DIR);
		if (r >= 0)
			r = move_mount_to(source, target);
		if (r < 0)
			return log_step_error("move mounts", source, r);
	}
	if (ctx->mode == BOOT_MODE_INIT) {
		r = apifs_move_into(new_root, &failed);
		if (r < 0)
			return log_step_error("move mounts", failed, r);
	}
	if (!ctx->boot_mounted && ctx->mode != BOOT_MODE_INIT)
		snprintf(detail, detail_size, "nothing to move beneath %s", new_root);
	else
		snprintf(detail, detail_size, "%s%s beneath %s", ctx->boot_mounted ? "/boot" : "",
			 ctx->mode != BOOT_MODE_INIT ? ""
			 : ctx->boot_mounted	     ? ", /dev, /proc, /sys, /run"
						     : "/dev, /proc, /sys, /run",
			 new_root);
	return 0;
}

/* systemd mode: systemd switches root (pre-initoverlayfs-switch-root.service
 * runs "systemctl switch-root /initoverlayfs ${INITOVERLAYFS_INIT}" with
 * this file as its EnvironmentFile=), into the next init checked here;
 * without it systemctl would take the kernel's init=, meant for the real
 * root, or its own guesses (systemd, /sbin/init). Single-quoted: the value
 * is taken as it is, spaces included. */
static int record_init(const char *path, const char *init)
{
	char line[CONFIG_PATH_MAX + 32];
	char dir[PATH_MAX];
	int fd, n, r;

	if (strpbrk(init, "'\\\n"))
		return -EINVAL;
	n = snprintf(line, sizeof(line), "INITOVERLAYFS_INIT='%s'\n", init);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	r = str_copy(dir, sizeof(dir), path);
	if (r < 0)
		return r;
	*strrchr(dir, '/') = '\0';
	r = mkdir_parents(dir, 0755);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	r = write(fd, line, (size_t)n) == n ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

static int step_check_init(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char new_root[PATH_MAX], env[PATH_MAX];
	int r;

	r = ctx_path(ctx, new_root, sizeof(new_root), NEW_ROOT_DIR);
	if (r >= 0)
		r = switchroot_check_init(new_root, ctx->cfg.init);
	if (r < 0)
		return log_errno(r, "check next init: %s in %s", ctx->cfg.init, NEW_ROOT_DIR);
	if (ctx->mode == BOOT_MODE_INIT) {
		snprintf(detail, detail_size, "%s is executable in %s", ctx->cfg.init, new_root);
		return 0;
	}
	r = ctx_path(ctx, env, sizeof(env), NEXT_INIT_ENV);
	if (r >= 0)
		r = record_init(env, ctx->cfg.init);
	if (r < 0)
		return log_errno(r, "check next init: record %s in %s", ctx->cfg.init,
				 NEXT_INIT_ENV);
	snprintf(detail, detail_size, "%s is executable in %s, recorded in %s for the switch",
		 ctx->cfg.init, new_root, env);
	return 0;
}

static int undo_check_init(struct boot_context *ctx, char *detail, size_t detail_size)
{
	char env[PATH_MAX];
	int r;

	r = ctx_path(ctx, env, sizeof(env), NEXT_INIT_ENV);
	if (r >= 0 && unlink(env) < 0)
		r = -errno;
	if (r < 0)
		return undo_failed("check next init", NEXT_INIT_ENV, r, "it stays");
	snprintf(detail, detail_size, "%s removed", env);
	return 0;
}

static int step_switch_root(struct boot_context *ctx, char *detail, size_t detail_size)
{
	unsigned cleanup_errors = 0;
	int r;

	modules_close(&loader);
	r = switchroot(NEW_ROOT_DIR, &cleanup_errors);
	if (r < 0)
		return log_step_error("switch root", NEW_ROOT_DIR, r);
	if (cleanup_errors > 0)
		log_warning("switch root: %u entries of the old root could not be removed",
			    cleanup_errors);
	snprintf(detail, detail_size, "now in %s, old root freed", NEW_ROOT_DIR);
	return 0;
}

/* A tmpfs root is for a next init whose own switch never detaches it
 * (klibc run-init): a helper detaches what is left in it once PID 1 has
 * switched away. The overlay as root is detached by the next init's own
 * switch (systemd's): nothing to do. A failure costs a clean /boot, not
 * the boot: a warning. */
static int step_release_old_root(struct boot_context *ctx, char *detail, size_t detail_size)
{
	pid_t pid;

	if (ctx->cfg.new_root != NEW_ROOT_TMPFS) {
		snprintf(detail, detail_size, "the next init's switch detaches the overlay");
		return 0;
	}
	pid = oldroot_release_spawn();
	if (pid < 0) {
		log_warning("release old root: cannot start its helper: %s (%s), the overlay "
			    "and /boot stay held after the next switch",
			    errno_text((int)-pid), errno_name((int)-pid));
		snprintf(detail, detail_size, "no helper");
		return 0;
	}
	snprintf(detail, detail_size,
		 "pid %d detaches the tmpfs root's mounts once the next init has left it",
		 (int)pid);
	return 0;
}

/* Undo (systemd mode): move mounts is the last step that can fail there,
 * and when it does /boot is still where it was (or also bound beneath the
 * next root, which goes with the overlay's undo). */
const struct boot_step boot_steps[] = {
	{ "mount API filesystems", step_mount_apifs, true, NULL },
	{ "read config", step_read_config, false, NULL },
	{ "load modules", step_load_modules, false, NULL },
	{ "find boot device", step_find_bootfs, false, NULL },
	{ "mount boot filesystem", step_mount_bootfs, false, undo_mount_bootfs },
	{ "verity", step_verity, false, undo_verity },
	{ "mount image", step_mount_image, false, undo_mount_image },
	{ "mount overlay", step_mount_overlay, false, undo_mount_overlay },
	{ "release layers", step_release_layers, false, NULL },
	{ "check next init", step_check_init, false, undo_check_init },
	{ "move mounts", step_move_mounts, false, NULL },
	{ "switch root", step_switch_root, true, NULL },
	{ "release old root", step_release_old_root, true, NULL },
};
const size_t boot_steps_count = sizeof(boot_steps) / sizeof(boot_steps[0]);

static int exec_next_init(struct boot_context *ctx)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = ctx->cfg.init;
	/* The kernel's leftover parameters are the next init's, not ours. */
	for (int i = 1; i < ctx->argc && argc < (int)(sizeof(argv) / sizeof(argv[0])) - 1; i++)
		argv[argc++] = ctx->argv[i];
	argv[argc] = NULL;

	log_info("exec %s", ctx->cfg.init);
	log_close();
	/* Nothing of ours may stay open in the next init (and pin what it
	 * is on): only standard input, output and error go on. */
	close_fds_from(3);
	execv(ctx->cfg.init, argv);
	return log_step_error("exec next init", ctx->cfg.init, -errno);
}

/* systemd mode: a failed start leaves nothing behind for the next one to
 * trip over (EBUSY, already mounted): what the steps before the failed one
 * did is undone, last first, each undo that fails saying so once. Not in
 * init mode: the fallback is an emergency shell, where the admin finds the
 * mounts as the failure left them (the image on /boot, the overlay) to look
 * at and repair, or a reboot, halt or panic, which ends them all anyway. */
static void undo_steps(struct boot_context *ctx, size_t failed)
{
	for (size_t i = failed; i-- > 0;) {
		const struct boot_step *step = &boot_steps[i];
		char detail[PATH_MAX + 256];

		if (!step->undo || (step->init_mode_only && ctx->mode != BOOT_MODE_INIT))
			continue;
		detail[0] = '\0';
		if (step->undo(ctx, detail, sizeof(detail)) == 0 && detail[0])
			log_info("undo %s: %s", step->name, detail);
	}
}

int boot_run(struct boot_context *ctx)
{
	uint64_t boot_start = now_usec();

	for (size_t i = 0; i < boot_steps_count; i++) {
		const struct boot_step *step = &boot_steps[i];
		char detail[PATH_MAX + 256];
		uint64_t start;
		int r;

		if (step->init_mode_only && ctx->mode != BOOT_MODE_INIT)
			continue;
		detail[0] = '\0';
		start = now_usec();
		r = step->run(ctx, detail, sizeof(detail));
		if (r < 0) {
			if (ctx->mode == BOOT_MODE_SYSTEMD)
				undo_steps(ctx, i);
			modules_close(&loader);
			return r;
		}
		log_info("%s: %s (%llu us)", step->name, detail,
			 (unsigned long long)(now_usec() - start));
	}
	modules_close(&loader);
	log_info("ready after %llu us", (unsigned long long)(now_usec() - boot_start));
	if (ctx->mode == BOOT_MODE_INIT)
		return exec_next_init(ctx);
	return 0;
}
