/* test_ws_reader.c — the WebSocket message reader (src/proto/ws_reader.h):
 * RFC 6455 §5.7 and RFC 7692 §7.2.3 examples, every split point, control
 * frames among fragments, close payloads, UTF-8 at every position, inflate
 * bombs, zero-copy delivery, limits, sticky errors, STOP. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto/ws_reader.h"
#include "tap.h"

/* --- a trace of the callbacks ------------------------------------------ */

struct rec {
    char s[16384];
    size_t n;
    const uint8_t *lo, *hi;      /* the piece being fed: zero-copy check */
    int msgs, zero_copy, controls, closes;
    int stop_at_msg;             /* STOP after this many messages (0: never) */
    struct pw_wsr *free_on_msg;  /* free this reader in on_message, then STOP */
};

static void rec_printf(struct rec *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_printf(struct rec *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n += (size_t)k < sizeof t->s - t->n ? (size_t)k : sizeof t->s - t->n - 1;
}

/* short payloads as text, longer ones as length + FNV hash */
static void rec_bytes(struct rec *t, const uint8_t *p, size_t n)
{
    if (n <= 40) {
        for (size_t i = 0; i < n; i++)
            rec_printf(t, p[i] >= 0x20 && p[i] < 0x7f ? "%c" : "\\x%02x", p[i]);
        return;
    }
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    rec_printf(t, "[%zu bytes %08x]", n, h);
}

static int on_message(void *ud, int op, const uint8_t *d, size_t n)
{
    struct rec *t = ud;
    t->msgs++;
    if (d >= t->lo && d < t->hi)
        t->zero_copy++;
    rec_printf(t, "%s(", pw_ws_opcode_name(op));
    rec_bytes(t, d, n);
    rec_printf(t, ") ");
    if (t->free_on_msg) {
        pw_wsr_free(t->free_on_msg);
        memset(t->free_on_msg, 0xa5, sizeof *t->free_on_msg); /* as if gone */
        return PW_WSR_STOP;
    }
    return t->stop_at_msg && t->msgs == t->stop_at_msg ? PW_WSR_STOP : PW_WSR_GO;
}

static int on_control(void *ud, int op, const uint8_t *d, size_t n)
{
    struct rec *t = ud;
    t->controls++;
    rec_printf(t, "%s(", pw_ws_opcode_name(op));
    rec_bytes(t, d, n);
    rec_printf(t, ") ");
    return PW_WSR_GO;
}

static int on_close(void *ud, unsigned code, const uint8_t *reason, size_t n)
{
    struct rec *t = ud;
    t->closes++;
    rec_printf(t, "close(%u ", code);
    rec_bytes(t, reason, n);
    rec_printf(t, ") ");
    return PW_WSR_GO;
}

static int on_frame(void *ud, const struct pw_wsr_frame *f)
{
    struct rec *t = ud;
    rec_printf(t, "[%s fin=%u rsv=%u len=%llu%s ", pw_ws_opcode_name(f->hdr.opcode), f->hdr.fin,
               f->hdr.rsv, (unsigned long long)f->hdr.len, f->inflated ? " inflated" : "");
    rec_bytes(t, f->payload, f->len);
    rec_printf(t, "] ");
    return PW_WSR_GO;
}

static const struct pw_wsr_cb cbs = {on_message, on_control, on_close, NULL};
static const struct pw_wsr_cb cbs_wire = {on_message, on_control, on_close, on_frame};

/* Feeds wire[0..len) cut at cuts[0..ncut) (sorted) into a fresh reader;
 * appends "err NAME" when it failed.  Returns 0 or the error. */
static int run_cuts(const struct pw_wsr_opts *o, const struct pw_wsr_cb *cb, const uint8_t *wire,
                    size_t len, const size_t *cuts, size_t ncut, struct rec *t)
{
    struct pw_wsr r;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, wire, len);
    memset(t, 0, sizeof *t);
    pw_wsr_init(&r, o);
    int err = 0;
    size_t prev = 0;
    for (size_t i = 0; i <= ncut && !err; i++) {
        size_t c = i < ncut ? cuts[i] : len;
        t->lo = copy + prev;
        t->hi = copy + c;
        ssize_t k = pw_wsr_feed(&r, copy + prev, c - prev, cb, t);
        if (k < 0) {
            err = (int)k;
            rec_printf(t, "err %s", pw_errname(err));
        } else if ((size_t)k != c - prev) {
            rec_printf(t, "short %zd", k);
        }
        prev = c;
    }
    free(copy);
    pw_wsr_free(&r);
    return err;
}

