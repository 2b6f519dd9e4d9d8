// SPDX-License-Identifier: GPL-2.0
/*
 * ctrl-state CONTROLLER: print a controller's nvme-p2p export state as
 * key=value lines (NVME_P2P_IOCTL_INFO through libnvmep2p), so that the
 * engine's tests can check that a fio run left nothing exported and the
 * benchmark can record what the controller offers.
 *
 * CONTROLLER is nvmeN, /dev/nvmeN or serial:SERIAL. Exit 0, or 1 with a
 * message when the controller cannot be opened or asked.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nvmep2p.h"

int main(int argc, char **argv)
{
	struct nvmep2p_ctrl *ctrl;
	struct nvme_p2p_info info;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s nvmeN|/dev/nvmeN|serial:SERIAL\n", argv[0]);
		return 2;
	}
	ret = nvmep2p_ctrl_open(argv[1], &ctrl);
	if (ret) {
		fprintf(stderr, "ctrl-state: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	ret = nvmep2p_ctrl_info(ctrl, &info);
	if (ret) {
		fprintf(stderr, "ctrl-state: %s: %s\n", argv[1], strerror(-ret));
		nvmep2p_ctrl_close(ctrl);
		return 1;
	}
	printf("name=%s\n", nvmep2p_ctrl_name(ctrl));
	printf("flags=0x%x\n", info.flags);
	printf("cmb_size=%" PRIu64 "\n", (uint64_t)info.cmb_size);
	printf("cmb_free=%" PRIu64 "\n", (uint64_t)info.cmb_free);
	printf("regions=%u\n", info.regions);
	printf("queues_reserved=%u\n", info.queues_reserved);
	printf("queues_used=%u\n", info.queues_used);
	printf("first_qid=%u\n", info.first_qid);
	printf("max_queue_depth=%u\n", info.max_queue_depth);
	printf("max_transfer=%u\n", info.max_transfer);
	nvmep2p_ctrl_close(ctrl);
	return 0;
}
