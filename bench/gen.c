/* SPDX-License-Identifier: MIT */
/* iofs-bench-gen: write deterministic, incompressible filler files for the
 * boot benchmark (think extra firmware and modules nobody loads).
 *
 *   iofs-bench-gen DIR TOTAL_MIB FILE_MIB SEED
 *
 * writes DIR/blob-0000.bin, DIR/blob-0001.bin, ... (FILE_MIB each, the last
 * one shorter if needed), TOTAL_MIB in all. The bytes come from xorshift64*
 * seeded by SEED and the file number: the same arguments give the same bytes
 * on every run and every machine (little-endian output). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* splitmix64 step: turns (seed, file number) into a non-zero state */
static uint64_t mix(uint64_t z)
{
	z += UINT64_C(0x9E3779B97F4A7C15);
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	z ^= z >> 31;
	return z ? z : 1;
}

static int parse(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

static int write_file(const char *path, uint64_t bytes, uint64_t state)
{
	static uint8_t buf[MIB];
	FILE *f = fopen(path, "wb");

	if (!f) {
		fprintf(stderr, "iofs-bench-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (bytes) {
		size_t n = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = next(&state);
			for (size_t k = 0; k < 8 && i + k < n; k++)
				buf[i + k] = (uint8_t)(v >> (8 * k));
		}
		if (fwrite(buf, 1, n, f) != n) {
			fprintf(stderr, "iofs-bench-gen: write %s: %s\n", path, strerror(errno));
			fclose(f);
			return -1;
		}
		bytes -= n;
	}
	if (fclose(f)) {
		fprintf(stderr, "iofs-bench-gen: close %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t total, per, seed, left, n = 0;
	char path[4096];

	if (argc != 5 || parse(argv[2], &total) || parse(argv[3], &per) || parse(argv[4], &seed) ||
	    per == 0 || total > (UINT64_C(1) << 20)) {
		fprintf(stderr, "usage: iofs-bench-gen DIR TOTAL_MIB FILE_MIB SEED\n");
		return 2;
	}
	for (left = total * MIB; left; n++) {
		uint64_t bytes = left < per * MIB ? left : per * MIB;
		if (snprintf(path, sizeof(path), "%s/blob-%04" PRIu64 ".bin", argv[1], n) >=
		    (int)sizeof(path)) {
			fprintf(stderr, "iofs-bench-gen: path too long\n");
			return 1;
		}
		if (write_file(path, bytes, mix(seed ^ mix(n))))
			return 1;
		left -= bytes;
	}
	return 0;
}
