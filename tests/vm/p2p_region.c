// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-export-regions */
/*
 * VM test: CMB data regions of the nvme-p2p exporter, through the uapi.
 * Runs in the testbed guest as root; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>

#include "p2p_test.h"

/* Map the region fd (inherited) in the child itself and store to it. */
static void map_and_touch(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		       *(int *)arg, 0);

	if (p == MAP_FAILED)
		_exit(2);
	touch(p);
}

static void exit_with_live_mapping(void *arg)
{
	int ctrl = *(int *)arg;
	int fd = region(ctrl, 2 * MiB, 0, NULL);
	void *p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p != MAP_FAILED)
		memset(p, 0x5a, 4096);
	_exit(0);	/* no munmap, no close */
}

static void test_info(int ctrl, long long *free0)
{
	struct nvme_p2p_info in;
	unsigned char big[sizeof(in) + 16];
	uint32_t want = NVME_P2P_INFO_CMB | NVME_P2P_INFO_CMB_SQS |
		NVME_P2P_INFO_CMB_LISTS | NVME_P2P_INFO_CMB_RDS |
		NVME_P2P_INFO_CMB_WDS;

	result(info(ctrl, &in) == 0, "INFO succeeds");
	result(in.cmb_size == CMB_BYTES, "INFO cmb_size is 64 MiB (%llu)",
	       (unsigned long long)in.cmb_size);
	result((in.flags & (want | NVME_P2P_INFO_CMB_CQS)) == want,
	       "INFO flags: CMB SQS LISTS RDS WDS set, CQS clear (0x%x)", in.flags);
	result((in.cmbsz & 0x1f) == 0x1d, "INFO cmbsz raw register 0x%x", in.cmbsz);
	result(in.db_stride == 4, "INFO doorbell stride 4 bytes (%u)", in.db_stride);
	result(in.regions == 0, "INFO no regions yet (%u)", in.regions);
	result((long long)in.cmb_free == sysfs_num("p2pmem/available"),
	       "INFO cmb_free (%llu) equals sysfs p2pmem/available",
	       (unsigned long long)in.cmb_free);
	*free0 = in.cmb_free;

	memset(&in, 0, sizeof(in));
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO argsz 0");
	info(ctrl, &in);
	in.flags = 0;
	in.reserved[2] = 1;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO nonzero reserved");
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in);
	in.flags = 1;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO nonzero flags");
	memset(big, 0, sizeof(big));
	((struct nvme_p2p_info *)big)->argsz = sizeof(big);
	result(ioctl(ctrl, NVME_P2P_IOCTL_INFO, big) == 0,
	       "INFO larger argsz with a zero tail is accepted");
	result(((struct nvme_p2p_info *)big)->argsz == sizeof(in),
	       "INFO reports the size it filled in argsz");
	memset(big, 0, sizeof(big));
	((struct nvme_p2p_info *)big)->argsz = sizeof(big);
	big[sizeof(in) + 3] = 1;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_INFO, big), E2BIG,
		   "INFO larger argsz with a nonzero tail");
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_INFO, (void *)8), EFAULT, "INFO bad pointer");
	expect_err(ioctl(ctrl, _IOWR('N', 0xcf, struct nvme_p2p_info), &in), ENOTTY,
		   "unknown nvme-p2p ioctl");
}

