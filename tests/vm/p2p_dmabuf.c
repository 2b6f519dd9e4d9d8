// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-export-regions-queue-rings-and-doorbell */
/*
 * VM test: regions, queue rings and doorbells exported as dma-bufs
 * (NVME_P2P_IOCTL_DMABUF), imported by the edu test driver
 * (tests/kmod/edu_p2p.ko, EDU_P2P_ATTACH_DMABUF) as a dynamic importer:
 * bytes moved by edu DMA only, reachability per importer, the importers
 * the exporter refuses (static, pinning, no peer-to-peer), no CPU access
 * through the dma-buf, revocation by a controller reset, dma-bufs
 * outliving their region or queue descriptor and their process, every
 * errno of the ioctl, 1000 export/attach/detach cycles with resets in
 * between leaking nothing, resets during the edu's DMA, and unbinding
 * nvme or the importer with dma-bufs attached. On the kselftest harness, with the CMB leak
 * check of P2P_CMB_FIXTURE after every test. Runs in the testbed guest as
 * root with edu_p2p.ko loaded; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>
#include <linux/nvme_p2p.h>

#include "p2p_harness.h"

#define KiB	1024UL
#define RBYTES	(16 * KiB)
#define DEPTH	16

P2P_CMB_FIXTURE(dmabuf)

static int edu_id(int edu, unsigned long cmd, int id)
{
	uint32_t v = (uint32_t)id;

	return ioctl(edu, cmd, &v);
}

static int open_edu(int root)
{
	struct edu sw = { "", "" }, far = { "", "" };

	find_edus(&sw, &far);
	return open(root ? far.dev : sw.dev, O_RDWR);
}

static const char *root_bdf(void)
{
	static struct edu sw, far;

	find_edus(&sw, &far);
	return far.bdf;
}

static int reset_ctrl(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", ctrl_name);
	return write_sysfs(path, "1");
}

/* The LIST entry of the export at controller address @addr (type @type). */
static int list_entry(int ctrl, uint32_t type, uint64_t addr, struct nvme_p2p_list_entry *out)
{
	struct nvme_p2p_list_entry e[32];
	struct nvme_p2p_list l = {
		.argsz = sizeof(l), .entry_size = sizeof(e[0]), .nr_entries = 32,
		.entries = (uintptr_t)e,
	};
	unsigned int i;

	if (ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l))
		return -1;
	for (i = 0; i < l.nr_entries && i < 32; i++) {
		if (e[i].type == type && e[i].addr == addr) {
			*out = e[i];
			return 0;
		}
	}
	return -1;
}

static int queue_create(int ctrl, uint32_t flags, struct nvme_p2p_queue_info *qi)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = DEPTH, .flags = flags,
		.sq_placement = NVME_P2P_SQ_CMB_REQUIRED, .cq_placement = NVME_P2P_CQ_HOST,
	};
	int fd = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);

	memset(qi, 0, sizeof(*qi));
	qi->argsz = sizeof(*qi);
	if (fd >= 0 && ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, qi)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Bytes moved by the edu only, checked by the CPU through the region's mapping. */
