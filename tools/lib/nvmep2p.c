// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libnvmep2p: controllers, regions, queue pairs, PRP lists.
 * The fast paths (get_sqe, submit, peek, seen) are inline in nvmep2p.h.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <nvme/ioctl.h>
#include <nvme/util.h>

#include "nvmep2p-private.h"

#define SYSFS_NVME_CLASS	"/sys/class/nvme"
#define PRP_PAGE_MASK		((uint64_t)NVMEP2P_PAGE_SIZE - 1)
#define PRP_SLOTS_PER_PAGE	(NVMEP2P_PAGE_SIZE / 8)

/* ---------------------------------------------------------------------- */
/* Controllers                                                             */
/* ---------------------------------------------------------------------- */

/* Copy s without leading and trailing blanks (sysfs pads serials). */
static void trim_copy(char *dst, size_t size, const char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* The controller name whose sysfs serial is serial, into name. */
static int find_serial(const char *sysfs_class, const char *serial,
		       char *name, size_t name_size)
{
	char want[128], path[PATH_MAX], buf[128];
	struct dirent *de;
	int ret = -ENODEV;
	DIR *dir;

	trim_copy(want, sizeof(want), serial);
	if (!*want)
		return -EINVAL;
	dir = opendir(sysfs_class);
	if (!dir)
		return -ENODEV;
	while ((de = readdir(dir))) {
		FILE *f;
		char *got;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/serial", sysfs_class, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		got = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!got)
			continue;
		trim_copy(buf, sizeof(buf), got);
		if (strcmp(buf, want))
			continue;
		if (strlen(de->d_name) >= name_size) {
			ret = -ENAMETOOLONG;
			break;
		}
		strcpy(name, de->d_name);
		ret = 0;
		break;
	}
	closedir(dir);
	return ret;
}

int nvmep2p__ctrl_path(const char *dev, const char *sysfs_class,
		       char *path, size_t path_size, char *name,
		       size_t name_size)
{
	const char *base;
	int ret;

	if (!dev || !*dev)
		return -EINVAL;
	if (!strncmp(dev, "serial:", 7)) {
		ret = find_serial(sysfs_class, dev + 7, name, name_size);
		if (ret)
			return ret;
		if ((size_t)snprintf(path, path_size, "/dev/%s", name) >= path_size)
			return -ENAMETOOLONG;
		return 0;
	}
	if (dev[0] == '/') {
		base = strrchr(dev, '/') + 1;
		if (!*base)
			return -EINVAL;
		if (strlen(dev) >= path_size || strlen(base) >= name_size)
			return -ENAMETOOLONG;
		strcpy(path, dev);
		strcpy(name, base);
		return 0;
	}
	if (strchr(dev, '/'))
		return -EINVAL;
	if (strlen(dev) >= name_size)
		return -ENAMETOOLONG;
	if ((size_t)snprintf(path, path_size, "/dev/%s", dev) >= path_size)
		return -ENAMETOOLONG;
	strcpy(name, dev);
	return 0;
}

int nvmep2p_ctrl_open(const char *dev, struct nvmep2p_ctrl **out)
{
	struct nvme_p2p_info info;
	struct nvmep2p_ctrl *ctrl;
	char path[PATH_MAX];
	struct stat st;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl)
		return -ENOMEM;
	ret = nvmep2p__ctrl_path(dev, SYSFS_NVME_CLASS, path, sizeof(path),
				 ctrl->name, sizeof(ctrl->name));
	if (ret)
		goto err_free;
	ctrl->fd = open(path, O_RDWR | O_CLOEXEC);
	if (ctrl->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* A block device or a regular file is not a controller. */
	if (fstat(ctrl->fd, &st)) {
		ret = -errno;
		goto err_close;
	}
	if (!S_ISCHR(st.st_mode)) {
		ret = -ENOTTY;
		goto err_close;
	}
	/* Fails with ENOTTY on kernels without nvme-p2p export. */
	ret = nvmep2p_ctrl_info(ctrl, &info);
	if (ret)
		goto err_close;
	*out = ctrl;
	return 0;

err_close:
	close(ctrl->fd);
err_free:
	free(ctrl);
	return ret;
}

void nvmep2p_ctrl_close(struct nvmep2p_ctrl *ctrl)
{
	if (!ctrl)
		return;
	close(ctrl->fd);
	free(ctrl);
}

int nvmep2p_ctrl_fd(const struct nvmep2p_ctrl *ctrl)
{
	return ctrl ? ctrl->fd : -EINVAL;
}

const char *nvmep2p_ctrl_name(const struct nvmep2p_ctrl *ctrl)
{
	return ctrl ? ctrl->name : NULL;
}

int nvmep2p_ctrl_info(struct nvmep2p_ctrl *ctrl, struct nvme_p2p_info *info)
{
	if (!ctrl || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	if (ioctl(ctrl->fd, NVME_P2P_IOCTL_INFO, info))
		return -errno;
	return 0;
}

int nvmep2p_ns_info(struct nvmep2p_ctrl *ctrl, uint32_t nsid,
		    struct nvmep2p_ns_info *info)
{
	struct nvme_id_ns *id;
	struct nvme_lbaf *lbaf;
	uint8_t fmt;
	int ret;

	if (!ctrl || !info || nsid == 0 || nsid == NVME_NSID_ALL)
		return -EINVAL;
	if (posix_memalign((void **)&id, NVMEP2P_PAGE_SIZE, sizeof(*id)))
		return -ENOMEM;
	memset(id, 0, sizeof(*id));
	ret = nvme_identify_ns(ctrl->fd, nsid, id);
	if (ret < 0) {
		ret = -errno;
		goto out;
	}
	if (ret > 0) {
		/* An NVMe status: an inactive or invalid nsid, mostly. */
		ret = nvme_status_code_type(ret) == NVME_SCT_GENERIC &&
		      nvme_status_code(ret) == NVME_SC_INVALID_NS ? -ENXIO : -EIO;
		goto out;
	}
	memset(info, 0, sizeof(*info));
	info->nsid = nsid;
	info->nsze = nvmep2p_le64(id->nsze);
	info->ncap = nvmep2p_le64(id->ncap);
	if (!info->nsze) {
		ret = -ENXIO;		/* allocated but not attached: no blocks */
		goto out;
	}
	nvme_id_ns_flbas_to_lbaf_inuse(id->flbas, &fmt);
	lbaf = &id->lbaf[fmt];
	/* NLBAF is 0-based; an LBA size of 512 bytes to 2 GiB. */
	if (fmt > id->nlbaf || lbaf->ds < 9 || lbaf->ds > 31) {
		ret = -EIO;
		goto out;
	}
	info->lbaf = fmt;
	info->lba_shift = lbaf->ds;
	info->lba_size = 1U << lbaf->ds;
	info->meta_size = nvmep2p_le16(lbaf->ms);
	ret = 0;
out:
	free(id);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Regions                                                                 */
/* ---------------------------------------------------------------------- */

int nvmep2p_region_create(struct nvmep2p_ctrl *ctrl, size_t size,
			  unsigned int flags, struct nvmep2p_region **out)
{
	struct nvme_p2p_region_create rc;
	struct nvmep2p_region *r;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctrl || !size || size % NVMEP2P_PAGE_SIZE ||
	    (flags & ~NVME_P2P_REGION_FLAGS))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(&rc, 0, sizeof(rc));
	rc.argsz = sizeof(rc);
	rc.flags = flags;
	rc.size = size;
	r->fd = ioctl(ctrl->fd, NVME_P2P_IOCTL_REGION_CREATE, &rc);
	if (r->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	/* Mapped even without CPU access: importers need the VMA. */
	r->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	r->addr = flags & NVME_P2P_REGION_NO_CPU_MAP ? NULL : r->map;
	r->size = size;
	r->bus_addr = rc.bus_addr;
	r->cmb_offset = rc.cmb_offset;
	r->flags = flags;
	*out = r;
	return 0;

err_close:
	close(r->fd);
err_free:
	free(r);
	return ret;
}

void nvmep2p_region_destroy(struct nvmep2p_region *r)
{
	if (!r)
		return;
	munmap(r->map, r->size);
	close(r->fd);
	free(r);
}

/* ---------------------------------------------------------------------- */
/* Queue pairs                                                             */
/* ---------------------------------------------------------------------- */

_Static_assert(sizeof(struct nvmep2p_queue) + sizeof(struct nvmep2p_queue_private) <=
	       NVMEP2P__Q_BUSY, "the queue's structs overlap cid_busy");
_Static_assert(NVMEP2P__Q_DATA - NVMEP2P__Q_BUSY == NVMEP2P_CID_BUSY_ENTRIES,
	       "cid_busy holds one entry per 16-bit CID");

/*
 * The queue and its per-command arrays in one allocation, the arrays at
 * the fixed offsets the header names. cid_busy has an entry for every
 * 16-bit CID, those at and above depth always 0: one load tells whether a
 * CID from a CQE is valid and in flight. cid_data and cid_free are sized
 * for 65536 CIDs too; calloc() hands out an allocation this large as
 * fresh zero pages, and those past what depth uses are never touched.
 */
static struct nvmep2p_queue *queue_alloc(uint32_t depth)
{
	struct nvmep2p_queue *q;
	char *p;

	p = calloc(1, NVMEP2P__Q_SIZE + depth * sizeof(uint16_t));
	if (!p)
		return NULL;
	q = (struct nvmep2p_queue *)p;
	q->priv = (struct nvmep2p_queue_private *)(p + sizeof(*q));
	q->cid_busy = __nvmep2p_cid_busy(q);
	q->cid_data = __nvmep2p_cid_data(q);
	q->cid_free = __nvmep2p_cid_free(q);
	q->slot_cid = (uint16_t *)(p + NVMEP2P__Q_SIZE);
	q->depth = depth;
	/* Doorbells without a CPU mapping: writes go here, unseen. */
	q->cq_db = &q->priv->db_unmapped;
	q->priv->fd = -1;
	return q;
}

/* cq_match from cq_phase, which code built with a header before 0.5 keeps
 * alone: the out-of-line functions that take the inline paths call this. */
static void queue_sync_match(struct nvmep2p_queue *q)
{
	q->cq_match = (uint64_t)q->qid << 16 | (uint64_t)(q->cq_phase & 1) << 48;
}

unsigned int nvmep2p__queue_reset_rings(struct nvmep2p_queue *q,
					void (*lost)(void *data, void *arg),
					void *arg)
{
	unsigned int nr_lost = 0;
	uint32_t cid;

	for (cid = 0; cid < q->depth; cid++) {
		if (q->cid_busy[cid]) {
			if (lost)
				lost(q->cid_data[cid], arg);
			nr_lost++;
		}
		q->cid_busy[cid] = 0;
		q->cid_data[cid] = NULL;
	}
	/* depth - 1 identifiers: an SQ of depth entries holds depth - 1. */
	q->cid_nr_free = 0;
	for (cid = q->depth - 1; cid-- > 0; )
		q->cid_free[q->cid_nr_free++] = (uint16_t)cid;
	q->sq_tail = q->sq_tail_rung = q->sq_head = 0;
	q->cq_head = q->cq_head_rung = 0;
	q->cq_phase = 1;
	queue_sync_match(q);
	return nr_lost;
}

int nvmep2p__queue_init_mem(uint32_t depth, uint16_t qid, void *sq, void *cq,
			    volatile uint32_t *sq_db, volatile uint32_t *cq_db,
			    size_t max_transfer, struct nvmep2p_queue **out)
{
	struct nvmep2p_queue *q;

	if (!out || depth < 2 || depth > 65536)
		return -EINVAL;
	q = queue_alloc(depth);
	if (!q)
		return -ENOMEM;
	q->sq = sq;
	q->cq = cq;
	q->sq_db = sq_db;
	if (cq_db)
		q->cq_db = cq_db;
	q->sq_cpu = sq && sq_db;
	q->qid = qid;
	q->priv->max_transfer = max_transfer;
	q->priv->info.qid = qid;
	q->priv->info.depth = depth;
	q->priv->info.max_transfer = (uint32_t)max_transfer;
	nvmep2p__queue_reset_rings(q, NULL, NULL);
	*out = q;
	return 0;
}

static int queue_info_ioctl(int fd, struct nvme_p2p_queue_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	if (ioctl(fd, NVME_P2P_IOCTL_QUEUE_INFO, info))
		return -errno;
	return 0;
}

static void *map_or_null(int fd, size_t len, off_t off, int *err)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	return p;
}

static void queue_unmap(struct nvmep2p_queue_private *priv)
{
	if (priv->sq_map)
		munmap(priv->sq_map, priv->sq_len);
	if (priv->cq_map)
		munmap(priv->cq_map, priv->cq_len);
	if (priv->db_map)
		munmap(priv->db_map, priv->db_len);
}

/* A ring the kernel placed, or one in a dma-buf the caller passed. */
static void *ring_cpu(int fd, const struct nvmep2p_ring_mem *mem, size_t len, off_t off,
		      void **map, int *err)
{
	*map = NULL;
	if (mem && mem->cpu)
		return mem->cpu;
	*map = map_or_null(fd, len, off, err);
	/* An exporter may refuse the CPU: the ring is then the peer's alone. */
	if (!*map && mem)
		*err = 0;
	return *map;
}

static int queue_create(struct nvmep2p_ctrl *ctrl, const struct nvmep2p_queue_params *params,
			const struct nvmep2p_ring_mem *sqm, const struct nvmep2p_ring_mem *cqm,
			struct nvmep2p_queue **out)
{
	struct nvme_p2p_queue_create qc;
	struct nvme_p2p_queue_info info;
	struct nvmep2p_queue_private *priv;
	void *sq = NULL, *cq = NULL;
	struct nvmep2p_queue *q;
	uint8_t *db;
	int fd, ret = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctrl || !params || params->depth < 2 || params->depth > 65536 ||
	    (params->flags & ~NVME_P2P_QUEUE_FLAGS))
		return -EINVAL;
	memset(&qc, 0, sizeof(qc));
	qc.argsz = sizeof(qc);
	qc.flags = params->flags;
	qc.depth = params->depth;
	qc.sq_placement = params->sq_placement;
	qc.cq_placement = params->cq_placement;
	if (sqm) {
		if (sqm->dmabuf_fd < 0 || sqm->offset % NVMEP2P_PAGE_SIZE)
			return -EINVAL;
		qc.sq_placement = NVME_P2P_SQ_DMABUF;
		qc.sq_dmabuf_fd = sqm->dmabuf_fd;
		qc.sq_dmabuf_offset = sqm->offset;
	}
	if (cqm) {
		if (cqm->dmabuf_fd < 0 || cqm->offset % NVMEP2P_PAGE_SIZE)
			return -EINVAL;
		qc.cq_placement = NVME_P2P_CQ_DMABUF;
		qc.cq_dmabuf_fd = cqm->dmabuf_fd;
		qc.cq_dmabuf_offset = cqm->offset;
		/* The kernel leaves a CQ in a dma-buf to its owner to zero. */
		if (cqm->cpu)
			memset(cqm->cpu, 0, (size_t)params->depth * sizeof(struct nvmep2p_cqe));
	}
	fd = ioctl(ctrl->fd, NVME_P2P_IOCTL_QUEUE_CREATE, &qc);
	if (fd < 0)
		return -errno;
	ret = queue_info_ioctl(fd, &info);
	if (ret)
		goto err_close;
	/* Guard the ring arithmetic against a kernel we do not understand. */
	if (info.depth != params->depth ||
	    info.sq_bytes < (size_t)info.depth * sizeof(struct nvmep2p_sqe) ||
	    info.cq_bytes < (size_t)info.depth * sizeof(struct nvmep2p_cqe) ||
	    info.sq_db_offset + 4 > info.db_bytes ||
	    info.cq_db_offset + 4 > info.db_bytes) {
		ret = -EPROTO;
		goto err_close;
	}
	q = queue_alloc(info.depth);
	if (!q) {
		ret = -ENOMEM;
		goto err_close;
	}
	priv = q->priv;
	priv->fd = fd;
	priv->info = info;
	priv->ring_generation = info.generation;
	priv->max_transfer = info.max_transfer;
	priv->sq_len = info.sq_bytes;
	priv->cq_len = info.cq_bytes;
	priv->db_len = info.db_bytes;
	/*
	 * Every VMA is mapped, with or without CPU access, so that importer
	 * drivers can be handed its address; the library only touches those
	 * with CPU access.
	 */
	sq = ring_cpu(fd, sqm, info.sq_bytes, NVME_P2P_QUEUE_OFF_SQ, &priv->sq_map, &ret);
	if (!ret)
		cq = ring_cpu(fd, cqm, info.cq_bytes, NVME_P2P_QUEUE_OFF_CQ, &priv->cq_map,
			      &ret);
	if (!ret)
		priv->db_map = map_or_null(fd, info.db_bytes, NVME_P2P_QUEUE_OFF_DB, &ret);
	if (ret)
		goto err_unmap;
	db = priv->db_map;
	q->qid = info.qid;
	if (!(info.flags & NVME_P2P_QUEUE_SQ_NO_CPU_MAP))
		q->sq = sq;
	if (!(info.flags & NVME_P2P_QUEUE_CQ_NO_CPU_MAP))
		q->cq = cq;
	if (!(info.flags & NVME_P2P_QUEUE_DB_NO_CPU_MAP)) {
		q->sq_db = (volatile uint32_t *)(db + info.sq_db_offset);
		q->cq_db = (volatile uint32_t *)(db + info.cq_db_offset);
	}
	q->sq_cpu = q->sq && q->sq_db;
	nvmep2p__queue_reset_rings(q, NULL, NULL);
	*out = q;
	return 0;

err_unmap:
	queue_unmap(priv);
	free(q);
err_close:
	close(fd);
	return ret;
}

/*
 * The queue layout of 0.5 (cq_match, the per-CID arrays at fixed offsets)
 * is what a program built with the 0.5 header inlines. Such a program
 * binds the @@LIBNVMEP2P_0.5 versions of the two constructors, so that an
 * older library, which lays the queue out otherwise, refuses to load it.
 * Programs built before bind the older versions: the same queue, whose
 * fields they know keep their offsets and meanings.
 */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 10 && defined(PIC)
#define NVMEP2P_SYMVER(name)	__attribute__((symver(name)))
#else
#define NVMEP2P_SYMVER(name)
#endif

NVMEP2P_SYMVER("nvmep2p_queue_create@@LIBNVMEP2P_0.5")
NVMEP2P_SYMVER("nvmep2p_queue_create@LIBNVMEP2P_0.1")
int nvmep2p_queue_create(struct nvmep2p_ctrl *ctrl,
			 const struct nvmep2p_queue_params *params,
			 struct nvmep2p_queue **out)
{
	return queue_create(ctrl, params, NULL, NULL, out);
}

NVMEP2P_SYMVER("nvmep2p_queue_create_dmabuf@@LIBNVMEP2P_0.5")
NVMEP2P_SYMVER("nvmep2p_queue_create_dmabuf@LIBNVMEP2P_0.4")
int nvmep2p_queue_create_dmabuf(struct nvmep2p_ctrl *ctrl,
				const struct nvmep2p_queue_params *params,
				const struct nvmep2p_ring_mem *sq,
				const struct nvmep2p_ring_mem *cq,
				struct nvmep2p_queue **out)
{
	return queue_create(ctrl, params, sq, cq, out);
}

void nvmep2p_queue_destroy(struct nvmep2p_queue *q)
{
	if (!q)
		return;
	queue_unmap(q->priv);
	if (q->priv->fd >= 0)
		close(q->priv->fd);
	free(q);
}

int nvmep2p_queue_fd(const struct nvmep2p_queue *q)
{
	return q ? q->priv->fd : -EINVAL;
}

int nvmep2p_queue_info(struct nvmep2p_queue *q, struct nvme_p2p_queue_info *info)
{
	int ret;

	if (!q)
		return -EINVAL;
	if (q->priv->fd < 0)
		return -EBADF;
	ret = queue_info_ioctl(q->priv->fd, &q->priv->info);
	if (ret)
		return ret;
	if (info)
		*info = q->priv->info;
	return 0;
}

int nvmep2p_queue_resync(struct nvmep2p_queue *q,
			 void (*lost)(void *data, void *arg), void *arg)
{
	struct nvme_p2p_queue_info info;
	unsigned int nr_lost;
	int ret;

	ret = nvmep2p_queue_info(q, &info);
	if (ret)
		return ret;
	if (info.state == NVME_P2P_QUEUE_REVOKED)
		return -ENODEV;
	if (info.state == NVME_P2P_QUEUE_RESETTING)
		return -EAGAIN;
	if (info.generation == q->priv->ring_generation)
		return 0;
	nr_lost = nvmep2p__queue_reset_rings(q, lost, arg);
	/* The kernel zeroes the rings it placed; one in a dma-buf is ours. */
	if (info.cq_placement == NVME_P2P_CQ_DMABUF && q->cq)
		memset(q->cq, 0, (size_t)q->depth * sizeof(*q->cq));
	/* The kernel keeps a reset queue stopped until we restart from 0. */
	if (info.state == NVME_P2P_QUEUE_STOPPED &&
	    ioctl(nvmep2p_queue_fd(q), NVME_P2P_IOCTL_QUEUE_RESUME))
		return -errno;	/* generation kept: the next call retries */
	q->priv->ring_generation = info.generation;
	return (int)nr_lost;
}

/* NVME_P2P_IOCTL_DMABUF on a region or queue descriptor. */
static int nvmep2p_dmabuf(int fd, uint64_t offset, uint64_t size)
{
	struct nvme_p2p_dmabuf d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.argsz = sizeof(d);
	d.offset = offset;
	d.size = size;
	ret = ioctl(fd, NVME_P2P_IOCTL_DMABUF, &d);
	return ret < 0 ? -errno : ret;
}

int nvmep2p_region_dmabuf(const struct nvmep2p_region *region, size_t offset,
			  size_t size)
{
	if (!region || offset % NVMEP2P_PAGE_SIZE || size % NVMEP2P_PAGE_SIZE ||
	    offset >= region->size || size > region->size - offset)
		return -EINVAL;
	return nvmep2p_dmabuf(region->fd, offset, size);
}

int nvmep2p_queue_dmabuf(const struct nvmep2p_queue *q, uint64_t part)
{
	if (!q || (part != NVME_P2P_QUEUE_OFF_SQ && part != NVME_P2P_QUEUE_OFF_CQ &&
		   part != NVME_P2P_QUEUE_OFF_DB))
		return -EINVAL;
	if (q->priv->fd < 0)
		return -EBADF;	/* rings in plain memory: nothing to export */
	return nvmep2p_dmabuf(q->priv->fd, part, 0);
}

void *nvmep2p_queue_sq_map(const struct nvmep2p_queue *q)
{
	return q ? q->priv->sq_map : NULL;
}

void *nvmep2p_queue_cq_map(const struct nvmep2p_queue *q)
{
	return q ? q->priv->cq_map : NULL;
}

void *nvmep2p_queue_db_map(const struct nvmep2p_queue *q)
{
	return q ? q->priv->db_map : NULL;
}

void *nvmep2p_queue_sq_doorbell(const struct nvmep2p_queue *q)
{
	if (!q || !q->priv->db_map)
		return NULL;
	return (uint8_t *)q->priv->db_map + q->priv->info.sq_db_offset;
}

void *nvmep2p_queue_cq_doorbell(const struct nvmep2p_queue *q)
{
	if (!q || !q->priv->db_map)
		return NULL;
	return (uint8_t *)q->priv->db_map + q->priv->info.cq_db_offset;
}

int nvmep2p_queue_reap(struct nvmep2p_queue *q, struct nvmep2p_cqe *cqes,
		       void **data, unsigned int max)
{
	struct nvmep2p_cqe *cqe;
	unsigned int n = 0;
	int ret = 0;

	if (!q || (!cqes && max) || max > INT_MAX)
		return -EINVAL;
	queue_sync_match(q);
	while (n < max) {
		ret = nvmep2p_queue_peek_cqe(q, &cqe);
		if (ret)
			break;
		cqes[n] = *cqe;
		if (data)
			data[n] = nvmep2p_cqe_get_data(q, cqe);
		nvmep2p_queue_cqe_seen(q, cqe);
		n++;
	}
	nvmep2p_queue_ring_cq(q);
	if (n)
		return (int)n;
	return ret == -EAGAIN ? 0 : ret;
}

/* ---------------------------------------------------------------------- */
/* PRP lists                                                               */
/* ---------------------------------------------------------------------- */

size_t nvmep2p__prp_list_slots(uint64_t bus, size_t nr_entries)
{
	size_t slots = 0;

	while (nr_entries) {
		/* The last slot of a list page chains to the next page,
		 * unless it can hold the final entry itself. */
		if (((bus + 8) & PRP_PAGE_MASK) != 0 || nr_entries == 1)
			nr_entries--;
		slots++;
		bus += 8;
	}
	return slots;
}

size_t nvmep2p_prp_list_bytes(size_t max_transfer)
{
	size_t entries = (max_transfer + NVMEP2P_PAGE_SIZE - 1) / NVMEP2P_PAGE_SIZE;

	/* From a page boundary: the worst a slot-aligned list can start at. */
	return 8 * nvmep2p__prp_list_slots(0, entries);
}

int nvmep2p_prp_fill(uint64_t addr, size_t len, size_t max_transfer,
		     const struct nvmep2p_prp_list *list,
		     uint64_t *prp1, uint64_t *prp2)
{
	uint64_t first, page, bus;
	size_t nr_entries, i;
	uint64_t *slot;

	if (!prp1 || !prp2 || !len || (addr & 3) || addr + len - 1 < addr)
		return -EINVAL;
	if (max_transfer && len > max_transfer)
		return -EINVAL;
	first = NVMEP2P_PAGE_SIZE - (addr & PRP_PAGE_MASK);
	if (len <= first) {
		*prp1 = addr;
		*prp2 = 0;
		return 0;
	}
	page = addr + first;		/* second page, page aligned */
	if (len - first <= NVMEP2P_PAGE_SIZE) {
		*prp1 = addr;
		*prp2 = page;
		return 0;
	}
	nr_entries = (len - first + NVMEP2P_PAGE_SIZE - 1) / NVMEP2P_PAGE_SIZE;
	if (!list || !list->addr)
		return -ENOSPC;
	if (((uintptr_t)list->addr & 7) || (list->bus_addr & 7))
		return -EINVAL;
	if (list->size / 8 < nvmep2p__prp_list_slots(list->bus_addr, nr_entries))
		return -ENOSPC;
	slot = list->addr;
	bus = list->bus_addr;
	for (i = 0; i < nr_entries; bus += 8) {
		if (((bus + 8) & PRP_PAGE_MASK) == 0 && nr_entries - i > 1)
			*slot++ = nvmep2p_le64(bus + 8);	/* next list page */
		else
			*slot++ = nvmep2p_le64(page + i++ * NVMEP2P_PAGE_SIZE);
	}
	*prp1 = addr;
	*prp2 = list->bus_addr;
	return 0;
}

/* Power of two up to a page (slots then never cross a page), whole pages
 * beyond; at least one DSM range. */
static size_t pool_slot_bytes(size_t max_transfer)
{
	size_t need = nvmep2p_prp_list_bytes(max_transfer), slot = 16;

	if (need > NVMEP2P_PAGE_SIZE)
		return (need + NVMEP2P_PAGE_SIZE - 1) & ~(size_t)PRP_PAGE_MASK;
	while (slot < need)
		slot <<= 1;
	return slot;
}

size_t nvmep2p_queue_prp_pool_bytes(const struct nvmep2p_queue *q)
{
	if (!q || !q->priv->max_transfer)
		return 0;
	return (q->depth - 1) * pool_slot_bytes(q->priv->max_transfer);
}

int nvmep2p_queue_attach_prp_pool(struct nvmep2p_queue *q,
				  const struct nvmep2p_region *region,
				  size_t offset)
{
	size_t bytes;

	if (!q || !region || !region->addr || (offset & PRP_PAGE_MASK) ||
	    !q->priv->max_transfer)
		return -EINVAL;
	bytes = nvmep2p_queue_prp_pool_bytes(q);
	if (offset > region->size || region->size - offset < bytes)
		return -EINVAL;
	if (nvmep2p_queue_inflight(q))
		return -EBUSY;
	q->priv->pool = (uint8_t *)region->addr + offset;
	q->priv->pool_bus = region->bus_addr + offset;
	q->priv->pool_slot = pool_slot_bytes(q->priv->max_transfer);
	return 0;
}

/*
 * The CID of an SQE that get_sqe handed out and submit has not yet made
 * visible (the only time its PRPs and pool slot may be written), or -1.
 */
static int sqe_unsubmitted_cid(const struct nvmep2p_queue *q,
			       const struct nvmep2p_sqe *sqe)
{
	uint32_t slot, pos, pending;

	if (!q->sq || sqe < q->sq || sqe >= q->sq + q->depth)
		return -1;
	slot = (uint32_t)(sqe - q->sq);
	pos = (slot + q->depth - q->sq_tail_rung) % q->depth;
	pending = (q->sq_tail + q->depth - q->sq_tail_rung) % q->depth;
	if (pos >= pending)
		return -1;
	return q->slot_cid[slot];
}

int nvmep2p_queue_cmd_mem(struct nvmep2p_queue *q,
			  const struct nvmep2p_sqe *sqe,
			  void **addr, uint64_t *bus_addr, size_t *size)
{
	int cid;

	if (!q || !sqe || !addr || !bus_addr)
		return -EINVAL;
	cid = sqe_unsubmitted_cid(q, sqe);
	if (cid < 0)
		return -EINVAL;
	if (!q->priv->pool)
		return -ENOSPC;
	*addr = q->priv->pool + (size_t)cid * q->priv->pool_slot;
	*bus_addr = q->priv->pool_bus + (uint64_t)cid * q->priv->pool_slot;
	if (size)
		*size = q->priv->pool_slot;
	return 0;
}

int nvmep2p_queue_set_prps(struct nvmep2p_queue *q, struct nvmep2p_sqe *sqe,
			   uint64_t addr, size_t len)
{
	struct nvmep2p_prp_list list = { 0 }, *lp = NULL;
	uint64_t prp1, prp2;
	int ret;

	if (!q || !sqe)
		return -EINVAL;
	if (sqe_unsubmitted_cid(q, sqe) < 0)
		return -EINVAL;
	if (q->priv->pool) {
		ret = nvmep2p_queue_cmd_mem(q, sqe, &list.addr, &list.bus_addr,
					    &list.size);
		if (ret)
			return ret;
		lp = &list;
	}
	ret = nvmep2p_prp_fill(addr, len, q->priv->max_transfer, lp, &prp1, &prp2);
	if (ret)
		return ret;
	sqe->prp1 = nvmep2p_le64(prp1);
	sqe->prp2 = nvmep2p_le64(prp2);
	return 0;
}

/* The CID the next push_cmd takes (the top of the free stack), or -1. */
static int next_cid(const struct nvmep2p_queue *q)
{
	uint32_t next = q->sq_tail + 1 == q->depth ? 0 : q->sq_tail + 1;

	if (!q->cid_nr_free || next == q->sq_head)
		return -1;
	return q->cid_free[q->cid_nr_free - 1];
}

int nvmep2p_queue_next_cmd_mem(struct nvmep2p_queue *q, void **addr,
			       uint64_t *bus_addr, size_t *size)
{
	int cid;

	if (!q || !addr || !bus_addr)
		return -EINVAL;
	cid = next_cid(q);
	if (cid < 0)
		return -EBUSY;
	if (!q->priv->pool)
		return -ENOSPC;
	*addr = q->priv->pool + (size_t)cid * q->priv->pool_slot;
	*bus_addr = q->priv->pool_bus + (uint64_t)cid * q->priv->pool_slot;
	if (size)
		*size = q->priv->pool_slot;
	return 0;
}

int nvmep2p_queue_next_prps(struct nvmep2p_queue *q, uint64_t addr,
			    size_t len, uint64_t *prp1, uint64_t *prp2)
{
	struct nvmep2p_prp_list list = { 0 }, *lp = NULL;
	int ret;

	if (!q || !prp1 || !prp2)
		return -EINVAL;
	/* One or two pages need no list: no pool, no free CID needed. */
	if (len > 2 * NVMEP2P_PAGE_SIZE || !len ||
	    (addr & PRP_PAGE_MASK) + len > 2 * NVMEP2P_PAGE_SIZE) {
		ret = nvmep2p_queue_next_cmd_mem(q, &list.addr, &list.bus_addr,
						 &list.size);
		if (ret == -EBUSY)
			return ret;
		if (!ret)
			lp = &list;
	}
	return nvmep2p_prp_fill(addr, len, q->priv->max_transfer, lp, prp1, prp2);
}

/* ---------------------------------------------------------------------- */
/* Waiting for completions                                                 */
/* ---------------------------------------------------------------------- */

#define WAIT_SLEEP_DEFAULT_NS	10000ULL	/* SLEEP without sleep_ns */
#define WAIT_SLEEP_MIN_NS	2000ULL		/* shorter: poll instead */
#define WAIT_SLEEP_MAX_NS	10000000ULL	/* one sleep at most 10 ms */
#define WAIT_FIRST_SPIN_NS	50000ULL	/* poll this long to learn */
#define WAIT_SPIN_SLACK_NS	20000ULL	/* poll past the expected time */
#define WAIT_CLOCK_POLLS	32		/* read the clock every N polls */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	nanosleep(&ts, NULL);
}

