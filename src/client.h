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

#include "buf.h"
#include "pw_err.h"

#define PW_CLIENT_ERRORS(X)                                                    \
    X(CL_URL, -650, NULL, "malformed URL")                                     \
    X(CL_SCHEME, -651, NULL, "unsupported URL scheme")                         \
    X(CL_RESOLVE, -652, NULL, "cannot resolve host")                           \
    X(CL_CONNECT, -653, NULL, "cannot connect")                                \
    X(CL_TLS, -654, NULL, "TLS handshake failed")                              \
    X(CL_TLS_VERIFY, -655, NULL, "certificate verification failed")            \
    X(CL_PROXY, -656, NULL, "proxy refused the tunnel")                        \
    X(CL_REJECTED, -657, NULL, "server answered with an HTTP error status")    \
    X(CL_ABNORMAL, -658, NULL, "connection closed without a close frame (1006)") \
    X(CL_TIMEOUT, -659, NULL, "timed out")                                     \
    X(CL_CLOSE_TIMEOUT, -660, NULL, "server did not answer the close frame in time") \
    X(CL_IO, -661, NULL, "network read or write failed")

enum { PW_CLIENT_ERRORS(PW_ERR_ENUM) };

/* ---- URLs -------------------------------------------------------------- */

struct pw_url {
    char scheme[16];   /* lower case: ws wss http https socks5 socks5h */
    int tls;           /* wss, https */
    char host[256];    /* without [] for IPv6 literals */
    int ipv6;          /* host was a [bracketed] literal */
    char port[8];      /* explicit or the scheme's default */
    int port_explicit;
    char user[128];    /* percent-decoded userinfo, "" when absent */
    char pass[128];
    char target[4096]; /* path + "?" query, at least "/" (fragment dropped) */
};

/* Parses an absolute URL.  0, PW_ECL_URL (with the reason in why, static),
 * or PW_ECL_SCHEME.  Known schemes: ws wss http https socks5 socks5h socks4?
 * (no: only the first six). */
int pw_url_parse(const char *s, struct pw_url *u, const char **why);

/* "host" or "[v6]" followed by ":port" unless it is the default one. */
void pw_url_hostport(const struct pw_url *u, char *out, size_t outsz, int always_port);

/* The proxy URL from the environment for a URL of `scheme` and `host`,
 * curl's rules: http_proxy (lower case only) for ws/http, https_proxy or
 * HTTPS_PROXY for wss/https, then all_proxy/ALL_PROXY; no_proxy/NO_PROXY
 * (comma list of host suffixes, "*" for all) wins.  NULL when none.
 * The pointer is into the environment. */
const char *pw_proxy_from_env(const char *scheme, const char *host);

/* One SOCKS5 (RFC 1928/1929) reply at `step` of the tunnel set-up: 0 the
 * method choice, 1 the user/password status, 2 the CONNECT reply.  Returns
 * the bytes the reply takes (> 0), 0 when more are needed, or PW_ECL_PROXY.
 * *val: the chosen method (step 0), the status (1), the REP code (2), or -1
 * when the reply is malformed (bad address type). */
int pw_socks5_reply(int step, const uint8_t *b, size_t len, int *val);

/* ---- the stream ------------------------------------------------------- */

struct pw_stream;

struct pw_stream_opts {
    const struct pw_url *url;    /* where to go (host, port, tls) */
    const struct pw_url *proxy;  /* NULL: direct; http:// (CONNECT) or socks5[h]:// */
    const char *cacert;          /* PEM file, NULL: the system store */
    int insecure;                /* 1: no certificate verification */
    const char *alpn;            /* e.g. "http/1.1", NULL: none */
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
    uv_tcp_t tcp;
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
    void *ssl_ctx, *ssl, *rbio, *wbio;
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

/* Base64 (standard alphabet, padded) into out, NUL-terminated; returns the
 * length.  outsz must be >= 4*((n+2)/3)+1. */
size_t pw_base64(const uint8_t *in, size_t n, char *out, size_t outsz);

#endif
