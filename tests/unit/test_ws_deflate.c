/* test_ws_deflate.c — permessage-deflate negotiation and per-message
 * compression (src/ws_deflate.h), RFC 7692 examples. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"
#include "proto/ws_handshake.h"

static struct pw_ws_ext exts[PW_WS_MAX_EXTS];

static int parse_exts(const char *hdr)
{
    struct pw_str v = {hdr, strlen(hdr)};
    return pw_ws_ext_parse(v, exts, 0, PW_WS_MAX_EXTS);
}

/* Server side: offer → response header text ("" when declined). */
static const char *server_says(const char *offer, const struct pw_wsd_config *cfg,
                               struct pw_wsd_params *p)
{
    static char hdr[160];
    int n = parse_exts(offer);
    if (n < 0)
        return "(offer does not parse)";
    struct pw_wsd_params tmp;
    int r = pw_wsd_server_accept(exts, (size_t)n, cfg, p ? p : &tmp, hdr, sizeof hdr);
    if (r < 0)
        return "(error)";
    return r ? hdr : "";
}

static void test_server_negotiation(void)
{
    struct pw_wsd_params p;
    STREQ(server_says("permessage-deflate", NULL, &p), "permessage-deflate", "plain offer accepted as is");
    OK(p.server_max_window_bits == 15 && p.client_max_window_bits == 15 &&
       !p.server_no_context_takeover && !p.client_no_context_takeover, "  defaults: 15/15, context takeover");
    STREQ(server_says("permessage-deflate; client_max_window_bits", NULL, &p),
          "permessage-deflate; client_max_window_bits=15", "client_max_window_bits without value: answered 15");
    STREQ(server_says("permessage-deflate; server_no_context_takeover; client_no_context_takeover", NULL, &p),
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
          "both no_context_takeover accepted");
    OK(p.server_no_context_takeover && p.client_no_context_takeover, "  both set in params");
    STREQ(server_says("permessage-deflate; server_max_window_bits=10", NULL, &p),
          "permessage-deflate; server_max_window_bits=10", "server_max_window_bits=10 accepted");
    IS(p.server_max_window_bits, 10, "  params say 10");
    STREQ(server_says("permessage-deflate; server_max_window_bits=8", NULL, &p),
          "permessage-deflate; server_max_window_bits=8", "server_max_window_bits=8 accepted (deflated with 9 bits)");
    STREQ(server_says("permessage-deflate; client_max_window_bits=9", NULL, &p),
          "permessage-deflate; client_max_window_bits=9", "client_max_window_bits=9 accepted");
    IS(p.client_max_window_bits, 9, "  params say 9");
    STREQ(server_says("permessage-deflate; server_max_window_bits=\"12\"", NULL, &p),
          "permessage-deflate; server_max_window_bits=12", "quoted value accepted (§7.1)");
    STREQ(server_says("PerMessage-Deflate", NULL, &p), "permessage-deflate",
          "extension name matched without case");

    struct pw_wsd_config cfg = {0};
    cfg.server_max_window_bits = 12;
    STREQ(server_says("permessage-deflate", &cfg, &p), "permessage-deflate; server_max_window_bits=12",
          "server limits its own window without being asked");
    STREQ(server_says("permessage-deflate; server_max_window_bits=10", &cfg, &p),
          "permessage-deflate; server_max_window_bits=10", "the smaller of offer and limit wins");
    cfg = (struct pw_wsd_config){0};
    cfg.client_max_window_bits = 10;
    STREQ(server_says("permessage-deflate; client_max_window_bits", &cfg, &p),
          "permessage-deflate; client_max_window_bits=10", "server caps the client's window when allowed");
    STREQ(server_says("permessage-deflate", &cfg, &p), "permessage-deflate",
          "client_max_window_bits not offered: never sent");
    IS(p.client_max_window_bits, 15, "  and the inflater uses 15");
    cfg = (struct pw_wsd_config){0};
    cfg.server_no_context_takeover = 1;
    cfg.client_no_context_takeover = 1;
    STREQ(server_says("permessage-deflate", &cfg, &p),
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
          "server may impose no_context_takeover both ways");

    static const char *declined[] = {
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; client_max_window_bits=10; client_max_window_bits=11",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        "x-webkit-deflate-frame",
    };
    for (size_t i = 0; i < sizeof declined / sizeof declined[0]; i++)
        STREQ(server_says(declined[i], NULL, NULL), "", "declined: %s", declined[i]);
    STREQ(server_says("permessage-deflate; foo, permessage-deflate; client_max_window_bits=11", NULL, &p),
          "permessage-deflate; client_max_window_bits=11", "an invalid offer is skipped for the next one");
    STREQ(server_says("x-webkit-deflate-frame, permessage-deflate", NULL, &p), "permessage-deflate",
          "other extensions are passed over");

    char small[20];
    int n = parse_exts("permessage-deflate; server_no_context_takeover");
    IS(pw_wsd_server_accept(exts, (size_t)n, NULL, &p, small, sizeof small), PW_EWSD_SPACE,
       "response too long for the buffer: PW_EWSD_SPACE");
    STREQ(small, "", "  and the buffer is left empty");
}

