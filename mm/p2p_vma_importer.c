// SPDX-License-Identifier: GPL-2.0
/*
 * The importer side of device peer-to-peer through VMAs.
 *
 * A driver that owns device memory (an NVMe CMB, a GPU BAR) exports it to
 * a process as a VMA whose vm_ops carry p2p_map/p2p_unmap. A second
 * driver - a NIC, a GPU, an accelerator - is handed a range of that VMA
 * by the process and wants DMA addresses for its own device. This helper
 * does that for it: it finds the VMAs of the range, asks each exporter
 * for addresses with p2p_map, and keeps an mmu_interval_notifier over the
 * range. When the range is invalidated (the exporter revokes, the process
 * unmaps or exits) it tells the importer to stop its DMA and undoes the
 * mapping with p2p_unmap; the importer maps again on demand.
 *
 * The rules it rests on:
 *  - A VMA is freed only after an invalidation of its range has run (munmap,
 *    mremap and exit_mmap all invalidate before they free), and exporters
 *    keep p2p VMAs whole (->may_split refuses). So while the range is
 *    mapped, the VMAs that p2p_map saw stay valid for p2p_unmap: the
 *    invalidation that would free them waits for @lock first.
 *  - p2p_map allocates, so it runs without @lock (which invalidation takes
 *    and reclaim may therefore wait on), under mmap_lock; the result is
 *    committed under @lock only if no invalidation ran meanwhile
 *    (mmu_interval_read_begin/retry), else undone and retried.
 *  - p2p_unmap may sleep: a non-blocking invalidation of a mapped range
 *    fails (returns false) and leaves the mapping alone.
 *  - Each mapping is undone exactly once: by the invalidation that finds it
 *    mapped, or by p2p_vma_import_fini(); both under @lock.
 */
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/p2p_vma.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

/* Where the addresses of the page at @addr go in imp->pa. */
static dma_addr_t *p2p_vma_import_pa(struct p2p_vma_import *imp,
				     unsigned long addr)
{
	return imp->pa + ((addr - imp->start) >> PAGE_SHIFT);
}

/*
 * Undo every p2p_map of the range; returns how many p2p_unmap calls failed.
 * Caller holds mmap_lock or imp->lock: either keeps the VMAs alive.
 */
static unsigned int p2p_vma_import_unmap_segs(struct p2p_vma_import *imp)
{
	unsigned int i, errors = 0;

	for (i = 0; i < imp->nr_segs; i++) {
		struct p2p_vma_import_seg *seg = &imp->segs[i];
		long ret;

		ret = seg->vma->vm_ops->p2p_unmap(seg->vma, imp->dev, seg->start,
						  seg->end,
						  p2p_vma_import_pa(imp, seg->start));
		if (ret) {
			errors++;
			dev_dbg(imp->dev, "p2p_unmap of [%#lx, %#lx): %ld\n",
				seg->start, seg->end, ret);
		}
	}
	imp->nr_segs = 0;
	return errors;
}

/*
 * The VMA of @mm at @addr, if it exports p2p and the process may access it
 * as @write asks; an ERR_PTR otherwise. Caller holds mmap_lock.
 */
static struct vm_area_struct *p2p_vma_import_vma(struct mm_struct *mm,
						 unsigned long addr, bool write)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma)
		return ERR_PTR(-EFAULT);
	if (!vma->vm_ops || !vma->vm_ops->p2p_map || !vma->vm_ops->p2p_unmap)
		return ERR_PTR(-EOPNOTSUPP);
	/* The process's own access rights bound its device's, as for GUP. */
	if (!(vma->vm_flags & VM_READ) || (write && !(vma->vm_flags & VM_WRITE)))
		return ERR_PTR(-EACCES);
	return vma;
}

/* Every VMA of [start, end) is a usable p2p VMA. Caller holds mmap_lock. */
static int p2p_vma_import_check(struct mm_struct *mm, unsigned long start,
				unsigned long end, bool write)
{
	while (start < end) {
		struct vm_area_struct *vma = p2p_vma_import_vma(mm, start, write);

		if (IS_ERR(vma))
			return PTR_ERR(vma);
		start = vma->vm_end;
	}
	return 0;
}

/*
 * p2p_map every VMA of the range into imp->pa and imp->segs; on failure
 * undo what was mapped. Caller holds map_lock and mmap_lock (read), not
 * imp->lock: exporters allocate in p2p_map.
 */
