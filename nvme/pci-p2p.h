/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme-pci's peer-to-peer exporter: CMB data regions and I/O queue pairs
 * as p2p VMAs. The interface between pci.c (which owns struct nvme_dev)
 * and the exporter, then the exporter's own layers: pci-p2p-mem.c (what
 * every export file shares), pci-p2p-queue.c (exported queue pairs) under
 * pci-p2p.c (regions and the controller's ioctls).
 */
#ifndef _NVME_PCI_P2P_H
#define _NVME_PCI_P2P_H

#include <linux/bitmap.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/types.h>
#include <linux/wait.h>

/* At most this many queue IDs are reserved for export per controller. */
#define NVME_P2P_MAX_QIDS	64

struct device;
struct dma_buf;
struct dma_buf_attach_ops;
struct dma_buf_attachment;
struct dma_fence;
struct file;
struct nvme_ctrl;
struct nvme_p2p_list_entry;
struct pci_dev;

/**
 * struct nvme_p2p_cmb - the controller facts pci.c lends the exporter per call
 * @size: bytes of CMB registered as p2pmem, 0 without a CMB
 * @bus_start: PCI bus address of the CMB's first byte
 * @cmbsz: CMBSZ register
 * @cmbloc: CMBLOC register
 * @db_stride: doorbell stride in bytes
 * @kernel_sqs: the driver's own SQs live in the CMB
 * @kernel_cmb_bytes: bytes of CMB the driver's own SQs use
 * @max_queue_depth: CAP.MQES + 1
 * @max_transfer: largest transfer of one command, bytes
 */
struct nvme_p2p_cmb {
	u64 size;
	u64 bus_start;
	u32 cmbsz;
	u32 cmbloc;
	u32 db_stride;
	bool kernel_sqs;
	u64 kernel_cmb_bytes;
	u32 max_queue_depth;
	u32 max_transfer;
};

/**
 * struct nvme_p2p_export - per-controller exporter state, embedded in nvme_dev
 * @ctrl: the controller
 * @pdev: its PCI device (the p2pmem provider)
 * @lock: protects the lists, counters, queue-ID bitmap, @disable_epoch
 *	and @gone; taken before a region's or a queue's own lock
 * @cmd_lock: serializes the admin commands that create and delete
 *	exported queues, and their re-creation after a reset; taken before
 *	@lock, never held by the controller disable path
 * @regions: live data regions
 * @queues: exported queue pairs that still own a queue ID
 * @nr_regions: length of @regions
 * @qids_wanted: queue IDs to ask the controller for (module parameter)
 * @own_qids: I/O queues the driver asked for itself, at the last reset
 * @isolated_qid: the lowest queue ID whose doorbells share no page with
 *	those of the driver's own queues, at the last reset
 * @first_qid: lowest queue ID reserved for export this controller life
 * @nr_qids: queue IDs reserved for export this controller life
 * @db_isolated: the reserved queue IDs start at @isolated_qid
 * @qid_used: reserved queue IDs in use, bit 0 = @first_qid
 * @disable_epoch: bumped by each controller disable
 * @disabling: controller disables under way (the controller may still
 *	reach exported queues' rings until it is off)
 * @disabled: woken when @disabling drops to zero
 * @gone: the controller is being removed: nothing new, all revoked
 */
struct nvme_p2p_export {
	struct nvme_ctrl *ctrl;
	struct pci_dev *pdev;
	struct mutex lock;		/* see above */
	struct mutex cmd_lock;		/* see above */
	struct list_head regions;
	struct list_head queues;
	unsigned int nr_regions;
	u16 qids_wanted;
	u16 own_qids;
	u32 isolated_qid;
	u16 first_qid;
	u16 nr_qids;
	bool db_isolated;
	DECLARE_BITMAP(qid_used, NVME_P2P_MAX_QIDS);
	unsigned int disable_epoch;
	atomic_t disabling;
	wait_queue_head_t disabled;
	bool gone;
};

#ifdef CONFIG_NVME_P2P_EXPORT
void nvme_p2p_export_init(struct nvme_p2p_export *exp, struct nvme_ctrl *ctrl,
			  struct pci_dev *pdev);
long nvme_p2p_export_ioctl(struct nvme_p2p_export *exp,
			   const struct nvme_p2p_cmb *cmb, unsigned int cmd,
			   void __user *argp);
unsigned int nvme_p2p_export_qids_wanted(struct nvme_p2p_export *exp);
unsigned int nvme_p2p_export_ask_qids(struct nvme_p2p_export *exp,
				      unsigned int own, unsigned int db_stride);
unsigned int nvme_p2p_export_claim_qids(struct nvme_p2p_export *exp,
					unsigned int granted);
void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp);
void nvme_p2p_export_disabled(struct nvme_p2p_export *exp);
void nvme_p2p_export_restore(struct nvme_p2p_export *exp);
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

