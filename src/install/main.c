/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "install/compress.h"
#include "install/exec.h"
#include "install/install.h"
#include "install/kmods.h"
#include "install/kver.h"
#include "install/refs.h"
#include "install/steps.h"
#include "common/config.h"
#include "common/log.h"

#define HELP_COLUMN 27 /* where the options' descriptions start */

/* Prints text wrapped at 79 columns, from column col (the cursor's), its
 * later lines indented to indent; then a newline. */
static void print_wrapped(const char *text, size_t indent, size_t col)
{
	const char *p = text + strspn(text, " ");
	bool first = true;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (!first && col + 1 + n > 79) {
			printf("\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)n, p);
		col += n;
		p += n;
		p += strspn(p, " ");
		first = false;
	}
	putchar('\n');
}

/* The names of the modules of set, joined by ", ". */
static void module_names(char *buf, size_t size, enum boot_module_set set)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const struct boot_module *m = boot_modules; m->name && len < size; m++)
		if (m->set & set)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
						m->name);
}

static void help(void)
{
	const struct compression *def = compression_find(COMPRESSION_DEFAULT);
	char names[256], text[1024], cmd[128];
	size_t len = 0;

	printf("Usage: initoverlayfs-install [OPTION]...\n"
	       "\n"
	       "Build the pair of files that boots a kernel with initoverlayfs: an EROFS\n"
	       "image holding the kernel's full initrd, and a small initramfs that finds\n"
	       "the boot file system, mounts the image and switches into it.\n"
	       "\n"
	       "The full initrd content comes from a generator (dracut --no-hostonly, or\n"
	       "mkinitramfs), from an existing initramfs image, or from a directory. The\n"
	       "image is written to BOOT-DIR/initoverlayfs-KVER-HASH.img, where HASH is\n"
	       "derived from the image's bytes; the mini-initramfs refers to that exact\n"
	       "name, so an old initramfs never meets a new image. Both files are written\n"
	       "to temporary files in BOOT-DIR, synced and renamed into place, the image\n"
	       "first; images no longer referred to are removed last. A crash or power\n"
	       "loss leaves either the old pair or the new pair.\n"
	       "\n"
	       "Options:\n"
	       "  -r, --root DIR           make the pair of the system whose root is DIR (an\n"
	       "                           image build): the kernel's modules, the boot\n"
	       "                           program and its libraries, the generator, the\n"
	       "                           config and the boot directory all come from DIR,\n"
	       "                           their paths resolved inside it; the generator runs\n"
	       "                           chrooted into DIR in a mount namespace of its own;\n"
	       "                           nothing is taken from this system's mounts, devices\n"
	       "                           or kernel, so bootfs, bootfstype and the boot\n"
	       "                           layout must be said (options below or the config)\n"
	       "  -k, --kver KVER          kernel release (default: the running kernel; with\n"
	       "                           --root the one kernel under DIR/lib/modules); its\n"
	       "                           modules must be in /lib/modules/KVER; no '/',\n"
	       "                           blank or control character, no leading '-'\n"
	       "  -b, --boot-dir DIR       where the image and the initramfs go (default /boot;\n"
	       "                           with --root a path inside the tree)\n"
	       "      --boot-layout LAYOUT 'separate': the boot directory is a file system of\n"
	       "                           its own, the image at its top (the mini-initramfs'\n"
	       "                           fs /initoverlayfs-...); 'root': a directory of the\n"
	       "                           root file system (fs /boot/initoverlayfs-...)\n"
	       "                           (default: the config's boot_layout, else found from\n"
	       "                           the mounts; required with --root)\n"
	       "      --bootfs SPEC        the boot file system the mini-initramfs mounts:\n"
	       "                           UUID=, LABEL=, PARTUUID=, PARTLABEL= or a device\n"
	       "                           path (default: the config's bootfs)\n"
	       "      --bootfstype TYPE    its file system type, such as ext4 (default: the\n"
	       "                           config's bootfstype)\n"
	       "  -s, --source SOURCE      ");
	compression_names(names, sizeof(names), "/", false);
	snprintf(text, sizeof(text),
		 "full initrd content: 'dracut', 'initramfs-tools', an initramfs IMAGE file "
		 "(cpio segments, each uncompressed or %s), or a DIR holding the tree (default: "
		 "dracut when installed, else initramfs-tools)",
		 names);
	print_wrapped(text, HELP_COLUMN, HELP_COLUMN);
	printf("  -m, --mode MODE          'init': the mini-initramfs runs the initoverlayfs\n"
	       "                           boot program as /init; 'systemd': dracut builds it\n"
	       "                           with its 'initoverlayfs' module and the\n"
	       "                           distribution's defaults only (/etc/dracut.conf and\n"
	       "                           /etc/dracut.conf.d configure the full initrd)\n"
	       "                           (default: the config's initoverlayfs_init, true\n"
	       "                           for init, false for systemd; else init)\n"
	       "  -c, --compression ALG[,LEVEL]\n"
	       "                           EROFS compression for mkfs.erofs: lz4hc, lz4,\n"
	       "                           ... or 'none' (default: the config's 'compression'\n"
	       "                           or 'erofs_compression -zALG[,LEVEL]', else lz4hc)\n"
	       "  -C, --config FILE        config file (default /etc/initoverlayfs.conf; with\n"
	       "                           --root a path inside the tree). When missing or\n"
	       "                           empty it is written: bootfs UUID=, hint and type of\n"
	       "                           the file system holding BOOT-DIR (with --root or\n"
	       "                           --bootfs: --bootfs, --bootfstype, --boot-layout). An\n"
	       "                           existing one is kept; the mini-initramfs gets a copy\n"
	       "                           whose 'fs' names the new image\n"
	       "  -o, --output-initramfs FILE\n"
	       "                           the mini-initramfs (default: BOOT-DIR/initrd.img-KVER\n"
	       "                           where initramfs-tools is used, else\n"
	       "                           BOOT-DIR/initramfs-KVER.img)\n"
	       "  -a, --add-modules LIST   more kernel modules for the mini-initramfs, separated\n"
	       "                           by commas or spaces (dependencies follow)\n"
	       "      --hostonly           only the drivers of the devices that hold the boot\n"
	       "                           file system on this machine (its sysfs chain:\n"
	       "                           each device's modalias and bound driver), not\n"
	       "                           those of every usual boot device: a smaller\n"
	       "                           mini-initramfs that boots this machine only.\n"
	       "                           Init mode; refused with --root and where /boot is\n"
	       "                           not on a disk or a partition (device-mapper, md,\n"
	       "                           btrfs, NFS)\n"
	       "      --boot-program FILE  the boot program installed as /init (default:\n"
	       "                           $INITOVERLAYFS_BOOT_PROGRAM, else the static\n"
	       "                           initoverlayfs-init next to this program or in\n"
	       "                           ../lib/initoverlayfs from it, else the initoverlayfs\n"
	       "                           next to it; with --root the tree's\n"
	       "                           /usr/lib/initoverlayfs/initoverlayfs-init, else its\n"
	       "                           /usr/sbin/initoverlayfs, FILE a path inside it)\n"
	       "      --initramfs-compression ALG[,LEVEL]\n"
	       "%*s",
	       HELP_COLUMN, "");
	for (size_t i = 0; def->compress[i] && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i ? " " : "",
					def->compress[i]);
	compression_names(names, sizeof(names), ", ", true);
	snprintf(text, sizeof(text),
		 "compression of the mini-initramfs: %s or none (default: %s; each one's "
		 "command: --print-compressions)",
		 names, cmd);
	print_wrapped(text, HELP_COLUMN, HELP_COLUMN);
	printf("      --verity             append a dm-verity hash tree to the image\n"
	       "                           (veritysetup format, sha256, 4096-byte blocks, no\n"
	       "                           superblock, hash offset = image size) and write its\n"
	       "                           root hash, salt and geometry into the\n"
	       "                           mini-initramfs' config (verity_* keys): the boot\n"
	       "                           program then mounts the image only through\n"
	       "                           dm-verity. The image name's hash covers the tree.\n"
	       "                           Default: the config's 'verity' key (no)\n"
	       "      --no-verity          no hash tree, whatever the config's 'verity' says\n"
	       "      --verity-salt HEX    the salt (default: the SHA-256 of the EROFS image,\n"
	       "                           so that the same input gives the same bytes)\n"
	       "  -f, --force              replace an existing output initramfs\n"
	       "  -n, --dry-run            print the plan (inputs, outputs and modes, commands,\n"
	       "                           modules and why); change nothing\n"
	       "  -v, --verbose            log every step; show the tools' own output\n"
	       "      --list-steps         print the names of the run's steps (see\n"
	       "                           INITOVERLAYFS_INSTALL_CRASH_AT) and exit\n"
	       "      --print-modules[=SET]\n"
	       "                           print the modules a mini-initramfs gets, one name\n"
	       "                           a line, and exit; SET: 'mount' (what the boot\n"
	       "                           program mounts the image with), 'storage' (drivers\n"
	       "                           of the usual boot devices), 'verity' (what it\n"
	       "                           mounts an image with a hash tree with: this\n"
	       "                           program's own mini-initramfs gets them with\n"
	       "                           --verity only) or 'all' (default: the three)\n"
	       "      --print-compressions print the initramfs compressions this program\n"
	       "                           reads, one a line, and exit: NAME, its magic\n"
	       "                           numbers (hex, space separated), the command that\n"
	       "                           decompresses it and the one that compresses the\n"
	       "                           mini-initramfs with it ('-': not offered), separated\n"
	       "                           by tabs; the commands read stdin, write stdout\n"
	       "      --print-image-ref FILE\n"
	       "                           print the image the mini-initramfs FILE boots (its\n"
	       "                           config's 'fs': the path in the boot file system)\n"
	       "                           and exit; exit status 1 when FILE is not one (a\n"
	       "                           full initrd) or cannot be read. A config without\n"
	       "                           'fs' boots /initoverlayfs-KVER.img, KVER from\n"
	       "                           --kver, else 'unknown'\n"
	       "  -h, --help               show this help and exit\n"
	       "  -V, --version            show the version and exit\n"
	       "\n");
	module_names(names, sizeof(names), BOOT_MODULES_MOUNT | BOOT_MODULES_STORAGE);
	snprintf(text, sizeof(text),
		 "Mini-initramfs (mode init): /init (the static initoverlayfs-init where it is "
		 "installed) and its shared libraries, the config, "
		 "/etc/initrd-release, /dev/console and /dev/null, the mount points (initoverlayfs "
		 "--print-mount-points), and the "
		 "kernel modules it needs with their dependencies: %s (--print-modules), the "
		 "boot file system's driver, dm_verity with --verity, the config's 'modules' and "
		 "--add-modules.",
		 names);
	print_wrapped(text, 0, 0);
	printf("\n"
	       "Environment:\n"
	       "  TMPDIR                   where the work directory goes (default /var/tmp)\n"
	       "  INITOVERLAYFS_BOOT_PROGRAM  as --boot-program\n"
	       "  INITOVERLAYFS_INSTALL_FREE_BYTES  pretend BOOT-DIR has this many free bytes\n"
	       "  INITOVERLAYFS_INSTALL_KEEP_WORK=1  keep the work directory (tests)\n"
	       "  INITOVERLAYFS_INSTALL_CRASH_AT=STEP  kill the installer with SIGKILL at STEP\n"
	       "                           (crash-safety tests)\n"
	       "\n"
	       "Exit status: 0 on success, 1 on any error (one line says what failed, where\n"
	       "and why; BOOT-DIR is then as it was), 2 on bad usage.\n");
}

