#!/bin/bash
# `make bench`: boot time and early RAM as the initial filesystem grows.
#
# For each size S (MiB) in BENCH_SIZES, S MiB of deterministic,
# incompressible, unused files (iofs-bench-gen: "extra firmware") are added
# to Debian's full dracut initrd, and Debian's kernel boots in QEMU (TCG,
# -icount, identical VM settings) through each variant in BENCH_VARIANTS:
#
#   plain    the full initrd as the only initramfs: dracut's image with one
#            more gzip -9 cpio segment appended (probe + S MiB), so the
#            kernel decompresses and unpacks all of it (dracut's own
#            compressor: gzip)
#   init     initoverlayfs-install --mode init --source <the plain image>:
#            mini-initramfs (initoverlayfs as /init) + EROFS image of the
#            same content
#   systemd  the same with --mode systemd (dracut builds the mini with this
#            tree's dracut module)
#   verity   init mode + --verity (only at the smallest and largest S;
#            skipped, with one line saying so, if the installer lacks it)
#
# Every boot reaches the same real root (vda, root=UUID=) whose init logs
# its start to kmsg and prints the marker; a probe in the full initrd (ExecStartPre= of
# initrd-switch-root.service) logs MemTotal - MemAvailable to kmsg just
# before the switch. All times are guest times (kmsg timestamps) under -icount shift=$VM_ICOUNT_SHIFT,sleep=off and
# idle=poll: independent of the host load. Host wall time is reported too.
#
# Usage: bench/run.sh INSTALLER BOOT_PROGRAM GEN PROBE   (root)
# Settings (environment):
#   BENCH_VARIANTS  "plain init systemd verity"    BENCH_SIZES "0 64 128 256"
#   BENCH_RUNS      3 (min/median/max kept)        BENCH_MEM 1536 (MiB, all boots)
#   BENCH_MINMEM    1: bisect the smallest -m (16 MiB steps) at the largest S
#   BENCH_JOBS      2 VMs at once                  VM_ICOUNT_SHIFT 1
#   BENCH_FILE_MIB  4 (size of each filler file)   BENCH_TIMEOUT 600 (s per boot)
#   BENCH_WORK      bench/work (inputs cache, logs) BENCH_RESULTS bench/results
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$TOP/tests/vm/lib.sh"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

die() {
	echo "bench: error: $*" >&2
	exit 1
}
say() { echo "bench: $*"; }

[ $# -eq 4 ] || die "usage: $0 INSTALLER BOOT_PROGRAM GEN PROBE"
INSTALLER=$(realpath "$1") || die "no installer $1"
BOOT_PROGRAM=$(realpath "$2") || die "no boot program $2"
GEN=$(realpath "$3") || die "no generator $3"
PROBE=$(realpath "$4") || die "no probe $4"
for f in "$INSTALLER" "$BOOT_PROGRAM" "$GEN" "$PROBE"; do
	[ -x "$f" ] || die "$f is not executable"
done
[ "$(id -u)" = 0 ] || die "run as root (the installer reads /lib/modules and runs dracut)"

VARIANTS=${BENCH_VARIANTS:-plain init systemd verity}
SIZES=${BENCH_SIZES:-0 64 128 256}
RUNS=${BENCH_RUNS:-3}
MEM=${BENCH_MEM:-1536}
MINMEM=${BENCH_MINMEM:-1}
JOBS=${BENCH_JOBS:-2}
FILE_MIB=${BENCH_FILE_MIB:-4}
TMO=${BENCH_TIMEOUT:-600}
export VM_ICOUNT_SHIFT=${VM_ICOUNT_SHIFT:-1}
WORK=$(mkdir -p "${BENCH_WORK:-$HERE/work}" && cd "${BENCH_WORK:-$HERE/work}" && pwd) || die "work dir"
RESULTS=$(mkdir -p "${BENCH_RESULTS:-$HERE/results/scaling}" && cd "${BENCH_RESULTS:-$HERE/results/scaling}" && pwd) ||
	die "results dir"
export VM_WORK=$WORK/vm

ROOT_UUID=2b0e6c1e-8f4a-4a51-9d3c-6f1f0d7a1001
BOOT_UUID=5d6f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b
BOOT_LABEL=iofsbench
# rd.shell=0 rd.emergency=reboot: a failing full initrd ends the VM
# (-no-reboot) instead of waiting for a shell on the console.
APPEND="root=UUID=$ROOT_UUID ro systemd.show_status=0 systemd.log_target=kmsg printk.devkmsg=on rd.shell=0 rd.emergency=reboot"
SEED=20261124
# Bump when make_size below changes what it builds (the inputs cache key).
INPUTS_VERSION=2
T_START=$(date +%s)

for v in $VARIANTS; do
	case $v in plain | init | systemd | verity) ;; *) die "unknown variant '$v' in BENCH_VARIANTS (plain init systemd verity)" ;; esac
