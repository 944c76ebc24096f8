#!/usr/bin/env bash
# Builds the session record fuzzer (clang, libFuzzer + AddressSanitizer +
# UBSan) from the two files it exercises, runs it for a bounded time over the
# seed corpus in tests/fuzz/corpus/record/, and exits non-zero on any crash,
# hang (-timeout) or sanitizer report. The seed corpus is never written: new
# inputs go to build/fuzz/record-work/, crashing ones to build/fuzz/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS]   (default 60)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${1:-60}"
if ! [[ "$DURATION" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS]   (a whole number of seconds, default 60)" >&2
    exit 2
fi
# A single input that takes longer than this is reported as a hang.
PER_INPUT_TIMEOUT_S=10

OUT="$ROOT/build/fuzz"
SEEDS="$ROOT/tests/fuzz/corpus/record"
WORK="$OUT/record-work"
ARTIFACTS="$OUT/artifacts"
BIN="$OUT/fuzz_record"
LOG="$OUT/fuzz_record.log"
mkdir -p "$WORK" "$ARTIFACTS"

# memgauge__record_parse and memgauge__diagnose need nothing but these two;
# creating a record needs the platform's preallocation (file_*.c).
clang -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$ROOT/sdk/include" -I"$ROOT/sdk" -I"$ROOT/platform" -I"$ROOT/base" \
    "$ROOT/tests/fuzz/fuzz_record.c" "$ROOT/sdk/record.c" "$ROOT/sdk/diagnose.c" \
    "$ROOT/platform/file_linux.c" "$ROOT/platform/file_common.c" "$ROOT/base/clock.c" "$ROOT/base/uuid.c" \
    -o "$BIN" || {
    echo "fuzz_record: build failed"
    exit 1
}

before=$(find "$ARTIFACTS" -type f | wc -l)
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$BIN" -max_total_time="$DURATION" -timeout="$PER_INPUT_TIMEOUT_S" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS/" "$WORK" "$SEEDS" >"$LOG" 2>&1
status=$?
crashes=$(($(find "$ARTIFACTS" -type f | wc -l) - before))
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)
if [ -z "$runs" ]; then
    runs=$(grep -oE '^#[0-9]+' "$LOG" | tail -n 1 | tr -d '#')
fi
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    [ "$crashes" -eq 0 ] && crashes=1 # a failure that left no artifact still counts
    grep -E 'ERROR|runtime error|fuzz_record:|SUMMARY|Test unit written|deadly signal|timeout' \
        "$LOG" | head -n 30
    echo "reproduce: $BIN <artifact>   (full log: $LOG)"
    echo "fuzz_record: ${runs:-0} runs, $crashes crashes"
    exit 1
fi
echo "fuzz_record: ${runs:-0} runs, 0 crashes"
