/* connect_poll.c — the long-polling transport of `connect` (--poll).
 *
 * A pushwire server answers with a poll body (proto/pwmsg.h): its messages
 * are printed and its cursor is the next request's ?cursor=.  Another
 * server's body is one message, resumed with ETag / Last-Modified
 * (If-None-Match / If-Modified-Since), as nchan does it.  The next request
 * goes out as soon as an answer is in; after an answer with nothing in it
 * (204, 304, 408), not before POLL_EMPTY_MS from the last request's start,
 * so a server that answers "nothing" at once is not asked in a busy loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect_http.h"
#include "opt.h"
#include "proto/pwmsg.h"

#define GAP_RAW 500 /* bytes of a gap answer kept for --json */
#define POLL_EMPTY_MS 1000 /* at most one request a second that gets nothing */

struct poll {
    struct pwc_http x;        /* first: the shared HTTP part */
    char etag[256], last_mod[128];
    struct pw_buf url;        /* the URL with cursor=ID */
    struct pw_buf hdr[2];     /* If-None-Match, If-Modified-Since */
    int answered;             /* an answer came: no more asking where the channel is */
    uint64_t sent_ms;         /* when the last request started (uv_now) */
};

static struct poll *P(const struct pwc *c) { return c->tp_state; }

/* ---- the answer ------------------------------------------------------------ */

static int poll_head(struct pwc_http *x, struct pw_httpc *h)
{
    struct poll *s = (struct poll *)x;
    if (h->etag[0])
        snprintf(s->etag, sizeof s->etag, "%s", h->etag);
    if (h->last_modified[0])
        snprintf(s->last_mod, sizeof s->last_mod, "%s", h->last_modified);
    /* nothing new, ask again: 304 (the ETag still holds), 408 (the server
     * held the request as long as it would) and 204 (no content: a long
     * poll that timed out, for many servers; it is no empty message) */
    if (h->status == 204 || h->status == 304 || h->status == 408) {
        x->mode = PWC_HTTP_NOTHING;
        return 0;
    }
    x->mode = h->status / 100 == 2 ? PWC_HTTP_OK : PWC_HTTP_REFUSED;
    if (x->mode == PWC_HTTP_OK)
        pwc_opened(x->c);
    return 0;
}

/* --max-message bounds each message, not a pushwire answer holding many
 * (the server sends about 1 MiB at a time, more for one large message): the
 * body may hold a message of max_message bytes escaped in JSON (at most 6
 * bytes per byte, \u00XX) and the rest of a batch.  Another server's body is
 * one message, held to max_message itself. */
#define POLL_BATCH_SLACK (8u << 20)

static size_t poll_body_max(uint64_t max_message)
{
    if (max_message > (SIZE_MAX - POLL_BATCH_SLACK) / 6)
        return SIZE_MAX;
    return (size_t)max_message * 6 + POLL_BATCH_SLACK;
}

/* a body that cannot be a pushwire answer (not a JSON object) */
static int poll_plain_body(const struct pw_buf *b)
{
    size_t i = 0;
    while (i < b->len && (b->p[i] == ' ' || b->p[i] == '\t' || b->p[i] == '\r' || b->p[i] == '\n'))
        i++;
    return i < b->len && b->p[i] != '{';
}

static int poll_too_big(struct pwc_http *x)
{
    pwc_info(x->c, "response larger than --max-message (%llu bytes)",
             (unsigned long long)x->c->o.max_message);
    x->err = PW_ETOOBIG;
    return -1;
}

static int poll_data(struct pwc_http *x, const uint8_t *p, size_t n)
{
    if (pw_buf_append(&x->body, p, n) != 0)
        return poll_too_big(x);
    if (x->body.len > x->c->o.max_message && poll_plain_body(&x->body))
        return poll_too_big(x);
    return 0;
}

static void poll_fail(struct pwc_http *x, struct pw_httpc *h, int e)
{
    (void)h;
    pwc_finish(x->c, pwc_exit_for(e)); /* PW_ETOOBIG (ours): exit 1 */
}

