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

	if (r->p->o->verity_salt)
		return fmt_path(salt, size, "%s", r->p->o->verity_salt);
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
	fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, PRIVATE_FILE_MODE);
	if (fd < 0)
		return log_step_error("verity: create", out_path, -errno);
	e = run_command(argv, -1, fd);
	if (e < 0) {
		log_error("verity: veritysetup format failed on %s", r->image_tmp);
	} else {
		n = pread(fd, text, size - 1, 0);
		if (n < 0)
			e = log_step_error("verity: read", out_path, -errno);
		else
			text[n] = '\0';
	}
	close(fd);
	return e;
}

/* Appends the hash tree to the image (hash offset = data size, no verity
 * superblock: the config carries everything) and records the parameters
 * for the mini-initramfs' config. */
static int add_verity(struct run *r)
{
	struct config_verity *v = &r->cfg.verity;
	char salt[2 * VERITY_SALT_MAX + 1], text[4096], blocks[24], offset[24];
	char buf[2 * VERITY_SALT_MAX + 128];
	const char *argv[24];
	uint64_t data_size = 0, total = 0;
	int e;

	e = pad_to_block(r->image_tmp, &data_size);
	if (e < 0)
		return log_step_error("verity: pad", r->image_tmp, e);
	e = verity_salt(r, salt, sizeof(salt));
	if (e < 0)
		return log_step_error("verity: salt", r->image_tmp, e);
	fmt_path(blocks, sizeof(blocks), "%llu", (unsigned long long)(data_size / VERITY_BLOCK));
	fmt_path(offset, sizeof(offset), "%llu", (unsigned long long)data_size);
	e = plan_veritysetup_argv(r->p, r->image_tmp, blocks, offset, salt, argv, buf, sizeof(buf));
	if (e < 0)
		return log_step_error("verity: veritysetup", r->image_tmp, e);
	log_info("appending the dm-verity hash tree (sha256, salt %s)", salt);
	e = run_veritysetup(r, argv, text, sizeof(text));
	if (e < 0)
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
	log_info("verity: root hash %s, %llu data blocks, hash tree %llu bytes at %llu",
		 v->roothash, v->data_blocks, (unsigned long long)r->verity_tree_size,
		 v->hash_offset);
	return 0;
}

/* The image's content-derived name, and where the mini-initramfs finds it:
 * its path inside the boot file system. */
static int name_image(struct run *r)
{
	const struct plan *p = r->p;
	uint8_t digest[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	int fd, e;

	fd = open(r->image_tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return log_step_error("image: open", r->image_tmp, -errno);
	e = digest_file(fd, digest);
	close(fd);
	if (e < 0)
		return log_step_error("image: hash", r->image_tmp, e);
	hex_encode(digest, IMAGE_HASH_HEX / 2, hex);
	fmt_path(r->image_name, sizeof(r->image_name), "initoverlayfs-%s-%s.img", p->kver, hex);
	e = file_size(r->image_tmp, &r->image_size);
	if (e < 0)
		return log_step_error("image: stat", r->image_tmp, e);
	fmt_path(r->image_path, sizeof(r->image_path), "%s/%s", p->boot_dir, r->image_name);
	fmt_path(r->image_ref, sizeof(r->image_ref), "%s/%s", p->image_dir, r->image_name);
	log_info("image %s (fs %s in the boot file system)", r->image_path, r->image_ref);
	return 0;
}

int make_image(struct run *r)
{
	const struct plan *p = r->p;
	char stem[NAME_MAX + 1], zopt[CONFIG_VALUE_MAX + 3];
	const char *argv[16];
	int fd, e;

	/* ".initoverlayfs-KVER.img.XXXXXX", recognized as debris later */
	fmt_path(stem, sizeof(stem), "initoverlayfs-%s.img", p->kver);
	fd = tmpfile_in(p->boot_dir, stem, r->image_tmp, sizeof(r->image_tmp));
	if (fd < 0) {
		r->image_tmp[0] = '\0';
		return log_step_error("image: create temporary file", p->boot_dir, fd);
	}
	close(fd);
	e = plan_mkfs_argv(p, r->image_tmp, r->tree, argv, zopt, sizeof(zopt));
	if (e < 0)
		return log_step_error("image: mkfs.erofs", r->image_tmp, e);
	log_info("making the EROFS image (%s)", p->erofs_compression);
	e = run_command(argv, -1, -1);
	if (e < 0) {
		log_error("image: mkfs.erofs could not build %s from %s", r->image_tmp, r->tree);
		return e;
	}
	e = check_erofs_magic(r->image_tmp);
	if (e < 0)
		return e;
	step_reached("image-written");
	if (p->verity) {
		e = add_verity(r);
		if (e < 0)
			return e;
	}
	step_reached("image-verity");
	e = fsync_path(r->image_tmp);
	if (e < 0)
		return log_step_error("image: fsync", r->image_tmp, e);
	step_reached("image-synced");
	e = name_image(r);
	if (e < 0)
		return e;
	if (rename(r->image_tmp, r->image_path) < 0)
		return log_step_error("image: rename", r->image_path, -errno);
	r->image_tmp[0] = '\0';
	step_reached("image-renamed");
	e = fsync_path(p->boot_dir);
	if (e < 0)
		return log_step_error("image: fsync", p->boot_dir, e);
	step_reached("image-committed");
	return 0;
}
