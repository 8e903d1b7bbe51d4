/* connect_ws.c — the WebSocket transport of `connect` (client/client_ws.h):
 * frames to and from the core, the wire view, --ping, the closing
 * handshake, and resuming with ?since= and pushwire.v1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_ws.h"
#include "connect.h"
#include "opt.h"
#include "proto/pwmsg.h"
#include "proto/ws_frame.h"

#define CLOSE_WAIT_MS 3000  /* for the server's answer to our close frame */
#define PING_MISSES 2       /* intervals with nothing from the server: dead (as serve) */
#define WIRE_SHOW 120       /* payload bytes shown per frame with -v */
#define GAP_RAW 500         /* bytes of a gap envelope kept for --json */

struct ws {
    struct pwc *c;
    struct pw_wsc *ws;
    uv_timer_t t_ping, t_close;
    uv_timer_t t_open;      /* --connect-timeout: the attempt is not open yet */
    int closing_by_us;
    int since_dropped;      /* after close 4410: reconnect without ?since= */
    int awaiting;           /* --ping ticks since a ping went unanswered */
    uint64_t seen_in;       /* bytes from the server at the last tick */
    uint64_t ping_sent_at;  /* our oldest unanswered ping, for %{rtt_ms} */
    int ping_outstanding;
    struct pw_buf target;   /* the request target with since=ID */
    const char *protos[PWC_MAX_LIST + 1];
    int toobig;             /* a message over --max-message came: closing 1009 */
};

static struct ws *W(const struct pwc *c) { return c->tp_state; }

/* ---- wire view (-v) -------------------------------------------------------- */

static void show_bytes(const uint8_t *p, size_t n, size_t total)
{
    size_t lim = n < WIRE_SHOW ? n : WIRE_SHOW;
    fputc('"', stderr);
    for (size_t i = 0; i < lim; i++) {
        int ch = p[i];
        if (ch == '"' || ch == '\\')
            fprintf(stderr, "\\%c", ch);
        else if (ch >= 0x20 && ch < 0x7f)
            fputc(ch, stderr);
        else
            fprintf(stderr, "\\x%02x", ch);
    }
    fputc('"', stderr);
    if (total > lim)
        fprintf(stderr, "...(%llu bytes)", (unsigned long long)total);
}

