/* loadgen.c — pushwire's load generator (make bench; not part of the tests).
 *
 *   loadgen echo   --port P [--path /ws/x] [-c N] [-k K] [-s BYTES] [-d SECS] [--binary]
 *   loadgen tcp    --port P [-c N] [-k K] [-s BYTES] [-d SECS] [--framed]
 *   loadgen idle   --port P [--path /ws/x] [-c N] [-d SECS] [--one-msg [-s BYTES]] [--crowd]
 *   loadgen idle-sse  --port P [--path /sse/x] [-c N] [-d SECS]
 *   loadgen idle-poll --port P [--path /poll/x] [-c N] [-d SECS]
 *   loadgen fanout --port P --ws PATH --pub PATH ...      (WebSocket subscribers)
 *   loadgen fanout --port P [--sse PATH | --poll PATH] --pub PATH [-c N]
 *                  [--rate MSGS_PER_SEC] [-d SECS] [-s BYTES] [--pubconns M] [--port2 P2]
 *                  [--warmup SECS]
 *   loadgen handshakes --port P [-c N] [-d SECS]            (TLS only)
 *   any mode: --tls [--sni NAME] speaks TLS (OpenSSL, no verification)
 *   WebSocket modes: --deflate offers permessage-deflate as browsers do
 *     ("permessage-deflate; client_max_window_bits"): RSV1 frames are
 *     inflated, messages sent compressed (ws_deflate.h)
 *
 * echo: N WebSocket connections, each keeping K masked messages of BYTES in
 *   flight (pipelining; a new one is sent for each echo received, all sends
 *   of one loop turn in one write); reports msgs/s and round-trip p50/p99.
 * tcp: the same against a raw TCP echo server (no framing): the ceiling.
 *   Bare bytes by default; --framed sends the masked frames echo sends and
 *   parses what comes back as frames (a raw echo returns them masked), so
 *   the client does the same work for both servers and offers the same
 *   load: a cheaper client makes bigger batches, which lowers a server's
 *   system calls per echo (tcp_echo's CPU per 4 KiB echo at 16 in flight
 *   was 1.25x with --framed than without, the same binary).
 * idle: opens N WebSocket connections, prints `open=N` when all are up and
 *   holds them for SECS (the bench script measures the server's RSS).  With
 *   --one-msg, connection i uses PATH-i and sends one message of BYTES
 *   (JSON-like text) that comes back to it (published on its own channel)
 *   before `open=N` is printed: one message each way.
 *   Connections are opened 256 at a time; --crowd starts all N at once (a
 *   crowd reconnecting after a restart: every handshake in flight together).
 * idle-sse: the same with N event streams (open once the 200 head came).
 * idle-poll: the same with N long polls on an empty channel (cursor 0,
 *   timeout 600 s, capped by the server's --poll-timeout): each is "open"
 *   once its request is written, since a parked poll answers nothing; the
 *   caller confirms they are parked (the server's /metrics).
 * handshakes: N connections at a time, each a TCP connect, a full TLS
 *   handshake (no resumption) and a close, again and again; reports
 *   handshakes/s.
 * fanout: N subscribers (SSE, or long polling with cursors) on one channel
 *   (with --port2, every other one on a second server: through a backplane)
 *   and a publisher POSTing at RATE msgs/s, each message stamped with its
 *   send time and sequence number; every subscriber checks it got every
 *   message exactly once and computes the delivery latency.  The first
 *   --warmup SECS (0.5) of publishing are checked but their latencies are
 *   not recorded (as echo's warm-up); published, expected and delivered
 *   count them, pub_rate does not.  An event's latency is taken when the
 *   read that returned its bytes returned.
 *
 * Output: one line of key=value pairs on stdout.  Exit 1 on a setup error
 * (cannot connect, handshake refused), 0 otherwise (losses are reported,
 * judging them is the caller's business).  One thread, epoll, edge-triggered.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"
#include "proto/ws_handshake.h"

enum kind { K_WS, K_TCP, K_SSE, K_POLL, K_PUB, K_HS };
enum state { S_CONNECTING, S_TLS, S_HANDSHAKE, S_OPEN, S_DEAD };

struct conn {
    int fd, kind, state;
    SSL *ssl;              /* --tls */
    uint8_t *r;            /* raw bytes read, not yet consumed */
    size_t rlen, rcap;
    uint8_t *w;            /* bytes to write */
    size_t wlen, woff, wcap;
    uint64_t *ring;        /* echo: send times of the messages in flight */
    unsigned rhead, rcount;
    size_t partial;        /* tcp: bytes of the current echoed message */
    /* HTTP response body state (sse, poll, pub) */
    int chunked, in_body;
    long long body_left;   /* content-length bytes left, -1 = until close */
    size_t chunk_left;
    uint8_t *l;            /* decoded body bytes (sse lines, poll body) */
    size_t llen, lcap;
    uint8_t *seen;         /* fanout: bitmap of sequence numbers received at or above next */
    uint64_t next;         /* fanout: every sequence number below it was received */
    uint64_t ahead;        /* fanout: bits set in seen at or above next */
    uint64_t got, dup;
#ifdef LG_CHECK
    uint8_t *seen2;        /* the old accounting, side by side (-DLG_CHECK) */
    uint64_t got2, dup2;
#endif
    char cursor[96];
    int busy;              /* pub/poll: a request is outstanding */
    int alt;               /* fanout with --port2: subscribed on the second server */
    int fan;               /* a WebSocket fan-out subscriber */
    struct pw_wsd *wsd;    /* --deflate, when the server agreed */
};

