// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-export-CMB-data-regions-as-peer-to-peer */
/*
 * VM test: a peer device (QEMU's edu, driven by tests/kmod/edu_p2p.ko)
 * imports CMB data regions through the p2p VMA importer helper: bytes move
 * by edu DMA only, and every revocation (controller reset, region closed,
 * munmap, process killed) is obeyed. On the kselftest harness: after each
 * test no CMB, region or queue is leaked and the edu's counters balance
 * (EDU_FIXTURE); a process killed with an attachment is a variant each for
 * an idle edu and one in the middle of a transfer. Runs in the testbed
 * guest as root, with edu_p2p.ko loaded (tests/vm/run loads it); prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>

#include "p2p_harness.h"

#define KiB 1024UL

/* --- the CMB controller ---------------------------------------------------- */

/* A CMB region of the controller: its descriptor, bus address, CMB offset. */
static int cmb_region(int ctrl, uint64_t size, uint32_t flags, uint64_t *bus_addr,
		      uint64_t *cmb_offset)
{
	struct nvme_p2p_region_create rc;
	int fd = region(ctrl, size, flags, &rc);

	if (bus_addr)
		*bus_addr = rc.bus_addr;
	if (cmb_offset)
		*cmb_offset = rc.cmb_offset;
	return fd;
}

