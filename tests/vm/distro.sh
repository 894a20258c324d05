#!/bin/bash
# shellcheck disable=SC2153 # CASE: set by vm_cases_run (lib.sh) per case
# Distro boot cases (make check-vm-distro): Debian's kernel in QEMU (TCG)
# boots through the mini-initramfs kinds that the distro integration makes,
# into the full initrd kinds Debian has, to the real root's marker.
#
#   systemd-dracut     initoverlayfs-install --mode systemd: a dracut-made
#                      systemd mini-initramfs (this tree's module and units)
#                      -> pre-initoverlayfs.service mounts the image holding
#                      Debian's dracut initrd -> systemd switch-root into
#                      /initoverlayfs -> the full initrd's systemd -> root
#   systemd-restart    the same mini with a second cpio appended: a config
#                      whose init is missing (the service fails at "check
#                      next init", after every mount, and undoes them) and
#                      a unit that OnFailure= restores the real config,
#                      restarts the service and starts the switch -> root
#   systemd-missing-image   the same mini, no image on the boot filesystem:
#                      pre-initoverlayfs.service fails, emergency.target;
#                      the VM waits there until the harness' timeout kills
#                      it, which is the expected outcome here (and only here)
#   itools-installer   initoverlayfs-install --source initramfs-tools (it
#                      runs mkinitramfs): init-mode mini -> tmpfs root
#                      (newroot tmpfs) holding initramfs-tools' initrd ->
#                      its /init mounts root=UUID= -> run-init -> root
#   itools-mkinitramfs-mini   the mini-initramfs made by mkinitramfs with
#                      initramfs-tools/hooks + scripts (BOOT=initoverlayfs),
#                      paired with the image of the case above -> root
#   itools-hook-inactive      without BOOT=initoverlayfs the hook adds nothing
#
# Usage: tests/vm/distro.sh INSTALLER BOOT_PROGRAM   (root)
# Environment: KVER, VM_WORK, VM_JOBS (2), INSTALL_TEST_CACHE (where the
# install tier keeps Debian's dracut initrd, build/test-install-cache; it is
# reused, or made once there for both tiers).
# Not `set -e` at top level (tests/lib/runner.sh); setup goes through die.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

die() {
	echo "vm-distro: setup failed: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 INSTALLER BOOT_PROGRAM"
[ "$(id -u)" -eq 0 ] || die "must run as root (the installer, dracut, mkinitramfs)"
INSTALLER=$(realpath "$1") || die "no installer $1"
BOOT_PROGRAM=$(realpath "$2") || die "no boot program $2"
[ -x "$INSTALLER" ] || die "$INSTALLER is not executable"
[ -x "$BOOT_PROGRAM" ] || die "$BOOT_PROGRAM is not executable"

vm_tier_setup distro || die "cannot set up the work directory"

ROOT_UUID=3c1f7d2e-9a5b-4b62-8e4d-7a2b1c0d2002
BOOT_UUID=6e7f2b3c-4d5e-4f60-9b0c-1d2e3f4a5b6c
BOOT_LABEL=iofsdistro
ERR="initoverlayfs: error:"
BOOT_TIMEOUT=240
# The failure case ends by this timeout (emergency mode waits for a login).
EMERGENCY_TIMEOUT=75
# systemd logs to kmsg (timestamps, on the serial console), unthrottled.
SYSTEMD_APPEND="systemd.show_status=0 systemd.log_target=kmsg printk.devkmsg=on"

vm_need_cmd qemu-system-x86_64 timeout mkfs.ext4 e2fsck blkid cpio zstd dracut lsinitrd \
	mkinitramfs lsinitramfs busybox awk || die "missing host tools"
KREL=$(vm_kernel_release) || die "no bootable kernel"
# shellcheck disable=SC2034 # read by vm_boot_case (lib.sh)
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"
MODDEP=/lib/modules/$KREL/modules.dep
# The installer's work directory stays outside build/ (the top Makefile
# includes every '*.d' under build/; initrd trees have such directories).
TMPDIR=$(mktemp -d /var/tmp/initoverlayfs-vm-distro.XXXXXX) || die "mktemp"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
if printf '%s\n' 6.12 "${KREL%%-*}" | sort -V -C; then
	AUTO_MOUNT="file-backed"
else
	AUTO_MOUNT="loop /dev/loop0"
fi

# ------------------------------------------------------------- inputs

# Debian's dracut initrd (dracut --no-hostonly, as --source dracut makes
# it), shared with the install tier's cache (INSTALL_TEST_CACHE, same name
# and freshness rule): made once (~90 s) when neither tier has it.
dracut_initrd() {
	local dir=${INSTALL_TEST_CACHE:-$TOP/build/test-install-cache} c
	c=$dir/dracut-$KREL.img
	if [ -s "$c" ] && [ "$c" -nt "$MODDEP" ]; then
		echo "$c"
		return 0
	fi
	mkdir -p "$dir" || return 1
	echo "vm-distro: making Debian's dracut initrd once into $c" >&2
	dracut --no-hostonly --force --kver "$KREL" "$c.tmp" >"$WORK/dracut.log" 2>&1 ||
		{ cat "$WORK/dracut.log" >&2; return 1; }
	mv "$c.tmp" "$c" && echo "$c"
}

# A dracut base directory: /usr/lib/dracut with this tree's module (as
# tests/integration does), so `dracut --modules initoverlayfs` finds it.
make_dracut_base() {
	local base=$IN/dracut-base e
	mkdir -p "$base/modules.d" || return 1
	for e in /usr/lib/dracut/*; do
		[ "$(basename "$e")" = modules.d ] || ln -s "$e" "$base/" || return 1
	done
	for e in /usr/lib/dracut/modules.d/*; do
		# an installed initoverlayfs module is not the one under test
		case ${e##*/} in [0-9][0-9]initoverlayfs) continue ;; esac
		ln -s "$e" "$base/modules.d/" || return 1
	done
	cp -r "$TOP/dracut/modules.d/81initoverlayfs" "$base/modules.d/"
}

