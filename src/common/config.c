/* SPDX-License-Identifier: MIT */
#include "common/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bootspec.h"
#include "common/cmdline.h"
#include "common/log.h"
#include "common/path.h"

#define CONFIG_LINE_MAX 2048
#define CONFIG_FILE_MAX (64 * 1024)
#define CMDLINE_PREFIX	"initoverlayfs."

typedef int (*config_setter)(struct config *cfg, const char *value);

struct config_key {
	const char *name;
	config_setter set;
	/* What a valid value looks like, for error messages. */
	const char *expected;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_fstype(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

int parse_boolean(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

const char *image_mount_to_string(enum image_mount mode)
{
	switch (mode) {
	case IMAGE_MOUNT_AUTO:
		return "auto";
	case IMAGE_MOUNT_FILE:
		return "file";
	case IMAGE_MOUNT_LOOP:
		return "loop";
	}
	return "?";
}

int image_mount_from_string(const char *s, enum image_mount *out)
{
	static const enum image_mount modes[] = { IMAGE_MOUNT_AUTO, IMAGE_MOUNT_FILE,
						  IMAGE_MOUNT_LOOP };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, image_mount_to_string(modes[i])) == 0) {
			*out = modes[i];
			return 0;
		}
	}
	return -EINVAL;
}

const char *new_root_to_string(enum new_root mode)
{
	return mode == NEW_ROOT_TMPFS ? "tmpfs" : "overlay";
}

int new_root_from_string(const char *s, enum new_root *out)
{
	if (strcmp(s, "overlay") == 0)
		*out = NEW_ROOT_OVERLAY;
	else if (strcmp(s, "tmpfs") == 0)
		*out = NEW_ROOT_TMPFS;
	else
		return -EINVAL;
	return 0;
}

static const char *const on_failure_names[] = {
	[ON_FAILURE_AUTO] = "auto",	    [ON_FAILURE_SHELL] = "shell",
	[ON_FAILURE_REBOOT] = "reboot",	    [ON_FAILURE_HALT] = "halt",
	[ON_FAILURE_POWEROFF] = "poweroff", [ON_FAILURE_PANIC] = "panic",
};

const char *on_failure_to_string(enum on_failure policy)
{
	return (size_t)policy < sizeof(on_failure_names) / sizeof(on_failure_names[0])
		       ? on_failure_names[policy]
		       : "auto";
}

int on_failure_from_string(const char *s, enum on_failure *out)
{
	for (size_t i = 0; i < sizeof(on_failure_names) / sizeof(on_failure_names[0]); i++)
		if (strcmp(s, on_failure_names[i]) == 0) {
			*out = (enum on_failure)i;
			return 0;
		}
	return -EINVAL;
}

/* Leaves the field as it was when the value does not fit, like every
 * other rejected value. */
static int set_string(char *field, size_t size, const char *value)
{
	if (strlen(value) >= size)
		return -ENAMETOOLONG;
	return str_copy(field, size, value);
}

static int set_bootfs(struct config *cfg, const char *value)
{
	struct bootspec spec;

	if (bootspec_parse(value, &spec) < 0)
		return -EINVAL;
	return set_string(cfg->bootfs, sizeof(cfg->bootfs), value);
}

static int set_absolute_path(char *field, size_t size, const char *value, bool may_be_empty)
{
	if (value[0] == '\0' ? !may_be_empty : value[0] != '/')
		return -EINVAL;
	return set_string(field, size, value);
}

static int set_bootfs_hint(struct config *cfg, const char *value)
{
	return set_absolute_path(cfg->bootfs_hint, sizeof(cfg->bootfs_hint), value, true);
}

static int set_bootfstype(struct config *cfg, const char *value)
{
	if (value[0] && !is_fstype(value))
		return -EINVAL;
	return set_string(cfg->bootfstype, sizeof(cfg->bootfstype), value);
}

