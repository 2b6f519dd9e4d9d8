// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci peer-to-peer exporter: CMB data regions as p2p VMAs.
 *
 * A region is a piece of the controller memory buffer handed to userspace
 * as a file descriptor. Its mmap is a VMA with p2p_map/p2p_unmap, so that
 * another device's driver can get DMA addresses for it; the CPU view is an
 * uncached PFN mapping (or none at all with NVME_P2P_REGION_NO_CPU_MAP).
 * Each region file has its own inode, so unmap_mapping_range() on it
 * revokes exactly that region's CPU mappings and importers.
 */
#include <linux/dma-map-ops.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/nvme_p2p.h>

#include "nvme.h"
#include "pci-p2p.h"

static unsigned int p2p_queues;
module_param(p2p_queues, uint, 0444);
MODULE_PARM_DESC(p2p_queues,
		 "I/O queue IDs per controller reserved for export to peer devices (0-64); shadow doorbells stay off on controllers with any");

/* The first version of each argument struct: the smallest @argsz taken. */
#define NVME_P2P_INFO_ARGSZ_V0		offsetofend(struct nvme_p2p_info, reserved)
#define NVME_P2P_REGION_ARGSZ_V0	offsetofend(struct nvme_p2p_region_create, reserved)
#define NVME_P2P_PEER_ARGSZ_V0		offsetofend(struct nvme_p2p_peer, reserved)
#define NVME_P2P_LIST_ARGSZ_V0		offsetofend(struct nvme_p2p_list, reserved)
#define NVME_P2P_LIST_ENTRY_V0		offsetofend(struct nvme_p2p_list_entry, reserved)

struct nvme_p2p_region {
	struct nvme_p2p_export *exp;
	struct list_head node;		/* in exp->regions while it has memory */
	struct address_space *mapping;
	struct pid *owner;
	u32 flags;
	struct mutex lock;		/* protects mem.kaddr */
	struct nvme_p2p_mem mem;	/* kaddr NULL once revoked */
	struct nvme_p2p_maps maps;
	struct nvme_p2p_dmabufs dmabufs;
};

/*
 * Take the region's memory back: invalidate every CPU mapping and every
 * importer (their mmu notifiers fire and they call p2p_unmap), undo what
 * importers left mapped, and free the memory.
 */
static void nvme_p2p_region_revoke(struct nvme_p2p_region *region)
{
	struct nvme_p2p_mem mem;

	mutex_lock(&region->lock);
	mem = region->mem;
	region->mem.kaddr = NULL;
	mutex_unlock(&region->lock);
	if (!mem.kaddr)
		return;

	unmap_mapping_range(region->mapping, 0, 0, 1);
	nvme_p2p_dmabufs_revoke(&region->dmabufs);
	nvme_p2p_unmap_all(region->exp, &region->maps);
	nvme_p2p_mem_free(region->exp, &mem);
}

static vm_fault_t nvme_p2p_region_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct nvme_p2p_region *region = vma->vm_private_data;
	unsigned long off = vmf->pgoff << PAGE_SHIFT;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	pgprot_t prot;

	if (region->flags & NVME_P2P_REGION_NO_CPU_MAP)
		return VM_FAULT_SIGBUS;

	mutex_lock(&region->lock);
	if (region->mem.kaddr && off < region->mem.size) {
		prot = region->mem.host ? vma->vm_page_prot :
			pgprot_noncached(vma->vm_page_prot);
		ret = vmf_insert_pfn_prot(vma, vmf->address,
					  nvme_p2p_mem_pfn(&region->mem, off),
					  prot);
	}
	mutex_unlock(&region->lock);
	return ret;
}

static long nvme_p2p_region_p2p_map(struct vm_area_struct *vma,
				    struct device *importer,
				    unsigned long start, unsigned long end,
				    dma_addr_t *pa, bool write)
{
	struct nvme_p2p_region *region = vma->vm_private_data;
	unsigned long off = (vma->vm_pgoff << PAGE_SHIFT) + start - vma->vm_start;
	long ret;

	ret = nvme_p2p_vma_check(vma, start, end);
	if (ret)
		return ret;
	mutex_lock(&region->lock);
	if (region->mem.kaddr)
		ret = nvme_p2p_map_mem(region->exp, &region->maps, &region->mem,
				       off, importer, start, end, pa, write);
	else
		ret = -ENODEV;
	mutex_unlock(&region->lock);
	return ret;
}

