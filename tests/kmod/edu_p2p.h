/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * edu_p2p: a test importer of peer-to-peer VMAs (tests/kmod/edu_p2p.c).
 *
 * It binds QEMU's edu device (PCI 1234:11e8) and gives each one a
 * character device /dev/edu-p2pN (/sys/bus/pci/devices/<bdf>/misc/ names
 * it). A process attaches a range of a p2p VMA - a CMB region, an
 * exported queue, a doorbell page - and moves bytes between its own memory
 * and the attached range with the edu's DMA engine: the driver never
 * touches the attached memory with the CPU. Every transfer is bounced
 * through host memory and the edu's 4 KiB buffer in pieces that stay
 * within one page of the range and below 4096 bytes (QEMU 7.2 aborts on
 * a DMA that reaches the buffer's end), two edu DMAs per piece (about
 * 100 ms each).
 *
 * dma-bufs: with EDU_P2P_ATTACH_DMABUF a process attaches a whole dma-buf
 * instead of a range of its address space, as a dynamic importer that
 * takes peer-to-peer addresses (RDMA NICs with on-demand paging import
 * this way). move_notify revokes it like an invalidation revokes a range.
 * EDU_P2P_ATTACH_STATIC and EDU_P2P_ATTACH_PIN attach the way importers
 * that pin do, and EDU_P2P_ATTACH_NO_P2P as one that cannot take
 * peer-to-peer addresses, to test what an exporter does with them.
 *
 * Revocation: when the exporter or the process invalidates an attached
 * range (controller reset, region or queue closed, munmap, exit) the
 * driver stops using it and unmaps it. Transfers on it then fail with
 * ESTALE, and count as refused, until EDU_P2P_IOC_MAP maps it again - so
 * that the caller learns of every revocation.
 *
 * Errors common to all ioctls: ENOTTY (unknown ioctl), EFAULT (bad
 * argument pointer), EINVAL (nonzero flags or reserved fields), ENOENT
 * (no attachment with that id). Once the edu is unbound, ATTACH, MAP,
 * WRITE and READ fail with ENODEV; DETACH, STATUS, COUNTERS and close()
 * still work.
 */
#ifndef _EDU_P2P_H
#define _EDU_P2P_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Largest EDU_P2P_IOC_WRITE/READ. */
#define EDU_P2P_MAX_XFER	(64 * 1024)
/* Most attachments one descriptor holds at a time. */
#define EDU_P2P_MAX_ATTACH	1024

/* struct edu_p2p_attach.flags */
#define EDU_P2P_ATTACH_WRITE	(1U << 0)  /* the edu may write the range */
#define EDU_P2P_ATTACH_DMABUF	(1U << 1)  /* @addr is a dma-buf fd */
/* With EDU_P2P_ATTACH_DMABUF only: */
#define EDU_P2P_ATTACH_STATIC	(1U << 2)  /* dma_buf_attach(): a static importer */
#define EDU_P2P_ATTACH_PIN	(1U << 3)  /* dynamic, then dma_buf_pin() */
#define EDU_P2P_ATTACH_NO_P2P	(1U << 4)  /* dynamic, no peer-to-peer addresses */
#define EDU_P2P_ATTACH_FLAGS	(EDU_P2P_ATTACH_WRITE | EDU_P2P_ATTACH_DMABUF | \
				 EDU_P2P_ATTACH_STATIC | EDU_P2P_ATTACH_PIN | \
				 EDU_P2P_ATTACH_NO_P2P)

/**
 * struct edu_p2p_attach - EDU_P2P_IOC_ATTACH
 * @addr: in: first byte of the range in the caller's address space, page
 *	aligned; every VMA of the range must be a p2p VMA. With
 *	EDU_P2P_ATTACH_DMABUF: a dma-buf file descriptor
 * @len: in: bytes, a non-zero multiple of the page size; with
 *	EDU_P2P_ATTACH_DMABUF zero (the whole dma-buf)
 * @flags: in: EDU_P2P_ATTACH_*
 * @id: out: the attachment, for the other ioctls of this descriptor
 * @dma_addr: out: the address the edu uses for the range's first byte
 * @reserved: zero
 *
 * Maps the range for the edu (p2p_map) and keeps watching it. It stays
 * attached until EDU_P2P_IOC_DETACH or close(). A dma-buf is attached
 * (dma_buf_dynamic_attach()), then mapped (dma_buf_map_attachment()).
 *
 * Errors: EINVAL (not page aligned, empty, a dma-buf-only flag without
 * EDU_P2P_ATTACH_DMABUF), EFAULT (part of the range not mapped),
 * EOPNOTSUPP (not a p2p VMA; the exporter refused this kind of dma-buf
 * importer), EACCES (the range is not readable, or EDU_P2P_ATTACH_WRITE
 * and not writable), EREMOTEIO (this edu cannot reach the memory peer to
 * peer; the kernel log says why), ENODEV (the exporter revoked the memory
 * for good), EBADF (no such descriptor; EINVAL: not a dma-buf), ENOSPC (EDU_P2P_MAX_ATTACH
 * attachments), ENOMEM; for a dma-buf, what its exporter's attach, pin or
 * map returned (EAGAIN: an exported queue that is not live); EOPNOTSUPP
 * for EDU_P2P_ATTACH_DMABUF in a kernel without dma-bufs.
 */