static void *map_region(int fd, size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Reset the controller the way an operator does, and wait for it. Fails
 * (EBUSY) while another reset is under way.
 */
static int reset_ctrl(void)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", ctrl_name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "1", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/* --- the edu importers ------------------------------------------------------ */

static struct edu edu_switch, edu_root;

static int attach(int edu, void *addr, size_t len, uint32_t flags,
		  struct edu_p2p_attach *out)
{
	struct edu_p2p_attach a = {
		.addr = (uintptr_t)addr, .len = len, .flags = flags,
	};
	int ret = ioctl(edu, EDU_P2P_IOC_ATTACH, &a);

	if (out)
		*out = a;
	return ret ? -1 : (int)a.id;
}

#define dma_in(e, id, off, buf, len)  edu_xfer(e, EDU_P2P_IOC_WRITE, id, off, buf, len)
#define dma_out(e, id, off, buf, len) edu_xfer(e, EDU_P2P_IOC_READ, id, off, buf, len)

static int status(int edu, uint32_t id, struct edu_p2p_status *st)
{
	memset(st, 0, sizeof(*st));
	st->id = id;
	return ioctl(edu, EDU_P2P_IOC_STATUS, st);
}

static int id_ioctl(int edu, unsigned long cmd, uint32_t id)
{
	return ioctl(edu, cmd, &id);
}

/* --- the fixture ------------------------------------------------------------- */

/* The CMB controller and the edu behind the switch, opened. */
struct edu_env {
	int ctrl;
	long long free0;
	unsigned int queues_used0;
	char serial[64];
	int edu;
};

static void edu_env_setup(struct __test_metadata *_metadata, struct edu_env *e)
{
	p2p_cmb_setup(_metadata, &e->ctrl, &e->free0, &e->queues_used0, e->serial,
		      sizeof(e->serial));
	if (_metadata->exit_code)
		return;
	find_edus(&edu_switch, &edu_root);
	if (!edu_switch.dev[0] || !edu_root.dev[0])
		SKIP(return, "no edu_p2p devices for both edus (edu_p2p.ko not loaded?)");
	e->edu = open(edu_switch.dev, O_RDWR);
	ASSERT_LE(0, e->edu) TH_LOG("open %s: %s", edu_switch.dev, strerror(errno));
}

/*
 * After the test's process: no CMB, region or queue leaked, and the edu's
 * counters balance - every attachment detached, every map unmapped.
 */
static void edu_env_check(struct __test_metadata *_metadata, const struct edu_env *e)
{
	struct edu_p2p_counters c;
	int probe, i;

	p2p_cmb_check(_metadata, e->serial, e->free0, e->queues_used0);
	/* An unbind test rebinds the edu: it may take a moment to come back. */
	memset(&edu_switch, 0, sizeof(edu_switch));
	for (i = 0; i < 50 && !edu_switch.dev[0]; i++) {
		find_edus(&edu_switch, &edu_root);
		if (!edu_switch.dev[0])
			usleep(100 * 1000);
	}
	probe = open(edu_switch.dev, O_RDWR);
	ASSERT_LE(0, probe) TH_LOG("open %s: %s", edu_switch.dev, strerror(errno));
	c = edu_counters(probe);
	close(probe);
	EXPECT_TRUE(c.live == 0 && c.attaches == c.detaches && c.maps == c.unmaps &&
		    c.unmap_errors == 0)
		TH_LOG("edu %s counters do not balance: %llu live, %llu attaches, %llu detaches, "
		       "%llu maps, %llu unmaps, %llu unmap errors", edu_switch.bdf,
		       (unsigned long long)c.live, (unsigned long long)c.attaches,
		       (unsigned long long)c.detaches, (unsigned long long)c.maps,
		       (unsigned long long)c.unmaps, (unsigned long long)c.unmap_errors);
}

#define EDU_FIXTURE(name)							\
	FIXTURE(name) {								\
		struct edu_env e;						\
	};									\
	FIXTURE_SETUP(name)							\
	{									\
		edu_env_setup(_metadata, &self->e);					\
	}									\
	FIXTURE_TEARDOWN_PARENT(name)						\
	{									\
		edu_env_check(_metadata, &self->e);					\
	}

EDU_FIXTURE(edu)

/* A process killed with an attachment: idle, or in the middle of a DMA. */
EDU_FIXTURE(edu_kill)

FIXTURE_VARIANT(edu_kill) {
	int mid_dma;
};

FIXTURE_VARIANT_ADD(edu_kill, idle) {
	.mid_dma = 0,
};

FIXTURE_VARIANT_ADD(edu_kill, mid_dma) {
	.mid_dma = 1,
};

/* --- the tests --------------------------------------------------------------- */

TEST_F(edu, attach_errors)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	size_t size = 64 * KiB;
	int fd = cmb_region(ctrl, size, 0, NULL, NULL);
	/* The region with a hole right after it. */
	unsigned char *p = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *ro = fd < 0 ? NULL : map_region(fd, size, PROT_READ);

	if (p == MAP_FAILED || fd < 0 ||
	    mmap(p, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != p)
		p = NULL;
	else
		munmap(p + size, size);
	void *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *hole = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct edu_p2p_attach a;
	uint32_t bogus = 4242;

	CHECK(p && ro && anon != MAP_FAILED && hole != MAP_FAILED,
	      "a 64 KiB region mapped read-write and read-only");
	if (!p || !ro || anon == MAP_FAILED || hole == MAP_FAILED)
		return;
	munmap(hole, 8192);	/* a range nothing is mapped at */

	CHECK_ERR(attach(edu, p, size, 0x100, NULL), EINVAL, "ATTACH unknown flag");
	CHECK_ERR(attach(edu, p + 1, 4096, 0, NULL), EINVAL, "ATTACH unaligned address");
	CHECK_ERR(attach(edu, p, 100, 0, NULL), EINVAL, "ATTACH length not page granular");
	CHECK_ERR(attach(edu, p, 0, 0, NULL), EINVAL, "ATTACH length 0");
	memset(&a, 0, sizeof(a));
	a.addr = (uintptr_t)p;
	a.len = size;
	a.reserved[1] = 1;
	CHECK_ERR(ioctl(edu, EDU_P2P_IOC_ATTACH, &a), EINVAL, "ATTACH nonzero reserved");
	a.reserved[1] = 0;
	a.id = 3;
	CHECK_ERR(ioctl(edu, EDU_P2P_IOC_ATTACH, &a), EINVAL, "ATTACH nonzero output field");
	CHECK_ERR(attach(edu, hole, 8192, 0, NULL), EFAULT, "ATTACH of an unmapped range");
	CHECK_ERR(attach(edu, p, size + 4096, 0, NULL), EFAULT,
		  "ATTACH running past the region VMA");
	CHECK_ERR(attach(edu, anon, 8192, EDU_P2P_ATTACH_WRITE, NULL), EOPNOTSUPP,
		  "ATTACH of anonymous memory (not a p2p VMA)");
	CHECK_ERR(attach(edu, ro, size, EDU_P2P_ATTACH_WRITE, NULL), EACCES,
		  "ATTACH for write of a read-only mapping");
	CHECK_ERR(ioctl(edu, EDU_P2P_IOC_ATTACH, (void *)8), EFAULT, "ATTACH bad pointer");
	CHECK_ERR(id_ioctl(edu, EDU_P2P_IOC_DETACH, bogus), ENOENT, "DETACH unknown id");
	CHECK_ERR(id_ioctl(edu, EDU_P2P_IOC_MAP, bogus), ENOENT, "MAP unknown id");
	CHECK_ERR(ioctl(edu, _IOW(0xED, 0x3f, uint32_t), &bogus), ENOTTY, "unknown ioctl");

	/* Read-only attachments: the edu may read but not write the range. */
	{
		unsigned char buf[64];
		int id = attach(edu, ro, size, 0, NULL);

		CHECK(id > 0, "ATTACH read-only of a read-only mapping (id %d)", id);
		CHECK_ERR(dma_in(edu, id, 0, buf, sizeof(buf)), EACCES,
			  "WRITE through a read-only attachment");
		CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH it");
		CHECK_ERR(id_ioctl(edu, EDU_P2P_IOC_DETACH, id), ENOENT, "DETACH it again");
	}
	munmap(anon, 8192);
	munmap(ro, size);
	munmap(p, size);
	close(fd);
}

TEST_F(edu, dma)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 64 * KiB;
	uint64_t bus, off;
	int fd = cmb_region(ctrl, size, 0, &bus, &off);
	unsigned char *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	struct edu_p2p_counters c0, c1;
	struct edu_p2p_attach a;
	struct edu_p2p_status st;
	unsigned char buf[8192], big[EDU_P2P_MAX_XFER + 4096];
	int id;

	CHECK(p != NULL, "a 64 KiB CPU-visible region at bus address 0x%llx",
	      (unsigned long long)bus);
	if (!p)
		return;
	memset(p, 0, size);
	c0 = edu_counters(edu);
	id = attach(edu, p, size, EDU_P2P_ATTACH_WRITE, &a);
	CHECK(id > 0, "ATTACH the region for edu %s (id %d)", edu_switch.bdf, id);
	CHECK(a.dma_addr == bus,
	      "the edu's DMA address is the region's bus address 0x%llx (got 0x%llx)",
	      (unsigned long long)bus, (unsigned long long)a.dma_addr);
	CHECK(status(edu, id, &st) == 0 && st.state == EDU_P2P_MAPPED && st.maps == 1 &&
	      st.unmaps == 0 && st.dma_addr == bus,
	      "STATUS: mapped, 1 map, 0 unmaps");

	fill(buf, 4096, 11);
	CHECK(dma_in(edu, id, 0, buf, 4096) == 0, "WRITE 4 KiB into the region by edu DMA");
	CHECK(same(p, 4096, 11), "the CPU view of the region shows the bytes the edu wrote");
	fill(buf, 300, 12);
	CHECK(dma_in(edu, id, 2 * 4096 - 100, buf, 300) == 0 &&
	      same(p + 2 * 4096 - 100, 300, 12) && same(p, 4096, 11),
	      "WRITE 300 bytes across a page boundary lands exactly there");

	fill(p + 3 * 4096, 4096, 13);
	memset(buf, 0, sizeof(buf));
	CHECK(dma_out(edu, id, 3 * 4096, buf, 4096) == 0 && same(buf, 4096, 13),
	      "READ 4 KiB the CPU stored in the region, by edu DMA");
	fill(p + 5 * 4096 - 1000, 2000, 14);
	memset(buf, 0, sizeof(buf));
	CHECK(dma_out(edu, id, 5 * 4096 - 1000, buf, 2000) == 0 && same(buf, 2000, 14),
	      "READ 2000 bytes across a page boundary");

	c1 = edu_counters(edu);
	CHECK(c1.bytes_in - c0.bytes_in == 4396 && c1.bytes_out - c0.bytes_out == 6096,
	      "counters: %llu bytes in, %llu out",
	      (unsigned long long)(c1.bytes_in - c0.bytes_in),
	      (unsigned long long)(c1.bytes_out - c0.bytes_out));
	/*
	 * Two DMAs per piece; a piece stays within a page and below 4096
	 * bytes: 4095 + 1, 100 + 200 in; 4095 + 1, 1000 + 1000 out.
	 */
	CHECK(c1.dmas - c0.dmas == 16, "16 edu DMAs for 8 pieces (%llu)",
	      (unsigned long long)(c1.dmas - c0.dmas));

	CHECK_ERR(dma_in(edu, id, 0, buf, 0), EINVAL, "WRITE of 0 bytes");
	CHECK_ERR(dma_in(edu, id, 0, big, sizeof(big)), EINVAL, "WRITE above EDU_P2P_MAX_XFER");
	CHECK_ERR(dma_in(edu, id, size - 8, buf, 16), EINVAL, "WRITE past the attached range");
	CHECK_ERR(dma_out(edu, id, size, buf, 1), EINVAL, "READ at the end of the range");
	CHECK_ERR(dma_out(edu, id, UINT64_MAX - 2, buf, 8), EINVAL, "READ at a wrapping offset");
	CHECK_ERR(dma_in(edu, id + 100, 0, buf, 8), ENOENT, "WRITE on an unknown id");
	CHECK_ERR(dma_in(edu, id, 0, NULL, 8), EFAULT, "WRITE from a bad buffer");
	CHECK_ERR(dma_out(edu, id, 0, (void *)8, 8), EFAULT, "READ into a bad buffer");
	{
		struct edu_p2p_xfer x = {
			.id = id, .len = 8, .buf = (uintptr_t)buf, .flags = 1,
		};

		CHECK_ERR(ioctl(edu, EDU_P2P_IOC_WRITE, &x), EINVAL, "WRITE nonzero flags");
	}
	CHECK(same(p, 4096, 11), "refused transfers changed nothing");

	CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH");
	c1 = edu_counters(edu);
	CHECK(c1.maps - c0.maps == 1 && c1.unmaps - c0.unmaps == 1 &&
	      c1.live == c0.live, "one map, one unmap, nothing left attached");
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

/* Bytes the edu writes into a region with no CPU mapping land in the CMB. */
TEST_F(edu, no_cpu_map)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	uint64_t bus, off;
	int fd = cmb_region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, &bus, &off);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	unsigned char buf[4096];
	char path[512];
	unsigned char *bar = MAP_FAILED;
	int id, bar_fd;

	CHECK(p != NULL, "a NO_CPU_MAP region mapped as a handle (CMB offset 0x%llx)",
	      (unsigned long long)off);
	if (!p)
		return;
	id = attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL);
	fill(buf, sizeof(buf), 21);
	CHECK(id > 0 && dma_in(edu, id, 4096, buf, sizeof(buf)) == 0,
	      "ATTACH and WRITE 4 KiB by edu DMA");
	memset(buf, 0, sizeof(buf));
	CHECK(dma_out(edu, id, 4096, buf, sizeof(buf)) == 0 && same(buf, sizeof(buf), 21),
	      "READ it back by edu DMA");
	snprintf(path, sizeof(path), "%sresource2", pci_dir);
	bar_fd = open(path, O_RDONLY | O_SYNC);
	if (bar_fd >= 0)
		bar = mmap(NULL, off + size, PROT_READ, MAP_SHARED, bar_fd, 0);
	CHECK(bar != MAP_FAILED && same(bar + off + 4096, 4096, 21),
	      "the bytes are in the CMB (read through BAR2 at the region's offset)");
	if (bar != MAP_FAILED)
		munmap(bar, off + size);
	if (bar_fd >= 0)
		close(bar_fd);
	id_ioctl(edu, EDU_P2P_IOC_DETACH, id);
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

