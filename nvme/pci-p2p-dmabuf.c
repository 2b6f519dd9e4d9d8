// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci peer-to-peer exporter: regions, queue rings and doorbells as
 * dma-bufs.
 *
 * The p2p VMAs serve importers that work on user address ranges; drivers
 * that take a file descriptor (RDMA NICs registering a dma-buf memory
 * region, GPU drivers) speak dma-buf. NVME_P2P_IOCTL_DMABUF on a region
 * or queue file exports a range of it as a dma-buf with the VMAs' rules:
 *
 * - attach: device memory (CMB, doorbells) only to importers that take
 *   peer-to-peer addresses and that the controller can reach, decided per
 *   importer device as p2p_map decides it;
 * - map: an sg_table of DMA addresses for the importer; the doorbell page
 *   has no struct page, so its entry carries a DMA address only;
 * - revoke: every event that invalidates the VMAs calls move_notify on
 *   every attachment and waits for the importer's fences; maps fail until
 *   the export is usable again;
 * - no pinning: an attachment that cannot be revoked (a static importer,
 *   or dma_buf_pin()) could outlive a reset or an unbind, so it is refused.
 *   A kernel without CONFIG_DMABUF_MOVE_NOTIFY pins every mapping, so it
 *   exports nothing;
 * - no CPU access through the dma-buf: the region or queue file is the
 *   CPU's way in.
 *
 * A dma-buf holds a reference to the export file: the memory stays until
 * the last of them is released, whatever the owner closed.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/nvme_p2p.h>

#include "nvme.h"
#include "pci-p2p.h"

MODULE_IMPORT_NS(DMA_BUF);

#define NVME_P2P_DMABUF_ARGSZ_V0	offsetofend(struct nvme_p2p_dmabuf, reserved)

struct nvme_p2p_dmabuf_priv {
	struct nvme_p2p_dmabuf_src src;
	struct list_head node;		/* in src.set->list */
	struct dma_buf *dmabuf;
};

static int nvme_p2p_dmabuf_attach(struct dma_buf *dmabuf,
				  struct dma_buf_attachment *attach)
{
	struct nvme_p2p_dmabuf_priv *priv = dmabuf->priv;
	int route;

	if (priv->src.device_mem) {
		/* Static importers never take peer-to-peer addresses. */
		if (!attach->peer2peer)
			return -EOPNOTSUPP;
		route = nvme_p2p_route(priv->src.exp, attach->dev,
				       priv->src.what);
		if (route < 0)
			return route;
	}
	atomic_inc(&priv->src.set->attachments);
	return 0;
}

static void nvme_p2p_dmabuf_detach(struct dma_buf *dmabuf,
				   struct dma_buf_attachment *attach)
{
	struct nvme_p2p_dmabuf_priv *priv = dmabuf->priv;

	atomic_dec(&priv->src.set->attachments);
}

/* Pinned memory would outlive a reset or an unbind: never. */
static int nvme_p2p_dmabuf_pin(struct dma_buf_attachment *attach)
{
	return -EOPNOTSUPP;
}

static void nvme_p2p_dmabuf_unpin(struct dma_buf_attachment *attach)
{
}

static struct sg_table *
nvme_p2p_dmabuf_map(struct dma_buf_attachment *attach,
		    enum dma_data_direction dir)
{
	struct nvme_p2p_dmabuf_priv *priv = attach->dmabuf->priv;
	struct nvme_p2p_dmabuf_src *src = &priv->src;
	struct nvme_p2p_map *map;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	map = nvme_p2p_map_new(attach->dev, dir);
	if (!map)
		return ERR_PTR(-ENOMEM);
	ret = src->map(src->owner, src->part, src->off, src->len, map);
	if (ret) {
		nvme_p2p_map_free(map);
		return ERR_PTR(ret);
	}
	return &map->sgt;
}

static void nvme_p2p_dmabuf_unmap(struct dma_buf_attachment *attach,
				  struct sg_table *sgt,
				  enum dma_data_direction dir)
{
	nvme_p2p_map_free(container_of(sgt, struct nvme_p2p_map, sgt));
}

static void nvme_p2p_dmabuf_release(struct dma_buf *dmabuf)
{
	struct nvme_p2p_dmabuf_priv *priv = dmabuf->priv;
	struct nvme_p2p_dmabufs *set = priv->src.set;

	mutex_lock(&set->lock);
	list_del(&priv->node);
	mutex_unlock(&set->lock);
	atomic_dec(&set->nr);
	/* May be the last reference: the region or queue goes now. */
	fput(priv->src.file);
	kfree(priv);
}

/* The CPU reaches the memory through the region or queue file only. */
static int nvme_p2p_dmabuf_mmap(struct dma_buf *dmabuf,
				struct vm_area_struct *vma)
{
	return -EOPNOTSUPP;
}

static int nvme_p2p_dmabuf_cpu_access(struct dma_buf *dmabuf,
				      enum dma_data_direction dir)
{
	return -EOPNOTSUPP;
}

