// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-queue-rings-in-a-peer-s-memory-imported */
/*
 * VM test: exported queue pairs whose SQ and CQ live in another device's
 * memory, passed as a dma-buf (NVME_P2P_SQ_DMABUF, NVME_P2P_CQ_DMABUF):
 *
 * - sources: a CMB region of p2p0 exported as a dma-buf (p2p0 behind the
 *   switch with data0, which has no CMB: data0 fetches commands from and
 *   posts completions to p2p0's memory), and udmabuf (host memory through a
 *   memfd, the stand-in for a GPU's memory);
 * - I/O: 1000+ commands with random sizes and batches through many ring
 *   wrap-arounds on data0 (both sources) and root0 (udmabuf), the bytes
 *   checked both ways through the controller's block device; root0 cannot
 *   reach p2p0's CMB: EREMOTEIO;
 * - revocation: p2p0 reset or unbound under I/O (data0's queue is revoked
 *   before p2p0's reset returns, data0's block device keeps working, fio
 *   verify alongside), the region or udmabuf closed under I/O (nothing
 *   changes: the queue holds the dma-buf), data0 reset (stopped, resumed
 *   on the same memory) or unbound;
 * - every errno of the dma-buf placements.
 *
 * On the kselftest harness with the leak check of P2P_CMB_FIXTURE (p2p0's
 * CMB and queue IDs), and each test checks data0's queue IDs come back.
 * Runs in the testbed guest as root; prints TAP.
 */
#define _GNU_SOURCE
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

#include "../../tools/lib/nvmep2p.h"
#include "p2p_harness.h"

P2P_CMB_FIXTURE(ring)

/* I/O through a queue in peer memory, per controller and memory source. */
P2P_CMB_FIXTURE(ring_io)

FIXTURE_VARIANT(ring_io) {
	const char *serial_var;	/* the controller that runs the queue */
	int cmb;		/* rings in p2p0's CMB, else udmabuf */
};

FIXTURE_VARIANT_ADD(ring_io, data0_cmb) { .serial_var = "SERIAL_DATA", .cmb = 1 };
FIXTURE_VARIANT_ADD(ring_io, data0_udmabuf) { .serial_var = "SERIAL_DATA", .cmb = 0 };
FIXTURE_VARIANT_ADD(ring_io, root0_udmabuf) { .serial_var = "SERIAL_ROOT", .cmb = 0 };

#define DEPTH		64
#define NSID		1
#define RING_BYTES	8192		/* SQ at 0, CQ at 4096 */
#define AREA_OFF	(768 * MiB)	/* the test's LBAs on the controller */
#define SLOT		8192		/* one command moves at most this */
#define SLOTS		512		/* AREA_OFF + SLOTS * SLOT */
#define BATCH_MAX	32
#define DATA_BYTES	(BATCH_MAX * SLOT)	/* a host region of the controller */

/* Ring memory: a dma-buf and the test's own CPU view of all of it. */
struct mem {
	int dmabuf;
	int owner;		/* the region or the memfd */
	unsigned char *cpu;
	size_t size;
};

/* A queue whose rings the test reaches through struct mem's mapping. */
struct pq {
	int ctrl, fd;
	char ctrl_name[32], ns[64];
	struct nvme_p2p_queue_info qi;
	unsigned char *sq, *cq;
	void *db;
	volatile uint32_t *sq_db, *cq_db;
	unsigned int tail, head, phase;
	uint16_t cid;
	int data_fd;		/* host region for data buffers */
	struct nvme_p2p_region_create data_rc;
	unsigned char *data;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* udmabuf of a memfd of @size bytes: items of @pages (page indexes), or whole. */
static int udmabuf_mem(size_t size, const unsigned int *pages, unsigned int n, struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->dmabuf = udmabuf_new(size, pages, n, &m->owner);
	if (m->dmabuf < 0)
		return -1;
	/* The pages udmabuf took at creation are the memfd's: the CPU's view. */
	m->cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->owner, 0);
	if (m->cpu == MAP_FAILED)
		return -1;
	m->size = size;
	return 0;
}

/* A CMB region of @cmb_ctrl (p2p0), mapped, and a dma-buf of all of it. */
static int cmb_mem(int cmb_ctrl, size_t size, struct mem *m)
{
	memset(m, 0, sizeof(*m));
	m->dmabuf = -1;
	m->owner = region(cmb_ctrl, size, 0, NULL);
	if (m->owner < 0)
		return -1;
	m->cpu = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->owner, 0);
	if (m->cpu == MAP_FAILED)
		return -1;
	m->size = size;
	memset(m->cpu, 0, size);
	m->dmabuf = export_dmabuf(m->owner, 0, 0);
	return m->dmabuf < 0 ? -1 : 0;
}

