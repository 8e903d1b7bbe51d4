/* server.h — the push server behind `pushwire serve` (docs/PROTOCOL.md): one libuv
 * loop, WebSocket, SSE and long polling over the pub/sub interface of
 * backlog.h.  The core never prints: every event goes to opts.log, which the
 * applet formats (text or JSON) and writes where it wants.
 */
#ifndef PW_SERVER_H
#define PW_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "host/net.h"
#include "proto/auth.h"

struct pw_pubsub;
struct pw_keyring;

/* Who may subscribe and publish, and the abuse limits (pushwire-serve(1)
 * SECURITY, docs/PROTOCOL.md#access).  Everything is the caller's and must
 * outlive pw_server_run. */
struct pw_access {
    /* --token-file (subscribing and publishing need one of its tokens),
     * --publish-token-file (publishing needs one of its), --jwt-key (JWTs
     * signed with one of them are tokens too): the files and the set in
     * force (keyring.h), reread on SIGHUP; NULL: none of them */
    struct pw_keyring *keys;
    const char *jwt_aud;            /* --jwt-aud: the audience JWTs must name; NULL: none */
    const char *const *origins;     /* --origin patterns (auth.h); none: any Origin, CORS "*" */
    size_t norigins;
    const struct pw_cidr *proxies;  /* --trusted-proxy: X-Forwarded-For is believed from these */
    size_t nproxies;
    const struct pw_cidr *exempt;   /* --limit-exempt: clients the abuse limits spare */
    size_t nexempt;
    size_t max_conns_per_ip;        /* open connections per client address; 0: no limit */
    double max_conn_rate;           /* new connections a second per client address; 0: none */
    double max_pub_rate;            /* publishes a second per connection; 0: none */
};

/* One connection event, for the log callback.  Strings may be NULL; they
 * live only during the call. */
struct pw_log {
    const char *event;      /* "listen", "open", "tls", "request", "upgrade", "close",
                               "reject", "slow", "timeout", "wire", "stdin",
                               "shutdown", "reopen", "reload", "error",
                               "expired", "revoked" */
    uint64_t conn;          /* connection number, 0 if none */
    const char *peer;       /* "127.0.0.1:5555" */
    const char *transport;  /* "http", "ws", "sse", "poll" */
    const char *method, *path, *channel;
    int status;             /* HTTP status, 0 if none */
    int code;               /* WebSocket close code, 0 if none */
    const char *detail;     /* free text: reason, rule broken, wire line */
};

/* A certificate chain and its key, PEM files (--tls-cert, --tls-key). */
struct pw_tls_pair {
    const char *cert, *key;
};