/* A value for an error line: control characters as '?', at most 64
 * bytes shown. */
static const char *shown(const char *value, char *buf, size_t size)
{
	size_t i;

	for (i = 0; value[i] && i < size - 4 && i < 64; i++)
		buf[i] = (unsigned char)value[i] < ' ' || value[i] == 0x7f ? '?' : value[i];
	strcpy(buf + i, value[i] ? "..." : "");
	return buf;
}

/* The exit status of a --print-* option: 0, or 1 when writing stdout failed
 * (logged). */
static int printed(const char *option)
{
	int e = 0;

	if (fflush(stdout) == EOF)
		e = -errno;
	else if (ferror(stdout))
		e = -EIO;
	if (e == 0)
		return 0;
	log_step_error(option, "stdout", e);
	return 1;
}

/* --print-modules[=SET]: the exit status. */
static int print_modules(const char *which)
{
	static const struct {
		const char *name;
		enum boot_module_set set;
	} sets[] = {
		{ "all", BOOT_MODULES_ALL },
		{ "mount", BOOT_MODULES_MOUNT },
		{ "storage", BOOT_MODULES_STORAGE },
		{ "verity", BOOT_MODULES_VERITY },
	};
	size_t i;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		if (strcmp(sets[i].name, which ? which : "all") == 0)
			break;
	if (i == sizeof(sets) / sizeof(sets[0])) {
		log_error("--print-modules=%s: expected 'mount', 'storage', 'verity' or 'all'",
			  which);
		return 2;
	}
	for (const struct boot_module *m = boot_modules; m->name; m++)
		if (m->set & sets[i].set)
			printf("%s\n", m->name);
	return printed("--print-modules");
}

