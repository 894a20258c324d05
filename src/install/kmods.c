/* SPDX-License-Identifier: MIT */
#include "install/kmods.h"

#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/modplan.h"

const struct boot_module boot_modules[] = {
	{ "loop", BOOT_MODULES_MOUNT, true },
	{ "erofs", BOOT_MODULES_MOUNT, true },
	{ "overlay", BOOT_MODULES_MOUNT, true },
	{ "virtio_blk", BOOT_MODULES_STORAGE, false },
	{ "virtio_pci", BOOT_MODULES_STORAGE, false },
	{ "virtio_scsi", BOOT_MODULES_STORAGE, false },
	{ "nvme", BOOT_MODULES_STORAGE, false },
	{ "ahci", BOOT_MODULES_STORAGE, false },
	{ "sd_mod", BOOT_MODULES_STORAGE, false },
	{ "mmc_block", BOOT_MODULES_STORAGE, false },
	{ "sdhci_pci", BOOT_MODULES_STORAGE, false },
	{ "usb_storage", BOOT_MODULES_STORAGE, false },
	{ "uas", BOOT_MODULES_STORAGE, false },
	{ "xhci_pci", BOOT_MODULES_STORAGE, false },
	{ "ehci_pci", BOOT_MODULES_STORAGE, false },
	/* required with --verity (plan_mini) */
	{ "dm_verity", BOOT_MODULES_VERITY, false },
	{ NULL, 0, false },
};

/* One libkmod context per module directory for the whole run. */
static struct kmod_ctx *ctx_for(const char *moddir)
{
	static struct kmod_ctx *ctx;
	static char dir[4096];

	if (ctx && strcmp(dir, moddir) == 0)
		return ctx;
	if (ctx)
		kmod_unref(ctx);
	snprintf(dir, sizeof(dir), "%s", moddir);
	ctx = kmod_new(moddir, NULL);
	return ctx;
}

static int add_module(struct modset *set, struct kmod_module *mod, unsigned depth, const char *why);

static int add_list(struct modset *set, struct kmod_list *list, unsigned depth,
		    struct kmod_module *parent, const char *how)
{
	char why[256];
	struct kmod_list *l;
	int r = 0;

	snprintf(why, sizeof(why), "%s %s", how, kmod_module_get_name(parent));
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		r = add_module(set, m, depth + 1, why);
		kmod_module_unref(m);
		if (r < 0)
			break;
	}
	return r;
}

static int add_module(struct modset *set, struct kmod_module *mod, unsigned depth, const char *why)
{
	struct kmod_list *deps, *pre = NULL, *post = NULL;
	const char *path = kmod_module_get_path(mod);
	int r;

	if (depth > 64)
		return -ELOOP;
	if (!path)
		return 0; /* built in */
	if (strv_contains(&set->files, path))
		return 0;
	r = strv_add(&set->files, path);
	if (r == 0)
		r = strv_add(&set->why, why);
	if (r < 0)
		return r;

	deps = kmod_module_get_dependencies(mod);
	r = add_list(set, deps, depth, mod, "needed by");
	kmod_module_unref_list(deps);
	if (r < 0)
		return r;
	if (kmod_module_get_softdeps(mod, &pre, &post) == 0) {
		r = add_list(set, pre, depth, mod, "soft dependency of");
		if (r == 0)
			r = add_list(set, post, depth, mod, "soft dependency of");
		kmod_module_unref_list(pre);
		kmod_module_unref_list(post);
	}
	return r;
}

int modset_add(struct modset *set, const char *moddir, const char *name, bool required,
	       const char *why)
{
	struct kmod_ctx *ctx = ctx_for(moddir);
	struct kmod_list *list = NULL, *l;
	bool any_file = false, any = false;
	int r;

	if (!ctx)
		return log_step_error("modules: kmod_new", moddir, -ENOMEM);
	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0)
		return log_step_error("modules: lookup", name, r);
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		any = true;
		if (kmod_module_get_path(m))
			any_file = true;
		r = add_module(set, m, 0, why);
		kmod_module_unref(m);
		if (r < 0)
			break;
	}
	kmod_module_unref_list(list);
	if (r < 0)
		return log_step_error("modules: resolve dependencies", name, r);
	if (any && !any_file)
		return strv_add(&set->builtin, name);
	if (any)
		return 0;
	if (required) {
		log_error("modules: %s: no such module or alias in %s (and not built in)", name,
			  moddir);
		return -ENOENT;
	}
	log_debug("modules: %s: not in this kernel, skipped", name);
	return strv_add(&set->absent, name);
}

