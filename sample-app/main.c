/*
 * memgauge-sample: uses memgauge the way an app would (the public header and
 * nothing else) while it moves its own footprint in a known shape, so that
 * what the SDK reports can be checked against what the program allocated.
 *
 * Every scenario writes to private anonymous pages: that is what the
 * footprint counts, and an untouched mapping costs nothing.
 *
 * At start it prints how the previous run with the same state directory
 * (--state-dir) ended (the SDK's session record), so that a run killed for
 * memory can be followed by one that says so.
 */
#define _DEFAULT_SOURCE  /* MAP_ANONYMOUS, sigaction, nanosleep with -std=c11 */
#define _DARWIN_C_SOURCE /* the same on macOS */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <memgauge/memgauge.h>

#define PROGRAM "memgauge-sample"

#define MIB ((uint64_t)1 << 20)
#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)

/* Command-line defaults and ranges. --interval-ms and --trail-seconds take
 * the library's own ranges (memgauge_option_range), so a bad value is caught
 * here with a usage message. */
#define DEFAULT_DURATION_S 10u
#define MAX_DURATION_S 86400u
#define DEFAULT_INTERVAL_MS 1000u
#define DEFAULT_LEAK_MIB_PER_S 8u
#define MAX_LEAK_MIB_PER_S 1024u
/* Trail points of the previous session printed after its verdict. */
#define PREVIOUS_TRAIL_LINES 5u

/* Scenario shapes. */
#define STEADY_BYTES (64 * MIB)
#define LEAK_CHUNK_BYTES (1 * MIB)
#define SPIKE_BASELINE_BYTES (32 * MIB)
#define SPIKE_BYTES (200 * MIB)
#define SPIKE_PERIOD_NS (3 * NS_PER_S)
/* Spikes start half a second off the whole seconds on which the default
 * 1 s sampler ticks, so no sample sees one: only the kernel's peak does. */
#define SPIKE_FIRST_NS (1500 * NS_PER_MS)
#define SAWTOOTH_TOP_BYTES (256 * MIB)
#define SAWTOOTH_MIB_PER_S 64u

/* The main loop wakes at least this often to grow the workload smoothly. */
#define TICK_NS (20 * NS_PER_MS)
/* Progress lines are printed this long after each whole second, so that the
 * sample the sampler took on that second (1 s interval) is already in. */
#define PRINT_LAG_NS (50 * NS_PER_MS)
#define STOP_TIMEOUT_MS 2000u
/* A demo's sessions last seconds, not the hours the library's defaults
 * (60 s windows, a batch every 5 minutes) are made for: 10 s windows in
 * batches of a minute show them on the dashboard while they run. */
#define DEMO_WINDOW_MS 10000u
#define DEMO_REPORT_INTERVAL_MS 60000u

typedef enum scenario_e {
    SCENARIO_STEADY,
    SCENARIO_LEAK,
    SCENARIO_SPIKE,
    SCENARIO_SAWTOOTH
} scenario_t;

static const char *const scenario_names[] = {"steady", "leak", "spike", "sawtooth"};

typedef struct config_s {
    scenario_t scenario;
    uint32_t duration_s;
    uint32_t interval_ms;
    uint32_t leak_mib_per_s;
    int leak_rate_given;
    int quiet;
    /* the session record; NULL strings keep the SDK's defaults */
    int record;
    const char *state_dir;
    const char *app_id;
    const char *app_version;
    const char *app_build;
    uint32_t trail_seconds;
    int trail_given;
    /* reporting; NULL: no collector */
    const char *collector;
    const char *api_key;
} config_t;

/* A range of address space whose pages are written (made resident) in order. */
typedef struct region_s {
    volatile unsigned char *base;
    size_t size;
    size_t touched; /* bytes from base already written, a multiple of the page size */
} region_t;

typedef struct workload_s {
    scenario_t scenario;
    uint64_t leak_bytes_per_s;
    region_t held;         /* steady's block, spike's baseline, sawtooth's ramp */
    uint64_t leaked_bytes; /* leak: bytes written and never freed */
    uint64_t next_spike_ns;
    uint64_t cycle_start_ns; /* sawtooth: when the current ramp began */
} workload_t;

/* What the previous progress line showed, to print the change since. */
typedef struct progress_s {
    int printed_any;
    uint64_t prev_bytes;
} progress_t;

