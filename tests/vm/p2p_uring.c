// SPDX-License-Identifier: GPL-2.0
/* series: io_uring-register-buffers-in-peer-to-peer-VMAs */
/*
 * VM test: io_uring fixed buffers in nvme-p2p CMB regions (the io_uring
 * importer). NVMe -> CMB -> NVMe copies with READ_FIXED and WRITE_FIXED,
 * a mixed table of host and CMB buffers, targets that cannot or may not
 * use the buffer, registration errors, revocation by controller reset,
 * munmap and unbind, and that nothing is left behind, process exit with
 * I/O in flight included. Runs as root in the testbed guest; prints TAP.
 *
 * Usage: p2p_uring CMB_NS DATA_NS ROOT_NS
 *   the namespaces (/dev/nvmeXnY) of the controllers with serials p2p0
 *   (the CMB, behind the switch), data0 (behind the switch, no CMB) and
 *   root0 (on the root bus: cannot reach the CMB peer to peer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/nvme_ioctl.h>
#include <linux/nvme_p2p.h>
#include <liburing.h>

#include "p2p_test.h"

#define KiB		1024UL
#define CHUNK		(128 * KiB)
#define QD		16
#define COPY_BYTES	(64 * MiB)
#define SRC_OFF		(256 * MiB)	/* where the pattern lives on data0 */
#define DST_OFF		(256 * MiB)	/* where copies land on p2p0 */
#define SCRATCH_OFF	(384 * MiB)	/* small writes to p2p0 */
#define WAIT_S		60		/* no CQE after this long: a hang */
#define HUNG		(-100000)	/* one() got no CQE within WAIT_S */
#define NO_SQE		(-100001)

static const char *cmb_ns, *data_ns, *root_ns;
static int ctrl = -1;
static uint64_t seed;
static char cmb_ctrl_name[32];

/* "EREMOTEIO" for -121, "ok(131072)" for 131072, "no CQE" for HUNG. */
static const char *res_str(long res)
{
	static char bufs[4][48];
	static int n;
	char *b = bufs[n++ % 4];

	if (res == HUNG)
		snprintf(b, 48, "no CQE within %d s", WAIT_S);
	else if (res == NO_SQE)
		snprintf(b, 48, "no SQE");
	else if (res < 0 && strerrorname_np((int)-res))
		snprintf(b, 48, "%s", strerrorname_np((int)-res));
	else
		snprintf(b, 48, "%ld", res);
	return b;
}

/* A CQE res or liburing return was exactly want. */
#define is_res(got, want, fmt, ...) do {				\
	long _g = (long)(got), _w = (long)(want);			\
	result(_g == _w, fmt " (got %s, want %s)", ##__VA_ARGS__,	\
	       res_str(_g), res_str(_w));				\
} while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test pattern: the 8-byte word at device byte offset off. */
static inline uint64_t pat_word(uint64_t off)
{
	return (off * 0x9E3779B97F4A7C15ULL) ^ seed;
}

static void pat_fill(void *p, size_t n, uint64_t off)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < n / 8; i++)
		w[i] = pat_word(off + i * 8);
}

/* Byte index of the first word that differs from the pattern, or -1. */
static long pat_diff(const void *p, size_t n, uint64_t off)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < n / 8; i++)
		if (w[i] != pat_word(off + i * 8))
			return (long)(i * 8);
	return -1;
}

static void *host_buf(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* The CPU view of an (uncached) CMB range, copied to host memory. */
static long cpu_view_diff(const void *cmb, size_t n, uint64_t off)
{
	void *tmp = host_buf(n);
	long d;

	memcpy(tmp, cmb, n);
	d = pat_diff(tmp, n, off);
	munmap(tmp, n);
	return d;
}

/* A fresh CMB region of size bytes, mapped with prot; fd in *fd. */
static void *cmb_map(size_t size, uint32_t flags, int prot, int *fd)
{
	void *p;

	*fd = region(ctrl, size, flags, NULL);
	if (*fd < 0)
		return NULL;
	p = mmap(NULL, size, prot, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		*fd = -1;
		return NULL;
	}
	return p;
}

static void prep_rw(struct io_uring_sqe *sqe, int op, int fd, void *buf,
		    unsigned int len, uint64_t off, int idx)
{
	if (op == IORING_OP_READ_FIXED)
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, idx);
	else
		io_uring_prep_write_fixed(sqe, fd, buf, len, off, idx);
}

/* Wait for the CQE with user_data tag (others are dropped). res or HUNG. */
static long wait_tag(struct io_uring *ring, uint64_t tag)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_S };
	struct io_uring_cqe *cqe;
	long res;

	for (;;) {
		if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
			return HUNG;
		res = cqe->res;
		if (cqe->user_data == tag) {
			io_uring_cqe_seen(ring, cqe);
			return res;
		}
		io_uring_cqe_seen(ring, cqe);
	}
}

/* One READ_FIXED or WRITE_FIXED, waited for: its CQE res. */
static long one(struct io_uring *ring, int op, int fd, void *buf,
		unsigned int len, uint64_t off, int idx)
{
	static uint64_t tags = 1ULL << 40;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t tag = ++tags;

	if (!sqe)
		return NO_SQE;
	prep_rw(sqe, op, fd, buf, len, off, idx);
	sqe->user_data = tag;
	io_uring_submit(ring);
	return wait_tag(ring, tag);
}

#define RD IORING_OP_READ_FIXED
#define WR IORING_OP_WRITE_FIXED

static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		diag("open %s: %s", path, strerror(errno));
	return fd;
}

/* pread(O_DIRECT) n bytes at off and compare with the pattern at pat_off. */
static long readback_diff(int fd, uint64_t off, size_t n, uint64_t pat_off)
{
	size_t piece = 4 * MiB, done;
	void *b = host_buf(piece);
	long d = -1;

	for (done = 0; done < n && d < 0; done += piece) {
		size_t len = n - done < piece ? n - done : piece;

		if (pread(fd, b, len, off + done) != (ssize_t)len) {
			d = (long)done;
			diag("pread at %" PRIu64 ": %s", off + done, strerror(errno));
			break;
		}
		d = pat_diff(b, len, pat_off + done);
		if (d >= 0)
			d += done;
	}
	munmap(b, piece);
	return d;
}

