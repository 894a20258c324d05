# Boot benchmark (bench/): time and early RAM as the initial filesystem
# grows, plain initramfs vs initoverlayfs, in QEMU TCG with -icount.
#
#   make bench                    deps, build, all variants and sizes (root;
#                                 about 30 min on 2 cores), results in
#                                 bench/results/
#   make bench BENCH_SIZES="0 64" BENCH_RUNS=1 BENCH_MINMEM=0 ...
#                                 see bench/run.sh for every setting
#   make check-bench-selftest     the fitting/CSV code on known inputs (< 1 s)
#
# Not part of `make check` (except the self-test): it boots ~50 VMs.

BENCH_TOOLS := $(BUILD)/bench/iofs-bench-gen $(BUILD)/bench/iofs-bench-probe

$(BUILD)/bench/iofs-bench-gen: bench/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $<

# Static: it runs inside whatever initrd is measured.
$(BUILD)/bench/iofs-bench-probe: bench/probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS) -static -o $@ $<

.PHONY: bench
bench: deps
	$(MAKE) $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs-install $(BENCH_TOOLS)
	bench/run.sh $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM) $(BENCH_TOOLS)

.PHONY: check-bench-selftest
check-bench-selftest:
	bench/selftest.sh

CHECK_TARGETS += check-bench-selftest
