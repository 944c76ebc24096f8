/*
 * sample_cost: what one memgauge_read() costs next to the other ways a Linux
 * process can learn its own memory use, and what the sampler thread costs
 * running at 10 Hz. It prints figures and PASS/MISS against the targets; a
 * MISS is information, not a failure, so it exits 0 (2 on a bad command line,
 * 1 if the library refuses to work).
 *
 * The baselines read Linux's /proc; the program needs it.
 */
#define _DEFAULT_SOURCE /* pread, getrusage, nanosleep with -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#define PROGRAM "sample_cost"

#define NS_PER_S UINT64_C(1000000000)
#define NS_PER_MS UINT64_C(1000000)

/* Batches per method and calls per batch; the figure is the median batch. */
#define FULL_BATCHES 15u
#define FULL_CALLS 2000u
#define QUICK_BATCHES 5u
#define QUICK_CALLS 200u

#define DEFAULT_SAMPLER_SECONDS 30u
#define QUICK_SAMPLER_SECONDS 3u
#define MAX_SAMPLER_SECONDS 3600u
#define MAX_SECONDS_TEXT "3600"
#define SAMPLER_INTERVAL_MS 100u
#define STOP_TIMEOUT_MS 2000u

/* Targets. */
#define TARGET_VS_EXACT 1.2 /* memgauge_read at most this many times the exact baseline */
#define TARGET_VS_NAIVE 5.0 /* the naive parse at least this many times memgauge_read */
#define TARGET_CPU_PCT 0.01 /* sampler CPU, percent of one core */

/* Most the bench will touch to get its own peak past one inherited across
 * exec(), and the margin it adds above it. */
#define MAX_OUTGROW_BYTES (UINT64_C(512) << 20)
#define OUTGROW_MARGIN_BYTES (UINT64_C(4) << 20)

/* /proc/self/status is ~1.5 KB; statm is one short line. */
#define STATUS_BUF 4096
#define STATM_BUF 256
#define NAIVE_LINE 256

typedef struct probes_s {
    int statm_fd;  /* held open, read with pread at offset 0 */
    int status_fd; /* held open, read with pread at offset 0 */
    uint64_t page_size;
} probes_t;

typedef struct method_s {
    const char *name;
    uint64_t (*call)(const probes_t *p); /* returns figures folded into a sink */
} method_t;

typedef struct config_s {
    unsigned batches;
    unsigned calls;
    unsigned sampler_seconds;
} config_t;

typedef struct status_fields_s {
    uint64_t rss_kb;
    uint64_t hwm_kb;
    uint64_t swap_kb;
    uint64_t anon_kb;
} status_fields_t;

/* Results feed this so that no call can be optimized away. */
static volatile uint64_t sink;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Sleeps until the monotonic clock reaches `deadline`, whatever interrupts. */
static void sleep_until(uint64_t deadline)
{
    for (uint64_t t = now_ns(); t < deadline; t = now_ns()) {
        uint64_t ns = deadline - t;
        struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};
        nanosleep(&ts, NULL);
    }
}

