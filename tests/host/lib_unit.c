// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit test of libnvmep2p's pure parts: SQE builders, PRP lists,
 * command identifiers, phase-bit reaping and the doorbells on rings in
 * ordinary memory (this program plays the controller), status names,
 * argument checks. Built with the library's sources to reach its
 * internals (nvmep2p-private.h). Prints TAP.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/util.h>

#include "nvmep2p-private.h"
#include "../tap.h"

#define is_int(got, want, what) do {					\
	long long _g = (long long)(got), _w = (long long)(want);	\
	result(_g == _w, "%s (got %lld, want %lld)", what, _g, _w);	\
} while (0)

#define is_hex(got, want, what) do {					\
	unsigned long long _g = (got), _w = (want);			\
	result(_g == _w, "%s (got 0x%llx, want 0x%llx)", what, _g, _w);	\
} while (0)

#define is_str(got, want, what) do {					\
	const char *_g = (got), *_w = (want);				\
	result(_g && !strcmp(_g, _w), "%s (got \"%s\")", what, _g ? _g : "(null)"); \
} while (0)

static int all_bytes(const void *p, size_t n, unsigned char v)
{
	const unsigned char *c = p;

	while (n--)
		if (*c++ != v)
			return 0;
	return 1;
}

/* ---------------------------------------------------------------------- */

static void test_sqe_layout(void)
{
	struct nvmep2p_sqe sqe;
	unsigned char *b = (unsigned char *)&sqe;

	is_int(sizeof(struct nvmep2p_sqe), 64, "SQE is 64 bytes");
	is_int(sizeof(struct nvmep2p_cqe), 16, "CQE is 16 bytes");
	is_int(sizeof(struct nvme_dsm_range), 16, "DSM range is 16 bytes");

	memset(&sqe, 0xff, sizeof(sqe));
	sqe.cid = htole16(0x1234);
	is_int(nvmep2p_prep_read(&sqe, 7, 0x1122334455ULL, 8, 0xaaaa0000ULL,
				 0xbbbb0000ULL), 0, "prep_read succeeds");
	/* Byte offsets of the NVMe base specification's SQE. */
	is_hex(b[0], 0x02, "byte 0: opcode Read");
	is_hex(b[1], 0, "byte 1: flags zero (PRPs, not fused)");
	is_hex(b[2] | b[3] << 8, 0x1234, "bytes 2-3: CID kept from get_sqe");
	is_hex(b[4], 7, "bytes 4-7: NSID");
	result(all_bytes(b + 8, 16, 0), "bytes 8-23: CDW2, CDW3, MPTR zeroed over old 0xff");
	is_hex(le64toh(*(uint64_t *)(b + 24)), 0xaaaa0000ULL, "bytes 24-31: PRP1");
	is_hex(le64toh(*(uint64_t *)(b + 32)), 0xbbbb0000ULL, "bytes 32-39: PRP2");
	is_hex(le32toh(*(uint32_t *)(b + 40)), 0x22334455, "CDW10: SLBA low");
	is_hex(le32toh(*(uint32_t *)(b + 44)), 0x11, "CDW11: SLBA high");
	is_hex(le32toh(*(uint32_t *)(b + 48)), 7, "CDW12: NLB 0-based (8 blocks -> 7)");
	result(all_bytes(b + 52, 12, 0), "CDW13-15 zeroed");

	nvmep2p_prep_write(&sqe, 1, 0, 1, 0x1000, 0);
	is_hex(sqe.opcode, nvme_cmd_write, "prep_write: opcode 01h");
	is_hex(le32toh(sqe.cdw12), 0, "prep_write: one block is NLB 0");
	is_int(nvmep2p_prep_write(&sqe, 1, 0, NVMEP2P_MAX_NLB, 0x1000, 0), 0,
	       "prep_write: 65536 blocks accepted");
	is_hex(le32toh(sqe.cdw12), 0xffff, "prep_write: 65536 blocks is NLB ffffh");

	memset(&sqe, 0x5a, sizeof(sqe));
	is_int(nvmep2p_prep_read(&sqe, 1, 0, 0, 0x1000, 0), -EINVAL,
	       "prep_read: 0 blocks is EINVAL");
	is_int(nvmep2p_prep_write(&sqe, 1, 0, NVMEP2P_MAX_NLB + 1, 0x1000, 0),
	       -EINVAL, "prep_write: 65537 blocks is EINVAL");
	is_int(nvmep2p_prep_rw(&sqe, nvme_cmd_write, 1, 0, 1, 0x3, 0x1000, 0),
	       -EINVAL, "prep_rw: flags in the NLB bits is EINVAL");
	result(all_bytes(&sqe, sizeof(sqe), 0x5a), "a refused prep leaves the SQE alone");

	nvmep2p_prep_rw(&sqe, nvme_cmd_write, 1, 5, 2, NVMEP2P_IO_FLAGS(NVME_IO_FUA), 0x2000, 0);
	is_hex(le32toh(sqe.cdw12), (1U << 30) | 1, "prep_rw: FUA with NLB");

	memset(&sqe, 0xff, sizeof(sqe));
	sqe.cid = htole16(9);
	nvmep2p_prep_flush(&sqe, 3);
	result(sqe.opcode == nvme_cmd_flush && le32toh(sqe.nsid) == 3 &&
	       le16toh(sqe.cid) == 9 && all_bytes(b + 8, 56, 0),
	       "prep_flush: opcode 00h, NSID, CID kept, everything else zero");

	memset(&sqe, 0xff, sizeof(sqe));
	is_int(nvmep2p_prep_write_zeroes(&sqe, 2, 100, 16, NVMEP2P_IO_FLAGS(NVME_IO_DEAC)), 0,
	       "prep_write_zeroes succeeds");
	result(sqe.opcode == nvme_cmd_write_zeroes && sqe.prp1 == 0 &&
	       sqe.prp2 == 0 && le32toh(sqe.cdw10) == 100 &&
	       le32toh(sqe.cdw12) == ((1U << 25) | 15),
	       "prep_write_zeroes: opcode 08h, no data pointer, DEAC, NLB 15");

	memset(&sqe, 0xff, sizeof(sqe));
	is_int(nvmep2p_prep_dsm(&sqe, 1, 3, NVME_DSMGMT_AD, 0x7000010, 0), 0,
	       "prep_dsm succeeds");
	result(sqe.opcode == nvme_cmd_dsm && le32toh(sqe.cdw10) == 2 &&
	       le32toh(sqe.cdw11) == 4 && le64toh(sqe.prp1) == 0x7000010 &&
	       sqe.cdw12 == 0, "prep_dsm: opcode 09h, NR 0-based, AD, ranges in PRP1");
	is_int(nvmep2p_prep_dsm(&sqe, 1, 0, NVME_DSMGMT_AD, 0x1000, 0), -EINVAL,
	       "prep_dsm: 0 ranges is EINVAL");
	is_int(nvmep2p_prep_dsm(&sqe, 1, 257, NVME_DSMGMT_AD, 0x1000, 0), -EINVAL,
	       "prep_dsm: 257 ranges is EINVAL");
	is_int(nvmep2p_prep_dsm(&sqe, 1, 1, NVME_DSMGMT_AD, 0x1008, 0), -EINVAL,
	       "prep_dsm: ranges not 16-byte aligned is EINVAL");
	is_int(nvmep2p_prep_dsm(&sqe, 1, 1, 8, 0x1000, 0), -EINVAL,
	       "prep_dsm: unknown attribute is EINVAL");
	{
		struct nvme_dsm_range r;
		unsigned char *rb = (unsigned char *)&r;

		memset(&r, 0xff, sizeof(r));
		nvmep2p_dsm_range_set(&r, 0x0102030405ULL, 0x800);
		result(all_bytes(rb, 4, 0) && le32toh(*(uint32_t *)(rb + 4)) == 0x800 &&
		       le64toh(*(uint64_t *)(rb + 8)) == 0x0102030405ULL,
		       "dsm_range_set: attributes 0, length, SLBA at bytes 0/4/8");
	}
}

