/* srv_exec.c — `serve --exec 'CMD ARGS'`: each WebSocket (/ws/CHANNEL) and
 * each event stream (/sse/CHANNEL) runs the program, websocketd-style.  A
 * client message is a line on its stdin; a line of its stdout is a message
 * (WebSocket) or an event (SSE); its stderr goes to the log, tagged with the
 * connection.  Two tables (ws, sse) made of srv_ws.c's and srv_http.c's
 * parts, with the program in place of the pub/sub.
 *
 * Lifetimes: the program and the connection end apart.  The program exits:
 * what it wrote is sent, then close 1000 (1011 for a non-zero status or a
 * signal), or the stream ends.  The client leaves (the table's free): the
 * program's stdin and stdout are closed, SIGTERM --exec-grace later, SIGKILL
 * as long again after that.  The struct lives until libuv has reaped the
 * child (its SIGCHLD handling) and every handle is closed: no zombie.
 *
 * Back-pressure: stdout is not read while the client's queue is over
 * SRV_PAUSE_AT (resumed by the table's drained); the client is not read
 * while more than SRV_PAUSE_AT waits for the program's stdin. */
#include "srv.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lines.h"
#include "proto/sse.h"
#include "proto/utf8.h"

#define SRV_EXEC_ENV_MAX (64 * 1024)  /* the program's environment, bytes at most */
#define SRV_EXEC_NVARS (PW_HTTP_MAX_HEADERS + 32) /* variables at most */
#define SRV_EXEC_ERR_LINE 2048        /* a longer stderr line is logged cut */
#define SRV_EXEC_EOF_WAIT_MS 200      /* after the exit, stdout may still be held open
                                         (a background grandchild): wait no longer */
#define SRV_EXEC_VALUE_MAX 8192       /* one variable's value (a header: --max-header-size) */
#define SRV_EXEC_NAME_MAX 128        /* a longer header name is left out */
#define SRV_EXEC_HANDLES 5            /* process, 3 pipes, timer */
#define SRV_EXEC_BUSY_RETRY "Retry-After: 1\r\n"

struct srv_exec {
    uv_process_t proc;
    uv_pipe_t in, out, err;       /* the program's stdin, stdout, stderr */
    uv_timer_t timer;             /* SIGTERM, SIGKILL; the wait for stdout's end */
    struct srv *s;
    struct srv_conn *c;           /* NULL once the connection is gone */
    uint64_t conn_id;             /* for the log, after that */
    struct pw_lines out_lines, err_lines;
    struct pw_buf inbuf;          /* this turn's lines for stdin: one write in the check phase */
    size_t inq;                   /* bytes for stdin (inbuf and writes), not taken yet */
    int64_t status;
    int term_signal;
    uint64_t eof_wait_left;       /* ms of the wait for stdout's end still to run (paused: stopped) */
    uint8_t exited, out_eof, out_paused, term_sent, nopen;
    uint8_t in_close;             /* close stdin once the writes in flight are done */
};

/* one write to the program's stdin: a loop turn's lines (owned) */
struct srv__exec_write {
    uv_write_t req;
    struct srv_exec *x;
    uint8_t *data;
    size_t len;
};

/* ---- handles ---- */

static void srv__exec_closed(uv_handle_t *h)
{
    struct srv_exec *x = h->data;
    if (--x->nopen == 0) {
        pw_lines_free(&x->out_lines);
        pw_lines_free(&x->err_lines);
        pw_buf_free(&x->inbuf);
        free(x);
    }
}

/* Closes one of x's handles, once (x is freed after the last one). */
static void srv__exec_close(struct srv_exec *x, void *h)
{
    (void)x;
    if (!uv_is_closing(h))
        uv_close(h, srv__exec_closed);
}

/* The program is gone and so is the connection: release what is left. */
static void srv__exec_finish(struct srv_exec *x)
{
    srv__exec_close(x, &x->timer);
    srv__exec_close(x, &x->in);
    srv__exec_close(x, &x->out);
    srv__exec_close(x, &x->err);
}

/* ---- the end ---- */

/* The program exited and its stdout is read to the end: the connection ends
 * the way the program did. */
