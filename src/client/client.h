/* client.h — the client side of pushwire's network layer: URLs, proxies
 * from the environment, and a byte stream over libuv that may go through an
 * HTTP CONNECT or SOCKS5 proxy and through TLS (OpenSSL over memory BIOs, so
 * nothing ever blocks the loop).  Helpers never print; failures carry a
 * PW_ECL_* code and a human detail string in the stream.
 *
 * Error range -650..-699 (network/I-O for the client; -600..-649 is the
 * server's, in net.h).
 */
#ifndef PW_CLIENT_H
#define PW_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/buf.h"
#include "proto/pw_errio.h"
#include "proto/url.h"
#include "tls/tls.h"


/* ---- the stream ------------------------------------------------------- */

struct pw_stream;

struct pw_stream_opts {
    const struct pw_url *url;    /* where to go (host, port, tls) */
    const struct pw_url *proxy;  /* NULL: direct; http:// (CONNECT) or socks5[h]:// */
    const char *cacert;          /* PEM file, NULL: the system store */
    int insecure;                /* 1: no certificate verification */
    const char *alpn;            /* e.g. "http/1.1", NULL: none */
    const char *cert, *key;      /* client certificate chain and its key (PEM
                                    files; key NULL: in the cert file), or NULL */
    const char *unix_path;       /* connect to this Unix socket instead of
                                    url's host and port (no proxy then) */
};

struct pw_stream_cb {
    /* TCP, proxy tunnel and TLS are up: the peer can be talked to. */
    void (*on_open)(struct pw_stream *s);
    /* Bytes from the peer (plaintext).  `data` is writable and valid only
     * during the call. */
    void (*on_data)(struct pw_stream *s, uint8_t *data, size_t len);
    /* The stream ended: err 0 on a clean EOF from the peer, else a PW_E*
     * code with s->detail filled.  Called at most once; the owner then calls
     * pw_stream_close. */
    void (*on_end)(struct pw_stream *s, int err);
    /* Everything queued so far reached the kernel (may be NULL). */
    void (*on_drain)(struct pw_stream *s);
    /* pw_stream_close finished: the memory may be freed now. */
    void (*on_closed)(struct pw_stream *s);
};

enum pw_stream_state {
    PW_ST_RESOLVE, PW_ST_CONNECT, PW_ST_PROXY, PW_ST_TLS, PW_ST_OPEN, PW_ST_DONE,
};

struct pw_stream {
    /* public, read-only */
    int state;
    char detail[512];        /* why it failed, for the user */
    char peer[64];           /* address connected to, "1.2.3.4:80" */
    uint64_t bytes_in, bytes_out;
    void *ud;                /* owner's pointer */
    /* private */
    uv_loop_t *loop;
    struct pw_stream_opts o;
    struct pw_url url, proxy;
    int has_proxy;
    struct pw_stream_cb cb;
    uv_getaddrinfo_t gai;
    struct addrinfo *ai, *ai_cur;
    union {                  /* the socket: TCP, or a Unix socket (unix_path) */
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    };
    uv_connect_t creq;
    uv_write_t wreq;
    uv_prepare_t flush;
    int tcp_init, flush_init, flushing, writing, ended, closing, open_handles;
    int gai_pending, deferred_err;
    struct pw_buf out;       /* wire bytes waiting for the next write */
    struct pw_buf wbuf;      /* wire bytes of the write in flight */
    struct pw_buf phase;     /* proxy reply being read */
    struct pw_buf plain;     /* TLS: plaintext waiting to be encrypted */
    int proxy_step;
    SSL_CTX *ssl_ctx;
    struct pw_tls tls;       /* tls.ssl NULL: plain */
    int cert_asked;          /* the TLS server asked for a client certificate */
    uint64_t plain_in;       /* plaintext bytes handed to on_data */
    uint8_t rbuf[65536];
    uint8_t tbuf[65536];
};

/* Starts connecting; always 0: every failure (even an immediate one) comes
 * through on_end from the loop.  The owner ends with pw_stream_close and
 * frees `s` in on_closed. */
int pw_stream_open(struct pw_stream *s, uv_loop_t *loop, const struct pw_stream_opts *o,
                   const struct pw_stream_cb *cb);
/* Queues plaintext; the bytes go out in one write per loop turn (batched).
 * 0, PW_ENOMEM, PW_ESTATE (stream not open), PW_ECL_TLS. */
int pw_stream_write(struct pw_stream *s, const void *p, size_t n);
/* Bytes queued and not yet handed to the kernel. */
size_t pw_stream_pending(const struct pw_stream *s);
/* Stops reading (backpressure) / resumes. */
void pw_stream_pause(struct pw_stream *s, int paused);
/* Closes handles; on_closed follows.  Safe in any state, once. */
void pw_stream_close(struct pw_stream *s);

/* Random bytes for masking keys, drawn from OpenSSL in 4 KiB batches so a
 * frame does not cost a call into the RNG.  0 or PW_EIO. */
int pw_rand_bytes(uint8_t *out, size_t n);


#endif
