/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The shared objects a dynamically linked ELF program needs at run time,
 * as the target's own dynamic loader resolves them (ld.so.cache and
 * ld.so.conf, DT_RUNPATH and DT_RPATH with $ORIGIN, its own default
 * directories). The loader named by the program's PT_INTERP is run the
 * way ldd runs it, "LD_TRACE_LOADED_OBJECTS=1 INTERP PROGRAM" with that
 * one variable as its whole environment (no LD_LIBRARY_PATH or
 * LD_PRELOAD of the installer's): it loads the libraries, prints where it
 * found them and exits before any code of the program or the libraries
 * runs. The loader itself is trusted, as ldd trusts it.
 *
 * glibc's "ld.so --list" is not used: it stops at the first missing
 * library with a message on stderr, where the trace mode prints
 * "NAME => not found" and goes on. */

struct strv {
	char **v;
	size_t n, cap;
};

int strv_add(struct strv *s, const char *str);
int strv_contains(const struct strv *s, const char *str);
void strv_free(struct strv *s);

/* Reads the PT_INTERP of the ELF file at path (either class, either byte
 * order). Returns 0 with the interpreter's path in out, 0 with out ""
 * for a program without one (statically linked), -ENOEXEC for a file
 * that is not ELF or whose PT_INTERP is not an absolute path. */
int elf_interp(const char *path, char *out, size_t size);

/* Parses the loader's list, one object a line:
 *   NAME => PATH (0xADDR)     a library, found at PATH
 *   NAME => not found         a library that is missing
 *   PATH (0xADDR)             the loader, or a library needed by path
 *   NAME (0xADDR)             the vDSO (linux-vdso.so.1): no file, skipped
 *   statically linked         no libraries
 * Appends each PATH to deps unless it is there. Returns 0, -ENOENT when
 * a library is not found (*missing names the first), -EBADMSG for a line
 * of no known form or a relative PATH. */
int elf_parse_list(const char *text, struct strv *deps, char *missing, size_t missing_size);

/* Appends to deps the interpreter at its PT_INTERP path and every library
 * at the path the loader found it under (symlinks not resolved), each
 * once. A static program adds nothing.
 *
 * root is the tree the program belongs to, NULL for this system. For
 * another tree, program is its path in the tree, the tree's own loader
 * runs chrooted into it (as root: chroot(2)), and the paths added are
 * as the tree sees them (sysroot_resolve gives them on the host). The
 * tree's loader is trusted as ldd trusts it: it is the one the system
 * will run at every boot.
 *
 * Returns 0, -ENOEXEC for a file that is not an ELF program or whose
 * PT_INTERP is no loader (its list does not name it), -ENOENT when
 * the interpreter or a library is missing (*missing names it), -EIO when
 * the loader failed (the runner logged its exit status and stderr), or
 * elf_parse_list's errors. */
int elf_collect_deps(const char *root, const char *program, struct strv *deps, char *missing,
		     size_t missing_size);
