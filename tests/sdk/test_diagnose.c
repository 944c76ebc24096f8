/*
 * How the previous session ended, from injected record contents: every
 * elimination signal gives its own verdict, and an out-of-memory verdict is
 * graded by positive evidence, never by elimination alone.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "diagnose.h"

#define MIB (UINT64_C(1) << 20)

static memgauge__record_view_t view;
static memgauge__trail_entry_t trail[32];
static size_t trail_n;
static memgauge__identity_t now;
static memgauge__diagnosis_input_t in;

/* A foreground session that simply stopped being updated, same app, same
 * OS, same boot; half its limit used; no markers. */
static void setup(void)
{
    memset(&view, 0, sizeof view);
    memset(&now, 0, sizeof now);
    memset(&in, 0, sizeof in);
    memgauge__record_body_t *b = &view.body;
    b->samples = 20;
    b->last_footprint = 256 * MIB;
    b->limit = 512 * MIB;
    b->available = 256 * MIB;
    b->session_peak = 300 * MIB;
    b->start_wall_ns = 1000;
    b->last_wall_ns = 20 * 1000000000ull;
    strcpy(b->app_version, "2.0");
    strcpy(b->app_build, "200");
    strcpy(b->os_version, "Linux 6.1");
    strcpy(b->os_build, "#1 SMP PREEMPT_DYNAMIC");
    strcpy(b->boot_id, "boot-1");
    strcpy(b->build_id, "abc123");
    strcpy(now.os_version, "Linux 6.1");
    strcpy(now.os_build, "#1 SMP PREEMPT_DYNAMIC");
    strcpy(now.boot_id, "boot-1");
    strcpy(now.build_id, "abc123");
    trail_n = 0;
    for (uint64_t i = 1; i <= 20; i++) {
        memgauge__trail_entry_t *e = &trail[trail_n++];
        memset(e, 0, sizeof *e);
        e->seq = i;
        e->wall_ns = i * 1000000000ull;
        e->footprint = 256 * MIB;
        e->limit = 512 * MIB;
        e->available = 256 * MIB;
    }
    in.parse_status = MEMGAUGE__RECORD_OK;
    in.prev = &view;
    in.trail = trail;
    in.trail_count = trail_n;
    in.identity = &now;
    in.app_version = "2.0";
    in.app_build = "200";
}

TestSuite(diagnose, .init = setup);

static memgauge_previous_session_t run(void)
{
    memgauge_previous_session_t out;
    memset(&out, 0xab, sizeof out);
    out.struct_size = sizeof out;
    memgauge__diagnose(&in, &out);
    cr_assert_eq(out.struct_size, sizeof out);
    return out;
}

static void mark(int which, uint32_t payload)
{
    view.markers[which] = MEMGAUGE__MARK_SET(payload);
}

/* The last points climb to `footprint` with `available` left. */
static void end_at(uint64_t footprint, uint64_t available, uint32_t pressure)
{
    memgauge__trail_entry_t *last = &trail[trail_n - 1];
    last->footprint = footprint;
    last->available = available;
    last->pressure = pressure;
    view.body.last_footprint = footprint;
    view.body.available = available;
    view.body.pressure = pressure;
}

/* The whole trail sits at `footprint` with `available` left. */
static void flat_at(uint64_t footprint, uint64_t available, uint32_t pressure)
{
    for (size_t i = 0; i < trail_n; i++) {
        trail[i].footprint = footprint;
        trail[i].available = available;
        trail[i].pressure = pressure;
    }
    end_at(footprint, available, pressure);
}

Test(diagnose, no_previous_record_is_a_first_launch)
{
    in.absent = 1;
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_NONE);
    cr_assert_str_eq(memgauge_end_name(p.verdict), "none");
}

Test(diagnose, an_unreadable_record_is_reported_with_its_reason_never_trusted)
{
    in.parse_status = MEMGAUGE__RECORD_NO_WHOLE_SLOT;
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_UNREADABLE);
    cr_assert_eq(p.unreadable_reason, MEMGAUGE__RECORD_NO_WHOLE_SLOT);
    cr_assert_eq(p.samples, 0);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(diagnose, a_record_held_by_a_live_process_is_still_running)
{
    in.still_running = 1;
    cr_assert_eq(run().verdict, MEMGAUGE_END_STILL_RUNNING);
}

Test(diagnose, clean_stop_marker_wins_even_at_the_limit)
{
    end_at(500 * MIB, 2 * MIB, MEMGAUGE_PRESSURE_CRITICAL);
    mark(MEMGAUGE__MARK_CLEAN_STOP, 0);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_CLEAN_STOP);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(diagnose, exit_marker_is_an_exit)
{
    mark(MEMGAUGE__MARK_EXIT, 0);
    cr_assert_eq(run().verdict, MEMGAUGE_END_EXIT);
}

