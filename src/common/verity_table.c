/* SPDX-License-Identifier: MIT */
#include "common/verity_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *corruption_option(enum verity_corruption mode)
{
	switch (mode) {
	case VERITY_CORRUPTION_RESTART:
		return "restart_on_corruption";
	case VERITY_CORRUPTION_PANIC:
		return "panic_on_corruption";
	case VERITY_CORRUPTION_EIO:
		break;
	}
	return NULL; /* the kernel's default: the read fails with EIO */
}

unsigned long long verity_table_sectors(const struct config_verity *v)
{
	return v->data_blocks * (v->data_block_size / 512);
}

int verity_table_format(const struct config_verity *v, const char *data_dev, const char *hash_dev,
			char *out, size_t size)
{
	struct config cfg = { .verity = *v };
	const char *option = corruption_option(v->on_corruption);
	int n;

	if (size > 0)
		out[0] = '\0';
	/* The kernel would parse a half-valid line in its own way; refuse
	 * anything the config check would refuse. */
	if (!v->roothash[0] || config_validate(&cfg, NULL) < 0 || !data_dev[0] || !hash_dev[0] ||
	    strchr(data_dev, ' ') || strchr(hash_dev, ' '))
		return -EINVAL;
	n = snprintf(out, size, "1 %s %s %u %u %llu %llu %s %s %s", data_dev, hash_dev,
		     v->data_block_size, v->hash_block_size, v->data_blocks,
		     v->hash_offset / v->hash_block_size, v->algorithm, v->roothash,
		     v->salt[0] ? v->salt : "-");
	if (n >= 0 && (size_t)n < size && option)
		n += snprintf(out + n, size - (size_t)n, " 1 %s", option);
	if (n < 0)
		return -EIO;
	if ((size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return -ENOBUFS;
	}
	return 0;
}