static volatile sig_atomic_t stop_requested;
static size_t page_size = 4096;

/* ------------------------------------------------------------------------ */
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

static void print_usage(FILE *to)
{
    /* the library's own ranges and defaults, not copies of them */
    double interval_min = 0, interval_max = 0, trail_min = 0, trail_max = 0;
    memgauge_option_range("interval_ms", &interval_min, &interval_max);
    memgauge_option_range("trail_seconds", &trail_min, &trail_max);
    memgauge_options_t defaults;
    memgauge_options_init(&defaults);
    fprintf(
        to,
        "usage: " PROGRAM " [--scenario steady|leak|spike|sawtooth] [--duration SECONDS]\n"
        "                       [--interval-ms N] [--leak-mb-per-s N] [--quiet] [--help]\n"
        "                       [--state-dir DIR] [--app-id ID] [--app-version V]\n"
        "                       [--app-build B] [--trail-seconds N] [--no-record]\n"
        "                       [--collector URL] [--api-key KEY]\n"
        "\n"
        "  --scenario S        steady: hold 64 MiB; leak: grow and never free;\n"
        "                      spike: 32 MiB plus a 200 MiB burst freed at once, every 3 s;\n"
        "                      sawtooth: grow to 256 MiB at 64 MiB/s, free, repeat\n"
        "                      (default steady)\n"
        "  --duration S        seconds to run, 1..%u (default %u)\n"
        "  --interval-ms N     sampling interval, %.0f..%.0f (default %u)\n"
        "  --leak-mb-per-s N   leak rate in MiB per second, 1..%u (default %u)\n"
        "  --quiet             print only the final summary line\n"
        "  --state-dir DIR     where the session record lives (default: the SDK's\n"
        "                      per-app directory, e.g. ~/.local/state/memgauge/<app id>)\n"
        "  --app-id ID         app id, 1..63 of A-Z a-z 0-9 . _ - (default: " PROGRAM ")\n"
        "  --app-version V     app version, at most 31 bytes; a change reads as an upgrade\n"
        "  --app-build B       app build, at most 31 bytes\n"
        "  --trail-seconds N   seconds of samples the record keeps, %.0f..%.0f (default %" PRIu32
        ")\n"
        "  --no-record         keep no session record (the five options above then\n"
        "                      do not apply)\n"
        "  --collector URL     report to a memgauge-collector, e.g. http://127.0.0.1:8080\n"
        "                      (a URL without a path gets /v1/reports appended)\n"
        "  --api-key KEY       the collector's API key (sent as a bearer token)\n"
        "\n"
        "Prints how the previous run with the same state directory ended:\n"
        "'previous verdict=V confidence=C evidence=E,... last_footprint_bytes=N ...\n"
        "session=UUID', then up to %u lines 'trail seq=N wall_ns=N footprint_bytes=N ...'\n"
        "for the last samples it recorded; then one progress line per second and, at\n"
        "the end, a line 'final samples=N min_bytes=N max_bytes=N peak_bytes=N\n"
        "mean_bytes=N kernel_peak_bytes=N ...'. SIGINT or SIGTERM ends the run early.\n",
        MAX_DURATION_S, DEFAULT_DURATION_S, interval_min, interval_max, DEFAULT_INTERVAL_MS,
        MAX_LEAK_MIB_PER_S, DEFAULT_LEAK_MIB_PER_S, trail_min, trail_max, defaults.trail_seconds,
        PREVIOUS_TRAIL_LINES);
}

/* Names the problem, then shows the usage; returns the exit status for it. */
static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, PROGRAM ": %s%s\n", what, detail);
    print_usage(stderr);
    return 2;
}

/* Decimal digits only: strtoul alone would accept "-1", " 5" and "5x". */
static int parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

static int parse_scenario(const char *text, scenario_t *out)
{
    for (size_t i = 0; i < sizeof scenario_names / sizeof scenario_names[0]; i++) {
        if (strcmp(text, scenario_names[i]) == 0) {
            *out = (scenario_t)i;
            return 0;
        }
    }
    return -1;
}

/* Matches "--name VALUE" (advancing *i) or "--name=VALUE". Returns 1 and sets
 * *value on a match, 0 if argv[*i] is another option, -1 if VALUE is missing. */
static int option_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