/* Is entry k (0-based) after the CQ head posted? */
static bool cq_posted(const struct nvmep2p_queue *q, uint32_t k)
{
	uint32_t i = q->cq_head + k;
	unsigned int phase = q->cq_phase;

	if (i >= q->depth) {
		i -= q->depth;
		phase ^= 1;
	}
	return (nvmep2p_le16(*(const volatile uint16_t *)&q->cq[i].status) & 1) ==
		phase;
}

/* How many entries from the head on are posted, up to limit: the
 * controller posts in ring order, so they are a prefix (binary search). */
static uint32_t cq_count(const struct nvmep2p_queue *q, uint32_t limit)
{
	uint32_t lo = 0, hi = limit;	/* lo posted for sure, hi at most */

	if (!limit || !cq_posted(q, 0))
		return 0;
	if (cq_posted(q, limit - 1))
		return limit;
	lo = 1;
	hi = limit - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (cq_posted(q, mid - 1))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * How long a wait takes, updated with a sample. Completion times under
 * load have a long tail (a stalled controller, a descheduled host thread);
 * sleeping for their mean would often sleep past completions that came
 * early. The estimate follows a low quantile instead: it moves a quarter
 * of the way down to a shorter sample, a sixteenth of the way up to a
 * longer one (counted at most twice the estimate).
 */
static uint64_t learn(uint64_t avg, uint64_t sample)
{
	if (!avg)
		return sample ? sample : 1;
	if (sample < avg)
		return avg - (avg - sample) / 4;
	if (sample > 2 * avg)
		sample = 2 * avg;
	return avg + (sample - avg) / 16;
}

/* Moving average of how late sleeps end. */
static uint64_t ewma(uint64_t avg, uint64_t sample)
{
	return avg - avg / 4 + sample / 4;
}

/* The learned wait for want completions (scaled from what was learned). */
static uint64_t expected(const struct nvmep2p_wait *w, uint32_t want)
{
	if (!w->expect_ns || !w->expect_nr)
		return 0;
	if (want == w->expect_nr)
		return w->expect_ns;
	return w->expect_ns * want / w->expect_nr;
}

/* A wait for want completions took ns. */
static void learned(struct nvmep2p_wait *w, uint32_t want, uint64_t ns)
{
	w->expect_ns = learn(expected(w, want), ns);
	w->expect_nr = want;
}

/*
 * A sleep found the completions already there: the estimate only bounds
 * the wait from above; it shrinks by an eighth, so that sleeps end just
 * before the completions arrive and the polling after them sees them come.
 */
static void overslept(struct nvmep2p_wait *w, uint32_t want)
{
	uint64_t e = expected(w, want);

	w->expect_ns = e - e / 8 ? e - e / 8 : 1;
	w->expect_nr = want;
}

static void sleep_for(struct nvmep2p_wait *w, uint64_t ns)
{
	uint64_t t = now_ns();

	sleep_ns(ns);
	w->sleeps++;
	w->sleep_ns_total += now_ns() - t;
}

/* The head entry is posted but belongs to another queue (stale rings). */
static bool head_stale(const struct nvmep2p_queue *q)
{
	const struct nvmep2p_cqe *e = &q->cq[q->cq_head];

	nvmep2p_dma_read_fence();
	return nvmep2p_le16(*(const volatile uint16_t *)&e->sq_id) != q->qid;
}

int nvmep2p_queue_wait(struct nvmep2p_queue *q, struct nvmep2p_wait *w,
		       unsigned int min, unsigned int want, uint64_t timeout_ns)
{
	uint64_t t0, t, deadline, expect = 0, spin_until, nap;
	uint32_t inflight, n, polls = 0;

	if (!q || !w)
		return -EINVAL;
	if (!q->cq)
		return -EOPNOTSUPP;
	inflight = nvmep2p_queue_inflight(q);
	if (!min || min > want || min > inflight)
		return -EINVAL;
	if (want > inflight)
		want = inflight;
	n = cq_count(q, want);
	if (n && head_stale(q))
		return -ESTALE;
	if (n >= want)
		return (int)n;

	w->waits++;
	t0 = t = now_ns();
	deadline = timeout_ns ? t0 + timeout_ns : UINT64_MAX;
	if (w->mode == NVMEP2P_WAIT_HYBRID)
		expect = expected(w, want);
	if (expect > w->late_ns + WAIT_SLEEP_MIN_NS) {
		/* Sleep through what is expected to be empty. */
		nap = expect - w->late_ns;
		if (nap > WAIT_SLEEP_MAX_NS)
			nap = WAIT_SLEEP_MAX_NS;
		if (nap > deadline - t0)
			nap = deadline - t0;
		sleep_ns(nap);
		t = now_ns();
		w->sleeps++;
		w->sleep_ns_total += t - t0;
		w->late_ns = ewma(w->late_ns, t - t0 > nap ? t - t0 - nap : 0);
		n = cq_count(q, want);
		if (n >= want) {
			overslept(w, want);
			goto out;
		}
	}
	/* Poll a little past the expected time; then it is late. */
	spin_until = t + (expect ? expect / 4 + WAIT_SPIN_SLACK_NS : WAIT_FIRST_SPIN_NS);
	for (;;) {
		if (cq_posted(q, want - 1)) {
			n = want;
			break;
		}
		if (++polls % WAIT_CLOCK_POLLS)
			goto pause;
		t = now_ns();
		if (t >= deadline) {
			n = cq_count(q, want);
			if (n >= min)
				break;
			w->polls += polls;
			w->wait_ns += t - t0;
			return -ETIMEDOUT;
		}
		if (w->mode != NVMEP2P_WAIT_HYBRID || t < spin_until)
			goto pause;
		/* Late: take what is there, or sleep a little at a time. */
		n = cq_count(q, want);
		if (n >= min)
			break;
		nap = expect ? expect / 8 : WAIT_SLEEP_DEFAULT_NS;
		if (nap < WAIT_SLEEP_MIN_NS)
			nap = WAIT_SLEEP_MIN_NS;
		if (nap > deadline - t)
			nap = deadline - t;
		sleep_for(w, nap);
		continue;
pause:
		switch (w->mode) {
		case NVMEP2P_WAIT_YIELD:
			sched_yield();
			break;
		case NVMEP2P_WAIT_SLEEP:
			sleep_for(w, w->sleep_ns ? w->sleep_ns : WAIT_SLEEP_DEFAULT_NS);
			break;
		default:
#if defined(__x86_64__) || defined(__i386__)
			__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
			__asm__ __volatile__("yield" ::: "memory");
#endif
			break;
		}
	}
	t = now_ns();
	if (w->mode == NVMEP2P_WAIT_HYBRID && n >= want) {
		/*
		 * Seen arriving while polling, or during one of the short
		 * sleeps of a late wait (at most a quarter of the expected
		 * wait, or the shortest sleep): the wait's own length, give
		 * or take that sleep.
		 */
		learned(w, want, t - t0);
	}
out:
	w->polls += polls;
	w->wait_ns += t - t0;
	if (head_stale(q))
		return -ESTALE;
	return (int)n;
}