static int run_whole(const struct pw_wsr_opts *o, const uint8_t *wire, size_t len, struct rec *t)
{
    return run_cuts(o, &cbs, wire, len, NULL, 0, t);
}

/* Every split in two, and byte by byte, must give the trace of one feed. */
static int same_at_every_split(const struct pw_wsr_opts *o, const struct pw_wsr_cb *cb,
                               const uint8_t *wire, size_t len, const char *want)
{
    static struct rec t;
    for (size_t c = 0; c <= len; c++) {
        run_cuts(o, cb, wire, len, &c, 1, &t);
        if (strcmp(t.s, want) != 0) {
            printf("# split at %zu: %s\n#  want %s\n", c, t.s, want);
            return 0;
        }
    }
    size_t *all = malloc((len + 1) * sizeof *all);
    for (size_t i = 0; i < len; i++)
        all[i] = i + 1;
    run_cuts(o, cb, wire, len, all, len ? len - 1 : 0, &t);
    free(all);
    if (strcmp(t.s, want) != 0) {
        printf("# byte by byte: %s\n#  want %s\n", t.s, want);
        return 0;
    }
    return 1;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = hex; p[0] && p[1];) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* appends one frame (masked with KEY when mask) */
static size_t put(uint8_t *out, int fin, unsigned rsv, int op, int mask, const void *p, size_t n)
{
    ssize_t k = pw_ws_encode(out, 14 + n, fin, rsv, op, mask ? KEY : NULL, p, n, 0);
    return k > 0 ? (size_t)k : 0;
}

static const struct pw_wsr_opts from_server = {PW_WS_FROM_SERVER, 0, 0, 0, NULL};
static const struct pw_wsr_opts from_client = {PW_WS_FROM_CLIENT, 0, 0, 1, NULL};

/* --- RFC 6455 §5.7 ------------------------------------------------------ */

static void test_rfc6455_examples(void)
{
    static struct rec t;
    uint8_t w[70000];
    size_t n;

    n = unhex("81 05 48 65 6c 6c 6f", w);
    run_whole(&from_server, w, n, &t);
    STREQ(t.s, "text(Hello) ", "§5.7 single-frame unmasked text");
    IS(t.zero_copy, 1, "§5.7 single-frame text is delivered in place");

    n = unhex("81 85 37 fa 21 3d 7f 9f 4d 51 58", w);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "text(Hello) ", "§5.7 single-frame masked text");

    n = unhex("01 03 48 65 6c 80 02 6c 6f", w);
    run_whole(&from_server, w, n, &t);
    STREQ(t.s, "text(Hello) ", "§5.7 fragmented unmasked text");
    IS(t.zero_copy, 0, "a fragmented message is assembled, not in place");

    n = unhex("89 05 48 65 6c 6c 6f", w);
    run_whole(&from_server, w, n, &t);
    STREQ(t.s, "ping(Hello) ", "§5.7 unmasked ping");

    n = unhex("8a 85 37 fa 21 3d 7f 9f 4d 51 58", w);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "pong(Hello) ", "§5.7 masked pong");

    uint8_t big[65536];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    n = unhex("82 7e 01 00", w);
    memcpy(w + n, big, 256);
    run_whole(&from_server, w, n + 256, &t);
    OK(strncmp(t.s, "binary([256 bytes", 17) == 0 && t.zero_copy == 1,
       "§5.7 256 bytes binary in one unmasked frame (16-bit length): %s", t.s);

    n = unhex("82 7f 00 00 00 00 00 01 00 00", w);
    memcpy(w + n, big, sizeof big);
    run_whole(&from_server, w, n + sizeof big, &t);
    OK(strncmp(t.s, "binary([65536 bytes", 19) == 0 && t.zero_copy == 1,
       "§5.7 64 KiB binary in one unmasked frame (64-bit length): %s", t.s);

    n = unhex("01 03 48 65 6c 80 02 6c 6f", w);
    OK(same_at_every_split(&from_server, &cbs, w, n, "text(Hello) "),
       "§5.7 fragmented text: the same at every split point and byte by byte");
}

