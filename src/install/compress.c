/* SPDX-License-Identifier: MIT */
#include "install/compress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct compression compressions[] = {
	{
		.name = "zstd",
		.magic = { "28b52ffd" },
		.decompress = { "zstd", "-dcq" },
		.compress = { "zstd", "-q", "-c", "-19" },
		.level_prefix = "-",
		.ultra_above = 19,
	},
	{
		.name = "xz",
		.magic = { "fd377a585a00" },
		.decompress = { "xz", "-dc" },
		/* the kernel's xz decoder wants crc32 and a bounded dictionary */
		.compress = { "xz", "-q", "-c", "--check=crc32", "--lzma2=preset=9,dict=1MiB" },
		.level_prefix = "--lzma2=preset=",
		.level_suffix = ",dict=1MiB",
	},
	{
		.name = "gzip",
		.magic = { "1f8b", "1f9e" },
		.decompress = { "gzip", "-dc" },
		/* -n: no name or time stored */
		.compress = { "gzip", "-n", "-c", "-9" },
		.level_prefix = "-",
	},
	{
		.name = "lz4",
		.magic = { "02214c18", "04224d18" },
		.decompress = { "lz4", "-dc" },
		/* -l: the legacy format, the only one the kernel reads */
		.compress = { "lz4", "-q", "-l", "-c", "-9" },
		.level_prefix = "-",
	},
	{
		.name = "lzma",
		.magic = { "5d0000" },
		.decompress = { "xz", "-dc", "--format=lzma" },
	},
	{
		.name = "bzip2",
		.magic = { "425a68" },
		.decompress = { "bzip2", "-dc" },
	},
	{
		.name = "lzo",
		.magic = { "894c5a4f" },
		.decompress = { "lzop", "-dc" },
	},
	{ .name = NULL },
};

const struct compression *compression_find(const char *name)
{
	for (const struct compression *c = compressions; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct compression *compression_detect(const uint8_t *buf, size_t len)
{
	char hex[2 * COMPRESSION_MAGIC_MAX + 1];
	size_t n = len < COMPRESSION_MAGIC_MAX ? len : COMPRESSION_MAGIC_MAX;

	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	hex[2 * n] = '\0';
	for (const struct compression *c = compressions; c->name; c++)
		for (size_t m = 0; c->magic[m]; m++)
			if (strncmp(hex, c->magic[m], strlen(c->magic[m])) == 0)
				return c;
	return NULL;
}

int compression_argv(const struct compression *c, const char *level, const char **argv, char *lvl,
		     size_t lvl_size)
{
	size_t i;

	if (!c->compress[0])
		return -EINVAL;
	for (i = 0; c->compress[i]; i++)
		argv[i] = c->compress[i];
	argv[i] = NULL;
	if (!*level)
		return 0;
	/* the level replaces the default's level option (the last one) */
	snprintf(lvl, lvl_size, "%s%s%s", c->level_prefix, level,
		 c->level_suffix ? c->level_suffix : "");
	if (c->ultra_above && atoi(level) > c->ultra_above) {
		argv[i - 1] = "--ultra";
		argv[i++] = lvl;
		argv[i] = NULL;
	} else {
		argv[i - 1] = lvl;
	}
	return 0;
}

void compression_names(char *buf, size_t size, const char *sep, bool mini_only)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const struct compression *c = compressions; c->name && len < size; c++)
		if (!mini_only || c->compress[0])
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? sep : "",
						c->name);
}
