/* srv.h — the server's internals, shared by server.c (loop, connections,
 * output), srv_http.c (requests, endpoints, SSE, long polling) and srv_ws.c
 * (WebSocket).  Not a public interface.
 *
 * Layers: server.c is the bottom and knows no protocol.  It moves bytes
 * between the socket and a connection, and calls the connection's transport
 * (struct srv_ops) for everything that depends on what the connection is:
 * input, ticks, timeouts, shutdown, slow subscribers, free.  srv_http.c and
 * srv_ws.c provide the tables and call down into server.c (srv_out, srv_end,
 * srv_close, ...); srv_http.c hands a connection to srv_ws.c at the upgrade,
 * the one call between them.  What /ws/ and /sse/ connect to (struct
 * srv_attach) is the pub/sub, or with --exec a program per connection
 * (srv_exec.c: its own ws and sse tables, built from srv_ws.c's and
 * srv_http.c's parts).
 *
 * Bytes: everything from the peer enters through one function (srv__feed in
 * server.c) and everything to the peer leaves through one (srv__write in
 * server.c).  A byte layer (struct srv_layer: TLS, srv_tls.c) sits between
 * the socket and those two when the connection's listener has one.
 *
 * Output: everything produced for a connection during one loop turn is
 * queued and written by one writev in the check phase ("corking"); a check
 * phase writes at most SRV_FLUSH_SLICE connections, the rest in the next
 * turns (a wide fan-out), with what was queued for them meanwhile.  With
 * --write-delay D an event stream or WebSocket written in a check phase is
 * held for D ms (srv.held): what is queued for it meanwhile waits and leaves
 * in one write at the end of the delay, unless it is urgent (an answer to
 * its own input, a resume's page, its end).  The
 * queue is a list of segments: small bytes are copied into pooled chunks,
 * large message encodings are referenced (the message's refcount), never
 * copied per subscriber.
 */
#ifndef PW_SRV_H
#define PW_SRV_H

#include <sys/uio.h>
#include <uv.h>

#include "backlog.h"
#include "feed.h"
#include "host/stdin_lines.h"
#include "iptable.h"
#include "slab.h"
#include "proto/auth.h"
#include "proto/buf.h"
#include "proto/http1.h"
#include "server.h"
#include "proto/ws_frame.h"
#include "proto/ws_reader.h"

#define SRV_RBUF (128 * 1024)       /* the loop's one read buffer: a client's batch of 16 4 KiB
                                       frames (65.6 KiB) in one read */
#define SRV_CHUNK 4096              /* pooled output chunk: a fan-out to 1 000 subscribers
                                       touches 1 000 of them (16 KiB ones cost p99) */
#define SRV_POOL_MAX 1024           /* free chunks kept for reuse (4 MiB) */
#define SRV_POOL_KEEP 64            /* a pool that went unused for a tick is trimmed to this */
#define SRV_COPY_MAX 2048           /* larger encodings are always referenced */
#define SRV_SEG_FIRST 4             /* a queue's first segment array */
#define SRV_SEG_MAX 4096            /* segments queued per connection, at most */
#define SRV_SEG_KEEP 32             /* a larger array is freed once empty (a small one:
                                       at the next tick, so an idle connection has none;
                                       32: a batch of echoes, one segment each from the
                                       read buffer, reuses it instead of 4 -> 8 -> 16) */
#define SRV_IOV 64                  /* segments per write call */
#define SRV_WRITE_ROUNDS 8          /* writev calls per flush while the socket takes all */
#define SRV_READ_ROUNDS 4           /* reads per readiness while each fills the buffer */
#define SRV_DIRTY_GONE 2            /* srv_conn.dirty: closed while queued, freed when reached */
#define SRV_DIRTY_HELD 3            /* srv_conn.dirty: on srv.held (written within --write-delay) */
#define SRV_HOLD_RING 64            /* srv.held's write times kept (one per check phase that
                                       held any); when full the newest is merged into the one
                                       before it, which only releases early */
#define SRV_FLUSH_SLICE 128         /* connections written per check phase; more wait for the
                                       next turn, after a poll for input (fan-out latency) */
#define SRV_WS_PUBS 128             /* a WebSocket's publishes awaiting the backend's ack, at
                                       most: past it its input waits (a Redis backend acks
                                       later; the memory one at once) */
#define SRV_TICK_MS 250             /* timer granularity */
#define SRV_TRIM_AT (1u << 20)      /* free heap from which pages go back (srv__trim_tick) */
#define SRV_CLOSE_GRACE_MS 2000     /* waiting for a peer's close / FIN */
#define SRV_SEND_SLACK 16384       /* one message is queued whole with this much before it,
                                       whatever --send-buffer (cmd/serve.c: its floor) */
