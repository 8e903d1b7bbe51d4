/* connect_ws.c — the WebSocket side of `connect`: stdin to frames, frames to
 * stdout, pings, closing, reconnecting with ?since= and pushwire.v1. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_ws.h"
#include "connect.h"
#include "opt.h"
#include "proto/pwmsg.h"
#include "proto/utf8.h"
#include "proto/ws_frame.h"

#define CLOSE_WAIT_MS 3000
#define STDIN_HIGH_WATER (4u << 20)
#define STDIN_MAX_LINE (64u << 20)

enum { IN_NONE, IN_TTY, IN_PIPE, IN_FILE };

static int closing_by_us;
static int since_dropped; /* after close 4410: reconnect without ?since= */
static char target_buf[sizeof ((struct pw_url *)0)->target];

/* ---- dispatch ------------------------------------------------------------ */

void pwc_transport_start(void)
{
    if (A.is_ws)
        pwc_ws_start();
    else
        pwc_http_start();
}

void pwc_transport_done(void)
{
    if (A.is_ws)
        pwc_ws_done();
    else
        pwc_http_done();
}

double pwc_backoff_ms(long n, double base_ms)
{
    double d = base_ms;
    for (long i = 1; i < n && d < 30000; i++)
        d *= 2;
    if (d > 30000)
        d = 30000;
    /* jitter: somewhere in [d/2, d] so a crowd of clients spreads out */
    uint8_t r[2];
    pw_rand_bytes(r, 2);
    double f = 0.5 + 0.5 * ((r[0] << 8 | r[1]) / 65535.0);
    return d * f;
}

int pwc_may_retry(void)
{
    if (!A.reconnect || A.done_receiving || A.finished)
        return 0;
    A.attempts++;
    if (A.reconnect_max > 0 && A.attempts > A.reconnect_max) {
        pwc_info("giving up after %ld reconnect attempts", A.reconnect_max);
        return 0;
    }
    return 1;
}

/* ---- wire view ------------------------------------------------------------- */

