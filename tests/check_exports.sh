#!/usr/bin/env bash
# Only memgauge_* (never memgauge__*) symbols may leave the shared library,
# and it needs no JSON library: nothing of it can clash with an app's own
# copy of cJSON (issue 14).
set -euo pipefail
lib="$1"
symbols=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
[ -n "$symbols" ] || { echo "FAIL: $lib exports nothing"; exit 1; }
bad=$(printf '%s\n' "$symbols" | grep -Ev '^memgauge_[a-z]' || true)
if [ -n "$bad" ]; then
    echo "FAIL: $lib exports symbols outside the public API:"
    printf '  %s\n' $bad
    exit 1
fi
header="$(dirname "$0")/../sdk/include/memgauge/memgauge.h"
for fn in $(grep -oE 'MEMGAUGE_API [^(]*\bmemgauge_[a-z_]+\(' "$header" | grep -oE 'memgauge_[a-z_]+'); do
    printf '%s\n' "$symbols" | grep -qx "$fn" || { echo "FAIL: $fn is declared but not exported"; exit 1; }
done
json=$(nm -D --undefined-only "$lib" | awk '{print $NF}' | grep -E '^cJSON' || true)
if [ -n "$json" ]; then
    echo "FAIL: $lib needs cJSON symbols:"
    printf '  %s\n' $json
    exit 1
fi
if readelf -d "$lib" | grep -E 'NEEDED.*libcjson'; then
    echo "FAIL: $lib is linked against cJSON"
    exit 1
fi
echo "exported: $(printf '%s\n' "$symbols" | wc -l) symbols, all memgauge_*, every public function present; no cJSON"
