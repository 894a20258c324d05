/* SPDX-License-Identifier: MIT */
#pragma once

#include "common/config.h"

/* What PID 1 does when the boot cannot go on, by the on_failure policy:
 * auto (the default): /bin/sh from the mini-initramfs if it has one, else
 * reboot; shell: /bin/sh with the console as its controlling terminal
 * (reboot when there is none); reboot (after 10 s), halt, poweroff (at
 * once); panic: PID 1 exits and the kernel panics. Never returns. */
__attribute__((noreturn)) void fallback_run(enum on_failure policy);
