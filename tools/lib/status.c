// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Names of NVMe completion status codes: libnvme's, without their
 * explanations. nvme_status_to_string() says "LBA Out of Range: The command
 * references an LBA that exceeds the size of the namespace"; a status name
 * is the part before ": ". The names are cut once, on first use.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <nvme/util.h>

#include "nvmep2p.h"

#define NR_STATUS	(1 << 11)	/* SCT (3 bits) << 8 | SC (8 bits) */

static const char unknown[] = "Unknown Status";
static const char *names[NR_STATUS];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_init(void)
{
	int status;

	for (status = 0; status < NR_STATUS; status++) {
		const char *s = nvme_status_to_string(status, false);
		const char *colon = s ? strstr(s, ": ") : NULL;
		char *name = NULL;

		/* libnvme's names for a code it does not know. */
		if (!s || !strcmp(s, "unrecognized") ||
		    !strcasecmp(s, "Unknown status")) {
			names[status] = unknown;
			continue;
		}
		if (colon)
			name = strndup(s, (size_t)(colon - s));
		names[status] = name ? name : s;
	}
}

const char *nvmep2p_status_str(int status)
{
	if (status < 0 || status >= NR_STATUS)
		return unknown;
	pthread_once(&names_once, names_init);
	return names[status];
}
