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
#include "proto/argv.h"
#include "proto/buf.h"
#include "proto/http1.h"
#include "proto/json.h"
#include "host/net.h"
#include "opt.h"
#include "server/redis.h"
#include "server/server.h"
#include "serve_access.h"
#include "serve_record.h"

#define SERVE_OPTS(X)                                                                         \
    PW_COMMON_OPTS(X)                                                                         \
    X(LISTEN, 'l', "listen", PW_STR("ADDR:PORT", "127.0.0.1:8080", NULL),                    \
      "listen here, repeatable; [::1]:8080 for IPv6, tls://ADDR:PORT for TLS, port 0 picks one") \
    X(TLS_CERT, 0, "tls-cert", PW_FILE,                                                       \
      "certificate chain (PEM) for tls:// listeners; repeatable, chosen by SNI, first is default") \
    X(TLS_KEY, 0, "tls-key", PW_FILE, "private key (PEM) of the --tls-cert of the same rank; repeatable")  \
    X(CHANNEL, 'c', "channel", PW_STR("NAME", "default", NULL), "channel for stdin lines")    \
    X(STDIN, 0, "stdin", PW_FLAG, "publish stdin lines even when stdin is a terminal")        \
    X(ECHO, 0, "echo", PW_FLAG, "WebSocket: echo each message to its sender only")            \
    X(READ_ONLY, 0, "read-only", PW_FLAG, "clients may subscribe but not publish")            \
    X(BACKLOG, 0, "backlog", PW_COUNT("N", "1024", "1", "10000000"), "messages kept per channel") \
    X(HISTORY_BYTES, 0, "history-bytes", PW_BYTES("256M", "64K", "1T"),                      \
      "all channels' history, at most; the oldest of channels over their share go first")   \
    X(MESSAGE_TTL, 0, "message-ttl", PW_SECS("1h", "0", "365d"),                              \
      "a message leaves the history this old; 0 never")                                      \
    X(MAX_CHANNELS, 0, "max-channels", PW_COUNT("N", "100000", "1", "100000000"),            \
      "a publish that would create one more channel: 503")                                   \
    X(METRICS_PER_CHANNEL, 0, "metrics-per-channel", PW_FLAG,                                 \
      "/metrics also lists channels (the first 1000)")                                       \
    X(HEARTBEAT, 0, "heartbeat", PW_SECS("15", "0", "365d"),                                  \
      "SSE comment while idle, every SECS; 0 off")                                           \
    X(RETRY, 0, "retry", PW_COUNT("MS", "3000", "0", "86400000"),                            \
      "SSE retry: value sent first, in milliseconds")                                        \
    X(POLL_TIMEOUT, 0, "poll-timeout", PW_SECS("120", "1ms", "365d"),                        \
      "longest a long poll is held")                                                         \
    X(PING, 0, "ping", PW_SECS("30", "0", "365d"),                                            \
      "WebSocket ping interval; 2 intervals with nothing from the peer close; 0 off")        \
    X(MAX_MESSAGE, 0, "max-message", PW_BYTES("1M", "1", "1G"),                              \
      "largest message: WebSocket 1009, HTTP 413")                                           \
    X(MAX_CONNS, 0, "max-conns", PW_COUNT("N", "10000", "1", "10000000"),                    \
      "open connections at most: 503")                                                       \
    X(MAX_HEADER_SIZE, 0, "max-header-size", PW_BYTES("8K", "256", "1M"),                    \
      "largest request head: 431")                                                           \
    X(MAX_HEADERS, 0, "max-headers", PW_COUNT("N", "64", "1", PW_XSTR(PW_HTTP_MAX_HEADERS)),   \
      "most header fields: 431")                                                             \
    X(SEND_BUFFER, 0, "send-buffer", PW_BYTES("1M", "1K", "4G"),                             \
      "output queued per connection before a subscriber is dropped")                         \
    X(WRITE_DELAY, 0, "write-delay", PW_COUNT("MS", "0", "0", "60000"),                     \
      "write a subscriber at most once per MS while messages keep coming; 0 every loop turn") \
    X(WRITE_DELAY_ADAPTIVE, 0, "write-delay-adaptive", PW_FLAG,                               \
      "--write-delay holds streams only while the loop falls behind their messages")          \
    X(DEFLATE_CONTEXT, 0, "deflate-context", PW_FLAG,                                         \
      "permessage-deflate keeps context takeover: zlib state per connection")                \
    X(DEFLATE_WINDOW, 0, "deflate-window", PW_COUNT("BITS", "15", "9", "15"),                \
      "permessage-deflate window, both ways, in bits (2^BITS bytes)")                        \
    X(HANDSHAKE_TIMEOUT, 0, "handshake-timeout", PW_SECS("10", "1ms", "365d"),               \
      "the TLS handshake and a request head must arrive within SECS")                        \
    X(IDLE_TIMEOUT, 0, "idle-timeout", PW_SECS("0", "0", "365d"),                            \
      "close WebSocket/SSE connections idle this long; 0 never")                             \
    X(DRAIN, 0, "drain", PW_SECS("0", "0", "1h"),                                              \
      "on SIGTERM/SIGINT end the open streams spread over SECS, not all at once")             \
    X(LOG, 0, "log", PW_ENUM("FORMAT", "text", "text json"), "log format")                   \
    X(LOG_FILE, 0, "log-file", PW_FILE, "log to FILE (reopened on SIGHUP)")                   \
    X(RECORD, 0, "record", PW_FILE,                                                           \
      "write every published message to FILE as a transcript (see pushwire-replay(1))")        \
    X(REDIS, 0, "redis", PW_STR("URL", NULL, NULL),                                           \
      "share channels through Redis: redis://[USER:PASS@]HOST[:PORT][/DB] or unix:///PATH")   \
    X(TOKEN_FILE, 0, "token-file", PW_FILE,                                                   \
      "subscribing and publishing need a token of FILE, one a line (Bearer or ?token=); reread on SIGHUP") \
    X(PUBLISH_TOKEN_FILE, 0, "publish-token-file", PW_FILE,                                   \
      "publishing needs a token of FILE, one a line; reread on SIGHUP")                       \
    X(JWT_KEY, 0, "jwt-key", PW_FILE,                                                         \
      "JWTs signed with FILE's key are tokens: an HS256 secret, an RS256/ES256 public key (PEM); repeatable (8), reread on SIGHUP") \
    X(JWT_AUD, 0, "jwt-aud", PW_STR("AUD", NULL, NULL), "JWTs must name AUD in their aud claim") \
    X(ORIGIN, 0, "origin", PW_STR("LIST", NULL, NULL),                                        \
      "allowed Origins, comma-separated, repeatable (https://*.example.com: its subdomains); others 403") \
    X(TRUSTED_PROXY, 0, "trusted-proxy", PW_STR("CIDR", NULL, NULL),                          \
      "believe X-Forwarded-For from these addresses; comma-separated, repeatable")            \
    X(MAX_CONNS_PER_IP, 0, "max-conns-per-ip", PW_COUNT("N", "256", "0", "10000000"),         \
      "open connections per client address: 429; 0 no limit")                               \
    X(MAX_CONN_RATE, 0, "max-conn-rate", PW_REAL("N", "50", "0", "1000000"),                  \
      "new connections a second per client address: 429; 0 no limit")                       \
    X(MAX_PUB_RATE, 0, "max-pub-rate", PW_REAL("N", "100", "0", "1000000"),                   \
      "publishes a second per connection: 429, WebSocket close 1008; 0 no limit")            \
    X(LIMIT_EXEMPT, 0, "limit-exempt", PW_STR("LIST", "127.0.0.0/8,::1", NULL),              \
      "client addresses the three limits above spare, comma-separated; none for none") \
    X(EXEC, 0, "exec", PW_STR("COMMAND", NULL, NULL),                                        \
      "run COMMAND for each /ws/ and /sse/ connection: lines in and out (no shell)")          \
    X(MAX_PROCS, 0, "max-procs", PW_COUNT("N", "256", "1", "100000"),                       \
      "--exec programs running at most: 503")                                                \
    X(EXEC_GRACE, 0, "exec-grace", PW_SECS("1", "0", "1h"),                                  \
      "client gone: SIGTERM the program this long after its stdin closed, then SIGKILL") \
    X(WORKERS, 0, "workers", PW_STR("N", "1", "auto"),                                        \
      "event loops (threads) sharing the channels: 1-256, or auto (one per core)")

