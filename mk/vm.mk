# QEMU full-boot test tier (tests/vm). check-vm-smoke depends on nothing from
# src/: it proves the harness (tests/vm/lib.sh) with a hand-made busybox
# initramfs and Debian's kernel, under TCG. check-vm boots that kernel
# through the pairs initoverlayfs-install makes (tests/vm/cases.sh).
#
#   make check-vm-smoke            run tests/vm/smoke.sh
#   make check-vm-smoke KVER=...   boot another installed kernel
#   make check-vm [VM_JOBS=2]      the boot cases (root; about 3 min)
#   make demo                      deps, build, boot the dracut pair, timeline
#
# Work files (images, serial logs) go to $(VM_WORK) and stay for inspection.

VM_WORK ?= $(BUILD)/vm-work

.PHONY: check-vm-smoke
check-vm-smoke:
	VM_WORK=$(abspath $(VM_WORK)) tests/vm/smoke.sh

CHECK_TARGETS += check-vm-smoke

# The boot cases (tests/vm/cases.sh): Debian's kernel boots through the
# pair made by initoverlayfs-install; 2 VMs at a time (VM_JOBS).
.PHONY: check-vm
check-vm: $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs-install
	VM_WORK=$(abspath $(VM_WORK)) tests/vm/cases.sh $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM)

CHECK_TARGETS += check-vm

# make demo: on a fresh Debian 12 machine (root), install the packages,
# build, make the pair for Debian's kernel from dracut's initrd, boot it in
# QEMU and print the sizes and the boot timeline.
.PHONY: demo
demo: deps
	$(MAKE) $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs-install
	@VM_WORK=$(abspath $(VM_WORK)) tests/vm/demo.sh $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM)
