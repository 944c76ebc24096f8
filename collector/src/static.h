/* The dashboard's files (collector/dashboard/ and uPlot's dist files, staged
 * by CMake into <build>/dashboard; docs/dashboard.md), served read-only from
 * one directory. Only names made of [A-Za-z0-9._-] segments with a known
 * extension are served: no "..", no dot files, no symbolic links. */
#ifndef MEMGAUGE_COLLECTOR_STATIC_H
#define MEMGAUGE_COLLECTOR_STATIC_H

#include <stddef.h>
#include <stdint.h>

#define MEMGAUGE__STATIC_MAX_BYTES (8u << 20) /* larger files are not served */

typedef struct memgauge__static_file_s {
    int fd;           /* open, read-only; the caller closes it (or hands it to MHD) */
    uint64_t size;    /* bytes */
    const char *type; /* Content-Type, a static string */
    int html;         /* a page: gets the Content-Security-Policy */
} memgauge__static_file_t;

/* Content-Type for `path` by its extension; NULL when such files are not
 * served. Pure. */
const char *memgauge__static_type(const char *path);

/* 1 when `url` ("/", "/app.js", "/lib/uPlot.esm.js") names a file that may be
 * served: segments of [A-Za-z0-9._-] not starting with '.', a known
 * extension, at most 255 bytes. Pure. */
int memgauge__static_url_ok(const char *url);

/* Opens `url` under `dir` ("/" is "/index.html"). Returns 0 with *out
 * filled, or 404 (no such file, not allowed, not a regular file, too large).
 * Thread-safe; borrows dir and url. */
int memgauge__static_open(const char *dir, const char *url, memgauge__static_file_t *out);

/* The default dashboard directory: "dashboard" beside the executable (the
 * build tree), else "../share/memgauge-collector/dashboard" from it (an
 * install). Writes the first that exists, or the first candidate when
 * neither does, into out. Returns 1 when it exists, 0 when not. */
int memgauge__static_default_dir(char *out, size_t outlen);

#endif
