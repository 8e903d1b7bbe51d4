/* client_http.h — one HTTP GET (or a POST) through libcurl's multi interface, driven
 * by the caller's libuv loop (CURLMOPT_SOCKETFUNCTION → uv_poll,
 * CURLMOPT_TIMERFUNCTION → uv_timer), streaming the body to a callback.
 * Used for SSE and long polling.  Never prints.
 *
 * Life: pw_httpc_new → on_head → on_data… → on_done exactly once →
 * pw_httpc_free (deferred: safe inside any callback).
 */
#ifndef PW_CLIENT_HTTP_H
#define PW_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct pw_httpc;

struct pw_httpc_opts {
    const char *url;
    const char *const *headers;  /* "Name: value" */
    size_t nheaders;
    const char *proxy;           /* NULL: curl reads the environment */
    int no_proxy;                /* ignore the environment */
    const char *cacert;
    int insecure;
    /* a POST of these bytes (copied) instead of a GET when body is set */
    const void *body;
    size_t body_len;
};

struct pw_httpc_cb {
    /* the response head is complete (final response, not 1xx); return 0 to
     * read the body, -1 to stop (on_done follows with err 0) */
    int (*on_head)(struct pw_httpc *h);
    /* body bytes; return 0 to go on, -1 to stop (on_done follows, err 0) */
    int (*on_data)(struct pw_httpc *h, const uint8_t *p, size_t n);
    /* 0: the response ended (or was stopped); else PW_ECL_* and h->detail */
    void (*on_done)(struct pw_httpc *h, int err);
    /* wire view (may be NULL): header lines sent (out 1) and received */
    void (*on_wire)(struct pw_httpc *h, int out, const char *text, size_t n);
};

struct pw_httpc {
    /* public, read-only */
    long status;
    char content_type[128];
    char etag[256];
    char last_modified[128];
    char detail[512];
    void *ud;
    /* private */
    uv_loop_t *loop;
    struct pw_httpc_cb cb;
    void *multi, *easy, *slist;
    uv_timer_t timer, reaper;
    int head_seen, stopped, done, freed, closing;
    char errbuf[256];
};

struct pw_httpc *pw_httpc_new(uv_loop_t *loop, const struct pw_httpc_opts *o,
                              const struct pw_httpc_cb *cb, void *ud);
void pw_httpc_free(struct pw_httpc *h);

#endif
