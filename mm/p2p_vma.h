/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Importing device memory that another driver exports as a peer-to-peer VMA
 * (vm_operations_struct.p2p_map/p2p_unmap): the helper every importer uses.
 */
#ifndef _LINUX_P2P_VMA_H
#define _LINUX_P2P_VMA_H

#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct device;
struct mm_struct;
struct vm_area_struct;
struct p2p_vma_import;

/**
 * struct p2p_vma_import_ops - what the helper tells an importer
 * @revoke: the range is being invalidated (the exporter takes its memory
 *	back, or the process unmaps the range or exits). The importer stops
 *	every DMA to the range's addresses before it returns; the helper then
 *	calls p2p_unmap. Called with the import's lock held, in a context that
 *	may sleep, never inside a p2p_vma_import_begin() section of the same
 *	import (the helper waits for that section to end). Must not allocate
 *	memory with reclaim, take mmap_lock, or call back into the helper for
 *	this import.
 */
struct p2p_vma_import_ops {
	void (*revoke)(struct p2p_vma_import *imp);
};

/**
 * struct p2p_vma_import_stats - what happened to an import so far
 * @maps: successful mappings (each calls p2p_map once per VMA of the range)
 * @unmaps: mappings undone with p2p_unmap
 * @unmap_errors: p2p_unmap calls that returned an error
 * @revokes: invalidations that revoked a live mapping (@revoke calls)
 * @map_retries: mappings undone and redone because an invalidation ran
 *	while p2p_map did
 */
struct p2p_vma_import_stats {
	u64 maps;
	u64 unmaps;
	u64 unmap_errors;
	u64 revokes;
	u64 map_retries;
};

/* One VMA of the range, as p2p_map mapped it. */
struct p2p_vma_import_seg {
	struct vm_area_struct *vma;
	unsigned long start;
	unsigned long end;
};

/**
 * struct p2p_vma_import - an importer's hold on a range of p2p VMAs
 * @notifier: the mmu_interval_notifier over [@start, @end)
 * @ops: the importer's callbacks
 * @dev: the importing device (the addresses are for its DMA)
 * @start: first byte of the range, page aligned
 * @end: end of the range, page aligned
 * @write: the importer writes to the range (p2p_map's @write)
 * @map_lock: serialises mapping and teardown; never taken on invalidation
 * @lock: protects @mapped, @segs, @nr_segs, @pa and @stats; held by
 *	invalidation across @ops->revoke and p2p_unmap, and by the importer
 *	between p2p_vma_import_begin() and p2p_vma_import_end()
 * @mapped: @pa holds live addresses
 * @segs: the VMAs of the range while @mapped
 * @nr_segs: entries used in @segs
 * @max_segs: entries allocated in @segs
 * @pa: one DMA address per page of the range
 * @stats: counters
 *
 * Embedded in the importer's own per-range structure; all fields are the
 * helper's (p2p_vma_import_get_stats() reads @stats).
 */
struct p2p_vma_import {
	struct mmu_interval_notifier notifier;
	const struct p2p_vma_import_ops *ops;
	struct device *dev;
	unsigned long start;
	unsigned long end;
	bool write;
	struct mutex map_lock;		/* serialises map and fini */
	struct mutex lock;		/* see above */
	bool mapped;
	struct p2p_vma_import_seg *segs;
	unsigned int nr_segs;
	unsigned int max_segs;
	dma_addr_t *pa;
	struct p2p_vma_import_stats stats;
};

#ifdef CONFIG_P2P_VMA
int p2p_vma_import_init(struct p2p_vma_import *imp, struct device *dev,
			struct mm_struct *mm, unsigned long start,
			unsigned long len, bool write,
			const struct p2p_vma_import_ops *ops);
void p2p_vma_import_fini(struct p2p_vma_import *imp);
int p2p_vma_import_map(struct p2p_vma_import *imp);
int p2p_vma_import_begin(struct p2p_vma_import *imp, bool remap);
void p2p_vma_import_end(struct p2p_vma_import *imp);
dma_addr_t p2p_vma_import_dma_addr(struct p2p_vma_import *imp,
				   unsigned long offset);
void p2p_vma_import_get_stats(struct p2p_vma_import *imp,
			      struct p2p_vma_import_stats *stats);
#else
static inline int p2p_vma_import_init(struct p2p_vma_import *imp,
				      struct device *dev, struct mm_struct *mm,
				      unsigned long start, unsigned long len,
				      bool write,
				      const struct p2p_vma_import_ops *ops)
{
	return -EOPNOTSUPP;
}

static inline void p2p_vma_import_fini(struct p2p_vma_import *imp)
{
}

static inline int p2p_vma_import_map(struct p2p_vma_import *imp)
{
	return -EOPNOTSUPP;
}

static inline int p2p_vma_import_begin(struct p2p_vma_import *imp, bool remap)
{
	return -EOPNOTSUPP;
}

static inline void p2p_vma_import_end(struct p2p_vma_import *imp)
{
}

static inline dma_addr_t p2p_vma_import_dma_addr(struct p2p_vma_import *imp,
						 unsigned long offset)
{
	return 0;
}

static inline void p2p_vma_import_get_stats(struct p2p_vma_import *imp,
					    struct p2p_vma_import_stats *stats)
{
	*stats = (struct p2p_vma_import_stats){};
}
#endif

#endif /* _LINUX_P2P_VMA_H */
