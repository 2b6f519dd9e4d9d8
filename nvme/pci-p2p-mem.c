// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-pci peer-to-peer exporter: what every export file shares.
 *
 * Regions and queue pairs hand userspace memory (a piece of the CMB, or
 * host pages) and controller registers through files whose mmap() is a
 * p2p VMA. This is their common plumbing: argument copying, the memory,
 * the importers' mappings made by p2p_map and undone by p2p_unmap or a
 * revoke, and the VMA rules (one piece, shared, never executable, not
 * inherited across fork).
 */
#include <linux/anon_inodes.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "nvme.h"
#include "pci-p2p.h"

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

/**
 * nvme_p2p_map_new() - a mapping for one importer, nothing mapped yet
 * @importer: the device that will DMA; referenced until the mapping is freed
 * @dir: the direction of its DMA
 *
 * Return: the mapping, or NULL.
 */
struct nvme_p2p_map *nvme_p2p_map_new(struct device *importer,
				      enum dma_data_direction dir)
{
	struct nvme_p2p_map *map = kzalloc(sizeof(*map), GFP_KERNEL);

	if (!map)
		return NULL;
	map->importer = get_device(importer);
	map->dir = dir;
	return map;
}

/**
 * nvme_p2p_map_free() - undo a mapping and free it
 * @map: the mapping, off any list
 */
