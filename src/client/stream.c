/* stream.c — a client byte stream on libuv: resolve, connect (trying every
 * address), optional proxy tunnel (HTTP CONNECT, SOCKS5 with user/password),
 * optional TLS through OpenSSL memory BIOs, batched writes. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client.h"
#include "proto/http1.h"
#include "proto/base64.h"

#define PW_STREAM_MAX_OUT (64u << 20) /* queued bytes before writes fail */

static void pw__st_fail(struct pw_stream *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pw__st_flush(struct pw_stream *s);
static void pw__st_prepare_cb(uv_prepare_t *h);

static void pw__st_fail(struct pw_stream *s, int err, const char *fmt, ...)
{
    if (s->ended)
        return;
    s->ended = 1;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->detail, sizeof s->detail, fmt, ap);
        va_end(ap);
    }
    if (s->tcp_init && !s->closing)
        uv_read_stop((uv_stream_t *)&s->tcp);
    s->cb.on_end(s, err);
}

/* ---- random bytes, batched ------------------------------------------- */

int pw_rand_bytes(uint8_t *out, size_t n)
{
    static uint8_t pool[4096];
    static size_t left;
    while (n) {
        if (!left) {
            if (RAND_bytes(pool, sizeof pool) != 1)
                return PW_EIO;
            left = sizeof pool;
        }
        size_t k = n < left ? n : left;
        memcpy(out, pool + sizeof pool - left, k);
        memset(pool + sizeof pool - left, 0, k); /* never hand out a key twice */
        left -= k;
        out += k;
        n -= k;
    }
    return 0;
}

/* ---- writes ----------------------------------------------------------- */

static void pw__st_write_cb(uv_write_t *req, int status)
{
    struct pw_stream *s = req->data;
    s->writing = 0;
    s->wbuf.len = 0;
    if (status < 0) {
        if (status != UV_ECANCELED)
            pw__st_fail(s, PW_ECL_IO, "write: %s", uv_strerror(status));
        return;
    }
    if (s->out.len)
        pw__st_flush(s);
    else if (s->cb.on_drain && !s->ended)
        s->cb.on_drain(s);
}

static void pw__st_flush(struct pw_stream *s)
{
    if (s->writing || !s->out.len || s->closing || !s->tcp_init)
        return;
    struct pw_buf t = s->wbuf;
    s->wbuf = s->out;
    s->out = t;
    s->out.len = 0;
    uv_buf_t b = uv_buf_init((char *)s->wbuf.p, (unsigned)s->wbuf.len);
    s->bytes_out += s->wbuf.len;
    /* try the write right away; only what the kernel did not take waits */
    int n = uv_try_write((uv_stream_t *)&s->tcp, &b, 1);
    if (n == (int)b.len) {
        s->wbuf.len = 0;
        if (s->cb.on_drain && !s->ended)
            s->cb.on_drain(s);
        return;
    }
    if (n > 0) {
        b.base += n;
        b.len -= (size_t)n;
    }
    s->writing = 1;
    s->wreq.data = s;
    int rc = uv_write(&s->wreq, (uv_stream_t *)&s->tcp, &b, 1, pw__st_write_cb);
    if (rc < 0) {
        s->writing = 0;
        pw__st_fail(s, PW_ECL_IO, "write: %s", uv_strerror(rc));
    }
}

/* TLS output went straight into s->out: make sure it is flushed */
static void pw__st_kick(struct pw_stream *s)
{
    if (s->out.len && !s->flushing && s->flush_init && !s->closing) {
        s->flushing = 1;
        uv_prepare_start(&s->flush, pw__st_prepare_cb);
    }
}

static void pw__st_prepare_cb(uv_prepare_t *h)
{
    struct pw_stream *s = h->data;
    uv_prepare_stop(h);
    s->flushing = 0;
    if (s->deferred_err) {
        int e = s->deferred_err;
        s->deferred_err = 0;
        char d[sizeof s->detail];
        memcpy(d, s->detail, sizeof d);
        pw__st_fail(s, e, "%s", d);
        return;
    }
    if (s->tls.ssl && s->plain.len && !s->ended) {
        /* one TLS record per batch, not per frame */
        if (pw_tls_write(&s->tls, s->plain.p, s->plain.len)) {
            char why[200];
            pw__st_fail(s, PW_ECL_TLS, "TLS write failed: %s", pw_tls_why(why, sizeof why));
            return;
        }
        s->plain.len = 0;
    }
    pw__st_flush(s);
}