/* Reads one number option into *out; returns 0, or the exit status 2. */
static int number_option(const char *name, const char *value, uint32_t min, uint32_t max,
                         uint32_t *out)
{
    if (parse_u32(value, min, max, out) == 0)
        return 0;
    char detail[128];
    snprintf(detail, sizeof detail, ": '%s' is not a whole number between %" PRIu32 " and %" PRIu32,
             value, min, max);
    return usage_error(name, detail);
}

/* Reads a number option whose range is the library's options.<field>. */
static int library_number_option(const char *name, const char *field, const char *value,
                                 uint32_t *out)
{
    double min = 0, max = 0;
    if (memgauge_option_range(field, &min, &max) != MEMGAUGE_OK || max > UINT32_MAX)
        return usage_error(name, ": the library gives no range for it");
    return number_option(name, value, (uint32_t)min, (uint32_t)max, out);
}

/* The record's text options; the SDK checks their content at start. Returns
 * 0, 2 on a missing or empty value, or -1 when argv[*i] is none of them. */
static int string_option(int argc, char **argv, int *i, config_t *cfg)
{
    static const char *const names[] = {"--state-dir", "--app-id",    "--app-version",
                                        "--app-build", "--collector", "--api-key"};
    const char **fields[] = {&cfg->state_dir, &cfg->app_id,    &cfg->app_version,
                             &cfg->app_build, &cfg->collector, &cfg->api_key};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *value = NULL;
        int m = option_value(argc, argv, i, names[k], &value);
        if (m == 0)
            continue;
        if (m < 0 || value[0] == '\0')
            return usage_error(names[k], " needs a value");
        *fields[k] = value;
        return 0;
    }
    return -1;
}

/* Handles one option that takes a value; returns 0, 2 on a bad value, or -1
 * when argv[*i] is none of them. */
static int value_option(int argc, char **argv, int *i, config_t *cfg)
{
    const char *value = NULL;
    int m;
    if ((m = option_value(argc, argv, i, "--scenario", &value)) != 0) {
        if (m < 0)
            return usage_error("--scenario", " needs a value");
        if (parse_scenario(value, &cfg->scenario) == 0)
            return 0;
        char detail[128];
        snprintf(detail, sizeof detail, ": unknown scenario '%s' (steady, leak, spike or sawtooth)",
                 value);
        return usage_error("--scenario", detail);
    }
    if ((m = option_value(argc, argv, i, "--duration", &value)) != 0)
        return m < 0 ? usage_error("--duration", " needs a value")
                     : number_option("--duration", value, 1, MAX_DURATION_S, &cfg->duration_s);
    if ((m = option_value(argc, argv, i, "--interval-ms", &value)) != 0)
        return m < 0 ? usage_error("--interval-ms", " needs a value")
                     : library_number_option("--interval-ms", "interval_ms", value,
                                             &cfg->interval_ms);
    if ((m = option_value(argc, argv, i, "--leak-mb-per-s", &value)) != 0) {
        cfg->leak_rate_given = 1;
        return m < 0 ? usage_error("--leak-mb-per-s", " needs a value")
                     : number_option("--leak-mb-per-s", value, 1, MAX_LEAK_MIB_PER_S,
                                     &cfg->leak_mib_per_s);
    }
    if ((m = option_value(argc, argv, i, "--trail-seconds", &value)) != 0) {
        cfg->trail_given = 1;
        return m < 0 ? usage_error("--trail-seconds", " needs a value")
                     : library_number_option("--trail-seconds", "trail_seconds", value,
                                             &cfg->trail_seconds);
    }
    return string_option(argc, argv, i, cfg);
}

