/* connect.h — the `connect` applet's state and its seams (cmd/connect*.c).
 *
 *   connect.c        the applet: options, the loop, timers, signals, the end
 *   connect_io.c     what goes in and out: stdin records → the transport
 *                    (terminal slash commands, --linger), messages → stdout,
 *                    --record, --cursor-file, gaps, the last id
 *   connect_retry.c  the one retry scheduler (backoff, jitter, SSE retry:)
 *   connect_ws.c     transport: WebSocket      (client/client_ws.h)
 *   connect_sse.c    transport: SSE            (connect_http.c, proto/sse.h)
 *   connect_poll.c   transport: long polling   (connect_http.c, proto/pwmsg.h)
 *
 * All state is in one struct pwc, passed to every function; libuv
 * callbacks find it through handle->data.  A transport keeps its own state
 * behind c->tp_state and talks back through the pwc_* functions below.
 */
#ifndef PW_CMD_CONNECT_H
#define PW_CMD_CONNECT_H

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "client/client.h"
#include "host/stdin_lines.h"
#include "proto/buf.h"

#define PWC_MAX_LIST 64              /* -H, --subprotocol, --send */
#define PWC_MAX_ID (64u << 10)       /* an id longer than this is not kept to resume */
#define PWC_STDIN_MAX_LINE (64u << 20) /* a longer stdin record ends the run */
#define PWC_STDIN_HIGH_WATER (4u << 20) /* bytes queued for the peer: stdin pauses */
#define PWC_LINGER_DEFAULT "1"       /* --linger, seconds */
#define PWC_CONNECT_TIMEOUT_DEFAULT "30" /* --connect-timeout, seconds */
/* the --connect-timeout row of an option table (opt.h): connect's and
 * replay's, which share its meaning (pwc_connect_timed_out's message, exit 7) */
#define PWC_CONNECT_TIMEOUT_OPT(X)                                                                   \
    X(CONNECT_TIMEOUT, 0, "connect-timeout", PW_SECS(PWC_CONNECT_TIMEOUT_DEFAULT, "0", "365d"),      \
      "give up on a connection not open after SECS: TCP, TLS, the server's answer (exit 7; 0: never)")

struct pwc;

/* One way to talk to the server.  c->tp_state is the transport's own. */
struct pwc_transport {
    const char *name;
    /* set up c->tp_state (once, before the first start): 0 or PW_ENOMEM */
    int (*init)(struct pwc *c);
    /* one connection attempt; the retry timer calls it again */
    void (*start)(struct pwc *c);
    /* end politely: close CODE (WebSocket) or drop the request; the run
     * ends when the peer is done (pwc_finish) */
    void (*done)(struct pwc *c, unsigned code, const char *reason);
    /* drop the connection now: no more callbacks (from pwc_finish) */
    void (*drop)(struct pwc *c);
    /* after the loop: free c->tp_state */
    void (*free)(struct pwc *c);
    /* a message to the server, or NULL: this transport does not send (and
     * stdin is not read); 0 or a PW_E* code */
    int (*send)(struct pwc *c, int binary, const uint8_t *p, size_t n);
    /* a ping with data (terminal /ping), or NULL */
    int (*ping)(struct pwc *c, const uint8_t *p, size_t n);
    /* bytes queued for the server (stdin back-pressure), or NULL */
    size_t (*pending)(const struct pwc *c);
};

extern const struct pwc_transport pwc_ws, pwc_sse, pwc_poll;

/* what the command line says; read-only once the loop runs */
struct pwc_opts {
    int verbose, json, compress, binary, no_stdin, wait, poll, fail_on_gap, insecure, no_proxy;
    int sep; /* '\n', or '\0' with -0 */
    const char *headers[PWC_MAX_LIST];
    size_t nheaders;
    const char *protos[PWC_MAX_LIST];
    size_t nprotos;
    const char *sends[PWC_MAX_LIST];
    size_t nsend;
    const char *origin, *cacert, *cert, *key, *unix_socket;
    const char *cursor_file, *record_path, *write_out, *proxy_str, *start_id;
    const char *url_str, *proxy_url_str;
    double ping_s, timeout_s, idle_s, linger_s, connect_timeout_s;
    uint64_t max_message, count;
    regex_t until;
    int until_set;
    int reconnect;
    long reconnect_max; /* 0: unlimited */
    struct pw_url url, proxy;
    int has_proxy;
};

/* what -w and the last words need; the transports fill it */
struct pwc_result {
    int close_code;        /* -1: none */
    char close_reason[128];
    double rtt_ms;         /* -1: none */
    int http_status;       /* 0: none */
};

struct pwc {
    struct pwc_opts o;
    const struct pwc_transport *tp;
    void *tp_state;
    struct pwc_result res;