/* queue raw wire bytes (already encrypted if TLS) */
static int pw__st_queue(struct pw_stream *s, const void *p, size_t n)
{
    int rc = pw_buf_append(&s->out, p, n);
    if (rc)
        return rc;
    if (!s->flushing && s->flush_init && !s->closing) {
        s->flushing = 1;
        uv_prepare_start(&s->flush, pw__st_prepare_cb);
    }
    return 0;
}

int pw_stream_write(struct pw_stream *s, const void *p, size_t n)
{
    if (s->state != PW_ST_OPEN || s->ended)
        return PW_ESTATE;
    if (s->out.len + s->plain.len + n > PW_STREAM_MAX_OUT)
        return PW_ETOOBIG;
    if (!s->tls.ssl)
        return pw__st_queue(s, p, n);
    int rc = pw_buf_append(&s->plain, p, n);
    if (rc)
        return rc;
    if (!s->flushing && s->flush_init && !s->closing) {
        s->flushing = 1;
        uv_prepare_start(&s->flush, pw__st_prepare_cb);
    }
    return 0;
}

size_t pw_stream_pending(const struct pw_stream *s)
{
    return s->out.len + s->wbuf.len + s->plain.len;
}

/* ---- TLS ---------------------------------------------------------------- */

static void pw__st_opened(struct pw_stream *s)
{
    s->state = PW_ST_OPEN;
    s->cb.on_open(s);
}

static void pw__tls_step(struct pw_stream *s)
{
    int rc = pw_tls_handshake(&s->tls);
    pw__st_kick(s);
    if (rc == 1) {
        pw__st_opened(s);
        return;
    }
    if (rc == 0)
        return;
    long v = SSL_get_verify_result(s->tls.ssl);
    if (v != X509_V_OK) {
        pw__st_fail(s, PW_ECL_TLS_VERIFY, "certificate verification failed for '%s': %s",
                    s->url.host, X509_verify_cert_error_string(v));
        return;
    }
    char buf[256];
    pw__st_fail(s, PW_ECL_TLS, "TLS handshake with '%s' failed: %s", s->url.host,
                pw_tls_why(buf, sizeof buf));
}

/* an encrypted key would make OpenSSL ask on the terminal: refuse instead */
static int pw__tls_no_passphrase(char *buf, int size, int rw, void *ud)
{
    (void)buf;
    (void)size;
    (void)rw;
    (void)ud;
    return -1;
}

/* no --cert, and the server asks for one: note it (a server that then
 * hangs up is explained), and go on without */
static int pw__tls_cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
    (void)x509;
    (void)pkey;
    struct pw_stream *s = SSL_get_app_data(ssl);
    if (s)
        s->cert_asked = 1;
    return 0;
}

/* mutual TLS: the certificate chain and key we present, when asked */
static int pw__tls_client_cert(struct pw_stream *s, SSL_CTX *ctx)
{
    if (!s->o.cert) {
        SSL_CTX_set_client_cert_cb(ctx, pw__tls_cert_asked);
        return 0;
    }
    const char *key = s->o.key ? s->o.key : s->o.cert;
    SSL_CTX_set_default_passwd_cb(ctx, pw__tls_no_passphrase);
    ERR_clear_error();
    const char *what = "certificate";
    if (SSL_CTX_use_certificate_chain_file(ctx, s->o.cert) == 1) {
        what = "key";
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1) {
            what = "key for the certificate";
            if (SSL_CTX_check_private_key(ctx) == 1)
                return 0;
        }
    }
    char buf[256];
    snprintf(s->detail, sizeof s->detail, "cannot use the client %s '%s': %s", what,
             strcmp(what, "certificate") == 0 ? s->o.cert : key, pw_tls_why(buf, sizeof buf));
    return PW_ECL_CLIENT_CERT;
}

