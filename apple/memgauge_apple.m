/*
 * The Apple glue: Info.plist defaults, the app's lifecycle, and a stop that
 * cancels an upload in flight. Everything ends in the C API
 * (memgauge_set_app_state, memgauge_options_init, memgauge_stop).
 *
 * Lifecycle, from the moment the image loads:
 * - UIApplication: did become active -> ACTIVE; will resign active and
 *   will enter foreground -> INACTIVE; did enter background -> BACKGROUND.
 *   A kill while inactive or in the background is then never graded as an
 *   out-of-memory kill in the foreground (the peers' false OOMs).
 * - App extensions (the main bundle ends in .appex) have no UIApplication:
 *   NSExtensionHost's notifications give the same states.
 * - macOS: NSApplication's active, resigned, hidden and unhidden.
 *   watchOS: not observed yet (the state stays unknown).
 * - A prewarmed launch (ActivePrewarm=1, iOS 15+) is flagged
 *   MEMGAUGE_LAUNCH_PREWARMED until it first becomes active: the system may
 *   kill it before the user ever opens the app. An extension is flagged
 *   MEMGAUGE_LAUNCH_EXTENSION: its end is never an app OOM.
 * - Memory warnings -> memgauge_note_memory_warning; thermal state ->
 *   memgauge_set_thermal_state (NSProcessInfoThermalState has the same
 *   values as memgauge_thermal_t).
 */
#import <Foundation/Foundation.h>
#include <TargetConditionals.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memgauge_apple.h"
#include "memgauge_apple_internal.h"

bool memgauge__apple_is_extension(void)
{
    static bool extension;
    static dispatch_once_t once;
    dispatch_once(&once, ^{
      extension = [[[NSBundle mainBundle] bundlePath] hasSuffix:@".appex"];
    });
    return extension;
}

/* An Info.plist string copied once for the life of the process; NULL when
 * absent or empty. */
static const char *info_string(NSString *key)
{
    id value = [[NSBundle mainBundle] objectForInfoDictionaryKey:key];
    if (![value isKindOfClass:[NSString class]] || [value length] == 0)
        return NULL;
    return strdup([value UTF8String]);
}

