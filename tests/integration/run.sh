#!/bin/bash
# Distro integration tier (root): the systemd units, the dracut module
# 81initoverlayfs, the initramfs-tools hook and boot script, the
# kernel-install plugin and Debian's kernel hooks.
#
# Usage: tests/integration/run.sh [INSTALLER [BOOT-PROGRAM]]
#   defaults: build/initoverlayfs-install build/initoverlayfs
# Environment: KVER (default: the newest release under /lib/modules), INTEGRATION_SOURCE (the full initrd the hook tests
#   pack; default /boot/initrd.img-KVER), INTEGRATION_WORK (where the
#   mini-initramfs and dracut's log stay; default build/integration),
#   INTEGRATION_INSTALLER_DRACUT (1: also run initoverlayfs-install --mode
#   systemd, about a minute; 0: skip), TEST_LOG_DIR.
#
# Nothing outside temporary directories is touched (update-initramfs runs
# in a private mount namespace with an overlay over /etc): dracut runs from a
# symlinked copy of /usr/lib/dracut (dracutbasedir) holding the module from
# this tree, the boot program and the units come from the tree through the
# module's settings (initoverlayfs_binary, initoverlayfs_unitdir).
#
# Only `set -u` at the top: run_case needs a failing case to return, the
# cases themselves run with `set -e` (tests/lib/runner.sh).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/runner.sh"

INSTALL=$(realpath "${1:-build/initoverlayfs-install}")
BOOTPROG=$(realpath "${2:-build/initoverlayfs}")
OUT=$(realpath -m "${INTEGRATION_WORK:-build/integration}")
WORK=$(mktemp -d /tmp/iofs-integration.XXXXXX)
FAKE_UUID=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
UNITS="pre-initoverlayfs.target pre-initoverlayfs.service pre-initoverlayfs-switch-root.service"

cleanup() {
	rm -rf "$WORK"
}
trap cleanup EXIT

die() {
	echo "integration: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -x "$INSTALL" ] || die "$INSTALL is not built"
[ -x "$BOOTPROG" ] || die "$BOOTPROG is not built"
KVER=$(kernel_release) || die "no kernel modules in /lib/modules"
SOURCE=${INTEGRATION_SOURCE:-/boot/initrd.img-$KVER}
mkdir -p "$OUT"
rm -f "$OUT/mini-systemd.size" "$OUT/mini-init.size" "$OUT/installer-systemd.size"

# the config every case uses: an explicit bootfs, fast EROFS compression
CONF=$WORK/initoverlayfs.conf
printf 'bootfs UUID=%s\nbootfstype ext4\ncompression lz4\n' "$FAKE_UUID" >"$CONF"

# What the hooks ask the C side for: the modules every mini-initramfs gets
# (one a line) and the boot program's mount points ("KEY PATH" lines).
BOOT_MODULES=$("$INSTALL" --print-modules) || die "$INSTALL --print-modules failed"
MOUNT_POINTS=$("$BOOTPROG" --print-mount-points) || die "$BOOTPROG --print-mount-points failed"
NEW_ROOT=$(echo "$MOUNT_POINTS" | sed -n 's/^root //p')
[ -n "$NEW_ROOT" ] || die "$BOOTPROG --print-mount-points names no root"

# assert_boot_files LIST: an initramfs listing (lsinitrd, lsinitramfs -l)
# has every mount point as a directory and every module the installer lists
assert_boot_files() {
	local dir m
	while read -r _ dir; do
		grep -qE "^d.* ${dir#/}\$" "$1" || fail "no directory $dir in $1"
	done <<<"$MOUNT_POINTS"
	for m in $BOOT_MODULES; do
		grep -qE "/${m//[-_]/[-_]}\.ko" "$1" || fail "no module $m in $1"
	done
}

# ---- systemd units ------------------------------------------------------

case_units_content() {
	local u
	for u in $UNITS; do
		assert_contains "$TOP/systemd/$u" "ConditionPathExists=/etc/initrd-release"
	done
	local s=$TOP/systemd/pre-initoverlayfs.service
	assert_contains "$s" "Type=oneshot"
	assert_contains "$s" "ExecStart=/usr/sbin/initoverlayfs --systemd"
	assert_contains "$s" "After=systemd-udev-trigger.service systemd-modules-load.service"
	# settle is deprecated: udevadm warns about every unit pulling it in
	if grep -v '^#' "$s" | grep -q "systemd-udev-settle"; then
		fail "$s pulls in systemd-udev-settle.service"
	fi
	assert_contains "$s" "OnFailure=emergency.target"
	assert_contains "$s" "StandardOutput=journal+console"
	# the unit cannot ask the boot program where its root is: checked here
	assert_contains "$TOP/systemd/pre-initoverlayfs-switch-root.service" \
		"ExecStart=/usr/bin/systemctl --no-block switch-root $NEW_ROOT \${INITOVERLAYFS_INIT}"
	# where the boot program records the next init it checked (tests/ns)
	assert_contains "$TOP/systemd/pre-initoverlayfs-switch-root.service" \
		"EnvironmentFile=/run/initoverlayfs/next-init.env"
	assert_contains "$TOP/systemd/pre-initoverlayfs.target" \
		"Wants=pre-initoverlayfs.service pre-initoverlayfs-switch-root.service"
}

# systemd-analyze verify, with ExecStart pointing at the built program (the
# installed path does not exist on the test machine)
case_units_verify() {
	command -v systemd-analyze >/dev/null || fail "systemd-analyze not installed"
	local d=$WORK/units u
	mkdir -p "$d"
	for u in $UNITS; do
		sed "s|/usr/sbin/initoverlayfs|$BOOTPROG|" "$TOP/systemd/$u" >"$d/$u"
	done
	# shellcheck disable=SC2086 # a list of unit names
	(cd "$d" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no $UNITS) \
		>"$d/verify.log" 2>&1 || { cat "$d/verify.log"; fail "systemd-analyze verify failed"; }
	cat "$d/verify.log"
	# verify reports some problems without failing: none may name our units
	assert_not_contains "$d/verify.log" "initoverlayfs"
}

case_shellcheck() {
	command -v shellcheck >/dev/null || fail "shellcheck not installed (scripts/deps.txt has it)"
	shellcheck -s bash -e SC2034,SC2154 "$TOP/dracut/modules.d/81initoverlayfs/module-setup.sh"
	shellcheck "$TOP/kernel-install/89-initoverlayfs.install" \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$TOP/kernel/postrm.d/zz-initoverlayfs"
	shellcheck -x -e SC1091 "$HERE/run.sh"
	shellcheck "$TOP/initramfs-tools/hooks/initoverlayfs" "$TOP/initramfs-tools/scripts/initoverlayfs" \
		"$TOP/initramfs-tools/post-update.d/initoverlayfs" "$TOP/dracut/dracut-wrapper" \
		"$TOP/debian/initoverlayfs.postinst" "$TOP/debian/initoverlayfs.prerm" "$TOP/debian/initoverlayfs.postrm"
	shellcheck -x -e SC1091 "$TOP/tests/vm/lib.sh" "$TOP/tests/vm/cases.sh" \
		"$TOP/tests/vm/distro.sh" "$TOP/tests/vm/verity.sh"
}

# ---- dracut module --------------------------------------------------------

# a dracut base directory: /usr/lib/dracut with this tree's module added
make_dracut_base() {
	local base=$WORK/dracut e
	[ -d "$base" ] && return 0
	mkdir -p "$base/modules.d"
	for e in /usr/lib/dracut/*; do
		[ "$(basename "$e")" = modules.d ] || ln -s "$e" "$base/"
	done
	for e in /usr/lib/dracut/modules.d/*; do
		# an installed initoverlayfs module is not the one under test
		case ${e##*/} in [0-9][0-9]initoverlayfs) continue ;; esac
		ln -s "$e" "$base/modules.d/"
	done
	cp -r "$TOP/dracut/modules.d/81initoverlayfs" "$base/modules.d/"
}

