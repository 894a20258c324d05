# shellcheck shell=bash
# The initoverlayfs .deb of the working tree, built once per tree content
# (sourced by the system tier and the peer benchmark, after tree.sh).
#
#   deb_cached CACHE HASH KEEP   print the path of the .deb built from the
#                                tree files (tree_files) into CACHE/HASH,
#                                building it first (dpkg-buildpackage in a
#                                copy) when CACHE/HASH has none; only the
#                                KEEP newest builds stay in CACHE. Progress
#                                on stderr.

deb_cached() {
	local cache=$1 keep=$3 dir=$1/$2 src version
	if ls "$dir"/initoverlayfs_*.deb >/dev/null 2>&1; then
		touch "$dir"
		echo "cache hit $dir" >&2
		ls "$dir"/initoverlayfs_*.deb
		return 0
	fi
	version=$(sed -n 's/^VERSION := //p' "$TOP/Makefile")
	[ -n "$version" ] || { echo "deb: no VERSION in $TOP/Makefile" >&2; return 1; }
	src=$(mktemp -d /var/tmp/initoverlayfs-deb.XXXXXX) || return 1
	mkdir -p "$src/initoverlayfs-$version" || return 1
	tree_files | tar -C "$TOP" --null -T - -cf - | tar -C "$src/initoverlayfs-$version" -xf - || return 1
	if ! (cd "$src/initoverlayfs-$version" && env -u TEST_LOG_DIR dpkg-buildpackage -us -uc -b) \
		>"$src/build.log" 2>&1; then
		tail -n 40 "$src/build.log" >&2
		echo "deb: dpkg-buildpackage failed (log $src/build.log)" >&2
		return 1
	fi
	# Into place whole (a run beside this one may look at $dir), and only
	# the newest KEEP trees are kept: several branches share the cache.
	mkdir -p "$cache" "$src/out" || return 1
	cp "$src"/initoverlayfs_*.deb "$src/out/" || return 1
	mv -T "$src/out" "$dir" 2>/dev/null || [ -d "$dir" ] ||
		{ echo "deb: cannot put the .deb into $dir" >&2; return 1; }
	rm -rf "$src"
	echo "built $(ls "$dir")" >&2
	find "$cache" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn |
		tail -n +"$((keep + 1))" | cut -d' ' -f2- | xargs -r rm -rf --
	ls "$dir"/initoverlayfs_*.deb
}
