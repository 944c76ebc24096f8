#!/usr/bin/env bash
# Runs every test: formatting, a -Werror build with the whole suite, the suite
# again under AddressSanitizer+UBSan, the threaded parts under
# ThreadSanitizer, valgrind memcheck on the sampler, the Darwin compile and
# link check, a bounded libFuzzer run over the session record reader, a smoke
# run of the benchmark, and the collector's own suite
# (SQLite and a throwaway PostgreSQL, ASan+UBSan, a bounded fuzz run) and the
# dashboard's tests in headless Chromium against the real collector, and the
# README's main job end to end (scripts/run.sh, checked through the API).
# Exits non-zero on any failure.
# Usage: scripts/test.sh   (as root on a fresh machine: installs what it needs)
# Real-kernel checks that cannot run are skipped by name and listed at the
# end; MEMGAUGE_TEST_HIDE_CGROUP_V1=1 shows what a cgroup-v2-only host runs.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS="$ROOT/build/test-logs"
mkdir -p "$LOGS"
JOBS="$(nproc 2>/dev/null || echo 2)"
passed=0
failed=0
failed_steps=()
# Every real-kernel check that could not run names itself here
# (tests/support/kernel.h); the summary lists them.
export MEMGAUGE_SKIP_LOG="$LOGS/kernel-skips.txt"
: >"$MEMGAUGE_SKIP_LOG"

step() {
    local name="$1"
    shift
    local start=$SECONDS
    if "$@" >"$LOGS/$name.log" 2>&1; then
        passed=$((passed + 1))
        printf '[PASS] %-22s %4ss  %s\n' "$name" $((SECONDS - start)) "$(tail -n 1 "$LOGS/$name.log")"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        printf '[FAIL] %-22s %4ss  (log: build/test-logs/%s.log)\n' "$name" $((SECONDS - start)) "$name"
        tail -n 40 "$LOGS/$name.log" | sed 's/^/    /'
    fi
}

sources() {
    git ls-files --cached --others --exclude-standard '*.c' '*.h'
}

format_check() {
    # shellcheck disable=SC2046
    clang-format --dry-run -Werror $(sources) && echo "clang-format: $(sources | wc -l) files clean"
}

configure_build() {
    local dir="$1"
    shift
    cmake -S "$ROOT" -B "$dir" -DMEMGAUGE_WERROR=ON "$@" &&
        cmake --build "$dir" -j "$JOBS"
}

run_ctest() {
    ctest --test-dir "$1" --output-on-failure -j 1 --timeout 600 "${@:2}"
}

# The collector has its own script (its own builds, a PostgreSQL server, a
# fuzzer): the SDK builds leave it out.
build_gcc() {
    configure_build build/gcc -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DMEMGAUGE_BUILD_COLLECTOR=OFF
}
test_gcc() { run_ctest build/gcc; }

build_asan() {
    configure_build build/asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DMEMGAUGE_SANITIZE=address,undefined -DMEMGAUGE_BUILD_BENCH=OFF \
        -DMEMGAUGE_BUILD_COLLECTOR=OFF
}
test_asan() {
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_ctest build/asan
}

build_tsan() {
    configure_build build/tsan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DMEMGAUGE_SANITIZE=thread -DMEMGAUGE_BUILD_BENCH=OFF -DMEMGAUGE_BUILD_SAMPLE=OFF \
        -DMEMGAUGE_BUILD_COLLECTOR=OFF
}
test_tsan() { run_ctest build/tsan -L threaded; }

memcheck() {
    # --fair-sched: valgrind runs one thread at a time, and without it a
    # thread that spins can starve the sampler for hundreds of milliseconds
    local vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
        --show-leak-kinds=definite,indirect --fair-sched=yes -q)
    "${vg[@]}" --child-silent-after-fork=yes build/gcc/tests/stress_threads &&
        "${vg[@]}" --trace-children=yes build/gcc/tests/test_sampler --jobs 1
}

darwin_check() { scripts/darwin-check.sh; }

