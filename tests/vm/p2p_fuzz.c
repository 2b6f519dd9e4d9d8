// SPDX-License-Identifier: GPL-2.0
/* series: nvme-pci-p2p-list-a-controller-s-exports */
/*
 * VM test: a bounded, seeded, randomized fuzz of the nvme-p2p uapi
 * (uapi/linux/nvme_p2p.h) on the controller $SERIAL_CMB names. It keeps a
 * small pool of region and queue descriptors and their mappings, and for
 * FUZZ_STEPS steps picks an operation at random: one of the ioctls on the
 * controller, on a region or on a queue descriptor (also the wrong one),
 * mmap() of a region or a queue at offsets and lengths right and wrong,
 * munmap(), mprotect() or mremap() of all or part of a mapping, close().
 * Arguments are valid values or mutations of them (argsz, flags, reserved
 * and output fields, sizes, pointers).
 *
 * Every errno must be one the header lists for that call (allowed[]
 * below, written from the header only); a call the header says fails
 * must fail, one it says succeeds must succeed, and a success must look
 * sane. Then everything is closed: no region, queue or CMB byte may be
 * left, and the kernel log must have no new warning, bug or oops.
 *
 * The seed is $P2P_FUZZ_SEED, else time-based; it is printed first, so
 * that "P2P_FUZZ_SEED=N tests/vm/p2p_fuzz" replays a run.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "p2p_harness.h"

#define FUZZ_STEPS	20000
#define MAX_REGIONS	6	/* at most 6 x 512 KiB of the 64 MiB CMB */
#define MAX_QUEUES	3	/* of the testbed's 8 reserved queue IDs */
#define MAX_MAPS	16
#define MAX_OBJS	(MAX_REGIONS + MAX_QUEUES + 8)	/* + closed but mapped */
#define MAX_VIOLATIONS_SHOWN 40
#define PG		4096UL

/* The calls, one row each of allowed[]. */
enum call {
	C_INFO, C_REGION_CREATE, C_QUEUE_CREATE, C_PEER, C_LIST,
	C_QUEUE_INFO, C_QUEUE_RESUME,
	C_CTRL_IOCTL_ON_EXPORT,	/* INFO..LIST on a region or queue fd */
	C_QUEUE_IOCTL_ON_OTHER,	/* QUEUE_INFO/RESUME on the controller or a region */
	C_UNKNOWN_IOCTL,	/* unassigned 'N' 0xc5..0xcf on the controller */
	C_MMAP_REGION, C_MMAP_QUEUE, C_MUNMAP, C_MPROTECT, C_MREMAP, C_CLOSE,
	NR_CALLS
};

#define MAX_ERRNO 134

/*
 * Errnos the header (uapi/linux/nvme_p2p.h) lists, per call. The ioctls
 * all get the header's common ones: "Errors common to all: ENOTTY,
 * EFAULT, EINVAL, E2BIG" (its top comment).
 */
#define COMMON ENOTTY, EFAULT, EINVAL, E2BIG
static const struct allowed {
	const char *name;
	int err[16];		/* 0-terminated */
	const char *cite;	/* where the header says so */
} allowed[NR_CALLS] = {
	[C_INFO] = { "INFO", { COMMON },
		"top comment (struct nvme_p2p_info lists none of its own)" },
	[C_REGION_CREATE] = { "REGION_CREATE",
		{ COMMON, ENODEV, ENOSPC, ENOMEM, EMFILE, ENFILE },
		"struct nvme_p2p_region_create: Errors: ENODEV EINVAL ENOSPC E2BIG ENOMEM EMFILE/ENFILE" },
	[C_QUEUE_CREATE] = { "QUEUE_CREATE",
		{ COMMON, EPERM, EOPNOTSUPP, EBUSY, ENOSPC, ENOMEM, ENODEV, EAGAIN,
		  EIO, EMFILE, ENFILE },
		"struct nvme_p2p_queue_create: Errors: EPERM EINVAL EOPNOTSUPP EBUSY ENOSPC ENOMEM ENODEV EAGAIN EIO EMFILE/ENFILE" },
	[C_PEER] = { "PEER", { COMMON, ENODEV },
		"struct nvme_p2p_peer: Errors: ENODEV, EINVAL" },
	[C_LIST] = { "LIST", { COMMON },
		"struct nvme_p2p_list: Errors: EINVAL, EFAULT" },
	[C_QUEUE_INFO] = { "QUEUE_INFO", { COMMON },
		"struct nvme_p2p_queue_info: Errors: ENOTTY EINVAL EFAULT E2BIG" },
	[C_QUEUE_RESUME] = { "QUEUE_RESUME", { COMMON, EAGAIN, ENODEV, EIO },
		"NVME_P2P_IOCTL_QUEUE_RESUME: Errors: EAGAIN ENODEV EIO ENOTTY" },
	[C_CTRL_IOCTL_ON_EXPORT] = { "ctrl-ioctl@export-fd", { ENOTTY },
		"top comment: ENOTTY; a region/queue fd is no controller" },
	[C_QUEUE_IOCTL_ON_OTHER] = { "queue-ioctl@non-queue-fd", { ENOTTY },
		"struct nvme_p2p_queue_info: ENOTTY (not a queue descriptor); QUEUE_RESUME: ENOTTY" },
	[C_UNKNOWN_IOCTL] = { "unknown-ioctl", { ENOTTY },
		"top comment: ENOTTY" },
	[C_MMAP_REGION] = { "mmap(region)", { EINVAL, EPERM, ENODEV },
		"struct nvme_p2p_region_create: mmap() errors: EINVAL EPERM ENODEV" },
	[C_MMAP_QUEUE] = { "mmap(queue)", { EINVAL, EPERM, ENODEV },
		"struct nvme_p2p_queue_create: lengths else EINVAL; PROT_EXEC: EPERM; revoked: ENODEV" },
	[C_MUNMAP] = { "munmap", { EINVAL },
		"region_create: munmap() of part of it ... fail with EINVAL" },
	[C_MPROTECT] = { "mprotect", { EINVAL, EACCES },
		"region_create: mprotect() to add PROT_EXEC: EACCES; of part changing it: EINVAL" },
	[C_MREMAP] = { "mremap", { EFAULT, EINVAL },
		"region_create: mremap() grows: EFAULT; shrinks or moves: EINVAL" },
	[C_CLOSE] = { "close", { 0 }, "(none)" },
};

/* What the header says of one call's outcome. */
enum expect { ANY, MUST_FAIL, MUST_SUCCEED };

/* Shared with the harness's test processes (set up in a constructor). */
struct fuzz_state {
	unsigned int seed;
	int done;			/* the fuzz ran to the end */
	long calls, violations;
	long count[NR_CALLS][MAX_ERRNO + 1];	/* [0]: successes */
	/* the end state */
	long long free0, free_end;
	unsigned int regions_end, queues_used_end, queues_used0;
	int kmsg_fd;
	int klog_bad0;			/* bad lines in the ring at start */
};
static struct fuzz_state *st;

