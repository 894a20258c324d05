/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the config file parser and the config text writer.
 *
 * Every input is parsed as a config text; whatever was set is written back
 * with config_format() and parsed again, and must read back to the same
 * values (IOFS_FUZZ_ROUNDTRIP=0 in the environment turns that off). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool check_roundtrip;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *env = getenv("IOFS_FUZZ_ROUNDTRIP");

	/* Unknown keys warn through the log; writing that out is slow. */
	log_set_max_level((enum log_level)(LOG_LEVEL_ERR - 1));
	check_roundtrip = !(env && strcmp(env, "0") == 0);
	return 0;
}

#define FIELD_OK(f) (strnlen((f), sizeof(f)) < sizeof(f))

static void check_terminated(const struct config *cfg)
{
	if (!FIELD_OK(cfg->bootfs) || !FIELD_OK(cfg->bootfs_hint) || !FIELD_OK(cfg->bootfstype) ||
	    !FIELD_OK(cfg->fs) || !FIELD_OK(cfg->fstype) || !FIELD_OK(cfg->init) ||
	    !FIELD_OK(cfg->modules) || !FIELD_OK(cfg->compression))
		abort();
	if (cfg->timeout_sec > CONFIG_TIMEOUT_MAX_SEC)
		abort();
}

static bool same(const struct config *a, const struct config *b)
{
	return strcmp(a->bootfs, b->bootfs) == 0 && strcmp(a->bootfs_hint, b->bootfs_hint) == 0 &&
	       strcmp(a->bootfstype, b->bootfstype) == 0 && strcmp(a->fs, b->fs) == 0 &&
	       strcmp(a->fstype, b->fstype) == 0 && strcmp(a->init, b->init) == 0 &&
	       a->timeout_sec == b->timeout_sec && strcmp(a->modules, b->modules) == 0 &&
	       a->image_mount == b->image_mount && a->debug == b->debug &&
	       strcmp(a->compression, b->compression) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char formatted[16 * 1024];
	struct config cfg, again;
	struct config_error err;
	char *text = malloc(size + 1);
	unsigned lines = 1;
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size && text[i]; i++)
		lines += text[i] == '\n';

	config_init(&cfg, "6.1.0-fuzz");
	r = config_parse_text(&cfg, text, "fuzz.conf", &err);
	free(text);
	check_terminated(&cfg);
	if (!FIELD_OK(err.origin) || !FIELD_OK(err.message) || err.line > lines)
		abort();
	if (r < 0 && (err.line == 0 || err.message[0] == '\0'))
		abort();

	if (config_format(&cfg, formatted, sizeof(formatted)) != 0)
		abort();
	config_init(&again, "other");
	if (config_parse_text(&again, formatted, "formatted", &err) == 0 && check_roundtrip &&
	    r == 0 && !same(&cfg, &again)) {
		fprintf(stderr, "round trip differs:\n%s", formatted);
		abort();
	}
	return 0;
}
