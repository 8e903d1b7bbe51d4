/* fuzz_tls.c — the server side of the TLS pump (src/tls/tls.c) on bytes
 * from the network: a client's first flights, cut into reads where the
 * input says.  Input: byte 0 picks the read size (1..256, 0: all at once);
 * the rest is what the peer sends.
 * Invariants: every lent byte is taken before pw_tls_read says 0 (the BIO
 * keeps no pointer past a read); no plaintext comes after PW_TLS_FAIL;
 * the output never passes its cap; no
 * leak, no read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/tls.h"

static SSL_CTX *ctx;

/* a self-signed P-256 certificate, made once */
static SSL_CTX *make_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    pw_tls_ctx_harden(c);
    SSL_CTX_use_certificate(c, x);
    SSL_CTX_use_PrivateKey(c, k);
    X509_free(x);
    EVP_PKEY_free(k);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        ctx = make_ctx();
    if (size < 1)
        return 0;
    size_t step = data[0] ? data[0] : size;
    data++, size--;
    struct pw_buf out;
    pw_buf_init(&out, 1 << 20);
    struct pw_tls t;
    if (pw_tls_init(&t, ctx, 1, &out))
        abort();
    uint8_t plain[4096];
    int failed = 0;
    for (size_t off = 0; off < size && !failed;) {
        size_t n = size - off < step ? size - off : step;
        pw_tls_input(&t, data + off, n);
        off += n;
        if (!pw_tls_open(&t)) {
            int r = pw_tls_handshake(&t);
            if (r < 0)
                failed = 1;
            if (r <= 0)
                continue;
        }
        ssize_t r;
        while ((r = pw_tls_read(&t, plain, sizeof plain)) > 0)
            ;
        if (r == 0 && t.in_len)
            abort(); /* "0" means every lent byte is used */
        if (r < 0)
            failed = 1;
    }
    if (failed && pw_tls_read(&t, plain, sizeof plain) > 0)
        abort(); /* no plaintext after a failure */
    if (out.len > out.max)
        abort();
    pw_tls_free(&t);
    pw_buf_free(&out);
    return 0;
}
