// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-list-a-controller-s-exports */
/*
 * The peer scenario: a PCIe peer (QEMU's edu behind the switch, driven by
 * tests/kmod/edu_p2p.ko) drives an I/O queue pair that nvme-pci exports,
 * with no CPU mapping of the SQ or the doorbells: the edu DMAs each SQE
 * into the SQ slot in the CMB and then the new tail into the SQ doorbell;
 * the data moves between CMB regions and the SSD, and the edu moves it in
 * and out of the CMB. The CPU only polls the CQ (host memory) and checks
 * the results through the block device.
 *
 * It prints TAP whose comments tell each step with its bus addresses and
 * counters: tests/vm/run runs it as a test (peer-queue), make demo
 * (tests/testbed/show-testbed) shows it as an account. Runs in the
 * testbed guest as root with edu_p2p.ko loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>

#include "../../tools/lib/nvmep2p.h"
#include "p2p_test.h"

#define DEPTH		16
#define XFER		4096
#define WRITE_LBA_BYTES	(64ULL << 20)	/* where the peer's WRITE lands */
#define READ_LBA_BYTES	(65ULL << 20)	/* what the peer's READ fetches */

/* --- the controller, its namespace, the edus ------------------------------- */

static char ns_name[48];

/* The controller's first namespace: its block device, nsid, LBA size. */
static int open_ns(unsigned int *nsid, unsigned int *lba_bytes)
{
	char pattern[96], path[160];
	glob_t g;
	FILE *f;
	int fd;

	snprintf(pattern, sizeof(pattern), "/sys/class/nvme/%s/%.16sn*", ctrl_name, ctrl_name);
	if (glob(pattern, 0, NULL, &g) || !g.gl_pathc)
		return -1;
	snprintf(ns_name, sizeof(ns_name), "%s", strrchr(g.gl_pathv[0], '/') + 1);
	globfree(&g);
	snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", ns_name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%u", lba_bytes) != 1)
		*lba_bytes = 0;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/dev/%s", ns_name);
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd >= 0) {
		int id = ioctl(fd, NVME_IOCTL_ID);

		*nsid = id > 0 ? (unsigned int)id : 0;
	}
	return fd;
}

/* --- edu_p2p ------------------------------------------------------------------ */

static int edu_attach(int edu, void *addr, size_t len, uint32_t flags, uint64_t *dma)
{
	struct edu_p2p_attach a = {
		.addr = (uintptr_t)addr, .len = len, .flags = flags,
	};

	if (ioctl(edu, EDU_P2P_IOC_ATTACH, &a))
		return -1;
	if (dma)
		*dma = a.dma_addr;
	return (int)a.id;
}

static int edu_id(int edu, unsigned long cmd, int id)
{
	uint32_t v = (uint32_t)id;

	return ioctl(edu, cmd, &v);
}

/* Detach the edu's attachments that exist (id > 0). */
static void edu_detach(int edu, const int *ids, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] > 0)
			edu_id(edu, EDU_P2P_IOC_DETACH, ids[i]);
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- the exported queue as the peer drives it ----------------------------------- */

struct peer_queue {
	int fd;
	struct nvme_p2p_queue_info info;
	void *sq, *db;			/* VMAs with no CPU mapping: handles */
	volatile struct nvmep2p_cqe *cq;	/* host memory, polled by the CPU */
	int sq_id, db_id;		/* edu attachments */
	int cq_id;			/* > 0: the edu polls the CQ by DMA */
	uint64_t cq_off;		/* of the CQ in that attachment */
	uint64_t sq_dma, db_dma;	/* as the edu addresses them */
	unsigned int tail, head;
	uint8_t phase;
};

static int queue_info(struct peer_queue *q)
{
	memset(&q->info, 0, sizeof(q->info));
	q->info.argsz = sizeof(q->info);
	return ioctl(q->fd, NVME_P2P_IOCTL_QUEUE_INFO, &q->info);
}

/*
 * One command, the peer's way: the edu DMAs the SQE into the next SQ slot,
 * then the new tail into the SQ doorbell; the CPU polls the CQ; the edu
 * writes the new CQ head into the CQ doorbell. Returns the CQE status
 * (0 success), or -1 if a step failed.
 */
