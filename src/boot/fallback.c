/* SPDX-License-Identifier: MIT */
#include "boot/fallback.h"

#include <errno.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "common/log.h"

#define EMERGENCY_SHELL	 "/bin/sh"
#define REBOOT_DELAY_SEC 10

/* PID 1 must never return: the kernel would panic. */
void fallback_run(void)
{
	if (access(EMERGENCY_SHELL, X_OK) == 0) {
		log_error("starting emergency shell %s", EMERGENCY_SHELL);
		execl(EMERGENCY_SHELL, EMERGENCY_SHELL, (char *)NULL);
		log_step_error("emergency shell", EMERGENCY_SHELL, -errno);
	}
	log_error("no emergency shell (%s), rebooting in %d s", EMERGENCY_SHELL, REBOOT_DELAY_SEC);
	sleep(REBOOT_DELAY_SEC);
	sync();
	if (reboot(RB_AUTOBOOT) < 0)
		log_step_error("reboot", NULL, -errno);
	for (;;)
		pause();
}