/* One attachment spanning two adjacent region VMAs. */
TEST_F(edu, two_vmas)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	uint64_t bus_a, bus_b;
	int fa = cmb_region(ctrl, 8 * KiB, 0, &bus_a, NULL);
	int fb = cmb_region(ctrl, 8 * KiB, 0, &bus_b, NULL);
	unsigned char *p = mmap(NULL, 16 * KiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char buf[4096];
	struct edu_p2p_attach a;
	int ok, id;

	ok = fa >= 0 && fb >= 0 && p != MAP_FAILED &&
		mmap(p, 8 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fa, 0) == p &&
		mmap(p + 8 * KiB, 8 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fb, 0) ==
			p + 8 * KiB;
	CHECK(ok, "two regions mapped back to back (bus 0x%llx and 0x%llx)",
	      (unsigned long long)bus_a, (unsigned long long)bus_b);
	if (!ok)
		return;
	memset(p, 0, 16 * KiB);
	id = attach(edu, p, 16 * KiB, EDU_P2P_ATTACH_WRITE, &a);
	CHECK(id > 0 && a.dma_addr == bus_a, "ATTACH one range over both VMAs");
	fill(buf, 2048, 31);
	CHECK(dma_in(edu, id, 8 * KiB - 1024, buf, 2048) == 0 &&
	      same(p + 8 * KiB - 1024, 2048, 31),
	      "WRITE across the VMA boundary: each half lands in its region");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH");
	munmap(p, 16 * KiB);
	close(fa);
	close(fb);
	CHECK(cmb_free(ctrl) == free0, "both regions returned");
}

