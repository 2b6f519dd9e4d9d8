/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme p2p: what the command families of the plugin share (p2p-common.c:
 * opening a controller, the nvme-p2p ioctls and what their errnos mean,
 * sysfs; p2p-print.c: the printers). Each family is a file of its own:
 * p2p-info.c (info, peers), p2p-list.c (list, queue), p2p-create.c
 * (create-region, create-queue); p2p-nvme.c is nvme-cli's command table.
 */
#ifndef P2P_COMMON_H
#define P2P_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/nvme_p2p.h>

#include "common.h"
#include "nvme.h"
#include "libnvme.h"

#define P2P_NAME_LEN		(NAME_MAX + 1)

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

extern const char *p2p_output_format_help;
extern const char *p2p_human_readable_help;

/* p2p-common.c */
bool p2p_read_attr(const char *dir, const char *attr, char *buf, size_t size);
bool p2p_link_name(const char *dir, const char *link, char *buf, size_t size);
const char *p2p_pid_comm(char *buf, size_t size, int pid);
int p2p_ioctl_failed(const struct p2p_ctrl *c, unsigned long req, int err);
int p2p_ioctl(struct p2p_ctrl *c, unsigned long req, void *arg);
int p2p_open(struct p2p_ctrl *c, int argc, char **argv, const char *desc,
	     const struct argconfig_commandline_options *opts);
void p2p_close(struct p2p_ctrl *c);
int p2p_output_flags(const char *format, bool human, enum nvme_print_flags *flags);
int p2p_get_info(struct p2p_ctrl *c, struct nvme_p2p_info *info);
int p2p_get_list(struct p2p_ctrl *c, struct nvme_p2p_list_entry **entries,
		 unsigned int *nr);

/* p2p-print.c */
void p2p_json_bool(struct json_object *o, const char *key, bool v);
void p2p_json_u64(struct json_object *o, const char *key, uint64_t v);
void p2p_json_s64(struct json_object *o, const char *key, int64_t v);
void p2p_json_str(struct json_object *o, const char *key, const char *v);
struct json_object *p2p_json_bit_names(__u32 value, const struct p2p_bit *bits,
				       size_t nr);
void p2p_json_print(struct json_object *o);
const char *p2p_bit_names(char *buf, size_t size, __u32 value,
			  const struct p2p_bit *bits, size_t nr);
void p2p_print_bits(__u32 value, const struct p2p_bit *bits, size_t nr);
const char *p2p_size_str(char *buf, size_t size, uint64_t bytes);
const char *p2p_queue_state_name(__u8 state);
const char *p2p_sq_placement_name(__u8 placement);
const char *p2p_cq_placement_name(__u8 placement);

/* The commands (p2p-info.c, p2p-list.c, p2p-create.c). */
int p2p_cmd_info(int argc, char **argv);
int p2p_cmd_peers(int argc, char **argv);
int p2p_cmd_list(int argc, char **argv);
int p2p_cmd_queue(int argc, char **argv);
int p2p_cmd_create_region(int argc, char **argv);
int p2p_cmd_create_queue(int argc, char **argv);

#endif /* P2P_COMMON_H */
