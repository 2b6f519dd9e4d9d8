// SPDX-License-Identifier: GPL-2.0
/*
 * edu_p2p: a test importer of peer-to-peer VMAs, driving QEMU's edu device.
 *
 * Like lib/test_hmm.c for HMM, this is the smallest real user of the
 * importer helper (include/linux/p2p_vma.h): a PCI driver whose device
 * DMAs to and from memory that another driver exports as a p2p VMA. The
 * uapi and its errnos are in edu_p2p.h.
 *
 * Every byte of an attached range is moved by the edu's DMA engine:
 * caller -> bounce buffer (host RAM) -> edu buffer -> attached address, and
 * back. The edu has one engine with a 4 KiB buffer at device address
 * 0x40000; QEMU 7.2 aborts on a transfer that reaches its end, so every
 * edu DMA here is a piece within one page of the range and below 4 KiB.
 * A transfer holds the
 * attachment's p2p_vma_import_begin() section for its whole duration, so
 * an invalidation waits for the DMA in flight to finish; the revoke
 * callback then has nothing left to stop.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iopoll.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/p2p_vma.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "edu_p2p.h"

#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define  EDU_DMA_START		BIT(0)	/* set until the transfer is done */
#define  EDU_DMA_TO_RAM		BIT(1)	/* edu buffer -> bus address */
#define EDU_BUF_ADDR		0x40000
/*
 * The buffer is 4 KiB, but QEMU 7.2 rejects (aborts on) a transfer that
 * ends exactly at its end: use one byte less.
 */
#define EDU_BUF_SIZE		(4096 - 1)
/* A DMA takes ~100 ms of guest time; TCG under load can be much slower. */
#define EDU_DMA_TIMEOUT_US	(10 * USEC_PER_SEC)

struct edu_p2p_dev {
	struct kref kref;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct miscdevice misc;
	char name[16];
	int index;
	struct mutex dma_lock;		/* the DMA engine; protects gone, broken */
	bool gone;			/* unbound: no more MMIO */
	bool broken;			/* a DMA timed out */
	struct mutex att_lock;		/* protects attachments, retired, attaches, detaches */
	struct list_head attachments;	/* every file's, for the counters */
	struct p2p_vma_import_stats retired;	/* of detached attachments */
	u64 attaches, detaches;
	atomic64_t refused, dmas, bytes_in, bytes_out;
};

struct edu_p2p_file {
	struct edu_p2p_dev *edu;
	struct mutex lock;		/* serialises this descriptor's ioctls */
	struct xarray attachments;	/* id -> struct edu_p2p_att */
};

/* A dma-buf attachment: its mapping is guarded by the reservation lock. */
struct edu_p2p_dmabuf {
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	struct sg_table *sgt;		/* NULL unless mapped */
	bool pinned;
	struct p2p_vma_import_stats stats;
};

struct edu_p2p_att {
	struct p2p_vma_import imp;	/* a range of a p2p VMA, or */
	struct edu_p2p_dmabuf db;	/* a dma-buf (db.dmabuf set) */
	struct list_head node;		/* in edu->attachments */
	unsigned long addr, len;
	u32 flags;
};

/*
 * A dma-buf attachment? Constant false in a kernel without dma-bufs (a
 * prefix of the series before the dma-buf export patch), so that the
 * module loads there: the dma-buf paths compile away.
 */
static bool edu_p2p_is_dmabuf(const struct edu_p2p_att *att)
{
	return IS_ENABLED(CONFIG_DMA_SHARED_BUFFER) && att->db.dmabuf;
}

static DEFINE_IDA(edu_p2p_ida);

static void edu_p2p_free(struct kref *kref)
{
	struct edu_p2p_dev *edu = container_of(kref, struct edu_p2p_dev, kref);

	ida_free(&edu_p2p_ida, edu->index);
	pci_dev_put(edu->pdev);
	kfree(edu);
}

