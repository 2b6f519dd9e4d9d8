// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-export-CMB-data-regions-as-peer-to-peer */
/*
 * VM test: CMB data regions of the nvme-p2p exporter, through the uapi, on
 * the kselftest harness: one test per aspect, on the controller whose
 * serial $SERIAL_CMB names, each checked for leaked CMB bytes, regions and
 * queues after its process exits (P2P_CMB_FIXTURE, p2p_harness.h). The
 * p2p_map tests want the p2p_map_test module and $EDU_SWITCH,
 * $EDU_ROOT_BUS (tests/vm/run provides them). Runs in the testbed guest as
 * root; prints TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>

#include "p2p_harness.h"

P2P_CMB_FIXTURE(cmb)

static void exit_with_live_mapping(void *arg)
{
	int ctrl = *(int *)arg;
	int fd = region(ctrl, 2 * MiB, 0, NULL);
	void *p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p != MAP_FAILED)
		memset(p, 0x5a, 4096);
	_exit(0);	/* no munmap, no close */
}

TEST_F(cmb, info)
{
	int ctrl = self->ctrl;
	struct nvme_p2p_info in;
	unsigned char big[sizeof(in) + 16];
	uint32_t want = NVME_P2P_INFO_CMB | NVME_P2P_INFO_CMB_SQS |
		NVME_P2P_INFO_CMB_LISTS | NVME_P2P_INFO_CMB_RDS |
		NVME_P2P_INFO_CMB_WDS;

	CHECK(info(ctrl, &in) == 0, "INFO succeeds");
	CHECK(in.cmb_size == CMB_BYTES, "INFO cmb_size is 64 MiB (%llu)",
	      (unsigned long long)in.cmb_size);
	CHECK((in.flags & (want | NVME_P2P_INFO_CMB_CQS)) == want,
	      "INFO flags: CMB SQS LISTS RDS WDS set, CQS clear (0x%x)", in.flags);
	CHECK((in.cmbsz & 0x1f) == 0x1d, "INFO cmbsz raw register 0x%x", in.cmbsz);
	CHECK(in.db_stride == 4, "INFO doorbell stride 4 bytes (%u)", in.db_stride);
	CHECK(in.regions == 0, "INFO no regions yet (%u)", in.regions);
	CHECK((long long)in.cmb_free == sysfs_num("p2pmem/available"),
	      "INFO cmb_free (%llu) equals sysfs p2pmem/available",
	      (unsigned long long)in.cmb_free);

	memset(&in, 0, sizeof(in));
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO argsz 0");
	info(ctrl, &in);
	in.flags = 0;
	in.reserved[2] = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO nonzero reserved");
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in);
	in.flags = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO nonzero flags");
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in);
	in.reserved0 = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO nonzero reserved0");
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in);
	in.cmb_size = 4096;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL,
		  "INFO nonzero output field (cmb_size) on input");
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in) - 8;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, &in), EINVAL, "INFO argsz below the first version");
	memset(big, 0, sizeof(big));
	((struct nvme_p2p_info *)big)->argsz = sizeof(big);
	CHECK(ioctl(ctrl, NVME_P2P_IOCTL_INFO, big) == 0,
	      "INFO larger argsz with a zero tail is accepted");
	CHECK(((struct nvme_p2p_info *)big)->argsz == sizeof(in),
	      "INFO reports the size it filled in argsz");
	memset(big, 0, sizeof(big));
	((struct nvme_p2p_info *)big)->argsz = sizeof(big);
	big[sizeof(in) + 3] = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, big), E2BIG,
		  "INFO larger argsz with a nonzero tail");
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_INFO, (void *)8), EFAULT, "INFO bad pointer");
	CHECK_ERR(ioctl(ctrl, _IOWR('N', 0xcf, struct nvme_p2p_info), &in), ENOTTY,
		  "unknown nvme-p2p ioctl");
}

