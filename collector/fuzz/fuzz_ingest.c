/* libFuzzer target over what a request body goes through: bounded gunzip,
 * the cost scan, UTF-8 and JSON parsing, wire-format validation, and the
 * sample blob codec (a round trip of every decoded series must give it back
 * exactly; the tree must fit what the scan reserved for it). */
#include "budget.h"
#include "gunzip.h"
#include "json_scan.h"
#include "series_codec.h"
#include "wire_parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int same_series(const memgauge__series_t *a, const memgauge__series_t *b)
{
    if (a->n != b->n || !a->resident != !b->resident || !a->peak != !b->peak)
        return 0;
    size_t bytes = a->n * sizeof(uint64_t);
    return !memcmp(a->t_ms, b->t_ms, bytes) && !memcmp(a->footprint, b->footprint, bytes) &&
           (!a->resident || !memcmp(a->resident, b->resident, bytes)) &&
           (!a->peak || !memcmp(a->peak, b->peak, bytes));
}

static void round_trip(const memgauge__series_t *s)
{
    unsigned char *blob;
    size_t len;
    if (memgauge__series_encode(s, &blob, &len))
        return;
    memgauge__series_t back;
    if (memgauge__series_decode(blob, len, MEMGAUGE__MAX_WINDOW_SAMPLES, &back) != 0 ||
        !same_series(s, &back))
        abort(); /* the stored form must give back exactly what was accepted */
    memgauge__series_clear(&back);
    free(blob);
}

static void parse(const char *body, size_t len)
{
    memgauge__batch_t b;
    memgauge__wire_error_t err;
    memgauge__json_scan_t scan;
    int scanned = memgauge__json_scan(body, len, &scan) == MEMGAUGE__SCAN_OK;
    memgauge__json_hooks_install();
    if (scanned)
        memgauge__json_limit_begin(memgauge__json_scan_tree_bytes(&scan));
    int rc = memgauge__wire_parse(body, len, &b, &err);
    if (scanned && memgauge__json_limit_end())
        abort(); /* the reservation made from the raw text did not cover the tree */
    if (rc != MEMGAUGE__WIRE_OK) {
        if (!err.field[0])
            abort(); /* every refusal names a field */
        return;
    }
    for (size_t i = 0; i < b.window_count; i++)
        if (b.windows[i].has_series)
            round_trip(&b.windows[i].series);
    for (size_t i = 0; i < b.event_count; i++)
        if (b.events[i].has_trail)
            round_trip(&b.events[i].trail);
    memgauge__batch_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        char *out;
        size_t n;
        if (memgauge__gunzip(data, size, 1u << 20, &out, &n) == MEMGAUGE__GUNZIP_OK) {
            parse(out, n);
            free(out);
        }
    } else {
        parse((const char *)data, size);
    }
    memgauge__series_t s;
    if (memgauge__series_decode(data, size, 4096, &s) == 0)
        memgauge__series_clear(&s);
    return 0;
}
