/* The spool. See spool.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "mg_base.h"
#include "spool.h"

/* File layout, little-endian:
 *   0  magic "MGSPOOL1"     8  version (1)       12 flags
 *   16 created_unix_ms      24 body_len          32 crc32(body)   36 reserved
 *   40 batch id, 36 bytes + NUL padding to 48    84 crc32(bytes 0..83)
 *   88 body */
static const char MAGIC[8] = {'M', 'G', 'S', 'P', 'O', 'O', 'L', '1'};
#define SUFFIX ".mgs"
#define CORRUPT_DIR "corrupt"
/* Listing more names than this in one scan is refused rather than grown
 * without bound; the budget keeps the spool far below it. */
#define SCAN_MAX 100000u
#define PATH_CAP 1024

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t crc(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = p;
    while (n > 0) { /* zlib takes uInt lengths */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, chunk);
        b += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}

void memgauge__spool_header(unsigned char h[MEMGAUGE__SPOOL_HEADER], const char *batch_id,
                            uint64_t created_unix_ms, uint32_t flags, const void *body, size_t len)
{
    memset(h, 0, MEMGAUGE__SPOOL_HEADER);
    memcpy(h, MAGIC, 8);
    put32(h + 8, 1);
    put32(h + 12, flags);
    put64(h + 16, created_unix_ms);
    put64(h + 24, (uint64_t)len);
    put32(h + 32, crc(body, len));
    size_t n = strnlen(batch_id, 36);
    memcpy(h + 40, batch_id, n);
    put32(h + 84, crc(h, 84));
}

int memgauge__spool_parse(const unsigned char *buf, size_t len, memgauge__spool_entry_t *out)
{
    memset(out, 0, sizeof *out);
    if (buf == NULL || len < MEMGAUGE__SPOOL_HEADER || memcmp(buf, MAGIC, 8) != 0)
        return -1;
    if (get32(buf + 84) != crc(buf, 84) || get32(buf + 8) != 1)
        return -1;
    uint64_t body_len = get64(buf + 24);
    if (body_len == 0 || body_len > MEMGAUGE__SPOOL_MAX_BODY ||
        body_len != (uint64_t)(len - MEMGAUGE__SPOOL_HEADER))
        return -1;
    const unsigned char *body = buf + MEMGAUGE__SPOOL_HEADER;
    if (get32(buf + 32) != crc(body, (size_t)body_len))
        return -1;
    uint32_t flags = get32(buf + 12);
    if ((flags & ~MEMGAUGE__SPOOL_FLAG_GZIP) != 0)
        return -1;
    char id[37];
    memcpy(id, buf + 40, 36);
    id[36] = '\0';
    for (int i = 76; i < 84; i++)
        if (buf[i] != 0)
            return -1;
    if (!memgauge__uuid_valid(id))
        return -1;
    out->flags = flags;
    out->created_unix_ms = get64(buf + 16);
    memcpy(out->batch_id, id, sizeof id);
    out->body = body;
    out->body_len = (size_t)body_len;
    return 0;
}

