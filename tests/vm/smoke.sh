#!/bin/bash
# Smoke test of the QEMU harness itself (tests/vm/lib.sh), with no code
# from src/: a hand-made busybox initramfs loads Debian's virtio and ext4
# modules with insmod, checks the two boot-disk flavours the harness builds
# (plain ext4 with UUID/LABEL, GPT with PARTUUID/PARTLABEL), mounts the root
# disk and switch_roots into it; the root's /sbin/init prints the marker.
#
# Cases also prove the harness detects a panic and a hang, that
# -icount shift=5,sleep=off gives a repeatable guest uptime, and that
# 256 MiB of RAM is enough.
#
# Usage: tests/vm/smoke.sh   (root not required, but /boot/vmlinuz-* must
# be readable). Logs stay in $VM_WORK/smoke/ (default tests/vm/work/smoke).
# Not `set -e` at top level: run_case (tests/lib/runner.sh) must see a
# failing case's status; setup steps check every command through die().
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

die() {
	echo "vm-smoke: setup failed: $*" >&2
	exit 1
}

WORK=$(vm_work_dir)/smoke
rm -rf "$WORK" || die "cannot remove old $WORK"
mkdir -p "$WORK/logs" || die "cannot create $WORK/logs"
export TEST_LOG_DIR=$WORK/logs
. "$HERE/../lib/runner.sh"

# Identities of the test disks (checked inside the guest).
ROOT_UUID=2b0e6c1e-8f4a-4a51-9d3c-6f1f0d7a1001
ROOT_LABEL=iofsroot
BOOT_UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
BOOT_LABEL=iofsboot
GPT_FS_UUID=7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f
GPT_FS_LABEL=iofsgptfs
PARTUUID=0f3a9c2e-6b1d-4e7f-9a8b-1c2d3e4f5a6b
PARTLABEL=iofs-boot-part
# Modules the smoke initramfs needs; dependencies are resolved by modprobe.
SMOKE_MODULES=(virtio_pci virtio_blk ext4)
BOOT_TIMEOUT=60
MEASURE=$WORK/measurements.txt

vm_need_cmd qemu-system-x86_64 timeout mkfs.ext4 e2fsck sfdisk blkid cpio gzip \
	modprobe busybox sha256sum awk || die "missing host tools"
KREL=$(vm_kernel_release) || die "no bootable kernel"
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"

# ------------------------------------------------------------- inputs

# The smoke initramfs /init; smoke.mode=panic|hang on the kernel command
# line makes it exit (kernel panic) or hang, to test the detectors.
write_smoke_init() {
	cat >"$1/init" <<-EOF || die "cannot write $1/init"
	#!/bin/busybox sh
	export PATH=/bin:/sbin
	fail() { echo "SMOKE-INIT-FAILED: \$*"; poweroff -f; sleep 30; }
	mount -t proc proc /proc || fail "mount /proc"
	mount -t sysfs sysfs /sys || fail "mount /sys"
	mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs on /dev"
	echo "SMOKE-INIT-STARTED"
	mode=normal
	for w in \$(cat /proc/cmdline); do
	    case \$w in smoke.mode=*) mode=\${w#smoke.mode=} ;; esac
	done
	case \$mode in
	hang) echo "SMOKE-HANGING"; while :; do sleep 1000; done ;;
	panic) echo "SMOKE-EXITING"; exit 1 ;;
	esac
	while read -r m; do
	    if insmod "\$m"; then echo "SMOKE-INSMOD-OK \${m##*/}"; else echo "SMOKE-INSMOD-FAILED \${m##*/}"; fi
	done </etc/vm-modules
	# virtio_blk probes asynchronously: wait up to 10 s for the disks.
	n=0
	while [ ! -b /dev/vdc1 ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n + 1)); done
	[ -b /dev/vda ] || fail "/dev/vda did not appear"
	[ -b /dev/vdc1 ] || fail "/dev/vdc1 did not appear"
	echo "SMOKE-DISKS-READY after \${n}00ms"
	mkdir -p /newroot /check
	# Plain ext4 boot disk: found by LABEL and UUID.
	dev=\$(findfs LABEL=$BOOT_LABEL) || fail "findfs LABEL=$BOOT_LABEL"
	byuuid=\$(findfs UUID=$BOOT_UUID) || fail "findfs UUID=$BOOT_UUID"
	mount -t ext4 -o ro "\$dev" /check || fail "mount \$dev"
	echo "SMOKE-BOOTFS dev=\$dev byuuid=\$byuuid content=\$(cat /check/sub/dir/hello.txt)"
	umount /check || fail "umount \$dev"
	# GPT disk: partition name from sysfs, filesystem by LABEL/UUID.
	pn=\$(sed -n 's/^PARTNAME=//p' /sys/class/block/vdc1/uevent)
	dev=\$(findfs LABEL=$GPT_FS_LABEL) || fail "findfs LABEL=$GPT_FS_LABEL"
	byuuid=\$(findfs UUID=$GPT_FS_UUID) || fail "findfs UUID=$GPT_FS_UUID"
	mount -t ext4 -o ro "\$dev" /check || fail "mount \$dev"
	echo "SMOKE-GPT partname=\$pn dev=\$dev byuuid=\$byuuid content=\$(cat /check/hello.txt)"
	umount /check || fail "umount \$dev"
	mount -t ext4 -o ro /dev/vda /newroot || fail "mount /dev/vda on /newroot"
	mount --move /dev /newroot/dev || fail "move /dev"
	umount /sys /proc || fail "umount /sys /proc"
	exec switch_root /newroot /sbin/init
	EOF
	chmod 0755 "$1/init" || die "chmod $1/init"
}

