/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the nvme-p2p VM test programs (tests/vm/p2p_*.c). */
#ifndef P2P_TEST_H
#define P2P_TEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/nvme_p2p.h>

#include "../tap.h"

#define MiB (1024ULL * 1024)
#define CMB_BYTES (64 * MiB)
#define P2P_MAP_TEST "/sys/kernel/debug/p2p_map_test/map"

extern char pci_dir[256];
extern char ctrl_name[32];	/* the last opened controller's name (nvmeN) */	/* the last opened controller's PCI sysfs dir, '/'-terminated */

/* expect_errno(ret, errno): the call failed with exactly that errno. */
#define expect_err(call, want, what) do {				\
	errno = 0;							\
	long _r = (long)(call);						\
	int _e = errno;							\
	result(_r == -1 && _e == (want), "%s: %s (got %ld, %s)", what,	\
	       strerrorname_np(want), _r, _e ? strerrorname_np(_e) : "0"); \
} while (0)

int open_ctrl(const char *serial);
/* The PCI address (0000:03:00.0) of the last opened controller, or "". */
void ctrl_bdf(char *bdf, size_t len);
long long sysfs_num(const char *name);
/* /sys/class/nvme/NAME/state reads WANT ("live", "resetting", ...). */
int ctrl_state_is(const char *name, const char *want);
int info(int ctrl, struct nvme_p2p_info *in);
long long cmb_free(int ctrl);
int region(int ctrl, uint64_t size, uint32_t flags, struct nvme_p2p_region_create *out);
int child_status(void (*fn)(void *), void *arg);
int child_signal(void (*fn)(void *), void *arg);
void touch(void *p);
int sigbus_on_touch(void *p);
void fill(unsigned char *p, size_t n, unsigned char seed);
int same(const unsigned char *p, size_t n, unsigned char seed);
long p2p_map_as(const char *bdf, void *p, size_t len, int for_write,
		unsigned long long *first, unsigned long long *last);
int kernel_log_has(const char *a, const char *b);

/* An edu-p2p misc device (tests/kmod/edu_p2p): /dev/edu-p2pN, its PCI address. */
struct edu {
	char dev[64];
	char bdf[32];
};

/* The edus the testbed has: behind the switch, on the root bus ("" if none). */
void find_edus(struct edu *sw, struct edu *root);
int write_sysfs(const char *path, const char *val);

#endif