static int p2p_vma_import_map_segs(struct p2p_vma_import *imp,
				   struct mm_struct *mm)
{
	unsigned long addr = imp->start;
	long ret;

	imp->nr_segs = 0;
	while (addr < imp->end) {
		struct vm_area_struct *vma;
		unsigned long end;

		vma = p2p_vma_import_vma(mm, addr, imp->write);
		ret = PTR_ERR_OR_ZERO(vma);
		if (ret)
			goto undo;
		if (imp->nr_segs == imp->max_segs) {
			struct p2p_vma_import_seg *segs;

			segs = krealloc_array(imp->segs, imp->max_segs * 2,
					      sizeof(*segs), GFP_KERNEL);
			ret = -ENOMEM;
			if (!segs)
				goto undo;
			imp->segs = segs;
			imp->max_segs *= 2;
		}
		end = min(vma->vm_end, imp->end);
		ret = vma->vm_ops->p2p_map(vma, imp->dev, addr, end,
					   p2p_vma_import_pa(imp, addr), imp->write);
		if (ret)
			goto undo;
		imp->segs[imp->nr_segs++] = (struct p2p_vma_import_seg) {
			.vma = vma, .start = addr, .end = end,
		};
		addr = end;
	}
	return 0;

undo:
	p2p_vma_import_unmap_segs(imp);
	return ret;
}