done
for s in $SIZES; do
	case $s in '' | *[!0-9]*) die "BENCH_SIZES: '$s' is not a size in MiB" ;; esac
done
# shellcheck disable=SC2086 # word lists
{
	set -- $SIZES
	[ $# -ge 2 ] || die "BENCH_SIZES needs at least two sizes (for the fit)"
	SMIN=$(printf '%s\n' $SIZES | sort -n | head -n 1)
	SMAX=$(printf '%s\n' $SIZES | sort -n | tail -n 1)
}
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number" ;; esac
case $VM_ICOUNT_SHIFT in [0-9] | 10) ;; *) die "VM_ICOUNT_SHIFT must be 0..10" ;; esac

vm_need_cmd qemu-system-x86_64 timeout mkfs.ext4 e2fsck cpio gzip zstd lsinitrd gnuplot sha256sum \
	dracut busybox || die "missing host tools (make deps)"
KREL=$(vm_kernel_release) || die "no bootable kernel"
KERNEL=$(vm_kernel_image "$KREL") || die "kernel image"

# verity: only if this installer has the flag.
HAVE_VERITY=0
if "$INSTALLER" --help 2>&1 | grep -q -- '--verity'; then HAVE_VERITY=1; fi
ACTIVE=""
for v in $VARIANTS; do
	if [ "$v" = verity ] && [ "$HAVE_VERITY" = 0 ]; then
		say "verity: skipped: installer has no --verity"
		continue
	fi
	ACTIVE="$ACTIVE $v"
done
ACTIVE=${ACTIVE# }
[ -n "$ACTIVE" ] || die "no variant left to run"

# sizes a variant is measured at: verity only at the smallest and largest
sizes_of() {
	if [ "$1" = verity ]; then
		if [ "$SMIN" = "$SMAX" ]; then echo "$SMIN"; else echo "$SMIN $SMAX"; fi
	else
		echo "$SIZES"
	fi
}

say "kernel $KREL, QEMU TCG -icount shift=$VM_ICOUNT_SHIFT,sleep=off + idle=poll, -m $MEM, $JOBS VMs at once"
say "variants: $ACTIVE; sizes (MiB): $SIZES; $RUNS runs per point; work $WORK"

INSTALL_TMP=$(mktemp -d /var/tmp/initoverlayfs-bench.XXXXXX) || die "mktemp"
trap 'rm -rf "$INSTALL_TMP"' EXIT
mkdir -p "$WORK/in" "$WORK/logs" "$WORK/rows" "$WORK/minmem" "$VM_WORK" || die "cannot create $WORK"
rm -f "$WORK"/rows/* "$WORK"/minmem/* || die "cannot clean $WORK/rows"

# ------------------------------------------------------------- inputs

# The full dracut initrd of KREL: cached in $WORK; taken from the VM tier's
# demo if it made one for this kernel, else generated once by the installer.
BASE=$WORK/dracut-$KREL.img
make_base() {
	local d=$INSTALL_TMP/base cand=$TOP/build/vm-work/demo/dracut-initrd.img
	if [ -s "$BASE" ]; then
		say "full initrd: cached $BASE"
		return 0
	fi
	if [ -s "$cand" ] && lsinitrd "$cand" 2>/dev/null | grep -q "lib/modules/$KREL/"; then
		{ cp "$cand" "$BASE.tmp" && mv "$BASE.tmp" "$BASE"; } || die "cannot copy $cand"
		say "full initrd: Debian's dracut image from the VM tier ($cand)"
		return 0
	fi
	say "full initrd: generating with dracut through the installer (about 90 s)..."
	mkdir -p "$d/boot" || die "mkdir $d"
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$d/conf"
	INITOVERLAYFS_INSTALL_KEEP_WORK=1 TMPDIR=$d "$INSTALLER" --kver "$KREL" --source dracut \
		--boot-dir "$d/boot" --config "$d/conf" --output-initramfs "$d/mini.img" \
		--boot-program "$BOOT_PROGRAM" -f >"$d/out" 2>&1 || { cat "$d/out" >&2; die "installer --source dracut failed"; }
	local kept
	kept=$(find "$d" -mindepth 2 -maxdepth 2 -path "$d/initoverlayfs-install.*/full-initrd.img" | head -n 1)
	[ -s "$kept" ] || die "no full-initrd.img kept by the installer in $d"
	{ cp "$kept" "$BASE.tmp" && mv "$BASE.tmp" "$BASE"; } || die "cannot copy $kept"
	rm -rf "$d"
}
make_base
head -c 2 "$BASE" | od -An -tx1 | grep -q '1f 8b' || die "$BASE is not a single gzip image (its first segment is not gzip)"

