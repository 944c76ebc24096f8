/* Temporary directories, small files, whole reads and writes. See support.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

int mg_temp_dir(char *out, size_t cap, const char *parent, const char *tag)
{
    int n = snprintf(out, cap, "%s/memgauge-%s-XXXXXX", parent, tag);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(out) != NULL ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* nftw's depth-first walk, without following links: children go first. */
static int remove_below(const char *dir, int keep_top)
{
    if (!keep_top)
        return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int mg_clear_dir(const char *dir)
{
    return remove_below(dir, 1);
}

int mg_remove_tree(const char *dir)
{
    if (access(dir, F_OK) != 0 && errno == ENOENT)
        return 0;
    return remove_below(dir, 0);
}

int mg_write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = mg_write_full(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

unsigned char *mg_read_all(const char *path, size_t *len)
{
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, got = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL)
            break;
        if (got + 1 == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (buf == NULL)
        return NULL;
    buf[got] = '\0';
    *len = got;
    return buf;
}

int mg_read_text(const char *path, char *buf, size_t cap)
{
    size_t len;
    unsigned char *all = mg_read_all(path, &len);
    size_t n = all == NULL ? 0 : len < cap - 1 ? len : cap - 1;
    if (n > 0)
        memcpy(buf, all, n);
    buf[n] = '\0';
    free(all);
    return all == NULL ? -1 : 0;
}

int mg_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int mg_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
