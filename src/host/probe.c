#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/http1.h"
#include "proto/pw_err.h"
#include "proto/ws_frame.h"
#include "proto/ws_handshake.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define PW__RESP_MAX 4096 /* bytes of a 101 response head we accept */
#define PW__REQ_MAX 1024

enum pw__cstate { C_IDLE = 0, C_CONNECTING, C_SENDING, C_READING, C_OPEN, C_DONE };

/* A held WebSocket: enough to answer pings and notice a close. */
struct pw__ws {
    struct pw_ws_parser p;
    uint8_t ctl[125];
    uint8_t ctllen;
};

struct pw__conn {
    struct pw__ws *ws; /* held WebSocket connections only */
    int fd;
    uint8_t state;
    int16_t src;
    double t0, t1;  /* attempt start; established */
    char *rbuf;     /* response head while upgrading (malloc'd) */
    uint16_t rlen, wpos;
    char key[PW_WS_KEY_LEN + 1];
};

struct pw__probe {
    const struct pw_probe_cfg *cfg;
    struct pw_probe_stats *st;
    struct pw__conn *c;
    int ep;
    double t_start;
    size_t inflight;
    size_t next_src;
    uint8_t *src_dead; /* per source: out of ports */
    char req[PW__REQ_MAX];
    size_t reqlen, reqkeyoff; /* where the key goes in req */
};

static double pw__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *pw_probe_explain(int sys, const char **limit_key)
{
    const char *k = "", *m;
    switch (sys) {
    case EMFILE:
        k = "open_files";
        m = "this process reached its open-files limit (RLIMIT_NOFILE)";
        break;
    case ENFILE:
        k = "file_max";
        m = "the system file table is full (fs.file-max)";
        break;
    case EADDRNOTAVAIL:
        k = "ports";
        m = "no ephemeral port left for this source address to this destination "
            "(net.ipv4.ip_local_port_range); add source addresses";
        break;
    case ECONNREFUSED:
        k = "server";
        m = "connection refused: nothing listens there, or the server refuses more";
        break;
    case ETIMEDOUT:
        k = "backlog";
        m = "no answer in time: the listen backlog is full (net.core.somaxconn, "
            "tcp_max_syn_backlog), the server does not accept fast enough, or "
            "packets are dropped (firewall, conntrack table full)";
        break;
    case ECONNRESET:
    case EPIPE:
        k = "server";
        m = "the server reset the connection: it may be at its own connection or "
            "open-files limit";
        break;
    case ENOBUFS:
    case ENOMEM:
        k = "memory";
        m = "the kernel is out of socket memory (net.ipv4.tcp_mem, memory)";
        break;
    case ENETUNREACH:
    case EHOSTUNREACH:
        k = "route";
        m = "no route to the destination";
        break;
    case EADDRINUSE:
        k = "ports";
        m = "address in use: the source address has no free port";
        break;
    default:
        m = "unexpected error";
    }
    if (limit_key)
        *limit_key = k;
    return m;
}

static int pw__cmp32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t pw_probe_percentile(uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, pw__cmp32);
    if (p <= 0)
        return v[0];
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* --- argument parsing (pure) --- */

static int pw__fail(char *err, size_t errsz, int code, const char *fmt, const char *a)
{
    if (err && errsz)
        snprintf(err, errsz, fmt, a);
    return code;
}

