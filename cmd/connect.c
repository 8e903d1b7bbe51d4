/* connect.c — `pushwire connect URL`: the client for WebSocket (ws, wss),
 * Server-Sent Events (http, https) and long polling (--poll).
 *
 * One libuv loop drives the socket (or libcurl's sockets), stdin, timers and
 * signals.  Data goes to stdout through a large stdio buffer flushed once per
 * loop turn; stdin is read in 64 KiB chunks and every complete line becomes a
 * frame in one batched write, so a million short lines cost a few thousand
 * syscalls, not millions.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "client/client.h"
#include "client/client_http.h"
#include "client/client_ws.h"
#include "connect.h"
#include "proto/json.h"
#include "opt.h"
#include "proto/transcript.h"
#include "proto/ws_deflate.h"

#define CONNECT_OPTS(X)                                                        \
    PW_COMMON_OPTS(X)                                                          \
    X(JSON, 0, "json", PW_FLAG, "print messages as JSON Lines {id,event,data,type}") \
    X(HEADER, 'H', "header", PW_STR("'NAME: VALUE'", NULL, NULL), "add a request header (repeatable)") \
    X(ORIGIN, 0, "origin", PW_STR("ORIGIN", NULL, NULL), "send this Origin header") \
    X(SUBPROTOCOL, 0, "subprotocol", PW_STR("NAME", NULL, NULL), "offer a WebSocket subprotocol (repeatable)") \
    X(COMPRESS, 0, "compress", PW_FLAG, "offer permessage-deflate")          \
    X(BINARY, 0, "binary", PW_FLAG, "send stdin as binary messages, one per read chunk") \
    X(NO_STDIN, 0, "no-stdin", PW_FLAG, "do not read stdin")                   \
    X(WAIT, 0, "wait", PW_FLAG, "keep receiving after stdin ends")             \
    X(SEND, 0, "send", PW_STR("MSG", NULL, NULL), "send MSG after connecting and after every reconnect (repeatable)") \
    X(PING, 0, "ping", PW_SECS(NULL, "1ms", "365d"), "send a ping every SECS seconds; no pong by the next one ends the connection") \
    X(MAX_MESSAGE, 0, "max-message", PW_BYTES("16M", "1", "4G"), "largest message accepted") \
    X(COUNT, 'n', "count", PW_COUNT("N", NULL, "1", NULL), "exit 0 after N messages") \
    X(UNTIL, 0, "until", PW_STR("REGEX", NULL, NULL), "exit 0 after the first message matching REGEX (POSIX ERE)") \
    X(TIMEOUT, 0, "timeout", PW_SECS(NULL, "1ms", "365d"), "give up after SECS seconds in all (exit 7)") \
    X(IDLE, 0, "idle", PW_SECS(NULL, "1ms", "365d"), "give up when nothing arrives for SECS seconds (exit 7)") \
    X(POLL, 0, "poll", PW_FLAG, "http(s) URL: long polling instead of SSE")    \
    X(LAST_EVENT_ID, 0, "last-event-id", PW_STR("ID", NULL, NULL), "resume after ID") \
    X(SINCE, 0, "since", PW_STR("ID", NULL, NULL), "same as --last-event-id")  \
    X(RECONNECT, 0, "reconnect", PW_COUNT_OPTIONAL("MAX", "0", "1000000"), "reconnect with backoff, resuming after the last id; MAX attempts in a row, unlimited without MAX or with 0") \
    X(FAIL_ON_GAP, 0, "fail-on-gap", PW_FLAG, "exit 9 when the server says messages were lost") \
    X(CURSOR_FILE, 0, "cursor-file", PW_FILE, "resume from the id in FILE and keep it there") \
    X(RECORD, 0, "record", PW_FILE, "write a transcript (JSON Lines) for replay") \
    X(WRITE_OUT, 'w', "write-out", PW_STR("FORMAT", NULL, NULL), "print FORMAT at exit (%{close_code} %{messages_in} ...)") \
    X(PROXY, 0, "proxy", PW_STR("URL", NULL, NULL), "use this proxy (http://, socks5://, socks5h://; user:pass@ allowed)") \
    X(NO_PROXY, 0, "no-proxy", PW_FLAG, "ignore proxy environment variables") \
    PW_TLS_CLIENT_OPTS(X)

enum { CONNECT_OPTS(PW_OPT_ENUM) };
static const struct pw_opt connect_opts[] = {CONNECT_OPTS(PW_OPT_ROW){0}};

static int connect_main(int argc, char **argv);

const struct pw_applet pw_applet_connect = {
    "connect",
    "subscribe and send over WebSocket, SSE or long polling",
    "[OPTIONS] URL",
    "Connects to URL: ws:// and wss:// speak WebSocket, http:// and https:// read\n"
    "Server-Sent Events (or long polling with --poll).  Messages go to stdout one\n"
    "per line; stdin lines are sent as WebSocket messages.",
    connect_opts,
    connect_main,
};

struct app A; /* one client per process: the loop callbacks find it here */

