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
#include <linux/anon_inodes.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/nvme_p2p.h>

#include "nvme.h"
#include "pci-p2p.h"

/* The first version of each argument struct: the smallest @argsz taken. */
#define NVME_P2P_INFO_ARGSZ_V0		offsetofend(struct nvme_p2p_info, reserved)
#define NVME_P2P_REGION_ARGSZ_V0	offsetofend(struct nvme_p2p_region_create, reserved)

struct nvme_p2p_region {
	struct nvme_p2p_export *exp;
	struct list_head node;		/* in exp->regions while it has memory */
	struct address_space *mapping;
	void *kaddr;			/* p2pmem; NULL once revoked */
	size_t size;
	u32 flags;
	struct mutex lock;		/* protects kaddr and maps */
	struct list_head maps;		/* struct nvme_p2p_map */
};

/* One successful p2p_map, kept so that p2p_unmap can undo exactly it. */
struct nvme_p2p_map {
	struct list_head node;
	struct device *importer;
	unsigned long start, end;
	dma_addr_t first;
	enum dma_data_direction dir;
	struct sg_table sgt;
};

/* Copy an extensible argument struct in: see the uapi header's rules. */
static int nvme_p2p_copy_args(void *karg, size_t ksize, size_t min,
			      void __user *uarg)
{
	u32 argsz;
	int ret;

	if (get_user(argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (argsz < min)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, argsz);
	if (ret)
		return ret;
	return 0;
}

static bool nvme_p2p_reserved_zero(const u64 *reserved, size_t n)
{
	while (n--)
		if (reserved[n])
			return false;
	return true;
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
	if (info.flags || !nvme_p2p_reserved_zero(info.reserved,
						  ARRAY_SIZE(info.reserved)))
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
	mutex_lock(&exp->lock);
	info.regions = exp->nr_regions;
	mutex_unlock(&exp->lock);

	if (copy_to_user(argp, &info, info.argsz))
		return -EFAULT;
	return 0;
}

/* Undo one mapping; caller holds region->lock. */
static void nvme_p2p_map_free(struct nvme_p2p_map *map)
{
	list_del(&map->node);
	dma_unmap_sgtable(map->importer, &map->sgt, map->dir, 0);
	sg_free_table(&map->sgt);
	put_device(map->importer);
	kfree(map);
}

/*
 * Take the region's memory back: invalidate every CPU mapping and every
 * importer (their mmu notifiers fire and they call p2p_unmap), undo what
 * importers left mapped, and return the memory to the CMB.
 */
static void nvme_p2p_region_revoke(struct nvme_p2p_region *region)
{
	struct nvme_p2p_map *map, *tmp;
	void *kaddr;

	mutex_lock(&region->lock);
	kaddr = region->kaddr;
	region->kaddr = NULL;
	mutex_unlock(&region->lock);
	if (!kaddr)
		return;

	/* Not under region->lock: importers' p2p_unmap takes it. */
	unmap_mapping_range(region->mapping, 0, 0, 1);

	mutex_lock(&region->lock);
	list_for_each_entry_safe(map, tmp, &region->maps, node) {
		dev_warn(region->exp->ctrl->device,
			 "p2p: %s did not unmap a revoked region\n",
			 dev_name(map->importer));
		nvme_p2p_map_free(map);
	}
	mutex_unlock(&region->lock);
	pci_free_p2pmem(region->exp->pdev, kaddr, region->size);
}

static vm_fault_t nvme_p2p_region_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct nvme_p2p_region *region = vma->vm_private_data;
	unsigned long off = (vmf->pgoff << PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (region->flags & NVME_P2P_REGION_NO_CPU_MAP)
		return VM_FAULT_SIGBUS;

	mutex_lock(&region->lock);
	if (region->kaddr && off < region->size)
		ret = vmf_insert_pfn_prot(vma, vmf->address,
					  page_to_pfn(virt_to_page(region->kaddr + off)),
					  pgprot_noncached(vma->vm_page_prot));
	mutex_unlock(&region->lock);
	return ret;
}

static long nvme_p2p_region_p2p_map(struct vm_area_struct *vma,
				    struct device *importer,
				    unsigned long start, unsigned long end,
				    dma_addr_t *pa, bool write)
{
	struct nvme_p2p_region *region = vma->vm_private_data;
	unsigned long off = ((vma->vm_pgoff << PAGE_SHIFT) + start - vma->vm_start);
	unsigned long i, npages = (end - start) >> PAGE_SHIFT;
	struct scatterlist *sg;
	struct nvme_p2p_map *map;
	int nent;
	long ret;

	if (start < vma->vm_start || end > vma->vm_end || start >= end ||
	    !PAGE_ALIGNED(start) || !PAGE_ALIGNED(end))
		return -EINVAL;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	map->importer = get_device(importer);
	map->start = start;
	map->end = end;
	map->dir = write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;

	mutex_lock(&region->lock);
	ret = -ENODEV;
	if (!region->kaddr)
		goto out_unlock;
	ret = -EINVAL;
	if (off + (end - start) > region->size)
		goto out_unlock;
	ret = sg_alloc_table(&map->sgt, 1, GFP_KERNEL);
	if (ret)
		goto out_unlock;
	sg_set_page(map->sgt.sgl, virt_to_page(region->kaddr + off),
		    end - start, 0);
	/* dma-direct/iommu decide: bus address, host bridge, or -EREMOTEIO. */
	ret = dma_map_sgtable(importer, &map->sgt, map->dir, 0);
	if (ret) {
		if (ret == -EREMOTEIO)
			dev_info(region->exp->ctrl->device,
				 "p2p: %s cannot reach the CMB peer to peer\n",
				 dev_name(importer));
		sg_free_table(&map->sgt);
		goto out_unlock;
	}
	i = 0;
	for_each_sgtable_dma_sg(&map->sgt, sg, nent) {
		dma_addr_t a = sg_dma_address(sg);
		unsigned int len;

		for (len = 0; len < sg_dma_len(sg) && i < npages;
		     len += PAGE_SIZE)
			pa[i++] = a + len;
	}
	map->first = pa[0];
	list_add(&map->node, &region->maps);
	mutex_unlock(&region->lock);
	return 0;

out_unlock:
	mutex_unlock(&region->lock);
	put_device(importer);
	kfree(map);
	return ret;
}

static long nvme_p2p_region_p2p_unmap(struct vm_area_struct *vma,
				      struct device *importer,
				      unsigned long start, unsigned long end,
				      dma_addr_t *pa)
{
	struct nvme_p2p_region *region = vma->vm_private_data;
	struct nvme_p2p_map *map;
	long ret = -ENOENT;

	mutex_lock(&region->lock);
	list_for_each_entry(map, &region->maps, node) {
		if (map->importer == importer && map->start == start &&
		    map->end == end && map->first == pa[0]) {
			nvme_p2p_map_free(map);
			ret = 0;
			break;
		}
	}
	mutex_unlock(&region->lock);
	return ret;
}

/* A region VMA is one piece: p2p_unmap finds its mappings by address. */
static int nvme_p2p_region_may_split(struct vm_area_struct *vma,
				     unsigned long addr)
{
	return -EINVAL;
}

static int nvme_p2p_region_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct nvme_p2p_region_vm_ops = {
	.fault = nvme_p2p_region_fault,
	.may_split = nvme_p2p_region_may_split,
	.mremap = nvme_p2p_region_mremap,
	.p2p_map = nvme_p2p_region_p2p_map,
	.p2p_unmap = nvme_p2p_region_p2p_unmap,
};

static int nvme_p2p_region_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct nvme_p2p_region *region = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long off = vma->vm_pgoff << PAGE_SHIFT;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > (region->size >> PAGE_SHIFT) ||
	    len > region->size - off)
		return -EINVAL;
	if (!READ_ONCE(region->kaddr))
		return -ENODEV;

	/* Device memory: no struct page semantics, no core dump, no fork. */
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
			  VM_DONTCOPY);
	vma->vm_ops = &nvme_p2p_region_vm_ops;
	vma->vm_private_data = region;
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
	nvme_put_ctrl(exp->ctrl);
	kfree(region);
	return 0;
}

