/* fuzz_ws_reader.c — the WebSocket message reader (ws_reader.h).
 *
 * Bytes 0..3 pick the settings: byte 0 = sender (bit 0: client, masked; else
 * server), strict minimal lengths (bit 1), permessage-deflate (bit 2), no
 * context takeover (bit 3), an 8..15-bit inflate window (bits 4-6 + 8), a
 * STOP from the callbacks now and then (bit 7); byte 1 = max_message (0:
 * none, else 2^(b % 24)); byte 2 = max_frame likewise; byte 3 seeds the
 * chunk sizes.  The rest is the wire.  Invariants:
 *  - fed whole, in chunks drawn from the data, or byte by byte — and resumed
 *    after a STOP — the reader delivers the same messages, controls and
 *    close, and ends with the same error (splitting never changes a thing;
 *    but see same() for windows under 15 bits);
 *  - text messages are valid UTF-8; no message exceeds max_message;
 *    control payloads are <= 125 bytes; a close code is 1005 or one allowed
 *    on the wire, its reason valid UTF-8; nothing is delivered after a close;
 *  - data pointers are never NULL; zero-copy ones lie inside the input fed;
 *  - errors are sticky and map to a close code of 1002, 1007, 1009 or 1011;
 *    every protocol error names its rule;
 *  - the reader holds no heap memory between messages, and never more than
 *    max_message + 1 + 125 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/ws_reader.h"

struct sum {
    uint64_t h;                 /* FNV-1a over what was delivered */
    int err, msgs, closed;
    int stop_every;             /* STOP on every n-th callback (0: never) */
    unsigned calls;
    uint64_t max_message;
    const uint8_t *lo, *hi;     /* the piece being fed */
};

static void mix(struct sum *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 1099511628211ULL;
}

static int answer(struct sum *s)
{
    s->calls++;
    if (s->closed > 1)
        abort(); /* a callback after the close */
    return s->stop_every && s->calls % (unsigned)s->stop_every == 0 ? PW_WSR_STOP : PW_WSR_GO;
}

static int on_message(void *ud, int op, const uint8_t *d, size_t n)
{
    struct sum *s = ud;
    if (!d || (op != PW_WS_OP_TEXT && op != PW_WS_OP_BINARY))
        abort();
    if (op == PW_WS_OP_TEXT && !pw_utf8_valid(d, n))
        abort();
    if (s->max_message && n > s->max_message)
        abort();
    /* in place or in the reader's buffer: either way readable to the end */
    if (d >= s->lo && d < s->hi && d + n > s->hi)
        abort();
    s->msgs++;
    uint64_t v[2] = {(uint64_t)op, n};
    mix(s, v, sizeof v);
    mix(s, d, n);
    return answer(s);
}

static int on_control(void *ud, int op, const uint8_t *d, size_t n)
{
    struct sum *s = ud;
    if (!d || n > 125 || (op != PW_WS_OP_PING && op != PW_WS_OP_PONG))
        abort();
    uint64_t v[2] = {(uint64_t)op, n};
    mix(s, v, sizeof v);
    mix(s, d, n);
    return answer(s);
}

static int on_close(void *ud, unsigned code, const uint8_t *reason, size_t n)
{
    struct sum *s = ud;
    if (code != 1005 && !pw_ws_close_code_valid(code))
        abort();
    if (n > 123 || !pw_utf8_valid(reason, n) || (code == 1005 && n))
        abort();
    int r = answer(s);
    s->closed = 1;
    uint64_t v[2] = {code, n};
    mix(s, v, sizeof v);
    mix(s, reason, n);
    return r;
}

static int on_frame(void *ud, const struct pw_wsr_frame *f)
{
    struct sum *s = ud;
    if (!f->payload || (!f->inflated && f->len != f->hdr.len))
        abort();
    (void)s;
    return PW_WSR_GO; /* a STOP here would drop a message on purpose */
}

static const struct pw_wsr_cb cbs = {on_message, on_control, on_close, on_frame};

struct cfg {
    struct pw_wsr_opts o;
    int deflate, is_server;
    struct pw_wsd_params prm;
};

/* Runs the input cut into chunks drawn from `seed` (0: whole; 1: byte by
 * byte), resuming after every STOP with what was not consumed. */
