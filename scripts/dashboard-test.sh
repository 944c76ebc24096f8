#!/usr/bin/env bash
# Dashboard tests: installs the npm dependencies (uPlot, playwright-core)
# into collector/dashboard/node_modules, builds memgauge-collector (which
# stages the dashboard beside itself), and runs tests/dashboard with node's
# test runner: the collector's HTTP side, then the pages in headless
# Chromium (Debian's /usr/bin/chromium) against the real collector.
# Screenshots go to build/test-output/dashboard/.
# Prints "dashboard: N passed, M failed" last; exits non-zero on failure.
# Usage: scripts/dashboard-test.sh   (needs node >= 20, npm, chromium and the
#   collector's build dependencies: scripts/collector-test.sh's deps step)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${MEMGAUGE_DASHBOARD_BUILD:-build/collector-dash}"
LOGS="$ROOT/build/test-logs/dashboard"
mkdir -p "$LOGS" build/test-output/dashboard
JOBS="$(nproc 2>/dev/null || echo 2)"

fail_early() {
    echo "$1" >&2
    echo "dashboard: 0 passed, 1 failed"
    exit 1
}

command -v node >/dev/null || fail_early "node is missing (Node 20 or later)"
command -v npm >/dev/null || fail_early "npm is missing"
[ -x "${MEMGAUGE_CHROMIUM:-/usr/bin/chromium}" ] || fail_early "chromium is missing: apt-get install -y chromium"

echo "== npm ci (collector/dashboard)"
if [ -f collector/dashboard/package-lock.json ]; then
    npm ci --prefix collector/dashboard --no-audit --no-fund >"$LOGS/npm.log" 2>&1
else
    npm install --prefix collector/dashboard --no-audit --no-fund >"$LOGS/npm.log" 2>&1
fi || { tail -n 20 "$LOGS/npm.log"; fail_early "npm install failed (log: $LOGS/npm.log)"; }

echo "== build memgauge-collector into $BUILD"
{ cmake -S collector -B "$BUILD" -DMEMGAUGE_WERROR=ON -DMEMGAUGE_COLLECTOR_TESTS=OFF \
    -DMEMGAUGE_COLLECTOR_BENCH=OFF && cmake --build "$BUILD" -j "$JOBS"; } >"$LOGS/build.log" 2>&1 ||
    { tail -n 30 "$LOGS/build.log"; fail_early "build failed (log: $LOGS/build.log)"; }

echo "== node --test tests/dashboard"
export MEMGAUGE_COLLECTOR_BIN="$ROOT/$BUILD/memgauge-collector"
node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$LOGS/tap.txt" \
    tests/dashboard/server.test.mjs tests/dashboard/dashboard.test.mjs
rc=$?
passed="$(grep -E '^# pass ' "$LOGS/tap.txt" | awk '{print $3}')"
failed="$(grep -E '^# fail ' "$LOGS/tap.txt" | awk '{print $3}')"
passed="${passed:-0}"
failed="${failed:-0}"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the runner itself failed (a crash before any test)
fi
echo "screenshots: build/test-output/dashboard/"
echo "dashboard: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
