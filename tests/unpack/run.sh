#!/bin/bash
# Hostile archives against the installer's unpacker (root: owners, device
# nodes, tmpfs mounts in private mount namespaces).
#
# Every archive here is one a crafted --source could carry. Each must be
# refused with one clear error line, or extracted safely inside the target
# directory; nothing outside it changes, and no run hangs (each is bounded
# by timeout: a write attempt into a FIFO would hang).
#
# Usage: tests/unpack/run.sh [UNPACK-TOOL]   (default build/unpack-tool)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/runner.sh"

TOOL=$(realpath "${1:-build/unpack-tool}")
WORK=$(mktemp -d /var/tmp/iofs-unpack.XXXXXX)
ERR="unpack-tool: error:"

cleanup() {
	rm -rf "$WORK"
}
trap cleanup EXIT

die() {
	echo "unpack: setup failed: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -x "$TOOL" ] || die "$TOOL is not built"
for t in cpio gzip zstd xz timeout unshare; do
	command -v "$t" >/dev/null || die "$t missing"
done

# ------------------------------------------------------------ archive craft

pad() { head -c "$1" /dev/zero; }

# newc NAME MODE(octal) INO NLINK DATA [RMAJOR RMINOR [NAMESIZE [FILESIZE]]]:
# one newc entry on stdout, header fields as given (the last two override
# the true sizes, for malformed headers).
newc() {
	local name=$1 mode=$((8#$2)) ino=$3 nlink=$4 data=$5
	local rmaj=${6:-0} rmin=${7:-0}
	local namesize=${8:-$((${#1} + 1))} size=${9:-${#5}}
	printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
		"$ino" "$mode" 0 0 "$nlink" 1700000000 "$size" 0 0 "$rmaj" "$rmin" "$namesize" 0
	printf '%s\0' "$name"
	pad $(((4 - (110 + ${#name} + 1) % 4) % 4))
	printf '%s' "$data"
	pad $(((4 - ${#data} % 4) % 4))
}

trailer() { newc 'TRAILER!!!' 0 0 1 ''; }

# ------------------------------------------------------------ checks

# new_case NAME: $C (the case's directory), $T (the target tree) and $OUT
# (outside the tree, with a canary the archive aims at).
new_case() {
	C=$WORK/$1
	T=$C/tree
	OUT=$C/outside
	mkdir -p "$T" "$OUT/dir"
	echo secret >"$OUT/secret"
	chmod 0600 "$OUT/secret"
}

# snapshot: everything about $OUT and the paths around it that an escape
# could touch.
snapshot() {
	find "$OUT" -printf '%p %y %m %U:%G %s %T@ %i\n' | sort
	sha256sum "$OUT/secret"
}

# unpack ARCHIVE: runs the tool, bounded, with stderr in $C/err; the exit
# status in $RC. A time-out (124) is always a failure.
unpack() {
	snapshot >"$C/before"
	RC=0
	timeout 20 "$TOOL" "$1" "$T" >"$C/out" 2>"$C/err" || RC=$?
	cat "$C/err"
	[ "$RC" -ne 124 ] || fail "the unpacker hung on $1"
	snapshot >"$C/after"
	diff -u "$C/before" "$C/after" || fail "something outside the tree changed"
}

# refused TEXT: the run failed with exactly one error line, containing TEXT.
refused() {
	[ "$RC" -eq 1 ] || fail "exit status $RC, expected 1 (refused)"
	[ "$(grep -c . "$C/err")" -eq 1 ] || fail "expected one line on stderr"
	grep -q "^$ERR" "$C/err" || fail "the line is not an error line"
	grep -qF -- "$1" "$C/err" || fail "the error line does not say '$1'"
}

extracted() {
	[ "$RC" -eq 0 ] || fail "exit status $RC, expected success"
	[ ! -s "$C/err" ] || fail "unexpected output on stderr"
}

# ------------------------------------------------------------ cases

# A regular file "hard-linked" to an earlier symlink must not reach (or
# chmod) what the symlink points at.
case_link_to_symlink() {
	new_case link-to-symlink
	{
		newc a 120777 5 2 "$OUT/secret"
		newc b 104777 5 2 x
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	[ -L "$T/a" ] || fail "a is not a symlink"
	if [ ! -f "$T/b" ] || [ -L "$T/b" ]; then fail "b is not a regular file"; fi
	[ "$(stat -c '%a %s' "$T/b")" = "4777 1" ] || fail "b has the wrong mode or size"
	[ "$(stat -c %a "$OUT/secret")" = 600 ] || fail "the target's mode changed"
}

# A regular file linked to an earlier FIFO must not open the FIFO for
# writing (that would hang).
case_link_to_fifo() {
	new_case link-to-fifo
	{
		newc f 010644 7 2 ''
		newc g 100644 7 2 hello
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	[ -p "$T/f" ] || fail "f is not a FIFO"
	# not cat first: a FIFO would block it
	[ -f "$T/g" ] || fail "g is not a regular file"
	[ "$(cat "$T/g")" = hello ] || fail "g does not hold its data"
	[ "$(stat -c %h "$T/g")" = 1 ] || fail "g is linked"
}

# A regular file linked to an earlier device node must not write to the
# device. The node's number (240:0, the local/experimental range) names no
# device here: a write attempt would fail the run with ENXIO.
case_link_to_device() {
	new_case link-to-device
	{
		newc d 020600 9 2 '' 240 0
		newc e 100600 9 2 payload
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	[ -c "$T/d" ] || fail "d is not a character device"
	[ "$(stat -c '%t:%T' "$T/d")" = "f0:0" ] || fail "d has the wrong device number"
	[ "$(cat "$T/e")" = payload ] || fail "e does not hold its data"
}

# Regular files really hard-linked stay one inode; the data (newc puts it
# in the last entry of the group) reaches both names.
case_real_hard_links() {
	new_case real-hard-links
	{
		newc h1 100644 11 2 ''
		newc h2 100644 11 2 shared
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	[ "$(stat -c %i "$T/h1")" = "$(stat -c %i "$T/h2")" ] || fail "h1 and h2 are not linked"
	[ "$(cat "$T/h1")" = shared ] || fail "h1 does not hold the data"
}

# An entry under a symlinked parent must not be written through it.
case_symlinked_parent() {
	new_case symlinked-parent
	{
		newc l 120777 20 1 "$OUT/dir"
		newc l/file 100644 21 1 through
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	[ -z "$(ls -A "$OUT/dir")" ] || fail "a file was written through the symlink"
	if [ "$RC" -eq 0 ]; then
		[ ! -L "$T/l" ] || fail "l is still a symlink"
		[ "$(cat "$T/l/file")" = through ] || fail "l/file is not inside the tree"
	else
		refused "l/file"
	fi
}

# A directory replaced by a symlink, then written through.
case_dir_replaced_by_symlink() {
	new_case dir-replaced-by-symlink
	{
		newc d 040755 30 2 ''
		newc d 120777 31 1 "$OUT/dir"
		newc d/x 100644 32 1 through
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	[ -z "$(ls -A "$OUT/dir")" ] || fail "a file was written through the symlink"
	if [ "$RC" -eq 0 ]; then
		[ ! -L "$T/d" ] || fail "d is still a symlink"
		[ "$(cat "$T/d/x")" = through ] || fail "d/x is not inside the tree"
	else
		refused "d/x"
	fi
}

case_dotdot() {
	new_case dotdot
	{
		newc ok 100644 40 1 fine
		newc "../../outside/escape" 100644 41 1 out
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	refused "unsafe entry name: ../../outside/escape"
	[ ! -e "$OUT/escape" ] || fail "escaped through .."
}

# The kernel puts an absolute name under the initramfs root: so do we.
case_absolute_name() {
	new_case absolute-name
	{
		newc "$OUT/abs" 100644 50 1 inside
		trailer
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	[ ! -e "$OUT/abs" ] || fail "an absolute name was written outside"
	[ "$(cat "$T/$OUT/abs")" = inside ] || fail "the absolute name is not under the tree"
}

case_truncated() {
	new_case truncated
	{
		newc big 100644 60 1 "$(head -c 3000 /dev/zero | tr '\0' x)"
		trailer
	} >"$C/full.cpio"
	head -c 1500 "$C/full.cpio" >"$C/a.cpio"
	unpack "$C/a.cpio"
	refused "truncated archive"
	gzip -c "$C/a.cpio" >"$C/a.gz"
	unpack "$C/a.gz"
	refused "big"
}

case_oversized_headers() {
	new_case oversized-headers
	{
		newc name 100644 70 1 x 0 0 $((0xffffffff))
		trailer
	} >"$C/name.cpio"
	unpack "$C/name.cpio"
	refused "not a newc cpio header"
	# a file size far beyond the data: a truncated archive
	{
		newc size 100644 71 1 x 0 0 "" $((0xfffffff0))
		trailer
	} >"$C/size.cpio"
	unpack "$C/size.cpio"
	refused "truncated archive"
	zstd -q -c "$C/size.cpio" >"$C/size.zst"
	unpack "$C/size.zst"
	refused "size"
	# a symlink target a reader would hold in memory
	{
		newc link 120777 72 1 x 0 0 "" $((0xfffffff0))
	} | gzip -c >"$C/link.gz"
	unpack "$C/link.gz"
	refused "a symlink target over PATH_MAX"
	# a non-hex field libarchive would skip as junk, with a header hidden
	# in the data behind it that claims a 4 GiB name
	{
		newc entry 100644 73 1 "070707$(printf '%070d' 0)77777777777$(printf '%011d' 0)" |
			sed 's/^\(070701\(........\)\{5\}\)......../\1@F33F700/'
		trailer
	} | gzip -c >"$C/nonhex.gz"
	unpack "$C/nonhex.gz"
	refused "not a newc cpio header at +0"
	printf '070701zzzzzzzz' >"$C/bad.cpio"
	head -c 200 /dev/zero >>"$C/bad.cpio"
	unpack "$C/bad.cpio"
	refused "not a newc cpio header"
}

case_junk() {
	new_case junk
	{
		newc f 100644 80 1 x
		trailer
		echo "this is not an archive"
	} >"$C/a.cpio"
	unpack "$C/a.cpio"
	refused "neither a cpio archive nor known compressed data"
	{
		newc f 100644 80 1 x
		trailer
		echo "junk"
	} | gzip -c >"$C/a.gz"
	unpack "$C/a.gz"
	refused "junk at +"
}

# The kernel's semantics: segments each raw or compressed, zero padding
# between them, several archives in one compressed stream, a segment after
# a compressed one, later entries replacing earlier ones. (libarchive's
# zstd, xz and lz4 readers take whatever follows their data for more of
# it: such a segment comes last, as in every dracut and mkinitramfs image.)
case_segments() {
	new_case segments
	{
		newc etc 040755 1 2 ''
		newc etc/seed 100644 2 1 early
		newc etc/gone 100644 3 1 file
		trailer
		pad 512
	} >"$C/a.cpio"
	{
		{
			newc etc/seed 100644 1 1 middle
			newc etc/gone 040700 2 2 ''
			trailer
			pad 12
			newc etc/second 100644 1 1 "second archive"
			trailer
		} | gzip -c
		pad 64
		newc etc/last 100644 1 1 raw
		trailer
		{
			newc etc/seed 100644 1 1 late
			trailer
		} | zstd -q -c
	} >>"$C/a.cpio"
	unpack "$C/a.cpio"
	extracted
	grep -q "segments 5 compression zstd" "$C/out" || fail "expected 5 archives: $(cat "$C/out")"
	[ "$(cat "$T/etc/seed")" = late ] || fail "the last etc/seed did not win"
	[ -d "$T/etc/gone" ] || fail "a directory did not replace a file"
	[ "$(cat "$T/etc/second")" = "second archive" ] || fail "the second archive in gzip was lost"
	[ "$(cat "$T/etc/last")" = raw ] || fail "the segment after gzip was lost"
	[ "$(stat -c %Y "$T/etc/seed")" = 1700000000 ] || fail "mtime not kept"
}

# A decompression bomb must stop before the target's file system fills.
case_bomb() {
	new_case bomb
	mkdir "$C/src"
	for i in $(seq 1 200); do
		truncate -s 1M "$C/src/f$i"
	done
	(cd "$C/src" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -19 -c >"$C/bomb.zst"
	[ "$(stat -c %s "$C/bomb.zst")" -lt 1000000 ] || fail "the bomb is not small"
	# one declared size past anything the file system has
	{
		newc huge 100644 2 1 "" 0 0 "" $((0xffffffff))
	} | gzip -c >"$C/huge.gz"
	cat >"$C/in-tmpfs.sh" <<EOF
set -e
mount -t tmpfs -o size=64m,nr_inodes=1000 tmpfs "$T"
rc=0
timeout 60 "$TOOL" "$C/bomb.zst" "$T" 2>"$C/err.bomb" || rc=\$?
echo "bomb \$rc \$(df -k --output=avail "$T" | tail -n 1)"
rm -rf "$T"/*
rc=0
timeout 60 "$TOOL" "$C/huge.gz" "$T" 2>"$C/err.huge" || rc=\$?
echo "huge \$rc \$(df -k --output=avail "$T" | tail -n 1)"
EOF
	unshare -m bash "$C/in-tmpfs.sh" >"$C/result"
	cat "$C/result" "$C/err.bomb" "$C/err.huge"
	read -r _ rc avail < <(grep '^bomb ' "$C/result")
	[ "$rc" = 1 ] || fail "the bomb was not refused (exit $rc)"
	[ "$avail" -ge $((30 * 1024)) ] || fail "the bomb left only $avail KiB free"
	[ "$(grep -c . "$C/err.bomb")" = 1 ] || fail "the bomb gave more than one line"
	grep -q "would leave less than 32 MiB free" "$C/err.bomb" || fail "the bomb's line does not say why"
	read -r _ rc avail < <(grep '^huge ' "$C/result")
	[ "$rc" = 1 ] || fail "the huge entry was not refused (exit $rc)"
	[ "$avail" -ge $((60 * 1024)) ] || fail "the huge entry wrote data ($avail KiB left)"
	grep -q "entry huge (4294967295 bytes) would leave" "$C/err.huge" ||
		fail "the huge entry did not say why"
}

# Inodes run out before bytes do.
case_inodes() {
	new_case inodes
	{
		for i in $(seq 1 300); do
			newc "e$i" 100644 "$i" 1 ''
		done
		trailer
	} >"$C/a.cpio"
	cat >"$C/in-tmpfs.sh" <<EOF
mount -t tmpfs -o size=64m,nr_inodes=200 tmpfs "$T" || exit 9
timeout 20 "$TOOL" "$C/a.cpio" "$T" 2>"$C/err"
EOF
	RC=0
	unshare -m bash "$C/in-tmpfs.sh" || RC=$?
	cat "$C/err"
	refused "has no inodes left"
}

run_case link-to-symlink case_link_to_symlink
run_case link-to-fifo case_link_to_fifo
run_case link-to-device case_link_to_device
run_case real-hard-links case_real_hard_links
run_case symlinked-parent case_symlinked_parent
run_case dir-replaced-by-symlink case_dir_replaced_by_symlink
run_case dotdot case_dotdot
run_case absolute-name case_absolute_name
run_case truncated case_truncated
run_case oversized-headers case_oversized_headers
run_case junk case_junk
run_case segments case_segments
run_case bomb case_bomb
run_case inodes case_inodes
runner_summary unpack
