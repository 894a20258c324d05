#!/bin/bash
# shellcheck disable=SC2153 # CASE: set by vm_cases_run (lib.sh) per case
# End-to-end boot cases: Debian's kernel in QEMU (TCG) boots through the
# mini-initramfs made by initoverlayfs-install (initoverlayfs as /init), which
# finds the boot filesystem, mounts the EROFS image under an overlay and
# switches into it; the full initrd in the image then finds the real root by
# root=UUID= and switches to it; the root's /sbin/init prints the marker.
#
# Full initrds: a busybox one (--source DIR, fast) for most cases, and
# Debian's dracut systemd initrd (--source dracut, generated once per run).
# Bad-input cases assert the one error line, the reboot line, no panic and
# no hang (QEMU ended by itself, through -no-reboot).
#
# Usage: tests/vm/cases.sh INSTALLER BOOT_PROGRAM   (root: the installer
# needs /lib/modules and dracut). VM_JOBS (default 2) VMs run at once.
# Logs stay in $VM_WORK/cases/ (default tests/vm/work/cases).
# Not `set -e` at top level: run_case (tests/lib/runner.sh) must see a
# failing case's status; setup steps check every command through die().
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

die() {
	echo "vm-cases: setup failed: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 INSTALLER BOOT_PROGRAM"
INSTALLER=$(realpath "$1") || die "no installer $1"
BOOT_PROGRAM=$(realpath "$2") || die "no boot program $2"
[ -x "$INSTALLER" ] || die "$INSTALLER is not executable"
[ -x "$BOOT_PROGRAM" ] || die "$BOOT_PROGRAM is not executable"

vm_tier_setup cases || die "cannot set up the work directory"

ROOT_UUID=2b0e6c1e-8f4a-4a51-9d3c-6f1f0d7a1001
BOOT_UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
BOOT_LABEL=iofsboot
# The GPT partition's filesystem has other identities than BOOT_*: the
# PARTUUID/PARTLABEL cases can only succeed through the partition table.
GPT_FS_UUID=7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f
GPT_FS_LABEL=iofsgptfs
PARTUUID=0f3a9c2e-6b1d-4e7f-9a8b-1c2d3e4f5a6b
PARTLABEL=iofs-boot-part
MISSING_UUID=00000000-dead-4bad-8bad-000000000000
# The vfat boot filesystem (an EFI system partition's kind): blkid shows
# the volume id 1E5F2A3C as UUID=1E5F-2A3C.
VFAT_VOLID=1E5F2A3C
VFAT_UUID=1E5F-2A3C
WAIT_S=3
ERR="initoverlayfs: error:"
REBOOT_LINE="$ERR no emergency shell (/bin/sh), rebooting in 10 s"
LIGHT_TIMEOUT=60
DRACUT_TIMEOUT=240
# systemd logs to kmsg (timestamps, visible on the serial console), not
# only to its journal; unthrottled.
DRACUT_APPEND="systemd.show_status=0 systemd.log_target=kmsg printk.devkmsg=on"

vm_need_cmd qemu-system-x86_64 timeout mkfs.ext4 e2fsck sfdisk blkid cpio gzip zstd \
	busybox awk mkfs.vfat fsck.vfat mmd mcopy || die "missing host tools"
KREL=$(vm_kernel_release) || die "no bootable kernel"
# shellcheck disable=SC2034 # read by vm_boot_case (lib.sh)
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"
# The installer's work directory stays outside the build tree: the top
# Makefile includes every '*.d' under build/, and an initrd tree has
# depmod.d/, modprobe.d/ ... directories.
TMPDIR=$(mktemp -d /var/tmp/initoverlayfs-vm-cases.XXXXXX) || die "mktemp"
export TMPDIR
# How image_mount=auto mounts the image: EROFS mounts a regular file from
# Linux 6.12 on; before that (Debian 12's 6.1) it must fall back to loop.
if printf '%s\n' 6.12 "${KREL%%-*}" | sort -V -C; then
	AUTO_MOUNT="file-backed"
else
	AUTO_MOUNT="loop /dev/loop0"
fi
trap 'rm -rf "$TMPDIR"' EXIT

# ------------------------------------------------------------- inputs

# Installer options of the next make_pair (set in its subshell).
PAIR_OPTIONS=()

# make_pair NAME SOURCE CONFIG-LINE...: run the installer into $IN/NAME
# (boot dir $IN/NAME/boot, mini-initramfs $IN/NAME/mini.img) and record the
# image's host path and its path inside the boot filesystem ('fs' of the
# mini-initramfs' config) in $IN/NAME/image and $IN/NAME/fs.
make_pair() {
	local name=$1 src=$2 d=$IN/$1 fs
	shift 2
	mkdir -p "$d/boot" || return 1
	printf '%s\n' "$@" >"$d/conf" || return 1
	"$INSTALLER" --kver "$KREL" --source "$src" --boot-dir "$d/boot" --config "$d/conf" \
		--output-initramfs "$d/mini.img" --initramfs-compression zstd,3 \
		--boot-program "$BOOT_PROGRAM" -f "${PAIR_OPTIONS[@]}" >"$d/install.out" 2>"$d/install.err" ||
		{ cat "$d/install.out" "$d/install.err" >&2; vm_err make_pair "installer failed for $name"; return 1; }
	ls "$d"/boot/initoverlayfs-"$KREL"-*.img >"$d/image" || return 1
	[ "$(wc -l <"$d/image")" = 1 ] || { vm_err make_pair "$name: not exactly one image in $d/boot"; return 1; }
	fs=$(zstd -dc "$d/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf |
		sed -n 's/^fs //p') || return 1
	[ -n "$fs" ] || { vm_err make_pair "$name: no 'fs' in the mini-initramfs config"; return 1; }
	echo "$fs" >"$d/fs"
}

# An extra cpio segment (gzip) appended to a mini-initramfs: the kernel
# unpacks the segments in order, so later files replace earlier ones.
# append_segment OUT MINI TREE
append_segment() {
	vm_make_cpio_gz "$3" "$3.cpio.gz" || return 1
	cat "$2" "$3.cpio.gz" >"$1"
}

build_inputs() {
	local v
	vm_write_busybox_initrd "$IN/initrd-tree" || die "busybox full initrd"
	vm_make_rootfs "$IN/root.img" "$ROOT_UUID" iofsroot || die "root image"

	# Pairs, one per bootfs flavour (the same full initrd: same image bytes).
	declare -A conf=(
		[uuid]="bootfs UUID=$BOOT_UUID"
		[label]="bootfs LABEL=$BOOT_LABEL"
		[partuuid]="bootfs PARTUUID=$PARTUUID"
		[partlabel]="bootfs PARTLABEL=$PARTLABEL"
		[path]="bootfs /dev/vdb"
		# the busybox full initrd loads no module: ext4 for the root
		# comes from the mini-initramfs, as bootfstype ext4 does for the rest
		[vfat]="bootfs UUID=$VFAT_UUID"$'\n'"modules ext4"
	)
	declare -A fstype=([uuid]=ext4 [label]=ext4 [partuuid]=ext4 [partlabel]=ext4 [path]=ext4
		[vfat]=vfat)
	for v in uuid label partuuid partlabel path vfat; do
		vm_pool_wait
		make_pair "$v" "$IN/initrd-tree" "${conf[$v]}" "bootfstype ${fstype[$v]}" >"$IN/pair-$v.log" 2>&1 &
	done
	wait
	# The original initoverlayfs' init-mode config (tests/data), bootfs and
	# its hint set for the VM's boot disk: the rest as the original wrote it.
	local -a original
	mapfile -t original < <(sed -e "s/^bootfs .*/bootfs UUID=$BOOT_UUID/" \
		-e 's|^bootfs_hint .*|bootfs_hint /dev/vdb|' "$HERE/../data/original-init.conf")
	[ "${#original[@]}" -eq 7 ] || die "tests/data/original-init.conf"
	vm_pool_wait
	make_pair original "$IN/initrd-tree" "${original[@]}" >"$IN/pair-original.log" 2>&1 &
	# --hostonly on this host: the drivers of the chain under /var/tmp's
	# device, which must be the VM's (virtio) for the case to boot
	vm_pool_wait
	(PAIR_OPTIONS=(--hostonly) && make_pair hostonly "$IN/initrd-tree" "${conf[uuid]}" \
		"bootfstype ext4") >"$IN/pair-hostonly.log" 2>&1 &
	wait
	for v in uuid label partuuid partlabel path vfat original hostonly; do
		[ -s "$IN/$v/fs" ] || { cat "$IN/pair-$v.log"; die "pair $v"; }
	done
	# The vfat pair's image on a FAT boot filesystem, at its 'fs' path.
	vm_make_vfat "$IN/esp.img" "$VFAT_VOLID" IOFSESP "$(cat "$IN/vfat/image"):$(cat "$IN/vfat/fs")" ||
		die "vfat bootfs"

	# One boot filesystem holds each pair's image at its 'fs' path.
	local -a files=()
	for v in uuid label partuuid partlabel path original hostonly; do
		files+=("$(cat "$IN/$v/image"):$(cat "$IN/$v/fs")")
	done
	vm_make_bootfs "$IN/bootfs.img" "$BOOT_UUID" "$BOOT_LABEL" "${files[@]}" || die "bootfs"
	vm_make_bootfs "$IN/gptfs.img" "$GPT_FS_UUID" "$GPT_FS_LABEL" "${files[@]}" || die "GPT fs"
	vm_make_gpt_disk "$IN/gpt.img" "$IN/gptfs.img" "$PARTUUID" "$PARTLABEL" || die "GPT disk"

	# Bad inputs: the same bootfs without the image, and with the image's
	# EROFS superblock (bytes 1024..1055) bit-flipped.
	mkdir -p "$IN/empty" || die "mkdir empty"
	echo "no image here" >"$IN/empty/README" || die "empty tree"
	vm_make_bootfs "$IN/bootfs-empty.img" "$BOOT_UUID" "$BOOT_LABEL" "$IN/empty/README:/README" ||
		die "empty bootfs"
	cp "$(cat "$IN/uuid/image")" "$IN/corrupt.img" || die "copy image"
	dd if="$IN/corrupt.img" bs=1 skip=1024 count=32 status=none | perl -0777 -pe 's/./chr(ord($&) ^ 0xff)/gse' |
		dd of="$IN/corrupt.img" bs=1 seek=1024 conv=notrunc status=none || die "flip bytes"
	cmp -s "$IN/corrupt.img" "$(cat "$IN/uuid/image")" && die "corrupt image is unchanged"
	vm_make_bootfs "$IN/bootfs-corrupt.img" "$BOOT_UUID" "$BOOT_LABEL" \
		"$IN/corrupt.img:$(cat "$IN/uuid/fs")" || die "corrupt bootfs"

	# No separate bootfs: the image and a config naming it inside the
	# mini-initramfs itself (a second cpio segment).
	mkdir -p "$IN/seg-inside/etc" "$IN/seg-inside/images" || die "mkdir seg-inside"
	cp "$(cat "$IN/uuid/image")" "$IN/seg-inside/images/initoverlayfs.img" || die "copy image"
	printf 'bootfs ""\nfs /images/initoverlayfs.img\nbootfstype ext4\n' \
		>"$IN/seg-inside/etc/initoverlayfs.conf" || die "write config"
	append_segment "$IN/mini-inside.img" "$IN/uuid/mini.img" "$IN/seg-inside" || die "mini-inside"

	# Malformed config: a segment replacing /etc/initoverlayfs.conf.
	mkdir -p "$IN/seg-badconf/etc" || die "mkdir seg-badconf"
	printf 'bootfs UUID=%s\ntimeout "30\n' "$BOOT_UUID" >"$IN/seg-badconf/etc/initoverlayfs.conf" ||
		die "write bad config"
	append_segment "$IN/mini-badconf.img" "$IN/uuid/mini.img" "$IN/seg-badconf" || die "mini-badconf"

	# The original's config itself in the original pair's mini-initramfs
	# (what a hand-run dracut with the initoverlayfs module carries), with
	# the fs and init the installer wrote.
	mkdir -p "$IN/seg-original/etc" || die "mkdir seg-original"
	{
		printf '%s\n' "${original[@]}"
		echo "fs $(cat "$IN/original/fs")"
		echo "init /init"
	} >"$IN/seg-original/etc/initoverlayfs.conf" || die "write the original's config"
	append_segment "$IN/mini-original.img" "$IN/original/mini.img" "$IN/seg-original" ||
		die "mini-original"

	# An emergency shell: static busybox as /bin/sh, and the script its
	# interactive start sources ($ENV from the kernel command line): it
	# reports its controlling terminal and powers off.
	mkdir -p "$IN/seg-shell/bin" "$IN/seg-shell/etc" || die "mkdir seg-shell"
	cp /bin/busybox "$IN/seg-shell/bin/busybox" || die "busybox"
	ln -s busybox "$IN/seg-shell/bin/sh" || die "bin/sh"
	cat >"$IN/seg-shell/etc/iofs-shell-test" <<'EOS' || die "shell test script"
read -r _ _ _ _ _ sid ctty _ </proc/self/stat
if [ -t 0 ]; then t=yes; else t=no; fi
echo "IOFS-SHELL: pid $$ session $sid tty_nr $ctty stdin-is-a-tty $t"
/bin/busybox poweroff -f
EOS
	append_segment "$IN/mini-shell.img" "$IN/uuid/mini.img" "$IN/seg-shell" || die "mini-shell"
}

# ------------------------------------------------------------- helpers

# has_line LOG LINE: LOG has exactly LINE (after the timestamp).
has_line() {
	vm_log_plain "$1" | grep -qxF -- "$2" && return 0
	vm_log_plain "$1" | grep -F 'initoverlayfs' | sed 's/^/    /' >&2
	fail "no line '$2' in $1 (its initoverlayfs lines above)"
}


# expect_booted LOG: root reached with no initoverlayfs error.
expect_booted() {
	vm_assert_booted "$1"
	vm_assert_log_lacks "$1" "$ERR"
	vm_assert_log_lacks "$1" IOFS-INITRD-ERROR
	vm_case_note "marker at $(vm_marker_field "$1" uptime) s"
}

# expect_busybox_initrd LOG DEV [INIT]: the busybox full initrd ran from
# the overlay as INIT (default its /init, which the installer recorded)
# and found the real root.
expect_busybox_initrd() {
	vm_assert_log_has "$1" "IOFS-INITRD: started as ${3:-/init} on  / overlay "
	vm_assert_log_has "$1" "IOFS-INITRD: root UUID=$ROOT_UUID is $2, switching"
}

# expect_failure LOG LINE: the boot failed with exactly the error LINE
# (after "initoverlayfs: error: "), then the reboot line, then the kernel's
# restart; no panic, no marker, no other error line.
expect_failure() {
	local log=$1 line="$ERR $2" n t_err t_reboot
	vm_assert_no_panic "$log"
	has_line "$log" "$line"
	has_line "$log" "$REBOOT_LINE"
	n=$(vm_log_count "$log" "$ERR")
	[ "$n" = 2 ] || fail "$n '$ERR' lines in $log, expected 2 (the error and the reboot line)"
	vm_assert_log_has "$log" "reboot: Restarting system"
	vm_assert_log_lacks "$log" "$VM_MARKER "
	grep -qx 'timed_out=0' "$log.result" || fail "VM timed out"
	t_err=$(vm_kmsg_time "$log" "$line")
	t_reboot=$(vm_kmsg_time "$log" "reboot: Restarting system")
	# The documented fallback waits 10 s before the reboot.
	awk -v a="$t_err" -v b="$t_reboot" 'BEGIN { d = b - a; exit !(d >= 9.9 && d < 12) }' ||
		fail "reboot at $t_reboot s, error at $t_err s: not the documented 10 s delay"
	vm_case_note "error at $t_err s, reboot at $t_reboot s"
}

# expect_policy LOG POLICY-LINE: the boot failed with the missing-image
# error, then POLICY-LINE at once (no 10 s wait); no marker.
expect_policy() {
	local log=$1 t_err t_policy
	has_line "$log" "$ERR $MISSING_IMAGE_LINE"
	has_line "$log" "$ERR $2"
	[ "$(vm_log_count "$log" "$ERR")" = 2 ] || fail "expected 2 '$ERR' lines in $log"
	vm_assert_log_lacks "$log" "$VM_MARKER "
	vm_assert_log_lacks "$log" "rebooting in 10 s"
	t_err=$(vm_kmsg_time "$log" "$ERR $MISSING_IMAGE_LINE")
	t_policy=$(vm_kmsg_time "$log" "$ERR $2")
	awk -v a="$t_err" -v b="$t_policy" 'BEGIN { exit !(b - a < 1) }' ||
		fail "the policy came $t_err -> $t_policy s after the error, not at once"
	vm_case_note "error at $t_err s, '$2' at $t_policy s"
}

image_of() { cat "$IN/$1/fs"; }

# ------------------------------------------------------------- cases

LIGHT=(-t "$LIGHT_TIMEOUT" -a "root=UUID=$ROOT_UUID ro")
LIGHT_Q=(-t "$LIGHT_TIMEOUT" -a "root=UUID=$ROOT_UUID ro quiet")

# bootfs from the installer's config, by each kind of name. vda is the
# root, vdb the boot filesystem (plain ext4 or the GPT disk).
bootfs_case() {
	local v=$1 disk=$2 dev=$3 spec=$4 log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/$v/mini.img" -d "$IN/root.img" -d "$disk" "${LIGHT[@]}"
	expect_booted "$log"
	vm_assert_steps "$log"
	vm_assert_log_has "$log" "initoverlayfs: read config: /etc/initoverlayfs.conf: bootfs=$spec fs=$(image_of "$v") "
	vm_assert_log_has "$log" "initoverlayfs: find boot device: $spec is $dev (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount boot filesystem: $dev on /boot (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of "$v") on /initrofs (erofs, $AUTO_MOUNT)"
	expect_busybox_initrd "$log" /dev/vda
}

case_bootfs_uuid() { bootfs_case uuid "$IN/bootfs.img" /dev/vdb "UUID=$BOOT_UUID"; }
case_bootfs_label() { bootfs_case label "$IN/bootfs.img" /dev/vdb "LABEL=$BOOT_LABEL"; }
case_bootfs_partuuid() { bootfs_case partuuid "$IN/gpt.img" /dev/vdb1 "PARTUUID=$PARTUUID"; }
case_bootfs_partlabel() { bootfs_case partlabel "$IN/gpt.img" /dev/vdb1 "PARTLABEL=$PARTLABEL"; }
case_bootfs_path() { bootfs_case path "$IN/bootfs.img" /dev/vdb /dev/vdb; }

# --hostonly made on this host boots the VM, whose disks sit where this
# host's boot device does (virtio): virtio_blk and virtio_pci from the
# chain, none of the other usual boot devices' drivers.
case_hostonly() {
	local list=$WORK/hostonly.list
	zstd -dc "$IN/hostonly/mini.img" | cpio -t --quiet >"$list" || fail "list the hostonly mini"
	grep -q '/virtio_blk\.ko$' "$list" ||
		fail "the --hostonly mini-initramfs has no virtio_blk: this host's boot device is not on virtio, the VM's disks are ($(grep '\.ko$' "$list" | paste -sd ' '))"
	if grep -E '/(ahci|nvme|xhci-pci|usb-storage|mmc_block|virtio_scsi)\.ko$' "$list"; then
		fail "the --hostonly mini-initramfs has the usual boot devices' drivers (above)"
	fi
	bootfs_case hostonly "$IN/bootfs.img" /dev/vdb "UUID=$BOOT_UUID"
}

# /boot on vfat: the installer put vfat, fat and the nls modules of the
# kernel's FAT defaults into the mini-initramfs and named the nls ones in
# its config (the mount asks for them by name; no modprobe there); the
# boot program loads them and mounts the FAT filesystem root-only.
case_bootfs_vfat() {
	local log=$LOGS/$CASE.log kconf=/boot/config-$KREL cp io
	cp=$(sed -n 's/^CONFIG_FAT_DEFAULT_CODEPAGE=//p' "$kconf")
	io=$(sed -n 's/^CONFIG_FAT_DEFAULT_IOCHARSET="\(.*\)"$/\1/p' "$kconf")
	{ [ -n "$cp" ] && [ -n "$io" ]; } || fail "no FAT defaults in $kconf"
	zstd -dc "$IN/vfat/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf |
		grep -qx "modules ext4 nls_cp$cp nls_$io" ||
		fail "the mini-initramfs' config does not load nls_cp$cp nls_$io after its own modules"
	vm_boot_case "$CASE" -i "$IN/vfat/mini.img" -d "$IN/root.img" -d "$IN/esp.img" "${LIGHT[@]}"
	expect_booted "$log"
	vm_assert_steps "$log"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$VFAT_UUID is /dev/vdb (vfat)"
	vm_assert_log_has "$log" "initoverlayfs: mount boot filesystem: /dev/vdb on /boot (vfat, umask=0077)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of vfat) on /initrofs (erofs, $AUTO_MOUNT)"
	vm_assert_log_lacks "$log" "FAT-fs (vdb)"
	expect_busybox_initrd "$log" /dev/vda
}

# A cloned boot disk: vdb and vdc carry the same UUID, and only one of
# them the image. Without a hint the boot refuses, naming both; with the
# hint naming the one holding the image (listed second, so the scan's
# order cannot be what picked it), it boots.
case_clone_refused() {
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" \
		-d "$IN/bootfs-empty.img" "${LIGHT_Q[@]}"
	expect_failure "$LOGS/$CASE.log" "find boot device: UUID=$BOOT_UUID is on /dev/vdb and /dev/vdc: refusing to guess, set bootfs_hint to the right one (ENOTUNIQ)"
}

case_clone_hint_wins() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs-empty.img" \
		-d "$IN/bootfs.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro initoverlayfs.bootfs_hint=/dev/vdc"
	expect_booted "$log"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdc (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount boot filesystem: /dev/vdc on /boot (ext4)"
	expect_busybox_initrd "$log" /dev/vda
}

# The image and its config inside the mini-initramfs; no boot disk at all.
case_no_bootfs() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/mini-inside.img" -d "$IN/root.img" "${LIGHT[@]}"
	expect_booted "$log"
	vm_assert_log_has "$log" "initoverlayfs: read config: /etc/initoverlayfs.conf: bootfs=(none) fs=/images/initoverlayfs.img "
	vm_assert_log_has "$log" "initoverlayfs: find boot device: no bootfs configured, image is in the initramfs"
	vm_assert_log_has "$log" "initoverlayfs: mount boot filesystem: nothing to mount"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /images/initoverlayfs.img on /initrofs (erofs, $AUTO_MOUNT)"
	# the hand-written config has no init: the default, /sbin/init
	expect_busybox_initrd "$log" /dev/vda /sbin/init
}

