/* client_http.c — libcurl multi on a libuv loop.  See client_http.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "client.h"
#include "client_http.h"

struct pw__sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct pw_httpc *h;
};

static void pw__h_check(struct pw_httpc *h);

static int pw__map_curl(CURLcode c)
{
    switch (c) {
    case CURLE_OK:
        return 0;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return PW_ECL_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return PW_ECL_CONNECT;
#if LIBCURL_VERSION_NUM >= 0x074900
    case CURLE_PROXY:
        return PW_ECL_PROXY;
#endif
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return PW_ECL_TLS_VERIFY;
    case CURLE_SSL_CERTPROBLEM:
        return PW_ECL_CLIENT_CERT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_USE_SSL_FAILED:
        return PW_ECL_TLS;
    case CURLE_OPERATION_TIMEDOUT:
        return PW_ECL_TIMEOUT;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
        return PW_ECL_ABNORMAL;
    default:
        return PW_ECL_IO;
    }
}

static void pw__sock_closed(uv_handle_t *hd) { free(hd->data); }

static void pw__poll_cb(uv_poll_t *p, int status, int events)
{
    struct pw__sock *s = p->data;
    struct pw_httpc *h = s->h;
    if (h->freed)
        return;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    pw__h_check(h);
}

static int pw__socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)e;
    struct pw_httpc *h = userp;
    struct pw__sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            s->poll.data = s;
            uv_close((uv_handle_t *)&s->poll, pw__sock_closed);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->h = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, pw__poll_cb);
    return 0;
}

static void pw__timer_cb(uv_timer_t *t)
{
    struct pw_httpc *h = t->data;
    if (h->freed)
        return;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    pw__h_check(h);
}

static int pw__timerfn(CURLM *m, long ms, void *userp)
{
    (void)m;
    struct pw_httpc *h = userp;
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, pw__timer_cb, (uint64_t)ms, 0);
    return 0;
}

static void pw__h_done(struct pw_httpc *h, int err)
{
    if (h->done || h->freed)
        return;
    h->done = 1;
    h->cb.on_done(h, err);
}

/* No --cert, and the server asks for one: note it, so that a server that
 * then hangs up (TLS 1.3 judges the certificate after the handshake) is
 * explained.  libcurl's OpenSSL backend lets us see its SSL_CTX; with
 * another backend this is simply not set up. */
static int pw__h_ex_index = -1;

static int pw__h_cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct pw_httpc *h = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pw__h_ex_index);
    if (h)
        h->cert_asked = 1;
    return 0;
}

static CURLcode pw__h_sslctx(CURL *e, void *ctx, void *ud)
{
    (void)e;
    if (pw__h_ex_index >= 0 && SSL_CTX_set_ex_data(ctx, pw__h_ex_index, ud) == 1)
        SSL_CTX_set_client_cert_cb(ctx, pw__h_cert_asked);
    return CURLE_OK;
}