TEST_F(dmabuf, region_bytes_by_edu_dma)
{
	struct nvme_p2p_region_create rc;
	struct nvme_p2p_list_entry e;
	struct edu_p2p_status st = { 0 };
	unsigned char buf[4096];
	uint64_t dma = 0, dma2 = 0;
	unsigned char *p;
	int fd, db, db2, edu, id, id2;

	fd = region(self->ctrl, RBYTES, 0, &rc);
	ASSERT_LE(0, fd);
	p = mmap(NULL, RBYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	edu = open_edu(0);
	ASSERT_LE(0, edu);

	db = export_dmabuf(fd, 0, 0);
	CHECK(db >= 0, "DMABUF of the whole region: fd %d (%s)", db, strerror(errno));
	CHECK(fcntl(db, F_GETFD) == FD_CLOEXEC, "the dma-buf descriptor is close-on-exec");
	id = edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, &dma);
	CHECK(id > 0 && dma == rc.bus_addr,
	      "the edu behind the switch attaches it at the region's bus address 0x%llx (got 0x%llx)",
	      (unsigned long long)rc.bus_addr, (unsigned long long)dma);
	st.id = id;
	CHECK(ioctl(edu, EDU_P2P_IOC_STATUS, &st) == 0 && st.len == RBYTES &&
	      st.state == EDU_P2P_MAPPED, "STATUS: mapped, %llu bytes", (unsigned long long)st.len);

	fill(buf, sizeof(buf), 0x3c);
	CHECK(edu_xfer(edu, EDU_P2P_IOC_WRITE, id, 8192, buf, 3000) == 0,
	      "edu DMA writes 3000 bytes at offset 8192");
	CHECK(same(p + 8192, 3000, 0x3c), "the CPU reads them through the region's mapping");
	fill(p + 4096, 4096, 0x71);
	memset(buf, 0, sizeof(buf));
	CHECK(edu_xfer(edu, EDU_P2P_IOC_READ, id, 4096, buf, 4096) == 0 &&
	      same(buf, 4096, 0x71), "edu DMA reads back what the CPU wrote at offset 4096");

	db2 = export_dmabuf(fd, 12 * KiB, 4096);
	id2 = db2 < 0 ? -1 : edu_attach_dmabuf(edu, db2, 0, &dma2);
	CHECK(id2 > 0 && dma2 == rc.bus_addr + 12 * KiB,
	      "a one-page dma-buf at offset 12 KiB starts at bus address + 12 KiB (0x%llx)",
	      (unsigned long long)dma2);
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_READ, id2, 4000, buf, 200), EINVAL,
		  "a transfer past the one-page dma-buf's end");
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_WRITE, id2, 0, buf, 16), EACCES,
		  "a write through a read-only attachment");
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_REGION, rc.bus_addr, &e) == 0 &&
	      e.dmabufs == 2 && e.dmabuf_attachments == 2,
	      "LIST: the region has 2 dma-bufs and 2 importers attached (%u, %u)", e.dmabufs,
	      e.dmabuf_attachments);
	edu_id(edu, EDU_P2P_IOC_DETACH, id2);
	close(db2);
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_REGION, rc.bus_addr, &e) == 0 &&
	      e.dmabufs == 1 && e.dmabuf_attachments == 1,
	      "LIST after one detach and close: 1 and 1 (%u, %u)", e.dmabufs, e.dmabuf_attachments);
	edu_id(edu, EDU_P2P_IOC_DETACH, id);
	close(db);
	close(edu);
	munmap(p, RBYTES);
	close(fd);
}

