#!/bin/bash
# initoverlayfs-install tier: real runs against Debian's kernel with a
# temporary boot directory (root required: device nodes, owners, loop and
# EROFS mounts in private mount namespaces).
#
# Usage: tests/install/run.sh [INSTALLER [BOOT-PROGRAM]]
#   defaults: build/initoverlayfs-install build/initoverlayfs
# Environment: KVER (default: newest /lib/modules/* with modules.dep),
#   INSTALL_TEST_CACHE (where the dracut image is kept between runs:
#   dracut --no-hostonly takes about a minute), TEST_LOG_DIR.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/runner.sh"

INSTALL_BUILT=$(realpath "${1:-build/initoverlayfs-install}")
BOOTPROG_BUILT=$(realpath "${2:-build/initoverlayfs}")
CACHE=$(realpath -m "${INSTALL_TEST_CACHE:-build/test-install-cache}")
WORK=$(mktemp -d /tmp/iofs-install.XXXXXX)
# a private copy: the tree may be rebuilt while the tier runs
BOOTPROG=$WORK/initoverlayfs
INSTALL=$WORK/initoverlayfs-install
FAKE_UUID=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
LOOPDEV=""

cleanup() {
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

die() {
	echo "install: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -x "$INSTALL_BUILT" ] || die "$INSTALL_BUILT is not built"
cp "$INSTALL_BUILT" "$INSTALL"
[ -x "$BOOTPROG_BUILT" ] || die "$BOOTPROG_BUILT is not built"
cp "$BOOTPROG_BUILT" "$BOOTPROG"
KVER=$(kernel_release) || die "no kernel modules in /lib/modules"
MODDIR=/lib/modules/$KVER
mkdir -p "$CACHE"

# The modules every mini-initramfs must carry: those the installer lists
# (without its 'verity' set: dm_verity comes with --verity only) and the boot
# file system's (ext4 in these tests).
MOUNT_MODULES=$("$INSTALL" --print-modules=mount) || die "$INSTALL --print-modules=mount failed"
STORAGE_MODULES=$("$INSTALL" --print-modules=storage) ||
	die "$INSTALL --print-modules=storage failed"
ROOT_MODULES="$MOUNT_MODULES $STORAGE_MODULES ext4"
# The directories the boot program mounts on ("KEY PATH" lines).
MOUNT_POINTS=$("$BOOTPROG" --print-mount-points) || die "$BOOTPROG --print-mount-points failed"
MOUNT_POINTS=$(echo "$MOUNT_POINTS" | cut -d' ' -f2 | sed 's|^/||')
# The compressions the installer reads: NAME MAGICS DECOMPRESS COMPRESS, by
# tabs (--print-compressions).
COMPRESSIONS=$WORK/compressions
"$INSTALL" --print-compressions >"$COMPRESSIONS" || die "$INSTALL --print-compressions failed"

# ---- helpers -----------------------------------------------------------

# new_case: a fresh boot dir, TMPDIR and config (bootfs set explicitly)
new_case() {
	C=$WORK/$1
	BOOT=$C/boot
	CONF=$C/initoverlayfs.conf
	mkdir -p "$BOOT" "$C/tmp"
	export TMPDIR=$C/tmp
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$FAKE_UUID" >"$CONF"
}

# iofs ARGS: the installer for $KVER with the case's boot dir and config
iofs() {
	"$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" --boot-dir "$BOOT" \
		--config "$CONF" "$@"
}

# decompress FILE: the initramfs' cpio on stdout, by its magic number and
# the installer's decompressor for it
decompress() {
	local start magics dec m
	start=$(od -An -tx1 -N6 "$1" | tr -d ' \n')
	case $start in 30373037*) cat "$1"; return ;; esac
	while IFS=$'\t' read -r _ magics dec _; do
		for m in $magics; do
			# shellcheck disable=SC2086 # a command line
			case $start in "$m"*) $dec <"$1"; return ;; esac
		done
	done <"$COMPRESSIONS"
	fail "$1: unknown initramfs format"
}

# extract_mini FILE DIR
extract_mini() {
	mkdir -p "$2"
	decompress "$1" | (cd "$2" && cpio -idm --quiet)
}

# oracle_unpack IMAGE DIR: GNU cpio's extraction (early uncompressed archives
# first, then the rest through dracut's skipcpio and the decompressor)
oracle_unpack() {
	local img=$1 rest=$1
	if [ "$(od -An -c -N6 "$img" | tr -d ' ')" = 070701 ]; then
		(cd "$2" && cpio -idm --quiet --no-absolute-filenames <"$img")
		rest=$(mktemp "$WORK/rest.XXXXXX") || return 1
		/usr/lib/dracut/skipcpio "$img" >"$rest"
	fi
	decompress "$rest" | (cd "$2" && cpio -idmu --quiet --no-absolute-filenames)
}

# manifest DIR: everything a tree comparison looks at (no owners, no times)
manifest() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 -printf '%P\t%y\t%m\t%l\n' | LC_ALL=C sort
		find . -mindepth 1 -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
		find . -mindepth 1 \( -type b -o -type c \) -print0 | LC_ALL=C sort -z |
			xargs -0 -r stat -c '%n %t:%T'
	)
}

# image_manifest IMAGE: the manifest of the EROFS image, mounted read-only in
# a private mount namespace on the host kernel
image_manifest() {
	local mnt
	mnt=$(mktemp -d "$WORK/mnt.XXXXXX")
	unshare -m bash -c "$(declare -f manifest)
		set -e
		mount -t erofs -o ro,loop '$1' '$mnt'
		manifest '$mnt'"
}

# the one image of the boot dir
the_image() {
	local imgs
	imgs=$(find "$BOOT" -maxdepth 1 -name "initoverlayfs-$KVER-*.img")
	[ "$(echo "$imgs" | grep -c .)" -eq 1 ] || fail "expected one image in $BOOT: $imgs"
	echo "$imgs"
}

# check_image_name IMAGE: the name carries the first 16 hex of its sha256
check_image_name() {
	local want
	want=$(sha256sum "$1" | cut -c1-16)
	[ "$(basename "$1")" = "initoverlayfs-$KVER-$want.img" ] ||
		fail "$1: name does not match its content (sha256 $want)"
}

# check_private FILE...: root-only, mode 0600 (the outputs in the boot dir,
# the installer's own files in its work directory)
check_private() {
	local f
	for f in "$@"; do
		[ "$(stat -c %a "$f")" = 600 ] || fail "$f: mode $(stat -c %a "$f"), not 600"
	done
}

# check_work_private WORKDIR: the work directory is 0700, the files the
# installer writes there 0600 (full/ and mini/ hold content, whose modes
# are the initrd's own)
check_work_private() {
	[ "$(stat -c %a "$1")" = 700 ] || fail "$1: mode $(stat -c %a "$1"), not 700"
	# shellcheck disable=SC2046 # file names without blanks
	check_private $(find "$1" -mindepth 1 -maxdepth 1 -type f)
}

# conf_value FILE KEY
conf_value() {
	awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"
}

# oracle_modules NAMES: module files (relative to MODDIR) modprobe would load
oracle_modules() {
	for m in "$@"; do
		modprobe -S "$KVER" --show-depends "$m" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
	done | sed -E "s|^$MODDIR/||; s/\.ko\.(xz|zst|gz)\$/.ko/" | LC_ALL=C sort -u
}

