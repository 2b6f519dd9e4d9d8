// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-list-a-controller-s-exports */
/*
 * VM test: exported I/O queue pairs of the nvme-p2p exporter, through the
 * raw uapi (no library: this checks the kernel's side of the contract), on
 * the kselftest harness: each test on the controller $SERIAL_CMB names,
 * checked for leaked CMB bytes, regions and queue IDs after its process
 * exits (P2P_CMB_FIXTURE, p2p_harness.h); exported I/O once per SQ
 * placement (FIXTURE_VARIANT). Runs in the testbed guest as root; prints TAP.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>

#include "p2p_harness.h"

P2P_CMB_FIXTURE(cmb)

/* Exported I/O with the SQ in the CMB and in host memory. */
P2P_CMB_FIXTURE(queue_io)

FIXTURE_VARIANT(queue_io) {
	uint8_t sq_placement;
	const char *what;
};

FIXTURE_VARIANT_ADD(queue_io, sq_cmb) {
	.sq_placement = NVME_P2P_SQ_CMB_REQUIRED,
	.what = "SQ in CMB",
};

FIXTURE_VARIANT_ADD(queue_io, sq_host) {
	.sq_placement = NVME_P2P_SQ_HOST,
	.what = "SQ in host memory",
};

#define QDEPTH 64
#define NSID 1
#define LBA_BASE_BYTES (64 * MiB)	/* exported I/O stays above this */
#define FIO_OFFSET "512M"		/* blk-mq I/O alongside stays above this */

struct sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd, mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct cqe {
	uint32_t result, rsvd;
	uint16_t sq_head, sq_id, cid, status;
};

_Static_assert(sizeof(struct sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct cqe) == 16, "CQE is 16 bytes");

/* An exported queue as this test drives it. */
struct xq {
	int fd;
	struct nvme_p2p_queue_info qi;
	void *sq, *cq, *db;
	volatile uint32_t *sq_db, *cq_db;
	unsigned int tail, head, phase;
	uint16_t next_cid;
};

/* A region with its CPU view. */
struct buf {
	int fd;
	struct nvme_p2p_region_create rc;
	unsigned char *p;
};

static unsigned int lba_size = 512;
static char ns_dev[64];

/* The namespace of the controller the fixture opened, and its block size. */
static void ns_init(void)
{
	char path[256];
	FILE *f;

	snprintf(ns_dev, sizeof(ns_dev), "/dev/%sn1", ctrl_name);
	snprintf(path, sizeof(path), "/sys/block/%sn1/queue/logical_block_size", ctrl_name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%u", &lba_size) != 1)
			lba_size = 512;
		fclose(f);
	}
}

static int queue_create(int ctrl, uint32_t depth, uint8_t sqp, uint8_t cqp,
			uint32_t flags, struct nvme_p2p_queue_create *out)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .flags = flags, .depth = depth,
		.sq_placement = sqp, .cq_placement = cqp,
	};
	int fd = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);

	if (out)
		*out = qc;
	return fd;
}

static int queue_info(int fd, struct nvme_p2p_queue_info *qi)
{
	memset(qi, 0, sizeof(*qi));
	qi->argsz = sizeof(*qi);
	return ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, qi);
}

static void *map_part(int fd, uint64_t off, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
}

static void xq_reset_state(struct xq *q)
{
	q->tail = q->head = 0;
	q->phase = 1;
}

static int xq_open(int ctrl, uint8_t sqp, uint32_t flags, struct xq *q)
{
	ns_init();
	memset(q, 0, sizeof(*q));
	q->fd = queue_create(ctrl, QDEPTH, sqp, NVME_P2P_CQ_HOST, flags, NULL);
	if (q->fd < 0 || queue_info(q->fd, &q->qi))
		return -1;
	q->sq = map_part(q->fd, NVME_P2P_QUEUE_OFF_SQ, q->qi.sq_bytes);
	q->cq = map_part(q->fd, NVME_P2P_QUEUE_OFF_CQ, q->qi.cq_bytes);
	q->db = map_part(q->fd, NVME_P2P_QUEUE_OFF_DB, q->qi.db_bytes);
	if (q->sq == MAP_FAILED || q->cq == MAP_FAILED || q->db == MAP_FAILED)
		return -1;
	q->sq_db = (uint32_t *)((char *)q->db + q->qi.sq_db_offset);
	q->cq_db = (uint32_t *)((char *)q->db + q->qi.cq_db_offset);
	xq_reset_state(q);
	return 0;
}

