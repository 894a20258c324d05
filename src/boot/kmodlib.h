/* SPDX-License-Identifier: MIT */
#pragma once

#include <libkmod.h>

/* libkmod, opened at run time: only a mini-initramfs without a module plan
 * (one dracut or initramfs-tools made, where kmod is there anyway) needs
 * it, so the boot program does not link it and initoverlayfs-install's
 * mini-initramfs does not carry it (nor the libcrypto, libzstd and liblzma
 * Debian's libkmod links). */
struct kmodlib {
	void *handle;
	typeof(kmod_new) *new_ctx;
	typeof(kmod_unref) *unref;
	typeof(kmod_set_log_fn) *set_log_fn;
	typeof(kmod_load_resources) *load_resources;
	typeof(kmod_module_new_from_lookup) *module_new_from_lookup;
	typeof(kmod_module_get_module) *module_get_module;
	typeof(kmod_module_unref) *module_unref;
	typeof(kmod_module_unref_list) *module_unref_list;
	typeof(kmod_list_next) *list_next;
	typeof(kmod_module_get_initstate) *module_get_initstate;
	typeof(kmod_module_probe_insert_module) *module_probe_insert_module;
	typeof(kmod_module_get_name) *module_get_name;
};

/* Opens libkmod.so.2 and finds what the loader calls: 0, -ENOENT when
 * there is no libkmod, -ENOEXEC when it lacks a symbol (both logged at
 * debug level with dlerror's reason). */
int kmodlib_open(struct kmodlib *k);
void kmodlib_close(struct kmodlib *k);
