/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the kernel command line tokenizer, cmdline_get() and
 * config_apply_cmdline(), plus bootspec_parse() on every value. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bootspec.h"
#include "common/cmdline.h"
#include "common/config.h"
#include "common/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_max_level((enum log_level)(LOG_LEVEL_ERR - 1));
	return 0;
}

static void check_param(const struct cmdline_param *p)
{
	struct bootspec spec;

	if (strnlen(p->key, sizeof(p->key)) >= sizeof(p->key) ||
	    strnlen(p->value, sizeof(p->value)) >= sizeof(p->value))
		abort();
	if (!p->has_value && p->value[0])
		abort();
	if (bootspec_parse(p->value, &spec) == 0 && spec.value &&
	    (!bootspec_value_matches(spec.kind, spec.value, spec.value) || spec.value < p->value ||
	     spec.value >= p->value + sizeof(p->value)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdline_param param;
	struct config cfg;
	struct config_error err;
	char *text = malloc(size + 1);
	const char *cursor, *end;
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	end = text + strlen(text);

	config_init(&cfg, "6.1.0-fuzz");
	r = config_apply_cmdline(&cfg, text, &err);
	if (r < 0 && err.message[0] == '\0')
		abort();
	if (cfg.timeout_sec > CONFIG_TIMEOUT_MAX_SEC)
		abort();

	/* Every call either ends or moves the cursor forward, within text. */
	cursor = text;
	for (;;) {
		const char *before = cursor;

		r = cmdline_next(&cursor, &param);
		if (cursor < before || cursor > end)
			abort();
		if (r == 0) {
			if (cursor != end)
				abort();
			break;
		}
		if (cursor == before || (r != 1 && r != -ENAMETOOLONG))
			abort();
		check_param(&param);
	}

	if (cmdline_get(text, "initoverlayfs.debug", &param) == 1)
		check_param(&param);
	if (cmdline_get(text, "root", &param) == 1)
		check_param(&param);
	free(text);
	return 0;
}
