/* SPDX-License-Identifier: MIT */
/* The installer's unpacker alone, for the hostile-archive tier:
 *   unpack-tool IMAGE DIR
 * unpacks IMAGE into the existing directory DIR and prints the counts. */
#include <stdio.h>

#include "common/log.h"
#include "install/unpack.h"

int main(int argc, char **argv)
{
	struct unpack_stats stats;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE DIR\n", argv[0]);
		return 2;
	}
	log_set_program("unpack-tool");
	if (initramfs_unpack(argv[1], argv[2], &stats) < 0)
		return 1;
	printf("entries %llu bytes %llu segments %u compression %s\n",
	       (unsigned long long)stats.entries, (unsigned long long)stats.bytes, stats.segments,
	       stats.compression[0] ? stats.compression : "none");
	return 0;
}