/* Let go of the test's own hold on the memory: the queue keeps its dma-buf. */
static void mem_close(struct mem *m)
{
	if (m->cpu && m->cpu != MAP_FAILED)
		munmap(m->cpu, m->size);
	m->cpu = NULL;
	if (m->dmabuf >= 0)
		close(m->dmabuf);
	if (m->owner >= 0)
		close(m->owner);
	m->dmabuf = m->owner = -1;
}

/* QUEUE_CREATE with the SQ and CQ in dma-bufs: the fd, or -1 and errno. */
static int ring_create(int ctrl, uint32_t depth, int sq_fd, uint64_t sq_off, int cq_fd,
		       uint64_t cq_off)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = depth,
		.sq_placement = NVME_P2P_SQ_DMABUF, .cq_placement = NVME_P2P_CQ_DMABUF,
		.sq_dmabuf_fd = sq_fd, .cq_dmabuf_fd = cq_fd,
		.sq_dmabuf_offset = sq_off, .cq_dmabuf_offset = cq_off,
	};

	return ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
}

static int queue_info(int fd, struct nvme_p2p_queue_info *qi)
{
	memset(qi, 0, sizeof(*qi));
	qi->argsz = sizeof(*qi);
	return ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, qi);
}

static int queues_used(int ctrl)
{
	struct nvme_p2p_info in;

	return info(ctrl, &in) ? -1 : in.queues_used;
}

/*
 * Open the controller $var names (pci_dir and ctrl_name are left as the
 * fixture set them) and a host region for data.
 */
static int pq_ctrl(const char *var, struct pq *q)
{
	char save_dir[256], save_name[32];
	const char *serial = getenv(var);

	memset(q, 0, sizeof(*q));
	q->fd = q->data_fd = -1;
	memcpy(save_dir, pci_dir, sizeof(save_dir));
	memcpy(save_name, ctrl_name, sizeof(save_name));
	q->ctrl = serial && *serial ? open_ctrl(serial) : -1;
	snprintf(q->ctrl_name, sizeof(q->ctrl_name), "%s", ctrl_name);
	snprintf(q->ns, sizeof(q->ns), "/dev/%sn1", ctrl_name);
	memcpy(pci_dir, save_dir, sizeof(save_dir));
	memcpy(ctrl_name, save_name, sizeof(save_name));
	if (q->ctrl < 0)
		return -1;
	q->data_fd = region(q->ctrl, DATA_BYTES, NVME_P2P_REGION_HOST, &q->data_rc);
	if (q->data_fd < 0)
		return -1;
	q->data = mmap(NULL, DATA_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, q->data_fd, 0);
	return q->data == MAP_FAILED ? -1 : 0;
}

/* The queue on q->ctrl with its SQ at 0 and its CQ at 4096 of @m. */
static int pq_open(struct pq *q, struct mem *m)
{
	memset(m->cpu, 0, RING_BYTES);	/* the owner zeroes the CQ */
	q->fd = ring_create(q->ctrl, DEPTH, m->dmabuf, 0, m->dmabuf, 4096);
	if (q->fd < 0 || queue_info(q->fd, &q->qi))
		return -1;
	q->db = mmap(NULL, q->qi.db_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q->fd,
		     NVME_P2P_QUEUE_OFF_DB);
	if (q->db == MAP_FAILED)
		return -1;
	q->sq = m->cpu;
	q->cq = m->cpu + 4096;
	q->sq_db = (uint32_t *)((char *)q->db + q->qi.sq_db_offset);
	q->cq_db = (uint32_t *)((char *)q->db + q->qi.cq_db_offset);
	q->tail = q->head = 0;
	q->phase = 1;
	return 0;
}

