// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p: the nvme-p2p exporter as nvme-cli shows it.
 *
 * Every subcommand works on a PCIe controller's character device
 * (/dev/nvmeN) with the raw ioctls of <linux/nvme_p2p.h>: what the
 * controller offers (info), which PCI devices can reach its CMB (peers),
 * what is exported right now (list, queue) and, for testing, a region or a
 * queue pair that lives as long as the command does (create-region,
 * create-queue with --hold).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/nvme_p2p.h>

#include "common.h"
#include "nvme.h"
#include "libnvme.h"

#define CREATE_CMD
#include "p2p-nvme.h"

#define P2P_NAME_LEN		(NAME_MAX + 1)
/* Doorbells start at this offset of BAR0 (NVMe base specification 3.1.4). */
#define P2P_DOORBELL_BASE	0x1000

static const char *output_format_help = "Output format: normal|json";
static const char *human_readable_help = "Decode register fields and flags";

/* A controller opened for the nvme-p2p ioctls. */
struct p2p_ctrl {
	struct nvme_dev *dev;
	int fd;
	const char *path;		/* as given on the command line */
	char name[P2P_NAME_LEN];	/* nvmeN */
	char pci[P2P_NAME_LEN];		/* its PCI address */
};

/* One bit of a register or flags word, with what it means. */
struct p2p_bit {
	__u32 mask;
	const char *name;
	const char *desc;
};

static const struct p2p_bit p2p_cmb_caps[] = {
	{ NVME_P2P_INFO_CMB_SQS, "sqs", "submission queues may live in the CMB" },
	{ NVME_P2P_INFO_CMB_CQS, "cqs", "completion queues may live in the CMB" },
	{ NVME_P2P_INFO_CMB_LISTS, "lists", "PRP and SGL lists may live in the CMB" },
	{ NVME_P2P_INFO_CMB_RDS, "rds", "data of commands that read may go to the CMB" },
	{ NVME_P2P_INFO_CMB_WDS, "wds", "data of commands that write may come from the CMB" },
};

/* CMBLOC bits 8:3 (NVMe base specification 3.1.4.12). */
static const struct p2p_bit p2p_cmbloc_bits[] = {
	{ 1U << 3, "cqmms", "CMB queue mixed memory support" },
	{ 1U << 4, "cqpds", "CMB queue physically discontiguous support" },
	{ 1U << 5, "cdpmls", "CMB data pointer mixed locations support" },
	{ 1U << 6, "cdpcils", "CMB data pointer and command independent locations support" },
	{ 1U << 7, "cdmmms", "CMB data metadata mixed memory support" },
	{ 1U << 8, "cqda", "CMB queue dword alignment" },
};

static const struct p2p_bit p2p_region_flags[] = {
	{ NVME_P2P_REGION_NO_CPU_MAP, "no-cpu-map", "peers only, no CPU mapping" },
	{ NVME_P2P_REGION_HOST, "host", "host memory, not the CMB" },
};

static const struct p2p_bit p2p_queue_flags[] = {
	{ NVME_P2P_QUEUE_SQ_NO_CPU_MAP, "sq-no-cpu-map", "SQ ring has no CPU mapping" },
	{ NVME_P2P_QUEUE_CQ_NO_CPU_MAP, "cq-no-cpu-map", "CQ ring has no CPU mapping" },
	{ NVME_P2P_QUEUE_DB_NO_CPU_MAP, "db-no-cpu-map", "doorbell page has no CPU mapping" },
};

static void json_add_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

static void json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