/* Whom we trust: --insecure nobody checked, --cacert, or the system store. */
static int pw__tls_verify(struct pw_stream *s, SSL_CTX *ctx)
{
    if (s->o.insecure) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (!s->o.cacert) {
        SSL_CTX_set_default_verify_paths(ctx);
        return 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, s->o.cacert, NULL) != 1) {
        char buf[256];
        snprintf(s->detail, sizeof s->detail, "cannot load CA file '%s': %s", s->o.cacert,
                 pw_tls_why(buf, sizeof buf));
        return PW_ECL_TLS;
    }
    return 0;
}

/* The client's context: verification and our certificate as asked; the
 * rest is pw_tls_ctx_harden. */
static int pw__tls_ctx(struct pw_stream *s)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return PW_ENOMEM;
    s->ssl_ctx = ctx;
    pw_tls_ctx_harden(ctx);
    int rc = pw__tls_verify(s, ctx);
    return rc ? rc : pw__tls_client_cert(s, ctx);
}

static int pw__tls_start(struct pw_stream *s)
{
    int rc = pw__tls_ctx(s);
    if (rc)
        return rc;
    if (pw_tls_init(&s->tls, s->ssl_ctx, 0, &s->out))
        return PW_ENOMEM;
    SSL *ssl = s->tls.ssl;
    SSL_set_app_data(ssl, s); /* for pw__tls_cert_asked */
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, s->url.host, ip) == 1 || inet_pton(AF_INET6, s->url.host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(ssl, s->url.host);
    if (!s->o.insecure) {
        X509_VERIFY_PARAM *pm = SSL_get0_param(ssl);
        if (is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(pm, s->url.host);
        else
            X509_VERIFY_PARAM_set1_host(pm, s->url.host, 0);
    }
    if (s->o.alpn) {
        unsigned char a[64];
        size_t l = strlen(s->o.alpn);
        if (l < sizeof a - 1) {
            a[0] = (unsigned char)l;
            memcpy(a + 1, s->o.alpn, l);
            SSL_set_alpn_protos(ssl, a, (unsigned)l + 1);
        }
    }
    s->state = PW_ST_TLS;
    pw__tls_step(s);
    return 0;
}

static void pw__st_plain(struct pw_stream *s, uint8_t *p, size_t n);

/* Ciphertext from the server: lent to the pump (it is used up before this
 * returns), plaintext to on_data. */
static void pw__tls_read(struct pw_stream *s, const uint8_t *p, size_t n)
{
    pw_tls_input(&s->tls, p, n);
    if (s->state == PW_ST_TLS) {
        pw__tls_step(s);
        if (s->state != PW_ST_OPEN || s->ended)
            return;
    }
    for (;;) {
        ssize_t r = pw_tls_read(&s->tls, s->tbuf, sizeof s->tbuf);
        pw__st_kick(s);
        if (r > 0) {
            s->plain_in += (uint64_t)r;
            s->cb.on_data(s, s->tbuf, (size_t)r);
            if (s->ended || s->closing)
                return;
            continue;
        }
        if (r == 0)
            return;
        if (r == PW_TLS_EOF) {
            pw__st_fail(s, 0, "TLS close_notify");
            return;
        }
        char buf[256];
        pw__st_fail(s, PW_ECL_TLS, "TLS error: %s", pw_tls_why(buf, sizeof buf));
        return;
    }
}

/* ---- proxies ------------------------------------------------------------ */

static int pw__proxy_send_connect(struct pw_stream *s)
{
    char hp[300];
    pw_url_hostport(&s->url, hp, sizeof hp, 1);
    char req[1024];
    int n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", hp, hp);
    if (s->proxy.user[0]) {
        char up[260], b64[360];
        int ul = snprintf(up, sizeof up, "%s:%s", s->proxy.user, s->proxy.pass);
        pw_base64((const uint8_t *)up, (size_t)ul, b64, sizeof b64);
        n += snprintf(req + n, sizeof req - (size_t)n, "Proxy-Authorization: Basic %s\r\n", b64);
    }
    n += snprintf(req + n, sizeof req - (size_t)n, "\r\n");
    return pw__st_queue(s, req, (size_t)n);
}

static int pw__socks_greet(struct pw_stream *s)
{
    uint8_t g[4] = {5, 1, 0, 0};
    size_t n = 3;
    if (s->proxy.user[0]) {
        g[1] = 2;
        g[2] = 0;
        g[3] = 2;
        n = 4;
    }
    return pw__st_queue(s, g, n);
}

static int pw__socks_request(struct pw_stream *s)
{
    uint8_t r[300];
    size_t n = 0;
    r[n++] = 5;
    r[n++] = 1;
    r[n++] = 0;
    unsigned char ip[16];
    if (inet_pton(AF_INET, s->url.host, ip) == 1) {
        r[n++] = 1;
        memcpy(r + n, ip, 4);
        n += 4;
    } else if (inet_pton(AF_INET6, s->url.host, ip) == 1) {
        r[n++] = 4;
        memcpy(r + n, ip, 16);
        n += 16;
    } else {
        size_t hl = strlen(s->url.host);
        if (hl > 255)
            return PW_EINVAL;
        r[n++] = 3;
        r[n++] = (uint8_t)hl;
        memcpy(r + n, s->url.host, hl);
        n += hl;
    }
    int port = atoi(s->url.port);
    r[n++] = (uint8_t)(port >> 8);
    r[n++] = (uint8_t)port;
    return pw__st_queue(s, r, n);
}

static const char *pw__socks_rep(int rep)
{
    static const char *m[] = {"succeeded", "general SOCKS server failure",
                              "connection not allowed by ruleset", "network unreachable",
                              "host unreachable", "connection refused", "TTL expired",
                              "command not supported", "address type not supported"};
    return rep >= 0 && rep <= 8 ? m[rep] : "unknown error";
}

static void pw__st_tunnel_up(struct pw_stream *s, uint8_t *rest, size_t n)
{
    s->phase.len = 0;
    if (s->url.tls) {
        int rc = pw__tls_start(s);
        if (rc) {
            pw__st_fail(s, rc, NULL);
            return;
        }
        if (n && !s->ended)
            pw__tls_read(s, rest, n);
        return;
    }
    pw__st_opened(s);
    if (n && !s->ended && !s->closing)
        s->cb.on_data(s, rest, n);
}

/* bytes from the proxy while the tunnel is being set up */
static void pw__proxy_read(struct pw_stream *s, const uint8_t *p, size_t n)
{
    if (pw_buf_append(&s->phase, p, n)) {
        pw__st_fail(s, PW_ECL_PROXY, "proxy reply too long");
        return;
    }
    uint8_t *b = s->phase.p;
    size_t len = s->phase.len;
    if (strcmp(s->proxy.scheme, "http") == 0) {
        struct pw_http_resp resp;
        struct pw_http_limits lim = {16384, 100};
        int hl = pw_http_parse_response((const char *)b, len, &resp, &lim);
        if (hl == PW_EAGAIN)
            return;
        if (hl < 0) {
            pw__st_fail(s, PW_ECL_PROXY, "proxy '%s' sent a malformed reply: %s",
                        s->proxy.host, pw_strerror(hl));
            return;
        }
        if (resp.status / 100 != 2) {
            pw__st_fail(s, PW_ECL_PROXY, "proxy '%s' refused CONNECT: %d %.*s", s->proxy.host,
                        resp.status, (int)resp.reason.len, resp.reason.p);
            return;
        }
        uint8_t tmp[65536];
        size_t rest = len - (size_t)hl;
        memcpy(tmp, b + hl, rest);
        pw__st_tunnel_up(s, tmp, rest);
        return;
    }
    /* SOCKS5: step 0 method reply, 1 auth reply, 2 connect reply */
    for (;;) {
        int val;
        int used = pw_socks5_reply(s->proxy_step, b, len, &val);
        if (used == 0)
            return;
        if (used < 0) {
            if (s->proxy_step == 0)
                pw__st_fail(s, PW_ECL_PROXY, "SOCKS5 proxy '%s' accepts none of our auth methods%s",
                            s->proxy.host, s->proxy.user[0] ? "" : " (it may need a user and password)");
            else if (s->proxy_step == 1)
                pw__st_fail(s, PW_ECL_PROXY, "SOCKS5 proxy '%s' rejected the user and password",
                            s->proxy.host);
            else if (val > 0)
                pw__st_fail(s, PW_ECL_PROXY, "SOCKS5 proxy '%s' could not connect: %s",
                            s->proxy.host, pw__socks_rep(val));
            else
                pw__st_fail(s, PW_ECL_PROXY, "SOCKS5 proxy '%s' sent a bad reply", s->proxy.host);
            return;
        }
        if (s->proxy_step == 0) {
            pw_buf_consume(&s->phase, (size_t)used);
            if (val == 2) {
                if (!s->proxy.user[0]) {
                    pw__st_fail(s, PW_ECL_PROXY, "SOCKS5 proxy '%s' wants a user and password",
                                s->proxy.host);
                    return;
                }
                uint8_t a[520];
                size_t ul = strlen(s->proxy.user), pl = strlen(s->proxy.pass), k = 0;
                a[k++] = 1;
                a[k++] = (uint8_t)ul;
                memcpy(a + k, s->proxy.user, ul);
                k += ul;
                a[k++] = (uint8_t)pl;
                memcpy(a + k, s->proxy.pass, pl);
                k += pl;
                pw__st_queue(s, a, k);
                s->proxy_step = 1;
            } else {
                pw__socks_request(s);
                s->proxy_step = 2;
            }
        } else if (s->proxy_step == 1) {
            pw_buf_consume(&s->phase, (size_t)used);
            pw__socks_request(s);
            s->proxy_step = 2;
        } else {
            uint8_t tmp[65536];
            size_t rest = len - (size_t)used;
            memcpy(tmp, b + used, rest);
            pw__st_tunnel_up(s, tmp, rest);
            return;
        }
        b = s->phase.p;
        len = s->phase.len;
    }
}

/* ---- reading ------------------------------------------------------------ */

static void pw__st_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    struct pw_stream *s = h->data;
    *b = uv_buf_init((char *)s->rbuf, sizeof s->rbuf);
}

