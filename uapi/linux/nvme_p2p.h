/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * nvme-p2p: export an NVMe controller's memory buffer (CMB) to peer devices.
 *
 * ioctls on the controller character device /dev/nvmeN. Every argument
 * struct starts with @argsz, the size of the struct the caller was built
 * with: the kernel accepts a smaller (older) struct and treats the missing
 * tail as zero, and a larger one if its extra tail is zero (else E2BIG).
 * Reserved fields and unknown flags must be zero (else EINVAL).
 *
 * Errors common to all: ENOTTY (kernel without nvme-p2p export), EFAULT
 * (bad pointer), EINVAL (argsz below the first version, reserved or
 * unknown bits set), E2BIG (see above).
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
	__u64 reserved[4];
};

/* struct nvme_p2p_region_create.flags */
#define NVME_P2P_REGION_NO_CPU_MAP	(1U << 0)  /* peers only: a CPU touch faults (SIGBUS) */
#define NVME_P2P_REGION_FLAGS		NVME_P2P_REGION_NO_CPU_MAP

/**
 * struct nvme_p2p_region_create - NVME_P2P_IOCTL_REGION_CREATE
 * @argsz: in: sizeof(struct nvme_p2p_region_create)
 * @flags: in: NVME_P2P_REGION_*
 * @size: in: bytes, a non-zero multiple of 4096
 * @bus_addr: out: the region's PCI bus address in the CMB (diagnostics)
 * @cmb_offset: out: the region's offset from the start of the CMB
 * @reserved: must be zero
 *
 * Returns a new file descriptor (O_CLOEXEC) for the region. mmap() of it,
 * MAP_SHARED, at a page-aligned offset within @size, is a peer-to-peer VMA:
 * its p2p_map hands importers DMA addresses; CPU loads and stores reach the
 * CMB unless NVME_P2P_REGION_NO_CPU_MAP. The region's memory returns to the
 * CMB when the descriptor and every mapping of it are gone.
 *
 * Regions need no privilege beyond access to /dev/nvmeN: they hold data
 * only, no queue the holder could point anywhere.
 *
 * Errors: ENODEV (no CMB registered as p2pmem, or controller going away),
 * EINVAL (size zero or not a multiple of 4096, unknown flags, nonzero
 * reserved or output fields), ENOSPC (not enough contiguous free CMB),
 * EMFILE/ENFILE (no descriptor left).
 *
 * mmap() errors: EINVAL (not MAP_SHARED, offset or length beyond @size),
 * ENODEV (region revoked). A region VMA is one piece: munmap() or
 * mprotect() of part of it fails with EINVAL, mremap() of it with EINVAL.
 * It is not inherited across fork(). A CPU access to a revoked region, or to any of a
 * NVME_P2P_REGION_NO_CPU_MAP region, raises SIGBUS.
 */
struct nvme_p2p_region_create {
	__u32 argsz;
	__u32 flags;
	__u64 size;
	__u64 bus_addr;
	__u64 cmb_offset;
	__u64 reserved[4];
};

#define NVME_P2P_IOCTL_INFO		_IOWR('N', 0xc0, struct nvme_p2p_info)
#define NVME_P2P_IOCTL_REGION_CREATE	_IOWR('N', 0xc1, struct nvme_p2p_region_create)

#endif /* _UAPI_LINUX_NVME_P2P_H */