static int client_check(const char *resp, const struct pw_wsd_config *cfg, struct pw_wsd_params *p)
{
    int n = parse_exts(resp);
    if (n < 0)
        return -9999;
    return pw_wsd_client_check(exts, (size_t)n, cfg, p);
}

static void test_client_negotiation(void)
{
    char hdr[160];
    struct pw_wsd_params p;
    IS(pw_wsd_client_offer(NULL, hdr, sizeof hdr), (int)strlen("permessage-deflate; client_max_window_bits"),
       "default offer length");
    STREQ(hdr, "permessage-deflate; client_max_window_bits", "default offer");
    struct pw_wsd_config cfg = {1, 1, 10, 12};
    OK(pw_wsd_client_offer(&cfg, hdr, sizeof hdr) > 0, "full offer");
    STREQ(hdr, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
               "server_max_window_bits=10; client_max_window_bits=12", "  every parameter");
    IS(pw_wsd_client_offer(&cfg, hdr, 30), PW_EWSD_SPACE, "offer too long for the buffer");

    IS(client_check("permessage-deflate", NULL, &p), 1, "plain acceptance");
    OK(p.server_max_window_bits == 15 && p.client_max_window_bits == 15, "  15/15");
    IS(client_check("x-other", NULL, &p), 0, "no permessage-deflate in the response: 0");
    IS(client_check("permessage-deflate; client_max_window_bits=9; server_no_context_takeover", NULL, &p), 1,
       "server shrinks our window and drops its context");
    OK(p.client_max_window_bits == 9 && p.server_no_context_takeover, "  params say so");
    IS(client_check("permessage-deflate; client_max_window_bits", NULL, &p), PW_EWSD_RESPONSE,
       "client_max_window_bits with no value in a response fails");
    IS(client_check("permessage-deflate; foo=1", NULL, &p), PW_EWSD_RESPONSE, "unknown parameter fails");
    IS(client_check("permessage-deflate, permessage-deflate", NULL, &p), PW_EWSD_RESPONSE,
       "accepted twice fails");
    IS(client_check("permessage-deflate; server_max_window_bits=16", NULL, &p), PW_EWSD_RESPONSE,
       "window bits 16 fails");
    IS(client_check("permessage-deflate; server_max_window_bits=11", &cfg, &p), PW_EWSD_RESPONSE,
       "server window above what we allowed fails");
    IS(client_check("permessage-deflate; server_no_context_takeover; server_max_window_bits=10", &cfg, &p), 1,
       "server grants what we asked");
    OK(p.client_no_context_takeover && p.client_max_window_bits == 12, "  we keep our own no_context_takeover and window");
    IS(client_check("permessage-deflate; server_max_window_bits=10", &cfg, &p), PW_EWSD_RESPONSE,
       "server ignoring our server_no_context_takeover fails");
    IS(client_check("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; "
                    "client_max_window_bits=13", &cfg, &p), PW_EWSD_RESPONSE,
       "client window above what we offered fails");

    /* both ends agree on what was negotiated */
    static const struct pw_wsd_config cfgs[] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 9, 0},
                                                {0, 0, 0, 8}, {1, 1, 12, 11}};
    for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        char offer[160], resp[160];
        struct pw_wsd_params ps, pc;
        pw_wsd_client_offer(&cfgs[i], offer, sizeof offer);
        int n = parse_exts(offer);
        int a = pw_wsd_server_accept(exts, (size_t)n, NULL, &ps, resp, sizeof resp);
        int c = client_check(resp, &cfgs[i], &pc);
        OK(a == 1 && c == 1 && memcmp(&ps, &pc, sizeof ps) == 0, "client and server agree on \"%s\" -> \"%s\"",
           offer, resp);
    }
}

