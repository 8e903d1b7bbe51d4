/* tcp_fanout.c — the physical ceiling for the fan-out benchmark: the least a
 * server can do to carry a POSTed message to N event-stream subscribers over
 * TCP on this machine.  One thread, epoll, one shared read buffer; no
 * channels, no ids, no backlog, no limits, no HTTP parser worth the name —
 * it understands exactly what bench/loadgen.c sends and nothing else.
 *
 *   GET ...   a subscriber: answered `200 text/event-stream` (body until close)
 *   POST ...  with Content-Length: the body goes to every subscriber as
 *             `data: BODY\n\n`; the publisher gets `200 {}` (keep-alive)
 *
 * What a loop turn produced for a subscriber is written with one write() at
 * the end of the turn (the same corking pushwire serve does), so the
 * comparison is about the work per message, not the batching policy.
 *
 *   tcp_fanout [PORT]      (0 or none = a free port)
 * Prints `tcp_fanout: listening on 127.0.0.1:PORT` on stderr; SIGTERM ends it.
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
#include <unistd.h>

#define HEAD_MAX 8192

struct conn {
    int fd, sub, dirty;
    char *in;               /* request bytes not yet consumed */
    size_t inlen;
    char *out;              /* bytes to write */
    size_t outlen, outcap;
    struct conn *dnext;     /* dirty list */
    struct conn *knext;     /* closed, to free at the end of the turn */
};

static struct conn **byfd;
static int maxfd;
static struct conn **subs;
static size_t nsubs;
static struct conn *dirty;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void put(struct conn *c, const char *p, size_t n)
{
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + n)
            cap *= 2;
        char *np = realloc(c->out, cap);
        if (!np)
            die("tcp_fanout: realloc");
        c->out = np;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    if (!c->dirty) {
        c->dirty = 1;
        c->dnext = dirty;
        dirty = c;
    }
}

static void drop(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->sub)
        for (size_t i = 0; i < nsubs; i++)
            if (subs[i] == c) {
                subs[i] = subs[--nsubs];
                break;
            }
    byfd[c->fd] = NULL;
    c->fd = -1; /* freed after the turn: it may sit on the dirty list */
}

/* Consumes complete requests from c->in; returns 0, or -1 to drop c. */
static int requests(struct conn *c)
{
    for (;;) {
        char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
        if (!end)
            return c->inlen > HEAD_MAX ? -1 : 0;
        size_t head = (size_t)(end - c->in) + 4;
        if (c->inlen >= 4 && !memcmp(c->in, "GET ", 4)) {
            static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
            put(c, ok, sizeof ok - 1);
            c->sub = 1;
            subs[nsubs++] = c;
            c->inlen = 0; /* a subscriber sends nothing more */
            return 0;
        }
        if (c->inlen < 5 || memcmp(c->in, "POST ", 5))
            return -1;
        char *cl = memmem(c->in, head, "Content-Length: ", 16);
        size_t len = cl ? strtoul(cl + 16, NULL, 10) : 0;
        if (len > 65536)
            return -1;
        if (c->inlen < head + len)
            return 0;
        char ev[65536 + 16];
        memcpy(ev, "data: ", 6);
        memcpy(ev + 6, c->in + head, len);
        memcpy(ev + 6 + len, "\n\n", 2);
        for (size_t i = 0; i < nsubs; i++)
            put(subs[i], ev, len + 8);
        static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        put(c, ok, sizeof ok - 1);
        memmove(c->in, c->in + head + len, c->inlen - head - len);
        c->inlen -= head + len;
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
    byfd = calloc((size_t)maxfd, sizeof *byfd);
    subs = calloc((size_t)maxfd, sizeof *subs);
    if (!byfd || !subs)
        die("tcp_fanout: calloc");
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0)
        die("tcp_fanout");
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    fprintf(stderr, "tcp_fanout: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
    static char buf[1 << 16];
    struct epoll_event evs[512];
    struct conn *dead = NULL;
    for (;;) {
        int n = epoll_wait(ep, evs, 512, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (fd >= maxfd || !(c = calloc(1, sizeof *c))) {
                        close(fd);
                        continue;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c->fd = fd;
                    byfd[fd] = c;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
                }
                continue;
            }
            if (c->fd < 0)
                continue;
            ssize_t r = read(c->fd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                drop(ep, c);
                c->knext = dead;
                dead = c;
                continue;
            }
            if (c->sub)
                continue; /* subscribers have nothing to say */
            char *np = realloc(c->in, c->inlen + (size_t)r);
            if (!np)
                die("tcp_fanout: realloc");
            c->in = np;
            memcpy(c->in + c->inlen, buf, (size_t)r);
            c->inlen += (size_t)r;
            if (requests(c) < 0) {
                drop(ep, c);
                c->knext = dead;
                dead = c;
            }
        }
        /* the end of the turn: one write per connection with output */
        while (dirty) {
            struct conn *c = dirty;
            dirty = c->dnext;
            c->dirty = 0;
            if (c->fd < 0)
                continue;
            ssize_t w = write(c->fd, c->out, c->outlen);
            if (w < 0 && errno != EAGAIN) {
                drop(ep, c);
                c->knext = dead;
                dead = c;
                continue;
            }
            /* a full socket keeps the rest for the next turn that adds to
             * it (the ceiling does not bother with EPOLLOUT: the bench's
             * subscribers read as fast as they can) */
            size_t done = w > 0 ? (size_t)w : 0;
            memmove(c->out, c->out + done, c->outlen - done);
            c->outlen -= done;
        }
        while (dead) {
            struct conn *c = dead;
            dead = c->knext;
            free(c->in);
            free(c->out);
            free(c);
        }
    }
}
