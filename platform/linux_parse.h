/*
 * Pure parsers for the Linux text interfaces (/proc and cgroup files). They
 * take a buffer and return numbers, so that they are tested on any input
 * without touching the kernel. No allocation, no stdio.
 */
#ifndef MEMGAUGE_LINUX_PARSE_H
#define MEMGAUGE_LINUX_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Values of /proc/<pid>/statm that the footprint needs, in pages. */
typedef struct memgauge__statm_s {
    uint64_t size;
    uint64_t resident;
    uint64_t shared;
} memgauge__statm_t;

/* Parses "size resident shared text lib data dt". Returns 0 or -1. */
int memgauge__parse_statm(const char *buf, size_t len, memgauge__statm_t *out);

/* Finds "Key:   123 kB" in /proc/<pid>/status or /proc/meminfo text and
 * stores 123 (kB) in *kb. `key` includes the colon, e.g. "VmSwap:".
 * Returns 0, or -1 when the key is absent or its value is malformed. */
int memgauge__parse_kb_field(const char *buf, size_t len, const char *key, uint64_t *kb);

/* Finds "key 123" (one per line, as in cgroup memory.stat). Returns 0 or -1. */
int memgauge__parse_keyed_u64(const char *buf, size_t len, const char *key, uint64_t *value);

/* A cgroup limit file: memory.max ("max" or a number) or
 * memory.limit_in_bytes (a number; v1 says "no limit" with a value near
 * 2^63). Stores the number, or UINT64_MAX for no limit. Returns 0 or -1. */
int memgauge__parse_cgroup_limit(const char *buf, size_t len, uint64_t *limit);

/* A plain decimal number followed by optional whitespace. Returns 0 or -1. */
int memgauge__parse_u64(const char *buf, size_t len, uint64_t *value);

/* Which memory cgroup the process is in, from /proc/self/cgroup: for v1 the
 * path of the hierarchy whose controllers include "memory", for v2 the path
 * of the "0::" line. Each is copied NUL-terminated into its buffer, or set to
 * "" when absent. Returns 0, or -1 when a path does not fit. */
int memgauge__parse_proc_cgroup(const char *buf, size_t len, char *v1_path, size_t v1_cap,
                                char *v2_path, size_t v2_cap);

enum { MEMGAUGE__CGROUP_V1 = 1, MEMGAUGE__CGROUP_V2 = 2 };

/* Finds in /proc/self/mountinfo text the mount of the given cgroup version
 * (v1: fstype "cgroup" with the "memory" super option; v2: fstype
 * "cgroup2") and writes its mount point and the root of the mount, octal
 * escapes decoded. Returns 0, or -1 when there is none or it does not fit. */
int memgauge__parse_cgroup_mount(const char *buf, size_t len, int version, char *mountpoint,
                                 size_t mp_cap, char *root, size_t root_cap);

/* Joins mount point and cgroup path into the cgroup's directory, removing the
 * mount's root prefix from the path (cgroup namespaces mount a subtree).
 * Returns 0, or -1 when the path is outside the mount or does not fit. */
int memgauge__cgroup_dir(const char *mountpoint, const char *root, const char *cgroup_path,
                         char *dir, size_t dir_cap);

#endif