# check_mini FILE EXTRA_MODULES: structure, config, libraries and modules
# (those of ROOT_MODULES, or of MINI_MODULES when set, and EXTRA_MODULES)
check_mini() {
	local x
	x=$(mktemp -u "$C/mini.XXXXXX") || fail "mktemp in $C"
	extract_mini "$1" "$x"
	decompress "$1" | cpio -t --quiet >"$x.list"
	# shellcheck disable=SC2086 # a list
	for p in init etc/initoverlayfs.conf etc/initrd-release dev/console dev/null \
		proc sys dev run $MOUNT_POINTS \
		"lib/modules/$KVER/modules.dep" "lib/modules/$KVER/modules.dep.bin" \
		"lib/modules/$KVER/modules.alias.bin" "lib/modules/$KVER/modules.softdep" \
		"lib/modules/$KVER/modules.builtin" "lib/modules/$KVER/modules.builtin.bin"; do
		grep -qxF "$p" "$x.list" || fail "mini-initramfs lacks $p"
	done
	cmp -s "$x/init" "$BOOTPROG" || fail "/init is not the boot program"
	[ -x "$x/init" ] || fail "/init is not executable"
	[ "$(stat -c '%F %t:%T' "$x/dev/console")" = "character special file 5:1" ] ||
		fail "dev/console: $(stat -c '%F %t:%T' "$x/dev/console")"
	[ "$(stat -c '%F %t:%T' "$x/dev/null")" = "character special file 1:3" ] ||
		fail "dev/null is not 1:3"
	# every library the loader would load (ldd as the oracle), same content
	ldd "$BOOTPROG" | awk '/=>/ { print $3 } /^\t\// { print $1 }' | while read -r lib; do
		[ -f "$x$lib" ] || fail "mini-initramfs lacks $lib"
		cmp -s "$x$lib" "$lib" || fail "$lib differs from the host's"
	done
	# the program runs with only what the initramfs holds
	chroot "$x" /init --version >/dev/null 2>&1 || chroot "$x" /init --help >/dev/null 2>&1 ||
		fail "/init does not run inside the mini-initramfs (missing library?)"
	# modules: every file listed in modules.dep, every dependency present
	local md=$x/lib/modules/$KVER
	find "$md" -name '*.ko*' -printf '%P\n' | LC_ALL=C sort >"$x.kos"
	[ -s "$x.kos" ] || fail "no modules"
	sed 's/:.*//' "$md/modules.dep" | LC_ALL=C sort >"$x.depkeys"
	diff -u "$x.kos" "$x.depkeys" || fail "modules.dep does not list exactly the modules"
	tr ' :' '\n\n' <"$md/modules.dep" | grep . | sort -u | while read -r f; do
		[ -f "$md/$f" ] || fail "modules.dep names $f, not in the initramfs"
	done
	# exactly the needed set: modprobe's own resolution as the oracle
	# shellcheck disable=SC2086
	oracle_modules ${MINI_MODULES:-$ROOT_MODULES} $2 >"$x.oracle"
	diff -u "$x.oracle" "$x.kos" || fail "module set differs from modprobe --show-depends"
	# the module plan the boot program loads from: each module once, stored
	# decompressed, its load order ending in a module that is there, and
	# modprobe's hard dependencies of it before it
	local plan=$md/initoverlayfs.modules name path
	[ -s "$plan" ] || fail "mini-initramfs lacks lib/modules/$KVER/initoverlayfs.modules"
	awk '$1 == "module" { print $3 }' "$plan" | LC_ALL=C sort >"$x.planned"
	diff -u "$x.kos" "$x.planned" || fail "the module plan does not list exactly the modules"
	! grep -E '\.ko\.(xz|zst|gz)$' "$x.kos" || fail "compressed modules in the mini-initramfs (above)"
	while read -r name path; do
		head -c 4 "$md/$path" | od -An -c | grep -q 'E   L   F' || fail "$path is not an ELF file"
		awk -v n="$name" '$1 == "load" && $2 == n { for (i = 3; i <= NF; i++) if ($i == n) ok = 1 }
			END { exit !ok }' "$plan" || fail "no load order for $name"
		# what modprobe would insert for it, all in its load order
		awk -v n="$name" '$1 == "load" && $2 == n { for (i = 3; i <= NF; i++) {
			sub(/^\?/, "", $i); print $i } }' "$plan" | LC_ALL=C sort -u >"$x.order"
		modprobe -S "$KVER" --show-depends "$name" | awk '$1 == "insmod" { print $2 }' |
			sed -E 's|.*/||; s/\.ko(\.(xz|zst|gz))?$//; s/-/_/g' | LC_ALL=C sort -u >"$x.want"
		[ -s "$x.want" ] || fail "modprobe --show-depends $name printed no insmod"
		[ -z "$(LC_ALL=C comm -23 "$x.want" "$x.order")" ] ||
			fail "the load order of $name lacks $(LC_ALL=C comm -23 "$x.want" "$x.order" | tr '\n' ' ')"
	done < <(awk '$1 == "module" { print $2, $3 }' "$plan")
	grep -q '^alias fs_ext4 ext4$' "$plan" || fail "the module plan lacks ext4's fs- alias"
	MINI_DIR=$x
}

