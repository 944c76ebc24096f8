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

/* no early exit: every entry is compared */
static int any(const char *key, size_t n, const char (*list)[MEMGAUGE__KEY_MAX + 1], size_t count)
{
    int ok = 0;
    for (size_t i = 0; i < count; i++)
        ok |= same(key, n, list[i]);
    return ok;
}

int memgauge__auth_check(const memgauge__cli_t *cli, const char *authorization)
{
    size_t n;
    const char *key = bearer(authorization, &n);
    return key && any(key, n, cli->keys, cli->key_count);
}

int memgauge__auth_read_check(const memgauge__cli_t *cli, const char *authorization)
{
    size_t n;
    const char *key = bearer(authorization, &n);
    if (!key)
        return 0;
    int ok = any(key, n, cli->read_tokens, cli->read_token_count);
    if (cli->loopback)
        ok |= any(key, n, cli->keys, cli->key_count);
    return ok;
}
