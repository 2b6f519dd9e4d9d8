/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme-pci's peer-to-peer exporter: CMB data regions as p2p VMAs.
 * The interface between pci.c (which owns struct nvme_dev) and pci-p2p.c.
 */
#ifndef _NVME_PCI_P2P_H
#define _NVME_PCI_P2P_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct nvme_ctrl;
struct pci_dev;

/**
 * struct nvme_p2p_cmb - the CMB facts pci.c lends the exporter per call
 * @size: bytes registered as p2pmem, 0 without a CMB
 * @bus_start: PCI bus address of the CMB's first byte
 * @cmbsz: CMBSZ register
 * @cmbloc: CMBLOC register
 * @db_stride: doorbell stride in bytes
 * @kernel_sqs: the driver's own SQs live in the CMB
 */
struct nvme_p2p_cmb {
	u64 size;
	u64 bus_start;
	u32 cmbsz;
	u32 cmbloc;
	u32 db_stride;
	bool kernel_sqs;
};

/**
 * struct nvme_p2p_export - per-controller exporter state, embedded in nvme_dev
 * @ctrl: the controller
 * @pdev: its PCI device (the p2pmem provider)
 * @lock: protects @regions and @gone
 * @regions: live data regions
 * @nr_regions: length of @regions
 * @gone: the controller is being removed: no new regions
 */
struct nvme_p2p_export {
	struct nvme_ctrl *ctrl;
	struct pci_dev *pdev;
	struct mutex lock;		/* protects regions, nr_regions, gone */
	struct list_head regions;
	unsigned int nr_regions;
	bool gone;
};

#ifdef CONFIG_NVME_P2P_EXPORT
void nvme_p2p_export_init(struct nvme_p2p_export *exp, struct nvme_ctrl *ctrl,
			  struct pci_dev *pdev);
long nvme_p2p_export_ioctl(struct nvme_p2p_export *exp,
			   const struct nvme_p2p_cmb *cmb, unsigned int cmd,
			   void __user *argp);
void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp);
void nvme_p2p_export_remove(struct nvme_p2p_export *exp);
#else
static inline void nvme_p2p_export_init(struct nvme_p2p_export *exp,
					struct nvme_ctrl *ctrl,
					struct pci_dev *pdev)
{
}

static inline long nvme_p2p_export_ioctl(struct nvme_p2p_export *exp,
					 const struct nvme_p2p_cmb *cmb,
					 unsigned int cmd, void __user *argp)
{
	return -ENOTTY;
}

static inline void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp)
{
}

static inline void nvme_p2p_export_remove(struct nvme_p2p_export *exp)
{
}
#endif

#endif /* _NVME_PCI_P2P_H */
