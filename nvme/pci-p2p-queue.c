// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci peer-to-peer exporter: I/O queue pairs that a peer device (or a
 * process) drives itself.
 *
 * The driver asks the controller for a few queue IDs beyond blk-mq's
 * (nvme.p2p_queues), on a doorbell page of their own where the controller
 * grants enough queues, and creates and deletes exported pairs on them
 * with admin commands of its own. The SQ lives in the CMB (or host
 * memory), the CQ in host memory (or the CMB where CMBSZ.CQS allows); no
 * interrupt, the owner polls. The SQ ring, the CQ ring and the doorbell
 * page are mmap()ed from the queue's file as p2p VMAs, so that another
 * device's driver can get DMA addresses for them.
 *
 * A controller reset invalidates every mapping and importer, and once the
 * driver's own queues are back the pair is stopped at a new generation,
 * keeping its queue ID and memory; its owner resumes it (the pair is
 * created again with empty rings) once it has reset its own ring state,
 * so that no doorbell rung with a tail from before the reset makes the
 * controller run stale entries. Removal, or a reset that no longer grants
 * its queue ID, revokes it for good.
 *
 * Either ring may instead live in a dma-buf the caller passes
 * (pci-p2p-import.c). When its exporter takes the memory back, the pair
 * is deleted on the controller from a work item, whose fence the exporter
 * waits for, and the queue is revoked for good.
 */
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/nvme_p2p.h>

#include "nvme.h"
#include "pci-p2p.h"

#define NVME_P2P_QUEUE_ARGSZ_V0	offsetofend(struct nvme_p2p_queue_create, reserved)
#define NVME_P2P_QINFO_ARGSZ_V0	offsetofend(struct nvme_p2p_queue_info, reserved)

#define NVME_P2P_SQE_BYTES	64
#define NVME_P2P_CQE_BYTES	16

struct nvme_p2p_queue {
	struct nvme_p2p_export *exp;
	struct list_head node;		/* in exp->queues while it owns @qid */
	struct address_space *mapping;
	struct pid *owner;
	wait_queue_head_t wait;		/* poll(): generation and revoke */
	u32 flags;
	u32 depth;
	u16 qid;
	struct mutex lock;		/* state, generations, rings' memory */
	u8 state;			/* NVME_P2P_QUEUE_* */
	u32 generation;
	u32 seen_generation;		/* by the last QUEUE_INFO */
	u32 max_transfer;
	u32 db_bar_off;			/* BAR0 offset of the doorbell mapping */
	u32 db_bytes;
	u32 sq_db_off;			/* in the doorbell mapping */
	u32 cq_db_off;
	struct page *db_sink;		/* the CPU's doorbells while resetting */
	struct nvme_p2p_mem sq;		/* no kaddr when in a dma-buf */
	struct nvme_p2p_mem cq;
	struct nvme_p2p_maps maps;
	struct nvme_p2p_dmabufs dmabufs;
	struct nvme_p2p_ring sq_ring;	/* the SQ's dma-buf, if any */
	struct nvme_p2p_ring cq_ring;
	bool rings_lost;		/* under @lock: an exporter took them */
	struct dma_fence *ring_fence;	/* signalled once off the controller */
	struct work_struct ring_work;	/* takes it off the controller */
};

/* What an mmap offset of a queue file names. */
enum nvme_p2p_queue_part { NVME_P2P_PART_SQ, NVME_P2P_PART_CQ, NVME_P2P_PART_DB };

static int nvme_p2p_queue_part(struct nvme_p2p_queue *q, unsigned long pgoff,
			       unsigned long *off, size_t *size)
{
	unsigned long pos = pgoff << PAGE_SHIFT;

	if (pos >= NVME_P2P_QUEUE_OFF_DB) {
		*off = pos - NVME_P2P_QUEUE_OFF_DB;
		*size = q->db_bytes;
		return NVME_P2P_PART_DB;
	}
	if (pos >= NVME_P2P_QUEUE_OFF_CQ) {
		*off = pos - NVME_P2P_QUEUE_OFF_CQ;
		*size = q->cq.size;
		return NVME_P2P_PART_CQ;
	}
	*off = pos;
	*size = q->sq.size;
	return NVME_P2P_PART_SQ;
}

/*
 * Flagged as a user command, an export admin command fails at once while
 * the controller is not LIVE, so none reaches a controller that a reset is
 * bringing back ahead of the driver's Set Features. Callers hold cmd_lock,
 * which the reset's restore needs before the controller is LIVE again.
 */
static int nvme_p2p_admin(struct nvme_p2p_queue *q, struct nvme_command *c)
{
	struct nvme_ctrl *ctrl = q->exp->ctrl;
	struct request *req;
	blk_status_t status;
	int ret;

	lockdep_assert_held(&q->exp->cmd_lock);
	req = blk_mq_alloc_request(ctrl->admin_q, nvme_req_op(c), 0);
	if (IS_ERR(req)) {
		ret = -EIO;
	} else {
		nvme_init_request(req, c);
		nvme_req(req)->flags |= NVME_REQ_USERCMD;
		status = blk_execute_rq(req, false);
		ret = nvme_req(req)->status || status ? -EIO : 0;
		blk_mq_free_request(req);
	}
	/* Refused, timed out or failed by the host: EIO, unless a reset. */
	if (ret && nvme_ctrl_state(ctrl) != NVME_CTRL_LIVE)
		return -EAGAIN;
	return ret;
}

static int nvme_p2p_delete_ring(struct nvme_p2p_queue *q, u8 opcode)
{
	struct nvme_command c = { };

	c.delete_queue.opcode = opcode;
	c.delete_queue.qid = cpu_to_le16(q->qid);
	return nvme_p2p_admin(q, &c);
}