/* --------------------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(int percent)
{
	return (int)below(100) < percent;
}

/* --------------------------------------------------------------------- */

struct obj {
	int kind;		/* 0 free, 1 region, 2 queue */
	int fd;			/* -1 once closed */
	int maps;		/* live mappings of it */
	uint64_t size;		/* region bytes */
	uint32_t flags;
	struct nvme_p2p_queue_info qi;
};

struct map {
	int used;
	int obj;
	unsigned char *addr;
	size_t len;
	int prot;
	int cpu_ok;		/* CPU loads may touch it (not NO_CPU_MAP, not DB) */
};

static struct obj objs[MAX_OBJS];
static struct map maps[MAX_MAPS];
static int ctrl;
static struct nvme_p2p_info info0;
static long step;
static unsigned char *argpage;		/* one RW page, then a PROT_NONE one */
static unsigned char *listbuf;
#define LISTBUF_BYTES (64 * 1024)

static void record(enum call c, long ret, int err, enum expect ex, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Check one call's outcome against the table and the expectation. */
static void record(enum call c, long ret, int err, enum expect ex, const char *fmt, ...)
{
	const char *why = NULL;
	char args[256];
	va_list ap;
	int i, ok = 0;

	st->calls++;
	if (ret >= 0 || ret < -1) {	/* success (mmap: an address) */
		st->count[c][0]++;
		if (ex == MUST_FAIL)
			why = "succeeded; the header says it fails";
	} else {
		st->count[c][err > 0 && err <= MAX_ERRNO ? err : MAX_ERRNO]++;
		for (i = 0; allowed[c].err[i]; i++)
			ok |= allowed[c].err[i] == err;
		if (!ok)
			why = "errno not in the header's list";
		else if (ex == MUST_SUCCEED)
			why = "failed; the header says it succeeds";
	}
	if (!why)
		return;
	st->violations++;
	if (st->violations > MAX_VIOLATIONS_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	printf("# VIOLATION step %ld: %s(%s) = %ld, errno %s: %s [%s]\n", step,
	       allowed[c].name, args, ret, ret == -1 ? strerrorname_np(err) : "-",
	       why, allowed[c].cite);
	fflush(stdout);
}

/* A success that does not look right. */
static void insane(enum call c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void insane(enum call c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	st->violations++;
	if (st->violations > MAX_VIOLATIONS_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# VIOLATION step %ld: %s succeeded but %s\n", step, allowed[c].name, msg);
	fflush(stdout);
}

/* --------------------------------------------------------------------- */
/* CPU reads of mappings, a fault caught rather than fatal. */

static sigjmp_buf fault_jmp;

static void on_fault(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/* 0, or the signal a load from p raised. */
static int load_faults(const unsigned char *p)
{
	struct sigaction sa = { .sa_handler = on_fault }, obus, osegv;
	int sig;

	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	sig = sigsetjmp(fault_jmp, 1);
	if (!sig)
		(void)*(volatile const unsigned char *)p;
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}

static void check_read(enum call c, const struct map *m)
{
	size_t off = below(m->len / PG) * PG;
	int sig;

	if (!m->cpu_ok || !(m->prot & PROT_READ))
		return;
	sig = load_faults(m->addr);
	if (!sig)
		sig = load_faults(m->addr + off);
	if (sig)
		insane(c, "a CPU load of the mapping (%zu bytes at %p) raised %s",
		       m->len, m->addr, strsignal(sig));
}

/* --------------------------------------------------------------------- */
/* Argument structs: valid, or mutated. */

/* Where an argument of argsz bytes (k of them the kernel's struct) goes. */
struct arg {
	void *p;		/* what the ioctl gets */
	uint32_t argsz;
	size_t ksz;
	int bad;		/* the header says the call must fail */
	char what[96];		/* the mutations, for a violation's report */
};

/*
 * Put struct s (ksz bytes) at the end of the argument page, followed by
 * the PROT_NONE page, with a random argsz: sizeof (mostly), 0, below
 * sizeof, larger with a zero tail, larger with a nonzero tail, larger than
 * what is mapped; or pass a bad pointer.
 */
static void place(struct arg *a, const void *s, size_t ksz)
{
	size_t room = ksz, tail = 0;
	unsigned char *p;
	int v = below(100);

	a->ksz = ksz;
	a->argsz = ksz;
	if (v < 60) {
		;
	} else if (v < 65) {
		a->argsz = 0;
		a->bad = 1;
		strcat(a->what, " argsz=0");
	} else if (v < 72) {
		a->argsz = 1 + below(ksz - 1);
		a->bad = 1;
		strcat(a->what, " argsz<sizeof");
	} else if (v < 82) {
		tail = 1 + below(64);
		a->argsz = ksz + tail;
		strcat(a->what, " argsz>sizeof,zero-tail");
	} else if (v < 90) {
		tail = 1 + below(64);
		a->argsz = ksz + tail;
		a->bad = 1;
		strcat(a->what, " argsz>sizeof,nonzero-tail");
	} else if (v < 94) {
		/* runs into the PROT_NONE page, or far beyond it */
		a->argsz = chance(50) ? ksz + PG : UINT32_MAX - below(8);
		a->bad = 1;
		strcat(a->what, " argsz-past-the-mapping");
	} else {
		a->bad = 1;
		strcat(a->what, " bad-pointer");
	}
	room = ksz + tail;
	p = argpage + PG - room;
	memset(p, 0, room);
	memcpy(p, s, ksz);
	memcpy(p, &a->argsz, sizeof(a->argsz));
	if (strstr(a->what, "nonzero-tail"))
		p[ksz + below(tail)] = 1 + below(255);
	a->p = p;
	if (v >= 94) {
		static void *const bad[] = {
			NULL, (void *)8, (void *)(uintptr_t)0xffff880000000000ULL,
		};
		a->p = bad[below(3)];
		if (chance(30))	/* just below the PROT_NONE page: argsz fits, the rest not */
			a->p = argpage + PG - sizeof(uint32_t);
		if (a->p == argpage + PG - sizeof(uint32_t))
			memcpy(a->p, &a->argsz, sizeof(a->argsz));
	}
}

/* Set a random nonzero value in a field the header wants zero on input. */
#define POKE(a, s, field) do {						\
	memset(&(s).field, 0, sizeof((s).field));			\
	*(unsigned char *)&(s).field = 1 + below(255);			\
	(a)->bad = 1;							\
	strcat((a)->what, " " #field "!=0");				\
} while (0)

/* --------------------------------------------------------------------- */
/* The pool. */

static int count_kind(int kind, int with_fd)
{
	int i, n = 0;

	for (i = 0; i < MAX_OBJS; i++)
		n += objs[i].kind == kind && (!with_fd || objs[i].fd >= 0);
	return n;
}

/* A random object of this kind (0: any) with an open fd, or -1. */
static int pick_obj(int kind)
{
	int i, n = 0, pick = -1;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind && objs[i].fd >= 0 && (!kind || objs[i].kind == kind))
			if (below(++n) == 0)
				pick = i;
	return pick;
}

static int pick_map(void)
{
	int i, n = 0, pick = -1;

	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].used && below(++n) == 0)
			pick = i;
	return pick;
}

static void obj_put(int o)
{
	if (objs[o].fd < 0 && objs[o].maps == 0)
		objs[o].kind = 0;
}

static void map_drop(int m)
{
	int o = maps[m].obj;

	maps[m].used = 0;
	objs[o].maps--;
	obj_put(o);
}

/* munmap whole (the pool's own bookkeeping, not a fuzzed call) */
static void map_release(int m)
{
	if (munmap(maps[m].addr, maps[m].len))
		insane(C_MUNMAP, "cleanup munmap(%p, %zu) failed: %s",
		       maps[m].addr, maps[m].len, strerrorname_np(errno));
	map_drop(m);
}

static void obj_release(int o)
{
	int m;

	for (m = 0; m < MAX_MAPS; m++)
		if (maps[m].used && maps[m].obj == o)
			map_release(m);
	if (objs[o].fd >= 0 && close(objs[o].fd))
		insane(C_CLOSE, "cleanup close(%d) failed", objs[o].fd);
	objs[o].fd = -1;
	obj_put(o);
}

/* A free object slot, making room (releasing one) if needed. */
static int obj_slot(int kind)
{
	int max = kind == 1 ? MAX_REGIONS : MAX_QUEUES, i, o;

	while (count_kind(kind, 0) >= max) {
		for (o = -1, i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind == kind && (o < 0 || chance(40)))
				o = i;
		obj_release(o);
	}
	for (i = 0; i < MAX_OBJS; i++)
		if (!objs[i].kind)
			return i;
	for (i = 0; i < MAX_OBJS; i++)		/* full of closed-but-mapped ones */
		if (objs[i].kind) {
			obj_release(i);
			return i;
		}
	return -1;
}

static int map_slot(void)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (!maps[i].used)
			return i;
	i = below(MAX_MAPS);
	map_release(i);
	return i;
}

/* --------------------------------------------------------------------- */
/* The controller's ioctls. */

static void op_info(void)
{
	struct nvme_p2p_info s = { 0 }, *out;
	struct arg a = { 0 };
	long ret;
	int err;

	if (chance(25)) {
		switch (below(4)) {
		case 0: s.flags = 1U << below(32); a.bad = 1; strcat(a.what, " flags!=0"); break;
		case 1: POKE(&a, s, cmb_free); break;
		case 2: POKE(&a, s, reserved0); break;
		default: POKE(&a, s, reserved[below(4)]); break;
		}
	}
	place(&a, &s, sizeof(s));
	errno = 0;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_INFO, a.p);
	err = errno;
	record(C_INFO, ret, err, a.bad ? MUST_FAIL : MUST_SUCCEED, "argsz=%u%s", a.argsz, a.what);
	if (ret)
		return;
	out = a.p;
	if (out->argsz != sizeof(s))
		insane(C_INFO, "argsz written back is %u, not %zu", out->argsz, sizeof(s));
	if (out->cmb_size != info0.cmb_size || out->cmb_free > out->cmb_size)
		insane(C_INFO, "cmb_size %llu / cmb_free %llu",
		       (unsigned long long)out->cmb_size, (unsigned long long)out->cmb_free);
	if (out->regions != (unsigned int)count_kind(1, 0) ||
	    out->queues_used != info0.queues_used + count_kind(2, 0))
		insane(C_INFO, "regions %u, queues_used %u; the test holds %d and %d",
		       out->regions, out->queues_used, count_kind(1, 0), count_kind(2, 0));
}

