#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages (run as
# root on Debian 12). Idempotent: installs only what is missing.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config git
    clang clang-format libclang-rt-14-dev valgrind binutils
    llvm-14
    libcjson-dev libcurl4-openssl-dev zlib1g-dev
    libcriterion-dev
    libmicrohttpd-dev libsqlite3-dev libpq-dev postgresql python3-jsonschema
    prometheus # tests/collector/prometheus-scrape.sh runs the binary on its own port
    chromium
    nodejs npm
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from elsewhere than Debian; what matters is that they run.
if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=()
    for p in "${missing[@]}"; do
        [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p")
    done
    missing=("${filtered[@]}")
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "deps: all present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${missing[*]}; run as root: sudo $0" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed"
