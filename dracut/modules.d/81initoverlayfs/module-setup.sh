#!/bin/bash
# dracut module for initoverlayfs: a mini-initramfs that mounts the EROFS
# image holding the full initrd under a tmpfs overlay and switches into it.
#
# Included only on request (dracut --add initoverlayfs). Settings, from
# dracut.conf(.d) or the environment:
#   initoverlayfs_mode     systemd (default): pre-initoverlayfs.target is the
#                          default target, the boot program runs as
#                          pre-initoverlayfs.service; init: /init is the
#                          boot program (no systemd). Unset, the config's
#                          initoverlayfs_init (the original initoverlayfs'
#                          key) decides, as the boot program reads it
#   initoverlayfs_binary   the boot program (default /usr/sbin/initoverlayfs);
#                          it names the mount points to create
#   initoverlayfs_install  the installer (default
#                          /usr/sbin/initoverlayfs-install; initoverlayfs-install
#                          --mode systemd sets itself); it names the kernel
#                          modules every mini-initramfs gets
#   initoverlayfs_unitdir  where the units are (default: systemd's unit dir)
#   initoverlayfs_conf     the config (default /etc/initoverlayfs.conf)

_iofs_mode() {
    local _mode
    if [[ -n ${initoverlayfs_mode:-} ]]; then
        echo "$initoverlayfs_mode"
        return 0
    fi
    # "# initoverlayfs-install mode: init (initoverlayfs_init)"
    _mode=$("$(_iofs_binary)" --check-config "$(_iofs_conf)" 2>/dev/null |
        sed -n 's/^# initoverlayfs-install mode: \([a-z]*\) .*/\1/p')
    echo "${_mode:-systemd}"
}

_iofs_binary() {
    echo "${initoverlayfs_binary:-/usr/sbin/initoverlayfs}"
}

_iofs_install() {
    echo "${initoverlayfs_install:-/usr/sbin/initoverlayfs-install}"
}

# _iofs_modules SET: the kernel modules of SET ('mount': what the boot
# program mounts the image with, 'verity': and one with a hash tree,
# 'storage': boot device drivers), one a line, as the installer lists them.
_iofs_modules() {
    local _out
    if ! _out=$("$(_iofs_install)" --print-modules="$1"); then
        derror "initoverlayfs: $(_iofs_install) --print-modules=$1 failed"
        return 1
    fi
    echo "$_out"
}

_iofs_unitdir() {
    echo "${initoverlayfs_unitdir:-${systemdsystemunitdir:-/usr/lib/systemd/system}}"
}

_iofs_conf() {
    echo "${initoverlayfs_conf:-/etc/initoverlayfs.conf}"
}

_iofs_units="pre-initoverlayfs.target pre-initoverlayfs.service pre-initoverlayfs-switch-root.service"

# _iofs_conf_value KEY: the value of KEY in the config ("KEY VALUE" or
# "KEY=VALUE", optionally quoted), empty when unset.
_iofs_conf_value() {
    local _conf
    _conf=$(_iofs_conf)
    [[ -r $_conf ]] || return 0
    sed -n -E "s/^[[:space:]]*$1[[:space:]]*(=|[[:space:]])[[:space:]]*\"?([^\"#]*)\"?.*/\\2/p" "$_conf" \
        | tail -n 1 | sed -E 's/[[:space:]]+$//'
}

# called by dracut
check() {
    local _u _unitdir
    require_binaries "$(_iofs_binary)" "$(_iofs_install)" || return 1
    case "$(_iofs_mode)" in
        systemd)
            _unitdir=$(_iofs_unitdir)
            for _u in $_iofs_units; do
                if [[ ! -f $_unitdir/$_u ]]; then
                    derror "initoverlayfs: $_unitdir/$_u is missing"
                    return 1
                fi
            done
            ;;
        init) ;;
        *)
            derror "initoverlayfs: initoverlayfs_mode must be 'systemd' or 'init', not '$(_iofs_mode)'"
            return 1
            ;;
    esac
    # only when asked for (--add initoverlayfs)
    return 255
}