static const struct file_operations nvme_p2p_region_fops = {
	.owner = THIS_MODULE,
	.mmap = nvme_p2p_region_mmap,
	.release = nvme_p2p_region_release,
};

static long nvme_p2p_region_create(struct nvme_p2p_export *exp,
				   const struct nvme_p2p_cmb *cmb,
				   void __user *argp)
{
	struct nvme_p2p_region_create arg;
	struct nvme_p2p_region *region;
	struct file *file;
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
	if (!cmb->size || READ_ONCE(exp->gone))
		return -ENODEV;
	arg.size = PAGE_ALIGN(arg.size);

	region = kzalloc(sizeof(*region), GFP_KERNEL);
	if (!region)
		return -ENOMEM;
	region->exp = exp;
	region->size = arg.size;
	region->flags = arg.flags;
	mutex_init(&region->lock);
	INIT_LIST_HEAD(&region->maps);
	INIT_LIST_HEAD(&region->node);

	region->kaddr = pci_alloc_p2pmem(exp->pdev, region->size);
	if (!region->kaddr) {
		ret = -ENOSPC;
		goto out_free;
	}
	arg.bus_addr = pci_p2pmem_virt_to_bus(exp->pdev, region->kaddr);
	arg.cmb_offset = arg.bus_addr - cmb->bus_start;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_free_mem;
	}
	/* Its own inode: unmap_mapping_range() then revokes just this region. */
	file = anon_inode_create_getfile("[nvme-p2p-region]",
					 &nvme_p2p_region_fops, region, O_RDWR,
					 NULL);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto out_put_fd;
	}
	region->mapping = file->f_mapping;

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
	nvme_get_ctrl(exp->ctrl);
	mutex_unlock(&exp->lock);
	fd_install(fd, file);
	return fd;

