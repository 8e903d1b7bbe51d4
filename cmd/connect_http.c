/* connect_http.c — the SSE and long-polling side of `connect`, over libcurl
 * (src/client/client_http.c) on the same loop as everything else.
 *
 * SSE follows the WHATWG processing model as Chromium implements it: only a
 * 200 with a text/event-stream Content-Type (charset, if any, UTF-8) opens a
 * stream; 204 ends it for good (exit 0), every other answer fails it for
 * good (exit 6) — except that --reconnect retries 5xx and 429, a deliberate
 * difference.  A reconnection goes to the URL the last stream came from
 * (after redirects) and carries the last event ID string as Last-Event-ID
 * unless that string is empty. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_http.h"
#include "connect.h"
#include "opt.h"
#include "proto/pwmsg.h"
#include "proto/sse.h"
#include "proto/ws_frame.h"

#define ERR_BODY_MAX 65536

enum { M_NONE, M_STREAM, M_BODY, M_ERRBODY, M_NOTHING };

static struct pw_sse_parser sse;
static int sse_inited, mode, sse_error, id_changed;
static char *sse_url;          /* where the last stream came from (after redirects) */
static struct pw_buf lei_hdr;  /* "Last-Event-ID: ..." */
static struct pw_buf body;
static char etag[256], last_mod[128];
static char hdrbuf[3][1200];
static const char *hdrs[PWC_MAX_LIST + 8];
static char urlbuf[8400];

static void http_start(void);

static void retry_cb(uv_timer_t *t)
{
    (void)t;
    http_start();
}

static void schedule(double base_ms, int immediate)
{
    if (immediate) {
        uv_timer_start(&A.t_retry, retry_cb, 0, 0);
        return;
    }
    double ms;
    if (A.retry_ms > 0) {
        /* the server's retry: is the delay; backoff only on repeated failures */
        ms = A.retry_ms;
        for (long i = 1; i < A.attempts && ms < 30000; i++)
            ms *= 2;
        uint8_t r;
        pw_rand_bytes(&r, 1);
        ms += ms * 0.25 * (r / 255.0);
        if (ms > 1e12) /* a retry: of centuries would overflow the timer */
            ms = 1e12;
    } else {
        ms = pwc_backoff_ms(A.attempts, base_ms);
    }
    pwc_info("reconnecting in %.1f s%s%s%s", ms / 1000, A.last_id[0] ? " (resuming after '" : "",
             A.last_id, A.last_id[0] ? "')" : "");
    uv_timer_start(&A.t_retry, retry_cb, (uint64_t)ms, 0);
}

/* ---- SSE events ------------------------------------------------------------ */

static void on_event(void *ud, const struct pw_sse_event *ev)
{
    (void)ud;
    if (A.finished || A.done_receiving)
        return;
    const char *id = ev->id && ev->id[0] ? ev->id : NULL;
    if (id_changed && !id) { /* an empty id: field cleared the last event ID */
        id_changed = 0;
        pwc_clear_last_id();
    }
    if (id)
        id_changed = 0; /* pwc_message keeps it, after printing the event */
    if (strcmp(ev->event, "gap") == 0) {
        /* a gap whose data cannot be read is still a gap */
        struct pwmsg_dec d;
        struct pwmsg_gap g;
        pwmsg_dec_init(&d, NULL);
        if (pwmsg_sse_gap_decode(&d, ev->data, ev->data_len, &g)) {
            pwc_verbose("* the gap event's data: %s", d.why);
            g.after = g.first = NULL;
        }
        pwc_gap(g.after, g.first, ev->data);
        pwmsg_dec_free(&d);
        if (id)
            pwc_set_last_id(id);
        return;
    }
    pwc_message("text", id, ev->event, (const uint8_t *)ev->data, ev->data_len);
}

static void on_retry(void *ud, uint64_t ms)
{
    (void)ud;
    if (ms == PW_SSE_RETRY_DEFAULT) { /* an empty retry: (Chromium: back to its default) */
        A.retry_ms = 0;
        pwc_verbose("* retry: default (our backoff from 0.5 s)");
        return;
    }
    A.retry_ms = (double)ms;
    pwc_verbose("* retry: %llu ms", (unsigned long long)ms);
}

/* The last event ID string changed.  Kept as the resume id once the event
 * that carries it is printed, or at once when no event follows (`id: 7` and
 * an empty line with no data). */
static void on_last_id(void *ud, const char *id)
{
    (void)ud;
    (void)id;
    if (!A.finished && !A.done_receiving)
        id_changed = 1;
}

/* after each piece of the stream: an id change no event carried */
static void sync_last_id(void)
{
    if (!id_changed || A.finished || A.done_receiving)
        return;
    id_changed = 0;
    const char *id = pw_sse_parser_last_id(&sse);
    if (id[0])
        pwc_set_last_id(id);
    else
        pwc_clear_last_id();
}

