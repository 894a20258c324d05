/* SPDX-License-Identifier: MIT */
#include "install/elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

struct elf_info {
	char interp[PATH_MAX];
	struct strv needed;
	struct strv runpath;
	uint16_t machine;
	unsigned char elf_class;
};

struct mapped {
	const uint8_t *data;
	size_t size;
};

static int map_file(const char *path, struct mapped *m)
{
	struct stat st;
	void *p;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf32_Ehdr)) {
		r = -ENOEXEC;
		goto out;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	m->data = p;
	m->size = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

/* A generic view of the program and dynamic headers of both classes. */
struct phdr {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static int get_phdr(const struct mapped *m, bool is64, size_t i, struct phdr *ph)
{
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)m->data;
		uint64_t off = eh->e_phoff + i * sizeof(Elf64_Phdr);
		Elf64_Phdr p;

		if (off + sizeof(p) > m->size)
			return -ENOEXEC;
		memcpy(&p, m->data + off, sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
	} else {
		const Elf32_Ehdr *eh = (const void *)m->data;
		uint64_t off = eh->e_phoff + i * sizeof(Elf32_Phdr);
		Elf32_Phdr p;

		if (off + sizeof(p) > m->size)
			return -ENOEXEC;
		memcpy(&p, m->data + off, sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
	}
	if (ph->offset > m->size || ph->filesz > m->size - ph->offset)
		return -ENOEXEC;
	return 0;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static int vaddr_to_offset(const struct mapped *m, bool is64, size_t phnum, uint64_t vaddr,
			   uint64_t *off)
{
	for (size_t i = 0; i < phnum; i++) {
		struct phdr ph;

		if (get_phdr(m, is64, i, &ph) < 0)
			return -ENOEXEC;
		if (ph.type == PT_LOAD && vaddr >= ph.vaddr && vaddr < ph.vaddr + ph.filesz) {
			*off = ph.offset + (vaddr - ph.vaddr);
			return 0;
		}
	}
	return -ENOEXEC;
}

static int read_dynamic(const struct mapped *m, bool is64, size_t phnum, const struct phdr *dyn,
			struct elf_info *info)
{
	size_t entsize = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
	uint64_t strtab = 0, stroff;
	bool have_strtab = false;
	int r;

	/* two passes: DT_STRTAB may come after DT_NEEDED */
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t off = dyn->offset; off + entsize <= dyn->offset + dyn->filesz;
		     off += entsize) {
			int64_t tag;
			uint64_t val;

			if (is64) {
				Elf64_Dyn d;

				memcpy(&d, m->data + off, sizeof(d));
				tag = d.d_tag;
				val = d.d_un.d_val;
			} else {
				Elf32_Dyn d;

				memcpy(&d, m->data + off, sizeof(d));
				tag = d.d_tag;
				val = d.d_un.d_val;
			}
			if (tag == DT_NULL)
				break;
			if (pass == 0) {
				if (tag == DT_STRTAB) {
					strtab = val;
					have_strtab = true;
				}
				continue;
			}
			if (tag != DT_NEEDED && tag != DT_RUNPATH && tag != DT_RPATH)
				continue;
			if (vaddr_to_offset(m, is64, phnum, strtab, &stroff) < 0 ||
			    stroff + val >= m->size)
				return -ENOEXEC;
			{
				const char *s = (const char *)m->data + stroff + val;
				size_t maxlen = m->size - (stroff + val);

				if (strnlen(s, maxlen) == maxlen)
					return -ENOEXEC;
				r = tag == DT_NEEDED ? strv_add(&info->needed, s)
						     : strv_add(&info->runpath, s);
				if (r < 0)
					return r;
			}
		}
		if (pass == 0 && !have_strtab)
			return 0;
	}
	return 0;
}

static int elf_read(const char *path, struct elf_info *info)
{
	struct mapped m = { 0 };
	const unsigned char *ident;
	size_t phnum;
	bool is64;
	int r;

	memset(info, 0, sizeof(*info));
	r = map_file(path, &m);
	if (r < 0)
		return r;
	ident = m.data;
	if (memcmp(ident, ELFMAG, SELFMAG) != 0 ||
	    (ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) ||
	    ident[EI_DATA] != ELFDATA2LSB) {
		r = -ENOEXEC;
		goto out;
	}
	is64 = ident[EI_CLASS] == ELFCLASS64;
	info->elf_class = ident[EI_CLASS];
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)m.data;

		if (m.size < sizeof(*eh)) {
			r = -ENOEXEC;
			goto out;
		}
		phnum = eh->e_phnum;
		info->machine = eh->e_machine;
	} else {
		const Elf32_Ehdr *eh = (const void *)m.data;

		phnum = eh->e_phnum;
		info->machine = eh->e_machine;
	}
	for (size_t i = 0; i < phnum; i++) {
		struct phdr ph;

		r = get_phdr(&m, is64, i, &ph);
		if (r < 0)
			goto out;
		if (ph.type == PT_INTERP) {
			size_t len = strnlen((const char *)m.data + ph.offset, ph.filesz);

			if (len == 0 || len >= sizeof(info->interp)) {
				r = -ENOEXEC;
				goto out;
			}
			memcpy(info->interp, m.data + ph.offset, len);
			info->interp[len] = '\0';
		} else if (ph.type == PT_DYNAMIC) {
			r = read_dynamic(&m, is64, phnum, &ph, info);
			if (r < 0)
				goto out;
		}
	}