#define SRV_END_GRACE_MS 5000       /* an ended connection's queue must drain within this */
#define SRV_STOP_GRACE_MS 3000      /* SIGINT/SIGTERM: then every connection is cut */
#define SRV_LISTEN_BACKLOG 4096     /* listen(2) queue */
#define SRV_OUTF_MAX 2048           /* one srv_outf (a response head), at most */
#define SRV_LOG_DETAIL_MAX 512      /* a log event's detail, cut there */
#define SRV_ADDR_MAX 64             /* "[IPv6]:port", formatted */
/* A peer that sends faster than it reads: reading pauses while its queue
 * is over half of --send-buffer, and resumes below a quarter. */
#define SRV_PAUSE_AT(send_buffer) ((send_buffer) / 2)
#define SRV_SEG_PAUSE (SRV_SEG_MAX / 2) /* input stops past this many queued segments too */
#define SRV_RESUME_AT(send_buffer) ((send_buffer) / 4)
/* A resume (feed.h) replays history at the same marks: its next page is
 * fetched once the queue is below a quarter of --send-buffer, and a page
 * stops at half; a page is at most SRV_PAGE_MSGS messages. */
#define SRV_PAGE_MSGS 1024
#define SRV_SCRATCH_KEEP (256 * 1024) /* a larger srv.scratch is freed after use */
#define SRV_CONTAINER(p, type, field) ((type *)((char *)(p) - offsetof(type, field)))

/* message encodings cached on pw_msg.enc[]; ENC_WS_Z and ENC_WS_ENV_Z are
 * ENC_WS and ENC_WS_ENV compressed (permessage-deflate, no context
 * takeover), or length 0 when compression does not pay for the message */
enum { ENC_WS = 0, ENC_WS_ENV = 1, ENC_SSE = 2, ENC_POLL = 3, ENC_WS_Z = 4, ENC_WS_ENV_Z = 5 };

/* /metrics counts open connections by transport, one slot each
 * (srv_ops.slot); a table that adds a way to reach the same clients (TLS,
 * --exec) counts in the slot of the transport the client sees. */
enum srv_slot { SRV_SLOT_HTTP = 0, SRV_SLOT_WS, SRV_SLOT_SSE, SRV_SLOT_POLL, SRV_NSLOTS };

struct srv_conn;
struct srv_tls_shared;

/* A connection's transport: everything server.c does that depends on what
 * the connection is goes through its table.  One const table per transport
 * (srv_http.c: http, sse, poll; srv_ws.c: ws); a connection starts with its
 * listener's and changes it with srv_set_ops (HTTP to SSE, poll or
 * WebSocket; a poll back to HTTP once answered).  Entries not marked "may be
 * NULL" are always set.  None is called once the connection is ending
 * (srv_end: the answer is queued) except free; each may close it. */
struct srv_ops {
    const char *name;       /* the log's "transport" */
    uint8_t slot;           /* enum srv_slot */
    uint16_t slow_code;     /* close code a slow subscriber gets, for the log (0: none) */
    /* Bytes from the peer, in order: returns how many it used; the rest is
     * kept in c->in (bounded) and offered again, first, with the next read.
     * Setting c->in_wait (and returning less than n) says "no more until
     * my queue drains": the rest waits in c->in, fed again first.
     * NULL: the connection takes no input for now (a parked long poll, a
     * publish waiting for its ack: what the client pipelines waits in
     * c->in, up to its bound, then reading pauses until srv_input_pending). */
    size_t (*input)(struct srv_conn *c, uint8_t *p, size_t n);
    const char *eof;        /* close reason when the peer ends first (NULL: "done") */
    void (*open)(struct srv_conn *c);     /* accepted with this table; may be NULL */
    void (*tick)(struct srv_conn *c);     /* t_tick reached (ping, heartbeat); may be NULL */
    void (*deadline)(struct srv_conn *c); /* t_deadline reached */
    void (*idle)(struct srv_conn *c);     /* --idle-timeout passed; NULL: not for it */
    void (*shutdown)(struct srv_conn *c); /* the server is stopping: end cleanly */
    void (*slow)(struct srv_conn *c);     /* over --send-buffer (srv_slow): drop the
                                             subscriber; NULL if srv_slow is never called */
    void (*ready)(struct srv_conn *c);    /* after srv_ready(), in the check phase before the
                                             write (a parked poll's answer); may be NULL */
    void (*expire)(struct srv_conn *c);   /* t_expire reached: the token the connection came
                                             with expired (srv_auth.c); may be NULL */
    void (*free)(struct srv_conn *c);     /* srv_close: release the transport's state */
    /* A whole WebSocket message from the client (ws tables only): published,
     * echoed, or a line for --exec's program.  NULL for the others. */
    void (*message)(struct srv_conn *c, int opcode, const uint8_t *p, size_t len);
    /* The queue fell below SRV_RESUME_AT after a write: a producer that
     * stopped for it (--exec's program) may go on.  May be NULL. */
    void (*drained)(struct srv_conn *c);
    /* Every tick: give back what only work in flight needs once the
     * connection has been quiet since the last one (a WebSocket's message
     * reader), so an idle connection holds none of it.  May be NULL. */
    void (*trim)(struct srv_conn *c);
};