static void xq_close(struct xq *q)
{
	munmap(q->sq, q->qi.sq_bytes);
	munmap(q->cq, q->qi.cq_bytes);
	munmap(q->db, q->qi.db_bytes);
	close(q->fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Submit one command and wait for its completion: the SQE goes out with
 * 8-byte stores (the SQ may be write-combined CMB), a store fence orders
 * them before the doorbell. Returns the status code and type, or -1 on no
 * completion within the timeout.
 */
static int xq_cmd(struct xq *q, struct sqe *cmd, struct cqe *out, double timeout)
{
	volatile uint64_t *slot = (uint64_t *)((char *)q->sq + q->tail * sizeof(*cmd));
	volatile struct cqe *c;
	const uint64_t *src;
	double deadline = now() + timeout;
	unsigned int i;

	cmd->cid = q->next_cid++;
	src = (const uint64_t *)cmd;
	for (i = 0; i < sizeof(*cmd) / 8; i++)
		slot[i] = src[i];
	/* A compiler barrier too: data buffer stores must not sink below. */
	__asm__ __volatile__("sfence" ::: "memory");
	q->tail = (q->tail + 1) % q->qi.depth;
	*q->sq_db = q->tail;

	c = (struct cqe *)((char *)q->cq + q->head * sizeof(*c));
	while ((c->status & 1) != q->phase) {
		if (now() > deadline)
			return -1;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (out)
		*out = *(struct cqe *)c;
	if (++q->head == q->qi.depth) {
		q->head = 0;
		q->phase ^= 1;
	}
	*q->cq_db = q->head;
	return (c->status >> 1) & 0x7ff;	/* SCT and SC */
}

/* READ (0x02) or WRITE (0x01) of len bytes at byte offset pos, one command. */
static int xq_rw(struct xq *q, uint8_t opcode, uint64_t pos, uint64_t addr,
		 size_t len, struct buf *prp, struct cqe *out)
{
	struct sqe cmd = { .opcode = opcode, .nsid = NSID, .prp1 = addr };
	uint64_t *list = (uint64_t *)prp->p;
	size_t i;

	if (len > 2 * 4096) {
		for (i = 1; i * 4096 < len; i++)
			list[i - 1] = addr + i * 4096;
		cmd.prp2 = prp->rc.bus_addr;
	} else if (len > 4096) {
		cmd.prp2 = addr + 4096;
	}
	cmd.cdw10 = (uint32_t)(pos / lba_size);
	cmd.cdw11 = (uint32_t)((pos / lba_size) >> 32);
	cmd.cdw12 = (uint32_t)(len / lba_size - 1);
	return xq_cmd(q, &cmd, out, 10.0);
}

/* Move len bytes at most max_transfer per command. */
static int xq_io(struct xq *q, uint8_t opcode, uint64_t pos, uint64_t addr,
		 size_t len, struct buf *prp)
{
	size_t done, chunk;
	int st;

	for (done = 0; done < len; done += chunk) {
		chunk = len - done < q->qi.max_transfer ? len - done : q->qi.max_transfer;
		st = xq_rw(q, opcode, pos + done, addr + done, chunk, prp, NULL);
		if (st)
			return st;
	}
	return 0;
}

static int buf_open(int ctrl, size_t size, uint32_t flags, struct buf *b)
{
	b->fd = region(ctrl, size, flags, &b->rc);
	b->p = b->fd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE,
					     MAP_SHARED, b->fd, 0);
	return b->p == MAP_FAILED ? -1 : 0;
}

static void buf_close(struct buf *b, size_t size)
{
	munmap(b->p, size);
	close(b->fd);
}

/* The block device's view, read with O_DIRECT. */
static int blockdev_same(uint64_t pos, size_t len, unsigned char seed)
{
	void *mem;
	int fd, ok = 0;

	if (posix_memalign(&mem, 4096, len))
		return 0;
	fd = open(ns_dev, O_RDONLY | O_DIRECT);
	if (fd >= 0 && pread(fd, mem, len, pos) == (ssize_t)len)
		ok = same(mem, len, seed);
	if (fd >= 0)
		close(fd);
	free(mem);
	return ok;
}

/* BAR bar's range from sysfs (CPU addresses; the same as bus ones on x86). */
static int bar_range(int bar, unsigned long long *start, unsigned long long *end)
{
	char path[512], line[256];
	unsigned long long s = 0, e = 0, fl;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%sresource", pci_dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	for (i = 0; i <= bar && fgets(line, sizeof(line), f); i++)
		sscanf(line, "%llx %llx %llx", &s, &e, &fl);
	fclose(f);
	*start = s;
	*end = e;
	return i == bar + 1 ? 0 : -1;
}

/* Identify Controller's OACS field (0 if the command fails). */
static unsigned int ctrl_oacs(int ctrl)
{
	unsigned char id[4096];
	struct nvme_admin_cmd cmd = {
		.opcode = 0x06, .addr = (uintptr_t)id, .data_len = sizeof(id), .cdw10 = 1,
	};

	if (ioctl(ctrl, NVME_IOCTL_ADMIN_CMD, &cmd))
		return 0;
	return id[256] | id[257] << 8;
}

TEST_F(cmb, info)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_info in_, *in = &in_;
	char path[512];
	long long max_kb;

	ns_init();
	CHECK(info(ctrl, in) == 0, "INFO succeeds");
	/* The exported queues below then prove shadow doorbells are handled. */
	CHECK(ctrl_oacs(ctrl) & (1U << 8), "the controller offers shadow doorbells (OACS 0x%x)",
	      ctrl_oacs(ctrl));
	CHECK(in->queues_reserved == 8, "INFO: 8 queue IDs reserved (nvme.p2p_queues=8): %u",
	      in->queues_reserved);
	CHECK(in->first_qid >= 2, "INFO: reserved qids start above blk-mq's (first %u)",
	      in->first_qid);
	CHECK(in->queues_used == 0, "INFO: none in use (%u)", in->queues_used);
	CHECK(in->max_queue_depth == 2048, "INFO: max depth is QEMU's MQES + 1 (%u)",
	      in->max_queue_depth);
	snprintf(path, sizeof(path), "/sys/block/%s/queue/max_hw_sectors_kb", ns_dev + 5);
	max_kb = -1;
	{
		FILE *f = fopen(path, "r");

		if (f) {
			if (fscanf(f, "%lld", &max_kb) != 1)
				max_kb = -1;
			fclose(f);
		}
	}
	CHECK(in->max_transfer && in->max_transfer == max_kb * 1024,
	      "INFO: max_transfer %u equals the block queue's max_hw_sectors_kb %lld",
	      in->max_transfer, max_kb);
	CHECK((long long)in->kernel_cmb_bytes == (long long)in->cmb_size - free0,
	      "INFO: kernel_cmb_bytes %llu is all the CMB in use before any export",
	      (unsigned long long)in->kernel_cmb_bytes);
}

/* The number of blk-mq hardware queues of the fixture's namespace. */
static unsigned int blkmq_queues(void)
{
	char path[256];
	unsigned int n = 0;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/block/%s/mq", ns_dev + 5);
	dir = opendir(path);
	while (dir && (d = readdir(dir)))
		n += d->d_name[0] != '.';
	if (dir)
		closedir(dir);
	return n;
}

/*
 * Doorbell least privilege: the testbed's p2p0 grants 520 I/O queues, so
 * the exported queue IDs start at 512, and an exported queue's doorbell
 * mapping covers no doorbell of nvme-pci's own queues (admin and blk-mq,
 * queue IDs 0 to the number of hardware queues). A controller that grants
 * fewer (data0: QEMU's default 64) says so and keeps the highest IDs.
 */
TEST_F(cmb, doorbells_apart)
{
	int ctrl = self->ctrl, i;
	struct nvme_p2p_info in;
	unsigned long long bar0, bar0_end, kernel_end;
	unsigned int own, bad = 0;
	const char *data = getenv("SERIAL_DATA");
	int fds[8];

	ns_init();
	own = blkmq_queues();
	ASSERT_EQ(0, info(ctrl, &in));
	ASSERT_EQ(0, bar_range(0, &bar0, &bar0_end));
	CHECK(in.flags & NVME_P2P_INFO_DB_ISOLATED, "INFO: doorbells isolated (flags 0x%x)",
	      in.flags);
	CHECK(in.first_qid == 512, "INFO: exported queue IDs start at 512 (first %u)", in.first_qid);
	CHECK(own >= 1 && own < 512, "blk-mq uses %u queues, all below 512", own);
	/* Admin SQ/CQ doorbells, then a pair per blk-mq queue: 8 bytes each. */
	kernel_end = bar0 + 0x1000 + 8ULL * (own + 1);
	for (i = 0; i < 8; i++) {
		struct nvme_p2p_queue_info qi;

		fds[i] = queue_create(ctrl, 16, NVME_P2P_SQ_HOST, 0, 0, NULL);
		if (fds[i] < 0 || queue_info(fds[i], &qi)) {
			bad++;
			continue;
		}
		if (qi.db_addr < kernel_end && qi.db_addr + qi.db_bytes > bar0 + 0x1000) {
			bad++;
			TH_LOG("queue %u: doorbell mapping [0x%llx, +0x%x) covers kernel doorbells [0x%llx, 0x%llx)",
			       qi.qid, (unsigned long long)qi.db_addr, qi.db_bytes, bar0 + 0x1000,
			       kernel_end);
		}
		if (qi.qid < 512 || qi.db_addr < bar0 + 0x2000)
			bad++;
	}
	CHECK(bad == 0, "8 exported queues: IDs from 512, doorbell mappings from BAR0 + 0x2000, "
	      "none covering the %u kernel queues' doorbells", own + 1);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	if (data && *data) {
		int d = open_ctrl(data);

		CHECK(d >= 0 && !info(d, &in) && !(in.flags & NVME_P2P_INFO_DB_ISOLATED) &&
		      in.queues_reserved == 8 && in.first_qid == 64 - 8 + 1,
		      "data0 (64 queues granted): not isolated, says so, IDs 57-64 (first %u, flags 0x%x)",
		      in.first_qid, in.flags);
		close(d);
		close(open_ctrl(self->serial));	/* pci_dir and ctrl_name back */
	}
}

TEST_F(cmb, create_errors)
{
	int ctrl = self->ctrl;
	struct nvme_p2p_info in_, *in = &in_;
	struct nvme_p2p_queue_create qc;

	ASSERT_EQ(0, info(ctrl, in));
	CHECK_ERR(queue_create(ctrl, 0, 0, 0, 0, NULL), EINVAL, "QUEUE depth 0");
	CHECK_ERR(queue_create(ctrl, 1, 0, 0, 0, NULL), EINVAL, "QUEUE depth 1");
	CHECK_ERR(queue_create(ctrl, in->max_queue_depth + 1, 0, 0, 0, NULL), EINVAL,
		  "QUEUE depth above max_queue_depth");
	CHECK_ERR(queue_create(ctrl, 8, 0, 0, 1U << 9, NULL), EINVAL, "QUEUE unknown flag");
	CHECK_ERR(queue_create(ctrl, 8, NVME_P2P_SQ_DMABUF + 1, 0, 0, NULL), EINVAL,
		  "QUEUE unknown SQ placement");
	CHECK_ERR(queue_create(ctrl, 8, 0, NVME_P2P_CQ_DMABUF + 1, 0, NULL), EINVAL,
		  "QUEUE unknown CQ placement");
	CHECK_ERR(queue_create(ctrl, 8, 0, NVME_P2P_CQ_CMB, 0, NULL), EOPNOTSUPP,
		  "QUEUE CQ in the CMB without CMBSZ.CQS");
	memset(&qc, 0, sizeof(qc));
	qc.argsz = sizeof(qc);
	qc.depth = 8;
	qc.reserved[0] = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL, "QUEUE nonzero reserved");
	memset(&qc, 0, sizeof(qc));
	qc.argsz = sizeof(qc);
	qc.depth = 8;
	qc.qid = 5;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL, "QUEUE nonzero qid (an output)");
	memset(&qc, 0, sizeof(qc));
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL, "QUEUE argsz 0");
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, (void *)8), EFAULT, "QUEUE bad pointer");
}