# run dracut with the tree's module; $1: output image, the rest: dracut options
tree_dracut() {
	local img=$1
	shift
	make_dracut_base
	mkdir -p "$WORK/dracut.conf.d" "$WORK/tmp"
	: >"$WORK/dracut.conf"
	dracutbasedir=$WORK/dracut initoverlayfs_binary=$BOOTPROG initoverlayfs_install=$INSTALL \
		initoverlayfs_unitdir=$TOP/systemd initoverlayfs_conf=$CONF \
		dracut --conf "$WORK/dracut.conf" --confdir "$WORK/dracut.conf.d" --tmpdir "$WORK/tmp" \
		--force --reproducible --kver "$KVER" "$@" "$img"
}

# The systemd-mode mini-initramfs: systemd, udev, the module and what it
# installs, nothing else (-m); no microcode, zstd like the init-mode one.
case_dracut_systemd_mini() {
	local img=$OUT/mini-systemd-$KVER.img log=$OUT/dracut-systemd.log list=$WORK/mini.list
	tree_dracut "$img" --no-hostonly --no-early-microcode --zstd -m "initoverlayfs" >"$log" 2>&1 ||
		{ cat "$log"; fail "dracut failed"; }
	cat "$log"
	# dracut's own checks: nothing it could not install
	if grep -E -i "fail|error|warn|missing|no such file|not found|cannot" "$log"; then
		fail "dracut printed warnings (above)"
	fi
	assert_contains "$log" "*** Including module: initoverlayfs ***"
	lsinitrd "$img" >"$list"
	local p
	for p in usr/sbin/initoverlayfs etc/initoverlayfs.conf etc/initrd-release \
		systemd/system/pre-initoverlayfs.target \
		systemd/system/pre-initoverlayfs.service \
		systemd/system/pre-initoverlayfs-switch-root.service \
		systemd/systemd-udevd bin/systemctl 80-drivers.rules \
		"etc/systemd/system/default.target -> " "etc/systemd/system/initrd.target -> " \
		libblkid.so libkmod.so /loop.ko /erofs.ko /overlay.ko /dm-verity.ko /ext4.ko \
		/virtio_blk.ko; do
		assert_contains "$list" "$p"
	done
	assert_boot_files "$list"
	assert_not_contains "$list" "hwdb.bin"
	grep -q "etc/systemd/system/default.target -> .*pre-initoverlayfs.target" "$list" ||
		fail "default.target is not pre-initoverlayfs.target"
	# the config inside is the one given
	lsinitrd -f etc/initoverlayfs.conf "$img" >"$WORK/conf.in"
	cmp "$CONF" "$WORK/conf.in" || fail "config differs"
	# the boot program inside runs (its libraries are there)
	local x=$WORK/x
	mkdir -p "$x"
	(cd "$x" && lsinitrd --unpack "$img" >/dev/null 2>&1)
	chroot "$x" /usr/sbin/initoverlayfs --version
	# nothing of dracut's own initrd logic
	assert_not_contains "$list" "dracut-initqueue"
	stat -c %s "$img" >"$OUT/mini-systemd.size"
	echo "systemd-mode mini-initramfs: $(cat "$OUT/mini-systemd.size") bytes"
}

# Init mode (initoverlayfs_mode=init): /init is the boot program, no systemd.
case_dracut_init_mini() {
	local img=$OUT/mini-init-$KVER.img log=$OUT/dracut-init.log list=$WORK/init.list
	initoverlayfs_mode=init tree_dracut "$img" --no-hostonly --no-early-microcode --zstd \
		-m "initoverlayfs" >"$log" 2>&1 || { cat "$log"; fail "dracut failed"; }
	cat "$log"
	if grep -E -i "fail|error|warn|missing|no such file|not found|cannot" "$log"; then
		fail "dracut printed warnings (above)"
	fi
	lsinitrd "$img" >"$list"
	local p
	for p in "init -> usr/sbin/initoverlayfs" usr/sbin/initoverlayfs etc/initoverlayfs.conf \
		libkmod.so /loop.ko /erofs.ko /overlay.ko /dm-verity.ko /ext4.ko; do
		assert_contains "$list" "$p"
	done
	assert_not_contains "$list" "pre-initoverlayfs"
	assert_not_contains "$list" "systemd/systemd"
	assert_boot_files "$list"
	stat -c %s "$img" >"$OUT/mini-init.size"
}

# A hand-run dracut on a system upgraded from the original initoverlayfs:
# without initoverlayfs_mode, the config's initoverlayfs_init true (the
# original's init mode) makes an init-mode mini-initramfs, as the
# original's module did; the config goes in as it is.
case_dracut_original_init_config() {
	local img=$OUT/mini-original-$KVER.img log=$OUT/dracut-original.log list=$WORK/original.list
	local CONF=$WORK/original.conf
	sed "s/^bootfs .*/bootfs UUID=$FAKE_UUID/" "$TOP/tests/data/original-init.conf" >"$CONF"
	(unset initoverlayfs_mode; tree_dracut "$img" --no-hostonly --no-early-microcode --zstd \
		-m "initoverlayfs") >"$log" 2>&1 || { cat "$log"; fail "dracut failed"; }
	cat "$log"
	lsinitrd "$img" >"$list"
	assert_contains "$list" "init -> usr/sbin/initoverlayfs"
	assert_not_contains "$list" "pre-initoverlayfs"
	assert_not_contains "$list" "systemd/systemd"
	lsinitrd -f etc/initoverlayfs.conf "$img" >"$WORK/original.in"
	cmp "$CONF" "$WORK/original.in" || fail "config differs"
	# initoverlayfs_init false: the systemd service, as without the key
	sed -i 's/^initoverlayfs_init true$/initoverlayfs_init false/' "$CONF"
	(unset initoverlayfs_mode; tree_dracut "$img" --no-hostonly --no-early-microcode --zstd \
		-m "initoverlayfs") >"$log" 2>&1 || { cat "$log"; fail "dracut failed"; }
	lsinitrd "$img" >"$list"
	assert_contains "$list" "systemd/system/pre-initoverlayfs.service"
	assert_not_contains "$list" "init -> usr/sbin/initoverlayfs"
}

