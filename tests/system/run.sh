#!/bin/bash
# System tier (make check-system, root): a real Debian installation boots
# through initoverlayfs, with the pair made by the distro's own hooks.
#
#   1. the base system (tests/system/base.sh: mmdebstrap, cached under
#      $SYSTEM_CACHE keyed by its inputs) and the .deb of this tree
#      (dpkg-buildpackage in a copy, cached by the tree's content hash);
#   2. inside a chroot of the system: dpkg -i the .deb, /etc/initoverlayfs.conf
#      the README's way (bootfs UUID= of the /boot partition, ext4), fstab by
#      UUID, then `dpkg-reconfigure linux-image-KVER`: the kernel's postinst
#      runs /etc/kernel/postinst.d (initramfs-tools or dracut, then
#      zz-initoverlayfs) and the hooks make the pair in /boot, a mount of
#      its own as on the disk; the generator (mkinitramfs, dracut) makes
#      the full initrd once more for the comparison;
#   3. one GPT disk (ext4 /boot, ext4 root, fixed UUIDs) made without
#      mounting; QEMU (TCG) boots the kernel and mini-initramfs from that
#      /boot, writable disk; iofs-report.service (tests/system/guest/) writes
#      the report to the console and powers off;
#   4. the host asserts: initoverlayfs' steps (a loop device on 6.1, the
#      image file itself where the kernel mounts EROFS from files), the
#      system `running`, / and /boot the expected UUIDs; then that nothing
#      pins /boot (no loop device left, umount /boot, e2fsck -fn clean in
#      the guest, `dumpe2fs -h` clean on the host after poweroff);
#   5. the same disk boots the distro's full initrd (the comparison), and
#      after the generator made every initrd again (`update-initramfs -u -k
#      all`, `dracut -f --regenerate-all`: on Debian 12 through the
#      package's dracut wrapper, which the package diverts dracut to) it
#      still boots through initoverlayfs; dracut's update-initramfs trigger
#      keeps the pair too; where the suite has ukify (table's last
#      column), kernel-install layout=uki makes a UKI that embeds the
#      mini-initramfs, and UEFI firmware (OVMF) boots it from an EFI system
#      partition; `verity yes` in the config gives a verified
#      pair that boots through dm-verity and leaves no dm or loop device
#      and a clean /boot behind;
#   6. an image pipeline (every system: its generator chrooted into the
#      tree): the same base with the .deb,
#      the README's mmdebstrap hook `initoverlayfs-install --root DIR` run
#      on the host against the tree (/boot a plain directory, bootfs
#      LABEL=boot), the partitions made afterwards; it boots through
#      initoverlayfs to a running system.
#
# Usage: tests/system/run.sh [SYSTEM...]   (root; default: every system of
#   tests/system/base.sh's table: bookworm-initramfs-tools,
#   bookworm-dracut, trixie-dracut)
# Environment: SYSTEM_CACHE (/var/cache/initoverlayfs-tests), SYSTEM_WORK
#   (/var/tmp/initoverlayfs-system: not under build/, whose *.d files the
#   top Makefile includes), SYSTEM_BOOT_TIMEOUT (host seconds per boot, 300),
#   SYSTEM_KEEP_WORK=1 (keep the work files of a passing run),
#   SYSTEM_JOBS (systems run at a time, 2), SYSTEM_ONLY=pipeline (only
#   the image pipeline's cases, after the base system and the .deb),
#   SYSTEM_ICOUNT_SHIFT (1: boot with -icount shift=1,sleep=off, guest
#   times that do not depend on the host's load; empty: plain TCG),
#   TEST_LOG_DIR.
#
# Only `set -u` at the top: run_case (tests/lib/runner.sh) must see a
# failing case's status; setup steps check every command through die().
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/runner.sh"
# tree_files, tree_hash
. "$HERE/../lib/tree.sh"
# deb_cached
. "$HERE/../lib/deb.sh"
# chroot_run
. "$HERE/../lib/chroot.sh"
# SYSTEMS, sys_base_tar, SYSTEM_CACHE
. "$HERE/base.sh"

die() {
	echo "system: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, chroot, dpkg)"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

SYSTEM_WORK=${SYSTEM_WORK:-/var/tmp/initoverlayfs-system}
export VM_WORK=$SYSTEM_WORK/vm
. "$TOP/tests/vm/lib.sh"

vm_need_cmd mmdebstrap dpkg-buildpackage qemu-system-x86_64 mkfs.ext4 e2fsck dumpe2fs \
	sfdisk unshare chroot zstd cpio shellcheck || die "missing tools (scripts/deps.txt)"

BOOT_TIMEOUT=${SYSTEM_BOOT_TIMEOUT:-300}
# .deb builds kept in $SYSTEM_CACHE/deb (by tree hash, newest used first).
DEB_CACHE_KEEP=4
# Guest time that counts instructions (-icount shift=N,sleep=off and
# idle=poll, see tests/vm/README.md): the guest times measured here do not
# depend on the host's load. shift=1 is about as fast as plain TCG here.
ICOUNT_SHIFT=${SYSTEM_ICOUNT_SHIFT-1}
ROOT_UUID=5b8e0c2a-7d14-4f3e-9a61-2c0b1e9d3001
BOOT_UUID=8f2d4a6c-1e3b-4d5f-8a7c-9b0e1d2c3002
ROOT_PARTUUID=2a4c6e80-1b3d-4f5a-9c7e-0d1f2a3b4001
BOOT_PARTUUID=2a4c6e80-1b3d-4f5a-9c7e-0d1f2a3b4002
BOOT_MB=384
CLONE_PARTUUID=2a4c6e80-1b3d-4f5a-9c7e-0d1f2a3b4003
VFAT_UUID=1A2B-3C4D
# The system that also boots a cloned boot disk and a vfat /boot.
SYSTEM_VARIANTS_ON=${SYSTEM_VARIANTS_ON:-bookworm-initramfs-tools}
# The system that also boots the pair of systemd mode (dracut's newest).
SYSTEM_SYSTEMD_MODE_ON=${SYSTEM_SYSTEMD_MODE_ON:-trixie-dracut}
# The system whose suite's mkosi builds an image from the README's files.
SYSTEM_MKOSI_ON=${SYSTEM_MKOSI_ON:-trixie-dracut}
MACHINE_ID=6f1e2d3c4b5a69788796a5b4c3d2e1f0
# The UKI case: the EFI system partition (third on the disk, /boot and the
# root keep their places), and the firmware that boots it (ovmf).
ESP_PARTUUID=2a4c6e80-1b3d-4f5a-9c7e-0d1f2a3b4004
ESP_VOLID=5E5F6A7B
UEFI_FIRMWARE=/usr/share/OVMF/OVMF_CODE_4M.fd:/usr/share/OVMF/OVMF_VARS_4M.fd
APPEND="root=UUID=$ROOT_UUID ro"

# ------------------------------------------------------------- helpers

# in_system CMD...: CMD chrooted into $ROOT (chroot_run), /boot a copy of
# $BOOTDIR that is copied back after CMD.
in_system() {
	chroot_run "$ROOT" "$BOOTDIR" "" "" "$@"
}

# kver: the kernel release the base system came with (the newest under
# its /lib/modules when the package is installed), fixed then: the
# lifecycle installs a second kernel beside it.
kver() {
	local k
	if [ -s "$WORK/kver" ]; then
		cat "$WORK/kver"
		return
	fi
	k=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
	[ -n "$k" ] || fail "no kernel under $ROOT/lib/modules"
	echo "$k" >"$WORK/kver"
	echo "$k"
}

# in_system_log LOG CMD...: in_system CMD, its output shown and kept in LOG;
# CMD's status is the function's (a pipe into tee would lose it).
in_system_log() {
	local log=$1 rc=0
	shift
	in_system "$@" >"$log" 2>&1 || rc=$?
	cat "$log"
	return "$rc"
}

# The generator's side of the steps (the table's generator column).

# gen_hook_line KVER: the line of the generator's own kernel hook making
# KVER's initrd.
gen_hook_line() {
	case $GEN in
	initramfs-tools) echo "update-initramfs: Generating /boot/initrd.img-$1" ;;
	dracut) echo "dracut: Generating /boot/initrd.img-$1" ;;
	*) fail "no generator '$GEN'" ;;
	esac
}

# gen_full_initrd KVER OUT: the distro's full initrd for KVER at OUT (a path
# in the system), as the generator makes it (dracut: --no-hostonly, a
# chroot's host is not the machine that boots).
gen_full_initrd() {
	case $GEN in
	initramfs-tools) in_system mkinitramfs -o "$2" "$1" ;;
	dracut) in_system dracut --no-hostonly --force "$2" "$1" ;;
	*) fail "no generator '$GEN'" ;;
	esac
}