static int set_fs(struct config *cfg, const char *value)
{
	return set_absolute_path(cfg->fs, sizeof(cfg->fs), value, false);
}

static int set_fstype(struct config *cfg, const char *value)
{
	if (!is_fstype(value))
		return -EINVAL;
	return set_string(cfg->fstype, sizeof(cfg->fstype), value);
}

static int set_init(struct config *cfg, const char *value)
{
	return set_absolute_path(cfg->init, sizeof(cfg->init), value, false);
}

static int set_timeout(struct config *cfg, const char *value)
{
	unsigned long seconds;
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -EINVAL;
	errno = 0;
	seconds = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || seconds > CONFIG_TIMEOUT_MAX_SEC)
		return -EINVAL;
	cfg->timeout_sec = (unsigned)seconds;
	return 0;
}

/* Module names are stored space-separated; commas are accepted too. */
static int set_modules(struct config *cfg, const char *value)
{
	char normalized[CONFIG_MODULES_MAX];
	size_t len = 0;
	bool pending_space = false;

	for (const char *p = value; *p; p++) {
		if (*p == ',' || is_blank(*p)) {
			pending_space = len > 0;
			continue;
		}
		if (!is_key_char(*p) && *p != ':' && *p != '.' && *p != '*')
			return -EINVAL;
		if (len + 2 >= sizeof(normalized))
			return -ENAMETOOLONG;
		if (pending_space)
			normalized[len++] = ' ';
		pending_space = false;
		normalized[len++] = *p;
	}
	normalized[len] = '\0';
	return set_string(cfg->modules, sizeof(cfg->modules), normalized);
}

static int set_image_mount(struct config *cfg, const char *value)
{
	return image_mount_from_string(value, &cfg->image_mount);
}

static int set_new_root(struct config *cfg, const char *value)
{
	return new_root_from_string(value, &cfg->new_root);
}

static int set_on_failure(struct config *cfg, const char *value)
{
	return on_failure_from_string(value, &cfg->on_failure);
}

static int set_debug(struct config *cfg, const char *value)
{
	return parse_boolean(value, &cfg->debug);
}

/* compression, from the key of its own or from the original's
 * erofs_compression (from: CONFIG_FROM_*). */
static int set_compression_from(struct config *cfg, const char *value, unsigned from)
{
	int r;

	if (!value[0])
		return -EINVAL;
	for (const char *p = value; *p; p++)
		if (!is_key_char(*p) && *p != ',')
			return -EINVAL;
	r = set_string(cfg->compression, sizeof(cfg->compression), value);
	if (r == 0)
		cfg->compression_from |= from;
	return r;
}

static int set_compression(struct config *cfg, const char *value)
{
	return set_compression_from(cfg, value, CONFIG_FROM_COMPRESSION);
}

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

/* A decimal number, no sign, no blanks, nothing after it. */
static int parse_ull(const char *value, unsigned long long *out)
{
	unsigned long long n;
	char *end;

	if (value[0] < '0' || value[0] > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = n;
	return 0;
}

unsigned verity_digest_size(const char *algorithm)
{
	static const struct {
		const char *name;
		unsigned size;
	} algs[] = { { "sha256", 32 }, { "sha1", 20 }, { "sha512", 64 } };

	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, algorithm) == 0)
			return algs[i].size;
	return 0;
}

const char *verity_corruption_to_string(enum verity_corruption mode)
{
	switch (mode) {
	case VERITY_CORRUPTION_EIO:
		return "eio";
	case VERITY_CORRUPTION_RESTART:
		return "restart";
	case VERITY_CORRUPTION_PANIC:
		return "panic";
	}
	return "?";
}

static int set_verity_roothash(struct config *cfg, const char *value)
{
	/* The length is checked against the algorithm in config_validate,
	 * which sees both whatever their order. */
	if (!is_hex(value))
		return -EINVAL;
	return set_string(cfg->verity.roothash, sizeof(cfg->verity.roothash), value);
}

