/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "install/sha256.h"

/* A hash of everything a tree puts into an EROFS image built with
 * --all-root and a fixed timestamp: paths, types, permissions, link
 * targets, device numbers, hard-link groups and file contents. Owners and
 * mtimes are left out: the image does not keep them. */
int tree_hash(const char *root, uint8_t digest[SHA256_DIGEST_SIZE]);

/* A UUID (version 4 layout, "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx") made
 * from a digest. out needs 37 bytes. */
void uuid_from_digest(const uint8_t digest[SHA256_DIGEST_SIZE], char *out);
