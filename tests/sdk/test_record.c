/*
 * The session record file: what is written is what is read back, a torn
 * write is never read as whole (record_tear: torn at every byte of an
 * update), and a bad file is named, never trusted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"
#include "support/scratch.h"
#include "support/support.h"

static char path[128];

static void make_dir(void)
{
    mg_scratch_init();
    snprintf(path, sizeof path, "%s/session.mgrec", mg_scratch);
}

TestSuite(record, .init = make_dir, .fini = mg_scratch_fini);
TestSuite(record_tear, .init = make_dir, .fini = mg_scratch_fini);

static memgauge__record_body_t body_at(uint64_t samples)
{
    memgauge__record_body_t b;
    memset(&b, 0, sizeof b);
    for (int i = 0; i < 16; i++)
        b.session_id[i] = (uint8_t)(i * 7 + 1);
    b.pid = 4242;
    b.samples = samples;
    b.last_footprint = 100 * 1048576ull + samples * 4096;
    b.limit = 512 * 1048576ull;
    b.available = b.limit - b.last_footprint;
    snprintf(b.app_version, sizeof b.app_version, "1.2.3");
    snprintf(b.boot_id, sizeof b.boot_id, "boot-a");
    return b;
}

static memgauge__trail_entry_t entry_at(uint64_t seq)
{
    memgauge__trail_entry_t e;
    memset(&e, 0, sizeof e);
    e.seq = seq;
    e.wall_ns = 1700000000000000000ull + seq * 100000000ull;
    e.footprint = 100 * 1048576ull + seq * 4096;
    e.limit = 512 * 1048576ull;
    e.available = e.limit - e.footprint;
    e.pressure = (uint32_t)(seq % 3);
    return e;
}

/* The file as another process would read it after this one died. */
static unsigned char *read_all(size_t *len)
{
    unsigned char *buf = mg_read_all(path, len);
    cr_assert_not_null(buf, "%s: %s", path, strerror(errno));
    return buf;
}

static void write_samples(memgauge__record_t *r, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to; seq++) {
        memgauge__record_body_t b = body_at(seq);
        memgauge__trail_entry_t e = entry_at(seq);
        memgauge__record_update(r, &b, &e);
    }
}

Test(record, reads_back_the_newest_state_and_the_trail_oldest_first)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 8, &b0), 0);
    write_samples(&r, 1, 20);
    memgauge__record_close(&r);

    size_t len;
    unsigned char *buf = read_all(&len);
    cr_assert_eq(len, memgauge__record_size(8));
    memgauge__record_view_t v;
    memgauge__trail_entry_t trail[16];
    cr_assert_eq(memgauge__record_parse(buf, len, &v, trail, 16), MEMGAUGE__RECORD_OK);
    cr_assert_eq(v.body.samples, 20);
    cr_assert_eq(v.body.last_footprint, body_at(20).last_footprint);
    cr_assert_str_eq(v.body.app_version, "1.2.3");
    cr_assert_eq(v.body.pid, 4242);
    /* a ring of 8 after 20 samples holds 13..20 */
    cr_assert_eq(v.trail_count, 8);
    for (size_t i = 0; i < 8; i++) {
        cr_assert_eq(trail[i].seq, 13 + i);
        cr_assert_eq(trail[i].footprint, entry_at(13 + i).footprint);
        cr_assert_eq(trail[i].pressure, (13 + i) % 3);
    }
    free(buf);
}

