/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The module plan: what libkmod would have worked out at boot, worked out
 * by the installer instead (install/kmods.c writes it as
 * /lib/modules/KVER/initoverlayfs.modules). Lines, '#' starts a comment:
 *
 *   module NAME PATH       a module carried, PATH relative to the module
 *                          directory, stored decompressed
 *   load NAME M1 M2 ...    the order NAME is inserted in: its dependencies
 *                          and soft dependencies, NAME among them (without
 *                          such a line: NAME alone); each Mi a module above,
 *                          "?Mi" one whose failure does not stop the load
 *                          (a soft dependency, as libkmod has it)
 *   alias PATTERN NAME     a module alias (fnmatch pattern) of a module above
 *   builtin NAME           a name the kernel has built in
 *
 * Names and patterns are stored the way libkmod normalizes them ('-' is
 * '_', but inside [...] of a pattern). */

#define MODPLAN_FILE	 "initoverlayfs.modules"
#define MODPLAN_MAX_SIZE (4u << 20)
#define MODPLAN_NAME_MAX 64 /* the kernel's MODULE_NAME_LEN is 56 */

enum modplan_state {
	MODPLAN_UNTRIED = 0,
	MODPLAN_LOADED, /* inserted, or found live */
	MODPLAN_FAILED, /* its insertion failed: .error */
};

struct modplan_module {
	const char *name;
	const char *path;
	uint32_t order_start; /* into modplan.order */
	uint32_t order_len;   /* 0: no load line, the module alone */
	enum modplan_state state;
	int error;
};

struct modplan_alias {
	const char *pattern;
	uint32_t module;
	uint32_t literal; /* length of the pattern's prefix without wildcards */
};

/* An entry of modplan.order: a module's index, with this bit when it is
 * optional ("?NAME"). */
#define MODPLAN_OPTIONAL 0x80000000u

struct modplan {
	char *text; /* owned: the file's bytes, tokens cut in place */
	struct modplan_module *modules;
	size_t n_modules;
	struct modplan_alias *aliases;
	size_t n_aliases;
	const char **builtin;
	size_t n_builtin;
	uint32_t *order;
	size_t n_order;
};

/* Parses len bytes at text (which the plan takes, whatever the result:
 * modplan_free frees it). A line that is not one of the above, a name
 * that is not a module name, a path that is absolute or has "..", a
 * module declared twice or used before it is declared: -EBADMSG, with
 * *bad_line its line number (1-based). */
int modplan_parse(struct modplan *plan, char *text, size_t len, unsigned *bad_line);
void modplan_free(struct modplan *plan);

/* libkmod's alias normalization of in into out ('-' to '_' outside
 * [...]); -ENAMETOOLONG when it does not fit. */
int modplan_normalize(const char *in, char *out, size_t size);

/* The index of the module called name (normalized), or -1. */
long modplan_find_module(const struct modplan *plan, const char *name);
int modplan_is_builtin(const struct modplan *plan, const char *name);

/* Calls fn for every module whose name is name, else for every module an
 * alias of which matches name (normalized), stopping when fn returns
 * nonzero. Returns how many modules fn was called for. */
size_t modplan_lookup(const struct modplan *plan, const char *name,
		      int (*fn)(uint32_t module, void *data), void *data);
