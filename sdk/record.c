/* The crash-safe session record. See record.h for the layout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform.h"
#include "record.h"

/* How a new record's blocks are allocated (a test knob replaces it). */
static int (*g_preallocate)(int fd, uint64_t size) = memgauge__platform_preallocate;

void memgauge__record_set_preallocate(int (*fn)(int fd, uint64_t size))
{
    g_preallocate = fn != NULL ? fn : memgauge__platform_preallocate;
}

typedef struct header_s {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint32_t body_size;
    uint32_t entry_size;
    uint32_t trail_capacity;
    uint32_t reserved;
    uint64_t total_size;
    uint64_t check; /* hash of the fields above */
} header_t;

typedef struct slot_s {
    uint64_t seq; /* 0 while being written */
    uint64_t check;
    memgauge__record_body_t body;
} slot_t;

enum {
    HEADER_BYTES = 64,
    MARKER_BYTES = 64,
};

_Static_assert(sizeof(header_t) <= HEADER_BYTES, "header fits its block");
_Static_assert(MEMGAUGE__MARK_COUNT * sizeof(uint32_t) <= MARKER_BYTES, "markers fit");

uint64_t memgauge__hash64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static size_t slots_offset(void)
{
    return HEADER_BYTES + MARKER_BYTES;
}

static size_t trail_offset(void)
{
    return slots_offset() + 2 * sizeof(slot_t);
}

size_t memgauge__record_size(uint32_t trail_capacity)
{
    return trail_offset() + (size_t)trail_capacity * sizeof(memgauge__trail_entry_t);
}

static uint64_t header_check(const header_t *h)
{
    return memgauge__hash64(MEMGAUGE__HASH64_SEED, h, offsetof(header_t, check));
}

static uint64_t slot_check(uint64_t seq, const memgauge__record_body_t *body)
{
    uint64_t h = memgauge__hash64(MEMGAUGE__HASH64_SEED, &seq, sizeof seq);
    return memgauge__hash64(h, body, sizeof *body);
}

static uint64_t entry_check(const memgauge__trail_entry_t *e)
{
    return memgauge__hash64(MEMGAUGE__HASH64_SEED, e, offsetof(memgauge__trail_entry_t, check));
}

