/* srv_tls.c — TLS listeners: the byte layer (struct srv_layer) under the
 * transports of a connection accepted on a tls:// listener, and the
 * certificates it serves (--tls-cert/--tls-key, chosen by SNI, reread on
 * SIGHUP).  OpenSSL runs through the memory pump of tls/tls.h: ciphertext
 * is decrypted from the loop's read buffer in place into one shared
 * plaintext buffer, queued plaintext is encrypted into one shared
 * ciphertext buffer and written from there; a connection keeps ciphertext
 * of its own only while the socket is full.
 *
 * Choices (docs/ARCHITECTURE.md, pushwire-serve(1)):
 * - TLS 1.2 and 1.3; for 1.2 Mozilla's "intermediate" ciphers (ECDHE/DHE
 *   with AES-GCM or ChaCha20-Poly1305); 1.3's suites as OpenSSL has them.
 * - ALPN: http/1.1, or http/1.0 when that is all the client offers; a client
 *   that offers only other protocols gets the
 *   no_application_protocol alert (RFC 7301 §3.2).
 * - Resumption by session tickets, no server-side cache: a push server's
 *   clients reconnect in storms, and tickets cost the server no memory per
 *   session.  The ticket key is random per certificate load, so a restart
 *   or a SIGHUP rotates it (a full handshake once per client afterwards).
 * - SSL_MODE_RELEASE_BUFFERS: an idle connection holds no record buffer;
 *   a certificate's intermediates are shared by its context, not copied into
 *   every connection.  What an idle connection still holds is OpenSSL's floor
 *   (docs/SERVER.md, bench/tls_heap.c).
 */
#include "srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

#define SRV_TLS_PLAIN (64 * 1024)  /* decrypted per srv__feed, at most */
#define SRV_TLS_STAGE (16 * 1024)  /* small segments are joined into one record */
#define SRV_TLS_BATCH (64 * 1024)  /* plaintext encrypted per write round */
#define SRV_TLS_WHY 200            /* an OpenSSL reason, for the log */

/* One load of the certificates: a context per pair, [0] the default.  A
 * connection holds a reference from accept to close, so a SIGHUP can
 * replace the set while handshakes begun with it still finish with it. */
struct srv_tls_certs {
    size_t refs;
    size_t n;
    SSL_CTX *ctx[];
};

struct srv_tls_shared {
    struct srv_tls_certs *certs;  /* what new connections get */
    struct pw_buf out;            /* ciphertext of the call in progress, then sent */
    uint8_t plain[SRV_TLS_PLAIN]; /* decrypted input, fed before the next read */
    uint8_t stage[SRV_TLS_STAGE]; /* small segments joined before SSL_write */
    uint64_t handshakes, failures;
};

/* A TLS connection's state (c->lst). */
struct srv_tls {
    struct pw_tls t;
    struct srv_tls_certs *certs;
    struct pw_buf pend;           /* ciphertext the socket did not take, written when it
                                     is writable again (before anything new) */
};

/* ---- certificates ---- */

static void srv__certs_unref(struct srv_tls_certs *cs)
{
    if (!cs || --cs->refs)
        return;
    for (size_t i = 0; i < cs->n; i++)
        SSL_CTX_free(cs->ctx[i]);
    free(cs);
}