static void op_region_create(void)
{
	struct nvme_p2p_region_create s = { 0 }, *out;
	struct arg a = { 0 };
	int o = -1, err, v;
	long ret;

	s.size = (1 + below(128)) * PG;	/* up to 512 KiB: the CMB is zeroed through TCG MMIO */
	s.flags = below(4);	/* NO_CPU_MAP, HOST */
	if (chance(30)) {
		v = below(9);
		switch (v) {
		case 0: s.size = 0; a.bad = 1; strcat(a.what, " size=0"); break;
		case 1: s.size = 4095; a.bad = 1; strcat(a.what, " size=4095"); break;
		case 2: s.size = PG + 1 + below(PG - 1); a.bad = 1; strcat(a.what, " size%4096"); break;
		case 3: s.size = (128 + below(1U << 20)) * MiB; strcat(a.what, " size-huge"); break;
		case 4: s.size = UINT64_MAX - below(2) * 4095; strcat(a.what, " size~2^64");
			a.bad = 1; break;	/* 2^64-1 is not 4 KiB granular; 2^64-4096 is */
		case 5: s.flags |= 1U << (2 + below(30)); a.bad = 1; strcat(a.what, " unknown-flag"); break;
		case 6: POKE(&a, s, bus_addr); break;
		case 7: POKE(&a, s, cmb_offset); break;
		default: POKE(&a, s, reserved[below(4)]); break;
		}
	}
	if (s.size == UINT64_MAX - 4095)
		a.bad = 0;
	/* A host region above NVME_P2P_HOST_REGION_MAX: E2BIG. */
	if ((s.flags & NVME_P2P_REGION_HOST) && s.size > NVME_P2P_HOST_REGION_MAX)
		a.bad = 1;
	place(&a, &s, sizeof(s));
	if (!a.bad)
		o = obj_slot(1);
	errno = 0;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_REGION_CREATE, a.p);
	err = errno;
	/* Valid and small: ENOSPC/ENOMEM may still happen, so no MUST_SUCCEED. */
	record(C_REGION_CREATE, ret, err, a.bad ? MUST_FAIL : ANY,
	       "argsz=%u flags=0x%x size=0x%llx%s", a.argsz, s.flags,
	       (unsigned long long)s.size, a.what);
	if (ret < 0)
		return;
	if (o < 0)
		o = obj_slot(1);
	out = a.p;
	if (!out->bus_addr ||
	    (s.flags & NVME_P2P_REGION_HOST ? out->cmb_offset != 0 :
	     out->cmb_offset + s.size > info0.cmb_size))
		insane(C_REGION_CREATE, "bus_addr 0x%llx cmb_offset 0x%llx for %llu bytes",
		       (unsigned long long)out->bus_addr, (unsigned long long)out->cmb_offset,
		       (unsigned long long)s.size);
	objs[o] = (struct obj){ .kind = 1, .fd = ret, .size = s.size, .flags = s.flags };
}

