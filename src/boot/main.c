/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "boot/context.h"
#include "boot/fallback.h"
#include "boot/steps.h"
#include "common/bootspec.h"
#include "common/config.h"
#include "common/log.h"
#include "common/path.h"

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: initoverlayfs [OPTION]...\n"
		"       initoverlayfs --check-config FILE [--cmdline STRING]\n"
		"       initoverlayfs --print-mount-points\n"
		"\n"
		"Mount the initial filesystem from an EROFS image under a transient overlay\n"
		"and hand over to the init inside it.\n"
		"\n"
		"Run as PID 1 (the /init of a mini-initramfs) it works in init mode: it mounts\n"
		"/proc, /sys, /dev and /run, reads %s and the\n"
		"initoverlayfs.KEY=VALUE parameters of the kernel command line, loads kernel\n"
		"modules, finds and mounts the boot filesystem at %s, mounts the image at\n"
		"%s, a tmpfs at %s and the overlay of both at %s, moves the mounts\n"
		"beneath it, switches root and executes the next init (default %s).\n"
		"As PID 1 it takes no options: its arguments are passed to the next init.\n"
		"\n"
		"Options:\n"
		"  --systemd             run as a systemd service in the mini-initramfs: leave\n"
		"                        /proc, /sys, /dev, /run, modules and the switch to\n"
		"                        systemd and udev; exit 0 when %s is ready\n"
		"                        (the next init recorded for the switch in\n"
		"                        %s); on failure, undo\n"
		"                        what was done, so that it can run again\n"
		"  --root DIR            with --systemd: use DIR as the root for the config and\n"
		"                        the mount points (for tests and staging)\n"
		"  --config FILE         read FILE instead of %s\n"
		"  --cmdline STRING      use STRING instead of /proc/cmdline\n"
		"  --image-mount MODE    auto, file or loop: how to mount the image (overrides\n"
		"                        the config key image_mount)\n"
		"  --check-config FILE   parse FILE (and --cmdline), print the resolved values\n"
		"                        and exit: 0 if valid, 1 if not\n"
		"  --print-mount-points  print the directories of the mini-initramfs this program\n"
		"                        mounts on, one 'KEY PATH' a line, and exit: boot %s,\n"
		"                        lower %s, upper %s, root %s\n"
		"  --debug               log debug messages\n"
		"  -h, --help            show this help and exit\n"
		"  --version             show the version and exit\n"
		"\n"
		"Config keys (see initoverlayfs.conf(5)): bootfs, bootfs_hint, bootfstype, fs,\n"
		"fstype, init, timeout, modules, image_mount, newroot, on_failure, debug, and\n"
		"the dm-verity keys verity_roothash, verity_salt, verity_algorithm,\n"
		"verity_hash_offset, verity_data_blocks, verity_data_block_size,\n"
		"verity_hash_block_size, verity_on_corruption, verity_cmdline_override. The\n"
		"keys compression and boot_layout are read by initoverlayfs-install only. Any\n"
		"other key is warned about and ignored, whatever its value, such as the\n"
		"original initoverlayfs' initoverlayfs_builder, initrd_builder and\n"
		"udev_trigger; its erofs_compression and initoverlayfs_init are\n"
		"initoverlayfs-install's.\n"
		"\n"
		"With verity_roothash set, the image is mounted only through dm-verity\n"
		"(loop device, then a read-only dm-verity target checked against the root\n"
		"hash, never file-backed); if that cannot be set up the image is not mounted.\n"
		"The kernel command line cannot change the verity_* keys unless the config\n"
		"sets verity_cmdline_override.\n"
		"\n"
		"On failure one line names the step, the path and the error. In init mode\n"
		"the boot then does what on_failure says: auto (the default) goes to /bin/sh\n"
		"if the mini-initramfs has one, else reboots after 10 s; shell, reboot,\n"
		"halt, poweroff, or panic (init exits and the kernel panics).\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		CONFIG_DEFAULT_PATH, BOOT_DIR, LOWER_DIR, UPPER_DIR, NEW_ROOT_DIR,
		CONFIG_DEFAULT_INIT, NEW_ROOT_DIR, NEXT_INIT_ENV, CONFIG_DEFAULT_PATH, BOOT_DIR,
		LOWER_DIR, UPPER_DIR, NEW_ROOT_DIR);
}

/* For the shell hooks that create them (dracut, initramfs-tools). */
static int print_mount_points(void)
{
	for (const struct mount_point *m = mount_points; m->key; m++)
		printf("%s %s\n", m->key, m->path);
	if (fflush(stdout) == EOF)
		return log_step_error("print mount points", "stdout", -errno);
	if (ferror(stdout))
		return log_step_error("print mount points", "stdout", -EIO);
	return 0;
}

static int kernel_release(char *out, size_t size)
{
	struct utsname uts;

	if (uname(&uts) < 0)
		return -errno;
	return str_copy(out, size, uts.release);
}

