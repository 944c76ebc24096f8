/* Retry decisions. See retry.h. */
#include <stdio.h>
#include <string.h>

#include "retry.h"

memgauge__tr_outcome_t memgauge__tr_classify(int status)
{
    if (status >= 200 && status < 300)
        return MEMGAUGE__TR_DONE;
    switch (status) {
    case 0: /* no answer: refused, reset, timeout, aborted */
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 507:
        return MEMGAUGE__TR_RETRY;
    case 401: /* no or a wrong key */
    case 403: /* a key without the right */
    case 404: /* no collector at this path: a base URL without /v1/reports */
    case 405: /* a server that takes no POST there */
        return MEMGAUGE__TR_CONFIG;
    default:
        return MEMGAUGE__TR_DROP;
    }
}

uint32_t memgauge__tr_backoff_ms(uint32_t attempt, uint32_t base_ms, uint32_t cap_ms,
                                 double random01)
{
    uint64_t d = base_ms;
    for (uint32_t i = 1; i < attempt && d < cap_ms; i++)
        d *= 2;
    if (d > cap_ms)
        d = cap_ms;
    if (!(random01 >= 0.0 && random01 < 1.0))
        random01 = 0.0;
    /* "equal jitter": never less than half the step, so that retries still
     * back off, and spread so that many clients do not return together */
    return (uint32_t)(d / 2 + (uint64_t)((double)(d - d / 2) * random01));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int parse_http_date(const char *v, int64_t *unix_s)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wday[4], mon[4], zone[4];
    int day, year, hh, mm, ss, used = 0;
    if (sscanf(v, "%3s %d %3s %d %d:%d:%d %3s%n", wday, &day, mon, &year, &hh, &mm, &ss, zone,
               &used) != 8 ||
        v[used] != '\0' || strlen(wday) != 3)
        return -1;
    if (strcmp(zone, "GMT") != 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh > 23 ||
        mm > 59 || ss > 60 || hh < 0 || mm < 0 || ss < 0)
        return -1;
    unsigned m = 0;
    for (unsigned i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            m = i + 1;
    if (m == 0)
        return -1;
    *unix_s = days_from_civil(year, m, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss;
    return 0;
}

int64_t memgauge__tr_retry_after_ms(const char *value, uint64_t now_unix_ms, uint32_t cap_ms)
{
    if (value == NULL)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (*value == '\0')
        return -1;
    int64_t ms;
    if (*value >= '0' && *value <= '9') {
        uint64_t s = 0;
        const char *p = value;
        for (; *p >= '0' && *p <= '9'; p++)
            if (s < UINT64_C(1) << 40)
                s = s * 10 + (uint64_t)(*p - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0')
            return -1;
        ms = (int64_t)(s > (UINT64_C(1) << 40) ? (UINT64_C(1) << 40) : s) * 1000;
    } else {
        /* "Sun, 06 Nov 1994 08:49:37 GMT": the comma is glued to the day name */
        char buf[64];
        size_t n = strlen(value);
        if (n >= sizeof buf || n < 29)
            return -1;
        memcpy(buf, value, n + 1);
        if (buf[3] != ',')
            return -1;
        buf[3] = ' ';
        int64_t at;
        if (parse_http_date(buf, &at) != 0)
            return -1;
        int64_t now_s = (int64_t)(now_unix_ms / 1000);
        ms = at > now_s ? (at - now_s) * 1000 : 0;
    }
    return ms > (int64_t)cap_ms ? (int64_t)cap_ms : ms;
}
