/* bench_text.c — the text-protocol core on its own, no I/O:
 *  - JSON reader: a 1000-message long-poll body parsed into a tree;
 *  - JSON writer: 1 MiB of mixed text (quotes, LF, UTF-8) as a JSON string;
 *  - HTTP/1.1: a browser's WebSocket upgrade request head;
 *  - SSE: a 10000-event stream fed in 4 KiB chunks;
 * each in MB/s of input next to memcpy of the same bytes in the same run,
 * with the ratio.  Every figure is the best of three rounds of >= the given
 * seconds of this thread's CPU time (the machine is shared).
 * Usage: bench_text [SECONDS_PER_ROUND]   (default 0.2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/http1.h"
#include "proto/json.h"
#include "proto/sse.h"

static double round_s = 0.2;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sink(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Calls per second: calls are timed in batches of >= 2 ms so the clock's
 * own cost (a system call) does not count. */
static double best_rate(void (*fn)(void *), void *arg)
{
    long batch = 1;
    for (;;) {
        double t0 = now();
        for (long i = 0; i < batch; i++)
            fn(arg);
        if (now() - t0 > 0.002 || batch > (1L << 24))
            break;
        batch *= 2;
    }
    double best = 0;
    for (int r = 0; r < 3; r++) {
        long n = 0;
        double t0 = now(), t;
        do {
            for (long i = 0; i < batch; i++)
                fn(arg);
            n += batch;
        } while ((t = now() - t0) < round_s);
        if (n / t > best)
            best = n / t;
    }
    return best;
}

struct job {
    const uint8_t *in;
    size_t len;
    uint8_t *dst;
    struct pw_buf out;
    size_t events;
};

static void do_memcpy(void *a)
{
    struct job *j = a;
    memcpy(j->dst, j->in, j->len);
    sink(j->dst);
}

static void do_json_parse(void *a)
{
    struct job *j = a;
    struct pw_json *r = NULL;
    if (pw_json_parse(j->in, j->len, NULL, &r, NULL) != 0)
        abort();
    sink(r);
    pw_json_free(r);
}

static void do_json_write(void *a)
{
    struct job *j = a;
    pw_buf_reset(&j->out);
    if (pw_json_str(&j->out, j->in, j->len) != 0)
        abort();
    sink(j->out.p);
}

static void do_http(void *a)
{
    static struct pw_http_req req;
    struct job *j = a;
    if (pw_http_parse_request((const char *)j->in, j->len, &req, NULL) != (int)j->len)
        abort();
    sink(&req);
}

static void on_event(void *ud, const struct pw_sse_event *ev)
{
    ((struct job *)ud)->events += ev->data_len > 0;
}

static void do_sse(void *a)
{
    struct job *j = a;
    struct pw_sse_parser p;
    struct pw_sse_callbacks cb = {on_event, NULL, NULL, NULL};
    pw_sse_parser_init(&p, &cb, j, 0, 0);
    for (size_t o = 0; o < j->len; o += 4096)
        if (pw_sse_parser_feed(&p, j->in + o, j->len - o < 4096 ? j->len - o : 4096) != 0)
            abort();
    pw_sse_parser_end(&p);
    pw_sse_parser_free(&p);
}

static void report(const char *name, void (*fn)(void *), struct job *j)
{
    j->dst = malloc(j->len);
    double r = best_rate(fn, j) * (double)j->len / 1e6;
    double m = best_rate(do_memcpy, j) * (double)j->len / 1e6;
    printf("%-44s %8.1f MB/s   memcpy %8.1f MB/s   ratio %.4f\n", name, r, m, r / m);
    free(j->dst);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        round_s = atof(argv[1]);
    struct pw_buf body, text, sse;
    pw_buf_init(&body, 0);
    pw_buf_init(&text, 0);
    pw_buf_init(&sse, 0);

    pw_json_begin(&body, '{');
    pw_json_kcstr(&body, "cursor", "1000");
    pw_json_key(&body, "messages");
    pw_json_begin(&body, '[');
    for (int i = 0; i < 1000; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        pw_json_sep(&body);
        pw_json_begin(&body, '{');
        pw_json_kcstr(&body, "id", id);
        pw_json_kcstr(&body, "event", "message");
        pw_json_kcstr(&body, "data", "The quick brown fox jumps over the lazy dog, caf\xc3\xa9 \"quoted\"\n");
        pw_json_end(&body, '}');
    }
    pw_json_end(&body, ']');
    pw_json_kbool(&body, "gap", 0);
    pw_json_end(&body, '}');

    static const char mix[] = "The quick brown fox \"jumps\"\n caf\xc3\xa9 \xe2\x82\xac ";
    while (text.len < (1u << 20))
        pw_buf_append(&text, mix, sizeof mix - 1);

    static const char upgrade[] =
        "GET /ws/news?since=41 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: Upgrade\r\n"
        "Pragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\n"
        "Origin: http://127.0.0.1:8080\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br\r\n"
        "Accept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

    for (int i = 0; i < 10000; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        pw_sse_encode(&sse, id, i % 2 ? "tick" : NULL,
                      (const uint8_t *)"The quick brown fox\njumps over the lazy dog", 43, -1);
    }

    char name[64];
    struct job j = {0};
    pw_buf_init(&j.out, 0);
    j.in = body.p, j.len = body.len;
    snprintf(name, sizeof name, "json parse (%zu-byte poll body)", body.len);
    report(name, do_json_parse, &j);
    j.in = text.p, j.len = text.len;
    report("json string write (1 MiB mixed text)", do_json_write, &j);
    j.in = (const uint8_t *)upgrade, j.len = sizeof upgrade - 1;
    snprintf(name, sizeof name, "http request head (%zu-byte upgrade)", j.len);
    report(name, do_http, &j);
    j.in = sse.p, j.len = sse.len;
    snprintf(name, sizeof name, "sse parse (%zu bytes, 10000 events)", sse.len);
    report(name, do_sse, &j);
    pw_buf_free(&j.out);
    pw_buf_free(&body);
    pw_buf_free(&text);
    pw_buf_free(&sse);
    return 0;
}
