#!/bin/bash
# `make bench`: initoverlayfs against what users would pick instead, from
# power-on, with real content.
#
# Platform: a real Debian 13 system (bench/system.sh: the system tier's
# builder, kernel 6.12, systemd, dracut with squash-erofs, systemd-boot,
# the firmware packages of a generic install) with this tree's .deb
# installed. Every variant's initrd is made inside that system (a chroot in
# a mount namespace of its own) by its own tool, for the same kernel and
# the same root:
#
#   initramfs-tools  mkinitramfs (Debian's default generator; dracut
#                    conflicts with it, so it is installed into an overlay
#                    of the tree from packages downloaded with the system)
#   dracut           dracut --no-hostonly (the system's default)
#   squash-erofs     dracut --add squash-erofs: the initrd as an EROFS image
#                    inside the initramfs, mounted from RAM
#   init             initoverlayfs-install --source <dracut's initrd> --mode
#                    init (what the package's post-update hook does)
#   init-itools      the same from initramfs-tools' initrd (Debian's default
#                    generator)
#   systemd          the same, --mode systemd
#   verity           init mode with --verity
#
# Content (BENCH_CONTENTS), set through each tool's own configuration:
#   hostonly  the drivers this VM needs (virtio_pci, virtio_blk, ext4):
#             dracut drivers=, initramfs-tools MODULES=list and a hook
#   generic   each tool's default (dracut no-hostonly, MODULES=most)
#   grown     generic plus all of /lib/modules/KVER and /usr/lib/firmware
#             (firmware-linux-free, firmware-misc-nonfree,
#             firmware-amd-graphics): dracut include_src=, an
#             initramfs-tools hook
#   filler    generic plus BENCH_FILLER_MIB of incompressible files
#             (iofs-bench-gen), the old benchmark's content, one extra point
#
# From power-on: OVMF (UEFI) runs systemd-boot from an EFI system
# partition, which reads the kernel and the variant's initrd from it and
# starts the kernel; the mini-initramfs of initoverlayfs finds its image on
# the ext4 /boot. Disks, all virtio: the variant's EFI system partition
# (GPT, vfat), /boot (ext4, every image of the content) and the root (ext4),
# the last two shared read-only by every boot of a content (snapshot=on).
# The guest clock counts instructions (-icount shift=VM_ICOUNT_SHIFT,
# sleep=off, idle=poll): times do not depend on the host's load.
#
# Per boot, seconds from power-on: systemd-boot's start and hand-over
# (LoaderTimeInitUSec, LoaderTimeExecUSec), the kernel's clock 0 (the TSC,
# which counts from reset, read by iofs-bench-probe), the kernel's `Run
# /init`, the full initrd's systemd (where there is an image to switch
# into), the probe just before the switch to the root (RAM in use),
# the root's systemd, multi-user.target (RAM in use again). By bisection,
# the smallest -m that reaches multi-user at the largest content.
#
# Usage: bench/peers.sh GEN PROBE   (root; GEN and PROBE: build/bench/)
# Settings (environment):
#   BENCH_QUICK=1     one point per variant: generic content, one run, no
#                     bisection (a check while developing)
#   BENCH_RESUME=1    keep the boots an interrupted run measured (same
#                     inputs, -m and clock) and boot only the others
#   BENCH_VARIANTS    "initramfs-tools dracut squash-erofs init init-itools
#                     systemd verity"
#   BENCH_CONTENTS    "hostonly generic grown filler"
#   BENCH_RUNS        2 boots per point (their median; the guest clock makes
#                     boots repeat within a few ms, see the spread line)
#   BENCH_MEM         2048 (MiB, every measured boot)
#   BENCH_MINMEM      1: bisect the smallest -m at the largest content
#   BENCH_MINMEM_STEP 32 (MiB)
#   BENCH_JOBS        2 VMs (and builds) at once
#   BENCH_FILLER_MIB  256
#   BENCH_TIMEOUT     1200 (host seconds per boot)
#   VM_ICOUNT_SHIFT   1
#   BENCH_CACHE       /var/cache/initoverlayfs-bench (system, .deb, inputs)
#   BENCH_WORK        /var/tmp/initoverlayfs-bench (tree, disks, logs)
#   BENCH_RESULTS     bench/results
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)

die() {
	echo "bench: error: $*" >&2
	exit 1
}
say() { echo "bench: $*"; }

[ $# -eq 2 ] || die "usage: $0 GEN PROBE"
GEN=$(realpath "$1") || die "no generator $1"
PROBE=$(realpath "$2") || die "no probe $2"
for f in "$GEN" "$PROBE"; do
	[ -x "$f" ] || die "$f is not executable"
done
[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap, chroot, mount namespaces)"
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

CACHE=${BENCH_CACHE:-/var/cache/initoverlayfs-bench}
WORK=${BENCH_WORK:-/var/tmp/initoverlayfs-bench}
RESULTS=$(mkdir -p "${BENCH_RESULTS:-$HERE/results}" && cd "${BENCH_RESULTS:-$HERE/results}" && pwd) ||
	die "results dir"
mkdir -p "$CACHE" "$WORK" || die "cannot create $CACHE and $WORK"
export VM_WORK=$WORK/vm

# shellcheck source=tests/vm/lib.sh
. "$TOP/tests/vm/lib.sh"
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/system/base.sh
. "$TOP/tests/system/base.sh"
# shellcheck source=bench/system.sh
. "$HERE/system.sh"
# shellcheck source=tests/lib/tree.sh
. "$TOP/tests/lib/tree.sh"
# shellcheck source=tests/lib/chroot.sh
. "$TOP/tests/lib/chroot.sh"
# shellcheck source=tests/lib/deb.sh
. "$TOP/tests/lib/deb.sh"

ALL_VARIANTS="initramfs-tools dracut squash-erofs init init-itools systemd verity"
ALL_CONTENTS="hostonly generic grown filler"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	VARIANTS=${BENCH_VARIANTS:-$ALL_VARIANTS}
	CONTENTS=${BENCH_CONTENTS:-generic}
	RUNS=${BENCH_RUNS:-1}
	MINMEM=${BENCH_MINMEM:-0}
else
	VARIANTS=${BENCH_VARIANTS:-$ALL_VARIANTS}
	CONTENTS=${BENCH_CONTENTS:-$ALL_CONTENTS}
	RUNS=${BENCH_RUNS:-2}
	MINMEM=${BENCH_MINMEM:-1}
fi
MEM=${BENCH_MEM:-2048}
STEP=${BENCH_MINMEM_STEP:-32}
JOBS=${BENCH_JOBS:-2}
FILLER_MIB=${BENCH_FILLER_MIB:-256}
TMO=${BENCH_TIMEOUT:-1200}
export VM_ICOUNT_SHIFT=${VM_ICOUNT_SHIFT:-1}
T_START=$(date +%s)

for v in $VARIANTS; do
	case " $ALL_VARIANTS " in *" $v "*) ;; *) die "unknown variant '$v' in BENCH_VARIANTS ($ALL_VARIANTS)" ;; esac