static int set_verity_salt(struct config *cfg, const char *value)
{
	if (strcmp(value, "-") == 0)
		value = "";
	if (!is_hex(value) || strlen(value) % 2 != 0)
		return -EINVAL;
	return set_string(cfg->verity.salt, sizeof(cfg->verity.salt), value);
}

static int set_verity_algorithm(struct config *cfg, const char *value)
{
	if (verity_digest_size(value) == 0)
		return -EINVAL;
	return set_string(cfg->verity.algorithm, sizeof(cfg->verity.algorithm), value);
}

static int set_verity_hash_offset(struct config *cfg, const char *value)
{
	return parse_ull(value, &cfg->verity.hash_offset);
}

static int set_verity_data_blocks(struct config *cfg, const char *value)
{
	unsigned long long n;

	if (parse_ull(value, &n) < 0 || n == 0)
		return -EINVAL;
	cfg->verity.data_blocks = n;
	return 0;
}

static int parse_block_size(const char *value, unsigned *out)
{
	unsigned long long n;

	if (parse_ull(value, &n) < 0 || n < VERITY_BLOCK_SIZE_MIN || n > VERITY_BLOCK_SIZE_MAX ||
	    (n & (n - 1)) != 0)
		return -EINVAL;
	*out = (unsigned)n;
	return 0;
}

static int set_verity_data_block_size(struct config *cfg, const char *value)
{
	return parse_block_size(value, &cfg->verity.data_block_size);
}

static int set_verity_hash_block_size(struct config *cfg, const char *value)
{
	return parse_block_size(value, &cfg->verity.hash_block_size);
}

static int set_verity_on_corruption(struct config *cfg, const char *value)
{
	static const enum verity_corruption modes[] = { VERITY_CORRUPTION_EIO,
							VERITY_CORRUPTION_RESTART,
							VERITY_CORRUPTION_PANIC };

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(value, verity_corruption_to_string(modes[i])) == 0) {
			cfg->verity.on_corruption = modes[i];
			return 0;
		}
	}
	return -EINVAL;
}

static int set_boot_layout(struct config *cfg, const char *value)
{
	return config_boot_layout_from_string(value, &cfg->boot_layout);
}

static int set_install_verity(struct config *cfg, const char *value)
{
	return parse_boolean(value, &cfg->install_verity);
}

static int set_verity_cmdline_override(struct config *cfg, const char *value)
{
	return parse_boolean(value, &cfg->verity.cmdline_override);
}

static const struct config_key keys[] = {
	{ "bootfs", set_bootfs, "UUID=, LABEL=, PARTUUID=, PARTLABEL= or an absolute device path" },
	{ "bootfs_hint", set_bootfs_hint, "an absolute device path" },
	{ "bootfstype", set_bootfstype, "a filesystem type such as ext4" },
	{ "fs", set_fs, "an absolute path inside bootfs" },
	{ "fstype", set_fstype, "a filesystem type such as erofs" },
	{ "init", set_init, "an absolute path" },
	{ "timeout", set_timeout, "whole seconds from 0 to 3600" },
	{ "modules", set_modules, "module names separated by spaces or commas" },
	{ "image_mount", set_image_mount, "auto, file or loop" },
	{ "newroot", set_new_root, "overlay or tmpfs" },
	{ "on_failure", set_on_failure, "auto, shell, reboot, halt, poweroff or panic" },
	{ "debug", set_debug, "a boolean (1/0, yes/no, true/false, on/off)" },
	{ "compression", set_compression, "a mkfs.erofs algorithm such as lz4hc,12" },
	{ "boot_layout", set_boot_layout, "separate or root" },
	{ "verity", set_install_verity, "a boolean (1/0, yes/no, true/false, on/off)" },
	{ "verity_roothash", set_verity_roothash, "a hex digest, or empty for no verification" },
	{ "verity_salt", set_verity_salt, "an even number of hex digits, or - for none" },
	{ "verity_algorithm", set_verity_algorithm, "sha256, sha1 or sha512" },
	{ "verity_hash_offset", set_verity_hash_offset, "a byte offset" },
	{ "verity_data_blocks", set_verity_data_blocks, "a number of blocks above 0" },
	{ "verity_data_block_size", set_verity_data_block_size, "a power of two from 512 to 4096" },
	{ "verity_hash_block_size", set_verity_hash_block_size, "a power of two from 512 to 4096" },
	{ "verity_on_corruption", set_verity_on_corruption, "eio, restart or panic" },
	{ "verity_cmdline_override", set_verity_cmdline_override,
	  "a boolean (1/0, yes/no, true/false, on/off)" },
};

