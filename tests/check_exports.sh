#!/usr/bin/env bash
# Only memgauge_* (never memgauge__*) symbols may leave the shared library.
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
echo "exported: $(printf '%s\n' "$symbols" | wc -l) symbols, all memgauge_*, every public function present"