static void test_region_create_errors(int ctrl, long long free0)
{
	struct nvme_p2p_region_create rc;

	expect_err(region(ctrl, 0, 0, NULL), EINVAL, "REGION size 0");
	expect_err(region(ctrl, 4095, 0, NULL), EINVAL, "REGION size 4095");
	expect_err(region(ctrl, 4096 + 512, 0, NULL), EINVAL, "REGION size not 4 KiB granular");
	expect_err(region(ctrl, 4096, 0x80, NULL), EINVAL, "REGION unknown flag");
	expect_err(region(ctrl, 128 * MiB, 0, NULL), ENOSPC, "REGION larger than the CMB");
	expect_err(region(ctrl, UINT64_MAX & ~4095ULL, 0, NULL), ENOSPC, "REGION of 2^64-4096 bytes");
	memset(&rc, 0, sizeof(rc));
	rc.argsz = sizeof(rc);
	rc.size = 4096;
	rc.reserved[0] = 7;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION nonzero reserved");
	rc.reserved[0] = 0;
	rc.bus_addr = 1;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION nonzero output field");
	rc.bus_addr = 0;
	rc.argsz = 8;
	expect_err(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION argsz too small");
	result(cmb_free(ctrl) == free0, "failed creates allocated nothing");
}

static void test_region_cpu(int ctrl, long long free0)
{
	struct nvme_p2p_region_create rc;
	size_t size = 1 * MiB, i;
	long long bar2_start = -1, bar2_end = -1;
	unsigned char *p, *bar;
	char path[512];
	FILE *f;
	int fd, bar_fd, ok;

	fd = region(ctrl, size, 0, &rc);
	result(fd >= 0, "REGION 1 MiB created (fd %d)", fd);
	if (fd < 0)
		return;
	result(cmb_free(ctrl) == free0 - (long long)size, "cmb_free dropped by 1 MiB");
	snprintf(path, sizeof(path), "%sresource", pci_dir);
	f = fopen(path, "r");
	for (i = 0; f && i < 3; i++)
		if (fscanf(f, "%lli %lli %*i", &bar2_start, &bar2_end) != 2)
			break;
	if (f)
		fclose(f);
	result(rc.bus_addr >= (uint64_t)bar2_start && rc.bus_addr + size - 1 <= (uint64_t)bar2_end,
	       "region bus address 0x%llx lies in BAR2 [0x%llx, 0x%llx]",
	       (unsigned long long)rc.bus_addr, bar2_start, bar2_end);
	result(rc.cmb_offset == rc.bus_addr - (uint64_t)bar2_start,
	       "cmb_offset 0x%llx is the offset in BAR2", (unsigned long long)rc.cmb_offset);

	expect_err(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), EINVAL,
		   "mmap MAP_PRIVATE");
	expect_err(mmap(NULL, 2 * size, PROT_READ, MAP_SHARED, fd, 0), EINVAL,
		   "mmap longer than the region");
	expect_err(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, size), EINVAL,
		   "mmap at an offset past the end");
	expect_err(mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, size - 4096), EINVAL,
		   "mmap running past the end");
	expect_err(mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0), EPERM,
		   "mmap with PROT_EXEC");

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(p != MAP_FAILED, "mmap of the whole region");
	if (p == MAP_FAILED)
		return;
	expect_err(mprotect(p, size, PROT_READ | PROT_EXEC), EACCES,
		   "mprotect to PROT_EXEC");
	fill(p, size, 3);
	/* The CMB through the BAR itself: the bytes really are in the CMB. */
	snprintf(path, sizeof(path), "%sresource2", pci_dir);
	bar_fd = open(path, O_RDWR | O_SYNC);
	bar = bar_fd < 0 ? MAP_FAILED :
		mmap(NULL, CMB_BYTES, PROT_READ, MAP_SHARED, bar_fd, 0);
	ok = bar != MAP_FAILED && same(bar + rc.cmb_offset, size, 3);
	result(ok, "1 MiB written through the region reads back through BAR2 at cmb_offset");
	if (bar != MAP_FAILED)
		munmap(bar, CMB_BYTES);
	if (bar_fd >= 0)
		close(bar_fd);

	expect_err(munmap(p + 4096, 4096), EINVAL, "munmap of part of a region VMA");
	result(child_signal(touch, p) == SIGSEGV, "a forked child does not inherit the mapping");

	close(fd);
	result(same(p, size, 3),
	       "the mapping outlives the descriptor");
	result(cmb_free(ctrl) == free0 - (long long)size, "memory held while mapped");
	expect_err(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), EBADF,
		   "mmap after close");
	result(munmap(p, size) == 0, "munmap of the whole region");
	result(cmb_free(ctrl) == free0, "memory returned after close and munmap");
}