# The Apple package (after darwin-check, whose zig and objects they use):
# Package.swift against the Apple source list and as clang modules, the
# privacy manifest against the required-reason symbols the objects use, and
# the Objective-C glue against a stand-in Foundation header.
apple_checks() {
    scripts/apple-manifest-check.sh && scripts/apple-privacy-check.sh && scripts/apple-glue-check.sh
}

fuzz_record() { scripts/fuzz.sh "${MEMGAUGE_FUZZ_SECONDS:-60}"; }

bench_smoke() {
    build/gcc/bench/sample_cost --quick && build/gcc/bench/wire_size --quick &&
        build/gcc/bench/verdicts --quick
}

# The transport end to end against the real memgauge-collector (built from
# the root with the collector on), then a bounded fuzz run over the spool
# reader (libFuzzer + ASan + UBSan; new inputs go to build/fuzz/spool-work).
transport_e2e() {
    cmake -S "$ROOT" -B build/transport-e2e -DMEMGAUGE_WERROR=ON -DCMAKE_C_COMPILER=gcc \
        -DMEMGAUGE_BUILD_BENCH=OFF &&
        cmake --build build/transport-e2e -j "$JOBS" --target test_transport_collector &&
        run_ctest build/transport-e2e -R '^test_transport_collector$'
}

fuzz_spool() {
    local out=build/fuzz
    mkdir -p "$out/spool-work"
    clang -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Itransport -Ibase \
        tests/fuzz/fuzz_spool.c transport/spool.c transport/encode.c transport/json_out.c \
        base/uuid.c base/clock.c -lz \
        -o "$out/fuzz_spool" &&
        "$out/fuzz_spool" -max_total_time=30 -timeout=10 -artifact_prefix="$out/" \
            "$out/spool-work" tests/fuzz/corpus/spool 2>"$out/fuzz_spool.log" &&
        echo "fuzz_spool: $(grep -c '' "$out/fuzz_spool.log") log lines, $(tail -n 1 "$out/fuzz_spool.log")"
}

# A bounded libFuzzer run over the SDK's JSON writer: what it writes, cJSON
# parses back to the same values.
fuzz_json_out() {
    local out=build/fuzz
    mkdir -p "$out/json-work"
    clang -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Itransport \
        tests/fuzz/fuzz_json_out.c transport/json_out.c -lcjson -o "$out/fuzz_json_out" &&
        "$out/fuzz_json_out" -max_total_time=30 -timeout=10 -artifact_prefix="$out/" \
            "$out/json-work" tests/fuzz/corpus/json_out 2>"$out/fuzz_json_out.log" &&
        echo "fuzz_json_out: $(tail -n 1 "$out/fuzz_json_out.log")"
}

step deps scripts/deps.sh
step format format_check
step build-gcc-werror build_gcc
step test-gcc test_gcc
step build-asan-ubsan build_asan
step test-asan-ubsan test_asan
step fuzz-record fuzz_record
step build-tsan build_tsan
step test-tsan test_tsan
step valgrind-memcheck memcheck
step layer-check scripts/layer-check.sh
step darwin-check darwin_check
step apple-checks apple_checks
step bench-smoke bench_smoke
step transport-e2e transport_e2e
step fuzz-spool fuzz_spool
step fuzz-json-out fuzz_json_out
step collector scripts/collector-test.sh
step dashboard scripts/dashboard-test.sh
step main-job scripts/main-job-test.sh

echo
skipped="$(cut -f1 "$MEMGAUGE_SKIP_LOG" | sort -u)"
if [ -n "$skipped" ]; then
    echo "skipped real-kernel checks: $(echo "$skipped" | wc -l) (not counted as passed; why: build/test-logs/kernel-skips.txt)"
    echo "$skipped" | sed 's/^/  - /'
else
    echo "skipped real-kernel checks: 0"
fi
if [ "$failed" -ne 0 ]; then
    echo "failed steps: ${failed_steps[*]}"
fi
echo "memgauge tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
