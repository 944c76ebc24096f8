#include "json_scan.h"

#include "budget.h"

#include <cjson/cJSON.h>
#include <string.h>

enum { SCALAR, SPACE, QUOTE, OPEN, CLOSE, COMMA, COLON };

/* what each byte starts or ends; 0 (SCALAR) for the bytes of numbers and
 * literals, and for junk the parser will refuse */
static const unsigned char kind[256] = {
    ['\0'] = SPACE, [' '] = SPACE, ['\t'] = SPACE, ['\n'] = SPACE, ['\r'] = SPACE, ['"'] = QUOTE,
    ['{'] = OPEN,   ['['] = OPEN,  ['}'] = CLOSE,  [']'] = CLOSE,  [','] = COMMA,  [':'] = COLON,
};

int memgauge__json_scan(const char *text, size_t len, memgauge__json_scan_t *out)
{
    memset(out, 0, sizeof *out);
    const unsigned char *t = (const unsigned char *)text;
    /* per open container: 1 for an array, and its element count */
    unsigned char is_array[MEMGAUGE__SCAN_MAX_DEPTH + 1];
    size_t elements[MEMGAUGE__SCAN_MAX_DEPTH + 1];
    size_t depth = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char k = kind[t[i]];
        if (k == SPACE || k == COMMA || k == CLOSE || k == COLON) {
            depth -= k == CLOSE && depth;
            i++;
            continue;
        }
        if (k == QUOTE) {
            size_t start = ++i;
            for (; i < len && t[i] != '"'; i++)
                i += t[i] == '\\';
            out->strings++;
            out->string_bytes += (i < len ? i : len) - start + 1;
            i++;
            /* a string followed by ':' is a key, stored in its member's node */
            size_t j = i;
            while (j < len && kind[t[j]] == SPACE && t[j])
                j++;
            if (j < len && t[j] == ':') {
                i = j + 1;
                continue;
            }
        } else if (k == OPEN) {
            if (depth == MEMGAUGE__SCAN_MAX_DEPTH)
                return MEMGAUGE__SCAN_TOO_DEEP;
        } else {
            size_t start = i;
            while (i < len && kind[t[i]] == SCALAR)
                i++;
            if (i - start > out->longest_scalar)
                out->longest_scalar = i - start;
        }
        out->values++;
        if (depth && is_array[depth] && ++elements[depth] > MEMGAUGE__SCAN_MAX_ARRAY)
            return MEMGAUGE__SCAN_ARRAY_TOO_LONG;
        if (out->values > MEMGAUGE__SCAN_MAX_VALUES)
            return MEMGAUGE__SCAN_TOO_MANY_VALUES;
        if (k == OPEN) {
            depth++;
            is_array[depth] = t[i] == '[';
            elements[depth] = 0;
            out->objects += t[i] == '{';
            if (depth > out->depth)
                out->depth = depth;
            i++;
        }
    }
    return MEMGAUGE__SCAN_OK;
}

size_t memgauge__json_scan_tree_bytes(const memgauge__json_scan_t *s)
{
    /* nodes are 64-byte blocks (80 with the header), one more for the member
     * a parse error leaves without its value; the parser copies one number
     * at a time while converting it */
    return (s->values + 1) * (sizeof(cJSON) + 16) + s->string_bytes +
           s->strings * MEMGAUGE__ALLOC_OVERHEAD + s->longest_scalar + 1 + MEMGAUGE__ALLOC_OVERHEAD;
}
