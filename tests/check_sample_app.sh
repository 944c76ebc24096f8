#!/usr/bin/env bash
# The sample app's command line: bad arguments exit 2 with a usage message,
# a short real run prints progress and a final summary.
set -euo pipefail
app="$1"
fail() { echo "FAIL: $*"; exit 1; }

expect_usage() {
    local out rc=0
    out=$("$app" "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2"
    printf '%s' "$out" | grep -qi usage || fail "'$*' printed no usage message"
}
expect_usage --scenario nonsense
expect_usage --duration abc
expect_usage --duration -5
expect_usage --interval-ms 0
expect_usage --no-such-option

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
out=$("$app" --scenario leak --duration 3 --interval-ms 100 --state-dir "$state")
printf '%s\n' "$out" | grep -q '^previous verdict=none' || fail "a fresh state dir must say verdict=none"
again=$("$app" --scenario steady --duration 1 --interval-ms 100 --state-dir "$state")
printf '%s\n' "$again" | grep -q '^previous verdict=clean_stop' || fail "the run after a clean one must say clean_stop: $again"
expect_usage --state-dir ''
lines=$(printf '%s\n' "$out" | grep -c 'footprint' || true)
[ "$lines" -ge 2 ] || fail "expected progress lines, got: $out"
final=$(printf '%s\n' "$out" | grep '^final ') || fail "no final summary line"
samples=$(printf '%s\n' "$final" | grep -oE 'samples=[0-9]+' | cut -d= -f2)
[ "$samples" -ge 20 ] || fail "3 s at 100 ms gave only $samples samples"
echo "sample app: usage errors exit 2; a 3 s leak run took $samples samples"
