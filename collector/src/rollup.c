#include "rollup.h"

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void memgauge__contribution_make(memgauge__contribution_t *c, const char *app_id,
                                 const char *app_version, const char *device_model,
                                 const char *os_version, uint64_t start_unix_ms, uint64_t samples,
                                 uint64_t peak_bytes, double peak_fraction, const char *verdict,
                                 const char *grade)
{
    memset(c, 0, sizeof *c);
    c->present = 1;
    snprintf(c->key.app_id, sizeof c->key.app_id, "%s", app_id);
    snprintf(c->key.app_version, sizeof c->key.app_version, "%s", app_version);
    snprintf(c->key.device_model, sizeof c->key.device_model, "%s", device_model);
    snprintf(c->key.os_version, sizeof c->key.os_version, "%s", os_version);
    c->key.day = (int64_t)(start_unix_ms / MEMGAUGE__DAY_MS);
    c->start_unix_ms = start_unix_ms;
    /* killed before its first sample: no peak to rank, never a 0 B one */
    c->with_data = samples > 0;
    c->peak_bytes = c->with_data ? peak_bytes : 0;
    c->with_limit = c->with_data && peak_fraction >= 0;
    c->peak_fraction = c->with_limit ? peak_fraction : 0;
    c->judged = verdict && verdict[0];
    if (c->judged && memgauge__verdict_is_oom(verdict)) {
        /* an OOM verdict backed by memory evidence is graded medium or high;
         * low or none (SDKs before grades) is a death nothing else explained */
        int evidence = grade && (!strcmp(grade, "high") || !strcmp(grade, "medium"));
        c->oom = evidence;
        c->oom_weak = !evidence;
    }
}

int memgauge__rollup_key_cmp(const memgauge__rollup_key_t *a, const memgauge__rollup_key_t *b)
{
    int d;
    if ((d = strcmp(a->app_id, b->app_id)) || (d = strcmp(a->app_version, b->app_version)) ||
        (d = strcmp(a->device_model, b->device_model)) ||
        (d = strcmp(a->os_version, b->os_version)))
        return d;
    return (a->day > b->day) - (a->day < b->day);
}

static int same(const memgauge__contribution_t *a, const memgauge__contribution_t *b)
{
    if (a->present != b->present)
        return 0;
    if (!a->present)
        return 1;
    return !memgauge__rollup_key_cmp(&a->key, &b->key) && a->start_unix_ms == b->start_unix_ms &&
           a->with_data == b->with_data && a->peak_bytes == b->peak_bytes &&
           a->with_limit == b->with_limit && a->peak_fraction == b->peak_fraction &&
           a->judged == b->judged && a->oom == b->oom && a->oom_weak == b->oom_weak;
}

int memgauge__rollup_apply(memgauge__rollup_t *r, const memgauge__contribution_t *c, int sign)
{
    if (!c->present)
        return 0;
    r->sessions += sign;
    r->with_data += sign * c->with_data;
    r->with_limit += sign * c->with_limit;
    r->judged += sign * c->judged;
    r->oom += sign * c->oom;
    r->oom_weak += sign * c->oom_weak;
    if (sign > 0 && c->start_unix_ms > r->last_start_unix_ms)
        r->last_start_unix_ms = c->start_unix_ms;
    if (c->with_data && memgauge__sketch_add(&r->peaks, (double)c->peak_bytes, sign))
        return -2;
    if (c->with_limit && memgauge__sketch_add(&r->fractions, c->peak_fraction, sign))
        return -2;
    return 0;
}

int memgauge__rollup_merge(memgauge__rollup_t *dst, const memgauge__rollup_t *src)
{
    dst->sessions += src->sessions;
    dst->with_data += src->with_data;
    dst->with_limit += src->with_limit;
    dst->judged += src->judged;
    dst->oom += src->oom;
    dst->oom_weak += src->oom_weak;
    if (src->last_start_unix_ms > dst->last_start_unix_ms)
        dst->last_start_unix_ms = src->last_start_unix_ms;
    if (memgauge__sketch_merge(&dst->peaks, &src->peaks) ||
        memgauge__sketch_merge(&dst->fractions, &src->fractions))
        return -2;
    return 0;
}

