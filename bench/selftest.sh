#!/bin/bash
# Self-test of the benchmark's number crunching (bench/lib.sh) on known
# inputs: min/median/max, the least-squares fit, the per-point CSV and the
# gnuplot script. No VM; well under a second. `make check-bench-selftest`.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

FAILS=0
T=$(mktemp -d /tmp/iofs-bench-selftest.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

expect() {
	local what=$1 want=$2 got=$3
	if [ "$got" = "$want" ]; then
		echo "ok: $what"
	else
		echo "FAIL: $what: expected '$want', got '$got'"
		FAILS=$((FAILS + 1))
	fi
}

expect "stats of 3 values" "1 3 5" "$(printf '5\n1\n3\n' | bench_stats)"
expect "stats of 4 values (median = mean of the middle two)" "1 2.5 10" "$(printf '10\n2\n1\n3\n' | bench_stats)"
expect "stats of one value" "7.25 7.25 7.25" "$(echo 7.25 | bench_stats)"
expect "stats: numeric, not lexical order" "9 10 100" "$(printf '100\n9\n10\n' | bench_stats)"
printf '' | bench_stats 2>/dev/null && { echo "FAIL: stats of nothing succeeded"; FAILS=$((FAILS + 1)); }

expect "exact line y = 2x + 3" "2 3" "$(printf '0 3\n1 5\n2 7\n10 23\n' | bench_fit)"
# y = 0.5x + 1 with symmetric noise +-0.1: the noise cancels.
expect "noisy line" "0.5 1" "$(printf '0 1.1\n0 0.9\n4 3.1\n4 2.9\n' | bench_fit)"
expect "flat line" "0 14" "$(printf '0 14\n64 14\n256 14\n' | bench_fit)"
printf '5 1\n5 2\n' | bench_fit 2>/dev/null && { echo "FAIL: fit with one distinct x succeeded"; FAILS=$((FAILS + 1)); }

# per-boot CSV -> per-point CSV -> fits
{
	echo "$BENCH_CSV_HEADER"
	echo "plain,0,1,1,1536,4.4,13.70,13.5,13.4,100000,1500000,1400000,40000000,0,40.0,l1"
	echo "plain,0,2,1,1536,4.4,13.80,13.5,13.4,104000,1500000,1396000,40000000,0,42.0,l2"
	echo "plain,0,3,1,1536,4.4,13.60,13.5,13.4,102000,1500000,1398000,40000000,0,41.0,l3"
	echo "plain,100,1,1,1536,8.4,23.70,23.5,23.4,200000,1500000,1300000,140000000,0,60.0,l4"
	echo "plain,100,2,1,1536,8.4,23.70,23.5,23.4,200000,1500000,1300000,140000000,0,61.0,l5"
	echo "plain,100,3,1,1536,8.4,23.70,23.5,23.4,200000,1500000,1300000,140000000,0,62.0,l6"
	echo "init,0,1,1,1536,2.0,14.00,13.9,13.8,120000,1500000,1380000,5000000,60000000,40.0,l7"
	echo "init,100,1,1,1536,2.0,14.50,14.4,14.3,121000,1500000,1379000,5000000,160000000,41.0,l8"
} >"$T/boots.csv"
bench_points "$T/boots.csv" >"$T/points.csv"
expect "points header" "$BENCH_POINTS_HEADER" "$(head -n 1 "$T/points.csv")"
expect "points rows" 4 "$(tail -n +2 "$T/points.csv" | wc -l | tr -d ' ')"
expect "plain S=0 point" "plain,0,3,13.60,13.70,13.80,4.4,4.4,4.4,100000,102000,104000,40000000,0,41.0" \
	"$(grep '^plain,0,' "$T/points.csv")"
expect "init S=100 point" "init,100,1,14.50,14.50,14.50,2.0,2.0,2.0,121000,121000,121000,5000000,160000000,41.0" \
	"$(grep '^init,100,' "$T/points.csv")"
expect "field lookup" 23.70 "$(bench_field "$T/points.csv" plain 100 root_med)"
bench_field "$T/points.csv" plain 50 root_med >/dev/null && { echo "FAIL: lookup of a missing point succeeded"; FAILS=$((FAILS + 1)); }
expect "plain fit (s per MiB, s)" "0.1 13.7" "$(bench_variant_fit "$T/points.csv" plain)"
expect "init fit" "0.005 14" "$(bench_variant_fit "$T/points.csv" init)"
expect "RAM fit (KiB per MiB)" "10 120000" "$(bench_variant_fit "$T/points.csv" init used_med_kb)"
expect "calc" "20.0" "$(bench_calc "0.1 / 0.005" %.1f)"

# plot SCRIPT POINTS VARIANTS [SETTINGS]: the plot script renders these
# points (SETTINGS: more gnuplot assignments); its output is in $T/gp.log
plot() {
	if gnuplot -e "points='$2'; out='$T/p.png'; variants='$3'; shift_n='1'; mem='1536'; ${4:-}" \
		"$HERE/$1" >"$T/gp.log" 2>&1 && [ -s "$T/p.png" ]; then
		echo "ok: gnuplot renders $1"
	else
		echo "FAIL: gnuplot $1: $(cat "$T/gp.log")"
		FAILS=$((FAILS + 1))
	fi
	rm -f "$T/p.png"
}
plot plot.gp "$T/points.csv" "plain init"

# the peer benchmark: per-boot -> per-point CSV, ratios
{
	echo "$BENCH_PEERS_HEADER"
	echo "dracut,generic,1,2048,38000000,38000000,0,,,5.2,12.2,,22.7,23.0,32.0,182.7,150.5,100,l1"
	echo "dracut,generic,2,2048,38000000,38000000,0,,,5.2,12.2,,22.7,25.0,32.2,180.1,150.5,100,l2"
	echo "dracut,generic,3,2048,38000000,38000000,0,,,5.2,12.2,,22.7,24.0,32.1,190.0,150.5,100,l3"
	echo "init,generic,1,2048,48740000,2058924,46682112,,,5.1,9.8,13.5,20.8,12.0,30.0,139.1,156.1,100,l4"
	echo "squash-erofs,generic,1,2048,83933696,83933696,0,,,5.2,10.0,12.5,21.5,18.0,30.8,197.8,152.2,100,l5"
} >"$T/peers.csv"
printf 'init,generic,384\nsquash-erofs,generic,512\n' >"$T/minram.csv"
bench_peer_points "$T/peers.csv" "$T/minram.csv" >"$T/peers-points.csv"
expect "peer points header" "$BENCH_PEERS_POINTS_HEADER" "$(head -n 1 "$T/peers-points.csv")"
expect "peer point: medians of three boots" "dracut,generic,36.24,24.000,32.100,182.7,,38000000" \
	"$(grep '^dracut,' "$T/peers-points.csv")"
expect "peer point: min RAM filled in" "init,generic,46.48,12.000,30.000,139.1,384,2058924" \
	"$(grep '^init,' "$T/peers-points.csv")"
expect "peer point lookup" 512 "$(bench_point "$T/peers-points.csv" squash-erofs generic min_ram_mib)"
bench_point "$T/peers-points.csv" dracut grown root_s >/dev/null &&
	{ echo "FAIL: lookup of a missing peer point succeeded"; FAILS=$((FAILS + 1)); }
expect "ratios line" \
	"ratios at generic: dracut/initoverlayfs root 2.00, squash-erofs/initoverlayfs root 1.50, squash-erofs/initoverlayfs min RAM 1.33" \
	"$(bench_peer_ratios "$T/peers-points.csv" generic)"
expect "ratios line, a point missing" \
	"ratios at grown: dracut/initoverlayfs root n/a, squash-erofs/initoverlayfs root n/a, squash-erofs/initoverlayfs min RAM n/a" \
	"$(bench_peer_ratios "$T/peers-points.csv" grown)"
plot peers.gp "$T/peers-points.csv" "dracut squash-erofs init"

# peers.gp draws a variant's line through its points only when they are
# neighbours in what it plots: the CSV interleaves the variants by content
{
	echo "$BENCH_PEERS_POINTS_HEADER"
	echo "dracut,generic,36.24,23.000,32.100,182.7,,38000000"
	echo "init,generic,46.48,21.000,30.000,139.1,,2058924"
	echo "dracut,grown,125.05,29.500,37.400,385.5,512,131124828"
	echo "init,grown,159.74,24.500,32.500,155.4,160,2058927"
} >"$T/interleaved.csv"
plot peers.gp "$T/interleaved.csv" "dracut init" "rows_out='$T/rows'"
expect "peers.gp: rows grouped by variant" "36.24 1|125.05 1|46.48 2|159.74 2" \
	"$(awk -F, 'NF >= 4 { printf "%s%g %g", sep, $1, $4; sep = "|" }' "$T/rows" 2>&1)"
expect "peers.gp: no warnings" "" "$(cat "$T/gp.log")"

# the scripts of both benchmarks (not run by make check: they boot VMs)
if shellcheck -x -e SC1091 "$HERE/peers.sh" "$HERE/run.sh" "$HERE/system.sh" "$HERE/lib.sh" \
	"$HERE/selftest.sh" "$HERE/guest/iofs-bench-report" >"$T/sc.log" 2>&1; then
	echo "ok: shellcheck of the benchmarks' scripts"
else
	echo "FAIL: shellcheck: $(cat "$T/sc.log")"
	FAILS=$((FAILS + 1))
fi

if [ "$FAILS" -ne 0 ]; then
	echo "bench selftest: $FAILS failure(s)"
	exit 1
fi
echo "bench selftest: all passed"