/* Which importers the exporter takes, per importer device and kind. */
TEST_F(dmabuf, importers_refused)
{
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_region_create rc, hc;
	int fd, hfd, db, hdb, edu, far, id;

	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	hfd = region(self->ctrl, RBYTES, NVME_P2P_REGION_HOST, &hc);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, hfd);
	edu = open_edu(0);
	far = open_edu(1);
	ASSERT_LE(0, edu);
	ASSERT_LE(0, far);
	db = export_dmabuf(fd, 0, 0);
	hdb = export_dmabuf(hfd, 0, 0);
	ASSERT_LE(0, db);
	ASSERT_LE(0, hdb);
	c0 = edu_counters(edu);

	CHECK_ERR(edu_attach_dmabuf(far, db, EDU_P2P_ATTACH_WRITE, NULL), EREMOTEIO,
		  "the root-bus edu attaching the CMB region");
	CHECK(kernel_log_has(root_bdf(), "cannot reach the CMB peer to peer"),
	      "the kernel log says why %s was refused", root_bdf());
	CHECK_ERR(edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_STATIC, NULL), EOPNOTSUPP,
		  "a static importer (dma_buf_attach) of the CMB region");
	CHECK_ERR(edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_PIN, NULL), EOPNOTSUPP,
		  "a pinning importer (dma_buf_pin) of the CMB region");
	CHECK_ERR(edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_NO_P2P, NULL), EOPNOTSUPP,
		  "a dynamic importer that takes no peer-to-peer addresses");

	id = edu_attach_dmabuf(far, hdb, EDU_P2P_ATTACH_NO_P2P | EDU_P2P_ATTACH_WRITE, NULL);
	CHECK(id > 0, "host memory: the root-bus edu attaches it, without peer-to-peer (%s)",
	      strerror(errno));
	if (id > 0) {
		unsigned char buf[512];
		unsigned int stale = 0;

		CHECK(edu_round_trip(far, id, 512, buf, sizeof(buf), 0x19, &stale, NULL) == 0,
		      "a round trip by the root-bus edu's DMA through the host region");
		edu_id(far, EDU_P2P_IOC_DETACH, id);
	}
	CHECK_ERR(edu_attach_dmabuf(edu, hdb, EDU_P2P_ATTACH_PIN, NULL), EOPNOTSUPP,
		  "host memory is not pinned either");
	CHECK_ERR(edu_attach_dmabuf(edu, hdb, EDU_P2P_ATTACH_STATIC, NULL), EOPNOTSUPP,
		  "nor attached by a static importer");
	c1 = edu_counters(edu);
	CHECK(c1.live == c0.live && c1.maps == c0.maps && c1.attaches == c0.attaches,
	      "no refused importer is left attached or mapped");
	close(db);
	close(hdb);
	close(edu);
	close(far);
	close(fd);
	close(hfd);
}

/* The CPU's way in is the region or queue descriptor, not the dma-buf. */
TEST_F(dmabuf, no_cpu_access)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW };
	int fd = region(self->ctrl, RBYTES, 0, NULL);
	int db = fd < 0 ? -1 : export_dmabuf(fd, 0, 0);

	ASSERT_LE(0, db);
	CHECK_ERR(mmap(NULL, RBYTES, PROT_READ, MAP_SHARED, db, 0), EOPNOTSUPP,
		  "mmap() of the dma-buf");
	CHECK_ERR(ioctl(db, DMA_BUF_IOCTL_SYNC, &sync), EOPNOTSUPP, "DMA_BUF_IOCTL_SYNC");
	close(db);
	close(fd);
}

/* Every errno of NVME_P2P_IOCTL_DMABUF the header lists. */
TEST_F(dmabuf, bad_arguments)
{
	struct {
		struct nvme_p2p_dmabuf d;
		uint64_t tail;
	} big = { { .argsz = sizeof(big) }, 1 };
	struct nvme_p2p_queue_info qi;
	struct nvme_p2p_dmabuf d;
	int fd, qfd, db;

	fd = region(self->ctrl, RBYTES, 0, NULL);
	ASSERT_LE(0, fd);
#define TRY(field, val, err, what) do {						\
		memset(&d, 0, sizeof(d));					\
		d.argsz = sizeof(d);						\
		d.field = val;							\
		CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_DMABUF, &d), err, what);	\
	} while (0)
	TRY(flags, 1, EINVAL, "unknown flags");
	TRY(reserved[0], 1, EINVAL, "reserved[0] nonzero");
	TRY(reserved[1], 1, EINVAL, "reserved[1] nonzero");
	TRY(offset, 100, EINVAL, "offset not page aligned");
	TRY(size, 100, EINVAL, "size not page aligned");
	TRY(offset, RBYTES, EINVAL, "offset at the region's end");
	TRY(size, RBYTES + 4096, EINVAL, "size beyond the region");
	TRY(argsz, 8, EINVAL, "argsz below the first version");
	memset(&d, 0, sizeof(d));
	d.argsz = sizeof(d);
	d.offset = 4096;
	d.size = RBYTES;
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_DMABUF, &d), EINVAL, "offset + size beyond the region");
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_DMABUF, &big), E2BIG, "a larger struct with a nonzero tail");
	big.tail = 0;
	db = ioctl(fd, NVME_P2P_IOCTL_DMABUF, &big);
	CHECK(db >= 0, "a larger struct with a zero tail is taken");
	close(db);
	CHECK_ERR(ioctl(self->ctrl, NVME_P2P_IOCTL_DMABUF, &big.d), ENOTTY,
		  "on the controller descriptor");
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_QUEUE_RESUME), ENOTTY, "a queue ioctl on a region");
#undef TRY
	close(fd);

	qfd = queue_create(self->ctrl, 0, &qi);
	ASSERT_LE(0, qfd);
	CHECK_ERR(export_dmabuf(qfd, 4096, 0), EINVAL, "a queue offset that starts no part");
	CHECK_ERR(export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_SQ, qi.sq_bytes + 4096), EINVAL,
		  "a size other than the SQ ring's");
	CHECK_ERR(export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_DB + 4096, 0), EINVAL,
		  "an offset inside the doorbell part");
	db = export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_CQ, qi.cq_bytes);
	CHECK(db >= 0, "the CQ ring with its exact size");
	close(db);
	close(qfd);
}

