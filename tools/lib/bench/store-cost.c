// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * nvmep2p-store-cost: what the CPU pays to write a 64-byte command into a
 * controller's memory, against ordinary memory. It copies SQE-sized
 * commands the way nvmep2p_queue_push_cmd() does (full-width stores, a
 * store fence per batch of 32) into a region in the controller's CMB and
 * into a host memory region of the same controller, a page's worth of
 * slots round and round, and prints the time per command in each.
 *
 * On hardware a CMB is write-combined and such stores are posted PCIe
 * writes. Under an emulator every store to device memory leaves the
 * translated code for the device model (QEMU's CMB is an I/O memory
 * region: one callback per access of at most 8 bytes), which make bench
 * uses to tell the emulator's share of the engine's CPU per I/O. It also
 * times a doorbell write (the CQ head doorbell of an idle queue pair of its
 * own, written with the head it has: it tells the controller nothing).
 *
 * With NSID it also times the SQ tail doorbell write that hands over one
 * read of namespace NSID, and the read's round trip.
 *
 * Usage: nvmep2p-store-cost CONTROLLER [COMMANDS [NSID]]; prints key=value
 * lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nvmep2p.h"

#define SLOTS	(NVMEP2P_PAGE_SIZE / sizeof(struct nvmep2p_sqe))

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Nanoseconds per command copied into the region's first page. */
static double copy_cost(struct nvmep2p_region *r, unsigned long n)
{
	struct nvmep2p_sqe *sq = r->addr, cmd;
	unsigned long i;
	double t;

	nvmep2p_prep_read(&cmd, 1, 0, 1, r->bus_addr, 0);
	t = now_ns();
	for (i = 0; i < n; i++) {
		__nvmep2p_sqe_copy(&sq[i % SLOTS], &cmd, (uint16_t)i);
		if (i % 32 == 31)
			nvmep2p_store_fence();
	}
	nvmep2p_store_fence();
	return (now_ns() - t) / n;
}

/* Nanoseconds per write of 0 to an idle queue's doorbell (its value). */
static double doorbell_cost(volatile uint32_t *db, unsigned long n)
{
	unsigned long i;
	double t;

	t = now_ns();
	for (i = 0; i < n; i++)
		*db = 0;
	return (now_ns() - t) / n;
}

/*
 * The SQ tail doorbell write that hands the controller one command (a
 * one-block read), timed alone, then the wait for its completion. An
 * emulated controller may take the command in the writing CPU's time.
 */
static int submit_cost(struct nvmep2p_queue *q, uint32_t nsid, uint64_t buf,
		       unsigned long n)
{
	double t, doorbell = 0, total = 0;
	struct nvmep2p_cmpl c;
	struct nvmep2p_sqe cmd;
	unsigned long i;
	int ret;

	nvmep2p_prep_read(&cmd, nsid, 0, 1, buf, 0);
	for (i = 0; i < n; i++) {
		ret = nvmep2p_queue_push_cmd(q, &cmd, NULL);
		if (ret < 0)
			return ret;
		t = now_ns();
		nvmep2p_queue_submit(q);
		doorbell += now_ns() - t;
		while (!(ret = nvmep2p_queue_poll_one(q, &c)))
			;
		total += now_ns() - t;
		if (ret < 0)
			return ret;
		if (nvmep2p_cmpl_status(&c)) {
			fprintf(stderr, "read: %s\n", nvmep2p_status_str(nvmep2p_cmpl_status(&c)));
			return -EIO;
		}
	}
	printf("reads=%lu\n", n);
	printf("submit_doorbell_ns=%.0f\n", doorbell / n);
	printf("read_roundtrip_ns=%.0f\n", total / n);
	return 0;
}

int main(int argc, char **argv)
{
	struct nvmep2p_queue_params params = { .depth = 2, .sq_placement = NVME_P2P_SQ_HOST };
	struct nvmep2p_region *cmb = NULL, *host = NULL;
	struct nvmep2p_queue *q = NULL;
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000;
	uint32_t nsid = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
	struct nvmep2p_ctrl *ctrl;
	double c, h;
	int ret;

	if (argc < 2 || !n) {
		fprintf(stderr, "usage: %s CONTROLLER [COMMANDS [NSID]]\n", argv[0]);
		return 2;
	}
	ret = nvmep2p_ctrl_open(argv[1], &ctrl);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(-ret));
		return 1;
	}
	ret = nvmep2p_region_create(ctrl, NVMEP2P_PAGE_SIZE, 0, &cmb);
	if (!ret)
		ret = nvmep2p_region_create(ctrl, NVMEP2P_PAGE_SIZE,
					    NVME_P2P_REGION_HOST, &host);
	if (ret) {
		fprintf(stderr, "%s: a region of %s: %s\n", argv[0], argv[1],
			strerror(-ret));
		goto out;
	}
	copy_cost(cmb, n / 10);		/* fault in, warm up */
	copy_cost(host, n / 10);
	c = copy_cost(cmb, n);
	h = copy_cost(host, n);
	printf("commands=%lu\n", n);
	printf("sqe_copy_cmb_ns=%.0f\n", c);
	printf("sqe_copy_host_ns=%.0f\n", h);
	/*
	 * A queue pair of its own, idle: its CQ head doorbell written with the
	 * head it has (0), which tells the controller nothing new.
	 */
	ret = nvmep2p_queue_create(ctrl, &params, &q);
	if (ret) {
		fprintf(stderr, "%s: a queue pair of %s: %s\n", argv[0], argv[1],
			strerror(-ret));
		goto out;
	}
	printf("doorbell_ns=%.0f\n",
	       doorbell_cost(nvmep2p_queue_cq_doorbell(q), n));
	if (nsid)
		ret = submit_cost(q, nsid, host->bus_addr, n / 20);
out:
	nvmep2p_queue_destroy(q);
	nvmep2p_region_destroy(cmb);
	nvmep2p_region_destroy(host);
	nvmep2p_ctrl_close(ctrl);
	return ret ? 1 : 0;
}
