/*
 * A small streaming JSON writer for the report format: objects, arrays,
 * keys, strings, 64-bit integers and booleans into one bounded, growing
 * buffer. It replaces no parser and builds no tree: the report is written
 * front to back, so the writer keeps only a stack of open containers.
 *
 * Errors are sticky: the first one (allocation refused, size bound reached,
 * a call out of place) is kept, every later call does nothing, and
 * memgauge__json_finish() returns NULL. A caller checks once, at the end.
 *
 * Strings: '"' and '\' are escaped, as are all control characters
 * (U+0000..U+001F: \b \f \n \r \t, the rest as \u00XX). Bytes that are not
 * well-formed UTF-8 (a stray continuation byte, a truncated sequence, an
 * overlong form, a surrogate, anything above U+10FFFF) are written as
 * U+FFFD, one per byte that cannot start a well-formed sequence: the
 * output is always valid UTF-8 and valid JSON, and a string that was
 * well-formed comes back byte for byte. DEL and U+2028/U+2029 are written
 * as they are (JSON allows them).
 *
 * No locale, no floating point, no allocation but the buffer. Not
 * thread-safe: one writer per thread.
 */
#ifndef MEMGAUGE_JSON_OUT_H
#define MEMGAUGE_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__JSON_MAX_DEPTH 32

enum {
    MEMGAUGE__JSON_OK = 0,
    MEMGAUGE__JSON_E_NOMEM = 1, /* the allocator refused to grow the buffer */
    MEMGAUGE__JSON_E_LIMIT = 2, /* the document would exceed max_bytes */
    MEMGAUGE__JSON_E_DEPTH = 3, /* more than MEMGAUGE__JSON_MAX_DEPTH open containers */
    MEMGAUGE__JSON_E_STATE = 4  /* a value without a key in an object, a key outside one,
                                   an end that matches no begin, a second top-level value,
                                   or finish with containers open */
};

typedef struct memgauge__json_s {
    char *buf;          /* owned; NUL-terminated while no error */
    size_t len;         /* bytes written, without the NUL */
    size_t cap;         /* bytes allocated */
    size_t max_bytes;   /* the bound on len */
    size_t initial_cap; /* the first allocation */
    int error;          /* MEMGAUGE__JSON_OK or the first error */
    uint32_t depth;     /* open containers */
    bool done;          /* the top-level value is complete */
    /* per open container: 'o' or 'a', whether it has a member yet, and for
     * an object whether a key waits for its value */
    char kind[MEMGAUGE__JSON_MAX_DEPTH];
    bool has_member[MEMGAUGE__JSON_MAX_DEPTH];
    bool after_key[MEMGAUGE__JSON_MAX_DEPTH];
    /* realloc by default; tests put a failing one here after init */
    void *(*realloc_fn)(void *ptr, size_t size);
} memgauge__json_t;

/* Prepares an empty writer that will grow up to max_bytes of output
 * (initial_cap is the first allocation; 0 picks 256). Allocates nothing
 * until the first byte is written. */
void memgauge__json_init(memgauge__json_t *w, size_t initial_cap, size_t max_bytes);

/* Frees the buffer (unless taken); the writer may be initialised again. */
void memgauge__json_free(memgauge__json_t *w);

void memgauge__json_object_begin(memgauge__json_t *w);
void memgauge__json_object_end(memgauge__json_t *w);
void memgauge__json_array_begin(memgauge__json_t *w);
void memgauge__json_array_end(memgauge__json_t *w);

/* A member name inside an object (copied and escaped as a string). */
void memgauge__json_key(memgauge__json_t *w, const char *key);
void memgauge__json_key_n(memgauge__json_t *w, const char *key, size_t len);

/* Values. NULL strings are written as null. */
void memgauge__json_string(memgauge__json_t *w, const char *s);
void memgauge__json_string_n(memgauge__json_t *w, const char *s, size_t len);
void memgauge__json_int(memgauge__json_t *w, int64_t v);
void memgauge__json_uint(memgauge__json_t *w, uint64_t v);
void memgauge__json_bool(memgauge__json_t *w, bool v);
void memgauge__json_null(memgauge__json_t *w);

/* MEMGAUGE__JSON_OK or the first error. */
int memgauge__json_error(const memgauge__json_t *w);

/* The finished document (NUL-terminated, *len bytes without the NUL), still
 * owned by the writer; NULL when an error happened or a container is still
 * open (which then becomes MEMGAUGE__JSON_E_STATE). */
const char *memgauge__json_finish(memgauge__json_t *w, size_t *len);

/* As finish, but hands the buffer to the caller (free() it); the writer is
 * left empty. */
char *memgauge__json_take(memgauge__json_t *w, size_t *len);

#endif
