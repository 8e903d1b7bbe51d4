/* fuzz_auth.c — access control's parsers (auth.h) and JWT verification
 * (jwt.h).  Byte 0 picks the target (low 3 bits); the rest is the input,
 * split at the first NUL where a target takes two strings.  Invariants:
 *  - glob: a pattern without wildcards matches exactly itself; "*" and the
 *    name followed by "*" match the name;
 *  - origin: a pattern that checks and has no "*." matches itself;
 *  - cidr: a parsed block contains its own first address, and an address
 *    formats and parses back to itself;
 *  - xff: the walk returns garbage or a count no larger than the entries;
 *  - jwt: a token is accepted by no key that did not sign it; a token the
 *    harness signed (header and payload from the input) ends in 0 or a
 *    PW_EJWT_* code, never another, and what it allows can be asked;
 *  - redact: the output is NUL-terminated, fits, and redacting twice
 *    changes nothing more;
 *  - bucket: never more tokens than the burst, never fewer than none. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/auth.h"
#include "proto/base64.h"
#include "proto/jwt.h"

static const char SECRET[] = "fuzz-secret-fuzz-secret-fuzz-secret!";

static void check(int ok)
{
    if (!ok)
        abort();
}

static void split(const uint8_t *d, size_t n, const char **a, size_t *an, const char **b, size_t *bn)
{
    const uint8_t *z = memchr(d, 0, n);
    *a = (const char *)d;
    *an = z ? (size_t)(z - d) : n;
    *b = z ? (const char *)z + 1 : "";
    *bn = z ? n - *an - 1 : 0;
}

static void f_glob(const uint8_t *d, size_t n)
{
    const char *p, *s;
    size_t pn, sn;
    split(d, n, &p, &pn, &s, &sn);
    pw_glob_match(p, pn, s, sn);
    if (!memchr(s, '*', sn) && !memchr(s, '?', sn))
        check(pw_glob_match(s, sn, s, sn));
    check(pw_glob_match("*", 1, s, sn));
    char *ps = malloc(sn + 2);
    memcpy(ps, s, sn);
    ps[sn] = '*';
    check(memchr(s, '?', sn) || memchr(s, '*', sn) || pw_glob_match(ps, sn + 1, s, sn));
    free(ps);
}

static void f_origin(const uint8_t *d, size_t n)
{
    const char *p, *o;
    size_t pn, on;
    split(d, n, &p, &pn, &o, &on);
    pw_origin_match(p, pn, o, on);
    if (pw_origin_pattern_check(p, pn) == 0 && !memmem(p, pn, "*.", 2))
        check(pw_origin_match(p, pn, p, pn));
}

static void f_cidr(const uint8_t *d, size_t n)
{
    struct pw_cidr c;
    if (pw_cidr_parse((const char *)d, n, &c) == 0)
        check(pw_cidr_match(&c, c.addr));
    uint8_t a[16], b[16];
    char txt[64];
    if (pw_ip_parse((const char *)d, n, a) == 0) {
        pw_ip_format(a, txt, sizeof txt);
        check(pw_ip_parse(txt, strlen(txt), b) == 0 && memcmp(a, b, 16) == 0);
    }
}

static void f_xff(const uint8_t *d, size_t n)
{
    struct pw_http_header h[8];
    size_t nh = 0, entries = 0;
    const char *p = (const char *)d, *end = p + n;
    while (p < end && nh < 8) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        h[nh++] = (struct pw_http_header){{"X-Forwarded-For", 15}, {p, len}};
        entries += 1;
        for (size_t i = 0; i < len; i++)
            entries += p[i] == ',';
        p += len + 1;
    }
    struct pw_cidr t[2];
    pw_cidr_parse("10.0.0.0/8", 10, &t[0]);
    pw_cidr_parse("::/0", 4, &t[1]);
    uint8_t peer[16], out[16];
    pw_ip_parse("10.0.0.1", 8, peer);
    int r = pw_xff_client(h, nh, peer, t, n && (d[0] & 1) ? 2 : 1, out);
    check(r == PW_EAUTH_XFF || (r >= 0 && (size_t)r <= entries));
}

static struct pw_jwt_key *key(void)
{
    static struct pw_jwt_key *k;
    if (!k && pw_jwt_key_new(SECRET, sizeof SECRET - 1, &k, NULL, 0))
        abort();
    return k;
}

static void f_jwt(const uint8_t *d, size_t n)
{
    struct pw_jwt j;
    int rc = pw_jwt_verify(key(), (const char *)d, n, 1e9, n & 1 ? "aud" : NULL, &j);
    check(rc != 0); /* nothing the fuzzer writes carries a valid HMAC */
    check(rc == PW_ENOMEM || (rc <= -1000 && rc >= -1049));
    pw_jwt_free(&j);
}

static void f_jwt_signed(const uint8_t *d, size_t n)
{
    const char *h, *p;
    size_t hn, pn;
    split(d, n, &h, &hn, &p, &pn);
    struct pw_buf b;
    pw_buf_init(&b, 4 * PW_JWT_MAX);
    pw_base64url_append(&b, h, hn);
    pw_buf_putc(&b, '.');
    pw_base64url_append(&b, p, pn);
    size_t signed_len = b.len;
    pw_buf_putc(&b, '.');
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned ml = 0;
    HMAC(EVP_sha256(), SECRET, (int)sizeof SECRET - 1, b.p, signed_len, mac, &ml);
    pw_base64url_append(&b, mac, ml);
    struct pw_jwt j;
    int rc = pw_jwt_verify(key(), (const char *)b.p, b.len, 1e9, pn & 1 ? "aud" : NULL, &j);
    check(rc == 0 || rc == PW_ENOMEM || (rc <= -1000 && rc >= -1049));
    check(rc != PW_EJWT_SIG);
    if (rc == 0) {
        pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, "news.a", 6);
        pw_jwt_allows(&j, PW_JWT_PUBLISH, "x", 1);
    }
    pw_jwt_free(&j);
    pw_buf_free(&b);
}

static void f_redact(const uint8_t *d, size_t n)
{
    char out[256], again[256];
    size_t k = pw_redact_query((const char *)d, n, "token", out, sizeof out);
    check(k < sizeof out && out[k] == 0);
    if (k < sizeof out - 1 && !memchr(d, 0, n)) {
        size_t k2 = pw_redact_query(out, k, "token", again, sizeof again);
        check(k2 == k && memcmp(out, again, k) == 0);
    }
}

static void f_bucket(const uint8_t *d, size_t n)
{
    struct pw_bucket b = {0};
    uint64_t now = 1;
    double rate = (d[0] >> 3) / 4.0, burst = (d[0] >> 3) + 1;
    for (size_t i = 1; i < n; i++) {
        now += d[i] * 7u;
        pw_bucket_take(&b, rate, burst, now, NULL);
        check(b.tokens >= 0 && b.tokens <= burst);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static void (*const fn[8])(const uint8_t *, size_t) = {f_glob,       f_origin, f_cidr,   f_xff,
                                                           f_jwt,        f_jwt_signed, f_redact, f_bucket};
    if ((data[0] & 7) == 7) {
        f_bucket(data, size);
        return 0;
    }
    fn[data[0] & 7](data + 1, size - 1);
    return 0;
}
