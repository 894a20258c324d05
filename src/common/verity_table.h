/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "common/config.h"

/* The dm-verity target's table line (the kernel's
 * Documentation/admin-guide/device-mapper/verity.rst):
 *
 *   1 <data_dev> <hash_dev> <data_block_size> <hash_block_size>
 *     <num_data_blocks> <hash_start_block> <algorithm> <digest> <salt>
 *     [<#opt_params> <opt_params>]
 *
 * hash_start_block counts hash blocks; "-" stands for no salt. Kept apart
 * from the ioctls so that it can be tested without a kernel. */

/* Writes the line for v with the devices given as "MAJOR:MINOR" or paths.
 * -EINVAL when v has no root hash or config_validate would reject it,
 * -ENOBUFS when out is too small. */
int verity_table_format(const struct config_verity *v, const char *data_dev, const char *hash_dev,
			char *out, size_t size);

/* Length of the verified device in 512-byte sectors. */
unsigned long long verity_table_sectors(const struct config_verity *v);