/* kB of VmPin (io_uring accounts the host pages it pins there). */
static long vm_pin_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Entries of NVME_P2P_IOCTL_LIST owned by pid (all if pid is 0), or -1. */
static int list_entries(pid_t pid)
{
	struct nvme_p2p_list_entry e[64];
	struct nvme_p2p_list l = {
		.argsz = sizeof(l), .entry_size = sizeof(e[0]), .nr_entries = 64,
		.entries = (uintptr_t)e,
	};
	unsigned int i;
	int n = 0;

	memset(e, 0, sizeof(e));
	if (ioctl(ctrl, NVME_P2P_IOCTL_LIST, &l))
		return -1;
	for (i = 0; i < l.nr_entries && i < 64; i++)
		if (!pid || e[i].pid == pid)
			n++;
	return n;
}

static bool wait_live(void)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (ctrl_state_is(cmb_ctrl_name, "live"))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

/* cmb_free back to want within 20 s (ring teardown is asynchronous). */
static long long wait_cmb_free(long long want)
{
	long long f = cmb_free(ctrl);
	int i;

	for (i = 0; i < 200 && f != want; i++) {
		usleep(100 * 1000);
		f = cmb_free(ctrl);
	}
	return f;
}

/* The PCI address of the controller of namespace /dev/NAME. */
static void bdf_of_ns(const char *ns, char *out, size_t size)
{
	char path[PATH_MAX], *real;

	snprintf(path, sizeof(path), "/sys/block/%s/device/device", strrchr(ns, '/') + 1);
	real = realpath(path, NULL);
	snprintf(out, size, "%s", real ? strrchr(real, '/') + 1 : "?");
	free(real);
}

/* ---------------------------------------------------------------------- */

/* The source range on data0 gets the pattern, by plain O_DIRECT writes. */
static bool write_source(int data)
{
	size_t piece = 4 * MiB, done;
	void *b = host_buf(piece);
	bool ok = true;

	for (done = 0; done < COPY_BYTES && ok; done += piece) {
		pat_fill(b, piece, SRC_OFF + done);
		ok = pwrite(data, b, piece, SRC_OFF + done) == (ssize_t)piece;
	}
	munmap(b, piece);
	ok = ok && fdatasync(data) == 0;
	result(ok, "64 MiB pattern written to %s at %llu with O_DIRECT pwrite", data_ns,
	       (unsigned long long)SRC_OFF);
	return ok;
}

/*
 * data0 -> CMB -> p2p0, 64 MiB in 128 KiB chunks, QD 16. For a few chunks
 * the CPU view of the CMB is checked between READ_FIXED and WRITE_FIXED.
 */
