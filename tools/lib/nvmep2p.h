/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libnvmep2p: drive NVMe I/O queue pairs exported by nvme-pci (nvme-p2p).
 *
 * A controller is opened by name or serial; CMB or host data regions and
 * exported queue pairs are created on it and mmap()ed. Submission and
 * completion are inline and lock-free: a queue must be used by one thread
 * at a time (the caller serialises, as with liburing's rings).
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; none reports through errno alone.
 *
 * Fields of the structs below are little-endian where they are the NVMe
 * wire format (struct nvmep2p_sqe, nvmep2p_cqe, libnvme's nvme_dsm_range)
 * and host-endian elsewhere.
 *
 * NVMe vocabulary - opcodes (nvme_cmd_read, ...), status codes
 * (NVME_SCT_*, NVME_SC_*), I/O and DSM flags, struct nvme_dsm_range - is
 * libnvme's (<nvme/types.h>); this header has only what libnvme lacks: the
 * raw 64-byte SQE and 16-byte CQE and the ring logic. struct nvmep2p_queue is public so that the fast
 * paths can be inline: treat its fields as read-only and private to the
 * library; use the accessors.
 */
#ifndef LIBNVMEP2P_H
#define LIBNVMEP2P_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/nvme_p2p.h>
#include <nvme/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVMEP2P_VERSION_MAJOR	0
#define NVMEP2P_VERSION_MINOR	1

/*
 * Little-endian <-> CPU (the same swap both ways); the header avoids
 * <endian.h>'s htole*, which strict ISO C modes do not declare.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define nvmep2p_le16(v)	((uint16_t)__builtin_bswap16((uint16_t)(v)))
#define nvmep2p_le32(v)	((uint32_t)__builtin_bswap32((uint32_t)(v)))
#define nvmep2p_le64(v)	((uint64_t)__builtin_bswap64((uint64_t)(v)))
#else
#define nvmep2p_le16(v)	((uint16_t)(v))
#define nvmep2p_le32(v)	((uint32_t)(v))
#define nvmep2p_le64(v)	((uint64_t)(v))
#endif

/* The controller memory page size nvme-pci programs (CC.MPS): PRP pages. */
#define NVMEP2P_PAGE_SIZE	4096U

/* ---------------------------------------------------------------------- */
/* Controllers and namespaces                                              */
/* ---------------------------------------------------------------------- */

struct nvmep2p_ctrl;

struct nvmep2p_ns_info {
	uint32_t nsid;
	uint32_t lba_size;	/* bytes per logical block (data only) */
	uint32_t lba_shift;	/* log2(lba_size) */
	uint32_t meta_size;	/* metadata bytes per block (0 usually) */
	uint64_t nsze;		/* namespace size, logical blocks */
	uint64_t ncap;		/* namespace capacity, logical blocks */
	uint8_t lbaf;		/* index of the LBA format in use */
	uint8_t reserved[7];
};

/*
 * dev: "/dev/nvme0", "nvme0", or "serial:SERIAL" (the controller whose
 * /sys/class/nvme/NAME/serial, blanks trimmed, is SERIAL).
 */
int nvmep2p_ctrl_open(const char *dev, struct nvmep2p_ctrl **out);
void nvmep2p_ctrl_close(struct nvmep2p_ctrl *ctrl);
int nvmep2p_ctrl_fd(const struct nvmep2p_ctrl *ctrl);
const char *nvmep2p_ctrl_name(const struct nvmep2p_ctrl *ctrl); /* "nvme0" */
int nvmep2p_ctrl_info(struct nvmep2p_ctrl *ctrl, struct nvme_p2p_info *info);
int nvmep2p_ns_info(struct nvmep2p_ctrl *ctrl, uint32_t nsid,
		    struct nvmep2p_ns_info *info);

/* ---------------------------------------------------------------------- */
/* Data regions                                                            */
/* ---------------------------------------------------------------------- */

struct nvmep2p_region {
	int fd;			/* region descriptor (close via destroy) */
	void *addr;		/* CPU mapping; NULL with NO_CPU_MAP */
	void *map;		/* the mmap()ed VMA, always set: hand this to
				 * importers; with NO_CPU_MAP a CPU touch
				 * raises SIGBUS */
	size_t size;		/* bytes */
	uint64_t bus_addr;	/* controller address of byte 0 (contiguous) */
	uint64_t cmb_offset;	/* offset in the CMB (0 for host regions) */
	unsigned int flags;	/* NVME_P2P_REGION_* */
};

/* flags: NVME_P2P_REGION_NO_CPU_MAP, NVME_P2P_REGION_HOST */
int nvmep2p_region_create(struct nvmep2p_ctrl *ctrl, size_t size,
			  unsigned int flags, struct nvmep2p_region **out);
void nvmep2p_region_destroy(struct nvmep2p_region *region);
/*
 * A dma-buf of size bytes at offset (0: to the end), for importers that
 * take dma-bufs (RDMA NICs, GPU drivers). Returns a new descriptor or
 * -errno; the region lives on until the dma-buf is closed too.
 */
int nvmep2p_region_dmabuf(const struct nvmep2p_region *region, size_t offset,
			  size_t size);

/* ---------------------------------------------------------------------- */
/* NVMe entries (NVMe base specification layout, little-endian)           */
/* ---------------------------------------------------------------------- */

struct nvmep2p_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE, PSDT: 0 (PRPs, not fused) */
	uint16_t cid;		/* set by nvmep2p_queue_get_sqe */
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};

struct nvmep2p_cqe {
	uint32_t result;	/* DW0, command specific */
	uint32_t dw1;
	uint16_t sq_head;	/* SQ head pointer when this was posted */
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;	/* bit 0 phase tag, bits 15:1 status field */
};

#if defined(__cplusplus)
static_assert(sizeof(struct nvmep2p_sqe) == 64, "SQE is 64 bytes");
static_assert(sizeof(struct nvmep2p_cqe) == 16, "CQE is 16 bytes");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct nvmep2p_sqe) == 64, "SQE is 64 bytes");
_Static_assert(sizeof(struct nvmep2p_cqe) == 16, "CQE is 16 bytes");
#endif

/*
 * Command flags in libnvme's terms: Read/Write/Write Zeroes CDW12 takes
 * enum nvme_io_control_flags (NVME_IO_FUA, NVME_IO_LR, NVME_IO_DEAC) in its
 * upper half, Dataset Management CDW11 enum nvme_dsm_attributes
 * (NVME_DSMGMT_AD, _IDR, _IDW), up to NVME_DSM_MAX_RANGES ranges.
 */
#define NVMEP2P_IO_FLAGS(io_control)	((uint32_t)(io_control) << 16)

/* Largest block count of one Read/Write/Write Zeroes (NLB is 16 bits). */
#define NVMEP2P_MAX_NLB			65536U

/*
 * Status as nvmep2p_cqe_status() returns it: the status field without
 * CRD, More and DNR, i.e. libnvme's (NVME_SCT_x << NVME_SCT_SHIFT) |
 * NVME_SC_y; 0 is success. nvme_status_code_type() and nvme_status_code()
 * take it apart, nvme_status_to_errno() maps it to an errno.
 */
