/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nvme-p2p: export an NVMe controller's memory buffer (CMB) to peer devices.
 *
 * ioctls on the controller character device /dev/nvmeN. Every argument
 * struct starts with @argsz, the size of the struct the caller was built
 * with. Each struct here is at its first version, and its size is the
 * smallest @argsz accepted (below it: EINVAL). A later version only
 * appends fields: the kernel treats the missing tail of an older (smaller)
 * struct as zero, and accepts a newer (larger) one if its extra tail is
 * zero (else E2BIG). Reserved fields, unknown flags and the fields marked
 * "out" must be zero on input (else EINVAL), so that a later version may
 * give them a meaning. INFO and QUEUE_INFO, whose structs are all output,
 * set @argsz to the size they filled (the smaller of the caller's and the
 * kernel's); the other ioctls leave it as given.
 *
 * Errors common to all: ENOTTY (kernel without nvme-p2p export), EFAULT
 * (bad pointer), EINVAL (argsz below the first version, reserved, output
 * or unknown bits set), E2BIG (see above).
 */
#ifndef _UAPI_LINUX_NVME_P2P_H
#define _UAPI_LINUX_NVME_P2P_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* struct nvme_p2p_info.flags */
#define NVME_P2P_INFO_CMB		(1U << 0)  /* CMB registered as p2pmem */
#define NVME_P2P_INFO_CMB_SQS		(1U << 1)  /* CMBSZ.SQS: SQs may live in the CMB */
#define NVME_P2P_INFO_CMB_CQS		(1U << 2)  /* CMBSZ.CQS: CQs may live in the CMB */
#define NVME_P2P_INFO_CMB_LISTS		(1U << 3)  /* CMBSZ.LISTS: PRP/SGL lists in the CMB */
#define NVME_P2P_INFO_CMB_RDS		(1U << 4)  /* CMBSZ.RDS: read data in the CMB */
#define NVME_P2P_INFO_CMB_WDS		(1U << 5)  /* CMBSZ.WDS: write data in the CMB */
#define NVME_P2P_INFO_KERNEL_SQS_IN_CMB	(1U << 6)  /* nvme-pci's own SQs use the CMB */
#define NVME_P2P_INFO_DB_ISOLATED	(1U << 7)  /* see @first_qid */

/**
 * struct nvme_p2p_info - NVME_P2P_IOCTL_INFO: what the controller offers
 * @argsz: in: sizeof(struct nvme_p2p_info)
 * @flags: out: NVME_P2P_INFO_*
 * @cmb_size: out: bytes of CMB registered as p2pmem (0 without a CMB)
 * @cmb_free: out: bytes of it not allocated (by regions, queues or the
 *	kernel's own SQs)
 * @cmbsz: out: the CMBSZ register as read at probe
 * @cmbloc: out: the CMBLOC register as read at probe
 * @db_stride: out: bytes between two doorbell registers
 * @regions: out: data regions currently created on this controller
 * @queues_reserved: out: I/O queue IDs set apart for export (the nvme
 *	module parameter p2p_queues, as far as the controller granted them)
 * @queues_used: out: exported queue pairs currently created
 * @first_qid: out: the lowest reserved queue ID (0 if none reserved).
 *	With NVME_P2P_INFO_DB_ISOLATED the reserved queue IDs start on a
 *	doorbell page that holds no doorbell of nvme-pci's own queues (with
 *	a 4-byte stride, at queue ID 512), so an exported queue's doorbell
 *	mapping reaches exported queues only. Without it the controller
 *	granted too few queues for that: the reserved IDs are the highest
 *	granted and their doorbell page holds nvme-pci's own queues'
 *	doorbells too.
 * @max_queue_depth: out: deepest exported queue (CAP.MQES + 1)
 * @max_transfer: out: largest data transfer of one command, bytes (MDTS)
 * @reserved0: must be zero
 * @kernel_cmb_bytes: out: bytes of CMB the driver's own SQs use
 * @reserved: must be zero
 */
struct nvme_p2p_info {
	__u32 argsz;
	__u32 flags;
	__u64 cmb_size;
	__u64 cmb_free;
	__u32 cmbsz;
	__u32 cmbloc;
	__u32 db_stride;
	__u32 regions;
	__u16 queues_reserved;
	__u16 queues_used;
	__u16 first_qid;
	__u16 max_queue_depth;
	__u32 max_transfer;
	__u32 reserved0;
	__u64 kernel_cmb_bytes;
	__u64 reserved[4];
};

/* struct nvme_p2p_region_create.flags */
#define NVME_P2P_REGION_NO_CPU_MAP	(1U << 0)  /* peers only: a CPU touch faults (SIGBUS) */
#define NVME_P2P_REGION_HOST		(1U << 1)  /* host memory, DMA-mapped for the controller */
#define NVME_P2P_REGION_FLAGS		(NVME_P2P_REGION_NO_CPU_MAP | NVME_P2P_REGION_HOST)

/**
 * struct nvme_p2p_region_create - NVME_P2P_IOCTL_REGION_CREATE
 * @argsz: in: sizeof(struct nvme_p2p_region_create)
 * @flags: in: NVME_P2P_REGION_*
 * @size: in: bytes, a non-zero multiple of 4096
 * @bus_addr: out: the address the controller uses for the region's first
 *	byte: its PCI bus address in the CMB, or with NVME_P2P_REGION_HOST its
 *	DMA address for the controller. The region is contiguous: PRPs of
 *	commands on exported queues are @bus_addr + offset.
 * @cmb_offset: out: the region's offset from the start of the CMB (0 for
 *	host regions)
 * @reserved: must be zero
 *
 * Returns a new file descriptor (O_CLOEXEC) for the region. mmap() of it,
 * MAP_SHARED, at a page-aligned offset within @size, is a peer-to-peer VMA:
 * its p2p_map hands importers DMA addresses; CPU loads and stores reach the
 * CMB unless NVME_P2P_REGION_NO_CPU_MAP. The region's memory returns to the
 * CMB when the descriptor and every mapping of it are gone.
 *
 * With NVME_P2P_REGION_HOST the region is host memory instead (cached for
 * the CPU, at most NVME_P2P_HOST_REGION_MAX bytes), DMA-mapped for the
 * controller: data buffers and PRP lists for exported queues that must
 * not use the CMB. Its p2p_map maps it for importers like any host memory.
 *
 * Regions need no privilege beyond access to /dev/nvmeN: they hold data
 * only, no queue the holder could point anywhere.
 *
 * Errors: ENODEV (a CMB region on a controller without a CMB registered
 * as p2pmem, or the controller going away; host regions need no CMB),
 * EINVAL (size zero or not a multiple of 4096, unknown flags, nonzero
 * reserved or output fields), ENOSPC (not enough contiguous free CMB),
 * E2BIG (host region above NVME_P2P_HOST_REGION_MAX), ENOMEM (no
 * contiguous host memory), EMFILE/ENFILE (no descriptor left).
 *
 * mmap() errors (after the mm core's own, such as ENOMEM for a length
 * the address space cannot hold or EOVERFLOW for an offset plus length
 * that overflows): EINVAL (not MAP_SHARED, offset or length beyond @size),
 * EPERM (PROT_EXEC; mprotect() to add it fails with EACCES), ENODEV
 * (region revoked). A region VMA is one piece: munmap() of part of it,
 * and mprotect() of part of it that changes the protection, fail with
 * EINVAL; mremap() that grows it fails with EFAULT (the mm core's answer
 * for every device mapping), one that shrinks or moves it with EINVAL; a
 * same-size mremap() in place succeeds and changes nothing. It is not
 * inherited across fork() (the child sees no mapping there). A CPU access
 * to a revoked region, or to any of a NVME_P2P_REGION_NO_CPU_MAP region,
 * raises SIGBUS.
 */
struct nvme_p2p_region_create {
	__u32 argsz;
	__u32 flags;
	__u64 size;
	__u64 bus_addr;
	__u64 cmb_offset;
	__u64 reserved[4];
};

#define NVME_P2P_HOST_REGION_MAX	(4U << 20)

/* struct nvme_p2p_queue_create.sq_placement */
#define NVME_P2P_SQ_CMB_PREFERRED	0  /* CMB if CMBSZ.SQS and space, else host */
#define NVME_P2P_SQ_CMB_REQUIRED	1  /* CMB or fail */
#define NVME_P2P_SQ_HOST		2  /* host memory */
#define NVME_P2P_SQ_DMABUF		3  /* a dma-buf: sq_dmabuf_fd, _offset */

/* struct nvme_p2p_queue_create.cq_placement */
#define NVME_P2P_CQ_HOST		0  /* host memory */
#define NVME_P2P_CQ_CMB			1  /* CMB; needs CMBSZ.CQS */
#define NVME_P2P_CQ_DMABUF		2  /* a dma-buf: cq_dmabuf_fd, _offset */

/* struct nvme_p2p_queue_create.flags: which VMAs have no CPU mapping */
#define NVME_P2P_QUEUE_SQ_NO_CPU_MAP	(1U << 0)
#define NVME_P2P_QUEUE_CQ_NO_CPU_MAP	(1U << 1)
#define NVME_P2P_QUEUE_DB_NO_CPU_MAP	(1U << 2)
#define NVME_P2P_QUEUE_FLAGS		(NVME_P2P_QUEUE_SQ_NO_CPU_MAP | \
					 NVME_P2P_QUEUE_CQ_NO_CPU_MAP | \
					 NVME_P2P_QUEUE_DB_NO_CPU_MAP)

