/*
 * libFuzzer target: the spool reader (memgauge__spool_parse). Spool files
 * are left by earlier processes, possibly torn by a kill or a full disk, so
 * every byte is untrusted. Each input is parsed as it is and "resealed" —
 * length and both checksums recomputed over the mutated bytes — so that
 * mutations also reach what lies behind the checks (the id and flag rules,
 * and the gunzip the worker runs on a body when a server refuses gzip).
 * Pending files ("p-…", the batch being assembled) have the same format;
 * their names, which decide what is promoted and sent at start, are fuzzed
 * too: the input's first bytes as a file name.
 *
 * Build and run: scripts/test.sh (step fuzz-spool), or by hand:
 *   clang -fsanitize=fuzzer,address,undefined -Itransport tests/fuzz/fuzz_spool.c \
 *       transport/spool.c transport/encode.c transport/json_out.c -lz
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"
#include "transport.h"

static void check(const uint8_t *data, size_t size)
{
    memgauge__spool_entry_t e;
    if (memgauge__spool_parse(data, size, &e) != 0)
        return;
    /* what the parser accepts must be what it promised */
    if (e.body != data + MEMGAUGE__SPOOL_HEADER || e.body_len != size - MEMGAUGE__SPOOL_HEADER ||
        e.body_len == 0 || strlen(e.batch_id) != 36)
        abort();
    if (e.flags & MEMGAUGE__SPOOL_FLAG_GZIP) {
        size_t n;
        unsigned char *plain = memgauge__tr_gunzip(e.body, e.body_len, 1u << 20, &n);
        if (plain != NULL && n > (1u << 20))
            abort();
        free(plain);
    }
}

static void check_name(const uint8_t *data, size_t size)
{
    char name[MEMGAUGE__SPOOL_NAME_MAX + 8];
    size_t n = size < sizeof name - 1 ? size : sizeof name - 1;
    memcpy(name, data, n);
    name[n] = '\0';
    int kind = memgauge__spool_name_kind(name);
    if (kind != 0 && kind != MEMGAUGE__SPOOL_BATCH && kind != MEMGAUGE__SPOOL_PENDING)
        abort();
    unsigned long pid;
    uint32_t token;
    if (memgauge__spool_pending_writer(name, &pid, &token) == 0 && kind != MEMGAUGE__SPOOL_PENDING)
        abort();
    (void)memgauge__spool_created_of(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    check_name(data, size);
    if (size < MEMGAUGE__SPOOL_HEADER)
        return 0;
    uint8_t *copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    char id[37];
    memcpy(id, copy + 40, 36);
    id[36] = '\0';
    uint32_t flags = (uint32_t)copy[12] | (uint32_t)copy[13] << 8 | (uint32_t)copy[14] << 16 |
                     (uint32_t)copy[15] << 24;
    uint64_t created = 0;
    for (int i = 7; i >= 0; i--)
        created = created << 8 | copy[16 + i];
    unsigned char h[MEMGAUGE__SPOOL_HEADER];
    memgauge__spool_header(h, id, created, flags, copy + MEMGAUGE__SPOOL_HEADER,
                           size - MEMGAUGE__SPOOL_HEADER);
    memcpy(copy, h, MEMGAUGE__SPOOL_HEADER);
    check(copy, size);
    free(copy);
    return 0;
}