# mini_conf NAME: the config inside $IN/NAME/mini.img ('fs' checked).
mini_conf() {
	local d=$IN/$1
	case $(od -An -tx1 -N4 "$d/mini.img" | tr -d ' \n') in
	28b52ffd) zstd -dc "$d/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf ;;
	*) lsinitrd -f etc/initoverlayfs.conf "$d/mini.img" ;;
	esac >"$d/conf.in" || return 1
	sed -n 's/^fs //p' "$d/conf.in" >"$d/fs"
	[ -s "$d/fs" ] || { vm_err mini_conf "$1: no 'fs' in the mini-initramfs config"; return 1; }
}

# make_pair NAME MODE SOURCE: the installer into $IN/NAME (boot dir
# $IN/NAME/boot, mini-initramfs $IN/NAME/mini.img); the image's host path
# goes to $IN/NAME/image, its 'fs' path to $IN/NAME/fs.
make_pair() {
	local name=$1 mode=$2 src=$3 d=$IN/$1 t0
	mkdir -p "$d/boot" || return 1
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$d/conf" || return 1
	t0=$(date +%s)
	dracutbasedir=$IN/dracut-base initoverlayfs_binary=$BOOT_PROGRAM \
		initoverlayfs_unitdir=$TOP/systemd \
		"$INSTALLER" --kver "$KREL" --mode "$mode" --source "$src" --boot-dir "$d/boot" \
		--config "$d/conf" --output-initramfs "$d/mini.img" --initramfs-compression zstd,3 \
		--boot-program "$BOOT_PROGRAM" -f >"$d/install.out" 2>"$d/install.err" ||
		{ cat "$d/install.out" "$d/install.err" >&2; vm_err make_pair "installer failed for $name"; return 1; }
	echo "$(($(date +%s) - t0))" >"$d/install.seconds"
	ls "$d"/boot/initoverlayfs-"$KREL"-*.img >"$d/image" || return 1
	[ "$(wc -l <"$d/image")" = 1 ] || { vm_err make_pair "$name: not exactly one image"; return 1; }
	mini_conf "$name"
}