/**
 * struct nvme_p2p_queue_create - NVME_P2P_IOCTL_QUEUE_CREATE
 * @argsz: in: sizeof(struct nvme_p2p_queue_create)
 * @flags: in: NVME_P2P_QUEUE_*
 * @depth: in: entries in the SQ and in the CQ, 2 to
 *	nvme_p2p_info.max_queue_depth
 * @sq_placement: in: NVME_P2P_SQ_*
 * @cq_placement: in: NVME_P2P_CQ_*
 * @qid: out: the queue ID of the pair on the controller
 * @sq_dmabuf_fd: in: with NVME_P2P_SQ_DMABUF, a dma-buf holding the SQ;
 *	else zero
 * @cq_dmabuf_fd: in: with NVME_P2P_CQ_DMABUF, a dma-buf holding the CQ;
 *	else zero
 * @sq_dmabuf_offset: in: with NVME_P2P_SQ_DMABUF, the SQ's first byte in
 *	that dma-buf, a multiple of 4096; else zero
 * @cq_dmabuf_offset: in: the same for the CQ
 * @reserved: must be zero
 *
 * Creates an I/O submission/completion queue pair on the controller, at a
 * queue ID reserved for export (never one of blk-mq's), and returns a new
 * file descriptor (O_CLOEXEC) for it. The CQ is polled: no interrupt. The
 * rings and the doorbell page are mmap()ed at the NVME_P2P_QUEUE_OFF_*
 * offsets, MAP_SHARED, each exactly the length nvme_p2p_queue_info
 * reports (else EINVAL; PROT_EXEC: EPERM; revoked: ENODEV); each such VMA
 * is a peer-to-peer VMA (p2p_map/p2p_unmap), one piece with a region VMA's
 * rules for munmap(), mprotect(), mremap() and fork().
 *
 * Needs CAP_SYS_ADMIN: whoever writes the SQ can make the controller
 * read or write any memory its DMA reaches. The doorbell page holds the
 * doorbells of the exported queues that share the page, and of nvme-pci's
 * own queues too unless NVME_P2P_IOCTL_INFO reports
 * NVME_P2P_INFO_DB_ISOLATED.
 *
 * Closing the descriptor (the last reference: mappings hold one) deletes
 * the queue pair on the controller and frees its memory.
 *
 * Across a controller reset the queue survives, stopped: the reset
 * invalidates every mapping and importer of it (commands in flight are
 * lost); while it is under way the CPU mapping of the doorbells is a page
 * of RAM, so the owner's doorbell writes reach no controller. Once the
 * controller is back the queue is stopped at a new generation (every reset
 * bumps it, also that of a queue still stopped from an earlier one): it keeps
 * its queue ID, memory and mmap offsets, but does not exist on the
 * controller, so doorbell writes with tails from before the reset cannot
 * make it run stale entries. poll() reports EPOLLPRI when the
 * generation differs from the one the last NVME_P2P_IOCTL_QUEUE_INFO on
 * this queue returned. The owner resets its ring positions (head = tail =
 * 0, CQ phase 1) and calls NVME_P2P_IOCTL_QUEUE_RESUME, which creates the
 * pair on the controller again with empty rings. poll() reports EPOLLERR |
 * EPOLLHUP once the queue is revoked for good (controller removed, or its
 * queue ID no longer granted after a reset).
 *
 * Rings in another device's memory: with NVME_P2P_SQ_DMABUF or
 * NVME_P2P_CQ_DMABUF the ring lives in a dma-buf the caller passes (a GPU's
 * memory, another controller's CMB region exported with
 * NVME_P2P_IOCTL_DMABUF, a udmabuf of host memory). The controller's
 * device attaches to it as a dynamic importer that takes peer-to-peer
 * addresses; the ring's bytes, rounded up to 4096, from the offset given
 * must be one contiguous DMA range for the controller (the queue is
 * created physically contiguous), at an address that is a multiple of
 * 4096. The kernel never touches such a ring with the CPU: the caller
 * zeroes the CQ (phase tags 0) before QUEUE_CREATE and before each
 * QUEUE_RESUME. mmap() of such a ring at its NVME_P2P_QUEUE_OFF_* offset
 * is the dma-buf's own mmap (it fails as the exporter's does: EOPNOTSUPP
 * for nvme-p2p's exports, whose CPU way in is the region's mapping), and
 * NVME_P2P_IOCTL_DMABUF of it returns a new descriptor of the caller's
 * dma-buf, whole. The queue keeps the dma-buf until it is closed. When
 * the exporter takes the memory back (move_notify: its device reset or
 * unbound, its region revoked) the pair is deleted on the controller (SQ,
 * then CQ; the exporter waits for this before the memory goes) and the
 * queue is revoked for good: state NVME_P2P_QUEUE_REVOKED, poll()
 * EPOLLERR | EPOLLHUP. A controller reset of this controller keeps the
 * rules above (stopped, then QUEUE_RESUME on the same memory).
 *
 * Errors: EPERM (no CAP_SYS_ADMIN), EINVAL (depth out of range, unknown
 * flags or placement, nonzero reserved or output fields, a dma-buf field
 * set without its placement, a *_NO_CPU_MAP flag for a ring in a dma-buf,
 * an offset not a multiple of 4096, a dma-buf too small for the ring at
 * that offset, a dma-buf of this controller's own exports (use the CMB
 * placements) or of any controller's doorbells, a ring address not a
 * multiple of 4096), EBADF (a dma-buf
 * descriptor not open), EXDEV (the ring is not one contiguous DMA range
 * for the controller), EOPNOTSUPP (no queue IDs reserved for export, CQ
 * in the CMB without CMBSZ.CQS, or the dma-buf's exporter refuses a
 * dynamic peer-to-peer importer), EREMOTEIO (the dma-buf's exporter says
 * the controller cannot reach its memory), EBUSY (every reserved queue ID
 * in use), ENOSPC (SQ or CQ placement needs the CMB and it lacks the space
 * or CMBSZ.SQS), ENOMEM, ENODEV (controller not live or going away),
 * EAGAIN (a controller reset began, or the dma-buf's exporter took the
 * memory back, while creating it: nothing is left, try again), EIO (the
 * controller refused to create the queue, or the command failed or timed
 * out), EMFILE/ENFILE; a dma-buf's exporter may fail the attachment or
 * mapping with an errno of its own.
 */
