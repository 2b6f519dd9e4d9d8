// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the nvme-p2p VM test programs (tests/vm/p2p_*.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
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
#include <time.h>
#include <unistd.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>
#include <linux/udmabuf.h>

#include "p2p_test.h"

char pci_dir[256];
char ctrl_name[32];

/* The controller with the given serial, opened read-write. */
int open_ctrl(const char *serial)
{
	glob_t g;
	size_t i;
	int fd = -1;

	if (glob("/sys/class/nvme/nvme*/serial", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && fd < 0; i++) {
		char buf[64] = "", dev[64], *p;
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			for (p = buf + strlen(buf); p > buf && (p[-1] == '\n' || p[-1] == ' '); )
				*--p = 0;
		}
		fclose(f);
		if (strcmp(buf, serial))
			continue;
		p = strrchr(g.gl_pathv[i], '/');
		*p = 0;
		snprintf(ctrl_name, sizeof(ctrl_name), "%s", strrchr(g.gl_pathv[i], '/') + 1);
		snprintf(dev, sizeof(dev), "/dev/%s", ctrl_name);
		snprintf(pci_dir, sizeof(pci_dir), "%s/device/", g.gl_pathv[i]);
		fd = open(dev, O_RDWR);
	}
	globfree(&g);
	return fd;
}

void ctrl_bdf(char *bdf, size_t len)
{
	char link[512], target[512];
	ssize_t n;

	bdf[0] = 0;
	/* pci_dir is the controller's "device" link, '/'-terminated. */
	snprintf(link, sizeof(link), "%.500s", pci_dir);
	link[strlen(link) - 1] = 0;
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		snprintf(bdf, len, "%s", strrchr(target, '/') + 1);
	}
}

long long sysfs_num(const char *name)
{
	char path[512];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", pci_dir, name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lli", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int ctrl_state_is(const char *name, const char *want)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/state", name);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, want);
}

int info(int ctrl, struct nvme_p2p_info *in)
{
	memset(in, 0, sizeof(*in));
	in->argsz = sizeof(*in);
	return ioctl(ctrl, NVME_P2P_IOCTL_INFO, in);
}

long long cmb_free(int ctrl)
{
	struct nvme_p2p_info in;

	return info(ctrl, &in) ? -1 : (long long)in.cmb_free;
}

int region(int ctrl, uint64_t size, uint32_t flags,
		  struct nvme_p2p_region_create *out)
{
	struct nvme_p2p_region_create rc = {
		.argsz = sizeof(rc), .flags = flags, .size = size,
	};
	int fd = ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, &rc);

	if (out)
		*out = rc;
	return fd;
}

/* Run fn in a child; return its wait status, or -1. */
int child_status(void (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* Run fn in a child; return the signal that killed it, or 0. */
int child_signal(void (*fn)(void *), void *arg)
{
	int status = child_status(fn, arg);

	if (status < 0)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

void touch(void *p)
{
	*(volatile char *)p = 1;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Store to p in this process: 1 if that raised SIGBUS. */
int sigbus_on_touch(void *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int faulted = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1) == 0)
		touch(p);
	else
		faulted = 1;
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

void fill(unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 13 + seed);
}

int same(const unsigned char *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 13 + seed))
			return 0;
	return 1;
}

#define P2P_MAP_TEST "/sys/kernel/debug/p2p_map_test/map"

/*
 * p2p_map then p2p_unmap [p, p+len) for the PCI device bdf, through the
 * test module. Returns the exporter's errno (0 on success) and the first
 * and last page's DMA address; -1000 if the module is not loaded.
 */
long p2p_map_as(const char *bdf, void *p, size_t len, int for_write,
		       unsigned long long *first, unsigned long long *last)
{
	char buf[128];
	long ret = -1000;
	int fd = open(P2P_MAP_TEST, O_RDWR);
	int n;

	if (fd < 0 || !bdf)
		goto out;
	n = snprintf(buf, sizeof(buf), "%s %lx %zx %d", bdf, (unsigned long)p, len, for_write);
	if (write(fd, buf, n) != n || lseek(fd, 0, SEEK_SET) != 0)
		goto out;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		goto out;
	buf[n] = 0;
	if (sscanf(buf, "ret=%ld first=%llx last=%llx", &ret, first, last) != 3)
		ret = -1000;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The kernel log has a line naming both words. */
int kernel_log_has(const char *a, const char *b)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *line;
	int found = 0;

	if (len <= 0 || !(buf = calloc(1, len + 1)))
		return 0;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	for (line = strtok(len > 0 ? buf : NULL, "\n"); line && !found;
	     line = strtok(NULL, "\n"))
		found = strstr(line, a) && strstr(line, b);
	free(buf);
	return found;
}

int write_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

