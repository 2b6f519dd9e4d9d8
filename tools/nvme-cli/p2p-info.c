// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p info and nvme p2p peers: what the controller offers for export
 * (CMBSZ and CMBLOC decoded with libnvme's field macros) and which PCI
 * devices can reach its CMB.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "p2p-common.h"

static const struct p2p_bit p2p_cmb_caps[] = {
	{ NVME_P2P_INFO_CMB_SQS, "sqs", "submission queues may live in the CMB" },
	{ NVME_P2P_INFO_CMB_CQS, "cqs", "completion queues may live in the CMB" },
	{ NVME_P2P_INFO_CMB_LISTS, "lists", "PRP and SGL lists may live in the CMB" },
	{ NVME_P2P_INFO_CMB_RDS, "rds", "data of commands that read may go to the CMB" },
	{ NVME_P2P_INFO_CMB_WDS, "wds", "data of commands that write may come from the CMB" },
};

/* The one-bit fields of CMBLOC, where libnvme puts them. */
#define CMBLOC_BIT(field)	(NVME_CMBLOC_##field##_MASK << NVME_CMBLOC_##field##_SHIFT)
static const struct p2p_bit p2p_cmbloc_bits[] = {
	{ CMBLOC_BIT(CQMMS), "cqmms", "CMB queue mixed memory support" },
	{ CMBLOC_BIT(CQPDS), "cqpds", "CMB queue physically discontiguous support" },
	{ CMBLOC_BIT(CDPLMS), "cdpmls", "CMB data pointer mixed locations support" },
	{ CMBLOC_BIT(CDPCILS), "cdpcils", "CMB data pointer and command independent locations support" },
	{ CMBLOC_BIT(CDMMMS), "cdmmms", "CMB data metadata mixed memory support" },
	{ CMBLOC_BIT(CQDA), "cqda", "CMB queue dword alignment" },
};

/* CMBSZ.SZU as bytes; 0 for a reserved encoding. */
static uint64_t cmb_size_unit(__u32 cmbsz)
{
	unsigned int szu = NVME_CMBSZ_SZU(cmbsz);

	return szu <= NVME_CMBSZ_SZU_64G ? 1ULL << (12 + 4 * szu) : 0;
}

static uint64_t cmb_offset(__u32 cmbsz, __u32 cmbloc)
{
	return (uint64_t)NVME_CMBLOC_OFST(cmbloc) * cmb_size_unit(cmbsz);
}

static void info_print_normal(const struct p2p_ctrl *c,
			      const struct nvme_p2p_info *info, bool human)
{
	char buf[128];

	printf("nvme-p2p export of %s (%s)\n", c->name, c->pci);
	if (info->flags & NVME_P2P_INFO_CMB)
		printf("%-18s: %s in BAR %u at offset 0x%" PRIx64 ", registered as p2pmem\n",
		       "cmb", p2p_size_str(buf, sizeof(buf), info->cmb_size),
		       NVME_CMBLOC_BIR(info->cmbloc), cmb_offset(info->cmbsz, info->cmbloc));
	else if (info->cmbsz)
		printf("%-18s: present but not registered as p2pmem (kernel without PCI_P2PDMA?)\n",
		       "cmb");
	else
		printf("%-18s: none\n", "cmb");
	printf("%-18s: %" PRIu64 "\n", "cmb_size", (uint64_t)info->cmb_size);
	printf("%-18s: %" PRIu64 "\n", "cmb_free", (uint64_t)info->cmb_free);
	printf("%-18s: %" PRIu64 "\n", "cmb_used",
	       (uint64_t)(info->cmb_size - info->cmb_free));
	printf("%-18s: %" PRIu64 "\n", "kernel_cmb_bytes",
	       (uint64_t)info->kernel_cmb_bytes);
	printf("%-18s: %s\n", "kernel_sqs_in_cmb",
	       info->flags & NVME_P2P_INFO_KERNEL_SQS_IN_CMB ? "yes" : "no");
	printf("%-18s: %s\n", "capabilities",
	       p2p_bit_names(buf, sizeof(buf), info->flags, p2p_cmb_caps,
			     ARRAY_SIZE(p2p_cmb_caps)));
	printf("%-18s: %#010x\n", "cmbsz", info->cmbsz);
	if (human) {
		printf("\t%-8s %u units of %s\n", "sz", NVME_CMBSZ_SZ(info->cmbsz),
		       p2p_size_str(buf, sizeof(buf), cmb_size_unit(info->cmbsz)));
		p2p_print_bits(info->flags, p2p_cmb_caps, ARRAY_SIZE(p2p_cmb_caps));
	}
	printf("%-18s: %#010x\n", "cmbloc", info->cmbloc);
	if (human) {
		printf("\t%-8s BAR %u\n", "bir", NVME_CMBLOC_BIR(info->cmbloc));
		printf("\t%-8s %u units: 0x%" PRIx64 " bytes into the BAR\n", "ofst",
		       NVME_CMBLOC_OFST(info->cmbloc), cmb_offset(info->cmbsz, info->cmbloc));
		p2p_print_bits(info->cmbloc, p2p_cmbloc_bits, ARRAY_SIZE(p2p_cmbloc_bits));
	}
	printf("%-18s: %u\n", "db_stride", info->db_stride);
	printf("%-18s: %u\n", "regions", info->regions);
	printf("%-18s: %u\n", "queues_reserved", info->queues_reserved);
	printf("%-18s: %u\n", "queues_used", info->queues_used);
	if (info->queues_reserved)
		printf("%-18s: %u (qids %u-%u)\n", "first_qid", info->first_qid,
		       info->first_qid, info->first_qid + info->queues_reserved - 1);
	else
		printf("%-18s: %u (no queue IDs reserved: load nvme with p2p_queues=N)\n",
		       "first_qid", info->first_qid);
	if (info->queues_reserved)
		printf("%-18s: %s\n", "doorbells_apart",
		       info->flags & NVME_P2P_INFO_DB_ISOLATED ?
		       "yes (a peer given an exported queue's doorbells rings no kernel queue)" :
		       "no (too few queues granted: an exported queue's doorbell page holds the kernel's queues' doorbells too)");
	printf("%-18s: %u\n", "max_queue_depth", info->max_queue_depth);
	printf("%-18s: %u\n", "max_transfer", info->max_transfer);
}

static void info_print_json(const struct p2p_ctrl *c,
			    const struct nvme_p2p_info *info, bool human)
{
	struct json_object *o = json_create_object();
	struct json_object *caps = json_create_object();
	size_t i;

	p2p_json_str(o, "device", c->name);
	p2p_json_str(o, "pci_address", c->pci);
	p2p_json_u64(o, "flags", info->flags);
	p2p_json_bool(o, "cmb_registered", info->flags & NVME_P2P_INFO_CMB);
	p2p_json_u64(o, "cmb_size", info->cmb_size);
	p2p_json_u64(o, "cmb_free", info->cmb_free);
	p2p_json_u64(o, "cmb_used", info->cmb_size - info->cmb_free);
	p2p_json_u64(o, "kernel_cmb_bytes", info->kernel_cmb_bytes);
	p2p_json_bool(o, "kernel_sqs_in_cmb",
		      info->flags & NVME_P2P_INFO_KERNEL_SQS_IN_CMB);
	for (i = 0; i < ARRAY_SIZE(p2p_cmb_caps); i++)
		p2p_json_bool(caps, p2p_cmb_caps[i].name,
			      info->flags & p2p_cmb_caps[i].mask);
	json_object_add_value_object(o, "capabilities", caps);
	p2p_json_u64(o, "cmbsz", info->cmbsz);
	p2p_json_u64(o, "cmbloc", info->cmbloc);
	p2p_json_u64(o, "cmb_bar", NVME_CMBLOC_BIR(info->cmbloc));
	p2p_json_u64(o, "cmb_bar_offset", cmb_offset(info->cmbsz, info->cmbloc));
	p2p_json_bool(o, "doorbells_apart", info->flags & NVME_P2P_INFO_DB_ISOLATED);
	if (human) {
		struct json_object *sz = json_create_object();
		struct json_object *loc = json_create_object();

		p2p_json_u64(sz, "sz", NVME_CMBSZ_SZ(info->cmbsz));
		p2p_json_u64(sz, "szu", NVME_CMBSZ_SZU(info->cmbsz));
		p2p_json_u64(sz, "size_unit_bytes", cmb_size_unit(info->cmbsz));
		json_object_add_value_object(o, "cmbsz_fields", sz);
		p2p_json_u64(loc, "bir", NVME_CMBLOC_BIR(info->cmbloc));
		p2p_json_u64(loc, "ofst", NVME_CMBLOC_OFST(info->cmbloc));
		for (i = 0; i < ARRAY_SIZE(p2p_cmbloc_bits); i++)
			p2p_json_bool(loc, p2p_cmbloc_bits[i].name,
				      info->cmbloc & p2p_cmbloc_bits[i].mask);
		json_object_add_value_object(o, "cmbloc_fields", loc);
	}
	p2p_json_u64(o, "db_stride", info->db_stride);
	p2p_json_u64(o, "regions", info->regions);
	p2p_json_u64(o, "queues_reserved", info->queues_reserved);
	p2p_json_u64(o, "queues_used", info->queues_used);
	p2p_json_u64(o, "first_qid", info->first_qid);
	p2p_json_u64(o, "max_queue_depth", info->max_queue_depth);
	p2p_json_u64(o, "max_transfer", info->max_transfer);
	p2p_json_print(o);
}

int p2p_cmd_info(int argc, char **argv)
{
	const char *desc = "Show what a PCIe NVMe controller offers for peer-to-peer "
		"export: its controller memory buffer (where it is, how big, what "
		"it may hold, how much is free and how much the kernel's own "
		"submission queues use), the data regions created on it and the "
		"I/O queue IDs reserved for export with how many are in use.";
	struct nvme_p2p_info info;
	enum nvme_print_flags flags;
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
		err = p2p_get_info(&c, &info);
	if (!err) {
		if (flags & JSON)
			info_print_json(&c, &info, flags & VERBOSE);
		else
			info_print_normal(&c, &info, flags & VERBOSE);
	}
	p2p_close(&c);
	return err;
}

static const char *reach_name(__u8 reach)
{
	switch (reach) {
	case NVME_P2P_PEER_UNREACHABLE:
		return "unreachable";
	case NVME_P2P_PEER_VIA_SWITCH:
		return "switch";
	case NVME_P2P_PEER_VIA_HOST_BRIDGE:
		return "host-bridge";
	}
	return "unknown";
}

/* "dddd:bb:dd.f" (or "bb:dd.f" in domain 0) into the ioctl's fields. */
static bool parse_bdf(const char *s, struct nvme_p2p_peer *peer)
{
	unsigned int domain = 0, bus, dev, fn;
	int end = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &domain, &bus, &dev, &fn, &end) != 4 ||
	    s[end]) {
		domain = 0;
		end = 0;
		if (sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &end) != 3 || s[end])
			return false;
	}
	if (bus > 0xff || dev > 0x1f || fn > 7)
		return false;
	peer->domain = domain;
	peer->bus = bus;
	peer->devfn = dev << 3 | fn;
	return true;
}

