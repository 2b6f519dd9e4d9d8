// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * nvmep2p-overhead: the instructions libnvmep2p's data path costs per I/O,
 * against a software NVMe controller in the same process (like SPDK's
 * overhead tool, without a device): the controller fetches SQEs from the
 * ring memory once the SQ doorbell word moves, checks them, and posts
 * CQEs with the phase tag, in reverse order within each batch so that
 * CIDs come back out of order. Everything is deterministic.
 *
 * Each case (submit path, reap path, batch) runs IOS reads of one block:
 * the caller's side of every batch is in the functions named bench_*
 * (build the commands, hand them to the library, ring the doorbell; reap
 * until the batch is back), the controller is not. Under
 *   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_*'
 * only bench_* (and what they call) is counted, and a dump per case
 * (CALLGRIND_DUMP_STATS_AT) holds its instruction count: the
 * bench-overhead script divides it by the I/Os. Run natively, the same
 * program checks every completion (data pointer, CID, status, no spurious
 * entry) and prints one TAP line per case.
 *
 * Usage: nvmep2p-overhead [-n IOS] [CASE...]; CASE is SUBMIT/REAP/BATCH
 * (default: every combination of the paths below with batch 1 and 32).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvmep2p-private.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_DUMP_STATS_AT
#define CALLGRIND_DUMP_STATS_AT(s)	((void)(s))
#endif

#define NOINLINE	__attribute__((noinline))
#define DEPTH		64		/* ring entries: 63 commands in flight */
#define QID		9
#define NSID		1
#define MAX_BATCH	(DEPTH - 1)
#define BAD_LBA_EVERY	97		/* these LBAs fail: LBA Out of Range */
#define STATUS_LBA	0x080

/* The software controller. */
struct ctrl {
	struct nvmep2p_sqe *sq;
	struct nvmep2p_cqe *cq;
	volatile uint32_t sq_db, cq_db;
	uint32_t sq_head, cq_tail;
	uint8_t phase;
	uint8_t cid_busy[65536];	/* CIDs it holds: unique in flight? */
	uint64_t fetched, errors;
	char error[200];
};

/* One I/O: what the caller asked for and what came back. */
struct req {
	uint64_t slba;
	uint64_t buf;			/* controller address of its buffer */
	int done;
	int status;
};

struct bench {
	struct ctrl c;
	struct nvmep2p_queue *q;
	struct req *reqs;
	unsigned int nr_reqs, next;	/* requests, the next to submit */
	struct nvmep2p_cmpl cmpl[MAX_BATCH];
	unsigned int nr_cmpl;
	uint64_t completed, bad;
	char error[200];
};

static void ctrl_fail(struct ctrl *c, const char *what, unsigned int cid)
{
	if (!c->errors++)
		snprintf(c->error, sizeof(c->error), "controller: %s (CID %u)",
			 what, cid);
}

