/* bench_core.c — the WebSocket core on its own, no I/O:
 *  - frame parse + unmask throughput (MB/s of wire bytes) for masked client
 *    frames of several payload sizes packed in one big buffer, binary
 *    (parser only) and text (parser + message layer + UTF-8 validation);
 *  - Sec-WebSocket-Accept computations per second (pw_ws_accept_key);
 *  - permessage-deflate: compress and inflate MB/s (of uncompressed bytes)
 *    for 1 KiB text messages with context takeover;
 * each next to memcpy of the same bytes in the same run, with the ratio.
 * Every figure is the best of three rounds of >= 0.2 s of this thread's CPU
 * time (not wall time: the machine is shared, and time spent preempted is
 * not the code's).
 * Usage: bench_core [SECONDS_PER_ROUND]   (default 0.2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"
#include "proto/ws_handshake.h"

static double round_s = 0.2;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* keeps the compiler from dropping work whose result is unused */
static void sink(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Runs fn(arg) until round_s of its own time has passed (prep, when given,
 * runs untimed before each call), three rounds; returns the best rate in
 * calls per second. */
static double best_rate(void (*fn)(void *), void (*prep)(void *), void *arg)
{
    double best = 0;
    for (int r = 0; r < 3; r++) {
        long n = 0;
        double t = 0;
        do {
            if (prep)
                prep(arg);
            double t0 = now();
            fn(arg);
            t += now() - t0;
            n++;
        } while (t < round_s);
        if (n / t > best)
            best = n / t;
    }
    return best;
}

struct frames {
    uint8_t *buf, *copy, *pristine;
    size_t len;
    int text;
    long nframes;
};

static void parse_all(void *arg)
{
    struct frames *f = arg;
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct pw_ws_parser_opts o = {PW_WS_FROM_CLIENT, 0, 0, 1};
    size_t off = 0;
    long ends = 0;
    pw_ws_parser_init(&p, &o);
    pw_ws_msg_init(&m, 0);
    for (;;) {
        struct pw_ws_event ev;
        ssize_t n = pw_ws_parse(&p, f->buf + off, f->len - off, &ev);
        if (n < 0) {
            fprintf(stderr, "bench_core: parse failed: %s\n", pw_strerror((int)n));
            exit(1);
        }
        if (f->text && pw_ws_msg_event(&m, &ev) < 0) {
            fprintf(stderr, "bench_core: message layer failed\n");
            exit(1);
        }
        off += (size_t)n;
        if (ev.type == PW_WS_EV_END)
            ends++;
        else if (ev.type == PW_WS_EV_NONE)
            break;
    }
    if (ends != f->nframes) {
        fprintf(stderr, "bench_core: %ld frames parsed, %ld built\n", ends, f->nframes);
        exit(1);
    }
    sink(f->buf);
}

/* the parser unmasks in place: put the masked bytes back (untimed) */
static void restore(void *arg)
{
    struct frames *f = arg;
    memcpy(f->buf, f->pristine, f->len);
}

static void copy_all(void *arg)
{
    struct frames *f = arg;
    memcpy(f->copy, f->buf, f->len);
    sink(f->copy);
}

static void build(struct frames *f, size_t payload, size_t total, int text)
{
    static const char words[] = "pushwire frames, \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ascii mostly; ";
    uint8_t *pl = malloc(payload);
    /* text payload: mostly ASCII with some multi-byte characters, cut on a
     * character boundary by padding with spaces */
    for (size_t i = 0; i < payload; i++)
        pl[i] = (uint8_t)words[i % (sizeof words - 1)];
    if (text) {
        size_t i = payload;
        while (i > 0 && (pl[i - 1] & 0xC0) == 0x80)
            i--;
        if (i > 0 && pl[i - 1] >= 0xC0)
            i--;
        memset(pl + i, ' ', payload - i);
    }
    size_t flen = payload + 14;
    long n = (long)(total / flen);
    if (n < 1)
        n = 1;
    f->buf = malloc((size_t)n * flen);
    f->copy = malloc((size_t)n * flen);
    f->pristine = malloc((size_t)n * flen);
    f->len = 0;
    f->text = text;
    f->nframes = n;
    for (long i = 0; i < n; i++) {
        uint8_t key[4] = {(uint8_t)i, 0x5a, (uint8_t)(i >> 8), 0xa5};
        ssize_t k = pw_ws_encode(f->buf + f->len, flen, 1, 0, text ? PW_WS_OP_TEXT : PW_WS_OP_BINARY,
                                 key, pl, payload, 0);
        f->len += (size_t)k;
    }
    memcpy(f->pristine, f->buf, f->len);
    free(pl);
}

static void bench_frames(size_t payload, int text)
{
    struct frames f;
    build(&f, payload, 16u << 20, text);
    double parse = best_rate(parse_all, restore, &f) * (double)f.len / 1e6;
    double copy = best_rate(copy_all, NULL, &f) * (double)f.len / 1e6;
    char name[64];
    snprintf(name, sizeof name, "%s %zu B", text ? "text+utf8" : "binary", payload);
    printf("core: frame parse+unmask  %-16s %9.1f MB/s  memcpy %9.1f MB/s  ratio %.3f  (%.3g frames/s)\n",
           name, parse, copy, parse / copy, parse * 1e6 / (double)f.len * (double)f.nframes);
    free(f.buf);
    free(f.copy);
    free(f.pristine);
}

struct acc {
    char keys[64][PW_WS_KEY_LEN + 1];
    char out[PW_WS_ACCEPT_LEN + 1];
    char copy[PW_WS_KEY_LEN + PW_WS_ACCEPT_LEN];
};

static void accept_64(void *arg)
{
    struct acc *a = arg;
    for (int i = 0; i < 64; i++) {
        if (pw_ws_accept_key(a->keys[i], PW_WS_KEY_LEN, a->out) != 0)
            exit(1);
        sink(a->out);
    }
}

/* the same computation with OpenSSL's one-shot SHA1(), as a reference for
 * what the EVP context set-up per call costs */
static void accept_sha1_64(void *arg)
{
    struct acc *a = arg;
    unsigned char buf[PW_WS_KEY_LEN + sizeof PW_WS_GUID], md[20];
    for (int i = 0; i < 64; i++) {
        memcpy(buf, a->keys[i], PW_WS_KEY_LEN);
        memcpy(buf + PW_WS_KEY_LEN, PW_WS_GUID, sizeof PW_WS_GUID - 1);
        SHA1(buf, PW_WS_KEY_LEN + sizeof PW_WS_GUID - 1, md);
        EVP_EncodeBlock((unsigned char *)a->out, md, 20);
        sink(a->out);
    }
}

static void copy_64(void *arg)
{
    struct acc *a = arg;
    for (int i = 0; i < 64; i++) {
        memcpy(a->copy, a->keys[i], PW_WS_KEY_LEN);
        memcpy(a->copy + PW_WS_KEY_LEN, a->out, PW_WS_ACCEPT_LEN);
        sink(a->copy);
    }
}

static void bench_accept(void)
{
    static struct acc a;
    for (int i = 0; i < 64; i++)
        if (pw_ws_gen_key(a.keys[i]) != 0)
            exit(1);
    pw_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", PW_WS_KEY_LEN, a.out);
    if (strcmp(a.out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0) {
        fprintf(stderr, "bench_core: pw_ws_accept_key gives a wrong answer\n");
        exit(1);
    }
    double acc = best_rate(accept_64, NULL, &a) * 64;
    double one = best_rate(accept_sha1_64, NULL, &a) * 64;
    double cpy = best_rate(copy_64, NULL, &a) * 64;
    printf("core: handshake accept     %-16s %9.0f /s    memcpy %9.0f /s    ratio %.4f  (%.0f ns each; memcpy of key+accept, %d B)\n",
           "pw_ws_accept_key", acc, cpy, acc / cpy, 1e9 / acc, PW_WS_KEY_LEN + PW_WS_ACCEPT_LEN);
    printf("core: handshake accept     %-16s %9.0f /s    memcpy %9.0f /s    ratio %.4f  (%.0f ns each; reference: OpenSSL SHA1() one-shot)\n",
           "SHA1()+base64", one, cpy, one / cpy, 1e9 / one);
}

struct defl {
    struct pw_wsd tx, rx;
    struct pw_buf z, out;
    uint8_t msg[64][1024];
    int i;
};

static void compress_64(void *arg)
{
    struct defl *d = arg;
    pw_buf_reset(&d->z);
    for (int i = 0; i < 64; i++)
        if (pw_wsd_compress(&d->tx, d->msg[i], sizeof d->msg[i], &d->z) != 0)
            exit(1);
    sink(d->z.p);
}

/* 64 messages compressed once; the receiver keeps its window across rounds,
 * so each round inflates a fresh copy of the stream from a reset state */
static struct pw_buf zs[64];

static void inflate_prep(void *arg)
{
    struct defl *d = arg;
    static const struct pw_wsd_params p = {0, 0, 15, 15};
    pw_wsd_free(&d->rx);
    pw_wsd_init(&d->rx, &p, 1, -1, 0);
}

static void inflate_64(void *arg)
{
    struct defl *d = arg;
    for (int i = 0; i < 64; i++) {
        pw_buf_reset(&d->out);
        if (pw_wsd_decompress(&d->rx, zs[i].p, zs[i].len, 1, &d->out) != 0 || d->out.len != 1024)
            exit(1);
        sink(d->out.p);
    }
}

static void copy_defl(void *arg)
{
    struct defl *d = arg;
    pw_buf_reset(&d->out);
    for (int i = 0; i < 64; i++)
        pw_buf_append(&d->out, d->msg[i], sizeof d->msg[i]);
    sink(d->out.p);
}

static void bench_deflate(void)
{
    static struct defl d;
    static const struct pw_wsd_params p = {0, 0, 15, 15};
    static const char *words[] = {"{\"id\":", "\"channel\":\"prices\",", "\"event\":\"tick\",",
                                  "\"data\":", "\"bid\":", "\"ask\":", "1234.5", "42", "}", ","};
    unsigned x = 7;
    for (int i = 0; i < 64; i++)
        for (size_t k = 0; k < sizeof d.msg[i];) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            const char *w = words[x % 10];
            for (; *w && k < sizeof d.msg[i]; w++)
                d.msg[i][k++] = (uint8_t)*w;
        }
    pw_wsd_init(&d.tx, &p, 0, -1, 0);
    pw_wsd_init(&d.rx, &p, 1, -1, 0);
    pw_buf_init(&d.z, 0);
    pw_buf_init(&d.out, 0);
    size_t zlen = 0;
    for (int i = 0; i < 64; i++) {
        pw_buf_init(&zs[i], 0);
        pw_wsd_compress(&d.tx, d.msg[i], sizeof d.msg[i], &zs[i]);
        zlen += zs[i].len;
    }
    pw_wsd_free(&d.tx);
    pw_wsd_init(&d.tx, &p, 0, -1, 0);
    double bytes = 64.0 * 1024;
    double c = best_rate(compress_64, NULL, &d) * bytes / 1e6;
    double u = best_rate(inflate_64, inflate_prep, &d) * bytes / 1e6;
    double m = best_rate(copy_defl, NULL, &d) * bytes / 1e6;
    printf("core: permessage-deflate   %-16s %9.1f MB/s  memcpy %9.1f MB/s  ratio %.3f  (1 KiB JSON-like text, context takeover, %.1fx smaller)\n",
           "compress", c, m, c / m, bytes / (double)zlen);
    printf("core: permessage-deflate   %-16s %9.1f MB/s  memcpy %9.1f MB/s  ratio %.3f\n", "inflate", u, m, u / m);
    for (int i = 0; i < 64; i++)
        pw_buf_free(&zs[i]);
    pw_buf_free(&d.z);
    pw_buf_free(&d.out);
    pw_wsd_free(&d.tx);
    pw_wsd_free(&d.rx);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        round_s = atof(argv[1]) > 0 ? atof(argv[1]) : round_s;
    static const size_t sizes[] = {32, 1024, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        bench_frames(sizes[i], 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        bench_frames(sizes[i], 1);
    bench_accept();
    bench_deflate();
    return 0;
}