int pw_probe_parse_target(const char *s, char *host, size_t hostsz, char *port,
                          size_t portsz, char *err, size_t errsz)
{
    const char *h = s, *p;
    size_t hl;
    if (*s == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':')
            return pw__fail(err, errsz, PW_EINVAL, "'%s': expected [ADDRESS]:PORT", s);
        h = s + 1;
        hl = (size_t)(e - h);
        p = e + 2;
    } else {
        const char *c = strrchr(s, ':');
        if (!c)
            return pw__fail(err, errsz, PW_EINVAL, "'%s': expected HOST:PORT", s);
        if (memchr(s, ':', (size_t)(c - s)))
            return pw__fail(err, errsz, PW_EINVAL,
                            "'%s': write an IPv6 address in brackets: [ADDRESS]:PORT", s);
        hl = (size_t)(c - s);
        p = c + 1;
    }
    if (hl == 0)
        return pw__fail(err, errsz, PW_EINVAL, "'%s': the host is empty", s);
    size_t pl = strlen(p);
    if (pl == 0 || pl > 5 || strspn(p, "0123456789") != pl)
        return pw__fail(err, errsz, PW_EINVAL, "'%s': the port is not a number", s);
    long pv = strtol(p, NULL, 10);
    if (pv < 1 || pv > 65535)
        return pw__fail(err, errsz, PW_EINVAL, "'%s': the port is not in 1-65535", s);
    if (hl >= hostsz || pl >= portsz)
        return pw__fail(err, errsz, PW_EINVAL, "'%s': the host is too long", s);
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, p, pl + 1);
    return 0;
}

