#!/bin/bash
# `make demo`: make the initoverlayfs pair for Debian's kernel with dracut as
# the full initrd, boot it in QEMU (TCG) and print the sizes and a timeline
# read from the guest's kernel log timestamps.
#
#   kernel -> mini-initramfs (initoverlayfs as /init) -> overlay on the EROFS
#   image (dracut's systemd initrd) -> real root (found by root=UUID=)
#
# Usage: tests/vm/demo.sh INSTALLER BOOT_PROGRAM (root). Work files and the
# console log stay in $VM_WORK/demo (default tests/vm/work/demo).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

die() {
	echo "demo: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 INSTALLER BOOT_PROGRAM"
INSTALLER=$(realpath "$1")
BOOT_PROGRAM=$(realpath "$2")
ROOT_UUID=2b0e6c1e-8f4a-4a51-9d3c-6f1f0d7a1001
BOOT_UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b

W=$(vm_work_dir)/demo
rm -rf "$W"
mkdir -p "$W/boot"
# The installer's kept work directory goes outside the build tree: the top
# Makefile includes every '*.d' under build/ (and the initrd has depmod.d/,
# modprobe.d/ ... directories), so it would break every later make run.
TMPW=$(mktemp -d /var/tmp/initoverlayfs-demo.XXXXXX)
trap 'rm -rf "$TMPW"' EXIT
KREL=$(vm_kernel_release) || die "no kernel"
LOG=$W/console.log

echo "demo: kernel $KREL; making the pair from dracut's initrd (dracut takes a minute or two)..."
printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$W/initoverlayfs.conf"
INITOVERLAYFS_INSTALL_KEEP_WORK=1 TMPDIR=$TMPW "$INSTALLER" --kver "$KREL" --source dracut \
	--boot-dir "$W/boot" --config "$W/initoverlayfs.conf" --output-initramfs "$W/mini.img" \
	--boot-program "$BOOT_PROGRAM" -f >"$W/install.out" 2>"$W/install.err" ||
	{ cat "$W/install.out" "$W/install.err" >&2; die "initoverlayfs-install failed"; }

IMG=$(ls "$W"/boot/initoverlayfs-"$KREL"-*.img)
KEPT=$(ls -d "$TMPW"/initoverlayfs-install.*)
[ -f "$KEPT/full-initrd.img" ] || die "no full-initrd.img in the installer's work directory $KEPT"
cp "$KEPT/full-initrd.img" "$W/dracut-initrd.img"
# 'fs' of the mini-initramfs config: the image's path in the boot filesystem.
FS=$(zstd -dc "$W/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf | sed -n 's/^fs //p')
[ -n "$FS" ] || die "no 'fs' in the mini-initramfs config"

echo "demo: making the disks (root: busybox + marker init; boot: ext4 with the image)..."
vm_make_rootfs "$W/root.img" "$ROOT_UUID" demoroot
vm_make_bootfs "$W/bootfs.img" "$BOOT_UUID" demoboot "$IMG:$FS"
# The full initrd unpacked (by the installer): the tree the EROFS image holds.
[ -d "$KEPT/full" ] || die "no unpacked tree $KEPT/full"
UNPACKED=$(du -sb "$KEPT/full" | cut -f1)

echo "demo: booting in QEMU (TCG, no KVM)..."
vm_boot -i "$W/mini.img" -l "$LOG" -d "$W/root.img" -d "$W/bootfs.img" -t 240 \
	-a "root=UUID=$ROOT_UUID ro systemd.show_status=0 systemd.log_target=kmsg printk.devkmsg=on" ||
	die "the boot failed; console log: $LOG"
vm_assert_booted "$LOG" || die "the real root was not reached; console log: $LOG"

# For comparison: the same dracut initrd given to the kernel directly.
echo "demo: booting the plain dracut initramfs for comparison..."
PLAIN_LOG=$W/console-plain-dracut.log
vm_boot -i "$W/dracut-initrd.img" -l "$PLAIN_LOG" -d "$W/root.img" -t 240 \
	-a "root=UUID=$ROOT_UUID ro systemd.show_status=0 systemd.log_target=kmsg printk.devkmsg=on" ||
	die "the plain dracut boot failed; console log: $PLAIN_LOG"
vm_assert_booted "$PLAIN_LOG" || die "the plain dracut boot did not reach the root; log: $PLAIN_LOG"

mib() { awk -v b="$1" 'BEGIN { printf "%6.1f MiB", b / 1048576 }'; }
t() { vm_kmsg_time "$LOG" "$1"; }
line() { printf '  %8.3f s  %s\n' "$1" "$2"; }
dev=$(vm_log_clean "$LOG" | sed -n 's/.*initoverlayfs: find boot device: .* is \([^ ]*\) .*/\1/p' | head -n 1)
how=$(vm_log_clean "$LOG" | sed -n 's/.*initoverlayfs: mount image: .*(erofs, \([^)]*\)).*/\1/p' | head -n 1)
t_init=$(t "Run /init as init process")
t_ready=$(t "initoverlayfs: ready after")

echo
echo "initoverlayfs demo: Debian 12, kernel $KREL, dracut initrd, QEMU TCG (guest time)"
echo "sizes:"
echo "  plain dracut initramfs (gzip)  $(mib "$(stat -c %s "$W/dracut-initrd.img")")  what the kernel would unpack without initoverlayfs"
echo "  full initrd, unpacked          $(mib "$UNPACKED")"
echo "  EROFS image (lz4hc)            $(mib "$(stat -c %s "$IMG")")  read block by block, on demand"
echo "  mini-initramfs (zstd)          $(mib "$(stat -c %s "$W/mini.img")")  what the kernel unpacks"
echo "timeline (kernel log timestamps):"
line 0 "kernel start"
line "$t_init" "initoverlayfs start (/init of the mini-initramfs)"
line "$(t "initoverlayfs: load modules:")" "modules loaded"
line "$(t "initoverlayfs: find boot device:")" "boot device found: $dev"
line "$(t "initoverlayfs: mount image:")" "image mounted ($how)"
line "$(t "initoverlayfs: switch root:")" "switch root into the overlay, exec systemd (dracut initrd)"
line "$(t "systemd[1]: Mounted sysroot.mount")" "systemd mounted the real root (root=UUID=...)"
line "$(t "systemd[1]: Switching root.")" "systemd switches to the real root"
line "$(vm_marker_field "$LOG" uptime)" "real root reached (its /sbin/init runs)"
awk -v a="$t_init" -v b="$t_ready" 'BEGIN { printf "initoverlayfs itself: %.3f s from /init to exec systemd\n", b - a }'
printf 'plain dracut initramfs, same kernel and root: /init at %.3f s, real root at %.3f s\n' \
	"$(vm_kmsg_time "$PLAIN_LOG" "Run /init as init process")" "$(vm_marker_field "$PLAIN_LOG" uptime)"
echo "console log: $LOG; host wall time of the boot: ${VM_WALL_S} s"
