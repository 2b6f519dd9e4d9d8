/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM test programs on the kernel's kselftest harness
 * (tools/testing/selftests/kselftest_harness.h of the pinned tree, put in
 * the build tree by tests/vm/kselftest-harness): TAP, one test point per
 * TEST_F, each test in a process of its own.
 *
 * FIXTURE(cmb) opens the controller whose serial $SERIAL_CMB names (set by
 * tests/vm/run in the testbed; the test is skipped without it) and, after
 * the test's process is gone, checks that the CMB bytes, regions and queue
 * IDs it used came back: a leak check per test.
 */
#ifndef P2P_HARNESS_H
#define P2P_HARNESS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "p2p_test.h"

/* TCG runs everything slowly; a controller reset or unbind takes seconds. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	300

/* A check that says what it checks when it fails. */
#define CHECK(cond, fmt, ...)	EXPECT_TRUE(cond) TH_LOG(fmt, ##__VA_ARGS__)

/* call failed (-1, MAP_FAILED) with exactly errno want. */
#define CHECK_ERR(call, want, what) do {					\
	long _r;								\
	int _e;									\
	errno = 0;								\
	_r = (long)(call);							\
	_e = errno;								\
	EXPECT_TRUE(_r == -1 && _e == (want))					\
		TH_LOG("%s: want %s, got %ld (%s)", what, strerrorname_np(want), \
		       _r, _e ? strerrorname_np(_e) : "0");			\
} while (0)

/* The controller with serial $SERIAL_CMB, or -1. */
static inline int p2p_open_env_ctrl(const char *var, const char **serial)
{
	*serial = getenv(var);
	return *serial && **serial ? open_ctrl(*serial) : -1;
}

FIXTURE(cmb) {
	int ctrl;
	long long free0;		/* cmb_free before the test */
	unsigned int queues_used0;	/* exported queues before the test */
	char serial[64];
};

FIXTURE_SETUP(cmb)
{
	struct nvme_p2p_info in;
	const char *serial;

	self->ctrl = p2p_open_env_ctrl("SERIAL_CMB", &serial);
	if (!serial || !*serial)
		SKIP(return, "SERIAL_CMB is not set (tests/vm/run sets it in the testbed)");
	if (self->ctrl < 0)
		SKIP(return, "no controller with serial %s", serial);
	snprintf(self->serial, sizeof(self->serial), "%s", serial);
	ASSERT_EQ(0, info(self->ctrl, &in));
	self->free0 = in.cmb_free;
	self->queues_used0 = in.queues_used;
}

/*
 * In the parent, once the test's process has exited: everything it held
 * (descriptors, mappings, importers) is released by then.
 */
FIXTURE_TEARDOWN_PARENT(cmb)
{
	struct nvme_p2p_info in;
	int ctrl = open_ctrl(self->serial);

	ASSERT_LE(0, ctrl) TH_LOG("controller %s gone after the test", self->serial);
	ASSERT_EQ(0, info(ctrl, &in));
	EXPECT_EQ(self->free0, (long long)in.cmb_free)
		TH_LOG("leak: %lld CMB bytes not returned", self->free0 - (long long)in.cmb_free);
	EXPECT_EQ(0U, in.regions) TH_LOG("leak: %u regions left", in.regions);
	EXPECT_EQ(self->queues_used0, in.queues_used)
		TH_LOG("leak: %u exported queues left", in.queues_used - self->queues_used0);
	close(ctrl);
}

#endif