/* --- fragments, control frames among them, every split ------------------- */

static void test_fragments_everywhere(void)
{
    static struct rec t;
    uint8_t w[512];
    size_t n = 0;
    /* "κόσμε 🎉" in 4 fragments cut inside code points, with a ping and a
     * pong between them, then a binary message */
    const char *txt = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5 \xf0\x9f\x8e\x89";
    n += put(w + n, 0, 0, PW_WS_OP_TEXT, 1, txt, 3);
    n += put(w + n, 1, 0, PW_WS_OP_PING, 1, "p1", 2);
    n += put(w + n, 0, 0, PW_WS_OP_CONT, 1, txt + 3, 9);
    n += put(w + n, 1, 0, PW_WS_OP_PONG, 1, "", 0);
    n += put(w + n, 0, 0, PW_WS_OP_CONT, 1, txt + 12, 0);
    n += put(w + n, 1, 0, PW_WS_OP_CONT, 1, txt + 12, strlen(txt) - 12);
    n += put(w + n, 1, 0, PW_WS_OP_BINARY, 1, "\x00\xff", 2);
    const char *want = "ping(p1) pong() text(\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5 "
                       "\\xf0\\x9f\\x8e\\x89) binary(\\x00\\xff) ";
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, want, "control frames among fragments come first; the message is whole");
    IS(t.msgs, 2, "two messages");
    OK(same_at_every_split(&from_client, &cbs, w, n, want),
       "fragmented text with pings: the same at every split point and byte by byte");

    const char *wire_want =
        "[text fin=0 rsv=0 len=3 \\xce\\xba\\xe1] [ping fin=1 rsv=0 len=2 p1] ping(p1) "
        "[continuation fin=0 rsv=0 len=9 \\xbd\\xb9\\xcf\\x83\\xce\\xbc\\xce\\xb5 ] "
        "[pong fin=1 rsv=0 len=0 ] pong() [continuation fin=0 rsv=0 len=0 ] "
        "[continuation fin=1 rsv=0 len=4 \\xf0\\x9f\\x8e\\x89] text(\\xce\\xba\\xe1\\xbd\\xb9"
        "\\xcf\\x83\\xce\\xbc\\xce\\xb5 \\xf0\\x9f\\x8e\\x89) [binary fin=1 rsv=0 len=2 \\x00\\xff] "
        "binary(\\x00\\xff) ";
    OK(same_at_every_split(&from_client, &cbs_wire, w, n, wire_want),
       "wire view: every frame with its own payload, before its message, at every split");

    /* a ping split across feeds is delivered whole */
    n = put(w, 1, 0, PW_WS_OP_PING, 1, "0123456789", 10);
    size_t cut = 9;
    run_cuts(&from_client, &cbs, w, n, &cut, 1, &t);
    STREQ(t.s, "ping(0123456789) ", "a ping split across feeds is delivered whole");
}

/* --- close frames --------------------------------------------------------- */

static void test_close(void)
{
    static struct rec t;
    uint8_t w[256];
    size_t n;

    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x03\xe8" "bye", 5);
    n += put(w + n, 1, 0, PW_WS_OP_TEXT, 1, "after", 5);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "close(1000 bye) ", "close with code and reason; what follows is ignored");
    OK(same_at_every_split(&from_client, &cbs, w, n, "close(1000 bye) "), "close at every split point");

    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "", 0);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "close(1005 ) ", "close without a code reports 1005 (RFC 6455 §7.1.5)");

    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x0f\xa0", 2);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "close(4000 ) ", "close with a private-use code and no reason");

    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x03", 1);
    IS(run_whole(&from_client, w, n, &t), PW_EWS_CLOSE_LEN, "a 1-byte close payload fails");
    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x03\xed", 2);
    int e = run_whole(&from_client, w, n, &t);
    IS(e, PW_EWS_CLOSE_CODE, "close code 1005 on the wire fails");
    IS(pw_ws_close_code_for(e), 1002, "... with close 1002");
    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x03\xe8\xff", 3);
    e = run_whole(&from_client, w, n, &t);
    IS(e, PW_EWS_CLOSE_UTF8, "a close reason that is not UTF-8 fails");
    IS(pw_ws_close_code_for(e), 1007, "... with close 1007");
    IS(t.closes, 0, "and is not delivered");

    /* a close split over feeds */
    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, "\x03\xe9" "going", 7);
    size_t cuts[] = {3, 8};
    run_cuts(&from_client, &cbs, w, n, cuts, 2, &t);
    STREQ(t.s, "close(1001 going) ", "a close split across feeds");
}