static void print_words(const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		printf("%s%s", i ? " " : "", words[i]);
}

/* --print-compressions: NAME, magic numbers, decompressor, compressor. */
static int print_compressions(void)
{
	for (const struct compression *c = compressions; c->name; c++) {
		printf("%s\t", c->name);
		print_words(c->magic);
		putchar('\t');
		print_words(c->decompress);
		putchar('\t');
		if (c->compress[0])
			print_words(c->compress);
		else
			putchar('-');
		putchar('\n');
	}
	return printed("--print-compressions");
}

/* --print-image-ref FILE: the exit status. For shell hooks, so that the
 * initramfs format has one reader, libarchive's here. */
static int print_image_ref(const char *file, const char *kver)
{
	char fs[CONFIG_PATH_MAX];
	int fd, e;

	/* initramfs_image_ref's -ENOENT is also a missing file's */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_step_error("--print-image-ref", file, -errno);
		return 1;
	}
	close(fd);
	e = initramfs_image_ref(file, kver, fs, sizeof(fs));
	if (e == -ENOENT) {
		log_error("%s is not an initoverlayfs mini-initramfs (no etc/initoverlayfs.conf "
			  "in it)",
			  file);
		return 1;
	}
	if (e < 0) {
		log_step_error("--print-image-ref: read the initoverlayfs config of", file, e);
		return 1;
	}
	printf("%s\n", fs);
	return printed("--print-image-ref");
}

