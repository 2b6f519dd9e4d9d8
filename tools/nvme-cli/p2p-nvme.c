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
 *
 * This file is only nvme-cli's command table: p2p-nvme.h declares it, and
 * nvme-cli wants its entries static in one file. The commands are in
 * p2p-info.c, p2p-list.c and p2p-create.c, what they share in
 * p2p-common.c and p2p-print.c.
 */
#include "p2p-common.h"

#define CREATE_CMD
#include "p2p-nvme.h"

static int p2p_info(int argc, char **argv, struct command *cmd,
		    struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_info(argc, argv);
}

static int p2p_peers(int argc, char **argv, struct command *cmd,
		     struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_peers(argc, argv);
}

static int p2p_list(int argc, char **argv, struct command *cmd,
		    struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_list(argc, argv);
}

static int p2p_queue(int argc, char **argv, struct command *cmd,
		     struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_queue(argc, argv);
}

static int p2p_create_region(int argc, char **argv, struct command *cmd,
			     struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_create_region(argc, argv);
}

static int p2p_create_queue(int argc, char **argv, struct command *cmd,
			    struct plugin *plugin)
{
	(void)cmd;
	(void)plugin;
	return p2p_cmd_create_queue(argc, argv);
}
