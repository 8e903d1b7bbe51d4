/* connect.c — `pushwire connect URL`: the client for WebSocket (ws, wss),
 * Server-Sent Events (http, https) and long polling (--poll).
 *
 * This file runs the applet: the options, one libuv loop with its timers
 * and signals, and the end (exit status, -w).  It picks one transport table
 * (connect.h) and knows nothing else about it; what goes in and out is in
 * connect_io.c, reconnecting in connect_retry.c.
 *
 * Data goes to stdout through a large stdio buffer flushed once per loop
 * turn; stdin is read in 64 KiB chunks and every complete line becomes a
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
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <uv.h>

#include "connect.h"
#include "opt.h"
#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"

#define CONNECT_OPTS(X)                                                        \
    PW_COMMON_OPTS(X)                                                          \
    X(JSON, 0, "json", PW_FLAG, "print messages as JSON Lines {id,event,data,type}") \
    X(NULL_SEP, '0', "null", PW_FLAG, "messages end with NUL, not newline, on stdin and stdout (they may hold newlines)") \
    X(HEADER, 'H', "header", PW_STR("'NAME: VALUE'", NULL, NULL), "add a request header (repeatable)") \
    X(ORIGIN, 0, "origin", PW_STR("ORIGIN", NULL, NULL), "send this Origin header") \
    X(SUBPROTOCOL, 0, "subprotocol", PW_STR("NAME", NULL, NULL), "offer a WebSocket subprotocol (repeatable)") \
    X(COMPRESS, 0, "compress", PW_FLAG, "offer permessage-deflate")          \
    X(BINARY, 0, "binary", PW_FLAG, "stdin and stdout are byte streams: each stdin read is sent as one binary message, each message received is written as it came, nothing after it") \
    X(NO_STDIN, 0, "no-stdin", PW_FLAG, "do not read stdin")                   \
    X(LINGER, 0, "linger", PW_SECS(PWC_LINGER_DEFAULT, "0", "365d"), "after stdin ends, close once nothing arrived for SECS (0: at once)") \
    X(WAIT, 0, "wait", PW_FLAG, "after stdin ends, keep receiving until the server closes") \
    X(SEND, 0, "send", PW_STR("MSG", NULL, NULL), "send MSG after connecting and after every reconnect (repeatable)") \
    X(PING, 0, "ping", PW_SECS(NULL, "1ms", "365d"), "send a ping every SECS seconds; two intervals with nothing from the server end the connection") \
    X(MAX_MESSAGE, 0, "max-message", PW_BYTES("16M", "1", "4G"), "largest message accepted") \
    X(COUNT, 'n', "count", PW_COUNT("N", NULL, "1", NULL), "exit 0 after N messages; the end of stdin waits for them, fewer is a failure") \
    X(UNTIL, 0, "until", PW_STR("REGEX", NULL, NULL), "exit 0 after the first message matching REGEX (POSIX ERE)") \
    X(TIMEOUT, 0, "timeout", PW_SECS(NULL, "1ms", "365d"), "give up after SECS seconds in all (exit 7)") \
    X(IDLE, 0, "idle", PW_SECS(NULL, "1ms", "365d"), "give up when nothing arrives for SECS seconds (exit 7)") \
    PWC_CONNECT_TIMEOUT_OPT(X)                                                 \
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
    X(UNIX_SOCKET, 0, "unix-socket", PW_STR("PATH", NULL, "@file"), "connect to the Unix socket PATH instead of the URL's host and port") \
    PW_TLS_CLIENT_OPTS(X)                                                      \
    X(CERT, 0, "cert", PW_FILE, "present this client certificate (PEM, with its chain) for mutual TLS") \
    X(KEY, 0, "key", PW_FILE, "the private key of --cert (PEM; default: the --cert file)")

#define STDOUT_BUFFER (64u << 10) /* a pipe's stdout: flushed once a loop turn */

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

/* ---- diagnostics -------------------------------------------------------- */