/* A reset revokes; the region maps again at once, a queue part once live. */
TEST_F(dmabuf, reset_revokes)
{
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_queue_info qi;
	unsigned char buf[256];
	unsigned int stale = 0;
	int fd, qfd, db, sqdb, dbdb, edu, id, sq, dbl;

	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	qfd = queue_create(self->ctrl, NVME_P2P_QUEUE_SQ_NO_CPU_MAP |
			   NVME_P2P_QUEUE_DB_NO_CPU_MAP, &qi);
	edu = open_edu(0);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, qfd);
	ASSERT_LE(0, edu);
	db = export_dmabuf(fd, 0, 0);
	sqdb = export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_SQ, 0);
	dbdb = export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_DB, 0);
	ASSERT_LE(0, db);
	ASSERT_LE(0, sqdb);
	ASSERT_LE(0, dbdb);
	c0 = edu_counters(edu);
	id = edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL);
	sq = edu_attach_dmabuf(edu, sqdb, EDU_P2P_ATTACH_WRITE, NULL);
	dbl = edu_attach_dmabuf(edu, dbdb, EDU_P2P_ATTACH_WRITE, NULL);
	ASSERT_LT(0, id);
	ASSERT_LT(0, sq);
	ASSERT_LT(0, dbl);
	CHECK(edu_round_trip(edu, id, 0, buf, sizeof(buf), 0x42, &stale, NULL) == 0,
	      "a round trip by edu DMA before the reset");

	ASSERT_EQ(0, reset_ctrl());
	c1 = edu_counters(edu);
	CHECK(c1.invalidations - c0.invalidations == 3,
	      "the reset revoked all 3 attachments by move_notify (%llu)",
	      (unsigned long long)(c1.invalidations - c0.invalidations));
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_WRITE, id, 0, buf, 16), ESTALE,
		  "a transfer on the revoked region attachment");
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_WRITE, dbl, qi.sq_db_offset, buf, 4), ESTALE,
		  "a doorbell write on the revoked doorbell attachment");
	CHECK(edu_id(edu, EDU_P2P_IOC_MAP, id) == 0, "the region maps again at once");
	CHECK_ERR(edu_id(edu, EDU_P2P_IOC_MAP, sq), EAGAIN, "the SQ of the stopped queue");
	CHECK_ERR(edu_id(edu, EDU_P2P_IOC_MAP, dbl), EAGAIN, "its doorbells");
	CHECK(ioctl(qfd, NVME_P2P_IOCTL_QUEUE_RESUME) == 0, "QUEUE_RESUME");
	CHECK(edu_id(edu, EDU_P2P_IOC_MAP, sq) == 0 && edu_id(edu, EDU_P2P_IOC_MAP, dbl) == 0,
	      "once the queue is live, its SQ and doorbells map again");
	CHECK(edu_round_trip(edu, id, 4096, buf, sizeof(buf), 0x43, &stale, NULL) == 0,
	      "a round trip after the reset");
	edu_id(edu, EDU_P2P_IOC_DETACH, id);
	edu_id(edu, EDU_P2P_IOC_DETACH, sq);
	edu_id(edu, EDU_P2P_IOC_DETACH, dbl);
	c1 = edu_counters(edu);
	CHECK(c1.live == c0.live && c1.maps - c0.maps == c1.unmaps - c0.unmaps &&
	      c1.unmap_errors == c0.unmap_errors,
	      "edu counters balance: %llu maps, %llu unmaps",
	      (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps));
	close(db);
	close(sqdb);
	close(dbdb);
	close(edu);
	close(qfd);
	close(fd);
}