static int peer_submit(int edu, struct peer_queue *q, struct nvmep2p_sqe *sqe,
		       uint16_t cid, const char *what)
{
	unsigned int slot = q->tail;
	uint32_t tail, head;
	struct timespec t0;
	struct nvmep2p_cqe cqe;
	int status;

	sqe->cid = cid;
	if (edu_xfer(edu, EDU_P2P_IOC_WRITE, q->sq_id, slot * sizeof(*sqe), sqe,
		     sizeof(*sqe))) {
		diag("  edu DMA of the SQE failed: %s", strerror(errno));
		return -1;
	}
	diag("  the edu DMAed the 64-byte %s SQE (cid %u) into SQ slot %u at bus address 0x%llx",
	    what, cid, slot, (unsigned long long)(q->sq_dma + slot * sizeof(*sqe)));
	q->tail = (q->tail + 1) % q->info.depth;
	tail = q->tail;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (edu_xfer(edu, EDU_P2P_IOC_WRITE, q->db_id, q->info.sq_db_offset, &tail,
		     sizeof(tail))) {
		diag("  edu DMA of the SQ tail failed: %s", strerror(errno));
		return -1;
	}
	diag("  the edu DMAed the new tail %u into the SQ %u tail doorbell at bus address 0x%llx",
	    tail, q->info.qid, (unsigned long long)(q->db_dma + q->info.sq_db_offset));

	for (;;) {
		if (q->cq_id > 0) {
			if (edu_xfer(edu, EDU_P2P_IOC_READ, q->cq_id,
				     q->cq_off + q->head * sizeof(cqe), &cqe, sizeof(cqe))) {
				diag("  edu DMA of CQ slot %u failed: %s", q->head, strerror(errno));
				return -1;
			}
		} else {
			memcpy(&cqe, (const void *)&q->cq[q->head], sizeof(cqe));
		}
		if ((cqe.status & 1) == q->phase)
			break;
		if (ms_since(&t0) > 10000) {
			diag("  no completion in CQ slot %u after 10 s", q->head);
			return -1;
		}
		usleep(1000);
	}
	status = nvmep2p_cqe_status(&cqe);
	diag("  completion in CQ slot %u%s after %lld ms: cid %u, status 0x%03x%s, SQ head %u",
	    q->head, q->cq_id > 0 ? " (read by edu DMA)" : "", ms_since(&t0), cqe.cid, status,
	    status ? "" : " (success)", cqe.sq_head);
	if (cqe.cid != cid || cqe.sq_id != q->info.qid || cqe.sq_head != q->tail)
		return -1;
	q->head = (q->head + 1) % q->info.depth;
	if (!q->head)
		q->phase ^= 1;
	head = q->head;
	if (edu_xfer(edu, EDU_P2P_IOC_WRITE, q->db_id, q->info.cq_db_offset, &head,
		     sizeof(head))) {
		diag("  edu DMA of the CQ head failed: %s", strerror(errno));
		return -1;
	}
	diag("  the edu DMAed the new head %u into the CQ %u head doorbell", head, q->info.qid);
	return status;
}

static int queue_create(int ctrl, struct peer_queue *q)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = DEPTH,
		.flags = NVME_P2P_QUEUE_SQ_NO_CPU_MAP | NVME_P2P_QUEUE_DB_NO_CPU_MAP,
		.sq_placement = NVME_P2P_SQ_CMB_REQUIRED,
		.cq_placement = NVME_P2P_CQ_HOST,
	};

	memset(q, 0, sizeof(*q));
	q->phase = 1;
	q->fd = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	if (q->fd < 0 || queue_info(q))
		return -1;
	q->sq = mmap(NULL, q->info.sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		     NVME_P2P_QUEUE_OFF_SQ);
	q->cq = mmap(NULL, q->info.cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		     NVME_P2P_QUEUE_OFF_CQ);
	q->db = mmap(NULL, q->info.db_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		     NVME_P2P_QUEUE_OFF_DB);
	if (q->sq == MAP_FAILED || q->cq == MAP_FAILED || q->db == MAP_FAILED)
		return -1;
	return 0;
}

