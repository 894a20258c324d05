# shellcheck shell=bash
# QEMU test harness library for full-boot tests (sourced by bash scripts).
#
# Everything here builds images WITHOUT mounting or loop devices and boots
# them with qemu-system-x86_64 under TCG. Every function checks each command
# it runs; on failure it prints "vm: <function>: <what failed>" to stderr and
# returns non-zero, so callers may use `set -eu` or `fn || exit 1`.
#
# Environment:
#   VM_WORK   work directory (default: tests/vm/work next to this file)
#   KVER      kernel release to boot (default: newest Debian -amd64 kernel
#             that has /lib/modules/<release>)
#   VM_QEMU   qemu binary (default: qemu-system-x86_64)
#
# See tests/vm/README.md for the function list and measured boot facts.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
VM_MARKER=IOFS-ROOT-REACHED

# Applets linked in every busybox tree the harness builds.
VM_BUSYBOX_APPLETS=(sh ash mount umount cat echo ls mkdir sleep poweroff
	reboot switch_root insmod modprobe lsmod findfs grep sed awk sync dmesg
	uname test "[" printf ln mknod head tail tr cut)

# ---------------------------------------------------------------- basics

# vm_err FUNC MESSAGE...: print one error line to stderr; always returns 1.
vm_err() {
	local fn=$1
	shift
	echo "vm: $fn: $*" >&2
	return 1
}

# vm_run WHAT CMD [ARGS...]: run CMD; on failure print WHAT, the command,
# its exit status and its output (stdout+stderr, shown only on failure).
vm_run() {
	local what=$1 out rc
	shift
	out=$("$@" 2>&1) && return 0
	rc=$?
	{
		echo "vm: $what: command failed (exit $rc): $*"
		[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/vm:   | /'
	} >&2
	return "$rc"
}

# vm_need_cmd CMD...: fail naming the first missing host command.
vm_need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			vm_err vm_need_cmd "host command '$c' not found (see scripts/deps.txt)" ||
			return 1
	done
}

# vm_work_dir: print (and create) the work directory ($VM_WORK or
# tests/vm/work).
vm_work_dir() {
	local dir=${VM_WORK:-$VM_LIB_DIR/work}
	mkdir -p "$dir" || vm_err vm_work_dir "cannot create work directory $dir" || return 1
	(cd "$dir" && pwd) || vm_err vm_work_dir "cannot enter $dir" || return 1
}

# vm_mktemp_dir NAME: print a fresh directory under the work directory.
vm_mktemp_dir() {
	local work
	work=$(vm_work_dir) || return 1
	mktemp -d "$work/$1.XXXXXX" || vm_err vm_mktemp_dir "mktemp failed in $work" || return 1
}

# ---------------------------------------------------------------- kernel

# vm_kernel_release: print the kernel release to boot: $KVER if set (it must
# have /boot/vmlinuz-$KVER and /lib/modules/$KVER), else the newest
# /boot/vmlinuz-*-amd64 that has /lib/modules/<release>.
vm_kernel_release() {
	local rel f best=""
	if [ -n "${KVER:-}" ]; then
		[ -r "/boot/vmlinuz-$KVER" ] ||
			vm_err vm_kernel_release "KVER=$KVER but /boot/vmlinuz-$KVER is missing or unreadable" || return 1
		[ -d "/lib/modules/$KVER" ] ||
			vm_err vm_kernel_release "KVER=$KVER but /lib/modules/$KVER is missing" || return 1
		echo "$KVER"
		return 0
	fi
	for f in /boot/vmlinuz-*-amd64; do
		[ -e "$f" ] || continue
		rel=${f#/boot/vmlinuz-}
		[ -d "/lib/modules/$rel" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] ||
		vm_err vm_kernel_release "no /boot/vmlinuz-*-amd64 with matching /lib/modules/<release> (install linux-image-amd64)" ||
		return 1
	echo "$best"
}

# vm_kernel_image [RELEASE]: print the path of the kernel image to boot.
vm_kernel_image() {
	local rel=${1:-}
	[ -n "$rel" ] || rel=$(vm_kernel_release) || return 1
	[ -r "/boot/vmlinuz-$rel" ] ||
		vm_err vm_kernel_image "/boot/vmlinuz-$rel is missing or unreadable (run as root?)" || return 1
	echo "/boot/vmlinuz-$rel"
}

# vm_module_paths RELEASE MODULE...: print the .ko files (absolute host
# paths) needed to load MODULEs, dependencies first, each once. Built-in
# modules print nothing. Uses `modprobe -S RELEASE --show-depends`.
vm_module_paths() {
	local rel=$1 mod out line path seen=" "
	shift
	for mod in "$@"; do
		out=$(modprobe -S "$rel" --show-depends "$mod" 2>&1) ||
			vm_err vm_module_paths "modprobe -S $rel --show-depends $mod failed: $out" || return 1
		while IFS= read -r line; do
			case $line in
			"insmod "*)
				path=${line#insmod }
				path=${path%% *}
				case $seen in *" $path "*) continue ;; esac
				seen="$seen$path "
				echo "$path"
				;;
			"builtin "*) ;;
			*) vm_err vm_module_paths "unexpected modprobe output for $mod: $line" || return 1 ;;
			esac
		done <<<"$out"
	done
}