# gen_regenerate LOG: every kernel's initrd made again, the generator's
# way (what an admin or a package trigger runs).
gen_regenerate() {
	case $GEN in
	initramfs-tools) in_system_log "$1" update-initramfs -u -k all ;;
	dracut) in_system_log "$1" dracut -f --regenerate-all ;;
	*) fail "no generator '$GEN'" ;;
	esac
}

# real_dracut: the distribution's dracut in the system (the package
# diverts it to dracut.distrib and puts its wrapper at /usr/bin/dracut, an
# absolute link that means nothing on the host).
real_dracut() {
	if [ -e "$ROOT/usr/bin/dracut.distrib" ]; then
		echo "$ROOT/usr/bin/dracut.distrib"
	else
		echo "$ROOT/usr/bin/dracut"
	fi
}

# gen_runs_post_update: the generator itself runs
# /etc/initramfs/post-update.d after writing an initrd (initramfs-tools'
# update-initramfs, dracut >= 106; not Debian 12's dracut 059, which has
# no hook after its image: the package's wrapper runs them there).
gen_runs_post_update() {
	[ "$GEN" = initramfs-tools ] || grep -qs '/etc/initramfs/post-update\.d' "$(real_dracut)"
}

# gen_regenerate_name: the lifecycle case's name.
gen_regenerate_name() {
	case $GEN in
	initramfs-tools) echo update-initramfs ;;
	dracut) echo dracut-regenerate-all ;;
	*) echo "$GEN-regenerate" ;;
	esac
}

# image_mount_line: how the boot program must mount the image on the
# system's kernel: straight from the file where the kernel's EROFS can
# (CONFIG_EROFS_FS_BACKED_BY_FILE, Linux >= 6.12), else through the first
# loop device.
image_mount_line() {
	local config k=${1:-}
	[ -n "$k" ] || k=$(kver)
	config=$BOOTDIR/config-$k
	[ -r "$config" ] || fail "no $config: cannot tell how the kernel mounts EROFS"
	if grep -qx 'CONFIG_EROFS_FS_BACKED_BY_FILE=y' "$config"; then
		echo "(erofs, file-backed)"
	else
		echo "(erofs, loop /dev/loop0)"
	fi
}

# mini_config INITRD: the config inside a mini-initramfs (zstd cpio).
mini_config() {
	zstd -dc "$1" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf
}

# is_mini INITRD: INITRD is the initoverlayfs mini-initramfs: its /init is
# the system's boot program.
is_mini() {
	local d prog=$ROOT/usr/lib/initoverlayfs/initoverlayfs-init
	# the package's static boot program, which the installer takes
	[ -e "$prog" ] || fail "the package did not install $prog"
	d=$(mktemp -d "$WORK/mini.XXXXXX")
	zstd -dc "$1" 2>/dev/null | (cd "$d" && cpio -i --quiet --make-directories init) || true
	if cmp -s "$d/init" "$prog"; then
		rm -rf "$d"
		return 0
	fi
	rm -rf "$d"
	return 1
}

# make_disk OUT: the GPT disk of the system: /boot (ext4, BOOT_UUID) and
# root (ext4, ROOT_UUID), from $BOOTDIR and $ROOT without mounting.
make_disk() {
	vm_make_ext4 "$WORK/bootfs.img" "$BOOTDIR" "$BOOT_MB" "$BOOT_UUID" boot
	vm_make_ext4 "$WORK/rootfs.img" "$ROOT" "" "$ROOT_UUID" root
	vm_make_gpt_parts "$1" "$WORK/bootfs.img:$BOOT_PARTUUID:boot" "$WORK/rootfs.img:$ROOT_PARTUUID:root"
	rm -f "$WORK/bootfs.img" "$WORK/rootfs.img"
	[ "$(vm_fs_tag "$1" UUID "$(vm_part_offset "$1" 1)")" = "$BOOT_UUID" ] || fail "partition 1 is not /boot"
	[ "$(vm_fs_tag "$1" UUID "$(vm_part_offset "$1" 2)")" = "$ROOT_UUID" ] || fail "partition 2 is not the root"
}

# boot_vm NAME INITRD KVER [QEMU-ARG...]: boot a writable copy of the disk
# ($WORK/NAME.disk) with the kernel KVER and INITRD, more QEMU arguments
# after it (BOOT_APPEND_MORE: more kernel parameters); the serial log is
# $LOGS/NAME.log. INITRD and KVER empty: the UEFI firmware ($UEFI_FIRMWARE)
# boots the disk, whose EFI system partition holds what to boot. Fails
# when the VM does not end by itself.
boot_vm() {
	local name=$1 initrd=$2 k=$3 log=$LOGS/$1.log append="$APPEND ${BOOT_APPEND_MORE:-}" a
	local -a icount=() more=() how
	shift 3
	for a in "$@"; do more+=(-q "$a"); done
	cp --sparse=always "$WORK/disk.img" "$WORK/$name.disk"
	if [ -n "$ICOUNT_SHIFT" ]; then
		# shellcheck disable=SC2054 # commas belong to the qemu option value
		icount=(-q -icount -q "shift=$ICOUNT_SHIFT,sleep=off")
		append="$append idle=poll"
	fi
	if [ -n "$initrd" ]; then
		how=(-k "$BOOTDIR/vmlinuz-$k" -i "$initrd" -a "$append")
	else
		how=(-e "$UEFI_FIRMWARE")
	fi
	vm_boot "${how[@]}" -m 1024 -t "$BOOT_TIMEOUT" -l "$log" \
		-q -drive -q "file=$WORK/$name.disk,format=raw,if=virtio" "${icount[@]}" \
		"${more[@]}" || { vm_log_tail "$log" 60; fail "$name: the VM did not end by itself"; }
	echo "$name: host wall ${VM_WALL_S}s"
}

