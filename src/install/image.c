/* SPDX-License-Identifier: MIT */
/* The EROFS image: mkfs.erofs into a temporary file in the boot
 * directory, fsync, content-derived name, rename, fsync of the directory. */
#include "install/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/digest.h"
#include "install/steps.h"
#include "common/log.h"
#include "common/path.h"

/* mkfs.erofs said it succeeded; the superblock says so too. */
static int check_erofs_magic(const char *path)
{
	static const uint8_t magic[4] = { 0xe2, 0xe1, 0xf5, 0xe0 }; /* 0xE0F5E1E2 LE */
	uint8_t buf[4];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_step_error("image: open", path, -errno);
	n = pread(fd, buf, sizeof(buf), 1024);
	close(fd);
	if (n != (ssize_t)sizeof(buf) || memcmp(buf, magic, sizeof(magic)) != 0) {
		log_error("image: %s: mkfs.erofs wrote no EROFS superblock", path);
		return -EBADMSG;
	}
	return 0;
}

#define VERITY_BLOCK 4096U

/* "Root hash:      \t<hex>" in veritysetup format's report. */
static int parse_root_hash(const char *text, char *out, size_t size)
{
	const char *p = strstr(text, "\nRoot hash:");
	size_t n;

	if (!p)
		return -EBADMSG;
	p += strlen("\nRoot hash:");
	p += strspn(p, " \t");
	n = strspn(p, "0123456789abcdef");
	if (n != 2 * SHA256_DIGEST_SIZE || n >= size)
		return -EBADMSG;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* The data part must end on a block boundary: mkfs.erofs writes whole
 * blocks, but a partial one is padded with zeros rather than trusted. */
static int pad_to_block(const char *path, uint64_t *size)
{
	int fd, e;

	e = file_size(path, size);
	if (e < 0 || *size % VERITY_BLOCK == 0)
		return e;
	*size += VERITY_BLOCK - *size % VERITY_BLOCK;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = ftruncate(fd, (off_t)*size) < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* The salt: given, or the image's own SHA-256, so that two runs on the
 * same content write the same bytes. */
static int verity_salt(struct run *r, char *salt, size_t size)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	int fd, e;

	if (r->o->verity_salt)
		return fmt_path(salt, size, "%s", r->o->verity_salt);
	if (r->o->dry_run)
		return fmt_path(salt, size, "<sha256 of the image>");
	fd = open(r->image_tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = digest_file(fd, digest);
	close(fd);
	if (e == 0)
		hex_encode(digest, SHA256_DIGEST_SIZE, salt);
	return e;
}

static int run_veritysetup(struct run *r, const char *const argv[], char *text, size_t size)
{
	char out_path[PATH_MAX];
	ssize_t n;
	int fd, e;

	fmt_path(out_path, sizeof(out_path), "%s/veritysetup.out", r->work);
	fd = r->o->dry_run
		     ? -1
		     : open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, PRIVATE_FILE_MODE);
	if (!r->o->dry_run && fd < 0)
		return log_step_error("verity: create", out_path, -errno);
	e = run_tool(r, argv, -1, fd);
	if (e < 0) {
		log_error("verity: veritysetup format failed on %s", r->image_tmp);
	} else if (!r->o->dry_run) {
		n = pread(fd, text, size - 1, 0);
		if (n < 0)
			e = log_step_error("verity: read", out_path, -errno);
		else
			text[n] = '\0';
	}
	if (fd >= 0)
		close(fd);
	return e;
}

/* Appends the hash tree to the image (hash offset = data size, no verity
 * superblock: the config carries everything) and records the parameters
 * for the mini-initramfs' config. */
static int add_verity(struct run *r)
{
	struct config_verity *v = &r->cfg.verity;
	char salt[2 * VERITY_SALT_MAX + 1], text[4096];
	char blocks_opt[48], offset_opt[48], salt_opt[2 * VERITY_SALT_MAX + 16];
	const char *argv[] = { "veritysetup",
			       "format",
			       "--no-superblock",
			       "--hash=" VERITY_DEFAULT_ALG,
			       "--data-block-size=4096",
			       "--hash-block-size=4096",
			       blocks_opt,
			       offset_opt,
			       salt_opt,
			       r->image_tmp,
			       r->image_tmp,
			       NULL };
	uint64_t data_size = 0, total = 0;
	int e;

	if (!r->o->dry_run) {
		e = pad_to_block(r->image_tmp, &data_size);
		if (e < 0)
			return log_step_error("verity: pad", r->image_tmp, e);
	}
	e = verity_salt(r, salt, sizeof(salt));
	if (e < 0)
		return log_step_error("verity: salt", r->image_tmp, e);
	if (r->o->dry_run) {
		fmt_path(blocks_opt, sizeof(blocks_opt), "--data-blocks=<image size / 4096>");
		fmt_path(offset_opt, sizeof(offset_opt), "--hash-offset=<image size>");
	} else {
		fmt_path(blocks_opt, sizeof(blocks_opt), "--data-blocks=%llu",
			 (unsigned long long)(data_size / VERITY_BLOCK));
		fmt_path(offset_opt, sizeof(offset_opt), "--hash-offset=%llu",
			 (unsigned long long)data_size);
	}
	fmt_path(salt_opt, sizeof(salt_opt), "--salt=%s", salt);
	say(r, "appending the dm-verity hash tree (sha256, salt %s)", salt);
	e = run_veritysetup(r, argv, text, sizeof(text));
	if (e < 0 || r->o->dry_run)
		return e;
	e = parse_root_hash(text, v->roothash, sizeof(v->roothash));
	if (e < 0) {
		log_error("verity: no root hash in the output of veritysetup format: %s", text);
		return e;
	}
	e = file_size(r->image_tmp, &total);
	if (e < 0)
		return log_step_error("verity: stat", r->image_tmp, e);
	fmt_path(v->salt, sizeof(v->salt), "%s", salt);
	fmt_path(v->algorithm, sizeof(v->algorithm), "%s", VERITY_DEFAULT_ALG);
	v->data_block_size = VERITY_BLOCK;
	v->hash_block_size = VERITY_BLOCK;
	v->data_blocks = data_size / VERITY_BLOCK;
	v->hash_offset = data_size;
	r->verity_tree_size = total - data_size;
	say(r, "verity: root hash %s, %llu data blocks, hash tree %llu bytes at %llu", v->roothash,
	    v->data_blocks, (unsigned long long)r->verity_tree_size, v->hash_offset);
	return 0;
}

/* The file system UUID: none (all zeros). Nothing looks the image up by
 * UUID (the config names its path, dm-verity checks its root hash), blkid
 * reports no UUID for it, so two images never collide in
 * /dev/disk/by-uuid; and a fixed value keeps mkfs.erofs from drawing a
 * random one, so the same tree gives the same bytes. */
#define IMAGE_UUID "00000000-0000-0000-0000-000000000000"

int make_image(struct run *r)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	char zopt[CONFIG_VALUE_MAX + 3], hex[2 * SHA256_DIGEST_SIZE + 1];
	const char *argv[12];
	size_t n = 0;
	int fd, e;

	fmt_path(zopt, sizeof(zopt), "-z%s", r->erofs_compression);

	if (!r->o->dry_run) {
		char stem[NAME_MAX + 1];

		/* ".initoverlayfs-KVER.img.XXXXXX", recognized as debris later */
		fmt_path(stem, sizeof(stem), "initoverlayfs-%s.img", r->kver);
		fd = tmpfile_in(r->boot_dir, stem, r->image_tmp, sizeof(r->image_tmp));
		if (fd < 0) {
			r->image_tmp[0] = '\0';
			return log_step_error("image: create temporary file", r->boot_dir, fd);
		}
		close(fd);
	} else {
		fmt_path(r->image_tmp, sizeof(r->image_tmp), "%s/.initoverlayfs-%s.img.XXXXXX",
			 r->boot_dir, r->kver);
	}

	argv[n++] = "mkfs.erofs";
	if (strcmp(r->erofs_compression, "none") != 0)
		argv[n++] = zopt;
	argv[n++] = "-T0";
	argv[n++] = "--all-root";
	argv[n++] = "-x-1";
	argv[n++] = "-U" IMAGE_UUID;
	argv[n++] = "--quiet";
	argv[n++] = r->image_tmp;
	argv[n++] = r->tree;
	argv[n] = NULL;
	say(r, "making the EROFS image (%s)", r->erofs_compression);
	e = run_tool(r, argv, -1, -1);
	if (e < 0) {
		log_error("image: mkfs.erofs could not build %s from %s", r->image_tmp, r->tree);
		return e;
	}
	if (!r->o->dry_run) {
		e = check_erofs_magic(r->image_tmp);
		if (e < 0)
			return e;
	}
	/* mkfs.erofs wrote into the mkostemp file; the mode is set here, not
	 * left to what the tool did */
	if (!r->o->dry_run && chmod(r->image_tmp, PRIVATE_FILE_MODE) < 0)
		return log_step_error("image: chmod", r->image_tmp, -errno);
	step_reached("image-written");
	if (r->o->verity) {
		e = add_verity(r);
		if (e < 0)
			return e;
	}
	step_reached("image-verity");

	if (r->o->dry_run) {
		fmt_path(r->image_name, sizeof(r->image_name), "initoverlayfs-%s-<hash>.img",
			 r->kver);
	} else {
		e = fsync_path(r->image_tmp);
		if (e < 0)
			return log_step_error("image: fsync", r->image_tmp, e);
		step_reached("image-synced");
		fd = open(r->image_tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return log_step_error("image: open", r->image_tmp, -errno);
		e = digest_file(fd, digest);
		close(fd);
		if (e < 0)
			return log_step_error("image: hash", r->image_tmp, e);
		hex_encode(digest, IMAGE_HASH_HEX / 2, hex);
		fmt_path(r->image_name, sizeof(r->image_name), "initoverlayfs-%s-%s.img", r->kver,
			 hex);
		e = file_size(r->image_tmp, &r->image_size);
		if (e < 0)
			return log_step_error("image: stat", r->image_tmp, e);
	}
	fmt_path(r->image_path, sizeof(r->image_path), "%s/%s", r->boot_dir, r->image_name);
	fmt_path(r->image_ref, sizeof(r->image_ref), "%s/%s",
		 r->have_bootfs ? r->bootfs.rel_dir : r->boot_dir, r->image_name);
	say(r, "image %s (fs %s in the boot file system)", r->image_path, r->image_ref);
	if (r->o->dry_run)
		return 0;

	if (rename(r->image_tmp, r->image_path) < 0)
		return log_step_error("image: rename", r->image_path, -errno);
	r->image_tmp[0] = '\0';
	step_reached("image-renamed");
	e = fsync_path(r->boot_dir);
	if (e < 0)
		return log_step_error("image: fsync", r->boot_dir, e);
	step_reached("image-committed");
	return 0;
}
