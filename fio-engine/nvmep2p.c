// SPDX-License-Identifier: GPL-2.0
/*
 * fio external ioengine "nvmep2p": I/O through NVMe queue pairs that
 * nvme-pci exports (uapi/linux/nvme_p2p.h), driven from user space with
 * libnvmep2p. Each fio job creates its own queue pair on the controller
 * named by the controller= option; submission is SQE stores plus one SQ
 * doorbell write per batch, completion is CQ polling: no system call on
 * the data path.
 *
 *   fio --ioengine=external:/path/to/nvmep2p.so --controller=serial:p2p0 \
 *       --nsid=1 --sq_placement=cmb --rw=randread --bs=4k --iodepth=32 ...
 *
 * Data buffers are a data region of the controller (host memory or CMB,
 * buf_placement=), which fio fills and checks through the CPU mapping, so
 * verify= works as with any engine. Built against the fio source that
 * matches the installed fio (fio-engine/fio-source).
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/udmabuf.h>

/* fio's Makefile derives this from configure's CONFIG_64BIT. */
#ifndef BITS_PER_LONG
#ifdef CONFIG_64BIT
#define BITS_PER_LONG 64
#else
#define BITS_PER_LONG 32
#endif
#endif

#include "fio.h"
#include "optgroup.h"

#include "nvmep2p.h"

/* The ioengine_ops layout this file fills in. */
_Static_assert(FIO_IOOPS_VERSION == 31, "written for fio's ioengine API 31");

#define ENGINE		"nvmep2p"

/* Where a ring lives: the last two are dma-bufs of another device's memory. */
enum ring_placement {
	RING_PLACE_CMB,		/* this controller's CMB (SQ only) */
	RING_PLACE_HOST,
	RING_PLACE_UDMABUF,	/* host memory of a memfd, through udmabuf */
	RING_PLACE_PEER,	/* a CMB region of the controller ring_peer= names */
};

enum buf_placement {
	BUF_PLACE_HOST,
	BUF_PLACE_CMB,
};

enum poll_mode {
	POLL_ADAPTIVE,
	POLL_SPIN,
	POLL_YIELD,
	POLL_SLEEP,
};

/* The first member is fio's: it stores the thread_data pointer there. */
struct nvmep2p_options {
	void *pad;
	char *controller;
	unsigned int nsid;
	unsigned int sq_placement;
	unsigned int cq_placement;
	char *ring_peer;
	unsigned int buf_placement;
	unsigned int poll_mode;
	unsigned int poll_sleep_us;
	unsigned int stall_ms;
	unsigned int poll_report;
};

/* Memory of another device that holds rings: a dma-buf and the CPU's view. */
struct ring_mem {
	int dmabuf;			/* -1 once the queue holds it */
	void *cpu;
	size_t size;
	void *map;			/* udmabuf: the memfd's mapping */
	struct nvmep2p_ctrl *peer;	/* peer: the controller and its region */
	struct nvmep2p_region *region;
};

/* Per job (fio thread or process) state, td->io_ops_data. */
struct nvmep2p_data {
	struct nvmep2p_ctrl *ctrl;
	struct nvmep2p_ns_info ns;
	struct nvmep2p_queue *q;
	struct ring_mem rings[2];	/* SQ's, CQ's (if in dma-bufs) */
	struct nvmep2p_region *bufs;	/* the io_u buffers (iomem_alloc) */
	struct nvmep2p_region *pool;	/* PRP lists and DSM ranges */
	struct io_u **events;		/* completions of the last getevents */
	struct io_u **pending;		/* queued since the last commit */
	struct nvmep2p_cmpl *cmpl;	/* what one poll reaps */
	struct nvmep2p_wait wait;	/* the completion wait's policy and state */
	unsigned int nr_events;
	unsigned int nr_pending;
	unsigned int depth;		/* fio's iodepth */
	uint64_t lba_mask;
	size_t max_transfer;		/* bytes, 0: no limit */
	/* For poll_report: commands, and the job's start. */
	unsigned long long commands;
	/* For poll_report: SQ tail doorbell writes and their time, and
	 * the time in reaps (poll: the CQEs and the CQ head doorbell). */
	unsigned long long doorbells, doorbell_ns, reap_ns, queue_ns;
	struct timespec start;
};

static const char *ring_placement_name[] = {
	[RING_PLACE_CMB] = "cmb",
	[RING_PLACE_HOST] = "host",
	[RING_PLACE_UDMABUF] = "udmabuf",
	[RING_PLACE_PEER] = "peer",
};

static const char *buf_placement_name[] = {
	[BUF_PLACE_HOST] = "host",
	[BUF_PLACE_CMB] = "cmb",
};

