// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring registered buffers in peer-to-peer VMAs.
 *
 * A process registers, as a fixed buffer, a range of a VMA that a driver
 * exports with p2p_map (an NVMe CMB region, say). Nothing is pinned: GUP
 * would refuse such memory for long-term use, and rightly, since the
 * exporter may take it back at any time. Instead the buffer is bound,
 * on its first READ_FIXED or WRITE_FIXED on a block device, to that
 * device's DMA through the importer helper (p2p_map for the device, an
 * mmu_interval_notifier over the range); a device that cannot reach the
 * memory peer to peer is refused with -EREMOTEIO, never served through a
 * bounce buffer. The bio carries the exporter's struct pages (p2p_pages),
 * which the block driver maps itself with pci_p2pdma, to the address
 * p2p_map vouched for.
 *
 * Revocation (the exporter resets or goes away, the process unmaps the
 * range or exits) marks the buffer revoked and waits for the requests
 * in flight on it; later requests on the buffer fail with -ESTALE until
 * the process registers it again. A notifier of the buffer's own watches
 * the range from registration on, so that a buffer no device was bound
 * to yet is revoked the same way. The file of the VMA is held while the
 * buffer is registered, so the memory itself is not freed under a
 * request, only taken back from every device.
 */
#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io_uring_types.h>
#include <linux/mm.h>
#include <linux/p2p_vma.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include "io_uring.h"
#include "rsrc.h"
#include "p2p.h"

/* Devices one buffer may be bound to: a copy between two needs two. */
#define IO_P2P_MAX_TARGETS	4

/*
 * How long a revocation waits for the requests in flight on a buffer. A
 * request stuck on the very controller whose reset revokes the buffer is
 * only cancelled after the revocation returns; the exporter keeps its
 * memory across a reset, so going on after a while is safe there.
 */
#define IO_P2P_DRAIN_TIMEOUT	(10 * HZ)

struct io_p2p_buf;

/* A buffer bound to one device's DMA. */
struct io_p2p_target {
	struct p2p_vma_import imp;
	struct io_p2p_buf *buf;
};

/**
 * struct io_p2p_buf - a registered buffer in a peer-to-peer VMA
 * @watch: revokes the buffer on any invalidation of the range, bound or not
 * @mm: the address space of the range (grabbed)
 * @file: the VMA's file, held so that the exporter keeps the memory
 * @start: first byte of the range, page aligned
 * @len: bytes of the range, page aligned
 * @lock: serialises binding to devices
 * @nr_targets: entries used in @targets
 * @targets: the devices the buffer is bound to
 * @revoked: a revocation ran; requests fail with -ESTALE from then on
 * @inflight: requests between io_p2p_rw_start() and their completion
 * @drained: woken when @inflight drops to zero
 */
struct io_p2p_buf {
	struct mmu_interval_notifier watch;
	struct mm_struct *mm;
	struct file *file;
	unsigned long start;
	unsigned long len;
	struct mutex lock;		/* see above */
	unsigned int nr_targets;
	struct io_p2p_target *targets[IO_P2P_MAX_TARGETS];
	bool revoked;
	atomic_t inflight;
	wait_queue_head_t drained;
};

/* No request may start on @buf any more. */
static void io_p2p_buf_mark_revoked(struct io_p2p_buf *buf)
{
	WRITE_ONCE(buf->revoked, true);
	/* Pairs with io_p2p_rw_start(): it counts itself, then looks. */
	smp_mb();
}

/* Revoke @buf and let the requests in flight on it finish. */
static void io_p2p_buf_revoke(struct io_p2p_buf *buf)
{
	io_p2p_buf_mark_revoked(buf);
	if (!wait_event_timeout(buf->drained, !atomic_read(&buf->inflight),
				IO_P2P_DRAIN_TIMEOUT))
		pr_warn("io_uring: p2p buffer revoked with %d requests still in flight\n",
			atomic_read(&buf->inflight));
}

/* The helper's revoke: the device's DMA ends before its p2p_unmap. */
static void io_p2p_revoke(struct p2p_vma_import *imp)
{
	io_p2p_buf_revoke(container_of(imp, struct io_p2p_target, imp)->buf);
}

static const struct p2p_vma_import_ops io_p2p_import_ops = {
	.revoke = io_p2p_revoke,
};

/*
 * The buffer's own watch. A non-blocking invalidation cannot wait for
 * requests in flight: it fails if there are any, leaving the buffer
 * revoked all the same.
 */
static bool io_p2p_watch_invalidate(struct mmu_interval_notifier *mni,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq)
{
	struct io_p2p_buf *buf = container_of(mni, struct io_p2p_buf, watch);

	mmu_interval_set_seq(mni, cur_seq);
	if (!mmu_notifier_range_blockable(range)) {
		io_p2p_buf_mark_revoked(buf);
		return !atomic_read(&buf->inflight);
	}
	io_p2p_buf_revoke(buf);
	return true;
}