/* ---------------------------------------------------------------------- */

#define LIST_BUS 0x90000000ULL

static void test_prp(void)
{
	static uint64_t mem[2048] __attribute__((aligned(4096)));
	struct nvmep2p_prp_list list = { mem, LIST_BUS, sizeof(mem) };
	uint64_t p1 = 1, p2 = 1;
	int ok, i;

	is_int(nvmep2p_prp_fill(0x10000, 4096, 0, NULL, &p1, &p2), 0, "PRP: one page");
	result(p1 == 0x10000 && p2 == 0, "PRP: one page: PRP1 only");
	nvmep2p_prp_fill(0x10804, 100, 0, NULL, &p1, &p2);
	result(p1 == 0x10804 && p2 == 0, "PRP: within a page at an offset: PRP1 only");
	nvmep2p_prp_fill(0x10000, 8192, 0, NULL, &p1, &p2);
	result(p1 == 0x10000 && p2 == 0x11000, "PRP: two pages: PRP2 is the second page");
	nvmep2p_prp_fill(0x10800, 4096, 0, NULL, &p1, &p2);
	result(p1 == 0x10800 && p2 == 0x11000, "PRP: 4 KiB across a boundary: two pages");

	p1 = p2 = 1;
	is_int(nvmep2p_prp_fill(0x10000, 12288, 0, NULL, &p1, &p2), -ENOSPC,
	       "PRP: three pages without list memory is ENOSPC");
	result(p1 == 1 && p2 == 1, "PRP: a refused fill leaves PRP1/PRP2 alone");
	memset(mem, 0xff, sizeof(mem));
	is_int(nvmep2p_prp_fill(0x10000, 12288, 0, &list, &p1, &p2), 0,
	       "PRP: three pages with a list");
	result(p1 == 0x10000 && p2 == LIST_BUS && le64toh(mem[0]) == 0x11000 &&
	       le64toh(mem[1]) == 0x12000 && mem[2] == ~0ULL,
	       "PRP: list holds pages 2 and 3, nothing more");

	is_int(nvmep2p_prp_fill(0x200000, 512 << 10, 512 << 10, &list, &p1, &p2),
	       0, "PRP: 512 KiB aligned at max_transfer");
	for (ok = 1, i = 0; i < 127; i++)
		ok &= le64toh(mem[i]) == 0x201000ULL + i * 4096ULL;
	result(ok, "PRP: 512 KiB aligned: 127 list entries, consecutive pages");
	is_int(nvmep2p_prp_fill(0x200004, 512 << 10, 512 << 10, &list, &p1, &p2),
	       0, "PRP: 512 KiB at offset 4");
	for (ok = 1, i = 0; i < 128; i++)
		ok &= le64toh(mem[i]) == 0x201000ULL + i * 4096ULL;
	result(ok && p1 == 0x200004, "PRP: 512 KiB unaligned: 128 entries");
	is_int(nvmep2p_prp_fill(0x200000, (512 << 10) + 4096, 512 << 10, &list,
				&p1, &p2), -EINVAL, "PRP: above max_transfer is EINVAL");

	/* A list that starts two slots before a 4 KiB boundary. */
	{
		struct nvmep2p_prp_list edge = {
			(char *)mem + 4096 - 16, LIST_BUS + 4096 - 16, 4096,
		};
		uint64_t *e = edge.addr;

		memset(mem, 0, sizeof(mem));
		is_int(nvmep2p_prp_fill(0x400000, 6 * 4096, 0, &edge, &p1, &p2), 0,
		       "PRP: list across a list page boundary");
		result(p2 == edge.bus_addr && le64toh(e[0]) == 0x401000 &&
		       le64toh(e[1]) == LIST_BUS + 4096 &&
		       le64toh(e[2]) == 0x402000 && le64toh(e[5]) == 0x405000,
		       "PRP: last slot of the list page chains to the next page");
		memset(mem, 0, sizeof(mem));
		nvmep2p_prp_fill(0x400000, 3 * 4096, 0, &edge, &p1, &p2);
		result(le64toh(e[0]) == 0x401000 && le64toh(e[1]) == 0x402000 &&
		       e[2] == 0, "PRP: the last slot holds the final entry itself (no chain)");
		is_int(nvmep2p__prp_list_slots(LIST_BUS + 4096 - 8, 2), 3,
		       "PRP: two entries from the last slot need a chain: 3 slots");
		edge.size = 5 * 8;
		is_int(nvmep2p_prp_fill(0x400000, 6 * 4096, 0, &edge, &p1, &p2),
		       -ENOSPC, "PRP: list memory one slot short is ENOSPC");
	}
	is_int(nvmep2p_prp_list_bytes(512 << 10), 1024, "PRP: 512 KiB needs 1 KiB of list");
	is_int(nvmep2p_prp_list_bytes(4 << 20), 8 * 1026,
	       "PRP: 4 MiB needs 1024 entries and 2 chain slots");

	is_int(nvmep2p_prp_fill(0x10002, 512, 0, NULL, &p1, &p2), -EINVAL,
	       "PRP: buffer not dword aligned is EINVAL");
	is_int(nvmep2p_prp_fill(0x10000, 0, 0, NULL, &p1, &p2), -EINVAL,
	       "PRP: zero length is EINVAL");
	is_int(nvmep2p_prp_fill(~0ULL - 3, 4096, 0, NULL, &p1, &p2), -EINVAL,
	       "PRP: buffer wrapping the address space is EINVAL");
	is_int(nvmep2p_prp_fill(0x10000, 512, 0, NULL, NULL, &p2), -EINVAL,
	       "PRP: NULL output is EINVAL");
	list.bus_addr = LIST_BUS + 4;
	is_int(nvmep2p_prp_fill(0x10000, 4 * 4096, 0, &list, &p1, &p2), -EINVAL,
	       "PRP: list not 8-byte aligned is EINVAL");
}

/* ---------------------------------------------------------------------- */
/* A queue on plain memory; the test is the controller.                    */
/* ---------------------------------------------------------------------- */

#define QID 5
#define DB_UNTOUCHED 0xdeadbeefU

struct fake {
	struct nvmep2p_sqe *sq;
	struct nvmep2p_cqe *cq;
	volatile uint32_t sq_db, cq_db;
	uint32_t depth;
	uint32_t sq_head;	/* controller: next SQE to fetch */
	uint32_t cq_tail;	/* controller: next CQE to post */
	uint8_t phase;		/* controller: phase tag it writes */
	struct nvmep2p_queue *q;
};

static int fake_init(struct fake *f, uint32_t depth, size_t max_transfer)
{
	memset(f, 0, sizeof(*f));
	f->depth = depth;
	f->sq = calloc(depth, sizeof(*f->sq));
	f->cq = calloc(depth, sizeof(*f->cq));
	f->sq_db = f->cq_db = DB_UNTOUCHED;
	f->phase = 1;
	return nvmep2p__queue_init_mem(depth, QID, f->sq, f->cq, &f->sq_db,
				       &f->cq_db, max_transfer, &f->q);
}

static void fake_free(struct fake *f)
{
	nvmep2p_queue_destroy(f->q);
	free(f->sq);
	free(f->cq);
}

/* Fetch the next SQE the doorbell made visible; its CID, or -1. */
static int fake_fetch(struct fake *f)
{
	int cid;

	if (f->sq_db == DB_UNTOUCHED || f->sq_head == le32toh(f->sq_db))
		return -1;
	cid = le16toh(f->sq[f->sq_head].cid);
	f->sq_head = (f->sq_head + 1) % f->depth;
	return cid;
}

/* Post a completion (as a controller would: everything, then phase). */
static void fake_complete(struct fake *f, uint16_t cid, uint16_t status,
			  uint16_t sq_head_reported, uint16_t sqid)
{
	struct nvmep2p_cqe *e = &f->cq[f->cq_tail];

	e->result = htole32(0x1000 + cid);
	e->sq_head = htole16(sq_head_reported);
	e->sq_id = htole16(sqid);
	e->cid = htole16(cid);
	e->status = htole16((uint16_t)(status << 1 | f->phase));
	if (++f->cq_tail == f->depth) {
		f->cq_tail = 0;
		f->phase ^= 1;
	}
}

