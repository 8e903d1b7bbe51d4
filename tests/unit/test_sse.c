/* test_sse.c — the WHATWG event-stream parser (vector files, every split)
 * and the encoder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sse.h"
#include "tap.h"

#define VEC_DIR "tests/vectors/sse"

/* ---- what the callbacks saw, in the .expected format ---- */

static void put_esc(struct pw_buf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') pw_buf_append(o, "\\n", 2);
        else if (c == '\r') pw_buf_append(o, "\\r", 2);
        else if (c == '\t') pw_buf_append(o, "\\t", 2);
        else if (c == '\\') pw_buf_append(o, "\\\\", 2);
        else if (c < 0x20 || c == 0x7f) pw_buf_printf(o, "\\x%02x", c);
        else pw_buf_putc(o, c);
    }
}

static void on_event(void *ud, const struct pw_sse_event *ev)
{
    struct pw_buf *o = ud;
    pw_buf_append(o, "event: ", 7);
    put_esc(o, ev->event, strlen(ev->event));
    pw_buf_append(o, " | id: ", 7);
    put_esc(o, ev->id, strlen(ev->id));
    pw_buf_append(o, " | data: ", 9);
    put_esc(o, ev->data, ev->data_len);
    pw_buf_putc(o, '\n');
}

static void on_retry(void *ud, uint64_t ms)
{
    if (ms == PW_SSE_RETRY_DEFAULT)
        pw_buf_printf(ud, "retry: default\n");
    else
        pw_buf_printf(ud, "retry: %llu\n", (unsigned long long)ms);
}

static void on_comment(void *ud, const char *t, size_t n)
{
    pw_buf_append(ud, "comment: ", 9);
    put_esc(ud, t, n);
    pw_buf_putc(ud, '\n');
}

static const struct pw_sse_callbacks cbs = {on_event, on_retry, on_comment, NULL};

/* Feeds `in` in pieces ending at the offsets in cuts[] (then the rest) and
 * ends the stream; returns the first error or 0.  out gets the transcript. */
static int run(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts, struct pw_buf *out,
               size_t max_line, size_t max_data)
{
    struct pw_sse_parser p;
    pw_buf_reset(out);
    pw_sse_parser_init(&p, &cbs, out, max_line, max_data);
    size_t at = 0;
    int rc = 0;
    for (size_t k = 0; k <= ncuts && !rc; k++) {
        size_t end = k < ncuts ? cuts[k] : n;
        rc = pw_sse_parser_feed(&p, in + at, end - at);
        at = end;
    }
    pw_sse_parser_end(&p);
    pw_sse_parser_free(&p);
    return rc;
}

static int run_bytewise(const uint8_t *in, size_t n, struct pw_buf *out)
{
    struct pw_sse_parser p;
    pw_buf_reset(out);
    pw_sse_parser_init(&p, &cbs, out, 0, 0);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = pw_sse_parser_feed(&p, in + i, 1);
    pw_sse_parser_end(&p);
    pw_sse_parser_free(&p);
    return rc;
}

/* ---- vector files ---- */

static int read_file(const char *path, struct pw_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[4096];
    size_t n;
    pw_buf_reset(b);
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        pw_buf_append(b, tmp, n);
    fclose(f);
    return 0;
}

/* \r \n \xHH \\ in a .txt input; everything else as is. */
static void unescape(const struct pw_buf *src, struct pw_buf *dst)
{
    pw_buf_reset(dst);
    for (size_t i = 0; i < src->len; i++) {
        uint8_t c = src->p[i];
        if (c == '\\' && i + 1 < src->len) {
            uint8_t e = src->p[++i];
            if (e == 'r') c = '\r';
            else if (e == 'n') c = '\n';
            else if (e == 't') c = '\t';
            else if (e == '\\') c = '\\';
            else if (e == 'x' && i + 2 < src->len) {
                char hx[3] = {(char)src->p[i + 1], (char)src->p[i + 2], 0};
                c = (uint8_t)strtoul(hx, NULL, 16);
                i += 2;
            }
        }
        pw_buf_putc(dst, c);
    }
}

