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
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pid.h>
#include <linux/scatterlist.h>
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
};

/*
 * One successful p2p_map, kept so that p2p_unmap can undo exactly it:
 * pages mapped with an sg_table, or a BAR range (bus addresses need no
 * undoing; a host bridge mapping does).
 */
struct nvme_p2p_map {
	struct list_head node;
	struct device *importer;
	unsigned long start, end;
	dma_addr_t first;
	enum dma_data_direction dir;
	struct sg_table sgt;		/* pages; sgt.sgl NULL for a BAR */
	bool resource;			/* BAR mapped with dma_map_resource() */
};

/* Copy an extensible argument struct in: see the uapi header's rules. */
int nvme_p2p_copy_args(void *karg, size_t ksize, size_t min,
		       void __user *uarg)
{
	u32 argsz;

	if (get_user(argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (argsz < min)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, argsz);
}

bool nvme_p2p_reserved_zero(const u64 *reserved, size_t n)
{
	while (n--)
		if (reserved[n])
			return false;
	return true;
}

/*
 * Allocate contiguous memory for an export: from the CMB's p2pmem pool
 * (shared with the driver's own CMB SQs, so neither overcommits it) or
 * host pages kept DMA-mapped for the controller. Zeroed either way.
 */
int nvme_p2p_mem_alloc(struct nvme_p2p_export *exp, struct nvme_p2p_mem *mem,
		       size_t size, bool host)
{
	struct device *dma_dev = &exp->pdev->dev;
	struct page *page;

	mem->size = PAGE_ALIGN(size);
	mem->host = host;
	if (!host) {
		mem->kaddr = pci_alloc_p2pmem(exp->pdev, mem->size);
		if (!mem->kaddr)
			return -ENOSPC;
		memset_io((void __iomem *)mem->kaddr, 0, mem->size);
		mem->ctrl_addr = pci_p2pmem_virt_to_bus(exp->pdev, mem->kaddr);
		return 0;
	}

	page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN,
			   get_order(mem->size));
	if (!page)
		return -ENOMEM;
	mem->ctrl_addr = dma_map_page(dma_dev, page, 0, mem->size,
				      DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dma_dev, mem->ctrl_addr)) {
		__free_pages(page, get_order(mem->size));
		return -ENOMEM;
	}
	mem->kaddr = page_address(page);
	return 0;
}

void nvme_p2p_mem_free(struct nvme_p2p_export *exp, struct nvme_p2p_mem *mem)
{
	if (!mem->kaddr)
		return;
	if (mem->host) {
		dma_unmap_page(&exp->pdev->dev, mem->ctrl_addr, mem->size,
			       DMA_BIDIRECTIONAL);
		__free_pages(virt_to_page(mem->kaddr), get_order(mem->size));
	} else {
		pci_free_p2pmem(exp->pdev, mem->kaddr, mem->size);
	}
	mem->kaddr = NULL;
}

unsigned long nvme_p2p_mem_pfn(const struct nvme_p2p_mem *mem,
			       unsigned long off)
{
	return page_to_pfn(virt_to_page(mem->kaddr + off));
}

/* Undo one mapping, already off its list. */
static void nvme_p2p_map_free(struct nvme_p2p_map *map)
{
	if (map->sgt.sgl) {
		dma_unmap_sgtable(map->importer, &map->sgt, map->dir, 0);
		sg_free_table(&map->sgt);
	} else if (map->resource) {
		dma_unmap_resource(map->importer, map->first,
				   map->end - map->start, map->dir, 0);
	}
	put_device(map->importer);
	kfree(map);
}

static struct nvme_p2p_map *nvme_p2p_map_new(struct device *importer,
					     unsigned long start,
					     unsigned long end, bool write)
{
	struct nvme_p2p_map *map = kzalloc(sizeof(*map), GFP_KERNEL);

	if (!map)
		return NULL;
	map->importer = get_device(importer);
	map->start = start;
	map->end = end;
	map->dir = write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
	return map;
}

static void nvme_p2p_map_add(struct nvme_p2p_maps *maps,
			     struct nvme_p2p_map *map, dma_addr_t *pa)
{
	map->first = pa[0];
	mutex_lock(&maps->lock);
	list_add(&map->node, &maps->list);
	maps->nr++;
	mutex_unlock(&maps->lock);
}

static void nvme_p2p_map_drop(struct nvme_p2p_map *map)
{
	put_device(map->importer);
	kfree(map);
}