static void test_queue_basics(void)
{
	struct nvmep2p_sqe *sqe[8];
	struct nvmep2p_cqe *cqe, out[8];
	void *data[8];
	int tags[8], i, ret, seen_cids = 0, distinct = 1;
	struct fake f;

	is_int(fake_init(&f, 8, 512 << 10), 0, "fake queue of depth 8");
	is_int(nvmep2p_queue_qid(f.q), QID, "qid accessor");
	is_int(nvmep2p_queue_depth(f.q), 8, "depth accessor");
	is_int(nvmep2p_queue_inflight(f.q), 0, "nothing in flight");
	is_int(nvmep2p_queue_peek_cqe(f.q, &cqe), -EAGAIN, "peek on an empty CQ is EAGAIN");
	is_hex(f.cq_db, DB_UNTOUCHED, "empty peek with nothing consumed rings no doorbell");
	is_int(nvmep2p_queue_submit(f.q), 0, "submit with nothing to submit is 0");
	is_hex(f.sq_db, DB_UNTOUCHED, "and writes no doorbell");

	for (i = 0; i < 7; i++) {
		sqe[i] = nvmep2p_queue_get_sqe(f.q);
		if (!sqe[i])
			break;
		tags[i] = i;
		nvmep2p_prep_read(sqe[i], 1, i, 1, 0x1000, 0);
		nvmep2p_sqe_set_data(f.q, sqe[i], &tags[i]);
		seen_cids |= 1 << nvmep2p_sqe_cid(f.q, sqe[i]);
	}
	is_int(i, 7, "get_sqe hands out depth - 1 entries");
	result(sqe[0] == &f.sq[0] && sqe[6] == &f.sq[6], "in ring order from slot 0");
	for (i = 0; i < 7; i++)
		distinct &= le16toh(sqe[i]->cid) == nvmep2p_sqe_cid(f.q, sqe[i]);
	result(distinct && seen_cids == 0x7f,
	       "the CIDs in the SQEs are 0-6, each once, as sqe_cid says");
	result(nvmep2p_queue_get_sqe(f.q) == NULL, "a full queue gives no SQE");
	is_int(nvmep2p_queue_inflight(f.q), 7, "7 in flight");
	is_hex(f.sq_db, DB_UNTOUCHED, "no doorbell before submit");
	is_int(nvmep2p_queue_submit(f.q), 7, "submit reports 7");
	is_hex(le32toh(f.sq_db), 7, "SQ tail doorbell is 7");

	/* The controller fetches all, completes 2, 0, 5 (out of order). */
	while (fake_fetch(&f) >= 0)
		;
	fake_complete(&f, le16toh(sqe[2]->cid), 0, 7, QID);
	fake_complete(&f, le16toh(sqe[0]->cid), NVME_SC_LBA_RANGE, 7, QID);
	fake_complete(&f, le16toh(sqe[5]->cid), 0, 7, QID);

	ret = nvmep2p_queue_peek_cqe(f.q, &cqe);
	result(ret == 0 && cqe == &f.cq[0], "peek finds the first posted CQE in place");
	result(nvmep2p_cqe_get_data(f.q, cqe) == &tags[2], "its data is command 2's");
	is_int(nvmep2p_cqe_status(cqe), 0, "status success");
	nvmep2p_queue_cqe_seen(f.q, cqe);
	is_int(nvmep2p_queue_inflight(f.q), 6, "seen frees one command");
	ret = nvmep2p_queue_peek_cqe(f.q, &cqe);
	result(ret == 0 && nvmep2p_cqe_get_data(f.q, cqe) == &tags[0],
	       "next CQE is command 0's");
	is_hex(nvmep2p_cqe_status(cqe), NVME_SC_LBA_RANGE, "its status is 080h");
	is_str(nvmep2p_status_str(nvmep2p_cqe_status(cqe)), "LBA Out of Range",
	       "named LBA Out of Range");
	nvmep2p_queue_cqe_seen(f.q, cqe);
	is_hex(f.cq_db, DB_UNTOUCHED, "CQ head doorbell batched: not yet written");
	nvmep2p_queue_ring_cq(f.q);
	is_hex(le32toh(f.cq_db), 2, "ring_cq writes head 2");
	f.cq_db = DB_UNTOUCHED;
	nvmep2p_queue_ring_cq(f.q);
	is_hex(f.cq_db, DB_UNTOUCHED, "ring_cq with nothing new writes nothing");

	ret = nvmep2p_queue_reap(f.q, out, data, 8);
	is_int(ret, 1, "reap gets the remaining CQE");
	result(data[0] == &tags[5] && le32toh(out[0].result) == 0x1000u + le16toh(out[0].cid),
	       "reap copies the CQE and its command's data");
	is_hex(le32toh(f.cq_db), 3, "reap rings the CQ head (3)");
	is_int(nvmep2p_queue_reap(f.q, out, data, 8), 0, "reap on an empty CQ is 0");

	/* Consumed but not rung: the next empty peek rings it. */
	fake_complete(&f, le16toh(sqe[1]->cid), 0, 7, QID);
	nvmep2p_queue_peek_cqe(f.q, &cqe);
	nvmep2p_queue_cqe_seen(f.q, cqe);
	f.cq_db = DB_UNTOUCHED;
	is_int(nvmep2p_queue_peek_cqe(f.q, &cqe), -EAGAIN, "CQ empty again");
	is_hex(le32toh(f.cq_db), 4, "the empty peek wrote the pending CQ head (4)");

	/* SQ head from CQEs: slots are free only once the controller says so. */
	is_int(nvmep2p_queue_inflight(f.q), 3, "3 in flight");
	sqe[0] = nvmep2p_queue_get_sqe(f.q);
	result(sqe[0] == &f.sq[7], "free CIDs and SQ head 7: slot 7 is handed out");
	is_int(nvmep2p_queue_submit(f.q), 1, "submit 1");
	is_hex(le32toh(f.sq_db), 0, "SQ tail doorbell wraps to 0");
	fake_fetch(&f);
	/* A completion reporting an old SQ head (1): the SQ looks full. */
	fake_complete(&f, le16toh(f.sq[3].cid), 0, 1, QID);
	nvmep2p_queue_reap(f.q, out, NULL, 8);
	is_int(nvmep2p_queue_inflight(f.q), 3, "3 in flight, free CIDs left");
	result(nvmep2p_queue_get_sqe(f.q) == NULL,
	       "no SQE while the reported SQ head leaves no free slot");
	fake_complete(&f, le16toh(f.sq[4].cid), 0, 0, QID);
	nvmep2p_queue_reap(f.q, out, NULL, 8);
	result(nvmep2p_queue_get_sqe(f.q) == &f.sq[0],
	       "SQ head 0 (all fetched) frees the ring again");

	/* A CQE naming a command not in flight is counted, not trusted. */
	nvmep2p_queue_submit(f.q);
	fake_fetch(&f);
	for (i = 0; f.q->cid_busy[i]; i++)
		;
	fake_complete(&f, (uint16_t)i, 0, 1, QID);	/* a CID not in flight */
	i = nvmep2p_queue_inflight(f.q);
	nvmep2p_queue_peek_cqe(f.q, &cqe);
	result(nvmep2p_cqe_get_data(f.q, cqe) == NULL, "a stray CQE has no data");
	nvmep2p_queue_cqe_seen(f.q, cqe);
	result(f.q->spurious == 1 && (int)nvmep2p_queue_inflight(f.q) == i,
	       "a stray CQE is counted spurious and frees nothing");
	fake_complete(&f, 1000, 0, 1, QID);
	nvmep2p_queue_reap(f.q, out, NULL, 8);
	is_int(f.q->spurious, 2, "a CID beyond the depth is spurious too");

	/* An entry of another queue at the head: the rings were re-created. */
	fake_complete(&f, 0, 0, 1, 0);
	is_int(nvmep2p_queue_peek_cqe(f.q, &cqe), -ESTALE,
	       "a CQE with another SQ ID is ESTALE");
	is_int(nvmep2p_queue_reap(f.q, out, NULL, 8), -ESTALE, "reap reports ESTALE too");

	is_int(nvmep2p_queue_reap(NULL, out, NULL, 1), -EINVAL, "reap NULL queue is EINVAL");
	is_int(nvmep2p_queue_reap(f.q, NULL, NULL, 1), -EINVAL, "reap NULL array is EINVAL");
	is_int(nvmep2p_queue_reap(f.q, out, NULL, 0), 0, "reap max 0 is 0");
	fake_free(&f);
}