static struct fio_option options[] = {
	{
		.name	= "controller",
		.lname	= "NVMe controller",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct nvmep2p_options, controller),
		.help	= "Controller whose queues to use: nvmeN, /dev/nvmeN or serial:SERIAL",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "nsid",
		.lname	= "Namespace ID",
		.type	= FIO_OPT_INT,
		.off1	= offsetof(struct nvmep2p_options, nsid),
		.minval	= 1,
		.maxval	= 0xfffffffe,
		.def	= "1",
		.help	= "Namespace the I/O goes to",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "sq_placement",
		.lname	= "Submission queue placement",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct nvmep2p_options, sq_placement),
		.def	= "cmb",
		.help	= "Where the exported submission queue lives",
		.posval	= {
			{ .ival = "cmb", .oval = RING_PLACE_CMB,
			  .help = "In the controller memory buffer (fails without CMBSZ.SQS)" },
			{ .ival = "host", .oval = RING_PLACE_HOST,
			  .help = "In host memory" },
			{ .ival = "udmabuf", .oval = RING_PLACE_UDMABUF,
			  .help = "In host memory of a memfd, passed as a udmabuf dma-buf (a GPU's memory stand-in)" },
			{ .ival = "peer", .oval = RING_PLACE_PEER,
			  .help = "In a CMB region of the controller ring_peer= names, passed as a dma-buf" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "cq_placement",
		.lname	= "Completion queue placement",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct nvmep2p_options, cq_placement),
		.def	= "host",
		.help	= "Where the exported completion queue lives",
		.posval	= {
			{ .ival = "host", .oval = RING_PLACE_HOST,
			  .help = "In host memory" },
			{ .ival = "udmabuf", .oval = RING_PLACE_UDMABUF,
			  .help = "In host memory of a memfd, passed as a udmabuf dma-buf" },
			{ .ival = "peer", .oval = RING_PLACE_PEER,
			  .help = "In a CMB region of the controller ring_peer= names, passed as a dma-buf" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "ring_peer",
		.lname	= "Ring memory controller",
		.type	= FIO_OPT_STR_STORE,
		.off1	= offsetof(struct nvmep2p_options, ring_peer),
		.help	= "With sq_placement=peer or cq_placement=peer: the controller whose CMB holds the rings (nvmeN, /dev/nvmeN or serial:SERIAL)",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "buf_placement",
		.lname	= "Data buffer placement",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct nvmep2p_options, buf_placement),
		.def	= "host",
		.help	= "Where the I/O buffers live",
		.posval	= {
			{ .ival = "host", .oval = BUF_PLACE_HOST,
			  .help = "A host memory region of the controller (at most 4 MiB)" },
			{ .ival = "cmb", .oval = BUF_PLACE_CMB,
			  .help = "A region of the controller memory buffer" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "poll_mode",
		.lname	= "Completion polling",
		.type	= FIO_OPT_STR,
		.off1	= offsetof(struct nvmep2p_options, poll_mode),
		.def	= "adaptive",
		.help	= "What to do while waiting for a completion",
		.posval	= {
			{ .ival = "adaptive", .oval = POLL_ADAPTIVE,
			  .help = "Sleep through the time completions are expected to take, then poll; wait for half the commands in flight (libnvmep2p's hybrid wait)" },
			{ .ival = "spin", .oval = POLL_SPIN,
			  .help = "Busy-poll the completion queue (no system calls)" },
			{ .ival = "yield", .oval = POLL_YIELD,
			  .help = "sched_yield() between polls of an empty queue" },
			{ .ival = "sleep", .oval = POLL_SLEEP,
			  .help = "Sleep poll_sleep_us between polls of an empty queue" },
		},
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "poll_sleep_us",
		.lname	= "Poll sleep",
		.type	= FIO_OPT_INT,
		.off1	= offsetof(struct nvmep2p_options, poll_sleep_us),
		.minval	= 1,
		.maxval	= 1000000,
		.def	= "10",
		.help	= "Microseconds to sleep between polls with poll_mode=sleep",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "stall_ms",
		.lname	= "Stall check",
		.type	= FIO_OPT_INT,
		.off1	= offsetof(struct nvmep2p_options, stall_ms),
		.minval	= 1,
		.maxval	= 3600000,
		.def	= "200",
		.help	= "Ask the kernel about the queue (reset, revoke) after this long without a completion",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= "poll_report",
		.lname	= "Polling report",
		.type	= FIO_OPT_BOOL,
		.off1	= offsetof(struct nvmep2p_options, poll_report),
		.def	= "0",
		.help	= "At the end, print the share of the job's time spent polling an empty completion queue",
		.category = FIO_OPT_C_ENGINE,
		.group	= FIO_OPT_G_INVALID,
	},
	{
		.name	= NULL,
	},
};

/* Bytes fio will ask iomem_alloc() for (see init_io_u_buffers()). */
static unsigned long long io_mem_bytes(struct thread_data *td)
{
	unsigned long long bytes = td_max_bs(td) * td->o.iodepth;

	if (td->o.odirect || td->o.mem_align || td->o.oatomic)
		bytes += 2 * page_size + td->o.mem_align;
	return (bytes + NVMEP2P_PAGE_SIZE - 1) & ~(NVMEP2P_PAGE_SIZE - 1ULL);
}

/*
 * Everything that can be checked before a queue is created: runs in fio's
 * main process (setup_files()), so a bad job fails with one message and
 * nothing created. Returns 0 or -errno; *ctrlp is opened on success.
 */
static int check_job(struct thread_data *td, struct nvmep2p_ctrl **ctrlp,
		     struct nvmep2p_ns_info *ns, struct nvme_p2p_info *info)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_ctrl *ctrl;
	unsigned long long bytes;
	const char *name;
	int ret, ddir;

	if (td->io_ops->options != options) {
		log_err(ENGINE ": built against a different fio than the one running it\n");
		return -EINVAL;
	}
	if (!o->controller || !*o->controller) {
		log_err(ENGINE ": controller= is required (nvmeN, /dev/nvmeN or serial:SERIAL)\n");
		return -EINVAL;
	}
	ret = nvmep2p_ctrl_open(o->controller, &ctrl);
	if (ret) {
		if (ret == -ENOTTY)
			log_err(ENGINE ": controller %s: no nvme-p2p export in this kernel (or not an NVMe controller)\n",
				o->controller);
		else
			log_err(ENGINE ": controller %s: %s\n", o->controller,
				strerror(-ret));
		return ret;
	}
	name = nvmep2p_ctrl_name(ctrl);
	ret = nvmep2p_ctrl_info(ctrl, info);
	if (ret) {
		log_err(ENGINE ": %s: NVME_P2P_IOCTL_INFO: %s\n", name, strerror(-ret));
		goto err;
	}
	ret = -EOPNOTSUPP;
	if (!info->queues_reserved) {
		log_err(ENGINE ": %s has no I/O queues reserved for export (boot with nvme.p2p_queues=N)\n",
			name);
		goto err;
	}
	if ((o->sq_placement == RING_PLACE_PEER || o->cq_placement == RING_PLACE_PEER) &&
	    (!o->ring_peer || !*o->ring_peer)) {
		log_err(ENGINE ": sq_placement=peer and cq_placement=peer need ring_peer= (the controller whose CMB holds the rings)\n");
		ret = -EINVAL;
		goto err;
	}
	if (o->sq_placement == RING_PLACE_CMB && !(info->flags & NVME_P2P_INFO_CMB_SQS)) {
		log_err(ENGINE ": %s has no CMB that can hold submission queues (CMBSZ.SQS); use sq_placement=host\n",
			name);
		goto err;
	}
	if (o->buf_placement == BUF_PLACE_CMB &&
	    (info->flags & (NVME_P2P_INFO_CMB | NVME_P2P_INFO_CMB_RDS | NVME_P2P_INFO_CMB_WDS)) !=
	    (NVME_P2P_INFO_CMB | NVME_P2P_INFO_CMB_RDS | NVME_P2P_INFO_CMB_WDS)) {
		log_err(ENGINE ": %s has no CMB for data (CMBSZ.RDS and WDS); use buf_placement=host\n",
			name);
		goto err;
	}
	ret = -EINVAL;
	if (td->o.iodepth + 1 > info->max_queue_depth) {
		log_err(ENGINE ": iodepth=%u is above what %s's queues hold (%u)\n",
			td->o.iodepth, name, info->max_queue_depth - 1);
		goto err;
	}
	if (info->max_transfer && td_max_bs(td) > info->max_transfer) {
		log_err(ENGINE ": bs %llu is above %s's largest transfer (%u bytes)\n",
			td_max_bs(td), name, info->max_transfer);
		goto err;
	}
	bytes = io_mem_bytes(td);
	if (o->buf_placement == BUF_PLACE_HOST && bytes > NVME_P2P_HOST_REGION_MAX) {
		log_err(ENGINE ": iodepth x bs needs %llu KiB of buffers, host regions hold %u KiB; lower them or use buf_placement=cmb\n",
			bytes >> 10, NVME_P2P_HOST_REGION_MAX >> 10);
		goto err;
	}
	if (o->buf_placement == BUF_PLACE_CMB && bytes > info->cmb_free) {
		log_err(ENGINE ": iodepth x bs needs %llu KiB of buffers, %s has %llu KiB of CMB free\n",
			bytes >> 10, name, (unsigned long long)info->cmb_free >> 10);
		ret = -ENOSPC;
		goto err;
	}

	ret = nvmep2p_ns_info(ctrl, o->nsid, ns);
	if (ret) {
		if (ret == -ENXIO)
			log_err(ENGINE ": %s has no active namespace %u\n", name, o->nsid);
		else
			log_err(ENGINE ": %s: namespace %u: %s\n", name, o->nsid,
				strerror(-ret));
		goto err;
	}
	if (ns->meta_size) {
		log_err(ENGINE ": %s namespace %u has %u metadata bytes per block; only formats without metadata are supported\n",
			name, o->nsid, ns->meta_size);
		ret = -EOPNOTSUPP;
		goto err;
	}
	ret = -EINVAL;
	for (ddir = DDIR_READ; ddir < DDIR_RWDIR_CNT; ddir++) {
		if (td->o.min_bs[ddir] % ns->lba_size ||
		    td->o.max_bs[ddir] % ns->lba_size) {
			log_err(ENGINE ": %s block sizes must be multiples of the %u-byte logical block of %s namespace %u\n",
				io_ddir_name(ddir), ns->lba_size, name, o->nsid);
			goto err;
		}
	}
	if (td->o.bs_unaligned) {
		log_err(ENGINE ": bs_unaligned is not supported (logical block %u bytes)\n",
			ns->lba_size);
		goto err;
	}
	if (td->o.mem_align & 3) {
		log_err(ENGINE ": iomem_align must be a multiple of 4 (PRP alignment)\n");
		goto err;
	}
	*ctrlp = ctrl;
	return 0;
err:
	nvmep2p_ctrl_close(ctrl);
	return ret;
}

/*
 * fio's setup hook: validate the job and size its files. A "file" is the
 * namespace: its name is only a label (the job name when filename= is not
 * given).
 */
static int fio_nvmep2p_setup(struct thread_data *td)
{
	struct nvmep2p_ctrl *ctrl;
	struct nvmep2p_ns_info ns;
	struct nvme_p2p_info info;
	struct fio_file *f;
	unsigned int i;

	if (check_job(td, &ctrl, &ns, &info))
		return 1;
	nvmep2p_ctrl_close(ctrl);

	for_each_file(td, f, i) {
		f->real_file_size = ns.nsze << ns.lba_shift;
		f->filetype = FIO_TYPE_BLOCK;
		fio_file_set_size_known(f);
	}
	return 0;
}

/* Let go of ring memory: after the queue, which holds its own reference. */
static void ring_mem_close(struct ring_mem *m)
{
	if (m->dmabuf >= 0)
		close(m->dmabuf);
	if (m->map)
		munmap(m->map, m->size);
	nvmep2p_region_destroy(m->region);
	nvmep2p_ctrl_close(m->peer);
	memset(m, 0, sizeof(*m));
	m->dmabuf = -1;
}

/* size bytes of another device's memory, as a placement asks for it. */
static int ring_mem_open(struct nvmep2p_options *o, unsigned int where, size_t size,
			 struct ring_mem *m)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = size };
	int memfd, dev, ret;

	m->size = size;
	if (where == RING_PLACE_PEER) {
		ret = nvmep2p_ctrl_open(o->ring_peer, &m->peer);
		if (!ret)
			ret = nvmep2p_region_create(m->peer, size, 0, &m->region);
		if (ret)
			return ret;
		m->cpu = m->region->addr;
		m->dmabuf = nvmep2p_region_dmabuf(m->region, 0, 0);
		return m->dmabuf < 0 ? m->dmabuf : 0;
	}
	memfd = memfd_create("nvmep2p-ring", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd < 0)
		return -errno;
	ret = -errno;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev >= 0 && !ftruncate(memfd, size) &&
	    fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0) {
		c.memfd = memfd;
		m->dmabuf = ioctl(dev, UDMABUF_CREATE, &c);
		ret = m->dmabuf < 0 ? -errno : 0;
	} else {
		ret = -errno;
	}
	if (!ret) {
		m->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			ret = -errno;
		}
		m->cpu = m->map;
	}
	if (dev >= 0)
		close(dev);
	close(memfd);
	return ret;
}