static void pq_close(struct pq *q)
{
	if (q->db && q->db != MAP_FAILED)
		munmap(q->db, q->qi.db_bytes);
	q->db = NULL;
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

static void pq_done(struct pq *q)
{
	pq_close(q);
	if (q->data && q->data != MAP_FAILED)
		munmap(q->data, DATA_BYTES);
	if (q->data_fd >= 0)
		close(q->data_fd);
	if (q->ctrl >= 0)
		close(q->ctrl);
}

/*
 * One batch: n commands (READ or WRITE of lens[i] bytes at slots[i] of the
 * area, data at i * SLOT of the host region) with one doorbell write, then
 * all n completions. Returns the number of commands that failed, or -1 if
 * a completion did not come within @timeout seconds.
 */
static int pq_batch(struct pq *q, uint8_t opcode, const unsigned int *slots,
		    const unsigned int *lens, unsigned int n, double timeout)
{
	unsigned int i, bad = 0;
	double deadline;

	for (i = 0; i < n; i++) {
		uint64_t addr = q->data_rc.bus_addr + (uint64_t)i * SLOT;
		uint64_t lba = (AREA_OFF + (uint64_t)slots[i] * SLOT) / 512;
		struct nvmep2p_sqe c = {
			.opcode = opcode, .cid = q->cid++, .nsid = NSID, .prp1 = addr,
			.prp2 = lens[i] > 4096 ? addr + 4096 : 0,
			.cdw10 = (uint32_t)lba, .cdw11 = (uint32_t)(lba >> 32),
			.cdw12 = lens[i] / 512 - 1,
		};
		volatile uint64_t *dst = (uint64_t *)(q->sq + q->tail * sizeof(c));
		uint64_t src[sizeof(c) / 8];
		unsigned int w;

		/* 8-byte stores (the SQ may be CMB); memcpy() keeps aliasing legal. */
		memcpy(src, &c, sizeof(c));
		for (w = 0; w < sizeof(c) / 8; w++)
			dst[w] = src[w];
		q->tail = (q->tail + 1) % DEPTH;
	}
	__asm__ __volatile__("sfence" ::: "memory");
	*q->sq_db = q->tail;

	deadline = now() + timeout;
	for (i = 0; i < n; i++) {
		volatile struct nvmep2p_cqe *c =
			(struct nvmep2p_cqe *)(q->cq + q->head * sizeof(*c));

		while ((c->status & 1) != q->phase)
			if (now() > deadline)
				return -1;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (c->status >> 1) {
			static int told;

			/* The first failure of the process, for its log. */
			if (!told++)
				ksft_print_msg("command failed: status 0x%x, cid %u, sq_head %u\n",
					       c->status >> 1, c->cid, c->sq_head);
			bad++;
		}
		if (++q->head == DEPTH) {
			q->head = 0;
			q->phase ^= 1;
		}
	}
	*q->cq_db = q->head;
	return bad;
}

/* Pattern byte of the area: a function of the byte's position and a seed. */
static unsigned char pat(uint64_t pos, unsigned int seed)
{
	return (unsigned char)((pos * 2654435761u >> 11) ^ (pos >> 12) ^ seed);
}

static int blockdev_rw(const char *ns, int write, void *buf, size_t len, uint64_t pos)
{
	int fd = open(ns, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write ? pwrite(fd, buf, len, pos) : pread(fd, buf, len, pos);
		close(fd);
	}
	return n == (ssize_t)len ? 0 : -1;
}

/* What an I/O run did. */
struct run {
	unsigned int cmds, batches, wraps, bad, timeouts, mismatches;
};

/*
 * @cmds commands in random batches (1-32) of random sizes (512 B to 8 KiB)
 * at random distinct slots: WRITEs of the pattern with @seed, then the
 * area read through the block device and compared; then the block device
 * writes the pattern with seed + 1 and READs through the queue check it.
 */
static void pq_run(struct pq *q, unsigned int cmds, unsigned int seed, struct run *r)
{
	unsigned int slots[BATCH_MAX], lens[BATCH_MAX], i, n, done, start;
	size_t area = (size_t)SLOTS * SLOT;
	unsigned char *shadow = malloc(area), *dev;
	uint64_t p;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!shadow || posix_memalign((void **)&dev, 4096, area)) {
		r->bad = 1;
		free(shadow);
		return;
	}
	srandom(seed);
	/* Known contents first, through the block device. */
	for (p = 0; p < area; p++)
		shadow[p] = dev[p] = pat(AREA_OFF + p, seed ^ 0x5a);
	if (blockdev_rw(q->ns, 1, dev, area, AREA_OFF))
		r->bad++;

	for (done = 0; done < cmds; done += n) {
		n = 1 + random() % BATCH_MAX;
		start = random() % SLOTS;
		for (i = 0; i < n; i++) {
			slots[i] = (start + i) % SLOTS;
			lens[i] = 512 * (1 + random() % (SLOT / 512));
			for (p = 0; p < lens[i]; p++) {
				uint64_t at = (uint64_t)slots[i] * SLOT + p;

				q->data[i * SLOT + p] = shadow[at] = pat(AREA_OFF + at, seed);
			}
		}
		r->wraps += (q->tail + n) / DEPTH;
		ret = pq_batch(q, 0x01, slots, lens, n, 20.0);
		r->batches++;
		if (ret < 0) {
			r->timeouts++;
			break;
		}
		r->bad += ret;
	}
	r->cmds = done;
	if (!blockdev_rw(q->ns, 0, dev, area, AREA_OFF))
		r->mismatches += !!memcmp(dev, shadow, area);
	else
		r->bad++;

	/* The other way: the block device writes, the queue READs. */
	for (p = 0; p < area; p++)
		shadow[p] = dev[p] = pat(AREA_OFF + p, seed + 1);
	if (blockdev_rw(q->ns, 1, dev, area, AREA_OFF))
		r->bad++;
	for (done = 0; done < cmds && !r->timeouts; done += n) {
		n = 1 + random() % BATCH_MAX;
		start = random() % SLOTS;
		for (i = 0; i < n; i++) {
			slots[i] = (start + i) % SLOTS;
			lens[i] = 512 * (1 + random() % (SLOT / 512));
		}
		memset(q->data, 0, (size_t)n * SLOT);
		r->wraps += (q->tail + n) / DEPTH;
		ret = pq_batch(q, 0x02, slots, lens, n, 20.0);
		r->batches++;
		if (ret < 0) {
			r->timeouts++;
			break;
		}
		r->bad += ret;
		for (i = 0; i < n; i++)
			r->mismatches += !!memcmp(q->data + (size_t)i * SLOT,
						  shadow + (size_t)slots[i] * SLOT, lens[i]);
	}
	r->cmds += done;
	free(shadow);
	free(dev);
}