Test(record, a_torn_slot_is_never_read_and_the_previous_whole_state_wins)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 4, &b0), 0);
    write_samples(&r, 1, 5);
    size_t len = r.size;
    unsigned char *whole = malloc(len);
    memcpy(whole, r.map, len);

    /* The next update goes to the other slot. Tear it at every offset:
     * a prefix of the new bytes over the old ones, as a kill leaves it. */
    memgauge__record_body_t b6 = body_at(6);
    memgauge__trail_entry_t e6 = entry_at(6);
    memgauge__record_update(&r, &b6, &e6);
    unsigned char *after = malloc(len);
    memcpy(after, r.map, len);
    memgauge__record_close(&r);

    size_t first = 0, last = 0;
    for (size_t i = 0; i < len; i++)
        if (whole[i] != after[i]) {
            if (!first)
                first = i;
            last = i;
        }
    cr_assert_gt(last, first);
    unsigned char *torn = malloc(len);
    memgauge__trail_entry_t trail[8];
    int seen_old = 0, seen_new = 0;
    for (size_t cut = first; cut <= last + 1; cut++) {
        memcpy(torn, after, cut);
        memcpy(torn + cut, whole + cut, len - cut);
        memgauge__record_view_t v;
        cr_assert_eq(memgauge__record_parse(torn, len, &v, trail, 8), MEMGAUGE__RECORD_OK);
        /* whichever slot is read, it is one of the two whole states */
        memgauge__record_body_t want = v.body.samples == 6 ? b6 : body_at(5);
        cr_assert(v.body.samples == 5 || v.body.samples == 6, "cut %zu read samples %llu", cut,
                  (unsigned long long)v.body.samples);
        cr_assert_eq(memcmp(&v.body, &want, sizeof want), 0, "cut %zu read a mixed body", cut);
        seen_old += v.body.samples == 5;
        seen_new += v.body.samples == 6;
        for (size_t i = 1; i < v.trail_count; i++)
            cr_assert_eq(trail[i].seq, trail[i - 1].seq + 1);
    }
    cr_assert_gt(seen_old, 0);
    cr_assert_gt(seen_new, 0);
    free(whole);
    free(after);
    free(torn);
}

Test(record, a_torn_trail_entry_is_dropped_alone)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 6, &b0), 0);
    write_samples(&r, 1, 6);
    /* a kill in the middle of entry 7: seq stored, payload half there */
    memgauge__trail_entry_t *slot = &r.trail[7 % 6];
    slot->seq = 7;
    slot->footprint = 1;
    size_t len = r.size;
    unsigned char *img = malloc(len);
    memcpy(img, r.map, len);
    memgauge__record_close(&r);

    memgauge__record_view_t v;
    memgauge__trail_entry_t trail[8];
    cr_assert_eq(memgauge__record_parse(img, len, &v, trail, 8), MEMGAUGE__RECORD_OK);
    cr_assert_eq(v.body.samples, 6);
    /* entry 1 was overwritten by the torn 7: 2..6 remain */
    cr_assert_eq(v.trail_count, 5);
    cr_assert_eq(trail[0].seq, 2);
    cr_assert_eq(trail[4].seq, 6);
    free(img);
}

Test(record, a_newer_whole_trail_entry_than_the_slot_is_kept)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 6, &b0), 0);
    write_samples(&r, 1, 3);
    /* entry 4 is whole but the kill came before the slot said so: the
     * slot still says 3 samples */
    memgauge__record_body_t b3 = body_at(3);
    memgauge__trail_entry_t e4 = entry_at(4);
    memgauge__record_update(&r, &b3, &e4);
    size_t len = r.size;
    unsigned char *img = malloc(len);
    memcpy(img, r.map, len);
    memgauge__record_close(&r);

    memgauge__record_view_t v;
    memgauge__trail_entry_t trail[8];
    cr_assert_eq(memgauge__record_parse(img, len, &v, trail, 8), MEMGAUGE__RECORD_OK);
    cr_assert_eq(v.body.samples, 3);
    cr_assert_eq(v.trail_count, 4);
    cr_assert_eq(trail[3].seq, 4);
    free(img);
}

static int parse_mutated(size_t offset, unsigned char value, size_t new_len)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 4, &b0), 0);
    write_samples(&r, 1, 3);
    size_t len = r.size;
    unsigned char *img = calloc(1, len + 16);
    memcpy(img, r.map, len);
    memgauge__record_close(&r);
    if (offset < len)
        img[offset] = value;
    memgauge__record_view_t v;
    int rc = memgauge__record_parse(img, new_len ? new_len : len, &v, NULL, 0);
    free(img);
    return rc;
}

