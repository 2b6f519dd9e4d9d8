// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-list-a-controller-s-exports */
/*
 * VM test: real I/O through libnvmep2p on exported queue pairs of the
 * testbed's CMB controller. Data written from CMB and host regions to the
 * namespace is read back through the queue into another region and through
 * the block device (O_DIRECT), 4 KiB to 512 KiB, SQ in the CMB and in host
 * memory; status names of deliberate errors; queue full; a controller
 * reset and the library's resync; the library's argument checks against a
 * live kernel. Runs as root in the testbed guest; prints TAP.
 *
 * On the kselftest harness: each test on the controller $SERIAL_CMB names
 * and its first namespace, checked for leaked CMB bytes, regions and queue
 * IDs after its process exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nvmep2p.h"
#include "p2p_harness.h"

#define KiB 1024UL
#define TIMEOUT_MS 20000

/* A library call returned exactly want (0, a count or a -errno). */
#define is_ret(got, want, what) do {					\
	long _g = (long)(got), _w = (long)(want);			\
	CHECK(_g == _w, "%s (got %ld%s%s, want %ld%s%s)", what, _g,	\
	      _g < 0 ? " " : "", _g < 0 ? strerrorname_np((int)-_g) : "", \
	      _w, _w < 0 ? " " : "", _w < 0 ? strerrorname_np((int)-_w) : ""); \
} while (0)

static struct nvmep2p_ctrl *ctrl;
static struct nvme_p2p_info cinfo;
static struct nvmep2p_ns_info ns;
static const char *blkdev;
static char blkdev_buf[64];
static int blk_fd = -1;

/* The first namespace block device of controller name ("/dev/nvme1n1"). */
static int first_ns(const char *name, char *dev, size_t size)
{
	char pattern[128];
	glob_t g;
	int ret = -1;

	snprintf(pattern, sizeof(pattern), "/sys/class/nvme/%s/%sn*", name, name);
	if (glob(pattern, 0, NULL, &g))
		return -1;
	if (g.gl_pathc) {
		snprintf(dev, size, "/dev/%s", strrchr(g.gl_pathv[0], '/') + 1);
		ret = 0;
	}
	globfree(&g);
	return ret;
}

/*
 * The fixture: the CMB controller opened by the library (its serial from
 * $SERIAL_CMB, the leak check of P2P_CMB_FIXTURE after the test), its
 * namespace 1 and that namespace's block device, O_DIRECT.
 */
FIXTURE(lib) {
	int ctrl;
	long long free0;
	unsigned int queues_used0;
	char serial[64];
};