/* ---- small helpers ---------------------------------------------------- */

static double now_s(void) { return (double)uv_hrtime() / 1e9; }

void pwc_info(const char *fmt, ...)
{
    if (pw_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("pushwire connect: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void pwc_verbose(const char *fmt, ...)
{
    if (!A.verbose || pw_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- ending ------------------------------------------------------------ */

static void close_handle(uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* Stops everything; uv_run returns when the last handle is closed. */
void pwc_finish(int code)
{
    if (A.finished)
        return;
    A.finished = 1;
    A.exit_code = code;
    if (A.ws) {
        pw_wsc_free(A.ws);
        A.ws = NULL;
    }
    if (A.http) {
        pw_httpc_free(A.http);
        A.http = NULL;
    }
    pwc_stdin_stop(1);
    close_handle((uv_handle_t *)&A.t_timeout);
    close_handle((uv_handle_t *)&A.t_idle);
    close_handle((uv_handle_t *)&A.t_ping);
    close_handle((uv_handle_t *)&A.t_close);
    close_handle((uv_handle_t *)&A.t_retry);
    close_handle((uv_handle_t *)&A.sigint);
    close_handle((uv_handle_t *)&A.sigterm);
    close_handle((uv_handle_t *)&A.flush);
}

/* the error of a connection attempt → exit status (pushwire(1)) */
int pwc_exit_for(int err)
{
    switch (err) {
    case 0:
        return PW_EXIT_OK;
    case PW_ECL_RESOLVE:
    case PW_ECL_CONNECT:
    case PW_ECL_PROXY:
        return PW_EXIT_CONNECT;
    case PW_ECL_TLS:
    case PW_ECL_TLS_VERIFY:
        return PW_EXIT_TLS;
    case PW_ECL_REJECTED:
        return PW_EXIT_REJECTED;
    case PW_ECL_TIMEOUT:
        return PW_EXIT_TIMEOUT;
    case PW_ECL_ABNORMAL:
        return PW_EXIT_ABNORMAL;
    case PW_EWS_TOOBIG: /* our own limit, not the peer's fault */
    case PW_EWSD_TOOBIG:
        return PW_EXIT_FAIL;
    default:
        return pw_errrule(err)[0] ? PW_EXIT_PROTO : PW_EXIT_FAIL;
    }
}

/* ---- stdout ------------------------------------------------------------ */

static void flush_cb(uv_prepare_t *h)
{
    (void)h;
    if (fflush(stdout) != 0 && !A.finished) {
        if (errno != EPIPE)
            pwc_info("write error on stdout: %s", strerror(errno));
        pwc_finish(PW_EXIT_FAIL);
    }
}

/* id/event may be NULL.  type: "text" or "binary". */
void pwc_emit(const char *type, const char *id, const char *event, const uint8_t *data, size_t len)
{
    int binary = strcmp(type, "binary") == 0;
    if (A.json) {
        struct pw_buf *b = &A.line;
        b->len = 0;
        pw_json_begin(b, '{');
        pw_json_key(b, "id");
        if (id)
            pw_json_cstr(b, id);
        else
            pw_json_null(b);
        pw_json_kcstr(b, "event", event ? event : "message");
        pw_json_key(b, "data");
        if (binary)
            pw_json_b64(b, data, len);
        else
            pw_json_str(b, data, len);
        pw_json_kcstr(b, "type", type);
        if (binary)
            pw_json_kcstr(b, "encoding", "base64");
        pw_json_end(b, '}');
        pw_buf_putc(b, '\n');
        fwrite_unlocked(b->p, 1, b->len, stdout);
    } else {
        fwrite_unlocked(data, 1, len, stdout);
        putc_unlocked('\n', stdout);
    }
}

/* ---- transcript ---------------------------------------------------------- */

void pwc_record(const char *dir, const char *type, const char *id, const char *event,
                const uint8_t *data, size_t len)
{
    if (!A.record)
        return;
    /* transcript.c keeps text that is not UTF-8 as base64, so replay sends
     * the very bytes */
    struct pw_trec r = {
        .t = floor((now_s() - A.t0) * 1e6) / 1e6,
        .out = strcmp(dir, "out") == 0,
        .type = strcmp(type, "binary") == 0 ? PW_TREC_BINARY : PW_TREC_TEXT,
        .id = id,
        .event = event,
        .data = data,
        .len = len,
    };
    struct pw_buf *b = &A.recline;
    b->len = 0;
    if (pw_trec_write(b, &r) == 0)
        fwrite(b->p, 1, b->len, A.record);
}

/* ---- resume state --------------------------------------------------------- */

static void cursor_save(void)
{
    if (!A.cursor_file)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", A.cursor_file, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        if (!A.cursor_warned++)
            pwc_info("cannot write '%s': %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "%s\n", A.last_id);
    if (fclose(f) != 0 || rename(tmp, A.cursor_file) != 0) {
        if (!A.cursor_warned++)
            pwc_info("cannot update '%s': %s", A.cursor_file, strerror(errno));
        unlink(tmp);
    }
}

void pwc_set_last_id(const char *id)
{
    if (!id || !*id)
        return;
    snprintf(A.last_id, sizeof A.last_id, "%s", id);
    cursor_save();
}

/* SSE: an empty id: field emptied the last event ID string; the next
 * connection (and the next run, through --cursor-file) resumes from none */
void pwc_clear_last_id(void)
{
    if (!A.last_id[0])
        return;
    A.last_id[0] = 0;
    cursor_save();
}

/* a gap: the server no longer holds everything after what we asked for */
void pwc_gap(const char *after, const char *first, const char *raw)
{
    A.gaps++;
    pwc_info("gap: messages after '%s' are gone%s%s%s", after ? after : "?",
             first ? "; the first one still held is '" : "", first ? first : "", first ? "'" : "");
    if (A.json) {
        struct pw_buf *b = &A.line;
        b->len = 0;
        pw_json_begin(b, '{');
        pw_json_key(b, "id");
        pw_json_null(b);
        pw_json_kcstr(b, "event", "gap");
        pw_json_kcstr(b, "data", raw ? raw : "");
        pw_json_kcstr(b, "type", "gap");
        pw_json_kcstr(b, "after", after);
        pw_json_kcstr(b, "first", first);
        pw_json_end(b, '}');
        pw_buf_putc(b, '\n');
        fwrite(b->p, 1, b->len, stdout);
    }
    if (A.fail_on_gap) {
        pwc_info("resume impossible (--fail-on-gap)");
        pwc_finish(PW_EXIT_GAP);
    }
}

/* ---- messages in ------------------------------------------------------------ */

static void idle_cb(uv_timer_t *t)
{
    (void)t;
    pwc_info("nothing arrived for %g s (--idle)", A.idle_s);
    A.timed_out = 1;
    pwc_finish(PW_EXIT_TIMEOUT);
}

void pwc_activity(void)
{
    if (A.idle_s > 0 && !A.finished)
        uv_timer_start(&A.t_idle, idle_cb, (uint64_t)(A.idle_s * 1000), 0);
}

/* Every message from any transport ends here.  Returns 1 when the run is
 * over (--count, --until) and the caller should stop delivering. */
int pwc_message(const char *type, const char *id, const char *event, const uint8_t *data,
                size_t len)
{
    if (A.finished || A.done_receiving)
        return 1;
    A.msgs_in++;
    pwc_activity();
    pwc_emit(type, id, event, data, len);
    pwc_record("in", type, id, event, data, len);
    if (id)
        pwc_set_last_id(id);
    int stop = 0;
    if (A.until_set) {
        /* a NUL-terminated copy: REG_STARTEND would avoid it, but sanitizers
         * read the subject up to its NUL anyway */
        struct pw_buf *b = &A.rxbuf;
        b->len = 0;
        if (pw_buf_append(b, data, len) == 0 && pw_buf_putc(b, 0) == 0) {
            regmatch_t m[1] = {{0, (regoff_t)len}};
            if (regexec(&A.until, (const char *)b->p, 1, m, REG_STARTEND) == 0)
                stop = 1;
        }
    }
    if (A.count && A.msgs_in >= A.count)
        stop = 1;
    if (stop) {
        A.done_receiving = 1;
        pwc_transport_done();
    }
    return stop;
}

/* ---- write-out ---------------------------------------------------------------- */

static void write_out(void)
{
    if (!A.write_out)
        return;
    for (const char *p = A.write_out; *p; p++) {
        if (p[0] == '%' && p[1] == '{') {
            const char *e = strchr(p, '}');
            if (e) {
                size_t l = (size_t)(e - p - 2);
                const char *v = p + 2;
#define IS(s) (l == sizeof s - 1 && strncmp(v, s, l) == 0)
                if (IS("close_code")) {
                    if (A.close_code >= 0)
                        printf("%d", A.close_code);
                } else if (IS("close_reason")) {
                    fputs(A.close_reason, stdout);
                } else if (IS("messages_in")) {
                    printf("%llu", (unsigned long long)A.msgs_in);
                } else if (IS("messages_out")) {
                    printf("%llu", (unsigned long long)A.msgs_out);
                } else if (IS("last_id")) {
                    fputs(A.last_id, stdout);
                } else if (IS("rtt_ms")) {
                    if (A.rtt_ms >= 0)
                        printf("%.3f", A.rtt_ms);
                } else if (IS("http_status")) {
                    if (A.http_status)
                        printf("%d", A.http_status);
                } else if (IS("exitcode")) {
                    printf("%d", A.exit_code);
                } else if (IS("url")) {
                    fputs(A.url_str, stdout);
                } else {
                    fwrite(p, 1, (size_t)(e - p + 1), stdout); /* unknown: as-is */
                }
#undef IS
                p = e;
                continue;
            }
        }
        if (p[0] == '\\' && p[1]) {
            p++;
            putchar(*p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p);
            continue;
        }
        putchar(*p);
    }
}

/* ---- timers, signals ---------------------------------------------------------- */

static void timeout_cb(uv_timer_t *t)
{
    (void)t;
    pwc_info("timed out after %g s (--timeout)", A.timeout_s);
    A.timed_out = 1;
    pwc_finish(PW_EXIT_TIMEOUT);
}

static void signal_cb(uv_signal_t *s, int signum)
{
    (void)s;
    if (A.interrupted++) {
        pwc_finish(128 + signum);
        return;
    }
    A.done_receiving = 1;
    pwc_transport_done();
}

/* ---- options -------------------------------------------------------------- */

/* A proxy URL into A.proxy: 0, or an error with the reason in *why. */
static int parse_proxy(const char *s, const char **why)
{
    int r = pw_url_parse(s, &A.proxy, why);
    if (!r && strcmp(A.proxy.scheme, "http") != 0 && strcmp(A.proxy.scheme, "socks5") != 0 &&
        strcmp(A.proxy.scheme, "socks5h") != 0)
        r = PW_ECL_SCHEME, *why = "not a proxy scheme";
    return r;
}

static int load_cursor_file(void)
{
    FILE *f = fopen(A.cursor_file, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        pw_err("connect", "cannot read '%s': %s", A.cursor_file, strerror(errno));
        return -1;
    }
    char line[sizeof A.last_id];
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0])
            snprintf(A.last_id, sizeof A.last_id, "%s", line);
    }
    fclose(f);
    return 0;
}

static int connect_main(int argc, char **argv)
{
    memset(&A, 0, sizeof A);
    A.close_code = -1;
    A.rtt_ms = -1;
    A.reconnect_max = -1;
    struct pw_optstate st;
    pw_opt_begin(&st, &pw_applet_connect, argc, argv);
    int c, rc = 0;
    while ((c = pw_opt_next(&st)) != PW_OPT_END) {
        switch (c) {
        case PW_OPT_ERR:
            pw_opt_end(&st);
            return PW_EXIT_USAGE;
        case OPT_HELP:
            pw_usage(&pw_applet_connect);
            pw_opt_end(&st);
            return 0;
        case OPT_VERBOSE: A.verbose = 1; break;
        case OPT_QUIET: pw_quiet = 1; break;
        case OPT_JSON: A.json = 1; break;
        case OPT_HEADER:
            if (!strchr(st.arg, ':') || st.arg[0] == ':' || strpbrk(st.arg, "\r\n"))
                rc = pw_badarg(&st, "not a header", "'Name: value'");
            else if (A.nheaders >= PWC_MAX_LIST)
                rc = pw_badarg(&st, "one too many", "at most %d headers", PWC_MAX_LIST);
            else
                A.headers[A.nheaders++] = st.arg;
            break;
        case OPT_ORIGIN:
            if (strpbrk(st.arg, "\r\n"))
                rc = pw_badarg(&st, "not an origin", "one without line breaks");
            A.origin = st.arg;
            break;
        case OPT_SUBPROTOCOL:
            if (!*st.arg || strpbrk(st.arg, " ,;\t\r\n\"()<>@:\\/[]?={}"))
                rc = pw_badarg(&st, "not a subprotocol name", "an HTTP token");
            else if (A.nprotos >= PWC_MAX_LIST - 1)
                rc = pw_badarg(&st, "one too many", "at most %d subprotocols", PWC_MAX_LIST - 1);
            else
                A.protos[A.nprotos++] = st.arg;
            break;
        case OPT_COMPRESS: A.compress = 1; break;
        case OPT_BINARY: A.binary = 1; break;
        case OPT_NO_STDIN: A.no_stdin = 1; break;
        case OPT_WAIT: A.wait = 1; break;
        case OPT_SEND:
            if (A.nsend >= PWC_MAX_LIST)
                rc = pw_badarg(&st, "one too many", "at most %d messages", PWC_MAX_LIST);
            else
                A.sends[A.nsend++] = st.arg;
            break;
        case OPT_PING: A.ping_s = st.d; break;
        case OPT_MAX_MESSAGE: A.max_message = st.u; break;
        case OPT_COUNT: A.count = st.u; break;
        case OPT_UNTIL: {
            if (A.until_set)
                regfree(&A.until);
            int e = regcomp(&A.until, st.arg, REG_EXTENDED | REG_NOSUB);
            if (e) {
                char m[128], what[160];
                regerror(e, &A.until, m, sizeof m);
                snprintf(what, sizeof what, "not a regular expression (%s)", m);
                rc = pw_badarg(&st, what, "a POSIX extended regular expression");
            } else {
                A.until_set = 1;
            }
            break;
        }
        case OPT_TIMEOUT: A.timeout_s = st.d; break;
        case OPT_IDLE: A.idle_s = st.d; break;
        case OPT_POLL: A.poll = 1; break;
        case OPT_LAST_EVENT_ID:
        case OPT_SINCE:
            if (strlen(st.arg) >= sizeof A.last_id || strpbrk(st.arg, "\r\n"))
                rc = pw_badarg(&st, "not an id", "at most %zu bytes, no line break",
                               sizeof A.last_id - 1);
            snprintf(A.start_id, sizeof A.start_id, "%s", st.arg);
            break;
        case OPT_RECONNECT:
            A.reconnect = 1;
            A.reconnect_max = (long)st.u; /* 0 (or no MAX): unlimited */
            break;
        case OPT_FAIL_ON_GAP: A.fail_on_gap = 1; break;
        case OPT_CURSOR_FILE: A.cursor_file = st.arg; break;
        case OPT_RECORD: A.record_path = st.arg; break;
        case OPT_WRITE_OUT: A.write_out = st.arg; break;
        case OPT_PROXY: {
            const char *why = "";
            char what[128];
            if (parse_proxy(st.arg, &why)) {
                snprintf(what, sizeof what, "not a proxy URL (%s)", why);
                rc = pw_badarg(&st, what, "http://, socks5:// or socks5h://");
            }
            A.proxy_str = st.arg;
            break;
        }
        case OPT_NO_PROXY: A.no_proxy = 1; break;
        case OPT_CACERT: A.cacert = st.arg; break;
        case OPT_INSECURE: A.insecure = 1; break;
        }
        if (rc) {
            pw_opt_end(&st);
            if (A.until_set)
                regfree(&A.until);
            return rc;
        }
    }
    int ind = st.ind;
    pw_opt_end(&st);
    if (ind >= argc) {
        pw_err("connect", "a URL is needed; see 'pushwire connect --help'");
        return PW_EXIT_USAGE;
    }
    if (ind + 1 < argc) {
        pw_err("connect", "one URL only: '%s' is extra", argv[ind + 1]);
        return PW_EXIT_USAGE;
    }
    A.url_str = argv[ind];
    const char *why = "";
    int r = pw_url_parse(A.url_str, &A.url, &why);
    if (r == 0 && strncmp(A.url.scheme, "socks", 5) == 0)
        r = PW_ECL_SCHEME;
    if (r) {
        pw_err("connect", "bad URL '%s': %s (want ws://, wss://, http:// or https://)", A.url_str, why);
        return PW_EXIT_USAGE;
    }
    A.is_ws = A.url.scheme[0] == 'w';
    if (A.poll && A.is_ws) {
        pw_err("connect", "--poll needs an http:// or https:// URL, not '%s'", A.url_str);
        return PW_EXIT_USAGE;
    }
    const char *proxy = A.proxy_str;
    if (!proxy && !A.no_proxy)
        proxy = pw_proxy_from_env(A.url.scheme, A.url.host);
    if (proxy) {
        r = parse_proxy(proxy, &why);
        if (r) {
            pw_err("connect", "bad proxy URL '%s' in the environment: %s "
                              "(want http://, socks5:// or socks5h://)", proxy, why);
            return PW_EXIT_USAGE;
        }
        A.has_proxy = 1;
        A.proxy_url_str = proxy;
    }
    if (A.cursor_file && load_cursor_file() < 0)
        return PW_EXIT_FAIL;
    if (A.start_id[0]) /* an explicit id wins over the cursor file */
        snprintf(A.last_id, sizeof A.last_id, "%s", A.start_id);
    if (A.record_path) {
        A.record = fopen(A.record_path, "w");
        if (!A.record) {
            pw_err("connect", "cannot write '%s': %s", A.record_path, strerror(errno));
            return PW_EXIT_FAIL;
        }
    }
    if (!isatty(1))
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    pw_buf_init(&A.line, 0);
    pw_buf_init(&A.recline, 0);
    pw_buf_init(&A.rxbuf, 0);
    A.t0 = now_s();

    A.loop = uv_default_loop();
    uv_timer_init(A.loop, &A.t_timeout);
    uv_timer_init(A.loop, &A.t_idle);
    uv_timer_init(A.loop, &A.t_ping);
    uv_timer_init(A.loop, &A.t_close);
    uv_timer_init(A.loop, &A.t_retry);
    uv_signal_init(A.loop, &A.sigint);
    uv_signal_init(A.loop, &A.sigterm);
    uv_signal_start(&A.sigint, signal_cb, SIGINT);
    uv_signal_start(&A.sigterm, signal_cb, SIGTERM);
    uv_unref((uv_handle_t *)&A.sigint);
    uv_unref((uv_handle_t *)&A.sigterm);
    uv_prepare_init(A.loop, &A.flush);
    uv_prepare_start(&A.flush, flush_cb);
    uv_unref((uv_handle_t *)&A.flush);
    if (A.timeout_s > 0)
        uv_timer_start(&A.t_timeout, timeout_cb, (uint64_t)(A.timeout_s * 1000), 0);
    pwc_activity();

    pwc_transport_start();
    uv_run(A.loop, UV_RUN_DEFAULT);
    /* close what is left (handles closed in pwc_finish need one more turn) */
    if (!A.finished)
        pwc_finish(A.exit_code);
    uv_run(A.loop, UV_RUN_DEFAULT);
    uv_loop_close(A.loop);
    pwc_http_cleanup();

    fflush(stdout);
    write_out();
    if (A.record)
        fclose(A.record);
    if (A.until_set)
        regfree(&A.until);
    pw_buf_free(&A.line);
    pw_buf_free(&A.recline);
    pw_buf_free(&A.rxbuf);
    pw_buf_free(&A.inbuf);
    return A.exit_code;
}