struct p2p_peer_row {
	char addr[P2P_NAME_LEN];
	char vendor[16], device[16], class[16], driver[P2P_NAME_LEN];
	struct nvme_p2p_peer peer;
};

/* Ask the kernel about one PCI device; 1 if it vanished meanwhile. */
static int peer_query(struct p2p_ctrl *c, const char *addr,
		      struct p2p_peer_row *row)
{
	char dir[PATH_MAX];
	int err;

	memset(row, 0, sizeof(*row));
	snprintf(row->addr, sizeof(row->addr), "%s", addr);
	if (!parse_bdf(addr, &row->peer))
		return 1;
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", addr);
	if (!p2p_read_attr(dir, "vendor", row->vendor, sizeof(row->vendor)))
		return 1;
	p2p_read_attr(dir, "device", row->device, sizeof(row->device));
	p2p_read_attr(dir, "class", row->class, sizeof(row->class));
	if (!p2p_link_name(dir, "driver", row->driver, sizeof(row->driver)))
		snprintf(row->driver, sizeof(row->driver), "-");

	row->peer.argsz = sizeof(row->peer);
	if (!ioctl(c->fd, NVME_P2P_IOCTL_PEER, &row->peer))
		return 0;
	err = errno;
	if (err == ENODEV && access(dir, F_OK))
		return 1;	/* hot-unplugged between readdir and ioctl */
	return p2p_ioctl_failed(c, NVME_P2P_IOCTL_PEER, err);
}