#define NVMEP2P_STATUS(sct, sc)		((NVME_SCT_##sct << NVME_SCT_SHIFT) | (sc))

/*
 * Deprecated: libnvmep2p 0.1's own names, kept so that old sources build.
 * They are libnvme's values; new code uses libnvme's names.
 */
#define NVMEP2P_OP_FLUSH		nvme_cmd_flush
#define NVMEP2P_OP_WRITE		nvme_cmd_write
#define NVMEP2P_OP_READ			nvme_cmd_read
#define NVMEP2P_OP_WRITE_ZEROES		nvme_cmd_write_zeroes
#define NVMEP2P_OP_DSM			nvme_cmd_dsm
#define NVMEP2P_RW_FUA			NVMEP2P_IO_FLAGS(NVME_IO_FUA)
#define NVMEP2P_RW_LR			NVMEP2P_IO_FLAGS(NVME_IO_LR)
#define NVMEP2P_WZ_DEAC			NVMEP2P_IO_FLAGS(NVME_IO_DEAC)
#define NVMEP2P_DSM_IDR			NVME_DSMGMT_IDR
#define NVMEP2P_DSM_IDW			NVME_DSMGMT_IDW
#define NVMEP2P_DSM_AD			NVME_DSMGMT_AD
#define NVMEP2P_DSM_MAX_RANGES		NVME_DSM_MAX_RANGES
#define nvmep2p_dsm_range		nvme_dsm_range
#define NVMEP2P_SCT(status)		nvme_status_code_type((uint16_t)(status))
#define NVMEP2P_SC(status)		nvme_status_code((uint16_t)(status))
#define NVMEP2P_SCT_GENERIC		NVME_SCT_GENERIC
#define NVMEP2P_SCT_CMD_SPECIFIC	NVME_SCT_CMD_SPECIFIC
#define NVMEP2P_SCT_MEDIA		NVME_SCT_MEDIA
#define NVMEP2P_SCT_PATH		NVME_SCT_PATH
#define NVMEP2P_SCT_VENDOR		NVME_SCT_VS
#define NVMEP2P_STATUS_SUCCESS		NVMEP2P_STATUS(GENERIC, NVME_SC_SUCCESS)
#define NVMEP2P_STATUS_INVALID_OPCODE	NVMEP2P_STATUS(GENERIC, NVME_SC_INVALID_OPCODE)
#define NVMEP2P_STATUS_INVALID_FIELD	NVMEP2P_STATUS(GENERIC, NVME_SC_INVALID_FIELD)
#define NVMEP2P_STATUS_CID_CONFLICT	NVMEP2P_STATUS(GENERIC, NVME_SC_CMDID_CONFLICT)
#define NVMEP2P_STATUS_DATA_XFER_ERROR	NVMEP2P_STATUS(GENERIC, NVME_SC_DATA_XFER_ERROR)
#define NVMEP2P_STATUS_INTERNAL		NVMEP2P_STATUS(GENERIC, NVME_SC_INTERNAL)
#define NVMEP2P_STATUS_ABORT_SQ_DELETED	NVMEP2P_STATUS(GENERIC, NVME_SC_ABORT_QUEUE)
#define NVMEP2P_STATUS_INVALID_NS	NVMEP2P_STATUS(GENERIC, NVME_SC_INVALID_NS)
#define NVMEP2P_STATUS_LBA_RANGE	NVMEP2P_STATUS(GENERIC, NVME_SC_LBA_RANGE)
#define NVMEP2P_STATUS_CAP_EXCEEDED	NVMEP2P_STATUS(GENERIC, NVME_SC_CAP_EXCEEDED)
#define NVMEP2P_STATUS_NS_NOT_READY	NVMEP2P_STATUS(GENERIC, NVME_SC_NS_NOT_READY)
#define NVMEP2P_STATUS_WRITE_FAULT	NVMEP2P_STATUS(MEDIA, NVME_SC_WRITE_FAULT)
#define NVMEP2P_STATUS_UNRECOVERED_READ	NVMEP2P_STATUS(MEDIA, NVME_SC_READ_ERROR)

/*
 * The name of a status (nvmep2p_cqe_status()) as libnvme's
 * nvme_status_to_string() gives it, without its explanation: "LBA Out of
 * Range". Never NULL.
 */
const char *nvmep2p_status_str(int status);

/* ---------------------------------------------------------------------- */
/* Queue pairs                                                             */
/* ---------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define NVMEP2P__UNLIKELY(x)	__builtin_expect(!!(x), 0)
#else
#define NVMEP2P__UNLIKELY(x)	(x)
#endif

/* The last 8 bytes of a CQE, in host order: SQ ID and phase tag. */
#define NVMEP2P__CQE_MASK	(0xffffULL << 16 | 1ULL << 48)
#define NVMEP2P__CQE_PHASE	(1ULL << 48)

struct nvmep2p_queue_params {
	unsigned int depth;		/* entries per ring, 2..max_queue_depth */
	unsigned int flags;		/* NVME_P2P_QUEUE_*_NO_CPU_MAP */
	unsigned char sq_placement;	/* NVME_P2P_SQ_* (0: CMB preferred) */
	unsigned char cq_placement;	/* NVME_P2P_CQ_* (0: host) */
};

/*
 * Library state of a queue pair. Public only so that the fast paths can be
 * inline: read it through the accessors, never write it.
 */
struct nvmep2p_queue {
	/* Submission: touched by get_sqe/submit. */
	struct nvmep2p_sqe *sq;		/* NULL: no CPU mapping */
	volatile uint32_t *sq_db;	/* NULL: no CPU mapping */
	uint32_t depth;
	uint32_t sq_tail;		/* next slot get_sqe hands out */
	uint32_t sq_tail_rung;		/* tail last written to the doorbell */
	uint32_t sq_head;		/* from the newest CQE consumed, as it
					 * says: a value past the ring (a
					 * controller's bug) limits nothing,
					 * the CIDs still bound the queue */

	/* Completion: touched by peek/seen/ring_cq. */
	struct nvmep2p_cqe *cq;		/* NULL: no CPU mapping */
	volatile uint32_t *cq_db;	/* no CPU mapping: a word of the
					 * library's (NULL before 0.5) */
	uint32_t cq_head;
	uint32_t cq_head_rung;		/* head last written to the doorbell */
	uint16_t qid;
	uint8_t cq_phase;		/* phase tag of a new entry at cq_head */
	uint8_t sq_cpu;			/* SQ and SQ doorbell have CPU mappings */

	/* Command identifiers: unique among the commands in flight. */
	uint32_t cid_nr_free;
	uint16_t *cid_free;		/* stack of free CIDs */
	uint16_t *slot_cid;		/* CID of the SQE in each SQ slot */
	uint8_t *cid_busy;		/* CID handed out, not yet completed:
					 * one entry per 16-bit CID, 0 from
					 * depth on (any CQE's CID indexes it) */
	void **cid_data;		/* user data per CID */
	uint64_t spurious;		/* CQEs naming no command in flight */

	/* Used by the out-of-line functions only. */
	struct nvmep2p_queue_private *priv;

	/*
	 * Since LIBNVMEP2P_0.5, after the fields above so that those keep
	 * their offsets for programs built with an older header (which never
	 * read this): the last 8 bytes of a new entry at cq_head under
	 * NVMEP2P__CQE_MASK (SQ ID and phase tag), kept with cq_phase.
	 */
	uint64_t cq_match;
};