FIXTURE_SETUP(lib)
{
	char dev[80];
	int ret;

	p2p_cmb_setup(_metadata, &self->ctrl, &self->free0, &self->queues_used0,
		      self->serial, sizeof(self->serial));
	if (_metadata->exit_code)
		return;
	snprintf(dev, sizeof(dev), "serial:%s", self->serial);
	ret = nvmep2p_ctrl_open(dev, &ctrl);
	ASSERT_EQ(0, ret) TH_LOG("nvmep2p_ctrl_open(%s): %s", dev, strerror(-ret));
	ASSERT_EQ(0, nvmep2p_ctrl_info(ctrl, &cinfo));
	ASSERT_EQ(0, nvmep2p_ns_info(ctrl, 1, &ns));
	ASSERT_EQ(0, first_ns(ctrl_name, blkdev_buf, sizeof(blkdev_buf)));
	blkdev = blkdev_buf;
	blk_fd = open(blkdev, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, blk_fd) TH_LOG("open %s O_DIRECT: %s", blkdev, strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(lib)
{
	p2p_cmb_check(_metadata, self->serial, self->free0, self->queues_used0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A pattern no two (seed, offset) pairs share in practice. */
static void pattern(void *dst, size_t len, uint32_t seed)
{
	uint64_t *p = dst, x = 0x9e3779b97f4a7c15ULL * (seed + 1);
	size_t i;

	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static int matches(const void *got, size_t len, uint32_t seed)
{
	void *want = malloc(len);
	int same;

	pattern(want, len, seed);
	same = !memcmp(got, want, len);
	free(want);
	return same;
}

/* Reap one completion within the timeout: 1, 0 on timeout, or -errno. */
static int wait_cqe(struct nvmep2p_queue *q, struct nvmep2p_cqe *cqe, void **data)
{
	long long end = now_ms() + TIMEOUT_MS;
	int ret;

	do {
		ret = nvmep2p_queue_reap(q, cqe, data, 1);
		if (ret)
			return ret;
	} while (now_ms() < end);
	return 0;
}

/*
 * One read or write of len bytes at slba from/to controller address bus:
 * the NVMe status (>= 0), or a negative errno (-ETIMEDOUT: no completion).
 */
static int rw(struct nvmep2p_queue *q, uint8_t opcode, uint64_t slba,
	      uint64_t bus, size_t len)
{
	struct nvmep2p_sqe *sqe = nvmep2p_queue_get_sqe(q);
	struct nvmep2p_cqe cqe;
	void *data;
	int ret, tag;

	if (!sqe)
		return -EBUSY;
	ret = nvmep2p_prep_rw(sqe, opcode, 1, slba,
			      (uint32_t)(len >> ns.lba_shift), 0, 0, 0);
	if (!ret)
		ret = nvmep2p_queue_set_prps(q, sqe, bus, len);
	if (ret) {
		/* Already taken: send it as a harmless flush. */
		nvmep2p_prep_flush(sqe, 1);
	}
	nvmep2p_sqe_set_data(q, sqe, &tag);
	nvmep2p_queue_submit(q);
	if (wait_cqe(q, &cqe, &data) != 1)
		return -ETIMEDOUT;
	if (data != &tag)
		return -EPROTO;
	return ret ? ret : nvmep2p_cqe_status(&cqe);
}

/* The namespace through the block device, O_DIRECT. */
static int blk_matches(uint64_t slba, size_t len, uint32_t seed)
{
	void *buf;
	int same;

	if (posix_memalign(&buf, 4096, len))
		return 0;
	same = pread(blk_fd, buf, len, (off_t)(slba << ns.lba_shift)) == (ssize_t)len &&
		matches(buf, len, seed);
	free(buf);
	return same;
}

static int blk_is_zero(uint64_t slba, size_t len)
{
	unsigned char *buf;
	size_t i;
	int zero;

	if (posix_memalign((void **)&buf, 4096, len))
		return 0;
	zero = pread(blk_fd, buf, len, (off_t)(slba << ns.lba_shift)) == (ssize_t)len;
	for (i = 0; zero && i < len; i++)
		zero = !buf[i];
	free(buf);
	return zero;
}

static struct nvmep2p_queue *make_queue(unsigned int depth, unsigned char sq,
					unsigned int flags)
{
	struct nvmep2p_queue_params p = {
		.depth = depth, .flags = flags, .sq_placement = sq,
	};
	struct nvmep2p_queue *q;
	int ret = nvmep2p_queue_create(ctrl, &p, &q);

	if (ret) {
		ksft_print_msg("queue_create(depth %u, sq %u, flags %#x): %s\n", depth, sq,
		     flags, strerror(-ret));
		return NULL;
	}
	return q;
}

static struct nvmep2p_region *make_region(size_t size, unsigned int flags)
{
	struct nvmep2p_region *r;
	int ret = nvmep2p_region_create(ctrl, size, flags, &r);

	if (ret) {
		ksft_print_msg("region_create(%zu, %#x): %s\n", size, flags, strerror(-ret));
		return NULL;
	}
	return r;
}

/* ---------------------------------------------------------------------- */

TEST_F(lib, open)
{
	const char *name = ctrl_name;	/* as sysfs names it (open_ctrl) */
	struct nvmep2p_ctrl *c = (struct nvmep2p_ctrl *)1;
	struct nvmep2p_ns_info other;
	char path[64];

	snprintf(path, sizeof(path), "/dev/%s", nvmep2p_ctrl_name(ctrl));
	CHECK(!strcmp(nvmep2p_ctrl_name(ctrl), name),
	      "serial:%s opens %s (the controller sysfs names)", self->serial, name);
	is_ret(nvmep2p_ctrl_open(path, &c), 0, "open by path");
	nvmep2p_ctrl_close(c);
	is_ret(nvmep2p_ctrl_open(name, &c), 0, "open by name");
	nvmep2p_ctrl_close(c);
	is_ret(nvmep2p_ctrl_open("serial:no-such-controller", &c), -ENODEV,
	       "open of an unknown serial");
	CHECK(c == NULL, "  leaves *out NULL");
	is_ret(nvmep2p_ctrl_open(blkdev, &c), -ENOTTY,
	       "open of the namespace block device");
	is_ret(nvmep2p_ctrl_open("/dev/nvme-fabrics", &c),
	       access("/dev/nvme-fabrics", F_OK) ? -ENOENT : -ENOTTY,
	       "open of a character device that is not a controller");

	is_ret(nvmep2p_ctrl_info(ctrl, &cinfo), 0, "ctrl_info");
	CHECK(cinfo.queues_reserved == 8 && cinfo.first_qid > 0,
	      "8 queue IDs reserved for export from qid %u (%u)", cinfo.first_qid,
	      cinfo.queues_reserved);
	CHECK(cinfo.max_transfer == 512 * KiB, "max_transfer 512 KiB (%u)",
	      cinfo.max_transfer);
	is_ret(nvmep2p_ns_info(ctrl, 1, &ns), 0, "ns_info of namespace 1");
	CHECK(ns.lba_size == 512 || ns.lba_size == 4096, "LBA size %u", ns.lba_size);
	CHECK(ns.nsze << ns.lba_shift == 1ULL << 30,
	      "namespace size %llu blocks = the 1 GiB disk", (unsigned long long)ns.nsze);
	is_ret(nvmep2p_ns_info(ctrl, 2, &other), -ENXIO, "ns_info of an inactive namespace");
	is_ret(nvmep2p_ns_info(ctrl, 0, &ns), -EINVAL, "ns_info of nsid 0");
}

TEST_F(lib, queue_create)
{
	struct nvmep2p_queue_params p = { .depth = 64 };
	struct nvmep2p_queue *q = (struct nvmep2p_queue *)1, *all[16];
	struct nvme_p2p_queue_info qi;
	unsigned long long bar0 = 0;
	unsigned int n, i;
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/device/resource",
		 nvmep2p_ctrl_name(ctrl));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llx", &bar0) != 1)
			bar0 = 0;
		fclose(f);
	}

	q = make_queue(64, NVME_P2P_SQ_CMB_REQUIRED, 0);
	CHECK(q != NULL, "queue of depth 64 with the SQ in the CMB");
	if (!q)
		return;
	is_ret(nvmep2p_queue_info(q, &qi), 0, "queue_info");
	CHECK(qi.qid == nvmep2p_queue_qid(q) && qi.qid >= cinfo.first_qid &&
	      qi.qid < cinfo.first_qid + cinfo.queues_reserved,
	      "qid %u is a reserved one", qi.qid);
	CHECK(qi.sq_placement == NVME_P2P_SQ_CMB_REQUIRED &&
	      qi.cq_placement == NVME_P2P_CQ_HOST && qi.depth == 64 &&
	      qi.state == NVME_P2P_QUEUE_LIVE, "SQ in CMB, CQ in host memory, live");
	CHECK(nvmep2p_queue_sq_map(q) && nvmep2p_queue_cq_map(q) && nvmep2p_queue_db_map(q),
	      "SQ, CQ and doorbells mapped");
	CHECK((char *)nvmep2p_queue_sq_doorbell(q) ==
	      (char *)nvmep2p_queue_db_map(q) + qi.sq_db_offset &&
	      (char *)nvmep2p_queue_cq_doorbell(q) ==
	      (char *)nvmep2p_queue_db_map(q) + qi.cq_db_offset &&
	      qi.cq_db_offset == qi.sq_db_offset + cinfo.db_stride,
	      "doorbell accessors: SQ tail at %#x, CQ head one stride on",
	      qi.sq_db_offset);
	CHECK(bar0 && qi.db_addr + qi.sq_db_offset ==
	      bar0 + 0x1000 + 2 * qi.qid * cinfo.db_stride,
	      "the SQ doorbell is at BAR0 %#llx + 1000h + 2 qid stride",
	      (unsigned long long)bar0);
	nvmep2p_queue_destroy(q);

	p.depth = 1;
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), -EINVAL, "depth 1");
	CHECK(q == NULL, "  leaves *out NULL");
	p.depth = cinfo.max_queue_depth + 1;
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), -EINVAL,
	       "depth above max_queue_depth (kernel's EINVAL)");
	p.depth = 16;
	p.cq_placement = NVME_P2P_CQ_CMB;
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), -EOPNOTSUPP,
	       "CQ in the CMB without CMBSZ.CQS");
	p.cq_placement = 0;
	p.sq_placement = 7;
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), -EINVAL, "unknown SQ placement");
	p.sq_placement = 0;
	p.flags = 1U << 7;
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), -EINVAL, "unknown flag");
	p.flags = 0;

	/* Every reserved queue ID, then EBUSY. */
	nvmep2p_ctrl_info(ctrl, &cinfo);
	for (n = 0; n < 16; n++) {
		ret = nvmep2p_queue_create(ctrl, &p, &all[n]);
		if (ret)
			break;
	}
	is_ret(n, cinfo.queues_reserved - cinfo.queues_used,
	       "as many queues as free reserved queue IDs");
	is_ret(ret, -EBUSY, "then EBUSY");
	for (i = 0; i < n; i++)
		nvmep2p_queue_destroy(all[i]);
	is_ret(nvmep2p_queue_create(ctrl, &p, &q), 0, "a destroyed queue's ID is free again");
	nvmep2p_queue_destroy(q);
}