static const struct config_key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The original initoverlayfs' erofs_compression: the option its installer
 * gave mkfs.erofs, "-zALG[,LEVEL]" (or "-z ALG[,LEVEL]"); empty: mkfs.erofs
 * without -z, an uncompressed image. */
static int use_erofs_compression(struct config *cfg, const char *value)
{
	if (!value[0])
		return set_compression_from(cfg, "none", CONFIG_FROM_EROFS_COMPRESSION);
	if (strncmp(value, "-z", 2) != 0)
		return -EINVAL;
	value += 2;
	while (is_blank(*value))
		value++;
	return set_compression_from(cfg, value, CONFIG_FROM_EROFS_COMPRESSION);
}

/* The original's initoverlayfs_init: true made initoverlayfs the
 * mini-initramfs' /init, false (its default) a systemd service. */
static int use_initoverlayfs_init(struct config *cfg, const char *value)
{
	bool init;

	if (parse_boolean(value, &init) < 0)
		return -EINVAL;
	cfg->install_mode = init ? CONFIG_INSTALL_MODE_INIT : CONFIG_INSTALL_MODE_SYSTEMD;
	return 0;
}

/* Keys of the original initoverlayfs (0.99x) that are not this project's.
 * Their values are the rest of the line, as the original's installer read
 * it (a shell command line, mkfs.erofs options): quotes, '=' and options
 * in them are taken as they are, and never make a line malformed. Those
 * with an equivalent here are used (use); the others only warn, saying
 * what this project does instead. */
static const struct original_key {
	const char *name;
	int (*use)(struct config *cfg, const char *value);
	/* use: what a usable value looks like; else: what happens instead */
	const char *text;
} original_keys[] = {
	{ "erofs_compression", use_erofs_compression, "-zALG[,LEVEL], e.g. -zlz4hc,11" },
	{ "initoverlayfs_init", use_initoverlayfs_init, "true or false" },
	{ "initoverlayfs_builder", NULL,
	  "initoverlayfs-install makes the full initrd itself (see --source)" },
	{ "initrd_builder", NULL,
	  "initoverlayfs-install makes the mini-initramfs itself (see --mode)" },
	{ "udev_trigger", NULL,
	  "the boot program loads the devices' modules itself (mode init), udev does (mode "
	  "systemd)" },
};

static const struct original_key *find_original_key(const char *name)
{
	for (size_t i = 0; i < sizeof(original_keys) / sizeof(original_keys[0]); i++)
		if (strcmp(original_keys[i].name, name) == 0)
			return &original_keys[i];
	return NULL;
}

/* A key that is not this project's: never a failure. The original's keys
 * with a use set what they stand for; everything else warns. */
