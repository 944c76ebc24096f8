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

/* Writes the os_version text into out and the build into build_out (each
 * always NUL-terminated; build_out may be NULL). The text starts with the
 * OS name, as the identity's os_version does (the report splits it there):
 *   device or Mac:       "iOS 17.4", "macOS 14.4"                 build "21E219"
 *   simulator:           "iOS 17.4 simulator"                     build of the runtime
 *                        without the environment: "iOS simulator on macOS 14.4", host build
 *   iOS app on a Mac:    "iOS 17.4 app on macOS 14.4"             build of macOS
 *   no product version:  "Darwin 23.4.0"
 * Nothing known at all gives "" for both. A change of either between
 * launches reads as an OS update, so a simulator runtime update is one and
 * a host Mac update under an unchanged runtime is not. Pure: any thread. */
void memgauge__darwin_os_version(const memgauge__darwin_os_t *in, char *out, size_t cap,
                                 char *build_out, size_t build_cap);

#endif