/* A byte layer between the socket and the transport (srv_tls.c: TLS); a
 * plain connection has none (c->layer NULL).  server.c hands it the
 * socket's bytes instead of calling srv__feed (it calls srv__feed with what
 * it decodes), lets it send the queue instead of srv__write, lets it end
 * the stream before the FIN, and frees it once the handle is closed. */
struct srv_layer {
    const char *name;
    /* accepted on a listener with this layer: c->lst set up; 0, or a
     * negative PW_E* (the connection is then closed) */
    int (*open)(struct srv_conn *c);
    void (*input)(struct srv_conn *c, uint8_t *p, size_t n);
    /* called by srv__flush (not closing, no write in flight): sends what is
     * queued; 1 while output is still pending (a write in flight, or the
     * layer is not ready to send), 0 once everything is handed to the socket */
    int (*write)(struct srv_conn *c);
    void (*end)(struct srv_conn *c);    /* the answer is complete, before the FIN */
    void (*free)(struct srv_conn *c);   /* the handle is closed: release c->lst */
};

struct srv_seg {
    struct pw_msg *ref;   /* non-NULL: bytes belong to this message */
    uint8_t *base;        /* chunk (owned, cap > 0) or encoding (ref) or the
                             read buffer (lent) */
    uint32_t cap, start, end;
    uint8_t lent;         /* base is the read buffer's (srv_out_lend): written or
                             copied before the read callback returns */
};

/* WebSocket state (srv_ws.c); lives in the connection, in the union below */
struct srv_ws {
    struct pw_wsr *r;             /* the message reader: heap from the first byte read,
                                     freed by ops->trim once quiet between messages */
    struct pw_wsd *wsd;           /* heap, only when permessage-deflate was agreed */
    uint8_t close_sent;
    uint8_t awaiting_pong;        /* ping ticks since an unanswered ping (0: none) */
    uint8_t envelope;             /* pushwire.v1: messages go as JSON envelopes */
    uint8_t zshared;              /* deflate without context takeover at the server's window:
                                     the message's shared compressed frame fits */
    uint8_t read_since_trim;      /* input came since the last ops->trim */
    uint8_t in_feed;              /* r is being fed: srv_ws_free leaves it to srv_ws_input */
    uint16_t pubs;                /* publishes not yet acknowledged (SRV_WS_PUBS) */
};

/* A POST whose body is being read (srv_http.c): heap, only then. */
struct srv_pub {
    struct pw_buf body;           /* the body so far */
    size_t body_need;             /* body bytes still expected (> 0) */
    char *event;                  /* ?event=, or NULL */
    uint8_t binary;
};

/* State only a plain HTTP exchange needs (a POST body, a parked poll). */
struct srv_http_st {
    struct srv_pub *pub;          /* a POST body being read, or NULL */
    struct pw_sub sub;            /* poll: its subscription while parked */
    char *cursor;                 /* poll: id to fetch after; NULL none, "" unreadable */
    char *origin;                 /* the request's Origin, to echo in CORS answers
                                     (srv_auth_origin; only with --origin) */
    float poll_timeout;           /* poll: ?timeout= (s) */
    uint8_t fetching;             /* poll: a page is on its way */
    uint8_t expired;              /* poll: answer the next page, even empty */
};
/* Frees a POST's body state (c->u.h.pub), if any. */
void srv_pub_drop(struct srv_conn *c);

/* Who is at the other end, for the access rules (srv_auth.c). */
struct srv_client {
    uint8_t addr[16];             /* the client: the peer, or the address a --trusted-proxy
                                     named (IPv4 mapped, proto/auth.h) */
    uint8_t counted;              /* counted under addr in the per-address table */
    uint8_t proxied;              /* the peer is a --trusted-proxy */
    uint8_t limited;              /* the abuse limits apply (not --limit-exempt) */
    struct pw_bucket pub;         /* --max-pub-rate */
};

#define SRV_CRED_REVOKED 0xff       /* srv_conn.cred: a reload took it away (ops->expire ran) */