static inline unsigned int
nvme_p2p_export_qids_wanted(struct nvme_p2p_export *exp)
{
	return 0;
}

static inline unsigned int
nvme_p2p_export_ask_qids(struct nvme_p2p_export *exp, unsigned int own,
			 unsigned int db_stride)
{
	return own;
}

static inline unsigned int
nvme_p2p_export_claim_qids(struct nvme_p2p_export *exp, unsigned int granted)
{
	return granted;
}

static inline void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp)
{
}

static inline void nvme_p2p_export_disabled(struct nvme_p2p_export *exp)
{
}

static inline void nvme_p2p_export_restore(struct nvme_p2p_export *exp)
{
}

static inline void nvme_p2p_export_remove(struct nvme_p2p_export *exp)
{
}
#endif

/* pci-p2p-mem.c: what every export file shares. */

/* Memory handed out: a piece of the CMB or host pages, contiguous. */
struct nvme_p2p_mem {
	void *kaddr;			/* NULL when not allocated */
	size_t size;
	dma_addr_t ctrl_addr;		/* the address the controller uses */
	bool host;
};

/* The importers' mappings of one export file, for p2p_unmap and revoke. */
struct nvme_p2p_maps {
	/*
	 * Only for the list: p2p_unmap runs from importers' invalidation
	 * callbacks, so this is never held across an allocation or an
	 * invalidation.
	 */
	struct mutex lock;
	struct list_head list;		/* struct nvme_p2p_map */
	unsigned int nr;
};

static inline void nvme_p2p_maps_init(struct nvme_p2p_maps *maps)
{
	mutex_init(&maps->lock);
	INIT_LIST_HEAD(&maps->list);
}

/* How a mapping reaches the importer: what undoing it takes. */
enum nvme_p2p_map_kind {
	NVME_P2P_MAP_NONE,		/* nothing mapped yet */
	NVME_P2P_MAP_PAGES,		/* sg_table of pages, dma_map_sgtable() */
	NVME_P2P_MAP_BUS,		/* BAR bus address: nothing to undo */
	NVME_P2P_MAP_RESOURCE,		/* BAR through dma_map_resource() */
};

/*
 * Exported memory or registers mapped for one importer device: made by a
 * p2p_map (kept on the export file's list for p2p_unmap and revoke) or by
 * a dma-buf map (its sg_table is what the importer gets).
 */
struct nvme_p2p_map {
	struct list_head node;
	struct device *importer;
	unsigned long start, end;	/* p2p_map: the user range */
	dma_addr_t first;		/* p2p_map: DMA address of @start */
	enum dma_data_direction dir;
	enum nvme_p2p_map_kind kind;
	struct sg_table sgt;		/* one entry per contiguous piece */
};

int nvme_p2p_copy_args(void *karg, size_t ksize, size_t min, void __user *uarg);
bool nvme_p2p_reserved_zero(const u64 *reserved, size_t n);
int nvme_p2p_mem_alloc(struct nvme_p2p_export *exp, struct nvme_p2p_mem *mem,
		       size_t size, bool host);
void nvme_p2p_mem_free(struct nvme_p2p_export *exp, struct nvme_p2p_mem *mem);
unsigned long nvme_p2p_mem_pfn(const struct nvme_p2p_mem *mem,
			       unsigned long off);
int nvme_p2p_route(struct nvme_p2p_export *exp, struct device *importer,
		   const char *what);
struct nvme_p2p_map *nvme_p2p_map_new(struct device *importer,
				      enum dma_data_direction dir);
void nvme_p2p_map_free(struct nvme_p2p_map *map);
int nvme_p2p_map_mem_sgt(struct nvme_p2p_export *exp,
			 const struct nvme_p2p_mem *mem, unsigned long off,
			 size_t len, struct nvme_p2p_map *map);
int nvme_p2p_map_bar_sgt(struct nvme_p2p_export *exp, int bar,
			 unsigned long off, size_t len,
			 struct nvme_p2p_map *map);
long nvme_p2p_map_mem(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      const struct nvme_p2p_mem *mem, unsigned long off,
		      struct device *importer, unsigned long start,
		      unsigned long end, dma_addr_t *pa, bool write);
long nvme_p2p_map_bar(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      int bar, unsigned long off, struct device *importer,
		      unsigned long start, unsigned long end, dma_addr_t *pa,
		      bool write);
long nvme_p2p_unmap(struct nvme_p2p_maps *maps, struct device *importer,
		    unsigned long start, unsigned long end, dma_addr_t *pa);
void nvme_p2p_unmap_all(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps);
int nvme_p2p_vma_check(struct vm_area_struct *vma, unsigned long start,
		       unsigned long end);
