/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* container_of.h: the object that embeds a member, from the member's address:
 * how a loop callback (loop.h), given its struct loop_watch, loop_timer or
 * loop_deferred, finds its owner. */
#ifndef SG_CONTAINER_OF_H
#define SG_CONTAINER_OF_H

#include <stddef.h>

/* ptr points at member of a type; the type * holding it. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