static int queue_info(int fd, struct nvme_p2p_queue_info *qi)
{
	memset(qi, 0, sizeof(*qi));
	qi->argsz = sizeof(*qi);
	return ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, qi);
}

static void op_queue_create(void)
{
	struct nvme_p2p_queue_create s = { 0 }, *out;
	unsigned int maxd = info0.max_queue_depth;
	struct arg a = { 0 };
	int o = -1, err;
	long ret;

	s.depth = 2 + below((maxd < 256 ? maxd : 256) - 1);
	s.sq_placement = below(3);
	s.cq_placement = chance(10) ? NVME_P2P_CQ_CMB : NVME_P2P_CQ_HOST;
	s.flags = below(8);
	if (chance(30)) {
		switch (below(8)) {
		case 0: s.depth = below(2); a.bad = 1; strcat(a.what, " depth<2"); break;
		case 1: s.depth = maxd + 1 + below(UINT32_MAX - maxd); a.bad = 1;
			strcat(a.what, " depth>max"); break;
		case 2: s.sq_placement = 3 + below(253); a.bad = 1; strcat(a.what, " sq_placement"); break;
		case 3: s.cq_placement = 2 + below(254); a.bad = 1; strcat(a.what, " cq_placement"); break;
		case 4: s.flags |= 1U << (3 + below(29)); a.bad = 1; strcat(a.what, " unknown-flag"); break;
		case 5: POKE(&a, s, qid); break;
		case 6:
			/* The dma-buf fields, nonzero without their placement. */
			switch (below(4)) {
			case 0: POKE(&a, s, sq_dmabuf_fd); break;
			case 1: POKE(&a, s, cq_dmabuf_fd); break;
			case 2: POKE(&a, s, sq_dmabuf_offset); break;
			default: POKE(&a, s, cq_dmabuf_offset); break;
			}
			break;
		default: POKE(&a, s, reserved[0]); break;
		}
	}
	/* "EOPNOTSUPP (... CQ in the CMB without CMBSZ.CQS)" */
	if (s.cq_placement == NVME_P2P_CQ_CMB && !(info0.flags & NVME_P2P_INFO_CMB_CQS))
		a.bad = 1;
	place(&a, &s, sizeof(s));
	if (!a.bad)
		o = obj_slot(2);
	errno = 0;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_QUEUE_CREATE, a.p);
	err = errno;
	record(C_QUEUE_CREATE, ret, err, a.bad ? MUST_FAIL : ANY,
	       "argsz=%u flags=0x%x depth=%u sq=%u cq=%u%s", a.argsz, s.flags, s.depth,
	       s.sq_placement, s.cq_placement, a.what);
	if (ret < 0)
		return;
	if (o < 0)
		o = obj_slot(2);
	out = a.p;
	objs[o] = (struct obj){ .kind = 2, .fd = ret, .flags = s.flags };
	if (out->qid < info0.first_qid || out->qid >= info0.first_qid + info0.queues_reserved)
		insane(C_QUEUE_CREATE, "qid %u outside the reserved [%u, %u)", out->qid,
		       info0.first_qid, info0.first_qid + info0.queues_reserved);
	if (queue_info(ret, &objs[o].qi) || objs[o].qi.qid != out->qid ||
	    objs[o].qi.depth != s.depth || objs[o].qi.flags != s.flags ||
	    objs[o].qi.state != NVME_P2P_QUEUE_LIVE)
		insane(C_QUEUE_CREATE, "QUEUE_INFO on it: qid %u depth %u flags 0x%x state %u",
		       objs[o].qi.qid, objs[o].qi.depth, objs[o].qi.flags, objs[o].qi.state);
}

static unsigned int bdf_bus, bdf_devfn, bdf_domain;
static unsigned int edu_bus[2], edu_devfn[2], edu_n;

static void op_peer(void)
{
	struct nvme_p2p_peer s = { 0 }, *out;
	struct arg a = { 0 };
	long ret;
	int err, v = below(4);

	if (v == 0) {
		s.domain = bdf_domain; s.bus = bdf_bus; s.devfn = bdf_devfn;
	} else if (v == 1 && edu_n) {
		v = below(edu_n);
		s.bus = edu_bus[v]; s.devfn = edu_devfn[v];
	} else {
		s.domain = chance(80) ? 0 : rnd();
		s.bus = rnd();
		s.devfn = rnd();
	}
	if (chance(25)) {
		switch (below(6)) {
		case 0: s.flags = 1 + below(UINT32_MAX); a.bad = 1; strcat(a.what, " flags!=0"); break;
		case 1: POKE(&a, s, reach); break;
		case 2: POKE(&a, s, distance); break;
		case 3: POKE(&a, s, reserved0); break;
		case 4: POKE(&a, s, reserved1); break;
		default: POKE(&a, s, reserved[below(2)]); break;
		}
	}
	place(&a, &s, sizeof(s));
	errno = 0;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_PEER, a.p);
	err = errno;
	record(C_PEER, ret, err, a.bad ? MUST_FAIL : ANY, "argsz=%u %04x:%02x:%02x.%x%s",
	       a.argsz, s.domain, s.bus, s.devfn >> 3, s.devfn & 7, a.what);
	if (ret)
		return;
	out = a.p;
	if (out->reach > NVME_P2P_PEER_VIA_HOST_BRIDGE)
		insane(C_PEER, "reach %u", out->reach);
}

