/* Static files for the dashboard. */
#include "static.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

const char *memgauge__static_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return NULL;
}

int memgauge__static_url_ok(const char *url)
{
    size_t n = strlen(url);
    if (n < 2 || n > 255 || url[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = url[i];
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '-';
        if (c == '/') {
            if (i + 1 == n || url[i + 1] == '/' || url[i + 1] == '.')
                return 0; /* empty segment, "..", dot files */
        } else if (!word && c != '.') {
            return 0;
        }
    }
    return memgauge__static_type(url) != NULL;
}

int memgauge__static_open(const char *dir, const char *url, memgauge__static_file_t *out)
{
    if (!strcmp(url, "/"))
        url = "/index.html";
    if (!dir[0] || !memgauge__static_url_ok(url))
        return 404;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s%s", dir, url) >= (int)sizeof path)
        return 404;
    /* O_NOFOLLOW refuses a link as the last component; the name check above
     * already keeps every lookup inside dir */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 404;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MEMGAUGE__STATIC_MAX_BYTES) {
        close(fd);
        return 404;
    }
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    out->type = memgauge__static_type(url);
    out->html = !strcmp(strrchr(url, '.'), ".html");
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int memgauge__static_default_dir(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, outlen, "dashboard");
        return is_dir(out);
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    char install[PATH_MAX + 64];
    snprintf(install, sizeof install, "%s/../share/memgauge-collector/dashboard", exe);
    snprintf(out, outlen, "%s/dashboard", exe);
    if (is_dir(out))
        return 1;
    if (is_dir(install)) {
        snprintf(out, outlen, "%s", install);
        return 1;
    }
    return 0;
}
