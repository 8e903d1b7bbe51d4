/* tcp_echo.c — the physical ceiling for the echo benchmark: a minimal epoll
 * TCP echo server, no framing, no parsing.  One thread, edge-triggered, one
 * shared read buffer; what it reads it writes back in the same turn.
 *
 *   tcp_echo [PORT]      (0 or none = a free port)
 * Prints `tcp_echo: listening on 127.0.0.1:PORT` on stderr; SIGTERM ends it.
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

struct pend {            /* bytes the kernel would not take yet (rare) */
    char *p;
    size_t len;
};

static struct pend *pending;
static int maxfd;

static void drop(int ep, int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    if (fd < maxfd) { free(pending[fd].p); pending[fd].p = NULL; pending[fd].len = 0; }
}

static int send_all(int fd, const char *p, size_t n)
{
    struct pend *q = &pending[fd];
    if (q->len) {   /* keep order: append behind what is already waiting */
        char *np = realloc(q->p, q->len + n);
        if (!np) return -1;
        memcpy(np + q->len, p, n);
        q->p = np; q->len += n;
        return 0;
    }
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) return -1;
            q->p = malloc(n);
            if (!q->p) return -1;
            memcpy(q->p, p, n);
            q->len = n;
            return 0;
        }
        p += w; n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    maxfd = (int)rl.rlim_cur;
    pending = calloc((size_t)maxfd, sizeof *pending);
    signal(SIGPIPE, SIG_IGN);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (!pending || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
        perror("tcp_echo");
        return 1;
    }
    socklen_t al = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &al);
    fprintf(stderr, "tcp_echo: listening on 127.0.0.1:%d\n", ntohs(a.sin_port));

    int ep = epoll_create1(0);
    struct epoll_event e = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
    static char buf[1 << 17];   /* 128 KiB, as pushwire's read buffer: a batch of 16 framed 4 KiB messages is 64.1 KiB */
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= maxfd) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            if ((evs[i].events & EPOLLOUT) && pending[fd].len) {
                struct pend q = pending[fd];
                pending[fd].p = NULL; pending[fd].len = 0;
                int r = send_all(fd, q.p, q.len);
                free(q.p);
                if (r < 0) { drop(ep, fd); continue; }
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) { if (send_all(fd, buf, (size_t)r) < 0) { drop(ep, fd); break; } continue; }
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) { if (errno == EAGAIN) break; continue; }
                drop(ep, fd);
                break;
            }
        }
    }
}
