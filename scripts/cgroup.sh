#!/bin/sh
# Memory cgroups for the runs that let the kernel kill for memory
# (scripts/run.sh, tests/dashboard/fill.mjs); the C tests make theirs the same
# way in tests/support/kernel.c.
#
#   scripts/cgroup.sh make NAME LIMIT PID
#       Makes a memory cgroup NAME with LIMIT bytes and no swap to escape to,
#       and prints its directory. The v1 memory hierarchy first (unless
#       MEMGAUGE_TEST_HIDE_CGROUP_V1 is set), else v2 below PID's own cgroup:
#       there PID is first moved into a leaf memgauge-leaf-PID, since a cgroup
#       with processes cannot enable the memory controller for its children.
#       When it cannot, says why on stderr and exits 1.
#   scripts/cgroup.sh remove DIR
#       Removes the cgroup, waiting (1 s at most) while the kernel still
#       holds a killed task's charges.
#
# A process joins a cgroup by writing its pid to DIR/cgroup.procs.
set -eu

V1=/sys/fs/cgroup/memory

why() {
    echo "$*" >&2
    exit 1
}

make_v1() { # name limit
    [ -z "${MEMGAUGE_TEST_HIDE_CGROUP_V1:-}" ] && [ -w "$V1/cgroup.procs" ] || return 1
    mkdir "$V1/$1" 2>/dev/null || return 1
    if ! echo "$2" >"$V1/$1/memory.limit_in_bytes" 2>/dev/null; then
        rmdir "$V1/$1"
        return 1
    fi
    # v1 counts memory and swap together: without it limited too, a machine
    # with swap would page instead of killing
    if [ -w "$V1/$1/memory.memsw.limit_in_bytes" ]; then
        echo "$2" >"$V1/$1/memory.memsw.limit_in_bytes" 2>/dev/null || true
    fi
    echo "$V1/$1"
}

make_v2() { # name limit pid
    root=/sys/fs/cgroup
    [ -f "$root/cgroup.controllers" ] || root=/sys/fs/cgroup/unified
    grep -qw memory "$root/cgroup.controllers" 2>/dev/null ||
        why "no v1 memory hierarchy${MEMGAUGE_TEST_HIDE_CGROUP_V1:+ (hidden)} and no memory controller in v2 ($root)"
    self="$(awk -F: '$1 == "0" { print $3 }' "/proc/$3/cgroup")"
    parent="$root${self%/}"
    if ! grep -qw memory "$parent/cgroup.subtree_control"; then
        { mkdir -p "$parent/memgauge-leaf-$3" && echo "$3" >"$parent/memgauge-leaf-$3/cgroup.procs" &&
            echo +memory >"$parent/cgroup.subtree_control"; } 2>/dev/null ||
            why "cannot enable the v2 memory controller below $parent"
    fi
    mkdir "$parent/$1" 2>/dev/null || why "mkdir in $parent refused"
    echo "$2" >"$parent/$1/memory.max" || why "cannot write $parent/$1/memory.max"
    echo 0 >"$parent/$1/memory.swap.max" 2>/dev/null || true
    echo "$parent/$1"
}

case "${1:-}" in
make)
    [ $# -eq 4 ] || why "usage: $0 make NAME LIMIT PID"
    [ "$(id -u)" -eq 0 ] || why "not root"
    make_v1 "$2" "$3" || make_v2 "$2" "$3" "$4"
    ;;
remove)
    [ $# -eq 2 ] || why "usage: $0 remove DIR"
    i=0
    while ! rmdir "$2" 2>/dev/null && [ -d "$2" ] && [ $i -lt 50 ]; do
        sleep 0.02
        i=$((i + 1))
    done
    ;;
*)
    why "usage: $0 make NAME LIMIT PID | remove DIR"
    ;;
esac