static void nvme_p2p_mem_zero(struct nvme_p2p_mem *mem)
{
	/* A ring in a dma-buf: its owner zeroes it, as the header says. */
	if (!mem->kaddr)
		return;
	if (mem->host)
		memset(mem->kaddr, 0, mem->size);
	else
		memset_io((void __iomem *)mem->kaddr, 0, mem->size);
}

/* Create the pair on the controller, rings emptied first. */
static int nvme_p2p_queue_create_cmds(struct nvme_p2p_queue *q)
{
	struct nvme_command c = { };
	int ret;

	lockdep_assert_held(&q->exp->cmd_lock);
	nvme_p2p_mem_zero(&q->sq);
	nvme_p2p_mem_zero(&q->cq);

	c.create_cq.opcode = nvme_admin_create_cq;
	c.create_cq.prp1 = cpu_to_le64(q->cq.ctrl_addr);
	c.create_cq.cqid = cpu_to_le16(q->qid);
	c.create_cq.qsize = cpu_to_le16(q->depth - 1);
	c.create_cq.cq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG);
	ret = nvme_p2p_admin(q, &c);
	if (ret)
		return ret;

	memset(&c, 0, sizeof(c));
	c.create_sq.opcode = nvme_admin_create_sq;
	c.create_sq.prp1 = cpu_to_le64(q->sq.ctrl_addr);
	c.create_sq.sqid = cpu_to_le16(q->qid);
	c.create_sq.qsize = cpu_to_le16(q->depth - 1);
	c.create_sq.sq_flags = cpu_to_le16(NVME_QUEUE_PHYS_CONTIG |
					   NVME_SQ_PRIO_MEDIUM);
	c.create_sq.cqid = cpu_to_le16(q->qid);
	ret = nvme_p2p_admin(q, &c);
	if (ret)
		nvme_p2p_delete_ring(q, nvme_admin_delete_cq);
	return ret;
}

static void nvme_p2p_queue_delete_cmds(struct nvme_p2p_queue *q)
{
	nvme_p2p_delete_ring(q, nvme_admin_delete_sq);
	nvme_p2p_delete_ring(q, nvme_admin_delete_cq);
}

/*
 * Revoke for good: no CPU mapping or importer may reach the rings or the
 * doorbells again; the file stays until closed. The memory goes now with
 * @free_mem, else with the file.
 */
static void nvme_p2p_queue_revoke(struct nvme_p2p_queue *q, bool free_mem)
{
	mutex_lock(&q->lock);
	if (q->state == NVME_P2P_QUEUE_REVOKED) {
		mutex_unlock(&q->lock);
		return;
	}
	q->state = NVME_P2P_QUEUE_REVOKED;
	mutex_unlock(&q->lock);

	/*
	 * Not under q->lock: faults take it. A fault that read the old state
	 * has put its page in by now, so this zap removes it.
	 */
	unmap_mapping_range(q->mapping, 0, 0, 1);
	nvme_p2p_dmabufs_revoke(&q->dmabufs);

	nvme_p2p_unmap_all(q->exp, &q->maps);
	if (free_mem) {
		mutex_lock(&q->lock);
		nvme_p2p_mem_free(q->exp, &q->sq);
		nvme_p2p_mem_free(q->exp, &q->cq);
		mutex_unlock(&q->lock);
	}
	wake_up_interruptible_poll(&q->wait, EPOLLERR | EPOLLHUP);
}

/* Give up the queue ID. */
static void nvme_p2p_queue_unlink(struct nvme_p2p_queue *q)
{
	struct nvme_p2p_export *exp = q->exp;

	lockdep_assert_held(&exp->lock);
	if (list_empty(&q->node))
		return;
	list_del_init(&q->node);
	if (q->qid >= exp->first_qid && q->qid < exp->first_qid + exp->nr_qids)
		clear_bit(q->qid - exp->first_qid, exp->qid_used);
}

/* Unlink and revoke for good, the memory freed now or with the file. */
static void nvme_p2p_queue_drop(struct nvme_p2p_queue *q, bool free_mem)
{
	lockdep_assert_held(&q->exp->cmd_lock);
	mutex_lock(&q->exp->lock);
	nvme_p2p_queue_unlink(q);
	mutex_unlock(&q->exp->lock);
	nvme_p2p_queue_revoke(q, free_mem);
}

/* Delete the pair on the controller if it is there, then drop the queue. */
static void nvme_p2p_queue_take_down(struct nvme_p2p_queue *q)
{
	struct nvme_p2p_export *exp = q->exp;
	bool live;

	lockdep_assert_held(&exp->cmd_lock);
	mutex_lock(&q->lock);
	live = q->state == NVME_P2P_QUEUE_LIVE;
	mutex_unlock(&q->lock);
	/* A reset or removal already took the pair off the controller. */
	if (live && !exp->gone)
		nvme_p2p_queue_delete_cmds(q);
	nvme_p2p_queue_drop(q, false);
}

static vm_fault_t nvme_p2p_queue_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct nvme_p2p_queue *q = vma->vm_private_data;
	struct pci_dev *pdev = q->exp->pdev;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	struct nvme_p2p_mem *mem;
	unsigned long off, pfn;
	size_t size;
	pgprot_t prot;

	mutex_lock(&q->lock);
	if (q->state == NVME_P2P_QUEUE_REVOKED)
		goto out;
	switch (nvme_p2p_queue_part(q, vmf->pgoff, &off, &size)) {
	case NVME_P2P_PART_DB:
		if (q->flags & NVME_P2P_QUEUE_DB_NO_CPU_MAP || off >= size)
			goto out;
		/*
		 * While the controller goes down, the owner's doorbell writes
		 * land in a page of RAM: a doorbell rung as the controller
		 * disables starts work that its reset tears down under it
		 * (QEMU's frees the SQ with a read still in flight), and the
		 * pair is gone from the controller afterwards anyway.
		 */
		if (q->state == NVME_P2P_QUEUE_RESETTING) {
			pfn = page_to_pfn(q->db_sink);
			prot = vma->vm_page_prot;
			goto insert;
		}
		pfn = (pci_resource_start(pdev, 0) + q->db_bar_off + off) >>
			PAGE_SHIFT;
		prot = pgprot_noncached(vma->vm_page_prot);
		goto insert;
	case NVME_P2P_PART_CQ:
		if (q->flags & NVME_P2P_QUEUE_CQ_NO_CPU_MAP)
			goto out;
		mem = &q->cq;
		break;
	default:
		if (q->flags & NVME_P2P_QUEUE_SQ_NO_CPU_MAP)
			goto out;
		mem = &q->sq;
		break;
	}
	if (off >= size || !mem->kaddr)
		goto out;
	pfn = nvme_p2p_mem_pfn(mem, off);
	/* SQEs go out in bursts: write-combine them; the CQ stays uncached. */
	if (mem->host)
		prot = vma->vm_page_prot;
	else if (mem == &q->sq)
		prot = pgprot_writecombine(vma->vm_page_prot);
	else
		prot = pgprot_noncached(vma->vm_page_prot);