int memgauge_apple_fill_defaults(memgauge_options_t *opts)
{
    if (opts == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    static const char *bundle_id, *version, *build;
    static dispatch_once_t once;
    dispatch_once(&once, ^{
      @autoreleasepool {
          bundle_id = info_string(@"CFBundleIdentifier");
          version = info_string(@"CFBundleShortVersionString");
          build = info_string((__bridge NSString *)kCFBundleVersionKey);
      }
    });
    if (opts->app_id == NULL)
        opts->app_id = bundle_id;
    if (opts->app_version == NULL)
        opts->app_version = version;
    if (opts->app_build == NULL)
        opts->app_build = build;
    if (opts->send == NULL)
        opts->send = memgauge_apple_send;
    return MEMGAUGE_OK;
}

int memgauge_apple_options_init(memgauge_options_t *opts)
{
    int rc = memgauge_options_init(opts);
    return rc == MEMGAUGE_OK ? memgauge_apple_fill_defaults(opts) : rc;
}

int memgauge_apple_stop(memgauge_t *handle, uint32_t timeout_ms)
{
    /* the sender gives up 50 ms early, so that the worker can spool and exit */
    uint64_t now = clock_gettime_nsec_np(CLOCK_MONOTONIC);
    uint64_t budget = (uint64_t)timeout_ms * 1000000u;
    atomic_store(&memgauge__apple_stop_deadline_ns,
                 now + (budget > 50000000u ? budget - 50000000u : 0) + 1);
    int rc = memgauge_stop(handle, timeout_ms);
    atomic_store(&memgauge__apple_stop_deadline_ns, 0);
    return rc;
}

static _Atomic uint32_t g_launch_flags;

/* The user opened a prewarmed app: from now on it is an ordinary launch. */
static void clear_prewarmed(void)
{
    uint32_t flags = atomic_fetch_and(&g_launch_flags, ~(uint32_t)MEMGAUGE_LAUNCH_PREWARMED);
    if (flags & MEMGAUGE_LAUNCH_PREWARMED)
        memgauge_set_launch_flags(flags & ~(uint32_t)MEMGAUGE_LAUNCH_PREWARMED);
}

__attribute__((unused)) static void observe(NSString *name, int state)
{
    [[NSNotificationCenter defaultCenter] addObserverForName:name
                                                      object:nil
                                                       queue:nil
                                                  usingBlock:^(NSNotification *n) {
                                                    (void)n;
                                                    memgauge_set_app_state(state);
                                                    if (state == MEMGAUGE_APP_ACTIVE)
                                                        clear_prewarmed();
                                                  }];
}

__attribute__((unused)) static void observe_memory_warnings(NSString *name)
{
    [[NSNotificationCenter defaultCenter] addObserverForName:name
                                                      object:nil
                                                       queue:nil
                                                  usingBlock:^(NSNotification *n) {
                                                    (void)n;
                                                    memgauge_note_memory_warning();
                                                  }];
}

static void thermal_now(void)
{
    memgauge_set_thermal_state((int)[[NSProcessInfo processInfo] thermalState]);
}

static void observe_thermal_state(void)
{
    thermal_now();
    [[NSNotificationCenter defaultCenter]
        addObserverForName:NSProcessInfoThermalStateDidChangeNotification
                    object:nil
                     queue:nil
                usingBlock:^(NSNotification *n) {
                  (void)n;
                  thermal_now();
                }];
}

__attribute__((constructor)) static void memgauge_apple_load(void)
{
    @autoreleasepool {
        const char *prewarm = getenv("ActivePrewarm");
        uint32_t flags = 0;
        if (prewarm != NULL && strcmp(prewarm, "1") == 0)
            flags |= MEMGAUGE_LAUNCH_PREWARMED;
        if (memgauge__apple_is_extension())
            flags |= MEMGAUGE_LAUNCH_EXTENSION;
        atomic_store(&g_launch_flags, flags);
        memgauge_set_launch_flags(flags);

#if TARGET_OS_IOS || TARGET_OS_TV || (defined(TARGET_OS_VISION) && TARGET_OS_VISION)
        if (memgauge__apple_is_extension()) {
            observe(NSExtensionHostDidBecomeActiveNotification, MEMGAUGE_APP_ACTIVE);
            observe(NSExtensionHostWillResignActiveNotification, MEMGAUGE_APP_INACTIVE);
            observe(NSExtensionHostWillEnterForegroundNotification, MEMGAUGE_APP_INACTIVE);
            observe(NSExtensionHostDidEnterBackgroundNotification, MEMGAUGE_APP_BACKGROUND);
        } else {
            /* UIKit's names as strings (their values): no UIKit import,
             * so the glue links into extensions too */
            observe(@"UIApplicationDidBecomeActiveNotification", MEMGAUGE_APP_ACTIVE);
            observe(@"UIApplicationWillResignActiveNotification", MEMGAUGE_APP_INACTIVE);
            observe(@"UIApplicationWillEnterForegroundNotification", MEMGAUGE_APP_INACTIVE);
            observe(@"UIApplicationDidEnterBackgroundNotification", MEMGAUGE_APP_BACKGROUND);
            observe_memory_warnings(@"UIApplicationDidReceiveMemoryWarningNotification");
        }
        /* will terminate: UIKit calls exit() next, and the record's exit
         * marker (atexit) already tells the next launch */
#elif TARGET_OS_OSX
        /* AppKit's names as strings, for the same reason; a hidden app is
         * out of sight, an inactive one visible */
        observe(@"NSApplicationDidBecomeActiveNotification", MEMGAUGE_APP_ACTIVE);
        observe(@"NSApplicationDidResignActiveNotification", MEMGAUGE_APP_INACTIVE);
        observe(@"NSApplicationDidHideNotification", MEMGAUGE_APP_BACKGROUND);
        observe(@"NSApplicationDidUnhideNotification", MEMGAUGE_APP_INACTIVE);
#endif
        observe_thermal_state();
    }
}