/* More queues than reserved: EBUSY; every qid distinct and in range. */
TEST_F(cmb, exhaust)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_info in0_, *in0 = &in0_;
	int fds[8], i, ok = 1, distinct = 1;
	unsigned int seen = 0;
	struct nvme_p2p_info in;

	ASSERT_EQ(0, info(ctrl, in0));
	for (i = 0; i < 8; i++) {
		struct nvme_p2p_queue_create qc;

		fds[i] = queue_create(ctrl, 16, NVME_P2P_SQ_CMB_REQUIRED, 0, 0, &qc);
		if (fds[i] < 0 || qc.qid < in0->first_qid || qc.qid >= in0->first_qid + 8)
			ok = 0;
		else if (seen & (1U << (qc.qid - in0->first_qid)))
			distinct = 0;
		else
			seen |= 1U << (qc.qid - in0->first_qid);
	}
	CHECK(ok && distinct, "8 queues created, qids distinct within [%u, %u)",
	      in0->first_qid, in0->first_qid + 8);
	info(ctrl, &in);
	CHECK(in.queues_used == 8, "INFO queues_used 8 (%u)", in.queues_used);
	CHECK_ERR(queue_create(ctrl, 16, 0, 0, 0, NULL), EBUSY, "a 9th queue");
	for (i = 0; i < 8; i++)
		close(fds[i]);
	info(ctrl, &in);
	CHECK(in.queues_used == 0 && (long long)in.cmb_free == free0,
	      "closing them frees qids and CMB (used %u)", in.queues_used);
}

static void unprivileged(void *arg)
{
	int ctrl = *(int *)arg, fd;

	if (setresuid(65534, 65534, 65534))
		_exit(3);
	fd = queue_create(ctrl, 16, 0, 0, 0, NULL);
	if (fd >= 0 || errno != EPERM)
		_exit(4);
	fd = region(ctrl, 4096, 0, NULL);
	_exit(fd >= 0 ? 0 : 5);
}

/* Run fn in a child: its exit code, or 128 + the signal that killed it. */
static int child_exit(void (*fn)(void *), void *arg)
{
	int status = child_status(fn, arg);

	if (status < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(cmb, mmap_errors)
{
	int ctrl = self->ctrl;
	struct nvme_p2p_queue_info qi;
	struct buf b;
	int fd = queue_create(ctrl, QDEPTH, NVME_P2P_SQ_CMB_REQUIRED, 0, 0, NULL);

	if (fd < 0 || queue_info(fd, &qi)) {
		CHECK(0, "queue for the mmap tests");
		return;
	}
	CHECK_ERR(mmap(NULL, qi.sq_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
		  EINVAL, "mmap SQ MAP_PRIVATE");
	CHECK_ERR(map_part(fd, NVME_P2P_QUEUE_OFF_SQ, qi.sq_bytes + 4096), EINVAL,
		  "mmap SQ longer than the ring");
	CHECK_ERR(map_part(fd, NVME_P2P_QUEUE_OFF_CQ + 4096, 4096), EINVAL,
		  "mmap inside the CQ, not at its offset");
	CHECK_ERR(map_part(fd, NVME_P2P_QUEUE_OFF_DB + 0x10000000ULL, qi.db_bytes), EINVAL,
		  "mmap at an unknown offset");
	CHECK_ERR(map_part(fd, NVME_P2P_QUEUE_OFF_DB, qi.db_bytes * 2), EINVAL,
		  "mmap of more than the doorbell page");
	CHECK_ERR(mmap(NULL, qi.sq_bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0), EPERM,
		  "mmap SQ with PROT_EXEC");
	{
		void *p = map_part(fd, NVME_P2P_QUEUE_OFF_CQ, qi.cq_bytes);

		CHECK_ERR(mprotect(p, qi.cq_bytes, PROT_READ | PROT_EXEC), EACCES,
			  "mprotect of the CQ to PROT_EXEC");
		munmap(p, qi.cq_bytes);
	}
	qi.reserved[0] = 1;
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, &qi), EINVAL, "QUEUE_INFO nonzero reserved");
	memset(&qi, 0, sizeof(qi));
	qi.argsz = sizeof(qi);
	qi.reserved0[1] = 1;
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, &qi), EINVAL, "QUEUE_INFO nonzero reserved0");
	memset(&qi, 0, sizeof(qi));
	qi.argsz = sizeof(qi);
	qi.generation = 1;
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, &qi), EINVAL,
		  "QUEUE_INFO nonzero output field (generation) on input");
	memset(&qi, 0, sizeof(qi));
	qi.argsz = sizeof(qi) - 8;
	CHECK_ERR(ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, &qi), EINVAL,
		  "QUEUE_INFO argsz below the first version");
	queue_info(fd, &qi);
	CHECK_ERR(queue_info(ctrl, &qi), ENOTTY, "QUEUE_INFO on the controller");
	if (!buf_open(ctrl, 4096, 0, &b)) {
		CHECK_ERR(queue_info(b.fd, &qi), ENOTTY, "QUEUE_INFO on a region");
		buf_close(&b, 4096);
	}
	CHECK(child_exit(unprivileged, &ctrl) == 0,
	      "unprivileged: QUEUE_CREATE gives EPERM, REGION_CREATE still works");
	close(fd);
	CHECK_ERR(queue_info(fd, &qi), EBADF, "QUEUE_INFO after close");
	CHECK_ERR(close(fd), EBADF, "double close");
	CHECK_ERR(region(ctrl, NVME_P2P_HOST_REGION_MAX + 4096, NVME_P2P_REGION_HOST, NULL),
		  E2BIG, "host region above NVME_P2P_HOST_REGION_MAX");
}