struct nvme_p2p_queue_create {
	__u32 argsz;
	__u32 flags;
	__u32 depth;
	__u8 sq_placement;
	__u8 cq_placement;
	__u16 qid;
	__s32 sq_dmabuf_fd;
	__s32 cq_dmabuf_fd;
	__u64 sq_dmabuf_offset;
	__u64 cq_dmabuf_offset;
	__u64 reserved[1];
};

/* mmap() offsets on a queue descriptor */
#define NVME_P2P_QUEUE_OFF_SQ		0x00000000ULL
#define NVME_P2P_QUEUE_OFF_CQ		0x10000000ULL
#define NVME_P2P_QUEUE_OFF_DB		0x20000000ULL

/* struct nvme_p2p_queue_info.state */
#define NVME_P2P_QUEUE_LIVE		0  /* on the controller */
#define NVME_P2P_QUEUE_RESETTING	1  /* controller reset under way */
#define NVME_P2P_QUEUE_REVOKED		2  /* gone for good; only close() */
#define NVME_P2P_QUEUE_STOPPED		3  /* reset done: QUEUE_RESUME re-creates it */

/**
 * struct nvme_p2p_queue_info - NVME_P2P_IOCTL_QUEUE_INFO, on a queue fd
 * @argsz: in: sizeof(struct nvme_p2p_queue_info)
 * @flags: out: the NVME_P2P_QUEUE_* flags it was created with
 * @qid: out: queue ID
 * @state: out: NVME_P2P_QUEUE_LIVE, _RESETTING, _STOPPED or _REVOKED
 * @sq_placement: out: NVME_P2P_SQ_CMB_REQUIRED (in the CMB),
 *	NVME_P2P_SQ_HOST or NVME_P2P_SQ_DMABUF
 * @cq_placement: out: NVME_P2P_CQ_HOST, NVME_P2P_CQ_CMB or
 *	NVME_P2P_CQ_DMABUF
 * @reserved0: out: zero
 * @depth: out: entries per ring
 * @generation: out: bumped each time a reset stopped the queue
 * @sq_bytes: out: mmap length of the SQ ring (page aligned)
 * @cq_bytes: out: mmap length of the CQ ring (page aligned)
 * @db_bytes: out: mmap length of the doorbell mapping (page aligned)
 * @sq_db_offset: out: byte offset of the SQ tail doorbell in that mapping
 * @cq_db_offset: out: byte offset of the CQ head doorbell in that mapping
 * @sq_addr: out: SQ address as the controller uses it (diagnostics)
 * @cq_addr: out: CQ address as the controller uses it (diagnostics)
 * @db_addr: out: bus address of the doorbell mapping's first byte
 * @max_transfer: out: largest data transfer of one command, bytes
 * @reserved: out: zero
 *
 * Every field but @argsz is output, so zero on input (else EINVAL).
 *
 * Side effect: acknowledges the generation, which clears poll()'s
 * EPOLLPRI.
 *
 * Errors: ENOTTY (not a queue descriptor), EINVAL, EFAULT, E2BIG.
 *
 * NVME_P2P_IOCTL_QUEUE_RESUME (no argument), on a queue fd: create a
 * stopped queue on the controller again, rings empty. 0 if it is live
 * (already resumed). It never sends the controller a command while a
 * reset is under way. Errors: EAGAIN (a reset is under way, or began
 * while resuming: the queue is left to that reset, which stops it at a
 * new generation; wait for EPOLLPRI and try again), ENODEV (revoked), EIO
 * (the controller refused, or the command failed or timed out), ENOTTY.
 */