/* --- compression --- */

static int hexeq(const struct pw_buf *b, const char *hex)
{
    size_t n = strlen(hex) / 2;
    if (b->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        if (b->p[i] != v)
            return 0;
    }
    return 1;
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static const struct pw_wsd_params defaults = {0, 0, 15, 15};

static void test_rfc7692_examples(void)
{
    struct pw_wsd srv, cli;
    struct pw_buf b;
    pw_buf_init(&b, 0);

    /* §7.2.3.1: "Hello" in one frame: c1 07 f2 48 cd c9 c9 07 00 */
    pw_wsd_init(&srv, &defaults, 1, -1, 0);
    IS(pw_wsd_compress(&srv, (const uint8_t *)"Hello", 5, &b), 0, "compress \"Hello\"");
    OK(hexeq(&b, "f248cdc9c90700"), "§7.2.3.1: \"Hello\" compresses to f2 48 cd c9 c9 07 00");
    /* §7.2.3.2: the same again with the LZ77 window shared */
    pw_buf_reset(&b);
    pw_wsd_compress(&srv, (const uint8_t *)"Hello", 5, &b);
    OK(hexeq(&b, "f200110000"), "§7.2.3.2: the 2nd \"Hello\" with context takeover is f2 00 11 00 00");
    pw_wsd_free(&srv);

    struct pw_wsd_params nct = defaults;
    nct.server_no_context_takeover = 1;
    pw_wsd_init(&srv, &nct, 1, -1, 0);
    pw_buf_reset(&b);
    pw_wsd_compress(&srv, (const uint8_t *)"Hello", 5, &b);
    pw_buf_reset(&b);
    pw_wsd_compress(&srv, (const uint8_t *)"Hello", 5, &b);
    OK(hexeq(&b, "f248cdc9c90700"), "§7.2.3.2: without context takeover the 2nd is f2 48 cd c9 c9 07 00 again");
    pw_wsd_free(&srv);

    pw_wsd_init(&srv, &defaults, 1, -1, 0);
    pw_buf_reset(&b);
    pw_wsd_compress(&srv, (const uint8_t *)"", 0, &b);
    OK(hexeq(&b, "00"), "§7.2.3.6: an empty message compresses to 00");
    pw_wsd_free(&srv);

    /* decoding, client side (the server compressed) */
    static const struct {
        const char *name, *hex[3];
        const char *text;
    } ex[] = {
        {"§7.2.3.1 one frame", {"f248cdc9c90700"}, "Hello"},
        {"§7.2.3.1 two fragments", {"f248cd", "c9c90700"}, "Hello"},
        {"§7.2.3.3 stored block", {"000500faff48656c6c6f00"}, "Hello"},
        {"§7.2.3.4 BFINAL set", {"f348cdc9c9070000"}, "Hello"},
        {"§7.2.3.5 two DEFLATE blocks", {"f248050000" "00ffff" "cac9c90700"}, "Hello"},
        {"§7.2.3.6 empty message", {"00"}, ""},
        {"empty payload, no bytes at all", {""}, ""},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        uint8_t in[64];
        pw_wsd_init(&cli, &defaults, 0, -1, 0);
        pw_buf_reset(&b);
        int rc = 0, k;
        for (k = 0; k < 3 && ex[i].hex[k]; k++) {
            size_t n = unhex(ex[i].hex[k], in);
            int fin = k == 2 || !ex[i].hex[k + 1];
            if ((rc = pw_wsd_decompress(&cli, in, n, fin, &b)) < 0)
                break;
        }
        OK(rc == 0 && b.len == strlen(ex[i].text) && memcmp(b.p, ex[i].text, b.len) == 0,
           "%s decodes to \"%s\"", ex[i].name, ex[i].text);
        /* the context goes on: a second "Hello" referring back still works */
        if (i == 0 || i == 3) {
            pw_buf_reset(&b);
            size_t n = unhex(i == 0 ? "f200110000" : "f248cdc9c90700", in);
            rc = pw_wsd_decompress(&cli, in, n, 1, &b);
            OK(rc == 0 && b.len == 5 && memcmp(b.p, "Hello", 5) == 0, "%s: the next message decodes too", ex[i].name);
        }
        pw_wsd_free(&cli);
    }

    pw_wsd_init(&cli, &defaults, 0, -1, 0);
    uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    pw_buf_reset(&b);
    IS(pw_wsd_decompress(&cli, junk, 4, 1, &b), PW_EWSD_DATA, "corrupt DEFLATE data: PW_EWSD_DATA");
    IS(pw_wsd_decompress(&cli, (const uint8_t *)"\x00", 1, 1, &b), PW_EWSD_DATA, "  and the error is sticky");
    pw_wsd_free(&cli);
    pw_buf_free(&b);
}

/* Deterministic test data: text-like (compressible) or noise. */
static void fill(uint8_t *p, size_t n, int noise, uint32_t seed)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog; pushwire ";
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = noise ? (uint8_t)x : (uint8_t)words[(i + (x % 3 == 0 ? x % 7 : 0)) % (sizeof words - 1)];
    }
}