static void other_key(struct config *cfg, const char *key, const char *value, const char *origin,
		      unsigned line)
{
	const struct original_key *k = find_original_key(key);
	char where[CONFIG_PATH_MAX + 16];
	int r;

	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u", origin, line);
	else
		snprintf(where, sizeof(where), "%s", origin);
	if (!k) {
		log_warning("%s: unknown key '%s', ignored", where, key);
		return;
	}
	if (!k->use) {
		log_warning("%s: '%s' (a key of the original initoverlayfs) ignored: %s", where,
			    key, k->text);
		return;
	}
	r = k->use(cfg, value);
	if (r == -ENAMETOOLONG)
		log_warning("%s: '%s' (a key of the original initoverlayfs) ignored: its value is "
			    "too long",
			    where, key);
	else if (r < 0)
		log_warning("%s: '%s' (a key of the original initoverlayfs) ignored: '%s' is not "
			    "%s",
			    where, key, value, k->text);
}

void config_init(struct config *cfg, const char *kernel_release)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->fs, sizeof(cfg->fs), "/initoverlayfs-%s.img",
		 kernel_release && kernel_release[0] ? kernel_release : "unknown");
	str_copy(cfg->fstype, sizeof(cfg->fstype), CONFIG_DEFAULT_FSTYPE);
	str_copy(cfg->init, sizeof(cfg->init), CONFIG_DEFAULT_INIT);
	str_copy(cfg->compression, sizeof(cfg->compression), CONFIG_DEFAULT_COMPRESSION);
	cfg->timeout_sec = CONFIG_DEFAULT_TIMEOUT_SEC;
	cfg->image_mount = IMAGE_MOUNT_AUTO;
	cfg->new_root = NEW_ROOT_OVERLAY;
	cfg->on_failure = ON_FAILURE_AUTO;
	str_copy(cfg->verity.algorithm, sizeof(cfg->verity.algorithm), VERITY_DEFAULT_ALG);
	cfg->verity.data_block_size = VERITY_DEFAULT_BLOCK;
	cfg->verity.hash_block_size = VERITY_DEFAULT_BLOCK;
	cfg->verity.on_corruption = VERITY_CORRUPTION_EIO;
}

int config_set(struct config *cfg, const char *key, const char *value)
{
	const struct config_key *k = find_key(key);

	if (!k)
		return -ENOENT;
	return k->set(cfg, value);
}

__attribute__((format(printf, 4, 5))) static int fail(struct config_error *err, unsigned line,
						      int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void set_origin(struct config_error *err, const char *origin)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->origin, sizeof(err->origin), "%s", origin ? origin : "config");
}

/* Sets key=value and turns the result into the error text the user sees. */
static int apply_pair(struct config *cfg, const char *key, const char *value, const char *origin,
		      unsigned line, struct config_error *err)
{
	const struct config_key *k = find_key(key);
	int r;

	if (!origin)
		origin = "config";
	if (!k) {
		other_key(cfg, key, value, origin, line);
		return 0;
	}
	r = k->set(cfg, value);
	if (r == -ENAMETOOLONG)
		return fail(err, line, r, "value of '%s' is too long", key);
	if (r < 0)
		return fail(err, line, r, "invalid value '%s' for '%s': expected %s", value, key,
			    k->expected);
	return 0;
}

/* Cuts a "key value" / "key = value" / "key=value" line (already without
 * comment and surrounding blanks) into the key and the rest, in place. */
static int split_line(char *line, char **key, char **rest, unsigned lineno,
		      struct config_error *err)
{
	char *p = line, *end;

	*key = line;
	while (is_key_char(*p))
		p++;
	if (p == line)
		return fail(err, lineno, -EINVAL, "expected a key at the start of the line");
	if (*p && !is_blank(*p) && *p != '=')
		return fail(err, lineno, -EINVAL, "invalid character '%c' in key", *p);
	end = p;
	while (is_blank(*p))
		p++;
	if (*p == '=') {
		p++;
		while (is_blank(*p))
			p++;
	}
	*end = '\0';
	*rest = p;
	return 0;
}

/* The value of one of this project's keys, from the rest of its line: the
 * strict grammar, in place. */