static void free_data(struct nvmep2p_data *d)
{
	nvmep2p_queue_destroy(d->q);
	ring_mem_close(&d->rings[0]);
	ring_mem_close(&d->rings[1]);
	nvmep2p_region_destroy(d->pool);
	nvmep2p_region_destroy(d->bufs);
	nvmep2p_ctrl_close(d->ctrl);
	free(d->events);
	free(d->pending);
	free(d->cmpl);
	free(d);
}

/*
 * The job's queue pair: rings where sq_placement= and cq_placement= say.
 * Rings in another device's memory share one piece of it when both are
 * in the same kind: the SQ at 0, the CQ after it.
 */
static int queue_create(struct nvmep2p_options *o, struct nvmep2p_data *d,
			const struct nvmep2p_queue_params *params)
{
	size_t sq_bytes = ((size_t)params->depth * 64 + NVMEP2P_PAGE_SIZE - 1) &
			  ~(size_t)(NVMEP2P_PAGE_SIZE - 1);
	size_t cq_bytes = ((size_t)params->depth * 16 + NVMEP2P_PAGE_SIZE - 1) &
			  ~(size_t)(NVMEP2P_PAGE_SIZE - 1);
	bool sq_buf = o->sq_placement >= RING_PLACE_UDMABUF;
	bool cq_buf = o->cq_placement >= RING_PLACE_UDMABUF;
	bool shared = sq_buf && o->sq_placement == o->cq_placement;
	struct nvmep2p_ring_mem sq, cq;
	struct ring_mem *cm;
	int ret;

	if (!sq_buf && !cq_buf)
		return nvmep2p_queue_create(d->ctrl, params, &d->q);
	if (sq_buf) {
		ret = ring_mem_open(o, o->sq_placement, shared ? sq_bytes + cq_bytes : sq_bytes,
				    &d->rings[0]);
		if (ret)
			return ret;
		sq = (struct nvmep2p_ring_mem){ d->rings[0].dmabuf, 0, d->rings[0].cpu };
	}
	if (cq_buf) {
		cm = shared ? &d->rings[0] : &d->rings[1];
		if (!shared) {
			ret = ring_mem_open(o, o->cq_placement, cq_bytes, cm);
			if (ret)
				return ret;
		}
		cq = (struct nvmep2p_ring_mem){ cm->dmabuf, shared ? sq_bytes : 0,
						(char *)cm->cpu + (shared ? sq_bytes : 0) };
	}
	ret = nvmep2p_queue_create_dmabuf(d->ctrl, params, sq_buf ? &sq : NULL,
					  cq_buf ? &cq : NULL, &d->q);
	/* The queue holds the dma-bufs; the CPU views stay until cleanup. */
	if (d->rings[0].dmabuf >= 0)
		close(d->rings[0].dmabuf);
	if (d->rings[1].dmabuf >= 0)
		close(d->rings[1].dmabuf);
	d->rings[0].dmabuf = d->rings[1].dmabuf = -1;
	return ret;
}

