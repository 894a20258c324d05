# Boot benchmarks (bench/), in QEMU TCG with -icount (guest clock):
#
#   make bench                    initoverlayfs against initramfs-tools, dracut
#                                 and dracut's squash-erofs on a real Debian 13
#                                 system, from power-on (OVMF + systemd-boot),
#                                 four contents (root; bench/peers.sh: every
#                                 setting), results in bench/results/
#   make bench BENCH_QUICK=1      one point per variant (generic content, one
#                                 boot each), a check while developing
#   make bench-scaling            time and early RAM as incompressible filler
#                                 grows, plain dracut initrd vs initoverlayfs,
#                                 from the kernel's start (bench/run.sh),
#                                 results in bench/results/scaling/
#   make check-bench-selftest     the fitting/CSV code on known inputs (< 1 s)
#
# Not part of `make check` (except the self-test): they boot ~100 VMs.

BENCH_TOOLS := $(BUILD)/bench/iofs-bench-gen $(BUILD)/bench/iofs-bench-probe

$(BUILD)/bench/iofs-bench-gen: bench/gen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $<

# Static: it runs inside whatever initrd is measured.
$(BUILD)/bench/iofs-bench-probe: bench/probe.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) $(LDFLAGS) -static -o $@ $<

.PHONY: bench bench-scaling
bench: deps
	$(MAKE) $(BENCH_TOOLS)
	bench/peers.sh $(BENCH_TOOLS)

bench-scaling: deps
	$(MAKE) $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs-install $(BENCH_TOOLS)
	bench/run.sh $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM) $(BENCH_TOOLS)

.PHONY: check-bench-selftest
check-bench-selftest:
	bench/selftest.sh

CHECK_TARGETS += check-bench-selftest