/* One numeric address into ss; 0 or -1. */
static int pw__addr(const char *s, size_t len, struct sockaddr_storage *ss)
{
    char tmp[64];
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = 0;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, tmp, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

/* The last 32 bits of an address, host order, and where they live. */
static uint32_t pw__low32(const struct sockaddr_storage *ss)
{
    uint32_t v;
    if (ss->ss_family == AF_INET)
        v = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
    else
        memcpy(&v, &((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[12], 4);
    return ntohl(v);
}

static void pw__setlow32(struct sockaddr_storage *ss, uint32_t h)
{
    uint32_t v = htonl(h);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_addr.s_addr = v;
    else
        memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[12], &v, 4);
}

int pw_probe_parse_sources(const char *s, struct sockaddr_storage *out, size_t max,
                           size_t *n, char *err, size_t errsz)
{
    *n = 0;
    if (!*s)
        return pw__fail(err, errsz, PW_EINVAL, "%sthe list is empty", "");
    while (*s) {
        size_t el = strcspn(s, ",");
        if (el == 0)
            return pw__fail(err, errsz, PW_EINVAL, "%san empty element in the list", "");
        char elem[160];
        if (el >= sizeof elem)
            return pw__fail(err, errsz, PW_EINVAL, "%san element is too long", "");
        memcpy(elem, s, el);
        elem[el] = 0;
        struct sockaddr_storage a, b;
        /* "A-B": IPv6 addresses contain no '-', so the dash splits */
        char *dash = strchr(elem, '-');
        if (pw__addr(elem, dash ? (size_t)(dash - elem) : el, &a) != 0)
            return pw__fail(err, errsz, PW_EINVAL, "'%s' is not a numeric IP address", elem);
        uint64_t count = 1;
        if (dash) {
            if (pw__addr(dash + 1, strlen(dash + 1), &b) != 0 || b.ss_family != a.ss_family)
                return pw__fail(err, errsz, PW_EINVAL,
                                "'%s': a range is ADDRESS-ADDRESS of one family", elem);
            if (a.ss_family == AF_INET6 &&
                memcmp(((struct sockaddr_in6 *)&a)->sin6_addr.s6_addr,
                       ((struct sockaddr_in6 *)&b)->sin6_addr.s6_addr, 12) != 0)
                return pw__fail(err, errsz, PW_EINVAL,
                                "'%s': an IPv6 range may differ in its last 32 bits only",
                                elem);
            uint32_t lo = pw__low32(&a), hi = pw__low32(&b);
            if (hi < lo)
                return pw__fail(err, errsz, PW_EINVAL, "'%s': the range ends before it starts",
                                elem);
            count = (uint64_t)hi - lo + 1;
        }
        if (count > max - *n)
            return pw__fail(err, errsz, PW_ETOOBIG, "more than %s source addresses",
                            max == PW_PROBE_MAX_SOURCES ? "4096" : "allowed");
        uint32_t lo = pw__low32(&a);
        for (uint64_t i = 0; i < count; i++) {
            out[*n] = a;
            pw__setlow32(&out[*n], lo + (uint32_t)i);
            (*n)++;
        }
        s += el;
        if (*s == ',') {
            s++;
            if (!*s)
                return pw__fail(err, errsz, PW_EINVAL, "%sthe list ends with a comma", "");
        }
    }
    return 0;
}

/* --- the probe --- */

static void pw__record_fail(struct pw__probe *pr, size_t i, enum pw_probe_stage stage,
                            int sys, int pwe, int status)
{
    struct pw_probe_stats *st = pr->st;
    st->failed++;
    switch (sys) {
    case EMFILE: st->err_emfile++; break;
    case ENFILE: st->err_enfile++; break;
    case EADDRNOTAVAIL: case EADDRINUSE: st->err_addrnotavail++; break;
    case ECONNREFUSED: st->err_refused++; break;
    case ETIMEDOUT: st->err_timeout++; break;
    case ECONNRESET: case EPIPE: st->err_reset++; break;
    case ENOBUFS: case ENOMEM: st->err_nomem++; break;
    case 0: st->err_upgrade++; break;
    default: st->err_other++;
    }
    if (st->first.stage == PW_PROBE_ST_NONE) {
        st->first.stage = stage;
        st->first.sys = sys;
        st->first.pw = pwe;
        st->first.status = status;
        st->first.index = i;
        st->first.src = pr->c ? pr->c[i].src : -1;
        st->first.at = pw__now() - pr->t_start;
    }
}

static void pw__close(struct pw__probe *pr, struct pw__conn *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        if (c->state == C_OPEN)
            pr->st->open--;
        else
            pr->inflight--;
    }
    c->fd = -1;
    free(c->rbuf);
    c->rbuf = NULL;
    free(c->ws);
    c->ws = NULL;
    c->state = C_DONE;
}

/* Best effort, non-blocking: a masked frame from the client side. */
static void pw__ws_send(struct pw__conn *c, int opcode, const uint8_t *payload, size_t len)
{
    uint8_t frame[14 + 125], mask[4];
    uint32_t r = (uint32_t)rand();
    memcpy(mask, &r, 4);
    ssize_t n = pw_ws_encode(frame, sizeof frame, 1, 0, opcode, mask, payload, len, 0);
    if (n > 0 && send(c->fd, frame, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* the peer is gone or its window is full: the close that follows tells */
    }
}

static void pw__fail_conn(struct pw__probe *pr, size_t i, enum pw_probe_stage stage, int sys,
                          int pwe, int status)
{
    pw__close(pr, &pr->c[i]);
    pw__record_fail(pr, i, stage, sys, pwe, status);
}

static uint32_t pw__us(double secs)
{
    double us = secs * 1e6;
    return us < 0 ? 0 : us > 4e9 ? 4000000000u : (uint32_t)us;
}

static int pw__ws_feed(struct pw__probe *pr, size_t i, uint8_t *in, size_t len);

/* The connection is up (and upgraded); `extra` are bytes that arrived after
 * the 101 head, already frames. */
static void pw__established(struct pw__probe *pr, size_t i, uint8_t *extra, size_t nextra)
{
    struct pw__conn *c = &pr->c[i];
    pr->inflight--;
    c->state = C_OPEN;
    if (pr->cfg->ws_path) {
        c->ws = calloc(1, sizeof *c->ws);
        if (c->ws) {
            struct pw_ws_parser_opts po = {.from = PW_WS_FROM_SERVER};
            pw_ws_parser_init(&c->ws->p, &po);
        }
    }
    pr->st->open++;
    if (pr->st->open > pr->st->peak_open)
        pr->st->peak_open = pr->st->open;
    /* held connections only need to notice the peer closing */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
    epoll_ctl(pr->ep, EPOLL_CTL_MOD, c->fd, &ev);
    if (nextra)
        pw__ws_feed(pr, i, extra, nextra);
    free(c->rbuf);
    c->rbuf = NULL;
}

static void pw__on_connected(struct pw__probe *pr, size_t i)
{
    struct pw__conn *c = &pr->c[i];
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
        soerr = errno;
    if (soerr) {
        pw__fail_conn(pr, i, PW_PROBE_ST_CONNECT, soerr, 0, 0);
        return;
    }
    c->t1 = pw__now();
    pr->st->connected++;
    pr->st->connect_us[pr->st->nconnect++] = pw__us(c->t1 - c->t0);
    if (!pr->cfg->ws_path) {
        pw__established(pr, i, NULL, 0);
        return;
    }
    if (pw_ws_gen_key(c->key) != 0 || !(c->rbuf = malloc(PW__RESP_MAX))) {
        pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, ENOMEM, 0, 0);
        return;
    }
    c->state = C_SENDING;
    c->wpos = 0;
    c->rlen = 0;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u64 = i};
    epoll_ctl(pr->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void pw__send_req(struct pw__probe *pr, size_t i)
{
    struct pw__conn *c = &pr->c[i];
    char req[PW__REQ_MAX];
    memcpy(req, pr->req, pr->reqlen);
    memcpy(req + pr->reqkeyoff, c->key, PW_WS_KEY_LEN);
    while (c->wpos < pr->reqlen) {
        ssize_t n = send(c->fd, req + c->wpos, pr->reqlen - c->wpos, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, errno, 0, 0);
            return;
        }
        c->wpos = (uint16_t)(c->wpos + n);
    }
    c->state = C_READING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
    epoll_ctl(pr->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void pw__read_resp(struct pw__probe *pr, size_t i)
{
    struct pw__conn *c = &pr->c[i];
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, PW__RESP_MAX - c->rlen, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0) {
            pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, errno, 0, 0);
            return;
        }
        if (n == 0) { /* closed before a complete response */
            pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, ECONNRESET, 0, 0);
            return;
        }
        c->rlen = (uint16_t)(c->rlen + n);
        struct pw_http_resp resp;
        struct pw_http_limits lim = {PW__RESP_MAX, PW_HTTP_MAX_HEADERS};
        int r = pw_http_parse_response(c->rbuf, c->rlen, &resp, &lim);
        if (r == PW_EAGAIN) {
            if (c->rlen >= PW__RESP_MAX) {
                pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, 0, PW_EHTTP_HEAD_TOOBIG, 0);
                return;
            }
            continue;
        }
        if (r < 0) {
            pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, 0, r, 0);
            return;
        }
        struct pw_ws_response_info info;
        int v = pw_ws_check_response(&resp, c->key, NULL, 0, NULL, 0, &info);
        if (v != 0) {
            pw__fail_conn(pr, i, PW_PROBE_ST_UPGRADE, 0, v, resp.status == 101 ? 0 : resp.status);
            return;
        }
        pr->st->upgraded++;
        pr->st->upgrade_us[pr->st->nupgrade++] = pw__us(pw__now() - c->t1);
        pw__established(pr, i, (uint8_t *)c->rbuf + r, c->rlen - (size_t)r);
        return;
    }
}