static void srv__exec_end_conn(struct srv_exec *x)
{
    struct srv_conn *c = x->c;
    if (!c || c->close_after || c->closing)
        return;
    int ok = x->status == 0 && x->term_signal == 0;
    char why[64];
    if (x->term_signal)
        snprintf(why, sizeof why, "program killed by signal %d", x->term_signal);
    else
        snprintf(why, sizeof why, "program exited with status %lld", (long long)x->status);
    if (c->ops->message)
        srv_ws_close(c, ok ? PW_WS_CLOSE_NORMAL : PW_WS_CLOSE_INTERNAL, why);
    else {
        srv_log(x->s, c, "close-sent", 0, 0, "%s", why);
        srv_end(c);
    }
}

static void srv__exec_out_done(struct srv_exec *x)
{
    x->out_eof = 1;
    srv__exec_close(x, &x->out);
    if (x->exited)
        srv__exec_end_conn(x);
}

static void srv__exec_eof_wait_cb(uv_timer_t *t)
{
    srv__exec_out_done(t->data);
}

static void srv__exec_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    struct srv_exec *x = p->data;
    x->exited = 1;
    x->status = status;
    x->term_signal = sig;
    x->s->nprocs--;
    srv_log(x->s, x->c, "exit", 0, 0, "program %s %d", sig ? "killed by signal" : "exited with status",
            sig ? sig : (int)status);
    srv__exec_close(x, &x->proc);
    uv_timer_stop(&x->timer);
    if (!x->c) {
        srv__exec_finish(x);
        return;
    }
    if (x->out_eof) {
        srv__exec_end_conn(x);
        return;
    }
    /* what is in the pipe comes at once; a grandchild may hold it open.
     * The wait runs only while stdout is read: paused for a slow client,
     * what the program wrote before it exited waits in the pipe. */
    x->eof_wait_left = SRV_EXEC_EOF_WAIT_MS;
    if (!x->out_paused)
        uv_timer_start(&x->timer, srv__exec_eof_wait_cb, x->eof_wait_left, 0);
}

/* The client left before the program ended: SIGTERM, then SIGKILL. */
static void srv__exec_kill_cb(uv_timer_t *t)
{
    struct srv_exec *x = t->data;
    if (x->exited)
        return;
    int sig = x->term_sent ? SIGKILL : SIGTERM;
    srv_log(x->s, NULL, "exec", 0, 0, "conn %llu: program still running: %s", (unsigned long long)x->conn_id,
            sig == SIGKILL ? "SIGKILL" : "SIGTERM");
    uv_process_kill(&x->proc, sig);
    if (!x->term_sent) {
        x->term_sent = 1;
        uv_timer_start(&x->timer, srv__exec_kill_cb, srv_ms(x->s->o->exec_grace) + 1, 0);
    }
}

static void srv__exec_write_in(struct srv_exec *x);

/* The connection is going (its table's free): the program loses its client. */
static void srv__exec_detach(struct srv_conn *c)
{
    struct srv_exec *x = c->exec;
    if (!x)
        return;
    c->exec = NULL;
    x->c = NULL;
    if (x->exited) {
        srv__exec_finish(x);
        return;
    }
    /* what the client sent last still goes (a close frame right behind
     * messages skips the check phase's write), then EOF: a well-behaved
     * program ends now */
    srv__exec_write_in(x);
    if (x->inq)
        x->in_close = 1;
    else
        srv__exec_close(x, &x->in);
    srv__exec_close(x, &x->out); /* nobody to send to: its writes fail */
    uv_timer_stop(&x->timer);
    uv_timer_start(&x->timer, srv__exec_kill_cb, srv_ms(x->s->o->exec_grace) + 1, 0);
}

/* ---- stdout: messages or events ---- */

