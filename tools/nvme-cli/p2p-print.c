// SPDX-License-Identifier: GPL-2.0
/*
 * nvme p2p: the printers the commands share - JSON fields, flag names,
 * sizes, queue states and placements.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "p2p-common.h"

void p2p_json_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void p2p_json_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_uint64(v));
}

void p2p_json_s64(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void p2p_json_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

/* The names of the set bits of @value, as a JSON array. */
struct json_object *p2p_json_bit_names(__u32 value, const struct p2p_bit *bits,
				       size_t nr)
{
	struct json_object *a = json_create_array();
	size_t i;

	for (i = 0; i < nr; i++)
		if (value & bits[i].mask)
			json_array_add_value_string(a, bits[i].name);
	return a;
}

void p2p_json_print(struct json_object *o)
{
	json_print_object(o, NULL);
	printf("\n");
	json_free_object(o);
}

/* "name name ..." of the set bits of @value, "-" if none. */
const char *p2p_bit_names(char *buf, size_t size, __u32 value,
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

void p2p_print_bits(__u32 value, const struct p2p_bit *bits, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		printf("\t%-8s %s: %s\n", bits[i].name,
		       value & bits[i].mask ? "yes" : "no ", bits[i].desc);
}

/* "64 MiB" when @bytes is a whole number of KiB/MiB/GiB, else "N bytes". */
const char *p2p_size_str(char *buf, size_t size, uint64_t bytes)
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

const char *p2p_queue_state_name(__u8 state)
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

const char *p2p_sq_placement_name(__u8 placement)
{
	switch (placement) {
	case NVME_P2P_SQ_CMB_PREFERRED:
		return "cmb-preferred";
	case NVME_P2P_SQ_CMB_REQUIRED:
		return "cmb";
	case NVME_P2P_SQ_HOST:
		return "host";
	case NVME_P2P_SQ_DMABUF:
		return "dma-buf";
	}
	return "unknown";
}

const char *p2p_cq_placement_name(__u8 placement)
{
	switch (placement) {
	case NVME_P2P_CQ_HOST:
		return "host";
	case NVME_P2P_CQ_CMB:
		return "cmb";
	case NVME_P2P_CQ_DMABUF:
		return "dma-buf";
	}
	return "unknown";
}