TEST_F(ring_io, io)
{
	struct nvme_p2p_queue_info qi;
	struct run r;
	struct mem m;
	struct pq q;
	int used0;

	if (pq_ctrl(variant->serial_var, &q))
		SKIP(return, "no controller $%s or no host region on it", variant->serial_var);
	used0 = queues_used(q.ctrl);
	ASSERT_EQ(0, variant->cmb ? cmb_mem(self->ctrl, RING_BYTES, &m) :
		     udmabuf_mem(RING_BYTES, NULL, 0, &m));
	ASSERT_EQ(0, pq_open(&q, &m)) TH_LOG("queue with SQ and CQ in %s: %s",
					     variant->cmb ? "p2p0's CMB" : "udmabuf",
					     strerror(errno));
	CHECK(q.qi.sq_placement == NVME_P2P_SQ_DMABUF &&
	      q.qi.cq_placement == NVME_P2P_CQ_DMABUF,
	      "QUEUE_INFO: both rings in a dma-buf (%u, %u)", q.qi.sq_placement,
	      q.qi.cq_placement);
	if (variant->cmb)
		CHECK(q.qi.cq_addr == q.qi.sq_addr + 4096,
		      "the CQ is 4096 bytes after the SQ in p2p0's CMB (0x%llx, 0x%llx)",
		      (unsigned long long)q.qi.sq_addr, (unsigned long long)q.qi.cq_addr);

	pq_run(&q, 1000, 1234, &r);
	ksft_print_msg("%s, rings in %s: %u commands in %u batches, %u ring wraps, %u failed, %u timeouts, %u mismatches\n",
		       q.ctrl_name, variant->cmb ? "p2p0's CMB" : "udmabuf", r.cmds, r.batches,
		       r.wraps, r.bad, r.timeouts, r.mismatches);
	CHECK(r.cmds >= 2000 && r.wraps >= 20 && !r.bad && !r.timeouts && !r.mismatches,
	      "1000 WRITEs then 1000 READs: every byte where it should be");

	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_LIVE, "still live");
	pq_close(&q);
	CHECK(queues_used(q.ctrl) == used0, "%s's queue ID is free after close", q.ctrl_name);
	pq_done(&q);
	mem_close(&m);
}

/* root0 is on the root bus: it cannot reach p2p0's CMB. */
TEST_F(ring, unreachable)
{
	struct mem m;
	struct pq q;

	if (pq_ctrl("SERIAL_ROOT", &q))
		SKIP(return, "no controller $SERIAL_ROOT");
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &m));
	CHECK_ERR(ring_create(q.ctrl, DEPTH, m.dmabuf, 0, m.dmabuf, 4096), EREMOTEIO,
		  "root0, rings in p2p0's CMB");
	CHECK(kernel_log_has("cannot reach the CMB", "peer to peer"), "the kernel log says why");
	CHECK(queues_used(q.ctrl) == 0, "no queue ID taken on root0");
	pq_done(&q);
	mem_close(&m);
}