static int data_region(int ctrl, void **map, uint64_t *bus)
{
	struct nvme_p2p_region_create rc;
	int fd = region(ctrl, XFER, NVME_P2P_REGION_NO_CPU_MAP, &rc);

	*map = fd < 0 ? MAP_FAILED :
		mmap(NULL, XFER, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*bus = rc.bus_addr;
	return *map == MAP_FAILED ? -1 : fd;
}

/* --- the same through dma-bufs ------------------------------------------------ */

/*
 * The peer drives a queue whose SQ (in the CMB) and doorbells reach it as
 * dma-bufs only: no mmap of either exists. Data regions too. The CPU maps
 * the CQ (host memory) to poll it, and checks data through the block
 * device.
 */
static void dmabuf_run(int ctrl, int ns, int edu, int far, const struct edu *root,
		       unsigned int nsid, unsigned int lba_bytes, unsigned char *data)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = DEPTH,
		.flags = NVME_P2P_QUEUE_SQ_NO_CPU_MAP | NVME_P2P_QUEUE_DB_NO_CPU_MAP,
		.sq_placement = NVME_P2P_SQ_CMB_REQUIRED, .cq_placement = NVME_P2P_CQ_HOST,
	};
	struct nvme_p2p_region_create wrc, rrc;
	struct edu_p2p_counters c0, c1;
	struct peer_queue q;
	struct nvmep2p_sqe sqe;
	uint64_t lbas = XFER / lba_bytes, wdma = 0, rdma = 0;
	int sqbuf = -1, dbbuf = -1, wbuf = -1, rbuf = -1, wfd = -1, rfd = -1, wid = -1, rid = -1;
	int status, ret;
	char path[96];

	diag("9. The same through dma-bufs: the queue's SQ ring and doorbell page, and two data");
	diag("   regions, are exported as dma-bufs (NVME_P2P_IOCTL_DMABUF) and never mmap()ed;");
	diag("   the edu imports them as a dynamic dma-buf importer, as an RDMA NIC would.");
	c0 = edu_counters(edu);
	memset(&q, 0, sizeof(q));
	q.phase = 1;
	q.fd = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	ret = q.fd < 0 ? -1 : queue_info(&q);
	q.cq = ret ? MAP_FAILED : mmap(NULL, q.info.cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
				       q.fd, NVME_P2P_QUEUE_OFF_CQ);
	sqbuf = ret ? -1 : export_dmabuf(q.fd, NVME_P2P_QUEUE_OFF_SQ, 0);
	if (sqbuf < 0 && errno == ENOTTY) {
		/* A kernel of the series before the dma-buf export patch. */
		skip("dma-buf export: this kernel has no NVME_P2P_IOCTL_DMABUF");
		goto out;
	}
	dbbuf = ret ? -1 : export_dmabuf(q.fd, NVME_P2P_QUEUE_OFF_DB, 0);
	wfd = region(ctrl, XFER, NVME_P2P_REGION_NO_CPU_MAP, &wrc);
	rfd = region(ctrl, XFER, NVME_P2P_REGION_NO_CPU_MAP, &rrc);
	wbuf = wfd < 0 ? -1 : export_dmabuf(wfd, 0, 0);
	rbuf = rfd < 0 ? -1 : export_dmabuf(rfd, 0, 0);
	result(q.cq != MAP_FAILED && sqbuf >= 0 && dbbuf >= 0 && wbuf >= 0 && rbuf >= 0,
	       "queue %u: dma-bufs of its SQ ring and doorbell page, and of two CMB regions",
	       q.info.qid);
	if (q.cq == MAP_FAILED || sqbuf < 0 || dbbuf < 0 || wbuf < 0 || rbuf < 0)
		goto out;
	q.sq_id = edu_attach_dmabuf(edu, sqbuf, EDU_P2P_ATTACH_WRITE, &q.sq_dma);
	q.db_id = edu_attach_dmabuf(edu, dbbuf, EDU_P2P_ATTACH_WRITE, &q.db_dma);
	wid = edu_attach_dmabuf(edu, wbuf, EDU_P2P_ATTACH_WRITE, &wdma);
	rid = edu_attach_dmabuf(edu, rbuf, 0, &rdma);
	result(q.sq_id > 0 && q.db_id > 0 && wid > 0 && rid > 0 && q.sq_dma == q.info.sq_addr &&
	       q.db_dma == q.info.db_addr && wdma == wrc.bus_addr && rdma == rrc.bus_addr,
	       "the edu attached all four: SQ at 0x%llx, doorbells at 0x%llx, data at 0x%llx "
	       "and 0x%llx", (unsigned long long)q.sq_dma, (unsigned long long)q.db_dma,
	       (unsigned long long)wdma, (unsigned long long)rdma);
	if (q.sq_id <= 0 || q.db_id <= 0 || wid <= 0 || rid <= 0)
		goto out;

	fill(data, XFER, 0x6d);
	result(edu_xfer(edu, EDU_P2P_IOC_WRITE, wid, 0, data, XFER) == 0,
	       "the edu DMAed a pattern into the write-data region's dma-buf");
	nvmep2p_prep_write(&sqe, nsid, WRITE_LBA_BYTES / lba_bytes, (uint32_t)lbas, wrc.bus_addr,
			   0);
	status = peer_submit(edu, &q, &sqe, 11, "WRITE");
	memset(data, 0, XFER);
	result(status == 0 && pread(ns, data, XFER, WRITE_LBA_BYTES) == XFER &&
	       same(data, XFER, 0x6d), "WRITE by DMA alone: /dev/%s holds the pattern", ns_name);
	fill(data, XFER, 0xd6);
	ret = pwrite(ns, data, XFER, READ_LBA_BYTES) == XFER && fdatasync(ns) == 0;
	nvmep2p_prep_read(&sqe, nsid, READ_LBA_BYTES / lba_bytes, (uint32_t)lbas, rrc.bus_addr, 0);
	status = ret ? peer_submit(edu, &q, &sqe, 12, "READ") : -1;
	memset(data, 0, XFER);
	result(status == 0 && edu_xfer(edu, EDU_P2P_IOC_READ, rid, 0, data, XFER) == 0 &&
	       same(data, XFER, 0xd6),
	       "READ by DMA alone: the edu moved out of the CMB what the CPU wrote to the SSD");

	diag("10. Reset: move_notify revokes all four; the data regions map again at once, the");
	diag("    SQ and doorbells only once the owner has resumed the queue.");
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", ctrl_name);
	result(write_sysfs(path, "1") == 0, "echo 1 > %s", path);
	c1 = edu_counters(edu);
	result(c1.invalidations - c0.invalidations == 4, "4 dma-buf attachments revoked (%llu)",
	       (unsigned long long)(c1.invalidations - c0.invalidations));
	expect_err(edu_id(edu, EDU_P2P_IOC_MAP, q.db_id), EAGAIN,
		   "mapping the doorbells of the stopped queue");
	q.tail = q.head = 0;
	q.phase = 1;
	result(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME) == 0 &&
	       edu_id(edu, EDU_P2P_IOC_MAP, q.sq_id) == 0 &&
	       edu_id(edu, EDU_P2P_IOC_MAP, q.db_id) == 0 &&
	       edu_id(edu, EDU_P2P_IOC_MAP, wid) == 0,
	       "QUEUE_RESUME, then the edu maps the SQ, doorbells and write-data region again");
	fill(data, XFER, 0x39);
	ret = edu_xfer(edu, EDU_P2P_IOC_WRITE, wid, 0, data, XFER);
	nvmep2p_prep_write(&sqe, nsid, WRITE_LBA_BYTES / lba_bytes, (uint32_t)lbas, wrc.bus_addr,
			   0);
	status = ret ? -1 : peer_submit(edu, &q, &sqe, 13, "WRITE");
	memset(data, 0, XFER);
	result(status == 0 && pread(ns, data, XFER, WRITE_LBA_BYTES) == XFER &&
	       same(data, XFER, 0x39), "a WRITE through the re-mapped dma-bufs lands on the SSD");

	diag("11. The root-bus edu (%s) is refused the doorbells' dma-buf.", root->bdf);
	expect_err(edu_attach_dmabuf(far, dbbuf, EDU_P2P_ATTACH_WRITE, NULL), EREMOTEIO,
		   "attaching the doorbell dma-buf");