Test(record, a_bad_file_is_named_for_what_is_wrong)
{
    size_t len = memgauge__record_size(4);
    cr_assert_eq(parse_mutated(0, 'X', 0), MEMGAUGE__RECORD_BAD_MAGIC);
    cr_assert_eq(parse_mutated(8, 99, 0), MEMGAUGE__RECORD_BAD_VERSION);
    cr_assert_eq(parse_mutated(24, 5, 0), MEMGAUGE__RECORD_BAD_HEADER); /* trail capacity */
    cr_assert_eq(parse_mutated(len, 0, len - 1), MEMGAUGE__RECORD_BAD_SIZE);
    cr_assert_eq(parse_mutated(len, 0, len + 8), MEMGAUGE__RECORD_BAD_SIZE);
    cr_assert_eq(parse_mutated(len, 0, 10), MEMGAUGE__RECORD_BAD_SIZE);
    memgauge__record_view_t v;
    cr_assert_eq(memgauge__record_parse((const unsigned char *)"", 0, &v, NULL, 0),
                 MEMGAUGE__RECORD_BAD_SIZE);
}

Test(record, both_slots_damaged_means_no_whole_copy)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 2, &b0), 0);
    write_samples(&r, 1, 2);
    size_t len = r.size;
    unsigned char *img = malloc(len);
    memcpy(img, r.map, len);
    memgauge__record_close(&r);
    /* one byte in each slot's body (slots start after 128 bytes of header and markers) */
    size_t slot = (len - 2 * sizeof(memgauge__trail_entry_t) - 128) / 2;
    img[128 + 40] ^= 1;
    img[128 + slot + 40] ^= 1;
    memgauge__record_view_t v;
    cr_assert_eq(memgauge__record_parse(img, len, &v, NULL, 0), MEMGAUGE__RECORD_NO_WHOLE_SLOT);
    free(img);
}

Test(record, markers_are_single_stores_read_back_with_their_payload)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 2, &b0), 0);
    memgauge__record_mark(r.markers, MEMGAUGE__MARK_CRASH, 11);
    memgauge__record_mark(r.markers, MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_BACKGROUND);
    memgauge__record_mark(r.markers, 99, 1); /* out of range: ignored */
    size_t len = r.size;
    unsigned char *img = malloc(len);
    memcpy(img, r.map, len);
    memgauge__record_close(&r);
    memgauge__record_view_t v;
    cr_assert_eq(memgauge__record_parse(img, len, &v, NULL, 0), MEMGAUGE__RECORD_OK);
    uint32_t payload = 0;
    cr_assert(memgauge__record_marker(&v, MEMGAUGE__MARK_CRASH, &payload));
    cr_assert_eq(payload, 11);
    cr_assert(memgauge__record_marker(&v, MEMGAUGE__MARK_APP_STATE, &payload));
    cr_assert_eq(payload, MEMGAUGE_APP_BACKGROUND);
    cr_assert_not(memgauge__record_marker(&v, MEMGAUGE__MARK_CLEAN_STOP, NULL));
    cr_assert_not(memgauge__record_marker(&v, MEMGAUGE__MARK_EXIT, NULL));
    free(img);
}

Test(record, creation_replaces_the_file_whole_and_holds_a_lock)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, path, 2, &b0), 0);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    cr_assert_neq(access(tmp, F_OK), 0, "the temporary file must be gone");
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_neq(flock(fd, LOCK_EX | LOCK_NB), 0, "a live record must be locked");
    memgauge__record_close(&r);
    cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0, "closing releases the lock");
    close(fd);
}

