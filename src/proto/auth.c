/* auth.c — see auth.h. */
#include "auth.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* ---- globs ---- */

int pw_glob_match(const char *pat, size_t plen, const char *s, size_t n)
{
    size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;
    while (i < n) {
        if (p < plen && pat[p] == '*') {
            star = p++; /* remember it: on a mismatch, let it take one more */
            mark = i;
        } else if (p < plen && (pat[p] == '?' || pat[p] == s[i])) {
            p++;
            i++;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            i = ++mark;
        } else
            return 0;
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

/* ---- origins ---- */

static int pw__alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int pw__digit(char c) { return c >= '0' && c <= '9'; }
static int pw__label(char c) { return pw__alpha(c) || pw__digit(c) || c == '-' || c == '_'; }

/* Length of "scheme://" at the start of s, or 0. */
static size_t pw__scheme(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !pw__alpha(s[0]))
        return 0;
    while (i < n && (pw__alpha(s[i]) || pw__digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return n - i >= 3 && memcmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

/* 1 if s[0..n) is a host (dotted labels, or a bracketed IPv6 address)
 * followed by an optional :port of 1-5 digits. */
static int pw__hostport(const char *s, size_t n)
{
    size_t i = 0;
    if (n && s[0] == '[') {
        while (i < n && s[i] != ']')
            i++;
        uint8_t a[16];
        if (i == n || pw_ip_parse(s, i + 1, a))
            return 0;
        i++;
    } else {
        size_t label = 0;
        for (; i < n && s[i] != ':'; i++) {
            if (s[i] == '.') {
                if (label == 0)
                    return 0;
                label = 0;
            } else if (pw__label(s[i]))
                label++;
            else
                return 0;
        }
        if (label == 0)
            return 0; /* empty host, empty last label or a trailing dot */
    }
    if (i == n)
        return 1;
    if (s[i] != ':' || n - i < 2 || n - i > 6)
        return 0;
    for (i++; i < n; i++)
        if (!pw__digit(s[i]))
            return 0;
    return 1;
}

int pw_origin_pattern_check(const char *pat, size_t n)
{
    if (n == 4 && memcmp(pat, "null", 4) == 0)
        return 0;
    if (n > PW_ORIGIN_MAX)
        return PW_EAUTH_ORIGIN;
    size_t sch = pw__scheme(pat, n);
    if (!sch)
        return PW_EAUTH_ORIGIN;
    const char *h = pat + sch;
    size_t hn = n - sch;
    if (hn >= 2 && h[0] == '*' && h[1] == '.') {
        h += 2;
        hn -= 2;
        if (hn && h[0] == '[')
            return PW_EAUTH_ORIGIN; /* no subdomains of an address */
    }
    return pw__hostport(h, hn) ? 0 : PW_EAUTH_ORIGIN;
}

int pw_origin_match(const char *pat, size_t plen, const char *o, size_t n)
{
    size_t sch = pw__scheme(pat, plen);
    if (!sch || plen - sch < 2 || pat[sch] != '*' || pat[sch + 1] != '.')
        return plen == n && strncasecmp(pat, o, n) == 0;
    /* "scheme://" + one or more labels + ".rest[:port]" */
    const char *suf = pat + sch + 1; /* ".rest[:port]" */
    size_t sn = plen - sch - 1;
    if (n <= sch + sn || strncasecmp(pat, o, sch) != 0 || strncasecmp(o + n - sn, suf, sn) != 0)
        return 0;
    const char *mid = o + sch;
    size_t mn = n - sch - sn;
    if (mid[0] == '.' || mid[mn - 1] == '.')
        return 0;
    for (size_t i = 0; i < mn; i++)
        if (!pw__label(mid[i]) && !(mid[i] == '.' && mid[i + 1] != '.'))
            return 0;
    return 1;
}

/* ---- tokens ---- */

int pw_token_check(const char *t, size_t n)
{
    if (n < 1 || n > PW_TOKEN_MAX)
        return PW_EAUTH_TOKEN;
    size_t i = 0;
    while (i < n && (pw__alpha(t[i]) || pw__digit(t[i]) || strchr("-._~+/", t[i]) != NULL) && t[i])
        i++;
    if (i == 0)
        return PW_EAUTH_TOKEN;
    while (i < n && t[i] == '=')
        i++;
    return i == n ? 0 : PW_EAUTH_TOKEN;
}

int pw_token_eq(const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
    unsigned la = 0, lb = 0;
    if (!EVP_Digest(a, alen, da, &la, EVP_sha256(), NULL) ||
        !EVP_Digest(b, blen, db, &lb, EVP_sha256(), NULL) || la != lb)
        return 0;
    return CRYPTO_memcmp(da, db, la) == 0;
}

/* ---- addresses ---- */

static const uint8_t pw__v4prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int pw_ip_is_v4(const uint8_t a[16])
{
    return memcmp(a, pw__v4prefix, 12) == 0;
}

int pw_ip_parse(const char *s, size_t n, uint8_t out[16])
{
    char tmp[64];
    int v6only = 0;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
        v6only = 1;
    }
    if (n == 0 || n >= sizeof tmp || memchr(s, 0, n))
        return PW_EAUTH_ADDR;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (!v6only && inet_pton(AF_INET, tmp, out + 12) == 1) {
        memcpy(out, pw__v4prefix, 12);
        return 0;
    }
    return inet_pton(AF_INET6, tmp, out) == 1 ? 0 : PW_EAUTH_ADDR;
}

void pw_ip_format(const uint8_t a[16], char *out, size_t outsz)
{
    char tmp[INET6_ADDRSTRLEN];
    const char *r = pw_ip_is_v4(a) ? inet_ntop(AF_INET, a + 12, tmp, sizeof tmp)
                                   : inet_ntop(AF_INET6, a, tmp, sizeof tmp);
    if (outsz)
        snprintf(out, outsz, "%s", r ? r : "?");
}

int pw_cidr_parse(const char *s, size_t n, struct pw_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    if (an == 0 || (an && s[0] == '[') || pw_ip_parse(s, an, out->addr))
        return PW_EAUTH_CIDR;
    unsigned max = pw_ip_is_v4(out->addr) ? 32 : 128, bits = max;
    if (slash) {
        size_t dn = n - an - 1;
        if (dn < 1 || dn > 3)
            return PW_EAUTH_CIDR;
        bits = 0;
        for (size_t i = 0; i < dn; i++) {
            if (!pw__digit(slash[1 + i]))
                return PW_EAUTH_CIDR;
            bits = bits * 10 + (unsigned)(slash[1 + i] - '0');
        }
        if (bits > max)
            return PW_EAUTH_CIDR;
    }
    out->bits = (uint8_t)(bits + (128 - max));
    for (unsigned i = out->bits; i < 128; i++) /* clear host bits */
        out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    return 0;
}

int pw_cidr_match(const struct pw_cidr *c, const uint8_t a[16])
{
    unsigned whole = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, whole) != 0)
        return 0;
    if (!rest)
        return 1;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (c->addr[whole] & mask) == (a[whole] & mask);
}

int pw_cidr_any(const struct pw_cidr *c, size_t n, const uint8_t a[16])
{
    for (size_t i = 0; i < n; i++)
        if (pw_cidr_match(&c[i], a))
            return 1;
    return 0;
}

/* ---- X-Forwarded-For ---- */

/* One list entry: "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]",
 * "[2001:db8::1]:80". */
static int pw__xff_entry(const char *s, size_t n, uint8_t out[16])
{
    while (n && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n && s[0] == '[') {
        const char *end = memchr(s, ']', n);
        if (!end)
            return PW_EAUTH_XFF;
        size_t k = (size_t)(end - s) + 1;
        if (k < n && (s[k] != ':' || n - k < 2 || n - k > 6))
            return PW_EAUTH_XFF;
        for (size_t i = k + 1; i < n; i++)
            if (!pw__digit(s[i]))
                return PW_EAUTH_XFF;
        return pw_ip_parse(s, k, out) ? PW_EAUTH_XFF : 0;
    }
    const char *colon = memchr(s, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
        /* one colon: IPv4 with a port */
        for (const char *p = colon + 1; p < s + n; p++)
            if (!pw__digit(*p))
                return PW_EAUTH_XFF;
        if (s + n - colon < 2 || s + n - colon > 6 || pw_ip_parse(s, (size_t)(colon - s), out) ||
            !pw_ip_is_v4(out))
            return PW_EAUTH_XFF;
        return 0;
    }
    return pw_ip_parse(s, n, out) ? PW_EAUTH_XFF : 0;
}

int pw_xff_client(const struct pw_http_header *h, size_t nh, const uint8_t peer[16],
                  const struct pw_cidr *trusted, size_t ntrusted, uint8_t out[16])
{
    uint8_t cur[16];
    int used = 0;
    memcpy(cur, peer, 16);
    for (size_t k = nh; k-- > 0;) {
        if (!pw_str_ieq(h[k].name, "X-Forwarded-For"))
            continue;
        const char *v = h[k].value.p;
        size_t end = h[k].value.len;
        for (;;) {
            if (!pw_cidr_any(trusted, ntrusted, cur))
                goto done;
            size_t start = end;
            while (start > 0 && v[start - 1] != ',')
                start--;
            uint8_t a[16];
            if (pw__xff_entry(v + start, end - start, a)) {
                memcpy(out, cur, 16);
                return PW_EAUTH_XFF;
            }
            memcpy(cur, a, 16);
            used++;
            if (start == 0)
                break;
            end = start - 1;
        }
    }
done:
    memcpy(out, cur, 16);
    return used;
}

/* ---- token buckets ---- */

static double pw__bucket_now(const struct pw_bucket *b, double rate, double burst, uint64_t now)
{
    if (!b->at)
        return burst;
    double t = b->tokens + (now > b->at ? (double)(now - b->at) * rate / 1000.0 : 0);
    return t > burst ? burst : t;
}

int pw_bucket_take(struct pw_bucket *b, double rate, double burst, uint64_t now_ms, unsigned *retry_s)
{
    if (rate <= 0)
        return 1;
    if (burst < 1)
        burst = 1;
    double t = pw__bucket_now(b, rate, burst, now_ms);
    b->at = now_ms ? now_ms : 1;
    if (t >= 1) {
        b->tokens = (float)(t - 1);
        return 1;
    }
    b->tokens = (float)t;
    if (retry_s) {
        double s = ceil((1 - t) / rate);
        *retry_s = s < 1 ? 1 : s > 86400 ? 86400 : (unsigned)s;
    }
    return 0;
}

int pw_bucket_full(const struct pw_bucket *b, double rate, double burst, uint64_t now_ms)
{
    if (rate <= 0 || !b->at)
        return 1;
    return pw__bucket_now(b, rate, burst < 1 ? 1 : burst, now_ms) >= (burst < 1 ? 1 : burst);
}

/* ---- logs ---- */

struct pw__out {
    char *p;
    size_t n, len;
};

static void pw__put(struct pw__out *o, const char *s, size_t n)
{
    size_t room = o->n - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static int pw__hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 1 if the parameter name p[0..n) is key, or "access_" key (RFC 6750
 * §2.3's name), in any case, percent-encoded or not: a client's secret is
 * kept out of the log even when the server would not take it as a token */
static int pw__secret_name(const char *p, size_t n, const char *key)
{
    char name[64];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '%' && i + 2 < n && pw__hexval(p[i + 1]) >= 0 && pw__hexval(p[i + 2]) >= 0) {
            c = pw__hexval(p[i + 1]) * 16 + pw__hexval(p[i + 2]);
            i += 2;
        }
        if (k == sizeof name - 1)
            return 0;
        name[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    name[k] = 0;
    return strcmp(name, key) == 0 || (strncmp(name, "access_", 7) == 0 && strcmp(name + 7, key) == 0);
}

size_t pw_redact_query(const char *t, size_t n, const char *key, char *out, size_t outsz)
{
    struct pw__out o = {out, outsz, 0};
    const char *q = memchr(t, '?', n);
    size_t pre = q ? (size_t)(q - t) + 1 : n;
    pw__put(&o, t, pre);
    for (size_t i = pre; i < n;) {
        size_t end = i, eq = 0;
        while (end < n && t[end] != '&' && t[end] != ';') {
            if (!eq && t[end] == '=')
                eq = end;
            end++;
        }
        if (eq && pw__secret_name(t + i, eq - i, key)) {
            pw__put(&o, t + i, eq - i + 1);
            pw__put(&o, PW_REDACTED, sizeof PW_REDACTED - 1);
        } else
            pw__put(&o, t + i, end - i);
        if (end < n)
            pw__put(&o, t + end, 1);
        i = end + 1;
    }
    out[o.len] = 0;
    return o.len;
}