static void test_copy(int data, int cmbdev)
{
	enum { IDLE, READ, WRITE } state[QD] = { 0 };
	uint64_t pos[QD], next = 0, done = 0;
	size_t bytes = QD * CHUNK;
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct iovec iov;
	long pin0, pin1, first_err = 0, d;
	int fd, i, ret, errors = 0, viewed = 0, view_bad = 0;
	char *buf;
	double t0, t1;

	buf = cmb_map(bytes, 0, PROT_READ | PROT_WRITE, &fd);
	result(buf != NULL, "a 2 MiB CMB region mapped (16 slots of 128 KiB)");
	if (!buf)
		return;
	io_uring_queue_init(2 * QD, &ring, 0);
	pin0 = vm_pin_kb();
	iov = (struct iovec){ buf, bytes };
	ret = io_uring_register_buffers(&ring, &iov, 1);
	pin1 = vm_pin_kb();
	is_res(ret, 0, "io_uring_register_buffers of the CMB mapping");
	if (ret) {
		if (ret == -EFAULT)
			diag("EFAULT is stock io_uring's answer: a kernel without io_uring p2p buffers");
		io_uring_queue_exit(&ring);
		munmap(buf, bytes);
		close(fd);
		return;
	}
	result(pin1 == pin0, "no host pages pinned or accounted: VmPin %ld kB -> %ld kB",
	       pin0, pin1);

	t0 = now();
	while (done < COPY_BYTES && errors == 0) {
		struct io_uring_sqe *sqe;
		struct __kernel_timespec ts = { .tv_sec = WAIT_S };
		unsigned int head, seen = 0;

		for (i = 0; i < QD && next < COPY_BYTES; i++) {
			if (state[i] != IDLE)
				continue;
			pos[i] = next;
			next += CHUNK;
			state[i] = READ;
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read_fixed(sqe, data, buf + i * CHUNK, CHUNK,
						 SRC_OFF + pos[i], 0);
			sqe->user_data = i;
		}
		io_uring_submit(&ring);
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts)) {
			errors++;
			first_err = HUNG;
			break;
		}
		io_uring_for_each_cqe(&ring, head, cqe) {
			int s = (int)cqe->user_data;

			seen++;
			if (cqe->res != (int)CHUNK) {
				if (!errors++)
					first_err = cqe->res;
				diag("%s of chunk at %" PRIu64 ": res %s",
				     state[s] == READ ? "READ_FIXED" : "WRITE_FIXED",
				     pos[s], res_str(cqe->res));
				continue;
			}
			if (state[s] == READ) {
				/* Chunks 0, 128, 256, 384: look before writing. */
				if ((pos[s] / CHUNK) % 128 == 0) {
					viewed++;
					d = cpu_view_diff(buf + s * CHUNK, CHUNK, SRC_OFF + pos[s]);
					if (d >= 0) {
						view_bad++;
						diag("chunk at %" PRIu64 ": CPU view of the CMB differs at byte %ld",
						     pos[s], d);
					}
				}
				state[s] = WRITE;
				sqe = io_uring_get_sqe(&ring);
				io_uring_prep_write_fixed(sqe, cmbdev, buf + s * CHUNK, CHUNK,
							  DST_OFF + pos[s], 0);
				sqe->user_data = s;
			} else {
				state[s] = IDLE;
				done += CHUNK;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	t1 = now();
	result(errors == 0 && done == COPY_BYTES,
	       "64 MiB %s -> CMB -> %s: 512 READ_FIXED + 512 WRITE_FIXED of 128 KiB at QD 16 (%d failed, first %s)",
	       data_ns, cmb_ns, errors, res_str(first_err));
	diag("copy: %.2f s, %.1f MB/s", t1 - t0, done / (t1 - t0) / 1e6);
	result(viewed == 4 && view_bad == 0,
	       "between READ_FIXED and WRITE_FIXED the chunk's bytes are in the CMB, seen through the region's CPU mapping (%d of %d chunks)",
	       viewed - view_bad, viewed);
	io_uring_queue_exit(&ring);	/* waits for the failed copy's I/O */
	munmap(buf, bytes);
	close(fd);
	if (done == COPY_BYTES) {
		d = readback_diff(cmbdev, DST_OFF, COPY_BYTES, SRC_OFF);
		result(d < 0, "the destination (read back with O_DIRECT pread) equals the source%s",
		       d < 0 ? "" : ": it differs");
		if (d >= 0)
			diag("first difference at byte %ld of the copy", d);
	}
}

/* Host memory and a CMB buffer in one table, reads and writes on both. */
static void test_mixed(int data, int cmbdev)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct iovec iov[2];
	char *host = host_buf(MiB), *cmb;
	long res[4] = { HUNG, HUNG, HUNG, HUNG }, d;
	int fd, i, ret;

	cmb = cmb_map(MiB, 0, PROT_READ | PROT_WRITE, &fd);
	if (!cmb) {
		result(0, "mixed table: a 1 MiB CMB region");
		return;
	}
	io_uring_queue_init(8, &ring, 0);
	iov[0] = (struct iovec){ host, MiB };
	iov[1] = (struct iovec){ cmb, MiB };
	ret = io_uring_register_buffers(&ring, iov, 2);
	is_res(ret, 0, "mixed table: [0] 1 MiB of host memory, [1] a 1 MiB CMB region, registered together");
	if (ret)
		goto out;
	/* Both reads in flight together, into both buffers. */
	for (i = 0; i < 2; i++) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read_fixed(sqe, data, i ? cmb + 256 * KiB : host + 256 * KiB,
					 CHUNK, SRC_OFF + i * CHUNK, i);
		sqe->user_data = i;
	}
	io_uring_submit(&ring);
	for (i = 0; i < 2; i++) {
		struct __kernel_timespec ts = { .tv_sec = WAIT_S };
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			break;
		if (cqe->user_data < 2)
			res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	is_res(res[0], CHUNK, "mixed: READ_FIXED into the host buffer");
	is_res(res[1], CHUNK, "mixed: READ_FIXED into the CMB buffer, in flight with it");
	d = pat_diff(host + 256 * KiB, CHUNK, SRC_OFF);
	result(d < 0, "mixed: the host buffer holds the source chunk");
	d = cpu_view_diff(cmb + 256 * KiB, CHUNK, SRC_OFF + CHUNK);
	result(d < 0, "mixed: the CMB buffer holds the next one (CPU view)");
	res[2] = one(&ring, WR, cmbdev, host + 256 * KiB, CHUNK, SCRATCH_OFF, 0);
	res[3] = one(&ring, WR, cmbdev, cmb + 256 * KiB, CHUNK, SCRATCH_OFF + CHUNK, 1);
	is_res(res[2], CHUNK, "mixed: WRITE_FIXED from the host buffer to %s", cmb_ns);
	is_res(res[3], CHUNK, "mixed: WRITE_FIXED from the CMB buffer to %s", cmb_ns);
	d = readback_diff(cmbdev, SCRATCH_OFF, 2 * CHUNK, SRC_OFF);
	result(d < 0, "mixed: both chunks read back from %s in order", cmb_ns);
	/* The host buffer still works after the CMB one was used. */
	is_res(one(&ring, RD, data, host, CHUNK, SRC_OFF + 2 * CHUNK, 0), CHUNK,
	       "mixed: the host buffer again after the CMB buffer was bound");
	result(pat_diff(host, CHUNK, SRC_OFF + 2 * CHUNK) < 0, "mixed: with the right bytes");
out:
	io_uring_queue_exit(&ring);
	munmap(cmb, MiB);
	close(fd);
	munmap(host, MiB);
}

/* A NO_CPU_MAP region is a buffer too: the CPU never sees it. */
static void test_no_cpu_map(int data, int cmbdev)
{
	struct io_uring ring;
	struct iovec iov;
	void *p;
	int fd, ret;

	p = cmb_map(CHUNK, NVME_P2P_REGION_NO_CPU_MAP, PROT_READ | PROT_WRITE, &fd);
	if (!p) {
		result(0, "a NO_CPU_MAP CMB region mapped");
		return;
	}
	io_uring_queue_init(4, &ring, 0);
	iov = (struct iovec){ p, CHUNK };
	ret = io_uring_register_buffers(&ring, &iov, 1);
	is_res(ret, 0, "a NO_CPU_MAP CMB region registers as a fixed buffer");
	if (!ret) {
		is_res(one(&ring, RD, data, p, CHUNK, SRC_OFF + 3 * CHUNK, 0), CHUNK,
		       "NO_CPU_MAP: READ_FIXED from %s", data_ns);
		is_res(one(&ring, WR, cmbdev, p, CHUNK, SCRATCH_OFF + 2 * CHUNK, 0), CHUNK,
		       "NO_CPU_MAP: WRITE_FIXED to %s", cmb_ns);
		result(readback_diff(cmbdev, SCRATCH_OFF + 2 * CHUNK, CHUNK, SRC_OFF + 3 * CHUNK) < 0,
		       "NO_CPU_MAP: the chunk crossed with no CPU mapping at all");
	}
	io_uring_queue_exit(&ring);
	munmap(p, CHUNK);
	close(fd);
}

