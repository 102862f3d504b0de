/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* takeover_wire.h: the chunks the old agent sends (takeover.h). Each is
 * sizeof(struct takeover_chunk) bytes, in one sendmsg() carrying n
 * descriptors (SCM_RIGHTS), items[i] naming the i-th; the last has is_last
 * set. Both ends are the same machine, so fields are host-endian; the magic
 * changes with the layout, so two builds that disagree refuse each other. */
#ifndef SG_TAKEOVER_WIRE_H
#define SG_TAKEOVER_WIRE_H

#include <stdint.h>

#include "inherited.h"

#define TAKEOVER_MAGIC 0x53475431u /* "SGT1" */
#define TAKEOVER_CHUNK 32	   /* items per chunk: well under SCM_MAX_FD */
#define TAKEOVER_READY 'R'	   /* new -> old: serving; stop and drain */
#define TAKEOVER_ACK   'A'	   /* old -> new: drained from now on */

struct takeover_chunk {
	uint32_t magic;
	uint32_t n;
	uint32_t is_last;
	uint32_t pid;	       /* the old agent's */
	uint64_t flow_id_base; /* the old agent's: the new one must not reuse its flow ids */
	struct inherited_item items[TAKEOVER_CHUNK];
};

#endif
