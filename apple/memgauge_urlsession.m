/*
 * The send hook over NSURLSession (docs/transport.md, "Send hook"): POSTs
 * one batch and returns the HTTP status, or 0 when no answer came.
 *
 * - One ephemeral session for the process: no cookies, cache or
 *   credentials on disk (Sentry's SentryTransportFactory does the same).
 * - The hook is synchronous (it runs on the transport thread); it waits in
 *   50 ms slices so that memgauge_apple_stop's deadline cancels the task.
 * - The upload runs inside a background task (UIApplication), or an
 *   expiring activity in an app extension, so that moving to the
 *   background does not suspend the process mid-request; when the system
 *   ends it, the task is cancelled and the batch stays in the spool.
 */
#import <Foundation/Foundation.h>
#include <TargetConditionals.h>
#include <stdatomic.h>
#include <string.h>

#include "memgauge_apple.h"
#include "memgauge_apple_internal.h"

_Atomic uint64_t memgauge__apple_stop_deadline_ns;

static NSURLSession *session(void)
{
    static NSURLSession *s;
    static dispatch_once_t once;
    dispatch_once(&once, ^{
      NSURLSessionConfiguration *c = [NSURLSessionConfiguration ephemeralSessionConfiguration];
      c.HTTPCookieStorage = nil;
      c.URLCache = nil;
      c.HTTPShouldSetCookies = NO;
      s = [NSURLSession sessionWithConfiguration:c];
    });
    return s;
}

static uint64_t now_ns(void)
{
    return clock_gettime_nsec_np(CLOCK_MONOTONIC);
}

#if TARGET_OS_IOS || TARGET_OS_TV || (defined(TARGET_OS_VISION) && TARGET_OS_VISION)
#define MEMGAUGE__HAVE_UIAPPLICATION 1
#else
#define MEMGAUGE__HAVE_UIAPPLICATION 0
#endif

/* Keeps the process running while work() runs; calls expired() when the
 * system will not wait any longer (work() then returns soon: its request
 * is cancelled). Extension-safe: UIApplication is looked up at run time,
 * and an app extension gets an expiring activity instead. When no
 * background time is granted, work() runs anyway. */
static void with_background_time(void (^work)(void), void (^expired)(void))
{
#if MEMGAUGE__HAVE_UIAPPLICATION
    Class app_class = NSClassFromString(@"UIApplication");
    id app = nil;
    if (!memgauge__apple_is_extension() &&
        [app_class respondsToSelector:@selector(sharedApplication)])
        app = [app_class performSelector:@selector(sharedApplication)];
    if (app != nil) {
        /* beginBackgroundTask and endBackgroundTask may be called from any
         * thread; the task must end exactly once, in the expiration
         * handler at the latest, or the system kills the app. */
        NSUInteger (*begin)(id, SEL, NSString *, void (^)(void)) = (void *)[app
            methodForSelector:@selector(beginBackgroundTaskWithName:expirationHandler:)];
        void (*end)(id, SEL, NSUInteger) =
            (void *)[app methodForSelector:@selector(endBackgroundTask:)];
        NSObject *lock = [NSObject new];
        __block NSUInteger task = 0; /* UIBackgroundTaskInvalid */
        __block BOOL ended = NO;
        void (^end_once)(void) = ^{
          @synchronized(lock) {
              if (!ended && task != 0)
                  end(app, @selector(endBackgroundTask:), task);
              ended = YES;
          }
        };
        NSUInteger started = begin(app, @selector(beginBackgroundTaskWithName:expirationHandler:),
                                   @"memgauge upload", ^{
                                     expired();
                                     end_once();
                                   });
        @synchronized(lock) {
            if (!ended)
                task = started;
        }
        work();
        end_once();
        return;
    }
#endif
#if !TARGET_OS_OSX
    /* 0: waiting, 1: work ran, 2: no time granted */
    NSObject *lock = [NSObject new];
    __block int outcome = 0;
    dispatch_semaphore_t settled = dispatch_semaphore_create(0);
    [[NSProcessInfo processInfo]
        performExpiringActivityWithReason:@"memgauge upload"
                               usingBlock:^(BOOL expiring) {
                                 if (expiring) {
                                     expired();
                                     @synchronized(lock) {
                                         if (outcome != 0)
                                             return; /* work() is running: it signals */
                                         outcome = 2;
                                     }
                                     dispatch_semaphore_signal(settled);
                                     return;
                                 }
                                 @synchronized(lock) {
                                     if (outcome != 0)
                                         return;
                                     outcome = 1;
                                 }
                                 work();
                                 dispatch_semaphore_signal(settled);
                               }];
    dispatch_semaphore_wait(settled, DISPATCH_TIME_FOREVER);
    if (outcome == 2)
        work();
#else
    (void)expired;
    work();
#endif
}