# vm_copy_modules RELEASE DESTROOT MODULE...: copy the .ko files for
# MODULEs (with dependencies) into DESTROOT at their /lib/modules/... path
# and write DESTROOT/etc/vm-modules: one path per line, load order.
vm_copy_modules() {
	local rel=$1 dest=$2 paths p
	shift 2
	paths=$(vm_module_paths "$rel" "$@") || return 1
	mkdir -p "$dest/etc" || vm_err vm_copy_modules "cannot create $dest/etc" || return 1
	: >"$dest/etc/vm-modules" || vm_err vm_copy_modules "cannot write $dest/etc/vm-modules" || return 1
	for p in $paths; do
		mkdir -p "$dest$(dirname "$p")" || vm_err vm_copy_modules "cannot create $dest$(dirname "$p")" || return 1
		cp "$p" "$dest$p" || vm_err vm_copy_modules "cannot copy module $p" || return 1
		echo "$p" >>"$dest/etc/vm-modules" || return 1
	done
}

# ---------------------------------------------------------------- trees

# vm_busybox_tree DIR [APPLET...]: install the static busybox as
# DIR/bin/busybox with DIR/bin/<applet> symlinks (default: VM_BUSYBOX_APPLETS)
# and the usual empty mount points.
vm_busybox_tree() {
	local dir=$1 bb a hdrs
	shift
	bb=$(command -v busybox) || vm_err vm_busybox_tree "busybox not found (install busybox-static)" || return 1
	# A dynamic busybox would need a libc in the guest.
	vm_need_cmd readelf || return 1
	hdrs=$(LC_ALL=C readelf -lW "$bb" 2>&1) || vm_err vm_busybox_tree "readelf -l $bb failed: $hdrs" || return 1
	if grep -q 'INTERP' <<<"$hdrs"; then
		vm_err vm_busybox_tree "$bb is dynamically linked (install busybox-static)" || return 1
	fi
	mkdir -p "$dir/bin" "$dir/sbin" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" \
		"$dir/run" "$dir/tmp" "$dir/mnt" ||
		vm_err vm_busybox_tree "cannot create directories in $dir" || return 1
	cp "$bb" "$dir/bin/busybox" || vm_err vm_busybox_tree "cannot copy $bb to $dir/bin" || return 1
	[ $# -gt 0 ] || set -- "${VM_BUSYBOX_APPLETS[@]}"
	for a in "$@"; do
		ln -sf busybox "$dir/bin/$a" || vm_err vm_busybox_tree "cannot link applet $a" || return 1
	done
}

# vm_write_os_release DIR: write DIR/etc/os-release (a systemd initrd only
# switches into a root that has one).
vm_write_os_release() {
	mkdir -p "$1/etc" || vm_err vm_write_os_release "cannot create $1/etc" || return 1
	cat >"$1/etc/os-release" <<-'EOF' || vm_err vm_write_os_release "cannot write $1/etc/os-release" || return 1
	NAME="iofs-test-root"
	ID=iofstest
	PRETTY_NAME="initoverlayfs VM test root"
	VERSION_ID=1
	EOF
}

# vm_write_marker_init DIR: write DIR/sbin/init, which mounts /proc, prints
# one marker line to the console and powers off:
#   IOFS-ROOT-REACHED uptime=<s> memavail_kb=<n> memtotal_kb=<n>
vm_write_marker_init() {
	local init=$1/sbin/init
	mkdir -p "$1/sbin" || vm_err vm_write_marker_init "cannot create $1/sbin" || return 1
	cat >"$init" <<-EOF || vm_err vm_write_marker_init "cannot write $init" || return 1
	#!/bin/busybox sh
	# Test root init: report that the root was reached, then power off.
	export PATH=/bin:/sbin
	mountpoint_proc() { grep -q ' /proc proc ' /proc/mounts 2>/dev/null; }
	mountpoint_proc || mount -t proc proc /proc || echo "IOFS-ROOT-ERROR mount /proc failed"
	read up idle </proc/uptime
	avail=unknown; total=unknown
	while read key value unit; do
	    case \$key in
	    MemAvailable:) avail=\$value ;;
	    MemTotal:) total=\$value ;;
	    esac
	done </proc/meminfo
	# Own line even if a kernel message was half printed.
	echo
	echo "$VM_MARKER uptime=\$up memavail_kb=\$avail memtotal_kb=\$total"
	sync
	poweroff -f
	echo "IOFS-ROOT-ERROR poweroff -f returned"
	sleep 5
	EOF
	chmod 0755 "$init" || vm_err vm_write_marker_init "cannot chmod $init" || return 1
}