static void path_of(const memgauge__spool_t *s, const char *name, char *out, size_t cap)
{
    if (snprintf(out, cap, "%s/%s", s->dir, name) >= (int)cap)
        out[0] = '\0'; /* cannot happen: dir and names are bounded below PATH_CAP */
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int memgauge__spool_name_kind(const char *name)
{
    size_t n = strnlen(name, MEMGAUGE__SPOOL_NAME_MAX);
    if (n <= 6 || n >= MEMGAUGE__SPOOL_NAME_MAX || name[1] != '-' ||
        strcmp(name + n - 4, SUFFIX) != 0)
        return 0;
    return name[0] == 'b' ? MEMGAUGE__SPOOL_BATCH : name[0] == 'p' ? MEMGAUGE__SPOOL_PENDING : 0;
}

int memgauge__spool_pending_writer(const char *name, unsigned long *pid, uint32_t *token)
{
    unsigned long long created;
    unsigned seq, tok;
    unsigned long p;
    int end = 0;
    if (memgauge__spool_name_kind(name) != MEMGAUGE__SPOOL_PENDING ||
        sscanf(name, "p-%13llu-%8x-%8lx-%8x.mgs%n", &created, &seq, &p, &tok, &end) != 4 ||
        name[end] != '\0')
        return -1;
    *pid = p;
    *token = tok;
    return 0;
}

/* Temp files are ".tmp-<pid>-<seq>": one whose writer is gone is a
 * leftover of a kill between create and rename. */
static void remove_dead_temps(memgauge__spool_t *s)
{
    DIR *d = opendir(s->dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (sscanf(e->d_name, ".tmp-%ld-", &pid) != 1)
            continue;
        if (pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char path[PATH_CAP];
            path_of(s, e->d_name, path, sizeof path);
            unlink(path);
        }
    }
    closedir(d);
}

/* A pending file whose writer is gone is that writer's last word on its
 * batch: it becomes an ordinary spool file under the same name (prefix
 * "b-"), so it is sent in its place among the others, oldest first. Its
 * writer is gone when its process is dead, or when the process is this one
 * (a pid reused by the next run, e.g. pid 1 in a container) but the token is
 * not this spool's. A pending file of another live process is its own. */
static void promote_orphans(memgauge__spool_t *s)
{
    DIR *d = opendir(s->dir);
    if (d == NULL)
        return;
    int renamed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long pid;
        uint32_t token;
        if (memgauge__spool_pending_writer(e->d_name, &pid, &token) != 0) {
            if (memgauge__spool_name_kind(e->d_name) == MEMGAUGE__SPOOL_PENDING)
                pid = 0; /* a name no writer of ours made: promoted, read, set aside */
            else
                continue;
        } else if (token == s->token) {
            continue;
        } else if (pid != (unsigned long)getpid() &&
                   !(kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            continue;
        }
        char from[PATH_CAP], to[PATH_CAP];
        path_of(s, e->d_name, from, sizeof from);
        path_of(s, e->d_name, to, sizeof to);
        to[strlen(s->dir) + 1] = 'b';
        if (rename(from, to) == 0) {
            s->recovered++;
            renamed = 1;
        }
    }
    closedir(d);
    if (renamed)
        fsync_dir(s->dir);
}

int memgauge__spool_open(memgauge__spool_t *s, const char *dir, uint64_t max_bytes,
                         uint32_t max_files, uint32_t max_age_s)
{
    memset(s, 0, sizeof *s);
    if (dir == NULL || strlen(dir) >= sizeof s->dir - 16) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    s->max_bytes = max_bytes;
    s->max_files = max_files;
    s->max_age_s = max_age_s;
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST)
        return -1;
    if (access(s->dir, W_OK | X_OK) != 0)
        return -1;
    remove_dead_temps(s);
    uint32_t token = 0;
    if (getentropy(&token, sizeof token) != 0)
        token = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    s->token = token;
    promote_orphans(s);
    return 0;
}