/* ---- the response --------------------------------------------------------- */

static void on_wire(struct pw_httpc *h, int out, const char *p, size_t n)
{
    (void)h;
    if (!A.verbose || pw_quiet)
        return;
    const char *e = p + n;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
        size_t shown = l && p[l - 1] == '\r' ? l - 1 : l;
        if (shown || out)
            fprintf(stderr, "%c %.*s\n", out ? '>' : '<', (int)shown, p);
        p += l + 1;
    }
}

static int on_head(struct pw_httpc *h)
{
    A.http_status = (int)h->status;
    body.len = 0;
    if (A.poll) {
        if (h->status == 304 || h->status == 408) {
            mode = M_NOTHING;
            return 0;
        }
        mode = h->status / 100 == 2 ? M_BODY : M_ERRBODY;
        if (mode == M_BODY)
            A.attempts = 0;
        return 0;
    }
    if (h->status == 204) {
        mode = M_NOTHING;
        return -1;
    }
    if (h->status != 200) { /* 201, 206, 3xx not followed, 4xx, 5xx: fail */
        mode = M_ERRBODY;
        return 0;
    }
    sse_error = pw_sse_check_content_type(h->content_type[0] ? h->content_type : NULL);
    if (sse_error) {
        mode = M_NONE;
        return -1;
    }
    mode = M_STREAM;
    A.attempts = 0;
    const char *u = pw_httpc_url(h);
    if (u && strcmp(u, sse_url ? sse_url : A.url_str) != 0) {
        char *dup = strdup(u);
        if (dup) {
            free(sse_url);
            sse_url = dup;
            pwc_verbose("* reconnections go to %s, where the redirects led", sse_url);
        }
    }
    pwc_verbose("* event stream open");
    pw_sse_parser_reset(&sse);
    return 0;
}

static int on_data(struct pw_httpc *h, const uint8_t *p, size_t n)
{
    (void)h;
    if (A.finished || A.done_receiving)
        return -1;
    pwc_activity();
    if (mode == M_STREAM) {
        int rc = pw_sse_parser_feed(&sse, p, n);
        sync_last_id();
        if (rc < 0) {
            sse_error = rc;
            return -1;
        }
        return A.finished || A.done_receiving ? -1 : 0;
    }
    if (mode == M_ERRBODY) {
        size_t room = body.len < ERR_BODY_MAX ? ERR_BODY_MAX - body.len : 0;
        pw_buf_append(&body, p, n < room ? n : room);
        return 0;
    }
    if (mode == M_BODY) {
        if (pw_buf_append(&body, p, n)) {
            pwc_info("response larger than --max-message (%llu bytes)", (unsigned long long)A.max_message);
            sse_error = PW_EWS_TOOBIG;
            return -1;
        }
    }
    return 0;
}

static void show_refusal(struct pw_httpc *h)
{
    pwc_info("server answered %ld%s%s%s", h->status, h->content_type[0] ? ", " : "", h->content_type,
             !A.poll && h->status / 100 == 2 ? " (an event stream is a 200 answer: the stream ends for good)" : "");
    if (body.len && !pw_quiet) {
        fwrite(body.p, 1, body.len, stderr);
        if (body.p[body.len - 1] != '\n')
            fputc('\n', stderr);
    }
}

/* The gap of a poll answer: what the body says, else what we asked after
 * and the first message that came. */
static void poll_gap(struct pwmsg_dec *d, const struct pwmsg_poll *p)
{
    struct pwmsg_item first = {0};
    if (!p->g.first && p->count)
        pwmsg_poll_at(d, p, 0, &first);
    char raw[600];
    snprintf(raw, sizeof raw, "%.*s", (int)(body.len < 500 ? body.len : 500), (const char *)body.p);
    pwc_gap(p->g.after ? p->g.after : A.last_id[0] ? A.last_id : NULL,
            p->g.first ? p->g.first : first.id, raw);
}

/* A pushwire poll answer (pwmsg.h): 1 when the body was one (its messages
 * delivered, or the run ended for a broken one), 0 for another server's
 * body. */