/* Fetch what the doorbell shows, check it, complete it in reverse. */
static NOINLINE void ctrl_run(struct ctrl *c, struct bench *b)
{
	uint16_t cids[DEPTH];
	uint64_t slbas[DEPTH];
	uint32_t tail = c->sq_db, n = 0, i;

	if (tail >= DEPTH) {
		ctrl_fail(c, "SQ tail doorbell beyond the ring", tail);
		return;
	}
	while (c->sq_head != tail) {
		const struct nvmep2p_sqe *e = &c->sq[c->sq_head];
		uint16_t cid = e->cid;
		uint64_t slba = (uint64_t)e->cdw11 << 32 | e->cdw10;
		struct req *r;

		if (c->cid_busy[cid])
			ctrl_fail(c, "CID already in flight", cid);
		c->cid_busy[cid] = 1;
		r = slba < b->nr_reqs ? &b->reqs[slba] : NULL;
		if (e->opcode != NVMEP2P_OP_READ || e->flags || e->nsid != NSID ||
		    (e->cdw12 & 0xffff) != 0 || e->mptr || e->cdw13 ||
		    e->cdw14 || e->cdw15 || !r || e->prp1 != r->buf || e->prp2)
			ctrl_fail(c, "SQE not as built", cid);
		slbas[n] = slba;
		cids[n++] = cid;
		c->sq_head = (c->sq_head + 1) % DEPTH;
		c->fetched++;
	}
	for (i = n; i-- > 0; ) {
		struct nvmep2p_cqe *e = &c->cq[c->cq_tail];
		uint16_t status = 0;

		if (slbas[i] % BAD_LBA_EVERY == BAD_LBA_EVERY - 1)
			status = STATUS_LBA;
		if ((c->cq_tail + 1) % DEPTH == c->cq_db)
			ctrl_fail(c, "CQ full", cids[i]);
		c->cid_busy[cids[i]] = 0;
		e->result = 0;
		e->dw1 = 0;
		e->sq_head = (uint16_t)c->sq_head;
		e->sq_id = QID;
		e->cid = cids[i];
		__asm__ __volatile__("" ::: "memory");	/* phase last */
		e->status = (uint16_t)(status << 1 | c->phase);
		if (++c->cq_tail == DEPTH) {
			c->cq_tail = 0;
			c->phase ^= 1;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* The caller's side: counted                                              */
/* ---------------------------------------------------------------------- */

/* get_sqe + prep_read (in the SQ) + set_data, then submit. */
static NOINLINE unsigned int bench_submit_inplace(struct bench *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct req *r = &b->reqs[b->next + i];
		struct nvmep2p_sqe *sqe = nvmep2p_queue_get_sqe(b->q);

		if (!sqe)
			break;
		nvmep2p_prep_read(sqe, NSID, r->slba, 1, r->buf, 0);
		nvmep2p_sqe_set_data(b->q, sqe, r);
	}
	nvmep2p_queue_submit(b->q);
	return i;
}

/* prep_read (in ordinary memory) + push_cmd, then submit. */
static NOINLINE unsigned int bench_submit_push(struct bench *b, unsigned int n)
{
	struct nvmep2p_sqe cmd;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct req *r = &b->reqs[b->next + i];

		nvmep2p_prep_read(&cmd, NSID, r->slba, 1, r->buf, 0);
		if (nvmep2p_queue_push_cmd(b->q, &cmd, r) < 0)
			break;
	}
	nvmep2p_queue_submit(b->q);
	return i;
}

/* prep_read (in ordinary memory) + submit_cmd: one doorbell per command. */
static NOINLINE unsigned int bench_submit_cmd(struct bench *b, unsigned int n)
{
	struct nvmep2p_sqe cmd;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct req *r = &b->reqs[b->next + i];

		nvmep2p_prep_read(&cmd, NSID, r->slba, 1, r->buf, 0);
		if (nvmep2p_queue_submit_cmd(b->q, &cmd, r) < 0)
			break;
	}
	return i;
}

/* prep_read of the batch into an array + push_cmds, then submit. */
static NOINLINE unsigned int bench_submit_push_cmds(struct bench *b, unsigned int n)
{
	struct nvmep2p_sqe cmds[MAX_BATCH];
	void *data[MAX_BATCH];
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		struct req *r = &b->reqs[b->next + i];

		nvmep2p_prep_read(&cmds[i], NSID, r->slba, 1, r->buf, 0);
		data[i] = r;
	}
	ret = nvmep2p_queue_push_cmds(b->q, cmds, data, n);
	nvmep2p_queue_submit(b->q);
	return ret < 0 ? 0 : (unsigned int)ret;
}

