/* srv_http.c — HTTP/1.1 requests: routing, plain responses, POST /pub,
 * /healthz, /metrics, the page, Server-Sent Events and long polling: the
 * http, sse and poll transports (struct srv_ops).  The WebSocket upgrade is
 * handed to srv_ws.c. */
#include "srv.h"
#include "srv_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/jwt.h"
#include "proto/pwmsg.h"
#include "proto/sse.h"
#include "proto/utf8.h"

#define SRV_POLL_BODY_MAX (1u << 20) /* a poll answer stops growing here */
#define SRV_POLL_TIMEOUT_S 30        /* ?timeout= when not given (capped by --poll-timeout) */
#define SRV_SSE_RETRY_MS "3000"      /* the first retry: unless --retry */
#define SRV_METRICS_CHANNELS 1000    /* channels listed per /metrics family, at most
                                        (--metrics-per-channel; serve(1) says so) */
#define SRV_ERROR_BODY_MAX 4096      /* a JSON error body, at most */
#define SRV_BUSY_RETRY_S "1"         /* Retry-After with a 503 */
#define SRV_PREFLIGHT_MAX_AGE_S "86400" /* how long a browser may keep a CORS preflight */
#define SRV_LOG_TARGET_MAX 256       /* a request target in the log, cut there */

static const struct srv_ops srv__sse_ops, srv__poll_ops, srv__wait_ops;

