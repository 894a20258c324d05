# shellcheck shell=bash
# Number crunching for the boot benchmark (sourced by bench/run.sh and
# bench/selftest.sh). Plain awk (Debian's mawk: no asort), no bashisms in
# the awk programs.
#
# Per-boot CSV (bench/results/boot-scaling.csv), one row per boot:
#   variant,size_mib,run,icount_shift,mem_mib,init_s,root_s,switch_s,
#   probe_s,used_kb,memtotal_kb,memavail_kb,initramfs_bytes,image_bytes,
#   wall_s,log
# Per-point CSV (bench/results/boot-scaling-points.csv), one row per
# (variant, size), from bench_points:
#   variant,size_mib,n,root_min,root_med,root_max,init_min,init_med,
#   init_max,used_min_kb,used_med_kb,used_max_kb,initramfs_bytes,
#   image_bytes,wall_med

# shellcheck disable=SC2034 # used by run.sh and selftest.sh
BENCH_CSV_HEADER="variant,size_mib,run,icount_shift,mem_mib,init_s,root_s,switch_s,probe_s,used_kb,memtotal_kb,memavail_kb,initramfs_bytes,image_bytes,wall_s,log"
BENCH_POINTS_HEADER="variant,size_mib,n,root_min,root_med,root_max,init_min,init_med,init_max,used_min_kb,used_med_kb,used_max_kb,initramfs_bytes,image_bytes,wall_med"

# awk helpers shared by the programs below: sort a[1..n] ascending (n is
# tiny: insertion sort), median of a sorted a[1..n], median of one key's
# values.
BENCH_AWK_LIB='
function isort(a, n,    i, j, v) {
	for (i = 2; i <= n; i++) {
		v = a[i]
		for (j = i - 1; j >= 1 && a[j] + 0 > v + 0; j--) a[j + 1] = a[j]
		a[j + 1] = v
	}
}
function median(a, n) {
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
# median of arr[k, 1..m] (the values of one key)
function med(arr, k, m,    i, a) {
	for (i = 1; i <= m; i++) a[i] = arr[k, i]
	isort(a, m)
	return median(a, m)
}
'

# bench_stats: read one number per line on stdin, print "MIN MEDIAN MAX"
# (fails on empty input).
bench_stats() {
	awk "$BENCH_AWK_LIB"'
	NF { v[++n] = $1 }
	END {
		if (!n) { print "bench_stats: no values" > "/dev/stderr"; exit 1 }
		isort(v, n)
		printf "%.6g %.6g %.6g\n", v[1], median(v, n), v[n]
	}'
}

# bench_fit: read "X Y" lines on stdin, print "SLOPE INTERCEPT" of the
# least-squares line y = SLOPE * x + INTERCEPT. Needs two distinct X.
bench_fit() {
	awk '
	NF >= 2 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
	END {
		d = n * sxx - sx * sx
		if (n < 2 || d == 0) { print "bench_fit: need two distinct x values" > "/dev/stderr"; exit 1 }
		m = (n * sxy - sx * sy) / d
		printf "%.6g %.6g\n", m, (sy - m * sx) / n
	}'
}

# bench_points CSV: print the per-point CSV (header first) of a per-boot
# CSV, rows in the order the (variant, size) pairs first appear.
bench_points() {
	awk -F, "$BENCH_AWK_LIB"'
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		k = $col["variant"] "," $col["size_mib"]
		if (!(k in n)) { order[++npts] = k; n[k] = 0 }
		i = ++n[k]
		root[k, i] = $col["root_s"]; init[k, i] = $col["init_s"]
		used[k, i] = $col["used_kb"]; wall[k, i] = $col["wall_s"]
		ird[k] = $col["initramfs_bytes"]; img[k] = $col["image_bytes"]
	}
	function stat3(arr, k, m,    i, a) {
		for (i = 1; i <= m; i++) a[i] = arr[k, i]
		isort(a, m)
		return a[1] "," median(a, m) "," a[m]
	}
	END {
		print "'"$BENCH_POINTS_HEADER"'"
		for (p = 1; p <= npts; p++) {
			k = order[p]; m = n[k]
			print k "," m "," stat3(root, k, m) "," stat3(init, k, m) "," \
				stat3(used, k, m) "," ird[k] "," img[k] "," med(wall, k, m)
		}
	}' "$1"
}

# bench_variant_fit POINTS VARIANT [FIELD]: least-squares fit of FIELD
# (default root_med, seconds) against size_mib over the variant's points;
# prints "SLOPE INTERCEPT" (seconds per MiB, seconds).
bench_variant_fit() {
	awk -F, -v v="$2" -v f="${3:-root_med}" '
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$col["variant"] == v { print $col["size_mib"], $col[f] }' "$1" | bench_fit
}

# bench_csv_get CSV FIELD COLUMN=VALUE...: FIELD of the first row of CSV
# (columns by header name) whose columns have those values; fails when no
# row matches or a column is missing.
bench_csv_get() {
	local csv=$1 field=$2
	shift 2
	awk -F, -v f="$field" -v keys="$*" '
	NR == 1 {
		for (i = 1; i <= NF; i++) col[$i] = i
		n = split(keys, kv, " ")
		for (i = 1; i <= n; i++) {
			eq = index(kv[i], "=")
			name[i] = substr(kv[i], 1, eq - 1); want[i] = substr(kv[i], eq + 1)
			if (!(name[i] in col)) exit 1
		}
		if (!(f in col)) exit 1
		next
	}
	{
		for (i = 1; i <= n; i++) if ($col[name[i]] != want[i]) next
		print $col[f]; found = 1; exit
	}
	END { if (!found) exit 1 }' "$csv"
}

