/* SPDX-License-Identifier: MIT */
#include "install/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sys/types.h>
#include <unistd.h>

int digest_file(int fd, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint8_t buf[65536];
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	off_t off = 0;
	int e = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		e = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			e = -EIO;
			goto out;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != SHA256_DIGEST_SIZE)
		e = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	return e;
}

void hex_encode(const uint8_t *digest, size_t nbytes, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[2 * nbytes] = '\0';
}
