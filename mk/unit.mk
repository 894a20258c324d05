# Unit tests (cmocka) and libFuzzer targets for src/common/, and unit
# tests of the installer's parts.
#
#   make check-unit            build tests/unit/test-*.c with ASan+UBSan, run them all
#   make CC=clang check-unit   the same with clang
#   make fuzz                  run tests/fuzz/fuzz-*.c in parallel, FUZZ_TIME s each
#
# LeakSanitizer: check-unit and fuzz run with detect_leaks=1. LSan does not
# work under ptrace (gdb, strace) or where the sandbox forbids it; it then
# stops with "LeakSanitizer has encountered a fatal error". Run such a
# session with ASAN_OPTIONS=detect_leaks=0 (it is appended last and wins)
# instead of turning leak checks off here.

# Installer parts: tests/unit/test-install-NAME.c links src/install/NAME.c
# (never main.c) and the installer's libraries; a part that needs more of
# the installer lists those objects as extra prerequisites below.
UNIT_INSTALL_PARTS := kver digest bootfs elfdeps plan refs kmods sysroot hostonly
# Boot program parts: tests/unit/test-boot-NAME.c links src/boot/NAME.c
# (pure logic beside the system calls; libblkid and libkmod linked).
UNIT_BOOT_PARTS := bootdev
UNIT_TESTS := config cmdline bootspec path log verity modplan $(patsubst %,install-%,$(UNIT_INSTALL_PARTS)) \
	$(patsubst %,boot-%,$(UNIT_BOOT_PARTS))
UNIT_DIR := $(BUILD)/unit
UNIT_BINS := $(patsubst %,$(UNIT_DIR)/test-%,$(UNIT_TESTS))
UNIT_COMMON_OBJS := $(call asan_obj,$(COMMON_SRC))
UNIT_INSTALL_OBJS := $(call asan_obj,$(patsubst %,src/install/%.c,$(UNIT_INSTALL_PARTS)))
UNIT_TEST_OBJS := $(call asan_obj,$(patsubst %,tests/unit/test-%.c,$(UNIT_TESTS)))

UNIT_ASAN_OPTIONS := detect_leaks=1:abort_on_error=1
UNIT_UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1

# $(BUILD)/asan holds one set of objects whatever $(CC) is, and gcc's and
# clang's sanitizer runtimes do not mix: record the compiler and rebuild
# the objects when it changes (the stamp is only rewritten on a change).
UNIT_CC_STAMP := $(BUILD)/asan/.compiler
UNIT_CC_ID := $(CC) $(shell $(CC) --version 2>/dev/null | head -n 1) $(SAN_FLAGS)

$(UNIT_CC_STAMP): unit-cc-stamp-force
	@mkdir -p $(dir $@)
	@echo '$(UNIT_CC_ID)' > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

.PHONY: unit-cc-stamp-force
unit-cc-stamp-force:

# elfdeps runs the loader (exec.c, chrooted by sysroot.c) and reads its
# output (fsutil.c)
UNIT_INSTALL_EXTRA := $(call asan_obj,src/install/exec.c src/install/fsutil.c \
	src/install/sysroot.c src/install/kver.c)
$(UNIT_DIR)/test-install-elfdeps: $(UNIT_INSTALL_EXTRA)
# sysroot checks kernel names with kver.c
$(UNIT_DIR)/test-install-sysroot: $(call asan_obj,src/install/kver.c)
# kmods keeps its lists in elfdeps.c's strv
$(UNIT_DIR)/test-install-kmods: $(call asan_obj,src/install/elfdeps.c) $(UNIT_INSTALL_EXTRA)
# hostonly keeps its lists in elfdeps.c's strv
$(UNIT_DIR)/test-install-hostonly: $(call asan_obj,src/install/elfdeps.c) $(UNIT_INSTALL_EXTRA)
# refs reads initramfs files (unpack.c, segment.c, compress.c) and keeps a
# list (elfdeps.c's strv)
UNIT_REFS_EXTRA := $(call asan_obj,src/install/unpack.c src/install/segment.c \
	src/install/compress.c src/install/elfdeps.c)
$(UNIT_DIR)/test-install-refs: $(UNIT_REFS_EXTRA) $(UNIT_INSTALL_EXTRA)
# the plan reads everything a run reads
UNIT_PLAN_EXTRA := $(call asan_obj,$(filter-out src/install/main.c src/install/plan.c, \
	$(INSTALL_SRC)))
$(UNIT_DIR)/test-install-plan: $(UNIT_PLAN_EXTRA)

UNIT_BOOT_OBJS := $(call asan_obj,$(patsubst %,src/boot/%.c,$(UNIT_BOOT_PARTS)))
$(UNIT_COMMON_OBJS) $(UNIT_INSTALL_OBJS) $(UNIT_BOOT_OBJS) $(UNIT_INSTALL_EXTRA) $(UNIT_REFS_EXTRA) $(UNIT_PLAN_EXTRA) \
	$(UNIT_TEST_OBJS): $(UNIT_CC_STAMP)

