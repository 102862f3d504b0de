/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sd_notify.h: systemd's readiness protocol (sd_notify(3), Type=notify),
 * written out instead of linking libsystemd: one datagram of "KEY=VALUE"
 * lines to the AF_UNIX socket $NOTIFY_SOCKET names (a path, or an abstract
 * name written with a leading '@'). systemd documents the protocol as stable;
 * it is some forty lines, and the agent and its package keep one dependency
 * less. Without $NOTIFY_SOCKET (not under systemd) every call does nothing. */
#ifndef SG_SD_NOTIFY_H
#define SG_SD_NOTIFY_H

/* Sends state ("READY=1", several lines allowed). 1 sent, 0 no
 * $NOTIFY_SOCKET, or -errno (the caller may ignore it: systemd then times the
 * service out, which says more than a log line would). */
int sd_notify_send(const char *state);

/* READY=1 with a STATUS= line: startup done, or a reload finished. */
int sd_notify_ready(const char *status);

/* MAINPID= this process, READY=1 and STATUS=: a takeover (--takeover) is
 * done and this process is the service's main one now (the unit needs
 * NotifyAccess=all for systemd to hear it from a process it did not start). */
int sd_notify_main_ready(const char *status);

/* RELOADING=1 with MONOTONIC_USEC= (CLOCK_MONOTONIC now), as systemd asks. */
int sd_notify_reloading(void);

/* STOPPING=1. */
int sd_notify_stopping(void);

#endif
