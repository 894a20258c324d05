/* SPDX-License-Identifier: MIT */
#include "install/elfdeps.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "install/exec.h"
#include "install/fsutil.h"
#include "install/sysroot.h"
#include "common/path.h"

int strv_add(struct strv *s, const char *str)
{
	if (s->n + 1 >= s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strdup(str);
	if (!s->v[s->n])
		return -ENOMEM;
	s->n++;
	s->v[s->n] = NULL;
	return 0;
}

int strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return 1;
	return 0;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* A field of an ELF structure, in the file's byte order. */
static uint64_t elf_field(const void *p, size_t size, bool msb)
{
	const unsigned char *b = p;
	uint64_t v = 0;

	for (size_t i = 0; i < size; i++)
		v = v << 8 | b[msb ? i : size - 1 - i];
	return v;
}

#define FIELD(s, f) elf_field(&(s).f, sizeof((s).f), msb)

int elf_interp(const char *path, char *out, size_t size)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf32_Ehdr e32;
		Elf64_Ehdr e64;
	} eh;
	uint64_t phoff, phentsize, phnum;
	size_t phsize;
	bool is64, msb;
	ssize_t n;
	int fd, r = -ENOEXEC;

	if (size)
		out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &eh, sizeof(eh), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((size_t)n < sizeof(eh.e32) || memcmp(eh.ident, ELFMAG, SELFMAG) != 0)
		goto out;
	is64 = eh.ident[EI_CLASS] == ELFCLASS64;
	msb = eh.ident[EI_DATA] == ELFDATA2MSB;
	if ((!is64 && eh.ident[EI_CLASS] != ELFCLASS32) ||
	    (!msb && eh.ident[EI_DATA] != ELFDATA2LSB) || (is64 && (size_t)n < sizeof(eh.e64)))
		goto out;
	phoff = is64 ? FIELD(eh.e64, e_phoff) : FIELD(eh.e32, e_phoff);
	phentsize = is64 ? FIELD(eh.e64, e_phentsize) : FIELD(eh.e32, e_phentsize);
	phnum = is64 ? FIELD(eh.e64, e_phnum) : FIELD(eh.e32, e_phnum);
	phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (phnum && (phentsize < phsize || phoff > (uint64_t)INT64_MAX - phnum * phentsize))
		goto out;

	for (uint64_t i = 0; i < phnum; i++) {
		union {
			Elf32_Phdr p32;
			Elf64_Phdr p64;
		} ph;
		uint64_t offset, filesz;

		n = pread(fd, &ph, phsize, (off_t)(phoff + i * phentsize));
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if ((size_t)n < phsize)
			goto out;
		if ((is64 ? FIELD(ph.p64, p_type) : FIELD(ph.p32, p_type)) != PT_INTERP)
			continue;
		offset = is64 ? FIELD(ph.p64, p_offset) : FIELD(ph.p32, p_offset);
		filesz = is64 ? FIELD(ph.p64, p_filesz) : FIELD(ph.p32, p_filesz);
		/* the path and its NUL */
		if (filesz < 2 || filesz > size || offset > (uint64_t)INT64_MAX)
			goto out;
		n = pread(fd, out, (size_t)filesz, (off_t)offset);
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if ((uint64_t)n != filesz || out[0] != '/' ||
		    strnlen(out, (size_t)filesz) == filesz)
			goto out;
		break;
	}
	r = 0;
out:
	if (r < 0 && size)
		out[0] = '\0';
	close(fd);
	return r;
}

static bool is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* Where the " (0xADDR)" that ends s[0, len) starts, or NULL. */
static const char *address_start(const char *s, size_t len)
{
	const char *end = s + len, *p = end - 1;

	if (len < 5 || *p != ')')
		return NULL;
	while (p > s && isxdigit((unsigned char)p[-1]))
		p--;
	if (p == end - 1 || p - s < 4 || memcmp(p - 4, " (0x", 4) != 0)
		return NULL;
	return p - 4;
}