Test(diagnose, crash_marker_is_a_crash_with_its_signal)
{
    mark(MEMGAUGE__MARK_CRASH, 11);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_CRASH);
    cr_assert_eq(p.crash_signal, 11);
}

Test(diagnose, a_new_app_version_build_or_binary_is_an_upgrade)
{
    in.app_version = "2.1";
    cr_assert_eq(run().verdict, MEMGAUGE_END_APP_UPGRADED);
    in.app_version = "2.0";
    in.app_build = "201";
    cr_assert_eq(run().verdict, MEMGAUGE_END_APP_UPGRADED);
    in.app_build = "200";
    strcpy(now.build_id, "def456");
    cr_assert_eq(run().verdict, MEMGAUGE_END_APP_UPGRADED);
}

Test(diagnose, an_unknown_value_on_either_side_proves_no_change)
{
    now.build_id[0] = '\0';
    now.boot_id[0] = '\0';
    end_at(500 * MIB, 4 * MIB, 0);
    cr_assert_eq(run().verdict, MEMGAUGE_END_SUSPECTED_OOM);
}

Test(diagnose, a_new_os_version_is_an_os_upgrade)
{
    strcpy(now.os_version, "Linux 6.2");
    cr_assert_eq(run().verdict, MEMGAUGE_END_OS_UPGRADED);
}

Test(diagnose, a_new_os_build_of_the_same_release_is_an_os_upgrade)
{
    strcpy(now.os_build, "#2 SMP PREEMPT_DYNAMIC");
    cr_assert_eq(run().verdict, MEMGAUGE_END_OS_UPGRADED);
}

Test(diagnose, a_new_boot_id_is_a_reboot)
{
    strcpy(now.boot_id, "boot-2");
    cr_assert_eq(run().verdict, MEMGAUGE_END_REBOOT);
}

Test(diagnose, an_attached_debugger_explains_the_end)
{
    view.body.debugger = 1;
    end_at(500 * MIB, 4 * MIB, 0);
    cr_assert_eq(run().verdict, MEMGAUGE_END_DEBUGGER);
}

Test(diagnose, a_hang_in_progress_is_a_hang_kill)
{
    mark(MEMGAUGE__MARK_HANG, 1);
    cr_assert_eq(run().verdict, MEMGAUGE_END_HANG_KILL);
    mark(MEMGAUGE__MARK_HANG, 0); /* the hang had ended */
    end_at(500 * MIB, 4 * MIB, 0);
    cr_assert_eq(run().verdict, MEMGAUGE_END_SUSPECTED_OOM);
}

Test(diagnose, background_state_is_a_background_kill)
{
    mark(MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_BACKGROUND);
    end_at(500 * MIB, 4 * MIB, 0);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_BACKGROUND_KILL);
    cr_assert_eq(p.app_state, MEMGAUGE_APP_BACKGROUND);
}

Test(diagnose, a_kill_while_inactive_counts_like_a_background_kill)
{
    mark(MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_INACTIVE);
    flat_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_CRITICAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_BACKGROUND_KILL);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(diagnose, a_prewarmed_launch_that_never_became_active_is_a_background_kill)
{
    mark(MEMGAUGE__MARK_LAUNCH, MEMGAUGE_LAUNCH_PREWARMED);
    flat_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_BACKGROUND_KILL);
    cr_assert_eq(p.launch_flags, MEMGAUGE_LAUNCH_PREWARMED);
}

Test(diagnose, an_extension_at_its_limit_is_never_an_app_oom)
{
    mark(MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_ACTIVE);
    mark(MEMGAUGE__MARK_LAUNCH, MEMGAUGE_LAUNCH_EXTENSION);
    flat_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_CRITICAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_EXTENSION_ENDED);
    cr_assert_str_eq(memgauge_end_name(p.verdict), "extension_ended");
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_NEAR_LIMIT, "the evidence is still reported");
}

Test(diagnose, critical_thermal_state_lowers_the_confidence_one_grade)
{
    mark(MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_ACTIVE);
    mark(MEMGAUGE__MARK_THERMAL, MEMGAUGE_THERMAL_CRITICAL);
    flat_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_MEDIUM);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_THERMAL_CRITICAL);
    cr_assert_eq(p.thermal_state, MEMGAUGE_THERMAL_CRITICAL);
    /* serious is not enough */
    setup();
    mark(MEMGAUGE__MARK_THERMAL, MEMGAUGE_THERMAL_SERIOUS);
    flat_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    p = run();
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
}