static int dmabuf_of_part(int qfd, uint64_t part)
{
	return export_dmabuf(qfd, part, 0);
}

/* Every errno of the dma-buf placements. */
TEST_F(ring, bad_arguments)
{
	struct nvme_p2p_queue_create qc;
	const unsigned int twice[] = { 0, 0 };
	struct mem m, small, dup;
	struct pq q;
	int fd, db, memfd;

	if (pq_ctrl("SERIAL_DATA", &q))
		SKIP(return, "no controller $SERIAL_DATA");
	ASSERT_EQ(0, udmabuf_mem(RING_BYTES, NULL, 0, &m));
	ASSERT_EQ(0, udmabuf_mem(4096, NULL, 0, &small));
	ASSERT_EQ(0, udmabuf_mem(4096, twice, 2, &dup));

	CHECK_ERR(ring_create(q.ctrl, DEPTH, m.dmabuf, 0, m.dmabuf, 512), EINVAL,
		  "CQ offset not a multiple of 4096");
	CHECK_ERR(ring_create(q.ctrl, DEPTH, m.dmabuf, 0, m.dmabuf, 8192), EINVAL,
		  "CQ at the end of the dma-buf");
	CHECK_ERR(ring_create(q.ctrl, DEPTH, small.dmabuf, 0, small.dmabuf, 4096), EINVAL,
		  "a dma-buf too small for both rings");
	CHECK_ERR(ring_create(q.ctrl, 128, m.dmabuf, 4096, m.dmabuf, 0), EINVAL,
		  "an 8 KiB SQ at 4096 of an 8 KiB dma-buf");
	CHECK_ERR(ring_create(q.ctrl, 128, dup.dmabuf, 0, m.dmabuf, 0), EXDEV,
		  "an 8 KiB SQ over the same page twice: not one contiguous DMA range");
	CHECK(kernel_log_has("queue ring in a dma-buf", "not one contiguous DMA range"),
	      "the kernel log says why");
	memfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	CHECK_ERR(ring_create(q.ctrl, DEPTH, memfd, 0, m.dmabuf, 4096), EINVAL,
		  "a memfd is not a dma-buf");
	close(memfd);
	CHECK_ERR(ring_create(q.ctrl, DEPTH, 1000, 0, m.dmabuf, 4096), EBADF,
		  "a descriptor not open");

	memset(&qc, 0, sizeof(qc));
	qc.argsz = sizeof(qc);
	qc.depth = DEPTH;
	qc.sq_placement = NVME_P2P_SQ_HOST;
	qc.sq_dmabuf_fd = m.dmabuf;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "sq_dmabuf_fd without NVME_P2P_SQ_DMABUF");
	qc.sq_dmabuf_fd = 0;
	qc.cq_dmabuf_offset = 4096;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "cq_dmabuf_offset without NVME_P2P_CQ_DMABUF");
	qc.cq_dmabuf_offset = 0;
	qc.cq_placement = NVME_P2P_CQ_DMABUF + 1;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "a CQ placement past NVME_P2P_CQ_DMABUF");
	qc.cq_placement = 0;
	qc.sq_placement = NVME_P2P_SQ_DMABUF + 1;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "an SQ placement past NVME_P2P_SQ_DMABUF");
	qc.sq_placement = NVME_P2P_SQ_DMABUF;
	qc.sq_dmabuf_fd = m.dmabuf;
	qc.flags = NVME_P2P_QUEUE_SQ_NO_CPU_MAP;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "SQ_NO_CPU_MAP with the SQ in a dma-buf");
	qc.flags = 0;
	qc.reserved[0] = 1;
	CHECK_ERR(ioctl(q.ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc), EINVAL,
		  "reserved[0] set");

	/* A queue's own doorbells, and data0's own export: never a ring. */
	fd = ring_create(q.ctrl, DEPTH, m.dmabuf, 0, m.dmabuf, 4096);
	ASSERT_LE(0, fd);
	db = dmabuf_of_part(fd, NVME_P2P_QUEUE_OFF_DB);
	CHECK(db >= 0, "a dma-buf of the queue's doorbells");
	CHECK_ERR(ring_create(q.ctrl, DEPTH, db, 0, m.dmabuf, 4096), EINVAL,
		  "an SQ in this controller's doorbell dma-buf");
	close(db);
	close(fd);
	fd = dmabuf_of_part(q.data_fd, 0);
	CHECK(fd >= 0, "a dma-buf of data0's host region");
	CHECK_ERR(ring_create(q.ctrl, DEPTH, fd, 0, m.dmabuf, 4096), EINVAL,
		  "an SQ in this controller's own export");
	close(fd);
	CHECK(queues_used(q.ctrl) == 0, "nothing left on data0");
	mem_close(&m);
	mem_close(&small);
	mem_close(&dup);
	pq_done(&q);
}