# vm_write_busybox_initrd DIR: a busybox full initrd in DIR. Its /init
# (also /sbin/init and /sbin/init-alt) finds the real root named by root=
# on the kernel command line, mounts it, moves /dev, /proc, /sys, /run into
# it and switches to it (mount --move + chroot: busybox switch_root refuses
# an overlay root). It prints "IOFS-INITRD: started as ..." and
# "IOFS-INITRD: root ... switching"; failures print IOFS-INITRD-ERROR.
vm_write_busybox_initrd() {
	local t=$1
	vm_busybox_tree "$t" || return 1
	cat >"$t/init" <<-'EOF' || vm_err vm_write_busybox_initrd "write $t/init" || return 1
	#!/bin/busybox sh
	export PATH=/bin:/sbin
	fail() { echo "IOFS-INITRD-ERROR: $*"; poweroff -f; sleep 30; }
	echo "IOFS-INITRD: started as $0 on $(grep -o ' / overlay ' /proc/mounts)"
	root=
	for w in $(cat /proc/cmdline); do
	    case $w in root=*) root=${w#root=} ;; esac
	done
	[ -n "$root" ] || fail "no root= on the kernel command line"
	n=0
	until dev=$(findfs "$root" 2>/dev/null); do
	    n=$((n + 1)); [ $n -lt 100 ] || fail "root $root not found"; sleep 0.1
	done
	mkdir -p /sysroot
	mount -t ext4 -o ro "$dev" /sysroot || fail "mount $dev"
	echo "IOFS-INITRD: root $root is $dev, switching"
	for m in /dev /proc /sys /run; do mount --move $m /sysroot$m || fail "move $m"; done
	cd /sysroot || fail "cd /sysroot"
	mount --move . / || fail "move /sysroot to /"
	exec chroot . /sbin/init
	EOF
	chmod 0755 "$t/init" || vm_err vm_write_busybox_initrd "chmod $t/init" || return 1
	ln -s ../init "$t/sbin/init" || vm_err vm_write_busybox_initrd "link /sbin/init" || return 1
	ln -s ../init "$t/sbin/init-alt" || vm_err vm_write_busybox_initrd "link /sbin/init-alt" || return 1
}

# ---------------------------------------------------------------- images

# vm_make_ext4 OUT SRCDIR [SIZE_MB] [UUID] [LABEL]: build an ext4 image file
# OUT from the contents of SRCDIR with mkfs.ext4 -d (no mounting). SIZE_MB
# defaults to the tree size plus headroom (min 8 MiB). Empty UUID/LABEL
# means random UUID / no label.
vm_make_ext4() {
	local out=$1 src=$2 size=${3:-} uuid=${4:-} label=${5:-} used
	local -a opts=(-q -F -t ext4 -d "$src" -E root_owner=0:0)
	[ -d "$src" ] || vm_err vm_make_ext4 "source directory $src does not exist" || return 1
	if [ -z "$size" ]; then
		used=$(du -sm "$src" | cut -f1) || vm_err vm_make_ext4 "du on $src failed" || return 1
		size=$((used * 3 / 2 + 8))
	fi
	[ -n "$uuid" ] && opts+=(-U "$uuid")
	[ -n "$label" ] && opts+=(-L "$label")
	rm -f "$out" || vm_err vm_make_ext4 "cannot remove old $out" || return 1
	vm_run "vm_make_ext4: create ${size} MiB file $out" truncate -s "${size}M" "$out" || return 1
	vm_run "vm_make_ext4: mkfs.ext4 of $src into $out" mkfs.ext4 "${opts[@]}" "$out" || return 1
	vm_run "vm_make_ext4: fsck of new image $out" e2fsck -fn "$out" || return 1
}

# vm_make_rootfs OUT [UUID] [LABEL]: build the test root filesystem image:
# busybox, /etc/os-release and the marker /sbin/init.
vm_make_rootfs() {
	local out=$1 uuid=${2:-} label=${3:-} tree
	tree=$(vm_mktemp_dir rootfs-tree) || return 1
	vm_busybox_tree "$tree" || return 1
	vm_write_os_release "$tree" || return 1
	vm_write_marker_init "$tree" || return 1
	vm_make_ext4 "$out" "$tree" 16 "$uuid" "$label" || return 1
	rm -rf "$tree"
}