/* Compress messages with one side, decompress with the other in chunks of
 * `chunk` bytes; all must come back equal. */
static int roundtrip(const struct pw_wsd_params *p, int server_sends, size_t chunk, int noise)
{
    static const size_t sizes[] = {0, 1, 5, 100, 4096, 65536, 150000};
    struct pw_wsd tx, rx;
    struct pw_buf z, out;
    int ok = 1;
    pw_wsd_init(&tx, p, server_sends, 6, 0);
    pw_wsd_init(&rx, p, !server_sends, 6, 0);
    pw_buf_init(&z, 0);
    pw_buf_init(&out, 0);
    uint8_t *msg = malloc(150000);
    for (int round = 0; round < 2; round++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            fill(msg, sizes[s], noise, (uint32_t)(s + 10 * round));
            pw_buf_reset(&z);
            pw_buf_reset(&out);
            if (pw_wsd_compress(&tx, msg, sizes[s], &z) != 0) {
                ok = 0;
                continue;
            }
            size_t off = 0;
            int rc = 0;
            do {
                size_t n = z.len - off < chunk ? z.len - off : chunk;
                rc = pw_wsd_decompress(&rx, z.p + off, n, off + n == z.len, &out);
                off += n;
            } while (rc == 0 && off < z.len);
            if (rc != 0 || out.len != sizes[s] || (sizes[s] && memcmp(out.p, msg, sizes[s]) != 0))
                ok = 0;
        }
    free(msg);
    pw_buf_free(&z);
    pw_buf_free(&out);
    pw_wsd_free(&tx);
    pw_wsd_free(&rx);
    return ok;
}

static void test_roundtrips(void)
{
    for (int nct = 0; nct < 4; nct++)
        for (int bits = 8; bits <= 15; bits += (bits == 8 || bits == 14) ? 1 : 3) {
            struct pw_wsd_params p = {nct & 1, nct >> 1 & 1, bits, bits == 15 ? 8 : bits + 1};
            for (int dir = 0; dir < 2; dir++) {
                size_t chunk = dir ? 7 : 100000;
                OK(roundtrip(&p, dir, chunk, 0) && roundtrip(&p, dir, chunk + 1000, 1),
                   "round trip %s->%s, snct %d cnct %d, windows %d/%d, %zu-byte chunks",
                   dir ? "server" : "client", dir ? "client" : "server", p.server_no_context_takeover,
                   p.client_no_context_takeover, p.server_max_window_bits, p.client_max_window_bits, chunk);
            }
        }
}

/* The shared compressor: every message inflates alone (a fresh inflater at
 * the agreed window), short ones (the small stream) and long ones alike;
 * a connection sharing it compresses the same bytes. */
