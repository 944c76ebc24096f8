/* The exporter's bounded queue of request files. */
#include "otlp_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void path_of(const memgauge__otlp_queue_t *q, uint64_t seq, char *out, size_t n)
{
    snprintf(out, n, "%s/%020" PRIu64, q->dir, seq);
}

/* Deletes the file of seq, if any, and forgets its bytes. Under the lock. */
static int unlink_seq(memgauge__otlp_queue_t *q, uint64_t seq)
{
    char path[MEMGAUGE__OTLP_QUEUE_PATH_MAX + 32];
    path_of(q, seq, path, sizeof path);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    unlink(path);
    q->bytes -= (uint64_t)st.st_size < q->bytes ? (uint64_t)st.st_size : q->bytes;
    q->files -= q->files ? 1 : 0;
    return 1;
}

int memgauge__otlp_queue_open(memgauge__otlp_queue_t *q, const char *dir, uint64_t budget,
                              char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    if (strlen(dir) >= sizeof q->dir) {
        snprintf(err, errlen, "--otlp-queue: path too long");
        return -1;
    }
    snprintf(q->dir, sizeof q->dir, "%s", dir);
    q->budget = budget;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--otlp-queue: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "--otlp-queue: cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char full[MEMGAUGE__OTLP_QUEUE_PATH_MAX + 300];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (!strncmp(e->d_name, ".tmp-", 5)) { /* a write cut short by a kill */
            unlink(full);
            continue;
        }
        char *end;
        errno = 0;
        uint64_t seq = strtoull(e->d_name, &end, 10);
        struct stat st;
        if (errno || *end || strlen(e->d_name) != 20 || stat(full, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        lo = seq < lo ? seq : lo;
        hi = seq > hi ? seq : hi;
        q->bytes += (uint64_t)st.st_size;
        q->files++;
    }
    closedir(d);
    q->head = q->files ? lo : 0;
    q->tail = q->files ? hi + 1 : 0;
    pthread_mutex_init(&q->lock, NULL);
    return 0;
}

static int write_file(const memgauge__otlp_queue_t *q, uint64_t seq, memgauge__otlp_kind_t kind,
                      const void *data, size_t len)
{
    char tmp[MEMGAUGE__OTLP_QUEUE_PATH_MAX + 40], path[MEMGAUGE__OTLP_QUEUE_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/.tmp-%020" PRIu64, q->dir, seq);
    path_of(q, seq, path, sizeof path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    unsigned char k = (unsigned char)kind;
    int ok = write(fd, &k, 1) == 1 && write(fd, data, len) == (ssize_t)len;
    /* no fsync: a request lost to a power cut is a gap in telemetry, and an
     * fsync per batch would cost ingest more than the batch itself */
    ok &= close(fd) == 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int memgauge__otlp_queue_put(memgauge__otlp_queue_t *q, memgauge__otlp_kind_t kind,
                             const void *data, size_t len)
{
    uint64_t size = (uint64_t)len + 1;
    pthread_mutex_lock(&q->lock);
    if (size > q->budget) {
        q->dropped++;
        pthread_mutex_unlock(&q->lock);
        return -1;
    }
    while (q->bytes + size > q->budget && q->head < q->tail) {
        q->dropped += (uint64_t)unlink_seq(q, q->head);
        q->head++;
    }
    uint64_t seq = q->tail;
    int rc = write_file(q, seq, kind, data, len);
    if (rc == 0) {
        q->tail++;
        q->bytes += size;
        q->files++;
    } else {
        q->dropped++;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

int memgauge__otlp_queue_peek(memgauge__otlp_queue_t *q, uint64_t *seq, memgauge__otlp_kind_t *kind,
                              char **data, size_t *len)
{
    pthread_mutex_lock(&q->lock);
    int rc = 0;
    while (q->head < q->tail) {
        char path[MEMGAUGE__OTLP_QUEUE_PATH_MAX + 32];
        path_of(q, q->head, path, sizeof path);
        FILE *f = fopen(path, "rbe");
        if (!f) { /* a gap left by a failed write */
            q->head++;
            continue;
        }
        struct stat st;
        char *buf = NULL;
        int ok = fstat(fileno(f), &st) == 0 && st.st_size >= 1 &&
                 (buf = malloc((size_t)st.st_size)) &&
                 fread(buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size &&
                 (buf[0] == MEMGAUGE__OTLP_METRICS || buf[0] == MEMGAUGE__OTLP_LOGS);
        fclose(f);
        if (!ok) {
            free(buf);
            q->dropped += (uint64_t)unlink_seq(q, q->head);
            q->head++;
            rc = -1;
            break;
        }
        *seq = q->head;
        *kind = (memgauge__otlp_kind_t)buf[0];
        *len = (size_t)st.st_size - 1;
        memmove(buf, buf + 1, *len);
        *data = buf;
        rc = 1;
        break;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void memgauge__otlp_queue_remove(memgauge__otlp_queue_t *q, uint64_t seq)
{
    pthread_mutex_lock(&q->lock);
    if (seq >= q->head && seq < q->tail) {
        unlink_seq(q, seq);
        if (seq == q->head)
            q->head++;
    }
    pthread_mutex_unlock(&q->lock);
}

int memgauge__otlp_queue_empty(memgauge__otlp_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    int empty = q->head >= q->tail;
    pthread_mutex_unlock(&q->lock);
    return empty;
}

void memgauge__otlp_queue_close(memgauge__otlp_queue_t *q)
{
    pthread_mutex_destroy(&q->lock);
}