done
for c in $CONTENTS; do
	case " $ALL_CONTENTS " in *" $c "*) ;; *) die "unknown content '$c' in BENCH_CONTENTS ($ALL_CONTENTS)" ;; esac
done
if [ -z "$VARIANTS" ] || [ -z "$CONTENTS" ]; then die "no variant or no content to measure"; fi
for n in "$RUNS" "$MEM" "$STEP" "$JOBS" "$FILLER_MIB" "$TMO"; do
	case $n in '' | *[!0-9]* | 0) die "BENCH_RUNS, BENCH_MEM, BENCH_MINMEM_STEP, BENCH_JOBS, BENCH_FILLER_MIB and BENCH_TIMEOUT must be positive numbers" ;; esac
done
case $VM_ICOUNT_SHIFT in [0-9] | 10) ;; *) die "VM_ICOUNT_SHIFT must be 0..10" ;; esac
# The largest real content: the ratios and the bisection are taken there
# (filler is the synthetic extra point).
LARGEST=""
for c in hostonly generic grown; do
	case " $CONTENTS " in *" $c "*) LARGEST=$c ;; esac
done
[ -n "$LARGEST" ] || LARGEST=filler

vm_need_cmd qemu-system-x86_64 mmdebstrap dpkg-buildpackage unshare chroot mkfs.ext4 mkfs.vfat mcopy \
	sfdisk gnuplot sha256sum zstd cpio || die "missing host tools (make deps)"
UEFI_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
UEFI_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
for f in "$UEFI_CODE" "$UEFI_VARS"; do
	[ -r "$f" ] || die "no OVMF firmware $f (package ovmf)"
done

ROOT_UUID=7c3e1a52-64b0-4d6e-9f1a-2b8c0d4e5001
BOOT_UUID=7c3e1a52-64b0-4d6e-9f1a-2b8c0d4e5002
ESP_PARTUUID=7c3e1a52-64b0-4d6e-9f1a-2b8c0d4e5003
ESP_VOLID=1EF1B0B0
MACHINE_ID=5e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b
SEED=20261207
# rd.shell=0 rd.emergency=reboot: a failing initrd ends the VM
# (-no-reboot) instead of waiting on the console for a shell.
CMDLINE="root=UUID=$ROOT_UUID ro console=ttyS0 panic=-1 idle=poll printk.devkmsg=on rd.shell=0 rd.emergency=reboot"
# The modules this VM's boot needs (hostonly content).
HOST_DRIVERS="virtio_pci virtio_blk ext4"
# Bump when what the inputs are made of changes (the inputs' cache key).
INPUTS_VERSION=2

say "variants: $VARIANTS; content: $CONTENTS; $RUNS boot(s) per point; -m $MEM; $JOBS at once;" \
	"-icount shift=$VM_ICOUNT_SHIFT; work $WORK"

# ------------------------------------------------------------- the system

BASE_TAR=$(bench_base_tar "$CACHE") || die "no base system (above)"
# The .deb of this tree; bench/ does not go into it.
DEB_HASH=$(tree_files | grep -zv '^bench/' | LC_ALL=C sort -z | (cd "$TOP" && xargs -0 -r sha256sum) |
	sha256sum | cut -d' ' -f1)
DEB=$(deb_cached "$CACHE/deb" "$DEB_HASH" 2) || die "no .deb (above)"
say "system $(basename "$BASE_TAR"), package $(basename "$DEB")"

ROOT=$WORK/root
BOOTSRC=$WORK/boot
IN_KEY=$(
	{
		echo "$BASE_TAR $DEB_HASH $INPUTS_VERSION $SEED $FILLER_MIB $HOST_DRIVERS"
		sha256sum "$PROBE" "$GEN" "$HERE/guest/"* | cut -d' ' -f1
	} | sha256sum | cut -c1-16
)
IN=$CACHE/in/$IN_KEY

# bench_in_system OUT CMD...: CMD chrooted into the tree ($ROOT, or the
# overlay $BENCH_UPPER over it when set; chroot_run), /boot a copy of the
# kernel's files ($BOOTSRC); what CMD adds to /boot is copied to OUT.
bench_in_system() {
	local out=$1
	shift
	chroot_run "$ROOT" "$BOOTSRC" "$out" "${BENCH_UPPER:-}" "$@"
}