struct nvme_p2p_queue_info {
	__u32 argsz;
	__u32 flags;
	__u16 qid;
	__u8 state;
	__u8 sq_placement;
	__u8 cq_placement;
	__u8 reserved0[3];
	__u32 depth;
	__u32 generation;
	__u32 sq_bytes;
	__u32 cq_bytes;
	__u32 db_bytes;
	__u32 sq_db_offset;
	__u32 cq_db_offset;
	__u32 max_transfer;
	__u64 sq_addr;
	__u64 cq_addr;
	__u64 db_addr;
	__u64 reserved[4];
};

/* struct nvme_p2p_peer.reach */
#define NVME_P2P_PEER_UNREACHABLE	0  /* p2p_map refuses it (EREMOTEIO) */
#define NVME_P2P_PEER_VIA_SWITCH	1  /* PCI bus address, through a switch */
#define NVME_P2P_PEER_VIA_HOST_BRIDGE	2  /* mapped through the host bridge */

/**
 * struct nvme_p2p_peer - NVME_P2P_IOCTL_PEER: can a PCI device reach the CMB?
 * @argsz: in: sizeof(struct nvme_p2p_peer)
 * @flags: in: zero
 * @domain: in: PCI domain of the peer
 * @bus: in: PCI bus number
 * @devfn: in: PCI device and function (device << 3 | function)
 * @reach: out: NVME_P2P_PEER_*, as p2p_map would decide it
 * @reserved0: must be zero
 * @distance: out: pci_p2pdma_distance() to the controller, -1 if none
 * @reserved1: must be zero
 * @reserved: must be zero
 *
 * The same decision covers the CMB and the doorbells.
 *
 * Errors: ENODEV (no such PCI device), EINVAL.
 */