static int srv__exec_line(void *ud, const uint8_t *p, size_t n)
{
    struct srv_exec *x = ud;
    struct srv_conn *c = x->c;
    if (!c || c->close_after || c->closing)
        return 1;
    if (c->ops->message) {
        /* a text message must be UTF-8: anything else goes as binary */
        srv_ws_send_data(c, pw_utf8_valid(p, n) ? PW_WS_OP_TEXT : PW_WS_OP_BINARY, p, n);
    } else {
        struct pw_buf *b = &c->srv->scratch;
        pw_buf_reset(b);
        if (pw_sse_encode(b, NULL, NULL, p, n, -1) == 0)
            srv_out(c, b->p, b->len);
        if (c->srv->o->heartbeat > 0)
            c->t_tick = srv_in(c->srv, c->srv->o->heartbeat);
    }
    c->srv->m_msgs_out++;
    c->t_active = uv_now(c->srv->loop);
    return 0;
}

static int srv__exec_long(void *ud, size_t max)
{
    struct srv_exec *x = ud;
    srv_log(x->s, x->c, "exec", 0, 0, "stdout line longer than %zu bytes (--max-message): dropped", max);
    return 0;
}

static const struct pw_lines_cb srv__exec_out_lines = {srv__exec_line, srv__exec_long};

static void srv__exec_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct srv_exec *x = h->data;
    (void)hint;
    /* the loop's one read buffer: every read is consumed before the next */
    *buf = uv_buf_init((char *)x->s->rbuf, SRV_RBUF);
}

static void srv__exec_out_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct srv_exec *x = st->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        pw_lines_end(&x->out_lines, &srv__exec_out_lines, x);
        uv_timer_stop(&x->timer);
        srv__exec_out_done(x);
        return;
    }
    if (pw_lines_feed(&x->out_lines, (const uint8_t *)buf->base, (size_t)nread, &srv__exec_out_lines, x) ==
        PW_ENOMEM)
        srv_log(x->s, x->c, "error", 0, 0, "program output: out of memory");
    struct srv_conn *c = x->c;
    if (c && c->qbytes > SRV_PAUSE_AT(c->srv->o->send_buffer)) {
        uv_read_stop(st); /* the client reads slower than the program writes */
        x->out_paused = 1;
        if (x->exited) { /* the wait for the end stops with the reading */
            x->eof_wait_left = uv_timer_get_due_in(&x->timer);
            x->eof_wait_left += !x->eof_wait_left;
            uv_timer_stop(&x->timer);
        }
    }
}

/* the client's queue is short again */
static void srv__exec_drained(struct srv_conn *c)
{
    struct srv_exec *x = c->exec;
    if (x && x->out_paused && !x->out_eof) {
        x->out_paused = 0;
        uv_read_start((uv_stream_t *)&x->out, srv__exec_alloc, srv__exec_out_cb);
        if (x->exited)
            uv_timer_start(&x->timer, srv__exec_eof_wait_cb, x->eof_wait_left, 0);
    }
}

/* ---- stderr: the log ---- */

static int srv__exec_err_line(void *ud, const uint8_t *p, size_t n)
{
    struct srv_exec *x = ud;
    if (x->c)
        srv_log(x->s, x->c, "stderr", 0, 0, "%.*s", (int)n, (const char *)p);
    else
        srv_log(x->s, NULL, "stderr", 0, 0, "conn %llu: %.*s", (unsigned long long)x->conn_id, (int)n,
                (const char *)p);
    return 0;
}

static int srv__exec_err_long(void *ud, size_t max)
{
    struct srv_exec *x = ud;
    srv_log(x->s, x->c, "stderr", 0, 0, "(a line longer than %zu bytes, not logged)", max);
    return 0;
}

static const struct pw_lines_cb srv__exec_err_lines = {srv__exec_err_line, srv__exec_err_long};

static void srv__exec_err_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct srv_exec *x = st->data;
    if (nread == 0)
        return;
    if (nread < 0) {
        pw_lines_end(&x->err_lines, &srv__exec_err_lines, x);
        srv__exec_close(x, &x->err);
        return;
    }
    pw_lines_feed(&x->err_lines, (const uint8_t *)buf->base, (size_t)nread, &srv__exec_err_lines, x);
}

/* ---- stdin: the client's messages ---- */

static void srv__exec_write_cb(uv_write_t *req, int status)
{
    struct srv__exec_write *w = req->data;
    struct srv_exec *x = w->x;
    (void)status; /* the program stopped reading: its end tells the client */
    x->inq -= w->len;
    free(w->data);
    free(w);
    struct srv_conn *c = x->c;
    if (c && c->held && x->inq < SRV_RESUME_AT(c->srv->o->send_buffer))
        srv_read_hold(c, 0);
    if (x->in_close && x->inq == 0)
        srv__exec_close(x, &x->in);
}