# The probe and what puts it into every initrd (written on every run): a
# drop-in that runs it just before systemd's switch to the root (dracut's
# initrds, and the full initrd inside initoverlayfs' image), an
# initramfs-tools hook and init-bottom script; the hook also adds the
# drivers and the extra content a content configuration names
# (content_config).
tree_hooks() {
	install -m 0755 "$PROBE" "$ROOT/usr/local/sbin/iofs-bench-probe" || return 1
	mkdir -p "$ROOT/etc/systemd/system/initrd-switch-root.service.d" || return 1
	cat >"$ROOT/etc/systemd/system/initrd-switch-root.service.d/iofs-bench-probe.conf" <<-'EOF' || return 1
	# initoverlayfs peer benchmark: RAM in use just before leaving the initrd
	[Service]
	ExecStartPre=-/usr/local/sbin/iofs-bench-probe
	EOF
	mkdir -p "$ROOT/etc/initramfs-tools/hooks" "$ROOT/etc/initramfs-tools/scripts/init-bottom" \
		"$ROOT/etc/initramfs-tools/conf.d" || return 1
	cat >"$ROOT/etc/initramfs-tools/hooks/iofs-bench" <<-'EOF' || return 1
	#!/bin/sh
	# initoverlayfs peer benchmark: the probe, the drivers named in
	# /var/lib/iofs-bench/drivers, the content of /var/lib/iofs-bench/extra
	[ "${1:-}" = prereqs ] && exit 0
	. /usr/share/initramfs-tools/hook-functions
	copy_exec /usr/local/sbin/iofs-bench-probe
	if [ -r /var/lib/iofs-bench/drivers ]; then
		for m in $(cat /var/lib/iofs-bench/drivers); do manual_add_modules "$m"; done
	fi
	if [ -d /var/lib/iofs-bench/extra ]; then
		cp -a /var/lib/iofs-bench/extra/. "$DESTDIR/"
	fi
	EOF
	cat >"$ROOT/etc/initramfs-tools/scripts/init-bottom/iofs-bench-probe" <<-'EOF' || return 1
	#!/bin/sh
	# initoverlayfs peer benchmark: RAM in use just before run-init
	[ "${1:-}" = prereqs ] && exit 0
	/usr/local/sbin/iofs-bench-probe
	EOF
	chmod 0755 "$ROOT/etc/initramfs-tools/hooks/iofs-bench" \
		"$ROOT/etc/initramfs-tools/scripts/init-bottom/iofs-bench-probe" || return 1
}
# The tree: the system with this tree's .deb, the guest's report, and
# initramfs-tools in an overlay of its own. Remade when the system, the
# package or the report changed.
make_tree() {
	local stamp
	stamp="$BASE_TAR $DEB_HASH $(sha256sum "$PROBE" "$HERE/guest/"* | cut -d' ' -f1 | tr '\n' ' ')"
	if [ "$(cat "$WORK/tree.stamp" 2>/dev/null)" = "$stamp" ] && [ -d "$ROOT/usr" ]; then
		say "tree: kept ($ROOT)"
		return 0
	fi
	rm -rf "$ROOT" "$BOOTSRC" "$WORK/tree.stamp" "$WORK/itools" && mkdir -p "$ROOT" "$BOOTSRC" || return 1
	tar -C "$ROOT" -xf "$BASE_TAR" || return 1
	# /boot is a file system of its own: the kernel's files, no initrd
	find "$ROOT/boot" -mindepth 1 -maxdepth 1 ! -name 'initrd.img-*' -exec mv -t "$BOOTSRC" {} + || return 1
	rm -rf "${ROOT:?}/boot/"* || return 1
	echo iofs-bench >"$ROOT/etc/hostname" && echo "$MACHINE_ID" >"$ROOT/etc/machine-id" || return 1
	printf 'UUID=%s / ext4 errors=remount-ro 0 1\nUUID=%s /boot ext4 defaults 0 2\n' \
		"$ROOT_UUID" "$BOOT_UUID" >"$ROOT/etc/fstab" || return 1
	install -D -m 0755 "$HERE/guest/iofs-bench-report" "$ROOT/usr/local/sbin/iofs-bench-report" &&
		install -m 0644 "$HERE/guest/iofs-bench-report.service" "$ROOT/etc/systemd/system/" &&
		mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants" &&
		ln -sf ../iofs-bench-report.service "$ROOT/etc/systemd/system/multi-user.target.wants/" &&
		ln -sf /dev/null "$ROOT/etc/systemd/system/serial-getty@ttyS0.service" || return 1
	cp "$DEB" "$ROOT/tmp.deb" || return 1
	bench_in_system "$WORK/tree-boot" dpkg -i /tmp.deb >"$WORK/dpkg.log" 2>&1 ||
		{ tail -n 20 "$WORK/dpkg.log"; return 1; }
	rm -rf "$ROOT/tmp.deb" "$WORK/tree-boot"
	# enabled the README's way
	printf 'bootfs UUID=%s\nbootfstype ext4\n' "$BOOT_UUID" >"$ROOT/etc/initoverlayfs.conf" || return 1
	# initramfs-tools in an overlay of its own (it removes dracut); its
	# configuration directories exist in the tree first, so that the
	# overlay shows what tree_hooks and content_config write there later
	tree_hooks || return 1
	mkdir -p "$WORK/itools" || return 1
	BENCH_UPPER=$WORK/itools bench_in_system "$WORK/itools/boot" sh -c \
		"apt-get install -y -o Dpkg::Options::=--force-confold $BENCH_SYS_ITOOLS_DIR/*.deb" \
		>"$WORK/itools.log" 2>&1 || { tail -n 20 "$WORK/itools.log"; return 1; }
	rm -rf "$WORK/itools/boot"
	echo "$stamp" >"$WORK/tree.stamp"
}
make_tree || die "cannot make the system tree (above)"

tree_hooks || die "cannot write the probe and its hooks into the tree"
KVER=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
[ -n "$KVER" ] || die "no kernel under $ROOT/lib/modules"
[ -r "$BOOTSRC/vmlinuz-$KVER" ] || die "no $BOOTSRC/vmlinuz-$KVER"
BOOTX64=$ROOT/usr/lib/systemd/boot/efi/systemd-bootx64.efi
[ -r "$BOOTX64" ] || die "no systemd-boot in the tree ($BOOTX64)"
say "kernel $KVER; systemd-boot $(sed -n 's/^Version: //p' <(chroot "$ROOT" dpkg -s systemd-boot-efi))"

# ------------------------------------------------------------- inputs

