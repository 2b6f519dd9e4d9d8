// SPDX-License-Identifier: GPL-2.0
/*
 * VM test helper for tests/vm/nvme-cli-queue.sh: export a queue pair, run
 * COUNT Flush commands through it from the CPU the way a peer would (SQE in
 * the mapped SQ, SQ tail doorbell, poll the CQ, CQ head doorbell), print
 * "qid=Q depth=D count=C", then hold the queue until SIGTERM or SIGINT so
 * that 'nvme p2p queue' can be checked against what was done.
 *
 *   nvme-cli-queue-io /dev/nvmeN COUNT [DEPTH]
 *
 * Exit: 0 after the signal, 1 on any failure (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/nvme_p2p.h>

#define SQE_BYTES	64
#define CQE_BYTES	16
#define NVME_CMD_FLUSH	0x00
#define TIMEOUT_SEC	30	/* TCG: one command takes milliseconds, not seconds */

static void die(const char *what)
{
	fprintf(stderr, "nvme-cli-queue-io: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *map_part(int fd, size_t len, off_t off, const char *what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		die(what);
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct nvme_p2p_queue_create qc = { .argsz = sizeof(qc) };
	struct nvme_p2p_queue_info qi = { .argsz = sizeof(qi) };
	volatile uint32_t *sq_db, *cq_db;
	unsigned int i, count, tail = 0, head = 0, phase = 1;
	volatile uint8_t *cq;
	uint8_t *sq, *db;
	sigset_t stop;
	int ctrl, q, sig;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: nvme-cli-queue-io /dev/nvmeN COUNT [DEPTH]\n");
		return 1;
	}
	count = strtoul(argv[2], NULL, 0);
	qc.depth = argc > 3 ? strtoul(argv[3], NULL, 0) : 16;
	qc.sq_placement = NVME_P2P_SQ_CMB_PREFERRED;
	qc.cq_placement = NVME_P2P_CQ_HOST;

	/* Block the stop signals now: one sent right after the line below is printed is not lost. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	ctrl = open(argv[1], O_RDWR);
	if (ctrl < 0)
		die(argv[1]);
	q = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	if (q < 0)
		die("NVME_P2P_IOCTL_QUEUE_CREATE");
	if (ioctl(q, NVME_P2P_IOCTL_QUEUE_INFO, &qi))
		die("NVME_P2P_IOCTL_QUEUE_INFO");
	sq = map_part(q, qi.sq_bytes, NVME_P2P_QUEUE_OFF_SQ, "mmap SQ");
	cq = map_part(q, qi.cq_bytes, NVME_P2P_QUEUE_OFF_CQ, "mmap CQ");
	db = map_part(q, qi.db_bytes, NVME_P2P_QUEUE_OFF_DB, "mmap doorbells");
	sq_db = (volatile uint32_t *)(db + qi.sq_db_offset);
	cq_db = (volatile uint32_t *)(db + qi.cq_db_offset);

	for (i = 0; i < count; i++) {
		uint8_t sqe[SQE_BYTES] = { 0 };
		uint32_t cdw0 = NVME_CMD_FLUSH | (i & 0xffff) << 16, nsid = 1;
		volatile uint8_t *cqe = cq + head * CQE_BYTES;
		double deadline = now() + TIMEOUT_SEC;
		uint16_t status;

		memcpy(sqe, &cdw0, 4);
		memcpy(sqe + 4, &nsid, 4);
		memcpy(sq + tail * SQE_BYTES, sqe, SQE_BYTES);
		tail = (tail + 1) % qi.depth;
		__sync_synchronize();	/* the entry before the doorbell */
		*sq_db = tail;

		while (((status = *(volatile uint16_t *)(cqe + 14)) & 1) != phase) {
			if (now() > deadline) {
				fprintf(stderr, "nvme-cli-queue-io: no completion for command %u in %d s\n",
					i, TIMEOUT_SEC);
				return 1;
			}
		}
		__sync_synchronize();
		if (status >> 1) {
			fprintf(stderr, "nvme-cli-queue-io: command %u failed, status %#x\n",
				i, status >> 1);
			return 1;
		}
		if (++head == qi.depth) {
			head = 0;
			phase ^= 1;
		}
		*cq_db = head;
	}

	printf("qid=%u depth=%u count=%u\n", qi.qid, qi.depth, count);
	fflush(stdout);
	if (sigwait(&stop, &sig))
		die("sigwait");
	return 0;
}