/*
 * Since LIBNVMEP2P_0.5 the per-CID arrays sit at fixed offsets from the
 * queue, each sized for every 16-bit CID (the pages past what depth uses
 * are never touched), so that the inline paths reach them from q alone:
 * cid_busy, cid_data and cid_free point there too.
 */
#define NVMEP2P__Q_BUSY		4096u
#define NVMEP2P__Q_DATA		(NVMEP2P__Q_BUSY + 65536u)
#define NVMEP2P__Q_FREE		(NVMEP2P__Q_DATA + 65536u * sizeof(void *))
#define NVMEP2P__Q_SIZE		(NVMEP2P__Q_FREE + 65536u * sizeof(uint16_t))

static inline uint8_t *__nvmep2p_cid_busy(const struct nvmep2p_queue *q)
{
	return (uint8_t *)(uintptr_t)q + NVMEP2P__Q_BUSY;
}

static inline void **__nvmep2p_cid_data(const struct nvmep2p_queue *q)
{
	return (void **)((uint8_t *)(uintptr_t)q + NVMEP2P__Q_DATA);
}

static inline uint16_t *__nvmep2p_cid_free(const struct nvmep2p_queue *q)
{
	return (uint16_t *)((uint8_t *)(uintptr_t)q + NVMEP2P__Q_FREE);
}

int nvmep2p_queue_create(struct nvmep2p_ctrl *ctrl,
			 const struct nvmep2p_queue_params *params,
			 struct nvmep2p_queue **out);
/*
 * A ring in another device's memory: a dma-buf (a GPU's memory, another
 * controller's CMB region through nvmep2p_region_dmabuf(), a udmabuf) and
 * the ring's first byte in it, a multiple of 4096. cpu: the caller's own
 * CPU mapping of the ring, or NULL for the library to mmap() it through
 * the queue, which works where the dma-buf's exporter allows the CPU in
 * (udmabuf does; nvme-p2p's CMB exports do not: pass the region's
 * mapping). Without either the ring is the peer's alone (as with
 * NVME_P2P_QUEUE_*_NO_CPU_MAP). The library zeroes a CQ it reaches before
 * creating the queue and before resuming it (nvmep2p_queue_resync()).
 */
struct nvmep2p_ring_mem {
	int dmabuf_fd;
	uint64_t offset;
	void *cpu;
};

/*
 * nvmep2p_queue_create() with the SQ, the CQ or both in dma-bufs (sq or cq
 * NULL: that ring as params places it). The caller keeps the dma-buf
 * descriptors; the queue holds the memory until it is destroyed. When the
 * memory's exporter takes it back the queue is revoked (resync: -ENODEV).
 */
int nvmep2p_queue_create_dmabuf(struct nvmep2p_ctrl *ctrl,
				const struct nvmep2p_queue_params *params,
				const struct nvmep2p_ring_mem *sq,
				const struct nvmep2p_ring_mem *cq,
				struct nvmep2p_queue **out);
void nvmep2p_queue_destroy(struct nvmep2p_queue *q);
int nvmep2p_queue_fd(const struct nvmep2p_queue *q);	/* poll(): EPOLLPRI on reset */
/* Asks the kernel (NVME_P2P_IOCTL_QUEUE_INFO); info may be NULL. */
int nvmep2p_queue_info(struct nvmep2p_queue *q, struct nvme_p2p_queue_info *info);
/*
 * After a controller reset re-created the rings (generation bump): forget
 * the commands in flight (their outcome is unknown), calling lost(data,
 * arg) for each if lost is not NULL, and start over on the empty rings.
 * Returns the number of commands lost (0 if the generation did not change),
 * -EAGAIN while the reset is under way, -ENODEV once the queue is revoked.
 */
int nvmep2p_queue_resync(struct nvmep2p_queue *q,
			 void (*lost)(void *data, void *arg), void *arg);

/* The mmap()ed VMAs, for importer drivers (set even with *_NO_CPU_MAP). */
void *nvmep2p_queue_sq_map(const struct nvmep2p_queue *q);
void *nvmep2p_queue_cq_map(const struct nvmep2p_queue *q);
void *nvmep2p_queue_db_map(const struct nvmep2p_queue *q);
/*
 * A dma-buf of one part of the queue: NVME_P2P_QUEUE_OFF_SQ, _CQ or _DB.
 * Returns a new descriptor or -errno.
 */
int nvmep2p_queue_dmabuf(const struct nvmep2p_queue *q, uint64_t part);
/* Addresses of the two doorbells inside the doorbell VMA. */
void *nvmep2p_queue_sq_doorbell(const struct nvmep2p_queue *q);
void *nvmep2p_queue_cq_doorbell(const struct nvmep2p_queue *q);

static inline unsigned int nvmep2p_queue_qid(const struct nvmep2p_queue *q)
{
	return q->qid;
}

static inline unsigned int nvmep2p_queue_depth(const struct nvmep2p_queue *q)
{
	return q->depth;
}

/* Commands handed out by get_sqe and not yet consumed by cqe_seen. */
static inline unsigned int nvmep2p_queue_inflight(const struct nvmep2p_queue *q)
{
	return q->depth - 1 - q->cid_nr_free;
}

/* ---------------------------------------------------------------------- */
/* Memory ordering                                                         */
/* ---------------------------------------------------------------------- */

/*
 * Store fence: every store before it (SQEs and PRP lists, in write-combined
 * CMB mappings or in host memory) reaches the device before any store after
 * it (the doorbell). x86 sfence drains the write-combining buffers; arm64
 * dsb st waits for the stores to complete.
 */
static inline void nvmep2p_store_fence(void)
{
#if defined(__x86_64__) || (defined(__i386__) && defined(__SSE__))
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dsb st" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * Read fence after the phase check: the CQE's other fields must not be read
 * before its phase tag (a dma_rmb()). x86 never reorders loads with older
 * loads, so only the compiler must be held back.
 */
static inline void nvmep2p_dma_read_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
}

/*
 * Before the CQ head doorbell: the reads of the consumed CQEs complete
 * before the controller learns it may overwrite them. x86 does not reorder
 * a store before older loads.
 */
static inline void nvmep2p_consume_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb osh" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* ---------------------------------------------------------------------- */
/* Submission                                                              */
/* ---------------------------------------------------------------------- */

/*
 * The next free SQ slot, with a fresh command identifier in its CID field,
 * or NULL when the queue is full (depth - 1 commands in flight, or no free
 * slot as far as the newest CQE's SQ head says), or when the SQ or the
 * doorbell has no CPU mapping. Fill it with one nvmep2p_prep_*() (they
 * write every field but the CID), then nvmep2p_queue_submit().
 */
