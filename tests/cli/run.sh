#!/bin/bash
# Command line behaviour of the boot program outside of a boot: --help,
# --version, --check-config and usage errors. No root needed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/runner.sh"

PROGRAM=$(realpath "${1:-build/initoverlayfs}")
WORK=$(mktemp -d /tmp/iofs-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# run ARGS...: output in $WORK/out, exit status in $WORK/rc.
run() {
	rc=0
	"$PROGRAM" "$@" >"$WORK/out" 2>&1 || rc=$?
	echo "$rc" >"$WORK/rc"
	cat "$WORK/out"
}

expect_rc() {
	[ "$(cat "$WORK/rc")" = "$1" ] || fail "exit status $(cat "$WORK/rc"), expected $1"
}

case_upstream_config() {
	printf 'bootfs UUID=0d3c7e6a-1b2c-4d5e-8f90-a1b2c3d4e5f6\nbootfstype ext4\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "bootfs UUID=0d3c7e6a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	assert_contains "$WORK/out" "bootfstype ext4"
	assert_contains "$WORK/out" "fs /initoverlayfs-$(uname -r).img"
	assert_contains "$WORK/out" "fstype erofs"
	assert_contains "$WORK/out" "init /sbin/init"
	assert_contains "$WORK/out" "timeout 30"
	assert_contains "$WORK/out" "# bootfs kind: UUID"
}

case_check_config_output_parses_back() {
	printf 'bootfs=PARTLABEL=boot\nmodules virtio_blk,ext4\ndebug yes\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	cp "$WORK/out" "$WORK/conf2"
	run --check-config "$WORK/conf2"
	expect_rc 0
	cmp "$WORK/out" "$WORK/conf2" || fail "resolved config does not parse back the same"
	assert_contains "$WORK/out" "modules virtio_blk ext4"
	assert_contains "$WORK/out" "debug 1"
}

case_check_config_with_cmdline() {
	printf 'bootfs LABEL=boot\ntimeout 5\n' >"$WORK/conf"
	run --check-config "$WORK/conf" --cmdline 'ro initoverlayfs.timeout=7 initoverlayfs.bootfs="LABEL=my boot" initoverlayfs.debug'
	expect_rc 0
	assert_contains "$WORK/out" "timeout 7"
	assert_contains "$WORK/out" "bootfs LABEL=my boot"
	assert_contains "$WORK/out" "debug 1"
}

case_unknown_key_warns() {
	printf 'fs /x.img\nfuture_key 1\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 0
	assert_contains "$WORK/out" "warning: $WORK/conf:2: unknown key 'future_key', ignored"
}

case_malformed_config_names_line() {
	printf '# comment\n\nbootfs\n' >"$WORK/conf"
	run --check-config "$WORK/conf"
	expect_rc 1
	assert_contains "$WORK/out" "initoverlayfs: error: $WORK/conf:3: missing value for 'bootfs'"
}

case_missing_config() {
	run --check-config "$WORK/nope"
	expect_rc 1
	assert_contains "$WORK/out" "initoverlayfs: error: read config: $WORK/nope: No such file or directory (ENOENT)"
}

case_help_and_version() {
	run --help
	expect_rc 0
	assert_contains "$WORK/out" "Usage: initoverlayfs"
	assert_contains "$WORK/out" "--systemd"
	run --version
	expect_rc 0
	grep -qE '^initoverlayfs [0-9]+\.[0-9]+\.[0-9]+$' "$WORK/out" || fail "bad --version"
}

case_usage_errors() {
	run
	expect_rc 2
	assert_contains "$WORK/out" "not PID 1: use --systemd"
	run --no-such-option
	expect_rc 2
	run --root /tmp
	expect_rc 2
	assert_contains "$WORK/out" "--root only works with --systemd"
	run --systemd --image-mount sideways
	expect_rc 2
	assert_contains "$WORK/out" "'sideways' is not auto, file or loop"
}

run_case upstream-config case_upstream_config
run_case check-config-output-parses-back case_check_config_output_parses_back
run_case check-config-with-cmdline case_check_config_with_cmdline
run_case unknown-key-warns case_unknown_key_warns
run_case malformed-config-names-line case_malformed_config_names_line
run_case missing-config case_missing_config
run_case help-and-version case_help_and_version
run_case usage-errors case_usage_errors

runner_summary cli