static struct {
    const char *mode, *path, *pub, *host, *sni;
    int port, conns, inflight, size, binary, pubconns, tls, port2, deflate, onemsg, ws_fan, crowd;
    int framed;            /* tcp --framed: masked frames both ways (the client's work of echo) */
    int idle;              /* idle-*: hold only, no fan-out accounting */
    double secs, rate, warmup;
} o = { .host = "127.0.0.1", .path = "/ws/bench", .conns = 100, .inflight = 1,
        .size = 32, .secs = 5, .rate = 1000, .pubconns = 32, .warmup = 0.5 };

static int ep;
static struct conn *cs;        /* subscribers / echo connections */
static struct conn *pubs;      /* publisher connections */
static int nopen, nconnecting, nfailed, nready;
static const char *first_err;
static uint64_t t_start, t_end, measuring;
static uint64_t msgs, bytes_in;
static uint64_t published, pub_errors, max_seq;
static uint32_t hist[1000001]; /* latency in µs; the last bucket is >= 1 s */
static uint64_t hist_n, lat_max;
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static volatile sig_atomic_t stop;
static int quickack;
static SSL_CTX *tls_ctx;
static uint64_t handshakes;
static uint64_t zframes;       /* compressed messages received */
static uint64_t onemsg_got;    /* idle --one-msg: connections that got theirs back */
static struct pw_buf zbuf;     /* --deflate: a message compressed or inflated */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rnd32(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)rng;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) { fprintf(stderr, "loadgen: out of memory\n"); exit(1); }
    return q;
}

static void grow(uint8_t **p, size_t *cap, size_t need)
{
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 4096;
    while (n < need) n *= 2;
    *p = xrealloc(*p, n);
    *cap = n;
}

static void record_latency(uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us > lat_max) lat_max = us;
    hist[us > 1000000 ? 1000000 : us]++;
    hist_n++;
}

static double percentile(double p)
{
    uint64_t want = (uint64_t)(p * (double)hist_n), acc = 0;
    for (int i = 0; i <= 1000000; i++) {
        acc += hist[i];
        if (acc > want || (acc == hist_n && hist_n)) return i;
    }
    return 0;
}

static void fail_conn(struct conn *c, const char *why)
{
    if (c->state == S_DEAD) return;
    if (c->state != S_OPEN) nfailed++;
    if (!first_err) first_err = why;
    if (c->state == S_CONNECTING) nconnecting--;
    if (c->state == S_OPEN) nopen--;
    c->state = S_DEAD;
    if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
    close(c->fd);
    c->fd = -1;
}

/* --- writing -------------------------------------------------------------- */

static void out(struct conn *c, const void *p, size_t n)
{
    grow(&c->w, &c->wcap, c->wlen + n);
    memcpy(c->w + c->wlen, p, n);
    c->wlen += n;
}

static void flush(struct conn *c)
{
    if (c->ssl) {
        if (c->state == S_TLS) return;
        while (c->woff < c->wlen && c->state != S_DEAD) {
            int n = SSL_write(c->ssl, c->w + c->woff, (int)(c->wlen - c->woff));
            if (n <= 0) {
                int e = SSL_get_error(c->ssl, n);
                if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return;
                fail_conn(c, "TLS write failed");
                return;
            }
            c->woff += (size_t)n;
        }
        c->wlen = c->woff = 0;
        return;
    }
    while (c->woff < c->wlen && c->state != S_DEAD) {
        ssize_t n = write(c->fd, c->w + c->woff, c->wlen - c->woff);
        if (n < 0) {
            if (errno == EAGAIN) return;  /* EPOLLOUT (edge) calls us again */
            if (errno == EINTR) continue;
            fail_conn(c, "write failed");
            return;
        }
        c->woff += (size_t)n;
    }
    c->wlen = c->woff = 0;
    if (o.idle && c->kind == K_POLL && c->state == S_HANDSHAKE) {
        /* idle-poll: a parked poll answers nothing; written is held */
        c->state = S_OPEN; nopen++; nready++;
    }
}

/* one masked client frame (RFC 6455 §5.3), payload stamped with nothing: the
 * ring of send times gives the latency, since echoes come back in order */
static void ws_send(struct conn *c, int opcode, const uint8_t *payload, size_t len)
{
    uint8_t hdr[14], key[4];
    uint32_t k = rnd32();
    unsigned rsv = 0;
    memcpy(key, &k, 4);
    if (c->wsd && opcode < 8) {
        pw_buf_reset(&zbuf);
        if (pw_wsd_compress(c->wsd, payload, len, &zbuf) != 0) { fprintf(stderr, "loadgen: deflate failed\n"); exit(1); }
        payload = zbuf.p;
        len = zbuf.len;
        rsv = 4;
    }
    int h = pw_ws_encode_header(hdr, 1, rsv, opcode, key, len, 0);
    grow(&c->w, &c->wcap, c->wlen + (size_t)h + len);
    memcpy(c->w + c->wlen, hdr, (size_t)h);
    memcpy(c->w + c->wlen + h, payload, len);
    pw_ws_mask(c->w + c->wlen + h, len, key, 0);
    c->wlen += (size_t)h + len;
}

static uint8_t *payload;

static void echo_send_one(struct conn *c)
{
    if (c->kind == K_WS || o.framed)
        ws_send(c, o.binary ? PW_WS_OP_BINARY : PW_WS_OP_TEXT, payload, (size_t)o.size);
    else
        out(c, payload, (size_t)o.size);
    c->ring[(c->rhead + c->rcount) % (unsigned)o.inflight] = now_ns();
    c->rcount++;
}

static void echo_got_one(struct conn *c)
{
    uint64_t t = now_ns();
    if (c->rcount) {
        uint64_t sent = c->ring[c->rhead];
        c->rhead = (c->rhead + 1) % (unsigned)o.inflight;
        c->rcount--;
        if (measuring) { record_latency(t - sent); msgs++; }
    }
    if (!stop && t < t_end) echo_send_one(c);
}

