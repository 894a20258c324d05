/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* A bootfs specification: "UUID=...", "LABEL=...", "PARTUUID=...",
 * "PARTLABEL=..." or an absolute device path. */

enum bootspec_kind {
	BOOTSPEC_NONE, /* empty: no separate boot filesystem */
	BOOTSPEC_UUID,
	BOOTSPEC_LABEL,
	BOOTSPEC_PARTUUID,
	BOOTSPEC_PARTLABEL,
	BOOTSPEC_PATH,
};

struct bootspec {
	enum bootspec_kind kind;
	const char *value; /* points into the parsed string */
};

/* Returns 0, or -EINVAL for an unknown tag, an empty value or a relative
 * path. Quotes around the value ("UUID=\"...\"") are not allowed: the
 * config and command line parsers have removed them already. */
int bootspec_parse(const char *spec, struct bootspec *out);

/* The libblkid tag name for the kind ("UUID", "LABEL", "PART_ENTRY_UUID",
 * "PART_ENTRY_NAME"), NULL for NONE and PATH. */
const char *bootspec_blkid_tag(enum bootspec_kind kind);
const char *bootspec_kind_name(enum bootspec_kind kind);

/* UUIDs compare case-insensitively (blkid reports lower case, users paste
 * upper case); labels compare exactly. */
int bootspec_value_matches(enum bootspec_kind kind, const char *want, const char *have);