/* SNI: the first pair whose certificate names the host, else the default. */
static int srv__tls_sni(SSL *ssl, int *alert, void *arg)
{
    struct srv_tls_certs *cs = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    (void)alert;
    if (!name)
        return SSL_TLSEXT_ERR_NOACK;
    for (size_t i = 0; i < cs->n; i++) {
        X509 *x = SSL_CTX_get0_certificate(cs->ctx[i]);
        if (x && X509_check_host(x, name, 0, 0, NULL) == 1) {
            if (i)
                SSL_set_SSL_CTX(ssl, cs->ctx[i]);
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_OK; /* the default certificate: the client judges */
}

/* OpenSSL's default asks for a passphrase on the terminal, which would
 * block the loop (a SIGHUP reload included): a key that needs one is
 * refused instead, and the flag says why. */
static int srv__tls_no_passphrase(char *buf, int size, int rwflag, void *ud)
{
    (void)buf, (void)size, (void)rwflag;
    if (ud)
        *(int *)ud = 1;
    return -1;
}

/* Why a certificate or key file did not load, from the first error OpenSSL
 * queued (the last one is the SSL layer's "system lib" or "PEM lib"). */
static const char *srv__tls_load_why(int key, char *buf, size_t n)
{
    unsigned long e = ERR_peek_error();
    int lib = ERR_GET_LIB(e), reason = ERR_GET_REASON(e);
    if (e && ERR_SYSTEM_ERROR(e))
        snprintf(buf, n, "%s", strerror(reason)); /* ENOENT, EACCES (a unit's user), EISDIR */
    else if (!key && lib == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE)
        snprintf(buf, n, "no certificate in it (PEM: -----BEGIN CERTIFICATE-----; from DER: openssl x509 -inform der)");
    else if (key && (lib == ERR_LIB_OSSL_DECODER || (lib == ERR_LIB_PEM && reason == PEM_R_NO_START_LINE)))
        snprintf(buf, n, "no private key in it (PEM: -----BEGIN PRIVATE KEY-----; from DER: openssl pkey -inform der)");
    else if (e && ERR_reason_error_string(e))
        snprintf(buf, n, "%s", ERR_reason_error_string(e));
    else
        return pw_tls_why(buf, n);
    ERR_clear_error();
    return buf;
}

/* A key that is not the first certificate's: why, in err.  A chain
 * written in the wrong order (intermediates first) is named as such. */
static void srv__tls_mismatch(const struct pw_tls_pair *p, char *err, size_t errsz)
{
    BIO *b = BIO_new_file(p->key, "r");
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, srv__tls_no_passphrase, NULL) : NULL;
    BIO_free(b);
    b = key ? BIO_new_file(p->cert, "r") : NULL;
    int rank = 0;
    X509 *x;
    for (int i = 1; b && rank == 0 && i <= 64 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)); i++) {
        EVP_PKEY *pub = X509_get0_pubkey(x);
        if (i > 1 && pub && EVP_PKEY_eq(pub, key) == 1)
            rank = i;
        X509_free(x);
    }
    BIO_free(b);
    EVP_PKEY_free(key);
    ERR_clear_error();
    if (rank)
        snprintf(err, errsz, "TLS key '%s' belongs to certificate %d of '%s', not to the first: put the "
                 "server's certificate first, then its intermediates", p->key, rank, p->cert);
    else
        snprintf(err, errsz, "TLS key '%s' does not belong to certificate '%s'", p->key, p->cert);
}