/* Strip sysfs's "0x" so that columns line up like lspci's. */
static const char *hex_digits(const char *s)
{
	return strncmp(s, "0x", 2) ? s : s + 2;
}

static void peer_print_row(const struct p2p_ctrl *c, const struct p2p_peer_row *r)
{
	printf("%-13s %4s:%-4s  %-6s  %-16s %-12s %8d%s\n", r->addr,
	       hex_digits(r->vendor), hex_digits(r->device), hex_digits(r->class),
	       r->driver, reach_name(r->peer.reach), r->peer.distance,
	       strcmp(r->addr, c->pci) ? "" : "  (this controller)");
}

static struct json_object *peer_json(const struct p2p_ctrl *c,
				     const struct p2p_peer_row *r)
{
	struct json_object *o = json_create_object();

	p2p_json_str(o, "pci_address", r->addr);
	p2p_json_str(o, "vendor", r->vendor);
	p2p_json_str(o, "device", r->device);
	p2p_json_str(o, "class", r->class);
	p2p_json_str(o, "driver", r->driver);
	p2p_json_str(o, "reach", reach_name(r->peer.reach));
	p2p_json_bool(o, "reachable", r->peer.reach != NVME_P2P_PEER_UNREACHABLE);
	p2p_json_s64(o, "distance", r->peer.distance);
	p2p_json_bool(o, "self", !strcmp(r->addr, c->pci));
	return o;
}