static void on_head(struct pw_wsc *ws, int out, const char *text, size_t len)
{
    if (!((struct ws *)ws->ud)->c->o.verbose || pw_quiet)
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
    if (!((struct ws *)ws->ud)->c->o.verbose || pw_quiet)
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

/* ---- closing ------------------------------------------------------------------ */

static void close_wait_cb(uv_timer_t *t)
{
    struct ws *w = t->data;
    pwc_info(w->c, "the server did not answer the close frame within %d s; leaving",
             CLOSE_WAIT_MS / 1000);
    pwc_finish(w->c, w->c->exit_code);
}

static void start_close(struct ws *w, unsigned code, const char *reason)
{
    if (!w->ws) {
        pwc_finish(w->c, w->c->exit_code);
        return;
    }
    if (w->ws->state != PW_WSC_OPEN)
        return;
    w->closing_by_us = 1;
    pw_wsc_close(w->ws, code, reason);
    uv_timer_start(&w->t_close, close_wait_cb, CLOSE_WAIT_MS, 0);
}

/* ---- --ping ---------------------------------------------------------------------- */

static void lost(struct ws *w, int err, int exit_code);

/* Every interval: a ping.  Anything at all from the server (a pong, a
 * message) since the last tick proves it alive; PING_MISSES intervals after
 * a ping with nothing is a dead peer, as `serve --ping` judges its clients,
 * so one late pong on a loaded machine does not end the connection. */
static void ping_cb(uv_timer_t *t)
{
    struct ws *w = t->data;
    struct pwc *c = w->c;
    if (!w->ws || w->ws->state != PW_WSC_OPEN)
        return;
    if (w->ws->st.bytes_in != w->seen_in) {
        w->seen_in = w->ws->st.bytes_in;
        w->awaiting = 0;
    }
    if (w->awaiting && ++w->awaiting > PING_MISSES) {
        pwc_info(c, "no pong within %g s; the connection is dead", PING_MISSES * c->o.ping_s);
        struct pw_wsc *ws = w->ws;
        w->ws = NULL;
        pw_wsc_free(ws);
        lost(w, PW_ECL_ABNORMAL, PW_EXIT_ABNORMAL);
        return;
    }
    uint8_t p[8];
    uint64_t now = uv_hrtime();
    memcpy(p, &now, sizeof p);
    if (!w->ping_outstanding) {
        w->ping_sent_at = now;
        w->ping_outstanding = 1;
    }
    if (!w->awaiting)
        w->awaiting = 1;
    pw_wsc_send(w->ws, PW_WS_OP_PING, p, sizeof p);
}

/* ---- WebSocket callbacks ------------------------------------------------------------- */

static void on_open(struct pw_wsc *ws)
{
    struct ws *w = ws->ud;
    struct pwc *c = w->c;
    c->res.http_status = ws->http_status;
    c->res.rtt_ms = ws->handshake_ms;
    uv_timer_stop(&w->t_open);
    pwc_verbose(c, "* connected to %s%s%s", ws->st.peer, ws->protocol[0] ? ", subprotocol " : "",
                ws->protocol);
    w->ping_outstanding = 0;
    w->awaiting = 0;
    w->seen_in = ws->st.bytes_in;
    if (c->o.ping_s > 0)
        uv_timer_start(&w->t_ping, ping_cb, pwc_ms(c->o.ping_s), pwc_ms(c->o.ping_s));
    pwc_opened(c);
}

/* --max-message bounds a message's data.  Under pushwire.v1 the frame is
 * its JSON envelope: the data escaped (at most 6 bytes a byte, \u00XX),
 * with its id, channel and event; the frame may be that much larger. */
#define ENVELOPE_SLACK (64u << 10)
static uint64_t envelope_max(uint64_t max_message)
{
    return max_message * 6 + ENVELOPE_SLACK; /* --max-message <= 4G: no overflow */
}

/* 1 when a message of len data bytes is over --max-message: said once, the
 * connection closed with 1009 (exit 1, as a frame over it is), nothing
 * shown after it */
static int too_big(struct ws *w, size_t len)
{
    struct pwc *c = w->c;
    if (len <= c->o.max_message && !w->toobig)
        return 0;
    if (!w->toobig) {
        w->toobig = 1;
        pwc_info(c, "a message from the server is larger than --max-message (%llu bytes); closing with 1009",
                 (unsigned long long)c->o.max_message);
        c->exit_code = PW_EXIT_FAIL;
        pwc_close(c, PW_WS_CLOSE_TOO_BIG, "message too big");
    }
    return 1;
}

/* A text message under pushwire.v1: an envelope, a gap, the channel's
 * position, or plain text from a server that sends something else (shown
 * as it came, never dropped). */
static void envelope(struct ws *w, const uint8_t *data, size_t len)
{
    struct pwc *c = w->c;
    struct pwmsg_limits lim = {envelope_max(c->o.max_message), 0, 0};
    struct pwmsg_dec d;
    struct pwmsg_envelope e;
    pwmsg_dec_init(&d, &lim);
    int rc = pwmsg_envelope_decode(&d, data, len, &e);
    if (rc) {
        if (rc != PW_EPWMSG_JSON && rc != PW_EPWMSG_OBJECT)
            pwc_info(c, "a pushwire.v1 envelope breaks %s: %s; shown as it came",
                     pw_errrule(rc)[0] ? pw_errrule(rc) : "a limit", d.why);
        if (!too_big(w, len))
            pwc_message(c, 0, NULL, NULL, data, len);
    } else if (e.gap) {
        char raw[GAP_RAW + 1];
        snprintf(raw, sizeof raw, "%.*s", (int)(len < GAP_RAW ? len : GAP_RAW), (const char *)data);
        pwc_gap(c, e.g.after, e.g.first, raw);
    } else if (e.position) {
        /* no message: the id to resume after if the connection drops
         * before the first one (what was published meanwhile then comes) */
        pwc_verbose(c, "* position: %s", e.m.id ? e.m.id : "(none)");
        if (e.m.id)
            pwc_set_last_id(c, e.m.id);
    } else if (!too_big(w, e.m.len)) {
        pwc_message(c, e.m.binary, e.m.id, e.m.event, e.m.data, e.m.len);
    }
    pwmsg_dec_free(&d);
}

static void on_message(struct pw_wsc *ws, int opcode, const uint8_t *data, size_t len)
{
    struct ws *w = ws->ud;
    if (w->closing_by_us && !w->c->finished) /* it is still talking: wait on */
        uv_timer_start(&w->t_close, close_wait_cb, CLOSE_WAIT_MS, 0);
    if (opcode == PW_WS_OP_TEXT && strcmp(ws->protocol, "pushwire.v1") == 0) {
        envelope(w, data, len);
        return;
    }
    if (!too_big(w, len)) /* (the frame limit is the envelope's when pushwire.v1 was offered) */
        pwc_message(w->c, opcode == PW_WS_OP_BINARY, NULL, NULL, data, len);
}

static void on_pong(struct pw_wsc *ws, const uint8_t *data, size_t len)
{
    struct ws *w = ws->ud;
    (void)data;
    (void)len;
    if (!w->ping_outstanding)
        return;
    w->c->res.rtt_ms = (double)(uv_hrtime() - w->ping_sent_at) / 1e6;
    w->ping_outstanding = 0;
    if (w->c->stdin_tty)
        pwc_info(w->c, "pong after %.3f ms", w->c->res.rtt_ms);
}

static void on_close(struct pw_wsc *ws, unsigned code, const char *reason)
{
    struct pwc *c = ((struct ws *)ws->ud)->c;
    c->res.close_code = (int)code;
    snprintf(c->res.close_reason, sizeof c->res.close_reason, "%s", reason);
}

static void on_drain(struct pw_wsc *ws)
{
    if (ws->state == PW_WSC_OPEN)
        pwc_drained(((struct ws *)ws->ud)->c);
}

/* The connection is gone: another attempt, or the end with exit_code. */
static void lost(struct ws *w, int err, int exit_code)
{
    uv_timer_stop(&w->t_open);
    uv_timer_stop(&w->t_ping);
    uv_timer_stop(&w->t_close);
    pwc_lost(w->c);
    if (!pwc_retry(w->c, err))
        pwc_finish(w->c, exit_code);
}

/* Close 4410 with the gap as the reason (pwmsg.h) is how `pushwire serve`
 * refuses a ?since= resume it cannot honour when the client did not ask for
 * pushwire.v1 (no envelope to carry a gap).  Report it as the gap it is; 1
 * when it was one. */
static int gap_close(struct pwc *c, int code, const char *reason)
{
    struct pwmsg_dec d;
    struct pwmsg_gap g;
    pwmsg_dec_init(&d, NULL);
    int gap = code >= 0 && pwmsg_gap_reason_decode(&d, (unsigned)code, reason, strlen(reason), &g) == 0;
    if (gap)
        pwc_gap(c, g.after, g.first, reason);
    pwmsg_dec_free(&d);
    return gap;
}

/* the closing handshake completed (err 0) */
static void ended_closed(struct ws *w, int code, int by_us)
{
    struct pwc *c = w->c;
    int normal = pw_ws_close_is_normal(code);
    if (by_us || c->done_receiving) {
        pwc_finish(c, normal || by_us ? c->exit_code : PW_EXIT_ABNORMAL);
        return;
    }
    if (gap_close(c, code, c->res.close_reason)) {
        if (c->finished) /* --fail-on-gap */
            return;
        /* asking again after the same id gets the same answer: a
         * reconnect takes the loss (reported above) and goes on from now */
        w->since_dropped = 1;
        pwc_clear_last_id(c, 0);
    }
    if (!normal)
        pwc_info(c, "server closed the connection with %d (%s)%s%s", code,
                 pw_ws_close_code_name((unsigned)code), c->res.close_reason[0] ? ": " : "",
                 c->res.close_reason);
    else
        pwc_verbose(c, "* server closed the connection with %d (%s)", code,
                    pw_ws_close_code_name((unsigned)code));
    lost(w, 0, normal ? PW_EXIT_OK : PW_EXIT_ABNORMAL);
}

static void show_refusal(const struct pwc *c, const struct pw_wsc *ws)
{
    const char *head = (const char *)ws->response.p, *body = head + ws->head_len;
    size_t bl = ws->response.len - ws->head_len;
    const char *sp = memchr(head, ' ', ws->head_len);
    const char *eol = sp ? memchr(sp, '\r', ws->head_len - (size_t)(sp - head)) : NULL;
    /* a redirect is not followed (a browser does not follow one for a
     * WebSocket, nor Node's ws unless asked): where it points is said */
    const char *loc = ws->location;
    pwc_info(c, "server refused the WebSocket upgrade: %.*s%s%s%s", sp && eol ? (int)(eol - sp - 1) : 3,
             sp && eol ? sp + 1 : "???", loc[0] ? " (Location: " : "", loc,
             loc[0] ? "; redirects are not followed)" : "");
    if (bl && !pw_quiet) {
        fwrite(body, 1, bl, stderr);
        if (body[bl - 1] != '\n')
            fputc('\n', stderr);
    }
}

static void on_end(struct pw_wsc *ws, int err)
{
    struct ws *w = ws->ud;
    struct pwc *c = w->c;
    int by_us = w->closing_by_us;
    w->closing_by_us = 0;
    if (w->ws == ws)
        w->ws = NULL;
    if (ws->http_status)
        c->res.http_status = ws->http_status;
    if (ws->close_in >= 0) {
        c->res.close_code = ws->close_in;
        snprintf(c->res.close_reason, sizeof c->res.close_reason, "%s", ws->close_in_reason);
    }
    if (c->finished) {
        pw_wsc_free(ws);
        return;
    }
    if (err == 0) {
        int code = ws->close_in;
        pw_wsc_free(ws);
        ended_closed(w, code, by_us);
        return;
    }
    if (err == PW_ECL_REJECTED) {
        show_refusal(c, ws);
    } else if (err == PW_EWS_TOOBIG || err == PW_EWSD_TOOBIG) {
        /* our own limit, not a rule the server broke (exit 1, not 3) */
        pwc_info(c, "a message from the server is larger than --max-message (%llu bytes%s); "
                    "closing with 1009", (unsigned long long)c->o.max_message,
                 err == PW_EWSD_TOOBIG ? " once inflated" : "");
    } else if (err == PW_ECL_ABNORMAL && c->res.close_code < 0) {
        c->res.close_code = PW_WS_CLOSE_ABNORMAL;
        pwc_info(c, "%s", ws->detail);
    } else {
        pwc_info(c, "%s", ws->detail[0] ? ws->detail : pw_strerror(err));
        pwc_hint(c, err);
    }
    pw_wsc_free(ws);
    if (by_us) /* we were leaving anyway: no other attempt */
        pwc_finish(c, err == PW_ECL_ABNORMAL ? c->exit_code : pwc_exit_for(err));
    else
        lost(w, err, pwc_exit_for(err));
}

/* ---- starting ----------------------------------------------------------------------- */

static void open_timeout_cb(uv_timer_t *t)
{
    struct ws *w = t->data;
    struct pwc *c = w->c;
    if (!w->ws || w->ws->state >= PW_WSC_OPEN || c->finished)
        return;
    char phase[512];
    pw_wsc_phase(w->ws, phase, sizeof phase);
    pwc_connect_timed_out(c, phase);
    struct pw_wsc *ws = w->ws;
    w->ws = NULL;
    pw_wsc_free(ws);
    lost(w, PW_ECL_TIMEOUT, PW_EXIT_TIMEOUT);
}

/* The URL's target with since=ID (replacing one already there), whole;
 * NULL when the URL's own target will do. */
static const char *resume_target(struct ws *w)
{
    const char *id = pwc_last_id(w->c);
    if (!id[0] && !w->since_dropped) /* (since_dropped, no id: resume from now) */
        return NULL;
    return pwc_url_with(&w->target, w->c->o.url.target, "since", id) ? NULL
                                                                      : (const char *)w->target.p;
}

static void ws_start(struct pwc *c)
{
    struct ws *w = W(c);
    if (c->finished)
        return;
    size_t np = 0;
    for (size_t i = 0; i < c->o.nprotos; i++)
        w->protos[np++] = c->o.protos[i];
    /* resuming needs ids: ask a pushwire server for its envelopes */
    if (!c->o.nprotos && (c->o.reconnect || (c->o.start_id && c->o.start_id[0]) || c->o.cursor_file))
        w->protos[np++] = "pushwire.v1";
    int v1 = 0;
    for (size_t i = 0; i < np; i++)
        v1 |= strcmp(w->protos[i], "pushwire.v1") == 0;
    w->toobig = 0;
    struct pw_wsc_opts o = {
        .url = &c->o.url,
        .proxy = c->o.has_proxy ? &c->o.proxy : NULL,
        .cacert = c->o.cacert,
        .insecure = c->o.insecure,
        .headers = c->o.headers,
        .nheaders = c->o.nheaders,
        .origin = c->o.origin,
        .protos = w->protos,
        .nprotos = np,
        .compress = c->o.compress,
        .max_message = v1 ? envelope_max(c->o.max_message) : c->o.max_message,
        .target = resume_target(w),
        .cert = c->o.cert,
        .key = c->o.key,
        .unix_path = c->o.unix_socket,
    };
    static const struct pw_wsc_cb cb = {on_open, on_message, on_pong, on_close, on_end,
                                        on_head, on_frame, on_drain};
    pwc_verbose(c, "* connecting to %s%s%s", c->o.url_str,
                c->o.unix_socket ? " over the Unix socket " : c->o.has_proxy ? " through " : "",
                c->o.unix_socket ? c->o.unix_socket : c->o.has_proxy ? c->o.proxy_url_str : "");
    w->ws = pw_wsc_new(c->loop, &o, &cb, w);
    if (!w->ws) {
        pwc_info(c, "out of memory");
        pwc_finish(c, PW_EXIT_FAIL);
    } else if (c->o.connect_timeout_s > 0) {
        uv_timer_start(&w->t_open, open_timeout_cb, pwc_ms(c->o.connect_timeout_s), 0);
    }
}

/* ---- the table ------------------------------------------------------------------------ */

static int ws_init(struct pwc *c)
{
    struct ws *w = calloc(1, sizeof *w);
    if (!w)
        return PW_ENOMEM;
    w->c = c;
    pw_buf_init(&w->target, 0);
    uv_timer_init(c->loop, &w->t_ping);
    uv_timer_init(c->loop, &w->t_close);
    uv_timer_init(c->loop, &w->t_open);
    w->t_ping.data = w->t_close.data = w->t_open.data = w;
    c->tp_state = w;
    return 0;
}

static void ws_done(struct pwc *c, unsigned code, const char *reason)
{
    struct ws *w = W(c);
    if (w->ws && w->ws->state == PW_WSC_CLOSING)
        return;
    if (w->ws && w->ws->state == PW_WSC_OPEN) {
        start_close(w, code, reason);
        return;
    }
    pwc_finish(c, c->exit_code); /* not connected (yet, or between attempts) */
}

static void ws_drop(struct pwc *c)
{
    struct ws *w = W(c);
    if (!w)
        return;
    if (w->ws) {
        pw_wsc_free(w->ws);
        w->ws = NULL;
    }
    if (!uv_is_closing((uv_handle_t *)&w->t_ping))
        uv_close((uv_handle_t *)&w->t_ping, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->t_close))
        uv_close((uv_handle_t *)&w->t_close, NULL);
    if (!uv_is_closing((uv_handle_t *)&w->t_open))
        uv_close((uv_handle_t *)&w->t_open, NULL);
}

