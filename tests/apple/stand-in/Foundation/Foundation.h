/*
 * Stand-in for <Foundation/Foundation.h>: only the declarations the Apple
 * glue (apple/ *.m files) uses, with the signatures of Apple's SDK headers, so
 * that scripts/apple-glue-check.sh can compile the glue with clang 14 and
 * -fobjc-arc on Linux. It proves syntax, types, ARC rules and the calls
 * into memgauge's C API; it cannot prove that Foundation behaves as
 * documented. Nothing built with it is linked or run.
 */
#ifndef MEMGAUGE_STAND_IN_FOUNDATION_H
#define MEMGAUGE_STAND_IN_FOUNDATION_H

#include <dispatch/dispatch.h>
#include <objc/NSObject.h> /* the runtime's own root class, as zig ships it */
#include <stdint.h>
#include <string.h>
#include <time.h>

typedef double NSTimeInterval;
typedef const struct __CFString *CFStringRef;
extern const CFStringRef kCFBundleVersionKey;

@interface NSCharacterSet : NSObject
+ (NSCharacterSet *)whitespaceCharacterSet;
@end

enum { NSUTF8StringEncoding = 4 };

@interface NSString : NSObject
+ (instancetype)stringWithUTF8String:(const char *)s;
- (instancetype)initWithBytes:(const void *)b length:(NSUInteger)n encoding:(NSUInteger)e;
- (NSUInteger)length;
- (const char *)UTF8String;
- (BOOL)hasSuffix:(NSString *)s;
- (NSString *)stringByTrimmingCharactersInSet:(NSCharacterSet *)set;
@end
typedef NSString *NSNotificationName;

@interface NSData : NSObject
+ (instancetype)dataWithBytes:(const void *)bytes length:(NSUInteger)length;
@end

@interface NSError : NSObject
@end

@interface NSURL : NSObject
+ (instancetype)URLWithString:(NSString *)s;
@end

typedef enum { NSURLRequestReloadIgnoringLocalCacheData = 1 } NSURLRequestCachePolicy;

@interface NSURLRequest : NSObject
@end

@interface NSMutableURLRequest : NSURLRequest
+ (instancetype)requestWithURL:(NSURL *)url
                   cachePolicy:(NSURLRequestCachePolicy)policy
               timeoutInterval:(NSTimeInterval)timeout;
@property(copy) NSString *HTTPMethod;
@property(copy) NSData *HTTPBody;
- (void)setValue:(NSString *)value forHTTPHeaderField:(NSString *)field;
@end

@interface NSURLResponse : NSObject
@end

@interface NSHTTPURLResponse : NSURLResponse
@property(readonly) NSInteger statusCode;
- (NSString *)valueForHTTPHeaderField:(NSString *)field;
@end

@interface NSHTTPCookieStorage : NSObject
@end
@interface NSURLCache : NSObject
@end

@interface NSURLSessionConfiguration : NSObject
+ (NSURLSessionConfiguration *)ephemeralSessionConfiguration;
@property(strong) NSHTTPCookieStorage *HTTPCookieStorage;
@property(strong) NSURLCache *URLCache;
@property BOOL HTTPShouldSetCookies;
@end

@interface NSURLSessionDataTask : NSObject
- (void)resume;
- (void)cancel;
@end

@interface NSURLSession : NSObject
+ (NSURLSession *)sessionWithConfiguration:(NSURLSessionConfiguration *)configuration;
- (NSURLSessionDataTask *)dataTaskWithRequest:(NSURLRequest *)request
                            completionHandler:(void (^)(NSData *data, NSURLResponse *response,
                                                        NSError *error))completionHandler;
@end

typedef NSInteger NSProcessInfoThermalState; /* Nominal 0, Fair 1, Serious 2, Critical 3 */
@interface NSProcessInfo : NSObject
+ (NSProcessInfo *)processInfo;
@property(readonly) NSProcessInfoThermalState thermalState;
- (void)performExpiringActivityWithReason:(NSString *)reason
                               usingBlock:(void (^)(BOOL expired))block;
@end
extern NSNotificationName const NSProcessInfoThermalStateDidChangeNotification;
extern NSNotificationName const NSExtensionHostDidBecomeActiveNotification;
extern NSNotificationName const NSExtensionHostWillResignActiveNotification;
extern NSNotificationName const NSExtensionHostWillEnterForegroundNotification;
extern NSNotificationName const NSExtensionHostDidEnterBackgroundNotification;

@interface NSBundle : NSObject
+ (NSBundle *)mainBundle;
@property(readonly, copy) NSString *bundlePath;
- (id)objectForInfoDictionaryKey:(NSString *)key;
@end

@interface NSNotification : NSObject
@end
@interface NSOperationQueue : NSObject
@end

@interface NSNotificationCenter : NSObject
+ (NSNotificationCenter *)defaultCenter;
- (id)addObserverForName:(NSNotificationName)name
                  object:(id)obj
                   queue:(NSOperationQueue *)queue
              usingBlock:(void (^)(NSNotification *note))block;
@end

Class NSClassFromString(NSString *name);

#endif