struct pw_server_opts {
    const char *const *listen;   /* "HOST:PORT" / "[V6]:PORT", "tls://" before
                                    either for TLS; port 0 = any */
    size_t nlisten;
    const struct pw_tls_pair *tls; /* for tls:// listeners: [0] the default, the
                                      others chosen by SNI; reread on SIGHUP */
    size_t ntls;
    size_t backlog;              /* messages kept per channel (>= 1) */
    size_t history_bytes;        /* all channels' history, at most (backlog.h); 0 = none */
    double message_ttl;          /* a message leaves the history this old (s); 0 = never */
    size_t max_channels;         /* a publish creating one more: 503; 0 = no limit */
    int metrics_per_channel;     /* /metrics lists channels (SRV_METRICS_CHANNELS at most) */
    double heartbeat;            /* SSE comment every N s while idle; 0 = off */
    double poll_timeout;         /* upper bound for ?timeout= (s) */
    double ping;                 /* WebSocket ping interval (s); 0 = off */
    double handshake_timeout;    /* a request head must arrive within this (s) */
    double idle_timeout;         /* nothing in or out for this long closes; 0 = off */
    double drain;                /* SIGTERM/SIGINT: end the streams spread over this (s); 0 = at once */
    size_t max_message;          /* bytes; WebSocket 1009, HTTP 413 */
    size_t max_conns;            /* beyond it: 503 */
    size_t max_head, max_headers;/* request head bytes / header count: 431 */
    size_t send_buffer;          /* per-connection queued output bound */
    /* write coalescing (ms): an event stream or WebSocket is written at most
     * once per write_delay while messages keep coming; the first after a
     * quiet write_delay leaves at once.  0: every loop turn (no delay) */
    unsigned write_delay;
    /* --write-delay-adaptive: a stream is held only while the loop is behind:
     * within the last write_delay, a stream written had messages from two
     * loop turns waiting (one came while it waited for the previous one) */
    int write_adaptive;
    /* permessage-deflate: 0 (default) answers server_no_context_takeover and
     * client_no_context_takeover, so no zlib state lives per connection and
     * a published message is compressed once for every subscriber; 1 keeps
     * context takeover (a compressor and an inflater per connection) */
    int deflate_context;
    int deflate_window;          /* window bits both ways, 9..15 (0 = 15) */
    unsigned workers;            /* event loops (threads) sharing the channels;
                                    0 or 1: one, the caller's thread; unused with pubsub.
                                    With 2 or more, history_bytes, message_ttl and
                                    max_channels are not applied (only `backlog`) */
    int echo;                    /* WebSocket: echo to the sender, do not publish */
    int read_only;               /* clients may not publish */
    int verbose;                 /* log the wire ("wire" events) */
    int quiet;                   /* no connection events to log (not even formatted) */
    int read_stdin;              /* publish stdin lines to stdin_channel */
    /* --exec: /ws/ and /sse/ run this program per connection (argv, NULL
     * terminated; the caller keeps it); NULL: they use the pub/sub. */
    const char *const *exec;
    size_t max_procs;            /* programs running at most: 503 beyond */
    double exec_grace;           /* the client left: SIGTERM this long after stdin closed,
                                    SIGKILL as long again after that (s) */
    const char *stdin_channel;   /* also the channel the page at / watches by default */
    const char *retry_ms;        /* SSE retry: value sent first */
    void (*log)(void *ud, const struct pw_log *ev);
    void (*on_hup)(void *ud);    /* SIGHUP: reopen the log */
    void *ud;
    /* Embedding (used by `replay --serve`).  pubsub: serve from this one
     * instead of a new embedded backlog (the caller keeps and destroys it;
     * `backlog`, `history_bytes`, `message_ttl`, `max_channels` are then
     * unused: pw_server_backlog makes one from them).  on_ready: called once the listeners are
     * bound, before serving, with the server's loop, so the caller can add
     * its own handles (unref them: the server's handles decide when the
     * loop ends; any left are closed when it does).  Both may be NULL. */
    struct pw_pubsub *pubsub;
    void (*on_ready)(void *ud, uv_loop_t *loop);
    /* NULL: anyone may subscribe and publish, no abuse limits. */
    const struct pw_access *access;
};

/* The embedded backlog that the options describe, or NULL (out of memory). */
struct pw_pubsub *pw_server_backlog(const struct pw_server_opts *o);

/* Blocks SIGHUP in the calling thread (and so in the threads it starts):
 * a SIGHUP that comes before the server listens for it then waits, and
 * pw_server_run takes it once every worker has its handler, instead of
 * the default action ending the process or a worker that was not ready
 * missing the reload.  Called by pw_server_run too; a caller that reads
 * files the reload rereads (tokens, the log) calls it before them. */
void pw_server_hold_hup(void);

/* Runs until SIGINT or SIGTERM, then closes every connection cleanly
 * (WebSocket 1001, SSE/poll responses ended) within a few seconds and
 * returns 0.  Errors before serving (bad address, bind) return a negative
 * PW_E* code with a message in err. */
int pw_server_run(const struct pw_server_opts *o, char *err, size_t errsz);

#endif
