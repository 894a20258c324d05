/* SPDX-License-Identifier: MIT */
#include "common/modplan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX 512

int modplan_normalize(const char *in, char *out, size_t size)
{
	size_t i;
	bool in_brackets = false;

	for (i = 0; in[i]; i++) {
		char c = in[i];

		if (i + 1 >= size)
			return -ENAMETOOLONG;
		if (c == '[')
			in_brackets = true;
		else if (c == ']')
			in_brackets = false;
		else if (c == '-' && !in_brackets)
			c = '_';
		out[i] = c;
	}
	if (size == 0)
		return -ENAMETOOLONG;
	out[i] = '\0';
	return 0;
}

static bool valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n < MODPLAN_NAME_MAX && s[n] == '\0';
}

/* Relative, no "..", printable: it is opened under the module directory. */
static bool valid_path(const char *s)
{
	if (s[0] == '/' || s[0] == '\0' || strlen(s) >= 4096)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	for (const char *p = s; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return false;
	}
	return true;
}

static bool valid_pattern(const char *s)
{
	return s[0] && strlen(s) < PATTERN_MAX;
}

/* Names are stored normalized; '-' only ever becomes '_' so in place. */
static void normalize_in_place(char *s, bool brackets)
{
	bool in = false;

	for (; *s; s++) {
		if (brackets && *s == '[')
			in = true;
		else if (brackets && *s == ']')
			in = false;
		else if (*s == '-' && !in)
			*s = '_';
	}
}

/* Cuts the next blank-separated word out of *cursor. */
static char *next_word(char **cursor)
{
	char *p = *cursor, *word;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		*cursor = p;
		return NULL;
	}
	word = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return word;
}

long modplan_find_module(const struct modplan *plan, const char *name)
{
	char norm[MODPLAN_NAME_MAX];

	if (modplan_normalize(name, norm, sizeof(norm)) < 0)
		return -1;
	for (size_t i = 0; i < plan->n_modules; i++)
		if (strcmp(plan->modules[i].name, norm) == 0)
			return (long)i;
	return -1;
}

int modplan_is_builtin(const struct modplan *plan, const char *name)
{
	char norm[MODPLAN_NAME_MAX];

	if (modplan_normalize(name, norm, sizeof(norm)) < 0)
		return 0;
	for (size_t i = 0; i < plan->n_builtin; i++)
		if (strcmp(plan->builtin[i], norm) == 0)
			return 1;
	return 0;
}

static int parse_line(struct modplan *plan, char *line)
{
	char *cursor = line, *kw, *a, *b;
	long m;

	kw = next_word(&cursor);
	if (!kw || kw[0] == '#')
		return 0;
	a = next_word(&cursor);
	if (!a)
		return -EBADMSG;
	if (strcmp(kw, "builtin") == 0) {
		if (!valid_name(a) || next_word(&cursor))
			return -EBADMSG;
		normalize_in_place(a, false);
		plan->builtin[plan->n_builtin++] = a;
		return 0;
	}
	if (strcmp(kw, "module") == 0) {
		b = next_word(&cursor);
		if (!valid_name(a) || !b || !valid_path(b) || next_word(&cursor))
			return -EBADMSG;
		if (modplan_find_module(plan, a) >= 0)
			return -EBADMSG;
		normalize_in_place(a, false);
		plan->modules[plan->n_modules++] = (struct modplan_module){ .name = a, .path = b };
		return 0;
	}
	if (strcmp(kw, "alias") == 0) {
		b = next_word(&cursor);
		if (!valid_pattern(a) || !b || next_word(&cursor))
			return -EBADMSG;
		m = modplan_find_module(plan, b);
		if (m < 0)
			return -EBADMSG;
		normalize_in_place(a, true);
		plan->aliases[plan->n_aliases++] = (struct modplan_alias){
			.pattern = a,
			.module = (uint32_t)m,
			.literal = (uint32_t)strcspn(a, "*?[\\"),
		};
		return 0;
	}
	if (strcmp(kw, "load") == 0) {
		struct modplan_module *mod;
		size_t start = plan->n_order;

		m = modplan_find_module(plan, a);
		if (m < 0)
			return -EBADMSG;
		mod = &plan->modules[m];
		if (mod->order_len > 0)
			return -EBADMSG;
		for (char *w = next_word(&cursor); w; w = next_word(&cursor)) {
			bool optional = w[0] == '?';
			long d = modplan_find_module(plan, w + optional);

			if (d < 0 || (uint32_t)d >= MODPLAN_OPTIONAL)
				return -EBADMSG;
			plan->order[plan->n_order++] =
				(uint32_t)d | (optional ? MODPLAN_OPTIONAL : 0);
		}
		if (plan->n_order == start)
			return -EBADMSG;
		mod->order_start = (uint32_t)start;
		mod->order_len = (uint32_t)(plan->n_order - start);
		return 0;
	}
	return -EBADMSG;
}

int modplan_parse(struct modplan *plan, char *text, size_t len, unsigned *bad_line)
{
	size_t lines = 1, words = 1;
	unsigned line_no = 0;
	char *line, *next;

	memset(plan, 0, sizeof(*plan));
	plan->text = text;
	*bad_line = 0;
	if (len > MODPLAN_MAX_SIZE || memchr(text, '\0', len) || (len > 0 && text[len - 1] != '\n'))
		return -EBADMSG;
	/* Every table has at most one entry a line, the order one a word:
	 * allocated once, before the first line. */
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			lines++;
		else if (text[i] == ' ' || text[i] == '\t')
			words++;
	}
	words += lines;
	plan->modules = calloc(lines, sizeof(*plan->modules));
	plan->aliases = calloc(lines, sizeof(*plan->aliases));
	plan->builtin = calloc(lines, sizeof(*plan->builtin));
	plan->order = calloc(words, sizeof(*plan->order));
	if (!plan->modules || !plan->aliases || !plan->builtin || !plan->order)
		return -ENOMEM;

	if (len == 0)
		return 0;
	text[len - 1] = '\0';
	for (line = text; line; line = next) {
		int r;

		line_no++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r = parse_line(plan, line);
		if (r < 0) {
			*bad_line = line_no;
			return r;
		}
	}
	return 0;
}

void modplan_free(struct modplan *plan)
{
	free(plan->text);
	free(plan->modules);
	free(plan->aliases);
	free(plan->builtin);
	free(plan->order);
	memset(plan, 0, sizeof(*plan));
}

size_t modplan_lookup(const struct modplan *plan, const char *name,
		      int (*fn)(uint32_t module, void *data), void *data)
{
	char norm[PATTERN_MAX];
	long m = modplan_find_module(plan, name);
	size_t called = 0;
	long last = -1;

	if (m >= 0) {
		fn((uint32_t)m, data);
		return 1;
	}
	if (modplan_normalize(name, norm, sizeof(norm)) < 0)
		return 0;
	for (size_t i = 0; i < plan->n_aliases; i++) {
		const struct modplan_alias *a = &plan->aliases[i];

		/* Most patterns differ from the alias before their first
		 * wildcard ("pci:v00008086d..."): fnmatch only for the rest. */
		if ((long)a->module == last || strncmp(a->pattern, norm, a->literal) != 0 ||
		    fnmatch(a->pattern, norm, 0) != 0)
			continue;
		last = (long)a->module;
		called++;
		if (fn(a->module, data) != 0)
			break;
	}
	return called;
}
