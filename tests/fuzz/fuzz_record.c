/*
 * libFuzzer target: the session record reader (memgauge__record_parse) and
 * the diagnosis (memgauge__diagnose) over whatever it accepts. The record is
 * read at every start from a file the previous process left, so every byte
 * of it is untrusted input.
 *
 * Each input is parsed twice: as it is, and "resealed" - with the header,
 * slot and trail check values recomputed over the mutated bytes - so that
 * mutations also reach the code behind the checks (the trail walk and the
 * diagnosis) instead of stopping at a hash mismatch.
 *
 * Build and run: scripts/fuzz.sh [SECONDS]
 */
#define _DEFAULT_SOURCE /* mkdtemp with -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnose.h"
#include "record.h"

/* The parts of record.c's layout the resealer needs: the header's check
 * value covers the 40 bytes before it; a slot is {seq, check, body}. Both
 * are verified against a real record at start (layout_matches). */
enum {
    HEADER_CHECK_AT = 40,
    SLOT_HEAD = 16,
    SLOT_BYTES = SLOT_HEAD + sizeof(memgauge__record_body_t),
    ENTRY_BYTES = sizeof(memgauge__trail_entry_t),
    ENTRY_CHECK_AT = offsetof(memgauge__trail_entry_t, check),
};

static size_t trail_at(void)
{
    return memgauge__record_size(0);
}

static size_t slots_at(void)
{
    return trail_at() - 2 * SLOT_BYTES;
}

static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof v);
}

/* Recomputes every check value that fits inside buf[0 .. len). */
static void reseal(unsigned char *buf, size_t len)
{
    if (len >= HEADER_CHECK_AT + 8)
        put64(buf + HEADER_CHECK_AT, memgauge__hash64(MEMGAUGE__HASH64_SEED, buf, HEADER_CHECK_AT));
    for (int i = 0; i < 2; i++) {
        size_t at = slots_at() + (size_t)i * SLOT_BYTES;
        if (at + SLOT_BYTES > len)
            break;
        uint64_t seq;
        memcpy(&seq, buf + at, sizeof seq);
        if (seq == 0)
            continue; /* a slot being written: leave it so */
        uint64_t h = memgauge__hash64(MEMGAUGE__HASH64_SEED, &seq, sizeof seq);
        put64(buf + at + 8, memgauge__hash64(h, buf + at + SLOT_HEAD, SLOT_BYTES - SLOT_HEAD));
    }
    for (size_t at = trail_at(); at + ENTRY_BYTES <= len; at += ENTRY_BYTES) {
        uint64_t seq;
        memcpy(&seq, buf + at, sizeof seq);
        if (seq != 0) /* 0: never written, or being written */
            put64(buf + at + ENTRY_CHECK_AT,
                  memgauge__hash64(MEMGAUGE__HASH64_SEED, buf + at, ENTRY_CHECK_AT));
    }
}

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_record: " __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static memgauge__trail_entry_t trail[MEMGAUGE__RECORD_MAX_TRAIL + 1];

