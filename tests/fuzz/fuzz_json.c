/* fuzz_json.c — the JSON reader and writer.
 * Byte 0 picks the limits; the rest is the text.  Invariants:
 *  - a parsed tree, written back with the writer, parses to an equal tree;
 *  - any bytes written with pw_json_str parse back to a string of valid UTF-8,
 *    equal to the input when the input was valid UTF-8;
 *  - base64 of any bytes decodes back to them. */
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/json.h"
#include "proto/utf8_repair.h"

static void write_tree(struct pw_buf *b, const struct pw_json *v)
{
    switch (pw_json_type(v)) {
    case PW_JSON_NULL: pw_json_null(b); break;
    case PW_JSON_BOOL: { int x = 0; pw_json_boolean(v, &x); pw_json_bool(b, x); break; }
    case PW_JSON_NUMBER: {
        int64_t i;
        double d;
        if (pw_json_int64(v, &i) == 0) pw_json_int(b, i);
        else { pw_json_number(v, &d); pw_json_num(b, d); }
        break;
    }
    case PW_JSON_STRING: { size_t n; const char *s = pw_json_string(v, &n); pw_json_str(b, s, n); break; }
    case PW_JSON_ARRAY:
    case PW_JSON_OBJECT: {
        int obj = pw_json_type(v) == PW_JSON_OBJECT;
        pw_json_begin(b, obj ? '{' : '[');
        for (size_t i = 0; i < pw_json_len(v); i++) {
            const struct pw_json *k = pw_json_at(v, i);
            pw_json_sep(b);
            if (obj) {
                size_t kl;
                const char *kn = pw_json_name(k, &kl);
                pw_json_str(b, kn, kl);
                pw_buf_putc(b, ':');
            }
            write_tree(b, k);
        }
        pw_json_end(b, obj ? '}' : ']');
        break;
    }
    default: abort();
    }
}

static int same(const struct pw_json *a, const struct pw_json *b)
{
    double inf;
    if (pw_json_number(a, &inf) == 0 && inf - inf != 0) /* overflowed to inf: written as null */
        return pw_json_is_null(b);
    if (pw_json_type(a) != pw_json_type(b))
        return 0;
    size_t la, lb;
    const char *sa, *sb;
    switch (pw_json_type(a)) {
    case PW_JSON_STRING:
        sa = pw_json_string(a, &la);
        sb = pw_json_string(b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    case PW_JSON_NUMBER: {
        double x, y;
        int64_t i, j;
        pw_json_number(a, &x);
        pw_json_number(b, &y);
        if (pw_json_int64(a, &i) == 0)
            return pw_json_int64(b, &j) == 0 && i == j;
        return x == y;
    }
    case PW_JSON_BOOL: {
        int x, y;
        pw_json_boolean(a, &x);
        pw_json_boolean(b, &y);
        return x == y;
    }
    case PW_JSON_ARRAY:
    case PW_JSON_OBJECT:
        if (pw_json_len(a) != pw_json_len(b))
            return 0;
        for (size_t i = 0; i < pw_json_len(a); i++) {
            sa = pw_json_name(pw_json_at(a, i), &la);
            sb = pw_json_name(pw_json_at(b, i), &lb);
            if ((sa == NULL) != (sb == NULL) || (sa && (la != lb || memcmp(sa, sb, la))))
                return 0;
            if (!same(pw_json_at(a, i), pw_json_at(b, i)))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct pw_json_limits lim = PW_JSON_LIMITS_DEFAULT;
    uint8_t sel = data[0];
    if (sel & 1) {
        lim.max_depth = 1 + (sel >> 1 & 7);
        lim.max_values = 1 + (sel >> 4) * 4;
        lim.max_size = 1 + (size_t)sel * 16;
    }
    data++, size--;

    struct pw_json *r = NULL;
    size_t at = 0;
    int rc = pw_json_parse(data, size, &lim, &r, &at);
    if (rc == 0) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        write_tree(&b, r);
        struct pw_json *r2 = NULL;
        int rc2 = pw_json_parse(b.p, b.len, NULL, &r2, NULL);
        if (rc2 != 0 || !same(r, r2))
            abort();
        pw_json_free(r2);
        pw_buf_free(&b);
        pw_json_free(r);
    } else {
        if (r != NULL || rc >= 0 || at > size)
            abort();
    }

    struct pw_buf b;
    pw_buf_init(&b, 0);
    if (pw_json_str(&b, data, size) != 0)
        abort();
    struct pw_json_limits big = {SIZE_MAX, 4, 4};
    if (pw_json_parse(b.p, b.len, &big, &r, NULL) != 0)
        abort();
    size_t n;
    const char *s = pw_json_string(r, &n);
    if (!s || pw__u8_valid_prefix((const uint8_t *)s, n) != n)
        abort();
    if (pw__u8_valid_prefix(data, size) == size && (n != size || memcmp(s, data, n)))
        abort();
    pw_json_free(r);

    pw_buf_reset(&b);
    pw_json_b64(&b, data, size);
    struct pw_buf d;
    pw_buf_init(&d, 0);
    if (pw_base64_decode_append(&d, (char *)b.p + 1, b.len - 2) != 0 || d.len != size || (size && memcmp(d.p, data, size)))
        abort();
    pw_buf_free(&d);
    pw_buf_free(&b);
    return 0;
}