# The config names a UUID that is not attached; the command line names the
# GPT partition, another init and another timeout.
case_cmdline_overrides() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/gpt.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro initoverlayfs.bootfs=PARTLABEL=$PARTLABEL initoverlayfs.init=/sbin/init-alt initoverlayfs.timeout=7"
	expect_booted "$log"
	vm_assert_log_has "$log" "initoverlayfs: read config: /etc/initoverlayfs.conf: bootfs=PARTLABEL=$PARTLABEL fs=$(image_of uuid) fstype=erofs init=/sbin/init-alt timeout=7s"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: PARTLABEL=$PARTLABEL is /dev/vdb1 (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: exec /sbin/init-alt"
	expect_busybox_initrd "$log" /dev/vda /sbin/init-alt
}

# image_mount=loop: straight to a loop device, no file-backed attempt.
case_image_mount_loop() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro initoverlayfs.image_mount=loop"
	expect_booted "$log"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of uuid) on /initrofs (erofs, loop /dev/loop0)"
	vm_assert_log_lacks "$log" "file-backed mount"
	vm_assert_log_lacks "$log" "Can't open blockdev"
}

# image_mount=auto (the default) on Debian's 6.1: EROFS cannot mount a
# regular file there (file-backed mounts came in 6.12), so it falls back.
case_image_mount_auto() {
	local log=$LOGS/$CASE.log fallback
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro initoverlayfs.image_mount=auto"
	expect_booted "$log"
	fallback="initoverlayfs: file-backed mount of /boot$(image_of uuid) not supported by this kernel, using a loop device"
	if [ "$AUTO_MOUNT" = file-backed ]; then
		vm_assert_log_lacks "$log" "$fallback"
	else
		has_line "$log" "$fallback"
		# Not even tried: the attempt would print a kernel error on every boot.
		vm_assert_log_lacks "$log" "Can't open blockdev"
	fi
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of uuid) on /initrofs (erofs, $AUTO_MOUNT)"
}