/* Write a pattern through the queue, read it back three ways. */
TEST_F(queue_io, io)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	uint8_t sqp = variant->sq_placement;
	const char *what = variant->what;
	static const size_t sizes[] = { 4096, 8192, 65536, 512 * 1024, 1024 * 1024 };
	struct buf src, dst, host, prp;
	unsigned long long b2s, b2e, b0s, b0e;
	struct cqe cqe;
	struct xq q;
	size_t i;
	int st;

	if (xq_open(ctrl, sqp, 0, &q) || buf_open(ctrl, MiB, 0, &src) ||
	    buf_open(ctrl, MiB, 0, &dst) || buf_open(ctrl, MiB, NVME_P2P_REGION_HOST, &host) ||
	    buf_open(ctrl, 4096, NVME_P2P_REGION_HOST, &prp)) {
		CHECK(0, "%s: queue and regions set up: %s", what, strerror(errno));
		return;
	}
	CHECK(q.qi.state == NVME_P2P_QUEUE_LIVE && q.qi.depth == QDEPTH &&
	      q.qi.sq_placement == sqp, "%s: qid %u live, depth %u", what, q.qi.qid,
	      q.qi.depth);
	bar_range(2, &b2s, &b2e);
	if (sqp == NVME_P2P_SQ_CMB_REQUIRED)
		CHECK(q.qi.sq_addr >= b2s && q.qi.sq_addr + q.qi.sq_bytes - 1 <= b2e,
		      "%s: SQ at 0x%llx lies in BAR2 [0x%llx, 0x%llx]", what,
		      (unsigned long long)q.qi.sq_addr, b2s, b2e);
	else
		CHECK(q.qi.sq_addr < b2s || q.qi.sq_addr > b2e,
		      "%s: SQ at 0x%llx is outside the CMB", what,
		      (unsigned long long)q.qi.sq_addr);
	bar_range(0, &b0s, &b0e);
	CHECK(q.qi.db_addr + q.qi.sq_db_offset == b0s + 0x1000 + 8ULL * q.qi.qid &&
	      q.qi.sq_db_offset + 4 == q.qi.cq_db_offset,
	      "%s: SQ/CQ doorbells at BAR0 + 0x1000 + 8 * qid (+4)", what);

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		uint64_t pos = LBA_BASE_BYTES + i * 2 * MiB + (sqp == NVME_P2P_SQ_HOST) * 16 * MiB;
		unsigned char seed = (unsigned char)(i * 7 + sqp);

		fill(src.p, len, seed);
		memset(dst.p, 0, len);
		memset(host.p, 0, len);
		st = xq_io(&q, 0x01, pos, src.rc.bus_addr, len, &prp);
		CHECK(st == 0, "%s: WRITE %zu KiB from a CMB region: status 0x%x", what,
		      len / 1024, st);
		st = xq_io(&q, 0x02, pos, dst.rc.bus_addr, len, &prp);
		CHECK(st == 0 && same(dst.p, len, seed),
		      "%s: READ %zu KiB into another CMB region matches", what, len / 1024);
		st = xq_io(&q, 0x02, pos, host.rc.bus_addr, len, &prp);
		CHECK(st == 0 && same(host.p, len, seed),
		      "%s: READ %zu KiB into a host region matches", what, len / 1024);
		CHECK(blockdev_same(pos, len, seed),
		      "%s: the block device reads the same %zu KiB", what, len / 1024);
	}
	fill(host.p, 65536, 99);
	CHECK(xq_io(&q, 0x01, LBA_BASE_BYTES + 40 * MiB, host.rc.bus_addr, 65536, &prp) == 0 &&
	      blockdev_same(LBA_BASE_BYTES + 40 * MiB, 65536, 99),
	      "%s: WRITE from a host region lands on the disk", what);
	st = xq_rw(&q, 0x02, 4ULL << 30, dst.rc.bus_addr, 4096, &prp, &cqe);
	CHECK(st == 0x80, "%s: READ beyond the namespace: LBA Out of Range (0x%x)", what, st);
	CHECK(cqe.sq_id == q.qi.qid, "%s: the CQE names the exported SQ (%u)", what, cqe.sq_id);
	xq_close(&q);
	buf_close(&src, MiB);
	buf_close(&dst, MiB);
	buf_close(&host, MiB);
	buf_close(&prp, 4096);
	CHECK(cmb_free(ctrl) == free0, "%s: CMB free bytes back after close", what);
}

/* A controller without CMB: CMB required fails, CMB preferred falls back. */
TEST_F(cmb, no_cmb)
{
	const char *serial = getenv("SERIAL_DATA");
	char save_dir[256], save_name[32];
	struct nvme_p2p_queue_info qi;
	int ctrl, fd;

	memcpy(save_dir, pci_dir, sizeof(save_dir));
	memcpy(save_name, ctrl_name, sizeof(save_name));
	if (!serial || !*serial)
		SKIP(return, "SERIAL_DATA is not set (tests/vm/run sets it)");
	ctrl = open_ctrl(serial);
	if (ctrl < 0) {
		CHECK(0, "open the controller without CMB (serial %s)", serial);
		return;
	}
	CHECK_ERR(queue_create(ctrl, 16, NVME_P2P_SQ_CMB_REQUIRED, 0, 0, NULL), ENOSPC,
		  "no CMB: SQ in the CMB required");
	fd = queue_create(ctrl, 16, NVME_P2P_SQ_CMB_PREFERRED, 0, 0, NULL);
	CHECK(fd >= 0 && !queue_info(fd, &qi) && qi.sq_placement == NVME_P2P_SQ_HOST,
	      "no CMB: CMB preferred falls back to host memory");
	close(fd);
	close(ctrl);
	memcpy(pci_dir, save_dir, sizeof(save_dir));
	memcpy(ctrl_name, save_name, sizeof(save_name));
}