static int poll_pushwire(void)
{
    struct pwmsg_limits lim = {A.max_message, 0, 0};
    struct pwmsg_dec d;
    struct pwmsg_poll p;
    pwmsg_dec_init(&d, &lim);
    int rc = pwmsg_poll_decode(&d, body.p ? body.p : (const uint8_t *)"", body.len, &p);
    if (rc == PW_EPWMSG_JSON || rc == PW_EPWMSG_OBJECT || rc == PW_EPWMSG_MESSAGES) {
        pwmsg_dec_free(&d);
        return 0;
    }
    if (rc) {
        pwc_info("the poll answer breaks %s: %s", pw_errrule(rc)[0] ? pw_errrule(rc) : "a limit", d.why);
        pwmsg_dec_free(&d);
        pwc_finish(pwc_exit_for(rc));
        return 1;
    }
    if (p.gap)
        poll_gap(&d, &p);
    for (size_t i = 0; i < p.count && !A.finished && !A.done_receiving; i++) {
        struct pwmsg_item it;
        if (pwmsg_poll_at(&d, &p, i, &it) == 0)
            pwc_message(it.binary ? "binary" : "text", it.id, it.event, it.data, it.len);
    }
    if (p.cursor && !A.finished)
        pwc_set_last_id(p.cursor);
    pwmsg_dec_free(&d);
    return 1;
}

static int retryable_status(long s) { return s >= 500 || s == 429; }

static void on_done(struct pw_httpc *h, int err)
{
    if (A.http == h)
        A.http = NULL;
    long status = h->status;
    if (h->etag[0])
        snprintf(etag, sizeof etag, "%s", h->etag);
    if (h->last_modified[0])
        snprintf(last_mod, sizeof last_mod, "%s", h->last_modified);
    if (A.finished) {
        pw_httpc_free(h);
        return;
    }
    if (sse_error && mode == M_NONE) { /* the Content-Type fails the connection */
        int e = sse_error;
        sse_error = 0;
        pwc_info("server answered %ld with '%s': %s; the stream ends for good", status,
                 h->content_type[0] ? h->content_type : "no Content-Type", pw_strerror(e));
        pw_httpc_free(h);
        pwc_finish(PW_EXIT_REJECTED);
        return;
    }
    if (sse_error) {
        int e = sse_error;
        sse_error = 0;
        pw_httpc_free(h);
        if (e == PW_EWS_TOOBIG) {
            pwc_finish(PW_EXIT_FAIL);
            return;
        }
        if (e == PW_ESSE_EVENT_TOOBIG || e == PW_ESSE_LINE_TOOBIG) { /* our limit, as for WebSocket */
            pwc_info("an event larger than --max-message (%llu bytes) arrived; the stream ends",
                     (unsigned long long)A.max_message);
            pwc_finish(PW_EXIT_FAIL);
            return;
        }
        pwc_info("event stream broke %s: %s", pw_errrule(e), pw_strerror(e));
        pwc_finish(pwc_exit_for(e));
        return;
    }
    if (A.done_receiving) {
        pw_httpc_free(h);
        pwc_finish(A.exit_code);
        return;
    }
    if (err && err != PW_ECL_ABNORMAL) {
        pwc_info("%s", h->detail);
        pw_httpc_free(h);
        if (err != PW_ECL_TLS_VERIFY && err != PW_ECL_TIMEOUT && pwc_may_retry()) {
            schedule(500, 0);
            return;
        }
        pwc_finish(pwc_exit_for(err));
        return;
    }
    if (mode == M_ERRBODY) {
        show_refusal(h);
        pw_httpc_free(h);
        if (retryable_status(status) && pwc_may_retry()) {
            schedule(500, 0);
            return;
        }
        pwc_finish(PW_EXIT_REJECTED);
        return;
    }
    if (A.poll) {
        if (mode == M_BODY && !err) {
            if (!poll_pushwire()) {
                /* another server: the body is one message; ETag/Last-Modified resume */
                const char *id = etag[0] ? etag : last_mod[0] ? last_mod : NULL;
                pwc_message("text", id, NULL, body.p ? body.p : (const uint8_t *)"", body.len);
            }
        }
        pw_httpc_free(h);
        if (A.finished || A.done_receiving) {
            if (!A.finished)
                pwc_finish(A.exit_code);
            return;
        }
        if (err) { /* dropped mid-answer */
            pwc_info("%s", h->detail[0] ? h->detail : "connection dropped");
            if (pwc_may_retry()) {
                schedule(500, 0);
                return;
            }
            pwc_finish(PW_EXIT_ABNORMAL);
            return;
        }
        schedule(0, 1); /* the next poll at once */
        return;
    }
    /* SSE */
    if (mode == M_NOTHING) { /* 204: the server says stop, for good */
        pwc_verbose("* 204 No Content: the stream ends for good");
        pw_httpc_free(h);
        pwc_finish(PW_EXIT_OK);
        return;
    }
    if (mode == M_NONE) { /* no answer at all: a network error, which EventSource retries */
        pwc_info("%s", h->detail[0] ? h->detail : "the server closed the connection without an answer");
        pw_httpc_free(h);
        if (pwc_may_retry()) {
            schedule(500, 0);
            return;
        }
        pwc_finish(PW_EXIT_ABNORMAL);
        return;
    }
    pw_sse_parser_end(&sse);
    pwc_verbose("* event stream ended%s", err ? " abnormally" : "");
    pw_httpc_free(h);
    if (pwc_may_retry()) {
        schedule(500, 0);
        return;
    }
    if (err) {
        pwc_info("%s", "the event stream was cut");
        pwc_finish(PW_EXIT_ABNORMAL);
        return;
    }
    pwc_finish(A.exit_code);
}