out:
	edu_detach(edu, (int []){ q.sq_id, q.db_id, wid, rid }, 4);
	close(sqbuf);
	close(dbbuf);
	close(wbuf);
	close(rbuf);
	close(wfd);
	close(rfd);
	if (q.cq != MAP_FAILED)
		munmap((void *)q.cq, q.info.cq_bytes);
	close(q.fd);
	c1 = edu_counters(edu);
	result(c1.live == c0.live && c1.maps - c0.maps == c1.unmaps - c0.unmaps,
	       "dma-bufs released: edu counters balance (%llu maps, %llu unmaps)",
	       (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps));
}

/* --- rings in another device's memory ----------------------------------------- */

/*
 * The headline of queues in peer memory: the edu drives data0, which has
 * no CMB, through a queue whose SQ and CQ live in a CMB region of p2p0
 * (behind the same switch), passed to data0 as a dma-buf. No CPU mapping
 * of either ring or of data0's doorbells exists: the edu DMAs SQEs into
 * p2p0's CMB, rings data0's doorbell, reads the CQEs out of p2p0's CMB.
 */
static void ring_run(int cmb_ctrl, int edu, unsigned char *data)
{
	char save_dir[256], save_name[32], cmb_name[32], dev[64];
	struct nvme_p2p_region_create ring_rc, wrc, rrc;
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = DEPTH, .flags = NVME_P2P_QUEUE_DB_NO_CPU_MAP,
		.sq_placement = NVME_P2P_SQ_DMABUF, .cq_placement = NVME_P2P_CQ_DMABUF,
		.cq_dmabuf_offset = 4096,
	};
	int data_ctrl, ns = -1, ringfd, wfd, rfd, ringbuf = -1, dbbuf = -1, wbuf = -1, rbuf = -1;
	int wid = -1, rid = -1, status, ret;
	const char *serial = getenv("SERIAL_DATA");
	uint64_t ring_dma = 0, wdma = 0, rdma = 0, lbas;
	struct edu_p2p_counters c0, c1;
	struct peer_queue q;
	struct nvmep2p_sqe sqe;

	memset(&q, 0, sizeof(q));
	q.fd = -1;
	q.phase = 1;
	memcpy(save_dir, pci_dir, sizeof(save_dir));
	memcpy(save_name, ctrl_name, sizeof(save_name));
	snprintf(cmb_name, sizeof(cmb_name), "%s", ctrl_name);
	data_ctrl = open_ctrl(serial && *serial ? serial : "data0");
	snprintf(dev, sizeof(dev), "/dev/%sn1", ctrl_name);
	if (data_ctrl >= 0)
		ns = open(dev, O_RDWR | O_DIRECT);
	diag("12. Rings in another device's memory: %s (serial data0) has no CMB. Its queue's SQ",
	    ctrl_name);
	diag("    and CQ live in a CMB region of %s behind the same switch, passed as a dma-buf",
	    cmb_name);
	diag("    (NVME_P2P_SQ_DMABUF, NVME_P2P_CQ_DMABUF); the edu drives it by DMA alone.");
	memcpy(pci_dir, save_dir, sizeof(save_dir));
	memcpy(ctrl_name, save_name, sizeof(save_name));
	ringfd = region(cmb_ctrl, 8192, NVME_P2P_REGION_NO_CPU_MAP, &ring_rc);
	wfd = region(cmb_ctrl, XFER, NVME_P2P_REGION_NO_CPU_MAP, &wrc);
	rfd = region(cmb_ctrl, XFER, NVME_P2P_REGION_NO_CPU_MAP, &rrc);
	ringbuf = ringfd < 0 ? -1 : export_dmabuf(ringfd, 0, 0);
	if (ringbuf < 0 && errno == ENOTTY) {
		skip("rings in peer memory: this kernel has no NVME_P2P_IOCTL_DMABUF");
		goto out;
	}
	wbuf = wfd < 0 ? -1 : export_dmabuf(wfd, 0, 0);
	rbuf = rfd < 0 ? -1 : export_dmabuf(rfd, 0, 0);
	qc.sq_dmabuf_fd = qc.cq_dmabuf_fd = ringbuf;
	q.fd = data_ctrl < 0 || ringbuf < 0 ? -1 :
		ioctl(data_ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	if (q.fd < 0 && errno == EINVAL) {
		/* A kernel of the series before patch 19: no such placement. */
		skip("rings in peer memory: this kernel has no NVME_P2P_SQ_DMABUF");
		goto out;
	}
	ret = q.fd < 0 ? -1 : queue_info(&q);
	result(ns >= 0 && !ret && q.info.sq_placement == NVME_P2P_SQ_DMABUF &&
	       q.info.cq_placement == NVME_P2P_CQ_DMABUF && q.info.sq_addr == ring_rc.bus_addr &&
	       q.info.cq_addr == ring_rc.bus_addr + 4096,
	       "data0's queue %u: SQ at 0x%llx and CQ at 0x%llx, both in %s's CMB",
	       q.info.qid, (unsigned long long)q.info.sq_addr,
	       (unsigned long long)q.info.cq_addr, cmb_name);
	if (ns < 0 || ret)
		goto out;
	c0 = edu_counters(edu);
	dbbuf = export_dmabuf(q.fd, NVME_P2P_QUEUE_OFF_DB, 0);
	q.sq_id = ringbuf < 0 ? -1 : edu_attach_dmabuf(edu, ringbuf, EDU_P2P_ATTACH_WRITE, &ring_dma);
	q.cq_id = q.sq_id;
	q.cq_off = 4096;
	q.db_id = dbbuf < 0 ? -1 : edu_attach_dmabuf(edu, dbbuf, EDU_P2P_ATTACH_WRITE, &q.db_dma);
	wid = wbuf < 0 ? -1 : edu_attach_dmabuf(edu, wbuf, EDU_P2P_ATTACH_WRITE, &wdma);
	rid = rbuf < 0 ? -1 : edu_attach_dmabuf(edu, rbuf, 0, &rdma);
	q.sq_dma = ring_dma;
	result(q.sq_id > 0 && q.db_id > 0 && wid > 0 && rid > 0 && ring_dma == ring_rc.bus_addr &&
	       q.db_dma == q.info.db_addr,
	       "the edu attached the rings' dma-buf at 0x%llx, data0's doorbells at 0x%llx and "
	       "two data regions", (unsigned long long)ring_dma, (unsigned long long)q.db_dma);
	if (q.sq_id <= 0 || q.db_id <= 0 || wid <= 0 || rid <= 0)
		goto out;

	lbas = XFER / 512;
	fill(data, XFER, 0x4b);
	result(edu_xfer(edu, EDU_P2P_IOC_WRITE, wid, 0, data, XFER) == 0,
	       "the edu DMAed a pattern into a CMB data region of %s", cmb_name);
	nvmep2p_prep_write(&sqe, 1, WRITE_LBA_BYTES / 512, (uint32_t)lbas, wrc.bus_addr, 0);
	status = peer_submit(edu, &q, &sqe, 21, "WRITE");
	memset(data, 0, XFER);
	result(status == 0 && pread(ns, data, XFER, WRITE_LBA_BYTES) == XFER &&
	       same(data, XFER, 0x4b),
	       "WRITE: data0 fetched the SQE from and posted the CQE to %s's CMB; %s holds "
	       "the pattern", cmb_name, dev);
	fill(data, XFER, 0xb4);
	ret = pwrite(ns, data, XFER, READ_LBA_BYTES) == XFER && fdatasync(ns) == 0;
	nvmep2p_prep_read(&sqe, 1, READ_LBA_BYTES / 512, (uint32_t)lbas, rrc.bus_addr, 0);
	status = ret ? peer_submit(edu, &q, &sqe, 22, "READ") : -1;
	memset(data, 0, XFER);
	result(status == 0 && edu_xfer(edu, EDU_P2P_IOC_READ, rid, 0, data, XFER) == 0 &&
	       same(data, XFER, 0xb4),
	       "READ: the edu moved out of %s's CMB what the CPU wrote to %s", cmb_name, dev);
	c1 = edu_counters(edu);
	diag("    edu counters: %llu DMAs (SQEs, doorbells, CQE polls, data); no CPU mapping of",
	    (unsigned long long)(c1.dmas - c0.dmas));
	diag("    data0's rings or doorbells was ever made.");
out:
	edu_detach(edu, (int []){ q.sq_id, q.db_id, wid, rid }, 4);
	close(q.fd);
	close(dbbuf);
	close(ringbuf);
	close(wbuf);
	close(rbuf);
	close(ringfd);
	close(wfd);
	close(rfd);
	close(ns);
	close(data_ctrl);
}