# The initramfs-tools hook and boot script from a conf dir (nothing is
# installed on the host): with BOOT=initoverlayfs, mkinitramfs makes a
# mini-initramfs with the boot program, the config, the boot script, the
# mount points and the modules the installer lists.
case_initramfs_tools_hook() {
	local cd=$WORK/itools img=$OUT/mini-itools-$KVER.img log=$OUT/mkinitramfs.log
	local list=$WORK/itools.list p
	mkdir -p "$cd/hooks" "$cd/scripts" "$cd/conf.d"
	cp "$TOP/initramfs-tools/hooks/initoverlayfs" "$cd/hooks/"
	cp "$TOP/initramfs-tools/scripts/initoverlayfs" "$cd/scripts/"
	: >"$cd/modules"
	printf '%s\n' BOOT=initoverlayfs MODULES=list BUSYBOX=auto COMPRESS=zstd \
		"INITOVERLAYFS_CONF=$CONF" "INITOVERLAYFS_BINARY=$BOOTPROG" \
		"INITOVERLAYFS_INSTALL=$INSTALL" >"$cd/initramfs.conf"
	mkinitramfs -d "$cd" -o "$img" "$KVER" >"$log" 2>&1 || { cat "$log"; fail "mkinitramfs failed"; }
	cat "$log"
	assert_not_contains "$log" "E: initoverlayfs"
	lsinitramfs -l "$img" >"$list"
	for p in usr/sbin/initoverlayfs etc/initoverlayfs.conf scripts/initoverlayfs /ext4.ko \
		libblkid.so libkmod.so; do
		assert_contains "$list" "$p"
	done
	assert_boot_files "$list"
	# the config inside is the one given
	mkdir "$WORK/itools.x"
	unmkinitramfs "$img" "$WORK/itools.x"
	cmp "$CONF" "$(find "$WORK/itools.x" -path '*/etc/initoverlayfs.conf' | head -n 1)" ||
		fail "config differs"
}

# initoverlayfs-install --mode systemd: its `dracut --modules initoverlayfs`
# finds the module (dracutbasedir) and the mini-initramfs it makes carries
# the module's files and the config naming the new image.
case_installer_systemd_mode() {
	[ -f "$SOURCE" ] || fail "no $SOURCE to pack"
	make_dracut_base
	local b=$WORK/boot-sd
	mkdir -p "$b"
	dracutbasedir=$WORK/dracut initoverlayfs_binary=$BOOTPROG \
		initoverlayfs_unitdir=$TOP/systemd TMPDIR=$WORK \
		"$INSTALL" --kver "$KVER" --boot-dir "$b" --source "$SOURCE" --mode systemd \
		--config "$CONF" --boot-program "$BOOTPROG" --force
	ls -l "$b"
	local mini
	mini=$b/$(mini_name)
	lsinitrd "$mini" >"$WORK/sd.list"
	assert_contains "$WORK/sd.list" usr/sbin/initoverlayfs
	assert_contains "$WORK/sd.list" systemd/system/pre-initoverlayfs.service
	lsinitrd -f etc/initoverlayfs.conf "$mini" >"$WORK/sd.conf"
	assert_contains "$WORK/sd.conf" "initoverlayfs-$KVER-"
	stat -c %s "$mini" >"$OUT/installer-systemd.size"
}

# ---- make install -----------------------------------------------------------

case_make_install() {
	local d=$WORK/destdir
	make -C "$TOP" --no-print-directory install-integration DESTDIR="$d" PREFIX=/usr
	local f
	for f in usr/lib/systemd/system/pre-initoverlayfs.target \
		usr/lib/systemd/system/pre-initoverlayfs.service \
		usr/lib/systemd/system/pre-initoverlayfs-switch-root.service; do
		[ -f "$d/$f" ] || fail "$f not installed"
		[ "$(stat -c %a "$d/$f")" = 644 ] || fail "$f mode"
	done
	[ "$(stat -c %a "$d/usr/share/initramfs-tools/scripts/initoverlayfs")" = 644 ] ||
		fail "initramfs-tools boot script not installed 0644"
	for f in usr/lib/dracut/modules.d/81initoverlayfs/module-setup.sh \
		usr/share/initramfs-tools/hooks/initoverlayfs \
		usr/lib/kernel/install.d/89-initoverlayfs.install \
		etc/kernel/postinst.d/zz-initoverlayfs etc/kernel/postrm.d/zz-initoverlayfs \
		etc/initramfs/post-update.d/initoverlayfs usr/lib/initoverlayfs/dracut-wrapper; do
		[ -x "$d/$f" ] || fail "$f not installed executable"
	done
}

# ---- kernel hooks -------------------------------------------------------------

# files of another kernel and of this one that are not ours
plant_decoys() {
	local b=$1
	touch "$b/initoverlayfs-6.1.0-99-amd64-0123456789abcdef.img" \
		"$b/initrd.img-6.1.0-99-amd64" "$b/vmlinuz-6.1.0-99-amd64" \
		"$b/initoverlayfs-$KVER-rt-0123456789abcdef.img" "$b/initrd.img-$KVER-rt" \
		"$b/vmlinuz-$KVER" "$b/config-$KVER"
}

check_decoys() {
	local b=$1 f
	for f in "initoverlayfs-6.1.0-99-amd64-0123456789abcdef.img" \
		"initrd.img-6.1.0-99-amd64" "vmlinuz-6.1.0-99-amd64" \
		"initoverlayfs-$KVER-rt-0123456789abcdef.img" "initrd.img-$KVER-rt" \
		"vmlinuz-$KVER" "config-$KVER"; do
		[ -e "$b/$f" ] || fail "$f was removed"
	done
}

mini_name() {
	if [ -e /etc/initramfs-tools ]; then
		echo "initrd.img-$KVER"
	else
		echo "initramfs-$KVER.img"
	fi
}