/* In the job's own process: create its queue pair and PRP pool. */
static int fio_nvmep2p_init(struct thread_data *td)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_queue_params params = { 0 };
	struct nvme_p2p_info info;
	struct nvmep2p_data *d;
	unsigned int pool_flags;
	size_t pool_bytes;
	const char *name;
	int ret;

	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->depth = td->o.iodepth;
	d->rings[0].dmabuf = d->rings[1].dmabuf = -1;
	d->events = calloc(d->depth, sizeof(*d->events));
	d->pending = calloc(d->depth, sizeof(*d->pending));
	d->cmpl = calloc(d->depth, sizeof(*d->cmpl));
	if (!d->events || !d->pending || !d->cmpl) {
		free_data(d);
		return 1;
	}
	/* The job may have been set up in another process: check again. */
	ret = check_job(td, &d->ctrl, &d->ns, &info);
	if (ret) {
		free_data(d);
		td_verror(td, -ret, "nvmep2p check");
		return 1;
	}
	name = nvmep2p_ctrl_name(d->ctrl);
	d->lba_mask = d->ns.lba_size - 1;
	d->max_transfer = info.max_transfer;

	params.depth = d->depth + 1;	/* a ring of N slots holds N - 1 */
	params.sq_placement = o->sq_placement == RING_PLACE_CMB ?
		NVME_P2P_SQ_CMB_REQUIRED : NVME_P2P_SQ_HOST;
	params.cq_placement = NVME_P2P_CQ_HOST;
	ret = queue_create(o, d, &params);
	if (ret) {
		log_err(ENGINE ": %s: cannot create an exported queue pair (depth %u, SQ in %s, CQ in %s): %s%s\n",
			name, params.depth, ring_placement_name[o->sq_placement],
			ring_placement_name[o->cq_placement], strerror(-ret),
			ret == -EBUSY ? " (every reserved queue ID is in use)" :
			ret == -EPERM ? " (needs CAP_SYS_ADMIN)" :
			ret == -EXDEV ? " (the ring's pages are not contiguous for the controller: lower iodepth to fit a ring in 4 KiB)" :
			ret == -EREMOTEIO ? " (the controller cannot reach ring_peer's CMB peer to peer)" :
			ret == -ENOENT ? " (no /dev/udmabuf: a kernel without CONFIG_UDMABUF)" : "");
		goto err;
	}

	/*
	 * PRP lists and DSM ranges, one slot per command. They follow the
	 * data: in the CMB only if the controller reads lists from there.
	 */
	pool_flags = NVME_P2P_REGION_HOST;
	if (o->buf_placement == BUF_PLACE_CMB && (info.flags & NVME_P2P_INFO_CMB_LISTS))
		pool_flags = 0;
	pool_bytes = nvmep2p_queue_prp_pool_bytes(d->q);
	pool_bytes = (pool_bytes + NVMEP2P_PAGE_SIZE - 1) & ~(size_t)(NVMEP2P_PAGE_SIZE - 1);
	if (pool_bytes) {
		ret = nvmep2p_region_create(d->ctrl, pool_bytes, pool_flags, &d->pool);
		if (!ret)
			ret = nvmep2p_queue_attach_prp_pool(d->q, d->pool, 0);
		if (ret) {
			log_err(ENGINE ": %s: PRP list memory (%zu bytes in %s): %s%s\n",
				name, pool_bytes, pool_flags ? "host memory" : "the CMB",
				strerror(-ret), ret == -E2BIG ?
				" (more than a host region holds: lower iodepth)" : "");
			goto err;
		}
	}
	dprint(FD_IO, ENGINE ": %s qid %u depth %u, SQ in %s, CQ in %s, buffers in %s\n",
	       name, nvmep2p_queue_qid(d->q), params.depth,
	       ring_placement_name[o->sq_placement], ring_placement_name[o->cq_placement],
	       buf_placement_name[o->buf_placement]);
	static const unsigned int wait_mode[] = {
		[POLL_ADAPTIVE] = NVMEP2P_WAIT_HYBRID,
		[POLL_SPIN] = NVMEP2P_WAIT_SPIN,
		[POLL_YIELD] = NVMEP2P_WAIT_YIELD,
		[POLL_SLEEP] = NVMEP2P_WAIT_SLEEP,
	};
	d->wait.mode = wait_mode[o->poll_mode];
	d->wait.sleep_ns = o->poll_sleep_us * 1000U;
	/* Sleeps as asked, not 50 us late (the default timer slack). */
	if (o->poll_mode == POLL_ADAPTIVE || o->poll_mode == POLL_SLEEP)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	fio_gettime(&d->start, NULL);
	td->io_ops_data = d;
	return 0;
