/* Command-line parsing for memgauge-collector. */
#include "cli.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_ID_MAX 128 /* wire format v1: strings are at most 128 bytes */

const char memgauge__cli_usage[] =
    "usage: memgauge-collector --api-key KEY [options]\n"
    "  --listen HOST:PORT      address to serve (default 127.0.0.1:8080; port 0 = any free)\n"
    "  --db PATH|URL           SQLite file (default ./memgauge.db) or postgres://user@host/db\n"
    "  --api-key KEY           accept this bearer key (repeatable)\n"
    "  --api-keys FILE         accept every key in FILE, one per line, # comments;\n"
    "                          'KEY app.one,app.two' lets KEY write those apps only\n"
    "  --read-token TOKEN      bearer token for the dashboard and query API (repeatable);\n"
    "                          required unless listening on loopback, where one is made up\n"
    "  --read-tokens FILE      read tokens from FILE, one per line, # comments\n"
    "  --dashboard-dir DIR     the dashboard's files (default: dashboard/ beside the binary)\n"
    "  --max-body BYTES        body cap, compressed and after gunzip (default 16M; K/M suffix)\n"
    "  --threads N             HTTP worker threads (default 2)\n"
    "  --max-connections N     concurrent connections (default 512)\n"
    "  --max-connections-per-ip N  from one client address (default 64; 0 = no limit)\n"
    "  --header-timeout S      a request's headers must arrive within S seconds (default 5)\n"
    "  --max-memory BYTES      memory all requests in flight may hold (default 512M)\n"
    "  --idle-timeout S        close a silent connection after S seconds (default 15)\n"
    "  --request-timeout S     a request body must arrive within S seconds (default 30)\n"
    "  --drain-timeout S       on SIGTERM, wait S seconds for in-flight requests (default 10)\n"
    "  --sync normal|full      SQLite durability: full also survives power loss (default normal)\n"
    "  --pg-conns N            PostgreSQL connections (default 4)\n"
    "  --retention-days N      delete sessions that started N days ago, with their samples;\n"
    "                          statistics (rollups) stay (default 30; 0 = keep forever)\n"
    "  --port-file FILE        write the bound port to FILE once listening\n"
    "  --log FILE              request log (default stderr)\n"
    "  --quiet                 no per-request log lines\n"
    "  --otlp-endpoint URL     export to an OTLP/HTTP receiver (URL/v1/metrics, URL/v1/logs)\n"
    "  --otlp-header 'N: V'    add this header to every export (repeatable, up to 16)\n"
    "  --otlp-headers FILE     the same from FILE, one 'Name: value' per line, # comments:\n"
    "                          a receiver's key kept out of the command line\n"
    "  --otlp-queue DIR        export queue (default: otlp-queue/ beside the SQLite file)\n"
    "  --otlp-queue-bytes N    the queue's budget, oldest dropped past it (default 64M)\n"
    "  --help, --version\n";

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_uint(const char *s, unsigned long long lo, unsigned long long hi, int suffixes,
                      unsigned long long *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (suffixes && (*end == 'K' || *end == 'k')) {
        v = v > (~0ull >> 10) ? ~0ull : v << 10;
        end++;
    } else if (suffixes && (*end == 'M' || *end == 'm')) {
        v = v > (~0ull >> 20) ? ~0ull : v << 20;
        end++;
    } else if (suffixes && (*end == 'G' || *end == 'g')) {
        v = v > (~0ull >> 30) ? ~0ull : v << 30;
        end++;
    }
    if (*end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int printable_token(const char *key, const char *what, const char *where, char *err,
                           size_t errlen)
{
    size_t n = strlen(key);
    if (n == 0 || n > MEMGAUGE__KEY_MAX)
        return bad(err, errlen, "%s: %s must be 1 to 256 bytes", where, what);
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)key[i]))
            return bad(err, errlen, "%s: %s must be printable ASCII without spaces", where, what);
    return 0;
}