/* Closing the region's and queue's descriptors keeps them for the dma-bufs. */
TEST_F(dmabuf, outlives_its_descriptor)
{
	struct nvme_p2p_region_create rc;
	struct nvme_p2p_queue_info qi;
	struct nvme_p2p_list_entry e;
	struct nvme_p2p_info in;
	unsigned char buf[256];
	unsigned int stale = 0;
	int fd, qfd, db, sqdb, edu, id, sq;

	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	qfd = queue_create(self->ctrl, 0, &qi);
	edu = open_edu(0);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, qfd);
	ASSERT_LE(0, edu);
	db = export_dmabuf(fd, 0, 0);
	sqdb = export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_SQ, 0);
	ASSERT_LE(0, db);
	ASSERT_LE(0, sqdb);
	id = edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL);
	sq = edu_attach_dmabuf(edu, sqdb, EDU_P2P_ATTACH_WRITE, NULL);
	ASSERT_LT(0, id);
	ASSERT_LT(0, sq);
	close(fd);
	close(qfd);
	CHECK(edu_round_trip(edu, id, 0, buf, sizeof(buf), 0x5a, &stale, NULL) == 0,
	      "the region's descriptor closed: a round trip through its dma-buf still works");
	CHECK(edu_round_trip(edu, sq, 0, buf, 64, 0x5b, &stale, NULL) == 0,
	      "the queue's descriptor closed: its SQ ring still takes the edu's DMA");
	CHECK(info(self->ctrl, &in) == 0 && in.regions == 1 &&
	      in.queues_used == self->queues_used0 + 1,
	      "INFO: the region and the queue still exist (%u regions, %u queues)", in.regions,
	      in.queues_used);
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_REGION, rc.bus_addr, &e) == 0 &&
	      e.dmabufs == 1 && e.dmabuf_attachments == 1, "LIST: the region, 1 dma-buf, 1 importer");
	edu_id(edu, EDU_P2P_IOC_DETACH, id);
	edu_id(edu, EDU_P2P_IOC_DETACH, sq);
	close(db);
	close(sqdb);
	CHECK(info(self->ctrl, &in) == 0 && in.regions == 0 &&
	      in.queues_used == self->queues_used0 && (long long)in.cmb_free == self->free0,
	      "the last dma-buf released: region and queue gone, CMB back");
	close(edu);
}

static void attach_and_die(void *arg)
{
	int ctrl = *(int *)arg;
	int fd = region(ctrl, RBYTES, 0, NULL);
	int db = fd < 0 ? -1 : export_dmabuf(fd, 0, 0);
	int edu = open_edu(0);

	if (db < 0 || edu < 0 || edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL) <= 0)
		_exit(1);
	kill(getpid(), SIGKILL);
}

