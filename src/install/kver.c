/* SPDX-License-Identifier: MIT */
#include "install/kver.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define STR_(x) #x
#define STR(x)	STR_(x)

static const char *kver_problem(const char *kver)
{
	size_t len = strlen(kver);

	if (len == 0)
		return "empty";
	if (len > KVER_MAX)
		return "longer than " STR(KVER_MAX) " bytes";
	if (kver[0] == '-')
		return "starts with '-'";
	if (strcmp(kver, ".") == 0 || strcmp(kver, "..") == 0)
		return "a directory name";
	for (const unsigned char *p = (const unsigned char *)kver; *p; p++) {
		if (*p == '/')
			return "contains '/'";
		/* the C locale's blanks and control characters, DEL included */
		if (*p <= ' ' || *p == 0x7f)
			return "contains a blank or a control character";
	}
	return NULL;
}

int kver_check(const char *kver, const char **why)
{
	const char *problem = kver_problem(kver);

	if (why)
		*why = problem;
	return problem ? -EINVAL : 0;
}