static void count_lost(void *data, void *arg)
{
	int *sum = arg;

	*sum += *(int *)data;
}

/* Many commands through a small ring, completed in a shuffled order. */
/*
 * Reap up to max completions by one of the four paths, picked at random:
 * reap(), poll(), poll_one() until empty, peek + seen + ring_cq. Each keeps
 * the ring state (head, phase, cq_match, CIDs) for the next, whichever.
 */
static int reap_any(struct nvmep2p_queue *q, struct nvmep2p_cqe *out,
		    void **data, unsigned int max, unsigned int *paths)
{
	struct nvmep2p_cmpl c[4];
	struct nvmep2p_cqe *cqe;
	int n = 0, i, path = rand() % 4;

	paths[path]++;
	switch (path) {
	case 0:
		return nvmep2p_queue_reap(q, out, data, max);
	case 1:
		n = nvmep2p_queue_poll(q, c, max);
		break;
	case 2:
		while ((unsigned int)n < max && nvmep2p_queue_poll_one(q, &c[n]) == 1)
			n++;
		break;
	default:
		while ((unsigned int)n < max && !nvmep2p_queue_peek_cqe(q, &cqe)) {
			c[n].data = nvmep2p_cqe_get_data(q, cqe);
			c[n].cid = le16toh(cqe->cid);
			nvmep2p_queue_cqe_seen(q, cqe);
			n++;
		}
		nvmep2p_queue_ring_cq(q);
		break;
	}
	for (i = 0; i < n; i++) {
		out[i].cid = htole16(c[i].cid);
		data[i] = c[i].data;
	}
	return n;
}

static void test_queue_stress(void)
{
	enum { DEPTH = 5, TOTAL = 20000 };
	int tags[TOTAL], done[TOTAL] = { 0 }, busy[65536] = { 0 };
	unsigned int submitted = 0, completed = 0, wraps = 0, dup_cid = 0;
	unsigned int bad_data = 0, max_inflight = 0, bad_db = 0;
	int pending[DEPTH * 2], nr_pending = 0, sum = 0, i;
	unsigned int paths[4] = { 0 };
	uint8_t last_phase = 1;
	struct nvmep2p_cqe out[4];
	void *data[4];
	struct fake f;

	srand(1);
	fake_init(&f, DEPTH, 0);
	while (completed < TOTAL) {
		struct nvmep2p_sqe *sqe;
		int n, cid;

		while (submitted < TOTAL && (rand() % 3) &&
		       (sqe = nvmep2p_queue_get_sqe(f.q))) {
			cid = nvmep2p_sqe_cid(f.q, sqe);
			dup_cid += busy[cid]++ != 0;
			tags[submitted] = (int)submitted;
			nvmep2p_prep_write(sqe, 1, submitted, 1, 0x1000, 0);
			nvmep2p_sqe_set_data(f.q, sqe, &tags[submitted]);
			submitted++;
		}
		if (nvmep2p_queue_inflight(f.q) > max_inflight)
			max_inflight = nvmep2p_queue_inflight(f.q);
		nvmep2p_queue_submit(f.q);
		while ((cid = fake_fetch(&f)) >= 0)
			pending[nr_pending++] = cid;
		/* Complete a random subset in random order. */
		for (n = rand() % (nr_pending + 1); n > 0; n--) {
			int k = rand() % nr_pending;

			fake_complete(&f, (uint16_t)pending[k], 0,
				      (uint16_t)f.sq_head, QID);
			pending[k] = pending[--nr_pending];
		}
		n = reap_any(f.q, out, data, 1 + rand() % 4, paths);
		for (i = 0; i < n; i++) {
			int t = data[i] ? *(int *)data[i] : -1;

			if (t < 0 || done[t]++)
				bad_data++;
			busy[le16toh(out[i].cid)]--;	/* reusable once reaped */
			completed++;
		}
		if (f.q->cq_phase != last_phase) {
			wraps++;
			last_phase = f.q->cq_phase;
		}
		if (f.cq_db != DB_UNTOUCHED && le32toh(f.cq_db) >= DEPTH)
			bad_db++;
		if (submitted == TOTAL && !nr_pending && !n &&
		    nvmep2p_queue_inflight(f.q) == 0)
			break;
	}
	is_int(completed, TOTAL, "stress: every command completed once");
	is_int(bad_data, 0, "stress: every CQE carried its own command's data");
	is_int(dup_cid, 0, "stress: no CID handed out while in flight");
	is_int(max_inflight, DEPTH - 1, "stress: at most depth - 1 in flight (and reached)");
	result(wraps > 1000, "stress: the phase flipped at each wrap (%u wraps)", wraps);
	is_int(bad_db, 0, "stress: CQ head doorbell values stay below the depth");
	is_int(f.q->spurious, 0, "stress: no spurious CQE");
	result(paths[0] > 1000 && paths[1] > 1000 && paths[2] > 1000 && paths[3] > 1000,
	       "stress: reap, poll, poll_one and peek took turns (%u, %u, %u, %u calls)",
	       paths[0], paths[1], paths[2], paths[3]);
	result(f.q->cq_match == ((uint64_t)QID << 16 | (uint64_t)f.q->cq_phase << 48),
	       "stress: cq_match is the SQ ID and the current phase");

	/* Reset with commands in flight: lost ones are reported with data. */
	for (i = 0; i < 3; i++) {
		struct nvmep2p_sqe *sqe = nvmep2p_queue_get_sqe(f.q);

		tags[i] = 10 + i;
		nvmep2p_prep_flush(sqe, 1);
		nvmep2p_sqe_set_data(f.q, sqe, &tags[i]);
	}
	nvmep2p_queue_submit(f.q);
	is_int(nvmep2p__queue_reset_rings(f.q, count_lost, &sum), 3,
	       "reset: 3 commands lost");
	is_int(sum, 10 + 11 + 12, "reset: the lost callback saw each one's data");
	result(nvmep2p_queue_inflight(f.q) == 0 && f.q->cq_phase == 1 &&
	       f.q->sq_tail == 0 && f.q->cq_head == 0 && f.q->cq_head_rung == 0,
	       "reset: empty rings, phase 1, heads and tails 0");
	memset(f.cq, 0, DEPTH * sizeof(*f.cq));
	f.sq_head = f.cq_tail = 0;
	f.phase = 1;
	f.sq_db = DB_UNTOUCHED;
	result(nvmep2p_queue_get_sqe(f.q) == &f.sq[0], "reset: get_sqe starts at slot 0");
	nvmep2p_prep_flush(&f.sq[0], 1);
	nvmep2p_queue_submit(f.q);
	fake_complete(&f, (uint16_t)fake_fetch(&f), 0, 1, QID);
	is_int(nvmep2p_queue_reap(f.q, out, NULL, 4), 1, "reset: the queue works again");
	fake_free(&f);
}