/* A process killed with a dma-buf attached leaves nothing behind. */
TEST_F(dmabuf, sigkill_with_attachment)
{
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_info in;
	int edu = open_edu(0);

	ASSERT_LE(0, edu);
	c0 = edu_counters(edu);
	CHECK(child_signal(attach_and_die, &self->ctrl) == SIGKILL,
	      "the child attached a region's dma-buf and was killed");
	c1 = edu_counters(edu);
	CHECK(c1.attaches == c0.attaches + 1 && c1.live == c0.live &&
	      c1.maps - c0.maps == c1.unmaps - c0.unmaps,
	      "its attachment was detached and unmapped at exit");
	CHECK(info(self->ctrl, &in) == 0 && in.regions == 0 && (long long)in.cmb_free == self->free0,
	      "its region is gone and the CMB back");
	close(edu);
}

/* 1000 export/attach/detach/close cycles, a reset every 100: nothing leaks. */
TEST_F(dmabuf, cycles_with_resets)
{
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_queue_info qi;
	struct nvme_p2p_list_entry e;
	unsigned char buf[128];
	unsigned int i, bad = 0, trips = 0, stale = 0;
	int fd, qfd, edu;

	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	qfd = queue_create(self->ctrl, 0, &qi);
	edu = open_edu(0);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, qfd);
	ASSERT_LE(0, edu);
	c0 = edu_counters(edu);
	for (i = 0; i < 1000; i++) {
		int queue = i % 2, db, id;

		if (queue && ioctl(qfd, NVME_P2P_IOCTL_QUEUE_RESUME)) {
			bad++;
			continue;
		}
		db = queue ? export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_DB, 0) :
			export_dmabuf(fd, (i % 4) * 4096, 4096);
		id = db < 0 ? -1 : edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL);
		if (id <= 0)
			bad++;
		/* Round trips on region ranges only: never scribble on doorbells. */
		if (id > 0 && !queue && i % 100 == 0) {
			trips++;
			if (edu_round_trip(edu, id, 0, buf, sizeof(buf), (unsigned char)i,
					   &stale, NULL))
				bad++;
		}
		if (id > 0)
			edu_id(edu, EDU_P2P_IOC_DETACH, id);
		if (db >= 0)
			close(db);
		if (i % 100 == 99 && reset_ctrl())
			bad++;
	}
	c1 = edu_counters(edu);
	ksft_print_msg("cycles_with_resets: 1000 cycles, %u failed, %llu attaches, %llu maps, "
		       "%llu unmaps, %llu revocations, %u round trips\n", bad,
		       (unsigned long long)(c1.attaches - c0.attaches),
		       (unsigned long long)(c1.maps - c0.maps),
		       (unsigned long long)(c1.unmaps - c0.unmaps),
		       (unsigned long long)(c1.invalidations - c0.invalidations), trips);
	CHECK(!bad, "1000 cycles (half region ranges, half doorbell pages), 10 resets: "
	      "%u failed", bad);
	CHECK(c1.attaches - c0.attaches == 1000 && c1.live == c0.live &&
	      c1.maps - c0.maps == c1.unmaps - c0.unmaps && c1.unmap_errors == c0.unmap_errors,
	      "edu counters balance: %llu attaches, %llu maps, %llu unmaps, %u round trips",
	      (unsigned long long)(c1.attaches - c0.attaches),
	      (unsigned long long)(c1.maps - c0.maps),
	      (unsigned long long)(c1.unmaps - c0.unmaps), trips);
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_QUEUE, qi.sq_addr, &e) == 0 &&
	      e.dmabufs == 0 && e.dmabuf_attachments == 0, "LIST: no dma-buf of the queue is left");
	close(edu);
	close(qfd);
	close(fd);
}

/*
 * Resets while the edu's DMA is in flight: the importer DMAs only under
 * the reservation lock and move_notify runs under it, so a revocation
 * waits for the DMA in flight; every round trip either verifies or is
 * refused (ESTALE) and redone after mapping again.
 */
