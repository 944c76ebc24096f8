#!/usr/bin/env bash
# Runs every collector test: formatting, the wire-format corpus against the
# JSON Schema, a -Werror build with the whole suite on SQLite and on a
# throwaway PostgreSQL server, two collectors sharing traffic on that server,
# the suite again under AddressSanitizer+UBSan,
# the libFuzzer target for a bounded time, a short ingest benchmark, and the
# abuse suite's measured figures.
# Prints "collector: N passed, M failed" last; exits non-zero on any failure.
# Usage: scripts/collector-test.sh   (as root on a fresh Debian 12: installs what it needs)
#   FUZZ_SECONDS=60  how long the fuzzer runs
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS="$ROOT/build/test-logs/collector"
mkdir -p "$LOGS"
JOBS="$(nproc 2>/dev/null || echo 2)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
# Debian's interpreter, which python3-jsonschema installs into; a python3
# earlier on PATH (pyenv, a venv) may lack it.
PY=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null && PY=/usr/bin/python3
PGDIR="$ROOT/build/collector-pg"
PGURL=""
passed=0
failed=0
failed_steps=()

step() {
    local name="$1"
    shift
    local start=$SECONDS
    if "$@" >"$LOGS/$name.log" 2>&1; then
        passed=$((passed + 1))
        printf '[PASS] %-20s %4ss  %s\n' "$name" $((SECONDS - start)) "$(tail -n 1 "$LOGS/$name.log")"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        printf '[FAIL] %-20s %4ss  (log: build/test-logs/collector/%s.log)\n' "$name" \
            $((SECONDS - start)) "$name"
        tail -n 40 "$LOGS/$name.log" | sed 's/^/    /'
    fi
}

deps() {
    local packages=(build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
        libmicrohttpd-dev libsqlite3-dev libpq-dev postgresql libcjson-dev zlib1g-dev
        libcriterion-dev libcurl4-openssl-dev python3-jsonschema prometheus)
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    # a jsonschema importable from elsewhere (pip) serves as well
    if "$PY" -c 'import jsonschema' 2>/dev/null; then
        local kept=()
        for p in "${missing[@]}"; do [[ "$p" == python3-jsonschema ]] || kept+=("$p"); done
        missing=("${kept[@]}")
    fi
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "deps: all present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: missing ${missing[*]}; run as root" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null &&
        echo "deps: installed ${missing[*]}"
}

collector_sources() {
    git ls-files --cached --others --exclude-standard 'collector/*.c' 'collector/*.h' \
        'tests/collector/*.c' 'tests/collector/*.h'
}

format_check() {
    # shellcheck disable=SC2046
    clang-format --dry-run -Werror $(collector_sources) &&
        echo "clang-format: $(collector_sources | wc -l) files clean"
}