/* A controller reset revokes; transfers are refused until MAP. */
TEST_F(edu, reset)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd = cmb_region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	struct edu_p2p_counters c0, c1;
	struct edu_p2p_status st;
	unsigned char buf[256];
	int id, ret;

	c0 = edu_counters(edu);
	id = p ? attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL) : -1;
	fill(buf, sizeof(buf), 41);
	CHECK(id > 0 && dma_in(edu, id, 0, buf, sizeof(buf)) == 0,
	      "attached NO_CPU_MAP region holds 256 bytes written by the edu");
	if (id <= 0)
		return;
	CHECK(reset_ctrl() == 0, "reset the controller (%s/reset_controller)", ctrl_name);
	ret = status(edu, id, &st);
	CHECK(ret == 0 && st.state == EDU_P2P_REVOKED && st.revokes == 1 &&
	      st.unmaps == 1 && st.dma_addr == 0,
	      "the reset revoked the attachment: revoke callback ran, p2p_unmap ran "
	      "(revokes %llu, unmaps %llu)",
	      (unsigned long long)st.revokes, (unsigned long long)st.unmaps);
	CHECK_ERR(dma_in(edu, id, 0, buf, sizeof(buf)), ESTALE, "WRITE after the reset");
	CHECK_ERR(dma_out(edu, id, 0, buf, sizeof(buf)), ESTALE, "READ after the reset");
	c1 = edu_counters(edu);
	CHECK(c1.refused - c0.refused == 2 && c1.invalidations - c0.invalidations == 1,
	      "counters: 2 refused, 1 invalidation");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_MAP, id) == 0, "MAP the range again");
	ret = status(edu, id, &st);
	CHECK(ret == 0 && st.state == EDU_P2P_MAPPED && st.maps == 2,
	      "mapped again (maps %llu)", (unsigned long long)st.maps);
	memset(buf, 0, sizeof(buf));
	CHECK(dma_out(edu, id, 0, buf, sizeof(buf)) == 0 && same(buf, sizeof(buf), 41),
	      "the region kept its bytes across the reset (READ by edu DMA)");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_MAP, id) == 0 &&
	      status(edu, id, &st) == 0 && st.maps == 2, "MAP of a mapped range is a no-op");
	id_ioctl(edu, EDU_P2P_IOC_DETACH, id);
	munmap(p, size);
	close(fd);
	c1 = edu_counters(edu);
	CHECK(c1.maps - c0.maps == 2 && c1.unmaps - c0.unmaps == 2 && c1.unmap_errors == 0,
	      "2 maps, 2 unmaps, no unmap errors");
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