/* The CPU's ways in: mmap() of a udmabuf ring is the udmabuf's; re-export. */
TEST_F(ring, cpu_and_reexport)
{
	struct nvme_p2p_queue_info qi;
	unsigned char *sqmap, *cqmap;
	struct mem m, c;
	struct stat a, b;
	struct pq q;
	int d;

	if (pq_ctrl("SERIAL_DATA", &q))
		SKIP(return, "no controller $SERIAL_DATA");
	ASSERT_EQ(0, udmabuf_mem(RING_BYTES, NULL, 0, &m));
	ASSERT_EQ(0, pq_open(&q, &m));
	sqmap = mmap(NULL, q.qi.sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q.fd,
		     NVME_P2P_QUEUE_OFF_SQ);
	cqmap = mmap(NULL, q.qi.cq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q.fd,
		     NVME_P2P_QUEUE_OFF_CQ);
	ASSERT_NE(MAP_FAILED, sqmap);
	ASSERT_NE(MAP_FAILED, cqmap);
	m.cpu[100] = 0xa5;
	m.cpu[4096 + 7] = 0x3c;
	CHECK(sqmap[100] == 0xa5 && cqmap[7] == 0x3c,
	      "the queue's SQ and CQ mappings are the udmabuf's memory");
	munmap(sqmap, q.qi.sq_bytes);
	munmap(cqmap, q.qi.cq_bytes);
	m.cpu[100] = m.cpu[4096 + 7] = 0;

	d = dmabuf_of_part(q.fd, NVME_P2P_QUEUE_OFF_SQ);
	CHECK(d >= 0 && !fstat(d, &a) && !fstat(m.dmabuf, &b) && a.st_ino == b.st_ino,
	      "NVME_P2P_IOCTL_DMABUF of the SQ: the caller's dma-buf again");
	close(d);
	pq_close(&q);

	/* CMB rings: mmap() through the queue is refused, as by their exporter. */
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &c));
	ASSERT_EQ(0, pq_open(&q, &c));
	CHECK_ERR(mmap(NULL, q.qi.sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, q.fd,
		       NVME_P2P_QUEUE_OFF_SQ), EOPNOTSUPP,
		  "mmap() of an SQ in p2p0's CMB through data0's queue");
	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_LIVE, "the queue is live");
	pq_done(&q);
	mem_close(&m);
	mem_close(&c);
}

static int reset_named(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", name);
	return write_sysfs(path, "1");
}

/* poll() of the queue within @ms: the revents. */
static short pq_poll(struct pq *q, int ms)
{
	struct pollfd p = { .fd = q->fd, .events = POLLPRI };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* Read and write 1 MiB through the block device at 900 MiB: blk-mq works. */
static int blkmq_ok(const char *ns)
{
	unsigned char *b;
	int ok = 0;
	size_t i;

	if (posix_memalign((void **)&b, 4096, MiB))
		return 0;
	for (i = 0; i < MiB; i++)
		b[i] = (unsigned char)(i * 7);
	if (!blockdev_rw(ns, 1, b, MiB, 900 * MiB)) {
		memset(b, 0, MiB);
		ok = !blockdev_rw(ns, 0, b, MiB, 900 * MiB);
		for (i = 0; ok && i < MiB; i++)
			ok = b[i] == (unsigned char)(i * 7);
	}
	free(b);
	return ok;
}

/* A child doing I/O batches on the queue until one times out or fails. */
static pid_t io_child(struct pq *q)
{
	unsigned int slots[8], lens[8], i;
	pid_t pid = fork();

	if (pid)
		return pid;
	for (i = 0; i < 8; i++) {
		slots[i] = i;
		lens[i] = 4096;
	}
	for (;;)
		if (pq_batch(q, 0x02, slots, lens, 8, 3.0))
			_exit(0);
}

/*
 * p2p0 reset with data0's rings in its CMB, under I/O: data0's queue is
 * revoked before p2p0's reset returns (p2p0 waits for data0 to delete the
 * pair), data0's block device keeps working, and nothing leaks.
 */
TEST_F(ring, exporter_reset)
{
	struct nvme_p2p_queue_info qi;
	char cmb_name[32];
	struct run r;
	struct mem m;
	struct pq q;
	pid_t child, fio;
	int status = -1;
	short ev;

	snprintf(cmb_name, sizeof(cmb_name), "%s", ctrl_name);
	if (pq_ctrl("SERIAL_DATA", &q))
		SKIP(return, "no controller $SERIAL_DATA");
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &m));
	ASSERT_EQ(0, pq_open(&q, &m));
	pq_run(&q, 100, 7, &r);
	CHECK(r.cmds >= 200 && !r.bad && !r.timeouts && !r.mismatches, "I/O before the reset");
	child = io_child(&q);
	fio = fio_verify_start(q.ns, "920M", "--loops=2");
	usleep(200 * 1000);
	CHECK(reset_named(cmb_name) == 0, "reset p2p0 (%s) under I/O", cmb_name);
	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_REVOKED,
	      "data0's queue was revoked when p2p0's reset returned (state %u)", qi.state);
	ev = pq_poll(&q, 5000);
	CHECK((ev & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP), "poll(): EPOLLERR | EPOLLHUP (0x%x)",
	      ev);
	CHECK(kernel_log_has(q.ctrl_name, "its rings' memory was taken back"),
	      "the kernel log says data0's queue %u lost its rings", qi.qid);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(fio > 0 && waitpid(fio, &status, 0) == fio && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "fio verify on data0's block device alongside: passed (%#x)",
	      status);
	CHECK_ERR(ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME), ENODEV, "QUEUE_RESUME of it");
	CHECK(blkmq_ok(q.ns), "data0's block device reads back what it wrote");
	CHECK(ctrl_state_is(q.ctrl_name, "live"), "data0 is live");
	pq_close(&q);
	CHECK(queues_used(q.ctrl) == 0, "data0's queue ID is free after close");
	mem_close(&m);
	/* p2p0's CMB came back once data0 let go of the dma-buf: the fixture checks. */
	pq_done(&q);
}

