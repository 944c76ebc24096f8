/* Pure parsers for Linux /proc and cgroup text. See linux_parse.h. */
#include <string.h>

#include "linux_parse.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads a decimal number at buf[*pos], skipping leading blanks; advances
 * *pos past it. Refuses overflow rather than wrapping. */
static int scan_u64(const char *buf, size_t len, size_t *pos, uint64_t *value)
{
    size_t i = *pos;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    if (i >= len || buf[i] < '0' || buf[i] > '9')
        return -1;
    uint64_t v = 0;
    for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
        unsigned digit = (unsigned)(buf[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *pos = i;
    *value = v;
    return 0;
}

int memgauge__parse_u64(const char *buf, size_t len, uint64_t *value)
{
    size_t pos = 0;
    if (scan_u64(buf, len, &pos, value) != 0)
        return -1;
    for (; pos < len && buf[pos] != '\0'; pos++)
        if (!is_space(buf[pos]))
            return -1;
    return 0;
}

int memgauge__parse_statm(const char *buf, size_t len, memgauge__statm_t *out)
{
    size_t pos = 0;
    if (scan_u64(buf, len, &pos, &out->size) != 0 ||
        scan_u64(buf, len, &pos, &out->resident) != 0 ||
        scan_u64(buf, len, &pos, &out->shared) != 0)
        return -1;
    if (out->shared > out->resident)
        return -1;
    return 0;
}

/* Start of the line that begins with `key`, or NULL. */
static const char *find_line(const char *buf, size_t len, const char *key)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        if (len - i >= klen && memcmp(buf + i, key, klen) == 0)
            return buf + i + klen;
        const char *nl = memchr(buf + i, '\n', len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - buf) + 1;
    }
    return NULL;
}

int memgauge__parse_kb_field(const char *buf, size_t len, const char *key, uint64_t *kb)
{
    const char *p = find_line(buf, len, key);
    if (p == NULL)
        return -1;
    size_t pos = (size_t)(p - buf);
    return scan_u64(buf, len, &pos, kb);
}

int memgauge__parse_keyed_u64(const char *buf, size_t len, const char *key, uint64_t *value)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        if (len - i > klen && memcmp(buf + i, key, klen) == 0 && buf[i + klen] == ' ') {
            size_t pos = i + klen;
            return scan_u64(buf, len, &pos, value);
        }
        const char *nl = memchr(buf + i, '\n', len - i);
        if (nl == NULL)
            break;
        i = (size_t)(nl - buf) + 1;
    }
    return -1;
}

int memgauge__parse_cgroup_limit(const char *buf, size_t len, uint64_t *limit)
{
    if (len >= 3 && memcmp(buf, "max", 3) == 0 && (len == 3 || is_space(buf[3]))) {
        *limit = UINT64_MAX;
        return 0;
    }
    uint64_t v;
    if (memgauge__parse_u64(buf, len, &v) != 0)
        return -1;
    /* cgroup v1 writes PAGE_COUNTER_MAX * page size (0x7FFFFFFFFFFFF000 on
     * 4 KiB pages) for "no limit"; nothing real comes near 2^62. */
    *limit = v >= (UINT64_C(1) << 62) ? UINT64_MAX : v;
    return 0;
}

