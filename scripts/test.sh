#!/usr/bin/env bash
# Sets up, builds (Release, -Wall -Wextra -Werror) and runs every test through ctest.
# Exits non-zero on any failure. CRMSCOPE_SANITIZE=1 builds with ASan+UBSan into build-sanitize/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

build_dir=build
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${CRMSCOPE_SANITIZE:-0}" = "1" ]; then
  build_dir=build-sanitize
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRMSCOPE_SANITIZE=ON)
fi
jobs=$(nproc)
cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure -j "$jobs" --timeout 600
