#!/bin/bash
# Command line behaviour of the boot program outside of a boot: --help,
# --version, --check-config, --print-mount-points and usage errors; and the
# installer's tables and answers the shell hooks ask for (--print-modules,
# --print-compressions, --print-image-ref). No root needed.
#
# Usage: tests/cli/run.sh [PROGRAM [INSTALLER]]
#   defaults: build/initoverlayfs build/initoverlayfs-install
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/runner.sh"

PROGRAM=$(realpath "${1:-build/initoverlayfs}")
INSTALL=$(realpath "${2:-build/initoverlayfs-install}")
WORK=$(mktemp -d /tmp/iofs-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# run ARGS...: the boot program; output in $WORK/out, exit status in $WORK/rc.
run() {
	run_tool "$PROGRAM" "$@"
}

# run_install ARGS...: the same with the installer.
run_install() {
	run_tool "$INSTALL" "$@"
}

run_tool() {
	rc=0
	"$@" >"$WORK/out" 2>&1 || rc=$?
	echo "$rc" >"$WORK/rc"
	cat "$WORK/out"
}

expect_rc() {
	[ "$(cat "$WORK/rc")" = "$1" ] || fail "exit status $(cat "$WORK/rc"), expected $1"
}

case_upstream_config() {
	printf 'bootfs UUID=0d3c7e6a-1b2c-4d5e-8f90-a1b2c3d4e5f6\nbootfstype ext4\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "bootfs UUID=0d3c7e6a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	assert_contains "$WORK/out" "bootfstype ext4"
	assert_contains "$WORK/out" "fs /initoverlayfs-$(uname -r).img"
	assert_contains "$WORK/out" "fstype erofs"
	assert_contains "$WORK/out" "init /sbin/init"
	assert_contains "$WORK/out" "timeout 30"
	assert_contains "$WORK/out" "# bootfs kind: UUID"
}

case_check_config_output_parses_back() {
	printf 'bootfs=PARTLABEL=boot\nmodules virtio_blk,ext4\ndebug yes\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	cp "$WORK/out" "$WORK/conf2"
	run --check-config "$WORK/conf2"
	expect_rc 0
	cmp "$WORK/out" "$WORK/conf2" || fail "resolved config does not parse back the same"
	assert_contains "$WORK/out" "modules virtio_blk ext4"
	assert_contains "$WORK/out" "debug 1"
}

case_check_config_with_cmdline() {
	printf 'bootfs LABEL=boot\ntimeout 5\n' >"$WORK/conf"
	run --check-config "$WORK/conf" --cmdline 'ro initoverlayfs.timeout=7 initoverlayfs.bootfs="LABEL=my boot" initoverlayfs.debug'
	expect_rc 0
	assert_contains "$WORK/out" "timeout 7"
	assert_contains "$WORK/out" "bootfs LABEL=my boot"
	assert_contains "$WORK/out" "debug 1"
}

case_unknown_key_warns() {
	printf 'fs /x.img\nfuture_key 1\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "warning: $WORK/conf:2: unknown key 'future_key', ignored"
}

# Keys that are not ours warn whatever their value holds; ours keep the
# strict grammar.
case_unknown_key_any_value() {
	printf 'future_key "a" b "c\nnewkey\nfs /x.img\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "warning: $WORK/conf:1: unknown key 'future_key', ignored"
	assert_contains "$WORK/out" "warning: $WORK/conf:2: unknown key 'newkey', ignored"
	assert_contains "$WORK/out" "fs /x.img"
	printf 'fs /x"y.img\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 1
	assert_contains "$WORK/out" "error: $WORK/conf:1: stray quote in value of 'fs'"
}

# The configs the original initoverlayfs (0.99x) writes (tests/data): two
# warnings, exit 0, and the values of the keys we know; erofs_compression
# is the compression, initoverlayfs_init the installer's mode.
original_config_case() {
	local conf=$TOP/tests/data/original-$1.conf warn
	run --check-config "$conf"
	expect_rc 0
	warn="initoverlayfs: warning: $conf"
	grep -c '^initoverlayfs: warning: ' "$WORK/out" | grep -qx 2 || fail "not 2 warnings"
	assert_contains "$WORK/out" "$warn:4: 'initoverlayfs_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the full initrd itself (see --source)"
	assert_contains "$WORK/out" "$warn:5: 'initrd_builder' (a key of the original initoverlayfs) ignored: initoverlayfs-install makes the mini-initramfs itself (see --mode)"
	grep -v '^initoverlayfs: warning: ' "$WORK/out" >"$WORK/resolved"
	grep -q '^# initoverlayfs-install mode' "$WORK/resolved" && [ "$1" = default ] &&
		fail "a mode without initoverlayfs_init"
	cat >"$WORK/want" <<-EOF
		bootfs UUID=1a3a6db4-a7c2-43e5-bed5-9385f26c68ff
		bootfs_hint /dev/vda1
		bootfstype ext4
		fs /initoverlayfs-$(uname -r).img
		fstype erofs
		init /sbin/init
		timeout 30
		modules ""
		image_mount auto
		newroot overlay
		on_failure auto
		debug 0
		compression lz4hc,11
		# bootfs kind: UUID
	EOF
	[ "$1" = init ] && echo "# initoverlayfs-install mode: init (initoverlayfs_init)" >>"$WORK/want"
	diff -u "$WORK/want" "$WORK/resolved" || fail "resolved values of original-$1.conf"
}

case_original_config_default() { original_config_case default; }
case_original_config_init() { original_config_case init; }

# What other configs of the original carry: udev_trigger's command line.
case_original_udev_trigger() {
	printf 'bootfs LABEL=boot\nudev_trigger udevadm trigger --type=devices --action=add --subsystem-match=module --subsystem-match=block --subsystem-match=virtio --subsystem-match=pci --subsystem-match=nvme\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "initoverlayfs: warning: $WORK/conf:2: 'udev_trigger' (a key of the original initoverlayfs) ignored: the boot program loads the devices' modules itself (mode init), udev does (mode systemd)"
	assert_contains "$WORK/out" "bootfs LABEL=boot"
}

# Both compression keys: the boot does not mind (exit 0), the installer
# refuses (a warning says so).
case_both_compressions() {
	printf 'compression lz4\nerofs_compression -zlz4hc,11\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "initoverlayfs: warning: $WORK/conf: both 'compression' and the original initoverlayfs' 'erofs_compression' are set: keep one (initoverlayfs-install refuses it)"
}

case_malformed_config_names_line() {
	printf '# comment\n\nbootfs\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 1
	assert_contains "$WORK/out" "initoverlayfs: error: $WORK/conf:3: missing value for 'bootfs'"
}

case_missing_config() {
	run --check-config "$WORK/nope"
	expect_rc 1
	assert_contains "$WORK/out" "initoverlayfs: error: read config: $WORK/nope: No such file or directory (ENOENT)"
}

case_help_and_version() {
	run --help
	expect_rc 0
	assert_contains "$WORK/out" "Usage: initoverlayfs"
	assert_contains "$WORK/out" "--systemd"
	run --version
	expect_rc 0
	grep -qE '^initoverlayfs [0-9]+\.[0-9]+\.[0-9]+$' "$WORK/out" || fail "bad --version"
}

case_usage_errors() {
	run
	expect_rc 2
	assert_contains "$WORK/out" "not PID 1: use --systemd"
	run --no-such-option
	expect_rc 2
	run --root /tmp
	expect_rc 2
	assert_contains "$WORK/out" "--root only works with --systemd"
	run --systemd --image-mount sideways
	expect_rc 2
	assert_contains "$WORK/out" "'sideways' is not auto, file or loop"
}

# The mount points the hooks create and the initramfs-tools boot script
# moves: the contract of the "KEY PATH" lines.
case_print_mount_points() {
	run --print-mount-points
	expect_rc 0
	printf 'boot /boot\nlower /initrofs\nupper /overlay\nroot /initoverlayfs\n' >"$WORK/want"
	diff -u "$WORK/want" "$WORK/out" || fail "--print-mount-points"
	run --help
	assert_contains "$WORK/out" "--print-mount-points"
	assert_contains "$WORK/out" "root /initoverlayfs"
	assert_contains "$TOP/doc/initoverlayfs.8" 'print\-mount\-points'
}

# One module name a line; 'mount', 'storage' and 'verity' split 'all' (the
# default) between them; what the boot program cannot mount without is in
# 'mount', dm_verity alone in 'verity'. The help's list is what every
# mini-initramfs of the installer gets: mount and storage.
case_print_modules() {
	run_install --print-modules
	expect_rc 0
	cp "$WORK/out" "$WORK/all"
	grep -vxE '[a-z0-9_]+' "$WORK/all" && fail "not one module name a line"
	[ "$(sort "$WORK/all" | uniq -d)" = "" ] || fail "a module is listed twice"
	run_install --print-modules=all
	cmp "$WORK/all" "$WORK/out" || fail "--print-modules=all is not --print-modules"
	run_install --print-modules=mount
	expect_rc 0
	sort "$WORK/out" >"$WORK/mount"
	local m
	for m in loop erofs overlay; do
		grep -qx "$m" "$WORK/mount" || fail "$m is not in --print-modules=mount"
	done
	run_install --print-modules=storage
	expect_rc 0
	sort "$WORK/out" >"$WORK/storage"
	grep -qx virtio_blk "$WORK/storage" || fail "virtio_blk is not in --print-modules=storage"
	[ -z "$(comm -12 "$WORK/mount" "$WORK/storage")" ] || fail "mount and storage overlap"
	run_install --print-modules=verity
	expect_rc 0
	[ "$(cat "$WORK/out")" = dm_verity ] || fail "--print-modules=verity is not dm_verity alone"
	sort "$WORK/mount" "$WORK/storage" "$WORK/out" | cmp - <(sort "$WORK/all") ||
		fail "mount, storage and verity are not all"
	run_install --print-modules=disks
	expect_rc 2
	assert_contains "$WORK/out" \
		"--print-modules=disks: expected 'mount', 'storage', 'verity' or 'all'"
	# the help lists them from the same table; the manual has to be kept
	run_install --help
	assert_contains "$WORK/out" "--print-modules[=SET]"
	tr -s ' \n' ' ' <"$WORK/out" >"$WORK/help.flat"
	assert_contains "$WORK/help.flat" \
		"$(grep -vx dm_verity "$WORK/all" | paste -sd, | sed 's/,/, /g') (--print-modules)"
	while read -r m; do
		grep -qw "$m" "$TOP/doc/initoverlayfs-install.8" ||
			fail "doc/initoverlayfs-install.8 does not name $m"
	done <"$WORK/all"
}

# NAME, magic numbers, decompressor, compressor ('-': not for the
# mini-initramfs), tab separated. Every compressor's output starts with
# one of its magic numbers and its decompressor gives the bytes back (for
# the tools installed: package builds run this tier too; gzip always is).
case_print_compressions() {
	local name magics dec comp m start made=0
	run_install --print-compressions
	expect_rc 0
	cp "$WORK/out" "$WORK/table"
	awk -F '\t' 'NF != 4 || $1 == "" || $2 == "" || $3 == "" || $4 == ""' "$WORK/table" |
		grep . && fail "lines without 4 fields (above)"
	[ "$(cut -f1 "$WORK/table" | sort | uniq -d)" = "" ] || fail "a name is listed twice"
	head -c 100000 /dev/urandom | base64 >"$WORK/sample"
	while IFS=$'\t' read -r name magics dec comp; do
		for m in $magics; do
			echo "$m" | grep -qxE '([0-9a-f]{2}){2,6}' || fail "$name: magic '$m' is not hex"
		done
		[ "$comp" = - ] && continue
		if ! command -v "${comp%% *}" >/dev/null; then
			echo "skipped $name: ${comp%% *} is not installed"
			continue
		fi
		# shellcheck disable=SC2086 # the commands are word lists
		$comp <"$WORK/sample" >"$WORK/sample.$name"
		start=$(od -An -tx1 -N6 "$WORK/sample.$name" | tr -d ' \n')
		for m in $magics; do
			case $start in "$m"*) continue 2 ;; esac
		done
		fail "$name: '$comp' makes $start, none of its magic numbers ($magics)"
	done <"$WORK/table"
	while IFS=$'\t' read -r name magics dec comp; do
		[ -f "$WORK/sample.$name" ] || continue
		# shellcheck disable=SC2086
		$dec <"$WORK/sample.$name" | cmp - "$WORK/sample" || fail "$name: '$dec' does not undo '$comp'"
		made=$((made + 1))
	done <"$WORK/table"
	[ "$made" -gt 0 ] || fail "no compression for the mini-initramfs"
	run_install --help
	assert_contains "$WORK/out" "--print-compressions"
	tr -s ' \n' ' ' <"$WORK/out" >"$WORK/help.flat"
	assert_contains "$WORK/help.flat" "$(cut -f1 "$WORK/table" | paste -sd/)"
	tr -s ' \n' ' ' <"$TOP/doc/initoverlayfs-install.8" >"$WORK/man.flat"
	assert_contains "$WORK/man.flat" \
		"$(cut -f1 "$WORK/table" | paste -sd, | sed 's/,/, /g; s/\(.*\), /\1 or /')"
}