static void pw__dropped(struct pw__probe *pr, size_t i, int sys, int close_code)
{
    struct pw__conn *c = &pr->c[i];
    int src = c->src;
    pw__close(pr, c);
    pr->st->dropped++;
    if (pr->st->first.stage == PW_PROBE_ST_NONE) {
        pr->st->first.stage = PW_PROBE_ST_HOLD;
        pr->st->first.sys = sys;
        pr->st->first.close_code = close_code;
        pr->st->first.index = i;
        pr->st->first.src = src;
        pr->st->first.at = pw__now() - pr->t_start;
    }
}

/* Frames from the server on a held WebSocket: answer pings, notice a close,
 * ignore data.  Returns -1 when the connection was dropped. */
static int pw__ws_feed(struct pw__probe *pr, size_t i, uint8_t *in, size_t len)
{
    struct pw__conn *c = &pr->c[i];
    if (!c->ws)
        return 0;
    for (;;) { /* len may reach 0 with an END event still owed */
        struct pw_ws_event ev;
        ssize_t n = pw_ws_parse(&c->ws->p, in, len, &ev);
        if (n < 0) {
            pw__dropped(pr, i, EPROTO, 0);
            return -1;
        }
        in += n;
        len -= (size_t)n;
        int op = ev.hdr.opcode;
        if (ev.type == PW_WS_EV_HEADER && pw_ws_is_control(op))
            c->ws->ctllen = 0;
        else if (ev.type == PW_WS_EV_PAYLOAD && pw_ws_is_control(op) &&
                 c->ws->ctllen + ev.len <= sizeof c->ws->ctl) {
            memcpy(c->ws->ctl + c->ws->ctllen, ev.data, ev.len);
            c->ws->ctllen = (uint8_t)(c->ws->ctllen + ev.len);
        } else if (ev.type == PW_WS_EV_END && op == PW_WS_OP_PING) {
            pw__ws_send(c, PW_WS_OP_PONG, c->ws->ctl, c->ws->ctllen);
        } else if (ev.type == PW_WS_EV_END && op == PW_WS_OP_CLOSE) {
            unsigned code = c->ws->ctllen >= 2 ? (unsigned)(c->ws->ctl[0] << 8 | c->ws->ctl[1])
                                               : PW_WS_CLOSE_NO_STATUS;
            pw__ws_send(c, PW_WS_OP_CLOSE, c->ws->ctl, c->ws->ctllen >= 2 ? 2 : 0);
            pw__dropped(pr, i, 0, (int)code);
            return -1;
        }
        if (n == 0 && ev.type == PW_WS_EV_NONE)
            break;
    }
    return 0;
}

