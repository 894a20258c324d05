/* SPDX-License-Identifier: MIT */
#include "install/exec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "install/sysroot.h"
#include "common/log.h"
#include "common/path.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ERRLOG_TAIL  2048

static bool verbose;

void exec_set_verbose(bool v)
{
	verbose = v;
}

const char *tool_package(const char *name)
{
	static const struct {
		const char *tool;
		const char *package;
	} table[] = {
		{ "mkfs.erofs", "erofs-utils" },
		{ "dracut", "dracut-core" },
		{ "mkinitramfs", "initramfs-tools" },
		{ "depmod", "kmod" },
		{ "zstd", "zstd" },
		{ "xz", "xz-utils" },
		{ "lz4", "lz4" },
		{ "gzip", "gzip" },
		{ "bzip2", "bzip2" },
		{ "lzop", "lzop" },
		{ "veritysetup", "cryptsetup-bin" },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].tool, name) == 0)
			return table[i].package;
	return NULL;
}

int self_path(char *out, size_t size)
{
	return link_target("/proc/self/exe", out, size);
}

int tool_find(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0)
			return -errno;
		return str_copy(out, size, name);
	}
	if (!path || !*path)
		path = DEFAULT_PATH;
	for (p = path; *p;) {
		const char *end = strchrnul(p, ':');
		char dir[PATH_MAX];
		size_t len = (size_t)(end - p);
		struct stat st;

		if (len > 0 && len < sizeof(dir)) {
			memcpy(dir, p, len);
			dir[len] = '\0';
			if (path_join3(out, size, "", dir, name) == 0 && stat(out, &st) == 0 &&
			    S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		p = *end ? end + 1 : end;
	}
	if (size)
		out[0] = '\0';
	return -ENOENT;
}

int tool_require(const char *name, const char *why)
{
	char path[PATH_MAX];
	const char *pkg;
	int r;

	r = tool_find(name, path, sizeof(path));
	if (r == 0)
		return 0;
	pkg = tool_package(name);
	if (pkg)
		log_error("%s: %s not found in $PATH; install the Debian package %s", why, name,
			  pkg);
	else
		log_error("%s: %s not found in $PATH", why, name);
	return -ENOENT;
}

static bool needs_quotes(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr("-_./=,:+@%", *s)))
			return true;
	return false;
}

void argv_format(const char *const argv[], char *out, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; argv[i]; i++) {
		int n = snprintf(out + len, size - len, needs_quotes(argv[i]) ? "%s'%s'" : "%s%s",
				 i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
	}
}

/* In the child: nothing here may log through stdio buffers shared with the
 * parent; errors go back through err_fd. */
struct exec_failure {
	int e;
	char what[64];
};

static void child_exec(const char *path, const char *const argv[], const char *const envp[],
		       const struct exec_root *root, int in_fd, int out_fd, int err_fd,
		       int errlog_fd, pid_t parent)
{
	struct exec_failure f = { 0 };
	const char *what = "exec";

	/* Die with the installer: a killed installer must not leave a
	 * generator writing into /boot. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* the installer ignores SIGPIPE to see EPIPE; tools get the default */
	signal(SIGPIPE, SIG_DFL);
	if (out_fd < 0) {
		out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out_fd < 0)
			goto fail;
	}
	if (in_fd < 0) {
		in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in_fd < 0)
			goto fail;
	}
	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
		goto fail;
	if (errlog_fd >= 0 && dup2(errlog_fd, STDERR_FILENO) < 0)
		goto fail;
	if (root) {
		int e = sysroot_enter(root->dir, root->work, &what);

		if (e < 0) {
			errno = -e;
			goto fail;
		}
		what = "exec";
	}
	if (envp)
		execve(path, (char *const *)argv, (char *const *)envp);
	else
		execv(path, (char *const *)argv);
fail:
	f.e = errno;
	snprintf(f.what, sizeof(f.what), "%s", what);
	if (write(err_fd, &f, sizeof(f)) < 0) {
		/* nothing left to report it with */
	}
	_exit(127);
}

