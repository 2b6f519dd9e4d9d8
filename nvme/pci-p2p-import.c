// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci peer-to-peer exporter: queue rings in another device's memory.
 *
 * Few SSDs have a CMB, so a peer that drives an exported queue pair wants
 * the rings in memory it owns: a GPU's, another controller's CMB, a
 * driver's host buffer. The caller passes a dma-buf and an offset for the
 * SQ or the CQ; the controller's PCI device attaches to it as a dynamic
 * importer that takes peer-to-peer addresses, so the exporter decides per
 * importer whether the controller reaches the memory, and may take it
 * back at any moment (move_notify). The ring must be one contiguous DMA
 * range for the controller: the pair is created physically contiguous.
 *
 * The attachment is mapped while the queue exists. When the exporter
 * takes the memory back, the importer adds a fence to the dma-buf's
 * reservation object, which the exporter waits for before the memory
 * goes, and signals it once the pair is off the controller (see
 * pci-p2p-queue.c): admin commands cannot be sent from move_notify, which
 * runs under the exporter's locks.
 */
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "nvme.h"
#include "pci-p2p.h"

/* The controller's memory page size (CC.MPS) as nvme-pci sets it. */
#define NVME_P2P_RING_ALIGN	SZ_4K

struct nvme_p2p_ring_fence {
	struct dma_fence base;		/* first: dma_fence_free() frees it */
	spinlock_t lock;		/* for dma_fence_init() */
};

static const char *nvme_p2p_ring_fence_name(struct dma_fence *fence)
{
	return "nvme-p2p-ring";
}

static const struct dma_fence_ops nvme_p2p_ring_fence_ops = {
	.get_driver_name = nvme_p2p_ring_fence_name,
	.get_timeline_name = nvme_p2p_ring_fence_name,
};

/**
 * nvme_p2p_ring_fence_new() - the fence a queue signals once off the controller
 *
 * Return: a new unsignalled fence, or NULL without memory.
 */
struct dma_fence *nvme_p2p_ring_fence_new(void)
{
	struct nvme_p2p_ring_fence *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return NULL;
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &nvme_p2p_ring_fence_ops, &f->lock,
		       dma_fence_context_alloc(1), 1);
	return &f->base;
}

/**
 * nvme_p2p_ring_fence_add() - make the exporter wait for the queue's fence
 * @attach: the ring's attachment, in its move_notify (reservation held)
 * @fence: the queue's fence
 *
 * Return: 0, or -ENOMEM without room for the fence: the caller then takes
 * the queue off the controller before returning from move_notify.
 */
int nvme_p2p_ring_fence_add(struct dma_buf_attachment *attach,
			    struct dma_fence *fence)
{
	struct dma_resv *resv = attach->dmabuf->resv;
	int ret;

	dma_resv_assert_held(resv);
	ret = dma_resv_reserve_fences(resv, 1);
	if (ret)
		return ret;
	dma_resv_add_fence(resv, fence, DMA_RESV_USAGE_BOOKKEEP);
	return 0;
}

/*
 * The DMA address of @offset in @sgt, if the @size bytes from there are
 * one contiguous range: -EXDEV if not, -EINVAL if the mapping is shorter
 * or the address not aligned for a ring.
 */
static int nvme_p2p_ring_addr(struct sg_table *sgt, u64 offset, size_t size,
			      dma_addr_t *addr)
{
	u64 pos = 0, end = offset + size;
	struct scatterlist *sg;
	dma_addr_t next = 0;
	bool found = false;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		dma_addr_t start = sg_dma_address(sg);
		u64 len = sg_dma_len(sg);

		if (pos + len <= offset) {
			pos += len;
			continue;
		}
		if (!found) {
			*addr = start + (offset - pos);
			found = true;
		} else if (start != next) {
			return -EXDEV;
		}
		next = start + len;
		pos += len;
		if (pos >= end)
			break;
	}
	if (!found || pos < end)
		return -EINVAL;
	if (!IS_ALIGNED(*addr, NVME_P2P_RING_ALIGN))
		return -EINVAL;
	return 0;
}

/**
 * nvme_p2p_ring_import() - attach the controller to a ring in a dma-buf
 * @exp: the controller's exporter state
 * @fd: the dma-buf's file descriptor
 * @offset: the ring's first byte in the dma-buf
 * @size: the ring's bytes (page aligned)
 * @ops: the queue's importer operations (move_notify)
 * @priv: the queue, for @ops
 * @ring: out: the attachment, its mapping and the ring's DMA address
 *
 * Return: 0, or a negative errno as the uapi header lists it for
 * NVME_P2P_IOCTL_QUEUE_CREATE (or the exporter's own).
 */
