/* test_base64.c — the one base64 (RFC 4648 §4): vectors, strict decoding,
 * buffers and caps. */
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "tap.h"

/* One RFC 4648 §10 vector through every entry point. */
static void vector(const char *in, const char *want)
{
    size_t n = strlen(in), wl = strlen(want);
    char out[32];
    IS(pw_base64_len(n), wl, "len: %zu bytes -> %zu characters", n, wl);
    size_t k = pw_base64((const uint8_t *)in, n, out, sizeof out);
    OK(k == wl && strcmp(out, want) == 0, "encode: \"%s\" -> \"%s\"", in, want);
    struct pw_buf b;
    pw_buf_init(&b, 0);
    OK(pw_base64_append(&b, in, n) == 0 && b.len == wl && (wl == 0 || memcmp(b.p, want, wl) == 0),
       "append: \"%s\" -> \"%s\"", in, want);
    uint8_t dec[16];
    ssize_t d = pw_base64_decode(want, wl, dec, sizeof dec);
    OK(d == (ssize_t)n && memcmp(dec, in, n) == 0, "decode: \"%s\" -> \"%s\"", want, in);
    IS(pw_base64_decode(want, wl, NULL, 0), n, "validate: \"%s\" is %zu bytes", want, n);
    b.len = 0;
    OK(pw_base64_decode_append(&b, want, wl) == 0 && b.len == n && (n == 0 || memcmp(b.p, in, n) == 0),
       "decode_append: \"%s\" -> \"%s\"", want, in);
    pw_buf_free(&b);
}

static void test_vectors(void)
{
    vector("", "");
    vector("f", "Zg==");
    vector("fo", "Zm8=");
    vector("foo", "Zm9v");
    vector("foob", "Zm9vYg==");
    vector("fooba", "Zm9vYmE=");
    vector("foobar", "Zm9vYmFy");
    char out[8];
    OK(pw_base64((const uint8_t *)"\xfb\xff", 2, out, sizeof out) == 4 && strcmp(out, "+/8=") == 0,
       "encode: the last two letters of the alphabet are + and /");
}

/* s with a newline shown as \n, for a test name */
static const char *shown(const char *s)
{
    static char b[64];
    size_t k = 0;
    for (; *s && k + 3 < sizeof b; s++) {
        if (*s == '\n')
            b[k++] = '\\', b[k++] = 'n';
        else
            b[k++] = *s;
    }
    b[k] = 0;
    return b;
}

/* Strict: every spelling but the canonical one is refused. */
static void test_strict(void)
{
    static const char *const bad[] = {
        "Zg=",      /* length not a multiple of 4 */
        "Zg",       /* padding missing */
        "Z===",     /* three pad characters */
        "Zm9v!A==", /* not in the alphabet */
        "Zh==",     /* bits under the padding not zero */
        "Zm9=",     /* the same with one pad */
        "Zg==Zg==", /* padding in the middle */
        "=Zg=",     /* padding first */
        "Zm 9v",    /* whitespace */
        "Zm9v\n",   /* a newline */
        "Zm-_",     /* URL-safe alphabet */
        "====",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        uint8_t out[16];
        IS(pw_base64_decode(bad[i], n, out, sizeof out), PW_EBASE64, "strict: \"%s\" refused", shown(bad[i]));
        struct pw_buf b;
        pw_buf_init(&b, 0);
        pw_buf_append(&b, "x", 1);
        int rc = pw_base64_decode_append(&b, bad[i], n);
        OK(rc == PW_EBASE64 && b.len == 1, "strict: \"%s\" refused, buffer unchanged", shown(bad[i]));
        pw_buf_free(&b);
    }
    STREQ(pw_errrule(PW_EBASE64), "RFC 4648 §4", "the error names RFC 4648 §4");
}

static void test_limits(void)
{
    char small[8];
    IS(pw_base64((const uint8_t *)"foob", 4, small, 8), 0, "encode: no room for the NUL gives 0");
    STREQ(small, "", "encode: ... and an empty string");
    uint8_t out[2];
    IS(pw_base64_decode("Zm9v", 4, out, sizeof out), PW_ETOOBIG, "decode: a short output is PW_ETOOBIG");
    struct pw_buf b;
    pw_buf_init(&b, 10);
    pw_buf_append(&b, "abc", 3);
    IS(pw_base64_append(&b, "foobar", 6), PW_ETOOBIG, "append: past the cap is PW_ETOOBIG");
    IS(b.len, 3, "append: ... and the buffer is unchanged");
    IS(pw_base64_decode_append(&b, "Zm9vYmFyZm9vYmFy", 16), PW_ETOOBIG, "decode_append: past the cap");
    IS(b.len, 3, "decode_append: ... buffer unchanged");
    IS(pw_base64_decode_append(&b, "Zm9vYmFyZg==", 12), 0, "decode_append: up to the cap exactly (padding)");
    IS(b.len, 10, "decode_append: ... 7 bytes more");
    IS(pw_base64_decode("Zm9vYg==", 8, out, sizeof out), PW_ETOOBIG, "decode: 4 bytes do not fit 2");
    uint8_t four[4];
    IS(pw_base64_decode("Zm9vYg==", 8, four, sizeof four), 4, "decode: they fit 4 exactly");
    pw_buf_free(&b);
}

