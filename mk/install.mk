# initoverlayfs-install: the host tool that builds the EROFS image and the
# mini-initramfs (src/install/), and its test tier (tests/install/, root).
#
#   make build/initoverlayfs-install
#   make check-install            the tier (dracut image cached in $(INSTALL_TEST_CACHE))

INSTALL_SRC := $(sort $(wildcard src/install/*.c))
ALL_TARGETS += $(BUILD)/initoverlayfs-install
INSTALL_TARGETS += install-installer
CHECK_TARGETS += check-install

INSTALL_TEST_CACHE ?= $(BUILD)/test-install-cache

# Host-only libraries: archives (libarchive), the mount table (libmount),
# SHA-256 (libcrypto, EVP). The boot program links none of them.
INSTALL_PKGS := libarchive mount libcrypto
INSTALL_LIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(INSTALL_PKGS) 2>/dev/null)
INSTALL_LIBS := $(shell $(PKG_CONFIG) --libs $(INSTALL_PKGS) 2>/dev/null || echo -larchive -lmount -lcrypto)
$(call obj,$(INSTALL_SRC)) $(call asan_obj,$(INSTALL_SRC)): LIB_CFLAGS += $(INSTALL_LIB_CFLAGS)

$(BUILD)/initoverlayfs-install: $(call obj,$(INSTALL_SRC) $(COMMON_SRC))
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(BLKID_LIBS) $(KMOD_LIBS) $(INSTALL_LIBS)

.PHONY: install-installer check-install
install-installer: $(BUILD)/initoverlayfs-install
	install -D -m 0755 $(BUILD)/initoverlayfs-install $(DESTDIR)$(SBINDIR)/initoverlayfs-install
	@if [ -f doc/initoverlayfs-install.8 ]; then \
		install -D -m 0644 doc/initoverlayfs-install.8 \
			$(DESTDIR)$(MANDIR)/man8/initoverlayfs-install.8; \
	fi

check-install: $(BUILD)/initoverlayfs-install $(BUILD)/initoverlayfs
	INSTALL_TEST_CACHE=$(INSTALL_TEST_CACHE) tests/install/run.sh \
		$(BUILD)/initoverlayfs-install $(BUILD)/initoverlayfs

# The unpacker against hostile archives (tests/unpack/, root: owners and
# device nodes): every run bounded in time, nothing outside its directory
# may change.
UNPACK_TOOL_SRC := tests/unpack/unpack-tool.c src/install/unpack.c src/install/segment.c \
	src/install/compress.c \
	$(COMMON_SRC)
$(call obj,tests/unpack/unpack-tool.c): LIB_CFLAGS += $(INSTALL_LIB_CFLAGS)

$(BUILD)/unpack-tool: $(call obj,$(UNPACK_TOOL_SRC))
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $^ $(INSTALL_LIBS)

ALL_TARGETS += $(BUILD)/unpack-tool
CHECK_TARGETS += check-unpack
.PHONY: check-unpack
check-unpack: $(BUILD)/unpack-tool
	tests/unpack/run.sh $(BUILD)/unpack-tool