static int unquote_value(char *p, const char *key, char **value, unsigned lineno,
			 struct config_error *err)
{
	if (*p == '\0')
		return fail(err, lineno, -EINVAL, "missing value for '%s'", key);
	if (*p == '"') {
		size_t len = strlen(p);

		if (len < 2 || p[len - 1] != '"')
			return fail(err, lineno, -EINVAL, "unterminated quote in value of '%s'",
				    key);
		p[len - 1] = '\0';
		p++;
	}
	/* Quotes only enclose a whole value: anything else would make where a
	 * comment starts ambiguous. */
	if (strchr(p, '"'))
		return fail(err, lineno, -EINVAL, "stray quote in value of '%s'", key);
	*value = p;
	return 0;
}

/* Removes a comment ('#' at the start or after a blank, outside quotes)
 * and the blanks around what is left. Returns the trimmed start. */
static char *strip_line(char *line)
{
	bool in_quote = false;
	char *end;

	for (char *p = line; *p; p++) {
		if (*p == '"')
			in_quote = !in_quote;
		else if (*p == '#' && !in_quote && (p == line || is_blank(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	while (is_blank(*line))
		line++;
	end = line + strlen(line);
	while (end > line && is_blank(end[-1]))
		*--end = '\0';
	return line;
}

int config_parse_text(struct config *cfg, const char *text, const char *origin,
		      struct config_error *err)
{
	const char *p = text;
	unsigned lineno = 0;

	set_origin(err, origin);
	while (*p) {
		char line[CONFIG_LINE_MAX];
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *key = NULL, *rest = NULL, *value = NULL, *content;
		int r;

		lineno++;
		if (len >= sizeof(line))
			return fail(err, lineno, -EINVAL, "line is longer than %zu bytes",
				    sizeof(line) - 1);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);

		content = strip_line(line);
		if (!content[0])
			continue;
		r = split_line(content, &key, &rest, lineno, err);
		if (r < 0)
			return r;
		/* Not this project's key: its value is none of our business. */
		if (!find_key(key)) {
			other_key(cfg, key, rest, origin ? origin : "config", lineno);
			continue;
		}
		r = unquote_value(rest, key, &value, lineno, err);
		if (r == 0)
			r = apply_pair(cfg, key, value, origin, lineno, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_load_file(struct config *cfg, const char *path, struct config_error *err)
{
	static char text[CONFIG_FILE_MAX];
	long len;

	set_origin(err, path);
	len = read_small_file(path, text, sizeof(text));
	if (len < 0)
		return fail(err, 0, (int)len, "cannot read: %s", errno_text((int)-len));
	if (memchr(text, '\0', (size_t)len) != NULL)
		return fail(err, 0, -EINVAL, "NUL byte in file");
	return config_parse_text(cfg, text, path, err);
}

bool config_cmdline_may_set(const struct config *cfg, const char *key)
{
	/* Whoever can edit the command line (a boot menu, an unsigned
	 * bootloader entry) must not turn verification off or point it at
	 * another root hash: only the signed mini-initramfs' config may allow
	 * that, and only the config. */
	if (strcmp(key, "verity_cmdline_override") == 0)
		return false;
	if (strncmp(key, "verity_", strlen("verity_")) == 0)
		return cfg->verity.cmdline_override;
	return true;
}

int config_validate(const struct config *cfg, struct config_error *err)
{
	const struct config_verity *v = &cfg->verity;
	unsigned digest = verity_digest_size(v->algorithm);
	unsigned long long data_end;

	if (!v->roothash[0])
		return 0;
	if (strlen(v->roothash) != 2 * digest)
		return fail(err, 0, -EINVAL, "verity_roothash has %zu hex digits, %s needs %u",
			    strlen(v->roothash), v->algorithm, 2 * digest);
	if (v->data_blocks == 0)
		return fail(err, 0, -EINVAL,
			    "verity_roothash is set but verity_data_blocks is not");
	if (v->hash_offset % v->hash_block_size != 0)
		return fail(
			err, 0, -EINVAL,
			"verity_hash_offset %llu is not a multiple of verity_hash_block_size %u",
			v->hash_offset, v->hash_block_size);
	/* The table counts the data in 512-byte sectors, on a 64-bit field. */
	if (v->data_blocks > ULLONG_MAX / 2 / v->data_block_size)
		return fail(err, 0, -EINVAL, "verity_data_blocks %llu is too large",
			    v->data_blocks);
	data_end = v->data_blocks * v->data_block_size;
	/* The hash tree lives in the same image: below the data end it
	 * would overlap the blocks it protects. */
	if (v->hash_offset < data_end)
		return fail(err, 0, -EINVAL,
			    "verity_hash_offset %llu is inside the data (%llu blocks of %u bytes)",
			    v->hash_offset, v->data_blocks, v->data_block_size);
	return 0;
}

int config_validate_install(const struct config *cfg, struct config_error *err)
{
	const unsigned both = CONFIG_FROM_COMPRESSION | CONFIG_FROM_EROFS_COMPRESSION;

	if ((cfg->compression_from & both) == both)
		return fail(err, 0, -EINVAL,
			    "both 'compression' and the original initoverlayfs' "
			    "'erofs_compression' are set: keep one");
	return 0;
}

const char *config_boot_layout_to_string(enum config_boot_layout layout)
{
	switch (layout) {
	case CONFIG_BOOT_LAYOUT_DEFAULT:
		return "default";
	case CONFIG_BOOT_LAYOUT_SEPARATE:
		return "separate";
	case CONFIG_BOOT_LAYOUT_ROOT:
		return "root";
	}
	return "?";
}

int config_boot_layout_from_string(const char *s, enum config_boot_layout *out)
{
	if (strcmp(s, "separate") == 0)
		*out = CONFIG_BOOT_LAYOUT_SEPARATE;
	else if (strcmp(s, "root") == 0)
		*out = CONFIG_BOOT_LAYOUT_ROOT;
	else
		return -EINVAL;
	return 0;
}

const char *config_install_mode_to_string(enum config_install_mode mode)
{
	switch (mode) {
	case CONFIG_INSTALL_MODE_DEFAULT:
		return "default";
	case CONFIG_INSTALL_MODE_INIT:
		return "init";
	case CONFIG_INSTALL_MODE_SYSTEMD:
		return "systemd";
	}
	return "?";
}

int config_apply_cmdline(struct config *cfg, const char *cmdline, struct config_error *err)
{
	struct cmdline_param param;
	const char *cursor = cmdline;
	const size_t prefix_len = strlen(CMDLINE_PREFIX);
	int r;

	set_origin(err, "kernel command line");
	while ((r = cmdline_next(&cursor, &param)) != 0) {
		const char *key = param.key + prefix_len;

		if (strncmp(param.key, CMDLINE_PREFIX, prefix_len) != 0)
			continue;
		if (r < 0)
			return fail(err, 0, r, "parameter '%s' is too long", param.key);
		/* A bare boolean switch ("initoverlayfs.debug") means on. An
		 * unknown key only warns, with or without a value: a newer
		 * command line must not stop an older boot program. */
		if (!find_key(key))
			r = apply_pair(cfg, key, param.has_value ? param.value : "",
				       "kernel command line", 0, err);
		else if (!config_cmdline_may_set(cfg, key))
			log_warning("kernel command line: %s ignored: the config does not allow "
				    "the command line to change verity settings "
				    "(verity_cmdline_override)",
				    param.key);
		else if (!param.has_value && strcmp(key, "debug") == 0)
			r = apply_pair(cfg, key, "1", "kernel command line", 0, err);
		else if (!param.has_value)
			return fail(err, 0, -EINVAL, "'%s' needs a value ('%s=...')", param.key,
				    param.key);
		else
			r = apply_pair(cfg, key, param.value, "kernel command line", 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Quotes a value that would not parse back as it is: empty, with blanks
 * at either end (trimmed) or with a '#' (a comment after a blank). */
static bool needs_quotes(const char *value)
{
	size_t len = strlen(value);

	return len == 0 || is_blank(value[0]) || is_blank(value[len - 1]) ||
	       strchr(value, '#') != NULL;
}

static int format_line(char *buf, size_t size, size_t *used, const char *key, const char *value)
{
	const char *quote = needs_quotes(value) ? "\"" : "";
	int n = snprintf(buf + *used, size - *used, "%s %s%s%s\n", key, quote, value, quote);

	if (n < 0)
		return -EIO;
	if ((size_t)n >= size - *used)
		return -ENOBUFS;
	*used += (size_t)n;
	return 0;
}

/* The verity keys: the measurements only when there is a root hash (a
 * host config without one stays as it was), the policies only when they
 * differ from the defaults. */
static int format_verity(const struct config_verity *v, char *buf, size_t size, size_t *used)
{
	char offset[24], blocks[24], dbs[12], hbs[12];
	const struct {
		const char *key, *value;
	} lines[] = {
		{ "verity_roothash", v->roothash },   { "verity_salt", v->salt[0] ? v->salt : "-" },
		{ "verity_algorithm", v->algorithm }, { "verity_hash_offset", offset },
		{ "verity_data_blocks", blocks },     { "verity_data_block_size", dbs },
		{ "verity_hash_block_size", hbs },
	};
	int r = 0;

	snprintf(offset, sizeof(offset), "%llu", v->hash_offset);
	snprintf(blocks, sizeof(blocks), "%llu", v->data_blocks);
	snprintf(dbs, sizeof(dbs), "%u", v->data_block_size);
	snprintf(hbs, sizeof(hbs), "%u", v->hash_block_size);
	for (size_t i = 0; v->roothash[0] && i < sizeof(lines) / sizeof(lines[0]) && r == 0; i++)
		r = format_line(buf, size, used, lines[i].key, lines[i].value);
	if (r == 0 && v->on_corruption != VERITY_CORRUPTION_EIO)
		r = format_line(buf, size, used, "verity_on_corruption",
				verity_corruption_to_string(v->on_corruption));
	if (r == 0 && v->cmdline_override)
		r = format_line(buf, size, used, "verity_cmdline_override", "1");
	return r;
}

int config_format(const struct config *cfg, char *buf, size_t size)
{
	char timeout[16], debug[2] = { cfg->debug ? '1' : '0', '\0' };
	const struct {
		const char *key, *value;
	} lines[] = {
		{ "bootfs", cfg->bootfs },
		{ "bootfs_hint", cfg->bootfs_hint },
		{ "bootfstype", cfg->bootfstype },
		{ "fs", cfg->fs },
		{ "fstype", cfg->fstype },
		{ "init", cfg->init },
		{ "timeout", timeout },
		{ "modules", cfg->modules },
		{ "image_mount", image_mount_to_string(cfg->image_mount) },
		{ "newroot", new_root_to_string(cfg->new_root) },
		{ "on_failure", on_failure_to_string(cfg->on_failure) },
		{ "debug", debug },
		{ "compression", cfg->compression },
	};
	size_t used = 0;

	if (size == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	snprintf(timeout, sizeof(timeout), "%u", cfg->timeout_sec);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int r = format_line(buf, size, &used, lines[i].key, lines[i].value);
		if (r < 0)
			return r;
	}
	/* said only where it was: the mounts decide otherwise */
	if (cfg->boot_layout != CONFIG_BOOT_LAYOUT_DEFAULT) {
		int r = format_line(buf, size, &used, "boot_layout",
				    config_boot_layout_to_string(cfg->boot_layout));
		if (r < 0)
			return r;
	}
	return format_verity(&cfg->verity, buf, size, &used);
}