static void test_no_cpu_map(int ctrl, long long free0)
{
	int fd = region(ctrl, 64 * 1024, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	void *p;

	result(fd >= 0, "REGION with NO_CPU_MAP created");
	if (fd < 0)
		return;
	p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(p != MAP_FAILED, "mmap of a NO_CPU_MAP region (a handle for peers)");
	if (p != MAP_FAILED)
		munmap(p, 64 * 1024);
	result(child_signal(map_and_touch, &fd) == SIGBUS, "a CPU store to it raises SIGBUS");
	close(fd);
	result(cmb_free(ctrl) == free0, "NO_CPU_MAP region memory returned");
}

static void test_lifetime(int ctrl, long long free0)
{
	struct nvme_p2p_info in;
	int fds[8], i, ok = 1;
	long long worst = free0;

	result(child_signal(exit_with_live_mapping, &ctrl) == 0 && cmb_free(ctrl) == free0,
	       "process exit with a live region mapping returns the memory");

	for (i = 0; i < 8; i++)
		fds[i] = region(ctrl, 8 * MiB, 0, NULL);
	info(ctrl, &in);
	result(in.regions == 8 || fds[7] < 0, "INFO counts live regions (%u)", in.regions);
	for (i = 0; i < 8; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	info(ctrl, &in);
	result(in.regions == 0, "closed regions are no longer counted");

	for (i = 0; i < 1000 && ok; i++) {
		int fd = region(ctrl, (i % 16 + 1) * 4096, i & 1 ? NVME_P2P_REGION_NO_CPU_MAP : 0, NULL);
		long long f = cmb_free(ctrl);

		if (f < worst)
			worst = f;
		ok = fd >= 0 && close(fd) == 0;
	}
	result(ok, "1000 region create/close cycles succeed");
	result(cmb_free(ctrl) == free0, "after 1000 cycles cmb_free is back to %lld", free0);
}

static void test_p2p_map(int ctrl, long long free0)
{
	const char *edu = getenv("EDU_SWITCH"), *far = getenv("EDU_ROOT_BUS");
	struct nvme_p2p_region_create rc;
	unsigned long long first = 0, last = 0;
	size_t size = 1 * MiB;
	void *p;
	long ret;
	int fd;

	if (access(P2P_MAP_TEST, W_OK) || !edu || !far) {
		result(1, "p2p_map tests # SKIP p2p_map_test module or edu peers missing");
		return;
	}
	fd = region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(p != MAP_FAILED, "NO_CPU_MAP region of 1 MiB mapped as a handle for peers");
	if (p == MAP_FAILED)
		return;
	ret = p2p_map_as(edu, p, size, 1, &first, &last);
	result(ret == 0, "p2p_map for the edu behind the switch (%s) succeeds (%ld)", edu, ret);
	result(first == rc.bus_addr && last == rc.bus_addr + size - 4096,
	       "it hands out the region's bus addresses 0x%llx..0x%llx (region at 0x%llx)",
	       first, last, (unsigned long long)rc.bus_addr);
	ret = p2p_map_as(edu, (char *)p + 64 * 1024, 8192, 0, &first, &last);
	result(ret == 0 && first == rc.bus_addr + 64 * 1024,
	       "a sub-range maps at its offset (0x%llx)", first);
	ret = p2p_map_as(far, p, size, 1, &first, &last);
	result(ret == -EREMOTEIO, "p2p_map for the edu on the root bus (%s): EREMOTEIO (%ld)",
	       far, ret);
	result(kernel_log_has(far, "cannot reach the CMB peer to peer"),
	       "the kernel log says why %s was refused", far);
	munmap(p, size);
	close(fd);
	result(cmb_free(ctrl) == free0, "every p2p_map was undone: memory returned");
}

/* A controller reset invalidates mappings but keeps regions and memory. */
static void test_reset(int ctrl, long long free0)
{
	struct nvme_p2p_info in;
	size_t size = 64 * 1024;
	unsigned char *p;
	int fd = region(ctrl, size, 0, NULL);

	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(p != MAP_FAILED, "region mapped before a controller reset");
	if (p == MAP_FAILED)
		return;
	fill(p, size, 1);
	result(ioctl(ctrl, NVME_IOCTL_RESET) == 0, "controller reset (NVME_IOCTL_RESET)");
	info(ctrl, &in);
	result(in.regions == 1, "the region survives the reset (INFO regions %u)", in.regions);
	result(same(p, size, 1), "its contents read back through the re-faulted mapping");
	fill(p, size, 2);
	result(same(p, size, 2), "and it takes new stores");
	munmap(p, size);
	close(fd);
	result(cmb_free(ctrl) == free0, "memory returned after the reset test");
}

/* Unbinding the driver revokes every region for good; rebinding works. */
static void test_unbind(int ctrl)
{
	char bdf[64] = "";
	size_t size = 64 * 1024;
	unsigned char *p;
	int fd, i, again = -1;

	ctrl_bdf(bdf, sizeof(bdf));
	fd = region(ctrl, size, 0, NULL);
	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(p != MAP_FAILED && bdf[0], "region mapped before unbinding %s", bdf);
	if (p == MAP_FAILED || !bdf[0])
		return;
	fill(p, size, 3);
	result(write_sysfs("/sys/bus/pci/drivers/nvme/unbind", bdf) == 0,
	       "unbind %s from nvme with a region mapped", bdf);
	result(sigbus_on_touch(p), "a CPU store to the revoked mapping raises SIGBUS");
	if (getenv("EDU_SWITCH")) {
		unsigned long long first, last;
		long ret = p2p_map_as(getenv("EDU_SWITCH"), p, size, 1, &first, &last);

		result(ret == -ENODEV, "p2p_map of the revoked region: ENODEV (%ld)", ret);
	}
	expect_err(mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0), ENODEV,
		   "mmap of a revoked region");
	expect_err(region(ctrl, 4096, 0, NULL), ENODEV,
		   "REGION on a removed controller");
	munmap(p, size);
	close(fd);
	close(ctrl);
	result(write_sysfs("/sys/bus/pci/drivers/nvme/bind", bdf) == 0, "bind %s again", bdf);
	for (i = 0; i < 100 && again < 0; i++) {
		again = open_ctrl("p2p0");
		if (again < 0)
			usleep(100 * 1000);
	}
	result(again >= 0, "the controller is back (serial p2p0)");
	if (again >= 0) {
		struct nvme_p2p_info in;

		result(info(again, &in) == 0 && in.cmb_size == CMB_BYTES && in.regions == 0 &&
		       (long long)in.cmb_free == sysfs_num("p2pmem/available"),
		       "its CMB is registered again, no regions, free %llu",
		       (unsigned long long)in.cmb_free);
		close(again);
	}
}

int main(void)
{
	long long free0;
	int ctrl = open_ctrl("p2p0");

	if (ctrl < 0) {
		printf("not ok 1 - open the CMB controller (serial p2p0): %s\n1..1\n",
		       strerror(errno));
		return 1;
	}
	test_info(ctrl, &free0);
	test_region_create_errors(ctrl, free0);
	test_region_cpu(ctrl, free0);
	test_no_cpu_map(ctrl, free0);
	test_lifetime(ctrl, free0);
	test_reset(ctrl, free0);
	test_p2p_map(ctrl, free0);
	result(cmb_free(ctrl) == free0 && sysfs_num("p2pmem/available") == free0,
	       "no CMB leaked by the whole test");
	test_unbind(ctrl);
	return done_testing();
}