TEST_F(cmb, region_create_errors)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_region_create rc;

	CHECK_ERR(region(ctrl, 0, 0, NULL), EINVAL, "REGION size 0");
	CHECK_ERR(region(ctrl, 4095, 0, NULL), EINVAL, "REGION size 4095");
	CHECK_ERR(region(ctrl, 4096 + 512, 0, NULL), EINVAL, "REGION size not 4 KiB granular");
	CHECK_ERR(region(ctrl, 4096, 0x80, NULL), EINVAL, "REGION unknown flag");
	CHECK_ERR(region(ctrl, 128 * MiB, 0, NULL), ENOSPC, "REGION larger than the CMB");
	CHECK_ERR(region(ctrl, UINT64_MAX & ~4095ULL, 0, NULL), ENOSPC, "REGION of 2^64-4096 bytes");
	memset(&rc, 0, sizeof(rc));
	rc.argsz = sizeof(rc);
	rc.size = 4096;
	rc.reserved[0] = 7;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION nonzero reserved");
	rc.reserved[0] = 0;
	rc.bus_addr = 1;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION nonzero output field");
	rc.bus_addr = 0;
	rc.argsz = 8;
	CHECK_ERR(ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc), EINVAL, "REGION argsz too small");
	CHECK(cmb_free(ctrl) == free0, "failed creates allocated nothing");
}

TEST_F(cmb, region_cpu)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_region_create rc;
	size_t size = 1 * MiB, i;
	long long bar2_start = -1, bar2_end = -1;
	unsigned char *p, *bar;
	char path[512];
	FILE *f;
	int fd, bar_fd, ok;

	fd = region(ctrl, size, 0, &rc);
	CHECK(fd >= 0, "REGION 1 MiB created (fd %d)", fd);
	if (fd < 0)
		return;
	CHECK(cmb_free(ctrl) == free0 - (long long)size, "cmb_free dropped by 1 MiB");
	snprintf(path, sizeof(path), "%sresource", pci_dir);
	f = fopen(path, "r");
	for (i = 0; f && i < 3; i++)
		if (fscanf(f, "%lli %lli %*i", &bar2_start, &bar2_end) != 2)
			break;
	if (f)
		fclose(f);
	CHECK(rc.bus_addr >= (uint64_t)bar2_start && rc.bus_addr + size - 1 <= (uint64_t)bar2_end,
	      "region bus address 0x%llx lies in BAR2 [0x%llx, 0x%llx]",
	      (unsigned long long)rc.bus_addr, bar2_start, bar2_end);
	CHECK(rc.cmb_offset == rc.bus_addr - (uint64_t)bar2_start,
	      "cmb_offset 0x%llx is the offset in BAR2", (unsigned long long)rc.cmb_offset);

	CHECK_ERR(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), EINVAL,
		  "mmap MAP_PRIVATE");
	CHECK_ERR(mmap(NULL, 2 * size, PROT_READ, MAP_SHARED, fd, 0), EINVAL,
		  "mmap longer than the region");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, size), EINVAL,
		  "mmap at an offset past the end");
	CHECK_ERR(mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, size - 4096), EINVAL,
		  "mmap running past the end");
	CHECK_ERR(mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0), EPERM,
		  "mmap with PROT_EXEC");

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap of the whole region");
	if (p == MAP_FAILED)
		return;
	CHECK_ERR(mprotect(p, size, PROT_READ | PROT_EXEC), EACCES,
		  "mprotect to PROT_EXEC");
	fill(p, size, 3);
	/* The CMB through the BAR itself: the bytes really are in the CMB. */
	snprintf(path, sizeof(path), "%sresource2", pci_dir);
	bar_fd = open(path, O_RDWR | O_SYNC);
	bar = bar_fd < 0 ? MAP_FAILED :
		mmap(NULL, CMB_BYTES, PROT_READ, MAP_SHARED, bar_fd, 0);
	ok = bar != MAP_FAILED && same(bar + rc.cmb_offset, size, 3);
	CHECK(ok, "1 MiB written through the region reads back through BAR2 at cmb_offset");
	if (bar != MAP_FAILED)
		munmap(bar, CMB_BYTES);
	if (bar_fd >= 0)
		close(bar_fd);

	CHECK_ERR(munmap(p + 4096, 4096), EINVAL, "munmap of part of a region VMA");
	CHECK(child_signal(touch, p) == SIGSEGV, "a forked child does not inherit the mapping");

	close(fd);
	CHECK(same(p, size, 3),
	      "the mapping outlives the descriptor");
	CHECK(cmb_free(ctrl) == free0 - (long long)size, "memory held while mapped");
	CHECK_ERR(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), EBADF,
		  "mmap after close");
	CHECK(munmap(p, size) == 0, "munmap of the whole region");
	CHECK(cmb_free(ctrl) == free0, "memory returned after close and munmap");
}