static unsigned int list_importers(int ctrl)
{
	struct nvme_p2p_list_entry e[16];
	struct nvme_p2p_list l = {
		.argsz = sizeof(l), .entry_size = sizeof(e[0]), .nr_entries = 16,
		.entries = (uintptr_t)e,
	};
	unsigned int i, n = 0;

	if (ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l))
		return ~0U;
	for (i = 0; i < l.nr_entries && i < 16; i++)
		n += e[i].importers;
	return n;
}

int main(void)
{
	struct edu sw = { "", "" }, root = { "", "" };
	struct nvme_p2p_info info = { .argsz = sizeof(info) };
	struct edu_p2p_counters c0, c1;
	struct nvme_p2p_queue_info qi;
	struct peer_queue q;
	struct nvmep2p_sqe sqe;
	unsigned char *data;
	void *wmap, *rmap;
	uint64_t wbus, rbus, wdma, rdma, lbas;
	unsigned int nsid = 0, lba_bytes = 0, gen0;
	int ctrl, ns, edu, far, wfd, rfd, wid, rid, status, ret;
	long long free0;

	ctrl = open_ctrl("p2p0");
	find_edus(&sw, &root);
	if (ctrl < 0 || !sw.dev[0] || !root.dev[0] ||
	    ioctl(ctrl, NVME_P2P_IOCTL_INFO, &info)) {
		result(0, "the CMB controller (serial p2p0) and edu_p2p devices for both edus");
		done_testing();
		return 1;
	}
	ns = open_ns(&nsid, &lba_bytes);
	edu = open(sw.dev, O_RDWR);
	far = open(root.dev, O_RDWR);
	free0 = (long long)info.cmb_free;
	data = aligned_alloc(4096, XFER);
	diag("Peer scenario: the edu DMA engine at %s (behind the PCIe switch, %s) drives an",
	    sw.bdf, sw.dev);
	diag("I/O queue pair exported by %s: SQ in the CMB and doorbells, neither mapped for the CPU.",
	    ctrl_name);
	result(ns >= 0 && nsid && lba_bytes && edu >= 0 && far >= 0 && data,
	       "namespace %s (nsid %u, %u-byte blocks) and both edus open", ns_name, nsid,
	       lba_bytes);
	result(info.queues_reserved > 0, "%s reserves %u queue IDs for export from qid %u",
	       ctrl_name, info.queues_reserved, info.first_qid);
	if (ns < 0 || !lba_bytes || edu < 0 || far < 0 || !data || !info.queues_reserved)
		goto out;
	c0 = edu_counters(edu);

	diag("1. Export a queue pair: depth %u, SQ in the CMB, no CPU mapping of SQ or doorbells.",
	    DEPTH);
	ret = queue_create(ctrl, &q);
	result(!ret && q.info.sq_placement == NVME_P2P_SQ_CMB_REQUIRED,
	       "queue %u created, SQ at CMB bus address 0x%llx, CQ in host memory, "
	       "doorbell page at 0x%llx", q.info.qid, (unsigned long long)q.info.sq_addr,
	       (unsigned long long)q.info.db_addr);
	if (ret)
		goto out;

	diag("2. The edu attaches the SQ and the doorbell page (p2p_map through the helper).");
	q.sq_id = edu_attach(edu, q.sq, q.info.sq_bytes, EDU_P2P_ATTACH_WRITE, &q.sq_dma);
	q.db_id = edu_attach(edu, q.db, q.info.db_bytes, EDU_P2P_ATTACH_WRITE, &q.db_dma);
	result(q.sq_id > 0 && q.sq_dma == q.info.sq_addr,
	       "SQ attached: the edu reaches it at 0x%llx, where the controller fetches it",
	       (unsigned long long)q.sq_dma);
	result(q.db_id > 0 && q.db_dma == q.info.db_addr,
	       "doorbell page attached at bus address 0x%llx (SQ tail +0x%x, CQ head +0x%x)",
	       (unsigned long long)q.db_dma, q.info.sq_db_offset, q.info.cq_db_offset);
	if (q.sq_id <= 0 || q.db_id <= 0)
		goto out_queue;

	diag("3. Two 4 KiB CMB data regions with no CPU mapping; the edu attaches both.");
	wfd = data_region(ctrl, &wmap, &wbus);
	rfd = data_region(ctrl, &rmap, &rbus);
	wid = wfd < 0 ? -1 : edu_attach(edu, wmap, XFER, EDU_P2P_ATTACH_WRITE, &wdma);
	rid = rfd < 0 ? -1 : edu_attach(edu, rmap, XFER, 0, &rdma);
	result(wid > 0 && rid > 0 && wdma == wbus && rdma == rbus,
	       "write-data region at 0x%llx, read-data region at 0x%llx",
	       (unsigned long long)wbus, (unsigned long long)rbus);
	if (wid <= 0 || rid <= 0)
		goto out_queue;

	lbas = XFER / lba_bytes;
	diag("4. WRITE: the edu moves a 4 KiB pattern into the write-data region, then submits");
	diag("   WRITE nsid %u LBA %llu+%llu with PRP1 = 0x%llx on queue %u.", nsid,
	    (unsigned long long)(WRITE_LBA_BYTES / lba_bytes), (unsigned long long)lbas,
	    (unsigned long long)wbus, q.info.qid);
	fill(data, XFER, 0x5e);
	result(edu_xfer(edu, EDU_P2P_IOC_WRITE, wid, 0, data, XFER) == 0,
	       "the edu DMAed the pattern into the CMB");
	nvmep2p_prep_write(&sqe, nsid, WRITE_LBA_BYTES / lba_bytes, (uint32_t)lbas, wbus, 0);
	status = peer_submit(edu, &q, &sqe, 1, "WRITE");
	result(status == 0, "the WRITE completed successfully (status %d)", status);
	memset(data, 0, XFER);
	ret = pread(ns, data, XFER, WRITE_LBA_BYTES);
	result(ret == XFER && same(data, XFER, 0x5e),
	       "read back through /dev/%s (O_DIRECT): the SSD holds the pattern", ns_name);

	diag("5. READ: the CPU writes another pattern through the block device; the peer submits");
	diag("   READ LBA %llu+%llu into the read-data region, then the edu moves it out.",
	    (unsigned long long)(READ_LBA_BYTES / lba_bytes), (unsigned long long)lbas);
	fill(data, XFER, 0xa1);
	result(pwrite(ns, data, XFER, READ_LBA_BYTES) == XFER && fdatasync(ns) == 0,
	       "4 KiB written at byte %llu of /dev/%s", READ_LBA_BYTES, ns_name);
	nvmep2p_prep_read(&sqe, nsid, READ_LBA_BYTES / lba_bytes, (uint32_t)lbas, rbus, 0);
	status = peer_submit(edu, &q, &sqe, 2, "READ");
	result(status == 0, "the READ completed successfully (status %d)", status);
	memset(data, 0, XFER);
	result(edu_xfer(edu, EDU_P2P_IOC_READ, rid, 0, data, XFER) == 0 &&
	       same(data, XFER, 0xa1),
	       "the edu DMAed the 4 KiB out of the CMB: they equal what the CPU wrote");

	c1 = edu_counters(edu);
	diag("   edu counters: %llu DMAs, %llu bytes in, %llu bytes out, %llu maps, %llu live "
	    "attachments; the exporter lists %u importer mappings",
	    (unsigned long long)(c1.dmas - c0.dmas), (unsigned long long)(c1.bytes_in - c0.bytes_in),
	    (unsigned long long)(c1.bytes_out - c0.bytes_out),
	    (unsigned long long)(c1.maps - c0.maps), (unsigned long long)c1.live,
	    list_importers(ctrl));
	result(list_importers(ctrl) == 4, "LIST: the exporter holds exactly the edu's 4 mappings");

	diag("6. Reset the controller: every importer mapping is revoked and the queue is stopped");
	diag("   at a new generation; the edu is refused until it maps again, the owner resumes");
	diag("   the queue with empty rings, and the peer starts over from slot 0.");
	gen0 = q.info.generation;
	{
		char path[96];

		snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", ctrl_name);
		result(write_sysfs(path, "1") == 0, "echo 1 > %s", path);
	}
	qi = q.info;
	ret = queue_info(&q);
	result(!ret && q.info.state == NVME_P2P_QUEUE_STOPPED && q.info.generation == gen0 + 1 &&
	       q.info.qid == qi.qid, "queue %u is stopped, generation %u -> %u", q.info.qid,
	       gen0, q.info.generation);
	c1 = edu_counters(edu);
	result(c1.invalidations - c0.invalidations == 4 && list_importers(ctrl) == 0,
	       "4 attachments revoked (revoke callback, then p2p_unmap); the exporter lists none");
	expect_err(edu_xfer(edu, EDU_P2P_IOC_WRITE, q.db_id, q.info.sq_db_offset, &q.tail, 4),
		   ESTALE, "the edu's doorbell write is refused");
	result(edu_id(edu, EDU_P2P_IOC_MAP, q.sq_id) == 0 &&
	       edu_id(edu, EDU_P2P_IOC_MAP, q.db_id) == 0 &&
	       edu_id(edu, EDU_P2P_IOC_MAP, wid) == 0, "the edu maps the SQ, doorbells and "
	       "write-data region again");
	q.tail = q.head = 0;
	q.phase = 1;
	ret = ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME);
	result(!ret && !queue_info(&q) && q.info.state == NVME_P2P_QUEUE_LIVE,
	       "QUEUE_RESUME: queue %u is on the controller again", q.info.qid);
	{
		unsigned int i, posted = 0;

		for (i = 0; i < q.info.depth; i++)
			posted += q.cq[i].status & 1;
		result(!posted, "the re-created CQ is empty (no phase bit set)");
	}
	fill(data, XFER, 0x77);
	result(edu_xfer(edu, EDU_P2P_IOC_WRITE, wid, 0, data, XFER) == 0,
	       "the edu DMAed a new pattern into the write-data region");
	nvmep2p_prep_write(&sqe, nsid, WRITE_LBA_BYTES / lba_bytes, (uint32_t)lbas, wbus, 0);
	status = peer_submit(edu, &q, &sqe, 3, "WRITE");
	memset(data, 0, XFER);
	result(status == 0 && pread(ns, data, XFER, WRITE_LBA_BYTES) == XFER &&
	       same(data, XFER, 0x77), "a WRITE from slot 0 of the resumed queue lands on the SSD");

	diag("7. The edu on the root bus (%s) cannot reach the CMB or the doorbells.", root.bdf);
	expect_err(edu_attach(far, q.sq, q.info.sq_bytes, EDU_P2P_ATTACH_WRITE, NULL), EREMOTEIO,
		   "attaching the SQ");
	expect_err(edu_attach(far, q.db, q.info.db_bytes, EDU_P2P_ATTACH_WRITE, NULL), EREMOTEIO,
		   "attaching the doorbell page");
	result(kernel_log_has(root.bdf, "cannot reach the doorbells peer to peer"),
	       "the kernel log says why %s was refused", root.bdf);

	diag("8. Tear down: the edu detaches, the queue and regions are closed.");
	edu_id(edu, EDU_P2P_IOC_DETACH, wid);
	edu_id(edu, EDU_P2P_IOC_DETACH, rid);
	munmap(wmap, XFER);
	munmap(rmap, XFER);
	close(wfd);
	close(rfd);
