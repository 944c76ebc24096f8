#include "json_scan.h"

#include "budget.h"

#include <cjson/cJSON.h>
#include <string.h>

int memgauge__json_scan(const char *text, size_t len, memgauge__json_scan_t *out)
{
    memset(out, 0, sizeof *out);
    /* per open container: 1 for an array, and its element count */
    unsigned char is_array[MEMGAUGE__SCAN_MAX_DEPTH + 1];
    size_t elements[MEMGAUGE__SCAN_MAX_DEPTH + 1];
    size_t depth = 0, colons = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        int value = 0;
        if (c == '"') {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            out->strings++;
            out->string_bytes += (i < len ? i : len) - start + 1;
            i++;
            value = 1;
        } else if (c == '{' || c == '[') {
            if (depth == MEMGAUGE__SCAN_MAX_DEPTH)
                return MEMGAUGE__SCAN_TOO_DEEP;
            value = 1; /* counted in its parent before descending */
        } else if (c == '}' || c == ']') {
            if (depth)
                depth--;
            i++;
            continue;
        } else if (c == ',') {
            i++;
            continue;
        } else if (c == ':') {
            colons++;
            i++;
            continue;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        } else {
            /* a number, true, false, null (or junk the parser will refuse) */
            size_t start = i;
            while (i < len && !strchr(" \t\r\n,:[]{}\"", text[i])) /* '\0' stops it too */
                i++;
            if (i == start)
                i++; /* a NUL byte: one junk value */
            if (i - start > out->longest_scalar)
                out->longest_scalar = i - start;
            value = 1;
        }
        if (!value)
            continue;
        out->values++;
        if (depth && is_array[depth]) {
            if (++elements[depth] > MEMGAUGE__SCAN_MAX_ARRAY)
                return MEMGAUGE__SCAN_ARRAY_TOO_LONG;
            if (elements[depth] > out->longest_array)
                out->longest_array = elements[depth];
        }
        /* a key is a string followed by ':' and is no node: corrected below */
        if (out->values - colons > MEMGAUGE__SCAN_MAX_VALUES)
            return MEMGAUGE__SCAN_TOO_MANY_VALUES;
        if (c == '{' || c == '[') {
            depth++;
            is_array[depth] = c == '[';
            elements[depth] = 0;
            if (depth > out->depth)
                out->depth = depth;
            if (c == '{')
                out->objects++;
            i++;
        }
    }
    out->values = out->values > colons ? out->values - colons : 0;
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