static void show_bytes(const uint8_t *p, size_t n, size_t total)
{
    size_t lim = n < 120 ? n : 120;
    fputc('"', stderr);
    for (size_t i = 0; i < lim; i++) {
        int c = p[i];
        if (c == '"' || c == '\\')
            fprintf(stderr, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputc('"', stderr);
    if (total > lim)
        fprintf(stderr, "...(%llu bytes)", (unsigned long long)total);
}

static void on_head(struct pw_wsc *ws, int out, const char *text, size_t len)
{
    (void)ws;
    if (!A.verbose || pw_quiet)
        return;
    const char *p = text, *e = text + len;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
        size_t shown = l && p[l - 1] == '\r' ? l - 1 : l;
        fprintf(stderr, "%c %.*s\n", out ? '>' : '<', (int)shown, p);
        p += l + 1;
    }
}

static void on_frame(struct pw_wsc *ws, const struct pw_wsc_frame *f)
{
    (void)ws;
    if (!A.verbose || pw_quiet)
        return;
    fprintf(stderr, "%c %s%s%s len=%llu%s", f->out ? '>' : '<', pw_ws_opcode_name(f->opcode),
            f->fin ? "" : " (fin=0)", f->rsv ? " rsv" : "", (unsigned long long)f->len,
            f->masked ? " masked" : "");
    if (f->opcode == PW_WS_OP_CLOSE && f->plen >= 2) {
        unsigned code = (unsigned)f->payload[0] << 8 | f->payload[1];
        fprintf(stderr, " code=%u (%s) ", code, pw_ws_close_code_name(code));
        show_bytes(f->payload + 2, f->plen - 2, f->plen - 2);
    } else if (f->compressed) {
        /* the message bytes, not the DEFLATE bytes on the wire */
        fprintf(stderr, " compressed, %s %zu: ", f->out ? "from" : "inflated to", f->message_len);
        show_bytes(f->payload, f->plen, f->message_len);
    } else if (f->payload) {
        fputc(' ', stderr);
        show_bytes(f->payload, f->plen, f->len);
    }
    fputc('\n', stderr);
}

/* ---- stdin ----------------------------------------------------------------- */

static void stdin_resume(void);
static void ws_send(int opcode, const uint8_t *p, size_t n, int count_it);

static void close_wait_cb(uv_timer_t *t)
{
    (void)t;
    pwc_info("the server did not answer the close frame within %d s; leaving", CLOSE_WAIT_MS / 1000);
    pwc_finish(A.exit_code);
}

static void start_close(unsigned code, const char *reason)
{
    if (!A.ws || A.ws->state != PW_WSC_OPEN) {
        if (!A.ws)
            pwc_finish(A.exit_code);
        return;
    }
    closing_by_us = 1;
    pw_wsc_close(A.ws, code, reason);
    uv_timer_start(&A.t_close, close_wait_cb, CLOSE_WAIT_MS, 0);
}

static int hexval(int c)
{
    if (isdigit(c))
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* slash commands, only when stdin is a terminal */
static int slash_command(const char *p, size_t n)
{
    if (n >= 2 && p[1] == '/')
        return 0; /* "//x" sends "/x" (caller strips one slash) */
    char cmd[16];
    size_t cl = strcspn(p + 1, " ");
    if (cl >= n)
        cl = n - 1;
    if (cl >= sizeof cmd)
        cl = sizeof cmd - 1;
    memcpy(cmd, p + 1, cl);
    cmd[cl] = 0;
    const char *arg = p + 1 + cl;
    size_t al = n - 1 - cl;
    while (al && *arg == ' ')
        arg++, al--;
    if (strcmp(cmd, "ping") == 0) {
        if (al > 125)
            al = 125;
        A.ping_sent_at = uv_hrtime();
        A.ping_outstanding = 1;
        ws_send(PW_WS_OP_PING, (const uint8_t *)arg, al, 0);
    } else if (strcmp(cmd, "close") == 0) {
        char tmp[160];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(al < 150 ? al : 150), arg);
        unsigned code = PW_WS_CLOSE_NORMAL;
        char *rest = tmp;
        if (*tmp) {
            code = (unsigned)strtoul(tmp, &rest, 10);
            if (!pw_ws_close_code_valid(code)) {
                pwc_info("/close: %u is not a close code that may be sent", code);
                return 1;
            }
            while (*rest == ' ')
                rest++;
        }
        start_close(code, rest);
    } else if (strcmp(cmd, "binary") == 0) {
        uint8_t buf[4096];
        size_t k = 0;
        for (size_t i = 0; i < al; i++) {
            if (arg[i] == ' ')
                continue;
            int h = hexval((unsigned char)arg[i]), l = i + 1 < al ? hexval((unsigned char)arg[i + 1]) : -1;
            if (h < 0 || l < 0 || k >= sizeof buf) {
                pwc_info("/binary: want pairs of hex digits");
                return 1;
            }
            buf[k++] = (uint8_t)(h * 16 + l);
            i++;
        }
        ws_send(PW_WS_OP_BINARY, buf, k, 1);
    } else {
        pwc_info("unknown command '/%s' (/ping [DATA], /close [CODE [REASON]], /binary HEX, // for a literal /)", cmd);
    }
    return 1;
}

static void ws_send(int opcode, const uint8_t *p, size_t n, int count_it)
{
    if (!A.ws || A.ws->state != PW_WSC_OPEN)
        return;
    int rc = pw_wsc_send(A.ws, opcode, p, n);
    if (rc) {
        pwc_info("cannot send: %s", pw_strerror(rc));
        return;
    }
    if (count_it) {
        A.msgs_out++;
        pwc_record("out", opcode == PW_WS_OP_BINARY ? "binary" : "text", NULL, NULL, p, n);
    }
}

static void send_line(const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (A.stdin_tty && n && p[0] == '/') {
        if (slash_command(p, n))
            return;
        p++, n--;
    }
    /* a line that is not UTF-8 cannot be a text message (RFC 6455 §8.1) */
    int op = pw_utf8_valid((const uint8_t *)p, n) ? PW_WS_OP_TEXT : PW_WS_OP_BINARY;
    ws_send(op, (const uint8_t *)p, n, 1);
}

static void stdin_data(const char *p, size_t n)
{
    pwc_activity();
    if (A.binary) {
        ws_send(PW_WS_OP_BINARY, (const uint8_t *)p, n, 1);
        return;
    }
    const char *e = p + n;
    if (A.inbuf.len) { /* finish the line begun in an earlier read */
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (pw_buf_append(&A.inbuf, p, take)) {
            pwc_info("stdin line longer than %u bytes", STDIN_MAX_LINE);
            pwc_finish(PW_EXIT_FAIL);
            return;
        }
        if (!nl)
            return;
        send_line((const char *)A.inbuf.p, A.inbuf.len);
        A.inbuf.len = 0;
        p = nl + 1;
    }
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        send_line(p, (size_t)(nl - p));
        p = nl + 1;
    }
    if (p < e && pw_buf_append(&A.inbuf, p, (size_t)(e - p))) {
        pwc_info("stdin line longer than %u bytes", STDIN_MAX_LINE);
        pwc_finish(PW_EXIT_FAIL);
    }
}

