/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* probe.h: `sockgate-bench probe` sends hello_build()'s ClientHello to a TLS
 * server (directly or through a gateway) and reports the first record that
 * comes back: a ServerHello (its version and cipher suite), a
 * HelloRetryRequest, an alert, or nothing. It proves that the load generator's
 * hello is one real servers answer, and that a gateway forwards it. */
#ifndef SG_BENCH_PROBE_H
#define SG_BENCH_PROBE_H

/* Runs the probe (argv[0] is "probe"); prints one JSON line. Returns 0 for a
 * ServerHello, 1 for anything else, 2 on a usage error. */
int probe_main(int argc, char **argv);

#endif
