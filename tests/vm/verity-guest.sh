#!/bin/busybox sh
# shellcheck shell=dash
# /init of the guest that tests/vm/verity.sh boots: runs the boot program
# (--systemd --root DIR) against a dm-verity protected image on Debian's
# kernel, one case after the other, and prints "GCASE <name> PASS" or
# "GCASE <name> FAIL: <why>" for each, then GUEST-CASES-DONE. Every case
# removes what it set up, and the last one checks that no dm device, loop
# device or mount is left.
export PATH=/bin:/sbin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
	insmod "$m" || echo "GUEST-ERROR: insmod $m failed"
done </etc/vm-modules
. /t/g.params

P=/bin/initoverlayfs
ERR="initoverlayfs: error:"
export DM_DISABLE_UDEV=1

# conf ROOT HASH IMAGE [LINE...]: a root with the image and a config.
conf() {
	r=$1 hash=$2 image=$3
	shift 3
	mkdir -p "$r/etc"
	ln -f "$image" "$r/image.img"
	{
		echo "fs /image.img"
		echo "verity_roothash $hash"
		echo "verity_salt $SALT"
		echo "verity_hash_offset $OFFSET"
		echo "verity_data_blocks $BLOCKS"
		for l in "$@"; do echo "$l"; done
	} >"$r/etc/initoverlayfs.conf"
}

# run ROOT [OPTION...]: the boot program; output in /tmp/out, shown with
# the case name, exit status as the last line "exit=N".
run() {
	r=$1
	shift
	"$P" --systemd --root "$r" "$@" >/tmp/out 2>&1
	echo "exit=$?" >>/tmp/out
	sed "s/^/[$CASE] /" /tmp/out
}

has() { grep -qF -- "$1" /tmp/out || { why="no '$1'"; return 1; }; }
lacks() { ! grep -qF -- "$1" /tmp/out || { why="unexpected '$1'"; return 1; }; }
one_error() {
	[ "$(grep -c "$ERR" /tmp/out)" = 1 ] || { why="not exactly one error line"; return 1; }
}
mounted() { grep -q " $1 " /proc/mounts; }
# The image's EROFS is on dm-0 (its sysfs directory is named after the
# device) and only the overlay holds it: the layer mounts were released.
verity_mounted() {
	mounted "$1/initoverlayfs" || { why="$1/initoverlayfs is not mounted"; return 1; }
	[ -e /sys/fs/erofs/dm-0 ] || { why="no EROFS on /dev/dm-0"; return 1; }
	! mounted "$1/initrofs" && ! mounted "$1/overlay" ||
		{ why="$1/initrofs or $1/overlay is still mounted"; return 1; }
	dmsetup info initoverlayfs 2>/dev/null | grep -q "DEFERRED REMOVE" ||
		{ why="initoverlayfs: no deferred removal pending"; return 1; }
}

# undo ROOT: unmount the overlay; the dm device must go by itself (its
# removal was deferred until unused) and the loop device with it
# (autoclear). If it does not, remove it and fail.
undo() {
	mounted "$1/initoverlayfs" && umount "$1/initoverlayfs"
	for i in 1 2 3 4 5; do
		[ -e /sys/block/dm-0 ] || [ -e /sys/block/loop0/loop/backing_file ] || break
		sleep 1
	done
	if [ -e /sys/block/dm-0 ]; then
		dmsetup remove --noudevsync initoverlayfs 2>&1 | sed "s/^/[$CASE] dmsetup: /"
		why=${why:-"dm device left after the unmount"}
		return 1
	fi
	no_device_left
}

no_device_left() {
	[ -z "$(dmsetup ls 2>/dev/null | grep -v 'No devices found')" ] ||
		{ why="dm devices left: $(dmsetup ls)"; return 1; }
	for d in /sys/block/dm-*; do
		[ -e "$d" ] && { why="a dm-N block device is left: $d"; return 1; }
	done
	for f in /sys/block/loop*/loop/backing_file; do
		[ -e "$f" ] && { why="loop device left: $f: $(cat "$f")"; return 1; }
	done
	return 0
}

result() {
	if [ "$1" = 0 ]; then echo "GCASE $CASE PASS"; else echo "GCASE $CASE FAIL: $why"; fi
}

c_verified_mount_reads() {
	conf /r1 "$ROOTHASH" /t/g.img
	run /r1
	has "exit=0" && lacks "$ERR" &&
		has "initoverlayfs: verity: /dev/dm-0 (initoverlayfs) over /dev/loop" &&
		has "initoverlayfs: mount image: /r1/image.img on /r1/initrofs (erofs, verity /dev/dm-0 over loop /dev/loop" &&
		has ", removed once unmounted)" &&
		verity_mounted /r1 &&
		[ "$(cat /r1/initoverlayfs/data/other.txt)" = "other file ok" ] &&
		cat /r1/initoverlayfs/data/victim.bin >/dev/null &&
		[ "$(wc -c </r1/initoverlayfs/data/big.bin)" = 65536 ] &&
		grep -q "^initoverlayfs" /sys/block/dm-0/dm/name ||
		{ why=${why:-"files not readable"}; false; }
	rc=$?
	undo /r1 || rc=1
	return $rc
}