err:
	free_data(d);
	td_verror(td, -ret, "nvmep2p init");
	return 1;
}

static void fio_nvmep2p_cleanup(struct thread_data *td)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_data *d = td->io_ops_data;
	unsigned long long life_ns;

	if (!d)
		return;
	if (o->poll_report) {
		life_ns = ntime_since_now(&d->start);
		unsigned long long polled = d->wait.wait_ns > d->wait.sleep_ns_total ?
			d->wait.wait_ns - d->wait.sleep_ns_total : 0;

		log_info(ENGINE ": %s qid %u: %llu commands; polling an empty completion queue took %.1f%% of the job's %.3f s, sleeping %.1f%% (%llu waits, %llu sleeps, last learned wait %.1f us for %u completions); writing the SQ tail doorbell took %.1f%% (%llu writes), reaping %.1f%%, queueing %.1f%%\n",
			 nvmep2p_ctrl_name(d->ctrl), nvmep2p_queue_qid(d->q),
			 d->commands, life_ns ? 100.0 * polled / life_ns : 0.0,
			 life_ns / 1e9,
			 life_ns ? 100.0 * d->wait.sleep_ns_total / life_ns : 0.0,
			 (unsigned long long)d->wait.waits,
			 (unsigned long long)d->wait.sleeps, d->wait.expect_ns / 1e3,
			 d->wait.expect_nr,
			 life_ns ? 100.0 * d->doorbell_ns / life_ns : 0.0, d->doorbells,
			 life_ns ? 100.0 * d->reap_ns / life_ns : 0.0,
			 life_ns ? 100.0 * d->queue_ns / life_ns : 0.0);
		log_info_flush();	/* a job process may end without flushing */
	}
	free_data(d);
	td->io_ops_data = NULL;
}

