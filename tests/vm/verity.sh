#!/bin/bash
# shellcheck disable=SC2153 # CASE: set by vm_cases_run (lib.sh) per case
# dm-verity of the image, in QEMU (TCG) with Debian's kernel, which has
# dm-verity (the host kernel of this machine has no device-mapper at all,
# so the real dm-verity cases cannot run in a host mount namespace).
#
# Boots (VM_JOBS at a time):
#   vm-verity-pair-boots        a pair made with --verity boots to the root
#                               marker; the "verity:" step line is logged
#   vm-plain-pair-boots         the same pair kind without --verity (the
#                               reference for the timing table)
#   vm-verity-tampered-refused  the --verity pair with one byte of
#                               /bin/busybox (what the full initrd's /init
#                               runs) flipped in the image on the boot
#                               filesystem: the kernel reports the corrupt
#                               block, initoverlayfs its one error line and
#                               reboots; the tampered content never runs
#   vm-verity-guest-cases       one boot running the boot program in
#                               --systemd --root mode against a small image
#                               for each of the guest-* cases below, with
#                               dmsetup to check that no device is left
# and, without a boot, vm-verity-mini-has-modules: the --verity
# mini-initramfs holds dm-verity and its dependencies for that kernel.
#
# Usage: tests/vm/verity.sh INSTALLER BOOT_PROGRAM   (root)
# Logs stay in $VM_WORK/verity/ (default tests/vm/work/verity).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

die() {
	echo "vm-verity: setup failed: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 INSTALLER BOOT_PROGRAM"
INSTALLER=$(realpath "$1") || die "no installer $1"
BOOT_PROGRAM=$(realpath "$2") || die "no boot program $2"
{ [ -x "$INSTALLER" ] && [ -x "$BOOT_PROGRAM" ]; } || die "build the programs first"

vm_tier_setup verity || die "cannot set up the work directory"
ROOT_UUID=2b0e6c1e-8f4a-4a51-9d3c-6f1f0d7a1001
BOOT_UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
ERR="initoverlayfs: error:"
TIMEOUT=90

vm_need_cmd qemu-system-x86_64 timeout mkfs.ext4 mkfs.erofs dump.erofs veritysetup dmsetup \
	cpio gzip zstd busybox perl ldd || die "missing host tools"
KREL=$(vm_kernel_release) || die "no bootable kernel"
# shellcheck disable=SC2034 # read by vm_boot_case (lib.sh)
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"
TMPDIR=$(mktemp -d /var/tmp/initoverlayfs-vm-verity.XXXXXX) || die "mktemp"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

# flip_byte FILE OFFSET: invert one byte in place.
flip_byte() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!";
		binmode $f; seek($f, $ARGV[1], 0) or die; read($f, my $b, 1) == 1 or die "short";
		seek($f, $ARGV[1], 0) or die; print $f chr(ord($b) ^ 0xff); close $f or die' "$1" "$2"
}

# first_extent IMAGE PATH: physical byte offset of the first extent of
# PATH in the EROFS image (dump.erofs -e).
first_extent() {
	dump.erofs --path="$2" -e "$1" |
		awk '$1 == "0:" { for (i = 1; i <= NF; i++) if ($i == ":") { print $(i + 1); exit } }' |
		sed 's/\.\..*//'
}

# ------------------------------------------------------------- inputs

# make_pair NAME [INSTALLER OPTION...]: the pair in $IN/NAME (boot dir,
# mini.img), its image path in $IN/NAME/image, its 'fs' in $IN/NAME/fs.
make_pair() {
	local d=$IN/$1 fs
	shift
	mkdir -p "$d/boot" || return 1
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$d/conf" || return 1
	"$INSTALLER" --kver "$KREL" --source "$IN/initrd-tree" --boot-dir "$d/boot" \
		--config "$d/conf" --output-initramfs "$d/mini.img" --initramfs-compression zstd,3 \
		--boot-program "$BOOT_PROGRAM" -f "$@" >"$d/install.out" 2>"$d/install.err" ||
		{ cat "$d/install.out" "$d/install.err" >&2; return 1; }
	ls "$d"/boot/initoverlayfs-"$KREL"-*.img >"$d/image" || return 1
	fs=$(zstd -dc "$d/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf |
		sed -n 's/^fs //p') || return 1
	echo "$fs" >"$d/fs"
}