static int cmpname(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_vectors(void)
{
    DIR *d = opendir(VEC_DIR);
    OK(d != NULL, "vectors: %s is readable (run from the source root)", VEC_DIR);
    if (!d)
        return;
    char *names[256];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 256) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0)
            names[nn++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    qsort(names, nn, sizeof names[0], cmpname);
    OK(nn >= 30, "vectors: %zu cases found", nn);
    struct pw_buf raw, in, want, got;
    pw_buf_init(&raw, 0);
    pw_buf_init(&in, 0);
    pw_buf_init(&want, 0);
    pw_buf_init(&got, 0);
    for (size_t k = 0; k < nn; k++) {
        char path[512];
        snprintf(path, sizeof path, VEC_DIR "/%s.txt", names[k]);
        int r1 = read_file(path, &raw);
        snprintf(path, sizeof path, VEC_DIR "/%s.expected", names[k]);
        int r2 = read_file(path, &want);
        if (r1 || r2) {
            OK(0, "vector %s: input and .expected readable", names[k]);
            continue;
        }
        unescape(&raw, &in);
        int rc = run(in.p, in.len, NULL, 0, &got, 0, 0);
        OK(rc == 0 && got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
           "vector %s: whole input gives the expected events", names[k]);
        if (got.len != want.len || memcmp(got.p, want.p, got.len))
            printf("# want:\n%.*s# got:\n%.*s", (int)want.len, (char *)want.p, (int)got.len, (char *)got.p);
        rc = run_bytewise(in.p, in.len, &got);
        OK(rc == 0 && got.len == want.len && memcmp(got.p, want.p, got.len) == 0,
           "vector %s: one byte at a time gives the same", names[k]);
        size_t bad = SIZE_MAX;
        for (size_t cut = 0; cut <= in.len && bad == SIZE_MAX; cut++) {
            rc = run(in.p, in.len, &cut, 1, &got, 0, 0);
            if (rc || got.len != want.len || memcmp(got.p, want.p, got.len))
                bad = cut;
        }
        OK(bad == SIZE_MAX, "vector %s: split at each of %zu boundaries gives the same (first bad: %zd)", names[k],
           in.len + 1, bad == SIZE_MAX ? (ssize_t)-1 : (ssize_t)bad);
        free(names[k]);
    }
    pw_buf_free(&raw);
    pw_buf_free(&in);
    pw_buf_free(&want);
    pw_buf_free(&got);
}

/* ---- limits, end/reset, last id ---- */

static const char *cs(struct pw_buf *b)
{
    pw_buf_reserve(b, 1);
    b->p[b->len] = 0;
    return (const char *)b->p;
}

static void test_limits(void)
{
    struct pw_buf got;
    pw_buf_init(&got, 0);
    const char *s = "data: 12345678\n\n"; /* a 14-byte line */
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 14, 0), 0, "limits: a line of exactly max_line is fine");
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 13, 0), PW_ESSE_LINE_TOOBIG, "limits: one byte over max_line");
    size_t cut = 5;
    IS(run((const uint8_t *)s, strlen(s), &cut, 1, &got, 13, 0), PW_ESSE_LINE_TOOBIG,
       "limits: a long line split across chunks is caught too");
    s = "data: 123456789012345678901234567890";
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 13, 0), PW_ESSE_LINE_TOOBIG,
       "limits: an unterminated line over max_line is refused before its end arrives");
    s = "data: 1234\ndata: 12345\n\n"; /* delivers "1234\n12345", 10 bytes */
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 0, 10), 0,
       "limits: event data of exactly max_data (the final LF is not delivered, so not counted)");
    STREQ(cs(&got), "event: message | id:  | data: 1234\\n12345\n", "limits: ... and it is delivered whole");
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 0, 9), PW_ESSE_EVENT_TOOBIG, "limits: data over max_data");
    OK(got.len == 0, "limits: nothing dispatched from an oversized event");
    s = "data\ndata\n\n"; /* delivers "\n": one byte */
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 0, 1), 0, "limits: empty data lines count their LF between them");
    IS(run((const uint8_t *)s, strlen(s), NULL, 0, &got, 14, 0), 0, "limits: max_data 0 is the 1 MiB default");

    struct pw_sse_parser p;
    pw_sse_parser_init(&p, &cbs, &got, 8, 0);
    pw_buf_reset(&got);
    IS(pw_sse_parser_feed(&p, (const uint8_t *)"data: too long\n", 15), PW_ESSE_LINE_TOOBIG, "sticky: first error");
    IS(pw_sse_parser_feed(&p, (const uint8_t *)"data:x\n\n", 8), PW_ESSE_LINE_TOOBIG,
       "sticky: later good input gets the same error");
    OK(got.len == 0, "sticky: nothing dispatched after the error");
    pw_sse_parser_reset(&p);
    IS(pw_sse_parser_feed(&p, (const uint8_t *)"data:x\n\n", 8), 0, "reset: a new connection clears the error");
    STREQ(cs(&got), "event: message | id:  | data: x\n", "reset: events flow again");
    pw_sse_parser_free(&p);
    pw_buf_free(&got);
}