/* A server context for one pair; NULL with the reason in err. */
static SSL_CTX *srv__tls_ctx(const struct pw_tls_pair *p, struct srv_tls_certs *cs, char *err,
                             size_t errsz)
{
    char why[SRV_TLS_WHY];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (pw_tls_ctx_server(ctx)) {
        snprintf(err, errsz, "TLS settings refused: %s", pw_tls_why(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, srv__tls_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx, cs);
    const char *bad = NULL, *what = NULL;
    int asked = 0;
    SSL_CTX_set_default_passwd_cb(ctx, srv__tls_no_passphrase);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
    if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1)
        bad = p->cert, what = "certificate";
    else if (SSL_CTX_use_PrivateKey_file(ctx, p->key, SSL_FILETYPE_PEM) != 1)
        bad = p->key, what = "key";
    SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
    if (bad && asked) {
        ERR_clear_error();
        snprintf(err, errsz, "cannot load TLS %s '%s': it is encrypted, and a passphrase cannot be asked for: "
                 "give it unencrypted (openssl pkey -in KEY -out PLAIN.key)", what, bad);
    } else if (bad == p->key && ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_X509 &&
               ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
        srv__tls_mismatch(p, err, errsz); /* a key of the certificate's type, not its own */
    } else if (bad) {
        snprintf(err, errsz, "cannot load TLS %s '%s': %s", what, bad,
                 srv__tls_load_why(bad == p->key, why, sizeof why));
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        srv__tls_mismatch(p, err, errsz);
        bad = p->key;
    } else if (pw_tls_ctx_share_chain(ctx)) {
        snprintf(err, errsz, "out of memory");
        bad = p->cert;
    }
    if (bad) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Every pair of o->tls, or NULL with the first failure in err. */
static struct srv_tls_certs *srv__certs_load(const struct pw_server_opts *o, char *err, size_t errsz)
{
    struct srv_tls_certs *cs = calloc(1, sizeof *cs + o->ntls * sizeof cs->ctx[0]);
    if (!cs) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    cs->refs = 1;
    for (size_t i = 0; i < o->ntls; i++) {
        cs->ctx[i] = srv__tls_ctx(&o->tls[i], cs, err, errsz);
        if (!cs->ctx[i]) {
            srv__certs_unref(cs);
            return NULL;
        }
        cs->n++;
    }
    return cs;
}

#define SRV_TLS_SOON_DAYS 14      /* a certificate this close to its end is logged */

/* A certificate outside its dates still loads (a client judges it), but
 * the operator is told at start and on reload: expired, not yet valid, or
 * ending within SRV_TLS_SOON_DAYS days.  One worker says it. */
static void srv__tls_dates(struct srv *s, const struct srv_tls_certs *cs)
{
    if (s->wid != 0)
        return;
    for (size_t i = 0; i < cs->n; i++) {
        X509 *x = SSL_CTX_get0_certificate(cs->ctx[i]);
        const ASN1_TIME *nb = x ? X509_get0_notBefore(x) : NULL, *na = x ? X509_get0_notAfter(x) : NULL;
        struct tm tb, ta;
        int days, secs;
        char when[32];
        if (!nb || !na || ASN1_TIME_to_tm(nb, &tb) != 1 || ASN1_TIME_to_tm(na, &ta) != 1 ||
            ASN1_TIME_diff(&days, &secs, NULL, na) != 1)
            continue;
        const char *file = s->o->tls[i].cert;
        if (X509_cmp_current_time(na) < 0) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &ta);
            srv_log(s, NULL, "warning", 0, 0, "TLS certificate '%s' expired on %s: clients will refuse it",
                    file, when);
        } else if (X509_cmp_current_time(nb) > 0) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tb);
            srv_log(s, NULL, "warning", 0, 0, "TLS certificate '%s' is not valid before %s: clients will refuse it",
                    file, when);
        } else if (days < SRV_TLS_SOON_DAYS) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &ta);
            srv_log(s, NULL, "warning", 0, 0, "TLS certificate '%s' expires on %s, in %d day%s", file, when,
                    days, days == 1 ? "" : "s");
        }
        ERR_clear_error();
    }
}

int srv_tls_setup(struct srv *s, char *err, size_t errsz)
{
    struct srv_tls_shared *sh = calloc(1, sizeof *sh);
    if (!sh) {
        snprintf(err, errsz, "out of memory");
        return PW_ENOMEM;
    }
    sh->certs = srv__certs_load(s->o, err, errsz);
    if (!sh->certs) {
        free(sh);
        return PW_ENET_TLS;
    }
    pw_buf_init(&sh->out, 0);
    s->tls = sh;
    srv__tls_dates(s, sh->certs);
    return 0;
}

void srv_tls_reload(struct srv *s)
{
    char err[512];
    struct srv_tls_certs *cs = srv__certs_load(s->o, err, sizeof err);
    if (!cs) {
        srv_log(s, NULL, "error", 0, 0, "SIGHUP: %s; keeping the certificates loaded before", err);
        return;
    }
    srv__certs_unref(s->tls->certs);
    s->tls->certs = cs;
    if (s->wid == 0) /* every worker reloads its own; one line says it */
        srv_log(s, NULL, "reload", 0, 0, "SIGHUP: %zu TLS certificate%s reloaded for new connections",
                cs->n, cs->n == 1 ? "" : "s");
    srv__tls_dates(s, cs);
}

void srv_tls_cleanup(struct srv *s)
{
    if (!s->tls)
        return;
    srv__certs_unref(s->tls->certs);
    pw_buf_free(&s->tls->out);
    free(s->tls);
    s->tls = NULL;
}

void srv_tls_counts(const struct srv *s, struct srv_counts *t)
{
    t->tls_handshakes = s->tls ? s->tls->handshakes : 0;
    t->tls_failures = s->tls ? s->tls->failures : 0;
}