/* A held connection became readable: answer pings, notice a close. */
static void pw__drain(struct pw__probe *pr, size_t i, uint32_t events)
{
    struct pw__conn *c = &pr->c[i];
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (pw__ws_feed(pr, i, buf, (size_t)n) < 0)
                return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                return;
            n = 0;
        }
        pw__dropped(pr, i, n < 0 ? errno : ECONNRESET, 0);
        return;
    }
}

/* Starts attempt i.  Returns 0, or 1 when opening must stop (a resource
 * error that every further attempt would hit too). */
static int pw__start(struct pw__probe *pr, size_t i)
{
    const struct pw_probe_cfg *cfg = pr->cfg;
    struct pw__conn *c = &pr->c[i];
    c->fd = -1;
    c->src = -1;
    pr->st->attempted++;
    c->t0 = pw__now();
    int s = -1;
    if (cfg->nsrc) {
        for (size_t k = 0; k < cfg->nsrc; k++) {
            size_t j = (pr->next_src + k) % cfg->nsrc;
            if (!pr->src_dead[j]) {
                s = (int)j;
                pr->next_src = j + 1;
                break;
            }
        }
        if (s < 0) { /* cannot happen: the caller stops when all are dead */
            pw__record_fail(pr, i, PW_PROBE_ST_BIND, EADDRNOTAVAIL, 0, 0);
            c->state = C_DONE;
            return 1;
        }
    }
    c->src = (int16_t)s;
    int fd = socket(cfg->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        c->state = C_DONE;
        pw__record_fail(pr, i, PW_PROBE_ST_SOCKET, e, 0, 0);
        return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    pr->inflight++;
    if (s >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        socklen_t sl = cfg->src[s].ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                                        : sizeof(struct sockaddr_in6);
        if (bind(fd, (const struct sockaddr *)&cfg->src[s], sl) != 0) {
            int e = errno;
            pw__fail_conn(pr, i, PW_PROBE_ST_BIND, e, 0, 0);
            if (e == EADDRNOTAVAIL || e == EADDRINUSE) {
                pr->src_dead[s] = 1;
                pr->st->sources_exhausted++;
                return pr->st->sources_exhausted >= cfg->nsrc;
            }
            return 0;
        }
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLRDHUP, .data.u64 = i};
    if (epoll_ctl(pr->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int e = errno;
        pw__fail_conn(pr, i, PW_PROBE_ST_CONNECT, e, 0, 0);
        return e == ENOMEM || e == ENOSPC;
    }
    if (connect(fd, (const struct sockaddr *)&cfg->dst, cfg->dstlen) == 0) {
        pw__on_connected(pr, i);
        return 0;
    }
    if (errno == EINPROGRESS)
        return 0;
    int e = errno;
    pw__fail_conn(pr, i, PW_PROBE_ST_CONNECT, e, 0, 0);
    if (e == EADDRNOTAVAIL) {
        if (s < 0)
            return 1; /* one address: out of ports for good */
        if (!pr->src_dead[s]) {
            pr->src_dead[s] = 1;
            pr->st->sources_exhausted++;
        }
        return pr->st->sources_exhausted >= cfg->nsrc;
    }
    return e == ENOBUFS || e == ENOMEM;
}

static void pw__event(struct pw__probe *pr, size_t i, uint32_t events)
{
    struct pw__conn *c = &pr->c[i];
    switch (c->state) {
    case C_CONNECTING:
        pw__on_connected(pr, i);
        if (c->state == C_SENDING)
            pw__send_req(pr, i);
        break;
    case C_SENDING:
        pw__send_req(pr, i);
        if (c->state == C_READING && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
            pw__read_resp(pr, i);
        break;
    case C_READING:
        pw__read_resp(pr, i);
        break;
    case C_OPEN:
        pw__drain(pr, i, events);
        break;
    default:
        break;
    }
}

static void pw__expire(struct pw__probe *pr, size_t lo, size_t hi, double now)
{
    for (size_t i = lo; i < hi; i++) {
        struct pw__conn *c = &pr->c[i];
        if (c->state >= C_CONNECTING && c->state <= C_READING &&
            now - c->t0 >= pr->cfg->timeout)
            pw__fail_conn(pr, i, c->state == C_CONNECTING ? PW_PROBE_ST_CONNECT
                                                          : PW_PROBE_ST_UPGRADE,
                          ETIMEDOUT, 0, 0);
    }
}

static int pw__build_req(struct pw__probe *pr)
{
    const struct pw_probe_cfg *cfg = pr->cfg;
    if (!cfg->ws_path)
        return 0;
    int n = snprintf(pr->req, sizeof pr->req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: ",
                     cfg->ws_path, cfg->host ? cfg->host : "localhost");
    if (n < 0 || (size_t)n + PW_WS_KEY_LEN + 4 >= sizeof pr->req)
        return PW_EINVAL;
    pr->reqkeyoff = (size_t)n;
    memset(pr->req + n, 'A', PW_WS_KEY_LEN);
    memcpy(pr->req + n + PW_WS_KEY_LEN, "\r\n\r\n", 4);
    pr->reqlen = (size_t)n + PW_WS_KEY_LEN + 4;
    return 0;
}

static void pw__progress(struct pw__probe *pr, double *last)
{
    double now = pw__now();
    pr->st->elapsed = now - pr->t_start;
    if (pr->cfg->progress && (!last || now - *last >= pr->cfg->progress_interval)) {
        pr->cfg->progress(pr->st, pr->cfg->ud);
        if (last)
            *last = now;
    }
}

int pw_probe_run(const struct pw_probe_cfg *cfg, struct pw_probe_stats *st)
{
    memset(st, 0, sizeof *st);
    st->first.src = -1;
    if (!cfg->connections || !cfg->parallel || cfg->timeout <= 0 ||
        cfg->nsrc > PW_PROBE_MAX_SOURCES || (cfg->nsrc && !cfg->src))
        return PW_EINVAL;
    struct pw__probe pr = {.cfg = cfg, .st = st, .ep = -1};
    if (pw__build_req(&pr) != 0)
        return PW_EINVAL;
    st->connect_us = calloc(cfg->connections, sizeof *st->connect_us);
    st->upgrade_us = cfg->ws_path ? calloc(cfg->connections, sizeof *st->upgrade_us) : NULL;
    pr.c = calloc(cfg->connections, sizeof *pr.c);
    pr.src_dead = calloc(cfg->nsrc ? cfg->nsrc : 1, 1);
    if (!st->connect_us || (cfg->ws_path && !st->upgrade_us) || !pr.c || !pr.src_dead) {
        free(pr.c);
        free(pr.src_dead);
        return PW_ENOMEM;
    }
    pr.ep = epoll_create1(EPOLL_CLOEXEC);
    if (pr.ep < 0) {
        st->first.sys = errno;
        free(pr.c);
        free(pr.src_dead);
        return PW_EIO;
    }
    pr.t_start = pw__now();
    double last = pr.t_start;
    size_t next = 0, oldest = 0;
    struct epoll_event evs[512];

    /* opening: start attempts (rate, parallel), handle events, expire */
    while (next < cfg->connections || pr.inflight) {
        if (cfg->stop && *cfg->stop) {
            st->stopped = 2;
            break;
        }
        double now = pw__now();
        int wait_ms = 100;
        while (next < cfg->connections && !st->stopped && pr.inflight < cfg->parallel) {
            if (cfg->rate > 0 && (double)next >= (now - pr.t_start) * cfg->rate) {
                double due = pr.t_start + (double)next / cfg->rate;
                int ms = (int)((due - now) * 1000) + 1;
                wait_ms = ms < wait_ms ? ms : wait_ms;
                break;
            }
            if (pw__start(&pr, next++))
                st->stopped = 1;
        }
        if (st->stopped == 1)
            next = cfg->connections; /* nothing more will be attempted */
        if (next < cfg->connections && pr.inflight < cfg->parallel && cfg->rate <= 0)
            wait_ms = 0;
        int n = epoll_wait(pr.ep, evs, 512, pr.inflight || next < cfg->connections ? wait_ms : 0);
        for (int k = 0; k < n; k++)
            pw__event(&pr, (size_t)evs[k].data.u64, evs[k].events);
        while (oldest < next && pr.c[oldest].state != C_CONNECTING &&
               pr.c[oldest].state != C_SENDING && pr.c[oldest].state != C_READING)
            oldest++;
        pw__expire(&pr, oldest, next, pw__now());
        pw__progress(&pr, &last);
    }
    st->open_secs = pw__now() - pr.t_start;
    st->held = st->open;

    /* holding */
    st->phase = PW_PROBE_HOLDING;
    pw__progress(&pr, NULL);
    double until = pw__now() + cfg->hold;
    while (st->stopped != 2 && st->open && pw__now() < until) {
        if (cfg->stop && *cfg->stop) {
            st->stopped = 2;
            break;
        }
        double left = until - pw__now();
        int ms = left > 0.1 ? 100 : (int)(left * 1000) + 1;
        int n = epoll_wait(pr.ep, evs, 512, ms);
        for (int k = 0; k < n; k++)
            pw__event(&pr, (size_t)evs[k].data.u64, evs[k].events);
        pw__progress(&pr, &last);
    }

    /* release */
    for (size_t i = 0; i < cfg->connections; i++)
        if (pr.c[i].state != C_IDLE && pr.c[i].state != C_DONE) {
            if (pr.c[i].ws) { /* a clean goodbye */
                uint8_t bye[125];
                int n = pw_ws_close_build(bye, PW_WS_CLOSE_NORMAL, NULL, 0);
                pw__ws_send(&pr.c[i], PW_WS_OP_CLOSE, bye, (size_t)n);
            }
            pw__close(&pr, &pr.c[i]); /* held, or interrupted in flight */
        }
    close(pr.ep);
    st->phase = PW_PROBE_DONE;
    pw__progress(&pr, NULL);
    free(pr.c);
    free(pr.src_dead);
    return 0;
}

void pw_probe_free(struct pw_probe_stats *st)
{
    free(st->connect_us);
    free(st->upgrade_us);
    st->connect_us = st->upgrade_us = NULL;
}