/* The gap of a poll answer: what the body says, else what we asked after
 * and the first message that came. */
static void poll_gap(struct pwc_http *x, struct pwmsg_dec *d, const struct pwmsg_poll *p)
{
    struct pwc *c = x->c;
    struct pwmsg_item first = {0};
    if (!p->g.first && p->count)
        pwmsg_poll_at(d, p, 0, &first);
    char raw[GAP_RAW + 1];
    snprintf(raw, sizeof raw, "%.*s", (int)(x->body.len < GAP_RAW ? x->body.len : GAP_RAW),
             (const char *)x->body.p);
    const char *after = p->g.after ? p->g.after : pwc_last_id(c)[0] ? pwc_last_id(c) : NULL;
    pwc_gap(c, after, p->g.first ? p->g.first : first.id, raw);
}

/* A pushwire poll answer: 1 when the body was one (its messages delivered,
 * or the run ended for a broken one), 0 for another server's body. */
static int poll_pushwire(struct pwc_http *x)
{
    struct pwc *c = x->c;
    struct pwmsg_limits lim = {poll_body_max(c->o.max_message), 0, 0};
    struct pwmsg_dec d;
    struct pwmsg_poll p;
    pwmsg_dec_init(&d, &lim);
    int rc = pwmsg_poll_decode(&d, x->body.p ? x->body.p : (const uint8_t *)"", x->body.len, &p);
    if (rc == PW_EPWMSG_JSON || rc == PW_EPWMSG_OBJECT || rc == PW_EPWMSG_MESSAGES) {
        pwmsg_dec_free(&d);
        return 0;
    }
    if (rc) {
        pwc_info(c, "the poll answer breaks %s: %s", pw_errrule(rc)[0] ? pw_errrule(rc) : "a limit", d.why);
        pwmsg_dec_free(&d);
        pwc_finish(c, pwc_exit_for(rc));
        return 1;
    }
    if (p.gap)
        poll_gap(x, &d, &p);
    for (size_t i = 0; i < p.count && !c->finished && !c->done_receiving; i++) {
        struct pwmsg_item it;
        if (pwmsg_poll_at(&d, &p, i, &it) != 0)
            continue;
        if (it.len > c->o.max_message) {
            pwc_info(c, "a message larger than --max-message (%llu bytes) arrived",
                     (unsigned long long)c->o.max_message);
            pwc_finish(c, PW_EXIT_FAIL);
            break;
        }
        pwc_message(c, it.binary, it.id, it.event, it.data, it.len);
    }
    if (p.cursor && !c->finished)
        pwc_set_last_id(c, p.cursor);
    pwmsg_dec_free(&d);
    return 1;
}

static void poll_done(struct pwc_http *x, struct pw_httpc *h, int err)
{
    struct poll *s = (struct poll *)x;
    struct pwc *c = x->c;
    if (x->mode == PWC_HTTP_OK && !err)
        s->answered = 1;
    if (x->mode == PWC_HTTP_OK && !err && !poll_pushwire(x)) {
        if (x->body.len > c->o.max_message) { /* one message, too large */
            pw_httpc_free(h);
            poll_too_big(x);
            pwc_finish(c, PW_EXIT_FAIL);
            return;
        }
        /* another server: the body is one message; ETag/Last-Modified resume */
        const char *id = s->etag[0] ? s->etag : s->last_mod[0] ? s->last_mod : NULL;
        pwc_message(c, 0, id, NULL, x->body.p ? x->body.p : (const uint8_t *)"", x->body.len);
    }
    char detail[sizeof h->detail];
    snprintf(detail, sizeof detail, "%s", h->detail[0] ? h->detail : "connection dropped");
    pw_httpc_free(h);
    if (c->finished || c->done_receiving) {
        pwc_finish(c, c->exit_code);
        return;
    }
    if (err) { /* dropped mid-answer */
        pwc_info(c, "%s", detail);
        if (!pwc_retry(c, PW_ECL_ABNORMAL))
            pwc_finish(c, PW_EXIT_ABNORMAL);
        return;
    }
    if (x->mode == PWC_HTTP_NOTHING) {
        uint64_t held = uv_now(c->loop) - s->sent_ms;
        pwc_next_in(c, held < POLL_EMPTY_MS ? POLL_EMPTY_MS - held : 0);
        return;
    }
    pwc_next_now(c);
}