/* --- connecting ----------------------------------------------------------- */

static struct sockaddr_in dst, dst2;

static void ev_add(struct conn *c)
{
    struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0) { perror("loadgen: epoll_ctl"); exit(1); }
}

static void start_connect(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { c->state = S_CONNECTING; nconnecting++; fail_conn(c, "socket: too many open files?"); return; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = S_CONNECTING;
    nconnecting++;
    if (connect(c->fd, (struct sockaddr *)(c->alt ? &dst2 : &dst), sizeof dst) < 0 && errno != EINPROGRESS) {
        fail_conn(c, "connect refused");
        return;
    }
    ev_add(c);
}

static void send_request(struct conn *c)
{
    char req[512];
    int n;
    switch (c->kind) {
    case K_WS: {
        char path[300];
        if (o.onemsg) snprintf(path, sizeof path, "%s-%d", o.path, (int)(c - cs));
        else snprintf(path, sizeof path, "%s", o.path);
        n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                     path, o.host, o.port,
                     o.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "");
        break;
    }
    case K_SSE:
        n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n\r\n",
                     o.path, o.host, o.port);
        break;
    case K_POLL:
        n = snprintf(req, sizeof req, "GET %s?cursor=%s&timeout=%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
                     o.path, c->cursor, o.idle ? 600 : 30, o.host, o.port);
        c->busy = 1;
        break;
    default:
        return;
    }
    out(c, req, (size_t)n);
    c->in_body = 0;
    c->state = S_HANDSHAKE;
}

static void start_connect(struct conn *c);

/* after TCP (and TLS, if any) is up */
static void ready(struct conn *c)
{
    if (c->kind == K_TCP) {
        c->state = S_OPEN; nopen++; nready++;
        return;
    }
    if (c->kind == K_PUB) { c->state = S_OPEN; nopen++; return; }
    send_request(c);
    c->state = S_HANDSHAKE;
}

/* --tls: drives the handshake; `handshakes` mode closes and starts over */
static void tls_step(struct conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            static char msg[200];
            snprintf(msg, sizeof msg, "TLS handshake failed: %s", ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "closed");
            fail_conn(c, msg);
        }
        return;
    }
    if (c->kind == K_HS) {
        if (measuring) handshakes++;
        SSL_free(c->ssl); c->ssl = NULL;
        close(c->fd);
        c->state = S_DEAD;
        if (!stop && now_ns() < t_end) start_connect(c);
        return;
    }
    c->state = S_HANDSHAKE;
    ready(c);
}

static void connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) { fail_conn(c, err == ECONNREFUSED ? "connection refused" : "connect failed"); return; }
    nconnecting--;
    if (o.tls) {
        c->ssl = SSL_new(tls_ctx);
        if (!c->ssl) { fprintf(stderr, "loadgen: out of memory\n"); exit(1); }
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        if (o.sni) SSL_set_tlsext_host_name(c->ssl, o.sni);
        static const unsigned char alpn[] = "\x08http/1.1";
        SSL_set_alpn_protos(c->ssl, alpn, sizeof alpn - 1);
        SSL_set_connect_state(c->ssl);
        c->state = S_TLS;
        tls_step(c);
        return;
    }
    ready(c);
}

/* --- HTTP response head and body ------------------------------------------ */

/* Parses a response head at c->r; returns head length, 0 if incomplete, -1
 * on a status other than `want`. */
static long http_head(struct conn *c, int want)
{
    uint8_t *e = memmem(c->r, c->rlen, "\r\n\r\n", 4);
    if (!e) return 0;
    long hl = e - c->r + 4;
    int status = 0;
    if (sscanf((char *)c->r, "HTTP/1.%*d %d", &status) != 1 || status != want) {
        if (!first_err) {
            static char msg[160];
            snprintf(msg, sizeof msg, "server answered status %d (want %d)", status, want);
            first_err = msg;
        }
        return -1;
    }
    c->chunked = 0;
    c->body_left = -1;
    for (uint8_t *p = c->r; p < e; ) {
        uint8_t *nl = memmem(p, (size_t)(e - p) + 2, "\r\n", 2);
        if (!nl) break;
        if (nl - p > 18 && !strncasecmp((char *)p, "transfer-encoding:", 18) &&
            memmem(p, (size_t)(nl - p), "chunked", 7))
            c->chunked = 1;
        if (nl - p > 15 && !strncasecmp((char *)p, "content-length:", 15))
            c->body_left = strtoll((char *)p + 15, NULL, 10);
        p = nl + 2;
    }
    c->chunk_left = 0;
    c->in_body = 1;
    return hl;
}

/* Moves body bytes from c->r to c->l, decoding chunked transfer coding.
 * Returns 1 when the body is complete (poll/pub), 0 otherwise. */