# boot_system NAME INITRD [KVER [QEMU-ARG...]]: boot_vm (KVER default: the
# system's kernel, none for a firmware boot) of a boot that must reach the
# guest's report and power off.
boot_system() {
	local name=$1 initrd=$2 k=${3:-}
	[ -n "$k" ] || [ -z "$initrd" ] || k=$(kver)
	shift $(($# < 3 ? $# : 3))
	boot_vm "$name" "$initrd" "$k" "$@"
	vm_assert_no_panic "$LOGS/$name.log"
	vm_log_has "$LOGS/$name.log" "IOFS-SYS end: poweroff" ||
		{ vm_log_tail "$LOGS/$name.log" 60; fail "$name: no complete report"; }
}

# report LOG KEY: the value of the guest's "IOFS-SYS KEY: VALUE" line.
report() {
	vm_log_clean "$1" | sed -n "s/^.*IOFS-SYS $2: //p" | head -n 1
}

# report_block LOG KEY: the lines of the guest's "IOFS-SYS KEY| ..." block.
report_block() {
	vm_log_clean "$1" | sed -n "s/^.*IOFS-SYS $2| //p"
}

# expect_running LOG: the guest's `systemctl is-system-running --wait`.
expect_running() {
	local state
	state=$(report "$1" state)
	report_block "$1" failed
	[ "$state" = running ] || fail "is-system-running: '$state', expected running (failed units above)"
}

# expect_uuids LOG: / and /boot are the disk's partitions, by UUID.
expect_uuids() {
	report_block "$1" findmnt
	report_block "$1" findmnt-boot
	[ "$(report "$1" root-uuid)" = "$ROOT_UUID" ] || fail "/ is UUID '$(report "$1" root-uuid)', expected $ROOT_UUID"
	[ "$(report "$1" boot-uuid)" = "$BOOT_UUID" ] || fail "/boot is UUID '$(report "$1" boot-uuid)', expected $BOOT_UUID"
}

# expect_through_initoverlayfs LOG [KVER]: the boot went through
# initoverlayfs' steps, the image of KVER (default: the system's kernel)
# mounted the kernel's way (image_mount_line), into the full initrd's /init.
expect_through_initoverlayfs() {
	local img how k=${2:-}
	[ -n "$k" ] || k=$(kver)
	vm_assert_log_has "$1" "Linux version $k " || return 1
	img=$(mini_config "$BOOTDIR/initrd.img-$k" | sed -n 's/^fs //p')
	[ -n "$img" ] || fail "no fs in the mini-initramfs' config"
	how=$(image_mount_line "$k")
	vm_assert_steps "$1" /init
	vm_assert_log_has "$1" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vda1 (ext4)"
	vm_assert_log_has "$1" "initoverlayfs: mount image: /boot$img on /initrofs $how"
	vm_assert_log_lacks "$1" "initoverlayfs: error:"
}

# expect_boot_unpinned LOG DISK: nothing pins /boot: no loop device left
# after the boot, `umount /boot` works, e2fsck -fn finds the filesystem
# unused and clean, and after poweroff the host finds it clean (no
# needs_recovery). Every check is shown; the case fails naming each one
# that did not hold.
expect_boot_unpinned() {
	local off sb=$WORK/$2.bootfs bad=""
	report_block "$1" losetup
	report_block "$1" loop-holders
	report_block "$1" old-root-procs
	[ "$(report "$1" loop-devices)" = 0 ] || bad="$bad; $(report "$1" loop-devices) loop device(s) left after the boot"
	report_block "$1" umount-boot
	[ "$(report "$1" umount-boot-rc)" = 0 ] || bad="$bad; umount /boot failed (status $(report "$1" umount-boot-rc))"
	report_block "$1" e2fsck-boot
	[ "$(report "$1" e2fsck-boot-rc)" = 0 ] || bad="$bad; e2fsck -fn of /boot: status $(report "$1" e2fsck-boot-rc)"
	if report_block "$1" e2fsck-boot | grep -q 'is in use'; then
		bad="$bad; e2fsck: the /boot partition is still in use after umount /boot"
	fi
	if report_block "$1" e2fsck-boot | grep -q 'journal recovery'; then
		bad="$bad; e2fsck: the /boot journal needs recovery after umount /boot"
	fi
	off=$(vm_part_offset "$WORK/$2.disk" 1)
	dd if="$WORK/$2.disk" of="$sb" bs=1M skip=$((off / 1048576)) count="$BOOT_MB" status=none
	echo "host, after poweroff: dumpe2fs -h of /boot:"
	dumpe2fs -h "$sb" 2>/dev/null | grep -E '^(Filesystem state|Filesystem features):'
	if dumpe2fs -h "$sb" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'; then
		bad="$bad; /boot needs journal recovery after poweroff (needs_recovery)"
	fi
	dumpe2fs -h "$sb" 2>/dev/null | grep -q '^Filesystem state: *clean$' || bad="$bad; /boot is not clean after poweroff"
	rm -f "$sb"
	[ -z "$bad" ] || fail "${bad#; }"
}

# note KEY VALUE: a measurement for the summary at the end.
note() {
	echo "$1 $2" >>"$WORK/notes"
	echo "measured: $1 $2"
}

# multi_user_s LOG: guest seconds to multi-user.target (its monotonic
# activation time).
multi_user_s() {
	awk -v us="$(report "$1" multi-user-us)" 'BEGIN { printf "%.2f", us / 1000000 }'
}

# kmsg_last_time LOG TEXT: the kernel timestamp of the last line containing
# TEXT, wherever in the line it stands (systemd's console output may put
# terminal escapes before it).
kmsg_last_time() {
	local t
	t=$(vm_log_clean "$1" | grep -F -- "$2" |
		sed -n 's/^.*\[ *\([0-9][0-9]*\.[0-9][0-9]*\)\] .*/\1/p' | tail -n 1)
	[ -n "$t" ] || fail "no timestamped line containing '$2' in $1"
	echo "$t"
}

# timeline TAG LOG: guest seconds at the kernel's `Run /init`, at the real
# root's systemd (the last systemd to start: a systemd initrd has its own
# before), at multi-user.target; the host's wall time of the boot.
timeline() {
	local run_init root_systemd multi_user
	run_init=$(vm_kmsg_time "$2" "Run /init as init process")
	root_systemd=$(kmsg_last_time "$2" "running in system mode")
	multi_user=$(multi_user_s "$2")
	note "$1-run-init-s" "$run_init"
	note "$1-root-systemd-s" "$root_systemd"
	note "$1-multi-user-s" "$multi_user"
	note "$1-wall-s" "$VM_WALL_S"
}

# ------------------------------------------------------------- cases

case_base_system() {
	local tar t0
	t0=$(date +%s)
	tar=$(sys_base_tar "$NAME")
	echo "$tar" >"$WORK/base.path"
	note base-s $(($(date +%s) - t0))
}

# The .deb of this tree: built once per tree content (the package tier's
# way: dpkg-buildpackage -us -uc -b in a copy of the files a clone has).
case_package() {
	local deb t0
	t0=$(date +%s)
	deb=$(deb_cached "$SYSTEM_CACHE/deb" "$(tree_hash)" "$DEB_CACHE_KEEP") || fail "no .deb (above)"
	echo "$deb" >"$SYSTEM_WORK/deb.path"
	echo "measured: package-s $(($(date +%s) - t0))"
}

# guest_setup: what every guest of $ROOT needs besides its fstab: its
# name, machine id, the report, and no getty on the console it writes to.
guest_setup() {
	mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
	echo "iofs-$NAME" >"$ROOT/etc/hostname"
	echo "$MACHINE_ID" >"$ROOT/etc/machine-id"
	install -D -m 0755 "$HERE/guest/iofs-report" "$ROOT/usr/local/sbin/iofs-report"
	install -m 0644 "$HERE/guest/iofs-report.service" "$ROOT/etc/systemd/system/iofs-report.service"
	ln -sf ../iofs-report.service "$ROOT/etc/systemd/system/multi-user.target.wants/iofs-report.service"
	ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service"
}

case_install_package() {
	local deb
	[ -s "$WORK/base.path" ] || fail "no base system (see base-system)"
	[ -s "$SYSTEM_WORK/deb.path" ] || fail "no package (see package)"
	deb=$(cat "$SYSTEM_WORK/deb.path")
	mkdir -p "$ROOT" "$BOOTDIR"
	tar -C "$ROOT" -xf "$(cat "$WORK/base.path")"
	# /boot is a partition of its own.
	mv "$ROOT"/boot/* "$BOOTDIR/"
	echo "system: kernel $(kver), /boot: $(find "$BOOTDIR" -mindepth 1 -printf '%f ')"
	guest_setup
	printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /boot ext4 defaults 0 2\n' \
		"$ROOT_UUID" "$BOOT_UUID" >"$ROOT/etc/fstab"
	cp "$deb" "$ROOT/tmp.deb"
	(cd "$BOOTDIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$WORK/boot-before"
	in_system dpkg -i /tmp.deb
	rm -f "$ROOT/tmp.deb"
	in_system dpkg-query -W initoverlayfs
	(cd "$BOOTDIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | diff -u "$WORK/boot-before" - ||
		fail "dpkg -i changed /boot"
	if [ "$GEN" = dracut ]; then
		# dracut diverted to dracut.distrib, the wrapper in its place
		[ "$(in_system dpkg-divert --listpackage /usr/bin/dracut)" = initoverlayfs ] ||
			fail "/usr/bin/dracut is not diverted by initoverlayfs"
		[ "$(readlink "$ROOT/usr/bin/dracut")" = /usr/lib/initoverlayfs/dracut-wrapper ] ||
			fail "/usr/bin/dracut is not the link to the wrapper"
		# the real dracut, unchanged, as dracut.distrib (dpkg --verify
		# would also list the man pages the base system leaves out)
		[ "$(md5sum <"$ROOT/usr/bin/dracut.distrib" | cut -d' ' -f1)" = \
			"$(sed -n 's, *usr/bin/dracut$,,p' "$ROOT/var/lib/dpkg/info/dracut-core.md5sums")" ] ||
			fail "/usr/bin/dracut.distrib is not dracut-core's /usr/bin/dracut"
		# (dracut --version exits 1)
		in_system dracut --version >"$WORK/dracut-version" 2>&1 || true
		grep '^dracut ' "$WORK/dracut-version" || fail "dracut --version through the wrapper: $(cat "$WORK/dracut-version")"
	fi
	# Enabled the README's way.
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$ROOT/etc/initoverlayfs.conf"
}

# The distro's own path: the kernel package's postinst runs its hooks.
case_kernel_hooks_make_pair() {
	local k img
	k=$(kver)
	du -b "$BOOTDIR/initrd.img-$k" | cut -f1 >"$WORK/distro-initrd-bytes"
	in_system_log "$WORK/reconfigure.log" dpkg-reconfigure "linux-image-$k"
	# The generator's own hook made the initrd, and the post-update.d hook
	# the pair from it (run by update-initramfs, by dracut 106, or by the
	# wrapper in place of Debian 12's dracut): zz-initoverlayfs defers to
	# it, the pair is built once.
	assert_contains "$WORK/reconfigure.log" "$(gen_hook_line "$k")"
	assert_not_contains "$WORK/reconfigure.log" "initoverlayfs: building the pair for $k"
	is_mini "$BOOTDIR/initrd.img-$k" || fail "/boot/initrd.img-$k is not the mini-initramfs"
	mini_config "$BOOTDIR/initrd.img-$k"
	img=$(mini_config "$BOOTDIR/initrd.img-$k" | sed -n 's/^fs //p')
	[ -s "$BOOTDIR$img" ] || fail "the mini-initramfs names $img, not in /boot"
	# The next init is the full initrd's entry point (dracut 106 has no
	# /sbin/init), recorded by the installer.
	mini_config "$BOOTDIR/initrd.img-$k" | grep -qx 'init /init' ||
		fail "the mini-initramfs' config does not record 'init /init'"
	ls -l "$BOOTDIR"
	note distro-initrd-bytes "$(cat "$WORK/distro-initrd-bytes")"
	note mini-initramfs-bytes "$(stat -c %s "$BOOTDIR/initrd.img-$k")"
	note image-bytes "$(stat -c %s "$BOOTDIR$img")"
	# The installer does not keep the full initrd: make it again, for the
	# comparison boot.
	gen_full_initrd "$k" "/boot/full-initrd-$k.img"
	note full-initrd-bytes "$(stat -c %s "$BOOTDIR/full-initrd-$k.img")"
}

case_disk() {
	make_disk "$WORK/disk.img"
	sfdisk --dump "$WORK/disk.img"
}

case_boot_initoverlayfs() {
	boot_system iofs "$BOOTDIR/initrd.img-$(kver)"
	report_block "$LOGS/iofs.log" analyze
	timeline iofs "$LOGS/iofs.log"
}

case_iofs_steps() { expect_through_initoverlayfs "$LOGS/iofs.log"; }
case_iofs_running() { expect_running "$LOGS/iofs.log"; }
case_iofs_uuids() { expect_uuids "$LOGS/iofs.log"; }
case_iofs_boot_unpinned() {
	# A tmpfs root (initramfs-tools' run-init) is released by the boot
	# program's helper once PID 1 has left it.
	if mini_config "$BOOTDIR/initrd.img-$(kver)" | grep -qx 'newroot tmpfs'; then
		vm_assert_log_has "$LOGS/iofs.log" "initoverlayfs: release old root: PID 1 left it; "
		vm_assert_log_lacks "$LOGS/iofs.log" "release old root: .*stays mounted"
	fi
	expect_boot_unpinned "$LOGS/iofs.log" iofs
}

case_boot_full_initrd() {
	local log=$LOGS/full.log
	boot_system full "$BOOTDIR/full-initrd-$(kver).img"
	report_block "$log" analyze
	vm_assert_log_lacks "$log" "initoverlayfs:"
	expect_running "$log"
	expect_uuids "$log"
	timeline full "$log"
}

# count_post_update_start: a post-update.d hook of the test's, first of
# the directory, records each run (VERSION PATH) in the system.
count_post_update_start() {
	mkdir -p "$ROOT/etc/initramfs/post-update.d"
	printf '#!/bin/sh\necho "$@" >>/var/tmp/iofs-post-update.calls\n' \
		>"$ROOT/etc/initramfs/post-update.d/00-iofs-test-count"
	chmod 0755 "$ROOT/etc/initramfs/post-update.d/00-iofs-test-count"
	rm -f "$ROOT/var/tmp/iofs-post-update.calls"
}

# count_post_update_end KVER WHAT: the hooks ran exactly once, for KVER's
# initrd (dracut 106 runs them itself, the wrapper then must not).
count_post_update_end() {
	local calls
	calls=$(cat "$ROOT/var/tmp/iofs-post-update.calls" 2>/dev/null || true)
	rm -f "$ROOT/etc/initramfs/post-update.d/00-iofs-test-count" "$ROOT/var/tmp/iofs-post-update.calls"
	echo "post-update.d runs: ${calls:-none}"
	[ "$calls" = "$1 /boot/initrd.img-$1" ] ||
		fail "after $2, the post-update.d hooks ran '${calls:-never}', expected once for $1 /boot/initrd.img-$1"
}

# expect_images_referenced: every initoverlayfs image in /boot is the one
# an installed mini-initramfs names (a rebuild removes the image it
# replaced when no initramfs names it any more).
expect_images_referenced() {
	local f img refs=""
	for f in "$BOOTDIR"/initrd.img-*; do
		img=$(mini_config "$f" 2>/dev/null | sed -n 's/^fs //p')
		[ -z "$img" ] || refs="$refs ${img##*/}"
	done
	for f in "$BOOTDIR"/initoverlayfs-*.img; do
		[ -e "$f" ] || continue
		case " $refs " in
		*" ${f##*/} "*) ;;
		*) fail "${f##*/} is in /boot, and no initramfs names it (named:$refs)" ;;
		esac
	done
}