int nvme_p2p_vma_check_flags(struct vm_area_struct *vma);
void nvme_p2p_vma_setup(struct vm_area_struct *vma,
			const struct vm_operations_struct *ops, void *priv);
int nvme_p2p_may_split(struct vm_area_struct *vma, unsigned long addr);
int nvme_p2p_mremap(struct vm_area_struct *vma);
struct file *nvme_p2p_file_create(struct nvme_p2p_export *exp,
				  const char *name,
				  const struct file_operations *fops,
				  void *priv, int *fdp);

/* pci-p2p-dmabuf.c: exports as dma-bufs. */

/* The dma-bufs of one export file, revoked with it. */
struct nvme_p2p_dmabufs {
	struct mutex lock;		/* protects @list; taken before a resv */
	struct list_head list;		/* the dma-bufs not yet released */
	atomic_t nr;			/* length of @list */
	atomic_t attachments;
};

/*
 * Map @len bytes at @off of part @part of the export @owner for @map's
 * importer, or say why not; called under the dma-buf's reservation lock.
 */
typedef int (*nvme_p2p_dmabuf_map_fn)(void *owner, unsigned int part,
				      unsigned long off, size_t len,
				      struct nvme_p2p_map *map);

/**
 * struct nvme_p2p_dmabuf_src - what one dma-buf exports
 * @exp: the exporter
 * @set: the export file's dma-bufs
 * @file: the export file; each dma-buf holds a reference to it
 * @map: maps the range for an importer
 * @owner: the region or queue, for @map
 * @part: which part of it, for @map
 * @off: byte offset in the part
 * @len: bytes
 * @device_mem: CMB or registers: importers must take peer-to-peer
 *	addresses and reach the controller
 * @registers: the doorbells: no memory, never a queue's ring
 * @what: "CMB" or "doorbells", for the kernel log
 */
struct nvme_p2p_dmabuf_src {
	struct nvme_p2p_export *exp;
	struct nvme_p2p_dmabufs *set;
	struct file *file;
	nvme_p2p_dmabuf_map_fn map;
	void *owner;
	unsigned int part;
	unsigned long off;
	size_t len;
	bool device_mem;
	bool registers;
	const char *what;
};

void nvme_p2p_dmabufs_init(struct nvme_p2p_dmabufs *set);
int nvme_p2p_dmabuf_args(void __user *argp, u64 *off, u64 *len);
long nvme_p2p_dmabuf_export(const struct nvme_p2p_dmabuf_src *src);
void nvme_p2p_dmabufs_revoke(struct nvme_p2p_dmabufs *set);
void nvme_p2p_dmabufs_count(struct nvme_p2p_dmabufs *set, u16 *dmabufs,
			    u16 *attachments);
struct nvme_p2p_export *nvme_p2p_dmabuf_exporter(struct dma_buf *dmabuf,
						 bool *registers);

/* pci-p2p-import.c: queue rings in another device's memory (a dma-buf). */

/* A ring in a dma-buf, mapped for the controller while the queue exists. */
struct nvme_p2p_ring {
	struct dma_buf_attachment *attach;	/* NULL: not in a dma-buf */
	struct sg_table *sgt;
	u64 offset;				/* in the dma-buf */
	dma_addr_t addr;			/* for the controller */
};

int nvme_p2p_ring_import(struct nvme_p2p_export *exp, int fd, u64 offset,
			 size_t size, const struct dma_buf_attach_ops *ops,
			 void *priv, struct nvme_p2p_ring *ring);
void nvme_p2p_ring_release(struct nvme_p2p_ring *ring);
long nvme_p2p_ring_dmabuf_fd(struct nvme_p2p_ring *ring);
int nvme_p2p_ring_mmap(struct nvme_p2p_ring *ring, struct vm_area_struct *vma);
struct dma_fence *nvme_p2p_ring_fence_new(void);
int nvme_p2p_ring_fence_add(struct dma_buf_attachment *attach,
			    struct dma_fence *fence);

/* pci-p2p-queue.c: exported queue pairs. */

long nvme_p2p_queue_create(struct nvme_p2p_export *exp,
			   const struct nvme_p2p_cmb *cmb, void __user *argp);
unsigned int nvme_p2p_queues_used(struct nvme_p2p_export *exp);
void nvme_p2p_queues_list(struct nvme_p2p_export *exp,
			  struct nvme_p2p_list_entry *entries, u32 room,
			  u32 *count);
void nvme_p2p_queues_invalidate(struct nvme_p2p_export *exp);
void nvme_p2p_queues_restore(struct nvme_p2p_export *exp);
void nvme_p2p_queues_remove(struct nvme_p2p_export *exp);

#endif /* _NVME_PCI_P2P_H */