out:
	munmap((void *)m.data, m.size);
	return r;
}

static void elf_info_free(struct elf_info *info)
{
	strv_free(&info->needed);
	strv_free(&info->runpath);
}

static const char *multiarch(uint16_t machine, unsigned char elf_class)
{
	switch (machine) {
	case EM_X86_64:
		return "x86_64-linux-gnu";
	case EM_386:
		return "i386-linux-gnu";
	case EM_AARCH64:
		return "aarch64-linux-gnu";
	case EM_ARM:
		return "arm-linux-gnueabihf";
	case EM_RISCV:
		return elf_class == ELFCLASS64 ? "riscv64-linux-gnu" : "riscv32-linux-gnu";
	case EM_PPC64:
		return "powerpc64le-linux-gnu";
	case EM_S390:
		return "s390x-linux-gnu";
	default:
		return "";
	}
}

/* Finds a library for a program of the given machine and class. */
static int find_library(const char *name, const struct elf_info *from, char *out, size_t size)
{
	const char *triplet = multiarch(from->machine, from->elf_class);
	char dirs[8][PATH_MAX];
	size_t nd = 0;

	for (size_t i = 0; i < from->runpath.n; i++) {
		char *copy = strdup(from->runpath.v[i]), *save = NULL;

		if (!copy)
			return -ENOMEM;
		for (char *d = strtok_r(copy, ":", &save); d && nd < 4;
		     d = strtok_r(NULL, ":", &save))
			if (d[0] == '/')
				snprintf(dirs[nd++], PATH_MAX, "%s", d);
		free(copy);
	}
	if (*triplet) {
		snprintf(dirs[nd++], PATH_MAX, "/lib/%s", triplet);
		snprintf(dirs[nd++], PATH_MAX, "/usr/lib/%s", triplet);
	}
	if (from->elf_class == ELFCLASS64) {
		snprintf(dirs[nd++], PATH_MAX, "/lib64");
		snprintf(dirs[nd++], PATH_MAX, "/usr/lib64");
	}
	if (nd <= 6) {
		snprintf(dirs[nd++], PATH_MAX, "/lib");
		snprintf(dirs[nd++], PATH_MAX, "/usr/lib");
	}

	for (size_t i = 0; i < nd; i++) {
		struct elf_info lib;

		if (path_join3(out, size, "", dirs[i], name) < 0)
			continue;
		if (access(out, R_OK) < 0)
			continue;
		/* skip a library of another architecture */
		if (elf_read(out, &lib) < 0)
			continue;
		elf_info_free(&lib);
		if (lib.machine == from->machine && lib.elf_class == from->elf_class)
			return 0;
	}
	return -ENOENT;
}

static int collect(const char *path, struct strv *deps, char *missing, size_t missing_size,
		   unsigned depth)
{
	struct elf_info info;
	int r;

	if (depth > 32)
		return -ELOOP;
	r = elf_read(path, &info);
	if (r < 0)
		return r;
	if (info.interp[0] && !strv_contains(deps, info.interp)) {
		if (access(info.interp, R_OK) < 0) {
			snprintf(missing, missing_size, "%s", info.interp);
			r = -ENOENT;
			goto out;
		}
		r = strv_add(deps, info.interp);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < info.needed.n; i++) {
		char lib[PATH_MAX];
		bool known = false;

		/* already found under another directory? */
		for (size_t j = 0; j < deps->n && !known; j++) {
			const char *slash = strrchr(deps->v[j], '/');

			known = slash && strcmp(slash + 1, info.needed.v[i]) == 0;
		}
		if (known)
			continue;
		r = find_library(info.needed.v[i], &info, lib, sizeof(lib));
		if (r < 0) {
			snprintf(missing, missing_size, "%s", info.needed.v[i]);
			goto out;
		}
		r = strv_add(deps, lib);
		if (r == 0)
			r = collect(lib, deps, missing, missing_size, depth + 1);
		if (r < 0)
			goto out;
	}
out:
	elf_info_free(&info);
	return r;
}

int elf_collect_deps(const char *program, struct strv *deps, char *missing, size_t missing_size)
{
	if (missing_size)
		missing[0] = '\0';
	return collect(program, deps, missing, missing_size, 0);
}