# Lifecycle: the generator makes every initrd again (update-initramfs -u
# -k all, dracut -f --regenerate-all), rewriting /boot/initrd.img-KVER; the
# post-update.d hooks run once for it (update-initramfs, dracut 106, or
# the wrapper in place of Debian 12's dracut 059), the pair is made again
# from it and the image it replaced goes; the system still boots through
# initoverlayfs afterwards.
case_regenerate() {
	local k old
	k=$(kver)
	old=$(mini_config "$BOOTDIR/initrd.img-$k" | sed -n 's/^fs //p')
	count_post_update_start
	gen_regenerate "$WORK/update.log"
	count_post_update_end "$k" "$(gen_regenerate_name)"
	ls -l "$BOOTDIR"
	is_mini "$BOOTDIR/initrd.img-$k" ||
		fail "after $(gen_regenerate_name), /boot/initrd.img-$k is not the mini-initramfs ($(stat -c %s "$BOOTDIR/initrd.img-$k") bytes)"
	expect_pair "$k" >/dev/null
	expect_images_referenced
	if [ "$(expect_pair "$k")" != "$old" ]; then
		[ ! -e "$BOOTDIR$old" ] || fail "the image the rebuild replaced, $old, is left"
	fi
	make_disk "$WORK/disk.img"
	boot_system updated "$BOOTDIR/initrd.img-$k"
	expect_through_initoverlayfs "$LOGS/updated.log"
	expect_running "$LOGS/updated.log"
	expect_uuids "$LOGS/updated.log"
}

# Lifecycle, dracut: a package's update-initramfs trigger (dracut's
# postinst, triggered, runs dracut's kernel hook for the kernels, hence
# `dracut --force /boot/initrd.img-KVER KVER`) keeps the pair: the hooks
# run once, the initrd is the mini-initramfs again, its image in /boot.
case_dracut_trigger() {
	local k
	k=$(kver)
	count_post_update_start
	in_system_log "$WORK/trigger.log" sh -c 'dpkg-trigger --no-await update-initramfs && dpkg --triggers-only -a' ||
		fail "dpkg --triggers-only -a failed"
	assert_contains "$WORK/trigger.log" "dracut: Generating /boot/initrd.img-$k"
	count_post_update_end "$k" "the update-initramfs trigger"
	assert_not_contains "$WORK/trigger.log" "initoverlayfs: building the pair"
	expect_pair "$k"
	expect_images_referenced
}

# expect_pair KVER: /boot/initrd.img-KVER is the mini-initramfs and the
# image it names is in /boot; prints the image's path.
expect_pair() {
	local img
	is_mini "$BOOTDIR/initrd.img-$1" || fail "/boot/initrd.img-$1 is not the mini-initramfs"
	img=$(mini_config "$BOOTDIR/initrd.img-$1" | sed -n 's/^fs //p')
	[ -n "$img" ] || fail "the mini-initramfs of $1 names no image"
	[ -s "$BOOTDIR$img" ] || fail "the mini-initramfs of $1 names $img, not in /boot"
	echo "$img"
}

# Lifecycle: a second kernel (the cloud flavour, downloaded into the base
# system by its builder) installed with apt gets a pair of its own and
# boots through initoverlayfs; the first kernel's pair is kept.
case_second_kernel_installed() {
	local k1 k2 img1 img2
	k1=$(kver)
	img1=$(expect_pair "$k1")
	# (apt 2.6 with --no-download and local files: "Pathname to install is
	# not absolute"; the files are local, nothing is downloaded.)
	in_system sh -c 'apt-get install -y '"$SYS_SECOND_KERNEL_DIR"'/*.deb' \
		>"$WORK/second-install.log" 2>&1 || { cat "$WORK/second-install.log"; fail "apt-get install of the second kernel failed"; }
	grep -E 'Generating|initoverlayfs' "$WORK/second-install.log" || true
	k2=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 ! -name "$k1" -printf '%f\n')
	[ "$(echo "$k2" | wc -w)" = 1 ] || fail "expected one second kernel, found '$k2'"
	echo "$k2" >"$WORK/kver2"
	img2=$(expect_pair "$k2")
	[ "$img1" != "$img2" ] || fail "both kernels name the image $img1"
	[ "$(expect_pair "$k1")" = "$img1" ] || fail "the first kernel's pair changed"
	ls -l "$BOOTDIR"
	make_disk "$WORK/disk.img"
	boot_system second "$BOOTDIR/initrd.img-$k2" "$k2"
	expect_through_initoverlayfs "$LOGS/second.log" "$k2"
	expect_running "$LOGS/second.log"
	expect_uuids "$LOGS/second.log"
}