# The image for the guest cases: uncompressed, no inline data, so that
# victim.bin's 8 KiB are whole blocks with a pattern easy to find.
make_guest_image() {
	local t=$IN/gimage-tree img=$IN/g.img size out
	mkdir -p "$t/data" || return 1
	for _ in $(seq 1 683); do printf 'IOFS-VICTIM-'; done | head -c 8192 >"$t/data/victim.bin"
	echo "other file ok" >"$t/data/other.txt"
	head -c 65536 /dev/zero | tr '\0' 'z' >"$t/data/big.bin"
	mkdir -p "$t/sbin" && cp /bin/busybox "$t/sbin/init" || return 1
	mkfs.erofs -x-1 -T0 --all-root -E noinline_data --quiet "$img" "$t" || return 1
	size=$(stat -c %s "$img")
	out=$(veritysetup format --no-superblock --hash=sha256 --data-block-size=4096 \
		--hash-block-size=4096 --data-blocks=$((size / 4096)) --hash-offset="$size" \
		--salt=0123456789abcdef "$img" "$img") || return 1
	{
		echo "ROOTHASH=$(sed -n 's/^Root hash:[[:space:]]*//p' <<<"$out")"
		echo "SALT=0123456789abcdef"
		echo "OFFSET=$size"
		echo "BLOCKS=$((size / 4096))"
		echo "WRONG=$(printf '%064d' 0)"
	} >"$IN/g.params" || return 1
	grep -q '^ROOTHASH=[0-9a-f]\{64\}$' "$IN/g.params" || return 1
	VICTIM_OFF=$(grep -obUa 'IOFS-VICTIM-' "$img" | head -n 1 | cut -d: -f1)
	[ -n "$VICTIM_OFF" ] && [ "$VICTIM_OFF" -lt "$size" ] || return 1
	echo "VICTIM_BLOCK=$((VICTIM_OFF / 4096))" >>"$IN/g.params"
	cp "$img" "$IN/g-tampered.img" && flip_byte "$IN/g-tampered.img" $((VICTIM_OFF + 100))
}

# copy_program ROOT FILE: FILE and its shared libraries into ROOT.
copy_program() {
	local root=$1 prog=$2 lib
	mkdir -p "$root$(dirname "$prog")" && cp -L "$prog" "$root$prog" || return 1
	for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
}

make_guest_initramfs() {
	local t=$IN/guest
	vm_busybox_tree "$t" "${VM_BUSYBOX_APPLETS[@]}" cp rm wc cmp ln dd tee true false ls \
		losetup || return 1
	copy_program "$t" "$BOOT_PROGRAM" || return 1
	mv "$t$BOOT_PROGRAM" "$t/bin/initoverlayfs" || return 1
	copy_program "$t" "$(command -v dmsetup)" || return 1
	vm_copy_modules "$KREL" "$t" loop erofs overlay dm-verity || return 1
	mkdir -p "$t/t" && cp "$IN/g.img" "$IN/g-tampered.img" "$IN/g.params" "$t/t/" || return 1
	cp "$HERE/verity-guest.sh" "$t/init" && chmod 0755 "$t/init" || return 1
	vm_make_cpio_gz "$t" "$IN/guest.cpio.gz"
}

