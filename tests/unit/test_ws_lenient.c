/* test_ws_lenient.c — the parser's lenient (inspection) mode and
 * pw_ws_header_violations, used by `pushwire frame --decode`. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "proto/ws_frame.h"

/* Parses in[0..n) fed in pieces of `step` bytes; records the opcode and
 * length of each complete frame.  Returns the number of frames, or the
 * parser's error. */
static int parse_frames(const uint8_t *in, size_t n, size_t step, int ops[], uint64_t lens[])
{
    struct pw_ws_parser p;
    struct pw_ws_parser_opts o = {.from = PW_WS_FROM_ANY, .allowed_rsv = 7};
    uint8_t *buf = malloc(n);
    int nf = 0;
    memcpy(buf, in, n);
    pw_ws_parser_init(&p, &o);
    pw_ws_parser_lenient(&p);
    for (size_t at = 0; at <= n; at += step) {
        size_t len = n - at < step ? n - at : step, off = 0;
        for (;;) {
            struct pw_ws_event ev;
            ssize_t r = pw_ws_parse(&p, buf + at + off, len - off, &ev);
            if (r < 0) {
                free(buf);
                return (int)r;
            }
            off += (size_t)r;
            if (ev.type == PW_WS_EV_END && nf < 8) {
                ops[nf] = ev.hdr.opcode;
                lens[nf++] = ev.hdr.len;
            }
            if (ev.type == PW_WS_EV_NONE && off == len)
                break;
        }
    }
    free(buf);
    return pw_ws_parser_idle(&p) ? nf : PW_EWS_TRUNCATED;
}

static void test_lenient_goes_on(void)
{
    /* reserved opcode 3, fragmented ping, ping of 126 bytes (16-bit form),
     * RSV1 text, an unmasked text "ok" */
    uint8_t in[2 + 1 + 2 + 4 + 126 + 2 + 4];
    size_t n = 0;
    in[n++] = 0x83, in[n++] = 0x01, in[n++] = 'x';
    in[n++] = 0x09, in[n++] = 0x00;
    in[n++] = 0x89, in[n++] = 0x7e, in[n++] = 0x00, in[n++] = 126;
    memset(in + n, 'a', 126), n += 126;
    in[n++] = 0xc1, in[n++] = 0x00;
    in[n++] = 0x81, in[n++] = 0x02, in[n++] = 'o', in[n++] = 'k';
    for (size_t step = 1; step <= n; step++) {
        int ops[8];
        uint64_t lens[8];
        int nf = parse_frames(in, n, step, ops, lens);
        if (nf != 5 || ops[0] != 3 || ops[1] != 9 || ops[2] != 9 || lens[2] != 126 ||
            ops[3] != 1 || ops[4] != 1 || lens[4] != 2) {
            OK(0, "lenient parser frames every frame, fed %zu bytes at a time (got %d)", step, nf);
            return;
        }
    }
    OK(1, "lenient parser frames rule-breaking frames and goes on, at every split");
}

static void test_lenient_msb_still_fails(void)
{
    uint8_t in[] = {0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1};
    int ops[8];
    uint64_t lens[8];
    IS(parse_frames(in, sizeof in, sizeof in, ops, lens), PW_EWS_LEN_MSB,
       "lenient parser still fails a 64-bit length with its MSB set");
}

static void test_violations(void)
{
    int e[8];
    struct pw_ws_header h = {.fin = 1, .opcode = 1, .len = 5, .len_form = 7, .minimal = 1};
    IS(pw_ws_header_violations(&h, PW_WS_FROM_ANY, 0, e, 8), 0, "a plain text header breaks no rule");
    IS(pw_ws_header_violations(&h, PW_WS_FROM_CLIENT, 0, e, 8), 1, "unmasked from a client: one rule");
    IS(e[0], PW_EWS_UNMASKED, "... §5.1 unmasked");
    h.masked = 1;
    IS(pw_ws_header_violations(&h, PW_WS_FROM_SERVER, 0, e, 8), 1, "masked from a server: one rule");
    IS(e[0], PW_EWS_MASKED, "... §5.1 masked");
    struct pw_ws_header bad = {.fin = 0, .rsv = 4, .opcode = 0xB, .len = 126, .len_form = 64};
    IS(pw_ws_header_violations(&bad, PW_WS_FROM_CLIENT, 0, e, 8), 6, "every rule of a bad header");
    IS(e[0], PW_EWS_RSV, "... RSV first");
    IS(e[1], PW_EWS_OPCODE, "... then the opcode");
    IS(e[2], PW_EWS_CTRL_FRAG, "... control FIN");
    IS(e[3], PW_EWS_CTRL_LEN, "... control length");
    IS(e[4], PW_EWS_UNMASKED, "... masking");
    IS(e[5], PW_EWS_NONMINIMAL, "... minimal length");
    bad.opcode = 2;
    bad.len = 5;
    IS(pw_ws_header_violations(&bad, PW_WS_FROM_ANY, 4, e, 8), 1, "RSV1 allowed; 64-bit form for 5 bytes");
    IS(e[0], PW_EWS_NONMINIMAL, "... not minimal");
    bad.rsv = 7;
    IS(pw_ws_header_violations(&bad, PW_WS_FROM_ANY, 0, e, 1), 1, "at most max codes");
}

int main(void)
{
    test_lenient_goes_on();
    test_lenient_msb_still_fails();
    test_violations();
    return tap_done();
}