TEST_F(cmb, no_cpu_map)
{
	int ctrl = self->ctrl;
	struct xq q;

	if (xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED,
		    NVME_P2P_QUEUE_SQ_NO_CPU_MAP | NVME_P2P_QUEUE_DB_NO_CPU_MAP, &q)) {
		CHECK(0, "NO_CPU_MAP queue mapped: %s", strerror(errno));
		return;
	}
	CHECK(sigbus_on_touch(q.sq), "SQ_NO_CPU_MAP: a CPU store to the SQ raises SIGBUS");
	CHECK(sigbus_on_touch((void *)q.sq_db), "DB_NO_CPU_MAP: a CPU store to the doorbell raises SIGBUS");
	CHECK(((volatile struct cqe *)q.cq)->status == 0, "the CQ is still CPU-readable");
	xq_close(&q);
}

TEST_F(cmb, p2p_map)
{
	int ctrl = self->ctrl;
	const char *edu = getenv("EDU_SWITCH"), *far = getenv("EDU_ROOT_BUS");
	unsigned long long first = 0, last = 0;
	struct xq q;
	long ret;

	if (access(P2P_MAP_TEST, W_OK) || !edu || !far)
		SKIP(return, "p2p_map_test module or edu peers missing (EDU_SWITCH, EDU_ROOT_BUS)");
	if (xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q)) {
		CHECK(0, "queue for p2p_map");
		return;
	}
	ret = p2p_map_as(edu, q.sq, q.qi.sq_bytes, 1, &first, &last);
	CHECK(ret == 0 && first == q.qi.sq_addr,
	      "p2p_map of the SQ for the edu behind the switch: its bus address 0x%llx", first);
	ret = p2p_map_as(edu, q.db, q.qi.db_bytes, 1, &first, &last);
	CHECK(ret == 0 && first == q.qi.db_addr,
	      "p2p_map of the doorbell page for it: BAR0 bus address 0x%llx (%ld)", first, ret);
	ret = p2p_map_as(edu, q.cq, q.qi.cq_bytes, 0, &first, &last);
	CHECK(ret == 0 && first, "p2p_map of the host-memory CQ for it: 0x%llx", first);
	ret = p2p_map_as(far, q.db, q.qi.db_bytes, 1, &first, &last);
	CHECK(ret == -EREMOTEIO, "p2p_map of the doorbells for the root-bus edu: EREMOTEIO (%ld)", ret);
	CHECK(kernel_log_has(far, "cannot reach the doorbells"),
	      "the kernel log says the root-bus edu cannot reach the doorbells");
	xq_close(&q);
}

/* NVME_P2P_IOCTL_PEER for the PCI device named dddd:bb:dd.f. */
static int peer_query(int ctrl, const char *bdf, struct nvme_p2p_peer *pr)
{
	unsigned int dom, bus, dev, fn;

	memset(pr, 0, sizeof(*pr));
	pr->argsz = sizeof(*pr);
	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -1;
	pr->domain = dom;
	pr->bus = bus;
	pr->devfn = dev << 3 | fn;
	return ioctl(ctrl, NVME_P2P_IOCTL_PEER, pr);
}

TEST_F(cmb, peer_and_list)
{
	int ctrl = self->ctrl;
	const char *edu = getenv("EDU_SWITCH"), *far = getenv("EDU_ROOT_BUS");
	struct nvme_p2p_list_entry ents[4];
	struct nvme_p2p_list l = { .argsz = sizeof(l), .entry_size = sizeof(ents[0]) };
	struct nvme_p2p_peer pr;
	unsigned int i, qseen = 0, rseen = 0;
	int ret;
	struct buf b;
	struct xq q;

	if (edu) {
		ret = peer_query(ctrl, edu, &pr);
		CHECK(!ret && pr.reach == NVME_P2P_PEER_VIA_SWITCH && pr.distance > 0,
		      "PEER: the edu behind the switch reaches it via the switch (distance %d)",
		      pr.distance);
	}
	if (far) {
		ret = peer_query(ctrl, far, &pr);
		CHECK(!ret && pr.reach == NVME_P2P_PEER_UNREACHABLE && pr.distance == -1,
		      "PEER: the root-bus edu cannot reach it (distance %d)", pr.distance);
	}
	memset(&pr, 0, sizeof(pr));
	pr.argsz = sizeof(pr);
	pr.bus = 0xfe;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_PEER, &pr), ENODEV, "PEER of a device that does not exist");
	pr.flags = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_PEER, &pr), EINVAL, "PEER nonzero flags");

	if (xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q) || buf_open(ctrl, 8192, 0, &b)) {
		CHECK(0, "queue and region for LIST");
		return;
	}
	for (i = 0; i < 3; i++)
		xq_rw(&q, 0x02, LBA_BASE_BYTES, b.rc.bus_addr, 4096, &b, NULL);
	l.nr_entries = 4;
	l.entries = (uintptr_t)ents;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l);
	CHECK(!ret && l.nr_entries == 2, "LIST: one queue and one region (%u entries)",
	      l.nr_entries);
	for (i = 0; i < 2 && i < l.nr_entries; i++) {
		struct nvme_p2p_list_entry *e = &ents[i];

		if (e->type == NVME_P2P_ENTRY_QUEUE && e->qid == q.qi.qid && e->pid == getpid() &&
		    e->depth == QDEPTH && e->state == NVME_P2P_QUEUE_LIVE &&
		    e->addr == q.qi.sq_addr && e->cq_tail == 3 && e->sq_head == 3)
			qseen = 1;
		if (e->type == NVME_P2P_ENTRY_REGION && e->pid == getpid() &&
		    e->size == 8192 && e->addr == b.rc.bus_addr)
			rseen = 1;
	}
	CHECK(qseen, "LIST: the queue with its qid, pid, state, SQ address, sq_head 3, cq_tail 3");
	CHECK(rseen, "LIST: the region with its pid, size and bus address");
	l.nr_entries = 1;
	CHECK(!ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l) && l.nr_entries == 2,
	      "LIST with room for one still counts both");
	l.entry_size = 8;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l), EINVAL, "LIST entry_size too small");
	xq_close(&q);
	buf_close(&b, 8192);
	l.entry_size = sizeof(ents[0]);
	l.nr_entries = 4;
	CHECK(!ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l) && l.nr_entries == 0,
	      "LIST: empty after close");
}

