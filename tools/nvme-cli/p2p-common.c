// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p: opening a controller for the nvme-p2p ioctls, issuing them and
 * saying what their errnos mean (uapi/linux/nvme_p2p.h), sysfs attributes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "p2p-common.h"

const char *p2p_output_format_help = "Output format: normal|json";
const char *p2p_human_readable_help = "Decode register fields and flags";

/* Read a sysfs attribute into @buf, without the trailing newline. */
bool p2p_read_attr(const char *dir, const char *attr, char *buf, size_t size)
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
bool p2p_link_name(const char *dir, const char *link, char *buf, size_t size)
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
const char *p2p_pid_comm(char *buf, size_t size, int pid)
{
	char dir[32];

	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (pid <= 0 || !p2p_read_attr(dir, "comm", buf, size))
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
int p2p_ioctl_failed(const struct p2p_ctrl *c, unsigned long req, int err)
{
	const char *hint = ioctl_hint(req, err);

	fprintf(stderr, "%s: %s: %s%s%s%s\n", c->name, ioctl_name(req),
		strerror(err), hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	return err == ENOTTY ? -EOPNOTSUPP : -err;
}

/* Issue one nvme-p2p ioctl; its result, or p2p_ioctl_failed()'s. */
int p2p_ioctl(struct p2p_ctrl *c, unsigned long req, void *arg)
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
	if (p2p_link_name(dir, "device", ctrl, sizeof(ctrl)) &&
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
int p2p_open(struct p2p_ctrl *c, int argc, char **argv, const char *desc,
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
	if (!p2p_link_name(dir, "subsystem", class, sizeof(class)) ||
	    strcmp(class, "nvme") || !p2p_link_name(dir, NULL, c->name, sizeof(c->name))) {
		fprintf(stderr,
			"%s is not an NVMe controller (character device %u:%u is of class '%s'): give /dev/nvmeN\n",
			c->path, major(st->st_rdev), minor(st->st_rdev),
			class[0] ? class : "unknown");
		err = -ENODEV;
		goto out_close;
	}
	if (p2p_read_attr(dir, "transport", transport, sizeof(transport)) &&
	    strcmp(transport, "pcie")) {
		fprintf(stderr, "%s: %s is an NVMe over %s controller: only PCIe controllers export p2p memory\n",
			c->path, c->name, transport);
		err = -EOPNOTSUPP;
		goto out_close;
	}
	if (!p2p_link_name(dir, "device", c->pci, sizeof(c->pci)))
		snprintf(c->pci, sizeof(c->pci), "?");
	return 0;

out_close:
	dev_close(c->dev);
	c->dev = NULL;
	return err;
}

void p2p_close(struct p2p_ctrl *c)
{
	if (c->dev)
		dev_close(c->dev);
}

/* -o and -H into nvme-cli's print flags; there is no binary output. */
int p2p_output_flags(const char *format, bool human,
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

int p2p_get_info(struct p2p_ctrl *c, struct nvme_p2p_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return p2p_ioctl(c, NVME_P2P_IOCTL_INFO, info);
}

/*
 * Every export of the controller: grows the array until the kernel's count
 * fits (exports may be created between two calls).
 */
int p2p_get_list(struct p2p_ctrl *c, struct nvme_p2p_list_entry **entries,
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
