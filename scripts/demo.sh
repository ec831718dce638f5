#!/usr/bin/env bash
# The demo: sets up, builds, and runs what crmscope can show today.
#
# Today that is the collector on its own: it starts on 127.0.0.1:9300 with a storage directory
# under ./run/, ready for any Prometheus (or other remote-write sender) to write to. The demo CRM
# stack (nginx, CRM nodes, load generator, fault injection) and the agents are not built yet;
# this script says so rather than pretending.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target crmscope-collector

listen=${CRMSCOPE_LISTEN:-127.0.0.1:9300}
mkdir -p run/demo
cat <<TXT
crmscope demo — what runs today
  collector:      http://$listen   (remote write: POST /api/v1/write; /api/v1/series, /metrics)
  storage:        $(pwd)/run/demo/data
Not yet available: the demo CRM stack (nginx + crm-node + crm-loadgen + faults), the agents,
PromQL queries and dashboards. Point a Prometheus at the collector with:
  remote_write:
    - url: http://$listen/api/v1/write
Stop with Ctrl-C.
TXT
exec build/collector/crmscope-collector --web.listen-address="$listen" --storage.path=run/demo/data "$@"