static void json_add_s64(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static void json_add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

/* The names of the set bits of @value, as a JSON array. */
static struct json_object *json_bit_names(__u32 value, const struct p2p_bit *bits,
					  size_t nr)
{
	struct json_object *a = json_create_array();
	size_t i;

	for (i = 0; i < nr; i++)
		if (value & bits[i].mask)
			json_array_add_value_string(a, bits[i].name);
	return a;
}

static void json_print(struct json_object *o)
{
	json_print_object(o, NULL);
	printf("\n");
	json_free_object(o);
}

/* "name name ..." of the set bits of @value, "-" if none. */
static const char *bit_names(char *buf, size_t size, __u32 value,
			     const struct p2p_bit *bits, size_t nr)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < nr && len < size; i++)
		if (value & bits[i].mask)
			len += snprintf(buf + len, size - len, "%s%s",
					len ? " " : "", bits[i].name);
	return buf[0] ? buf : "-";
}

static void print_bits(__u32 value, const struct p2p_bit *bits, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		printf("\t%-8s %s: %s\n", bits[i].name,
		       value & bits[i].mask ? "yes" : "no ", bits[i].desc);
}

/* "64 MiB" when @bytes is a whole number of KiB/MiB/GiB, else "N bytes". */
static const char *size_str(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	uint64_t v = bytes;

	while (v && !(v & 1023) && u + 1 < ARRAY_SIZE(units)) {
		v >>= 10;
		u++;
	}
	snprintf(buf, size, "%" PRIu64 " %s", v, units[u]);
	return buf;
}

/* Read a sysfs attribute into @buf, without the trailing newline. */
static bool read_attr(const char *dir, const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return true;
}

/* The last component of what @dir/@link (or @dir itself if !@link) resolves to. */
static bool link_name(const char *dir, const char *link, char *buf, size_t size)
{
	char path[PATH_MAX], *real, *base;

	snprintf(path, sizeof(path), "%s%s%s", dir, link ? "/" : "", link ? link : "");
	real = realpath(path, NULL);
	if (!real)
		return false;
	base = strrchr(real, '/');
	snprintf(buf, size, "%s", base ? base + 1 : real);
	free(real);
	return true;
}

/* The command of process @pid, "?" if it is gone or hidden. */
static const char *pid_comm(char *buf, size_t size, int pid)
{
	char dir[32];

	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (pid <= 0 || !read_attr(dir, "comm", buf, size))
		snprintf(buf, size, "?");
	return buf;
}

static const char *ioctl_name(unsigned long req)
{
	switch (req) {
	case NVME_P2P_IOCTL_INFO:
		return "NVME_P2P_IOCTL_INFO";
	case NVME_P2P_IOCTL_REGION_CREATE:
		return "NVME_P2P_IOCTL_REGION_CREATE";
	case NVME_P2P_IOCTL_QUEUE_CREATE:
		return "NVME_P2P_IOCTL_QUEUE_CREATE";
	case NVME_P2P_IOCTL_PEER:
		return "NVME_P2P_IOCTL_PEER";
	case NVME_P2P_IOCTL_LIST:
		return "NVME_P2P_IOCTL_LIST";
	case NVME_P2P_IOCTL_QUEUE_INFO:
		return "NVME_P2P_IOCTL_QUEUE_INFO";
	}
	return "ioctl";
}

/* What an errno of an nvme-p2p ioctl means (see uapi/linux/nvme_p2p.h). */
static const char *ioctl_hint(unsigned long req, int err)
{
	if (err == ENOTTY)
		return "the running kernel does not implement this nvme-p2p ioctl (CONFIG_NVME_P2P_EXPORT)";
	switch (req) {
	case NVME_P2P_IOCTL_REGION_CREATE:
		switch (err) {
		case ENODEV:
			return "no CMB registered as p2pmem, or the controller is going away";
		case ENOSPC:
			return "not enough contiguous free CMB";
		case EINVAL:
			return "the size must be a non-zero multiple of 4096";
		case E2BIG:
			return "host regions are limited to NVME_P2P_HOST_REGION_MAX";
		}
		break;
	case NVME_P2P_IOCTL_QUEUE_CREATE:
		switch (err) {
		case EPERM:
			return "exporting a queue needs CAP_SYS_ADMIN";
		case EINVAL:
			return "depth out of range (2 to max_queue_depth of 'nvme p2p info')";
		case EOPNOTSUPP:
			return "no queue IDs reserved for export (nvme.p2p_queues), or a CMB CQ without CMBSZ.CQS";
		case EBUSY:
			return "every queue ID reserved for export is in use";
		case ENOSPC:
			return "the placement needs CMB space or CMBSZ.SQS the controller lacks";
		case ENODEV:
			return "the controller is not live or is going away";
		case EIO:
			return "the controller refused to create the queue";
		}
		break;
	case NVME_P2P_IOCTL_PEER:
		switch (err) {
		case ENODEV:
			return "no such PCI device, or no CMB";
		case ENOSPC:
			return "no free CMB page to try a mapping with";
		}
		break;
	}
	return NULL;
}

