# Distro integration: systemd units (systemd/), the dracut module
# (dracut/modules.d/81initoverlayfs), the kernel-install plugin
# (kernel-install/), Debian's kernel hooks (kernel/) and the initramfs-tools
# hook, boot script and post-update.d hook (initramfs-tools/), the dracut
# wrapper (dracut/dracut-wrapper), and their test tier
# (tests/integration/, root: dracut builds a systemd-mode mini-initramfs for
# Debian's kernel, the kernel hooks build and remove a pair in a temp dir,
# the real update-initramfs runs the post-update.d hook against a temp boot
# dir with /etc overlaid in a private mount namespace).
#
#   make install-integration DESTDIR=... PREFIX=/usr
#   make check-integration [KVER=...]

INSTALL_TARGETS += install-integration
CHECK_TARGETS += check-integration

SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
DRACUT_MODULESDIR ?= $(PREFIX)/lib/dracut/modules.d
KERNEL_INSTALLDIR ?= $(PREFIX)/lib/kernel/install.d
KERNEL_HOOKDIR ?= /etc/kernel
INITRAMFS_TOOLS_DIR ?= $(PREFIX)/share/initramfs-tools
INITRAMFS_POST_UPDATE_DIR ?= /etc/initramfs/post-update.d

INTEGRATION_UNITS := pre-initoverlayfs.target pre-initoverlayfs.service \
	pre-initoverlayfs-switch-root.service
INTEGRATION_WORK ?= $(BUILD)/integration

.PHONY: install-integration check-integration
install-integration:
	for u in $(INTEGRATION_UNITS); do \
		install -D -m 0644 systemd/$$u $(DESTDIR)$(SYSTEMD_UNITDIR)/$$u || exit 1; \
	done
	install -D -m 0755 dracut/modules.d/81initoverlayfs/module-setup.sh \
		$(DESTDIR)$(DRACUT_MODULESDIR)/81initoverlayfs/module-setup.sh
	install -D -m 0755 kernel-install/89-initoverlayfs.install \
		$(DESTDIR)$(KERNEL_INSTALLDIR)/89-initoverlayfs.install
	ln -sfn 89-initoverlayfs.install $(DESTDIR)$(KERNEL_INSTALLDIR)/59-initoverlayfs.install
	install -D -m 0755 kernel/postinst.d/zz-initoverlayfs \
		$(DESTDIR)$(KERNEL_HOOKDIR)/postinst.d/zz-initoverlayfs
	install -D -m 0755 kernel/postrm.d/zz-initoverlayfs \
		$(DESTDIR)$(KERNEL_HOOKDIR)/postrm.d/zz-initoverlayfs
	install -D -m 0755 initramfs-tools/hooks/initoverlayfs \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/initoverlayfs
	install -D -m 0644 initramfs-tools/scripts/initoverlayfs \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/initoverlayfs
	install -D -m 0755 initramfs-tools/post-update.d/initoverlayfs \
		$(DESTDIR)$(INITRAMFS_POST_UPDATE_DIR)/initoverlayfs
	install -D -m 0755 dracut/dracut-wrapper $(DESTDIR)$(PKGLIBDIR)/dracut-wrapper

check-integration: $(BUILD)/initoverlayfs $(BUILD)/initoverlayfs-install
	INTEGRATION_WORK=$(abspath $(INTEGRATION_WORK)) tests/integration/run.sh \
		$(BUILD)/initoverlayfs-install $(BUILD)/initoverlayfs