# bench_field POINTS VARIANT SIZE FIELD: one value of the per-point CSV.
bench_field() {
	bench_csv_get "$1" "$4" variant="$2" size_mib="$3"
}

# bench_calc EXPR: evaluate an awk expression, print the result (%.4g
# unless a format is given as $2).
bench_calc() {
	awk "BEGIN { printf \"${2:-%.4g}\n\", $1 }"
}

# bench_point POINTS VARIANT CONTENT FIELD: one value of the peer
# benchmark's per-point CSV.
bench_point() {
	bench_csv_get "$1" "$4" variant="$2" content="$3"
}

# The peer benchmark (bench/peers.sh). Per-boot CSV (bench/results/peers.csv):
BENCH_PEERS_HEADER="variant,content,run,mem_mib,shipped_bytes,initrd_bytes,image_bytes,fw_s,loader_s,kernel_s,init_s,image_s,switch_s,root_s,multiuser_s,ram_switch_mib,ram_mib,wall_s,log"
# Per-point CSV (bench/results/peers-points.csv), medians over the boots:
# ram_mib is the RAM in use at the switch to the root.
BENCH_PEERS_POINTS_HEADER="variant,content,shipped_mib,root_s,multiuser_s,ram_mib,min_ram_mib,initrd_bytes"

# bench_peer_points BOOTS [MINRAM]: the per-point CSV of a per-boot CSV,
# one row per (variant, content) in the order they first appear; MINRAM,
# when given, is a CSV "variant,content,min_ram_mib" (no header) whose
# values fill min_ram_mib (empty elsewhere).
bench_peer_points() {
	awk -F, -v minram="${2:-}" "$BENCH_AWK_LIB"'
	BEGIN {
		if (minram != "")
			while ((getline l < minram) > 0) { split(l, f, ","); mm[f[1] "," f[2]] = f[3] }
	}
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		k = $col["variant"] "," $col["content"]
		if (!(k in n)) { order[++npts] = k; n[k] = 0 }
		i = ++n[k]
		root[k, i] = $col["root_s"]; mu[k, i] = $col["multiuser_s"]; ram[k, i] = $col["ram_switch_mib"]
		shipped[k] = $col["shipped_bytes"]; ird[k] = $col["initrd_bytes"]
	}
	END {
		print "'"$BENCH_PEERS_POINTS_HEADER"'"
		for (p = 1; p <= npts; p++) {
			k = order[p]; m = n[k]
			printf "%s,%.2f,%.3f,%.3f,%.1f,%s,%s\n", k, shipped[k] / 1048576, med(root, k, m),
				med(mu, k, m), med(ram, k, m), mm[k], ird[k]
		}
	}' "$1"
}

# bench_peer_ratio POINTS CONTENT VARIANT FIELD: VARIANT's FIELD over the
# init variant's at CONTENT (two decimals), or n/a.
bench_peer_ratio() {
	local a b
	if a=$(bench_point "$1" "$3" "$2" "$4") && b=$(bench_point "$1" init "$2" "$4") &&
		[ -n "$a" ] && [ -n "$b" ]; then
		bench_calc "$a / $b" %.2f
	else
		echo n/a
	fi
}

# bench_peer_ratios POINTS CONTENT: the benchmark's last line (initoverlayfs
# = the init variant).
bench_peer_ratios() {
	echo "ratios at $2: dracut/initoverlayfs root $(bench_peer_ratio "$1" "$2" dracut root_s)," \
		"squash-erofs/initoverlayfs root $(bench_peer_ratio "$1" "$2" squash-erofs root_s)," \
		"squash-erofs/initoverlayfs min RAM $(bench_peer_ratio "$1" "$2" squash-erofs min_ram_mib)"
}

# bench_watch_fatal LOG SHELLPID REGEX: poll the console log LOG; once a
# line matches REGEX (a boot that can only fail), stop the VM that the
# shell SHELLPID started (its child `timeout`, which passes TERM to QEMU).
# Run in the background by bench_vm_boot_watched.
bench_watch_fatal() {
	local p
	while sleep 2; do
		[ -r "$1" ] || continue
		if tr -d '\r' <"$1" | grep -qE "$3"; then
			sleep 1
			for p in $(pgrep -P "$2" -x timeout); do kill -TERM "$p" 2>/dev/null; done
			return 0
		fi
	done
}

# bench_vm_boot_watched LOG REGEX VM_BOOT_ARGS...: vm_boot -l LOG with the
# other arguments (tests/vm/lib.sh), stopped early once a line of LOG
# matches REGEX; vm_boot's status.
bench_vm_boot_watched() {
	local log=$1 re=$2 watcher rc=0
	# taken here: in the background job, $BASHPID would be the job's own
	local self=$BASHPID
	shift 2
	bench_watch_fatal "$log" "$self" "$re" &
	watcher=$!
	vm_boot -l "$log" "$@" || rc=$?
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	return "$rc"
}