static void test_shared_compressor(void)
{
    static const size_t sizes[] = {0, 1, 64, 300, PW_WSZ_SHORT - 1, PW_WSZ_SHORT, 4096, 65536};
    uint8_t *msg = malloc(65536);
    struct pw_buf z, z2, out;
    pw_buf_init(&z, 0);
    pw_buf_init(&z2, 0);
    pw_buf_init(&out, 0);
    for (int bits = 8; bits <= 15; bits++) {
        struct pw_wsz wz;
        int ok = pw_wsz_init(&wz, bits, -1) == 0 && pw_wsz_bits(&wz) == bits;
        struct pw_wsd_params p = {1, 1, bits, bits};
        struct pw_wsd conn;
        pw_wsd_init(&conn, &p, 1, -1, 0);
        ok = ok && pw_wsd_share(&conn, &wz) == 0;
        for (int round = 0; round < 2; round++)
            for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                fill(msg, sizes[i], (int)(i & 1), (uint32_t)(i + 7 * round));
                pw_buf_reset(&z);
                pw_buf_reset(&z2);
                pw_buf_reset(&out);
                struct pw_wsd rx;
                pw_wsd_init(&rx, &p, 0, -1, 0); /* a fresh client inflater each time */
                ok = ok && pw_wsz_compress(&wz, msg, sizes[i], &z) == 0 &&
                     pw_wsd_compress(&conn, msg, sizes[i], &z2) == 0 && z.len == z2.len &&
                     memcmp(z.p, z2.p, z.len) == 0 && pw_wsd_decompress(&rx, z.p, z.len, 1, &out) == 0 &&
                     out.len == sizes[i] && (!sizes[i] || memcmp(out.p, msg, sizes[i]) == 0);
                pw_wsd_free(&rx);
            }
        OK(ok, "shared compressor, window %d: every message (0 B to 64 KiB) inflates alone, "
               "and a connection sharing it sends the same bytes", bits);
        pw_wsd_free(&conn);
        pw_wsz_free(&wz);
    }
    struct pw_wsz wz;
    pw_wsz_init(&wz, 12, -1);
    struct pw_wsd conn;
    struct pw_wsd_params ctx = {0, 0, 15, 15}, small = {1, 1, 10, 10};
    pw_wsd_init(&conn, &ctx, 1, -1, 0);
    IS(pw_wsd_share(&conn, &wz), PW_EINVAL, "no sharing with context takeover");
    pw_wsd_init(&conn, &small, 1, -1, 0);
    IS(pw_wsd_share(&conn, &wz), PW_EINVAL, "no sharing a window larger than the one agreed");
    IS(pw_wsz_init(&wz, 16, -1), PW_EINVAL, "window 16 refused");
    free(msg);
    pw_buf_free(&z);
    pw_buf_free(&z2);
    pw_buf_free(&out);
}

/* A server's inflater without context takeover lives only while a message
 * arrives; with context takeover, or on a client, it stays. */
static void test_inflater_lifetime(void)
{
    struct pw_wsd_params nct = {1, 1, 15, 15}, ctx = {0, 0, 15, 15};
    struct pw_wsd srv, cli, srvctx;
    struct pw_buf z, out;
    pw_buf_init(&z, 0);
    pw_buf_init(&out, 0);
    pw_wsd_init(&srv, &nct, 1, -1, 0);
    pw_wsd_init(&srvctx, &ctx, 1, -1, 0);
    pw_wsd_init(&cli, &nct, 0, -1, 0);
    OK(!pw_wsd_holds(&srv) && !pw_wsd_holds(&cli), "no zlib state before the first message");
    uint8_t msg[1000];
    fill(msg, sizeof msg, 0, 3);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        pw_buf_reset(&z);
        pw_buf_reset(&out);
        ok = ok && pw_wsd_compress(&cli, msg, sizeof msg, &z) == 0;
        ok = ok && pw_wsd_decompress(&srv, z.p, z.len / 2, 0, &out) == 0 && pw_wsd_holds(&srv);
        ok = ok && pw_wsd_decompress(&srv, z.p + z.len / 2, z.len - z.len / 2, 1, &out) == 0;
        ok = ok && !pw_wsd_holds(&srv) && out.len == sizeof msg && memcmp(out.p, msg, sizeof msg) == 0;
    }
    OK(ok, "server, client_no_context_takeover: inflater held mid-message, freed after each of 3");
    pw_buf_reset(&z);
    pw_buf_reset(&out);
    pw_wsd_compress(&srvctx, msg, sizeof msg, &z);
    struct pw_wsd cctx;
    pw_wsd_init(&cctx, &ctx, 0, -1, 0);
    OK(pw_wsd_decompress(&cctx, z.p, z.len, 1, &out) == 0 && pw_wsd_holds(&cctx),
       "context takeover: the inflater stays");
    pw_wsd_free(&cctx);
    pw_wsd_free(&srv);
    pw_wsd_free(&srvctx);
    pw_wsd_free(&cli);
    pw_buf_free(&z);
    pw_buf_free(&out);
}