out_queue:
	if (q.sq_id > 0)
		edu_id(edu, EDU_P2P_IOC_DETACH, q.sq_id);
	if (q.db_id > 0)
		edu_id(edu, EDU_P2P_IOC_DETACH, q.db_id);
	munmap(q.sq, q.info.sq_bytes);
	munmap((void *)q.cq, q.info.cq_bytes);
	munmap(q.db, q.info.db_bytes);
	close(q.fd);
	c1 = edu_counters(edu);
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	ret = ioctl(ctrl, NVME_P2P_IOCTL_INFO, &info);
	result(!ret && info.queues_used == 0 && (long long)info.cmb_free == free0,
	       "queue deleted and CMB returned (%llu bytes free)",
	       (unsigned long long)info.cmb_free);
	result(c1.live == c0.live && c1.maps - c0.maps == c1.unmaps - c0.unmaps &&
	       c1.unmap_errors == c0.unmap_errors,
	       "edu counters balance: %llu maps, %llu unmaps, %llu invalidations, %llu DMAs",
	       (unsigned long long)(c1.maps - c0.maps), (unsigned long long)(c1.unmaps - c0.unmaps),
	       (unsigned long long)(c1.invalidations - c0.invalidations),
	       (unsigned long long)(c1.dmas - c0.dmas));
	if (ret == 0)
		dmabuf_run(ctrl, ns, edu, far, &root, nsid, lba_bytes, data);
	if (ret == 0)
		ring_run(ctrl, edu, data);
out:
	return done_testing();
}
