# initoverlayfs — top-level build.
#
#   make                 build everything into build/
#   make check           install test dependencies, run every test tier
#   make install DESTDIR=... PREFIX=/usr
#
# Parts of the tree add their own rules in mk/*.mk; each appends to
# CHECK_TARGETS the test tiers it owns so that `make check` runs them all.

VERSION := 0.1.0

CC ?= cc
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
PKG_CONFIG ?= pkg-config
# the init-mode boot program (initoverlayfs-init) and the dracut wrapper
PKGLIBDIR ?= $(PREFIX)/lib/initoverlayfs

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wundef -Wvla -Wwrite-strings \
	-Wno-unused-parameter
CFLAGS ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE -DIOFS_VERSION='"$(VERSION)"' -Isrc $(CPPFLAGS)
CFLAGS_ALL := -std=gnu11 $(WARNINGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(CFLAGS)

BLKID_CFLAGS := $(shell $(PKG_CONFIG) --cflags blkid 2>/dev/null)
BLKID_LIBS := $(shell $(PKG_CONFIG) --libs blkid 2>/dev/null || echo -lblkid)
KMOD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libkmod 2>/dev/null)
KMOD_LIBS := $(shell $(PKG_CONFIG) --libs libkmod 2>/dev/null || echo -lkmod)
LIB_CFLAGS := $(BLKID_CFLAGS) $(KMOD_CFLAGS)

