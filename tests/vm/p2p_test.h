/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the nvme-p2p VM test programs (tests/vm/p2p_*.c). */
#ifndef P2P_TEST_H
#define P2P_TEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <string.h>
#include <linux/nvme_p2p.h>

#include "../tap.h"
#include "../kmod/edu_p2p.h"

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
/* EDU_P2P_IOC_WRITE/READ: len bytes between buf and the attachment id at off. */
int edu_xfer(int edu, unsigned long cmd, uint32_t id, uint64_t off, const void *buf,
	     uint64_t len);
/* EDU_P2P_IOC_COUNTERS, all ones if the ioctl fails. */
struct edu_p2p_counters edu_counters(int edu);
/*
 * One round trip by edu DMA: pattern seed written to the attachment id at
 * off (len bytes from buf), read back into buf and compared. A revoked
 * mapping (ESTALE) is mapped again (EDU_P2P_IOC_MAP) and the trip redone,
 * backing off 1-20 ms, for at least 20 tries and up to 60 s. Returns 0,
 * EILSEQ if the bytes read back differ, or the errno it gave up on;
 * *stale counts the ESTALEs, *tries (if not NULL) the attempts.
 */
int edu_round_trip(int edu, uint32_t id, uint64_t off, unsigned char *buf, size_t len,
		   unsigned char seed, unsigned int *stale, int *tries);
int write_sysfs(const char *path, const char *val);
/* NVME_P2P_IOCTL_DMABUF on a region or queue descriptor: the dma-buf fd or -1. */
int export_dmabuf(int fd, uint64_t offset, uint64_t size);
/* The edu attaches dma-buf fd (EDU_P2P_ATTACH_DMABUF | flags): the id or -1. */
int edu_attach_dmabuf(int edu, int fd, uint32_t flags, uint64_t *dma);
/*
 * blk-mq I/O alongside: fio writes and verifies 8 MiB of block device dev
 * from offset (io_uring, O_DIRECT) in a child, loops as "--loops=N"; its
 * exit status (waitpid) says whether every byte verified.
 */
pid_t fio_verify_start(const char *dev, const char *offset, const char *loops);
/*
 * A memfd of size bytes (sealed against shrinking, *memfd) and a udmabuf
 * of it: n one-page items at the page indexes pages[] (at most 4), or all
 * of it if pages is NULL. Returns the udmabuf's descriptor or -1.
 */
int udmabuf_new(size_t size, const unsigned int *pages, unsigned int n, int *memfd);

#endif
