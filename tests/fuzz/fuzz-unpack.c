/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the segment splitter and the extraction.
 *
 * Every input is first fed to the splitter in chunks of sizes taken from
 * the input itself: the archive must end at the same byte as when fed at
 * once. Then it is unpacked as an initramfs into a fresh tmpfs, mounted
 * nodev in a private mount namespace, so that no device node it makes
 * can be opened and nothing is left behind (root only). */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/log.h"
#include "install/segment.h"
#include "install/unpack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tree[] = "/tmp/iofs-fuzz-unpack.XXXXXX";
static int input_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_max_level((enum log_level)(LOG_LEVEL_ERR - 1));
	if (!mkdtemp(tree))
		abort();
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "fuzz-unpack: needs root for a private tmpfs: %s\n",
			strerror(errno));
		exit(1);
	}
	input_fd = memfd_create("fuzz-unpack-input", MFD_CLOEXEC);
	if (input_fd < 0)
		abort();
	return 0;
}

static void check_splitter(const uint8_t *data, size_t size)
{
	struct cpio_scan whole, chunked;
	long n_whole = 0, n_chunked = 0;
	size_t pos = 0, step = size ? (size_t)data[0] % 97 + 1 : 1;

	cpio_scan_init(&whole);
	n_whole = cpio_scan_feed(&whole, data, size);
	cpio_scan_init(&chunked);
	while (pos < size && !cpio_scan_done(&chunked)) {
		size_t len = size - pos < step ? size - pos : step;
		long n = cpio_scan_feed(&chunked, data + pos, len);

		if (n < 0) {
			n_chunked = n;
			break;
		}
		pos += (size_t)n;
		n_chunked = (long)pos;
		step = step % 13 + 1;
	}
	if ((n_whole < 0) != (n_chunked < 0) ||
	    (n_whole >= 0 &&
	     (n_whole != n_chunked || cpio_scan_done(&whole) != cpio_scan_done(&chunked))))
		abort();
}

static void check_unpack(const uint8_t *data, size_t size)
{
	struct unpack_stats stats;
	char input[64];

	if (ftruncate(input_fd, 0) < 0 || pwrite(input_fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(input, sizeof(input), "/proc/self/fd/%d", input_fd);
	if (mount("fuzz", tree, "tmpfs", MS_NODEV | MS_NOSUID, "size=64m,nr_inodes=4096") < 0)
		abort();
	(void)initramfs_unpack(input, tree, &stats);
	if (umount2(tree, MNT_DETACH) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_splitter(data, size);
	check_unpack(data, size);
	return 0;
}