# dracut with this tree's module (for --mode systemd): the system's dracut
# modules plus dracut/modules.d/81initoverlayfs.
make_dracut_base() {
	local b=$WORK/dracut-base e
	{ rm -rf "$b" && mkdir -p "$b/modules.d"; } || die "cannot create $b"
	for e in /usr/lib/dracut/*; do
		[ "$(basename "$e")" = modules.d ] || ln -s "$e" "$b/" || die "link $e"
	done
	for e in /usr/lib/dracut/modules.d/*; do
		ln -s "$e" "$b/modules.d/" || die "link $e"
	done
	cp -r "$TOP/dracut/modules.d/81initoverlayfs" "$b/modules.d/" || die "copy the dracut module"
}
make_dracut_base

# The real root: the harness' test root (busybox, os-release, the marker
# init as /sbin/init.marker) whose /sbin/init first writes one line to
# /dev/kmsg, so the time the root's init starts has a kernel timestamp
# (microseconds; the marker's /proc/uptime has 10 ms).
make_rootfs() {
	local t
	t=$(vm_mktemp_dir bench-root) || return 1
	vm_busybox_tree "$t" && vm_write_os_release "$t" && vm_write_marker_init "$t" || return 1
	mv "$t/sbin/init" "$t/sbin/init.marker" || return 1
	cat >"$t/sbin/init" <<-'EOF' || return 1
	#!/bin/busybox sh
	echo "<5>iofs-bench-root: init started" >/dev/kmsg
	exec /sbin/init.marker
	EOF
	chmod 0755 "$t/sbin/init" || return 1
	vm_make_ext4 "$WORK/root.img" "$t" 16 "$ROOT_UUID" iofsbenchroot || return 1
	rm -rf "$t"
}
make_rootfs || die "root image"
printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$WORK/initoverlayfs.conf" || die "config"

# The inputs of one size are rebuilt only when something they depend on
# changed (they are byte-identical otherwise: reproducible cpio, the
# installer is reproducible).
KEY=$(
	{
		sha256sum "$BASE" "$INSTALLER" "$BOOT_PROGRAM" "$GEN" "$PROBE" "$WORK/initoverlayfs.conf" |
			cut -d' ' -f1
		find "$TOP/dracut/modules.d/81initoverlayfs" "$TOP/systemd" -type f -print0 | LC_ALL=C sort -z |
			xargs -0 sha256sum | cut -d' ' -f1
		echo "$KREL $FILE_MIB $SEED $INPUTS_VERSION"
	} | sha256sum | cut -d' ' -f1
)

# run_installer DIR NAME SOURCE MODE [ARGS...]: $DIR/NAME.mini, the image
# path in $DIR/NAME.image, its path in the boot filesystem in $DIR/NAME.fs.
# dracut (--mode systemd) gets this tree's module and, through
# initoverlayfs_conf, the same config the installer gets with --config: the
# module reads 'bootfstype' and 'modules' from it to pick the kernel modules
# (on a real host both are /etc/initoverlayfs.conf).
run_installer() {
	local d=$1 name=$2 src=$3 mode=$4 fs img
	shift 4
	mkdir -p "$d/boot-$name" "$INSTALL_TMP/$name-$(basename "$d")" || return 1
	dracutbasedir=$WORK/dracut-base initoverlayfs_binary=$BOOT_PROGRAM initoverlayfs_unitdir=$TOP/systemd \
		initoverlayfs_conf=$WORK/initoverlayfs.conf TMPDIR=$INSTALL_TMP/$name-$(basename "$d") \
		"$INSTALLER" --kver "$KREL" --source "$src" --mode "$mode" --boot-dir "$d/boot-$name" \
		--config "$WORK/initoverlayfs.conf" --output-initramfs "$d/$name.mini" \
		--boot-program "$BOOT_PROGRAM" -f "$@" >"$d/$name.install.log" 2>&1 ||
		{ vm_err run_installer "installer ($name, $(basename "$d")) failed; log $d/$name.install.log:"; tail -n 20 "$d/$name.install.log" >&2; return 1; }
	img=$(find "$d/boot-$name" -maxdepth 1 -name "initoverlayfs-$KREL-*.img")
	if [ -z "$img" ] || [ "$(printf '%s\n' "$img" | wc -l)" != 1 ]; then
		vm_err run_installer "$name: not exactly one image in $d/boot-$name"
		return 1
	fi
	fs=$(lsinitrd -f etc/initoverlayfs.conf "$d/$name.mini" 2>/dev/null | sed -n 's/^fs //p')
	[ -n "$fs" ] || { vm_err run_installer "$name: no 'fs' in the config of $d/$name.mini"; return 1; }
	echo "$img" >"$d/$name.image" && echo "$fs" >"$d/$name.fs"
}

# make_size S: the inputs for size S in $WORK/in/S: the plain image, each
# variant's pair, the boot filesystem; each part is kept while its stamp
# (KEY, for the boot filesystem also the list of images) still matches.
make_size() {
	local s=$1 d=$WORK/in/$1 seg v need="" todo="" list
	local -a pids=() files=()
	for v in $ACTIVE; do
		[ "$v" = plain ] && continue
		case " $(sizes_of "$v") " in *" $s "*) need="$need $v" ;; esac
	done
	if [ "$(cat "$d/plain.stamp" 2>/dev/null)" != "$KEY" ] || [ ! -s "$d/plain.img" ]; then
		{ rm -rf "$d" && mkdir -p "$d"; } || return 1
		seg=$d/seg
		# the extra segment: the probe, its drop-in, S MiB of filler
		mkdir -p "$seg/usr/bin" "$seg/etc/systemd/system/initrd-switch-root.service.d" \
			"$seg/usr/lib/firmware/iofs-bench-$s" || return 1
		cp "$PROBE" "$seg/usr/bin/iofs-bench-probe" || return 1
		chmod 0755 "$seg/usr/bin/iofs-bench-probe" || return 1
		cat >"$seg/etc/systemd/system/initrd-switch-root.service.d/iofs-bench-probe.conf" <<-'EOF' || return 1
		# initoverlayfs boot benchmark: RAM in use just before leaving the initrd
		[Service]
		ExecStartPre=-/usr/bin/iofs-bench-probe
		EOF
		"$GEN" "$seg/usr/lib/firmware/iofs-bench-$s" "$s" "$FILE_MIB" "$SEED" ||
			{ vm_err make_size "iofs-bench-gen failed"; return 1; }
		vm_make_cpio_gz "$seg" "$d/seg.cpio.gz" || return 1
		cat "$BASE" "$d/seg.cpio.gz" >"$d/plain.img" || return 1
		rm -rf "$seg"
		echo "$KEY" >"$d/plain.stamp" || return 1
		todo=" plain"
	fi
	for v in $need; do
		[ "$(cat "$d/$v.stamp" 2>/dev/null)" = "$KEY" ] && continue
		todo="$todo $v"
		rm -rf "$d/boot-$v" "$d/$v".* || return 1
		case $v in
		init) run_installer "$d" init "$d/plain.img" init & ;;
		systemd) run_installer "$d" systemd "$d/plain.img" systemd & ;;
		verity) run_installer "$d" verity "$d/plain.img" init --verity & ;;
		esac
		pids+=($!)
	done
	for v in "${pids[@]}"; do wait "$v" || return 1; done
	for v in $todo; do echo "$KEY" >"$d/$v.stamp" || return 1; done
	# one boot filesystem per size holds every variant's image (init and
	# systemd share one: same content, same bytes, same name); all
	# variants of a size boot with the same two disks
	declare -A seen=()
	for v in $need; do
		local pair
		pair="$(cat "$d/$v.image"):$(cat "$d/$v.fs")"
		[ -n "${seen[$(cat "$d/$v.fs")]:-}" ] && continue
		seen[$(cat "$d/$v.fs")]=1
		files+=("$pair")
	done
	[ ${#files[@]} -gt 0 ] || { echo "no image" >"$d/none" && files=("$d/none:/none"); }
	list=$(printf '%s\n' "${files[@]}")
	if [ "$(cat "$d/bootfs.stamp" 2>/dev/null)" != "$KEY $list" ] || [ ! -s "$d/bootfs.img" ]; then
		vm_make_bootfs "$d/bootfs.img" "$BOOT_UUID" "$BOOT_LABEL" "${files[@]}" || return 1
		echo "$KEY $list" >"$d/bootfs.stamp" || return 1
	fi
	say "inputs S=$s (${todo:+built:$todo; }cached otherwise): plain $(stat -c %s "$d/plain.img") bytes$(for v in $need; do
		printf ', %s mini %s image %s' "$v" "$(stat -c %s "$d/$v.mini")" "$(stat -c %s "$(cat "$d/$v.image")")"
	done)"
}

T_IN=$(date +%s)
T_INPUTS=0 T_BOOTS=0 T_MINMEM=0
for s in $SIZES; do
	make_size "$s" || die "cannot make the inputs for S=$s (above)"
done
T_INPUTS=$(($(date +%s) - T_IN))
say "inputs ready after $T_INPUTS s"

# initrd VARIANT S / image VARIANT S: what the kernel gets, the image size
initrd_of() {
	if [ "$1" = plain ]; then echo "$WORK/in/$2/plain.img"; else echo "$WORK/in/$2/$1.mini"; fi
}
image_bytes_of() {
	if [ "$1" = plain ]; then echo 0; else stat -c %s "$(cat "$WORK/in/$2/$1.image")"; fi
}

# ------------------------------------------------------------- boots

# kmsg_last LOG TEXT: timestamp of the last kernel line containing TEXT.
kmsg_last() {
	vm_log_clean "$1" | grep -F -- "$2" | sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p' | tail -n 1
}

# Lines after which a boot can only fail (the systemd mini-initramfs then
# waits forever: it has no emergency.service).
FATAL_RE='initoverlayfs: error: |Failed to start pre-initoverlayfs|Kernel panic'

# first_error LOG: the line saying why a boot failed (or the log's last).
first_error() {
	local l
	l=$(vm_log_clean "$1" 2>/dev/null | grep -E -m 1 "$FATAL_RE|Out of memory|Initramfs unpacking failed|oom-kill") ||
		l=$(vm_log_clean "$1" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n 1)
	echo "${l:-empty log}"
}

# boot_one VARIANT S RUN: one measured boot; writes $WORK/rows/V-S-R.csv,
# or $WORK/rows/V-S-R.fail with the reason; prints one progress line.
boot_one() {
	local v=$1 s=$2 r=$3 log=$WORK/logs/$1-$2-$3.log initrd t_init t_root t_sw probe p_t used tot av
	initrd=$(initrd_of "$v" "$s")
	if ! bench_vm_boot_watched "$log" "$FATAL_RE" -R -k "$KERNEL" -i "$initrd" -m "$MEM" -t "$TMO" \
		-d "$WORK/root.img" -d "$WORK/in/$s/bootfs.img" -a "$APPEND" 2>"$log.err" ||
		! vm_assert_booted "$log" 2>>"$log.err"; then
		echo "$v S=$s run $r: the real root was not reached; serial log $log: $(first_error "$log")" >"$WORK/rows/$v-$s-$r.fail"
		say "$v S=$s run $r: FAILED (no marker), serial log $log: $(first_error "$log")"
		return 1
	fi
	t_init=$(vm_kmsg_time "$log" "Run /init as init process") || t_init=
	t_root=$(vm_kmsg_time "$log" "iofs-bench-root: init started") || t_root=
	t_sw=$(kmsg_last "$log" "systemd[1]: Switching root.")
	probe=$(vm_log_clean "$log" | grep -F 'iofs-bench-probe: ' | head -n 1)
	if [ -z "$probe" ] || [ -z "$t_init" ] || [ -z "$t_root" ]; then
		echo "$v S=$s run $r: root reached but no probe line / no 'Run /init' / no uptime; serial log $log" \
			>"$WORK/rows/$v-$s-$r.fail"
		say "$v S=$s run $r: FAILED (no probe line), serial log $log"
		return 1
	fi
	p_t=$(sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p' <<<"$probe")
	used=$(sed -n 's/.*used_kb=\([0-9-]*\).*/\1/p' <<<"$probe")
	tot=$(sed -n 's/.*memtotal_kb=\([0-9-]*\).*/\1/p' <<<"$probe")
	av=$(sed -n 's/.*memavail_kb=\([0-9-]*\).*/\1/p' <<<"$probe")
	echo "$v,$s,$r,$VM_ICOUNT_SHIFT,$MEM,$t_init,$t_root,${t_sw:-},$p_t,$used,$tot,$av,$(stat -c %s "$initrd"),$(image_bytes_of "$v" "$s"),$VM_WALL_S,${log#"$TOP"/}" \
		>"$WORK/rows/$v-$s-$r.csv"
	printf 'bench: %-7s S=%-4s run %s/%s: root at %7.3f s, /init at %7.3f s, %4d MiB used (guest); wall %6.1f s\n' \
		"$v" "$s" "$r" "$RUNS" "$t_root" "$t_init" "$((used / 1024))" "$VM_WALL_S"
}

