/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "boot/kmodlib.h"
#include "common/modplan.h"

/* Kernel module loading, udev's job done without udev: from the module
 * plan initoverlayfs-install wrote (finit_module, no libkmod), or where
 * there is none (dracut's and initramfs-tools' images) with libkmod. */
struct module_loader {
	int moddir_fd;	     /* /lib/modules/<release> */
	const char *cmdline; /* for NAME.PARAM= options */
	bool have_plan;
	struct modplan plan;
	unsigned plan_bad_line; /* with -EBADMSG from modules_open */
	struct kmodlib lib;
	struct kmod_ctx *kmod;
	int uevent_fd;	   /* kernel uevents, to see devices as they appear */
	unsigned inserted; /* modules this loader inserted */
};

/* Opens <root>/lib/modules/<release>: its module plan (MODPLAN_FILE), or
 * without one its indexes with libkmod. -ENOENT when there is no such
 * directory (a kernel with everything built in, or a test root),
 * -EBADMSG for a plan that does not parse (ml->plan_bad_line), -ELIBACC
 * for neither a plan nor libkmod. cmdline gives modules their
 * NAME.PARAM= options (it must outlive the loader). */
int modules_open(struct module_loader *ml, const char *root, const char *kernel_release,
		 const char *cmdline);
/* Whether modules_open found a way to load modules. */
bool modules_active(const struct module_loader *ml);
/* Idempotent. */
void modules_close(struct module_loader *ml);

/* Loads a module by name or alias with its dependencies. Returns how many
 * of the modules the name resolved to are loaded (0: none known), or the
 * first insertion error when none of them could be loaded. */
int modules_load(struct module_loader *ml, const char *name_or_alias);

/* Loads each of a space-separated list; on failure *failed names it. */
int modules_load_list(struct module_loader *ml, const char *list, const char **failed,
		      char *failed_buf, unsigned failed_size);

/* Starts listening to kernel uevents; call before the first coldplug so
 * no device is missed. */
int modules_uevent_listen(struct module_loader *ml);

/* Loads the module of every device under /sys/devices that has a
 * modalias. Returns how many modules were inserted. */
int modules_coldplug(struct module_loader *ml);

/* Waits up to timeout_ms for uevents and loads modules for added devices.
 * Returns the number of events seen (0 on timeout) or a negative errno. */
int modules_uevent_wait(struct module_loader *ml, int timeout_ms);
