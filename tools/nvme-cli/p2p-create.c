// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p create-region and create-queue: a region or a queue pair that
 * lives as long as the command (--hold), for testing.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "p2p-common.h"

static volatile sig_atomic_t p2p_hold_stop;

static void p2p_hold_signal(int sig)
{
	(void)sig;
	p2p_hold_stop = 1;
}

static int queue_get_info(struct p2p_ctrl *c, int qfd, struct nvme_p2p_queue_info *qi)
{
	struct p2p_ctrl q = *c;

	memset(qi, 0, sizeof(*qi));
	qi->argsz = sizeof(*qi);
	q.fd = qfd;
	return p2p_ioctl(&q, NVME_P2P_IOCTL_QUEUE_INFO, qi);
}

/*
 * Keep the object of @fd alive for @seconds or until SIGINT/SIGTERM. For a
 * queue (@qid != 0), say on stderr when a controller reset re-creates it
 * (EPOLLPRI, acknowledged with a QUEUE_INFO) and when it is revoked.
 */
static void p2p_hold(struct p2p_ctrl *c, int fd, __u16 qid, unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = p2p_hold_signal };
	struct nvme_p2p_queue_info qi;
	struct timespec end, now;
	bool watch = qid;

	if (!seconds)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	while (!p2p_hold_stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		int64_t ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000LL +
		     (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			break;
		if (poll(&pfd, watch, ms > INT_MAX ? INT_MAX : (int)ms) <= 0)
			continue;
		if (pfd.revents & (POLLERR | POLLHUP)) {
			fprintf(stderr, "%s: queue %u revoked\n", c->name, qid);
			watch = false;
		} else if ((pfd.revents & POLLPRI) && !queue_get_info(c, fd, &qi)) {
			fprintf(stderr, "%s: queue %u re-created after a controller reset, generation %u, %s\n",
				c->name, qid, qi.generation, p2p_queue_state_name(qi.state));
		} else {
			watch = false;	/* nothing we can wait for */
		}
	}
}

int p2p_cmd_create_region(int argc, char **argv)
{
	const char *desc = "Create a data region (for testing): a piece of the CMB, or "
		"of host memory with --host, that peers can map. It lives as long "
		"as this command: --hold keeps it for that many seconds (or until "
		"SIGINT/SIGTERM) so that 'nvme p2p list' can show it.";
	const char *size_help = "Region size in bytes, a multiple of 4096 (suffixes K, M, G)";
	const char *host_help = "Host memory DMA-mapped for the controller instead of CMB";
	const char *no_cpu_help = "No CPU mapping: only peers may map it";
	const char *hold_help = "Seconds to keep the region before releasing it (default 0)";
	struct nvme_p2p_region_create arg;
	enum nvme_print_flags flags;
	struct p2p_ctrl c;
	char buf[64];
	int fd, err;

	struct config {
		__u64 size;
		bool host;
		bool no_cpu_map;
		__u32 hold;
		char *output_format;
	} cfg = {
		.output_format = "normal",
	};

	OPT_ARGS(opts) = {
		OPT_SUFFIX("size", 's', &cfg.size, size_help),
		OPT_FLAG("host", 0, &cfg.host, host_help),
		OPT_FLAG("no-cpu-map", 0, &cfg.no_cpu_map, no_cpu_help),
		OPT_UINT("hold", 't', &cfg.hold, hold_help),
		OPT_FMT("output-format", 'o', &cfg.output_format, p2p_output_format_help),
		OPT_END()
	};

	err = p2p_open(&c, argc, argv, desc, opts);
	if (err)
		return err;
	err = p2p_output_flags(cfg.output_format, false, &flags);
	if (err)
		goto out;
	if (!cfg.size) {
		fprintf(stderr, "--size: give the region size in bytes, a multiple of 4096\n");
		err = -EINVAL;
		goto out;
	}

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.size = cfg.size;
	arg.flags = (cfg.host ? NVME_P2P_REGION_HOST : 0) |
		    (cfg.no_cpu_map ? NVME_P2P_REGION_NO_CPU_MAP : 0);
	fd = p2p_ioctl(&c, NVME_P2P_IOCTL_REGION_CREATE, &arg);
	if (fd < 0) {
		err = fd;
		goto out;
	}

	if (flags & JSON) {
		struct json_object *o = json_create_object();

		p2p_json_str(o, "device", c.name);
		p2p_json_s64(o, "pid", getpid());
		p2p_json_str(o, "memory", cfg.host ? "host" : "cmb");
		p2p_json_u64(o, "size", arg.size);
		p2p_json_u64(o, "bus_addr", arg.bus_addr);
		p2p_json_u64(o, "cmb_offset", arg.cmb_offset);
		p2p_json_u64(o, "flags", arg.flags);
		p2p_json_u64(o, "hold", cfg.hold);
		p2p_json_print(o);
	} else {
		printf("%s region of %s on %s: bus address %#" PRIx64
		       ", CMB offset %#" PRIx64 "; pid %d, held %u s\n",
		       cfg.host ? "host" : "CMB",
		       p2p_size_str(buf, sizeof(buf), arg.size), c.name,
		       (uint64_t)arg.bus_addr, (uint64_t)arg.cmb_offset,
		       (int)getpid(), cfg.hold);
	}
	fflush(stdout);
	p2p_hold(&c, fd, 0, cfg.hold);
	close(fd);
out:
	p2p_close(&c);
	return err;
}

static int parse_sq_placement(const char *s, __u8 *placement)
{
	if (!strcmp(s, "cmb-preferred"))
		*placement = NVME_P2P_SQ_CMB_PREFERRED;
	else if (!strcmp(s, "cmb"))
		*placement = NVME_P2P_SQ_CMB_REQUIRED;
	else if (!strcmp(s, "host"))
		*placement = NVME_P2P_SQ_HOST;
	else
		return -EINVAL;
	return 0;
}

