/* replay.c — `pushwire replay FILE URL`: plays a transcript to a server as a
 * client, keeping its timing, and with --expect compares what comes back
 * with the transcript's `in` messages.  `--serve` is in replay_serve.c.
 *
 * The transcript is streamed, never loaded: one reader walks it to send the
 * `out` messages when they are due, a second reader on the same file walks
 * the `in` messages that arrivals are compared with.  Before anything is
 * sent, a first pass checks every line, so a malformed line never leaves a
 * session half played (not possible for stdin, which is read once).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "server/backlog.h"
#include "client/client.h"
#include "client/client_http.h"
#include "client/client_ws.h"
#include "proto/base64.h"
#include "connect.h" /* pwc_exit_for (one error → exit status map for every client),
                       * --connect-timeout's option row */
#include "proto/json.h"
#include "opt.h"
#include "replay.h"
#include "proto/sse.h"

#define REPLAY_OPTS(X)                                                         \
    PW_COMMON_OPTS(X)                                                          \
    X(SPEED, 0, "speed", PW_REAL("X", "1", "1e-6", "1e6"), "play X times faster; 0.5 is half speed") \
    X(NO_DELAY, 0, "no-delay", PW_FLAG, "send every message at once, ignoring the timing") \
    X(EXPECT, 0, "expect", PW_FLAG, "compare arriving messages with the transcript's in messages; exit 1 with a diff when they differ") \
    X(WAIT, 0, "wait", PW_SECS("5", "0", "1d"), "with --expect, give up on missing messages when nothing arrives for SECS") \
    X(MAX_DIFFS, 0, "max-diffs", PW_COUNT("N", "10", "1", "1000000"), "show at most N differences") \
    X(SERVE, 0, "serve", PW_STR("ADDR:PORT", NULL, NULL), "serve the in messages to every client instead of playing to a URL") \
    X(CHANNEL, 0, "channel", PW_STR("NAME", NULL, NULL), "with --serve: the channel of the feed (default: the transcript's, else default)") \
    X(BACKLOG, 0, "backlog", PW_COUNT("N", "1024", "1", "100000000"), "with --serve: messages kept for resuming clients") \
    X(MAX_LINE, 0, "max-line", PW_BYTES("16M", "64", "1G"), "longest transcript line accepted") \
    PWC_CONNECT_TIMEOUT_OPT(X)                                                 \
    PW_TLS_CLIENT_OPTS(X)

enum { REPLAY_OPTS(PW_OPT_ENUM) };
static const struct pw_opt replay_opts_tab[] = {REPLAY_OPTS(PW_OPT_ROW){0}};

static int replay_main(int argc, char **argv);

const struct pw_applet pw_applet_replay = {
    "replay",
    "play a recorded transcript to a server, or serve it to clients",
    "[OPTIONS] FILE URL\n[OPTIONS] FILE --serve ADDR:PORT",
    "Plays the transcript FILE (JSON Lines from 'connect --record' or 'serve\n"
    "--record') to URL keeping its timing: 'out' messages are sent, and with\n"
    "--expect the 'in' messages are compared with what arrives.  With --serve,\n"
    "serves the 'in' messages with their timing to every client that connects\n"
    "over WebSocket, SSE or long polling.  FILE '-' is stdin.",
    replay_opts_tab,
    replay_main,
};

/* ---- shared helpers ------------------------------------------------------ */

FILE *replay_open(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "r");
    if (!f)
        pw_err("replay", "cannot open '%s': %s", path, strerror(errno));
    return f;
}

int replay_live(struct pw_treader *r, FILE *f, int *saved_flags)
{
    struct stat st;
    int fd = fileno(f);
    *saved_flags = -1;
    if (f != stdin || fd < 0 || fstat(fd, &st) ||
        !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd)))
        return -1;
    *saved_flags = fcntl(fd, F_GETFL); /* uv_poll_init makes it non-blocking */
    pw_treader_live(r, fd);
    return fd;
}

void replay_live_end(int fd, int saved_flags)
{
    if (fd >= 0 && saved_flags >= 0)
        (void)fcntl(fd, F_SETFL, saved_flags); /* a terminal is the shell's too */
}

int replay_bad_line(const char *path, const struct pw_treader *r, int rc)
{
    pw_err("replay", "'%s' line %lu: %s", path, r->line, r->why[0] ? r->why : pw_strerror(rc));
    return rc == PW_ETR_READ ? PW_EXIT_FAIL : PW_EXIT_PROTO;
}

