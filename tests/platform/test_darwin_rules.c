/* Darwin rules that need no Apple header: what the memory pressure source's
 * flags mean and when an elevated level expires (darwin_pressure_rules.c),
 * and the os_version text (darwin_os.c). */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <memgauge/memgauge.h>

#include "darwin_os.h"
#include "darwin_pressure_rules.h"

#define S UINT64_C(1000000000)
#define NORMAL MEMGAUGE__DISPATCH_PRESSURE_NORMAL
#define WARN MEMGAUGE__DISPATCH_PRESSURE_WARN
#define CRITICAL MEMGAUGE__DISPATCH_PRESSURE_CRITICAL

/* ---- the flags of one handler call --------------------------------------- */

Test(darwin_pressure, each_single_flag_is_its_level)
{
    cr_assert(
        eq(int, memgauge__darwin_pressure_from_flags(NORMAL, false), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(
        eq(int, memgauge__darwin_pressure_from_flags(WARN, false), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(
        eq(int, memgauge__darwin_pressure_from_flags(CRITICAL, false), MEMGAUGE_PRESSURE_CRITICAL));
}

Test(darwin_pressure, warn_then_normal_coalesced_reads_as_normal)
{
    cr_assert(eq(int, memgauge__darwin_pressure_from_flags(WARN | NORMAL, false),
                 MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, memgauge__darwin_pressure_from_flags(CRITICAL | WARN | NORMAL, false),
                 MEMGAUGE_PRESSURE_NORMAL));
}

Test(darwin_pressure, warn_and_critical_coalesced_read_as_critical)
{
    cr_assert(eq(int, memgauge__darwin_pressure_from_flags(WARN | CRITICAL, false),
                 MEMGAUGE_PRESSURE_CRITICAL));
}

Test(darwin_pressure, simulator_events_are_warnings_whatever_the_data)
{
    cr_assert(eq(int, memgauge__darwin_pressure_from_flags(WARN, true), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(
        eq(int, memgauge__darwin_pressure_from_flags(CRITICAL, true), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(
        eq(int, memgauge__darwin_pressure_from_flags(NORMAL, true), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(eq(int, memgauge__darwin_pressure_from_flags(0, true), MEMGAUGE_PRESSURE_NORMAL));
}

/* ---- the state over time --------------------------------------------------- */

Test(darwin_pressure, initial_state_is_normal)
{
    cr_assert(eq(int, memgauge__darwin_pressure_level(0, 0), MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(eq(int, memgauge__darwin_pressure_level(0, 1000 * S), MEMGAUGE_PRESSURE_NORMAL));
}

/* The per-process limit path sends CRITICAL at 80 % of the limit and never
 * NORMAL: without news the level must not stay critical for the rest of
 * the session. */
Test(darwin_pressure, critical_without_news_expires_after_the_quiet_period)
{
    uint64_t t0 = 100 * S;
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, CRITICAL, false, t0);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, t0), MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int,
                 memgauge__darwin_pressure_level(st, t0 + MEMGAUGE__DARWIN_PRESSURE_QUIET_NS - S),
                 MEMGAUGE_PRESSURE_CRITICAL));
    cr_assert(eq(int, memgauge__darwin_pressure_level(st, t0 + MEMGAUGE__DARWIN_PRESSURE_QUIET_NS),
                 MEMGAUGE_PRESSURE_NORMAL));
    cr_assert(
        eq(int, memgauge__darwin_pressure_level(st, t0 + 3600 * S), MEMGAUGE_PRESSURE_NORMAL));
}

Test(darwin_pressure, a_resent_event_keeps_the_level)
{
    uint64_t t0 = 100 * S, quiet = MEMGAUGE__DARWIN_PRESSURE_QUIET_NS;
    memgauge__darwin_pressure_state_t st = memgauge__darwin_pressure_on_event(0, WARN, false, t0);
    /* xnu re-notifies after its 25 s resting period while pressure lasts */
    st = memgauge__darwin_pressure_on_event(st, WARN, false, t0 + 25 * S);
    st = memgauge__darwin_pressure_on_event(st, WARN, false, t0 + 50 * S);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, t0 + 50 * S + quiet - S),
                 MEMGAUGE_PRESSURE_WARNING));
    cr_assert(eq(int, memgauge__darwin_pressure_level(st, t0 + 50 * S + quiet),
                 MEMGAUGE_PRESSURE_NORMAL));
}

Test(darwin_pressure, normal_event_ends_an_elevated_level_at_once)
{
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, CRITICAL, false, 5 * S);
    st = memgauge__darwin_pressure_on_event(st, NORMAL, false, 6 * S);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, 6 * S), MEMGAUGE_PRESSURE_NORMAL));
}

Test(darwin_pressure, a_lower_event_replaces_a_higher_one)
{
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, CRITICAL, false, 5 * S);
    st = memgauge__darwin_pressure_on_event(st, WARN, false, 6 * S);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, 6 * S), MEMGAUGE_PRESSURE_WARNING));
}