insert:
	ret = vmf_insert_pfn_prot(vma, vmf->address, pfn, prot);
out:
	mutex_unlock(&q->lock);
	return ret;
}

static long nvme_p2p_queue_p2p_map(struct vm_area_struct *vma,
				   struct device *importer,
				   unsigned long start, unsigned long end,
				   dma_addr_t *pa, bool write)
{
	struct nvme_p2p_queue *q = vma->vm_private_data;
	unsigned long pgoff = vma->vm_pgoff + ((start - vma->vm_start) >> PAGE_SHIFT);
	unsigned long off;
	size_t size;
	long ret;
	int part;

	ret = nvme_p2p_vma_check(vma, start, end);
	if (ret)
		return ret;
	mutex_lock(&q->lock);
	ret = -ENODEV;
	if (q->state == NVME_P2P_QUEUE_REVOKED)
		goto out;
	part = nvme_p2p_queue_part(q, pgoff, &off, &size);
	ret = -EINVAL;
	if (off + (end - start) > size)
		goto out;
	if (part == NVME_P2P_PART_DB)
		ret = nvme_p2p_map_bar(q->exp, &q->maps, 0, q->db_bar_off + off,
				       importer, start, end, pa, write);
	else
		ret = nvme_p2p_map_mem(q->exp, &q->maps,
				       part == NVME_P2P_PART_SQ ? &q->sq : &q->cq,
				       off, importer, start, end, pa, write);
out:
	mutex_unlock(&q->lock);
	return ret;
}

static long nvme_p2p_queue_p2p_unmap(struct vm_area_struct *vma,
				     struct device *importer,
				     unsigned long start, unsigned long end,
				     dma_addr_t *pa)
{
	struct nvme_p2p_queue *q = vma->vm_private_data;

	return nvme_p2p_unmap(&q->maps, importer, start, end, pa);
}

/* A dma-buf's map: the part while the queue is live on the controller. */
static int nvme_p2p_queue_dmabuf_map(void *owner, unsigned int part,
				     unsigned long off, size_t len,
				     struct nvme_p2p_map *map)
{
	struct nvme_p2p_queue *q = owner;
	int ret;

	mutex_lock(&q->lock);
	if (q->state == NVME_P2P_QUEUE_REVOKED)
		ret = -ENODEV;
	else if (q->state != NVME_P2P_QUEUE_LIVE)
		ret = -EAGAIN;
	else if (part == NVME_P2P_PART_DB)
		ret = nvme_p2p_map_bar_sgt(q->exp, 0, q->db_bar_off + off, len,
					   map);
	else
		ret = nvme_p2p_map_mem_sgt(q->exp, part == NVME_P2P_PART_SQ ?
					   &q->sq : &q->cq, off, len, map);
	mutex_unlock(&q->lock);
	return ret;
}

/* NVME_P2P_IOCTL_DMABUF on a queue: a ring or the doorbells, whole. */
static long nvme_p2p_queue_dmabuf(struct nvme_p2p_queue *q, struct file *file,
				  void __user *argp)
{
	struct nvme_p2p_dmabuf_src src = {
		.exp = q->exp,
		.set = &q->dmabufs,
		.file = file,
		.map = nvme_p2p_queue_dmabuf_map,
		.owner = q,
	};
	unsigned long poff;
	u64 off, len;
	size_t size;
	int ret;

	ret = nvme_p2p_dmabuf_args(argp, &off, &len);
	if (ret)
		return ret;
	if (off != NVME_P2P_QUEUE_OFF_SQ && off != NVME_P2P_QUEUE_OFF_CQ &&
	    off != NVME_P2P_QUEUE_OFF_DB)
		return -EINVAL;
	src.part = nvme_p2p_queue_part(q, off >> PAGE_SHIFT, &poff, &size);
	if (len && len != size)
		return -EINVAL;
	if (READ_ONCE(q->state) == NVME_P2P_QUEUE_REVOKED)
		return -ENODEV;
	/* A ring in a dma-buf already is one: the caller's, whole. */
	if (src.part == NVME_P2P_PART_SQ && q->sq_ring.attach)
		return nvme_p2p_ring_dmabuf_fd(&q->sq_ring);
	if (src.part == NVME_P2P_PART_CQ && q->cq_ring.attach)
		return nvme_p2p_ring_dmabuf_fd(&q->cq_ring);
	src.len = size;
	switch (src.part) {
	case NVME_P2P_PART_DB:
		src.device_mem = true;
		src.registers = true;
		src.what = "doorbells";
		break;
	case NVME_P2P_PART_CQ:
		src.device_mem = !q->cq.host;
		src.what = "CMB";
		break;
	default:
		src.device_mem = !q->sq.host;
		src.what = "CMB";
		break;
	}
	return nvme_p2p_dmabuf_export(&src);
}

