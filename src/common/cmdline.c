/* SPDX-License-Identifier: MIT */
#include "common/cmdline.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Appends c to buf unless full; remembers overflow. */
static void put(char *buf, size_t size, size_t *len, char c, bool *overflow)
{
	if (*len + 1 >= size) {
		*overflow = true;
		return;
	}
	buf[(*len)++] = c;
	buf[*len] = '\0';
}

int cmdline_next(const char **cursor, struct cmdline_param *param)
{
	const char *p = *cursor;
	bool in_quote = false, in_value = false, overflow = false;
	size_t key_len = 0, value_len = 0;

	param->key[0] = '\0';
	param->value[0] = '\0';
	param->has_value = false;

	while (*p && is_space(*p))
		p++;
	if (!*p) {
		*cursor = p;
		return 0;
	}

	for (; *p; p++) {
		if (*p == '"') {
			in_quote = !in_quote;
			continue;
		}
		if (!in_quote && is_space(*p))
			break;
		if (!in_value && *p == '=') {
			in_value = true;
			param->has_value = true;
			continue;
		}
		if (in_value)
			put(param->value, sizeof(param->value), &value_len, *p, &overflow);
		else
			put(param->key, sizeof(param->key), &key_len, *p, &overflow);
	}
	*cursor = p;
	return overflow ? -ENAMETOOLONG : 1;
}

int cmdline_get(const char *cmdline, const char *key, struct cmdline_param *param)
{
	struct cmdline_param current;
	const char *cursor = cmdline;
	int found = 0, r;

	while ((r = cmdline_next(&cursor, &current)) != 0) {
		if (r < 0)
			continue;
		if (strcmp(current.key, key) == 0) {
			*param = current;
			found = 1;
		}
	}
	return found;
}