# Job pool: at most JOBS background jobs; stop at the first failure.
pool_wait() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
}
check_failed() {
	local f
	for f in "$WORK"/rows/*.fail; do
		[ -e "$f" ] || return 0
		wait
		echo "bench: error: boot failed: $(cat "$f")" >&2
		echo "bench: error: aborting; the last lines of that serial log:" >&2
		vm_log_tail "$(sed -n 's/.*serial log \([^ ;]*\).*/\1/p' "$f")" >&2 || true
		exit 1
	done
}

T_BOOT=$(date +%s)
# First round: run 1 at the smallest size of every variant. A variant that
# cannot boot at all is reported (with the line saying why) and left out;
# any later failure aborts the run.
BROKEN=""
: >"$WORK/broken"
for v in $ACTIVE; do
	pool_wait
	boot_one "$v" "$SMIN" 1 &
done
wait
left=""
for v in $ACTIVE; do
	f=$WORK/rows/$v-$SMIN-1.fail
	if [ -e "$f" ]; then
		BROKEN="$BROKEN $v"
		log=$WORK/logs/$v-$SMIN-1.log
		echo "$v|$(first_error "$log")|${log#"$TOP"/}" >>"$WORK/broken"
		echo "bench: error: $v does not boot, left out of this run: $(first_error "$log") (serial log $log)" >&2
		rm -f "$f"
	else
		left="$left $v"
	fi