/* URL with cursor=ID for pushwire polling (replacing one there) */
static const char *poll_url(void)
{
    if (!A.last_id[0] || (etag[0] || last_mod[0]))
        return A.url_str;
    const char *u = A.url_str;
    const char *q = strchr(u, '?');
    size_t k = (size_t)snprintf(urlbuf, sizeof urlbuf, "%.*s", (int)(q ? (size_t)(q - u) : strlen(u)), u);
    char sep = '?';
    if (q) {
        const char *p = q + 1;
        while (*p && k < sizeof urlbuf - 8) {
            size_t l = strcspn(p, "&#");
            if (l && !(l >= 7 && strncmp(p, "cursor=", 7) == 0)) {
                k += (size_t)snprintf(urlbuf + k, sizeof urlbuf - k, "%c%.*s", sep, (int)l, p);
                sep = '&';
            }
            p += l;
            if (*p != '&')
                break;
            p++;
        }
    }
    k += (size_t)snprintf(urlbuf + k, sizeof urlbuf - k, "%ccursor=", sep);
    for (const char *p = A.last_id; *p && k + 4 < sizeof urlbuf; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || strchr("-._~", c))
            urlbuf[k++] = (char)c;
        else
            k += (size_t)snprintf(urlbuf + k, sizeof urlbuf - k, "%%%02X", c);
    }
    urlbuf[k] = 0;
    return urlbuf;
}

static void http_start(void)
{
    if (A.finished)
        return;
    if (!sse_inited) {
        static const struct pw_sse_callbacks cb = {on_event, on_retry, NULL, on_last_id};
        /* one limit: the line limit follows the data limit */
        pw_sse_parser_init(&sse, &cb, NULL, 0, A.max_message);
        /* --last-event-id / --cursor-file: the last event ID string to begin with */
        if (pw_sse_parser_set_last_id(&sse, A.last_id)) {
            pwc_info("out of memory");
            pwc_finish(PW_EXIT_FAIL);
            return;
        }
        pw_buf_init(&body, A.max_message);
        pw_buf_init(&lei_hdr, 0);
        sse_inited = 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < A.nheaders; i++)
        hdrs[n++] = A.headers[i];
    if (A.origin) {
        snprintf(hdrbuf[0], sizeof hdrbuf[0], "Origin: %s", A.origin);
        hdrs[n++] = hdrbuf[0];
    }
    const char *url = A.url_str;
    if (A.poll) {
        url = poll_url();
        if (etag[0]) {
            snprintf(hdrbuf[1], sizeof hdrbuf[1], "If-None-Match: %s", etag);
            hdrs[n++] = hdrbuf[1];
        }
        if (last_mod[0]) {
            snprintf(hdrbuf[2], sizeof hdrbuf[2], "If-Modified-Since: %s", last_mod);
            hdrs[n++] = hdrbuf[2];
        }
    } else {
        hdrs[n++] = "Accept: text/event-stream";
        hdrs[n++] = "Cache-Control: no-cache";
        /* the last event ID string, whole; none when it is empty, as a
         * browser does (an `id:` with no value empties it) */
        const char *lid = pw_sse_parser_last_id(&sse);
        lei_hdr.len = 0;
        if (lid[0] && pw_buf_printf(&lei_hdr, "Last-Event-ID: %s", lid) == 0 && pw_buf_putc(&lei_hdr, 0) == 0)
            hdrs[n++] = (const char *)lei_hdr.p;
        if (sse_url)
            url = sse_url;
    }
    struct pw_httpc_opts o = {url, hdrs, n, A.proxy_str, A.no_proxy, A.cacert, A.insecure, NULL, 0};
    static const struct pw_httpc_cb cb = {on_head, on_data, on_done, on_wire};
    mode = M_NONE;
    A.http = pw_httpc_new(A.loop, &o, &cb, NULL);
    if (!A.http) {
        pwc_info("cannot start an HTTP request (out of memory)");
        pwc_finish(PW_EXIT_FAIL);
    }
}

void pwc_http_start(void) { http_start(); }

void pwc_http_done(void)
{
    /* --count/--until reached or a signal: nothing to close politely over
     * HTTP; pwc_finish drops the request (deferred, safe in its callbacks) */
    pwc_finish(A.exit_code);
}

void pwc_http_cleanup(void)
{
    if (sse_inited) {
        pw_sse_parser_free(&sse);
        pw_buf_free(&body);
        pw_buf_free(&lei_hdr);
        sse_inited = 0;
    }
    free(sse_url);
    sse_url = NULL;
}
