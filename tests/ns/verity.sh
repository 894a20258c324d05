#!/bin/bash
# dm-verity on the host (root): initoverlayfs-install --verity and what the
# boot program does with a verity config, against the host kernel inside
# private mount namespaces.
#
# The host kernel here (6.18, CONFIG_MD unset) has no device-mapper at all:
# no /dev/mapper/control, nothing to load. The real dm-verity mounts (read,
# EIO on a flipped byte, wrong root hash, command line override) therefore
# run in QEMU with Debian's kernel (tests/vm/verity.sh). This tier checks
# what the host can show for real: the installer's output verifies with
# veritysetup, is reproducible and crash-safe, the command line policy of
# the real program, and that a verity config never falls back to mounting
# the image unverified when device-mapper is missing. On a host that has
# device-mapper, the last case checks the verified mount instead.
#
# Usage: tests/ns/verity.sh INSTALLER BOOT_PROGRAM
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/runner.sh"

INSTALL=$(realpath "${1:-build/initoverlayfs-install}")
PROGRAM=$(realpath "${2:-build/initoverlayfs}")
WORK=$(mktemp -d /var/tmp/iofs-ns-verity.XXXXXX)
KVER=$(kernel_release) || exit 1
ERR="initoverlayfs: error:"
export TMPDIR=$WORK/tmp

cleanup() {
	rm -rf "$WORK"
}
trap cleanup EXIT

die() {
	echo "ns-verity: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
{ [ -x "$INSTALL" ] && [ -x "$PROGRAM" ]; } || die "build the programs first"
command -v veritysetup >/dev/null || die "veritysetup missing (cryptsetup-bin)"
mkdir -p "$TMPDIR" "$WORK/src/sbin" "$WORK/src/etc" "$WORK/boot" || die "mkdir"
cp /bin/busybox "$WORK/src/sbin/init" || die "busybox"
echo "ID=iofs-verity" >"$WORK/src/etc/os-release"
printf 'bootfs UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\nbootfstype ext4\n' >"$WORK/conf"

# iofs [OPTION...]: the installer into $WORK/boot with the small source.
iofs() {
	"$INSTALL" --kver "$KVER" --source "$WORK/src" --boot-dir "$WORK/boot" \
		--config "$WORK/conf" -o "$WORK/boot/mini.img" --initramfs-compression zstd,3 \
		--boot-program "$PROGRAM" -f "$@"
}

the_image() { ls "$WORK"/boot/initoverlayfs-"$KVER"-*.img; }

# mini_conf: the config inside the mini-initramfs.
mini_conf() {
	zstd -dc "$WORK/boot/mini.img" | cpio -i --quiet --to-stdout etc/initoverlayfs.conf
}

conf_value() { mini_conf | sed -n "s/^$1 //p"; }

case_install_writes_verity_config() {
	iofs --verity >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "installer failed"; }
	cat "$WORK/out"
	assert_contains "$WORK/out" "running: veritysetup format --no-superblock --hash=sha256"
	assert_contains "$WORK/out" "  dm-verity       root hash "
	mini_conf >"$WORK/mini.conf"
	cat "$WORK/mini.conf"
	grep -q '^verity_roothash [0-9a-f]\{64\}$' "$WORK/mini.conf" || fail "no root hash"
	grep -q '^verity_salt [0-9a-f]\{64\}$' "$WORK/mini.conf" || fail "no salt"
	assert_contains "$WORK/mini.conf" "verity_algorithm sha256"
	assert_contains "$WORK/mini.conf" "verity_data_block_size 4096"
	# the host config is the user's: no measurements there
	assert_not_contains "$WORK/conf" verity
	# dm-verity and its dependencies are in the mini-initramfs
	zstd -dc "$WORK/boot/mini.img" | cpio -t --quiet >"$WORK/list"
	for m in dm-verity dm-bufio dm-mod reed_solomon; do
		grep -q "/$m\.ko\$" "$WORK/list" || fail "no $m.ko"
	done
}