static void pw__st_plain(struct pw_stream *s, uint8_t *p, size_t n)
{
    if (s->state == PW_ST_PROXY)
        pw__proxy_read(s, p, n);
    else if (s->tls.ssl)
        pw__tls_read(s, p, n);
    else
        s->cb.on_data(s, p, n);
}

static void pw__st_read_cb(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
    struct pw_stream *s = h->data;
    if (s->ended || s->closing)
        return;
    if (n > 0) {
        s->bytes_in += (uint64_t)n;
        pw__st_plain(s, (uint8_t *)b->base, (size_t)n);
        return;
    }
    if (n == 0)
        return;
    if (s->cert_asked && !s->plain_in && (n == UV_EOF || n == UV_ECONNRESET)) {
        /* with TLS 1.3 the server judges our (missing) certificate after
         * the handshake: its refusal is a hang-up before any answer */
        pw__st_fail(s, PW_ECL_CLIENT_CERT, "'%s' asked for a client certificate and closed the "
                    "connection without an answer (give one with --cert)", s->url.host);
        return;
    }
    if (n == UV_EOF) {
        if (s->state == PW_ST_PROXY)
            pw__st_fail(s, PW_ECL_PROXY, "proxy '%s' closed the connection", s->proxy.host);
        else if (s->state == PW_ST_TLS)
            pw__st_fail(s, PW_ECL_TLS, "server closed the connection during the TLS handshake");
        else
            pw__st_fail(s, 0, "connection closed by the server");
        return;
    }
    pw__st_fail(s, PW_ECL_IO, "read: %s", uv_strerror((int)n));
}