done
ACTIVE=${left# }
[ -n "$ACTIVE" ] || die "no variant boots (above)"

NBOOTS=0
for v in $ACTIVE; do
	for s in $(sizes_of "$v"); do NBOOTS=$((NBOOTS + RUNS)); done
	NBOOTS=$((NBOOTS - 1))
done
say "booting: $NBOOTS more boots (variants x sizes x $RUNS runs)"
for r in $(seq 1 "$RUNS"); do
	for s in $SIZES; do
		for v in $ACTIVE; do
			case " $(sizes_of "$v") " in *" $s "*) ;; *) continue ;; esac
			[ "$r" = 1 ] && [ "$s" = "$SMIN" ] && continue
			pool_wait
			check_failed
			boot_one "$v" "$s" "$r" &
		done
	done
done
wait
check_failed
T_BOOTS=$(($(date +%s) - T_BOOT))
say "boots done after $T_BOOTS s"

CSV=$RESULTS/boot-scaling.csv
POINTS=$RESULTS/boot-scaling-points.csv
{
	echo "$BENCH_CSV_HEADER"
	for v in $ACTIVE; do
		for s in $(sizes_of "$v"); do
			for r in $(seq 1 "$RUNS"); do cat "$WORK/rows/$v-$s-$r.csv"; done
		done
	done
} >"$CSV" || die "cannot write $CSV"
bench_points "$CSV" >"$POINTS" || die "cannot write $POINTS"