/*
 * Say which ioctl failed with @err and what that means; return the negative
 * errno to exit with. Never -ENOTTY: nvme-cli's main() takes that for an
 * unknown command and prints the general help.
 */
static int p2p_ioctl_failed(const struct p2p_ctrl *c, unsigned long req, int err)
{
	const char *hint = ioctl_hint(req, err);

	fprintf(stderr, "%s: %s: %s%s%s%s\n", c->name, ioctl_name(req),
		strerror(err), hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	return err == ENOTTY ? -EOPNOTSUPP : -err;
}

/* Issue one nvme-p2p ioctl; its result, or p2p_ioctl_failed()'s. */
static int p2p_ioctl(struct p2p_ctrl *c, unsigned long req, void *arg)
{
	int ret = ioctl(c->fd, req, arg);

	return ret >= 0 ? ret : p2p_ioctl_failed(c, req, errno);
}

/* Say what a block device is and which controller to use instead. */
static void explain_block_device(const char *path, const struct stat *st)
{
	char dir[64], ctrl[P2P_NAME_LEN];

	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(st->st_rdev),
		 minor(st->st_rdev));
	if (link_name(dir, "device", ctrl, sizeof(ctrl)) &&
	    !strncmp(ctrl, "nvme", 4) && strncmp(ctrl, "nvme-subsys", 11))
		fprintf(stderr,
			"%s is a namespace block device: nvme p2p works on its controller, /dev/%s\n",
			path, ctrl);
	else
		fprintf(stderr,
			"%s is a block device: nvme p2p works on a controller character device (/dev/nvmeN, see 'nvme list')\n",
			path);
}

/*
 * Parse the options, open the device and make sure it is what the ioctls
 * want: the character device of a PCIe NVMe controller.
 */
static int p2p_open(struct p2p_ctrl *c, int argc, char **argv, const char *desc,
		    const struct argconfig_commandline_options *opts)
{
	char dir[64], class[P2P_NAME_LEN] = "", transport[32];
	const struct stat *st;
	int err;

	memset(c, 0, sizeof(*c));
	err = parse_and_open(&c->dev, argc, argv, desc, opts);
	if (err)
		return err < 0 ? err : -EINVAL;
	c->path = argv[optind];
	if (c->dev->type != NVME_DEV_DIRECT) {
		fprintf(stderr, "%s: nvme p2p works on a local PCIe controller, not over NVMe-MI\n",
			c->path);
		err = -EINVAL;
		goto out_close;
	}
	c->fd = dev_fd(c->dev);
	st = &c->dev->direct.stat;
	if (S_ISBLK(st->st_mode)) {
		explain_block_device(c->path, st);
		err = -ENODEV;
		goto out_close;
	}

	snprintf(dir, sizeof(dir), "/sys/dev/char/%u:%u", major(st->st_rdev),
		 minor(st->st_rdev));
	if (!link_name(dir, "subsystem", class, sizeof(class)) ||
	    strcmp(class, "nvme") || !link_name(dir, NULL, c->name, sizeof(c->name))) {
		fprintf(stderr,
			"%s is not an NVMe controller (character device %u:%u is of class '%s'): give /dev/nvmeN\n",
			c->path, major(st->st_rdev), minor(st->st_rdev),
			class[0] ? class : "unknown");
		err = -ENODEV;
		goto out_close;
	}
	if (read_attr(dir, "transport", transport, sizeof(transport)) &&
	    strcmp(transport, "pcie")) {
		fprintf(stderr, "%s: %s is an NVMe over %s controller: only PCIe controllers export p2p memory\n",
			c->path, c->name, transport);
		err = -EOPNOTSUPP;
		goto out_close;
	}
	if (!link_name(dir, "device", c->pci, sizeof(c->pci)))
		snprintf(c->pci, sizeof(c->pci), "?");
	return 0;

out_close:
	dev_close(c->dev);
	c->dev = NULL;
	return err;
}