/* Returns 0 to run, 1 for --help, 2 for a bad command line (already reported). */
static int parse_args(int argc, char **argv, config_t *cfg)
{
    *cfg = (config_t){.scenario = SCENARIO_STEADY,
                      .duration_s = DEFAULT_DURATION_S,
                      .interval_ms = DEFAULT_INTERVAL_MS,
                      .leak_mib_per_s = DEFAULT_LEAK_MIB_PER_S,
                      .record = 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        if (strcmp(argv[i], "--quiet") == 0) {
            cfg->quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--no-record") == 0) {
            cfg->record = 0;
            continue;
        }
        int rc = value_option(argc, argv, &i, cfg);
        if (rc > 0)
            return rc;
        if (rc < 0)
            return usage_error("unknown option: ", argv[i]);
    }
    if (cfg->leak_rate_given && cfg->scenario != SCENARIO_LEAK)
        return usage_error("--leak-mb-per-s", " applies only to --scenario leak");
    if (!cfg->record &&
        (cfg->state_dir || cfg->app_id || cfg->app_version || cfg->app_build || cfg->trail_given))
        return usage_error("--no-record", " keeps no record: --state-dir, --app-id, "
                                          "--app-version, --app-build and --trail-seconds "
                                          "do not apply");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Memory that really moves the footprint                                   */
/* ------------------------------------------------------------------------ */

/* Reserves address space only: the footprint moves when pages are written. */
static int region_reserve(region_t *r, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, PROGRAM ": cannot map %zu MiB: %s\n", size / MIB, strerror(errno));
        return -1;
    }
    *r = (region_t){.base = p, .size = size, .touched = 0};
    return 0;
}

/* Writes one byte in each page up to `bytes`: a write fault gives the page its
 * own frame, while a read would only map the shared zero page. */
static void region_touch_to(region_t *r, size_t bytes)
{
    if (bytes > r->size)
        bytes = r->size;
    for (; r->touched < bytes; r->touched += page_size)
        r->base[r->touched] = 1;
}

static void region_release(region_t *r)
{
    if (r->base != NULL)
        munmap((void *)r->base, r->size);
    *r = (region_t){0};
}

/* Allocates, writes and frees SPIKE_BYTES at once; the peak lasts as long as
 * writing the pages takes (tens of milliseconds), far less than an interval. */
static int spike_once(void)
{
    region_t spike;
    if (region_reserve(&spike, SPIKE_BYTES) != 0)
        return -1;
    region_touch_to(&spike, SPIKE_BYTES);
    region_release(&spike);
    return 0;
}

/* Leaked chunks are deliberately not remembered: nothing could free them. */
static int leak_step(workload_t *w, uint64_t elapsed_ns)
{
    uint64_t target = w->leak_bytes_per_s * (elapsed_ns / NS_PER_MS) / 1000;
    while (w->leaked_bytes + LEAK_CHUNK_BYTES <= target) {
        region_t chunk;
        if (region_reserve(&chunk, LEAK_CHUNK_BYTES) != 0)
            return -1;
        region_touch_to(&chunk, LEAK_CHUNK_BYTES);
        w->leaked_bytes += LEAK_CHUNK_BYTES;
    }
    return 0;
}

static int spike_step(workload_t *w, uint64_t elapsed_ns)
{
    if (elapsed_ns < w->next_spike_ns)
        return 0;
    while (w->next_spike_ns <= elapsed_ns)
        w->next_spike_ns += SPIKE_PERIOD_NS;
    return spike_once();
}

static int sawtooth_step(workload_t *w, uint64_t elapsed_ns)
{
    uint64_t ramp_ms = (elapsed_ns - w->cycle_start_ns) / NS_PER_MS;
    uint64_t target = SAWTOOTH_MIB_PER_S * MIB * ramp_ms / 1000;
    if (target < SAWTOOTH_TOP_BYTES) {
        region_touch_to(&w->held, (size_t)target);
        return 0;
    }
    region_touch_to(&w->held, SAWTOOTH_TOP_BYTES);
    region_release(&w->held);
    w->cycle_start_ns = elapsed_ns;
    return region_reserve(&w->held, SAWTOOTH_TOP_BYTES);
}

/* Sets up what the scenario holds from the start, before the first sample. */
static int workload_begin(workload_t *w, const config_t *cfg)
{
    *w = (workload_t){.scenario = cfg->scenario,
                      .leak_bytes_per_s = (uint64_t)cfg->leak_mib_per_s * MIB,
                      .next_spike_ns = SPIKE_FIRST_NS};
    switch (cfg->scenario) {
    case SCENARIO_STEADY:
        if (region_reserve(&w->held, STEADY_BYTES) != 0)
            return -1;
        region_touch_to(&w->held, STEADY_BYTES);
        return 0;
    case SCENARIO_SPIKE:
        if (region_reserve(&w->held, SPIKE_BASELINE_BYTES) != 0)
            return -1;
        region_touch_to(&w->held, SPIKE_BASELINE_BYTES);
        return 0;
    case SCENARIO_SAWTOOTH:
        return region_reserve(&w->held, SAWTOOTH_TOP_BYTES);
    case SCENARIO_LEAK:
        return 0;
    }
    return 0;
}

