/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

struct kmod_ctx;

/* Kernel module loading with libkmod, udev's job done without udev. */
struct module_loader {
	struct kmod_ctx *kmod;
	int uevent_fd;	   /* kernel uevents, to see devices as they appear */
	unsigned inserted; /* modules this loader inserted */
};

/* Opens the module index of the running kernel under
 * <root>/lib/modules/<release>. -ENOENT when there is none (a kernel with
 * everything built in, or a test root). */
int modules_open(struct module_loader *ml, const char *root, const char *kernel_release);
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