# vm_make_bootfs OUT UUID LABEL HOSTFILE:FSPATH...: plain ext4 image (chosen
# UUID and LABEL) holding each HOSTFILE at FSPATH (absolute path inside the
# filesystem, parent directories created), e.g.
#   vm_make_bootfs boot.img "$uuid" iofsboot build/x.img:/initoverlayfs-6.1.img
vm_make_bootfs() {
	local out=$1 uuid=$2 label=$3 tree pair src dst
	shift 3
	tree=$(vm_mktemp_dir bootfs-tree) || return 1
	for pair in "$@"; do
		src=${pair%%:*}
		dst=${pair#*:}
		case $pair in *:/*) ;; *) vm_err vm_make_bootfs "argument '$pair' is not HOSTFILE:/PATH" || return 1 ;; esac
		[ -e "$src" ] || vm_err vm_make_bootfs "source $src does not exist" || return 1
		mkdir -p "$tree$(dirname "$dst")" || vm_err vm_make_bootfs "cannot create $(dirname "$dst") in tree" || return 1
		cp -a "$src" "$tree$dst" || vm_err vm_make_bootfs "cannot copy $src to $dst" || return 1
	done
	vm_make_ext4 "$out" "$tree" "" "$uuid" "$label" || return 1
	rm -rf "$tree"
}

# vm_make_vfat OUT VOLID LABEL HOSTFILE:FSPATH...: FAT image (mkfs.vfat -C;
# VOLID 8 hex digits, which blkid shows as the UUID XXXX-XXXX) holding each
# HOSTFILE at FSPATH, directories made with mmd and files copied with
# mcopy (no mounting), then checked with fsck.vfat -n.
vm_make_vfat() {
	local out=$1 volid=$2 label=$3 pair src dst dir part bytes=0 seen=" "
	shift 3
	vm_need_cmd mkfs.vfat fsck.vfat mmd mcopy || return 1
	for pair in "$@"; do
		case $pair in *:/*) ;; *) vm_err vm_make_vfat "argument '$pair' is not HOSTFILE:/PATH" || return 1 ;; esac
		src=${pair%%:*}
		bytes=$((bytes + $(stat -c %s "$src"))) || vm_err vm_make_vfat "stat $src failed" || return 1
	done
	rm -f "$out" || vm_err vm_make_vfat "cannot remove old $out" || return 1
	vm_run "vm_make_vfat: mkfs.vfat $out" mkfs.vfat -C -i "$volid" -n "$label" "$out" \
		$((bytes * 5 / 4 / 1024 + 16384)) || return 1
	for pair in "$@"; do
		src=${pair%%:*}
		dst=${pair#*:}
		dir=""
		for part in $(dirname "$dst" | tr '/' ' '); do
			dir=$dir/$part
			case $seen in *" $dir "*) continue ;; esac
			seen="$seen$dir "
			MTOOLS_SKIP_CHECK=1 vm_run "vm_make_vfat: mmd $dir in $out" mmd -i "$out" "::$dir" || return 1
		done
		MTOOLS_SKIP_CHECK=1 vm_run "vm_make_vfat: mcopy $src to $dst in $out" \
			mcopy -i "$out" "$src" "::$dst" || return 1
	done
	vm_run "vm_make_vfat: fsck of new image $out" fsck.vfat -n "$out" || return 1
}

# vm_gpt_part_start_mib: first partition offset on GPT disks (MiB).
VM_GPT_START_MIB=1
# GPT partition types: a Linux file system, an EFI system partition.
VM_GPT_TYPE_LINUX=0FC63DAF-8483-4772-8E79-3D69D8477DE4
VM_GPT_TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

# vm_make_gpt_disk OUT FSIMG PARTUUID PARTLABEL: GPT disk image with one
# Linux partition (chosen PARTUUID/PARTLABEL) at 1 MiB whose content is
# FSIMG, written with dd conv=notrunc (no loop device, no mount).
vm_make_gpt_disk() {
	vm_make_gpt_parts "$1" "$2:$3:$4" || return 1
	vm_check_gpt_disk "$1" "$3" "$4" || return 1
}

# vm_make_gpt_parts OUT FSIMG:PARTUUID:PARTLABEL[:TYPE]...: GPT disk OUT with
# one partition per argument (TYPE: a GPT type GUID, or esp; default a
# Linux file system), in order, the first at
# VM_GPT_START_MIB, each as large as its image (whole MiB), filled with it.
# vm_part_offset OUT N prints partition N's byte offset.
vm_make_gpt_parts() {
	local out=$1 p fsimg rest partuuid partlabel ptype fsbytes fsmib start table="label: gpt"
	local -a imgs=() starts=()
	shift
	start=$VM_GPT_START_MIB
	for p in "$@"; do
		fsimg=${p%%:*}
		rest=${p#*:}
		partuuid=${rest%%:*}
		partlabel=${rest#*:}
		ptype=$VM_GPT_TYPE_LINUX
		case $partlabel in *:*) ptype=${partlabel#*:} partlabel=${partlabel%%:*} ;; esac
		[ "$ptype" != esp ] || ptype=$VM_GPT_TYPE_ESP
		[ -r "$fsimg" ] || vm_err vm_make_gpt_parts "filesystem image $fsimg is missing" || return 1
		fsbytes=$(stat -c %s "$fsimg") || vm_err vm_make_gpt_parts "stat $fsimg failed" || return 1
		fsmib=$(((fsbytes + 1048575) / 1048576))
		table="$table
start=$((start * 2048)), size=$((fsmib * 2048)), type=$ptype, uuid=$partuuid, name=\"$partlabel\""
		imgs+=("$fsimg")
		starts+=("$start")
		start=$((start + fsmib))
	done
	rm -f "$out" || vm_err vm_make_gpt_parts "cannot remove old $out" || return 1
	# 1 MiB after the last partition for the backup GPT.
	vm_run "vm_make_gpt_parts: create $((start + 1)) MiB file $out" truncate -s "$((start + 1))M" "$out" || return 1
	vm_run "vm_make_gpt_parts: sfdisk GPT on $out" sfdisk --quiet --no-reread --no-tell-kernel "$out" <<<"$table" || return 1
	for p in "${!imgs[@]}"; do
		vm_run "vm_make_gpt_parts: dd ${imgs[$p]} into partition $((p + 1)) of $out" \
			dd if="${imgs[$p]}" of="$out" bs=1M seek="${starts[$p]}" conv=notrunc,sparse status=none || return 1
	done
}

# vm_part_offset DISK N: byte offset of partition N (1-based) of DISK.
vm_part_offset() {
	local start
	start=$(sfdisk --dump "$1" 2>/dev/null | sed -n 's/^.* : start= *\([0-9]*\),.*/\1/p' | sed -n "$2p")
	[ -n "$start" ] || vm_err vm_part_offset "$1 has no partition $2" || return 1
	echo $((start * 512))
}

# vm_check_gpt_disk DISK PARTUUID PARTLABEL: verify partition 1 of DISK has
# that PARTUUID and PARTLABEL and holds a filesystem blkid recognises.
vm_check_gpt_disk() {
	local disk=$1 partuuid=$2 partlabel=$3 dump off fstype
	dump=$(sfdisk --dump "$disk" 2>&1) || vm_err vm_check_gpt_disk "sfdisk --dump $disk failed: $dump" || return 1
	grep -qi "uuid=$partuuid" <<<"$dump" ||
		vm_err vm_check_gpt_disk "$disk: partition 1 has no PARTUUID $partuuid: $dump" || return 1
	grep -qF "name=\"$partlabel\"" <<<"$dump" ||
		vm_err vm_check_gpt_disk "$disk: partition 1 has no PARTLABEL $partlabel: $dump" || return 1
	off=$((VM_GPT_START_MIB * 1048576))
	fstype=$(blkid -p -O "$off" -s TYPE -o value "$disk" 2>&1) ||
		vm_err vm_check_gpt_disk "$disk: no filesystem at offset $off: $fstype" || return 1
	[ -n "$fstype" ] || vm_err vm_check_gpt_disk "$disk: blkid found no TYPE at offset $off" || return 1
}

# vm_fs_tag IMAGE TAG [OFFSET]: print blkid TAG (UUID, LABEL, TYPE) of the
# filesystem in IMAGE at byte OFFSET (default 0).
vm_fs_tag() {
	local v
	v=$(blkid -p -O "${3:-0}" -s "$2" -o value "$1" 2>&1) ||
		vm_err vm_fs_tag "blkid -p $1 (offset ${3:-0}) failed: $v" || return 1
	echo "$v"
}

# vm_make_cpio_gz SRCDIR OUT: pack SRCDIR as a newc cpio archive (owner
# root), gzip-compressed, usable as -initrd. Byte-reproducible: it sets every
# mtime in SRCDIR to 2026-01-01 (so the same tree gives the same archive and,
# under vm_boot -R, the same guest unpack time).
vm_make_cpio_gz() {
	local src=$1 out=$2 rc
	[ -d "$src" ] || vm_err vm_make_cpio_gz "source directory $src does not exist" || return 1
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	rm -f "$out" || vm_err vm_make_cpio_gz "cannot remove old $out" || return 1
	vm_run "vm_make_cpio_gz: fix mtimes in $src" \
		find "$src" -exec touch -h -d @1767225600 {} + || return 1
	# pipefail scope: a subshell so the caller's options are untouched.
	(
		set -o pipefail
		cd "$src" &&
			find . -mindepth 1 -print | LC_ALL=C sort |
			cpio --quiet -o -H newc -R 0:0 --reproducible | gzip -9 -n >"$out"
	)
	rc=$?
	[ "$rc" -eq 0 ] || vm_err vm_make_cpio_gz "find|cpio|gzip of $src into $out failed (exit $rc)" || return 1
	vm_run "vm_make_cpio_gz: check $out" gzip -t "$out" || return 1
}

# ---------------------------------------------------------------- boot

# vm_boot [options]: boot a VM under TCG with a hard timeout.
#   -k KERNEL     kernel image (default: vm_kernel_image)
#   -i INITRD     initramfs (required, but with -e)
#   -e CODE:VARS  boot through UEFI firmware instead of -k/-i/-a: CODE (such
#                 as OVMF_CODE_4M.fd) read-only, a copy of VARS (its variable
#                 store) writable in LOG.vars; the firmware loads what the
#                 disks hold (\EFI\BOOT\BOOTX64.EFI of an EFI system
#                 partition), with its own kernel command line
#   -a APPEND     extra kernel command line, appended after the base
#                 "console=ttyS0 panic=-1" (so a panic ends the VM at once)
#   -d DISK       raw disk image, repeatable: vda, vdb, ... in order; opened
#                 with snapshot=on, so the file is never modified
#   -m MEM        guest RAM in MiB (default 512)
#   -t SECONDS    hard timeout (default 60); the VM is killed when it fires
#   -l LOG        serial console log (required); qemu's own stdout/stderr go
#                 to LOG.qemu, a summary to LOG.result
#   -q ARG        extra qemu argument, repeatable (e.g. -q -icount
#                 -q shift=5,sleep=off)
#   -R            repeatable guest clock, for benchmarks: adds
#                 -icount shift=$VM_ICOUNT_SHIFT(5),sleep=off, a fixed RTC
#                 (-rtc base=2026-01-01T00:00:00,clock=vm) and idle=poll on
#                 the kernel command line (an idle guest would let the clock
#                 jump to the next timer while disk I/O is in flight: +1..10 s
#                 at random). Guest time then counts instructions; see README.
# Sets VM_RC (qemu/timeout exit status), VM_TIMED_OUT (0/1), VM_WALL_S (host
# wall seconds) and VM_LOG, and writes them to LOG.result as key=value.
# Returns 0 only when qemu exited by itself with status 0 before the timeout
# (a `poweroff -f` or a panic with panic=-1 both end the VM); otherwise it
# prints why and returns 1. Use vm_assert_* on the log for the boot outcome.
vm_boot() {
	local kernel="" initrd="" append="" mem=512 tmo=60 log="" opt d i=0 icount=off base firmware=""
	local -a disks=() extra=() cmd boot
	local t0 t1 OPTIND=1
	while getopts k:i:a:d:m:t:l:q:Re: opt; do
		case $opt in
		e) firmware=$OPTARG ;;
		k) kernel=$OPTARG ;;
		i) initrd=$OPTARG ;;
		a) append=$OPTARG ;;
		d) disks+=("$OPTARG") ;;
		m) mem=$OPTARG ;;
		t) tmo=$OPTARG ;;
		l) log=$OPTARG ;;
		q) extra+=("$OPTARG") ;;
		R) icount="shift=${VM_ICOUNT_SHIFT:-5},sleep=off" ;;
		*) vm_err vm_boot "unknown option (see tests/vm/lib.sh)" || return 1 ;;
		esac
	done
	[ -n "$log" ] || vm_err vm_boot "-l LOG is required" || return 1
	mkdir -p "$(dirname "$log")" || vm_err vm_boot "cannot create log directory for $log" || return 1
	if [ -n "$firmware" ]; then
		[ -z "$kernel$initrd$append" ] || vm_err vm_boot "-e takes no -k, -i or -a: the firmware boots the disks" || return 1
		[ -r "${firmware%%:*}" ] || vm_err vm_boot "firmware ${firmware%%:*} is missing or unreadable" || return 1
		cp "${firmware#*:}" "$log.vars" || vm_err vm_boot "cannot copy the variable store ${firmware#*:}" || return 1
		boot=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=${firmware%%:*}"
			-drive "if=pflash,format=raw,unit=1,file=$log.vars")
	else
		[ -n "$initrd" ] || vm_err vm_boot "-i INITRD is required" || return 1
		[ -r "$initrd" ] || vm_err vm_boot "initrd $initrd is missing or unreadable" || return 1
		[ -n "$kernel" ] || kernel=$(vm_kernel_image "") || return 1
		[ -r "$kernel" ] || vm_err vm_boot "kernel $kernel is missing or unreadable" || return 1
		base="console=ttyS0 panic=-1"
		[ "$icount" = off ] || base="$base idle=poll"
		boot=(-kernel "$kernel" -initrd "$initrd" -append "$base${append:+ $append}")
	fi
	vm_need_cmd "$VM_QEMU" timeout || return 1
	cmd=(timeout --kill-after=5 "$tmo" "$VM_QEMU" -accel tcg -nodefaults -no-user-config
		-m "$mem" -smp 1 -display none -no-reboot -monitor none
		-serial "file:$log" "${boot[@]}")
	for d in "${disks[@]}"; do
		[ -r "$d" ] || vm_err vm_boot "disk image $d is missing or unreadable" || return 1
		case $d in *,*) vm_err vm_boot "disk path $d contains a comma (qemu -drive cannot take it)" || return 1 ;; esac
		cmd+=(-drive "file=$d,format=raw,if=virtio,snapshot=on")
		i=$((i + 1))
	done
	# shellcheck disable=SC2054 # commas belong to the qemu option values
	[ "$icount" = off ] || cmd+=(-icount "$icount" -rtc base=2026-01-01T00:00:00,clock=vm)
	cmd+=("${extra[@]}")
	rm -f "$log" "$log.qemu" "$log.result"
	printf '%q ' "${cmd[@]}" >"$log.cmd"
	echo >>"$log.cmd"
	t0=$(date +%s.%N)
	VM_RC=0
	"${cmd[@]}" </dev/null >"$log.qemu" 2>&1 || VM_RC=$?
	t1=$(date +%s.%N)
	VM_WALL_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	# shellcheck disable=SC2034 # results for the caller
	VM_LOG=$log
	VM_TIMED_OUT=0
	# timeout(1): 124 when it fired (TERM), 137 when it had to KILL.
	case $VM_RC in 124 | 137) VM_TIMED_OUT=1 ;; esac
	printf 'rc=%s\ntimed_out=%s\nwall_s=%s\nmem_mib=%s\ndisks=%s\nicount=%s\n' \
		"$VM_RC" "$VM_TIMED_OUT" "$VM_WALL_S" "$mem" "$i" "$icount" >"$log.result"
	if [ "$VM_TIMED_OUT" = 1 ]; then
		vm_err vm_boot "VM did not finish within ${tmo}s (hang?); console log $log:" || true
		vm_log_tail "$log" >&2
		return 1
	fi
	if [ "$VM_RC" != 0 ]; then
		vm_err vm_boot "qemu exited with status $VM_RC; its output ($log.qemu):" || true
		sed 's/^/vm:   | /' "$log.qemu" >&2
		return 1
	fi
	[ -s "$log" ] || vm_err vm_boot "console log $log is empty (no console=ttyS0 output)" || return 1
}