static int http_body(struct conn *c)
{
    size_t i = 0;
    int done = !c->chunked && c->body_left == 0;
    if (!c->chunked && c->body_left < 0 && c->llen == 0 && c->rlen) {
        /* a body until close (an event stream) with nothing pending: the
         * read buffer becomes the body buffer, no copy */
        uint8_t *t = c->l; size_t tc = c->lcap;
        c->l = c->r; c->lcap = c->rcap; c->llen = c->rlen;
        c->r = t; c->rcap = tc; c->rlen = 0;
        grow(&c->l, &c->lcap, c->llen + 1);
        return 0;
    }
    while (i < c->rlen && !done) {
        if (!c->chunked) {
            size_t n = c->rlen - i;
            if (c->body_left >= 0 && (long long)n > c->body_left) n = (size_t)c->body_left;
            grow(&c->l, &c->lcap, c->llen + n + 1);
            memcpy(c->l + c->llen, c->r + i, n);
            c->llen += n;
            i += n;
            if (c->body_left >= 0) { c->body_left -= (long long)n; if (!c->body_left) done = 1; }
            continue;
        }
        if (c->chunk_left) {
            size_t n = c->rlen - i;
            if (n > c->chunk_left) n = c->chunk_left;
            grow(&c->l, &c->lcap, c->llen + n + 1);
            memcpy(c->l + c->llen, c->r + i, n);
            c->llen += n; i += n; c->chunk_left -= n;
            continue;
        }
        /* at a chunk boundary: optional CRLF ending the previous chunk, then size line */
        uint8_t *nl = memmem(c->r + i, c->rlen - i, "\r\n", 2);
        if (!nl) break;
        if (nl == c->r + i) { i += 2; continue; }
        size_t sz = strtoul((char *)c->r + i, NULL, 16);
        if (sz == 0) {
            uint8_t *end = memmem(nl, c->rlen - (size_t)(nl - c->r), "\r\n\r\n", 4);
            if (!end) break;
            i = (size_t)(end - c->r) + 4;
            done = 1;
            break;
        }
        c->chunk_left = sz;
        i = (size_t)(nl - c->r) + 2;
    }
    memmove(c->r, c->r + i, c->rlen - i);
    c->rlen -= i;
    return done;
}

/* --- fan-out accounting ---------------------------------------------------- */

#define MAXSEQ (1u << 22)

/* The bitmap of a subscriber, allocated and its first page touched before
 * the measured run: a thousand first-message page faults would otherwise be
 * counted as delivery latency of the first messages. */
static void fan_prepare(struct conn *c)
{
    if (!c->seen) c->seen = calloc(MAXSEQ / 8, 1);
    if (!c->seen) { fprintf(stderr, "loadgen: out of memory\n"); exit(1); }
    memset(c->seen, 0, 4096);
}

/* "SEQ TS ..." as the publisher writes it (decimal digits, one space):
 * what sscanf("%llu %llu") read, at a tenth of its cost (it was the load
 * generator's largest user-space cost at 1 M events/s).  0, or -1 when the
 * data does not start that way. */
static int fan_parse(const char *d, size_t n, uint64_t *seq, uint64_t *ts)
{
    const char *p = d, *e = d + n;
    uint64_t v[2];
    for (int k = 0; k < 2; k++) {
        while (k && p < e && *p == ' ') p++;
        if (p == e || *p < '0' || *p > '9') return -1;
        uint64_t x = 0;
        for (; p < e && *p >= '0' && *p <= '9'; p++) {
            if (x > (UINT64_MAX - 9) / 10) return -1;
            x = x * 10 + (uint64_t)(*p - '0');
        }
        v[k] = x;
    }
    *seq = v[0]; *ts = v[1];
    return 0;
}

/* t_read: when the bytes holding this event were read (the read that
 * returned them; one clock read per read, not per event, so parsing the
 * events before it in the same buffer does not count as delivery time) */
static uint64_t t_read;
static uint64_t lat_from = UINT64_MAX; /* fanout: latencies of the messages from here on */
static uint64_t pub_start;             /* fanout: published before the measured run */

#ifdef LG_CHECK
/* Built with -DLG_CHECK: the accounting as it was before (sscanf, the
 * clock read per event, every sequence number in the bitmap) beside the
 * new one, on the same events; a fan-out run prints both counts and both
 * p99s on a second line (check: ...). */
static uint32_t hist2[1000001];
static uint64_t hist2_n, check_mismatch;
static void fan_record_old(struct conn *c, const char *d, size_t n, uint64_t nseq, uint64_t nts, int nok)
{
    char tmp[64];
    if (n >= sizeof tmp) n = sizeof tmp - 1;
    memcpy(tmp, d, n);
    tmp[n] = 0;
    unsigned long long seq, ts;
    int ok = sscanf(tmp, "%llu %llu", &seq, &ts) == 2;
    if (ok != nok || (ok && (seq != nseq || ts != nts))) check_mismatch++;
    if (!ok || seq >= MAXSEQ) return;
    if (!c->seen2) c->seen2 = calloc(MAXSEQ / 8, 1);
    if (!c->seen2) exit(1);
    if (c->seen2[seq / 8] & (1u << (seq % 8))) { c->dup2++; return; }
    c->seen2[seq / 8] |= (uint8_t)(1u << (seq % 8));
    c->got2++;
    if (seq < lat_from) return;
    uint64_t us = (now_ns() - ts) / 1000;
    hist2[us > 1000000 ? 1000000 : us]++;
    hist2_n++;
}
#endif

static void fan_record(struct conn *c, const char *d, size_t n)
{
    uint64_t seq = 0, ts = 0;
    int ok = fan_parse(d, n, &seq, &ts) == 0;
#ifdef LG_CHECK
    fan_record_old(c, d, n, seq, ts, ok);
#endif
    if (!ok || seq >= MAXSEQ) return;
    if (!c->seen) fan_prepare(c);
    /* in order (the usual case) touches only next: the bitmap, one cache
     * miss per event across a thousand subscribers, holds only what came
     * ahead of a gap */
    if (seq < c->next) { c->dup++; return; }
    if (seq == c->next) {
        c->next++;
        while (c->ahead && c->next < MAXSEQ && (c->seen[c->next / 8] & (1u << (c->next % 8)))) {
            c->ahead--;
            c->next++;
        }
    } else {
        if (c->seen[seq / 8] & (1u << (seq % 8))) { c->dup++; return; }
        c->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        c->ahead++;
    }
    c->got++;
    msgs++;
    if (seq >= lat_from)
        record_latency(t_read > ts ? t_read - ts : 0);
}

