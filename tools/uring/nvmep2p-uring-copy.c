// SPDX-License-Identifier: GPL-2.0
/*
 * nvmep2p-uring-copy: copy a range of one block device (an NVMe namespace)
 * to another through a buffer, with io_uring fixed buffers: READ_FIXED from
 * the source into a slot of the buffer, then WRITE_FIXED from that slot to
 * the destination, QD slots in flight. The buffer is a CMB region of an
 * nvme-p2p controller (--through cmb: the data moves device to device,
 * peer to peer, never through host memory) or ordinary host memory
 * (--through host, for comparison). Like p2pmem-test, with io_uring.
 *
 * Exit: 0 copied (and, with --check, the ranges compare equal), 1 the copy
 * or the check failed, 2 bad usage.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <liburing.h>

#include "nvmep2p.h"

#define PROG		"nvmep2p-uring-copy"
#define CHECK_PIECE	(1U << 20)	/* bytes per pread of --check */

struct opts {
	const char *src, *dst, *cmb;
	bool through_cmb, no_cpu_map, check, json;
	uint64_t chunk, size, count, src_off, dst_off;
	unsigned int qd;
};

struct dev {
	const char *path;
	int fd;
	dev_t rdev;
	uint64_t bytes;
	unsigned int lba;	/* logical block size */
};

enum { SLOT_IDLE, SLOT_READ, SLOT_WRITE };

struct slot {
	int state;
	uint64_t pos;		/* offset in the copy (add src_off / dst_off) */
	unsigned int len;
	char *buf;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [options] SRC DST\n"
"Copy a range of block device SRC to DST with io_uring READ_FIXED and\n"
"WRITE_FIXED through a registered buffer of QD chunk-sized slots.\n"
"\n"
"  --through cmb|host  the buffer: a CMB region of an nvme-p2p controller\n"
"                      (default; device to device, no host memory) or\n"
"                      page-aligned host memory (for comparison)\n"
"  --cmb CTRL          the controller whose CMB holds the buffer: nvmeN,\n"
"                      /dev/nvmeN or serial:SERIAL (default: DST's\n"
"                      controller if it has a CMB, else SRC's)\n"
"  --no-cpu-map        create the CMB region without a CPU mapping\n"
"  --chunk SIZE        bytes per I/O (default 128k; k, m, g suffixes)\n"
"  --qd N              chunks in flight (default 16)\n"
"  --size BYTES        bytes to copy (default: as much as both devices hold)\n"
"  --count N           chunks to copy (instead of --size)\n"
"  --src-offset BYTES  where to start reading SRC (default 0)\n"
"  --dst-offset BYTES  where to start writing DST (default 0)\n"
"  --check             read both ranges back (O_DIRECT pread) and compare\n"
"  --json              print one JSON object instead of the text line\n"
"  -h, --help          this help\n"
"\n"
"SRC and DST are opened O_DIRECT; sizes and offsets must be multiples of\n"
"their logical block size. Exit 0 on success, 1 if the copy or the check\n"
"failed, 2 on bad usage.\n");
}

/* "nvmep2p-uring-copy: MESSAGE[SUFFIX]" on stderr, then exit(code). */
static void vdie(int code, const char *suffix, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0), noreturn));
static void vdie(int code, const char *suffix, const char *fmt, va_list ap)
{
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "%s\n", suffix);
	exit(code);
}

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(2, " (" PROG " -h for help)", fmt, ap);
}

/* "Remote I/O error (EREMOTEIO)" for an errno. */
static const char *err_str(int err)
{
	static char buf[160];
	const char *name = strerrorname_np(err);

	snprintf(buf, sizeof(buf), "%s (%s)", strerror(err), name ? name : "?");
	return buf;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(1, "", fmt, ap);
}