struct nvme_p2p_peer {
	__u32 argsz;
	__u32 flags;
	__u32 domain;
	__u8 bus;
	__u8 devfn;
	__u8 reach;
	__u8 reserved0;
	__s32 distance;
	__u32 reserved1;
	__u64 reserved[2];
};

/* struct nvme_p2p_list_entry.type */
#define NVME_P2P_ENTRY_REGION		1
#define NVME_P2P_ENTRY_QUEUE		2

/**
 * struct nvme_p2p_list_entry - one export, as NVME_P2P_IOCTL_LIST reports it
 * @type: NVME_P2P_ENTRY_REGION or NVME_P2P_ENTRY_QUEUE
 * @flags: the flags it was created with
 * @pid: process that created it (in the caller's pid namespace, 0 if none)
 * @state: queues: NVME_P2P_QUEUE_LIVE/_RESETTING/_STOPPED/_REVOKED; regions: 0
 *	live, NVME_P2P_QUEUE_REVOKED revoked
 * @sq_placement: queues: as in nvme_p2p_queue_info
 * @cq_placement: queues: as in nvme_p2p_queue_info
 * @reserved0: zero
 * @qid: queues: queue ID
 * @reserved1: zero
 * @depth: queues: entries per ring
 * @generation: queues: as in nvme_p2p_queue_info
 * @importers: device mappings (p2p_map not yet undone) right now
 * @size: regions: bytes; queues: SQ ring bytes
 * @addr: regions: bus address; queues: SQ address for the controller
 * @cq_addr: queues: CQ address for the controller
 * @sq_head: queues: SQ head from the newest completion posted (the
 *	controller's view of what it has fetched); 0 for a CQ in a dma-buf
 * @cq_tail: queues: the CQ slot the controller will write next; 0 for a
 *	CQ in a dma-buf
 * @dmabufs: dma-bufs of it (NVME_P2P_IOCTL_DMABUF) not yet released
 * @dmabuf_attachments: importers attached to those dma-bufs
 * @reserved: zero
 */