static void sse_lines(struct conn *c)
{
    size_t i = 0;
    for (;;) {
        uint8_t *nl = memchr(c->l + i, '\n', c->llen - i);
        if (!nl) break;
        size_t n = (size_t)(nl - (c->l + i));
        if (n >= 5 && !memcmp(c->l + i, "data:", 5)) {
            size_t s = i + 5;
            if (s < c->llen && c->l[s] == ' ') s++;
            fan_record(c, (char *)c->l + s, (size_t)(nl - c->l) - s);
        }
        i += n + 1;
    }
    memmove(c->l, c->l + i, c->llen - i);
    c->llen -= i;
}

/* long-poll body: {"cursor":"X","messages":[{"id":..,"event":..,"data":"SEQ TS"}..],..} */
static void poll_body(struct conn *c)
{
    c->l[c->llen] = 0;
    char *p = (char *)c->l, *q;
    if ((q = strstr(p, "\"cursor\":\""))) {
        q += 10;
        char *e = strchr(q, '"');
        if (e && (size_t)(e - q) < sizeof c->cursor) {
            memcpy(c->cursor, q, (size_t)(e - q));
            c->cursor[e - q] = 0;
        }
    }
    while ((q = strstr(p, "\"data\":\""))) {
        q += 8;
        char *e = strchr(q, '"');
        if (!e) break;
        fan_record(c, q, (size_t)(e - q));
        p = e + 1;
    }
    c->llen = 0;
}

/* --- reading -------------------------------------------------------------- */

static void ws_frames(struct conn *c)
{
    size_t i = 0;
    while (c->rlen - i >= 2) {
        uint8_t *f = c->r + i;
        uint64_t len = f[1] & 0x7f;
        size_t hl = 2;
        if (len == 126) { if (c->rlen - i < 4) break; len = (uint64_t)f[2] << 8 | f[3]; hl = 4; }
        else if (len == 127) {
            if (c->rlen - i < 10) break;
            len = 0;
            for (int k = 2; k < 10; k++) len = len << 8 | f[k];
            hl = 10;
        }
        if (f[1] & 0x80) hl += 4;  /* tcp --framed: our own masked frames, echoed as they were */
        if (c->rlen - i < hl + len) break;
        int op = f[0] & 0x0f;
        if (op == PW_WS_OP_TEXT || op == PW_WS_OP_BINARY) {
            bytes_in += len;
            const uint8_t *d = f + hl;
            size_t dl = (size_t)len;
            if ((f[0] & 0x40) && c->wsd) {   /* RSV1: compressed (the server sends whole messages) */
                pw_buf_reset(&zbuf);
                if (pw_wsd_decompress(c->wsd, d, dl, 1, &zbuf) != 0) { fail_conn(c, "bad compressed message"); return; }
                d = zbuf.p ? zbuf.p : (const uint8_t *)"";
                dl = zbuf.len;
                zframes++;
            } else if (f[0] & 0x70) { fail_conn(c, "RSV bit set without deflate"); return; }
            if (c->fan) fan_record(c, (const char *)d, dl);
            if (o.onemsg && !c->got++) onemsg_got++;
            if (c->ring) echo_got_one(c);
        } else if (op == PW_WS_OP_PING) {
            ws_send(c, PW_WS_OP_PONG, f + hl, (size_t)len);
        } else if (op == PW_WS_OP_CLOSE) {
            fail_conn(c, "server closed the WebSocket");
            return;
        }
        i += hl + (size_t)len;
    }
    memmove(c->r, c->r + i, c->rlen - i);
    c->rlen -= i;
}

/* --deflate: the server's Sec-WebSocket-Extensions in the head c->r[0..hl):
 * sets up c->wsd when it agreed.  0, or -1 when the answer is not valid. */
static int ws_ext_setup(struct conn *c, size_t hl)
{
    struct pw_ws_ext exts[PW_WS_MAX_EXTS];
    int n = 0;
    for (uint8_t *p = c->r; p < c->r + hl; ) {
        uint8_t *nl = memmem(p, hl - (size_t)(p - c->r), "\r\n", 2);
        if (!nl) break;
        if (nl - p > 25 && !strncasecmp((char *)p, "sec-websocket-extensions:", 25)) {
            struct pw_str v = {(char *)p + 25, (size_t)(nl - p) - 25};
            if ((n = pw_ws_ext_parse(v, exts, 0, PW_WS_MAX_EXTS)) < 0) return -1;
        }
        p = nl + 2;
    }
    static const struct pw_wsd_config cfg; /* the offer: client_max_window_bits */
    struct pw_wsd_params prm;
    int rc = pw_wsd_client_check(exts, (size_t)n, &cfg, &prm);
    if (rc <= 0) return rc;
    c->wsd = calloc(1, sizeof *c->wsd);
    if (!c->wsd || pw_wsd_init(c->wsd, &prm, 0, -1, 0) < 0) return -1;
    return 0;
}

