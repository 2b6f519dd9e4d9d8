/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP for the project's C test programs that do not use the kernel's
 * kselftest harness (tests/vm/p2p_harness.h): one test point per check,
 * the plan at the end. The shell tests have tests/tap.sh.
 */
#ifndef NVMEP2P_TAP_H
#define NVMEP2P_TAP_H

extern int tap_count, tap_failed;

/* A TAP comment line ("# ..."), flushed at once. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One TAP test point: "ok N - ..." if pass, else "not ok N - ...". */
void result(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A test point that could not run here, and why: counts as a skip. */
void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the plan "1..N"; the exit status: 0 if every point passed. */
int done_testing(void);

#endif
