/*
 * transport/encode.c against the encoder it replaced (the cJSON-built one,
 * kept in encode_cjson_reference.c): for thousands of generated reports the
 * new text parses (with cJSON) to the tree the old encoder built, members
 * in the same order, every number the exact integer it held. Strings come
 * back byte for byte when they were well-formed UTF-8; otherwise as this
 * file's own decoder says the writer replaces them (each byte that starts
 * no well-formed sequence becomes U+FFFD), where the old encoder sent the
 * bytes as they were and the collector refused the batch
 * (docs/wire-format.md: invalid UTF-8 is a 400). When every string was
 * well-formed and cJSON printed every number as a plain integer, the two
 * texts are byte for byte equal.
 *
 * The old text itself is no oracle for numbers: cJSON prints a double with
 * 15 significant digits whenever that reads back within its tolerance, so
 * 2^53, the format's clamp, went out as 9.00719925474099e+15 =
 * 9007199254740990. Such reports are counted, not compared number by
 * number.
 */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_cjson_reference.h"
#include "transport.h"

#define MAX_EXACT (UINT64_C(1) << 53)
#define REPORTS 4000
#define MAX_SERIES 300

/* ---- a reproducible generator (xorshift64*) ------------------------------- */

static uint64_t g_rng;

static uint64_t next(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * UINT64_C(2685821657736338717);
}

static uint64_t below(uint64_t n)
{
    return n == 0 ? 0 : next() % n;
}

static bool one_in(uint64_t n)
{
    return below(n) == 0;
}

/* Per report: whether numbers and strings may be anything, or only what
 * an SDK sends (so that some reports must come out byte for byte equal). */
static bool g_wild_numbers, g_wild_text;

/* A count or byte quantity from every range the encoder treats apart. */
static uint64_t number(void)
{
    switch (below(g_wild_numbers ? 11 : 5)) {
    case 0:
        return 0;
    case 1:
        return below(1000);
    case 2:
        return UINT64_C(16384) * below(UINT64_C(1) << 20);
    case 3:
        return UINT64_C(1718000000000) + below(UINT64_C(1) << 32); /* Unix ms */
    case 4:
        return below(UINT64_C(1) << 40);
    case 5:
        return MAX_EXACT - 2 + below(5); /* the clamp's edge */
    case 6:
        return UINT64_MAX - below(3);
    case 7:
        return next();
    case 8:
        return below(MAX_EXACT);
    case 9: /* what cJSON prints with an exponent */
        return (1 + below(9)) * UINT64_C(1000000000000000) * (one_in(2) ? 1 : 10);
    default:
        return UINT64_C(4096) * below(UINT64_C(1) << 40);
    }
}

/* Well-formed pieces of text: plain, escaped, control characters, UTF-8
 * of every length. */
static const char *const WELL_FORMED[] = {"a",
                                          "memgauge",
                                          " ",
                                          "\"",
                                          "\\",
                                          "/",
                                          "\b",
                                          "\f",
                                          "\n",
                                          "\r",
                                          "\t",
                                          "\x01",
                                          "\x1f",
                                          "\x7f",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80",
                                          "\xe2\x80\xa8",
                                          "\xef\xbf\xbd",
                                          "\xf4\x8f\xbf\xbf",
                                          "\xed\x9f\xbf",
                                          "\xee\x80\x80"};