/* Write from src, read back into dst, through q; check dst and the disk. */
static void test_data(struct __test_metadata *_metadata,
		      const char *qname, struct nvmep2p_queue *q,
		      const char *sname, struct nvmep2p_region *src,
		      const char *dname, struct nvmep2p_region *dst,
		      uint64_t slba)
{
	static const size_t sizes[] = { 4 * KiB, 8 * KiB, 12 * KiB, 64 * KiB,
					128 * KiB, 512 * KiB };
	static const size_t offsets[] = { 0, 2048 };
	static uint32_t seed;
	size_t i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < 2; j++) {
			size_t len = sizes[i], off = offsets[j];
			int w, r;

			seed++;
			pattern((char *)src->addr + off, len, seed);
			memset((char *)dst->addr + off, 0, len);
			w = rw(q, nvme_cmd_write, slba, src->bus_addr + off, len);
			r = rw(q, nvme_cmd_read, slba, dst->bus_addr + off, len);
			CHECK(w == 0 && r == 0 &&
			      matches((char *)dst->addr + off, len, seed) &&
			      blk_matches(slba, len, seed),
			      "%s: %zu KiB +%zu from %s to disk, back into %s%s, "
			      "and the block device agree (write %d, read %d)",
			      qname, len / KiB, off, sname, dname,
			      len + off > 8 * KiB ? " (PRP list)" : "", w, r);
			slba += 1024 * KiB >> ns.lba_shift;
		}
	}
}

