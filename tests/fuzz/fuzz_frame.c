/* fuzz_frame.c — the RFC 6455 frame parser and message layer.
 *
 * Bytes 0..3 pick the settings: byte 0 = sender role (bits 0-1), strict
 * minimal lengths (bit 2), allowed RSV bits (bits 3-5); byte 1 = max_frame
 * (0: none, else 2^(b & 31)); byte 2 = max_message likewise; byte 3 seeds the
 * chunk sizes.  The rest is the wire.  Invariants:
 *  - fed whole, in chunks whose sizes come from the data, or byte by byte,
 *    the parser and message layer report the same frames, payload bytes and
 *    error (splitting never changes the result);
 *  - every header re-encodes to the exact bytes it was parsed from;
 *  - every reported field respects the options (masking rule per role, RSV,
 *    control frames <= 125 and final, limits, strict minimal lengths);
 *  - payload offsets are contiguous, slices lie inside the input;
 *  - errors are sticky;
 *  - masking the input (key: bytes 0..3, key offset and start: byte 3) gives
 *    the same bytes and the same OR (the ASCII test) with every masking loop
 *    as with a byte loop.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/ws_frame.h"

struct sum {
    uint64_t h;    /* FNV-1a over events and payload bytes (chunking-free) */
    uint64_t ph;   /* the current frame's payload, folded into h at END: a
                      fail-fast error stops mid-chunk, so bytes of a frame
                      that fails count for nothing */
    int err;
    int frames;
};

static void mix(struct sum *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        s->h = (s->h ^ b[i]) * 1099511628211ULL;
}

static void mix_hdr(struct sum *s, const struct pw_ws_header *h)
{
    uint64_t v[9] = {h->fin, h->rsv, h->opcode, h->masked, h->len, h->len_form, h->minimal,
                     h->header_len, (uint64_t)h->mask[0] << 24 | h->mask[1] << 16 | h->mask[2] << 8 | h->mask[3]};
    mix(s, v, sizeof v);
}

static void check_hdr(const struct pw_ws_parser_opts *o, const struct pw_ws_header *h)
{
    if (o->from == PW_WS_FROM_CLIENT && !h->masked)
        abort();
    if (o->from == PW_WS_FROM_SERVER && h->masked)
        abort();
    if (h->rsv & ~o->allowed_rsv)
        abort();
    if (pw_ws_is_control(h->opcode) && (!h->fin || h->len > 125))
        abort();
    if (o->max_frame && h->len > o->max_frame && !pw_ws_is_control(h->opcode))
        abort(); /* a control frame's bound is its own 125 (above) */
    if (o->strict_minimal && !h->minimal)
        abort();
    if (h->len >> 63)
        abort();
    if (h->len_form != 7 && h->len_form != 16 && h->len_form != 64)
        abort();
    if (h->header_len != 2 + (h->len_form == 16 ? 2 : h->len_form == 64 ? 8 : 0) + (h->masked ? 4 : 0))
        abort();
}

/* Runs the whole input through parser + message layer, cut into chunks of
 * sizes drawn from `seed` (0: one chunk; 1: byte by byte). */
