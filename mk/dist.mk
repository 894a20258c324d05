# `make install` places what it should where it should.
CHECK_TARGETS += check-make-install

STAGE := $(BUILD)/stage

.PHONY: check-make-install
check-make-install:
	rm -rf $(STAGE)
	$(MAKE) install DESTDIR=$(abspath $(STAGE)) PREFIX=/usr
	test -x $(STAGE)/usr/sbin/initoverlayfs
	$(STAGE)/usr/sbin/initoverlayfs --version
	test -f $(STAGE)/usr/share/man/man8/initoverlayfs.8
	test -f $(STAGE)/usr/share/man/man5/initoverlayfs.conf.5
	man --warnings -l $(STAGE)/usr/share/man/man8/initoverlayfs.8 2>&1 >/dev/null | (! grep .)
	man --warnings -l $(STAGE)/usr/share/man/man5/initoverlayfs.conf.5 2>&1 >/dev/null | (! grep .)
	@echo "check-make-install: ok"
