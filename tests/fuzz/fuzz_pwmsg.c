/* fuzz_pwmsg.c — pushwire's own wire format (pwmsg.h) and base64.
 * Byte 0 picks the decoder (low 3 bits) and, in its high bits, small
 * limits; the rest is the input.  Invariants:
 *  - a decoder ends with 0 or a PW_EPWMSG_* code (or PW_ENOMEM), and sets
 *    dec.why when it fails;
 *  - what decoded, encoded again and decoded again, gives the same thing;
 *  - base64: a string that decodes is the encoding of what it decodes to
 *    (strict: one spelling per byte string), and any bytes encode and decode
 *    back to themselves. */
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/pwmsg.h"
#include "proto/ws_frame.h"

static struct pwmsg_limits LIM;
static struct pw_buf B;

static void check(int ok)
{
    if (!ok)
        abort();
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_rc(int rc, const struct pwmsg_dec *d)
{
    check(rc == 0 || rc == PW_ENOMEM || (rc <= -800 && rc >= -849));
    check(rc == 0 || d->why[0]);
}

static void check_item(const struct pwmsg_item *a, const struct pwmsg_item *b, int channel)
{
    check(same(a->id, b->id) && same(a->event, b->event) && a->binary == b->binary);
    check(!channel || same(a->channel, b->channel));
    check(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0));
}

/* the second decode: the same field limits, room for a larger text (the
 * writer may spell a character longer than the input did) */
static void dec2_init(struct pwmsg_dec *d)
{
    struct pwmsg_limits l = LIM;
    l.max_size = 0;
    pwmsg_dec_init(d, &l);
}

static void fuzz_envelope(const uint8_t *p, size_t n)
{
    struct pwmsg_dec d, d2;
    struct pwmsg_envelope e, e2;
    pwmsg_dec_init(&d, &LIM);
    dec2_init(&d2);
    int rc = pwmsg_envelope_decode(&d, p, n, &e);
    check_rc(rc, &d);
    if (rc == 0) {
        B.len = 0;
        size_t chlen = e.m.channel ? strlen(e.m.channel) : 0;
        check(!(e.gap && e.position));
        if (e.gap)
            check(pwmsg_gap_envelope_encode(&B, e.m.channel, chlen, &e.g) == 0);
        else if (e.position) /* no data, an id or none */
            check(!e.m.data && e.m.len == 0 &&
                  pwmsg_position_envelope_encode(&B, e.m.channel, chlen, e.m.id) == 0);
        else
            check(pwmsg_item_encode(&B, &e.m, 1) == 0);
        check(pwmsg_envelope_decode(&d2, B.p, B.len, &e2) == 0 && e2.gap == e.gap && e2.position == e.position);
        check(same(e.m.channel, e2.m.channel));
        if (e.gap) /* (a first not said is written "": nothing held) */
            check(same(e.g.after, e2.g.after) && same(e.g.first ? e.g.first : "", e2.g.first));
        else if (e.position)
            check(same(e.m.id, e2.m.id));
        else
            check_item(&e.m, &e2.m, 1);
    }
    pwmsg_dec_free(&d);
    pwmsg_dec_free(&d2);
}

static void fuzz_poll(const uint8_t *p, size_t n)
{
    struct pwmsg_dec d, d2;
    struct pwmsg_poll a, b;
    struct pwmsg_item x, y;
    pwmsg_dec_init(&d, &LIM);
    dec2_init(&d2);
    int rc = pwmsg_poll_decode(&d, p, n, &a);
    check_rc(rc, &d);
    if (rc == 0) {
        struct pw_buf list, item;
        pw_buf_init(&list, 0);
        pw_buf_init(&item, 0);
        for (size_t i = 0; i < a.count; i++) {
            check(pwmsg_poll_at(&d, &a, i, &x) == 0);
            item.len = 0;
            check(pwmsg_item_encode(&item, &x, 0) == 0 && pwmsg_poll_list_add(&list, item.p, item.len) == 0);
        }
        B.len = 0;
        check(pwmsg_poll_encode(&B, a.cursor, list.p, list.len, a.gap ? &a.g : NULL) == 0);
        check(pwmsg_poll_decode(&d2, B.p, B.len, &b) == 0);
        check(same(a.cursor, b.cursor) && a.gap == b.gap && a.count == b.count);
        check(!a.gap || (same(a.g.after, b.g.after) && same(a.g.first ? a.g.first : "", b.g.first)));
        for (size_t i = 0; i < a.count; i++) {
            check(pwmsg_poll_at(&d, &a, i, &x) == 0 && pwmsg_poll_at(&d2, &b, i, &y) == 0);
            check_item(&x, &y, 0);
        }
        pw_buf_free(&list);
        pw_buf_free(&item);
    }
    pwmsg_dec_free(&d);
    pwmsg_dec_free(&d2);
}