static void stdin_eof(void)
{
    if (A.stdin_eof)
        return;
    A.stdin_eof = 1;
    pwc_stdin_stop(1);
    if (A.inbuf.len && !A.binary) {
        send_line((const char *)A.inbuf.p, A.inbuf.len);
        A.inbuf.len = 0;
    }
    if (!A.wait)
        start_close(PW_WS_CLOSE_NORMAL, "");
}

static void backpressure(void)
{
    if (A.ws && pw_wsc_pending(A.ws) > STDIN_HIGH_WATER && !A.stdin_paused) {
        A.stdin_paused = 1;
        if (A.stdin_kind == IN_TTY)
            uv_read_stop((uv_stream_t *)&A.in_tty);
        else if (A.stdin_kind == IN_PIPE)
            uv_read_stop((uv_stream_t *)&A.in_pipe);
    }
}

static void in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h;
    (void)hint;
    *b = uv_buf_init(A.in_fsbuf, sizeof A.in_fsbuf);
}

static void in_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)s;
    if (A.finished)
        return;
    if (n > 0) {
        stdin_data(b->base, (size_t)n);
        backpressure();
    } else if (n < 0) {
        if (n != UV_EOF)
            pwc_info("reading stdin: %s", uv_strerror((int)n));
        stdin_eof();
    }
}

static void fs_read_next(void);

static void fs_read_cb(uv_fs_t *req)
{
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    A.in_fs_busy = 0;
    if (A.finished || A.stdin_kind != IN_FILE)
        return;
    if (n > 0) {
        stdin_data(A.in_fsbuf, (size_t)n);
        if (A.ws && pw_wsc_pending(A.ws) > STDIN_HIGH_WATER)
            A.stdin_paused = 1;
        else if (!A.stdin_paused && !A.finished)
            fs_read_next();
        return;
    }
    if (n < 0)
        pwc_info("reading stdin: %s", uv_strerror((int)n));
    stdin_eof();
}

static void fs_read_next(void)
{
    if (A.in_fs_busy || A.stdin_eof || A.finished)
        return;
    uv_buf_t b = uv_buf_init(A.in_fsbuf, sizeof A.in_fsbuf);
    A.in_fs_busy = 1;
    if (uv_fs_read(A.loop, &A.in_fs, 0, &b, 1, -1, fs_read_cb) < 0) {
        A.in_fs_busy = 0;
        stdin_eof();
    }
}