static void test_no_cpu_map(void)
{
	struct nvmep2p_sqe sq[4];
	struct nvmep2p_cqe cq[4] = { { 0 } }, *cqe, out;
	struct nvmep2p_queue *q;
	volatile uint32_t db[2];

	nvmep2p__queue_init_mem(4, 1, NULL, cq, &db[0], &db[1], 0, &q);
	result(nvmep2p_queue_get_sqe(q) == NULL, "SQ without CPU mapping: no SQE");
	nvmep2p_queue_destroy(q);
	nvmep2p__queue_init_mem(4, 1, sq, cq, NULL, NULL, 0, &q);
	result(nvmep2p_queue_get_sqe(q) == NULL, "doorbells without CPU mapping: no SQE");
	{
		/* A peer submitted (CID 0 is not the library's): the CPU still
		 * reaps, and the CQ head goes to the library's own word. */
		struct nvmep2p_cmpl c;

		cq[0].sq_id = htole16(1);
		cq[0].status = htole16(1);
		is_int(nvmep2p_queue_poll_one(q, &c), 0,
		       "doorbells without CPU mapping: poll_one consumes the entry");
		result(q->cq_head == 1 && q->spurious == 1 &&
		       q->cq_db != NULL && *q->cq_db == htole32(1),
		       "and rings a word of the library's, not NULL");
	}
	nvmep2p_queue_destroy(q);
	nvmep2p__queue_init_mem(4, 1, sq, NULL, &db[0], &db[1], 0, &q);
	is_int(nvmep2p_queue_peek_cqe(q, &cqe), -EOPNOTSUPP,
	       "CQ without CPU mapping: peek is EOPNOTSUPP");
	is_int(nvmep2p_queue_reap(q, &out, NULL, 1), -EOPNOTSUPP,
	       "CQ without CPU mapping: reap is EOPNOTSUPP");
	nvmep2p_queue_destroy(q);
	is_int(nvmep2p__queue_init_mem(1, 1, sq, cq, &db[0], &db[1], 0, &q), -EINVAL,
	       "depth 1 is EINVAL");
	is_int(nvmep2p__queue_init_mem(65537, 1, sq, cq, &db[0], &db[1], 0, &q),
	       -EINVAL, "depth 65537 is EINVAL");
}

static void test_prp_pool(void)
{
	static uint8_t mem[8 * 4096] __attribute__((aligned(4096)));
	struct nvmep2p_region r = {
		.fd = -1, .addr = mem, .map = mem, .size = sizeof(mem),
		.bus_addr = 0xc0000000ULL, .flags = NVME_P2P_REGION_HOST,
	};
	struct nvmep2p_sqe *a, *b, stray;
	void *cpu;
	uint64_t bus;
	size_t size;
	struct fake f;
	unsigned int cid;

	fake_init(&f, 8, 512 << 10);
	is_int(nvmep2p_queue_prp_pool_bytes(f.q), 7 * 1024,
	       "pool: 1 KiB per command for 512 KiB transfers, depth - 1 commands");
	a = nvmep2p_queue_get_sqe(f.q);
	nvmep2p_prep_read(a, 1, 0, 8, 0, 0);
	is_int(nvmep2p_queue_set_prps(f.q, a, 0x100000, 3 * 4096), -ENOSPC,
	       "pool: a list without a pool is ENOSPC");
	is_int(nvmep2p_queue_set_prps(f.q, a, 0x100000, 2 * 4096), 0,
	       "pool: two pages need no pool");
	result(le64toh(a->prp1) == 0x100000 && le64toh(a->prp2) == 0x101000,
	       "pool: PRP1/PRP2 written into the SQE");
	is_int(nvmep2p_queue_attach_prp_pool(f.q, &r, 0), -EBUSY,
	       "pool: attach with commands in flight is EBUSY");
	nvmep2p__queue_reset_rings(f.q, NULL, NULL);
	is_int(nvmep2p_queue_attach_prp_pool(f.q, &r, 100), -EINVAL,
	       "pool: unaligned offset is EINVAL");
	is_int(nvmep2p_queue_attach_prp_pool(f.q, &r, 7 * 4096), -EINVAL,
	       "pool: not enough room after the offset is EINVAL");
	r.addr = NULL;
	is_int(nvmep2p_queue_attach_prp_pool(f.q, &r, 0), -EINVAL,
	       "pool: a region without CPU mapping is EINVAL");
	r.addr = mem;
	is_int(nvmep2p_queue_attach_prp_pool(f.q, &r, 4096), 0, "pool: attach");

	a = nvmep2p_queue_get_sqe(f.q);
	b = nvmep2p_queue_get_sqe(f.q);
	nvmep2p_prep_write(b, 1, 0, 128, 0, 0);
	is_int(nvmep2p_queue_set_prps(f.q, b, 0x200000, 512 << 10), 0,
	       "pool: 512 KiB on the second command");
	cid = nvmep2p_sqe_cid(f.q, b);
	result(le64toh(b->prp2) == 0xc0000000ULL + 4096 + cid * 1024 &&
	       le64toh(*(uint64_t *)(mem + 4096 + cid * 1024)) == 0x201000 &&
	       le64toh(*(uint64_t *)(mem + 4096 + cid * 1024 + 126 * 8)) == 0x27f000,
	       "pool: the list is in this command's slot (CID %u)", cid);
	is_int(nvmep2p_queue_cmd_mem(f.q, a, &cpu, &bus, &size), 0, "pool: cmd_mem");
	cid = nvmep2p_sqe_cid(f.q, a);
	result(cpu == mem + 4096 + cid * 1024 && bus == 0xc0000000ULL + 4096 + cid * 1024 &&
	       size == 1024, "pool: cmd_mem gives the command's slot");
	is_int(nvmep2p_queue_set_prps(f.q, b, 0x200000, (512 << 10) + 4096), -EINVAL,
	       "pool: above the queue's max_transfer is EINVAL");
	is_int(nvmep2p_queue_set_prps(f.q, &stray, 0x200000, 4096), -EINVAL,
	       "pool: an SQE not of this ring is EINVAL");
	is_int(nvmep2p_queue_cmd_mem(f.q, &f.sq[5], &cpu, &bus, &size), -EINVAL,
	       "pool: cmd_mem of a slot not handed out is EINVAL");
	is_int(nvmep2p_queue_set_prps(NULL, b, 0x200000, 4096), -EINVAL,
	       "pool: NULL queue is EINVAL");
	fake_free(&f);
}

/* ---------------------------------------------------------------------- */

/* libnvme's name of a status: its string up to ": ", NULL if unnamed. */
static int libnvme_names(int status, const char *name)
{
	const char *s = nvme_status_to_string(status, false);
	size_t n = strlen(name);

	return !strncmp(s, name, n) && (s[n] == 0 || !strncmp(s + n, ": ", 2));
}

static void test_status(void)
{
	int s, named = 0, vendor = 0, as_libnvme = 0;

	is_str(nvmep2p_status_str(0), "Successful Completion", "status 000h");
	is_str(nvmep2p_status_str(0x001), "Invalid Command Opcode", "status 001h");
	is_str(nvmep2p_status_str(0x002), "Invalid Field in Command", "status 002h");
	is_str(nvmep2p_status_str(0x004), "Data Transfer Error", "status 004h");
	is_str(nvmep2p_status_str(0x00b), "Invalid Namespace or Format", "status 00Bh");
	is_str(nvmep2p_status_str(0x080), "LBA Out of Range", "status 080h");
	is_str(nvmep2p_status_str(0x101), "Invalid Queue Identifier", "status 101h (command specific)");
	is_str(nvmep2p_status_str(0x182), "Attempted Write to Read Only Range", "status 182h");
	is_str(nvmep2p_status_str(0x281), "Unrecovered Read Error", "status 281h (media)");
	is_str(nvmep2p_status_str(0x371), "Command Aborted By Host", "status 371h (path)");
	is_str(nvmep2p_status_str(0x7c3), "Vendor Specific Status", "status 7C3h");
	is_str(nvmep2p_status_str(0x017), "Unknown Status", "reserved 017h");
	is_str(nvmep2p_status_str(-5), "Unknown Status", "negative");
	is_str(nvmep2p_status_str(0x800), "Unknown Status", "beyond 11 bits");
	for (s = 0; s <= 0x7ff; s++) {
		const char *n = nvmep2p_status_str(s);

		if (!strcmp(n, "Vendor Specific Status"))
			vendor++;
		else if (strcmp(n, "Unknown Status"))
			named++;
		if (strcmp(n, "Unknown Status") && libnvme_names(s, n))
			as_libnvme++;
	}
	/* Every name is libnvme's, cut at its explanation. */
	is_int(as_libnvme, named + vendor, "every status name is libnvme's, without explanation");
	is_int(vendor, 256, "SCT 7 is vendor specific");
	{
		struct nvmep2p_cqe c = { .status = htole16(1 | 0x80 << 1 | 1u << 15) };

		is_hex(nvmep2p_cqe_status(&c), 0x080, "cqe_status drops phase and DNR");
		is_int(nvmep2p_cqe_dnr(&c), 1, "cqe_dnr");
		c.status = htole16(1 | 2 << 9 | 0x81 << 1);
		is_hex(nvmep2p_cqe_status(&c), 0x281, "cqe_status keeps SCT");
		is_int(nvme_status_code_type(0x281) == NVME_SCT_MEDIA &&
		       nvme_status_code(0x281) == NVME_SC_READ_ERROR &&
		       NVMEP2P_SCT(0x281) == 2 && NVMEP2P_SC(0x281) == 0x81, 1,
		       "libnvme's SCT/SC helpers and the old macros agree");
	}
}

