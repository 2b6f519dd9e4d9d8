// SPDX-License-Identifier: GPL-2.0
/*
 * Test module: call a VMA's p2p_map/p2p_unmap for a chosen PCI device, the
 * way an importer would, and report what the exporter handed out.
 *
 * Write "<pci-bdf> <user-address> <length> <write:0|1>" to
 * /sys/kernel/debug/p2p_map_test/map (in the process that owns the mapping);
 * read it back for "ret=<errno or 0> first=<addr> last=<addr>". The range is
 * unmapped again before the write returns: this checks the exporter's side
 * of the contract, not an importer's life cycle.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

static struct dentry *dir;
static DEFINE_MUTEX(result_lock);
static char result[128];

static long map_once(struct pci_dev *pdev, unsigned long start,
		     unsigned long len, bool write, dma_addr_t *first,
		     dma_addr_t *last)
{
	unsigned long npages = len >> PAGE_SHIFT;
	struct vm_area_struct *vma;
	dma_addr_t *pa;
	long ret;

	pa = kvcalloc(npages, sizeof(*pa), GFP_KERNEL);
	if (!pa)
		return -ENOMEM;
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, start);
	ret = -EFAULT;
	if (!vma || start + len > vma->vm_end)
		goto out;
	ret = -EOPNOTSUPP;
	if (!vma->vm_ops || !vma->vm_ops->p2p_map)
		goto out;
	ret = vma->vm_ops->p2p_map(vma, &pdev->dev, start, start + len, pa,
				   write);
	if (ret)
		goto out;
	*first = pa[0];
	*last = pa[npages - 1];
	ret = vma->vm_ops->p2p_unmap(vma, &pdev->dev, start, start + len, pa);
out:
	mmap_read_unlock(current->mm);
	kvfree(pa);
	return ret;
}

static ssize_t map_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	unsigned int domain, bus, slot, fn, write;
	unsigned long start, len;
	dma_addr_t first = 0, last = 0;
	struct pci_dev *pdev;
	char buf[96];
	long ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	if (sscanf(buf, "%x:%x:%x.%x %lx %lx %u", &domain, &bus, &slot, &fn,
		   &start, &len, &write) != 7 ||
	    !len || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(len))
		return -EINVAL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, fn));
	if (!pdev)
		return -ENODEV;
	ret = map_once(pdev, start, len, write, &first, &last);
	pci_dev_put(pdev);

	mutex_lock(&result_lock);
	snprintf(result, sizeof(result), "ret=%ld first=%#llx last=%#llx\n",
		 ret, (unsigned long long)first, (unsigned long long)last);
	mutex_unlock(&result_lock);
	return count;
}

static ssize_t map_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&result_lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, result,
				      strlen(result));
	mutex_unlock(&result_lock);
	return ret;
}

static const struct file_operations map_fops = {
	.owner = THIS_MODULE,
	.read = map_read,
	.write = map_write,
	.llseek = default_llseek,
};

static int __init p2p_map_test_init(void)
{
	dir = debugfs_create_dir("p2p_map_test", NULL);
	debugfs_create_file("map", 0600, dir, NULL, &map_fops);
	return 0;
}

static void __exit p2p_map_test_exit(void)
{
	debugfs_remove_recursive(dir);
}

module_init(p2p_map_test_init);
module_exit(p2p_map_test_exit);
MODULE_DESCRIPTION("Exercise p2p_map/p2p_unmap of peer-to-peer VMAs");
MODULE_LICENSE("GPL");