void find_edus(struct edu *sw, struct edu *root)
{
	glob_t g;
	size_t i;

	memset(sw, 0, sizeof(*sw));
	memset(root, 0, sizeof(*root));
	if (glob("/sys/class/misc/edu-p2p*", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		char link[512], real[PATH_MAX], *slash;
		struct edu e;

		snprintf(link, sizeof(link), "%s/device", g.gl_pathv[i]);
		if (!realpath(link, real) || !(slash = strrchr(real, '/')))
			continue;
		snprintf(e.bdf, sizeof(e.bdf), "%s", slash + 1);
		snprintf(e.dev, sizeof(e.dev), "/dev/%s", strrchr(g.gl_pathv[i], '/') + 1);
		*slash = 0;
		*(strcmp(real, "/sys/devices/pci0000:00") ? sw : root) = e;
	}
	globfree(&g);
}

int edu_xfer(int edu, unsigned long cmd, uint32_t id, uint64_t off, const void *buf,
	     uint64_t len)
{
	struct edu_p2p_xfer x = {
		.id = id, .offset = off, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(edu, cmd, &x);
}

struct edu_p2p_counters edu_counters(int edu)
{
	struct edu_p2p_counters c;

	memset(&c, 0, sizeof(c));
	if (ioctl(edu, EDU_P2P_IOC_COUNTERS, &c))
		memset(&c, 0xff, sizeof(c));
	return c;
}

int edu_round_trip(int edu, uint32_t id, uint64_t off, unsigned char *buf, size_t len,
		   unsigned char seed, unsigned int *stale, int *tries)
{
	time_t until = time(NULL) + 60;
	int n, ret = -1, e = 0;

	for (n = 0; ret && (n < 20 || time(NULL) < until); n++) {
		if (n)
			usleep(1000 * (n < 20 ? n : 20));
		fill(buf, len, seed);
		ret = edu_xfer(edu, EDU_P2P_IOC_WRITE, id, off, buf, len);
		if (!ret) {
			memset(buf, 0, len);
			ret = edu_xfer(edu, EDU_P2P_IOC_READ, id, off, buf, len);
		}
		e = ret ? errno : 0;
		if (e == ESTALE) {
			(*stale)++;
			if (ioctl(edu, EDU_P2P_IOC_MAP, &id))
				printf("# round trip at offset %llu: MAP after ESTALE: %s\n",
				       (unsigned long long)off, strerrorname_np(errno));
		} else if (ret) {
			break;
		}
	}
	if (tries)
		*tries = n;
	if (ret)
		return e;
	return same(buf, len, seed) ? 0 : EILSEQ;
}

int export_dmabuf(int fd, uint64_t offset, uint64_t size)
{
	struct nvme_p2p_dmabuf d = { .argsz = sizeof(d), .offset = offset, .size = size };

	return ioctl(fd, NVME_P2P_IOCTL_DMABUF, &d);
}

int edu_attach_dmabuf(int edu, int fd, uint32_t flags, uint64_t *dma)
{
	struct edu_p2p_attach a = {
		.addr = (uint64_t)fd, .flags = flags | EDU_P2P_ATTACH_DMABUF,
	};

	if (ioctl(edu, EDU_P2P_IOC_ATTACH, &a))
		return -1;
	if (dma)
		*dma = a.dma_addr;
	return (int)a.id;
}

pid_t fio_verify_start(const char *dev, const char *offset, const char *loops)
{
	char arg_fn[96], arg_off[48];
	pid_t fio;

	snprintf(arg_fn, sizeof(arg_fn), "--filename=%s", dev);
	snprintf(arg_off, sizeof(arg_off), "--offset=%s", offset);
	fio = fork();
	if (fio == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execlp("fio", "fio", "--name=blkmq", arg_fn, "--ioengine=io_uring", "--direct=1",
		       "--rw=randwrite", "--bs=4k", "--iodepth=4", arg_off, "--size=8M",
		       "--verify=crc32c", "--do_verify=1", loops, "--verify_state_save=0",
		       (char *)NULL);
		_exit(127);
	}
	return fio;
}

int udmabuf_new(size_t size, const unsigned int *pages, unsigned int n, int *memfd)
{
	struct {
		struct udmabuf_create_list head;
		struct udmabuf_create_item item[4];
	} l = { .head = { .flags = UDMABUF_FLAGS_CLOEXEC, .count = pages ? n : 1 } };
	int dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC), fd = -1;
	unsigned int i;

	*memfd = memfd_create("p2p-ring", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (dev >= 0 && *memfd >= 0 && n <= 4 && !ftruncate(*memfd, size) &&
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0) {
		for (i = 0; i < l.head.count; i++) {
			l.item[i].memfd = *memfd;
			l.item[i].offset = pages ? pages[i] * 4096ULL : 0;
			l.item[i].size = pages ? 4096 : size;
		}
		fd = ioctl(dev, UDMABUF_CREATE_LIST, &l);
	}
	if (dev >= 0)
		close(dev);
	return fd;
}