TEST_F(lib, io)
{
	struct nvmep2p_region *cmb = make_region(1024 * KiB, 0);
	struct nvmep2p_region *cmb2 = make_region(1024 * KiB, 0);
	struct nvmep2p_region *host = make_region(1024 * KiB, NVME_P2P_REGION_HOST);
	struct nvmep2p_region *pool = make_region(256 * KiB, NVME_P2P_REGION_HOST);
	struct nvmep2p_region *cmb_pool = make_region(256 * KiB, 0);
	struct nvmep2p_queue *qc = make_queue(32, NVME_P2P_SQ_CMB_REQUIRED, 0);
	struct nvmep2p_queue *qh = make_queue(32, NVME_P2P_SQ_HOST, 0);
	struct nvme_p2p_queue_info qi;

	if (!cmb || !cmb2 || !host || !pool || !cmb_pool || !qc || !qh) {
		CHECK(0, "regions and queues for the I/O tests");
		goto out;
	}
	nvmep2p_queue_info(qh, &qi);
	CHECK(qi.sq_placement == NVME_P2P_SQ_HOST, "second queue's SQ is in host memory");
	CHECK(nvmep2p_queue_prp_pool_bytes(qc) == 31 * KiB,
	      "PRP pool: 1 KiB per command for 512 KiB transfers (%zu)",
	      nvmep2p_queue_prp_pool_bytes(qc));
	is_ret(nvmep2p_queue_attach_prp_pool(qc, pool, 0), 0,
	       "PRP pool in a host region for the CMB-SQ queue");
	is_ret(nvmep2p_queue_attach_prp_pool(qh, cmb_pool, 64 * KiB), 0,
	       "PRP pool in a CMB region (CMBSZ.LISTS) for the host-SQ queue");

	test_data(_metadata, "SQ in CMB", qc, "CMB region", cmb, "host region", host, 0);
	test_data(_metadata, "SQ in CMB", qc, "host region", host, "CMB region", cmb, 0x8000);
	test_data(_metadata, "SQ in host", qh, "CMB region", cmb, "CMB region", cmb2, 0x10000);
	test_data(_metadata, "SQ in host", qh, "host region", host, "CMB region", cmb, 0x18000);

	/* Above max_transfer: refused before it reaches the controller. */
	is_ret(rw(qc, nvme_cmd_write, 0, cmb->bus_addr, 516 * KiB), -EINVAL,
	       "a 516 KiB transfer is refused (max_transfer)");
out:
	nvmep2p_queue_destroy(qc);
	nvmep2p_queue_destroy(qh);
	nvmep2p_region_destroy(cmb);
	nvmep2p_region_destroy(cmb2);
	nvmep2p_region_destroy(host);
	nvmep2p_region_destroy(pool);
	nvmep2p_region_destroy(cmb_pool);
}

/* Many commands in one doorbell write; each completion finds its command. */
TEST_F(lib, batch)
{
	enum { N = 31, LEN = 8 * KiB };
	struct nvmep2p_region *r = make_region(N * LEN, 0);
	struct nvmep2p_queue *q = make_queue(N + 1, NVME_P2P_SQ_CMB_PREFERRED, 0);
	struct nvmep2p_cqe cqes[N];
	void *data[N];
	int tags[N], seen[N] = { 0 }, got = 0, bad = 0, i, n;
	uint64_t slba = 0x20000;
	long long end;

	if (!r || !q) {
		CHECK(0, "region and queue for the batch test");
		goto out;
	}
	for (i = 0; i < N; i++) {
		struct nvmep2p_sqe *sqe = nvmep2p_queue_get_sqe(q);

		if (!sqe)
			break;
		tags[i] = i;
		pattern((char *)r->addr + i * LEN, LEN, 1000 + i);
		nvmep2p_prep_write(sqe, 1, slba + i * (LEN >> ns.lba_shift),
				   LEN >> ns.lba_shift, 0, 0);
		nvmep2p_queue_set_prps(q, sqe, r->bus_addr + i * LEN, LEN);
		nvmep2p_sqe_set_data(q, sqe, &tags[i]);
	}
	is_ret(i, N, "31 SQEs on a queue of depth 32");
	CHECK(nvmep2p_queue_get_sqe(q) == NULL, "the 32nd: queue full");
	is_ret(nvmep2p_queue_submit(q), N, "one submit of 31");
	for (end = now_ms() + TIMEOUT_MS; got < N && now_ms() < end; ) {
		n = nvmep2p_queue_reap(q, cqes, data, N);
		for (i = 0; i < n; i++) {
			int t = *(int *)data[i];

			bad += seen[t]++ || nvmep2p_cqe_status(&cqes[i]);
		}
		got += n > 0 ? n : 0;
	}
	is_ret(got, N, "31 completions");
	is_ret(bad, 0, "each command completed once, successfully");
	for (bad = 0, i = 0; i < N; i++)
		bad += !blk_matches(slba + i * (LEN >> ns.lba_shift), LEN, 1000 + i);
	is_ret(bad, 0, "each command's data is on the disk");
	is_ret(nvmep2p_queue_inflight(q), 0, "nothing in flight");
out:
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(r);
}