/* --- UTF-8 ---------------------------------------------------------------- */

static void test_utf8_every_position(void)
{
    static struct rec t;
    const char *good = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80!";
    size_t len = strlen(good);
    int all_single = 1, all_frag = 1, all_fast = 1;
    for (size_t i = 0; i < len; i++) {
        uint8_t bad[64], w[256];
        memcpy(bad, good, len);
        bad[i] = 0xff; /* never valid anywhere */
        size_t n = put(w, 1, 0, PW_WS_OP_TEXT, 1, bad, len);
        if (run_whole(&from_client, w, n, &t) != PW_EWS_UTF8 || t.msgs)
            all_single = 0;
        /* in three fragments */
        size_t a = len / 3, b = 2 * len / 3;
        n = put(w, 0, 0, PW_WS_OP_TEXT, 1, bad, a);
        n += put(w + n, 0, 0, PW_WS_OP_CONT, 1, bad + a, b - a);
        n += put(w + n, 1, 0, PW_WS_OP_CONT, 1, bad + b, len - b);
        if (run_whole(&from_client, w, n, &t) != PW_EWS_UTF8 || t.msgs)
            all_frag = 0;
        /* fail fast: only the bytes up to the bad one have arrived */
        n = put(w, 1, 0, PW_WS_OP_TEXT, 1, bad, len);
        size_t upto = n - len + i + 1;
        struct pw_wsr r;
        pw_wsr_init(&r, &from_client);
        if (pw_wsr_feed(&r, w, upto, &cbs, &t) != PW_EWS_UTF8)
            all_fast = 0;
        pw_wsr_free(&r);
    }
    OK(all_single, "a bad byte at every position of a text frame fails with 1007's rule");
    OK(all_frag, "a bad byte at every position of a fragmented text fails");
    OK(all_fast, "it fails when the bad byte arrives, before the message is complete");

    uint8_t w[64];
    size_t n = put(w, 1, 0, PW_WS_OP_TEXT, 1, "ok\xe2\x82", 4);
    IS(run_whole(&from_client, w, n, &t), PW_EWS_UTF8, "text that ends inside a code point fails");
    n = put(w, 1, 0, PW_WS_OP_BINARY, 1, "\xff\xfe", 2);
    run_whole(&from_client, w, n, &t);
    STREQ(t.s, "binary(\\xff\\xfe) ", "binary is not UTF-8 checked");
}

/* --- permessage-deflate --------------------------------------------------- */

static const struct pw_wsd_params ctx_takeover = {0, 0, 15, 15};

/* a client's reader of a server's compressed frames */
static int run_deflate(const char *hex, uint64_t max, const struct pw_wsr_cb *cb, struct rec *t)
{
    static uint8_t w[4096];
    size_t n = unhex(hex, w);
    struct pw_wsd d;
    pw_wsd_init(&d, &ctx_takeover, 0, -1, max);
    struct pw_wsr_opts o = {PW_WS_FROM_SERVER, max, 0, 0, &d};
    int e = run_cuts(&o, cb, w, n, NULL, 0, t);
    pw_wsd_free(&d);
    return e;
}

static int deflate_every_split(const char *hex, const char *want)
{
    static uint8_t w[4096];
    size_t n = unhex(hex, w);
    int ok = 1;
    /* each run needs a fresh inflater: the context carries across messages */
    static struct rec t;
    for (size_t c = 0; c <= n && ok; c++) {
        struct pw_wsd d;
        pw_wsd_init(&d, &ctx_takeover, 0, -1, 0);
        struct pw_wsr_opts o = {PW_WS_FROM_SERVER, 0, 0, 0, &d};
        run_cuts(&o, &cbs, w, n, &c, 1, &t);
        pw_wsd_free(&d);
        if (strcmp(t.s, want) != 0) {
            printf("# split at %zu: %s\n", c, t.s);
            ok = 0;
        }
    }
    return ok;
}

