/* SPDX-License-Identifier: MIT */
#include "boot/fallback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "common/log.h"

#define EMERGENCY_SHELL	 "/bin/sh"
#define REBOOT_DELAY_SEC 10

/* Standard input (the console at boot: the kernel and console_ensure_stdio
 * put it there) as the shell's controlling terminal, so that job control
 * and Ctrl-C work; PID 1 starts without one. */
static int stdin_as_ctty(void)
{
	if (setsid() < 0 && errno != EPERM)
		return -errno;
	if (ioctl(STDIN_FILENO, TIOCSCTTY, 1) < 0)
		return -errno;
	return 0;
}

/* Returns only when the shell cannot run. */
static void run_shell(void)
{
	int e;

	if (access(EMERGENCY_SHELL, X_OK) < 0) {
		log_step_error("emergency shell", EMERGENCY_SHELL, -errno);
		return;
	}
	e = stdin_as_ctty();
	if (e < 0)
		log_warning(
			"emergency shell: standard input cannot be its controlling terminal: %s",
			errno_text(-e));
	log_error("starting emergency shell %s", EMERGENCY_SHELL);
	execl(EMERGENCY_SHELL, EMERGENCY_SHELL, (char *)NULL);
	log_step_error("emergency shell", EMERGENCY_SHELL, -errno);
}

__attribute__((noreturn)) static void stop_machine(int how, const char *what)
{
	sync();
	if (reboot(how) < 0)
		log_step_error(what, NULL, -errno);
	for (;;)
		pause();
}

/* PID 1 must never return: the kernel would panic (unless asked to). */
void fallback_run(enum on_failure policy)
{
	if (policy == ON_FAILURE_AUTO || policy == ON_FAILURE_SHELL) {
		if (policy == ON_FAILURE_SHELL || access(EMERGENCY_SHELL, X_OK) == 0)
			run_shell();
		/* the line a failed boot has always ended with */
		log_error("no emergency shell (%s), rebooting in %d s", EMERGENCY_SHELL,
			  REBOOT_DELAY_SEC);
		policy = ON_FAILURE_REBOOT;
	} else if (policy == ON_FAILURE_REBOOT) {
		log_error("on_failure reboot: rebooting in %d s", REBOOT_DELAY_SEC);
	}
	switch (policy) {
	case ON_FAILURE_HALT:
		log_error("on_failure halt: halting");
		stop_machine(RB_HALT_SYSTEM, "halt");
	case ON_FAILURE_POWEROFF:
		log_error("on_failure poweroff: powering off");
		stop_machine(RB_POWER_OFF, "power off");
	case ON_FAILURE_PANIC:
		log_error("on_failure panic: init exits, the kernel panics");
		sync();
		_exit(EXIT_FAILURE);
	default:
		sleep(REBOOT_DELAY_SEC);
		stop_machine(RB_AUTOBOOT, "reboot");
	}
}