build_inputs() {
	local off
	vm_write_busybox_initrd "$IN/initrd-tree" || die "busybox full initrd"
	vm_make_rootfs "$IN/root.img" "$ROOT_UUID" iofsroot || die "root image"
	make_pair verity --verity >"$IN/pair-verity.log" 2>&1 &
	make_pair plain >"$IN/pair-plain.log" 2>&1 &
	make_guest_image || die "guest image"
	make_guest_initramfs || die "guest initramfs"
	wait
	[ -s "$IN/verity/fs" ] || { cat "$IN/pair-verity.log"; die "pair verity"; }
	[ -s "$IN/plain/fs" ] || { cat "$IN/pair-plain.log"; die "pair plain"; }
	vm_make_bootfs "$IN/bootfs.img" "$BOOT_UUID" iofsboot \
		"$(cat "$IN/verity/image"):$(cat "$IN/verity/fs")" \
		"$(cat "$IN/plain/image"):$(cat "$IN/plain/fs")" || die "bootfs"

	# One byte of /bin/busybox, in its first (compressed) block: the
	# first page the kernel reads when it executes the initrd's /init.
	cp "$(cat "$IN/verity/image")" "$IN/tampered.img" || die "copy image"
	off=$(first_extent "$IN/tampered.img" /bin/busybox)
	[ -n "$off" ] || die "no extent of /bin/busybox in the image"
	flip_byte "$IN/tampered.img" $((off + 200)) || die "flip byte"
	echo $((off + 200)) >"$IN/tampered.offset"
	vm_make_bootfs "$IN/bootfs-tampered.img" "$BOOT_UUID" iofsboot \
		"$IN/tampered.img:$(cat "$IN/verity/fs")" || die "tampered bootfs"
}

# ------------------------------------------------------------- helpers

# step_us LOG STEP: the microseconds of "initoverlayfs: STEP: ... (N us)".
step_us() {
	vm_log_plain "$1" | sed -n "s/^initoverlayfs: $2: .* (\([0-9]*\) us)\$/\1/p" | head -n 1
}

# note_step_times LOG: marker uptime and the steps verity changes, for the
# times table (verity vs plain pair).
note_step_times() {
	vm_case_note "marker at $(vm_marker_field "$1" uptime) s, verity step $(step_us "$1" verity) us," \
		"mount image $(step_us "$1" "mount image") us, load modules $(step_us "$1" "load modules") us"
}


# ------------------------------------------------------------- cases

case_mini_has_modules() {
	local list
	list=$(zstd -dc "$IN/verity/mini.img" | cpio -t --quiet) || fail "cpio -t"
	for m in dm-verity dm-bufio dm-mod reed_solomon loop erofs overlay; do
		modprobe -S "$KREL" --show-depends "$m" | grep -q '^builtin ' && continue
		grep -q "^lib/modules/$KREL/.*/$m\.ko" <<<"$list" || fail "no $m.ko in the --verity mini-initramfs"
	done
	# and its config carries the root hash, never the boot filesystem alone
	zstd -dc "$IN/verity/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf >"$IN/verity/mini.conf"
	grep -q '^verity_roothash [0-9a-f]\{64\}$' "$IN/verity/mini.conf" || fail "no root hash in the config"
	! grep -q verity "$IN/verity/conf" || fail "the host config got verity keys"
	echo "modules and root hash present"
}

case_verity_pair_boots() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/verity/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" "$ERR"
	vm_assert_log_has "$log" "initoverlayfs: verity: /dev/dm-0 (initoverlayfs) over /dev/loop0: sha256 "
	vm_assert_log_has "$log" "initoverlayfs: mount image: /boot$(cat "$IN/verity/fs") on /initrofs (erofs, verity /dev/dm-0 over loop /dev/loop0, removed once unmounted)"
	vm_assert_log_has "$log" "IOFS-INITRD: started as /init on  / overlay "
	vm_assert_log_lacks "$log" "is corrupted"
	note_step_times "$log"
}

case_plain_pair_boots() {
	local log=$LOGS/$CASE.log
	vm_boot_case "$CASE" -i "$IN/plain/mini.img" -d "$IN/root.img" -d "$IN/bootfs.img" -t "$TIMEOUT" \
		-a "root=UUID=$ROOT_UUID ro"
	vm_assert_booted "$log"
	vm_assert_log_lacks "$log" "$ERR"
	vm_assert_log_has "$log" "initoverlayfs: verity: no verity_roothash configured, image not verified"
	note_step_times "$log"
}