case_bad_image_missing() {
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs-empty.img" "${LIGHT_Q[@]}"
	expect_failure "$LOGS/$CASE.log" "$MISSING_IMAGE_LINE"
}

# on_failure from the kernel command line, after the same missing image.
failure_policy_case() {
	vm_boot_case "$CASE" -i "${2:-$IN/uuid/mini.img}" -d "$IN/root.img" -d "$IN/bootfs-empty.img" \
		-t "${3:-$LIGHT_TIMEOUT}" -a "root=UUID=$ROOT_UUID ro quiet $1"
}

case_on_failure_poweroff() {
	local log=$LOGS/$CASE.log
	failure_policy_case initoverlayfs.on_failure=poweroff
	expect_policy "$log" "on_failure poweroff: powering off"
	vm_assert_log_has "$log" "reboot: Power down"
	vm_assert_no_panic "$log"
	grep -qx 'timed_out=0' "$log.result" || fail "VM timed out"
}

case_on_failure_panic() {
	local log=$LOGS/$CASE.log
	failure_policy_case initoverlayfs.on_failure=panic
	expect_policy "$log" "on_failure panic: init exits, the kernel panics"
	vm_assert_log_has "$log" "Kernel panic - not syncing: Attempted to kill init!"
	grep -qx 'timed_out=0' "$log.result" || fail "VM timed out"
}