static inline struct nvmep2p_sqe *nvmep2p_queue_get_sqe(struct nvmep2p_queue *q)
{
	uint32_t slot = q->sq_tail, next = slot + 1, nr_free = q->cid_nr_free;
	struct nvmep2p_sqe *sqe;
	uint16_t cid;

	if (next == q->depth)
		next = 0;
	/* sq_cpu: the SQ and its doorbell have CPU mappings. */
	if (NVMEP2P__UNLIKELY(!nr_free || next == q->sq_head || !q->sq_cpu))
		return NULL;
	sqe = q->sq + slot;
	cid = __nvmep2p_cid_free(q)[--nr_free];
	q->cid_nr_free = nr_free;
	q->sq_tail = next;
	__nvmep2p_cid_data(q)[cid] = NULL;
	q->slot_cid[slot] = cid;
	sqe->cid = nvmep2p_le16(cid);
	__nvmep2p_cid_busy(q)[cid] = 1;
	return sqe;
}

/* The command identifier get_sqe put in this SQE (host order). */
static inline unsigned int nvmep2p_sqe_cid(const struct nvmep2p_queue *q,
					   const struct nvmep2p_sqe *sqe)
{
	return q->slot_cid[sqe - q->sq];
}

/* Attach data to the command in sqe; nvmep2p_cqe_get_data() returns it. */
static inline void nvmep2p_sqe_set_data(struct nvmep2p_queue *q,
					struct nvmep2p_sqe *sqe, void *data)
{
	__nvmep2p_cid_data(q)[q->slot_cid[sqe - q->sq]] = data;
}

/*
 * Hand every SQE obtained since the last submit to the controller: a store
 * fence (the SQE and PRP list stores are visible to the controller before
 * the doorbell: rocm-xio#114), then one SQ tail doorbell write. Returns the
 * number of SQEs submitted (0 writes no doorbell).
 */
static inline int nvmep2p_queue_submit(struct nvmep2p_queue *q)
{
	uint32_t tail = q->sq_tail, rung = q->sq_tail_rung;
	int n;

	if (tail == rung)
		return 0;
	n = (int)(tail >= rung ? tail - rung : tail + q->depth - rung);
	nvmep2p_store_fence();
	*q->sq_db = nvmep2p_le32(tail);
	q->sq_tail_rung = tail;
	return n;
}

/* ---------------------------------------------------------------------- */
/* Whole commands                                                          */
/* ---------------------------------------------------------------------- */

#if (defined(__GNUC__) || defined(__clang__)) && \
	(defined(__x86_64__) || defined(__aarch64__))
/* 16-byte vectors: SSE2 on x86-64, NEON on arm64 (both baseline). */
typedef uint16_t nvmep2p__v8u16 __attribute__((vector_size(16)));
typedef uint16_t nvmep2p__v8u16_ua __attribute__((vector_size(16), may_alias,
						   aligned(1)));
typedef uint64_t nvmep2p__v2u64_ua __attribute__((vector_size(16), may_alias,
						   aligned(8)));
#define NVMEP2P__VEC16	1
#endif

/* The last 8 bytes of a CQE, loaded at once (may alias its fields). */
#if defined(__GNUC__) || defined(__clang__)
typedef uint64_t nvmep2p__u64_alias __attribute__((may_alias));
#else
typedef uint64_t nvmep2p__u64_alias;
#endif

/*
 * Copy the 64-byte command cmd (ordinary memory, any alignment) to the SQ
 * slot dst with full-width stores, its CID replaced by cid on the way (in
 * a register: the slot is written once, front to back). Four 16-byte
 * stores where the CPU has them, eight 8-byte ones elsewhere; never a
 * byte or field at a time, which a write-combined CMB or peer memory
 * would turn into partial writes.
 */
static inline void __nvmep2p_sqe_copy(struct nvmep2p_sqe *dst,
				     const struct nvmep2p_sqe *cmd, uint16_t cid)
{
#ifdef NVMEP2P__VEC16
	const nvmep2p__v8u16_ua *s = (const nvmep2p__v8u16_ua *)cmd;
	volatile nvmep2p__v8u16 *d = (volatile nvmep2p__v8u16 *)dst;
	nvmep2p__v8u16 v0 = s[0], v1 = s[1], v2 = s[2], v3 = s[3];

	v0[1] = nvmep2p_le16(cid);
	d[0] = v0;
	d[1] = v1;
	d[2] = v2;
	d[3] = v3;
#else
	volatile uint64_t *d = (volatile uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)cmd;
	uint64_t w0 = s[0];
	unsigned int i;

	/* CID: bytes 2-3 of the little-endian first quad word. */
	w0 = nvmep2p_le64((nvmep2p_le64(w0) & ~0xffff0000ULL) |
			  (uint64_t)cid << 16);
	d[0] = w0;
	for (i = 1; i < 8; i++)
		d[i] = s[i];
#endif
}

/*
 * Put the command cmd, built in ordinary memory (any nvmep2p_prep_*()
 * builds one), at the SQ tail: the library gives it a free command
 * identifier, copies it with full-width stores (nvme-pci's
 * nvme_sq_copy_cmd: the right thing for an SQ in write-combined CMB or
 * peer memory) and attaches data to it (nvmep2p_cqe_get_data() and
 * nvmep2p_queue_poll() give it back). cmd's own CID field is ignored.
 * nvmep2p_queue_submit() rings the doorbell for every command pushed.
 * Returns the CID, -EBUSY when the queue is full (as get_sqe: depth - 1
 * in flight, or no SQ slot free as far as the newest CQE says),
 * -EOPNOTSUPP when the SQ or its doorbell has no CPU mapping.
 */
static inline int nvmep2p_queue_push_cmd(struct nvmep2p_queue *q,
					 const struct nvmep2p_sqe *cmd,
					 void *data)
{
	uint32_t slot = q->sq_tail, next = slot + 1, nr_free = q->cid_nr_free;
	uint16_t cid;

	if (next == q->depth)
		next = 0;
	if (NVMEP2P__UNLIKELY(!nr_free || next == q->sq_head || !q->sq_cpu))
		return q->sq_cpu ? -EBUSY : -EOPNOTSUPP;
	cid = __nvmep2p_cid_free(q)[--nr_free];
	q->cid_nr_free = nr_free;
	q->sq_tail = next;
	__nvmep2p_cid_data(q)[cid] = data;
	__nvmep2p_sqe_copy(&q->sq[slot], cmd, cid);
	__nvmep2p_cid_busy(q)[cid] = 1;
	return cid;
}

/*
 * push_cmd and submit in one, for a caller that submits its commands one
 * at a time: the command goes to the SQ tail as push_cmd puts it there,
 * then the store fence and the SQ tail doorbell (covering any command
 * pushed before it, too). Returns the CID, -EBUSY or -EOPNOTSUPP as
 * push_cmd (nothing is written then).
 */
static inline int nvmep2p_queue_submit_cmd(struct nvmep2p_queue *q,
					   const struct nvmep2p_sqe *cmd,
					   void *data)
{
	uint32_t slot = q->sq_tail, next = slot + 1, nr_free = q->cid_nr_free;
	uint16_t cid;

	if (next == q->depth)
		next = 0;
	if (NVMEP2P__UNLIKELY(!nr_free || next == q->sq_head || !q->sq_cpu))
		return q->sq_cpu ? -EBUSY : -EOPNOTSUPP;
	cid = __nvmep2p_cid_free(q)[--nr_free];
	q->cid_nr_free = nr_free;
	q->sq_tail = next;
	__nvmep2p_cid_data(q)[cid] = data;
	__nvmep2p_cid_busy(q)[cid] = 1;
	__nvmep2p_sqe_copy(&q->sq[slot], cmd, cid);
	nvmep2p_store_fence();
	*q->sq_db = nvmep2p_le32(next);
	q->sq_tail_rung = next;
	return cid;
}

