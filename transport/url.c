/* Where batches are posted: the base URL rule. See transport.h. */
#include <stdio.h>
#include <string.h>

#include "transport.h"

#define REPORTS_PATH "/v1/reports"

int memgauge__tr_resolve_url(const char *url, char *out, size_t cap)
{
    if (url == NULL || cap == 0)
        return -1;
    /* the authority runs from after "scheme://" to the first '/', '?' or '#' */
    const char *scheme_end = strstr(url, "://");
    const char *authority = scheme_end != NULL ? scheme_end + 3 : url;
    size_t host_len = strcspn(authority, "/?#");
    const char *path = authority + host_len;
    size_t path_len = strcspn(path, "?#");
    const char *rest = path + path_len;
    int n;
    if (path_len == 0 || (path_len == 1 && path[0] == '/'))
        n = snprintf(out, cap, "%.*s" REPORTS_PATH "%s", (int)(path - url), url, rest);
    else
        n = snprintf(out, cap, "%s", url);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}
