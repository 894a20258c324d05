#!/bin/bash
# Packaging tier (root): the Debian package (debian/) and the RPM spec
# (rpm/initoverlayfs.spec).
#
#   1. dpkg-buildpackage -us -uc -b succeeds in a copy of the tree (the files
#      `git ls-files --cached --others --exclude-standard` lists, as a fresh
#      clone would have them once committed; never in the tree itself), and
#      lintian reports no error;
#   2. the .deb holds exactly what `make install DESTDIR=... PREFIX=/usr`
#      installs (same paths, same modes; man pages gzipped) plus its
#      /usr/share/doc files, the /etc files are its conffiles, its only
#      maintainer scripts and triggers are the dracut diversion's (no
#      update-initramfs trigger: installing it touches nothing in /boot),
#      and the spec's %files entries cover the same list;
#   3. dpkg -i installs it: /boot is unchanged, dracut (when installed) is
#      diverted to dracut.distrib with the wrapper in its place, the
#      installed kernel hooks build and remove a pair in a temporary boot
#      directory;
#   4. the installed initoverlayfs-install, with the installed boot program,
#      makes a pair that boots Debian's kernel in QEMU to the marker root;
#   5. rpmbuild -bb builds the spec from a tarball of the same files, and
#      rpm -qlp lists the same files as make install; in an rpm root of
#      its own it upgrades (rpm -U) a stand-in of the original
#      initoverlayfs' RPM, keeping the original's config, from which the
#      installed kernel-install plugin then builds a pair;
#   6. dpkg -r puts dracut back byte-identical and drops the diversion,
#      leaves the kernel hooks (conffiles) harmless, dpkg -P removes
#      everything, /boot is still unchanged;
#   7. in a copy-on-write overlay of this machine's root (a chroot; nothing
#      reaches the machine): without dracut the package diverts nothing; a
#      dracut package installed after it is diverted (file trigger), its
#      removal drops the diversion, a reinstall of this package keeps it,
#      the purge puts that dracut back byte-identical.
#
# Usage: tests/package/run.sh   (root, from anywhere)
# Environment: KVER (kernel to boot, default: tests/vm/lib.sh's choice),
#   PACKAGE_KEEP_WORK=1 (keep the work directory), TEST_LOG_DIR.
#
# The work directory is under /var/tmp, never under build/: the top
# Makefile includes every '*.d' file under build/, and a package build's
# copy of the tree has its own build/ full of them.
#
# Only `set -u` at the top: run_case (tests/lib/runner.sh) must see a
# failing case's status; setup steps check every command through die().
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/runner.sh"
# tree_files
. "$HERE/../lib/tree.sh"

die() {
	echo "package: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (dpkg -i, the installer)"
# The package builds run their own make: nothing of the calling make (its
# variables, BUILD=...) or of the calling tier's logs may leak into them.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

WORK=$(mktemp -d /var/tmp/initoverlayfs-package.XXXXXX) || die "mktemp"
export VM_WORK=$WORK/vm
. "$TOP/tests/vm/lib.sh"

PKG=initoverlayfs
# The version the Makefile builds, which the package's must equal.
VERSION=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
[ -n "$VERSION" ] || die "no VERSION in $TOP/Makefile"
ARCH=$(dpkg --print-architecture) || die "dpkg --print-architecture"
SRC=$WORK/src/$PKG-$VERSION
DEB=$WORK/src/${PKG}_${VERSION}_$ARCH.deb
CHANGES=$WORK/src/${PKG}_${VERSION}_$ARCH.changes
STAGE=$WORK/stage
LISTS=$WORK/lists
RPMTOP=$WORK/rpmbuild
SPEC=rpm/$PKG.spec
BOOT_SNAPSHOT=$WORK/boot-before
INSTALLED_BY_US=0
# PATH of a kernel package's maintainer scripts: no build/ in it.
HOOK_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Debian's dracut, which the package diverts, and the wrapper it puts there.
DRACUT=/usr/bin/dracut
DRACUT_WRAPPER=/usr/lib/initoverlayfs/dracut-wrapper

ROOT_UUID=6a0c2f4e-1b3d-4c5e-8f70-9a1b2c3d4e01
BOOT_UUID=9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c02

# Key files of the package, by name (besides the equality with make install).
KEY_FILES="/usr/sbin/initoverlayfs /usr/sbin/initoverlayfs-install
/usr/share/man/man8/initoverlayfs.8 /usr/share/man/man8/initoverlayfs-install.8
/usr/share/man/man5/initoverlayfs.conf.5
/usr/lib/systemd/system/pre-initoverlayfs.target
/usr/lib/systemd/system/pre-initoverlayfs.service
/usr/lib/systemd/system/pre-initoverlayfs-switch-root.service
/usr/lib/dracut/modules.d/81initoverlayfs/module-setup.sh
/usr/lib/kernel/install.d/89-initoverlayfs.install
/usr/lib/kernel/install.d/59-initoverlayfs.install
/etc/kernel/postinst.d/zz-initoverlayfs /etc/kernel/postrm.d/zz-initoverlayfs
/etc/initramfs/post-update.d/initoverlayfs
/usr/lib/initoverlayfs/dracut-wrapper
/usr/lib/initoverlayfs/initoverlayfs-init"
# Installed only once `make install` ships them (initramfs-tools/).
OPTIONAL_FILES="/usr/share/initramfs-tools/hooks/initoverlayfs
/usr/share/initramfs-tools/scripts/initoverlayfs"
# Listed by the RPM spec only where make install ships them: those, and the
# static boot program (built only where libblkid.a is).
SPEC_CONDITIONAL_FILES="$OPTIONAL_FILES
/usr/lib/initoverlayfs/initoverlayfs-init"

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)" = installed ]
}

