/* SPDX-License-Identifier: MIT */
/* iofs-bench-probe: one kernel log line with the RAM in use, for the boot
 * benchmark. Runs in the full initrd just before the switch to the real
 * root (ExecStartPre= of initrd-switch-root.service), the same way for
 * every variant:
 *
 *   iofs-bench-probe: memtotal_kb=N memavail_kb=N used_kb=N MemFree_kb=N ...
 *       mono_ns=N tsc_ns=N tsc_hz=N
 *
 * written to /dev/kmsg (so it gets the kernel's timestamp), else stdout.
 * Static: it needs nothing from the initrd. Always exits 0, so it can never
 * stop the boot it measures.
 *
 * The clock fields place the line on the time line from power-on: the
 * kernel's clocks start at 0 long after the firmware and the boot loader
 * ran, while the TSC counts from the machine's reset (QEMU resets it to 0;
 * under -icount it counts guest instructions). mono_ns is CLOCK_MONOTONIC
 * and tsc_ns the TSC in nanoseconds, read together just before the line is
 * written; tsc_hz is the TSC's rate measured against CLOCK_MONOTONIC over
 * 20 ms. tsc_ns - mono_ns is the time from power-on to the kernel's clock
 * 0. Elsewhere than x86 the TSC fields are -1. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* fields copied into the line, in this order (kB) */
static const char *const keys[] = { "MemTotal", "MemAvailable", "MemFree",   "Cached",
				    "Shmem",	"Unevictable",	"SUnreclaim" };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int64_t mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
static uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The TSC's rate in Hz, measured against CLOCK_MONOTONIC; 0 if unknown. */
static uint64_t tsc_hz(void)
{
	int64_t t0 = mono_ns(), t1;
	uint64_t c0 = tsc(), c1;

	if (t0 < 0)
		return 0;
	do
		t1 = mono_ns();
	while (t1 >= 0 && t1 - t0 < 20000000);
	c1 = tsc();
	if (t1 <= t0)
		return 0;
	return (uint64_t)((long double)(c1 - c0) * 1e9L / (long double)(t1 - t0));
}
#endif

/* " mono_ns=N tsc_ns=N tsc_hz=N" into buf */
static void clock_fields(char *buf, size_t size)
{
	long long tsc_ns = -1, hz = -1;
	int64_t mono;

#if defined(__x86_64__) || defined(__i386__)
	uint64_t rate = tsc_hz();

	mono = mono_ns();
	if (rate) {
		tsc_ns = (long long)((long double)tsc() * 1e9L / (long double)rate);
		hz = (long long)rate;
	}
#else
	mono = mono_ns();
#endif
	snprintf(buf, size, " mono_ns=%lld tsc_ns=%lld tsc_hz=%lld", (long long)mono, tsc_ns, hz);
}

int main(void)
{
	char clocks[128];
	char line[512], name[64];
	long val[NKEYS], v;
	size_t i, len;
	FILE *f = fopen("/proc/meminfo", "r");

	for (i = 0; i < NKEYS; i++)
		val[i] = -1;
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%63[^:]: %ld", name, &v) != 2)
				continue;
			for (i = 0; i < NKEYS; i++)
				if (!strcmp(name, keys[i]))
					val[i] = v;
		}
		fclose(f);
	}
	len = (size_t)snprintf(line, sizeof(line),
			       "<5>iofs-bench-probe: memtotal_kb=%ld memavail_kb=%ld used_kb=%ld",
			       val[0], val[1], val[0] >= 0 && val[1] >= 0 ? val[0] - val[1] : -1);
	for (i = 2; i < NKEYS && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s_kb=%ld", keys[i],
					val[i]);
	clock_fields(clocks, sizeof(clocks));
	if (len + strlen(clocks) + 1 < sizeof(line)) {
		strcat(line, clocks);
		strcat(line, "\n");
	}
	f = fopen("/dev/kmsg", "w");
	if (f) {
		fputs(line, f);
		fclose(f);
	} else {
		fputs(strchr(line, '>') + 1, stdout);
	}
	return 0;
}