static void op_list(void)
{
	struct nvme_p2p_list s = { 0 }, *out;
	struct nvme_p2p_list_entry *e;
	struct arg a = { 0 };
	int err, exist = count_kind(1, 0) + count_kind(2, 0) + info0.regions + info0.queues_used;
	uint32_t room, i;
	size_t at;
	long ret;

	s.entry_size = sizeof(*e);
	if (chance(20))
		s.entry_size += below(3) * 8;
	s.nr_entries = chance(20) ? below(exist + 1) : LISTBUF_BYTES / s.entry_size;
	s.entries = (uintptr_t)listbuf;
	if (chance(30)) {
		switch (below(6)) {
		case 0: s.entry_size = below(sizeof(*e)); a.bad = 1; strcat(a.what, " entry_size<v0"); break;
		case 1: s.flags = 1 + below(UINT32_MAX); a.bad = 1; strcat(a.what, " flags!=0"); break;
		case 2: POKE(&a, s, reserved[below(2)]); break;
		case 3: s.entries = 8; strcat(a.what, " entries=8");
			a.bad = exist && s.nr_entries; break;
		case 4: s.entries = 0; s.nr_entries = 0; strcat(a.what, " count-only"); break;
		default: s.entry_size = 1U << 20; s.nr_entries = 2; strcat(a.what, " entry_size=1M");
			a.bad = exist > 1; break;	/* the 2nd entry is in the PROT_NONE part */
		}
	}
	place(&a, &s, sizeof(s));
	memset(listbuf, 0xa5, LISTBUF_BYTES);
	errno = 0;
	ret = ioctl(ctrl, NVME_P2P_IOCTL_LIST, a.p);
	err = errno;
	record(C_LIST, ret, err, a.bad ? MUST_FAIL : ANY,
	       "argsz=%u entry_size=%u nr_entries=%u entries=0x%llx%s", a.argsz, s.entry_size,
	       s.nr_entries, (unsigned long long)s.entries, a.what);
	if (ret)
		return;
	out = a.p;
	if ((int)out->nr_entries != exist)
		insane(C_LIST, "nr_entries %u; %d exports exist", out->nr_entries, exist);
	if (s.entries != (uintptr_t)listbuf || s.entry_size < sizeof(*e))
		return;
	room = s.nr_entries < out->nr_entries ? s.nr_entries : out->nr_entries;
	for (i = 0; i < room && (size_t)(i + 1) * s.entry_size <= LISTBUF_BYTES; i++) {
		e = (void *)(listbuf + (size_t)i * s.entry_size);
		if (e->type != NVME_P2P_ENTRY_REGION && e->type != NVME_P2P_ENTRY_QUEUE) {
			insane(C_LIST, "entry %u has type %u", i, e->type);
			break;
		}
	}
	at = (size_t)room * s.entry_size;
	if (at < LISTBUF_BYTES && listbuf[at] != 0xa5)
		insane(C_LIST, "wrote past the %u entries it had room for or that exist", room);
}

/* --------------------------------------------------------------------- */
/* Queue descriptor ioctls, and ioctls on the wrong descriptor. */

static void op_queue_info(void)
{
	struct nvme_p2p_queue_info s = { 0 }, *out;
	struct arg a = { 0 };
	int o = pick_obj(2), err;
	long ret;

	if (o < 0)
		return;
	if (chance(25)) {
		switch (below(5)) {
		case 0: POKE(&a, s, flags); break;
		case 1: POKE(&a, s, state); break;
		case 2: POKE(&a, s, reserved0[below(3)]); break;
		case 3: POKE(&a, s, db_addr); break;
		default: POKE(&a, s, reserved[below(4)]); break;
		}
	}
	place(&a, &s, sizeof(s));
	errno = 0;
	ret = ioctl(objs[o].fd, NVME_P2P_IOCTL_QUEUE_INFO, a.p);
	err = errno;
	record(C_QUEUE_INFO, ret, err, a.bad ? MUST_FAIL : MUST_SUCCEED, "argsz=%u%s",
	       a.argsz, a.what);
	if (ret)
		return;
	out = a.p;
	if (out->argsz != sizeof(s) || out->qid != objs[o].qi.qid ||
	    out->sq_bytes != objs[o].qi.sq_bytes || out->db_bytes != objs[o].qi.db_bytes)
		insane(C_QUEUE_INFO, "argsz %u qid %u sq_bytes %u db_bytes %u; was %u %u %u",
		       out->argsz, out->qid, out->sq_bytes, out->db_bytes,
		       objs[o].qi.qid, objs[o].qi.sq_bytes, objs[o].qi.db_bytes);
}

static void op_queue_resume(void)
{
	int o = pick_obj(2), err;
	long ret;

	if (o < 0)
		return;
	errno = 0;
	ret = ioctl(objs[o].fd, NVME_P2P_IOCTL_QUEUE_RESUME, chance(50) ? (void *)8 : NULL);
	err = errno;
	/* "0 if it is live (already resumed)": no reset happens here. */
	record(C_QUEUE_RESUME, ret, err, MUST_SUCCEED, "qid=%u", objs[o].qi.qid);
}

static const struct {
	unsigned long cmd;
	const char *name;
} ctrl_cmds[] = {
	{ NVME_P2P_IOCTL_INFO, "INFO" },
	{ NVME_P2P_IOCTL_REGION_CREATE, "REGION_CREATE" },
	{ NVME_P2P_IOCTL_QUEUE_CREATE, "QUEUE_CREATE" },
	{ NVME_P2P_IOCTL_PEER, "PEER" },
	{ NVME_P2P_IOCTL_LIST, "LIST" },
};

/* A controller ioctl, valid argument or not, on a region or queue fd. */
static void op_ctrl_ioctl_on_export(void)
{
	unsigned char buf[256] = { 0 };
	int o = pick_obj(0), i = below(5), err;
	long ret;

	if (o < 0)
		return;
	*(uint32_t *)buf = chance(70) ? _IOC_SIZE(ctrl_cmds[i].cmd) : below(300);
	if (i == 1)
		((struct nvme_p2p_region_create *)buf)->size = PG;
	if (i == 2)
		((struct nvme_p2p_queue_create *)buf)->depth = 2;
	errno = 0;
	ret = ioctl(objs[o].fd, ctrl_cmds[i].cmd, chance(90) ? (void *)buf : (void *)8);
	err = errno;
	record(C_CTRL_IOCTL_ON_EXPORT, ret, err, MUST_FAIL, "%s on a %s fd", ctrl_cmds[i].name,
	       objs[o].kind == 1 ? "region" : "queue");
	if (ret >= 0 && (i == 1 || i == 2))
		close(ret);
}

/* QUEUE_INFO or QUEUE_RESUME on the controller or a region fd. */
static void op_queue_ioctl_on_other(void)
{
	struct nvme_p2p_queue_info qi = { .argsz = sizeof(qi) };
	int o = pick_obj(1), fd = ctrl, resume = chance(50), err;
	long ret;

	if (o >= 0 && chance(50))
		fd = objs[o].fd;
	errno = 0;
	ret = ioctl(fd, resume ? NVME_P2P_IOCTL_QUEUE_RESUME : NVME_P2P_IOCTL_QUEUE_INFO,
		    chance(90) ? (void *)&qi : (void *)8);
	err = errno;
	record(C_QUEUE_IOCTL_ON_OTHER, ret, err, MUST_FAIL, "%s on the %s fd",
	       resume ? "QUEUE_RESUME" : "QUEUE_INFO", fd == ctrl ? "controller" : "region");
}

/* 'N' numbers next to ours that nothing uses (never 0x40-0x4f: NVMe's own). */
static void op_unknown_ioctl(void)
{
	static const unsigned int nr[] = { 0xc5, 0xc6, 0xc7, 0xcb, 0xcc, 0xcd, 0xce, 0xcf };
	unsigned char buf[256] = { 0 };
	unsigned long cmd;
	unsigned int n = nr[below(sizeof(nr) / sizeof(nr[0]))];
	long ret;
	int err;

	*(uint32_t *)buf = 64;
	cmd = chance(50) ? _IOWR('N', n, struct nvme_p2p_info) : _IO('N', n);
	errno = 0;
	ret = ioctl(ctrl, cmd, buf);
	err = errno;
	record(C_UNKNOWN_IOCTL, ret, err, MUST_FAIL, "cmd=0x%lx", cmd);
}