/* ---- connecting --------------------------------------------------------- */

static const char *pw__dest_host(struct pw_stream *s)
{
    return s->has_proxy ? s->proxy.host : s->url.host;
}

static void pw__st_try_next(struct pw_stream *s, int last_err);

static void pw__st_connect_cb(uv_connect_t *req, int status)
{
    struct pw_stream *s = req->data;
    if (s->closing)
        return;
    if (status < 0) {
        if (status == UV_ECANCELED)
            return;
        if (s->o.unix_path) {
            pw__st_fail(s, PW_ECL_CONNECT, "cannot connect to Unix socket '%s': %s", s->o.unix_path,
                        uv_strerror(status));
            return;
        }
        /* the handle must be closed before it can connect again */
        pw__st_try_next(s, status);
        return;
    }
    if (!s->o.unix_path)
        uv_tcp_nodelay(&s->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&s->tcp, pw__st_alloc, pw__st_read_cb);
    if (rc < 0) {
        pw__st_fail(s, PW_ECL_CONNECT, "read start: %s", uv_strerror(rc));
        return;
    }
    if (s->has_proxy) {
        s->state = PW_ST_PROXY;
        s->proxy_step = 0;
        rc = strcmp(s->proxy.scheme, "http") == 0 ? pw__proxy_send_connect(s) : pw__socks_greet(s);
        if (rc)
            pw__st_fail(s, rc, "proxy request failed");
        return;
    }
    if (s->url.tls) {
        rc = pw__tls_start(s);
        if (rc)
            pw__st_fail(s, rc, NULL);
        return;
    }
    pw__st_opened(s);
}