static const struct mmu_interval_notifier_ops io_p2p_watch_ops = {
	.invalidate = io_p2p_watch_invalidate,
};

/**
 * io_p2p_buffer_probe() - is a buffer to register in a peer-to-peer VMA
 * @iov: the buffer, in the current process
 *
 * Return: true if the VMA at its first byte exports p2p_map.
 */
bool io_p2p_buffer_probe(const struct iovec *iov)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool p2p;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, (unsigned long)iov->iov_base);
	p2p = vma && vma->vm_ops && vma->vm_ops->p2p_map;
	mmap_read_unlock(mm);
	return p2p;
}

/*
 * The exporter's pages of [start, end), and a hold on its file. Caller
 * holds mmap_lock.
 */
static long io_p2p_vma_pages(struct mm_struct *mm, unsigned long start,
			     unsigned long end, struct page **pages,
			     struct file **file)
{
	struct vm_area_struct *vma = vma_lookup(mm, start);
	long ret;

	if (!vma || !vma->vm_ops || !vma->vm_ops->p2p_map)
		return -EFAULT;
	/* One VMA, one exporter vouching for every page. */
	if (end > vma->vm_end)
		return -EINVAL;
	if (!vma->vm_ops->p2p_pages || !vma->vm_file)
		return -EOPNOTSUPP;
	/* Devices read and write fixed buffers: so must the process. */
	if ((vma->vm_flags & (VM_READ | VM_WRITE)) != (VM_READ | VM_WRITE))
		return -EACCES;
	ret = vma->vm_ops->p2p_pages(vma, start, end, pages);
	if (ret)
		return ret;
	*file = get_file(vma->vm_file);
	return 0;
}

/**
 * io_p2p_buffer_register() - register a buffer in a peer-to-peer VMA
 * @iov: the buffer, in the current process, within one VMA
 * @pimu: set to the new buffer on success
 *
 * Return: 0, or -EFAULT (not a p2p VMA), -EINVAL (the buffer runs past its
 * VMA), -EOPNOTSUPP (the exporter has no pages for it: BAR memory, host
 * memory), -EACCES (the process may not both read and write the VMA),
 * -ENODEV (revoked for good), -ENOMEM.
 */
int io_p2p_buffer_register(const struct iovec *iov,
			   struct io_mapped_ubuf **pimu)
{
	unsigned long addr = (unsigned long)iov->iov_base;
	unsigned long start = addr & PAGE_MASK;
	unsigned long end = PAGE_ALIGN(addr + iov->iov_len);
	unsigned long i, nr_pages = (end - start) >> PAGE_SHIFT;
	struct mm_struct *mm = current->mm;
	struct io_mapped_ubuf *imu;
	struct io_p2p_buf *buf;
	struct page **pages;
	size_t size, off;
	long ret = -ENOMEM;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	imu = kvmalloc(struct_size(imu, bvec, nr_pages), GFP_KERNEL_ACCOUNT);
	pages = kvmalloc_array(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!buf || !imu || !pages)
		goto out_free;

	mutex_init(&buf->lock);
	atomic_set(&buf->inflight, 0);
	init_waitqueue_head(&buf->drained);
	/* Watch first: an invalidation from here on revokes the buffer. */
	ret = mmu_interval_notifier_insert(&buf->watch, mm, start, end - start,
					   &io_p2p_watch_ops);
	if (ret)
		goto out_free;
	mmap_read_lock(mm);
	ret = io_p2p_vma_pages(mm, start, end, pages, &buf->file);
	mmap_read_unlock(mm);
	if (ret) {
		mmu_interval_notifier_remove(&buf->watch);
		goto out_free;
	}

	mmgrab(mm);
	buf->mm = mm;
	buf->start = start;
	buf->len = end - start;

	imu->ubuf = addr;
	imu->len = iov->iov_len;
	imu->nr_bvecs = nr_pages;
	imu->folio_shift = PAGE_SHIFT;
	imu->acct_pages = 0;		/* no host memory held */
	imu->p2p = buf;
	refcount_set(&imu->refs, 1);
	size = iov->iov_len;
	off = offset_in_page(addr);
	for (i = 0; i < nr_pages; i++) {
		size_t vec_len = min_t(size_t, size, PAGE_SIZE - off);

		bvec_set_page(&imu->bvec[i], pages[i], vec_len, off);
		off = 0;
		size -= vec_len;
	}
	kvfree(pages);
	*pimu = imu;
	return 0;

out_free:
	kvfree(pages);
	kvfree(imu);
	kfree(buf);
	return ret;
}

/**
 * io_p2p_buffer_free() - undo io_p2p_buffer_register()
 * @buf: the buffer; no request holds it any more (its rsrc node is gone)
 *
 * Unbinds it from every device (p2p_unmap of what is still mapped) and
 * lets the exporter have its memory back. The caller frees the
 * io_mapped_ubuf.
 */