static void p2p_close(struct p2p_ctrl *c)
{
	if (c->dev)
		dev_close(c->dev);
}

/* -o and -H into nvme-cli's print flags; there is no binary output. */
static int p2p_output_flags(const char *format, bool human,
			    enum nvme_print_flags *flags)
{
	int f = validate_output_format(format);

	if (f < 0 || f == BINARY) {
		fprintf(stderr, "invalid output format '%s': normal or json\n",
			format ? format : "");
		return -EINVAL;
	}
	*flags = f;
	if (human)
		*flags |= VERBOSE;
	return 0;
}

static int p2p_get_info(struct p2p_ctrl *c, struct nvme_p2p_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return p2p_ioctl(c, NVME_P2P_IOCTL_INFO, info);
}

/* CMBSZ.SZU as bytes; 0 for a reserved encoding. */
static uint64_t cmb_size_unit(__u32 cmbsz)
{
	unsigned int szu = (cmbsz >> 8) & 0xf;

	return szu <= 6 ? 4096ULL << (4 * szu) : 0;
}

static uint64_t cmb_offset(__u32 cmbsz, __u32 cmbloc)
{
	return (uint64_t)(cmbloc >> 12) * cmb_size_unit(cmbsz);
}

static void info_print_normal(const struct p2p_ctrl *c,
			      const struct nvme_p2p_info *info, bool human)
{
	char buf[128];

	printf("nvme-p2p export of %s (%s)\n", c->name, c->pci);
	if (info->flags & NVME_P2P_INFO_CMB)
		printf("%-18s: %s in BAR %u at offset 0x%" PRIx64 ", registered as p2pmem\n",
		       "cmb", size_str(buf, sizeof(buf), info->cmb_size),
		       info->cmbloc & 7, cmb_offset(info->cmbsz, info->cmbloc));
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
	       bit_names(buf, sizeof(buf), info->flags, p2p_cmb_caps,
			 ARRAY_SIZE(p2p_cmb_caps)));
	printf("%-18s: %#010x\n", "cmbsz", info->cmbsz);
	if (human) {
		printf("\t%-8s %u units of %s\n", "sz", info->cmbsz >> 12,
		       size_str(buf, sizeof(buf), cmb_size_unit(info->cmbsz)));
		print_bits(info->flags, p2p_cmb_caps, ARRAY_SIZE(p2p_cmb_caps));
	}
	printf("%-18s: %#010x\n", "cmbloc", info->cmbloc);
	if (human) {
		printf("\t%-8s BAR %u\n", "bir", info->cmbloc & 7);
		printf("\t%-8s %u units: 0x%" PRIx64 " bytes into the BAR\n", "ofst",
		       info->cmbloc >> 12, cmb_offset(info->cmbsz, info->cmbloc));
		print_bits(info->cmbloc, p2p_cmbloc_bits, ARRAY_SIZE(p2p_cmbloc_bits));
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
	printf("%-18s: %u\n", "max_queue_depth", info->max_queue_depth);
	printf("%-18s: %u\n", "max_transfer", info->max_transfer);
}

