# shellcheck shell=bash
# Commands run inside a Debian tree as they would run on that system
# (sourced by the system tier and the peer benchmark).
#
#   chroot_run ROOT BOOT OUT UPPER CMD...
#       CMD chrooted into ROOT, or into an overlay over ROOT with UPPER as
#       its upper layer when UPPER is not empty (ROOT then stays as it
#       was), in a mount namespace of its own: /proc, /sys and /dev of the
#       host, tmpfs /run and /tmp, and a tmpfs /boot holding a copy of the
#       directory BOOT: a file system of its own, as on a disk (a bind
#       mount of BOOT would not do: the installer names the image by its
#       path in the file system, which would be BOOT's path on the host's).
#       Afterwards, with OUT empty, BOOT is made
#       what the chroot's /boot became; otherwise only the entries CMD
#       added to /boot are copied into OUT. CMD's status is the function's.

chroot_run() {
	local root=$1 boot=$2 out=$3 upper=$4
	shift 4
	[ -z "$out" ] || mkdir -p "$out" || return 1
	# shellcheck disable=SC2016 # the inner shell's own variables
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1 boot=$2 out=$3 upper=$4
		shift 4
		if [ -n "$upper" ]; then
			mkdir -p "$upper/upper" "$upper/work" "$upper/merged"
			mount -t overlay overlay \
				-o "lowerdir=$root,upperdir=$upper/upper,workdir=$upper/work" "$upper/merged"
			root=$upper/merged
		else
			mount --bind "$root" "$root"
		fi
		mount -t tmpfs -o mode=0755 tmpfs "$root/boot"
		cp -a "$boot/." "$root/boot/"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs tmpfs "$root/run"
		mount -t tmpfs tmpfs "$root/tmp"
		rc=0
		chroot "$root" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" || rc=$?
		if [ -z "$out" ]; then
			find "$boot" -mindepth 1 -delete
			cp -a "$root/boot/." "$boot/"
		else
			for f in "$root"/boot/* "$root"/boot/.[!.]*; do
				[ -e "$f" ] || [ -L "$f" ] || continue
				[ -e "$boot/${f##*/}" ] || [ -L "$boot/${f##*/}" ] || cp -a "$f" "$out/"
			done
		fi
		exit $rc
	' sh "$root" "$boot" "$out" "$upper" "$@"
}
