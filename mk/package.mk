# Packaging: the Debian package (debian/) and the RPM spec
# (rpm/initoverlayfs.spec), and their test tier (tests/package/, root).
#
#   make check-package     build the .deb (dpkg-buildpackage) and the RPM
#                          (rpmbuild) from a copy of the tree under /var/tmp,
#                          compare both with `make install`, lintian, install
#                          the .deb here, boot a pair made by the installed
#                          tool in QEMU, purge the .deb (about a minute)
#
# The packages themselves are built with
#   dpkg-buildpackage -us -uc -b
#   rpmbuild -bb rpm/initoverlayfs.spec   (tarball: see the spec's header)

CHECK_TARGETS += check-package

PACKAGE_LOGS ?= $(BUILD)/package-logs

.PHONY: check-package
check-package:
	rm -rf $(PACKAGE_LOGS)
	mkdir -p $(PACKAGE_LOGS)
	TEST_LOG_DIR=$(abspath $(PACKAGE_LOGS)) tests/package/run.sh