static void nvme_p2p_log_unreachable(struct nvme_p2p_export *exp,
				     struct device *importer, const char *what)
{
	dev_info(exp->ctrl->device, "p2p: %s cannot reach the %s peer to peer\n",
		 dev_name(importer), what);
}

/**
 * nvme_p2p_map_mem() - p2p_map of exported memory for one importer
 * @exp: the exporter
 * @maps: the export file's mappings
 * @mem: the memory, allocated; the caller holds the lock guarding it
 * @off: byte offset in @mem of @start
 * @importer: the device that will DMA
 * @start: first user address (page aligned)
 * @end: end user address (page aligned)
 * @pa: out: one DMA address per page
 * @write: the importer will write
 *
 * dma-direct or the IOMMU decide for CMB pages: bus address through a
 * switch, host bridge mapping, or -EREMOTEIO.
 *
 * Return: 0 or a negative errno.
 */
long nvme_p2p_map_mem(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      const struct nvme_p2p_mem *mem, unsigned long off,
		      struct device *importer, unsigned long start,
		      unsigned long end, dma_addr_t *pa, bool write)
{
	unsigned long i = 0, npages = (end - start) >> PAGE_SHIFT;
	struct nvme_p2p_map *map;
	struct scatterlist *sg;
	int nent;
	long ret;

	if (off + (end - start) > mem->size)
		return -EINVAL;
	map = nvme_p2p_map_new(importer, start, end, write);
	if (!map)
		return -ENOMEM;
	ret = sg_alloc_table(&map->sgt, 1, GFP_KERNEL);
	if (ret)
		goto out_drop;
	sg_set_page(map->sgt.sgl, virt_to_page(mem->kaddr + off), end - start, 0);
	ret = dma_map_sgtable(importer, &map->sgt, map->dir, 0);
	if (ret) {
		if (ret == -EREMOTEIO)
			nvme_p2p_log_unreachable(exp, importer, "CMB");
		sg_free_table(&map->sgt);
		goto out_drop;
	}
	for_each_sgtable_dma_sg(&map->sgt, sg, nent) {
		dma_addr_t a = sg_dma_address(sg);
		unsigned int len;

		for (len = 0; len < sg_dma_len(sg) && i < npages;
		     len += PAGE_SIZE)
			pa[i++] = a + len;
	}
	nvme_p2p_map_add(maps, map, pa);
	return 0;

out_drop:
	nvme_p2p_map_drop(map);
	return ret;
}

/**
 * nvme_p2p_map_bar() - p2p_map of a controller BAR range (no struct pages)
 * @exp: the exporter
 * @maps: the export file's mappings
 * @bar: the BAR
 * @off: byte offset in @bar of @start
 * @importer: the device that will DMA
 * @start: first user address (page aligned)
 * @end: end user address (page aligned)
 * @pa: out: one DMA address per page
 * @write: the importer will write
 *
 * The same route p2pdma takes for CMB pages: bus addresses when a switch
 * routes the importer's traffic, dma_map_resource() through a host bridge,
 * -EREMOTEIO when it cannot reach the controller.
 *
 * Return: 0 or a negative errno.
 */
long nvme_p2p_map_bar(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      int bar, unsigned long off, struct device *importer,
		      unsigned long start, unsigned long end, dma_addr_t *pa,
		      bool write)
{
	unsigned long i, npages = (end - start) >> PAGE_SHIFT;
	struct nvme_p2p_map *map;
	dma_addr_t base;
	int route, dist;

	if (off + (end - start) > pci_resource_len(exp->pdev, bar))
		return -EINVAL;
	route = pci_p2pdma_route(exp->pdev, importer, &dist);
	if (route != PCI_P2PDMA_MAP_BUS_ADDR &&
	    route != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE) {
		nvme_p2p_log_unreachable(exp, importer, "doorbells");
		return -EREMOTEIO;
	}
	map = nvme_p2p_map_new(importer, start, end, write);
	if (!map)
		return -ENOMEM;
	if (route == PCI_P2PDMA_MAP_BUS_ADDR) {
		base = pci_bus_address(exp->pdev, bar) + off;
	} else {
		base = dma_map_resource(importer,
					pci_resource_start(exp->pdev, bar) + off,
					end - start, map->dir, 0);
		if (dma_mapping_error(importer, base)) {
			nvme_p2p_map_drop(map);
			return -EIO;
		}
		map->resource = true;
	}
	for (i = 0; i < npages; i++)
		pa[i] = base + (i << PAGE_SHIFT);
	nvme_p2p_map_add(maps, map, pa);
	return 0;
}