$(foreach p,$(UNIT_INSTALL_PARTS),$(eval \
	$(UNIT_DIR)/test-install-$(p): $(call asan_obj,src/install/$(p).c)))
$(patsubst %,$(UNIT_DIR)/test-install-%,$(UNIT_INSTALL_PARTS)): \
	UNIT_LIBS = $(INSTALL_LIBS) $(BLKID_LIBS) $(KMOD_LIBS)
$(foreach p,$(UNIT_BOOT_PARTS),$(eval \
	$(UNIT_DIR)/test-boot-$(p): $(call asan_obj,src/boot/$(p).c)))
$(patsubst %,$(UNIT_DIR)/test-boot-%,$(UNIT_BOOT_PARTS)): UNIT_LIBS = $(BLKID_LIBS) $(KMOD_LIBS)

$(UNIT_BINS): $(UNIT_DIR)/%: $(call asan_obj,tests/unit/%.c) $(UNIT_COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O1 $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(UNIT_LIBS) -lcmocka

.PHONY: unit-build check-unit
unit-build: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	@failed=; \
	for t in $(UNIT_BINS); do \
		echo "--- $$t"; \
		ASAN_OPTIONS="$(UNIT_ASAN_OPTIONS)$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
		UBSAN_OPTIONS="$(UNIT_UBSAN_OPTIONS)$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}" \
			$$t || failed="$$failed $${t##*/}"; \
	done; \
	if [ -n "$$failed" ]; then echo "check-unit: FAILED:$$failed"; exit 1; fi; \
	echo "check-unit: all passed ($(words $(UNIT_BINS)) binaries)"

CHECK_TARGETS += check-unit

# ---- libFuzzer --------------------------------------------------------------
# Always clang, whatever $(CC) is; objects of their own, built with
# coverage instrumentation. New inputs go to $(FUZZ_DIR)/corpus/<target>,
# tests/fuzz/corpus/<target> (the seeds in git) is only read; crashes land
# in $(FUZZ_DIR)/artifacts/.

FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_TARGETS := config cmdline unpack modplan
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz-%,$(FUZZ_TARGETS))
FUZZ_SAN := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_COMMON_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(COMMON_SRC))
FUZZ_TARGET_OBJS := $(patsubst %,$(FUZZ_DIR)/obj/tests/fuzz/fuzz-%.o,$(FUZZ_TARGETS))

$(FUZZ_COMMON_OBJS) $(FUZZ_TARGET_OBJS): $(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -O1 $(FUZZ_SAN) -MMD -MP -c $< -o $@

# fuzz-unpack also takes the installer's unpacker, and libarchive
FUZZ_UNPACK_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,src/install/unpack.c src/install/segment.c \
	src/install/compress.c)
$(FUZZ_UNPACK_OBJS): $(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -O1 $(FUZZ_SAN) $(INSTALL_LIB_CFLAGS) -MMD -MP -c $< -o $@
$(FUZZ_DIR)/fuzz-unpack: $(FUZZ_UNPACK_OBJS)
$(FUZZ_DIR)/fuzz-unpack: FUZZ_LIBS := $(INSTALL_LIBS)

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(FUZZ_COMMON_OBJS)
	$(FUZZ_CC) $(CFLAGS_ALL) -O1 $(FUZZ_SAN) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

.PHONY: fuzz-build fuzz
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_DIR)/artifacts
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t; \
		rm -f $(FUZZ_DIR)/$$t.rc; \
		( ASAN_OPTIONS="$(UNIT_ASAN_OPTIONS)$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
		  UBSAN_OPTIONS="$(UNIT_UBSAN_OPTIONS)$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}" \
			$(FUZZ_DIR)/fuzz-$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-dict=tests/fuzz/$$t.dict -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
			$(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_DIR)/$$t.log 2>&1; \
		  echo $$? >$(FUZZ_DIR)/$$t.rc ) & \
	done; \
	echo "fuzz: running $(FUZZ_TARGETS) for $(FUZZ_TIME)s each, logs in $(FUZZ_DIR)/"; \
	wait; \
	failed=; \
	for t in $(FUZZ_TARGETS); do \
		rc=$$(cat $(FUZZ_DIR)/$$t.rc 2>/dev/null || echo 1); \
		runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$t.log); \
		speed=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_DIR)/$$t.log); \
		cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_DIR)/$$t.log | tail -n 1); \
		echo "fuzz-$$t: exit $$rc, $${runs:-?} runs, $${speed:-?} exec/s, $$cov"; \
		if [ "$$rc" != 0 ]; then \
			failed="$$failed $$t"; \
			tail -n 60 $(FUZZ_DIR)/$$t.log; \
		fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (inputs in $(FUZZ_DIR)/artifacts/)"; exit 1; fi; \
	echo "fuzz: no crash"

CHECK_TARGETS += fuzz
