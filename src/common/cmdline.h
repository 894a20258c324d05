/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Kernel command line tokenizer with the kernel's own quoting rules:
 * words are separated by white space; double quotes group white space
 * into a word and are removed ("a=\"b c\"" gives key a, value "b c");
 * there are no escapes. */

struct cmdline_param {
	char key[256];
	char value[1024];
	bool has_value; /* "key=" has an empty value, "key" has none */
};

/* Reads the next parameter at *cursor and advances it. Returns 1 when a
 * parameter was read, 0 at the end, -ENAMETOOLONG when a key or value
 * does not fit (the parameter is skipped, *cursor still advances). */
int cmdline_next(const char **cursor, struct cmdline_param *param);

/* Finds the last occurrence of key (the kernel's rule: last one wins).
 * Returns 1 when found, 0 when not, or a negative errno. */
int cmdline_get(const char *cmdline, const char *key, struct cmdline_param *param);
