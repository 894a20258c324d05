/* SPDX-License-Identifier: MIT */
#pragma once

/* What PID 1 does when the boot cannot go on: exec /bin/sh from the
 * mini-initramfs if it has one, else wait 10 s and reboot. Never returns. */
__attribute__((noreturn)) void fallback_run(void);