/* Targets that cannot (root bus) or may not (no O_DIRECT...) use it. */
static void test_targets(int data)
{
	struct io_uring ring;
	struct iovec iov;
	char bdf[64], ng[PATH_MAX], tmpf[] = "/tmp/p2p-uring.XXXXXX";
	void *p;
	int fd, root, buffered, reg, ret;

	p = cmb_map(MiB, 0, PROT_READ | PROT_WRITE, &fd);
	if (!p) {
		result(0, "targets: a CMB region");
		return;
	}
	io_uring_queue_init(4, &ring, 0);
	iov = (struct iovec){ p, MiB };
	ret = io_uring_register_buffers(&ring, &iov, 1);
	is_res(ret, 0, "targets: CMB buffer registered");
	if (ret)
		goto out;

	root = open_dev(root_ns, O_RDWR | O_DIRECT);
	if (root >= 0) {
		bdf_of_ns(root_ns, bdf, sizeof(bdf));
		is_res(one(&ring, RD, root, p, CHUNK, 0, 0), -EREMOTEIO,
		       "READ_FIXED from %s (root bus, %s) into the CMB buffer", root_ns, bdf);
		is_res(one(&ring, WR, root, p, CHUNK, 0, 0), -EREMOTEIO,
		       "WRITE_FIXED from the CMB buffer to %s", root_ns);
		result(kernel_log_has(bdf, "cannot reach"),
		       "the kernel log says %s cannot reach the CMB", bdf);
		close(root);
	}
	/* The refusal bound nothing: the same buffer works on data0. */
	is_res(one(&ring, RD, data, p, CHUNK, SRC_OFF, 0), CHUNK,
	       "the buffer still works on %s after %s was refused", data_ns, root_ns);

	buffered = open_dev(data_ns, O_RDONLY);
	if (buffered >= 0) {
		is_res(one(&ring, RD, buffered, p, CHUNK, SRC_OFF, 0), -EOPNOTSUPP,
		       "READ_FIXED from %s opened without O_DIRECT (page cache: no bounce)", data_ns);
		close(buffered);
	}
	buffered = open_dev(cmb_ns, O_RDWR);
	if (buffered >= 0) {
		is_res(one(&ring, WR, buffered, p, CHUNK, SCRATCH_OFF, 0), -EOPNOTSUPP,
		       "WRITE_FIXED to %s opened without O_DIRECT", cmb_ns);
		close(buffered);
	}
	reg = mkstemp(tmpf);
	if (reg >= 0) {
		int direct;

		unlink(tmpf);
		if (ftruncate(reg, MiB))
			diag("ftruncate: %s", strerror(errno));
		snprintf(ng, sizeof(ng), "/proc/self/fd/%d", reg);
		direct = open(ng, O_RDWR | O_DIRECT);
		if (direct >= 0) {
			is_res(one(&ring, RD, direct, p, CHUNK, 0, 0), -EOPNOTSUPP,
			       "READ_FIXED from a regular file (tmpfs, O_DIRECT)");
			close(direct);
		} else {
			is_res(one(&ring, RD, reg, p, CHUNK, 0, 0), -EOPNOTSUPP,
			       "READ_FIXED from a regular file (tmpfs)");
		}
		close(reg);
	}
	result(1, "a 5th device on one buffer (ENOSPC) # SKIP the testbed has 2 controllers that reach the CMB");

	/* NVMe passthrough with the fixed buffer: not supported yet. */
	snprintf(ng, sizeof(ng), "/dev/ng%s", strrchr(data_ns, '/') + 5);
	{
		struct io_uring cring;
		struct io_uring_sqe *sqe;
		struct nvme_uring_cmd *cmd;
		struct iovec civ[2];
		void *host = host_buf(CHUNK);
		int ngfd = open(ng, O_RDONLY), i, lba = 512;
		long res;

		if (ioctl(data, BLKSSZGET, &lba) || lba <= 0)
			lba = 512;

		if (ngfd < 0 || io_uring_queue_init(4, &cring, IORING_SETUP_SQE128 |
						    IORING_SETUP_CQE32)) {
			result(1, "URING_CMD # SKIP no %s or no big-SQE ring", ng);
			if (ngfd >= 0)
				close(ngfd);
			munmap(host, CHUNK);
			goto out;
		}
		civ[0] = (struct iovec){ p, MiB };
		civ[1] = (struct iovec){ host, CHUNK };
		ret = io_uring_register_buffers(&cring, civ, 2);
		is_res(ret, 0, "URING_CMD ring: CMB and host buffers registered");
		for (i = 0; i < 2 && !ret; i++) {
			sqe = io_uring_get_sqe(&cring);
			memset(sqe, 0, 2 * sizeof(*sqe));
			sqe->opcode = IORING_OP_URING_CMD;
			sqe->fd = ngfd;
			sqe->cmd_op = NVME_URING_CMD_IO;
			sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
			sqe->buf_index = i;
			sqe->user_data = 7;
			cmd = (struct nvme_uring_cmd *)sqe->cmd;
			cmd->opcode = 0x02;	/* Read */
			cmd->nsid = 1;
			cmd->addr = (uintptr_t)(i ? host : p);
			cmd->data_len = CHUNK;
			cmd->cdw10 = (uint32_t)(SRC_OFF / lba);
			cmd->cdw11 = (uint32_t)((uint64_t)SRC_OFF / lba >> 32);
			cmd->cdw12 = CHUNK / lba - 1;
			io_uring_submit(&cring);
			res = wait_tag(&cring, 7);
			if (i == 0)
				is_res(res, -EOPNOTSUPP,
				       "URING_CMD (NVMe passthrough read on %s) into the CMB buffer", ng);
			else
				is_res(res, 0, "URING_CMD into the host buffer works (the refusal is the CMB's)");
		}
		io_uring_queue_exit(&cring);
		close(ngfd);
		munmap(host, CHUNK);
	}
out:
	io_uring_queue_exit(&ring);
	munmap(p, MiB);
	close(fd);
}

