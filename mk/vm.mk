# QEMU full-boot test tier (tests/vm). These targets depend on nothing from
# src/: check-vm-smoke proves the harness (tests/vm/lib.sh) with a hand-made
# busybox initramfs and Debian's kernel, under TCG.
#
#   make check-vm-smoke            run tests/vm/smoke.sh
#   make check-vm-smoke KVER=...   boot another installed kernel
#
# Work files (images, serial logs) go to $(VM_WORK) and stay for inspection.

VM_WORK ?= $(BUILD)/vm-work

.PHONY: check-vm-smoke
check-vm-smoke:
	VM_WORK=$(abspath $(VM_WORK)) tests/vm/smoke.sh

CHECK_TARGETS += check-vm-smoke
