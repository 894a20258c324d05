/* SPDX-License-Identifier: MIT */
/* The EROFS image: mkfs.erofs into a temporary file in the boot
 * directory, fsync, content-derived name, rename, fsync of the directory. */
#include "build/run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/exec.h"
#include "build/fsutil.h"
#include "build/sha256.h"
#include "build/steps.h"
#include "build/treehash.h"
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

int make_image(struct run *r)
{
	uint8_t digest[SHA256_DIGEST_SIZE];
	char uuid[40], zopt[CONFIG_VALUE_MAX + 3], uopt[48], hex[2 * SHA256_DIGEST_SIZE + 1];
	const char *argv[12];
	size_t n = 0;
	int fd, e;

	if (!r->o->dry_run) {
		e = tree_hash(r->tree, digest);
		if (e < 0)
			return log_step_error("hash tree", r->tree, e);
		uuid_from_digest(digest, uuid);
	} else {
		fmt_path(uuid, sizeof(uuid), "<derived from the content>");
	}
	fmt_path(zopt, sizeof(zopt), "-z%s", r->erofs_compression);
	fmt_path(uopt, sizeof(uopt), "-U%s", uuid);

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
	argv[n++] = uopt;
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
	if (!r->o->dry_run && chmod(r->image_tmp, 0644) < 0)
		return log_step_error("image: chmod", r->image_tmp, -errno);
	step_reached("image-written");

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
		e = sha256_file(fd, digest);
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