/* The loopback interface up (the guest's init leaves it down). */
static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM, 0), ret = -1;

	if (s < 0)
		return -1;
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return ret;
}

/* A connected TCP pair over loopback: *tx sends, *rx receives. */
static int tcp_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*tx = *rx = -1;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len)) {
		if (l >= 0)
			close(l);
		return -1;
	}
	*tx = socket(AF_INET, SOCK_STREAM, 0);
	if (*tx >= 0 && !connect(*tx, (struct sockaddr *)&a, sizeof(a)))
		*rx = accept(l, NULL, NULL);
	close(l);
	return *rx < 0 ? -1 : 0;
}

/*
 * One SEND_ZC from fixed buffer idx: the first CQE's res, after the
 * notification CQE if one is announced (IORING_CQE_F_MORE).
 */
static long send_zc_fixed(struct io_uring *ring, int sock, void *buf, unsigned int len, int idx)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_S };
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	bool more;
	long res;

	if (!sqe)
		return NO_SQE;
	io_uring_prep_send_zc_fixed(sqe, sock, buf, len, 0, 0, idx);
	sqe->user_data = 0x5e2d;
	io_uring_submit(ring);
	if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
		return HUNG;
	res = cqe->res;
	more = cqe->flags & IORING_CQE_F_MORE;
	io_uring_cqe_seen(ring, cqe);
	if (more && !io_uring_wait_cqe_timeout(ring, &cqe, &ts))
		io_uring_cqe_seen(ring, cqe);	/* the notification: buffer free */
	return res;
}

/*
 * io_uring's network path with peer-to-peer memory: SEND_ZC from a fixed
 * buffer in a CMB region is refused (EOPNOTSUPP: the network stack may
 * hold the pages past the completion, and revocation could not reach
 * them), and nothing reaches the peer socket; the same send from a host
 * fixed buffer of the same table goes through, byte for byte.
 */
static void test_send_zc(void)
{
	struct io_uring ring;
	struct iovec iov[2];
	void *host = host_buf(CHUNK), *got = host_buf(CHUNK);
	const unsigned int len = 8 * KiB;	/* fits the socket buffer at once */
	int fd = -1, tx, rx, ret;
	unsigned char *p = cmb_map(CHUNK, 0, PROT_READ | PROT_WRITE, &fd);
	ssize_t n, total = 0;
	bool ring_ok = false;
	long res;

	if (lo_up() || tcp_pair(&tx, &rx)) {
		result(0, "SEND_ZC: a TCP connection over loopback (the testbed kernel needs CONFIG_INET): %s",
		       strerror(errno));
		goto out_mem;
	}
	ring_ok = p && !io_uring_queue_init(8, &ring, 0);
	if (!ring_ok) {
		result(0, "SEND_ZC: a CMB region and a ring");
		goto out_sock;
	}
	pat_fill(p, CHUNK, 0);
	pat_fill(host, CHUNK, CHUNK);
	iov[0] = (struct iovec){ p, CHUNK };
	iov[1] = (struct iovec){ host, CHUNK };
	ret = io_uring_register_buffers(&ring, iov, 2);
	is_res(ret, 0, "SEND_ZC: CMB and host buffers registered in one table");
	if (ret)
		goto out_ring;
	res = send_zc_fixed(&ring, tx, p, len, 0);
	is_res(res, -EOPNOTSUPP, "SEND_ZC from the CMB fixed buffer is refused");
	n = recv(rx, got, len, MSG_DONTWAIT);
	result(n < 0 && errno == EAGAIN, "and nothing of it reached the receiver (recv: %zd, %s)",
	       n, n < 0 ? strerror(errno) : "data");
	res = send_zc_fixed(&ring, tx, host, len, 1);
	is_res(res, (long)len, "SEND_ZC from the host fixed buffer sends all %u bytes", len);
	while (total < (ssize_t)len && (n = recv(rx, (char *)got + total, len - total, 0)) > 0)
		total += n;
	result(total == (ssize_t)len && pat_diff(got, len, CHUNK) < 0,
	       "the receiver got them, byte for byte (%zd bytes)", total);
out_ring:
	if (ring_ok)
		io_uring_queue_exit(&ring);
out_sock:
	close(tx);
	close(rx);
out_mem:
	if (p)
		munmap(p, CHUNK);
	if (fd >= 0)
		close(fd);
	munmap(host, CHUNK);
	munmap(got, CHUNK);
}

