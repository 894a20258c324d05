# shellcheck shell=bash
# Base systems of the system tier (sourced by tests/system/run.sh): a table
# of real Debian installations and their builder, mmdebstrap, with a cache
# keyed by the builder's inputs.
#
# A system is one line of SYSTEMS: name, suite, the suites besides SUITE
# that the host's apt sources add for it ("updates security", or "-"), the
# initrd generator package, and the packages that make a UKI there
# (systemd's kernel-install with ukify and the stub, systemd >= 254; "-"
# where the suite has none), downloaded for later. Adding a system is
# adding a line.
#
# sys_base_tar NAME prints the path of NAME's base tarball under
# $SYSTEM_CACHE/base/, built by mmdebstrap unless a tarball with the same key
# is there. The key is the sha256 of the inputs (suite, sources, packages,
# variant) and of this file, so editing the builder rebuilds. The cache is
# outside the tree: it survives `git clean` and serves a fresh clone.

SYSTEM_CACHE=${SYSTEM_CACHE:-/var/cache/initoverlayfs-tests}
SYS_BASE_FILE=${BASH_SOURCE[0]}

#        name                      suite     extra suites      generator       UKI
SYSTEMS=(
	"bookworm-initramfs-tools bookworm updates,security initramfs-tools -"
	"bookworm-dracut          bookworm updates,security dracut          -"
	"trixie-dracut            trixie   updates,security dracut          systemd-ukify,systemd-boot-efi"
)

# Packages of every system: a kernel, systemd as init, udev, the tools the
# guest report uses (findmnt, losetup: util-linux is essential; dmsetup,
# e2fsprogs), and what the initoverlayfs package depends on (dpkg -i runs
# without a network: its dependencies must be there already). From trixie
# on, libarchive13 and libssl3 are virtual packages (the 64-bit time_t
# renames, libarchive13t64 and libssl3t64, provide them): apt installs
# their only provider. cryptsetup-bin (the package suggests it): the
# veritysetup that `verity yes` in the config needs.
SYS_PACKAGES="linux-image-amd64 systemd-sysv udev e2fsprogs dmsetup erofs-utils kmod zstd libarchive13 libssl3 cryptsetup-bin"
SYS_VARIANT=apt
# The lifecycle's second kernel: the cloud flavour (small, and it has
# virtio, ext4, erofs, overlay and loop), downloaded into the system (see
# sys_download_hook); so are the UKI packages of the table's last column.
SYS_SECOND_KERNEL=linux-image-cloud-amd64
SYS_SECOND_KERNEL_DIR=/var/cache/iofs-second-kernel
SYS_UKI_DIR=/var/cache/iofs-uki

# sys_download_hook DIR PACKAGE...: the mmdebstrap customize hook that
# downloads PACKAGE... with what they need into DIR of the system (a cache
# directory of its own: apt's holds the base system's packages during the
# build), for `apt-get install DIR/*.deb` without a network later.
sys_download_hook() {
	local d=$1
	shift
	# shellcheck disable=SC2016 # $1: mmdebstrap's hook argument, the root
	printf 'set -e; d=%s
	mkdir -p "$1$d/partial"
	chroot "$1" apt-get install --download-only -y -o Dir::Cache::Archives="$d/" %s
	rm -rf "$1$d/partial" "$1$d/lock"
	ls "$1$d/"*.deb' "$d" "$*"
}

# sys_names: the systems of the table, one a line.
sys_names() {
	local line
	for line in "${SYSTEMS[@]}"; do echo "${line%% *}"; done
}

# sys_get NAME FIELD: suite, extra, generator or uki of system NAME.
sys_get() {
	local line name suite extra gen uki
	for line in "${SYSTEMS[@]}"; do
		read -r name suite extra gen uki <<<"$line"
		[ "$name" = "$1" ] || continue
		case $2 in
		suite) echo "$suite" ;;
		extra) echo "$extra" ;;
		generator) echo "$gen" ;;
		uki) echo "$uki" ;;
		*) return 1 ;;
		esac
		return 0
	done
	echo "system: no system '$1' in SYSTEMS (tests/system/base.sh)" >&2
	return 1
}

# sys_host_uri RELEASE: the URI of the host's apt source that serves RELEASE
# (e.g. bookworm, bookworm-security): the host's configured mirror, never a
# name written here.
sys_host_uri() {
	# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
	apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' |
		awk -v r="$1" '$1 == r { print $2; exit }'
}