# ... and removed: its pair goes, the first kernel's stays and boots.
case_second_kernel_removed() {
	local k1 k2 img1 img2
	[ -s "$WORK/kver2" ] || fail "no second kernel (see second-kernel-installed)"
	k1=$(kver)
	k2=$(cat "$WORK/kver2")
	img1=$(expect_pair "$k1")
	img2=$(mini_config "$BOOTDIR/initrd.img-$k2" | sed -n 's/^fs //p')
	in_system apt-get purge -y "linux-image-$k2" >"$WORK/second-remove.log" 2>&1 ||
		{ cat "$WORK/second-remove.log"; fail "apt-get purge of the second kernel failed"; }
	grep -E 'initrd|initoverlayfs' "$WORK/second-remove.log" || true
	ls -l "$BOOTDIR"
	[ ! -e "$BOOTDIR/initrd.img-$k2" ] || fail "/boot/initrd.img-$k2 is left after the purge"
	[ ! -e "$BOOTDIR$img2" ] || fail "the removed kernel's image $img2 is left"
	[ "$(expect_pair "$k1")" = "$img1" ] || fail "the first kernel's pair changed"
	make_disk "$WORK/disk.img"
	boot_system removed "$BOOTDIR/initrd.img-$k1"
	expect_through_initoverlayfs "$LOGS/removed.log"
	expect_running "$LOGS/removed.log"
}

# A unified kernel image (systemd >= 254: layout=uki, 60-ukify), the way
# Debian makes one: the kernel's hooks made the pair in /boot, then
# kernel-install's 55-initrd stages /boot/initrd.img-KVER, the
# mini-initramfs; the package's 59-initoverlayfs (before 60-ukify) keeps it
# staged as it is, so the UKI embeds the mini-initramfs, and the image
# stays in /boot, where the mini-initramfs finds it. The UKI is the EFI
# system partition's \EFI\BOOT\BOOTX64.EFI; UEFI firmware (OVMF) boots it
# from power-on, through initoverlayfs to a running system with nothing
# left pinning /boot.
case_uki() {
	local k uki log=$LOGS/uki.log mini size img added
	k=$(kver)
	mini=$BOOTDIR/initrd.img-$k
	img=$(expect_pair "$k")
	in_system sh -c 'apt-get install -y '"$SYS_UKI_DIR"'/*.deb' >"$WORK/uki-packages.log" 2>&1 ||
		{ cat "$WORK/uki-packages.log"; fail "apt-get install of $(sys_get "$NAME" uki) failed"; }
	[ -L "$ROOT/usr/lib/kernel/install.d/59-initoverlayfs.install" ] ||
		fail "the package has no 59-initoverlayfs.install"
	echo layout=uki >"$ROOT/etc/kernel/install.conf"
	# the command line the other boots get from QEMU (boot_vm, vm_boot)
	echo "$APPEND console=ttyS0 panic=-1${ICOUNT_SHIFT:+ idle=poll}" >"$ROOT/etc/kernel/cmdline"
	# No ESP in the chroot: kernel-install takes /boot as $BOOT_ROOT and
	# puts the UKI into /boot/EFI/Linux, from where it goes to the ESP.
	find "$BOOTDIR" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort >"$WORK/uki-boot-before"
	in_system_log "$WORK/uki-kernel-install.log" kernel-install --verbose add "$k" "/boot/vmlinuz-$k" ||
		fail "kernel-install add failed"
	find "$BOOTDIR" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort >"$WORK/uki-boot-after"
	added=$(comm -13 "$WORK/uki-boot-before" "$WORK/uki-boot-after" | grep -vx EFI || true)
	[ -z "$added" ] || fail "kernel-install wrote into /boot, besides EFI/: $added"
	assert_contains "$WORK/uki-kernel-install.log" "59-initoverlayfs: the staged "
	assert_contains "$WORK/uki-kernel-install.log" \
		"is the mini-initramfs of $k already (it boots $img): staged as it is, nothing built"
	is_mini "$mini" || fail "kernel-install changed /boot/initrd.img-$k"
	uki=$(find "$BOOTDIR/EFI/Linux" -name "*-$k.efi")
	[ "$(echo "$uki" | grep -c .)" = 1 ] || fail "UKIs of $k in /boot/EFI/Linux: '$uki'"
	mv "$uki" "$WORK/uki.efi"
	rm -r "$BOOTDIR/EFI"
	uki=$WORK/uki.efi
	objdump -h "$uki" | grep -E ' \.(linux|initrd|cmdline) '
	objcopy --dump-section .initrd="$WORK/uki.initrd" "$uki" "$WORK/uki.copy" ||
		fail "no .initrd section in $uki"
	# the section is the file, padded to the PE file alignment
	size=$(stat -c %s "$mini")
	cmp -n "$size" "$WORK/uki.initrd" "$mini" || fail "the UKI's initrd is not /boot/initrd.img-$k"
	[ "$(stat -c %s "$WORK/uki.initrd")" -lt $((size + 4096)) ] ||
		fail "the UKI's initrd holds more than the mini-initramfs"
	note uki-bytes "$(stat -c %s "$uki")"
	# the disk: /boot and root as before, the ESP third
	vm_make_vfat "$WORK/esp.img" "$ESP_VOLID" ESP "$uki:/EFI/BOOT/BOOTX64.EFI"
	vm_make_ext4 "$WORK/bootfs.img" "$BOOTDIR" "$BOOT_MB" "$BOOT_UUID" boot
	vm_make_ext4 "$WORK/rootfs.img" "$ROOT" "" "$ROOT_UUID" root
	vm_make_gpt_parts "$WORK/disk.img" "$WORK/bootfs.img:$BOOT_PARTUUID:boot" \
		"$WORK/rootfs.img:$ROOT_PARTUUID:root" "$WORK/esp.img:$ESP_PARTUUID:esp:esp"
	rm -f "$WORK/esp.img" "$WORK/bootfs.img" "$WORK/rootfs.img"
	boot_system uki ""
	vm_assert_log_has "$log" "EFI stub: "
	expect_through_initoverlayfs "$log"
	expect_running "$log"
	expect_uuids "$log"
	expect_boot_unpinned "$log" uki
	report_block "$log" analyze
	timeline uki "$log"
	# the cases after this one boot through QEMU's -kernel again
	rm -f "$ROOT/etc/kernel/install.conf" "$ROOT/etc/kernel/cmdline"
}

