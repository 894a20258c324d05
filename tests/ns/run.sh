#!/bin/bash
# Namespace tier: the boot program's real mount sequence against the host
# kernel, inside private mount namespaces (root required). Nothing here
# touches the host's mounts: every case runs in `unshare -m`.
#
# Usage: tests/ns/run.sh [PROGRAM]   (default: build/initoverlayfs)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/runner.sh"

PROGRAM=$(realpath "${1:-build/initoverlayfs}")
WORK=$(mktemp -d /tmp/iofs-ns.XXXXXX)
# Fresh identities each run: the loop devices are the host's, where
# another run of this tier (another checkout) may have its own attached,
# and a UUID two devices carry is refused (find boot device: ENOTUNIQ).
BOOT_UUID=$(cat /proc/sys/kernel/random/uuid)
BOOT_LABEL=iofs-${BOOT_UUID:0:8}
BOOT_DEV=""
CLONE_DEV=""

cleanup() {
	[ -n "$BOOT_DEV" ] && losetup -d "$BOOT_DEV" 2>/dev/null
	[ -n "$CLONE_DEV" ] && losetup -d "$CLONE_DEV" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

die() {
	echo "ns: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (mount namespaces, loop devices)"
[ -x "$PROGRAM" ] || die "$PROGRAM is not built"

# The image: a small tree with a file, a symlink and a busybox init.
make_image() {
	local tree=$WORK/tree
	mkdir -p "$tree/bin" "$tree/sbin" "$tree/etc" "$tree/data"
	echo "hello from the image" >"$tree/data/hello.txt"
	ln -s data/hello.txt "$tree/hello-link"
	cp /bin/busybox "$tree/bin/busybox"
	cat >"$tree/sbin/init" <<-'EOF'
	#!/bin/busybox sh
	# Next init for the PID 1 case: report what the new root looks like.
	echo "NEXT-INIT-REACHED pid=$$"
	/bin/busybox cat /data/hello.txt
	/bin/busybox awk '{ for (i = 7; i < NF; i++) if ($i == "-") { print "MOUNT " $5 " " $(i + 1); break } }' /proc/self/mountinfo
	echo "ARGS $*"
	EOF
	chmod 0755 "$tree/sbin/init"
	# An initramfs-tools-like /init for 'newroot tmpfs': mount the real
	# root at /root, move the API file systems into it and switch the way
	# klibc's run-init does (busybox switch_root: delete the tmpfs root's
	# files, move the real root over it, chroot), which never detaches
	# the old root.
	# As in a distro initrd, the API file systems' mount points are
	# directories of the image: on the tmpfs root, bind mounts under them.
	mkdir -p "$tree/root" "$tree/proc" "$tree/sys" "$tree/dev" "$tree/run"
	cat >"$tree/init" <<-'EOF'
	#!/bin/busybox sh
	bb=/bin/busybox
	# initramfs-tools mounts its own /proc, /sys, /dev and /run over
	# those it was given, and moves only its own.
	$bb mount -t proc proc /proc
	$bb mount -t tmpfs run /run
	$bb mount -t tmpfs realroot /root
	$bb mkdir -p /root/bin /root/sbin /root/proc /root/sys /root/dev /root/run
	$bb cp /bin/busybox /root/bin/busybox
	$bb cp /realroot-init /root/sbin/init
	for fs in proc sys dev run; do $bb mount --move /$fs /root/$fs; done
	exec $bb switch_root /root /sbin/init
	EOF
	# The real root's init: waits (up to 10 s) until no overlay mount and
	# no loop device of the image is left, and says which it found.
	cat >"$tree/realroot-init" <<-'EOF'
	#!/bin/busybox sh
	bb=/bin/busybox
	echo "REAL-ROOT-REACHED pid=$$"
	held() {
		$bb grep -q ' - overlay ' /proc/self/mountinfo && echo overlay
		for f in /sys/block/loop*/loop/backing_file; do
			case $($bb cat "$f" 2>/dev/null) in
			*/initoverlayfs-test.img) echo "loop $f" ;;
			esac
		done
	}
	i=0
	while [ -n "$(held)" ] && [ $i -lt 100 ]; do $bb sleep 0.1; i=$((i + 1)); done
	if [ -n "$(held)" ]; then
		echo "PIN: still held after 10 s: $(held)"
		$bb cat /proc/self/mountinfo
	else
		echo "OLD-ROOT-RELEASED"
	fi
	EOF
	chmod 0755 "$tree/init" "$tree/realroot-init"
	echo "ID=iofs-test" >"$tree/etc/os-release"
	mkfs.erofs -zlz4hc "$WORK/image.img" "$tree" >/dev/null || die "mkfs.erofs"
	sha256sum "$WORK/image.img" | cut -d' ' -f1 >"$WORK/image.sha256"
	# The same with a file where /boot goes: "move mounts" fails.
	cp -a "$tree" "$WORK/tree-boot-file" && echo "not a directory" >"$WORK/tree-boot-file/boot" &&
		mkfs.erofs "$WORK/image-boot-file.img" "$WORK/tree-boot-file" >/dev/null ||
		die "mkfs.erofs (boot file)"
}

# The boot filesystem: ext4 with the image inside, on a loop device so
# that UUID/LABEL lookups find it like a disk.
make_bootfs() {
	mkdir -p "$WORK/bootfs"
	cp "$WORK/image.img" "$WORK/bootfs/initoverlayfs-test.img"
	cp "$WORK/image-boot-file.img" "$WORK/bootfs/initoverlayfs-boot-file.img"
	mkfs.ext4 -q -F -U "$BOOT_UUID" -L "$BOOT_LABEL" -d "$WORK/bootfs" \
		"$WORK/boot.ext4" 16M || die "mkfs.ext4"
	BOOT_DEV=$(losetup --find --show "$WORK/boot.ext4") || die "losetup"
}

# new_root NAME CONFIG-TEXT: a fresh mini-initramfs root with that config.
new_root() {
	local root=$WORK/$1
	mkdir -p "$root/etc"
	printf '%s\n' "$2" >"$root/etc/initoverlayfs.conf"
	echo "$root"
}

# in_ns SCRIPT: runs bash SCRIPT in a private mount namespace.
in_ns() {
	export BREAK_ME=${BREAK_ME:-}
	PROGRAM=$PROGRAM WORK=$WORK unshare -m --propagation private bash -euc "$1"
}

# Runs the program in --systemd --root mode in a namespace, then CHECKS
# (bash) in the same namespace. Output in $WORK/out.
run_systemd_mode() {
	local root=$1 checks=$2
	shift 2
	in_ns "
		rc=0
		\"\$PROGRAM\" --systemd --root '$root' --cmdline '' $* >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		$checks
	"
}

# What every successful mount must show: overlay up, image readable,
# writable; the layers' own mounts released (the overlay holds them):
# nothing but the overlay is left mounted to pin the image. (No "! cmd"
# in these checks: bash -e ignores its failure.)
COMMON_CHECKS='
	findmnt -n -o FSTYPE "$ROOT/initoverlayfs" | grep -qx overlay
	[ "$(grep -cE " $ROOT/(initrofs|overlay)[ /]" /proc/self/mountinfo)" = 0 ]
	grep -qx "hello from the image" "$ROOT/initoverlayfs/data/hello.txt"
	[ -n "${BREAK_ME:-}" ] && false
	[ "$(readlink "$ROOT/initoverlayfs/hello-link")" = data/hello.txt ]
	echo written >"$ROOT/initoverlayfs/data/new.txt"
	grep -qx written "$ROOT/initoverlayfs/data/new.txt"
'

expect_success() {
	assert_contains "$WORK/out" "exit=0"
	assert_not_contains "$WORK/out" "error:"
}

# expect_failure LINE: exit status 1 and exactly one error line, LINE.
expect_failure() {
	assert_contains "$WORK/out" "exit=1"
	assert_contains "$WORK/out" "$1"
	[ "$(grep -c 'error:' "$WORK/out")" -eq 1 ] || fail "expected exactly one error line"
}

image_unchanged() {
	[ "$(sha256sum "$WORK/image.img" | cut -d' ' -f1)" = "$(cat "$WORK/image.sha256")" ] ||
		fail "the image was modified"
}

case_file_backed() {
	local root
	root=$(new_root file-backed "fs /image.img")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS" --image-mount file
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "(erofs, file-backed)"
	cmp -s "$root/image.img" "$WORK/image.img" || fail "image modified"
}

case_auto_prefers_file_backed() {
	local root
	root=$(new_root auto "fs /image.img")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS"
	cat "$WORK/out"
	expect_success
	# This host kernel (>= 6.12) mounts EROFS from files.
	assert_contains "$WORK/out" "file-backed"
}

case_loop_forced() {
	local root
	root=$(new_root loop "fs /image.img
image_mount loop")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS
		dev=\$(sed -n 's|.*(erofs, loop \\(/dev/loop[0-9]*\\)).*|\\1|p' '$WORK/out')
		case \$dev in /dev/loop*) ;; *) echo \"not a loop: \$dev\"; exit 1;; esac
		[ \"\$(cat /sys/block/\${dev#/dev/}/ro)\" = 1 ]
		[ \"\$(cat /sys/block/\${dev#/dev/}/loop/autoclear)\" = 1 ]
		[ \"\$(cat /sys/block/\${dev#/dev/}/loop/backing_file)\" = '$root/image.img' ]"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "(erofs, loop /dev/loop"
}

# bootfs_case NAME SPEC: the image on the ext4 boot device found by SPEC,
# mounted and moved beneath the new root.
bootfs_case() {
	local root
	root=$(new_root "$1" "bootfs $2
bootfstype ext4
fs /initoverlayfs-test.img
timeout 5")
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS
		findmnt -n -o SOURCE '$root/initoverlayfs/boot' | grep -qx '$BOOT_DEV'
		[ -z \"\$(findmnt -n '$root/boot')\" ]
		[ -f '$root/initoverlayfs/boot/initoverlayfs-test.img' ]"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "find boot device: $2 is $BOOT_DEV (ext4)"
	image_unchanged
}

case_bootfs_uuid() { bootfs_case uuid "UUID=$BOOT_UUID"; }
case_bootfs_uuid_upper_case() { bootfs_case uuid-upper "UUID=${BOOT_UUID^^}"; }
case_bootfs_label() { bootfs_case label "LABEL=$BOOT_LABEL"; }
case_bootfs_path() { bootfs_case path "$BOOT_DEV"; }

# Under systemd / is shared, and the kernel refuses to MS_MOVE a mount whose
# parent is shared (EINVAL): /boot must still end up beneath the new root.
case_shared_parent_moves_boot() {
	local root
	root=$(new_root shared "bootfs UUID=$BOOT_UUID
bootfstype ext4
fs /initoverlayfs-test.img
timeout 5")
	in_ns "
		mount --bind '$root' '$root'
		mount --make-rshared '$root'
		rc=0
		\"\$PROGRAM\" --systemd --root '$root' --cmdline '' >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		ROOT='$root'; $COMMON_CHECKS
		findmnt -n -o PROPAGATION '$root' | grep -q shared
		findmnt -n -o SOURCE '$root/initoverlayfs/boot' | grep -qx '$BOOT_DEV'
		[ -z \"\$(findmnt -n '$root/boot')\" ]
		[ -f '$root/initoverlayfs/boot/initoverlayfs-test.img' ]"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "move mounts:"
	image_unchanged
}

# newroot tmpfs: the new root is a tmpfs (what run-init and switch_root
# demand) whose top-level directories are the overlay's, bound, and whose
# top-level files and links are copies.
case_newroot_tmpfs() {
	local root
	root=$(new_root newroot-tmpfs "fs /image.img
newroot tmpfs")
	cp "$WORK/image.img" "$root/image.img"
	in_ns "
		rc=0
		\"\$PROGRAM\" --systemd --root '$root' --cmdline '' >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		findmnt -n -o FSTYPE '$root/initoverlayfs' | grep -qx tmpfs
		[ \"\$(grep -cE ' $root/(initrofs|overlay)[ /]' /proc/self/mountinfo)\" = 0 ]
		findmnt -n -o FSTYPE '$root/initoverlayfs/data' | grep -qx overlay
		findmnt -n -o FSTYPE '$root/initoverlayfs/sbin' | grep -qx overlay
		grep -qx 'hello from the image' '$root/initoverlayfs/data/hello.txt'
		[ \"\$(readlink '$root/initoverlayfs/hello-link')\" = data/hello.txt ]
		[ -z \"\$(findmnt -n '$root/initoverlayfs/hello-link')\" ]
		echo written >'$root/initoverlayfs/data/new.txt'
		grep -qx written '$root/initoverlayfs/data/new.txt'
		[ -x '$root/initoverlayfs/sbin/init' ]"
	cat "$WORK/out"
	expect_success
}

# systemd mounts all through early boot, and openat2(RESOLVE_IN_ROOT)
# answers EAGAIN when '..' (Debian's /sbin/init -> ../lib/systemd/systemd)
# is resolved during any mount change. With mounts churning beside it,
# 300 runs must all pass the next-init check (before the retry, about 1
# run in 100 failed).
case_next_init_check_under_mount_churn() {
	local root tree=$WORK/churn-tree
	mkdir -p "$tree/lib/x" "$tree/sbin" "$WORK/churn-spin"
	printf '#!/bin/sh\n' >"$tree/lib/x/init"
	chmod 0755 "$tree/lib/x/init"
	ln -s ../lib/x/init "$tree/sbin/init"
	root=$(new_root churn "fs /image.img")
	mkfs.erofs --quiet "$root/image.img" "$tree" >/dev/null
	in_ns "
		( while :; do mount -t tmpfs none '$WORK/churn-spin'; umount '$WORK/churn-spin'; done ) &
		spin=\$!
		fails=0
		for i in \$(seq 1 300); do
			if ! \"\$PROGRAM\" --systemd --root '$root' --cmdline '' >'$WORK/churn.out' 2>&1; then
				fails=\$((fails + 1))
				cat '$WORK/churn.out'
			fi
			umount -R '$root/initoverlayfs'
		done
		kill \$spin
		wait
		echo \"failed runs: \$fails\" >'$WORK/out'
	"
	cat "$WORK/out"
	assert_contains "$WORK/out" "failed runs: 0"
}

case_bootfs_type_probed() {
	local root
	root=$(new_root probed "bootfs LABEL=$BOOT_LABEL
bootfs_hint $BOOT_DEV
fs /initoverlayfs-test.img")
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "is $BOOT_DEV (ext4)"
}

case_cmdline_overrides_config() {
	local root
	root=$(new_root cmdline "bootfs UUID=00000000-0000-0000-0000-000000000000
fs /wrong.img
timeout 1")
	in_ns "
		\"\$PROGRAM\" --systemd --root '$root' --cmdline 'quiet initoverlayfs.bootfs=\"LABEL=$BOOT_LABEL\" initoverlayfs.fs=/initoverlayfs-test.img initoverlayfs.image_mount=loop' >'$WORK/out' 2>&1
		echo \"exit=\$?\" >>'$WORK/out'
		findmnt -n -o FSTYPE '$root/initoverlayfs' | grep -qx overlay"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "bootfs=LABEL=$BOOT_LABEL fs=/initoverlayfs-test.img"
	assert_contains "$WORK/out" "loop /dev/loop"
}

case_fail_missing_image() {
	local root
	root=$(new_root missing "fs /nothing-here.img")
	run_systemd_mode "$root" "! findmnt -n '$root/initoverlayfs' >/dev/null"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: mount image: $root/nothing-here.img (erofs, auto): No such file or directory (ENOENT)"
}

case_fail_corrupt_image() {
	local root
	root=$(new_root corrupt "fs /image.img
image_mount loop")
	cp "$WORK/image.img" "$root/image.img"
	# Overwrite the superblock (offset 1024): magic and checksum.
	printf '\377\377\377\377\377\377\377\377' |
		dd of="$root/image.img" bs=1 seek=1024 conv=notrunc status=none
	run_systemd_mode "$root" "! findmnt -n '$root/initoverlayfs' >/dev/null"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: mount image: $root/image.img via /dev/loop"
	assert_contains "$WORK/out" "(erofs, loop): Invalid argument (EINVAL)"
}

case_fail_wrong_fstype() {
	local root
	root=$(new_root fstype "fs /image.img
fstype squashfs")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: mount image: $root/image.img via /dev/loop"
	assert_contains "$WORK/out" "(squashfs, auto):"
}

case_fail_unknown_fstype() {
	local root
	root=$(new_root unknown-fstype "fs /image.img
fstype nosuchfs")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "(nosuchfs, auto): No such device (ENODEV)"
}

case_fail_bad_config() {
	local root
	root=$(new_root bad-config "# a comment
fs /image.img
timeout soon")
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: read config: $root/etc/initoverlayfs.conf:3: invalid value 'soon' for 'timeout'"
}

# A module plan (what initoverlayfs-install writes) in the root's module
# directory of the running kernel: the boot program loads from it, without
# libkmod. A name the kernel has built in loads as nothing to insert.
plan_root() {
	local root
	root=$(new_root "$1" "fs /image.img
modules $2")
	cp "$WORK/image.img" "$root/image.img"
	mkdir -p "$root/lib/modules/$(uname -r)"
	printf '%s' "$3" >"$root/lib/modules/$(uname -r)/initoverlayfs.modules"
	echo "$root"
}

case_module_plan_builtin() {
	local root
	root=$(plan_root plan-builtin iofs-test-builtin "# a plan
builtin iofs_test_builtin
")
	run_systemd_mode "$root" "ROOT='$root'; $COMMON_CHECKS"
	cat "$WORK/out"
	expect_success
	assert_contains "$WORK/out" "load modules: 0 modules inserted"
}

case_fail_module_not_in_plan() {
	local root
	root=$(plan_root plan-missing iofs_no_such "builtin iofs_test_builtin
")
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: load modules: iofs_no_such: No such file or directory (ENOENT)"
}

case_fail_bad_module_plan() {
	local root
	root=$(plan_root plan-bad iofs_test_builtin "builtin iofs_test_builtin
module ../escape.ko
")
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: load modules: /lib/modules/$(uname -r)/initoverlayfs.modules: line 2 is not a module plan line (EBADMSG)"
}

# Without a plan (dracut's and initramfs-tools' images), libkmod, opened at
# run time, reads depmod's indexes: the same outcome and error line.
case_fail_module_not_found_libkmod() {
	local root rel
	rel=$(uname -r)
	root=$(new_root kmod-missing "fs /image.img
modules iofs_no_such")
	cp "$WORK/image.img" "$root/image.img"
	mkdir -p "$root/lib/modules/$rel"
	touch "$root/lib/modules/$rel/modules.order" "$root/lib/modules/$rel/modules.builtin" \
		"$root/lib/modules/$rel/modules.builtin.modinfo"
	depmod -b "$root" "$rel"
	[ -s "$root/lib/modules/$rel/modules.dep.bin" ] || fail "depmod wrote no index"
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: load modules: iofs_no_such: No such file or directory (ENOENT)"
}

case_fail_wrong_uuid_times_out() {
	local root start elapsed
	root=$(new_root wrong-uuid "bootfs UUID=00000000-1111-2222-3333-444444444444
timeout 2")
	start=$(date +%s)
	run_systemd_mode "$root" "true"
	elapsed=$(($(date +%s) - start))
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: find boot device: UUID=00000000-1111-2222-3333-444444444444: not found after 2 s (ETIMEDOUT)"
	[ "$elapsed" -ge 2 ] || fail "gave up after ${elapsed}s, before the 2 s timeout"
}

# A cloned boot disk: a second device carrying the same UUID and LABEL
# (attached in the main shell for these cases only, see the end). The
# boot refuses to pick one unless bootfs_hint names one of them; the
# devices are named in version order.
attach_clone() {
	cp "$WORK/boot.ext4" "$WORK/clone.ext4" || die "copy the boot filesystem"
	CLONE_DEV=$(losetup --find --show "$WORK/clone.ext4") || die "losetup the clone"
	BOTH=$(printf '%s\n' "$BOOT_DEV" "$CLONE_DEV" | sort -V | paste -sd ' ' | sed 's/ / and /')
}

detach_clone() {
	losetup -d "$CLONE_DEV" || die "losetup -d $CLONE_DEV"
	CLONE_DEV=""
}

clone_case() {
	local name=$1 spec=$2 hint=$3 root
	root=$(new_root "$name" "bootfs $spec${hint:+
bootfs_hint $hint}
bootfstype ext4
fs /initoverlayfs-test.img
timeout 5")
	run_systemd_mode "$root" "ROOT='$root'; [ -z \"\$(findmnt -n '$root/boot')\" ]
		if [ -n \"\$(findmnt -n '$root/initoverlayfs/boot')\" ]; then
			findmnt -n -o SOURCE '$root/initoverlayfs/boot' >'$WORK/boot-source'
			$COMMON_CHECKS
		fi"
	cat "$WORK/out"
}

case_clone_uuid_refused() {
	clone_case clone-uuid "UUID=$BOOT_UUID" ""
	expect_failure "initoverlayfs: error: find boot device: UUID=$BOOT_UUID is on $BOTH: refusing to guess, set bootfs_hint to the right one (ENOTUNIQ)"
	assert_not_contains "$WORK/out" "mount boot filesystem"
}

case_clone_label_hint_elsewhere_refused() {
	clone_case clone-label-hint "LABEL=$BOOT_LABEL" /dev/null
	expect_failure "initoverlayfs: error: find boot device: LABEL=$BOOT_LABEL is on $BOTH: refusing to guess, bootfs_hint /dev/null is none of them (ENOTUNIQ)"
}

# The hint names the clone, which then is what /boot is: not the device
# the scan meets first, not the original.
case_clone_hint_wins() {
	clone_case clone-hint "UUID=$BOOT_UUID" "$CLONE_DEV"
	expect_success
	assert_contains "$WORK/out" "find boot device: UUID=$BOOT_UUID is $CLONE_DEV (ext4)"
	[ "$(cat "$WORK/boot-source")" = "$CLONE_DEV" ] ||
		fail "/boot is $(cat "$WORK/boot-source"), not $CLONE_DEV"
}

case_fail_missing_next_init() {
	local root
	root=$(new_root no-init "fs /image.img
init /sbin/no-such-init")
	cp "$WORK/image.img" "$root/image.img"
	run_systemd_mode "$root" "true"
	cat "$WORK/out"
	expect_failure "initoverlayfs: error: check next init: /sbin/no-such-init in /initoverlayfs: No such file or directory (ENOENT)"
}

# In systemd mode a failed start undoes what it did: nothing of it stays
# mounted, no loop device stays attached to the image, and the next start
# (systemctl restart) succeeds. undo_restart_case NAME BREAK FIX
# CONFIG-LINE...: BREAK (bash, in the namespace) makes the first start fail
# at a late step, FIX repairs it for the second start. Outputs in
# $WORK/out and $WORK/out2.
undo_restart_case() {
	local name=$1 break_it=$2 fix_it=$3 root majmin
	shift 3
	root=$(new_root "$name" "$(printf '%s\n' "bootfs UUID=$BOOT_UUID" \
		"fs /initoverlayfs-test.img" "timeout 5" "$@")")
	# The image's loop devices: those whose backing file is on the boot fs.
	majmin=$(lsblk -dno MAJ:MIN "$BOOT_DEV" | tr -d ' ')
	in_ns "
		image_loops() { losetup -n -l -O NAME,BACK-MAJ:MIN | awk '\$2 == \"$majmin\" { print \$1 }'; }
		$break_it
		rc=0
		\"\$PROGRAM\" --systemd --root '$root' --cmdline '' >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		grep -E ' $root[ /]' /proc/self/mountinfo | sed 's/^/LEFT MOUNTED: /' >>'$WORK/out' || true
		for i in \$(seq 50); do [ -z \"\$(image_loops)\" ] && break; sleep 0.1; done
		image_loops | sed 's/^/LEFT ATTACHED: /' >>'$WORK/out'
		[ ! -e '$root/run/initoverlayfs/next-init.env' ] || echo 'LEFT RECORDED: next-init.env' >>'$WORK/out'
		$fix_it
		rc=0
		\"\$PROGRAM\" --systemd --root '$root' --cmdline '' >'$WORK/out2' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out2'
		grep -qx 'hello from the image' '$root/initoverlayfs/data/hello.txt'
		findmnt -n -o FSTYPE '$root/initoverlayfs/boot' | grep -qx ext4
		grep -qx \"INITOVERLAYFS_INIT='/sbin/init'\" '$root/run/initoverlayfs/next-init.env'
		[ \"\$(grep -cE ' $root/(initrofs|overlay)[ /]' /proc/self/mountinfo)\" = 0 ]
		echo 'second start checked' >>'$WORK/out2'
	" || true
	cat "$WORK/out"
	echo "--- second start:"
	cat "$WORK/out2"
	assert_not_contains "$WORK/out" "LEFT MOUNTED:"
	assert_not_contains "$WORK/out" "LEFT ATTACHED:"
	assert_not_contains "$WORK/out" "LEFT RECORDED:"
	assert_not_contains "$WORK/out" "warning: undo"
	assert_contains "$WORK/out" "undo mount boot filesystem: $root/boot unmounted"
	assert_contains "$WORK/out2" "exit=0"
	assert_not_contains "$WORK/out2" "error:"
	assert_contains "$WORK/out2" "second start checked"
}

# The next init is missing: the overlay is up, its layers released.
case_systemd_failed_start_undone_loop() {
	undo_restart_case undo-loop "" \
		"sed -i 's|^init .*|init /sbin/init|' '$WORK/undo-loop/etc/initoverlayfs.conf'" \
		"image_mount loop" "init /sbin/not-yet"
	expect_failure "initoverlayfs: error: check next init: /sbin/not-yet in /initoverlayfs: No such file or directory (ENOENT)"
	assert_contains "$WORK/out" "(erofs, loop /dev/loop"
	assert_contains "$WORK/out" "undo mount overlay: $WORK/undo-loop/initoverlayfs unmounted"
}

# The same with the tmpfs root (its bind mounts of the overlay's dirs).
case_systemd_failed_start_undone_tmpfs_root() {
	undo_restart_case undo-tmpfs-root "" \
		"sed -i 's|^init .*|init /sbin/init|' '$WORK/undo-tmpfs-root/etc/initoverlayfs.conf'" \
		"image_mount loop" "newroot tmpfs" "init /sbin/not-yet"
	expect_failure "initoverlayfs: error: check next init: /sbin/not-yet in /initoverlayfs"
	assert_contains "$WORK/out" "undo mount overlay: $WORK/undo-tmpfs-root/initoverlayfs unmounted"
}

# The overlay fails (its mount point is a file) after its upper tmpfs is
# mounted: the tmpfs goes with the failure, the image (file-backed here
# on 6.12+, not released yet) and /boot with the undo.
case_systemd_failed_overlay_undone() {
	local root=$WORK/undo-overlay
	undo_restart_case undo-overlay "touch '$root/initoverlayfs'" "rm '$root/initoverlayfs'"
	expect_failure "initoverlayfs: error: mount overlay: $root/initoverlayfs: Not a directory (ENOTDIR)"
	assert_contains "$WORK/out" "undo mount image: $root/initrofs unmounted"
}

# The last step fails ("move mounts": the image has a file where /boot
# goes): the next init recorded for the switch goes too.
case_systemd_failed_move_undone() {
	local root=$WORK/undo-move
	undo_restart_case undo-move "" \
		"sed -i 's|^fs .*|fs /initoverlayfs-test.img|' '$root/etc/initoverlayfs.conf'" \
		"fs /initoverlayfs-boot-file.img" "image_mount loop"
	expect_failure "initoverlayfs: error: move mounts: $root/boot: Not a directory (ENOTDIR)"
	assert_contains "$WORK/out" "undo check next init: $root/run/initoverlayfs/next-init.env removed"
	assert_contains "$WORK/out" "undo mount overlay: $root/initoverlayfs unmounted"
}

# stage_initramfs ROOT CONFIG-LINE...: shell lines (for in_ns) that
# mount a tmpfs at ROOT, like the kernel's rootfs, holding the program as
# /init, its libraries and a config of those lines.
stage_initramfs() {
	local root=$1
	shift
	cat <<-EOF
	mount -t tmpfs initramfs '$root'
	mkdir -p '$root/etc' '$root/lib64'
	printf '%s\\n' $(printf "'%s' " "$@") >'$root/etc/initoverlayfs.conf'
	cp "\$PROGRAM" '$root/init'
	for lib in \$(ldd "\$PROGRAM" | grep -o '/[^ ]*'); do
		mkdir -p "$root\$(dirname \$lib)"
		cp -L \$lib "$root\$lib"
	done
	EOF
}

# Init mode for real: the program is PID 1 (new PID namespace) of a
# chroot on a tmpfs, like the kernel's rootfs. It must mount the API
# filesystems, switch root into the overlay, free the old root and exec
# the next init from the image, which reports what it sees.
case_init_mode_switch_root() {
	local root=$WORK/initramfs view=$WORK/initramfs-view
	mkdir -p "$root" "$view"
	in_ns "
		$(stage_initramfs "$root" "bootfs UUID=$BOOT_UUID" "fs /initoverlayfs-test.img" "timeout 5")
		mount --bind '$root' '$view'
		rc=0
		unshare -p -f chroot '$root' /init extra-arg >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		ls -A '$view' >'$WORK/left'
	"
	cat "$WORK/out"
	echo "--- left in the old root:"
	cat "$WORK/left"
	assert_contains "$WORK/out" "NEXT-INIT-REACHED pid=1"
	assert_contains "$WORK/out" "hello from the image"
	assert_contains "$WORK/out" "MOUNT / overlay"
	assert_contains "$WORK/out" "MOUNT /boot ext4"
	assert_contains "$WORK/out" "MOUNT /proc proc"
	assert_contains "$WORK/out" "MOUNT /sys sysfs"
	assert_contains "$WORK/out" "MOUNT /dev devtmpfs"
	assert_contains "$WORK/out" "MOUNT /run tmpfs"
	assert_contains "$WORK/out" "ARGS extra-arg"
	assert_contains "$WORK/out" "exit=0"
	# Nothing: the layers' mount points were released before the switch.
	[ ! -s "$WORK/left" ] || fail "old root not freed: $(cat "$WORK/left")"
}

# Nothing may pin /boot once the next root is let go of. As on a real
# system: /boot (ext4, rw) is mounted in the outer namespace too, the
# program is PID 1 on a tmpfs "rootfs" and switches into the overlay; the
# full initrd's own switch detaches that overlay (systemd does, with
# MNT_DETACH), while the rootfs below it stays for good. Then no layer
# mount may be left on the rootfs, the loop device (autoclear) must go,
# /boot must unmount for real and its file system be clean.
# pin_case MODE [CONFIG-LINE...]: image_mount MODE, and more config lines.
pin_case() {
	local mode=$1 root=$WORK/pin-$1 realboot=$WORK/realboot-$1 dev=${BOOT_DEV#/dev/}
	shift
	[ $# -eq 0 ] || root=$root-more realboot=$realboot-more
	mkdir -p "$root" "$realboot"
	in_ns "
		mount '$BOOT_DEV' '$realboot'
		$(stage_initramfs "$root" "bootfs UUID=$BOOT_UUID" "fs /initoverlayfs-test.img" \
			"image_mount $mode" "timeout 5" "$@")
		rc=0
		unshare -p -f chroot '$root' /init >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
		echo '--- mountinfo after the switch:' >>'$WORK/out'
		grep ' $root[ /]' /proc/self/mountinfo >>'$WORK/out' || true
		if grep -E ' $root/(initrofs|overlay)[ /]' /proc/self/mountinfo; then
			echo 'PIN: layer mount left on the rootfs' >>'$WORK/out'
		fi
		# PID 1 logs to /dev/kmsg: find the image's loop device by its file.
		loop=
		for f in /sys/block/loop*/loop/backing_file; do
			if [ \"\$(cat \$f 2>/dev/null)\" = '$root/boot/initoverlayfs-test.img' ]; then
				loop=/dev/\$(basename \$(dirname \$(dirname \$f)))
			fi
		done
		echo \"image loop \${loop:-none} autoclear \$([ -z \"\$loop\" ] || losetup -n -O AUTOCLEAR \$loop | tr -d \" \")\" >>'$WORK/out'
		# The full initrd's switch: the overlay (and all beneath it) goes.
		umount -l '$root'
		findmnt -n -o FSTYPE '$root' | grep -qx tmpfs
		for i in \$(seq 50); do
			[ -z \"\$loop\" ] || [ ! -e /sys/block/\${loop#/dev/}/loop/backing_file ] && break
			sleep 0.1
		done
		if [ -n \"\$loop\" ] && [ -e /sys/block/\${loop#/dev/}/loop/backing_file ]; then
			echo \"PIN: \$loop still attached to \$(cat /sys/block/\${loop#/dev/}/loop/backing_file)\" >>'$WORK/out'
		fi
		umount '$realboot' && echo 'realboot unmounted' >>'$WORK/out'
		for i in \$(seq 50); do [ -e /sys/fs/ext4/$dev ] || break; sleep 0.1; done
		[ ! -e /sys/fs/ext4/$dev ] || echo 'PIN: the boot file system is still alive' >>'$WORK/out'
		# still in the namespace: a superblock left alive has its journal
		# open (needs_recovery) here, not only after the namespace is gone
		dumpe2fs -h '$WORK/boot.ext4' 2>/dev/null | grep -i '^Filesystem features' >>'$WORK/out'
	"
	e2fsck -fn "$WORK/boot.ext4" >>"$WORK/out" 2>&1
	echo "e2fsck=$?" >>"$WORK/out"
	cat "$WORK/out"
	assert_contains "$WORK/out" "exit=0"
	assert_not_contains "$WORK/out" "PIN:"
	assert_contains "$WORK/out" "realboot unmounted"
	assert_contains "$WORK/out" "Filesystem features:"
	assert_not_contains "$WORK/out" "needs_recovery"
	assert_contains "$WORK/out" "e2fsck=0"
	image_unchanged
}

# A next init the image lacks: the check comes before any mount is moved,
# so the fallback (the emergency shell here) still has /proc, /sys, /dev.
case_init_mode_missing_next_init_keeps_apifs() {
	local root=$WORK/initramfs-noinit
	mkdir -p "$root"
	in_ns "
		$(stage_initramfs "$root" "bootfs UUID=$BOOT_UUID" "fs /initoverlayfs-test.img" \
			"init /sbin/no-such-init" "timeout 5")
		mkdir -p '$root/bin'
		cp /bin/busybox '$root/bin/busybox'
		ln -s busybox '$root/bin/sh'
		rc=0
		echo 'echo SHELL-REACHED; /bin/busybox awk \"{ print \\\"MOUNT \\\" \\\$5 }\" /proc/self/mountinfo; exit 0' |
			unshare -p -f chroot '$root' /init >'$WORK/out' 2>&1 || rc=\$?
		echo \"exit=\$rc\" >>'$WORK/out'
	"
	cat "$WORK/out"
	assert_contains "$WORK/out" "SHELL-REACHED"
	assert_contains "$WORK/out" "MOUNT /proc"
	assert_contains "$WORK/out" "MOUNT /sys"
	assert_contains "$WORK/out" "MOUNT /dev"
	assert_contains "$WORK/out" "MOUNT /boot"
	assert_not_contains "$WORK/out" "MOUNT /initoverlayfs/proc"
}

# The same with initramfs-tools' way to switch (see make_image): the real
# root is moved over the tmpfs root, so the boot program's helper must
# detach the tmpfs root's bind mounts of the overlay once PID 1 has left.
case_nothing_pins_boot_run_init() {
	pin_case loop "newroot tmpfs" "init /init"
	assert_contains "$WORK/out" "REAL-ROOT-REACHED pid=1"
	assert_contains "$WORK/out" "OLD-ROOT-RELEASED"
}

# What the image's /sbin/init saw.
expect_next_init_saw_boot() {
	assert_contains "$WORK/out" "NEXT-INIT-REACHED pid=1"
	assert_contains "$WORK/out" "MOUNT /boot ext4"
}

case_nothing_pins_boot_loop() {
	pin_case loop
	expect_next_init_saw_boot
	assert_contains "$WORK/out" "image loop /dev/loop"
	assert_contains "$WORK/out" "autoclear 1"
}
case_nothing_pins_boot_file() {
	pin_case file
	expect_next_init_saw_boot
	assert_contains "$WORK/out" "image loop none"
}

make_image
make_bootfs

run_case file-backed case_file_backed
run_case auto-prefers-file-backed case_auto_prefers_file_backed
run_case loop-forced case_loop_forced
run_case bootfs-uuid case_bootfs_uuid
run_case bootfs-uuid-upper-case case_bootfs_uuid_upper_case
run_case bootfs-label case_bootfs_label
run_case bootfs-path case_bootfs_path
run_case bootfs-type-probed case_bootfs_type_probed
run_case shared-parent-moves-boot case_shared_parent_moves_boot
run_case newroot-tmpfs case_newroot_tmpfs
run_case next-init-check-under-mount-churn case_next_init_check_under_mount_churn
run_case cmdline-overrides-config case_cmdline_overrides_config
run_case fail-missing-image case_fail_missing_image
run_case fail-corrupt-image case_fail_corrupt_image
run_case fail-wrong-fstype case_fail_wrong_fstype
run_case fail-unknown-fstype case_fail_unknown_fstype
run_case fail-bad-config case_fail_bad_config
run_case fail-wrong-uuid-times-out case_fail_wrong_uuid_times_out
run_case module-plan-builtin case_module_plan_builtin
run_case fail-module-not-in-plan case_fail_module_not_in_plan
run_case fail-bad-module-plan case_fail_bad_module_plan
run_case fail-module-not-found-libkmod case_fail_module_not_found_libkmod
attach_clone
run_case clone-uuid-refused case_clone_uuid_refused
run_case clone-label-hint-elsewhere-refused case_clone_label_hint_elsewhere_refused
run_case clone-hint-wins case_clone_hint_wins
detach_clone
run_case fail-missing-next-init case_fail_missing_next_init
run_case systemd-failed-start-undone-loop case_systemd_failed_start_undone_loop
run_case systemd-failed-start-undone-tmpfs-root case_systemd_failed_start_undone_tmpfs_root
run_case systemd-failed-overlay-undone case_systemd_failed_overlay_undone
run_case systemd-failed-move-undone case_systemd_failed_move_undone
run_case init-mode-switch-root case_init_mode_switch_root
run_case init-mode-missing-next-init-keeps-apifs case_init_mode_missing_next_init_keeps_apifs
run_case nothing-pins-boot-loop case_nothing_pins_boot_loop
run_case nothing-pins-boot-file case_nothing_pins_boot_file
run_case nothing-pins-boot-run-init case_nothing_pins_boot_run_init

runner_summary ns