/* --------------------------------------------------------------------- */
/* mmap and friends. */

static const int prots[] = {
	PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
	PROT_READ | PROT_EXEC, PROT_EXEC, PROT_READ | PROT_WRITE | PROT_EXEC,
};

static int rnd_prot(void)
{
	return chance(70) ? (chance(50) ? PROT_READ : PROT_READ | PROT_WRITE) : prots[below(7)];
}

static int rnd_mflags(int *shared)
{
	int v = below(100);

	*shared = 1;
	if (v < 80)
		return MAP_SHARED;
	if (v < 85)
		return MAP_SHARED_VALIDATE;
	if (v < 90)
		return MAP_SHARED | MAP_POPULATE;
	*shared = 0;
	return chance(80) ? MAP_PRIVATE : MAP_PRIVATE | MAP_POPULATE;
}

static void add_map(int o, void *p, size_t len, int prot, int cpu_ok, enum call c)
{
	int m = map_slot();

	maps[m] = (struct map){ .used = 1, .obj = o, .addr = p, .len = len, .prot = prot,
				.cpu_ok = cpu_ok };
	objs[o].maps++;
	check_read(c, &maps[m]);
}

static void op_mmap_region(void)
{
	int o = pick_obj(1), shared, prot = rnd_prot(), flags = rnd_mflags(&shared), err;
	uint64_t size, off = 0, len, alen;
	enum expect ex;
	void *p;
	int v;

	if (o < 0)
		return;
	size = objs[o].size;
	len = size;
	v = below(100);
	if (v < 40) {
		;					/* the whole region */
	} else if (v < 60) {
		off = below(size / PG) * PG;		/* a part of it */
		len = (1 + below((size - off) / PG)) * PG;
	} else if (v < 65) {
		len = 1 + below(size);			/* not page-sized */
	} else if (v < 70) {
		off = size;				/* at the end */
		len = PG;
	} else if (v < 75) {
		off = size + below(1U << 18) * PG;	/* past the end */
		len = PG * (1 + below(4));
	} else if (v < 80) {
		off = below(size / PG) * PG;		/* running past the end */
		len = size - off + PG * (1 + below(16));
	} else if (v < 85) {
		len = 0;
	} else if (v < 90) {
		off = below(size) | 1;			/* unaligned offset */
		len = PG;
	} else if (v < 95) {
		len = size + (1 + below(1U << 16)) * PG;	/* longer than it */
	} else {
		off = (uint64_t)(1 + below(1U << 10)) << 20;	/* far out, up to 1 GiB */
		len = PG;
	}
	alen = (len + PG - 1) & ~(PG - 1);
	ex = !shared || (prot & PROT_EXEC) || len == 0 || off % PG || off > size ||
		alen > size - off ? MUST_FAIL : MUST_SUCCEED;
	errno = 0;
	p = mmap(NULL, len, prot, flags, objs[o].fd, off);
	err = errno;
	record(C_MMAP_REGION, p == MAP_FAILED ? -1 : (long)(uintptr_t)p, err, ex,
	       "size=0x%llx len=0x%llx prot=%d flags=0x%x off=0x%llx region-flags=0x%x",
	       (unsigned long long)size, (unsigned long long)len, prot, flags,
	       (unsigned long long)off, objs[o].flags);
	if (p == MAP_FAILED)
		return;
	add_map(o, p, alen, prot, !(objs[o].flags & NVME_P2P_REGION_NO_CPU_MAP),
		C_MMAP_REGION);
}

static void op_mmap_queue(void)
{
	static const uint64_t offs[] = {
		NVME_P2P_QUEUE_OFF_SQ, NVME_P2P_QUEUE_OFF_CQ, NVME_P2P_QUEUE_OFF_DB,
	};
	int o = pick_obj(2), shared, prot = rnd_prot(), flags = rnd_mflags(&shared), err;
	int part = below(3), cpu_ok, v;
	uint64_t off, len, exact, alen;
	struct nvme_p2p_queue_info *qi;
	enum expect ex;
	void *p;

	if (o < 0)
		return;
	qi = &objs[o].qi;
	exact = part == 0 ? qi->sq_bytes : part == 1 ? qi->cq_bytes : qi->db_bytes;
	off = offs[part];
	len = exact;
	v = below(100);
	if (v < 55) {
		;
	} else if (v < 65) {
		len = exact + PG * (1 + below(4));	/* too long */
	} else if (v < 72) {
		len = exact > PG ? exact - PG * (1 + below(exact / PG - 1 ? exact / PG - 1 : 1)) :
			1 + below(PG - 1);		/* too short (or one page) */
	} else if (v < 77) {
		len = 0;
	} else if (v < 85) {
		off += PG * (1 + below(4));		/* inside a part */
	} else if (v < 90) {
		off += 1 + below(PG - 1);		/* unaligned */
	} else if (v < 95) {
		off = offs[part] - PG * (part ? 1 : 0);	/* just before a part */
	} else {
		off = NVME_P2P_QUEUE_OFF_DB + 0x10000000ULL * (1 + below(4));
	}
	alen = (len + PG - 1) & ~(PG - 1);
	ex = !shared || (prot & PROT_EXEC) || len == 0 || off != offs[part] || alen != exact ?
		MUST_FAIL : MUST_SUCCEED;
	errno = 0;
	p = mmap(NULL, len, prot, flags, objs[o].fd, off);
	err = errno;
	record(C_MMAP_QUEUE, p == MAP_FAILED ? -1 : (long)(uintptr_t)p, err, ex,
	       "part=%s len=0x%llx (exact 0x%llx) prot=%d flags=0x%x off=0x%llx queue-flags=0x%x",
	       part == 0 ? "SQ" : part == 1 ? "CQ" : "DB", (unsigned long long)len,
	       (unsigned long long)exact, prot, flags, (unsigned long long)off, objs[o].flags);
	if (p == MAP_FAILED)
		return;
	/* CPU loads only from the rings; never from the doorbells. */
	cpu_ok = off == offs[0] ? !(objs[o].flags & NVME_P2P_QUEUE_SQ_NO_CPU_MAP) :
		off == offs[1] ? !(objs[o].flags & NVME_P2P_QUEUE_CQ_NO_CPU_MAP) : 0;
	add_map(o, p, alen, prot, cpu_ok, C_MMAP_QUEUE);
}

/* A random page-aligned part [*a, *a + *l) of map m, not all of it. */
static int part_of(const struct map *m, unsigned char **a, size_t *l)
{
	size_t pages = m->len / PG, first, n;

	if (pages < 2)
		return 0;
	first = below(pages);
	n = 1 + below(pages - first);
	if (first == 0 && n == pages)
		n--;
	*a = m->addr + first * PG;
	*l = n * PG;
	return 1;
}

