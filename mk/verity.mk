# dm-verity of the image (issue 7): the boot program's verity step
# (src/boot/verity.c), initoverlayfs-install --verity, and their tiers.
#
#   make check-ns-verity    host tier (root): installer --verity (reproducible,
#                           the tree verifies, crash at image-verity), the
#                           command line policy through the real program, and
#                           the boot program's refusal where the host kernel
#                           has no device-mapper (tests/ns/verity.sh)
#   make check-vm-verity    QEMU tier (root, Debian's kernel): real dm-verity
#                           boots and the mount/EIO/root-hash/override cases in
#                           a guest (tests/vm/verity.sh); about 1-2 min

CHECK_TARGETS += check-ns-verity check-vm-verity

.PHONY: check-ns-verity check-vm-verity
check-ns-verity: $(BUILD)/initoverlayfs $(BUILD)/initoverlayfs-install
	tests/ns/verity.sh $(BUILD)/initoverlayfs-install $(BUILD)/initoverlayfs

check-vm-verity: $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs-install
	VM_WORK=$(abspath $(VM_WORK)) tests/vm/verity.sh $(BUILD)/initoverlayfs-install \
		$(INIT_BOOT_PROGRAM)
