#!/usr/bin/env bash
# Dashboard tests: installs the npm dependencies (uPlot, playwright-core)
# into collector/dashboard/node_modules, builds memgauge-collector (which
# stages the dashboard beside itself) and the sample app (memgauge-sample,
# the SDK with its transport), and runs tests/dashboard with node's test
# runner: the collector's HTTP side, then the pages in headless Chromium
# (Debian's /usr/bin/chromium) against the real collector filled by real runs
# of the sample app (tests/dashboard/fill.mjs; about a minute), one of them
# killed by the kernel in a memory cgroup (needs root and cgroup v1; without
# them a WARNING says the OOM session is a posted fixture).
# Screenshots go to build/test-output/dashboard/, the sample app's output to
# build/test-logs/dashboard/fill/.
# Prints "dashboard: N passed, M failed" last; exits non-zero on failure.
# Usage: scripts/dashboard-test.sh   (needs node >= 20, npm, chromium and the
#   build dependencies of the collector and the SDK: scripts/deps.sh)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${MEMGAUGE_DASHBOARD_BUILD:-build/collector-dash}"
SDK_BUILD="${MEMGAUGE_DASHBOARD_SDK_BUILD:-build/dashboard-sdk}"
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

echo "== build memgauge-sample into $SDK_BUILD"
{ cmake -S . -B "$SDK_BUILD" -DMEMGAUGE_BUILD_TESTS=OFF -DMEMGAUGE_BUILD_BENCH=OFF \
    -DMEMGAUGE_BUILD_COLLECTOR=OFF && cmake --build "$SDK_BUILD" -j "$JOBS" --target memgauge-sample; } \
    >"$LOGS/build-sample.log" 2>&1 ||
    { tail -n 30 "$LOGS/build-sample.log"; fail_early "build failed (log: $LOGS/build-sample.log)"; }

echo "== node --test tests/dashboard"
export MEMGAUGE_COLLECTOR_BIN="$ROOT/$BUILD/memgauge-collector"
export MEMGAUGE_SAMPLE_BIN="$ROOT/$SDK_BUILD/sample-app/memgauge-sample"
export MEMGAUGE_FILL_LOGS="$LOGS/fill"
rm -rf "$LOGS/fill"
rm -f "$LOGS/tap.txt" # node appends to a file a longer earlier run left
node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$LOGS/tap.txt" \
    tests/dashboard/server.test.mjs tests/dashboard/dashboard.test.mjs tests/dashboard/verdicts.test.mjs
rc=$?
passed="$(grep -E '^# pass ' "$LOGS/tap.txt" | awk '{print $3}')"
failed="$(grep -E '^# fail ' "$LOGS/tap.txt" | awk '{print $3}')"
passed="${passed:-0}"
failed="${failed:-0}"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the runner itself failed (a crash before any test)
fi
[ -f "$LOGS/fill/summary.txt" ] && sed 's/^/  /' "$LOGS/fill/summary.txt"
if grep -q '^WARNING' "$LOGS/fill/summary.txt" 2>/dev/null; then
    echo "!!! WARNING: the dashboard was tested with a FIXTURE in place of the kernel's OOM kill:" >&2
    grep '^WARNING' "$LOGS/fill/summary.txt" | sed 's/^/!!! /' >&2
    # the kernel's OOM kill did not run: say so in the test command's summary
    [ -n "${MEMGAUGE_SKIP_LOG:-}" ] &&
        printf 'dashboard.kernel_killed_session\t%s\n' \
            "$(grep -m1 '^WARNING' "$LOGS/fill/summary.txt" | cut -c1-200)" >>"$MEMGAUGE_SKIP_LOG"
fi
echo "screenshots: build/test-output/dashboard/"
echo "dashboard: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
