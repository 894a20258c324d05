# Namespace tier: real mounts against the host kernel (root).
CHECK_TARGETS += check-cli check-ns

.PHONY: check-ns check-cli
check-ns: $(BUILD)/initoverlayfs
	tests/ns/run.sh $(BUILD)/initoverlayfs

check-cli: $(BUILD)/initoverlayfs $(BUILD)/initoverlayfs-install
	tests/cli/run.sh $(BUILD)/initoverlayfs $(BUILD)/initoverlayfs-install