static const struct vm_operations_struct nvme_p2p_queue_vm_ops = {
	.fault = nvme_p2p_queue_fault,
	.may_split = nvme_p2p_may_split,
	.mremap = nvme_p2p_mremap,
	.p2p_map = nvme_p2p_queue_p2p_map,
	.p2p_unmap = nvme_p2p_queue_p2p_unmap,
};

static int nvme_p2p_queue_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nvme_p2p_queue *q = file->private_data;
	int ret = nvme_p2p_vma_check_flags(vma);
	unsigned long off;
	size_t size;
	int part;

	if (ret)
		return ret;
	/* Each part is mapped whole, from its own offset. */
	part = nvme_p2p_queue_part(q, vma->vm_pgoff, &off, &size);
	if (off || vma->vm_end - vma->vm_start != size)
		return -EINVAL;
	if (READ_ONCE(q->state) == NVME_P2P_QUEUE_REVOKED)
		return -ENODEV;
	/* A ring in a dma-buf: the CPU gets what its exporter allows. */
	if (part == NVME_P2P_PART_SQ && q->sq_ring.attach)
		return nvme_p2p_ring_mmap(&q->sq_ring, vma);
	if (part == NVME_P2P_PART_CQ && q->cq_ring.attach)
		return nvme_p2p_ring_mmap(&q->cq_ring, vma);
	nvme_p2p_vma_setup(vma, &nvme_p2p_queue_vm_ops, q);
	return 0;
}

static __poll_t nvme_p2p_queue_poll(struct file *file, poll_table *wait)
{
	struct nvme_p2p_queue *q = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &q->wait, wait);
	mutex_lock(&q->lock);
	if (q->state == NVME_P2P_QUEUE_REVOKED)
		mask |= EPOLLERR | EPOLLHUP;
	else if (q->generation != q->seen_generation)
		mask |= EPOLLPRI;
	mutex_unlock(&q->lock);
	return mask;
}

static u8 nvme_p2p_queue_sq_placement(struct nvme_p2p_queue *q)
{
	if (q->sq_ring.attach)
		return NVME_P2P_SQ_DMABUF;
	return q->sq.host ? NVME_P2P_SQ_HOST : NVME_P2P_SQ_CMB_REQUIRED;
}

static u8 nvme_p2p_queue_cq_placement(struct nvme_p2p_queue *q)
{
	if (q->cq_ring.attach)
		return NVME_P2P_CQ_DMABUF;
	return q->cq.host ? NVME_P2P_CQ_HOST : NVME_P2P_CQ_CMB;
}