# sys_sources NAME: the sources.list lines of system NAME, from the host's
# apt sources: the main archive for its suite (and SUITE-updates), the
# security archive for SUITE-security.
sys_sources() {
	local suite extra host main sec e
	suite=$(sys_get "$1" suite) || return 1
	extra=$(sys_get "$1" extra) || return 1
	host=$(. /etc/os-release && echo "$VERSION_CODENAME")
	main=$(sys_host_uri "$host")
	[ -n "$main" ] || { echo "system: the host's apt sources serve no '$host'" >&2; return 1; }
	echo "deb $main $suite main"
	for e in ${extra//,/ }; do
		case $e in
		updates) echo "deb $main $suite-updates main" ;;
		security)
			sec=$(sys_host_uri "$host-security")
			[ -n "$sec" ] || { echo "system: the host's apt sources have no $host-security" >&2; return 1; }
			echo "deb $sec $suite-security main"
			;;
		-) ;;
		*) echo "system: unknown extra suite '$e' of $1" >&2; return 1 ;;
		esac
	done
}

# sys_packages NAME: the package list of system NAME, comma-separated.
sys_packages() {
	local gen
	gen=$(sys_get "$1" generator) || return 1
	echo "$SYS_PACKAGES $gen" | tr ' ' ','
}

# sys_inputs NAME: every input of the base tarball, one a line; its sha256
# is the cache key.
sys_inputs() {
	echo "name $1"
	echo "suite $(sys_get "$1" suite)"
	echo "variant $SYS_VARIANT"
	echo "packages $(sys_packages "$1")"
	echo "second kernel $SYS_SECOND_KERNEL"
	echo "uki $(sys_get "$1" uki)"
	sys_sources "$1" | sed 's/^/source /'
	echo "builder $(sha256sum <"$SYS_BASE_FILE" | cut -d' ' -f1)"
}

# sys_build_base NAME OUT LOG: mmdebstrap of system NAME into the tarball OUT.
# Recommends are left out (a small system); the kernel's postinst makes
# the distro's own initrd as on any installation.
sys_build_base() {
	local name=$1 out=$2 log=$3 suite pkgs uki
	local -a sources hooks
	suite=$(sys_get "$name" suite) || return 1
	pkgs=$(sys_packages "$name") || return 1
	uki=$(sys_get "$name" uki) || return 1
	mapfile -t sources < <(sys_sources "$name") || return 1
	[ "${#sources[@]}" -gt 0 ] || return 1
	hooks=(--customize-hook="$(sys_download_hook "$SYS_SECOND_KERNEL_DIR" "$SYS_SECOND_KERNEL")")
	[ "$uki" = - ] || hooks+=(--customize-hook="$(sys_download_hook "$SYS_UKI_DIR" "${uki//,/ }")")
	mmdebstrap --variant="$SYS_VARIANT" --include="$pkgs" "${hooks[@]}" \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		"$suite" "$out" "${sources[@]}" >"$log" 2>&1
}

# sys_base_tar NAME: print the cached base tarball of NAME, building it first
# when there is none for the current key. Prints "cache: hit|built ..." to
# stderr.
sys_base_tar() {
	local name=$1 key dir tar tmp t0
	key=$(sys_inputs "$name" | sha256sum | cut -c1-16) || return 1
	[ -n "$key" ] || return 1
	dir=$SYSTEM_CACHE/base
	tar=$dir/$name-$key.tar
	if [ -s "$tar" ]; then
		echo "system: cache hit $tar" >&2
		echo "$tar"
		return 0
	fi
	mkdir -p "$dir" || return 1
	tmp=$(mktemp "$dir/.$name-$key.XXXXXX.tar") || return 1
	t0=$(date +%s)
	echo "system: building $name (mmdebstrap, log $tmp.log)" >&2
	if ! sys_build_base "$name" "$tmp" "$tmp.log"; then
		tail -n 30 "$tmp.log" >&2
		rm -f "$tmp"
		echo "system: mmdebstrap of $name failed (log $tmp.log)" >&2
		return 1
	fi
	sys_inputs "$name" >"$dir/$name-$key.inputs" || return 1
	mv "$tmp.log" "$dir/$name-$key.log" || return 1
	mv "$tmp" "$tar" || return 1
	# Older keys of the same system are never used again.
	find "$dir" -maxdepth 1 -name "$name-*" ! -name "$name-$key.*" -delete
	echo "system: built $tar in $(($(date +%s) - t0)) s" >&2
	echo "$tar"
}
