/* connect_sse.c — the Server-Sent Events transport of `connect`.
 *
 * It follows the WHATWG processing model as Chromium implements it: only a
 * 200 with a text/event-stream Content-Type (charset, if any, UTF-8) opens a
 * stream; 204 ends it for good (exit 0), every other answer fails it for
 * good (exit 6) — except that --reconnect retries 5xx and 429, a deliberate
 * difference.  A reconnection goes to the URL the last stream came from
 * (after redirects) and carries the last event ID string as Last-Event-ID
 * unless that string is empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connect_http.h"
#include "opt.h"
#include "proto/pwmsg.h"
#include "proto/sse.h"

struct sse {
    struct pwc_http x;       /* first: the shared HTTP part */
    struct pw_sse_parser p;
    int id_changed;          /* the last event ID string changed, not yet kept */
    char *url;               /* where the last stream came from (after redirects) */
    struct pw_buf lei;       /* "Last-Event-ID: ..." */
};

static struct sse *S(const struct pwc *c) { return c->tp_state; }

/* ---- events ---------------------------------------------------------------- */

static void on_event(void *ud, const struct pw_sse_event *ev)
{
    struct sse *s = ud;
    struct pwc *c = s->x.c;
    if (c->finished || c->done_receiving)
        return;
    const char *id = ev->id && ev->id[0] ? ev->id : NULL;
    if (s->id_changed && !id) { /* an empty id: field cleared the last event ID */
        s->id_changed = 0;
        pwc_clear_last_id(c, 1);
    }
    if (id)
        s->id_changed = 0; /* pwc_message keeps it, after printing the event */
    /* a server's gap has no id: field; a message published with ?event=gap
     * has one, and is a message */
    if (strcmp(ev->event, "gap") == 0 && !ev->own_id) {
        /* a gap whose data cannot be read is still a gap */
        struct pwmsg_dec d;
        struct pwmsg_gap g;
        pwmsg_dec_init(&d, NULL);
        if (pwmsg_sse_gap_decode(&d, ev->data, ev->data_len, &g)) {
            pwc_verbose(c, "* the gap event's data: %s", d.why);
            g.after = g.first = NULL;
        }
        pwc_gap(c, g.after, g.first, ev->data);
        pwmsg_dec_free(&d);
        if (id)
            pwc_set_last_id(c, id);
        return;
    }
    pwc_message(c, 0, id, ev->event, (const uint8_t *)ev->data, ev->data_len);
}

static void on_retry(void *ud, uint64_t ms)
{
    struct pwc *c = ((struct sse *)ud)->x.c;
    if (ms == PW_SSE_RETRY_DEFAULT) { /* an empty retry: (Chromium: back to its default) */
        c->retry_ms = 0;
        pwc_verbose(c, "* retry: default (our backoff from 0.5 s)");
        return;
    }
    c->retry_ms = (double)ms;
    pwc_verbose(c, "* retry: %llu ms", (unsigned long long)ms);
}

/* The last event ID string changed.  Kept as the resume id once the event
 * that carries it is printed, or at once when no event follows (`id: 7` and
 * an empty line with no data). */
static void on_last_id(void *ud, const char *id)
{
    struct sse *s = ud;
    (void)id;
    if (!s->x.c->finished && !s->x.c->done_receiving)
        s->id_changed = 1;
}

/* after each piece of the stream: an id change no event carried */
static void sync_last_id(struct sse *s)
{
    struct pwc *c = s->x.c;
    if (!s->id_changed || c->finished || c->done_receiving)
        return;
    s->id_changed = 0;
    const char *id = pw_sse_parser_last_id(&s->p);
    if (id[0])
        pwc_set_last_id(c, id);
    else
        pwc_clear_last_id(c, 1);
}

/* ---- the answer ------------------------------------------------------------ */

static int sse_head(struct pwc_http *x, struct pw_httpc *h)
{
    struct sse *s = (struct sse *)x;
    if (h->status == 204) {
        x->mode = PWC_HTTP_NOTHING;
        return -1;
    }
    if (h->status != 200) { /* 201, 206, 3xx not followed, 4xx, 5xx: fail */
        x->mode = PWC_HTTP_REFUSED;
        return 0;
    }
    x->err = pw_sse_check_content_type(h->content_type[0] ? h->content_type : NULL);
    if (x->err) {
        x->mode = PWC_HTTP_NONE;
        return -1;
    }
    x->mode = PWC_HTTP_OK;
    const char *u = pw_httpc_url(h);
    if (u && strcmp(u, s->url ? s->url : x->c->o.url_str) != 0) {
        char *dup = strdup(u);
        if (dup) {
            free(s->url);
            s->url = dup;
            pwc_verbose(x->c, "* reconnections go to %s, where the redirects led", s->url);
        }
    }
    pwc_verbose(x->c, "* event stream open");
    pw_sse_parser_reset(&s->p);
    pwc_opened(x->c);
    return 0;
}