/* one event of 2 MiB + 1, on one line and on 2049 data: lines, split in 64 KiB
 * reads: with only max_data given, the line limit follows it */
static size_t big_events;
static size_t big_len[2];

static void on_big(void *ud, const struct pw_sse_event *ev)
{
    (void)ud;
    if (big_events < 2)
        big_len[big_events] = ev->data_len;
    big_events++;
}

static int feed_in_reads(struct pw_sse_parser *p, const struct pw_buf *b)
{
    int rc = 0;
    for (size_t at = 0; at < b->len && !rc; at += 65536)
        rc = pw_sse_parser_feed(p, b->p + at, b->len - at < 65536 ? b->len - at : 65536);
    return rc;
}

static void test_big_event(void)
{
    const size_t n = 2 * 1024 * 1024 + 1;
    struct pw_buf one, many;
    pw_buf_init(&one, 0);
    pw_buf_init(&many, 0);
    pw_buf_append(&one, "data: ", 6);
    for (size_t i = 0; i < n; i++)
        pw_buf_putc(&one, (uint8_t)('a' + i % 26));
    pw_buf_append(&one, "\n\n", 2);
    for (size_t i = 0; i < n; i += 1024) { /* 2049 lines: 2048 of 1024 bytes and one of 1 */
        pw_buf_append(&many, "data:", 5);
        for (size_t k = i; k < i + 1024 && k < n; k++)
            pw_buf_putc(&many, 'b');
        pw_buf_putc(&many, '\n');
    }
    pw_buf_putc(&many, '\n');
    size_t many_len = n + 2048; /* the LFs between the lines */
    static const struct pw_sse_callbacks bcb = {on_big, NULL, NULL, NULL};
    struct pw_sse_parser p;

    pw_sse_parser_init(&p, &bcb, NULL, 0, many_len);
    big_events = 0;
    IS(feed_in_reads(&p, &one), 0, "big: a 2 MiB event on one line passes with max_data alone (no hidden line limit)");
    IS(feed_in_reads(&p, &many), 0, "big: a 2 MiB event on 2049 data: lines passes");
    OK(big_events == 2 && big_len[0] == n && big_len[1] == many_len, "big: both delivered whole (%zu, %zu bytes)",
       big_len[0], big_len[1]);
    pw_sse_parser_free(&p);

    pw_sse_parser_init(&p, &bcb, NULL, 0, n);
    big_events = 0;
    IS(feed_in_reads(&p, &one), 0, "big: an event of exactly max_data bytes on one line passes");
    IS(feed_in_reads(&p, &many), PW_ESSE_EVENT_TOOBIG, "big: the same limit refuses more data spread over many lines");
    OK(big_events == 1 && big_len[0] == n, "big: only the event within the limit was delivered");
    pw_sse_parser_free(&p);

    pw_sse_parser_init(&p, &bcb, NULL, 0, n - 1);
    big_events = 0;
    int rc = feed_in_reads(&p, &one);
    OK(rc == PW_ESSE_EVENT_TOOBIG || rc == PW_ESSE_LINE_TOOBIG, "big: one byte over max_data on one line is refused");
    OK(big_events == 0, "big: ... and not delivered");
    pw_sse_parser_free(&p);
    pw_buf_free(&one);
    pw_buf_free(&many);
}

