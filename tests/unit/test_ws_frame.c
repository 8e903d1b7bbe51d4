/* test_ws_frame.c — RFC 6455 frame parser, message layer, encoder, masking
 * and close codes (src/ws_frame.h). */
#include <stdint.h>
#include <stdlib.h>

#include "proto/buf.h"
#include "tap.h"
#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"

/* --- a trace of what the parser and message layer report --------------
 * One line per frame: "op fin rsv masked len form minimal payload" with the
 * payload's chunks joined (hex when short, else length+FNV hash), and a final
 * "err NAME" when a parser or message-layer error stopped the stream.  Two
 * runs agree when their traces are equal. */

struct trace {
    char s[8192];
    size_t n;
    struct pw_buf pay;
};

static void tr_printf(struct trace *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tr_printf(struct trace *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n += (size_t)k < sizeof t->s - t->n ? (size_t)k : sizeof t->s - t->n - 1;
}

struct run {
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct trace t;
    int err;
};

static void run_init(struct run *r, const struct pw_ws_parser_opts *o, uint64_t max_message)
{
    memset(r, 0, sizeof *r);
    pw_ws_parser_init(&r->p, o);
    pw_ws_msg_init(&r->m, max_message);
    pw_buf_init(&r->t.pay, 0);
}

static void on_end(struct trace *t, const struct pw_ws_header *h)
{
    tr_printf(t, "%s fin=%u rsv=%u m=%u len=%llu form=%u min=%u hl=%u ", pw_ws_opcode_name(h->opcode),
              h->fin, h->rsv, h->masked, (unsigned long long)h->len, h->len_form, h->minimal,
              h->header_len);
    if (t->pay.len <= 64) {
        for (size_t i = 0; i < t->pay.len; i++)
            tr_printf(t, "%02x", t->pay.p[i]);
    } else {
        uint32_t hash = 2166136261u;
        for (size_t i = 0; i < t->pay.len; i++)
            hash = (hash ^ t->pay.p[i]) * 16777619u;
        tr_printf(t, "[%zu bytes fnv %08x]", t->pay.len, hash);
    }
    tr_printf(t, "\n");
    pw_buf_reset(&t->pay);
}

/* Feeds one chunk; returns 0 or the error that stopped it. */
static int run_feed(struct run *r, uint8_t *in, size_t len)
{
    size_t off = 0;
    if (r->err)
        return r->err;
    for (int guard = 0; guard < 1 << 22; guard++) {
        struct pw_ws_event ev;
        ssize_t n = pw_ws_parse(&r->p, in + off, len - off, &ev);
        int e = n < 0 ? (int)n : pw_ws_msg_event(&r->m, &ev);
        if (e < 0) {
            tr_printf(&r->t, "err %s\n", pw_errname(e));
            return r->err = e;
        }
        off += (size_t)n;
        if (ev.type == PW_WS_EV_PAYLOAD) {
            if (ev.offset != r->t.pay.len) {
                tr_printf(&r->t, "bad offset\n");
                return r->err = PW_EINVAL;
            }
            pw_buf_append(&r->t.pay, ev.data, ev.len);
        } else if (ev.type == PW_WS_EV_END) {
            on_end(&r->t, &ev.hdr);
        } else if (ev.type == PW_WS_EV_NONE && n == 0) {
            return 0;
        }
    }
    return 0;
}

static void run_finish(struct run *r)
{
    if (!r->err && !pw_ws_parser_idle(&r->p))
        tr_printf(&r->t, "truncated\n");
    pw_buf_free(&r->t.pay);
}

/* Runs `in` cut at the given offsets (sorted, ncut of them). */
static void trace_cuts(const struct pw_ws_parser_opts *o, uint64_t maxmsg,
                       const uint8_t *in, size_t len, const size_t *cuts, size_t ncut,
                       char *out, size_t outsz)
{
    static struct run r;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, in, len);
    run_init(&r, o, maxmsg);
    size_t prev = 0;
    for (size_t i = 0; i <= ncut; i++) {
        size_t c = i < ncut ? cuts[i] : len;
        if (run_feed(&r, copy + prev, c - prev) < 0)
            break;
        prev = c;
    }
    run_finish(&r);
    snprintf(out, outsz, "%s", r.t.s);
    free(copy);
}

static void trace_bytewise(const struct pw_ws_parser_opts *o, uint64_t maxmsg,
                           const uint8_t *in, size_t len, char *out, size_t outsz)
{
    static struct run r;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, in, len);
    run_init(&r, o, maxmsg);
    for (size_t i = 0; i < len; i++)
        if (run_feed(&r, copy + i, 1) < 0)
            break;
    run_finish(&r);
    snprintf(out, outsz, "%s", r.t.s);
    free(copy);
}

static char want_buf[8192], got_buf[8192];