Test(record, creation_in_a_missing_directory_fails_cleanly)
{
    memgauge__record_t r;
    memgauge__record_body_t b0 = body_at(0);
    cr_assert_eq(memgauge__record_create(&r, "/nonexistent-dir/x/session.mgrec", 2, &b0), -1);
    cr_assert_eq(r.map, NULL);
    cr_assert_eq(memgauge__record_create(&r, path, MEMGAUGE__RECORD_MAX_TRAIL + 1, &b0), -1);
}

/* ---- torn writes, byte by byte --------------------------------------------- */

#define TEAR_TRAIL 4u
#define TEAR_UPDATES 12u
#define TEAR_IMAGE_MAX 16384u /* bytes of a record with TEAR_TRAIL entries, and more */

/* A session body unlike the one before it in every byte. */
static void tear_body(memgauge__record_body_t *b, uint64_t k)
{
    memset(b, (int)(0x21 + 7 * k), sizeof *b);
    b->samples = k;
    b->pid = 4242;
    b->app_id[sizeof b->app_id - 1] = '\0';
    b->app_version[sizeof b->app_version - 1] = '\0';
    b->app_build[sizeof b->app_build - 1] = '\0';
    b->sdk_version[sizeof b->sdk_version - 1] = '\0';
    b->boot_id[sizeof b->boot_id - 1] = '\0';
    b->os_version[sizeof b->os_version - 1] = '\0';
    b->build_id[sizeof b->build_id - 1] = '\0';
    b->device_model[sizeof b->device_model - 1] = '\0';
    b->os_build[sizeof b->os_build - 1] = '\0';
}

static void tear_entry(memgauge__trail_entry_t *e, uint64_t k)
{
    memset(e, (int)(0x5A + 13 * k), sizeof *e);
    e->seq = k;
    e->check = 0; /* the writer computes it */
}

/* Offsets where two images differ, ascending. */
static size_t diff_offsets(const unsigned char *a, const unsigned char *b, size_t len, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            out[n++] = i;
    return n;
}

/* Parses every image between `old` and `now` that a writer killed after
 * `applied` of the changed bytes (in the given order) could leave, and checks
 * that what is read is wholly one state or wholly the other. */
static void check_tears(const unsigned char *old, const unsigned char *now, size_t len,
                        const memgauge__record_body_t *old_body,
                        const memgauge__record_body_t *new_body,
                        const memgauge__trail_entry_t *written, uint64_t update, int descending)
{
    static size_t off[TEAR_IMAGE_MAX];
    static unsigned char torn[TEAR_IMAGE_MAX];
    cr_assert_leq(len, TEAR_IMAGE_MAX);
    size_t n = diff_offsets(old, now, len, off);
    cr_assert_gt(n, sizeof *new_body / 2, "update %llu changed only %zu bytes",
                 (unsigned long long)update, n);
    /* the slots lie before the trail: memgauge__record_size(0) is where it starts */
    size_t slot_bytes = 0;
    while (slot_bytes < n && off[slot_bytes] < memgauge__record_size(0))
        slot_bytes++;
    memgauge__trail_entry_t trail[TEAR_TRAIL + 2];
    for (size_t applied = 0; applied <= n; applied++) {
        memcpy(torn, old, len);
        for (size_t i = 0; i < applied; i++) {
            size_t o = descending ? off[n - 1 - i] : off[i];
            torn[o] = now[o];
        }
        /* the new state is whole once every byte of its slot is there */
        int slot_whole = descending ? applied == n : applied >= slot_bytes;
        memgauge__record_view_t v;
        int rc = memgauge__record_parse(torn, len, &v, trail, TEAR_TRAIL + 2);
        cr_assert_eq(rc, MEMGAUGE__RECORD_OK,
                     "update %llu torn after %zu of %zu changed bytes (%s): parse %d, expected "
                     "the older whole slot",
                     (unsigned long long)update, applied, n,
                     descending ? "descending" : "ascending", rc);
        const memgauge__record_body_t *want = slot_whole ? new_body : old_body;
        cr_assert(memcmp(&v.body, want, sizeof *want) == 0,
                  "update %llu torn after %zu of %zu changed bytes (%s): read a body that is "
                  "not the %s whole state (samples=%llu)",
                  (unsigned long long)update, applied, n, descending ? "descending" : "ascending",
                  slot_whole ? "new" : "old", (unsigned long long)v.body.samples);
        uint64_t prev = 0;
        for (size_t i = 0; i < v.trail_count; i++) {
            cr_assert_gt(trail[i].seq, prev);
            cr_assert_leq(trail[i].seq, update);
            cr_assert(memcmp(&trail[i], &written[trail[i].seq],
                             offsetof(memgauge__trail_entry_t, check)) == 0,
                      "update %llu torn after %zu bytes: trail entry %llu is not as written",
                      (unsigned long long)update, applied, (unsigned long long)trail[i].seq);
            prev = trail[i].seq;
        }
    }
}

