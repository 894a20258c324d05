/* SPDX-License-Identifier: MIT */
#pragma once

/* Closes every file descriptor from first on: what a process hands to
 * the next program (or keeps while it waits) must not pin a mount. */
void close_fds_from(int first);