/* Decodes whole, byte by byte and split at every boundary (at every pair of
 * boundaries when short); checks all agree and equal `expect` if given. */
static void check_stream(const char *name, const struct pw_ws_parser_opts *o, uint64_t maxmsg,
                         const uint8_t *in, size_t len, const char *expect)
{
    trace_cuts(o, maxmsg, in, len, NULL, 0, want_buf, sizeof want_buf);
    if (expect) {
        OK(strcmp(want_buf, expect) == 0, "%s: decodes as expected", name);
        if (strcmp(want_buf, expect) != 0)
            printf("# got:\n%s# want:\n%s", want_buf, expect);
    }
    trace_bytewise(o, maxmsg, in, len, got_buf, sizeof got_buf);
    OK(strcmp(want_buf, got_buf) == 0, "%s: byte by byte gives the same", name);
    int same = 1;
    size_t bad = 0;
    for (size_t c = 0; c <= len && same; c++) {
        /* long payloads: every cut in the first and last 64 bytes, a sample between */
        if (len > 2048 && c > 64 && c + 64 < len && c % 509)
            continue;
        trace_cuts(o, maxmsg, in, len, &c, 1, got_buf, sizeof got_buf);
        if (strcmp(want_buf, got_buf) != 0)
            same = 0, bad = c;
    }
    OK(same, "%s: split at every byte boundary gives the same", name);
    if (!same)
        printf("# differs when cut at %zu:\n%s", bad, got_buf);
    if (len <= 48) {
        same = 1;
        for (size_t a = 0; a <= len && same; a++)
            for (size_t b = a; b <= len && same; b++) {
                size_t cuts[2] = {a, b};
                trace_cuts(o, maxmsg, in, len, cuts, 2, got_buf, sizeof got_buf);
                if (strcmp(want_buf, got_buf) != 0)
                    same = 0;
            }
        OK(same, "%s: split in three at every pair of boundaries gives the same", name);
    }
}

static const struct pw_ws_parser_opts any = {PW_WS_FROM_ANY, 0, 0, 0};
static const struct pw_ws_parser_opts from_client = {PW_WS_FROM_CLIENT, 0, 0, 0};
static const struct pw_ws_parser_opts from_server = {PW_WS_FROM_SERVER, 0, 0, 0};