/* apps: "" or "app.one,app.two" (ids of 1 to 128 printable bytes) */
static int add_key(memgauge__cli_t *o, const char *key, const char *apps, const char *where,
                   char *err, size_t errlen)
{
    if (printable_token(key, "an API key", where, err, errlen))
        return -1;
    if (strlen(key) < MEMGAUGE__KEY_MIN)
        return bad(err, errlen,
                   "%s: an API key must be at least %d bytes, so that it cannot be "
                   "guessed",
                   where, MEMGAUGE__KEY_MIN);
    if (o->key_count == MEMGAUGE__MAX_KEYS)
        return bad(err, errlen, "%s: more than 64 API keys", where);
    size_t n = strlen(apps);
    if (n >= MEMGAUGE__KEY_APPS_MAX)
        return bad(err, errlen, "%s: the app list is longer than %d bytes", where,
                   MEMGAUGE__KEY_APPS_MAX - 1);
    for (const char *p = apps; n && *p;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > APP_ID_MAX)
            return bad(err, errlen, "%s: app ids are 1 to 128 bytes, separated by commas", where);
        for (size_t i = 0; i < len; i++)
            if (!isgraph((unsigned char)p[i]))
                return bad(err, errlen, "%s: app ids must be printable ASCII", where);
        p += len;
        if (*p == ',' && !*++p)
            return bad(err, errlen, "%s: the app list ends with a comma", where);
    }
    memcpy(o->keys[o->key_count], key, strlen(key) + 1);
    memcpy(o->key_apps[o->key_count], apps, n + 1);
    o->key_count++;
    return 0;
}

static int add_read_token(memgauge__cli_t *o, const char *tok, const char *where, char *err,
                          size_t errlen)
{
    if (printable_token(tok, "a read token", where, err, errlen))
        return -1;
    if (strlen(tok) < MEMGAUGE__KEY_MIN)
        return bad(err, errlen, "%s: at least %d bytes, so that it cannot be guessed", where,
                   MEMGAUGE__KEY_MIN);
    if (o->read_token_count == MEMGAUGE__MAX_READ_TOKENS)
        return bad(err, errlen, "%s: more than %d read tokens", where, MEMGAUGE__MAX_READ_TOKENS);
    memcpy(o->read_tokens[o->read_token_count++], tok, strlen(tok) + 1);
    return 0;
}

/* A file of keys (--api-keys: "KEY [app,app]") or read tokens
 * (--read-tokens: "TOKEN"), one per line, # comments, blank lines ignored:
 * secrets kept out of the command line, which every local user can see. */
static int read_secrets(memgauge__cli_t *o, const char *option, const char *path, char *err,
                        size_t errlen)
{
    int tokens = !strcmp(option, "--read-tokens");
    FILE *f = fopen(path, "r");
    if (!f)
        return bad(err, errlen, "%s: cannot read %s: %s", option, path, strerror(errno));
    char line[MEMGAUGE__KEY_MAX + MEMGAUGE__KEY_APPS_MAX + 8];
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!n || s[0] == '#')
            continue;
        char where[64];
        snprintf(where, sizeof where, "%s: line %d", option, lineno);
        char *apps = s + strcspn(s, " \t");
        if (*apps) {
            *apps++ = '\0';
            while (*apps == ' ' || *apps == '\t')
                apps++;
        }
        if (tokens && *apps)
            rc = bad(err, errlen, "%s: one token per line", where);
        else
            rc = tokens ? add_read_token(o, s, where, err, errlen)
                        : add_key(o, s, apps, where, err, errlen);
    }
    fclose(f);
    return rc;
}

static int parse_listen(memgauge__cli_t *o, const char *v, char *err, size_t errlen)
{
    const char *colon = v ? strrchr(v, ':') : NULL;
    unsigned long long port;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof o->host ||
        parse_uint(colon + 1, 0, 65535, 0, &port))
        return bad(err, errlen, "--listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got '%s'",
                   v ? v : "");
    memcpy(o->host, v, (size_t)(colon - v));
    o->host[colon - v] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, o->host, &a) != 1)
        return bad(err, errlen, "--listen: '%s' is not a numeric IPv4 address", o->host);
    o->port = (uint16_t)port;
    o->loopback = (ntohl(a.s_addr) >> 24) == 127;
    return 0;
}

/* One "Name: value" export header, borrowed (argv, or the copy a file's
 * line was kept in); `where` names the option or the file's line. */
static int add_otlp_header(memgauge__cli_t *o, const char *v, const char *where, char *err,
                           size_t errlen)
{
    const char *colon = strchr(v, ':');
    if (!colon || colon == v || strpbrk(v, "\r\n"))
        return bad(err, errlen, "%s: expected 'Name: value' on one line", where);
    for (const char *p = v; p < colon; p++)
        if (!isgraph((unsigned char)*p))
            return bad(err, errlen, "%s: the name holds a space or control byte", where);
    if (o->otlp_header_count >= MEMGAUGE__OTLP_MAX_HEADERS)
        return bad(err, errlen, "%s: at most %d headers", where, MEMGAUGE__OTLP_MAX_HEADERS);
    o->otlp_headers[o->otlp_header_count++] = v;
    return 0;
}