static void check_one(const unsigned char *buf, size_t len)
{
    memgauge__record_view_t v;
    /* the journal's own sizing: room for every entry the file could hold */
    size_t cap = len / ENTRY_BYTES + 1;
    if (cap > sizeof trail / sizeof trail[0])
        cap = sizeof trail / sizeof trail[0];
    int rc = memgauge__record_parse(buf, len, &v, trail, cap);
    if (rc < MEMGAUGE__RECORD_OK || rc > MEMGAUGE__RECORD_NO_WHOLE_SLOT)
        FAIL("parse returned %d", rc);
    if (rc == MEMGAUGE__RECORD_OK) {
        const memgauge__record_body_t *b = &v.body;
        if (v.trail_count > cap)
            FAIL("%zu trail entries written into room for %zu", v.trail_count, cap);
        if (v.slot_seq == 0)
            FAIL("a whole slot with sequence 0");
        for (size_t i = 0; i < v.trail_count; i++)
            if (trail[i].seq == 0 || (i > 0 && trail[i].seq <= trail[i - 1].seq))
                FAIL("trail entry %zu has seq %llu after %llu", i, (unsigned long long)trail[i].seq,
                     (unsigned long long)(i ? trail[i - 1].seq : 0));
        if (!terminated(b->app_id, sizeof b->app_id) ||
            !terminated(b->app_version, sizeof b->app_version) ||
            !terminated(b->app_build, sizeof b->app_build) ||
            !terminated(b->sdk_version, sizeof b->sdk_version) ||
            !terminated(b->boot_id, sizeof b->boot_id) ||
            !terminated(b->os_version, sizeof b->os_version) ||
            !terminated(b->build_id, sizeof b->build_id) ||
            !terminated(b->device_model, sizeof b->device_model) ||
            !terminated(b->os_build, sizeof b->os_build))
            FAIL("a string of the parsed body is not terminated");
    }

    static const memgauge__identity_t now = {
        .boot_id = "0b8c5a7e-4e1f-4d0e-9d43-8f3c2a1b0c9d",
        .os_version = "Linux 6.1.0-fuzz",
        .os_build = "#1 SMP PREEMPT_DYNAMIC fuzz",
        .build_id = "00112233445566778899aabbccddeeff00112233",
        .device_model = "fuzz",
        .exe_name = "fuzz_record",
    };
    memgauge__diagnosis_input_t in;
    memset(&in, 0, sizeof in);
    in.parse_status = rc;
    in.prev = &v;
    in.trail = trail;
    in.trail_count = rc == MEMGAUGE__RECORD_OK ? v.trail_count : 0;
    in.identity = &now;
    in.app_version = "1.0";
    in.app_build = "1";
    in.has_oom_kills = 1;
    in.oom_kills = 3;
    memgauge_previous_session_t out;
    memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    memgauge__diagnose(&in, &out);
    if (out.verdict < MEMGAUGE_END_NONE || out.verdict > MEMGAUGE_END_EXTENSION_ENDED)
        FAIL("verdict %d", out.verdict);
    if (rc != MEMGAUGE__RECORD_OK &&
        (out.verdict != MEMGAUGE_END_UNREADABLE || out.unreadable_reason != rc))
        FAIL("parse status %d gave verdict %s, reason %d", rc, memgauge_end_name(out.verdict),
             out.unreadable_reason);
    if ((out.verdict == MEMGAUGE_END_SUSPECTED_OOM) != (out.confidence != MEMGAUGE_CONFIDENCE_NONE))
        FAIL("verdict %s with confidence %s", memgauge_end_name(out.verdict),
             memgauge_confidence_name(out.confidence));
    if (out.confidence < MEMGAUGE_CONFIDENCE_NONE || out.confidence > MEMGAUGE_CONFIDENCE_HIGH)
        FAIL("confidence %d", out.confidence);
    if (out.evidence & ~UINT32_C(0xFF))
        FAIL("unknown evidence bits 0x%x", out.evidence);
    /* the verdict rule: no OOM without a bit that points at memory */
    if (out.verdict == MEMGAUGE_END_SUSPECTED_OOM && !(out.evidence & MEMGAUGE__EVIDENCE_OF_OOM))
        FAIL("suspected_oom with no memory evidence (0x%x)", out.evidence);
    if (out.headroom_ppm > 1000000u)
        FAIL("headroom %u ppm", out.headroom_ppm);
    if (!terminated(out.session_id, sizeof out.session_id) ||
        !terminated(out.app_version, sizeof out.app_version) ||
        !terminated(out.app_build, sizeof out.app_build) ||
        !terminated(out.os_version, sizeof out.os_version) ||
        !terminated(out.os_build, sizeof out.os_build))
        FAIL("a string of the diagnosis is not terminated");
}

/* The resealer must turn a real record into itself: otherwise record.c's
 * layout changed and this file must follow. */
static int layout_matches(void)
{
    char dir[] = "/tmp/fuzz_record-XXXXXX", path[64];
    if (mkdtemp(dir) == NULL)
        return 0;
    snprintf(path, sizeof path, "%s/r", dir);
    memgauge__record_body_t body;
    memset(&body, 0x5C, sizeof body);
    body.samples = 3;
    memgauge__record_t r;
    int ok = memgauge__record_create(&r, path, 5, &body) == 0;
    if (ok) {
        memgauge__trail_entry_t e;
        for (uint64_t k = 1; k <= 3; k++) {
            memset(&e, 0x3A, sizeof e);
            e.seq = k;
            memgauge__record_update(&r, &body, &e);
        }
        unsigned char *copy = malloc(r.size);
        ok = copy != NULL;
        if (ok) {
            memcpy(copy, r.map, r.size);
            reseal(copy, r.size);
            ok = memcmp(copy, r.map, r.size) == 0;
        }
        free(copy);
        memgauge__record_close(&r);
    }
    unlink(path);
    rmdir(dir);
    return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (!layout_matches())
        FAIL("the resealer does not reproduce a real record: update it to record.c's layout");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a heap copy of exactly `size` bytes, so that ASan sees any over-read */
    unsigned char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    check_one(buf, size);
    reseal(buf, size);
    check_one(buf, size);
    free(buf);
    return 0;
}