int child_spawn_root(const char *const argv[], const char *const envp[],
		     const struct exec_root *root, int in_fd, int out_fd, struct child *c)
{
	char path[PATH_MAX];
	struct exec_failure f;
	int status_pipe[2];
	pid_t parent = getpid();
	ssize_t n;
	int r;

	c->pid = -1;
	c->errlog_fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", argv[0]);

	/* a tree's program is found in the tree, by the caller */
	r = root ? str_copy(path, sizeof(path), argv[0]) : tool_find(argv[0], path, sizeof(path));
	if (r < 0)
		return root ? log_step_error("run", argv[0], r) : tool_require(argv[0], "run");
	if (!verbose) {
		c->errlog_fd = memfd_create("stderr", MFD_CLOEXEC);
		if (c->errlog_fd < 0)
			return log_step_error("memfd_create", argv[0], -errno);
	}
	if (pipe2(status_pipe, O_CLOEXEC) < 0) {
		r = log_step_error("pipe", argv[0], -errno);
		goto fail;
	}

	/* Flush so the child does not inherit buffered output. */
	fflush(stdout);
	fflush(stderr);
	c->pid = fork();
	if (c->pid < 0) {
		r = log_step_error("fork", argv[0], -errno);
		close(status_pipe[0]);
		close(status_pipe[1]);
		goto fail;
	}
	if (c->pid == 0)
		child_exec(path, argv, envp, root, in_fd, out_fd, status_pipe[1], c->errlog_fd,
			   parent);

	close(status_pipe[1]);
	do
		n = read(status_pipe[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(status_pipe[0]);
	if (n == (ssize_t)sizeof(f)) {
		char where[PATH_MAX + 16];

		/* exec (or the chroot before it) failed: reap the child and
		 * report why */
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = -1;
		f.what[sizeof(f.what) - 1] = '\0';
		if (root)
			snprintf(where, sizeof(where), "%s (for %s)", root->dir, path);
		r = log_step_error(f.what, root ? where : path, -f.e);
		goto fail;
	}
	return 0;
fail:
	if (c->errlog_fd >= 0)
		close(c->errlog_fd);
	c->errlog_fd = -1;
	return r;
}

int child_spawn_env(const char *const argv[], const char *const envp[], int in_fd, int out_fd,
		    struct child *c)
{
	return child_spawn_root(argv, envp, NULL, in_fd, out_fd, c);
}

int child_spawn(const char *const argv[], int in_fd, int out_fd, struct child *c)
{
	return child_spawn_env(argv, NULL, in_fd, out_fd, c);
}

static void show_errlog(struct child *c)
{
	char buf[ERRLOG_TAIL + 1];
	off_t size;
	ssize_t n;
	char *line, *save = NULL;

	if (c->errlog_fd < 0)
		return;
	size = lseek(c->errlog_fd, 0, SEEK_END);
	if (size <= 0)
		return;
	n = pread(c->errlog_fd, buf, ERRLOG_TAIL, size > ERRLOG_TAIL ? size - ERRLOG_TAIL : 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	line = size > ERRLOG_TAIL ? strchr(buf, '\n') : buf;
	if (!line)
		return;
	if (line != buf)
		line++;
	for (line = strtok_r(line, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_error("  %s: %s", c->name, line);
}

int child_wait(struct child *c)
{
	int status, r = 0;

	if (c->pid <= 0)
		return -ECHILD;
	while (waitpid(c->pid, &status, 0) < 0) {
		if (errno != EINTR) {
			r = log_step_error("waitpid", c->name, -errno);
			goto out;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		goto out;
	if (WIFEXITED(status))
		log_error("%s failed with exit status %d", c->name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_error("%s was killed by signal %d (%s)", c->name, WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
	show_errlog(c);
	r = -EIO;
out:
	c->pid = -1;
	if (c->errlog_fd >= 0)
		close(c->errlog_fd);
	c->errlog_fd = -1;
	return r;
}

void child_abort(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = -1;
	if (c->errlog_fd >= 0)
		close(c->errlog_fd);
	c->errlog_fd = -1;
}

int run_command(const char *const argv[], int in_fd, int out_fd)
{
	struct child c;
	char line[4096];
	int r;

	argv_format(argv, line, sizeof(line));
	log_info("running: %s", line);
	r = child_spawn(argv, in_fd, out_fd, &c);
	if (r < 0)
		return r;
	return child_wait(&c);
}
