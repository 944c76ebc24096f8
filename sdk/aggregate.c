/* Session and window aggregates. See aggregate.h. */
#include <string.h>

#include "aggregate.h"

void memgauge__u128_add(memgauge__u128_t *acc, uint64_t v)
{
    uint64_t lo = acc->lo + v;
    acc->hi += lo < acc->lo;
    acc->lo = lo;
}

uint64_t memgauge__u128_div(memgauge__u128_t acc, uint64_t d)
{
    if (d == 0)
        return 0;
    if (acc.hi == 0)
        return acc.lo / d;
    /* Shift-subtract long division; runs only when a snapshot is taken. */
    uint64_t q = 0, rem = 0;
    for (int bit = 127; bit >= 0; bit--) {
        uint64_t top = rem >> 63;
        rem = (rem << 1) | ((bit >= 64 ? acc.hi >> (bit - 64) : acc.lo >> bit) & 1u);
        if (top || rem >= d) {
            rem -= d;
            if (bit < 64)
                q |= UINT64_C(1) << bit;
        }
    }
    return q;
}

void memgauge__session_init(memgauge__session_t *s, memgauge_sample_t *ring, uint32_t ring_capacity,
                            uint64_t window_ns)
{
    memset(s, 0, sizeof *s);
    s->ring = ring;
    s->ring_capacity = ring_capacity;
    s->window_ns = window_ns;
}

/* The highest footprint the interval since the previous sample can have
 * reached. When the kernel's high-water mark rose in between, the spike it
 * recorded is converted to a footprint: on Darwin the mark is a footprint
 * peak already; on Linux it is a resident peak, so the file-backed part
 * (resident - footprint, the larger of the two samples') is taken off. */
static uint64_t interval_peak(const memgauge__session_t *s, const memgauge_reading_t *r)
{
    uint64_t peak = r->footprint_bytes;
    if (s->samples == 0)
        return peak;
    if (s->last > peak)
        peak = s->last;
    int both_know_peak = (r->valid & s->valid & MEMGAUGE_FIELD_PEAK) != 0;
    if (!both_know_peak || r->peak_bytes <= s->kernel_peak)
        return peak;
    uint64_t implied = r->peak_bytes;
    if (r->footprint_source != MEMGAUGE_SOURCE_PHYS_FOOTPRINT) {
        uint64_t other_now =
            r->resident_bytes > r->footprint_bytes ? r->resident_bytes - r->footprint_bytes : 0;
        uint64_t other_prev = s->last_resident > s->last ? s->last_resident - s->last : 0;
        uint64_t other = other_now > other_prev ? other_now : other_prev;
        implied = implied > other ? implied - other : 0;
    }
    return implied > peak ? implied : peak;
}

static void window_start(memgauge__window_acc_t *c, uint64_t index)
{
    memset(c, 0, sizeof *c);
    c->index = index;
}

static void window_add(memgauge__window_acc_t *c, const memgauge_sample_t *smp)
{
    memgauge_window_t *w = &c->w;
    if (w->samples == 0) {
        w->start_ns = smp->time_ns;
        w->first_bytes = smp->footprint_bytes;
        w->min_bytes = smp->footprint_bytes;
    }
    w->samples++;
    w->end_ns = smp->time_ns;
    w->last_bytes = smp->footprint_bytes;
    if (smp->footprint_bytes < w->min_bytes)
        w->min_bytes = smp->footprint_bytes;
    if (smp->footprint_bytes > w->max_bytes)
        w->max_bytes = smp->footprint_bytes;
    if (smp->interval_peak_bytes > w->peak_bytes)
        w->peak_bytes = smp->interval_peak_bytes;
    w->kernel_peak_bytes = smp->kernel_peak_bytes;
    w->limit_bytes = smp->limit_bytes;
    if ((smp->valid & MEMGAUGE_FIELD_AVAILABLE) &&
        (!c->have_available || smp->available_bytes < w->min_available_bytes)) {
        w->min_available_bytes = smp->available_bytes;
        c->have_available = 1;
    }
    memgauge__u128_add(&c->sum, smp->footprint_bytes);
}

static memgauge_window_t window_snapshot(const memgauge__window_acc_t *c)
{
    memgauge_window_t w = c->w;
    w.mean_bytes = memgauge__u128_div(c->sum, w.samples);
    return w;
}

