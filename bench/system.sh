# shellcheck shell=bash
# The Debian 13 system the peer benchmark boots (sourced by bench/peers.sh):
# built by the system tier's builder (tests/system/base.sh: the host's
# mirror, mmdebstrap, a tarball cached under a key of its inputs), with
# what the peers need besides the system tier's packages:
#
#   dracut, dracut-squash   the generator and its squash-erofs module
#                           (Debian 13's default generator is
#                           initramfs-tools; dracut conflicts with it, so
#                           initramfs-tools is downloaded, not installed:
#                           its variant installs it into an overlay of the
#                           tree, see bench/peers.sh)
#   systemd-boot-efi        the boot loader on the EFI system partition
#   firmware-*              what a generic install carries: firmware-linux-free
#                           (main), firmware-misc-nonfree and
#                           firmware-amd-graphics (non-free-firmware)
#
# bench_base_tar prints the tarball, built when no tarball has the current
# key. The key covers this file and base.sh, the suite's sources (from the
# host's apt configuration) and the package lists.

BENCH_SYS_SUITE=trixie
BENCH_SYS_EXTRA=updates,security
BENCH_SYS_COMPONENTS="main non-free-firmware"
BENCH_SYS_PACKAGES="$SYS_PACKAGES dracut dracut-squash systemd-boot-efi firmware-linux-free firmware-misc-nonfree firmware-amd-graphics"
# Downloaded with what they need into the tree, installed by the
# initramfs-tools variant only.
BENCH_SYS_ITOOLS_DIR=/var/cache/iofs-bench-initramfs-tools
BENCH_SYS_ITOOLS_PACKAGES=initramfs-tools
BENCH_SYS_FILE=${BASH_SOURCE[0]}

# bench_sys_sources: the sources.list lines: the system tier's, for every
# component.
bench_sys_sources() {
	local line
	# sys_sources reads the suite and its extra suites from the table;
	# the bench's system is not a row of it, so it gets one here.
	# shellcheck disable=SC2034 # read by sys_get, which sys_sources calls
	local -a SYSTEMS=("bench $BENCH_SYS_SUITE $BENCH_SYS_EXTRA dracut -")
	sys_sources bench | while IFS= read -r line; do
		echo "${line% main} $BENCH_SYS_COMPONENTS"
	done
}

bench_sys_inputs() {
	echo "suite $BENCH_SYS_SUITE"
	echo "variant $SYS_VARIANT"
	echo "packages $BENCH_SYS_PACKAGES"
	echo "download $BENCH_SYS_ITOOLS_PACKAGES"
	bench_sys_sources | sed 's/^/source /'
	echo "builder $(cat "$BENCH_SYS_FILE" "$SYS_BASE_FILE" | sha256sum | cut -d' ' -f1)"
}

# bench_base_tar CACHE: print the cached tarball, building it first.
bench_base_tar() {
	local cache=$1/base key tar tmp t0
	local -a sources
	key=$(bench_sys_inputs | sha256sum | cut -c1-16) || return 1
	tar=$cache/trixie-bench-$key.tar
	if [ -s "$tar" ]; then
		echo "bench: system: cache hit $tar" >&2
		echo "$tar"
		return 0
	fi
	mapfile -t sources < <(bench_sys_sources) || return 1
	[ "${#sources[@]}" -gt 0 ] || return 1
	mkdir -p "$cache" || return 1
	tmp=$(mktemp "$cache/.trixie-bench-$key.XXXXXX.tar") || return 1
	t0=$(date +%s)
	echo "bench: system: building $BENCH_SYS_SUITE with mmdebstrap (log $tmp.log)" >&2
	if ! mmdebstrap --variant="$SYS_VARIANT" --include="${BENCH_SYS_PACKAGES// /,}" \
		--customize-hook="$(sys_download_hook "$BENCH_SYS_ITOOLS_DIR" "$BENCH_SYS_ITOOLS_PACKAGES")" \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$BENCH_SYS_SUITE" "$tmp" "${sources[@]}" >"$tmp.log" 2>&1; then
		tail -n 30 "$tmp.log" >&2
		rm -f "$tmp"
		echo "bench: system: mmdebstrap failed (log $tmp.log)" >&2
		return 1
	fi
	bench_sys_inputs >"$cache/trixie-bench-$key.inputs" || return 1
	mv "$tmp.log" "$cache/trixie-bench-$key.log" && mv "$tmp" "$tar" || return 1
	find "$cache" -maxdepth 1 -name 'trixie-bench-*' ! -name "trixie-bench-$key.*" -delete
	echo "bench: system: built $tar in $(($(date +%s) - t0)) s" >&2
	echo "$tar"
}