static void pw__h_check(struct pw_httpc *h)
{
    CURLMsg *m;
    int left;
    while (!h->freed && (m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode c = m->data.result;
        if (h->stopped) {
            pw__h_done(h, 0);
            continue;
        }
        int err = pw__map_curl(c);
        if (err && h->cert_asked && !h->head_seen && (err == PW_ECL_ABNORMAL || err == PW_ECL_IO)) {
            err = PW_ECL_CLIENT_CERT; /* another attempt would get the same */
            snprintf(h->detail, sizeof h->detail, "the server asked for a client certificate and "
                     "closed the connection without an answer (give one with --cert)");
        } else if (err) {
            snprintf(h->detail, sizeof h->detail, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
        }
        pw__h_done(h, err);
    }
}

static void pw__copy_value(char *out, size_t outsz, const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

/* fetch's redirect statuses: libcurl follows these, and on_head waits for
 * the response at the end of the chain */
static int pw__is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The final response's head is complete: on_head.  -1 stops the transfer. */
static int pw__final_head(struct pw_httpc *h)
{
    h->head_seen = 1;
    char *u = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_EFFECTIVE_URL, &u) == CURLE_OK && u)
        h->url = strdup(u);
    int rc = h->cb.on_head ? h->cb.on_head(h) : 0;
    /* a 3xx that fetch does not follow would be followed by libcurl */
    if (rc < 0 || (h->has_location && h->status / 100 == 3)) {
        h->stopped = 1;
        return -1;
    }
    return 0;
}

/* The end of a response head.  -1 stops the transfer. */
static int pw__head_end(struct pw_httpc *h)
{
    if (h->status < 200 || h->head_seen)
        return 0;
    if (h->has_location && pw__is_redirect(h->status))
        return 0; /* a hop: libcurl follows it */
    return pw__final_head(h);
}

static size_t pw__header_cb(char *p, size_t sz, size_t nm, void *ud)
{
    struct pw_httpc *h = ud;
    size_t n = sz * nm;
    if (h->freed)
        return 0;
    if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 1xx or redirects) */
        const char *sp = memchr(p, ' ', n);
        h->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        h->content_type[0] = h->etag[0] = h->last_modified[0] = 0;
        h->has_location = 0;
        return n;
    }
    const char *colon = memchr(p, ':', n);
    if (colon) {
        size_t nl = (size_t)(colon - p);
        const char *v = colon + 1;
        size_t vl = n - nl - 1;
        if (nl == 12 && strncasecmp(p, "Content-Type", 12) == 0)
            pw__copy_value(h->content_type, sizeof h->content_type, v, vl);
        else if (nl == 4 && strncasecmp(p, "ETag", 4) == 0)
            pw__copy_value(h->etag, sizeof h->etag, v, vl);
        else if (nl == 13 && strncasecmp(p, "Last-Modified", 13) == 0)
            pw__copy_value(h->last_modified, sizeof h->last_modified, v, vl);
        else if (nl == 8 && strncasecmp(p, "Location", 8) == 0)
            h->has_location = 1;
    }
    if ((n == 2 && p[0] == '\r') || (n == 1 && p[0] == '\n'))
        return pw__head_end(h) < 0 ? 0 : n;
    return n;
}

static size_t pw__write_cb(char *p, size_t sz, size_t nm, void *ud)
{
    struct pw_httpc *h = ud;
    size_t n = sz * nm;
    if (h->freed || h->stopped)
        return 0;
    if (!h->head_seen && pw__final_head(h) < 0)
        return 0;
    if (h->cb.on_data(h, (const uint8_t *)p, n) < 0) {
        h->stopped = 1;
        return 0;
    }
    return n;
}

static int pw__debug_cb(CURL *e, curl_infotype t, char *p, size_t n, void *ud)
{
    (void)e;
    struct pw_httpc *h = ud;
    if (h->freed || !h->cb.on_wire)
        return 0;
    if (t == CURLINFO_HEADER_OUT)
        h->cb.on_wire(h, 1, p, n);
    else if (t == CURLINFO_HEADER_IN)
        h->cb.on_wire(h, 0, p, n);
    return 0;
}

struct pw_httpc *pw_httpc_new(uv_loop_t *loop, const struct pw_httpc_opts *o,
                              const struct pw_httpc_cb *cb, void *ud)
{
    static int inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = 1;
    }
    struct pw_httpc *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->cb = *cb;
    h->ud = ud;
    h->multi = curl_multi_init();
    h->easy = curl_easy_init();
    if (!h->multi || !h->easy) {
        if (h->easy)
            curl_easy_cleanup(h->easy);
        if (h->multi)
            curl_multi_cleanup(h->multi);
        free(h);
        return NULL;
    }
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    uv_timer_init(loop, &h->reaper);
    h->reaper.data = h;
    CURL *e = h->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, pw__header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, pw__write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(e, CURLOPT_PRIVATE, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)PW_HTTPC_MAX_REDIRECTS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "pushwire");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 65536L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (o->proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, o->proxy);
    else if (o->no_proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (o->cacert)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->cacert);
    if (o->cert) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, o->key ? o->key : o->cert);
    } else {
        if (pw__h_ex_index < 0)
            pw__h_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, pw__h_sslctx);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);
    }
    if (o->unix_socket)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (o->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body);
    }
    struct curl_slist *sl = NULL;
    for (size_t i = 0; i < o->nheaders; i++)
        sl = curl_slist_append(sl, o->headers[i]);
    h->slist = sl;
    if (sl)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
    if (cb->on_wire) {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, pw__debug_cb);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, h);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, pw__socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, pw__timerfn);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_add_handle(h->multi, e);
    return h;
}