/**
 * nvme_p2p_unmap() - p2p_unmap: undo the mapping p2p_map made
 * @maps: the export file's mappings
 * @importer: as given to p2p_map
 * @start: as given to p2p_map
 * @end: as given to p2p_map
 * @pa: as p2p_map filled it
 *
 * Return: 0, or -ENOENT when no such mapping exists (never made, or
 * already undone by a revoke).
 */
long nvme_p2p_unmap(struct nvme_p2p_maps *maps, struct device *importer,
		    unsigned long start, unsigned long end, dma_addr_t *pa)
{
	struct nvme_p2p_map *map;

	mutex_lock(&maps->lock);
	list_for_each_entry(map, &maps->list, node) {
		if (map->importer == importer && map->start == start &&
		    map->end == end && map->first == pa[0]) {
			list_del(&map->node);
			maps->nr--;
			mutex_unlock(&maps->lock);
			nvme_p2p_map_free(map);
			return 0;
		}
	}
	mutex_unlock(&maps->lock);
	return -ENOENT;
}

/* After a revoke: undo what importers failed to unmap, loudly. */
void nvme_p2p_unmap_all(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps)
{
	struct nvme_p2p_map *map, *tmp;
	LIST_HEAD(left);

	mutex_lock(&maps->lock);
	list_splice_init(&maps->list, &left);
	maps->nr = 0;
	mutex_unlock(&maps->lock);
	list_for_each_entry_safe(map, tmp, &left, node) {
		dev_warn(exp->ctrl->device,
			 "p2p: %s did not unmap a revoked mapping\n",
			 dev_name(map->importer));
		nvme_p2p_map_free(map);
	}
}

int nvme_p2p_vma_check(struct vm_area_struct *vma, unsigned long start,
		       unsigned long end)
{
	if (start < vma->vm_start || end > vma->vm_end || start >= end ||
	    !PAGE_ALIGNED(start) || !PAGE_ALIGNED(end))
		return -EINVAL;
	return 0;
}

/* Every export mmap: shared, never executable (EPERM, as noexec mounts). */
int nvme_p2p_vma_check_flags(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	return 0;
}

/*
 * Device memory: no struct page semantics for the CPU, no core dump, not
 * inherited across fork, never made executable later.
 */
void nvme_p2p_vma_setup(struct vm_area_struct *vma,
			const struct vm_operations_struct *ops, void *priv)
{
	vm_flags_mod(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY, VM_MAYEXEC);
	vma->vm_ops = ops;
	vma->vm_private_data = priv;
}

/* An export VMA is one piece: p2p_unmap finds its mappings by address. */
int nvme_p2p_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

int nvme_p2p_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

/*
 * A new export file with an inode of its own, so that unmap_mapping_range()
 * on it revokes exactly its CPU mappings and importers. The descriptor is
 * reserved, not installed.
 */
struct file *nvme_p2p_file_create(const char *name,
				  const struct file_operations *fops,
				  void *priv, int *fdp)
{
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return ERR_PTR(fd);
	file = anon_inode_create_getfile(name, fops, priv, O_RDWR, NULL);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return file;
	}
	*fdp = fd;
	return file;
}

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
	INIT_LIST_HEAD(&region->node);

	ret = nvme_p2p_mem_alloc(exp, &region->mem, arg.size, host);
	if (ret)
		goto out_free;
	arg.bus_addr = region->mem.ctrl_addr;
	arg.cmb_offset = host ? 0 : arg.bus_addr - cmb->bus_start;

	file = nvme_p2p_file_create("[nvme-p2p-region]", &nvme_p2p_region_fops,
				    region, &fd);
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
	if (info.flags || info.reserved0 ||
	    !nvme_p2p_reserved_zero(info.reserved, ARRAY_SIZE(info.reserved)))
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
 * marked resetting until nvme_p2p_export_restore() re-creates them.
 */
void nvme_p2p_export_invalidate(struct nvme_p2p_export *exp)
{
	struct nvme_p2p_region *region;

	mutex_lock(&exp->lock);
	list_for_each_entry(region, &exp->regions, node)
		unmap_mapping_range(region->mapping, 0, 0, 1);
	mutex_unlock(&exp->lock);
	nvme_p2p_queues_invalidate(exp);
}

/**
 * nvme_p2p_export_restore() - re-create exported queues after a reset
 * @exp: the controller's exporter state
 *
 * Called once the driver's own I/O queues are set up again: each exported
 * queue pair is created anew at its queue ID with empty rings, and its
 * generation is bumped; one that cannot be is revoked for good.
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
