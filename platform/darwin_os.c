/* Darwin os_version rules, kept free of Apple headers. See the header. */
#include <stdio.h>
#include <string.h>

#include "darwin_os.h"

static bool known(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static const char *or_unknown(const char *s)
{
    return known(s) ? s : "?";
}

void memgauge__darwin_os_version(const memgauge__darwin_os_t *in, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return;
    out[0] = '\0';
    if (in == NULL)
        return;
    const char *family = known(in->family) ? in->family : "Darwin";
    const char *build = or_unknown(in->build);

    if (in->simulator) {
        if (known(in->sim_version))
            snprintf(out, cap, "%s %s (%s) simulator", family, in->sim_version,
                     or_unknown(in->sim_build));
        else if (known(in->product))
            snprintf(out, cap, "%s simulator on macOS %s (%s)", family, in->product, build);
        else
            snprintf(out, cap, "%s simulator", family);
        return;
    }
    if (strcmp(family, "iOS") == 0 && known(in->ios_support) && known(in->product)) {
        snprintf(out, cap, "iOS %s app on macOS %s (%s)", in->ios_support, in->product, build);
        return;
    }
    if (known(in->product))
        snprintf(out, cap, "%s %s (%s)", family, in->product, build);
    else if (known(in->release))
        snprintf(out, cap, "Darwin %s (%s)", in->release, build);
}