/*
 * The test's region and dma-buf descriptors closed under I/O, and a
 * udmabuf and its memfd: the queue holds the dma-buf, nothing changes.
 */
TEST_F(ring, owner_closes)
{
	struct nvme_p2p_queue_info qi;
	long long free_open;
	int src, ok;

	for (src = 0; src < 2; src++) {
		unsigned int slots[4] = { 1, 2, 3, 4 }, lens[4] = { 4096, 4096, 8192, 512 };
		unsigned char *ring;
		struct mem m;
		struct pq q;
		int i;

		if (pq_ctrl("SERIAL_DATA", &q))
			SKIP(return, "no controller $SERIAL_DATA");
		ASSERT_EQ(0, src ? udmabuf_mem(RING_BYTES, NULL, 0, &m) :
			     cmb_mem(self->ctrl, RING_BYTES, &m));
		ASSERT_EQ(0, pq_open(&q, &m));
		free_open = cmb_free(self->ctrl);
		/* Keep a CPU view that outlives the descriptors. */
		ring = src ? m.cpu : mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE,
					  MAP_SHARED, m.owner, 0);
		ASSERT_NE(MAP_FAILED, ring);
		if (!src)
			munmap(m.cpu, RING_BYTES);
		m.cpu = NULL;
		close(m.dmabuf);
		close(m.owner);
		q.sq = ring;
		q.cq = ring + 4096;
		for (i = 0, ok = 1; i < 50 && ok; i++)
			ok = pq_batch(&q, 0x02, slots, lens, 4, 10.0) == 0;
		CHECK(ok, "%s: 50 batches after the descriptors were closed",
		      src ? "udmabuf" : "p2p0's CMB");
		CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_LIVE, "still live");
		if (!src)
			CHECK(cmb_free(self->ctrl) == free_open,
			      "p2p0's region is still allocated: the queue holds its dma-buf");
		munmap(ring, RING_BYTES);
		pq_done(&q);
	}
}

/* data0 reset: the queue stops and resumes on the same memory. */
TEST_F(ring, importer_reset)
{
	struct nvme_p2p_queue_info qi;
	struct run r;
	struct mem m;
	struct pq q;
	short ev;
	int i, ret = -1;

	if (pq_ctrl("SERIAL_DATA", &q))
		SKIP(return, "no controller $SERIAL_DATA");
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &m));
	ASSERT_EQ(0, pq_open(&q, &m));
	CHECK(reset_named(q.ctrl_name) == 0, "reset data0");
	ev = pq_poll(&q, 10000);
	CHECK(ev & POLLPRI, "poll(): EPOLLPRI (0x%x)", ev);
	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_STOPPED &&
	      qi.sq_addr == q.qi.sq_addr, "stopped, rings where they were");
	memset(m.cpu + 4096, 0, 4096);	/* the owner zeroes the CQ */
	q.tail = q.head = 0;
	q.phase = 1;
	for (i = 0; i < 100 && ret; i++) {
		ret = ioctl(q.fd, NVME_P2P_IOCTL_QUEUE_RESUME);
		if (ret)
			usleep(100 * 1000);
	}
	CHECK(ret == 0, "QUEUE_RESUME");
	pq_run(&q, 200, 99, &r);
	CHECK(r.cmds >= 400 && !r.bad && !r.timeouts && !r.mismatches,
	      "I/O after the resume: %u commands, %u failed, %u mismatches", r.cmds, r.bad,
	      r.mismatches);
	pq_done(&q);
	mem_close(&m);
}

