/* SPDX-License-Identifier: MIT */
/* iofs-bench-probe: one kernel log line with the RAM in use, for the boot
 * benchmark. Runs in the full initrd just before the switch to the real
 * root (ExecStartPre= of initrd-switch-root.service), the same way for
 * every variant:
 *
 *   iofs-bench-probe: memtotal_kb=N memavail_kb=N used_kb=N MemFree_kb=N ...
 *
 * written to /dev/kmsg (so it gets the kernel's timestamp), else stdout.
 * Static: it needs nothing from the initrd. Always exits 0, so it can never
 * stop the boot it measures. */
#include <stdio.h>
#include <string.h>

/* fields copied into the line, in this order (kB) */
static const char *const keys[] = { "MemTotal", "MemAvailable", "MemFree",   "Cached",
				    "Shmem",	"Unevictable",	"SUnreclaim" };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int main(void)
{
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
	if (len < sizeof(line) - 1)
		strcat(line, "\n");
	f = fopen("/dev/kmsg", "w");
	if (f) {
		fputs(line, f);
		fclose(f);
	} else {
		fputs(strchr(line, '>') + 1, stdout);
	}
	return 0;
}