int replay_bad_channel(const struct replay_opts *o, const struct pw_trec *rec, unsigned long line)
{
    if (!o->serve || o->channel || rec->out || !rec->channel ||
        pw_channel_valid(rec->channel, strlen(rec->channel)))
        return 0;
    pw_err("replay",
           "'%s' line %lu: \"channel\" is \"%.40s\": not a channel name (1-128 of A-Z a-z 0-9 . _ ~ -); "
           "--channel NAME puts the whole feed on one",
           o->file, line, rec->channel);
    return PW_EXIT_PROTO;
}

uint64_t replay_due_ms(const struct replay_opts *o, double t)
{
    if (o->no_delay)
        return 0;
    double ms = t * 1000.0 / o->speed;
    return ms > 1e15 ? (uint64_t)1e15 : (uint64_t)ms;
}

/* Checks every line of the file once (streamed) and notes the first
 * channel an `in` record names.  0, or an exit status. */
static int replay_check(struct replay_opts *o, unsigned long *nin, unsigned long *nout)
{
    static char first[PW_CHANNEL_MAX + 1];
    FILE *f = replay_open(o->file);
    if (!f)
        return PW_EXIT_FAIL;
    struct pw_treader r;
    pw_treader_init(&r, f, o->max_line);
    struct pw_trec rec;
    int rc;
    *nin = *nout = 0;
    int ex = 0;
    while (!ex && (rc = pw_treader_next(&r, &rec)) == 1) {
        ++*(rec.out ? nout : nin);
        if ((ex = replay_bad_channel(o, &rec, r.line)))
            break;
        if (!first[0] && !rec.out && rec.channel && pw_channel_valid(rec.channel, strlen(rec.channel))) {
            snprintf(first, sizeof first, "%s", rec.channel);
            o->first_channel = first;
        }
    }
    if (!ex && rc < 0)
        ex = replay_bad_line(o->file, &r, rc);
    pw_treader_free(&r);
    fclose(f);
    return ex;
}

/* ---- the client mode --------------------------------------------------- */

#define REPLAY_HIGH_WATER (1u << 20) /* queued bytes before waiting for drain */
#define REPLAY_BATCH 1024            /* records handled per loop turn */

static struct {
    const struct replay_opts *o;
    uv_loop_t *loop;
    FILE *fa, *fb;
    struct pw_treader ra, rb;   /* ra: everything, to send; rb: the in side */
    struct pw_trec next;
    int have_next, a_done, b_done, played;
    uv_poll_t in;               /* standard input read live (replay_live) */
    int in_fd, in_flags;
    struct pw_wsc *ws;
    struct pw_url url;
    /* http(s):// — the in side is an SSE subscription, out messages are POSTs */
    int http, sse_open, post_wait;
    struct pw_httpc *sse, *post;
    unsigned long post_line;    /* the transcript line R.post sends */
    struct pw_sse_parser parser;
    int parser_err;
    char pub_url[4400];
    struct pw_buf b64;
    uv_timer_t t_play, t_wait, t_close;
    uv_timer_t t_open;          /* --connect-timeout: the WebSocket, the event
                                   stream or a POST is not answered yet */
    struct pw_httpc *opening;   /* the request t_open bounds (R.sse, R.post) */
    uv_signal_t sigint, sigterm;
    uint64_t t0;
    unsigned long sent, in_total, got, diffs, missing;
    int exit_code, finished, closing, drain_wait;
    int opened;                 /* the WebSocket or the event stream opened */
    struct pw_buf show;
} R;

static void replay_finish(int code);