/* temp file, fsync, rename onto name, fsync the directory */
static int write_file(memgauge__spool_t *s, const char *name, const char *batch_id,
                      uint64_t created_unix_ms, uint32_t flags, const void *body, size_t len)
{
    if (len == 0 || len > MEMGAUGE__SPOOL_MAX_BODY)
        return -1;
    unsigned char h[MEMGAUGE__SPOOL_HEADER];
    memgauge__spool_header(h, batch_id, created_unix_ms, flags, body, len);
    char tmp_name[64], tmp[PATH_CAP], final_path[PATH_CAP];
    snprintf(tmp_name, sizeof tmp_name, ".tmp-%ld-%" PRIu32, (long)getpid(), s->seq++);
    path_of(s, tmp_name, tmp, sizeof tmp);
    path_of(s, name, final_path, sizeof final_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
#ifdef F_SETPROTECTIONCLASS
    /* Darwin data protection class D (xnu content_protection.h: 4), as the
     * session record: a locked device must not stop the spool */
    (void)fcntl(fd, F_SETPROTECTIONCLASS, 4);
#endif
    /* A full disk (ENOSPC) fails a write or the fsync: the temp file goes,
     * the file under `name` (a previous version) is left as it was. */
    int rc = write_all(fd, h, sizeof h) != 0 || write_all(fd, body, len) != 0 || fsync(fd) != 0;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) { /* NFS reports a failed write-back here */
        rc = 1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        errno = saved;
        return -1;
    }
    if (rename(tmp, final_path) != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    fsync_dir(s->dir);
    return 0;
}

int memgauge__spool_write(memgauge__spool_t *s, const char *batch_id, uint64_t created_unix_ms,
                          uint32_t flags, const void *body, size_t len,
                          char name_out[MEMGAUGE__SPOOL_NAME_MAX])
{
    /* created time first so that names sort oldest first; pid and seq keep
     * two writers apart */
    snprintf(name_out, MEMGAUGE__SPOOL_NAME_MAX, "b-%013" PRIu64 "-%08" PRIx32 "-%08lx" SUFFIX,
             created_unix_ms, s->seq++, (unsigned long)getpid());
    if (write_file(s, name_out, batch_id, created_unix_ms, flags, body, len) != 0)
        return -1;
    memgauge__spool_enforce(s, created_unix_ms);
    return 0;
}

int memgauge__spool_write_pending(memgauge__spool_t *s, const char *batch_id,
                                  uint64_t created_unix_ms, uint32_t flags, const void *body,
                                  size_t len, char name_io[MEMGAUGE__SPOOL_NAME_MAX])
{
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    if (name_io[0] != '\0')
        snprintf(name, sizeof name, "%s", name_io);
    else /* the batch's name for all its versions: it sorts by the batch's start */
        snprintf(name, sizeof name, "p-%013" PRIu64 "-%08" PRIx32 "-%08lx-%08" PRIx32 SUFFIX,
                 created_unix_ms, s->seq++, (unsigned long)getpid(), s->token);
    if (write_file(s, name, batch_id, created_unix_ms, flags, body, len) != 0)
        return -1;
    snprintf(name_io, MEMGAUGE__SPOOL_NAME_MAX, "%s", name);
    s->pending_writes++;
    memgauge__spool_enforce(s, memgauge__spool_created_of(name));
    return 0;
}

int memgauge__spool_promote(memgauge__spool_t *s, const char *pending_name,
                            char name_out[MEMGAUGE__SPOOL_NAME_MAX])
{
    if (memgauge__spool_name_kind(pending_name) != MEMGAUGE__SPOOL_PENDING)
        return -1;
    char from[PATH_CAP], to[PATH_CAP];
    snprintf(name_out, MEMGAUGE__SPOOL_NAME_MAX, "b%s", pending_name + 1);
    path_of(s, pending_name, from, sizeof from);
    path_of(s, name_out, to, sizeof to);
    if (rename(from, to) != 0)
        return -1; /* evicted by the budget */
    fsync_dir(s->dir);
    return 0;
}

typedef struct listed_s {
    char name[MEMGAUGE__SPOOL_NAME_MAX];
    uint64_t size;
} listed_t;

/* by the part after the kind's prefix (created time first), then kind */
static int by_name(const void *a, const void *b)
{
    const char *x = ((const listed_t *)a)->name, *y = ((const listed_t *)b)->name;
    int c = strcmp(x + 2, y + 2);
    return c != 0 ? c : (x[0] > y[0]) - (x[0] < y[0]);
}

/* The spool files of dir whose kind is in `kinds`, oldest first (malloc'd;
 * NULL when none or out of memory). */
static listed_t *scan(const char *dir, int kinds, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    listed_t *list = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *count < SCAN_MAX) {
        if ((memgauge__spool_name_kind(e->d_name) & kinds) == 0)
            continue;
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            listed_t *bigger = realloc(list, ncap * sizeof *list);
            if (bigger == NULL)
                break;
            list = bigger;
            cap = ncap;
        }
        char path[PATH_CAP];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &st) != 0)
            continue;
        size_t len = strlen(e->d_name); /* memgauge__spool_name_kind bounds it */
        memcpy(list[*count].name, e->d_name, len + 1);
        list[*count].size = (uint64_t)st.st_size;
        (*count)++;
    }
    closedir(d);
    if (*count > 1)
        qsort(list, *count, sizeof *list, by_name);
    return list;
}

uint64_t memgauge__spool_created_of(const char *name)
{
    uint64_t ms = 0;
    if (memgauge__spool_name_kind(name) != 0)
        sscanf(name + 2, "%13" SCNu64, &ms);
    return ms;
}

