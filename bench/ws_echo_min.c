/* ws_echo_min.c — the least a WebSocket echo can do, for the echo benchmark:
 * tcp_echo.c's loop (one thread, epoll, edge-triggered, read until EAGAIN)
 * plus what the protocol itself asks: the handshake's accept key, each
 * client frame's header taken apart, its payload unmasked (pw_ws_unmask_ascii,
 * the same loop as pushwire's) and sent back behind an unmasked header, the
 * frames of one read in one writev from the read buffer (as pushwire's lent
 * segments).  No other checks (UTF-8 beyond ASCII, limits, control frames
 * are echoed like data), no libuv: a measuring stick, not a server.  Between
 * tcp_echo and this lies what WebSocket costs; between this and
 * `pushwire serve --echo`, what pushwire costs.  bench/ab_echo.sh runs two
 * servers side by side (docs/PERF_ECHO.md, "Third round").
 *
 *   ws_echo_min [PORT]      (0 or none = a free port)
 * Prints `ws_echo_min: listening on 127.0.0.1:PORT` on stderr; SIGTERM ends it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "proto/ws_frame.h"
#include "proto/ws_handshake.h"

#define IN_MAX (128 * 1024) /* a read; a frame must fit (the bench's do) */
#define IOV_MAX_N 64

struct conn {
    int fd, open;      /* open: the handshake is answered */
    uint8_t *in;       /* IN_MAX bytes: the reads, and a partial frame kept */
    size_t ilen;
    char *pend;        /* bytes the kernel would not take yet (rare) */
    size_t plen;
};

static struct conn **conns;
static int maxfd;

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c->in);
    free(c->pend);
    free(c);
}

/* writes iov out, keeping what the kernel does not take (in order) */
static int send_iov(struct conn *c, struct iovec *iov, int n)
{
    size_t want = 0;
    for (int i = 0; i < n; i++)
        want += iov[i].iov_len;
    ssize_t w = 0;
    if (!c->plen) {
        do
            w = writev(c->fd, iov, n);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN)
            return -1;
        if (w < 0)
            w = 0;
    }
    size_t skip = (size_t)w, rest = want - skip;
    if (!rest)
        return 0;
    char *np = realloc(c->pend, c->plen + rest);
    if (!np)
        return -1;
    c->pend = np;
    for (int i = 0; i < n; i++) {
        size_t l = iov[i].iov_len;
        if (skip >= l) {
            skip -= l;
            continue;
        }
        memcpy(c->pend + c->plen, (char *)iov[i].iov_base + skip, l - skip);
        c->plen += l - skip;
        skip = 0;
    }
    return 0;
}

static int flush_pend(struct conn *c)
{
    while (c->plen) {
        ssize_t w = write(c->fd, c->pend, c->plen);
        if (w < 0)
            return errno == EAGAIN ? 0 : errno == EINTR ? 0 : -1;
        memmove(c->pend, c->pend + w, c->plen - (size_t)w);
        c->plen -= (size_t)w;
    }
    return 0;
}

/* the upgrade: 101 with the accept key, or -1 */
static int handshake(struct conn *c)
{
    char *end = memmem(c->in, c->ilen, "\r\n\r\n", 4);
    if (!end)
        return c->ilen >= 8192 ? -1 : 0;
    size_t hlen = (size_t)(end + 4 - (char *)c->in);
    char *k = memmem(c->in, hlen, "Sec-WebSocket-Key: ", 19);
    if (!k)
        return -1;
    k += 19;
    char *ke = memchr(k, '\r', hlen - (size_t)(k - (char *)c->in));
    if (!ke || ke - k > 64)
        return -1;
    char acc[PW_WS_ACCEPT_LEN + 1], resp[256];
    if (pw_ws_accept_key(k, (size_t)(ke - k), acc))
        return -1;
    int n = snprintf(resp, sizeof resp,
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
    struct iovec iov = {resp, (size_t)n};
    if (send_iov(c, &iov, 1))
        return -1;
    memmove(c->in, c->in + hlen, c->ilen - hlen);
    c->ilen -= hlen;
    c->open = 1;
    return 0;
}

/* every whole frame in c->in: unmasked in place, its reply header written
 * over the end of its own (4 bytes shorter: no key), all of them in one
 * writev; a partial frame moves to the front */
static int echo_frames(struct conn *c)
{
    struct iovec iov[IOV_MAX_N];
    int n = 0;
    size_t at = 0;
    for (;;) {
        size_t left = c->ilen - at;
        uint8_t *f = c->in + at;
        if (left < 2)
            break;
        uint64_t len = f[1] & 0x7f;
        size_t hl = 2;
        if (!(f[1] & 0x80))
            return -1; /* a client frame is masked */
        if (len == 126) {
            if (left < 4)
                break;
            len = (uint64_t)f[2] << 8 | f[3];
            hl = 4;
        } else if (len == 127) {
            if (left < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | f[2 + i];
            hl = 10;
        }
        if (len > IN_MAX - 14)
            return -1;
        if (left < hl + 4 + len)
            break;
        uint8_t *p = f + hl + 4;
        pw_ws_unmask_ascii(p, (size_t)len, p - 4);
        uint8_t *h = p - hl;
        h[0] = f[0];
        h[1] = (uint8_t)(f[1] & 0x7f);
        if (hl == 4) {
            h[2] = (uint8_t)(len >> 8);
            h[3] = (uint8_t)len;
        } else if (hl == 10) {
            for (int i = 0; i < 8; i++)
                h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        }
        iov[n].iov_base = h;
        iov[n].iov_len = hl + (size_t)len;
        n++;
        at += hl + 4 + (size_t)len;
        if (n == IOV_MAX_N) {
            if (send_iov(c, iov, n))
                return -1;
            n = 0;
        }
    }
    if (n && send_iov(c, iov, n))
        return -1;
    memmove(c->in, c->in + at, c->ilen - at);
    c->ilen -= at;
    return 0;
}

static int readable(struct conn *c)
{
    for (;;) {
        ssize_t r = read(c->fd, c->in + c->ilen, IN_MAX - c->ilen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == EAGAIN ? 0 : -1;
        if (r == 0)
            return -1;
        c->ilen += (size_t)r;
        if ((c->open ? 0 : handshake(c)) < 0)
            return -1;
        if (c->open && echo_frames(c))
            return -1;
    }
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    maxfd = (int)rl.rlim_cur;
    conns = calloc((size_t)maxfd, sizeof *conns);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!conns || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("ws_echo_min");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    fprintf(stderr, "ws_echo_min: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));

    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int cfd;
                while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct conn *c = cfd < maxfd ? calloc(1, sizeof *c) : NULL;
                    if (c && !(c->in = malloc(IN_MAX))) {
                        free(c);
                        c = NULL;
                    }
                    if (!c) {
                        close(cfd);
                        continue;
                    }
                    c->fd = cfd;
                    conns[cfd] = c;
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ce);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (!c)
                continue;
            if ((evs[i].events & EPOLLOUT) && c->plen && flush_pend(c)) {
                drop(ep, c);
                continue;
            }
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && readable(c))
                drop(ep, c);
        }
    }
}