/* Every kind of ill-formed byte sequence. */
static const char *const ILL_FORMED[] = {
    "\x80",
    "\xbf", /* stray continuation bytes */
    "\xc2",
    "\xe2\x82",
    "\xf0\x9f\x98", /* sequences cut short */
    "\xc0\xaf",
    "\xc1\xbf",
    "\xe0\x80\xaf",
    "\xf0\x80\x80\xaf", /* overlong forms */
    "\xed\xa0\x80",
    "\xed\xbf\xbf", /* surrogates */
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xf8",
    "\xfe",
    "\xff", /* above U+10FFFF */
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* Text of 0 .. cap - 1 bytes; mostly plain. Wild text is cut wherever the
 * cap falls, even inside a sequence. */
static void text(char *out, size_t cap)
{
    size_t len = 0, want = below(cap);
    bool plain = !one_in(4);
    while (len < want) {
        const char *p = plain                        ? (one_in(2) ? "x" : "9")
                        : !g_wild_text || !one_in(3) ? WELL_FORMED[below(COUNT(WELL_FORMED))]
                                                     : ILL_FORMED[below(COUNT(ILL_FORMED))];
        size_t n = strlen(p);
        if (n > want - len && !g_wild_text) {
            p = "x";
            n = 1;
        }
        if (n > want - len)
            n = want - len;
        memcpy(out + len, p, n);
        len += n;
    }
    out[len] = '\0';
}

static const char *maybe_static(char *buf, size_t cap, const char *const *words, size_t n)
{
    if (one_in(4))
        return NULL;
    if (one_in(3)) {
        text(buf, cap);
        return buf;
    }
    return words[below(n)];
}

/* ---- reports ---------------------------------------------------------------- */

/* Everything one report points to, freed after it was compared. */
typedef struct report_s {
    memgauge__tr_meta_t meta;
    memgauge__tr_batch_t batch;
    memgauge__tr_window_t windows[7];
    char window_metric[7][32];
    memgauge__tr_event_t events[6];
    char level_names[6][40];
    memgauge__tr_previous_t previous;
    char grade[40], pressure[40];
    memgauge__tr_dropped_t dropped;
    memgauge__tr_sample_t *samples[8];
} report_t;

static void series(memgauge__tr_sample_t *s, size_t n)
{
    int mode = (int)below(6);
    unsigned shift = (unsigned)below(21); /* a common unit of 2^0 .. 2^20 */
    uint64_t t = mode == 3 ? number() : below(100000), pages = 1 + below(1u << 20);
    for (size_t i = 0; i < n; i++) {
        switch (mode) {
        case 0: /* a realistic curve in pages */
        case 1:
            t += 1000 + below(3);
            if (one_in(20) && t > 5000)
                t -= 5000; /* a wall-clock step back in a trail */
            pages = pages + below(9) > 4 ? pages + below(9) - 4 : 1;
            s[i] = (memgauge__tr_sample_t){t, pages << shift, (pages + 3000) << shift,
                                           one_in(30) ? below(50) << shift : 0};
            break;
        case 2: /* all zero */
            s[i] = (memgauge__tr_sample_t){t, 0, 0, 0};
            break;
        default: /* anything, deltas and clamps included */
            s[i] = (memgauge__tr_sample_t){one_in(3) ? number() : t + below(10), number(),
                                           one_in(2) ? number() : 0, one_in(3) ? number() : 0};
        }
    }
}

/* The aggregates derive() gives back from the series, each field either
 * exactly that (so the encoder leaves it out) or anything. */
static void aggregates(memgauge__tr_window_t *w, const memgauge__tr_sample_t *s, size_t n)
{
    uint64_t end = s[0].t_ms, min = s[0].footprint, max = s[0].footprint, peak = 0;
    unsigned __int128 sum = 0;
    for (size_t i = 0; i < n; i++) {
        end = s[i].t_ms > end ? s[i].t_ms : end;
        min = s[i].footprint < min ? s[i].footprint : min;
        max = s[i].footprint > max ? s[i].footprint : max;
        uint64_t p = s[i].footprint + s[i].peak_excess;
        peak = p > peak ? p : peak;
        sum += s[i].footprint;
    }
    bool exact = one_in(2);
#define PICK(v) (exact || one_in(2) ? (v) : number())
    w->start_ms = PICK(s[0].t_ms);
    w->end_ms = PICK(end);
    w->first = PICK(s[0].footprint);
    w->last = PICK(s[n - 1].footprint);
    w->min = PICK(min);
    w->max = PICK(max);
    w->mean = PICK((uint64_t)(sum / n));
    w->peak = PICK(peak);
#undef PICK
}

static void window(report_t *r, size_t i)
{
    static const char *const METRICS[] = {"phys_footprint", "internal_compressed",
                                          "resident_fallback", "linux_private_footprint"};
    memgauge__tr_window_t *w = &r->windows[i];
    memset(w, 0, sizeof *w);
    size_t n = one_in(8) ? 0 : 1 + below(one_in(10) ? MAX_SERIES : 12);
    w->samples = n;
    if (n > 0 && !one_in(5)) {
        memgauge__tr_sample_t *s = calloc(n, sizeof *s);
        cr_assert(ne(ptr, s, NULL));
        r->samples[i] = s;
        series(s, n);
        w->series = s;
        w->series_count = one_in(10) ? n - 1 : n; /* a short series is not sent */
        aggregates(w, s, n);
    } else {
        w->start_ms = number();
        w->end_ms = number();
        w->first = number();
        w->last = number();
        w->min = number();
        w->max = number();
        w->mean = number();
        w->peak = number();
    }
    if (one_in(8))
        w->samples = number(); /* a count that disagrees with the series */
    w->kernel_peak = one_in(2) ? 0 : number();
    w->limit = one_in(2) ? 0 : number();
    w->headroom = one_in(2) ? 0 : number();
    w->metric = maybe_static(r->window_metric[i], sizeof r->window_metric[i], METRICS, 4);
}

static void event(report_t *r, size_t i)
{
    static const char *const LEVELS[] = {"normal", "warning", "critical"};
    static const int IDS[] = {0, 1, -1, INT_MAX, INT_MIN, 42};
    static const int TYPES[] = {MEMGAUGE__TR_EVENT_THRESHOLD, MEMGAUGE__TR_EVENT_PRESSURE,
                                MEMGAUGE__TR_EVENT_PREVIOUS, 0, 99};
    memgauge__tr_event_t *e = &r->events[i];
    memset(e, 0, sizeof *e);
    e->type = one_in(8) ? TYPES[below(5)] : TYPES[below(2)];
    e->t_ms = number();
    e->urgent = (int)below(3) - (one_in(10) ? 5 : 0);
    e->id = one_in(2) ? IDS[below(6)] : (int)(int32_t)next();
    e->up = (int)below(3);
    e->level = number();
    e->footprint = number();
    e->limit = number();
    e->level_name = maybe_static(r->level_names[i], sizeof r->level_names[i], LEVELS, 3);
}

static void previous(report_t *r)
{
    static const char *const GRADES[] = {"high", "medium", "low"};
    static const char *const LEVELS[] = {"normal", "warning", "critical"};
    memgauge__tr_previous_t *p = &r->previous;
    memset(p, 0, sizeof *p);
    text(p->session_id, sizeof p->session_id);
    text(p->verdict, sizeof p->verdict);
    p->grade = maybe_static(r->grade, sizeof r->grade, GRADES, 3);
    p->start_unix_ms = one_in(3) ? 0 : number();
    p->has_ended = (int)below(3);
    p->ended_ms = number();
    p->last_footprint = number();
    p->limit = number();
    p->pressure = maybe_static(r->pressure, sizeof r->pressure, LEVELS, 3);
    if (one_in(4))
        return;
    /* now and then over the format's cap of 10000: the newest are sent */
    size_t n = one_in(40) ? 10000 + below(600) : below(MAX_SERIES);
    memgauge__tr_sample_t *s = n > 0 ? calloc(n, sizeof *s) : NULL;
    r->samples[7] = s;
    series(s, n);
    p->trail = one_in(10) ? NULL : s;
    p->trail_count = n;
}

static void meta(memgauge__tr_meta_t *m)
{
    memset(m, 0, sizeof *m);
    text(m->sdk_version, sizeof m->sdk_version);
    text(m->app_id, sizeof m->app_id);
    text(m->app_version, sizeof m->app_version);
    text(m->app_build, sizeof m->app_build);
    text(m->device_model, sizeof m->device_model);
    text(m->os_name, sizeof m->os_name);
    text(m->os_version, sizeof m->os_version);
    if (!one_in(3))
        text(m->os_build, sizeof m->os_build);
    if (one_in(2))
        memgauge__uuid_new(m->session_id);
    else
        text(m->session_id, sizeof m->session_id);
    m->session_start_unix_ms = number();
    m->interval_ms = one_in(3) ? 0 : one_in(2) ? (uint32_t)next() : 1000;
    text(m->metric, sizeof m->metric);
}

static void report(report_t *r)
{
    memset(r, 0, sizeof *r);
    g_wild_numbers = one_in(2);
    g_wild_text = one_in(2);
    meta(&r->meta);
    memgauge__tr_batch_t *b = &r->batch;
    b->meta = &r->meta;
    if (one_in(2))
        memgauge__uuid_new(b->batch_id);
    else
        text(b->batch_id, sizeof b->batch_id);
    b->sent_unix_ms = number();
    b->window_count = below(8);
    for (size_t i = 0; i < b->window_count; i++)
        window(r, i);
    b->windows = b->window_count > 0 || one_in(2) ? r->windows : NULL;
    b->event_count = one_in(3) ? 0 : below(7);
    for (size_t i = 0; i < b->event_count; i++)
        event(r, i);
    b->events = r->events;
    if (one_in(3)) {
        previous(r);
        b->previous = &r->previous;
    }
    if (!one_in(3)) {
        memgauge__tr_dropped_t *d = &r->dropped;
        uint64_t *c[] = {&d->samples, &d->events,        &d->windows,
                         &d->batches, &d->spool_evicted, &d->spool_corrupt};
        for (size_t i = 0; i < sizeof c / sizeof *c; i++)
            *c[i] = one_in(2) ? 0 : number();
        b->dropped = d;
    }
    b->clean_end = one_in(3) ? (int)below(3) : 0;
    b->short_meta = one_in(2);
    b->end_ms = number();
}

static void free_report(report_t *r)
{
    for (size_t i = 0; i < sizeof r->samples / sizeof *r->samples; i++)
        free(r->samples[i]);
}

/* ---- what "the same" means ---------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s, or 0: decoded, then held
 * to the shortest form, the scalar values and U+10FFFF. */
static size_t well_formed(const unsigned char *s, size_t n)
{
    static const uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80       ? 1
                 : s[0] >> 5 == 6  ? 2
                 : s[0] >> 4 == 14 ? 3
                 : s[0] >> 3 == 30 ? 4
                                   : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if (s[i] >> 6 != 2)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < shortest[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return len;
}

/* s with each byte that starts no well-formed sequence replaced by U+FFFD
 * (malloc'd). */
static char *replaced(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    char *out = malloc(3 * n + 1), *o = out;
    cr_assert(ne(ptr, out, NULL));
    for (size_t i = 0; i < n;) {
        size_t len = well_formed(s + i, n - i);
        if (len == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(o, s + i, len);
            o += len;
            i += len;
        }
    }
    *o = '\0';
    return out;
}

static bool is_utf8(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0, len; i < n; i += len)
        if ((len = well_formed(s + i, n - i)) == 0)
            return false;
    return true;
}

/* Calls fn on every number token of a JSON text (strings skipped). */
static bool each_number(const char *json, bool (*fn)(const char *tok, size_t len))
{
    for (const char *p = json; *p != '\0';) {
        if (*p == '"') {
            for (p++; *p != '"'; p++)
                if (*p == '\\')
                    p++;
            p++;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            size_t len = strspn(p, "-+.eE0123456789");
            if (!fn(p, len))
                return false;
            p += len;
        } else {
            p++;
        }
    }
    return true;
}

/* The format's integer: no fraction, no exponent, within ±2^53. */
static bool exact_integer(const char *tok, size_t len)
{
    const char *d = tok[0] == '-' ? tok + 1 : tok;
    size_t digits = len - (size_t)(d - tok);
    if (digits == 0 || digits > 16 || strspn(d, "0123456789") < digits ||
        (d[0] == '0' && digits > 1) || (tok[0] == '-' && digits == 1 && d[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < digits; i++)
        v = v * 10 + (uint64_t)(d[i] - '0');
    return v <= MAX_EXACT;
}

static bool plain_integer(const char *tok, size_t len)
{
    return strcspn(tok, ".eE") >= len;
}

/* Compares two parsed documents; on the first difference writes its path
 * into `where` and returns false. */
static bool same_tree(const cJSON *old, const cJSON *now, bool replace, char *where, size_t cap,
                      size_t at)
{
    if ((old->type & 0xFF) != (now->type & 0xFF)) {
        snprintf(where + at, cap - at, ": type %d, now %d", old->type & 0xFF, now->type & 0xFF);
        return false;
    }
    if (cJSON_IsNumber(old)) {
        double v = old->valuedouble;
        if (v != now->valuedouble || v != (double)(int64_t)v) {
            snprintf(where + at, cap - at, ": %.17g, now %.17g", v, now->valuedouble);
            return false;
        }
        return true;
    }
    if (cJSON_IsString(old)) {
        char *fixed = replace ? replaced(old->valuestring) : NULL;
        const char *want = fixed != NULL ? fixed : old->valuestring;
        bool same = strcmp(want, now->valuestring) == 0;
        if (!same)
            snprintf(where + at, cap - at, ": \"%s\", now \"%s\"", want, now->valuestring);
        free(fixed);
        return same;
    }
    if (!cJSON_IsArray(old) && !cJSON_IsObject(old))
        return true; /* true, false, null: the type says it all */
    const cJSON *a = old->child, *b = now->child;
    for (size_t i = 0; a != NULL && b != NULL; i++, a = a->next, b = b->next) {
        int n = cJSON_IsObject(old) ? snprintf(where + at, cap - at, ".%s", a->string)
                                    : snprintf(where + at, cap - at, "[%zu]", i);
        size_t next_at = at + (size_t)n < cap ? at + (size_t)n : cap - 1;
        if (cJSON_IsObject(old) && strcmp(a->string, b->string) != 0) {
            snprintf(where + next_at, cap - next_at, ": member \"%s\" now", b->string);
            return false;
        }
        if (!same_tree(a, b, replace, where, cap, next_at))
            return false;
    }
    if (a != NULL || b != NULL) {
        snprintf(where + at, cap - at, ": %s member%s", a != NULL ? "lost a" : "gained a",
                 a != NULL && a->string != NULL ? a->string : "");
        return false;
    }
    return true;
}

typedef struct tally_s {
    size_t reports, byte_equal, replaced_strings, exponents, old_text_inexact;
} tally_t;

static void compare(const memgauge__tr_batch_t *b, size_t index, tally_t *tally)
{
    size_t old_len = 0, now_len = 0;
    cJSON *meant = reference_cjson_tree(b);
    char *old = reference_cjson_encode(b, &old_len);
    char *now = memgauge__tr_encode(b, &now_len);
    cr_assert(ne(ptr, meant, NULL), "report %zu", index);
    cr_assert(ne(ptr, old, NULL), "report %zu", index);
    cr_assert(ne(ptr, now, NULL), "report %zu", index);
    cr_assert(eq(sz, now_len, strlen(now)), "report %zu: the length it says", index);
    cr_assert(is_utf8(now, now_len), "report %zu: not UTF-8: %s", index, now);
    cr_assert(each_number(now, exact_integer), "report %zu: a number the format refuses: %s", index,
              now);
    cJSON *old_tree = cJSON_ParseWithOpts(old, NULL, true);
    cJSON *now_tree = cJSON_ParseWithOpts(now, NULL, true);
    cr_assert(ne(ptr, old_tree, NULL), "report %zu: the old text does not parse", index);
    cr_assert(ne(ptr, now_tree, NULL), "report %zu: does not parse: %s", index, now);
    char where[512] = "$";
    cr_assert(same_tree(meant, now_tree, true, where, sizeof where, 1),
              "report %zu: %s\nold %s\nnow %s", index, where, old, now);
    bool well_formed_in = is_utf8(old, old_len), plain = each_number(old, plain_integer);
    if (well_formed_in && plain) {
        cr_assert(eq(sz, now_len, old_len), "report %zu\nold %s\nnow %s", index, old, now);
        cr_assert(eq(int, memcmp(old, now, old_len), 0), "report %zu\nold %s\nnow %s", index, old,
                  now);
        tally->byte_equal++;
    }
    char ignored[512] = "$";
    tally->old_text_inexact += !same_tree(meant, old_tree, false, ignored, sizeof ignored, 1);
    tally->replaced_strings += !well_formed_in;
    tally->exponents += !plain;
    tally->reports++;
    cJSON_Delete(meant);
    cJSON_Delete(old_tree);
    cJSON_Delete(now_tree);
    free(old);
    free(now);
}

Test(encode_differential, thousands_of_generated_reports_parse_to_the_trees_the_cjson_encoder_gave)
{
    g_rng = UINT64_C(0x9E3779B97F4A7C15);
    tally_t tally = {0};
    for (size_t i = 0; i < REPORTS; i++) {
        report_t *r = malloc(sizeof *r);
        cr_assert(ne(ptr, r, NULL));
        report(r);
        compare(&r->batch, i, &tally);
        free_report(r);
        free(r);
    }
    cr_log_info("%zu reports: %zu byte for byte equal, %zu with ill-formed UTF-8 replaced, %zu "
                "where cJSON printed an exponent, %zu where its text lost a number's value",
                tally.reports, tally.byte_equal, tally.replaced_strings, tally.exponents,
                tally.old_text_inexact);
    /* the generator reached every kind of report it was written for */
    cr_expect(gt(sz, tally.byte_equal, REPORTS / 5));
    cr_expect(gt(sz, tally.replaced_strings, REPORTS / 5));
    cr_expect(gt(sz, tally.exponents, REPORTS / 5));
    cr_expect(gt(sz, tally.old_text_inexact, REPORTS / 5));
}

/* Every optional field present, every number at the clamp or beyond it,
 * strings at their arrays' full length. */
Test(encode_differential, every_optional_field_at_its_extreme)
{
    memgauge__tr_sample_t s[3] = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX},
                                  {0, 0, 0, MAX_EXACT + 1},
                                  {MAX_EXACT, MAX_EXACT + 1, MAX_EXACT - 1, 1}};
    memgauge__tr_window_t w = {.start_ms = UINT64_MAX,
                               .end_ms = 0,
                               .samples = 3,
                               .first = UINT64_MAX,
                               .last = MAX_EXACT + 1,
                               .min = MAX_EXACT,
                               .max = MAX_EXACT - 1,
                               .mean = UINT64_MAX - 1,
                               .peak = 0,
                               .kernel_peak = UINT64_MAX,
                               .limit = MAX_EXACT + 1,
                               .headroom = MAX_EXACT,
                               .metric = "resident_fallback",
                               .series = s,
                               .series_count = 3};
    memgauge__tr_event_t e[2] = {{.type = MEMGAUGE__TR_EVENT_THRESHOLD,
                                  .t_ms = UINT64_MAX,
                                  .urgent = 7,
                                  .id = INT_MIN,
                                  .up = 1,
                                  .level = UINT64_MAX,
                                  .footprint = MAX_EXACT + 1,
                                  .limit = MAX_EXACT},
                                 {.type = MEMGAUGE__TR_EVENT_PRESSURE, .t_ms = MAX_EXACT}};
    memgauge__tr_previous_t p = {.grade = "high",
                                 .start_unix_ms = UINT64_MAX,
                                 .ended_ms = MAX_EXACT + 1,
                                 .has_ended = 1,
                                 .last_footprint = UINT64_MAX,
                                 .limit = MAX_EXACT,
                                 .pressure = "critical",
                                 .trail = s,
                                 .trail_count = 3};
    memset(p.session_id, 'f', sizeof p.session_id - 1);
    memset(p.verdict, 'z', sizeof p.verdict - 1);
    memgauge__tr_dropped_t d = {UINT64_MAX, MAX_EXACT + 1, MAX_EXACT, 1, UINT64_MAX, 2};
    memgauge__tr_meta_t m;
    memset(&m, 0, sizeof m);
    char *fields[] = {m.sdk_version, m.app_id,     m.app_version, m.app_build,  m.device_model,
                      m.os_name,     m.os_version, m.os_build,    m.session_id, m.metric};
    size_t sizes[] = {sizeof m.sdk_version, sizeof m.app_id,       sizeof m.app_version,
                      sizeof m.app_build,   sizeof m.device_model, sizeof m.os_name,
                      sizeof m.os_version,  sizeof m.os_build,     sizeof m.session_id,
                      sizeof m.metric};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        for (size_t j = 0; j + 1 < sizes[i]; j++)
            fields[i][j] = "\"\\\x01\x7f"[j % 4];
    m.session_start_unix_ms = UINT64_MAX;
    m.interval_ms = UINT32_MAX;
    memgauge__tr_batch_t b = {.meta = &m,
                              .sent_unix_ms = UINT64_MAX,
                              .windows = &w,
                              .window_count = 1,
                              .events = e,
                              .event_count = 2,
                              .previous = &p,
                              .dropped = &d,
                              .clean_end = 1,
                              .end_ms = UINT64_MAX};
    memset(b.batch_id, '\\', sizeof b.batch_id - 1);
    tally_t tally = {0};
    compare(&b, 0, &tally);
    cr_expect(eq(sz, tally.old_text_inexact, 1), "cJSON printed 2^53 as 9007199254740990");
}

/* Nothing optional: no windows, events, previous session or counters. */
Test(encode_differential, every_optional_field_absent)
{
    memgauge__tr_meta_t m;
    memset(&m, 0, sizeof m);
    memgauge__tr_dropped_t none = {0};
    memgauge__tr_batch_t b = {.meta = &m, .dropped = &none};
    tally_t tally = {0};
    compare(&b, 0, &tally);
    cr_expect(eq(sz, tally.byte_equal, 1));
}