COMMON_SRC := $(sort $(wildcard src/common/*.c))
BOOT_SRC := $(sort $(wildcard src/boot/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
asan_obj = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))

SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

CHECK_TARGETS :=
ALL_TARGETS := $(BUILD)/initoverlayfs
INSTALL_TARGETS := install-boot

.PHONY: all
all: build-all

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -O1 $(SAN_FLAGS) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

# libkmod is not linked: the boot program opens it (dlopen) only where there
# is no module plan (src/boot/kmodlib.h); its headers are needed to build.
$(BUILD)/initoverlayfs: $(call obj,$(BOOT_SRC) $(COMMON_SRC))
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(BLKID_LIBS)

# The init-mode boot program, static: a mini-initramfs carries one file
# instead of it, libblkid, libc and ld.so. It never opens libkmod
# (IOFS_NO_DLOPEN): it loads from the module plan initoverlayfs-install
# writes; only a mini-initramfs without one (systemd mode, made by dracut)
# needs libkmod, and that one carries the dynamic program. Stripped, its
# debug info beside it (.debug) with a debug link. Its libc, by what is
# there (STATIC_LIBC=musl|glibc|none chooses):
#   musl   musl-gcc and libblkid built against musl from Debian's
#          util-linux source (scripts/build-musl-blkid.sh, run by make
#          deps, cached in MUSL_SYSROOT): 0.17 MB after zstd. Static, not
#          static-pie: Debian's musl-gcc specs link -static-pie against
#          the dynamic loader.
#   glibc  libblkid.a of libblkid-dev: 0.47 MB after zstd (glibc's static
#          libc is large).
#   none   the installer takes the dynamic program.
MUSL_CC ?= musl-gcc
MUSL_SYSROOT ?= /var/cache/initoverlayfs-build/musl/current
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
STATIC_LIBC ?= $(if $(and $(shell command -v $(MUSL_CC) 2>/dev/null),$(wildcard \
	$(MUSL_SYSROOT)/lib/libblkid.a)),musl,$(if $(wildcard \
	/usr/lib/$(MULTIARCH)/libblkid.a),glibc,none))

musl_obj = $(patsubst %.c,$(BUILD)/musl/%.o,$(1))
STATIC_BOOT_OBJS_musl := $(call musl_obj,$(BOOT_SRC) $(COMMON_SRC))
STATIC_BOOT_LIBS_musl := $(MUSL_SYSROOT)/lib/libblkid.a
STATIC_BOOT_LINK_musl := $(MUSL_CC) $(CFLAGS_ALL) $(LDFLAGS) -static
STATIC_BOOT_OBJS_glibc := $(filter-out %/kmodlib.o,$(call obj,$(BOOT_SRC) $(COMMON_SRC))) \
	$(BUILD)/static/src/boot/kmodlib.o
STATIC_BOOT_LIBS_glibc = $$($(PKG_CONFIG) --static --libs blkid)
STATIC_BOOT_LINK_glibc := $(CC) $(CFLAGS_ALL) $(LDFLAGS) -static-pie

STATIC_BOOT_PROGRAM := $(if $(filter musl glibc,$(STATIC_LIBC)),$(BUILD)/initoverlayfs-init)
ALL_TARGETS += $(STATIC_BOOT_PROGRAM)
# what init mode's mini-initramfs gets by default: the tiers that boot it
# (vm, vm-verity, sizes, bench, demo) test that one
INIT_BOOT_PROGRAM := $(or $(STATIC_BOOT_PROGRAM),$(BUILD)/initoverlayfs)

$(BUILD)/musl/%.o: %.c
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(CPPFLAGS_ALL) -DIOFS_NO_DLOPEN -isystem $(MUSL_SYSROOT)/include \
		-isystem $(MUSL_SYSROOT)/include/blkid $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/static/src/boot/kmodlib.o: src/boot/kmodlib.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) -DIOFS_NO_DLOPEN $(CFLAGS_ALL) $(LIB_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/initoverlayfs-init: $(STATIC_BOOT_OBJS_$(STATIC_LIBC)) $(filter %.a,$(STATIC_BOOT_LIBS_$(STATIC_LIBC)))
	$(STATIC_BOOT_LINK_$(STATIC_LIBC)) -o $@.tmp $(STATIC_BOOT_OBJS_$(STATIC_LIBC)) \
		$(STATIC_BOOT_LIBS_$(STATIC_LIBC))
	objcopy --only-keep-debug $@.tmp $@.debug
	objcopy --strip-all --add-gnu-debuglink=$@.debug $@.tmp $@
	rm -f $@.tmp
	@echo "$@: static ($(STATIC_LIBC)), $$(stat -c %s $@) bytes"

include $(sort $(wildcard mk/*.mk))

.PHONY: build-all
build-all: $(ALL_TARGETS)

# Test dependencies are installed by the tree itself so that a fresh
# machine needs nothing but `make check`.
.PHONY: deps
deps:
	scripts/install-deps.sh
	scripts/build-musl-blkid.sh

.PHONY: check
check: deps
	$(MAKE) format-check
	$(MAKE) build-all
	$(MAKE) CC=clang BUILD=$(BUILD)/clang build-all
	@for t in $(CHECK_TARGETS); do \
		echo "=== $$t ==="; \
		$(MAKE) $$t || exit 1; \
	done
	@echo "=== all test tiers passed: $(CHECK_TARGETS) ==="

CLANG_FORMAT ?= clang-format
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: format format-check
format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES) && echo "format: clean"

.PHONY: install install-boot
install: $(INSTALL_TARGETS)

install-boot: $(BUILD)/initoverlayfs $(STATIC_BOOT_PROGRAM)
	install -D -m 0755 $(BUILD)/initoverlayfs $(DESTDIR)$(SBINDIR)/initoverlayfs
ifneq ($(STATIC_BOOT_PROGRAM),)
	install -D -m 0755 $(STATIC_BOOT_PROGRAM) $(DESTDIR)$(PKGLIBDIR)/initoverlayfs-init
endif
	install -D -m 0644 doc/initoverlayfs.8 $(DESTDIR)$(MANDIR)/man8/initoverlayfs.8
	install -D -m 0644 doc/initoverlayfs.conf.5 $(DESTDIR)$(MANDIR)/man5/initoverlayfs.conf.5

.PHONY: clean
clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -type f -name '*.d' 2>/dev/null)