enum {
	OPT_BOOT_PROGRAM = 0x100,
	OPT_INITRAMFS_COMPRESSION,
	OPT_LIST_STEPS,
	OPT_PRINT_MODULES,
	OPT_PRINT_COMPRESSIONS,
	OPT_PRINT_IMAGE_REF,
	OPT_VERITY,
	OPT_NO_VERITY,
	OPT_VERITY_SALT,
	OPT_BOOT_LAYOUT,
	OPT_BOOTFS,
	OPT_BOOTFSTYPE,
	OPT_HOSTONLY,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "kver", required_argument, NULL, 'k' },
		{ "boot-dir", required_argument, NULL, 'b' },
		{ "source", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "compression", required_argument, NULL, 'c' },
		{ "config", required_argument, NULL, 'C' },
		{ "output-initramfs", required_argument, NULL, 'o' },
		{ "add-modules", required_argument, NULL, 'a' },
		{ "boot-program", required_argument, NULL, OPT_BOOT_PROGRAM },
		{ "boot-layout", required_argument, NULL, OPT_BOOT_LAYOUT },
		{ "bootfs", required_argument, NULL, OPT_BOOTFS },
		{ "bootfstype", required_argument, NULL, OPT_BOOTFSTYPE },
		{ "initramfs-compression", required_argument, NULL, OPT_INITRAMFS_COMPRESSION },
		{ "hostonly", no_argument, NULL, OPT_HOSTONLY },
		{ "verity", no_argument, NULL, OPT_VERITY },
		{ "no-verity", no_argument, NULL, OPT_NO_VERITY },
		{ "verity-salt", required_argument, NULL, OPT_VERITY_SALT },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "list-steps", no_argument, NULL, OPT_LIST_STEPS },
		{ "print-modules", optional_argument, NULL, OPT_PRINT_MODULES },
		{ "print-compressions", no_argument, NULL, OPT_PRINT_COMPRESSIONS },
		{ "print-image-ref", required_argument, NULL, OPT_PRINT_IMAGE_REF },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct options o = { .mode = MODE_INIT, .verity = -1 };
	const char *why, *image_ref_of = NULL;
	char buf[72];
	int c;

	log_set_program("initoverlayfs-install");
	/* The generators run here write temporary files, never a kernel's
	 * initrd: dracut from Debian 13 on runs /etc/initramfs/post-update.d
	 * after every image unless this is set, and those hooks (this
	 * package's among them) would take a temporary file for the kernel's
	 * initrd. */
	if (setenv("NO_POST_UPDATE_HOOKS", "1", 1) < 0) {
		log_error("setenv NO_POST_UPDATE_HOOKS: %s", strerror(errno));
		return 1;
	}
	while ((c = getopt_long(argc, argv, "r:k:b:s:m:c:C:o:a:fnvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (kver_check(optarg, &why) < 0) {
				log_error("--kver '%s': %s: not a kernel release (such as "
					  "6.1.0-57-amd64)",
					  shown(optarg, buf, sizeof(buf)), why);
				return 2;
			}
			o.kver = optarg;
			break;
		case 'b':
			o.boot_dir = optarg;
			break;
		case 'r':
			o.root = optarg;
			break;
		case OPT_BOOT_LAYOUT:
			if (config_boot_layout_from_string(optarg, &o.boot_layout) < 0) {
				log_error("--boot-layout %s: expected 'separate' (/boot is a file "
					  "system of its own) or 'root' (a directory of the root "
					  "file system)",
					  shown(optarg, buf, sizeof(buf)));
				return 2;
			}
			break;
		case OPT_BOOTFS:
			o.bootfs = optarg;
			break;
		case OPT_BOOTFSTYPE:
			o.bootfstype = optarg;
			break;
		case 's':
			o.source = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "init") == 0) {
				o.mode = MODE_INIT;
			} else if (strcmp(optarg, "systemd") == 0) {
				o.mode = MODE_SYSTEMD;
			} else {
				log_error("--mode %s: expected 'init' or 'systemd'", optarg);
				return 2;
			}
			o.mode_set = true;
			break;
		case 'c':
			o.compression = optarg;
			break;
		case 'C':
			o.config_path = optarg;
			break;
		case 'o':
			o.output_initramfs = optarg;
			break;
		case 'a':
			o.add_modules = optarg;
			break;
		case OPT_BOOT_PROGRAM:
			o.boot_program = optarg;
			break;
		case OPT_INITRAMFS_COMPRESSION:
			o.initramfs_compression = optarg;
			break;
		case OPT_HOSTONLY:
			o.hostonly = true;
			break;
		case OPT_VERITY:
			o.verity = 1;
			break;
		case OPT_NO_VERITY:
			o.verity = 0;
			break;
		case OPT_VERITY_SALT:
			if (!*optarg || strlen(optarg) % 2 ||
			    strlen(optarg) > 2 * VERITY_SALT_MAX ||
			    strspn(optarg, "0123456789abcdefABCDEF") != strlen(optarg)) {
				log_error("--verity-salt %s: expected an even number (2-%d) of hex "
					  "digits",
					  optarg, 2 * VERITY_SALT_MAX);
				return 2;
			}
			o.verity_salt = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case OPT_LIST_STEPS:
			for (size_t i = 0; install_steps[i]; i++)
				printf("%s\n", install_steps[i]);
			return 0;
		case OPT_PRINT_MODULES:
			return print_modules(optarg);
		case OPT_PRINT_COMPRESSIONS:
			return print_compressions();
		case OPT_PRINT_IMAGE_REF:
			/* after the loop: a later --kver fills the default fs */
			if (!*optarg) {
				log_error("--print-image-ref: expected an initramfs FILE");
				return 2;
			}
			image_ref_of = optarg;
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("initoverlayfs-install %s\n", IOFS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'initoverlayfs-install --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see --help)", argv[optind]);
		return 2;
	}
	if (image_ref_of)
		return print_image_ref(image_ref_of, o.kver);
	if (o.hostonly && o.root) {
		log_error("--hostonly: not with --root (the tree's boot device is not this "
			  "machine's)");
		return 2;
	}
	if (o.verity_salt && o.verity == 0) {
		log_error("--verity-salt needs --verity, not --no-verity");
		return 2;
	}
	if (o.verbose) {
		log_set_max_level(LOG_LEVEL_DEBUG);
		exec_set_verbose(true);
	}
	if (crash_hook_init() < 0)
		return 2;
	/* A compressor that dies must show up as EPIPE and one error line,
	 * not as a silent death of the installer. */
	signal(SIGPIPE, SIG_IGN);
	return install_run(&o) < 0 ? 1 : 0;
}
