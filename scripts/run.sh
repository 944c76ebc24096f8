#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the sample app
# printing live readings of its own memory (scenario and duration can be
# changed: scripts/run.sh --scenario spike --duration 60). Ctrl-C stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/deps.sh
cmake -S . -B build/run -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMGAUGE_BUILD_TESTS=OFF >/dev/null
cmake --build build/run -j "$(nproc)" >/dev/null
if [ "$#" -eq 0 ]; then
    set -- --scenario sawtooth --duration 30
fi
exec build/run/sample-app/memgauge-sample "$@"