static void test_rfc7692_examples(void)
{
    static struct rec t;
    static const struct {
        const char *what, *hex, *want;
    } ex[] = {
        {"§7.2.3.1 a message compressed", "c1 07 f2 48 cd c9 c9 07 00", "text(Hello) "},
        {"§7.2.3.1 the same message fragmented", "41 03 f2 48 cd 80 04 c9 c9 07 00", "text(Hello) "},
        {"§7.2.3.2 two messages sharing the context",
         "c1 07 f2 48 cd c9 c9 07 00 c1 05 f2 00 11 00 00", "text(Hello) text(Hello) "},
        {"§7.2.3.3 a DEFLATE block with no compression", "c1 0b 00 05 00 fa ff 48 65 6c 6c 6f 00",
         "text(Hello) "},
        {"§7.2.3.4 a DEFLATE block with BFINAL set", "c1 08 f3 48 cd c9 c9 07 00 00", "text(Hello) "},
        {"§7.2.3.5 two DEFLATE blocks in one message",
         "c1 0d f2 48 05 00 00 00 ff ff ca c9 c9 07 00", "text(Hello) "},
        {"§7.2.3.6 an empty message", "c1 01 00", "text() "},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        run_deflate(ex[i].hex, 0, &cbs, &t);
        STREQ(t.s, ex[i].want, "RFC 7692 %s", ex[i].what);
        OK(deflate_every_split(ex[i].hex, ex[i].want), "RFC 7692 %s: the same at every split", ex[i].what);
    }
    run_deflate("41 03 f2 48 cd 89 00 80 04 c9 c9 07 00", 0, &cbs_wire, &t);
    STREQ(t.s, "[text fin=0 rsv=4 len=3 inflated He] [ping fin=1 rsv=0 len=0 ] ping() "
               "[continuation fin=1 rsv=0 len=4 inflated llo] text(Hello) ",
          "wire view: a compressed frame shows what it inflated to");

    IS(run_deflate("c1 07 f2 48 cd c9 c9 07 00", 6, &cbs, &t), PW_EWS_TOOBIG,
       "max_message bounds the compressed size too, at the header");
    IS(pw_ws_close_code_for(PW_EWSD_TOOBIG), 1009, "an inflated message over the limit closes with 1009");
    run_deflate("c1 07 f2 48 cd c9 c9 07 00", 7, &cbs, &t);
    STREQ(t.s, "text(Hello) ", "a message within both limits passes");
    IS(run_deflate("c1 03 ff ff ff", 0, &cbs, &t), PW_EWSD_DATA, "corrupt DEFLATE data fails");
    IS(pw_ws_close_code_for(PW_EWSD_DATA), 1007, "... with close 1007");
    IS(run_deflate("c1 07 f2 48 cd c9 c9 07 00", 0, &(struct pw_wsr_cb){on_message, 0, 0, 0}, &t), 0,
       "callbacks other than on_message may be NULL");

    /* no deflate agreed: RSV1 is a protocol error */
    uint8_t w[16];
    size_t n = unhex("c1 07 f2 48 cd c9 c9 07 00", w);
    IS(run_whole(&from_server, w, n, &t), PW_EWS_RSV, "RSV1 without permessage-deflate fails");
}

/* compress `in` as the server, into frames of at most `frag` payload bytes */
static size_t server_frames(const uint8_t *in, size_t len, int op, size_t frag, uint8_t *out, size_t cap)
{
    struct pw_wsd d;
    struct pw_buf z;
    pw_wsd_init(&d, &ctx_takeover, 1, -1, 0);
    pw_buf_init(&z, 0);
    pw_wsd_compress(&d, in, len, &z);
    size_t n = 0;
    for (size_t off = 0; off == 0 || off < z.len; off += frag) {
        size_t k = z.len - off < frag ? z.len - off : frag;
        if (n + 14 + k > cap)
            break;
        n += (size_t)pw_ws_encode(out + n, cap - n, off + k == z.len, off ? 0 : 4,
                                  off ? PW_WS_OP_CONT : op, NULL, z.p + off, k, 0);
    }
    pw_buf_free(&z);
    pw_wsd_free(&d);
    return n;
}