# The mini-initramfs made by mkinitramfs with this tree's hook and boot
# script (from a conf dir: nothing is installed on the host), for the
# config of the installer's itools pair.
make_mkinitramfs_mini() {
	local d=$IN/itmini cd=$IN/itmini/confdir t0
	mkdir -p "$cd/hooks" "$cd/scripts" "$cd/conf.d" || return 1
	cp "$TOP/initramfs-tools/hooks/initoverlayfs" "$cd/hooks/" || return 1
	cp "$TOP/initramfs-tools/scripts/initoverlayfs" "$cd/scripts/" || return 1
	: >"$cd/modules"
	cp "$IN/itools/conf.in" "$d/initoverlayfs.conf" || return 1
	cat >"$cd/initramfs.conf" <<-EOF
	BOOT=initoverlayfs
	MODULES=list
	BUSYBOX=auto
	COMPRESS=zstd
	INITOVERLAYFS_CONF=$d/initoverlayfs.conf
	INITOVERLAYFS_BINARY=$BOOT_PROGRAM
	INITOVERLAYFS_INSTALL=$INSTALLER
	EOF
	t0=$(date +%s)
	mkinitramfs -d "$cd" -o "$d/mini.img" "$KREL" >"$d/mkinitramfs.log" 2>&1 ||
		{ cat "$d/mkinitramfs.log" >&2; vm_err make_mkinitramfs_mini "mkinitramfs failed"; return 1; }
	echo "$(($(date +%s) - t0))" >"$d/mkinitramfs.seconds"
	cp "$IN/itools/image" "$IN/itools/fs" "$d/"
}

build_inputs() {
	local dracut_img
	dracut_img=$(dracut_initrd) || die "Debian's dracut initrd"
	echo "vm-distro: dracut initrd $dracut_img"
	make_dracut_base || die "dracut base directory"
	vm_make_rootfs "$IN/root.img" "$ROOT_UUID" iofsroot || die "root image"
	# The two installer runs (dracut for the mini; mkinitramfs for the
	# full initrd) at once.
	make_pair sd systemd "$dracut_img" >"$IN/pair-sd.log" 2>&1 &
	make_pair itools init initramfs-tools >"$IN/pair-itools.log" 2>&1 &
	wait
	[ -s "$IN/sd/fs" ] || { cat "$IN/pair-sd.log"; die "systemd-mode pair"; }
	[ -s "$IN/itools/fs" ] || { cat "$IN/pair-itools.log"; die "initramfs-tools pair"; }
	make_mkinitramfs_mini || die "mkinitramfs mini-initramfs"
	vm_make_bootfs "$IN/bootfs.img" "$BOOT_UUID" "$BOOT_LABEL" \
		"$(cat "$IN/sd/image"):$(cat "$IN/sd/fs")" \
		"$(cat "$IN/itools/image"):$(cat "$IN/itools/fs")" || die "bootfs"
	mkdir -p "$IN/empty" || die "mkdir empty"
	echo "no image here" >"$IN/empty/README" || die "empty tree"
	vm_make_bootfs "$IN/bootfs-empty.img" "$BOOT_UUID" "$BOOT_LABEL" "$IN/empty/README:/README" ||
		die "empty bootfs"
	make_restart_mini || die "restart mini-initramfs"
}

# The systemd-mode mini with a cpio appended inside its zstd stream (the
# kernel unpacks both archives, later entries win): a config whose next init is missing, the real one
# beside it, and a unit that pre-initoverlayfs.service's failure starts
# (OnFailure= adds to emergency.target): as an admin would, it puts the
# real config back, restarts the service and starts the switch.
make_restart_mini() {
	local d=$IN/restart t=$IN/restart/tree
	mkdir -p "$t/etc/systemd/system/pre-initoverlayfs.service.d" || return 1
	grep -q '^init /init$' "$IN/sd/conf.in" ||
		{ vm_err make_restart_mini "the systemd-mode config has no 'init /init'"; return 1; }
	cp "$IN/sd/conf.in" "$t/etc/initoverlayfs.conf.good" || return 1
	sed 's|^init /init$|init /not-yet|' "$IN/sd/conf.in" >"$t/etc/initoverlayfs.conf" || return 1
	printf '[Unit]\nOnFailure=iofs-test-restart.service\n' \
		>"$t/etc/systemd/system/pre-initoverlayfs.service.d/50-test-restart.conf" || return 1
	cat >"$t/etc/systemd/system/iofs-test-restart.service" <<-'EOF'
	[Unit]
	Description=initoverlayfs test: restart after a failed start
	DefaultDependencies=no
	[Service]
	Type=oneshot
	StandardOutput=journal+console
	ExecStart=/bin/sh -c 'cp /etc/initoverlayfs.conf.good /etc/initoverlayfs.conf && echo "IOFS-TEST: restarting" >/dev/kmsg && systemctl restart pre-initoverlayfs.service && echo "IOFS-TEST: restarted" >/dev/kmsg && systemctl --no-block start pre-initoverlayfs-switch-root.service'
	EOF
	(cd "$t" && find . | cpio -o -H newc --quiet) >"$d/extra.cpio" || return 1
	[ "$(od -An -tx1 -N4 "$IN/sd/mini.img" | tr -d ' \n')" = 28b52ffd ] ||
		{ vm_err make_restart_mini "the systemd-mode mini is not one zstd stream"; return 1; }
	{ zstd -dc "$IN/sd/mini.img" && cat "$d/extra.cpio"; } | zstd -q -3 >"$d/mini.img"
}