# A halted machine stays on: the VM runs into its time limit (the light
# cases' 60 s, which a loaded host still reaches the error within).
case_on_failure_halt() {
	local log=$LOGS/$CASE.log
	if failure_policy_case initoverlayfs.on_failure=halt "$IN/uuid/mini.img" "$LIGHT_TIMEOUT" \
		2>"$log.boot-err"; then
		fail "the VM ended by itself: a halt must leave it on"
	fi
	grep -q "did not finish within ${LIGHT_TIMEOUT}s" "$log.boot-err" || { cat "$log.boot-err"; fail "the VM did not run into its time limit"; }
	expect_policy "$log" "on_failure halt: halting"
	vm_assert_log_has "$log" "reboot: System halted"
	vm_assert_no_panic "$log"
}

# The default with a shell in the mini-initramfs: the shell, with the
# console as its controlling terminal (tty_nr is not 0) in a session of
# its own (PID 1 leads it).
case_on_failure_shell() {
	local log=$LOGS/$CASE.log line
	failure_policy_case ENV=/etc/iofs-shell-test "$IN/mini-shell.img"
	has_line "$log" "$ERR $MISSING_IMAGE_LINE"
	has_line "$log" "$ERR starting emergency shell /bin/sh"
	vm_assert_log_lacks "$log" "cannot be its controlling terminal"
	line=$(vm_log_plain "$log" | grep -m1 '^IOFS-SHELL: ') || fail "the shell did not run its script"
	echo "$line"
	echo "$line" | grep -qE '^IOFS-SHELL: pid 1 session 1 tty_nr [1-9][0-9]* stdin-is-a-tty yes$' ||
		fail "the shell has no controlling terminal: $line"
	vm_assert_log_has "$log" "reboot: Power down"
	vm_case_note "$line"
}