/*
 * Copy n commands to consecutive SQ slots from sqe on (no wrap), with the
 * CIDs cids[0..n-1] (taken off the free stack).
 */
static inline void __nvmep2p_push_run(struct nvmep2p_sqe *sqe,
				      const struct nvmep2p_sqe *cmds,
				      void *const *data, const uint16_t *cids,
				      uint8_t *cid_busy, void **cid_data,
				      uint32_t n)
{
	uint32_t i;

	if (data) {
		for (i = 0; i < n; i++) {
			uint16_t cid = cids[i];

			cid_data[cid] = data[i];
			__nvmep2p_sqe_copy(&sqe[i], &cmds[i], cid);
			cid_busy[cid] = 1;
		}
	} else {
		for (i = 0; i < n; i++) {
			uint16_t cid = cids[i];

			cid_data[cid] = NULL;
			__nvmep2p_sqe_copy(&sqe[i], &cmds[i], cid);
			cid_busy[cid] = 1;
		}
	}
}

static inline int nvmep2p_queue_push_cmds(struct nvmep2p_queue *q,
					  const struct nvmep2p_sqe *cmds,
					  void *const *data, unsigned int nr)
{
	uint32_t tail = q->sq_tail, depth = q->depth, nr_free = q->cid_nr_free;
	uint32_t room = q->sq_head + depth - tail - 1, run;
	struct nvmep2p_sqe *sq = q->sq;
	uint16_t *cids;
	uint8_t *cid_busy = __nvmep2p_cid_busy(q);
	void **cid_data = __nvmep2p_cid_data(q);

	if (nr == 1) {
		/* One command: push_cmd's path, without the batch set-up. */
		int ret = nvmep2p_queue_push_cmd(q, cmds, data ? data[0] : NULL);

		return ret >= 0 ? 1 : ret == -EBUSY ? 0 : ret;
	}
	if (NVMEP2P__UNLIKELY(!q->sq_cpu))
		return -EOPNOTSUPP;
	/* Queue full: SQ slots free as far as the newest CQE says, and CIDs. */
	if (room >= depth)
		room -= depth;
	if (nr > room)
		nr = room;
	if (nr > nr_free)
		nr = nr_free;
	/*
	 * The top nr CIDs of the free stack, taken in stack order from the
	 * bottom one up, but cmds[0] gets the top (as push_cmd would: the
	 * CID whose pool slot nvmep2p_queue_next_cmd_mem() reported).
	 */
	cids = __nvmep2p_cid_free(q) + nr_free - nr;
	if (nr > 1) {
		uint16_t top = cids[nr - 1];

		cids[nr - 1] = cids[0];
		cids[0] = top;
	}
	/* Up to the end of the ring, then from its start. */
	run = depth - tail;
	if (run > nr)
		run = nr;
	__nvmep2p_push_run(sq + tail, cmds, data, cids, cid_busy, cid_data, run);
	/* Read again rather than held across the copies. */
	if (NVMEP2P__UNLIKELY(run < nr))
		__nvmep2p_push_run(q->sq, cmds + run, data ? data + run : NULL,
				   __nvmep2p_cid_free(q) + q->cid_nr_free - nr + run,
				   cid_busy, cid_data, nr - run);
	tail = q->sq_tail + nr;
	if (tail >= q->depth)
		tail -= q->depth;
	q->cid_nr_free -= nr;
	q->sq_tail = tail;
	return (int)nr;
}

/*
 * The memory of the command the next push_cmd will take, in the PRP pool
 * (nvmep2p_queue_attach_prp_pool), for its PRP list or DSM ranges: as
 * nvmep2p_queue_cmd_mem. -EBUSY when the queue is full, -ENOSPC without a
 * pool.
 */
int nvmep2p_queue_next_cmd_mem(struct nvmep2p_queue *q, void **addr,
			       uint64_t *bus_addr, size_t *size);
/*
 * PRP1 and PRP2 of the command the next push_cmd will take, for a buffer
 * at controller address addr, len bytes (as nvmep2p_prp_fill with the
 * queue's largest transfer and, for a list, the command's pool slot).
 */
int nvmep2p_queue_next_prps(struct nvmep2p_queue *q, uint64_t addr,
			    size_t len, uint64_t *prp1, uint64_t *prp2);

/* ---------------------------------------------------------------------- */
/* Completion                                                              */
/* ---------------------------------------------------------------------- */

/*
 * Report CQ head head to the controller: after the consumed entries were
 * read, the doorbell write (a word of the library's without a CPU
 * mapping of the doorbells).
 */
static inline void __nvmep2p_cq_doorbell(struct nvmep2p_queue *q, uint32_t head)
{
	nvmep2p_consume_fence();
	*q->cq_db = nvmep2p_le32(head);
	q->cq_head_rung = head;
}

/* Write the CQ head doorbell if entries were consumed since the last one. */
static inline void nvmep2p_queue_ring_cq(struct nvmep2p_queue *q)
{
	uint32_t head = q->cq_head;

	if (head == q->cq_head_rung)
		return;
	__nvmep2p_cq_doorbell(q, head);
}

/*
 * The CQE at the CQ head if the controller has posted it (its phase tag
 * is the current phase): 0 and *cqe set. -EAGAIN if there is none; then
 * the CQ head doorbell is written if consumed entries were not yet
 * reported, so a caller that polls until something arrives never stalls
 * the controller. -ESTALE if the entry is not of this queue (rings
 * re-created by a controller reset: nvmep2p_queue_resync()). -EOPNOTSUPP
 * without a CPU mapping of the CQ.
 */
static inline int nvmep2p_queue_peek_cqe(struct nvmep2p_queue *q,
					 struct nvmep2p_cqe **cqe)
{
	struct nvmep2p_cqe *cq = q->cq, *e;
	uint32_t head = q->cq_head;
	uint64_t w;

	if (NVMEP2P__UNLIKELY(!cq))
		return -EOPNOTSUPP;
	e = cq + head;
	/* The controller writes it: one fresh load of SQ ID and phase tag. */
	w = nvmep2p_le64(*(const volatile nvmep2p__u64_alias *)&e->sq_head);
	if (NVMEP2P__UNLIKELY((w & NVMEP2P__CQE_MASK) != q->cq_match)) {
		if (!((w ^ q->cq_match) & NVMEP2P__CQE_PHASE))
			return -ESTALE;		/* posted, of another queue */
		/* ring_cq, the head already at hand */
		if (head != q->cq_head_rung) {
			__nvmep2p_cq_doorbell(q, head);
		}
		return -EAGAIN;
	}
	/* Read the rest of the entry only after its phase tag. */
	nvmep2p_dma_read_fence();
	*cqe = e;
	return 0;
}

/* The data attached to the command of cqe (before cqe_seen), or NULL. */
static inline void *nvmep2p_cqe_get_data(const struct nvmep2p_queue *q,
					 const struct nvmep2p_cqe *cqe)
{
	uint16_t cid = nvmep2p_le16(cqe->cid);

	/* cid_busy covers every CID: 0 for one not in flight or >= depth. */
	return __nvmep2p_cid_busy(q)[cid] ? __nvmep2p_cid_data(q)[cid] : NULL;
}