void io_p2p_buffer_free(struct io_p2p_buf *buf)
{
	unsigned int i;

	WARN_ON_ONCE(atomic_read(&buf->inflight));
	for (i = 0; i < buf->nr_targets; i++) {
		p2p_vma_import_fini(&buf->targets[i]->imp);
		kfree(buf->targets[i]);
	}
	mmu_interval_notifier_remove(&buf->watch);
	fput(buf->file);
	mmdrop(buf->mm);
	kfree(buf);
}

/**
 * io_p2p_buf_put() - a request that held @buf in flight is over
 * @buf: the buffer
 *
 * Context: Any, interrupt included (block I/O completion).
 */
void io_p2p_buf_put(struct io_p2p_buf *buf)
{
	if (atomic_dec_and_test(&buf->inflight))
		wake_up_all(&buf->drained);
}

/*
 * The device that moves the data of @kiocb. Only O_DIRECT on a block
 * device whose driver maps peer-to-peer pages (BLK_FEAT_PCI_P2PDMA): any
 * other file would have the CPU copy the data through host memory.
 */
static struct device *io_p2p_dma_device(struct kiocb *kiocb)
{
	struct file *file = kiocb->ki_filp;
	struct block_device *bdev;
	struct device *dev;

	if (!(kiocb->ki_flags & IOCB_DIRECT) ||
	    !S_ISBLK(file_inode(file)->i_mode))
		return ERR_PTR(-EOPNOTSUPP);
	bdev = file_bdev(file);
	if (!blk_queue_pci_p2pdma(bdev_get_queue(bdev)))
		return ERR_PTR(-EOPNOTSUPP);
	/* The disk's nearest ancestor that does DMA: its controller. */
	for (dev = disk_to_dev(bdev->bd_disk)->parent; dev; dev = dev->parent)
		if (dev->dma_mask)
			return dev;
	return ERR_PTR(-EOPNOTSUPP);
}

/* The buffer bound to @dev, binding it now if need be. */
static struct io_p2p_target *io_p2p_target_get(struct io_p2p_buf *buf,
					       struct device *dev)
{
	struct io_p2p_target *target;
	unsigned int i;
	int ret;

	lockdep_assert_held(&buf->lock);
	for (i = 0; i < buf->nr_targets; i++)
		if (buf->targets[i]->imp.dev == dev)
			return buf->targets[i];
	if (buf->nr_targets == IO_P2P_MAX_TARGETS)
		return ERR_PTR(-ENOSPC);

	target = kzalloc(sizeof(*target), GFP_KERNEL);
	if (!target)
		return ERR_PTR(-ENOMEM);
	target->buf = buf;
	/* p2p_map for @dev: -EREMOTEIO if it cannot reach the memory. */
	ret = p2p_vma_import_init(&target->imp, dev, buf->mm, buf->start,
				  buf->len, true, &io_p2p_import_ops);
	if (ret) {
		kfree(target);
		return ERR_PTR(ret);
	}
	buf->targets[buf->nr_targets++] = target;
	return target;
}

/**
 * io_p2p_rw_start() - hold a peer-to-peer buffer for a read or write
 * @buf: the request's fixed buffer
 * @kiocb: the request, its file and flags set up
 * @held: set to @buf on success; the request's completion puts it
 *	(io_p2p_rw_issued(), io_p2p_rw_done())
 *
 * Binds @buf to the DMA of the file's device on first use.
 *
 * Context: Process context, may sleep.
 * Return: 0 or a negative errno: -ESTALE (the buffer was revoked:
 * register it again), -EOPNOTSUPP (not O_DIRECT on a block device that
 * does peer-to-peer DMA), -EREMOTEIO (the device cannot reach the
 * memory), -ENOSPC (bound to too many devices already), -ENODEV (the
 * exporter revoked the memory for good), -ESRCH (the registering
 * process's address space is gone), -ENOMEM, -EINTR.
 */
int io_p2p_rw_start(struct io_p2p_buf *buf, struct kiocb *kiocb,
		    struct io_p2p_buf **held)
{
	struct io_p2p_target *target;
	struct device *dev;
	int ret;

	if (READ_ONCE(buf->revoked))
		return -ESTALE;
	dev = io_p2p_dma_device(kiocb);
	if (IS_ERR(dev))
		return PTR_ERR(dev);

	mutex_lock(&buf->lock);
	target = io_p2p_target_get(buf, dev);
	if (IS_ERR(target)) {
		ret = PTR_ERR(target);
		goto out_unlock;
	}
	/* No remap: a revoked buffer stays revoked until registered again. */
	ret = p2p_vma_import_begin(&target->imp, false);
	if (ret)
		goto out_unlock;
	atomic_inc(&buf->inflight);
	/* Pairs with io_p2p_revoke(): it marks the buffer, then counts. */
	smp_mb__after_atomic();
	if (READ_ONCE(buf->revoked)) {
		io_p2p_buf_put(buf);
		ret = -ESTALE;
	} else {
		*held = buf;
	}
	p2p_vma_import_end(&target->imp);
out_unlock:
	mutex_unlock(&buf->lock);
	return ret;
}