#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* --- RFC 6455 §5.7 examples --- */
static void test_rfc_examples(void)
{
    check_stream("§5.7 single-frame unmasked text", &from_server, 0,
                 B(0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
                 "text fin=1 rsv=0 m=0 len=5 form=7 min=1 hl=2 48656c6c6f\n");
    check_stream("§5.7 single-frame masked text", &from_client, 0,
                 B(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
                 "text fin=1 rsv=0 m=1 len=5 form=7 min=1 hl=6 48656c6c6f\n");
    check_stream("§5.7 fragmented unmasked text", &from_server, 0,
                 B(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f),
                 "text fin=0 rsv=0 m=0 len=3 form=7 min=1 hl=2 48656c\n"
                 "continuation fin=1 rsv=0 m=0 len=2 form=7 min=1 hl=2 6c6f\n");
    check_stream("§5.7 unmasked ping", &from_server, 0,
                 B(0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f),
                 "ping fin=1 rsv=0 m=0 len=5 form=7 min=1 hl=2 48656c6c6f\n");
    check_stream("§5.7 masked pong", &from_client, 0,
                 B(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
                 "pong fin=1 rsv=0 m=1 len=5 form=7 min=1 hl=6 48656c6c6f\n");

    /* 256 bytes binary in one unmasked frame; 64 KiB likewise */
    static uint8_t f256[4 + 256], f64k[10 + 65536];
    memcpy(f256, (uint8_t[]){0x82, 0x7E, 0x01, 0x00}, 4);
    for (int i = 0; i < 256; i++)
        f256[4 + i] = (uint8_t)i;
    uint32_t hash = 2166136261u;
    for (int i = 0; i < 256; i++)
        hash = (hash ^ (uint8_t)i) * 16777619u;
    char exp[256];
    snprintf(exp, sizeof exp, "binary fin=1 rsv=0 m=0 len=256 form=16 min=1 hl=4 [256 bytes fnv %08x]\n", hash);
    check_stream("§5.7 256-byte binary", &from_server, 0, f256, sizeof f256, exp);

    memcpy(f64k, (uint8_t[]){0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, 10);
    hash = 2166136261u;
    for (int i = 0; i < 65536; i++) {
        f64k[10 + i] = (uint8_t)(i * 7);
        hash = (hash ^ (uint8_t)(i * 7)) * 16777619u;
    }
    snprintf(exp, sizeof exp, "binary fin=1 rsv=0 m=0 len=65536 form=64 min=1 hl=10 [65536 bytes fnv %08x]\n", hash);
    check_stream("§5.7 64 KiB binary", &from_server, 0, f64k, sizeof f64k, exp);
}

/* --- every length form and boundary, masked and unmasked, encoder round trip --- */
static void test_length_forms(void)
{
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
    uint8_t *payload = malloc(70000), *frame = malloc(70000 + 14);
    for (size_t i = 0; i < 70000; i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        for (int fi = 0; fi < 4; fi++) {
            int form = (int[]){0, 7, 16, 64}[fi];
            for (int masked = 0; masked < 2; masked++) {
                uint64_t len = lens[li];
                ssize_t n = pw_ws_encode(frame, 70000 + 14, 1, 0, PW_WS_OP_BINARY,
                                         masked ? key : NULL, payload, len, form);
                int fits = form == 0 || (form == 7 && len <= 125) || (form == 16 && len <= 65535) || form == 64;
                if (!fits) {
                    IS(n, PW_EINVAL, "len %llu cannot be encoded in form %d", (unsigned long long)len, form);
                    continue;
                }
                int eform = form ? form : len <= 125 ? 7 : len <= 65535 ? 16 : 64;
                int minimal = eform == (len <= 125 ? 7 : len <= 65535 ? 16 : 64);
                int hl = 2 + (eform == 16 ? 2 : eform == 64 ? 8 : 0) + (masked ? 4 : 0);
                IS(n, (ssize_t)(hl + len), "len %llu form %d masked %d: frame size",
                   (unsigned long long)len, form, masked);
                char name[96], exp[256];
                snprintf(name, sizeof name, "len %llu form %d%s", (unsigned long long)len, eform,
                         masked ? " masked" : "");
                uint32_t hash = 2166136261u;
                char pay[140] = "";
                if (len <= 64) {
                    for (size_t i = 0; i < len; i++)
                        snprintf(pay + 2 * i, 3, "%02x", payload[i]);
                } else {
                    for (size_t i = 0; i < len; i++)
                        hash = (hash ^ payload[i]) * 16777619u;
                    snprintf(pay, sizeof pay, "[%llu bytes fnv %08x]", (unsigned long long)len, hash);
                }
                snprintf(exp, sizeof exp, "binary fin=1 rsv=0 m=%d len=%llu form=%d min=%d hl=%d %s\n",
                         masked, (unsigned long long)len, eform, minimal, hl, pay);
                check_stream(name, &any, 0, frame, (size_t)n, exp);
                if (!minimal) {
                    struct pw_ws_parser_opts strict = any;
                    strict.strict_minimal = 1;
                    char e2[96];
                    snprintf(e2, sizeof e2, "err PW_EWS_NONMINIMAL\n");
                    snprintf(name + strlen(name), sizeof name - strlen(name), " strict");
                    check_stream(name, &strict, 0, frame, (size_t)n, e2);
                }
            }
        }
    }
    free(payload);
    free(frame);
}

/* --- violations: each returns its own code --- */
struct bad {
    const char *name;
    struct pw_ws_parser_opts o;
    uint64_t maxmsg;
    const uint8_t *in;
    size_t len;
    const char *expect;
};

#define BAD(name, o, maxmsg, expect, ...) {name, o, maxmsg, (const uint8_t[]){__VA_ARGS__}, \
    sizeof((const uint8_t[]){__VA_ARGS__}), expect}
#define O(from, rsv, maxf, strict) ((struct pw_ws_parser_opts){from, rsv, maxf, strict})
#define ANY O(PW_WS_FROM_ANY, 0, 0, 0)

static void test_violations(void)
{
    const struct bad t[] = {
        BAD("RSV1 without extension", ANY, 0, "err PW_EWS_RSV\n", 0xC1, 0x00),
        BAD("RSV2 without extension", ANY, 0, "err PW_EWS_RSV\n", 0xA1, 0x00),
        BAD("RSV3 without extension", ANY, 0, "err PW_EWS_RSV\n", 0x91, 0x00),
        BAD("RSV2 when only RSV1 allowed", O(PW_WS_FROM_ANY, 4, 0, 0), 0, "err PW_EWS_RSV\n", 0xA1, 0x00),
        BAD("RSV1 allowed by extension", O(PW_WS_FROM_ANY, 4, 0, 0), 0,
            "text fin=1 rsv=4 m=0 len=1 form=7 min=1 hl=2 00\n", 0xC1, 0x01, 0x00),
        BAD("RSV1 on a control frame", O(PW_WS_FROM_ANY, 4, 0, 0), 0, "err PW_EWS_RSV\n", 0xC9, 0x00),
        BAD("RSV1 on a continuation frame", O(PW_WS_FROM_ANY, 4, 0, 0), 0,
            "binary fin=0 rsv=4 m=0 len=0 form=7 min=1 hl=2 \nerr PW_EWS_RSV\n", 0x42, 0x00, 0xC0, 0x00),
        BAD("reserved opcode 3", ANY, 0, "err PW_EWS_OPCODE\n", 0x83, 0x00),
        BAD("reserved opcode 7", ANY, 0, "err PW_EWS_OPCODE\n", 0x87, 0x00),
        BAD("reserved control opcode B", ANY, 0, "err PW_EWS_OPCODE\n", 0x8B, 0x00),
        BAD("reserved control opcode F", ANY, 0, "err PW_EWS_OPCODE\n", 0x8F, 0x00),
        BAD("fragmented ping", ANY, 0, "err PW_EWS_CTRL_FRAG\n", 0x09, 0x00),
        BAD("fragmented close", ANY, 0, "err PW_EWS_CTRL_FRAG\n", 0x08, 0x00),
        BAD("ping of 126 bytes (16-bit form)", ANY, 0, "err PW_EWS_CTRL_LEN\n", 0x89, 0x7E, 0x00, 0x7E),
        BAD("ping with 16-bit form of 5 fails at once", ANY, 0, "err PW_EWS_CTRL_LEN\n", 0x89, 0x7E),
        BAD("pong with 64-bit form", ANY, 0, "err PW_EWS_CTRL_LEN\n", 0x8A, 0x7F),
        BAD("client frame unmasked", O(PW_WS_FROM_CLIENT, 0, 0, 0), 0, "err PW_EWS_UNMASKED\n", 0x81, 0x00),
        BAD("server frame masked", O(PW_WS_FROM_SERVER, 0, 0, 0), 0, "err PW_EWS_MASKED\n", 0x81, 0x80, 1, 2, 3, 4),
        BAD("64-bit length with MSB set", ANY, 0, "err PW_EWS_LEN_MSB\n",
            0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0),
        BAD("16-bit form for 5 bytes, strict", O(PW_WS_FROM_ANY, 0, 0, 1), 0, "err PW_EWS_NONMINIMAL\n",
            0x82, 0x7E, 0x00, 0x05),
        BAD("16-bit form for 5 bytes, reported only", ANY, 0,
            "binary fin=1 rsv=0 m=0 len=5 form=16 min=0 hl=4 6162636465\n",
            0x82, 0x7E, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e'),
        BAD("64-bit form for 65535, strict", O(PW_WS_FROM_ANY, 0, 0, 1), 0, "err PW_EWS_NONMINIMAL\n",
            0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF),
        BAD("16-bit form for 125, strict", O(PW_WS_FROM_ANY, 0, 0, 1), 0, "err PW_EWS_NONMINIMAL\n",
            0x82, 0x7E, 0x00, 0x7D),
        BAD("frame over max_frame (checked before payload)", O(PW_WS_FROM_ANY, 0, 10, 0), 0,
            "err PW_EWS_TOOBIG\n", 0x82, 0x0B),
        BAD("frame at max_frame", O(PW_WS_FROM_ANY, 0, 3, 0), 0,
            "binary fin=1 rsv=0 m=0 len=3 form=7 min=1 hl=2 010203\n", 0x82, 0x03, 1, 2, 3),
        BAD("64-bit length over max_frame", O(PW_WS_FROM_ANY, 0, 1 << 20, 0), 0, "err PW_EWS_TOOBIG\n",
            0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0),
        BAD("message over max_message across fragments", ANY, 10,
            "binary fin=0 rsv=0 m=0 len=6 form=7 min=1 hl=2 000000000000\nerr PW_EWS_TOOBIG\n",
            0x02, 0x06, 0, 0, 0, 0, 0, 0, 0x80, 0x05),
        BAD("message at max_message across fragments", ANY, 10,
            "binary fin=0 rsv=0 m=0 len=6 form=7 min=1 hl=2 000000000000\n"
            "continuation fin=1 rsv=0 m=0 len=4 form=7 min=1 hl=2 00000000\n",
            0x02, 0x06, 0, 0, 0, 0, 0, 0, 0x80, 0x04, 0, 0, 0, 0),
        BAD("continuation with nothing to continue", ANY, 0, "err PW_EWS_CONT_UNEXPECTED\n", 0x80, 0x00),
        BAD("new text inside a fragmented message", ANY, 0,
            "text fin=0 rsv=0 m=0 len=1 form=7 min=1 hl=2 61\nerr PW_EWS_CONT_EXPECTED\n",
            0x01, 0x01, 'a', 0x81, 0x00),
        BAD("new binary inside a fragmented message", ANY, 0,
            "text fin=0 rsv=0 m=0 len=1 form=7 min=1 hl=2 61\nerr PW_EWS_CONT_EXPECTED\n",
            0x01, 0x01, 'a', 0x02, 0x00),
        BAD("ping and close interleaved in a fragmented message", ANY, 0,
            "text fin=0 rsv=0 m=0 len=3 form=7 min=1 hl=2 48656c\n"
            "ping fin=1 rsv=0 m=0 len=1 form=7 min=1 hl=2 70\n"
            "pong fin=1 rsv=0 m=0 len=0 form=7 min=1 hl=2 \n"
            "continuation fin=0 rsv=0 m=0 len=0 form=7 min=1 hl=2 \n"
            "continuation fin=1 rsv=0 m=0 len=2 form=7 min=1 hl=2 6c6f\n",
            0x01, 0x03, 'H', 'e', 'l', 0x89, 0x01, 'p', 0x8A, 0x00, 0x00, 0x00, 0x80, 0x02, 'l', 'o'),
        BAD("text with overlong C0 80", ANY, 0, "err PW_EWS_UTF8\n", 0x81, 0x02, 0xC0, 0x80),
        BAD("text bad UTF-8 fails before the frame ends", ANY, 0, "err PW_EWS_UTF8\n",
            0x01, 0x05, 'a', 0xF4, 0x90, 0x80),
        BAD("text bad UTF-8 across fragments fails at the first bad byte", ANY, 0,
            "text fin=0 rsv=0 m=0 len=2 form=7 min=1 hl=2 61ed\nerr PW_EWS_UTF8\n",
            0x01, 0x02, 'a', 0xED, 0x00, 0x03, 0xA0, 0x80, 'b'),
        BAD("text code point split across fragments is fine", ANY, 0,
            "text fin=0 rsv=0 m=0 len=2 form=7 min=1 hl=2 61e2\n"
            "continuation fin=1 rsv=0 m=0 len=2 form=7 min=1 hl=2 82ac\n",
            0x01, 0x02, 'a', 0xE2, 0x80, 0x02, 0x82, 0xAC),
        BAD("text ends inside a code point", ANY, 0, "err PW_EWS_UTF8\n", 0x81, 0x02, 'a', 0xE2),
        BAD("binary is not UTF-8 checked", ANY, 0,
            "binary fin=1 rsv=0 m=0 len=2 form=7 min=1 hl=2 c080\n", 0x82, 0x02, 0xC0, 0x80),
        BAD("compressed text is not UTF-8 checked here", O(PW_WS_FROM_ANY, 4, 0, 0), 0,
            "text fin=1 rsv=4 m=0 len=2 form=7 min=1 hl=2 c080\n", 0xC1, 0x02, 0xC0, 0x80),
        BAD("close with 1-byte payload", ANY, 0, "err PW_EWS_CLOSE_LEN\n", 0x88, 0x01, 0x03),
        BAD("close with code 1006", ANY, 0, "err PW_EWS_CLOSE_CODE\n", 0x88, 0x02, 0x03, 0xEE),
        BAD("close with code 999", ANY, 0, "err PW_EWS_CLOSE_CODE\n", 0x88, 0x02, 0x03, 0xE7),
        BAD("close with invalid reason", ANY, 0, "err PW_EWS_CLOSE_UTF8\n",
            0x88, 0x04, 0x03, 0xE8, 0xC0, 0x80),
        BAD("close reason ends inside a code point", ANY, 0, "err PW_EWS_CLOSE_UTF8\n",
            0x88, 0x03, 0x03, 0xE8, 0xE2),
        BAD("close 1000 with reason", ANY, 0,
            "close fin=1 rsv=0 m=0 len=4 form=7 min=1 hl=2 03e8c3a9\n", 0x88, 0x04, 0x03, 0xE8, 0xC3, 0xA9),
        BAD("empty close", ANY, 0, "close fin=1 rsv=0 m=0 len=0 form=7 min=1 hl=2 \n", 0x88, 0x00),
        BAD("input ends in the header", ANY, 0, "truncated\n", 0x82, 0x7E, 0x01),
        BAD("input ends in the payload", ANY, 0, "truncated\n", 0x82, 0x03, 1, 2),
        BAD("error after a good frame", O(PW_WS_FROM_CLIENT, 0, 0, 0), 0,
            "text fin=1 rsv=0 m=1 len=0 form=7 min=1 hl=6 \nerr PW_EWS_UNMASKED\n",
            0x81, 0x80, 1, 2, 3, 4, 0x81, 0x00),
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        check_stream(t[i].name, &t[i].o, t[i].maxmsg, t[i].in, t[i].len, t[i].expect);
}

static void test_sticky(void)
{
    struct pw_ws_parser p;
    struct pw_ws_event ev;
    struct pw_ws_parser_opts o = {PW_WS_FROM_CLIENT, 0, 0, 0};
    uint8_t bad[] = {0x81, 0x00}, good[] = {0x81, 0x80, 0, 0, 0, 0};
    pw_ws_parser_init(&p, &o);
    IS(pw_ws_parse(&p, bad, 2, &ev), PW_EWS_UNMASKED, "unmasked client frame fails");
    IS(pw_ws_parse(&p, good, 6, &ev), PW_EWS_UNMASKED, "the error is sticky on good input");
    IS(pw_ws_parse(&p, good, 0, &ev), PW_EWS_UNMASKED, "the error is sticky on empty input");
    OK(!pw_ws_parser_idle(&p), "a failed parser is not idle");
    STREQ(pw_errrule(PW_EWS_UNMASKED), "RFC 6455 §5.1", "the error names its rule");

    struct pw_ws_msgstate m;
    pw_ws_msg_init(&m, 0);
    ev.type = PW_WS_EV_HEADER;
    memset(&ev.hdr, 0, sizeof ev.hdr);
    ev.hdr.opcode = PW_WS_OP_CONT;
    IS(pw_ws_msg_event(&m, &ev), PW_EWS_CONT_UNEXPECTED, "message layer: stray continuation fails");
    ev.hdr.opcode = PW_WS_OP_TEXT;
    IS(pw_ws_msg_event(&m, &ev), PW_EWS_CONT_UNEXPECTED, "message layer: its error is sticky");
}

static void test_events(void)
{
    struct pw_ws_parser p;
    struct pw_ws_event ev;
    uint8_t in[] = {0x82, 0x02, 'a', 'b', 0x8A, 0x00};
    pw_ws_parser_init(&p, &any);
    OK(pw_ws_parser_idle(&p), "a new parser is idle");
    IS(pw_ws_parse(&p, in, 6, &ev), 2, "HEADER consumes the header");
    IS(ev.type, PW_WS_EV_HEADER, "  and is a HEADER event");
    IS(ev.hdr.len, 2, "  with the length");
    OK(!pw_ws_parser_idle(&p), "not idle inside a frame");
    IS(pw_ws_parse(&p, in + 2, 1, &ev), 1, "PAYLOAD takes what is there");
    IS(ev.type, PW_WS_EV_PAYLOAD, "  as a PAYLOAD event");
    OK(ev.data == in + 2 && ev.len == 1 && ev.offset == 0, "  pointing into the input");
    IS(pw_ws_parse(&p, in + 3, 3, &ev), 1, "PAYLOAD stops at the frame's end");
    IS(ev.offset, 1, "  at offset 1");
    OK(!pw_ws_parser_idle(&p), "not idle while END is owed");
    IS(pw_ws_parse(&p, in + 4, 0, &ev), 0, "END consumes nothing, even with no input");
    IS(ev.type, PW_WS_EV_END, "  and is an END event");
    OK(pw_ws_parser_idle(&p), "idle after END");
    IS(pw_ws_parse(&p, in + 4, 2, &ev), 2, "empty pong: HEADER");
    IS(pw_ws_parse(&p, in + 6, 0, &ev), 0, "empty pong: END right after");
    IS(ev.type, PW_WS_EV_END, "  is END");
    IS(pw_ws_parse(&p, in + 6, 0, &ev), 0, "no input: nothing");
    IS(ev.type, PW_WS_EV_NONE, "  NONE");
    IS(pw_ws_parse(&p, NULL, 0, &ev), 0, "NULL input of length 0 is fine");
    IS(ev.type, PW_WS_EV_NONE, "  NONE");
}

/* --- encoder --- */
static void test_encoder(void)
{
    uint8_t h[14], f[64];
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_TEXT, NULL, 5, 0), 2, "short header is 2 bytes");
    OK(h[0] == 0x81 && h[1] == 0x05, "  81 05");
    ssize_t n = pw_ws_encode(f, sizeof f, 1, 0, PW_WS_OP_TEXT, key, (const uint8_t *)"Hello", 5, 0);
    static const uint8_t rfc[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    OK(n == 11 && memcmp(f, rfc, 11) == 0, "masked \"Hello\" encodes as RFC 6455 §5.7");
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_BINARY, NULL, 5, 16), 4, "forced 16-bit form");
    OK(h[1] == 126 && h[2] == 0 && h[3] == 5, "  7E 00 05");
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_BINARY, NULL, 5, 64), 10, "forced 64-bit form");
    OK(h[1] == 127 && h[9] == 5 && h[2] == 0, "  7F 00..05");
    IS(pw_ws_encode_header(h, 0, 7, 0xF, key, 0, 0), 6, "any opcode and RSV can be built");
    OK(h[0] == 0x7F && h[1] == 0x80, "  7F 80");
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_BINARY, NULL, 126, 7), PW_EINVAL, "126 in 7-bit form is refused");
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_BINARY, NULL, 65536, 16), PW_EINVAL, "65536 in 16-bit form is refused");
    IS(pw_ws_encode_header(h, 1, 0, PW_WS_OP_BINARY, NULL, 1ULL << 63, 0), PW_EINVAL, "2^63 is refused");
    IS(pw_ws_encode_header(h, 1, 0, 16, NULL, 0, 0), PW_EINVAL, "opcode 16 is refused");
    IS(pw_ws_encode_header(h, 1, 8, 1, NULL, 0, 0), PW_EINVAL, "rsv 8 is refused");
    IS(pw_ws_encode_header(h, 1, 0, 1, NULL, 0, 32), PW_EINVAL, "form 32 is refused");
    IS(pw_ws_encode(f, 6, 1, 0, PW_WS_OP_TEXT, NULL, (const uint8_t *)"Hello", 5, 0), PW_ETOOBIG,
       "encode into a short buffer is PW_ETOOBIG");
    IS(pw_ws_encode(f, 7, 1, 0, PW_WS_OP_TEXT, NULL, (const uint8_t *)"Hello", 5, 0), 7,
       "encode into an exact buffer");

    /* every opcode round-trips through the parser */
    for (int op = 0; op < 16; op++) {
        struct pw_ws_parser p;
        struct pw_ws_event ev;
        n = pw_ws_encode(f, sizeof f, 1, 0, op, key, (const uint8_t *)"xy", 2, 0);
        pw_ws_parser_init(&p, &any);
        ssize_t r = pw_ws_parse(&p, f, (size_t)n, &ev);
        int known = op <= 2 || (op >= 8 && op <= 10);
        if (known)
            OK(r == 6 && ev.hdr.opcode == op && ev.hdr.masked, "opcode %d (%s) round-trips", op,
               pw_ws_opcode_name(op));
        else
            IS(r, PW_EWS_OPCODE, "opcode %d is encoded and then refused by the parser", op);
    }
    STREQ(pw_ws_opcode_name(3), "reserved", "opcode 3 is named reserved");
    STREQ(pw_ws_opcode_name(0), "continuation", "opcode 0 is continuation");
}

