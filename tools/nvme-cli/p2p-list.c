// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p list and nvme p2p queue: what the controller exports right now.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p-common.h"

/* Doorbells start at this offset of BAR0 (NVMe base specification 3.1.4). */
#define P2P_DOORBELL_BASE	0x1000

static const struct p2p_bit p2p_region_flags[] = {
	{ NVME_P2P_REGION_NO_CPU_MAP, "no-cpu-map", "peers only, no CPU mapping" },
	{ NVME_P2P_REGION_HOST, "host", "host memory, not the CMB" },
};

static const struct p2p_bit p2p_queue_flags[] = {
	{ NVME_P2P_QUEUE_SQ_NO_CPU_MAP, "sq-no-cpu-map", "SQ ring has no CPU mapping" },
	{ NVME_P2P_QUEUE_CQ_NO_CPU_MAP, "cq-no-cpu-map", "CQ ring has no CPU mapping" },
	{ NVME_P2P_QUEUE_DB_NO_CPU_MAP, "db-no-cpu-map", "doorbell page has no CPU mapping" },
};

static int entry_rank(__u32 type)
{
	return type == NVME_P2P_ENTRY_QUEUE ? 0 : type == NVME_P2P_ENTRY_REGION ? 1 : 2;
}

/* Queues by qid, then regions by address, then types this tool does not know. */
static int entry_cmp(const void *a, const void *b)
{
	const struct nvme_p2p_list_entry *x = a, *y = b;

	if (entry_rank(x->type) != entry_rank(y->type))
		return entry_rank(x->type) - entry_rank(y->type);
	if (x->type == NVME_P2P_ENTRY_QUEUE)
		return x->qid - y->qid;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint64_t sq_doorbell(const struct nvme_p2p_info *info, __u16 qid)
{
	return P2P_DOORBELL_BASE + 2ULL * qid * info->db_stride;
}

static uint64_t cq_doorbell(const struct nvme_p2p_info *info, __u16 qid)
{
	return P2P_DOORBELL_BASE + (2ULL * qid + 1) * info->db_stride;
}

static struct json_object *queue_entry_json(const struct nvme_p2p_list_entry *e,
					    const struct nvme_p2p_info *info,
					    bool human)
{
	struct json_object *o = json_create_object();
	char comm[P2P_NAME_LEN];

	p2p_json_u64(o, "qid", e->qid);
	p2p_json_s64(o, "pid", e->pid);
	p2p_json_str(o, "comm", p2p_pid_comm(comm, sizeof(comm), e->pid));
	p2p_json_str(o, "state", p2p_queue_state_name(e->state));
	p2p_json_u64(o, "generation", e->generation);
	p2p_json_u64(o, "depth", e->depth);
	p2p_json_str(o, "sq_placement", p2p_sq_placement_name(e->sq_placement));
	p2p_json_str(o, "cq_placement", p2p_cq_placement_name(e->cq_placement));
	p2p_json_u64(o, "sq_bytes", e->size);
	p2p_json_u64(o, "sq_addr", e->addr);
	p2p_json_u64(o, "cq_addr", e->cq_addr);
	p2p_json_u64(o, "sq_head", e->sq_head);
	p2p_json_u64(o, "cq_tail", e->cq_tail);
	p2p_json_u64(o, "importers", e->importers);
	p2p_json_u64(o, "dmabufs", e->dmabufs);
	p2p_json_u64(o, "dmabuf_importers", e->dmabuf_attachments);
	p2p_json_u64(o, "flags", e->flags);
	if (human)
		json_object_add_value_array(o, "flag_names",
			p2p_json_bit_names(e->flags, p2p_queue_flags,
					   ARRAY_SIZE(p2p_queue_flags)));
	if (info) {
		p2p_json_u64(o, "sq_doorbell_offset", sq_doorbell(info, e->qid));
		p2p_json_u64(o, "cq_doorbell_offset", cq_doorbell(info, e->qid));
	}
	return o;
}

static struct json_object *region_entry_json(const struct nvme_p2p_list_entry *e,
					     bool human)
{
	struct json_object *o = json_create_object();
	char comm[P2P_NAME_LEN];

	p2p_json_s64(o, "pid", e->pid);
	p2p_json_str(o, "comm", p2p_pid_comm(comm, sizeof(comm), e->pid));
	p2p_json_str(o, "state", e->state == NVME_P2P_QUEUE_REVOKED ? "revoked" : "live");
	p2p_json_str(o, "memory", e->flags & NVME_P2P_REGION_HOST ? "host" : "cmb");
	p2p_json_u64(o, "size", e->size);
	p2p_json_u64(o, "bus_addr", e->addr);
	p2p_json_u64(o, "importers", e->importers);
	p2p_json_u64(o, "dmabufs", e->dmabufs);
	p2p_json_u64(o, "dmabuf_importers", e->dmabuf_attachments);
	p2p_json_u64(o, "flags", e->flags);
	if (human)
		json_object_add_value_array(o, "flag_names",
			p2p_json_bit_names(e->flags, p2p_region_flags,
					   ARRAY_SIZE(p2p_region_flags)));
	return o;
}

static void list_print_normal(const struct p2p_ctrl *c,
			      const struct nvme_p2p_list_entry *e,
			      unsigned int nr, bool human)
{
	unsigned int i, queues = 0;
	char comm[P2P_NAME_LEN], names[128];

	for (i = 0; i < nr; i++)
		queues += e[i].type == NVME_P2P_ENTRY_QUEUE;

	printf("Exported queues of %s (%s): %u\n", c->name, c->pci, queues);
	if (queues) {
		printf("%4s %7s %-15s %-9s %4s %5s %-4s %-4s %-18s %-18s %6s %6s %4s %4s %4s%s\n",
		       "QID", "PID", "Command", "State", "Gen", "Depth", "SQ", "CQ",
		       "SQ address", "CQ address", "SQhead", "CQtail", "Imp", "Bufs",
		       "BImp", human ? "  Flags" : "");
		for (i = 0; i < queues; i++)
			printf("%4u %7d %-15s %-9s %4u %5u %-4s %-4s %#018" PRIx64
			       " %#018" PRIx64 " %6u %6u %4u %4u %4u%s%s\n",
			       e[i].qid, e[i].pid,
			       p2p_pid_comm(comm, sizeof(comm), e[i].pid),
			       p2p_queue_state_name(e[i].state), e[i].generation,
			       e[i].depth, p2p_sq_placement_name(e[i].sq_placement),
			       p2p_cq_placement_name(e[i].cq_placement),
			       (uint64_t)e[i].addr, (uint64_t)e[i].cq_addr,
			       e[i].sq_head, e[i].cq_tail, e[i].importers,
			       e[i].dmabufs, e[i].dmabuf_attachments,
			       human ? "  " : "",
			       human ? p2p_bit_names(names, sizeof(names), e[i].flags,
						     p2p_queue_flags,
						     ARRAY_SIZE(p2p_queue_flags)) : "");
	}

	printf("Data regions of %s: %u\n", c->name, nr - queues);
	if (nr == queues)
		return;
	printf("%7s %-15s %-7s %-6s %12s %-18s %4s %4s %4s%s\n", "PID", "Command",
	       "State", "Memory", "Size", "Bus address", "Imp", "Bufs", "BImp",
	       human ? "  Flags" : "");
	for (i = queues; i < nr; i++)
		printf("%7d %-15s %-7s %-6s %12" PRIu64 " %#018" PRIx64 " %4u %4u %4u%s%s\n",
		       e[i].pid, p2p_pid_comm(comm, sizeof(comm), e[i].pid),
		       e[i].state == NVME_P2P_QUEUE_REVOKED ? "revoked" : "live",
		       e[i].flags & NVME_P2P_REGION_HOST ? "host" : "cmb",
		       (uint64_t)e[i].size, (uint64_t)e[i].addr, e[i].importers,
		       e[i].dmabufs, e[i].dmabuf_attachments,
		       human ? "  " : "",
		       human ? p2p_bit_names(names, sizeof(names), e[i].flags,
					     p2p_region_flags,
					     ARRAY_SIZE(p2p_region_flags)) : "");
}

static void list_print_json(const struct p2p_ctrl *c,
			    const struct nvme_p2p_list_entry *e,
			    unsigned int nr, bool human)
{
	struct json_object *o = json_create_object();
	struct json_object *queues = json_create_array();
	struct json_object *regions = json_create_array();
	unsigned int i;

	p2p_json_str(o, "device", c->name);
	p2p_json_str(o, "pci_address", c->pci);
	for (i = 0; i < nr; i++) {
		if (e[i].type == NVME_P2P_ENTRY_QUEUE)
			json_array_add_value_object(queues,
				queue_entry_json(&e[i], NULL, human));
		else
			json_array_add_value_object(regions,
				region_entry_json(&e[i], human));
	}
	json_object_add_value_array(o, "queues", queues);
	json_object_add_value_array(o, "regions", regions);
	p2p_json_print(o);
}

int p2p_cmd_list(int argc, char **argv)
{
	const char *desc = "List what the controller exports right now: queue pairs "
		"(owner, qid, depth, where the rings live and their addresses, "
		"state, reset generation, SQ head and CQ tail, importers, dma-bufs and "
		"their importers) and data regions (owner, memory, size, bus address, "
		"state, importers, dma-bufs and their importers).";
	struct nvme_p2p_list_entry *entries = NULL;
	enum nvme_print_flags flags;
	unsigned int nr = 0, i;
	struct p2p_ctrl c;
	int err;

	struct config {
		char *output_format;
		bool human_readable;
	} cfg = {
		.output_format = "normal",
	};

	OPT_ARGS(opts) = {
		OPT_FMT("output-format", 'o', &cfg.output_format, p2p_output_format_help),
		OPT_FLAG("human-readable", 'H', &cfg.human_readable, p2p_human_readable_help),
		OPT_END()
	};

	err = p2p_open(&c, argc, argv, desc, opts);
	if (err)
		return err;
	err = p2p_output_flags(cfg.output_format, cfg.human_readable, &flags);
	if (!err)
		err = p2p_get_list(&c, &entries, &nr);
	if (!err) {
		qsort(entries, nr, sizeof(*entries), entry_cmp);
		for (i = 0; i < nr && entry_rank(entries[i].type) < 2; i++)
			;
		if (i < nr)
			fprintf(stderr, "%s: %u exports of a type this nvme-cli does not know, not shown\n",
				c.name, nr - i);
		nr = i;
		if (flags & JSON)
			list_print_json(&c, entries, nr, flags & VERBOSE);
		else
			list_print_normal(&c, entries, nr, flags & VERBOSE);
	}
	free(entries);
	p2p_close(&c);
	return err;
}

static void queue_print_normal(const struct p2p_ctrl *c,
			       const struct nvme_p2p_list_entry *e,
			       const struct nvme_p2p_info *info, bool human)
{
	char comm[P2P_NAME_LEN], names[128];

	printf("Exported queue %u of %s (%s)\n", e->qid, c->name, c->pci);
	printf("%-18s: %s\n", "state", p2p_queue_state_name(e->state));
	printf("%-18s: %u\n", "generation", e->generation);
	printf("%-18s: %d (%s)\n", "pid", e->pid, p2p_pid_comm(comm, sizeof(comm), e->pid));
	printf("%-18s: %u\n", "depth", e->depth);
	printf("%-18s: %s\n", "sq_placement", p2p_sq_placement_name(e->sq_placement));
	printf("%-18s: %#" PRIx64 "\n", "sq_addr", (uint64_t)e->addr);
	printf("%-18s: %" PRIu64 "\n", "sq_bytes", (uint64_t)e->size);
	printf("%-18s: %s\n", "cq_placement", p2p_cq_placement_name(e->cq_placement));
	printf("%-18s: %#" PRIx64 "\n", "cq_addr", (uint64_t)e->cq_addr);
	printf("%-18s: %u\n", "sq_head", e->sq_head);
	if (human)
		printf("\tthe newest completion says the controller fetched every SQ entry before slot %u\n",
		       e->sq_head);
	printf("%-18s: %u\n", "cq_tail", e->cq_tail);
	if (human)
		printf("\tthe controller posts its next completion in CQ slot %u\n",
		       e->cq_tail);
	printf("%-18s: BAR0 + %#" PRIx64 "\n", "sq_doorbell", sq_doorbell(info, e->qid));
	printf("%-18s: BAR0 + %#" PRIx64 "\n", "cq_doorbell", cq_doorbell(info, e->qid));
	printf("%-18s: %u\n", "importers", e->importers);
	printf("%-18s: %u (%u importers attached)\n", "dmabufs", e->dmabufs,
	       e->dmabuf_attachments);
	printf("%-18s: %#x\n", "flags", e->flags);
	if (human)
		printf("\t%s\n", p2p_bit_names(names, sizeof(names), e->flags,
					       p2p_queue_flags,
					       ARRAY_SIZE(p2p_queue_flags)));
}

int p2p_cmd_queue(int argc, char **argv)
{
	const char *desc = "Show one exported queue pair as the kernel sees it: state, "
		"generation, owner, where its rings are, the SQ head the "
		"controller reported in its newest completion, the CQ slot it "
		"writes next, and where its doorbells are. For a peer that seems "
		"stuck: an SQ head that does not move while the peer rings the "
		"doorbell means the controller sees no new tail.";
	const char *qid_help = "Queue ID of the exported queue (required)";
	struct nvme_p2p_list_entry *entries = NULL, *e = NULL;
	enum nvme_print_flags flags;
	struct nvme_p2p_info info;
	unsigned int nr = 0, i;
	struct p2p_ctrl c;
	int err;

	struct config {
		__u32 qid;
		char *output_format;
		bool human_readable;
	} cfg = {
		.output_format = "normal",
	};

	OPT_ARGS(opts) = {
		OPT_UINT("qid", 'q', &cfg.qid, qid_help),
		OPT_FMT("output-format", 'o', &cfg.output_format, p2p_output_format_help),
		OPT_FLAG("human-readable", 'H', &cfg.human_readable, p2p_human_readable_help),
		OPT_END()
	};

	err = p2p_open(&c, argc, argv, desc, opts);
	if (err)
		return err;
	err = p2p_output_flags(cfg.output_format, cfg.human_readable, &flags);
	if (err)
		goto out;
	if (!cfg.qid || cfg.qid > UINT16_MAX) {
		fprintf(stderr, "--qid: give the queue ID of an exported I/O queue (1 to 65535; see 'nvme p2p list')\n");
		err = -EINVAL;
		goto out;
	}
	err = p2p_get_info(&c, &info);
	if (!err)
		err = p2p_get_list(&c, &entries, &nr);
	if (err)
		goto out;
	for (i = 0; i < nr && !e; i++)
		if (entries[i].type == NVME_P2P_ENTRY_QUEUE && entries[i].qid == cfg.qid)
			e = &entries[i];
	if (!e) {
		fprintf(stderr, "%s: no exported queue with qid %u (see 'nvme p2p list')\n",
			c.name, cfg.qid);
		err = -ENOENT;
		goto out;
	}
	if (flags & JSON) {
		struct json_object *o = queue_entry_json(e, &info, flags & VERBOSE);

		json_object_object_add(o, "device", json_object_new_string(c.name));
		p2p_json_print(o);
	} else {
		queue_print_normal(&c, e, &info, flags & VERBOSE);
	}
out:
	free(entries);
	p2p_close(&c);
	return err;
}