/* --otlp-headers FILE: "Name: value" lines, # comments, blank lines
 * ignored; a receiver's key kept out of `ps`, as --api-keys does. */
static int read_otlp_headers(memgauge__cli_t *o, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return bad(err, errlen, "--otlp-headers: cannot read %s: %s", path, strerror(errno));
    char line[MEMGAUGE__OTLP_HEADER_MAX + 2];
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char where[64];
        snprintf(where, sizeof where, "--otlp-headers: line %d", lineno);
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(f)) {
            rc = bad(err, errlen, "%s: longer than %d bytes", where, MEMGAUGE__OTLP_HEADER_MAX - 1);
            break;
        }
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!n || s[0] == '#')
            continue;
        if (o->otlp_header_count >= MEMGAUGE__OTLP_MAX_HEADERS) {
            rc = bad(err, errlen, "%s: at most %d headers", where, MEMGAUGE__OTLP_MAX_HEADERS);
            break;
        }
        char *kept = o->otlp_header_text[o->otlp_header_count];
        memcpy(kept, s, n + 1);
        rc = add_otlp_header(o, kept, where, err, errlen);
    }
    fclose(f);
    return rc;
}

/* --otlp-endpoint, --otlp-header(s), --otlp-queue, --otlp-queue-bytes */
static int parse_otlp(memgauge__cli_t *o, const char *a, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (!strcmp(a, "--otlp-endpoint")) {
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
            return bad(err, errlen,
                       "--otlp-endpoint: expected an http:// or https:// URL, got '%s'", v);
        if (strpbrk(v, " \r\n\t"))
            return bad(err, errlen, "--otlp-endpoint: the URL holds a space or control character");
        o->otlp_endpoint = v;
    } else if (!strcmp(a, "--otlp-header")) {
        return add_otlp_header(o, v, "--otlp-header", err, errlen);
    } else if (!strcmp(a, "--otlp-headers")) {
        return read_otlp_headers(o, v, err, errlen);
    } else if (!strcmp(a, "--otlp-queue")) {
        if (!v[0])
            return bad(err, errlen, "--otlp-queue: empty path");
        o->otlp_queue = v;
    } else {
        if (parse_uint(v, 64 * 1024, 1ull << 40, 1, &n))
            return bad(err, errlen, "--otlp-queue-bytes: expected 64K .. 1024G bytes, got '%s'", v);
        o->otlp_queue_bytes = n;
    }
    return 0;
}