/* What registration refuses. */
static void test_register_errors(long long free0)
{
	struct nvme_p2p_queue_create qc = {
		.argsz = sizeof(qc), .depth = 16, .sq_placement = NVME_P2P_SQ_CMB_PREFERRED,
	};
	struct nvme_p2p_queue_info qi = { .argsz = sizeof(qi) };
	struct io_uring ring;
	struct iovec iov;
	long long f;
	void *p;
	int fd, qfd;

	io_uring_queue_init(4, &ring, 0);

	p = cmb_map(64 * KiB, NVME_P2P_REGION_HOST, PROT_READ | PROT_WRITE, &fd);
	if (p) {
		iov = (struct iovec){ p, 64 * KiB };
		is_res(io_uring_register_buffers(&ring, &iov, 1), -EOPNOTSUPP,
		       "register a host region (NVME_P2P_REGION_HOST)");
		munmap(p, 64 * KiB);
		close(fd);
	} else {
		result(0, "a host region to register");
	}

	qfd = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	if (qfd >= 0 && ioctl(qfd, NVME_P2P_IOCTL_QUEUE_INFO, &qi) == 0) {
		p = mmap(NULL, qi.sq_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, qfd,
			 NVME_P2P_QUEUE_OFF_SQ);
		if (p != MAP_FAILED) {
			iov = (struct iovec){ p, qi.sq_bytes };
			is_res(io_uring_register_buffers(&ring, &iov, 1), -EOPNOTSUPP,
			       "register an exported queue's SQ mapping (%s)",
			       qi.sq_placement == NVME_P2P_SQ_HOST ? "host" : "CMB");
			munmap(p, qi.sq_bytes);
		}
		p = mmap(NULL, qi.db_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, qfd,
			 NVME_P2P_QUEUE_OFF_DB);
		if (p != MAP_FAILED) {
			iov = (struct iovec){ p, qi.db_bytes };
			is_res(io_uring_register_buffers(&ring, &iov, 1), -EOPNOTSUPP,
			       "register an exported queue's doorbell mapping");
			munmap(p, qi.db_bytes);
		}
		close(qfd);
	} else {
		result(1, "register a queue mapping # SKIP no exported queue: %s", strerror(errno));
		if (qfd >= 0)
			close(qfd);
	}

	p = cmb_map(MiB, 0, PROT_READ | PROT_WRITE, &fd);
	if (p) {
		iov = (struct iovec){ p, MiB + 4096 };
		is_res(io_uring_register_buffers(&ring, &iov, 1), -EINVAL,
		       "register an iovec 4 KiB longer than the region mapping");
		iov = (struct iovec){ (char *)p + MiB - 4096, 8192 };
		is_res(io_uring_register_buffers(&ring, &iov, 1), -EINVAL,
		       "register an iovec that starts in the last page and runs past it");
		iov = (struct iovec){ (char *)p + 4096, MiB - 8192 };
		is_res(io_uring_register_buffers(&ring, &iov, 1), 0,
		       "register an iovec inside the mapping, not at its start");
		io_uring_unregister_buffers(&ring);
		munmap(p, MiB);
		close(fd);
	}

	p = cmb_map(MiB, 0, PROT_READ, &fd);
	if (p) {
		iov = (struct iovec){ p, MiB };
		is_res(io_uring_register_buffers(&ring, &iov, 1), -EACCES,
		       "register a read-only (PROT_READ) region mapping");
		munmap(p, MiB);
		close(fd);
	} else {
		result(0, "a read-only region mapping");
	}
	io_uring_queue_exit(&ring);
	/* Closed rings drop their buffers (and regions) in a worker. */
	f = wait_cmb_free(free0);
	result(f == free0, "refused registrations hold no CMB (free %lld, start %lld)", f, free0);
}

/*
 * QD reads from data0 into slots of the CMB buffer [0]; revoke() then
 * runs while they are in flight. All QD complete: res CHUNK or -errno.
 */
static int qd_reads(struct io_uring *ring, int data, char *buf)
{
	struct io_uring_sqe *sqe;
	int i;

	for (i = 0; i < QD; i++) {
		sqe = io_uring_get_sqe(ring);
		io_uring_prep_read_fixed(sqe, data, buf + i * CHUNK, CHUNK,
					 SRC_OFF + i * CHUNK, 0);
		sqe->user_data = 100 + i;
	}
	return io_uring_submit(ring);
}

static void reap_qd(struct io_uring *ring, const char *what, unsigned int before)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_S };
	struct io_uring_cqe *cqe;
	int i, full = 0, errs = 0, odd = 0, got = 0;
	long first_err = 0;

	for (i = 0; i < QD; i++) {
		if (io_uring_wait_cqe_timeout(ring, &cqe, &ts))
			break;
		got++;
		if (cqe->res == (int)CHUNK)
			full++;
		else if (cqe->res < 0) {
			if (!errs++)
				first_err = cqe->res;
		} else
			odd++;
		io_uring_cqe_seen(ring, cqe);
	}
	result(got == QD && odd == 0,
	       "%s: all 16 reads in flight completed, each in full or with an errno (%d full, %d %s, %d short, %d missing)",
	       what, full, errs, errs ? res_str(first_err) : "errors", odd, QD - got);
	diag("%s: %u of 16 had completed before it started", what, before);
}

static void test_revoke_reset(int data, int cmbdev)
{
	char path[128], *cmb, *host = host_buf(CHUNK);
	struct io_uring ring;
	struct iovec iov[2];
	unsigned int before;
	double t0;
	int fd, ret;

	cmb = cmb_map(QD * CHUNK, 0, PROT_READ | PROT_WRITE, &fd);
	if (!cmb) {
		result(0, "reset: a CMB region");
		return;
	}
	io_uring_queue_init(2 * QD, &ring, 0);
	iov[0] = (struct iovec){ cmb, QD * CHUNK };
	iov[1] = (struct iovec){ host, CHUNK };
	ret = io_uring_register_buffers(&ring, iov, 2);
	is_res(ret, 0, "reset: [0] CMB buffer, [1] host buffer registered");
	if (ret)
		goto out;
	qd_reads(&ring, data, cmb);
	before = io_uring_cq_ready(&ring);
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", cmb_ctrl_name);
	t0 = now();
	result(write_sysfs(path, "1") == 0, "reset %s (the CMB's controller) with 16 READ_FIXED in flight",
	       cmb_ctrl_name);
	diag("reset_controller returned after %.2f s", now() - t0);
	reap_qd(&ring, "reset", before);
	is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), -ESTALE,
	       "reset: a new READ_FIXED on the CMB buffer");
	is_res(one(&ring, WR, cmbdev, cmb, CHUNK, SCRATCH_OFF, 0), -ESTALE,
	       "reset: a new WRITE_FIXED from it");
	is_res(one(&ring, RD, data, host, CHUNK, SRC_OFF + CHUNK, 1), CHUNK,
	       "reset: the host buffer in the same table still works");
	result(pat_diff(host, CHUNK, SRC_OFF + CHUNK) < 0, "reset: with the right bytes");
	result(wait_live(), "reset: %s is live again", cmb_ctrl_name);
	is_res(io_uring_register_buffers_update_tag(&ring, 0, &iov[0], NULL, 1), 1,
	       "reset: the CMB slot registered again (io_uring_register_buffers_update_tag)");
	is_res(one(&ring, RD, data, cmb + CHUNK, CHUNK, SRC_OFF + 5 * CHUNK, 0), CHUNK,
	       "reset: READ_FIXED into the re-registered slot");
	result(cpu_view_diff(cmb + CHUNK, CHUNK, SRC_OFF + 5 * CHUNK) < 0,
	       "reset: the bytes are in the CMB (CPU view)");
	is_res(one(&ring, WR, cmbdev, cmb + CHUNK, CHUNK, SCRATCH_OFF + 3 * CHUNK, 0), CHUNK,
	       "reset: WRITE_FIXED from it to %s", cmb_ns);
	result(readback_diff(cmbdev, SCRATCH_OFF + 3 * CHUNK, CHUNK, SRC_OFF + 5 * CHUNK) < 0,
	       "reset: and it landed");