# The tree covers the data, sits right after it, and the name covers both.
case_image_layout_verifies() {
	local img size off blocks
	img=$(the_image)
	size=$(stat -c %s "$img")
	off=$(conf_value verity_hash_offset)
	blocks=$(conf_value verity_data_blocks)
	[ "$off" = $((blocks * 4096)) ] || fail "hash offset $off is not the data end $((blocks * 4096))"
	[ "$size" -gt "$off" ] || fail "no tree after the data ($size bytes, offset $off)"
	echo "image $size bytes: data $off, tree $((size - off))"
	# the name's hash is over the whole file, tree included
	case $img in *-"$(sha256sum "$img" | cut -c1-16)".img) ;; *) fail "name does not match the content" ;; esac
	veritysetup verify --no-superblock --hash=sha256 --data-blocks="$blocks" \
		--hash-offset="$off" --salt="$(conf_value verity_salt)" "$img" "$img" \
		"$(conf_value verity_roothash)" || fail "veritysetup verify failed"
	cp "$img" "$WORK/flipped.img"
	printf '\377' | dd of="$WORK/flipped.img" bs=1 seek=$((off / 2)) conv=notrunc status=none
	cmp -s "$img" "$WORK/flipped.img" && printf '\0' |
		dd of="$WORK/flipped.img" bs=1 seek=$((off / 2)) conv=notrunc status=none
	if veritysetup verify --no-superblock --hash=sha256 --data-blocks="$blocks" \
		--hash-offset="$off" --salt="$(conf_value verity_salt)" "$WORK/flipped.img" \
		"$WORK/flipped.img" "$(conf_value verity_roothash)" 2>"$WORK/verr"; then
		fail "a flipped data byte still verifies"
	fi
	cat "$WORK/verr"
	# and the EROFS data itself is untouched by the tree
	head -c "$off" "$img" >"$WORK/data.img"
	fsck.erofs "$WORK/data.img" >/dev/null || fail "fsck.erofs of the data part"
}

case_reproducible() {
	local a b m1 m2
	a=$(sha256sum "$(the_image)" | cut -d' ' -f1)
	m1=$(sha256sum <"$WORK/boot/mini.img")
	iofs --verity >/dev/null 2>&1 || fail "second run"
	b=$(sha256sum "$(the_image)" | cut -d' ' -f1)
	m2=$(sha256sum <"$WORK/boot/mini.img")
	[ "$a" = "$b" ] || fail "image differs between two runs"
	[ "$m1" = "$m2" ] || fail "mini-initramfs differs between two runs"
	[ "$(the_image | wc -l)" = 1 ] || fail "more than one image"
	# --verity-salt: another salt, another root hash and image name
	iofs --verity --verity-salt 00112233 >/dev/null 2>&1 || fail "run with --verity-salt"
	[ "$(conf_value verity_salt)" = 00112233 ] || fail "salt not used"
	[ "$(sha256sum "$(the_image)" | cut -d' ' -f1)" != "$a" ] || fail "same image with another salt"
	iofs --verity >/dev/null 2>&1 || fail "back to the derived salt"
	[ "$(sha256sum "$(the_image)" | cut -d' ' -f1)" = "$a" ] || fail "not back to the same bytes"
}