/*
 * The header's rules for a region VMA under munmap(), mprotect() and
 * mremap(): one piece; what would split, grow or move it fails with the
 * documented errno, what changes nothing succeeds; the bytes stay.
 */
TEST_F(cmb, vma_rules)
{
	const size_t size = 64 * 1024;
	unsigned char *p, *q;
	void *spot;
	int fd = region(self->ctrl, size, 0, NULL);

	p = fd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		CHECK(0, "region mapped for the VMA rules");
		return;
	}
	fill(p, size, 11);
	CHECK_ERR(munmap(p + size - 4096, 4096), EINVAL, "munmap of the region's last page");
	CHECK_ERR(mprotect(p, 4096, PROT_READ), EINVAL,
		  "mprotect of part of it that changes the protection");
	CHECK(mprotect(p + 4096, 4096, PROT_READ | PROT_WRITE) == 0,
	      "mprotect of part of it that changes nothing: 0");
	CHECK(mprotect(p, size, PROT_READ) == 0 && mprotect(p, size, PROT_READ | PROT_WRITE) == 0,
	      "mprotect of all of it: 0");
	CHECK_ERR(mremap(p, size, 2 * size, MREMAP_MAYMOVE), EFAULT, "mremap that grows it");
	CHECK_ERR(mremap(p, size, size / 2, 0), EINVAL, "mremap that shrinks it");
	spot = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_ERR(mremap(p, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, spot), EINVAL,
		  "mremap that moves it");
	q = mremap(p, size, size, 0);
	CHECK(q == p, "same-size mremap in place: the same address");
	CHECK(same(p, size, 11), "the region's bytes are all still there, mapped at the same place");
	munmap(spot, size);
	munmap(p, size);
	close(fd);
}

TEST_F(cmb, no_cpu_map)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	int fd = region(ctrl, 64 * 1024, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	void *p;

	CHECK(fd >= 0, "REGION with NO_CPU_MAP created");
	if (fd < 0)
		return;
	p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "mmap of a NO_CPU_MAP region (a handle for peers)");
	if (p != MAP_FAILED)
		munmap(p, 64 * 1024);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "NO_CPU_MAP region memory returned");
}

/* A CPU store to a NO_CPU_MAP region kills the process with SIGBUS. */
TEST_F_SIGNAL(cmb, no_cpu_map_store, SIGBUS)
{
	int fd = region(self->ctrl, 64 * 1024, NVME_P2P_REGION_NO_CPU_MAP, NULL);
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	touch(p);
	TH_LOG("the store to a NO_CPU_MAP region did not fault");
}

TEST_F(cmb, lifetime)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_info in;
	int fds[8], i, ok = 1;
	long long worst = free0;

	CHECK(child_signal(exit_with_live_mapping, &ctrl) == 0 && cmb_free(ctrl) == free0,
	      "process exit with a live region mapping returns the memory");

	for (i = 0; i < 8; i++)
		fds[i] = region(ctrl, 8 * MiB, 0, NULL);
	info(ctrl, &in);
	CHECK(in.regions == 8 || fds[7] < 0, "INFO counts live regions (%u)", in.regions);
	for (i = 0; i < 8; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	info(ctrl, &in);
	CHECK(in.regions == 0, "closed regions are no longer counted");

	for (i = 0; i < 1000 && ok; i++) {
		int fd = region(ctrl, (i % 16 + 1) * 4096, i & 1 ? NVME_P2P_REGION_NO_CPU_MAP : 0, NULL);
		long long f = cmb_free(ctrl);

		if (f < worst)
			worst = f;
		ok = fd >= 0 && close(fd) == 0;
	}
	CHECK(ok, "1000 region create/close cycles succeed");
	CHECK(cmb_free(ctrl) == free0, "after 1000 cycles cmb_free is back to %lld", free0);
}