static int pci_dirent_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* The PCI devices to ask about: the one --peer names, or all of them. */
static int peer_addresses(const char *peer, char (**addrs)[P2P_NAME_LEN])
{
	struct nvme_p2p_peer probe;
	struct dirent **names;
	int i, n;

	if (peer) {
		if (!parse_bdf(peer, &probe)) {
			fprintf(stderr, "--peer '%s': not a PCI address ([dddd:]bb:dd.f)\n",
				peer);
			return -EINVAL;
		}
		*addrs = calloc(1, sizeof(**addrs));
		if (!*addrs)
			return -ENOMEM;
		snprintf((*addrs)[0], sizeof((*addrs)[0]), "%04x:%02x:%02x.%x",
			 probe.domain, probe.bus, probe.devfn >> 3, probe.devfn & 7);
		return 1;
	}

	n = scandir("/sys/bus/pci/devices", &names, pci_dirent_filter, alphasort);
	if (n < 0) {
		fprintf(stderr, "/sys/bus/pci/devices: %s\n", strerror(errno));
		return -errno;
	}
	*addrs = calloc(n ? n : 1, sizeof(**addrs));
	for (i = 0; i < n; i++) {
		if (*addrs)
			snprintf((*addrs)[i], sizeof((*addrs)[i]), "%s", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	return *addrs ? n : -ENOMEM;
}

int p2p_cmd_peers(int argc, char **argv)
{
	const char *desc = "For every PCI device (or the one --peer names), show whether "
		"it can reach the controller's CMB by peer-to-peer DMA and how: "
		"through a PCIe switch (PCI bus addresses), through the host "
		"bridge, or not at all; with the p2pdma distance the kernel "
		"computed. This is the decision a p2p_map of a region for that "
		"device would take.";
	const char *peer_help = "Only this PCI device ([dddd:]bb:dd.f)";
	struct json_object *root = NULL, *array = NULL;
	char (*addrs)[P2P_NAME_LEN] = NULL;
	enum nvme_print_flags flags;
	struct nvme_p2p_info info;
	struct p2p_peer_row row;
	struct p2p_ctrl c;
	int i, n, err;

	struct config {
		char *output_format;
		char *peer;
	} cfg = {
		.output_format = "normal",
	};

	OPT_ARGS(opts) = {
		OPT_FMT("output-format", 'o', &cfg.output_format, p2p_output_format_help),
		OPT_STR("peer", 'p', &cfg.peer, peer_help),
		OPT_END()
	};

	err = p2p_open(&c, argc, argv, desc, opts);
	if (err)
		return err;
	err = p2p_output_flags(cfg.output_format, false, &flags);
	if (err)
		goto out;
	err = p2p_get_info(&c, &info);
	if (err)
		goto out;
	if (!(info.flags & NVME_P2P_INFO_CMB)) {
		fprintf(stderr, "%s: no CMB registered as p2pmem: there is nothing for peers to reach\n",
			c.name);
		err = -ENODEV;
		goto out;
	}
	n = peer_addresses(cfg.peer, &addrs);
	if (n < 0) {
		err = n;
		goto out;
	}

	if (flags & JSON) {
		root = json_create_object();
		array = json_create_array();
		p2p_json_str(root, "device", c.name);
		p2p_json_str(root, "pci_address", c.pci);
		json_object_add_value_array(root, "peers", array);
	} else {
		printf("PCI devices and the CMB of %s (%s)\n", c.name, c.pci);
		printf("%-13s %-9s  %-6s  %-16s %-12s %8s\n", "Device", "ID",
		       "Class", "Driver", "Reach", "Distance");
	}
	for (i = 0; i < n; i++) {
		err = peer_query(&c, addrs[i], &row);
		if (err < 0)
			break;
		if (err == 1 && cfg.peer) {
			fprintf(stderr, "--peer %s: no such PCI device\n", addrs[i]);
			err = -ENODEV;
			break;
		}
		if (err == 1)	/* gone meanwhile: nothing to say about it */
			err = 0;
		else if (root)
			json_array_add_value_object(array, peer_json(&c, &row));
		else
			peer_print_row(&c, &row);
	}
	if (root && !err)
		p2p_json_print(root);
	else if (root)
		json_free_object(root);
out:
	free(addrs);
	p2p_close(&c);
	return err;
}