static void stdin_start(void)
{
    if (A.no_stdin || A.stdin_eof || A.finished)
        return;
    if (A.stdin_started) {
        stdin_resume();
        return;
    }
    A.stdin_started = 1;
    pw_buf_init(&A.inbuf, STDIN_MAX_LINE);
    uv_handle_type t = uv_guess_handle(0);
    if (t == UV_TTY && uv_tty_init(A.loop, &A.in_tty, 0, 1) == 0) {
        A.stdin_kind = IN_TTY;
        A.stdin_tty = 1;
        uv_read_start((uv_stream_t *)&A.in_tty, in_alloc, in_read);
    } else if ((t == UV_NAMED_PIPE || t == UV_TCP) && uv_pipe_init(A.loop, &A.in_pipe, 0) == 0) {
        A.stdin_kind = IN_PIPE;
        if (uv_pipe_open(&A.in_pipe, 0) < 0) {
            pwc_info("cannot read stdin");
            uv_close((uv_handle_t *)&A.in_pipe, NULL);
            A.stdin_kind = IN_NONE;
            stdin_eof();
            return;
        }
        uv_read_start((uv_stream_t *)&A.in_pipe, in_alloc, in_read);
    } else {
        A.stdin_kind = IN_FILE;
        fs_read_next();
    }
}

static void stdin_resume(void)
{
    if (!A.stdin_started || A.stdin_eof || A.finished)
        return;
    A.stdin_paused = 0;
    if (A.stdin_kind == IN_TTY)
        uv_read_start((uv_stream_t *)&A.in_tty, in_alloc, in_read);
    else if (A.stdin_kind == IN_PIPE)
        uv_read_start((uv_stream_t *)&A.in_pipe, in_alloc, in_read);
    else if (A.stdin_kind == IN_FILE)
        fs_read_next();
}

void pwc_stdin_stop(int for_good)
{
    if (!A.stdin_started)
        return;
    if (!for_good) {
        A.stdin_paused = 1;
        if (A.stdin_kind == IN_TTY)
            uv_read_stop((uv_stream_t *)&A.in_tty);
        else if (A.stdin_kind == IN_PIPE)
            uv_read_stop((uv_stream_t *)&A.in_pipe);
        return;
    }
    if (A.stdin_kind == IN_TTY && !uv_is_closing((uv_handle_t *)&A.in_tty)) {
        uv_tty_reset_mode();
        uv_close((uv_handle_t *)&A.in_tty, NULL);
    } else if (A.stdin_kind == IN_PIPE && !uv_is_closing((uv_handle_t *)&A.in_pipe)) {
        uv_close((uv_handle_t *)&A.in_pipe, NULL);
    } else if (A.stdin_kind == IN_FILE && A.in_fs_busy) {
        uv_cancel((uv_req_t *)&A.in_fs);
    }
    A.stdin_kind = A.stdin_kind == IN_FILE ? IN_FILE : IN_NONE;
    A.stdin_paused = 1;
}

/* ---- WebSocket callbacks --------------------------------------------------- */

static void ping_cb(uv_timer_t *t)
{
    (void)t;
    if (!A.ws || A.ws->state != PW_WSC_OPEN)
        return;
    if (A.ping_outstanding) {
        /* the previous ping went unanswered for a whole interval: dead peer */
        pwc_info("no pong within %g s; the connection is dead", A.ping_s);
        struct pw_wsc *ws = A.ws;
        A.ws = NULL;
        pw_wsc_free(ws);
        if (pwc_may_retry()) {
            double ms = pwc_backoff_ms(A.attempts, 500);
            pwc_info("reconnecting in %.1f s", ms / 1000);
            uv_timer_stop(&A.t_ping);
            extern void pwc__ws_retry_cb(uv_timer_t *);
            uv_timer_start(&A.t_retry, pwc__ws_retry_cb, (uint64_t)ms, 0);
            return;
        }
        pwc_finish(PW_EXIT_ABNORMAL);
        return;
    }
    uint8_t p[8];
    uint64_t now = uv_hrtime();
    memcpy(p, &now, 8);
    A.ping_sent_at = now;
    A.ping_outstanding = 1;
    pw_wsc_send(A.ws, PW_WS_OP_PING, p, sizeof p);
}