case_bad_image_corrupt() {
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs-corrupt.img" "${LIGHT_Q[@]}"
	expect_failure "$LOGS/$CASE.log" "mount image: /boot$(image_of uuid) via /dev/loop0 (erofs, auto): Invalid argument (EINVAL)"
}

# Without quiet, to see when the wait began (the "load modules" line).
case_bad_wrong_uuid() {
	local log=$LOGS/$CASE.log t0 t1
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro initoverlayfs.bootfs=UUID=$MISSING_UUID initoverlayfs.timeout=$WAIT_S"
	expect_failure "$log" "find boot device: UUID=$MISSING_UUID: not found after $WAIT_S s (ETIMEDOUT)"
	t0=$(vm_kmsg_time "$log" "initoverlayfs: load modules: ")
	t1=$(vm_kmsg_time "$log" "$ERR find boot device")
	awk -v a="$t0" -v b="$t1" -v w="$WAIT_S" 'BEGIN { d = b - a; exit !(d >= w - 0.05 && d < w + 1.5) }' ||
		fail "waited $t0 -> $t1 s, expected about $WAIT_S s"
	vm_case_note "waited $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (timeout $WAIT_S s), $(cat "$VM_CASE_DIR/$CASE.guest")"
}

case_bad_malformed_config() {
	vm_boot_case "$CASE" -i "$IN/mini-badconf.img" -d "$IN/root.img" -d "$IN/bootfs.img" "${LIGHT_Q[@]}"
	expect_failure "$LOGS/$CASE.log" "read config: /etc/initoverlayfs.conf:2: unterminated quote in value of 'timeout'"
}