void modset_free(struct modset *set)
{
	strv_free(&set->files);
	strv_free(&set->why);
	strv_free(&set->builtin);
	strv_free(&set->absent);
	strv_free(&set->preload);
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

/* The value of "NAME=" at the start of a line of config, without quotes,
 * if it is made of [A-Za-z0-9_-] only. */
static int kconfig_value(const char *config, const char *name, char *out, size_t size)
{
	size_t len = strlen(name);

	for (const char *line = config; line && *line; line = next_line(line)) {
		const char *v = line + len;
		size_t n;

		if (strncmp(line, name, len) != 0 || line[len] != '=')
			continue;
		v++;
		if (*v == '"')
			v++;
		n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
		if (n == 0 || n >= size || (v[n] != '\0' && v[n] != '\n' && v[n] != '"'))
			return -EINVAL;
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

int kconfig_fat_nls(const char *config, struct strv *names)
{
	char value[64], name[80];
	int found = 0, r;

	if (kconfig_value(config, "CONFIG_FAT_DEFAULT_CODEPAGE", value, sizeof(value)) == 0) {
		snprintf(name, sizeof(name), "nls_cp%s", value);
		r = strv_add(names, name);
		if (r < 0)
			return r;
		found++;
	}
	if (kconfig_value(config, "CONFIG_FAT_DEFAULT_IOCHARSET", value, sizeof(value)) == 0) {
		snprintf(name, sizeof(name), "nls_%s", value);
		r = strv_add(names, name);
		if (r < 0)
			return r;
		found++;
	}
	return found;
}

/* A module file's path without the compression suffix: the mini-initramfs
 * stores modules decompressed, the kernel takes them as they are. */
static const char *const compressed_suffixes[] = { ".xz", ".zst", ".gz", NULL };

size_t kmod_stored_len(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; compressed_suffixes[i]; i++) {
		size_t n = strlen(compressed_suffixes[i]);

		if (len > n + 3 && strcmp(path + len - n, compressed_suffixes[i]) == 0 &&
		    strncmp(path + len - n - 3, ".ko", 3) == 0)
			return len - n;
	}
	return len;
}

struct plan_writer {
	const struct modset *set;
	FILE *out;
	struct strv seen;
};

static int write_order_list(struct plan_writer *w, struct kmod_list *list, unsigned depth,
			    bool required);

/* libkmod's probe order, worked out here once: each dependency (from its
 * own dependencies, so the order does not rest on modules.dep's), the
 * soft pre-dependencies, the module, its soft post-dependencies. Like
 * libkmod, only the module and its hard dependencies are required: a
 * soft dependency that fails to load ("?NAME") does not stop it. */
static int write_order(struct plan_writer *w, struct kmod_module *mod, unsigned depth,
		       bool required)
{
	struct kmod_list *deps, *pre = NULL, *post = NULL;
	const char *path = kmod_module_get_path(mod);
	const char *name = kmod_module_get_name(mod);
	int r;

	if (depth > 64)
		return -ELOOP;
	/* built in, or a soft dependency this kernel does not have */
	if (!path || !strv_contains(&w->set->files, path) || strv_contains(&w->seen, name))
		return 0;
	r = strv_add(&w->seen, name);
	if (r < 0)
		return r;
	deps = kmod_module_get_dependencies(mod);
	r = write_order_list(w, deps, depth, required);
	kmod_module_unref_list(deps);
	if (r == 0 && kmod_module_get_softdeps(mod, &pre, &post) < 0)
		pre = post = NULL;
	if (r == 0)
		r = write_order_list(w, pre, depth, false);
	if (r == 0 && fprintf(w->out, " %s%s", required ? "" : "?", name) < 0)
		r = -EIO;
	if (r == 0)
		r = write_order_list(w, post, depth, false);
	kmod_module_unref_list(pre);
	kmod_module_unref_list(post);
	return r;
}

static int write_order_list(struct plan_writer *w, struct kmod_list *list, unsigned depth,
			    bool required)
{
	struct kmod_list *l;
	int r = 0;

	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		r = write_order(w, m, depth + 1, required);
		kmod_module_unref(m);
		if (r < 0)
			break;
	}
	return r;
}

static int write_aliases(FILE *out, struct kmod_module *mod)
{
	struct kmod_list *info = NULL, *l;
	char norm[512];
	int r;

	r = kmod_module_get_info(mod, &info);
	if (r < 0)
		return r;
	r = 0;
	kmod_list_foreach(l, info)
	{
		const char *value = kmod_module_info_get_value(l);

		if (strcmp(kmod_module_info_get_key(l), "alias") != 0 || !value)
			continue;
		/* a pattern the plan cannot hold (blank, too long) is left out:
		 * libkmod would never match such a modalias either */
		if (strpbrk(value, " \t\n") || modplan_normalize(value, norm, sizeof(norm)) < 0)
			continue;
		if (fprintf(out, "alias %s %s\n", norm, kmod_module_get_name(mod)) < 0) {
			r = -EIO;
			break;
		}
	}
	kmod_module_info_free_list(info);
	return r;
}

int modset_plan_text(const struct modset *set, const char *moddir, char **text, size_t *len)
{
	struct kmod_ctx *ctx = ctx_for(moddir);
	struct plan_writer w = { .set = set };
	size_t dirlen = strlen(moddir);
	struct kmod_module **mods;
	int r = 0;

	*text = NULL;
	*len = 0;
	if (!ctx)
		return log_step_error("modules: kmod_new", moddir, -ENOMEM);
	mods = calloc(set->files.n + 1, sizeof(*mods));
	w.out = open_memstream(text, len);
	if (!mods || !w.out) {
		free(mods);
		if (w.out)
			fclose(w.out);
		return -ENOMEM;
	}
	fprintf(w.out, "# initoverlayfs module plan: the modules of this mini-initramfs, the "
		       "order each loads in, their aliases\n");
	for (size_t i = 0; i < set->files.n && r == 0; i++) {
		const char *path = set->files.v[i];

		if (strncmp(path, moddir, dirlen) != 0 || path[dirlen] != '/') {
			log_error("modules: %s is outside %s", path, moddir);
			r = -EINVAL;
			break;
		}
		r = kmod_module_new_from_path(ctx, path, &mods[i]);
		if (r < 0) {
			log_step_error("modules: read", path, r);
			break;
		}
		if (fprintf(w.out, "module %s %.*s\n", kmod_module_get_name(mods[i]),
			    (int)(kmod_stored_len(path) - dirlen - 1), path + dirlen + 1) < 0)
			r = -EIO;
	}
	for (size_t i = 0; i < set->files.n && r == 0; i++) {
		strv_free(&w.seen);
		fprintf(w.out, "load %s", kmod_module_get_name(mods[i]));
		r = write_order(&w, mods[i], 0, true);
		if (r == 0 && fputc('\n', w.out) == EOF)
			r = -EIO;
		if (r < 0)
			log_step_error("modules: load order", set->files.v[i], r);
	}
	for (size_t i = 0; i < set->files.n && r == 0; i++) {
		r = write_aliases(w.out, mods[i]);
		if (r < 0)
			log_step_error("modules: aliases", set->files.v[i], r);
	}
	for (size_t i = 0; i < set->builtin.n && r == 0; i++)
		if (fprintf(w.out, "builtin %s\n", set->builtin.v[i]) < 0)
			r = -EIO;
	for (size_t i = 0; i < set->files.n; i++)
		if (mods[i])
			kmod_module_unref(mods[i]);
	free(mods);
	strv_free(&w.seen);
	if (fclose(w.out) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(*text);
		*text = NULL;
		*len = 0;
	}
	return r;
}
