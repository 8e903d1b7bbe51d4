/* srv_io.c — the connections' sockets, without libuv streams.  A libuv
 * uv_tcp_t is 248 bytes per connection, most of an idle one; here each loop
 * owns one epoll fd for all its connections (srv.epfd), which libuv watches
 * through a single uv_poll_t (an epoll fd is readable while it has events:
 * nesting is allowed), and a connection keeps only its fd and two bits of
 * interest.  Level-triggered, as libuv's streams are.  Listeners are libuv
 * poll handles on their sockets; accept4 is ours, so an accepted socket
 * never becomes a libuv handle.  Timers, signals, --exec's pipes and the
 * Redis links stay libuv's.
 *
 * A closed connection's struct outlives its close until no epoll batch
 * being dispatched can name it: srv_io_reap frees it after the batch, in
 * the check phase, or when the loop ends. */
#include "srv.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define SRV_IO_BATCH 256    /* events per epoll_wait */
#define SRV_IO_ROUNDS 4     /* epoll_wait calls per loop turn while batches come back full */
#define SRV_ACCEPT_BATCH 128 /* accepts per listener per loop turn; more wait for the next */

/* ---- interest ---- */

/* Registers exactly what c wants now: EPOLLIN while reading, EPOLLOUT while
 * a write waits; nothing wanted takes it off the set (EPOLLHUP and EPOLLERR
 * would otherwise be reported to a connection that listens to nothing, on
 * every turn). */
static int srv__io_set(struct srv_conn *c)
{
    uint32_t want = (c->reading ? EPOLLIN : 0) | (c->writing ? EPOLLOUT : 0);
    int on = c->ep_in || c->ep_out;
    if (!on && !want)
        return 0;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    int op = !on ? EPOLL_CTL_ADD : want ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
    if (epoll_ctl(c->srv->epfd, op, c->fd, &ev))
        return -errno;
    c->ep_in = c->reading;
    c->ep_out = c->writing;
    return 0;
}

int srv_io_want(struct srv_conn *c)
{
    if ((c->reading && !c->ep_in) || (c->writing && !c->ep_out))
        return srv__io_set(c);
    return 0;
}

int srv_io_wait_out(struct srv_conn *c)
{
    c->writing = 1;
    return srv_io_want(c);
}

/* One event: input first, then the write that waited (libuv's order);
 * then what is watched but no longer wanted (reading paused since, the
 * write done) is dropped, one epoll_ctl only when such an event came. */
static void srv__io_event(struct srv_conn *c, uint32_t ev)
{
    if (c->closing)
        return; /* closed earlier in this batch */
    if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->reading)
        srv__readable(c);
    if (!c->closing && (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) && c->writing)
        srv__writable(c);
    if (!c->closing && ((c->ep_in && !c->reading) || (c->ep_out && !c->writing)))
        srv__io_set(c);
}

/* The loop's poll handle: the epoll fd has events. */
static void srv__io_cb(uv_poll_t *h, int status, int events)
{
    struct srv *s = h->data;
    struct epoll_event ev[SRV_IO_BATCH];
    (void)status;
    (void)events;
    for (int round = 0; round < SRV_IO_ROUNDS; round++) {
        int n = epoll_wait(s->epfd, ev, SRV_IO_BATCH, 0);
        for (int i = 0; i < n; i++)
            srv__io_event(ev[i].data.ptr, ev[i].events);
        srv_io_reap(s);
        if (n < SRV_IO_BATCH)
            break;
    }
}

/* ---- the loop's set ---- */

int srv_io_start(struct srv *s, char *err, size_t errsz)
{
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    int r = s->epfd < 0 ? -errno : uv_poll_init(s->loop, &s->io, s->epfd);
    if (r == 0) {
        s->io.data = s;
        r = uv_poll_start(&s->io, UV_READABLE, srv__io_cb);
    }
    if (r) {
        snprintf(err, errsz, "cannot watch connections (epoll): %s", uv_strerror(r));
        return PW_ENET_LOOP;
    }
    return 0;
}

void srv_io_stop(struct srv *s)
{
    if (s->epfd >= 0 && !uv_is_closing((uv_handle_t *)&s->io))
        uv_close((uv_handle_t *)&s->io, NULL);
}

void srv_io_free(struct srv *s)
{
    srv_io_reap(s);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    s->epfd = s->spare_fd = -1;
}

void srv_io_close(struct srv_conn *c)
{
    struct srv *s = c->srv;
    /* close() alone would leave the registration while another fd (a
     * dup, a forked program's copy) keeps the socket open */
    if (c->ep_in || c->ep_out)
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->ep_in = c->ep_out = 0;
    close(c->fd);
    c->fd = -1;
    if (c->dirty) {
        c->dirty = SRV_DIRTY_GONE; /* on srv.dirty or srv.held: freed when taken off */
        return;
    }
    c->dnext = s->closed;
    s->closed = c;
}

void srv_io_reap(struct srv *s)
{
    while (s->closed) {
        struct srv_conn *c = s->closed;
        s->closed = c->dnext;
        srv__conn_free(c);
    }
}

ssize_t srv_io_writev(struct srv_conn *c, const struct iovec *iov, int n)
{
    for (;;) {
        ssize_t r = writev(c->fd, iov, n);
        if (r >= 0)
            return r;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

/* ---- listeners ---- */

int srv_io_bind(const struct sockaddr_storage *ss, int reuseport)
{
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) ||
        (ss->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
        bind(fd, (const struct sockaddr *)ss, len)) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* Out of file descriptors (EMFILE, ENFILE): the connections waiting would
 * wake the loop on every turn without being served.  As libuv did for its
 * listeners, the spare fd is given up to accept and close them (the client
 * sees its connection end), then taken again. */
static void srv__io_shed(struct srv_listener *l, int err)
{
    struct srv *s = l->srv;
    size_t n = 0;
    if (s->spare_fd < 0)
        return;
    close(s->spare_fd);
    for (int fd; n < SRV_ACCEPT_BATCH && (fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0; n++)
        close(fd);
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (n)
        srv_log(s, NULL, "error", 0, 0,
                "accept: %s: %zu connection(s) closed unserved (raise the open-files limit, "
                "ulimit -n, or lower --max-conns)",
                uv_strerror(-err), n);
}

static void srv__accept_cb(uv_poll_t *h, int status, int events)
{
    struct srv_listener *l = h->data;
    (void)events;
    if (status < 0)
        return;
    for (int i = 0; i < SRV_ACCEPT_BATCH && !uv_is_closing((uv_handle_t *)h); i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE)
                srv__io_shed(l, errno);
            return; /* EAGAIN: none left */
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        srv__accepted(l, fd);
    }
}

int srv_io_listen(struct srv *s, struct srv_listener *l, int fd)
{
    l->srv = s;
    l->fd = fd;
    int r = listen(fd, SRV_LISTEN_BACKLOG) ? -errno : uv_poll_init(s->loop, &l->poll, fd);
    if (r) {
        close(fd);
        l->fd = -1;
        return r;
    }
    l->poll.data = l;
    r = uv_poll_start(&l->poll, UV_READABLE, srv__accept_cb);
    if (r)
        srv_io_unlisten(l);
    return r;
}

static void srv__io_unlistened(uv_handle_t *h)
{
    struct srv_listener *l = h->data;
    close(l->fd);
    l->fd = -1;
}

void srv_io_unlisten(struct srv_listener *l)
{
    if (l->fd >= 0 && !uv_is_closing((uv_handle_t *)&l->poll))
        uv_close((uv_handle_t *)&l->poll, srv__io_unlistened);
}
