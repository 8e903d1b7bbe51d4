/* srv.h — the server's internals, shared by server.c (loop, connections,
 * output), srv_http.c (requests, endpoints, SSE, long polling) and srv_ws.c
 * (WebSocket).  Not a public interface.
 *
 * A connection (struct srv_conn) does not know what carries its bytes: it
 * gets input through srv_conn_input() and puts output into its queue with
 * srv_out_*(); server.c moves bytes to and from the socket (TCP today; a TLS
 * adapter would sit at the same two points).
 *
 * Output: everything produced for a connection during one loop turn is
 * queued and written by one writev in the check phase ("corking").  The
 * queue is a list of segments: small bytes are copied into pooled chunks,
 * large message encodings are referenced (the message's refcount), never
 * copied per subscriber.
 */
#ifndef PW_SRV_H
#define PW_SRV_H

#include <uv.h>

#include "backlog.h"
#include "host/stdin_lines.h"
#include "proto/buf.h"
#include "proto/http1.h"
#include "server.h"
#include "proto/ws_frame.h"
#include "proto/ws_reader.h"

#define SRV_RBUF (64 * 1024)        /* the loop's one read buffer */
#define SRV_CHUNK 4096              /* pooled output chunk: a fan-out to 1 000 subscribers
                                       touches 1 000 of them (16 KiB ones cost p99) */
#define SRV_COPY_MAX 2048           /* larger encodings are always referenced */
#define SRV_TICK_MS 250             /* timer granularity */
#define SRV_CLOSE_GRACE_MS 2000     /* waiting for a peer's close / FIN */

/* message encodings cached on pw_msg.enc[] */
enum { ENC_WS = 0, ENC_WS_ENV = 1, ENC_SSE = 2, ENC_POLL = 3 };

enum srv_state {
    ST_HEAD = 0,    /* reading a request head */
    ST_BODY,        /* reading a POST body */
    ST_WS,          /* WebSocket open */
    ST_SSE,         /* event stream open */
    ST_POLL,        /* long poll parked */
    ST_DONE,        /* response queued; close after flush */
};

enum srv_tr { TR_HTTP = 0, TR_WS, TR_SSE, TR_POLL, TR_N };

struct srv_seg {
    struct pw_msg *ref;   /* non-NULL: bytes belong to this message */
    uint8_t *base;        /* chunk (owned, cap > 0) or encoding (ref) */
    uint32_t cap, start, end;
};

/* WebSocket state (srv_ws.c); lives in the connection, in the union below */
struct srv_ws {
    struct pw_wsr r;              /* the message reader: no heap between messages */
    struct pw_wsd *wsd;           /* heap, only when permessage-deflate was agreed */
    uint8_t close_sent;
    uint8_t awaiting_pong;        /* ping ticks since an unanswered ping (0: none) */
};

/* State only a plain HTTP exchange needs (a POST body, a parked poll). */
struct srv_http_st {
    struct pw_buf body;           /* ST_BODY: the POST body so far */
    size_t body_need;             /* ST_BODY: bytes still expected */
    char *pub_event;              /* ST_BODY: ?event= */
    char *cursor;                 /* poll: id to fetch after */
    uint8_t pub_binary;
};

struct srv_conn {
    uv_tcp_t tcp;                 /* first: handle <-> conn casts */
    struct srv *srv;
    struct srv_conn *next, *prev; /* all connections */
    struct srv_conn *dnext;       /* dirty list */
    uint64_t id;
    uint8_t state, tr;
    uint8_t dirty, closing, writing, reading, slow, keepalive, close_after, shut;
    uint8_t head_only;            /* HEAD request: no body */
    uint8_t poll_ready, envelope, ended;
    uint64_t t_deadline;          /* ms; 0 = none: timeout action */
    uint64_t t_tick;              /* ms; 0 = none: periodic action (ping, heartbeat) */
    uint64_t t_active;            /* last activity, for --idle-timeout */
    struct pw_sub sub;            /* subscription (ws, sse, poll) */
    char *channel;                /* heap, NUL-terminated; NULL if none */
    struct pw_buf in;             /* leftover input (incomplete head); empty when idle */
    /* output queue */
    struct srv_seg *seg;
    uint16_t nseg, capseg, busy;  /* segs [0,busy) are in an uv_write */
    size_t qbytes;
    struct srv_ws *ws;            /* &u.ws once upgraded, else NULL */
    /* Idle connections are most of them: what one transport needs shares
     * the space with the other's (a connection is HTTP until it upgrades). */
    union {
        struct srv_http_st h;     /* while tr is TR_HTTP or TR_POLL */
        struct srv_ws ws;         /* once state is ST_WS */
    } u;
};