# ------------------------------------------------------------- min RAM

# bisect VARIANT: the smallest -m (multiple of 16 MiB) with which VARIANT
# still reaches the root at the largest S; lo = 0 is assumed to fail,
# hi = MEM is known to boot. Result in $WORK/minmem/VARIANT.
bisect() {
	local v=$1 lo=0 hi=$MEM mid log initrd tmo wall why
	initrd=$(initrd_of "$v" "$SMAX")
	wall=$(bench_field "$POINTS" "$v" "$SMAX" wall_med) || wall=60
	tmo=$(bench_calc "($wall * 4 > 120) ? $wall * 4 : 120" %d)
	while [ $((hi - lo)) -gt 16 ]; do
		mid=$(((lo + hi) / 2 / 16 * 16))
		[ "$mid" -gt "$lo" ] || mid=$((lo + 16))
		log=$WORK/logs/minmem-$v-$SMAX-m$mid.log
		if bench_vm_boot_watched "$log" "$FATAL_RE" -R -k "$KERNEL" -i "$initrd" -m "$mid" -t "$tmo" \
			-d "$WORK/root.img" -d "$WORK/in/$SMAX/bootfs.img" -a "$APPEND" 2>"$log.err" &&
			vm_assert_booted "$log" 2>>"$log.err"; then
			say "min RAM $v S=$SMAX: -m $mid boots (root at $(vm_marker_field "$log" uptime) s; wall $VM_WALL_S s)"
			hi=$mid
		else
			why=$(first_error "$log")
			grep -q 'timed_out=1' "$log.result" 2>/dev/null && why="timeout ${tmo} s; $why"
			say "min RAM $v S=$SMAX: -m $mid fails (${why:-no marker}; wall $VM_WALL_S s; log $log)"
			lo=$mid
		fi
	done
	echo "$hi" >"$WORK/minmem/$v"
}

MINCSV=$RESULTS/min-memory.csv
if [ "$MINMEM" = 1 ]; then
	T_MM=$(date +%s)
	say "min RAM: bisecting -m in 16 MiB steps at S=$SMAX (lo 0 assumed failing, hi $MEM; timeout 4x the boot's wall)"
	for v in $ACTIVE; do
		pool_wait
		bisect "$v" &
	done
	wait
	echo "variant,size_mib,min_mem_mib,step_mib" >"$MINCSV"
	for v in $ACTIVE; do
		[ -s "$WORK/minmem/$v" ] || die "min RAM bisection of $v gave no result"
		echo "$v,$SMAX,$(cat "$WORK/minmem/$v"),16" >>"$MINCSV"
	done
	T_MINMEM=$(($(date +%s) - T_MM))
	say "min RAM done after $T_MINMEM s"
else
	rm -f "$MINCSV"
fi

# ------------------------------------------------------------- report

PNG=$RESULTS/boot-scaling.png
gnuplot -e "points='$POINTS'; out='$PNG'; variants='$ACTIVE'; shift_n='$VM_ICOUNT_SHIFT'; mem='$MEM'" \
	"$HERE/plot.gp" >"$WORK/gnuplot.log" 2>&1 || { cat "$WORK/gnuplot.log" >&2; die "gnuplot failed"; }