static int run_frames_deflate(const uint8_t *w, size_t n, uint64_t max, struct rec *t, size_t *peak)
{
    struct pw_wsd d;
    struct pw_wsr r;
    pw_wsd_init(&d, &ctx_takeover, 0, -1, max);
    struct pw_wsr_opts o = {PW_WS_FROM_SERVER, max, 0, 0, &d};
    pw_wsr_init(&r, &o);
    uint8_t *copy = malloc(n);
    memcpy(copy, w, n);
    memset(t, 0, sizeof *t);
    int e = 0;
    *peak = 0;
    for (size_t off = 0; off < n && !e; off += 100) { /* 100-byte reads */
        size_t k = n - off < 100 ? n - off : 100;
        ssize_t rc = pw_wsr_feed(&r, copy + off, k, &cbs, t);
        if (rc < 0)
            e = (int)rc;
        if (pw_wsr_held(&r) > *peak)
            *peak = pw_wsr_held(&r);
    }
    pw_wsr_free(&r);
    pw_wsd_free(&d);
    free(copy);
    return e;
}

static void test_deflate_limits(void)
{
    static struct rec t;
    size_t big = 1 << 20, peak;
    uint8_t *zeros = calloc(1, big);
    uint8_t *w = malloc(big);
    size_t n = server_frames(zeros, big, PW_WS_OP_BINARY, 1 << 20, w, big);
    OK(n < 4096, "1 MiB of zeros compresses to %zu bytes", n);
    IS(run_frames_deflate(w, n, 65536, &t, &peak), PW_EWSD_TOOBIG,
       "an inflate bomb stops at max_message (PW_EWSD_TOOBIG)");
    OK(peak <= 65537 + 125, "memory held stays within the limit (%zu bytes)", peak);
    IS(t.msgs, 0, "nothing of it is delivered");
    n = server_frames(zeros, big, PW_WS_OP_BINARY, 300, w, big);
    IS(run_frames_deflate(w, n, 65536, &t, &peak), PW_EWSD_TOOBIG, "... also in 300-byte fragments");
    n = server_frames(zeros, 65536, PW_WS_OP_BINARY, 300, w, big);
    IS(run_frames_deflate(w, n, 65536, &t, &peak), 0, "a message of exactly max_message passes");
    IS(t.msgs, 1, "... and is delivered");

    /* text: UTF-8 is checked on the inflated bytes, fail fast */
    memset(zeros, 'a', 5000);
    zeros[3000] = 0xc0;
    n = server_frames(zeros, 5000, PW_WS_OP_TEXT, 200, w, big);
    IS(run_frames_deflate(w, n, 0, &t, &peak), PW_EWS_UTF8, "bad UTF-8 inside compressed text fails");
    zeros[3000] = 'a';
    zeros[4999] = 0xe2;
    n = server_frames(zeros, 5000, PW_WS_OP_TEXT, 200, w, big);
    IS(run_frames_deflate(w, n, 0, &t, &peak), PW_EWS_UTF8,
       "compressed text that ends inside a code point fails");
    zeros[4999] = 'a';
    n = server_frames(zeros, 5000, PW_WS_OP_TEXT, 200, w, big);
    IS(run_frames_deflate(w, n, 0, &t, &peak), 0, "the same text, valid, passes");
    free(zeros);
    free(w);
}

/* --- memory, zero copy, limits, sticky errors, STOP ---------------------- */