/* Closing and unmapping the region revokes for good. */
TEST_F(edu, region_close)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd = cmb_region(ctrl, size, 0, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	struct edu_p2p_status st;
	unsigned char buf[64];
	int id;

	id = p ? attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL) : -1;
	CHECK(id > 0, "attached a region");
	if (id <= 0)
		return;
	close(fd);
	CHECK(status(edu, id, &st) == 0 && st.state == EDU_P2P_MAPPED,
	      "closing the descriptor alone revokes nothing: the mapping holds the region");
	fill(buf, sizeof(buf), 51);
	CHECK(dma_in(edu, id, 0, buf, sizeof(buf)) == 0, "and the edu still writes it");
	CHECK(munmap(p, size) == 0, "munmap the region: its last reference");
	CHECK(status(edu, id, &st) == 0 && st.state == EDU_P2P_REVOKED && st.revokes == 1 &&
	      st.unmaps == 1, "the attachment was revoked and unmapped");
	CHECK(cmb_free(ctrl) == free0, "the region's memory is back in the CMB");
	CHECK_ERR(dma_in(edu, id, 0, buf, sizeof(buf)), ESTALE, "WRITE after the region is gone");
	CHECK_ERR(id_ioctl(edu, EDU_P2P_IOC_MAP, id), EFAULT, "MAP of a range no longer mapped");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH the revoked attachment");
	CHECK(!kernel_log_has("p2p:", "did not unmap"),
	      "the exporter found no importer mapping left behind");
}

/* The attacher dies with a live attachment, idle or mid-DMA. */
static void child_attach_and_wait(int ctrl, const char *edu_dev, int ready, int mid_dma)
{
	size_t size = 64 * KiB;
	int fd = cmb_region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	int edu = open(edu_dev, O_RDWR);
	static unsigned char buf[16 * KiB];
	int id = p && edu >= 0 ? attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL) : -1;
	char c = id > 0 ? 'y' : 'n';

	if (write(ready, &c, 1) != 1 || id <= 0)
		_exit(1);
	if (mid_dma)
		for (;;)
			dma_in(edu, id, 0, buf, sizeof(buf));	/* ~1.6 s each */
	for (;;)
		pause();
}

TEST_F(edu_kill, killed)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	const char *edu_dev = edu_switch.dev;
	int mid_dma = variant->mid_dma;
	struct edu_p2p_counters c0 = edu_counters(edu), c1;
	int pipefd[2], status_;
	char c = 0;
	pid_t pid;

	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child_attach_and_wait(ctrl, edu_dev, pipefd[1], mid_dma);
	}
	close(pipefd[1]);
	CHECK(read(pipefd[0], &c, 1) == 1 && c == 'y',
	      "a child process attached a 64 KiB region%s",
	      mid_dma ? " and keeps the edu writing it" : "");
	close(pipefd[0]);
	if (mid_dma)
		usleep(1000 * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, &status_, 0);
	c1 = edu_counters(edu);
	CHECK(WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL, "SIGKILL%s",
	      mid_dma ? " in the middle of a transfer" : "");
	CHECK(cmb_free(ctrl) == free0, "no CMB leaked: free bytes back to %lld (INFO says %lld)",
	      free0, cmb_free(ctrl));
	CHECK(c1.live == c0.live && c1.detaches - c0.detaches == 1 &&
	      c1.maps - c0.maps == c1.unmaps - c0.unmaps && c1.maps - c0.maps >= 1,
	      "the attachment ended with the process: %llu map(s), %llu unmap(s)",
	      (unsigned long long)(c1.maps - c0.maps),
	      (unsigned long long)(c1.unmaps - c0.unmaps));
	/* exit_mm() runs before exit_files(): MMU_NOTIFY_RELEASE unmapped it. */
	CHECK(c1.invalidations - c0.invalidations == 1,
	      "the address space's teardown revoked it before its descriptor closed");
	CHECK(!kernel_log_has("p2p:", "did not unmap"), "no importer mapping left behind");
}