static const char *srv__reason(int st)
{
    switch (st) {
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* After a complete response: next request on the same connection, or end. */
static void srv__response_done(struct srv_conn *c)
{
    srv_unsubscribe(c);
    srv_channel_drop(c);
    c->t_expire = 0;
    c->cred = 0;
    if (c->ops != &srv_http_ops)
        srv_set_ops(c, &srv_http_ops);
    if (c->keepalive && !c->srv->stopping) {
        c->t_tick = 0;
        c->t_deadline = srv_in(c->srv, c->srv->o->handshake_timeout);
        srv_auth_idle(c);
    } else {
        srv_end(c);
    }
}

static void srv_http_response(struct srv_conn *c, int status, const char *ctype, const char *extra,
                       const void *body, size_t len)
{
    char cors[SRV_CORS_MAX];
    /* a page's fetch reads only the CORS-safelisted headers of a cross-origin
     * answer: the ones a refusal tells it by are exposed (Fetch, CORS) */
    const char *expose = extra && (strstr(extra, "Retry-After:") || strstr(extra, "WWW-Authenticate:"))
                             ? "Access-Control-Expose-Headers: Retry-After, WWW-Authenticate\r\n"
                             : "";
    srv_outf(c,
             "HTTP/1.1 %d %s\r\n"
             "%s%s%s"
             "Content-Length: %zu\r\n"
             "%s%s"
             "Cache-Control: no-cache\r\n"
             "Connection: %s\r\n"
             "%s\r\n",
             status, srv__reason(status), ctype ? "Content-Type: " : "", ctype ? ctype : "",
             ctype ? "\r\n" : "", len, srv_auth_cors(c, cors, sizeof cors), expose,
             c->keepalive ? "keep-alive" : "close", extra ? extra : "");
    if (!c->head_only)
        srv_out(c, body, len);
    const struct pw_http_req *r = c->srv->cur_req;
    char target[SRV_LOG_TARGET_MAX];
    if (r)
        srv_log(c->srv, c, "response", status, 0, "%.*s %s", (int)r->method.len, r->method.p,
                srv_auth_target(r->target, target, sizeof target));
    else
        srv_log(c->srv, c, "response", status, 0, NULL);
    srv__response_done(c);
}

/* An error answer (a pwmsg error body), and the connection ends after it. */
static void srv__error(struct srv_conn *c, int status, const char *msg, const char *rule,
                       const char *extra)
{
    struct pwmsg_error e = {status, msg, rule, NULL};
    struct pw_buf b;
    pw_buf_init(&b, SRV_ERROR_BODY_MAX);
    if (pwmsg_error_encode(&b, &e)) {
        e.error = "error message too long";
        pwmsg_error_encode(&b, &e);
    }
    c->keepalive = 0; /* the rest of the input cannot be trusted */
    srv_pub_drop(c);
    srv_http_response(c, status, "application/json", extra, b.p, b.len);
    pw_buf_free(&b);
}

/* The access rules said no (srv_auth.h). */
static void srv__refuse(struct srv_conn *c, const struct srv_deny *no)
{
    srv__error(c, no->status, no->msg, no->rule, no->extra[0] ? no->extra : NULL);
}

void srv_http_error(struct srv_conn *c, int status, const char *msg, const char *rule)
{
    srv__error(c, status, msg, rule, status == 503 ? "Retry-After: " SRV_BUSY_RETRY_S "\r\n" : NULL);
}

/* ---- message encodings, built once per message and shared ---- */

static int srv__build(struct pw_msg *m, int enc, struct pw_buf *b)
{
    if (enc == ENC_POLL)
        return pwmsg_poll_item_encode(b, m);
    if (!m->binary)
        return pw_sse_encode(b, m->id, m->event, m->data, m->len, -1);
    /* SSE is text: a binary message goes as its base64 */
    struct pw_buf t;
    pw_buf_init(&t, 0);
    int rc = pw_base64_append(&t, m->data, m->len);
    rc = rc ? rc : pw_sse_encode(b, m->id, m->event, t.p ? t.p : (const uint8_t *)"", t.len, -1);
    pw_buf_free(&t);
    return rc;
}

/* Encoding slot ENC_SSE or ENC_POLL of m, built on first use; NULL when out
 * of memory.  Owned by the message. */
static const uint8_t *srv__msg_enc(struct pw_msg *m, int enc, size_t *len)
{
    if (!m->enc[enc].p) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        if (srv__build(m, enc, &b) || !b.p) {
            pw_buf_free(&b);
            return NULL;
        }
        m->enc[enc].p = b.p;
        m->enc[enc].len = b.len;
    }
    *len = m->enc[enc].len;
    return m->enc[enc].p;
}

/* ---- resume ids ---- */

/* The id a client resumes after, from a header (NULL: none) or else a query
 * parameter, into buf: NULL when none was given (an empty one is none),
 * PW_FEED_UNREADABLE when one was given that cannot be read (too long, bad
 * percent-encoding), else buf.  Never an error: what an id means is the
 * backend's to say, and one it cannot place is a gap. */
static const char *srv__resume_id(const struct pw_http_req *req, const char *header,
                                  const char *param, char buf[PW_ID_MAX])
{
    const struct pw_str *h =
        header ? pw_http_header_get(req->headers, req->nheaders, header, NULL) : NULL;
    if (h && h->len) {
        if (h->len >= PW_ID_MAX)
            return PW_FEED_UNREADABLE;
        memcpy(buf, h->p, h->len);
        buf[h->len] = 0;
        return buf;
    }
    int r = pw_http_query_get(req->query, param, buf, PW_ID_MAX);
    return r > 0 ? buf : r < -1 ? PW_FEED_UNREADABLE : NULL;
}

/* ---- Server-Sent Events ---- */

/* live: the message's shared encoding; history: the shared one if it was
 * built already, else one for this copy only */
static void srv__sse_out(struct srv_conn *c, struct pw_msg *m, int live)
{
    size_t len;
    int rc;
    if (live) {
        if (!srv__msg_enc(m, ENC_SSE, &len))
            return;
        rc = srv_over_limit(c, len) ? PW_ENET_SLOW : srv_out_msg(c, m, ENC_SSE);
    } else
        rc = srv_out_msg_once(c, m, ENC_SSE, srv__build);
    if (srv_sent(c, rc))
        return;
    if (c->srv->o->heartbeat > 0)
        c->t_tick = srv_in(c->srv, c->srv->o->heartbeat);
}

/* The feed's operations (feed.h): history until caught up, then live. */
static int srv__sse_msg(struct pw_feed *f, struct pw_msg *m, int live)
{
    struct srv_conn *c = f->ud;
    int room = srv_feed_room(c, live);
    if (room)
        return room;
    srv__sse_out(c, m, live);
    return c->slow || c->closing ? -1 : 0;
}

static int srv__sse_gap(struct pw_feed *f, const char *after, const char *first)
{
    struct srv_conn *c = f->ud;
    struct pwmsg_gap g = {after, first};
    struct pw_buf d, ev;
    pw_buf_init(&d, 1024);
    pw_buf_init(&ev, 0);
    if (pwmsg_sse_gap_encode(&d, &g) == 0 && pw_sse_encode(&ev, NULL, "gap", d.p, d.len, -1) == 0)
        srv_out(c, ev.p, ev.len);
    pw_buf_free(&d);
    pw_buf_free(&ev);
    srv_log(c->srv, c, "gap", 0, 0, "after %s, first held %s", after ? after : "(unreadable)",
            first[0] ? first : "(none)");
    return 0;
}

static void srv__sse_hungry(struct pw_feed *f)
{
    srv_feed_hungry(f->ud);
}

static void srv__sse_failed(struct pw_feed *f, int rc)
{
    struct srv_conn *c = f->ud;
    srv_log(c->srv, c, "error", 0, 0, "resume failed: %s", pw_strerror(rc));
    srv_end(c); /* the client reconnects and resumes from its last id */
}

static const struct pw_feed_ops srv__sse_feed = {srv__sse_msg, srv__sse_gap, srv__sse_hungry,
                                                 srv__sse_failed, NULL};

void srv_sse_heartbeat(struct srv_conn *c)
{
    static const char hb[] = ": heartbeat\n\n";
    srv_out(c, hb, sizeof hb - 1);
    c->t_tick = srv_in(c->srv, c->srv->o->heartbeat);
}

/* An event stream is an endless answer: what the client sends is not read. */
static size_t srv__sse_input(struct srv_conn *c, uint8_t *p, size_t n)
{
    (void)c;
    (void)p;
    return n;
}

/* The stream has no deadline of its own (srv_end's grace is server.c's). */
static void srv__sse_deadline(struct srv_conn *c)
{
    srv_close(c, NULL);
}

void srv_pub_drop(struct srv_conn *c)
{
    struct srv_pub *pb = c->u.h.pub;
    if (pb) {
        c->u.h.pub = NULL;
        pw_buf_free(&pb->body);
        free(pb->event);
        free(pb);
    }
}

static void srv__http_free(struct srv_conn *c)
{
    srv_pub_drop(c);
    free(c->u.h.cursor);
    free(c->u.h.origin);
    memset(&c->u.h, 0, sizeof c->u.h);
}

/* The token the stream was opened with expired: an `expired` event (a
 * pushwire error body, and no id, like a gap) tells the page why before
 * the stream ends, so that it can come back with a new token instead of
 * letting EventSource reconnect with the old one.  A token a reload took
 * away (SIGHUP) ends it alike, with a `revoked` event. */
void srv_sse_expire(struct srv_conn *c)
{
    int revoked = srv_auth_expired(c);
    struct pwmsg_error e = {401, pw_strerror(PW_EJWT_EXPIRED), pw_errrule(PW_EJWT_EXPIRED), NULL};
    if (revoked)
        e = (struct pwmsg_error){401, SRV_REVOKED_MSG, "docs/PROTOCOL.md#access", NULL};
    struct pw_buf d, ev;
    pw_buf_init(&d, SRV_ERROR_BODY_MAX);
    pw_buf_init(&ev, 0);
    /* the body's closing newline is no part of the data: it would be an
     * empty data: line, and a '\n' at the end of the page's event.data */
    if (pwmsg_error_encode(&d, &e) == 0 &&
        pw_sse_encode(&ev, NULL, revoked ? "revoked" : "expired", d.p,
                      d.len && d.p[d.len - 1] == '\n' ? d.len - 1 : d.len, -1) == 0)
        srv_out(c, ev.p, ev.len);
    pw_buf_free(&d);
    pw_buf_free(&ev);
    srv_end(c);
}

/* idle, shutdown, slow: the stream just ends (there is no close code) */
static const struct srv_ops srv__sse_ops = {
    .name = "sse",
    .slot = SRV_SLOT_SSE,
    .input = srv__sse_input,
    .tick = srv_sse_heartbeat,
    .deadline = srv__sse_deadline,
    .idle = srv_end,
    .shutdown = srv_end,
    .slow = srv_end,
    .expire = srv_sse_expire,
    .free = srv__http_free,
};

#define SRV_SSE_FIELDS "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"

/* HEAD on an event stream or a long poll: the head a GET gets, at once,
 * with no content and no length (a stream has none; a poll's depends on
 * what comes), nothing subscribed or waited for (RFC 9110 §9.3.2) */
static void srv__head_of(struct srv_conn *c, const char *fields, const char *what)
{
    char cors[SRV_CORS_MAX];
    srv_outf(c, "HTTP/1.1 200 OK\r\n%s%sConnection: %s\r\n\r\n", fields, srv_auth_cors(c, cors, sizeof cors),
             c->keepalive ? "keep-alive" : "close");
    srv_log(c->srv, c, "response", 200, 0, "HEAD %s", what);
    srv__response_done(c);
}

void srv_sse_begin(struct srv_conn *c, const struct srv_ops *ops, const char *after)
{
    struct srv *s = c->srv;
    c->keepalive = 0;
    srv_set_ops(c, ops);
    c->t_deadline = 0;
    char cors[SRV_CORS_MAX];
    srv_outf(c, "HTTP/1.1 200 OK\r\n"
                SRV_SSE_FIELDS
                "%s"
                "Connection: close\r\n"
                "\r\n"
                "retry: %s\n\n",
             srv_auth_cors(c, cors, sizeof cors), s->o->retry_ms ? s->o->retry_ms : SRV_SSE_RETRY_MS);
    srv_log(s, c, "response", 200, 0, "event stream%s%s", after ? " after " : "",
            after ? (after[0] ? after : "(unreadable id)") : "");
    if (s->o->heartbeat > 0)
        c->t_tick = srv_in(s, s->o->heartbeat);
}

/* A stream without Last-Event-ID starts where the channel is: its newest
 * id, sent first as an event with an id and no data (a browser dispatches
 * nothing but takes the id as its last event id), then the feed after it.
 * So a browser whose stream drops before its first message resumes after
 * that id when it reconnects by itself: what was published meanwhile comes
 * (or a gap after a restart), where with no id it would be lost silently. */
static void srv__sse_position_page(void *ud, const struct pw_page *pg)
{
    struct srv_conn *c = ud;
    c->u.h.fetching = 0;
    if (c->ops != &srv__sse_ops || c->closing)
        return;
    /* the backend cannot say where the channel is (Redis down or busy):
     * live from whenever it can, as a stream with no id always was, rather
     * than ending streams that browsers would all open again at once */
    const char *at = pg->rc ? NULL : pg->last;
    if (at)
        srv_outf(c, "id: %s\n\n", at);
    if (srv_feed_start(c, at, &srv__sse_feed))
        srv_end(c);
}

static void srv__sse_position(struct srv_conn *c)
{
    struct pw_pubsub *ps = c->srv->ps;
    struct pw_fetch_req rq = {c->channel, strlen(c->channel), NULL, 1, 1, srv__sse_position_page, c};
    c->u.h.fetching = 1;
    if (ps->ops->fetch(ps, &rq)) {
        c->u.h.fetching = 0;
        if (srv_feed_start(c, NULL, &srv__sse_feed))
            srv_end(c);
    }
}

/* Every id is taken: one that names nothing held here (another epoch, never
 * issued, unreadable) is a gap in the stream, never an error status, which
 * would make a browser's EventSource give up for good. */
static void srv__sse(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    char last[PW_ID_MAX];
    const char *after = srv__resume_id(req, "Last-Event-ID", "lastEventId", last);
    if (srv_channel_set(c, ch, chlen)) {
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    srv_sse_begin(c, &srv__sse_ops, after);
    if (!after) {
        srv__sse_position(c);
        return;
    }
    /* the gap (if any), then what is held, page by page as the client
     * reads, then live */
    if (srv_feed_start(c, after, &srv__sse_feed))
        srv_end(c);
}

/* ---- long polling ----
 *
 * A poll subscribes first (so nothing published while its page is on its
 * way is missed), then fetches one page after its cursor: messages or a gap
 * answer at once; none parks the request until a delivery (ready) or the
 * timeout (deadline), each of which fetches again and answers.  The page is
 * the same paged fetch a resume uses, bounded by the answer's size. */

#define SRV_POLL_PAGE_MSGS 65536     /* messages in one answer, at most */

/* The answer from a page: its messages (up to about SRV_POLL_BODY_MAX of
 * body), the cursor to send next, the gap if the page had one. */
static void srv__poll_answer(struct srv_conn *c, const struct pw_page *pg)
{
    struct srv *s = c->srv;
    struct pw_buf msgs, b, *tmp = &s->scratch;
    pw_buf_init(&msgs, 0);
    pw_buf_init(&b, 0);
    const char *last = NULL;
    size_t i = 0;
    for (; i < pg->n && msgs.len < SRV_POLL_BODY_MAX; i++) {
        struct pw_msg *m = pg->msgs[i];
        const uint8_t *p = m->enc[ENC_POLL].p;
        size_t len = m->enc[ENC_POLL].len;
        if (!p) { /* an old message: encoded for this answer only */
            pw_buf_reset(tmp);
            if (pwmsg_poll_item_encode(tmp, m))
                break;
            p = tmp->p;
            len = tmp->len;
        }
        if (pwmsg_poll_list_add(&msgs, p, len))
            break;
        last = m->id;
    }
    /* no message: the cursor stays (or, after a gap or with none, jumps to
     * the newest) */
    const char *cur = c->u.h.cursor;
    const char *next = last ? last : pg->gap || !cur ? pg->last : cur;
    struct pwmsg_gap g = {cur && cur[0] ? cur : NULL, pg->first};
    pwmsg_poll_encode(&b, next, msgs.p, msgs.len, pg->gap ? &g : NULL);
    s->m_msgs_out += i;
    if (pg->gap)
        srv_log(s, c, "gap", 0, 0, "after %s, first held %s", g.after ? g.after : "(unreadable)",
                pg->first[0] ? pg->first : "(none)");
    free(c->u.h.cursor); /* the next request on this connection brings its own */
    c->u.h.cursor = NULL;
    srv_http_response(c, 200, "application/json", NULL, b.p, b.len);
    pw_buf_free(&b);
    pw_buf_free(&msgs);
    if (tmp->cap > SRV_SCRATCH_KEEP)
        pw_buf_free(tmp);
}

static void srv__poll_fetch(struct srv_conn *c);

static void srv__poll_page(void *ud, const struct pw_page *pg)
{
    struct srv_conn *c = ud;
    c->u.h.fetching = 0;
    if (c->ops != &srv__poll_ops || c->close_after)
        return;
    if (pg->rc) {
        srv_http_error(c, pg->rc == PW_ENET_BACKEND ? 503 : 500, pw_strerror(pg->rc), NULL);
        return;
    }
    if (!c->u.h.cursor) {
        /* no cursor: wait for what comes after the newest */
        if (!(c->u.h.cursor = strdup(pg->last))) {
            srv_http_error(c, 500, "out of memory", NULL);
            return;
        }
        if (c->ready || c->u.h.expired || c->u.h.poll_timeout == 0)
            srv__poll_fetch(c); /* something came meanwhile, or no waiting */
        return;
    }
    if (pg->n || pg->gap || c->u.h.expired || c->u.h.poll_timeout == 0) {
        srv__poll_answer(c, pg);
        srv_input_pending(c); /* what the client pipelined behind it */
        return;
    }
    if (c->ready) /* delivered while the page was on its way */
        srv__poll_fetch(c);
}

static void srv__poll_fetch(struct srv_conn *c)
{
    struct srv *s = c->srv;
    if (c->u.h.fetching)
        return;
    c->ready = 0;
    c->u.h.fetching = 1;
    struct pw_fetch_req rq = {c->channel, strlen(c->channel), c->u.h.cursor, SRV_POLL_PAGE_MSGS,
                              SRV_POLL_BODY_MAX, srv__poll_page, c};
    int rc = s->ps->ops->fetch(s->ps, &rq);
    if (rc) {
        c->u.h.fetching = 0;
        srv_http_error(c, rc == PW_ENOMEM ? 500 : 400, pw_strerror(rc), pw_errrule(rc));
    }
}

static void srv__poll_deliver(struct pw_sub *sub, struct pw_msg *m)
{
    struct srv_conn *c = SRV_CONTAINER(sub, struct srv_conn, u.h.sub);
    (void)m;
    /* answer in the check phase, with everything published this turn */
    srv_ready(c);
}

/* A message came: fetch it (a page on its way looks again when it comes). */
static void srv__poll_ready(struct srv_conn *c)
{
    if (c->u.h.fetching)
        c->ready = 1;
    else
        srv__poll_fetch(c);
}

/* The timeout passed or the server is stopping: answer with what there is. */
static void srv__poll_expire(struct srv_conn *c)
{
    c->u.h.expired = 1;
    if (!c->u.h.fetching)
        srv__poll_fetch(c);
}

/* A token that expires while the poll is held ends it with the ordinary
 * answer (nothing lost); the next request, with the same token, gets the
 * 401. */
static void srv__poll_token_expired(struct srv_conn *c)
{
    srv_auth_expired(c);
    srv__poll_expire(c);
}

static const struct srv_ops srv__poll_ops = {
    .name = "poll",
    .slot = SRV_SLOT_POLL,
    .deadline = srv__poll_expire,
    .shutdown = srv__poll_expire,
    .ready = srv__poll_ready,
    .expire = srv__poll_token_expired,
    .free = srv__http_free,
};

/* A cursor that names nothing held here (another epoch, never issued,
 * unreadable) is answered as a gap with what is held, as on every
 * transport; an empty one is no cursor. */
static void srv__poll(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    struct srv *s = c->srv;
    if (c->head_only)
        return srv__head_of(c, "Content-Type: application/json\r\nCache-Control: no-cache\r\n", "long poll");
    char cursor[PW_ID_MAX], tbuf[32];
    const char *after = srv__resume_id(req, NULL, "cursor", cursor);
    double timeout = SRV_POLL_TIMEOUT_S;
    int tr = pw_http_query_get(req->query, "timeout", tbuf, sizeof tbuf);
    if (tr != -1) {
        char *end;
        timeout = tr > 0 ? strtod(tbuf, &end) : -1;
        if (tr <= 0 || *end || !(timeout >= 0)) {
            srv_http_error(c, 400, "bad timeout parameter: want seconds >= 0",
                           "docs/PROTOCOL.md#long-polling");
            return;
        }
    }
    if (timeout > s->o->poll_timeout)
        timeout = s->o->poll_timeout;
    int crc = srv_channel_set(c, ch, chlen);
    c->u.h.cursor = after ? strdup(after) : NULL;
    if (crc || (after && !c->u.h.cursor)) {
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    c->u.h.poll_timeout = (float)timeout;
    c->u.h.expired = 0;
    srv_set_ops(c, &srv__poll_ops);
    if (srv_subscribe(c, ch, chlen, srv__poll_deliver)) {
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    /* parked while its page is on its way, and after it if it is empty: no
     * thread waits, the connection just sits subscribed */
    c->t_deadline = srv_in(s, timeout);
    if (c->t_deadline == uv_now(s->loop))
        c->t_deadline++;
    srv__poll_fetch(c);
}

/* ---- POST /pub ---- */

/* 0 while the backend works; else PW_ENET_BACKEND, msg saying what is wrong
 * (/healthz, a refused publish) */
#define SRV_BACKEND_WHY 320
static int srv__backend_why(struct srv_conn *c, char *msg, size_t n)
{
    struct pw_pubsub *ps = c->srv->ps;
    char why[256];
    if (ps->ops->health(ps, why, sizeof why) == 0)
        return 0;
    snprintf(msg, n, "%s%s%s", pw_strerror(PW_ENET_BACKEND), why[0] ? ": " : "", why);
    return PW_ENET_BACKEND;
}

/* A publish refused: 503 when trying again may work (the backend is down,
 * --max-channels is reached until channels expire). */
static int srv__pub_status(int rc)
{
    return rc == PW_ENET_BACKEND || rc == PW_ENET_CHANNELS ? 503 : 500;
}

/* The refusal's answer; the backend's says why when it knows (as
 * /healthz: Redis down, or what it answered) */
static void srv__pub_refused(struct srv_conn *c, int rc)
{
    char msg[SRV_BACKEND_WHY];
    if (rc != PW_ENET_BACKEND || srv__backend_why(c, msg, sizeof msg) == 0)
        snprintf(msg, sizeof msg, "%s", pw_strerror(rc));
    srv_http_error(c, srv__pub_status(rc), msg, NULL);
}

/* The answer waits for the backend to hold the message: at once for the
 * embedded one; a backend on a network acknowledges later, and meanwhile
 * what the client pipelines waits (srv__wait_ops has no input). */
static void srv__pub_ack(void *ud, struct pw_msg *m, int rc)
{
    struct srv_conn *c = ud;
    if (c->ops != &srv__wait_ops || c->close_after)
        return;
    if (rc) {
        srv__pub_refused(c, rc);
    } else {
        struct pw_buf b;
        pw_buf_init(&b, 256);
        pwmsg_pub_encode(&b, m->id);
        srv_http_response(c, 200, "application/json", NULL, b.p, b.len);
        pw_buf_free(&b);
    }
    srv_input_pending(c);
}

static void srv__pub_finish(struct srv_conn *c, const uint8_t *data, size_t len)
{
    struct srv *s = c->srv;
    struct srv_pub *pb = c->u.h.pub; /* ours now: data may point into its body */
    c->u.h.pub = NULL;
    if (srv_auth_revoked(c)) {
        pw_buf_free(&pb->body);
        free(pb->event);
        free(pb);
        srv__error(c, 401, SRV_REVOKED_MSG, "docs/PROTOCOL.md#access",
                   "WWW-Authenticate: Bearer realm=\"pushwire\", error=\"invalid_token\"\r\n");
        return;
    }
    int binary = pb->binary || !pw_utf8_valid(data, len);
    srv_set_ops(c, &srv__wait_ops);
    int rc = srv_publish(s, c->channel, strlen(c->channel), pb->event, data, len, binary, srv__pub_ack, c);
    pw_buf_free(&pb->body);
    free(pb->event);
    free(pb);
    if (rc)
        srv__pub_refused(c, rc);
}

static size_t srv__body_input(struct srv_conn *c, uint8_t *p, size_t n)
{
    struct srv_pub *pb = c->u.h.pub;
    size_t k = n < pb->body_need ? n : pb->body_need;
    /* a body may take as long as it needs while it keeps coming: the
     * deadline is --handshake-timeout since its last bytes (a total bound
     * cut a 1 MiB publish on a 60 kB/s uplink after 10 s, with no answer) */
    c->t_deadline = srv_in(c->srv, c->srv->o->handshake_timeout);
    if (pb->body.len == 0 && k == pb->body_need) {
        pb->body_need = 0;
        srv__pub_finish(c, p, k);
        return k;
    }
    if (pw_buf_append(&pb->body, p, k)) {
        srv_http_error(c, 413, "message larger than --max-message", NULL);
        return n;
    }
    pb->body_need -= k;
    if (pb->body_need == 0)
        srv__pub_finish(c, pb->body.p, pb->body.len);
    return k;
}

static void srv__pub(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    struct srv *s = c->srv;
    if (s->o->read_only) {
        srv_http_error(c, 403, "publishing is disabled (--read-only)", NULL);
        return;
    }
    unsigned retry = 1;
    if (srv_auth_pub_take(c, &retry) <= 0) {
        char extra[64];
        snprintf(extra, sizeof extra, "Retry-After: %u\r\n", retry);
        srv_log(s, c, "reject", 429, 0, "publishing faster than --max-pub-rate");
        srv__error(c, 429, "publishing too fast on this connection (--max-pub-rate)", "docs/PROTOCOL.md#access",
                   extra);
        return;
    }
    if (req->content_length < 0) {
        srv_http_error(c, 411, "POST needs a Content-Length", "RFC 9112 §6.3");
        return;
    }
    if ((unsigned long long)req->content_length > s->o->max_message) {
        srv_http_error(c, 413, "message larger than --max-message", NULL);
        return;
    }
    char ev[PW_EVENT_MAX + 1];
    int r = pw_http_query_get(req->query, "event", ev, sizeof ev);
    if (r == 0 || r < -1 || (r > 0 && !pw_event_valid(ev, (size_t)r))) {
        srv_http_error(c, 400, "bad event name: 1-128 bytes, no line breaks", NULL);
        return;
    }
    const struct pw_str *ct = pw_http_header_get(req->headers, req->nheaders, "Content-Type", NULL);
    static const char octets[] = "application/octet-stream";
    struct srv_pub *pb = calloc(1, sizeof *pb);
    c->u.h.pub = pb;
    int crc = srv_channel_set(c, ch, chlen);
    if (!pb || crc || (r > 0 && !(pb->event = strdup(ev)))) {
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    pb->binary = ct && ct->len >= sizeof octets - 1 && strncasecmp(ct->p, octets, sizeof octets - 1) == 0;
    pb->body_need = (size_t)req->content_length;
    c->t_deadline = srv_in(s, s->o->handshake_timeout);
    pw_buf_init(&pb->body, s->o->max_message);
    if (pb->body_need == 0)
        srv__pub_finish(c, (const uint8_t *)"", 0);
}

/* Waiting for a publish's ack: input waits; on shutdown the ack still
 * answers (the hard stop cuts it otherwise). */
static void srv__wait_deadline(struct srv_conn *c)
{
    srv_http_error(c, 503, pw_strerror(PW_ENET_BACKEND), NULL);
}

static void srv__wait_shutdown(struct srv_conn *c)
{
    (void)c;
}

static const struct srv_ops srv__wait_ops = {
    .name = "http",
    .slot = SRV_SLOT_HTTP,
    .deadline = srv__wait_deadline,
    .shutdown = srv__wait_shutdown,
    .free = srv__http_free,
};

/* ---- /metrics, /healthz, OPTIONS ---- */

struct srv__mctx {
    struct pw_buf *b;
    int pass;
    size_t n;
};

static void srv__metric_chan(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs)
{
    struct srv__mctx *x = ud;
    if (x->n++ >= SRV_METRICS_CHANNELS) /* a bounded answer, whatever the channel count */
        return;
    if (x->pass == 0)
        pw_buf_printf(x->b, "pushwire_backlog_messages{channel=\"%s\"} %zu\n", ch, msgs);
    else if (x->pass == 1)
        pw_buf_printf(x->b, "pushwire_backlog_bytes{channel=\"%s\"} %zu\n", ch, bytes);
    else
        pw_buf_printf(x->b, "pushwire_subscribers{channel=\"%s\"} %zu\n", ch, subs);
}

/* Totals of the history, whatever the channel count (per-channel series
 * only with --metrics-per-channel: one series per channel is unbounded). */
static void srv__metrics_history(struct srv *s, struct pw_buf *b)
{
    struct pw_pubsub_stats st = {0};
    if (!s->ps->ops->stats)
        return;
    s->ps->ops->stats(s->ps, &st);
#define GAUGE(name, help, v)                                                             \
    pw_buf_printf(b, "# HELP pushwire_" name " " help "\n# TYPE pushwire_" name " gauge\n" \
                     "pushwire_" name " %zu\n", (size_t)(v))
    GAUGE("channels", "Channels held (with history or subscribers).", st.channels);
    GAUGE("history_messages", "Messages held, all channels.", st.messages);
    GAUGE("history_bytes", "Bytes the history holds, as charged to --history-bytes.", st.bytes);
    GAUGE("history_bytes_limit", "--history-bytes (0: none).", st.budget);
#undef GAUGE
    pw_buf_printf(b, "# HELP pushwire_evictions_total Messages that left the history early, by "
                     "cause: --backlog, --history-bytes, --message-ttl.\n# TYPE pushwire_evictions_total counter\n"
                     "pushwire_evictions_total{cause=\"backlog\"} %llu\n"
                     "pushwire_evictions_total{cause=\"history_bytes\"} %llu\n"
                     "pushwire_evictions_total{cause=\"ttl\"} %llu\n",
                  (unsigned long long)st.evicted_backlog, (unsigned long long)st.evicted_budget,
                  (unsigned long long)st.evicted_ttl);
    pw_buf_printf(b, "# HELP pushwire_channels_expired_total Channels forgotten once they had no "
                     "subscriber and no history left.\n# TYPE pushwire_channels_expired_total counter\n"
                     "pushwire_channels_expired_total %llu\n"
                     "# HELP pushwire_channels_refused_total Publishes refused by --max-channels.\n"
                     "# TYPE pushwire_channels_refused_total counter\n"
                     "pushwire_channels_refused_total %llu\n",
                  (unsigned long long)st.channels_expired, (unsigned long long)st.channels_refused);
}

static void srv__metrics(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    (void)ch, (void)chlen;
    static const char *const slot_name[SRV_NSLOTS] = {
        [SRV_SLOT_HTTP] = "http", [SRV_SLOT_WS] = "ws", [SRV_SLOT_SSE] = "sse", [SRV_SLOT_POLL] = "poll"};
    struct srv *s = c->srv;
    struct srv_deny no;
    if (srv_auth_metrics_ok(c, req, &no))
        return srv__refuse(c, &no);
    struct pw_buf b;
    struct srv_counts t;
    srv_counts(s, &t);
    pw_buf_init(&b, 0);
    pw_buf_printf(&b, "# HELP pushwire_connections Open connections by transport.\n"
                      "# TYPE pushwire_connections gauge\n");
    for (int k = 0; k < SRV_NSLOTS; k++)
        pw_buf_printf(&b, "pushwire_connections{transport=\"%s\"} %zu\n", slot_name[k], (size_t)t.by_slot[k]);
#define CNT(name, help, v)                                                                  \
    pw_buf_printf(&b, "# HELP pushwire_" name " " help "\n# TYPE pushwire_" name " counter\n" \
                      "pushwire_" name " %llu\n", (unsigned long long)(v))
    CNT("connections_accepted_total", "Connections accepted.", t.accepted);
    CNT("connections_rejected_total", "Connections refused with 503 (--max-conns).", t.rejected_conns);
    CNT("requests_total", "HTTP requests parsed.", t.requests);
    CNT("messages_in_total", "Messages published.", t.msgs_in);
    CNT("messages_out_total", "Messages sent to subscribers.", t.msgs_out);
    CNT("bytes_in_total", "Bytes read from clients.", t.bytes_in);
    CNT("bytes_out_total", "Bytes written to clients.", t.bytes_out);
    CNT("slow_disconnects_total", "Subscribers disconnected for not keeping up.", t.slow);
    CNT("protocol_errors_total", "Connections failed for a protocol violation.", t.proto_errors);
    CNT("timeouts_total", "Connections closed by a timeout.", t.timeouts);
    CNT("stream_writes_total",
        "Writes to event streams and WebSockets, one per connection per loop turn with output.",
        t.stream_writes);
#undef CNT
    pw_buf_printf(&b, "# HELP pushwire_connection_memory_bytes What open connections keep while they live: "
                      "their state, feeds and channel names.\n"
                      "# TYPE pushwire_connection_memory_bytes gauge\npushwire_connection_memory_bytes %llu\n",
                  (unsigned long long)t.conn_bytes);
    if (srv_workers(s) > 1) {
        pw_buf_printf(&b, "# HELP pushwire_worker_connections Open connections per worker (--workers).\n"
                          "# TYPE pushwire_worker_connections gauge\n");
        for (unsigned j = 0; j < srv_workers(s); j++) {
            struct srv_counts w;
            srv_counts_worker(s, j, &w);
            pw_buf_printf(&b, "pushwire_worker_connections{worker=\"%u\"} %llu\n", j,
                          (unsigned long long)(w.by_slot[0] + w.by_slot[1] + w.by_slot[2] + w.by_slot[3]));
        }
        pw_buf_printf(&b, "# HELP pushwire_worker_messages_in_total Messages published per worker.\n"
                          "# TYPE pushwire_worker_messages_in_total counter\n");
        for (unsigned j = 0; j < srv_workers(s); j++) {
            struct srv_counts w;
            srv_counts_worker(s, j, &w);
            pw_buf_printf(&b, "pushwire_worker_messages_in_total{worker=\"%u\"} %llu\n", j,
                          (unsigned long long)w.msgs_in);
        }
    }
    char why[8];
    pw_buf_printf(&b, "# HELP pushwire_backend_up 1 while the message backend works (/healthz).\n"
                      "# TYPE pushwire_backend_up gauge\npushwire_backend_up %d\n",
                  s->ps->ops->health(s->ps, why, sizeof why) == 0);
    if (s->ps->ops->metrics) {
        char t[2048];
        size_t n = s->ps->ops->metrics(s->ps, t, sizeof t);
        pw_buf_append(&b, t, n < sizeof t ? n : 0);
    }
    if (s->tls)
        srv_tls_metrics(s, &b, &t);
    if (s->o->exec)
        srv_exec_metrics(s, &b);
    srv__metrics_history(s, &b);
    srv_auth_metrics(s, &b, &t);
    if (!s->o->metrics_per_channel) {
        srv_http_response(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
        pw_buf_free(&b);
        return;
    }
    static const char *const g[3][2] = {
        {"backlog_messages", "Messages kept per channel."},
        {"backlog_bytes", "Data bytes kept per channel."},
        {"subscribers", "Subscribers per channel."},
    };
    for (int pass = 0; pass < 3; pass++) {
        pw_buf_printf(&b, "# HELP pushwire_%s %s\n# TYPE pushwire_%s gauge\n", g[pass][0], g[pass][1],
                      g[pass][0]);
        struct srv__mctx x = {&b, pass, 0};
        s->ps->ops->each_channel(s->ps, &x, srv__metric_chan);
    }
    srv_http_response(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, b.p, b.len);
    pw_buf_free(&b);
}

static void srv__preflight(struct srv_conn *c)
{
    char cors[SRV_CORS_MAX];
    srv_outf(c, "HTTP/1.1 204 No Content\r\n"
                "%s"
                "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
                "Access-Control-Allow-Headers: Authorization, Content-Type, Last-Event-ID, Cache-Control\r\n"
                "Access-Control-Max-Age: " SRV_PREFLIGHT_MAX_AGE_S "\r\n"
                "Connection: %s\r\n\r\n",
             srv_auth_cors(c, cors, sizeof cors), c->keepalive ? "keep-alive" : "close");
    srv_log(c->srv, c, "response", 204, 0, "preflight");
    srv__response_done(c);
}

/* ---- routing ---- */

static int srv__prefix(struct pw_str path, const char *pre, const char **ch, size_t *len)
{
    size_t n = strlen(pre);
    if (path.len < n || memcmp(path.p, pre, n) != 0)
        return 0;
    *ch = path.p + n;
    *len = path.len - n;
    return 1;
}

/* GET /: the page, with serve's --channel as the channel it watches when its
 * URL has no ?channel= (written into <meta name="pushwire-channel">), and the
 * WebSocket subprotocol the server selects (<meta name="pushwire-ws">:
 * pushwire.v1, or empty with --echo and --exec, whose messages are plain:
 * a browser fails the handshake when a protocol it offered is not selected).
 * A channel name needs no HTML escaping: [A-Za-z0-9._~-] only. */
static void srv__page(struct srv_conn *c, const struct pw_http_req *req, const char *unused, size_t len)
{
    (void)req, (void)unused, (void)len;
    const struct pw_server_opts *o = c->srv->o;
    const char *ch = o->stdin_channel ? o->stdin_channel : "default";
    if (!pw_channel_valid(ch, strlen(ch)))
        ch = "default";
    const struct { const char *mark, *value; } sub[] = {
        {"{{channel}}", ch},
        {"{{ws}}", o->echo || o->exec ? "" : "pushwire.v1"},
    };
    struct pw_buf b;
    pw_buf_init(&b, srv_page_len + 256);
    const char *p = srv_page_html, *end = srv_page_html + srv_page_len;
    int err = 0;
    while (!err && p < end) {
        const char *at = strstr(p, "{{");
        size_t i, n = sizeof sub / sizeof sub[0];
        for (i = 0; at && i < n; i++)
            if (strncmp(at, sub[i].mark, strlen(sub[i].mark)) == 0)
                break;
        if (!at) {
            err = pw_buf_append(&b, p, (size_t)(end - p));
            break;
        }
        if (i == n) {             /* not one of ours: kept as it is */
            err = pw_buf_append(&b, p, (size_t)(at - p) + 2);
            p = at + 2;
            continue;
        }
        err = pw_buf_append(&b, p, (size_t)(at - p)) ||
              pw_buf_append(&b, sub[i].value, strlen(sub[i].value));
        p = at + strlen(sub[i].mark);
    }
    if (err) {
        pw_buf_free(&b);
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    srv_http_response(c, 200, "text/html; charset=utf-8", NULL, b.p, b.len);
    pw_buf_free(&b);
}

static void srv__method_not_allowed(struct srv_conn *c, const char *allow)
{
    char extra[64];
    snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
    struct pwmsg_error e = {405, "method not allowed", NULL, allow};
    struct pw_buf b;
    pw_buf_init(&b, 512);
    pwmsg_error_encode(&b, &e);
    srv_http_response(c, 405, "application/json", extra, b.p, b.len);
    pw_buf_free(&b);
}

const struct srv_attach srv_attach_pubsub = {srv_ws_upgrade, srv__sse};

/* The one hand-over to srv_ws.c (or --exec's); a refusal is answered here. */
static void srv__upgrade(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    struct srv_refusal no;
    if (c->srv->attach->ws(c, req, ch, chlen, &no))
        srv__error(c, no.status, no.msg, no.rule, no.extra);
}

static void srv__stream(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    if (c->head_only)
        return srv__head_of(c, SRV_SSE_FIELDS, "event stream");
    c->srv->attach->sse(c, req, ch, chlen);
}

/* ok, or 503 with what the backend says is wrong */
static void srv__healthz(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    (void)req, (void)ch, (void)chlen;
    char msg[SRV_BACKEND_WHY];
    if (srv__backend_why(c, msg, sizeof msg) == 0) {
        srv_http_response(c, 200, "text/plain; charset=utf-8", NULL, "ok\n", 3);
        return;
    }
    srv_http_error(c, 503, msg, NULL);
}

/* A handler gets the request and, on a channel endpoint, the channel (valid,
 * not NUL-terminated; NULL otherwise). */
typedef void srv__handler(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen);

#define SRV_SSE_ALLOW "GET, HEAD, OPTIONS"

/* The endpoints (docs/PROTOCOL.md), first match wins. */
static const struct srv__route {
    const char *path;
    uint8_t channel;              /* 1: path is a prefix, a channel name follows */
    uint8_t act;                  /* enum srv_act: what the credentials must allow */
    const char *allow;            /* the methods it answers (405 and Allow: otherwise) */
    srv__handler *fn;
} srv__routes[] = {
    {"/", 0, SRV_ACT_NONE, "GET, HEAD", srv__page},
    {"/index.html", 0, SRV_ACT_NONE, "GET, HEAD", srv__page},
    {"/healthz", 0, SRV_ACT_NONE, "GET, HEAD", srv__healthz},
    {"/metrics", 0, SRV_ACT_NONE, "GET, HEAD", srv__metrics},
    {"/ws/", 1, SRV_ACT_WEBSOCKET, "GET", srv__upgrade},
    {"/sse/", 1, SRV_ACT_SUBSCRIBE, SRV_SSE_ALLOW, srv__stream},
    {"/poll/", 1, SRV_ACT_SUBSCRIBE, "GET, HEAD, OPTIONS", srv__poll},
    {"/pub/", 1, SRV_ACT_PUBLISH, "POST, OPTIONS", srv__pub},
};

/* 1 if method m is in a list like "GET, HEAD" (methods are case-sensitive). */
static int srv__allowed(struct pw_str m, const char *allow)
{
    while (*allow) {
        size_t n = strcspn(allow, ",");
        if (m.len == n && memcmp(m.p, allow, n) == 0)
            return 1;
        allow += n;
        allow += strspn(allow, ", ");
    }
    return 0;
}

static const struct srv__route *srv__find(struct pw_str path, const char **ch, size_t *chlen)
{
    for (size_t i = 0; i < sizeof srv__routes / sizeof *srv__routes; i++) {
        const struct srv__route *r = &srv__routes[i];
        if (r->channel ? srv__prefix(path, r->path, ch, chlen) : pw_str_eq(path, r->path))
            return r;
    }
    return NULL;
}

/* OPTIONS * (RFC 9110 §9.3.7) asks about the server as a whole: 200 with
 * Allow, every method some endpoint takes (from srv__routes), and no body,
 * as Apache answers it.  No preflight fields: a browser never sends "*"
 * (fetch's targets are origin-form), so there is no cross-origin request
 * to allow; the Access-Control-Allow-Origin of every answer is there. */
static void srv__options_server(struct srv_conn *c)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "OPTIONS"};
    char allow[96] = "Allow: ";
    size_t n = strlen(allow);
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        struct pw_str ms = {methods[m], strlen(methods[m])};
        size_t i = 0, nr = sizeof srv__routes / sizeof *srv__routes;
        while (i < nr && !srv__allowed(ms, srv__routes[i].allow))
            i++;
        int w = i < nr ? snprintf(allow + n, sizeof allow - n, "%s%s", n > 7 ? ", " : "", methods[m]) : 0;
        if (w > 0 && (size_t)w < sizeof allow - n - 2)
            n += (size_t)w; /* (room for the CRLF is kept: the four fit) */
    }
    snprintf(allow + n, sizeof allow - n, "\r\n");
    srv_http_response(c, 200, NULL, allow, "", 0);
}

static void srv__route(struct srv_conn *c, const struct pw_http_req *req)
{
    const char *ch = NULL;
    size_t chlen = 0;
    struct srv_deny no;
    c->head_only = pw_str_eq(req->method, "HEAD");
    if (srv_auth_origin(c, req, &no))
        return srv__refuse(c, &no); /* on every path: a page of another site gets nothing */
    if (req->target.len == 1 && req->target.p[0] == '*')
        return srv__options_server(c); /* the parser takes "*" with OPTIONS only */
    const struct srv__route *r = srv__find(req->path, &ch, &chlen);
    if (!r) {
        srv_http_error(c, 404, "no such endpoint: try /ws/CHANNEL, /sse/CHANNEL, /poll/CHANNEL, "
                               "/pub/CHANNEL, /healthz, /metrics",
                       NULL);
        return;
    }
    srv__handler *fn = r->fn;
    const char *allow = r->allow;
    enum srv_act act = (enum srv_act)r->act;
    if (r->channel) {
        if (!pw_channel_valid(ch, chlen)) {
            srv_http_error(c, 400, pw_strerror(PW_ENET_CHANNEL), pw_errrule(PW_ENET_CHANNEL));
            return;
        }
        if (pw_str_eq(req->method, "OPTIONS"))
            return srv__preflight(c);
        /* a client that asks for an event stream (EventSource) gets one on
         * any channel URL, unless it asks for a WebSocket upgrade */
        const struct pw_str *acc = pw_http_header_get(req->headers, req->nheaders, "Accept", NULL);
        const struct pw_str *up = pw_http_header_get(req->headers, req->nheaders, "Upgrade", NULL);
        if (acc && pw_http_list_has(*acc, "text/event-stream") && !(fn == srv__upgrade && up)) {
            fn = srv__stream;
            allow = SRV_SSE_ALLOW;
            act = SRV_ACT_SUBSCRIBE;
        }
    }
    if (!srv__allowed(req->method, allow))
        return srv__method_not_allowed(c, allow);
    if (srv_auth_channel(c, req, act, ch, chlen, &no))
        return srv__refuse(c, &no);
    fn(c, req, ch, chlen);
}

static int srv__keepalive(const struct pw_http_req *req)
{
    const struct pw_str *conn = pw_http_header_get(req->headers, req->nheaders, "Connection", NULL);
    if (req->minor == 0)
        return conn && pw_http_list_has(*conn, "keep-alive");
    return !(conn && pw_http_list_has(*conn, "close"));
}

static size_t srv__http_input(struct srv_conn *c, uint8_t *p, size_t n)
{
    struct srv *s = c->srv;
    if (c->u.h.pub)
        return srv__body_input(c, p, n);
    struct pw_http_req req;
    int r = pw_http_parse_request((const char *)p, n, &req, &s->lim);
    if (r == PW_EAGAIN)
        return 0;
    s->m_requests++;
    if (r < 0) {
        s->m_proto_errors++;
        int st = r == PW_EHTTP_HEAD_TOOBIG || r == PW_EHTTP_TOO_MANY_HEADERS ? 431 : 400;
        srv_log(s, c, "error", st, 0, "%s (%s)", pw_strerror(r), pw_errrule(r));
        srv_http_error(c, st, pw_strerror(r), pw_errrule(r));
        return n;
    }
    c->keepalive = srv__keepalive(&req);
    if ((req.content_length > 0 || req.chunked) && !pw_str_eq(req.method, "POST"))
        c->keepalive = 0; /* we will not read that body: read as the next
                             request, a chunked one desyncs a proxy in front */
    char target[SRV_LOG_TARGET_MAX];
    if (s->o->verbose)
        srv_log(s, c, "wire", 0, 0, "< %.*s %s HTTP/1.%d (%zu headers)", (int)req.method.len, req.method.p,
                srv_auth_target(req.target, target, sizeof target), req.minor, req.nheaders);
    s->cur_req = &req;
    struct srv_deny no;
    if (srv_auth_request(c, &req, &no))
        srv__refuse(c, &no); /* behind a trusted proxy: this client is over a limit */
    else
        srv__route(c, &req);
    s->cur_req = NULL;
    /* RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" waits
     * for a 100 before its body (curl for a second, for bodies over 1 MiB);
     * the head was accepted, so ask for the body unless it is already here */
    const struct pw_str *exp = pw_http_header_get(req.headers, req.nheaders, "Expect", NULL);
    if (c->ops == &srv_http_ops && !c->close_after && c->u.h.pub && c->u.h.pub->body_need > 0 && (size_t)r == n && req.minor >= 1 && exp &&
        pw_str_ieq(*exp, "100-continue"))
        srv_out(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return (size_t)r;
}

/* ---- the http transport: a connection between requests, or reading one ---- */

/* Accepted: a request head must come within --handshake-timeout; a
 * connection past --max-conns gets 503 instead, one over a per-address
 * limit 429 (srv_auth.c). */
static void srv__http_open(struct srv_conn *c)
{
    struct srv *s = c->srv;
    c->t_deadline = srv_in(s, s->o->handshake_timeout);
    struct srv_deny no;
    s->unread = 1;
    if (srv_conns_total(s) > s->o->max_conns) {
        s->m_rejected_conns++;
        srv_http_error(c, 503, "too many connections (--max-conns)", NULL);
    } else if (srv_auth_admit(c, &no))
        srv__refuse(c, &no);
    s->unread = 0;
}

static void srv__http_deadline(struct srv_conn *c)
{
    struct srv *s = c->srv;
    s->m_timeouts++;
    if (c->u.h.pub)
        srv_log(s, c, "timeout", 0, 0, "no more of the request body for %gs (--handshake-timeout)",
                s->o->handshake_timeout);
    else
        srv_log(s, c, "timeout", 0, 0, "no complete request within %gs (--handshake-timeout)",
                s->o->handshake_timeout);
    srv_close(c, "handshake timeout");
}

static void srv__http_shutdown(struct srv_conn *c)
{
    srv_close(c, "shutting down");
}

/* No subscription, so never slow; no ticks, no --idle-timeout (the
 * handshake timeout is its deadline). */
const struct srv_ops srv_http_ops = {
    .name = "http",
    .slot = SRV_SLOT_HTTP,
    .input = srv__http_input,
    .open = srv__http_open,
    .deadline = srv__http_deadline,
    .shutdown = srv__http_shutdown,
    .free = srv__http_free,
};