Test(diagnose, memory_warnings_of_the_session_are_carried_over)
{
    mark(MEMGAUGE__MARK_MEMORY_WARNINGS, 3);
    cr_assert_eq(run().memory_warnings, 3);
}

Test(diagnose, at_the_limit_in_the_foreground_is_oom_with_high_confidence)
{
    mark(MEMGAUGE__MARK_APP_STATE, MEMGAUGE_APP_ACTIVE);
    end_at(505 * MIB, 7 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_NEAR_LIMIT);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_LOW_HEADROOM);
    cr_assert_eq(p.last_footprint_bytes, 505 * MIB);
    cr_assert_eq(p.headroom_ppm, (uint32_t)(7.0 / 512.0 * 1e6));
    cr_assert_str_eq(memgauge_confidence_name(p.confidence), "high");
}

Test(diagnose, critical_pressure_alone_is_high_confidence)
{
    end_at(256 * MIB, 256 * MIB, MEMGAUGE_PRESSURE_CRITICAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_PRESSURE_CRITICAL);
}

Test(diagnose, a_kernel_oom_kill_in_the_cgroup_is_high_confidence_even_with_room_left)
{
    view.body.has_oom_kills = 1;
    view.body.oom_kills = 3;
    in.has_oom_kills = 1;
    in.oom_kills = 4;
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_KERNEL_OOM_KILL);
    cr_assert_eq(p.oom_kills_since, 1);
}

Test(diagnose, low_headroom_or_warning_on_a_flat_trail_is_low_confidence)
{
    /* tight, but nothing shows the limit was reached: an OOM suspect that
     * the headline rate leaves out */
    flat_at(400 * MIB, 100 * MIB, MEMGAUGE_PRESSURE_NORMAL); /* 19.5 % left */
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_LOW);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_LOW_HEADROOM);
    cr_assert_not(p.evidence & MEMGAUGE_EVIDENCE_NEAR_LIMIT);
    setup();
    flat_at(300 * MIB, 200 * MIB, MEMGAUGE_PRESSURE_WARNING);
    p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_LOW);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_PRESSURE_WARNING);
}

Test(diagnose, a_jump_to_low_headroom_at_the_end_is_medium_confidence)
{
    /* flat at half, then 144 MiB more in the last second: on its way */
    end_at(400 * MIB, 100 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_MEDIUM);
}

Test(diagnose, low_headroom_while_climbing_toward_the_limit_is_medium_confidence)
{
    /* 2 MiB/s with 100 MiB left: gone within a minute, not within 10 s */
    for (size_t i = 0; i < trail_n; i++) {
        trail[i].footprint = 374 * MIB + i * 2 * MIB;
        trail[i].available = 512 * MIB - trail[i].footprint;
    }
    end_at(trail[trail_n - 1].footprint, 512 * MIB - trail[trail_n - 1].footprint, 0);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_MEDIUM, "confidence %s",
                 memgauge_confidence_name(p.confidence));
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_LOW_HEADROOM);
    cr_assert_not(p.evidence & MEMGAUGE_EVIDENCE_RISING);
}

Test(diagnose, a_steep_climb_toward_the_limit_is_rising_evidence)
{
    /* 40 MiB/s over the last 10 s with 200 MiB left: gone in 5 s */
    for (size_t i = 0; i < trail_n; i++) {
        trail[i].footprint = 100 * MIB + i * 40 * MIB / 2;
        trail[i].available = 512 * MIB - trail[i].footprint;
        trail[i].wall_ns = i * 500000000ull;
    }
    end_at(trail[trail_n - 1].footprint, 512 * MIB - trail[trail_n - 1].footprint, 0);
    memgauge_previous_session_t p = run();
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_RISING, "evidence %x", p.evidence);
    cr_assert_gt(p.trend_bytes_per_s, 39 * (int64_t)MIB);
    cr_assert_lt(p.trend_bytes_per_s, 41 * (int64_t)MIB);
    cr_assert_geq(p.confidence, MEMGAUGE_CONFIDENCE_MEDIUM);
}

Test(diagnose, no_evidence_at_all_is_unexplained_never_an_oom)
{
    /* half the limit used, flat, normal pressure: not plenty, not tight */
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_UNEXPLAINED);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
    cr_assert_eq(p.evidence & MEMGAUGE__EVIDENCE_OF_OOM, 0);
}