out_put_file:
	/* The file owns the region now: its release frees everything. */
	nvme_get_ctrl(exp->ctrl);
	fput(file);
	put_unused_fd(fd);
	return ret;
out_put_fd:
	put_unused_fd(fd);
out_free_mem:
	pci_free_p2pmem(exp->pdev, region->kaddr, region->size);
out_free:
	kfree(region);
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
	INIT_LIST_HEAD(&exp->regions);
}

/**
 * nvme_p2p_export_ioctl() - the nvme-p2p ioctls of the controller device
 * @exp: the controller's exporter state
 * @cmb: the CMB as the driver has set it up
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
	default:
		return -ENOTTY;
	}
}

/**
 * nvme_p2p_export_invalidate() - invalidate every importer of every region
 * @exp: the controller's exporter state
 *
 * For controller disable and reset: CPU mappings and importers are torn
 * down (mmu notifiers fire) while the regions keep their memory; the next
 * CPU access or p2p_map maps them again.
 */
void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_region *region;

	mutex_lock(&exp->lock);
	list_for_each_entry(region, &exp->regions, node)
		unmap_mapping_range(region->mapping, 0, 0, 1);
	mutex_unlock(&exp->lock);
}

/**
 * nvme_p2p_export_remove() - revoke every region for good
 * @exp: the controller's exporter state
 *
 * For controller removal, before the CMB goes away: every region's CPU
 * mappings and importers are invalidated and its memory is returned. The
 * region files stay valid; their mmap fails with -ENODEV and any CPU access
 * or p2p_map fails from then on.
 */
void nvme_p2p_export_remove(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_region *region, *tmp;

	mutex_lock(&exp->lock);
	exp->gone = true;
	list_for_each_entry_safe(region, tmp, &exp->regions, node) {
		list_del_init(&region->node);
		exp->nr_regions--;
		nvme_p2p_region_revoke(region);
	}
	mutex_unlock(&exp->lock);
}