# Verified images, the way an installed system asks for them: `verity yes`
# in the config, the kernel's hook makes the pair again (the installer run
# without options, as every hook runs it), the mini-initramfs carries the
# root hash, and the boot mounts the image through dm-verity over a loop
# device (never file-backed, on 6.12 too). Nothing may pin /boot after the
# switch: the dm-verity device is removed deferred and its loop device
# autoclears once the real root's systemd lets go of the initrd, so no dm
# or loop device is left and /boot is clean after poweroff. The cases
# after it (the variants) boot this verified pair.
case_verity() {
	local k log=$LOGS/verity.log img conf hash
	k=$(kver)
	echo "verity yes" >>"$ROOT/etc/initoverlayfs.conf"
	in_system dpkg-reconfigure "linux-image-$k" >"$WORK/verity-reconfigure.log" 2>&1 ||
		{ tail -n 30 "$WORK/verity-reconfigure.log"; fail "dpkg-reconfigure with verity yes failed"; }
	img=$(expect_pair "$k") || fail "no pair after dpkg-reconfigure"
	conf=$(mini_config "$BOOTDIR/initrd.img-$k") || fail "cannot read the mini-initramfs' config"
	hash=$(sed -n 's/^verity_roothash //p' <<<"$conf")
	[[ $hash =~ ^[0-9a-f]{64}$ ]] || fail "the mini-initramfs' config has no sha256 verity_roothash: '$hash'"
	echo "root hash $hash, image $img"
	make_disk "$WORK/disk.img"
	boot_system verity "$BOOTDIR/initrd.img-$k"
	vm_assert_log_has "$log" "initoverlayfs: verity: /dev/dm-0 (initoverlayfs) over /dev/loop0"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs (erofs, verity /dev/dm-0 over loop /dev/loop0"
	vm_assert_log_has "$log" ", removed once unmounted)"
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	# dm-verity logs "data block N is corrupted" for a block that fails
	vm_assert_log_lacks "$log" " is corrupted"
	expect_running "$log"
	expect_uuids "$log"
	report_block "$log" dmsetup
	[ "$(report "$log" dm-devices)" = 0 ] || fail "$(report "$log" dm-devices) dm device(s) left after the boot"
	expect_boot_unpinned "$log" verity
	timeline verity "$log"
}

# Systemd mode (the config's initoverlayfs_init false): the kernel's hooks
# make the pair with dracut and this package's dracut module; the
# mini-initramfs is an initrd to its systemd (/etc/initrd-release: dracut
# 106 leaves it to modules this image has not) and boots to a running
# system, nothing pinning /boot. The admin's dracut configuration is the
# full initrd's: a file it adds (install_items+=) is in the image, not in
# the mini-initramfs.
case_systemd_mode() {
	local k img log=$LOGS/systemd-mode.log conf=$ROOT/etc/dracut.conf.d/90-iofs-test-admin.conf
	k=$(kver)
	cp "$ROOT/etc/initoverlayfs.conf" "$WORK/conf.init-mode"
	echo "initoverlayfs_init false" >>"$ROOT/etc/initoverlayfs.conf"
	echo "admin's file" >"$ROOT/etc/iofs-test-admin"
	echo 'install_items+=" /etc/iofs-test-admin "' >"$conf"
	in_system dpkg-reconfigure "linux-image-$k" >"$WORK/systemd-mode-reconfigure.log" 2>&1 ||
		{ tail -n 30 "$WORK/systemd-mode-reconfigure.log"; fail "dpkg-reconfigure in systemd mode failed"; }
	cp "$WORK/conf.init-mode" "$ROOT/etc/initoverlayfs.conf"
	rm -f "$conf" "$ROOT/etc/iofs-test-admin"
	img=$(mini_config "$BOOTDIR/initrd.img-$k" | sed -n 's/^fs //p')
	[ -n "$img" ] || fail "the systemd-mode mini-initramfs names no image"
	[ -s "$BOOTDIR$img" ] || fail "the systemd-mode mini-initramfs names $img, not in /boot"
	zstd -dc "$BOOTDIR/initrd.img-$k" | cpio -it --quiet >"$WORK/systemd-mode.list" ||
		fail "cannot list the systemd-mode mini-initramfs"
	grep -qx 'usr/lib/systemd/systemd' "$WORK/systemd-mode.list" || fail "the mini-initramfs has no systemd"
	grep -qx 'etc/initrd-release' "$WORK/systemd-mode.list" || fail "the mini-initramfs has no /etc/initrd-release"
	! grep -qx 'etc/iofs-test-admin' "$WORK/systemd-mode.list" ||
		fail "the admin's dracut configuration went into the mini-initramfs"
	dump.erofs --ls --path=/etc "$BOOTDIR$img" | grep -q 'iofs-test-admin' ||
		fail "the admin's dracut configuration is not in the image (the full initrd)"
	make_disk "$WORK/disk.img"
	boot_system systemd-mode "$BOOTDIR/initrd.img-$k"
	# (the boot program writes to the journal here, which the mini has not
	# started: its units' results are what the console shows)
	vm_assert_log_has "$log" "Finished pre-initoverlayfs.service - Mount the initoverlayfs image."
	vm_assert_log_has "$log" "Starting pre-initoverlayfs-switch-root.service - Switch root into initoverlayfs"
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	expect_running "$log"
	expect_uuids "$log"
	expect_boot_unpinned "$log" systemd-mode
	timeline systemd-mode "$log"
}

# A cloned boot disk (a second disk whose partition carries /boot's UUID):
# without a hint (the README's config has none) the boot refuses with one line naming both; with
# initoverlayfs.bootfs_hint naming the real one it boots.
case_clone_disk() {
	local off
	off=$(vm_part_offset "$WORK/disk.img" 1)
	dd if="$WORK/disk.img" of="$WORK/clone-part.img" bs=1M skip=$((off / 1048576)) \
		count="$BOOT_MB" status=none
	vm_make_gpt_parts "$WORK/clone.img" "$WORK/clone-part.img:$CLONE_PARTUUID:boot"
	rm -f "$WORK/clone-part.img"
	[ "$(vm_fs_tag "$WORK/clone.img" UUID "$(vm_part_offset "$WORK/clone.img" 1)")" = "$BOOT_UUID" ] ||
		fail "the clone's partition does not carry /boot's UUID"
}

case_clone_refused() {
	local log=$LOGS/clone-refused.log
	[ -s "$WORK/clone.img" ] || fail "no clone disk (see clone-disk)"
	# Plain TCG: under -icount with sleep=off the fallback's 10 s wait
	# before the reboot costs minutes of host time.
	ICOUNT_SHIFT="" boot_vm clone-refused \
		"$BOOTDIR/initrd.img-$(kver)" "$(kver)" -drive "file=$WORK/clone.img,format=raw,if=virtio,readonly=on"
	vm_assert_log_has "$log" "initoverlayfs: error: find boot device: UUID=$BOOT_UUID is on /dev/vda1 and /dev/vdb1: refusing to guess"
	[ "$(vm_log_clean "$log" | grep -c 'initoverlayfs: error:')" -ge 1 ] || fail "no error line"
	vm_assert_log_lacks "$log" "initoverlayfs: mount boot filesystem:"
	vm_assert_log_lacks "$log" "IOFS-SYS begin"
}

case_clone_hint_wins() {
	local log=$LOGS/clone-hint.log
	[ -s "$WORK/clone.img" ] || fail "no clone disk (see clone-disk)"
	BOOT_APPEND_MORE="initoverlayfs.bootfs_hint=/dev/vda1" boot_system clone-hint \
		"$BOOTDIR/initrd.img-$(kver)" "" -drive "file=$WORK/clone.img,format=raw,if=virtio,readonly=on"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vda1"
	expect_running "$log"
}

# /boot on vfat (an EFI system partition holding the image): the config
# says so, the kernel's hook makes the pair again, and the disk's /boot
# partition is FAT (made with mtools, no mount).
case_vfat_boot() {
	local k log=$LOGS/vfat.log f
	local -a files=()
	k=$(kver)
	printf 'bootfs UUID=%s\nbootfstype vfat\n' "$VFAT_UUID" >"$ROOT/etc/initoverlayfs.conf"
	printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /boot vfat umask=0077 0 2\n' \
		"$ROOT_UUID" "$VFAT_UUID" >"$ROOT/etc/fstab"
	rm -f "$BOOTDIR"/full-initrd-*
	in_system dpkg-reconfigure "linux-image-$k" >"$WORK/vfat-reconfigure.log" 2>&1 ||
		{ tail -n 30 "$WORK/vfat-reconfigure.log"; fail "dpkg-reconfigure failed"; }
	expect_pair "$k" >/dev/null
	mini_config "$BOOTDIR/initrd.img-$k"
	for f in "$BOOTDIR"/*; do
		[ -f "$f" ] || fail "/boot has $f, which is not a file: FAT takes files only here"
		files+=("$f:/${f##*/}")
	done
	vm_make_vfat "$WORK/bootfs.img" "${VFAT_UUID/-/}" BOOT "${files[@]}"
	vm_make_ext4 "$WORK/rootfs.img" "$ROOT" "" "$ROOT_UUID" root
	vm_make_gpt_parts "$WORK/disk.img" "$WORK/bootfs.img:$BOOT_PARTUUID:boot" "$WORK/rootfs.img:$ROOT_PARTUUID:root"
	rm -f "$WORK/bootfs.img" "$WORK/rootfs.img"
	boot_system vfat "$BOOTDIR/initrd.img-$k"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$VFAT_UUID is /dev/vda1 (vfat)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot/initoverlayfs-"
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	expect_running "$log"
	[ "$(report "$log" boot-uuid)" = "$VFAT_UUID" ] || fail "/boot is UUID '$(report "$log" boot-uuid)', expected $VFAT_UUID"
	report_block "$log" losetup
	[ "$(report "$log" loop-devices)" = 0 ] || fail "$(report "$log" loop-devices) loop device(s) left after the boot"
	[ "$(report "$log" umount-boot-rc)" = 0 ] || fail "umount /boot failed"
}

case_shellcheck() {
	shellcheck -x -e SC1091 "$HERE/run.sh" "$HERE/base.sh" "$TOP/tests/lib/tree.sh" "$TOP/tests/lib/deb.sh" \
		"$TOP/tests/lib/chroot.sh"
	shellcheck "$HERE/guest/iofs-report"
}


# ------------------------------------------------------------- an image pipeline
# The pair made the way an image build makes it: the same base, the .deb
# installed in a chroot (mmdebstrap's way), then on the host the README's
# mmdebstrap hook, initoverlayfs-install --root DIR (the .deb's installer)
# with /boot a plain directory of the tree and bootfs LABEL=boot given;
# the partitions are made from the tree afterwards, the /boot one with
# that label; the disk boots through initoverlayfs.

# pipe_env: the pipeline's own system, beside the lifecycle's.
pipe_env() {
	WORK=$SYSTEM_WORK/$NAME/pipeline
	ROOT=$WORK/root
	BOOTDIR=$WORK/boot
}

# pipe_chroot CMD...: CMD chrooted into $ROOT as mmdebstrap's hooks have
# it (/proc, /dev), in a private mount namespace; /boot stays the tree's
# plain directory.
pipe_chroot() {
	# shellcheck disable=SC2016 # the inner shell's own variables
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1
		shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		chroot "$root" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' sh "$ROOT" "$@"
}

# readme_hook: the README's mmdebstrap hook that runs the installer.
readme_hook() {
	sed -n "s/^ *--customize-hook='\(initoverlayfs-install --root .*\)' *\\\\$/\1/p" "$TOP/README.md"
}