static void ws_free(struct pwc *c)
{
    struct ws *w = W(c);
    if (!w)
        return;
    pw_buf_free(&w->target);
    free(w);
    c->tp_state = NULL;
}

static int ws_send(struct pwc *c, int binary, const uint8_t *p, size_t n)
{
    struct ws *w = W(c);
    if (!w->ws || w->ws->state != PW_WSC_OPEN)
        return PW_ESTATE;
    return pw_wsc_send(w->ws, binary ? PW_WS_OP_BINARY : PW_WS_OP_TEXT, p, n);
}

static int ws_ping(struct pwc *c, const uint8_t *p, size_t n)
{
    struct ws *w = W(c);
    if (!w->ws || w->ws->state != PW_WSC_OPEN)
        return PW_ESTATE;
    w->ping_sent_at = uv_hrtime();
    w->ping_outstanding = 1;
    return pw_wsc_send(w->ws, PW_WS_OP_PING, p, n);
}

static size_t ws_pending(const struct pwc *c)
{
    const struct ws *w = c->tp_state;
    return w->ws ? pw_wsc_pending(w->ws) : 0;
}

const struct pwc_transport pwc_ws = {
    "WebSocket", ws_init, ws_start, ws_done, ws_drop, ws_free, ws_send, ws_ping, ws_pending,
};
