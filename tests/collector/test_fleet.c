/* Several collectors, one PostgreSQL: two collector processes take the same
 * and different batches at the same time; every batch is stored once and the
 * rollups match the stored sessions exactly. Runs on PostgreSQL only. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"

#define SESSIONS 60
#define BATCHES (2 * SESSIONS)

static collector_t a, b;

static void fini(void)
{
    collector_cleanup(&a);
    collector_cleanup(&b);
}

TestSuite(fleet, .fini = fini, .timeout = 120);

/* Batch k: k < SESSIONS is session k's first; else session (k - SESSIONS)'s
 * second, raising its peak, every third one judging the session before it. */
static char *batch_json(int k)
{
    char bid[37], sid[37], prev[37];
    int i = k % SESSIONS, second = k >= SESSIONS;
    fixture_batch_t f = {.batch_id = fixture_uuid(bid, (uint64_t)k + 1),
                         .session_id = fixture_uuid(sid, (uint64_t)i + 1000),
                         .device_model = i % 2 ? "iPhone12,1" : "iPhone15,2",
                         .first_t_ms = second ? 10000 : 0,
                         .base_pages = second ? 9000 + (uint64_t)(i * 37 % 50) * 53
                                              : 6000 + (uint64_t)(i * 71 % 50) * 41,
                         .verdict = second && i % 3 == 1 ? "oom_suspected" : NULL,
                         .grade = i % 2 ? "high" : "low",
                         .prev_session = fixture_uuid(prev, (uint64_t)i + 999)};
    return fixture_batch_json(&f);
}

typedef struct poster_s {
    int port, first, step, reverse;
    int failures;
    long last_status;    /* the last answer that was not 200 */
    char last_body[200]; /* and what it said */
} poster_t;

/* Posts its share of the batches; a 503 (another collector held a lock
 * longer than the short write wait) is retried as an SDK would. */
static void *post_all(void *arg)
{
    poster_t *p = arg;
    for (int n = 0; n < BATCHES; n++) {
        int k = p->reverse ? BATCHES - 1 - n : n;
        if ((k - p->first) % p->step)
            continue;
        char *json = batch_json(k);
        long status = 0;
        for (int tries = 0; tries < 50 && status != 200; tries++) {
            http_result_t r = http_post_json(p->port, json);
            status = r.status;
            if (status != 200) {
                p->last_status = status;
                snprintf(p->last_body, sizeof p->last_body, "%s", r.body ? r.body : "");
            }
            http_result_free(&r);
            if (status == 503)
                usleep(20000);
        }
        p->failures += status != 200;
        free(json);
    }
    return NULL;
}

static double nearest_rank(double *v, size_t n, double pct)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    double rank = ceil(pct / 100.0 * (double)n);
    return v[(rank < 1 ? 1 : (size_t)rank) - 1];
}

Test(fleet, two_collectors_store_every_batch_once_and_rollups_stay_exact)
{
    if (!fixture_backend_is_pg())
        cr_skip_test("PostgreSQL only (MEMGAUGE_TEST_PG)");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    collector_start(&a, NULL, NULL);
    collector_start(&b, a.db, NULL);
    /* every batch twice or more, from both collectors, in different orders */
    poster_t posters[4] = {{.port = a.port, .first = 0, .step = 1, .reverse = 0},
                           {.port = b.port, .first = 0, .step = 1, .reverse = 1},
                           {.port = a.port, .first = 1, .step = 2, .reverse = 1},
                           {.port = b.port, .first = 0, .step = 2, .reverse = 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, post_all, &posters[i]);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(posters[i].failures, 0, "poster %d: the last refusal was %ld %s", i,
                     posters[i].last_status, posters[i].last_body);
    }
    char err[256];
    memgauge__store_t *st = memgauge__store_open(a.db, NULL, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    memgauge__store_counts_t c;
    cr_assert_eq(st->ops->counts(st, &c), 0);
    cr_expect_eq(c.batches, BATCHES, "each batch stored once");
    cr_expect_eq(c.sessions, SESSIONS);
    cr_expect_eq(c.windows, BATCHES);

    /* the rollups against the session rows */
    memgauge__session_filter_t f = {.app_id = "com.example.photos"};
    memgauge__session_row_t *rows;
    size_t n;
    cr_assert_eq(st->ops->sessions(st, &f, &rows, &n), 0);
    cr_assert_eq(n, SESSIONS);
    double peaks[SESSIONS], fractions[SESSIONS];
    size_t oom = 0, weak = 0, judged = 0;
    for (size_t i = 0; i < n; i++) {
        peaks[i] = (double)rows[i].peak_bytes;
        fractions[i] = rows[i].peak_fraction;
        judged += rows[i].verdict[0] != 0;
        if (!strcmp(rows[i].verdict, "oom_suspected"))
            !strcmp(rows[i].grade, "high") ? oom++ : weak++;
    }
    free(rows);
    memgauge__rollup_filter_t rf = {
        .app_id = "com.example.photos", .from_day = INT64_MIN, .to_day = INT64_MAX};
    memgauge__rollup_t *r;
    cr_assert_eq(st->ops->rollups(st, &rf, &r, &n), 0);
    memgauge__rollup_t all = {0};
    for (size_t i = 0; i < n; i++)
        memgauge__rollup_merge(&all, &r[i]);
    memgauge__rollup_rows_free(r, n);
    cr_expect_eq(all.sessions, SESSIONS);
    cr_expect_eq(all.with_data, SESSIONS);
    cr_expect_eq(all.judged, (int64_t)judged);
    cr_expect_eq(all.oom, (int64_t)oom);
    cr_expect_eq(all.oom_weak, (int64_t)weak);
    cr_expect_eq(all.peaks.total, SESSIONS, "one peak per session: old ones removed");
    static const double ps[] = {1, 10, 25, 50, 75, 90, 99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double exact = nearest_rank(peaks, SESSIONS, ps[i]);
        EXPECT_WITHIN_1PC(memgauge__sketch_quantile(&all.peaks, ps[i]), exact);
        exact = nearest_rank(fractions, SESSIONS, ps[i]);
        EXPECT_WITHIN_1PC(memgauge__sketch_quantile(&all.fractions, ps[i]), exact);
    }
    memgauge__rollup_clear(&all);
    st->ops->close(st);
}