/* The io_u buffers: a data region, so that their bus addresses are known. */
static int fio_nvmep2p_iomem_alloc(struct thread_data *td, size_t total)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_data *d = td->io_ops_data;
	unsigned int flags;
	size_t bytes;
	int ret;

	flags = o->buf_placement == BUF_PLACE_HOST ? NVME_P2P_REGION_HOST : 0;
	bytes = (total + NVMEP2P_PAGE_SIZE - 1) & ~(size_t)(NVMEP2P_PAGE_SIZE - 1);
	ret = nvmep2p_region_create(d->ctrl, bytes, flags, &d->bufs);
	if (ret) {
		log_err(ENGINE ": %s: %zu bytes of I/O buffers in %s: %s\n",
			nvmep2p_ctrl_name(d->ctrl), bytes,
			flags ? "host memory" : "the CMB", strerror(-ret));
		return 1;
	}
	td->orig_buffer = d->bufs->addr;
	return 0;
}

static void fio_nvmep2p_iomem_free(struct thread_data *td)
{
	struct nvmep2p_data *d = td->io_ops_data;

	if (d) {
		nvmep2p_region_destroy(d->bufs);
		d->bufs = NULL;
	}
	td->orig_buffer = NULL;
}

static enum fio_q_status complete_now(struct io_u *io_u, int error)
{
	io_u->error = error;
	return FIO_Q_COMPLETED;
}

/*
 * poll_report's timers: the start of a timed step, and its time added to
 * *ns (fio's clock, as the job's own start); nothing without poll_report.
 */
static void report_start(const struct nvmep2p_options *o, struct timespec *t)
{
	if (o->poll_report)
		fio_gettime(t, NULL);
}

static void report_add(const struct nvmep2p_options *o, const struct timespec *t,
		       unsigned long long *ns)
{
	if (o->poll_report)
		*ns += ntime_since_now(t);
}

static enum fio_q_status queue_io_u(struct thread_data *td, struct io_u *io_u);

/* queue_io_u, timed for poll_report: building and pushing the command. */
static enum fio_q_status fio_nvmep2p_queue(struct thread_data *td,
					   struct io_u *io_u)
{
	struct nvmep2p_data *d = td->io_ops_data;
	struct timespec t;
	enum fio_q_status ret;

	report_start(td->eo, &t);
	ret = queue_io_u(td, io_u);
	report_add(td->eo, &t, &d->queue_ns);
	return ret;
}