# snapshot DIR: names, sizes, modes and hashes, to prove nothing changed
snapshot() {
	(cd "$1" && find . -printf '%P %s %m\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# expect_error PATTERN CMD...: fails with one error line matching PATTERN
# and leaves the boot dir as it was
expect_error() {
	local pattern=$1 rc
	shift
	snapshot "$BOOT" >"$C/before"
	set +e
	"$@" >"$C/out" 2>"$C/err"
	rc=$?
	set -e
	cat "$C/err"
	[ "$rc" -ne 0 ] || fail "succeeded: $*"
	[ "$(grep -c ': error: ' "$C/err")" -eq 1 ] || fail "not exactly one error line"
	grep -q -- "$pattern" "$C/err" || fail "error does not match '$pattern'"
	snapshot "$BOOT" >"$C/after"
	diff -u "$C/before" "$C/after" || fail "the boot directory changed"
	[ -z "$(ls -A "$C/tmp")" ] || fail "work directory left in TMPDIR: $(ls -A "$C/tmp")"
}

# make_tree DIR SEED: a small full-initrd-like tree with every file type
make_tree() {
	local d=$1
	mkdir -p "$d/bin" "$d/sbin" "$d/etc" "$d/usr/lib/modules" "$d/dev" "$d/empty" "$d/odd dir"
	cp /bin/busybox "$d/bin/busybox" 2>/dev/null || cp /bin/true "$d/bin/busybox"
	ln -s busybox "$d/bin/sh"
	ln -s ../bin/busybox "$d/sbin/init"
	ln -s usr/lib "$d/lib"
	ln -s /nonexistent/absolute "$d/dangling"
	echo "seed $2" >"$d/etc/seed"
	printf 'root:x:0:0::/root:/bin/sh\n' >"$d/etc/passwd"
	echo "hard linked" >"$d/etc/hard1"
	ln "$d/etc/hard1" "$d/etc/hard2"
	echo "setuid" >"$d/bin/suid"
	chmod 4755 "$d/bin/suid"
	echo "private" >"$d/etc/private"
	chmod 0600 "$d/etc/private"
	chown 1000:1000 "$d/etc/private"
	echo "spaces" >"$d/odd dir/file with spaces"
	head -c 300000 /dev/urandom >"$d/usr/lib/blob"
	: >"$d/etc/empty-file"
	mknod "$d/dev/console" c 5 1
	mknod "$d/dev/sda" b 8 0
	mkfifo "$d/dev/initctl"
	chmod 0700 "$d/empty"
	touch -d '2001-02-03 04:05:06' "$d/etc/seed"
}

# ---- cases -------------------------------------------------------------

case_help() {
	new_case help
	"$INSTALL" --help >"$C/help"
	for w in --kver --boot-dir --source --mode --compression --config --output-initramfs \
		--add-modules --dry-run --verbose --force INITOVERLAYFS_INSTALL_CRASH_AT \
		--print-modules --print-compressions; do
		assert_contains "$C/help" "$w"
	done
	"$INSTALL" --version | grep -q '^initoverlayfs-install [0-9]'
	"$INSTALL" --list-steps >"$C/steps"
	[ "$(head -1 "$C/steps")" = preflight ] && [ "$(tail -1 "$C/steps")" = "done" ] ||
		fail "unexpected step list"
	set +e
	"$INSTALL" --no-such-option 2>/dev/null
	[ $? -eq 2 ] || fail "bad option: exit status not 2"
	"$INSTALL" --mode nope 2>/dev/null
	[ $? -eq 2 ] || fail "bad mode: exit status not 2"
	# a kernel release that is no file name: usage error, one line
	local k
	for k in "" ../x a/b -rf "a b" "$(printf 'a\tb')"; do
		"$INSTALL" --kver "$k" --dry-run 2>"$C/err"
		[ $? -eq 2 ] || fail "--kver '$k': exit status not 2"
		[ "$(grep -c . "$C/err")" -eq 1 ] && grep -q ": error: --kver '" "$C/err" ||
			fail "--kver '$k': $(cat "$C/err")"
	done
	INITOVERLAYFS_INSTALL_CRASH_AT=nope "$INSTALL" -n 2>/dev/null
	[ $? -eq 2 ] || fail "bad crash step: exit status not 2"
	return 0
}

DRACUT_IMG=$CACHE/dracut-$KVER.img

# The dracut image: made once by the installer itself (--source dracut, the
# work directory kept), then cached for later runs.
case_source_dracut() {
	new_case source-dracut
	if [ -s "$DRACUT_IMG" ] && [ "$DRACUT_IMG" -nt "$MODDIR/modules.dep" ]; then
		echo "cached: $DRACUT_IMG (generation not rerun)"
		return 0
	fi
	INITOVERLAYFS_INSTALL_KEEP_WORK=1 iofs -f --source dracut --initramfs-compression zstd,3 \
		>"$C/out"
	cat "$C/out"
	assert_contains "$C/out" "source dracut"
	check_image_name "$(the_image)"
	check_private "$(the_image)" "$BOOT/initrd.img-$KVER" \
		"$C"/tmp/initoverlayfs-install.*/full-initrd.img
	cp "$C"/tmp/initoverlayfs-install.*/full-initrd.img "$DRACUT_IMG.tmp"
	mv "$DRACUT_IMG.tmp" "$DRACUT_IMG"
}

# From dracut's image: the image holds exactly the unpacked initrd, the
# mini-initramfs holds what the boot needs, two runs give the same bytes.
case_dracut_image() {
	new_case dracut-image
	[ -s "$DRACUT_IMG" ] || fail "no dracut image (source-dracut failed?)"
	INITOVERLAYFS_INSTALL_KEEP_WORK=1 iofs -f --source "$DRACUT_IMG" >"$C/out" 2>"$C/err"
	cat "$C/err"
	tee "$WORK/dracut-summary" <"$C/out"
	local img
	img=$(the_image)
	check_image_name "$img"
	check_private "$img" "$BOOT/initrd.img-$KVER"
	check_work_private "$(echo "$C"/tmp/initoverlayfs-install.*)"
	# oracle: GNU cpio's own extraction of the same image
	mkdir "$C/ref"
	oracle_unpack "$DRACUT_IMG" "$C/ref"
	manifest "$C/ref" >"$C/ref.manifest"
	image_manifest "$img" >"$C/img.manifest"
	diff -u "$C/ref.manifest" "$C/img.manifest" >"$C/diff" || {
		head -40 "$C/diff"
		fail "EROFS image differs from the unpacked initrd"
	}
	echo "image: $(grep -c . "$C/img.manifest") manifest lines identical"
	# the unpacker kept owners and times too (work directory kept)
	local full
	full=$(echo "$C"/tmp/initoverlayfs-install.*/full)
	(cd "$C/ref" && find . ! -type d \( -type l -printf '%P %U:%G %m\n' -o -printf '%P %U:%G %m %T@\n' \) | sort) >"$C/ref.own"
	(cd "$full" && find . ! -type d \( -type l -printf '%P %U:%G %m\n' -o -printf '%P %U:%G %m %T@\n' \) | sort) >"$C/full.own"
	diff -u "$C/ref.own" "$C/full.own" || fail "owners or mtimes not kept by the unpacker"
	# the mini-initramfs
	local out=$BOOT/initrd.img-$KVER
	[ -f "$out" ] || fail "no $out"
	check_mini "$out" ""
	[ "$(conf_value "$MINI_DIR/etc/initoverlayfs.conf" fs)" = "$BOOT/$(basename "$img")" ] ||
		fail "config fs is not $BOOT/$(basename "$img")"
	[ "$(conf_value "$MINI_DIR/etc/initoverlayfs.conf" bootfs)" = "UUID=$FAKE_UUID" ] ||
		fail "config bootfs not kept"
	# dracut's entry point is /init (dracut 106 has no /sbin/init at all)
	[ "$(conf_value "$MINI_DIR/etc/initoverlayfs.conf" init)" = /init ] ||
		fail "config init is not /init: $(conf_value "$MINI_DIR/etc/initoverlayfs.conf" init)"
	assert_contains "$C/err" "full initrd: the next init is its /init"
	# reproducible: a second run gives identical bytes
	sha256sum "$img" "$out" >"$C/sums1"
	rm -rf "$C"/tmp/*
	iofs -f --source "$DRACUT_IMG" >/dev/null
	sha256sum "$img" "$out" >"$C/sums2"
	diff -u "$C/sums1" "$C/sums2" || fail "second run gave different bytes"
	[ "$(find "$BOOT" -mindepth 1 | wc -l)" -eq 2 ] || fail "boot dir: $(ls -A "$BOOT")"
	echo "full $(stat -c %s "$DRACUT_IMG") erofs $(stat -c %s "$img") mini $(stat -c %s "$out")" \
		>"$WORK/dracut-sizes"
}

# From an initramfs-tools image: the running system's, or one made here.
case_initramfs_tools_image() {
	new_case itools-image
	local src=/boot/initrd.img-$KVER
	if ! [ -s "$src" ] || decompress "$src" | cpio -t --quiet 2>/dev/null | grep -q 'initoverlayfs.conf'; then
		src=$CACHE/initramfs-tools-$KVER.img
		[ -s "$src" ] || mkinitramfs -o "$src" "$KVER"
	fi
	iofs -f --source "$src" --initramfs-compression zstd,3 >"$C/out"
	cat "$C/out"
	local img
	img=$(the_image)
	check_image_name "$img"
	mkdir "$C/ref"
	oracle_unpack "$src" "$C/ref"
	manifest "$C/ref" >"$C/ref.manifest"
	image_manifest "$img" >"$C/img.manifest"
	diff -u "$C/ref.manifest" "$C/img.manifest" | head -40
	cmp -s "$C/ref.manifest" "$C/img.manifest" || fail "image differs from $src"
	check_mini "$BOOT/initrd.img-$KVER" ""
}

# The installer runs mkinitramfs itself.
case_source_initramfs_tools() {
	new_case source-itools
	INITOVERLAYFS_INSTALL_KEEP_WORK=1 iofs -f --source initramfs-tools \
		--initramfs-compression zstd,3 >"$C/out"
	cat "$C/out"
	assert_contains "$C/out" "source initramfs-tools"
	check_image_name "$(the_image)"
	check_private "$(the_image)" "$BOOT/initrd.img-$KVER"
	# mkinitramfs would have created its output 0644
	local work
	work=$(echo "$C"/tmp/initoverlayfs-install.*)
	check_private "$work/full-initrd.img"
	check_work_private "$work"
}

# From a directory: every file type, hard links, odd names.
case_directory() {
	new_case directory
	make_tree "$C/src" A
	iofs -f --source "$C/src" --initramfs-compression zstd,3 --add-modules vfat,nls_utf8 >"$C/out"
	cat "$C/out"
	local img
	img=$(the_image)
	check_image_name "$img"
	manifest "$C/src" >"$C/src.manifest"
	image_manifest "$img" >"$C/img.manifest"
	diff -u "$C/src.manifest" "$C/img.manifest" || fail "image differs from the directory"
	# hard links stay hard links
	local mnt
	mnt=$(mktemp -d "$WORK/mnt.XXXXXX")
	unshare -m bash -c "mount -t erofs -o ro,loop '$img' '$mnt' &&
		[ \$(stat -c %i '$mnt/etc/hard1') = \$(stat -c %i '$mnt/etc/hard2') ] &&
		[ \$(stat -c %h '$mnt/etc/hard1') = 2 ] &&
		[ \$(stat -c %u:%g '$mnt/etc/private') = 0:0 ]" ||
		fail "hard link or ownership wrong in the image"
	check_mini "$BOOT/initrd.img-$KVER" "vfat nls_utf8"
	check_private "$img" "$BOOT/initrd.img-$KVER"
	# only /sbin/init: the default stays
	case $(conf_value "$MINI_DIR/etc/initoverlayfs.conf" init) in
	"" | /sbin/init) ;;
	*) fail "config init: $(conf_value "$MINI_DIR/etc/initoverlayfs.conf" init), not the default" ;;
	esac
}

# chain_wants DIR: what the drivers of the device chain holding DIR are
# asked by, read from sysfs here (each device's modalias and its bound
# driver's module, from the block device up), for modprobe to resolve
chain_wants() {
	local p
	p=$(readlink -f "/sys/dev/block/$(stat -c '%Hd:%Ld' "$1")") || return 1
	case $p in /sys/devices/virtual/block/loop*) return 0 ;; /sys/devices/*) ;; *) return 1 ;; esac
	while [ "$p" != /sys/devices ]; do
		if [ -f "$p/modalias" ]; then cat "$p/modalias" || return 1; fi
		if [ -L "$p/driver/module" ]; then basename "$(readlink "$p/driver/module")" || return 1; fi
		p=${p%/*}
	done
}

# --hostonly: the mount modules, the file system's and the drivers of this
# machine's chain under the boot directory; none of the usual boot
# devices' list unless the chain needs it. Refused with --root, in systemd
# mode and where the boot directory is not on a block device.
case_hostonly() {
	new_case hostonly
	make_tree "$C/src" A
	iofs -f --hostonly --source "$C/src" --initramfs-compression zstd,3 >"$C/out"
	cat "$C/out"
	local wants
	wants=$(chain_wants "$BOOT") || fail "cannot read the sysfs chain of $BOOT"
	echo "chain of $BOOT: $(echo "$wants" | paste -sd ' ')"
	# shellcheck disable=SC2086 # lists
	MINI_MODULES="$MOUNT_MODULES ext4 $wants" check_mini "$BOOT/initrd.img-$KVER" ""
	local generic=$C/generic
	mkdir -p "$generic"
	iofs -f --source "$C/src" --initramfs-compression zstd,3 --output-initramfs "$generic/mini.img" \
		>/dev/null
	[ "$(stat -c %s "$BOOT/initrd.img-$KVER")" -lt "$(stat -c %s "$generic/mini.img")" ] ||
		fail "the --hostonly mini-initramfs is not smaller than the generic one"
	expect_error "--hostonly: not with --root" iofs --hostonly --root / --dry-run -f
	expect_error "--hostonly: init mode only" iofs --hostonly --mode systemd --dry-run -f \
		--source "$C/src"
	mkdir -p "$C/tmpfs-boot"
	mount -t tmpfs -o size=64m iofs-hostonly "$C/tmpfs-boot" || fail "mount tmpfs"
	local rc=0
	(BOOT=$C/tmpfs-boot expect_error "is on iofs-hostonly (tmpfs), which is not a block device" \
		iofs --hostonly --source "$C/src" --dry-run) || rc=$?
	umount "$C/tmpfs-boot" || fail "umount tmpfs"
	[ "$rc" = 0 ] || fail "tmpfs boot directory (above)"
}

# Concatenated segments: an uncompressed early archive, zero padding, then a
# compressed one; every compression the installer reads (made here with the
# tools' own options). Owners, modes, links, nodes and times are kept by the
# unpacker.
case_segments() {
	new_case segments
	make_tree "$C/main" B
	mkdir -p "$C/early/kernel/x86/microcode"
	head -c 5000 /dev/urandom >"$C/early/kernel/x86/microcode/GenuineIntel.bin"
	# the later segment overrides an earlier file, as in the kernel
	mkdir -p "$C/early/etc" && echo early >"$C/early/etc/seed"
	(cd "$C/early" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$C/early.cpio"
	(cd "$C/main" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$C/main.cpio"
	# expected tree: both merged, main last
	mkdir "$C/expect"
	(cd "$C/expect" && cpio -idm --quiet <"$C/early.cpio" && cpio -idmu --quiet <"$C/main.cpio")
	manifest "$C/expect" >"$C/expect.manifest"
	(cd "$C/expect" && find . ! -type d \( -type l -printf '%P %U:%G %m\n' -o -printf '%P %U:%G %m %T@\n' \) | sort) >"$C/expect.own"
	local comp
	for comp in $(cut -f1 "$COMPRESSIONS") none; do
		case $comp in
		gzip) gzip -9 -c "$C/main.cpio" ;;
		zstd) zstd -q -c "$C/main.cpio" ;;
		xz) xz --check=crc32 -c "$C/main.cpio" ;;
		lzma) xz --format=lzma -c "$C/main.cpio" ;;
		lz4) lz4 -q -l -c "$C/main.cpio" ;;
		bzip2) bzip2 -c "$C/main.cpio" ;;
		lzo) lzop -c "$C/main.cpio" ;;
		none) cat "$C/main.cpio" ;;
		*) fail "$comp: the installer reads it, this case cannot make it" ;;
		esac >"$C/main.$comp"
		{
			cat "$C/early.cpio"
			head -c 512 /dev/zero
			cat "$C/main.$comp"
		} >"$C/initrd.$comp"
		rm -rf "${C:?}"/tmp/* "${BOOT:?}"/*
		INITOVERLAYFS_INSTALL_KEEP_WORK=1 iofs -f --source "$C/initrd.$comp" \
			--initramfs-compression none >"$C/out.$comp"
		local full
		full=$(echo "$C"/tmp/initoverlayfs-install.*/full)
		manifest "$full" >"$C/full.manifest"
		diff -u "$C/expect.manifest" "$C/full.manifest" || fail "$comp: unpacked tree differs"
		(cd "$full" && find . ! -type d \( -type l -printf '%P %U:%G %m\n' -o -printf '%P %U:%G %m %T@\n' \) | sort) >"$C/full.own"
		diff -u "$C/expect.own" "$C/full.own" || fail "$comp: owners, modes or times differ"
		[ "$(stat -c %i "$full/etc/hard1")" = "$(stat -c %i "$full/etc/hard2")" ] ||
			fail "$comp: hard link lost"
		image_manifest "$(the_image)" >"$C/img.manifest"
		diff -u "$C/expect.manifest" "$C/img.manifest" || fail "$comp: image differs"
		echo "$comp: ok"
	done
}

# Config generation from the boot dir's file system (a loop-mounted ext4 in a
# private mount namespace), at the file system's root and in a subdirectory.
case_config_generated() {
	new_case config-generated
	local uuid=7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d
	truncate -s 64M "$C/fs.img"
	mkfs.ext4 -q -F -U "$uuid" "$C/fs.img"
	mkdir "$C/mnt"
	make_tree "$C/src" C
	unshare -m bash -c "
		set -e
		mount -o loop '$C/fs.img' '$C/mnt'
		mkdir '$C/mnt/sub'
		: > '$C/empty.conf'
		'$INSTALL' --kver '$KVER' --boot-program '$BOOTPROG' --boot-dir '$C/mnt' \
			--config '$C/gen1.conf' --source '$C/src' --initramfs-compression zstd,3 -f
		'$INSTALL' --kver '$KVER' --boot-program '$BOOTPROG' --boot-dir '$C/mnt/sub' \
			--config '$C/empty.conf' --source '$C/src' --initramfs-compression zstd,3 -f
		findmnt -n -o SOURCE '$C/mnt' > '$C/dev'
		'$INSTALL' --kver '$KVER' --boot-program '$BOOTPROG' --boot-dir '$C/mnt' \
			--config '$C/dry.conf' --source '$C/src' --dry-run -f > '$C/dry.out'
		cp -a '$C/mnt/.' '$C/copy'
	"
	cat "$C/gen1.conf"
	[ "$(conf_value "$C/gen1.conf" bootfs)" = "UUID=$uuid" ] || fail "bootfs not UUID=$uuid"
	[ "$(conf_value "$C/gen1.conf" bootfstype)" = ext4 ] || fail "bootfstype not ext4"
	[ "$(conf_value "$C/gen1.conf" bootfs_hint)" = "$(cat "$C/dev")" ] || fail "bootfs_hint"
	[ "$(conf_value "$C/empty.conf" bootfs)" = "UUID=$uuid" ] || fail "empty config not filled"
	assert_contains "$C/dry.out" "0644 $C/dry.conf  config: bootfs UUID=$uuid"
	[ ! -e "$C/dry.conf" ] || fail "dry run wrote the config"
	BOOT=$C/copy
	local img1 img2
	img1=$(the_image)
	img1=${img1##*/}
	extract_mini "$C/copy/initrd.img-$KVER" "$C/m1"
	[ "$(conf_value "$C/m1/etc/initoverlayfs.conf" fs)" = "/$img1" ] ||
		fail "fs at the file system root: $(conf_value "$C/m1/etc/initoverlayfs.conf" fs)"
	BOOT=$C/copy/sub
	img2=$(the_image)
	img2=${img2##*/}
	extract_mini "$C/copy/sub/initrd.img-$KVER" "$C/m2"
	[ "$(conf_value "$C/m2/etc/initoverlayfs.conf" fs)" = "/sub/$img2" ] ||
		fail "fs in a subdirectory: $(conf_value "$C/m2/etc/initoverlayfs.conf" fs)"
}

# An existing config is kept as it is; only fs changes in the copy.
case_config_kept() {
	new_case config-kept
	printf '# mine\nbootfs LABEL=myboot\nbootfstype vfat\ntimeout 7\nmodules dm_crypt\ninit /lib/systemd/systemd\ncompression lz4\n' >"$CONF"
	sha256sum "$CONF" >"$C/conf.sum"
	make_tree "$C/src" D
	# the configured init must be in the content (through its lib -> usr/lib)
	mkdir -p "$C/src/usr/lib/systemd"
	cp /bin/busybox "$C/src/usr/lib/systemd/systemd"
	iofs -f --source "$C/src" --initramfs-compression zstd,3 >"$C/out"
	sha256sum -c "$C/conf.sum" || fail "the config file was changed"
	extract_mini "$BOOT/initrd.img-$KVER" "$C/m"
	local mc=$C/m/etc/initoverlayfs.conf
	cat "$mc"
	[ "$(conf_value "$mc" bootfs)" = LABEL=myboot ] || fail bootfs
	[ "$(conf_value "$mc" timeout)" = 7 ] || fail timeout
	[ "$(conf_value "$mc" init)" = /lib/systemd/systemd ] || fail init
	[ "$(conf_value "$mc" compression)" = lz4 ] || fail compression
	[ "$(conf_value "$mc" fs)" = "$BOOT/$(basename "$(the_image)")" ] || fail fs
	[ -n "$(find "$C/m/lib/modules" -name 'dm-crypt.ko*')" ] || fail "config module dm_crypt missing"
	[ -n "$(find "$C/m/lib/modules" -name 'vfat.ko*')" ] || fail "bootfstype vfat module missing"
	[ -n "$(find "$C/m/lib/modules" -name 'nls_cp437.ko*')" ] || fail "vfat codepage missing"
	# the FAT mount asks for the kernel's default code page and charset
	# by name: the mini-initramfs' config loads them after its own
	local cp io
	cp=$(sed -n 's/^CONFIG_FAT_DEFAULT_CODEPAGE=//p' "/boot/config-$KVER")
	io=$(sed -n 's/^CONFIG_FAT_DEFAULT_IOCHARSET="\(.*\)"$/\1/p' "/boot/config-$KVER")
	[ "$(conf_value "$mc" modules)" = "dm_crypt nls_cp$cp nls_$io" ] ||
		fail "modules: $(conf_value "$mc" modules), not dm_crypt nls_cp$cp nls_$io"
	# the config's compression was used for the image (lz4, not lz4hc)
	assert_contains "$C/out" "lz4:"
}

# --dry-run: every step and command printed, nothing written anywhere.
case_dry_run() {
	new_case dry-run
	iofs --dry-run --source dracut >"$C/out" 2>"$C/err" || {
		cat "$C/err"
		fail "dry run failed"
	}
	cat "$C/out"
	# the plan: inputs, outputs with their modes, commands, modules and why
	for w in "kernel          $KVER (modules /lib/modules/$KVER)" \
		"source          generated by dracut" \
		"$ dracut --no-hostonly --force --kver $KVER '\$WORK/full-initrd.img'" \
		"$ mkfs.erofs -zlz4hc -T0 --all-root" "$ depmod -C" "$ zstd -q -c -19" \
		"0600 $BOOT/initoverlayfs-$KVER-<hash>.img  EROFS image, lz4hc" \
		"0600 $BOOT/initrd.img-$KVER  mini-initramfs, newc cpio" \
		"/init  the boot program $BOOTPROG" \
		"/lib/modules/$KVER/kernel/fs/erofs/erofs.ko  what the image is mounted with" \
		"/lib/modules/$KVER/kernel/drivers/block/virtio_blk.ko  a usual boot device's driver" \
		"/lib/modules/$KVER/kernel/fs/ext4/ext4.ko  the boot file system (ext4)" \
		"needed by ext4" "nothing was changed"; do
		assert_contains "$C/out" "$w"
	done
	# the planned modules are exactly the needed set (modprobe as the oracle,
	# as for a real run's mini-initramfs in check_mini)
	# shellcheck disable=SC2086
	oracle_modules $ROOT_MODULES >"$C/oracle"
	grep -o "^  /lib/modules/$KVER/[^ ]*" "$C/out" | sed "s|^  /lib/modules/$KVER/||" |
		LC_ALL=C sort >"$C/planned"
	diff -u "$C/oracle" "$C/planned" || fail "the planned modules differ from modprobe's"
	[ -z "$(ls -A "$BOOT")" ] || fail "boot dir touched"
	[ -z "$(ls -A "$C/tmp")" ] || fail "work dir created"
	# mode systemd: the dracut call (a stand-in module dir satisfies the check)
	mkdir -p "$C/dracutbase/modules.d/99initoverlayfs"
	dracutbasedir=$C/dracutbase iofs --dry-run --mode systemd --source "$C" >"$C/out.systemd"
	# only the distribution's dracut defaults: the admin's configuration is
	# the full initrd's
	assert_contains "$C/out.systemd" "dracut --force --reproducible --no-hostonly --no-early-microcode --conf /dev/null --confdir '\$WORK/dracut.conf.d' '--compress=zstd -q -c -19' --kver $KVER --modules initoverlayfs"
	[ -z "$(ls -A "$BOOT")" ] || fail "boot dir touched"
	# a boot dir on tmpfs cannot be found at boot: no config can be made
	mkdir "$C/tmpfsboot"
	unshare -m bash -c "mount -t tmpfs none '$C/tmpfsboot' &&
		'$INSTALL' --kver '$KVER' --boot-program '$BOOTPROG' --boot-dir '$C/tmpfsboot' \
		--config '$C/none.conf' --source '$C' --dry-run" 2>"$C/err.tmpfs" &&
		fail "config generated for a tmpfs boot dir"
	cat "$C/err.tmpfs"
	assert_contains "$C/err.tmpfs" "not on a block device"
	sha256sum "$CONF" | grep -q "$(printf 'bootfs UUID=%s\nbootfstype ext4\n' "$FAKE_UUID" |
		sha256sum | cut -d' ' -f1)" || fail "config changed"
}

# An old pair in place; each error leaves it untouched.
case_errors() {
	new_case errors
	make_tree "$C/src" E
	iofs -f --source "$C/src" --initramfs-compression zstd,3 >/dev/null
	local bin=$C/bin
	mkdir "$bin"
	for t in depmod zstd gzip xz; do ln -s "$(command -v $t)" "$bin/$t"; done

	echo "--- missing mkfs.erofs"
	expect_error "mkfs.erofs not found.*erofs-utils" \
		env PATH="$bin" "$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" \
		--boot-dir "$BOOT" --config "$CONF" -f --source "$C/src"
	echo "--- missing dracut"
	ln -s "$(command -v mkfs.erofs)" "$bin/mkfs.erofs"
	expect_error "dracut not found.*dracut-core" \
		env PATH="$bin" "$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" \
		--boot-dir "$BOOT" --config "$CONF" -f --source dracut
	echo "--- missing decompressor (libarchive runs lzop for lzo data)"
	printf '\211LZO\000\r\n\032\n' >"$C/lzo.img"
	expect_error "lzop not found.*lzop" \
		env PATH="$bin" "$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" \
		--boot-dir "$BOOT" --config "$CONF" -f --source "$C/lzo.img"
	echo "--- missing kernel modules"
	expect_error "/lib/modules/0.0.0-none" \
		"$INSTALL" --kver 0.0.0-none --boot-program "$BOOTPROG" --boot-dir "$BOOT" \
		--config "$CONF" -f --source "$C/src"
	echo "--- not enough space"
	expect_error "not enough space in $BOOT" env INITOVERLAYFS_INSTALL_FREE_BYTES=4096 \
		"$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" --boot-dir "$BOOT" \
		--config "$CONF" -f --source "$C/src"
	echo "--- missing source"
	expect_error "source: $C/none.img: No such file" iofs -f --source "$C/none.img"
	echo "--- a mini-initramfs as the source (Debian's initrd once the hook ran)"
	local mini fs
	mini=$(find "$BOOT" -maxdepth 1 -name "init*$KVER*" ! -name "initoverlayfs-*")
	[ -f "$mini" ] || fail "no mini-initramfs in $BOOT: $mini"
	extract_mini "$mini" "$C/mini"
	fs=$(conf_value "$C/mini/etc/initoverlayfs.conf" fs)
	[ -f "$BOOT/${fs##*/}" ] || fail "the mini-initramfs boots $fs, not in $BOOT"
	expect_error "^initoverlayfs-install: error: source $mini is an initoverlayfs mini-initramfs (it boots the image $fs): a pair is made from a full initrd; give the full initrd as --source\$" \
		iofs -f --source "$mini" --output-initramfs "$mini"
	expect_error "source $mini is an initoverlayfs mini-initramfs" \
		iofs -f --dry-run --source "$mini" --output-initramfs "$mini"
	[ ! -s "$C/out" ] || fail "--dry-run printed a plan: $(cat "$C/out")"
	[ "$("$INSTALL" --print-image-ref "$mini")" = "$fs" ] ||
		fail "--print-image-ref $mini does not print $fs"
	echo "--- unreadable source (not an initramfs)"
	head -c 4096 /dev/urandom | sed 's/^/x/' >"$C/garbage.img"
	expect_error "not an initramfs" iofs -f --source "$C/garbage.img"
	echo "--- truncated compressed source"
	(cd "$C/src" && find . | cpio -o -H newc --quiet) | gzip -c >"$C/full.gz"
	head -c $(($(stat -c %s "$C/full.gz") / 2)) "$C/full.gz" >"$C/trunc.img"
	expect_error "unpack: $C/trunc.img" iofs -f --source "$C/trunc.img"
	echo "--- unsafe archive"
	# one regular file named "../escape", written by hand: cpio -o will not
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X../escape\0' \
		1 $((0100644)) 0 0 1 0 0 0 0 0 0 10 0 >"$C/evil.img"
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08XTRAILER!!!\0\0\0\0' \
		0 0 0 0 1 0 0 0 0 0 0 11 0 >>"$C/evil.img"
	expect_error "unsafe entry name" iofs -f --source "$C/evil.img"
	[ ! -e "$C/tmp/escape" ] && [ ! -e "$C/escape" ] || fail "wrote outside"
	echo "--- unknown module"
	expect_error "no_such_module_xyz" iofs -f --source "$C/src" --add-modules no_such_module_xyz
	echo "--- no next init in the full initrd"
	make_tree "$C/noinit" N
	rm "$C/noinit/sbin/init"
	expect_error "full initrd: no next init: /sbin/init (nor /init) is not an executable file in it" \
		iofs -f --source "$C/noinit"
	echo "--- systemd mode without the dracut module"
	mkdir -p "$C/dracutbase/modules.d"
	expect_error "dracut module 'initoverlayfs' is not installed" env dracutbasedir="$C/dracutbase" \
		"$INSTALL" --kver "$KVER" --boot-dir "$BOOT" --config "$CONF" -f --source "$C/src" \
		--mode systemd
	echo "--- output exists, no -f"
	expect_error "exists; use -f" iofs --source "$C/src"
	echo "--- boot program missing"
	expect_error "boot program" iofs -f --source "$C/src" --boot-program "$C/nope"
	echo "--- boot program needs a library that is not installed"
	echo 'int iofs_gone(void) { return 0; }' >"$C/gone.c"
	echo 'int iofs_gone(void); int main(void) { return iofs_gone(); }' >"$C/needs.c"
	"${CC:-cc}" -shared -fPIC -o "$C/libiofsgone.so" "$C/gone.c"
	"${CC:-cc}" -o "$C/needs" "$C/needs.c" -L"$C" -liofsgone
	rm "$C/libiofsgone.so"
	expect_error "needs libiofsgone.so, which is not installed" \
		iofs -f --source "$C/src" --boot-program "$C/needs"
	echo "--- bad compression"
	expect_error "compression 'lz4hc,x'" iofs -f --source "$C/src" --compression lz4hc,x
	echo "--- bad initramfs compression"
	expect_error "--initramfs-compression lzo: expected $(awk -F '\t' '$4 != "-" { print $1 }' \
		"$COMPRESSIONS" | paste -sd, | sed 's/,/, /g') or none" \
		iofs -f --source "$C/src" --initramfs-compression lzo
}

# Kill the installer at every step; the boot dir must hold a complete pair.
#
# check_pair: the initramfs decompresses completely, its config names an
# image that exists, whose bytes match its name; prints the image name.
check_pair() {
	# mktemp, not $RANDOM: this runs in a command substitution for every
	# step, and the names collided once
	local x fs img
	x=$(mktemp -d "$C/pair.XXXXXX") || fail "mktemp in $C"
	decompress "$BOOT/initrd.img-$KVER" >"$x.cpio" || fail "initramfs does not decompress"
	(cd "$x" && cpio -idm --quiet <"$x.cpio") || fail "initramfs is not a cpio"
	fs=$(conf_value "$x/etc/initoverlayfs.conf" fs)
	img=$BOOT/$(basename "$fs")
	[ "$fs" = "$BOOT/$(basename "$fs")" ] || fail "fs $fs not in $BOOT"
	[ -f "$img" ] || fail "initramfs refers to $fs, which is missing"
	check_image_name "$img"
	basename "$img"
}

case_crash() {
	new_case crash
	make_tree "$C/old" OLD
	make_tree "$C/new" NEW
	local args="-f --initramfs-compression zstd,3"
	# the new pair, for reference
	# shellcheck disable=SC2086
	iofs $args --source "$C/new" >/dev/null
	sha256sum "$BOOT/initrd.img-$KVER" | cut -d' ' -f1 >"$C/new.sum"
	local new_img old_img
	new_img=$(the_image)
	new_img=${new_img##*/}
	rm -rf "${BOOT:?}"/* "${C:?}"/tmp/*
	# shellcheck disable=SC2086
	iofs $args --source "$C/old" >/dev/null
	old_img=$(the_image)
	old_img=${old_img##*/}
	[ "$old_img" != "$new_img" ] || fail "old and new images are the same"
	mkdir "$C/oldpair" && cp -a "$BOOT/." "$C/oldpair/"
	local step rc got phase=old
	for step in $("$INSTALL" --list-steps); do
		rm -rf "$BOOT" "$C"/tmp/* && cp -a "$C/oldpair" "$BOOT"
		set +e
		# shellcheck disable=SC2086
		INITOVERLAYFS_INSTALL_CRASH_AT=$step iofs $args --source "$C/new" >/dev/null 2>&1
		rc=$?
		set -e
		[ "$rc" -eq 137 ] || fail "$step: exit status $rc, not killed"
		got=$(check_pair)
		[ "$step" = initramfs-renamed ] && phase=new
		if [ $phase = old ]; then
			[ "$got" = "$old_img" ] || fail "$step: initramfs refers to $got, expected old"
			cmp -s "$BOOT/initrd.img-$KVER" "$C/oldpair/initrd.img-$KVER" ||
				fail "$step: old initramfs changed"
		else
			[ "$got" = "$new_img" ] || fail "$step: initramfs refers to $got, expected new"
			[ "$(sha256sum <"$BOOT/initrd.img-$KVER" | cut -d' ' -f1)" = "$(cat "$C/new.sum")" ] ||
				fail "$step: new initramfs is not the complete new one"
		fi
		# what else is there: images and our temporary files only
		find "$BOOT" -mindepth 1 -printf '%P\n' | grep -v -x -e "initrd.img-$KVER" \
			-e "initoverlayfs-$KVER-[0-9a-f]\{16\}.img" \
			-e "\.initoverlayfs-$KVER\.img\.[A-Za-z0-9]\{6\}" \
			-e "\.initrd\.img-$KVER\.[A-Za-z0-9]\{6\}" && fail "$step: unexpected files"
		[ "$(find "$BOOT" -name 'initoverlayfs-*.img' | wc -l)" -le 2 ] || fail "$step: images"
		# the next run cleans up: the new pair, nothing else, here or in TMPDIR
		case $step in
		preflight | done) ;; # no work directory yet / any more
		*) [ -n "$(ls -A "$C/tmp")" ] || fail "$step: no work directory left?" ;;
		esac
		# shellcheck disable=SC2086
		iofs $args --source "$C/new" >/dev/null 2>"$C/err" || {
			cat "$C/err"
			fail "$step: the run after the crash failed"
		}
		[ "$(check_pair)" = "$new_img" ] || fail "$step: rerun did not install the new pair"
		[ "$(find "$BOOT" -mindepth 1 | wc -l)" -eq 2 ] ||
			fail "$step: debris after the rerun: $(ls -A "$BOOT")"
		[ -z "$(ls -A "$C/tmp")" ] || fail "$step: work directory left: $(ls -A "$C/tmp")"
		echo "$step: killed ($phase pair intact), rerun clean"
	done
}

# mini_fs INITRAMFS: the fs value of the config the initramfs carries
mini_fs() {
	local d
	d=$(mktemp -d "$WORK/fs.XXXXXX")
	extract_mini "$1" "$d"
	sed -n 's/^fs[ =]"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$d/etc/initoverlayfs.conf"
}

# Stale images: an image of this kernel is removed only once no initramfs in
# the boot directory refers to it. Another kernel's pair is never touched,
# an older pair of this kernel that a second initramfs still boots is kept
# (until that initramfs goes), unreferenced ones (ours, and the original
# initoverlayfs' unhashed one) are removed.
case_stale_referenced() {
	new_case stale
	mkdir -p "$C/src"
	make_tree "$C/src" A
	echo 1 >"$C/src/etc/generation"
	iofs -f --source "$C/src" >/dev/null
	local img1 prefix other=6.0.0-99-other
	img1=$(the_image)
	prefix=$(dirname "$(mini_fs "$BOOT/initrd.img-$KVER")")
	[ "$(mini_fs "$BOOT/initrd.img-$KVER")" = "$prefix/$(basename "$img1")" ] ||
		fail "the mini-initramfs does not name $img1"
	# a second initramfs of the same kernel keeps booting the first pair
	cp "$BOOT/initrd.img-$KVER" "$BOOT/initramfs-$KVER.img"
	# another kernel's pair, referring to its own image
	cp "$img1" "$BOOT/initoverlayfs-$other-00000000000000aa.img"
	mkdir -p "$C/other/etc"
	printf 'fs %s/initoverlayfs-%s-00000000000000aa.img\n' "$prefix" "$other" \
		>"$C/other/etc/initoverlayfs.conf"
	(cd "$C/other" && find . | cpio -o -H newc --quiet) >"$BOOT/initrd.img-$other"
	# unreferenced: a leftover of ours, the original's unhashed image
	echo junk >"$BOOT/initoverlayfs-$KVER-ffffffffffffffff.img"
	echo junk >"$BOOT/initoverlayfs-$KVER.img"
	# a foreign initramfs and garbage in the boot directory refer to nothing
	printf 'not an initramfs' >"$BOOT/initrd.img-garbage"

	echo 2 >"$C/src/etc/generation"
	iofs -f --source "$C/src" >"$C/out2" 2>&1 || { cat "$C/out2"; fail "second run failed"; }
	local img2
	img2=$(find "$BOOT" -maxdepth 1 -name "initoverlayfs-$KVER-*.img" ! -name "$(basename "$img1")")
	[ "$(echo "$img2" | grep -c .)" -eq 1 ] || fail "after the second run: $(ls "$BOOT")"
	[ -e "$img1" ] || fail "$img1, still referred to by initramfs-$KVER.img, was removed"
	assert_contains "$C/out2" "keeping the image $img1"
	[ ! -e "$BOOT/initoverlayfs-$KVER-ffffffffffffffff.img" ] || fail "unreferenced image kept"
	[ ! -e "$BOOT/initoverlayfs-$KVER.img" ] || fail "unreferenced unhashed image kept"
	[ -e "$BOOT/initoverlayfs-$other-00000000000000aa.img" ] || fail "another kernel's image removed"
	[ "$(mini_fs "$BOOT/initrd.img-$KVER")" = "$prefix/$(basename "$img2")" ] ||
		fail "the new mini-initramfs does not name $img2"

	# the original's unhashed image, referred to by its initramfs: kept
	echo orig >"$BOOT/initoverlayfs-$KVER.img"
	mkdir -p "$C/orig/etc"
	printf 'fs %s/initoverlayfs-%s.img\n' "$prefix" "$KVER" >"$C/orig/etc/initoverlayfs.conf"
	(cd "$C/orig" && find . | cpio -o -H newc --quiet) | gzip >"$BOOT/initramfs-orig.img"
	# the second initramfs goes: its image goes with the next run
	rm "$BOOT/initramfs-$KVER.img"
	echo 3 >"$C/src/etc/generation"
	iofs -f --source "$C/src" >/dev/null
	[ ! -e "$img1" ] || fail "$img1 kept though nothing refers to it"
	[ ! -e "$img2" ] || fail "$img2 kept though nothing refers to it"
	[ -e "$BOOT/initoverlayfs-$KVER.img" ] || fail "the original's referenced image removed"
	[ -e "$BOOT/initoverlayfs-$other-00000000000000aa.img" ] || fail "another kernel's image removed"
	[ "$(find "$BOOT" -maxdepth 1 -name "initoverlayfs-$KVER-*.img" | wc -l)" -eq 1 ] ||
		fail "not exactly one hashed image: $(ls "$BOOT")"
}

# Upgrading from the original initoverlayfs (0.99x): its config (init
# mode, tests/data) is kept and used: two warnings, its erofs_compression
# is the image's compression (lz4hc level 11: the image is the one
# mkfs.erofs -zlz4hc,11 makes of the tree, not the default level's), its
# initoverlayfs_init the mode. Its pair (/boot/initramfs-KVER.img naming
# the unhashed /initoverlayfs-KVER.img by the config's default fs) stays
# while that initramfs is installed, and goes once it is replaced. /boot is
# a file system of its own here (a tmpfs), as the original needed.
case_original_upgrade() {
	new_case original
	cp "$HERE/../data/original-init.conf" "$CONF"
	sha256sum "$CONF" >"$C/conf.sum"
	make_tree "$C/src" O
	seq 1 200000 >"$C/src/usr/lib/text"
	mount -t tmpfs -o mode=0755 iofs-original-boot "$BOOT"
	# the case runs in a subshell of its own: its end, failed or not
	trap 'umount "$BOOT"' EXIT
	# the original's pair of this kernel
	mkdir -p "$C/orig/etc" "$C/orig/usr/sbin"
	cp "$CONF" "$C/orig/etc/initoverlayfs.conf"
	cp "$BOOTPROG" "$C/orig/usr/sbin/initoverlayfs"
	(cd "$C/orig" && find . | cpio -o -H newc --quiet) | zstd -q -c >"$BOOT/initramfs-$KVER.img"
	echo "the original's image" >"$BOOT/initoverlayfs-$KVER.img"

	iofs --dry-run --source "$C/src" --output-initramfs "$C/initrd" >"$C/plan" 2>"$C/plan.err"
	cat "$C/plan.err"
	assert_contains "$C/plan" "plan: kernel $KVER, mode init, source directory"
	assert_contains "$C/plan" "    \$ mkfs.erofs -zlz4hc,11 -T0 "

	# kernel-install's way: the mini-initramfs goes to the staging area
	iofs -f --source "$C/src" --output-initramfs "$C/initrd" >"$C/out" 2>"$C/err" ||
		{ cat "$C/out" "$C/err"; fail "install with the original's config failed"; }
	cat "$C/err"
	[ "$(grep -c ': warning: ' "$C/err")" -eq 2 ] || fail "not 2 warnings"
	assert_contains "$C/err" "initoverlayfs-install: warning: $CONF:4: 'initoverlayfs_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the full initrd itself (see --source)"
	assert_contains "$C/err" "initoverlayfs-install: warning: $CONF:5: 'initrd_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the mini-initramfs itself (see --mode)"
	assert_contains "$C/err" "config $CONF: compression lz4hc,11, from the original initoverlayfs' erofs_compression"
	assert_contains "$C/err" "config $CONF: mode init, from the original initoverlayfs' initoverlayfs_init"
	sha256sum -c "$C/conf.sum" >/dev/null || fail "the config file was changed"
	[ -e "$BOOT/initoverlayfs-$KVER.img" ] || fail "the original's image, still referred to, was removed"
	assert_contains "$C/err" "keeping the image $BOOT/initoverlayfs-$KVER.img"

	# the image: lz4hc at level 11
	local img
	img=$(the_image)
	mkfs.erofs -zlz4hc,11 -T0 --all-root -x-1 -U00000000-0000-0000-0000-000000000000 --quiet \
		"$C/want-11.img" "$C/src"
	mkfs.erofs -zlz4hc -T0 --all-root -x-1 -U00000000-0000-0000-0000-000000000000 --quiet \
		"$C/want-default.img" "$C/src"
	cmp -s "$C/want-11.img" "$C/want-default.img" && fail "the tree does not tell the levels apart"
	cmp "$img" "$C/want-11.img" || fail "$img is not mkfs.erofs -zlz4hc,11's image of the tree"
	dump.erofs --path=/usr/lib/text "$img" >"$C/dump" || fail "dump.erofs $img"
	grep -q 'Layout: 3 ' "$C/dump" || fail "usr/lib/text is not compressed: $(cat "$C/dump")"
	dump.erofs -S "$img" | grep -E 'compressed files|compress rate'

	# the mini-initramfs: init mode (the boot program as /init), the
	# config with our keys only
	extract_mini "$C/initrd" "$C/m"
	[ -x "$C/m/init" ] || fail "no /init in the mini-initramfs (mode init)"
	cat "$C/m/etc/initoverlayfs.conf"
	grep -E 'builder|erofs_compression|initoverlayfs_init' "$C/m/etc/initoverlayfs.conf" &&
		fail "the original's keys in the mini-initramfs' config"
	[ "$(conf_value "$C/m/etc/initoverlayfs.conf" bootfs)" = UUID=1a3a6db4-a7c2-43e5-bed5-9385f26c68ff ] ||
		fail bootfs
	[ "$(conf_value "$C/m/etc/initoverlayfs.conf" bootfs_hint)" = /dev/vda1 ] || fail bootfs_hint
	[ "$(conf_value "$C/m/etc/initoverlayfs.conf" compression)" = lz4hc,11 ] || fail compression
	[ "$(conf_value "$C/m/etc/initoverlayfs.conf" fs)" = "/$(basename "$img")" ] || fail fs

	# the original's initramfs replaced: its image goes
	iofs -f --source "$C/src" --output-initramfs "$BOOT/initramfs-$KVER.img" >"$C/out2" 2>&1 ||
		{ cat "$C/out2"; fail "second install failed"; }
	[ ! -e "$BOOT/initoverlayfs-$KVER.img" ] || fail "the original's image kept, nothing refers to it"
	assert_contains "$C/out2" "removing the stale image $BOOT/initoverlayfs-$KVER.img"
	[ "$(the_image)" = "$img" ] || fail "the same tree gave another image"
}

# Both compression keys in the config: refused, the boot dir untouched.
case_original_both_compressions() {
	new_case both
	printf 'bootfs UUID=%s\ncompression lz4\nerofs_compression -zlz4hc,11\n' "$FAKE_UUID" >"$CONF"
	make_tree "$C/src" B
	expect_error "config $CONF: both 'compression' and the original initoverlayfs' 'erofs_compression' are set: keep one" \
		iofs -f --source "$C/src"
	[ -z "$(ls -A "$BOOT")" ] || fail "boot dir touched"
}

# make_system DIR KERNEL: the tree of a system that is not this one, as an
# image build has it: usr-merged, the boot program and its libraries (the
# host's, libblkid marked so that the copy shows whose it is), the host
# kernel's modules under the name KERNEL (hard links: the same bytes, a
# release this system does not run), /boot a plain directory, no config.
make_system() {
	local d=$1 lib
	mkdir -p "$d/usr/lib" "$d/usr/lib64" "$d/usr/sbin" "$d/usr/bin" "$d/etc/initramfs-tools" \
		"$d/boot" "$d/proc" "$d/dev" "$d/tmp" "$d/usr/lib/modules"
	ln -s usr/lib "$d/lib"
	ln -s usr/lib64 "$d/lib64"
	ln -s usr/sbin "$d/sbin"
	ln -s usr/bin "$d/bin"
	cp "$BOOTPROG" "$d/usr/sbin/initoverlayfs"
	ldd "$BOOTPROG" | awk '/=>/ { print $3 } /^\t\// { print $1 }' | while read -r lib; do
		mkdir -p "$d/usr$(dirname "${lib#/usr}")"
		cp "$lib" "$d/usr${lib#/usr}"
	done
	lib=$(find "$d/usr/lib" -name 'libblkid.so.1' | head -n 1)
	[ -n "$lib" ] || return 1
	echo "iofs-tree-libblkid" >>"$lib"
	cp -al "$MODDIR" "$d/usr/lib/modules/$2" 2>/dev/null || cp -a "$MODDIR" "$d/usr/lib/modules/$2"
}

# iofs_root DIR ARGS: the installer for the system whose root is DIR
iofs_root() {
	local d=$1
	shift
	"$INSTALL" --root "$d" "$@"
}

# The pair of a system that is not the running one (an image build): the
# kernel, boot program, libraries, config and /boot all from the tree,
# bootfs and the layout given, nothing probed from the host.
case_root() {
	new_case root
	local sys=$C/sys tk=0.0.0-iofs-tree img ref host_conf
	make_system "$sys" "$tk" || fail "cannot make the tree"
	make_tree "$C/src" R
	BOOT=$sys/boot
	host_conf=$(sha256sum /etc/initoverlayfs.conf 2>/dev/null || echo none)
	iofs_root "$sys" --boot-layout separate --bootfs LABEL=iofs-boot --bootfstype ext4 \
		--source "$C/src" >"$C/out"
	cat "$C/out"
	if grep -qF " $C/" /proc/self/mountinfo; then fail "mounts left behind in $C"; fi
	[ "$(sha256sum /etc/initoverlayfs.conf 2>/dev/null || echo none)" = "$host_conf" ] ||
		fail "the host's config changed"
	# the tree's one kernel, initramfs-tools' name (its /etc/initramfs-tools)
	[ -s "$BOOT/initrd.img-$tk" ] || fail "no $BOOT/initrd.img-$tk"
	img=$(find "$BOOT" -maxdepth 1 -name "initoverlayfs-$tk-*.img")
	[ "$(echo "$img" | grep -c .)" -eq 1 ] || fail "expected one image of $tk in $BOOT: $img"
	[ "$(basename "$img")" = "initoverlayfs-$tk-$(sha256sum "$img" | cut -c1-16).img" ] ||
		fail "$img: name does not match its content"
	check_private "$img" "$BOOT/initrd.img-$tk"
	manifest "$C/src" >"$C/src.manifest"
	image_manifest "$img" >"$C/img.manifest"
	diff -u "$C/src.manifest" "$C/img.manifest" || fail "image differs from the directory"
	# the tree's config, written from the options
	assert_contains "$sys/etc/initoverlayfs.conf" "bootfs LABEL=iofs-boot"
	assert_contains "$sys/etc/initoverlayfs.conf" "boot_layout separate"
	# the mini-initramfs: the image at the top of the boot file system
	local x=$C/mini
	extract_mini "$BOOT/initrd.img-$tk" "$x"
	ref=$(conf_value "$x/etc/initoverlayfs.conf" fs)
	[ "$ref" = "/$(basename "$img")" ] || fail "fs $ref, expected /$(basename "$img")"
	[ "$(conf_value "$x/etc/initoverlayfs.conf" bootfs)" = LABEL=iofs-boot ] ||
		fail "bootfs $(conf_value "$x/etc/initoverlayfs.conf" bootfs)"
	[ "$(conf_value "$x/etc/initoverlayfs.conf" bootfstype)" = ext4 ] || fail "bootfstype"
	cmp -s "$x/init" "$sys/usr/sbin/initoverlayfs" || fail "/init is not the tree's boot program"
	# the tree's libraries, the tree's kernel's modules
	tail -n 1 "$(find "$x" -name libblkid.so.1 | head -n 1)" | grep -qx iofs-tree-libblkid ||
		fail "libblkid is not the tree's"
	[ -d "$x/lib/modules/$tk" ] || fail "no modules of the tree's kernel $tk"
	[ ! -e "$x/lib/modules/$KVER" ] || fail "the host kernel's modules are in"
	find "$x/lib/modules/$tk" -name '*.ko*' -printf '%P\n' | LC_ALL=C sort >"$C/kos"
	# shellcheck disable=SC2086 # a list
	oracle_modules $ROOT_MODULES >"$C/oracle"
	diff -u "$C/oracle" "$C/kos" || fail "module set differs from modprobe --show-depends"
	chroot "$x" /init --version >/dev/null 2>&1 || fail "/init does not run inside the mini-initramfs"

	echo "--- reproducible: the same tree gives the same bytes"
	(cd "$BOOT" && sha256sum initrd.img-$tk initoverlayfs-*.img) >"$C/sums1"
	iofs_root "$sys" --boot-layout separate --bootfs LABEL=iofs-boot --bootfstype ext4 \
		--source "$C/src" -f >/dev/null
	(cd "$BOOT" && sha256sum initrd.img-$tk initoverlayfs-*.img) | diff -u "$C/sums1" - ||
		fail "a second run gave other bytes"

	echo "--- layout root: the image under /boot of the root file system"
	iofs_root "$sys" --boot-layout root --bootfstype ext4 --source "$C/src" -f \
		-o "$C/root-layout.img" >/dev/null
	extract_mini "$C/root-layout.img" "$C/mini-root"
	[ "$(conf_value "$C/mini-root/etc/initoverlayfs.conf" fs)" = "/boot/$(basename "$img")" ] ||
		fail "layout root: fs $(conf_value "$C/mini-root/etc/initoverlayfs.conf" fs)"
	if grep -qF " $C/" /proc/self/mountinfo; then fail "mounts left behind in $C"; fi
}

# Each thing --root cannot find in the tree: one line naming the option.
case_root_errors() {
	new_case root-errors
	local sys=$C/sys tk=0.0.0-iofs-tree
	make_system "$sys" "$tk" || fail "cannot make the tree"
	make_tree "$C/src" Q
	BOOT=$sys/boot
	echo "--- /boot a plain directory, no layout"
	expect_error "whether $sys/boot is a file system of its own is not known; give --boot-layout" \
		iofs_root "$sys" --bootfs LABEL=b --bootfstype ext4 --source "$C/src"
	echo "--- no modules of the kernel named"
	expect_error "kernel modules of 0.0.0-absent: $sys/lib/modules/0.0.0-absent: .*--kver" \
		iofs_root "$sys" --kver 0.0.0-absent --boot-layout separate --bootfs LABEL=b \
		--bootfstype ext4 --source "$C/src"
	echo "--- no generator in the tree"
	expect_error "no initrd generator in the tree (neither dracut nor mkinitramfs).*--source" \
		iofs_root "$sys" --boot-layout separate --bootfs LABEL=b --bootfstype ext4
	echo "--- no bootfs"
	expect_error "the tree has no config /.*; give --bootfs" \
		iofs_root "$sys" --boot-layout separate --bootfstype ext4 --source "$C/src"
	echo "--- no bootfstype"
	expect_error "type is not known; give --bootfstype" \
		iofs_root "$sys" --boot-layout separate --bootfs LABEL=b --source "$C/src"
	echo "--- two kernels: no guess"
	mkdir "$sys/usr/lib/modules/0.0.1-other"
	expect_error "2 kernels in its /lib/modules; name one with --kver" \
		iofs_root "$sys" --boot-layout separate --bootfs LABEL=b --bootfstype ext4 \
		--source "$C/src"
	echo "--- the boot program of the tree"
	rmdir "$sys/usr/lib/modules/0.0.1-other"
	rm "$sys/usr/sbin/initoverlayfs"
	expect_error "boot program /usr/sbin/initoverlayfs in the tree $sys: .*--boot-program" \
		iofs_root "$sys" --boot-layout separate --bootfs LABEL=b --bootfstype ext4 \
		--source "$C/src"
	[ ! -e "$sys/etc/initoverlayfs.conf" ] || fail "a failed run wrote the tree's config"
	echo "--- this system, no mount table (a chroot without /proc), no layout"
	BOOT=$C/boot
	expect_error "cannot find the file system of $BOOT (No such file or directory); give --boot-layout" \
		unshare -m sh -c 'mount -t tmpfs none /proc && exec "$@"' sh \
		"$INSTALL" --kver "$KVER" --boot-program "$BOOTPROG" --boot-dir "$BOOT" \
		--config "$CONF" --source "$C/src"
}

run_case help case_help
run_case source-dracut case_source_dracut
run_case dracut-image case_dracut_image
run_case initramfs-tools-image case_initramfs_tools_image
run_case source-initramfs-tools case_source_initramfs_tools
run_case directory case_directory
run_case hostonly case_hostonly
run_case segments case_segments
run_case config-generated case_config_generated
run_case config-kept case_config_kept
run_case dry-run case_dry_run
run_case errors case_errors
run_case crash case_crash
run_case stale-referenced case_stale_referenced
run_case original-upgrade case_original_upgrade
run_case original-both-compressions case_original_both_compressions
run_case root case_root
run_case root-errors case_root_errors

if [ -f "$WORK/dracut-sizes" ]; then
	echo "sizes (dracut source, $KVER): $(cat "$WORK/dracut-sizes")"
fi
runner_summary install