case_debian_hooks() {
	[ -f "$SOURCE" ] || fail "no $SOURCE to pack"
	local b=$WORK/boot-hooks
	mkdir -p "$b"
	plant_decoys "$b"
	INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_PROGRAM=$BOOTPROG \
		INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_SOURCE=$SOURCE INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=/nonexistent \
		TMPDIR=$WORK "$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" "/boot/vmlinuz-$KVER"
	ls -l "$b"
	local imgs
	imgs=$(find "$b" -maxdepth 1 -regextype posix-extended \
		-regex ".*/initoverlayfs-$KVER-[0-9a-f]{16}\.img" | wc -l)
	[ "$imgs" -eq 1 ] || fail "$imgs images for $KVER, not 1"
	local mini
	mini=$b/$(mini_name)
	[ -s "$mini" ] || fail "no mini-initramfs $mini"
	# the mini-initramfs names the image just made
	lsinitrd -f etc/initoverlayfs.conf "$mini" >"$WORK/hook.conf"
	local img
	img=$(basename "$(find "$b" -maxdepth 1 -name "initoverlayfs-$KVER-*.img" ! -name "*-rt-*")")
	assert_contains "$WORK/hook.conf" "$img"
	check_decoys "$b"

	INITOVERLAYFS_BOOT_DIR=$b "$TOP/kernel/postrm.d/zz-initoverlayfs" "$KVER" "/boot/vmlinuz-$KVER"
	ls -l "$b"
	[ ! -e "$b/$img" ] || fail "$img not removed"
	[ ! -e "$mini" ] || fail "$mini not removed"
	check_decoys "$b"
	# once more: nothing left to remove is not an error
	INITOVERLAYFS_BOOT_DIR=$b "$TOP/kernel/postrm.d/zz-initoverlayfs" "$KVER"
	# a KVER the installer would refuse removes nothing
	local bad
	for bad in "" "-rf" "../boot-hooks/x" "." ".."; do
		if INITOVERLAYFS_BOOT_DIR=$b "$TOP/kernel/postrm.d/zz-initoverlayfs" "$bad" 2>/dev/null; then
			fail "postrm.d accepted the kernel release '$bad'"
		fi
	done
	check_decoys "$b"
}

# a postinst hook left behind by a removed package does nothing
case_debian_hook_no_installer() {
	local b=$WORK/boot-none
	mkdir -p "$b"
	INITOVERLAYFS_INSTALL=/nonexistent/initoverlayfs-install INITOVERLAYFS_BOOT_DIR=$b \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER"
	[ -z "$(ls -A "$b")" ] || fail "files appeared"
}

# Installed but not enabled (no config): a kernel install must go on as if
# the package were not there, and /boot stays as it is.
case_debian_hook_not_enabled() {
	local b=$WORK/boot-off
	mkdir -p "$b"
	INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_DIR=$b \
		INITOVERLAYFS_CONFIG=$WORK/no-such.conf \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" 2>"$WORK/off.err"
	assert_contains "$WORK/off.err" "$WORK/no-such.conf not found: not enabled, $KVER keeps its initrd"
	[ -z "$(ls -A "$b")" ] || fail "files appeared"
}

# Enabled, but the installer fails: the hook fails (the kernel install
# reports it) and says that the initrd was left alone.
case_debian_hook_installer_fails() {
	local b=$WORK/boot-fail
	mkdir -p "$b"
	if INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=/nonexistent \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" no-such-kernel-1.0 2>"$WORK/fail.err"; then
		fail "the hook succeeded for a kernel that is not installed"
	fi
	cat "$WORK/fail.err"
	assert_contains "$WORK/fail.err" "no pair built for no-such-kernel-1.0; its initrd is left as it was"
	[ -z "$(ls -A "$b")" ] || fail "files appeared"
}

# Where initramfs-tools makes the initrd and the post-update.d hook is
# installed, a kernel's pair is built by that hook (update-initramfs runs it):
# the postinst.d hook builds nothing a second time.
case_debian_hook_defers_to_post_update() {
	local b=$WORK/boot-defer stub=$WORK/stub-defer itools=$WORK/itools-hook
	mkdir -p "$b"
	printf '#!/bin/sh\ntouch %s\n' "$WORK/defer.ran" >"$stub"
	printf '#!/bin/sh\n' >"$itools"
	chmod +x "$stub" "$itools"
	command -v update-initramfs >/dev/null || fail "update-initramfs not installed"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=$TOP/initramfs-tools/post-update.d/initoverlayfs \
		INITOVERLAYFS_INITRAMFS_TOOLS_HOOK=$itools \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" "/boot/vmlinuz-$KVER"
	[ ! -e "$WORK/defer.ran" ] || fail "the postinst.d hook ran the installer too"
	# dracut's kernel hook, with a dracut that runs the post-update.d
	# hooks (Debian 13's): the same
	printf '#!/bin/bash\nrun-parts /etc/initramfs/post-update.d/\n' \
		>"$WORK/dracut-with-hooks"
	printf '#!/bin/bash\nexit 0\n' >"$WORK/dracut-without-hooks"
	chmod +x "$WORK/dracut-with-hooks" "$WORK/dracut-without-hooks"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=$TOP/initramfs-tools/post-update.d/initoverlayfs \
		INITOVERLAYFS_INITRAMFS_TOOLS_HOOK=/nonexistent INITOVERLAYFS_DRACUT_HOOK=$itools \
		INITOVERLAYFS_DRACUT=$WORK/dracut-with-hooks \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" "/boot/vmlinuz-$KVER"
	[ ! -e "$WORK/defer.ran" ] || fail "the postinst.d hook ran the installer after dracut's post-update.d"
	# dracut is this package's wrapper (the .deb diverts Debian 12's
	# dracut to it), the real dracut behind it: the same
	ln -sf "$TOP/dracut/dracut-wrapper" "$WORK/dracut-diverted"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=$TOP/initramfs-tools/post-update.d/initoverlayfs \
		INITOVERLAYFS_INITRAMFS_TOOLS_HOOK=/nonexistent INITOVERLAYFS_DRACUT_HOOK=$itools \
		INITOVERLAYFS_DRACUT=$WORK/dracut-diverted INITOVERLAYFS_DRACUT_REAL=$WORK/dracut-without-hooks \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" "/boot/vmlinuz-$KVER"
	[ ! -e "$WORK/defer.ran" ] || fail "the postinst.d hook ran the installer after the dracut wrapper"
	# ... but with NO_POST_UPDATE_HOOKS set the wrapper runs none: it builds
	NO_POST_UPDATE_HOOKS=1 INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=$TOP/initramfs-tools/post-update.d/initoverlayfs \
		INITOVERLAYFS_INITRAMFS_TOOLS_HOOK=/nonexistent INITOVERLAYFS_DRACUT_HOOK=$itools \
		INITOVERLAYFS_DRACUT=$WORK/dracut-diverted INITOVERLAYFS_DRACUT_REAL=$WORK/dracut-without-hooks \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" 2>/dev/null
	[ -e "$WORK/defer.ran" ] || fail "with NO_POST_UPDATE_HOOKS=1 the postinst.d hook did not build"
	rm -f "$WORK/defer.ran"
	# without initramfs-tools' kernel hook, dracut's running no
	# post-update.d hook (Debian 12's): it builds
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_CONFIG=$CONF \
		INITOVERLAYFS_POST_UPDATE_HOOK=$TOP/initramfs-tools/post-update.d/initoverlayfs \
		INITOVERLAYFS_INITRAMFS_TOOLS_HOOK=/nonexistent INITOVERLAYFS_DRACUT_HOOK=$itools \
		INITOVERLAYFS_DRACUT=$WORK/dracut-without-hooks \
		"$TOP/kernel/postinst.d/zz-initoverlayfs" "$KVER" 2>/dev/null
	[ -e "$WORK/defer.ran" ] || fail "the postinst.d hook did not run the installer"
}

