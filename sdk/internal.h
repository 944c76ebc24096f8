/*
 * Internal interface of sdk/: what tests and the other sdk files use that
 * is not part of the public API. Never installed.
 */
#ifndef MEMGAUGE_INTERNAL_H
#define MEMGAUGE_INTERNAL_H

#include <stddef.h>

#include <memgauge/memgauge.h>

/* Where the sampler gets its readings. The default is the platform layer;
 * tests inject synthetic readings or faults through memgauge__start_with. */
typedef int (*memgauge__read_fn)(memgauge_reading_t *out, void *ctx);

struct memgauge__os_pressure_s;
typedef int (*memgauge__pressure_fn)(struct memgauge__os_pressure_s *out, void *ctx);

typedef struct memgauge__hooks_s {
    memgauge__read_fn read; /* NULL: the platform's reader */
    void *read_ctx;
    memgauge__pressure_fn pressure; /* NULL: the platform's pressure source */
    void *pressure_ctx;
} memgauge__hooks_t;

/* memgauge_start with injected hooks (NULL for the defaults). */
int memgauge__start_with(const memgauge_options_t *opts, const memgauge__hooks_t *hooks,
                         memgauge_t **out);

/* Validates options; returns 0 or the MEMGAUGE_E_* of the first bad field. */
int memgauge__options_validate(const memgauge_options_t *opts);

/* Copies a caller's options (of any accepted struct_size) over the
 * defaults, so that fields an older caller does not know keep theirs. */
int memgauge__options_normalize(const memgauge_options_t *in, memgauge_options_t *out);

/* The smallest struct_size this library accepts: the 0.1 layouts. */
#define MEMGAUGE__OPTIONS_V1_SIZE offsetof(memgauge_options_t, record)
#define MEMGAUGE__STATS_V1_SIZE offsetof(memgauge_stats_t, pressure)

#define MEMGAUGE__APP_ID_MAX 63
#define MEMGAUGE__APP_VERSION_MAX 31
#define MEMGAUGE__STORAGE_DIR_MAX 400
#define MEMGAUGE__URL_MAX 2048
#define MEMGAUGE__API_KEY_MAX 512
#define MEMGAUGE__PATH_MAX 400
#define MEMGAUGE__HEADER_MAX 1024
#define MEMGAUGE__EXTRA_HEADERS_MAX 16

/* 1 when the library was built with libcurl (MEMGAUGE_WITH_CURL). */
int memgauge__have_curl(void);

#endif
