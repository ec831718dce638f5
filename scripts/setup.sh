#!/usr/bin/env bash
# Installs every Debian 12 package crmscope needs to build, test and run its demo.
# Idempotent: packages already present are skipped, so a second run takes a second.
set -euo pipefail

# Build dependencies (libraries and tools the compiler needs).
build_pkgs=(
  g++ cmake make pkg-config
  prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev libsqlite3-dev sqlite3
  doctest-dev libcurl4-openssl-dev libprotobuf-dev protobuf-compiler
  libsnappy-dev libyaml-cpp-dev libre2-dev libhiredis-dev libssl-dev zlib1g-dev
)
# Peers that tests, benchmarks and the demo run beside crmscope.
peer_pkgs=(
  prometheus prometheus-alertmanager nginx-light redis-server wrk curl python3 procps
  prometheus-node-exporter prometheus-blackbox-exporter mtail haproxy valgrind python3-yaml
)

missing=()
for p in "${build_pkgs[@]}" "${peer_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages start services on install; crmscope's tests start their own on loopback.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter \
    prometheus-blackbox-exporter mtail haproxy nginx redis-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
