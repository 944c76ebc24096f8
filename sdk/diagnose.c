/* How the previous session ended. See diagnose.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diagnose.h"
#include "mg_base.h"

const char *memgauge_end_name(int verdict)
{
    static const char *const names[] = {
        "none",
        "unreadable_record",
        "still_running",
        "clean_stop",
        "exit",
        "crash",
        "app_upgraded",
        "os_upgraded",
        "reboot",
        "debugger",
        "background_kill",
        "hang_kill",
        "suspected_oom",
        "unexplained",
        "extension_ended",
    };
    if (verdict < 0 || verdict >= (int)(sizeof names / sizeof names[0]))
        return "unknown";
    return names[verdict];
}

const char *memgauge_confidence_name(int confidence)
{
    switch (confidence) {
    case MEMGAUGE_CONFIDENCE_LOW:
        return "low";
    case MEMGAUGE_CONFIDENCE_MEDIUM:
        return "medium";
    case MEMGAUGE_CONFIDENCE_HIGH:
        return "high";
    default:
        return "none";
    }
}

int64_t memgauge__trail_trend(const memgauge__trail_entry_t *trail, size_t n, uint64_t window_ns)
{
    if (n < 2)
        return 0;
    uint64_t end = trail[n - 1].wall_ns;
    size_t first = n - 1;
    while (first > 0 && end - trail[first - 1].wall_ns <= window_ns)
        first--;
    size_t count = n - first;
    if (count < 2)
        return 0;
    /* least squares in seconds and MiB-scaled doubles: exactness is not
     * needed, only the sign and the order of magnitude */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = first; i < n; i++) {
        double x = (double)(trail[i].wall_ns - trail[first].wall_ns) / 1e9;
        double y = (double)trail[i].footprint;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double c = (double)count;
    double den = c * sxx - sx * sx;
    if (den <= 0)
        return 0;
    double slope = (c * sxy - sx * sy) / den;
    /* a trail read from disk can hold any numbers: clamp before converting */
    if (!(slope < 9.2e18))
        return slope != slope ? 0 : INT64_MAX;
    if (slope < -9.2e18)
        return INT64_MIN;
    return (int64_t)slope;
}

