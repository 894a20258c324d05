/* SPDX-License-Identifier: MIT */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/path.h"

#define LOG_LINE_MAX 1024

static const char *program_name = "initoverlayfs";
static enum log_level max_level = LOG_LEVEL_INFO;
static enum log_target target = LOG_TARGET_STDERR;
/* /dev/kmsg is opened for each line: the kernel rate-limits writes per
 * open file (10 lines per 5 s), and a boot logs more than that at once. */
static char kmsg_path[PATH_MAX];
/* Kept for when the path is briefly gone (/dev moved into the new root). */
static int kmsg_fd = -1;

/* The kernel prints a kmsg line on the console when its level is below
 * console_loglevel (first field of /proc/sys/kernel/printk). */
static int console_loglevel = 7;

void log_set_program(const char *name)
{
	program_name = name;
}

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

static int read_console_loglevel(const char *root_dir)
{
	char path[PATH_MAX];
	char buf[64];
	int level;

	if (path_join(path, sizeof(path), root_dir, "/proc/sys/kernel/printk") < 0)
		return -ENAMETOOLONG;
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	if (sscanf(buf, "%d", &level) != 1)
		return -EINVAL;
	return level;
}

int log_open_kmsg(const char *root_dir)
{
	char path[PATH_MAX];
	int fd, level;

	if (path_join(path, sizeof(path), root_dir, "/dev/kmsg") < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	log_close();
	kmsg_fd = fd;
	memcpy(kmsg_path, path, sizeof(kmsg_path));
	target = LOG_TARGET_KMSG;
	level = read_console_loglevel(root_dir);
	if (level > 0)
		console_loglevel = level;
	return 0;
}

void log_close(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
	kmsg_path[0] = '\0';
	target = LOG_TARGET_STDERR;
}

static const char *level_tag(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		return "error: ";
	case LOG_LEVEL_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* One write(2) per line so that lines from different processes do not
 * interleave and /dev/kmsg records exactly one message. */
static void write_line(int fd, const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, line, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		line += n;
		len -= (size_t)n;
	}
}

/* Returns false when the line could not go to the kernel log. */
static bool write_kmsg(const char *line, size_t len)
{
	int fd = open(kmsg_path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (kmsg_fd < 0)
			return false;
		write_line(kmsg_fd, line, len);
		return true;
	}
	write_line(fd, line, len);
	close(fd);
	return true;
}

__attribute__((format(printf, 2, 0))) void log_msgv(enum log_level level, const char *fmt,
						    va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	int prefix, body;
	size_t len;

	if (level > max_level)
		return;

	/* "<N>" is the kmsg priority; it is skipped for stderr. */
	prefix = snprintf(line, sizeof(line), "<%d>%s: %s", (int)level, program_name,
			  level_tag(level));
	if (prefix < 0 || (size_t)prefix >= sizeof(line))
		goto out;
	body = vsnprintf(line + prefix, sizeof(line) - (size_t)prefix - 1, fmt, ap);
	if (body < 0)
		goto out;
	len = strnlen(line, sizeof(line) - 1);
	line[len++] = '\n';

	if (target == LOG_TARGET_KMSG && write_kmsg(line, len)) {
		if ((int)level >= console_loglevel && level <= LOG_LEVEL_WARNING) {
			const char *plain = strchr(line, '>') + 1;
			write_line(STDERR_FILENO, plain, len - (size_t)(plain - line));
		}
	} else {
		const char *plain = strchr(line, '>') + 1;
		write_line(STDERR_FILENO, plain, len - (size_t)(plain - line));
	}
out:
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_msgv(level, fmt, ap);
	va_end(ap);
}

/* The errors the boot program meets, with glibc's words for them: its
 * lines read the same whichever libc it is linked with (the static one is
 * musl's, whose strerror words some differently). */
static const struct errno_entry {
	int value;
	const char *name;
	const char *text;
} errno_table[] = {
	{ EPERM, "EPERM", "Operation not permitted" },
	{ ENOENT, "ENOENT", "No such file or directory" },
	{ EIO, "EIO", "Input/output error" },
	{ ENXIO, "ENXIO", "No such device or address" },
	{ E2BIG, "E2BIG", "Argument list too long" },
	{ ENOEXEC, "ENOEXEC", "Exec format error" },
	{ EBADF, "EBADF", "Bad file descriptor" },
	{ EAGAIN, "EAGAIN", "Resource temporarily unavailable" },
	{ ENOMEM, "ENOMEM", "Cannot allocate memory" },
	{ EACCES, "EACCES", "Permission denied" },
	{ EFAULT, "EFAULT", "Bad address" },
	{ ENOTBLK, "ENOTBLK", "Block device required" },
	{ EBUSY, "EBUSY", "Device or resource busy" },
	{ EEXIST, "EEXIST", "File exists" },
	{ ENODEV, "ENODEV", "No such device" },
	{ ENOTDIR, "ENOTDIR", "Not a directory" },
	{ EISDIR, "EISDIR", "Is a directory" },
	{ EINVAL, "EINVAL", "Invalid argument" },
	{ ENFILE, "ENFILE", "Too many open files in system" },
	{ EMFILE, "EMFILE", "Too many open files" },
	{ ENOTTY, "ENOTTY", "Inappropriate ioctl for device" },
	{ EFBIG, "EFBIG", "File too large" },
	{ ENOSPC, "ENOSPC", "No space left on device" },
	{ EROFS, "EROFS", "Read-only file system" },
	{ ERANGE, "ERANGE", "Numerical result out of range" },
	{ ENAMETOOLONG, "ENAMETOOLONG", "File name too long" },
	{ ENOSYS, "ENOSYS", "Function not implemented" },
	{ ENOTEMPTY, "ENOTEMPTY", "Directory not empty" },
	{ ELOOP, "ELOOP", "Too many levels of symbolic links" },
	{ ENODATA, "ENODATA", "No data available" },
	{ ETIMEDOUT, "ETIMEDOUT", "Connection timed out" },
	{ EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported" },
	{ EUCLEAN, "EUCLEAN", "Structure needs cleaning" },
	{ ENOMEDIUM, "ENOMEDIUM", "No medium found" },
	{ EBADMSG, "EBADMSG", "Bad message" },
	{ EKEYREJECTED, "EKEYREJECTED", "Key was rejected by service" },
	{ ECHILD, "ECHILD", "No child processes" },
	{ ESRCH, "ESRCH", "No such process" },
	{ EINTR, "EINTR", "Interrupted system call" },
	{ EXDEV, "EXDEV", "Invalid cross-device link" },
};

static const struct errno_entry *errno_entry(int errnum)
{
	for (size_t i = 0; i < sizeof(errno_table) / sizeof(errno_table[0]); i++)
		if (errno_table[i].value == errnum)
			return &errno_table[i];
	return NULL;
}

const char *errno_name(int errnum)
{
	const struct errno_entry *e = errno_entry(errnum);

	return e ? e->name : "E?";
}

const char *errno_text(int errnum)
{
	const struct errno_entry *e = errno_entry(errnum);

	return e ? e->text : strerror(errnum);
}

int log_step_error(const char *step, const char *path, int err)
{
	int errnum = err < 0 ? -err : err;

	if (path && path[0])
		log_error("%s: %s: %s (%s)", step, path, errno_text(errnum), errno_name(errnum));
	else
		log_error("%s: %s (%s)", step, errno_text(errnum), errno_name(errnum));
	return err < 0 ? err : -err;
}

int log_errno(int err, const char *fmt, ...)
{
	int errnum = err < 0 ? -err : err;
	char context[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	log_error("%s: %s (%s)", context, errno_text(errnum), errno_name(errnum));
	return err < 0 ? err : -err;
}

uint64_t now_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}