static void info_print_json(const struct p2p_ctrl *c,
			    const struct nvme_p2p_info *info, bool human)
{
	struct json_object *o = json_create_object();
	struct json_object *caps = json_create_object();
	size_t i;

	json_add_str(o, "device", c->name);
	json_add_str(o, "pci_address", c->pci);
	json_add_u64(o, "flags", info->flags);
	json_add_bool(o, "cmb_registered", info->flags & NVME_P2P_INFO_CMB);
	json_add_u64(o, "cmb_size", info->cmb_size);
	json_add_u64(o, "cmb_free", info->cmb_free);
	json_add_u64(o, "cmb_used", info->cmb_size - info->cmb_free);
	json_add_u64(o, "kernel_cmb_bytes", info->kernel_cmb_bytes);
	json_add_bool(o, "kernel_sqs_in_cmb",
		      info->flags & NVME_P2P_INFO_KERNEL_SQS_IN_CMB);
	for (i = 0; i < ARRAY_SIZE(p2p_cmb_caps); i++)
		json_add_bool(caps, p2p_cmb_caps[i].name,
			      info->flags & p2p_cmb_caps[i].mask);
	json_object_add_value_object(o, "capabilities", caps);
	json_add_u64(o, "cmbsz", info->cmbsz);
	json_add_u64(o, "cmbloc", info->cmbloc);
	json_add_u64(o, "cmb_bar", info->cmbloc & 7);
	json_add_u64(o, "cmb_bar_offset", cmb_offset(info->cmbsz, info->cmbloc));
	if (human) {
		struct json_object *sz = json_create_object();
		struct json_object *loc = json_create_object();

		json_add_u64(sz, "sz", info->cmbsz >> 12);
		json_add_u64(sz, "szu", (info->cmbsz >> 8) & 0xf);
		json_add_u64(sz, "size_unit_bytes", cmb_size_unit(info->cmbsz));
		json_object_add_value_object(o, "cmbsz_fields", sz);
		json_add_u64(loc, "bir", info->cmbloc & 7);
		json_add_u64(loc, "ofst", info->cmbloc >> 12);
		for (i = 0; i < ARRAY_SIZE(p2p_cmbloc_bits); i++)
			json_add_bool(loc, p2p_cmbloc_bits[i].name,
				      info->cmbloc & p2p_cmbloc_bits[i].mask);
		json_object_add_value_object(o, "cmbloc_fields", loc);
	}
	json_add_u64(o, "db_stride", info->db_stride);
	json_add_u64(o, "regions", info->regions);
	json_add_u64(o, "queues_reserved", info->queues_reserved);
	json_add_u64(o, "queues_used", info->queues_used);
	json_add_u64(o, "first_qid", info->first_qid);
	json_add_u64(o, "max_queue_depth", info->max_queue_depth);
	json_add_u64(o, "max_transfer", info->max_transfer);
	json_print(o);
}