/* A reset while exported I/O and blk-mq fio verify both run. */
TEST_F(cmb, reset)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct pollfd pfd;
	struct buf src, dst, prp;
	struct xq q;
	pid_t fio, resetter;
	int status, i, st, gen_seen = 0, lost = 0;
	double deadline;

	if (xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q) || buf_open(ctrl, 65536, 0, &src) ||
	    buf_open(ctrl, 65536, 0, &dst) || buf_open(ctrl, 4096, NVME_P2P_REGION_HOST, &prp)) {
		CHECK(0, "reset test set-up");
		return;
	}
	fio = fio_verify_start(ns_dev, FIO_OFFSET, "--loops=4");
	resetter = fork();
	if (resetter == 0) {
		usleep(300 * 1000);
		_exit(ioctl(ctrl, NVME_IOCTL_RESET) ? 1 : 0);
	}
	fill(src.p, 65536, 42);
	pfd.fd = q.fd;
	pfd.events = POLLPRI;
	deadline = now() + 60;
	/* Exported I/O until the reset's new generation shows. */
	for (i = 0; !gen_seen && now() < deadline; i++) {
		st = xq_rw(&q, i & 1 ? 0x02 : 0x01, LBA_BASE_BYTES + 48 * MiB,
			   i & 1 ? dst.rc.bus_addr : src.rc.bus_addr, 16384, &prp, NULL);
		if (st)
			lost++;
		if (poll(&pfd, 1, st ? 1000 : 0) == 1 && (pfd.revents & POLLPRI))
			gen_seen = 1;
	}
	waitpid(resetter, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "controller reset during exported I/O");
	CHECK(gen_seen, "poll() on the queue reports POLLPRI after the reset (%d commands, %d lost)",
	      i, lost);
	queue_info(q.fd, &q.qi);
	CHECK(q.qi.state == NVME_P2P_QUEUE_STOPPED && q.qi.generation == 1,
	      "the queue is stopped at generation %u, same qid %u (state %u)",
	      q.qi.generation, q.qi.qid, q.qi.state);
	CHECK(poll(&pfd, 1, 0) == 0, "QUEUE_INFO acknowledged the generation: no POLLPRI");
	CHECK(xq_rw(&q, 0x01, LBA_BASE_BYTES + 52 * MiB, src.rc.bus_addr, 4096, &prp, NULL) == -1,
	      "a doorbell rung on the stopped queue runs nothing");
	CHECK(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME) == 0 && !queue_info(q.fd, &q.qi) &&
	      q.qi.state == NVME_P2P_QUEUE_LIVE, "QUEUE_RESUME: live again");
	CHECK(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME) == 0, "QUEUE_RESUME of a live queue: 0");
	xq_reset_state(&q);
	fill(src.p, 65536, 43);
	memset(dst.p, 0, 65536);
	st = xq_io(&q, 0x01, LBA_BASE_BYTES + 50 * MiB, src.rc.bus_addr, 65536, &prp);
	st |= xq_io(&q, 0x02, LBA_BASE_BYTES + 50 * MiB, dst.rc.bus_addr, 65536, &prp);
	CHECK(st == 0 && same(dst.p, 65536, 43) &&
	      blockdev_same(LBA_BASE_BYTES + 50 * MiB, 65536, 43),
	      "exported I/O works after the reset (write, read back, block device)");
	waitpid(fio, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "blk-mq fio randwrite verify across the reset: exit %d",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	xq_close(&q);
	buf_close(&src, 65536);
	buf_close(&dst, 65536);
	buf_close(&prp, 4096);
	CHECK(cmb_free(ctrl) == free0, "CMB free bytes back after the reset test");
}

#define RACE_RESETS 100
#define RACE_SLOTS 2048		/* 8 MiB of 4 KiB writes */
#define RACE_POS(slot) (LBA_BASE_BYTES + 80 * MiB + (uint64_t)(slot) * 4096)


/* Resets back to back, a random 0-20 ms apart; exits 1 if one failed. */
static void reset_storm(void *arg)
{
	int ctrl = *(int *)arg, i;

	srandom(getpid());
	for (i = 0; i < RACE_RESETS; i++) {
		usleep(random() % 20000);
		if (ioctl(ctrl, NVME_IOCTL_RESET))
			_exit(1);
	}
	_exit(0);
}

/*
 * The edu peer during the storm (tests/kmod/edu_p2p, the edu behind the
 * switch): round trips by DMA through a CMB region it attached, each one
 * a pattern of its own written by DMA and read back by DMA. A reset
 * revokes the mapping (ESTALE); the peer maps again and redoes the trip,
 * backing off 1-20 ms, as a real importer would. What it saw goes back
 * to the test through a pipe.
 */
struct peer_tally {
	unsigned int trips;		/* round trips verified */
	unsigned int stale;		/* transfers refused (ESTALE), redone */
	unsigned int bad;		/* round trips that failed or differed */
	int set_up;			/* 0, or the errno of the set-up */
	struct edu_p2p_counters c0, c1;	/* the edu's counters before, after */
};