/* 128k, 1m, 4096, 0x1000: bytes. */
static uint64_t parse_size(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		die_usage("%s: '%s' is not a size", opt, s);
	switch (tolower((unsigned char)*end)) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	case 't': shift = 40; end++; break;
	}
	if (shift && tolower((unsigned char)*end) == 'i' && end[1] == 'b')
		end += 2;
	else if (shift && tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		die_usage("%s: '%s' is not a size", opt, s);
	return (uint64_t)v << shift;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_THROUGH = 256, O_CMB, O_NO_CPU_MAP, O_CHUNK, O_QD, O_SIZE,
	       O_COUNT, O_SRC_OFF, O_DST_OFF, O_CHECK, O_JSON };
	static const struct option longopts[] = {
		{ "through", required_argument, NULL, O_THROUGH },
		{ "cmb", required_argument, NULL, O_CMB },
		{ "no-cpu-map", no_argument, NULL, O_NO_CPU_MAP },
		{ "chunk", required_argument, NULL, O_CHUNK },
		{ "qd", required_argument, NULL, O_QD },
		{ "size", required_argument, NULL, O_SIZE },
		{ "count", required_argument, NULL, O_COUNT },
		{ "src-offset", required_argument, NULL, O_SRC_OFF },
		{ "dst-offset", required_argument, NULL, O_DST_OFF },
		{ "check", no_argument, NULL, O_CHECK },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long qd;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->through_cmb = true;
	o->chunk = 128 << 10;
	o->qd = 16;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_THROUGH:
			if (!strcmp(optarg, "cmb"))
				o->through_cmb = true;
			else if (!strcmp(optarg, "host"))
				o->through_cmb = false;
			else
				die_usage("--through: 'cmb' or 'host', not '%s'", optarg);
			break;
		case O_CMB: o->cmb = optarg; break;
		case O_NO_CPU_MAP: o->no_cpu_map = true; break;
		case O_CHUNK: o->chunk = parse_size("--chunk", optarg); break;
		case O_QD:
			errno = 0;
			qd = strtoul(optarg, &end, 0);
			if (errno || end == optarg || *end || !qd || qd > 4096)
				die_usage("--qd: 1 to 4096, not '%s'", optarg);
			o->qd = qd;
			break;
		case O_SIZE: o->size = parse_size("--size", optarg); break;
		case O_COUNT:
			o->count = parse_size("--count", optarg);
			if (!o->count)
				die_usage("--count: at least 1");
			break;
		case O_SRC_OFF: o->src_off = parse_size("--src-offset", optarg); break;
		case O_DST_OFF: o->dst_off = parse_size("--dst-offset", optarg); break;
		case O_CHECK: o->check = true; break;
		case O_JSON: o->json = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (argc - optind != 2)
		die_usage("SRC and DST wanted");
	o->src = argv[optind];
	o->dst = argv[optind + 1];
	if (!o->chunk || o->chunk > (1U << 30))
		die_usage("--chunk: 1 byte to 1 GiB");
	if (o->size && o->count)
		die_usage("--size and --count exclude each other");
	if (o->count && o->count > UINT64_MAX / o->chunk)
		die_usage("--count: too many chunks");
	if (!o->through_cmb && (o->cmb || o->no_cpu_map))
		die_usage("--cmb and --no-cpu-map go with --through cmb");
}

static void open_dev(struct dev *d, const char *path, int flags)
{
	struct stat st;
	int lba;

	d->path = path;
	if (stat(path, &st))
		fail("%s: %s", path, err_str(errno));
	if (!S_ISBLK(st.st_mode))
		fail("%s is not a block device", path);
	d->fd = open(path, flags | O_DIRECT | O_CLOEXEC);
	if (d->fd < 0)
		fail("open %s (O_DIRECT): %s", path, err_str(errno));
	if (fstat(d->fd, &st))
		fail("stat %s: %s", path, err_str(errno));
	d->rdev = st.st_rdev;
	if (ioctl(d->fd, BLKGETSIZE64, &d->bytes))
		fail("%s: BLKGETSIZE64: %s", path, err_str(errno));
	if (ioctl(d->fd, BLKSSZGET, &lba) || lba <= 0)
		fail("%s: BLKSSZGET: %s", path, err_str(errno));
	d->lba = lba;
}

/*
 * The NVMe controller (nvmeN) of a namespace block device, from sysfs:
 * the namespace's parent device. 0, or -1 if it is not one.
 */