/* Drives a record through updates first_update .. last_update (the first
 * update is the record's second write) and tears each of them. */
static void tear_updates(uint64_t first_update, uint64_t last_update)
{
    static memgauge__trail_entry_t written[TEAR_UPDATES + 1];
    memgauge__record_body_t body, next;
    tear_body(&body, 0);
    memgauge__record_t r;
    cr_assert_eq(memgauge__record_create(&r, path, TEAR_TRAIL, &body), 0, "record_create: %s",
                 strerror(errno));
    cr_assert_eq(r.size, memgauge__record_size(TEAR_TRAIL));
    static unsigned char old[TEAR_IMAGE_MAX];
    cr_assert_leq(r.size, TEAR_IMAGE_MAX);
    for (uint64_t k = 1; k <= last_update; k++) {
        memcpy(old, r.map, r.size);
        tear_body(&next, k);
        tear_entry(&written[k], k);
        memgauge__record_update(&r, &next, &written[k]);
        if (k >= first_update) {
            check_tears(old, r.map, r.size, &body, &next, written, k, 0);
            check_tears(old, r.map, r.size, &body, &next, written, k, 1);
        }
        body = next;
    }
    memgauge__record_close(&r);
}

Test(record_tear, update_torn_at_any_byte_reads_as_the_older_whole_state)
{
    /* the second update onward, past the point where the 4-entry trail wraps */
    tear_updates(2, TEAR_UPDATES);
}

Test(record_tear, first_update_torn_at_any_byte_reads_as_the_created_state)
{
    /* the first sample's update must not overwrite the only whole slot */
    tear_updates(1, 1);
}

/* A whole, valid slot from a damaged or hostile writer: the reader must still
 * finish (it walks trail sequence numbers from the slot's sample count). */
Test(record_tear, parse_terminates_when_the_slot_claims_the_highest_sample_numbers, .timeout = 20)
{
    const uint64_t claims[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - TEAR_TRAIL};
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        memgauge__record_body_t body;
        tear_body(&body, 1);
        body.samples = claims[i];
        memgauge__record_t r;
        cr_assert_eq(memgauge__record_create(&r, path, TEAR_TRAIL, &body), 0);
        memgauge__trail_entry_t e;
        tear_entry(&e, 1);
        memgauge__record_update(&r, &body, &e); /* one real entry, seq 1 */
        memgauge__record_close(&r);
        size_t len;
        unsigned char *buf = read_all(&len);
        memgauge__record_view_t v;
        memgauge__trail_entry_t trail[TEAR_TRAIL + 1];
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            alarm(5);
            int rc = memgauge__record_parse(buf, len, &v, trail, TEAR_TRAIL + 1);
            _exit(rc == MEMGAUGE__RECORD_OK ? 0 : 1);
        }
        int status;
        cr_assert_eq(mg_wait_child(pid, 20000, &status), 0, "the parsing child did not end");
        free(buf);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "memgauge__record_parse did not finish within 5 s for samples=%llu (status "
                  "0x%x: %s)",
                  (unsigned long long)claims[i], status,
                  WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited");
    }
}