    uv_loop_t *loop;
    uv_timer_t t_timeout, t_idle, t_linger, t_retry;
    uv_async_t sig;          /* SIGINT, SIGTERM: connect.c on_signal */
    uv_prepare_t flush;
    uv_poll_t out_gone;      /* stdout a pipe: its reader leaving (connect.c) */
    struct pw_stdin in;
    int in_started, stdin_eof, stdin_tty;
    FILE *record;
    int record_failed;       /* a write to it failed: said once (connect.c record_flush) */
    struct pw_buf line, recline, rxbuf;
    struct pw_buf last_id;   /* NUL-terminated; "" when none */
    double t0;
    uint64_t last_activity;  /* uv_now: --idle */
    uint64_t last_rx;        /* uv_now at the last message or stdin's end: --linger */
    int finished, exit_code, done_receiving, interrupted, timed_out, cursor_warned, id_warned;
    uint64_t msgs_in, msgs_out, gaps;

    /* the retry scheduler (connect_retry.c) */
    long attempts;           /* failed attempts in a row */
    double retry_ms;         /* the server's SSE retry:, 0: ours */
};

static inline uint64_t pwc_ms(double secs) { return (uint64_t)(secs * 1000); }

/* ---- connect.c: the run ---- */
void pwc_info(const struct pwc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After a failure err was reported: what to do about it, when there is
 * something to say (a certificate that did not verify: --cacert, -k). */
void pwc_hint(const struct pwc *c, int err);
void pwc_verbose(const struct pwc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the run with `code` (the first call wins): the transport is dropped,
 * every handle closed, and uv_run returns.  A stream that ended (code 0 or
 * 8) before --count was reached is turned into a failure here. */
void pwc_finish(struct pwc *c, int code);
/* End politely through the transport (close CODE), reading no more stdin:
 * pwc_close for --linger and /close, where what still arrives is printed;
 * pwc_stop for --count, --until and signals, where it is not. */
void pwc_close(struct pwc *c, unsigned code, const char *reason);
void pwc_stop(struct pwc *c, unsigned code, const char *reason);
/* something happened (for --idle) */
void pwc_activity(struct pwc *c);
/* a connection attempt's error → exit status (pushwire(1)) */
int pwc_exit_for(int err);
/* --connect-timeout ran out before an attempt was open: said with the
 * phase it was in ("in the TLS handshake with ..."); the caller has dropped
 * the attempt and goes on as for any failed one (PW_ECL_TIMEOUT: retried
 * with --reconnect, else exit 7) */
void pwc_connect_timed_out(const struct pwc *c, const char *phase);

/* ---- connect_io.c: in and out ---- */
/* Every message from any transport ends here; 1 when the run is over
 * (--count, --until, a failure) and the caller should deliver no more. */
int pwc_message(struct pwc *c, int binary, const char *id, const char *event,
                const uint8_t *data, size_t len);
void pwc_record(struct pwc *c, int out, int binary, const char *id, const char *event,
                const uint8_t *data, size_t len);
/* a gap: the server no longer holds everything after `after` */
void pwc_gap(struct pwc *c, const char *after, const char *first, const char *raw);
/* the last id: kept whole up to PWC_MAX_ID and in --cursor-file */
void pwc_set_last_id(struct pwc *c, const char *id);
/* the id to begin with (--since, --cursor-file): not written back */
void pwc_load_last_id(struct pwc *c, const char *id);
void pwc_clear_last_id(struct pwc *c, int save);
/* url (or a request target) with its query parameter NAME set to value,
 * percent-encoded, replacing any NAME= there (value "": only removed);
 * the fragment is dropped.  NUL-terminated in b; 0 or PW_ETOOBIG/NOMEM. */
int pwc_url_with(struct pw_buf *b, const char *url, const char *name, const char *value);
static inline const char *pwc_last_id(const struct pwc *c)
{
    return c->last_id.len ? (const char *)c->last_id.p : "";
}
/* A connection is open (resets the retry count, sends --send, starts or
 * resumes stdin, lingers when stdin is done) / is gone (pauses stdin). */
void pwc_opened(struct pwc *c);
void pwc_lost(struct pwc *c);
/* the transport's queue drained: stdin may go on */
void pwc_drained(struct pwc *c);
void pwc_stdin_close(struct pwc *c);

/* ---- connect_retry.c ---- */
/* After a failed attempt or a lost connection: 1 when --reconnect allows
 * another attempt and `err` is worth one (0: the stream ended; PW_ECL_*;
 * PW_ECL_REJECTED with res.http_status), and it is scheduled (the caller
 * returns); 0 when the run should end. */
int pwc_retry(struct pwc *c, int err);
/* the next request at once (long polling's next poll), or in ms */
void pwc_next_now(struct pwc *c);
void pwc_next_in(struct pwc *c, uint64_t ms);
/* a connection worked: the backoff starts over */
void pwc_retry_reset(struct pwc *c);

#endif