/* peek_cqe + cqe_get_data + cqe_status + cqe_seen, then ring_cq. */
static NOINLINE unsigned int bench_reap_peek(struct bench *b)
{
	struct nvmep2p_cqe *cqe;
	unsigned int n = 0;

	while (n < MAX_BATCH && !nvmep2p_queue_peek_cqe(b->q, &cqe)) {
		b->cmpl[n].data = nvmep2p_cqe_get_data(b->q, cqe);
		b->cmpl[n].status = (uint16_t)(nvmep2p_cqe_status(cqe) << 1);
		b->cmpl[n].cid = cqe->cid;
		nvmep2p_queue_cqe_seen(b->q, cqe);
		n++;
	}
	nvmep2p_queue_ring_cq(b->q);
	return n;
}

/* poll: the batch reap. */
static NOINLINE unsigned int bench_reap_poll(struct bench *b)
{
	int n = nvmep2p_queue_poll(b->q, b->cmpl, MAX_BATCH);

	return n < 0 ? 0 : (unsigned int)n;
}

/* poll_one: one call per completion (run_case calls it until the batch is back). */
static NOINLINE unsigned int bench_reap_poll_one(struct bench *b)
{
	return nvmep2p_queue_poll_one(b->q, &b->cmpl[0]) == 1;
}

/* ---------------------------------------------------------------------- */

struct path {
	const char *name;
	unsigned int (*submit)(struct bench *b, unsigned int n);
	unsigned int (*reap)(struct bench *b);
};

static const struct path submits[] = {
	{ "inplace", bench_submit_inplace, NULL },
	{ "push_cmd", bench_submit_push, NULL },
	{ "push_cmds", bench_submit_push_cmds, NULL },
	{ "submit_cmd", bench_submit_cmd, NULL },
};

static const struct path reaps[] = {
	{ "peek", NULL, bench_reap_peek },
	{ "poll", NULL, bench_reap_poll },
	{ "poll_one", NULL, bench_reap_poll_one },
};

/* Check what a reap returned (not counted). */
static void check_cmpl(struct bench *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct req *r = b->cmpl[i].data;
		int status = (b->cmpl[i].status >> 1) & 0x7ff;

		if (!r || r < b->reqs || r >= b->reqs + b->nr_reqs) {
			if (!b->bad++)
				snprintf(b->error, sizeof(b->error),
					 "completion %" PRIu64 " has no request", b->completed);
			continue;
		}
		if (r->done++ && !b->bad++)
			snprintf(b->error, sizeof(b->error),
				 "request %zu completed twice", (size_t)(r - b->reqs));
		if (status != r->status && !b->bad++)
			snprintf(b->error, sizeof(b->error),
				 "request %zu: status 0x%x, want 0x%x",
				 (size_t)(r - b->reqs), status, r->status);
		b->completed++;
	}
}