/* --- masking --- */
static void test_mask(void)
{
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    uint8_t a[300], b[300];
    int same = 1;
    for (size_t align = 0; align < 16; align++)
        for (uint64_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= 140; len++) {
                for (size_t i = 0; i < len + 16; i++)
                    a[i] = b[i] = (uint8_t)(i * 13 + align);
                pw_ws_mask(a + align, len, key, off);
                for (size_t i = 0; i < len; i++)
                    b[align + i] ^= key[(off + i) % 4];
                if (memcmp(a, b, len + 16) != 0)
                    same = 0;
            }
    OK(same, "mask equals a byte loop at every offset, alignment and length (0..140)");
    /* a large buffer in odd chunks equals one pass */
    static uint8_t big1[100003], big2[100003];
    for (size_t i = 0; i < sizeof big1; i++)
        big1[i] = big2[i] = (uint8_t)(i ^ (i >> 8));
    pw_ws_mask(big1, sizeof big1, key, 0);
    for (size_t off = 0, step = 1; off < sizeof big2; off += step, step = step * 3 % 1021 + 1) {
        size_t n = step < sizeof big2 - off ? step : sizeof big2 - off;
        pw_ws_mask(big2 + off, n, key, off);
    }
    OK(memcmp(big1, big2, sizeof big1) == 0, "masking in odd-sized pieces equals one pass");
    pw_ws_mask(big1, sizeof big1, key, 0);
    int back = 1;
    for (size_t i = 0; i < sizeof big1; i++)
        if (big1[i] != (uint8_t)(i ^ (i >> 8)))
            back = 0;
    OK(back, "masking twice gives the original");

    /* unmask_ascii: the same bytes as pw_ws_mask, and 1 exactly when every
     * unmasked byte is below 0x80, wherever the one high byte sits */
    int same_bytes = 1, right = 1;
    for (size_t len = 0; len <= 200; len++)
        for (size_t hi = 0; hi <= len; hi++) { /* hi == len: none */
            uint8_t plain[200], c1[200], c2[200];
            for (size_t i = 0; i < len; i++)
                plain[i] = (uint8_t)((i * 7 + len) & 0x7F) | (i == hi ? 0x80 : 0);
            memcpy(c1, plain, len);
            pw_ws_mask(c1, len, key, 0);
            memcpy(c2, c1, len);
            int ascii = pw_ws_unmask_ascii(c2, len, key);
            if (memcmp(c2, plain, len) != 0)
                same_bytes = 0;
            if (ascii != (hi == len))
                right = 0;
        }
    OK(same_bytes, "unmask_ascii unmasks as pw_ws_mask does (lengths 0..200)");
    OK(right, "unmask_ascii says ASCII exactly when no byte has bit 7 set, at every position");
}

