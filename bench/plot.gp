# gnuplot script of the boot benchmark (bench/run.sh):
#   gnuplot -e "points='P.csv'; out='O.png'; variants='plain init'; shift_n='1'; mem='1536'" plot.gp
# Top: guest time to the real root's init against the MiB added to the
# initial filesystem (median, min..max bars); bottom: RAM in use just before
# leaving the initrd (MemTotal - MemAvailable, median, min..max bars).
set terminal pngcairo size 1000,1100 font ",11"
set output out
set datafile separator ","
set key bottom right box opaque
set grid
set xlabel "unused content added to the initial filesystem, S (MiB)"
set multiplot layout 2,1 title sprintf("initoverlayfs boot scaling: QEMU TCG, -icount shift=%s, -m %s MiB, guest clock", shift_n, mem)

col(name) = column(name)
sel(v, name) = (strcol("variant") eq v) ? column(name) : NaN

set ylabel "time to real root (s, guest)"
set yrange [0:*]
plot for [v in variants] points using (sel(v, "size_mib")):(sel(v, "root_med")):(sel(v, "root_min")):(sel(v, "root_max")) \
	with yerrorlines lw 2 pointtype 7 title v

set ylabel "RAM used before leaving the initrd (MiB)"
set yrange [0:*]
plot for [v in variants] points using (sel(v, "size_mib")):(sel(v, "used_med_kb")/1024.0):(sel(v, "used_min_kb")/1024.0):(sel(v, "used_max_kb")/1024.0) \
	with yerrorlines lw 2 pointtype 7 title v

unset multiplot
