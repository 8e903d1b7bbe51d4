/* connect.h — shared state of the `connect` applet (cmd/connect*.c).  One
 * client per process: the loop callbacks reach it through the global A. */
#ifndef PW_CMD_CONNECT_H
#define PW_CMD_CONNECT_H

#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "proto/buf.h"
#include "client/client.h"

#define PWC_MAX_LIST 64

struct pw_wsc;
struct pw_httpc;

struct app {
    /* options */
    int verbose, json, compress, binary, no_stdin, wait, poll, fail_on_gap, insecure, no_proxy;
    const char *headers[PWC_MAX_LIST];
    size_t nheaders;
    const char *protos[PWC_MAX_LIST];
    size_t nprotos;
    const char *sends[PWC_MAX_LIST];
    size_t nsend;
    const char *origin, *cacert, *cursor_file, *record_path, *write_out, *proxy_str;
    const char *url_str, *proxy_url_str;
    double ping_s, timeout_s, idle_s;
    uint64_t max_message, count;
    regex_t until;
    int until_set;
    int reconnect;
    long reconnect_max; /* 0: unlimited */
    char start_id[1024];

    /* parsed */
    struct pw_url url, proxy;
    int has_proxy, is_ws;

    /* run state */
    uv_loop_t *loop;
    uv_timer_t t_timeout, t_idle, t_ping, t_close, t_retry;
    uv_signal_t sigint, sigterm;
    uv_prepare_t flush;
    struct pw_wsc *ws;
    struct pw_httpc *http;
    FILE *record;
    struct pw_buf line, recline, inbuf, rxbuf;
    double t0;
    int finished, exit_code, done_receiving, interrupted, timed_out, cursor_warned;
    uint64_t msgs_in, msgs_out, gaps;
    char last_id[1024];
    int close_code;
    char close_reason[128];
    double rtt_ms;
    int http_status;
    long attempts;         /* failed attempts in a row */
    double retry_ms;       /* SSE retry: or 0 */
    int ever_open;
    /* stdin */
    int stdin_started, stdin_eof, stdin_paused, stdin_kind, stdin_tty;
    uv_tty_t in_tty;
    uv_pipe_t in_pipe;
    uv_fs_t in_fs;
    int in_fs_busy;
    char in_fsbuf[65536];
    /* ping */
    uint64_t ping_sent_at;
    int ping_outstanding;
};

extern struct app A;

void pwc_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pwc_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pwc_finish(int code);
int pwc_exit_for(int err);
void pwc_emit(const char *type, const char *id, const char *event, const uint8_t *data, size_t len);
void pwc_record(const char *dir, const char *type, const char *id, const char *event,
                const uint8_t *data, size_t len);
int pwc_message(const char *type, const char *id, const char *event, const uint8_t *data,
                size_t len);
void pwc_set_last_id(const char *id);
void pwc_clear_last_id(void);
void pwc_gap(const char *after, const char *first, const char *raw);
void pwc_activity(void);

/* transports (connect_ws.c, connect_http.c) */
void pwc_transport_start(void);
void pwc_transport_done(void);   /* --count/--until reached, or a signal */
void pwc_stdin_stop(int for_good);
/* the delay before reconnect attempt `n` (1-based), in ms: exponential
 * backoff with jitter, starting at `base_ms` */
double pwc_backoff_ms(long n, double base_ms);
/* 1 when another attempt is allowed (and counts it) */
int pwc_may_retry(void);

void pwc_ws_start(void);
void pwc_ws_done(void);
void pwc_http_start(void);
void pwc_http_done(void);
void pwc_http_cleanup(void);

#endif