/*
 * Consume the CQE peek returned: its command identifier is free again,
 * the SQ head it reports frees SQ slots, the CQ head moves on (flipping
 * the phase at the wrap). The CQ head doorbell is written by ring_cq (or
 * by the next peek that finds the CQ empty), so it can be batched.
 */
static inline void nvmep2p_queue_cqe_seen(struct nvmep2p_queue *q,
					  struct nvmep2p_cqe *cqe)
{
	uint16_t cid = nvmep2p_le16(cqe->cid);
	uint32_t head = q->cq_head + 1, nr_free = q->cid_nr_free;

	/* Valid and in flight (cid_busy is 0 for every CID >= depth), tested
	 * and cleared in one as poll does. Its data is left as it is: only a
	 * busy CID's data is ever read. */
	if (NVMEP2P__UNLIKELY(--__nvmep2p_cid_busy(q)[cid])) {
		__nvmep2p_cid_busy(q)[cid] = 0;
		q->spurious++;
	} else {
		__nvmep2p_cid_free(q)[nr_free] = cid;
		q->cid_nr_free = nr_free + 1;
	}
	q->sq_head = nvmep2p_le16(cqe->sq_head);
	if (NVMEP2P__UNLIKELY(head == q->depth)) {
		head = 0;
		q->cq_phase ^= 1;
		q->cq_match ^= NVMEP2P__CQE_PHASE;
	}
	q->cq_head = head;
}

/*
 * Copy up to max posted CQEs to cqes[] (and their commands' data to
 * data[], if not NULL), consume them and write the CQ head doorbell.
 * Returns how many, or a negative errno as peek_cqe (-ESTALE, -EOPNOTSUPP)
 * when none was reaped.
 */
int nvmep2p_queue_reap(struct nvmep2p_queue *q, struct nvmep2p_cqe *cqes,
		       void **data, unsigned int max);

/* A completion as nvmep2p_queue_poll() reports it. */
struct nvmep2p_cmpl {
	void *data;		/* attached to the command (push_cmd, set_data) */
	uint16_t cid;		/* host order */
	uint16_t status;	/* the CQE's status field (host order): decode
				 * with nvmep2p_cmpl_status() */
	uint32_t reserved;
};

/* SCT << 8 | SC of a completion, as nvmep2p_cqe_status(): 0 is success. */
static inline int nvmep2p_cmpl_status(const struct nvmep2p_cmpl *c)
{
	return (c->status >> 1) & 0x7ff;
}

/*
 * Reap up to max posted completions into out[]: for each the command's
 * data, CID and status; their CIDs are free again, the SQ head they report
 * frees SQ slots, and the CQ head doorbell is written once for all.
 * Entries that name no command in flight are consumed and counted as
 * spurious, not reported. Returns how many were reported (0: none
 * posted), -ESTALE when the entry at the head is not of this queue (rings
 * re-created by a controller reset: nvmep2p_queue_resync()), -EOPNOTSUPP
 * without a CPU mapping of the CQ. Each entry is checked with one 8-byte
 * load of its last half (SQ ID, CID, phase): one snapshot, so the other
 * fields cannot be older than the phase tag.
 */

/* Fill a completion: data, and cs (CID | status << 16, host order). */
static inline void __nvmep2p_cmpl_set(struct nvmep2p_cmpl *o, void *data, uint32_t cs)
{
	o->data = data;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	o->cid = (uint16_t)cs;
	o->status = (uint16_t)(cs >> 16);
#else
	__builtin_memcpy(&o->cid, &cs, sizeof(cs));
#endif
}

/*
 * Reap the posted entries from e on, up to lim (not wrapping), for poll:
 * the completions go to *op, their CIDs onto *free_top. Returns where it
 * stopped (lim, or the first entry not posted or not of this queue: its
 * last 8 bytes in *w).
 */
static inline const struct nvmep2p_cqe *
__nvmep2p_poll_run(struct nvmep2p_queue *q, const struct nvmep2p_cqe *e,
		   const struct nvmep2p_cqe *lim, uint64_t match,
		   struct nvmep2p_cmpl **op, uint16_t **free_top,
		   uint8_t *cid_busy, void *const *cid_data, uint64_t *wp)
{
	struct nvmep2p_cmpl *o = *op;
	uint16_t *f = *free_top;
	size_t left = (size_t)(lim - e);

	if (!left)
		goto out;
	for (;; e++) {
		uint64_t w;
		uint32_t cs, cid;

		/* SQ head, SQ ID, CID, status: the controller writes them. */
		w = nvmep2p_le64(*(const volatile nvmep2p__u64_alias *)&e->sq_head);
		if ((w & NVMEP2P__CQE_MASK) != match) {
			*wp = w;
			break;
		}
		cs = (uint32_t)(w >> 32);	/* CID, status */
		cid = cs & 0xffff;
		/*
		 * Valid and in flight (cid_busy is 0 for every CID >= depth):
		 * test and clear in one, 1 - 1 is 0; a 0 is put back.
		 */
		if (NVMEP2P__UNLIKELY(--cid_busy[cid])) {
			cid_busy[cid] = 0;
			q->spurious++;
		} else {
			__nvmep2p_cmpl_set(o, cid_data[cid], cs);
			o++;
			*f++ = (uint16_t)cid;
		}
		if (!--left) {
			e++;
			break;
		}
	}
out:
	*op = o;
	*free_top = f;
	return e;
}

static inline int nvmep2p_queue_poll(struct nvmep2p_queue *q,
				     struct nvmep2p_cmpl *out, unsigned int max)
{
	const struct nvmep2p_cqe *cq = q->cq, *start, *lim, *e, *last;
	uint32_t head = q->cq_head, run = q->depth - head;
	uint16_t *free_top = __nvmep2p_cid_free(q) + q->cid_nr_free;
	struct nvmep2p_cmpl *o = out;
	uint64_t match = q->cq_match, w = 0;
	uint32_t n;

	if (NVMEP2P__UNLIKELY(!cq))
		return -EOPNOTSUPP;
	/* Up to the end of the ring at most, then (rarely) from its start. */
	if (run > max)
		run = max;
	start = cq + head;
	lim = start + run;
	e = __nvmep2p_poll_run(q, start, lim, match, &o, &free_top,
			       __nvmep2p_cid_busy(q), __nvmep2p_cid_data(q), &w);
	if (NVMEP2P__UNLIKELY(e == start)) {
		/* None: posted (phase matches) but of another queue: stale. */
		if (max && !((w ^ match) & NVMEP2P__CQE_PHASE))
			return -ESTALE;
		return 0;
	}
	last = e - 1;
	/* The fields are read again below rather than held across the loop. */
	cq = q->cq;
	if (NVMEP2P__UNLIKELY(e == lim) && lim == cq + q->depth) {
		/* The wrap: the phase flips; less than one lap in all. */
		uint32_t left = max - (uint32_t)(lim - start);

		head = q->cq_head;
		e = cq;
		match ^= NVMEP2P__CQE_PHASE;
		q->cq_match = match;
		q->cq_phase ^= 1;
		if (left) {
			e = __nvmep2p_poll_run(q, cq, cq + (left < head ? left : head),
					       match, &o, &free_top,
					       __nvmep2p_cid_busy(q),
					       __nvmep2p_cid_data(q), &w);
			if (e != cq)
				last = e - 1;
		}
	}
	n = (uint32_t)(o - out);
	head = (uint32_t)(e - cq);
	q->cid_nr_free += n;
	q->cq_head = head;
	/* The SQ head the newest entry reports. */
	q->sq_head = nvmep2p_le16(last->sq_head);
	__nvmep2p_cq_doorbell(q, head);
	return (int)n;
}