struct srv_listener {
    uv_tcp_t tcp;
    struct srv *srv;
};

struct srv {
    uv_loop_t *loop;
    const struct pw_server_opts *o;
    struct pw_pubsub *ps;
    struct pw_http_limits lim;
    struct srv_listener *ls;
    size_t nls;
    uv_check_t check;
    uv_timer_t tick, hard_stop;
    uv_signal_t sig[3];
    struct pw_stdin in;           /* --stdin lines to publish (host/stdin_lines.h) */
    struct srv_conn conns;        /* list sentinel (only next/prev used) */
    struct srv_conn *dirty;
    size_t nconns;
    uint64_t next_id;
    int stopping, finished;
    uint8_t *rbuf;                /* SRV_RBUF bytes */
    int rbuf_busy;
    void *pool;                   /* free SRV_CHUNK chunks (linked) */
    size_t npool;
    uint64_t now;                 /* uv_now at the last tick */
    struct pw_buf scratch;        /* per-message work space (compression) */
    const struct pw_http_req *cur_req; /* while a request is routed, for the log */
    /* metrics */
    uint64_t m_accepted, m_msgs_in, m_msgs_out, m_bytes_in, m_bytes_out;
    uint64_t m_slow, m_rejected_conns, m_requests, m_proto_errors, m_timeouts;
    size_t m_by_tr[TR_N];
};

extern const char *const srv_tr_name[TR_N];

/* server.c */
void srv_log(struct srv *s, struct srv_conn *c, const char *event, int status, int code,
             const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int srv_out(struct srv_conn *c, const void *p, size_t n);
int srv_outf(struct srv_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Queues message encoding slot `enc` (built by the caller beforehand). */
int srv_out_msg(struct srv_conn *c, struct pw_msg *m, int enc);
void srv_dirty(struct srv_conn *c);
void srv_close(struct srv_conn *c, const char *why);    /* now, drops queued output */
void srv_end(struct srv_conn *c);                       /* after queued output is written */
void srv_set_transport(struct srv_conn *c, int tr);
int srv_subscribe(struct srv_conn *c, const char *ch, size_t len,
                  void (*deliver)(struct pw_sub *, struct pw_msg *));
void srv_unsubscribe(struct srv_conn *c);
void srv_read_pause(struct srv_conn *c, int pause);
/* After a parked poll's answer is queued: the input the client pipelined
 * behind it (kept in c->in), in order. */
void srv_input_pending(struct srv_conn *c);
int srv_publish(struct srv *s, const char *ch, size_t chlen, const char *event,
                const void *data, size_t len, int binary, struct pw_msg **out);
/* 1 if the queue is over the send bound: the subscriber is too slow. */
int srv_over_limit(struct srv_conn *c, size_t more);
void srv_slow(struct srv_conn *c);

/* srv_http.c */
size_t srv_http_input(struct srv_conn *c, uint8_t *p, size_t n);
void srv_http_response(struct srv_conn *c, int status, const char *ctype, const char *extra,
                       const void *body, size_t len);
void srv_http_error(struct srv_conn *c, int status, const char *msg, const char *rule);
void srv_poll_flush(struct srv_conn *c);
void srv_http_st_free(struct srv_conn *c); /* frees c->u.h and zeroes it */
void srv_poll_timeout(struct srv_conn *c);
void srv_sse_heartbeat(struct srv_conn *c);
void srv_sse_shutdown(struct srv_conn *c);
const uint8_t *srv_msg_enc(struct srv_conn *c, struct pw_msg *m, int enc, size_t *len);
void srv_metrics(struct srv_conn *c);
extern const char srv_page_html[];
extern const size_t srv_page_len;

/* srv_ws.c */
int srv_ws_upgrade(struct srv_conn *c, const struct pw_http_req *req, const char *ch,
                   size_t chlen);
size_t srv_ws_input(struct srv_conn *c, uint8_t *p, size_t n);
void srv_ws_tick(struct srv_conn *c);
void srv_ws_close(struct srv_conn *c, unsigned code, const char *reason);
void srv_ws_free(struct srv_conn *c);
int srv_ws_enc(struct pw_msg *m, int envelope);

#endif