static long nvme_p2p_region_p2p_unmap(struct vm_area_struct *vma,
				      struct device *importer,
				      unsigned long start, unsigned long end,
				      dma_addr_t *pa)
{
	struct nvme_p2p_region *region = vma->vm_private_data;

	return nvme_p2p_unmap(&region->maps, importer, start, end, pa);
}

/*
 * The CMB's p2pmem pages, for block-layer importers (io_uring fixed
 * buffers): nvme-pci and other drivers map them with pci_p2pdma. Host
 * regions are ordinary memory, nothing a peer-to-peer importer needs.
 */
static long nvme_p2p_region_p2p_pages(struct vm_area_struct *vma,
				      unsigned long start, unsigned long end,
				      struct page **pages)
{
	struct nvme_p2p_region *region = vma->vm_private_data;
	unsigned long off = (vma->vm_pgoff << PAGE_SHIFT) + start - vma->vm_start;
	unsigned long i, npages = (end - start) >> PAGE_SHIFT;
	long ret;

	ret = nvme_p2p_vma_check(vma, start, end);
	if (ret)
		return ret;
	mutex_lock(&region->lock);
	if (!region->mem.kaddr)
		ret = -ENODEV;
	else if (region->mem.host)
		ret = -EOPNOTSUPP;
	else if (off + (end - start) > region->mem.size)
		ret = -EINVAL;
	else
		for (i = 0; i < npages; i++)
			pages[i] = virt_to_page(region->mem.kaddr + off +
						(i << PAGE_SHIFT));
	mutex_unlock(&region->lock);
	return ret;
}

static const struct vm_operations_struct nvme_p2p_region_vm_ops = {
	.fault = nvme_p2p_region_fault,
	.may_split = nvme_p2p_may_split,
	.mremap = nvme_p2p_mremap,
	.p2p_map = nvme_p2p_region_p2p_map,
	.p2p_unmap = nvme_p2p_region_p2p_unmap,
	.p2p_pages = nvme_p2p_region_p2p_pages,
};

/* A dma-buf's map: the region's memory while it has it. */
static int nvme_p2p_region_dmabuf_map(void *owner, unsigned int part,
				      unsigned long off, size_t len,
				      struct nvme_p2p_map *map)
{
	struct nvme_p2p_region *region = owner;
	int ret = -ENODEV;

	mutex_lock(&region->lock);
	if (region->mem.kaddr)
		ret = nvme_p2p_map_mem_sgt(region->exp, &region->mem, off, len,
					   map);
	mutex_unlock(&region->lock);
	return ret;
}

/* NVME_P2P_IOCTL_DMABUF on a region: a page-aligned range of it. */
static long nvme_p2p_region_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct nvme_p2p_region *region = file->private_data;
	size_t size = region->mem.size;
	struct nvme_p2p_dmabuf_src src = {
		.exp = region->exp,
		.set = &region->dmabufs,
		.file = file,
		.map = nvme_p2p_region_dmabuf_map,
		.owner = region,
		.device_mem = !region->mem.host,
		.what = "CMB",
	};
	u64 off, len;
	int ret;

	if (cmd != NVME_P2P_IOCTL_DMABUF)
		return -ENOTTY;
	ret = nvme_p2p_dmabuf_args((void __user *)arg, &off, &len);
	if (ret)
		return ret;
	if (off >= size || len > size - off)
		return -EINVAL;
	if (!READ_ONCE(region->mem.kaddr))
		return -ENODEV;
	src.off = off;
	src.len = len ?: size - off;
	return nvme_p2p_dmabuf_export(&src);
}

static int nvme_p2p_region_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nvme_p2p_region *region = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;
	size_t size = region->mem.size;
	int ret = nvme_p2p_vma_check_flags(vma);

	if (ret)
		return ret;
	if (vma->vm_pgoff > (size >> PAGE_SHIFT) || len > size - off)
		return -EINVAL;
	if (!READ_ONCE(region->mem.kaddr))
		return -ENODEV;
	nvme_p2p_vma_setup(vma, &nvme_p2p_region_vm_ops, region);
	return 0;
}

static int nvme_p2p_region_release(struct inode *inode, struct file *file)
{
	struct nvme_p2p_region *region = file->private_data;
	struct nvme_p2p_export *exp = region->exp;

	/* Under exp->lock, so that removal never races the memory's return. */
	mutex_lock(&exp->lock);
	if (!list_empty(&region->node)) {
		list_del_init(&region->node);
		exp->nr_regions--;
	}
	nvme_p2p_region_revoke(region);
	mutex_unlock(&exp->lock);
	put_pid(region->owner);
	nvme_put_ctrl(exp->ctrl);
	kfree(region);
	return 0;
}