static void test_memory_and_zero_copy(void)
{
    static struct rec t;
    uint8_t w[4096], pl[1000];
    memset(pl, 'x', sizeof pl);
    size_t n = put(w, 1, 0, PW_WS_OP_BINARY, 1, pl, sizeof pl);
    n += put(w + n, 1, 0, PW_WS_OP_BINARY, 1, pl, 10);
    run_whole(&from_client, w, n, &t);
    IS(t.zero_copy, 2, "whole messages in the input are delivered in place (zero-copy)");

    struct pw_wsr r;
    pw_wsr_init(&r, &from_client);
    IS(pw_wsr_held(&r), 0, "a new reader holds no heap memory");
    IS(pw_wsr_idle(&r), 1, "a new reader is idle (may be dropped and made again)");
    memset(&t, 0, sizeof t);
    t.lo = w, t.hi = w + n;
    pw_wsr_feed(&r, w, 500, &cbs, &t);
    OK(pw_wsr_held(&r) >= 1000 - 14 - 486, "a message in flight is buffered");
    IS(pw_wsr_idle(&r), 0, "... and the reader is not idle");
    t.lo = w + 500, t.hi = w + n;
    pw_wsr_feed(&r, w + 500, n - 500, &cbs, &t);
    IS(t.msgs, 2, "it completes with the next feed");
    IS(t.zero_copy, 1, "the split one was copied, the whole one not");
    IS(pw_wsr_held(&r), 0, "nothing is held once the messages are delivered");
    IS(pw_wsr_idle(&r), 1, "idle again between messages");
    /* a control frame split across feeds */
    n = put(w, 1, 0, PW_WS_OP_PING, 1, "12345678", 8);
    pw_wsr_feed(&r, w, 8, &cbs, &t);
    IS(pw_wsr_held(&r), 125, "a control frame split across feeds holds 125 bytes");
    IS(pw_wsr_idle(&r), 0, "a control frame half read: not idle");
    pw_wsr_feed(&r, w + 8, n - 8, &cbs, &t);
    IS(pw_wsr_held(&r), 0, "... until it is complete");
    IS(pw_wsr_idle(&r), 1, "... then idle");
    /* a header only: nothing held, yet the parser is inside a frame */
    n = put(w, 1, 0, PW_WS_OP_TEXT, 1, "hello", 5);
    pw_wsr_feed(&r, w, 3, &cbs, &t);
    IS(pw_wsr_idle(&r), 0, "part of a header read: not idle");
    pw_wsr_feed(&r, w + 3, n - 3, &cbs, &t);
    IS(pw_wsr_idle(&r), 1, "the frame done: idle");
    /* the first fragment of a message: its text state lives in the reader */
    n = put(w, 0, 0, PW_WS_OP_TEXT, 1, "he", 2);
    pw_wsr_feed(&r, w, n, &cbs, &t);
    IS(pw_wsr_idle(&r), 0, "between the fragments of a message: not idle");
    n = put(w, 1, 0, PW_WS_OP_CONT, 1, "llo", 3);
    pw_wsr_feed(&r, w, n, &cbs, &t);
    IS(pw_wsr_idle(&r), 1, "the message done: idle");
    /* the peer's close: the reader says so, and must not be made again */
    uint8_t cl[2] = {0x03, 0xe8};
    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, cl, 2);
    pw_wsr_feed(&r, w, n, &cbs, &t);
    IS(pw_wsr_idle(&r), 0, "after the peer's close: not idle");
    pw_wsr_free(&r);
}