# The dracut wrapper (dracut/dracut-wrapper, /usr/bin/dracut once the .deb
# diverted Debian 12's dracut): the real dracut gets the same arguments;
# then, for each BOOT/initrd.img-VERSION it wrote (a new file, or cp over
# the old one) and no other, the post-update.d hooks run as dracut 106
# runs them (run-parts, VERSION PATH); the real dracut's status is the
# wrapper's. No hook runs when the real dracut failed, names the
# post-update.d directory itself (it runs them), or NO_POST_UPDATE_HOOKS
# is set; a failing hook fails the wrapper with a line naming it.
case_dracut_wrapper() {
	local d=$WORK/wrapper b=$WORK/wrapper/boot hooks=$WORK/wrapper/post-update.d rc
	local w=$TOP/dracut/dracut-wrapper
	mkdir -p "$b" "$hooks"
	echo old-a >"$b/initrd.img-1.0-a"
	# an old mtime: a cp of the same size within the same clock tick
	# would change nothing else (real dracut takes seconds)
	touch -d 2000-01-01 "$b/initrd.img-1.0-a"
	echo old-b >"$b/initrd.img-1.0-b"
	echo old-c >"$b/initrd.img-1.0-c"
	ln -s initrd.img-1.0-b "$b/initrd.img-link"
	# the real dracut: records its arguments; rewrites a in place (cp over
	# it, same inode), c by rename, writes d new and an image elsewhere
	cat >"$d/real" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$@" >"$d/real.args"
		echo new-a >"$d/a" && cp "$d/a" "$b/initrd.img-1.0-a"
		echo new-c >"$b/.c" && mv "$b/.c" "$b/initrd.img-1.0-c"
		echo new-d >"$b/initrd.img-1.0-d"
		echo elsewhere >"$d/other.img"
		exit \${REAL_RC:-0}
	EOF
	printf '#!/bin/sh\necho "$@" >>%s\n' "$d/hook.calls" >"$hooks/record"
	chmod +x "$d/real" "$hooks/record"
	run_wrapper() {
		INITOVERLAYFS_DRACUT_REAL=$d/real INITOVERLAYFS_BOOT_DIR=$b \
			INITOVERLAYFS_POST_UPDATE_DIR=$hooks "$w" "$@"
	}
	run_wrapper -q --force "an arg with spaces" --regenerate-all
	printf '%s\n' -q --force "an arg with spaces" --regenerate-all | diff -u - "$d/real.args"
	printf '%s\n' "1.0-a $b/initrd.img-1.0-a" "1.0-c $b/initrd.img-1.0-c" "1.0-d $b/initrd.img-1.0-d" |
		diff -u - "$d/hook.calls" || fail "the hooks did not run exactly for the rewritten initrds"
	# the real dracut's status; no hook after a failure
	rm -f "$d/hook.calls"
	rc=0
	REAL_RC=3 run_wrapper -f || rc=$?
	[ "$rc" = 3 ] || fail "the real dracut exited 3, the wrapper $rc"
	[ ! -e "$d/hook.calls" ] || fail "a hook ran after the real dracut failed"
	# NO_POST_UPDATE_HOOKS set: the real dracut only
	NO_POST_UPDATE_HOOKS=1 run_wrapper -f
	[ ! -e "$d/hook.calls" ] || fail "a hook ran with NO_POST_UPDATE_HOOKS=1"
	# a real dracut that runs the hooks itself (dracut 106): not twice
	cp "$d/real" "$d/real-106"
	echo ': run-parts /etc/initramfs/post-update.d/' >>"$d/real-106"
	INITOVERLAYFS_DRACUT_REAL=$d/real-106 INITOVERLAYFS_BOOT_DIR=$b \
		INITOVERLAYFS_POST_UPDATE_DIR=$hooks "$w" -f
	[ ! -e "$d/hook.calls" ] || fail "the wrapper ran the hooks that dracut 106 runs itself"
	# a failing hook: the wrapper fails, naming the image and the hook run
	printf '#!/bin/sh\nexit 4\n' >"$hooks/zz-fails"
	chmod +x "$hooks/zz-fails"
	rc=0
	run_wrapper -f 2>"$d/err" || rc=$?
	cat "$d/err"
	[ "$rc" = 1 ] || fail "a hook failed, the wrapper exited $rc, expected 1"
	assert_contains "$d/err" "initoverlayfs: dracut wrapper: dracut wrote $b/initrd.img-1.0-a, then run-parts --arg=1.0-a --arg=$b/initrd.img-1.0-a $hooks failed"
	# no real dracut: one line saying what to do, status 127
	rc=0
	INITOVERLAYFS_DRACUT_REAL=$d/none "$w" -f 2>"$d/err" || rc=$?
	[ "$rc" = 127 ] || fail "without a real dracut the wrapper exited $rc, expected 127"
	assert_contains "$d/err" "dpkg-divert --rename --remove /usr/bin/dracut"
}

