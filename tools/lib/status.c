// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Names of NVMe completion status codes, as the NVMe Base Specification
 * 2.0 and the NVM Command Set Specification 1.0 name them.
 */
#include <stddef.h>

#include "nvmep2p.h"

struct status_name {
	unsigned short status;		/* SCT << 8 | SC */
	const char *name;
};

#define GEN(sc)		(NVMEP2P_SCT_GENERIC << 8 | (sc))
#define CMD(sc)		(NVMEP2P_SCT_CMD_SPECIFIC << 8 | (sc))
#define MEDIA(sc)	(NVMEP2P_SCT_MEDIA << 8 | (sc))
#define PATH(sc)	(NVMEP2P_SCT_PATH << 8 | (sc))

static const struct status_name status_names[] = {
	/* Generic Command Status */
	{ GEN(0x00), "Success" },
	{ GEN(0x01), "Invalid Command Opcode" },
	{ GEN(0x02), "Invalid Field in Command" },
	{ GEN(0x03), "Command ID Conflict" },
	{ GEN(0x04), "Data Transfer Error" },
	{ GEN(0x05), "Commands Aborted due to Power Loss Notification" },
	{ GEN(0x06), "Internal Error" },
	{ GEN(0x07), "Command Abort Requested" },
	{ GEN(0x08), "Command Aborted due to SQ Deletion" },
	{ GEN(0x09), "Command Aborted due to Failed Fused Command" },
	{ GEN(0x0a), "Command Aborted due to Missing Fused Command" },
	{ GEN(0x0b), "Invalid Namespace or Format" },
	{ GEN(0x0c), "Command Sequence Error" },
	{ GEN(0x0d), "Invalid SGL Segment Descriptor" },
	{ GEN(0x0e), "Invalid Number of SGL Descriptors" },
	{ GEN(0x0f), "Data SGL Length Invalid" },
	{ GEN(0x10), "Metadata SGL Length Invalid" },
	{ GEN(0x11), "SGL Descriptor Type Invalid" },
	{ GEN(0x12), "Invalid Use of Controller Memory Buffer" },
	{ GEN(0x13), "PRP Offset Invalid" },
	{ GEN(0x14), "Atomic Write Unit Exceeded" },
	{ GEN(0x15), "Operation Denied" },
	{ GEN(0x16), "SGL Offset Invalid" },
	{ GEN(0x18), "Host Identifier Inconsistent Format" },
	{ GEN(0x19), "Keep Alive Timer Expired" },
	{ GEN(0x1a), "Keep Alive Timeout Invalid" },
	{ GEN(0x1b), "Command Aborted due to Preempt and Abort" },
	{ GEN(0x1c), "Sanitize Failed" },
	{ GEN(0x1d), "Sanitize In Progress" },
	{ GEN(0x1e), "SGL Data Block Granularity Invalid" },
	{ GEN(0x1f), "Command Not Supported for Queue in CMB" },
	{ GEN(0x20), "Namespace is Write Protected" },
	{ GEN(0x21), "Command Interrupted" },
	{ GEN(0x22), "Transient Transport Error" },
	{ GEN(0x23), "Command Prohibited by Command and Feature Lockdown" },
	{ GEN(0x24), "Admin Command Media Not Ready" },
	/* Generic, I/O command set specific (NVM) */
	{ GEN(0x80), "LBA Out of Range" },
	{ GEN(0x81), "Capacity Exceeded" },
	{ GEN(0x82), "Namespace Not Ready" },
	{ GEN(0x83), "Reservation Conflict" },
	{ GEN(0x84), "Format In Progress" },
	{ GEN(0x85), "Invalid Value Size" },
	{ GEN(0x86), "Invalid Key Size" },
	{ GEN(0x87), "KV Key Does Not Exist" },
	{ GEN(0x88), "Unrecovered Error" },
	{ GEN(0x89), "Key Exists" },
	/* Command Specific Status */
	{ CMD(0x00), "Completion Queue Invalid" },
	{ CMD(0x01), "Invalid Queue Identifier" },
	{ CMD(0x02), "Invalid Queue Size" },
	{ CMD(0x03), "Abort Command Limit Exceeded" },
	{ CMD(0x05), "Asynchronous Event Request Limit Exceeded" },
	{ CMD(0x06), "Invalid Firmware Slot" },
	{ CMD(0x07), "Invalid Firmware Image" },
	{ CMD(0x08), "Invalid Interrupt Vector" },
	{ CMD(0x09), "Invalid Log Page" },
	{ CMD(0x0a), "Invalid Format" },
	{ CMD(0x0b), "Firmware Activation Requires Conventional Reset" },
	{ CMD(0x0c), "Invalid Queue Deletion" },
	{ CMD(0x0d), "Feature Identifier Not Saveable" },
	{ CMD(0x0e), "Feature Not Changeable" },
	{ CMD(0x0f), "Feature Not Namespace Specific" },
	{ CMD(0x10), "Firmware Activation Requires NVM Subsystem Reset" },
	{ CMD(0x11), "Firmware Activation Requires Controller Level Reset" },
	{ CMD(0x12), "Firmware Activation Requires Maximum Time Violation" },
	{ CMD(0x13), "Firmware Activation Prohibited" },
	{ CMD(0x14), "Overlapping Range" },
	{ CMD(0x15), "Namespace Insufficient Capacity" },
	{ CMD(0x16), "Namespace Identifier Unavailable" },
	{ CMD(0x18), "Namespace Already Attached" },
	{ CMD(0x19), "Namespace Is Private" },
	{ CMD(0x1a), "Namespace Not Attached" },
	{ CMD(0x1b), "Thin Provisioning Not Supported" },
	{ CMD(0x1c), "Controller List Invalid" },
	{ CMD(0x1d), "Device Self-test In Progress" },
	{ CMD(0x1e), "Boot Partition Write Prohibited" },
	{ CMD(0x1f), "Invalid Controller Identifier" },
	{ CMD(0x20), "Invalid Secondary Controller State" },
	{ CMD(0x21), "Invalid Number of Controller Resources" },
	{ CMD(0x22), "Invalid Resource Identifier" },
	{ CMD(0x23), "Sanitize Prohibited While Persistent Memory Region is Enabled" },
	{ CMD(0x24), "ANA Group Identifier Invalid" },
	{ CMD(0x25), "ANA Attach Failed" },
	{ CMD(0x26), "Insufficient Capacity" },
	{ CMD(0x27), "Namespace Attachment Limit Exceeded" },
	{ CMD(0x28), "Prohibition of Command Execution Not Supported" },
	{ CMD(0x29), "I/O Command Set Not Supported" },
	{ CMD(0x2a), "I/O Command Set Not Enabled" },
	{ CMD(0x2b), "I/O Command Set Combination Rejected" },
	{ CMD(0x2c), "Invalid I/O Command Set" },
	{ CMD(0x2d), "Identifier Unavailable" },
	/* Command specific, NVM command set */
	{ CMD(0x80), "Conflicting Attributes" },
	{ CMD(0x81), "Invalid Protection Information" },
	{ CMD(0x82), "Attempted Write to Read Only Range" },
	{ CMD(0x83), "Command Size Limit Exceeded" },
	{ CMD(0xb8), "Zone Boundary Error" },
	{ CMD(0xb9), "Zone Is Full" },
	{ CMD(0xba), "Zone Is Read Only" },
	{ CMD(0xbb), "Zone Is Offline" },
	{ CMD(0xbc), "Zone Invalid Write" },
	{ CMD(0xbd), "Too Many Active Zones" },
	{ CMD(0xbe), "Too Many Open Zones" },
	{ CMD(0xbf), "Invalid Zone State Transition" },
	/* Media and Data Integrity Errors */
	{ MEDIA(0x80), "Write Fault" },
	{ MEDIA(0x81), "Unrecovered Read Error" },
	{ MEDIA(0x82), "End-to-end Guard Check Error" },
	{ MEDIA(0x83), "End-to-end Application Tag Check Error" },
	{ MEDIA(0x84), "End-to-end Reference Tag Check Error" },
	{ MEDIA(0x85), "Compare Failure" },
	{ MEDIA(0x86), "Access Denied" },
	{ MEDIA(0x87), "Deallocated or Unwritten Logical Block" },
	{ MEDIA(0x88), "End-to-end Storage Tag Check Error" },
	/* Path Related Status */
	{ PATH(0x00), "Internal Path Error" },
	{ PATH(0x01), "Asymmetric Access Persistent Loss" },
	{ PATH(0x02), "Asymmetric Access Inaccessible" },
	{ PATH(0x03), "Asymmetric Access Transition" },
	{ PATH(0x60), "Controller Pathing Error" },
	{ PATH(0x70), "Host Pathing Error" },
	{ PATH(0x71), "Command Aborted By Host" },
};

const char *nvmep2p_status_str(int status)
{
	size_t lo = 0, hi = sizeof(status_names) / sizeof(status_names[0]);

	if (status < 0 || status > 0x7ff)
		return "Unknown Status";
	/* The table is sorted by status. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (status_names[mid].status == status)
			return status_names[mid].name;
		if (status_names[mid].status < status)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (NVMEP2P_SCT(status) == NVMEP2P_SCT_VENDOR)
		return "Vendor Specific";
	return "Unknown Status";
}