static int workload_step(workload_t *w, uint64_t elapsed_ns)
{
    switch (w->scenario) {
    case SCENARIO_LEAK:
        return leak_step(w, elapsed_ns);
    case SCENARIO_SPIKE:
        return spike_step(w, elapsed_ns);
    case SCENARIO_SAWTOOTH:
        return sawtooth_step(w, elapsed_ns);
    case SCENARIO_STEADY:
        return 0;
    }
    return 0;
}

static void workload_end(workload_t *w)
{
    region_release(&w->held);
}

/* ------------------------------------------------------------------------ */
/* Time and signals                                                         */
/* ------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A signal cuts the sleep short (no SA_RESTART); the caller checks the flag. */
static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / NS_PER_S), .tv_nsec = (long)(ns % NS_PER_S)};
    nanosleep(&ts, NULL);
}

/* Only sets a flag: the main loop does the stopping, outside signal context. */
static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static int install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        fprintf(stderr, PROGRAM ": sigaction: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

static int library_error(const char *call, int code)
{
    fprintf(stderr, PROGRAM ": %s: %s\n", call, memgauge_strerror(code));
    return 1;
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (double)MIB;
}

static int get_stats(memgauge_t *gauge, memgauge_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    stats->struct_size = sizeof *stats;
    return memgauge_get_stats(gauge, stats);
}

/* One human-readable line: the last sample, the session peak, and the change
 * since the previous line (since the first sample, on the first line). */
static int print_progress(memgauge_t *gauge, progress_t *p, uint64_t second)
{
    memgauge_stats_t s;
    int rc = get_stats(gauge, &s);
    if (rc != MEMGAUGE_OK)
        return rc;
    if (s.samples == 0) {
        printf("%5" PRIu64 "s  no sample yet (read errors: %" PRIu64 ")\n", second, s.read_errors);
        fflush(stdout);
        return MEMGAUGE_OK;
    }
    char limit[32] = "unknown";
    if (s.limit_bytes != 0)
        snprintf(limit, sizeof limit, "%.1f MiB", mib(s.limit_bytes));
    uint64_t prev = p->printed_any ? p->prev_bytes : s.first_bytes;
    double delta = mib(s.last_bytes) - mib(prev);
    printf("%5" PRIu64 "s  footprint %.1f MiB  resident %.1f MiB  peak %.1f MiB  limit %s"
           "  delta %+.1f MiB",
           second, mib(s.last_bytes), mib(s.last_resident_bytes), mib(s.peak_bytes), limit, delta);
    if (!p->printed_any)
        printf("  (source: %s)", memgauge_source_name(s.footprint_source));
    printf("\n");
    fflush(stdout);
    p->printed_any = 1;
    p->prev_bytes = s.last_bytes;
    return MEMGAUGE_OK;
}

/* The machine-readable summary: the first six keys are the contract, in this
 * order; more keys may follow. */
static void print_final(const memgauge_stats_t *s, const config_t *cfg)
{
    printf("final samples=%" PRIu64 " min_bytes=%" PRIu64 " max_bytes=%" PRIu64
           " peak_bytes=%" PRIu64 " mean_bytes=%" PRIu64 " kernel_peak_bytes=%" PRIu64
           " first_bytes=%" PRIu64 " last_bytes=%" PRIu64 " limit_bytes=%" PRIu64
           " read_errors=%" PRIu64 " overruns=%" PRIu64 " source=%s scenario=%s\n",
           s->samples, s->min_bytes, s->max_bytes, s->peak_bytes, s->mean_bytes,
           s->kernel_peak_bytes, s->first_bytes, s->last_bytes, s->limit_bytes, s->read_errors,
           s->overruns, memgauge_source_name(s->footprint_source), scenario_names[cfg->scenario]);
    fflush(stdout);
}

static const char *app_state_name(int state)
{
    switch (state) {
    case MEMGAUGE_APP_ACTIVE:
        return "active";
    case MEMGAUGE_APP_INACTIVE:
        return "inactive";
    case MEMGAUGE_APP_BACKGROUND:
        return "background";
    default:
        return "unknown";
    }
}

/* MEMGAUGE_EVIDENCE_* bits as "near_limit,kernel_oom_kill", or "none". */
static void evidence_names(uint32_t evidence, char *out, size_t cap)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {MEMGAUGE_EVIDENCE_NEAR_LIMIT, "near_limit"},
        {MEMGAUGE_EVIDENCE_LOW_HEADROOM, "low_headroom"},
        {MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL, "pressure_critical"},
        {MEMGAUGE_EVIDENCE_PRESSURE_WARNING, "pressure_warning"},
        {MEMGAUGE_EVIDENCE_RISING, "rising"},
        {MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL, "kernel_oom_kill"},
        {MEMGAUGE_EVIDENCE_PLENTY_LEFT, "plenty_left"},
        {MEMGAUGE_EVIDENCE_THERMAL_CRITICAL, "thermal_critical"},
    };
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(evidence & names[i].bit))
            continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", names[i].name);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    if (len == 0)
        snprintf(out, cap, "none");
}

