/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Running external tools: fork + exec of an argv array, never a shell
 * string. The tool is looked up in $PATH first so that a missing one is
 * reported with the Debian package that provides it. */

/* The Debian package that ships a tool, or NULL when unknown. */
const char *tool_package(const char *name);

/* Finds name in $PATH. Returns 0 with the full path in out, -ENOENT when
 * absent (nothing logged). */
int tool_find(const char *name, char *out, size_t size);

/* tool_find, logging "<why>: <name> not found in $PATH; install the
 * Debian package <pkg>" on failure. */
int tool_require(const char *name, const char *why);

/* This program's own path (/proc/self/exe) into out. 0 or a negative
 * errno (nothing logged). */
int self_path(char *out, size_t size);

/* When true, children's stderr passes through; otherwise it is kept and
 * shown (last lines) only when the tool fails. */
void exec_set_verbose(bool verbose);

/* Formats argv for display, shell-quoted where needed. */
void argv_format(const char *const argv[], char *out, size_t size);

struct child {
	pid_t pid;
	int errlog_fd; /* memfd with the child's stderr, -1 when passed through */
	char name[64];
};

/* Starts argv[0] (looked up in $PATH) with stdin from in_fd and stdout to
 * out_fd (-1: /dev/null). Returns 0 or a negative errno (logged). */
int child_spawn(const char *const argv[], int in_fd, int out_fd, struct child *c);

/* child_spawn with the environment envp instead of the installer's own. */
int child_spawn_env(const char *const argv[], const char *const envp[], int in_fd, int out_fd,
		    struct child *c);

/* A program of another tree (--root): run chrooted into dir, in a mount
 * namespace of its own (sysroot_enter), work (unless NULL) on its /tmp. */
struct exec_root {
	const char *dir;
	const char *work;
};

/* child_spawn_env for a program of the tree root: argv[0] is its path
 * inside the tree, not looked up in $PATH. NULL root: child_spawn_env. */
int child_spawn_root(const char *const argv[], const char *const envp[],
		     const struct exec_root *root, int in_fd, int out_fd, struct child *c);

/* Waits for the child. Returns 0 when it exited with status 0; otherwise
 * logs the exit status and the tail of its stderr and returns -EIO
 * (-ENOENT when it could not be executed). */
int child_wait(struct child *c);

/* Kills and reaps a child after an error elsewhere. */
void child_abort(struct child *c);

/* child_spawn + child_wait. */
int run_command(const char *const argv[], int in_fd, int out_fd);
