/* collector/bench/ingest_layout: how to store samples in SQLite, measured. Writes the
 * same sessions' samples as one row per sample and as one blob per window
 * (series_codec.c), then reads one session back, and prints samples/s and
 * bytes per sample for each. The collector uses the layout this favours. */
#include "series_codec.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define SESSIONS 100
#define WINDOWS 100
#define PER_WINDOW 100 /* 10 Hz, 10 s windows: 1,000,000 samples in all */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db;
    unlink(path);
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
    return db;
}

static long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

int main(void)
{
    const double total = (double)SESSIONS * WINDOWS * PER_WINDOW;
    memgauge__series_t s;
    memgauge__series_alloc(&s, PER_WINDOW, 1, 0);
    s.unit_bytes = 16384;
    uint64_t rnd = 88172645463325252ull;

    /* rows: one per sample, indexed for reading a session in time order */
    sqlite3 *db = open_db("/tmp/memgauge-layout-rows.db");
    sqlite3_exec(db,
                 "CREATE TABLE samples (session INTEGER, t_ms INTEGER, footprint INTEGER, "
                 "resident INTEGER, PRIMARY KEY (session, t_ms)) WITHOUT ROWID",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO samples VALUES (?, ?, ?, ?)", -1, &ins, NULL);
    double t0 = now_s();
    for (int w = 0; w < WINDOWS; w++)
        for (int se = 0; se < SESSIONS; se++) { /* one transaction per window, as batches come */
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            for (int i = 0; i < PER_WINDOW; i++) {
                rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
                sqlite3_bind_int(ins, 1, se);
                sqlite3_bind_int64(ins, 2, (w * PER_WINDOW + i) * 100);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64)((11520 + rnd % 64) * 16384));
                sqlite3_bind_int64(ins, 4, (sqlite3_int64)((12520 + rnd % 64) * 16384));
                sqlite3_step(ins);
                sqlite3_reset(ins);
            }
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
    double rows_write = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_stmt *sel;
    sqlite3_prepare_v2(db,
                       "SELECT t_ms, footprint, resident FROM samples WHERE session = 42 "
                       "ORDER BY t_ms",
                       -1, &sel, NULL);
    t0 = now_s();
    uint64_t sum = 0;
    while (sqlite3_step(sel) == SQLITE_ROW)
        sum += (uint64_t)sqlite3_column_int64(sel, 1);
    double rows_read = now_s() - t0;
    sqlite3_finalize(sel);
    sqlite3_close(db);
    long rows_bytes = file_size("/tmp/memgauge-layout-rows.db");

    /* blobs: one per window */
    db = open_db("/tmp/memgauge-layout-blobs.db");
    sqlite3_exec(db,
                 "CREATE TABLE windows (session INTEGER, start_ms INTEGER, series BLOB); "
                 "CREATE INDEX windows_by_session ON windows(session, start_ms)",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO windows VALUES (?, ?, ?)", -1, &ins, NULL);
    t0 = now_s();
    for (int w = 0; w < WINDOWS; w++)
        for (int se = 0; se < SESSIONS; se++) {
            for (int i = 0; i < PER_WINDOW; i++) {
                rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
                s.t_ms[i] = (uint64_t)(w * PER_WINDOW + i) * 100;
                s.footprint[i] = (11520 + rnd % 64) * 16384;
                s.resident[i] = (12520 + rnd % 64) * 16384;
            }
            unsigned char *blob;
            size_t len;
            memgauge__series_encode(&s, &blob, &len);
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
            sqlite3_bind_int(ins, 1, se);
            sqlite3_bind_int64(ins, 2, w * PER_WINDOW * 100);
            sqlite3_bind_blob(ins, 3, blob, (int)len, free);
            sqlite3_step(ins);
            sqlite3_reset(ins);
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
    double blobs_write = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_prepare_v2(db, "SELECT series FROM windows WHERE session = 42 ORDER BY start_ms", -1,
                       &sel, NULL);
    t0 = now_s();
    while (sqlite3_step(sel) == SQLITE_ROW) {
        memgauge__series_t d;
        memgauge__series_decode(sqlite3_column_blob(sel, 0), (size_t)sqlite3_column_bytes(sel, 0),
                                100000, &d);
        for (size_t i = 0; i < d.n; i++)
            sum += d.footprint[i];
        memgauge__series_clear(&d);
    }
    double blobs_read = now_s() - t0;
    sqlite3_finalize(sel);
    sqlite3_close(db);
    long blobs_bytes = file_size("/tmp/memgauge-layout-blobs.db");
    memgauge__series_clear(&s);
    unlink("/tmp/memgauge-layout-rows.db");
    unlink("/tmp/memgauge-layout-blobs.db");

    printf("layout: %d sessions x %d windows x %d samples, one transaction per window\n", SESSIONS,
           WINDOWS, PER_WINDOW);
    printf("layout: rows  write %9.0f samples/s, read one session %7.2f ms, %5.1f bytes/sample\n",
           total / rows_write, rows_read * 1e3, (double)rows_bytes / total);
    printf("layout: blobs write %9.0f samples/s, read one session %7.2f ms, %5.1f bytes/sample\n",
           total / blobs_write, blobs_read * 1e3, (double)blobs_bytes / total);
    printf("layout: blobs/rows: write x%.1f, read x%.1f, size x%.2f (checksum %llu)\n",
           rows_write / blobs_write, rows_read / blobs_read, (double)blobs_bytes / rows_bytes,
           (unsigned long long)(sum % 1000));
    return 0;
}