Test(diagnose, nothing_known_of_limit_or_available_memory_is_unexplained)
{
    /* macOS without a jetsam limit, normal pressure: nothing points at memory */
    for (size_t i = 0; i < trail_n; i++)
        trail[i].limit = trail[i].available = 0;
    view.body.limit = view.body.available = 0;
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_UNEXPLAINED);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
    cr_assert_eq(p.evidence, 0);
    cr_assert_eq(p.headroom_ppm, 0);
}

Test(diagnose, with_no_limit_the_system_pressure_level_still_counts)
{
    for (size_t i = 0; i < trail_n; i++)
        trail[i].limit = trail[i].available = 0;
    view.body.limit = view.body.available = 0;
    end_at(256 * MIB, 0, MEMGAUGE_PRESSURE_CRITICAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
}

/* Linux with no cgroup limit: MemAvailable is the headroom. */
static void no_limit(uint64_t footprint, uint64_t available)
{
    for (size_t i = 0; i < trail_n; i++) {
        trail[i].limit = 0;
        trail[i].footprint = footprint;
        trail[i].available = available;
    }
    view.body.limit = 0;
    end_at(footprint, available, MEMGAUGE_PRESSURE_NORMAL);
}

Test(diagnose, a_kill_with_gigabytes_available_and_no_limit_is_unexplained)
{
    /* a steady 64 MiB process on a 24 GB machine, kill -9 */
    no_limit(64 * MIB, UINT64_C(24713113600));
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_UNEXPLAINED, "verdict %s", memgauge_end_name(p.verdict));
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_PLENTY_LEFT);
    cr_assert_eq(p.limit_bytes, 0);
    cr_assert_gt(p.headroom_ppm, 990000);
}

Test(diagnose, with_no_limit_a_system_out_of_memory_is_near_the_limit)
{
    /* the process holds nearly everything the system had left */
    no_limit(3000 * MIB, 100 * MIB);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_NEAR_LIMIT);
    cr_assert_eq(p.headroom_ppm, (uint32_t)(100.0 / 3100.0 * 1e6));
}

Test(diagnose, plenty_of_memory_left_is_unexplained_not_oom)
{
    end_at(100 * MIB, 412 * MIB, MEMGAUGE_PRESSURE_NORMAL);
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_UNEXPLAINED);
    cr_assert(p.evidence & MEMGAUGE_EVIDENCE_PLENTY_LEFT);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_NONE);
}

Test(diagnose, the_newest_trail_point_counts_when_newer_than_the_slot)
{
    /* slot says 20 samples at half the limit; entry 21 was written at the limit */
    memgauge__trail_entry_t *e = &trail[trail_n++];
    memset(e, 0, sizeof *e);
    e->seq = 21;
    e->wall_ns = 21 * 1000000000ull;
    e->footprint = 508 * MIB;
    e->limit = 512 * MIB;
    e->available = 4 * MIB;
    in.trail_count = trail_n;
    memgauge_previous_session_t p = run();
    cr_assert_eq(p.verdict, MEMGAUGE_END_SUSPECTED_OOM);
    cr_assert_eq(p.confidence, MEMGAUGE_CONFIDENCE_HIGH);
    cr_assert_eq(p.last_footprint_bytes, 508 * MIB);
    cr_assert_eq(p.last_wall_ns, 21 * 1000000000ull);
}

Test(diagnose, session_fields_are_carried_over)
{
    for (int i = 0; i < 16; i++)
        view.body.session_id[i] = (uint8_t)(0x10 + i);
    view.body.pid = 777;
    memgauge_previous_session_t p = run();
    cr_assert_str_eq(p.session_id, "10111213-1415-1617-1819-1a1b1c1d1e1f");
    cr_assert_eq(p.pid, 777);
    cr_assert_eq(p.samples, 20);
    cr_assert_eq(p.peak_bytes, 300 * MIB);
    cr_assert_str_eq(p.app_version, "2.0");
    cr_assert_str_eq(p.os_version, "Linux 6.1");
}

Test(diagnose, trend_is_a_least_squares_slope_over_the_window)
{
    memgauge__trail_entry_t t[5];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 5; i++) {
        t[i].wall_ns = (uint64_t)i * 1000000000ull;
        t[i].footprint = 1000000u + (uint64_t)i * 2000u;
    }
    cr_assert_eq(memgauge__trail_trend(t, 5, 10000000000ull), 2000);
    cr_assert_eq(memgauge__trail_trend(t, 1, 10000000000ull), 0);
    /* a 2 s window sees only the last three points */
    t[0].footprint = 0;
    cr_assert_eq(memgauge__trail_trend(t, 5, 2000000000ull), 2000);
}
