#!/usr/bin/env bash
# Installs the library into a scratch prefix, then builds three consumers the
# way users would: CMake find_package(memgauge), pkg-config, and a C++
# program (the header must work from C++ with extern "C").
set -euo pipefail
src="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

cmake -S "$src" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$prefix" -DMEMGAUGE_BUILD_TESTS=OFF \
    -DMEMGAUGE_BUILD_BENCH=OFF -DMEMGAUGE_BUILD_SAMPLE=OFF -DMEMGAUGE_BUILD_COLLECTOR=OFF >"$work/log" 2>&1
cmake --build "$work/build" -j2 >>"$work/log" 2>&1
cmake --install "$work/build" >>"$work/log" 2>&1

cat >"$work/consumer.c" <<'C'
#include <memgauge/memgauge.h>
#include <stdio.h>
int main(void)
{
    memgauge_reading_t r;
    if (memgauge_read(&r) != 0 || r.footprint_bytes == 0)
        return 1;
    printf("%s %llu\n", memgauge_version(), (unsigned long long)r.footprint_bytes);
    return 0;
}
C
cp "$work/consumer.c" "$work/consumer.cpp"

mkdir -p "$work/cmake-consumer"
cat >"$work/cmake-consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(consumer C CXX)
find_package(memgauge 0.1 REQUIRED)
add_executable(consumer_c ../consumer.c)
target_link_libraries(consumer_c PRIVATE memgauge::memgauge)
add_executable(consumer_static ../consumer.c)
target_link_libraries(consumer_static PRIVATE memgauge::memgauge_static)
add_executable(consumer_cxx ../consumer.cpp)
target_link_libraries(consumer_cxx PRIVATE memgauge::memgauge)
CM
cmake -S "$work/cmake-consumer" -B "$work/cmake-consumer/build" \
    -DCMAKE_PREFIX_PATH="$prefix" >>"$work/log" 2>&1
cmake --build "$work/cmake-consumer/build" >>"$work/log" 2>&1
for exe in consumer_c consumer_static consumer_cxx; do
    "$work/cmake-consumer/build/$exe" >/dev/null || { echo "FAIL: $exe did not run"; exit 1; }
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
cc -std=c11 -Wall -Werror "$work/consumer.c" -o "$work/pc_consumer" \
    $(pkg-config --cflags --libs memgauge) -Wl,-rpath,"$(pkg-config --variable=libdir memgauge)"
"$work/pc_consumer" >/dev/null || { echo "FAIL: pkg-config consumer did not run"; exit 1; }
echo "package: find_package (shared, static, C++) and pkg-config consumers build and run"
