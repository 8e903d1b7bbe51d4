/* fuzz_ws_lenient.c — the lenient (inspection) parser mode that
 * `pushwire frame --decode` runs, with pw_ws_header_violations and the
 * message layer on top, as the applet uses them.
 * Byte 0 picks the split size and the sender role; the rest is the stream.
 * Invariants:
 *  - the same stream fed whole and fed in pieces gives the same frames
 *    (headers and payload bytes) and the same end state;
 *  - every header is framed: a lenient parser only fails on a 64-bit length
 *    with its MSB set;
 *  - a header's violations are PW_EWS_* codes with a rule, at most 7. */
#include <stdlib.h>
#include <string.h>

#include "proto/ws_frame.h"

struct trace {
    uint64_t sum;     /* a running hash of everything seen */
    unsigned frames;
    int err;
};

static void mix(struct trace *t, uint64_t v)
{
    t->sum = (t->sum ^ v) * 0x100000001b3ull;
}

static void run(const uint8_t *data, size_t n, size_t step, enum pw_ws_role from, struct trace *t)
{
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct pw_ws_parser_opts o = {.from = PW_WS_FROM_ANY, .allowed_rsv = 7};
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, data, n);
    memset(t, 0, sizeof *t);
    pw_ws_parser_init(&p, &o);
    pw_ws_parser_lenient(&p);
    pw_ws_msg_init(&m, 0);
    for (size_t at = 0; at <= n && !t->err; at += step) {
        size_t len = n - at < step ? n - at : step, off = 0;
        for (;;) {
            struct pw_ws_event ev;
            ssize_t r = pw_ws_parse(&p, buf + at + off, len - off, &ev);
            if (r < 0) {
                if (r != PW_EWS_LEN_MSB)
                    abort();
                t->err = (int)r;
                break;
            }
            off += (size_t)r;
            if (ev.type == PW_WS_EV_HEADER) {
                int errs[8];
                int k = pw_ws_header_violations(&ev.hdr, from, 0, errs, 8);
                if (k < 0 || k > 7)
                    abort();
                for (int i = 0; i < k; i++) {
                    if (!*pw_errrule(errs[i]))
                        abort();
                    mix(t, (uint64_t)-errs[i]);
                }
                mix(t, ev.hdr.opcode | ev.hdr.fin << 4 | ev.hdr.rsv << 5 | ev.hdr.masked << 8);
                mix(t, ev.hdr.len);
            } else if (ev.type == PW_WS_EV_PAYLOAD) {
                for (size_t i = 0; i < ev.len; i++)
                    mix(t, ev.data[i]);
            } else if (ev.type == PW_WS_EV_END) {
                t->frames++;
            }
            if (ev.type != PW_WS_EV_NONE && !pw_ws_is_control(ev.hdr.opcode))
                (void)pw_ws_msg_event(&m, &ev);
            if (ev.type == PW_WS_EV_NONE && off == len)
                break;
        }
    }
    mix(t, (uint64_t)pw_ws_parser_idle(&p));
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (data[0] & 0x3F) + 1;
    enum pw_ws_role from = (enum pw_ws_role)((data[0] >> 6) % 3);
    struct trace whole, pieces;
    run(data + 1, size - 1, size, from, &whole);
    run(data + 1, size - 1, step, from, &pieces);
    if (whole.sum != pieces.sum || whole.frames != pieces.frames || whole.err != pieces.err)
        abort();
    return 0;
}
