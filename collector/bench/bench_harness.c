#include "bench_harness.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* how long a collector may take to listen: a large database is checked at start */
#define START_WAIT_MS 60000
#define START_POLL_MS 10

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t bench_next_rand(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_machine_ticks(unsigned long long *busy, unsigned long long *total)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                       &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f)
        fclose(f);
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4]; /* all but idle and iowait */
    return n == 8;
}

pid_t bench_start_collector(const char *who, const char *db, const char *dir,
                            const char *const *extra, int *port)
{
    char portfile[512], log[512];
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(log, sizeof log, "%s/collector.log", dir);
    unlink(portfile); /* a previous run's port is not this one's */
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[64] = {MEMGAUGE_COLLECTOR_BIN,
                                "--listen",
                                "127.0.0.1:0",
                                "--db",
                                db,
                                "--api-key",
                                BENCH_KEY,
                                "--read-token",
                                BENCH_READ_TOKEN,
                                "--port-file",
                                portfile,
                                "--log",
                                log,
                                "--quiet",
                                "--retention-days",
                                "0"};
        size_t n = 16;
        for (; extra != NULL && *extra != NULL && n + 1 < sizeof argv / sizeof *argv; extra++)
            argv[n++] = *extra;
        argv[n] = NULL;
        execv(MEMGAUGE_COLLECTOR_BIN, (char *const *)argv);
        _exit(127);
    }
    for (int waited = 0; pid > 0 && waited < START_WAIT_MS; waited += START_POLL_MS) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", port) == 1;
            fclose(f);
            if (ok)
                return pid;
        }
        usleep(START_POLL_MS * 1000);
    }
    fprintf(stderr, "%s: the collector did not start (see %s)\n", who, log);
    if (pid > 0)
        kill(pid, SIGKILL);
    exit(1);
}

int bench_stop_collector(pid_t pid, struct rusage *ru)
{
    int status = 0;
    memset(ru, 0, sizeof *ru);
    kill(pid, SIGTERM);
    if (wait4(pid, &status, 0, ru) != pid)
        return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int bench_is_pg(const char *url)
{
    return !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "does not exist, skipping" */
}

/* One statement on the database url names; 0 or -1 (said, prefixed with who). */
static int pg_admin(const char *who, const char *url, const char *sql)
{
    PGconn *c = PQconnectdb(url);
    int rc = -1;
    PQsetNoticeProcessor(c, quiet, NULL);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: cannot connect to %s: %s", who, url, PQerrorMessage(c));
    } else {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            rc = 0;
        else
            fprintf(stderr, "%s: %s: %s", who, sql, PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

char *bench_pg_create_db(const char *who, const char *url, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    if (pg_admin(who, url, sql))
        exit(1);
    snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\"", name);
    if (pg_admin(who, url, sql))
        exit(1);
    /* scheme://authority[/database][?parameters]: the path is replaced */
    const char *authority = strstr(url, "://") + 3;
    size_t head = strcspn(authority, "/?") + (size_t)(authority - url);
    const char *params = strchr(url + head, '?');
    size_t len = head + 1 + strlen(name) + (params ? strlen(params) : 0) + 1;
    char *out = malloc(len);
    if (!out)
        exit(1);
    snprintf(out, len, "%.*s/%s%s", (int)head, url, name, params ? params : "");
    return out;
}

int bench_pg_drop_db(const char *who, const char *url, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    return pg_admin(who, url, sql);
}
