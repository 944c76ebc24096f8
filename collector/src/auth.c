/* Bearer checks: API keys write reports, read tokens read them. */
#include "auth.h"

#include <string.h>
#include <strings.h>

static int same(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen && i < blen; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The token of "Bearer <token>" without surrounding spaces; NULL if absent. */
static const char *bearer(const char *authorization, size_t *len)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return NULL;
    const char *key = authorization + 7;
    while (*key == ' ')
        key++;
    size_t n = strlen(key);
    while (n && key[n - 1] == ' ')
        n--;
    *len = n;
    return n ? key : NULL;
}

/* The index of the entry equal to key, or -1. No early exit: every entry is
 * compared. */
static int find(const char *key, size_t n, const char (*list)[MEMGAUGE__KEY_MAX + 1], size_t count)
{
    int found = -1;
    for (size_t i = 0; i < count; i++) {
        int hit = same(key, n, list[i]);
        found = hit ? (int)i : found;
    }
    return found;
}

int memgauge__auth_key(const memgauge__cli_t *cli, const char *authorization)
{
    size_t n;
    const char *key = bearer(authorization, &n);
    return key ? find(key, n, cli->keys, cli->key_count) : -1;
}

int memgauge__auth_check(const memgauge__cli_t *cli, const char *authorization)
{
    return memgauge__auth_key(cli, authorization) >= 0;
}

int memgauge__auth_read_check(const memgauge__cli_t *cli, const char *authorization)
{
    size_t n;
    const char *key = bearer(authorization, &n);
    return key && find(key, n, cli->read_tokens, cli->read_token_count) >= 0;
}

int memgauge__auth_app_allowed(const char *apps, const char *app_id)
{
    if (!apps || !apps[0])
        return 1;
    size_t n = strlen(app_id);
    for (const char *p = apps; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, app_id, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}