static void test_limits_and_sticky(void)
{
    static struct rec t;
    uint8_t w[4096], pl[300];
    memset(pl, 'y', sizeof pl);
    struct pw_wsr_opts o = {PW_WS_FROM_CLIENT, 1000, 200, 1, NULL};
    size_t n = put(w, 1, 0, PW_WS_OP_BINARY, 1, pl, 201);
    size_t cut = 10; /* only the header has arrived */
    IS(run_cuts(&o, &cbs, w, n, &cut, 1, &t), PW_EWS_TOOBIG, "a frame over max_frame fails at its header");
    IS(pw_ws_close_code_for(PW_EWS_TOOBIG), 1009, "... with close 1009");
    n = 0;
    for (int i = 0; i < 5; i++)
        n += put(w + n, i == 4, 0, i ? PW_WS_OP_CONT : PW_WS_OP_BINARY, 1, pl, 200);
    IS(run_cuts(&o, &cbs, w, n, NULL, 0, &t), 0, "5 fragments of 200 make 1000 bytes: at the limit");
    n = 0;
    for (int i = 0; i < 6; i++)
        n += put(w + n, i == 5, 0, i ? PW_WS_OP_CONT : PW_WS_OP_BINARY, 1, pl, 200);
    IS(run_cuts(&o, &cbs, w, n, NULL, 0, &t), PW_EWS_TOOBIG, "a 6th fragment goes over max_message");

    /* a server run with --max-message under 125: control frames keep theirs */
    struct pw_wsr_opts small = {PW_WS_FROM_CLIENT, 10, 10, 1, NULL};
    uint8_t cl[125] = {0x03, 0xe8};
    memset(cl + 2, 'r', sizeof cl - 2);
    n = put(w, 1, 0, PW_WS_OP_PING, 1, pl, 125);
    IS(run_cuts(&small, &cbs, w, n, NULL, 0, &t), 0, "a ping of 125 bytes passes a max_frame of 10");
    IS(t.controls, 1, "... and is delivered");
    n = put(w, 1, 0, PW_WS_OP_CLOSE, 1, cl, sizeof cl);
    IS(run_cuts(&small, &cbs, w, n, NULL, 0, &t), 0, "so does a close with a 123-byte reason");
    n = put(w, 1, 0, PW_WS_OP_TEXT, 1, pl, 11);
    IS(run_cuts(&small, &cbs, w, n, NULL, 0, &t), PW_EWS_TOOBIG, "while a text frame of 11 bytes fails");

    n = put(w, 1, 0, PW_WS_OP_TEXT, 0, "hi", 2);
    IS(run_whole(&from_client, w, n, &t), PW_EWS_UNMASKED, "a client frame must be masked");
    IS(run_whole(&from_server, w, n, &t), 0, "a server frame must not");
    n = put(w, 1, 0, PW_WS_OP_CONT, 1, "hi", 2);
    struct pw_wsr r;
    pw_wsr_init(&r, &from_client);
    IS(pw_wsr_feed(&r, w, n, &cbs, &t), PW_EWS_CONT_UNEXPECTED, "a stray continuation fails");
    n = put(w, 1, 0, PW_WS_OP_TEXT, 1, "hi", 2);
    memset(&t, 0, sizeof t);
    IS(pw_wsr_feed(&r, w, n, &cbs, &t), PW_EWS_CONT_UNEXPECTED, "errors are sticky");
    IS(t.msgs, 0, "nothing is delivered after an error");
    pw_wsr_free(&r);
    IS(pw_ws_close_code_for(PW_ENOMEM), 1011, "out of memory closes with 1011");
    IS(pw_ws_close_code_for(PW_ETOOBIG), 1009, "a full buffer closes with 1009");
    IS(pw_ws_close_code_for(PW_EWSD_ZLIB), 1011, "zlib failing to start closes with 1011");
}

static void test_stop(void)
{
    static struct rec t;
    uint8_t w[256];
    size_t n1 = put(w, 1, 0, PW_WS_OP_TEXT, 1, "one", 3);
    size_t n = n1 + put(w + n1, 1, 0, PW_WS_OP_TEXT, 1, "two", 3);
    struct pw_wsr r;
    pw_wsr_init(&r, &from_client);
    memset(&t, 0, sizeof t);
    t.stop_at_msg = 1;
    t.lo = w, t.hi = w + n;
    ssize_t k = pw_wsr_feed(&r, w, n, &cbs, &t);
    IS(k, (ssize_t)n1, "STOP returns after the frame that was delivered");
    STREQ(t.s, "text(one) ", "and nothing more is delivered");
    k = pw_wsr_feed(&r, w + k, n - (size_t)k, &cbs, &t);
    STREQ(t.s, "text(one) text(two) ", "feeding the rest goes on where it stopped");
    pw_wsr_free(&r);

    /* a callback that frees the reader (as a torn-down connection) */
    struct pw_wsr *heap = malloc(sizeof *heap);
    pw_wsr_init(heap, &from_client);
    n = put(w, 0, 0, PW_WS_OP_TEXT, 1, "fr", 2);
    n += put(w + n, 1, 0, PW_WS_OP_CONT, 1, "ag", 2);
    n += put(w + n, 1, 0, PW_WS_OP_TEXT, 1, "never", 5);
    memset(&t, 0, sizeof t);
    t.free_on_msg = heap;
    k = pw_wsr_feed(heap, w, n, &cbs, &t);
    OK(k > 0 && t.msgs == 1, "a callback may free the reader and STOP (ASan checks the rest)");
    free(heap);
}

int main(void)
{
    test_rfc6455_examples();
    test_fragments_everywhere();
    test_close();
    test_utf8_every_position();
    test_rfc7692_examples();
    test_deflate_limits();
    test_memory_and_zero_copy();
    test_limits_and_sticky();
    test_stop();
    return tap_done();
}