/* A depth-4 queue: full at 3, wraps its phase many times. */
TEST_F(lib, small_queue)
{
	struct nvmep2p_region *r = make_region(64 * KiB, NVME_P2P_REGION_HOST);
	struct nvmep2p_queue *q = make_queue(4, NVME_P2P_SQ_CMB_REQUIRED, 0);
	struct nvmep2p_sqe *s[4];
	struct nvmep2p_cqe cqe;
	int i, ok_all = 1, reaped = 0;

	if (!r || !q) {
		CHECK(0, "region and queue for the small queue test");
		goto out;
	}
	for (i = 0; i < 4; i++) {
		s[i] = nvmep2p_queue_get_sqe(q);
		if (s[i])
			nvmep2p_prep_flush(s[i], 1);
	}
	CHECK(s[0] && s[1] && s[2] && !s[3], "depth 4: three SQEs, then NULL");
	is_ret(nvmep2p_queue_inflight(q), 3, "3 in flight");
	nvmep2p_queue_submit(q);
	for (i = 0; i < 3; i++)
		reaped += wait_cqe(q, &cqe, NULL) == 1 && !nvmep2p_cqe_status(&cqe);
	is_ret(reaped, 3, "three flushes complete");
	s[3] = nvmep2p_queue_get_sqe(q);
	CHECK(s[3] == &((struct nvmep2p_sqe *)nvmep2p_queue_sq_map(q))[3],
	      "then an SQE is free again (slot 3)");
	if (s[3]) {
		nvmep2p_prep_flush(s[3], 1);
		nvmep2p_queue_submit(q);
		ok_all = wait_cqe(q, &cqe, NULL) == 1;
	}

	/* 200 write/read pairs of 4 KiB: the CQ phase wraps 100 times. */
	for (i = 0; i < 200 && ok_all; i++) {
		pattern(r->addr, 4 * KiB, 5000 + i);
		ok_all = rw(q, nvme_cmd_write, 0x30000 + i * 8, r->bus_addr, 4 * KiB) == 0 &&
			rw(q, nvme_cmd_read, 0x30000 + i * 8, r->bus_addr + 8 * KiB,
			   4 * KiB) == 0 &&
			matches((char *)r->addr + 8 * KiB, 4 * KiB, 5000 + i);
	}
	CHECK(ok_all, "400 commands through a depth-4 queue, data right (stopped at %d)", i);
	CHECK(ok_all && blk_matches(0x30000 + 199 * 8, 4 * KiB, 5000 + 199) &&
	      blk_matches(0x30000, 4 * KiB, 5000), "first and last on the block device");
	CHECK(q->spurious == 0, "no spurious completion");
out:
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(r);
}

TEST_F(lib, commands)
{
	struct nvmep2p_region *r = make_region(64 * KiB, NVME_P2P_REGION_HOST);
	struct nvmep2p_queue *q = make_queue(16, NVME_P2P_SQ_CMB_PREFERRED, 0);
	struct nvmep2p_sqe *sqe;
	struct nvmep2p_cqe cqe;
	uint64_t slba = 0x40000;
	size_t len = 32 * KiB;
	uint32_t nlb;
	void *mem;
	uint64_t bus;
	int st;

	if (!r || !q || nvmep2p_queue_attach_prp_pool(q, r, 32 * KiB)) {
		CHECK(0, "region, queue and pool for the command tests");
		goto out;
	}
	nlb = (uint32_t)(len >> ns.lba_shift);
	pattern(r->addr, len, 77);
	is_ret(rw(q, nvme_cmd_write, slba, r->bus_addr, len), 0, "write 32 KiB");
	CHECK(blk_matches(slba, len, 77), "  it is on the disk");

	sqe = nvmep2p_queue_get_sqe(q);
	is_ret(nvmep2p_prep_write_zeroes(sqe, 1, slba + nlb / 4, nlb / 2, 0), 0,
	       "prep_write_zeroes");
	nvmep2p_queue_submit(q);
	st = wait_cqe(q, &cqe, NULL) == 1 ? nvmep2p_cqe_status(&cqe) : -1;
	is_ret(st, 0, "Write Zeroes of the middle half succeeds");
	CHECK(blk_matches(slba, len / 4, 77) && blk_is_zero(slba + nlb / 4, len / 2),
	      "  the middle half reads zero, the first quarter is intact");

	sqe = nvmep2p_queue_get_sqe(q);
	nvmep2p_prep_flush(sqe, 1);
	nvmep2p_queue_submit(q);
	st = wait_cqe(q, &cqe, NULL) == 1 ? nvmep2p_cqe_status(&cqe) : -1;
	is_ret(st, 0, "Flush succeeds");

	sqe = nvmep2p_queue_get_sqe(q);
	is_ret(nvmep2p_queue_cmd_mem(q, sqe, &mem, &bus, NULL), 0, "per-command memory");
	nvmep2p_dsm_range_set(mem, slba, nlb);
	is_ret(nvmep2p_prep_dsm(sqe, 1, 1, NVME_DSMGMT_AD, bus, 0), 0, "prep_dsm");
	nvmep2p_queue_submit(q);
	st = wait_cqe(q, &cqe, NULL) == 1 ? nvmep2p_cqe_status(&cqe) : -1;
	is_ret(st, 0, "Dataset Management deallocate succeeds");

	/* Deliberate errors, and their names. */
	st = rw(q, nvme_cmd_read, ns.nsze, r->bus_addr, 4 * KiB);
	CHECK(st == NVME_SC_LBA_RANGE &&
	      !strcmp(nvmep2p_status_str(st), "LBA Out of Range"),
	      "read past the namespace end: %#x \"%s\"", st, nvmep2p_status_str(st));
	st = rw(q, nvme_cmd_read, ns.nsze - 1, r->bus_addr, 2U << ns.lba_shift);
	CHECK(st == NVME_SC_LBA_RANGE,
	      "read across the namespace end: %#x \"%s\"", st, nvmep2p_status_str(st));
	sqe = nvmep2p_queue_get_sqe(q);
	nvmep2p_prep_cmd(sqe, 0x7e, 1, 0, 0, 0, 0, 0, 0);
	nvmep2p_queue_submit(q);
	st = wait_cqe(q, &cqe, NULL) == 1 ? nvmep2p_cqe_status(&cqe) : -1;
	CHECK(st == NVME_SC_INVALID_OPCODE &&
	      !strcmp(nvmep2p_status_str(st), "Invalid Command Opcode"),
	      "opcode 7Eh: %#x \"%s\"", st, nvmep2p_status_str(st));
	sqe = nvmep2p_queue_get_sqe(q);
	nvmep2p_prep_read(sqe, 99, 0, 1, r->bus_addr, 0);
	nvmep2p_queue_submit(q);
	st = wait_cqe(q, &cqe, NULL) == 1 ? nvmep2p_cqe_status(&cqe) : -1;
	CHECK(st == NVME_SC_INVALID_NS || st == NVME_SC_INVALID_FIELD,
	      "nsid 99: %#x \"%s\"", st, nvmep2p_status_str(st));
	st = rw(q, nvme_cmd_read, 0, r->bus_addr, 4 * KiB);
	is_ret(st, 0, "the queue works on after the errors");
out:
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(r);
}