int memgauge__cli_parse(int argc, char **argv, memgauge__cli_t *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 8080;
    o->loopback = 1;
    o->db = "./memgauge.db";
    o->max_body = 16u << 20;
    o->threads = 2;
    o->max_connections = 512;
    o->max_connections_per_ip = 64;
    o->header_timeout_s = 5;
    o->max_memory = (size_t)512 << 20;
    o->idle_timeout_s = 15;
    o->request_timeout_s = 30;
    o->drain_timeout_s = 10;
    o->pg_conns = 4;
    o->otlp_queue_bytes = 64u << 20;
    o->retention_days = 30;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            o->help = 1;
            continue;
        }
        if (!strcmp(a, "--version")) {
            o->version = 1;
            continue;
        }
        if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
            continue;
        }
        static const char *const valued[] = {"--listen",
                                             "--db",
                                             "--api-key",
                                             "--api-keys",
                                             "--max-body",
                                             "--threads",
                                             "--max-connections",
                                             "--idle-timeout",
                                             "--request-timeout",
                                             "--drain-timeout",
                                             "--sync",
                                             "--pg-conns",
                                             "--port-file",
                                             "--log",
                                             "--read-token",
                                             "--read-tokens",
                                             "--max-connections-per-ip",
                                             "--header-timeout",
                                             "--max-memory",
                                             "--dashboard-dir",
                                             "--otlp-endpoint",
                                             "--otlp-header",
                                             "--otlp-headers",
                                             "--otlp-queue",
                                             "--otlp-queue-bytes",
                                             "--retention-days",
                                             NULL};
        int known = 0;
        for (int k = 0; valued[k]; k++)
            known |= !strcmp(a, valued[k]);
        if (!known)
            return bad(err, errlen, "unknown option '%s'", a);
        if (i + 1 >= argc)
            return bad(err, errlen, "%s needs a value", a);
        const char *v = argv[++i];
        unsigned long long n;
        int rc = 0;
        if (!strcmp(a, "--listen")) {
            rc = parse_listen(o, v, err, errlen);
        } else if (!strcmp(a, "--db")) {
            if (!v[0])
                return bad(err, errlen, "--db: empty path");
            o->db = v;
        } else if (!strcmp(a, "--api-key")) {
            rc = add_key(o, v, "", "--api-key", err, errlen);
        } else if (!strcmp(a, "--api-keys") || !strcmp(a, "--read-tokens")) {
            rc = read_secrets(o, a, v, err, errlen);
        } else if (!strcmp(a, "--read-token")) {
            rc = add_read_token(o, v, "--read-token", err, errlen);
        } else if (!strcmp(a, "--dashboard-dir")) {
            if (!v[0] || strlen(v) >= sizeof o->dashboard_dir)
                return bad(err, errlen, "--dashboard-dir: expected a directory path");
            snprintf(o->dashboard_dir, sizeof o->dashboard_dir, "%s", v);
        } else if (!strcmp(a, "--max-body")) {
            if (parse_uint(v, 1024, 1ull << 30, 1, &n))
                return bad(err, errlen, "--max-body: expected 1K .. 1024M bytes, got '%s'", v);
            o->max_body = (size_t)n;
        } else if (!strcmp(a, "--max-memory")) {
            if (parse_uint(v, 16ull << 20, 1ull << 40, 1, &n))
                return bad(err, errlen, "--max-memory: expected 16M .. 1024G bytes, got '%s'", v);
            o->max_memory = (size_t)n;
        } else if (!strcmp(a, "--sync")) {
            if (strcmp(v, "normal") && strcmp(v, "full"))
                return bad(err, errlen, "--sync: expected normal or full, got '%s'", v);
            o->sync_full = !strcmp(v, "full");
        } else if (!strcmp(a, "--port-file")) {
            o->port_file = v;
        } else if (!strcmp(a, "--log")) {
            o->log_file = v;
        } else if (!strncmp(a, "--otlp-", 7)) {
            rc = parse_otlp(o, a, v, err, errlen);
        } else {
            struct {
                const char *name;
                unsigned *dst;
                unsigned long long lo, hi;
            } nums[] = {{"--threads", &o->threads, 1, 64},
                        {"--max-connections", &o->max_connections, 1, 65536},
                        {"--max-connections-per-ip", &o->max_connections_per_ip, 0, 65536},
                        {"--header-timeout", &o->header_timeout_s, 1, 3600},
                        {"--idle-timeout", &o->idle_timeout_s, 1, 3600},
                        {"--request-timeout", &o->request_timeout_s, 1, 3600},
                        {"--drain-timeout", &o->drain_timeout_s, 0, 3600},
                        {"--pg-conns", &o->pg_conns, 1, 64},
                        {"--retention-days", &o->retention_days, 0, 36500}};
            for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
                if (strcmp(a, nums[k].name))
                    continue;
                if (parse_uint(v, nums[k].lo, nums[k].hi, 0, &n)) {
                    snprintf(err, errlen, "%s: expected an integer %llu .. %llu, got '%s'", a,
                             nums[k].lo, nums[k].hi, v);
                    return -1;
                }
                *nums[k].dst = (unsigned)n;
            }
        }
        if (rc)
            return rc;
    }
    if (o->help || o->version)
        return 0;
    if (o->key_count == 0)
        return bad(err, errlen, "no API key: give --api-key KEY or --api-keys FILE");
    /* a body the size of the cap must fit, compressed and inflated */
    if (o->max_memory < 2 * o->max_body + (1u << 20))
        return bad(err, errlen, "--max-memory: at least twice --max-body plus 1M (%zu bytes)",
                   2 * o->max_body + (1u << 20));
    /* an API key ships inside every app: it must not also read everyone's data */
    for (size_t i = 0; i < o->read_token_count; i++)
        for (size_t k = 0; k < o->key_count; k++)
            if (!strcmp(o->read_tokens[i], o->keys[k]))
                return bad(err, errlen,
                           "--read-token: must differ from every API key (API keys "
                           "ship inside apps)");
    if ((o->otlp_header_count || o->otlp_queue) && !o->otlp_endpoint)
        return bad(err, errlen, "--otlp-header(s) and --otlp-queue need --otlp-endpoint");
    if (o->otlp_endpoint && !o->otlp_queue &&
        (!strncmp(o->db, "postgres://", 11) || !strncmp(o->db, "postgresql://", 13)))
        return bad(err, errlen,
                   "--otlp-endpoint with a PostgreSQL database: give --otlp-queue DIR (a local "
                   "directory for the export queue)");
    if (!o->loopback && o->read_token_count == 0)
        return bad(err, errlen,
                   "--listen %s is not a loopback address: the dashboard and query API would be "
                   "open to anyone who can reach it; give --read-token TOKEN (16+ bytes)",
                   o->host);
    return 0;
}