extern const struct pw_applet pw_applet_serve;
enum { SERVE_OPTS(PW_OPT_ENUM) };
static const struct pw_opt serve_opts[] = {SERVE_OPTS(PW_OPT_ROW){0}};

struct serve_log {
    int json, quiet;
    const char *path;
    FILE *f;
    struct pw_pubsub *redis;    /* --redis: attached to the loop once it runs */
};

static void serve_reopen(void *ud)
{
    struct serve_log *l = ud;
    if (!l->path)
        return; /* stderr cannot be reopened */
    FILE *f = fopen(l->path, "ae"); /* e: not inherited by --exec programs */
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

/* The Redis backplane's state changes, as log events "redis". */
static void serve_redis_log(void *ud, const char *line)
{
    struct pw_log e = {0};
    e.event = "redis";
    e.detail = line;
    serve_log(ud, &e);
}

static void serve_ready(void *ud, uv_loop_t *loop)
{
    struct serve_log *l = ud;
    if (l->redis)
        pw_redis_attach(l->redis, loop);
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
#define MAX_TLS 16

/* --tls-cert and --tls-key come in pairs, and TLS needs a tls:// listener
 * (and the other way round): 0, or a usage error said. */
static int serve_tls_check(const char *const *listen, size_t nlisten, size_t ncert, size_t nkey)
{
    size_t ntls = 0;
    const char *a;
    for (size_t i = 0; i < nlisten; i++)
        ntls += (size_t)pw_net_listen_tls(listen[i], &a);
    if (ncert != nkey) {
        pw_err("serve", "--tls-cert and --tls-key come in pairs (%zu certificate%s, %zu key%s)", ncert,
               ncert == 1 ? "" : "s", nkey, nkey == 1 ? "" : "s");
        return PW_EXIT_USAGE;
    }
    if (ntls && !ncert) {
        pw_err("serve", "a tls:// listener needs --tls-cert FILE --tls-key FILE");
        return PW_EXIT_USAGE;
    }
    if (ncert && !ntls) {
        pw_err("serve", "--tls-cert is only used by a TLS listener: add --listen tls://ADDR:PORT");
        return PW_EXIT_USAGE;
    }
    return 0;
}

/* After the options: the log, the recorder, the server. */
static int serve_run(struct pw_server_opts *o, struct serve_log *l, int force_stdin, const char *record_path,
                     struct pw_redis_opts *ro)
{
    /* a subscriber is dropped only when more than one message is waiting */
    if (o->send_buffer < o->max_message + 16384)
        o->send_buffer = o->max_message + 16384;
    o->read_stdin = force_stdin || !isatty(0);
    l->f = stderr;
    if (l->path) {
        serve_reopen(l);
        if (l->f == stderr) {
            pw_err("serve", "cannot open log file '%s': %s", l->path, strerror(errno));
            return PW_EXIT_FAIL;
        }
    }
    o->log = serve_log;
    o->quiet = l->quiet; /* -q: the server does not even format connection events */
    o->on_hup = serve_reopen;
    o->ud = l;
    serve_raise_nofile();
    /* --redis: the backplane in place of the embedded backlog */
    if (ro) {
        ro->backlog = o->backlog;
        ro->max_message = o->max_message;
        ro->log = serve_redis_log;
        ro->ud = l;
        l->redis = o->pubsub = pw_redis_new(ro);
        o->on_ready = serve_ready;
        if (!o->pubsub) {
            pw_err("serve", "out of memory");
            return PW_EXIT_FAIL;
        }
    }
    /* --record: the backend behind a pub/sub that writes each message */
    FILE *rec = NULL;
    if (record_path) {
        rec = fopen(record_path, "we");
        if (!rec) {
            pw_err("serve", "cannot write '%s': %s", record_path, strerror(errno));
            if (l->redis)
                l->redis->ops->destroy(l->redis);
            return PW_EXIT_FAIL;
        }
        o->pubsub = serve_record_new(l->redis ? l->redis : pw_server_backlog(o), rec);
        if (!o->pubsub) {
            fclose(rec);
            pw_err("serve", "out of memory");
            return PW_EXIT_FAIL;
        }
    }
    char err[256];
    int r = pw_server_run(o, err, sizeof err);
    if (rec) {
        if (serve_record_failed(o->pubsub))
            pw_err("serve", "writing '%s' failed; the transcript is incomplete", record_path);
        o->pubsub->ops->destroy(o->pubsub);
        fclose(rec);
    } else if (l->redis) {
        l->redis->ops->destroy(l->redis);
    }
    if (l->f && l->f != stderr)
        fclose(l->f);
    if (r < 0) {
        pw_err("serve", "%s", err[0] ? err : pw_strerror(r));
        return r == PW_ENET_ADDR ? PW_EXIT_USAGE : PW_EXIT_FAIL; /* PW_ENET_TLS: exit 1 */
    }
    return PW_EXIT_OK;
}

static int serve_main(int argc, char **argv)
{
    struct pw_optstate st;
    struct pw_server_opts o = {0};
    struct serve_log lg = {0};
    struct serve_access sa;
    const char *listen[MAX_LISTEN];
    size_t nlisten = 0;
    struct pw_tls_pair tls[MAX_TLS] = {{0}};
    size_t ncert = 0, nkey = 0;
    int force_stdin = 0;
    const char *record_path = NULL;
    serve_access_init(&sa);
    struct pw_argv cmd = {0};
    struct pw_redis_opts ro = {0};
    int use_redis = 0;
    /* a SIGHUP from here on waits for the server to take it (a reload as
     * soon as it runs), rather than ending the process while it starts */
    pw_server_hold_hup();
    pw_opt_begin(&st, &pw_applet_serve, argc, argv);
    int c, rc = 0;
    while (rc == 0 && (c = pw_opt_next(&st)) != PW_OPT_END) {
        const char *a = st.arg, *addr;
        struct sockaddr_storage ss;
        switch (c) {
        case PW_OPT_ERR: rc = PW_EXIT_USAGE; break;
        case OPT_HELP: pw_usage(&pw_applet_serve); pw_opt_end(&st); serve_access_free(&sa); pw_argv_free(&cmd); return 0;
        case OPT_VERBOSE: o.verbose = 1; break;
        case OPT_QUIET: lg.quiet = 1; break;
        case OPT_LISTEN:
            if (pw_net_listen_tls(a, &addr), pw_net_parse_listen(addr, &ss))
                rc = pw_badarg(&st, "not an address", "HOST:PORT, [IPv6]:PORT or tls://HOST:PORT");
            else if (nlisten == MAX_LISTEN)
                rc = pw_badarg(&st, "one too many", "at most %d of them", MAX_LISTEN);
            else
                listen[nlisten++] = a;
            break;
        case OPT_TLS_CERT:
        case OPT_TLS_KEY:
            if ((c == OPT_TLS_CERT ? ncert : nkey) == MAX_TLS)
                rc = pw_badarg(&st, "one too many", "at most %d of them", MAX_TLS);
            else if (c == OPT_TLS_CERT)
                tls[ncert++].cert = a;
            else
                tls[nkey++].key = a;
            break;
        case OPT_CHANNEL:
            if (!pw_channel_valid(a, strlen(a)))
                rc = pw_badarg(&st, "not a channel name", "1-128 characters of [A-Za-z0-9._~-]");
            o.stdin_channel = a;
            break;
        case OPT_STDIN: force_stdin = 1; break;
        case OPT_ECHO: o.echo = 1; break;
        case OPT_READ_ONLY: o.read_only = 1; break;
        case OPT_BACKLOG: o.backlog = (size_t)st.u; break;
        case OPT_HISTORY_BYTES: o.history_bytes = (size_t)st.u; break;
        case OPT_MESSAGE_TTL: o.message_ttl = st.d; break;
        case OPT_MAX_CHANNELS: o.max_channels = (size_t)st.u; break;
        case OPT_METRICS_PER_CHANNEL: o.metrics_per_channel = 1; break;
        case OPT_HEARTBEAT: o.heartbeat = st.d; break;
        case OPT_POLL_TIMEOUT: o.poll_timeout = st.d; break;
        case OPT_PING: o.ping = st.d; break;
        case OPT_HANDSHAKE_TIMEOUT: o.handshake_timeout = st.d; break;
        case OPT_IDLE_TIMEOUT: o.idle_timeout = st.d; break;
        case OPT_DRAIN: o.drain = st.d; break;
        case OPT_RETRY: o.retry_ms = a; break; /* sent as written: digits only */
        case OPT_MAX_MESSAGE: o.max_message = (size_t)st.u; break;
        case OPT_MAX_CONNS: o.max_conns = (size_t)st.u; break;
        case OPT_MAX_HEADER_SIZE: o.max_head = (size_t)st.u; break;
        case OPT_MAX_HEADERS: o.max_headers = (size_t)st.u; break;
        case OPT_SEND_BUFFER: o.send_buffer = (size_t)st.u; break;
        case OPT_WRITE_DELAY: o.write_delay = (unsigned)st.u; break;
        case OPT_WRITE_DELAY_ADAPTIVE: o.write_adaptive = 1; break;
        case OPT_DEFLATE_CONTEXT: o.deflate_context = 1; break;
        case OPT_DEFLATE_WINDOW: o.deflate_window = (int)st.u; break;
        case OPT_LOG: lg.json = strcmp(a, "json") == 0; break;
        case OPT_LOG_FILE: lg.path = a; break;
        case OPT_RECORD: record_path = a; break;
        case OPT_WORKERS: {
            char *end;
            long n = strcmp(a, "auto") == 0 ? sysconf(_SC_NPROCESSORS_ONLN) : strtol(a, &end, 10);
            if (strcmp(a, "auto") && (end == a || *end || n < 1 || n > 256))
                rc = pw_badarg(&st, "not a worker count", "1-256 or auto");
            o.workers = n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
            break;
        }
        case OPT_TOKEN_FILE: rc = serve_access_token(&sa, &st, 0); break;
        case OPT_PUBLISH_TOKEN_FILE: rc = serve_access_token(&sa, &st, 1); break;
        case OPT_JWT_KEY: rc = serve_access_jwt(&sa, &st); break;
        case OPT_JWT_AUD: sa.a.jwt_aud = a; break;
        case OPT_ORIGIN: rc = serve_access_origins(&sa, &st); break;
        case OPT_TRUSTED_PROXY: rc = serve_access_cidrs(&sa, &st, 0); break;
        case OPT_LIMIT_EXEMPT: rc = serve_access_cidrs(&sa, &st, 1); break;
        case OPT_MAX_CONNS_PER_IP: sa.a.max_conns_per_ip = (size_t)st.u; break;
        case OPT_MAX_CONN_RATE: sa.a.max_conn_rate = st.d; break;
        case OPT_MAX_PUB_RATE: sa.a.max_pub_rate = st.d; break;
        case OPT_EXEC:
            pw_argv_free(&cmd);
            if ((rc = pw_argv_split(a, &cmd)) != 0) {
                char why[96];
                snprintf(why, sizeof why, "not a command: %s", pw_strerror(rc));
                rc = pw_badarg(&st, why, "a command and its arguments, quoted as in sh");
            }
            break;
        case OPT_MAX_PROCS: o.max_procs = (size_t)st.u; break;
        case OPT_EXEC_GRACE: o.exec_grace = st.d; break;
        case OPT_REDIS:
            if (!a)
                break;
            use_redis = 1;
            int ur = pw_redis_url_parse(a, &ro.url);
            if (ur)
                rc = pw_badarg(&st, pw_strerror(ur), "redis://[USER:PASS@]HOST[:PORT][/DB] or unix:///PATH[?db=N]");
            break;
        }
    }
    int ind = st.ind;
    pw_opt_end(&st);
    if (!rc && ind < argc) {
        pw_err("serve", "unexpected argument '%s'; see 'pushwire serve --help'", argv[ind]);
        rc = PW_EXIT_USAGE;
    }
    if (!rc)
        rc = serve_tls_check(listen, nlisten, ncert, nkey);
    if (!rc)
        rc = serve_access_finish(&sa);
    if (rc) {
        serve_access_free(&sa);
        pw_argv_free(&cmd);
        return rc;
    }
    if (o.workers > 1 && (use_redis || record_path || cmd.n)) {
        /* several serve processes on one Redis do what workers would */
        pw_err("serve", "--workers with --redis, --record or --exec: not supported; with Redis, run one serve per core on the same Redis instead");
        serve_access_free(&sa);
        pw_argv_free(&cmd);
        return PW_EXIT_USAGE;
    }
    o.tls = tls;
    o.ntls = ncert;
    o.access = &sa.a;
    o.listen = listen;
    o.nlisten = nlisten;
    o.exec = cmd.n ? (const char *const *)cmd.v : NULL;
    rc = serve_run(&o, &lg, force_stdin, record_path, use_redis ? &ro : NULL);
    serve_access_free(&sa);
    pw_argv_free(&cmd);
    return rc;
}

const struct pw_applet pw_applet_serve = {
    "serve",
    "push server: WebSocket, Server-Sent Events and long polling",
    "[--listen ADDR:PORT]... [OPTIONS]",
    "Serves channels over WebSocket (/ws/CHANNEL), Server-Sent Events (/sse/CHANNEL)\n"
    "and long polling (/poll/CHANNEL); POST /pub/CHANNEL publishes, and so do\n"
    "stdin lines and WebSocket clients.  Each channel keeps its last messages so\n"
    "clients can resume.  Also /healthz, /metrics and a demo page at /.\n"
    "A listener given as tls://ADDR:PORT speaks HTTPS and WSS (--tls-cert).",
    serve_opts,
    serve_main,
};
