#!/usr/bin/env bash
# The README's main job, end to end and headless (tests/e2e/main-job.test.mjs):
# scripts/run.sh in a scratch data directory on a free port, its sessions
# checked against the collector's API, then stopped with Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if node --test --test-reporter=spec tests/e2e/main-job.test.mjs; then
    echo "main job: 1 passed, 0 failed"
else
    echo "main job: 0 passed, 1 failed"
    exit 1
fi