struct srv_conn {
    struct srv *srv;
    struct srv_conn *next, *prev; /* all connections */
    struct srv_conn *dnext;       /* srv.dirty or srv.held; closed off them, srv.closed */
    uint64_t id;
    uint64_t t_deadline;          /* ms; 0 = none: ops->deadline */
    uint64_t t_tick;              /* ms; 0 = none: ops->tick (ping, heartbeat) */
    uint64_t t_active;            /* last activity, for --idle-timeout */
    uint64_t t_expire;            /* ms; 0 = none: ops->expire (a token's exp) */
    struct srv_client *cl;        /* heap, only for a client the abuse limits apply to or
                                     a --trusted-proxy (srv_auth.c); else NULL */
    struct pw_feed *feed;         /* heap: an SSE or WebSocket subscriber's resume, then live */
    struct srv_conn *rnext;       /* srv.ready list */
    char *channel;                /* heap, NUL-terminated; NULL if none */
    struct pw_buf in;             /* input not used yet (incomplete head, or pipelined
                                     behind a parked poll); empty when idle */
    /* output queue */
    struct srv_seg *seg;
    uint16_t nseg, capseg;
    int fd;                       /* the socket, on srv.epfd (srv_io.c); -1 once closed */
    /* flags, one bit each (they fill the bytes after the counts) */
    unsigned dirty : 2;           /* on srv.dirty: 1, or SRV_DIRTY_GONE */
    unsigned closing : 1, slow : 1, keepalive : 1;
    unsigned reading : 1;         /* input wanted (EPOLLIN) */
    unsigned writing : 1;         /* the socket took less than was queued: EPOLLOUT awaited */
    unsigned ep_in : 1, ep_out : 1; /* what srv.epfd watches for it (srv_io.c: registered
                                     eagerly, dropped lazily) */
    unsigned shut : 1;            /* answered (close_after) and its queue written: input is
                                     dropped, the layer's end (TLS close_notify) begun */
    unsigned fin : 1;             /* shutdown(SHUT_WR) done: waiting for the peer's FIN */
    unsigned close_after : 1;     /* srv_end: answered, close once the queue is written */
    unsigned head_only : 1;       /* HEAD request: no body */
    unsigned ready : 1;           /* srv_ready: ops->ready in the check phase */
    unsigned held : 1;            /* srv_read_hold: reading stays paused whatever the queue */
    unsigned feeding : 1;         /* input is being fed (srv_input_pending waits for it) */
    unsigned feed_ready : 1;      /* on srv.ready: a resume wants its next page, or
                                     input kept (in_wait) can go on */
    unsigned in_wait : 1;         /* the transport stopped taking input when its queue
                                     passed SRV_PAUSE_AT: the rest waits in c->in, reading
                                     paused, and is fed once the queue drains (srv.ready) */
    unsigned no_publish : 1;      /* a WebSocket whose credentials do not allow publishing */
    unsigned hurry : 1;           /* what is queued is urgent: not held by --write-delay */
    unsigned drained : 1;         /* stopping with --drain: told to end (ops->shutdown) */
    /* --write-delay-adaptive: since its last write, messages were queued for it
     * while it waited for the loop (not while held): q1 in loop turn qturn,
     * qmany in a later turn too (the loop fell behind: it is held after its
     * write) */
    unsigned q1 : 1, qmany : 1, qturn : 8;
    /* the credential that let it subscribe: 1 + its index in the worker's
     * token set (srv_auth.c), SRV_CRED_REVOKED once a reload took it away,
     * 0 none.  In the padding before qbytes: the struct does not grow */
    uint8_t cred;
    size_t qbytes;
    const struct srv_ops *ops;    /* the transport */
    struct srv_exec *exec;        /* --exec: the connection's program (srv_exec.c), or NULL */
    const struct srv_layer *layer;/* under the transport (TLS); NULL: plain */
    void *lst;                    /* the layer's state */
    /* Idle connections are most of them: what one transport needs shares
     * the space with the other's (a connection is HTTP until it upgrades). */
    union {
        struct srv_http_st h;     /* http, sse, poll */
        struct srv_ws ws;         /* ws */
    } u;
};

struct srv_listener {
    uv_poll_t poll;               /* readable: connections to accept (srv_io.c) */
    int fd;                       /* the listening socket; closed with the poll handle */
    struct srv *srv;
    const struct srv_ops *ops;    /* what an accepted connection starts as */
    const struct srv_layer *layer;/* its byte layer (tls://), or NULL */
};

struct srv_attach;