/* one handle or request of the stream is gone; the last one frees buffers */
static void pw__st_unref(struct pw_stream *s)
{
    if (--s->open_handles > 0)
        return;
    pw_buf_free(&s->out);
    pw_buf_free(&s->wbuf);
    pw_buf_free(&s->phase);
    pw_buf_free(&s->plain);
    if (s->cb.on_closed)
        s->cb.on_closed(s);
}

static void pw__st_retry_closed(uv_handle_t *h)
{
    struct pw_stream *s = h->data;
    s->tcp_init = 0;
    if (s->closing) {
        pw__st_unref(s);
        return;
    }
    s->open_handles--;
    pw__st_try_next(s, 0);
}

static void pw__st_try_next(struct pw_stream *s, int last_err)
{
    if (s->tcp_init) {
        /* close this attempt's socket first, then come back */
        s->ai_cur = s->ai_cur ? s->ai_cur->ai_next : NULL;
        if (!s->ai_cur) {
            const char *what = s->has_proxy ? "proxy " : "";
            pw__st_fail(s, PW_ECL_CONNECT, "cannot connect to %s'%s' port %s: %s", what,
                        pw__dest_host(s), s->has_proxy ? s->proxy.port : s->url.port,
                        uv_strerror(last_err));
            return;
        }
        uv_close((uv_handle_t *)&s->tcp, pw__st_retry_closed);
        return;
    }
    if (!s->ai_cur) {
        pw__st_fail(s, PW_ECL_CONNECT, "cannot connect: no address");
        return;
    }
    uv_tcp_init(s->loop, &s->tcp);
    s->tcp.data = s;
    s->tcp_init = 1;
    s->open_handles++;
    struct addrinfo *a = s->ai_cur;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (a->ai_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)a->ai_addr;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        snprintf(s->peer, sizeof s->peer, "%s:%d", ip, port);
    } else if (a->ai_family == AF_INET6) {
        struct sockaddr_in6 *in = (struct sockaddr_in6 *)a->ai_addr;
        inet_ntop(AF_INET6, &in->sin6_addr, ip, sizeof ip);
        port = ntohs(in->sin6_port);
        snprintf(s->peer, sizeof s->peer, "[%s]:%d", ip, port);
    }
    s->creq.data = s;
    int rc = uv_tcp_connect(&s->creq, &s->tcp, a->ai_addr, pw__st_connect_cb);
    if (rc < 0)
        pw__st_try_next(s, rc);
}

static void pw__st_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct pw_stream *s = req->data;
    s->gai_pending = 0;
    if (s->closing) {
        if (res)
            uv_freeaddrinfo(res);
        pw__st_unref(s);
        return;
    }
    s->open_handles--;
    if (status < 0) {
        pw__st_fail(s, PW_ECL_RESOLVE, "cannot resolve %s'%s': %s", s->has_proxy ? "proxy " : "",
                    pw__dest_host(s), uv_strerror(status));
        return;
    }
    s->ai = res;
    s->ai_cur = res;
    s->state = PW_ST_CONNECT;
    pw__st_try_next(s, 0);
}

/* --unix-socket: no name to resolve, no proxy; the result comes through
 * the connect callback, from the loop */
