/*
 * The os_version text of a Darwin identity, as a pure function. The reader
 * (identity_darwin.c) gathers sysctls and environment variables; this file
 * decides what they say, so the rules are tested on every platform.
 */
#ifndef MEMGAUGE_DARWIN_OS_H
#define MEMGAUGE_DARWIN_OS_H

#include <stdbool.h>
#include <stddef.h>

/* What the reader found. A string not known is NULL or "". */
typedef struct memgauge__darwin_os_s {
    const char *family;  /* the build's OS family: "iOS", "macOS" (Mac Catalyst too), ... */
    const char *product; /* sysctl kern.osproductversion, "17.4" */
    const char *build;   /* sysctl kern.osversion, "21E219" */
    const char *release; /* sysctl kern.osrelease, "23.4.0" (the fallback) */
    bool simulator;      /* TARGET_OS_SIMULATOR */
    /* In the simulator the sysctls describe the host Mac; the runtime's own
     * version is in the environment: SIMULATOR_RUNTIME_VERSION ("17.4") and
     * SIMULATOR_RUNTIME_BUILD_VERSION ("21E213"). */
    const char *sim_version;
    const char *sim_build;
    /* sysctl kern.iossupportversion: the iOS version a Mac supports ("17.4").
     * launchd sets it from SystemVersion.plist's iOSSupportVersion, which
     * macOS has and iOS does not; on visionOS xnu answers "" to iOS
     * processes (bsd/kern/kern_sysctl.c, sysctl_iossupportversion). So in
     * an iOS build, non-empty means an iOS app on an Apple-silicon Mac. */
    const char *ios_support;
} memgauge__darwin_os_t;

/* Writes the os_version text into out (cap bytes, always NUL-terminated):
 *   device or Mac:           "iOS 17.4 (21E219)", "macOS 14.4 (23E214)"
 *   simulator:               "iOS 17.4 (21E213) simulator"
 *                            without the environment: "iOS simulator on macOS 14.4 (23E214)"
 *   iOS app on a Mac:        "iOS 17.4 app on macOS 14.4 (23E214)"
 *   no product version:      "Darwin 23.4.0 (21E219)"
 * "?" stands for an unknown build. Nothing known at all gives "".
 * A change of this text between launches reads as an OS update, so a
 * simulator runtime update is one and a host Mac update under an unchanged
 * runtime is not. Pure: any thread. */
void memgauge__darwin_os_version(const memgauge__darwin_os_t *in, char *out, size_t cap);

#endif