static void pw__h_closed(uv_handle_t *hd)
{
    struct pw_httpc *h = hd->data;
    if (--h->closing == 0)
        free(h);
}

static void pw__reap(uv_timer_t *t)
{
    struct pw_httpc *h = t->data;
    /* outside every curl callback now: safe to tear down */
    curl_multi_remove_handle(h->multi, h->easy);
    curl_easy_cleanup(h->easy);
    curl_multi_cleanup(h->multi);
    curl_slist_free_all(h->slist);
    free(h->url);
    h->closing = 2;
    uv_close((uv_handle_t *)&h->timer, pw__h_closed);
    uv_close((uv_handle_t *)&h->reaper, pw__h_closed);
}

const char *pw_httpc_url(const struct pw_httpc *h)
{
    return h->url;
}

int pw_httpc_phase(const struct pw_httpc *h, const char **url)
{
    char *u = NULL, *scheme = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_EFFECTIVE_URL, &u) != CURLE_OK)
        u = NULL;
    *url = u ? u : "";
    if (h->head_seen)
        return PW_HTTPC_ANSWERED;
    /* the peer's address is known once TCP is up; the request goes out
     * (pretransfer) once TLS is up too (libcurl 7.88 stamps its connect
     * time only then) */
    curl_off_t sent = 0;
    char *ip = NULL;
    if (curl_easy_getinfo(h->easy, CURLINFO_PRETRANSFER_TIME_T, &sent) == CURLE_OK && sent > 0)
        return PW_HTTPC_WAIT;
    if (curl_easy_getinfo(h->easy, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || !ip || !ip[0])
        return PW_HTTPC_CONNECT;
    if (curl_easy_getinfo(h->easy, CURLINFO_SCHEME, &scheme) == CURLE_OK && scheme &&
        strcasecmp(scheme, "https") == 0)
        return PW_HTTPC_TLS;
    return PW_HTTPC_SETUP;
}

int pw_httpc_phase_text(const struct pw_httpc *h, const char *unix_socket, const struct pw_url *proxy,
                        char *out, size_t n)
{
    const char *u = "";
    int ph = pw_httpc_phase(h, &u);
    char hop[300] = "", px[300] = "", via[320] = "";
    struct pw_url url;
    const char *why = "";
    if (unix_socket)
        snprintf(hop, sizeof hop, "the Unix socket '%s'", unix_socket);
    else if (pw_url_parse(u, &url, &why) == 0)
        snprintf(hop, sizeof hop, "'%s' port %s", url.host, url.port);
    else
        snprintf(hop, sizeof hop, "'%.250s'", u);
    if (proxy) {
        snprintf(px, sizeof px, "the proxy '%s' port %s", proxy->host, proxy->port);
        snprintf(via, sizeof via, " through %s", px);
    }
    if (ph == PW_HTTPC_ANSWERED)
        snprintf(out, n, "with the answer's head in from %s%s", hop, via);
    else if (ph == PW_HTTPC_CONNECT)
        snprintf(out, n, "connecting to %s (TCP)", px[0] ? px : hop);
    else if (ph == PW_HTTPC_TLS)
        snprintf(out, n, "in the TLS handshake with %s%s", hop, via);
    else if (ph == PW_HTTPC_SETUP && px[0])
        snprintf(out, n, "waiting for %s to open the tunnel", px);
    else
        snprintf(out, n, "waiting for the server's answer (HTTP head) from %s%s", hop, via);
    return ph;
}

void pw_httpc_free(struct pw_httpc *h)
{
    if (!h || h->freed)
        return;
    h->freed = 1;
    uv_timer_stop(&h->timer);
    uv_timer_start(&h->reaper, pw__reap, 0, 0);
}