/* The lines gathered go to stdin in one write, the buffer handed over. */
static void srv__exec_write_in(struct srv_exec *x)
{
    if (!x->inbuf.len)
        return;
    struct srv__exec_write *w = malloc(sizeof *w);
    size_t len = x->inbuf.len;
    if (!w) {
        srv_log(x->s, x->c, "error", 0, 0, "program input: out of memory");
        return;
    }
    *w = (struct srv__exec_write){.x = x, .data = x->inbuf.p, .len = len};
    w->req.data = w;
    pw_buf_init(&x->inbuf, 0);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_is_closing((uv_handle_t *)&x->in) ||
        uv_write(&w->req, (uv_stream_t *)&x->in, &b, 1, srv__exec_write_cb) < 0) {
        x->inq -= len;
        free(w->data);
        free(w);
    }
}

/* The check phase (the table's ready): this turn's lines, one write. */
static void srv__exec_flush(struct srv_conn *c)
{
    if (c->exec)
        srv__exec_write_in(c->exec);
}

static void srv__exec_message(struct srv_conn *c, int opcode, const uint8_t *p, size_t len)
{
    struct srv_exec *x = c->exec;
    (void)opcode;
    c->srv->m_msgs_in++;
    if (!x || uv_is_closing((uv_handle_t *)&x->in))
        return;
    if (pw_buf_append(&x->inbuf, p, len) || pw_buf_append(&x->inbuf, "\n", 1)) {
        srv_log(c->srv, c, "error", 0, 0, "program input: out of memory");
        return;
    }
    x->inq += len + 1;
    srv_ready(c);
    if (x->inq > SRV_PAUSE_AT(c->srv->o->send_buffer))
        srv_read_hold(c, 1); /* the program reads slower than the client writes */
}

/* ---- the environment (CGI/1.1, as websocketd gives it) ---- */

struct srv__env {
    struct pw_buf b;
    size_t off[SRV_EXEC_NVARS];
    size_t n;
    int full;
};

static void srv__env_add(struct srv__env *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void srv__env_add(struct srv__env *e, const char *name, const char *fmt, ...)
{
    if (e->n == SRV_EXEC_NVARS) {
        e->full = 1;
        return;
    }
    size_t at = e->b.len;
    char val[SRV_EXEC_VALUE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof val || pw_buf_printf(&e->b, "%s=%s", name, val) ||
        pw_buf_append(&e->b, "", 1)) {
        e->b.len = at;
        e->full = 1;
        return;
    }
    e->off[e->n++] = at;
}

/* HTTP_NAME for a header: upper case, '-' as '_'.  A name with anything
 * but letters, digits and '-' is left out, so "X_Token" cannot pose as
 * "X-Token" (both would be HTTP_X_TOKEN). */
static int srv__env_header(char *out, size_t cap, struct pw_str name)
{
    if (name.len + 6 > cap)
        return -1;
    memcpy(out, "HTTP_", 5);
    for (size_t i = 0; i < name.len; i++) {
        char ch = name.p[i];
        if (ch == '-')
            ch = '_';
        else if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return -1;
        out[5 + i] = ch;
    }
    out[5 + name.len] = 0;
    return 0;
}

static void srv__env_addr(struct srv__env *e, const struct sockaddr_storage *ss, const char *addr_var,
                          const char *port_var)
{
    char ip[64] = "";
    int port = 0;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        uv_ip6_name(a, ip, sizeof ip);
        port = ntohs(a->sin6_port);
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        uv_ip4_name(a, ip, sizeof ip);
        port = ntohs(a->sin_port);
    }
    if (addr_var)
        srv__env_add(e, addr_var, "%s", ip);
    srv__env_add(e, port_var, "%d", port);
}