/*
 * The process that attached exits while the edu descriptor lives on in
 * another: the mapping goes with the address space, the attachment stays
 * until detached, and cannot be mapped again.
 */
TEST_F(edu, attacher_exits)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	struct edu_p2p_counters c0 = edu_counters(edu), c1;
	struct edu_p2p_status st;
	int pipefd[2], status_, id = -1;
	pid_t pid;

	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		/* Same open file as the parent: the attachment is shared. */
		int fd = cmb_region(ctrl, 16 * KiB, 0, NULL, NULL);
		void *p = fd < 0 ? NULL : map_region(fd, 16 * KiB, PROT_READ | PROT_WRITE);
		int child_id = p ? attach(edu, p, 16 * KiB, EDU_P2P_ATTACH_WRITE, NULL) : -1;

		if (write(pipefd[1], &child_id, sizeof(child_id)) != sizeof(child_id))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &id, sizeof(id)) != sizeof(id))
		id = -1;
	close(pipefd[0]);
	waitpid(pid, &status_, 0);
	CHECK(id > 0 && WIFEXITED(status_), "a child attached a region on our descriptor "
	      "(id %d) and exited", id);
	if (id <= 0)
		return;
	CHECK(status(edu, id, &st) == 0 && st.state == EDU_P2P_REVOKED,
	      "the attachment outlives the process, revoked");
	CHECK(st.revokes == 1 && st.unmaps == 1, "its exit revoked and unmapped it "
	      "(revokes %llu, unmaps %llu)", (unsigned long long)st.revokes,
	      (unsigned long long)st.unmaps);
	CHECK(cmb_free(ctrl) == free0, "the region went with the process");
	CHECK_ERR(id_ioctl(edu, EDU_P2P_IOC_MAP, id), ESRCH,
		  "MAP of a range whose address space is gone");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH it");
	c1 = edu_counters(edu);
	CHECK(c1.live == c0.live && c1.maps - c0.maps == 1 && c1.unmaps - c0.unmaps == 1,
	      "one map, one unmap");
}

