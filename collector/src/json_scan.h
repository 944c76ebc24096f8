/* A bound on what a JSON text will cost to parse, taken from the raw bytes
 * before any tree is built: how many values (cJSON nodes), how deep, how
 * many string bytes, with every array held to v1's longest. Not a parser: it only
 * counts tokens, and leaves syntax errors to the parser, which runs only
 * when the counts are within bounds. */
#ifndef MEMGAUGE_COLLECTOR_JSON_SCAN_H
#define MEMGAUGE_COLLECTOR_JSON_SCAN_H

#include "batch.h"

#include <stddef.h>

/* What wire format v1 allows (docs/wire-format.md, "Limits"), as JSON values:
 * every sample is at most 4 numbers (t, footprint, resident, peak_excess),
 * for the batch's samples and for one trail; a window is at most 20 values
 * beside its samples (the object, 12 aggregates, metric, the series object,
 * unit_bytes and 4 arrays), an event at most 18 (the object, 11 fields, the
 * trail object, unit_bytes, 4 arrays); the top level and `dropped` at most 64.
 * Unknown fields count too: a batch of v1's largest shape still fits. */
#define MEMGAUGE__SCAN_MAX_VALUES                                                                  \
    (4u * (MEMGAUGE__MAX_BATCH_SAMPLES + MEMGAUGE__MAX_TRAIL_SAMPLES) +                            \
     20u * MEMGAUGE__MAX_WINDOWS + 18u * MEMGAUGE__MAX_EVENTS + 64u)
/* v1 nests 5 deep (batch, windows, window, series, t); room for fields a
 * newer SDK may add. */
#define MEMGAUGE__SCAN_MAX_DEPTH 32
/* v1's longest array: a window's series column. */
#define MEMGAUGE__SCAN_MAX_ARRAY MEMGAUGE__MAX_WINDOW_SAMPLES

typedef struct memgauge__json_scan_s {
    size_t values;         /* nodes the parser would create (keys are not nodes) */
    size_t strings;        /* strings, keys included (each one allocation) */
    size_t string_bytes;   /* their raw bytes plus one terminator each */
    size_t objects;        /* objects among the values */
    size_t depth;          /* deepest nesting seen */
    size_t longest_scalar; /* bytes of the longest number or literal */
} memgauge__json_scan_t;

#define MEMGAUGE__SCAN_OK 0
#define MEMGAUGE__SCAN_TOO_MANY_VALUES (-1)
#define MEMGAUGE__SCAN_TOO_DEEP (-2)
#define MEMGAUGE__SCAN_ARRAY_TOO_LONG (-3)

/* Counts text[0 .. len). Stops at the first bound passed and returns which
 * one; *out holds the counts up to there. Pure; O(len), no allocation. */
int memgauge__json_scan(const char *text, size_t len, memgauge__json_scan_t *out);

/* Bytes the parser may allocate for a text with these counts, charged the
 * way budget.h's hooks charge them. */
size_t memgauge__json_scan_tree_bytes(const memgauge__json_scan_t *s);

#endif
