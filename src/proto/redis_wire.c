/* redis_wire.c — URL, slots, stream ids and notifications for the Redis
 * backplane (redis_wire.h). */
#include "redis_wire.h"
#include "msgid.h"

#include <string.h>

/* Decimal s[0..n) below 2^64, no leading zero but "0": 0 or -1. */
static int pw__dec64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n < 1 || n > 20 || (s[0] == '0' && n > 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int pw__hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL). */
static int pw__unescape(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int h = i + 2 < n ? pw__hex(s[i + 1]) : -1, l = h >= 0 ? pw__hex(s[i + 2]) : -1;
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return PW_EREDIS_URL;
            c = (char)(h << 4 | l);
            i += 2;
        }
        if (k + 1 >= cap)
            return PW_EREDIS_LONG;
        out[k++] = c;
    }
    out[k] = 0;
    return 0;
}

static int pw__copy(const char *s, size_t n, char *out, size_t cap)
{
    if (n + 1 > cap)
        return PW_EREDIS_LONG;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

static int pw__db(const char *s, size_t n, unsigned *db)
{
    uint64_t v;
    if (pw__dec64(s, n, &v) || v > 1000000)
        return PW_EREDIS_URL;
    *db = (unsigned)v;
    return 0;
}

/* unix:///PATH[?db=N] */
static int pw__url_unix(const char *p, struct pw_redis_url *u)
{
    u->is_unix = 1;
    if (p[0] != '/')
        return PW_EREDIS_URL;
    const char *q = strchr(p, '?');
    size_t n = q ? (size_t)(q - p) : strlen(p);
    int rc = pw__copy(p, n, u->path, sizeof u->path);
    if (rc || !q)
        return rc;
    if (strncmp(q, "?db=", 4) != 0)
        return PW_EREDIS_URL;
    return pw__db(q + 4, strlen(q + 4), &u->db);
}

/* USER:PASS or PASS (…@ before the host) */
static int pw__url_cred(const char *p, size_t n, struct pw_redis_url *u)
{
    const char *colon = memchr(p, ':', n);
    u->has_pass = 1;
    if (!colon)
        return pw__unescape(p, n, u->pass, sizeof u->pass);
    int rc = pw__unescape(p, (size_t)(colon - p), u->user, sizeof u->user);
    return rc ? rc : pw__unescape(colon + 1, n - (size_t)(colon - p) - 1, u->pass, sizeof u->pass);
}

/* HOST[:PORT] or [V6][:PORT] in p[0..n) */
static int pw__url_hostport(const char *p, size_t n, struct pw_redis_url *u)
{
    const char *port = NULL;
    size_t hlen;
    if (n && p[0] == '[') {
        const char *rb = memchr(p, ']', n);
        if (!rb || rb == p + 1)
            return PW_EREDIS_URL;
        if (pw__copy(p + 1, (size_t)(rb - p - 1), u->host, sizeof u->host))
            return PW_EREDIS_LONG;
        if (rb + 1 < p + n) {
            if (rb[1] != ':')
                return PW_EREDIS_URL;
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', n);
        hlen = colon ? (size_t)(colon - p) : n;
        if (hlen == 0)
            return PW_EREDIS_URL;
        for (size_t i = 0; i < hlen; i++)
            if (p[i] == '@' || p[i] == '/' || p[i] == '?' || (unsigned char)p[i] <= ' ')
                return PW_EREDIS_URL;
        if (pw__copy(p, hlen, u->host, sizeof u->host))
            return PW_EREDIS_LONG;
        port = colon ? colon + 1 : NULL;
    }
    u->port = 6379;
    if (port) {
        uint64_t v;
        if (pw__dec64(port, (size_t)(p + n - port), &v) || v < 1 || v > 65535)
            return PW_EREDIS_URL;
        u->port = (unsigned)v;
    }
    return 0;
}

static int pw__url(const char *s, struct pw_redis_url *u)
{
    if (strncmp(s, "rediss://", 9) == 0)
        return PW_EREDIS_TLS;
    if (strncmp(s, "unix://", 7) == 0)
        return pw__url_unix(s + 7, u);
    if (strncmp(s, "redis://", 8) != 0)
        return PW_EREDIS_URL;
    const char *p = s + 8, *slash = strchr(p, '/');
    size_t auth_end = slash ? (size_t)(slash - p) : strlen(p);
    const char *at = NULL;
    for (size_t i = 0; i < auth_end; i++)
        if (p[i] == '@')
            at = p + i; /* the last one: a password may hold '@' percent-encoded only */
    int rc = 0;
    if (at) {
        rc = pw__url_cred(p, (size_t)(at - p), u);
        p = at + 1;
        auth_end -= (size_t)(p - (s + 8));
    }
    if (!rc)
        rc = pw__url_hostport(p, auth_end, u);
    if (!rc && slash && slash[1])
        rc = pw__db(slash + 1, strlen(slash + 1), &u->db);
    return rc;
}

int pw_redis_url_parse(const char *s, struct pw_redis_url *out)
{
    memset(out, 0, sizeof *out);
    int rc = pw__url(s, out);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

uint16_t pw_redis_crc16(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint16_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(b[i] << 8);
        for (int k = 0; k < 8; k++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

unsigned pw_redis_key_slot(const char *key, size_t n)
{
    const char *open = memchr(key, '{', n);
    if (open) {
        size_t rest = n - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)
            return pw_redis_crc16(open + 1, (size_t)(close - open - 1)) & (PW_REDIS_SLOTS - 1);
    }
    return pw_redis_crc16(key, n) & (PW_REDIS_SLOTS - 1);
}

int pw_redis_sid_parse(const char *s, size_t n, uint64_t *ms, uint64_t *seq)
{
    const char *dash = memchr(s, '-', n);
    if (!dash || pw__dec64(s, (size_t)(dash - s), ms) ||
        pw__dec64(dash + 1, n - (size_t)(dash - s) - 1, seq))
        return PW_EREDIS_SID;
    return 0;
}

size_t pw_redis_sid_format(char *out, uint64_t ms, uint64_t seq)
{
    size_t k = pw_dec64(out, ms);
    out[k++] = '-';
    k += pw_dec64(out + k, seq);
    out[k] = 0;
    return k;
}

/* The next LF-terminated field of p[*at..n): its start and length. */
static int pw__field(const uint8_t *p, size_t n, size_t *at, const char **f, size_t *len)
{
    const uint8_t *lf = memchr(p + *at, '\n', n - *at);
    if (!lf)
        return PW_EREDIS_NOTE;
    *f = (const char *)p + *at;
    *len = (size_t)(lf - (p + *at));
    *at += *len + 1;
    return 0;
}

int pw_redis_note_parse(const uint8_t *p, size_t n, struct pw_redis_note *out)
{
    memset(out, 0, sizeof *out);
    size_t at = 0, elen, slen, blen;
    const char *e, *sid, *b;
    int rc = pw__field(p, n, &at, &e, &elen);
    if (!rc)
        rc = pw__field(p, n, &at, &sid, &slen);
    if (!rc)
        rc = pw__field(p, n, &at, &b, &blen);
    if (!rc)
        rc = pw__field(p, n, &at, &out->event, &out->event_len);
    if (!rc && (!pw_msgid_epoch_valid(e, elen) || blen != 1 || (b[0] != '0' && b[0] != '1') ||
                out->event_len == 0 || memchr(out->event, '\r', out->event_len)))
        rc = PW_EREDIS_NOTE;
    if (!rc)
        rc = pw_redis_sid_parse(sid, slen, &out->ms, &out->seq);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    memcpy(out->epoch, e, elen);
    out->binary = b[0] == '1';
    out->data = p + at;
    out->len = n - at;
    return 0;
}