/* on_last_id: every change of the last event ID string, in order */
static void on_id_ev(void *ud, const struct pw_sse_event *ev)
{
    pw_buf_printf(ud, "[%s:%s]", ev->id, ev->data);
}

static void on_id(void *ud, const char *id)
{
    pw_buf_printf(ud, "<%s>", id);
}

static void test_last_id_changes(void)
{
    struct pw_buf got;
    pw_buf_init(&got, 0);
    static const struct pw_sse_callbacks icb = {on_id_ev, NULL, NULL, on_id};
    struct pw_sse_parser p;
    pw_sse_parser_init(&p, &icb, &got, 0, 0);
    static const char in[] = "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\n\nid: x\0y\ndata: d\n\nid: 3\ndata: e";
    IS(pw_sse_parser_feed(&p, (const uint8_t *)in, sizeof in - 1), 0, "on_last_id: the stream parses");
    const char *s;
    pw_sse_parser_end(&p);
    STREQ(cs(&got), "<1>[1:a][1:b]<>[:c]<2>[2:d]",
          "on_last_id: reported before its event, once per change; empty id clears; an id without data "
          "counts; NUL id ignored; the unterminated event's id does not");
    pw_buf_reset(&got);
    IS(pw_sse_parser_set_last_id(&p, "42"), 0, "set_last_id: ok");
    STREQ(pw_sse_parser_last_id(&p), "42", "set_last_id: the last event ID string");
    pw_sse_parser_reset(&p);
    s = "data: f\n\nid: 42\ndata: g\n\n";
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(cs(&got), "[42:f][42:g]", "set_last_id: events without id carry it, and sending it again is no change");
    IS(pw_sse_parser_set_last_id(&p, ""), 0, "set_last_id: empty");
    STREQ(pw_sse_parser_last_id(&p), "", "set_last_id: cleared");
    pw_sse_parser_free(&p);
    pw_buf_free(&got);
}

/* own_id: the event had an id: field itself (a pushwire gap has none) */
static void on_own_ev(void *ud, const struct pw_sse_event *ev)
{
    pw_buf_printf(ud, "[%s:%s:%d]", ev->event, ev->id, ev->own_id);
}

static void test_own_id(void)
{
    struct pw_buf got;
    pw_buf_init(&got, 0);
    static const struct pw_sse_callbacks ocb = {on_own_ev, NULL, NULL, NULL};
    struct pw_sse_parser p;
    pw_sse_parser_init(&p, &ocb, &got, 0, 0);
    static const char in[] = "id: 7\n\nevent: gap\ndata: {}\n\nid: 8\nevent: gap\ndata: m\n\n"
                             "id: 8\ndata: again\n\nid: x\0y\ndata: n\n\nid\ndata: e\n\nid: 9\nretry: 1";
    IS(pw_sse_parser_feed(&p, (const uint8_t *)in, sizeof in - 1), 0, "own_id: the stream parses");
    STREQ(cs(&got), "[gap:7:0][gap:8:1][message:8:1][message:8:0][message::1]",
          "own_id: not after an id-only event, set by an id: field (the same value again too), not by a "
          "NUL id (ignored), set by an empty id:");
    pw_sse_parser_reset(&p); /* the unterminated "id: 9" does not carry over */
    pw_buf_reset(&got);
    const char *s = "data: z\n\n";
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(cs(&got), "[message::0]", "own_id: a new connection starts without");
    pw_sse_parser_free(&p);
    pw_buf_free(&got);
}