static int p2p_info(int argc, char **argv, struct command *cmd,
		    struct plugin *plugin)
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_FLAG("human-readable", 'H', &cfg.human_readable, human_readable_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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
	if (!read_attr(dir, "vendor", row->vendor, sizeof(row->vendor)))
		return 1;
	read_attr(dir, "device", row->device, sizeof(row->device));
	read_attr(dir, "class", row->class, sizeof(row->class));
	if (!link_name(dir, "driver", row->driver, sizeof(row->driver)))
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

	json_add_str(o, "pci_address", r->addr);
	json_add_str(o, "vendor", r->vendor);
	json_add_str(o, "device", r->device);
	json_add_str(o, "class", r->class);
	json_add_str(o, "driver", r->driver);
	json_add_str(o, "reach", reach_name(r->peer.reach));
	json_add_bool(o, "reachable", r->peer.reach != NVME_P2P_PEER_UNREACHABLE);
	json_add_s64(o, "distance", r->peer.distance);
	json_add_bool(o, "self", !strcmp(r->addr, c->pci));
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

static int p2p_peers(int argc, char **argv, struct command *cmd,
		     struct plugin *plugin)
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_STR("peer", 'p', &cfg.peer, peer_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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
		json_add_str(root, "device", c.name);
		json_add_str(root, "pci_address", c.pci);
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
		json_print(root);
	else if (root)
		json_free_object(root);
out:
	free(addrs);
	p2p_close(&c);
	return err;
}

/*
 * Every export of the controller: grows the array until the kernel's count
 * fits (exports may be created between two calls).
 */
static int p2p_get_list(struct p2p_ctrl *c, struct nvme_p2p_list_entry **entries,
			unsigned int *nr)
{
	struct nvme_p2p_list_entry *e = NULL;
	struct nvme_p2p_list list;
	unsigned int room = 0;
	int err;

	for (;;) {
		memset(&list, 0, sizeof(list));
		list.argsz = sizeof(list);
		list.entry_size = sizeof(*e);
		list.nr_entries = room;
		list.entries = (uintptr_t)e;
		err = p2p_ioctl(c, NVME_P2P_IOCTL_LIST, &list);
		if (err) {
			free(e);
			return err;
		}
		if (list.nr_entries <= room)
			break;
		free(e);
		room = list.nr_entries + 8;
		e = calloc(room, sizeof(*e));
		if (!e)
			return -ENOMEM;
	}
	*entries = e;
	*nr = list.nr_entries;
	return 0;
}

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

static const char *queue_state_name(__u8 state)
{
	switch (state) {
	case NVME_P2P_QUEUE_LIVE:
		return "live";
	case NVME_P2P_QUEUE_RESETTING:
		return "resetting";
	case NVME_P2P_QUEUE_REVOKED:
		return "revoked";
	}
	return "unknown";
}

static const char *sq_placement_name(__u8 placement)
{
	switch (placement) {
	case NVME_P2P_SQ_CMB_PREFERRED:
		return "cmb-preferred";
	case NVME_P2P_SQ_CMB_REQUIRED:
		return "cmb";
	case NVME_P2P_SQ_HOST:
		return "host";
	}
	return "unknown";
}

static const char *cq_placement_name(__u8 placement)
{
	switch (placement) {
	case NVME_P2P_CQ_HOST:
		return "host";
	case NVME_P2P_CQ_CMB:
		return "cmb";
	}
	return "unknown";
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

	json_add_u64(o, "qid", e->qid);
	json_add_s64(o, "pid", e->pid);
	json_add_str(o, "comm", pid_comm(comm, sizeof(comm), e->pid));
	json_add_str(o, "state", queue_state_name(e->state));
	json_add_u64(o, "generation", e->generation);
	json_add_u64(o, "depth", e->depth);
	json_add_str(o, "sq_placement", sq_placement_name(e->sq_placement));
	json_add_str(o, "cq_placement", cq_placement_name(e->cq_placement));
	json_add_u64(o, "sq_bytes", e->size);
	json_add_u64(o, "sq_addr", e->addr);
	json_add_u64(o, "cq_addr", e->cq_addr);
	json_add_u64(o, "sq_head", e->sq_head);
	json_add_u64(o, "cq_tail", e->cq_tail);
	json_add_u64(o, "importers", e->importers);
	json_add_u64(o, "flags", e->flags);
	if (human)
		json_object_add_value_array(o, "flag_names",
			json_bit_names(e->flags, p2p_queue_flags,
				       ARRAY_SIZE(p2p_queue_flags)));
	if (info) {
		json_add_u64(o, "sq_doorbell_offset", sq_doorbell(info, e->qid));
		json_add_u64(o, "cq_doorbell_offset", cq_doorbell(info, e->qid));
	}
	return o;
}

static struct json_object *region_entry_json(const struct nvme_p2p_list_entry *e,
					     bool human)
{
	struct json_object *o = json_create_object();
	char comm[P2P_NAME_LEN];

	json_add_s64(o, "pid", e->pid);
	json_add_str(o, "comm", pid_comm(comm, sizeof(comm), e->pid));
	json_add_str(o, "state", e->state == NVME_P2P_QUEUE_REVOKED ? "revoked" : "live");
	json_add_str(o, "memory", e->flags & NVME_P2P_REGION_HOST ? "host" : "cmb");
	json_add_u64(o, "size", e->size);
	json_add_u64(o, "bus_addr", e->addr);
	json_add_u64(o, "importers", e->importers);
	json_add_u64(o, "flags", e->flags);
	if (human)
		json_object_add_value_array(o, "flag_names",
			json_bit_names(e->flags, p2p_region_flags,
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
		printf("%4s %7s %-15s %-9s %4s %5s %-4s %-4s %-18s %-18s %6s %6s %4s%s\n",
		       "QID", "PID", "Command", "State", "Gen", "Depth", "SQ", "CQ",
		       "SQ address", "CQ address", "SQhead", "CQtail", "Imp",
		       human ? "  Flags" : "");
		for (i = 0; i < queues; i++)
			printf("%4u %7d %-15s %-9s %4u %5u %-4s %-4s %#018" PRIx64
			       " %#018" PRIx64 " %6u %6u %4u%s%s\n",
			       e[i].qid, e[i].pid,
			       pid_comm(comm, sizeof(comm), e[i].pid),
			       queue_state_name(e[i].state), e[i].generation,
			       e[i].depth, sq_placement_name(e[i].sq_placement),
			       cq_placement_name(e[i].cq_placement),
			       (uint64_t)e[i].addr, (uint64_t)e[i].cq_addr,
			       e[i].sq_head, e[i].cq_tail, e[i].importers,
			       human ? "  " : "",
			       human ? bit_names(names, sizeof(names), e[i].flags,
						 p2p_queue_flags,
						 ARRAY_SIZE(p2p_queue_flags)) : "");
	}

	printf("Data regions of %s: %u\n", c->name, nr - queues);
	if (nr == queues)
		return;
	printf("%7s %-15s %-7s %-6s %12s %-18s %4s%s\n", "PID", "Command",
	       "State", "Memory", "Size", "Bus address", "Imp",
	       human ? "  Flags" : "");
	for (i = queues; i < nr; i++)
		printf("%7d %-15s %-7s %-6s %12" PRIu64 " %#018" PRIx64 " %4u%s%s\n",
		       e[i].pid, pid_comm(comm, sizeof(comm), e[i].pid),
		       e[i].state == NVME_P2P_QUEUE_REVOKED ? "revoked" : "live",
		       e[i].flags & NVME_P2P_REGION_HOST ? "host" : "cmb",
		       (uint64_t)e[i].size, (uint64_t)e[i].addr, e[i].importers,
		       human ? "  " : "",
		       human ? bit_names(names, sizeof(names), e[i].flags,
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

	json_add_str(o, "device", c->name);
	json_add_str(o, "pci_address", c->pci);
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
	json_print(o);
}

static int p2p_list(int argc, char **argv, struct command *cmd,
		    struct plugin *plugin)
{
	const char *desc = "List what the controller exports right now: queue pairs "
		"(owner, qid, depth, where the rings live and their addresses, "
		"state, reset generation, SQ head and CQ tail, importers) and data "
		"regions (owner, memory, size, bus address, state, importers).";
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_FLAG("human-readable", 'H', &cfg.human_readable, human_readable_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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
	printf("%-18s: %s\n", "state", queue_state_name(e->state));
	printf("%-18s: %u\n", "generation", e->generation);
	printf("%-18s: %d (%s)\n", "pid", e->pid, pid_comm(comm, sizeof(comm), e->pid));
	printf("%-18s: %u\n", "depth", e->depth);
	printf("%-18s: %s\n", "sq_placement", sq_placement_name(e->sq_placement));
	printf("%-18s: %#" PRIx64 "\n", "sq_addr", (uint64_t)e->addr);
	printf("%-18s: %" PRIu64 "\n", "sq_bytes", (uint64_t)e->size);
	printf("%-18s: %s\n", "cq_placement", cq_placement_name(e->cq_placement));
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
	printf("%-18s: %#x\n", "flags", e->flags);
	if (human)
		printf("\t%s\n", bit_names(names, sizeof(names), e->flags,
					   p2p_queue_flags,
					   ARRAY_SIZE(p2p_queue_flags)));
}

static int p2p_queue(int argc, char **argv, struct command *cmd,
		     struct plugin *plugin)
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_FLAG("human-readable", 'H', &cfg.human_readable, human_readable_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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
		json_print(o);
	} else {
		queue_print_normal(&c, e, &info, flags & VERBOSE);
	}
out:
	free(entries);
	p2p_close(&c);
	return err;
}

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
				c->name, qid, qi.generation, queue_state_name(qi.state));
		} else {
			watch = false;	/* nothing we can wait for */
		}
	}
}