static void write_slot(slot_t *slot, uint64_t seq, const memgauge__record_body_t *body)
{
    /* seq 0 marks the slot as being written; the release fences order the
     * stores as a reader after a kill may observe them (the page cache
     * keeps them in program order for a single writer, the fences keep the
     * compiler from reordering). */
    atomic_store_explicit((_Atomic uint64_t *)&slot->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    slot->body = *body;
    slot->check = slot_check(seq, body);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit((_Atomic uint64_t *)&slot->seq, seq, memory_order_relaxed);
}

int memgauge__record_create(memgauge__record_t *r, const char *path, uint32_t trail_capacity,
                            const memgauge__record_body_t *body)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    if (trail_capacity > MEMGAUGE__RECORD_MAX_TRAIL) {
        errno = EINVAL;
        return -1;
    }
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t size = memgauge__record_size(trail_capacity);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    /* class D before the first byte: a locked device keeps it open to us */
    (void)memgauge__platform_protect_file(fd);
    unsigned char *map = MAP_FAILED;
    /* Every block is allocated before the file is mapped: a sparse file
     * would get its pages backed only when first stored to, and on a full
     * disk that store is a SIGBUS in the app (issue 13). */
    int prc = g_preallocate(fd, (uint64_t)size);
    if (prc != 0) {
        errno = prc;
        goto fail;
    }
    if ((map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
        goto fail;

    header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MEMGAUGE__RECORD_MAGIC, sizeof h.magic);
    h.version = MEMGAUGE__RECORD_VERSION;
    h.header_size = HEADER_BYTES;
    h.body_size = sizeof(memgauge__record_body_t);
    h.entry_size = sizeof(memgauge__trail_entry_t);
    h.trail_capacity = trail_capacity;
    h.total_size = size;
    h.check = header_check(&h);
    memcpy(map, &h, sizeof h);

    r->fd = fd;
    r->map = map;
    r->size = size;
    r->trail_capacity = trail_capacity;
    r->markers = (_Atomic(uint32_t) *)(map + HEADER_BYTES);
    r->slots = map + slots_offset();
    r->trail = (memgauge__trail_entry_t *)(map + trail_offset());
    /* write n goes to slot n & 1: the first state to slot 1, so that the
     * first update (write 2, slot 0) cannot tear the only whole copy */
    atomic_store(&r->writes, 1);
    write_slot((slot_t *)r->slots + 1, 1, body);

    /* The lock tells a second process of the same app that this one is
     * alive; it is taken before the file has its name, so nobody can find
     * the record unlocked. The new file replaces the old only once it is a
     * whole record. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fsync(fd) != 0 || rename(tmp, path) != 0)
        goto fail;
    return 0;

fail:;
    int saved = errno;
    if (map != MAP_FAILED)
        munmap(map, size);
    close(fd);
    unlink(tmp);
    memset(r, 0, sizeof *r);
    r->fd = -1;
    errno = saved;
    return -1;
}

void memgauge__record_update(memgauge__record_t *r, const memgauge__record_body_t *body,
                             const memgauge__trail_entry_t *entry)
{
    if (r->map == NULL)
        return;
    if (r->trail_capacity != 0 && entry != NULL) {
        memgauge__trail_entry_t *e = &r->trail[entry->seq % r->trail_capacity];
        atomic_store_explicit((_Atomic uint64_t *)&e->seq, 0, memory_order_relaxed);
        atomic_thread_fence(memory_order_release);
        memgauge__trail_entry_t copy = *entry;
        copy.check = entry_check(&copy);
        memcpy((char *)e + sizeof e->seq, (const char *)&copy + sizeof copy.seq,
               sizeof copy - sizeof copy.seq);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit((_Atomic uint64_t *)&e->seq, copy.seq, memory_order_relaxed);
    }
    uint64_t seq = atomic_fetch_add_explicit(&r->writes, 1, memory_order_relaxed) + 1;
    write_slot((slot_t *)r->slots + (seq & 1), seq, body);
}

void memgauge__record_mark(_Atomic(uint32_t) *markers, int which, uint32_t payload)
{
    if (markers != NULL && which >= 0 && which < MEMGAUGE__MARK_COUNT)
        atomic_store_explicit(&markers[which], MEMGAUGE__MARK_SET(payload), memory_order_release);
}

void memgauge__record_close(memgauge__record_t *r)
{
    if (r->map != NULL)
        munmap(r->map, r->size);
    if (r->fd >= 0)
        close(r->fd); /* also releases the flock */
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

/* ---- reading ------------------------------------------------------------- */

static int read_slot(const unsigned char *p, memgauge__record_body_t *body, uint64_t *seq)
{
    slot_t s;
    memcpy(&s, p, sizeof s);
    if (s.seq == 0 || s.check != slot_check(s.seq, &s.body))
        return -1;
    *body = s.body;
    *seq = s.seq;
    return 0;
}

/* Keeps the newest whole entries, oldest first. The ring holds the
 * `capacity` samples up to the slot's count, or — when the kill came after
 * an entry was written and before the slot was — up to one past it. */
static size_t read_trail(const unsigned char *p, uint32_t capacity, uint64_t newest_seq,
                         memgauge__trail_entry_t *out, size_t cap)
{
    /* counted, not compared: the numbers come from disk, and a slot claiming
     * UINT64_MAX samples must not make `seq <= hi` true forever */
    uint64_t hi = newest_seq == UINT64_MAX ? UINT64_MAX : newest_seq + 1;
    uint64_t lo = hi > capacity ? hi - capacity : 1;
    size_t n = 0;
    uint64_t seq = lo;
    for (uint64_t left = hi >= lo ? hi - lo + 1 : 0; left != 0; left--, seq++) {
        memgauge__trail_entry_t e;
        memcpy(&e, p + (seq % capacity) * sizeof e, sizeof e);
        if (e.seq != seq || e.check != entry_check(&e))
            continue;
        if (n == cap) { /* keep the newest */
            memmove(out, out + 1, (cap - 1) * sizeof *out);
            n--;
        }
        out[n++] = e;
    }
    return n;
}

int memgauge__record_parse(const unsigned char *buf, size_t len, memgauge__record_view_t *out,
                           memgauge__trail_entry_t *trail, size_t trail_cap)
{
    memset(out, 0, sizeof *out);
    header_t h;
    if (len < sizeof h)
        return MEMGAUGE__RECORD_BAD_SIZE;
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, MEMGAUGE__RECORD_MAGIC, sizeof h.magic) != 0)
        return MEMGAUGE__RECORD_BAD_MAGIC;
    if (h.version != MEMGAUGE__RECORD_VERSION)
        return MEMGAUGE__RECORD_BAD_VERSION;
    if (h.check != header_check(&h) || h.header_size != HEADER_BYTES ||
        h.body_size != sizeof(memgauge__record_body_t) ||
        h.entry_size != sizeof(memgauge__trail_entry_t) ||
        h.trail_capacity > MEMGAUGE__RECORD_MAX_TRAIL)
        return MEMGAUGE__RECORD_BAD_HEADER;
    if (h.total_size != memgauge__record_size(h.trail_capacity) || len != h.total_size)
        return MEMGAUGE__RECORD_BAD_SIZE;

    for (int i = 0; i < MEMGAUGE__MARK_COUNT; i++)
        memcpy(&out->markers[i], buf + HEADER_BYTES + (size_t)i * sizeof(uint32_t),
               sizeof(uint32_t));

    memgauge__record_body_t b[2];
    uint64_t seq[2] = {0, 0};
    int ok0 = read_slot(buf + slots_offset(), &b[0], &seq[0]) == 0;
    int ok1 = read_slot(buf + slots_offset() + sizeof(slot_t), &b[1], &seq[1]) == 0;
    if (!ok0 && !ok1)
        return MEMGAUGE__RECORD_NO_WHOLE_SLOT;
    int pick = ok0 && (!ok1 || seq[0] > seq[1]) ? 0 : 1;
    out->body = b[pick];
    out->slot_seq = seq[pick];
    /* strings from disk are not trusted to be terminated */
    memgauge__record_body_t *body = &out->body;
    body->app_id[sizeof body->app_id - 1] = '\0';
    body->app_version[sizeof body->app_version - 1] = '\0';
    body->app_build[sizeof body->app_build - 1] = '\0';
    body->sdk_version[sizeof body->sdk_version - 1] = '\0';
    body->boot_id[sizeof body->boot_id - 1] = '\0';
    body->os_version[sizeof body->os_version - 1] = '\0';
    body->build_id[sizeof body->build_id - 1] = '\0';
    body->device_model[sizeof body->device_model - 1] = '\0';
    body->os_build[sizeof body->os_build - 1] = '\0';

    if (h.trail_capacity != 0 && trail != NULL && trail_cap != 0)
        out->trail_count =
            read_trail(buf + trail_offset(), h.trail_capacity, out->body.samples, trail, trail_cap);
    return MEMGAUGE__RECORD_OK;
}

int memgauge__record_marker(const memgauge__record_view_t *v, int which, uint32_t *payload)
{
    if (which < 0 || which >= MEMGAUGE__MARK_COUNT)
        return 0;
    uint32_t w = v->markers[which];
    if ((w & 0xFFFF0000u) != MEMGAUGE__MARK_TAG)
        return 0;
    if (payload != NULL)
        *payload = w & 0xFFFFu;
    return 1;
}