static void srv__env_build(struct srv__env *e, struct srv_conn *c, const struct pw_http_req *req)
{
    static const char *const pass[] = {"PATH", "LD_LIBRARY_PATH"};
    static const char *const empty[] = {"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "REMOTE_IDENT",
                                        "REMOTE_USER"};
    for (size_t i = 0; i < sizeof pass / sizeof *pass; i++)
        if (getenv(pass[i]))
            srv__env_add(e, pass[i], "%s", getenv(pass[i]));
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++)
        srv__env_add(e, empty[i], "%s", "");
    struct sockaddr_storage peer = {0}, me = {0};
    socklen_t len = sizeof peer;
    getpeername(c->fd, (struct sockaddr *)&peer, &len);
    len = sizeof me;
    getsockname(c->fd, (struct sockaddr *)&me, &len);
    srv__env_addr(e, &peer, "REMOTE_ADDR", "REMOTE_PORT");
    srv__env_add(e, "REMOTE_HOST", "%s", e->b.p + e->off[e->n - 2] + sizeof "REMOTE_ADDR");
    /* SERVER_NAME: the Host the client asked for, without its port */
    const struct pw_str *host = pw_http_header_get(req->headers, req->nheaders, "Host", NULL);
    size_t hl = host ? host->len : 0;
    if (host && host->len && host->p[0] == '[') { /* an IPv6 literal keeps its brackets (RFC 3875) */
        const char *rb = memchr(host->p, ']', host->len);
        hl = rb ? (size_t)(rb - host->p) + 1 : 0;
    } else if (host) {
        for (size_t i = 0; i < host->len; i++)
            if (host->p[i] == ':')
                hl = i;
    }
    if (hl)
        srv__env_add(e, "SERVER_NAME", "%.*s", (int)hl, host->p);
    else
        srv__env_addr(e, &me, "SERVER_NAME", "SERVER_PORT");
    if (hl)
        srv__env_addr(e, &me, NULL, "SERVER_PORT");
    srv__env_add(e, "SERVER_PROTOCOL", "HTTP/1.%d", req->minor);
    srv__env_add(e, "SERVER_SOFTWARE", "%s", "pushwire");
    srv__env_add(e, "GATEWAY_INTERFACE", "%s", "CGI/1.1");
    srv__env_add(e, "REQUEST_METHOD", "%.*s", (int)req->method.len, req->method.p);
    srv__env_add(e, "REQUEST_URI", "%.*s", (int)req->target.len, req->target.p);
    srv__env_add(e, "SCRIPT_NAME", "%s", "/");
    srv__env_add(e, "PATH_INFO", "%.*s", (int)req->path.len, req->path.p);
    srv__env_add(e, "PATH_TRANSLATED", "%.*s", (int)req->path.len, req->path.p);
    srv__env_add(e, "QUERY_STRING", "%.*s", (int)req->query.len, req->query.p);
    srv__env_add(e, "UNIQUE_ID", "%llu", (unsigned long long)c->id);
    srv__env_add(e, "PUSHWIRE_CHANNEL", "%s", c->channel);
    if (c->layer) /* a tls:// listener's connection */
        srv__env_add(e, "HTTPS", "%s", "on");
    /* a header sent more than once is one variable, its values joined
     * with ", " in order (RFC 3875 §4.1.18, as websocketd does) */
    for (size_t i = 0; i < req->nheaders; i++) {
        char name[SRV_EXEC_NAME_MAX], other[SRV_EXEC_NAME_MAX], val[SRV_EXEC_VALUE_MAX];
        const struct pw_http_header *h = &req->headers[i];
        if (srv__env_header(name, sizeof name, h->name))
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = srv__env_header(other, sizeof other, req->headers[j].name) == 0 && !strcmp(name, other);
        if (seen)
            continue; /* joined into the first one's */
        size_t vl = 0;
        int cut = 0;
        for (size_t j = i; j < req->nheaders && !cut; j++) {
            const struct pw_str *v = &req->headers[j].value;
            if (j > i && (srv__env_header(other, sizeof other, req->headers[j].name) || strcmp(name, other)))
                continue;
            size_t sep = j > i ? 2 : 0;
            if (vl + sep + v->len >= sizeof val) {
                cut = 1;
                break;
            }
            memcpy(val + vl, ", ", sep);
            memcpy(val + vl + sep, v->p, v->len);
            vl += sep + v->len;
        }
        if (cut)
            e->full = 1; /* too long for one variable: left out, as srv__env_add does */
        else
            srv__env_add(e, name, "%.*s", (int)vl, val);
    }
}

