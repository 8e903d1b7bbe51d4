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
    if (n && !len)
        return PW_ETOOBIG;
    int rc = pw_buf_reserve(b, len);
    if (rc)
        return rc;
    pw__b64enc(in, n, (char *)b->p + b->len);
    b->len += len;
    return 0;
}

static int pw__b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Checks s[0..n) and returns the decoded length, or PW_EBASE64. */
static ssize_t pw__b64check(const uint8_t *s, size_t n)
{
    if (n % 4)
        return PW_EBASE64;
    size_t pad = n && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
    for (size_t i = 0; i < n - pad; i++)
        if (pw__b64val(s[i]) < 0)
            return PW_EBASE64;
    /* the bits the padding leaves unused must be zero (canonical form) */
    if (pad && (pw__b64val(s[n - pad - 1]) & (pad == 2 ? 0x0f : 0x03)))
        return PW_EBASE64;
    return (ssize_t)(n / 4 * 3 - pad);
}

/* Decodes checked input: out has room for the decoded length. */
static void pw__b64dec(const uint8_t *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w = 0;
        int k = 0;
        for (; k < 4 && s[i + k] != '='; k++)
            w |= (uint32_t)pw__b64val(s[i + k]) << (18 - 6 * k);
        *out++ = (uint8_t)(w >> 16);
        if (k > 2)
            *out++ = (uint8_t)(w >> 8);
        if (k > 3)
            *out++ = (uint8_t)w;
    }
}

ssize_t pw_base64_decode(const char *s, size_t n, uint8_t *out, size_t outsz)
{
    ssize_t len = pw__b64check((const uint8_t *)s, n);
    if (len < 0 || !out)
        return len;
    if ((size_t)len > outsz)
        return PW_ETOOBIG;
    pw__b64dec((const uint8_t *)s, n, out);
    return len;
}

int pw_base64_decode_append(struct pw_buf *b, const char *s, size_t n)
{
    ssize_t len = pw__b64check((const uint8_t *)s, n);
    if (len < 0)
        return (int)len;
    int rc = pw_buf_reserve(b, (size_t)len);
    if (rc)
        return rc;
    pw__b64dec((const uint8_t *)s, n, b->p + b->len);
    b->len += (size_t)len;
    return 0;
}