/* t: srv_counts (every worker's, with --workers) */
void srv_tls_metrics(const struct srv *s, struct pw_buf *b, const struct srv_counts *t)
{
    (void)s;
    pw_buf_printf(b, "# HELP pushwire_tls_handshakes_total TLS handshakes completed.\n"
                     "# TYPE pushwire_tls_handshakes_total counter\n"
                     "pushwire_tls_handshakes_total %llu\n"
                     "# HELP pushwire_tls_handshake_failures_total TLS handshakes that failed "
                     "(not TLS, old versions, no shared cipher).\n"
                     "# TYPE pushwire_tls_handshake_failures_total counter\n"
                     "pushwire_tls_handshake_failures_total %llu\n",
                  (unsigned long long)t->tls_handshakes, (unsigned long long)t->tls_failures);
}

/* ---- sending ciphertext ---- */

/* Ciphertext to the socket: the bytes it took (0: full), or -1 when the
 * connection is closed for the error. */
static ssize_t srv__tls_put(struct srv_conn *c, const uint8_t *p, size_t n)
{
    struct iovec v = {(void *)p, n};
    ssize_t r = srv_io_writev(c, &v, 1);
    if (r < 0) {
        srv_close(c, uv_strerror((int)r));
        return -1;
    }
    c->srv->m_bytes_out += (uint64_t)r;
    return r;
}

/* What the socket did not take earlier, first: 1 while some is still
 * waiting (EPOLLOUT watched) or the connection is closed, 0 once all is
 * written (the buffer freed: an idle connection keeps no ciphertext). */
static int srv__tls_drain(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    if (ct->pend.len == 0)
        return 0;
    ssize_t r = srv__tls_put(c, ct->pend.p, ct->pend.len);
    if (r < 0)
        return 1;
    pw_buf_consume(&ct->pend, (size_t)r);
    if (ct->pend.len == 0) {
        pw_buf_free(&ct->pend);
        return 0;
    }
    if ((r = srv_io_wait_out(c)) != 0) {
        srv_close(c, uv_strerror((int)r));
        return 1;
    }
    return 1;
}

/* What the last pump call put in the shared buffer goes to the socket now
 * (after what is already waiting); the rest waits in ct->pend. */
static void srv__tls_send(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    struct pw_buf *o = &c->srv->tls->out;
    if (o->len == 0 || c->closing) {
        pw_buf_reset(o);
        return;
    }
    ssize_t off = 0;
    if (!c->writing && ct->pend.len == 0 && (off = srv__tls_put(c, o->p, o->len)) < 0) {
        pw_buf_reset(o);
        return;
    }
    int rc = (size_t)off < o->len ? pw_buf_append(&ct->pend, o->p + off, o->len - (size_t)off) : 0;
    pw_buf_reset(o);
    if (rc) {
        /* a peer that makes us answer (KeyUpdate requests) and never reads */
        srv_close(c, rc == PW_ETOOBIG ? "TLS output over --send-buffer: peer does not read"
                                      : "out of memory");
        return;
    }
    if (ct->pend.len && !c->writing && (rc = srv_io_wait_out(c)) != 0)
        srv_close(c, uv_strerror(rc));
}

/* ---- the layer ---- */

static int srv__tls_open(struct srv_conn *c)
{
    struct srv_tls_shared *sh = c->srv->tls;
    struct srv_tls *ct = calloc(1, sizeof *ct);
    if (!ct)
        return PW_ENOMEM;
    if (pw_tls_init(&ct->t, sh->certs->ctx[0], 1, &sh->out)) {
        free(ct);
        return PW_ENOMEM;
    }
    ct->certs = sh->certs;
    ct->certs->refs++;
    /* the queue is bounded by --send-buffer and encrypted a batch at a time
     * once the socket takes it; what else TLS writes is small */
    pw_buf_init(&ct->pend, c->srv->o->send_buffer + 2 * SRV_TLS_BATCH);
    c->lst = ct;
    return 0;
}

static void srv__tls_free(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    if (!ct)
        return;
    pw_tls_free(&ct->t);
    srv__certs_unref(ct->certs);
    pw_buf_free(&ct->pend);
    free(ct);
    c->lst = NULL;
}

/* A TLS failure ends the connection (after the alert OpenSSL wrote, if any). */
static void srv__tls_fail(struct srv_conn *c, const char *what)
{
    char why[SRV_TLS_WHY], msg[SRV_TLS_WHY + 64];
    snprintf(msg, sizeof msg, "%s: %s", what, pw_tls_why(why, sizeof why));
    srv__tls_send(c);
    c->srv->m_proto_errors++;
    srv_close(c, msg);
}