TEST_F(cmb, p2p_map)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	const char *edu = getenv("EDU_SWITCH"), *far = getenv("EDU_ROOT_BUS");
	struct nvme_p2p_region_create rc;
	unsigned long long first = 0, last = 0;
	size_t size = 1 * MiB;
	void *p;
	long ret;
	int fd;

	if (access(P2P_MAP_TEST, W_OK) || !edu || !far)
		SKIP(return, "p2p_map_test module or edu peers missing (EDU_SWITCH, EDU_ROOT_BUS)");
	fd = region(ctrl, size, NVME_P2P_REGION_NO_CPU_MAP, &rc);
	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "NO_CPU_MAP region of 1 MiB mapped as a handle for peers");
	if (p == MAP_FAILED)
		return;
	ret = p2p_map_as(edu, p, size, 1, &first, &last);
	CHECK(ret == 0, "p2p_map for the edu behind the switch (%s) succeeds (%ld)", edu, ret);
	CHECK(first == rc.bus_addr && last == rc.bus_addr + size - 4096,
	      "it hands out the region's bus addresses 0x%llx..0x%llx (region at 0x%llx)",
	      first, last, (unsigned long long)rc.bus_addr);
	ret = p2p_map_as(edu, (char *)p + 64 * 1024, 8192, 0, &first, &last);
	CHECK(ret == 0 && first == rc.bus_addr + 64 * 1024,
	      "a sub-range maps at its offset (0x%llx)", first);
	ret = p2p_map_as(far, p, size, 1, &first, &last);
	CHECK(ret == -EREMOTEIO, "p2p_map for the edu on the root bus (%s): EREMOTEIO (%ld)",
	      far, ret);
	CHECK(kernel_log_has(far, "cannot reach the CMB peer to peer"),
	      "the kernel log says why %s was refused", far);
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "every p2p_map was undone: memory returned");
}

/* A controller reset invalidates mappings but keeps regions and memory. */
TEST_F(cmb, reset)
{
	int ctrl = self->ctrl;
	long long free0 = self->free0;
	struct nvme_p2p_info in;
	size_t size = 64 * 1024;
	unsigned char *p;
	int fd = region(ctrl, size, 0, NULL);

	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "region mapped before a controller reset");
	if (p == MAP_FAILED)
		return;
	fill(p, size, 1);
	CHECK(ioctl(ctrl, NVME_IOCTL_RESET) == 0, "controller reset (NVME_IOCTL_RESET)");
	info(ctrl, &in);
	CHECK(in.regions == 1, "the region survives the reset (INFO regions %u)", in.regions);
	CHECK(same(p, size, 1), "its contents read back through the re-faulted mapping");
	fill(p, size, 2);
	CHECK(same(p, size, 2), "and it takes new stores");
	munmap(p, size);
	close(fd);
	CHECK(cmb_free(ctrl) == free0, "memory returned after the reset test");
}

/* Unbinding the driver revokes every region for good; rebinding works. */
TEST_F(cmb, unbind)
{
	int ctrl = self->ctrl;
	char bdf[64] = "";
	size_t size = 64 * 1024;
	unsigned char *p;
	int fd, i, again = -1;

	ctrl_bdf(bdf, sizeof(bdf));
	fd = region(ctrl, size, 0, NULL);
	p = fd < 0 ? MAP_FAILED :
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED && bdf[0], "region mapped before unbinding %s", bdf);
	if (p == MAP_FAILED || !bdf[0])
		return;
	fill(p, size, 3);
	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/unbind", bdf) == 0,
	      "unbind %s from nvme with a region mapped", bdf);
	CHECK(sigbus_on_touch(p), "a CPU store to the revoked mapping raises SIGBUS");
	if (getenv("EDU_SWITCH")) {
		unsigned long long first, last;
		long ret = p2p_map_as(getenv("EDU_SWITCH"), p, size, 1, &first, &last);

		CHECK(ret == -ENODEV, "p2p_map of the revoked region: ENODEV (%ld)", ret);
	}
	CHECK_ERR(mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0), ENODEV,
		  "mmap of a revoked region");
	CHECK_ERR(region(ctrl, 4096, 0, NULL), ENODEV,
		  "REGION on a removed controller");
	munmap(p, size);
	close(fd);
	close(ctrl);
	CHECK(write_sysfs("/sys/bus/pci/drivers/nvme/bind", bdf) == 0, "bind %s again", bdf);
	for (i = 0; i < 100 && again < 0; i++) {
		again = open_ctrl(self->serial);
		if (again < 0)
			usleep(100 * 1000);
	}
	CHECK(again >= 0, "the controller is back (serial %s)", self->serial);
	if (again >= 0) {
		struct nvme_p2p_info in;

		CHECK(info(again, &in) == 0 && in.cmb_size == CMB_BYTES && in.regions == 0 &&
		      (long long)in.cmb_free == sysfs_num("p2pmem/available"),
		      "its CMB is registered again, no regions, free %llu",
		      (unsigned long long)in.cmb_free);
		close(again);
	}
}

TEST_HARNESS_MAIN