out:
	io_uring_queue_exit(&ring);
	munmap(cmb, QD * CHUNK);
	close(fd);
	munmap(host, CHUNK);
}

static void test_revoke_munmap(int data, int cmbdev)
{
	char *cmb, *host = host_buf(CHUNK);
	struct io_uring ring;
	struct iovec iov[2];
	unsigned int before;
	int fd, ret;

	cmb = cmb_map(QD * CHUNK, 0, PROT_READ | PROT_WRITE, &fd);
	if (!cmb) {
		result(0, "munmap: a CMB region");
		return;
	}
	io_uring_queue_init(2 * QD, &ring, 0);
	iov[0] = (struct iovec){ cmb, QD * CHUNK };
	iov[1] = (struct iovec){ host, CHUNK };
	ret = io_uring_register_buffers(&ring, iov, 2);
	is_res(ret, 0, "munmap: [0] CMB buffer, [1] host buffer registered");
	if (ret)
		goto out;
	qd_reads(&ring, data, cmb);
	before = io_uring_cq_ready(&ring);
	result(munmap(cmb, QD * CHUNK) == 0, "munmap the region mapping with 16 READ_FIXED in flight on it");
	reap_qd(&ring, "munmap", before);
	is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), -ESTALE,
	       "munmap: a new READ_FIXED on the CMB buffer");
	is_res(one(&ring, RD, data, host, CHUNK, SRC_OFF + 2 * CHUNK, 1), CHUNK,
	       "munmap: the host buffer in the same table still works");
	is_res(io_uring_unregister_buffers(&ring), 0, "munmap: unregister the table");
	cmb = mmap(NULL, QD * CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	result(cmb != MAP_FAILED, "munmap: the region mapped again");
	if (cmb == MAP_FAILED)
		goto out_nomap;
	iov[0] = (struct iovec){ cmb, QD * CHUNK };
	is_res(io_uring_register_buffers(&ring, iov, 2), 0, "munmap: the table registered again");
	is_res(one(&ring, RD, data, cmb + 2 * CHUNK, CHUNK, SRC_OFF + 6 * CHUNK, 0), CHUNK,
	       "munmap: READ_FIXED into the new mapping");
	result(cpu_view_diff(cmb + 2 * CHUNK, CHUNK, SRC_OFF + 6 * CHUNK) < 0,
	       "munmap: the bytes are there (CPU view)");
	is_res(one(&ring, WR, cmbdev, cmb + 2 * CHUNK, CHUNK, SCRATCH_OFF + 4 * CHUNK, 0), CHUNK,
	       "munmap: WRITE_FIXED from it");

	/* Unmapped before its first use: nothing was bound yet. */
	io_uring_unregister_buffers(&ring);
	iov[0] = (struct iovec){ cmb, QD * CHUNK };
	ret = io_uring_register_buffers(&ring, iov, 1);
	munmap(cmb, QD * CHUNK);
	if (!ret)
		is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), -ESTALE,
		       "munmap before the buffer's first use: READ_FIXED on it");
	goto out_nomap;
out:
	munmap(cmb, QD * CHUNK);
out_nomap:
	io_uring_queue_exit(&ring);
	close(fd);
	munmap(host, CHUNK);
}

/* A reset before the buffer's first use revokes it all the same. */
static void test_reset_unbound(int data)
{
	char path[128], *cmb;
	struct io_uring ring;
	struct iovec iov;
	int fd, ret;

	cmb = cmb_map(CHUNK, 0, PROT_READ | PROT_WRITE, &fd);
	if (!cmb) {
		result(0, "reset before first use: a CMB region");
		return;
	}
	io_uring_queue_init(4, &ring, 0);
	iov = (struct iovec){ cmb, CHUNK };
	ret = io_uring_register_buffers(&ring, &iov, 1);
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/reset_controller", cmb_ctrl_name);
	if (!ret && write_sysfs(path, "1") == 0 && wait_live())
		is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), -ESTALE,
		       "reset of %s before the buffer's first use: READ_FIXED on it", cmb_ctrl_name);
	else
		result(0, "reset before first use: register (%s), reset, live again", res_str(ret));
	io_uring_queue_exit(&ring);
	munmap(cmb, CHUNK);
	close(fd);
}

/* A child that registers a CMB buffer, starts QD reads and then dies. */
static int child_pipe[2];
static const char *child_data;

static void child_io(void *arg)
{
	bool kill_me = arg != NULL;
	struct io_uring ring;
	struct iovec iov;
	char *cmb;
	int fd, data = open(child_data, O_RDONLY | O_DIRECT);

	cmb = cmb_map(QD * CHUNK, 0, PROT_READ | PROT_WRITE, &fd);
	if (data < 0 || !cmb || io_uring_queue_init(2 * QD, &ring, 0))
		_exit(2);
	iov = (struct iovec){ cmb, QD * CHUNK };
	if (io_uring_register_buffers(&ring, &iov, 1))
		_exit(3);
	close(fd);	/* the mapping and the registration keep it */
	qd_reads(&ring, data, cmb);
	if (write(child_pipe[1], "x", 1) != 1)
		_exit(4);
	if (kill_me)
		pause();	/* the parent kills it */
	_exit(0);		/* no unregister, no munmap, I/O in flight */
}