case_bad_unknown_fstype() {
	vm_boot_case "$CASE" -i "$IN/uuid/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$LIGHT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro quiet initoverlayfs.fstype=nosuchfs"
	expect_failure "$LOGS/$CASE.log" "mount image: /boot$(image_of uuid) via /dev/loop0 (nosuchfs, auto): No such device (ENODEV)"
}

# Upgraded from the original initoverlayfs: the installer made the pair
# from the original's init-mode config (its two dracut command lines
# warned about, its erofs_compression and initoverlayfs_init used), and
# the mini-initramfs carries that config itself: the boot warns about the
# same two lines and goes on.
case_original_config() {
	local log=$LOGS/$CASE.log d=$IN/original mc=/etc/initoverlayfs.conf
	cat "$d/install.err"
	[ "$(grep -c ': warning: ' "$d/install.err")" = 2 ] || fail "not 2 warnings from the installer"
	grep -qF "$d/conf:4: 'initoverlayfs_builder' (a key of the original initoverlayfs) ignored" "$d/install.err" ||
		fail "no warning about initoverlayfs_builder"
	grep -qF "compression lz4hc,11, from the original initoverlayfs' erofs_compression" "$d/install.err" ||
		fail "erofs_compression not used"
	grep -qF "mode init, from the original initoverlayfs' initoverlayfs_init" "$d/install.err" ||
		fail "initoverlayfs_init not used"
	vm_boot_case "$CASE" -i "$IN/mini-original.img" -d "$IN/root.img" -d "$IN/bootfs.img" "${LIGHT[@]}"
	expect_booted "$log"
	vm_assert_steps "$log"
	has_line "$log" "initoverlayfs: warning: $mc:4: 'initoverlayfs_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the full initrd itself (see --source)"
	has_line "$log" "initoverlayfs: warning: $mc:5: 'initrd_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the mini-initramfs itself (see --mode)"
	vm_assert_log_has "$log" "initoverlayfs: read config: $mc: bootfs=UUID=$BOOT_UUID fs=$(image_of original) "
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdb (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of original) on /initrofs (erofs, $AUTO_MOUNT)"
	expect_busybox_initrd "$log" /dev/vda
}

