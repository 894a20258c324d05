# The size table (tests/sizes/run.sh, root): the generic init-mode
# mini-initramfs for the newest kernel, --hostonly, and the systemd-mode
# one check-integration made, each with its largest parts.
#
#   make check-sizes
#   make check-sizes SIZES_ENFORCE_GOALS=1   a missed size goal fails

.PHONY: check-sizes
check-sizes: $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM) $(BUILD)/initoverlayfs
	INTEGRATION_WORK=$(abspath $(BUILD)/integration) SIZES_ENFORCE_GOALS=$(SIZES_ENFORCE_GOALS) \
		tests/sizes/run.sh $(BUILD)/initoverlayfs-install $(INIT_BOOT_PROGRAM) \
		$(BUILD)/initoverlayfs

CHECK_TARGETS += check-sizes
