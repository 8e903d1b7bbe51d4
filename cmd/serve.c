/* serve.c — `pushwire serve`: the push server (docs/PROTOCOL.md).  Parses options,
 * formats the server's log events (text or JSON Lines) and runs src/server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server/backlog.h"
#include "proto/buf.h"
#include "proto/http1.h"
#include "proto/json.h"
#include "host/net.h"
#include "opt.h"
#include "server/server.h"
#include "serve_record.h"

#define SERVE_OPTS(X)                                                                         \
    PW_COMMON_OPTS(X)                                                                         \
    X(LISTEN, 'l', "listen", PW_REQARG, "ADDR:PORT",                                         \
      "listen here (repeatable; [::1]:8080 for IPv6; port 0 picks one)", NULL)               \
    X(CHANNEL, 'c', "channel", PW_REQARG, "NAME", "channel for stdin lines (default: default)", \
      NULL)                                                                                   \
    X(STDIN, 0, "stdin", PW_NOARG, NULL, "publish stdin lines even when stdin is a terminal", NULL) \
    X(ECHO, 0, "echo", PW_NOARG, NULL, "WebSocket: echo each message to its sender only", NULL) \
    X(READ_ONLY, 0, "read-only", PW_NOARG, NULL, "clients may subscribe but not publish", NULL) \
    X(BACKLOG, 0, "backlog", PW_REQARG, "N", "messages kept per channel (default 1024)", NULL) \
    X(HEARTBEAT, 0, "heartbeat", PW_REQARG, "SECS",                                          \
      "SSE comment while idle, every SECS (default 15; 0 off)", NULL)                        \
    X(RETRY, 0, "retry", PW_REQARG, "MS", "SSE retry: value sent first (default 3000)", NULL) \
    X(POLL_TIMEOUT, 0, "poll-timeout", PW_REQARG, "SECS",                                    \
      "longest a long poll is held (default 120)", NULL)                                     \
    X(PING, 0, "ping", PW_REQARG, "SECS",                                                     \
      "WebSocket ping interval; 2 intervals with nothing from the peer close (default 30; 0 off)", NULL)   \
    X(MAX_MESSAGE, 0, "max-message", PW_REQARG, "BYTES",                                     \
      "largest message (default 1048576): WebSocket 1009, HTTP 413", NULL)                   \
    X(MAX_CONNS, 0, "max-conns", PW_REQARG, "N", "open connections at most (default 10000): 503", \
      NULL)                                                                                   \
    X(MAX_HEADER_SIZE, 0, "max-header-size", PW_REQARG, "BYTES",                             \
      "largest request head (default 8192): 431", NULL)                                      \
    X(MAX_HEADERS, 0, "max-headers", PW_REQARG, "N", "most header fields (default 64): 431", NULL) \
    X(SEND_BUFFER, 0, "send-buffer", PW_REQARG, "BYTES",                                     \
      "output queued per connection before a subscriber is dropped (default 1048576)", NULL) \
    X(HANDSHAKE_TIMEOUT, 0, "handshake-timeout", PW_REQARG, "SECS",                          \
      "a request head must arrive within SECS (default 10)", NULL)                           \
    X(IDLE_TIMEOUT, 0, "idle-timeout", PW_REQARG, "SECS",                                    \
      "close WebSocket/SSE connections idle this long (default 0: never)", NULL)             \
    X(LOG, 0, "log", PW_REQARG, "FORMAT", "log format: text or json", "text json")           \
    X(LOG_FILE, 0, "log-file", PW_REQARG, "FILE", "log to FILE (reopened on SIGHUP)", "@file") \
    X(RECORD, 0, "record", PW_REQARG, "FILE", "write every published message to FILE as a transcript (see pushwire-replay(1))", "@file")

extern const struct pw_applet pw_applet_serve;
enum { SERVE_OPTS(PW_OPT_ENUM) };
static const struct pw_opt serve_opts[] = {SERVE_OPTS(PW_OPT_ROW){0}};

struct serve_log {
    int json, quiet;
    const char *path;
    FILE *f;
};

static void serve_reopen(void *ud)
{
    struct serve_log *l = ud;
    if (!l->path)
        return; /* stderr cannot be reopened */
    FILE *f = fopen(l->path, "a");
    if (!f)
        return; /* keep the old one: better than losing the log */
    if (l->f && l->f != stderr)
        fclose(l->f);
    setvbuf(f, NULL, _IOLBF, 0);
    l->f = f;
}

static void serve_log_json(struct serve_log *l, const struct pw_log *e)
{
    struct pw_buf b;
    char ts[40];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);
    pw_buf_init(&b, 8192);
    pw_json_begin(&b, '{');
    pw_json_kcstr(&b, "time", ts);
    pw_json_kcstr(&b, "event", e->event);
    if (e->conn)
        pw_json_kint(&b, "conn", (long long)e->conn);
    if (e->peer)
        pw_json_kcstr(&b, "peer", e->peer);
    if (e->transport)
        pw_json_kcstr(&b, "transport", e->transport);
    if (e->channel)
        pw_json_kcstr(&b, "channel", e->channel);
    if (e->status)
        pw_json_kint(&b, "status", e->status);
    if (e->code)
        pw_json_kint(&b, "code", e->code);
    if (e->detail)
        pw_json_kcstr(&b, "detail", e->detail);
    pw_json_end(&b, '}');
    fprintf(l->f, "%.*s\n", (int)b.len, (const char *)b.p);
    pw_buf_free(&b);
}