/* Every byte value, many lengths: decode(encode(x)) == x and the
 * encoding is the only one accepted for x. */
static void test_roundtrip(void)
{
    size_t n = 3 * 16384 + 7;
    uint8_t *raw = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(i * 131 + 7);
    int ok = 1;
    struct pw_buf b;
    pw_buf_init(&b, 0);
    for (size_t len = 0; len < 300 && ok; len++) {
        b.len = 0;
        ok = pw_base64_append(&b, raw, len) == 0 &&
             pw_base64_decode((char *)b.p, b.len, back, n) == (ssize_t)len && memcmp(back, raw, len) == 0;
    }
    OK(ok, "round trip: lengths 0..299");
    b.len = 0;
    ok = pw_base64_append(&b, raw, n) == 0 && pw_base64_decode((char *)b.p, b.len, back, n) == (ssize_t)n &&
         memcmp(back, raw, n) == 0;
    OK(ok, "round trip: %zu bytes", n);
    pw_buf_free(&b);
    free(raw);
    free(back);
}

/* base64url (RFC 4648 §5), unpadded as JOSE writes it. */
static int url_dec(const char *s, struct pw_buf *b)
{
    b->len = 0;
    return pw_base64url_decode_append(b, s, strlen(s));
}

static void test_url(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    static const uint8_t odd[] = {0xfb, 0xff, 0xbf};
    OK(pw_base64url_append(&b, odd, 3) == 0 && b.len == 4 && memcmp(b.p, "-_-_", 4) == 0,
       "url: fb ff bf -> -_-_ (the URL-safe characters)");
    b.len = 0;
    OK(pw_base64url_append(&b, "f", 1) == 0 && b.len == 2 && memcmp(b.p, "Zg", 2) == 0, "url: f -> Zg, no padding");
    b.len = 0;
    OK(pw_base64url_append(&b, "fo", 2) == 0 && b.len == 3 && memcmp(b.p, "Zm8", 3) == 0, "url: fo -> Zm8");
    OK(url_dec("-_-_", &b) == 0 && b.len == 3 && memcmp(b.p, odd, 3) == 0, "url: -_-_ decodes");
    OK(url_dec("Zg", &b) == 0 && b.len == 1 && b.p[0] == 'f', "url: Zg -> f");
    OK(url_dec("Zm8", &b) == 0 && b.len == 2 && memcmp(b.p, "fo", 2) == 0, "url: Zm8 -> fo");
    OK(url_dec("", &b) == 0 && b.len == 0, "url: empty is empty");
    IS(url_dec("Zg==", &b), PW_EBASE64, "url: padding is refused");
    IS(url_dec("+/+/", &b), PW_EBASE64, "url: the standard alphabet's + and / are refused");
    IS(url_dec("Zm9vY", &b), PW_EBASE64, "url: a length of 4k+1 is refused");
    IS(url_dec("Zh", &b), PW_EBASE64, "url: non-zero trailing bits are refused (canonical)");
    IS(url_dec("Zm 8", &b), PW_EBASE64, "url: whitespace is refused");
    struct pw_buf small;
    pw_buf_init(&small, 2);
    OK(pw_base64url_decode_append(&small, "Zm9v", 4) == PW_ETOOBIG && small.len == 0,
       "url: a cap too small is PW_ETOOBIG, the buffer unchanged");
    pw_buf_free(&small);
    for (size_t n = 0; n < 40; n++) {
        uint8_t in[40];
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(i * 37 + n);
        struct pw_buf e;
        pw_buf_init(&e, 0);
        int ok = pw_base64url_append(&e, in, n) == 0;
        b.len = 0;
        ok = ok && pw_base64url_decode_append(&b, e.p ? (const char *)e.p : "", e.len) == 0 && b.len == n &&
             (n == 0 || memcmp(b.p, in, n) == 0);
        pw_buf_free(&e);
        if (!ok || n == 39)
            OK(ok, "url: round trip of 0..39 bytes (stopped at %zu)", n);
        if (!ok)
            break;
    }
    pw_buf_free(&b);
}

int main(void)
{
    test_url();
    test_vectors();
    test_strict();
    test_limits();
    test_roundtrip();
    return tap_done();
}
