/* Pure parsers and decisions for Linux memory pressure. See pressure_parse.h. */
#include <string.h>

#include <memgauge/memgauge.h>

#include "linux_parse.h"
#include "pressure_parse.h"

/* A percentage with up to two decimals ("12.34", "0.5", "100.00") as
 * hundredths, reading [p, end). Further decimals are truncated, as the
 * kernel prints exactly two. Returns 0 or -1. */
static int parse_centi(const char *p, const char *end, uint32_t *out)
{
    uint32_t whole = 0;
    const char *q = p;
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        whole = whole * 10 + (uint32_t)(*q - '0');
        if (whole > 100)
            return -1; /* a share of wall time: never above 100 % */
    }
    if (q == p)
        return -1;
    uint32_t frac = 0;
    if (q < end && *q == '.') {
        q++;
        const char *digits = q;
        for (; q < end && *q >= '0' && *q <= '9'; q++)
            if (q - digits < 2)
                frac = frac * 10 + (uint32_t)(*q - '0');
        if (q == digits)
            return -1;
        if (q - digits == 1)
            frac *= 10;
    }
    if (q != end)
        return -1;
    uint32_t v = whole * 100 + frac;
    if (v > 10000)
        return -1;
    *out = v;
    return 0;
}

/* The avg10 value of one PSI line [p, end) after its "some"/"full" word. */
static int parse_avg10(const char *p, const char *end, uint32_t *out)
{
    static const char key[] = "avg10=";
    const size_t klen = sizeof key - 1;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *tok = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        if ((size_t)(p - tok) > klen && memcmp(tok, key, klen) == 0)
            return parse_centi(tok + klen, p, out);
    }
    return -1;
}

int memgauge__parse_psi(const char *buf, size_t len, memgauge__psi_t *out)
{
    memset(out, 0, sizeof *out);
    if (buf == NULL)
        return -1;
    int has_some = 0;
    memgauge__psi_t psi = {0};
    size_t i = 0;
    while (i < len && buf[i] != '\0') {
        const char *line = buf + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t n = nl ? (size_t)(nl - line) : len - i;
        const char *end = line + n;
        if (n > 0 && end[-1] == '\r')
            end--;
        i += n + 1;
        if (n >= 5 && memcmp(line, "some ", 5) == 0 && !has_some) {
            if (parse_avg10(line + 5, end, &psi.some_avg10_centi) != 0)
                return -1;
            has_some = 1;
        } else if (n >= 5 && memcmp(line, "full ", 5) == 0 && !psi.has_full) {
            if (parse_avg10(line + 5, end, &psi.full_avg10_centi) != 0)
                return -1;
            psi.has_full = 1;
        }
    }
    if (!has_some)
        return -1;
    *out = psi;
    return 0;
}

int memgauge__parse_oom_kill(const char *buf, size_t len, uint64_t *count)
{
    if (buf == NULL)
        return -1;
    /* The key must be followed by a space, so neither "oom_kill_disable"
     * (v1) nor "oom_group_kill" (v2) is taken for it. */
    return memgauge__parse_keyed_u64(buf, len, "oom_kill", count);
}

/*
 * "some" is the share of wall time in which at least one task of the group
 * waited for memory (reclaim, refaults of its working set, swap-in), "full"
 * the share in which every non-idle task did at once (Documentation/
 * accounting/psi.rst). A machine with enough memory shows well under 1 %.
 * - WARNING at some >= 10 %: a tenth of the time lost to memory waits,
 *   sustained over 10 s, is no blip. Android's lmkd treats 70 ms of "some"
 *   stall per second (7 %) as medium pressure (ro.lmk.psi_partial_stall_ms).
 * - CRITICAL at full >= 10 %, or some >= 40 %: with "full" stalls nothing
 *   useful runs for that time, so 10 % over 10 s is already thrashing; with
 *   "some" at 40 % waits dominate the process's time. Both precede the OOM
 *   killer, which only acts once reclaim makes no progress at all.
 */
int memgauge__psi_level(const memgauge__psi_t *psi)
{
    if (psi == NULL)
        return MEMGAUGE_PRESSURE_NORMAL;
    if (psi->full_avg10_centi >= MEMGAUGE__PSI_CRITICAL_FULL_CENTI ||
        psi->some_avg10_centi >= MEMGAUGE__PSI_CRITICAL_SOME_CENTI)
        return MEMGAUGE_PRESSURE_CRITICAL;
    if (psi->some_avg10_centi >= MEMGAUGE__PSI_WARNING_SOME_CENTI)
        return MEMGAUGE_PRESSURE_WARNING;
    return MEMGAUGE_PRESSURE_NORMAL;
}

static int latched(uint64_t now_ns, uint64_t at_ns, uint64_t latch_ns)
{
    return at_ns != 0 && (now_ns < at_ns || now_ns - at_ns < latch_ns);
}

int memgauge__event_level(uint64_t now_ns, uint64_t last_warning_ns, uint64_t last_critical_ns,
                          uint64_t latch_ns)
{
    if (latched(now_ns, last_critical_ns, latch_ns))
        return MEMGAUGE_PRESSURE_CRITICAL;
    if (latched(now_ns, last_warning_ns, latch_ns))
        return MEMGAUGE_PRESSURE_WARNING;
    return MEMGAUGE_PRESSURE_NORMAL;
}

/* Appends the decimal form of a non-negative int. */
static int put_int(char *buf, size_t cap, size_t *pos, int v)
{
    char digits[16];
    size_t n = 0;
    unsigned u = (unsigned)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (*pos + n >= cap)
        return -1;
    while (n > 0)
        buf[(*pos)++] = digits[--n];
    return 0;
}

static int put_str(char *buf, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n >= cap)
        return -1;
    memcpy(buf + *pos, s, n);
    *pos += n;
    return 0;
}

int memgauge__format_event_control(char *buf, size_t cap, int event_fd, int level_fd,
                                   const char *level)
{
    if (buf == NULL || cap == 0)
        return -1;
    buf[0] = '\0';
    if (event_fd < 0 || level_fd < 0 || level == NULL || level[0] == '\0')
        return -1;
    size_t pos = 0;
    if (put_int(buf, cap, &pos, event_fd) != 0 || put_str(buf, cap, &pos, " ") != 0 ||
        put_int(buf, cap, &pos, level_fd) != 0 || put_str(buf, cap, &pos, " ") != 0 ||
        put_str(buf, cap, &pos, level) != 0) {
        buf[0] = '\0';
        return -1;
    }
    buf[pos] = '\0';
    return (int)pos;
}
