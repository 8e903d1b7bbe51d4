/* tls.c — TLS over memory (tls.h): our BIO, the handshake / read / write
 * pump, and the settings shared by client and server contexts. */
#include "tls.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "proto/pw_err.h"

const unsigned char pw_tls_alpn_http11[9] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

/* ---- the BIO: reads from the lent bytes, writes to *t->out ---- */

static int pw__bio_write(BIO *b, const char *p, int n)
{
    struct pw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (!t->out || pw_buf_append(t->out, p, (size_t)n))
        return -1; /* over the owner's cap: a hard error, never "retry" */
    return n;
}

static int pw__bio_read(BIO *b, char *p, int n)
{
    struct pw_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (t->in_len == 0) {
        BIO_set_retry_read(b); /* more comes with the next read from the socket */
        return -1;
    }
    size_t k = (size_t)n < t->in_len ? (size_t)n : t->in_len;
    memcpy(p, t->in, k);
    t->in += k;
    t->in_len -= k;
    return (int)k;
}

static long pw__bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    struct pw_tls *t = BIO_get_data(b);
    (void)num, (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1; /* writes are already in *t->out */
    case BIO_CTRL_PENDING: return t && t->in_len < LONG_MAX ? (long)t->in_len : 0;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;             /* no kTLS, no dup, no push/pop */
    }
}

static int pw__bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *pw__bio_method;
static pthread_once_t pw__bio_once = PTHREAD_ONCE_INIT;

static void pw__bio_make(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pushwire memory");
    if (m && BIO_meth_set_write(m, pw__bio_write) && BIO_meth_set_read(m, pw__bio_read) &&
        BIO_meth_set_ctrl(m, pw__bio_ctrl) && BIO_meth_set_create(m, pw__bio_create))
        pw__bio_method = m;
    else if (m)
        BIO_meth_free(m);
}

/* ---- the pump ---- */

int pw_tls_init(struct pw_tls *t, SSL_CTX *ctx, int server, struct pw_buf *out)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    pthread_once(&pw__bio_once, pw__bio_make);
    if (!pw__bio_method)
        return PW_ENOMEM;
    SSL *ssl = SSL_new(ctx);
    BIO *b = ssl ? BIO_new(pw__bio_method) : NULL;
    if (!b) {
        SSL_free(ssl);
        return PW_ENOMEM;
    }
    BIO_set_data(b, t);
    SSL_set_bio(ssl, b, b); /* one BIO both ways: one reference, freed with the SSL */
    SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    if (server)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    t->ssl = ssl;
    return 0;
}

void pw_tls_free(struct pw_tls *t)
{
    SSL_free(t->ssl);
    t->ssl = NULL;
    t->in_len = 0;
}

void pw_tls_input(struct pw_tls *t, const uint8_t *p, size_t n)
{
    t->in = p;
    t->in_len = n;
}

int pw_tls_handshake(struct pw_tls *t)
{
    if (t->opened)
        return 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->opened = 1;
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    return e == SSL_ERROR_WANT_READ ? 0 : PW_TLS_FAIL;
}

ssize_t pw_tls_read(struct pw_tls *t, uint8_t *buf, size_t cap)
{
    int want = cap > INT_MAX ? INT_MAX : (int)cap;
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, want);
    if (r > 0)
        return r;
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ: return 0;
    case SSL_ERROR_ZERO_RETURN: return PW_TLS_EOF;
    default: return PW_TLS_FAIL;
    }
}

int pw_tls_write(struct pw_tls *t, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n) {
        int chunk = n > (1u << 30) ? (1 << 30) : (int)n;
        ERR_clear_error();
        int w = SSL_write(t->ssl, q, chunk);
        if (w <= 0)
            return PW_TLS_FAIL; /* our BIO never asks to retry a write */
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

void pw_tls_close(struct pw_tls *t)
{
    if (t->opened && !(SSL_get_shutdown(t->ssl) & SSL_SENT_SHUTDOWN)) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}

const char *pw_tls_why(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        snprintf(buf, n, "connection closed during the handshake");
    else {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, n, "%s", r);
        else
            ERR_error_string_n(e, buf, n);
    }
    ERR_clear_error();
    return buf;
}

/* ---- shared settings ---- */

void pw_tls_ctx_harden(SSL_CTX *ctx)
{
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, 0); /* the newest the library has */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
}

static const char pw__tls12_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
static const char pw__tls_groups[] = "X25519:prime256v1:secp384r1";

/* What a server speaks, preferred first: HTTP/1.0 clients are served on
 * plain listeners too (curl --http1.0 offers only http/1.0). */
static const unsigned char pw__tls_alpn_server[18] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1',
                                                      8, 'h', 't', 't', 'p', '/', '1', '.', '0'};

static int pw__tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl, (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, pw__tls_alpn_server,
                              sizeof pw__tls_alpn_server, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

int pw_tls_ctx_server(SSL_CTX *ctx)
{
    pw_tls_ctx_harden(ctx);
    if (!SSL_CTX_set_cipher_list(ctx, pw__tls12_ciphers) ||
        !SSL_CTX_set1_groups_list(ctx, pw__tls_groups))
        return -1;
    SSL_CTX_set_dh_auto(ctx, 1);
    /* resumption by stateless tickets only: a push server's clients
     * reconnect in storms, and a ticket costs the server no memory */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 1);
    SSL_CTX_set_alpn_select_cb(ctx, pw__tls_alpn, NULL);
    return 0;
}

int pw_tls_ctx_share_chain(SSL_CTX *ctx)
{
    STACK_OF(X509) *chain = NULL;
    if (!SSL_CTX_get0_chain_certs(ctx, &chain) || !chain)
        return 0;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);
        if (!X509_up_ref(x))
            goto fail;
        if (!SSL_CTX_add_extra_chain_cert(ctx, x)) { /* takes x's reference on success */
            X509_free(x);
            goto fail;
        }
    }
    SSL_CTX_clear_chain_certs(ctx);
    return 0;
fail:
    SSL_CTX_clear_extra_chain_certs(ctx);
    return -1;
}
