/* SPDX-License-Identifier: MIT */
#pragma once

#include "boot/context.h"

/* The boot, one step at a time. Each step does one thing, logs its one
 * error line itself on failure (naming step, path and errno) and returns
 * 0 or a negative errno; on success it describes what it did in detail. */

/* systemd mode: where "check next init" records the next init for the
 * switch-root unit (an EnvironmentFile=, INITOVERLAYFS_INIT='PATH'). */
#define NEXT_INIT_ENV "/run/initoverlayfs/next-init.env"

typedef int (*boot_step_fn)(struct boot_context *ctx, char *detail, size_t detail_size);

/* Undoes what its step did, as the context records it (a step's own
 * failure leaves nothing behind). Logs its one line on failure and returns
 * 0 or a negative errno; on success describes what it undid in detail. */
typedef int (*boot_undo_fn)(struct boot_context *ctx, char *detail, size_t detail_size);

struct boot_step {
	const char *name;
	boot_step_fn run;
	bool init_mode_only;
	boot_undo_fn undo; /* NULL: nothing to undo */
};

extern const struct boot_step boot_steps[];
extern const size_t boot_steps_count;

/* Runs the steps in order; stops at the first failure and returns it. In
 * init mode the last step execs the next init and only returns on error
 * (the fallback then finds the mounts as the failure left them). In
 * systemd mode a failure first undoes, in reverse order, what the steps
 * before it did, so that the service can be started again. */
int boot_run(struct boot_context *ctx);