# newc NAME TEXT: one newc cpio entry as the kernel reads it, a regular
# file holding TEXT ('/': a directory); NAME TRAILER!!! ends the archive.
# Written by hand: package builds run this tier, without cpio.
newc() {
	local mode=$((0100644)) size=${#2}
	if [ "$2" = / ]; then
		mode=$((040755))
		size=0
	fi
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		1 "$mode" 0 0 1 0 "$size" 0 0 0 0 $((${#1} + 1)) 0 "$1"
	head -c $(((4 - (110 + ${#1} + 1) % 4) % 4)) /dev/zero
	if [ "$size" -gt 0 ]; then printf '%s' "$2"; fi
	head -c $(((4 - size % 4) % 4)) /dev/zero
}

# initramfs CONF: an initramfs holding /init and, unless CONF is empty,
# etc/initoverlayfs.conf with CONF
initramfs() {
	newc init $'#!/bin/sh\n'
	newc etc /
	if [ -n "$1" ]; then newc etc/initoverlayfs.conf "$1"; fi
	newc 'TRAILER!!!' ''
}

# run_image_ref ARGS...: the installer's --print-image-ref; stdout in
# $WORK/out, stderr in $WORK/err, exit status in $WORK/rc
run_image_ref() {
	rc=0
	"$INSTALL" "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	echo "$rc" >"$WORK/rc"
	cat "$WORK/out" "$WORK/err"
}

# The image a mini-initramfs boots: its config's fs, one line, exit 0; a
# full initrd: nothing on stdout, one line, exit 1; a file that cannot be
# read: its name and the errno, exit 1; usage errors exit 2.
case_print_image_ref() {
	local fs=/initoverlayfs-6.1.0-99-amd64-0123456789abcdef.img
	LC_ALL=C initramfs $'bootfs UUID=0d3c7e6a-1b2c-4d5e-8f90-a1b2c3d4e5f6\nbootfstype ext4\n'"fs $fs"$'\nfstype erofs\n' |
		gzip -c >"$WORK/mini.img"
	run_image_ref --print-image-ref "$WORK/mini.img"
	expect_rc 0
	[ "$(cat "$WORK/out")" = "$fs" ] || fail "stdout is not '$fs'"
	[ ! -s "$WORK/err" ] || fail "stderr is not empty"
	run_image_ref --kver 6.1.0-1-amd64 --print-image-ref="$WORK/mini.img"
	expect_rc 0
	[ "$(cat "$WORK/out")" = "$fs" ] || fail "--kver changed the config's fs"

	# the original initoverlayfs' config has no fs: the default, for --kver
	LC_ALL=C initramfs $'bootfs LABEL=boot\n' >"$WORK/original.img"
	run_image_ref --print-image-ref "$WORK/original.img"
	expect_rc 0
	[ "$(cat "$WORK/out")" = /initoverlayfs-unknown.img ] || fail "default fs without --kver"
	run_image_ref --print-image-ref "$WORK/original.img" --kver 6.1.0-99-amd64
	expect_rc 0
	[ "$(cat "$WORK/out")" = /initoverlayfs-6.1.0-99-amd64.img ] || fail "default fs of --kver"

	LC_ALL=C initramfs '' | gzip -c >"$WORK/full.img"
	run_image_ref --print-image-ref "$WORK/full.img"
	expect_rc 1
	[ ! -s "$WORK/out" ] || fail "a full initrd printed something"
	[ "$(cat "$WORK/err")" = "initoverlayfs-install: error: $WORK/full.img is not an initoverlayfs mini-initramfs (no etc/initoverlayfs.conf in it)" ] ||
		fail "not the one line for a full initrd"

	run_image_ref --print-image-ref "$WORK/nope.img"
	expect_rc 1
	[ ! -s "$WORK/out" ] || fail "a missing file printed something"
	assert_contains "$WORK/err" "initoverlayfs-install: error: --print-image-ref: $WORK/nope.img: No such file or directory (ENOENT)"
	echo 'not an initramfs' >"$WORK/text.img"
	run_image_ref --print-image-ref "$WORK/text.img"
	expect_rc 1
	assert_contains "$WORK/err" "$WORK/text.img: Bad message (EBADMSG)"

	run_image_ref --print-image-ref=
	expect_rc 2
	assert_contains "$WORK/err" "--print-image-ref: expected an initramfs FILE"
	run_image_ref --print-image-ref
	expect_rc 2
	run_image_ref --print-image-ref "$WORK/mini.img" extra
	expect_rc 2
	[ ! -s "$WORK/out" ] || fail "a usage error printed something"

	run_install --help
	assert_contains "$WORK/out" "--print-image-ref FILE"
	assert_contains "$TOP/doc/initoverlayfs-install.8" 'print\-image\-ref'
}

run_case upstream-config case_upstream_config
run_case check-config-output-parses-back case_check_config_output_parses_back
run_case check-config-with-cmdline case_check_config_with_cmdline
run_case unknown-key-warns case_unknown_key_warns
run_case unknown-key-any-value case_unknown_key_any_value
run_case original-config-default case_original_config_default
run_case original-config-init case_original_config_init
run_case original-udev-trigger case_original_udev_trigger
run_case both-compressions case_both_compressions
run_case malformed-config-names-line case_malformed_config_names_line
run_case missing-config case_missing_config
run_case help-and-version case_help_and_version
run_case usage-errors case_usage_errors
run_case print-mount-points case_print_mount_points
run_case print-modules case_print_modules
run_case print-compressions case_print_compressions
run_case print-image-ref case_print_image_ref

runner_summary cli
