/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libnvmep2p internals: shared by the library's sources and its unit test
 * (tests/host/lib_unit.c, which builds the sources in). Nothing here is
 * exported from the shared library (libnvmep2p.map).
 */
#ifndef LIBNVMEP2P_PRIVATE_H
#define LIBNVMEP2P_PRIVATE_H

#include <stdbool.h>
#include "nvmep2p.h"

#define NVMEP2P_CTRL_NAME_MAX	32
/* Entries of a queue's cid_busy: one per 16-bit CID (see nvmep2p.h). */
#define NVMEP2P_CID_BUSY_ENTRIES	65536

struct nvmep2p_ctrl {
	int fd;
	char name[NVMEP2P_CTRL_NAME_MAX];	/* "nvme0" */
};

struct nvmep2p_queue_private {
	int fd;				/* -1: rings in plain memory (unit test) */
	struct nvme_p2p_queue_info info;	/* as last read from the kernel */
	uint32_t ring_generation;	/* generation the ring state belongs to */
	size_t max_transfer;		/* bytes, 0: no limit */
	void *sq_map, *cq_map, *db_map;	/* the VMAs, NULL if not mmapped */
	size_t sq_len, cq_len, db_len;
	uint8_t *pool;			/* PRP pool: CPU address of slot 0 */
	uint64_t pool_bus;		/* controller address of slot 0 */
	size_t pool_slot;		/* bytes per command identifier */
	uint32_t db_unmapped;		/* cq_db without a CPU mapping */
};

/*
 * A queue on rings in ordinary memory, for the unit test: sq holds depth
 * SQEs, cq depth CQEs (zeroed by the caller), the doorbells are two words.
 * The test plays the controller.
 */
int nvmep2p__queue_init_mem(uint32_t depth, uint16_t qid, void *sq, void *cq,
			    volatile uint32_t *sq_db, volatile uint32_t *cq_db,
			    size_t max_transfer, struct nvmep2p_queue **out);

/* Forget the commands in flight and restart on empty rings; returns how
 * many were lost. */
unsigned int nvmep2p__queue_reset_rings(struct nvmep2p_queue *q,
					void (*lost)(void *data, void *arg),
					void *arg);

/* Ring slots a PRP list of nr_entries needs from controller address bus
 * on (entries plus the chain pointers at 4 KiB boundaries). */
size_t nvmep2p__prp_list_slots(uint64_t bus, size_t nr_entries);

/* "/dev/nvme0" and "nvme0" from dev (see nvmep2p_ctrl_open). */
int nvmep2p__ctrl_path(const char *dev, const char *sysfs_class,
		       char *path, size_t path_size, char *name,
		       size_t name_size);

#endif /* LIBNVMEP2P_PRIVATE_H */