void memgauge__rollup_clear(memgauge__rollup_t *r)
{
    memgauge__sketch_clear(&r->peaks);
    memgauge__sketch_clear(&r->fractions);
}

static int move(const memgauge__rollup_io_t *io, const memgauge__rollup_key_t *key,
                const memgauge__contribution_t *minus, const memgauge__contribution_t *plus)
{
    memgauge__rollup_t r;
    memset(&r, 0, sizeof r);
    r.key = *key;
    int rc = io->load(io->ctx, &r);
    if (!rc && minus && memgauge__rollup_apply(&r, minus, -1))
        rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc && plus && memgauge__rollup_apply(&r, plus, 1))
        rc = MEMGAUGE__STORE_NO_MEMORY;
    if (!rc)
        rc = io->save(io->ctx, &r);
    memgauge__rollup_clear(&r);
    return rc;
}

int memgauge__rollup_change(const memgauge__rollup_io_t *io, const memgauge__contribution_t *before,
                            const memgauge__contribution_t *after)
{
    if (same(before, after))
        return 0;
    if (before->present && after->present && !memgauge__rollup_key_cmp(&before->key, &after->key))
        return move(io, &before->key, before, after);
    const memgauge__contribution_t *first = before, *second = after;
    if (before->present && after->present &&
        memgauge__rollup_key_cmp(&after->key, &before->key) < 0)
        first = after, second = before;
    int rc = 0;
    const memgauge__contribution_t *order[2] = {first, second};
    for (int i = 0; i < 2 && !rc; i++) {
        const memgauge__contribution_t *c = order[i];
        if (c->present)
            rc = move(io, &c->key, c == before ? c : NULL, c == after ? c : NULL);
    }
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

int memgauge__rollup_track_init(memgauge__rollup_track_t *t, const memgauge__batch_t *b)
{
    memset(t, 0, sizeof *t);
    size_t cap = 1;
    for (size_t i = 0; i < b->event_count; i++)
        cap += b->events[i].kind == MEMGAUGE__EVENT_PREVIOUS_SESSION;
    t->ids = malloc(cap * sizeof *t->ids);
    t->before = calloc(cap, sizeof *t->before);
    if (!t->ids || !t->before) {
        memgauge__rollup_track_free(t);
        return MEMGAUGE__STORE_NO_MEMORY;
    }
    snprintf(t->ids[t->n++], sizeof t->ids[0], "%s", b->session_id);
    for (size_t i = 0; i < b->event_count; i++)
        if (b->events[i].kind == MEMGAUGE__EVENT_PREVIOUS_SESSION)
            snprintf(t->ids[t->n++], sizeof t->ids[0], "%s", b->events[i].session_id);
    qsort(t->ids, t->n, sizeof *t->ids, cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if (k == 0 || strcmp(t->ids[k - 1], t->ids[i]))
            memmove(t->ids[k++], t->ids[i], sizeof t->ids[0]);
    t->n = k;
    return 0;
}

void memgauge__rollup_track_free(memgauge__rollup_track_t *t)
{
    free(t->ids);
    free(t->before);
    memset(t, 0, sizeof *t);
}

int memgauge__rollup_encode(const memgauge__rollup_t *r, unsigned char **peaks, size_t *peaks_len,
                            unsigned char **fractions, size_t *fractions_len)
{
    *peaks = *fractions = NULL;
    if (memgauge__sketch_encode(&r->peaks, peaks, peaks_len) ||
        memgauge__sketch_encode(&r->fractions, fractions, fractions_len)) {
        free(*peaks);
        *peaks = NULL;
        return -2;
    }
    return 0;
}

int memgauge__rollup_expired(const memgauge__contribution_t *before,
                             const memgauge__contribution_t *after, unsigned retention_days,
                             uint64_t now_unix_ms)
{
    uint64_t keep = (uint64_t)retention_days * MEMGAUGE__DAY_MS;
    return retention_days && !before->present && after->present && now_unix_ms > keep &&
           after->start_unix_ms < now_unix_ms - keep;
}