static struct sum run(const struct pw_ws_parser_opts *o, uint64_t maxmsg, const uint8_t *data,
                      size_t len, unsigned seed)
{
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct sum s = {14695981039346656037ULL, 0, 0, 0};
    uint8_t *buf = malloc(len ? len : 1);
    memcpy(buf, data, len);
    pw_ws_parser_init(&p, o);
    pw_ws_msg_init(&m, maxmsg);
    uint64_t frame_off = 0;
    size_t pos = 0;
    unsigned x = (seed * 2654435761u + 12345) | 1; /* xorshift never leaves 0 */
    while (pos <= len && !s.err) {
        size_t chunk = len - pos;
        if (seed == 1)
            chunk = chunk ? 1 : 0;
        else if (seed) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            size_t c = (x >> 3) % ((x & 7) == 0 ? 4096 : 19);
            chunk = c < chunk ? c : chunk;
        }
        uint8_t *in = buf + pos;
        size_t off = 0;
        for (;;) {
            struct pw_ws_event ev;
            ssize_t n = pw_ws_parse(&p, in + off, chunk - off, &ev);
            if (n < 0) {
                struct pw_ws_event ev2;
                if (pw_ws_parse(&p, in, chunk, &ev2) != n)
                    abort(); /* sticky */
                s.err = (int)n;
                break;
            }
            if ((size_t)n > chunk - off)
                abort();
            if (ev.type == PW_WS_EV_HEADER) {
                check_hdr(o, &ev.hdr);
                /* the header re-encodes to the bytes it came from, when they
                 * arrived in this chunk */
                if ((size_t)n == ev.hdr.header_len) {
                    uint8_t enc[14];
                    int k = pw_ws_encode_header(enc, ev.hdr.fin, ev.hdr.rsv, ev.hdr.opcode,
                                                ev.hdr.masked ? ev.hdr.mask : NULL, ev.hdr.len, ev.hdr.len_form);
                    if (k != (int)n || memcmp(enc, in + off, (size_t)k) != 0)
                        abort();
                }
                mix_hdr(&s, &ev.hdr);
                frame_off = 0;
                s.ph = 14695981039346656037ULL;
            } else if (ev.type == PW_WS_EV_PAYLOAD) {
                if (ev.data != in + off || ev.len != (size_t)n || ev.len == 0 || ev.offset != frame_off)
                    abort();
                frame_off += ev.len;
                if (frame_off > ev.hdr.len)
                    abort();
                for (size_t i = 0; i < ev.len; i++)
                    s.ph = (s.ph ^ ev.data[i]) * 1099511628211ULL;
            } else if (ev.type == PW_WS_EV_END) {
                if (n != 0 || frame_off != ev.hdr.len)
                    abort();
                s.frames++;
                mix(&s, &s.ph, sizeof s.ph);
            }
            int e = pw_ws_msg_event(&m, &ev);
            if (e < 0) {
                if (pw_ws_msg_event(&m, &ev) != e)
                    abort(); /* sticky */
                s.err = e;
                break;
            }
            off += (size_t)n;
            if (ev.type == PW_WS_EV_NONE && n == 0)
                break;
            if (ev.type == PW_WS_EV_NONE && off != chunk)
                abort(); /* NONE only when the chunk is used up */
        }
        if (pos == len)
            break;
        pos += chunk;
    }
    if (!s.err && pw_ws_parser_idle(&p))
        mix(&s, "I", 1);
    free(buf);
    return s;
}

/* every masking loop (pw_ws_mask_with) against a byte loop */
static void check_mask(const uint8_t key[4], uint64_t off, const uint8_t *data, size_t size)
{
    uint8_t *ref = malloc(size + 1), *b = malloc(size + 1);
    if (!ref || !b)
        abort();
    uint8_t or = 0;
    for (size_t i = 0; i < size; i++) {
        ref[i] = data[i] ^ key[(off + i) % 4];
        or |= ref[i];
    }
    for (int l = 0; l < PW_WS_MASK_NLOOPS; l++) {
        memcpy(b, data, size);
        if (pw_ws_mask_with(l, b, size, key, off) != or || memcmp(b, ref, size) != 0)
            abort();
    }
    free(ref);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    struct pw_ws_parser_opts o;
    o.from = (enum pw_ws_role)(data[0] & 3);
    if (o.from > PW_WS_FROM_ANY)
        o.from = PW_WS_FROM_ANY;
    o.strict_minimal = (data[0] >> 2) & 1;
    o.allowed_rsv = (data[0] >> 3) & 7;
    o.max_frame = data[1] ? 1ULL << (data[1] & 31) : 0;
    uint64_t maxmsg = data[2] ? 1ULL << (data[2] & 31) : 0;
    unsigned seed = data[3] | 2u;
    uint8_t key[4];
    memcpy(key, data, 4);
    uint64_t moff = data[3] & 7;
    data += 4, size -= 4;
    check_mask(key, moff, data + (moff < size ? moff : 0), size - (moff < size ? moff : 0));

    struct sum whole = run(&o, maxmsg, data, size, 0);
    struct sum chunked = run(&o, maxmsg, data, size, seed);
    if (whole.h != chunked.h || whole.err != chunked.err || whole.frames != chunked.frames)
        abort();
    if (size <= 4096) {
        struct sum bytes = run(&o, maxmsg, data, size, 1);
        if (whole.h != bytes.h || whole.err != bytes.err || whole.frames != bytes.frames)
            abort();
    }
    if (whole.err && pw_errrule(whole.err)[0] == 0 && whole.err != PW_EINVAL)
        abort(); /* every parser error names its rule */
    return 0;
}