/* ---------------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_ctrl_names(void)
{
	char dir[] = "/tmp/lib_unit.XXXXXX", p[256], path[64], name[32];

	is_int(nvmep2p__ctrl_path("/dev/nvme0", "/nonexistent", path, sizeof(path),
				  name, sizeof(name)), 0, "path /dev/nvme0");
	result(!strcmp(path, "/dev/nvme0") && !strcmp(name, "nvme0"),
	       "  is itself, named nvme0");
	nvmep2p__ctrl_path("nvme12", "/nonexistent", path, sizeof(path), name,
			   sizeof(name));
	result(!strcmp(path, "/dev/nvme12") && !strcmp(name, "nvme12"),
	       "name nvme12 is /dev/nvme12");
	is_int(nvmep2p__ctrl_path("", "/x", path, sizeof(path), name, sizeof(name)),
	       -EINVAL, "empty name is EINVAL");
	is_int(nvmep2p__ctrl_path("dev/nvme0", "/x", path, sizeof(path), name,
				  sizeof(name)), -EINVAL, "relative path is EINVAL");
	is_int(nvmep2p__ctrl_path("/dev/", "/x", path, sizeof(path), name,
				  sizeof(name)), -EINVAL, "directory path is EINVAL");
	is_int(nvmep2p__ctrl_path("nvme0123456789012345678901234567890", "/x", path,
				  sizeof(path), name, sizeof(name)), -ENAMETOOLONG,
	       "overlong name is ENAMETOOLONG");

	if (!mkdtemp(dir)) {
		result(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(p, sizeof(p), "%s/nvme0", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/nvme0/serial", dir);
	write_file(p, "data0               \n");
	snprintf(p, sizeof(p), "%s/nvme3", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/nvme3/serial", dir);
	write_file(p, "p2p0                \n");
	is_int(nvmep2p__ctrl_path("serial:p2p0", dir, path, sizeof(path), name,
				  sizeof(name)), 0, "serial:p2p0 found");
	result(!strcmp(path, "/dev/nvme3") && !strcmp(name, "nvme3"),
	       "serial:p2p0 is nvme3 (padded sysfs serial trimmed)");
	is_int(nvmep2p__ctrl_path("serial:p2p", dir, path, sizeof(path), name,
				  sizeof(name)), -ENODEV, "a serial prefix is no match: ENODEV");
	is_int(nvmep2p__ctrl_path("serial:", dir, path, sizeof(path), name,
				  sizeof(name)), -EINVAL, "empty serial is EINVAL");
	is_int(nvmep2p__ctrl_path("serial:p2p0", "/nonexistent", path, sizeof(path),
				  name, sizeof(name)), -ENODEV,
	       "no sysfs nvme class: ENODEV");
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p))
		result(0, "remove %s", dir);
}

static void test_api_errors(void)
{
	struct nvmep2p_queue_params params = { .depth = 16 };
	struct nvmep2p_ctrl *ctrl = (struct nvmep2p_ctrl *)1, fake_ctrl;
	struct nvmep2p_region *region = (struct nvmep2p_region *)1;
	struct nvmep2p_queue *q = (struct nvmep2p_queue *)1;
	struct nvmep2p_ns_info ns;
	struct nvme_p2p_info info;
	char file[] = "/tmp/lib_unit_file.XXXXXX";
	int fd;

	is_int(nvmep2p_ctrl_open(NULL, &ctrl), -EINVAL, "ctrl_open(NULL) is EINVAL");
	result(ctrl == NULL, "  and sets *out to NULL");
	is_int(nvmep2p_ctrl_open("nvme0", NULL), -EINVAL, "ctrl_open without out is EINVAL");
	is_int(nvmep2p_ctrl_open("/nonexistent/nvme9", &ctrl), -ENOENT,
	       "ctrl_open of a missing path is ENOENT");
	is_int(nvmep2p_ctrl_open("/dev/null", &ctrl), -ENOTTY,
	       "ctrl_open of a char device without nvme-p2p is ENOTTY");
	fd = mkstemp(file);
	is_int(nvmep2p_ctrl_open(file, &ctrl), -ENOTTY,
	       "ctrl_open of a regular file is ENOTTY");
	close(fd);
	unlink(file);
	is_int(nvmep2p_ctrl_open("serial:no-such-serial-here", &ctrl), -ENODEV,
	       "ctrl_open of an unknown serial is ENODEV");
	is_int(nvmep2p_ctrl_info(NULL, &info), -EINVAL, "ctrl_info(NULL) is EINVAL");
	is_int(nvmep2p_ctrl_fd(NULL), -EINVAL, "ctrl_fd(NULL) is EINVAL");
	result(nvmep2p_ctrl_name(NULL) == NULL, "ctrl_name(NULL) is NULL");
	nvmep2p_ctrl_close(NULL);
	nvmep2p_region_destroy(NULL);
	nvmep2p_queue_destroy(NULL);
	result(1, "close/destroy of NULL are no-ops");

	/* A "controller" that is /dev/null: every ioctl is ENOTTY. */
	fake_ctrl.fd = open("/dev/null", O_RDWR);
	strcpy(fake_ctrl.name, "null");
	is_int(nvmep2p_ctrl_info(&fake_ctrl, NULL), -EINVAL, "ctrl_info without info is EINVAL");
	is_int(nvmep2p_ctrl_info(&fake_ctrl, &info), -ENOTTY, "ctrl_info passes ENOTTY on");
	is_int(nvmep2p_ns_info(&fake_ctrl, 0, &ns), -EINVAL, "ns_info nsid 0 is EINVAL");
	is_int(nvmep2p_ns_info(&fake_ctrl, 0xffffffff, &ns), -EINVAL,
	       "ns_info broadcast nsid is EINVAL");
	is_int(nvmep2p_ns_info(&fake_ctrl, 1, NULL), -EINVAL, "ns_info without info is EINVAL");
	is_int(nvmep2p_ns_info(&fake_ctrl, 1, &ns), -ENOTTY, "ns_info passes ENOTTY on");

	is_int(nvmep2p_region_create(&fake_ctrl, 4096, 0, NULL), -EINVAL,
	       "region_create without out is EINVAL");
	is_int(nvmep2p_region_create(NULL, 4096, 0, &region), -EINVAL,
	       "region_create(NULL) is EINVAL");
	result(region == NULL, "  and sets *out to NULL");
	is_int(nvmep2p_region_create(&fake_ctrl, 0, 0, &region), -EINVAL,
	       "region size 0 is EINVAL");
	is_int(nvmep2p_region_create(&fake_ctrl, 4096 + 512, 0, &region), -EINVAL,
	       "region size not 4 KiB granular is EINVAL");
	is_int(nvmep2p_region_create(&fake_ctrl, 4096, 0x80, &region), -EINVAL,
	       "region unknown flag is EINVAL");
	is_int(nvmep2p_region_create(&fake_ctrl, 4096, NVME_P2P_REGION_HOST, &region),
	       -ENOTTY, "region_create passes the ioctl's ENOTTY on");

	is_int(nvmep2p_queue_create(&fake_ctrl, &params, NULL), -EINVAL,
	       "queue_create without out is EINVAL");
	is_int(nvmep2p_queue_create(NULL, &params, &q), -EINVAL, "queue_create(NULL) is EINVAL");
	result(q == NULL, "  and sets *out to NULL");
	is_int(nvmep2p_queue_create(&fake_ctrl, NULL, &q), -EINVAL,
	       "queue_create without params is EINVAL");
	params.depth = 1;
	is_int(nvmep2p_queue_create(&fake_ctrl, &params, &q), -EINVAL, "queue depth 1 is EINVAL");
	params.depth = 65537;
	is_int(nvmep2p_queue_create(&fake_ctrl, &params, &q), -EINVAL,
	       "queue depth 65537 is EINVAL");
	params.depth = 16;
	params.flags = 0x100;
	is_int(nvmep2p_queue_create(&fake_ctrl, &params, &q), -EINVAL,
	       "queue unknown flag is EINVAL");
	params.flags = 0;
	is_int(nvmep2p_queue_create(&fake_ctrl, &params, &q), -ENOTTY,
	       "queue_create passes the ioctl's ENOTTY on");
	close(fake_ctrl.fd);

	is_int(nvmep2p_queue_fd(NULL), -EINVAL, "queue_fd(NULL) is EINVAL");
	is_int(nvmep2p_queue_info(NULL, NULL), -EINVAL, "queue_info(NULL) is EINVAL");
	is_int(nvmep2p_queue_resync(NULL, NULL, NULL), -EINVAL, "queue_resync(NULL) is EINVAL");
	result(!nvmep2p_queue_sq_map(NULL) && !nvmep2p_queue_cq_map(NULL) &&
	       !nvmep2p_queue_db_map(NULL) && !nvmep2p_queue_sq_doorbell(NULL) &&
	       !nvmep2p_queue_cq_doorbell(NULL), "map accessors of NULL are NULL");
	is_int(nvmep2p_queue_prp_pool_bytes(NULL), 0, "prp_pool_bytes(NULL) is 0");
	is_int(nvmep2p_queue_attach_prp_pool(NULL, NULL, 0), -EINVAL,
	       "attach_prp_pool(NULL) is EINVAL");
	is_int(nvmep2p_queue_cmd_mem(NULL, NULL, NULL, NULL, NULL), -EINVAL,
	       "cmd_mem(NULL) is EINVAL");
}

