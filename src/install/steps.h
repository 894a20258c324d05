/* SPDX-License-Identifier: MIT */
#pragma once

/* Named points in the installer's run. With
 * INITOVERLAYFS_INSTALL_CRASH_AT=<name> in the environment the installer
 * kills itself with SIGKILL when it reaches that point, so that tests can
 * check what a crash leaves in the boot directory. */

extern const char *const install_steps[];

/* Reads the environment once; -EINVAL (logged) for an unknown name. */
int crash_hook_init(void);

/* Marks a point; dies here when it is the configured one. */
void step_reached(const char *name);