struct trips {
	int edu, id;
	unsigned int stale;
	int done, bad, errs;
};

static void *round_trips(void *arg)
{
	struct trips *t = arg;
	unsigned char buf[1024];
	int i, ret;

	for (i = 0; !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE); i++) {
		ret = edu_round_trip(t->edu, t->id, (i % 4) * 4096, buf, sizeof(buf),
				     (unsigned char)i, &t->stale, NULL);
		if (ret == EILSEQ)
			t->bad++;
		else if (ret)
			t->errs++;
	}
	return NULL;
}

TEST_F(dmabuf, reset_during_dma)
{
	struct edu_p2p_counters c0, c1;
	struct trips t = { 0 };
	pthread_t th;
	int fd, db, r, trips;

	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	t.edu = open_edu(0);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, t.edu);
	db = export_dmabuf(fd, 0, 0);
	ASSERT_LE(0, db);
	c0 = edu_counters(t.edu);
	t.id = edu_attach_dmabuf(t.edu, db, EDU_P2P_ATTACH_WRITE, NULL);
	ASSERT_LT(0, t.id);
	ASSERT_EQ(0, pthread_create(&th, NULL, round_trips, &t));
	for (r = 0; r < 5; r++) {
		usleep(300 * 1000);
		if (reset_ctrl())
			break;
	}
	__atomic_store_n(&t.done, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(edu_id(t.edu, EDU_P2P_IOC_MAP, t.id) == 0, "mapped at the end");
	c1 = edu_counters(t.edu);
	trips = (int)((c1.dmas - c0.dmas) / 2);
	ksft_print_msg("reset_during_dma: 5 resets, %d edu DMAs, %u round trips refused (ESTALE) "
		       "and redone, %d differing, %d given up, %llu revocations\n",
		       (int)(c1.dmas - c0.dmas), t.stale, t.bad, t.errs,
		       (unsigned long long)(c1.invalidations - c0.invalidations));
	CHECK(r == 5, "5 controller resets with the edu's DMA running");
	CHECK(!t.bad && !t.errs && t.stale > 0,
	      "round trips during the resets: %d bytes differed, %d gave up, %u refused "
	      "(ESTALE) and redone", t.bad, t.errs, t.stale);
	CHECK(c1.invalidations - c0.invalidations >= 1 && c1.maps - c0.maps == c1.unmaps - c0.unmaps + 1,
	      "%llu revocations, %llu maps, %llu unmaps (the live mapping left), %d edu DMA pairs",
	      (unsigned long long)(c1.invalidations - c0.invalidations),
	      (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps),
	      trips);
	edu_id(t.edu, EDU_P2P_IOC_DETACH, t.id);
	close(db);
	close(t.edu);
	close(fd);
}