/* The unsigned decimal at *p after any spaces or tabs. */
static uint64_t parse_decimal(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    uint64_t v = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

/* Sets *out from the line [p, end) if it starts with `key`. */
static void match_kb(const char *p, const char *end, const char *key, uint64_t *out)
{
    size_t len = strlen(key);
    if ((size_t)(end - p) > len && memcmp(p, key, len) == 0)
        *out = parse_decimal(p + len, end);
}

/* One pass over the lines of /proc/self/status. RssAnon is what statm's
 * resident - shared counts (both are MM_ANONPAGES, fs/proc/task_mmu.c), so
 * this parse alone is also an exact footprint. */
static void parse_status(const char *buf, size_t len, status_fields_t *out)
{
    const char *end = buf + len;
    for (const char *p = buf; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        if (p[0] == 'V') {
            match_kb(p, line_end, "VmHWM:", &out->hwm_kb);
            match_kb(p, line_end, "VmRSS:", &out->rss_kb);
            match_kb(p, line_end, "VmSwap:", &out->swap_kb);
        } else if (p[0] == 'R') {
            match_kb(p, line_end, "RssAnon:", &out->anon_kb);
        }
        p = line_end + 1;
    }
}

/* SwapTotal in kB from /proc/meminfo, or -1 if it cannot be read. */
static long long swap_total_kb(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return -1;
    char line[NAIVE_LINE];
    long long kb = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "SwapTotal: %lld", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

/* ------------------------------------------------------------------------ */
/* The methods                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t call_memgauge_read(const probes_t *p)
{
    (void)p;
    memgauge_reading_t r;
    if (memgauge_read(&r) != MEMGAUGE_OK)
        return 0;
    return r.footprint_bytes + r.resident_bytes + r.peak_bytes;
}

/* Footprint and resident bytes from statm's "size resident shared ..." pages. */
static uint64_t call_statm(const probes_t *p)
{
    char buf[STATM_BUF];
    ssize_t n = pread(p->statm_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *q = buf;
    strtoull(q, &q, 10); /* size: not needed */
    uint64_t resident = strtoull(q, &q, 10);
    uint64_t shared = strtoull(q, &q, 10);
    return (resident - shared) * p->page_size + resident * p->page_size;
}

static uint64_t call_status(const probes_t *p)
{
    char buf[STATUS_BUF];
    ssize_t n = pread(p->status_fd, buf, sizeof buf, 0);
    if (n <= 0)
        return 0;
    status_fields_t f = {0};
    parse_status(buf, (size_t)n, &f);
    return (f.anon_kb + f.swap_kb + f.rss_kb + f.hwm_kb) * 1024;
}

/* ru_maxrss is the kernel's resident high-water mark (VmHWM), in KiB. */
static uint64_t call_getrusage(const probes_t *p)
{
    (void)p;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

static uint64_t call_statm_getrusage(const probes_t *p)
{
    return call_statm(p) + call_getrusage(p);
}

/* What a hand-written monitor typically does: open, scan lines, close. */
static uint64_t call_naive_status(const probes_t *p)
{
    (void)p;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[NAIVE_LINE];
    unsigned long long rss = 0, hwm = 0, swap = 0, anon = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            sscanf(line + 6, "%llu", &rss);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            sscanf(line + 6, "%llu", &hwm);
        else if (strncmp(line, "VmSwap:", 7) == 0)
            sscanf(line + 7, "%llu", &swap);
        else if (strncmp(line, "RssAnon:", 8) == 0)
            sscanf(line + 8, "%llu", &anon);
    }
    fclose(f);
    return (rss + hwm + swap + anon) * 1024;
}

enum { M_READ, M_STATM, M_STATUS, M_GETRUSAGE, M_STATM_GETRUSAGE, M_NAIVE, M_COUNT };

static const method_t methods[M_COUNT] = {
    [M_READ] = {"memgauge_read()", call_memgauge_read},
    [M_STATM] = {"statm: held fd, pread + parse", call_statm},
    [M_STATUS] = {"status: held fd, pread + parse", call_status},
    [M_GETRUSAGE] = {"getrusage(RUSAGE_SELF)", call_getrusage},
    [M_STATM_GETRUSAGE] = {"statm + getrusage", call_statm_getrusage},
    [M_NAIVE] = {"status: fopen/fgets/fclose", call_naive_status},
};

/* ------------------------------------------------------------------------ */
/* Measuring                                                                */
/* ------------------------------------------------------------------------ */

static int open_probe(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fprintf(stderr, PROGRAM ": %s: %s\n", path, strerror(errno));
    return fd;
}

/* Returns 0, or -1 after naming the file that could not be opened. */
static int open_probes(probes_t *p)
{
    long ps = sysconf(_SC_PAGESIZE);
    p->page_size = ps > 0 ? (uint64_t)ps : 4096;
    p->statm_fd = open_probe("/proc/self/statm");
    p->status_fd = open_probe("/proc/self/status");
    return p->statm_fd >= 0 && p->status_fd >= 0 ? 0 : -1;
}

static void close_probes(probes_t *p)
{
    if (p->statm_fd >= 0)
        close(p->statm_fd);
    if (p->status_fd >= 0)
        close(p->status_fd);
}

static double batch_ns_per_call(const method_t *m, const probes_t *p, unsigned calls)
{
    uint64_t acc = 0;
    uint64_t start = now_ns();
    for (unsigned i = 0; i < calls; i++)
        acc += m->call(p);
    uint64_t elapsed = now_ns() - start;
    sink += acc;
    return (double)elapsed / (double)calls;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Batches of all methods take turns, so a change of CPU frequency or a noisy
 * neighbour during the run affects every method alike. */
static void measure_all(const probes_t *p, const config_t *cfg, double ns[M_COUNT])
{
    double *runs = calloc((size_t)M_COUNT * cfg->batches, sizeof *runs);
    if (runs == NULL) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        exit(1);
    }
    for (int m = 0; m < M_COUNT; m++)
        batch_ns_per_call(&methods[m], p, cfg->calls / 10 + 1); /* warm caches */
    for (unsigned b = 0; b < cfg->batches; b++) {
        for (int m = 0; m < M_COUNT; m++)
            runs[(size_t)m * cfg->batches + b] = batch_ns_per_call(&methods[m], p, cfg->calls);
    }
    for (int m = 0; m < M_COUNT; m++)
        ns[m] = median(&runs[(size_t)m * cfg->batches], cfg->batches);
    free(runs);
}

/* ru_maxrss survives exec() (fs/exec.c, setmax_mm_hiwater_rss): a process
 * started by a bigger parent reports the parent's peak until its own passes
 * it. Until then getrusage is no exact peak and memgauge_read must read
 * status as well. An app passes that point early in its life; the bench gets
 * there by touching memory, so that it measures the steady state. */
static void outgrow_inherited_peak(const probes_t *p)
{
    struct rusage ru;
    char buf[STATUS_BUF];
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    ssize_t n = pread(p->status_fd, buf, sizeof buf, 0);
    status_fields_t f = {0};
    if (n > 0)
        parse_status(buf, (size_t)n, &f);
    uint64_t inherited = (uint64_t)ru.ru_maxrss * 1024, own = f.hwm_kb * 1024;
    if (n <= 0 || inherited <= own)
        return;
    uint64_t need = inherited - own + OUTGROW_MARGIN_BYTES;
    printf("note: ru_maxrss %" PRIu64 " kB is inherited across exec (own VmHWM %" PRIu64 " kB); ",
           inherited / 1024, own / 1024);
    if (need > MAX_OUTGROW_BYTES) {
        printf("too far to outgrow: memgauge_read will also read status\n\n");
        return;
    }
    void *mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        printf("could not map memory to outgrow it\n\n");
        return;
    }
    for (uint64_t off = 0; off < need; off += p->page_size)
        ((volatile unsigned char *)mem)[off] = 1;
    munmap(mem, need); /* the high-water mark stays */
    printf("touched %" PRIu64 " MiB to pass it\n\n", need >> 20);
}

/* ------------------------------------------------------------------------ */
/* Reporting the read cost                                                  */
/* ------------------------------------------------------------------------ */

static const char *verdict(int pass)
{
    return pass ? "PASS" : "MISS";
}

static void print_table(const double ns[M_COUNT], const config_t *cfg)
{
    printf("per-call cost: median of %u batches of %u calls, CLOCK_MONOTONIC\n\n", cfg->batches,
           cfg->calls);
    printf("  %-34s %12s %18s\n", "method", "ns/call", "x memgauge_read");
    for (int m = 0; m < M_COUNT; m++)
        printf("  %-34s %12.1f %17.2fx\n", methods[m].name, ns[m], ns[m] / ns[M_READ]);
    printf("\n");
}

/* With swap configured the footprint needs VmSwap, which only status has, so
 * the cheapest exact way becomes the held-fd status parse (RssAnon + VmSwap,
 * VmRSS, VmHWM) and memgauge_read must read status as well. */
static void print_read_targets(const double ns[M_COUNT], long long swap_kb)
{
    int swap = swap_kb > 0;
    int exact = swap ? M_STATUS : M_STATM_GETRUSAGE;
    if (swap_kb < 0)
        printf("swap: unknown (/proc/meminfo unreadable); taking it as not configured\n");
    else if (swap)
        printf("swap: configured (SwapTotal %lld kB): VmSwap must be read from status, so the\n"
               "      exact baseline is the held-fd status parse and the naive parse reads the\n"
               "      same file memgauge_read does\n",
               swap_kb);
    else
        printf("swap: not configured (SwapTotal 0 kB): statm + getrusage is exact\n");

    double vs_exact = ns[M_READ] / ns[exact];
    double vs_naive = ns[M_NAIVE] / ns[M_READ];
    printf("target 1: memgauge_read <= %.1fx %s: %.2fx  %s\n", TARGET_VS_EXACT, methods[exact].name,
           vs_exact, verdict(vs_exact <= TARGET_VS_EXACT));
    printf("target 2: memgauge_read >= %.0fx cheaper than the naive parse: %.2fx  %s\n\n",
           TARGET_VS_NAIVE, vs_naive, verdict(vs_naive >= TARGET_VS_NAIVE));
}

/* ------------------------------------------------------------------------ */
/* The sampler's own CPU                                                    */
/* ------------------------------------------------------------------------ */

static int library_error(const char *call, int code)
{
    fprintf(stderr, PROGRAM ": %s: %s\n", call, memgauge_strerror(code));
    return 1;
}

/* A thread that does nothing but wake on the sampler's schedule, the way the
 * sampler waits (a timed condition wait on absolute monotonic deadlines).
 * Its CPU is what any 10 Hz thread costs on this machine before doing work. */
typedef struct idle_ticker_s {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    uint64_t first_deadline_ns;
    uint64_t ticks;
    uint64_t cpu_ns;
} idle_ticker_t;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void *idle_ticker_main(void *arg)
{
    idle_ticker_t *t = arg;
    uint64_t deadline = t->first_deadline_ns;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        struct timespec ts = {.tv_sec = (time_t)(deadline / NS_PER_S),
                              .tv_nsec = (long)(deadline % NS_PER_S)};
        if (pthread_cond_timedwait(&t->wake, &t->lock, &ts) != ETIMEDOUT)
            continue; /* woken to stop, or spuriously */
        t->ticks++;
        t->cpu_ns = thread_cpu_ns();
        deadline += SAMPLER_INTERVAL_MS * NS_PER_MS;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* Starts the ticker half an interval out of phase with a sampler started at
 * `t0`, so that each thread wakes the CPU on its own, as it would alone. */
static int idle_ticker_start(idle_ticker_t *t, uint64_t t0)
{
    pthread_condattr_t attr;
    memset(t, 0, sizeof *t);
    t->first_deadline_ns = t0 + SAMPLER_INTERVAL_MS * NS_PER_MS / 2;
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    return pthread_create(&t->thread, NULL, idle_ticker_main, t);
}

static void idle_ticker_stop(idle_ticker_t *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
}

static double pct_of_core(uint64_t cpu_ns, uint64_t wall_ns)
{
    return 100.0 * (double)cpu_ns / (double)wall_ns;
}

static void print_sampler(const memgauge_stats_t *s, const idle_ticker_t *idle, uint64_t wall)
{
    double pct = pct_of_core(s->sampler_cpu_ns, wall);
    double per_sample = s->samples ? (double)s->sampler_cpu_ns / (double)s->samples : 0.0;
    printf("sampler: interval %u ms for %.2f s wall: %" PRIu64 " samples, %" PRIu64
           " overruns, %" PRIu64 " read errors\n",
           SAMPLER_INTERVAL_MS, (double)wall / (double)NS_PER_S, s->samples, s->overruns,
           s->read_errors);
    printf("sampler: thread CPU %.3f ms (%.0f ns per sample) = %.5f %% of one core\n",
           (double)s->sampler_cpu_ns / (double)NS_PER_MS, per_sample, pct);
    if (idle->ticks != 0) {
        double idle_pct = pct_of_core(idle->cpu_ns, wall);
        printf("floor:   an empty thread waking every %u ms: %.0f ns per wake = %.5f %%\n"
               "         (sampler minus floor: %.5f %%)\n",
               SAMPLER_INTERVAL_MS, (double)idle->cpu_ns / (double)idle->ticks, idle_pct,
               pct - idle_pct);
    }
    printf("target 3: sampler CPU at 10 Hz < %.2f %% of one core: %.5f %%  %s\n", TARGET_CPU_PCT,
           pct, verdict(pct < TARGET_CPU_PCT));
}

/* Runs the sampler at 10 Hz for `seconds`, next to an idle ticker, and prints
 * the CPU of both as a share of one core over the wall time. Returns 0, or 1
 * after a library error. */
static int measure_sampler(unsigned seconds)
{
    memgauge_options_t opts;
    memgauge_t *gauge = NULL;
    int rc = memgauge_options_init(&opts);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_options_init", rc);
    opts.interval_ms = SAMPLER_INTERVAL_MS;
    uint64_t t0 = now_ns();
    rc = memgauge_start(&opts, &gauge);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_start", rc);
    idle_ticker_t idle;
    int idle_rc = idle_ticker_start(&idle, t0);
    sleep_until(t0 + seconds * NS_PER_S);

    memgauge_stats_t s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    rc = memgauge_get_stats(gauge, &s);
    uint64_t wall = now_ns() - t0;
    int stop_rc = memgauge_stop(gauge, STOP_TIMEOUT_MS);
    if (idle_rc == 0)
        idle_ticker_stop(&idle);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_get_stats", rc);
    if (stop_rc != MEMGAUGE_OK)
        return library_error("memgauge_stop", stop_rc);
    print_sampler(&s, &idle, wall);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

static void print_usage(FILE *to)
{
    fprintf(to,
            "usage: " PROGRAM " [--seconds N] [--quick] [--help]\n"
            "\n"
            "  --seconds N   how long the sampler runs at 10 Hz, 1..%u (default %u)\n"
            "  --quick       short batches and a %u s sampler phase, for smoke runs\n"
            "                (an explicit --seconds still wins)\n",
            MAX_SAMPLER_SECONDS, DEFAULT_SAMPLER_SECONDS, QUICK_SAMPLER_SECONDS);
}

static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, PROGRAM ": %s%s\n", what, detail);
    print_usage(stderr);
    return 2;
}

/* Decimal digits only, within [1, MAX_SAMPLER_SECONDS]. */
static int parse_seconds(const char *text, unsigned *out)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < 1 || v > MAX_SAMPLER_SECONDS)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Returns 0 to run, 1 for --help, 2 for a bad command line (already reported). */
static int parse_args(int argc, char **argv, config_t *cfg)
{
    int quick = 0;
    unsigned seconds = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strcmp(arg, "--quick") == 0) {
            quick = 1;
            continue;
        }
        if (strncmp(arg, "--seconds=", 10) == 0)
            value = arg + 10;
        else if (strcmp(arg, "--seconds") == 0 && i + 1 < argc)
            value = argv[++i];
        else if (strcmp(arg, "--seconds") == 0)
            return usage_error("--seconds", " needs a value");
        else
            return usage_error("unknown option: ", arg);
        if (parse_seconds(value, &seconds) != 0)
            return usage_error("--seconds: not a whole number between 1 and " MAX_SECONDS_TEXT ": ",
                               value);
    }
    cfg->batches = quick ? QUICK_BATCHES : FULL_BATCHES;
    cfg->calls = quick ? QUICK_CALLS : FULL_CALLS;
    cfg->sampler_seconds = seconds ? seconds
                           : quick ? QUICK_SAMPLER_SECONDS
                                   : DEFAULT_SAMPLER_SECONDS;
    return 0;
}

int main(int argc, char **argv)
{
    config_t cfg = {0};
    int rc = parse_args(argc, argv, &cfg);
    if (rc == 1) {
        print_usage(stdout);
        return 0;
    }
    if (rc != 0)
        return rc;

    memgauge_reading_t probe;
    rc = memgauge_read(&probe);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_read", rc);
    printf(PROGRAM ": memgauge %s, footprint source %s\n\n", memgauge_version(),
           memgauge_source_name(probe.footprint_source));

    probes_t probes;
    if (open_probes(&probes) != 0) {
        close_probes(&probes);
        return 1;
    }
    outgrow_inherited_peak(&probes);
    double ns[M_COUNT];
    measure_all(&probes, &cfg, ns);
    close_probes(&probes);
    print_table(ns, &cfg);
    print_read_targets(ns, swap_total_kb());
    fflush(stdout);
    return measure_sampler(cfg.sampler_seconds);
}