int nvme_p2p_ring_import(struct nvme_p2p_export *exp, int fd, u64 offset,
			 size_t size, const struct dma_buf_attach_ops *ops,
			 void *priv, struct nvme_p2p_ring *ring)
{
	struct dma_buf_attachment *attach;
	struct nvme_p2p_export *owner;
	bool registers = false;
	struct dma_buf *dmabuf;
	struct sg_table *sgt;
	long ret;

	if (!IS_ALIGNED(offset, NVME_P2P_RING_ALIGN))
		return -EINVAL;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/*
	 * Not its own exports (the CMB placements do that without the
	 * detour), nor anyone's doorbells: a CQ there would ring queues.
	 */
	ret = -EINVAL;
	owner = nvme_p2p_dmabuf_exporter(dmabuf, &registers);
	if (owner == exp || (owner && registers) ||
	    offset > dmabuf->size || size > dmabuf->size - offset)
		goto out_put;

	attach = dma_buf_dynamic_attach(dmabuf, &exp->pdev->dev, ops, priv);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_put;
	}
	dma_resv_lock(dmabuf->resv, NULL);
	sgt = dma_buf_map_attachment(attach, DMA_BIDIRECTIONAL);
	if (!IS_ERR(sgt)) {
		/* A move or clear under way: the controller must not race it. */
		ret = dma_resv_wait_timeout(dmabuf->resv, DMA_RESV_USAGE_KERNEL,
					    true, MAX_SCHEDULE_TIMEOUT);
		if (ret < 0) {
			dma_buf_unmap_attachment(attach, sgt, DMA_BIDIRECTIONAL);
			sgt = ERR_PTR(ret);
		}
	}
	dma_resv_unlock(dmabuf->resv);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		dma_buf_detach(dmabuf, attach);
		goto out_put;
	}
	ring->attach = attach;
	ring->sgt = sgt;
	ring->offset = offset;
	ret = nvme_p2p_ring_addr(sgt, offset, size, &ring->addr);
	if (ret) {
		dev_info(exp->ctrl->device,
			 "p2p: a queue ring in a dma-buf: %s\n",
			 ret == -EXDEV ? "not one contiguous DMA range" :
			 "not aligned for the controller");
		nvme_p2p_ring_release(ring);
	}
	return ret;

out_put:
	dma_buf_put(dmabuf);
	return ret;
}

/**
 * nvme_p2p_ring_release() - unmap, detach and let go of a ring's dma-buf
 * @ring: the ring; nothing happens if it is not in a dma-buf
 *
 * The pair must be off the controller. Never called under the exporter's
 * cmd_lock: the last reference to the dma-buf may release an export of
 * another controller, whose revocation may be waiting for this one.
 */
void nvme_p2p_ring_release(struct nvme_p2p_ring *ring)
{
	struct dma_buf_attachment *attach = ring->attach;
	struct dma_buf *dmabuf;

	if (!attach)
		return;
	dmabuf = attach->dmabuf;
	dma_resv_lock(dmabuf->resv, NULL);
	dma_buf_unmap_attachment(attach, ring->sgt, DMA_BIDIRECTIONAL);
	dma_resv_unlock(dmabuf->resv);
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
	ring->attach = NULL;
	ring->sgt = NULL;
}

/**
 * nvme_p2p_ring_dmabuf_fd() - a new descriptor of a ring's dma-buf
 * @ring: a ring in a dma-buf
 *
 * Return: the descriptor (O_CLOEXEC), or a negative errno.
 */
long nvme_p2p_ring_dmabuf_fd(struct nvme_p2p_ring *ring)
{
	struct dma_buf *dmabuf = ring->attach->dmabuf;
	int fd;

	get_dma_buf(dmabuf);
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);
	return fd;
}

/**
 * nvme_p2p_ring_mmap() - map a ring in a dma-buf for the CPU
 * @ring: a ring in a dma-buf
 * @vma: the queue file's VMA at the ring's offset, the ring's length
 *
 * Return: what the dma-buf's own mmap returns.
 */
int nvme_p2p_ring_mmap(struct nvme_p2p_ring *ring, struct vm_area_struct *vma)
{
	return dma_buf_mmap(ring->attach->dmabuf, vma,
			    ring->offset >> PAGE_SHIFT);
}
