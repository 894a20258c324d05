# System tier (tests/system/, root): real Debian installations, built with
# mmdebstrap (cached in $(SYSTEM_CACHE), keyed by their inputs), with this
# tree's .deb installed inside and the pair made by the distro's own kernel
# hooks, boot through initoverlayfs in QEMU (TCG) to a running systemd.
#
#   make check-system [SYSTEMS="bookworm-initramfs-tools bookworm-dracut trixie-dracut"]
#
# Not in CHECK_TARGETS yet: one assertion fails on bookworm +
# initramfs-tools, whose klibc run-init leaves the old root (and with it
# the overlay, the loop device and /boot) mounted underneath the real root,
# and one on bookworm + dracut, whose dracut 059 runs no hook after writing
# an image, so `dracut -f --regenerate-all` replaces the mini-initramfs
# (tests/system/README.md). Add `CHECK_TARGETS += check-system` here once
# `make check-system` passes.

SYSTEM_CACHE ?= /var/cache/initoverlayfs-tests
SYSTEMS ?=

.PHONY: check-system
check-system:
	SYSTEM_CACHE=$(SYSTEM_CACHE) tests/system/run.sh $(SYSTEMS)
