/* test_tls.c — the TLS pump (src/tls/tls.c) with both ends in memory: a
 * client and a server pw_tls pass each other's bytes directly, no socket. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tap.h"
#include "tls/tls.h"

/* a self-signed P-256 certificate for "localhost", made here */
static SSL_CTX *server_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    pw_tls_ctx_harden(ctx);
    SSL_CTX_use_certificate(ctx, x);
    SSL_CTX_use_PrivateKey(ctx, k);
    X509_free(x);
    EVP_PKEY_free(k);
    return ctx;
}

/* A certificate for cn with key k, signed by ca (key ca_key) or by itself. */
static X509 *cert_for(EVP_PKEY *k, const char *cn, EVP_PKEY *ca_key, X509 *ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 2 : 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
    X509_set_pubkey(x, k);
    X509_sign(x, ca_key ? ca_key : k, EVP_sha256());
    return x;
}

struct pair {
    struct pw_tls c, s;
    struct pw_buf c_out, s_out;   /* what each end sends */
    uint8_t got[65536];
    size_t got_len;
};

/* Moves what `from` sent into `to`, `step` bytes at a time (0: all at once);
 * runs the handshake and collects plaintext; returns the last status. */
static int deliver(struct pair *pr, struct pw_buf *from, struct pw_tls *to, size_t step)
{
    int last = 0;
    size_t off = 0;
    while (off < from->len) {
        size_t n = step && from->len - off > step ? step : from->len - off;
        pw_tls_input(to, from->p + off, n);
        off += n;
        if (!pw_tls_open(to) && (last = pw_tls_handshake(to)) <= 0) {
            if (last < 0)
                break;
            continue;
        }
        ssize_t r;
        while ((r = pw_tls_read(to, pr->got + pr->got_len, sizeof pr->got - pr->got_len)) > 0)
            pr->got_len += (size_t)r;
        if (r < 0) {
            last = (int)r;
            break;
        }
        last = 1;
        if (to->in_len) /* every lent byte is used when read says 0 */
            return -99;
    }
    pw_buf_reset(from);
    return last;
}

static int handshake(struct pair *pr, SSL_CTX *sctx, SSL_CTX *cctx, size_t step)
{
    memset(pr, 0, sizeof *pr);
    pw_buf_init(&pr->c_out, 0);
    pw_buf_init(&pr->s_out, 0);
    if (pw_tls_init(&pr->c, cctx, 0, &pr->c_out) || pw_tls_init(&pr->s, sctx, 1, &pr->s_out))
        return -1;
    SSL_set_alpn_protos(pr->c.ssl, pw_tls_alpn_http11, sizeof pw_tls_alpn_http11);
    pw_tls_handshake(&pr->c); /* ClientHello */
    for (int i = 0; i < 10 && !(pw_tls_open(&pr->c) && pw_tls_open(&pr->s)); i++) {
        if (deliver(pr, &pr->c_out, &pr->s, step) < 0)
            return -1;
        if (deliver(pr, &pr->s_out, &pr->c, step) < 0)
            return -1;
    }
    return pw_tls_open(&pr->c) && pw_tls_open(&pr->s) ? 0 : -1;
}

static void pair_free(struct pair *pr)
{
    pw_tls_free(&pr->c);
    pw_tls_free(&pr->s);
    pw_buf_free(&pr->c_out);
    pw_buf_free(&pr->s_out);
}

/* The serve's context: a leaf and its intermediate, the chain shared by the
 * context (pw_tls_ctx_share_chain) and still sent to every client. */