static void on_open(struct pw_wsc *ws)
{
    A.ever_open = 1;
    A.attempts = 0;
    A.http_status = ws->http_status;
    A.rtt_ms = ws->handshake_ms;
    pwc_verbose("* connected to %s%s%s", ws->st.peer, ws->protocol[0] ? ", subprotocol " : "",
                ws->protocol);
    for (size_t i = 0; i < A.nsend; i++)
        ws_send(PW_WS_OP_TEXT, (const uint8_t *)A.sends[i], strlen(A.sends[i]), 1);
    if (A.done_receiving) {
        start_close(PW_WS_CLOSE_NORMAL, "");
        return;
    }
    if (A.stdin_eof && !A.wait && !A.no_stdin) {
        start_close(PW_WS_CLOSE_NORMAL, "");
        return;
    }
    stdin_start();
    A.ping_outstanding = 0;
    if (A.ping_s > 0)
        uv_timer_start(&A.t_ping, ping_cb, (uint64_t)(A.ping_s * 1000), (uint64_t)(A.ping_s * 1000));
}

/* A text message under pushwire.v1: an envelope, a gap, or plain text from
 * a server that sends something else (shown as it came, never dropped). */
static void envelope(const uint8_t *data, size_t len)
{
    struct pwmsg_limits lim = {A.max_message, 0, 0};
    struct pwmsg_dec d;
    struct pwmsg_envelope e;
    pwmsg_dec_init(&d, &lim);
    int rc = pwmsg_envelope_decode(&d, data, len, &e);
    if (rc) {
        if (rc != PW_EPWMSG_JSON && rc != PW_EPWMSG_OBJECT)
            pwc_info("a pushwire.v1 envelope breaks %s: %s; shown as it came",
                     pw_errrule(rc)[0] ? pw_errrule(rc) : "a limit", d.why);
        pwc_message("text", NULL, NULL, data, len);
    } else if (e.gap) {
        char raw[512];
        snprintf(raw, sizeof raw, "%.*s", (int)(len < 500 ? len : 500), (const char *)data);
        pwc_gap(e.g.after, e.g.first, raw);
    } else {
        pwc_message(e.m.binary ? "binary" : "text", e.m.id, e.m.event, e.m.data, e.m.len);
    }
    pwmsg_dec_free(&d);
}

static void on_message(struct pw_wsc *ws, int opcode, const uint8_t *data, size_t len)
{
    if (closing_by_us && !A.finished)
        uv_timer_start(&A.t_close, close_wait_cb, CLOSE_WAIT_MS, 0);
    if (opcode == PW_WS_OP_TEXT && strcmp(ws->protocol, "pushwire.v1") == 0) {
        envelope(data, len);
        return;
    }
    pwc_message(opcode == PW_WS_OP_BINARY ? "binary" : "text", NULL, NULL, data, len);
}

static void on_pong(struct pw_wsc *ws, const uint8_t *data, size_t len)
{
    (void)ws;
    (void)data;
    (void)len;
    if (A.ping_outstanding) {
        A.rtt_ms = (double)(uv_hrtime() - A.ping_sent_at) / 1e6;
        A.ping_outstanding = 0;
        if (A.stdin_tty)
            pwc_info("pong after %.3f ms", A.rtt_ms);
    }
}

static void on_close(struct pw_wsc *ws, unsigned code, const char *reason)
{
    (void)ws;
    A.close_code = (int)code;
    snprintf(A.close_reason, sizeof A.close_reason, "%s", reason);
}

void pwc__ws_retry_cb(uv_timer_t *t)
{
    (void)t;
    pwc_ws_start();
}

static int retryable(int err)
{
    switch (err) {
    case PW_ECL_RESOLVE:
    case PW_ECL_CONNECT:
    case PW_ECL_PROXY:
    case PW_ECL_ABNORMAL:
    case PW_ECL_IO:
    case PW_ECL_TLS: /* a handshake cut short; a verification failure is not */
        return 1;
    case PW_ECL_REJECTED:
        return A.http_status >= 500 || A.http_status == 429;
    default:
        return 0;
    }
}

