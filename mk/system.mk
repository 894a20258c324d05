# System tier (tests/system/, root): real Debian installations, built with
# mmdebstrap (cached in $(SYSTEM_CACHE), keyed by their inputs), with this
# tree's .deb installed inside and the pair made by the distro's own kernel
# hooks, boot through initoverlayfs in QEMU (TCG) to a running systemd.
#
#   make check-system [SYSTEMS="bookworm-initramfs-tools bookworm-dracut trixie-dracut"]
#
# Systems run two at a time (SYSTEM_JOBS); base systems and the .deb are
# cached, so a rerun only installs, builds the pairs and boots.

CHECK_TARGETS += check-system

SYSTEM_CACHE ?= /var/cache/initoverlayfs-tests
SYSTEMS ?=

.PHONY: check-system
check-system:
	SYSTEM_CACHE=$(SYSTEM_CACHE) tests/system/run.sh $(SYSTEMS)
