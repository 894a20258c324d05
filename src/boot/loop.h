/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Attaches the open file image_fd to a free loop device, read-only and
 * auto-clearing (it goes away with its last user, the mount). Uses
 * LOOP_CONFIGURE, or LOOP_SET_FD + LOOP_SET_STATUS64 on kernels before
 * 5.8. On success device holds "/dev/loopN" and the open device's fd is
 * returned: keep it open until the mount holds the device, or autoclear
 * detaches it at once. */
int loop_attach_read_only(int image_fd, const char *image_name, char *device, size_t size);
