#!/bin/sh
# Builds libblkid against musl, for the static init-mode boot program
# (build/initoverlayfs-init): glibc's static libc makes that program 0.47 MB
# after zstd, musl's 0.17 MB, and it goes into every mini-initramfs.
#
# The source is Debian's util-linux, the version of the installed
# libblkid-dev (else the newest the mirror has), fetched with apt-get source
# from the host's suite through a private apt configuration (the host's own
# sources are not touched), unpacked with Debian's patches, and configured
# for libblkid alone. The result is a small sysroot:
#
#   $MUSL_SYSROOT_CACHE/KEY/lib/libblkid.a
#   $MUSL_SYSROOT_CACHE/KEY/include/blkid/blkid.h
#   $MUSL_SYSROOT_CACHE/KEY/include/{linux,asm,asm-generic,libkmod.h}
#                                   links to the host's kernel headers and
#                                   libkmod.h (declarations only: the
#                                   static program never opens libkmod)
#   $MUSL_SYSROOT_CACHE/current -> KEY
#
# KEY names the util-linux source version and musl's, so a new version of
# either builds anew; an existing KEY is reused without network. The
# Makefile builds the musl program when current/lib/libblkid.a is there.
#
# Usage: scripts/build-musl-blkid.sh   (root; MUSL_SYSROOT_CACHE, default
#                                       /var/cache/initoverlayfs-build/musl)
set -eu

CACHE=${MUSL_SYSROOT_CACHE:-/var/cache/initoverlayfs-build/musl}
MULTIARCH=$(gcc -print-multiarch)

say() { echo "musl-blkid: $*"; }
die() {
	echo "musl-blkid: $*" >&2
	exit 1
}

command -v musl-gcc >/dev/null || die "musl-gcc is not installed (package musl-tools)"
command -v dpkg-source >/dev/null || die "dpkg-source is not installed (package dpkg-dev)"
musl_version=$(dpkg-query -W -f='${Version}' musl-dev) || die "musl-dev is not installed"
blkid_version=$(dpkg-query -W -f='${source:Version}' libblkid-dev) ||
	die "libblkid-dev is not installed"
# shellcheck disable=SC1091
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || die "/etc/os-release names no VERSION_CODENAME"

key=util-linux-$blkid_version-musl-$musl_version
if [ -f "$CACHE/$key/lib/libblkid.a" ] && [ -f "$CACHE/$key/include/blkid/blkid.h" ]; then
	ln -sfn "$key" "$CACHE/current"
	say "cached: $CACHE/$key"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "$CACHE/$key is not built (run as root: scripts/build-musl-blkid.sh)"

mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
apt_dir=$work/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$work/src"
chmod 755 "$work" "$work/src"
uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources \
	2>/dev/null | grep -v security | head -n 1 || true)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
	>"$apt_dir/sources.list"
set -- -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" \
	-o APT::Sandbox::User=root
say "fetching util-linux $blkid_version's source from $uri ($suite)"
apt-get "$@" -qq update >"$work/apt.log" 2>&1 || {
	cat "$work/apt.log" >&2
	die "apt-get update of the deb-src list failed"
}
if ! (cd "$work/src" && apt-get "$@" -qq source --download-only "util-linux=$blkid_version" \
	>>"$work/apt.log" 2>&1); then
	say "util-linux $blkid_version is not on the mirror; taking its newest"
	(cd "$work/src" && apt-get "$@" -qq source --download-only util-linux >>"$work/apt.log" 2>&1) || {
		cat "$work/apt.log" >&2
		die "apt-get source util-linux failed"
	}
fi
dsc=$(find "$work/src" -maxdepth 1 -name 'util-linux_*.dsc' | head -n 1)
[ -n "$dsc" ] || die "no util-linux .dsc was downloaded"
(cd "$work/src" && dpkg-source -x "$dsc" tree >"$work/unpack.log" 2>&1) || {
	cat "$work/unpack.log" >&2
	die "dpkg-source -x $dsc failed"
}

# the kernel's headers and libkmod.h, which musl's include path lacks
inc=$work/out/include
mkdir -p "$inc/blkid" "$work/out/lib"
ln -s /usr/include/linux "$inc/linux"
ln -s /usr/include/asm-generic "$inc/asm-generic"
ln -s "/usr/include/$MULTIARCH/asm" "$inc/asm"
ln -s /usr/include/libkmod.h "$inc/libkmod.h"

say "building libblkid with musl-gcc (about a minute)"
tree=$work/src/tree
(cd "$tree" && CC="musl-gcc -isystem $inc" ./configure --disable-all-programs \
	--enable-libblkid --disable-shared --enable-static --disable-nls --without-udev \
	--without-systemd --without-python --without-readline --without-ncursesw \
	--without-tinfo --without-selinux --without-audit --without-cap-ng --without-btrfs \
	--without-econf --disable-bash-completion --disable-asciidoc --disable-poman \
	--disable-makeinstall-chown --disable-makeinstall-setuid >"$work/configure.log" 2>&1) || {
	tail -n 30 "$work/configure.log" >&2
	die "configure failed (log above)"
}
(cd "$tree" && make -j"$(nproc)" libblkid.la >"$work/make.log" 2>&1) || {
	tail -n 30 "$work/make.log" >&2
	die "make libblkid.la failed (log above)"
}
install -m 0644 "$tree/.libs/libblkid.a" "$work/out/lib/libblkid.a"
install -m 0644 "$tree/libblkid/src/blkid.h" "$inc/blkid/blkid.h"
basename "$dsc" >"$work/out/SOURCE"

rm -rf "${CACHE:?}/$key"
mv "$work/out" "$CACHE/$key"
ln -sfn "$key" "$CACHE/current"
# older builds go: the cache keeps the current one
for old in "$CACHE"/util-linux-*; do
	[ "$old" = "$CACHE/$key" ] || rm -rf "$old"
done
say "built $CACHE/$key"
