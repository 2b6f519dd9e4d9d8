/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme p2p: the nvme-cli plugin of the nvme-p2p exporter. nvme-cli includes
 * this header several times over (plugin.h's CMD_INC_FILE scheme) to build
 * the command table.
 */
#undef CMD_INC_FILE
#define CMD_INC_FILE plugins/p2p/p2p-nvme

#if !defined(P2P_NVME) || defined(CMD_HEADER_MULTI_READ)
#define P2P_NVME

#include "cmd.h"

PLUGIN(NAME("p2p", "NVMe peer-to-peer export: controller memory buffer, exported queues", NVME_VERSION),
	COMMAND_LIST(
		ENTRY("info", "Show the CMB, its capabilities and the queue IDs reserved for export", p2p_info)
		ENTRY("peers", "Show which PCI devices can reach the CMB, and how", p2p_peers)
		ENTRY("list", "List exported queues and data regions", p2p_list)
		ENTRY("queue", "Show one exported queue as the kernel sees it", p2p_queue)
		ENTRY("create-region", "Create a data region and hold it (for testing)", p2p_create_region)
		ENTRY("create-queue", "Create an exported queue pair and hold it (for testing)", p2p_create_queue)
	)
);

#endif

#include "define_cmd.h"