static enum fio_q_status queue_io_u(struct thread_data *td, struct io_u *io_u)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_data *d = td->io_ops_data;
	struct nvmep2p_sqe cmd;
	uint64_t bus, slba, prp1, prp2, range_bus;
	void *range;
	uint32_t nlb;
	int ret;

	fio_ro_check(td, io_u);

	/* Refuse what cannot become a command before taking an SQ slot. */
	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
		if (((uintptr_t)io_u->xfer_buf & 3) ||
		    io_u->xfer_buflen > td_max_bs(td))
			return complete_now(io_u, EINVAL);
		/* fallthrough */
	case DDIR_TRIM:
		if (!io_u->xfer_buflen ||
		    ((io_u->offset | io_u->xfer_buflen) & d->lba_mask))
			return complete_now(io_u, EINVAL);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
		break;
	default:
		return complete_now(io_u, EOPNOTSUPP);
	}
	slba = io_u->offset >> d->ns.lba_shift;
	nlb = io_u->xfer_buflen >> d->ns.lba_shift;

	/*
	 * The command is built here, in ordinary memory; the library copies
	 * it whole to the SQ tail and gives it its CID. A PRP list or DSM
	 * range goes to the pool slot of the command the next push takes
	 * (none without a transfer limit: then only transfers of up to two
	 * pages work, and no trim).
	 */
	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
		bus = d->bufs->bus_addr +
			((char *)io_u->xfer_buf - (char *)d->bufs->addr);
		ret = nvmep2p_queue_next_prps(d->q, bus, io_u->xfer_buflen,
					      &prp1, &prp2);
		if (!ret)
			ret = nvmep2p_prep_rw(&cmd, io_u->ddir == DDIR_READ ?
					      NVMEP2P_OP_READ : NVMEP2P_OP_WRITE,
					      o->nsid, slba, nlb, 0, prp1, prp2);
		break;
	case DDIR_TRIM:
		ret = nvmep2p_queue_next_cmd_mem(d->q, &range, &range_bus, NULL);
		if (ret)
			break;
		nvmep2p_dsm_range_set(range, slba, nlb);
		ret = nvmep2p_prep_dsm(&cmd, o->nsid, 1, NVMEP2P_DSM_AD,
				       range_bus, 0);
		break;
	default:
		nvmep2p_prep_flush(&cmd, o->nsid);
		ret = 0;
		break;
	}
	if (!ret)
		ret = nvmep2p_queue_push_cmd(d->q, &cmd, io_u);
	if (ret == -EBUSY)
		return FIO_Q_BUSY;
	if (ret < 0)
		return complete_now(io_u, -ret);
	d->pending[d->nr_pending++] = io_u;
	return FIO_Q_QUEUED;
}

/* One doorbell write for everything queued since the last commit. */
static int fio_nvmep2p_commit(struct thread_data *td)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_data *d = td->io_ops_data;
	struct timespec now, t;
	unsigned int i;

	if (!d->nr_pending)
		return 0;
	if (fio_fill_issue_time(td)) {
		fio_gettime(&now, NULL);
		for (i = 0; i < d->nr_pending; i++) {
			d->pending[i]->issue_time = now;
			io_u_queued(td, d->pending[i]);	/* submission latency */
		}
	}
	/*
	 * An emulated controller may take the commands in the time of the
	 * CPU that writes the doorbell: poll_report says how much.
	 */
	report_start(o, &t);
	nvmep2p_queue_submit(d->q);
	report_add(o, &t, &d->doorbell_ns);
	d->doorbells++;
	io_u_mark_submit(td, d->nr_pending);
	d->commands += d->nr_pending;
	d->nr_pending = 0;
	return 0;
}

/* NVMe status to the errno fio reports; the status itself goes to errdetails. */
static int status_errno(int status)
{
	switch (status) {
	case NVMEP2P_STATUS_INVALID_OPCODE:
		return EOPNOTSUPP;
	case NVMEP2P_STATUS_INVALID_FIELD:
	case NVMEP2P_STATUS_INVALID_NS:
	case NVMEP2P_STATUS_LBA_RANGE:
		return EINVAL;
	case NVMEP2P_STATUS_CAP_EXCEEDED:
		return ENOSPC;
	case NVMEP2P_STATUS_ABORT_SQ_DELETED:
		return ECANCELED;
	default:
		return EIO;
	}
}

/* The status is kept in engine_data for errdetails: -1 means lost in a reset. */
#define STATUS_LOST	(-1)

static void finish_io_u(struct nvmep2p_data *d, struct io_u *io_u, int status)
{
	io_u->engine_data = (void *)(intptr_t)status;
	if (status == STATUS_LOST)
		io_u->error = EIO;
	else if (status)
		io_u->error = status_errno(status);
	else
		io_u->error = 0;
	io_u->resid = io_u->error ? io_u->xfer_buflen : 0;
	d->events[d->nr_events++] = io_u;
}

static void lost_in_reset(void *data, void *arg)
{
	struct nvmep2p_data *d = arg;

	if (data)
		finish_io_u(d, data, STATUS_LOST);
}

/* Reap what the controller posted, up to max events in d->events. */
static int reap(struct nvmep2p_data *d, unsigned int max)
{
	int n, i;

	if (d->nr_events >= max)
		return 0;
	n = nvmep2p_queue_poll(d->q, d->cmpl, max - d->nr_events);
	for (i = 0; i < n; i++)
		finish_io_u(d, d->cmpl[i].data, nvmep2p_cmpl_status(&d->cmpl[i]));
	return n < 0 ? n : 0;
}

/*
 * Nothing completed for a while, or the CQ holds an entry of another
 * generation: ask the kernel whether a reset re-created the rings.
 * Commands lost in it complete with EIO. Returns 0 to go on polling.
 */
static int check_queue(struct thread_data *td, struct nvmep2p_data *d)
{
	int ret;

	for (;;) {
		ret = nvmep2p_queue_resync(d->q, lost_in_reset, d);
		if (ret >= 0) {
			if (ret)
				log_err(ENGINE ": %s qid %u: controller reset, %d commands lost\n",
					nvmep2p_ctrl_name(d->ctrl),
					nvmep2p_queue_qid(d->q), ret);
			return 0;
		}
		if (ret != -EAGAIN)
			break;
		usleep(1000);	/* reset under way */
	}
	log_err(ENGINE ": %s qid %u: %s\n", nvmep2p_ctrl_name(d->ctrl),
		nvmep2p_queue_qid(d->q),
		ret == -ENODEV ? "queue revoked (controller removed or not re-created)" :
		strerror(-ret));
	td_verror(td, -ret, "nvmep2p queue");
	return ret;
}