/* serve's default answers to the offers real clients make. */
static void test_serve_default_answers(void)
{
    struct pw_wsd_config cfg = {1, 1, 15, 15};
    struct pw_wsd_params p;
    STREQ(server_says("permessage-deflate; client_max_window_bits", &cfg, &p),
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15",
          "Chromium's and Node ws's offer: no context takeover either way");
    OK(p.server_no_context_takeover && p.client_no_context_takeover, "  both in the params");
    STREQ(server_says("permessage-deflate", &cfg, &p),
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
          "a bare offer: the same, no client_max_window_bits");
    cfg = (struct pw_wsd_config){1, 1, 10, 10};
    STREQ(server_says("permessage-deflate; client_max_window_bits", &cfg, &p),
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; "
          "client_max_window_bits=10", "--deflate-window 10 bounds both windows");
    cfg = (struct pw_wsd_config){0, 0, 9, 9};
    STREQ(server_says("permessage-deflate; client_max_window_bits", &cfg, &p),
          "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
          "--deflate-context --deflate-window 9: context takeover kept");
    char hdr[129];
    int n = parse_exts("permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                       "server_max_window_bits=10; client_max_window_bits=10");
    cfg = (struct pw_wsd_config){1, 1, 15, 15};
    IS(pw_wsd_server_accept(exts, (size_t)n, &cfg, &p, hdr, sizeof hdr), 1, "every parameter fits 129 bytes");
}

static void test_window8_has_no_far_references(void)
{
    /* an 8-bit window compressor must produce data a 256-byte window can read */
    struct pw_wsd_params p = {0, 0, 8, 8};
    struct pw_wsd tx;
    struct pw_buf z;
    uint8_t msg[5000];
    fill(msg, sizeof msg, 0, 3);
    pw_wsd_init(&tx, &p, 1, 9, 0);
    pw_buf_init(&z, 0);
    IS(pw_wsd_compress(&tx, msg, sizeof msg, &z), 0, "window 8: compresses");
    OK(z.len < sizeof msg, "  and still shrinks text (%zu -> %zu)", sizeof msg, z.len);
    z_stream s;
    memset(&s, 0, sizeof s);
    inflateInit2(&s, -8);
    uint8_t out[6000], tail[4] = {0, 0, 0xff, 0xff};
    s.next_in = z.p;
    s.avail_in = (uInt)z.len;
    s.next_out = out;
    s.avail_out = sizeof out;
    int r1 = inflate(&s, Z_SYNC_FLUSH);
    s.next_in = tail;
    s.avail_in = 4;
    int r2 = inflate(&s, Z_SYNC_FLUSH);
    OK((r1 == Z_OK || r1 == Z_BUF_ERROR) && (r2 == Z_OK || r2 == Z_BUF_ERROR) && s.total_out == sizeof msg &&
       memcmp(out, msg, sizeof msg) == 0, "  zlib inflate with a 256-byte window reads it back");
    inflateEnd(&s);
    pw_buf_free(&z);
    pw_wsd_free(&tx);
}

/* zlib deflating with 9 bits (what "8" becomes) reaches back at most 250
 * bytes, so an 8-bit (256-byte) inflater reads it in any chunking */
static void test_window9_fits_window8(void)
{
    uint8_t msg[3000], z[4000], line[250];
    fill(line, sizeof line, 1, 9); /* 250 random bytes, repeated: matches 250 back */
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = line[i % sizeof line];
    struct pw_wsd_params p = {0, 0, 8, 8};
    struct pw_wsd tx, rx;
    struct pw_buf zb, out;
    pw_buf_init(&zb, 0);
    pw_buf_init(&out, 0);
    pw_wsd_init(&tx, &p, 0, 6, 0);
    pw_wsd_compress(&tx, msg, sizeof msg, &zb);
    size_t zlen = zb.len;
    memcpy(z, zb.p, zlen);
    OK(zlen < 600, "window 8 (deflated as 9) uses matches: 3000 bytes of 250-byte repeats -> %zu", zlen);
    int ok = 1;
    for (size_t chunk = 1; chunk <= zlen; chunk = chunk * 2 + 1) {
        pw_wsd_init(&rx, &p, 1, -1, 0);
        pw_buf_reset(&out);
        int rc = 0;
        for (size_t off = 0; off < zlen && rc == 0; off += chunk) {
            size_t n = zlen - off < chunk ? zlen - off : chunk;
            rc = pw_wsd_decompress(&rx, z + off, n, off + n == zlen, &out);
        }
        if (rc != 0 || out.len != sizeof msg || memcmp(out.p, msg, sizeof msg) != 0)
            ok = 0;
        pw_wsd_free(&rx);
    }
    OK(ok, "  and an 8-bit inflater reads it in chunks of every size");
    pw_buf_free(&zb);
    pw_buf_free(&out);
    pw_wsd_free(&tx);
}

static void test_bomb(void)
{
    size_t big = 20u << 20;
    uint8_t *zeros = calloc(1, big);
    struct pw_wsd tx, rx;
    struct pw_buf z, out;
    pw_buf_init(&z, 0);
    pw_buf_init(&out, 0);
    pw_wsd_init(&tx, &defaults, 0, 9, 0);
    pw_wsd_compress(&tx, zeros, big, &z);
    OK(z.len < 64 * 1024, "20 MiB of zeros compress to %zu bytes", z.len);

    pw_wsd_init(&rx, &defaults, 1, -1, 1 << 20);
    int rc = 0;
    for (size_t off = 0; off < z.len && rc == 0; off += 1000) {
        size_t n = z.len - off < 1000 ? z.len - off : 1000;
        rc = pw_wsd_decompress(&rx, z.p + off, n, off + n == z.len, &out);
    }
    IS(rc, PW_EWSD_TOOBIG, "inflating past max_message (1 MiB) fails with PW_EWSD_TOOBIG");
    OK(out.len <= (1u << 20) + 1, "  having written at most max_message + 1 bytes (%zu)", out.len);
    STREQ(pw_errrule(PW_EWSD_TOOBIG), "RFC 6455 §7.4.1 (1009)", "  the rule names close code 1009");
    pw_wsd_free(&rx);
    pw_wsd_free(&tx);

    /* exactly max_message is fine, and the count restarts per message */
    pw_wsd_init(&tx, &defaults, 0, -1, 0);
    pw_wsd_init(&rx, &defaults, 1, -1, 100000);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        pw_buf_reset(&z);
        pw_buf_reset(&out);
        pw_wsd_compress(&tx, zeros, 100000, &z);
        if (pw_wsd_decompress(&rx, z.p, z.len, 1, &out) != 0 || out.len != 100000)
            ok = 0;
    }
    OK(ok, "three messages of exactly max_message each inflate fine");
    pw_buf_reset(&z);
    pw_buf_reset(&out);
    pw_wsd_compress(&tx, zeros, 100001, &z);
    IS(pw_wsd_decompress(&rx, z.p, z.len, 1, &out), PW_EWSD_TOOBIG, "max_message + 1 does not");
    pw_wsd_free(&rx);
    pw_wsd_free(&tx);

    /* the output buffer's own cap is honoured too */
    struct pw_buf small;
    pw_buf_init(&small, 1000);
    pw_wsd_init(&tx, &defaults, 0, -1, 0);
    pw_wsd_init(&rx, &defaults, 1, -1, 0);
    pw_buf_reset(&z);
    pw_wsd_compress(&tx, zeros, 5000, &z);
    IS(pw_wsd_decompress(&rx, z.p, z.len, 1, &small), PW_ETOOBIG, "a capped output buffer gives PW_ETOOBIG");
    pw_wsd_free(&rx);
    pw_wsd_free(&tx);
    /* a message that exactly fills the capped buffer (and max_message) is fine */
    pw_wsd_init(&tx, &defaults, 0, -1, 0);
    pw_wsd_init(&rx, &defaults, 1, -1, 1000);
    for (int i = 0; i < 2; i++) {
        pw_buf_reset(&z);
        pw_buf_reset(&small);
        pw_wsd_compress(&tx, zeros, 1000, &z);
        IS(pw_wsd_decompress(&rx, z.p, z.len, 1, &small), 0, "a message of exactly the buffer's cap inflates (%d)", i);
        IS(small.len, 1000, "  all 1000 bytes");
    }
    pw_buf_reset(&z);
    pw_buf_reset(&small);
    pw_wsd_compress(&tx, zeros, 1001, &z);
    IS(pw_wsd_decompress(&rx, z.p, z.len, 1, &small), PW_EWSD_TOOBIG, "one byte more is PW_EWSD_TOOBIG");
    IS(pw_wsd_compress(&tx, zeros, 100000, &small) < 0, 1, "compressing into a full buffer fails");
    pw_wsd_free(&rx);
    pw_wsd_free(&tx);
    pw_buf_free(&small);
    pw_buf_free(&z);
    pw_buf_free(&out);
    free(zeros);
}

