/* client_http.h — one HTTP GET (or a POST) through libcurl's multi interface, driven
 * by the caller's libuv loop (CURLMOPT_SOCKETFUNCTION → uv_poll,
 * CURLMOPT_TIMERFUNCTION → uv_timer), streaming the body to a callback.
 * Used for SSE and long polling.  Never prints.
 *
 * Life: pw_httpc_new → on_head → on_data… → on_done exactly once →
 * pw_httpc_free (deferred: safe inside any callback).
 *
 * Redirects are followed as fetch() follows them (a browser's EventSource
 * and XMLHttpRequest): 301, 302, 303, 307 and 308 with a Location, at most
 * PW_HTTPC_MAX_REDIRECTS in a row (one more is PW_ECL_IO, "too many
 * redirects"); on_head sees only the final response, and pw_httpc_url()
 * says where it came from.  Request headers go along to every hop, except
 * that libcurl drops Authorization and Cookie when a hop leaves the origin
 * (scheme, host, port), as fetch drops Authorization.  Another 3xx with a
 * Location (300, 304, …), which fetch does not follow, is a final response:
 * on_head sees it and the transfer then stops (its body is not read).
 */
#ifndef PW_CLIENT_HTTP_H
#define PW_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PW_HTTPC_MAX_REDIRECTS 20 /* fetch's limit */

struct pw_httpc;
struct pw_url;

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
    const char *cert, *key;      /* client certificate chain and key (PEM), or NULL */
    const char *unix_socket;     /* talk HTTP over this Unix socket (proxies ignored) */
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
    char *url;              /* the final response's URL (malloc'd) */
    int head_seen, stopped, done, freed, closing, has_location;
    char errbuf[256];
    int cert_asked;         /* the TLS server asked for a client certificate */
};

struct pw_httpc *pw_httpc_new(uv_loop_t *loop, const struct pw_httpc_opts *o,
                              const struct pw_httpc_cb *cb, void *ud);
void pw_httpc_free(struct pw_httpc *h);
/* The URL of the final response, after redirects (NUL-terminated, owned by
 * h, valid until pw_httpc_free); NULL before on_head. */
const char *pw_httpc_url(const struct pw_httpc *h);

/* How far the request got (for a timeout's message): connecting (name,
 * TCP), the TLS handshake (https), connected but the request not out yet
 * (a proxy's tunnel or SOCKS), the request out and its answer awaited, or
 * the final answer's head is in.  *url is the hop's URL (owned by
 * libcurl, valid until the next call on h). */
enum pw_httpc_phase {
    PW_HTTPC_CONNECT, PW_HTTPC_TLS, PW_HTTPC_SETUP, PW_HTTPC_WAIT, PW_HTTPC_ANSWERED
};
int pw_httpc_phase(const struct pw_httpc *h, const char **url);
/* The same in words, for a timeout's message (cut to n): "connecting to
 * 'HOST' port P (TCP)", "in the TLS handshake with 'HOST' port P", "waiting
 * for the proxy 'HOST' port P to open the tunnel", "waiting for the
 * server's answer (HTTP head) from 'HOST' port P"; unix_socket and proxy
 * (NULL: none) as the request was made.  Returns pw_httpc_phase's phase. */
int pw_httpc_phase_text(const struct pw_httpc *h, const char *unix_socket, const struct pw_url *proxy,
                        char *out, size_t n);

#endif