static int parse_cq_placement(const char *s, __u8 *placement)
{
	if (!strcmp(s, "host"))
		*placement = NVME_P2P_CQ_HOST;
	else if (!strcmp(s, "cmb"))
		*placement = NVME_P2P_CQ_CMB;
	else
		return -EINVAL;
	return 0;
}

static void created_queue_print(const struct p2p_ctrl *c,
				const struct nvme_p2p_queue_info *qi,
				unsigned int hold, bool json)
{
	if (json) {
		struct json_object *o = json_create_object();

		p2p_json_str(o, "device", c->name);
		p2p_json_s64(o, "pid", getpid());
		p2p_json_u64(o, "qid", qi->qid);
		p2p_json_str(o, "state", p2p_queue_state_name(qi->state));
		p2p_json_u64(o, "generation", qi->generation);
		p2p_json_u64(o, "depth", qi->depth);
		p2p_json_str(o, "sq_placement", p2p_sq_placement_name(qi->sq_placement));
		p2p_json_str(o, "cq_placement", p2p_cq_placement_name(qi->cq_placement));
		p2p_json_u64(o, "flags", qi->flags);
		p2p_json_u64(o, "sq_bytes", qi->sq_bytes);
		p2p_json_u64(o, "cq_bytes", qi->cq_bytes);
		p2p_json_u64(o, "db_bytes", qi->db_bytes);
		p2p_json_u64(o, "sq_db_offset", qi->sq_db_offset);
		p2p_json_u64(o, "cq_db_offset", qi->cq_db_offset);
		p2p_json_u64(o, "sq_addr", qi->sq_addr);
		p2p_json_u64(o, "cq_addr", qi->cq_addr);
		p2p_json_u64(o, "db_addr", qi->db_addr);
		p2p_json_u64(o, "max_transfer", qi->max_transfer);
		p2p_json_u64(o, "hold", hold);
		p2p_json_print(o);
		return;
	}
	printf("queue %u on %s: depth %u, SQ in %s at %#" PRIx64 ", CQ in %s at %#"
	       PRIx64 ", doorbells at %#" PRIx64 " (+%#x SQ, +%#x CQ); %s, "
	       "generation %u; pid %d, held %u s\n",
	       qi->qid, c->name, qi->depth, p2p_sq_placement_name(qi->sq_placement),
	       (uint64_t)qi->sq_addr, p2p_cq_placement_name(qi->cq_placement),
	       (uint64_t)qi->cq_addr, (uint64_t)qi->db_addr, qi->sq_db_offset,
	       qi->cq_db_offset, p2p_queue_state_name(qi->state), qi->generation,
	       (int)getpid(), hold);
}

int p2p_cmd_create_queue(int argc, char **argv)
{
	const char *desc = "Create an exported I/O queue pair (for testing) at one of "
		"the queue IDs reserved for export. Needs CAP_SYS_ADMIN. The pair "
		"lives as long as this command: --hold keeps it for that many "
		"seconds (or until SIGINT/SIGTERM), reporting controller resets "
		"and revocation on stderr meanwhile.";
	const char *depth_help = "Entries in the SQ and in the CQ (default 64)";
	const char *sq_help = "Where the SQ lives: cmb-preferred (default), cmb or host";
	const char *cq_help = "Where the CQ lives: host (default) or cmb";
	const char *hold_help = "Seconds to keep the queue before deleting it (default 0)";
	struct nvme_p2p_queue_create arg;
	struct nvme_p2p_queue_info qi;
	enum nvme_print_flags flags;
	struct p2p_ctrl c;
	int fd, err;

	struct config {
		__u32 depth;
		char *sq_placement;
		char *cq_placement;
		__u32 hold;
		char *output_format;
	} cfg = {
		.depth = 64,
		.sq_placement = "cmb-preferred",
		.cq_placement = "host",
		.output_format = "normal",
	};

	OPT_ARGS(opts) = {
		OPT_UINT("depth", 'd', &cfg.depth, depth_help),
		OPT_STR("sq-placement", 'S', &cfg.sq_placement, sq_help),
		OPT_STR("cq-placement", 'C', &cfg.cq_placement, cq_help),
		OPT_UINT("hold", 't', &cfg.hold, hold_help),
		OPT_FMT("output-format", 'o', &cfg.output_format, p2p_output_format_help),
		OPT_END()
	};

	err = p2p_open(&c, argc, argv, desc, opts);
	if (err)
		return err;
	err = p2p_output_flags(cfg.output_format, false, &flags);
	if (err)
		goto out;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.depth = cfg.depth;
	if (parse_sq_placement(cfg.sq_placement, &arg.sq_placement)) {
		fprintf(stderr, "--sq-placement '%s': cmb-preferred, cmb or host\n",
			cfg.sq_placement);
		err = -EINVAL;
		goto out;
	}
	if (parse_cq_placement(cfg.cq_placement, &arg.cq_placement)) {
		fprintf(stderr, "--cq-placement '%s': host or cmb\n", cfg.cq_placement);
		err = -EINVAL;
		goto out;
	}
	fd = p2p_ioctl(&c, NVME_P2P_IOCTL_QUEUE_CREATE, &arg);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = queue_get_info(&c, fd, &qi);
	if (!err) {
		created_queue_print(&c, &qi, cfg.hold, flags & JSON);
		fflush(stdout);
		p2p_hold(&c, fd, qi.qid, cfg.hold);
	}
	close(fd);
out:
	p2p_close(&c);
	return err;
}