static const struct file_operations nvme_p2p_region_fops = {
	.owner = THIS_MODULE,
	.mmap = nvme_p2p_region_mmap,
	.unlocked_ioctl = nvme_p2p_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = nvme_p2p_region_release,
};

static long nvme_p2p_region_create(struct nvme_p2p_export *exp,
				   const struct nvme_p2p_cmb *cmb,
				   void __user *argp)
{
	struct nvme_p2p_region_create arg;
	struct nvme_p2p_region *region;
	struct file *file;
	bool host;
	int fd, ret;

	ret = nvme_p2p_copy_args(&arg, sizeof(arg), NVME_P2P_REGION_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	if ((arg.flags & ~NVME_P2P_REGION_FLAGS) || arg.bus_addr ||
	    arg.cmb_offset ||
	    !nvme_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	if (!arg.size || !IS_ALIGNED(arg.size, SZ_4K))
		return -EINVAL;
	host = arg.flags & NVME_P2P_REGION_HOST;
	if (host && arg.size > NVME_P2P_HOST_REGION_MAX)
		return -E2BIG;
	if ((!host && !cmb->size) || READ_ONCE(exp->gone))
		return -ENODEV;

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region)
		return -ENOMEM;
	region->exp = exp;
	region->flags = arg.flags;
	mutex_init(&region->lock);
	nvme_p2p_maps_init(&region->maps);
	nvme_p2p_dmabufs_init(&region->dmabufs);
	INIT_LIST_HEAD(&region->node);

	ret = nvme_p2p_mem_alloc(exp, &region->mem, arg.size, host);
	if (ret)
		goto out_free;
	arg.bus_addr = region->mem.ctrl_addr;
	arg.cmb_offset = host ? 0 : arg.bus_addr - cmb->bus_start;

	file = nvme_p2p_file_create(exp, "[nvme-p2p-region]",
				    &nvme_p2p_region_fops, region, &fd);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_free_mem;
	}
	region->mapping = file->f_mapping;
	region->owner = get_pid(task_tgid(current));

	ret = -EFAULT;
	if (copy_to_user(argp, &arg, min_t(size_t, arg.argsz, sizeof(arg))))
		goto out_put_file;

	mutex_lock(&exp->lock);
	if (exp->gone) {
		mutex_unlock(&exp->lock);
		ret = -ENODEV;
		goto out_put_file;
	}
	list_add_tail(&region->node, &exp->regions);
	exp->nr_regions++;
	mutex_unlock(&exp->lock);
	fd_install(fd, file);
	return fd;

out_put_file:
	/* The file owns the region now: its release frees everything. */
	fput(file);
	put_unused_fd(fd);
	return ret;
out_free_mem:
	nvme_p2p_mem_free(exp, &region->mem);
out_free:
	kfree(region);
	return ret;
}