static const struct pwc_http_kind poll_kind = {poll_head, poll_data, poll_fail, poll_done};

/* ---- the request --------------------------------------------------------------- */

/* 1 if the URL's query has NAME= */
static int url_has(const char *url, const char *name)
{
    size_t nl = strlen(name);
    const char *q = strchr(url, '?');
    for (const char *p = q ? q + 1 : ""; *p && *p != '#';) {
        size_t l = strcspn(p, "&#");
        if (l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')
            return 1;
        p += l + (p[l] == '&');
    }
    return 0;
}

/* The URL with cursor=ID (replacing one there), whole; the URL as given
 * before there is an id, or when the server resumes by ETag/Last-Modified.
 * With --reconnect or --cursor-file and no id yet, the first request has
 * timeout=0: a pushwire server answers at once with the channel's position
 * as the cursor, and the next request waits after it.  (A request with no
 * cursor waits for the next message: cut before it came, it would leave no
 * cursor to resume after, and what was published until the next request
 * would be lost silently.) */
static const char *poll_url(struct poll *s)
{
    const struct pwc *c = s->x.c;
    const char *u = c->o.url_str, *id = pwc_last_id(c);
    if (!id[0] && !s->answered && !s->etag[0] && !s->last_mod[0] &&
        (c->o.reconnect || c->o.cursor_file) && !url_has(u, "cursor"))
        return pwc_url_with(&s->url, u, "timeout", "0") ? u : (const char *)s->url.p;
    if (!id[0] || s->etag[0] || s->last_mod[0])
        return u;
    return pwc_url_with(&s->url, u, "cursor", id) ? u : (const char *)s->url.p;
}

static void poll_start(struct pwc *c)
{
    struct poll *s = P(c);
    if (c->finished)
        return;
    const char *extra[2];
    size_t n = 0;
    if (s->etag[0]) {
        s->hdr[0].len = 0;
        if (pw_buf_printf(&s->hdr[0], "If-None-Match: %s", s->etag) == 0 && pw_buf_putc(&s->hdr[0], 0) == 0)
            extra[n++] = (const char *)s->hdr[0].p;
    }
    if (s->last_mod[0]) {
        s->hdr[1].len = 0;
        if (pw_buf_printf(&s->hdr[1], "If-Modified-Since: %s", s->last_mod) == 0 &&
            pw_buf_putc(&s->hdr[1], 0) == 0)
            extra[n++] = (const char *)s->hdr[1].p;
    }
    s->sent_ms = uv_now(c->loop);
    pwc_http_get(&s->x, poll_url(s), extra, n);
}

/* ---- the table ------------------------------------------------------------------- */

static int poll_init(struct pwc *c)
{
    struct poll *s = calloc(1, sizeof *s);
    if (!s)
        return PW_ENOMEM;
    pwc_http_init(&s->x, c, &poll_kind, poll_body_max(c->o.max_message));
    pw_buf_init(&s->url, 0);
    pw_buf_init(&s->hdr[0], 0);
    pw_buf_init(&s->hdr[1], 0);
    c->tp_state = s;
    return 0;
}

static void poll_drop(struct pwc *c)
{
    if (P(c))
        pwc_http_drop(&P(c)->x);
}

static void poll_free(struct pwc *c)
{
    struct poll *s = P(c);
    if (!s)
        return;
    pwc_http_free(&s->x);
    pw_buf_free(&s->url);
    pw_buf_free(&s->hdr[0]);
    pw_buf_free(&s->hdr[1]);
    free(s);
    c->tp_state = NULL;
}

const struct pwc_transport pwc_poll = {
    "long polling", poll_init, poll_start, pwc_http_done, poll_drop, poll_free, NULL, NULL, NULL,
};