# post-update.d hook: the arguments update-initramfs passes (VERSION
# PATH-OF-INITRD) become the installer's, silently; not enabled, it does
# nothing; a failing installer makes it fail with one line.
case_post_update_hook_contract() {
	local b=$WORK/boot-pu stub=$WORK/stub-pu hook=$TOP/initramfs-tools/post-update.d/initoverlayfs
	mkdir -p "$b"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >%s\necho chatter; echo more >&2\n' \
		"$WORK/pu.args" >"$stub"
	chmod +x "$stub"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_CONFIG=$CONF \
		"$hook" "$KVER" "$b/initrd.img-$KVER" >"$WORK/pu.out" 2>&1
	[ ! -s "$WORK/pu.out" ] || { cat "$WORK/pu.out"; fail "the hook was not quiet"; }
	printf '%s\n' --kver "$KVER" --source "$b/initrd.img-$KVER" --force \
		--output-initramfs "$b/initrd.img-$KVER" --boot-dir "$b" --config "$CONF" \
		>"$WORK/pu.expected"
	diff -u "$WORK/pu.expected" "$WORK/pu.args"
	rm -f "$WORK/pu.args"
	# an image that is not the kernel's initrd (dracut writes wherever it
	# is told): left as it is
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_CONFIG=$CONF \
		"$hook" "$KVER" "$b/full-initrd-$KVER.img" >"$WORK/pu.out" 2>&1
	[ ! -e "$WORK/pu.args" ] || fail "the installer ran for an image that is not the kernel's initrd"
	[ ! -s "$WORK/pu.out" ] || fail "for another image, the hook still said something"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_CONFIG=$CONF \
		"$hook" "$KVER" "$b/initramfs-$KVER.img" >"$WORK/pu.out" 2>&1
	[ -e "$WORK/pu.args" ] || fail "the installer did not run for initramfs-KVER.img"
	rm -f "$WORK/pu.args"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_CONFIG=$WORK/no-such.conf \
		"$hook" "$KVER" "$b/initrd.img-$KVER" >"$WORK/pu.out" 2>&1
	[ ! -e "$WORK/pu.args" ] || fail "the installer ran without a config"
	[ ! -s "$WORK/pu.out" ] || fail "not enabled, the hook still said something"
	if INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_CONFIG=$CONF \
		"$hook" no-such-kernel-1.0 "$b/initrd.img-no-such-kernel-1.0" 2>"$WORK/pu.err"; then
		fail "the hook succeeded for a kernel that is not installed"
	fi
	cat "$WORK/pu.err"
	[ "$(wc -l <"$WORK/pu.err")" -eq 1 ] || fail "the failure took more than one line"
	assert_contains "$WORK/pu.err" "no pair for no-such-kernel-1.0, $b/initrd.img-no-such-kernel-1.0 stays the full initrd: "
}

# kernel-install itself (this machine's, with its own plugins that stage
# and install an initrd, in their order by name, and ours): the BLS entry
# gets the mini-initramfs as its only initrd, the image goes to the boot
# root. (50-depmod is left out: it would run depmod for the machine.)
case_kernel_install_bls_entry() {
	local b=$WORK/ki-bls token=0123456789abcdef0123456789abcdef plugins entry conf f names
	command -v kernel-install >/dev/null || fail "kernel-install not installed (systemd)"
	[ -f "$SOURCE" ] || fail "no $SOURCE"
	mkdir -p "$b/$token"
	plugins=$({
		for f in /usr/lib/kernel/install.d/*.install; do
			case ${f##*/} in 50-depmod.install | 89-initoverlayfs.install) continue ;; esac
			printf '%s\t%s\n' "${f##*/}" "$f"
		done
		printf '89-initoverlayfs.install\t%s\n' "$TOP/kernel-install/89-initoverlayfs.install"
	} | LC_ALL=C sort | cut -f2 | tr '\n' ' ')
	echo "plugins: $plugins"
	# the full initrd where Debian 12's 85-initrd.install takes it from
	# is /boot/initrd.img-KVER: the source of the pair
	BOOT_ROOT=$b MACHINE_ID=$token KERNEL_INSTALL_PLUGINS=$plugins \
		INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_PROGRAM=$BOOTPROG \
		INITOVERLAYFS_CONFIG=$CONF TMPDIR=$WORK \
		kernel-install add "$KVER" "/boot/vmlinuz-$KVER" >"$WORK/ki-bls.out" 2>&1 ||
		{ cat "$WORK/ki-bls.out"; fail "kernel-install add failed"; }
	entry=$b/$token/$KVER
	ls -l "$entry" "$b"
	names=$(find "$entry" -mindepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
	[ "$names" = "initrd linux " ] || fail "the entry holds $names, not the initrd and the kernel"
	lsinitrd -f init "$entry/initrd" | cmp -s - "$BOOTPROG" ||
		fail "the entry's initrd is not the mini-initramfs (its /init is not the boot program)"
	conf=$(find "$b/loader/entries" -name "*$KVER.conf")
	[ -f "$conf" ] || fail "no loader entry"
	[ "$(grep -c '^initrd ' "$conf")" = 1 ] || fail "the loader entry has $(grep -c '^initrd ' "$conf") initrd lines"
	grep -q "^initrd .*/$KVER/initrd\$" "$conf" || fail "the loader entry's initrd: $(grep '^initrd ' "$conf")"
	[ "$(find "$b" -maxdepth 1 -name "initoverlayfs-$KVER-*.img" | wc -l)" = 1 ] || fail "no image in the boot root"
}

# kernel-install plugin: add passes the right arguments (a stub installer
# records them), remove deletes this kernel's image only
case_kernel_install_plugin() {
	local b=$WORK/boot-ki stub=$WORK/stub-install
	mkdir -p "$b"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" >%s\n' "$WORK/stub.args" >"$stub"
	chmod +x "$stub"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_MODE=systemd \
		INITOVERLAYFS_CONFIG=$CONF \
		"$TOP/kernel-install/89-initoverlayfs.install" add "$KVER" "$b/entry" "/boot/vmlinuz-$KVER"
	printf '%s\n' --kver "$KVER" --boot-dir "$b" --force --config "$CONF" --mode systemd \
		>"$WORK/stub.expected"
	diff -u "$WORK/stub.expected" "$WORK/stub.args"
	# not enabled (no config): the installer is not run
	rm -f "$WORK/stub.args"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b \
		INITOVERLAYFS_CONFIG=$WORK/no-such.conf KERNEL_INSTALL_VERBOSE=1 \
		"$TOP/kernel-install/89-initoverlayfs.install" add "$KVER" "$b/entry" \
		2>"$WORK/ki.err"
	[ ! -e "$WORK/stub.args" ] || fail "installer ran without a config"
	assert_contains "$WORK/ki.err" "$WORK/no-such.conf not found: not enabled, skipped"

	# layout "other": the staging area is not the boot loader's, the old
	# protocol holds
	rm -f "$WORK/stub.args"
	mkdir -p "$WORK/staging-other"
	INITOVERLAYFS_INSTALL=$stub INITOVERLAYFS_BOOT_DIR=$b INITOVERLAYFS_MODE=systemd \
		INITOVERLAYFS_CONFIG=$CONF KERNEL_INSTALL_LAYOUT=other \
		KERNEL_INSTALL_STAGING_AREA=$WORK/staging-other \
		"$TOP/kernel-install/89-initoverlayfs.install" add "$KVER" "$b/entry" "/boot/vmlinuz-$KVER"
	diff -u "$WORK/stub.expected" "$WORK/stub.args"
	# a kernel release the installer would refuse
	if INITOVERLAYFS_BOOT_DIR=$b "$TOP/kernel-install/89-initoverlayfs.install" \
		remove "../x" "$b/entry" 2>/dev/null; then
		fail "the plugin accepted the kernel release '../x'"
	fi

	plant_decoys "$b"
	touch "$b/initoverlayfs-$KVER-fedcba9876543210.img" "$b/$(mini_name)"
	INITOVERLAYFS_BOOT_DIR=$b "$TOP/kernel-install/89-initoverlayfs.install" \
		remove "$KVER" "$b/entry"
	[ ! -e "$b/initoverlayfs-$KVER-fedcba9876543210.img" ] || fail "image not removed"
	[ -e "$b/$(mini_name)" ] || fail "remove deleted the initramfs (kernel-install's job)"
	check_decoys "$b"
}