# called by dracut
depends() {
    if [[ "$(_iofs_mode)" == systemd ]]; then
        echo systemd systemd-udevd base
    fi
    return 0
}

# called by dracut
installkernel() {
    local _fstype _extra _mods
    # what the boot program itself mounts with, with or without a hash
    # tree: always, whatever the host uses
    _mods="$(_iofs_modules mount) $(_iofs_modules verity)" || return 1
    # shellcheck disable=SC2086
    hostonly='' instmods $_mods
    _fstype=$(_iofs_conf_value bootfstype)
    # shellcheck disable=SC2086
    [[ -n $_fstype ]] && hostonly='' instmods $_fstype
    _extra=$(_iofs_conf_value modules)
    # shellcheck disable=SC2086
    [[ -n $_extra ]] && hostonly='' instmods ${_extra//,/ }
    # storage drivers for the boot device (only the host's in hostonly mode)
    _mods=$(_iofs_modules storage) || return 1
    # shellcheck disable=SC2086
    instmods $_mods
    return 0
}

# called by dracut
install() {
    local _conf _unitdir _u _points _dir
    inst_binary "$(_iofs_binary)" /usr/sbin/initoverlayfs
    # dracut's image has no module plan (initoverlayfs-install writes one
    # only into its own): the boot program then opens libkmod itself
    # (dlopen), which inst_binary cannot see
    inst_libdir_file "libkmod.so.2*"

    _conf=$(_iofs_conf)
    if [[ -f $_conf ]]; then
        inst_simple "$_conf" /etc/initoverlayfs.conf
    else
        dinfo "initoverlayfs: no $_conf; the installer adds it (dracut --include)"
    fi

    # the boot program's mount points ("KEY PATH" lines)
    if ! _points=$("$(_iofs_binary)" --print-mount-points); then
        derror "initoverlayfs: $(_iofs_binary) --print-mount-points failed"
        return 1
    fi
    while read -r _ _dir; do
        inst_dir "$_dir"
    done <<<"$_points"

    if [[ "$(_iofs_mode)" == systemd ]]; then
        _unitdir=$(_iofs_unitdir)
        for _u in $_iofs_units; do
            inst_simple "$_unitdir/$_u" "$systemdsystemunitdir/$_u"
        done
        inst_multiple systemctl
        # OnFailure=emergency.target needs emergency.service, which dracut's
        # own (dracut-systemd) is not part of this mini-initramfs: systemd's.
        inst_multiple -o "$systemdsystemunitdir/emergency.service" \
            "$systemdsystemunitdir/emergency.target" \
            "$systemdutildir/systemd-sulogin-shell" sulogin
        # /etc wins over the unit directory, whatever other modules link:
        # default.target for older systemd, initrd.target for systemd that
        # starts it in an initrd.
        # udev's hardware database names and maps devices for desktops
        # (keyboards, USB and PCI names, sensors): no storage rule and no
        # driver loading reads it, and it is the largest file of this image
        # (Debian 12: 13 MB, 1.9 MB compressed)
        rm -f "$initdir${udevdir:-/usr/lib/udev}/hwdb.bin" "$initdir/usr/lib/udev/hwdb.bin" \
            "$initdir/lib/udev/hwdb.bin" "$initdir/etc/udev/hwdb.bin"
        # systemd runs as an initrd's only where /etc/initrd-release
        # exists: dracut 059's base module links it, dracut 106 leaves it
        # to systemd-initrd and dracut-systemd, which this image has not
        # (without it, the units' ConditionPathExists=/etc/initrd-release
        # fails and the boot stops)
        if [[ ! -e $initdir/etc/initrd-release ]]; then
            ln -sfn ../usr/lib/initrd-release "$initdir/etc/initrd-release"
        fi
        mkdir -p "$initdir/etc/systemd/system"
        ln -sfn "$systemdsystemunitdir/pre-initoverlayfs.target" \
            "$initdir/etc/systemd/system/default.target"
        ln -sfn "$systemdsystemunitdir/pre-initoverlayfs.target" \
            "$initdir/etc/systemd/system/initrd.target"
    else
        ln -sfn usr/sbin/initoverlayfs "$initdir/init"
    fi
}
