/* What the collector benchmarks share: a monotonic clock, a cheap
 * deterministic generator, a comparison for qsort, starting and stopping the
 * real memgauge-collector (MEMGAUGE_COLLECTOR_BIN, set by the build) on a
 * database, and a new PostgreSQL database per run. Single-threaded use;
 * exits the benchmark on failure. */
#ifndef MEMGAUGE_COLLECTOR_BENCH_HARNESS_H
#define MEMGAUGE_COLLECTOR_BENCH_HARNESS_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#define BENCH_KEY "bench-key-0123456789"
#define BENCH_READ_TOKEN "bench-read-token-0123456789"

/* Seconds on the monotonic clock. */
double bench_now_s(void);
/* The machine's busy (all but idle and iowait) and total CPU ticks since
 * boot, every core and process (Linux /proc/stat). 1, or 0 when unknown. */
int bench_machine_ticks(unsigned long long *busy, unsigned long long *total);
/* xorshift64: the next value of the sequence *state (nonzero) starts. */
uint64_t bench_next_rand(uint64_t *state);
/* qsort comparison of doubles, ascending. */
int bench_cmp_double(const void *a, const void *b);

/* Starts the collector on 127.0.0.1, any port, with --db db, --api-key
 * BENCH_KEY, --read-token BENCH_READ_TOKEN, --quiet, --retention-days 0
 * (the benchmarks' batches start in 2024) and its port file and log in
 * dir. Waits up to 60 s for it to listen and returns its pid with *port
 * set; when it does not, says so prefixed with `who`, kills it and exits 1.
 * `extra`: more arguments, NULL-terminated (or NULL). Borrows every string. */
pid_t bench_start_collector(const char *who, const char *db, const char *dir,
                            const char *const *extra, int *port);

/* Stops a collector bench_start_collector started (SIGTERM, then waits) and
 * fills *ru with the CPU it used. Returns 1 when it exited with status 0. */
int bench_stop_collector(pid_t pid, struct rusage *ru);

/* Whether url names a PostgreSQL database ("postgres://", "postgresql://"). */
int bench_is_pg(const char *url);
/* Creates the empty database `name` on the server url names (dropping one
 * of that name first) and returns the new database's URL, malloc'd: url with
 * its path replaced. Needs a role that may create databases; when the server
 * refuses, says why prefixed with `who` and exits 1. Borrows its strings. */
char *bench_pg_create_db(const char *who, const char *url, const char *name);
/* Drops the database `name` on the server url names, closing what is still
 * connected to it. 0, or -1 after saying why prefixed with `who`. */
int bench_pg_drop_db(const char *who, const char *url, const char *name);

#endif