# ------------------------------------------------------------- helpers



# expect_in_order LOG TEXT...: each TEXT on a timestamped line, each later
# (or at the same time) than the one before.
expect_in_order() {
	local log=$1 prev=0 t text
	shift
	for text in "$@"; do
		t=$(vm_kmsg_time "$log" "$text") || fail "no timestamped line '$text' in $log"
		awk -v a="$prev" -v b="$t" 'BEGIN { exit !(b >= a) }' ||
			fail "'$text' at $t s, before the previous step at $prev s"
		prev=$t
	done
}

# Lines of the full initrd's /init (initramfs-tools) when it switches to
# the real root: no panic of its own, run-init did not refuse.
expect_itools_full_initrd() {
	vm_assert_log_lacks "$1" "rootfs not a ramfs or tmpfs"
	vm_assert_log_lacks "$1" "No init found"
	vm_assert_log_lacks "$1" "Target filesystem doesn't have requested"
	vm_assert_log_lacks "$1" "Something went badly wrong in the initramfs"
	vm_assert_log_has "$1" "EXT4-fs (vda): mounted filesystem"
}

# ------------------------------------------------------------- cases

# systemd-mode mini-initramfs -> Debian's dracut initrd -> root.
case_systemd_dracut() {
	local log=$LOGS/$CASE.log img fin sw1 t_full
	img=$(cat "$IN/sd/fs")
	vm_boot_case "$CASE" -i "$IN/sd/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$BOOT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro $SYSTEMD_APPEND"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" "$ERR"
	vm_assert_log_lacks "$log" "emergency"
	# The mini's systemd ran our units, udev found the boot device, the
	# service mounted the image, systemd switched into /initoverlayfs.
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdb (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs (erofs, $AUTO_MOUNT)"
	vm_assert_log_has "$log" "initoverlayfs: mount overlay: /initoverlayfs (lower /initrofs, upper tmpfs /overlay"
	[ "$(vm_log_count "$log" "systemd[1]: Running in initrd.")" = 2 ] ||
		fail "expected 2 'Running in initrd.' lines (mini, then full initrd)"
	[ "$(vm_log_count "$log" "systemd[1]: Switching root.")" = 2 ] ||
		fail "expected 2 'Switching root.' lines (into /initoverlayfs, into the real root)"
	expect_in_order "$log" \
		"systemd[1]: Finished pre-initoverlayfs.service - Mount the initoverlayfs image." \
		"systemd[1]: Reached target pre-initoverlayfs.target - initoverlayfs mini-initramfs." \
		"systemd[1]: Starting pre-initoverlayfs-switch-root.service - Switch root into initoverlayfs" \
		"systemd[1]: Switching root."
	# After the first switch: the full initrd's systemd (it names the
	# dracut initrd's os-release) mounts the root and switches again.
	sw1=$(vm_kmsg_time "$log" "systemd[1]: Switching root.")
	t_full=$(vm_log_clean "$log" | grep -F "systemd[1]: Running in initrd." | sed -n '2s/^\[ *\([0-9.]*\)\].*/\1/p')
	awk -v a="$sw1" -v b="$t_full" 'BEGIN { exit !(b > a) }' ||
		fail "the second 'Running in initrd.' ($t_full s) is not after the switch ($sw1 s)"
	vm_assert_log_has "$log" "systemd[1]: Mounted sysroot.mount - /sysroot."
	vm_assert_log_has "$log" "EXT4-fs (vda): mounted filesystem"
	fin=$(vm_kmsg_time "$log" "Finished pre-initoverlayfs.service")
	vm_case_note "/init $(vm_kmsg_time "$log" "Run /init") s, pre-initoverlayfs.service finished $fin s," \
		"switch $sw1 s, full initrd systemd $t_full s, marker $(vm_marker_field "$log" uptime) s"
}

# The first start fails late (the next init is missing: /boot, the image
# and the overlay are mounted by then) and undoes what it did; the restart
# mounts all again and the boot goes on through the full initrd to root.
case_systemd_restart() {
	local log=$LOGS/$CASE.log img t_fail t_fin
	img=$(cat "$IN/sd/fs")
	vm_boot_case "$CASE" -i "$IN/restart/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" \
		-t "$BOOT_TIMEOUT" -a "root=UUID=$ROOT_UUID ro $SYSTEMD_APPEND"
	vm_assert_booted "$log"
	vm_assert_log_has "$log" "$ERR check next init: /not-yet in /initoverlayfs: No such file or directory (ENOENT)"
	[ "$(vm_log_count "$log" "$ERR")" = 1 ] || fail "not exactly one '$ERR' line"
	vm_assert_log_lacks "$log" "initoverlayfs: warning: undo"
	# the boot program's lines (journal+console) have no kernel timestamps
	vm_assert_log_has "$log" "initoverlayfs: undo mount overlay: /initoverlayfs unmounted"
	vm_assert_log_has "$log" "initoverlayfs: undo mount boot filesystem: /boot unmounted"
	expect_in_order "$log" \
		"systemd[1]: Failed to start pre-initoverlayfs.service - Mount the initoverlayfs image." \
		"IOFS-TEST: restarting" \
		"systemd[1]: Finished pre-initoverlayfs.service - Mount the initoverlayfs image." \
		"IOFS-TEST: restarted" \
		"systemd[1]: Switching root."
	# both starts mounted the image (the first one's loop device, if any,
	# autoclears with the undo: which one the second gets is the kernel's)
	[ "$(vm_log_count "$log" "initoverlayfs: mount image: /boot$img on /initrofs (erofs, ")" = 2 ] ||
		fail "expected the image mounted twice"
	vm_assert_log_has "$log" "initoverlayfs: check next init: /init is executable in /initoverlayfs, recorded in /run/initoverlayfs/next-init.env"
	[ "$(vm_log_count "$log" "systemd[1]: Switching root.")" = 2 ] ||
		fail "expected 2 'Switching root.' lines (into /initoverlayfs, into the real root)"
	vm_assert_log_has "$log" "EXT4-fs (vda): mounted filesystem"
	t_fail=$(vm_kmsg_time "$log" "Failed to start pre-initoverlayfs.service")
	t_fin=$(vm_kmsg_time "$log" "Finished pre-initoverlayfs.service")
	vm_case_note "failed at $t_fail s, restarted and finished at $t_fin s, marker $(vm_marker_field "$log" uptime) s"
}

# The image is missing: the service fails with the one error line, systemd
# goes to emergency.target and waits there (for a root login that the
# locked account never gets) until the harness' timeout.
case_systemd_missing_image() {
	local log=$LOGS/$CASE.log img line t_err t_emerg
	img=$(cat "$IN/sd/fs")
	if vm_boot_case "$CASE" -i "$IN/sd/mini.img" -d "$IN/root.img" -d "$IN/bootfs-empty.img" \
		-t "$EMERGENCY_TIMEOUT" -a "root=UUID=$ROOT_UUID ro $SYSTEMD_APPEND"; then
		fail "the VM ended by itself; expected it to wait in emergency mode"
	fi
	grep -qx 'timed_out=1' "$log.result" || fail "the VM did not hit the timeout: $(cat "$log.result")"
	vm_assert_no_panic "$log"
	line="$ERR mount image: /boot$img (erofs, auto): No such file or directory (ENOENT)"
	vm_assert_log_has "$log" "$line"
	[ "$(vm_log_count "$log" "$ERR")" = 1 ] || fail "not exactly one '$ERR' line"
	vm_assert_log_has "$log" "systemd[1]: pre-initoverlayfs.service: Main process exited, code=exited, status=1/FAILURE"
	vm_assert_log_has "$log" "systemd[1]: Failed to start pre-initoverlayfs.service - Mount the initoverlayfs image."
	vm_assert_log_has "$log" "systemd[1]: Reached target emergency.target"
	vm_assert_log_has "$log" "systemd[1]: Dependency failed for pre-initoverlayfs-switch-root.service - Switch root into initoverlayfs."
	vm_assert_log_lacks "$log" "Starting pre-initoverlayfs-switch-root.service"
	vm_assert_log_lacks "$log" "Switching root."
	vm_assert_log_lacks "$log" "$VM_MARKER "
	t_err=$(vm_kmsg_time "$log" "Failed to start pre-initoverlayfs.service")
	t_emerg=$(vm_kmsg_time "$log" "Reached target emergency.target")
	vm_case_note "service failed at $t_err s, emergency.target at $t_emerg s, VM killed by the ${EMERGENCY_TIMEOUT} s timeout (expected)"
}

# initoverlayfs-install --source initramfs-tools: init mode, tmpfs root.
case_itools_installer() {
	local log=$LOGS/$CASE.log img t_sw
	img=$(cat "$IN/itools/fs")
	assert_contains "$IN/itools/install.err" "running: mkinitramfs -o "
	assert_contains "$IN/itools/install.err" "initramfs-tools initrd: the next init is its /init"
	assert_contains "$IN/itools/install.err" "initramfs-tools initrd: its run-init needs a tmpfs root: newroot tmpfs"
	assert_contains "$IN/itools/conf.in" "newroot tmpfs"
	assert_contains "$IN/itools/conf.in" "init /init"
	vm_boot_case "$CASE" -i "$IN/itools/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$BOOT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" "$ERR"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs (erofs, $AUTO_MOUNT)"
	vm_assert_log_has "$log" "initoverlayfs: mount overlay: /overlay/root (lower /initrofs, upper tmpfs /overlay"
	vm_assert_log_has "$log" "; tmpfs root /initoverlayfs: "
	vm_assert_log_has "$log" "initoverlayfs: check next init: /init is executable in /initoverlayfs"
	vm_assert_log_has "$log" "initoverlayfs: exec /init"
	# initramfs-tools' /init ran once: from the image, after the switch
	[ "$(vm_log_count "$log" "Loading, please wait...")" = 1 ] ||
		fail "expected one 'Loading, please wait...' (initramfs-tools' /init from the image)"
	expect_itools_full_initrd "$log"
	t_sw=$(vm_kmsg_time "$log" "initoverlayfs: switch root:")
	vm_case_note "/init $(vm_kmsg_time "$log" "Run /init") s, switch $t_sw s, marker $(vm_marker_field "$log" uptime) s"
}

# The mkinitramfs-made mini (BOOT=initoverlayfs) with the same image.
case_itools_mkinitramfs_mini() {
	local log=$LOGS/$CASE.log img t_ready
	img=$(cat "$IN/itmini/fs")
	vm_boot_case "$CASE" -i "$IN/itmini/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$BOOT_TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" "$ERR"
	vm_assert_log_has "$log" "initoverlayfs: find boot device: UUID=$BOOT_UUID is /dev/vdb (ext4)"
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$img on /initrofs (erofs, $AUTO_MOUNT)"
	vm_assert_log_has "$log" "; tmpfs root /initoverlayfs: "
	vm_assert_log_has "$log" "initoverlayfs: /root is ready, next init /init"
	# two initramfs-tools /init runs: the mini's, then the image's
	[ "$(vm_log_count "$log" "Loading, please wait...")" = 2 ] ||
		fail "expected two 'Loading, please wait...' (the mini's /init, then the image's)"
	[ "$(vm_log_count "$log" "Begin: Mounting the initoverlayfs image ... ")" = 1 ] ||
		fail "expected one 'Mounting the initoverlayfs image'"
	expect_itools_full_initrd "$log"
	t_ready=$(vm_kmsg_time "$log" "initoverlayfs: /root is ready")
	vm_case_note "/init $(vm_kmsg_time "$log" "Run /init") s, image ready $t_ready s, marker $(vm_marker_field "$log" uptime) s"
}

# The hook does nothing unless BOOT=initoverlayfs.
case_itools_hook_inactive() {
	local cd=$WORK/inactive
	mkdir -p "$cd/hooks" "$cd/scripts" "$cd/conf.d"
	cp "$TOP/initramfs-tools/hooks/initoverlayfs" "$cd/hooks/"
	cp "$TOP/initramfs-tools/scripts/initoverlayfs" "$cd/scripts/"
	: >"$cd/modules"
	printf 'MODULES=list\nBUSYBOX=auto\nCOMPRESS=zstd\nINITOVERLAYFS_CONF=%s\nINITOVERLAYFS_BINARY=%s\nINITOVERLAYFS_INSTALL=%s\n' \
		"$IN/itmini/initoverlayfs.conf" "$BOOT_PROGRAM" "$INSTALLER" >"$cd/initramfs.conf"
	mkinitramfs -d "$cd" -o "$cd/out.img" "$KREL"
	lsinitramfs "$cd/out.img" >"$cd/list"
	assert_contains "$cd/list" "scripts/local"
	assert_not_contains "$cd/list" "usr/sbin/initoverlayfs"
	assert_not_contains "$cd/list" "etc/initoverlayfs.conf"
	assert_not_contains "$cd/list" "erofs.ko"
	# and with it, everything the boot script needs is there
	lsinitramfs "$IN/itmini/mini.img" >"$cd/list.on"
	local p
	for p in usr/sbin/initoverlayfs etc/initoverlayfs.conf scripts/initoverlayfs /erofs.ko \
		/overlay.ko /loop.ko /dm-verity.ko /ext4.ko /virtio_blk.ko libblkid.so libkmod.so; do
		assert_contains "$cd/list.on" "$p"
	done
	unmkinitramfs "$IN/itmini/mini.img" "$cd/x"
	cat "$cd"/x/conf/initramfs.conf "$cd"/x/main/conf/initramfs.conf 2>/dev/null | grep -qx 'BOOT=initoverlayfs' ||
		fail "the mini's conf/initramfs.conf does not select BOOT=initoverlayfs"
}

# ------------------------------------------------------------- run

CASES=(
	"vm-distro-systemd-mini-dracut-initrd case_systemd_dracut"
	"vm-distro-systemd-restart-after-failure case_systemd_restart"
	"vm-distro-systemd-missing-image-emergency case_systemd_missing_image"
	"vm-distro-initramfs-tools-installer case_itools_installer"
	"vm-distro-initramfs-tools-mkinitramfs-mini case_itools_mkinitramfs_mini"
	"distro-initramfs-tools-hook-inactive case_itools_hook_inactive"
)

echo "vm-distro: kernel $KREL, work $WORK, $VM_JOBS VMs at a time"
build_inputs
echo "vm-distro: inputs ready after $(($(date +%s) - T_START)) s" \
	"(installer: systemd mode $(cat "$IN/sd/install.seconds") s, initramfs-tools $(cat "$IN/itools/install.seconds") s;" \
	"mkinitramfs mini $(cat "$IN/itmini/mkinitramfs.seconds") s)"

vm_cases_run "$WORK/results" "${CASES[@]}"
vm_cases_report "$WORK/results" vm-distro "${CASES[@]}"
size() { stat -c %s "$1"; }
echo "vm-distro: sizes (bytes):"
printf '  %-58s %10s\n' \
	"systemd-mode mini-initramfs (installer, dracut, zstd -3)" "$(size "$IN/sd/mini.img")" \
	"EROFS image of Debian's dracut initrd" "$(size "$(cat "$IN/sd/image")")" \
	"init-mode mini-initramfs (installer, zstd -3)" "$(size "$IN/itools/mini.img")" \
	"mkinitramfs-made mini-initramfs (BOOT=initoverlayfs, zstd)" "$(size "$IN/itmini/mini.img")" \
	"EROFS image of initramfs-tools' initrd" "$(size "$(cat "$IN/itools/image")")"
for p in sd itools; do
	sed "s/^/  $p: /" "$IN/$p/install.out"
done
echo "vm-distro: total $(($(date +%s) - T_START)) s"
runner_summary vm-distro
