/*
 * The crash-safe session record: a fixed-size file, memory-mapped and
 * updated in place every sample with plain stores (no system call), so that
 * whatever kills the process — SIGKILL, jetsam, the OOM killer — the last
 * state is already in the page cache.
 *
 * Layout (native byte order; every offset derives from the header):
 *
 *   header    magic "MGAUGREC", layout version, sizes, a hash of the header
 *   markers   8 x uint32: set by single atomic stores from any thread or a
 *             signal handler (clean stop, exit, crash, hang, app state)
 *   slot[2]   { seq, check, body }: the session's fields, written
 *             alternately; a write first zeroes seq, then fills the body,
 *             then stores check = hash(seq, body) and finally seq. A kill
 *             mid-write tears one slot; the other still holds the previous
 *             whole state.
 *   trail[N]  ring of the last N samples, each with its own check value,
 *             so a torn entry is dropped alone.
 *
 * The reader (memgauge__record_parse) works on a byte buffer and trusts
 * nothing in it: it is the target of the record fuzzer.
 */
#ifndef MEMGAUGE_RECORD_H
#define MEMGAUGE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <memgauge/memgauge.h>

#define MEMGAUGE__RECORD_MAGIC "MGAUGREC"
/* 2: os_build in the body (a version 1 record reads as BAD_VERSION) */
#define MEMGAUGE__RECORD_VERSION 2u
#define MEMGAUGE__RECORD_MAX_TRAIL 36000u /* 3600 s at 100 ms */

enum {
    MEMGAUGE__MARK_CLEAN_STOP = 0,
    MEMGAUGE__MARK_EXIT = 1,
    MEMGAUGE__MARK_CRASH = 2,           /* payload: signal number */
    MEMGAUGE__MARK_HANG = 3,            /* payload: nesting depth */
    MEMGAUGE__MARK_APP_STATE = 4,       /* payload: memgauge_app_state_t */
    MEMGAUGE__MARK_LAUNCH = 5,          /* payload: MEMGAUGE_LAUNCH_* flags */
    MEMGAUGE__MARK_THERMAL = 6,         /* payload: memgauge_thermal_t */
    MEMGAUGE__MARK_MEMORY_WARNINGS = 7, /* payload: count, saturating at 0xFFFF */
    MEMGAUGE__MARK_COUNT = 8
};

/* A marker word is tag | payload; anything else reads as "not set". */
#define MEMGAUGE__MARK_TAG UINT32_C(0x4D470000)
#define MEMGAUGE__MARK_SET(payload) (MEMGAUGE__MARK_TAG | ((uint32_t)(payload)&0xFFFFu))

/* The session's fields, as one slot holds them. */
typedef struct memgauge__record_body_s {
    uint8_t session_id[16];
    uint64_t pid;
    uint64_t start_wall_ns;
    uint64_t last_wall_ns;
    uint64_t samples;
    uint64_t interval_ms;
    uint64_t last_footprint;
    uint64_t last_resident;
    uint64_t kernel_peak;
    uint64_t session_peak;
    uint64_t limit;
    uint64_t available;
    uint64_t oom_kills;
    uint32_t has_oom_kills;
    uint32_t pressure;
    uint32_t debugger;
    uint32_t footprint_source;
    char app_id[64];
    char app_version[32];
    char app_build[32];
    char sdk_version[16];
    char boot_id[64];
    char os_version[128];
    char build_id[80];
    char device_model[64];
    char os_build[128];
} memgauge__record_body_t;

typedef struct memgauge__trail_entry_s {
    uint64_t seq; /* 0: never written */
    uint64_t wall_ns;
    uint64_t footprint;
    uint64_t resident;
    uint64_t available;
    uint64_t limit;
    uint64_t kernel_peak;
    uint32_t pressure;
    uint32_t reserved;
    uint64_t check; /* hash of everything above */
} memgauge__trail_entry_t;

/* FNV-1a, 64-bit: the record only needs to tell a torn write from a whole
 * one, which needs no CRC's burst-error guarantees. Written here so that the
 * record (and its fuzzer, scripts/fuzz.sh) needs no library: zlib's crc32
 * is linked only by the transport, for gzip. */
uint64_t memgauge__hash64(uint64_t h, const void *data, size_t len);
#define MEMGAUGE__HASH64_SEED UINT64_C(0xcbf29ce484222325)

/* A writable, mapped record. */
typedef struct memgauge__record_s {
    int fd;
    unsigned char *map;
    size_t size;
    uint32_t trail_capacity;
    _Atomic uint64_t writes; /* slot writes so far; read by memgauge_get_stats */
    _Atomic(uint32_t) *markers;
    unsigned char *slots;
    memgauge__trail_entry_t *trail;
} memgauge__record_t;

/* Bytes a record with this trail capacity occupies. */
size_t memgauge__record_size(uint32_t trail_capacity);

/* Creates `path` afresh (a temporary file of this process renamed over it,
 * so a kill leaves the old file or the new one) with all of its blocks
 * allocated (memgauge__platform_preallocate), maps it and writes `body` as
 * the first state: no later store into the mapping can fault for want of
 * disk space. Keeps the file locked (flock) while mapped. Returns 0 or -1
 * with errno set (ENOSPC: the disk cannot hold it; nothing is left behind). */
int memgauge__record_create(memgauge__record_t *r, const char *path, uint32_t trail_capacity,
                            const memgauge__record_body_t *body);

/* Test knob: replaces how records are preallocated (NULL: the platform's). */
void memgauge__record_set_preallocate(int (*fn)(int fd, uint64_t size));

/* One sample: the trail entry first, then the session fields. Plain stores
 * into the mapping. Only the sampler thread calls this. */
void memgauge__record_update(memgauge__record_t *r, const memgauge__record_body_t *body,
                             const memgauge__trail_entry_t *entry);

/* Sets marker `which` to `payload` (async-signal-safe). */
void memgauge__record_mark(_Atomic(uint32_t) *markers, int which, uint32_t payload);

/* Unmaps and closes. */
void memgauge__record_close(memgauge__record_t *r);

/* What a parse found. */
enum {
    MEMGAUGE__RECORD_OK = 0,
    MEMGAUGE__RECORD_BAD_MAGIC = 1,
    MEMGAUGE__RECORD_BAD_VERSION = 2,
    MEMGAUGE__RECORD_BAD_SIZE = 3,
    MEMGAUGE__RECORD_BAD_HEADER = 4,
    MEMGAUGE__RECORD_NO_WHOLE_SLOT = 5
};

typedef struct memgauge__record_view_s {
    memgauge__record_body_t body; /* from the newest whole slot */
    uint64_t slot_seq;
    uint32_t markers[MEMGAUGE__MARK_COUNT]; /* raw words; see memgauge__record_marker */
    size_t trail_count;                     /* entries written to the caller's buffer */
} memgauge__record_view_t;

/* Validates and reads a record image. Writes up to trail_cap whole trail
 * entries, oldest first, into trail. Returns MEMGAUGE__RECORD_OK or the
 * first reason it is not a record. Never reads outside buf[0 .. len). */
int memgauge__record_parse(const unsigned char *buf, size_t len, memgauge__record_view_t *out,
                           memgauge__trail_entry_t *trail, size_t trail_cap);

/* Whether marker `which` is set in a view, and its payload. */
int memgauge__record_marker(const memgauge__record_view_t *v, int which, uint32_t *payload);

#endif