static int copy_span(const char *src, size_t n, char *dst, size_t cap)
{
    if (n + 1 > cap)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Does the comma-separated list [p, p+n) contain `word`? */
static int list_has(const char *p, size_t n, const char *word)
{
    size_t wlen = strlen(word);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != ',')
            j++;
        if (j - i == wlen && memcmp(p + i, word, wlen) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

int memgauge__parse_proc_cgroup(const char *buf, size_t len, char *v1_path, size_t v1_cap,
                                char *v2_path, size_t v2_cap)
{
    if (v1_cap == 0 || v2_cap == 0)
        return -1;
    v1_path[0] = '\0';
    v2_path[0] = '\0';
    size_t i = 0;
    while (i < len) {
        const char *line = buf + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t n = nl ? (size_t)(nl - line) : len - i;
        const char *c1 = memchr(line, ':', n);
        const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
        if (c2 != NULL) {
            const char *ctl = c1 + 1;
            size_t ctl_len = (size_t)(c2 - ctl);
            const char *path = c2 + 1;
            size_t path_len = n - (size_t)(path - line);
            if (c1 - line == 1 && line[0] == '0' && ctl_len == 0) {
                if (copy_span(path, path_len, v2_path, v2_cap) != 0)
                    return -1;
            } else if (list_has(ctl, ctl_len, "memory")) {
                if (copy_span(path, path_len, v1_path, v1_cap) != 0)
                    return -1;
            }
        }
        i += n + 1;
    }
    return 0;
}

/* Copies a mountinfo field, decoding the kernel's \ooo octal escapes. */
static int copy_unescaped(const char *src, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '\\' && i + 3 < n && src[i + 1] >= '0' && src[i + 1] <= '3' && src[i + 2] >= '0' &&
            src[i + 2] <= '7' && src[i + 3] >= '0' && src[i + 3] <= '7') {
            c = (char)((src[i + 1] - '0') * 64 + (src[i + 2] - '0') * 8 + (src[i + 3] - '0'));
            i += 3;
        }
        if (o + 1 >= cap)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

/* Splits a line into space-separated fields; returns how many (<= max). */
static size_t split_fields(const char *line, size_t n, const char **start, size_t *flen, size_t max)
{
    size_t count = 0;
    size_t i = 0;
    while (i < n && count < max) {
        while (i < n && line[i] == ' ')
            i++;
        if (i >= n)
            break;
        size_t j = i;
        while (j < n && line[j] != ' ')
            j++;
        start[count] = line + i;
        flen[count] = j - i;
        count++;
        i = j;
    }
    return count;
}

int memgauge__parse_cgroup_mount(const char *buf, size_t len, int version, char *mountpoint,
                                 size_t mp_cap, char *root, size_t root_cap)
{
    enum { MAX_FIELDS = 24 };
    size_t i = 0;
    while (i < len) {
        const char *line = buf + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t n = nl ? (size_t)(nl - line) : len - i;
        i += n + 1;
        const char *f[MAX_FIELDS];
        size_t fl[MAX_FIELDS];
        size_t count = split_fields(line, n, f, fl, MAX_FIELDS);
        /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
        size_t sep = 6;
        while (sep < count && !(fl[sep] == 1 && f[sep][0] == '-'))
            sep++;
        if (sep + 2 >= count)
            continue;
        const char *fstype = f[sep + 1];
        size_t fstype_len = fl[sep + 1];
        int match = 0;
        if (version == MEMGAUGE__CGROUP_V2)
            match = fstype_len == 7 && memcmp(fstype, "cgroup2", 7) == 0;
        else if (fstype_len == 6 && memcmp(fstype, "cgroup", 6) == 0 && sep + 3 < count)
            match = list_has(f[sep + 3], fl[sep + 3], "memory");
        if (!match)
            continue;
        if (copy_unescaped(f[4], fl[4], mountpoint, mp_cap) != 0 ||
            copy_unescaped(f[3], fl[3], root, root_cap) != 0)
            return -1;
        return 0;
    }
    return -1;
}

/* Does the path have a ".." component? The kernel writes one for a cgroup
 * outside the reader's cgroup namespace: that cgroup is not under the mount. */
static int has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 1;
    return 0;
}

int memgauge__cgroup_dir(const char *mountpoint, const char *root, const char *cgroup_path,
                         char *dir, size_t dir_cap)
{
    if (has_dotdot(cgroup_path))
        return -1;
    size_t root_len = strlen(root);
    const char *rest = cgroup_path;
    if (!(root_len == 1 && root[0] == '/')) {
        if (strncmp(cgroup_path, root, root_len) != 0 ||
            (cgroup_path[root_len] != '\0' && cgroup_path[root_len] != '/'))
            return -1;
        rest = cgroup_path + root_len;
    }
    size_t mp_len = strlen(mountpoint);
    while (mp_len > 1 && mountpoint[mp_len - 1] == '/')
        mp_len--;
    while (*rest == '/')
        rest++;
    size_t rest_len = strlen(rest);
    while (rest_len > 0 && rest[rest_len - 1] == '/')
        rest_len--;
    size_t need = mp_len + (rest_len ? 1 + rest_len : 0) + 1;
    if (need > dir_cap)
        return -1;
    if (mp_len == 1 && mountpoint[0] == '/')
        mp_len = 0; /* "/" + "a" is "/a", not "//a" */
    memcpy(dir, mountpoint, mp_len);
    size_t o = mp_len;
    if (rest_len) {
        dir[o++] = '/';
        memcpy(dir + o, rest, rest_len);
        o += rest_len;
    }
    dir[o] = '\0';
    return 0;
}