static void op_munmap(void)
{
	int m = pick_map(), v = below(100), err;
	unsigned char *a;
	size_t l;
	enum expect ex = MUST_FAIL;
	long ret;

	if (m < 0)
		return;
	a = maps[m].addr;
	l = maps[m].len;
	if (v < 50) {
		ex = MUST_SUCCEED;			/* all of it */
		if (chance(30))
			l -= below(PG);			/* the same pages, length rounds up */
	} else if (v < 80) {
		if (!part_of(&maps[m], &a, &l))
			return;
	} else if (v < 90) {
		a += 1 + below(PG - 1);			/* unaligned address */
		l = PG;
	} else {
		l = 0;
	}
	errno = 0;
	ret = munmap(a, l);
	err = errno;
	record(C_MUNMAP, ret, err, ex, "map %p+0x%zx: %p+0x%zx", maps[m].addr, maps[m].len,
	       a, l);
	if (ret)
		return;
	if (ex == MUST_SUCCEED) {
		map_drop(m);
		return;
	}
	/* A part went: the rest of the region is in an unknown state; drop it all. */
	munmap(maps[m].addr, maps[m].len);
	map_drop(m);
}

static void op_mprotect(void)
{
	int m = pick_map(), prot = prots[below(7)], err, whole = chance(60);
	unsigned char *a;
	size_t l;
	enum expect ex;
	long ret;

	if (m < 0)
		return;
	a = maps[m].addr;
	l = maps[m].len;
	if (!whole && !part_of(&maps[m], &a, &l))
		whole = 1;
	/*
	 * "mprotect() to add [PROT_EXEC] fails with EACCES"; "mprotect() of
	 * part of it that changes the protection, fail with EINVAL".
	 */
	if (prot & PROT_EXEC)
		ex = MUST_FAIL;
	else if (whole)
		ex = MUST_SUCCEED;
	else
		ex = prot != maps[m].prot ? MUST_FAIL : ANY;
	errno = 0;
	ret = mprotect(a, l, prot);
	err = errno;
	record(C_MPROTECT, ret, err, ex, "map %p+0x%zx prot %d: %p+0x%zx prot=%d",
	       maps[m].addr, maps[m].len, maps[m].prot, a, l, prot);
	if (ret)
		return;
	if (whole) {
		maps[m].prot = prot;
		check_read(C_MPROTECT, &maps[m]);
	} else if (prot != maps[m].prot) {
		map_release(m);		/* split against the header: drop it */
	}
}