static int bind_nvme(const char *bdf, int bind)
{
	return write_sysfs(bind ? "/sys/bus/pci/drivers/nvme/bind" :
			   "/sys/bus/pci/drivers/nvme/unbind", bdf);
}

static int wait_ctrl(const char *serial)
{
	int i, fd = -1;
	char save_dir[256], save_name[32];

	memcpy(save_dir, pci_dir, sizeof(save_dir));
	memcpy(save_name, ctrl_name, sizeof(save_name));
	for (i = 0; i < 100 && fd < 0; i++) {
		fd = open_ctrl(serial);
		if (fd < 0)
			usleep(100 * 1000);
	}
	memcpy(pci_dir, save_dir, sizeof(save_dir));
	memcpy(ctrl_name, save_name, sizeof(save_name));
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* Unbinding p2p0 revokes data0's queue; unbinding data0 revokes it too. */
TEST_F(ring, unbind)
{
	struct nvme_p2p_queue_info qi;
	char bdf[64], data_bdf[64];
	struct mem m;
	struct pq q;
	pid_t child, fio;
	int status = -1;

	ctrl_bdf(bdf, sizeof(bdf));
	ASSERT_TRUE(bdf[0]);
	if (pq_ctrl("SERIAL_DATA", &q))
		SKIP(return, "no controller $SERIAL_DATA");
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &m));
	ASSERT_EQ(0, pq_open(&q, &m));
	child = io_child(&q);
	fio = fio_verify_start(q.ns, "920M", "--loops=2");
	usleep(200 * 1000);
	close(self->ctrl);
	CHECK(bind_nvme(bdf, 0) == 0, "unbind p2p0 (%s) under I/O", bdf);
	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_REVOKED,
	      "data0's queue was revoked by then (state %u)", qi.state);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(fio > 0 && waitpid(fio, &status, 0) == fio && WIFEXITED(status) &&
	      !WEXITSTATUS(status), "fio verify on data0's block device alongside: passed (%#x)",
	      status);
	CHECK(blkmq_ok(q.ns), "data0's block device works");
	pq_close(&q);
	mem_close(&m);
	CHECK(queues_used(q.ctrl) == 0, "data0's queue ID is free");
	CHECK(bind_nvme(bdf, 1) == 0 && wait_ctrl(self->serial), "p2p0 bound again");
	self->ctrl = open_ctrl(self->serial);
	ASSERT_LE(0, self->ctrl);

	/* Now the importer: unbind data0 with its queue in p2p0's CMB. */
	ASSERT_EQ(0, cmb_mem(self->ctrl, RING_BYTES, &m));
	ASSERT_EQ(0, pq_open(&q, &m));
	{
		char save_dir[256];

		memcpy(save_dir, pci_dir, sizeof(save_dir));
		snprintf(pci_dir, sizeof(pci_dir), "/sys/class/nvme/%s/device/", q.ctrl_name);
		ctrl_bdf(data_bdf, sizeof(data_bdf));
		memcpy(pci_dir, save_dir, sizeof(save_dir));
	}
	ASSERT_TRUE(data_bdf[0]);
	munmap(q.data, DATA_BYTES);
	q.data = NULL;
	close(q.data_fd);
	q.data_fd = -1;
	close(q.ctrl);
	q.ctrl = -1;
	CHECK(bind_nvme(data_bdf, 0) == 0, "unbind data0 (%s)", data_bdf);
	CHECK(!queue_info(q.fd, &qi) && qi.state == NVME_P2P_QUEUE_REVOKED,
	      "its queue is revoked (state %u)", qi.state);
	pq_close(&q);
	mem_close(&m);
	CHECK(bind_nvme(data_bdf, 1) == 0 && wait_ctrl(getenv("SERIAL_DATA")),
	      "data0 bound again");
}

TEST_HARNESS_MAIN