struct srv {
    uv_loop_t *loop;
    const struct srv_attach *attach; /* what /ws/ and /sse/ connect to */
    size_t nprocs;                /* --exec programs running (reaped ones are not) */
    uint64_t m_exec_started, m_exec_refused, m_exec_failed; /* --exec programs (srv_exec_metrics) */
    size_t heap_free_prev;        /* the heap's free bytes at the last tick, */
    size_t heap_free_trimmed;     /* ... and at the last trim (srv__trim_tick) */
    const struct pw_server_opts *o;
    struct pw_pubsub *ps;
    struct pw_http_limits lim;
    struct srv_listener *ls;
    size_t nls;
    uv_check_t check;
    uv_idle_t idle;               /* active while resumes wait for their next page */
    struct srv_conn *ready;       /* those resumes (feed_ready) */
    size_t lowat, hiwat;          /* resume pacing: next page below lowat, a page stops at hiwat */
    uv_timer_t tick, hard_stop;
    uv_signal_t sig[3];
    struct pw_stdin in;           /* --stdin lines to publish (host/stdin_lines.h) */
    int epfd;                     /* every connection's socket (srv_io.c) ... */
    uv_poll_t io;                 /* ... watched by the loop through this one handle */
    int spare_fd;                 /* given up to shed connections when out of fds */
    struct srv_conn *closed;      /* closed, freed once no epoll batch can name them */
    struct srv_conn conns;        /* list sentinel (only next/prev used) */
    struct srv_conn *dirty, *dirty_tail; /* connections with output, oldest first */
    /* --write-delay: connections written within the last write_delay ms,
     * oldest first (linked by dnext, dirty SRV_DIRTY_HELD); hring says when
     * each run of them was written, from hring[hhead] */
    struct srv_conn *held, *held_tail;
    struct srv_hold_run { uint64_t t; uint32_t n; } hring[SRV_HOLD_RING];
    uint8_t hhead, hlen;
    uint8_t hurry_walk;           /* a held connection got urgent output: walk srv.held */
    uint8_t paging;               /* a resume's page is being queued (srv__pump_ready) */
    uint64_t write_delay;         /* ms, from the options; 0: nothing is held */
    uint8_t write_adaptive;       /* --write-delay-adaptive: hold streams only while the
                                     loop is behind (t_behind) */
    uint8_t turn;                 /* check phases, counted (srv_conn.qturn) */
    uint64_t t_behind;            /* 1 + when a stream was last written that the loop had
                                     fallen behind (qmany); 0: never */
    uv_timer_t hold_timer;        /* the oldest held run's end */
    size_t nconns;
    uint64_t next_id;
    int stopping, finished;
    int unread;                   /* a connection is refused at accept, before a request was
                                     read: its CORS answer cannot echo an Origin (srv_auth_cors) */
    uint64_t drain_start, drain_end; /* --drain: when it began and ends (0 once every
                                        stream was told) */
    size_t drain_n, drain_told;   /* the streams open when it began; told since */
    uint8_t *rbuf;                /* SRV_RBUF bytes */
    /* what a connection keeps while it lives, packed apart from the heap's
     * temporaries (slab.h): the struct, its feed, its channel name */
    struct pw_slab conn_slab, feed_slab;
    struct pw_strslab chan_slab;
    void *pool;                   /* free SRV_CHUNK chunks (linked) */
    size_t npool;
    size_t pool_low;              /* the fewest free chunks since the last tick */
    struct pw_buf scratch;        /* per-message work space (compression) */
    struct srv_conn *lend;        /* the plain connection rbuf is being fed to now, */
    const uint8_t *lend_end;      /* ... up to here: srv_out_lend may queue rbuf's bytes */
    uint8_t lent;                 /* it did: write or copy them before rbuf is reused */
    struct pw_wsz wsz[8];         /* permessage-deflate without context takeover: one
                                     compressor per window (8..15 bits), zlib state on first
                                     use, shared by every connection (srv_ws.c) */
    const struct pw_http_req *cur_req; /* while a request is routed, for the log */
    struct srv_tls_shared *tls;   /* certificates and TLS buffers (srv_tls.c); NULL: no TLS */
    struct pw_hub *hub;           /* --workers: the shared channels (hub.h); NULL: one loop */
    unsigned wid;                 /* this worker's number (0: the one that logs once) */
    struct srv_auth *auth;        /* access rules and abuse limits (srv_auth.c); NULL: none */
    /* metrics (this worker's; srv_counts sums the workers) */
    uint64_t m_accepted, m_msgs_in, m_msgs_out, m_bytes_in, m_bytes_out;
    uint64_t m_slow, m_rejected_conns, m_requests, m_proto_errors, m_timeouts;
    size_t m_by_slot[SRV_NSLOTS];
    uint64_t m_stream_writes;     /* writes to event streams and WebSockets */
};

