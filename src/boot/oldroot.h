/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

/* With a tmpfs root ('newroot tmpfs', for initramfs-tools), the next
 * init's switch (klibc run-init) moves the real root over the tmpfs root
 * instead of detaching it: the tmpfs root's bind mounts of the overlay
 * would stay underneath, unreachable by any path, and hold the overlay,
 * the image, its loop device and /boot for the whole uptime.
 *
 * Starts a process that keeps a descriptor of the current root (the
 * tmpfs root) and waits until PID 1 has left it; then it lazily detaches
 * every mount found in that old root, through its own descriptors, and
 * exits. The caller must be in the tmpfs root, with /proc mounted.
 * Returns the process' PID, or a negative errno. */
pid_t oldroot_release_spawn(void);
