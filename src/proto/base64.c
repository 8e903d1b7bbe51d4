/* base64.c — see base64.h. */
#include "base64.h"

#include <string.h>

static const char pw__b64abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t pw_base64_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    return groups > SIZE_MAX / 4 ? 0 : groups * 4;
}

/* The encoding of n bytes into out (pw_base64_len(n) bytes of room). */
static void pw__b64enc(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3, out += 4) {
        uint32_t w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[0] = pw__b64abc[w >> 18];
        out[1] = pw__b64abc[w >> 12 & 63];
        out[2] = pw__b64abc[w >> 6 & 63];
        out[3] = pw__b64abc[w & 63];
    }
    if (i < n) {
        uint32_t w = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[0] = pw__b64abc[w >> 18];
        out[1] = pw__b64abc[w >> 12 & 63];
        out[2] = i + 1 < n ? pw__b64abc[w >> 6 & 63] : '=';
        out[3] = '=';
    }
}

size_t pw_base64(const uint8_t *in, size_t n, char *out, size_t outsz)
{
    size_t len = pw_base64_len(n);
    if ((n && !len) || outsz < len + 1) {
        if (outsz)
            out[0] = 0;
        return 0;
    }
    pw__b64enc(in, n, out);
    out[len] = 0;
    return len;
}

int pw_base64_append(struct pw_buf *b, const void *in, size_t n)
{
    size_t len = pw_base64_len(n);
    if (n == 0)
        return 0;
    if (!len)
        return PW_ETOOBIG;
    int rc = pw_buf_reserve(b, len);
    if (rc)
        return rc;
    pw__b64enc(in, n, (char *)b->p + b->len);
    b->len += len;
    return 0;
}

/* 1 + the value of each base64 character; 0 for every other byte (and all
 * bytes >= 128, which the table does not reach) */
static const uint8_t pw__b64v[128] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0,  0,  0, 64,
    53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0,  0,  0,  0,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0,  0,
     0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
    42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
};

static uint32_t pw__v(uint8_t c) { return c < 128 ? pw__b64v[c] : 0; }

/* Decodes s[0..n) into out (NULL: only checks), in one pass.  Returns the
 * number of bytes or PW_EBASE64; out holds garbage after an error. */
static ssize_t pw__b64run(const uint8_t *s, size_t n, uint8_t *out)
{
    if (n % 4)
        return PW_EBASE64;
    size_t pad = n && s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    size_t whole = pad ? n - 4 : n, o = 0;
    uint32_t bad = 0;
    for (size_t i = 0; i < whole; i += 4, o += 3) {
        uint32_t a = pw__v(s[i]), b = pw__v(s[i + 1]), c = pw__v(s[i + 2]), d = pw__v(s[i + 3]);
        bad |= (a == 0) | (b == 0) | (c == 0) | (d == 0);
        uint32_t w = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        if (out) {
            out[o] = (uint8_t)(w >> 16);
            out[o + 1] = (uint8_t)(w >> 8);
            out[o + 2] = (uint8_t)w;
        }
    }
    if (!pad)
        return bad ? PW_EBASE64 : (ssize_t)o;
    /* the last group: 2 or 3 characters, then the padding */
    const uint8_t *g = s + whole;
    uint32_t a = pw__v(g[0]), b = pw__v(g[1]), c = pad == 1 ? pw__v(g[2]) : 1;
    bad |= (a == 0) | (b == 0) | (c == 0);
    uint32_t w = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6;
    /* canonical: the bits the padding drops must be zero */
    if (bad || (w & (pad == 2 ? 0xffff : 0xff)))
        return PW_EBASE64;
    if (out) {
        out[o] = (uint8_t)(w >> 16);
        if (pad == 1)
            out[o + 1] = (uint8_t)(w >> 8);
    }
    return (ssize_t)(o + 3 - pad);
}

ssize_t pw_base64_decode(const char *s, size_t n, uint8_t *out, size_t outsz)
{
    if (out && n / 4 * 3 > outsz) {
        /* maybe padding makes it fit: check the exact length first */
        ssize_t len = pw__b64run((const uint8_t *)s, n, NULL);
        if (len < 0 || (size_t)len > outsz)
            return len < 0 ? len : PW_ETOOBIG;
    }
    return pw__b64run((const uint8_t *)s, n, out);
}

int pw_base64_decode_append(struct pw_buf *b, const char *s, size_t n)
{
    if (n % 4 || n == 0)
        return n ? PW_EBASE64 : 0;
    /* room for the bound, or (near the buffer's cap) the exact length */
    if (pw_buf_reserve(b, n / 4 * 3)) {
        ssize_t len = pw__b64run((const uint8_t *)s, n, NULL);
        int rc = len < 0 ? (int)len : pw_buf_reserve(b, (size_t)len);
        if (rc)
            return rc;
    }
    ssize_t len = pw__b64run((const uint8_t *)s, n, b->p + b->len);
    if (len < 0)
        return (int)len;
    b->len += (size_t)len;
    return 0;
}

/* ---- base64url (RFC 4648 §5), unpadded ---- */

int pw_base64url_append(struct pw_buf *b, const void *in, size_t n)
{
    size_t at = b->len;
    int rc = pw_base64_append(b, in, n);
    if (rc)
        return rc;
    for (size_t i = at; i < b->len; i++) {
        if (b->p[i] == '+')
            b->p[i] = '-';
        else if (b->p[i] == '/')
            b->p[i] = '_';
        else if (b->p[i] == '=') {
            b->len = i; /* padding comes last */
            break;
        }
    }
    return 0;
}

/* One character of the URL-safe alphabet as the standard one spells it;
 * '!' (never valid) for the standard alphabet's own '+', '/' and '='. */
static uint8_t pw__url2std(char c)
{
    return c == '-' ? '+' : c == '_' ? '/' : c == '+' || c == '/' || c == '=' ? '!' : (uint8_t)c;
}

int pw_base64url_decode_append(struct pw_buf *b, const char *s, size_t n)
{
    if (n % 4 == 1)
        return PW_EBASE64;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    int rc = pw_buf_reserve(b, need);
    if (rc)
        return rc;
    size_t o = b->len;
    for (size_t i = 0; i < n; i += 4) {
        uint8_t g[4] = {'=', '=', '=', '='};
        size_t k = n - i < 4 ? n - i : 4;
        for (size_t j = 0; j < k; j++)
            g[j] = pw__url2std(s[i + j]);
        ssize_t r = pw__b64run(g, 4, b->p + o);
        if (r < 0)
            return (int)r; /* b->len is unchanged: the bytes past it do not count */
        o += (size_t)r;
    }
    b->len = o;
    return 0;
}