/* How the previous run with this state directory ended: one machine-readable
 * line, then the last points of its trail, oldest first. */
static int print_previous(memgauge_t *gauge)
{
    memgauge_previous_session_t p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    int rc = memgauge_previous_session(gauge, &p);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_previous_session", rc);
    char evidence[128];
    evidence_names(p.evidence, evidence, sizeof evidence);
    printf("previous verdict=%s confidence=%s evidence=%s last_footprint_bytes=%" PRIu64
           " limit_bytes=%" PRIu64 " available_bytes=%" PRIu64 " headroom_ppm=%" PRIu32
           " peak_bytes=%" PRIu64 " trend_bytes_per_s=%" PRId64 " oom_kills_since=%" PRIu64
           " pressure=%s app_state=%s crash_signal=%" PRId32 " unreadable_reason=%" PRId32
           " trail=%zu start_wall_ns=%" PRIu64 " last_wall_ns=%" PRIu64 " samples=%" PRIu64
           " pid=%" PRIu64 " session=%s\n",
           memgauge_end_name(p.verdict), memgauge_confidence_name(p.confidence), evidence,
           p.last_footprint_bytes, p.limit_bytes, p.available_bytes, p.headroom_ppm, p.peak_bytes,
           p.trend_bytes_per_s, p.oom_kills_since, memgauge_pressure_name(p.pressure),
           app_state_name(p.app_state), p.crash_signal, p.unreadable_reason, p.trail_count,
           p.start_wall_ns, p.last_wall_ns, p.samples, p.pid,
           p.session_id[0] ? p.session_id : "none");
    size_t first = p.trail_count > PREVIOUS_TRAIL_LINES ? p.trail_count - PREVIOUS_TRAIL_LINES : 0;
    for (size_t i = first; i < p.trail_count; i++) {
        const memgauge_trail_point_t *t = &p.trail[i];
        printf("trail seq=%" PRIu64 " wall_ns=%" PRIu64 " footprint_bytes=%" PRIu64
               " resident_bytes=%" PRIu64 " available_bytes=%" PRIu64 " limit_bytes=%" PRIu64
               " kernel_peak_bytes=%" PRIu64 " pressure=%s\n",
               t->seq, t->wall_ns, t->footprint_bytes, t->resident_bytes, t->available_bytes,
               t->limit_bytes, t->kernel_peak_bytes, memgauge_pressure_name(t->pressure));
    }
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The run                                                                  */
/* ------------------------------------------------------------------------ */

/* The SDK's diagnostics (a full disk, a wrong --collector or --api-key):
 * one line each on stderr. Runs on an SDK thread; a write to stderr is
 * short enough not to hold it up. */
static void print_log(int level, const char *message, void *user_data)
{
    (void)user_data;
    fprintf(stderr, "%s%s\n", level == MEMGAUGE_LOG_ERROR ? "error: " : "", message);
}

static int start_sampler(const config_t *cfg, memgauge_t **gauge)
{
    memgauge_options_t opts;
    int rc = memgauge_options_init(&opts);
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_options_init", rc);
    opts.interval_ms = cfg->interval_ms;
    opts.window_ms = DEMO_WINDOW_MS;
    opts.report_interval_ms = DEMO_REPORT_INTERVAL_MS;
    /* A report window may not be shorter than the interval, nor the fast
     * interval longer. */
    if (opts.window_ms < opts.interval_ms)
        opts.window_ms = opts.interval_ms;
    if (opts.fast_interval_ms > opts.interval_ms)
        opts.fast_interval_ms = opts.interval_ms;
    opts.record = cfg->record;
    opts.storage_dir = cfg->state_dir;
    opts.app_id = cfg->app_id ? cfg->app_id : PROGRAM;
    opts.app_version = cfg->app_version;
    opts.app_build = cfg->app_build;
    if (cfg->trail_given)
        opts.trail_seconds = cfg->trail_seconds;
    opts.on_log = print_log;
    if (cfg->collector != NULL) {
        /* as given: the SDK's own rule adds /v1/reports to a base URL */
        opts.endpoint_url = cfg->collector;
        opts.api_key = cfg->api_key;
    } else if (cfg->api_key != NULL) {
        return usage_error("--api-key", " needs --collector");
    }
    rc = memgauge_start(&opts, gauge);
    /* what the SDK refuses in a command-line value is a usage error */
    if (rc == MEMGAUGE_E_STORAGE_DIR && cfg->state_dir != NULL)
        return usage_error("--state-dir: ", memgauge_strerror(rc));
    if (rc == MEMGAUGE_E_APP_ID)
        return usage_error("--app-id: ", memgauge_strerror(rc));
    if (rc == MEMGAUGE_E_APP_VERSION)
        return usage_error("--app-version or --app-build: ", memgauge_strerror(rc));
    if (rc == MEMGAUGE_E_ENDPOINT)
        return usage_error("--collector: ", memgauge_strerror(rc));
    if (rc == MEMGAUGE_E_API_KEY)
        return usage_error("--api-key: ", memgauge_strerror(rc));
    if (rc != MEMGAUGE_OK)
        return library_error("memgauge_start", rc);
    return 0;
}

/* Drives the workload and prints progress until the duration has passed or a
 * signal asks to stop. Returns 0, or 1 after an error it has reported. */
static int drive(const config_t *cfg, workload_t *w, memgauge_t *gauge, uint64_t t0)
{
    progress_t progress = {0};
    uint64_t end_ns = cfg->duration_s * NS_PER_S + PRINT_LAG_NS;
    uint64_t second = 1;
    uint64_t next_print_ns = NS_PER_S + PRINT_LAG_NS;
    while (!stop_requested) {
        uint64_t elapsed = now_ns() - t0;
        if (workload_step(w, elapsed) != 0)
            return 1;
        if (elapsed >= next_print_ns) {
            int rc = cfg->quiet ? MEMGAUGE_OK : print_progress(gauge, &progress, second);
            if (rc != MEMGAUGE_OK)
                return library_error("memgauge_get_stats", rc);
            second++;
            next_print_ns += NS_PER_S;
        }
        if (elapsed >= end_ns)
            break;
        uint64_t until_print = next_print_ns > elapsed ? next_print_ns - elapsed : 0;
        sleep_ns(until_print < TICK_NS ? until_print : TICK_NS);
    }
    return 0;
}

/* Prints the session summary, then stops the sampler. The workload is
 * already idle; two more intervals let the sampler see its final state, so
 * that the summary equals what the session reports (a sample taken between
 * the summary and the stop finds nothing new). */
static int finish(const config_t *cfg, memgauge_t *gauge, int status)
{
    sleep_ns(2 * (uint64_t)cfg->interval_ms * 1000000u);
    memgauge_stats_t stats;
    int rc = get_stats(gauge, &stats);
    if (rc != MEMGAUGE_OK)
        status = library_error("memgauge_get_stats", rc);
    else
        print_final(&stats, cfg);
    rc = memgauge_stop(gauge, STOP_TIMEOUT_MS);
    if (rc != MEMGAUGE_OK)
        status = library_error("memgauge_stop", rc);
    return status;
}

static int run(const config_t *cfg)
{
    workload_t w;
    memgauge_t *gauge = NULL;
    if (workload_begin(&w, cfg) != 0)
        return 1;
    uint64_t t0 = now_ns();
    int status = start_sampler(cfg, &gauge);
    if (status == 0) {
        if (!cfg->quiet)
            status = print_previous(gauge);
        if (status == 0)
            status = drive(cfg, &w, gauge, t0);
        status = finish(cfg, gauge, status);
    }
    workload_end(&w);
    return status;
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
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0)
        page_size = (size_t)ps;
    if (install_stop_handlers() != 0)
        return 1;
    return run(&cfg);
}