static void schedule_retry(void)
{
    double ms = pwc_backoff_ms(A.attempts, A.retry_ms > 0 ? A.retry_ms : 500);
    pwc_info("reconnecting in %.1f s%s%s%s", ms / 1000, A.last_id[0] ? " (resuming after '" : "",
             A.last_id, A.last_id[0] ? "')" : "");
    uv_timer_start(&A.t_retry, pwc__ws_retry_cb, (uint64_t)ms, 0);
}

/* Close 4410 with the gap as the reason (pwmsg.h) is how `pushwire serve`
 * refuses a ?since= resume it cannot honour when the client did not ask for
 * pushwire.v1 (no envelope to carry a gap).  Report it as the gap it is; 1
 * when it was one. */
static int gap_close(int code, const char *reason)
{
    struct pwmsg_dec d;
    struct pwmsg_gap g;
    pwmsg_dec_init(&d, NULL);
    int gap = code >= 0 && pwmsg_gap_reason_decode(&d, (unsigned)code, reason, strlen(reason), &g) == 0;
    if (gap)
        pwc_gap(g.after, g.first, reason);
    pwmsg_dec_free(&d);
    return gap;
}

static void on_end(struct pw_wsc *ws, int err)
{
    int by_us = closing_by_us;
    closing_by_us = 0;
    if (A.ws == ws)
        A.ws = NULL;
    uv_timer_stop(&A.t_ping);
    uv_timer_stop(&A.t_close);
    pwc_stdin_stop(0);
    if (ws->http_status)
        A.http_status = ws->http_status;
    if (ws->close_in >= 0) {
        A.close_code = ws->close_in;
        snprintf(A.close_reason, sizeof A.close_reason, "%s", ws->close_in_reason);
    }
    if (A.finished) {
        pw_wsc_free(ws);
        return;
    }
    if (err == 0) {
        int code = ws->close_in;
        int normal = pw_ws_close_is_normal(code);
        pw_wsc_free(ws);
        if (by_us || A.done_receiving) {
            pwc_finish(normal || by_us ? A.exit_code : PW_EXIT_ABNORMAL);
            return;
        }
        if (gap_close(code, A.close_reason)) {
            if (A.finished) /* --fail-on-gap */
                return;
            /* asking again after the same id gets the same answer: a
             * reconnect takes the loss (reported above) and goes on from now */
            since_dropped = 1;
            A.last_id[0] = 0;
        }
        if (!normal)
            pwc_info("server closed the connection with %d (%s)%s%s", code,
                     pw_ws_close_code_name((unsigned)code), A.close_reason[0] ? ": " : "",
                     A.close_reason);
        else
            pwc_verbose("* server closed the connection with %d (%s)", code,
                        pw_ws_close_code_name((unsigned)code));
        if (pwc_may_retry()) {
            schedule_retry();
            return;
        }
        pwc_finish(normal ? PW_EXIT_OK : PW_EXIT_ABNORMAL);
        return;
    }
    if (err == PW_ECL_REJECTED) {
        const char *body = (const char *)ws->response.p + ws->head_len;
        size_t bl = ws->response.len - ws->head_len;
        const char *sp = memchr(ws->response.p, ' ', ws->head_len);
        const char *eol = sp ? memchr(sp, '\r', ws->head_len - (size_t)(sp - (const char *)ws->response.p)) : NULL;
        pwc_info("server refused the WebSocket upgrade: %.*s", sp && eol ? (int)(eol - sp - 1) : 3,
                 sp && eol ? sp + 1 : "???");
        if (bl && !pw_quiet) {
            fwrite(body, 1, bl, stderr);
            if (body[bl - 1] != '\n')
                fputc('\n', stderr);
        }
    } else if (err == PW_ECL_ABNORMAL && A.close_code < 0) {
        A.close_code = PW_WS_CLOSE_ABNORMAL;
        pwc_info("%s", ws->detail);
    } else {
        pwc_info("%s", ws->detail[0] ? ws->detail : pw_strerror(err));
    }
    pw_wsc_free(ws);
    if (!by_us && retryable(err) && pwc_may_retry()) {
        schedule_retry();
        return;
    }
    if (by_us && err == PW_ECL_ABNORMAL) {
        pwc_finish(A.exit_code); /* we were leaving anyway */
        return;
    }
    pwc_finish(pwc_exit_for(err));
}