/* ---- spawning ---- */

static int srv__exec_pipes(struct srv_exec *x, uv_loop_t *loop)
{
    uv_pipe_t *p[3] = {&x->in, &x->out, &x->err};
    for (int i = 0; i < 3; i++) {
        uv_pipe_init(loop, p[i], 0);
        p[i]->data = x;
    }
    uv_timer_init(loop, &x->timer);
    x->timer.data = x;
    x->proc.data = x;
    x->nopen = SRV_EXEC_HANDLES;
    return 0;
}

/* Starts the program for connection c (its channel set).  0, or a
 * negative code with *status and *msg saying what to answer. */
static int srv__exec_spawn(struct srv_conn *c, const struct pw_http_req *req, int *status,
                           const char **msg)
{
    struct srv *s = c->srv;
    if (s->nprocs >= s->o->max_procs) {
        *status = 503;
        *msg = "too many programs running (--max-procs)";
        s->m_rejected_conns++;
        s->m_exec_refused++;
        srv_log(s, c, "reject", 503, 0, "%s", *msg);
        return PW_ENET_SLOW;
    }
    *status = 500;
    *msg = "cannot start the program";
    struct srv_exec *x = calloc(1, sizeof *x);
    struct srv__env e = {0};
    pw_buf_init(&e.b, SRV_EXEC_ENV_MAX);
    char *envp[SRV_EXEC_NVARS + 1];
    if (!x) {
        pw_buf_free(&e.b);
        return PW_ENOMEM;
    }
    srv__env_build(&e, c, req);
    if (e.full)
        srv_log(s, c, "exec", 0, 0, "environment over %d bytes or %d variables: cut", SRV_EXEC_ENV_MAX,
                SRV_EXEC_NVARS);
    for (size_t i = 0; i < e.n; i++)
        envp[i] = (char *)e.b.p + e.off[i];
    envp[e.n] = NULL;
    x->s = s;
    x->conn_id = c->id;
    pw_lines_init(&x->out_lines, '\n', s->o->max_message);
    pw_lines_init(&x->err_lines, '\n', SRV_EXEC_ERR_LINE);
    pw_buf_init(&x->inbuf, 0); /* bounded by the hold at SRV_PAUSE_AT */
    srv__exec_pipes(x, s->loop);
    uv_stdio_container_t io[3] = {
        {UV_CREATE_PIPE | UV_READABLE_PIPE, {.stream = (uv_stream_t *)&x->in}},
        {UV_CREATE_PIPE | UV_WRITABLE_PIPE, {.stream = (uv_stream_t *)&x->out}},
        {UV_CREATE_PIPE | UV_WRITABLE_PIPE, {.stream = (uv_stream_t *)&x->err}},
    };
    uv_process_options_t po = {0};
    po.exit_cb = srv__exec_exit_cb;
    po.file = s->o->exec[0];
    po.args = (char **)s->o->exec;
    po.env = envp;
    po.stdio = io;
    po.stdio_count = 3;
    int r = uv_spawn(s->loop, &x->proc, &po);
    pw_buf_free(&e.b);
    if (r < 0) {
        s->m_exec_failed++;
        srv_log(s, c, "error", 500, 0, "cannot run '%s': %s", s->o->exec[0], uv_strerror(r));
        srv__exec_close(x, &x->proc);
        srv__exec_finish(x);
        return PW_ENET_LOOP;
    }
    s->nprocs++;
    s->m_exec_started++;
    c->exec = x;
    x->c = c;
    uv_read_start((uv_stream_t *)&x->out, srv__exec_alloc, srv__exec_out_cb);
    uv_read_start((uv_stream_t *)&x->err, srv__exec_alloc, srv__exec_err_cb);
    srv_log(s, c, "exec", 0, 0, "pid %d: %s", x->proc.pid, s->o->exec[0]);
    return 0;
}

/* ---- the ws table ---- */

static void srv__exec_ws_free(struct srv_conn *c)
{
    srv__exec_detach(c);
    srv_ws_free(c);
}