int memgauge_apple_send(const memgauge_http_request_t *req, char *retry_after, size_t cap,
                        void *user_data)
{
    (void)user_data;
    if (req == NULL || req->url == NULL)
        return 0;
    __block int status = 0;
    @autoreleasepool {
        /* stringWithUTF8String: answers nil for bytes that are not UTF-8,
         * and URLWithString: must never be given nil */
        NSString *text = [NSString stringWithUTF8String:req->url];
        NSURL *url = text != nil ? [NSURL URLWithString:text] : nil;
        if (url == nil)
            return 0;
        /* timeoutInterval is NSURLRequest's idle timeout, the nearest to a
         * connect timeout; the total is enforced below with a deadline */
        NSMutableURLRequest *r =
            [NSMutableURLRequest requestWithURL:url
                                    cachePolicy:NSURLRequestReloadIgnoringLocalCacheData
                                timeoutInterval:req->connect_timeout_ms / 1000.0];
        r.HTTPMethod = @"POST";
        for (size_t i = 0; i < req->header_count; i++) {
            const char *h = req->headers[i], *colon = h != NULL ? strchr(h, ':') : NULL;
            if (colon == NULL)
                continue;
            NSString *name = [[NSString alloc] initWithBytes:h
                                                      length:(NSUInteger)(colon - h)
                                                    encoding:NSUTF8StringEncoding];
            NSString *value = [[NSString stringWithUTF8String:colon + 1]
                stringByTrimmingCharactersInSet:[NSCharacterSet whitespaceCharacterSet]];
            if (name != nil && value != nil)
                [r setValue:value forHTTPHeaderField:name];
        }
        /* the body is borrowed for this call only: copy it */
        r.HTTPBody = [NSData dataWithBytes:req->body length:req->body_len];

        __block NSHTTPURLResponse *answer = nil;
        dispatch_semaphore_t done = dispatch_semaphore_create(0);
        NSURLSessionDataTask *task = [session()
            dataTaskWithRequest:r
              completionHandler:^(NSData *data, NSURLResponse *response, NSError *error) {
                (void)data;
                if (error == nil && [response isKindOfClass:[NSHTTPURLResponse class]])
                    answer = (NSHTTPURLResponse *)response;
                dispatch_semaphore_signal(done);
              }];
        uint64_t deadline = now_ns() + (uint64_t)req->total_timeout_ms * 1000000u;
        with_background_time(
            ^{
              [task resume];
              for (;;) {
                  if (dispatch_semaphore_wait(
                          done, dispatch_time(DISPATCH_TIME_NOW, 50 * NSEC_PER_MSEC)) == 0)
                      return;
                  uint64_t now = now_ns();
                  uint64_t stop = atomic_load(&memgauge__apple_stop_deadline_ns);
                  if (now >= deadline || (stop != 0 && now >= stop)) {
                      [task cancel]; /* the completion handler still runs */
                      dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
                      return;
                  }
              }
            },
            ^{
              [task cancel];
            });
        if (answer != nil) {
            status = (int)answer.statusCode;
            NSString *ra = [answer valueForHTTPHeaderField:@"Retry-After"];
            if (ra != nil && retry_after != NULL && cap > 0)
                strlcpy(retry_after, ra.UTF8String, cap);
        }
    }
    return status;
}