static void chain_tests(SSL_CTX *cctx)
{
    EVP_PKEY *ik = EVP_EC_gen("P-256"), *k = EVP_EC_gen("P-256");
    X509 *inter = cert_for(ik, "test intermediate", NULL, NULL);
    X509 *leaf = cert_for(k, "localhost", ik, inter);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    OK(pw_tls_ctx_server(sctx) == 0, "the serve's context settings apply");
    OK(SSL_CTX_use_certificate(sctx, leaf) == 1 && SSL_CTX_use_PrivateKey(sctx, k) == 1 &&
           SSL_CTX_add1_chain_cert(sctx, inter) == 1,
       "a leaf with its intermediate as chain");
    OK(pw_tls_ctx_share_chain(sctx) == 0, "the chain moves to the context");
    STACK_OF(X509) *ch = NULL;
    SSL_CTX_get0_chain_certs(sctx, &ch);
    OK(!ch || sk_X509_num(ch) == 0, "the certificate has no chain of its own left");
    SSL_CTX_get_extra_chain_certs(sctx, &ch);
    IS(ch ? sk_X509_num(ch) : 0, 1, "the context has the intermediate");
    struct pair pr;
    OK(handshake(&pr, sctx, cctx, 0) == 0, "handshake with the shared chain");
    STACK_OF(X509) *peer = SSL_get_peer_cert_chain(pr.c.ssl);
    IS(peer ? sk_X509_num(peer) : 0, 2, "the client gets leaf and intermediate");
    OK(peer && sk_X509_num(peer) == 2 && X509_cmp(sk_X509_value(peer, 1), inter) == 0,
       "the intermediate second");
    ch = NULL;
    SSL_get0_chain_certs(pr.s.ssl, &ch);
    OK(!ch || sk_X509_num(ch) == 0, "the server connection holds no copy of the chain");
    const unsigned char *alpn;
    unsigned alen;
    SSL_get0_alpn_selected(pr.s.ssl, &alpn, &alen);
    OK(alen == 8 && memcmp(alpn, "http/1.1", 8) == 0, "ALPN http/1.1 selected");
    pair_free(&pr);
    SSL_CTX_free(sctx);
    X509_free(leaf);
    X509_free(inter);
    EVP_PKEY_free(k);
    EVP_PKEY_free(ik);
}

int main(void)
{
    SSL_CTX *sctx = server_ctx();
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    pw_tls_ctx_harden(cctx);
    struct pair pr;

    OK(handshake(&pr, sctx, cctx, 0) == 0, "handshake in memory, whole flights");
    IS(SSL_version(pr.s.ssl), TLS1_3_VERSION, "TLS 1.3 by default");
    OK(pw_tls_write(&pr.c, "GET / HTTP/1.1\r\n\r\n", 18) == 0, "client writes a request");
    IS(deliver(&pr, &pr.c_out, &pr.s, 0), 1, "server reads it");
    IS(pr.got_len, 18, "18 plaintext bytes");
    OK(memcmp(pr.got, "GET / HTTP/1.1\r\n\r\n", 18) == 0, "the same bytes");
    pr.got_len = 0;
    static uint8_t big[40000];
    memset(big, 'x', sizeof big);
    OK(pw_tls_write(&pr.s, big, sizeof big) == 0, "server writes 40000 bytes (3 records)");
    IS(deliver(&pr, &pr.s_out, &pr.c, 1000), 1, "client reads them 1000 ciphertext bytes at a time");
    IS(pr.got_len, sizeof big, "all of them");
    pw_tls_close(&pr.c);
    OK(pr.c_out.len > 0, "close_notify is a record");
    IS(deliver(&pr, &pr.c_out, &pr.s, 0), PW_TLS_EOF, "server sees close_notify as PW_TLS_EOF");
    pair_free(&pr);

    OK(handshake(&pr, sctx, cctx, 1) == 0, "handshake fed one byte at a time");
    pair_free(&pr);

    /* TLS 1.1 only client: refused */
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(old, 0);
    SSL_CTX_set_min_proto_version(old, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
    OK(handshake(&pr, sctx, old, 0) != 0, "a TLS 1.1 client is refused");
    char why[200];
    OK(strlen(pw_tls_why(why, sizeof why)) > 0, "with a reason: %s", why);
    pair_free(&pr);
    SSL_CTX_free(old);

    /* plain HTTP on a TLS port */
    struct pw_tls s;
    struct pw_buf out;
    pw_buf_init(&out, 0);
    pw_tls_init(&s, sctx, 1, &out);
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    pw_tls_input(&s, (const uint8_t *)http, sizeof http - 1);
    IS(pw_tls_handshake(&s), PW_TLS_FAIL, "plain HTTP fails the handshake");
    OK(strstr(pw_tls_why(why, sizeof why), "http") != NULL, "named: %s", why);
    pw_tls_free(&s);
    pw_buf_free(&out);

    /* an output buffer at its cap is a failure, never a retry */
    OK(handshake(&pr, sctx, cctx, 0) == 0, "handshake again");
    pr.s_out.max = 100;
    IS(pw_tls_write(&pr.s, big, 1000), PW_TLS_FAIL, "a write past the output cap fails");
    pair_free(&pr);

    chain_tests(cctx);

    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return tap_done();
}