static void serve_log(void *ud, const struct pw_log *e)
{
    struct serve_log *l = ud;
    if (strcmp(e->event, "listen") == 0)
        /* the one line scripts look for, always on stderr */
        fprintf(stderr, "pushwire serve: listening on %s\n", e->detail);
    if (l->quiet)
        return;
    if (l->json) {
        serve_log_json(l, e);
        return;
    }
    if (strcmp(e->event, "listen") == 0) {
        if (l->f != stderr)
            fprintf(l->f, "pushwire serve: listening on %s\n", e->detail);
        return;
    }
    char line[1024];
    int n = snprintf(line, sizeof line, "pushwire serve:");
#define ADD(...)                                                                  \
    do {                                                                          \
        if (n >= 0 && (size_t)n < sizeof line)                                    \
            n += snprintf(line + n, sizeof line - (size_t)n, __VA_ARGS__);        \
    } while (0)
    if (e->conn)
        ADD(" #%llu", (unsigned long long)e->conn);
    if (e->peer)
        ADD(" %s", e->peer);
    if (e->transport)
        ADD(" %s", e->transport);
    if (e->channel)
        ADD(" '%s'", e->channel);
    ADD(" %s", e->event);
    if (e->status)
        ADD(" %d", e->status);
    if (e->code)
        ADD(" code %d", e->code);
    if (e->detail)
        ADD(": %s", e->detail);
#undef ADD
    fprintf(l->f, "%s\n", line);
}

/* Open files are what bounds connections: use the hard limit. */
static void serve_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

#define MAX_LISTEN 16