# Debian's dracut systemd initrd in the image (generated once per run): its
# systemd finds the real root by root=UUID= and switches into it.
case_dracut_systemd() {
	local log=$LOGS/$CASE.log d=$IN/dracut
	make_pair dracut dracut "bootfs UUID=$BOOT_UUID" "bootfstype ext4"
	cat "$d/install.out"
	vm_make_bootfs "$IN/bootfs-dracut.img" "$BOOT_UUID" "$BOOT_LABEL" "$(cat "$d/image"):$(cat "$d/fs")"
	vm_boot_case "$CASE" -i "$d/mini.img" -d "$IN/root.img" -d "$IN/bootfs-dracut.img" -t "$DRACUT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro $DRACUT_APPEND"
	expect_booted "$log"
	vm_assert_steps "$log"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdb (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(image_of dracut) on /initrofs (erofs, $AUTO_MOUNT)"
	# systemd ran as the initrd's init, mounted the root and switched.
	vm_assert_log_has "$log" "systemd[1]: Running in initrd."
	vm_assert_log_has "$log" "EXT4-fs (vda): mounted filesystem"
	vm_assert_log_has "$log" "systemd[1]: Mounted sysroot.mount - /sysroot."
	vm_assert_log_has "$log" "systemd[1]: Switching root."
	vm_case_note "$(cat "$VM_CASE_DIR/$CASE.guest"), /init at $(vm_kmsg_time "$log" "Run /init") s"
}

# ------------------------------------------------------------- run

CASES=(
	"vm-dracut-systemd-root-by-uuid case_dracut_systemd"
	"vm-bootfs-uuid case_bootfs_uuid"
	"vm-bootfs-label case_bootfs_label"
	"vm-bootfs-partuuid case_bootfs_partuuid"
	"vm-bootfs-partlabel case_bootfs_partlabel"
	"vm-bootfs-device-path case_bootfs_path"
	"vm-hostonly-boots case_hostonly"
	"vm-bootfs-vfat case_bootfs_vfat"
	"vm-original-initoverlayfs-config case_original_config"
	"vm-bootfs-clone-refused case_clone_refused"
	"vm-bootfs-clone-hint-wins case_clone_hint_wins"
	"vm-no-bootfs-image-in-initramfs case_no_bootfs"
	"vm-cmdline-overrides case_cmdline_overrides"
	"vm-image-mount-loop-forced case_image_mount_loop"
	"vm-image-mount-auto-falls-back-to-loop case_image_mount_auto"
	"vm-bad-image-missing case_bad_image_missing"
	"vm-bad-image-corrupt case_bad_image_corrupt"
	"vm-bad-wrong-uuid-times-out case_bad_wrong_uuid"
	"vm-bad-malformed-config case_bad_malformed_config"
	"vm-bad-unknown-fstype case_bad_unknown_fstype"
	"vm-on-failure-poweroff case_on_failure_poweroff"
	"vm-on-failure-panic case_on_failure_panic"
	"vm-on-failure-halt case_on_failure_halt"
	"vm-on-failure-shell-ctty case_on_failure_shell"
)

echo "vm-cases: kernel $KREL, work $WORK, $VM_JOBS VMs at a time"
build_inputs
# the error line every failure-policy case starts from (the image missing)
MISSING_IMAGE_LINE="mount image: /boot$(image_of uuid) (erofs, auto): No such file or directory (ENOENT)"
echo "vm-cases: inputs ready after $(($(date +%s) - T_START)) s"

# Each case runs in the background (VM_JOBS at a time) with `set -e`; its
# output, status and times are kept, then replayed through run_case in order.
vm_cases_run "$WORK/results" "${CASES[@]}"
vm_cases_report "$WORK/results" vm-cases "${CASES[@]}"
echo "vm-cases: total $(($(date +%s) - T_START)) s"
runner_summary vm-cases