uint32_t memgauge__spool_enforce(memgauge__spool_t *s, uint64_t now_unix_ms)
{
    size_t n;
    listed_t *list = scan(s->dir, MEMGAUGE__SPOOL_BATCH | MEMGAUGE__SPOOL_PENDING, &n);
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += list[i].size;
    uint64_t max_age_ms = (uint64_t)s->max_age_s * 1000u;
    uint32_t evicted = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t created = memgauge__spool_created_of(list[i].name);
        int too_old = max_age_ms > 0 && now_unix_ms > created + max_age_ms;
        int too_many = s->max_files > 0 && n - i > s->max_files;
        int too_big = s->max_bytes > 0 && bytes > s->max_bytes;
        if (!too_old && !too_many && !too_big)
            break;
        char path[PATH_CAP];
        path_of(s, list[i].name, path, sizeof path);
        if (unlink(path) == 0)
            evicted++;
        bytes -= list[i].size;
        i++;
    }
    s->files = 0;
    for (size_t k = i; k < n; k++)
        s->files += list[k].name[0] == 'b';
    s->pending_files = n - i - s->files;
    s->bytes = bytes;
    s->evicted += evicted;
    free(list);
    return evicted;
}

/* Lists the directory, updates the counts and copies the oldest batch
 * file's name into name_out (when not NULL). 1 when there is one. */
static int scan_counts(memgauge__spool_t *s, char *name_out)
{
    size_t n;
    listed_t *list = scan(s->dir, MEMGAUGE__SPOOL_BATCH | MEMGAUGE__SPOOL_PENDING, &n);
    uint64_t bytes = 0;
    size_t first = n, sendable = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += list[i].size;
        if (list[i].name[0] == 'b') {
            sendable++;
            if (first == n)
                first = i;
        }
    }
    s->files = sendable; /* what is waiting to be sent */
    s->pending_files = n - sendable;
    s->bytes = bytes;
    if (first < n && name_out != NULL)
        snprintf(name_out, MEMGAUGE__SPOOL_NAME_MAX, "%s", list[first].name);
    free(list);
    return first < n;
}

int memgauge__spool_oldest(memgauge__spool_t *s, char name_out[MEMGAUGE__SPOOL_NAME_MAX])
{
    return scan_counts(s, name_out);
}

void memgauge__spool_rescan(memgauge__spool_t *s)
{
    scan_counts(s, NULL);
}

/* Keeps the newest MEMGAUGE__SPOOL_CORRUPT_KEEP set-aside files. */
static void trim_corrupt(const char *dir)
{
    size_t n;
    listed_t *list = scan(dir, MEMGAUGE__SPOOL_BATCH | MEMGAUGE__SPOOL_PENDING, &n);
    for (size_t i = 0; i + MEMGAUGE__SPOOL_CORRUPT_KEEP < n; i++) {
        char path[PATH_CAP];
        if (snprintf(path, sizeof path, "%s/%s", dir, list[i].name) < (int)sizeof path)
            unlink(path);
    }
    free(list);
}

static void set_aside(memgauge__spool_t *s, const char *name)
{
    char from[PATH_CAP], dir[PATH_CAP], to[PATH_CAP];
    path_of(s, name, from, sizeof from);
    path_of(s, CORRUPT_DIR, dir, sizeof dir);
    if (snprintf(to, sizeof to, "%s/%s", dir, name) >= (int)sizeof to)
        to[0] = '\0';
    if (to[0] != '\0' && (mkdir(dir, 0700) == 0 || errno == EEXIST) && rename(from, to) == 0)
        trim_corrupt(dir);
    else
        unlink(from); /* never send it, never read it twice */
    s->corrupt++;
}

int memgauge__spool_read(memgauge__spool_t *s, const char *name, unsigned char **buf,
                         memgauge__spool_entry_t *entry)
{
    *buf = NULL;
    char path[PATH_CAP];
    path_of(s, name, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -2 : -1;
    struct stat st;
    unsigned char *data = NULL;
    size_t got = 0;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 &&
        (uint64_t)st.st_size <= MEMGAUGE__SPOOL_MAX_BODY + MEMGAUGE__SPOOL_HEADER) {
        size_t want = (size_t)st.st_size;
        data = malloc(want ? want : 1);
        while (data != NULL && got < want) {
            ssize_t r = read(fd, data + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    close(fd);
    if (data == NULL || memgauge__spool_parse(data, got, entry) != 0) {
        free(data);
        set_aside(s, name);
        return -1;
    }
    *buf = data;
    return 0;
}

void memgauge__spool_remove(memgauge__spool_t *s, const char *name)
{
    char path[PATH_CAP];
    path_of(s, name, path, sizeof path);
    unlink(path);
}