/* The RFC 7692 §7.2.3.1 frames, through the frame parser, the message layer
 * and the inflater: RSV1 marks the first frame only. */
static int frames_to_text(const uint8_t *in, size_t len, struct pw_buf *text)
{
    struct pw_ws_parser_opts o = {PW_WS_FROM_SERVER, 4, 0, 1};
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct pw_wsd d;
    uint8_t buf[64];
    memcpy(buf, in, len);
    pw_ws_parser_init(&p, &o);
    pw_ws_msg_init(&m, 0);
    pw_wsd_init(&d, &defaults, 0, -1, 0);
    size_t off = 0;
    int rc = 0, done = 0;
    while (rc == 0 && !done) {
        struct pw_ws_event ev;
        ssize_t n = pw_ws_parse(&p, buf + off, len - off, &ev);
        if (n < 0 || (rc = pw_ws_msg_event(&m, &ev)) < 0) {
            rc = n < 0 ? (int)n : rc;
            break;
        }
        off += (size_t)n;
        if (ev.type == PW_WS_EV_PAYLOAD && m.compressed)
            rc = pw_wsd_decompress(&d, ev.data, ev.len, 0, text);
        else if (ev.type == PW_WS_EV_END && ev.hdr.fin) {
            rc = pw_wsd_decompress(&d, NULL, 0, 1, text);
            done = 1;
        } else if (ev.type == PW_WS_EV_NONE && n == 0)
            break;
    }
    pw_wsd_free(&d);
    return rc ? rc : done ? 0 : PW_EAGAIN;
}