static void test_last_id(void)
{
    struct pw_buf got;
    pw_buf_init(&got, 0);
    struct pw_sse_parser p;
    pw_sse_parser_init(&p, &cbs, &got, 0, 0);
    STREQ(pw_sse_parser_last_id(&p), "", "last id: empty at start");
    const char *s = "id: 5\ndata: a\n\nid: 6\ndata: b";
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(pw_sse_parser_last_id(&p), "5", "last id: set by the dispatched event");
    pw_sse_parser_end(&p);
    STREQ(pw_sse_parser_last_id(&p), "5", "last id: an id in the discarded unterminated event does not count");
    pw_sse_parser_reset(&p);
    pw_buf_reset(&got);
    s = "data: c\n\n";
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(cs(&got), "event: message | id: 5 | data: c\n",
          "last id: kept across reconnection (reset), as browsers do");
    s = "\xef\xbb\xbf" "data: d\n\n";
    pw_sse_parser_reset(&p);
    pw_buf_reset(&got);
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(cs(&got), "event: message | id: 5 | data: d\n", "reset: a new stream may start with its own BOM");
    s = "id\n\n";
    pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s));
    STREQ(pw_sse_parser_last_id(&p), "", "last id: an empty id field clears it, even without data");
    pw_sse_parser_free(&p);

    /* NULL callbacks for retry and comments are allowed */
    struct pw_sse_callbacks only = {on_event, NULL, NULL, NULL};
    pw_sse_parser_init(&p, &only, &got, 0, 0);
    pw_buf_reset(&got);
    s = ": c\nretry: 5\ndata: e\n\n";
    IS(pw_sse_parser_feed(&p, (const uint8_t *)s, strlen(s)), 0, "callbacks: retry and comment may be NULL");
    STREQ(cs(&got), "event: message | id:  | data: e\n", "callbacks: events still dispatched");
    pw_sse_parser_free(&p);
    pw_buf_free(&got);
}

/* ---- Content-Type, as EventSource judges it ---- */

static void test_content_type(void)
{
    static const struct { const char *ct; int want; } v[] = {
        {"text/event-stream", 0},
        {"TEXT/Event-Stream", 0},
        {"  text/event-stream  ", 0},
        {"text/event-stream;charset=utf-8", 0},
        {"text/event-stream; charset=UTF-8", 0},
        {"text/event-stream ; charset=\"utf-8\" ; x=y", 0},
        {"text/event-stream; foo=bar", 0},
        {"text/event-stream; charset=iso-8859-1", PW_ESSE_CHARSET},
        {"text/event-stream; charset=utf8", PW_ESSE_CHARSET},
        {"text/event-stream; charset=", PW_ESSE_CHARSET},
        {"text/event-stream; charset", 0},          /* no '=': not a charset (fuzz) */
        {"text/event-stream; charset;x=y", 0},
        {"text/event-streams", PW_ESSE_NOT_STREAM},
        {"text/event-stream x", PW_ESSE_NOT_STREAM},
        {"text/html", PW_ESSE_NOT_STREAM},
        {"text/plain; x=text/event-stream", PW_ESSE_NOT_STREAM},
        {"", PW_ESSE_NOT_STREAM},
        {NULL, PW_ESSE_NOT_STREAM},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        IS(pw_sse_check_content_type(v[i].ct), v[i].want, "content type: '%s'", v[i].ct ? v[i].ct : "(none)");
}

/* ---- encoder ---- */

static void enc_is(const char *id, const char *ev, const char *data, size_t n, long long retry, const char *want,
                   const char *name)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = pw_sse_encode(&b, id, ev, (const uint8_t *)data, n, retry);
    OK(rc == 0 && b.len == strlen(want) && memcmp(b.p, want, b.len) == 0, "encode: %s", name);
    if (rc || b.len != strlen(want) || memcmp(b.p, want, b.len))
        printf("# got: %.*s\n", (int)b.len, b.p ? (char *)b.p : "");
    pw_buf_free(&b);
}