static const struct srv_ops srv__exec_ws_ops = {
    .name = "ws",
    .slot = SRV_SLOT_WS,
    .input = srv_ws_input,
    .eof = "peer closed without a close frame (1006)",
    .tick = srv_ws_tick,
    .deadline = srv_ws_deadline,
    .idle = srv_ws_idle,
    .shutdown = srv_ws_shutdown,
    .expire = srv_ws_expire, /* a JWT's exp: the program's stdin closes as when the client leaves */
    .free = srv__exec_ws_free,
    .trim = srv_ws_trim,
    .ready = srv__exec_flush,
    .message = srv__exec_message,
    .drained = srv__exec_drained,
};

static int srv__exec_ws_start(struct srv_conn *c, const struct pw_http_req *req, struct srv_refusal *no)
{
    int status;
    const char *msg;
    int rc = srv__exec_spawn(c, req, &status, &msg);
    if (rc)
        *no = (struct srv_refusal){status, msg, NULL, status == 503 ? SRV_EXEC_BUSY_RETRY : NULL};
    return rc;
}

static int srv__exec_ws(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
                        struct srv_refusal *no)
{
    return srv_ws_accept(c, req, ch, chlen, &srv__exec_ws_ops, srv__exec_ws_start, no);
}

/* ---- the sse table ---- */

/* An event stream is an endless answer: what the client sends is not read. */
static size_t srv__exec_sse_input(struct srv_conn *c, uint8_t *p, size_t n)
{
    (void)c, (void)p;
    return n;
}

static void srv__exec_sse_deadline(struct srv_conn *c)
{
    srv_close(c, NULL);
}

static void srv__exec_sse_free(struct srv_conn *c)
{
    srv__exec_detach(c);
    srv_pub_drop(c);
    free(c->u.h.cursor);
    memset(&c->u.h, 0, sizeof c->u.h);
}

/* idle, shutdown: the stream just ends (there is no close code) */
static const struct srv_ops srv__exec_sse_ops = {
    .name = "sse",
    .slot = SRV_SLOT_SSE,
    .input = srv__exec_sse_input,
    .tick = srv_sse_heartbeat,
    .deadline = srv__exec_sse_deadline,
    .idle = srv_end,
    .shutdown = srv_end,
    .expire = srv_sse_expire,
    .free = srv__exec_sse_free,
    .drained = srv__exec_drained,
};

static void srv__exec_sse(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen)
{
    int status;
    const char *msg;
    if (srv_channel_set(c, ch, chlen)) {
        srv_http_error(c, 500, "out of memory", NULL);
        return;
    }
    int rc = srv__exec_spawn(c, req, &status, &msg);
    if (rc) {
        srv_http_error(c, status, msg, NULL); /* frees the channel */
        return;
    }
    srv_sse_begin(c, &srv__exec_sse_ops, NULL);
}

const struct srv_attach srv_attach_exec = {srv__exec_ws, srv__exec_sse};

void srv_exec_metrics(struct srv *s, struct pw_buf *b)
{
    pw_buf_printf(b, "# HELP pushwire_exec_programs --exec programs running (not yet reaped).\n"
                     "# TYPE pushwire_exec_programs gauge\npushwire_exec_programs %zu\n"
                     "# HELP pushwire_exec_programs_limit --max-procs.\n"
                     "# TYPE pushwire_exec_programs_limit gauge\npushwire_exec_programs_limit %zu\n"
                     "# HELP pushwire_exec_started_total --exec programs started.\n"
                     "# TYPE pushwire_exec_started_total counter\npushwire_exec_started_total %llu\n"
                     "# HELP pushwire_exec_refused_total Connections refused with 503 by --max-procs.\n"
                     "# TYPE pushwire_exec_refused_total counter\npushwire_exec_refused_total %llu\n"
                     "# HELP pushwire_exec_failed_total Programs that could not be started (500).\n"
                     "# TYPE pushwire_exec_failed_total counter\npushwire_exec_failed_total %llu\n",
                  s->nprocs, (size_t)s->o->max_procs, (unsigned long long)s->m_exec_started,
                  (unsigned long long)s->m_exec_refused, (unsigned long long)s->m_exec_failed);
}