/*
 * Reap at most one posted completion into *out: poll() for a caller that
 * keeps one command in flight (queue depth 1), without poll()'s batch
 * set-up. The entry is checked with the same one 8-byte load, its CID
 * freed, the SQ head it reports taken and the CQ head doorbell written
 * for it. Returns 1 with *out filled, 0 when none is posted or the entry
 * consumed named no command in flight (counted as spurious), -ESTALE and
 * -EOPNOTSUPP as poll().
 */
static inline int nvmep2p_queue_poll_one(struct nvmep2p_queue *q,
					 struct nvmep2p_cmpl *out)
{
	const struct nvmep2p_cqe *cq = q->cq;
	uint32_t head = q->cq_head, cs, cid;
	uint64_t match = q->cq_match, w;

	if (NVMEP2P__UNLIKELY(!cq))
		return -EOPNOTSUPP;
	/* SQ head, SQ ID, CID, status: the controller writes them. */
	w = nvmep2p_le64(*(const volatile nvmep2p__u64_alias *)&cq[head].sq_head);
	if ((w & NVMEP2P__CQE_MASK) != match)
		return (w ^ match) & NVMEP2P__CQE_PHASE ? 0 : -ESTALE;
	cs = (uint32_t)(w >> 32);	/* CID, status */
	cid = cs & 0xffff;
	if (NVMEP2P__UNLIKELY(++head == q->depth)) {
		head = 0;
		q->cq_phase ^= 1;
		q->cq_match = match ^ NVMEP2P__CQE_PHASE;
	}
	q->cq_head = head;
	q->sq_head = (uint16_t)w;
	__nvmep2p_cq_doorbell(q, head);
	/* Valid and in flight (0 for every CID >= depth): test and clear
	 * in one, as poll. */
	if (NVMEP2P__UNLIKELY(--__nvmep2p_cid_busy(q)[cid])) {
		__nvmep2p_cid_busy(q)[cid] = 0;
		q->spurious++;
		return 0;
	}
	__nvmep2p_cid_free(q)[q->cid_nr_free++] = (uint16_t)cid;
	__nvmep2p_cmpl_set(out, __nvmep2p_cid_data(q)[cid], cs);
	return 1;
}

/*
 * Waiting for completions. NVMEP2P_WAIT_HYBRID (0, the default) learns
 * how long waits take (the time until the completions waited for are
 * posted, and how much later than asked a sleep ends) and sleeps through
 * the part of the wait it expects to be empty, then polls for the rest,
 * like io_uring's hybrid polling; it sleeps a little at a time when the
 * completions are late. SPIN polls without pause, YIELD calls
 * sched_yield() between polls, SLEEP sleeps sleep_ns between polls. Zero
 * the struct to start; the library keeps the learned figures and counters
 * in it.
 */
#define NVMEP2P_WAIT_HYBRID	0
#define NVMEP2P_WAIT_SPIN	1
#define NVMEP2P_WAIT_YIELD	2
#define NVMEP2P_WAIT_SLEEP	3

struct nvmep2p_wait {
	unsigned int mode;		/* NVMEP2P_WAIT_* */
	unsigned int sleep_ns;		/* SLEEP: each sleep (0: 10 us) */
	/* Learned by HYBRID; 0 until seen. */
	uint64_t expect_ns;		/* how long a wait for expect_nr took */
	uint64_t late_ns;		/* how much later than asked sleeps end */
	uint32_t expect_nr;		/* completions that wait was for */
	uint32_t reserved0;
	/* Counters, since zeroed. */
	uint64_t waits;			/* calls that found too few posted */
	uint64_t sleeps;		/* sleeps taken */
	uint64_t polls;			/* empty polls */
	uint64_t wait_ns;		/* time spent in waits */
	uint64_t sleep_ns_total;	/* of which asleep */
	uint64_t reserved[3];
};

/*
 * Wait until at least want completions are posted on q's CQ, or at least
 * min (1 <= min <= want) once want looks late, or timeout_ns (0: none)
 * passed. Nothing is consumed: nvmep2p_queue_poll() reaps them. Returns the
 * number posted (>= min), -ETIMEDOUT with fewer than min, -ESTALE when the
 * entry at the head is of another queue (nvmep2p_queue_resync()),
 * -EOPNOTSUPP without a CPU mapping of the CQ, -EINVAL when min is 0, above
 * want, or above the commands in flight.
 */
int nvmep2p_queue_wait(struct nvmep2p_queue *q, struct nvmep2p_wait *w,
		       unsigned int min, unsigned int want, uint64_t timeout_ns);

/* SCT << 8 | SC of a CQE (no phase, DNR, More, CRD): 0 is success. */
static inline int nvmep2p_cqe_status(const struct nvmep2p_cqe *cqe)
{
	return (nvmep2p_le16(cqe->status) >> 1) & 0x7ff;
}

/* Do Not Retry: the same command would fail again. */
static inline int nvmep2p_cqe_dnr(const struct nvmep2p_cqe *cqe)
{
	return (nvmep2p_le16(cqe->status) >> 15) & 1;
}

/* ---------------------------------------------------------------------- */
/* Building commands                                                       */
/* ---------------------------------------------------------------------- */

/* Every field of sqe but the CID, each stored once (SQEs may be in WC CMB). */
static inline void nvmep2p_prep_cmd(struct nvmep2p_sqe *sqe, uint8_t opcode,
				    uint32_t nsid, uint64_t prp1, uint64_t prp2,
				    uint32_t cdw10, uint32_t cdw11,
				    uint32_t cdw12, uint32_t cdw13)
{
	/* Two dwords that share an aligned quad word go out as one store. */
	uint64_t *qw = (uint64_t *)sqe;

	sqe->opcode = opcode;
	sqe->flags = 0;
	sqe->nsid = nvmep2p_le32(nsid);
#ifdef NVMEP2P__VEC16
	{
		/* Quad word pairs that are 0 or half 0: one 16-byte store
		 * each (where the half is not a constant 0, as many
		 * instructions as two 8-byte stores). */
		const nvmep2p__v2u64_ua zero = { 0, 0 };
		const nvmep2p__v2u64_ua cdw12_15 = {
			nvmep2p_le64((uint64_t)cdw13 << 32 | cdw12), 0 };

		*(nvmep2p__v2u64_ua *)&qw[1] = zero;	/* CDW2, CDW3, MPTR */
		sqe->prp1 = nvmep2p_le64(prp1);
		sqe->prp2 = nvmep2p_le64(prp2);
		qw[5] = nvmep2p_le64((uint64_t)cdw11 << 32 | cdw10);
		*(nvmep2p__v2u64_ua *)&qw[6] = cdw12_15;
	}
#else
	qw[1] = 0;				/* CDW2, CDW3 */
	sqe->mptr = 0;
	sqe->prp1 = nvmep2p_le64(prp1);
	sqe->prp2 = nvmep2p_le64(prp2);
	qw[5] = nvmep2p_le64((uint64_t)cdw11 << 32 | cdw10);
	qw[6] = nvmep2p_le64((uint64_t)cdw13 << 32 | cdw12);
	qw[7] = 0;				/* CDW14, CDW15 */
#endif
}