# valid_*/with_* pass the schema, bad_* fail it (or are not JSON), cross_* pass
# it (their fault is a cross-field rule); test_wire_parse checks the collector
# judges the same files the same way.
schema_check() {
    "$PY" - "$ROOT" <<'PY'
import glob, json, os, re, sys
import jsonschema
root = sys.argv[1]
schema = json.load(open(f"{root}/docs/wire-format.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
doc = open(f"{root}/docs/wire-format.md").read()
example = json.loads(re.search(r"```json\n(.*?)```", doc, re.S).group(1))
errors = list(v.iter_errors(example))
assert not errors, f"docs/wire-format.md example: {errors[0].message}"
bad = 0
files = sorted(glob.glob(f"{root}/tests/collector/corpus/*.json"))
for f in files:
    name = os.path.basename(f)
    try:
        valid = not list(v.iter_errors(json.load(open(f))))
    except (ValueError, RecursionError):
        valid = False
    want = not name.startswith("bad_")
    if valid != want:
        bad += 1
        print(f"{name}: schema says {'valid' if valid else 'invalid'}")
print(f"schema: {len(files) - bad} of {len(files)} corpus files judged as named, example valid")
sys.exit(1 if bad else 0)
PY
}

# the throwaway server: scripts/pg-throwaway.sh (initdb, a free port, fsync=off)
pg_start() {
    PGURL="$(scripts/pg-throwaway.sh start "$PGDIR" | tail -n 1)" && [ -n "$PGURL" ] &&
        echo "postgres: throwaway server on $PGURL"
}

pg_stop_quiet() { scripts/pg-throwaway.sh stop "$PGDIR"; }
trap pg_stop_quiet EXIT

configure_build() {
    local dir="$1"
    shift
    cmake -S "$ROOT/collector" -B "$dir" -DMEMGAUGE_WERROR=ON \
        -DMEMGAUGE_COLLECTOR_TEST_PG="$PGURL" "$@" && cmake --build "$dir" -j "$JOBS"
}

# one line per test binary; the summary is the last line
run_ctest() {
    ctest --test-dir "$1" --output-on-failure -j 1 --timeout 300 "${@:2}"
}

build_gcc() { configure_build build/collector -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo; }
test_gcc() { run_ctest build/collector; }

build_asan() {
    configure_build build/collector-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DMEMGAUGE_SANITIZE=address,undefined -DMEMGAUGE_COLLECTOR_BENCH=OFF
}
test_asan() {
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_ctest build/collector-asan
}

fuzz() {
    cmake -S "$ROOT/collector" -B build/collector-fuzz -DCMAKE_C_COMPILER=clang \
        -DCMAKE_BUILD_TYPE=Debug -DMEMGAUGE_WERROR=ON -DMEMGAUGE_SANITIZE=address,undefined \
        -DMEMGAUGE_COLLECTOR_FUZZ=ON -DMEMGAUGE_COLLECTOR_TESTS=OFF \
        -DMEMGAUGE_COLLECTOR_BENCH=OFF >/dev/null &&
        cmake --build build/collector-fuzz -j "$JOBS" --target fuzz_ingest || return 1
    rm -rf build/collector-fuzz/work && mkdir -p build/collector-fuzz/work
    # the seed corpus stays untouched: new inputs go to work/
    (cd build/collector-fuzz &&
        ./fuzz_ingest -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -print_final_stats=1 \
            -dict="$ROOT/tests/collector/fuzz.dict" work "$ROOT/tests/collector/corpus") 2>&1 |
        tail -n 15 || return 1
    echo "fuzz: ${FUZZ_SECONDS} s without a crash"
}

bench_smoke() { build/collector/bench/ingest --quick; }

# Several collectors on the throwaway PostgreSQL sharing the traffic, some
# batches sent to both at once: every batch stored once, the rollups exact
# (a MISS exits non-zero). The figures are docs/performance.md's.
fleet_smoke() {
    build/collector/bench/ingest --db "$PGURL" --collectors 2 --batches 400 --clients 8 --resend-every 4 \
        --windows 2 --per-window 10
}

# The abuse suite (tests/collector/test_abuse.c) runs in both ctest steps;
# once more here on the release build for its figures, which
# docs/collector.md quotes ("What an attacker ... can cost us").
abuse_figures() {
    local out rc
    out="$(build/collector/tests/test_abuse --jobs 1 2>&1)"
    rc=$?
    grep '^abuse:' <<<"$out"
    grep -E '^\[(FAIL|----)\]' <<<"$out" | head -n 40
    grep 'Synthesis' <<<"$out" | tail -n 1
    return "$rc"
}

# OTLP export against an independent decoder (tests/otlp: node, with
# @opentelemetry/otlp-transformer from its package-lock.json)
otlp_test() {
    command -v node >/dev/null && command -v npm >/dev/null || {
        echo "otlp: node and npm are needed (scripts/deps.sh)" >&2
        return 1
    }
    npm ci --prefix tests/otlp --no-audit --no-fund --loglevel=error >/dev/null || return 1
    # the release build, then the sanitized one (a report fails the test)
    local build
    for build in collector collector-asan; do
        echo "otlp: build/$build"
        ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            MEMGAUGE_COLLECTOR_BIN="$ROOT/build/$build/memgauge-collector" MEMGAUGE_TEST_PG="$PGURL" \
            node --test tests/otlp/otlp.test.mjs 2>&1 |
            grep -E '^# (otlp:|pass|fail)|^not ok|^ +(error|expected|actual):'
        [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    done
}

# /metrics scraped by a real Prometheus (Debian's) under load
prometheus_scrape() { tests/collector/prometheus-scrape.sh "$ROOT/build/collector"; }

step deps deps
step format format_check
step schema schema_check
step postgres-start pg_start
step build-gcc-werror build_gcc
step test-gcc test_gcc
step fleet-smoke fleet_smoke
step build-asan-ubsan build_asan
step test-asan-ubsan test_asan
step fuzz fuzz
step bench-smoke bench_smoke
step abuse abuse_figures
step otlp otlp_test
step prometheus prometheus_scrape

pg_stop_quiet
echo
if [ "$failed" -ne 0 ]; then
    echo "failed steps: ${failed_steps[*]}"
fi
echo "collector: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