static void test_rfc7692_frames(void)
{
    struct pw_buf t;
    pw_buf_init(&t, 0);
    static const uint8_t one[] = {0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00};
    IS(frames_to_text(one, sizeof one, &t), 0, "§7.2.3.1 frame c1 07 f2 48 cd c9 c9 07 00 decodes");
    OK(t.len == 5 && memcmp(t.p, "Hello", 5) == 0, "  to \"Hello\"");
    pw_buf_reset(&t);
    static const uint8_t two[] = {0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00};
    IS(frames_to_text(two, sizeof two, &t), 0, "§7.2.3.1 fragments 41 03 f2 48 cd / 80 04 c9 c9 07 00 decode");
    OK(t.len == 5 && memcmp(t.p, "Hello", 5) == 0, "  to \"Hello\"");
    pw_buf_reset(&t);
    static const uint8_t bad[] = {0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00};
    IS(frames_to_text(bad, sizeof bad, &t), PW_EWS_RSV, "RSV1 on the continuation frame is refused (§6.1)");
    pw_buf_free(&t);
}

int main(void)
{
    test_rfc7692_frames();
    test_server_negotiation();
    test_client_negotiation();
    test_rfc7692_examples();
    test_roundtrips();
    test_window8_has_no_far_references();
    test_window9_fits_window8();
    test_bomb();
    test_shared_compressor();
    test_inflater_lifetime();
    test_serve_default_answers();
    return tap_done();
}