MD=$RESULTS/README.md
mib() { bench_calc "$1 / 1048576" %.1f; }
pct() { bench_calc "100 * ($2 - $1) / $1" %.1f; }
{
	echo "# Boot scaling: plain initramfs vs initoverlayfs"
	echo
	echo "Generated by \`make bench\` (bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit."
	echo
	echo "## Machine and method"
	echo
	echo "- Host: $(nproc) CPUs, $(LC_ALL=C lscpu | sed -n 's/^Model name: *//p' | head -n 1), Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- QEMU: $(qemu-system-x86_64 --version | head -n 1), TCG (no KVM), -smp 1, -m $MEM MiB for every boot, $JOBS VMs at once"
	echo "- Guest kernel: Debian $KREL; full initrd: Debian's \`dracut --no-hostonly\` image ($(mib "$(stat -c %s "$BASE")") MiB, gzip)"
	echo "- Clock: \`-icount shift=$VM_ICOUNT_SHIFT,sleep=off\` (one guest instruction = $((1 << VM_ICOUNT_SHIFT)) ns), fixed RTC, \`idle=poll\`: guest times count instructions, independent of host load. All times below are guest seconds from kernel start unless marked wall. Default shift 1: the plain dracut boot then reaches the root at 14.0 s guest, close to a TCG boot without -icount (14.5 s); shift 2 doubles every guest time (26.8 s), shift 5 would make guest time run ~7x faster than wall and let the initrd's 90 s systemd timeouts fire."
	echo "- Kernel command line (all variants): \`console=ttyS0 panic=-1 idle=poll $APPEND\`; disks: vda = real root (busybox + marker init), vdb = ext4 boot filesystem holding the size's EROFS image(s) (attached for every variant)."
	echo "- Content: for each S, S MiB of incompressible files (\`iofs-bench-gen\`, xorshift64*, fixed seed, ${FILE_MIB} MiB each, under /usr/lib/firmware/iofs-bench-S/, never read at boot) and the RAM probe are one extra gzip -9 cpio segment appended to dracut's image. **plain** boots that image (the kernel decompresses and unpacks every byte); **init** and **systemd** are \`initoverlayfs-install --source <that image> --mode init|systemd\` (default compression: EROFS lz4hc, mini-initramfs zstd 19): same content, byte for byte."
	echo "- Measures per boot: *root* = kernel timestamp of the line the real root's /sbin/init writes to /dev/kmsg first; */init* = kernel's \`Run /init as init process\`; *RAM used* = MemTotal - MemAvailable written to kmsg by \`iofs-bench-probe\`, ExecStartPre= of initrd-switch-root.service in the full initrd (just before the last switch root, same unit for all variants); *initramfs* = the file given to the kernel (\`-initrd\`), *image* = the EROFS image."
	echo "- $RUNS boots per point; min / median / max. Fit: least squares of the median time to root against S."
	echo
	echo "## Results"
	echo
	echo "| variant | S (MiB) | initramfs (MiB) | image (MiB) | /init (s, median) | root (s) min / median / max | spread | RAM used at switch (MiB, median) | wall (s, median) |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	tail -n +2 "$POINTS" | while IFS=, read -r v s _ rmin rmed rmax _ imed _ _ umed _ ird img wmed; do
		printf '| %s | %s | %s | %s | %.3f | %.2f / %.2f / %.2f | %s %% | %s | %.1f |\n' "$v" "$s" "$(mib "$ird")" \
			"$(if [ "$img" = 0 ]; then echo -; else mib "$img"; fi)" "$imed" "$rmin" "$rmed" "$rmax" \
			"$(bench_calc "100 * ($rmax - $rmin) / $rmed" %.2f)" "$(bench_calc "$umed / 1024" %.0f)" "$wmed"
	done
	echo
	echo "Spread = (max - min) / median of the time to root over the $RUNS boots of a point."
} >"$MD" || die "cannot write $MD"

