/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The shared objects a dynamically linked ELF program needs at run time,
 * read from the ELF itself (PT_INTERP, then DT_NEEDED recursively), so
 * no ldd and no execution of the program. Libraries are searched in
 * DT_RUNPATH/DT_RPATH, then the multiarch and standard directories. */

struct strv {
	char **v;
	size_t n, cap;
};

int strv_add(struct strv *s, const char *str);
int strv_contains(const struct strv *s, const char *str);
void strv_free(struct strv *s);

/* Appends to deps the host paths of the interpreter and every library
 * (as found, symlinks not resolved), each once. A static program adds
 * nothing. Returns 0, -ENOEXEC for a file that is not an ELF program of
 * a known class, -ENOENT when a library is not found (*missing names it). */
int elf_collect_deps(const char *program, struct strv *deps, char *missing, size_t missing_size);