struct nvme_p2p_list_entry {
	__u32 type;
	__u32 flags;
	__s32 pid;
	__u8 state;
	__u8 sq_placement;
	__u8 cq_placement;
	__u8 reserved0;
	__u16 qid;
	__u16 reserved1;
	__u32 depth;
	__u32 generation;
	__u32 importers;
	__u64 size;
	__u64 addr;
	__u64 cq_addr;
	__u16 sq_head;
	__u16 cq_tail;
	__u16 dmabufs;
	__u16 dmabuf_attachments;
	__u64 reserved[2];
};

/**
 * struct nvme_p2p_list - NVME_P2P_IOCTL_LIST: the exports of a controller
 * @argsz: in: sizeof(struct nvme_p2p_list)
 * @flags: in: zero
 * @entry_size: in: sizeof(struct nvme_p2p_list_entry) as the caller knows
 *	it; the kernel writes min(its size, @entry_size) bytes per entry
 * @nr_entries: in: room in @entries; out: entries that exist (may exceed
 *	the room; only the room is written)
 * @entries: in: user pointer to the array
 * @reserved: must be zero
 *
 * Errors: EINVAL (@entry_size below the first version, flags, reserved),
 * EFAULT, ENOMEM (no room for a snapshot of @nr_entries entries).
 */
struct nvme_p2p_list {
	__u32 argsz;
	__u32 flags;
	__u32 entry_size;
	__u32 nr_entries;
	__u64 entries;
	__u64 reserved[2];
};