static int sse_data(struct pwc_http *x, const uint8_t *p, size_t n)
{
    struct sse *s = (struct sse *)x;
    int rc = pw_sse_parser_feed(&s->p, p, n);
    sync_last_id(s);
    if (rc < 0) {
        x->err = rc;
        return -1;
    }
    return x->c->finished || x->c->done_receiving ? -1 : 0;
}

static void sse_fail(struct pwc_http *x, struct pw_httpc *h, int e)
{
    struct pwc *c = x->c;
    if (x->mode == PWC_HTTP_NONE) { /* the Content-Type fails the connection */
        pwc_info(c, "server answered %ld with '%s': %s; the stream ends for good", h->status,
                 h->content_type[0] ? h->content_type : "no Content-Type", pw_strerror(e));
        pwc_finish(c, PW_EXIT_REJECTED);
    } else if (e == PW_ESSE_EVENT_TOOBIG || e == PW_ESSE_LINE_TOOBIG) { /* our limit, as for WebSocket */
        pwc_info(c, "an event larger than --max-message (%llu bytes) arrived; the stream ends",
                 (unsigned long long)c->o.max_message);
        pwc_finish(c, PW_EXIT_FAIL);
    } else {
        pwc_info(c, "event stream broke %s: %s", pw_errrule(e), pw_strerror(e));
        pwc_finish(c, pwc_exit_for(e));
    }
}

static void sse_done(struct pwc_http *x, struct pw_httpc *h, int err)
{
    struct sse *s = (struct sse *)x;
    struct pwc *c = x->c;
    if (x->mode == PWC_HTTP_NOTHING) { /* 204: the server says stop, for good */
        pwc_verbose(c, "* 204 No Content: the stream ends for good");
        pw_httpc_free(h);
        pwc_finish(c, PW_EXIT_OK);
        return;
    }
    if (x->mode == PWC_HTTP_NONE) { /* no answer at all: a network error, which EventSource retries */
        pwc_info(c, "%s", h->detail[0] ? h->detail : "the server closed the connection without an answer");
        pw_httpc_free(h);
        if (!pwc_retry(c, PW_ECL_ABNORMAL))
            pwc_finish(c, PW_EXIT_ABNORMAL);
        return;
    }
    pw_sse_parser_end(&s->p);
    pwc_verbose(c, "* event stream ended%s", err ? " abnormally" : "");
    pw_httpc_free(h);
    if (pwc_retry(c, err))
        return;
    if (err)
        pwc_info(c, "%s", "the event stream was cut");
    pwc_finish(c, err ? PW_EXIT_ABNORMAL : c->exit_code);
}

static const struct pwc_http_kind sse_kind = {sse_head, sse_data, sse_fail, sse_done};

/* ---- the table ------------------------------------------------------------------ */

static int sse_init(struct pwc *c)
{
    struct sse *s = calloc(1, sizeof *s);
    if (!s)
        return PW_ENOMEM;
    pwc_http_init(&s->x, c, &sse_kind, 0);
    static const struct pw_sse_callbacks cb = {on_event, on_retry, NULL, on_last_id};
    /* one limit: the line limit follows the data limit */
    pw_sse_parser_init(&s->p, &cb, s, 0, c->o.max_message);
    pw_buf_init(&s->lei, 0);
    c->tp_state = s;
    /* --last-event-id / --cursor-file: the last event ID string to begin with */
    return pw_sse_parser_set_last_id(&s->p, pwc_last_id(c)) ? PW_ENOMEM : 0;
}

static void sse_start(struct pwc *c)
{
    struct sse *s = S(c);
    if (c->finished)
        return;
    const char *extra[3] = {"Accept: text/event-stream", "Cache-Control: no-cache", NULL};
    size_t n = 2;
    /* the last event ID string, whole; none when it is empty, as a browser
     * does (an `id:` with no value empties it) */
    const char *lid = pw_sse_parser_last_id(&s->p);
    s->lei.len = 0;
    if (lid[0] && pw_buf_printf(&s->lei, "Last-Event-ID: %s", lid) == 0 && pw_buf_putc(&s->lei, 0) == 0)
        extra[n++] = (const char *)s->lei.p;
    pwc_http_get(&s->x, s->url ? s->url : c->o.url_str, extra, n);
}

static void sse_drop(struct pwc *c)
{
    if (S(c))
        pwc_http_drop(&S(c)->x);
}

static void sse_free(struct pwc *c)
{
    struct sse *s = S(c);
    if (!s)
        return;
    pw_sse_parser_free(&s->p);
    pw_buf_free(&s->lei);
    pwc_http_free(&s->x);
    free(s->url);
    free(s);
    c->tp_state = NULL;
}

const struct pwc_transport pwc_sse = {
    "SSE", sse_init, sse_start, pwc_http_done, sse_drop, sse_free, NULL, NULL, NULL,
};