# base_tree: the base system unpacked into $ROOT (and $BOOTDIR made); DEB
# the package's path.
base_tree() {
	[ -s "$SYSTEM_WORK/$NAME/base.path" ] || fail "no base system (see base-system)"
	[ -s "$SYSTEM_WORK/deb.path" ] || fail "no package (see package)"
	DEB=$(cat "$SYSTEM_WORK/deb.path")
	mkdir -p "$ROOT" "$BOOTDIR"
	tar -C "$ROOT" -xf "$(cat "$SYSTEM_WORK/$NAME/base.path")"
}

case_pipeline_tree() {
	pipe_env
	base_tree
	mkdir -p "$WORK/installer"
	guest_setup
	printf 'UUID=%s / ext4 errors=remount-ro 0 1\nLABEL=boot /boot ext4 defaults 0 2\n' \
		"$ROOT_UUID" >"$ROOT/etc/fstab"
	cp "$DEB" "$ROOT/tmp/initoverlayfs.deb"
	pipe_chroot dpkg -i /tmp/initoverlayfs.deb
	rm -f "$ROOT/tmp/initoverlayfs.deb"
	# the host's installer: the package's
	dpkg-deb -x "$DEB" "$WORK/installer"
	[ -x "$WORK/installer/usr/sbin/initoverlayfs-install" ] || fail "no installer in $DEB"
	echo "tree: kernel $(kver), /boot: $(find "$ROOT/boot" -mindepth 1 -printf '%f ')"
}

case_pipeline_hook_makes_pair() {
	local hook k img
	pipe_env
	k=$(kver)
	hook=$(readme_hook)
	[ -n "$hook" ] || fail "README.md has no --customize-hook='initoverlayfs-install --root ...'"
	echo "hook: $hook"
	if mountpoint -q "$ROOT/boot"; then fail "$ROOT/boot is a mount point"; fi
	# mmdebstrap runs a hook as sh -c HOOK exec DIR
	PATH="$WORK/installer/usr/sbin:$PATH" sh -ec "$hook" exec "$ROOT" ||
		fail "the README's hook failed"
	if grep -qF " $ROOT" /proc/self/mountinfo; then fail "mounts left in $ROOT"; fi
	is_mini "$ROOT/boot/initrd.img-$k" || fail "/boot/initrd.img-$k is not the mini-initramfs"
	mini_config "$ROOT/boot/initrd.img-$k"
	mini_config "$ROOT/boot/initrd.img-$k" | grep -qx 'bootfs LABEL=boot' ||
		fail "the mini-initramfs' bootfs is not LABEL=boot"
	img=$(mini_config "$ROOT/boot/initrd.img-$k" | sed -n 's/^fs //p')
	case $img in
	/initoverlayfs-"$k"-*.img) ;;
	*) fail "fs $img: not at the top of the boot file system" ;;
	esac
	[ -s "$ROOT/boot$img" ] || fail "the mini-initramfs names $img, not in the tree's /boot"
	grep -qx 'boot_layout separate' "$ROOT/etc/initoverlayfs.conf" ||
		fail "the tree's config does not keep boot_layout separate"
	ls -l "$ROOT/boot"
}

case_pipeline_disk() {
	pipe_env
	# the /boot partition gets the tree's /boot; the root keeps the mount point
	find "$ROOT/boot" -mindepth 1 -maxdepth 1 -exec mv -t "$BOOTDIR" {} +
	make_disk "$WORK/disk.img"
	[ "$(vm_fs_tag "$WORK/disk.img" LABEL "$(vm_part_offset "$WORK/disk.img" 1)")" = boot ] ||
		fail "partition 1 is not LABEL=boot"
}

case_pipeline_boot() {
	pipe_env
	boot_system pipeline "$BOOTDIR/initrd.img-$(kver)"
}

case_pipeline_through_initoverlayfs() {
	local img log=$LOGS/pipeline.log
	pipe_env
	img=$(mini_config "$BOOTDIR/initrd.img-$(kver)" | sed -n 's/^fs //p')
	vm_assert_steps "$log" /init
	vm_assert_log_has "$log" "initoverlayfs: find boot device: LABEL=boot is /dev/vda1 (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs $(image_mount_line)"
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	expect_running "$log"
	expect_uuids "$log"
}

# ------------------------------------------------------------- mkosi
# The README's mkosi files (mkosi.postinst, mkosi.repart/, mkosi.conf,
# mkosi.extra/etc/fstab), read out of README.md, build a disk image with
# the mkosi of the system's suite (>= 19: Debian 13's), run on a build host
# that is a chroot of the base system with mkosi and the package (never
# the Debian 12 host); mkosi downloads the image's packages from the
# host's mirror. The image's /boot partition holds the pair the hook made;
# the kernel and the mini-initramfs from it boot the disk through
# initoverlayfs to a running system.

# mkosi_env: the mkosi build's own work, beside the lifecycle's.
mkosi_env() {
	WORK=$SYSTEM_WORK/$NAME/mkosi
	ROOT=$WORK/host
	BOOTDIR=$WORK/boot
	PROJ=$ROOT/root/proj
}

# mkosi_host CMD...: CMD in the build host, a private mount namespace in
# which its root is a mount point (mkosi's sandbox remounts / and fails
# with EINVAL where it is not).
mkosi_host() {
	# shellcheck disable=SC2016 # the inner shell's own variables
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1
		shift
		mount --bind "$root" "$root"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs tmpfs "$root/run"
		mount -t tmpfs tmpfs "$root/tmp"
		exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' sh "$ROOT" "$@"
}

# readme_mkosi_file NAME: the indented block after README.md's
# "<!-- mkosi file: NAME -->", unindented.
readme_mkosi_file() {
	awk -v want="<!-- mkosi file: $1 -->" '
		$0 == want { on = 1; next }
		!on { next }
		/^$/ { if (seen) held++; next }
		/^    / { for (; held > 0; held--) print ""; sub(/^    /, ""); print; seen = 1; next }
		{ exit }
	' "$TOP/README.md"
}

case_mkosi_host() {
	mkosi_env
	base_tree
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	cp "$DEB" "$ROOT/root/initoverlayfs.deb"
	# reprepro: mkosi's local repository of mkosi.packages/
	{ mkosi_host apt-get update && mkosi_host apt-get install -y --no-install-recommends \
		mkosi reprepro /root/initoverlayfs.deb; } >"$WORK/host-apt.log" 2>&1 ||
		{ tail -n 30 "$WORK/host-apt.log"; fail "mkosi and the package on the build host"; }
	mkosi_host mkosi --version
}

case_mkosi_build() {
	local f k img part off
	mkosi_env
	mkdir -p "$PROJ/mkosi.repart" "$PROJ/mkosi.packages" "$PROJ/mkosi.extra/etc" \
		"$PROJ/mkosi.sandbox/etc/apt/sources.list.d"
	for f in mkosi.postinst mkosi.repart/20-boot.conf mkosi.repart/30-root.conf mkosi.conf \
		mkosi.extra/etc/fstab; do
		readme_mkosi_file "$f" >"$PROJ/$f"
		[ -s "$PROJ/$f" ] || fail "README.md has no mkosi file $f"
	done
	chmod 0755 "$PROJ/mkosi.postinst"
	cp "$ROOT/root/initoverlayfs.deb" "$PROJ/mkosi.packages/"
	# The test's own: the host's mirror only (mkosi's defaults add more),
	# the guest report, no first-boot questions on the console.
	sys_sources "$NAME" | awk '{ printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n" \
		"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n", $2, $3 }' \
		>"$PROJ/mkosi.sandbox/etc/apt/sources.list.d/mkosi.sources"
	ROOT=$PROJ/mkosi.extra guest_setup
	ln -s /dev/null "$PROJ/mkosi.extra/etc/systemd/system/systemd-firstboot.service"
	mkosi_host sh -c 'cd /root/proj && exec mkosi --force --package=e2fsprogs,mount build' \
		>"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; fail "mkosi build failed"; }
	grep -E 'initoverlayfs-install: (kernel|  )' "$WORK/build.log" || true
	mv "$PROJ/image.raw" "$WORK/disk.img"
	sfdisk --dump "$WORK/disk.img"
	# the repart files in name order: /boot first, root second
	for part in 1:boot 2:root; do
		sfdisk --dump "$WORK/disk.img" | grep -q "^$WORK/disk.img${part%%:*} : .*name=\"${part#*:}\"" ||
			fail "partition ${part%%:*} is not labelled ${part#*:}"
	done
	off=$(vm_part_offset "$WORK/disk.img" 1)
	dd if="$WORK/disk.img" of="$WORK/bootfs.img" bs=1M skip=$((off / 1048576)) count="$BOOT_MB" status=none
	debugfs -R 'ls -l /' "$WORK/bootfs.img" 2>/dev/null | tee "$WORK/boot-ls"
	k=$(sed -n 's/.* vmlinuz-\(.*\)$/\1/p' "$WORK/boot-ls" | head -n 1)
	[ -n "$k" ] || fail "no vmlinuz-KVER in the boot partition"
	echo "$k" >"$WORK/kver"
	for f in "vmlinuz-$k" "initrd.img-$k" "config-$k"; do
		debugfs -R "dump /$f $BOOTDIR/$f" "$WORK/bootfs.img" 2>/dev/null
		[ -s "$BOOTDIR/$f" ] || fail "no /$f in the boot partition"
	done
	is_mini "$BOOTDIR/initrd.img-$k" || fail "the boot partition's initrd.img-$k is not the mini-initramfs"
	mini_config "$BOOTDIR/initrd.img-$k"
	mini_config "$BOOTDIR/initrd.img-$k" | grep -qx 'bootfs PARTLABEL=boot' ||
		fail "the mini-initramfs' bootfs is not PARTLABEL=boot"
	img=$(mini_config "$BOOTDIR/initrd.img-$k" | sed -n 's/^fs //p')
	grep -q " ${img#/}\$" "$WORK/boot-ls" || fail "the mini-initramfs names $img, not in the boot partition"
	rm -f "$WORK/bootfs.img"
}