int memgauge__session_add(memgauge__session_t *s, const memgauge_reading_t *r,
                          memgauge_sample_t *smp, memgauge_window_t *closed)
{
    memset(smp, 0, sizeof *smp);
    smp->seq = s->samples + 1;
    smp->time_ns = r->time_ns;
    smp->footprint_bytes = r->footprint_bytes;
    smp->resident_bytes = r->resident_bytes;
    smp->kernel_peak_bytes = (r->valid & MEMGAUGE_FIELD_PEAK) ? r->peak_bytes : 0;
    smp->interval_peak_bytes = interval_peak(s, r);
    smp->limit_bytes = (r->valid & MEMGAUGE_FIELD_LIMIT) ? r->limit_bytes : 0;
    smp->available_bytes = (r->valid & MEMGAUGE_FIELD_AVAILABLE) ? r->available_bytes : 0;
    smp->delta_bytes = s->samples == 0 ? 0 : (int64_t)(r->footprint_bytes - s->last);
    smp->valid = r->valid;
    smp->footprint_source = r->footprint_source;

    if (s->samples == 0) {
        s->start_ns = r->time_ns;
        s->first = s->min = s->max = s->peak = r->footprint_bytes;
        window_start(&s->current, 0);
    }
    s->samples++;
    s->last_ns = r->time_ns;
    s->last = r->footprint_bytes;
    s->last_delta = smp->delta_bytes;
    if (r->footprint_bytes < s->min)
        s->min = r->footprint_bytes;
    if (r->footprint_bytes > s->max)
        s->max = r->footprint_bytes;
    if (smp->interval_peak_bytes > s->peak)
        s->peak = smp->interval_peak_bytes;
    memgauge__u128_add(&s->sum, r->footprint_bytes);
    s->kernel_peak = smp->kernel_peak_bytes;
    s->last_resident = r->resident_bytes;
    s->limit = smp->limit_bytes;
    s->available = smp->available_bytes;
    s->valid = r->valid;
    s->source = r->footprint_source;

    /* Windows are aligned to the session start, so they never drift. */
    int did_close = 0;
    uint64_t index = s->window_ns ? (r->time_ns - s->start_ns) / s->window_ns : 0;
    if (index != s->current.index) {
        *closed = window_snapshot(&s->current);
        s->last_window = *closed;
        s->windows++;
        did_close = 1;
        window_start(&s->current, index);
    }
    window_add(&s->current, smp);

    if (s->ring_capacity != 0) {
        s->ring[s->ring_head] = *smp;
        s->ring_head = (s->ring_head + 1) % s->ring_capacity;
        if (s->ring_count < s->ring_capacity)
            s->ring_count++;
    }
    return did_close;
}

void memgauge__session_stats(const memgauge__session_t *s, memgauge_stats_t *out)
{
    out->footprint_source = s->source;
    out->samples = s->samples;
    out->start_ns = s->start_ns;
    out->last_ns = s->last_ns;
    out->first_bytes = s->first;
    out->last_bytes = s->last;
    out->last_delta_bytes = s->last_delta;
    out->delta_since_start_bytes = (int64_t)(s->last - s->first);
    out->min_bytes = s->min;
    out->max_bytes = s->max;
    out->peak_bytes = s->peak;
    out->mean_bytes = memgauge__u128_div(s->sum, s->samples);
    out->kernel_peak_bytes = s->kernel_peak;
    out->last_resident_bytes = s->last_resident;
    out->limit_bytes = s->limit;
    out->available_bytes = s->available;
    out->windows = s->windows;
    out->current_window = window_snapshot(&s->current);
    out->last_window = s->last_window;
}

size_t memgauge__session_recent(const memgauge__session_t *s, memgauge_sample_t *out, size_t cap)
{
    size_t n = s->ring_count < cap ? s->ring_count : cap;
    /* oldest of the n newest */
    size_t start =
        (s->ring_head + s->ring_capacity - n) % (s->ring_capacity ? s->ring_capacity : 1);
    for (size_t i = 0; i < n; i++)
        out[i] = s->ring[(start + i) % s->ring_capacity];
    return n;
}