TEST_F(lib, no_cpu_map)
{
	struct nvmep2p_queue *q = make_queue(8, NVME_P2P_SQ_CMB_REQUIRED,
					     NVME_P2P_QUEUE_FLAGS);
	struct nvmep2p_region *r = make_region(8 * KiB, NVME_P2P_REGION_NO_CPU_MAP);
	struct nvmep2p_cqe *cqe, out;

	CHECK(q != NULL, "queue with no CPU mapping of SQ, CQ, doorbells");
	if (q) {
		CHECK(nvmep2p_queue_sq_map(q) && nvmep2p_queue_cq_map(q) &&
		      nvmep2p_queue_db_map(q), "  all three still mapped for importers");
		CHECK(nvmep2p_queue_get_sqe(q) == NULL, "  get_sqe gives nothing");
		is_ret(nvmep2p_queue_peek_cqe(q, &cqe), -EOPNOTSUPP, "  peek_cqe");
		is_ret(nvmep2p_queue_reap(q, &out, NULL, 1), -EOPNOTSUPP, "  reap");
		is_ret(nvmep2p_queue_submit(q), 0, "  submit has nothing to submit");
		CHECK(sigbus_on_touch(nvmep2p_queue_sq_map(q)),
		      "  a CPU store to the SQ mapping raises SIGBUS");
		CHECK(sigbus_on_touch(nvmep2p_queue_db_map(q)),
		      "  a CPU store to the doorbell mapping raises SIGBUS");
		nvmep2p_queue_destroy(q);
	}
	CHECK(r && r->addr == NULL && r->map != NULL,
	      "NO_CPU_MAP region: addr NULL, map set");
	nvmep2p_region_destroy(r);
}