static void handle_close(uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

static void replay_finish(int code)
{
    if (R.finished)
        return;
    R.finished = 1;
    R.exit_code = code;
    handle_close((uv_handle_t *)&R.t_play);
    handle_close((uv_handle_t *)&R.t_wait);
    handle_close((uv_handle_t *)&R.t_close);
    handle_close((uv_handle_t *)&R.t_open);
    R.opening = NULL;
    handle_close((uv_handle_t *)&R.sigint);
    handle_close((uv_handle_t *)&R.sigterm);
    if (R.in_fd >= 0)
        handle_close((uv_handle_t *)&R.in);
    if (R.ws) {
        struct pw_wsc *ws = R.ws;
        R.ws = NULL;
        pw_wsc_free(ws);
    }
    if (R.sse) {
        struct pw_httpc *h = R.sse;
        R.sse = NULL;
        pw_httpc_free(h);
    }
    if (R.post) {
        struct pw_httpc *h = R.post;
        R.post = NULL;
        pw_httpc_free(h);
    }
}

/* `text "…"` / `binary N bytes "base64…"`, escaped, cut at 200 bytes */
static const char *show(int binary, const uint8_t *d, size_t n)
{
    struct pw_buf *b = &R.show;
    b->len = 0;
    size_t cut = n > 200 ? 200 : n;
    if (binary) {
        pw_buf_printf(b, "binary %zu bytes ", n);
        pw_json_b64(b, d, cut);
    } else {
        pw_buf_printf(b, "text ");
        pw_json_str(b, d, cut);
    }
    if (cut < n)
        pw_buf_printf(b, "...");
    pw_buf_putc(b, 0);
    return (const char *)b->p;
}

static int rec_binary(const struct pw_trec *r) { return r->type == PW_TREC_BINARY; }

static void diff_line(unsigned long idx, const struct pw_trec *want, int have, int binary,
                      const uint8_t *d, size_t n)
{
    if (++R.diffs > R.o->max_diffs)
        return;
    printf("message %lu", idx);
    if (want)
        printf(" (line %lu, t=%g)", R.rb.line, want->t);
    printf(":\n- expected: %s\n", want ? show(rec_binary(want), want->data, want->len) : "nothing");
    printf("+ got:      %s\n", have ? show(binary, d, n) : "nothing");
}

/* The next `in` record of the comparison reader, or 0 at its end. */
static int next_in(struct pw_trec *rec)
{
    if (R.b_done)
        return 0;
    int rc;
    while ((rc = pw_treader_next(&R.rb, rec)) == 1)
        if (!rec->out)
            return 1;
    R.b_done = 1;
    return 0;
}

static void start_close(void);

static void maybe_done(void)
{
    if (!R.played || R.closing || R.finished)
        return;
    if (R.o->expect && R.got < R.in_total)
        return; /* t_wait is running */
    start_close();
}

/* Over SSE a CR, LF or CRLF in the data starts a new data: line and the
 * receiver joins the lines with LF (docs/PROTOCOL.md): expected text w
 * matches the event data d that has its line breaks as LF. */
static int sse_text_differs(const uint8_t *w, size_t wn, const uint8_t *d, size_t dn)
{
    size_t i = 0, j = 0;
    while (i < wn && j < dn) {
        uint8_t c = w[i++];
        if (c == '\r') {
            c = '\n';
            if (i < wn && w[i] == '\n')
                i++;
        }
        if (c != d[j++])
            return 1;
    }
    return i != wn || j != dn;
}

/* Over SSE every event is text, and serve sends a binary message as its
 * base64: an expected binary message matches that text. */
static int differs(const struct pw_trec *want, int binary, const uint8_t *data, size_t len)
{
    if (R.http && rec_binary(want)) {
        R.b64.len = 0;
        if (pw_base64_append(&R.b64, want->data, want->len) != 0)
            return 1;
        return binary || R.b64.len != len || (len && memcmp(R.b64.p, data, len) != 0);
    }
    if (R.http)
        return binary || sse_text_differs(want->data, want->len, data, len);
    return rec_binary(want) != binary || want->len != len ||
           (len && memcmp(want->data, data, len) != 0);
}

static void arrived(int binary, const uint8_t *data, size_t len)
{
    R.got++;
    if (R.o->verbose && !pw_quiet)
        fprintf(stderr, "< %s\n", show(binary, data, len));
    if (!R.o->expect)
        return;
    if (R.played && uv_is_active((uv_handle_t *)&R.t_wait))
        uv_timer_again(&R.t_wait); /* still coming: wait on */
    struct pw_trec want;
    if (!next_in(&want))
        diff_line(R.got, NULL, 1, binary, data, len);
    else if (differs(&want, binary, data, len))
        diff_line(R.got, &want, 1, binary, data, len);
    maybe_done();
}

static void on_message(struct pw_wsc *ws, int opcode, const uint8_t *data, size_t len)
{
    (void)ws;
    arrived(opcode == PW_WS_OP_BINARY, data, len);
}

static void wait_cb(uv_timer_t *t)
{
    uv_timer_stop(t);
    /* what never came */
    struct pw_trec want;
    unsigned long idx = R.got;
    while (next_in(&want)) {
        R.missing++;
        diff_line(++idx, &want, 0, 0, NULL, 0);
    }
    start_close();
}

static void play_cb(uv_timer_t *t);

static void play_end(void)
{
    R.played = 1;
    if (R.o->expect && R.got < R.in_total) {
        uint64_t ms = (uint64_t)(R.o->wait_s * 1000);
        uv_timer_start(&R.t_wait, wait_cb, ms, ms);
    }
    maybe_done();
}

static int post_start(int binary, const uint8_t *data, size_t len);

static void play_step(void);

static void in_cb(uv_poll_t *h, int status, int events)
{
    (void)status; /* an error: the read says what it is */
    (void)events;
    uv_poll_stop(h);
    pw_treader_readable(&R.ra);
    play_step();
}

static void play_step(void)
{
    if (R.finished || R.closing || R.post_wait)
        return;
    if (R.http ? !R.sse_open : !R.ws || R.ws->state != PW_WSC_OPEN)
        return;
    for (int i = 0; i < REPLAY_BATCH; i++) {
        if (!R.have_next) {
            int rc = pw_treader_next(&R.ra, &R.next);
            if (rc == PW_TREADER_WAIT) { /* standard input: in_cb goes on */
                uv_poll_start(&R.in, UV_READABLE, in_cb);
                return;
            }
            if (rc < 0) {
                replay_finish(replay_bad_line(R.o->file, &R.ra, rc));
                return;
            }
            if (rc == 0) {
                R.a_done = 1;
                if (R.post) {
                    R.post_wait = 1; /* the last POST first */
                    return;
                }
                play_end();
                return;
            }
            R.have_next = 1;
        }
        uint64_t due = replay_due_ms(R.o, R.next.t);
        uint64_t now = uv_now(R.loop) - R.t0;
        if (due > now) {
            uv_timer_start(&R.t_play, play_cb, due - now, 0);
            return;
        }
        if (R.next.out && R.http) {
            if (R.post) {
                R.post_wait = 1; /* one POST at a time keeps the order */
                return;
            }
            if (R.o->verbose && !pw_quiet)
                fprintf(stderr, "> %s\n", show(rec_binary(&R.next), R.next.data, R.next.len));
            if (post_start(rec_binary(&R.next), R.next.data, R.next.len) != 0)
                return;
            R.sent++;
        } else if (R.next.out) {
            if (pw_wsc_pending(R.ws) > REPLAY_HIGH_WATER) {
                R.drain_wait = 1; /* on_drain resumes */
                return;
            }
            int bin = rec_binary(&R.next);
            if (R.o->verbose && !pw_quiet)
                fprintf(stderr, "> %s\n", show(bin, R.next.data, R.next.len));
            int rc = pw_wsc_send(R.ws, bin ? PW_WS_OP_BINARY : PW_WS_OP_TEXT, R.next.data,
                                 R.next.len);
            if (rc) {
                pw_err("replay", "cannot send the message of line %lu: %s", R.ra.line,
                       pw_strerror(rc));
                replay_finish(PW_EXIT_FAIL);
                return;
            }
            R.sent++;
        } else {
            R.in_total++;
        }
        R.have_next = 0;
    }
    uv_timer_start(&R.t_play, play_cb, 0, 0); /* let the loop breathe */
}

static void play_cb(uv_timer_t *t)
{
    (void)t;
    play_step();
}

static void on_drain(struct pw_wsc *ws)
{
    (void)ws;
    if (R.drain_wait) {
        R.drain_wait = 0;
        play_step();
    }
}

static void on_open(struct pw_wsc *ws)
{
    (void)ws;
    uv_timer_stop(&R.t_open);
    R.opened = 1;
    uv_update_time(R.loop);
    R.t0 = uv_now(R.loop);
    play_step();
}

static void close_timeout_cb(uv_timer_t *t)
{
    (void)t;
    replay_finish(R.diffs ? PW_EXIT_FAIL : PW_EXIT_OK);
}

static void start_close(void)
{
    if (R.closing || R.finished)
        return;
    R.closing = 1;
    uv_timer_stop(&R.t_play);
    uv_timer_stop(&R.t_wait);
    if (R.http) { /* nothing to say goodbye with: drop the stream */
        replay_finish(R.diffs ? PW_EXIT_FAIL : PW_EXIT_OK);
        return;
    }
    if (!R.ws || pw_wsc_close(R.ws, PW_WS_CLOSE_NORMAL, "") != 0) {
        replay_finish(R.diffs ? PW_EXIT_FAIL : PW_EXIT_OK);
        return;
    }
    uv_timer_start(&R.t_close, close_timeout_cb, 3000, 0);
}


static void on_end(struct pw_wsc *ws, int err)
{
    if (R.finished)
        return;
    if (R.closing && (err == 0 || err == PW_ECL_ABNORMAL)) {
        replay_finish(R.diffs ? PW_EXIT_FAIL : PW_EXIT_OK);
        return;
    }
    if (err == PW_ECL_REJECTED)
        pw_err("replay", "server refused the WebSocket upgrade (HTTP %d)", ws->http_status);
    else if (err)
        pw_err("replay", "%s", ws->detail[0] ? ws->detail : pw_strerror(err));
    else
        pw_err("replay", "server closed the connection (%d%s%s) before the transcript ended",
               ws->close_in, ws->close_in_reason[0] ? " " : "", ws->close_in_reason);
    int code = err ? pwc_exit_for(err) : PW_EXIT_FAIL;
    if (!err && !pw_ws_close_is_normal(ws->close_in))
        code = PW_EXIT_ABNORMAL;
    /* nothing was played when the connection never opened: no diff */
    if (R.o->expect && R.ws && R.opened) {
        R.ws = NULL; /* no more arrivals: what is left is missing */
        pw_wsc_free(ws);
        struct pw_trec want;
        unsigned long idx = R.got;
        while (next_in(&want)) {
            R.missing++;
            diff_line(++idx, &want, 0, 0, NULL, 0);
        }
    }
    replay_finish(R.diffs && code == PW_EXIT_FAIL ? PW_EXIT_FAIL : code);
}

/* ---- --connect-timeout ------------------------------------------------------ */

/* Ran out: the WebSocket is not open, or R.opening (the event stream, a
 * POST) has no answer's head yet.  Said as connect says it; exit 7.
 * Nothing was played when the connection never opened: no diff. */
static void open_timeout_cb(uv_timer_t *t)
{
    (void)t;
    char phase[700];
    if (R.finished || R.closing)
        return;
    if (R.ws && R.ws->state < PW_WSC_OPEN)
        pw_wsc_phase(R.ws, phase, sizeof phase);
    else if (!R.opening ||
             pw_httpc_phase_text(R.opening, NULL, NULL, phase, sizeof phase) == PW_HTTPC_ANSWERED)
        return;
    if (R.opening && R.opening == R.post)
        pw_err("replay", "POST '%s' (line %lu): gave up after %g s (--connect-timeout) %s", R.pub_url,
               R.post_line, R.o->connect_timeout_s, phase);
    else
        pw_err("replay", "gave up after %g s (--connect-timeout) %s", R.o->connect_timeout_s, phase);
    replay_finish(PW_EXIT_TIMEOUT);
}

/* h (the event stream or a POST) is under way: it has --connect-timeout
 * to be answered (0: no limit) */
static void bound_open(struct pw_httpc *h)
{
    R.opening = h;
    if (R.o->connect_timeout_s > 0)
        uv_timer_start(&R.t_open, open_timeout_cb, pwc_ms(R.o->connect_timeout_s), 0);
}

/* h's answer came (or it ended): no longer bounded */
static void answered(const struct pw_httpc *h)
{
    if (R.opening != h)
        return;
    R.opening = NULL;
    uv_timer_stop(&R.t_open);
}

/* ---- http(s)://: SSE in, POST out ----------------------------------------- */

/* what never came, once nothing more can arrive */
static void list_missing(void)
{
    if (!R.o->expect || !R.opened)
        return;
    struct pw_trec want;
    unsigned long idx = R.got;
    while (next_in(&want)) {
        R.missing++;
        diff_line(++idx, &want, 0, 0, NULL, 0);
    }
}

static void sse_event(void *ud, const struct pw_sse_event *ev)
{
    (void)ud;
    if (!R.finished && !R.closing)
        arrived(0, (const uint8_t *)ev->data, ev->data_len);
}

static int sse_head(struct pw_httpc *h)
{
    answered(h);
    if (h->status / 100 != 2) {
        pw_err("replay", "server answered HTTP %ld to the SSE subscription '%s'", h->status, R.o->url);
        replay_finish(PW_EXIT_REJECTED);
        return -1;
    }
    const char *ct = h->content_type;
    if (strncasecmp(ct, "text/event-stream", 17) != 0 || (ct[17] && ct[17] != ';' && ct[17] != ' ')) {
        pw_err("replay", "'%s' is not an event stream (Content-Type '%s'); want a pushwire /sse/CHANNEL URL",
               R.o->url, ct);
        replay_finish(PW_EXIT_PROTO);
        return -1;
    }
    R.sse_open = R.opened = 1;
    uv_update_time(R.loop);
    R.t0 = uv_now(R.loop);
    play_step();
    return 0;
}

static int sse_data(struct pw_httpc *h, const uint8_t *p, size_t n)
{
    (void)h;
    if (R.finished || R.closing)
        return -1;
    int rc = pw_sse_parser_feed(&R.parser, p, n);
    if (rc < 0) {
        R.parser_err = rc;
        return -1;
    }
    return R.finished || R.closing ? -1 : 0;
}

static void sse_done(struct pw_httpc *h, int err)
{
    if (R.finished || R.closing || h != R.sse)
        return;
    answered(h);
    R.sse = NULL;
    int code;
    if (R.parser_err) {
        pw_err("replay", "bad event stream: %s", pw_strerror(R.parser_err));
        code = PW_EXIT_PROTO;
    } else if (err) {
        pw_err("replay", "%s", h->detail[0] ? h->detail : pw_strerror(err));
        code = pwc_exit_for(err);
    } else {
        pw_sse_parser_end(&R.parser);
        pw_err("replay", "server ended the event stream before the transcript ended");
        code = PW_EXIT_FAIL;
    }
    pw_httpc_free(h);
    list_missing();
    replay_finish(code);
}

static int post_head(struct pw_httpc *h)
{
    answered(h);
    if (h->status / 100 != 2) {
        pw_err("replay", "server answered HTTP %ld to POST '%s' (line %lu)", h->status, R.pub_url,
               R.post_line);
        replay_finish(PW_EXIT_REJECTED);
        return -1;
    }
    return 0;
}

static int post_data(struct pw_httpc *h, const uint8_t *p, size_t n)
{
    (void)h, (void)p, (void)n;
    return 0;
}

static void post_done(struct pw_httpc *h, int err)
{
    if (h != R.post)
        return;
    answered(h);
    R.post = NULL;
    if (err && !R.finished) {
        pw_err("replay", "POST '%s' (line %lu): %s", R.pub_url, R.post_line,
               h->detail[0] ? h->detail : pw_strerror(err));
        pw_httpc_free(h);
        replay_finish(pwc_exit_for(err));
        return;
    }
    pw_httpc_free(h);
    if (R.post_wait && !R.finished) {
        R.post_wait = 0;
        if (R.a_done)
            play_end();
        else
            play_step();
    }
}

static int post_start(int binary, const uint8_t *data, size_t len)
{
    static const char *const text_hdrs[] = {"Content-Type: text/plain; charset=utf-8", "Expect:"};
    static const char *const bin_hdrs[] = {"Content-Type: application/octet-stream", "Expect:"};
    static const struct pw_httpc_cb cb = {post_head, post_data, post_done, NULL};
    struct pw_httpc_opts ho = {
        .url = R.pub_url,
        .headers = binary ? bin_hdrs : text_hdrs,
        .nheaders = 2,
        .no_proxy = 1,
        .cacert = R.o->cacert,
        .insecure = R.o->insecure,
        .body = len ? (const void *)data : "",
        .body_len = len,
    };
    R.post = pw_httpc_new(R.loop, &ho, &cb, NULL);
    R.post_line = R.ra.line; /* the reader moves on while the POST is under way */
    if (!R.post) {
        pw_err("replay", "out of memory");
        replay_finish(PW_EXIT_FAIL);
        return -1;
    }
    bound_open(R.post);
    return 0;
}

/* /sse/CHANNEL[?query] → /pub/CHANNEL on the same origin; -1 otherwise */
static int pub_url_for(const struct pw_url *u)
{
    const char *t = u->target;
    if (strncmp(t, "/sse/", 5) != 0)
        return -1;
    size_t n = strcspn(t + 5, "?");
    if (n == 0 || memchr(t + 5, '/', n))
        return -1;
    char hp[300];
    pw_url_hostport(u, hp, sizeof hp, 1);
    int w = snprintf(R.pub_url, sizeof R.pub_url, "%s://%s/pub/%.*s", u->tls ? "https" : "http", hp,
                     (int)n, t + 5);
    return w > 0 && (size_t)w < sizeof R.pub_url ? 0 : -1;
}

static void signal_cb(uv_signal_t *h, int sig)
{
    (void)h;
    pw_err("replay", "interrupted (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    replay_finish(PW_EXIT_FAIL);
}

static int replay_client(const struct replay_opts *o, const struct pw_url *url)
{
    memset(&R, 0, sizeof R);
    R.url = *url;
    R.http = url->scheme[0] == 'h';
    if (R.http && pub_url_for(url) != 0) {
        pw_err("replay", "'%s': an http(s):// URL must be a pushwire /sse/CHANNEL URL "
               "(messages are POSTed to /pub/CHANNEL)", o->url);
        return PW_EXIT_USAGE;
    }
    R.o = o;
    R.loop = uv_default_loop();
    R.fa = replay_open(o->file);
    if (!R.fa)
        return PW_EXIT_FAIL;
    pw_treader_init(&R.ra, R.fa, o->max_line);
    R.in_fd = replay_live(&R.ra, R.fa, &R.in_flags);
    if (R.in_fd >= 0 && uv_poll_init(R.loop, &R.in, R.in_fd) != 0)
        R.in_fd = -1; /* not pollable after all: blocking reads, as for a file */
    if (R.in_fd < 0)
        R.ra.live = 0;
    if (o->expect) {
        R.fb = replay_open(o->file);
        if (!R.fb) {
            pw_treader_free(&R.ra);
            fclose(R.fa);
            return PW_EXIT_FAIL;
        }
        pw_treader_init(&R.rb, R.fb, o->max_line);
    }
    pw_buf_init(&R.show, 0);
    pw_buf_init(&R.b64, 0);
    uv_timer_init(R.loop, &R.t_play);
    uv_timer_init(R.loop, &R.t_wait);
    uv_timer_init(R.loop, &R.t_close);
    uv_timer_init(R.loop, &R.t_open);
    uv_signal_init(R.loop, &R.sigint);
    uv_signal_init(R.loop, &R.sigterm);
    uv_signal_start(&R.sigint, signal_cb, SIGINT);
    uv_signal_start(&R.sigterm, signal_cb, SIGTERM);
    uv_unref((uv_handle_t *)&R.sigint);
    uv_unref((uv_handle_t *)&R.sigterm);

    struct pw_wsc_opts wo = {
        .url = &R.url,
        .cacert = o->cacert,
        .insecure = o->insecure,
    };
    static const struct pw_wsc_cb cb = {
        .on_open = on_open, .on_message = on_message, .on_end = on_end, .on_drain = on_drain,
    };
    R.exit_code = PW_EXIT_FAIL;
    if (R.http) {
        static const struct pw_sse_callbacks pcb = {sse_event, NULL, NULL, NULL};
        static const char *const sse_hdrs[] = {"Accept: text/event-stream", "Cache-Control: no-cache"};
        static const struct pw_httpc_cb hcb = {sse_head, sse_data, sse_done, NULL};
        pw_sse_parser_init(&R.parser, &pcb, NULL, 0, o->max_line ? o->max_line : 0);
        struct pw_httpc_opts ho = {
            .url = o->url,
            .headers = sse_hdrs,
            .nheaders = 2,
            .no_proxy = 1,
            .cacert = o->cacert,
            .insecure = o->insecure,
        };
        R.sse = pw_httpc_new(R.loop, &ho, &hcb, NULL);
        if (!R.sse) {
            pw_err("replay", "out of memory");
            replay_finish(PW_EXIT_FAIL);
        } else {
            bound_open(R.sse);
        }
    } else if (!(R.ws = pw_wsc_new(R.loop, &wo, &cb, NULL))) {
        pw_err("replay", "out of memory");
        replay_finish(PW_EXIT_FAIL);
    } else if (o->connect_timeout_s > 0) {
        uv_timer_start(&R.t_open, open_timeout_cb, pwc_ms(o->connect_timeout_s), 0);
    }
    uv_run(R.loop, UV_RUN_DEFAULT);
    if (!R.finished)
        replay_finish(R.exit_code);
    uv_run(R.loop, UV_RUN_DEFAULT);
    uv_loop_close(R.loop);
    replay_live_end(R.in_fd, R.in_flags);
    fflush(stdout);
    if (R.diffs) {
        pw_err("replay", "%lu of the expected messages differ%s (%lu sent, %lu expected, %lu arrived)",
               R.diffs, R.diffs > o->max_diffs ? "; the first ones are shown" : "", R.sent,
               o->nin, R.got);
        if (R.exit_code == PW_EXIT_OK)
            R.exit_code = PW_EXIT_FAIL;
    } else if (o->verbose && !pw_quiet) {
        fprintf(stderr, "pushwire replay: %lu sent, %lu arrived\n", R.sent, R.got);
    }
    pw_treader_free(&R.ra);
    fclose(R.fa);
    if (R.fb) {
        pw_treader_free(&R.rb);
        fclose(R.fb);
    }
    pw_buf_free(&R.show);
    pw_buf_free(&R.b64);
    if (R.http)
        pw_sse_parser_free(&R.parser);
    return R.exit_code;
}

/* ---- options ------------------------------------------------------------- */

static int replay_main(int argc, char **argv)
{
    struct replay_opts o = {0};
    struct pw_optstate st;
    int c, rc = 0;
    pw_opt_begin(&st, &pw_applet_replay, argc, argv);
    while (rc == 0 && (c = pw_opt_next(&st)) != PW_OPT_END) {
        switch (c) {
        case PW_OPT_ERR: rc = PW_EXIT_USAGE; break;
        case OPT_HELP: pw_opt_end(&st); pw_usage(&pw_applet_replay); return PW_EXIT_OK;
        case OPT_VERBOSE: o.verbose = 1; break;
        case OPT_QUIET: pw_quiet = 1; break;
        case OPT_SPEED: o.speed = st.d; break;
        case OPT_NO_DELAY: o.no_delay = 1; break;
        case OPT_EXPECT: o.expect = 1; break;
        case OPT_WAIT: o.wait_s = st.d; break;
        case OPT_MAX_DIFFS: o.max_diffs = (size_t)st.u; break;
        case OPT_SERVE: o.serve = st.arg; break;
        case OPT_CHANNEL:
            if (!pw_channel_valid(st.arg, strlen(st.arg)))
                rc = pw_badarg(&st, "not a channel name", "1-128 of A-Z a-z 0-9 . _ ~ -");
            o.channel = st.arg;
            break;
        case OPT_BACKLOG: o.backlog = (size_t)st.u; break;
        case OPT_MAX_LINE: o.max_line = (size_t)st.u; break;
        case OPT_CONNECT_TIMEOUT: o.connect_timeout_s = st.d; break;
        case OPT_CACERT: o.cacert = st.arg; break;
        case OPT_INSECURE: o.insecure = 1; break;
        }
    }
    int ind = st.ind;
    pw_opt_end(&st);
    if (rc)
        return rc;
    int nargs = argc - ind;
    if (nargs < 1) {
        pw_err("replay", "a transcript FILE is needed; see 'pushwire replay --help'");
        return PW_EXIT_USAGE;
    }
    o.file = argv[ind];
    if (o.serve ? nargs != 1 : nargs != 2) {
        if (o.serve)
            pw_err("replay", "with --serve, only FILE: '%s' is extra", argv[ind + 1]);
        else if (nargs == 1)
            pw_err("replay", "a URL to play to is needed (or --serve ADDR:PORT)");
        else
            pw_err("replay", "FILE and one URL only: '%s' is extra", argv[ind + 2]);
        return PW_EXIT_USAGE;
    }
    if (o.serve && o.expect) {
        pw_err("replay", "--expect compares what a server sends back: it does not go with --serve");
        return PW_EXIT_USAGE;
    }
    if (o.expect && strcmp(o.file, "-") == 0) {
        pw_err("replay", "--expect reads the transcript twice: give a file, not '-'");
        return PW_EXIT_USAGE;
    }
    static struct pw_url url;
    if (!o.serve) {
        o.url = argv[ind + 1];
        const char *why = "";
        int r = pw_url_parse(o.url, &url, &why);
        if (r == 0 && strncmp(url.scheme, "socks", 5) == 0)
            r = PW_ECL_SCHEME, why = "not a server URL";
        if (r) {
            pw_err("replay", "bad URL '%s': %s (want ws://, wss://, http:// or https://)", o.url, why);
            return PW_EXIT_USAGE;
        }
    }
    if (strcmp(o.file, "-") != 0) {
        unsigned long nin, nout;
        int ex = replay_check(&o, &nin, &nout);
        if (ex)
            return ex;
        o.nin = nin;
    }
    if (o.serve)
        return replay_serve_main(&o);

    return pw_finish_stdout("replay", replay_client(&o, &url));
}