cleanup() {
	if [ "$INSTALLED_BY_US" = 1 ] && installed; then
		echo "package: purging $PKG left installed by an interrupted run" >&2
		dpkg -P "$PKG" >/dev/null 2>&1 || echo "package: dpkg -P $PKG failed" >&2
	fi
	if [ "${PACKAGE_KEEP_WORK:-0}" = 1 ] || [ "$RUNNER_FAILED" -gt 0 ]; then
		echo "package: work files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# A rerun starts from a machine without the package.
if dpkg-query -W "$PKG" >/dev/null 2>&1; then
	echo "package: purging $PKG installed before this run"
	dpkg -P "$PKG" >/dev/null || die "dpkg -P $PKG"
fi

vm_need_cmd dpkg-buildpackage dh lintian rpmbuild rpmspec rpm git \
	qemu-system-x86_64 mkfs.ext4 busybox cpio zstd || die "missing tools (scripts/deps.txt)"
KREL=$(vm_kernel_release) || die "no bootable kernel"
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"

# ------------------------------------------------------------- helpers

# boot_snapshot: every file under /boot with its type, size, mode, mtime
# and content hash.
boot_snapshot() {
	(
		cd /boot || exit 1
		find . -xdev -printf '%p %y %s %m %T@\n' | LC_ALL=C sort
		find . -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

# stage_etc: the files make install puts under /etc.
stage_etc() {
	(cd "$STAGE" && find ./etc ! -type d | sed 's/^\.//' | LC_ALL=C sort)
}

# present FILE: FILE is installed (man pages: gzipped by dh_compress).
present() {
	[ -e "$1" ] || [ -e "$1.gz" ]
}

# etc_kernel: the kernel hooks in /etc/kernel with their mode and hash.
etc_kernel() {
	find /etc/kernel -printf '%p %y %m\n' | LC_ALL=C sort
	find /etc/kernel -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
}

# deb_list: "MODE PATH" of every non-directory entry of the .deb, without
# the packaging's own files (/usr/share/doc, lintian overrides), man pages
# without their .gz.
deb_list() {
	dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p); print substr($1, 2), p }' |
		grep -v -e ' /usr/share/doc/' -e ' /usr/share/lintian/overrides/' | sed -E 's,^(.* /usr/share/man/.*)\.gz$,\1,' | LC_ALL=C sort
}

# stage_list: "MODE PATH" of every non-directory of the make install tree.
stage_list() {
	(cd "$STAGE" && find . ! -type d -printf '%M %p\n') |
		awk '{ p = $2; sub(/^\./, "", p); print substr($1, 2), p }' | LC_ALL=C sort
}

# rpm_list RPM: "MODE PATH" of the non-directory files of the RPM, without
# rpm's own /usr/lib/.build-id links and the documentation, man pages
# without a compression suffix (Fedora's brp-compress adds one).
rpm_list() {
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$1" |
		awk '$1 !~ /^d/ { print substr($1, 2), $2 }' |
		grep -v -e ' /usr/lib/\.build-id/' -e ' /usr/share/doc/' |
		sed -E 's,^(.* /usr/share/man/.*)\.(gz|xz|bz2|zst)$,\1,' | LC_ALL=C sort
}

# same_list NAME EXPECTED ACTUAL: fail with a diff unless equal.
same_list() {
	if ! diff -u "$2" "$3" >"$3.diff"; then
		cat "$3.diff"
		fail "$1: list differs from make install's (- make install, + package)"
	fi
}

# spec_conditional_name FILE: how the spec's %install names FILE when it
# adds it to the list of files (hooks/initoverlayfs,
# lib/initoverlayfs/initoverlayfs-init)
spec_conditional_name() {
	local f=${1#/usr/share/initramfs-tools/}
	echo "${f#/usr/}"
}

# spec_files: the spec's %files entries (macros expanded by rpmspec -P),
# one per line, without the %dir/%config/%doc/%attr directives.
spec_files() {
	rpmspec -P "$TOP/$SPEC" | awk '
		/^%files/ { on = 1; next }
		/^%(changelog|package|description|pre|post|preun|postun|check|install|build|prep|triggerin|triggerun|posttrans)/ { on = 0 }
		on && NF' |
		sed -E -e 's/%config(\([^)]*\))?[[:space:]]+//' -e 's/%attr\([^)]*\)[[:space:]]+//' \
			-e 's/%verify\([^)]*\)[[:space:]]+//' |
		grep -v -e '^%doc' -e '^%license' -e '^%dir' -e '^#'
}

# dracut_state: /usr/bin/dracut and dracut.distrib as they are: type,
# mode, owner, size, content hash; the diversion's package.
dracut_state() {
	local f
	for f in "$DRACUT" "$DRACUT.distrib"; do
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f")"
		elif [ -e "$f" ]; then
			echo "$f $(stat -c '%F %a %U:%G %s' "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
		else
			echo "$f none"
		fi
	done
	echo "diverted-by: $(dpkg-divert --listpackage "$DRACUT")"
}

# expect_dracut_diverted: where dracut was installed before dpkg -i, it is
# dracut.distrib now, unchanged (its package verifies), the wrapper in its
# place, and dracut runs through it; where none was, nothing is diverted.
expect_dracut_diverted() {
	local pkg
	dracut_state
	if grep -qx "$DRACUT none" "$WORK/dracut-before"; then
		[ -z "$(dpkg-divert --listpackage "$DRACUT")" ] || fail "$DRACUT diverted, with no dracut installed"
		return 0
	fi
	[ "$(dpkg-divert --listpackage "$DRACUT")" = "$PKG" ] || fail "$DRACUT is not diverted by $PKG"
	[ "$(readlink "$DRACUT")" = "$DRACUT_WRAPPER" ] || fail "$DRACUT is not the link to $DRACUT_WRAPPER"
	grep "^$DRACUT " "$WORK/dracut-before" | sed "s,^$DRACUT ,$DRACUT.distrib ," >"$WORK/dracut-distrib.expected"
	dracut_state | grep "^$DRACUT.distrib " | diff -u "$WORK/dracut-distrib.expected" - ||
		fail "$DRACUT.distrib is not the dracut that was $DRACUT"
	# (dpkg-query -S also prints the diversion's two lines)
	pkg=$(dpkg-query -S "$DRACUT" | sed -n 's/^\([^ :]*\): .*/\1/p' | head -n 1)
	[ -n "$pkg" ] || fail "no package owns $DRACUT"
	dpkg --verify "$pkg" || fail "dpkg --verify $pkg fails after the diversion"
	dracut --version | grep -q '^dracut ' || fail "dracut --version through the wrapper"
}

# in_overlay SCRIPT: SCRIPT (sh, set -e) as root in a chroot of this
# machine's root file system under an overlay whose upper layer is a tmpfs,
# in a private mount namespace: what it installs or removes with dpkg stays
# there. The work directory shows through (read-only in effect: writes go
# to the tmpfs); the chroot's /out is $WORK/overlay-out.
in_overlay() {
	local t=$WORK/overlay
	mkdir -p "$t" "$WORK/overlay-out"
	# shellcheck disable=SC2016 # the inner shell's own variables
	unshare --mount --propagation private -- /bin/sh -ec '
		t=$1 out=$2 script=$3
		mount -t tmpfs -o mode=0700 tmpfs "$t"
		mkdir "$t/upper" "$t/work" "$t/root"
		mount -t overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" overlay "$t/root"
		mount --rbind /dev "$t/root/dev"
		mount -t proc proc "$t/root/proc"
		mount -t tmpfs tmpfs "$t/root/tmp"
		mount -t tmpfs tmpfs "$t/root/run"
		mkdir -p "$t/root/out"
		mount --bind "$out" "$t/root/out"
		exec chroot "$t/root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -ec "$script"
	' sh "$t" "$WORK/overlay-out" "$1"
}

# ------------------------------------------------------------- cases

case_deb_builds_lintian_clean() {
	local n
	mkdir -p "$SRC"
	tree_files | tar -C "$TOP" --null -T - -cf - | tar -C "$SRC" -xf -
	[ -f "$SRC/debian/control" ] || fail "no debian/control in the copy of the tree"
	[ ! -e "$SRC/build" ] || fail "the copy of the tree has a build/ directory"
	echo "copy: $(find "$SRC" -type f | wc -l) files"
	(cd "$SRC" && env -u TEST_LOG_DIR dpkg-buildpackage -us -uc -b) >"$WORK/dpkg-buildpackage.log" 2>&1 || {
		tail -n 40 "$WORK/dpkg-buildpackage.log"
		fail "dpkg-buildpackage -us -uc -b failed (log above)"
	}
	[ -f "$DEB" ] || fail "no $DEB after the build"
	[ -f "$CHANGES" ] || fail "no $CHANGES after the build"
	# The package build ran the command-line tier, not `make check`.
	grep -q '^cli: [0-9]* passed, 0 failed' "$WORK/dpkg-buildpackage.log" ||
		fail "dh_auto_test did not run the command-line tier"
	assert_not_contains "$WORK/dpkg-buildpackage.log" "scripts/install-deps.sh"
	[ "$(dpkg-deb -f "$DEB" Version)" = "$VERSION" ] ||
		fail "package version $(dpkg-deb -f "$DEB" Version), Makefile $VERSION"
	echo "deb: $(stat -c %s "$DEB") bytes"
	lintian --pedantic --display-info "$CHANGES" >"$WORK/lintian.log" 2>&1 || true
	echo "lintian tags:"
	sed 's/^/  /' "$WORK/lintian.log"
	n=$(grep -c '^E: ' "$WORK/lintian.log" || true)
	[ "$n" = 0 ] || fail "lintian reported $n error(s)"
	# lintian ran at all: a broken lintian prints no tag and exits non-zero.
	lintian --pedantic "$CHANGES" >/dev/null 2>&1 || [ -s "$WORK/lintian.log" ] ||
		fail "lintian failed without output"
}

case_deb_file_list_matches_make_install() {
	local f entry hits
	[ -f "$DEB" ] || fail "no .deb (see deb-builds-lintian-clean)"
	make -C "$SRC" --no-print-directory install DESTDIR="$STAGE" PREFIX=/usr >"$WORK/make-install.log" 2>&1 ||
		{ cat "$WORK/make-install.log"; fail "make install DESTDIR=$STAGE PREFIX=/usr failed"; }
	mkdir -p "$LISTS"
	stage_list >"$LISTS/stage"
	deb_list >"$LISTS/deb"
	echo "make install: $(wc -l <"$LISTS/stage") files"
	same_list ".deb" "$LISTS/stage" "$LISTS/deb"
	for f in $KEY_FILES; do
		grep -q " $f\$" "$LISTS/deb" || fail "$f is not in the .deb"
	done
	for f in $OPTIONAL_FILES; do
		if [ -e "$STAGE$f" ]; then
			grep -q " $f\$" "$LISTS/deb" || fail "$f is not in the .deb"
		else
			echo "note: $f not installed by make install (yet)"
		fi
	done
	# The packaging's own files: exactly these.
	dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { p = $6; sub(/^\./, "", p); print p }' |
		grep -e '^/usr/share/doc/' -e '^/usr/share/lintian/' | LC_ALL=C sort >"$LISTS/doc"
	printf '%s\n' /usr/share/doc/$PKG/README.md.gz /usr/share/doc/$PKG/changelog.gz \
		/usr/share/doc/$PKG/copyright /usr/share/lintian/overrides/$PKG |
		LC_ALL=C sort >"$LISTS/doc.expected"
	diff -u "$LISTS/doc.expected" "$LISTS/doc" || fail "unexpected documentation or lintian files"
	# Conffiles: the files under /etc, no other.
	stage_etc >"$LISTS/etc"
	dpkg-deb -I "$DEB" conffiles | LC_ALL=C sort >"$LISTS/conffiles"
	diff -u "$LISTS/etc" "$LISTS/conffiles" || fail "conffiles are not exactly the files under /etc"
	# The maintainer scripts and triggers are the dracut diversion's, no
	# other (an update-initramfs trigger would rebuild the initrd in /boot).
	dpkg-deb --ctrl-tarfile "$DEB" | tar -t | sed 's,^\./,,' | grep -v '^$' | LC_ALL=C sort >"$LISTS/control"
	printf '%s\n' conffiles control md5sums postinst postrm prerm triggers >"$LISTS/control.expected"
	diff -u "$LISTS/control.expected" "$LISTS/control" || fail "unexpected control files (maintainer scripts or triggers)"
	dpkg-deb -I "$DEB" triggers | sed -e 's/#.*//' -e '/^[[:space:]]*$/d' >"$LISTS/triggers"
	printf '%s\n' "interest-noawait $DRACUT" "interest-noawait $DRACUT.distrib" |
		diff -u - "$LISTS/triggers" || fail "unexpected triggers"
	for f in postinst prerm postrm; do
		dpkg-deb -I "$DEB" "$f" | grep -qw 'dpkg-divert' || fail "the $f does not handle the diversion"
		dpkg-deb -I "$DEB" "$f" | grep -q 'update-initramfs\|/boot' && fail "the $f touches the initrd"
	done
	# The relations the package promises.
	dpkg-deb -f "$DEB" Depends | grep -q 'erofs-utils' || fail "Depends lacks erofs-utils"
	dpkg-deb -f "$DEB" Depends | grep -q 'libkmod2' || fail "Depends lacks libkmod2 (shlibs)"
	dpkg-deb -f "$DEB" Depends | grep -q 'libblkid1' || fail "Depends lacks libblkid1 (shlibs)"
	# The RPM spec's %files, statically: every entry matches a file of make
	# install, and every file of make install is matched by one entry (or is
	# an initramfs-tools file the spec lists when make install ships it).
	spec_files >"$LISTS/spec"
	[ -s "$LISTS/spec" ] || fail "no %files entries in $SPEC"
	cut -d' ' -f2 "$LISTS/stage" >"$LISTS/stage.paths"
	while IFS= read -r entry; do
		hits=0
		while IFS= read -r f; do
			# shellcheck disable=SC2053 # the entry is a glob
			[[ $f == $entry ]] && hits=$((hits + 1))
		done <"$LISTS/stage.paths"
		[ "$hits" = 1 ] || fail "spec %files entry $entry matches $hits files of make install"
	done <"$LISTS/spec"
	while IFS= read -r f; do
		hits=0
		while IFS= read -r entry; do
			# shellcheck disable=SC2053
			[[ $f == $entry ]] && hits=$((hits + 1))
		done <"$LISTS/spec"
		if [ "$hits" = 0 ]; then
			case " $(tr '\n' ' ' <<<"$SPEC_CONDITIONAL_FILES") " in
			*" $f "*) grep -q "$(spec_conditional_name "$f")" "$TOP/$SPEC" ||
				fail "$f is installed but $SPEC does not list it" ;;
			*) fail "$f is installed by make install but not in $SPEC's %files" ;;
			esac
		fi
	done <"$LISTS/stage.paths"
	echo "spec: $(wc -l <"$LISTS/spec") %files entries cover make install"
}