/* One edu DMA of @count bytes. Caller holds dma_lock. */
static int edu_p2p_dma(struct edu_p2p_dev *edu, dma_addr_t src, dma_addr_t dst,
		       u32 count, bool to_ram)
{
	u64 cmd;
	int ret;

	lockdep_assert_held(&edu->dma_lock);
	if (edu->gone)
		return -ENODEV;
	if (edu->broken)
		return -ETIMEDOUT;
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(count, edu->regs + EDU_REG_DMA_COUNT);
	writeq(EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0),
	       edu->regs + EDU_REG_DMA_CMD);
	atomic64_inc(&edu->dmas);
	ret = readq_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
				 !(cmd & EDU_DMA_START), 1000,
				 EDU_DMA_TIMEOUT_US);
	if (ret) {
		/* It may still run: never program it again. */
		edu->broken = true;
		dev_err(&edu->pdev->dev, "DMA %pad -> %pad (%u bytes) timed out\n",
			&src, &dst, count);
	}
	return ret;
}

/* The edu's address of byte @off of a mapped attachment. */
static dma_addr_t edu_p2p_att_addr(struct edu_p2p_att *att, u64 off)
{
	struct scatterlist *sg;
	int i;

	if (!edu_p2p_is_dmabuf(att))
		return p2p_vma_import_dma_addr(&att->imp, off);
	for_each_sgtable_dma_sg(att->db.sgt, sg, i) {
		if (off < sg_dma_len(sg))
			return sg_dma_address(sg) + off;
		off -= sg_dma_len(sg);
	}
	return 0;	/* never: offsets are checked against the size */
}

/*
 * Move @len bytes between the bounce buffer at @bounce and the attached
 * range at @offset, in pieces within one page of the range (the next page
 * may be elsewhere) and within the edu's buffer. Caller is inside the
 * attachment's edu_p2p_begin() section.
 */
static int edu_p2p_move(struct edu_p2p_dev *edu, struct edu_p2p_att *att,
			dma_addr_t bounce, u64 offset, u64 len, bool into_range)
{
	u64 done;
	int ret = 0;

	mutex_lock(&edu->dma_lock);
	for (done = 0; done < len && !ret; ) {
		u64 off = offset + done;
		u32 n = min3(len - done, (u64)(PAGE_SIZE - offset_in_page(off)),
			     (u64)EDU_BUF_SIZE);
		dma_addr_t peer = edu_p2p_att_addr(att, off);

		if (into_range) {
			ret = edu_p2p_dma(edu, bounce + done, EDU_BUF_ADDR, n,
					  false);
			if (!ret)
				ret = edu_p2p_dma(edu, EDU_BUF_ADDR, peer, n,
						  true);
		} else {
			ret = edu_p2p_dma(edu, peer, EDU_BUF_ADDR, n, false);
			if (!ret)
				ret = edu_p2p_dma(edu, EDU_BUF_ADDR,
						  bounce + done, n, true);
		}
		done += n;
	}
	mutex_unlock(&edu->dma_lock);
	return ret;
}

static void edu_p2p_revoke(struct p2p_vma_import *imp)
{
	/*
	 * Nothing to stop: a transfer keeps the import's section open until
	 * its DMA is done, and the helper calls this only with no section
	 * open. The helper unmaps next; transfers then fail with -ESTALE
	 * until EDU_P2P_IOC_MAP.
	 */
	dev_dbg(imp->dev, "range [%#lx, %#lx) revoked\n", imp->start, imp->end);
}

static const struct p2p_vma_import_ops edu_p2p_import_ops = {
	.revoke = edu_p2p_revoke,
};