/* One case: IOS reads in batches; 0 if every completion was right. */
static int run_case(const struct path *sub, const struct path *reap,
		    unsigned int batch, unsigned int ios, char *why, size_t why_size)
{
	struct bench *b = calloc(1, sizeof(*b));
	unsigned int i, stuck = 0;
	char label[64];
	int ret = 1;

	if (!b)
		return snprintf(why, why_size, "out of memory"), 1;
	b->c.sq = aligned_alloc(4096, DEPTH * sizeof(struct nvmep2p_sqe));
	b->c.cq = aligned_alloc(4096, DEPTH * sizeof(struct nvmep2p_cqe));
	b->reqs = calloc(ios, sizeof(*b->reqs));
	if (!b->c.sq || !b->c.cq || !b->reqs) {
		snprintf(why, why_size, "out of memory");
		goto out;
	}
	memset(b->c.sq, 0, DEPTH * sizeof(struct nvmep2p_sqe));
	memset(b->c.cq, 0, DEPTH * sizeof(struct nvmep2p_cqe));
	b->c.phase = 1;
	b->nr_reqs = ios;
	for (i = 0; i < ios; i++) {
		b->reqs[i].slba = i;
		b->reqs[i].buf = 0x100000000ULL + (uint64_t)i * 4096;
		b->reqs[i].status = i % BAD_LBA_EVERY == BAD_LBA_EVERY - 1 ? STATUS_LBA : 0;
	}
	if (nvmep2p__queue_init_mem(DEPTH, QID, b->c.sq, b->c.cq, &b->c.sq_db,
				    &b->c.cq_db, 0, &b->q)) {
		snprintf(why, why_size, "queue_init_mem failed");
		goto out;
	}
	while (b->next < ios && stuck < 3) {
		unsigned int n = batch < ios - b->next ? batch : ios - b->next;
		unsigned int got = 0, sent;

		sent = sub->submit(b, n);
		b->next += sent;
		ctrl_run(&b->c, b);
		while (got < sent) {
			unsigned int r = reap->reap(b);

			check_cmpl(b, r);
			got += r;
			if (!r)
				break;
		}
		stuck = sent && got == sent ? 0 : stuck + 1;
	}
	snprintf(label, sizeof(label), "%s/%s/%u", sub->name, reap->name, batch);
	CALLGRIND_DUMP_STATS_AT(label);
	if (b->c.errors)
		snprintf(why, why_size, "%s", b->c.error);
	else if (b->bad)
		snprintf(why, why_size, "%s", b->error);
	else if (b->completed != ios || b->c.fetched != ios)
		snprintf(why, why_size, "%" PRIu64 " of %u completed, %" PRIu64 " fetched",
			 b->completed, ios, b->c.fetched);
	else if (b->q->spurious || nvmep2p_queue_inflight(b->q))
		snprintf(why, why_size, "%" PRIu64 " spurious, %u left in flight",
			 b->q->spurious, nvmep2p_queue_inflight(b->q));
	else
		ret = 0;
out:
	nvmep2p_queue_destroy(b->q);
	free(b->c.sq);
	free(b->c.cq);
	free(b->reqs);
	free(b);
	return ret;
}

static const struct path *find(const struct path *p, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(p[i].name) == len && !strncmp(p[i].name, name, len))
			return &p[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 32 };
	unsigned int ios = 4096, s, r, k, nr = 0, failed = 0;
	char why[256];
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		ios = (unsigned int)strtoul(argv[2], NULL, 0);
		i = 3;
	}
	if (!ios) {
		fprintf(stderr, "usage: %s [-n IOS] [SUBMIT/REAP/BATCH...]\n", argv[0]);
		return 2;
	}
	if (i < argc) {
		for (; i < argc; i++) {
			const char *a = argv[i], *s1 = strchr(a, '/'), *s2;
			const struct path *sp, *rp;
			unsigned long batch;

			s2 = s1 ? strchr(s1 + 1, '/') : NULL;
			sp = s1 ? find(submits, 4, a, (size_t)(s1 - a)) : NULL;
			rp = s2 ? find(reaps, 3, s1 + 1, (size_t)(s2 - s1 - 1)) : NULL;
			batch = s2 ? strtoul(s2 + 1, NULL, 10) : 0;
			if (!sp || !rp || !batch || batch > MAX_BATCH) {
				fprintf(stderr, "%s: bad case %s (SUBMIT/REAP/BATCH)\n",
					argv[0], a);
				return 2;
			}
			k = run_case(sp, rp, (unsigned int)batch, ios, why, sizeof(why));
			printf("%s %u - %s: %u I/Os%s%s\n", k ? "not ok" : "ok", ++nr, a,
			       ios, k ? ": " : "", k ? why : "");
			failed += k;
		}
	} else {
		for (s = 0; s < 4; s++)
			for (r = 0; r < 3; r++)
				for (k = 0; k < 2; k++) {
					int bad = run_case(&submits[s], &reaps[r],
							   batches[k], ios, why, sizeof(why));

					printf("%s %u - %s/%s/%u: %u I/Os%s%s\n",
					       bad ? "not ok" : "ok", ++nr,
					       submits[s].name, reaps[r].name,
					       batches[k], ios, bad ? ": " : "",
					       bad ? why : "");
					failed += (unsigned int)bad;
				}
	}
	printf("1..%u\n", nr);
	return failed ? 1 : 0;
}
