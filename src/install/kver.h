/* SPDX-License-Identifier: MIT */
#pragma once

/* A kernel release as the installer takes it (--kver, or uname's): it
 * becomes part of file names (/lib/modules/KVER, BOOT-DIR/initrd.img-KVER,
 * the image's name) and an argument of dracut, mkinitramfs and depmod. */

#define KVER_MAX 255

/* 0 when kver can be a kernel release: 1 to KVER_MAX bytes, not "." or
 * "..", no leading '-', no '/', no blank or control character. Else
 * -EINVAL, and *why (when why is not NULL) says what is wrong, as a
 * static string. */
int kver_check(const char *kver, const char **why);
