/* msgid.c — message ids (msgid.h). */
#include "msgid.h"

#include <openssl/rand.h>
#include <string.h>
#include <time.h>

static int pw__epoch_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int pw_msgid_epoch_valid(const char *e, size_t len)
{
    if (len < 1 || len > PW_EPOCH_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!pw__epoch_char(e[i]))
            return 0;
    return 1;
}

/* Decimal s[0..len) into *out: 1-20 digits, no leading zero but "0" itself,
 * below 2^64.  0 or PW_EMSGID_NUMBER. */
static int pw__number(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len < 1 || len > 20 || (s[0] == '0' && len > 1))
        return PW_EMSGID_NUMBER;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return PW_EMSGID_NUMBER;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return PW_EMSGID_NUMBER;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int pw__parse(const char *s, size_t len, struct pw_msgid *out)
{
    if (len == 0)
        return PW_EMSGID_EMPTY;
    if (len >= PW_ID_MAX)
        return PW_EMSGID_LONG;
    if (len == 1 && s[0] == '0') {
        out->form = PW_MSGID_START;
        return 0;
    }
    const char *colon = memchr(s, ':', len);
    if (!colon)
        return PW_EMSGID_FORM;
    size_t elen = (size_t)(colon - s);
    if (!pw_msgid_epoch_valid(s, elen))
        return PW_EMSGID_EPOCH;
    memcpy(out->epoch, s, elen);
    out->epoch[elen] = 0;
    out->epoch_len = (uint8_t)elen;
    const char *n = colon + 1;
    size_t nlen = len - elen - 1;
    const char *dash = memchr(n, '-', nlen);
    if (!dash) {
        out->form = PW_MSGID_SEQ;
        return pw__number(n, nlen, &out->seq);
    }
    out->form = PW_MSGID_STREAM;
    size_t mlen = (size_t)(dash - n);
    int rc = pw__number(n, mlen, &out->ms);
    return rc ? rc : pw__number(dash + 1, nlen - mlen - 1, &out->seq);
}

int pw_msgid_parse(const char *s, size_t len, struct pw_msgid *out)
{
    memset(out, 0, sizeof *out);
    int rc = pw__parse(s, len, out);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

size_t pw_dec64(char *p, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = t[n - 1 - i];
    return n;
}

size_t pw_msgid_format(char out[PW_ID_MAX], const struct pw_msgid *id)
{
    out[0] = 0;
    if (id->form == PW_MSGID_START) {
        out[0] = '0';
        out[1] = 0;
        return 1;
    }
    size_t el = id->epoch_len;
    if (id->form > PW_MSGID_STREAM || !pw_msgid_epoch_valid(id->epoch, el))
        return 0;
    /* the longest that fits: 16 + 1 + 20 + 1 + 20 = 58; built in a larger
     * buffer, refused when over the limit */
    char t[PW_EPOCH_MAX + 43];
    memcpy(t, id->epoch, el);
    size_t k = el;
    t[k++] = ':';
    if (id->form == PW_MSGID_STREAM) {
        k += pw_dec64(t + k, id->ms);
        t[k++] = '-';
    }
    k += pw_dec64(t + k, id->seq);
    if (k >= PW_ID_MAX)
        return 0;
    memcpy(out, t, k);
    out[k] = 0;
    return k;
}

struct pw_msgid pw_msgid_seq(const char *epoch, uint64_t seq)
{
    struct pw_msgid id;
    memset(&id, 0, sizeof id);
    size_t el = strnlen(epoch, PW_EPOCH_MAX);
    id.form = PW_MSGID_SEQ;
    id.epoch_len = (uint8_t)el;
    memcpy(id.epoch, epoch, el);
    id.seq = seq;
    return id;
}

int pw_msgid_same_epoch(const struct pw_msgid *a, const struct pw_msgid *b)
{
    if (a->form == PW_MSGID_START || b->form == PW_MSGID_START)
        return 1;
    return a->epoch_len == b->epoch_len && memcmp(a->epoch, b->epoch, a->epoch_len) == 0;
}

int pw_msgid_cmp(const struct pw_msgid *a, const struct pw_msgid *b)
{
    int as = a->form == PW_MSGID_START, bs = b->form == PW_MSGID_START;
    if (as || bs)
        return as - bs == 0 ? 0 : as ? -1 : 1;
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

int pw_msgid_has_epoch(const char *s, size_t slen, const char *e, size_t elen)
{
    return slen > elen && s[elen] == ':' && memcmp(s, e, elen) == 0;
}

static void pw__b36(char *out, size_t n, uint64_t v)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (size_t i = n; i-- > 0;) {
        out[i] = digits[v % 36];
        v /= 36;
    }
}

void pw_msgid_epoch_make(char out[PW_EPOCH_LEN + 1], uint64_t seconds, uint64_t random)
{
    /* 36^6 seconds is 69 years: the time part wraps, the random part
     * (36^6, about 31 bits) keeps two births in one second apart */
    pw__b36(out, 6, seconds);
    pw__b36(out + 6, 6, random);
    out[PW_EPOCH_LEN] = 0;
}

int pw_msgid_epoch_new(char out[PW_EPOCH_LEN + 1])
{
    unsigned char r[8];
    if (RAND_bytes(r, sizeof r) != 1)
        return PW_EIO;
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof r; i++)
        v = v << 8 | r[i];
    pw_msgid_epoch_make(out, (uint64_t)time(NULL), v);
    return 0;
}
