/* SPDX-License-Identifier: MIT */
#include "install/steps.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* In the order a run reaches them. Steps before "image-written" have not
 * touched the boot directory yet. */
const char *const install_steps[] = {
	"preflight",	       /* checks passed, boot directory locked */
	"source-ready",	       /* full initrd generated (or found) */
	"unpacked",	       /* its tree is in the work directory */
	"mini-staged",	       /* mini-initramfs tree staged, depmod done */
	"image-written",       /* EROFS image in a temporary file in the boot dir */
	"image-verity",	       /* ... with its dm-verity hash tree (if --verity) */
	"image-synced",	       /* ... and fsync'ed */
	"image-renamed",       /* renamed to its content-derived name */
	"image-committed",     /* boot directory fsync'ed */
	"initramfs-partial",   /* half the mini-initramfs in its temporary file */
	"initramfs-written",   /* complete in its temporary file */
	"initramfs-synced",    /* ... and fsync'ed */
	"initramfs-renamed",   /* renamed over the output */
	"initramfs-committed", /* boot directory fsync'ed: the new pair is live */
	"stale-removed",       /* images no initramfs refers to are gone */
	"done",		       /* work directory removed */
	NULL,
};

static const char *crash_at;

int crash_hook_init(void)
{
	const char *v = getenv("INITOVERLAYFS_INSTALL_CRASH_AT");

	if (!v || !*v)
		return 0;
	for (size_t i = 0; install_steps[i]; i++)
		if (strcmp(install_steps[i], v) == 0) {
			crash_at = install_steps[i];
			return 0;
		}
	log_error("INITOVERLAYFS_INSTALL_CRASH_AT=%s: no such step (see --list-steps)", v);
	return -EINVAL;
}

void step_reached(const char *name)
{
	log_debug("step %s", name);
	if (crash_at && strcmp(crash_at, name) == 0) {
		fflush(stdout);
		fflush(stderr);
		kill(getpid(), SIGKILL);
		pause();
	}
}