/* The whole-command path: push_cmd(s), poll and wait on rings in memory. */
static void test_push_poll(void)
{
	struct nvmep2p_sqe cmd, cmds[4];
	struct nvmep2p_cmpl c[8];
	struct nvmep2p_wait w = { .mode = NVMEP2P_WAIT_SPIN };
	void *data[4] = { &c[0], &c[1], &c[2], &c[3] };
	struct fake f;
	int cid, i, n;

	fake_init(&f, 4, 0);
	memset(&cmd, 0xff, sizeof(cmd));	/* its CID field is ignored */
	nvmep2p_prep_read(&cmd, 1, 0x123456789ULL, 8, 0x1000, 0);
	cid = nvmep2p_queue_push_cmd(f.q, &cmd, &f);
	result(cid >= 0 && le16toh(f.sq[0].cid) == cid && f.sq[0].opcode == NVMEP2P_OP_READ &&
	       le32toh(f.sq[0].cdw10) == 0x23456789 && le32toh(f.sq[0].cdw11) == 1 &&
	       le64toh(f.sq[0].prp1) == 0x1000 && le32toh(f.sq[0].cdw12) == 7,
	       "push_cmd copies the command to the tail with the CID it returns");
	result(f.sq_db == DB_UNTOUCHED, "push_cmd rings no doorbell");
	is_int(nvmep2p_queue_submit(f.q), 1, "submit hands the pushed command over");
	is_int(nvmep2p_queue_poll(f.q, c, 8), 0, "poll with nothing posted is 0");
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 1, 1000000), -ETIMEDOUT,
	       "wait with nothing posted times out");
	fake_fetch(&f);
	fake_complete(&f, (uint16_t)cid, NVMEP2P_STATUS_LBA_RANGE, 1, QID);
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 1, 0), 1, "wait sees the posted entry");
	n = nvmep2p_queue_poll(f.q, c, 8);
	result(n == 1 && c[0].data == &f && c[0].cid == cid &&
	       nvmep2p_cmpl_status(&c[0]) == NVMEP2P_STATUS_LBA_RANGE,
	       "poll reports data, CID and status");
	is_int(f.cq_db, 1, "poll rings the CQ head doorbell");
	is_int(nvmep2p_queue_inflight(f.q), 0, "the CID is free again");

	/* A batch: as many as fit (depth 4 holds 3), in order. */
	for (i = 0; i < 4; i++)
		nvmep2p_prep_flush(&cmds[i], 1);
	is_int(nvmep2p_queue_push_cmds(f.q, cmds, data, 4), 3, "push_cmds pushes what fits");
	is_int(nvmep2p_queue_push_cmd(f.q, &cmd, NULL), -EBUSY, "push_cmd on a full queue is EBUSY");
	is_int(nvmep2p_queue_push_cmds(f.q, cmds, data, 1), 0, "push_cmds on a full queue is 0");
	nvmep2p_queue_submit(f.q);
	/* Completed in reverse. */
	{
		int cids[3];

		for (i = 0; i < 3; i++)
			cids[i] = fake_fetch(&f);
		for (i = 3; i-- > 0; )
			fake_complete(&f, (uint16_t)cids[i], 0, (uint16_t)f.sq_head, QID);
	}
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 3, 0), 3, "wait for 3 sees 3");
	n = nvmep2p_queue_poll(f.q, c, 2);
	result(n == 2 && c[0].data == data[2] && c[1].data == data[1],
	       "poll stops at max, in posted order");
	n = nvmep2p_queue_poll(f.q, c, 8);
	result(n == 1 && c[0].data == data[0] && nvmep2p_queue_inflight(f.q) == 0,
	       "the next poll takes the rest across the ring's end");
	result(f.q->cq_phase == 0, "the CQ phase flipped at the wrap");

	/* Strays and stale entries, as peek/seen. */
	fake_complete(&f, 2, 0, (uint16_t)f.sq_head, QID);	/* not in flight */
	is_int(nvmep2p_queue_poll(f.q, c, 8), 0, "a stray entry is consumed, not reported");
	is_int((int)f.q->spurious, 1, "and counted spurious");
	fake_complete(&f, 0, 0, 0, QID + 1);
	is_int(nvmep2p_queue_poll(f.q, c, 8), -ESTALE, "an entry of another queue is ESTALE");
	nvmep2p_queue_push_cmd(f.q, &cmd, NULL);
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 1, 0), -ESTALE, "wait reports it too");
	is_int(nvmep2p_queue_wait(f.q, &w, 2, 1, 0), -EINVAL, "wait with min above want is EINVAL");
	is_int(nvmep2p_queue_wait(f.q, &w, 2, 2, 0), -EINVAL,
	       "wait for more than are in flight is EINVAL");
	fake_free(&f);

	/* Hybrid: learns a time per completion. */
	fake_init(&f, 8, 0);
	w = (struct nvmep2p_wait){ .mode = NVMEP2P_WAIT_HYBRID };
	nvmep2p_queue_push_cmd(f.q, &cmd, NULL);
	nvmep2p_queue_submit(f.q);
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 1, 200000000), -ETIMEDOUT,
	       "hybrid wait times out when nothing comes");
	result(w.waits == 1 && w.sleeps > 0, "having polled, then slept");
	fake_complete(&f, (uint16_t)fake_fetch(&f), 0, 1, QID);
	is_int(nvmep2p_queue_wait(f.q, &w, 1, 1, 0), 1, "hybrid wait returns what is posted");
	fake_free(&f);

	{
		struct nvmep2p_sqe sq[4];
		struct nvmep2p_cqe cq[4] = { { 0 } };
		struct nvmep2p_queue *q;
		volatile uint32_t db[2];

		nvmep2p__queue_init_mem(4, 1, NULL, cq, &db[0], &db[1], 0, &q);
		is_int(nvmep2p_queue_push_cmd(q, &cmd, NULL), -EOPNOTSUPP,
		       "push_cmd without a CPU mapping of the SQ is EOPNOTSUPP");
		is_int(nvmep2p_queue_push_cmds(q, &cmd, NULL, 1), -EOPNOTSUPP,
		       "push_cmds too");
		nvmep2p_queue_destroy(q);
		nvmep2p__queue_init_mem(4, 1, sq, NULL, &db[0], &db[1], 0, &q);
		is_int(nvmep2p_queue_poll(q, c, 1), -EOPNOTSUPP,
		       "poll without a CPU mapping of the CQ is EOPNOTSUPP");
		nvmep2p_queue_destroy(q);
	}
}