build_inputs() {
	local tree=$WORK/initramfs-tree
	mkdir -p "$tree" "$WORK/files/sub/dir" || die "mkdir"
	vm_busybox_tree "$tree" || die "initramfs busybox tree"
	vm_copy_modules "$KREL" "$tree" "${SMOKE_MODULES[@]}" || die "initramfs modules"
	write_smoke_init "$tree"
	vm_make_cpio_gz "$tree" "$WORK/initramfs.cpio.gz" || die "initramfs archive"

	vm_make_rootfs "$WORK/root.img" "$ROOT_UUID" "$ROOT_LABEL" || die "root image"

	echo hello-bootfs >"$WORK/files/sub/dir/hello.txt" || die "write hello.txt"
	vm_make_bootfs "$WORK/boot.img" "$BOOT_UUID" "$BOOT_LABEL" \
		"$WORK/files/sub/dir/hello.txt:/sub/dir/hello.txt" || die "plain boot image"

	echo hello-gpt >"$WORK/files/gpt-hello.txt" || die "write gpt-hello.txt"
	vm_make_bootfs "$WORK/gptfs.img" "$GPT_FS_UUID" "$GPT_FS_LABEL" \
		"$WORK/files/gpt-hello.txt:/hello.txt" || die "GPT filesystem image"
	vm_make_gpt_disk "$WORK/gpt.img" "$WORK/gptfs.img" "$PARTUUID" "$PARTLABEL" || die "GPT disk"
}

# The three disks every smoke boot gets: vda root, vdb plain, vdc GPT.
DISKS=(-d "$WORK/root.img" -d "$WORK/boot.img" -d "$WORK/gpt.img")

disk_sums() {
	sha256sum "$WORK/root.img" "$WORK/boot.img" "$WORK/gpt.img"
}

record() {
	echo "$*" >>"$MEASURE"
}

# ------------------------------------------------------------- cases

# Host side: the images carry the identities we asked for.
case_image_identities() {
	[ "$(vm_fs_tag "$WORK/root.img" UUID)" = "$ROOT_UUID" ] || fail "root.img UUID"
	[ "$(vm_fs_tag "$WORK/root.img" LABEL)" = "$ROOT_LABEL" ] || fail "root.img LABEL"
	[ "$(vm_fs_tag "$WORK/boot.img" UUID)" = "$BOOT_UUID" ] || fail "boot.img UUID"
	[ "$(vm_fs_tag "$WORK/boot.img" LABEL)" = "$BOOT_LABEL" ] || fail "boot.img LABEL"
	[ "$(vm_fs_tag "$WORK/gpt.img" UUID 1048576)" = "$GPT_FS_UUID" ] || fail "gpt.img fs UUID"
	vm_check_gpt_disk "$WORK/gpt.img" "$PARTUUID" "$PARTLABEL"
	# Corrupt identities must be caught by the checker.
	if vm_check_gpt_disk "$WORK/gpt.img" "$BOOT_UUID" "$PARTLABEL" 2>/dev/null; then
		fail "vm_check_gpt_disk accepted a wrong PARTUUID"
	fi
}

case_boot_to_root() {
	local log=$WORK/boot.log before after
	before=$(disk_sums)
	vm_boot -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t "$BOOT_TIMEOUT" "${DISKS[@]}"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" SMOKE-INIT-FAILED
	vm_assert_log_has "$log" "SMOKE-INSMOD-OK virtio_blk.ko"
	vm_assert_log_has "$log" "SMOKE-INSMOD-OK virtio_pci.ko"
	vm_assert_log_has "$log" "SMOKE-INSMOD-OK ext4.ko"
	vm_assert_log_has "$log" "SMOKE-BOOTFS dev=/dev/vdb byuuid=/dev/vdb content=hello-bootfs"
	vm_assert_log_has "$log" "SMOKE-GPT partname=$PARTLABEL dev=/dev/vdc1 byuuid=/dev/vdc1 content=hello-gpt"
	[ "$(vm_log_count "$log" "$VM_MARKER ")" = 1 ] || fail "marker printed more than once"
	[ "$(vm_marker_field "$log" memtotal_kb)" -gt 0 ] || fail "memtotal_kb not a positive number"
	after=$(disk_sums)
	[ "$before" = "$after" ] || fail "disk images changed during the boot (snapshot=on not effective)"
	record "default boot (-m 512): wall=${VM_WALL_S}s uptime=$(vm_marker_field "$log" uptime)s" \
		"memavail_kb=$(vm_marker_field "$log" memavail_kb) memtotal_kb=$(vm_marker_field "$log" memtotal_kb)" \
		"kmsg: run-init=$(vm_kmsg_time "$log" "Run /init as init process")s" \
		"root-mounted=$(vm_kmsg_time "$log" "EXT4-fs (vda): mounted")s"
	grep -o 'SMOKE-INSMOD-[A-Z]* [^ ]*' "$log" | tr -d '\r' | tr '\n' ' ' >>"$MEASURE"
	echo >>"$MEASURE"
}

