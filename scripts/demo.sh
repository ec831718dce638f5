#!/usr/bin/env bash
# The demo: sets up, builds, and runs the demo CRM stack with `crmscope demo`.
#
# With no flags: three crm-nodes (LRU caches) over a seeded SQLite database (100k customers,
# seeded once into run/demo/db and reused), nginx round-robin in front, the crmscope collector,
# and crm-loadgen sending 200 req/s through nginx for 90 s, with a live table every 5 s. Every
# flag goes to `crmscope demo` (see `build/crm_demo/launcher/crmscope demo --help`), e.g.
#   scripts/demo.sh --lb weighted:3,2,1 --cache redis --fault node2:drop_index@30s+30s
#   scripts/demo.sh --duration 0s          # until Ctrl-C
# Ctrl-C stops everything; so do --duration running out and any process dying.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target crmscope crm-node crm-loadgen crmscope-collector
exec build/crm_demo/launcher/crmscope demo "$@"