case_bad_options() {
	local rc=0
	"$INSTALL" --verity-salt 0 -n >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "odd salt: exit $rc"
	assert_contains "$WORK/out" "--verity-salt 0: expected an even number"
	rc=0
	"$INSTALL" --verity-salt 00 --no-verity -n >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "salt with --no-verity: exit $rc"
	assert_contains "$WORK/out" "--verity-salt needs --verity, not --no-verity"
	# without --verity, the config decides: no 'verity yes', nothing to salt
	rc=0
	iofs --verity-salt 00 -n >"$WORK/out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || fail "salt without --verity and no 'verity yes': exit $rc"
	assert_contains "$WORK/out" "--verity-salt: no hash tree to salt (give --verity, or verity yes in $WORK/conf)"
	# 'verity yes' in the config is what --verity is: the salt is taken
	{ cat "$WORK/conf" && echo "verity yes"; } >"$WORK/conf-verity"
	iofs --config "$WORK/conf-verity" --verity-salt 00112233 -n >"$WORK/out" 2>&1 ||
		{ cat "$WORK/out"; fail "salt with 'verity yes'"; }
	assert_contains "$WORK/out" " --salt=00112233 "
	# a dry run shows the command and changes nothing
	local before
	before=$(find "$WORK/boot" -printf '%P %s %T@\n' | sort | md5sum)
	iofs --verity -n >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "dry run"; }
	assert_contains "$WORK/out" "\$ veritysetup format --no-superblock --hash=sha256 --data-block-size=4096 --hash-block-size=4096 '--data-blocks=<image size / 4096>' '--hash-offset=<image size>' '--salt=<sha256 of the image>' $WORK/boot/.initoverlayfs-$KVER.img.XXXXXX $WORK/boot/.initoverlayfs-$KVER.img.XXXXXX"
	[ "$(find "$WORK/boot" -printf '%P %s %T@\n' | sort | md5sum)" = "$before" ] ||
		fail "dry run changed the boot dir"
}

# A crash right after the tree was written: the old pair stays, the
# temporary file is debris the next run removes.
case_crash_at_image_verity() {
	local old rc=0
	old=$(the_image)
	old=${old##*/}
	cp -a "$WORK/boot" "$WORK/boot.old"
	echo "changed" >"$WORK/src/etc/changed"
	INITOVERLAYFS_INSTALL_CRASH_AT=image-verity iofs --verity >/dev/null 2>&1 || rc=$?
	[ "$rc" = 137 ] || fail "exit $rc, not killed"
	[ "$(basename "$(the_image)")" = "$old" ] || fail "image changed"
	cmp -s "$WORK/boot/mini.img" "$WORK/boot.old/mini.img" || fail "mini-initramfs changed"
	[ -n "$(find "$WORK/boot" -maxdepth 1 -name ".initoverlayfs-$KVER.img.*")" ] ||
		fail "no temporary file left (crash too late?)"
	iofs --verity >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "next run"; }
	assert_contains "$WORK/out" "left by an interrupted run"
	[ -z "$(find "$WORK/boot" -maxdepth 1 -name '.*' ! -name .)" ] ||
		fail "debris left: $(ls -A "$WORK/boot")"
	[ "$(basename "$(the_image)")" != "$old" ] || fail "no new image"
	rm "$WORK/src/etc/changed"
}

# The policy through the real program's --check-config.
case_cmdline_policy() {
	local good wrong rc
	good=$(printf '%064d' 1)
	wrong=$(printf '%064d' 2)
	printf 'fs /image.img\nverity_roothash %s\nverity_data_blocks 10\nverity_hash_offset 40960\n' \
		"$good" >"$WORK/p.conf"
	"$PROGRAM" --check-config "$WORK/p.conf" --cmdline \
		"initoverlayfs.verity_roothash=$wrong initoverlayfs.verity_cmdline_override=1 initoverlayfs.timeout=5" \
		>"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "check-config"; }
	cat "$WORK/out"
	assert_contains "$WORK/out" "verity_roothash $good"
	assert_contains "$WORK/out" "timeout 5"
	assert_contains "$WORK/out" "initoverlayfs: warning: kernel command line: initoverlayfs.verity_roothash ignored: the config does not allow the command line to change verity settings (verity_cmdline_override)"
	assert_not_contains "$WORK/out" "verity_cmdline_override 1"
	# "clearing" it is a change too
	"$PROGRAM" --check-config "$WORK/p.conf" --cmdline "initoverlayfs.verity_roothash=" \
		>"$WORK/out" 2>&1 || fail "check-config"
	assert_contains "$WORK/out" "verity_roothash $good"
	# allowed by the config
	echo "verity_cmdline_override yes" >>"$WORK/p.conf"
	"$PROGRAM" --check-config "$WORK/p.conf" --cmdline "initoverlayfs.verity_roothash=$wrong" \
		>"$WORK/out" 2>&1 || fail "check-config with override"
	assert_contains "$WORK/out" "verity_roothash $wrong"
	assert_not_contains "$WORK/out" "ignored"
	# a root hash of the wrong length for the algorithm
	printf 'verity_roothash %s\nverity_algorithm sha1\nverity_data_blocks 1\nverity_hash_offset 4096\n' \
		"$good" >"$WORK/bad.conf"
	rc=0
	"$PROGRAM" --check-config "$WORK/bad.conf" >"$WORK/out" 2>&1 || rc=$?
	cat "$WORK/out"
	[ "$rc" = 1 ] || fail "invalid verity config accepted"
	assert_contains "$WORK/out" "$ERR $WORK/bad.conf: verity_roothash has 64 hex digits, sha1 needs 40"
}