/* /metrics' counters over every worker (srv_counts), in this order. */
#define SRV_NREFUSED 6            /* srv_auth.c's reasons */
struct srv_counts {
    uint64_t accepted, msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t slow, rejected_conns, requests, proto_errors, timeouts;
    uint64_t by_slot[SRV_NSLOTS];
    uint64_t stream_writes;
    uint64_t conn_bytes;          /* the slabs' objects out: connections, feeds, channel names */
    /* srv_auth_counts, srv_tls_counts: what the access rules refused by
     * reason, tokens expired and revoked, client addresses held and forgotten, TLS
     * handshakes done and failed */
    uint64_t refused[SRV_NREFUSED];
    uint64_t tokens_expired, tokens_revoked, client_addrs, addrs_evicted;
    uint64_t tls_handshakes, tls_failures;
};
void srv_counts(const struct srv *s, struct srv_counts *out);
/* Worker j's own counters (--workers; j < srv_workers). */
void srv_counts_worker(const struct srv *s, unsigned j, struct srv_counts *out);
unsigned srv_workers(const struct srv *s);
/* Open connections over every worker (--max-conns). */
size_t srv_conns_total(const struct srv *s);

/* Options are seconds, the loop counts milliseconds. */
static inline uint64_t srv_ms(double secs)
{
    return (uint64_t)(secs * 1000);
}
/* The loop time `secs` from now, for t_deadline and t_tick. */
static inline uint64_t srv_in(const struct srv *s, double secs)
{
    return uv_now(s->loop) + srv_ms(secs);
}

