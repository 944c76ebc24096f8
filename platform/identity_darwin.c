/*
 * Darwin (macOS, iOS, tvOS, watchOS, visionOS): who and where this process
 * is, whether a debugger is attached, and where its state lives by default.
 * Called at start, not per sample.
 */
#include <TargetConditionals.h>
#include <mach-o/dyld.h>
#include <mach-o/loader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/proc.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include "darwin_os.h"
#include "platform.h"

/* The OS family name for os_version. Mac Catalyst also sets TARGET_OS_IOS. */
#if TARGET_OS_OSX || TARGET_OS_MACCATALYST
#define MEMGAUGE__OS_NAME "macOS"
#elif defined(TARGET_OS_VISION) && TARGET_OS_VISION
#define MEMGAUGE__OS_NAME "visionOS"
#elif TARGET_OS_WATCH
#define MEMGAUGE__OS_NAME "watchOS"
#elif TARGET_OS_TV
#define MEMGAUGE__OS_NAME "tvOS"
#elif TARGET_OS_IOS
#define MEMGAUGE__OS_NAME "iOS"
#else
#define MEMGAUGE__OS_NAME "Darwin"
#endif

/* A string sysctl into dst; 0 when it is non-empty. */
static int sysctl_string(const char *name, char *dst, size_t cap)
{
    size_t size = cap;
    dst[0] = '\0';
    if (sysctlbyname(name, dst, &size, NULL, 0) != 0 || size == 0) {
        dst[0] = '\0';
        return -1;
    }
    dst[cap - 1] = '\0';
    return dst[0] != '\0' ? 0 : -1;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* kern.bootsessionuuid names the boot itself. kern.boottime, the fallback,
 * is derived as (wall clock - uptime) and moves when the clock is corrected
 * while the machine stays up (rpodgorny/uptimed#22): compared across
 * launches it can report a reboot that never happened. */
static void boot_id(char *dst, size_t cap)
{
    if (sysctl_string("kern.bootsessionuuid", dst, cap) == 0)
        return;
    int mib[2] = {CTL_KERN, KERN_BOOTTIME};
    struct timeval tv;
    size_t size = sizeof tv;
    if (sysctl(mib, 2, &tv, &size, NULL, 0) == 0 && size == sizeof tv && tv.tv_sec != 0)
        snprintf(dst, cap, "%lld.%06d", (long long)tv.tv_sec, (int)tv.tv_usec);
}

/* "iOS 17.5.1" and, apart, its build "21F90" (kern.osversion), as the
 * system's About screen shows them; the simulator's and an iOS app on a
 * Mac's rules are in darwin_os.c. */
static void os_version(memgauge__identity_t *out)
{
    char product[32], build[32], release[32], ios_support[32];
    sysctl_string("kern.osproductversion", product, sizeof product); /* 10.13.4, iOS 11.3 on */
    sysctl_string("kern.osversion", build, sizeof build);
    sysctl_string("kern.osrelease", release, sizeof release);
    sysctl_string("kern.iossupportversion", ios_support, sizeof ios_support);
    memgauge__darwin_os_t in = {MEMGAUGE__OS_NAME,
                                product,
                                build,
                                release,
                                TARGET_OS_SIMULATOR != 0,
                                getenv("SIMULATOR_RUNTIME_VERSION"),
                                getenv("SIMULATOR_RUNTIME_BUILD_VERSION"),
                                ios_support};
    memgauge__darwin_os_version(&in, out->os_version, sizeof out->os_version, out->os_build,
                                sizeof out->os_build);
}

static void to_hex(const uint8_t *bytes, size_t n, char *dst, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    if (n > (cap - 1) / 2)
        n = (cap - 1) / 2;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = digits[bytes[i] >> 4];
        dst[2 * i + 1] = digits[bytes[i] & 15];
    }
    dst[2 * n] = '\0';
}

/* LC_UUID of the main executable (dyld's image 0). */
static void build_id(char *dst, size_t cap)
{
    const struct mach_header *mh = _dyld_get_image_header(0);
    if (mh == NULL)
        return;
    size_t header;
    if (mh->magic == MH_MAGIC_64)
        header = sizeof(struct mach_header_64);
    else if (mh->magic == MH_MAGIC)
        header = sizeof(struct mach_header); /* arm64_32 (watchOS) */
    else
        return;
    const uint8_t *p = (const uint8_t *)mh + header;
    const uint8_t *end = p + mh->sizeofcmds;
    for (uint32_t i = 0; i < mh->ncmds; i++) {
        struct load_command lc;
        if ((size_t)(end - p) < sizeof lc)
            return;
        memcpy(&lc, p, sizeof lc);
        if (lc.cmdsize < sizeof lc || lc.cmdsize > (size_t)(end - p))
            return;
        if (lc.cmd == LC_UUID && lc.cmdsize >= sizeof(struct uuid_command)) {
            struct uuid_command uc;
            memcpy(&uc, p, sizeof uc);
            to_hex(uc.uuid, sizeof uc.uuid, dst, cap);
            return;
        }
        p += lc.cmdsize;
    }
}

static void device_model(char *dst, size_t cap)
{
#if TARGET_OS_SIMULATOR
    /* hw.machine names the Mac that runs the simulator */
    const char *sim = getenv("SIMULATOR_MODEL_IDENTIFIER");
    if (sim != NULL && sim[0] != '\0') {
        copy_str(dst, cap, sim);
        return;
    }
#endif
#if TARGET_OS_OSX || TARGET_OS_MACCATALYST
    /* On a Mac hw.machine is only the architecture; hw.model is "Mac14,2". */
    if (sysctl_string("hw.model", dst, cap) == 0)
        return;
#endif
    /* iPhone15,2 and the like (on iOS hw.model is the board, "D73AP") */
    sysctl_string("hw.machine", dst, cap);
}

static void exe_name(char *dst, size_t cap)
{
    char path[4096];
    uint32_t size = sizeof path;
    const char *name = NULL;
    if (_NSGetExecutablePath(path, &size) == 0) {
        path[sizeof path - 1] = '\0';
        const char *slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
    }
    if (name == NULL || name[0] == '\0')
        name = getprogname();
    if (name != NULL)
        copy_str(dst, cap, name);
}

int memgauge__platform_identity(memgauge__identity_t *out)
{
    if (out == NULL)
        return MEMGAUGE_E_NULL_ARGUMENT;
    memset(out, 0, sizeof *out);
    boot_id(out->boot_id, sizeof out->boot_id);
    os_version(out);
    build_id(out->build_id, sizeof out->build_id);
    device_model(out->device_model, sizeof out->device_model);
    exe_name(out->exe_name, sizeof out->exe_name);
    return MEMGAUGE_OK;
}

/* Apple Technical Q&A QA1361: P_TRACED in the process's kinfo_proc. */
int memgauge__platform_debugger_attached(void)
{
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)getpid()};
    struct kinfo_proc info;
    size_t size = sizeof info;
    memset(&info, 0, sizeof info);
    if (sysctl(mib, 4, &info, &size, NULL, 0) != 0)
        return 0;
    return (info.kp_proc.p_flag & P_TRACED) != 0;
}

/* An app id names one directory: not empty, no '/', not "." or "..". */
static int app_id_ok(const char *app_id)
{
    return app_id != NULL && app_id[0] != '\0' && strchr(app_id, '/') == NULL &&
           strcmp(app_id, ".") != 0 && strcmp(app_id, "..") != 0;
}

int memgauge__platform_default_state_dir(const char *app_id, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return -1;
    out[0] = '\0';
    const char *home = getenv("HOME"); /* on iOS: the app's container */
    if (!app_id_ok(app_id) || home == NULL || home[0] != '/')
        return -1;
    size_t hl = strlen(home);
    while (hl > 1 && home[hl - 1] == '/')
        hl--;
    if (hl == 1)
        hl = 0;
    static const char middle[] = "/Library/Caches/memgauge/";
    size_t ml = sizeof middle - 1, al = strlen(app_id);
    if (hl + ml + al + 1 > cap)
        return -1;
    memcpy(out, home, hl);
    memcpy(out + hl, middle, ml);
    memcpy(out + hl + ml, app_id, al + 1);
    return 0;
}