/**
 * struct nvme_p2p_dmabuf - NVME_P2P_IOCTL_DMABUF, on a region or queue fd
 * @argsz: in: sizeof(struct nvme_p2p_dmabuf)
 * @flags: in: zero
 * @offset: in: on a region descriptor, the byte offset of the range in
 *	the region, page aligned; on a queue descriptor, the mmap offset of
 *	the part: NVME_P2P_QUEUE_OFF_SQ, _CQ or _DB
 * @size: in: bytes, page aligned: on a region, 0 for the rest of the
 *	region from @offset; on a queue, 0 or the part's mmap length (a
 *	part is exported whole, as it is mapped whole)
 * @reserved: must be zero
 *
 * Exports the range as a dma-buf and returns a new file descriptor
 * (O_CLOEXEC) for it, for drivers that import dma-bufs: an RDMA NIC
 * registering a memory region (ibv_reg_dmabuf_mr()), a GPU driver. The
 * dma-buf follows the rules of the range's p2p VMA:
 *
 * - Attach: the CMB and the doorbells only to dynamic importers that
 *   accept peer-to-peer addresses (else EOPNOTSUPP), and that the
 *   controller can reach, as NVME_P2P_IOCTL_PEER reports it (else
 *   EREMOTEIO, and the kernel log names the importer). Host memory (host
 *   regions, host rings) attaches to any dynamic importer.
 * - No pinning: an importer that pins (a static importer, or one that
 *   calls dma_buf_pin(), as RDMA's pinned dma-buf memory regions do) is
 *   refused with EOPNOTSUPP, because pinned memory would outlive a reset
 *   or an unbind. Importers that handle move_notify (mlx5 with on-demand
 *   paging, for one) are taken.
 * - Revocation: every event that invalidates the VMAs (controller reset,
 *   removal, a queue revoked for good) calls every importer's move_notify
 *   and waits for its fences. Mapping again then gives: a region, at once
 *   the same memory (after a reset) or ENODEV (revoked for good); a queue
 *   part, EAGAIN until the queue is LIVE again (NVME_P2P_IOCTL_QUEUE_RESUME),
 *   ENODEV once it is revoked for good.
 * - No CPU access through the dma-buf: mmap() of it and
 *   DMA_BUF_IOCTL_SYNC fail with EOPNOTSUPP; the region or queue
 *   descriptor is the CPU's way in.
 *
 * Each dma-buf holds a reference to the region or queue: closing that
 * descriptor keeps the memory (and a queue on the controller) until the
 * last dma-buf of it is released too. NVME_P2P_IOCTL_LIST counts the
 * dma-bufs of each export and their importers.
 *
 * Errors: EINVAL (flags or reserved nonzero, @offset or @size not page
 * aligned, the range beyond the region, not a queue part, or not the whole
 * part), ENODEV (revoked for good), EOPNOTSUPP (a kernel built without
 * CONFIG_DMABUF_MOVE_NOTIFY: it would pin every mapping), ENOTTY (not a
 * region or queue descriptor), ENOMEM, EMFILE/ENFILE.
 */
struct nvme_p2p_dmabuf {
	__u32 argsz;
	__u32 flags;
	__u64 offset;
	__u64 size;
	__u64 reserved[2];
};

#define NVME_P2P_IOCTL_INFO		_IOWR('N', 0xc0, struct nvme_p2p_info)
#define NVME_P2P_IOCTL_REGION_CREATE	_IOWR('N', 0xc1, struct nvme_p2p_region_create)
#define NVME_P2P_IOCTL_QUEUE_CREATE	_IOWR('N', 0xc2, struct nvme_p2p_queue_create)
#define NVME_P2P_IOCTL_PEER		_IOWR('N', 0xc3, struct nvme_p2p_peer)
#define NVME_P2P_IOCTL_LIST		_IOWR('N', 0xc4, struct nvme_p2p_list)
/* on a queue descriptor */
#define NVME_P2P_IOCTL_QUEUE_INFO	_IOWR('N', 0xc8, struct nvme_p2p_queue_info)
#define NVME_P2P_IOCTL_QUEUE_RESUME	_IO('N', 0xc9)
/* on a region or a queue descriptor */
#define NVME_P2P_IOCTL_DMABUF		_IOW('N', 0xca, struct nvme_p2p_dmabuf)

#endif /* _UAPI_LINUX_NVME_P2P_H */