static int ctrl_of_dev(const struct dev *d, char *name, size_t size)
{
	char link[PATH_MAX], *real, *slash;
	char class[PATH_MAX];
	int ret = -1;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u",
		 major(d->rdev), minor(d->rdev));
	real = realpath(link, NULL);
	if (!real)
		return -1;
	slash = strrchr(real, '/');
	if (slash) {
		*slash = 0;
		slash = strrchr(real, '/');
	}
	if (slash && !strncmp(slash + 1, "nvme", 4)) {
		snprintf(class, sizeof(class), "/sys/class/nvme/%s", slash + 1);
		if (!access(class, F_OK) && strlen(slash + 1) < size) {
			strcpy(name, slash + 1);
			ret = 0;
		}
	}
	free(real);
	return ret;
}

/* --cmb, or the first of DST's and SRC's controllers that has a CMB. */
static struct nvmep2p_ctrl *open_cmb_ctrl(const struct opts *o,
					  const struct dev *src,
					  const struct dev *dst)
{
	const struct dev *cand[2] = { dst, src };
	struct nvmep2p_ctrl *ctrl;
	struct nvme_p2p_info info;
	char name[64];
	int i, ret;

	if (o->cmb) {
		ret = nvmep2p_ctrl_open(o->cmb, &ctrl);
		if (ret)
			fail("--cmb %s: open: %s%s", o->cmb, err_str(-ret),
			     ret == -ENOTTY ? " (not an nvme-p2p controller)" : "");
		return ctrl;
	}
	for (i = 0; i < 2; i++) {
		if (ctrl_of_dev(cand[i], name, sizeof(name)))
			continue;
		if (nvmep2p_ctrl_open(name, &ctrl))
			continue;
		if (!nvmep2p_ctrl_info(ctrl, &info) && (info.flags & NVME_P2P_INFO_CMB))
			return ctrl;
		nvmep2p_ctrl_close(ctrl);
	}
	fail("neither %s's nor %s's controller has a CMB for nvme-p2p: name one with --cmb",
	     dst->path, src->path);
}

/* A JSON string (paths may hold anything). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		/* Never: one SQE per slot and the ring has QD entries. */
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	if (!sqe)
		fail("no free io_uring SQE");
	return sqe;
}

/*
 * Read both ranges back into host memory and compare. Returns 0 if equal,
 * else 1 with the first differing byte's position in *where.
 */