static void test_encoder(void)
{
    enc_is(NULL, NULL, "hello", 5, -1, "data: hello\n\n", "data only");
    enc_is("7", "tick", "x", 1, 3000, "retry: 3000\nid: 7\nevent: tick\ndata: x\n\n", "all fields, retry first");
    enc_is("1", "message", "m", 1, -1, "id: 1\ndata: m\n\n", "event 'message' is omitted");
    enc_is("", NULL, "m", 1, -1, "id:\ndata: m\n\n", "empty id resets the last id");
    enc_is(NULL, NULL, "", 0, -1, "data:\n\n", "empty data still dispatches");
    enc_is(NULL, NULL, "a\nb\n", 4, -1, "data: a\ndata: b\ndata:\n\n", "multi-line data, trailing LF kept");
    enc_is(NULL, NULL, "a\r\nb\rc", 6, -1, "data: a\ndata: b\ndata: c\n\n", "CRLF and CR split lines too");
    enc_is(NULL, NULL, " lead", 5, -1, "data:  lead\n\n", "leading space survives");
    enc_is(NULL, NULL, "\n", 1, -1, "data:\ndata:\n\n", "a lone LF");
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_buf_append(&b, "x", 1);
    IS(pw_sse_encode(&b, "a\nb", NULL, (const uint8_t *)"d", 1, -1), PW_EINVAL, "encode: id with LF refused");
    IS(pw_sse_encode(&b, NULL, "e\r", (const uint8_t *)"d", 1, -1), PW_EINVAL, "encode: event with CR refused");
    IS(b.len, 1, "encode: refused event leaves the buffer unchanged");
    b.max = 10;
    IS(pw_sse_encode(&b, NULL, NULL, (const uint8_t *)"0123456789", 10, -1), PW_ETOOBIG, "encode: over the cap");
    IS(b.len, 1, "encode: over the cap leaves the buffer unchanged");
    b.max = SIZE_MAX;
    pw_buf_reset(&b);
    pw_sse_encode_comment(&b, NULL);
    pw_sse_encode_comment(&b, "heartbeat");
    OK(b.len == 14 && memcmp(b.p, ":\n: heartbeat\n", 14) == 0, "encode: comments");
    IS(pw_sse_encode_comment(&b, "a\nb"), PW_EINVAL, "encode: comment with LF refused");
    pw_buf_free(&b);
}

/* parse(encode(d)) == d with CR and CRLF turned into LF */
static void test_roundtrip(void)
{
    static const char alphabet[] = "ab \r\n:\x00\xc3\xa9";
    unsigned seed = 12345;
    int bad = 0;
    struct pw_buf enc, got, want;
    pw_buf_init(&enc, 0);
    pw_buf_init(&got, 0);
    pw_buf_init(&want, 0);
    for (int t = 0; t < 2000 && !bad; t++) {
        uint8_t d[24];
        size_t n = (size_t)(t % 24);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245 + 12345;
            d[i] = (uint8_t)alphabet[(seed >> 16) % (sizeof alphabet - 1)];
            if (d[i] == 0xc3) { /* keep é whole so the data is valid UTF-8 */
                if (i + 1 < n) d[++i] = 0xa9;
                else d[i] = 'z';
            } else if (d[i] == 0xa9) {
                d[i] = 'y';
            }
        }
        pw_buf_reset(&enc);
        pw_sse_encode(&enc, t % 3 ? "id 1" : NULL, t % 2 ? "ev" : NULL, d, n, t % 5 ? -1 : 250);
        pw_buf_reset(&want);
        if (t % 5 == 0)
            pw_buf_printf(&want, "retry: 250\n");
        pw_buf_printf(&want, "event: %s | id: %s | data: ", t % 2 ? "ev" : "message", t % 3 ? "id 1" : "");
        struct pw_buf norm;
        pw_buf_init(&norm, 0);
        for (size_t i = 0; i < n; i++) {
            if (d[i] == '\r') {
                pw_buf_putc(&norm, '\n');
                if (i + 1 < n && d[i + 1] == '\n')
                    i++;
            } else {
                pw_buf_putc(&norm, d[i]);
            }
        }
        put_esc(&want, (char *)norm.p, norm.len);
        pw_buf_putc(&want, '\n');
        pw_buf_free(&norm);
        size_t cut = enc.len / 2;
        run(enc.p, enc.len, &cut, 1, &got, 0, 0);
        if (got.len != want.len || memcmp(got.p, want.p, got.len)) {
            bad = 1;
            printf("# case %d\n# want: %.*s# got: %.*s", t, (int)want.len, (char *)want.p, (int)got.len,
                   got.p ? (char *)got.p : "");
        }
    }
    OK(!bad, "round-trip: 2000 random events (CR, LF, NUL, colons, UTF-8) survive encode -> parse");
    pw_buf_free(&enc);
    pw_buf_free(&got);
    pw_buf_free(&want);
}

int main(void)
{
    test_vectors();
    test_limits();
    test_last_id();
    test_last_id_changes();
    test_own_id();
    test_big_event();
    test_content_type();
    test_encoder();
    test_roundtrip();
    return tap_done();
}