static void test_exit(long long free0, bool kill_it)
{
	const char *how = kill_it ? "SIGKILL" : "exit";
	int status = -1, entries;
	long long f;
	char c;
	pid_t pid;

	if (pipe(child_pipe))
		return;
	child_data = data_ns;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(child_pipe[0]);
		child_io(kill_it ? (void *)1 : NULL);
	}
	close(child_pipe[1]);
	result(read(child_pipe[0], &c, 1) == 1,
	       "%s: a child registered a CMB buffer and has 16 READ_FIXED in flight", how);
	if (kill_it)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(child_pipe[0]);
	result(kill_it ? WIFSIGNALED(status) : WIFEXITED(status) && !WEXITSTATUS(status),
	       "%s: the child ended (status 0x%x)", how, status);
	f = wait_cmb_free(free0);
	result(f == free0, "%s: CMB free bytes back to %lld (%lld)", how, free0, f);
	entries = list_entries(pid);
	result(entries == 0, "%s: NVME_P2P_IOCTL_LIST shows nothing of the child (%d)", how, entries);
}

/* Unbinding the CMB's controller revokes for good: ENODEV, then rebind. */
static void test_unbind(int data)
{
	char bdf[64] = "", *cmb;
	struct io_uring ring;
	struct iovec iov, iov2[2];
	int fd, again = -1, i, ret;

	ctrl_bdf(bdf, sizeof(bdf));
	cmb = cmb_map(MiB, 0, PROT_READ | PROT_WRITE, &fd);
	if (!cmb || !bdf[0]) {
		result(0, "unbind: a CMB region and the controller's PCI address");
		return;
	}
	io_uring_queue_init(4, &ring, 0);
	iov2[0] = (struct iovec){ cmb, MiB / 2 };
	iov2[1] = (struct iovec){ cmb + MiB / 2, MiB / 2 };
	ret = io_uring_register_buffers(&ring, iov2, 2);
	is_res(ret, 0, "unbind: two CMB buffers registered (two halves of one region)");
	if (!ret)
		is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), CHUNK,
		       "unbind: buffer [0] bound to %s by a READ_FIXED", data_ns);
	result(write_sysfs("/sys/bus/pci/drivers/nvme/unbind", bdf) == 0,
	       "unbind %s (%s) from nvme with the buffers registered", bdf, cmb_ctrl_name);
	if (!ret) {
		is_res(one(&ring, RD, data, cmb, CHUNK, SRC_OFF, 0), -ESTALE,
		       "unbind: READ_FIXED on the revoked buffer [0]");
		is_res(one(&ring, RD, data, cmb + MiB / 2, CHUNK, SRC_OFF, 1), -ESTALE,
		       "unbind: READ_FIXED on buffer [1], never used before the unbind");
	}
	iov = (struct iovec){ cmb, MiB };
	is_res(io_uring_register_buffers_update_tag(&ring, 0, &iov, NULL, 1), -ENODEV,
	       "unbind: registering the slot again with the revoked mapping");
	io_uring_queue_exit(&ring);
	io_uring_queue_init(4, &ring, 0);
	is_res(io_uring_register_buffers(&ring, &iov, 1), -ENODEV,
	       "unbind: registering the revoked mapping on a new ring");
	io_uring_queue_exit(&ring);
	munmap(cmb, MiB);
	close(fd);
	close(ctrl);
	ctrl = -1;
	result(write_sysfs("/sys/bus/pci/drivers/nvme/bind", bdf) == 0, "bind %s again", bdf);
	for (i = 0; i < 100 && again < 0; i++) {
		again = open_ctrl("p2p0");
		if (again < 0)
			usleep(100 * 1000);
	}
	result(again >= 0, "the controller is back (serial p2p0, %s)", ctrl_name);
	if (again >= 0)
		close(again);
}

int main(int argc, char **argv)
{
	long long free0, f;
	int data, cmbdev;
	double t0 = now();

	if (argc != 4) {
		fprintf(stderr, "usage: %s CMB_NS DATA_NS ROOT_NS\n", argv[0]);
		return 2;
	}
	cmb_ns = argv[1];
	data_ns = argv[2];
	root_ns = argv[3];
	ctrl = open_ctrl("p2p0");
	if (ctrl < 0) {
		printf("not ok 1 - open the CMB controller (serial p2p0): %s\n1..1\n",
		       strerror(errno));
		return 1;
	}
	snprintf(cmb_ctrl_name, sizeof(cmb_ctrl_name), "%s", ctrl_name);
	free0 = cmb_free(ctrl);
	diag("CMB controller %s, %lld bytes free; %s -> CMB -> %s, unreachable %s",
	     cmb_ctrl_name, free0, data_ns, cmb_ns, root_ns);
	seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ 0x5eed;

	data = open_dev(data_ns, O_RDWR | O_DIRECT);
	cmbdev = open_dev(cmb_ns, O_RDWR | O_DIRECT);
	if (data < 0 || cmbdev < 0 || !write_source(data)) {
		printf("not ok %d - namespaces open and the source written\n1..%d\n",
		       tap_count + 1, tap_count + 1);
		return 1;
	}

	test_copy(data, cmbdev);
	diag("%.0f s", now() - t0);
	test_mixed(data, cmbdev);
	test_no_cpu_map(data, cmbdev);
	test_targets(data);
	test_send_zc();
	test_register_errors(free0);
	diag("%.0f s", now() - t0);
	test_revoke_reset(data, cmbdev);
	test_revoke_munmap(data, cmbdev);
	test_reset_unbound(data);
	diag("%.0f s", now() - t0);
	test_exit(free0, false);
	test_exit(free0, true);

	f = wait_cmb_free(free0);
	result(f == free0, "no CMB leaked by the whole test: free %lld (start %lld)", f, free0);
	result(list_entries(getpid()) == 0, "NVME_P2P_IOCTL_LIST shows nothing of this process");
	close(cmbdev);
	test_unbind(data);
	close(data);
	diag("%.0f s", now() - t0);
	return done_testing();
}