struct edu_p2p_attach {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 id;
	__u64 dma_addr;
	__u64 reserved[2];
};

/**
 * struct edu_p2p_xfer - EDU_P2P_IOC_WRITE and EDU_P2P_IOC_READ
 * @id: in: the attachment
 * @flags: in: zero
 * @offset: in: byte offset in the attached range
 * @len: in: bytes, 1 to EDU_P2P_MAX_XFER, within the range
 * @buf: in: the caller's buffer (source of WRITE, destination of READ)
 * @reserved: zero
 *
 * WRITE moves @len bytes from @buf into the attached range at @offset,
 * READ the other way; both by edu DMA only, and return when the bytes
 * have arrived.
 *
 * Errors: EINVAL (@len 0 or too large, beyond the range), EACCES (WRITE
 * on an attachment without EDU_P2P_ATTACH_WRITE), ESTALE (the range was
 * revoked: EDU_P2P_IOC_MAP first), ETIMEDOUT (the edu did not finish a
 * DMA; the device is not used again), EINTR, ENOMEM.
 */
struct edu_p2p_xfer {
	__u32 id;
	__u32 flags;
	__u64 offset;
	__u64 len;
	__u64 buf;
	__u64 reserved[2];
};

/* struct edu_p2p_status.state */
#define EDU_P2P_MAPPED		1  /* DMA addresses live */
#define EDU_P2P_REVOKED		2  /* invalidated: EDU_P2P_IOC_MAP maps again */

/**
 * struct edu_p2p_status - EDU_P2P_IOC_STATUS: one attachment
 * @id: in: the attachment
 * @state: out: EDU_P2P_MAPPED or EDU_P2P_REVOKED
 * @addr: out: as attached (0 for a dma-buf)
 * @len: out: as attached (a dma-buf's size)
 * @dma_addr: out: the edu's address of the first byte (0 unless mapped)
 * @maps: out: times the range was mapped (p2p_map, or a dma-buf map)
 * @unmaps: out: times it was unmapped (p2p_unmap, or a dma-buf unmap)
 * @unmap_errors: out: p2p_unmap calls that failed
 * @revokes: out: invalidations that revoked it
 * @reserved: zero
 */
struct edu_p2p_status {
	__u32 id;
	__u32 state;
	__u64 addr;
	__u64 len;
	__u64 dma_addr;
	__u64 maps;
	__u64 unmaps;
	__u64 unmap_errors;
	__u64 revokes;
	__u64 reserved[2];
};

/**
 * struct edu_p2p_counters - EDU_P2P_IOC_COUNTERS: this edu since probe
 * @attaches: successful EDU_P2P_IOC_ATTACH
 * @detaches: attachments ended (EDU_P2P_IOC_DETACH, close, exit)
 * @live: attachments now
 * @maps: ranges mapped (p2p_map): attaches and re-maps
 * @unmaps: ranges unmapped (p2p_unmap): revocations and detaches
 * @unmap_errors: p2p_unmap calls that failed
 * @invalidations: invalidations (dma-bufs: move_notify) that revoked a
 *	mapped range
 * @map_retries: mappings redone because an invalidation raced them
 * @refused: transfers refused with ESTALE
 * @dmas: edu DMA transfers run
 * @bytes_in: bytes moved into attached ranges
 * @bytes_out: bytes moved out of attached ranges
 * @reserved: zero
 */
struct edu_p2p_counters {
	__u64 attaches;
	__u64 detaches;
	__u64 live;
	__u64 maps;
	__u64 unmaps;
	__u64 unmap_errors;
	__u64 invalidations;
	__u64 map_retries;
	__u64 refused;
	__u64 dmas;
	__u64 bytes_in;
	__u64 bytes_out;
	__u64 reserved[4];
};

#define EDU_P2P_IOC_ATTACH	_IOWR(0xED, 0x01, struct edu_p2p_attach)
/* Argument: the attachment id. Unmaps the range (if mapped) and forgets it. */
#define EDU_P2P_IOC_DETACH	_IOW(0xED, 0x02, __u32)
/*
 * Argument: the attachment id. Maps a revoked range again; 0 if it is
 * mapped. Errors as EDU_P2P_IOC_ATTACH, and ESRCH once the process that
 * attached it has exited.
 */
#define EDU_P2P_IOC_MAP		_IOW(0xED, 0x03, __u32)
#define EDU_P2P_IOC_WRITE	_IOW(0xED, 0x04, struct edu_p2p_xfer)
#define EDU_P2P_IOC_READ	_IOW(0xED, 0x05, struct edu_p2p_xfer)
#define EDU_P2P_IOC_STATUS	_IOWR(0xED, 0x06, struct edu_p2p_status)
#define EDU_P2P_IOC_COUNTERS	_IOR(0xED, 0x07, struct edu_p2p_counters)

#endif /* _EDU_P2P_H */
