/* kill -9 during ingest: afterwards every batch in the database is whole
 * (all its windows and samples), none is partial, and every batch that was
 * acknowledged is there. Runs on the backend MEMGAUGE_TEST_PG selects. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

#define WINDOWS 20
#define PER_WINDOW 500
#define ROUNDS 12

typedef struct sender_s {
    collector_t *srv;
    atomic_int stop;
    _Atomic unsigned long next; /* batch number */
    unsigned long acked[4096];
    _Atomic size_t acked_count;
} sender_t;

static void *send_loop(void *p)
{
    sender_t *s = p;
    while (!atomic_load(&s->stop) && atomic_load(&s->acked_count) < 4096) {
        unsigned long n = atomic_fetch_add(&s->next, 1) + 1;
        char bid[37], sid[37];
        /* one session per batch: the session row then shows whether its
         * batch arrived whole */
        fixture_batch_t f = {.batch_id = fixture_uuid(bid, n),
                             .session_id = fixture_uuid(sid, n),
                             .windows = WINDOWS,
                             .samples_per_window = PER_WINDOW,
                             .threshold = 1,
                             .pressure = 1};
        char *json = fixture_batch_json(&f);
        http_result_t r = http_post_json(s->srv->port, json);
        if (r.status == 200) { /* two senders: one slot each */
            size_t slot = atomic_fetch_add(&s->acked_count, 1);
            if (slot < 4096)
                s->acked[slot] = n;
        }
        http_result_free(&r);
        free(json);
    }
    return NULL;
}

Test(kill9, no_partial_batch_after_sigkill_during_ingest, .timeout = 120)
{
    collector_t srv;
    char url[512];
    memgauge__store_t *probe = fixture_store(url); /* creates the database */
    probe->ops->close(probe);
    collector_start(&srv, url, NULL);
    sender_t s = {.srv = &srv};
    srand((unsigned)time(NULL));
    for (int round = 0; round < ROUNDS; round++) {
        atomic_store(&s.stop, 0);
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, send_loop, &s);
        /* at least one batch acknowledged in each round (a loaded machine
         * may take longer than the random delay to store the first), then
         * the kill at a random moment of the ingest that follows */
        size_t before = atomic_load(&s.acked_count);
        struct timespec tick = {0, 5 * 1000 * 1000L};
        for (int i = 0; i < 2000 && atomic_load(&s.acked_count) == before; i++)
            nanosleep(&tick, NULL);
        struct timespec ts = {0, (50 + rand() % 250) * 1000 * 1000L};
        nanosleep(&ts, NULL);
        collector_kill9(&srv);
        atomic_store(&s.stop, 1);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        collector_restart(&srv, NULL);
    }
    collector_stop(&srv);

    char err[256];
    memgauge__store_t *st = memgauge__store_open(url, NULL, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    memgauge__store_counts_t c;
    cr_assert_eq(st->ops->counts(st, &c), 0);
    cr_expect_geq(c.batches, ROUNDS, "a batch was stored in every round (%llu)",
                  (unsigned long long)c.batches);
    cr_expect_eq(c.sessions, c.batches);
    cr_expect_eq(c.windows, c.batches * WINDOWS, "%llu windows for %llu batches",
                 (unsigned long long)c.windows, (unsigned long long)c.batches);
    cr_expect_eq(c.samples, c.batches * WINDOWS * PER_WINDOW);
    cr_expect_eq(c.events, c.batches * 2);
    memgauge__session_filter_t all = {0};
    memgauge__session_row_t *rows;
    size_t n;
    cr_assert_eq(st->ops->sessions(st, &all, &rows, &n), 0);
    cr_expect_eq(n, c.batches);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(rows[i].windows, WINDOWS, "session %s", rows[i].session_id);
        cr_expect_eq(rows[i].samples, WINDOWS * PER_WINDOW);
        cr_expect_eq(rows[i].batches, 1);
    }
    free(rows);
    /* every acknowledged batch is there */
    for (size_t i = 0; i < atomic_load(&s.acked_count) && i < 4096; i++) {
        char sid[37];
        memgauge__session_filter_t one = {.session_id = fixture_uuid(sid, s.acked[i])};
        cr_assert_eq(st->ops->sessions(st, &one, &rows, &n), 0);
        cr_expect_eq(n, 1, "acknowledged batch %lu is missing", s.acked[i]);
        free(rows);
    }
    fprintf(stderr, "kill9: %d kills, %llu batches stored whole, %zu acknowledged\n", ROUNDS,
            (unsigned long long)c.batches, atomic_load(&s.acked_count));
    st->ops->close(st);
    collector_cleanup(&srv);
}