static int fio_nvmep2p_getevents(struct thread_data *td, unsigned int min,
				 unsigned int max, const struct timespec *t)
{
	struct nvmep2p_options *o = td->eo;
	struct nvmep2p_data *d = td->io_ops_data;
	unsigned long long timeout_ns = 0, stall_ns, waited = 0, checked = 0;
	unsigned int stale = 0, inflight, need, want;
	struct timespec wait_start, reap_start;
	bool waiting = false;
	uint64_t limit;
	int ret;

	if (t)
		timeout_ns = t->tv_sec * 1000000000ULL + t->tv_nsec;
	stall_ns = o->stall_ms * 1000000ULL;
	if (max > d->depth)
		max = d->depth;

	d->nr_events = 0;
	for (;;) {
		report_start(o, &reap_start);
		ret = reap(d, max);
		report_add(o, &reap_start, &d->reap_ns);
		if (ret == -ESTALE) {
			/* The rings were re-created unless the kernel says not. */
			if (++stale > 1000) {
				log_err(ENGINE ": %s qid %u: completion entries of another queue\n",
					nvmep2p_ctrl_name(d->ctrl),
					nvmep2p_queue_qid(d->q));
				td_verror(td, EPROTO, "nvmep2p getevents");
				ret = -EPROTO;
			} else {
				ret = check_queue(td, d);
			}
		}
		if (ret)
			goto out;
		if (d->nr_events >= min)
			break;
		inflight = nvmep2p_queue_inflight(d->q);
		if (!inflight)
			break;		/* nothing to wait for */

		/*
		 * Wait in the library. The adaptive mode waits for half the
		 * commands in flight (at least what fio needs): the controller
		 * keeps the other half while this thread sleeps, and each
		 * wake-up reaps and resubmits a batch. The others return as
		 * soon as fio's minimum is there.
		 */
		if (!waiting) {
			fio_gettime(&wait_start, NULL);
			waiting = true;
		} else {
			waited = ntime_since_now(&wait_start);
		}
		if (t && waited >= timeout_ns)
			break;
		if (waited - checked >= stall_ns) {
			ret = check_queue(td, d);
			if (ret)
				goto out;
			checked = waited;
			continue;
		}
		need = min - d->nr_events;
		if (need > inflight)
			need = inflight;
		want = need;
		if (o->poll_mode == POLL_ADAPTIVE) {
			want = inflight / 2;
			if (want > max - d->nr_events)
				want = max - d->nr_events;
			if (want < need)
				want = need;
		}
		limit = stall_ns - (waited - checked);
		if (t && timeout_ns - waited < limit)
			limit = timeout_ns - waited;
		ret = nvmep2p_queue_wait(d->q, &d->wait, need, want, limit);
		if (ret < 0 && ret != -ETIMEDOUT && ret != -ESTALE) {
			log_err(ENGINE ": %s qid %u: waiting for completions: %s\n",
				nvmep2p_ctrl_name(d->ctrl), nvmep2p_queue_qid(d->q),
				strerror(-ret));
			td_verror(td, -ret, "nvmep2p getevents");
			goto out;
		}
	}
	ret = d->nr_events;
out:
	return ret;
}

static struct io_u *fio_nvmep2p_event(struct thread_data *td, int event)
{
	struct nvmep2p_data *d = td->io_ops_data;

	return d->events[event];
}

static char *fio_nvmep2p_errdetails(struct io_u *io_u)
{
	int status = (int)(intptr_t)io_u->engine_data;
	char *msg;

	if (status == STATUS_LOST)
		msg = strdup(ENGINE ": command lost in a controller reset");
	else if (asprintf(&msg, ENGINE ": NVMe status 0x%03x (%s)", status,
			  nvmep2p_status_str(status)) < 0)
		msg = NULL;
	return msg;
}

/* Nothing to open: the namespace is reached through the job's queue. */
static int fio_nvmep2p_open_file(struct thread_data fio_unused *td,
				 struct fio_file fio_unused *f)
{
	return 0;
}

struct ioengine_ops ioengine = {
	.name			= ENGINE,
	.version		= FIO_IOOPS_VERSION,
	.flags			= FIO_DISKLESSIO | FIO_NODISKUTIL |
				  FIO_ASYNCIO_SETS_ISSUE_TIME,
	.setup			= fio_nvmep2p_setup,
	.init			= fio_nvmep2p_init,
	.queue			= fio_nvmep2p_queue,
	.commit			= fio_nvmep2p_commit,
	.getevents		= fio_nvmep2p_getevents,
	.event			= fio_nvmep2p_event,
	.errdetails		= fio_nvmep2p_errdetails,
	.cleanup		= fio_nvmep2p_cleanup,
	.open_file		= fio_nvmep2p_open_file,
	.iomem_alloc		= fio_nvmep2p_iomem_alloc,
	.iomem_free		= fio_nvmep2p_iomem_free,
	.option_struct_size	= sizeof(struct nvmep2p_options),
	.options		= options,
};