# The boot program with the installer's verity config, image next to it.
case_boot_program_host_kernel() {
	local root=$WORK/root
	mkdir -p "$root/etc"
	cp "$(the_image)" "$root/image.img"
	mini_conf | sed 's|^fs .*|fs /image.img|; s|^bootfs .*|bootfs ""|; /^bootfs_hint/d; /^bootfstype/d' \
		>"$root/etc/initoverlayfs.conf"
	PROGRAM=$PROGRAM unshare -m --propagation private bash -c "
		\"\$PROGRAM\" --systemd --root '$root' --cmdline 'initoverlayfs.image_mount=file' >'$WORK/out' 2>&1
		echo \"exit=\$?\" >>'$WORK/out'
		findmnt -n -o SOURCE,FSTYPE '$root/initrofs' >>'$WORK/out' || echo 'initrofs: not mounted' >>'$WORK/out'
		if [ -e /sys/block/dm-0 ]; then umount -R '$root/initoverlayfs' '$root/initrofs' 2>/dev/null; dmsetup remove initoverlayfs; fi
		true"
	cat "$WORK/out"
	if [ -e /sys/class/misc/device-mapper ] || [ -e /dev/mapper/control ]; then
		# a host with device-mapper: the verified mount works
		assert_contains "$WORK/out" "exit=0"
		assert_contains "$WORK/out" "initoverlayfs: verity: /dev/dm-"
		grep -q '^/dev/dm-[0-9]* *erofs$' "$WORK/out" || fail "not mounted from the dm device"
	else
		assert_contains "$WORK/out" "exit=1"
		grep -qx "$ERR verity: open /dev/mapper/control: initoverlayfs over /dev/loop[0-9]* ($root/image.img): No such device (ENODEV)" "$WORK/out" ||
			fail "no 'verity: open /dev/mapper/control ... (ENODEV)' error line"
		[ "$(grep -c 'error:' "$WORK/out")" = 1 ] || fail "not exactly one error line"
		# no fallback to an unverified mount, file-backed or loop
		assert_contains "$WORK/out" "initrofs: not mounted"
		assert_not_contains "$WORK/out" "mount image:"
	fi
	# the loop device went away with its only user (autoclear)
	! losetup -j "$root/image.img" | grep -q . || fail "loop device left: $(losetup -j "$root/image.img")"
}

run_case ns-verity-install-writes-config case_install_writes_verity_config
run_case ns-verity-image-layout-verifies case_image_layout_verifies
run_case ns-verity-reproducible case_reproducible
run_case ns-verity-bad-options-and-dry-run case_bad_options
run_case ns-verity-crash-at-image-verity case_crash_at_image_verity
run_case ns-verity-cmdline-policy case_cmdline_policy
run_case ns-verity-boot-program-host-kernel case_boot_program_host_kernel

runner_summary ns-verity
