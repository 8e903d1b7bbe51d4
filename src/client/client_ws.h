/* client_ws.h — a WebSocket client connection (RFC 6455) on libuv, over the
 * client stream (proxy, TLS) and the protocol core (handshake, frames).
 *
 * Life: pw_wsc_new → callbacks → on_end exactly once → pw_wsc_free (the
 * memory goes when the stream's handles are closed).  Never prints.
 */
#ifndef PW_CLIENT_WS_H
#define PW_CLIENT_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/buf.h"
#include "client.h"
#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"
#include "proto/ws_reader.h"

struct pw_wsc;

struct pw_wsc_opts {
    const struct pw_url *url;
    const struct pw_url *proxy;     /* NULL: direct */
    const char *cacert;
    int insecure;
    const char *const *headers;     /* "Name: value" lines, sent as given */
    size_t nheaders;
    const char *origin;             /* NULL: no Origin header */
    const char *const *protos;      /* offered subprotocols */
    size_t nprotos;
    int compress;                   /* offer permessage-deflate */
    uint64_t max_message;           /* 0: no limit */
    const char *target;             /* the request target (copied), NULL: url's;
                                       may be longer than a pw_url holds */
    const char *cert, *key;         /* client certificate (client.h) or NULL */
    const char *unix_path;          /* a Unix socket instead of TCP, or NULL */
};

/* what a frame looked like, for the wire view */
struct pw_wsc_frame {
    int out;                        /* 1: we sent it */
    int fin, rsv, opcode, masked;
    uint64_t len;                   /* payload length on the wire */
    const uint8_t *payload;         /* sent: the first 4 KiB at most; received: all */
    size_t plen;                    /* bytes at payload (may be < len) */
    int compressed;                 /* permessage-deflate: payload is the message
                                       bytes before deflating (sent) or after
                                       inflating (received), not the wire bytes */
    size_t message_len;             /* compressed: the size of those bytes */
};

struct pw_wsc_cb {
    void (*on_open)(struct pw_wsc *ws);
    /* a complete message; `data` valid during the call only */
    void (*on_message)(struct pw_wsc *ws, int opcode, const uint8_t *data, size_t len);
    void (*on_pong)(struct pw_wsc *ws, const uint8_t *data, size_t len);
    /* the server's close frame (code 1005 when it carried none) */
    void (*on_close)(struct pw_wsc *ws, unsigned code, const char *reason);
    /* the end: 0 after a completed close handshake; otherwise a PW_E* code
     * and ws->detail.  Exactly once. */
    void (*on_end)(struct pw_wsc *ws, int err);
    /* wire view (may be NULL): request/response heads and every frame */
    void (*on_head)(struct pw_wsc *ws, int out, const char *text, size_t len);
    void (*on_frame)(struct pw_wsc *ws, const struct pw_wsc_frame *f);
    /* all queued frames reached the kernel (may be NULL): for backpressure */
    void (*on_drain)(struct pw_wsc *ws);
};

enum pw_wsc_state { PW_WSC_CONNECTING, PW_WSC_HANDSHAKE, PW_WSC_OPEN, PW_WSC_CLOSING, PW_WSC_DONE };

struct pw_wsc {
    /* public, read-only */
    int state;
    int http_status;            /* of the handshake response, 0 before */
    struct pw_buf request;      /* the request head we sent */
    struct pw_buf response;     /* response head + body (status != 101) */
    size_t head_len;            /* bytes of response that are the head */
    char protocol[128];         /* negotiated subprotocol, "" if none */
    char extensions[256];       /* Sec-WebSocket-Extensions as answered */
    char location[300];         /* a 3xx answer's Location (not followed), "" if none */
    int deflate;                /* permessage-deflate in use */
    int close_in;               /* code the server sent, -1 none yet (1005: empty) */
    char close_in_reason[128];
    int close_out;              /* code we sent, -1 none yet */
    char detail[512];
    uint64_t msgs_in, msgs_out;
    double handshake_ms;        /* request written → response complete */
    struct pw_stream st;        /* the transport (st.peer, byte counters) */
    void *ud;
    /* private */
    uv_loop_t *loop;
    struct pw_wsc_opts o;
    struct pw_url url, proxy;
    char *target;               /* malloc'd copy of o->target, or NULL */
    struct pw_wsc_cb cb;
    char key[32];
    uint64_t t_req;
    int ending, end_err, ended, freed;
    int body_left;              /* -1: until EOF */
    struct pw_wsr reader;       /* frames in → messages (ws_reader.h) */
    struct pw_buf frame;        /* scratch for building an outgoing frame */
    struct pw_wsd wsd;          /* permessage-deflate, when deflate == 1 */
    struct pw_wsd_config wsd_cfg;
    struct pw_buf ztmp;         /* a compressed outgoing message */
};

/* Allocates and starts a connection.  Returns NULL on out-of-memory only;
 * every other failure arrives through on_end. */
struct pw_wsc *pw_wsc_new(uv_loop_t *loop, const struct pw_wsc_opts *o,
                          const struct pw_wsc_cb *cb, void *ud);
/* Queues one message (text/binary) or control frame (ping/pong), masked
 * with a fresh key.  0, PW_ESTATE when not open, PW_ENOMEM, PW_ETOOBIG. */
int pw_wsc_send(struct pw_wsc *ws, int opcode, const void *data, size_t len);
/* Starts the closing handshake (code 0: no code).  Messages still arrive
 * until the server's close; then on_end(0). */
int pw_wsc_close(struct pw_wsc *ws, unsigned code, const char *reason);
/* Bytes queued, not yet in the kernel. */
size_t pw_wsc_pending(const struct pw_wsc *ws);
/* Stop/resume reading from the server (stdout backpressure). */
void pw_wsc_pause(struct pw_wsc *ws, int paused);
/* Tears the connection down (no more callbacks) and frees it once its
 * handles are closed. */
void pw_wsc_free(struct pw_wsc *ws);
/* Where a connection that is not open yet is, in words, for a timeout's
 * message: "resolving 'HOST'", "connecting to 'HOST' port P (TCP)", "in the
 * TLS handshake with 'HOST' port P", "waiting for the server's answer to the
 * WebSocket upgrade from 'HOST' port P", ... (cut to n bytes). */
void pw_wsc_phase(const struct pw_wsc *ws, char *out, size_t n);

#endif