static void pw__st_unix_connect(struct pw_stream *s)
{
    s->state = PW_ST_CONNECT;
    snprintf(s->peer, sizeof s->peer, "%s", s->o.unix_path);
    uv_pipe_init(s->loop, &s->pipe, 0);
    s->pipe.data = s;
    s->tcp_init = 1;
    s->open_handles++;
    s->creq.data = s;
    uv_pipe_connect(&s->creq, &s->pipe, s->o.unix_path, pw__st_connect_cb);
}

int pw_stream_open(struct pw_stream *s, uv_loop_t *loop, const struct pw_stream_opts *o,
                   const struct pw_stream_cb *cb)
{
    memset(s, 0, offsetof(struct pw_stream, rbuf));
    s->loop = loop;
    s->o = *o;
    s->url = *o->url;
    s->cb = *cb;
    pw_buf_init(&s->out, 0);
    pw_buf_init(&s->wbuf, 0);
    pw_buf_init(&s->phase, 65536);
    pw_buf_init(&s->plain, 0);
    uv_prepare_init(loop, &s->flush);
    s->flush.data = s;
    s->flush_init = 1;
    s->open_handles = 1;
    s->state = PW_ST_RESOLVE;
    if (o->unix_path) {
        pw__st_unix_connect(s);
        return 0;
    }
    if (o->proxy) {
        s->proxy = *o->proxy;
        s->has_proxy = 1;
        if (strcmp(s->proxy.scheme, "http") != 0 && strncmp(s->proxy.scheme, "socks5", 6) != 0) {
            snprintf(s->detail, sizeof s->detail,
                     "proxy scheme '%s' is not supported (use http:// or socks5://)", s->proxy.scheme);
            s->deferred_err = PW_ECL_SCHEME;
        }
    }
    if (!s->deferred_err) {
        s->gai.data = s;
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_ADDRCONFIG;
        const char *h = s->has_proxy ? s->proxy.host : s->url.host;
        const char *p = s->has_proxy ? s->proxy.port : s->url.port;
        int rc = uv_getaddrinfo(loop, &s->gai, pw__st_gai_cb, h, p, &hints);
        if (rc < 0) {
            snprintf(s->detail, sizeof s->detail, "cannot resolve '%s': %s", h, uv_strerror(rc));
            s->deferred_err = PW_ECL_RESOLVE;
        } else {
            s->gai_pending = 1;
            s->open_handles++;
        }
    }
    if (s->deferred_err) { /* reported from the loop, like every failure */
        s->flushing = 1;
        uv_prepare_start(&s->flush, pw__st_prepare_cb);
    }
    return 0;
}

void pw_stream_pause(struct pw_stream *s, int paused)
{
    if (!s->tcp_init || s->closing || s->ended || s->state < PW_ST_PROXY)
        return;
    if (paused)
        uv_read_stop((uv_stream_t *)&s->tcp);
    else
        uv_read_start((uv_stream_t *)&s->tcp, pw__st_alloc, pw__st_read_cb);
}

static void pw__st_handle_closed(uv_handle_t *h)
{
    struct pw_stream *s = h->data;
    if (h == (uv_handle_t *)&s->tcp)
        s->tcp_init = 0;
    pw__st_unref(s);
}

void pw_stream_close(struct pw_stream *s)
{
    if (s->closing)
        return;
    s->closing = 1;
    s->ended = 1;

    s->state = PW_ST_DONE;
    if (s->ai) {
        uv_freeaddrinfo(s->ai);
        s->ai = s->ai_cur = NULL;
    }
    pw_tls_free(&s->tls); /* no more TLS bytes: the SSL goes now */
    if (s->ssl_ctx) {
        SSL_CTX_free(s->ssl_ctx);
        s->ssl_ctx = NULL;
    }
    /* buffers stay until the last handle is gone: a write in flight points
     * into wbuf; a pending getaddrinfo still calls back (canceled) */
    if (s->gai_pending)
        uv_cancel((uv_req_t *)&s->gai);
    if (s->flush_init) {
        uv_close((uv_handle_t *)&s->flush, pw__st_handle_closed);
        s->flush_init = 0;
    }
    if (s->tcp_init && !uv_is_closing((uv_handle_t *)&s->tcp))
        uv_close((uv_handle_t *)&s->tcp, pw__st_handle_closed);
}
