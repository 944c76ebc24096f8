/* The option table of docs/options.md, made from sdk/options_table.h.
 *
 *   options_doc                 prints the table (markdown)
 *   options_doc --check FILE    exit 1 unless FILE holds exactly that table
 *                               between its two marker lines
 *   options_doc --write FILE    replaces what is between the markers
 *
 * The ctest "options_doc" runs --check on docs/options.md, so the doc
 * cannot drift from the defaults, ranges and codes the library enforces. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options_table.h"

#define BEGIN_MARK "<!-- options table: made by tests/sdk/options_doc.c, do not edit -->\n"
#define END_MARK "<!-- end of options table -->\n"
#define MAX_DOC_BYTES (1u << 20)

typedef struct text_s {
    char *s;
    size_t len, cap;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text_t *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        /* the first call has no buffer yet: it only measures */
        int n = t->s == NULL ? vsnprintf(NULL, 0, fmt, ap)
                             : vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (t->s == NULL)
            abort();
    }
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The default as the table writes it, and in a unit people read. */
static void put_default(text_t *t, const memgauge__option_t *o)
{
    if (o->type == MEMGAUGE__OPT_PTR) {
        put(t, "NULL");
        return;
    }
    put(t, "%s", o->def_text);
    uint64_t v = (uint64_t)o->def;
    if (o->type == MEMGAUGE__OPT_DBL || v == 0)
        return;
    if (ends_with(o->name, "_ms") && v >= 60000 && v % 60000 == 0)
        put(t, " (%" PRIu64 " min)", v / 60000);
    else if (ends_with(o->name, "_ms") && v >= 1000 && v % 1000 == 0)
        put(t, " (%" PRIu64 " s)", v / 1000);
    else if (ends_with(o->name, "_s") && v % 86400 == 0)
        put(t, " (%" PRIu64 " days)", v / 86400);
    else if ((ends_with(o->name, "_bytes") || ends_with(o->name, "_bytes_per_s")) &&
             v % (1u << 20) == 0)
        put(t, " (%" PRIu64 " MiB%s)", v >> 20, ends_with(o->name, "_per_s") ? "/s" : "");
}

static char *table(void)
{
    text_t t = {0};
    size_t n = 0;
    const memgauge__option_t *rows = memgauge__options_table(&n);
    put(&t, "| option | default | accepted | refused with | what it does |\n");
    put(&t, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const memgauge__option_t *o = &rows[i];
        put(&t, "| `%s` | ", o->name);
        put_default(&t, o);
        if (o->kind == MEMGAUGE__OPT_ABOVE)
            put(&t, " | `%s` .. %.15g", o->min_name, o->max);
        else
            put(&t, " | %s", o->range);
        if (o->code != 0)
            put(&t, " | `%s` | %s |\n", o->code_name, o->doc);
        else
            put(&t, " | — | %s |\n", o->doc);
    }
    return t.s;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    char *buf = malloc(MAX_DOC_BYTES + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_DOC_BYTES, f) : 0;
    fclose(f);
    if (buf == NULL || n == MAX_DOC_BYTES) {
        fprintf(stderr, "%s: larger than %u bytes\n", path, MAX_DOC_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Where the table goes in `doc`: [*from, *to). 0 if the markers are missing. */
static int find_block(const char *doc, size_t *from, size_t *to)
{
    const char *b = strstr(doc, BEGIN_MARK);
    const char *e = b != NULL ? strstr(b, END_MARK) : NULL;
    if (e == NULL)
        return 0;
    *from = (size_t)(b - doc) + strlen(BEGIN_MARK);
    *to = (size_t)(e - doc);
    return 1;
}

/* Compares or rewrites the table in `path`; returns the exit status. */
static int check_or_write(const char *path, int write, const char *want)
{
    char *doc = read_file(path);
    size_t from, to;
    int rc = 1;
    if (doc == NULL || !find_block(doc, &from, &to)) {
        fprintf(stderr, "%s: no lines\n  %s  ...\n  %s", path, BEGIN_MARK, END_MARK);
        goto done;
    }
    int same = to - from == strlen(want) && memcmp(doc + from, want, to - from) == 0;
    if (!write) {
        if (same)
            rc = 0;
        else
            fprintf(stderr,
                    "%s: its option table differs from sdk/options_table.h; regenerate it with\n"
                    "  build/dev/tests/options_doc --write %s\nThe table should read:\n%s",
                    path, path, want);
        goto done;
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        goto done;
    }
    int ok = fwrite(doc, 1, from, f) == from && fwrite(want, 1, strlen(want), f) == strlen(want) &&
             fwrite(doc + to, 1, strlen(doc + to), f) == strlen(doc + to);
    if (fclose(f) != 0 || !ok)
        perror(path);
    else
        rc = 0;
done:
    free(doc);
    return rc;
}

int main(int argc, char **argv)
{
    char *want = table();
    int rc;
    if (argc == 1) {
        fputs(want, stdout);
        rc = 0;
    } else if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        rc = check_or_write(argv[2], 0, want);
    } else if (argc == 3 && strcmp(argv[1], "--write") == 0) {
        rc = check_or_write(argv[2], 1, want);
    } else {
        fprintf(stderr, "usage: %s [--check FILE | --write FILE]\n", argv[0]);
        rc = 2;
    }
    free(want);
    return rc;
}