static void on_drain(struct pw_wsc *ws)
{
    (void)ws;
    if (A.stdin_paused && A.ws && A.ws->state == PW_WSC_OPEN)
        stdin_resume();
}

/* the URL's target with since=ID (replacing one already there) */
static const char *resume_target(void)
{
    const char *t = A.url.target;
    if (!A.last_id[0] && !since_dropped)
        return t;
    size_t k = 0;
    const char *q = strchr(t, '?');
    size_t pl = q ? (size_t)(q - t) : strlen(t);
    k = (size_t)snprintf(target_buf, sizeof target_buf, "%.*s", (int)pl, t);
    char sep = '?';
    if (q) {
        const char *p = q + 1;
        while (*p) {
            size_t l = strcspn(p, "&");
            if (!(l >= 6 && strncmp(p, "since=", 6) == 0) && l) {
                k += (size_t)snprintf(target_buf + k, sizeof target_buf - k, "%c%.*s", sep, (int)l, p);
                sep = '&';
            }
            p += l;
            if (*p)
                p++;
            if (k >= sizeof target_buf - 8)
                break;
        }
    }
    if (!A.last_id[0])
        return target_buf; /* since_dropped: resume from now */
    k += (size_t)snprintf(target_buf + k, sizeof target_buf - k, "%csince=", sep);
    for (const char *p = A.last_id; *p && k + 4 < sizeof target_buf; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || strchr("-._~", c))
            target_buf[k++] = (char)c;
        else
            k += (size_t)snprintf(target_buf + k, sizeof target_buf - k, "%%%02X", c);
    }
    target_buf[k] = 0;
    return target_buf;
}

void pwc_ws_start(void)
{
    if (A.finished)
        return;
    static struct pw_url u;
    static const char *protos[PWC_MAX_LIST + 1];
    u = A.url;
    const char *t = resume_target();
    size_t tl = strlen(t);
    if (tl >= sizeof u.target)
        tl = sizeof u.target - 1;
    memcpy(u.target, t, tl);
    u.target[tl] = 0;
    size_t np = 0;
    for (size_t i = 0; i < A.nprotos; i++)
        protos[np++] = A.protos[i];
    /* resuming needs ids: ask a pushwire server for its envelopes */
    if (!A.nprotos && (A.reconnect || A.start_id[0] || A.cursor_file))
        protos[np++] = "pushwire.v1";
    struct pw_wsc_opts o = {
        .url = &u,
        .proxy = A.has_proxy ? &A.proxy : NULL,
        .cacert = A.cacert,
        .insecure = A.insecure,
        .headers = A.headers,
        .nheaders = A.nheaders,
        .origin = A.origin,
        .protos = protos,
        .nprotos = np,
        .compress = A.compress,
        .max_message = A.max_message,
    };
    static const struct pw_wsc_cb cb = {on_open, on_message, on_pong, on_close, on_end,
                                        on_head, on_frame, on_drain};
    pwc_verbose("* connecting to %s%s%s", A.url_str, A.has_proxy ? " through " : "",
                A.has_proxy ? A.proxy_url_str : "");
    A.ws = pw_wsc_new(A.loop, &o, &cb, NULL);
    if (!A.ws) {
        pwc_info("out of memory");
        pwc_finish(PW_EXIT_FAIL);
    }
}

void pwc_ws_done(void)
{
    pwc_stdin_stop(1);
    if (A.ws && A.ws->state == PW_WSC_OPEN) {
        start_close(PW_WS_CLOSE_NORMAL, "");
        return;
    }
    if (A.ws && A.ws->state == PW_WSC_CLOSING)
        return;
    pwc_finish(A.exit_code);
}
