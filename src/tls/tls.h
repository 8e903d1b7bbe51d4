/* tls.h — TLS over memory: OpenSSL driven with bytes in and bytes out, no
 * socket, no event loop.  The client stream (client/stream.c) and the
 * server's TLS layer (server/srv_tls.c) both pump their connections through
 * it; this file knows neither.
 *
 * The BIO under the SSL is ours, not BIO_s_mem: a read takes ciphertext
 * straight from the buffer the caller lends (the loop's read buffer, no
 * copy), a write appends to a struct pw_buf the caller names.  A BIO_s_mem
 * keeps the largest buffer it ever held for the connection's whole life,
 * which an idle connection cannot afford; here the connection holds no
 * buffer of its own between reads (OpenSSL's record buffers are released
 * with SSL_MODE_RELEASE_BUFFERS).
 *
 * Use, per read from the peer:
 *   pw_tls_input(t, p, n);                  lend the ciphertext
 *   if (!pw_tls_open(t)) r = pw_tls_handshake(t);   1 done, 0 more, < 0 failed
 *   while ((k = pw_tls_read(t, buf, cap)) > 0) use buf[0..k);
 *   then send what *t->out holds (handshake messages, alerts, tickets).
 * When pw_tls_read returns 0, every lent byte has been taken (OpenSSL keeps a
 * partial record in its own buffer), so the lent memory may be reused.
 */
#ifndef PW_TLS_H
#define PW_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "proto/buf.h"

enum {
    PW_TLS_EOF = -1,   /* the peer sent close_notify */
    PW_TLS_FAIL = -2,  /* protocol error or alert; pw_tls_why says which */
};

struct pw_tls {
    SSL *ssl;             /* owned */
    struct pw_buf *out;   /* ciphertext for the peer goes here: the owner's buffer,
                             which it may swap between calls; never NULL during one */
    const uint8_t *in;    /* lent ciphertext not taken yet */
    size_t in_len;
    uint8_t opened;       /* the handshake finished */
};

/* Wraps a new SSL from ctx: server (accept) or client (connect) side,
 * SSL_MODE_RELEASE_BUFFERS set.  0, or PW_ENOMEM (t is then empty, and
 * pw_tls_free is still safe). */
int pw_tls_init(struct pw_tls *t, SSL_CTX *ctx, int server, struct pw_buf *out);
void pw_tls_free(struct pw_tls *t);

/* Lends n bytes of ciphertext from the peer (valid until pw_tls_read
 * returns 0 or < 0, or until the caller stops reading this connection). */
void pw_tls_input(struct pw_tls *t, const uint8_t *p, size_t n);
static inline int pw_tls_open(const struct pw_tls *t) { return t->opened; }
/* Advances the handshake with what was lent: 1 finished (now or before),
 * 0 needs more input, PW_TLS_FAIL. */
int pw_tls_handshake(struct pw_tls *t);
/* Plaintext from the lent ciphertext into buf: bytes (> 0), 0 when
 * everything lent is used and more is needed, PW_TLS_EOF, PW_TLS_FAIL. */
ssize_t pw_tls_read(struct pw_tls *t, uint8_t *buf, size_t cap);
/* Encrypts n bytes (after the handshake) into *t->out, as few records as
 * OpenSSL allows: 0, PW_TLS_FAIL (including *t->out over its cap). */
int pw_tls_write(struct pw_tls *t, const void *p, size_t n);
/* close_notify into *t->out (once the handshake is done; no-op before). */
void pw_tls_close(struct pw_tls *t);
/* Why the last call failed, from OpenSSL's error queue (which it clears):
 * "wrong version number", "unsupported protocol", … into buf. */
const char *pw_tls_why(char *buf, size_t n);

/* The settings every pushwire TLS context shares: TLS 1.2 and 1.3 only,
 * no renegotiation, no compression. */
void pw_tls_ctx_harden(SSL_CTX *ctx);
/* ALPN protocol list "http/1.1" in wire form, for SSL_set_alpn_protos. */
extern const unsigned char pw_tls_alpn_http11[9];
/* A server context's settings (serve's tls:// listeners; bench/tls_heap.c
 * measures these): pw_tls_ctx_harden, TLS 1.2 ciphers ECDHE/DHE with
 * AES-GCM or ChaCha20-Poly1305, groups X25519, P-256, P-384, no session
 * cache, one stateless ticket, ALPN http/1.1 only (a client offering only
 * other protocols gets no_application_protocol, RFC 7301 §3.2).  0, or -1
 * with the reason in OpenSSL's error queue. */
int pw_tls_ctx_server(SSL_CTX *ctx);
/* Moves the current certificate's chain (the intermediates loaded with it)
 * to the context's extra chain certificates, which OpenSSL sends the same
 * way for a certificate without a chain of its own: SSL_new copies a
 * certificate's chain into every connection (a stack each, 64 bytes of
 * heap), the context's extra certificates are shared.  For a context with
 * one certificate.  0, or -1 (out of memory; the chain is left as it was). */
int pw_tls_ctx_share_chain(SSL_CTX *ctx);

#endif