# ---------------------------------------------------------------- logs

# vm_log_clean LOG: print LOG without carriage returns.
vm_log_clean() {
	[ -r "$1" ] || vm_err vm_log_clean "log $1 does not exist" || return 1
	tr -d '\r' <"$1"
}

# vm_log_tail LOG [N]: print the last N (default 30) log lines, indented.
vm_log_tail() {
	vm_log_clean "$1" | tail -n "${2:-30}" | sed 's/^/vm:   | /'
}

# vm_log_has LOG TEXT: true when LOG has a line containing TEXT (fixed
# string, not a regex).
vm_log_has() {
	[ -r "$1" ] || vm_err vm_log_has "log $1 does not exist" || return 1
	tr -d '\r' <"$1" | grep -qF -- "$2"
}

# vm_log_count LOG TEXT: print how many lines contain TEXT.
vm_log_count() {
	vm_log_clean "$1" | grep -cF -- "$2" || true
}

# vm_marker_line LOG: print the (first) root marker line, from the marker
# on; fails when there is none.
vm_marker_line() {
	local line
	line=$(vm_log_clean "$1" | grep -o "$VM_MARKER .*" | head -n 1) || true
	[ -n "$line" ] || vm_err vm_marker_line "no '$VM_MARKER' line in $1" || return 1
	echo "$line"
}