static void edu_peer(int ctrl, const char *dev, int stopfd, int out)
{
	struct peer_tally t = { 0 };
	struct edu_p2p_attach a = { .len = 65536, .flags = EDU_P2P_ATTACH_WRITE };
	struct nvme_p2p_region_create rc;
	int edu = open(dev, O_RDWR), fd = region(ctrl, 65536, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	void *p = fd < 0 ? MAP_FAILED : mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char c;

	if (edu >= 0)
		t.c0 = edu_counters(edu);
	if (edu < 0 || p == MAP_FAILED || t.c0.attaches == ~0ULL) {
		t.set_up = errno ? errno : EINVAL;
		goto out;
	}
	a.addr = (uintptr_t)p;
	if (ioctl(edu, EDU_P2P_IOC_ATTACH, &a)) {
		t.set_up = errno;
		goto out;
	}
	if (write(out, "r", 1) != 1)	/* ready: the storm may start */
		_exit(1);
	fcntl(stopfd, F_SETFL, O_NONBLOCK);
	while (read(stopfd, &c, 1) < 0 && errno == EAGAIN) {
		unsigned char buf[512];
		unsigned int n = t.trips + t.bad;
		int e = edu_round_trip(edu, a.id, (n % 128) * sizeof(buf), buf, sizeof(buf),
				       (unsigned char)n, &t.stale, NULL);

		if (e) {
			if (!t.bad)
				ksft_print_msg("edu round trip %u: %s\n", n,
					       e == EILSEQ ? "bytes read back differ" : strerrorname_np(e));
			t.bad++;
		} else {
			t.trips++;
		}
		usleep(2000);
	}
	ioctl(edu, EDU_P2P_IOC_DETACH, &a.id);
	t.c1 = edu_counters(edu);
out:
	if (p != MAP_FAILED)
		munmap(p, 65536);
	if (fd >= 0)
		close(fd);
	fflush(stdout);	/* _exit() below: what it printed must not be lost */
	if (t.set_up && write(out, "f", 1) != 1)	/* not ready: the tally follows */
		_exit(1);
	if (write(out, &t, sizeof(t)) != sizeof(t))
		_exit(1);
	_exit(0);
}

/*
 * QUEUE_RESUME raced against 100 controller resets, with the edu peer
 * moving data by DMA through the CMB and blk-mq fio verify running: every
 * call returns 0 or EAGAIN; a 0 leaves the queue live (and a command on it completes) or
 * stopped again by a later reset (a new generation), never live at a
 * generation the controller has lost nor stopped at the one it resumed;
 * the export never sends an admin command into a reset's bring-up, so the
 * controller keeps its I/O queues and namespace.
 */
TEST_F(cmb, resume_races_reset)
{
	int ctrl = self->ctrl;
	unsigned int resumed = 0, again = 0, other = 0, io_ok = 0, io_lost = 0;
	unsigned int dead = 0, false_stop = 0, in_reset = 0, gen0;
	struct buf data, prp;
	struct stat st;
	struct xq q;
	pid_t storm, fio;
	int status, r, e, was_live;
	/* Acknowledged writes: slot -> pattern seed + 1 (0: never written). */
	static unsigned short acked[RACE_SLOTS];
	unsigned int n, bad_reads = 0, slots = 0;
	struct peer_tally pt = { 0 };
	int peer_stop[2] = { -1, -1 }, peer_out[2] = { -1, -1 };
	pid_t peer = -1;
	struct edu sw, root;
	char c;

	if (xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q) ||
	    buf_open(ctrl, 4096, 0, &data) || buf_open(ctrl, 4096, NVME_P2P_REGION_HOST, &prp)) {
		CHECK(0, "resume race set-up");
		return;
	}
	gen0 = q.qi.generation;
	memset(acked, 0, sizeof(acked));
	find_edus(&sw, &root);
	CHECK(sw.dev[0] && !pipe(peer_stop) && !pipe(peer_out),
	      "the edu behind the switch (%s) joins the storm as a DMA peer",
	      sw.dev[0] ? sw.bdf : "none");
	if (sw.dev[0] && peer_out[1] >= 0) {
		peer = fork();
		if (peer == 0) {
			close(peer_stop[1]);
			close(peer_out[0]);
			edu_peer(ctrl, sw.dev, peer_stop[0], peer_out[1]);
		}
		close(peer_stop[0]);
		close(peer_out[1]);
		if (read(peer_out[0], &c, 1) != 1)
			c = 'f';
		CHECK(c == 'r', "the edu peer attached a CMB region before the storm");
	}
	fio = fio_verify_start(ns_dev, FIO_OFFSET, "--loops=2");
	storm = fork();
	if (storm == 0)
		reset_storm(&ctrl);
	srandom(getpid());
	while (waitpid(storm, &status, WNOHANG) == 0) {
		struct nvme_p2p_queue_info before, after;

		/* Resumes spread over the resets' cycle, not only after them. */
		usleep(random() % 10000);
		queue_info(q.fd, &before);
		if (ctrl_state_is(ctrl_name, "resetting"))
			in_reset++;
		r = ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME);
		e = errno;
		if (r && e == EAGAIN) {
			again++;
			continue;
		}
		if (r) {
			other++;
			TH_LOG("QUEUE_RESUME: %s", strerrorname_np(e));
			continue;
		}
		resumed++;
		queue_info(q.fd, &after);
		if (after.state == NVME_P2P_QUEUE_STOPPED && after.generation == before.generation) {
			false_stop++;
			continue;
		}
		if (after.state != NVME_P2P_QUEUE_LIVE)
			continue;	/* a later reset took it: fine */
		if (before.state != NVME_P2P_QUEUE_LIVE)
			xq_reset_state(&q);
		/* Each write its own pattern, at a slot of its own (mod RACE_SLOTS). */
		n = io_ok + io_lost + dead;
		fill(data.p, 4096, (unsigned char)n);
		if (xq_rw(&q, 0x01, RACE_POS(n % RACE_SLOTS), data.rc.bus_addr, 4096, &prp,
			  NULL) == 0) {
			acked[n % RACE_SLOTS] = (unsigned char)n + 1;
			io_ok++;
			continue;
		}
		queue_info(q.fd, &after);
		if (after.state == NVME_P2P_QUEUE_LIVE && after.generation == before.generation) {
			dead++;	/* live, no reset since, and the command never completed */
			TH_LOG("queue %u live at generation %u runs nothing", after.qid,
			       after.generation);
		} else {
			io_lost++;	/* a reset took the command */
		}
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%d controller resets", RACE_RESETS);
	if (peer > 0) {
		close(peer_stop[1]);
		if (read(peer_out[0], &pt, sizeof(pt)) != sizeof(pt))
			pt.set_up = EPIPE;
		close(peer_out[0]);
		waitpid(peer, &status, 0);
	}
	TH_LOG("edu peer: %u round trips verified, %u failed, %u transfers refused by a reset (ESTALE) and redone; %llu maps, %llu unmaps, %llu invalidations",
	       pt.trips, pt.bad, pt.stale, (unsigned long long)(pt.c1.maps - pt.c0.maps),
	       (unsigned long long)(pt.c1.unmaps - pt.c0.unmaps),
	       (unsigned long long)(pt.c1.invalidations - pt.c0.invalidations));
	CHECK(peer > 0 && pt.set_up == 0 && pt.trips > 0 && pt.bad == 0,
	      "edu peer: %u DMA round trips through the CMB during the resets verified, %u failed (set-up: %s)",
	      pt.trips, pt.bad, pt.set_up ? strerrorname_np(pt.set_up) : "ok");
	CHECK(pt.stale > 0 && pt.c1.invalidations - pt.c0.invalidations > 0,
	      "the resets revoked the peer's mapping (%u ESTALE, %llu invalidations)", pt.stale,
	      (unsigned long long)(pt.c1.invalidations - pt.c0.invalidations));
	CHECK(pt.c1.maps - pt.c0.maps == pt.c1.unmaps - pt.c0.unmaps &&
	      pt.c1.unmap_errors == pt.c0.unmap_errors && pt.c1.live == pt.c0.live &&
	      pt.c1.attaches - pt.c0.attaches == 1 && pt.c1.detaches - pt.c0.detaches == 1,
	      "edu counters balance: %llu maps = %llu unmaps, 0 unmap errors, 1 attach, 1 detach, none left live",
	      (unsigned long long)(pt.c1.maps - pt.c0.maps),
	      (unsigned long long)(pt.c1.unmaps - pt.c0.unmaps));
	TH_LOG("RESUME: %u returned 0, %u EAGAIN, %u other, %u called while the controller read 'resetting'; I/O after resume: %u done, %u lost to a reset",
	       resumed, again, other, in_reset, io_ok, io_lost);
	CHECK(other == 0, "RESUME during resets returns 0 or EAGAIN only (%u other)", other);
	CHECK(dead == 0, "no queue reads live at a generation the controller lost (%u)", dead);
	CHECK(false_stop == 0, "no queue stays stopped at its generation after RESUME returned 0 (%u)",
	      false_stop);
	CHECK(resumed > 0 && again > 0 && in_reset > 0,
	      "the race was run: %u resumes, %u EAGAIN, %u while resetting", resumed, again, in_reset);
	/* Every write the controller acknowledged is on the disk. */
	for (n = 0; n < RACE_SLOTS; n++) {
		if (!acked[n])
			continue;
		slots++;
		if (!blockdev_same(RACE_POS(n), 4096, (unsigned char)(acked[n] - 1))) {
			if (!bad_reads++)
				TH_LOG("slot %u: the acknowledged write of pattern %u is not what the block device reads",
				       n, acked[n] - 1);
		}
	}
	CHECK(bad_reads == 0, "%u acknowledged exported writes (%u slots) read back through the block device: %u lost",
	      io_ok, slots, bad_reads);
	waitpid(fio, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "blk-mq fio randwrite verify during the resets: exit %d",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);

	/* After the storm: the queue comes back, and everything works. */
	queue_info(q.fd, &q.qi);
	was_live = q.qi.state == NVME_P2P_QUEUE_LIVE;	/* the loop's last resume */
	CHECK(q.qi.generation >= gen0 + RACE_RESETS,
	      "every reset bumped the generation: %u after %d resets", q.qi.generation - gen0,
	      RACE_RESETS);
	CHECK(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME) == 0 && !queue_info(q.fd, &q.qi) &&
	      q.qi.state == NVME_P2P_QUEUE_LIVE, "QUEUE_RESUME after the storm: live");
	if (!was_live)
		xq_reset_state(&q);	/* re-created: empty rings */
	fill(data.p, 4096, 9);
	r = xq_rw(&q, 0x01, RACE_POS(0), data.rc.bus_addr, 4096, &prp, NULL);
	CHECK(r == 0 && blockdev_same(RACE_POS(0), 4096, 9),
	      "exported write after the storm reads back through the block device (status %d)", r);
	CHECK(stat(ns_dev, &st) == 0, "namespace %s still there", ns_dev);
	CHECK(!kernel_log_has("Could not set queue count", "") &&
	      !kernel_log_has("IO queues lost", "") && !kernel_log_has("lost its queue ID", ""),
	      "the controller kept its I/O queues: no 'Could not set queue count', 'IO queues lost' or lost queue ID in the log");
	xq_close(&q);
	buf_close(&data, 4096);
	buf_close(&prp, 4096);
}

