/*
 * memgauge's Apple glue (the MemgaugeApple target of Package.swift): what
 * an app on iOS, tvOS, watchOS, visionOS, Mac Catalyst or macOS gets on top
 * of the C API. Plain C declarations, so Swift and C callers see the same.
 *
 * Loading the glue already follows the app's lifecycle: UIKit's (or an app
 * extension's) foreground, inactive and background notifications reach
 * memgauge_set_app_state() from the first moment, before any sampler runs
 * (the state is remembered for the next start), and a prewarmed launch
 * counts as background until the app first becomes active.
 */
#ifndef MEMGAUGE_APPLE_H
#define MEMGAUGE_APPLE_H

#include <memgauge/memgauge.h>

#ifdef __cplusplus
extern "C" {
#endif

/* memgauge_options_init(), then the Apple defaults for what is still
 * unset: app_id, app_version and app_build from the main bundle's
 * CFBundleIdentifier, CFBundleShortVersionString and CFBundleVersion, and
 * send = the NSURLSession sender (ephemeral session, within
 * total_timeout_ms, inside a background task). The strings are the glue's,
 * valid for the life of the process. Any thread; reads Info.plist once. */
MEMGAUGE_API int memgauge_apple_options_init(memgauge_options_t *opts);

/* The same defaults for options the app initialised itself: fills only
 * the fields that are NULL. Any thread. */
MEMGAUGE_API int memgauge_apple_fill_defaults(memgauge_options_t *opts);

/* memgauge_stop(), and an upload still in flight through the NSURLSession
 * sender is cancelled at the deadline, so that the transport thread can
 * spool it and exit in time. Same threads and blocking as memgauge_stop. */
MEMGAUGE_API int memgauge_apple_stop(memgauge_t *handle, uint32_t timeout_ms);

/* The NSURLSession sender itself, for apps that assemble their options by
 * hand (options.send = memgauge_apple_send; send_user_data unused). Runs
 * on the transport thread; blocks up to request->total_timeout_ms. */
MEMGAUGE_API int memgauge_apple_send(const memgauge_http_request_t *request, char *retry_after,
                                     size_t retry_after_cap, void *user_data);

#ifdef __cplusplus
}
#endif

#endif