# vm_marker_field LOG FIELD: print the value of FIELD=value in the marker
# line (e.g. uptime, memavail_kb, memtotal_kb).
vm_marker_field() {
	local line v
	line=$(vm_marker_line "$1") || return 1
	v=$(tr ' ' '\n' <<<"$line" | sed -n "s/^$2=//p" | head -n 1)
	[ -n "$v" ] || vm_err vm_marker_field "marker in $1 has no field '$2': $line" || return 1
	echo "$v"
}

# vm_log_panicked LOG: true when LOG shows a kernel panic (or an oops).
vm_log_panicked() {
	vm_log_clean "$1" | grep -qE 'Kernel panic|end Kernel panic|BUG: |Oops: |general protection fault'
}

# vm_kmsg_time LOG TEXT: print the printk timestamp (seconds, from
# "[    1.234567] ...") of the first kernel line containing TEXT.
vm_kmsg_time() {
	local t
	t=$(vm_log_clean "$1" | grep -F -- "$2" |
		sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p' | head -n 1)
	[ -n "$t" ] || vm_err vm_kmsg_time "no timestamped kernel line containing '$2' in $1" || return 1
	echo "$t"
}

# vm_assert_marker LOG: fail (showing the log tail) unless the marker line is
# present.
vm_assert_marker() {
	vm_log_has "$1" "$VM_MARKER " && return 0
	vm_err vm_assert_marker "root not reached: no '$VM_MARKER' in $1; last lines:" || true
	vm_log_tail "$1" >&2
	return 1
}

# vm_assert_no_panic LOG: fail (showing the panic lines) on a kernel panic.
vm_assert_no_panic() {
	vm_log_panicked "$1" || return 0
	vm_err vm_assert_no_panic "kernel panic/oops in $1:" || true
	vm_log_clean "$1" | grep -E -B 5 -A 20 'Kernel panic|BUG: |Oops: |general protection fault' |
		head -n 60 | sed 's/^/vm:   | /' >&2
	return 1
}

# vm_assert_log_has LOG TEXT: fail (showing the log tail) unless LOG has TEXT.
vm_assert_log_has() {
	vm_log_has "$1" "$2" && return 0
	vm_err vm_assert_log_has "'$2' not found in $1; last lines:" || true
	vm_log_tail "$1" >&2
	return 1
}

# vm_assert_log_lacks LOG TEXT: fail (showing the line) if LOG has TEXT.
vm_assert_log_lacks() {
	vm_log_has "$1" "$2" || return 0
	vm_err vm_assert_log_lacks "unexpected '$2' in $1:" || true
	vm_log_clean "$1" | grep -F -- "$2" | head -n 5 | sed 's/^/vm:   | /' >&2
	return 1
}

# vm_assert_booted LOG: the usual success check after vm_boot: marker
# present, no panic, and the VM ended by itself (not by the timeout).
vm_assert_booted() {
	vm_assert_no_panic "$1" || return 1
	vm_assert_marker "$1" || return 1
	if [ -r "$1.result" ] && grep -qx 'timed_out=1' "$1.result"; then
		vm_err vm_assert_booted "VM hit the timeout after the marker (poweroff failed?)" || return 1
	fi
}

# ---------------------------------------------------------------- cases

# vm_tier_setup NAME: a fresh work layout for a boot tier, as globals:
# WORK ($VM_WORK/NAME, emptied), IN (inputs), LOGS (serial logs),
# WORK/results (vm_cases_run), TEST_LOG_DIR (exported) for
# tests/lib/runner.sh, which it sources; VM_JOBS (default 2) and T_START.
vm_tier_setup() {
	local base
	base=$(vm_work_dir) || return 1
	WORK=$base/$1
	rm -rf "$WORK" || vm_err vm_tier_setup "cannot remove old $WORK" || return 1
	IN=$WORK/in
	LOGS=$WORK/logs
	export TEST_LOG_DIR=$WORK/runner
	mkdir -p "$IN" "$LOGS" "$WORK/results" "$TEST_LOG_DIR" ||
		vm_err vm_tier_setup "cannot create $WORK" || return 1
	# shellcheck source=tests/lib/runner.sh
	. "$VM_LIB_DIR/../lib/runner.sh"
	VM_JOBS=${VM_JOBS:-2}
	# shellcheck disable=SC2034 # read by the tier for its own timing
	T_START=$(date +%s)
}

# vm_pool_wait: wait until fewer than VM_JOBS (default 2) background jobs run.
vm_pool_wait() {
	while [ "$(jobs -rp | wc -l)" -ge "${VM_JOBS:-2}" ]; do wait -n; done
}

# vm_cases_run RESULTS "NAME FUNCTION"...: run each case in the background,
# VM_JOBS at a time, each in its own subshell under run_strict
# (tests/lib/runner.sh: `set -e`, inherited by `$(...)`) with CASE=NAME;
# its output, exit status and host wall time go to RESULTS/NAME.out, .rc
# and .wall. VM_CASES_ONLY=NAME runs just that case.
vm_cases_run() {
	local results=$1 c name fn
	shift
	mkdir -p "$results" || return 1
	for c in "$@"; do
		name=${c%% *}
		fn=${c#* }
		[ -z "${VM_CASES_ONLY:-}" ] || [ "$name" = "$VM_CASES_ONLY" ] || continue
		vm_pool_wait
		(
			# for the case function and vm_case_note
			# shellcheck disable=SC2030
			CASE=$name
			# shellcheck disable=SC2030
			VM_CASE_DIR=$results
			export CASE VM_CASE_DIR
			t0=$(date +%s.%N)
			(run_strict "$fn") >"$results/$name.out" 2>&1
			echo $? >"$results/$name.rc"
			awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' \
				>"$results/$name.wall"
		) &
	done
	wait
}

# vm_cases_report RESULTS TAG "NAME FUNCTION"...: replay each case's output
# and status through run_case (tests/lib/runner.sh), in the order given,
# then print a table of host wall time and the guest note (RESULTS/NAME.guest).
vm_cases_report() {
	local results=$1 tag=$2 c name
	shift 2
	for c in "$@"; do
		name=${c%% *}
		[ -z "${VM_CASES_ONLY:-}" ] || [ "$name" = "$VM_CASES_ONLY" ] || continue
		VM_REPLAY=$results/$name run_case "$name" vm_case_replay
	done
	echo "$tag: times (host wall / guest):"
	for c in "$@"; do
		name=${c%% *}
		[ -f "$results/$name.rc" ] || continue
		printf '  %-42s %6ss  %s\n' "$name" "$(cat "$results/$name.wall" 2>/dev/null)" \
			"$(cat "$results/$name.guest" 2>/dev/null || echo '-')"
	done
}

# vm_assert_steps LOG [INIT]: the boot program (init mode) logged every
# step, the "ready" line and the exec of INIT (default /init, the full
# initrd's entry point the installer records) (kernel without quiet).
vm_assert_steps() {
	local s
	for s in "mount API filesystems" "read config" "load modules" "find boot device" \
		"mount boot filesystem" "mount image" "mount overlay" "release layers" \
		"check next init" "move mounts" "switch root" "release old root"; do
		vm_assert_log_has "$1" "initoverlayfs: $s: " || return 1
	done
	vm_assert_log_has "$1" "initoverlayfs: ready after " &&
		vm_assert_log_has "$1" "initoverlayfs: exec ${2:-/init}"
}

# vm_boot_case NAME [vm_boot options]: vm_boot of the tier's $KERNEL with
# the serial log at $LOGS/NAME.log (LOGS from vm_tier_setup).
vm_boot_case() {
	local name=$1
	shift
	# shellcheck disable=SC2153 # KERNEL: set by the tier script
	vm_boot -k "$KERNEL" -l "$LOGS/$name.log" "$@"
}

# vm_log_plain LOG: the serial log without "\r" and kernel timestamps
# ("[   1.234567] "), for whole-line matches.
vm_log_plain() {
	vm_log_clean "$1" | sed 's/^\[ *[0-9]*\.[0-9]*\] //'
}

# vm_case_note TEXT...: (in a case run by vm_cases_run) the guest-side note
# printed in vm_cases_report's table, e.g. the marker's uptime.
vm_case_note() {
	# shellcheck disable=SC2031
	echo "$*" >"$VM_CASE_DIR/$CASE.guest"
}

# vm_case_replay: (for run_case) show $VM_REPLAY.out, return its status.
vm_case_replay() {
	cat "$VM_REPLAY.out"
	return "$(cat "$VM_REPLAY.rc" 2>/dev/null || echo 1)"
}
