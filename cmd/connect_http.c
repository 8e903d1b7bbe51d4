/* connect_http.c — the SSE and long-polling side of `connect`, over libcurl
 * (src/client_http.c) on the same loop as everything else. */
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
static int sse_inited, mode, sse_error;
static struct pw_buf body;
static char etag[256], last_mod[128];
static char hdrbuf[4][1200];
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
        return;
    }
    pwc_message("text", id, ev->event, (const uint8_t *)ev->data, ev->data_len);
}

static void on_retry(void *ud, uint64_t ms)
{
    (void)ud;
    A.retry_ms = (double)ms;
    pwc_verbose("* retry: %llu ms", (unsigned long long)ms);
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

static int is_type(const char *ct, const char *want)
{
    size_t l = strlen(want);
    return strncasecmp(ct, want, l) == 0 && (ct[l] == 0 || ct[l] == ';' || ct[l] == ' ');
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
    if (h->status / 100 != 2) {
        mode = M_ERRBODY;
        return 0;
    }
    if (!is_type(h->content_type, "text/event-stream")) {
        mode = M_NONE;
        return -1;
    }
    mode = M_STREAM;
    A.attempts = 0;
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
    pwc_info("server answered %ld%s%s", h->status, h->content_type[0] ? ", " : "", h->content_type);
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
    if (sse_error) {
        int e = sse_error;
        sse_error = 0;
        pw_httpc_free(h);
        if (e == PW_EWS_TOOBIG) {
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
    if (mode == M_NONE) {
        pwc_info("server answered %ld with '%s', not text/event-stream; the stream ends for good",
                 status, h->content_type[0] ? h->content_type : "no Content-Type");
        pw_httpc_free(h);
        pwc_finish(PW_EXIT_REJECTED);
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
        static const struct pw_sse_callbacks cb = {on_event, on_retry, NULL};
        pw_sse_parser_init(&sse, &cb, NULL, 0, A.max_message);
        pw_buf_init(&body, A.max_message);
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
        const char *lid = sse_inited && pw_sse_parser_last_id(&sse)[0] ? pw_sse_parser_last_id(&sse) : A.last_id;
        if (lid[0]) {
            snprintf(hdrbuf[3], sizeof hdrbuf[3], "Last-Event-ID: %s", lid);
            hdrs[n++] = hdrbuf[3];
        }
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
        sse_inited = 0;
    }
}