static int check_config(const char *path, const char *cmdline)
{
	static char text[4096];
	struct config cfg;
	struct config_error err;
	struct bootspec spec;
	char release[65];
	int r;

	if (kernel_release(release, sizeof(release)) < 0)
		str_copy(release, sizeof(release), "unknown");
	config_init(&cfg, release);
	r = config_load_file(&cfg, path, &err);
	if (r < 0 && err.line > 0)
		log_error("%s:%u: %s", path, err.line, err.message);
	else if (r < 0)
		log_step_error("read config", path, r);
	if (r >= 0 && cmdline) {
		r = config_apply_cmdline(&cfg, cmdline, &err);
		if (r < 0)
			log_error("kernel command line: %s", err.message);
	}
	if (r >= 0) {
		r = config_validate(&cfg, &err);
		if (r < 0)
			log_error("%s: %s", path, err.message);
	}
	if (r < 0)
		return EXIT_FAILURE;

	r = config_format(&cfg, text, sizeof(text));
	if (r < 0) {
		log_step_error("format config", path, r);
		return EXIT_FAILURE;
	}
	fputs(text, stdout);
	/* config_set validated bootfs, so this parse cannot fail. */
	bootspec_parse(cfg.bootfs, &spec);
	printf("# bootfs kind: %s\n", bootspec_kind_name(spec.kind));
	/* What only the installer reads, from the original initoverlayfs'
	 * keys: said, not a key of ours. */
	if (cfg.install_mode != CONFIG_INSTALL_MODE_DEFAULT)
		printf("# initoverlayfs-install mode: %s (initoverlayfs_init)\n",
		       config_install_mode_to_string(cfg.install_mode));
	if (config_validate_install(&cfg, &err) < 0)
		log_warning("%s: %s (initoverlayfs-install refuses it)", path, err.message);
	return EXIT_SUCCESS;
}

enum {
	OPT_SYSTEMD = 256,
	OPT_ROOT,
	OPT_CONFIG,
	OPT_CMDLINE,
	OPT_IMAGE_MOUNT,
	OPT_CHECK_CONFIG,
	OPT_PRINT_MOUNT_POINTS,
	OPT_DEBUG,
	OPT_VERSION,
};

struct cli {
	bool systemd;
	const char *check_config;
	bool print_mount_points;
};

static int parse_options(int argc, char **argv, struct boot_context *ctx, struct cli *cli)
{
	static const struct option options[] = {
		{ "systemd", no_argument, NULL, OPT_SYSTEMD },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "image-mount", required_argument, NULL, OPT_IMAGE_MOUNT },
		{ "check-config", required_argument, NULL, OPT_CHECK_CONFIG },
		{ "print-mount-points", no_argument, NULL, OPT_PRINT_MOUNT_POINTS },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SYSTEMD:
			cli->systemd = true;
			break;
		case OPT_ROOT:
			if (optarg[0] != '/') {
				log_error("--root needs an absolute path, got '%s'", optarg);
				return -EINVAL;
			}
			ctx->root = optarg;
			break;
		case OPT_CONFIG:
			ctx->config_path = optarg;
			break;
		case OPT_CMDLINE:
			ctx->cmdline_override = optarg;
			break;
		case OPT_IMAGE_MOUNT:
			if (image_mount_from_string(optarg, &ctx->image_mount_option) < 0) {
				log_error("--image-mount: '%s' is not auto, file or loop", optarg);
				return -EINVAL;
			}
			ctx->image_mount_forced = true;
			break;
		case OPT_CHECK_CONFIG:
			cli->check_config = optarg;
			break;
		case OPT_PRINT_MOUNT_POINTS:
			cli->print_mount_points = true;
			break;
		case OPT_DEBUG:
			log_set_max_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			print_help(stdout);
			exit(EXIT_SUCCESS);
		case OPT_VERSION:
			printf("initoverlayfs %s\n", IOFS_VERSION);
			exit(EXIT_SUCCESS);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (ctx->root[0] && !cli->systemd) {
		log_error("--root only works with --systemd");
		return -EINVAL;
	}
	return 0;
}

static int run_init_mode(struct boot_context *ctx)
{
	ctx->mode = BOOT_MODE_INIT;
	log_info("initoverlayfs %s starting as init", IOFS_VERSION);
	boot_run(ctx);
	/* Only here when the boot failed: the step said why. */
	fallback_run(ctx->cfg.on_failure);
}

int main(int argc, char **argv)
{
	static struct boot_context ctx;
	struct cli cli = { 0 };
	int r;

	log_set_program("initoverlayfs");
	ctx.root = "";
	ctx.argc = argc;
	ctx.argv = argv;
	if (kernel_release(ctx.kernel_release, sizeof(ctx.kernel_release)) < 0)
		str_copy(ctx.kernel_release, sizeof(ctx.kernel_release), "unknown");

	if (getpid() == 1)
		return run_init_mode(&ctx);

	r = parse_options(argc, argv, &ctx, &cli);
	if (r < 0) {
		fprintf(stderr, "Try 'initoverlayfs --help' for more information.\n");
		return 2;
	}
	if (cli.check_config)
		return check_config(cli.check_config, ctx.cmdline_override);
	if (cli.print_mount_points)
		return print_mount_points() < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	if (!cli.systemd) {
		log_error("not PID 1: use --systemd to run as a service, --check-config FILE "
			  "to check a config, or --help");
		return 2;
	}
	ctx.mode = BOOT_MODE_SYSTEMD;
	r = boot_run(&ctx);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