case_deb_installs_without_touching_boot() {
	local hb out
	[ -f "$DEB" ] || fail "no .deb (see deb-builds-lintian-clean)"
	boot_snapshot >"$BOOT_SNAPSHOT"
	etc_kernel >"$WORK/etc-kernel-before"
	dracut_state >"$WORK/dracut-before"
	INSTALLED_BY_US=1
	dpkg -i "$DEB" >"$WORK/dpkg-i.log" 2>&1 || { cat "$WORK/dpkg-i.log"; fail "dpkg -i failed"; }
	cat "$WORK/dpkg-i.log"
	installed || fail "$PKG is not installed after dpkg -i"
	dpkg --verify "$PKG" || fail "dpkg --verify $PKG reports changed files"
	expect_dracut_diverted
	for f in $KEY_FILES; do
		present "$f" || fail "$f missing after dpkg -i"
	done
	/usr/sbin/initoverlayfs --version | grep -qF "$VERSION" || fail "installed boot program is not version $VERSION"
	/usr/sbin/initoverlayfs-install --help >/dev/null || fail "installed initoverlayfs-install --help failed"
	man -w initoverlayfs-install >/dev/null || fail "man cannot find initoverlayfs-install(8)"
	dpkg-query -W -f='${Conffiles}\n' "$PKG" | grep -q '/etc/kernel/postinst.d/zz-initoverlayfs' ||
		fail "the postinst.d hook is not a conffile"
	# Installing touched nothing in /boot and wrote no config.
	boot_snapshot | diff -u "$BOOT_SNAPSHOT" - || fail "dpkg -i changed /boot"
	[ ! -e /etc/initoverlayfs.conf ] || fail "dpkg -i wrote /etc/initoverlayfs.conf"

	# The installed kernel hooks, as a kernel package runs them (KVER,
	# image), in a temporary boot directory: they succeed with the installed
	# installer and boot program, then remove exactly what they made.
	hb=$WORK/hook-boot
	mkdir -p "$hb" "$WORK/hook-src"
	vm_busybox_tree "$WORK/hook-src"
	# a next init, which the installer requires of a full initrd
	ln -s ../bin/busybox "$WORK/hook-src/sbin/init"
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$WORK/hook.conf"
	# as on a dracut system: no post-update.d hook builds the pair first
	out=$(env PATH=$HOOK_PATH TMPDIR="$WORK" INITOVERLAYFS_BOOT_DIR="$hb" \
		INITOVERLAYFS_SOURCE="$WORK/hook-src" INITOVERLAYFS_CONFIG="$WORK/hook.conf" \
		INITOVERLAYFS_POST_UPDATE_HOOK=/nonexistent \
		/etc/kernel/postinst.d/zz-initoverlayfs "$KREL" "$KERNEL" 2>&1) ||
		{ echo "$out"; fail "the installed postinst.d hook failed"; }
	echo "$out" | tail -n 3
	[ -s "$hb/initrd.img-$KREL" ] || fail "the hook made no $hb/initrd.img-$KREL"
	ls "$hb"/initoverlayfs-"$KREL"-*.img >/dev/null || fail "the hook made no image in $hb"
	touch "$hb/unrelated-file"
	out=$(env PATH=$HOOK_PATH INITOVERLAYFS_BOOT_DIR="$hb" \
		/etc/kernel/postrm.d/zz-initoverlayfs "$KREL" "$KERNEL" 2>&1) ||
		{ echo "$out"; fail "the installed postrm.d hook failed"; }
	[ "$(ls -A "$hb")" = unrelated-file ] || fail "postrm.d hook left or removed: $(ls -A "$hb")"
	# The installed post-update.d hook, as update-initramfs runs it
	# (VERSION PATH-OF-INITRD), on a full initrd in a temporary boot
	# directory: the initrd becomes the mini-initramfs of a new pair.
	hb=$WORK/post-update-boot
	mkdir -p "$hb"
	(cd "$WORK/hook-src" && find . | cpio -o -H newc --quiet) >"$hb/initrd.img-$KREL"
	out=$(env PATH=$HOOK_PATH TMPDIR="$WORK" INITOVERLAYFS_CONFIG="$WORK/hook.conf" \
		/etc/initramfs/post-update.d/initoverlayfs "$KREL" "$hb/initrd.img-$KREL" 2>&1) ||
		{ echo "$out"; fail "the installed post-update.d hook failed"; }
	[ -z "$out" ] || { echo "$out"; fail "the post-update.d hook was not quiet"; }
	ls "$hb"/initoverlayfs-"$KREL"-*.img >/dev/null || fail "the post-update.d hook made no image"
	boot_snapshot | diff -u "$BOOT_SNAPSHOT" - || fail "the hooks changed /boot"
}