static long nvme_p2p_info(struct nvme_p2p_export *exp,
			  const struct nvme_p2p_cmb *cmb, void __user *argp)
{
	struct nvme_p2p_info info;
	u32 argsz;
	int ret;

	ret = nvme_p2p_copy_args(&info, sizeof(info), NVME_P2P_INFO_ARGSZ_V0,
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
	if (cmb->size) {
		info.flags |= NVME_P2P_INFO_CMB;
		info.cmb_size = cmb->size;
		info.cmb_free = pci_p2pmem_available(exp->pdev);
	}
	info.flags |= (cmb->cmbsz & 0x1f) << 1;	/* SQS CQS LISTS RDS WDS */
	if (cmb->kernel_sqs)
		info.flags |= NVME_P2P_INFO_KERNEL_SQS_IN_CMB;
	info.cmbsz = cmb->cmbsz;
	info.cmbloc = cmb->cmbloc;
	info.db_stride = cmb->db_stride;
	info.max_queue_depth = min_t(u32, cmb->max_queue_depth, U16_MAX);
	info.max_transfer = cmb->max_transfer;
	info.kernel_cmb_bytes = cmb->kernel_cmb_bytes;
	mutex_lock(&exp->lock);
	info.regions = exp->nr_regions;
	info.queues_reserved = exp->nr_qids;
	info.first_qid = exp->nr_qids ? exp->first_qid : 0;
	if (exp->nr_qids && exp->db_isolated)
		info.flags |= NVME_P2P_INFO_DB_ISOLATED;
	info.queues_used = nvme_p2p_queues_used(exp);
	mutex_unlock(&exp->lock);

	if (copy_to_user(argp, &info, info.argsz))
		return -EFAULT;
	return 0;
}

static long nvme_p2p_peer(struct nvme_p2p_export *exp, void __user *argp)
{
	struct nvme_p2p_peer arg;
	struct pci_dev *peer;
	int route, ret;

	ret = nvme_p2p_copy_args(&arg, sizeof(arg), NVME_P2P_PEER_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	if (arg.flags || arg.reach || arg.distance || arg.reserved0 ||
	    arg.reserved1 ||
	    !nvme_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	peer = pci_get_domain_bus_and_slot(arg.domain, arg.bus, arg.devfn);
	if (!peer)
		return -ENODEV;
	route = pci_p2pdma_route(exp->pdev, &peer->dev, &arg.distance);
	pci_dev_put(peer);
	if (route == PCI_P2PDMA_MAP_BUS_ADDR)
		arg.reach = NVME_P2P_PEER_VIA_SWITCH;
	else if (route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		arg.reach = NVME_P2P_PEER_VIA_HOST_BRIDGE;
	else
		arg.reach = NVME_P2P_PEER_UNREACHABLE;
	if (copy_to_user(argp, &arg, min_t(size_t, arg.argsz, sizeof(arg))))
		return -EFAULT;
	return 0;
}

static void nvme_p2p_region_entry(struct nvme_p2p_region *region,
				  struct nvme_p2p_list_entry *e)
{
	e->type = NVME_P2P_ENTRY_REGION;
	e->flags = region->flags;
	e->pid = pid_vnr(region->owner);
	mutex_lock(&region->lock);
	e->state = region->mem.kaddr ? NVME_P2P_QUEUE_LIVE :
		NVME_P2P_QUEUE_REVOKED;
	e->importers = READ_ONCE(region->maps.nr);
	e->size = region->mem.size;
	e->addr = region->mem.ctrl_addr;
	mutex_unlock(&region->lock);
	nvme_p2p_dmabufs_count(&region->dmabufs, &e->dmabufs,
			       &e->dmabuf_attachments);
}

static long nvme_p2p_list(struct nvme_p2p_export *exp, void __user *argp)
{
	struct nvme_p2p_list_entry *entries = NULL;
	struct nvme_p2p_region *region;
	struct nvme_p2p_list arg;
	u32 room, count = 0, filled, entry_size;
	long ret;

	ret = nvme_p2p_copy_args(&arg, sizeof(arg), NVME_P2P_LIST_ARGSZ_V0,
				 argp);
	if (ret)
		return ret;
	if (arg.flags || arg.entry_size < NVME_P2P_LIST_ENTRY_V0 ||
	    !nvme_p2p_reserved_zero(arg.reserved, ARRAY_SIZE(arg.reserved)))
		return -EINVAL;
	entry_size = min_t(u32, arg.entry_size, sizeof(*entries));
	room = arg.nr_entries;

	mutex_lock(&exp->lock);
	room = min(room, exp->nr_regions + nvme_p2p_queues_used(exp));
	if (room) {
		entries = kvcalloc(room, sizeof(*entries), GFP_KERNEL);
		if (!entries) {
			mutex_unlock(&exp->lock);
			return -ENOMEM;
		}
	}
	list_for_each_entry(region, &exp->regions, node) {
		if (count < room)
			nvme_p2p_region_entry(region, &entries[count]);
		count++;
	}
	mutex_unlock(&exp->lock);
	filled = min(count, room);
	nvme_p2p_queues_list(exp, entries ? entries + filled : NULL,
			     room - filled, &count);

	ret = -EFAULT;
	for (u32 i = 0; i < min(count, room); i++)
		if (copy_to_user(u64_to_user_ptr(arg.entries) +
				 (size_t)i * arg.entry_size, &entries[i],
				 entry_size))
			goto out;
	arg.nr_entries = count;
	ret = 0;
	if (copy_to_user(argp, &arg, min_t(size_t, arg.argsz, sizeof(arg))))
		ret = -EFAULT;
out:
	kvfree(entries);
	return ret;
}

/**
 * nvme_p2p_export_init() - set up a controller's exporter state
 * @exp: the state, embedded in the driver's per-controller struct
 * @ctrl: the controller
 * @pdev: its PCI device, the CMB's p2pmem provider
 */
void nvme_p2p_export_init(struct nvme_p2p_export *exp, struct nvme_ctrl *ctrl,
			  struct pci_dev *pdev)
{
	exp->ctrl = ctrl;
	exp->pdev = pdev;
	mutex_init(&exp->lock);
	mutex_init(&exp->cmd_lock);
	init_waitqueue_head(&exp->disabled);
	INIT_LIST_HEAD(&exp->regions);
	INIT_LIST_HEAD(&exp->queues);
	exp->qids_wanted = min(p2p_queues, NVME_P2P_MAX_QIDS);
}

/**
 * nvme_p2p_export_qids_wanted() - queue IDs to reserve for export
 * @exp: the controller's exporter state
 *
 * The driver asks the controller for this many I/O queues beyond its own.
 * A controller with any reserved runs without shadow doorbells: with them
 * enabled the controller takes SQ tails from host memory that a peer
 * ringing the MMIO doorbell never writes.
 *
 * Return: the number, fixed for the controller's life.
 */
unsigned int nvme_p2p_export_qids_wanted(struct nvme_p2p_export *exp)
{
	return exp->qids_wanted;
}

/**
 * nvme_p2p_export_ioctl() - the nvme-p2p ioctls of the controller device
 * @exp: the controller's exporter state
 * @cmb: the CMB and queue limits as the driver has set them up
 * @cmd: ioctl number
 * @argp: user argument
 *
 * Return: what the ioctl returns (see uapi/linux/nvme_p2p.h), -ENOTTY for
 * an ioctl that is not ours.
 */
long nvme_p2p_export_ioctl(struct nvme_p2p_export *exp,
			   const struct nvme_p2p_cmb *cmb, unsigned int cmd,
			   void __user *argp)
{
	switch (cmd) {
	case NVME_P2P_IOCTL_INFO:
		return nvme_p2p_info(exp, cmb, argp);
	case NVME_P2P_IOCTL_REGION_CREATE:
		return nvme_p2p_region_create(exp, cmb, argp);
	case NVME_P2P_IOCTL_QUEUE_CREATE:
		return nvme_p2p_queue_create(exp, cmb, argp);
	case NVME_P2P_IOCTL_PEER:
		return nvme_p2p_peer(exp, argp);
	case NVME_P2P_IOCTL_LIST:
		return nvme_p2p_list(exp, argp);
	default:
		return -ENOTTY;
	}
}

/**
 * nvme_p2p_export_invalidate() - invalidate every importer of every export
 * @exp: the controller's exporter state
 *
 * For controller disable and reset: CPU mappings and importers are torn
 * down (mmu notifiers fire) while regions and queues keep their memory;
 * the next CPU access or p2p_map maps them again. Exported queues are
 * resetting until nvme_p2p_export_restore() stops them.
 */
void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_region *region;

	atomic_inc(&exp->disabling);
	mutex_lock(&exp->lock);
	list_for_each_entry(region, &exp->regions, node) {
		unmap_mapping_range(region->mapping, 0, 0, 1);
		nvme_p2p_dmabufs_revoke(&region->dmabufs);
	}
	mutex_unlock(&exp->lock);
	nvme_p2p_queues_invalidate(exp);
}

/**
 * nvme_p2p_export_disabled() - the controller is off
 * @exp: the controller's exporter state
 *
 * For the end of each controller disable that nvme_p2p_export_invalidate()
 * began: the controller no longer reaches any exported queue's rings.
 */
void nvme_p2p_export_disabled(struct nvme_p2p_export *exp)
{
	if (atomic_dec_and_test(&exp->disabling))
		wake_up_all(&exp->disabled);
}

/**
 * nvme_p2p_export_restore() - re-create exported queues after a reset
 * @exp: the controller's exporter state
 *
 * Called once the driver's own I/O queues are set up again: each exported
 * queue pair is stopped at a new generation until its owner resumes it
 * (NVME_P2P_IOCTL_QUEUE_RESUME); one whose queue ID is no longer granted
 * is revoked for good.
 */
void nvme_p2p_export_restore(struct nvme_p2p_export *exp)
{
	nvme_p2p_queues_restore(exp);
}

/**
 * nvme_p2p_export_remove() - revoke every export for good
 * @exp: the controller's exporter state
 *
 * For controller removal, before the CMB goes away: every region's and
 * queue's CPU mappings and importers are invalidated and the memory is
 * freed. The files stay valid; their mmap fails with -ENODEV and any CPU
 * access or p2p_map fails from then on.
 */
void nvme_p2p_export_remove(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_region *region, *tmp;

	mutex_lock(&exp->cmd_lock);
	mutex_lock(&exp->lock);
	exp->gone = true;
	list_for_each_entry_safe(region, tmp, &exp->regions, node) {
		list_del_init(&region->node);
		exp->nr_regions--;
		nvme_p2p_region_revoke(region);
	}
	mutex_unlock(&exp->lock);
	nvme_p2p_queues_remove(exp);
	mutex_unlock(&exp->cmd_lock);
}