case_verity_tampered_refused() {
	local log=$LOGS/$CASE.log n
	vm_boot_case "$CASE" -i "$IN/verity/mini.img" -d "$IN/root.img" -d "$IN/bootfs-tampered.img" \
		-t "$TIMEOUT" -a "root=UUID=$ROOT_UUID ro"
	vm_assert_no_panic "$log"
	grep -qx 'timed_out=0' "$log.result" || fail "VM timed out"
	vm_assert_log_lacks "$log" "$VM_MARKER "
	vm_assert_log_lacks "$log" "IOFS-INITRD: started"
	# the setup itself was fine: only the tampered block fails, when read
	vm_assert_log_has "$log" "initoverlayfs: verity: /dev/dm-0 (initoverlayfs) over /dev/loop0"
	# dm-verity names the data device: the loop device, 7:0
	vm_assert_log_has "$log" "device-mapper: verity: 7:0: data block $(($(cat "$IN/tampered.offset") / 4096)) is corrupted"
	# exec fails; the fallback's /bin/sh is the image's (tampered) busybox
	# too, so it fails the same way, and the machine reboots
	for l in "exec next init: /init: Input/output error (EIO)" \
		"starting emergency shell /bin/sh" \
		"emergency shell: /bin/sh: Input/output error (EIO)" \
		"no emergency shell (/bin/sh), rebooting in 10 s"; do
		vm_log_plain "$log" | grep -qxF "$ERR $l" || fail "no line '$ERR $l'"
	done
	n=$(vm_log_count "$log" "$ERR")
	[ "$n" = 4 ] || fail "$n '$ERR' lines, expected the 4 above"
	vm_assert_log_has "$log" "reboot: Restarting system"
	vm_case_note "corrupt block at $(vm_kmsg_time "$log" "is corrupted") s, reboot at $(vm_kmsg_time "$log" "reboot: Restarting system") s"
}

GUEST_CASES=(guest-verified-mount-reads guest-tampered-block-eio guest-wrong-roothash-refused
	guest-cmdline-cannot-clear-roothash guest-cmdline-cannot-change-roothash
	guest-cmdline-override-allowed guest-on-corruption-restart-in-table
	guest-on-corruption-panic-in-table guest-no-device-left)

case_guest_cases() {
	local log=$LOGS/$CASE.log c
	vm_boot_case "$CASE" -i "$IN/guest.cpio.gz" -t "$TIMEOUT" -a "quiet"
	vm_assert_no_panic "$log"
	vm_assert_log_has "$log" "GUEST-CASES-DONE"
	for c in "${GUEST_CASES[@]}"; do
		vm_log_has "$log" "GCASE $c PASS" || {
			vm_log_clean "$log" | grep -F "[$c]" | sed 's/^/    /'
			vm_log_clean "$log" | grep -F "GCASE $c " | sed 's/^/    /'
			fail "guest case $c did not pass"
		}
	done
	vm_case_note "$(vm_log_count "$log" "PASS") guest cases passed"
}

# ------------------------------------------------------------- run

CASES=(
	"vm-verity-guest-cases case_guest_cases"
	"vm-verity-tampered-refused case_verity_tampered_refused"
	"vm-verity-pair-boots case_verity_pair_boots"
	"vm-plain-pair-boots case_plain_pair_boots"
)

echo "vm-verity: kernel $KREL, work $WORK, $VM_JOBS VMs at a time"
build_inputs
echo "vm-verity: inputs ready after $(($(date +%s) - T_START)) s"
run_case vm-verity-mini-has-modules case_mini_has_modules

# VM_VERITY_ONLY=NAME: just that boot (to work on one case)
VM_CASES_ONLY=${VM_VERITY_ONLY:-} vm_cases_run "$WORK/results" "${CASES[@]}"
VM_CASES_ONLY=${VM_VERITY_ONLY:-} vm_cases_report "$WORK/results" vm-verity "${CASES[@]}"
if [ -f "$LOGS/vm-verity-guest-cases.log" ]; then
	echo "vm-verity: guest cases:"
	vm_log_clean "$LOGS/vm-verity-guest-cases.log" | grep '^GCASE ' | sed 's/^/  /'
fi
echo "vm-verity: image sizes: verity $(stat -c %s "$(cat "$IN/verity/image")") bytes," \
	"plain $(stat -c %s "$(cat "$IN/plain/image")") bytes"
echo "vm-verity: total $(($(date +%s) - T_START)) s"
runner_summary vm-verity