# plugin NAME ARG...: the kernel-install plugin under NAME (59- or 89-,
# as the package installs it: one file, two names), the real installer,
# the host's full initrd (read only).
plugin() {
	local name=$1
	shift
	ln -sfn "$TOP/kernel-install/89-initoverlayfs.install" "$WORK/$name"
	INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_PROGRAM=$BOOTPROG \
		INITOVERLAYFS_CONFIG=$CONF TMPDIR=$WORK "$WORK/$name" "$@"
}

# plugin_add NAME LAYOUT STAGING BOOT-ROOT: kernel-install's "add" through
# the plugin under NAME, verbose, its output in $WORK/staging.out; the case
# fails when the plugin does.
plugin_add() {
	KERNEL_INSTALL_LAYOUT=$2 KERNEL_INSTALL_STAGING_AREA=$3 KERNEL_INSTALL_BOOT_ROOT=$4 \
		KERNEL_INSTALL_VERBOSE=1 plugin "$1" add "$KVER" "$4/entry-token/$KVER" "/boot/vmlinuz-$KVER" \
		>"$WORK/staging.out" 2>&1 || { cat "$WORK/staging.out"; fail "$2: $1 add failed"; }
}

# staged_names DIR: the names in a staging area, sorted, on one line.
staged_names() {
	find "$1" -mindepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' '
}

# expect_staged_pair LAYOUT STAGING BOOT-ROOT: the mini-initramfs is staged
# as "initrd" alone (a file), the image it names is the one in the boot
# root, by its path in the boot root's file system. Prints the image.
expect_staged_pair() {
	local layout=$1 st=$2 b=$3 img fs
	[ "$(staged_names "$st")" = "initrd " ] || fail "$layout: staged: $(staged_names "$st"), not the initrd alone"
	if [ ! -f "$st/initrd" ] || [ -L "$st/initrd" ]; then
		fail "$layout: no staged mini-initramfs"
	fi
	img=$(find "$b" -maxdepth 1 -name "initoverlayfs-$KVER-*.img")
	[ "$(echo "$img" | grep -c .)" -eq 1 ] || fail "$layout: images in the boot root: $img"
	lsinitrd -f etc/initoverlayfs.conf "$st/initrd" >"$WORK/staging.conf"
	fs=$(sed -n 's/^fs[ =]"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$WORK/staging.conf")
	case $fs in
	*/"$(basename "$img")") ;;
	*) fail "$layout: the mini-initramfs names '$fs', not $img" ;;
	esac
	# the path inside the boot file system: the boot root's own path
	# in it, then the name
	[ "$(realpath -m "$(findmnt -n -o TARGET -T "$b")/$fs")" = "$(realpath "$img")" ] ||
		fail "$layout: fs $fs does not lead to $img from the mount point of $b"
	echo "$img"
}

# kernel-install's staging area (KERNEL_INSTALL_STAGING_AREA): the full
# initrd an earlier plugin staged (as Debian's 55-initrd/85-initrd.install
# do: a symlink to /boot/initrd.img-KVER) is the source, the mini-initramfs
# is staged as "initrd" in its place, and the image is in the boot root,
# named by the mini-initramfs' fs. Layout bls: 89- does it (before
# 90-loaderentry), 59- nothing; layout uki: 59- does it (before 60-ukify
# packs the staged initrd into the UKI), 89- nothing.
case_kernel_install_staging() {
	[ -f "$SOURCE" ] || fail "no $SOURCE to pack"
	local layout acts idle st b img before
	before=$(stat -c '%s %Y' "$SOURCE")
	for layout in bls uki; do
		case $layout in
		bls) acts=89-initoverlayfs.install idle=59-initoverlayfs.install ;;
		uki) acts=59-initoverlayfs.install idle=89-initoverlayfs.install ;;
		esac
		st=$WORK/staging-$layout
		b=$WORK/boot-root-$layout
		mkdir -p "$st" "$b"
		ln -s "$SOURCE" "$st/initrd.img-$KVER"
		# the other name: nothing done, nothing said
		plugin_add "$idle" "$layout" "$st" "$b"
		[ ! -s "$WORK/staging.out" ] || { cat "$WORK/staging.out"; fail "$layout: $idle said something"; }
		[ "$(staged_names "$st")" = "initrd.img-$KVER " ] || fail "$layout: $idle staged $(staged_names "$st")"
		[ -z "$(ls -A "$b")" ] || fail "$layout: $idle wrote $(ls -A "$b")"
		plugin_add "$acts" "$layout" "$st" "$b"
		ls -l "$st" "$b"
		img=$(expect_staged_pair "$layout" "$st" "$b") || return 1
		[ "$(stat -c '%s %Y' "$SOURCE")" = "$before" ] || fail "$SOURCE changed"
		# remove: the image goes, from the same boot root, by 89- only
		KERNEL_INSTALL_LAYOUT=$layout KERNEL_INSTALL_STAGING_AREA=$st KERNEL_INSTALL_BOOT_ROOT=$b \
			plugin 59-initoverlayfs.install remove "$KVER" "$b/entry-token/$KVER"
		[ -e "$img" ] || fail "$layout: 59- removed $img"
		KERNEL_INSTALL_LAYOUT=$layout KERNEL_INSTALL_STAGING_AREA=$st KERNEL_INSTALL_BOOT_ROOT=$b \
			plugin 89-initoverlayfs.install remove "$KVER" "$b/entry-token/$KVER"
		[ ! -e "$img" ] || fail "$layout: remove left $img"
	done
}