Test(darwin_pressure, unknown_flags_change_nothing)
{
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, WARN, false, 5 * S);
    memgauge__darwin_pressure_state_t after =
        memgauge__darwin_pressure_on_event(st, 0x10, false, 9 * S);

    cr_assert(eq(u64, after, st));
}

Test(darwin_pressure, simulator_warning_expires_too)
{
    memgauge__darwin_pressure_state_t st = memgauge__darwin_pressure_on_event(0, WARN, true, 5 * S);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, 5 * S), MEMGAUGE_PRESSURE_WARNING));
    cr_assert(eq(int,
                 memgauge__darwin_pressure_level(st, 5 * S + MEMGAUGE__DARWIN_PRESSURE_QUIET_NS),
                 MEMGAUGE_PRESSURE_NORMAL));
}

Test(darwin_pressure, an_event_at_time_zero_is_still_elevated)
{
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, CRITICAL, false, 0);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, 0), MEMGAUGE_PRESSURE_CRITICAL));
}

Test(darwin_pressure, a_clock_before_the_event_does_not_expire_it)
{
    memgauge__darwin_pressure_state_t st =
        memgauge__darwin_pressure_on_event(0, CRITICAL, false, 500 * S);

    cr_assert(eq(int, memgauge__darwin_pressure_level(st, 10 * S), MEMGAUGE_PRESSURE_CRITICAL));
}

/* ---- os_version ----------------------------------------------------------- */

static char os_build[64];

static const char *os_text(const memgauge__darwin_os_t *in)
{
    static char out[128];
    memset(out, 'x', sizeof out);
    memset(os_build, 'x', sizeof os_build);
    memgauge__darwin_os_version(in, out, sizeof out, os_build, sizeof os_build);
    return out;
}

Test(darwin_os, device_reads_its_own_version_and_build_apart)
{
    memgauge__darwin_os_t in = {.family = "iOS",
                                .product = "17.4",
                                .build = "21E219",
                                .release = "23.4.0",
                                .ios_support = ""};
    cr_assert(eq(str, (char *)os_text(&in), "iOS 17.4"));
    cr_assert(eq(str, os_build, "21E219"));
}

Test(darwin_os, simulator_reads_the_runtime_not_the_host_mac)
{
    memgauge__darwin_os_t in = {.family = "iOS",
                                .product = "14.4",
                                .build = "23E214",
                                .simulator = true,
                                .sim_version = "17.4",
                                .sim_build = "21E213"};
    cr_assert(eq(str, (char *)os_text(&in), "iOS 17.4 simulator"));
    cr_assert(eq(str, os_build, "21E213"));
}

Test(darwin_os, simulator_without_its_environment_names_the_host)
{
    memgauge__darwin_os_t in = {
        .family = "iOS", .product = "14.4", .build = "23E214", .simulator = true};
    cr_assert(eq(str, (char *)os_text(&in), "iOS simulator on macOS 14.4"));
    cr_assert(eq(str, os_build, "23E214"));
}

Test(darwin_os, simulator_runtime_without_build_leaves_the_build_empty)
{
    memgauge__darwin_os_t in = {.family = "tvOS", .simulator = true, .sim_version = "17.0"};
    cr_assert(eq(str, (char *)os_text(&in), "tvOS 17.0 simulator"));
    cr_assert(eq(str, os_build, ""));
}

Test(darwin_os, ios_app_on_an_apple_silicon_mac_is_labelled)
{
    memgauge__darwin_os_t in = {
        .family = "iOS", .product = "14.4", .build = "23E214", .ios_support = "17.4"};
    cr_assert(eq(str, (char *)os_text(&in), "iOS 17.4 app on macOS 14.4"));
    cr_assert(eq(str, os_build, "23E214"));
}

Test(darwin_os, catalyst_is_macos_whatever_the_ios_support_version)
{
    memgauge__darwin_os_t in = {
        .family = "macOS", .product = "14.4", .build = "23E214", .ios_support = "17.4"};
    cr_assert(eq(str, (char *)os_text(&in), "macOS 14.4"));
}

Test(darwin_os, no_product_version_falls_back_to_the_kernel_release)
{
    memgauge__darwin_os_t in = {.family = "iOS", .build = "15A372", .release = "17.0.0"};
    cr_assert(eq(str, (char *)os_text(&in), "Darwin 17.0.0"));
    cr_assert(eq(str, os_build, "15A372"));
}

Test(darwin_os, nothing_known_is_empty)
{
    memgauge__darwin_os_t in = {.family = "iOS", .build = "21E219"};
    cr_assert(eq(str, (char *)os_text(&in), ""));
    cr_assert(eq(str, os_build, ""));
}

Test(darwin_os, long_text_is_cut_and_terminated)
{
    memgauge__darwin_os_t in = {.family = "iOS", .product = "17.4", .build = "21E219"};
    char out[8], build[4];
    memgauge__darwin_os_version(&in, out, sizeof out, build, sizeof build);
    cr_assert(eq(str, out, "iOS 17."));
    cr_assert(eq(str, build, "21E"));
    memgauge__darwin_os_version(NULL, out, sizeof out, NULL, 0);
    cr_assert(eq(str, out, ""));
}
