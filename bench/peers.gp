# gnuplot script of the peer benchmark (bench/peers.sh):
#   gnuplot -e "points='P.csv'; out='O.png'; variants='dracut init'; shift_n='1'; mem='2048'" peers.gp
# (rows_out='F' also writes the rows it draws, grouped by variant, to F)
# One line per variant through its content points (hostonly, generic,
# grown, filler: the order of the CSV), against the bytes it ships (initrd
# plus image). Top: guest seconds from power-on to the root's systemd;
# bottom: RAM in use just before the switch to the root.
set terminal pngcairo size 1000,1100 font ",11"
set output out
set datafile separator ","
set key top left box opaque
set grid
set xlabel "shipped: initrd + image (MiB)"
set multiplot layout 2,1 title sprintf("initoverlayfs and its peers from power-on: OVMF + systemd-boot, QEMU TCG -icount shift=%s, -m %s MiB", shift_n, mem)

# The rows grouped by variant (column 4: the variant's number) in a data
# block: a variant's points must be neighbours, or the other variants'
# rows in between (not defined for it) would break its line.
nvariants = words(variants)
set table $rows separator comma
do for [i = 1:nvariants] {
	plot points using (column("shipped_mib")):(column("root_s")):(column("ram_mib")):(i) \
		with table if (strcol("variant") eq word(variants, i))
}
unset table
if (exists("rows_out")) { set print rows_out; print $rows; set print }
of(i, col) = (column(4) == i) ? column(col) : NaN

set ylabel "time to root (s from power-on, guest)"
set yrange [0:*]
set key bottom right
plot for [i = 1:nvariants] $rows using 1:(of(i, 2)) with linespoints lw 2 pointtype 7 title word(variants, i)

set ylabel "RAM in use at the switch to root (MiB)"
set yrange [0:*]
set key top left
plot for [i = 1:nvariants] $rows using 1:(of(i, 3)) with linespoints lw 2 pointtype 7 title word(variants, i)

unset multiplot