void nvme_p2p_map_free(struct nvme_p2p_map *map)
{
	struct scatterlist *sg = map->sgt.sgl;

	if (map->kind == NVME_P2P_MAP_PAGES)
		dma_unmap_sgtable(map->importer, &map->sgt, map->dir, 0);
	else if (map->kind == NVME_P2P_MAP_RESOURCE)
		dma_unmap_resource(map->importer, sg_dma_address(sg),
				   sg_dma_len(sg), map->dir, 0);
	sg_free_table(&map->sgt);
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
 * nvme_p2p_route() - how an importer's DMA reaches the controller's BARs
 * @exp: the exporter
 * @importer: the device that will DMA
 * @what: what it would reach, for the kernel log
 *
 * Return: PCI_P2PDMA_MAP_BUS_ADDR (through a switch) or
 * PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, or -EREMOTEIO (and a log line saying
 * so) when it cannot reach the controller peer to peer.
 */
int nvme_p2p_route(struct nvme_p2p_export *exp, struct device *importer,
		   const char *what)
{
	int route, dist;

	route = pci_p2pdma_route(exp->pdev, importer, &dist);
	if (route == PCI_P2PDMA_MAP_BUS_ADDR ||
	    route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		return route;
	nvme_p2p_log_unreachable(exp, importer, what);
	return -EREMOTEIO;
}

/**
 * nvme_p2p_map_mem_sgt() - map exported memory for an importer
 * @exp: the exporter
 * @mem: the memory, allocated; the caller holds the lock guarding it
 * @off: byte offset in @mem, page aligned
 * @len: bytes, page aligned
 * @map: a new mapping: its sg_table is filled and DMA-mapped
 *
 * dma-direct or the IOMMU decide for CMB pages: bus address through a
 * switch, host bridge mapping, or -EREMOTEIO.
 *
 * Return: 0 or a negative errno (@map then holds nothing mapped).
 */
int nvme_p2p_map_mem_sgt(struct nvme_p2p_export *exp,
			 const struct nvme_p2p_mem *mem, unsigned long off,
			 size_t len, struct nvme_p2p_map *map)
{
	int ret;

	if (off > mem->size || len > mem->size - off)
		return -EINVAL;
	ret = sg_alloc_table(&map->sgt, 1, GFP_KERNEL);
	if (ret)
		return ret;
	sg_set_page(map->sgt.sgl, virt_to_page(mem->kaddr + off), len, 0);
	ret = dma_map_sgtable(map->importer, &map->sgt, map->dir, 0);
	if (ret) {
		if (ret == -EREMOTEIO)
			nvme_p2p_log_unreachable(exp, map->importer, "CMB");
		sg_free_table(&map->sgt);
		return ret;
	}
	map->kind = NVME_P2P_MAP_PAGES;
	return 0;
}

/**
 * nvme_p2p_map_bar_sgt() - map a controller BAR range for an importer
 * @exp: the exporter
 * @bar: the BAR
 * @off: byte offset in @bar, page aligned
 * @len: bytes, page aligned
 * @map: a new mapping: its sg_table gets one entry, with a DMA address
 *	and no page (registers have no struct page)
 *
 * The route p2pdma takes for CMB pages: bus addresses when a switch routes
 * the importer's traffic, dma_map_resource() through a host bridge,
 * -EREMOTEIO when it cannot reach the controller.
 *
 * Return: 0 or a negative errno (@map then holds nothing mapped).
 */
int nvme_p2p_map_bar_sgt(struct nvme_p2p_export *exp, int bar,
			 unsigned long off, size_t len,
			 struct nvme_p2p_map *map)
{
	struct scatterlist *sg;
	dma_addr_t addr;
	int route, ret;

	if (off > pci_resource_len(exp->pdev, bar) ||
	    len > pci_resource_len(exp->pdev, bar) - off)
		return -EINVAL;
	route = nvme_p2p_route(exp, map->importer, "doorbells");
	if (route < 0)
		return route;
	ret = sg_alloc_table(&map->sgt, 1, GFP_KERNEL);
	if (ret)
		return ret;
	if (route == PCI_P2PDMA_MAP_BUS_ADDR) {
		addr = pci_bus_address(exp->pdev, bar) + off;
		map->kind = NVME_P2P_MAP_BUS;
	} else {
		addr = dma_map_resource(map->importer,
					pci_resource_start(exp->pdev, bar) + off,
					len, map->dir, 0);
		if (dma_mapping_error(map->importer, addr)) {
			sg_free_table(&map->sgt);
			return -EIO;
		}
		map->kind = NVME_P2P_MAP_RESOURCE;
	}
	sg = map->sgt.sgl;
	sg_set_page(sg, NULL, len, 0);
	sg_dma_address(sg) = addr;
	sg_dma_len(sg) = len;
	return 0;
}

/* p2p_map's end: one DMA address per page of the VMA range, and keep it. */
static void nvme_p2p_map_add(struct nvme_p2p_maps *maps,
			     struct nvme_p2p_map *map, unsigned long start,
			     unsigned long end, dma_addr_t *pa)
{
	unsigned long i = 0, npages = (end - start) >> PAGE_SHIFT;
	struct scatterlist *sg;
	unsigned int len;
	int nent;

	for_each_sgtable_dma_sg(&map->sgt, sg, nent)
		for (len = 0; len < sg_dma_len(sg) && i < npages;
		     len += PAGE_SIZE)
			pa[i++] = sg_dma_address(sg) + len;
	map->start = start;
	map->end = end;
	map->first = pa[0];
	mutex_lock(&maps->lock);
	list_add(&map->node, &maps->list);
	maps->nr++;
	mutex_unlock(&maps->lock);
}

static enum dma_data_direction nvme_p2p_dir(bool write)
{
	return write ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
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
 * Return: 0 or a negative errno.
 */
long nvme_p2p_map_mem(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      const struct nvme_p2p_mem *mem, unsigned long off,
		      struct device *importer, unsigned long start,
		      unsigned long end, dma_addr_t *pa, bool write)
{
	struct nvme_p2p_map *map = nvme_p2p_map_new(importer,
						     nvme_p2p_dir(write));
	int ret;

	if (!map)
		return -ENOMEM;
	ret = nvme_p2p_map_mem_sgt(exp, mem, off, end - start, map);
	if (ret) {
		nvme_p2p_map_free(map);
		return ret;
	}
	nvme_p2p_map_add(maps, map, start, end, pa);
	return 0;
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
 * Return: 0 or a negative errno.
 */
long nvme_p2p_map_bar(struct nvme_p2p_export *exp, struct nvme_p2p_maps *maps,
		      int bar, unsigned long off, struct device *importer,
		      unsigned long start, unsigned long end, dma_addr_t *pa,
		      bool write)
{
	struct nvme_p2p_map *map = nvme_p2p_map_new(importer,
						     nvme_p2p_dir(write));
	int ret;

	if (!map)
		return -ENOMEM;
	ret = nvme_p2p_map_bar_sgt(exp, bar, off, end - start, map);
	if (ret) {
		nvme_p2p_map_free(map);
		return ret;
	}
	nvme_p2p_map_add(maps, map, start, end, pa);
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

/**
 * nvme_p2p_file_create() - a new export file
 * @exp: the exporter
 * @name: the anon inode's name
 * @fops: the file's operations; their release must nvme_put_ctrl()
 * @priv: the file's private data
 * @fdp: out: the descriptor reserved for it, not yet installed
 *
 * The file has an inode of its own, so that unmap_mapping_range() on it
 * revokes exactly its CPU mappings and importers. Every export file holds
 * a reference to the controller from here until its release.
 *
 * Return: the file, or an ERR_PTR().
 */
struct file *nvme_p2p_file_create(struct nvme_p2p_export *exp,
				  const char *name,
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
	nvme_get_ctrl(exp->ctrl);
	*fdp = fd;
	return file;
}