/* The one-at-a-time pair: submit_cmd (push + doorbell) and poll_one. */
static void test_one_at_a_time(void)
{
	struct nvmep2p_sqe cmd;
	struct nvmep2p_cmpl c = { 0 };
	int cid[3], i, wrapped = 0, ok = 1;
	struct fake f;

	fake_init(&f, 4, 0);
	nvmep2p_prep_write(&cmd, 1, 77, 1, 0x2000, 0);
	cid[0] = nvmep2p_queue_submit_cmd(f.q, &cmd, &f);
	result(cid[0] >= 0 && le16toh(f.sq[0].cid) == cid[0] &&
	       f.sq[0].opcode == NVMEP2P_OP_WRITE && le32toh(f.sq[0].cdw10) == 77,
	       "submit_cmd copies the command to the tail with the CID it returns");
	is_int(f.sq_db, 1, "submit_cmd rings the SQ tail doorbell");
	is_int(nvmep2p_queue_submit(f.q), 0, "so submit has nothing left to ring");
	is_int(nvmep2p_queue_poll_one(f.q, &c), 0, "poll_one with nothing posted is 0");
	is_int(f.cq_db, DB_UNTOUCHED, "and writes no CQ doorbell");
	fake_fetch(&f);
	fake_complete(&f, (uint16_t)cid[0], NVMEP2P_STATUS_LBA_RANGE, 1, QID);
	is_int(nvmep2p_queue_poll_one(f.q, &c), 1, "poll_one reaps the posted entry");
	result(c.data == &f && c.cid == cid[0] &&
	       nvmep2p_cmpl_status(&c) == NVMEP2P_STATUS_LBA_RANGE,
	       "poll_one reports data, CID and status");
	is_int(f.cq_db, 1, "poll_one rings the CQ head doorbell");
	is_int(nvmep2p_queue_inflight(f.q), 0, "the CID is free again");

	/* Full: depth 4 holds 3, a refused command writes nothing. */
	for (i = 0; i < 3; i++)
		cid[i] = nvmep2p_queue_submit_cmd(f.q, &cmd, &cid[i]);
	f.sq_db = DB_UNTOUCHED;
	is_int(nvmep2p_queue_submit_cmd(f.q, &cmd, NULL), -EBUSY,
	       "submit_cmd on a full queue is EBUSY");
	is_int(f.sq_db, DB_UNTOUCHED, "and rings no doorbell");
	f.sq_db = htole32(0);	/* the controller saw the 3 */
	for (i = 0; i < 3; i++)
		fake_fetch(&f);
	/* Completed in reverse across the CQ's end: the phase flips. */
	for (i = 3; i-- > 0; )
		fake_complete(&f, (uint16_t)cid[i], 0, (uint16_t)f.sq_head, QID);
	for (i = 3; i-- > 0; ) {
		ok &= nvmep2p_queue_poll_one(f.q, &c) == 1 && c.data == &cid[i] &&
		      c.cid == cid[i] && nvmep2p_cmpl_status(&c) == 0;
		wrapped |= f.q->cq_phase == 0;
	}
	result(ok && wrapped, "poll_one reaps in posted order across the wrap");
	is_int(nvmep2p_queue_poll_one(f.q, &c), 0, "then finds none");
	is_int(nvmep2p_queue_inflight(f.q), 0, "every CID is free");

	/* Strays and stale entries, as poll. */
	fake_complete(&f, 2, 0, (uint16_t)f.sq_head, QID);
	is_int(nvmep2p_queue_poll_one(f.q, &c), 0, "a stray entry is consumed, not reported");
	is_int((int)f.q->spurious, 1, "and counted spurious");
	fake_complete(&f, 0, 0, 0, QID + 1);
	is_int(nvmep2p_queue_poll_one(f.q, &c), -ESTALE, "an entry of another queue is ESTALE");
	fake_free(&f);

	{
		struct nvmep2p_sqe sq[4];
		struct nvmep2p_cqe cq[4] = { { 0 } };
		struct nvmep2p_queue *q;
		volatile uint32_t db[2] = { DB_UNTOUCHED, DB_UNTOUCHED };

		nvmep2p__queue_init_mem(4, 1, NULL, cq, &db[0], &db[1], 0, &q);
		is_int(nvmep2p_queue_submit_cmd(q, &cmd, NULL), -EOPNOTSUPP,
		       "submit_cmd without a CPU mapping of the SQ is EOPNOTSUPP");
		is_int(db[0], DB_UNTOUCHED, "and rings no doorbell");
		nvmep2p_queue_destroy(q);
		nvmep2p__queue_init_mem(4, 1, sq, NULL, &db[0], &db[1], 0, &q);
		is_int(nvmep2p_queue_poll_one(q, &c), -EOPNOTSUPP,
		       "poll_one without a CPU mapping of the CQ is EOPNOTSUPP");
		nvmep2p_queue_destroy(q);
	}
}

/*
 * The 0.5 layout: the per-CID arrays at the header's fixed offsets, where
 * the pointers that programs built with older headers read also point; a
 * CQE whose SQ head is past the ring limits nothing but is not trusted
 * either: the CIDs bound the queue.
 */
static void test_layout_0_5(void)
{
	enum { DEPTH = 8 };
	struct nvmep2p_cmpl c;
	struct fake f;
	unsigned int n = 0;
	int cid;

	fake_init(&f, DEPTH, 0);
	result((uint8_t *)f.q->cid_busy == (uint8_t *)f.q + NVMEP2P__Q_BUSY &&
	       (uint8_t *)f.q->cid_data == (uint8_t *)f.q + NVMEP2P__Q_DATA &&
	       (uint8_t *)f.q->cid_free == (uint8_t *)f.q + NVMEP2P__Q_FREE,
	       "layout 0.5: cid_busy, cid_data, cid_free at the header's offsets");
	result(f.q->cq_match == ((uint64_t)QID << 16 | 1ULL << 48),
	       "layout 0.5: cq_match starts as SQ ID and phase 1");
	/* One command, completed with SQ head 0xffff (past the ring). */
	nvmep2p_prep_flush(nvmep2p_queue_get_sqe(f.q), 1);
	nvmep2p_queue_submit(f.q);
	fake_complete(&f, (uint16_t)fake_fetch(&f), 0, 0xffff, QID);
	is_int(nvmep2p_queue_poll_one(f.q, &c), 1, "a CQE with SQ head past the ring is reaped");
	while (nvmep2p_queue_get_sqe(f.q))
		n++;
	is_int(n, DEPTH - 1, "then depth - 1 SQEs fit: the CIDs bound the queue");
	nvmep2p_queue_submit(f.q);
	cid = fake_fetch(&f);
	result(cid >= 0 && f.sq_head == 1 + 1, "and the controller fetches them in order");
	fake_free(&f);
}

int main(void)
{

	test_sqe_layout();
	test_prp();
	test_queue_basics();
	test_queue_stress();
	test_no_cpu_map();
	test_push_poll();
	test_one_at_a_time();
	test_layout_0_5();
	test_prp_pool();
	test_status();
	test_ctrl_names();
	test_api_errors();
	return done_testing();
}
