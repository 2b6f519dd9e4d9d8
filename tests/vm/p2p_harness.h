/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM test programs on the kernel's kselftest harness
 * (tools/testing/selftests/kselftest_harness.h of the pinned tree, put in
 * the build tree by tests/vm/kselftest-harness): TAP, one test point per
 * TEST_F, each test in a process of its own.
 *
 * P2P_CMB_FIXTURE() opens the controller whose serial $SERIAL_CMB names (set
 * by tests/vm/run in the testbed; the test is skipped without it) and,
 * after the test's process is gone, checks that the CMB bytes, regions and
 * queue IDs it used came back: a leak check per test.
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
#define CHECK(cond, fmt, ...) \
	do { EXPECT_TRUE(cond) TH_LOG(fmt, ##__VA_ARGS__); } while (0)

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

/*
 * Fixture setup: the controller $SERIAL_CMB names, and what it has free
 * before the test. Skips the test without one.
 */
static inline void p2p_cmb_setup(struct __test_metadata *_metadata, int *ctrl,
				 long long *free0, unsigned int *queues_used0,
				 char *serial_buf, size_t serial_size)
{
	struct nvme_p2p_info in;
	const char *serial;

	*ctrl = p2p_open_env_ctrl("SERIAL_CMB", &serial);
	if (!serial || !*serial)
		SKIP(return, "SERIAL_CMB is not set (tests/vm/run sets it in the testbed)");
	if (*ctrl < 0)
		SKIP(return, "no controller with serial %s", serial);
	snprintf(serial_buf, serial_size, "%s", serial);
	ASSERT_EQ(0, info(*ctrl, &in));
	*free0 = in.cmb_free;
	*queues_used0 = in.queues_used;
}

/*
 * Fixture teardown, in the parent once the test's process has exited:
 * everything it held (descriptors, mappings, importers) is released by
 * then, so the CMB bytes, regions and queue IDs must be back.
 */
static inline void p2p_cmb_check(struct __test_metadata *_metadata, const char *serial,
				 long long free0, unsigned int queues_used0)
{
	struct nvme_p2p_info in;
	int ctrl = open_ctrl(serial);

	ASSERT_LE(0, ctrl) TH_LOG("controller %s gone after the test", serial);
	ASSERT_EQ(0, info(ctrl, &in));
	EXPECT_EQ(free0, (long long)in.cmb_free)
		TH_LOG("leak: %lld CMB bytes not returned", free0 - (long long)in.cmb_free);
	EXPECT_EQ(0U, in.regions) TH_LOG("leak: %u regions left", in.regions);
	EXPECT_EQ(queues_used0, in.queues_used)
		TH_LOG("leak: %u exported queues left", in.queues_used - queues_used0);
	close(ctrl);
}

/*
 * P2P_CMB_FIXTURE(name): a fixture on the CMB controller with the leak
 * check; self->ctrl is open in the test, self->free0 and
 * self->queues_used0 are what it had before, self->serial its serial.
 * FIXTURE_VARIANT(name) may follow.
 */
#define P2P_CMB_FIXTURE(name)							\
	FIXTURE(name) {								\
		int ctrl;							\
		long long free0;						\
		unsigned int queues_used0;					\
		char serial[64];						\
	};									\
	FIXTURE_SETUP(name)							\
	{									\
		p2p_cmb_setup(_metadata, &self->ctrl, &self->free0,		\
			      &self->queues_used0, self->serial,		\
			      sizeof(self->serial));				\
	}									\
	FIXTURE_TEARDOWN_PARENT(name)						\
	{									\
		p2p_cmb_check(_metadata, self->serial, self->free0,		\
			      self->queues_used0);				\
	}

#endif
