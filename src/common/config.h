/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* /etc/initoverlayfs.conf: one "key value" (or "key=value") per line,
 * '#' starts a comment, blank lines are ignored. Keys and defaults:
 *
 *   bootfs       where the image lives: UUID=, LABEL=, PARTUUID=,
 *                PARTLABEL= or a device path; empty: the image is in the
 *                mini-initramfs itself
 *   bootfs_hint  device path tried before scanning for bootfs
 *   bootfstype   filesystem type of bootfs; empty: probed
 *   fs           image path inside bootfs  [/initoverlayfs-$(uname -r).img]
 *   fstype       image filesystem type     [erofs]
 *   init         next init, run after the switch  [/sbin/init]
 *   timeout      seconds to wait for bootfs [30]
 *   modules      kernel modules to load first, separated by space or comma
 *   image_mount  auto | file | loop  [auto]
 *   newroot      overlay | tmpfs: what the next init sees as / [overlay];
 *                tmpfs: a tmpfs holding the overlay's top-level entries
 *                (directories bind-mounted, files and symlinks copied), for
 *                full initrds whose switch tool needs a ramfs/tmpfs root
 *   debug        0 | 1 (also yes/no/true/false)  [0]
 *   compression  mkfs.erofs compression, used by initoverlayfs-install [lz4hc]
 *   boot_layout  separate | root: whether the boot directory is a file
 *                system of its own (the image at its top) or a directory
 *                of the root file system (the image under /boot), for
 *                initoverlayfs-install [found from the mounts]
 *   verity       boolean: initoverlayfs-install appends a dm-verity hash
 *                tree (what --verity does) [no]; the hooks of the
 *                distributions run the installer without options, so this
 *                is how a system asks for verified images
 *
 * Keys of the original initoverlayfs (0.99x), taken whatever their value
 * holds (the rest of the line, as the original's shell read it), never a
 * reason to stop:
 *   erofs_compression      mkfs.erofs -zALG[,LEVEL]: sets compression
 *   initoverlayfs_init     true | false: initoverlayfs-install's mode
 *                          init | systemd
 *   initoverlayfs_builder, initrd_builder, udev_trigger
 *                          warned about and ignored
 *
 * dm-verity of the image (written by initoverlayfs-install --verity into
 * the mini-initramfs' config; an empty root hash means no verification):
 *   verity_roothash          hex digest of the hash tree's root  [""]
 *   verity_salt              hex salt, "" or "-" for none  [""]
 *   verity_algorithm         sha256 | sha1 | sha512  [sha256]
 *   verity_hash_offset       byte offset of the hash tree in the image
 *   verity_data_blocks       number of data blocks verified
 *   verity_data_block_size   bytes, power of two, 512-4096  [4096]
 *   verity_hash_block_size   bytes, power of two, 512-4096  [4096]
 *   verity_on_corruption     eio | restart | panic  [eio]
 *   verity_cmdline_override  may the kernel command line set verity_*?  [no]
 *
 * Fixed-size fields: the boot program must work without a heap. */

#define CONFIG_VALUE_MAX	   256
#define CONFIG_PATH_MAX		   1024
#define CONFIG_MODULES_MAX	   1024
#define CONFIG_DEFAULT_PATH	   "/etc/initoverlayfs.conf"
#define CONFIG_DEFAULT_INIT	   "/sbin/init"
#define CONFIG_DEFAULT_FSTYPE	   "erofs"
#define CONFIG_DEFAULT_TIMEOUT_SEC 30U
#define CONFIG_DEFAULT_COMPRESSION "lz4hc"
#define CONFIG_TIMEOUT_MAX_SEC	   3600U

#define VERITY_DIGEST_MAX     64  /* sha512 */
#define VERITY_SALT_MAX	      256 /* what dm-verity accepts */
#define VERITY_BLOCK_SIZE_MIN 512
#define VERITY_BLOCK_SIZE_MAX 4096 /* the page size: dm-verity's limit */
#define VERITY_DEFAULT_ALG    "sha256"
#define VERITY_DEFAULT_BLOCK  4096U

enum image_mount {
	IMAGE_MOUNT_AUTO, /* file-backed where the kernel can, else loop */
	IMAGE_MOUNT_FILE,
	IMAGE_MOUNT_LOOP,
};

enum new_root {
	NEW_ROOT_OVERLAY, /* the overlay itself becomes / */
	NEW_ROOT_TMPFS,	  /* a tmpfs root binding the overlay's top-level dirs */
};

/* What init mode does when the boot cannot go on. */
enum on_failure {
	ON_FAILURE_AUTO,     /* the emergency shell if there is one, else reboot */
	ON_FAILURE_SHELL,    /* the mini-initramfs' /bin/sh on the console */
	ON_FAILURE_REBOOT,   /* after 10 s */
	ON_FAILURE_HALT,     /* at once */
	ON_FAILURE_POWEROFF, /* at once */
	ON_FAILURE_PANIC,    /* PID 1 exits: the kernel panics (and panic= decides) */
};

enum verity_corruption {
	VERITY_CORRUPTION_EIO,	   /* the read fails with EIO */
	VERITY_CORRUPTION_RESTART, /* restart_on_corruption */
	VERITY_CORRUPTION_PANIC,   /* panic_on_corruption */
};

struct config_verity {
	char roothash[2 * VERITY_DIGEST_MAX + 1]; /* "": not verified */
	char salt[2 * VERITY_SALT_MAX + 1];	  /* "": none */
	char algorithm[16];
	unsigned long long hash_offset; /* bytes */
	unsigned long long data_blocks;
	unsigned data_block_size;
	unsigned hash_block_size;
	enum verity_corruption on_corruption;
	bool cmdline_override;
};

/* The mini-initramfs initoverlayfs-install builds when --mode is not
 * given (the original's initoverlayfs_init). */
enum config_install_mode {
	CONFIG_INSTALL_MODE_DEFAULT, /* not in the config */
	CONFIG_INSTALL_MODE_INIT,
	CONFIG_INSTALL_MODE_SYSTEMD,
};

/* Where the boot directory is in the boot file system, for
 * initoverlayfs-install (boot_layout): found from the mounts when not
 * said, which an image build cannot do (its /boot partition does not
 * exist yet). */
enum config_boot_layout {
	CONFIG_BOOT_LAYOUT_DEFAULT,  /* not in the config */
	CONFIG_BOOT_LAYOUT_SEPARATE, /* a file system of its own: the image at its top */
	CONFIG_BOOT_LAYOUT_ROOT,     /* a directory of the root file system */
};

/* Which keys gave compression its value (struct config's compression_from). */
#define CONFIG_FROM_COMPRESSION	      (1U << 0) /* compression */
#define CONFIG_FROM_EROFS_COMPRESSION (1U << 1) /* the original's erofs_compression */

struct config {
	char bootfs[CONFIG_VALUE_MAX];
	char bootfs_hint[CONFIG_PATH_MAX];
	char bootfstype[CONFIG_VALUE_MAX];
	char fs[CONFIG_PATH_MAX];
	char fstype[CONFIG_VALUE_MAX];
	char init[CONFIG_PATH_MAX];
	unsigned timeout_sec;
	char modules[CONFIG_MODULES_MAX];
	enum image_mount image_mount;
	enum new_root new_root;
	enum on_failure on_failure;
	bool debug;
	char compression[CONFIG_VALUE_MAX];
	unsigned compression_from; /* CONFIG_FROM_*: 0 for the default */
	enum config_install_mode install_mode;
	enum config_boot_layout boot_layout;
	bool install_verity; /* verity: initoverlayfs-install --verity */
	struct config_verity verity;
};

/* Where a parse problem is reported: the config file name (or
 * "kernel command line") and the line number, 0 when not line-based. */
struct config_error {
	char origin[CONFIG_PATH_MAX];
	unsigned line;
	char message[CONFIG_VALUE_MAX + 64];
};

/* Fills in the defaults; kernel_release fills the default fs path
 * ("/initoverlayfs-<release>.img"). */
void config_init(struct config *cfg, const char *kernel_release);

/* Sets one key. Returns 0, -ENOENT for an unknown key (the caller warns),
 * -EINVAL for a bad value, -ENAMETOOLONG for a value that does not fit. */
int config_set(struct config *cfg, const char *key, const char *value);

/* Parses a whole config text. A key that is not this project's (unknown,
 * or one of the original initoverlayfs' that has no use here) is warned
 * about through the log and skipped, whatever its value; so is a bad value
 * of the original's keys that have a use here. A malformed line of this
 * project's keys stops the parse with -EINVAL and err describes it (line
 * number included). */
int config_parse_text(struct config *cfg, const char *text, const char *origin,
		      struct config_error *err);

/* Reads and parses a file. -ENOENT when it does not exist (err set too). */
int config_load_file(struct config *cfg, const char *path, struct config_error *err);

/* Applies every "initoverlayfs.KEY[=VALUE]" in a kernel command line.
 * A bare "initoverlayfs.debug" means debug=1. Unknown keys warn. A bad
 * value is -EINVAL with err set. */
int config_apply_cmdline(struct config *cfg, const char *cmdline, struct config_error *err);

/* Checks what single keys cannot: the verity keys together (digest
 * length of the algorithm, hash area after the data, ...). Call after
 * the file and the command line. -EINVAL with err->message set. */
int config_validate(const struct config *cfg, struct config_error *err);

/* Checks what initoverlayfs-install needs beyond what the boot does: one
 * key for the compression, either compression or the original's
 * erofs_compression, not both. -EINVAL with err->message set. */
int config_validate_install(const struct config *cfg, struct config_error *err);

const char *config_install_mode_to_string(enum config_install_mode mode);
/* "separate", "root"; "default" for CONFIG_BOOT_LAYOUT_DEFAULT */
const char *config_boot_layout_to_string(enum config_boot_layout layout);
/* -EINVAL for anything but "separate" or "root" */
int config_boot_layout_from_string(const char *s, enum config_boot_layout *out);

/* Whether the kernel command line may set key (without the
 * "initoverlayfs." prefix): the verity keys only when the config says
 * verity_cmdline_override, and verity_cmdline_override never. */
bool config_cmdline_may_set(const struct config *cfg, const char *key);

/* Bytes of a digest of the dm-verity algorithm, 0 when unknown. */
unsigned verity_digest_size(const char *algorithm);

const char *verity_corruption_to_string(enum verity_corruption mode);

const char *image_mount_to_string(enum image_mount mode);
int image_mount_from_string(const char *s, enum image_mount *out);
const char *new_root_to_string(enum new_root mode);
int new_root_from_string(const char *s, enum new_root *out);
const char *on_failure_to_string(enum on_failure policy);
int on_failure_from_string(const char *s, enum on_failure *out);

/* Writes the resolved values as a config file text, one key per line. */
int config_format(const struct config *cfg, char *buf, size_t size);

/* Parses a boolean as used in config and on the command line. */
int parse_boolean(const char *s, bool *out);