static void on_data(struct conn *c)
{
    if (c->state == S_HANDSHAKE && !c->in_body) {
        int want = c->kind == K_WS ? 101 : 200;
        long hl = http_head(c, want);
        if (hl < 0) { fail_conn(c, first_err); return; }
        if (hl == 0) return;
        if (c->kind == K_WS && o.deflate && ws_ext_setup(c, (size_t)hl) < 0) {
            fail_conn(c, "bad permessage-deflate answer");
            return;
        }
        memmove(c->r, c->r + hl, c->rlen - (size_t)hl);
        c->rlen -= (size_t)hl;
        if (c->kind == K_WS) {
            c->in_body = 0;
            if (c->fan) fan_prepare(c);
            if (o.onemsg) { static const char js[] = "{\"type\":\"hello\",\"user\":\"bench\",\"text\":\""; size_t n = (size_t)o.size;
                uint8_t *m = malloc(n + 1); if (!m) exit(1);
                for (size_t k = 0; k < n; k++) m[k] = k < sizeof js - 1 ? (uint8_t)js[k] : (uint8_t)("abcdefgh "[k % 9]);
                ws_send(c, PW_WS_OP_TEXT, m, n); free(m); }
            c->state = S_OPEN; nopen++; nready++;
            if (c->ring) for (int k = 0; k < o.inflight; k++) echo_send_one(c);
        } else {               /* SSE, or the first poll answer: the subscriber is in */
            c->state = S_OPEN; nopen++; nready++;
            if (!o.idle) fan_prepare(c);
        }
    }
    switch (c->kind) {
    case K_WS:
        ws_frames(c);
        break;
    case K_TCP:
        if (o.framed) { ws_frames(c); break; }
        bytes_in += c->rlen;
        c->partial += c->rlen;
        c->rlen = 0;
        while (c->partial >= (size_t)o.size) { c->partial -= (size_t)o.size; echo_got_one(c); }
        break;
    case K_SSE:
        http_body(c);
        sse_lines(c);
        break;
    case K_POLL:
        if (!c->in_body) {
            long hl = http_head(c, 200);
            if (hl <= 0) { if (hl < 0) fail_conn(c, first_err); return; }
            memmove(c->r, c->r + hl, c->rlen - (size_t)hl);
            c->rlen -= (size_t)hl;
        }
        if (http_body(c)) {
            poll_body(c);
            c->in_body = 0;
            c->busy = 0;
            if (!stop) send_request(c), c->state = S_OPEN;
        }
        break;
    case K_PUB:
        if (!c->in_body) {
            long hl = http_head(c, 200);
            if (hl < 0) {   /* nchan answers 201/202 */
                int st = 0;
                if (sscanf((char *)c->r, "HTTP/1.%*d %d", &st) == 1 && st >= 200 && st < 300) {
                    first_err = NULL;
                    c->r[9] = '2'; c->r[10] = '0'; c->r[11] = '0';
                    hl = http_head(c, 200);
                } else { pub_errors++; fail_conn(c, first_err); return; }
            }
            if (hl == 0) return;
            memmove(c->r, c->r + hl, c->rlen - (size_t)hl);
            c->rlen -= (size_t)hl;
        }
        if (http_body(c)) { c->llen = 0; c->in_body = 0; c->busy = 0; }
        break;
    }
}

static void on_readable_tls(struct conn *c)
{
    if (c->state == S_TLS) {
        tls_step(c);
        if (c->state == S_TLS || c->state == S_DEAD || !c->ssl) return;
    }
    for (;;) {
        grow(&c->r, &c->rcap, c->rlen + 65536);
        int n = SSL_read(c->ssl, c->r + c->rlen, (int)(c->rcap - c->rlen));
        if (n > 0) {
            t_read = now_ns();
            c->rlen += (size_t)n;
            on_data(c);
            if (c->state == S_DEAD) return;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
        fail_conn(c, e == SSL_ERROR_ZERO_RETURN ? "server closed the connection" : "TLS read failed");
        return;
    }
}

static void on_readable(struct conn *c)
{
    if (c->ssl) { on_readable_tls(c); return; }
    for (;;) {
        grow(&c->r, &c->rcap, c->rlen + 65536);
        ssize_t n = recv(c->fd, c->r + c->rlen, c->rcap - c->rlen, 0); /* not read(): no VFS layer */
        if (n > 0) {
            if (quickack) {   /* ack at once: a server with Nagle on must not wait on our delayed ACK */
                int one = 1;
                setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            }
            size_t asked = c->rcap - c->rlen;
            t_read = now_ns();
            c->rlen += (size_t)n;
            on_data(c);
            if (c->state == S_DEAD) return;
            /* a short read emptied the socket: data arriving later raises a
             * new edge, so the read that would only say EAGAIN is skipped
             * (half the read syscalls when each wake-up brings one chunk) */
            if ((size_t)n < asked) return;
            continue;
        }
        if (n == 0) { fail_conn(c, "server closed the connection"); return; }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) fail_conn(c, "read failed");
        return;
    }
}

/* --- publisher ------------------------------------------------------------ */

static void publish_one(struct conn *c)
{
    char body[4096], req[512];
    size_t sz = (size_t)o.size < sizeof body ? (size_t)o.size : sizeof body - 1;
    int n = snprintf(body, sizeof body, "%" PRIu64 " %" PRIu64 " ", max_seq, now_ns());
    while ((size_t)n < sz) body[n++] = 'x';
    int h = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
                     o.pub, o.host, o.port, n);
    out(c, req, (size_t)h);
    out(c, body, (size_t)n);
    c->busy = 1;
    max_seq++;
    published++;
    flush(c);
}

