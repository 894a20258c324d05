/* SPDX-License-Identifier: MIT */
#include "common/bootspec.h"

#include <errno.h>
#include <strings.h>
#include <string.h>

static const struct {
	const char *prefix;
	enum bootspec_kind kind;
	const char *blkid_tag;
} tags[] = {
	/* PARTUUID before UUID: both end in "UUID=". */
	{ "PARTUUID=", BOOTSPEC_PARTUUID, "PART_ENTRY_UUID" },
	{ "PARTLABEL=", BOOTSPEC_PARTLABEL, "PART_ENTRY_NAME" },
	{ "UUID=", BOOTSPEC_UUID, "UUID" },
	{ "LABEL=", BOOTSPEC_LABEL, "LABEL" },
};

int bootspec_parse(const char *spec, struct bootspec *out)
{
	out->kind = BOOTSPEC_NONE;
	out->value = NULL;

	if (!spec || !spec[0])
		return 0;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		size_t len = strlen(tags[i].prefix);

		if (strncasecmp(spec, tags[i].prefix, len) != 0)
			continue;
		if (spec[len] == '\0' || spec[len] == '"')
			return -EINVAL;
		out->kind = tags[i].kind;
		out->value = spec + len;
		return 0;
	}

	if (spec[0] != '/')
		return -EINVAL;
	out->kind = BOOTSPEC_PATH;
	out->value = spec;
	return 0;
}

const char *bootspec_blkid_tag(enum bootspec_kind kind)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (tags[i].kind == kind)
			return tags[i].blkid_tag;
	return NULL;
}

const char *bootspec_kind_name(enum bootspec_kind kind)
{
	switch (kind) {
	case BOOTSPEC_NONE:
		return "none";
	case BOOTSPEC_UUID:
		return "UUID";
	case BOOTSPEC_LABEL:
		return "LABEL";
	case BOOTSPEC_PARTUUID:
		return "PARTUUID";
	case BOOTSPEC_PARTLABEL:
		return "PARTLABEL";
	case BOOTSPEC_PATH:
		return "path";
	}
	return "?";
}

int bootspec_value_matches(enum bootspec_kind kind, const char *want, const char *have)
{
	if (!want || !have)
		return 0;
	if (kind == BOOTSPEC_UUID || kind == BOOTSPEC_PARTUUID)
		return strcasecmp(want, have) == 0;
	return strcmp(want, have) == 0;
}
