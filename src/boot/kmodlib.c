/* SPDX-License-Identifier: MIT */
#include "boot/kmodlib.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "common/log.h"

#define KMODLIB_SONAME "libkmod.so.2"

#ifdef IOFS_NO_DLOPEN
/* The static init-mode program: glibc's dlopen in a static program needs
 * the very glibc it was linked with, which no initramfs promises. */
int kmodlib_open(struct kmodlib *k)
{
	memset(k, 0, sizeof(*k));
	log_debug("%s: not opened by the static boot program", KMODLIB_SONAME);
	return -ENOENT;
}

void kmodlib_close(struct kmodlib *k)
{
	memset(k, 0, sizeof(*k));
}
#else
#include <dlfcn.h>

static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
	{ "kmod_new", offsetof(struct kmodlib, new_ctx) },
	{ "kmod_unref", offsetof(struct kmodlib, unref) },
	{ "kmod_set_log_fn", offsetof(struct kmodlib, set_log_fn) },
	{ "kmod_load_resources", offsetof(struct kmodlib, load_resources) },
	{ "kmod_module_new_from_lookup", offsetof(struct kmodlib, module_new_from_lookup) },
	{ "kmod_module_get_module", offsetof(struct kmodlib, module_get_module) },
	{ "kmod_module_unref", offsetof(struct kmodlib, module_unref) },
	{ "kmod_module_unref_list", offsetof(struct kmodlib, module_unref_list) },
	{ "kmod_list_next", offsetof(struct kmodlib, list_next) },
	{ "kmod_module_get_initstate", offsetof(struct kmodlib, module_get_initstate) },
	{ "kmod_module_probe_insert_module", offsetof(struct kmodlib, module_probe_insert_module) },
	{ "kmod_module_get_name", offsetof(struct kmodlib, module_get_name) },
};

int kmodlib_open(struct kmodlib *k)
{
	memset(k, 0, sizeof(*k));
	k->handle = dlopen(KMODLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!k->handle) {
		log_debug("%s: %s", KMODLIB_SONAME, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *sym = dlsym(k->handle, symbols[i].name);

		if (!sym) {
			log_debug("%s: %s", KMODLIB_SONAME, dlerror());
			kmodlib_close(k);
			return -ENOEXEC;
		}
		/* POSIX: a function pointer and a void * have the same
		 * representation (dlsym's contract). */
		memcpy((char *)k + symbols[i].offset, &sym, sizeof(sym));
	}
	return 0;
}

void kmodlib_close(struct kmodlib *k)
{
	if (k->handle)
		dlclose(k->handle);
	memset(k, 0, sizeof(*k));
}
#endif