static void fuzz_sse_gap(const uint8_t *p, size_t n)
{
    struct pwmsg_dec d, d2;
    struct pwmsg_gap a, b;
    pwmsg_dec_init(&d, &LIM);
    dec2_init(&d2);
    int rc = pwmsg_sse_gap_decode(&d, p, n, &a);
    check_rc(rc, &d);
    if (rc == 0) {
        B.len = 0;
        check(pwmsg_sse_gap_encode(&B, &a) == 0);
        check(pwmsg_sse_gap_decode(&d2, B.p, B.len, &b) == 0);
        check(same(a.after, b.after) && same(a.first ? a.first : "", b.first));
    }
    pwmsg_dec_free(&d);
    pwmsg_dec_free(&d2);
}

static void fuzz_reason(const uint8_t *p, size_t n)
{
    struct pwmsg_dec d, d2;
    struct pwmsg_gap a, b;
    pwmsg_dec_init(&d, &LIM);
    dec2_init(&d2);
    unsigned code = n && p[0] == 'x' ? PW_WS_CLOSE_NORMAL : PW_WS_CLOSE_GAP;
    int rc = pwmsg_gap_reason_decode(&d, code, (const char *)p, n, &a);
    check_rc(rc, &d);
    check(rc || code == PW_WS_CLOSE_GAP);
    if (rc == 0) {
        char r[PWMSG_REASON_MAX + 1];
        size_t full = 11 + strlen(a.after) + (a.first && a.first[0] ? 13 + strlen(a.first) : 14);
        size_t k = pwmsg_gap_reason(r, &a);
        check(k <= PWMSG_REASON_MAX && strlen(r) == k);
        check(pw_utf8_valid((const uint8_t *)r, k) || !pw_utf8_valid(p, n));
        /* a reason cut at 123 bytes loses its end: compare the others */
        if (full <= PWMSG_REASON_MAX) {
            check(k == full);
            check(pwmsg_gap_reason_decode(&d2, code, r, k, &b) == 0);
            check(same(a.after, b.after) && same(a.first && a.first[0] ? a.first : "", b.first));
        }
    }
    pwmsg_dec_free(&d);
    pwmsg_dec_free(&d2);
}

static void fuzz_error(const uint8_t *p, size_t n)
{
    struct pwmsg_dec d, d2;
    struct pwmsg_error a, b;
    const char *id, *id2;
    pwmsg_dec_init(&d, &LIM);
    dec2_init(&d2);
    int rc = pwmsg_error_decode(&d, p, n, &a);
    check_rc(rc, &d);
    if (rc == 0) {
        B.len = 0;
        check(pwmsg_error_encode(&B, &a) == 0 && pwmsg_error_decode(&d2, B.p, B.len, &b) == 0);
        check(a.status == b.status && same(a.error, b.error) && same(a.allow, b.allow));
        check(same(a.rule && a.rule[0] ? a.rule : NULL, b.rule)); /* "" is left out */
    }
    rc = pwmsg_pub_decode(&d, p, n, &id);
    check_rc(rc, &d);
    if (rc == 0) {
        B.len = 0;
        check(pwmsg_pub_encode(&B, id) == 0 && pwmsg_pub_decode(&d2, B.p, B.len, &id2) == 0);
        check(same(id, id2));
    }
    pwmsg_dec_free(&d);
    pwmsg_dec_free(&d2);
}

static void fuzz_base64(const uint8_t *p, size_t n)
{
    struct pw_buf d;
    pw_buf_init(&d, 0);
    int rc = pw_base64_decode_append(&d, (const char *)p, n);
    check(rc == 0 || rc == PW_EBASE64);
    check((pw_base64_decode((const char *)p, n, NULL, 0) >= 0) == (rc == 0));
    if (rc == 0) {
        B.len = 0;
        check(pw_base64_append(&B, d.p, d.len) == 0 && B.len == n && (n == 0 || memcmp(B.p, p, n) == 0));
    }
    B.len = 0;
    d.len = 0;
    check(pw_base64_append(&B, p, n) == 0 && B.len == pw_base64_len(n));
    check(pw_base64_decode_append(&d, (const char *)B.p, B.len) == 0);
    check(d.len == n && (n == 0 || memcmp(d.p, p, n) == 0));
    pw_buf_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    data++, size--;
    struct pwmsg_limits small = {1 + (size_t)(sel >> 3) * 64, 1 + (sel >> 5), 1 + (sel >> 3)};
    struct pwmsg_limits def = PWMSG_LIMITS_DEFAULT;
    LIM = sel & 0x80 ? small : def;
    pw_buf_init(&B, 0);
    switch (sel & 7) {
    case 0: fuzz_envelope(data, size); break;
    case 1: fuzz_poll(data, size); break;
    case 2: fuzz_sse_gap(data, size); break;
    case 3: fuzz_reason(data, size); break;
    case 4: fuzz_error(data, size); break;
    default: fuzz_base64(data, size); break;
    }
    pw_buf_free(&B);
    return 0;
}