static const struct dma_buf_ops nvme_p2p_dmabuf_ops = {
	.attach = nvme_p2p_dmabuf_attach,
	.detach = nvme_p2p_dmabuf_detach,
	.pin = nvme_p2p_dmabuf_pin,
	.unpin = nvme_p2p_dmabuf_unpin,
	.map_dma_buf = nvme_p2p_dmabuf_map,
	.unmap_dma_buf = nvme_p2p_dmabuf_unmap,
	.release = nvme_p2p_dmabuf_release,
	.mmap = nvme_p2p_dmabuf_mmap,
	.begin_cpu_access = nvme_p2p_dmabuf_cpu_access,
	.end_cpu_access = nvme_p2p_dmabuf_cpu_access,
};

/**
 * nvme_p2p_dmabufs_init() - an export file's empty set of dma-bufs
 * @set: the set
 */
void nvme_p2p_dmabufs_init(struct nvme_p2p_dmabufs *set)
{
	mutex_init(&set->lock);
	INIT_LIST_HEAD(&set->list);
	atomic_set(&set->nr, 0);
	atomic_set(&set->attachments, 0);
}

/**
 * nvme_p2p_dmabuf_args() - read a NVME_P2P_IOCTL_DMABUF argument
 * @argp: the user's struct nvme_p2p_dmabuf
 * @off: out: its offset
 * @len: out: its size
 *
 * Return: 0, or -EFAULT, -EINVAL, -E2BIG as the header says; -EOPNOTSUPP
 * on a kernel that would pin every mapping.
 */
int nvme_p2p_dmabuf_args(void __user *argp, u64 *off, u64 *len)
{
	struct nvme_p2p_dmabuf arg;
	int ret;

	ret = nvme_p2p_copy_args(&arg, sizeof(arg), NVME_P2P_DMABUF_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	if (arg.flags ||
	    !nvme_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	if (!PAGE_ALIGNED(arg.offset) || !PAGE_ALIGNED(arg.size))
		return -EINVAL;
	if (!IS_ENABLED(CONFIG_DMABUF_MOVE_NOTIFY))
		return -EOPNOTSUPP;
	*off = arg.offset;
	*len = arg.size;
	return 0;
}

/**
 * nvme_p2p_dmabuf_export() - a new dma-buf of part of an export
 * @src: what it exports; the caller has checked the range
 *
 * Return: a new file descriptor (O_CLOEXEC) for the dma-buf, or a
 * negative errno.
 */
long nvme_p2p_dmabuf_export(const struct nvme_p2p_dmabuf_src *src)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct nvme_p2p_dmabuf_priv *priv;
	struct dma_buf *dmabuf;
	int fd;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	priv->src = *src;
	info.ops = &nvme_p2p_dmabuf_ops;
	info.size = src->len;
	info.flags = O_RDWR;
	info.priv = priv;
	get_file(src->file);
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		fput(src->file);
		kfree(priv);
		return PTR_ERR(dmabuf);
	}
	priv->dmabuf = dmabuf;
	mutex_lock(&src->set->lock);
	list_add_tail(&priv->node, &src->set->list);
	mutex_unlock(&src->set->lock);
	atomic_inc(&src->set->nr);

	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);	/* its release undoes the rest */
	return fd;
}

/**
 * nvme_p2p_dmabufs_revoke() - take every mapping away from every importer
 * @set: an export file's dma-bufs
 *
 * The caller has made its maps fail (or map what is there now) first:
 * each importer is told to unmap (move_notify), and its fences are waited
 * for, so that no DMA of it is in flight when this returns.
 */
void nvme_p2p_dmabufs_revoke(struct nvme_p2p_dmabufs *set)
{
	struct nvme_p2p_dmabuf_priv *priv;

	mutex_lock(&set->lock);
	list_for_each_entry(priv, &set->list, node) {
		struct dma_resv *resv = priv->dmabuf->resv;

		dma_resv_lock(resv, NULL);
		dma_buf_move_notify(priv->dmabuf);
		dma_resv_unlock(resv);
		dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
				      MAX_SCHEDULE_TIMEOUT);
	}
	mutex_unlock(&set->lock);
}

/**
 * nvme_p2p_dmabuf_exporter() - the controller a dma-buf is an export of
 * @dmabuf: any dma-buf
 * @registers: out: it exports doorbells (only set if nvme-p2p exported it)
 *
 * Return: the controller's exporter state, or NULL if nvme-p2p did not
 * export @dmabuf.
 */
struct nvme_p2p_export *nvme_p2p_dmabuf_exporter(struct dma_buf *dmabuf,
						 bool *registers)
{
	struct nvme_p2p_dmabuf_priv *priv = dmabuf->priv;

	if (dmabuf->ops != &nvme_p2p_dmabuf_ops)
		return NULL;
	*registers = priv->src.registers;
	return priv->src.exp;
}

/**
 * nvme_p2p_dmabufs_count() - dma-bufs of an export file, and attachments
 * @set: the export file's dma-bufs
 * @dmabufs: out: dma-bufs not yet released
 * @attachments: out: importers attached to them
 */
void nvme_p2p_dmabufs_count(struct nvme_p2p_dmabufs *set, u16 *dmabufs,
			    u16 *attachments)
{
	*dmabufs = min_t(unsigned int, atomic_read(&set->nr), U16_MAX);
	*attachments = min_t(unsigned int, atomic_read(&set->attachments),
			     U16_MAX);
}