static int check_ranges(const struct opts *o, const struct dev *src,
			const struct dev *dst, uint64_t total, uint64_t *where)
{
	unsigned char *a, *b;
	uint64_t pos;
	size_t i;

	if (posix_memalign((void **)&a, 4096, CHECK_PIECE) ||
	    posix_memalign((void **)&b, 4096, CHECK_PIECE))
		fail("check: out of memory");
	for (pos = 0; pos < total; pos += CHECK_PIECE) {
		size_t n = total - pos < CHECK_PIECE ? total - pos : CHECK_PIECE;
		ssize_t r;

		r = pread(src->fd, a, n, o->src_off + pos);
		if (r != (ssize_t)n)
			fail("check: read %s at %" PRIu64 ": %s", src->path, o->src_off + pos,
			     r < 0 ? err_str(errno) : "short read");
		r = pread(dst->fd, b, n, o->dst_off + pos);
		if (r != (ssize_t)n)
			fail("check: read %s at %" PRIu64 ": %s", dst->path, o->dst_off + pos,
			     r < 0 ? err_str(errno) : "short read");
		if (memcmp(a, b, n)) {
			for (i = 0; i < n && a[i] == b[i]; i++)
				;
			*where = pos + i;
			fprintf(stderr, PROG ": check: MISMATCH at byte %" PRIu64
				" of the copy (chunk %" PRIu64 "): %s offset %" PRIu64
				" has 0x%02x, %s offset %" PRIu64 " has 0x%02x\n",
				pos + i, (pos + i) / o->chunk, src->path,
				o->src_off + pos + i, a[i], dst->path,
				o->dst_off + pos + i, b[i]);
			free(a);
			free(b);
			return 1;
		}
	}
	free(a);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	struct nvmep2p_region *region = NULL;
	struct nvmep2p_ctrl *ctrl = NULL;
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct dev src, dst;
	struct slot *slots;
	struct iovec iov;
	struct opts o;
	uint64_t total, next = 0, done = 0, where = 0;
	unsigned int i, nslots;
	size_t buf_bytes;
	char *buf;
	double t0, t1;
	int ret, mismatch = 0;

	parse_args(argc, argv, &o);
	open_dev(&src, o.src, O_RDONLY);
	open_dev(&dst, o.dst, O_RDWR);

	if (o.chunk % src.lba || o.chunk % dst.lba)
		fail("--chunk %" PRIu64 " is not a multiple of the logical block size (%s: %u, %s: %u)",
		     o.chunk, src.path, src.lba, dst.path, dst.lba);
	if (o.src_off % src.lba || o.src_off >= src.bytes)
		fail("--src-offset %" PRIu64 ": not a multiple of %u or past the end of %s (%" PRIu64 " bytes)",
		     o.src_off, src.lba, src.path, src.bytes);
	if (o.dst_off % dst.lba || o.dst_off >= dst.bytes)
		fail("--dst-offset %" PRIu64 ": not a multiple of %u or past the end of %s (%" PRIu64 " bytes)",
		     o.dst_off, dst.lba, dst.path, dst.bytes);
	total = o.count ? o.count * o.chunk : o.size;
	if (!total) {
		total = src.bytes - o.src_off;
		if (dst.bytes - o.dst_off < total)
			total = dst.bytes - o.dst_off;
	}
	if (total % src.lba || total % dst.lba)
		fail("--size %" PRIu64 " is not a multiple of the logical block size", total);
	if (total > src.bytes - o.src_off || total > dst.bytes - o.dst_off)
		fail("%" PRIu64 " bytes do not fit: %s has %" PRIu64 " from offset %" PRIu64
		     ", %s has %" PRIu64 " from offset %" PRIu64,
		     total, src.path, src.bytes - o.src_off, o.src_off,
		     dst.path, dst.bytes - o.dst_off, o.dst_off);
	if (src.rdev == dst.rdev && o.src_off < o.dst_off + total &&
	    o.dst_off < o.src_off + total)
		fail("the source and destination ranges overlap on %s", src.path);

	/* QD slots of a chunk each (fewer if the copy is shorter). */
	nslots = o.qd;
	if ((total + o.chunk - 1) / o.chunk < nslots)
		nslots = (total + o.chunk - 1) / o.chunk;
	buf_bytes = ((size_t)nslots * o.chunk + NVMEP2P_PAGE_SIZE - 1) &
		    ~((size_t)NVMEP2P_PAGE_SIZE - 1);

	if (o.through_cmb) {
		ctrl = open_cmb_ctrl(&o, &src, &dst);
		ret = nvmep2p_region_create(ctrl, buf_bytes,
					    o.no_cpu_map ? NVME_P2P_REGION_NO_CPU_MAP : 0,
					    &region);
		if (ret)
			fail("create a CMB region of %zu bytes on %s: %s%s", buf_bytes,
			     nvmep2p_ctrl_name(ctrl), err_str(-ret),
			     ret == -ENOSPC ? " (lower --qd or --chunk)" : "");
		buf = region->map;
	} else {
		buf = mmap(NULL, buf_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			fail("allocate %zu bytes of host memory: %s", buf_bytes, err_str(errno));
	}

	ret = io_uring_queue_init(nslots, &ring, 0);
	if (ret)
		fail("io_uring_queue_init(%u): %s", nslots, err_str(-ret));
	iov.iov_base = buf;
	iov.iov_len = buf_bytes;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret)
		fail("register the %s buffer (%zu bytes) as a fixed buffer: %s%s",
		     o.through_cmb ? "CMB" : "host", buf_bytes, err_str(-ret),
		     o.through_cmb && ret == -EFAULT ?
		     " (a kernel without io_uring p2p buffers?)" : "");

	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		fail("out of memory");
	for (i = 0; i < nslots; i++)
		slots[i].buf = buf + (size_t)i * o.chunk;

	t0 = now();
	while (done < total) {
		struct io_uring_sqe *sqe;
		unsigned int head, seen = 0;

		/* Every idle slot reads the next chunk. */
		for (i = 0; i < nslots && next < total; i++) {
			struct slot *s = &slots[i];

			if (s->state != SLOT_IDLE)
				continue;
			s->pos = next;
			s->len = total - next < o.chunk ? total - next : o.chunk;
			next += s->len;
			s->state = SLOT_READ;
			sqe = get_sqe(&ring);
			io_uring_prep_read_fixed(sqe, src.fd, s->buf, s->len,
						 o.src_off + s->pos, 0);
			io_uring_sqe_set_data64(sqe, i);
		}
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR)
			fail("io_uring_submit: %s", err_str(-ret));

		io_uring_for_each_cqe(&ring, head, cqe) {
			struct slot *s = &slots[cqe->user_data];
			bool reading = s->state == SLOT_READ;

			seen++;
			if (cqe->res < 0)
				fail("%s %s at offset %" PRIu64 " (%u bytes, slot %u of the %s buffer): %s",
				     reading ? "read (READ_FIXED) of" : "write (WRITE_FIXED) to",
				     reading ? src.path : dst.path,
				     (reading ? o.src_off : o.dst_off) + s->pos, s->len,
				     (unsigned int)cqe->user_data,
				     o.through_cmb ? "CMB" : "host", err_str(-cqe->res));
			if ((unsigned int)cqe->res != s->len)
				fail("%s %s at offset %" PRIu64 ": short, %d of %u bytes",
				     reading ? "read (READ_FIXED) of" : "write (WRITE_FIXED) to",
				     reading ? src.path : dst.path,
				     (reading ? o.src_off : o.dst_off) + s->pos,
				     cqe->res, s->len);
			if (reading) {
				s->state = SLOT_WRITE;
				sqe = get_sqe(&ring);
				io_uring_prep_write_fixed(sqe, dst.fd, s->buf, s->len,
							  o.dst_off + s->pos, 0);
				io_uring_sqe_set_data64(sqe, cqe->user_data);
			} else {
				s->state = SLOT_IDLE;
				done += s->len;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	if (fdatasync(dst.fd))
		fail("flush %s: %s", dst.path, err_str(errno));
	t1 = now();

	/* The buffer goes first: the region's memory returns to the CMB. */
	io_uring_queue_exit(&ring);
	if (region)
		nvmep2p_region_destroy(region);
	else
		munmap(buf, buf_bytes);

	if (o.check)
		mismatch = check_ranges(&o, &src, &dst, total, &where);

	if (o.json) {
		printf("{\"src\": ");
		json_str(src.path);
		printf(", \"dst\": ");
		json_str(dst.path);
		printf(", \"through\": \"%s\", ", o.through_cmb ? "cmb" : "host");
		if (ctrl) {
			printf("\"cmb\": ");
			json_str(nvmep2p_ctrl_name(ctrl));
			printf(", ");
		}
		printf("\"chunk\": %" PRIu64 ", \"qd\": %u, \"bytes\": %" PRIu64
		       ", \"seconds\": %.6f, \"mb_per_s\": %.2f, \"check\": \"%s\"",
		       o.chunk, o.qd, total, t1 - t0, total / (t1 - t0) / 1e6,
		       !o.check ? "not run" : mismatch ? "fail" : "pass");
		if (mismatch)
			printf(", \"mismatch_at\": %" PRIu64, where);
		printf("}\n");
	} else {
		printf("copied %" PRIu64 " bytes %s -> %s through %s%s in %.3f s: %.1f MB/s "
		       "(chunk %" PRIu64 ", qd %u)%s\n",
		       total, src.path, dst.path, o.through_cmb ? "the CMB of " : "host memory",
		       ctrl ? nvmep2p_ctrl_name(ctrl) : "", t1 - t0,
		       total / (t1 - t0) / 1e6, o.chunk, o.qd,
		       !o.check ? "" : mismatch ? "; check: MISMATCH" : "; check: equal");
	}
	if (ctrl)
		nvmep2p_ctrl_close(ctrl);
	free(slots);
	return mismatch ? 1 : 0;
}