# content_config CONTENT: the tools' configuration for CONTENT, in the
# tree: dracut.conf.d, initramfs-tools' conf.d (its hook reads the
# drivers from it), /var/lib/iofs-bench/extra (hard links into the tree,
# or the filler).
content_config() {
	local c=$1 x=$ROOT/var/lib/iofs-bench/extra
	rm -rf "$ROOT/var/lib/iofs-bench" || return 1
	{
		echo "# initoverlayfs peer benchmark, content $c"
		echo 'hostonly="no"'
		echo 'install_items+=" /usr/local/sbin/iofs-bench-probe /etc/systemd/system/initrd-switch-root.service.d/iofs-bench-probe.conf "'
	} >"$ROOT/etc/dracut.conf.d/90-iofs-bench.conf" || return 1
	echo "# initoverlayfs peer benchmark, content $c" >"$ROOT/etc/initramfs-tools/conf.d/iofs-bench" || return 1
	case $c in
	hostonly)
		echo "drivers=\"$HOST_DRIVERS\"" >>"$ROOT/etc/dracut.conf.d/90-iofs-bench.conf" &&
			echo MODULES=list >>"$ROOT/etc/initramfs-tools/conf.d/iofs-bench" &&
			mkdir -p "$ROOT/var/lib/iofs-bench" && echo "$HOST_DRIVERS" >"$ROOT/var/lib/iofs-bench/drivers"
		;;
	generic) echo MODULES=most >>"$ROOT/etc/initramfs-tools/conf.d/iofs-bench" ;;
	grown)
		mkdir -p "$x/usr/lib/modules" &&
			cp -al "$ROOT/usr/lib/modules/$KVER" "$x/usr/lib/modules/" &&
			cp -al "$ROOT/usr/lib/firmware" "$x/usr/lib/"
		;;
	filler)
		mkdir -p "$x/usr/lib/firmware/iofs-bench-filler" &&
			"$GEN" "$x/usr/lib/firmware/iofs-bench-filler" "$FILLER_MIB" 4 "$SEED" >/dev/null
		;;
	esac || return 1
	case $c in
	grown | filler)
		echo MODULES=most >>"$ROOT/etc/initramfs-tools/conf.d/iofs-bench" &&
			printf 'include_src="/var/lib/iofs-bench/extra"\ninclude_target="/"\n' \
				>>"$ROOT/etc/dracut.conf.d/90-iofs-bench.conf"
		;;
	esac
}

content_clear() {
	rm -rf "$ROOT/var/lib/iofs-bench" "$ROOT/etc/dracut.conf.d/90-iofs-bench.conf" \
		"$ROOT/etc/initramfs-tools/conf.d/iofs-bench"
}

# build VARIANT CONTENT: VARIANT's initrd (and image) for CONTENT into
# $IN/CONTENT/VARIANT/ (initrd, image.name + the image for initoverlayfs),
# the tool's output in VARIANT.log there.
build() {
	local v=$1 c=$2 d=$IN/$2/$1 o
	rm -rf "$d" && mkdir -p "$d" || return 1
	o=$d/out
	case $v in
	dracut) bench_in_system "$o" dracut --force /boot/bench.img "$KVER" ;;
	squash-erofs) bench_in_system "$o" dracut --force --add squash-erofs /boot/bench.img "$KVER" ;;
	initramfs-tools) BENCH_UPPER=$WORK/itools bench_in_system "$o" mkinitramfs -o /boot/bench.img "$KVER" ;;
	init | init-itools | systemd | verity)
		local mode=init more="" src=dracut
		[ "$v" = verity ] && more=--verity
		[ "$v" = systemd ] && mode=systemd
		[ "$v" = init-itools ] && src=initramfs-tools
		# the source: the generator's initrd of this content, as the
		# post-update hook gets it
		mkdir -p "$ROOT/var/tmp/iofs-bench" && cp "$IN/$c/$src/initrd" "$ROOT/var/tmp/iofs-bench/$v.img" ||
			return 1
		# shellcheck disable=SC2086 # $more: one word or none
		bench_in_system "$o" initoverlayfs-install --kver "$KVER" --source "/var/tmp/iofs-bench/$v.img" \
			--mode "$mode" $more --boot-dir /boot --output-initramfs /boot/bench.img -f
		;;
	esac >"$d/$v.log" 2>&1 || { tail -n 20 "$d/$v.log"; return 1; }
	rm -f "$ROOT/var/tmp/iofs-bench/$v.img"
	mv "$o/bench.img" "$d/initrd" || return 1
	case $v in
	init | init-itools | systemd | verity)
		local img
		img=$(find "$o" -maxdepth 1 -name "initoverlayfs-$KVER-*.img")
		if [ -z "$img" ] || [ "$(echo "$img" | wc -l)" != 1 ]; then
			echo "$v: not one image in $o" >&2
			return 1
		fi
		basename "$img" >"$d/image.name" && mv "$img" "$d/image" || return 1
		;;
	esac
	rm -rf "$o"
}

# make_content CONTENT: every variant's inputs of CONTENT, the boot file
# system holding the images; kept while $IN/CONTENT/stamp names them.
make_content() {
	local c=$1 v p phase want="" t0 pids=()
	want=$(echo "$VARIANTS" | tr ' ' '\n' | sort | tr '\n' ' ')
	if [ "$(cat "$IN/$c/stamp" 2>/dev/null)" = "$want" ]; then
		say "inputs $c: cached ($IN/$c)"
		return 0
	fi
	t0=$(date +%s)
	rm -rf "${IN:?}/$c" && mkdir -p "$IN/$c" || return 1
	content_config "$c" || return 1
	# the generators first (always dracut and initramfs-tools: initoverlayfs'
	# variants start from their initrds), then initoverlayfs
	for phase in "dracut initramfs-tools squash-erofs" "init init-itools systemd verity"; do
		for v in $phase; do
			case " $VARIANTS dracut initramfs-tools " in *" $v "*) ;; *) continue ;; esac
			build "$v" "$c" &
			pids+=($!)
			if [ "${#pids[@]}" -ge "$JOBS" ]; then
				wait "${pids[0]}" || return 1
				pids=("${pids[@]:1}")
			fi
		done
		for p in "${pids[@]}"; do wait "$p" || return 1; done
		pids=()
	done
	content_clear || return 1
	local -a files=()
	for v in $VARIANTS; do
		[ -s "$IN/$c/$v/image.name" ] && files+=("$IN/$c/$v/image:/$(cat "$IN/$c/$v/image.name")")
	done
	[ "${#files[@]}" -gt 0 ] || { echo "no image" >"$IN/$c/none" && files=("$IN/$c/none:/none"); }
	vm_make_bootfs "$IN/$c/bootfs.img" "$BOOT_UUID" boot "${files[@]}" || return 1
	echo "$want" >"$IN/$c/stamp" || return 1
	say "inputs $c: built in $(($(date +%s) - t0)) s:$(for v in $VARIANTS; do
		printf ' %s %s' "$v" "$(stat -c %s "$IN/$c/$v/initrd")"
		[ -e "$IN/$c/$v/image" ] && printf '+%s' "$(stat -c %s "$IN/$c/$v/image")"
	done) bytes"
}