case_mkosi_boot() {
	local log img
	mkosi_env
	log=$LOGS/mkosi.log
	APPEND="root=PARTLABEL=root ro" boot_system mkosi "$BOOTDIR/initrd.img-$(kver)"
	img=$(mini_config "$BOOTDIR/initrd.img-$(kver)" | sed -n 's/^fs //p')
	vm_assert_steps "$log" /init
	vm_assert_log_has "$log" "initoverlayfs: find boot device: PARTLABEL=boot is /dev/vda1 (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs $(image_mount_line)"
	vm_assert_log_lacks "$log" "initoverlayfs: error:"
	expect_running "$log"
	report_block "$log" findmnt
	report_block "$log" findmnt-boot
	[ "$(report "$log" root-uuid)" = "$(vm_fs_tag "$WORK/disk.img" UUID "$(vm_part_offset "$WORK/disk.img" 2)")" ] ||
		fail "/ is not the partition labelled root"
	[ "$(report "$log" boot-uuid)" = "$(vm_fs_tag "$WORK/disk.img" UUID "$(vm_part_offset "$WORK/disk.img" 1)")" ] ||
		fail "/boot is not the partition labelled boot"
	expect_boot_unpinned "$log" mkosi
	WORK=$SYSTEM_WORK/$NAME timeline mkosi "$log"
}

# ------------------------------------------------------------- run

run_system() {
	NAME=$1
	WORK=$SYSTEM_WORK/$NAME
	ROOT=$WORK/root
	BOOTDIR=$WORK/boot
	LOGS=$WORK/logs
	GEN=$(sys_get "$NAME" generator) || die "no generator for $NAME"
	rm -rf "$WORK" || die "cannot remove $WORK"
	mkdir -p "$WORK" "$LOGS" || die "cannot create $WORK"
	: >"$WORK/notes"
	echo "system: $NAME, work $WORK, cache $SYSTEM_CACHE"
	run_case "$NAME-base-system" case_base_system
	if [ "$ONLY" != pipeline ]; then
		run_case "$NAME-install-package" case_install_package
		run_case "$NAME-kernel-hooks-make-pair" case_kernel_hooks_make_pair
		run_case "$NAME-disk" case_disk
		run_case "$NAME-boot-initoverlayfs" case_boot_initoverlayfs
		run_case "$NAME-iofs-steps" case_iofs_steps
		run_case "$NAME-iofs-system-running" case_iofs_running
		run_case "$NAME-iofs-root-boot-by-uuid" case_iofs_uuids
		run_case "$NAME-boot-full-initrd" case_boot_full_initrd
		run_case "$NAME-iofs-nothing-pins-boot" case_iofs_boot_unpinned
		run_case "$NAME-$(gen_regenerate_name)-still-iofs" case_regenerate
		if [ "$GEN" = dracut ]; then
			run_case "$NAME-dracut-trigger-keeps-pair" case_dracut_trigger
		fi
		run_case "$NAME-second-kernel-installed" case_second_kernel_installed
		run_case "$NAME-second-kernel-removed" case_second_kernel_removed
		if [ "$(sys_get "$NAME" uki)" != - ]; then
			run_case "$NAME-uki-embeds-mini-boots-from-firmware" case_uki
		fi
		if [ "$NAME" = "$SYSTEM_SYSTEMD_MODE_ON" ]; then
			run_case "$NAME-systemd-mode-boots-unpinned" case_systemd_mode
		fi
		run_case "$NAME-verity-boots-verified-unpinned" case_verity
		if [ "$NAME" = "$SYSTEM_VARIANTS_ON" ]; then
			run_case "$NAME-clone-disk" case_clone_disk
			run_case "$NAME-clone-no-hint-refused" case_clone_refused
			run_case "$NAME-clone-hint-wins" case_clone_hint_wins
			run_case "$NAME-vfat-boot" case_vfat_boot
		fi
	fi
	# every system: each generator runs chrooted into the tree
	run_case "$NAME-pipeline-tree" case_pipeline_tree
	run_case "$NAME-pipeline-readme-hook-makes-pair" case_pipeline_hook_makes_pair
	run_case "$NAME-pipeline-disk-made-after" case_pipeline_disk
	run_case "$NAME-pipeline-boot" case_pipeline_boot
	run_case "$NAME-pipeline-through-initoverlayfs" case_pipeline_through_initoverlayfs
	if [ "$NAME" = "$SYSTEM_MKOSI_ON" ]; then
		run_case "$NAME-mkosi-build-host" case_mkosi_host
		run_case "$NAME-mkosi-readme-files-build-image" case_mkosi_build
		run_case "$NAME-mkosi-image-boots-through-iofs" case_mkosi_boot
	fi
	echo "system: $NAME measurements:"
	sed 's/^/  /' "$WORK/notes"
}

# run_system_job NAME: run_system NAME with counts of its own, its output
# in $SYSTEM_WORK/NAME.out and its counts in $SYSTEM_WORK/NAME.counts.
run_system_job() {
	RUNNER_PASSED=0 RUNNER_FAILED=0 RUNNER_FAILED_NAMES=""
	run_system "$1" >"$SYSTEM_WORK/$1.out" 2>&1
	echo "$RUNNER_PASSED $RUNNER_FAILED $RUNNER_FAILED_NAMES" >"$SYSTEM_WORK/$1.counts"
}

# system_job_done NAME: its output, and its counts added to ours.
system_job_done() {
	local passed failed names
	cat "$SYSTEM_WORK/$1.out"
	read -r passed failed names <"$SYSTEM_WORK/$1.counts" ||
		{ passed=0 failed=1 names="$1-(no result)"; }
	RUNNER_PASSED=$((RUNNER_PASSED + passed))
	RUNNER_FAILED=$((RUNNER_FAILED + failed))
	[ -z "$names" ] || RUNNER_FAILED_NAMES="$RUNNER_FAILED_NAMES $names"
}

# The systems boot SYSTEM_JOBS at a time (default 2: a TCG guest keeps one
# core busy); each system's output is shown when it ends.
run_systems() {
	local -A job_name=()
	local s pid
	for s in "$@"; do
		if [ "${#job_name[@]}" -ge "$SYSTEM_JOBS" ]; then
			wait -n -p pid "${!job_name[@]}"
			system_job_done "${job_name[$pid]}"
			unset "job_name[$pid]"
		fi
		echo "system: $s started"
		run_system_job "$s" &
		job_name[$!]=$s
	done
	while [ "${#job_name[@]}" -gt 0 ]; do
		wait -n -p pid "${!job_name[@]}"
		system_job_done "${job_name[$pid]}"
		unset "job_name[$pid]"
	done
}

SYSTEM_JOBS=${SYSTEM_JOBS:-2}
ONLY=${SYSTEM_ONLY:-}
case $ONLY in "" | pipeline) ;; *) die "SYSTEM_ONLY=$ONLY: expected pipeline or nothing" ;; esac
T0=$(date +%s)
mkdir -p "$SYSTEM_WORK" || die "cannot create $SYSTEM_WORK"
run_case shellcheck case_shellcheck
run_case package case_package
if [ $# -gt 0 ]; then
	for s in "$@"; do sys_get "$s" suite >/dev/null || die "unknown system $s"; done
	run_systems "$@"
else
	# the table's last system first: the newest suite has the most cases
	# (UKI, mkosi), and the two others fit in one slot beside it
	mapfile -t all < <(sys_names | tac)
	run_systems "${all[@]}"
fi
echo "system: total $(($(date +%s) - T0)) s"
# The work files (disk images, about 3 GB) are kept for a failed run only.
if [ "${SYSTEM_KEEP_WORK:-0}" = 1 ] || [ "$RUNNER_FAILED" -gt 0 ]; then
	echo "system: work files kept in $SYSTEM_WORK"
else
	rm -rf "$SYSTEM_WORK"
fi
runner_summary system
