#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The short soak (make soak-quick, tests/soak/README.md) as part of the e2e suite: 5000
# checked streams through both dataplanes under packet loss, memory and CPU pressure, in
# at most about 4 minutes. soak.sh brings its own namespaces and cleanup; its exit status
# (0 pass, 1 fail, 77 skip) is this test's.
set -euo pipefail
exec bash "$(dirname "$0")/../soak/soak.sh" --quick