/* Caller holds map_lock. */
static int p2p_vma_import_map_locked(struct p2p_vma_import *imp)
{
	struct mm_struct *mm = imp->notifier.mm;
	unsigned long seq;
	int ret;

	if (READ_ONCE(imp->mapped))
		return 0;
	/* The address space is gone (or going) with its process. */
	if (!mmget_not_zero(mm))
		return -ESRCH;
	for (;;) {
		/* Outside mmap_lock: it waits for a running invalidation. */
		seq = mmu_interval_read_begin(&imp->notifier);
		ret = mmap_read_lock_killable(mm);
		if (ret)
			break;
		ret = p2p_vma_import_map_segs(imp, mm);
		if (ret) {
			mmap_read_unlock(mm);
			break;
		}
		mutex_lock(&imp->lock);
		if (!mmu_interval_read_retry(&imp->notifier, seq)) {
			imp->mapped = true;
			imp->stats.maps++;
			mutex_unlock(&imp->lock);
			mmap_read_unlock(mm);
			break;
		}
		/*
		 * An invalidation ran since read_begin and found nothing to
		 * revoke: what p2p_map returned may be stale. mmap_lock keeps
		 * the VMAs alive for the undo.
		 */
		imp->stats.map_retries++;
		mutex_unlock(&imp->lock);
		p2p_vma_import_unmap_segs(imp);
		mmap_read_unlock(mm);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	mmput(mm);
	return ret;
}

/*
 * Revoke a live mapping: the importer stops its DMA, then p2p_unmap. Caller
 * holds imp->lock, so that an invalidation that frees the VMAs waits.
 */
static void p2p_vma_import_unmap_locked(struct p2p_vma_import *imp, bool revoke)
{
	lockdep_assert_held(&imp->lock);
	if (!imp->mapped)
		return;
	if (revoke) {
		imp->stats.revokes++;
		imp->ops->revoke(imp);
	}
	imp->stats.unmaps++;
	imp->stats.unmap_errors += p2p_vma_import_unmap_segs(imp);
	WRITE_ONCE(imp->mapped, false);
}

static bool p2p_vma_import_invalidate(struct mmu_interval_notifier *mni,
				      const struct mmu_notifier_range *range,
				      unsigned long cur_seq)
{
	struct p2p_vma_import *imp = container_of(mni, struct p2p_vma_import,
						  notifier);

	if (mmu_notifier_range_blockable(range)) {
		mutex_lock(&imp->lock);
	} else if (!mutex_trylock(&imp->lock)) {
		return false;
	} else if (imp->mapped) {
		/* p2p_unmap may sleep: the caller retries or gives up. */
		mutex_unlock(&imp->lock);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	p2p_vma_import_unmap_locked(imp, true);
	mutex_unlock(&imp->lock);
	return true;
}

static const struct mmu_interval_notifier_ops p2p_vma_import_mni_ops = {
	.invalidate = p2p_vma_import_invalidate,
};

/**
 * p2p_vma_import_init() - import a range of p2p VMAs for a device's DMA
 * @imp: the import, embedded in the importer's own structure
 * @dev: the importing device; the DMA addresses are for it
 * @mm: the address space of the range (current->mm from an ioctl); the
 *	caller holds a reference that keeps its users above zero
 * @start: first byte of the range, page aligned
 * @len: bytes, a non-zero multiple of PAGE_SIZE
 * @write: @dev will write to the range, not just read it
 * @ops: the importer's callbacks; @ops->revoke is required
 *
 * Starts watching the range with an mmu_interval_notifier and maps it
 * once, so that a range the importer cannot use fails here. Every VMA of
 * the range must export p2p_map/p2p_unmap. Afterwards the range may be
 * revoked at any time (@ops->revoke runs, then p2p_unmap); the importer
 * maps it again with p2p_vma_import_map() or p2p_vma_import_begin().
 *
 * Context: Process context, may sleep. Takes mmap_lock of @mm.
 * Return: 0 or a negative errno: -EINVAL (range not page aligned, empty
 * or wrapping), -EFAULT (part of the range not mapped), -EOPNOTSUPP (a VMA
 * of the range is not a p2p VMA), -EACCES (the process may not read the
 * range, or not write it and @write), -ESRCH (@mm has no users left),
 * -ENOMEM, -EINTR (fatal signal), or what p2p_map returned: -EREMOTEIO
 * (@dev cannot reach the memory), -ENODEV (revoked for good).
 */
int p2p_vma_import_init(struct p2p_vma_import *imp, struct device *dev,
			struct mm_struct *mm, unsigned long start,
			unsigned long len, bool write,
			const struct p2p_vma_import_ops *ops)
{
	int ret;

	if (!len || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(len) ||
	    start + len < start || !ops || !ops->revoke)
		return -EINVAL;

	memset(imp, 0, sizeof(*imp));
	imp->ops = ops;
	imp->start = start;
	imp->end = start + len;
	imp->write = write;
	mutex_init(&imp->map_lock);
	mutex_init(&imp->lock);

	if (!mmget_not_zero(mm))
		return -ESRCH;
	/* Before sizing anything by @len: the range must be p2p VMAs. */
	ret = mmap_read_lock_killable(mm);
	if (ret)
		goto out_mmput;
	ret = p2p_vma_import_check(mm, imp->start, imp->end, write);
	mmap_read_unlock(mm);
	if (ret)
		goto out_mmput;

	ret = -ENOMEM;
	imp->pa = kvcalloc(len >> PAGE_SHIFT, sizeof(*imp->pa), GFP_KERNEL);
	imp->max_segs = 1;
	imp->segs = kcalloc(imp->max_segs, sizeof(*imp->segs), GFP_KERNEL);
	if (!imp->pa || !imp->segs)
		goto out_free;
	ret = mmu_interval_notifier_insert(&imp->notifier, mm, start, len,
					   &p2p_vma_import_mni_ops);
	if (ret)
		goto out_free;
	mmput(mm);
	imp->dev = get_device(dev);

	ret = p2p_vma_import_map(imp);
	if (ret) {
		p2p_vma_import_fini(imp);
		return ret;
	}
	return 0;

out_free:
	kfree(imp->segs);
	kvfree(imp->pa);
out_mmput:
	mmput(mm);
	return ret;
}
EXPORT_SYMBOL_GPL(p2p_vma_import_init);

/**
 * p2p_vma_import_fini() - end an import
 * @imp: the import
 *
 * Undoes the mapping if it is live (p2p_unmap; @ops->revoke is not called:
 * the importer has stopped its DMA to the range before it calls this) and
 * stops watching the range. Works whether or not the process and its
 * address space still exist. The importer calls nothing else on @imp
 * concurrently or afterwards.
 *
 * Context: Process context, may sleep; no p2p_vma_import_begin() section
 * of @imp open.
 */
void p2p_vma_import_fini(struct p2p_vma_import *imp)
{
	mutex_lock(&imp->map_lock);
	mutex_lock(&imp->lock);
	p2p_vma_import_unmap_locked(imp, false);
	mutex_unlock(&imp->lock);
	mutex_unlock(&imp->map_lock);
	/* Waits for an invalidation still running on the range. */
	mmu_interval_notifier_remove(&imp->notifier);
	put_device(imp->dev);
	kfree(imp->segs);
	kvfree(imp->pa);
	imp->segs = NULL;
	imp->pa = NULL;
}
EXPORT_SYMBOL_GPL(p2p_vma_import_fini);

/**
 * p2p_vma_import_map() - map the range again if it was revoked
 * @imp: the import
 *
 * Context: Process context, may sleep. Takes mmap_lock of the range's mm.
 * Return: 0 when the range is mapped (already, or now), else a negative
 * errno as p2p_vma_import_init() lists; -ESRCH once the process's
 * address space is gone, -EFAULT once the range is unmapped.
 */
int p2p_vma_import_map(struct p2p_vma_import *imp)
{
	int ret;

	ret = mutex_lock_killable(&imp->map_lock);
	if (ret)
		return ret;
	ret = p2p_vma_import_map_locked(imp);
	mutex_unlock(&imp->map_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(p2p_vma_import_map);

/**
 * p2p_vma_import_begin() - start using the range's DMA addresses
 * @imp: the import
 * @remap: map the range again if it was revoked; if false, a revoked range
 *	fails with -ESTALE and stays unmapped
 *
 * On success the range is mapped and stays so, with no invalidation of it
 * completing, until p2p_vma_import_end(): an invalidation waits, a
 * non-blocking one fails. Between the two the importer reads addresses with
 * p2p_vma_import_dma_addr() and programs its device; an importer whose DMA
 * is synchronous may keep the section open until its DMA has finished, an
 * asynchronous one stops its DMA in @ops->revoke instead. Inside the
 * section the importer must not touch user memory (a fault may need an
 * invalidation that waits for the section) nor allocate with reclaim.
 *
 * Context: Process context, may sleep.
 * Return: 0 with the section open, or a negative errno: -ESTALE (revoked,
 * @remap false), -EINTR (fatal signal), or what p2p_vma_import_map()
 * returns.
 */
int p2p_vma_import_begin(struct p2p_vma_import *imp, bool remap)
{
	int ret;

	for (;;) {
		ret = mutex_lock_killable(&imp->lock);
		if (ret)
			return ret;
		if (imp->mapped)
			return 0;
		mutex_unlock(&imp->lock);
		if (!remap)
			return -ESTALE;
		ret = p2p_vma_import_map(imp);
		if (ret)
			return ret;
	}
}
EXPORT_SYMBOL_GPL(p2p_vma_import_begin);

/**
 * p2p_vma_import_end() - end a p2p_vma_import_begin() section
 * @imp: the import
 *
 * Invalidations of the range may complete again; the addresses read in
 * the section must not be used for new DMA afterwards.
 */
void p2p_vma_import_end(struct p2p_vma_import *imp)
{
	mutex_unlock(&imp->lock);
}
EXPORT_SYMBOL_GPL(p2p_vma_import_end);

/**
 * p2p_vma_import_dma_addr() - the DMA address of a byte of the range
 * @imp: the import, inside a p2p_vma_import_begin() section
 * @offset: byte offset from the start of the range, below its length
 *
 * Addresses are contiguous within a page; the next page may be elsewhere.
 *
 * Return: the address @imp->dev uses to reach that byte.
 */
dma_addr_t p2p_vma_import_dma_addr(struct p2p_vma_import *imp,
				   unsigned long offset)
{
	lockdep_assert_held(&imp->lock);
	if (WARN_ON_ONCE(!imp->mapped || offset >= imp->end - imp->start))
		return DMA_MAPPING_ERROR;
	return imp->pa[offset >> PAGE_SHIFT] + offset_in_page(offset);
}
EXPORT_SYMBOL_GPL(p2p_vma_import_dma_addr);

/**
 * p2p_vma_import_get_stats() - read an import's counters
 * @imp: the import, live or after p2p_vma_import_fini()
 * @stats: filled with a consistent copy
 *
 * Context: Process context, may sleep (waits for an open section).
 */
void p2p_vma_import_get_stats(struct p2p_vma_import *imp,
			      struct p2p_vma_import_stats *stats)
{
	mutex_lock(&imp->lock);
	*stats = imp->stats;
	mutex_unlock(&imp->lock);
}
EXPORT_SYMBOL_GPL(p2p_vma_import_get_stats);
