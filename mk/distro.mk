# Distro boot tier (tests/vm/distro.sh, root): Debian's kernel in QEMU boots
# through a systemd-mode mini-initramfs (initoverlayfs-install --mode
# systemd, dracut with this tree's module and units) into Debian's dracut
# initrd, and through initramfs-tools: the installer's pair with
# --source initramfs-tools, and a mini-initramfs made by mkinitramfs with
# initramfs-tools/hooks + scripts. Debian's dracut initrd is shared with
# the install tier's cache ($(INSTALL_TEST_CACHE)): made once for both.
#
#   make check-vm-distro [KVER=...] [VM_JOBS=2]

.PHONY: check-vm-distro
check-vm-distro: $(BUILD)/initoverlayfs $(BUILD)/initoverlayfs-install
	VM_WORK=$(abspath $(VM_WORK)) INSTALL_TEST_CACHE=$(abspath $(INSTALL_TEST_CACHE)) \
		tests/vm/distro.sh $(BUILD)/initoverlayfs-install $(BUILD)/initoverlayfs

CHECK_TARGETS += check-vm-distro