# The staged initrd is the mini-initramfs already (Debian: the generator's
# hook made the pair in /boot before kernel-install runs, 55-initrd or
# 85-initrd stages /boot/initrd.img-KVER): it stays staged as it is, the
# plugin builds nothing (a pair made from a mini-initramfs would boot
# initoverlayfs twice), one verbose line says so; a full initrd staged
# beside it is dropped.
case_kernel_install_staged_mini() {
	[ -f "$SOURCE" ] || fail "no $SOURCE to pack"
	local layout acts st b mini=$WORK/staged-mini/initrd.img-$KVER img fs
	mkdir -p "$WORK/staged-mini"
	"$INSTALL" --kver "$KVER" --source "$SOURCE" --boot-dir "$WORK/staged-mini" --config "$CONF" \
		--boot-program "$BOOTPROG" --output-initramfs "$mini" --force >"$WORK/staged-mini.out" 2>&1 ||
		{ cat "$WORK/staged-mini.out"; fail "the installer failed"; }
	img=$(find "$WORK/staged-mini" -name "initoverlayfs-$KVER-*.img")
	[ "$(echo "$img" | grep -c .)" -eq 1 ] || fail "images: $img"
	# the image's path in its file system, what the mini-initramfs names
	fs=/$(realpath --relative-to="$(findmnt -n -o TARGET -T "$img")" "$img")
	for layout in bls uki; do
		case $layout in
		bls) acts=89-initoverlayfs.install ;;
		uki) acts=59-initoverlayfs.install ;;
		esac
		st=$WORK/staging-mini-$layout
		b=$WORK/boot-root-mini-$layout
		mkdir -p "$st" "$b"
		ln -s "$mini" "$st/initrd.img-$KVER"
		# beside it, a full initrd staged first (Debian 13: dracut's
		# 50-dracut.install makes one, then 55-initrd stages the mini)
		ln -s "$SOURCE" "$st/initrd"
		plugin_add "$acts" "$layout" "$st" "$b"
		cat "$WORK/staging.out"
		assert_contains "$WORK/staging.out" "${acts%.install}: the staged $st/initrd.img-$KVER is the mini-initramfs of $KVER already (it boots $fs): staged as it is, nothing built"
		assert_contains "$WORK/staging.out" "${acts%.install}: dropping the staged $st/initrd: the mini-initramfs replaces it"
		[ "$(readlink "$st/initrd.img-$KVER")" = "$mini" ] || fail "$layout: the staged link changed"
		[ "$(staged_names "$st")" = "initrd.img-$KVER " ] || fail "$layout: staged $(staged_names "$st")"
		[ -z "$(ls -A "$b")" ] || fail "$layout: wrote $(ls -A "$b") into the boot root"
	done
}

# what of the host's /etc the update-initramfs case could touch
etc_state() {
	ls -ld /etc/initramfs /etc/initramfs/post-update.d/* /etc/initoverlayfs.conf 2>&1 || :
}

# The real update-initramfs -u -k KVER -b DIR (what package triggers run,
# with a temporary boot directory) in a private mount namespace whose /etc
# is an overlay on the host's: there the post-update.d hook is installed and
# /etc/initoverlayfs.conf enables initoverlayfs, the host's /etc is never
# written. After each run the initrd is a mini-initramfs naming the one
# image of the kernel, which exists; a second run replaces the pair and
# keeps exactly one image.
case_update_initramfs() {
	command -v update-initramfs >/dev/null || fail "update-initramfs not installed"
	local d=$WORK/update-initramfs b run img fs host_etc
	b=$d/boot
	host_etc=$(etc_state)
	mkdir -p "$b" "$d/upper" "$d/work" "$d/tmp"
	cat >"$d/ns.sh" <<EOT
set -eu
mount -t overlay overlay -o lowerdir=/etc,upperdir=$d/upper,workdir=$d/work /etc
mkdir -p /etc/initramfs/post-update.d
install -m 0755 $TOP/initramfs-tools/post-update.d/initoverlayfs /etc/initramfs/post-update.d/
cp $CONF /etc/initoverlayfs.conf
INITOVERLAYFS_INSTALL=$INSTALL INITOVERLAYFS_BOOT_PROGRAM=$BOOTPROG TMPDIR=$d/tmp \\
	update-initramfs -u -k $KVER -b $b
EOT
	for run in 1 2; do
		unshare -m --propagation private sh "$d/ns.sh" >"$d/run$run.log" 2>&1 ||
			{ cat "$d/run$run.log"; fail "update-initramfs run $run failed"; }
		cat "$d/run$run.log"
		ls -l "$b"
		img=$(find "$b" -maxdepth 1 -name "initoverlayfs-$KVER-*.img")
		[ "$(echo "$img" | grep -c .)" -eq 1 ] || fail "run $run: images: $(ls "$b")"
		lsinitrd -f etc/initoverlayfs.conf "$b/initrd.img-$KVER" >"$d/conf$run"
		fs=$(sed -n 's/^fs[ =]"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$d/conf$run")
		[ "$(realpath -m "$(findmnt -n -o TARGET -T "$b")/$fs")" = "$(realpath "$img")" ] ||
			fail "run $run: the initrd names '$fs', not $img"
		[ ! -e "$b/initrd.img-$KVER.dpkg-bak" ] || fail "run $run: update-initramfs left its backup"
		# the post-update.d hook is quiet: update-initramfs' own line only
		assert_not_contains "$d/run$run.log" "initoverlayfs"
		echo "$img" >>"$d/images"
	done
	echo "images: $(sort -u "$d/images" | wc -l) made by 2 runs, 1 kept"
	[ "$(etc_state)" = "$host_etc" ] || fail "the host's /etc changed"
}

run_case units-content case_units_content
run_case units-verify case_units_verify
run_case shellcheck case_shellcheck
run_case make-install-integration case_make_install
run_case kernel-install-plugin case_kernel_install_plugin
run_case kernel-install-staging case_kernel_install_staging
run_case kernel-install-staged-mini-kept case_kernel_install_staged_mini
run_case kernel-install-bls-entry-has-the-mini case_kernel_install_bls_entry
run_case debian-hook-no-installer case_debian_hook_no_installer
run_case debian-hook-not-enabled case_debian_hook_not_enabled
run_case debian-hook-installer-fails case_debian_hook_installer_fails
run_case debian-hooks-postinst-postrm case_debian_hooks
run_case debian-hook-defers-to-post-update case_debian_hook_defers_to_post_update
run_case post-update-hook-contract case_post_update_hook_contract
run_case dracut-wrapper-runs-post-update-hooks case_dracut_wrapper
run_case update-initramfs-keeps-the-pair case_update_initramfs
run_case dracut-systemd-mini case_dracut_systemd_mini
run_case dracut-init-mini case_dracut_init_mini
run_case dracut-original-init-config case_dracut_original_init_config
run_case initramfs-tools-hook case_initramfs_tools_hook
if [ "${INTEGRATION_INSTALLER_DRACUT:-1}" = 1 ]; then
	run_case installer-systemd-mode case_installer_systemd_mode
fi
if [ -f "$OUT/mini-systemd.size" ]; then
	echo "integration: systemd-mode mini-initramfs ($KVER): $(cat "$OUT/mini-systemd.size") bytes ($OUT/mini-systemd-$KVER.img)"
fi
if [ -f "$OUT/mini-init.size" ]; then
	echo "integration: init-mode (dracut module) mini-initramfs: $(cat "$OUT/mini-init.size") bytes"
fi
if [ -f "$OUT/installer-systemd.size" ]; then
	echo "integration: initoverlayfs-install --mode systemd initramfs: $(cat "$OUT/installer-systemd.size") bytes"
fi
runner_summary integration
