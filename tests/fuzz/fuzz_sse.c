/* fuzz_sse.c — the event-stream parser and encoder, and the Content-Type
 * check.
 * Byte 0: bits 0-1 pick the limits, bits 2-7 seed the split points.
 * Invariants: the stream fed whole, split at data-chosen points, or one
 * byte at a time gives the same callbacks (last-id changes included) and the
 * same error; the encoder's output for any data parses back to that data
 * (line ends as LF, invalid UTF-8 as U+FFFD); the Content-Type check of the
 * input as a string answers one of its three codes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sse.h"
#include "proto/utf8_repair.h"

static void on_event(void *ud, const struct pw_sse_event *ev)
{
    struct pw_buf *o = ud;
    size_t el = strlen(ev->event), il = strlen(ev->id);
    pw_buf_printf(o, "E%zu:", el);
    pw_buf_append(o, ev->event, el);
    pw_buf_printf(o, "I%zu:", il);
    pw_buf_append(o, ev->id, il);
    pw_buf_printf(o, "D%zu:", ev->data_len);
    pw_buf_append(o, ev->data, ev->data_len);
    if (ev->data[ev->data_len] != 0)
        abort();
}

static void on_retry(void *ud, uint64_t ms)
{
    pw_buf_printf(ud, "R%llu", (unsigned long long)ms);
}

static void on_comment(void *ud, const char *t, size_t n)
{
    pw_buf_printf(ud, "C%zu:", n);
    pw_buf_append(ud, t, n);
}

static void on_last_id(void *ud, const char *id)
{
    size_t n = strlen(id);
    pw_buf_printf(ud, "N%zu:", n);
    pw_buf_append(ud, id, n);
}

static const struct pw_sse_callbacks cbs = {on_event, on_retry, on_comment, on_last_id};

static int run(const uint8_t *in, size_t n, size_t step, uint32_t seed, size_t ml, size_t md, struct pw_buf *out)
{
    struct pw_sse_parser p;
    pw_sse_parser_init(&p, &cbs, out, ml, md);
    if (pw_sse_parser_set_last_id(&p, "seed") != 0)
        abort();
    size_t at = 0;
    int rc = 0;
    while (at < n && !rc) {
        size_t k = step;
        if (!k) { /* pseudo-random piece sizes from the seed */
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 17;
        }
        if (k > n - at)
            k = n - at;
        rc = pw_sse_parser_feed(&p, in + at, k);
        at += k;
    }
    pw_sse_parser_end(&p);
    pw_buf_printf(out, "L%s", pw_sse_parser_last_id(&p));
    pw_sse_parser_free(&p);
    return rc;
}

static void roundtrip(const uint8_t *d, size_t n)
{
    struct pw_buf enc, got, want;
    pw_buf_init(&enc, 0);
    pw_buf_init(&got, 0);
    pw_buf_init(&want, 0);
    if (pw_sse_encode(&enc, "i", "e", d, n, -1) != 0)
        abort();
    /* expected data: CR/CRLF -> LF, invalid UTF-8 -> U+FFFD, per line */
    struct pw_buf norm;
    pw_buf_init(&norm, 0);
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && d[j] != '\r' && d[j] != '\n')
            j++;
        for (size_t k = i; k < j;) {
            uint32_t cp;
            size_t s = pw__u8_next(d + k, j - k, &cp);
            if (cp == 0xFFFD) pw_buf_append(&norm, "\xEF\xBF\xBD", 3);
            else pw_buf_append(&norm, d + k, s);
            k += s;
        }
        if (j == n)
            break;
        pw_buf_putc(&norm, '\n');
        if (d[j] == '\r' && j + 1 < n && d[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    pw_buf_printf(&want, "E1:eI1:iD%zu:", norm.len);
    pw_buf_append(&want, norm.p, norm.len);
    pw_buf_printf(&want, "Li");
    /* the seeded id is replaced by the encoder's, before the event */
    struct pw_buf w2;
    pw_buf_init(&w2, 0);
    pw_buf_printf(&w2, "N1:i");
    pw_buf_append(&w2, want.p, want.len);
    pw_buf_free(&want);
    want = w2;
    if (run(enc.p, enc.len, 0, 7, SIZE_MAX / 4, SIZE_MAX / 4, &got) != 0)
        abort();
    if (got.len != want.len || (got.len && memcmp(got.p, want.p, got.len)))
        abort();
    pw_buf_free(&norm);
    pw_buf_free(&enc);
    pw_buf_free(&got);
    pw_buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const size_t lines[4] = {0, 8, 32, 200}, datas[4] = {0, 16, 64, 500};
    size_t ml = lines[data[0] & 3], md = datas[data[0] & 3];
    uint32_t seed = data[0] >> 2;
    data++, size--;
    struct pw_buf a, b, c;
    pw_buf_init(&a, 0);
    pw_buf_init(&b, 0);
    pw_buf_init(&c, 0);
    int ra = run(data, size, size ? size : 1, 0, ml, md, &a);
    int rb = run(data, size, 0, seed, ml, md, &b);
    int rc = run(data, size, 1, 0, ml, md, &c);
    if (ra != rb || ra != rc || a.len != b.len || a.len != c.len ||
        (a.len && (memcmp(a.p, b.p, a.len) || memcmp(a.p, c.p, a.len))))
        abort();
    pw_buf_free(&a);
    pw_buf_free(&b);
    pw_buf_free(&c);
    roundtrip(data, size);
    char *ct = malloc(size + 1);
    if (!ct)
        return 0;
    memcpy(ct, data, size);
    ct[size] = 0;
    int r = pw_sse_check_content_type(ct);
    if (r != 0 && r != PW_ESSE_NOT_STREAM && r != PW_ESSE_CHARSET)
        abort();
    free(ct);
    return 0;
}
