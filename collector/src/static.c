/* Static files for the dashboard. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* The file flags: O_NONBLOCK so that a FIFO put in the folder cannot hold
 * a worker thread in open() (it is then refused as not a regular file). */
#define FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

/* Without openat2 (Linux < 5.6, or a seccomp filter): one openat per
 * component, none of them a symbolic link. */
static int open_walk(int dirfd, const char *rel)
{
    char name[256];
    int at = dirfd;
    for (;;) {
        size_t n = strcspn(rel, "/");
        if (n == 0 || n >= sizeof name)
            break;
        memcpy(name, rel, n);
        name[n] = '\0';
        int last = rel[n] == '\0';
        int fd =
            openat(at, name, last ? FILE_FLAGS : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (at != dirfd)
            close(at);
        if (fd < 0 || last)
            return fd;
        at = fd;
        rel += n + 1;
    }
    if (at != dirfd)
        close(at);
    errno = ENOENT;
    return -1;
}

/* rel beneath dirfd with no symbolic link at any level (O_NOFOLLOW alone
 * covers only the last component) and no way out of the folder. */
static int open_beneath(int dirfd, const char *rel)
{
    struct open_how how = {
        .flags = FILE_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
        return (int)fd;
    return open_walk(dirfd, rel);
}

int memgauge__static_open(const char *dir, const char *url, memgauge__static_file_t *out)
{
    if (!strcmp(url, "/"))
        url = "/index.html";
    if (!dir[0] || !memgauge__static_url_ok(url))
        return 404;
    /* the folder itself may be reached through links (an install's
     * share/ directory often is); nothing beneath it may */
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return 404;
    int fd = open_beneath(dirfd, url + 1);
    close(dirfd);
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
