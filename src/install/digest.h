/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* SHA-256 of files (libcrypto's EVP interface), for content-derived names
 * and the default dm-verity salt. */

#define SHA256_DIGEST_SIZE 32

/* Hashes the whole file behind fd, from offset 0 (pread: the file offset
 * is left as it was). Returns 0 or a negative errno: -errno of a failed
 * read, -ENOMEM or -EIO when libcrypto fails. */
int digest_file(int fd, uint8_t out[SHA256_DIGEST_SIZE]);

/* Lower-case hex of the first nbytes of digest into out (2*nbytes+1). */
void hex_encode(const uint8_t *digest, size_t nbytes, char *out);
