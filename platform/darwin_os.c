/* Darwin os_version rules, kept free of Apple headers. See the header. */
#include <stdio.h>
#include <string.h>

#include "darwin_os.h"

static bool known(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static void put(char *out, size_t cap, const char *s)
{
    if (out != NULL && cap > 0)
        snprintf(out, cap, "%s", known(s) ? s : "");
}

void memgauge__darwin_os_version(const memgauge__darwin_os_t *in, char *out, size_t cap,
                                 char *build_out, size_t build_cap)
{
    put(out, cap, "");
    put(build_out, build_cap, "");
    if (in == NULL || out == NULL || cap == 0)
        return;
    const char *family = known(in->family) ? in->family : "Darwin";

    if (in->simulator) {
        if (known(in->sim_version)) {
            snprintf(out, cap, "%s %s simulator", family, in->sim_version);
            put(build_out, build_cap, in->sim_build);
        } else if (known(in->product)) {
            snprintf(out, cap, "%s simulator on macOS %s", family, in->product);
            put(build_out, build_cap, in->build);
        } else {
            snprintf(out, cap, "%s simulator", family);
        }
        return;
    }
    if (strcmp(family, "iOS") == 0 && known(in->ios_support) && known(in->product))
        snprintf(out, cap, "iOS %s app on macOS %s", in->ios_support, in->product);
    else if (known(in->product))
        snprintf(out, cap, "%s %s", family, in->product);
    else if (known(in->release))
        snprintf(out, cap, "Darwin %s", in->release);
    else
        return;
    put(build_out, build_cap, in->build);
}