/* server.c: the bottom layer, called by srv_http.c and srv_ws.c */
void srv_log(struct srv *s, struct srv_conn *c, const char *event, int status, int code,
             const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Output: queued (copied, or the message referenced), written in the check
 * phase; 0, PW_ENOMEM, or PW_ENET_CLOSED once the connection is closing. */
int srv_out(struct srv_conn *c, const void *p, size_t n);
int srv_outf(struct srv_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* srv_out of a then b (a frame's header and payload), in one step when
 * both fit the last chunk. */
int srv_out2(struct srv_conn *c, const void *a, size_t an, const void *b, size_t bn);
/* Queues head[0..hl) then p[0..n) (a reply frame).  When p lies in the
 * read buffer being fed to c with at least hl bytes of the same read before
 * it that were consumed already (the frame's own header), the head is
 * written over them and the frame queued in place, not copied: it is
 * written, or copied if the socket does not take it, before the read
 * callback returns.  Otherwise both are copied as srv_out.  Returns as
 * srv_out. */
int srv_out_lend(struct srv_conn *c, const uint8_t *head, size_t hl, const uint8_t *p, size_t n);
/* Queues message encoding slot `enc` (built by the caller beforehand). */
int srv_out_msg(struct srv_conn *c, struct pw_msg *m, int enc);
/* Queues m's encoding `enc`: the cached one if it was built already, else
 * one that build() appends to a scratch buffer for this copy only (a replay
 * of history must not grow every old message by its encodings).  0,
 * PW_ENET_SLOW (over --send-buffer: nothing queued) or another PW_E* code. */
int srv_out_msg_once(struct srv_conn *c, struct pw_msg *m, int enc,
                     int (*build)(struct pw_msg *m, int enc, struct pw_buf *b));
/* 1 if the queue is over the send bound: the subscriber is too slow. */
int srv_over_limit(struct srv_conn *c, size_t more);
void srv_close(struct srv_conn *c, const char *why);    /* now, drops queued output */
void srv_end(struct srv_conn *c);                       /* after queued output is written */
/* The connection is another transport from now on (metrics follow). */
void srv_set_ops(struct srv_conn *c, const struct srv_ops *ops);
/* Calls ops->ready in this turn's check phase, before the write. */
void srv_ready(struct srv_conn *c);
/* A deliver() found the queue over --send-buffer: counted, logged,
 * unsubscribed, then ops->slow (once). */
void srv_slow(struct srv_conn *c);
/* After queueing a message with result rc: PW_ENET_SLOW → srv_slow; 0 →
 * counted as sent and the connection active.  Returns rc. */
int srv_sent(struct srv_conn *c, int rc);
/* A feed's msg op asks whether this connection takes one more message:
 * -1 closing or slow (stop), 1 a history message must wait for the queue
 * to drain under the high-water mark, 0 yes. */
int srv_feed_room(struct srv_conn *c, int live);
/* A long poll's subscription (c->u.h.sub). */
int srv_subscribe(struct srv_conn *c, const char *ch, size_t len,
                  void (*deliver)(struct pw_sub *, struct pw_msg *));
/* SSE and WebSocket: subscribe to c->channel with a feed (feed.h) that
 * first replays what is held after `after` (NULL: live only;
 * PW_FEED_UNREADABLE: a gap), a page at a time as the queue drains below
 * lowat (a page stops at hiwat).  0, or a PW_E* code (nothing started). */
int srv_feed_start(struct srv_conn *c, const char *after, const struct pw_feed_ops *ops);
/* c->channel: a copy of ch[0..len) (0, or PW_ENOMEM), and gone again (NULL). */
int srv_channel_set(struct srv_conn *c, const char *ch, size_t len);
void srv_channel_drop(struct srv_conn *c);
/* The feed wants a page: fetched in a check phase once c's queue is below
 * lowat, one page per connection per loop turn. */
void srv_feed_hungry(struct srv_conn *c);
/* Stops the feed and the poll's subscription (and cancels a poll's page on
 * its way). */
void srv_unsubscribe(struct srv_conn *c);
void srv_read_pause(struct srv_conn *c, int pause);
/* The queue is past the point where a connection's input stops (half of
 * --send-buffer, or SRV_SEG_PAUSE segments). */
static inline int srv_queue_full(const struct srv_conn *c)
{
    return c->qbytes > SRV_PAUSE_AT(c->srv->o->send_buffer) || c->nseg > SRV_SEG_PAUSE;
}
/* A transport holds reading paused (1) until it lets go (0): the queue's
 * own pausing and resuming leave it alone meanwhile. */
void srv_read_hold(struct srv_conn *c, int hold);
/* After a parked connection's answer is queued: the input the client
 * pipelined behind it (kept in c->in), in order.  Nothing while that input
 * is being fed already (the answer came at once, inside it). */
void srv_input_pending(struct srv_conn *c);
/* Publishes a new message; ack as in backlog.h (NULL: none wanted).  0 or
 * a PW_E* code (no ack then). */
int srv_publish(struct srv *s, const char *ch, size_t chlen, const char *event,
                const void *data, size_t len, int binary, pw_ack_fn ack, void *ud);

/* The byte seam, for a layer (server.c): bytes from the peer, in order, to
 * the transport; queued output written (or handed to the layer) now; n
 * bytes of the queue written, dropped from its front. */
void srv__feed(struct srv_conn *c, uint8_t *p, size_t n);
void srv__flush(struct srv_conn *c);
void srv__consume(struct srv_conn *c, size_t n);

/* The socket's side of a connection, for srv_io.c (server.c): a listener
 * accepted fd (non-blocking; the connection is set up, or fd closed); the
 * socket is readable (or hung up) while c->reading; writable (or failed)
 * while c->writing; a closed connection's last release. */
void srv__accepted(struct srv_listener *l, int fd);
void srv__readable(struct srv_conn *c);
void srv__writable(struct srv_conn *c);
void srv__conn_free(struct srv_conn *c);

/* srv_io.c: the connections' sockets, on one epoll fd per loop (srv.epfd)
 * that libuv watches through one uv_poll_t; level-triggered. */
/* Makes srv.epfd and its handle (srv.loop set): 0, or PW_ENET_LOOP with a
 * message in err.  srv_io_stop closes the handle (the loop may end);
 * srv_io_free, after the loop, the fds and the closed connections. */
int srv_io_start(struct srv *s, char *err, size_t errsz);
void srv_io_stop(struct srv *s);
void srv_io_free(struct srv *s);
/* Watches what c->reading and c->writing ask for, where it is not watched
 * yet (what is no longer asked for is dropped when an event for it comes,
 * so a pause and a resume cost no system call): 0 or a negative errno. */
int srv_io_want(struct srv_conn *c);
/* The socket took less than was queued: c->writing, and EPOLLOUT watched.
 * 0 or a negative errno. */
int srv_io_wait_out(struct srv_conn *c);
/* Bytes the socket took (0: it is full), or a negative errno. */
ssize_t srv_io_writev(struct srv_conn *c, const struct iovec *iov, int n);
/* srv_close's end: the fd unwatched and closed; c is freed (srv__conn_free)
 * once no epoll batch can name it: srv_io_reap (after a batch, in the check
 * phase, after the loop), or when taken off srv.dirty or srv.held. */
void srv_io_close(struct srv_conn *c);
void srv_io_reap(struct srv *s);
/* A non-blocking TCP socket bound to ss (SO_REUSEADDR; SO_REUSEPORT if
 * asked; IPv6 only for IPv6): the fd, or a negative errno. */
int srv_io_bind(const struct sockaddr_storage *ss, int reuseport);
/* Listens on fd (taken: closed on failure or with the listener) and
 * accepts on the loop: 0 or a negative errno.  srv_io_unlisten stops. */
int srv_io_listen(struct srv *s, struct srv_listener *l, int fd);
void srv_io_unlisten(struct srv_listener *l);

/* srv_tls.c: TLS listeners (tls://) */
extern const struct srv_layer srv_tls_layer;
/* Loads o->tls's certificates (one context per pair, chosen by SNI): 0, or a
 * negative PW_E* code with a message in err. */
int srv_tls_setup(struct srv *s, char *err, size_t errsz);
/* SIGHUP: new handshakes use the certificates as they are on disk now;
 * open connections keep theirs.  A pair that does not load keeps the old
 * set and is logged. */
void srv_tls_reload(struct srv *s);
void srv_tls_cleanup(struct srv *s);
/* The TLS counters for /metrics (only when s->tls). */
void srv_tls_metrics(const struct srv *s, struct pw_buf *b, const struct srv_counts *t);
void srv_tls_counts(const struct srv *s, struct srv_counts *t);

/* What a WebSocket (/ws/CHANNEL) and an event stream (/sse/CHANNEL)
 * connect to, picked once at start: the pub/sub (srv_attach_pubsub) or a
 * program per connection (srv_attach_exec).  ws: as srv_ws_upgrade.  sse:
 * answers the request itself (the stream, or an error). */
struct srv_refusal;
struct srv_attach {
    int (*ws)(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
              struct srv_refusal *no);
    void (*sse)(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen);
};

/* srv_http.c: HTTP/1.1, SSE, long polling */
extern const struct srv_ops srv_http_ops; /* every accepted connection starts here */
extern const struct srv_attach srv_attach_pubsub;
/* A JSON error answer; the connection ends after it (503 adds Retry-After). */
void srv_http_error(struct srv_conn *c, int status, const char *msg, const char *rule);
/* The connection (its channel set) becomes an event stream with table ops:
 * the 200 head, the first retry:, heartbeats on its tick (srv_sse_heartbeat).
 * after: the resume id, for the log (NULL: none). */
void srv_sse_begin(struct srv_conn *c, const struct srv_ops *ops, const char *after);
void srv_sse_heartbeat(struct srv_conn *c);
extern const char srv_page_html[];
extern const size_t srv_page_len;

/* srv_ws.c: WebSocket */
/* Why srv_ws_upgrade said no: srv_http.c answers with it. */
struct srv_refusal {
    int status;
    const char *msg, *rule;
    const char *extra;            /* header lines to add, or NULL */
};
/* The upgrade of a GET on /ws/CHANNEL (RFC 6455 §4.2).  0: the connection
 * is a WebSocket now (its HTTP state released through c->ops->free, the 101
 * and any backlog queued).  Otherwise a negative PW_E* code, *no says what
 * to answer, and the connection is untouched.  Strings in *no are static. */
int srv_ws_upgrade(struct srv_conn *c, const struct pw_http_req *req, const char *ch,
                   size_t chlen, struct srv_refusal *no);
/* Called by srv_ws_accept once the request is a valid upgrade, before the
 * 101: 0 to go on, or a negative PW_E* code with *no filled to refuse. */
typedef int srv_ws_start(struct srv_conn *c, const struct pw_http_req *req, struct srv_refusal *no);
/* The upgrade as srv_ws_upgrade, for another WebSocket table (--exec): the
 * checks, start (may be NULL), then the 101 with c->ops = ops; subscribes
 * to nothing.  Returns as srv_ws_upgrade. */
int srv_ws_accept(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
                  const struct srv_ops *ops, srv_ws_start *start, struct srv_refusal *no);
/* The ws table's parts, for another WebSocket table to reuse. */
size_t srv_ws_input(struct srv_conn *c, uint8_t *in, size_t n);
void srv_ws_tick(struct srv_conn *c);
void srv_ws_deadline(struct srv_conn *c);
void srv_ws_idle(struct srv_conn *c);
void srv_ws_shutdown(struct srv_conn *c);
void srv_ws_free(struct srv_conn *c);
void srv_ws_trim(struct srv_conn *c);
/* A JWT's exp passed during the connection (ops->expire): WebSocket close
 * 1008 "token expired"; SSE an `expired` event, then the end. */
void srv_ws_expire(struct srv_conn *c);
void srv_sse_expire(struct srv_conn *c);
/* A data message (compressed when permessage-deflate was agreed): 0 or a
 * PW_E* code. */
int srv_ws_send_data(struct srv_conn *c, int opcode, const uint8_t *p, size_t len);
/* The closing handshake from our side, at most once. */
void srv_ws_close(struct srv_conn *c, unsigned code, const char *reason);
/* Frees the shared compressors (srv.wsz) when the loop is done. */
void srv_ws_cleanup(struct srv *s);

/* srv_exec.c: --exec */
extern const struct srv_attach srv_attach_exec;
/* Appends the --exec gauge and counters to /metrics' body b. */
void srv_exec_metrics(struct srv *s, struct pw_buf *b);

#endif