void pwc_info(const struct pwc *c, const char *fmt, ...)
{
    (void)c;
    if (pw_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("pushwire connect: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void pwc_verbose(const struct pwc *c, const char *fmt, ...)
{
    if (!c->o.verbose || pw_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- ending ---------------------------------------------------------------- */

static void close_handle(uv_handle_t *h)
{
    if (h->loop && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* A stream that ended before --count was reached is a failure, whatever
 * way it ended; returns the exit status to use. */
static int ended_short(struct pwc *c, int code)
{
    if (!c->o.count || c->msgs_in >= c->o.count || c->done_receiving ||
        (code != PW_EXIT_OK && code != PW_EXIT_ABNORMAL))
        return code;
    char why[200] = "";
    if (c->res.close_code >= 0)
        snprintf(why, sizeof why, " (close %d%s%.120s)", c->res.close_code,
                 c->res.close_reason[0] ? ": " : "", c->res.close_reason);
    else if (c->res.http_status)
        snprintf(why, sizeof why, " (HTTP %d)", c->res.http_status);
    pwc_info(c, "ended after %llu of %llu messages%s", (unsigned long long)c->msgs_in,
             (unsigned long long)c->o.count, why);
    return code == PW_EXIT_OK ? PW_EXIT_FAIL : code;
}

static void signals_end(struct pwc *c);

void pwc_finish(struct pwc *c, int code)
{
    if (c->finished)
        return;
    c->exit_code = ended_short(c, code);
    c->finished = 1;
    c->tp->drop(c);
    pwc_stdin_close(c);
    close_handle((uv_handle_t *)&c->t_timeout);
    close_handle((uv_handle_t *)&c->t_idle);
    close_handle((uv_handle_t *)&c->t_linger);
    close_handle((uv_handle_t *)&c->t_retry);
    signals_end(c);
    close_handle((uv_handle_t *)&c->flush);
    close_handle((uv_handle_t *)&c->out_gone);
}

void pwc_close(struct pwc *c, unsigned code, const char *reason)
{
    if (c->finished)
        return;
    uv_timer_stop(&c->t_linger);
    pwc_stdin_close(c);
    c->tp->done(c, code, reason);
}

void pwc_stop(struct pwc *c, unsigned code, const char *reason)
{
    c->done_receiving = 1;
    pwc_close(c, code, reason);
}

void pwc_hint(const struct pwc *c, int err)
{
    if (err == PW_ECL_TLS_VERIFY && !c->o.insecure)
        pwc_info(c, "to trust the server's certificate, give its CA with --cacert FILE; "
                    "-k (--insecure) skips the check");
}

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
    case PW_ECL_CLIENT_CERT:
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

void pwc_connect_timed_out(const struct pwc *c, const char *phase)
{
    pwc_info(c, "gave up after %g s (--connect-timeout) %s", c->o.connect_timeout_s, phase);
}

/* ---- timers, signals, stdout ------------------------------------------------ */

static void timeout_cb(uv_timer_t *t)
{
    struct pwc *c = t->data;
    pwc_info(c, "timed out after %g s (--timeout)", c->o.timeout_s);
    c->timed_out = 1;
    pwc_finish(c, PW_EXIT_TIMEOUT);
}

/* --idle: the timer runs out only if nothing happened since it was set (a
 * timestamp per message is cheaper than re-arming a timer per message) */
static void idle_cb(uv_timer_t *t)
{
    struct pwc *c = t->data;
    uint64_t idle = pwc_ms(c->o.idle_s), quiet = uv_now(c->loop) - c->last_activity;
    if (quiet < idle) {
        uv_timer_start(&c->t_idle, idle_cb, idle - quiet, 0);
        return;
    }
    pwc_info(c, "nothing arrived for %g s (--idle)", c->o.idle_s);
    c->timed_out = 1;
    pwc_finish(c, PW_EXIT_TIMEOUT);
}

void pwc_activity(struct pwc *c) { c->last_activity = uv_now(c->loop); }

/* SIGINT and SIGTERM have a handler of ours rather than uv_signal's: the
 * loop may be stuck in a write to a stdout nobody reads (a stalled pipe
 * or FIFO), where no loop callback runs, and a second signal must still
 * end the run.  The first asks the loop for the closing handshake (1000);
 * the second ends the run through the loop too, and a loop that has not
 * exited one second later (stuck in that write, or in the last flush) is
 * left with _exit(128 + the signal).
 * A run that SIGINT ended dies of SIGINT once it is over (close sent,
 * output flushed): a shell running it in a loop or a script sees it was
 * killed and stops too, as for curl, websocat or wscat; one that exited 0
 * or 130 would make the shell go on with the next command (bash's "wait
 * and cooperative exit"), so Ctrl-C could not stop `while :; do pushwire
 * connect URL; done`. */
#define SIGNAL_GRACE_S 1
static uv_async_t *volatile sig_async;
static volatile sig_atomic_t sig_count, sig_last, sig_int;

static void die_of_sigint(void)
{
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

static void on_alarm(int signum)
{
    (void)signum;
    if (sig_int)
        die_of_sigint();
    _exit(128 + sig_last);
}

static void on_signal(int signum)
{
    sig_last = signum;
    if (signum == SIGINT)
        sig_int = 1;
    if (++sig_count == 2) /* (once: more signals do not put it off) */
        alarm(SIGNAL_GRACE_S);
    uv_async_t *a = sig_async;
    if (a)
        uv_async_send(a); /* async-signal-safe */
}

static void signal_cb(uv_async_t *h)
{
    struct pwc *c = h->data;
    if (c->finished)
        return;
    if (sig_count >= 2) {
        pwc_finish(c, 128 + sig_last);
        return;
    }
    if (!c->interrupted++)
        pwc_stop(c, PW_WS_CLOSE_NORMAL, "");
}

static void signals_begin(struct pwc *c)
{
    uv_async_init(c->loop, &c->sig, signal_cb);
    c->sig.data = c;
    uv_unref((uv_handle_t *)&c->sig);
    sig_async = &c->sig;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* a write in progress goes on */
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* From the end of the run on, a signal has its default effect; an alarm
 * already set still cuts a last flush that does not return. */
static void signals_end(struct pwc *c)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sig_async = NULL;
    close_handle((uv_handle_t *)&c->sig);
}

/* The transcript's lines reach the file at each turn of the loop, as
 * stdout's do: a --record file read while connect runs (or left by a kill)
 * ends with a whole line.  A write that fails (a full disk) is said once
 * and the run fails: a transcript with a hole would replay as a lie. */
static int record_flush(struct pwc *c)
{
    if (!c->record || c->record_failed)
        return 0;
    if (fflush(c->record) == 0 && !ferror(c->record))
        return 0;
    c->record_failed = 1;
    pwc_info(c, "write error on --record '%s': %s", c->o.record_path, strerror(errno ? errno : EIO));
    return -1;
}

static void flush_cb(uv_prepare_t *h)
{
    struct pwc *c = h->data;
    if (record_flush(c) != 0 && !c->finished)
        pwc_finish(c, PW_EXIT_FAIL);
    if (fflush(stdout) != 0 && !c->finished) {
        if (errno != EPIPE)
            pwc_info(c, "write error on stdout: %s", strerror(errno));
        pw_stdout_failed = 1; /* said once: not again at exit */
        pwc_finish(c, PW_EXIT_FAIL);
    }
}

/* stdout a pipe whose reader has gone (`connect ... | head -1`): the run
 * ends as at a write that fails with EPIPE, at once rather than at the
 * next message, which on a quiet channel may never come (and the shell
 * waits for every command of the pipeline).  The write end of a pipe polls
 * as an error once no reader holds the other end. */
static void out_gone_cb(uv_poll_t *p, int status, int events)
{
    struct pwc *c = p->data;
    (void)events;
    if (status == 0)
        return;
    uv_poll_stop(p);
    if (c->finished)
        return;
    pw_stdout_failed = 1; /* (said as EPIPE is: not at all) */
    pwc_finish(c, PW_EXIT_FAIL);
}

static void out_gone_watch(struct pwc *c)
{
    struct stat st;
    int fl = fcntl(1, F_GETFL);
    /* a pipe open for writing only: one also open for reading (1<>fifo)
     * would poll readable with our own output */
    if (fl < 0 || (fl & O_ACCMODE) != O_WRONLY || fstat(1, &st) != 0 || !S_ISFIFO(st.st_mode))
        return;
    if (uv_poll_init(c->loop, &c->out_gone, 1) != 0)
        return;
    c->out_gone.data = c;
    int off = 0; /* uv_poll_init made it non-blocking; stdio writes it blocking */
    if ((!(fl & O_NONBLOCK) && ioctl(1, FIONBIO, &off) != 0) ||
        uv_poll_start(&c->out_gone, UV_READABLE, out_gone_cb) != 0) {
        uv_close((uv_handle_t *)&c->out_gone, NULL);
        return;
    }
    uv_unref((uv_handle_t *)&c->out_gone);
}

/* ---- write-out ---------------------------------------------------------------- */

/* one %{name}: 1 when known */
static int write_var(const struct pwc *c, const char *v, size_t l)
{
#define IS(s) (l == sizeof s - 1 && strncmp(v, s, l) == 0)
    const struct pwc_result *r = &c->res;
    if (IS("close_code")) {
        if (r->close_code >= 0)
            printf("%d", r->close_code);
    } else if (IS("close_reason")) {
        fputs(r->close_reason, stdout);
    } else if (IS("messages_in")) {
        printf("%llu", (unsigned long long)c->msgs_in);
    } else if (IS("messages_out")) {
        printf("%llu", (unsigned long long)c->msgs_out);
    } else if (IS("last_id")) {
        fputs(pwc_last_id(c), stdout);
    } else if (IS("rtt_ms")) {
        if (r->rtt_ms >= 0)
            printf("%.3f", r->rtt_ms);
    } else if (IS("http_status")) {
        if (r->http_status)
            printf("%d", r->http_status);
    } else if (IS("exitcode")) {
        printf("%d", c->exit_code);
    } else if (IS("url")) {
        fputs(c->o.url_str, stdout);
    } else {
        return 0;
    }
    return 1;
#undef IS
}

static void write_out(const struct pwc *c)
{
    for (const char *p = c->o.write_out; p && *p; p++) {
        const char *e = p[0] == '%' && p[1] == '{' ? strchr(p, '}') : NULL;
        if (e) {
            if (!write_var(c, p + 2, (size_t)(e - p - 2)))
                fwrite(p, 1, (size_t)(e - p + 1), stdout); /* unknown: as it is */
            p = e;
        } else if (p[0] == '\\' && p[1]) {
            p++;
            putchar(*p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p);
        } else {
            putchar(*p);
        }
    }
}

/* ---- options -------------------------------------------------------------- */

/* A proxy URL into o->proxy: 0, or an error with the reason in *why. */
static int parse_proxy(struct pwc_opts *o, const char *s, const char **why)
{
    int r = pw_url_parse(s, &o->proxy, why);
    if (!r && strcmp(o->proxy.scheme, "http") != 0 && strcmp(o->proxy.scheme, "socks5") != 0 &&
        strcmp(o->proxy.scheme, "socks5h") != 0)
        r = PW_ECL_SCHEME, *why = "not a proxy scheme";
    return r;
}

static int opt_until(struct pwc_opts *o, struct pw_optstate *st)
{
    if (o->until_set)
        regfree(&o->until);
    o->until_set = 0;
    int e = regcomp(&o->until, st->arg, REG_EXTENDED | REG_NOSUB);
    if (!e) {
        o->until_set = 1;
        return 0;
    }
    char m[128], what[160];
    regerror(e, &o->until, m, sizeof m);
    snprintf(what, sizeof what, "not a regular expression (%s)", m);
    return pw_badarg(st, what, "a POSIX extended regular expression");
}

static int opt_list(struct pw_optstate *st, const char **list, size_t *n, size_t max,
                    const char *what)
{
    if (*n >= max)
        return pw_badarg(st, "one too many", "at most %zu %s", max, what);
    list[(*n)++] = st->arg;
    return 0;
}

/* the options whose values need a look beyond the table's */
static int opt_checked(struct pwc_opts *o, int id, struct pw_optstate *st)
{
    const char *a = st->arg, *why = "";
    char what[128];
    switch (id) {
    case OPT_HEADER:
        if (!strchr(a, ':') || a[0] == ':' || strpbrk(a, "\r\n"))
            return pw_badarg(st, "not a header", "'Name: value'");
        return opt_list(st, o->headers, &o->nheaders, PWC_MAX_LIST, "headers");
    case OPT_ORIGIN:
        o->origin = a;
        return strpbrk(a, "\r\n") ? pw_badarg(st, "not an origin", "one without line breaks") : 0;
    case OPT_SUBPROTOCOL:
        if (!*a || strpbrk(a, " ,;\t\r\n\"()<>@:\\/[]?={}"))
            return pw_badarg(st, "not a subprotocol name", "an HTTP token");
        return opt_list(st, o->protos, &o->nprotos, PWC_MAX_LIST - 1, "subprotocols");
    case OPT_SEND:
        return opt_list(st, o->sends, &o->nsend, PWC_MAX_LIST, "messages");
    case OPT_UNTIL:
        return opt_until(o, st);
    case OPT_LAST_EVENT_ID:
    case OPT_SINCE:
        o->start_id = a;
        if (strlen(a) > PWC_MAX_ID || strpbrk(a, "\r\n"))
            return pw_badarg(st, "not an id", "at most %u bytes, no line break", PWC_MAX_ID);
        return 0;
    case OPT_PROXY:
        o->proxy_str = a;
        if (!parse_proxy(o, a, &why))
            return 0;
        snprintf(what, sizeof what, "not a proxy URL (%s)", why);
        return pw_badarg(st, what, "http://, socks5:// or socks5h://");
    case OPT_UNIX_SOCKET:
        o->unix_socket = a;
        if (!*a || strlen(a) >= sizeof ((struct sockaddr_un *)0)->sun_path)
            return pw_badarg(st, "not a Unix socket path", "1 to %zu bytes",
                             sizeof ((struct sockaddr_un *)0)->sun_path - 1);
        return 0;
    }
    return 0;
}

/* One option into c->o: 0, or an exit status (usage). */
static int opt_one(struct pwc_opts *o, int id, struct pw_optstate *st)
{
    switch (id) {
    case OPT_VERBOSE: o->verbose = 1; break;
    case OPT_QUIET: pw_quiet = 1; break;
    case OPT_JSON: o->json = 1; break;
    case OPT_NULL_SEP: o->sep = 0; break;
    case OPT_COMPRESS: o->compress = 1; break;
    case OPT_BINARY: o->binary = 1; break;
    case OPT_NO_STDIN: o->no_stdin = 1; break;
    case OPT_LINGER: o->linger_s = st->d; break;
    case OPT_WAIT: o->wait = 1; break;
    case OPT_PING: o->ping_s = st->d; break;
    case OPT_MAX_MESSAGE: o->max_message = st->u; break;
    case OPT_COUNT: o->count = st->u; break;
    case OPT_TIMEOUT: o->timeout_s = st->d; break;
    case OPT_IDLE: o->idle_s = st->d; break;
    case OPT_CONNECT_TIMEOUT: o->connect_timeout_s = st->d; break;
    case OPT_POLL: o->poll = 1; break;
    case OPT_RECONNECT:
        o->reconnect = 1;
        o->reconnect_max = (long)st->u; /* 0 (or no MAX): unlimited */
        break;
    case OPT_FAIL_ON_GAP: o->fail_on_gap = 1; break;
    case OPT_CURSOR_FILE: o->cursor_file = st->arg; break;
    case OPT_RECORD: o->record_path = st->arg; break;
    case OPT_WRITE_OUT: o->write_out = st->arg; break;
    case OPT_NO_PROXY: o->no_proxy = 1; break;
    case OPT_CACERT: o->cacert = st->arg; break;
    case OPT_INSECURE: o->insecure = 1; break;
    case OPT_CERT: o->cert = st->arg; break;
    case OPT_KEY: o->key = st->arg; break;
    default: return opt_checked(o, id, st);
    }
    return 0;
}

/* 0, -1 for --help (done), or an exit status */
static int parse_options(struct pwc_opts *o, int argc, char **argv, int *ind)
{
    struct pw_optstate st;
    pw_opt_begin(&st, &pw_applet_connect, argc, argv);
    int id, rc = 0;
    while (!rc && (id = pw_opt_next(&st)) != PW_OPT_END) {
        if (id == PW_OPT_ERR)
            rc = PW_EXIT_USAGE;
        else if (id == OPT_HELP)
            pw_usage(&pw_applet_connect), rc = -1;
        else
            rc = opt_one(o, id, &st);
    }
    *ind = st.ind;
    pw_opt_end(&st);
    return rc;
}

/* the URL, the proxy and the option combinations: 0 or PW_EXIT_USAGE */
static int check_target(struct pwc_opts *o, int argc, char **argv, int ind)
{
    if (ind >= argc) {
        pw_err("connect", "a URL is needed; see 'pushwire connect --help'");
        return PW_EXIT_USAGE;
    }
    if (ind + 1 < argc) {
        pw_err("connect", "one URL only: '%s' is extra", argv[ind + 1]);
        return PW_EXIT_USAGE;
    }
    o->url_str = argv[ind];
    const char *why = "";
    int r = pw_url_parse(o->url_str, &o->url, &why);
    if (r == 0 && strncmp(o->url.scheme, "socks", 5) == 0)
        r = PW_ECL_SCHEME;
    if (r) {
        pw_err("connect", "bad URL '%s': %s (want ws://, wss://, http:// or https://)", o->url_str, why);
        return PW_EXIT_USAGE;
    }
    if (o->poll && o->url.scheme[0] == 'w') {
        pw_err("connect", "--poll needs an http:// or https:// URL, not '%s'", o->url_str);
        return PW_EXIT_USAGE;
    }
    /* said rather than ignored: nothing is sent over SSE or polling */
    const char *ws_only = o->nsend      ? "--send"
                          : o->binary   ? "--binary"
                          : o->compress ? "--compress"
                          : o->nprotos  ? "--subprotocol"
                                        : NULL;
    if (ws_only && o->url.scheme[0] == 'h') {
        pw_err("connect", "%s is for WebSocket (ws:// or wss://); with '%s' (%s) pushwire only receives",
               ws_only, o->url_str, o->poll ? "long polling" : "Server-Sent Events");
        return PW_EXIT_USAGE;
    }
    if (o->binary && !o->sep && !o->json) {
        pw_err("connect", "-0/--null and --binary exclude each other: --binary reads stdin and "
                          "writes stdout as byte streams, with no separator (with --json, -0 "
                          "ends each JSON line with NUL)");
        return PW_EXIT_USAGE;
    }
    if (o->key && !o->cert) {
        pw_err("connect", "--key goes with --cert: give the certificate too");
        return PW_EXIT_USAGE;
    }
    if (o->unix_socket && o->proxy_str) {
        pw_err("connect", "--unix-socket and --proxy exclude each other: a proxy cannot "
                          "reach a Unix socket");
        return PW_EXIT_USAGE;
    }
    const char *proxy = o->proxy_str;
    if (!proxy && !o->no_proxy && !o->unix_socket) /* as curl: the socket ignores proxies */
        proxy = pw_proxy_from_env(o->url.scheme, o->url.host);
    if (proxy) {
        if (parse_proxy(o, proxy, &why)) {
            pw_err("connect", "bad proxy URL '%s' in the environment: %s "
                              "(want http://, socks5:// or socks5h://)", proxy, why);
            return PW_EXIT_USAGE;
        }
        o->has_proxy = 1;
        o->proxy_url_str = proxy;
    }
    return 0;
}

/* ---- files -------------------------------------------------------------------- */

static int load_cursor_file(struct pwc *c)
{
    FILE *f = fopen(c->o.cursor_file, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        pw_err("connect", "cannot read '%s': %s", c->o.cursor_file, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);
    fclose(f);
    if (n > 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (strlen(line) > PWC_MAX_ID)
            pwc_info(c, "'%s' holds an id longer than %u bytes: not resumed from", c->o.cursor_file,
                     PWC_MAX_ID);
        else if (line[0])
            pwc_load_last_id(c, line);
    }
    free(line);
    return 0;
}

static int open_files(struct pwc *c)
{
    /* an explicit id wins over the cursor file (and is not written to it
     * until a message comes) */
    if (c->o.start_id && c->o.start_id[0])
        pwc_load_last_id(c, c->o.start_id);
    else if (c->o.cursor_file && load_cursor_file(c) < 0) {
        return PW_EXIT_FAIL;
    }
    if (c->o.record_path && !(c->record = fopen(c->o.record_path, "w"))) {
        pw_err("connect", "cannot write '%s': %s", c->o.record_path, strerror(errno));
        return PW_EXIT_FAIL;
    }
    return 0;
}

/* ---- the run ---------------------------------------------------------------------- */

static void timer(struct pwc *c, uv_timer_t *t)
{
    uv_timer_init(c->loop, t);
    t->data = c;
}

static void loop_setup(struct pwc *c)
{
    c->loop = uv_default_loop();
    timer(c, &c->t_timeout);
    timer(c, &c->t_idle);
    timer(c, &c->t_linger);
    timer(c, &c->t_retry);
    signals_begin(c);
    uv_prepare_init(c->loop, &c->flush);
    c->flush.data = c;
    uv_prepare_start(&c->flush, flush_cb);
    uv_unref((uv_handle_t *)&c->flush);
    out_gone_watch(c);
    if (c->o.timeout_s > 0)
        uv_timer_start(&c->t_timeout, timeout_cb, pwc_ms(c->o.timeout_s), 0);
    pwc_activity(c);
    if (c->o.idle_s > 0)
        uv_timer_start(&c->t_idle, idle_cb, pwc_ms(c->o.idle_s), 0);
}

static void run(struct pwc *c)
{
    loop_setup(c);
    if (c->tp->init(c)) {
        pwc_info(c, "out of memory");
        pwc_finish(c, PW_EXIT_FAIL);
    } else {
        c->tp->start(c);
    }
    uv_run(c->loop, UV_RUN_DEFAULT);
    /* close what is left (handles closed in pwc_finish need one more turn) */
    if (!c->finished)
        pwc_finish(c, c->exit_code);
    uv_run(c->loop, UV_RUN_DEFAULT);
    uv_loop_close(c->loop);
    c->tp->free(c);
}

static void state_init(struct pwc *c)
{
    memset(c, 0, sizeof *c);
    c->o.sep = '\n';
    c->o.reconnect_max = -1;
    c->res.close_code = -1;
    c->res.rtt_ms = -1;
    pw_buf_init(&c->line, 0);
    pw_buf_init(&c->recline, 0);
    pw_buf_init(&c->rxbuf, 0);
    pw_buf_init(&c->last_id, PWC_MAX_ID + 1);
}

static void state_free(struct pwc *c)
{
    if (c->record)
        fclose(c->record);
    if (c->o.until_set)
        regfree(&c->o.until);
    pw_buf_free(&c->line);
    pw_buf_free(&c->recline);
    pw_buf_free(&c->rxbuf);
    pw_buf_free(&c->last_id);
}

static int connect_main(int argc, char **argv)
{
    struct pwc c;
    state_init(&c);
    int ind = 0;
    int rc = parse_options(&c.o, argc, argv, &ind);
    if (!rc)
        rc = check_target(&c.o, argc, argv, ind);
    if (!rc)
        rc = open_files(&c);
    if (rc) {
        state_free(&c);
        return rc < 0 ? 0 : rc;
    }
    c.tp = c.o.url.scheme[0] == 'w' ? &pwc_ws : c.o.poll ? &pwc_poll : &pwc_sse;
    if (!isatty(1))
        setvbuf(stdout, NULL, _IOFBF, STDOUT_BUFFER);
    c.t0 = (double)uv_hrtime() / 1e9;
    run(&c);
    int sigint = c.interrupted && sig_int;
    if (sigint)
        c.exit_code = 128 + SIGINT; /* as -w %{exitcode} and the shell see it */
    fflush(stdout);
    write_out(&c);
    if (record_flush(&c) != 0 && !c.exit_code)
        c.exit_code = PW_EXIT_FAIL;
    state_free(&c);
    if (sigint) {
        pw_finish_stdout("connect", 0);
        fflush(stderr);
        die_of_sigint();
    }
    return c.exit_code;
}
