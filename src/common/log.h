/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdint.h>

/* Logging for both the boot program and the host tools.
 *
 * Every line starts with "initoverlayfs: " so that it can be found in the
 * kernel log among everything else. At boot (init mode) the lines go to
 * /dev/kmsg; everywhere else they go to stderr. */

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_target {
	LOG_TARGET_STDERR,
	/* /dev/kmsg, and errors also on stderr when the kernel would not
	 * print them on the console itself. */
	LOG_TARGET_KMSG,
};

void log_set_program(const char *name);
void log_set_max_level(enum log_level level);
enum log_level log_get_max_level(void);
/* Switches to /dev/kmsg under root_dir ("" or NULL for /). Returns 0 or a
 * negative errno; on failure the target stays stderr. */
int log_open_kmsg(const char *root_dir);
void log_close(void);

__attribute__((format(printf, 2, 3))) void log_msg(enum log_level level, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void log_msgv(enum log_level level, const char *fmt,
						    va_list ap);

#define log_error(...)	 log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	 log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* The one line a failed step leaves behind:
 *   "initoverlayfs: error: <step>: <path>: <strerror> (<ERRNO NAME>)"
 * err is a negative errno. Returns err so callers can write
 * "return log_step_error(...)". */
int log_step_error(const char *step, const char *path, int err);

/* The same line for a step whose context is more than a path:
 *   "initoverlayfs: error: <fmt ...>: <strerror> (<ERRNO NAME>)"
 * Returns err (a negative errno). */
__attribute__((format(printf, 2, 3))) int log_errno(int err, const char *fmt, ...);

/* Symbolic name of an errno value ("ENOENT"), or "E?" when unknown. */
const char *errno_name(int errnum);

/* What the error means, as glibc's strerror words it, for the errors of
 * errno_name's table (the same text under musl); strerror's otherwise. */
const char *errno_text(int errnum);

/* Microseconds on CLOCK_MONOTONIC, the clock the kernel log uses. */
uint64_t now_usec(void);