/* --- main ----------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: loadgen echo|tcp|idle|idle-sse|idle-poll|fanout --port P [options] (see the head of bench/loadgen.c)\n");
    exit(2);
}

static void on_signal(int s) { (void)s; stop = 1; }

static void loop_once(int timeout_ms)
{
    struct epoll_event evs[512];
    int n = epoll_wait(ep, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct conn *c = evs[i].data.ptr;
        if (c->state == S_DEAD) continue;
        if (c->state == S_CONNECTING) {
            if (!(evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) continue;
            connected(c);
            if (c->state == S_DEAD || c->state == S_TLS) continue;
        }
        if ((evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || c->state == S_TLS) on_readable(c);
        if (c->state != S_DEAD) flush(c);
    }
}

static void open_all(struct conn *arr, int n, int kind, double max_secs)
{
    uint64_t deadline = now_ns() + (uint64_t)(max_secs * 1e9);
    int next = 0, before_ready = nready, before_failed = nfailed;
    while (now_ns() < deadline && !stop) {
        while (next < n && (o.crowd || nconnecting < 256)) {
            arr[next].kind = kind;
            arr[next].alt = o.port2 && kind != K_PUB && (next & 1);
            if (kind == K_POLL) strcpy(arr[next].cursor, "0");
            start_connect(&arr[next++]);
        }
        if (kind == K_PUB) { if (nopen + nfailed - before_failed >= n && next == n) break; }
        else if (nready - before_ready + nfailed - before_failed >= n) break;
        loop_once(10);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--binary")) { o.binary = 1; continue; }
        if (!strcmp(a, "--quickack")) { quickack = 1; continue; }
        if (!strcmp(a, "--tls")) { o.tls = 1; continue; }
        if (!strcmp(a, "--deflate")) { o.deflate = 1; continue; }
        if (!strcmp(a, "--one-msg")) { o.onemsg = 1; continue; }
        if (!strcmp(a, "--crowd")) { o.crowd = 1; continue; }
        if (!strcmp(a, "--framed")) { o.framed = 1; continue; }
        if (!v) usage();
        i++;
        if (!strcmp(a, "--port")) o.port = atoi(v);
        else if (!strcmp(a, "--port2")) o.port2 = atoi(v);
        else if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--path") || !strcmp(a, "--sse") || !strcmp(a, "--poll") || !strcmp(a, "--ws")) {
            o.path = v;
            if (!strcmp(a, "--poll")) o.binary = 2;  /* marks poll subscribers */
            if (!strcmp(a, "--ws")) o.ws_fan = 1;
        }
        else if (!strcmp(a, "--pub")) o.pub = v;
        else if (!strcmp(a, "-c")) o.conns = atoi(v);
        else if (!strcmp(a, "-k")) o.inflight = atoi(v);
        else if (!strcmp(a, "-s")) o.size = atoi(v);
        else if (!strcmp(a, "-d")) o.secs = atof(v);
        else if (!strcmp(a, "--rate")) o.rate = atof(v);
        else if (!strcmp(a, "--warmup")) o.warmup = atof(v);
        else if (!strcmp(a, "--pubconns")) o.pubconns = atoi(v);
        else if (!strcmp(a, "--sni")) o.sni = v;
        else usage();
    }
    if (o.port <= 0 || o.conns <= 0 || o.inflight <= 0 || o.size < 0 || o.secs <= 0) usage();

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rng ^= (uint64_t)getpid() << 32 ^ now_ns();
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.host, &dst.sin_addr) != 1) { fprintf(stderr, "loadgen: host must be an IPv4 literal\n"); return 2; }
    dst2 = dst;
    dst2.sin_port = htons((uint16_t)o.port2);
    if (o.tls) {
        tls_ctx = SSL_CTX_new(TLS_client_method());
        if (!tls_ctx) return 1;
        SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF); /* every handshake is a full one */
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    pw_buf_init(&zbuf, 0);
    cs = calloc((size_t)o.conns, sizeof *cs);
    payload = malloc((size_t)o.size + 1);
    if (!cs || !payload) return 1;
    memset(payload, 'x', (size_t)o.size);

    int echo = !strcmp(o.mode, "echo"), tcp = !strcmp(o.mode, "tcp");
    if (echo || tcp) {
        for (int i = 0; i < o.conns; i++) cs[i].ring = calloc((size_t)o.inflight, sizeof(uint64_t));
        t_end = UINT64_MAX;
        open_all(cs, o.conns, tcp ? K_TCP : K_WS, 30);
        if (nready < o.conns) {
            fprintf(stderr, "loadgen: %d of %d connections up (%s)\n", nready, o.conns, first_err ? first_err : "timeout");
            return 1;
        }
        if (tcp) for (int i = 0; i < o.conns; i++) { for (int k = 0; k < o.inflight; k++) echo_send_one(&cs[i]); flush(&cs[i]); }
        uint64_t warm = now_ns() + 500000000ull;     /* 0.5 s warm-up, not measured */
        while (now_ns() < warm && !stop) loop_once(10);
        t_start = now_ns();
        t_end = t_start + (uint64_t)(o.secs * 1e9);
        measuring = 1;
        while (now_ns() < t_end && !stop) loop_once(10);
        measuring = 0;
        double el = (double)(now_ns() - t_start) / 1e9;
        printf("mode=%s conns=%d inflight=%d size=%d secs=%.2f msgs=%" PRIu64 " rate=%.0f p50_us=%.0f p99_us=%.0f max_us=%" PRIu64 " failed=%d\n",
               o.mode, o.conns, o.inflight, o.size, el, msgs, (double)msgs / el,
               percentile(0.50), percentile(0.99), lat_max, nfailed);
        return 0;
    }
    if (!strcmp(o.mode, "handshakes")) {
        if (!o.tls) usage();
        t_start = now_ns();
        t_end = t_start + (uint64_t)(o.secs * 1e9);
        measuring = 1;
        for (int i = 0; i < o.conns; i++) { cs[i].kind = K_HS; start_connect(&cs[i]); }
        while (now_ns() < t_end && !stop) loop_once(10);
        double el = (double)(now_ns() - t_start) / 1e9;
        printf("mode=handshakes conns=%d secs=%.2f handshakes=%" PRIu64 " rate=%.0f failed=%d%s%s\n", o.conns, el,
               handshakes, (double)handshakes / el, nfailed, first_err ? " first_error=" : "", first_err ? first_err : "");
        return 0;
    }
    if (!strcmp(o.mode, "idle") || !strcmp(o.mode, "idle-sse") || !strcmp(o.mode, "idle-poll")) {
        int kind = o.mode[4] == 0 ? K_WS : o.mode[5] == 's' ? K_SSE : K_POLL;
        o.idle = 1;
        if (kind != K_WS && !strcmp(o.path, "/ws/bench"))
            o.path = kind == K_SSE ? "/sse/bench" : "/poll/bench";
        open_all(cs, o.conns, kind, 60);
        uint64_t wait = now_ns() + 30000000000ull;   /* --one-msg: every message back */
        while (o.onemsg && onemsg_got < (uint64_t)nopen && now_ns() < wait && !stop) loop_once(10);
        int zc = 0;
        for (int i = 0; i < o.conns; i++) zc += cs[i].wsd != NULL;
        printf("open=%d failed=%d deflate=%d got=%" PRIu64 " compressed=%" PRIu64 "%s%s\n", nopen, nfailed, zc,
               onemsg_got, zframes,
               first_err ? " first_error=" : "", first_err ? first_err : "");
        fflush(stdout);
        uint64_t end = now_ns() + (uint64_t)(o.secs * 1e9);
        while (now_ns() < end && !stop) loop_once(100);
        return nopen == o.conns ? 0 : 1;
    }
    if (!strcmp(o.mode, "fanout")) {
        if (!o.pub) usage();
        int poll = o.binary == 2;
        for (int i = 0; i < o.conns; i++) cs[i].fan = o.ws_fan;
        open_all(cs, o.conns, o.ws_fan ? K_WS : poll ? K_POLL : K_SSE, 60);
        if (nready < o.conns) {
            fprintf(stderr, "loadgen: %d of %d subscribers up (%s)\n", nready, o.conns, first_err ? first_err : "timeout");
            return 1;
        }
        pubs = calloc((size_t)o.pubconns, sizeof *pubs);
        open_all(pubs, o.pubconns, K_PUB, 10);
        uint64_t settle = now_ns() + 200000000ull;
        while (now_ns() < settle) loop_once(10);
        /* --warmup: published and checked like the rest, but its latencies
         * are not recorded (first writes to a thousand fresh connections:
         * buffers, page faults, TCP state), as echo's first 0.5 s */
        uint64_t behind = 0;
        int rr = 0;
        for (int phase = o.warmup > 0 ? 0 : 1; phase < 2 && !stop; phase++) {
            uint64_t t0 = now_ns(), p0 = published;
            uint64_t until = t0 + (uint64_t)((phase ? o.secs : o.warmup) * 1e9);
            if (phase) {
                measuring = 1;
                lat_from = max_seq;
                t_start = t0;
                t_end = until;
                pub_start = published;
            }
            while (!stop) {
                uint64_t t = now_ns();
                if (t >= until) break;
                uint64_t due = p0 + (uint64_t)((double)(t - t0) / 1e9 * o.rate);
                while (published < due) {
                    int k = 0, tries;
                    for (tries = 0; tries < o.pubconns; tries++) {
                        k = (rr++) % o.pubconns;
                        if (pubs[k].state == S_OPEN && !pubs[k].busy) break;
                    }
                    if (tries == o.pubconns) { if (phase) behind++; break; }
                    publish_one(&pubs[k]);
                }
                loop_once(1);
            }
        }
        double el = (double)(now_ns() - t_start) / 1e9;
        /* drain: wait (bounded) until every subscriber has every message */
        uint64_t drain = now_ns() + 5000000000ull;
        while (now_ns() < drain && !stop) {
            uint64_t all = 0;
            for (int i = 0; i < o.conns; i++) all += cs[i].got;
            if (all >= published * (uint64_t)o.conns) break;
            loop_once(10);
        }
        uint64_t got = 0, dup = 0, lost = 0;
        int dead = 0;
        for (int i = 0; i < o.conns; i++) {
            got += cs[i].got; dup += cs[i].dup;
            if (cs[i].state == S_DEAD) dead++;
        }
        lost = published * (uint64_t)o.conns - got;
        printf("mode=fanout transport=%s subs=%d rate=%.0f secs=%.2f published=%" PRIu64 " pub_rate=%.0f expected=%" PRIu64
               " delivered=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64 " p50_us=%.0f p99_us=%.0f max_us=%" PRIu64
               " subs_dropped=%d pub_errors=%" PRIu64 " pub_stalls=%" PRIu64 " compressed=%" PRIu64 "\n",
               o.ws_fan ? (o.deflate ? "ws-deflate" : "ws") : poll ? "poll" : "sse", o.conns, o.rate, el, published,
               (double)(published - pub_start) / el,
               published * (uint64_t)o.conns, got, lost, dup, percentile(0.50), percentile(0.99), lat_max,
               dead, pub_errors, behind, zframes);
#ifdef LG_CHECK
        {
            uint64_t g2 = 0, d2 = 0, acc = 0, want = (uint64_t)(0.99 * (double)hist2_n);
            int p99 = 0;
            for (int i = 0; i < o.conns; i++) { g2 += cs[i].got2; d2 += cs[i].dup2; }
            for (int i = 0; i <= 1000000; i++) { acc += hist2[i]; if (acc > want) { p99 = i; break; } }
            printf("check: parse_mismatch=%" PRIu64 " old_delivered=%" PRIu64 " old_dup=%" PRIu64 " old_p99_us=%d\n",
                   check_mismatch, g2, d2, p99);
        }
#endif
        return 0;
    }
    usage();
    return 2;
}