static struct sum run(const struct cfg *c, const uint8_t *data, size_t len, unsigned seed,
                      int stop_every)
{
    struct sum s = {14695981039346656037ULL, 0, 0, 0, stop_every, 0, c->o.max_message, 0, 0};
    struct pw_wsd d;
    struct pw_wsr r;
    struct pw_wsr_opts o = c->o;
    if (c->deflate) {
        pw_wsd_init(&d, &c->prm, c->is_server, -1, o.max_message);
        o.wsd = &d;
    }
    pw_wsr_init(&r, &o);
    uint8_t *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    unsigned x = (seed * 2654435761u + 12345) | 1;
    size_t pos = 0;
    while (pos < len && !s.err) {
        size_t chunk = len - pos;
        if (seed == 1)
            chunk = 1;
        else if (seed) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t k = 1 + (x >> 3) % ((x & 7) == 0 ? 4096 : 19);
            chunk = k < chunk ? k : chunk;
        }
        s.lo = buf + pos;
        s.hi = buf + pos + chunk;
        ssize_t n = pw_wsr_feed(&r, buf + pos, chunk, &cbs, &s);
        if (n < 0) {
            if (pw_wsr_feed(&r, buf + pos, chunk, &cbs, &s) != n)
                abort(); /* sticky */
            unsigned code = pw_ws_close_code_for((int)n);
            if (code != 1002 && code != 1007 && code != 1009 && code != 1011)
                abort();
            if (!pw_errrule((int)n)[0] && n != PW_ENOMEM && n != PW_EWSD_ZLIB)
                abort();
            s.err = (int)n;
            break;
        }
        if ((size_t)n > chunk || (n < (ssize_t)chunk && !stop_every))
            abort();
        pos += (size_t)n; /* after a STOP: the rest again */
        size_t held = pw_wsr_held(&r);
        if (o.max_message && held > o.max_message + 1 + 125)
            abort();
        if (!r.m.in_message && r.msg.cap)
            abort(); /* a buffer kept between messages */
        if (s.closed)
            s.closed = 2; /* from now on, nothing may be delivered */
    }
    if (!s.err && pw_wsr_closed(&r))
        mix(&s, "C", 1);
    free(buf);
    pw_wsr_free(&r);
    if (c->deflate)
        pw_wsd_free(&d);
    return s;
}

/* Two runs of one input delivered the same.  One exception, documented in
 * ws_deflate.h: a peer that refers back past an inflate window smaller than
 * 15 bits is caught (PW_EWSD_DATA) or not depending on how the input was
 * split. */
static void same(const struct cfg *c, const struct sum *a, const struct sum *b)
{
    if (c->deflate && c->prm.server_max_window_bits < 15 &&
        (a->err == PW_EWSD_DATA || b->err == PW_EWSD_DATA))
        return;
    if (a->h != b->h || a->err != b->err || a->msgs != b->msgs)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    struct cfg c;
    memset(&c, 0, sizeof c);
    c.o.from = data[0] & 1 ? PW_WS_FROM_CLIENT : PW_WS_FROM_SERVER;
    c.o.strict_minimal = (data[0] >> 1) & 1;
    c.deflate = (data[0] >> 2) & 1;
    c.is_server = c.o.from == PW_WS_FROM_CLIENT;
    int nct = (data[0] >> 3) & 1, bits = 8 + ((data[0] >> 4) & 7);
    c.prm = (struct pw_wsd_params){nct, nct, bits, bits};
    int stops = data[0] >> 7;
    c.o.max_message = data[1] ? 1ULL << (data[1] % 24) : 0;
    c.o.max_frame = data[2] ? 1ULL << (data[2] % 24) : 0;
    unsigned seed = data[3] | 2u;
    data += 4, size -= 4;

    struct sum whole = run(&c, data, size, 0, 0);
    struct sum chunked = run(&c, data, size, seed, 0);
    same(&c, &whole, &chunked);
    if (size <= 1024) {
        struct sum bytes = run(&c, data, size, 1, 0);
        same(&c, &whole, &bytes);
    }
    if (stops) {
        struct sum stopped = run(&c, data, size, seed, 2);
        same(&c, &whole, &stopped);
    }
    return 0;
}
