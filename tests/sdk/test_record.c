/*
 * The session record file: what is written is what is read back, a torn
 * write is never read as whole, and a bad file is named, never trusted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record.h"

static char dir[64];
static char path[128];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/memgauge-record-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/session.mgrec", dir);
}

static void remove_dir(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(record, .init = make_dir, .fini = remove_dir);

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
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
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