static int p2p_create_region(int argc, char **argv, struct command *cmd,
			     struct plugin *plugin)
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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

		json_add_str(o, "device", c.name);
		json_add_s64(o, "pid", getpid());
		json_add_str(o, "memory", cfg.host ? "host" : "cmb");
		json_add_u64(o, "size", arg.size);
		json_add_u64(o, "bus_addr", arg.bus_addr);
		json_add_u64(o, "cmb_offset", arg.cmb_offset);
		json_add_u64(o, "flags", arg.flags);
		json_add_u64(o, "hold", cfg.hold);
		json_print(o);
	} else {
		printf("%s region of %s on %s: bus address %#" PRIx64
		       ", CMB offset %#" PRIx64 "; pid %d, held %u s\n",
		       cfg.host ? "host" : "CMB",
		       size_str(buf, sizeof(buf), arg.size), c.name,
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

		json_add_str(o, "device", c->name);
		json_add_s64(o, "pid", getpid());
		json_add_u64(o, "qid", qi->qid);
		json_add_str(o, "state", queue_state_name(qi->state));
		json_add_u64(o, "generation", qi->generation);
		json_add_u64(o, "depth", qi->depth);
		json_add_str(o, "sq_placement", sq_placement_name(qi->sq_placement));
		json_add_str(o, "cq_placement", cq_placement_name(qi->cq_placement));
		json_add_u64(o, "flags", qi->flags);
		json_add_u64(o, "sq_bytes", qi->sq_bytes);
		json_add_u64(o, "cq_bytes", qi->cq_bytes);
		json_add_u64(o, "db_bytes", qi->db_bytes);
		json_add_u64(o, "sq_db_offset", qi->sq_db_offset);
		json_add_u64(o, "cq_db_offset", qi->cq_db_offset);
		json_add_u64(o, "sq_addr", qi->sq_addr);
		json_add_u64(o, "cq_addr", qi->cq_addr);
		json_add_u64(o, "db_addr", qi->db_addr);
		json_add_u64(o, "max_transfer", qi->max_transfer);
		json_add_u64(o, "hold", hold);
		json_print(o);
		return;
	}
	printf("queue %u on %s: depth %u, SQ in %s at %#" PRIx64 ", CQ in %s at %#"
	       PRIx64 ", doorbells at %#" PRIx64 " (+%#x SQ, +%#x CQ); %s, "
	       "generation %u; pid %d, held %u s\n",
	       qi->qid, c->name, qi->depth, sq_placement_name(qi->sq_placement),
	       (uint64_t)qi->sq_addr, cq_placement_name(qi->cq_placement),
	       (uint64_t)qi->cq_addr, (uint64_t)qi->db_addr, qi->sq_db_offset,
	       qi->cq_db_offset, queue_state_name(qi->state), qi->generation,
	       (int)getpid(), hold);
}

static int p2p_create_queue(int argc, char **argv, struct command *cmd,
			    struct plugin *plugin)
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
		OPT_FMT("output-format", 'o', &cfg.output_format, output_format_help),
		OPT_END()
	};

	(void)cmd;
	(void)plugin;
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
