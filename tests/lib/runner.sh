# Minimal test runner shared by the shell test tiers (sourced).
#
#   run_case NAME FUNCTION   runs FUNCTION in a subshell through run_strict;
#                            its output goes to $TEST_LOG_DIR/NAME.log and is
#                            shown when it fails
#   run_strict COMMAND...    runs COMMAND with `set -e` and inherit_errexit:
#                            a failure inside `$(...)` (e.g. `fail` in a helper
#                            called as `x=$(helper)`) ends the case too, which
#                            plain `set -e` does not do
#   runner_summary TIER      prints "TIER: N passed, N failed", returns 1 on
#                            any failure
#   kernel_release           prints $KVER if /lib/modules/$KVER has modules.dep,
#                            else the newest release under /lib/modules that
#                            has one; fails when there is none
#
# A case fails by returning non-zero or through `fail MESSAGE`.

RUNNER_PASSED=0
RUNNER_FAILED=0
RUNNER_FAILED_NAMES=""
TEST_LOG_DIR=${TEST_LOG_DIR:-$(mktemp -d)}

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# assert_contains FILE TEXT: FILE has a line containing TEXT (fixed string).
assert_contains() {
	grep -qF -- "$2" "$1" || fail "$1 does not contain '$2'"
}

assert_not_contains() {
	if grep -qF -- "$2" "$1"; then
		fail "$1 contains '$2'"
	fi
}

kernel_release() {
	local d rel best=""
	if [ -n "${KVER:-}" ]; then
		if [ ! -f "/lib/modules/$KVER/modules.dep" ]; then
			echo "kernel_release: KVER=$KVER but /lib/modules/$KVER/modules.dep is missing" >&2
			return 1
		fi
		echo "$KVER"
		return 0
	fi
	for d in /lib/modules/*/modules.dep; do
		[ -f "$d" ] || continue
		rel=${d%/modules.dep}
		rel=${rel##*/}
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	if [ -z "$best" ]; then
		echo "kernel_release: no modules.dep under /lib/modules (install linux-image-amd64)" >&2
		return 1
	fi
	echo "$best"
}

run_strict() {
	shopt -s inherit_errexit
	set -e
	"$@"
}

run_case() {
	name=$1
	fn=$2
	log="$TEST_LOG_DIR/$name.log"
	start=$(date +%s.%N)
	# Not inside `if`: bash ignores `set -e` in a condition's subshell.
	(run_strict "$fn") >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		RUNNER_PASSED=$((RUNNER_PASSED + 1))
		printf 'PASS %-40s %6.2fs\n' "$name" "$(echo "$(date +%s.%N) - $start" | bc)"
	else
		RUNNER_FAILED=$((RUNNER_FAILED + 1))
		RUNNER_FAILED_NAMES="$RUNNER_FAILED_NAMES $name"
		printf 'FAIL %s\n' "$name"
		sed 's/^/    | /' "$log"
	fi
}

runner_summary() {
	if [ "$RUNNER_FAILED" -gt 0 ]; then
		echo "$1: failed:$RUNNER_FAILED_NAMES"
	fi
	echo "$1: $RUNNER_PASSED passed, $RUNNER_FAILED failed"
	[ "$RUNNER_FAILED" -eq 0 ]
}