TEST_F(lib, dmabuf)
{
	struct nvmep2p_queue *q = make_queue(8, NVME_P2P_SQ_CMB_REQUIRED, 0);
	struct nvmep2p_region *r = make_region(16 * KiB, 0);
	int fd;

	ASSERT_TRUE(q && r);
	fd = nvmep2p_region_dmabuf(r, 4 * KiB, 8 * KiB);
	if (fd == -ENOTTY) {
		nvmep2p_queue_destroy(q);
		nvmep2p_region_destroy(r);
		SKIP(return, "a kernel of the series before the dma-buf export patch");
	}
	CHECK(fd >= 0, "region_dmabuf of 8 KiB at 4 KiB: a descriptor (%d)", fd);
	if (fd >= 0)
		close(fd);
	is_ret(nvmep2p_region_dmabuf(r, 100, 0), -EINVAL, "region_dmabuf at an unaligned offset");
	is_ret(nvmep2p_region_dmabuf(r, 0, 32 * KiB), -EINVAL, "region_dmabuf beyond the region");
	is_ret(nvmep2p_region_dmabuf(NULL, 0, 0), -EINVAL, "region_dmabuf of NULL");
	fd = nvmep2p_queue_dmabuf(q, NVME_P2P_QUEUE_OFF_SQ);
	CHECK(fd >= 0, "queue_dmabuf of the SQ ring (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = nvmep2p_queue_dmabuf(q, NVME_P2P_QUEUE_OFF_DB);
	CHECK(fd >= 0, "queue_dmabuf of the doorbell page (%d)", fd);
	if (fd >= 0)
		close(fd);
	is_ret(nvmep2p_queue_dmabuf(q, 4096), -EINVAL, "queue_dmabuf of no part");
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(r);
}

static int lost_sum;

static void on_lost(void *data, void *arg)
{
	(void)arg;
	lost_sum += *(int *)data;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -EIO;
}

/* A udmabuf of size bytes of a memfd: its descriptor, or -1. */
static int udmabuf_of(size_t size)
{
	int memfd, fd = udmabuf_new(size, NULL, 0, &memfd);

	if (memfd >= 0)
		close(memfd);
	return fd;
}

/*
 * Rings in dma-bufs: a udmabuf the library maps through the queue (on
 * this controller, across a reset and resync), and a CMB region of this
 * controller for a queue on $SERIAL_DATA, which has no CMB.
 */
TEST_F(lib, dmabuf_rings)
{
	struct nvmep2p_queue_params p = { .depth = 16 };
	struct nvmep2p_ring_mem sq, cq;
	struct nvmep2p_region *r = make_region(64 * KiB, 0), *cmb = make_region(8 * KiB, 0);
	struct nvmep2p_region *dr = NULL;
	struct nvme_p2p_queue_info qi;
	struct nvmep2p_ctrl *data = NULL;
	struct nvmep2p_queue *q = NULL;
	char path[128], dev[80];
	int buf, ret, i;

	ASSERT_TRUE(r && cmb);
	buf = udmabuf_of(8 * KiB);
	ASSERT_LE(0, buf) TH_LOG("udmabuf: %s", strerror(errno));
	sq = (struct nvmep2p_ring_mem){ .dmabuf_fd = buf, .offset = 0 };
	cq = (struct nvmep2p_ring_mem){ .dmabuf_fd = buf, .offset = 4 * KiB };
	ret = nvmep2p_queue_create_dmabuf(ctrl, &p, &sq, &cq, &q);
	if (ret == -EINVAL && !nvmep2p_queue_create_dmabuf(ctrl, &p, NULL, NULL, &q)) {
		nvmep2p_queue_destroy(q);
		close(buf);
		nvmep2p_region_destroy(r);
		nvmep2p_region_destroy(cmb);
		SKIP(return, "a kernel of the series before rings in dma-bufs");
	}
	is_ret(ret, 0, "queue_create_dmabuf: SQ and CQ in a udmabuf");
	ASSERT_EQ(0, ret);
	close(buf);
	CHECK(q->sq && q->cq, "the library mapped both rings through the queue");
	nvmep2p_queue_info(q, &qi);
	CHECK(qi.sq_placement == NVME_P2P_SQ_DMABUF && qi.cq_placement == NVME_P2P_CQ_DMABUF,
	      "queue_info: both rings in a dma-buf");
	pattern(r->addr, 8 * KiB, 7100);
	ret = rw(q, nvme_cmd_write, 0x60000, r->bus_addr, 8 * KiB);
	is_ret(ret, 0, "a write through the udmabuf rings");
	ret = rw(q, nvme_cmd_read, 0x60000, r->bus_addr + 16 * KiB, 8 * KiB);
	CHECK(ret == 0 && matches((char *)r->addr + 16 * KiB, 8 * KiB, 7100) &&
	      blk_matches(0x60000, 8 * KiB, 7100),
	      "read back through the queue and the block device");

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller",
		 nvmep2p_ctrl_name(ctrl));
	is_ret(write_str(path, "1"), 0, "controller reset");
	for (i = 0, ret = -EAGAIN; i < 200 && ret == -EAGAIN; i++) {
		ret = nvmep2p_queue_resync(q, NULL, NULL);
		if (ret == -EAGAIN)
			usleep(50000);
	}
	is_ret(ret, 0, "resync after the reset: the library zeroed the CQ and resumed");
	for (i = 0, ret = 0; i < 40 && ret == 0; i++)
		ret = rw(q, nvme_cmd_read, 0x60000, r->bus_addr + 32 * KiB, 8 * KiB);
	CHECK(ret == 0 && matches((char *)r->addr + 32 * KiB, 8 * KiB, 7100),
	      "40 reads after the resume wrap the rings twice (%d)", ret);
	nvmep2p_queue_destroy(q);
	q = NULL;

	/* A controller without CMB, its rings in this controller's CMB. */
	snprintf(dev, sizeof(dev), "serial:%s", getenv("SERIAL_DATA") ?: "");
	if (nvmep2p_ctrl_open(dev, &data) == 0) {
		buf = nvmep2p_region_dmabuf(cmb, 0, 0);
		sq = (struct nvmep2p_ring_mem){ buf, 0, cmb->addr };
		cq = (struct nvmep2p_ring_mem){ buf, 4 * KiB, (char *)cmb->addr + 4 * KiB };
		ret = nvmep2p_region_create(data, 64 * KiB, NVME_P2P_REGION_HOST, &dr);
		if (!ret)
			ret = nvmep2p_queue_create_dmabuf(data, &p, &sq, &cq, &q);
		is_ret(ret, 0, "queue_create_dmabuf on data0, rings in this controller's CMB");
		close(buf);
		if (!ret) {
			pattern(dr->addr, 8 * KiB, 7200);
			ret = rw(q, nvme_cmd_write, 0x60000, dr->bus_addr, 8 * KiB);
			if (!ret)
				ret = rw(q, nvme_cmd_read, 0x60000, dr->bus_addr + 16 * KiB, 8 * KiB);
			CHECK(ret == 0 && matches((char *)dr->addr + 16 * KiB, 8 * KiB, 7200),
			      "a write and a read on data0 through rings in the CMB (%d)", ret);
		}
		nvmep2p_queue_destroy(q);
		nvmep2p_region_destroy(dr);
		nvmep2p_ctrl_close(data);
	}
	nvmep2p_region_destroy(r);
	nvmep2p_region_destroy(cmb);
}