T_IN=$(date +%s)
for c in $CONTENTS; do
	make_content "$c" || die "cannot make the inputs of content $c (above)"
done
find "$CACHE/in" -mindepth 1 -maxdepth 1 ! -name "$IN_KEY" -exec rm -rf {} +
T_INPUTS=$(($(date +%s) - T_IN))

# The root file system, shared by every boot (snapshot=on).
ROOT_IMG=$WORK/root.img
if [ "$(cat "$ROOT_IMG.stamp" 2>/dev/null)" != "$(cat "$WORK/tree.stamp")" ] || [ ! -s "$ROOT_IMG" ]; then
	vm_make_ext4 "$ROOT_IMG" "$ROOT" "" "$ROOT_UUID" root || die "cannot make the root file system"
	cp "$WORK/tree.stamp" "$ROOT_IMG.stamp" || die "stamp"
fi

# esp VARIANT CONTENT: the EFI system partition's disk of VARIANT, the
# way bootctl lays it out: systemd-boot as the removable-media loader,
# one entry (the default, no menu), the kernel and the initrd.
esp() {
	local v=$1 c=$2 d=$WORK/esp/$2-$1
	local disk=$d.disk
	if [ -s "$disk" ] && [ "$(cat "$d.stamp" 2>/dev/null)" = "$IN_KEY" ]; then
		echo "$disk"
		return 0
	fi
	mkdir -p "$d" || return 1
	printf 'default bench.conf\ntimeout 0\n' >"$d/loader.conf" &&
		printf 'title Debian (%s, %s)\nlinux /vmlinuz\ninitrd /initrd\noptions %s\n' "$v" "$c" "$CMDLINE" \
			>"$d/bench.conf" || return 1
	vm_make_vfat "$d/esp.img" "$ESP_VOLID" ESP "$BOOTX64:/EFI/BOOT/BOOTX64.EFI" \
		"$d/loader.conf:/loader/loader.conf" "$d/bench.conf:/loader/entries/bench.conf" \
		"$BOOTSRC/vmlinuz-$KVER:/vmlinuz" "$IN/$c/$v/initrd:/initrd" >/dev/null || return 1
	vm_make_gpt_parts "$disk" "$d/esp.img:$ESP_PARTUUID:esp:esp" || return 1
	rm -rf "$d" && echo "$IN_KEY" >"$d.stamp" || return 1
	echo "$disk"
}

say "inputs ready after $T_INPUTS s"

# ------------------------------------------------------------- boots

# Console lines after which a boot can only fail: the kernel's EFI stub or
# the firmware failing to start the loader's entry (no memory for the
# initrd: the firmware then waits in its shell), a panic, the OOM killer,
# an initrd that could not be unpacked.
FATAL_RE='EFI stub: ERROR|BdsDxe: failed to start|Shell> |Kernel panic|Out of memory|Initramfs unpacking failed|initoverlayfs: error: '

# boot VARIANT CONTENT MEM LOG TIMEOUT: one boot from the firmware, ended
# early by a fatal line.
boot() {
	local disk
	disk=$(esp "$1" "$2") || return 1
	bench_vm_boot_watched "$4" "$FATAL_RE" -e "$UEFI_CODE:$UEFI_VARS" -R -m "$3" -t "$5" \
		-d "$disk" -d "$IN/$2/bootfs.img" -d "$ROOT_IMG"
}

# kmsg_ts LINE: the kernel timestamp of a console line.
kmsg_ts() { sed -n 's/^.*\[ *\([0-9][0-9]*\.[0-9][0-9]*\)\] .*/\1/p' <<<"$1"; }
field() { sed -n "s/.* $2=\([0-9-]*\).*/\1/p" <<<"$1"; }
report() { vm_log_clean "$1" | sed -n "s/^.*IOFS-BENCH $2: //p" | head -n 1; }

# parse LOG VARIANT: the CSV fields of one boot from its console log
# (fw_s,loader_s,kernel_s,init_s,image_s,switch_s,root_s,multiuser_s,
# ram_switch_mib,ram_mib), or a message on stderr and status 1.
parse() {
	local log=$1 v=$2 p1 p2 off off2 sys n init img="" sw root mu li le
	p1=$(vm_log_clean "$log" | grep -F 'iofs-bench-probe: ' | head -n 1)
	p2=$(vm_log_clean "$log" | grep -F 'iofs-bench-probe: ' | tail -n 1)
	[ "$(vm_log_clean "$log" | grep -cF 'iofs-bench-probe: ')" = 2 ] ||
		{ echo "not two probe lines (the initrd's and the root's)" >&2; return 1; }
	[ "$(field "$p1" tsc_ns)" -gt 0 ] 2>/dev/null || { echo "no TSC in the probe line: $p1" >&2; return 1; }
	# power-on to the kernel's clock 0, from each probe line; they agree
	off=$(bench_calc "$(field "$p1" tsc_ns) / 1e9 - $(kmsg_ts "$p1")" %.6f)
	off2=$(bench_calc "$(field "$p2" tsc_ns) / 1e9 - $(kmsg_ts "$p2")" %.6f)
	bench_calc "($off - $off2) < 0.05 && ($off2 - $off) < 0.05" %d | grep -qx 1 ||
		{ echo "the probes place the kernel's clock 0 at $off and $off2 s" >&2; return 1; }
	sys=$(vm_log_clean "$log" | grep -F 'running in system mode' | sed -n 's/^.*\[ *\([0-9][0-9]*\.[0-9][0-9]*\)\] .*/\1/p')
	n=$(echo "$sys" | grep -c .)
	[ "$n" -ge 1 ] || { echo "no systemd started" >&2; return 1; }
	root=$(echo "$sys" | tail -n 1)
	# into the image: initoverlayfs' boot program execs the full initrd's
	# init, its systemd mode switches root into it, squash-erofs' init
	# script switches into it and the image's systemd starts
	case $v in
	init | init-itools | verity) img=$(kmsg_ts "$(vm_log_clean "$log" | grep -F 'initoverlayfs: exec ' | head -n 1)") ;;
	systemd) img=$(kmsg_ts "$(vm_log_clean "$log" | grep -F 'Switching root.' | head -n 1)") ;;
	squash-erofs) [ "$n" -ge 2 ] && img=$(echo "$sys" | head -n 1) ;;
	esac
	init=$(vm_kmsg_time "$log" "Run /init as init process") || return 1
	sw=$(kmsg_ts "$p1")
	mu=$(report "$log" multi-user-us)
	[ -n "$mu" ] || { echo "no multi-user.target time in the report" >&2; return 1; }
	li=$(report "$log" loader-init-us)
	le=$(report "$log" loader-exec-us)
	# multi-user's CLOCK_MONOTONIC on the kernel log's clock: the root
	# probe read both
	printf '%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n' \
		"$(if [ -n "$li" ]; then bench_calc "$li / 1e6" %.3f; fi)" \
		"$(if [ -n "$le" ]; then bench_calc "$le / 1e6" %.3f; fi)" \
		"$(bench_calc "$off" %.3f)" "$(bench_calc "$off + $init" %.3f)" \
		"$(if [ -n "$img" ]; then bench_calc "$off + $img" %.3f; fi)" \
		"$(bench_calc "$off + $sw" %.3f)" "$(bench_calc "$off + $root" %.3f)" \
		"$(bench_calc "$off2 + $mu / 1e6 + $(kmsg_ts "$p2") - $(field "$p2" mono_ns) / 1e9" %.3f)" \
		"$(bench_calc "$(field "$p1" used_kb) / 1024" %.1f)" "$(bench_calc "$(field "$p2" used_kb) / 1024" %.1f)"
}

