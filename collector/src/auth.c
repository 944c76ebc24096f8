/* Bearer API key check. */
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

int memgauge__auth_check(const memgauge__cli_t *cli, const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return 0;
    const char *key = authorization + 7;
    while (*key == ' ')
        key++;
    size_t n = strlen(key);
    while (n && key[n - 1] == ' ')
        n--;
    if (n == 0)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < cli->key_count; i++)
        ok |= same(key, n, cli->keys[i]); /* no early exit: every key is compared */
    return ok;
}