static int differs(const char *a, const char *b)
{
    /* an unknown value on either side proves nothing */
    return a[0] != '\0' && b[0] != '\0' && strcmp(a, b) != 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* Would the footprint use `available` up within `seconds` at `trend`? */
static int climbs_within(int64_t trend, uint64_t available, uint64_t seconds)
{
    return trend > 0 && (uint64_t)trend >= available / seconds;
}

/* Positive evidence that memory ended the session. */
static uint32_t gather_evidence(const memgauge__diagnosis_input_t *in,
                                memgauge_previous_session_t *out)
{
    const memgauge__record_body_t *b = &in->prev->body;
    uint32_t ev = 0;
    /* The trail's newest entry may be one sample newer than the slot. */
    uint64_t footprint = b->last_footprint, available = b->available, limit = b->limit;
    uint32_t pressure = b->pressure;
    if (in->trail_count > 0) {
        const memgauge__trail_entry_t *last = &in->trail[in->trail_count - 1];
        if (last->seq >= b->samples) {
            footprint = last->footprint;
            available = last->available;
            limit = last->limit;
            pressure = last->pressure;
        }
    }
    out->last_footprint_bytes = footprint;
    out->available_bytes = available;
    out->limit_bytes = limit;
    out->pressure = (int32_t)pressure;
    out->trend_bytes_per_s = memgauge__trail_trend(in->trail, in->trail_count, 10000000000ull);
    /* The headroom is judged against the limit when one is known, else
     * against what this process could still reach: its own footprint plus
     * the system's available memory (Linux MemAvailable). Neither known
     * (macOS without a jetsam limit): only pressure and trend speak. */
    uint64_t room = limit;
    if (room == 0 && available != 0)
        room = footprint + available < footprint ? UINT64_MAX : footprint + available;
    if (room != 0) {
        double frac = (double)available / (double)room;
        if (frac > 1.0)
            frac = 1.0;
        out->headroom_ppm = (uint32_t)(frac * 1e6);
        if (frac < MEMGAUGE__NEAR_LIMIT_FRACTION)
            ev |= MEMGAUGE_EVIDENCE_NEAR_LIMIT;
        if (frac < MEMGAUGE__LOW_HEADROOM_FRACTION)
            ev |= MEMGAUGE_EVIDENCE_LOW_HEADROOM;
        /* climbing fast enough to use the rest within ten seconds */
        if (climbs_within(out->trend_bytes_per_s, available, 10))
            ev |= MEMGAUGE_EVIDENCE_RISING;
        if (frac > MEMGAUGE__PLENTY_FRACTION && pressure == MEMGAUGE_PRESSURE_NORMAL &&
            out->trend_bytes_per_s <= 0)
            ev |= MEMGAUGE_EVIDENCE_PLENTY_LEFT;
    }
    if (pressure >= MEMGAUGE_PRESSURE_CRITICAL)
        ev |= MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL;
    else if (pressure == MEMGAUGE_PRESSURE_WARNING)
        ev |= MEMGAUGE_EVIDENCE_PRESSURE_WARNING;
    if (in->has_oom_kills && b->has_oom_kills && in->oom_kills > b->oom_kills) {
        out->oom_kills_since = in->oom_kills - b->oom_kills;
        ev |= MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL;
        ev &= ~MEMGAUGE_EVIDENCE_PLENTY_LEFT;
    }
    return ev;
}

static int eliminate(const memgauge__diagnosis_input_t *in, memgauge_previous_session_t *out)
{
    const memgauge__record_view_t *v = in->prev;
    const memgauge__record_body_t *b = &v->body;
    const memgauge__identity_t *now = in->identity;
    uint32_t payload;
    if (memgauge__record_marker(v, MEMGAUGE__MARK_CLEAN_STOP, NULL))
        return MEMGAUGE_END_CLEAN_STOP;
    if (memgauge__record_marker(v, MEMGAUGE__MARK_CRASH, &payload)) {
        out->crash_signal = (int32_t)payload;
        return MEMGAUGE_END_CRASH;
    }
    if (memgauge__record_marker(v, MEMGAUGE__MARK_EXIT, NULL))
        return MEMGAUGE_END_EXIT;
    if (differs(b->app_version, in->app_version) || differs(b->app_build, in->app_build) ||
        differs(b->build_id, now->build_id))
        return MEMGAUGE_END_APP_UPGRADED;
    if (differs(b->os_version, now->os_version) || differs(b->os_build, now->os_build))
        return MEMGAUGE_END_OS_UPGRADED;
    if (differs(b->boot_id, now->boot_id))
        return MEMGAUGE_END_REBOOT;
    if (b->debugger)
        return MEMGAUGE_END_DEBUGGER;
    if (memgauge__record_marker(v, MEMGAUGE__MARK_HANG, &payload) && payload > 0)
        return MEMGAUGE_END_HANG_KILL;
    /* the system ends extensions at will, and under a limit of their own */
    if (out->launch_flags & MEMGAUGE_LAUNCH_EXTENSION)
        return MEMGAUGE_END_EXTENSION_ENDED;
    /* not in front of the user: inactive (a call, the app switcher, Control
     * Centre) and a prewarmed launch that never became active are killed as
     * background apps are (BRIEF §7: peers' false OOMs) */
    if (out->app_state == MEMGAUGE_APP_BACKGROUND || out->app_state == MEMGAUGE_APP_INACTIVE ||
        (out->launch_flags & MEMGAUGE_LAUNCH_PREWARMED))
        return MEMGAUGE_END_BACKGROUND_KILL;
    return -1;
}

/* High: the limit was reached (the kernel's count, the last headroom) or
 * the OS said critical. Medium: the trail was on its way there. Low: memory
 * was tight at the end but flat, so nothing shows the limit was reached. */
static int grade(uint32_t ev, const memgauge_previous_session_t *out)
{
    if (ev & (MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL | MEMGAUGE_EVIDENCE_NEAR_LIMIT |
              MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL))
        return MEMGAUGE_CONFIDENCE_HIGH;
    if (ev & MEMGAUGE_EVIDENCE_RISING)
        return MEMGAUGE_CONFIDENCE_MEDIUM;
    if (climbs_within(out->trend_bytes_per_s, out->available_bytes, 60))
        return MEMGAUGE_CONFIDENCE_MEDIUM;
    return MEMGAUGE_CONFIDENCE_LOW;
}

void memgauge__diagnose(const memgauge__diagnosis_input_t *in, memgauge_previous_session_t *out)
{
    size_t keep = out->struct_size;
    memset(out, 0, sizeof *out);
    out->struct_size = keep;
    if (in->still_running) {
        out->verdict = MEMGAUGE_END_STILL_RUNNING;
        return;
    }
    if (in->absent) {
        out->verdict = MEMGAUGE_END_NONE;
        return;
    }
    if (in->parse_status != MEMGAUGE__RECORD_OK) {
        out->verdict = MEMGAUGE_END_UNREADABLE;
        out->unreadable_reason = in->parse_status;
        return;
    }
    const memgauge__record_body_t *b = &in->prev->body;
    memgauge__uuid_format(b->session_id, out->session_id);
    copy_str(out->app_version, sizeof out->app_version, b->app_version);
    copy_str(out->app_build, sizeof out->app_build, b->app_build);
    copy_str(out->os_version, sizeof out->os_version, b->os_version);
    out->pid = b->pid;
    out->start_wall_ns = b->start_wall_ns;
    out->last_wall_ns = b->last_wall_ns;
    out->samples = b->samples;
    out->last_resident_bytes = b->last_resident;
    out->peak_bytes = b->session_peak;
    uint32_t state;
    if (memgauge__record_marker(in->prev, MEMGAUGE__MARK_APP_STATE, &state))
        out->app_state = (int32_t)state;
    if (memgauge__record_marker(in->prev, MEMGAUGE__MARK_LAUNCH, &state))
        out->launch_flags = state;
    if (memgauge__record_marker(in->prev, MEMGAUGE__MARK_THERMAL, &state))
        out->thermal_state = (int32_t)state;
    if (memgauge__record_marker(in->prev, MEMGAUGE__MARK_MEMORY_WARNINGS, &state))
        out->memory_warnings = state;
    if (in->trail_count > 0 && in->trail[in->trail_count - 1].wall_ns > out->last_wall_ns)
        out->last_wall_ns = in->trail[in->trail_count - 1].wall_ns;

    out->evidence = gather_evidence(in, out);
    if (out->thermal_state >= MEMGAUGE_THERMAL_CRITICAL)
        out->evidence |= MEMGAUGE_EVIDENCE_THERMAL_CRITICAL;
    int verdict = eliminate(in, out);
    if (verdict >= 0) {
        out->verdict = verdict;
        return;
    }
    /* Elimination alone never makes an OOM: without a sign that memory ran
     * out, the end is unexplained, whatever else is unknown. */
    if (!(out->evidence & MEMGAUGE__EVIDENCE_OF_OOM)) {
        out->verdict = MEMGAUGE_END_UNEXPLAINED;
        return;
    }
    out->verdict = MEMGAUGE_END_SUSPECTED_OOM;
    out->confidence = grade(out->evidence, out);
    /* iOS also ends apps for heat: at critical, memory is less certain */
    if (out->evidence & MEMGAUGE_EVIDENCE_THERMAL_CRITICAL &&
        out->confidence > MEMGAUGE_CONFIDENCE_LOW)
        out->confidence--;
}