case_installed_pair_boots_in_qemu() {
	local d=$WORK/qemu t fs log
	installed || fail "$PKG is not installed (see deb-installs-without-touching-boot)"
	mkdir -p "$d/boot"
	# The full initrd (in the EROFS image): busybox whose /sbin/init mounts
	# root= and switches into it (mount --move + chroot: busybox
	# switch_root refuses an overlay root).
	t=$d/initrd-tree
	vm_busybox_tree "$t"
	cat >"$t/sbin/init" <<-'EOF'
	#!/bin/busybox sh
	export PATH=/bin:/sbin
	echo "IOFS-PKG-INITRD: on$(grep -o ' / overlay ' /proc/mounts)"
	for w in $(cat /proc/cmdline); do case $w in root=*) root=${w#root=} ;; esac; done
	n=0
	until dev=$(findfs "$root" 2>/dev/null); do
	    n=$((n + 1)); [ $n -lt 100 ] || { echo "IOFS-PKG-INITRD-ERROR: no $root"; poweroff -f; }
	    sleep 0.1
	done
	mkdir -p /sysroot && mount -t ext4 -o ro "$dev" /sysroot || { echo "IOFS-PKG-INITRD-ERROR: mount $dev"; poweroff -f; }
	for m in /dev /proc /sys /run; do mount --move $m /sysroot$m; done
	cd /sysroot && mount --move . / && exec chroot . /sbin/init
	echo "IOFS-PKG-INITRD-ERROR: switch failed"; poweroff -f
	EOF
	chmod 0755 "$t/sbin/init"
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$d/conf"
	# The installed tool, no --boot-program: it takes the static boot
	# program the package installs beside it.
	env PATH=$HOOK_PATH TMPDIR="$WORK" /usr/sbin/initoverlayfs-install --kver "$KREL" \
		--boot-dir "$d/boot" --source "$t" --config "$d/conf" \
		--initramfs-compression zstd,3 -f >"$d/install.out" 2>&1 ||
		{ cat "$d/install.out"; fail "installed initoverlayfs-install failed"; }
	tail -n 3 "$d/install.out"
	[ -s "$d/boot/initrd.img-$KREL" ] || fail "no mini-initramfs $d/boot/initrd.img-$KREL"
	mkdir -p "$d/mini"
	zstd -dc "$d/boot/initrd.img-$KREL" | (cd "$d/mini" && cpio -i --quiet --make-directories init etc/initoverlayfs.conf)
	cmp "$d/mini/init" /usr/lib/initoverlayfs/initoverlayfs-init ||
		fail "the mini-initramfs' /init is not the installed static boot program"
	fs=$(sed -n 's/^fs //p' "$d/mini/etc/initoverlayfs.conf")
	[ -n "$fs" ] || fail "no 'fs' in the mini-initramfs config"
	vm_make_rootfs "$d/root.img" "$ROOT_UUID" iofsroot
	vm_make_bootfs "$d/bootfs.img" "$BOOT_UUID" iofsboot "$(ls "$d"/boot/initoverlayfs-"$KREL"-*.img):$fs"
	log=$d/boot.log
	vm_boot -k "$KERNEL" -i "$d/boot/initrd.img-$KREL" -d "$d/root.img" -d "$d/bootfs.img" \
		-t 90 -l "$log" -a "root=UUID=$ROOT_UUID ro" || { vm_log_tail "$log" 40; fail "vm_boot failed"; }
	vm_assert_booted "$log"
	# this full initrd has no /init: its /sbin/init is the next init
	vm_assert_steps "$log" /sbin/init
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdb (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$fs on /initrofs (erofs, "
	vm_assert_log_has "$log" "IOFS-PKG-INITRD: on / overlay "
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	vm_assert_log_lacks "$log" "IOFS-PKG-INITRD-ERROR"
	echo "marker: $(vm_marker_line "$log") (host wall ${VM_WALL_S}s)"
	cp "$log" "$TEST_LOG_DIR/installed-pair-boot.serial.log"
}

case_rpm_builds_same_files() {
	local rpmfile
	[ -d "$SRC" ] || fail "no copy of the tree (see deb-builds-lintian-clean)"
	[ -s "$LISTS/stage" ] || fail "no make install list (see deb-file-list-matches-make-install)"
	mkdir -p "$RPMTOP/SOURCES"
	[ "$(rpmspec -q --qf '%{VERSION}\n' --srpm "$TOP/$SPEC")" = "$VERSION" ] ||
		fail "$SPEC Version is not the Makefile's $VERSION"
	tree_files | tar -C "$TOP" --null -T - --transform "s,^,$PKG-$VERSION/," \
		-czf "$RPMTOP/SOURCES/$PKG-$VERSION.tar.gz"
	# --nodeps: BuildRequires are Fedora's names, not in Debian's empty rpm
	# database; no debuginfo package (Debian has no find-debuginfo).
	env -u TEST_LOG_DIR rpmbuild -bb --nodeps --define "_topdir $RPMTOP" --define 'debug_package %{nil}' \
		"$TOP/$SPEC" >"$WORK/rpmbuild.log" 2>&1 ||
		{ tail -n 40 "$WORK/rpmbuild.log"; fail "rpmbuild -bb failed"; }
	grep -q '^cli: [0-9]* passed, 0 failed' "$WORK/rpmbuild.log" || fail "%check did not run the command-line tier"
	rpmfile=$(find "$RPMTOP/RPMS" -name "$PKG-$VERSION-*.rpm")
	if [ "$(echo "$rpmfile" | wc -l)" != 1 ] || [ ! -f "$rpmfile" ]; then
		fail "expected one RPM, found: $rpmfile"
	fi
	echo "rpm: ${rpmfile##*/}, $(stat -c %s "$rpmfile") bytes"
	rpm_list "$rpmfile" >"$LISTS/rpm"
	same_list "rpm -qlp" "$LISTS/stage" "$LISTS/rpm"
	rpm -qlp "$rpmfile" | grep -qx '/usr/share/doc/.*README.md' || fail "README.md is not in the RPM's docs"
	rpm -qp --configfiles "$rpmfile" | LC_ALL=C sort >"$LISTS/rpm-config"
	stage_etc | diff -u - "$LISTS/rpm-config" || fail "RPM config files are not exactly the files under /etc"
	rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpmfile" |
		grep -qx 'drwxr-xr-x /usr/lib/dracut/modules.d/81initoverlayfs' ||
		fail "the RPM does not own the dracut module directory"
	rpm -qp --requires "$rpmfile" >"$LISTS/rpm-requires"
	for r in erofs-utils kmod zstd 'libkmod.so.2()(64bit)' 'libblkid.so.1()(64bit)'; do
		grep -qxF "$r" "$LISTS/rpm-requires" || fail "RPM does not require $r"
	done
}

# Upgrading the original initoverlayfs' RPM (a stand-in: its name, its
# version 0.995, its files at their paths), in an rpm root of its own:
# rpm -U takes this package as the newer one (Epoch 1), replaces the
# original's files and drops its /usr/bin/initoverlayfs-install, and
# leaves the user's /etc/initoverlayfs.conf (the original's, init mode),
# which no package owns, as it was. The installed kernel-install plugin
# then builds a pair from it with the installed installer and boot
# program: two warnings, lz4hc level 11, mode init.
case_rpm_upgrades_the_original() {
	local root=$WORK/rpmroot orig=$WORK/rpm-original boot=$WORK/upgrade-boot rpmfile oldrpm f
	rpmfile=$(find "$RPMTOP/RPMS" -name "$PKG-$VERSION-*.rpm")
	[ -f "$rpmfile" ] || fail "no RPM (see rpm-builds-same-files)"
	mkdir -p "$orig/SPECS"
	cat >"$orig/SPECS/original.spec" <<-'EOF'
		Name: initoverlayfs
		Version: 0.995
		Release: 1
		Summary: Stand-in for the original initoverlayfs
		License: GPL-2.0-only
		BuildArch: noarch
		%description
		The original initoverlayfs' package layout, for the upgrade test.
		%install
		for f in /usr/bin/initoverlayfs-install /usr/sbin/initoverlayfs \
		    /usr/lib/dracut/modules.d/81initoverlayfs/module-setup.sh \
		    /usr/lib/systemd/system/pre-initoverlayfs.service \
		    /usr/lib/kernel/install.d/94-initoverlayfs.install; do
		    mkdir -p %{buildroot}$(dirname $f)
		    printf '#!/bin/sh\necho IOFS-STAND-IN-ORIGINAL\n' >%{buildroot}$f
		    chmod 0755 %{buildroot}$f
		done
		%files
		/usr/bin/initoverlayfs-install
		/usr/sbin/initoverlayfs
		/usr/lib/dracut/modules.d/81initoverlayfs/
		/usr/lib/systemd/system/pre-initoverlayfs.service
		/usr/lib/kernel/install.d/94-initoverlayfs.install
	EOF
	env -u TEST_LOG_DIR rpmbuild -bb --nodeps --define "_topdir $orig" "$orig/SPECS/original.spec" \
		>"$orig/rpmbuild.log" 2>&1 || { tail -n 20 "$orig/rpmbuild.log"; fail "stand-in rpmbuild"; }
	oldrpm=$(find "$orig/RPMS" -name "$PKG-0.995-1.*.rpm")
	[ -f "$oldrpm" ] || fail "no stand-in RPM"
	rpm --root "$root" --initdb
	rpm --root "$root" -i --nodeps --noscripts "$oldrpm" || fail "rpm -i of the stand-in"
	# what the original's installer wrote on its first run
	mkdir -p "$root/etc"
	cp "$TOP/tests/data/original-init.conf" "$root/etc/initoverlayfs.conf"
	sha256sum "$root/etc/initoverlayfs.conf" >"$WORK/original-conf.sum"

	rpm --root "$root" -U --nodeps --noscripts "$rpmfile" || fail "rpm -U over the original"
	rpm --root "$root" -q --qf '%{EPOCH}:%{VERSION}\n' "$PKG" | grep -qx "1:$VERSION" ||
		fail "installed: $(rpm --root "$root" -q "$PKG")"
	[ ! -e "$root/usr/bin/initoverlayfs-install" ] || fail "the original's installer is still there"
	# the original's plugin ran at 94, after 90-loaderentry had copied the
	# staged initrd; this package's is 89: the original's is gone
	[ ! -e "$root/usr/lib/kernel/install.d/94-initoverlayfs.install" ] ||
		fail "the original's kernel-install plugin (94) is still there"
	for f in /usr/sbin/initoverlayfs /usr/lib/dracut/modules.d/81initoverlayfs/module-setup.sh \
		/usr/lib/systemd/system/pre-initoverlayfs.service \
		/usr/lib/kernel/install.d/89-initoverlayfs.install; do
		grep -q IOFS-STAND-IN-ORIGINAL "$root$f" && fail "$f is still the original's"
	done
	sha256sum -c "$WORK/original-conf.sum" >/dev/null || fail "the config was changed"
	rpm --root "$root" -qf /etc/initoverlayfs.conf >/dev/null 2>&1 && fail "a package owns the config"

	# the next kernel install
	mkdir -p "$boot" "$WORK/upgrade-src/sbin"
	cp /bin/busybox "$WORK/upgrade-src/sbin/init"
	env INITOVERLAYFS_INSTALL="$root/usr/sbin/initoverlayfs-install" \
		INITOVERLAYFS_CONFIG="$root/etc/initoverlayfs.conf" INITOVERLAYFS_BOOT_DIR="$boot" \
		INITOVERLAYFS_SOURCE="$WORK/upgrade-src" \
		"$root/usr/lib/kernel/install.d/89-initoverlayfs.install" add "$KREL" "$WORK/entry" \
		>"$WORK/upgrade-install.log" 2>&1 || { cat "$WORK/upgrade-install.log"; fail "kernel install"; }
	cat "$WORK/upgrade-install.log"
	[ "$(grep -c ': warning: ' "$WORK/upgrade-install.log")" = 2 ] || fail "not 2 warnings"
	grep -qF "compression lz4hc,11, from the original initoverlayfs' erofs_compression" \
		"$WORK/upgrade-install.log" || fail "erofs_compression not used"
	grep -qF "mode init, from the original initoverlayfs' initoverlayfs_init" \
		"$WORK/upgrade-install.log" || fail "initoverlayfs_init not used"
	[ "$(find "$boot" -name "initoverlayfs-$KREL-*.img" | wc -l)" = 1 ] || fail "no image: $(ls "$boot")"
	f=$(find "$boot" -maxdepth 1 -name "initr*$KREL*" ! -name 'initoverlayfs-*')
	[ -f "$f" ] || fail "no mini-initramfs: $(ls "$boot")"
	sha256sum -c "$WORK/original-conf.sum" >/dev/null || fail "the config was changed"
}

case_deb_remove_and_purge() {
	local out
	installed || fail "$PKG is not installed"
	dpkg -r "$PKG" >"$WORK/dpkg-r.log" 2>&1 || { cat "$WORK/dpkg-r.log"; fail "dpkg -r failed"; }
	[ ! -e /usr/sbin/initoverlayfs-install ] || fail "dpkg -r left /usr/sbin/initoverlayfs-install"
	# dracut back as it was, byte for byte, and not diverted
	dracut_state | diff -u "$WORK/dracut-before" - || fail "dpkg -r did not put dracut back as it was"
	[ -x /etc/kernel/postinst.d/zz-initoverlayfs ] || fail "dpkg -r removed the conffile hook (it must stay until purge)"
	# A kernel installed now runs the left-over hook: it must do nothing
	# and succeed (exit 0), or the kernel's own postinst would fail.
	mkdir -p "$WORK/removed-boot"
	out=$(env PATH=$HOOK_PATH INITOVERLAYFS_BOOT_DIR="$WORK/removed-boot" \
		/etc/kernel/postinst.d/zz-initoverlayfs "$KREL" "$KERNEL" 2>&1) ||
		{ echo "$out"; fail "left-over postinst.d hook fails without the package"; }
	[ -z "$(ls -A "$WORK/removed-boot")" ] || fail "left-over hook wrote $(ls -A "$WORK/removed-boot")"
	env PATH=$HOOK_PATH INITOVERLAYFS_BOOT_DIR="$WORK/removed-boot" \
		/etc/kernel/postrm.d/zz-initoverlayfs "$KREL" "$KERNEL" || fail "left-over postrm.d hook fails"
	dpkg -P "$PKG" >"$WORK/dpkg-p.log" 2>&1 || { cat "$WORK/dpkg-p.log"; fail "dpkg -P failed"; }
	! dpkg-query -W "$PKG" >/dev/null 2>&1 || fail "$PKG still known to dpkg after purge"
	for f in $KEY_FILES $OPTIONAL_FILES; do
		! present "$f" || fail "$f left after purge"
	done
	[ ! -e /usr/lib/dracut/modules.d/81initoverlayfs ] || fail "dracut module directory left after purge"
	etc_kernel | diff -u "$WORK/etc-kernel-before" - ||
		fail "/etc/kernel differs from before the install"
	dracut_state | diff -u "$WORK/dracut-before" - || fail "dracut is not as before the install"
	boot_snapshot | diff -u "$BOOT_SNAPSHOT" - || fail "/boot changed between install and purge"
}

# The diversion follows dracut (a stand-in dracut package, built here,
# whose /usr/bin/dracut says who it is), in an overlay of this machine:
# with no dracut, the package diverts nothing; dracut installed after it
# is diverted when dpkg runs the package's file trigger; dracut removed,
# the diversion goes with it; a reinstall (an upgrade's scripts) keeps
# it; the purge puts that dracut back as it was.
case_deb_diversion_follows_dracut() {
	local fake=$WORK/fake-dracut fakedeb=$WORK/iofs-test-dracut.deb out=$WORK/overlay-out sum
	[ -f "$DEB" ] || fail "no .deb (see deb-builds-lintian-clean)"
	installed && fail "$PKG is installed here (see deb-remove-and-purge)"
	mkdir -p "$fake/DEBIAN" "$fake/usr/bin"
	printf '#!/bin/sh\necho "stand-in dracut $*"\n' >"$fake/usr/bin/dracut"
	chmod 0755 "$fake/usr/bin/dracut"
	printf '%s\n' 'Package: iofs-test-dracut' 'Version: 1' 'Architecture: all' \
		'Maintainer: initoverlayfs tests <dev@initoverlayfs.invalid>' \
		'Description: stand-in dracut for the diversion test' >"$fake/DEBIAN/control"
	dpkg-deb --root-owner-group -b "$fake" "$fakedeb" >/dev/null || fail "dpkg-deb -b of the stand-in"
	# shellcheck disable=SC2016 # run by the chroot's shell
	in_overlay '
		state() {
			for f in /usr/bin/dracut /usr/bin/dracut.distrib; do
				if [ -L "$f" ]; then echo "$f link $(readlink "$f")"
				elif [ -e "$f" ]; then echo "$f $(stat -c "%F %a" "$f") $(sha256sum <"$f" | cut -d" " -f1)"
				else echo "$f none"; fi
			done
			echo "diverted-by: $(dpkg-divert --listpackage /usr/bin/dracut)"
		}
		step() { echo "== $1"; state | tee "/out/$1"; }
		if dpkg-query -W -f="\${db:Status-Status}" dracut-core 2>/dev/null | grep -qx installed; then
			dpkg -P --force-depends dracut-core >/dev/null
		fi
		step no-dracut
		dpkg -i '"$DEB"' >/dev/null
		step installed-without-dracut
		dpkg -i '"$fakedeb"' >/dev/null
		step dracut-installed-after
		dracut --version >/out/dracut-run
		dpkg -r iofs-test-dracut >/dev/null
		step dracut-removed
		dpkg -i '"$fakedeb"' >/dev/null
		dpkg -i '"$DEB"' >/dev/null
		step reinstalled
		dpkg -P initoverlayfs >/dev/null
		step purged
		dpkg --verify iofs-test-dracut && echo verified >/out/verify
	' || fail "the overlay run failed"
	sum=$(sha256sum <"$fake/usr/bin/dracut" | cut -d' ' -f1)
	printf '%s\n' "$DRACUT none" "$DRACUT.distrib none" "diverted-by: " >"$WORK/state-none"
	diff -u "$WORK/state-none" "$out/installed-without-dracut" || fail "without dracut, the package diverted something"
	printf '%s\n' "$DRACUT link $DRACUT_WRAPPER" "$DRACUT.distrib regular file 755 $sum" "diverted-by: $PKG" \
		>"$WORK/state-diverted"
	diff -u "$WORK/state-diverted" "$out/dracut-installed-after" || fail "dracut installed after the package is not diverted"
	grep -qx 'stand-in dracut --version' "$out/dracut-run" || fail "dracut did not run the stand-in through the wrapper"
	diff -u "$WORK/state-none" "$out/dracut-removed" || fail "dracut removed, the diversion or the wrapper's link stayed"
	diff -u "$WORK/state-diverted" "$out/reinstalled" || fail "a reinstall of the package lost the diversion"
	printf '%s\n' "$DRACUT regular file 755 $sum" "$DRACUT.distrib none" "diverted-by: " >"$WORK/state-restored"
	diff -u "$WORK/state-restored" "$out/purged" || fail "the purge did not put dracut back as it was"
	[ -e "$out/verify" ] || fail "dpkg --verify of the stand-in dracut failed after the purge"
}

T0=$(date +%s)
echo "package: kernel $KREL, work $WORK"
run_case deb-builds-lintian-clean case_deb_builds_lintian_clean
run_case deb-file-list-matches-make-install case_deb_file_list_matches_make_install
run_case deb-installs-without-touching-boot case_deb_installs_without_touching_boot
run_case installed-pair-boots-in-qemu case_installed_pair_boots_in_qemu
run_case rpm-builds-same-files case_rpm_builds_same_files
run_case rpm-upgrades-the-original case_rpm_upgrades_the_original
run_case deb-remove-and-purge case_deb_remove_and_purge
run_case deb-diversion-follows-dracut case_deb_diversion_follows_dracut
echo "package: total $(($(date +%s) - T0)) s"
runner_summary package