# One boot's row is kept under the key of what it measured (the inputs,
# -m, the clock): BENCH_RESUME=1 keeps the rows of an interrupted run and
# boots only what they lack.
ROWS=$WORK/rows/$IN_KEY-m$MEM-s$VM_ICOUNT_SHIFT
mkdir -p "$ROWS" "$WORK/logs" || die "work dirs"
if [ "${BENCH_RESUME:-0}" = 1 ]; then
	rm -f "$ROWS"/*.fail || die "cannot clean $ROWS"
	say "resuming: $(find "$ROWS" -name '*.csv' | wc -l) boot(s) and $(find "$ROWS" -name 'minmem-*' | wc -l) smallest -m kept from an earlier run ($ROWS)"
else
	rm -f "$ROWS"/* || die "cannot clean $ROWS"
fi
find "$WORK/rows" -mindepth 1 -maxdepth 1 ! -path "$ROWS" -exec rm -rf {} + || die "cannot clean $WORK/rows"
RESUMED=$(find "$ROWS" -name '*.csv' | wc -l)

# sizes_of VARIANT CONTENT: "shipped,initrd,image" bytes (image 0 where
# the variant has none).
sizes_of() {
	local d=$IN/$2/$1 initrd image=0
	initrd=$(stat -c %s "$d/initrd") || return 1
	if [ -e "$d/image" ]; then
		image=$(stat -c %s "$d/image") || return 1
	fi
	echo "$((initrd + image)),$initrd,$image"
}

# measure_failed VARIANT CONTENT RUN REASON: the boot's .fail row, said.
measure_failed() {
	echo "$1 $2 run $3: $4" >"$ROWS/$2-$1-$3.fail"
	say "$1 $2 run $3: FAILED: $4"
	return 1
}

# measure VARIANT CONTENT RUN: one measured boot: $ROWS/C-V-R.csv or
# .fail with the reason (a row kept by BENCH_RESUME=1 stands).
measure() {
	local v=$1 c=$2 r=$3 log=$WORK/logs/$2-$1-$3.log row why sizes
	[ -s "$ROWS/$c-$v-$r.csv" ] && return 0
	if ! boot "$v" "$c" "$MEM" "$log" "$TMO" 2>"$log.err" || ! vm_log_has "$log" "IOFS-BENCH end: poweroff"; then
		why=$(vm_log_clean "$log" 2>/dev/null | grep -E -m 1 'Kernel panic|Out of memory|emergency|Failed to start|initoverlayfs: error' ||
			vm_log_clean "$log" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n 1)
		measure_failed "$v" "$c" "$r" "multi-user not reached: ${why:-empty log}; log $log"
		return
	fi
	row=$(parse "$log" "$v" 2>"$log.parse") ||
		{ measure_failed "$v" "$c" "$r" "$(cat "$log.parse"); log $log"; return; }
	sizes=$(sizes_of "$v" "$c") ||
		{ measure_failed "$v" "$c" "$r" "cannot stat its initrd or image under $IN/$c/$v"; return; }
	echo "$v,$c,$r,$MEM,$sizes,$row,$VM_WALL_S,${log#"$WORK"/}" >"$ROWS/$c-$v-$r.csv"
	IFS=, read -r _ _ _ _ _ _ _ fw le ks it im sw rt mu rs rm _ _ <"$ROWS/$c-$v-$r.csv"
	printf 'bench: %-15s %-8s run %s: loader %s..%s, kernel %s, /init %s, image %s, switch %s, root %s, multi-user %s s; RAM %s / %s MiB; wall %s s\n' \
		"$v" "$c" "$r" "$fw" "$le" "$ks" "$it" "${im:--}" "$sw" "$rt" "$mu" "$rs" "$rm" "$VM_WALL_S"
}

pool_wait() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
}

T_BOOT=$(date +%s)
for r in $(seq 1 "$RUNS"); do
	for c in $CONTENTS; do
		for v in $VARIANTS; do
			pool_wait
			measure "$v" "$c" "$r" &
		done
	done
done
wait
T_BOOTS=$(($(date +%s) - T_BOOT))
FAILED=$(cat "$ROWS"/*.fail 2>/dev/null)
say "boots done after $T_BOOTS s"

CSV=$RESULTS/peers.csv
POINTS=$RESULTS/peers-points.csv
{
	echo "$BENCH_PEERS_HEADER"
	for c in $CONTENTS; do
		for v in $VARIANTS; do
			for r in $(seq 1 "$RUNS"); do cat "$ROWS/$c-$v-$r.csv" 2>/dev/null; done
		done
	done
} >"$CSV" || die "cannot write $CSV"

# ------------------------------------------------------------- min RAM

# bisect VARIANT: the smallest -m (a multiple of STEP) that reaches
# multi-user at the largest content. The lower bound, assumed to fail: half
# the RAM in use that the boots at -m MEM measured (at the switch or at
# multi-user; a smaller VM sizes its kernel tables smaller, but not by
# half). -m MEM is known to boot. The first try: that RAM in use plus 4
# steps, near where most variants end up.
bisect() {
	local v=$1 lo hi=$MEM mid log tmo used
	used=$(awk -F, -v v="$v" -v c="$LARGEST" '$1 == v && $2 == c { if ($16 > u) u = $16; if ($17 > u) u = $17 } END { print int(u) }' "$CSV")
	lo=$((used / 2 / STEP * STEP))
	tmo=$(awk -F, -v v="$v" -v c="$LARGEST" '$1 == v && $2 == c { w = $18 } END { t = w * 3; print (t > 300 ? int(t) : 300) }' "$CSV")
	mid=$(((used / STEP + 4) * STEP))
	while [ $((hi - lo)) -gt "$STEP" ]; do
		[ "$mid" -gt "$lo" ] && [ "$mid" -lt "$hi" ] || mid=$(((lo + hi) / 2 / STEP * STEP))
		[ "$mid" -gt "$lo" ] || mid=$((lo + STEP))
		log=$WORK/logs/minmem-$LARGEST-$v-m$mid.log
		if boot "$v" "$LARGEST" "$mid" "$log" "$tmo" 2>"$log.err" && vm_log_has "$log" "IOFS-BENCH end: poweroff"; then
			say "min RAM $v $LARGEST: -m $mid reaches multi-user (wall $VM_WALL_S s)"
			hi=$mid
		else
			say "min RAM $v $LARGEST: -m $mid does not ($(vm_log_clean "$log" 2>/dev/null |
				grep -E -o -m 1 "$FATAL_RE" || echo "no report"); wall $VM_WALL_S s)"
			lo=$mid
		fi
		mid=0
	done
	echo "$hi" >"$ROWS/minmem-$v"
}

T_MINMEM=0
if [ "$MINMEM" = 1 ]; then
	T_MM=$(date +%s)
	say "min RAM: bisecting -m in $STEP MiB steps at content $LARGEST"
	for v in $VARIANTS; do
		[ -s "$ROWS/$LARGEST-$v-1.csv" ] || continue
		[ -s "$ROWS/minmem-$v" ] && continue
		pool_wait
		bisect "$v" &
	done
	wait
	T_MINMEM=$(($(date +%s) - T_MM))
fi

# ------------------------------------------------------------- report

# per point: medians over the runs; the smallest RAM at the largest content
: >"$WORK/minram.csv" || die "cannot write $WORK/minram.csv"
for v in $VARIANTS; do
	if [ -s "$ROWS/minmem-$v" ]; then echo "$v,$LARGEST,$(cat "$ROWS/minmem-$v")" >>"$WORK/minram.csv"; fi
done
bench_peer_points "$CSV" "$WORK/minram.csv" >"$POINTS" || die "cannot write $POINTS"

PNG=$RESULTS/peers.png
gnuplot -e "points='$POINTS'; out='$PNG'; variants='$VARIANTS'; shift_n='$VM_ICOUNT_SHIFT'; mem='$MEM'" \
	"$HERE/peers.gp" >"$WORK/gnuplot.log" 2>&1 || { cat "$WORK/gnuplot.log" >&2; die "gnuplot failed"; }

# pt VARIANT CONTENT FIELD: one value of the points
pt() { bench_point "$POINTS" "$1" "$2" "$3"; }
# med VARIANT CONTENT COLUMN [FORMAT]: the median of a per-boot column
# (FORMAT default %.3f; "-" where it has no value)
med() {
	local m
	m=$(awk -F, -v v="$1" -v c="$2" -v k="$3" 'NR > 1 && $1 == v && $2 == c && $k != "" { print $k }' "$CSV" |
		bench_stats 2>/dev/null | cut -d' ' -f2)
	if [ -n "$m" ]; then bench_calc "$m" "${4:-%.3f}"; else echo -; fi
}
MD=$RESULTS/README.md
{
	echo "# initoverlayfs against the peers, from power-on"
	echo
	echo "Generated by \`make bench\` (bench/peers.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit."
	echo
	echo "## Machine and method"
	echo
	echo "- Host: $(nproc) CPUs, $(LC_ALL=C lscpu | sed -n 's/^Model name: *//p' | head -n 1), Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")."
	echo "- QEMU: $(qemu-system-x86_64 --version | head -n 1), TCG (no KVM), -smp 1, -m $MEM MiB, $JOBS VMs at once; guest clock \`-icount shift=$VM_ICOUNT_SHIFT,sleep=off\`, \`idle=poll\`: every time below is guest seconds from power-on, independent of the host's load."
	echo "- Firmware and loader: OVMF ($(dpkg-query -W -f '${Version}' ovmf 2>/dev/null)), systemd-boot $(sed -n 's/^Version: //p' <(chroot "$ROOT" dpkg -s systemd-boot-efi)) from an EFI system partition (GPT, vfat: the loader, one entry, no menu, the kernel and the variant's initrd): the loader reads the kernel and the initrd from the disk. systemd-boot sets no LoaderTimeInitUSec/LoaderTimeExecUSec in a VM (it ignores the TSC when the CPU or SMBIOS says hypervisor; peers.csv keeps the columns, empty), so firmware, loader and the kernel's EFI stub are one span: *kernel*, power-on to the kernel's clock 0."
	echo "- System: $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' "$ROOT/etc/os-release"), kernel $KVER, $(chroot "$ROOT" systemctl --version | head -n 1), dracut $(sed -n 's/^Version: //p' <(chroot "$ROOT" dpkg -s dracut)), initramfs-tools $(find "$BENCH_SYS_ITOOLS_DIR" "$ROOT$BENCH_SYS_ITOOLS_DIR" -name 'initramfs-tools_*' 2>/dev/null | head -n 1 | sed 's/.*initramfs-tools_\([^_]*\)_.*/\1/'), initoverlayfs $(basename "$DEB" .deb | cut -d_ -f2). Every initrd is made inside the system by its tool (initoverlayfs from dracut's initrd, as its post-update hook does). Disks: the EFI system partition, /boot (ext4, the images), the root (ext4)."
	echo "- Variants: initramfs-tools (mkinitramfs), dracut (--no-hostonly), squash-erofs (dracut --add squash-erofs, its default compression), init / systemd (initoverlayfs-install --source <dracut's initrd> --mode init / systemd), init-itools (init mode from initramfs-tools' initrd), verity (init + --verity). In the ratios, initoverlayfs is init: the same content as dracut and squash-erofs."
	echo "- Content: hostonly = the VM's drivers ($HOST_DRIVERS; dracut drivers=, MODULES=list); generic = each tool's default (MODULES=most, --no-hostonly); grown = generic + all of /lib/modules/$KVER and /usr/lib/firmware (firmware-linux-free, firmware-misc-nonfree, firmware-amd-graphics); filler = generic + $FILLER_MIB MiB of incompressible files. The initoverlayfs mini-initramfs is the same generic one for every content."
	echo "- Milestones: kernel = the kernel's clock 0 on the power-on time line (iofs-bench-probe reads the TSC, which QEMU resets to 0 at power-on); /init = \`Run /init as init process\`; image = the full initrd's systemd starting inside the image (squash-erofs, initoverlayfs); switch = iofs-bench-probe just before the switch to the root (initrd-switch-root.service, initramfs-tools' init-bottom); root = the root's systemd starting; multi-user = multi-user.target's activation. RAM = MemTotal - MemAvailable at the switch and at multi-user."
	echo "- $RUNS boot(s) per point, medians; min RAM: the smallest -m (bisected, $STEP MiB steps) that reaches multi-user at the $LARGEST content."
	echo
	echo "## Results (medians, seconds from power-on)"
	echo
	echo "| variant | content | shipped (MiB) | initrd (bytes) | kernel | /init | image | switch | root | multi-user | RAM at switch (MiB) | RAM at multi-user (MiB) | min RAM (MiB) |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	tail -n +2 "$POINTS" | while IFS=, read -r v c sh rt mu rs mm ib; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$v" "$c" "$sh" "$ib" \
			"$(med "$v" "$c" 10)" "$(med "$v" "$c" 11)" "$(med "$v" "$c" 12)" "$(med "$v" "$c" 13)" \
			"$rt" "$mu" "$rs" "$(med "$v" "$c" 17 %.1f)" "${mm:--}"
	done
	echo
	echo "Spread of the time to root over a point's boots (max - min): $(awk -F, 'NR > 1 { k = $1 "," $2; if (!(k in lo) || $14 < lo[k]) lo[k] = $14; if ($14 > hi[k]) hi[k] = $14 }
		END { for (k in lo) if (hi[k] - lo[k] > m) m = hi[k] - lo[k]; printf "at most %.3f s", m }' "$CSV")."
	echo
	echo "## Goals"
	echo
	ok() { if bench_calc "$1" %d | grep -qx 1; then echo met; else echo "NOT met"; fi; }
	for p in dracut squash-erofs; do
		a=$(pt "$p" "$LARGEST" root_s) && b=$(pt init "$LARGEST" root_s) && [ -n "$a" ] && [ -n "$b" ] || continue
		g=2
		[ "$p" = squash-erofs ] && g=1.3
		echo "- $LARGEST content, time to root $p / init: $a / $b s = $(bench_calc "$a / $b" %.2f)x (goal >= ${g}x) -> $(ok "$a >= $g * $b")"
	done
	a=$(pt squash-erofs "$LARGEST" min_ram_mib) && b=$(pt init "$LARGEST" min_ram_mib)
	if [ -n "$a" ] && [ -n "$b" ]; then
		echo "- $LARGEST content, min RAM init / squash-erofs: $b / $a MiB (goal <= 50 %) -> $(ok "$b <= 0.5 * $a")"
	fi
	if case " $CONTENTS " in *" hostonly "*) true ;; *) false ;; esac then
		for f in root_s multiuser_s; do
			best="" bv=""
			for p in initramfs-tools dracut squash-erofs; do
				x=$(pt "$p" hostonly "$f") && [ -n "$x" ] || continue
				if [ -z "$bv" ] || bench_calc "$x < $bv" %d | grep -qx 1; then best=$p bv=$x; fi
			done
			[ -n "$bv" ] || continue
			for i in init init-itools; do
				x=$(pt "$i" hostonly "$f") && [ -n "$x" ] || continue
				echo "- hostonly content, ${f%_s}: $i $x s vs the fastest peer ($best) $bv s: $(bench_calc "100 * ($x - $bv) / $bv" %+.1f) % (goal <= +5 %) -> $(ok "$x <= 1.05 * $bv")"
			done
		done
	fi
	if [ -n "$FAILED" ]; then
		echo
		echo "Failed boots (not in the medians):"
		while IFS= read -r l; do echo "- $l"; done <<<"$FAILED"
	fi
	echo
	echo "Host wall time of this run: inputs $T_INPUTS s, measured boots $T_BOOTS s, min RAM $T_MINMEM s, total $(($(date +%s) - T_START)) s$(
		if [ "$RESUMED" -gt 0 ]; then echo " ($RESUMED boots and the smallest -m found kept from an interrupted run, BENCH_RESUME=1)"; fi)."
	echo
	echo "Files: peers.csv (one row per boot), peers-points.csv (one row per variant and content), peers.png. Serial logs: $WORK/logs/."
} >"$MD" || die "cannot write $MD"
cat "$MD"
echo
say "results in $RESULTS (README.md, peers.csv, peers-points.csv, peers.png); total $(($(date +%s) - T_START)) s"
bench_peer_ratios "$POINTS" "$LARGEST"
[ -z "$FAILED" ] || exit 1