static int parse_line(const char *line, size_t len, struct strv *deps, char *missing,
		      size_t missing_size)
{
	const char *end = line + len, *arrow, *obj, *addr;
	char path[PATH_MAX];

	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	len = (size_t)(end - line);
	if (len == 0 || is(line, len, "statically linked"))
		return 0;
	arrow = memmem(line, len, " => ", 4);
	obj = arrow ? arrow + 4 : line;
	if (arrow && is(obj, (size_t)(end - obj), "not found")) {
		if (missing_size && !missing[0])
			snprintf(missing, missing_size, "%.*s", (int)(arrow - line), line);
		return -ENOENT;
	}
	addr = address_start(obj, (size_t)(end - obj));
	if (!addr)
		return -EBADMSG;
	if (!arrow && obj[0] != '/')
		return 0; /* the vDSO */
	if (obj[0] != '/')
		return -EBADMSG;
	if ((size_t)(addr - obj) >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, obj, (size_t)(addr - obj));
	path[addr - obj] = '\0';
	if (strv_contains(deps, path))
		return 0;
	return strv_add(deps, path);
}

int elf_parse_list(const char *text, struct strv *deps, char *missing, size_t missing_size)
{
	int r = 0;

	if (missing_size)
		missing[0] = '\0';
	for (const char *line = text; *line;) {
		const char *nl = strchrnul(line, '\n');
		int e = parse_line(line, (size_t)(nl - line), deps, missing, missing_size);

		if (e == -ENOENT)
			r = e;
		else if (e < 0)
			return e;
		line = *nl ? nl + 1 : nl;
	}
	return r;
}

/* Runs the loader in trace mode (chrooted into root, unless NULL); its
 * output in a new string. */
static int loader_list(const char *root, const char *interp, const char *program, char **text)
{
	static const char *const envp[] = { "LD_TRACE_LOADED_OBJECTS=1", NULL };
	const char *argv[] = { interp, program, NULL };
	const struct exec_root in = { .dir = root, .work = NULL };
	struct child c;
	int fd, r;

	fd = memfd_create("loader-list", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = child_spawn_root(argv, envp, root ? &in : NULL, -1, fd, &c);
	if (r == 0)
		r = child_wait(&c);
	if (r == 0)
		r = read_fd_alloc(fd, text, NULL);
	close(fd);
	return r;
}

int elf_collect_deps(const char *root, const char *program, struct strv *deps, char *missing,
		     size_t missing_size)
{
	char interp[PATH_MAX], path[PATH_MAX], host[PATH_MAX];
	struct strv found = { 0 };
	char *text = NULL;
	int r;

	if (missing_size)
		missing[0] = '\0';
	/* another tree's files as the tree sees them, found beneath it */
	r = root ? sysroot_resolve(root, program, host, sizeof(host))
		 : str_copy(host, sizeof(host), program);
	if (r < 0)
		return r;
	r = elf_interp(host, interp, sizeof(interp));
	if (r < 0 || !interp[0])
		return r;
	r = root ? sysroot_resolve(root, interp, path, sizeof(path))
		 : str_copy(path, sizeof(path), interp);
	if (r == 0 && access(path, X_OK) < 0)
		r = -errno;
	if (r < 0) {
		if (r == -ENOENT)
			snprintf(missing, missing_size, "%s", interp);
		return r;
	}
	/* the loader would search a name without a slash like a library's,
	 * and take one that starts with "-" for an option */
	r = fmt_path(path, sizeof(path), "%s%s", program[0] == '/' ? "" : "./", program);
	if (r < 0)
		return r;
	r = loader_list(root, interp, path, &text);
	if (r < 0)
		return r;
	r = elf_parse_list(text, &found, missing, missing_size);
	/* The loader lists itself under the program's PT_INTERP: a list
	 * without it came from a PT_INTERP that is no loader. */
	if (r == 0 && !strv_contains(&found, interp))
		r = -ENOEXEC;
	for (size_t i = 0; i < found.n && r == 0; i++)
		if (!strv_contains(deps, found.v[i]))
			r = strv_add(deps, found.v[i]);
	strv_free(&found);
	free(text);
	return r;
}
