/* connect_http.c — the part of `connect`'s SSE and long-polling transports
 * they share (connect_http.h): the request, the wire view, refusals,
 * network errors. */
#include <stdio.h>
#include <string.h>

#include "connect_http.h"
#include "opt.h"

void pwc_http_init(struct pwc_http *x, struct pwc *c, const struct pwc_http_kind *k,
                   size_t body_max)
{
    x->c = c;
    x->k = k;
    pw_buf_init(&x->body, body_max);
    pw_buf_init(&x->origin, 0);
    uv_timer_init(c->loop, &x->t_open);
    x->t_open.data = x;
}

void pwc_http_free(struct pwc_http *x)
{
    pw_buf_free(&x->body);
    pw_buf_free(&x->origin);
}

static void pwc_http_cancel(struct pwc_http *x);

void pwc_http_drop(struct pwc_http *x)
{
    if (x->t_open.loop && !uv_is_closing((uv_handle_t *)&x->t_open))
        uv_close((uv_handle_t *)&x->t_open, NULL);
    pwc_http_cancel(x);
}

/* the request under way goes, the transport stays */
static void pwc_http_cancel(struct pwc_http *x)
{
    if (x->h) {
        pw_httpc_free(x->h); /* deferred: safe inside its callbacks */
        x->h = NULL;
    }
}

void pwc_http_done(struct pwc *c, unsigned code, const char *reason)
{
    (void)code;
    (void)reason;
    pwc_finish(c, c->exit_code);
}

/* ---- the answer ------------------------------------------------------------ */

static void on_wire(struct pw_httpc *h, int out, const char *p, size_t n)
{
    struct pwc_http *x = h->ud;
    if (!x->c->o.verbose || pw_quiet)
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
    struct pwc_http *x = h->ud;
    uv_timer_stop(&x->t_open);
    x->c->res.http_status = (int)h->status;
    x->body.len = 0;
    return x->k->head(x, h);
}

static int on_data(struct pw_httpc *h, const uint8_t *p, size_t n)
{
    struct pwc_http *x = h->ud;
    struct pwc *c = x->c;
    if (c->finished || c->done_receiving)
        return -1;
    pwc_activity(c);
    if (x->mode == PWC_HTTP_REFUSED) {
        size_t have = x->body.len, room = have < PWC_HTTP_ERR_BODY_MAX ? PWC_HTTP_ERR_BODY_MAX - have : 0;
        pw_buf_append(&x->body, p, n < room ? n : room);
        return 0;
    }
    return x->mode == PWC_HTTP_OK ? x->k->data(x, p, n) : 0;
}

static void show_refusal(const struct pwc_http *x, const struct pw_httpc *h)
{
    const struct pwc *c = x->c;
    pwc_info(c, "server answered %ld%s%s%s", h->status, h->content_type[0] ? ", " : "",
             h->content_type,
             !c->o.poll && h->status / 100 == 2
                 ? " (an event stream is a 200 answer: the stream ends for good)"
                 : "");
    if (x->body.len && !pw_quiet) {
        fwrite(x->body.p, 1, x->body.len, stderr);
        if (x->body.p[x->body.len - 1] != '\n')
            fputc('\n', stderr);
    }
}

static void on_done(struct pw_httpc *h, int err)
{
    struct pwc_http *x = h->ud;
    struct pwc *c = x->c;
    uv_timer_stop(&x->t_open);
    if (x->h == h)
        x->h = NULL;
    if (c->finished) {
        pw_httpc_free(h);
        return;
    }
    if (x->err) {
        int e = x->err;
        x->err = 0;
        x->k->fail(x, h, e);
        pw_httpc_free(h);
        return;
    }
    if (c->done_receiving) {
        pw_httpc_free(h);
        pwc_finish(c, c->exit_code);
        return;
    }
    if (err && err != PW_ECL_ABNORMAL) { /* never answered: the network */
        pwc_info(c, "%s", h->detail);
        pwc_hint(c, err);
        pw_httpc_free(h);
        if (!pwc_retry(c, err))
            pwc_finish(c, pwc_exit_for(err));
        return;
    }
    if (x->mode == PWC_HTTP_REFUSED) {
        show_refusal(x, h);
        pw_httpc_free(h);
        if (!pwc_retry(c, PW_ECL_REJECTED))
            pwc_finish(c, PW_EXIT_REJECTED);
        return;
    }
    x->k->done(x, h, err); /* frees h */
}

/* ---- the request ------------------------------------------------------------- */

/* --connect-timeout ran out before the answer's head: give up on this
 * attempt, saying where it was.  A long poll whose request is out is being
 * held, which is its way of waiting for a message: not bounded here
 * (--idle bounds it). */
static void open_timeout_cb(uv_timer_t *t)
{
    struct pwc_http *x = t->data;
    struct pwc *c = x->c;
    if (!x->h || c->finished)
        return;
    char phase[700];
    int ph = pw_httpc_phase_text(x->h, c->o.unix_socket, c->o.has_proxy ? &c->o.proxy : NULL, phase,
                                 sizeof phase);
    if (ph == PW_HTTPC_ANSWERED || (ph == PW_HTTPC_WAIT && c->o.poll))
        return;
    pwc_connect_timed_out(c, phase);
    pwc_http_cancel(x);
    if (!pwc_retry(c, PW_ECL_TIMEOUT))
        pwc_finish(c, PW_EXIT_TIMEOUT);
}

void pwc_http_get(struct pwc_http *x, const char *url, const char *const *extra, size_t nextra)
{
    struct pwc *c = x->c;
    size_t n = 0;
    for (size_t i = 0; i < c->o.nheaders; i++)
        x->hdrs[n++] = c->o.headers[i];
    if (c->o.origin) {
        x->origin.len = 0;
        if (pw_buf_printf(&x->origin, "Origin: %s", c->o.origin) == 0 && pw_buf_putc(&x->origin, 0) == 0)
            x->hdrs[n++] = (const char *)x->origin.p;
    }
    for (size_t i = 0; i < nextra && n < sizeof x->hdrs / sizeof x->hdrs[0]; i++)
        x->hdrs[n++] = extra[i];
    struct pw_httpc_opts o = {
        .url = url,
        .headers = x->hdrs,
        .nheaders = n,
        .proxy = c->o.proxy_str,
        .no_proxy = c->o.no_proxy,
        .cacert = c->o.cacert,
        .insecure = c->o.insecure,
        .cert = c->o.cert,
        .key = c->o.key,
        .unix_socket = c->o.unix_socket,
    };
    static const struct pw_httpc_cb cb = {on_head, on_data, on_done, on_wire};
    x->mode = PWC_HTTP_NONE;
    x->err = 0;
    x->h = pw_httpc_new(c->loop, &o, &cb, x);
    if (!x->h) {
        pwc_info(c, "cannot start an HTTP request (out of memory)");
        pwc_finish(c, PW_EXIT_FAIL);
    } else if (c->o.connect_timeout_s > 0) {
        uv_timer_start(&x->t_open, open_timeout_cb, pwc_ms(c->o.connect_timeout_s), 0);
    }
}