/* The handshake is done: log it, and send what was queued meanwhile (a 503). */
static void srv__tls_opened(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    SSL *ssl = ct->t.ssl;
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const unsigned char *alpn;
    unsigned alen;
    SSL_get0_alpn_selected(ssl, &alpn, &alen);
    c->srv->tls->handshakes++;
    srv_log(c->srv, c, "tls", 0, 0, "%s %s%s%s%s%.*s%s", SSL_get_version(ssl),
            SSL_get_cipher_name(ssl), sni ? " sni=" : "", sni ? sni : "", alen ? " alpn=" : "",
            (int)alen, alen ? (const char *)alpn : "", SSL_session_reused(ssl) ? " resumed" : "");
    if (c->nseg)
        srv__flush(c);
}

static void srv__tls_input(struct srv_conn *c, uint8_t *p, size_t n)
{
    struct srv_tls *ct = c->lst;
    struct srv_tls_shared *sh = c->srv->tls;
    ct->t.out = &sh->out;
    pw_tls_input(&ct->t, p, n);
    if (!pw_tls_open(&ct->t)) {
        int r = pw_tls_handshake(&ct->t);
        if (r < 0) {
            sh->failures++;
            srv__tls_fail(c, "TLS handshake failed");
            return;
        }
        srv__tls_send(c);
        if (r == 0 || c->closing)
            return;
        srv__tls_opened(c);
        if (c->closing)
            return;
    }
    size_t got = 0;
    for (;;) {
        ssize_t r = pw_tls_read(&ct->t, sh->plain + got, sizeof sh->plain - got);
        if (r > 0 && (got += (size_t)r) < sizeof sh->plain)
            continue;
        srv__tls_send(c); /* a KeyUpdate answer, an alert */
        if (got && !c->closing) {
            srv__feed(c, sh->plain, got);
            got = 0;
        }
        if (c->closing || c->shut)
            return;
        if (r > 0)
            continue;
        if (r == 0)
            return;
        if (r == PW_TLS_EOF)
            srv_close(c, c->close_after ? NULL : c->ops->eof);
        else
            srv__tls_fail(c, "TLS error");
        return;
    }
}

/* Encrypts up to SRV_TLS_BATCH bytes of the queue into the shared buffer,
 * small segments joined into one record; returns the bytes taken, or -1. */
static long srv__tls_encrypt(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    uint8_t *stage = c->srv->tls->stage;
    size_t took = 0, staged = 0;
    for (uint16_t i = 0; i < c->nseg && took < SRV_TLS_BATCH; i++) {
        const struct srv_seg *g = &c->seg[i];
        const uint8_t *p = g->base + g->start;
        size_t n = g->end - g->start;
        if (staged + n > SRV_TLS_STAGE && staged) {
            if (pw_tls_write(&ct->t, stage, staged))
                return -1;
            staged = 0;
        }
        if (n < SRV_TLS_STAGE) {
            memcpy(stage + staged, p, n);
            staged += n;
        } else if (pw_tls_write(&ct->t, p, n))
            return -1;
        took += n;
    }
    if (staged && pw_tls_write(&ct->t, stage, staged))
        return -1;
    return (long)took;
}

static int srv__tls_write(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    if (srv__tls_drain(c))
        return 1;
    if (!pw_tls_open(&ct->t))
        return c->nseg != 0; /* sent once the handshake is done (srv__tls_opened) */
    ct->t.out = &c->srv->tls->out;
    while (c->nseg && !c->writing && !c->closing) {
        long took = srv__tls_encrypt(c);
        if (took <= 0) {
            pw_buf_reset(&c->srv->tls->out);
            srv__tls_fail(c, "TLS write failed");
            return 1;
        }
        srv__consume(c, (size_t)took);
        srv__tls_send(c);
    }
    return c->nseg != 0 || c->writing || c->closing;
}

/* The answer is complete: close_notify, written before the FIN. */
static void srv__tls_end(struct srv_conn *c)
{
    struct srv_tls *ct = c->lst;
    ct->t.out = &c->srv->tls->out;
    pw_tls_close(&ct->t);
    srv__tls_send(c);
}

const struct srv_layer srv_tls_layer = {
    .name = "tls",
    .open = srv__tls_open,
    .input = srv__tls_input,
    .write = srv__tls_write,
    .end = srv__tls_end,
    .free = srv__tls_free,
};
