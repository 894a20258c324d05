# gnuplot script of the peer benchmark (bench/peers.sh):
#   gnuplot -e "points='P.csv'; out='O.png'; variants='dracut init'; shift_n='1'; mem='2048'" peers.gp
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

sel(v, name) = (strcol("variant") eq v) ? column(name) : NaN

set ylabel "time to root (s from power-on, guest)"
set yrange [0:*]
plot for [v in variants] points using (sel(v, "shipped_mib")):(sel(v, "root_s")) with linespoints lw 2 pointtype 7 title v

set ylabel "RAM in use at the switch to root (MiB)"
set yrange [0:*]
plot for [v in variants] points using (sel(v, "shipped_mib")):(sel(v, "ram_mib")) with linespoints lw 2 pointtype 7 title v

unset multiplot