/* Map a dma-buf attachment, under its reservation lock. */
static int edu_p2p_dmabuf_map(struct edu_p2p_att *att)
{
	struct sg_table *sgt;

	dma_resv_assert_held(att->db.dmabuf->resv);
	if (att->db.sgt)
		return 0;
	sgt = dma_buf_map_attachment(att->db.attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	att->db.sgt = sgt;
	att->db.stats.maps++;
	return 0;
}

static void edu_p2p_dmabuf_unmap(struct edu_p2p_att *att)
{
	dma_resv_assert_held(att->db.dmabuf->resv);
	if (!att->db.sgt)
		return;
	dma_buf_unmap_attachment(att->db.attach, att->db.sgt,
				 DMA_BIDIRECTIONAL);
	att->db.sgt = NULL;
	att->db.stats.unmaps++;
}

/*
 * The exporter takes the memory away. A transfer holds the reservation
 * lock for its whole DMA, as this runs under it: nothing is in flight, so
 * unmapping is all there is to stop. Transfers then fail with -ESTALE
 * until EDU_P2P_IOC_MAP.
 */
static void edu_p2p_move_notify(struct dma_buf_attachment *attach)
{
	struct edu_p2p_att *att = attach->importer_priv;

	if (att->db.sgt)
		att->db.stats.revokes++;
	edu_p2p_dmabuf_unmap(att);
}

static const struct dma_buf_attach_ops edu_p2p_dmabuf_ops = {
	.allow_peer2peer = true,
	.move_notify = edu_p2p_move_notify,
};

static const struct dma_buf_attach_ops edu_p2p_dmabuf_no_p2p_ops = {
	.allow_peer2peer = false,
	.move_notify = edu_p2p_move_notify,
};

/*
 * Open a section in which the attachment's DMA addresses stay valid: the
 * p2p VMA helper's, or a dma-buf's reservation lock. -ESTALE if revoked.
 */
static int edu_p2p_begin(struct edu_p2p_att *att)
{
	int ret;

	if (!edu_p2p_is_dmabuf(att))
		return p2p_vma_import_begin(&att->imp, false);
	ret = dma_resv_lock_interruptible(att->db.dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (!att->db.sgt) {
		dma_resv_unlock(att->db.dmabuf->resv);
		return -ESTALE;
	}
	return 0;
}

static void edu_p2p_end(struct edu_p2p_att *att)
{
	if (edu_p2p_is_dmabuf(att))
		dma_resv_unlock(att->db.dmabuf->resv);
	else
		p2p_vma_import_end(&att->imp);
}

static void edu_p2p_get_stats(struct edu_p2p_att *att,
			      struct p2p_vma_import_stats *s)
{
	if (edu_p2p_is_dmabuf(att))
		*s = att->db.stats;
	else
		p2p_vma_import_get_stats(&att->imp, s);
}

static void edu_p2p_dmabuf_fini(struct edu_p2p_att *att)
{
	struct dma_buf *dmabuf = att->db.dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	edu_p2p_dmabuf_unmap(att);
	if (att->db.pinned)
		dma_buf_unpin(att->db.attach);
	dma_resv_unlock(dmabuf->resv);
	dma_buf_detach(dmabuf, att->db.attach);
	dma_buf_put(dmabuf);
}

/* Attach a whole dma-buf, the way @att->flags says, and map it. */
static int edu_p2p_dmabuf_init(struct edu_p2p_dev *edu, struct edu_p2p_att *att,
			       int fd)
{
	struct device *dev = &edu->pdev->dev;
	struct dma_buf *dmabuf = dma_buf_get(fd);
	struct dma_buf_attachment *attach;
	int ret;

	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (att->flags & EDU_P2P_ATTACH_STATIC)
		attach = dma_buf_attach(dmabuf, dev);
	else
		attach = dma_buf_dynamic_attach(dmabuf, dev,
						att->flags & EDU_P2P_ATTACH_NO_P2P ?
						&edu_p2p_dmabuf_no_p2p_ops :
						&edu_p2p_dmabuf_ops, att);
	if (IS_ERR(attach)) {
		dma_buf_put(dmabuf);
		return PTR_ERR(attach);
	}
	att->db.dmabuf = dmabuf;
	att->db.attach = attach;
	att->len = dmabuf->size;

	dma_resv_lock(dmabuf->resv, NULL);
	ret = 0;
	if (att->flags & EDU_P2P_ATTACH_PIN) {
		ret = dma_buf_pin(attach);
		att->db.pinned = !ret;
	}
	if (!ret)
		ret = edu_p2p_dmabuf_map(att);
	dma_resv_unlock(dmabuf->resv);
	if (ret) {
		edu_p2p_dmabuf_fini(att);
		att->db.dmabuf = NULL;
	}
	return ret;
}

static bool edu_p2p_reserved_zero(const u64 *reserved, size_t n)
{
	while (n--)
		if (reserved[n])
			return false;
	return true;
}

static struct edu_p2p_att *edu_p2p_find(struct edu_p2p_file *f, u32 id)
{
	return xa_load(&f->attachments, id);
}

/* End an attachment already taken out of the file's xarray. */
static void edu_p2p_detach_att(struct edu_p2p_dev *edu, struct edu_p2p_att *att)
{
	struct p2p_vma_import_stats s;

	if (edu_p2p_is_dmabuf(att))
		edu_p2p_dmabuf_fini(att);
	else
		p2p_vma_import_fini(&att->imp);
	edu_p2p_get_stats(att, &s);
	mutex_lock(&edu->att_lock);
	list_del(&att->node);
	edu->retired.maps += s.maps;
	edu->retired.unmaps += s.unmaps;
	edu->retired.unmap_errors += s.unmap_errors;
	edu->retired.revokes += s.revokes;
	edu->retired.map_retries += s.map_retries;
	edu->detaches++;
	mutex_unlock(&edu->att_lock);
	kfree(att);
}

static long edu_p2p_attach(struct edu_p2p_file *f, void __user *argp)
{
	struct edu_p2p_dev *edu = f->edu;
	struct edu_p2p_attach arg;
	struct edu_p2p_att *att;
	u32 id;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~EDU_P2P_ATTACH_FLAGS) || arg.id || arg.dma_addr ||
	    !edu_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	if (arg.flags & EDU_P2P_ATTACH_DMABUF) {
		if (arg.len || arg.addr > INT_MAX)
			return -EINVAL;
	} else if ((arg.flags & ~EDU_P2P_ATTACH_WRITE) || !arg.len ||
		   !PAGE_ALIGNED(arg.addr) || !PAGE_ALIGNED(arg.len) ||
		   arg.addr + arg.len < arg.addr ||
		   arg.addr + arg.len > TASK_SIZE) {
		return -EINVAL;
	}

	att = kzalloc(sizeof(*att), GFP_KERNEL);
	if (!att)
		return -ENOMEM;
	att->addr = arg.flags & EDU_P2P_ATTACH_DMABUF ? 0 : arg.addr;
	att->len = arg.len;
	att->flags = arg.flags;
	ret = xa_alloc(&f->attachments, &id, att,
		       XA_LIMIT(1, EDU_P2P_MAX_ATTACH), GFP_KERNEL);
	if (ret) {
		kfree(att);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	if (arg.flags & EDU_P2P_ATTACH_DMABUF)
		ret = IS_ENABLED(CONFIG_DMA_SHARED_BUFFER) ?
			edu_p2p_dmabuf_init(edu, att, arg.addr) : -EOPNOTSUPP;
	else
		ret = p2p_vma_import_init(&att->imp, &edu->pdev->dev,
					  current->mm, arg.addr, arg.len,
					  arg.flags & EDU_P2P_ATTACH_WRITE,
					  &edu_p2p_import_ops);
	if (ret) {
		xa_erase(&f->attachments, id);
		kfree(att);
		return ret;
	}
	mutex_lock(&edu->att_lock);
	list_add_tail(&att->node, &edu->attachments);
	edu->attaches++;
	mutex_unlock(&edu->att_lock);

	arg.id = id;
	/* Revoked already? Then the caller learns it from dma_addr 0. */
	if (!edu_p2p_begin(att)) {
		arg.dma_addr = edu_p2p_att_addr(att, 0);
		edu_p2p_end(att);
	}
	if (copy_to_user(argp, &arg, sizeof(arg))) {
		xa_erase(&f->attachments, id);
		edu_p2p_detach_att(edu, att);
		return -EFAULT;
	}
	return 0;
}

static long edu_p2p_detach(struct edu_p2p_file *f, u32 id)
{
	struct edu_p2p_att *att = xa_erase(&f->attachments, id);

	if (!att)
		return -ENOENT;
	edu_p2p_detach_att(f->edu, att);
	return 0;
}

static long edu_p2p_map(struct edu_p2p_file *f, u32 id)
{
	struct edu_p2p_att *att = edu_p2p_find(f, id);
	int ret;

	if (!att)
		return -ENOENT;
	if (!edu_p2p_is_dmabuf(att))
		return p2p_vma_import_map(&att->imp);
	dma_resv_lock(att->db.dmabuf->resv, NULL);
	ret = edu_p2p_dmabuf_map(att);
	dma_resv_unlock(att->db.dmabuf->resv);
	return ret;
}

static long edu_p2p_xfer(struct edu_p2p_file *f, void __user *argp,
			 bool into_range)
{
	struct edu_p2p_dev *edu = f->edu;
	struct device *dma_dev = &edu->pdev->dev;
	void __user *ubuf;
	struct edu_p2p_xfer arg;
	struct edu_p2p_att *att;
	dma_addr_t bounce;
	void *buf;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.flags ||
	    !edu_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	att = edu_p2p_find(f, arg.id);
	if (!att)
		return -ENOENT;
	if (!arg.len || arg.len > EDU_P2P_MAX_XFER || arg.offset >= att->len ||
	    arg.len > att->len - arg.offset)
		return -EINVAL;
	if (into_range && !(att->flags & EDU_P2P_ATTACH_WRITE))
		return -EACCES;
	ubuf = u64_to_user_ptr(arg.buf);

	buf = dma_alloc_coherent(dma_dev, arg.len, &bounce, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	/* User memory only outside the section: a fault may need to wait. */
	ret = -EFAULT;
	if (into_range && copy_from_user(buf, ubuf, arg.len))
		goto out_free;

	ret = edu_p2p_begin(att);
	if (ret == -ESTALE)
		atomic64_inc(&edu->refused);
	if (ret)
		goto out_free;
	ret = edu_p2p_move(edu, att, bounce, arg.offset, arg.len, into_range);
	edu_p2p_end(att);
	if (ret)
		goto out_free;

	if (into_range) {
		atomic64_add(arg.len, &edu->bytes_in);
	} else {
		atomic64_add(arg.len, &edu->bytes_out);
		if (copy_to_user(ubuf, buf, arg.len))
			ret = -EFAULT;
	}
out_free:
	dma_free_coherent(dma_dev, arg.len, buf, bounce);
	return ret;
}

static long edu_p2p_status(struct edu_p2p_file *f, void __user *argp)
{
	struct p2p_vma_import_stats stats;
	struct edu_p2p_status arg;
	struct edu_p2p_att *att;
	int ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (arg.state || arg.addr || arg.len || arg.dma_addr || arg.maps ||
	    arg.unmaps || arg.unmap_errors || arg.revokes ||
	    !edu_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	att = edu_p2p_find(f, arg.id);
	if (!att)
		return -ENOENT;
	arg.addr = att->addr;
	arg.len = att->len;
	ret = edu_p2p_begin(att);
	if (!ret) {
		arg.state = EDU_P2P_MAPPED;
		arg.dma_addr = edu_p2p_att_addr(att, 0);
		edu_p2p_end(att);
	} else if (ret == -ESTALE) {
		arg.state = EDU_P2P_REVOKED;
	} else {
		return ret;
	}
	edu_p2p_get_stats(att, &stats);
	arg.maps = stats.maps;
	arg.unmaps = stats.unmaps;
	arg.unmap_errors = stats.unmap_errors;
	arg.revokes = stats.revokes;
	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static long edu_p2p_counters(struct edu_p2p_dev *edu, void __user *argp)
{
	struct edu_p2p_counters c = {};
	struct edu_p2p_att *att;

	mutex_lock(&edu->att_lock);
	c.attaches = edu->attaches;
	c.detaches = edu->detaches;
	c.maps = edu->retired.maps;
	c.unmaps = edu->retired.unmaps;
	c.unmap_errors = edu->retired.unmap_errors;
	c.invalidations = edu->retired.revokes;
	c.map_retries = edu->retired.map_retries;
	list_for_each_entry(att, &edu->attachments, node) {
		struct p2p_vma_import_stats s;

		edu_p2p_get_stats(att, &s);
		c.maps += s.maps;
		c.unmaps += s.unmaps;
		c.unmap_errors += s.unmap_errors;
		c.invalidations += s.revokes;
		c.map_retries += s.map_retries;
		c.live++;
	}
	mutex_unlock(&edu->att_lock);
	c.refused = atomic64_read(&edu->refused);
	c.dmas = atomic64_read(&edu->dmas);
	c.bytes_in = atomic64_read(&edu->bytes_in);
	c.bytes_out = atomic64_read(&edu->bytes_out);
	if (copy_to_user(argp, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static long edu_p2p_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct edu_p2p_file *f = file->private_data;
	void __user *argp = (void __user *)arg;
	u32 id;
	long ret;

	/* Unbound: what ends or reports attachments still works. */
	if ((cmd == EDU_P2P_IOC_ATTACH || cmd == EDU_P2P_IOC_MAP) &&
	    READ_ONCE(f->edu->gone))
		return -ENODEV;
	if (cmd == EDU_P2P_IOC_DETACH || cmd == EDU_P2P_IOC_MAP) {
		if (get_user(id, (u32 __user *)argp))
			return -EFAULT;
	}
	ret = mutex_lock_killable(&f->lock);
	if (ret)
		return ret;
	switch (cmd) {
	case EDU_P2P_IOC_ATTACH:
		ret = edu_p2p_attach(f, argp);
		break;
	case EDU_P2P_IOC_DETACH:
		ret = edu_p2p_detach(f, id);
		break;
	case EDU_P2P_IOC_MAP:
		ret = edu_p2p_map(f, id);
		break;
	case EDU_P2P_IOC_WRITE:
		ret = edu_p2p_xfer(f, argp, true);
		break;
	case EDU_P2P_IOC_READ:
		ret = edu_p2p_xfer(f, argp, false);
		break;
	case EDU_P2P_IOC_STATUS:
		ret = edu_p2p_status(f, argp);
		break;
	case EDU_P2P_IOC_COUNTERS:
		ret = edu_p2p_counters(f->edu, argp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return ret;
}

static int edu_p2p_open(struct inode *inode, struct file *file)
{
	/* misc_open() holds misc_mtx: remove cannot free the edu meanwhile. */
	struct edu_p2p_dev *edu = container_of(file->private_data,
					       struct edu_p2p_dev, misc);
	struct edu_p2p_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	kref_get(&edu->kref);
	f->edu = edu;
	mutex_init(&f->lock);
	xa_init_flags(&f->attachments, XA_FLAGS_ALLOC1);
	file->private_data = f;
	return 0;
}

static int edu_p2p_release(struct inode *inode, struct file *file)
{
	struct edu_p2p_file *f = file->private_data;
	struct edu_p2p_att *att;
	unsigned long id;

	xa_for_each(&f->attachments, id, att) {
		xa_erase(&f->attachments, id);
		edu_p2p_detach_att(f->edu, att);
	}
	xa_destroy(&f->attachments);
	kref_put(&f->edu->kref, edu_p2p_free);
	kfree(f);
	return 0;
}

static const struct file_operations edu_p2p_fops = {
	.owner = THIS_MODULE,
	.open = edu_p2p_open,
	.release = edu_p2p_release,
	.unlocked_ioctl = edu_p2p_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static int edu_p2p_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_p2p_dev *edu;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->kref);
	edu->pdev = pci_dev_get(pdev);
	mutex_init(&edu->dma_lock);
	mutex_init(&edu->att_lock);
	INIT_LIST_HEAD(&edu->attachments);
	edu->index = ida_alloc(&edu_p2p_ida, GFP_KERNEL);
	if (edu->index < 0) {
		ret = edu->index;
		pci_dev_put(pdev);
		kfree(edu);
		return ret;
	}

	edu->regs = pcim_iomap_region(pdev, 0, KBUILD_MODNAME);
	if (IS_ERR(edu->regs)) {
		ret = PTR_ERR(edu->regs);
		goto out_put;
	}
	snprintf(edu->name, sizeof(edu->name), "edu-p2p%d", edu->index);
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.fops = &edu_p2p_fops;
	edu->misc.parent = &pdev->dev;
	edu->misc.mode = 0600;
	ret = misc_register(&edu->misc);
	if (ret)
		goto out_put;
	pci_set_drvdata(pdev, edu);
	dev_info(&pdev->dev, "edu %#x as /dev/%s\n",
		 readl(edu->regs + EDU_REG_ID), edu->name);
	return 0;

out_put:
	kref_put(&edu->kref, edu_p2p_free);
	return ret;
}

static void edu_p2p_remove(struct pci_dev *pdev)
{
	struct edu_p2p_dev *edu = pci_get_drvdata(pdev);

	misc_deregister(&edu->misc);
	/* Open descriptors outlive the device: they get -ENODEV from now. */
	mutex_lock(&edu->dma_lock);
	WRITE_ONCE(edu->gone, true);
	mutex_unlock(&edu->dma_lock);
	kref_put(&edu->kref, edu_p2p_free);
}

static const struct pci_device_id edu_p2p_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_p2p_ids);

static struct pci_driver edu_p2p_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_p2p_ids,
	.probe = edu_p2p_probe,
	.remove = edu_p2p_remove,
};
module_pci_driver(edu_p2p_driver);

MODULE_DESCRIPTION("Test importer of peer-to-peer VMAs and dma-bufs on QEMU's edu device");
MODULE_IMPORT_NS(DMA_BUF);
MODULE_LICENSE("GPL");
