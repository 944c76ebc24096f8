#!/usr/bin/env bash
# Proves the arrows between the SDK's layers (docs/design.md, "Layers"):
# sdk -> platform, sdk -> transport, everything -> base; platform sees only
# the public header and base; transport and base see no other layer.
#
# CMakeLists.txt defines one probe target per (layer, header) pair, never
# built by default, that compiles cmake/layer-probe.c including that header
# with exactly the include directories of that layer's object library. An
# allowed arrow must compile; a forbidden one must fail because the header
# itself is not found (any other failure, such as a header it includes not
# being found, is reported as wrong). The probes that must
# compile show that a failure is the missing directory, not a broken probe.
#
# Usage: scripts/layer-check.sh   (from any directory; builds in build/layer-check)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build/layer-check"

die() {
    echo "layer-check: $*" >&2
    exit 1
}

cmake -S "$ROOT" -B "$OUT" -DMEMGAUGE_BUILD_TESTS=OFF -DMEMGAUGE_BUILD_BENCH=OFF \
    -DMEMGAUGE_BUILD_SAMPLE=OFF -DMEMGAUGE_BUILD_COLLECTOR=OFF >"$OUT.configure.log" 2>&1 ||
    die "cmake configure failed (see $OUT.configure.log)"
[[ -s "$OUT/layer-probes.txt" ]] || die "no probes in $OUT/layer-probes.txt"

checked=0
failed=0
while IFS=: read -r target header expect; do
    [[ -n "$target" ]] || continue
    log="$OUT/$target.log"
    if cmake --build "$OUT" --target "$target" >"$log" 2>&1; then
        got=ok
    elif grep -qF -e "'$header' file not found" -e "$header: No such file or directory" "$log"; then
        got=fail
    else
        echo "layer-check: $target failed, but not because $header itself is out of reach:" >&2
        cat "$log" >&2
        failed=$((failed + 1))
        checked=$((checked + 1))
        continue
    fi
    if [[ "$got" != "$expect" ]]; then
        if [[ "$expect" == fail ]]; then
            echo "layer-check: $target compiled: that layer can see a header it must not" >&2
        else
            echo "layer-check: $target did not compile: that layer cannot see a header it needs" >&2
            cat "$log" >&2
        fi
        failed=$((failed + 1))
    fi
    checked=$((checked + 1))
done <"$OUT/layer-probes.txt"

((failed == 0)) || die "$failed of $checked probe(s) wrong"
echo "layer-check: OK ($checked probes: every allowed arrow compiles, every other one is refused)"