static void op_mremap(void)
{
	int m = pick_map(), v = below(100), flags = 0, err;
	size_t old = 0, nlen = 0;
	unsigned char *a, *scratch = NULL;
	enum expect ex = MUST_FAIL;
	void *p;

	if (m < 0)
		return;
	a = maps[m].addr;
	old = maps[m].len;
	if (v < 30) {
		nlen = old;				/* same size, in place */
		ex = MUST_SUCCEED;
	} else if (v < 50) {
		nlen = old + PG * (1 + below(16));	/* grow */
		flags = chance(50) ? MREMAP_MAYMOVE : 0;
	} else if (v < 65) {
		if (old < 2 * PG)
			return;
		nlen = PG * (1 + below(old / PG - 1));	/* shrink */
		flags = chance(50) ? MREMAP_MAYMOVE : 0;
	} else if (v < 80) {
		/* move: to a PROT_NONE reservation of ours */
		nlen = old;
		scratch = mmap(NULL, old, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (scratch == MAP_FAILED)
			return;
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	} else if (v < 90) {
		old = 0;				/* a second mapping of it */
		nlen = maps[m].len;
		flags = MREMAP_MAYMOVE;
		ex = ANY;
	} else {
		if (!part_of(&maps[m], &a, &old))	/* a part, same size */
			return;
		nlen = old;
		ex = ANY;
	}
	errno = 0;
	p = flags & MREMAP_FIXED ? mremap(a, old, nlen, flags, scratch) :
		mremap(a, old, nlen, flags);
	err = errno;
	record(C_MREMAP, p == MAP_FAILED ? -1 : (long)(uintptr_t)p, err, ex,
	       "map %p+0x%zx: %p old=0x%zx new=0x%zx flags=%d", maps[m].addr, maps[m].len,
	       a, old, nlen, flags);
	if (scratch && (p == MAP_FAILED || p != scratch))
		munmap(scratch, nlen);
	if (p == MAP_FAILED)
		return;
	if (p == maps[m].addr && nlen == maps[m].len && old == nlen)
		return;				/* changed nothing */
	if (old == 0) {				/* a new mapping: let it go */
		munmap(p, nlen);
		return;
	}
	/* Moved, grew or shrank against the header: the old range is no more. */
	munmap(p, nlen);
	munmap(maps[m].addr, maps[m].len);
	map_drop(m);
}

static void op_close(void)
{
	int o = pick_obj(0), err;
	long ret;

	if (o < 0)
		return;
	errno = 0;
	ret = close(objs[o].fd);
	err = errno;
	record(C_CLOSE, ret, err, MUST_SUCCEED, "fd=%d (%s)", objs[o].fd,
	       objs[o].kind == 1 ? "region" : "queue");
	objs[o].fd = -1;
	obj_put(o);
}

/* --------------------------------------------------------------------- */

static const struct {
	void (*fn)(void);
	int weight;
} ops[] = {
	{ op_info, 6 },
	{ op_region_create, 10 },
	{ op_queue_create, 3 },
	{ op_peer, 4 },
	{ op_list, 5 },
	{ op_queue_info, 5 },
	{ op_queue_resume, 3 },
	{ op_ctrl_ioctl_on_export, 3 },
	{ op_queue_ioctl_on_other, 3 },
	{ op_unknown_ioctl, 1 },
	{ op_mmap_region, 14 },
	{ op_mmap_queue, 10 },
	{ op_munmap, 10 },
	{ op_mprotect, 8 },
	{ op_mremap, 8 },
	{ op_close, 4 },
};

static void one_step(void)
{
	int total = 0, i, r;

	for (i = 0; i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		total += ops[i].weight;
	r = below(total);
	for (i = 0; r >= ops[i].weight; i++)
		r -= ops[i].weight;
	ops[i].fn();
}

static void parse_bdf(const char *s, unsigned int *domain, unsigned int *bus,
		      unsigned int *devfn)
{
	unsigned int d = 0, b = 0, dev = 0, fn = 0;

	if (s && sscanf(s, "%x:%x:%x.%x", &d, &b, &dev, &fn) == 4) {
		*domain = d;
		*bus = b;
		*devfn = dev << 3 | fn;
	}
}

/* Kernel log lines that mean the kernel misbehaved. */
static int bad_line(const char *l)
{
	static const char *const pat[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "KASAN", "UBSAN",
		"general protection", "kernel BUG", "list_add corruption",
		"list_del corruption", "refcount_t",
	};
	unsigned int i;

	for (i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
		if (strstr(l, pat[i]))
			return 1;
	return 0;
}

/* Bad lines in the kernel's ring buffer right now (klogctl: no /dev/kmsg). */
static int klog_bad_lines(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), n = 0;
	char *buf, *line, *save;

	if (len <= 0 || !(buf = calloc(1, len + 1)))
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	for (line = strtok_r(len > 0 ? buf : NULL, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		n += bad_line(line);
	free(buf);
	return n;
}

static void __attribute__((constructor)) fuzz_init(void)
{
	const char *s = getenv("P2P_FUZZ_SEED");
	struct timespec ts;

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		abort();
	memset(st, 0, sizeof(*st));
	clock_gettime(CLOCK_REALTIME, &ts);
	st->seed = s && *s ? (unsigned int)strtoul(s, NULL, 0) :
		(unsigned int)(ts.tv_sec ^ ts.tv_nsec ^ getpid());
	/* The kernel log from here on: the fuzz's tests read it last. */
	st->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (st->kmsg_fd >= 0)
		lseek(st->kmsg_fd, 0, SEEK_END);
	st->klog_bad0 = klog_bad_lines();
}

P2P_CMB_FIXTURE(cmb)

TEST_F(cmb, fuzz_errnos_in_header)
{
	char bdf[32], line[512];
	int c, e, m, o, n, kfd;
	unsigned int dom;

	ctrl = self->ctrl;
	printf("# seed %u (replay: P2P_FUZZ_SEED=%u tests/vm/p2p_fuzz)\n", st->seed, st->seed);
	fflush(stdout);
	kfd = open("/dev/kmsg", O_WRONLY);
	if (kfd >= 0) {
		n = snprintf(line, sizeof(line), "p2p_fuzz: seed %u, %d steps\n", st->seed,
			     FUZZ_STEPS);
		if (write(kfd, line, n) != n)
			TH_LOG("cannot mark the kernel log");
		close(kfd);
	}
	rng = st->seed * 0x9e3779b97f4a7c15ULL + 1;
	st->free0 = self->free0;
	st->queues_used0 = self->queues_used0;
	ASSERT_EQ(0, info(ctrl, &info0));
	ASSERT_NE(0, info0.cmb_size) TH_LOG("the controller has no CMB registered as p2pmem");
	ctrl_bdf(bdf, sizeof(bdf));
	parse_bdf(bdf, &bdf_domain, &bdf_bus, &bdf_devfn);
	parse_bdf(getenv("EDU_SWITCH"), &dom, &edu_bus[edu_n], &edu_devfn[edu_n]);
	edu_n += !!getenv("EDU_SWITCH");
	parse_bdf(getenv("EDU_ROOT_BUS"), &dom, &edu_bus[edu_n], &edu_devfn[edu_n]);
	edu_n += !!getenv("EDU_ROOT_BUS");

	argpage = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, argpage);
	ASSERT_EQ(0, mprotect(argpage + PG, PG, PROT_NONE));
	/* LIST's entries, then 2 MiB that fault: a stride past them is EFAULT */
	listbuf = mmap(NULL, LISTBUF_BYTES + 2 * MiB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, listbuf);
	ASSERT_EQ(0, mprotect(listbuf + LISTBUF_BYTES, 2 * MiB, PROT_NONE));
	for (o = 0; o < MAX_OBJS; o++)
		objs[o].fd = -1;

	for (step = 0; step < FUZZ_STEPS; step++)
		one_step();

	/* Everything goes, through the ordinary calls. */
	for (m = 0; m < MAX_MAPS; m++)
		if (maps[m].used)
			map_release(m);
	for (o = 0; o < MAX_OBJS; o++)
		if (objs[o].kind)
			obj_release(o);
	{
		struct nvme_p2p_info in;

		ASSERT_EQ(0, info(ctrl, &in));
		st->free_end = in.cmb_free;
		st->regions_end = in.regions;
		st->queues_used_end = in.queues_used;
	}
	st->done = 1;

	for (c = 0; c < NR_CALLS; c++) {
		long sum = 0;

		for (e = 0; e <= MAX_ERRNO; e++)
			sum += st->count[c][e];
		if (!sum)
			continue;
		n = snprintf(line, sizeof(line), "%s: %ld calls, ok %ld", allowed[c].name, sum,
			     st->count[c][0]);
		for (e = 1; e <= MAX_ERRNO && n < (int)sizeof(line) - 32; e++)
			if (st->count[c][e])
				n += snprintf(line + n, sizeof(line) - n, ", %s %ld",
					      e == MAX_ERRNO ? "other" : strerrorname_np(e),
					      st->count[c][e]);
		printf("# %s\n", line);
	}
	fflush(stdout);
	CHECK(st->violations == 0,
	      "seed %u: %ld calls, %ld outside the header's contract (see VIOLATION lines)",
	      st->seed, st->calls, st->violations);
	printf("# seed %u: %ld calls, %ld errnos or outcomes outside the header's list\n",
	       st->seed, st->calls, st->violations);
}

TEST_F(cmb, no_leak)
{
	CHECK(st->done, "the fuzz ran to the end (seed %u)", st->seed);
	if (!st->done)
		return;
	CHECK(st->regions_end == 0, "regions after closing everything: %u", st->regions_end);
	CHECK(st->queues_used_end == 0 && st->queues_used_end == st->queues_used0,
	      "exported queues after closing everything: %u (before: %u)",
	      st->queues_used_end, st->queues_used0);
	CHECK(st->free_end == st->free0, "cmb_free after closing everything: %lld, before: %lld",
	      st->free_end, st->free0);
}

TEST_F(cmb, kernel_log_clean)
{
	char rec[2048];
	int bad = 0, n;
	ssize_t len;

	if (st->kmsg_fd >= 0) {
		for (;;) {
			len = read(st->kmsg_fd, rec, sizeof(rec) - 1);
			if (len < 0 && errno == EPIPE)	/* overwritten: read on */
				continue;
			if (len <= 0)
				break;
			rec[len] = 0;
			/* "prio,seq,ts,flags;message": prio & 7 <= 3 is an error */
			if (bad_line(rec) || (atoi(rec) & 7) <= 3) {
				bad++;
				printf("# kernel: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			}
		}
		fflush(stdout);
		CHECK(bad == 0, "%d new warning, bug, oops or error lines in the kernel log", bad);
		return;
	}
	n = klog_bad_lines();
	CHECK(n >= 0 && n == st->klog_bad0,
	      "bad lines in the kernel log: %d before the fuzz, %d after", st->klog_bad0, n);
}

TEST_HARNESS_MAIN