case_detects_panic() {
	local log=$WORK/panic.log
	if vm_boot -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t "$BOOT_TIMEOUT" -a smoke.mode=panic 2>/dev/null; then
		:
	fi
	[ "$VM_TIMED_OUT" = 0 ] || fail "panic=-1 did not end the VM (timed out)"
	vm_assert_log_has "$log" SMOKE-EXITING
	vm_log_panicked "$log" || fail "vm_log_panicked missed the panic in $log"
	if vm_assert_booted "$log" 2>/dev/null; then
		fail "vm_assert_booted accepted a panicked boot"
	fi
	record "panic boot: wall=${VM_WALL_S}s rc=$VM_RC"
}

case_detects_hang() {
	local log=$WORK/hang.log
	if vm_boot -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t 15 -a smoke.mode=hang 2>/dev/null; then
		fail "vm_boot returned success for a hung VM"
	fi
	[ "$VM_TIMED_OUT" = 1 ] || fail "VM_TIMED_OUT is $VM_TIMED_OUT for a hung VM (rc=$VM_RC)"
	vm_assert_log_has "$log" SMOKE-HANGING
	grep -qx 'timed_out=1' "$log.result" || fail "$log.result does not record the timeout"
	record "hang boot: killed after wall=${VM_WALL_S}s rc=$VM_RC"
}

# -R (icount shift=5,sleep=off, fixed RTC, idle=poll): a boot without disk
# I/O is exactly repeatable (same kernel timestamps to the microsecond);
# virtio disk I/O completes at host-timed moments, so a boot with disks only
# repeats closely (measured: within 0.1%; assert within 2%).
case_icount_repeatable() {
	local n log t1 t2 u1 u2
	for n in 1 2; do
		log=$WORK/icount-nodisk$n.log
		vm_boot -R -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t "$BOOT_TIMEOUT" -a smoke.mode=panic
		vm_assert_log_has "$log" SMOKE-EXITING
		record "-R, no disks, run $n: wall=${VM_WALL_S}s run-init=$(vm_kmsg_time "$log" "Run /init")s" \
			"panic=$(vm_kmsg_time "$log" "Kernel panic")s"
	done
	for what in "Run /init" "Kernel panic"; do
		t1=$(vm_kmsg_time "$WORK/icount-nodisk1.log" "$what")
		t2=$(vm_kmsg_time "$WORK/icount-nodisk2.log" "$what")
		[ "$t1" = "$t2" ] || fail "-R diskless boots differ at '$what': $t1 vs $t2"
	done
	for n in 1 2; do
		log=$WORK/icount$n.log
		vm_boot -R -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t "$BOOT_TIMEOUT" "${DISKS[@]}"
		vm_assert_booted "$log"
		record "-R, 3 disks, run $n: wall=${VM_WALL_S}s uptime=$(vm_marker_field "$log" uptime)s"
	done
	u1=$(vm_marker_field "$WORK/icount1.log" uptime)
	u2=$(vm_marker_field "$WORK/icount2.log" uptime)
	awk -v a="$u1" -v b="$u2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 * a) }' ||
		fail "-R boots with disks differ by more than 2%: uptime $u1 vs $u2"
	# Sanity: icount really applied (guest time runs much slower than TCG's).
	awk -v a="$u1" -v b="$(vm_marker_field "$WORK/boot.log" uptime)" 'BEGIN { exit !(a > 3 * b) }' ||
		fail "-R uptime $u1 is not clearly above the plain boot's; was -icount applied?"
}

case_boots_in_256m() {
	local log=$WORK/mem256.log
	vm_boot -k "$KERNEL" -i "$WORK/initramfs.cpio.gz" -l "$log" -t "$BOOT_TIMEOUT" -m 256 "${DISKS[@]}"
	vm_assert_booted "$log"
	record "-m 256: wall=${VM_WALL_S}s uptime=$(vm_marker_field "$log" uptime)s" \
		"memavail_kb=$(vm_marker_field "$log" memavail_kb) memtotal_kb=$(vm_marker_field "$log" memtotal_kb)"
}

# ------------------------------------------------------------- run

echo "vm-smoke: kernel $KREL, work $WORK"
build_inputs
: >"$MEASURE"
run_case vm-smoke-image-identities case_image_identities
run_case vm-smoke-boot-to-root case_boot_to_root
run_case vm-smoke-detects-panic case_detects_panic
run_case vm-smoke-detects-hang case_detects_hang
run_case vm-smoke-icount-repeatable case_icount_repeatable
run_case vm-smoke-boots-in-256m case_boots_in_256m
sed 's/^/vm-smoke: measured: /' "$MEASURE"
runner_summary vm-smoke