c_tampered_block_eio() {
	conf /r2 "$ROOTHASH" /t/g-tampered.img
	run /r2
	has "exit=0" && verity_mounted /r2 || { undo /r2; return 1; }
	rc=0
	if cat /r2/initoverlayfs/data/victim.bin >/dev/null 2>/tmp/cat.err; then
		why="the tampered file read fine"
		rc=1
	elif ! grep -q "Input/output error" /tmp/cat.err; then
		why="tampered file: $(cat /tmp/cat.err), not EIO"
		rc=1
	fi
	sed "s/^/[$CASE] cat: /" /tmp/cat.err
	[ $rc = 0 ] && [ "$(cat /r2/initoverlayfs/data/other.txt)" = "other file ok" ] &&
		[ "$(wc -c </r2/initoverlayfs/data/big.bin)" = 65536 ] &&
		[ -x /r2/initoverlayfs/sbin/init ] || { [ $rc = 0 ] && why="other files unreadable"; rc=1; }
	dmesg | grep -q "device-mapper: verity: 7:[0-9]*: data block $VICTIM_BLOCK is corrupted" ||
		{ [ $rc = 0 ] && why="no kernel line for data block $VICTIM_BLOCK"; rc=1; }
	undo /r2 || rc=1
	return $rc
}

c_wrong_roothash_refused() {
	conf /r3 "$WRONG" /t/g.img
	run /r3
	has "exit=1" && one_error &&
		grep -qx "$ERR verity: check root hash: initoverlayfs over /dev/loop[0-9]* (/r3/image.img): Input/output error (EIO)" /tmp/out ||
		{ why=${why:-"no 'verity: check root hash' error line"}; undo /r3; return 1; }
	! mounted /r3/initrofs || { why="mounted anyway"; undo /r3; return 1; }
	no_device_left
}

# The config has the right hash; the command line tries to clear it, to
# open the override and to mount file-backed: verity stays on.
c_cmdline_cannot_clear_roothash() {
	conf /r4 "$ROOTHASH" /t/g.img
	run /r4 --cmdline "initoverlayfs.verity_roothash= initoverlayfs.verity_cmdline_override=1 initoverlayfs.image_mount=file"
	has "exit=0" && lacks "$ERR" &&
		has "initoverlayfs: warning: kernel command line: initoverlayfs.verity_roothash ignored" &&
		has "initoverlayfs.verity_cmdline_override ignored" &&
		has "initoverlayfs: verity: /dev/dm-0" && verity_mounted /r4
	rc=$?
	undo /r4 || rc=1
	return $rc
}

# A wrong hash in the config cannot be replaced from the command line.
c_cmdline_cannot_change_roothash() {
	conf /r5 "$WRONG" /t/g.img
	run /r5 --cmdline "initoverlayfs.verity_roothash=$ROOTHASH"
	has "exit=1" && one_error && has "$ERR verity: check root hash:" &&
		has "initoverlayfs.verity_roothash ignored" || { undo /r5; return 1; }
	! mounted /r5/initrofs || { why="mounted"; undo /r5; return 1; }
	no_device_left
}

# ... unless the config allows it.
c_cmdline_override_allowed() {
	conf /r6 "$WRONG" /t/g.img "verity_cmdline_override yes"
	run /r6 --cmdline "initoverlayfs.verity_roothash=$ROOTHASH"
	has "exit=0" && lacks "$ERR" && lacks "ignored" && verity_mounted /r6
	rc=$?
	undo /r6 || rc=1
	return $rc
}

# on_corruption MODE OPTION: the kernel took the table with OPTION.
on_corruption() {
	conf "/r-$1" "$ROOTHASH" /t/g.img "verity_on_corruption $1"
	run "/r-$1"
	dmsetup table initoverlayfs >/tmp/table 2>&1
	sed "s/^/[$CASE] table: /" /tmp/table
	has "exit=0" && has "on corruption $1" && grep -q " 1 $2\$" /tmp/table ||
		{ why=${why:-"no $2 in the table"}; false; }
	rc=$?
	undo "/r-$1" || rc=1
	return $rc
}
c_on_corruption_restart_in_table() { on_corruption restart restart_on_corruption; }
c_on_corruption_panic_in_table() { on_corruption panic panic_on_corruption; }

c_no_device_left() {
	no_device_left && ! grep -q ' /r[0-9-]' /proc/mounts || { why=${why:-"mounts left"}; false; }
}

for c in verified_mount_reads tampered_block_eio wrong_roothash_refused \
	cmdline_cannot_clear_roothash cmdline_cannot_change_roothash cmdline_override_allowed \
	on_corruption_restart_in_table on_corruption_panic_in_table no_device_left; do
	CASE=guest-$(echo "$c" | tr _ -)
	why=
	"c_$c"
	result $?
done
echo "GUEST-CASES-DONE"
poweroff -f
sleep 5