TEST_F(lib, reset)
{
	struct nvmep2p_region *r = make_region(64 * KiB, 0);
	struct nvmep2p_queue *q = make_queue(4, NVME_P2P_SQ_CMB_REQUIRED, 0);
	struct nvme_p2p_queue_info before, after;
	struct pollfd pfd;
	struct nvmep2p_cqe *cqe;
	char path[128];
	int tags[2] = { 1, 2 }, i, ret, pri, pri_before;
	long long end;

	if (!r || !q) {
		CHECK(0, "region and queue for the reset test");
		goto out;
	}
	/* Wrap the CQ once so that the library expects phase 0. */
	pattern(r->addr, 4 * KiB, 9000);
	for (i = 0; i < 5; i++)
		rw(q, nvme_cmd_write, 0x50000, r->bus_addr, 4 * KiB);
	CHECK(q->cq_phase == 0, "after 5 commands on depth 4, the CQ phase is 0");
	nvmep2p_queue_info(q, &before);
	pfd = (struct pollfd){ .fd = nvmep2p_queue_fd(q), .events = POLLPRI };
	pri_before = poll(&pfd, 1, 0);

	/* Two commands the library will not see complete. */
	for (i = 0; i < 2; i++) {
		struct nvmep2p_sqe *sqe = nvmep2p_queue_get_sqe(q);

		nvmep2p_prep_read(sqe, 1, 0x50000, 8, r->bus_addr + 8 * KiB, 0);
		nvmep2p_sqe_set_data(q, sqe, &tags[i]);
	}
	nvmep2p_queue_submit(q);
	usleep(200000);

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller",
		 nvmep2p_ctrl_name(ctrl));
	is_ret(write_str(path, "1"), 0, "controller reset");
	pri = poll(&pfd, 1, TIMEOUT_MS);
	CHECK(pri_before == 0 && pri == 1 && (pfd.revents & POLLPRI),
	      "poll: no POLLPRI before, POLLPRI after the reset (revents %#x)",
	      pfd.revents);
	for (end = now_ms() + TIMEOUT_MS; now_ms() < end; usleep(50000)) {
		ret = nvmep2p_queue_info(q, &after);
		if (ret || (after.state == NVME_P2P_QUEUE_STOPPED &&
			    after.generation != before.generation))
			break;
	}
	CHECK(after.state == NVME_P2P_QUEUE_STOPPED &&
	      after.generation == before.generation + 1 && after.qid == before.qid,
	      "queue_info: stopped at qid %u, generation %u -> %u",
	      after.qid, before.generation, after.generation);

	lost_sum = 0;
	is_ret(nvmep2p_queue_resync(q, on_lost, NULL), 2,
	       "resync: the 2 commands in flight are lost");
	is_ret(lost_sum, 3, "  the lost callback saw both commands' data");
	nvmep2p_queue_info(q, &after);
	CHECK(after.state == NVME_P2P_QUEUE_LIVE, "  and the queue is resumed (state %u)",
	      after.state);
	is_ret(nvmep2p_queue_inflight(q), 0, "  nothing in flight");
	is_ret(nvmep2p_queue_resync(q, on_lost, NULL), 0, "a second resync changes nothing");
	is_ret(nvmep2p_queue_peek_cqe(q, &cqe), -EAGAIN, "the CQ is empty");

	pattern(r->addr, 8 * KiB, 9100);
	ret = rw(q, nvme_cmd_write, 0x50000, r->bus_addr, 8 * KiB);
	is_ret(ret, 0, "a write on the same queue after the reset");
	ret = rw(q, nvme_cmd_read, 0x50000, r->bus_addr + 16 * KiB, 8 * KiB);
	CHECK(ret == 0 && matches((char *)r->addr + 16 * KiB, 8 * KiB, 9100) &&
	      blk_matches(0x50000, 8 * KiB, 9100),
	      "read back through the queue and the block device");
	for (i = 0; i < 10 && ret == 0; i++)
		ret = rw(q, nvme_cmd_read, 0x50000, r->bus_addr + 16 * KiB, 4 * KiB);
	is_ret(ret, 0, "10 more commands wrap the new rings");
out:
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(r);
}

TEST_F(lib, api_errors)
{
	struct nvmep2p_region *r = (struct nvmep2p_region *)1;
	struct nvmep2p_queue *q = make_queue(8, 0, 0);
	struct nvmep2p_region *small = make_region(4 * KiB, NVME_P2P_REGION_HOST);

	is_ret(nvmep2p_region_create(ctrl, 4096 + 512, 0, &r), -EINVAL, "region 4.5 KiB");
	CHECK(r == NULL, "  leaves *out NULL");
	is_ret(nvmep2p_region_create(ctrl, 0, 0, &r), -EINVAL, "region size 0");
	is_ret(nvmep2p_region_create(ctrl, 4096, 1U << 5, &r), -EINVAL, "region unknown flag");
	is_ret(nvmep2p_region_create(ctrl, 128 * 1024 * KiB, 0, &r), -ENOSPC,
	       "region larger than the CMB");
	is_ret(nvmep2p_region_create(ctrl, NVME_P2P_HOST_REGION_MAX + 4096,
				     NVME_P2P_REGION_HOST, &r), -E2BIG,
	       "host region above NVME_P2P_HOST_REGION_MAX");
	if (q && small) {
		struct nvmep2p_sqe *sqe;

		is_ret(nvmep2p_queue_attach_prp_pool(q, small, 0), -EINVAL,
		       "PRP pool in a region too small");
		sqe = nvmep2p_queue_get_sqe(q);
		nvmep2p_prep_read(sqe, 1, 0, 8, 0, 0);
		is_ret(nvmep2p_queue_set_prps(q, sqe, small->bus_addr, 3 * 4096), -ENOSPC,
		       "a PRP list without a pool");
		is_ret(nvmep2p_queue_set_prps(q, sqe, small->bus_addr + 2, 512), -EINVAL,
		       "a buffer not dword aligned");
		is_ret(nvmep2p_queue_set_prps(q, sqe, small->bus_addr, 0), -EINVAL,
		       "an empty buffer");
		nvmep2p_prep_flush(sqe, 1);
		nvmep2p_queue_submit(q);
		is_ret(nvmep2p_queue_set_prps(q, sqe, small->bus_addr, 512), -EINVAL,
		       "PRPs of a submitted SQE");
	} else {
		CHECK(0, "queue and region for the argument tests");
	}
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(small);
}

TEST_HARNESS_MAIN