/* A CPU store to an SQ exported without CPU mapping kills with SIGBUS. */
TEST_F_SIGNAL(cmb, sq_no_cpu_map_store, SIGBUS)
{
	struct xq q;

	ASSERT_EQ(0, xq_open(self->ctrl, NVME_P2P_SQ_CMB_REQUIRED, NVME_P2P_QUEUE_SQ_NO_CPU_MAP, &q));
	touch(q.sq);
	TH_LOG("the store to an SQ without CPU mapping did not fault");
}

static void exit_with_live_queue(void *arg)
{
	struct xq q;

	if (xq_open(*(int *)arg, NVME_P2P_SQ_CMB_REQUIRED, 0, &q))
		_exit(2);
	_exit(0);	/* no munmap, no close */
}

static void touch_inherited(void *arg)
{
	touch(arg);
}

TEST_F(cmb, lifetime)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_info in;
	struct xq q;
	int i, bad = 0;

	if (!xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q)) {
		CHECK(child_signal(touch_inherited, q.sq) == SIGSEGV,
		      "a forked child does not inherit the SQ mapping (SIGSEGV)");
		xq_close(&q);
	}
	CHECK(child_exit(exit_with_live_queue, &ctrl) == 0, "a child exits with a queue mapped");
	info(ctrl, &in);
	CHECK(in.queues_used == 0 && (long long)in.cmb_free == free0,
	      "its queue is deleted and its CMB freed (used %u)", in.queues_used);
	for (i = 0; i < 1000; i++) {
		int fd = queue_create(ctrl, 32, i & 1 ? NVME_P2P_SQ_HOST : NVME_P2P_SQ_CMB_REQUIRED,
				      0, 0, NULL);

		if (fd < 0)
			bad++;
		close(fd);
	}
	info(ctrl, &in);
	CHECK(!bad && in.queues_used == 0 && (long long)in.cmb_free == free0,
	      "1000 create/close cycles: %d failures, used %u, CMB free unchanged",
	      bad, in.queues_used);
}

TEST_F(cmb, unbind)
{
	int ctrl = self->ctrl;
	char bdf[64] = "";
	unsigned long long first, last;
	struct pollfd pfd;
	struct xq q;
	int i, again = -1;

	ctrl_bdf(bdf, sizeof(bdf));
	if (!bdf[0] || xq_open(ctrl, NVME_P2P_SQ_CMB_REQUIRED, 0, &q)) {
		CHECK(0, "queue mapped before unbinding");
		return;
	}
	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/unbind", bdf) == 0,
	      "unbind %s with a queue mapped", bdf);
	pfd.fd = q.fd;
	pfd.events = POLLPRI;
	CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP),
	      "poll() reports POLLERR | POLLHUP (revents 0x%x)", pfd.revents);
	queue_info(q.fd, &q.qi);
	CHECK(q.qi.state == NVME_P2P_QUEUE_REVOKED, "QUEUE_INFO: revoked (%u)", q.qi.state);
	CHECK(sigbus_on_touch(q.sq), "a CPU store to the revoked SQ raises SIGBUS");
	CHECK(sigbus_on_touch((void *)q.sq_db), "and to its doorbell");
	if (getenv("EDU_SWITCH"))
		CHECK(p2p_map_as(getenv("EDU_SWITCH"), q.sq, q.qi.sq_bytes, 1, &first, &last) == -ENODEV,
		      "p2p_map of the revoked SQ: ENODEV");
	CHECK_ERR(map_part(q.fd, NVME_P2P_QUEUE_OFF_SQ, q.qi.sq_bytes), ENODEV,
		  "mmap of a revoked queue");
	CHECK_ERR(queue_create(ctrl, 16, 0, 0, 0, NULL), ENODEV, "QUEUE on a removed controller");
	CHECK_ERR(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME), ENODEV, "QUEUE_RESUME of a revoked queue");
	xq_close(&q);
	close(ctrl);
	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/bind", bdf) == 0, "bind %s again", bdf);
	for (i = 0; i < 100 && again < 0; i++) {
		again = open_ctrl(self->serial);
		if (again < 0)
			usleep(100 * 1000);
	}
	if (again >= 0) {
		struct nvme_p2p_info in;

		CHECK(!info(again, &in) && in.queues_reserved == 8 && in.queues_used == 0,
		      "the controller is back with 8 reserved queue IDs, none in use");
		close(again);
	} else {
		CHECK(0, "the controller is back");
	}
}

TEST_HARNESS_MAIN