static long nvme_p2p_queue_info(struct nvme_p2p_queue *q, void __user *argp)
{
	struct nvme_p2p_export *exp = q->exp;
	struct nvme_p2p_queue_info info;
	u32 argsz;
	int ret;

	ret = nvme_p2p_copy_args(&info, sizeof(info), NVME_P2P_QINFO_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	/* Every field but argsz is output: zero on input, as the header says. */
	if (memchr_inv((u8 *)&info + sizeof(info.argsz), 0,
		       sizeof(info) - sizeof(info.argsz)))
		return -EINVAL;
	argsz = info.argsz;

	memset(&info, 0, sizeof(info));
	info.argsz = min_t(u32, argsz, sizeof(info));
	info.flags = q->flags;
	info.qid = q->qid;
	info.depth = q->depth;
	info.sq_placement = nvme_p2p_queue_sq_placement(q);
	info.cq_placement = nvme_p2p_queue_cq_placement(q);
	info.sq_bytes = q->sq.size;
	info.cq_bytes = q->cq.size;
	info.db_bytes = q->db_bytes;
	info.sq_db_offset = q->sq_db_off;
	info.cq_db_offset = q->cq_db_off;
	info.max_transfer = q->max_transfer;
	info.sq_addr = q->sq.ctrl_addr;
	info.cq_addr = q->cq.ctrl_addr;
	info.db_addr = pci_bus_address(exp->pdev, 0) + q->db_bar_off;
	mutex_lock(&q->lock);
	info.state = q->state;
	info.generation = q->generation;
	q->seen_generation = q->generation;
	mutex_unlock(&q->lock);

	if (copy_to_user(argp, &info, info.argsz))
		return -EFAULT;
	return 0;
}

static long nvme_p2p_queue_resume(struct nvme_p2p_queue *q);

static long nvme_p2p_queue_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct nvme_p2p_queue *q = file->private_data;

	switch (cmd) {
	case NVME_P2P_IOCTL_QUEUE_INFO:
		return nvme_p2p_queue_info(q, (void __user *)arg);
	case NVME_P2P_IOCTL_QUEUE_RESUME:
		return nvme_p2p_queue_resume(q);
	case NVME_P2P_IOCTL_DMABUF:
		return nvme_p2p_queue_dmabuf(q, file, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static void nvme_p2p_queue_free(struct nvme_p2p_queue *q)
{
	/* Not under cmd_lock: see nvme_p2p_ring_release(). */
	nvme_p2p_ring_release(&q->sq_ring);
	nvme_p2p_ring_release(&q->cq_ring);
	/* No move_notify after the detach: the last work item, if any. */
	flush_work(&q->ring_work);
	if (q->ring_fence)
		dma_fence_put(q->ring_fence);
	if (q->db_sink)
		__free_page(q->db_sink);
	nvme_p2p_mem_free(q->exp, &q->sq);
	nvme_p2p_mem_free(q->exp, &q->cq);
	put_pid(q->owner);
	kfree(q);
}

static int nvme_p2p_queue_release(struct inode *inode, struct file *file)
{
	struct nvme_p2p_queue *q = file->private_data;
	struct nvme_p2p_export *exp = q->exp;
	struct nvme_ctrl *ctrl = exp->ctrl;

	mutex_lock(&exp->cmd_lock);
	nvme_p2p_queue_take_down(q);
	mutex_unlock(&exp->cmd_lock);

	/* Its work item uses the controller: freed first. */
	nvme_p2p_queue_free(q);
	nvme_put_ctrl(ctrl);
	return 0;
}

static const struct file_operations nvme_p2p_queue_fops = {
	.owner = THIS_MODULE,
	.mmap = nvme_p2p_queue_mmap,
	.poll = nvme_p2p_queue_poll,
	.unlocked_ioctl = nvme_p2p_queue_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = nvme_p2p_queue_release,
};

static int nvme_p2p_queue_check(const struct nvme_p2p_queue_create *arg,
				const struct nvme_p2p_cmb *cmb)
{
	bool sq_dmabuf = arg->sq_placement == NVME_P2P_SQ_DMABUF;
	bool cq_dmabuf = arg->cq_placement == NVME_P2P_CQ_DMABUF;

	if ((arg->flags & ~NVME_P2P_QUEUE_FLAGS) || arg->qid ||
	    !nvme_p2p_reserved_zero(arg->reserved, ARRAY_SIZE(arg->reserved)))
		return -EINVAL;
	if (arg->sq_placement > NVME_P2P_SQ_DMABUF ||
	    arg->cq_placement > NVME_P2P_CQ_DMABUF)
		return -EINVAL;
	/* The dma-buf fields go with their placement only. */
	if ((!sq_dmabuf && (arg->sq_dmabuf_fd || arg->sq_dmabuf_offset)) ||
	    (!cq_dmabuf && (arg->cq_dmabuf_fd || arg->cq_dmabuf_offset)))
		return -EINVAL;
	/* Whether the CPU reaches a dma-buf is for its exporter to say. */
	if ((sq_dmabuf && (arg->flags & NVME_P2P_QUEUE_SQ_NO_CPU_MAP)) ||
	    (cq_dmabuf && (arg->flags & NVME_P2P_QUEUE_CQ_NO_CPU_MAP)))
		return -EINVAL;
	if (arg->depth < 2 || arg->depth > cmb->max_queue_depth)
		return -EINVAL;
	if (arg->cq_placement == NVME_P2P_CQ_CMB &&
	    !(cmb->cmbsz & NVME_CMBSZ_CQS))
		return -EOPNOTSUPP;
	if (arg->sq_placement == NVME_P2P_SQ_CMB_REQUIRED &&
	    (!cmb->size || !(cmb->cmbsz & NVME_CMBSZ_SQS)))
		return -ENOSPC;
	return 0;
}

/*
 * The exporter of a ring's dma-buf takes the memory back. Called under
 * its reservation lock and whatever locks it holds (another controller's
 * exporter may hold its own), so the admin commands that take the pair off
 * the controller are left to a work item, whose fence the exporter waits
 * for before the memory goes.
 */
static void nvme_p2p_queue_move_notify(struct dma_buf_attachment *attach)
{
	struct nvme_p2p_queue *q = attach->importer_priv;
	bool first;

	mutex_lock(&q->lock);
	first = !q->rings_lost;
	q->rings_lost = true;
	mutex_unlock(&q->lock);
	if (first)
		queue_work(system_unbound_wq, &q->ring_work);
	/* No room for the fence: off the controller before returning. */
	if (nvme_p2p_ring_fence_add(attach, q->ring_fence))
		flush_work(&q->ring_work);
}

static const struct dma_buf_attach_ops nvme_p2p_queue_importer_ops = {
	.allow_peer2peer = true,
	.move_notify = nvme_p2p_queue_move_notify,
};

/*
 * The rings' memory was taken back: delete the pair on the controller (SQ,
 * then CQ) and revoke the queue for good, then let the exporter go on.
 */
static void nvme_p2p_queue_rings_lost(struct work_struct *work)
{
	struct nvme_p2p_queue *q = container_of(work, struct nvme_p2p_queue,
						ring_work);
	struct nvme_p2p_export *exp = q->exp;

	mutex_lock(&exp->cmd_lock);
	nvme_p2p_queue_take_down(q);
	if (q->qid)
		dev_info(exp->ctrl->device,
			 "p2p: exported queue %u revoked: its rings' memory was taken back\n",
			 q->qid);
	mutex_unlock(&exp->cmd_lock);
	/* A controller going down may reach the rings until it is off. */
	wait_event(exp->disabled, !atomic_read(&exp->disabling));
	dma_fence_signal(q->ring_fence);
}

/* A ring in the caller's dma-buf. */
static int nvme_p2p_queue_import(struct nvme_p2p_queue *q,
				 struct nvme_p2p_mem *mem,
				 struct nvme_p2p_ring *ring, int fd, u64 offset,
				 size_t bytes)
{
	int ret;

	if (!q->ring_fence) {
		q->ring_fence = nvme_p2p_ring_fence_new();
		if (!q->ring_fence)
			return -ENOMEM;
	}
	mem->size = PAGE_ALIGN(bytes);
	ret = nvme_p2p_ring_import(q->exp, fd, offset, mem->size,
				   &nvme_p2p_queue_importer_ops, q, ring);
	if (!ret)
		mem->ctrl_addr = ring->addr;
	return ret;
}

/* Ring memory as asked: CMB preferred falls back to host memory. */
static int nvme_p2p_queue_alloc(struct nvme_p2p_queue *q,
				const struct nvme_p2p_queue_create *arg,
				const struct nvme_p2p_cmb *cmb)
{
	size_t sq_bytes = (size_t)arg->depth * NVME_P2P_SQE_BYTES;
	size_t cq_bytes = (size_t)arg->depth * NVME_P2P_CQE_BYTES;
	bool sq_host = arg->sq_placement == NVME_P2P_SQ_HOST;
	int ret;

	q->db_sink = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!q->db_sink)
		return -ENOMEM;
	if (arg->sq_placement == NVME_P2P_SQ_DMABUF) {
		ret = nvme_p2p_queue_import(q, &q->sq, &q->sq_ring,
					    arg->sq_dmabuf_fd,
					    arg->sq_dmabuf_offset, sq_bytes);
	} else {
		if (arg->sq_placement == NVME_P2P_SQ_CMB_PREFERRED &&
		    (!cmb->size || !(cmb->cmbsz & NVME_CMBSZ_SQS)))
			sq_host = true;
		ret = nvme_p2p_mem_alloc(q->exp, &q->sq, sq_bytes, sq_host);
		if (ret == -ENOSPC &&
		    arg->sq_placement == NVME_P2P_SQ_CMB_PREFERRED)
			ret = nvme_p2p_mem_alloc(q->exp, &q->sq, sq_bytes, true);
	}
	if (ret)
		return ret;
	if (arg->cq_placement == NVME_P2P_CQ_DMABUF)
		return nvme_p2p_queue_import(q, &q->cq, &q->cq_ring,
					     arg->cq_dmabuf_fd,
					     arg->cq_dmabuf_offset, cq_bytes);
	return nvme_p2p_mem_alloc(q->exp, &q->cq, cq_bytes,
				  arg->cq_placement == NVME_P2P_CQ_HOST);
}

/* Doorbells of queue qid: SQ tail at 2 * qid, CQ head at 2 * qid + 1. */
static int nvme_p2p_queue_doorbells(struct nvme_p2p_queue *q, u32 stride)
{
	u32 sq_db = NVME_REG_DBS + 2 * q->qid * stride;
	u32 cq_db = sq_db + stride;

	q->db_bar_off = round_down(sq_db, PAGE_SIZE);
	q->db_bytes = PAGE_ALIGN(cq_db + sizeof(u32)) - q->db_bar_off;
	q->sq_db_off = sq_db - q->db_bar_off;
	q->cq_db_off = cq_db - q->db_bar_off;
	if (q->db_bar_off + q->db_bytes > pci_resource_len(q->exp->pdev, 0))
		return -EIO;
	return 0;
}

/* Take a free reserved queue ID and join the list. */
static int nvme_p2p_queue_link(struct nvme_p2p_queue *q)
{
	struct nvme_p2p_export *exp = q->exp;
	unsigned int bit;

	lockdep_assert_held(&exp->lock);
	if (!exp->nr_qids)
		return -EOPNOTSUPP;
	bit = find_first_zero_bit(exp->qid_used, exp->nr_qids);
	if (bit >= exp->nr_qids)
		return -EBUSY;
	set_bit(bit, exp->qid_used);
	q->qid = exp->first_qid + bit;
	mutex_lock(&q->lock);
	q->state = NVME_P2P_QUEUE_RESETTING;	/* not on the controller yet */
	mutex_unlock(&q->lock);
	list_add_tail(&q->node, &exp->queues);
	return 0;
}

/**
 * nvme_p2p_queue_create() - NVME_P2P_IOCTL_QUEUE_CREATE
 * @exp: the controller's exporter state
 * @cmb: the controller's CMB and queue limits
 * @argp: struct nvme_p2p_queue_create in user memory
 *
 * Return: a new file descriptor, or a negative errno (see the uapi header).
 */
long nvme_p2p_queue_create(struct nvme_p2p_export *exp,
			   const struct nvme_p2p_cmb *cmb, void __user *argp)
{
	struct nvme_p2p_queue_create arg;
	struct nvme_p2p_queue *q;
	unsigned int epoch;
	struct file *file;
	int fd, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = nvme_p2p_copy_args(&arg, sizeof(arg), NVME_P2P_QUEUE_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	ret = nvme_p2p_queue_check(&arg, cmb);
	if (ret)
		return ret;
	if (!READ_ONCE(exp->nr_qids))
		return -EOPNOTSUPP;

	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	q->exp = exp;
	q->flags = arg.flags;
	q->depth = arg.depth;
	q->max_transfer = cmb->max_transfer;
	q->state = NVME_P2P_QUEUE_REVOKED;
	INIT_LIST_HEAD(&q->node);
	nvme_p2p_maps_init(&q->maps);
	nvme_p2p_dmabufs_init(&q->dmabufs);
	mutex_init(&q->lock);
	init_waitqueue_head(&q->wait);
	INIT_WORK(&q->ring_work, nvme_p2p_queue_rings_lost);
	ret = nvme_p2p_queue_alloc(q, &arg, cmb);
	if (ret)
		goto out_free;

	file = nvme_p2p_file_create(exp, "[nvme-p2p-queue]",
				    &nvme_p2p_queue_fops, q, &fd);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_free;
	}
	/* From here on the file's release undoes whatever was done. */
	q->mapping = file->f_mapping;
	q->owner = get_pid(task_tgid(current));

	mutex_lock(&exp->cmd_lock);
	mutex_lock(&exp->lock);
	ret = -ENODEV;
	if (!exp->gone && nvme_ctrl_state(exp->ctrl) == NVME_CTRL_LIVE)
		ret = nvme_p2p_queue_link(q);
	if (!ret)
		ret = nvme_p2p_queue_doorbells(q, cmb->db_stride);
	epoch = exp->disable_epoch;
	mutex_unlock(&exp->lock);
	/* Taken back already: its work item has nothing to delete. */
	mutex_lock(&q->lock);
	if (!ret && q->rings_lost)
		ret = -EAGAIN;
	mutex_unlock(&q->lock);
	if (!ret)
		ret = nvme_p2p_queue_create_cmds(q);
	mutex_lock(&exp->lock);
	mutex_lock(&q->lock);
	if (!ret && exp->disable_epoch == epoch)
		q->state = NVME_P2P_QUEUE_LIVE;
	/* else a disable raced us: the reset leaves the queue stopped. */
	mutex_unlock(&q->lock);
	mutex_unlock(&exp->lock);
	mutex_unlock(&exp->cmd_lock);
	if (ret)
		goto out_put_file;

	arg.qid = q->qid;
	ret = -EFAULT;
	if (copy_to_user(argp, &arg, min_t(size_t, arg.argsz, sizeof(arg))))
		goto out_put_file;
	fd_install(fd, file);
	return fd;

out_put_file:
	fput(file);
	put_unused_fd(fd);
	return ret;
out_free:
	nvme_p2p_queue_free(q);
	return ret;
}

/* Exported queues holding a queue ID. */
unsigned int nvme_p2p_queues_used(struct nvme_p2p_export *exp)
{
	lockdep_assert_held(&exp->lock);
	return bitmap_weight(exp->qid_used, exp->nr_qids);
}

static u16 nvme_p2p_cqe_field(struct nvme_p2p_mem *cq, unsigned int i,
			      size_t field)
{
	void *p = cq->kaddr + i * NVME_P2P_CQE_BYTES + field;

	return cq->host ? le16_to_cpu(READ_ONCE(*(__le16 *)p)) :
		readw((void __iomem *)p);
}

/*
 * Where the controller is, from the CQ memory: it fills slots in order and
 * flips the phase bit each lap, so the first slot whose phase differs from
 * slot 0's is the next it writes (slot 0 if all agree), and the CQE before
 * it is the newest, unless no CQE names this queue's SQ: nothing posted.
 */
static void nvme_p2p_queue_position(struct nvme_p2p_queue *q,
				    struct nvme_p2p_list_entry *e)
{
	const size_t status = offsetof(struct nvme_completion, status);
	struct nvme_p2p_mem *cq = &q->cq;
	unsigned int i;
	u16 phase;

	/* Nothing to read without a CPU mapping: a CQ in a dma-buf. */
	if (q->state == NVME_P2P_QUEUE_REVOKED || !cq->kaddr)
		return;
	phase = nvme_p2p_cqe_field(cq, 0, status) & 1;
	for (i = 1; i < q->depth; i++)
		if ((nvme_p2p_cqe_field(cq, i, status) & 1) != phase)
			break;
	if (nvme_p2p_cqe_field(cq, i - 1, offsetof(struct nvme_completion,
						   sq_id)) != q->qid)
		return;
	e->cq_tail = i % q->depth;
	e->sq_head = nvme_p2p_cqe_field(cq, i - 1,
					offsetof(struct nvme_completion, sq_head));
}

/**
 * nvme_p2p_queues_list() - NVME_P2P_IOCTL_LIST entries of exported queues
 * @exp: the controller's exporter state
 * @entries: where to write them
 * @room: room in @entries
 * @count: incremented by the number of exported queues
 */
void nvme_p2p_queues_list(struct nvme_p2p_export *exp,
			  struct nvme_p2p_list_entry *entries, u32 room,
			  u32 *count)
{
	struct nvme_p2p_queue *q;
	u32 n = 0;

	mutex_lock(&exp->lock);
	list_for_each_entry(q, &exp->queues, node) {
		struct nvme_p2p_list_entry *e;

		(*count)++;
		if (n >= room)
			continue;
		e = &entries[n++];
		e->type = NVME_P2P_ENTRY_QUEUE;
		e->flags = q->flags;
		e->pid = pid_vnr(q->owner);
		e->qid = q->qid;
		e->depth = q->depth;
		mutex_lock(&q->lock);
		e->state = q->state;
		e->generation = q->generation;
		e->sq_placement = nvme_p2p_queue_sq_placement(q);
		e->cq_placement = nvme_p2p_queue_cq_placement(q);
		e->importers = READ_ONCE(q->maps.nr);
		e->size = q->sq.size;
		e->addr = q->sq.ctrl_addr;
		e->cq_addr = q->cq.ctrl_addr;
		nvme_p2p_queue_position(q, e);
		mutex_unlock(&q->lock);
		nvme_p2p_dmabufs_count(&q->dmabufs, &e->dmabufs,
				       &e->dmabuf_attachments);
	}
	mutex_unlock(&exp->lock);
}

/**
 * nvme_p2p_export_ask_qids() - how many I/O queues to ask the controller for
 * @exp: the controller's exporter state
 * @own: I/O queues the driver wants for itself (queue IDs 1 to @own)
 * @db_stride: bytes between two doorbell registers
 *
 * With queue IDs wanted for export, ask for enough that they can start on
 * a doorbell page that holds no doorbell of the driver's own queues (with
 * a 4-byte stride and 4 KiB pages: queue ID 512): a peer given the
 * exported queues' doorbell page can then ring no kernel queue.
 *
 * Return: the number of I/O queues for Set Features (Number of Queues).
 */
unsigned int nvme_p2p_export_ask_qids(struct nvme_p2p_export *exp,
				      unsigned int own, unsigned int db_stride)
{
	u32 pair = 2 * db_stride;
	u32 first = DIV_ROUND_UP(round_up(NVME_REG_DBS + (own + 1) * pair,
					  PAGE_SIZE) - NVME_REG_DBS, pair);

	exp->own_qids = own;
	exp->isolated_qid = first;
	if (!exp->qids_wanted)
		return own;
	/* Number of Queues counts 65535 at most (a 0's based 16-bit field). */
	if (first + exp->qids_wanted - 1 > U16_MAX)
		return own + exp->qids_wanted;
	return first + exp->qids_wanted - 1;
}

/**
 * nvme_p2p_export_claim_qids() - set queue IDs apart from blk-mq's
 * @exp: the controller's exporter state
 * @granted: I/O queues the controller granted (Set Features, Number of
 *	Queues) of those nvme_p2p_export_ask_qids() asked for
 *
 * Where the controller granted enough, the queue IDs reserved for export
 * start at the first one on a doorbell page of their own; else they are
 * the highest granted, leaving the driver at least one, and share a
 * doorbell page with the driver's queues (NVME_P2P_IOCTL_INFO says which).
 *
 * Return: the number of I/O queues left for the driver.
 */
unsigned int nvme_p2p_export_claim_qids(struct nvme_p2p_export *exp,
					unsigned int granted)
{
	unsigned int want = exp->qids_wanted, n, own;
	struct nvme_p2p_queue *q;

	mutex_lock(&exp->lock);
	if (want && granted >= exp->isolated_qid + want - 1) {
		n = want;
		exp->first_qid = exp->isolated_qid;
		exp->db_isolated = true;
		own = exp->own_qids;
	} else {
		n = min_t(unsigned int, want, granted > 1 ? granted - 1 : 0);
		exp->first_qid = granted - n + 1;
		exp->db_isolated = false;
		own = min_t(unsigned int, exp->own_qids, granted - n);
	}
	exp->nr_qids = n;
	bitmap_zero(exp->qid_used, NVME_P2P_MAX_QIDS);
	list_for_each_entry(q, &exp->queues, node)
		if (q->qid >= exp->first_qid && q->qid < exp->first_qid + n)
			set_bit(q->qid - exp->first_qid, exp->qid_used);
	mutex_unlock(&exp->lock);
	return own;
}

/**
 * nvme_p2p_queues_invalidate() - the controller is going down
 * @exp: the controller's exporter state
 *
 * Every CPU mapping and importer of every exported queue is invalidated;
 * live and stopped queues become resetting (the pair is lost with the
 * controller's state, and a resume must wait for the controller).
 */
void nvme_p2p_queues_invalidate(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_queue *q;

	mutex_lock(&exp->lock);
	exp->disable_epoch++;
	list_for_each_entry(q, &exp->queues, node) {
		mutex_lock(&q->lock);
		if (q->state != NVME_P2P_QUEUE_REVOKED)
			q->state = NVME_P2P_QUEUE_RESETTING;
		mutex_unlock(&q->lock);
		/* A fault that read the old state is done: this zaps it. */
		unmap_mapping_range(q->mapping, 0, 0, 1);
		nvme_p2p_dmabufs_revoke(&q->dmabufs);
	}
	mutex_unlock(&exp->lock);
}

/**
 * nvme_p2p_queues_restore() - the controller is back after a reset
 * @exp: the controller's exporter state
 *
 * Exported queues were lost with the controller's state: each is stopped
 * at a new generation (poll() says so) until its owner resumes it, or
 * revoked if its queue ID is no longer reserved.
 */
void nvme_p2p_queues_restore(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_queue *q, *tmp;
	bool in_range, stopped;

	mutex_lock(&exp->cmd_lock);
	/* The list only changes under cmd_lock too: safe to walk. */
	list_for_each_entry_safe(q, tmp, &exp->queues, node) {
		mutex_lock(&exp->lock);
		in_range = q->qid >= exp->first_qid &&
			q->qid < exp->first_qid + exp->nr_qids;
		mutex_unlock(&exp->lock);
		if (!in_range) {
			dev_warn(exp->ctrl->device,
				 "p2p: exported queue %u lost its queue ID in a reset, revoked\n",
				 q->qid);
			nvme_p2p_queue_drop(q, true);
			continue;
		}
		mutex_lock(&q->lock);
		stopped = q->state == NVME_P2P_QUEUE_RESETTING;
		if (stopped) {
			q->state = NVME_P2P_QUEUE_STOPPED;
			q->generation++;
		}
		mutex_unlock(&q->lock);
		if (!stopped)
			continue;
		/* The CPU's doorbells reach the controller again. */
		unmap_mapping_range(q->mapping, NVME_P2P_QUEUE_OFF_DB,
				    PAGE_ALIGN(q->db_bytes), 1);
		wake_up_interruptible_poll(&q->wait, EPOLLPRI);
	}
	mutex_unlock(&exp->cmd_lock);
}

/* NVME_P2P_IOCTL_QUEUE_RESUME: create a stopped queue on the controller. */
static long nvme_p2p_queue_resume(struct nvme_p2p_queue *q)
{
	struct nvme_p2p_export *exp = q->exp;
	unsigned int epoch;
	long ret;
	u8 state;

	mutex_lock(&exp->cmd_lock);
	mutex_lock(&exp->lock);
	epoch = exp->disable_epoch;
	mutex_unlock(&exp->lock);
	mutex_lock(&q->lock);
	/* Rings taken back: its work item revokes it, if not yet. */
	state = q->rings_lost ? NVME_P2P_QUEUE_REVOKED : q->state;
	mutex_unlock(&q->lock);
	switch (state) {
	case NVME_P2P_QUEUE_LIVE:
		ret = 0;
		break;
	case NVME_P2P_QUEUE_STOPPED:
		/* A reset begun, not yet at nvme_dev_disable(): its turn first. */
		if (nvme_ctrl_state(exp->ctrl) != NVME_CTRL_LIVE) {
			ret = -EAGAIN;
			break;
		}
		ret = nvme_p2p_queue_create_cmds(q);
		mutex_lock(&exp->lock);
		mutex_lock(&q->lock);
		if (exp->disable_epoch != epoch)
			ret = -EAGAIN;	/* a reset began: it stops the queue */
		else if (!ret)
			q->state = NVME_P2P_QUEUE_LIVE;
		mutex_unlock(&q->lock);
		mutex_unlock(&exp->lock);
		break;
	case NVME_P2P_QUEUE_RESETTING:
		ret = -EAGAIN;
		break;
	default:
		ret = -ENODEV;
		break;
	}
	mutex_unlock(&exp->cmd_lock);
	return ret;
}

/**
 * nvme_p2p_queues_remove() - revoke every exported queue for good
 * @exp: the controller's exporter state
 *
 * For controller removal: the memory is freed now, before the CMB goes.
 */
void nvme_p2p_queues_remove(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_queue *q, *tmp;

	lockdep_assert_held(&exp->cmd_lock);
	list_for_each_entry_safe(q, tmp, &exp->queues, node)
		nvme_p2p_queue_drop(q, true);
}