# Fits, goals; printed and appended to README.md.
{
	echo
	echo "## Fit: time to root = slope x S + intercept"
	echo
	echo "| variant | slope (ms per MiB shipped) | intercept (s) | RAM slope (KiB per MiB) |"
	echo "| --- | ---: | ---: | ---: |"
	declare -A SLOPE=()
	for v in $ACTIVE; do
		fit=$(bench_variant_fit "$POINTS" "$v") || die "fit of $v"
		read -r sl ic <<<"$fit"
		SLOPE[$v]=$sl
		u=$(bench_variant_fit "$POINTS" "$v" used_med_kb | cut -d' ' -f1)
		printf '| %s | %s | %s | %s |\n' "$v" "$(bench_calc "$sl * 1000" %.3f)" "$(bench_calc "$ic" %.3f)" "$(bench_calc "$u" %.1f)"
	done
	if [ -s "$MINCSV" ]; then
		echo
		echo "## Smallest VM memory that still boots (S = $SMAX MiB, -m bisected in 16 MiB steps)"
		echo
		echo "| variant | min -m (MiB) |"
		echo "| --- | ---: |"
		tail -n +2 "$MINCSV" | while IFS=, read -r v s m _; do echo "| $v | $m |"; done
	fi
	echo
	echo "## Goals"
	echo
	ok() { if bench_calc "$1" %d | grep -qx 1; then echo met; else echo "NOT met"; fi; }
	if [ -n "${SLOPE[plain]:-}" ]; then
		for v in init systemd verity; do
			[ -n "${SLOPE[$v]:-}" ] || continue
			[ "$v" = verity ] && continue
			echo "- slope $v <= 5% of plain: $(bench_calc "100 * ${SLOPE[$v]} / ${SLOPE[plain]}" %.2f) % -> $(ok "${SLOPE[$v]} <= 0.05 * ${SLOPE[plain]}")"
		done
		for v in init systemd verity; do
			case " $ACTIVE " in *" $v "*) ;; *) continue ;; esac
			p=$(bench_field "$POINTS" plain "$SMAX" root_med) || continue
			q=$(bench_field "$POINTS" "$v" "$SMAX" root_med) || continue
			echo "- S=$SMAX: time to root plain / $v = $(bench_calc "$p" %.2f) / $(bench_calc "$q" %.2f) s = $(bench_calc "$p / $q" %.2f)x (goal >= 2x) -> $(ok "$p >= 2 * $q")"
		done
		for v in init systemd verity; do
			case " $ACTIVE " in *" $v "*) ;; *) continue ;; esac
			p=$(bench_field "$POINTS" plain "$SMIN" root_med) || continue
			q=$(bench_field "$POINTS" "$v" "$SMIN" root_med) || continue
			echo "- S=$SMIN: $v vs plain time to root: $(bench_calc "$q" %.2f) vs $(bench_calc "$p" %.2f) s ($(pct "$p" "$q") %; goal: at most +5 %) -> $(ok "$q <= 1.05 * $p")"
		done
		if [ -s "$MINCSV" ]; then
			pm=$(cat "$WORK/minmem/plain")
			for v in init systemd verity; do
				[ -s "$WORK/minmem/$v" ] || continue
				m=$(cat "$WORK/minmem/$v")
				echo "- min RAM at S=$SMAX: $v $m MiB vs plain $pm MiB ($(bench_calc "100 * $m / $pm" %.0f) %; goal <= 50 %) -> $(ok "$m <= 0.5 * $pm")"
			done
		fi
	fi
	[ "$HAVE_VERITY" = 1 ] || case " $VARIANTS " in *" verity "*) echo "- verity: skipped: installer has no --verity" ;; esac
	while IFS='|' read -r v why log; do
		echo "- **$v: did not boot, not measured.** First boot (S=$SMIN) failed with: \`$why\` (serial log $log)"
	done <"$WORK/broken"
	echo
	echo "Host wall time of this run: inputs $T_INPUTS s, $((NBOOTS + $(wc -w <<<"$ACTIVE$BROKEN"))) measured boots $T_BOOTS s ($JOBS at once), min RAM bisection $T_MINMEM s, total $(($(date +%s) - T_START)) s (without make's build and deps)."
	echo
	echo "Files: boot-scaling.csv (one row per boot), boot-scaling-points.csv (one row per variant and size), min-memory.csv, boot-scaling.png; serial logs under bench/work/logs/."
	echo
	if [ -z "${SLOPE[plain]:-}" ] || [ -z "${SLOPE[init]:-}" ]; then
		echo "ratio of slopes plain / init: n/a (needs the plain and init variants)"
	else
		echo "ratio of slopes plain / init: $(awk -v a="${SLOPE[plain]}" -v b="${SLOPE[init]}" \
			'BEGIN { if (b > 0) printf "%.1f", a / b; else printf "inf (init slope %s <= 0)", b }') (plain $(bench_calc "${SLOPE[plain]} * 1000" %.3f) ms/MiB, init $(bench_calc "${SLOPE[init]} * 1000" %.3f) ms/MiB, icount shift=$VM_ICOUNT_SHIFT)"
	fi
} >"$WORK/report.md" || die "report"
cat "$WORK/report.md" >>"$MD"
echo
cat "$MD"
echo
say "results in $RESULTS (README.md, boot-scaling.csv, boot-scaling-points.csv, boot-scaling.png); total $(($(date +%s) - T_START)) s"
# The last line: the ratio of slopes.
tail -n 1 "$WORK/report.md"