static int serve_main(int argc, char **argv)
{
    struct pw_optstate st;
    struct pw_server_opts o = {0};
    struct serve_log lg = {0};
    const char *listen[MAX_LISTEN];
    size_t nlisten = 0;
    int force_stdin = 0;
    const char *record_path = NULL;
    uint64_t u;
    double d;
    o.backlog = 1024;
    o.heartbeat = 15;
    o.poll_timeout = 120;
    o.ping = 30;
    o.max_message = 1048576;
    o.max_conns = 10000;
    o.max_head = 8192;
    o.max_headers = 64;
    o.send_buffer = 1048576;
    o.handshake_timeout = 10;
    o.stdin_channel = "default";
    o.retry_ms = "3000";
    pw_opt_begin(&st, &pw_applet_serve, argc, argv);
    int c, rc = 0;
    while (rc == 0 && (c = pw_opt_next(&st)) != PW_OPT_END) {
        const char *a = st.arg;
        struct sockaddr_storage ss;
        switch (c) {
        case PW_OPT_ERR: rc = PW_EXIT_USAGE; break;
        case OPT_HELP: pw_usage(&pw_applet_serve); pw_opt_end(&st); return 0;
        case OPT_VERBOSE: o.verbose = 1; break;
        case OPT_QUIET: lg.quiet = 1; break;
        case OPT_LISTEN:
            if (pw_net_parse_listen(a, &ss))
                rc = pw_badarg(&st, "'%s': want HOST:PORT or [IPv6]:PORT", a);
            else if (nlisten == MAX_LISTEN)
                rc = pw_badarg(&st, "at most %d listen addresses", MAX_LISTEN);
            else
                listen[nlisten++] = a;
            break;
        case OPT_CHANNEL:
            if (!pw_channel_valid(a, strlen(a)))
                rc = pw_badarg(&st, "'%s': 1-128 characters of [A-Za-z0-9._~-]", a);
            o.stdin_channel = a;
            break;
        case OPT_STDIN: force_stdin = 1; break;
        case OPT_ECHO: o.echo = 1; break;
        case OPT_READ_ONLY: o.read_only = 1; break;
        case OPT_BACKLOG:
            if (pw_parse_u64(a, 1, 10000000, &u))
                rc = pw_badarg(&st, "'%s': want a whole number from 1 to 10000000", a);
            o.backlog = (size_t)u;
            break;
        case OPT_HEARTBEAT:
        case OPT_POLL_TIMEOUT:
        case OPT_PING:
        case OPT_HANDSHAKE_TIMEOUT:
        case OPT_IDLE_TIMEOUT: {
            double min = c == OPT_POLL_TIMEOUT || c == OPT_HANDSHAKE_TIMEOUT ? 0.001 : 0;
            if (pw_parse_double(a, min, 86400 * 365, &d)) {
                rc = pw_badarg(&st, "'%s': want seconds%s", a, min > 0 ? " > 0" : " >= 0");
                break;
            }
            *(c == OPT_HEARTBEAT      ? &o.heartbeat
              : c == OPT_POLL_TIMEOUT ? &o.poll_timeout
              : c == OPT_PING         ? &o.ping
              : c == OPT_IDLE_TIMEOUT ? &o.idle_timeout
                                      : &o.handshake_timeout) = d;
            break;
        }
        case OPT_RETRY:
            if (pw_parse_u64(a, 0, 86400000, &u))
                rc = pw_badarg(&st, "'%s': want milliseconds", a);
            o.retry_ms = a;
            break;
        case OPT_MAX_MESSAGE:
            if (pw_parse_u64(a, 1, (uint64_t)1 << 30, &u))
                rc = pw_badarg(&st, "'%s': want bytes from 1 to 1073741824", a);
            o.max_message = (size_t)u;
            break;
        case OPT_MAX_CONNS:
            if (pw_parse_u64(a, 1, 10000000, &u))
                rc = pw_badarg(&st, "'%s': want a whole number >= 1", a);
            o.max_conns = (size_t)u;
            break;
        case OPT_MAX_HEADER_SIZE:
            if (pw_parse_u64(a, 256, 1 << 20, &u))
                rc = pw_badarg(&st, "'%s': want bytes from 256 to 1048576", a);
            o.max_head = (size_t)u;
            break;
        case OPT_MAX_HEADERS:
            if (pw_parse_u64(a, 1, PW_HTTP_MAX_HEADERS, &u))
                rc = pw_badarg(&st, "'%s': want 1 to %d", a, PW_HTTP_MAX_HEADERS);
            o.max_headers = (size_t)u;
            break;
        case OPT_SEND_BUFFER:
            if (pw_parse_u64(a, 1024, (uint64_t)1 << 32, &u))
                rc = pw_badarg(&st, "'%s': want bytes >= 1024", a);
            o.send_buffer = (size_t)u;
            break;
        case OPT_LOG:
            if (strcmp(a, "json") == 0)
                lg.json = 1;
            else if (strcmp(a, "text") != 0)
                rc = pw_badarg(&st, "'%s': want text or json", a);
            break;
        case OPT_LOG_FILE: lg.path = a; break;
        case OPT_RECORD: record_path = a; break;
        }
    }
    int ind = st.ind;
    pw_opt_end(&st);
    if (rc)
        return rc;
    if (ind < argc) {
        pw_err("serve", "unexpected argument '%s'; see 'pushwire serve --help'", argv[ind]);
        return PW_EXIT_USAGE;
    }
    /* a subscriber is dropped only when more than one message is waiting */
    if (o.send_buffer < o.max_message + 16384)
        o.send_buffer = o.max_message + 16384;
    if (nlisten == 0)
        listen[nlisten++] = "127.0.0.1:8080";
    o.listen = listen;
    o.nlisten = nlisten;
    o.read_stdin = force_stdin || !isatty(0);
    lg.f = stderr;
    if (lg.path) {
        serve_reopen(&lg);
        if (lg.f == stderr) {
            pw_err("serve", "cannot open log file '%s': %s", lg.path, strerror(errno));
            return PW_EXIT_FAIL;
        }
    }
    o.log = serve_log;
    o.quiet = lg.quiet; /* -q: the server does not even format connection events */
    o.on_hup = serve_reopen;
    o.ud = &lg;
    serve_raise_nofile();
    /* --record: the backlog behind a pub/sub that writes each message */
    FILE *rec = NULL;
    if (record_path) {
        rec = fopen(record_path, "w");
        if (!rec) {
            pw_err("serve", "cannot write '%s': %s", record_path, strerror(errno));
            return PW_EXIT_FAIL;
        }
        o.pubsub = serve_record_new(o.backlog, rec);
        if (!o.pubsub) {
            fclose(rec);
            pw_err("serve", "out of memory");
            return PW_EXIT_FAIL;
        }
    }
    char err[256];
    int r = pw_server_run(&o, err, sizeof err);
    if (rec) {
        if (serve_record_failed(o.pubsub))
            pw_err("serve", "writing '%s' failed; the transcript is incomplete", record_path);
        o.pubsub->ops->destroy(o.pubsub);
        fclose(rec);
    }
    if (lg.f && lg.f != stderr)
        fclose(lg.f);
    if (r < 0) {
        pw_err("serve", "%s", err[0] ? err : pw_strerror(r));
        return r == PW_ENET_ADDR ? PW_EXIT_USAGE : PW_EXIT_FAIL;
    }
    return PW_EXIT_OK;
}

const struct pw_applet pw_applet_serve = {
    "serve",
    "push server: WebSocket, Server-Sent Events and long polling",
    "[--listen ADDR:PORT]... [OPTIONS]",
    "Serves channels over WebSocket (/ws/CHANNEL), Server-Sent Events (/sse/CHANNEL)\n"
    "and long polling (/poll/CHANNEL); POST /pub/CHANNEL publishes, and so do\n"
    "stdin lines and WebSocket clients.  Each channel keeps its last messages so\n"
    "clients can resume.  Also /healthz, /metrics and a demo page at /.",
    serve_opts,
    serve_main,
};