/* Unbinding nvme revokes every dma-buf attachment for good. */
TEST_F(dmabuf, nvme_unbind)
{
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_queue_info qi;
	unsigned char buf[64];
	char bdf[64] = "";
	int fd, qfd, db, dbdb, edu, id, dbl, again = -1, i;

	ctrl_bdf(bdf, sizeof(bdf));
	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	qfd = queue_create(self->ctrl, 0, &qi);
	edu = open_edu(0);
	ASSERT_TRUE(bdf[0]);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, qfd);
	ASSERT_LE(0, edu);
	db = export_dmabuf(fd, 0, 0);
	dbdb = export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_DB, 0);
	ASSERT_LE(0, db);
	ASSERT_LE(0, dbdb);
	c0 = edu_counters(edu);
	id = edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL);
	dbl = edu_attach_dmabuf(edu, dbdb, EDU_P2P_ATTACH_WRITE, NULL);
	ASSERT_LT(0, id);
	ASSERT_LT(0, dbl);

	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/unbind", bdf) == 0,
	      "unbind %s from nvme with a region and a doorbell dma-buf attached", bdf);
	c1 = edu_counters(edu);
	CHECK(c1.invalidations - c0.invalidations == 2,
	      "both attachments revoked by move_notify (%llu)",
	      (unsigned long long)(c1.invalidations - c0.invalidations));
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_WRITE, id, 0, buf, sizeof(buf)), ESTALE,
		  "a transfer on the revoked region");
	CHECK_ERR(edu_id(edu, EDU_P2P_IOC_MAP, id), ENODEV, "mapping the region again");
	CHECK_ERR(edu_id(edu, EDU_P2P_IOC_MAP, dbl), ENODEV, "mapping the doorbells again");
	CHECK_ERR(export_dmabuf(fd, 0, 0), ENODEV, "a new dma-buf of the revoked region");
	CHECK_ERR(export_dmabuf(qfd, NVME_P2P_QUEUE_OFF_SQ, 0), ENODEV,
		  "a new dma-buf of the revoked queue");
	edu_id(edu, EDU_P2P_IOC_DETACH, id);
	edu_id(edu, EDU_P2P_IOC_DETACH, dbl);
	c1 = edu_counters(edu);
	CHECK(c1.live == c0.live && c1.maps - c0.maps == c1.unmaps - c0.unmaps,
	      "edu counters balance");
	close(db);
	close(dbdb);
	close(fd);
	close(qfd);
	close(edu);
	close(self->ctrl);
	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/bind", bdf) == 0, "bind %s again", bdf);
	for (i = 0; i < 100 && again < 0; i++) {
		again = open_ctrl(self->serial);
		if (again < 0)
			usleep(100 * 1000);
	}
	CHECK(again >= 0, "the controller is back");
	close(again);
}

/* Unbinding the importer: its transfers stop; detach and release still work. */
TEST_F(dmabuf, importer_unbind)
{
	struct edu sw = { "", "" }, far = { "", "" };
	struct nvme_p2p_region_create rc;
	struct nvme_p2p_list_entry e;
	unsigned char buf[64];
	int fd, db, edu, id, i;

	find_edus(&sw, &far);
	fd = region(self->ctrl, RBYTES, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	edu = open(sw.dev, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, edu);
	db = export_dmabuf(fd, 0, 0);
	ASSERT_LE(0, db);
	id = edu_attach_dmabuf(edu, db, EDU_P2P_ATTACH_WRITE, NULL);
	ASSERT_LT(0, id);
	CHECK(write_sysfs("/sys/bus/pci/drivers/edu_p2p/unbind", sw.bdf) == 0,
	      "unbind %s from edu_p2p with a dma-buf attached", sw.bdf);
	CHECK_ERR(edu_xfer(edu, EDU_P2P_IOC_WRITE, id, 0, buf, sizeof(buf)), ENODEV,
		  "a transfer by the unbound edu");
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_REGION, rc.bus_addr, &e) == 0 &&
	      e.dmabuf_attachments == 1, "LIST: still attached until the descriptor lets go");
	CHECK(edu_id(edu, EDU_P2P_IOC_DETACH, id) == 0, "DETACH still works");
	CHECK(list_entry(self->ctrl, NVME_P2P_ENTRY_REGION, rc.bus_addr, &e) == 0 &&
	      e.dmabuf_attachments == 0, "LIST: no importer attached");
	close(edu);
	close(db);
	close(fd);
	CHECK(write_sysfs("/sys/bus/pci/drivers/edu_p2p/bind", sw.bdf) == 0,
	      "bind %s again", sw.bdf);
	for (i = 0, edu = -1; i < 50 && edu < 0; i++) {
		memset(&sw, 0, sizeof(sw));
		find_edus(&sw, &far);
		edu = sw.dev[0] ? open(sw.dev, O_RDWR) : -1;
		if (edu < 0)
			usleep(100 * 1000);
	}
	CHECK(edu >= 0, "it is back as %s", sw.dev);
	close(edu);
}

TEST_HARNESS_MAIN