/* The edu is unbound with a descriptor open and an attachment live. */
TEST_F(edu, edu_unbind)
{
	int ctrl = self->e.ctrl;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd, edu, id, i;
	void *p;

	close(self->e.edu);	/* only the descriptor below is open */
	fd = cmb_region(ctrl, size, 0, NULL, NULL);
	p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	edu = open(edu_switch.dev, O_RDWR);
	struct edu_p2p_status st;
	unsigned char buf[64];

	id = p && edu >= 0 ? attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL) : -1;
	CHECK(id > 0, "attached a region before unbinding the edu");
	if (id <= 0)
		return;
	CHECK(write_sysfs("/sys/bus/pci/drivers/edu_p2p/unbind", edu_switch.bdf) == 0,
	      "unbind %s from edu_p2p with a descriptor open", edu_switch.bdf);
	fill(buf, sizeof(buf), 61);
	CHECK_ERR(dma_in(edu, id, 0, buf, sizeof(buf)), ENODEV, "WRITE on an unbound edu");
	CHECK_ERR(attach(edu, p, size, 0, NULL), ENODEV, "ATTACH on an unbound edu");
	CHECK(status(edu, id, &st) == 0 && st.state == EDU_P2P_MAPPED,
	      "STATUS still works; the attachment is still mapped");
	CHECK(id_ioctl(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH still works");
	close(edu);
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
	CHECK(write_sysfs("/sys/bus/pci/drivers/edu_p2p/bind", edu_switch.bdf) == 0,
	      "bind %s again", edu_switch.bdf);
	memset(&edu_switch, 0, sizeof(edu_switch));
	for (i = 0; i < 50 && !edu_switch.dev[0]; i++) {
		find_edus(&edu_switch, &edu_root);
		if (!edu_switch.dev[0])
			usleep(100 * 1000);
	}
	edu = edu_switch.dev[0] ? open(edu_switch.dev, O_RDWR) : -1;
	CHECK(edu >= 0, "it is back as %s", edu_switch.dev);
	if (edu >= 0)
		close(edu);
}

/* The edu on the root bus cannot reach the CMB. */
TEST_F(edu, unreachable)
{
	int ctrl = self->e.ctrl;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd = cmb_region(ctrl, size, 0, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	int edu = open(edu_root.dev, O_RDWR);
	struct edu_p2p_counters c0 = edu_counters(edu), c1;

	CHECK(p && edu >= 0, "the root-bus edu %s (%s) opened", edu_root.bdf, edu_root.dev);
	if (!p || edu < 0)
		return;
	CHECK_ERR(attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL), EREMOTEIO,
		  "ATTACH by the edu that cannot reach the CMB");
	CHECK(kernel_log_has(edu_root.bdf, "cannot reach the CMB peer to peer"),
	      "the kernel log says why %s was refused", edu_root.bdf);
	c1 = edu_counters(edu);
	CHECK(c1.attaches == c0.attaches && c1.maps == c0.maps && c1.live == 0,
	      "nothing attached, nothing mapped");
	close(edu);
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

struct toggler {
	void *p;
	size_t size;
	volatile int stop;
	unsigned long toggles;
};

/* mprotect() back and forth: each one invalidates the range. */
static void *toggle_prot(void *arg)
{
	struct toggler *t = arg;

	while (!t->stop) {
		mprotect(t->p, t->size, PROT_READ);
		mprotect(t->p, t->size, PROT_READ | PROT_WRITE);
		t->toggles += 2;
	}
	return NULL;
}

/*
 * Attach while another thread keeps invalidating the range: mappings that
 * raced an invalidation are undone and redone (read_begin/retry), and
 * mappings that were live are revoked; nothing leaks either way.
 */
TEST_F(edu, map_races)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd = cmb_region(ctrl, size, 0, NULL, NULL);
	unsigned char *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	struct toggler t = { .size = size };
	struct edu_p2p_counters c0 = edu_counters(edu), c1;
	unsigned int i, cycles = 0, bad = 0;
	time_t t0 = time(NULL);
	pthread_t thread;

	if (!p) {
		CHECK(0, "region for the map race");
		return;
	}
	/* CPU page tables present: mprotect() only invalidates what is mapped. */
	fill(p, size, 71);
	t.p = p;
	CHECK(pthread_create(&thread, NULL, toggle_prot, &t) == 0,
	      "a second thread flips the region's protection in a loop");
	/*
	 * The race window is a few microseconds per attach: go on until it
	 * was hit a few times (typically within a second), or 20 s.
	 */
	for (i = 0; i < 2000 || (i < 400000 && time(NULL) - t0 < 20); i++) {
		int id = attach(edu, p, size, 0, NULL);

		cycles++;
		if (id <= 0 || id_ioctl(edu, EDU_P2P_IOC_DETACH, id))
			bad++;
		if (i % 256 == 0 && i >= 2000 && edu_counters(edu).map_retries - c0.map_retries >= 3)
			break;
	}
	t.stop = 1;
	pthread_join(thread, NULL);
	c1 = edu_counters(edu);
	ksft_print_msg("map race: %lu protection changes, %llu mappings redone after racing one, "
		       "%llu live mappings revoked\n", t.toggles,
		       (unsigned long long)(c1.map_retries - c0.map_retries),
		       (unsigned long long)(c1.invalidations - c0.invalidations));
	CHECK(bad == 0, "%u attach/detach cycles under concurrent invalidation (%u failed)",
	      cycles, bad);
	CHECK(c1.map_retries - c0.map_retries > 0,
	      "mappings that raced an invalidation were redone (%llu)",
	      (unsigned long long)(c1.map_retries - c0.map_retries));
	CHECK(c1.maps - c0.maps == c1.unmaps - c0.unmaps && c1.live == c0.live &&
	      c1.unmap_errors == c0.unmap_errors,
	      "counters balance: %llu maps, %llu unmaps",
	      (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps));
	CHECK(same(p, size, 71), "the region's contents are untouched");
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

/* Resets from another process until the pipe closes. */
static pid_t start_resetter(int *stop, int *resets_fd)
{
	int stopfd[2], countfd[2];
	pid_t pid;

	if (pipe(stopfd) || pipe(countfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		unsigned int n = 0;
		char c;

		close(stopfd[1]);
		close(countfd[0]);
		fcntl(stopfd[0], F_SETFL, O_NONBLOCK);
		while (read(stopfd[0], &c, 1) < 0 && errno == EAGAIN) {
			if (reset_ctrl() == 0)
				n++;
			usleep(20 * 1000);
		}
		if (write(countfd[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(stopfd[0]);
	close(countfd[1]);
	*stop = stopfd[1];
	*resets_fd = countfd[0];
	return pid;
}

TEST_F(edu, stress)
{
	int ctrl = self->e.ctrl, edu = self->e.edu;
	long long free0 = self->e.free0;
	size_t size = 64 * KiB;
	int fd = cmb_region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	struct edu_p2p_counters c0 = edu_counters(edu), c1;
	unsigned int i, bad_attach = 0, bad_data = 0, stale = 0, sync_resets = 0, bg_resets = 0;
	unsigned char buf[64];
	int stop = -1, resets_fd = -1, st;
	pid_t resetter;
	time_t t0 = time(NULL);

	if (!p) {
		CHECK(0, "stress region");
		return;
	}
	resetter = start_resetter(&stop, &resets_fd);
	CHECK(resetter > 0, "a second process resets the controller every 20 ms");
	for (i = 0; i < 1000; i++) {
		int id = attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL);

		if (id <= 0) {
			bad_attach++;
			continue;
		}
		if (i % 50 == 0) {
			/*
			 * A reset with this attachment live: wait for our
			 * turn (EBUSY while the other process's reset runs;
			 * debug kernels take seconds).
			 */
			int tries;

			for (tries = 0; tries < 1000 && reset_ctrl(); tries++)
				usleep(10 * 1000);
			sync_resets += tries < 1000;
		}
		if (i % 100 == 0) {
			/*
			 * A reset may revoke at any point: MAP and redo. A
			 * revoked transfer is not lost data but a retry, and
			 * a storm of resets 20 ms apart can revoke many in a
			 * row on a loaded machine: edu_round_trip() backs off
			 * (1-20 ms, as a real importer would) for up to 60 s,
			 * not a count of tries, and says what it ran out on.
			 */
			int tries, e = edu_round_trip(edu, id, (i / 100) * 4096, buf, sizeof(buf),
						      (unsigned char)i, &stale, &tries);

			if (e == EILSEQ) {
				unsigned int k = 0;

				while (k < sizeof(buf) && buf[k] == (unsigned char)(k * 13 + i))
					k++;
				bad_data++;
				ksft_print_msg("round trip %u: bytes differ from %u on (read 0x%02x, wrote 0x%02x)\n",
					       i / 100, k, k < sizeof(buf) ? buf[k] : 0,
					       (unsigned char)(k * 13 + i));
			} else if (e) {
				bad_data++;
				ksft_print_msg("round trip %u: gave up after %d tries: %s\n", i / 100,
					       tries, strerrorname_np(e));
			}
		}
		if (id_ioctl(edu, EDU_P2P_IOC_DETACH, id))
			bad_attach++;
	}
	close(stop);
	if (read(resets_fd, &bg_resets, sizeof(bg_resets)) != sizeof(bg_resets))
		bg_resets = 0;
	close(resets_fd);
	waitpid(resetter, &st, 0);
	c1 = edu_counters(edu);
	ksft_print_msg("stress: %ld s, %u synchronous + %u background resets, %u transfers refused "
		       "(ESTALE) and retried after MAP, %llu mappings redone after racing an "
		       "invalidation\n", (long)(time(NULL) - t0), sync_resets, bg_resets, stale,
		       (unsigned long long)(c1.map_retries - c0.map_retries));
	CHECK(bad_attach == 0, "1000 attach/detach cycles interleaved with resets (%u failed)",
	      bad_attach);
	CHECK(sync_resets == 20 && bg_resets > 0, "%u resets with an attachment live, %u more "
	      "from another process", sync_resets, bg_resets);
	CHECK(bad_data == 0, "10 round trips by edu DMA during the resets all verified");
	CHECK(c1.attaches - c0.attaches == 1000 && c1.detaches - c0.detaches == 1000 &&
	      c1.live == 0, "counters: 1000 attaches, 1000 detaches, none live");
	CHECK(c1.maps - c0.maps == c1.unmaps - c0.unmaps && c1.unmap_errors == 0,
	      "counters balance: %llu maps, %llu unmaps, %llu invalidations, 0 unmap errors",
	      (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps),
	      (unsigned long long)(c1.invalidations - c0.invalidations));
	CHECK(c1.invalidations - c0.invalidations >= 20,
	      "every reset with an attachment live revoked it (%llu invalidations)",
	      (unsigned long long)(c1.invalidations - c0.invalidations));
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "no CMB leaked by the stress");
	CHECK(!kernel_log_has("p2p:", "did not unmap"), "no importer mapping left behind");
}

/* Closing the edu descriptor ends its attachments. */
TEST_F(edu, close_edu)
{
	int ctrl = self->e.ctrl;
	long long free0 = self->e.free0;
	size_t size = 16 * KiB;
	int fd = cmb_region(ctrl, size, 0, NULL, NULL);
	void *p = fd < 0 ? NULL : map_region(fd, size, PROT_READ | PROT_WRITE);
	int edu = open(edu_switch.dev, O_RDWR), probe = open(edu_switch.dev, O_RDWR);
	struct edu_p2p_counters c0 = edu_counters(probe), c1;
	int a = p ? attach(edu, p, size, EDU_P2P_ATTACH_WRITE, NULL) : -1;
	int b = p ? attach(edu, p, 4096, 0, NULL) : -1;

	CHECK(a > 0 && b > 0 && a != b, "two attachments on one descriptor (ids %d, %d)", a, b);
	close(edu);
	c1 = edu_counters(probe);
	CHECK(c1.live == c0.live && c1.detaches - c0.detaches == 2 &&
	      c1.unmaps - c0.unmaps == 2, "close() detached and unmapped both");
	close(probe);
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "region memory returned");
}

TEST_HARNESS_MAIN