/* --- close codes --- */
static void test_close(void)
{
    static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                     1012, 1013, 1014, 3000, 3999, 4000, 4999};
    static const unsigned invalid[] = {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000,
                                       2999, 5000, 65535};
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        OK(pw_ws_close_code_valid(valid[i]), "close code %u is valid on the wire", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        OK(!pw_ws_close_code_valid(invalid[i]), "close code %u is not valid on the wire", invalid[i]);

    unsigned code;
    const uint8_t *reason;
    size_t rlen;
    IS(pw_ws_close_parse((const uint8_t *)"", 0, &code, &reason, &rlen), 0, "empty close payload is fine");
    IS(code, 0, "  code 0");
    IS(pw_ws_close_parse((const uint8_t *)"\x03", 1, &code, &reason, &rlen), PW_EWS_CLOSE_LEN,
       "1-byte close payload fails");
    IS(pw_ws_close_parse((const uint8_t *)"\x03\xe8", 2, &code, &reason, &rlen), 0, "1000, no reason");
    IS(code, 1000, "  code 1000");
    IS(rlen, 0, "  empty reason");
    IS(pw_ws_close_parse((const uint8_t *)"\x03\xe9" "bye", 5, &code, &reason, &rlen), 0, "1001 \"bye\"");
    OK(code == 1001 && rlen == 3 && memcmp(reason, "bye", 3) == 0, "  code and reason slice");
    IS(pw_ws_close_parse((const uint8_t *)"\x03\xed", 2, &code, &reason, &rlen), PW_EWS_CLOSE_CODE,
       "1005 on the wire fails");
    IS(pw_ws_close_parse((const uint8_t *)"\x03\xe8\xed\xa0\x80", 5, &code, &reason, &rlen),
       PW_EWS_CLOSE_UTF8, "surrogate in the reason fails");
    uint8_t big[126] = {0x03, 0xe8};
    memset(big + 2, 'a', 124);
    IS(pw_ws_close_parse(big, 126, &code, &reason, &rlen), PW_EWS_CTRL_LEN, "126-byte close payload fails");

    uint8_t out[125];
    IS(pw_ws_close_build(out, 1000, "bye", 3), 5, "build 1000 \"bye\"");
    OK(memcmp(out, "\x03\xe8" "bye", 5) == 0, "  03 e8 b y e");
    IS(pw_ws_close_build(out, 0, NULL, 0), 0, "build code 0: empty payload");
    IS(pw_ws_close_build(out, 1000, (const char *)big, 124), PW_EINVAL, "a 124-byte reason is refused");
    IS(pw_ws_close_build(out, 1000, (const char *)big, 123), 125, "a 123-byte reason fits");

    IS(pw_ws_close_code_for(PW_EWS_UTF8), 1007, "invalid UTF-8 closes with 1007");
    IS(pw_ws_close_code_for(PW_EWS_CLOSE_UTF8), 1007, "invalid close reason closes with 1007");
    IS(pw_ws_close_code_for(PW_EWS_TOOBIG), 1009, "a message over the limit closes with 1009");
    IS(pw_ws_close_code_for(PW_EWSD_TOOBIG), 1009, "an inflated message over the limit closes with 1009");
    IS(pw_ws_close_code_for(PW_EWSD_DATA), 1007, "corrupt compressed data closes with 1007");
    IS(pw_ws_close_code_for(PW_EWS_UNMASKED), 1002, "an unmasked client frame closes with 1002");
    IS(pw_ws_close_code_for(PW_EWS_CONT_EXPECTED), 1002, "a fragmentation error closes with 1002");
    IS(pw_ws_close_code_for(PW_ENOMEM), 1011, "running out of memory closes with 1011");
    STREQ(pw_ws_close_code_name(1000), "normal closure", "1000 is normal closure");
    STREQ(pw_ws_close_code_name(1009), "message too big", "1009 is message too big");
    STREQ(pw_ws_close_code_name(1006), "abnormal closure", "1006 is abnormal closure");
    STREQ(pw_ws_close_code_name(4001), "private use", "4001 is private use");
    STREQ(pw_ws_close_code_name(2000), "unknown", "2000 is unknown");
    IS(pw_ws_close_code_for(PW_ETOOBIG), PW_WS_CLOSE_TOO_BIG, "a capped buffer overflowing closes with 1009");
    IS(pw_ws_close_code_for(PW_EWSD_ZLIB), PW_WS_CLOSE_INTERNAL, "zlib that cannot be set up closes with 1011");
    IS(PW_WS_CLOSE_GAP, 4410, "the gap close is 4410");
    STREQ(pw_ws_close_code_name(PW_WS_CLOSE_GAP), "private use", "4410 is private use by name");
    OK(pw_ws_close_is_normal(1000) && pw_ws_close_is_normal(1001) && pw_ws_close_is_normal(1005),
       "1000, 1001 and 1005 (no code) end normally");
    OK(!pw_ws_close_is_normal(1006) && !pw_ws_close_is_normal(4410) && !pw_ws_close_is_normal(-1),
       "1006, 4410 and no close at all do not");
}

int main(void)
{
    test_rfc_examples();
    test_length_forms();
    test_violations();
    test_sticky();
    test_events();
    test_encoder();
    test_mask();
    test_close();
    return tap_done();
}
