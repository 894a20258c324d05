/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), used for content-derived names and UUIDs. */

#define SHA256_DIGEST_SIZE 32

struct sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes hashed so far */
	uint8_t block[64];
	size_t used; /* bytes in block */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, uint8_t digest[SHA256_DIGEST_SIZE]);

/* Hashes a whole file. Returns 0 or a negative errno. */
int sha256_file(int fd, uint8_t digest[SHA256_DIGEST_SIZE]);

/* Lower-case hex of the first nbytes of digest into out (2*nbytes+1). */
void hex_encode(const uint8_t *digest, size_t nbytes, char *out);