/*
 * Read/Write/Write Zeroes: nlb is a count, 1..NVMEP2P_MAX_NLB; cdw12_flags
 * NVMEP2P_IO_FLAGS(enum nvme_io_control_flags).
 */
static inline int nvmep2p_prep_rw(struct nvmep2p_sqe *sqe, uint8_t opcode,
				  uint32_t nsid, uint64_t slba, uint32_t nlb,
				  uint32_t cdw12_flags, uint64_t prp1,
				  uint64_t prp2)
{
	if (!nlb || nlb > NVMEP2P_MAX_NLB || (cdw12_flags & 0xffff))
		return -EINVAL;
	nvmep2p_prep_cmd(sqe, opcode, nsid, prp1, prp2, (uint32_t)slba,
			 (uint32_t)(slba >> 32), (nlb - 1) | cdw12_flags, 0);
	return 0;
}

static inline int nvmep2p_prep_read(struct nvmep2p_sqe *sqe, uint32_t nsid,
				    uint64_t slba, uint32_t nlb,
				    uint64_t prp1, uint64_t prp2)
{
	return nvmep2p_prep_rw(sqe, nvme_cmd_read, nsid, slba, nlb, 0,
			       prp1, prp2);
}

static inline int nvmep2p_prep_write(struct nvmep2p_sqe *sqe, uint32_t nsid,
				     uint64_t slba, uint32_t nlb,
				     uint64_t prp1, uint64_t prp2)
{
	return nvmep2p_prep_rw(sqe, nvme_cmd_write, nsid, slba, nlb, 0,
			       prp1, prp2);
}

static inline void nvmep2p_prep_flush(struct nvmep2p_sqe *sqe, uint32_t nsid)
{
	nvmep2p_prep_cmd(sqe, nvme_cmd_flush, nsid, 0, 0, 0, 0, 0, 0);
}

/* flags: 0 or NVMEP2P_IO_FLAGS(NVME_IO_DEAC | NVME_IO_FUA | ...). No data. */
static inline int nvmep2p_prep_write_zeroes(struct nvmep2p_sqe *sqe,
					    uint32_t nsid, uint64_t slba,
					    uint32_t nlb, uint32_t flags)
{
	return nvmep2p_prep_rw(sqe, nvme_cmd_write_zeroes, nsid, slba, nlb,
			       flags, 0, 0);
}

/*
 * Dataset Management over nr_ranges (1..256) struct nvme_dsm_range at
 * controller address ranges_addr (16-byte aligned; a range list that
 * crosses a 4 KiB page needs its second page in prp2: pass the result of
 * nvmep2p_prp_fill or use nvmep2p_queue_set_prps). attrs: NVME_DSMGMT_AD
 * (deallocate, i.e. trim), NVME_DSMGMT_IDR, NVME_DSMGMT_IDW.
 */
static inline int nvmep2p_prep_dsm(struct nvmep2p_sqe *sqe, uint32_t nsid,
				   unsigned int nr_ranges, uint32_t attrs,
				   uint64_t ranges_addr, uint64_t prp2)
{
	if (!nr_ranges || nr_ranges > NVME_DSM_MAX_RANGES || (ranges_addr & 15) ||
	    (attrs & ~(uint32_t)(NVME_DSMGMT_IDR | NVME_DSMGMT_IDW | NVME_DSMGMT_AD)))
		return -EINVAL;
	nvmep2p_prep_cmd(sqe, nvme_cmd_dsm, nsid, ranges_addr, prp2,
			 nr_ranges - 1, attrs, 0, 0);
	return 0;
}

static inline void nvmep2p_dsm_range_set(struct nvme_dsm_range *range,
					 uint64_t slba, uint32_t nlb)
{
	range->cattr = 0;
	range->nlb = nvmep2p_le32(nlb);
	range->slba = nvmep2p_le64(slba);
}

/* ---------------------------------------------------------------------- */
/* Data pointers (PRPs)                                                    */
/* ---------------------------------------------------------------------- */

/*
 * Memory for a PRP list: CPU pointer and the controller's address of the
 * same byte (8-byte aligned both), and its size. The memory must be
 * contiguous for the controller (a region is) and readable by it: a host
 * region, or a CMB region on a controller with NVME_P2P_INFO_CMB_LISTS.
 */
struct nvmep2p_prp_list {
	void *addr;
	uint64_t bus_addr;
	size_t size;
};

/*
 * PRP1/PRP2 for a buffer that is contiguous for the controller, at
 * controller address addr (4-byte aligned), len bytes (1..max_transfer;
 * max_transfer 0: no limit). A buffer in one page needs only PRP1, in two
 * pages PRP2 is the second page, else the list is built in list (chained
 * across its 4 KiB pages as the specification wants) and PRP2 points at
 * it. -EINVAL for bad arguments or len above max_transfer, -ENOSPC if a
 * list is needed and list is NULL or too small.
 */
int nvmep2p_prp_fill(uint64_t addr, size_t len, size_t max_transfer,
		     const struct nvmep2p_prp_list *list,
		     uint64_t *prp1, uint64_t *prp2);

/* Bytes of PRP list the longest transfer (max_transfer) may need. */
size_t nvmep2p_prp_list_bytes(size_t max_transfer);

/*
 * Per-command memory for PRP lists (and DSM ranges), from a region with a
 * CPU mapping: nvmep2p_queue_prp_pool_bytes(q) bytes of it from offset
 * (page aligned) on, carved in one slot per command identifier.
 * nvmep2p_queue_set_prps then needs no list memory from the caller.
 * -EINVAL (no CPU mapping, misaligned or too small), -EBUSY (commands in
 * flight). The region must outlive the queue's use of it.
 */
size_t nvmep2p_queue_prp_pool_bytes(const struct nvmep2p_queue *q);
int nvmep2p_queue_attach_prp_pool(struct nvmep2p_queue *q,
				  const struct nvmep2p_region *region,
				  size_t offset);
/*
 * Fill sqe's PRP1/PRP2 for a buffer (as nvmep2p_prp_fill, with the queue's
 * max_transfer and the command's pool slot as list memory). Call after
 * the nvmep2p_prep_*() of that SQE.
 */
int nvmep2p_queue_set_prps(struct nvmep2p_queue *q, struct nvmep2p_sqe *sqe,
			   uint64_t addr, size_t len);
/* The command's pool slot (CPU pointer, controller address, size). */
int nvmep2p_queue_cmd_mem(struct nvmep2p_queue *q,
			  const struct nvmep2p_sqe *sqe,
			  void **addr, uint64_t *bus_addr, size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* LIBNVMEP2P_H */
